"""The data layer against the stand-in over real HTTP: pull, incremental refresh, faults."""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager

import pandas as pd
import pytest

from recommender import schema
from recommender.errors import AuthError, RateLimited, SpotifyUnavailable
from recommender.standins.spotify import Fault, StandinServer
from recommender.spotify.sync import refresh_library
from recommender.store import Store

from spotify_helpers import api_requests, gateway_for, save_login, settings_for


@pytest.fixture
def env(standin, tmp_path):
    settings = settings_for(standin, tmp_path / "cache")
    save_login(standin, tmp_path / "cache")
    sleeps: list[float] = []
    return standin, settings, gateway_for(settings, sleeps), Store(settings.cache_dir), sleeps


def saved_login(store: Store) -> tuple:
    """The login file of ``store``'s cache and the token it holds."""
    path = store.dir / "spotify-token.json"
    return path, json.loads(path.read_text())


def test_full_pull_fills_every_frame(env):
    server, settings, gateway, store, _ = env
    library, report = refresh_library(gateway, store, settings)
    acct = server.account
    owned = [p for p in acct.playlists if p["owner"] == acct.user["id"] and p["followed"]]
    assert report.user_id == acct.user["id"]
    assert report.playlists == len([p for p in acct.playlists if p["followed"]])
    assert report.playlists_fetched == len(owned)
    # every real track of every owned playlist is there; episodes, local files and nulls are not
    for p in owned:
        expected = [t for t in server.playlist_track_ids(p["id"]) if t in acct.tracks]
        assert library.playlist_tracks(p["id"]) == list(dict.fromkeys(expected))
    assert set(library.top_tracks["time_range"]) == set(schema.TIME_RANGES)
    first = library.top_tracks[library.top_tracks["time_range"] == "short_term"].sort_values("rank")
    assert list(first["track_id"]) == acct.top_tracks["short_term"]
    assert set(library.saved_tracks["track_id"]) == {s["id"] for s in acct.saved_tracks}
    assert set(library.followed_artists["artist_id"]) == set(acct.followed_artists)
    # restricted API: no popularity, no genres
    assert library.tracks["popularity"].isna().all()
    assert all(g == [] for g in library.artists["genres"])
    # isrc is read when present
    assert library.tracks["isrc"].notna().any()
    # everything is on disk and loads back
    again = store.load_library()
    assert again is not None and len(again.tracks) == len(library.tracks)
    assert store.read_manifest()["user_id"] == acct.user["id"]


def test_followed_playlist_of_another_owner_is_skipped_not_fatal(env):
    server, settings, gateway, store, _ = env
    library, report = refresh_library(gateway, store, settings)
    foreign = [p for p in server.account.playlists if p["owner"] != server.account.user["id"] and p["followed"]]
    assert foreign, "fixture needs a followed playlist of another owner"
    assert sorted(report.playlists_forbidden) == sorted(p["name"] for p in foreign)
    pl = library.playlists.set_index("playlist_id")
    assert not pl.loc[foreign[0]["id"], "readable"]
    assert library.playlist_tracks(foreign[0]["id"]) == []


def test_second_refresh_makes_only_listing_requests(env):
    server, settings, gateway, store, _ = env
    refresh_library(gateway, store, settings)
    server.clear_requests()
    library, report = refresh_library(gateway, store, settings)
    paths = [r.path for r in api_requests(server)]
    assert not [p for p in paths if p.startswith("/v1/playlists/")], paths
    assert not [p for p in paths if p.startswith("/v1/albums/") or p.startswith("/v1/artists/")], paths
    assert report.playlists_fetched == 0
    assert report.playlists_unchanged + len(report.playlists_forbidden) == report.playlists
    # counted as on the pull that found them: another owner's playlist not readable, yours unchanged
    foreign = [p["name"] for p in server.account.playlists if p["owner"] != server.account.user["id"] and p["followed"]]
    assert foreign and sorted(report.playlists_forbidden) == sorted(foreign)
    assert len(library.playlist_items) > 0


def test_changed_snapshot_refetches_only_that_playlist(env):
    server, settings, gateway, store, _ = env
    refresh_library(gateway, store, settings)
    owned = next(p for p in server.account.playlists if p["owner"] == server.account.user["id"])
    # change it through the API, as another client would
    gateway.add_items(owned["id"], [f"spotify:track:{next(iter(server.account.tracks))}"])
    server.clear_requests()
    library, report = refresh_library(gateway, store, settings)
    item_paths = {r.path for r in api_requests(server) if r.path.startswith("/v1/playlists/")}
    assert item_paths == {f"/v1/playlists/{owned['id']}/items"}
    assert report.playlists_fetched == 1


def test_cold_pull_requests_no_more_than_pages(standin, tmp_path):
    settings = settings_for(standin, tmp_path / "c", **{"refresh.discovery_artists": 0})
    save_login(standin, tmp_path / "c")
    standin.clear_requests()
    refresh_library(gateway_for(settings), Store(settings.cache_dir), settings)
    reqs = api_requests(standin)
    keys = [(r.path, tuple(sorted(r.query.items()))) for r in reqs]
    assert len(keys) == len(set(keys)), "some page was requested twice"


def test_item_key_and_track_alias_both_parse():
    from recommender.spotify import parse
    track = {"id": "t1", "type": "track", "name": "A", "artists": [{"id": "a1", "name": "X"}],
             "album": {"id": "al", "name": "Al", "release_date": "2001"}, "duration_ms": 1000}
    episode = {"id": "e1", "type": "episode", "name": "Pod"}
    assert parse.entry_track({"item": track})["id"] == "t1"
    assert parse.entry_track({"track": track})["id"] == "t1"           # pre-2026 shape
    assert parse.entry_track({"item": track, "track": track})["id"] == "t1"
    assert parse.entry_track({"item": None, "track": None}) is None    # removed track
    assert parse.entry_track(None) is None
    assert parse.entry_track({"item": episode}) is None
    assert parse.entry_track({"is_local": True, "item": {**track, "id": None, "is_local": True}}) is None
    row = parse.track_row(track)
    assert row["popularity"] is None and row["isrc"] is None and row["release_date"] == "2001"


def test_429_then_success_waits_retry_after(env):
    server, settings, gateway, store, sleeps = env
    server.add_fault(Fault(method="GET", path=r"^/v1/me/playlists$", status=429, retry_after=2, times=1))
    library, _ = refresh_library(gateway, store, settings)
    assert 2.0 in sleeps
    assert len(library.playlists) > 0


def test_quota_exceeded_stops_at_once_and_keeps_the_cache(env):
    server, settings, gateway, store, sleeps = env
    refresh_library(gateway, store, settings)
    before = {p.name: p.read_bytes() for p in store.dir.glob("*.parquet")}
    server.add_fault(Fault(method="GET", path=r"^/v1/me/tracks$", status=429, reason="QUOTA_EXCEEDED", times=5))
    started = time.monotonic()
    with pytest.raises(RateLimited) as err:
        refresh_library(gateway, store, settings)
    assert time.monotonic() - started < 10
    assert sleeps == []
    assert "quota" in str(err.value) and "try again in" in str(err.value)
    assert err.value.exit_code == 4
    after = {p.name: p.read_bytes() for p in store.dir.glob("*.parquet")}
    assert before and after == before
    assert store.load_library() is not None


def test_long_retry_after_is_not_slept(env):
    server, settings, gateway, store, sleeps = env
    server.add_fault(Fault(method="GET", path=r"^/v1/me/playlists$", status=429, retry_after=3600, times=1))
    with pytest.raises(RateLimited, match="3600 s"):
        refresh_library(gateway, store, settings)
    assert sleeps == []


@pytest.mark.parametrize("fault", [
    Fault(method="GET", path=r"^/v1/me/top/tracks$", status=502, times=2),
    Fault(method="GET", path=r"^/v1/me/top/tracks$", status=503, times=1),
    Fault(method="GET", path=r"^/v1/me/top/tracks$", status=500, times=1),
    Fault(method="GET", path=r"^/v1/me/tracks$", truncate=True, times=2),
])
def test_transient_failures_are_retried(env, fault):
    server, settings, gateway, store, sleeps = env
    server.add_fault(fault)
    library, _ = refresh_library(gateway, store, settings)
    assert len(sleeps) == fault.times
    assert len(library.saved_tracks) == len(server.account.saved_tracks)
    assert len(library.top_tracks) == sum(len(v) for v in server.account.top_tracks.values())


def test_persistent_5xx_gives_spotify_unavailable(env):
    server, settings, gateway, store, _ = env
    server.add_fault(Fault(method="GET", path=r"^/v1/me/playlists$", status=503, times=100))
    with pytest.raises(SpotifyUnavailable) as err:
        refresh_library(gateway, store, settings)
    assert err.value.exit_code == 5


@pytest.mark.parametrize("body", [b"[]", b"{}", b'"ok"'])
def test_a_listing_answered_with_json_that_is_no_page_is_an_unreadable_answer_not_an_empty_one(env, body):
    """A 200 whose JSON is no page of the listing (a proxy's `[]` or `{}`) was read as "you have no
    playlists": the cache lost them all and the build made a second managed playlist; `"ok"` was exit 1.
    Read so, Liked Songs were none (the picks you saved no longer counted as liked): now kept as a
    list Spotify keeps failing is."""
    server, settings, gateway, store, sleeps = env
    refresh_library(gateway, store, settings)
    before = Store(store.dir).load_library()
    server.add_fault(Fault(method="GET", path=r"^/v1/me/playlists$", status=200, raw=body, times=None))
    with pytest.raises(SpotifyUnavailable, match="unreadable answer to GET me/playlists, 5 attempts") as err:
        refresh_library(gateway_for(settings, sleeps), Store(store.dir), settings)
    assert err.value.exit_code == 5
    pd.testing.assert_frame_equal(Store(store.dir).load_library().playlists, before.playlists)
    server.clear_faults()
    server.add_fault(Fault(method="GET", path=r"^/v1/me/tracks$", status=200, raw=body, times=None))
    library, report = refresh_library(gateway_for(settings, sleeps), Store(store.dir), settings)
    assert len(library.saved_tracks) == len(before.saved_tracks) > 0
    assert [p for p in report.problems if "kept failing the list of your saved tracks" in p]


def test_a_profile_answered_without_its_id_is_an_unreadable_answer_not_a_crash(env):
    """`GET /me` answered 200 `{}` (a proxy's) stopped the refresh with exit 1, "KeyError: 'id'"."""
    server, settings, gateway, store, sleeps = env
    server.add_fault(Fault(method="GET", path=r"^/v1/me/?$", status=200, raw=b"{}", times=None))
    with pytest.raises(SpotifyUnavailable, match="unreadable answer to GET me, 5 attempts") as err:
        refresh_library(gateway, store, settings)
    assert err.value.exit_code == 5 and len(sleeps) == 4
    server.clear_faults()
    server.add_fault(Fault(method="GET", path=r"^/v1/me/?$", status=200, raw=b"{}", times=1))
    library, _ = refresh_library(gateway_for(settings), Store(store.dir), settings)  # one such answer: retried
    assert library.user_id == server.account.user["id"]


def test_expired_access_token_is_refreshed_silently(env):
    server, settings, gateway, store, _ = env
    server.expire_access_tokens()
    library, _ = refresh_library(gateway, store, settings)
    assert len(library.tracks) > 0
    assert any(r.path == "/api/token" for r in server.requests)
    token = json.loads((store.dir / "spotify-token.json").read_text())
    assert token["refresh_token"]  # kept although the refresh answer omitted it


def test_expired_by_clock_is_refreshed_before_the_call(env):
    server, settings, gateway, store, _ = env
    path, token = saved_login(store)
    token["expires_at"] = int(time.time()) - 10
    path.write_text(json.dumps(token))
    refresh_library(gateway, store, settings)
    assert json.loads(path.read_text())["expires_at"] > time.time()


def test_revoked_refresh_token_asks_for_login(env):
    server, settings, gateway, store, _ = env
    server.expire_access_tokens()
    server.revoke_refresh_tokens()
    with pytest.raises(AuthError, match="recommend auth") as err:
        refresh_library(gateway, store, settings)
    assert err.value.exit_code == 3


def test_a_run_reads_the_saved_login_once(env, monkeypatch):
    # spotipy asks for the token before every request: the file was read and parsed each time
    # (a dry run of the small account read it 3 times, a refresh once per request)
    from spotipy.cache_handler import CacheFileHandler
    server, settings, gateway, store, _ = env
    reads, real = [], CacheFileHandler.get_cached_token
    monkeypatch.setattr(CacheFileHandler, "get_cached_token", lambda self: reads.append(1) or real(self))
    from recommender import jobs
    jobs.refresh(settings)
    assert len(reads) == 1
    reads.clear()
    result = jobs.build_playlist(settings, dry_run=True)
    assert result.requests >= 1 and len(reads) == 1


def test_a_login_another_process_refreshed_during_a_run_is_used_at_the_next_request(env):
    """A token refreshed meanwhile by another run (the scheduled one; Spotify may replace the
    refresh token too) is read at this run's next request, as every request read the file."""
    from recommender.store import atomic_write_text
    server, settings, gateway, store, _ = env
    assert gateway.get("me")["id"]
    server.expire_access_tokens()  # what this run read no longer works...
    server.revoke_refresh_tokens()
    token = server.issue_token(client_id="test-client")  # ...the other run's does
    atomic_write_text(store.dir / "spotify-token.json", json.dumps(token))
    assert gateway.get("me")["id"]
    assert not any(r.path == "/api/token" for r in server.requests)


def test_a_login_replaced_with_the_same_size_and_time_is_still_read_again(env):
    """The saved login is read again when its stat changed: its inode too, not only its time and
    size. Another process's atomic replace (a new file renamed over it) of the same size, with its
    modification time set back (a copy that keeps times, `cp -p`, `rsync -t`), is read at the next
    request, not taken for the token read before."""
    import os

    from recommender.store import atomic_write_text
    server, settings, gateway, store, _ = env
    path = store.dir / "spotify-token.json"
    size = 4096  # both logins of one size (JSON ends in any white space)
    atomic_write_text(path, path.read_text().ljust(size))
    assert gateway.get("me")["id"]  # this run reads its login
    before = path.stat()
    server.expire_access_tokens()  # what this run read no longer works...
    server.revoke_refresh_tokens()
    new = json.dumps(server.issue_token(client_id="test-client"))  # ...the other run's does
    atomic_write_text(path, new.ljust(size))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert gateway.get("me")["id"]
    assert not any(r.path == "/api/token" for r in server.requests)


def test_no_token_means_login_needed(standin, tmp_path):
    from recommender import jobs
    settings = settings_for(standin, tmp_path / "empty")
    with pytest.raises(AuthError, match="recommend auth"):
        jobs.connect(settings)


def test_corrupt_cache_is_reported_and_rebuilt(env):
    server, settings, gateway, store, _ = env
    refresh_library(gateway, store, settings)
    (store.dir / "tracks.parquet").write_bytes(b"not parquet")
    store2 = Store(store.dir)
    library, report = refresh_library(gateway, store2, settings)
    assert any("tracks.parquet" in p for p in report.problems)
    assert report.playlists_fetched == report.playlists - len(report.playlists_forbidden)
    assert Store(store.dir).load_library() is not None


def test_old_schema_version_is_rebuilt(env):
    server, settings, gateway, store, _ = env
    refresh_library(gateway, store, settings)
    m = json.loads(store.manifest_path.read_text())
    m["schema_version"] = 0
    store.manifest_path.write_text(json.dumps(m))
    library, report = refresh_library(gateway, Store(store.dir), settings)
    assert any("schema version" in p for p in report.problems)
    assert report.playlists_fetched > 0


def test_token_file_is_private(env):
    server, settings, gateway, store, _ = env
    server.expire_access_tokens()
    refresh_library(gateway, store, settings)  # forces a refresh, which rewrites the file
    assert oct(os.stat(store.dir / "spotify-token.json").st_mode & 0o777) == "0o600"


def test_discovery_pulls_albums_once(env):
    server, settings, gateway, store, _ = env
    library, report = refresh_library(gateway, store, settings)
    album_calls = [r for r in api_requests(server) if r.path.startswith("/v1/albums/")]
    # (this skipped when no album was asked for: a refresh whose discovery pulled nothing passed)
    assert album_calls and len(library.discovery) > 0
    server.clear_requests()
    library2, _ = refresh_library(gateway, store, settings)
    assert not [r for r in api_requests(server) if r.path.startswith("/v1/albums/")]
    assert set(library2.discovery["track_id"]) == set(library.discovery["track_id"])


def test_discovery_reads_an_artists_album_list_again_after_the_recheck_days_and_at_most_the_capped_artists(
        standin, tmp_path):
    """Your artists' new albums are found: an artist's album list is read again once it is
    older than ``refresh.discovery_recheck_days`` (a refresh that never read it again would
    never find an album released since), and only the ``refresh.discovery_artists`` first
    artists' lists are read."""
    import re
    from datetime import datetime, timedelta, timezone
    settings = settings_for(standin, tmp_path / "c", **{"refresh.discovery_artists": 2})
    save_login(standin, tmp_path / "c")
    gateway, store = gateway_for(settings), Store(settings.cache_dir)

    def listed() -> set[str]:
        return {m.group(1) for r in api_requests(standin) if (m := re.fullmatch(r"/v1/artists/([^/]+)/albums", r.path))}
    refresh_library(gateway, store, settings)
    first = listed()
    assert len(first) == 2
    standin.clear_requests()
    refresh_library(gateway, store, settings)
    assert not listed()  # read 0 days ago
    m = json.loads(store.manifest_path.read_text())
    old = (datetime.now(timezone.utc) - timedelta(days=8)).isoformat()
    m["discovery"]["artists_checked"] = {a: old for a in m["discovery"]["artists_checked"]}
    store.manifest_path.write_text(json.dumps(m))
    standin.clear_requests()
    refresh_library(gateway, store, settings)
    assert listed() == first


def test_a_changed_albums_per_artist_cap_is_honoured_at_the_next_refresh(standin, tmp_path):
    """Raising ``refresh.discovery_albums_per_artist`` (the Discovery page says a setting takes
    effect at the next refresh) changed nothing for up to ``refresh.discovery_recheck_days``: the
    album lists read under the old cap were reused, one album each where the cap asked for more.
    A list read under a lower cap is read again; a lower cap takes the newest of a kept list."""
    settings = settings_for(standin, tmp_path / "c", **{"refresh.discovery_albums_per_artist": 1})
    save_login(standin, tmp_path / "c")
    gateway, store = gateway_for(settings), Store(settings.cache_dir)

    def albums_each(library) -> int:
        return int(library.discovery.groupby("source_artist_id")["album_id"].nunique().max())
    assert albums_each(refresh_library(gateway, store, settings)[0]) == 1
    more = settings.with_overrides({"refresh.discovery_albums_per_artist": 3})
    many = albums_each(refresh_library(gateway_for(more), store, more)[0])
    assert many > 1
    standin.clear_requests()
    fewer = settings.with_overrides({"refresh.discovery_albums_per_artist": 2})
    assert albums_each(refresh_library(gateway_for(fewer), store, fewer)[0]) == min(many, 2)
    assert not [r for r in api_requests(standin) if r.path.endswith("/albums")]  # taken from the kept lists


def test_discovery_pulls_again_an_album_whose_tracks_the_cache_lost(env):
    """An album the refresh read before is reused only while the cache still holds its tracks:
    when the tracks frame lost one (a damaged or older cache), the album's tracks are read
    again, so its finds keep their names and artists."""
    server, settings, gateway, store, _ = env
    library, _ = refresh_library(gateway, store, settings)
    lost = str(library.discovery["track_id"].iloc[0])
    album = str(library.discovery["album_id"].iloc[0])
    tracks = library.tracks
    store.save_frame("tracks", tracks[tracks["track_id"].astype(str) != lost].reset_index(drop=True))
    server.clear_requests()
    again, _ = refresh_library(gateway, store, settings)
    assert f"/v1/albums/{album}/tracks" in {r.path for r in api_requests(server)}
    assert lost in set(again.tracks["track_id"].astype(str)) and lost in set(again.discovery["track_id"].astype(str))


def test_discovery_off_when_cap_is_zero(standin, tmp_path):
    settings = settings_for(standin, tmp_path / "c", **{"refresh.discovery_artists": 0})
    save_login(standin, tmp_path / "c")
    library, _ = refresh_library(gateway_for(settings), Store(settings.cache_dir), settings)
    assert len(library.discovery) == 0
    assert not [r for r in api_requests(standin) if "/albums" in r.path]


def test_genres_probe_once_then_stop_asking(env):
    server, settings, gateway, store, _ = env
    refresh_library(gateway, store, settings)
    probes = [r for r in api_requests(server) if r.path.startswith("/v1/artists/") and r.path.count("/") == 3]
    assert len(probes) == 1  # one probe (<= 1 also passed when probing never happened)
    assert store.read_manifest()["artist_genres_api"]["available"] is False  # the probed artist had none
    server.clear_requests()
    refresh_library(gateway, store, settings)
    assert not [r for r in api_requests(server) if r.path.startswith("/v1/artists/") and r.path.count("/") == 3]
    # README: "when the API has none, it stops asking for 30 days": 29 days on, still none;
    # 31 days on, one probe again
    from datetime import timedelta

    from recommender import isotime
    start = isotime.utc_now()
    for days, asked in ((29, 0), (31, 1)):
        old = isotime.set_clock(lambda: start + timedelta(days=days))
        try:
            server.clear_requests()
            refresh_library(gateway, store, settings)
        finally:
            isotime.set_clock(old)
        probes = [r for r in api_requests(server) if r.path.startswith("/v1/artists/") and r.path.count("/") == 3]
        assert len(probes) == asked, days


def test_extended_mode_fields_are_used(small_account, tmp_path):
    with StandinServer(small_account, extended=True) as server:
        settings = settings_for(server, tmp_path / "c")
        save_login(server, tmp_path / "c")
        library, _ = refresh_library(gateway_for(settings), Store(settings.cache_dir), settings)
        assert library.tracks["popularity"].notna().any()
        assert any(library.artists["genres"].map(len) > 0)
        assert Store(settings.cache_dir).read_manifest()["artist_genres_api"]["available"] is True


def test_full_pull_of_the_sample_library(sample_standin, tmp_path):
    """The built-in sample library pulls completely: owned playlists, 403 ones skipped, discovery."""
    settings = settings_for(sample_standin, tmp_path / "c")
    save_login(sample_standin, tmp_path / "c")
    library, report = refresh_library(gateway_for(settings), Store(settings.cache_dir), settings)
    acct = sample_standin.account
    owned = [p for p in acct.playlists if p["owner"] == acct.user["id"]]
    assert report.playlists_fetched == len(owned) >= 30
    assert len(report.playlists_forbidden) == 2
    # the albums' tracks new to you: your artists' albums hold songs you have too ("125 from
    # discovery albums" was said of 5 new ones)
    yours = set(library.playlist_items["track_id"]) | set(library.saved_tracks["track_id"]) \
        | set(library.top_tracks["track_id"])
    on_albums = set(library.frames["discovery"]["track_id"])
    assert on_albums & yours and 0 < report.discovery_tracks == len(on_albums - yours)
    assert set(library.top_tracks["time_range"]) == set(schema.TIME_RANGES)
    assert len(library.saved_tracks) == len(acct.saved_tracks)
    # every track referenced by any frame is in the tracks frame
    referenced = set(library.playlist_items["track_id"]) | set(library.saved_tracks["track_id"]) \
        | set(library.top_tracks["track_id"]) | set(library.discovery["track_id"])
    assert referenced <= set(library.tracks["track_id"])


def test_audio_features_403_is_remembered(standin, tmp_path):
    from recommender import jobs
    settings = settings_for(standin, tmp_path / "c")
    save_login(standin, tmp_path / "c")
    jobs.refresh(settings, gateway=gateway_for(settings))
    assert len([r for r in api_requests(standin) if r.path.startswith("/v1/audio-features")]) == 1
    standin.clear_requests()
    library, _ = jobs.refresh(settings, gateway=gateway_for(settings))
    assert not [r for r in api_requests(standin) if r.path.startswith("/v1/audio-features")]
    assert len(library.audio_features) == 0


def test_audio_features_fetched_in_extended_mode(small_account, tmp_path):
    from recommender import jobs
    assert small_account.audio_features, "fixture needs audio features"
    with StandinServer(small_account, extended=True) as server:
        settings = settings_for(server, tmp_path / "c")
        save_login(server, tmp_path / "c")
        library, _ = jobs.refresh(settings, gateway=gateway_for(settings))
        assert len(library.audio_features) > 0
        assert len(Store(settings.cache_dir).load_frame("audio_features")) == len(library.audio_features)


def test_slow_answer_times_out_and_is_retried(standin, tmp_path):
    # a timeout long enough for a busy machine's ordinary answers, an answer far beyond it
    settings = settings_for(standin, tmp_path / "c", **{"spotify.timeout": 2})
    save_login(standin, tmp_path / "c")
    slow = standin.add_fault(Fault(method="GET", path=r"^/v1/me/tracks$", delay=30, times=1))
    sleeps: list[float] = []
    started = time.monotonic()
    library, _ = refresh_library(gateway_for(settings, sleeps), Store(settings.cache_dir), settings)
    assert slow.hits == 1 and len(sleeps) == 1  # one timeout, one retry
    assert len(library.saved_tracks) == len(standin.account.saved_tracks)
    assert time.monotonic() - started < 25  # not the slow answer's 30 s


@contextmanager
def _paged_while(small_account, tmp_path, change):
    """The stand-in with more than one page of your playlists (55 more), ``change(account)``
    done just before page 2 of the first listing is read; yields (server, settings, gateway, store)."""
    import copy
    template = small_account.playlists[0]
    for i in range(55):  # more than one page of 50
        small_account.playlists.append({**copy.deepcopy(template), "id": f"extraPlaylist{i:09d}",
                                        "name": f"Extra {i}"})
    calls = []

    def between_pages(account):
        calls.append(1)
        if len(calls) == 2:  # just before page 2 is read
            change(account, template)

    with StandinServer(small_account) as server:
        settings = settings_for(server, tmp_path / "cache")
        save_login(server, tmp_path / "cache")
        server.add_fault(Fault(method="GET", path=r"^/v1/me/playlists$", before=between_pages, times=2))
        yield server, settings, gateway_for(settings), Store(settings.cache_dir)


def test_playlist_listed_twice_while_paging_is_kept_once_and_the_next_refresh_works(small_account, tmp_path):
    """Offset paging: a playlist created between two pages of /me/playlists shifts the list, so
    the last playlist of page 1 comes again on page 2. It must be one playlist (one set of
    items), and the next refresh must not crash on a cache holding it twice."""
    import copy

    def create(account, template):  # the user creates a playlist
        account.playlists.insert(0, {**copy.deepcopy(template), "id": "createdMeanwhile000001",
                                     "name": "Created meanwhile", "snapshot_id": "created-0"})
    with _paged_while(small_account, tmp_path, create) as (server, settings, gateway, store):
        library, report = refresh_library(gateway, store, settings)
        assert not library.playlists["playlist_id"].duplicated().any()
        assert not library.playlist_items.duplicated(["playlist_id", "position"]).any()
        assert report.playlists == len(library.playlists)
        # a cache written before the fix holds it twice: the next refresh crashed on it
        import pandas as pd
        store.save_library(library.replace(playlists=pd.concat([library.playlists, library.playlists.iloc[:1]])),
                           ["playlists"])
        library, report = refresh_library(gateway, store, settings)
        assert report.playlists == len([p for p in server.account.playlists if p["followed"]])
        assert not library.playlists["playlist_id"].duplicated().any()


def test_a_playlist_deleted_while_paging_does_not_hide_the_next_one_from_the_cache(small_account, tmp_path):
    """Offset paging the other way: a playlist deleted between two pages of /me/playlists shifts
    the list back, so the first playlist of page 2 had already gone by on page 1 and was missing
    from the cache until the next refresh (not in `recommend playlists`, "no playlist named" for
    --seed-playlist, its tracks out of the taste). A listing whose total changed between its pages
    is read again."""
    def delete(account, template):  # the user deletes a playlist of page 1
        account.playlist("extraPlaylist000000000")["followed"] = False
    with _paged_while(small_account, tmp_path, delete) as (server, settings, gateway, store):
        library, report = refresh_library(gateway, store, settings)
        followed = {p["id"] for p in server.account.playlists if p["followed"]}
        assert set(library.playlists["playlist_id"]) == followed
        assert not report.problems


def test_a_connection_broken_in_the_middle_of_a_body_is_retried_like_a_timeout(env):
    """requests raises ChunkedEncodingError (not ConnectionError) when the connection drops
    while the body is read: a read is retried, a write is an ambiguous write (re-read, never
    re-sent), never an 'unexpected error'."""
    import requests

    from recommender.spotify.gateway import AmbiguousWrite
    server, settings, gateway, store, sleeps = env
    real = gateway.client._session.request
    broken = []

    def drop_once(method, url, **kwargs):
        if ("/v1/me/tracks" in url or method == "POST") and len(broken) < 2 and url not in broken:
            broken.append(url)
            raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(10 bytes read)")
        return real(method, url, **kwargs)

    gateway.client._session.request = drop_once
    library, _ = refresh_library(gateway, store, settings)
    assert len(sleeps) == 1 and len(library.saved_tracks) == len(server.account.saved_tracks)
    owned = next(p for p in server.account.playlists if p["owner"] == server.account.user["id"])
    with pytest.raises(AmbiguousWrite):
        gateway.add_items(owned["id"], [f"spotify:track:{next(iter(server.account.tracks))}"])


@pytest.mark.parametrize("path", [r"^/v1/artists/[^/]+/albums$", r"^/v1/albums/[^/]+/tracks$"])
def test_an_artist_or_album_gone_from_the_catalogue_skips_only_its_discovery_albums(env, path):
    """A 404 (or 403) on one artist's album list or one album's tracks (taken down since, or
    never readable) costs that artist's or album's discovery tracks, not the whole refresh."""
    server, settings, gateway, store, _ = env
    clean_settings = settings_for(server, store.dir.parent / "clean")
    save_login(server, store.dir.parent / "clean")
    clean, _ = refresh_library(gateway_for(clean_settings), Store(clean_settings.cache_dir), clean_settings)
    server.add_fault(Fault(method="GET", path=path, status=404, times=1))
    library, report = refresh_library(gateway, store, settings)
    # the other artists' albums are there, the one answered 404 is not (the fault did strike)
    assert 0 < len(library.discovery) < len(clean.discovery)
    assert set(library.discovery["track_id"]) < set(clean.discovery["track_id"])
    assert len(library.playlist_items) > 0 and store.load_library() is not None


def test_a_dropped_in_token_without_expires_at_is_refreshed_and_without_refresh_token_asks_for_login(env):
    """The README lets a token obtained elsewhere be dropped in; the accounts service's own
    answer has expires_in, not spotipy's expires_at: it was a KeyError (exit 1)."""
    server, settings, gateway, store, _ = env
    path, token = saved_login(store)
    del token["expires_at"]
    path.write_text(json.dumps(token))
    assert gateway.get("me/")["id"] == server.account.user["id"]  # refreshed first
    assert json.loads(path.read_text())["expires_at"] > time.time()
    del token["refresh_token"]
    path.write_text(json.dumps(token))
    with pytest.raises(AuthError, match="recommend auth"):
        gateway_for(settings).get("me/")


def test_a_dropped_in_token_with_a_refresh_token_and_no_access_token_is_a_login(env):
    """A login file holding only a refresh token (and its scopes), copied from another tool, is
    a login: refreshed at the first request, where it would be "cannot be used" if a login needed
    both tokens."""
    from recommender.spotify.auth import unusable_token
    server, settings, gateway, store, _ = env
    path, token = saved_login(store)
    path.write_text(json.dumps({"refresh_token": token["refresh_token"], "scope": token["scope"]}))
    assert unusable_token(store.dir) is None
    assert gateway_for(settings).get("me/")["id"] == server.account.user["id"]
    assert json.loads(path.read_text())["access_token"]


def test_a_dropped_in_token_whose_scope_is_a_list_or_no_text_is_a_login_or_asks_for_one(env):
    """spotipy splits the saved scope: a list (another tool's file) or a number was an AttributeError, exit 1."""
    server, settings, gateway, store, _ = env
    path, token = saved_login(store)
    path.write_text(json.dumps({**token, "scope": token["scope"].split()}))
    assert gateway_for(settings).get("me/")["id"] == server.account.user["id"]
    path.write_text(json.dumps({**token, "scope": 7}))
    with pytest.raises(AuthError, match="lacks the scopes this tool needs") as err:
        gateway_for(settings).get("me/")
    assert err.value.exit_code == 3


def test_a_rejected_access_token_without_a_refresh_token_asks_for_a_login(env):
    """The Web API's 401 makes the tool refresh the token; a login without a refresh token
    cannot be refreshed, so it says to log in (exit 3), not a KeyError (exit 1)."""
    server, settings, gateway, store, _ = env
    path, token = saved_login(store)
    del token["refresh_token"]
    path.write_text(json.dumps(token))
    server.add_fault(Fault(method="GET", path=r"^/v1/me$", status=401, times=1))
    with pytest.raises(AuthError, match="rejected and there is no refresh token") as err:
        gateway_for(settings).get("me")
    assert err.value.exit_code == 3


@pytest.mark.parametrize("content", ["[1]", '"a token"', "5", "{not json", "{}", '{"token_type": "Bearer"}',
                                     b"\xff\xfe garbage"])
def test_a_dropped_in_token_file_that_is_no_login_names_the_file_and_asks_for_login(env, content):
    """Valid JSON that is not an object crashed ('list' object has no attribute 'get', exit 1);
    a damaged file was reported as 'not logged in', as if there were none; an object with no
    token in it was 'the saved login has expired', the file unnamed; bytes that are not UTF-8
    were "unexpected error: UnicodeDecodeError" (exit 1, a cron run's "please report it"), and
    `recommend status` said "needs login (run `recommend auth`)", the file unnamed."""
    from typer.testing import CliRunner

    from recommender.cli import app
    server, settings, gateway, store, _ = env
    path = store.dir / "spotify-token.json"
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    with pytest.raises(AuthError) as err:
        gateway_for(settings).get("me/")
    assert err.value.exit_code == 3
    assert str(err.value).startswith(f"the saved login {path} cannot be used (") and "recommend auth" in str(err.value)
    said = CliRunner().invoke(app, ["status", "--offline", "--json"], env={"RECOMMENDER_CACHE_DIR": str(store.dir)})
    login = json.loads(said.stdout)["login"]
    assert login["state"] == "needs login" and login["message"] == str(err.value)


def test_a_playlist_listed_without_snapshot_id_is_read_again_every_time(env):
    """Without a snapshot_id nothing says the playlist is unchanged: None == None kept its
    first items for ever."""
    server, settings, gateway, store, _ = env
    get = gateway.get

    def without_snapshots(url, **params):
        page = get(url, **params)
        if url.startswith("me/playlists") or "/v1/me/playlists" in url:
            for p in page.get("items") or []:
                p.pop("snapshot_id", None)
        return page

    gateway.get = without_snapshots
    refresh_library(gateway, store, settings)
    owned = next(p for p in server.account.playlists if p["owner"] == server.account.user["id"])
    added = next(t for t in server.account.tracks if t not in server.playlist_track_ids(owned["id"]))
    gateway.add_items(owned["id"], [f"spotify:track:{added}"])
    library, report = refresh_library(gateway, store, settings)
    assert added in library.playlist_tracks(owned["id"])


def test_a_refresh_after_an_import_holds_its_tracks_features_and_keeps_the_others(standin, tmp_path):
    """After `import features` of a file of many more tracks than the library (the 1.2 million of
    Kaggle's "Spotify 1.2M+ Songs"), each refresh loaded every row and saved them all again. The
    refreshed library holds the features of its own tracks alone; the stored frame keeps every row."""
    from recommender import jobs
    from recommender.features import import_features
    settings = settings_for(standin, tmp_path / "c")
    save_login(standin, tmp_path / "c")
    library, _ = jobs.refresh(settings, gateway=gateway_for(settings))
    ours = sorted(library.track_ids)
    others = [f"5ouMYWpwJ422jRcDAS{i:04d}" for i in range(300)]
    csv = tmp_path / "features.csv"
    csv.write_text("track_id,energy,valence\n" + "".join(f"{t},0.5,0.25\n" for t in ours + others))
    store = Store(settings.cache_dir)
    import_features(csv, store.load_library(), store)
    tracks = store.load_frame("tracks")
    store.save_frame("tracks", tracks[tracks["track_id"] != ours[0]])  # a track this refresh brings anew
    library, _ = jobs.refresh(settings, gateway=gateway_for(settings))
    assert sorted(library.audio_features["track_id"]) == ours  # the new track's features too
    assert len(Store(settings.cache_dir).load_frame("audio_features")) == len(ours) + len(others)
    assert sorted(Store(settings.cache_dir).load_library().audio_features["track_id"]) == ours


def test_a_refresh_carries_over_the_genres_enrich_genres_looked_up(env):
    """The genres `enrich genres` looked up (MusicBrainz's, not Spotify's) are no refresh's to
    pull: the refreshed library holds the stored ones, from a whole cache and from a damaged one
    (pulled again), so the genre scorers of the run that refreshed see them."""
    import pandas as pd
    server, settings, gateway, store, _ = env
    library, _ = refresh_library(gateway, store, settings)
    artist = str(library.artists["artist_id"].iloc[0])
    store.save_frame("artist_genres", pd.DataFrame({"artist_id": [artist], "mbid": ["m1"], "genres": [["jazz", "soul"]],
                                                    "counts": [[3, 1]], "looked_up": ["2026-11-30"], "miss": [False]}))
    stored = Store(store.dir).load_frame("artist_genres")
    for damaged in (False, True):
        if damaged:
            (store.dir / "tracks.parquet").write_bytes(b"not parquet")
        library, _ = refresh_library(gateway, Store(store.dir), settings)
        pd.testing.assert_frame_equal(library.frames["artist_genres"].reset_index(drop=True), stored.reset_index(drop=True))
        assert list(library.artist_genres()[artist]) == ["jazz", "soul"]


def test_null_entries_in_the_listings_are_skipped_as_spotify_sends_them(env, monkeypatch):
    """Spotify's lists can hold a null entry (a playlist, track or artist it cannot show you:
    spotDL #91 met one in the user's playlists); the refresh skips it and reads the rest as if
    it were not there."""
    server, settings, gateway, store, _ = env
    clean, _ = refresh_library(gateway, store, settings)

    def with_a_null(handler, items):
        def handle(*args, **kwargs):
            reply = handler(*args, **kwargs)
            items(reply.body).insert(0, None)
            return reply
        return handle
    for name, items in [("_my_playlists", lambda b: b["items"]), ("_top", lambda b: b["items"]),
                        ("_following", lambda b: b["artists"]["items"])]:
        monkeypatch.setattr(server, name, with_a_null(getattr(server, name), items))
    library, report = refresh_library(gateway, Store(settings.cache_dir.parent / "again"), settings)
    assert report.playlists == len(clean.playlists)
    for frame in ("playlists", "top_tracks", "top_artists", "followed_artists", "playlist_items"):
        # a top entry's rank is its place in Spotify's list, the null's counted
        got, want = (f.frames[frame].drop(columns=["rank"], errors="ignore").reset_index(drop=True)
                     for f in (library, clean))
        pd.testing.assert_frame_equal(got, want, obj=frame)
    assert len(library.frames["followed_artists"]) and len(library.frames["top_artists"])
