"""Failures that users of personal Spotify apps reported in 2025-2026 (client libraries' issue
trackers), answered by the stand-in and met through the command line as a user meets them.
Each test names the thread its shape comes from."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.standins.spotify import Fault

from spotify_helpers import save_login, settings_for

runner = CliRunner()


def env_for(server, cache) -> dict[str, str]:
    return {"RECOMMENDER_SPOTIFY_API_URL": server.api_url, "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": server.accounts_url,
            "SPOTIPY_CLIENT_ID": "test-client", "RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_SECRET": ""}


def run(args, env):
    return runner.invoke(app, args, env=env, catch_exceptions=False)


def _library(server, cache):
    from recommender.jobs import open_store
    return open_store(settings_for(server, cache)).load_library()


def test_a_bare_403_on_your_own_playlist_is_not_remembered_and_its_tracks_are_kept(standin, tmp_path):
    """Spotify answered `{"error": {"status": 403, "message": "Forbidden"}}` for the items of
    playlists the user owns, with a fresh token and the account on the app's list, now and then
    (https://github.com/stiefenm/spoton/issues/119, https://github.com/ralph/Spotifly/issues/31).
    The refresh took it for "another owner's playlist": it dropped that playlist's tracks from
    the taste and remembered it unreadable for its snapshot, so every later refresh skipped it
    too, silently, until the user happened to edit it."""
    cache = tmp_path / "cache"
    save_login(standin, cache)
    env = env_for(standin, cache)
    assert run(["refresh", "--quiet"], env).exit_code == 0
    pid = "smallPlaylist000000001"
    before = _library(standin, cache).playlist_items
    before = set(before[before["playlist_id"] == pid]["track_id"])
    assert before
    standin._bump(standin.account.playlist(pid))  # a new snapshot: the next refresh reads it
    fault = standin.add_fault(Fault(method="GET", path=rf"^/v1/playlists/{pid}/items$", status=403,
                                    message="Forbidden", times=None))
    result = run(["refresh", "--quiet"], env)
    assert result.exit_code == 0 and fault.hits == 1
    assert "Evening Chill" in result.stderr and "next refresh asks again" in result.stderr
    assert "kept the tracks the last refresh read" in result.stderr
    library = _library(standin, cache)
    items = library.playlist_items
    assert set(items[items["playlist_id"] == pid]["track_id"]) == before  # the last refresh's tracks kept
    assert library.playlists.set_index("playlist_id").loc[pid, "readable"]
    standin.clear_faults()  # Spotify answers again: read at once, not when the playlist next changes
    assert run(["refresh", "--quiet"], env).exit_code == 0
    assert [r for r in standin.requests if r.path == f"/v1/playlists/{pid}/items" and r.status == 200]


def test_a_client_secret_rotated_in_the_dashboard_names_the_setting_instead_of_asking_for_a_login(small_account,
                                                                                                    tmp_path):
    """Spotify's accounts service answers `{"error":"invalid_client","error_description":"Invalid
    client secret"}` (or "Invalid client" for a deleted app) once the app's credentials no longer
    match (https://github.com/mahdi-y/Spotify2YoutubeMusic/issues/19,
    https://github.com/sandrzejewskipl/spotify-scheduler/issues/6). The tool said "Spotify refused
    the saved login (invalid_client): run `recommend auth`" (exit 3), and `recommend auth`,
    with the same secret, was refused again ("Spotify refused the login code (invalid_client)"):
    a loop with nothing on what to change. `recommend status` reports it as a refused login."""
    from recommender import jobs
    from recommender.errors import AppAccessRefused
    from recommender.standins.spotify import StandinServer
    with StandinServer(small_account, client_id="test-client", client_secret="rotated") as server:
        cache = tmp_path / "cache"
        token = save_login(server, cache, expires_in=-10)  # expired: the first call refreshes it
        env = {**env_for(server, cache), "SPOTIPY_CLIENT_SECRET": "the-old-secret"}
        result = run(["refresh", "--quiet"], env)
        assert result.exit_code == 3, result.stderr
        assert "Invalid client secret" in result.stderr and "spotify.client_secret" in result.stderr
        assert "environment SPOTIPY_CLIENT_SECRET" in result.stderr and "the-old-secret" not in result.stderr
        assert len([r for r in server.requests if r.path == "/api/token"]) == 1  # no retry: it cannot help
        assert (cache / "spotify-token.json").read_text().count(token["refresh_token"]) == 1  # the login is kept
        settings = settings_for(server, tmp_path / "other", **{"spotify.client_secret": "the-old-secret",
                                                               "spotify.redirect_uri": "http://127.0.0.1:9/callback"})
        with pytest.raises(AppAccessRefused, match="spotify.client_secret"):
            jobs.login(settings, open_url=_browser, any_port=True)
        assert run(["refresh", "--quiet"], {**env, "SPOTIPY_CLIENT_SECRET": "rotated"}).exit_code == 0


@pytest.mark.parametrize("secret, from_, names", [
    (None, {"spotify.client_id": "override"}, "check spotify.client_id against"),
    ("s3", {"spotify.client_secret": "config/config.yaml"},
     "check spotify.client_secret (from config/config.yaml) against"),
    ("s3", {"spotify.client_secret": "override"}, "check spotify.client_secret against"),
])
def test_invalid_client_names_the_setting_to_check_and_where_it_came_from(secret, from_, names):
    """An invalid_client that mentions the secret names spotify.client_secret only when the app
    has one (a PKCE login has none: its client id is the one to check), and says where the
    setting came from, except for a value a command gave (an "override", which no file holds)."""
    from types import SimpleNamespace

    from spotipy.oauth2 import SpotifyOauthError

    from recommender.spotify.auth import _client_refused
    refused = SpotifyOauthError("refused", error="invalid_client", error_description="Invalid client secret")
    said = _client_refused(SimpleNamespace(client_secret=secret, credentials_from=from_), refused)
    assert names in said and ("(from " in said) == ("(from " in names), said


def _browser(url: str) -> None:
    """A person at a browser who approves at once."""
    import requests
    answer = requests.get(url, allow_redirects=False, timeout=10)
    requests.get(answer.headers["Location"], timeout=10)


@pytest.mark.parametrize("page_says, names", [
    (b"INVALID_CLIENT: Invalid redirect URI", "add exactly http://127.0.0.1:"),
    (b"<html><body><p>INVALID_CLIENT: Insecure redirect URI</p></body></html>", "under Redirect URIs"),
    (b"INVALID_CLIENT: Invalid client", "check spotify.client_id"),
])
def test_a_login_page_that_refuses_the_app_is_said_at_once_not_after_waiting_for_a_redirect(standin, tmp_path,
                                                                                            page_says, names):
    """Since April 2025 Spotify's login page refuses `localhost` and any redirect URI not listed
    exactly in the app's settings: the browser shows "INVALID_CLIENT: Invalid redirect URI" (or
    "Insecure redirect URI", "Invalid client") and never redirects
    (https://github.com/kraxarn/spotify-qt/issues/286,
    https://github.com/marcelmarais/spotify-mcp-server/issues/4,
    https://github.com/plamere/OrganizeYourMusic/pull/25). `recommend auth` waited its whole
    five minutes for the redirect, then said only "no answer from the Spotify login page within
    300 s; run `recommend auth` again", which met the same page."""
    from recommender import jobs
    from recommender.errors import ConfigError
    settings = settings_for(standin, tmp_path / "cache", **{"spotify.redirect_uri": "http://127.0.0.1:9/callback"})
    standin.add_fault(Fault(method="GET", path=r"^/authorize$", status=400, raw=page_says, times=None))
    opened = []
    with pytest.raises(ConfigError, match=names) as err:
        jobs.login(settings, open_url=opened.append, any_port=True)
    assert opened == []  # said before the browser opens a page that cannot lead anywhere
    assert "INVALID_CLIENT" in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "cache" / "spotify-token.json").exists()


def test_a_login_that_gets_no_redirect_says_what_to_check(standin, tmp_path):
    """The same refusal when the page cannot be asked beforehand: the timeout's message names
    the redirect URI to register (same threads as above)."""
    from recommender.errors import AuthError
    from recommender.spotify import auth
    settings = settings_for(standin, tmp_path / "cache", **{"spotify.redirect_uri": "http://127.0.0.1:9/callback"})
    with pytest.raises(AuthError, match=r"if it said INVALID_CLIENT, add exactly http://127\.0\.0\.1:\d+/callback"):
        auth.login(settings, open_url=lambda url: None, timeout=0.01, any_port=True)


def test_an_artists_albums_are_asked_ten_at_a_time_as_spotify_allows_since_2026(standin, tmp_path):
    """`GET /artists/{id}/albums` answers `400 Invalid limit` above 10 since 2026 for apps in
    Development Mode (https://github.com/spotipy-dev/spotipy/issues/1231,
    https://github.com/spotipy-dev/spotipy/issues/1236,
    https://github.com/Googolplexed0/zotify/issues/211). The discovery step asked for 50: every
    refresh and every build stopped with "Spotify refused GET artists/.../albums (400: Invalid
    limit)", exit 5, and nothing was saved."""
    cache = tmp_path / "cache"
    save_login(standin, cache)
    env = env_for(standin, cache)
    result = run(["refresh", "--quiet"], env)
    assert result.exit_code == 0, result.stderr
    asked = [r for r in standin.requests if r.path.endswith("/albums") and r.path.startswith("/v1/artists/")]
    assert asked and all(int(r.query["limit"]) <= 10 and r.status == 200 for r in asked)
    assert {r.query["include_groups"] for r in asked} == {"album", "single"}  # the newest of each group
    assert len(_library(standin, cache).discovery)
    assert run(["build-playlist", "--quiet"], env).exit_code == 0


def test_a_followed_artists_listing_spotify_keeps_failing_does_not_stop_every_refresh(standin, tmp_path):
    """`GET /me/following?type=artist` answered `502 {"error": {"status": 502, "message":
    "Failed to get followed artists"}}` for some accounts day after day while every other call
    worked (https://github.com/jakubito/spotify-release-list/issues/81, July 2026; the same
    shape in https://github.com/spotify/web-api/issues/1239). The refresh retried it, then
    stopped with exit 5 "try again later", every day, and kept nothing of the rest of the pull
    (new saved tracks, playlists)."""
    cache = tmp_path / "cache"
    save_login(standin, cache)
    env = env_for(standin, cache)
    assert run(["refresh", "--quiet"], env).exit_code == 0
    before = set(_library(standin, cache).followed_artists["artist_id"])
    assert before
    standin.add_fault(Fault(method="GET", path=r"^/v1/me/following$", status=502,
                            message="Failed to get followed artists", times=None))
    standin.account.saved_tracks.insert(0, {"id": "smallTrack000000000009", "added_at": "2026-11-30T00:00:00Z"})
    config = tmp_path / "config.yaml"
    config.write_text("spotify:\n  max_retries: 0\n")  # (no test waits for real back-off)
    result = run(["refresh", "--quiet", "--config", str(config)], env)
    assert result.exit_code == 0, result.stderr
    assert "Spotify kept failing the list of artists you follow (502" in result.stderr and f"kept the {len(before)}" in result.stderr
    library = _library(standin, cache)
    assert set(library.followed_artists["artist_id"]) == before  # the last refresh's list stands in
    assert "smallTrack000000000009" in set(library.saved_tracks["track_id"])  # the rest of the pull is saved
    names = library.artists[library.artists["artist_id"].isin(before)]["name"]
    assert len(names) == len(before) and all(names)  # with their names
    assert run(["build-playlist", "--quiet"], env).exit_code == 0


PROXY_PAGE = (b"<!DOCTYPE html>\n<html>\n<head><title>400 Bad Request</title></head>\n<body>\n<h1>Bad Request</h1>\n"
              b"<p>Your browser sent a request that this server could not understand.</p>\n</body>\n</html>\n")


@pytest.mark.parametrize("where, says", [(r"^/v1/me$", "Spotify refused GET me (400: 400 Bad Request)"),
                                         (r"^/api/token$", "Spotify refused the saved login (HTTP 400: 400 Bad Request)")])
def test_an_error_page_in_html_is_said_in_one_short_line(standin, tmp_path, where, says):
    """Spotify's edge answers some errors with an HTML page or an empty body instead of its JSON
    error (https://github.com/JohnnyCrazy/SpotifyAPI-NET/issues/303; "Spotify sometimes returns
    an empty error body", https://github.com/stiefenm/spoton/issues/118). The API's said
    "(400: no message)" (the page's last line was empty); the accounts service's put the whole
    page, nine lines of escaped HTML, into the one-line error."""
    cache = tmp_path / "cache"
    save_login(standin, cache, expires_in=-10)  # expired: the first call refreshes it
    standin.add_fault(Fault(method="*", path=where, status=400, raw=PROXY_PAGE, times=None))
    result = run(["refresh", "--quiet"], env_for(standin, cache))
    assert result.exit_code in (3, 5)
    assert result.stderr.count("\n") == 1 and says in result.stderr and "<" not in result.stderr


def test_a_listing_refused_with_invalid_limit_is_read_ten_at_a_time(standin, tmp_path):
    """Spotify lowered page sizes without notice in 2026, first for newer logins ("for some
    newer authentication tokens the limit is now 10 ... 50 is still allowed when using older
    authentication tokens", https://github.com/thlucas1/spotifyplus_card/issues/100; a client
    that now probes the limits it is allowed, https://github.com/stiefenm/spoton/issues/118).
    A listing that answered `400 Invalid limit` stopped the refresh with exit 5, every day,
    until a new release of the tool; now it is read ten at a time, and only the first refusal
    of each listing costs a request."""
    cache = tmp_path / "cache"
    save_login(standin, cache)
    for path in (r"^/v1/me/playlists$", r"^/v1/playlists/[^/]+/items$", r"^/v1/me/tracks$"):
        standin.add_fault(Fault(method="GET", path=path, status=400, message="Invalid limit", times=1))
    result = run(["refresh", "--quiet"], env_for(standin, cache))
    assert result.exit_code == 0, result.stderr
    refused = [r for r in standin.requests if r.status == 400]
    assert len(refused) == 3  # once per listing, not once per playlist
    items = [r for r in standin.requests if r.path.endswith("/items") and r.status == 200]
    assert len(items) >= 3 and all(r.query.get("limit") in ("10", None) for r in items)
    library = _library(standin, cache)
    assert len(library.playlist_items) and len(library.saved_tracks)


def test_a_liked_songs_list_spotify_cannot_serve_does_not_stop_every_refresh(standin, tmp_path):
    """`GET /me/tracks` answers 500 or 502 on every page, even `limit=1`, for accounts with tens of
    thousands of Liked Songs, while every other call works
    (https://github.com/spotipy-dev/spotipy/issues/1093, 40,000 songs: "too many 500 error
    responses"; https://github.com/pavelkomarov/exportify/issues/77, 50,000 songs: HTTP 502,
    gone once they were unliked). The refresh retried it, then stopped with exit 5 "try again
    later", every day, keeping nothing of the rest of the pull; such an account never got a
    playlist at all. Now the last refresh's saved tracks stand in (none on a first refresh),
    with one `note:` line, and the playlists and top tracks are read as usual."""
    config = tmp_path / "config.yaml"
    config.write_text("spotify:\n  max_retries: 0\n")  # (no test waits for real back-off)
    fault = Fault(method="GET", path=r"^/v1/me/tracks$", status=500, message="Server error", times=None)

    fresh = tmp_path / "fresh"  # a first refresh: there is no last list
    save_login(standin, fresh)
    standin.add_fault(fault)
    result = run(["refresh", "--quiet", "--config", str(config)], env_for(standin, fresh))
    assert result.exit_code == 0, result.stderr
    assert "Spotify kept failing the list of your saved tracks (Liked Songs) (500" in result.stderr
    assert "none known yet" in result.stderr
    library = _library(standin, fresh)
    assert not len(library.saved_tracks) and len(library.playlist_items) and len(library.top_tracks)
    standin.clear_faults()

    cache = tmp_path / "cache"
    save_login(standin, cache)
    env = env_for(standin, cache)
    assert run(["refresh", "--quiet"], env).exit_code == 0
    before = _library(standin, cache).saved_tracks
    assert len(before)
    standin.add_fault(fault)
    standin.account.top_tracks["short_term"].insert(0, "smallTrack000000000009")  # the rest of the pull moves on
    result = run(["refresh", "--quiet", "--config", str(config)], env)
    assert result.exit_code == 0, result.stderr
    assert f"kept the {len(before)} of the last refresh" in result.stderr and result.stderr.count("\n") == 1
    library = _library(standin, cache)
    kept = library.saved_tracks
    assert list(kept["track_id"]) == list(before["track_id"]) and list(kept["added_at"]) == list(before["added_at"])
    assert set(kept["track_id"]) <= set(library.tracks["track_id"])  # with their names, artists and albums
    top = library.top_tracks
    assert "smallTrack000000000009" in set(top[top["time_range"] == "short_term"]["track_id"])
    assert run(["build-playlist", "--quiet", "--config", str(config)], env).exit_code == 0
    standin.clear_faults()  # Spotify answers again: the next refresh reads the list as usual
    assert run(["refresh", "--quiet"], env).exit_code == 0
    assert [r for r in standin.requests if r.path == "/v1/me/tracks" and r.status == 200]


def test_the_nightly_build_says_when_liked_songs_or_followed_artists_were_kept_from_the_last_refresh(standin, tmp_path):
    """`recommend refresh` says in a `note:` line that Spotify kept failing the Liked Songs (or
    followed artists) and the last refresh's list stands in; `build-playlist`, the command cron
    runs, refreshes the same way but dropped that note: a night whose Liked Songs pages answered
    500 exit 0 with nothing said, the playlist ranked on yesterday's saved tracks, and the cron
    mail (`--quiet`) stayed empty, night after night."""
    config = tmp_path / "config.yaml"
    config.write_text("spotify:\n  max_retries: 0\ncache:\n  max_age_hours: 0\n")
    cache = tmp_path / "cache"
    save_login(standin, cache)
    env = env_for(standin, cache)
    assert run(["build-playlist", "--quiet", "--no-input", "--config", str(config)], env).exit_code == 0
    kept = len(_library(standin, cache).saved_tracks)
    standin.add_fault(Fault(method="GET", path=r"^/v1/me/tracks$", status=500, message="Server error", times=None))
    standin.add_fault(Fault(method="GET", path=r"^/v1/me/following$", status=502, times=None))
    result = run(["build-playlist", "--quiet", "--no-input", "--config", str(config)], env)
    assert result.exit_code == 0, result.stderr
    assert "note: Spotify kept failing the list of your saved tracks (Liked Songs) (500" in result.stderr
    assert f"kept the {kept} of the last refresh" in result.stderr
    assert "note: Spotify kept failing the list of artists you follow (502" in result.stderr


class _Quiet:
    """A session that answers every request with nothing found (MusicBrainz: an object, the others:
    a list), keeping the User-Agent it was sent."""

    def __init__(self) -> None:
        self.agents: list[str] = []

    def _answer(self, url, headers=None, **kw):
        import json as _json
        import requests
        self.agents.append(headers["User-Agent"])
        answer = requests.Response()
        answer.status_code, answer._content, answer.url = 200, _json.dumps({} if "/ws/2/" in url else []).encode(), url
        return answer

    get = post = _answer


def test_listenbrainz_is_told_who_runs_the_tool_as_it_asks_since_august_2026(tmp_path, caplog):
    """Since August 2026 ListenBrainz asks every client for a User-Agent of the form
    `name/<version> ( contact-url )` or `( contact-email )`, as MusicBrainz does, and blocks the
    addresses of traffic it cannot tell from the botnets scraping it, MusicBrainz included
    (https://github.com/strawberrymusicplayer/strawberry/issues/2300, by a ListenBrainz developer;
    https://github.com/FoxxMD/multi-scrobbler/pull/680, "The UA string should also contain a URL
    or email we can contact you at"; https://github.com/lyarenei/jellyfin-plugin-listenbrainz/issues/179).
    The tool sent ListenBrainz and labs `recommend-playlist/<version>` alone, on purpose
    ("they ask for none"), even with `enrich.contact` set, and said nothing about it."""
    import logging
    import pandas as pd
    from recommender.config import load_settings
    from recommender.services.listenbrainz import OpenData
    from recommender.standins.listenbrainz import ListenBrainzStandIn, OpenDataWorld, artist_mbid, recording_mbid
    from recommender import __version__
    world = OpenDataWorld.from_frame(pd.DataFrame(
        [{"playlist_id": p, "track_id": t, "track_name": f"Song {t}", "track_artist": a, "isrc": f"ZZ{t.upper()}"}
         for p, t, a in [("p1", "t1", "A"), ("p1", "t2", "B"), ("p2", "t1", "A"), ("p2", "t2", "B")]]))
    contact = "me@example.org"
    with ListenBrainzStandIn(world) as lb:
        settings = load_settings(environ={}, overrides={
            "cache.dir": str(tmp_path / "cache"), "enrich.contact": contact,
            "listenbrainz.api_url": lb.api_url, "listenbrainz.labs_url": lb.labs_url})
        open_data = OpenData.from_settings(settings, cache_dir=tmp_path / "cache")
        try:
            assert open_data.similar_artists(artist_mbid("A"))  # labs
            assert open_data.top_recordings(artist_mbid("B"))  # the API
            assert open_data.spotify_ids([recording_mbid("t1")])  # labs, POST
        finally:
            open_data.close()
        assert len(lb.agents) == 3 and set(lb.agents) == {f"recommend-playlist/{__version__} ( {contact} )"}

    # without a contact, a run that asks the real services says once (for all three) how to set one
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path / "other")})
    open_data = OpenData.from_settings(settings, cache_dir=tmp_path / "other")
    sessions = [_Quiet() for _ in range(3)]
    for client, session in zip((open_data.api, open_data.labs, open_data.musicbrainz), sessions):
        client.session, client.sleep = session, lambda s: None
    try:
        with caplog.at_level(logging.WARNING):
            open_data.similar_artists(artist_mbid("A"))
            open_data.top_recordings(artist_mbid("B"))
            open_data.isrc("USRC17607839")
    finally:
        open_data.close()
    assert [s.agents for s in sessions] == [[f"recommend-playlist/{__version__}"]] * 3
    said = [r.getMessage() for r in caplog.records if "enrich.contact" in r.getMessage()]
    assert len(said) == 1 and "ListenBrainz" in said[0]


def test_a_playlist_spotify_does_not_know_yet_right_after_creating_it_is_filled_once_it_does(standin, tmp_path,
                                                                                            monkeypatch):
    """Spotify creates a playlist, then answers the first writes to it, or the first reads,
    with `404 Not found` for a moment: "usually the creation succeeds and the failure comes when
    writing the first or second page of 100 tracks ... Navigate back, hit the generate button
    again, and it works fine" (https://github.com/second-string/lineup-list/issues/40;
    intermittent 404s on adding items,
    https://github.com/spotify-web-api-java/spotify-web-api-java/issues/297). The first
    `build-playlist` created the playlist, then stopped with exit 5 "Spotify refused PUT
    playlists/.../items (404: Not found.)", leaving an empty playlist in the account until the
    next run. A playlist made in this run is known to exist: it is waited for (the Spotify
    retries' back-off, `spotify.max_retries` times) and filled."""
    import json
    cache = tmp_path / "cache"
    save_login(standin, cache)
    env = env_for(standin, cache)
    config = tmp_path / "config.yaml"
    from recommender.spotify.gateway import Gateway
    waits: list[float] = []  # the gateway's sleeps, recorded instead of slept
    made = Gateway.from_settings.__func__
    monkeypatch.setattr(Gateway, "from_settings",
                        classmethod(lambda cls, *a, **k: setattr(g := made(cls, *a, **k), "sleep", waits.append) or g))
    config.write_text("spotify:\n  max_retry_wait: 0.25\n")
    assert run(["refresh", "--quiet"], env).exit_code == 0
    standin.new_playlist_lag = 2  # the first write, then the read after it
    result = run(["build-playlist", "--quiet", "--config", str(config)], env)
    assert result.exit_code == 0, result.stderr
    assert len([r for r in standin.requests if r.status == 404]) == 2
    assert waits == [0.25]  # one wait, the retries' back-off, never above spotify.max_retry_wait
    manifest = json.loads((cache / "manifest.json").read_text())["managed_playlist"]
    assert manifest["pending"] is None and manifest["last_written"]
    assert standin.playlist_track_ids(manifest["id"]) == manifest["last_written"]
    assert len([p for p in standin.account.playlists if p["owner"] == standin.account.user["id"]
                and p["name"] == manifest["name"]]) == 1  # filled, never a second one made

    standin.new_playlist_lag = 10  # one Spotify keeps refusing: the stop says so, the next run fills it
    config.write_text("spotify:\n  max_retry_wait: 0\n  max_retries: 1\n")
    result = run(["build-playlist", "--quiet", "--new-playlist", "--config", str(config)], env)
    assert result.exit_code == 5 and "404" in result.stderr and "the next run fills it" in result.stderr, result.stderr
    standin.new_playlist_lag = 0  # Spotify knows it now
    assert run(["build-playlist", "--quiet", "--config", str(config)], env).exit_code == 0
    manifest = json.loads((cache / "manifest.json").read_text())["managed_playlist"]
    assert standin.playlist_track_ids(manifest["id"]) == manifest["last_written"] != []


def test_a_redirect_uri_on_the_ipv6_loopback_spotify_documents_logs_in(standin, tmp_path):
    """Spotify's redirect URI rules since April 2025 name two loopback forms: "use the explicit
    IPv4 or IPv6, like http://127.0.0.1:PORT or http://[::1]:PORT as your redirect URI"
    (quoted in https://github.com/ActivityWatch/aw-watcher-spotify/issues/31 and
    https://github.com/Noko7/Spotify-Downloader/issues/12). With `http://[::1]:8888/callback`,
    which its own check let through, `recommend auth` stopped with "spotify.redirect_uri: cannot
    listen on ::1:8888 (Address family for hostname not supported)": its callback server
    listened on IPv4 only."""
    from recommender import jobs
    settings = settings_for(standin, tmp_path / "cache", **{"spotify.redirect_uri": "http://[::1]:9/callback"})
    jobs.login(settings, open_url=_browser, any_port=True)
    assert (tmp_path / "cache" / "spotify-token.json").exists()
    asked = [r.query["redirect_uri"] for r in standin.requests if r.path == "/authorize"]
    assert asked and all(u.startswith("http://[::1]:") and u.endswith("/callback") for u in asked)


def test_a_redirect_uri_over_https_is_refused_before_the_browser_opens(standin, tmp_path):
    """Spotify takes an https redirect URI on the loopback address too ("Use HTTPS for your
    redirect URI, unless you are using a loopback address, when HTTP is permitted"), and users
    who met the new rules tried it (https://github.com/Concept-Bytes/Record-Player/issues/7:
    "https://127.0.0.1:8888/callback ... still no luck";
    https://github.com/fow5040/Flow.Launcher.Plugin.SpotifyPremium/issues/58). The tool's
    callback server speaks plain http: the browser's TLS greeting reached it, and `recommend
    auth` said "no answer from the Spotify login page within 300 s: if it said INVALID_CLIENT,
    add exactly https://127.0.0.1:8888/callback ...", the URI already registered. Now it says
    at once, before the browser opens, that the URI must be http."""
    from recommender.errors import ConfigError
    from recommender.spotify import auth
    settings = settings_for(standin, tmp_path / "cache", **{"spotify.redirect_uri": "https://127.0.0.1:9/callback"})
    opened = []
    with pytest.raises(ConfigError, match=r"http://127\.0\.0\.1:9/callback") as err:
        auth.login(settings, open_url=opened.append, timeout=0.01, any_port=True)
    assert opened == [] and "https://127.0.0.1:9/callback" in str(err.value)


def _discovery_refresh(cache, unplayable=(), relinked=None, mapping=None):
    """A demo refresh (similar tracks and the albums source; the demo's stand-ins) with some tracks
    not playable in the account's country: (similar-track ids, album-source ids, Spotify requests)."""
    from recommender import jobs
    from recommender.config import load_settings
    settings = load_settings(environ={}, overrides={"cache.dir": str(cache),
                                                    "discovery.similar_artists.enabled": False})
    with jobs.demo_environment(settings) as (demo, server):
        server.account.unplayable = list(unplayable)
        server.account.relinked.update(relinked or {})
        server.open_data.spotify_ids.update(mapping or {})
        jobs.demo_login(demo)
        library, report = jobs.refresh(demo)
        requests = [r for r in server.requests if r.method == "GET"]
    assert report.warnings == []
    return (list(dict.fromkeys(library.frames["discovered"]["track_id"])),
            list(dict.fromkeys(library.frames["discovery"]["track_id"])), requests)


def test_a_discovered_track_that_does_not_play_in_your_country_is_never_recommended(tmp_path):
    """Spotify's catalogue holds releases licensed only in other countries; the app shows them
    greyed out and skips them. Users of playlist tools met such tracks in what the tool made
    (https://github.com/tylerjwoodfin/tools/pull/207, July 2026: "market-restricted remixes";
    https://github.com/hoeci/sort-play/issues/143, July 2026: "tracks unplayable in the user's
    market, i.e. greyed-out tracks"; https://github.com/aome510/spotify-player/pull/207: only a
    request naming a `market` gets `is_playable`, as Spotify's relinking guide says). Discovery
    looked tracks up, searched and read albums without a market, so an id labs' mapping gave for
    another country's release, or such a track of an album of your artists, became a pick the
    user could not play. Now every discovery request names the user's market (`from_token`): a
    track Spotify marks `is_playable: false` is no candidate (the recording's next mapped ids are
    tried), a relinked one (Spotify answers with the playable copy) keeps the id asked for, and
    an artist's newest albums are the newest that play here."""
    from recommender.standins.spotify import Account
    similar, albums, requests = _discovery_refresh(tmp_path / "plain")
    looked_up = {r.path.rsplit("/", 1)[1] for r in requests if r.path.startswith("/v1/tracks/")}
    new = [t for t in similar if t in looked_up]  # new to the library: looked up on Spotify
    assert len(new) > 3 and len(albums) > 2
    alone, mapped, relinked, other_release = new[:4]
    album_track, copy = albums[0], next(t for t in albums[1:] if t not in similar)
    sample = Account.sample(features=False)
    album_of = {t: sample.tracks[t]["album_id"] for t in albums}
    elsewhere = next(a for a in dict.fromkeys(album_of[t] for t in albums[1:]) if a != album_of[album_track])
    whole = [t for t, v in sample.tracks.items() if v["album_id"] == elsewhere]  # an album of another market
    similar2, albums2, requests = _discovery_refresh(
        tmp_path / "restricted", unplayable=[alone, other_release, album_track] + whole,
        relinked={relinked: copy}, mapping={mapped: [other_release, mapped]})
    assert alone not in similar2 and other_release not in similar2  # not playable here: no candidate
    assert mapped in similar2  # the recording's next id, which plays here
    assert relinked in similar2 and copy not in similar2  # the id asked for, as the mapping gave it
    assert album_track not in albums2 and not set(whole) & set(albums2)
    assert {t for t in albums if album_of[t] != elsewhere} - {album_track} <= set(albums2)
    assert not [r for r in requests if r.path == f"/v1/albums/{elsewhere}/tracks"]  # not listed: not read
    discovery = [r for r in requests if r.path.startswith(("/v1/tracks/", "/v1/search"))
                 or (r.path.startswith("/v1/albums/") and r.path.endswith("/tracks"))
                 or (r.path.startswith("/v1/artists/") and r.path.endswith("/albums"))]
    assert discovery and all(r.query.get("market") == "from_token" for r in discovery)


def _first_build(standin, tmp_path):
    """A first build: (env, cache, the managed playlist's id)."""
    from recommender.store import Store
    cache = tmp_path / "cache"
    save_login(standin, cache)
    env = env_for(standin, cache)
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    return env, cache, Store(cache).read_manifest()["managed_playlist"]["id"]


def _greyed_pick(standin, tmp_path, reason=None):
    """A first build, then Spotify greys out its first pick (``reason``: restrictions.reason)
    and a second build leaves it out: (env, cache, managed playlist id, first picks, the pick).
    For "explicit" the pick is the account's one explicit track (an account that does not play
    explicit content sees every explicit track greyed out)."""
    if reason == "explicit":
        for track in standin.account.tracks.values():
            track["explicit"] = False
    env, cache, pid = _first_build(standin, tmp_path)
    first = standin.account.playlist_track_ids(pid)
    grey = first[0]
    standin.account.unplayable = [grey]
    if reason:
        standin.account.restriction[grey] = reason
        standin.account.tracks[grey]["explicit"] = reason == "explicit"
    result = run(["build-playlist", "--quiet"], env)
    assert result.exit_code == 0, result.stderr
    assert grey not in standin.account.playlist_track_ids(pid)
    return env, cache, pid, first, grey, result


def _stamp_grey(cache, grey, days_ago, reason=None):
    from datetime import timedelta

    from recommender.isotime import utc_now
    from recommender.store import Store
    at = (utc_now() - timedelta(days=days_ago)).isoformat()
    Store(cache).update_manifest(not_playable={grey: {"at": at, "reason": reason} if reason else at})


def test_a_pick_that_does_not_play_in_your_country_leaves_the_managed_playlist_and_stays_out(standin, tmp_path):
    """A track of your own playlists (or one discovered earlier) can be a release of another
    market, or lose its licence in your country later: Spotify's app shows it greyed out and
    skips it (https://github.com/hoeci/sort-play/issues/143, July 2026: "remove unavailable ...
    greyed-out tracks"; https://github.com/aome510/spotify-player/pull/207: filter on
    `is_playable`, which only a request naming a `market` gets). Such a pick stayed in the
    managed playlist, run after run. The run reads the managed playlist as your country sees it:
    a pick Spotify marks `is_playable: false` is left out (the next best takes its place), one
    `note:` says so, and the manifest remembers it for 30 days, so it does not come back the
    next day; a track you pinned stays."""
    from recommender.store import Store
    env, cache, pid, first, grey, result = _greyed_pick(standin, tmp_path)
    assert "1 pick of the managed playlist does not play in your country" in result.stderr
    now = standin.account.playlist_track_ids(pid)
    assert grey not in now and set(first) - {grey} <= set(now)  # only it left (the small library has no next best)
    assert grey in Store(cache).read_manifest()["not_playable"]
    result = run(["build-playlist", "--quiet"], env)  # not in the playlist any more: remembered
    assert result.exit_code == 0 and "does not play" not in result.stderr
    assert grey not in standin.account.playlist_track_ids(pid)
    reads = [r for r in standin.requests if r.method == "GET" and r.path.startswith(f"/v1/playlists/{pid}")]
    assert any(r.query.get("market") == "from_token" for r in reads)


def test_a_pick_found_greyed_by_a_run_that_recommends_nothing_is_said_by_the_run_that_replaces_it(standin, tmp_path):
    """A run that recommends nothing leaves the playlist as it is, its greyed-out pick too: the
    pick is not remembered then, so the run that does replace it says why it left."""
    from recommender.store import Store
    env, cache, pid = _first_build(standin, tmp_path)
    grey = standin.account.playlist_track_ids(pid)[0]
    standin.account.unplayable = [grey]
    strict = tmp_path / "strict.yaml"
    strict.write_text("blend:\n  threshold: 1.0\n  min_tracks: 0\n")
    nothing = run(["build-playlist", "--quiet"], {**env, "RECOMMENDER_CONFIG": str(strict)})
    assert nothing.exit_code == 0 and grey in standin.account.playlist_track_ids(pid)
    assert grey not in (Store(cache).read_manifest().get("not_playable") or {})
    result = run(["build-playlist", "--quiet"], env)
    assert result.exit_code == 0 and "1 pick of the managed playlist does not play in your country" in result.stderr
    assert grey not in standin.account.playlist_track_ids(pid) and grey in Store(cache).read_manifest()["not_playable"]


def test_a_greyed_pick_is_remembered_30_days_then_asked_again(standin, tmp_path):
    """The memory of a pick that does not play in your country ends: licences change both ways.
    Stamped 29 days ago it stays out although it plays again; 31 days ago it is a candidate and
    comes back."""
    env, cache, pid, first, grey, _ = _greyed_pick(standin, tmp_path)
    standin.account.unplayable = []  # it plays in your country again
    _stamp_grey(cache, grey, 29)
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    assert grey not in standin.account.playlist_track_ids(pid)
    _stamp_grey(cache, grey, 31)
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    assert grey in standin.account.playlist_track_ids(pid)


def test_a_pick_greyed_for_explicit_content_says_so_and_is_not_cycled_back(standin, tmp_path):
    """Spotify's restrictions.reason says why a track does not play: "explicit" when your
    account does not play explicit content (a setting of yours, not your country), "product"
    for your subscription. The note said "does not play in your country" for all; it now says
    why and how to have it again, and as 30 days do not change a setting, it is not tried
    again after 30 days but after 180 (see the next test for the setting changed)."""
    env, cache, pid, first, grey, result = _greyed_pick(standin, tmp_path, reason="explicit")
    assert "1 pick of the managed playlist is explicit, and your account does not play explicit tracks" \
        in result.stderr
    assert "add one back to the playlist by hand" in result.stderr
    assert "in your country" not in result.stderr
    _stamp_grey(cache, grey, 31, reason="explicit")
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    assert grey not in standin.account.playlist_track_ids(pid)
    standin.account.unplayable = []
    _stamp_grey(cache, grey, 181, reason="explicit")
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    assert grey in standin.account.playlist_track_ids(pid)


@pytest.mark.parametrize("how", ["an explicit track plays", "added back by hand"])
def test_a_pick_greyed_for_explicit_content_comes_back_once_your_account_plays_it(standin, tmp_path, how):
    """A pick greyed out as explicit was remembered without end: turning explicit content on
    in your account never brought it (or any other such pick) back. Once the read of the
    managed playlist shows an explicit track playing for you (a new explicit pick, or the
    greyed one added back by hand), every pick remembered as explicit is forgotten: the next run
    recommends the greyed pick again, and one you added back is yours to keep (pinned)."""
    from recommender.store import Store

    from spotify_helpers import add_by_hand, gateway_for
    env, cache, pid, first, grey, _ = _greyed_pick(standin, tmp_path, reason="explicit")
    other = next(t for t in sorted(standin.account.tracks) if t not in first)
    Store(cache).update_manifest(not_playable={**Store(cache).read_manifest()["not_playable"],
                                               other: {"at": "2026-11-01T00:00:00+00:00", "reason": "explicit"}})
    standin.account.unplayable = []  # you turned explicit content on
    if how == "added back by hand":
        add_by_hand(gateway_for(settings_for(standin, cache)), pid, [grey])
    else:
        playing = standin.account.playlist_track_ids(pid)[0]
        standin.account.tracks[playing]["explicit"] = True
        assert run(["build-playlist", "--quiet", "--refresh"], env).exit_code == 0  # the library learns it
    result = run(["build-playlist", "--quiet"], env)
    assert result.exit_code == 0, result.stderr
    manifest = Store(cache).read_manifest()
    assert not (manifest.get("not_playable") or {})
    if how == "added back by hand":  # in the playlist by the test's own hand: what counts is whose it is now
        assert grey in manifest["managed_playlist"]["pinned"]
    else:
        assert grey in standin.account.playlist_track_ids(pid)  # the run picked it again


def test_a_greyed_track_you_pinned_stays(standin, tmp_path):
    """A track you added to the managed playlist is yours to keep, playable or not: it stays
    and is not remembered as greyed out."""
    from recommender.store import Store

    from spotify_helpers import add_by_hand, gateway_for
    env, cache, pid = _first_build(standin, tmp_path)
    mine = next(t for t in sorted(standin.account.tracks) if t not in standin.account.playlist_track_ids(pid))
    add_by_hand(gateway_for(settings_for(standin, cache)), pid, [mine])
    standin.account.unplayable = [mine]
    result = run(["build-playlist", "--quiet"], env)
    assert result.exit_code == 0, result.stderr
    assert mine in standin.account.playlist_track_ids(pid) and "does not play" not in result.stderr
    assert mine not in (Store(cache).read_manifest().get("not_playable") or {})


def test_a_greyed_pick_in_a_run_that_recommends_nothing_is_not_said_to_be_left_out(standin, tmp_path):
    """A run with nothing to recommend leaves the playlist exactly as it is, the greyed pick
    too: it said the pick was "left out". Now it says nothing of it, and the run that replaces
    it says so."""
    env, cache, pid = _first_build(standin, tmp_path)
    grey = standin.account.playlist_track_ids(pid)[0]
    standin.account.unplayable = [grey]
    artists = sorted({a["name"] for a in standin.account.artists.values()})
    config = tmp_path / "config.yaml"
    config.write_text("candidates:\n  blocklist_artists: [" + ", ".join(repr(a) for a in artists) + "]\n")
    result = run(["build-playlist", "--quiet", "--config", str(config)], env)
    assert result.exit_code == 0, result.stderr
    assert grey in standin.account.playlist_track_ids(pid) and "does not play" not in result.stderr
    result = run(["build-playlist", "--quiet"], env)
    assert "1 pick of the managed playlist does not play in your country" in result.stderr
    assert grey not in standin.account.playlist_track_ids(pid)


def test_the_release_of_a_greyed_pick_that_plays_for_you_takes_its_place(standin, tmp_path):
    """A pick greyed out in your country was banned as if you had removed it: every track with
    its ISRC, the release that does play for you too, stayed out for 30 days, and a run with no
    candidates left counted it "removed by you earlier". Now only the greyed release is left
    out: the same recording in one of your playlists under another id takes its place."""
    from spotify_helpers import add_by_hand, gateway_for
    env, cache, pid = _first_build(standin, tmp_path)
    grey = standin.account.playlist_track_ids(pid)[0]
    copy = "smallTrackCopyOfGrey01"
    standin.account.tracks[copy] = dict(standin.account.tracks[grey])  # same name, artist, ISRC
    road = next(p["id"] for p in standin.account.playlists if p["name"] == "Road Trip")
    add_by_hand(gateway_for(settings_for(standin, cache)), road, [copy])
    standin.account.unplayable = [grey]
    result = run(["build-playlist", "--quiet", "--refresh"], env)
    assert result.exit_code == 0, result.stderr
    now = standin.account.playlist_track_ids(pid)
    assert grey not in now and copy in now
