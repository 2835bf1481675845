"""The refresh at a heavy user's scale, in miniature: what a second pull may skip (counted at
the stand-in; the timings live in bench/refresh_speed.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from recommender.standins.spotify import Account, Fault, StandinServer, base62_id, days_ago_iso
from recommender.spotify.sync import refresh_library
from recommender.store import Store

from spotify_helpers import api_requests, gateway_for, save_login, settings_for
from conftest import FIXTURES

SAVED = 130  # three pages of saved tracks


def _account() -> Account:
    data = json.loads((FIXTURES / "small_account.json").read_text(encoding="utf-8"))
    album = next(iter(data["albums"]))
    artist = data["albums"][album]["artist_ids"][0]
    for i in range(SAVED + 20):
        data["tracks"][base62_id(f"saved:{i}")] = {"name": f"Saved {i}", "artist_ids": [artist],
                                                  "album_id": album, "duration_ms": 200000}
    data["saved_tracks"] = [{"id": base62_id(f"saved:{i}"), "added_at": days_ago_iso(10 + i, f"s{i}")}
                            for i in range(SAVED)]
    return Account.from_dict(data)


@pytest.fixture
def server():
    with StandinServer(_account()) as s:
        yield s


def _pull(server, cache, **overrides):
    settings = settings_for(server, cache, **{"refresh.discovery_artists": 0, **overrides})
    save_login(server, cache)
    server.clear_requests()
    library, _ = refresh_library(gateway_for(settings), Store(settings.cache_dir), settings)
    pages = [r for r in api_requests(server, "GET") if r.path == "/v1/me/tracks"]
    return library, len(pages)


def _saved(library) -> pd.DataFrame:
    return library.frames["saved_tracks"].reset_index(drop=True)


def _same_as_a_clean_pull(server, tmp_path, library) -> None:
    clean, pages = _pull(server, tmp_path / "clean")
    assert pages == -(-len(server.account.saved_tracks) // 50)
    pd.testing.assert_frame_equal(_saved(library), _saved(clean))
    assert set(clean.tracks["track_id"]) == set(library.tracks["track_id"])


def test_an_unchanged_saved_list_costs_one_page_not_all(server, tmp_path):
    first, pages = _pull(server, tmp_path / "c")
    assert pages == 3 and len(_saved(first)) == SAVED
    second, pages = _pull(server, tmp_path / "c")
    assert pages == 1
    pd.testing.assert_frame_equal(_saved(second), _saved(first))
    assert set(second.tracks["track_id"]) == set(first.tracks["track_id"])


def test_new_saves_are_read_down_to_the_newest_cached_one(server, tmp_path):
    _pull(server, tmp_path / "c")
    for i in range(SAVED, SAVED + 5):
        server.account.saved_tracks.append({"id": base62_id(f"saved:{i}"), "added_at": days_ago_iso(1, f"n{i}")})
    library, pages = _pull(server, tmp_path / "c")
    assert pages == 1 and len(_saved(library)) == SAVED + 5
    assert list(_saved(library)["track_id"][:5]) == sorted(
        (base62_id(f"saved:{i}") for i in range(SAVED, SAVED + 5)),
        key=lambda t: next(s["added_at"] for s in server.account.saved_tracks if s["id"] == t), reverse=True)
    _same_as_a_clean_pull(server, tmp_path, library)


@pytest.mark.parametrize("places, pages_read", [
    ([100], 3),  # an old one, on the last page: the list is read to the end
    ([3], 1),  # a song liked last week (a heavy user's common case): read past it, not the whole list
    ([70, 5], 2),  # on two pages: read down to the lower one
])
def test_an_unsaved_track_is_noticed_by_the_count_and_the_list_read_down_past_it(server, tmp_path, places, pages_read):
    _pull(server, tmp_path / "c")
    gone = [server.account.saved_tracks.pop(p)["id"] for p in places]
    again = server.account.saved_tracks.pop(10)  # and one saved again, listed first with a new date
    server.account.saved_tracks.append({"id": again["id"], "added_at": days_ago_iso(1, "again")})
    server.account.saved_tracks.append({"id": base62_id(f"saved:{SAVED}"), "added_at": days_ago_iso(1, "new")})
    library, pages = _pull(server, tmp_path / "c")
    assert pages == pages_read
    assert not set(gone) & set(_saved(library)["track_id"]) and len(_saved(library)) == SAVED + 1 - len(places)
    _same_as_a_clean_pull(server, tmp_path, library)


def test_an_old_track_saved_again_is_listed_once_with_its_new_date(server, tmp_path):
    _pull(server, tmp_path / "c")
    again = server.account.saved_tracks.pop(120)
    server.account.saved_tracks.append({"id": again["id"], "added_at": days_ago_iso(1, "again")})
    library, pages = _pull(server, tmp_path / "c")
    assert pages == 1
    rows = _saved(library)[_saved(library)["track_id"] == again["id"]]
    assert len(rows) == 1 and rows["added_at"].iloc[0] != again["added_at"]
    _same_as_a_clean_pull(server, tmp_path, library)


def _stamps(cache) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted(cache.glob("*.parquet"))}


def test_a_refresh_rewrites_only_the_frames_that_changed(server, tmp_path):
    cache = tmp_path / "c"
    _pull(server, cache)
    first = _stamps(cache)
    assert "tracks.parquet" in first and "playlist_items.parquet" in first
    time.sleep(0.01)  # a rewrite would show in the modification time
    _pull(server, cache)
    assert _stamps(cache) == first  # nothing changed on Spotify: no file rewritten
    server.account.saved_tracks.append({"id": base62_id(f"saved:{SAVED}"), "added_at": days_ago_iso(1, "new")})
    library, _ = _pull(server, cache)
    now = _stamps(cache)
    assert now["saved_tracks.parquet"] != first["saved_tracks.parquet"]
    assert now["playlist_items.parquet"] == first["playlist_items.parquet"]
    assert Store(cache).load_library().frames["saved_tracks"].equals(library.frames["saved_tracks"])


def test_the_command_has_pyarrow_use_the_c_librarys_malloc(tmp_path):
    # pyarrow's mimalloc kept what reading the cache used: a refresh of 20,000 tracks peaked about
    # 70 MB higher with it (bench/refresh_speed.py); the command picks the C library's malloc,
    # unless the environment chose one
    probe = ("import sys; from recommender import cli; sys.argv = ['recommend', '--version']\n"
             "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
             "import pyarrow; print(pyarrow.default_memory_pool().backend_name)")
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "system", out.stderr
    env["ARROW_DEFAULT_MEMORY_POOL"] = "mimalloc"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "mimalloc", out.stderr


def test_unsaves_among_tracks_saved_at_the_same_second_are_not_missed(server, tmp_path):
    # an album saved at once: its tracks share one added_at, which Spotify may list in any order
    when = days_ago_iso(40, "album")
    for s in server.account.saved_tracks[20:80]:
        s["added_at"] = when
    _pull(server, tmp_path / "c")
    server.account.saved_tracks.pop(50)
    server.account.saved_tracks[20:79] = server.account.saved_tracks[20:79][::-1]  # listed in another order
    library, pages = _pull(server, tmp_path / "c")
    assert len(_saved(library)) == SAVED - 1
    assert pages == 2  # down past the tied entries (places 20 to 79), not the whole list for a tie
    _same_as_a_clean_pull(server, tmp_path, library)


def test_the_audio_features_carried_over_are_looked_up_by_arrow_not_a_scalar_per_track(server, tmp_path, monkeypatch):
    # pandas' isin on the string id columns made one pyarrow scalar per track, twice a refresh:
    # 0.2 s each on 20,000 tracks, a fifth of a quiet refresh's own time
    import pyarrow as pa

    from recommender import schema
    library, _ = _pull(server, tmp_path / "c")
    ids = list(library.track_ids[:3])
    features = schema.conform("audio_features", pd.DataFrame(
        {"track_id": ids + ["gone-from-the-library"], **{c: [0.5] * 4 for c in ("energy", "valence")}}))
    held = library.replace(audio_features=features)
    smaller = library.replace(tracks=library.frames["tracks"][library.frames["tracks"]["track_id"] != ids[0]])
    made = []
    real = pa.scalar
    monkeypatch.setattr(pa, "scalar", lambda *a, **k: made.append(1) or real(*a, **k))
    got = Store(tmp_path / "c").with_features(smaller, held)
    assert list(got.frames["audio_features"]["track_id"]) == ids[1:]
    assert len(made) < len(library.track_ids) / 10


def _save(server, i, days=1):
    server.account.saved_tracks.append({"id": base62_id(f"saved:{i}"), "added_at": days_ago_iso(days, f"n{i}")})


def _unsave(server, place):
    """The track at ``place`` of Liked Songs as Spotify lists it (newest first) unsaved; its id."""
    listed = sorted(server.account.saved_tracks, key=lambda s: s["added_at"], reverse=True)
    gone = listed[place]["id"]
    server.account.saved_tracks = [s for s in server.account.saved_tracks if s["id"] != gone]
    return gone


def _resave(server, place):
    """The track at ``place`` unsaved and saved again in the app: listed first, with today's date."""
    tid = _unsave(server, place)
    server.account.saved_tracks.append({"id": tid, "added_at": days_ago_iso(0, f"again:{tid}")})


@pytest.mark.parametrize("edits", [
    pytest.param([lambda s: (_save(s, SAVED), _save(s, SAVED + 1), _unsave(s, 5), _unsave(s, 60))],
                 id="two-saved-two-unsaved-count-unchanged"),
    pytest.param([lambda s: (_unsave(s, 120), _save(s, SAVED))], id="an-old-one-unsaved-a-new-one-saved"),
    pytest.param([lambda s: (_unsave(s, 0), _save(s, SAVED))], id="the-newest-unsaved-a-new-one-saved"),
    pytest.param([lambda s: _unsave(s, SAVED - 1)], id="the-oldest-unsaved"),
    pytest.param([lambda s: _resave(s, 40)], id="one-saved-again"),
    pytest.param([lambda s: (_resave(s, 40), _unsave(s, 90))], id="one-saved-again-one-unsaved-below-it"),
    pytest.param([lambda s: (_resave(s, 90), _unsave(s, 40))], id="one-saved-again-one-unsaved-above-it"),
    pytest.param([lambda s: _unsave(s, 40), lambda s: s.account.saved_tracks.append(
        {"id": base62_id("saved:40"), "added_at": days_ago_iso(0, "back")})], id="unsaved-then-saved-back-next-run"),
    pytest.param([lambda s: _unsave(s, 3), lambda s: _unsave(s, 3), lambda s: _save(s, SAVED)],
                 id="one-unsave-a-run-three-runs"),
    pytest.param([lambda s: [_unsave(s, 0) for _ in range(SAVED - 1)], lambda s: _save(s, SAVED)], id="all-but-one-unsaved-then-one-saved"),
])
def test_after_any_mix_of_saves_and_unsaves_the_cache_is_the_account(server, tmp_path, edits):
    _pull(server, tmp_path / "c")
    for run, edit in enumerate(edits):
        edit(server)
        library, _ = _pull(server, tmp_path / "c")
        assert sorted(_saved(library)["track_id"]) == sorted(s["id"] for s in server.account.saved_tracks)
        _same_as_a_clean_pull(server, tmp_path / str(run), library)


def test_a_list_shorter_than_a_page_is_kept_right(tmp_path):
    account = _account()
    account.saved_tracks = account.saved_tracks[:7]
    with StandinServer(account) as server:
        _pull(server, tmp_path / "c")
        _unsave(server, 2)
        _save(server, SAVED)
        library, pages = _pull(server, tmp_path / "c")
        assert pages == 1 and len(_saved(library)) == 7
        _same_as_a_clean_pull(server, tmp_path, library)


def test_a_saved_page_that_fails_midway_keeps_the_last_list_and_the_next_refresh_catches_up(server, tmp_path):
    _pull(server, tmp_path / "c")
    _unsave(server, 70)  # on the second page: the reading must go there
    _save(server, SAVED)
    # the first page answers, then every page after fails (as a very large list does)
    server.add_fault(Fault(path=r"^/v1/me/tracks$", times=1, before=lambda a: server.add_fault(
        Fault(path=r"^/v1/me/tracks$", status=502, times=None))))
    library, _ = _pull(server, tmp_path / "c")
    assert len(_saved(library)) == SAVED  # the last refresh's list, whole
    server.clear_faults()
    library, _ = _pull(server, tmp_path / "c")
    _same_as_a_clean_pull(server, tmp_path, library)


@pytest.mark.parametrize("edit", [
    pytest.param(lambda s: _save(s, SAVED), id="saved"),  # the entry at a page's end comes again at the next's top
    pytest.param(lambda s: _unsave(s, 10), id="unsaved"),  # the entry at the next page's top is passed over
])
def test_a_song_saved_while_the_list_is_read_is_not_kept_twice(server, tmp_path, edit):
    # a save or unsave on the phone while a refresh reads the pages shifts them
    _pull(server, tmp_path / "c")
    _unsave(server, 120)  # the reading goes to the last page
    server.add_fault(Fault(path=r"^/v1/me/tracks$", times=1, before=lambda a: server.add_fault(
        Fault(path=r"^/v1/me/tracks$", times=1, before=lambda a: edit(server)))))
    library, _ = _pull(server, tmp_path / "c")
    assert list(_saved(library)["track_id"]) == [s["id"] for s in sorted(
        server.account.saved_tracks, key=lambda s: s["added_at"], reverse=True)]
    _unsave(server, 3)  # and a later refresh, after one more unsave, reads only down past it
    library, _ = _pull(server, tmp_path / "c")
    _same_as_a_clean_pull(server, tmp_path, library)


def test_a_count_that_lags_behind_the_list_is_not_taken_for_the_list(server, tmp_path, monkeypatch):
    # Spotify's total can trail its list for a moment: a song just unsaved already counted out
    # while still listed; what the cache holds is the list read, and the next refresh must
    # compare with that, or it never sees the song gone from the list
    real = server._saved

    def counted_out(*a, **k):
        reply = real(*a, **k)
        reply.body["total"] -= 1
        return reply
    monkeypatch.setattr(server, "_saved", counted_out)
    _pull(server, tmp_path / "c")
    monkeypatch.setattr(server, "_saved", real)
    _unsave(server, 60)  # the list catches up with its count
    library, _ = _pull(server, tmp_path / "c")
    _same_as_a_clean_pull(server, tmp_path, library)


def test_a_list_that_never_holds_still_is_kept_without_doubles_and_read_whole_next_time(server, tmp_path):
    _pull(server, tmp_path / "c")
    _unsave(server, 120)
    more = iter(range(SAVED, SAVED + 20))
    before = {s["id"] for s in server.account.saved_tracks}  # none of them unsaved while it is read
    server.add_fault(Fault(path=r"^/v1/me/tracks$", times=None, before=lambda a: _save(server, next(more))))
    library, _ = _pull(server, tmp_path / "c")
    assert _saved(library)["track_id"].is_unique and before <= set(_saved(library)["track_id"])
    server.clear_faults()
    library, pages = _pull(server, tmp_path / "c")
    assert pages == 3
    _same_as_a_clean_pull(server, tmp_path, library)


def _back_dated(server, i, days):
    """A save dated ``days`` ago (made offline, or by an app keeping another service's dates)."""
    server.account.saved_tracks.append({"id": base62_id(f"saved:{i}"), "added_at": days_ago_iso(days, f"late{i}")})


@pytest.mark.parametrize("edit", [
    pytest.param(lambda s: (_back_dated(s, SAVED, 10 + 60), _unsave(s, 100)), id="dated-above-the-unsave"),
    pytest.param(lambda s: (_back_dated(s, SAVED, 10 + 110), _unsave(s, 20)), id="dated-below-the-unsave"),
    pytest.param(lambda s: (_save(s, SAVED + 1), _back_dated(s, SAVED, 10 + 60), _unsave(s, 100)),
                 id="a-new-one-too"),
])
def test_a_back_dated_save_and_an_unsave_the_count_cannot_see_are_caught_by_the_weekly_whole_read(
        server, tmp_path, edit):
    # the count is all a partial read has below the newest cached entry: a save dated below it
    # and an unsave leave it as it was (the unsaved song stayed saved, the other was never
    # read, until the whole list was read again: never, while the list was read in part)
    from recommender import isotime
    _pull(server, tmp_path / "c")
    edit(server)
    clock = isotime.set_clock(None)
    try:
        for days, pages in ((1, 1), (7 - 0.5 / 24, 3), (8, 1)):  # the 7th day's run, half an hour early too
            when = datetime.now(timezone.utc) + timedelta(days=days)
            isotime.set_clock(lambda: when)
            library, read = _pull(server, tmp_path / "c")
            assert read == pages, days
            if pages > 1:
                _same_as_a_clean_pull(server, tmp_path / str(days), library)
    finally:
        isotime.set_clock(clock)


def test_saved_reread_days_0_reads_the_saved_tracks_whole_every_time(server, tmp_path):
    _pull(server, tmp_path / "c", **{"refresh.saved_reread_days": 0})
    _back_dated(server, SAVED, 10 + 60)
    _unsave(server, 100)
    library, pages = _pull(server, tmp_path / "c", **{"refresh.saved_reread_days": 0})
    assert pages == 3
    _same_as_a_clean_pull(server, tmp_path, library)


def test_a_song_listed_below_the_newest_cached_one_is_read_too(server, tmp_path):
    # a save whose date is older than the newest ones cached (made on a phone offline, listed
    # once it synced): Spotify lists it below them, and the count says one is new
    _pull(server, tmp_path / "c")
    server.account.saved_tracks.append({"id": base62_id(f"saved:{SAVED}"), "added_at": days_ago_iso(10 + 60, "late")})
    library, pages = _pull(server, tmp_path / "c")
    assert pages == 2  # down to it, not the whole list
    _same_as_a_clean_pull(server, tmp_path, library)


def test_the_open_data_finds_are_matched_to_the_tracks_by_arrow_not_a_scalar_per_track(server, tmp_path, monkeypatch):
    """A trial's profile of a quiet refresh of a 22,000-track library: 12 % of it in pandas'
    isin against a set of every track id (one pyarrow scalar per id, 0.15 to 0.35 s a call,
    six calls a refresh), where the discovery's finds are folded in and where the last
    discovery's are carried over. Both ask Arrow once."""
    import pyarrow as pa

    from recommender.sources.base import Found
    from recommender.sources.run import fold
    from recommender.spotify.sync import with_last_discovery
    library, _ = _pull(server, tmp_path / "c")
    ids = list(library.track_ids[:2])
    found = Found(discovered=[{"track_id": t, "source": "similar_artists", "evidence": "x"} for t in ids + ["nowhere"]],
                  recordings=[{"track_id": ids[0], "recording_mbid": "m"}],
                  similar_tracks=[{"track_id": ids[1], "seed_track_id": ids[0], "score": 1.0}])
    made = []
    real = pa.scalar
    monkeypatch.setattr(pa, "scalar", lambda *a, **k: made.append(1) or real(*a, **k))
    folded = fold(library, found, [])
    assert list(folded.frames["discovered"]["track_id"]) == ids  # a find without a track is dropped
    carried = with_last_discovery(library.replace(tracks=library.frames["tracks"].iloc[2:]), folded)
    assert set(ids) <= set(carried.frames["tracks"]["track_id"])
    assert list(carried.frames["discovered"]["track_id"]) == ids
    assert len(made) < len(library.track_ids) / 10


def test_a_403_on_a_playlist_you_collaborate_on_is_not_remembered_as_another_owners_is(server, tmp_path):
    # Spotify lets an app read the playlists you own or collaborate on; a bare 403 on either is
    # its passing fault. Your own was asked again on the next refresh, one you collaborate on
    # was remembered unreadable ("0 of 5 (unread)", none of its tracks your taste) until
    # someone edited it; another owner's stays remembered for its snapshot (no request)
    theirs, shared = "smallPlaylist000000004", "smallPlaylist000000005"
    server.account.playlists.append({**server.account.playlist(theirs), "id": shared, "name": "Shared",
                                     "collaborative": True, "items": list(server.account.playlist(theirs)["items"])})
    server.add_fault(Fault(method="GET", path=rf"^/v1/playlists/{shared}/items$", status=403, times=1))
    first, _ = _pull(server, tmp_path / "c")
    assert first.unreadable() == {theirs, shared}
    library, _ = _pull(server, tmp_path / "c")
    asked = [r.path for r in api_requests(server, "GET")]
    assert f"/v1/playlists/{shared}/items" in asked and f"/v1/playlists/{theirs}/items" not in asked
    assert library.unreadable() == {theirs} and library.playlist_tracks(shared)
    _pull(server, tmp_path / "c")  # read, and unchanged since: not asked again
    assert f"/v1/playlists/{shared}/items" not in [r.path for r in api_requests(server, "GET")]


def test_your_own_playlist_an_older_version_remembered_unreadable_is_read_again_after_another_403(server, tmp_path):
    # an older version remembered a bare 403 on your own playlist for its snapshot, its items
    # dropped; this one asks again, and when Spotify refuses once more, the pull kept that same
    # snapshot: the next refresh took the playlist for unchanged and read, with no tracks, until edited
    pid = "smallPlaylist000000001"  # your own
    held = _pull(server, tmp_path / "c")[0].playlist_tracks(pid)
    store = Store(tmp_path / "c")
    old = store.load_library()
    playlists = old.playlists.copy()
    playlists.loc[playlists["playlist_id"] == pid, "readable"] = False
    store.save_library(old.replace(playlists=playlists,
                                   playlist_items=old.playlist_items[old.playlist_items["playlist_id"] != pid]))
    server.add_fault(Fault(method="GET", path=rf"^/v1/playlists/{pid}/items$", status=403, times=1))
    _pull(server, tmp_path / "c")
    library, _ = _pull(server, tmp_path / "c")
    assert held and library.playlist_tracks(pid) == held


def test_your_own_empty_playlist_costs_no_request_and_is_read_once_it_holds_tracks(server, tmp_path):
    """Twenty empty playlists made in the app cost twenty requests a refresh, each asking for
    the items the listing said there were none of. Your own empty playlist is taken as the
    listing gives it; once it holds a track, its new snapshot is read as any other."""
    from spotify_helpers import add_by_hand
    cache = tmp_path / "cache"
    _pull(server, cache)
    gateway = gateway_for(settings_for(server, cache))
    made = gateway.create_playlist("Empty for now", False, "")["id"]
    library, _ = _pull(server, cache)
    assert made in set(library.playlists["playlist_id"])
    assert not [r for r in api_requests(server, "GET") if r.path == f"/v1/playlists/{made}/items"]
    track = str(library.tracks["track_id"].iloc[0])
    add_by_hand(gateway, made, [track])
    library, _ = _pull(server, cache)
    assert [r for r in api_requests(server, "GET") if r.path == f"/v1/playlists/{made}/items"]
    items = library.playlist_items
    assert items.loc[items["playlist_id"] == made, "track_id"].tolist() == [track]


def test_an_artist_you_no_longer_follow_nor_hear_leaves_the_cache_as_in_a_clean_pull(server, tmp_path):
    """An artist only followed (no track of the library credits it), unfollowed since: the
    incremental refresh kept every cached artist it did not meet again, so the artists frame only
    grew, unlike a clean pull's, and `status` and `enrich genres` counted (and looked up) artists
    of nothing in the library."""
    from recommender.status import genre_coverage
    gone = base62_id("artist:followed-only")
    server.account.artists[gone] = {"name": "Followed Only"}
    server.account.followed_artists.append(gone)
    first, _ = _pull(server, tmp_path / "c")
    assert gone in set(first.artists["artist_id"])
    server.account.followed_artists.remove(gone)
    library, _ = _pull(server, tmp_path / "c")
    clean, _ = _pull(server, tmp_path / "clean")
    assert gone not in set(library.artists["artist_id"])
    assert sorted(library.artists["artist_id"]) == sorted(clean.artists["artist_id"])
    assert genre_coverage(library)["artists"] == genre_coverage(clean)["artists"]


def test_a_refresh_stopped_right_after_its_frames_were_saved_leaves_no_count_that_misleads_the_next(
        server, tmp_path, monkeypatch):
    """The frames were saved, then the manifest (the snapshots, the saved tracks' count) written
    apart: a stop between the two (SIGTERM, Ctrl-C) left the new saved list beside the old count,
    and the next refresh, a song saved then and one unsaved since, took the cached list for
    Spotify's and kept the unsaved song for good."""
    from recommender.sources import albums
    _pull(server, tmp_path / "c")
    _save(server, SAVED)

    def stopped(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(albums, "new_to_you", stopped)
    with pytest.raises(KeyboardInterrupt):
        _pull(server, tmp_path / "c")
    monkeypatch.undo()
    gone = _unsave(server, 100)
    library, _ = _pull(server, tmp_path / "c")
    assert gone not in set(_saved(library)["track_id"])
    assert sorted(_saved(library)["track_id"]) == sorted(s["id"] for s in server.account.saved_tracks)
