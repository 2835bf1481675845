"""What a real account meets that SPOTIFY-2026's contract implies, against the stand-in over HTTP.

The managed playlist renamed, given podcast episodes, local files or a duplicate by the user in
the Spotify app; taste playlists of thousands of items and duplicated entries; relinked tracks
(``linked_from``); a saved login whose scopes no longer cover what the tool asks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from recommender import schema
from recommender.errors import AuthError, ConfigError
from recommender.spotify import parse
from recommender.spotify.sync import refresh_library
from recommender.standins.spotify import Account, StandinServer, base62_id
from recommender.store import Store

from spotify_helpers import api_requests, free_port, gateway_for, save_login, settings_for
from test_discovery import discover_open_data, settings_for_open_data, user_library
from test_publish import USER, Env, bulk_account, small_ids

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def env(standin, tmp_path) -> Env:
    return Env(standin, tmp_path / "cache")


def _edit(server: StandinServer, pid: str, edit) -> None:
    """The user edits playlist ``pid`` in the Spotify app (a new snapshot id, as Spotify gives)."""
    with server._lock:
        pl = server.account.playlist(pid)
        edit(pl)
        StandinServer._bump(pl)


def _entry(kind: str, **extra) -> dict:
    return {"kind": kind, "added_at": "2026-11-01T10:00:00Z", "added_by": USER, **extra}


# ----- the managed playlist, edited in the Spotify app between runs -------------------------
def test_a_managed_playlist_the_user_renamed_is_updated_in_place_and_keeps_the_users_name(env):
    tracks = small_ids(env.server)
    pid = env.run(tracks[:5]).playlist_id
    r = requests.put(env.server.api_url + f"playlists/{pid}", json={"name": "My \u202eown\u200f mix"},
                     headers={"Authorization": f"Bearer {env.token['access_token']}"}, timeout=10)
    assert r.status_code == 200
    env.server.clear_requests()
    result = env.run(tracks[5:10])
    assert not result.created and result.playlist_id == pid
    assert env.content(pid) == tracks[5:10]
    assert env.server.account.playlist(pid)["name"] == "My \u202eown\u200f mix"  # never renamed back
    assert not [w for w in env.writes() if w.path == "/v1/me/playlists"]  # no second playlist
    details = [p for m, u, p in env.sent if m == "PUT" and u == f"playlists/{pid}"]
    assert all("name" not in p for p in details)


def test_episodes_and_local_files_put_in_the_managed_playlist_are_named_when_a_rewrite_drops_them(env):
    tracks = small_ids(env.server)
    pid = env.run(tracks[:4]).playlist_id
    local = {"name": "Demo take", "artist": "Me", "album": "Home", "duration_ms": 120000}
    _edit(env.server, pid, lambda pl: pl["items"].extend([
        _entry("episode", id="smallEpisode0000000001"), _entry("local", local=local), _entry("null")]))
    # nothing to change: nothing written, the user's episode and file stay
    same = env.run(tracks[:4])
    assert not same.written and len(env.server.account.playlist(pid)["items"]) == 7
    assert not any("episode" in m for m in same.messages)
    # a rewrite keeps tracks only, and says what it removed instead of dropping it silently
    result = env.run(tracks[2:8])
    assert result.written and env.content(pid) == tracks[2:8]
    kinds = [it["kind"] for it in env.server.account.playlist(pid)["items"]]
    assert kinds == ["track"] * 6
    note = [m for m in result.messages if "episode" in m]
    assert len(note) == 1 and "1 episode and 1 local file" in note[0] and env.settings.playlist.name in note[0]
    # the null entry (a track gone from the catalogue) is no user's edit: not named, no removal
    assert "null" not in note[0] and env.store.read_manifest()["user_removed"] == []


def test_an_episode_in_a_managed_playlist_that_only_grows_is_kept_and_not_said_removed(tmp_path):
    """Over 100 tracks, a run whose new list starts with the old one only adds the rest (no
    replace): the user's episode stays, so no line may say it was removed."""
    with StandinServer(bulk_account()) as server:
        env = Env(server, tmp_path / "cache")
        tracks = small_ids(server)
        assert len(tracks) >= 150
        pid = env.run(tracks[:100]).playlist_id
        _edit(server, pid, lambda pl: pl["items"].append(_entry("episode", id="smallEpisode0000000001")))
        result = env.run(tracks[:150])
        assert result.written and env.content(pid) == tracks[:150]
        assert [it["kind"] for it in server.account.playlist(pid)["items"]].count("episode") == 1
        assert not any("episode" in m for m in result.messages)


def test_a_track_the_user_duplicates_in_the_managed_playlist_is_written_once_and_not_taken_for_an_edit(env):
    tracks = small_ids(env.server)
    pid = env.run(tracks[:5]).playlist_id
    _edit(env.server, pid, lambda pl: pl["items"].append(dict(pl["items"][1])))
    state = env.state()
    assert state.current == tracks[:5] + [tracks[1]]
    assert state.pinned == [] and state.user_removed == []
    result = env.run(tracks[:5])
    assert result.written and env.content(pid) == tracks[:5]  # the managed playlist keeps no duplicate
    assert env.store.read_manifest()["user_removed"] == []


# ----- taste playlists: thousands of items, duplicates, relinking ---------------------------
MANY = 2345


def _many_account() -> Account:
    """The small account plus one owned playlist of MANY items, with a duplicated track, an
    episode and a local file among them."""
    data = json.loads((FIXTURES / "small_account.json").read_text(encoding="utf-8"))
    album = next(iter(data["albums"]))
    artist = data["albums"][album]["artist_ids"][0]
    ids = [base62_id(f"many:{i}") for i in range(MANY)]
    for i, tid in enumerate(ids):
        data["tracks"][tid] = {"name": f"Many {i}", "artist_ids": [artist], "album_id": album, "duration_ms": 180000}
    items: list = list(ids)
    items[1000:1000] = [ids[7], {"episode": "smallEpisode0000000001"},
                        {"local": {"name": "x", "artist": "y", "album": "z", "duration_ms": 1000}}]
    data["playlists"].append({"id": "manyPlaylist0000000001", "name": "Everything", "items": items})
    return Account.from_dict(data)


def test_a_playlist_of_thousands_of_items_is_read_in_full_page_by_page_duplicates_kept(tmp_path):
    with StandinServer(_many_account()) as server:
        settings = settings_for(server, tmp_path / "cache")
        save_login(server, tmp_path / "cache")
        library, report = refresh_library(gateway_for(settings), Store(settings.cache_dir), settings)
        pages = [r for r in api_requests(server, "GET") if r.path == "/v1/playlists/manyPlaylist0000000001/items"]
    items = library.playlist_items[library.playlist_items["playlist_id"] == "manyPlaylist0000000001"]
    assert len(items) == MANY + 1  # every track, the duplicate too; the episode and the file skipped
    assert items["track_id"].nunique() == MANY
    assert (items["track_id"] == base62_id("many:7")).sum() == 2
    assert items["position"].is_unique  # the playlist's own positions, episode and file included
    assert len(pages) == -(-(MANY + 3) // 50) and all(r.query.get("limit") in (None, "50") for r in pages)
    assert report.playlists_fetched >= 1 and not report.problems
    schema.conform("playlist_items", items)


def _relinked_account() -> tuple[Account, str, str]:
    data = json.loads((FIXTURES / "small_account.json").read_text(encoding="utf-8"))
    stored, playable = sorted(data["tracks"])[:2]
    data["relinked"] = {stored: playable}
    data["playlists"][0]["items"].insert(0, stored)
    data["saved_tracks"].append({"id": stored, "days_ago": 1})
    return Account.from_dict(data), stored, playable


def test_a_relinked_track_is_read_under_the_id_the_playlist_stores(tmp_path):
    account, stored, playable = _relinked_account()
    pid = account.playlists[0]["id"]
    with StandinServer(account) as server:
        auth = {"Authorization": f"Bearer {server.issue_token()['access_token']}"}
        # the stand-in relinks like Spotify: only for a request naming a market
        url = server.api_url + f"playlists/{pid}/items"
        plain = requests.get(url, headers=auth, timeout=10).json()["items"][0]["item"]
        relinked = requests.get(url, params={"market": "from_token"}, headers=auth, timeout=10).json()["items"][0]
        assert plain["id"] == stored and "linked_from" not in plain
        assert relinked["item"]["id"] == playable and relinked["item"]["linked_from"]["id"] == stored
        # the tool reads such an entry under the stored id (a managed playlist read back then
        # compares equal to what was written), and never asks for relinking itself when it reads
        # your library (discovery asks as your country sees the catalogue: test_field_report.py)
        assert parse.entry_track(relinked)["id"] == stored
        settings = settings_for(server, tmp_path / "cache")
        save_login(server, tmp_path / "cache")
        server.clear_requests()
        library, _ = refresh_library(gateway_for(settings), Store(settings.cache_dir), settings)
        assert not [r for r in server.requests if "market" in r.query and r.path.startswith(("/v1/me", "/v1/playlists"))]
    assert stored in set(library.playlist_items["track_id"]) and stored in set(library.saved_tracks["track_id"])


# ----- scopes -----------------------------------------------------------------------------
def test_a_saved_login_without_a_scope_the_tool_needs_asks_for_a_new_login_without_prompting(standin, tmp_path,
                                                                                            monkeypatch):
    settings = settings_for(standin, tmp_path / "cache")
    save_login(standin, tmp_path / "cache", scope="playlist-read-private user-top-read")
    monkeypatch.setattr("builtins.input", lambda *a: pytest.fail("prompted for input"))
    with pytest.raises(AuthError, match="scopes.*recommend auth") as err:
        refresh_library(gateway_for(settings), Store(settings.cache_dir), settings)
    assert err.value.exit_code == 3
    assert not api_requests(standin)  # stopped before any API call



def test_a_saved_login_of_another_app_asks_for_a_new_login_naming_the_client_id(standin, tmp_path):
    """spotify.client_id changed to another app (a new one made in the dashboard): the other
    app's access token was used for up to an hour as if it were this app's, then its refresh was
    refused as a login "removed on the account's Apps page, or expired". The run stops at once,
    exit 3, before any request, saying the saved login is another app's."""
    from recommender.spotify import auth
    cache = tmp_path / "cache"
    first = settings_for(standin, cache, **{"spotify.client_id": "app-a",
                                            "spotify.redirect_uri": f"http://127.0.0.1:{free_port()}/callback"})
    auth.login(first, open_url=_browser(), timeout=10)
    assert gateway_for(first).me()["id"]  # the login works for the app it was made with
    standin.clear_requests()
    with pytest.raises(AuthError, match=r"another app's \(client id 'app-a'\).*spotify.client_id 'app-b'.*"
                                        r"recommend auth") as err:
        gateway_for(settings_for(standin, cache, **{"spotify.client_id": "app-b"})).me()
    assert err.value.exit_code == 3
    assert not standin.requests  # no API request, no refresh
    # `status --offline` says so too (it said "valid": the token's time alone), and the online one
    from recommender.jobs import status_report
    other = settings_for(standin, cache, **{"spotify.client_id": "app-b"})
    for offline in (True, False):
        login = status_report(other, offline=offline)["login"]
        assert login["state"] == "needs login" and "another app's (client id 'app-a')" in login["message"], login
    assert status_report(first, offline=True)["login"]["state"] == "valid"  # the app it was made with

# ----- open data: answers in no promised order, rows left out, null counts ------------------
def _open_data(lb, tmp_path):
    from recommender.config import load_settings
    from recommender.services.listenbrainz import OpenData
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path / "cache"),
                                                    "listenbrainz.api_url": lb.api_url,
                                                    "listenbrainz.labs_url": lb.labs_url})
    return OpenData.from_settings(settings, cache_dir=tmp_path / "od")


@pytest.mark.parametrize("unordered", [False, True])
def test_open_data_answers_in_any_order_are_sorted_by_score_and_matched_by_mbid(tmp_path, unordered):
    from recommender.standins.listenbrainz import (SIMILAR_ARTISTS_ALGORITHM, ListenBrainzStandIn, artist_mbid,
                                                   recording_mbid)
    from test_listenbrainz import small_world
    every = [recording_mbid(t) for t in ("t1", "t2", "t3", "t4", "t5")] + ["no-such-recording"]
    with ListenBrainzStandIn(small_world(0.5), unordered=unordered) as lb:
        raw = requests.get(f"{lb.labs_url}/similar-artists/json", timeout=10, params={
            "artist_mbids": artist_mbid("C"), "algorithm": SIMILAR_ARTISTS_ALGORITHM})
        od = _open_data(lb, tmp_path)
        try:
            similar = od.similar_artists(artist_mbid("C"))
            recordings = od.similar_recordings(recording_mbid("t3"))
            ids = od.spotify_ids(every)
            counts = od.popularity(every)
            many = od.popularity([f"unknown-{i}" for i in range(1500)])  # <= 1000 ids a request
            batches = lb.requests_to("popularity/recording")
        finally:
            od.close()
    assert batches == 3 and set(many.values()) == {(None, None)}
    scores = [r["score"] for r in raw.json()]
    assert scores == sorted(scores, reverse=not unordered)  # the stand-in really answers in either order
    # best first (ties keep the service's order: a cached answer keeps its order)
    assert [r["name"] for r in similar][0] == "D" and sorted(r["name"] for r in similar) == ["A", "B", "D"]
    assert [r["score"] for r in similar] == sorted((r["score"] for r in similar), reverse=True)
    assert [r["name"] for r in recordings][0] == "Song t4"
    assert [r["score"] for r in recordings] == sorted((r["score"] for r in recordings), reverse=True)
    # the mapping leaves unresolvable recordings out: each id belongs to its own recording
    assert all(tid is None or recording_mbid(tid) == mb for mb, tid in ids.items())
    assert ids["no-such-recording"] is None and 0 < sum(v is not None for v in ids.values()) < 5
    assert counts["no-such-recording"] == (None, None) and counts[recording_mbid("t1")] == (20, 2)


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_a_listenbrainz_401_names_the_token_setting_in_one_warning(tmp_path, token):
    from recommender.standins.listenbrainz import ListenBrainzStandIn
    from recommender.standins.musicbrainz import MusicBrainzStandIn
    from test_listenbrainz import small_world
    world = small_world()
    with ListenBrainzStandIn(world, token="sekrit-token") as lb, MusicBrainzStandIn(world=world) as mb:
        # this ListenBrainz requires a user token for top recordings
        extra = {"listenbrainz.token": token} if token else {}
        library, report = discover_open_data(user_library(), settings_for_open_data(tmp_path, lb, mb, **extra))
    assert len(report.warnings) == 1, report.warnings
    warning = report.warnings[0]
    assert "HTTP 401" in warning and "listenbrainz.token" in warning and "LISTENBRAINZ_TOKEN" in warning
    assert ("refused the user token" in warning) == bool(token) and "wrong-token" not in warning
    assert set(library.frames["tracks"]["track_id"]) >= {"t1", "t3"}  # the run goes on with what it has


def test_a_listenbrainz_401_at_an_address_you_set_names_it(tmp_path):
    """A 401 at a listenbrainz.api_url of your own (another service's address answers 401 too)
    said only to set a token: the address and where it was set are named, and that it may be
    the cause; the shipped address's 401 says nothing of it (the test above)."""
    from recommender.config import load_settings
    from recommender.standins.listenbrainz import ListenBrainzStandIn
    from recommender.standins.musicbrainz import MusicBrainzStandIn
    from test_discovery import settings_for_open_data
    from test_listenbrainz import small_world
    world = small_world()
    with ListenBrainzStandIn(world, token="sekrit-token") as lb, MusicBrainzStandIn(world=world) as mb:
        base = settings_for_open_data(tmp_path, lb, mb)
        overrides = {k: base.get_path(k) for k in ("cache.dir", "listenbrainz.labs_url", "enrich.musicbrainz_url",
                                                   "listenbrainz.max_retry_wait", "listenbrainz.timeout")}
        settings = load_settings(environ={"RECOMMENDER_LISTENBRAINZ_API_URL": lb.api_url}, overrides=overrides)
        _library, report = discover_open_data(user_library(), settings)
    warning = " ".join(report.warnings)
    assert "HTTP 401" in warning and "listenbrainz.token" in warning
    assert (f"or the address {lb.api_url.rstrip('/')} (listenbrainz.api_url, from environment RECOMMENDER_LISTENBRAINZ_API_URL) "
            "is not ListenBrainz's API: mend listenbrainz.api_url") in warning


# ----- the 2026 keys, their deprecated aliases, or only one of them ---------------------------
def _pull(server: StandinServer, cache: Path):
    settings = settings_for(server, cache)
    save_login(server, cache)
    return refresh_library(gateway_for(settings), Store(settings.cache_dir), settings)[0]


@pytest.mark.parametrize("aliases", ["new", "old"])
def test_playlists_read_the_same_with_only_the_2026_keys_or_only_the_old_aliases(small_account, tmp_path, aliases):
    with StandinServer(Account.from_dict(small_account.to_dict())) as both:
        expected = _pull(both, tmp_path / "both")
    with StandinServer(small_account, aliases=aliases) as server:
        entry = requests.get(server.api_url + "playlists/smallPlaylist000000001/items", timeout=10, headers={
            "Authorization": f"Bearer {server.issue_token()['access_token']}"}).json()["items"][0]
        assert set(entry) & {"item", "track"} == ({"item"} if aliases == "new" else {"track"})
        library = _pull(server, tmp_path / aliases)
        # the managed playlist is written and read back (verified) under these keys too
        env = Env(server, tmp_path / aliases)
        tracks = small_ids(server)
        pid = env.run(tracks[:3]).playlist_id
        assert env.content(pid) == tracks[:3]
        again = env.run(tracks[:3])
        assert not again.written
    for name in ("playlists", "playlist_items", "tracks"):
        assert library.frames[name].reset_index(drop=True).equals(expected.frames[name].reset_index(drop=True)), name
    assert library.playlists["total"].notna().all()


def test_a_collaborative_playlist_of_another_owner_is_read_as_taste_and_never_written(tmp_path):
    data = json.loads((FIXTURES / "small_account.json").read_text(encoding="utf-8"))
    shared = {"id": "sharedPlaylist00000001", "name": "Shared", "owner": "friend", "collaborative": True,
              "items": sorted(data["tracks"])[:4]}
    data["playlists"].append(shared)
    with StandinServer(Account.from_dict(data)) as server:
        library = _pull(server, tmp_path / "cache")
        env = Env(server, tmp_path / "cache")
        env.run(small_ids(server)[4:9])
        writes = [w.path for w in env.writes()]
    row = library.playlists.set_index("playlist_id").loc["sharedPlaylist00000001"]
    assert bool(row["readable"]) and not bool(row["owned"]) and bool(row["collaborative"])
    items = library.playlist_items[library.playlist_items["playlist_id"] == "sharedPlaylist00000001"]
    assert list(items["track_id"]) == sorted(data["tracks"])[:4]
    assert writes and not [p for p in writes if "sharedPlaylist" in p]


# ----- removed endpoints, timeouts ----------------------------------------------------------
REMOVED = [r"^/v1/artists/?$", r"^/v1/tracks/?$", r"^/v1/albums/?$", r"^/v1/users/[^/]+/playlists",
           r"^/v1/playlists/[^/]+/(tracks|followers)", r"/related-artists$", r"/top-tracks$",
           r"^/v1/recommendations", r"^/v1/browse", r"^/v1/audio-analysis"]


def test_a_build_never_calls_an_endpoint_spotify_removed(standin, tmp_path):
    import re

    from recommender import jobs
    cache = tmp_path / "cache"
    save_login(standin, cache)
    result = jobs.build_playlist(settings_for(standin, cache))
    assert result.playlist_id
    paths = [r.path for r in standin.requests]
    assert not [p for p in paths if any(re.search(pattern, p) for pattern in REMOVED)], paths
    assert all(r.query.get("limit") in (None, *map(str, range(1, 51))) for r in standin.requests)


def test_a_token_endpoint_that_hangs_is_cut_by_the_timeout_and_retried(standin, tmp_path, monkeypatch):
    from recommender.spotify import auth
    from recommender.standins.spotify import Fault
    sleeps: list[float] = []
    monkeypatch.setattr(auth, "_sleep", sleeps.append)
    settings = settings_for(standin, tmp_path / "cache", **{"spotify.timeout": 2})
    save_login(standin, tmp_path / "cache")
    standin.expire_access_tokens()
    hang = standin.add_fault(Fault(method="POST", path=r"^/api/token$", delay=60, times=1))
    library, _ = refresh_library(gateway_for(settings), Store(settings.cache_dir), settings)
    assert len(library.tracks) > 0
    assert hang.hits == 1 and len(sleeps) == 1  # the hanging refresh was given up on once, then redone


@pytest.mark.parametrize("fallback", [0, 3])
def test_recordings_without_a_spotify_id_are_searched_within_the_per_run_limit(tmp_path, fallback):
    import re

    from recommender import jobs
    from recommender.config import load_settings
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path),
                                                    "discovery.search_fallback": fallback})
    with jobs.demo_environment(settings) as (demo, server):
        jobs.demo_login(demo)
        jobs.refresh(demo)
        searches = [r for r in server.requests if r.path == "/v1/search"]
    assert len(searches) == fallback  # the sample world leaves about one recording in five unmapped
    for r in searches:
        assert int(r.query["limit"]) <= 10 and r.query["type"] == "track"
        assert re.fullmatch(r'track:"[^"]+"( artist:"[^"]+")?', r.query["q"]), r.query["q"]


def test_more_than_a_page_of_playlists_and_followed_artists_is_read_through_offset_and_cursor_paging(tmp_path):
    data = json.loads((FIXTURES / "small_account.json").read_text(encoding="utf-8"))
    some = sorted(data["tracks"])[:2]
    for i in range(123):
        data["artists"][base62_id(f"followed:{i}")] = {"name": f"Followed {i:03d}"}
        data["playlists"].append({"id": base62_id(f"pl:{i}"), "name": f"List {i}", "items": some})
    data["followed_artists"] = [base62_id(f"followed:{i}") for i in range(123)]
    with StandinServer(Account.from_dict(data)) as server:
        library = _pull(server, tmp_path / "cache")
        following = [r for r in server.requests if r.path == "/v1/me/following"]
    assert len(library.followed_artists) == 123 and library.followed_artists["artist_id"].is_unique
    assert len(library.playlists) == len(data["playlists"]) == 127
    assert len(following) == 3 and sum("after" in r.query for r in following) == 2  # cursors, not offsets


# ----- the login itself: PKCE over the loopback redirect ------------------------------------
def _browser(tamper=None):
    """A user's browser: open the authorize URL, accept, follow the redirect to our callback."""
    def open_url(url: str) -> None:
        answer = requests.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        location = answer.headers["Location"]
        requests.get(tamper(location) if tamper else location, timeout=10)
    return open_url


@pytest.mark.parametrize("secret", [None, "s3cret"])
def test_recommend_auth_logs_in_with_pkce_or_a_secret_over_the_loopback_redirect(tmp_path, secret):
    import os
    import stat

    from recommender.spotify import auth
    with StandinServer(Account.from_file(FIXTURES / "small_account.json"), client_id="test-client",
                       client_secret=secret) as server:
        extra = {"spotify.redirect_uri": f"http://127.0.0.1:{free_port()}/callback"}
        if secret:
            extra["spotify.client_secret"] = secret
        settings = settings_for(server, tmp_path / "cache", **extra)
        token = auth.login(settings, open_url=_browser(), timeout=10)
        asked = next(r for r in server.requests if r.path == "/authorize").query
        library = _pull(server, tmp_path / "other")  # (a second cache: the login above stays untouched)
    assert asked["redirect_uri"].startswith("http://127.0.0.1:") and asked["state"]
    assert ("code_challenge" in asked and asked["code_challenge_method"] == "S256") == (secret is None)
    assert set(asked["scope"].split()) == set(auth.scopes().split())
    path = tmp_path / "cache" / "spotify-token.json"
    saved = json.loads(path.read_text())
    assert saved["refresh_token"] == token["refresh_token"] and saved["token_type"] == "Bearer"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert secret is None or secret not in path.read_text()
    assert len(library.tracks) > 0


def test_a_login_answer_for_another_attempt_is_refused_and_saves_nothing(tmp_path):
    from recommender.spotify import auth
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        settings = settings_for(server, tmp_path / "cache",
                                **{"spotify.redirect_uri": f"http://127.0.0.1:{free_port()}/callback"})
        forged = _browser(lambda loc: re.sub(r"state=[^&]+", "state=forged", loc))
        with pytest.raises(AuthError, match="state mismatch"):
            auth.login(settings, open_url=forged, timeout=5)  # (it waits for its own answer; 5 s: a busy machine)
    assert not (tmp_path / "cache" / "spotify-token.json").exists()


def test_the_callback_opened_by_hand_is_not_called_an_earlier_logins_answer(tmp_path):
    """The redirect URI opened in a browser by hand (copied from README or the app's settings)
    while `recommend auth` waits: its page said "this is the answer to an earlier login", which it
    is not. It now says to open the login URL; the login goes on waiting for its own answer."""
    from recommender.spotify import auth
    port = free_port()
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        settings = settings_for(server, tmp_path / "cache", **{"spotify.redirect_uri": f"http://127.0.0.1:{port}/callback"})
        login = _browser()
        pages = []

        def browser(url: str) -> None:
            pages.append(requests.get(f"http://127.0.0.1:{port}/callback", timeout=10))
            login(url)
        token = auth.login(settings, open_url=browser, timeout=10)
    assert token["access_token"]
    assert pages[0].status_code == 400 and "earlier login" not in pages[0].text
    assert "open the login URL" in pages[0].text


def test_an_earlier_logins_answer_does_not_end_the_login_waiting_now(tmp_path):
    """A tab of an earlier `recommend auth` reloaded (or any page's request with ?code, ?error or
    ?state, on any path) was taken for the answer: the login waiting now ended at once with
    "state mismatch". Now only its own redirect (its path, its state) ends it; the others are
    answered 400 (404 off the redirect's path) and it keeps waiting."""
    from recommender.spotify import auth
    port = free_port()
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        settings = settings_for(server, tmp_path / "cache", **{"spotify.redirect_uri": f"http://127.0.0.1:{port}/callback"})
        login = _browser()

        def browser(url: str) -> None:
            stale = requests.get(f"http://127.0.0.1:{port}/callback?code=old&state=earlier", timeout=10)
            assert stale.status_code == 400 and "earlier login" in stale.text
            assert requests.get(f"http://127.0.0.1:{port}/callback?error=access_denied", timeout=10).status_code == 400
            state = re.search(r"state=([^&]+)", url).group(1)
            assert requests.get(f"http://127.0.0.1:{port}/other?code=x&state={state}", timeout=10).status_code == 404
            login(url)
        token = auth.login(settings, open_url=browser, timeout=10)
    assert token["access_token"] and (tmp_path / "cache" / "spotify-token.json").exists()


def test_a_refusal_on_spotifys_page_ends_the_login_with_its_reason(tmp_path):
    from recommender.spotify import auth
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        settings = settings_for(server, tmp_path / "cache",
                                **{"spotify.redirect_uri": f"http://127.0.0.1:{free_port()}/callback"})
        denied = _browser(lambda loc: re.sub(r"code=[^&]*", "error=access_denied", loc))
        with pytest.raises(AuthError) as err:  # what Cancel means, and what to do
            auth.login(settings, open_url=denied, timeout=10)
        assert str(err.value) == ("Spotify login was refused (access_denied: Cancel was chosen on Spotify's page); "
                                  "nothing was saved (a login saved before still works): run `recommend auth` "
                                  "again and choose Agree")
    assert not (tmp_path / "cache" / "spotify-token.json").exists()


@pytest.mark.parametrize("uri", ["https://127.0.0.1:8888/callback", "http://10.1.2.3:8888/callback"])
def test_a_redirect_uri_the_login_cannot_take_names_where_it_was_set(tmp_path, uri):
    """"spotify.redirect_uri must be ...": a config file with the right address and a shell
    exporting a wrong one could not tell which was read (localhost's error named it)."""
    from recommender.config import load_settings
    from recommender.errors import ConfigError
    from recommender.spotify import auth
    settings = load_settings(environ={"SPOTIPY_REDIRECT_URI": uri, "SPOTIPY_CLIENT_ID": "0123abcd",
                                      "RECOMMENDER_CACHE_DIR": str(tmp_path)})
    with pytest.raises(ConfigError) as err:
        auth.login(settings, open_url=lambda url: None, timeout=1)
    assert str(err.value).startswith("environment SPOTIPY_REDIRECT_URI: spotify.redirect_uri must be http://127.0.0.1")


def test_an_answer_with_neither_a_code_nor_an_error_is_not_called_a_refusal(tmp_path):
    """The redirect cut to its state alone: the page said "Login failed: ?" and the terminal
    "Spotify login was refused (unknown error)", where nothing was refused."""
    from recommender.spotify import auth
    pages = []

    def cut(loc: str) -> str:
        return re.sub(r"code=[^&]*&?", "", loc)
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        settings = settings_for(server, tmp_path / "cache",
                                **{"spotify.redirect_uri": f"http://127.0.0.1:{free_port()}/callback"})

        def browser(url: str) -> None:
            location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
            pages.append(requests.get(cut(location), timeout=10))
        with pytest.raises(AuthError) as err:
            auth.login(settings, open_url=browser, timeout=10)
    assert str(err.value).startswith("the login's answer came back with neither a code nor an error from Spotify")
    assert "refused" not in str(err.value)
    assert pages[0].status_code == 400 and "neither a code nor an error" in pages[0].text and "?<" not in pages[0].text
    assert not (tmp_path / "cache" / "spotify-token.json").exists()


def test_the_page_of_a_refusal_is_written_before_the_login_ends(tmp_path, monkeypatch):
    """A refusal on Spotify's page ("Login failed: access_denied" in the callback tab): the login
    ended as soon as it was taken, without waiting for its page, and `recommend auth` exited,
    so a page its thread had not written yet never came (the tab showed a reset connection).
    Here that thread is slow to write: the login now waits for it before closing."""
    import threading

    from recommender.spotify import auth
    go, closing, written = threading.Event(), threading.Event(), []
    page, shutdown, init = auth._CallbackHandler._page, auth._CallbackServer.shutdown, auth._CallbackServer.__init__

    class Awaited(threading.Event):
        def wait(self, timeout=None):
            go.set()  # the login waits for the page
            return super().wait(timeout)

    def late_page(self, status: int, text: str) -> None:  # written only once the login waits for it, or closes
        go.wait(10)
        written.append((closing.is_set(), text))
        page(self, status, text)

    def closed(self) -> None:
        closing.set()
        go.set()
        shutdown(self)

    def made(self, *args, **kwargs) -> None:
        init(self, *args, **kwargs)
        self.page_sent = Awaited()
    monkeypatch.setattr(auth._CallbackHandler, "_page", late_page)
    monkeypatch.setattr(auth._CallbackServer, "shutdown", closed)
    monkeypatch.setattr(auth._CallbackServer, "__init__", made)
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        settings = settings_for(server, tmp_path / "cache",
                                **{"spotify.redirect_uri": f"http://127.0.0.1:{free_port()}/callback"})
        tab = []

        def browser(url: str) -> None:  # a browser of its own, as webbrowser.open starts: it returns at once
            tab.append(threading.Thread(target=_browser(lambda loc: re.sub(r"code=[^&]*", "error=access_denied", loc)),
                                        args=(url,)))
            tab[0].start()
        with pytest.raises(AuthError, match=r"^Spotify login was refused \(access_denied: Cancel was chosen "):
            auth.login(settings, open_url=browser, timeout=10)
        tab[0].join()
    assert written == [(False, "Login failed: access_denied")]  # before the login closed its server


def _login_past(tmp_path, others) -> dict:
    """A login whose browser first does ``others(port, held)`` at the callback's port
    (connections put in ``held`` stay open until the login has ended), then the redirect."""
    import socket

    from recommender.spotify import auth
    port = free_port()
    held: list[socket.socket] = []
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        settings = settings_for(server, tmp_path / "cache", **{"spotify.redirect_uri": f"http://127.0.0.1:{port}/callback"})
        login = _browser()

        def browser(url: str) -> None:
            others(port, held)
            login(url)
        try:
            return auth.login(settings, open_url=browser, timeout=10)
        finally:
            for connection in held:
                connection.close()


def test_a_browsers_other_requests_to_the_callback_do_not_end_the_login(tmp_path):
    """A browser opens connections it may never use (Chrome's preconnect) and asks for
    /favicon.ico. The callback served one request and stopped: a connection before the redirect
    ended `recommend auth` at once with "no answer from the Spotify login page within 300 s"
    (and a stray GET was taken for the answer: "state mismatch"). Now it waits for the redirect."""
    import socket

    def others(port: int, held: list) -> None:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # a preconnect, unused
        assert requests.get(f"http://127.0.0.1:{port}/favicon.ico", timeout=10).status_code == 404
        held.append(socket.create_connection(("127.0.0.1", port), timeout=5))  # idle, open till the end
    token = _login_past(tmp_path, others)
    assert token["access_token"] and (tmp_path / "cache" / "spotify-token.json").exists()


def test_connections_left_idle_or_half_sent_do_not_hold_up_the_redirect(tmp_path, monkeypatch):
    """The callback served one connection at a time: a browser's preconnect left idle (Chrome
    keeps one open, sending nothing), or another program's half request line, held Spotify's
    redirect behind it, 5 s each, and one sending a byte now and then for the whole login ("no
    answer from the Spotify login page within 300 s", the browser's tab spinning). Each
    connection is served on its own now: the redirect is answered while they stay open (here
    kept open longer than the login waits) and ends the login; garbage is answered 400."""
    import socket

    from recommender.spotify import auth
    monkeypatch.setattr(auth._CallbackHandler, "timeout", 60)  # longer than the login waits

    def others(port: int, held: list) -> None:
        held.append(socket.create_connection(("127.0.0.1", port), timeout=10))  # a preconnect, idle
        held.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        held[-1].sendall(b"GET /callb")  # half a request line
        with socket.create_connection(("127.0.0.1", port), timeout=10) as scanner:
            scanner.sendall(b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
            assert b"Bad request" in scanner.makefile("rb").read()
    token = _login_past(tmp_path, others)
    assert token["access_token"] and (tmp_path / "cache" / "spotify-token.json").exists()


def test_no_connection_or_thread_of_the_login_outlives_it(tmp_path, monkeypatch):
    """Connections the browser left open (a preconnect idle, a request sent half) were still held,
    each by a thread of the callback, after the login had returned, until the callback's
    5 s idle timeout: in the process that logged in (`recommend web --demo`, a test) threads and
    sockets outlived the login. The login now ends them when it closes its callback."""
    import socket
    import threading

    from recommender.spotify import auth
    monkeypatch.setattr(auth._CallbackHandler, "timeout", 60)  # longer than the login waits
    port = free_port()
    held: list[socket.socket] = []
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        settings = settings_for(server, tmp_path / "cache", **{"spotify.redirect_uri": f"http://127.0.0.1:{port}/callback"})

        def browser(url: str) -> None:
            held.append(socket.create_connection(("127.0.0.1", port), timeout=5))  # a preconnect, idle
            held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            held[-1].sendall(b"GET /callb")  # half a request line
            _browser()(url)
        try:
            assert auth.login(settings, open_url=browser, timeout=10)["access_token"]
            assert [connection.recv(1) for connection in held] == [b"", b""]  # closed by the login
        finally:
            for connection in held:
                connection.close()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("login ")]


def test_a_second_answer_after_the_first_keeps_the_first_and_says_so(tmp_path):
    """A reloaded callback tab, or a second tab with this login's state, after Spotify's
    redirect: it waited unanswered (the callback had stopped serving) until the login closed
    it. It is answered now, and the login keeps the first answer, its code."""
    from recommender.spotify import auth
    port = free_port()
    pages = []
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        settings = settings_for(server, tmp_path / "cache", **{"spotify.redirect_uri": f"http://127.0.0.1:{port}/callback"})

        def browser(url: str) -> None:
            location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
            pages.append(requests.get(location, timeout=10))
            state = re.search(r"state=([^&]+)", url).group(1)
            pages.append(requests.get(location, timeout=5))  # reloaded
            pages.append(requests.get(f"http://127.0.0.1:{port}/callback?error=access_denied&state={state}", timeout=5))
        token = auth.login(settings, open_url=browser, timeout=10)
    assert token["access_token"] and (tmp_path / "cache" / "spotify-token.json").exists()
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert all("already has its answer from Spotify" in p.text for p in pages[1:]), [p.text for p in pages]


def test_a_connection_reset_mid_request_prints_no_traceback(tmp_path, capfd):
    # a tab closed while its request was on its way: socketserver printed a Python traceback on
    # stderr in the middle of `recommend auth`; now it is a DEBUG line, and the login goes on
    import socket
    import struct

    from recommender.spotify import auth
    for host in ("127.0.0.1", "::1"):
        port = free_port()
        where = f"[{host}]" if ":" in host else host
        with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
            settings = settings_for(server, tmp_path / "cache",
                                    **{"spotify.redirect_uri": f"http://{where}:{port}/callback"})

            def browser(url: str) -> None:
                with socket.create_connection((host, port), timeout=5) as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
                    s.send(b"GET /callback?code=")
                _browser()(url)
            token = auth.login(settings, open_url=browser, timeout=10)
        assert token["access_token"]
    assert "Traceback" not in capfd.readouterr().err


def test_a_login_whose_redirect_never_comes_says_where_the_browser_must_be(tmp_path):
    """`recommend auth --no-browser` is there to open the URL elsewhere, but Spotify sends the
    browser back to the loopback address of the machine the browser runs on: from a laptop, for
    a tool on a server, the redirect never came, and the timeout said only to register the
    redirect URI (already registered). It now says the browser must run on this machine, or
    reach it through a forwarded port, and how."""
    from recommender.spotify import auth
    port = free_port()
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        settings = settings_for(server, tmp_path / "cache", **{"spotify.redirect_uri": f"http://127.0.0.1:{port}/callback"})

        def elsewhere(url: str) -> None:  # approved on Spotify's page; the redirect goes to another machine
            assert requests.get(url, allow_redirects=False, timeout=10).status_code == 302
        with pytest.raises(AuthError) as err:
            auth.login(settings, open_url=elsewhere, timeout=0.01)
    said = str(err.value)
    assert said.startswith("no answer from the Spotify login page within 0 s: log in on that page in a browser on "
                           f"this machine, which it sends back to http://127.0.0.1:{port}/callback")
    assert f"ssh -L {port}:127.0.0.1:{port} to this machine" in said and said.endswith("run `recommend auth` again")


@pytest.mark.parametrize("secret, page", [
    ("s3cret", "recommend: Logged in: you can close this tab."),
    ("rotated", "recommend: Login failed: Spotify does not accept this app&#x27;s credentials (invalid_client: Invalid "
                "client secret): check spotify.client_secret"),
])
def test_the_callback_page_says_how_the_login_ended(tmp_path, secret, page):
    """The callback page said "Logged in: you can close this tab." as soon as Spotify's redirect
    came, before its code was exchanged: when the exchange was refused (a secret rotated in the
    dashboard, an outage), the browser said logged in while the terminal said it was not. The
    page now waits for the exchange and says its outcome, the terminal's words."""
    from recommender.errors import AppAccessRefused
    from recommender.spotify import auth
    pages = []
    with StandinServer(Account.from_file(FIXTURES / "small_account.json"), client_secret="s3cret") as server:
        settings = settings_for(server, tmp_path / "cache", **{"spotify.client_secret": secret,
                                "spotify.redirect_uri": f"http://127.0.0.1:{free_port()}/callback"})

        def browser(url: str) -> None:
            location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
            pages.append(requests.get(location, timeout=10).text)
        if secret == "s3cret":
            assert auth.login(settings, open_url=browser, timeout=10)["access_token"]
        else:
            with pytest.raises(AppAccessRefused):
                auth.login(settings, open_url=browser, timeout=10)
    assert len(pages) == 1 and page in pages[0]


def test_a_browser_that_gives_up_on_the_page_after_the_redirect_does_not_undo_the_login(tmp_path):
    """The callback page waits for the code's exchange; the demo's browser (an HTTP client with a
    10 s timeout) gave up on it while a slow exchange went on, and the login, which then saved
    its token, ended in that browser's ReadTimeout: `recommend build-playlist --demo` said
    "unexpected error". An error of the browser counts only when no answer came."""
    import threading

    from recommender.spotify import auth
    from recommender.standins.spotify import Fault
    gave_up = threading.Event()
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        # the exchange is answered once the browser has given up on the page
        server.add_fault(Fault(method="POST", path=r"^/api/token$", before=lambda account: gave_up.wait(10)))
        settings = settings_for(server, tmp_path / "cache",
                                **{"spotify.redirect_uri": f"http://127.0.0.1:{free_port()}/callback"})

        def browser(url: str) -> None:  # as jobs.demo_login's, giving up on the callback page soon
            try:
                consent = requests.get(url, timeout=30, allow_redirects=False)  # a busy machine's time
                requests.get(consent.headers["Location"], timeout=(10, 0.2))
            finally:
                gave_up.set()
        token = auth.login(settings, open_url=browser, timeout=10)
    assert gave_up.is_set() and token["access_token"]
    assert json.loads((tmp_path / "cache" / "spotify-token.json").read_text())["access_token"] == token["access_token"]


def test_a_browser_that_fails_before_the_redirect_ends_the_login_with_its_error_and_frees_the_port(tmp_path):
    # the demo's browser (an HTTP client) meeting a stand-in that is gone, in the browser's thread
    import socket

    from recommender.spotify import auth
    port = free_port()
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        settings = settings_for(server, tmp_path / "cache", **{"spotify.redirect_uri": f"http://127.0.0.1:{port}/callback"})

        def gone(url: str) -> None:
            raise requests.ConnectionError("the stand-in is gone")
        with pytest.raises(requests.ConnectionError, match="the stand-in is gone"):
            auth.login(settings, open_url=gone, timeout=10)
    with socket.socket() as again:  # the next `recommend auth` listens there
        again.bind(("127.0.0.1", port))


@pytest.mark.parametrize("fault, said", [
    (dict(status=503, times=None), r"^the Spotify accounts service at \S+ \(spotify.accounts_url, from [^)]+\) "
                                   r"answered 503 to the login code: nothing was saved"),
    (dict(status=None, delay=3.0), r"^cannot reach the Spotify accounts service at .* to finish the login \(no answer "
                                   r"within 0.5 s\): nothing was saved"),
])
def test_an_accounts_outage_while_the_code_is_exchanged_is_said_as_one(tmp_path, fault, said):
    """Spotify's redirect came, and the accounts service then failed to exchange its code: a 5xx
    was said as "Spotify refused the login code (None)" (exit 3, as if the login were refused),
    and no answer (a timeout, a connection refused) ended `recommend auth` in a Python
    traceback. Both are an outage now (exit 5), saying to run `recommend auth` again."""
    from recommender.errors import SpotifyUnavailable
    from recommender.spotify import auth
    from recommender.standins.spotify import Fault
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        server.add_fault(Fault(method="POST", path=r"^/api/token$", **fault))
        settings = settings_for(server, tmp_path / "cache", **{"spotify.timeout": 0.5,
                                "spotify.redirect_uri": f"http://127.0.0.1:{free_port()}/callback"})
        with pytest.raises(SpotifyUnavailable, match=said) as err:
            auth.login(settings, open_url=_browser(), timeout=10)
    assert str(err.value).endswith("; run `recommend auth` again in a moment")
    assert not (tmp_path / "cache" / "spotify-token.json").exists()


def test_the_demos_login_listens_on_a_port_it_holds_from_the_start(tmp_path):
    # the demo chose a free port, let it go, and bound it at the login: another program (a
    # parallel test's stand-in) could take it in between, and the demo failed now and then
    import socket

    from recommender.spotify import auth
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server, socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        settings = settings_for(server, tmp_path / "cache", **{"spotify.redirect_uri": f"http://127.0.0.1:{taken}/callback"})
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{taken}") as err:
            auth.login(settings, open_url=_browser(), timeout=10)  # a real login: the registered port only
        # what holds it and the two ways out (it said only "Address already in use")
        assert "another program holds that port" in str(err.value) and "set spotify.redirect_uri" in str(err.value)
        token = auth.login(settings, open_url=_browser(), timeout=10, any_port=True)
        asked = next(r for r in server.requests if r.path == "/authorize").query
    port = int(asked["redirect_uri"].split(":")[2].split("/")[0])
    assert port != taken and asked["redirect_uri"] == f"http://127.0.0.1:{port}/callback"
    assert token["refresh_token"]  # the code was exchanged with that same redirect (the stand-in checks)


# ----- a track Spotify removed from its catalogue -------------------------------------------
def test_a_track_gone_from_the_catalogue_is_left_out_of_the_write_and_said_so(env):
    tracks = small_ids(env.server)
    pid = env.run(tracks[:5]).playlist_id
    gone, never = tracks[2], tracks[7]
    env.server.remove_track(gone)   # its entry in the managed playlist turns null
    env.server.remove_track(never)  # still in our cache (unchanged snapshots, cached discovery)
    result = env.run(tracks[:5] + [never, tracks[8]])
    assert result.written
    assert env.content(pid) == [t for t in tracks[:5] if t != gone] + [tracks[8]]
    assert env.managed()["pending"] is None and env.managed()["last_written"] == env.content(pid)
    note = [m for m in result.messages if "no longer has" in m]
    assert len(note) == 1 and "2 tracks" in note[0]
    # every run finds it again (one refused write, then a look-up per new track), never stuck
    before = env.content(pid)
    again = env.run(tracks[:5] + [never, tracks[8]])
    assert env.content(pid) == before and any("no longer has" in m for m in again.messages)
    assert env.managed()["pending"] is None


def test_the_gone_tracks_note_names_three_and_says_when_there_are_more(env):
    tracks = small_ids(env.server)
    env.run(tracks[:5])
    for t in tracks[6:9] + tracks[10:14]:
        env.server.remove_track(t)
    three = [m for m in env.run(tracks[:5] + tracks[6:10]).messages if "no longer has" in m]
    assert three == [f"left out 3 tracks Spotify no longer has ({', '.join(tracks[6:9])})"]
    four = [m for m in env.run(tracks[:5] + tracks[10:15]).messages if "no longer has" in m]
    assert four == [f"left out 4 tracks Spotify no longer has ({', '.join(tracks[10:13])}, ...)"]


def test_a_gone_track_after_the_first_100_is_reported_against_the_playlist_before_the_run(tmp_path):
    """Over 100 tracks the first write (a replace of 100) goes through and the add of the rest
    is refused for a gone track: the retry starts from that half-written list. What the run
    says must still compare with the playlist as it was (not with the half list), and the
    user's episode, dropped by the first write, must still be named."""
    with StandinServer(bulk_account()) as server:
        env = Env(server, tmp_path / "cache")
        tracks = small_ids(server)
        pid = env.run(tracks[:100]).playlist_id
        _edit(server, pid, lambda pl: pl["items"].append(_entry("episode", id="smallEpisode0000000001")))
        gone = tracks[160]
        server.remove_track(gone)
        result = env.run(tracks[50:200])
        want = [t for t in tracks[50:200] if t != gone]
        assert result.written and env.content(pid) == want
        assert [it["kind"] for it in server.account.playlist(pid)["items"]].count("episode") == 0
        assert (len(result.plan.added), len(result.plan.removed), len(result.plan.kept)) == (99, 50, 50)
        assert any("no longer has" in m and gone in m for m in result.messages)
        note = [m for m in result.messages if "episode" in m]
        assert len(note) == 1 and "1 episode" in note[0]
        assert env.managed()["pending"] is None and env.managed()["last_written"] == want


def test_a_quota_stop_while_looking_for_gone_tracks_still_says_what_the_playlist_holds(tmp_path):
    """The look-ups after a refused write can meet the daily quota: the run stops with the
    quota's exit (RateLimited), and its one line still says the playlist holds only its first
    100 new tracks (the first write went through), not just "quota exceeded"."""
    from recommender.errors import RateLimited
    from recommender.standins.spotify import Fault
    with StandinServer(bulk_account()) as server:
        env = Env(server, tmp_path / "cache")
        tracks = small_ids(server)
        env.run(tracks[:100])
        server.remove_track(tracks[160])
        server.add_fault(Fault("GET", r"/v1/tracks/", status=429, reason="QUOTA_EXCEEDED", times=None))
        with pytest.raises(RateLimited) as err:
            env.run(tracks[50:200])
        said = str(err.value)
        assert "holds only the first 100 of its 150 new tracks" in said, said
        assert env.managed()["pending"] is not None  # the next run finishes the write


# ----- names with right-to-left marks and controls, in the listing of playlists ----------------
MARKS = "\u200f\u200e\u061c\u2067"  # RLM, LRM, ALM, RLI: reorder what follows on a terminal
RAW_MARKS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


def test_playlist_names_with_bidi_marks_and_escapes_are_listed_literally(tmp_path):
    from typer.testing import CliRunner

    from recommender.cli import app
    data = json.loads((FIXTURES / "small_account.json").read_text(encoding="utf-8"))
    hostile = f"Evening {MARKS}liahC\x1b[2J\x07"
    data["playlists"][0]["name"] = hostile
    with StandinServer(Account.from_dict(data)) as server:
        cache = tmp_path / "cache"
        save_login(server, cache)
        env = {"RECOMMENDER_SPOTIFY_API_URL": server.api_url, "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": server.accounts_url,
               "SPOTIPY_CLIENT_ID": "test-client", "RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_SECRET": "",
               "COLUMNS": "400"}
        runner = CliRunner()
        assert runner.invoke(app, ["refresh", "--quiet"], env=env).exit_code == 0
        shown = runner.invoke(app, ["playlists"], env=env)
        listed = runner.invoke(app, ["playlists", "--json"], env=env)
    assert shown.exit_code == 0 and listed.exit_code == 0, shown.stderr + listed.stderr
    assert not RAW_MARKS.search(shown.stdout) and "\\u200f" in shown.stdout and "\\x1b[2J" in shown.stdout
    assert not RAW_MARKS.search(listed.stdout)  # escaped in the JSON text, the name itself intact
    assert hostile in [p["name"] for p in json.loads(listed.stdout)]


@pytest.mark.parametrize("status, raised, said", [
    (500, "SpotifyUnavailable", r"^the Spotify accounts service at \S+ \(spotify.accounts_url, from [^)]+\) answered 500 "
                                r"to the login code: nothing was saved"),
    (429, "RateLimited", r"^the Spotify accounts service at \S+ \(spotify.accounts_url, from [^)]+\) answered 429 "
                         r"to the login code \(rate-limited\): nothing was saved"),
])
def test_a_500_or_a_429_from_the_code_exchange_is_an_outage_not_a_refusal(tmp_path, status, raised, said):
    """Every 5xx answer to the code's exchange, 500 too, is an outage (exit 5), and a 429 a rate
    limit (exit 4): neither is "Spotify refused the login code" (exit 3, as if refused)."""
    from recommender import errors
    from recommender.spotify import auth
    from recommender.standins.spotify import Fault
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        server.add_fault(Fault(method="POST", path=r"^/api/token$", status=status, times=None))
        settings = settings_for(server, tmp_path / "cache", **{"spotify.timeout": 0.5,
                                "spotify.redirect_uri": f"http://127.0.0.1:{free_port()}/callback"})
        with pytest.raises(getattr(errors, raised), match=said) as err:
            auth.login(settings, open_url=_browser(), timeout=10)
    assert err.value.exit_code == (5 if status == 500 else 4)
    assert not (tmp_path / "cache" / "spotify-token.json").exists()


def test_a_refused_code_exchange_without_an_oauth_error_code_names_its_status(tmp_path):
    # a 4xx without an OAuth error code was said "Spotify refused the login code (None)"
    from recommender.spotify import auth
    from recommender.standins.spotify import Fault
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        server.add_fault(Fault(method="POST", path=r"^/api/token$", status=400, times=None))
        settings = settings_for(server, tmp_path / "cache", **{"spotify.timeout": 0.5,
                                "spotify.redirect_uri": f"http://127.0.0.1:{free_port()}/callback"})
        with pytest.raises(AuthError, match=r"^Spotify refused the login code \(HTTP 400\); nothing was saved: "
                                            r"run `recommend auth` again$"):
            auth.login(settings, open_url=_browser(), timeout=10)


def test_the_callback_page_that_gave_up_waiting_reads_no_ending_written_after(monkeypatch):
    """The page of the answer that brought the code waits for the login's ending; when that
    wait gives up it says "Spotify approved the login" (status 400, as no ending is known). Its
    status was read from ``logged_in`` after the wait, without the ending's event: a login
    ending in that moment (another thread) made the page a 200 that its text did not say.
    Here the ending is written just as the wait gives up."""
    import threading

    import requests

    from recommender.spotify import auth
    server = auth._CallbackServer(("127.0.0.1", 0), "/callback", "s1")

    class GaveUp:  # the wait returns False; the login's thread ends it in that moment
        def wait(self, timeout=None):
            server.ending, server.logged_in = "Logged in: you can close this tab.", True
            return False

        def set(self):
            pass
    server.ended = GaveUp()
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    serving.start()
    try:
        page = requests.get(f"http://127.0.0.1:{server.server_port}/callback?state=s1&code=c", timeout=10)
    finally:
        server.shutdown()
        serving.join()
        server.server_close()
    assert "Spotify approved the login" in page.text
    assert page.status_code == 400


@pytest.mark.parametrize("uri,error,said", [
    ("http://127.0.0.1:80/callback", 13, "ports below 1024"),  # EACCES: not root
    ("http://[::1]:8888/callback", 99, "no IPv6 loopback"),  # EADDRNOTAVAIL: IPv6 off (a container's default)
])
def test_a_redirect_port_that_cannot_be_listened_on_for_another_reason_is_not_said_to_be_held(tmp_path, monkeypatch,
                                                                                             uri, error, said):
    """"cannot listen on 127.0.0.1:80 (Permission denied): another program holds that port ...
    stop it": no program held it, and the person looked for one. Only a port in use is said to
    be held; a port below 1024 or an address this machine does not have says so."""
    import os

    from recommender.spotify import auth

    def refuse(self) -> None:
        raise OSError(error, os.strerror(error))
    monkeypatch.setattr(auth._CallbackServer, "server_bind", refuse)
    with StandinServer(Account.from_file(FIXTURES / "small_account.json")) as server:
        settings = settings_for(server, tmp_path / "cache", **{"spotify.redirect_uri": uri})
        with pytest.raises(ConfigError) as err:
            auth.login(settings, open_url=_browser(), timeout=10)
    assert "another program holds that port" not in str(err.value)
    assert said in str(err.value) and "set spotify.redirect_uri" in str(err.value)
