"""build_playlist end to end against the stand-in: what a run survives (issue 10).

Same input, same output; a damaged cache is re-pulled and said so; every playlist the tool
ever managed stays out of the taste profile and of the evaluation targets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recommender import jobs, publish
from recommender.standins.spotify import Account, StandinServer
from recommender.store import Store

from spotify_helpers import add_by_hand, gateway_for, remove_by_hand, save_login, settings_for

FIXTURES = Path(__file__).parent / "fixtures"


def serve(account: Account, cache: Path):
    with StandinServer(account) as server:
        settings = settings_for(server, cache)
        save_login(server, cache)
        yield server, settings


@pytest.fixture
def sample(tmp_path):
    """The built-in sample library: big enough for ties to show how rows were ordered."""
    yield from serve(Account.sample(features=False), tmp_path / "cache")


@pytest.fixture
def small(tmp_path):
    yield from serve(Account.from_file(FIXTURES / "small_account.json"), tmp_path / "cache")


def build(settings, **kwargs) -> jobs.BuildResult:
    return jobs.build_playlist(settings, gateway=gateway_for(settings), **kwargs)


def test_an_unchanged_library_gives_an_unchanged_playlist(sample):
    server, settings = sample
    first = build(settings)
    assert first.created and first.added > 0
    again = build(settings, force_refresh=True)  # the library now lists the managed playlist too
    assert (again.added, again.removed, again.kept) == (0, 0, first.added)
    assert server.playlist_track_ids(again.playlist_id) == server.playlist_track_ids(first.playlist_id)


def test_a_run_reads_the_manifest_once(small, monkeypatch):
    """One build-playlist run read manifest.json 9 times (a dry run 5): load_library, age_hours,
    managed_state, pin requests, managed playlist ids, publish and three read-modify-writes."""
    server, settings = small
    build(settings)
    reads = []
    real = Store._read_json
    monkeypatch.setattr(Store, "_read_json", staticmethod(lambda path: reads.append(path.name) or real(path)))
    jobs.steer(settings, pin=["smallTrack000000000023"])  # state a run must still see and clear
    reads.clear()
    result = build(settings)
    assert reads == ["manifest.json"]
    assert server.playlist_track_ids(result.playlist_id)[0] == "smallTrack000000000023"
    manifest = Store(settings.cache_dir).read_manifest()
    assert manifest["pin_requests"] == [] and manifest["managed_playlist"]["id"] == result.playlist_id
    assert manifest == json.loads(Store(settings.cache_dir).backup_path.read_text())
    reads.clear()
    build(settings, dry_run=True)
    assert reads == ["manifest.json"]


def test_a_run_lists_your_playlists_once(small):
    """A build that refreshed (a stale or missing cache, or --refresh) read your playlists
    (`GET me/playlists`, all its pages) twice: the refresh's listing, then the managed
    playlist's look-up listed them again. The refresh's listing is used now; a build on a
    fresh cache lists them once, for the managed playlist."""
    server, settings = small

    def listings() -> int:
        return len([r for r in server.requests if r.method == "GET" and r.path == "/v1/me/playlists"])
    first = build(settings)  # no cache: a refresh, then the playlist is created
    assert first.refreshed and first.created and listings() == 1
    server.clear_requests()
    again = build(settings, force_refresh=True)  # the refresh's listing holds the managed playlist
    assert again.refreshed and not again.created and again.playlist_id == first.playlist_id
    assert listings() == 1
    server.clear_requests()
    fresh = build(settings)
    assert not fresh.refreshed and fresh.playlist_id == first.playlist_id and listings() == 1


def test_a_run_that_refreshes_reads_the_library_once(small, monkeypatch):
    """A build that refreshed first (a stale cache, --refresh; a dry run too, and the web app's
    warm-up, which shares it) read the cached library twice: before deciding to refresh, and
    again as the pull's starting point, each a scan of a big features import (0.15 s for 1.2
    million rows). The pull starts from the library read, unless another run saved the cache
    between that read and this run's lock: then it reads the newer one."""
    import pandas as pd
    server, settings = small
    build(settings)
    store = Store(settings.cache_dir)
    ids = store.load_library().track_ids[:3].tolist()
    store.save_frame("audio_features", pd.DataFrame({"track_id": ids, "energy": [0.5, 0.6, 0.7]}))
    reads = []
    read = Store._read_frame
    monkeypatch.setattr(Store, "_read_frame", staticmethod(lambda name, path, *only: reads.append(name) or read(name, path, *only)))
    for dry_run in (True, False):
        reads.clear()
        result = build(settings, dry_run=dry_run, force_refresh=True)
        assert result.refreshed and reads.count("audio_features") == reads.count("tracks") == 1, (dry_run, reads)
    writing = jobs.writing

    @jobs.contextmanager
    def saved_meanwhile(*args, **kw):  # another run saved the cache before this one took the lock
        store.save_frame("audio_features", pd.DataFrame({"track_id": ids, "energy": [0.1, 0.6, 0.7]}))
        with writing(*args, **kw):
            yield
    monkeypatch.setattr(jobs, "writing", saved_meanwhile)
    reads.clear()
    assert build(settings, dry_run=True, force_refresh=True).refreshed
    assert reads.count("audio_features") == reads.count("tracks") == 2  # the newer cache is the pull's start


@pytest.mark.parametrize("frame", ["top_tracks", "saved_tracks", "playlist_items"])
@pytest.mark.parametrize("damage", ["missing", "unreadable"])
def test_a_damaged_frame_is_re_pulled_said_and_changes_nothing(small, frame, damage):
    server, settings = small
    clean = build(settings, dry_run=True)
    path = Store(settings.cache_dir).frame_path(frame)
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes(b"PAR1 garbage")
    result = build(settings, dry_run=True)
    assert result.refreshed
    assert [m for m in result.messages if f"{frame}.parquet" in m and "re-pulled" in m]
    assert list(result.table["track_id"]) == list(clean.table["track_id"])
    assert Store(settings.cache_dir).frame_path(frame).exists()


def _make_again(frame: str, settings) -> None:
    """What the message says to run: `recommend import features FILE` or `recommend enrich genres`."""
    store = Store(settings.cache_dir)
    if frame == "audio_features":
        from recommender.features import import_features
        import_features(FIXTURES / "features" / "good.csv", store.load_library(), store)
    else:
        from recommender.enrich.musicbrainz import enrich_genres
        enrich_genres(store.load_library(), store, settings)


@pytest.mark.parametrize("frame, command", [("audio_features", "recommend import features FILE"),
                                            ("artist_genres", "recommend enrich genres")])
def test_a_damaged_frame_spotify_does_not_give_says_which_command_makes_it(small, frame, command):
    """A damaged audio_features or artist_genres frame said 'the cache will be re-pulled': the
    whole library was pulled from Spotify again, which does not give that frame; it came back
    empty and the next runs said nothing."""
    server, settings = small
    clean = build(settings, dry_run=True)
    path = Store(settings.cache_dir).frame_path(frame)
    path.write_bytes(b"PAR1 garbage")
    for force_refresh in (False, True, False):
        result = build(settings, dry_run=True, force_refresh=force_refresh)
        assert result.refreshed == force_refresh  # a damaged frame of this kind pulls nothing
        said = [m for m in result.messages if str(path) in m]
        assert len(said) == 1 and said[0].endswith(f"a refresh does not make it: run `{command}` again "
                                                   "(until then the tool works without it)"), result.messages
        assert path.read_bytes() == b"PAR1 garbage"  # left for that command, never emptied in silence
        assert list(result.table["track_id"]) == list(clean.table["track_id"])
    _make_again(frame, settings)
    assert Store(settings.cache_dir).load_frame(frame) is not None
    assert not [m for m in build(settings, dry_run=True).messages if str(path) in m]


def test_a_refresh_stopped_between_two_frames_is_re_pulled_not_used_half(small, monkeypatch):
    """A refresh saves 15 frames, one file at a time: a stop after some of them (disk full,
    killed) left new playlists beside old playlist items, and the next run used that mix as a
    fresh cache (no re-pull, no word)."""
    from recommender.errors import StorageError
    server, settings = small
    build(settings, dry_run=True)
    pid = "smallPlaylist000000001"
    edited = server.playlist_track_ids(pid)[:-3]
    gateway_for(settings).replace_items(pid, [publish.uri(t) for t in edited])  # the user, in the app
    real = Store.save_frame

    def disk_full_at_the_items(self, name, df):
        if name == "playlist_items":
            raise StorageError(f"cannot write {self.frame_path(name)}: No space left on device")
        real(self, name, df)
    monkeypatch.setattr(Store, "save_frame", disk_full_at_the_items)
    with pytest.raises(StorageError):
        build(settings, dry_run=True, force_refresh=True)
    monkeypatch.setattr(Store, "save_frame", real)
    result = build(settings, dry_run=True)
    assert result.refreshed
    assert [m for m in result.messages if "stopped before its last file" in m and "re-pulled" in m]
    items = Store(settings.cache_dir).load_frame("playlist_items")
    assert list(items[items["playlist_id"] == pid].sort_values("position")["track_id"]) == edited


def test_a_cache_another_run_is_saving_is_waited_for_not_called_stopped(small, monkeypatch, tmp_path):
    """A reader (search, moods, status, the web app, a dry run) that came while a cron refresh
    was writing its frames saw the ``saving`` mark and called the save stopped: 'no cached
    library: run refresh first' and a false 'stopped before its last file', for a save that
    ended a moment later."""
    import os
    import subprocess
    import sys
    import time

    from recommender import store as store_module
    from recommender.lock import lock_path
    server, settings = small
    build(settings, dry_run=True)
    store = Store(settings.cache_dir)
    saver = subprocess.Popen([sys.executable, "-c", (
        "import pathlib, sys, time\n"
        "from recommender.lock import RunLock\n"
        "from recommender.store import Store, now_iso\n"
        "with RunLock(sys.argv[1], command='refresh'):\n"
        "    Store(sys.argv[2]).update_manifest(saving=now_iso())  # its save begins\n"
        "    print('held', flush=True)\n"
        "    go = pathlib.Path(sys.argv[3])\n"
        "    for _ in range(1200):  # its save ends once the reader has seen it going (or 60 s)\n"
        "        if go.exists():\n"
        "            break\n"
        "        time.sleep(0.05)\n"
        "    Store(sys.argv[2])._saved()\n"), str(lock_path(settings.cache_dir)), str(settings.cache_dir),
        str(tmp_path / "go")],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    try:
        assert saver.stdout.readline().strip() == "held"
        reader = jobs.open_store(settings)  # knows who holds the run lock
        looked = reader.lock_holder

        def the_save_ends_once_the_reader_has_seen_it_going():
            holder = looked()
            (tmp_path / "go").touch()
            return holder
        reader.lock_holder = the_save_ends_once_the_reader_has_seen_it_going
        library = reader.load_library()
        assert library is not None and len(library.tracks) and (tmp_path / "go").exists()
        assert not reader.problems
    finally:
        (tmp_path / "go").touch()
        saver.wait(30)
    # a save still going when the reader gives up is said as such, never as a stopped one
    monkeypatch.setattr(store_module, "SAVE_WAIT", 0.3)
    saver = subprocess.Popen(saver.args[:-1] + [str(tmp_path / "never")], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    try:
        assert saver.stdout.readline().strip() == "held"
        reader = jobs.open_store(settings)  # knows who holds the run lock
        assert reader.load_library() is None
        assert len(reader.problems) == 1 and "being saved by a run in progress" in reader.problems[0]
        assert f"pid {saver.pid}: refresh" in reader.problems[0] and "stopped" not in reader.problems[0]
        # a mark older than the run holding the lock is an earlier run's stopped save: said at once
        store.update_manifest(saving="2026-11-30T06:00:00+00:00")
        monkeypatch.setattr(store_module, "SAVE_WAIT", 30)
        reader, started = jobs.open_store(settings), time.monotonic()
        assert reader.load_library() is None and time.monotonic() - started < 20  # not SAVE_WAIT's 30 s
        assert len(reader.problems) == 1 and "stopped before its last file" in reader.problems[0]
    finally:
        saver.kill()
        saver.wait(30)


def test_a_save_that_ends_between_the_readers_look_at_the_mark_and_at_the_lock_is_not_called_stopped(small):
    """A reader slowed down (a busy machine) read the ``saving`` mark, and by the time it looked
    at the run lock the save had ended and its run gone: it called the finished save stopped
    ('no cached library', a re-pull) from the mark it had read before."""
    from recommender.store import now_iso
    server, settings = small
    build(settings, dry_run=True)
    Store(settings.cache_dir).update_manifest(saving=now_iso())
    reader = Store(settings.cache_dir)

    def save_ends_and_its_run_goes():
        Store(settings.cache_dir)._saved()
        return None
    reader.lock_holder = save_ends_and_its_run_goes
    assert reader.load_library() is not None and not reader.problems, reader.problems
    # a mark still there once nobody holds the lock is a stopped save, as before
    Store(settings.cache_dir).update_manifest(saving=now_iso())
    reader = Store(settings.cache_dir)
    reader.lock_holder = lambda: None
    assert reader.load_library() is None and "stopped before its last file" in reader.problems[0]


def test_a_cache_another_thread_is_saving_is_waited_for_not_called_stopped(small, monkeypatch):
    """The web app: a page's thread read the library while a publish in another thread of the
    same process (holding the run lock) was saving the refreshed frames: 'stopped', no library."""
    import threading

    from recommender.lock import RunLock, lock_path
    server, settings = small
    build(settings, dry_run=True)
    store = Store(settings.cache_dir)
    library = store.load_library()
    real, began = Store.save_frame, threading.Event()

    def slow(self, name, df):
        began.set()
        threading.Event().wait(0.3)
        real(self, name, df)
    monkeypatch.setattr(Store, "save_frame", slow)

    def publish_thread():
        with RunLock(lock_path(settings.cache_dir), command="web publish"):
            Store(settings.cache_dir).save_library(library, ["tracks", "artists"])
    saver = threading.Thread(target=publish_thread)
    saver.start()
    try:
        assert began.wait(30)
        reader = jobs.open_store(settings)  # knows who holds the run lock
        assert reader.load_library() is not None and not reader.problems, reader.problems
    finally:
        saver.join(30)


def test_a_page_that_reads_just_as_this_process_marks_its_save_does_not_call_it_stopped(small, monkeypatch):
    """The web app: a page's thread read the ``saving`` mark the moment a publish in another
    thread of the same process had written it, before that thread said it was saving here: the
    page called the save stopped ('stopped before its last file', no library)."""
    from recommender import store as store_module
    from recommender.lock import RunLock, lock_path
    server, settings = small
    build(settings, dry_run=True)
    library = Store(settings.cache_dir).load_library()
    real, seen = Store.update_manifest, []

    def a_page_reads_right_after_the_mark(self, **values):
        real(self, **values)
        if values.get("saving"):  # another thread's page, at the worst moment
            reader = jobs.open_store(settings)  # knows who holds the run lock: this process
            seen.append((reader.load_library(), list(reader.problems)))
    monkeypatch.setattr(Store, "update_manifest", a_page_reads_right_after_the_mark)
    monkeypatch.setattr(store_module, "SAVE_WAIT", 0.3)  # the save cannot end while the page waits here
    with RunLock(lock_path(settings.cache_dir), command="web publish"):
        Store(settings.cache_dir).save_library(library, ["tracks", "artists"])
    [(loaded, problems)] = seen
    assert loaded is None and len(problems) == 1, problems
    assert "being saved by a run in progress" in problems[0] and "stopped" not in problems[0]


@pytest.mark.parametrize("damage", [
    {"managed_playlist": "P1"}, {"user_removed": 5}, {"user_removed": [{"id": "x"}]}, {"pin_requests": 3},
    {"fetched_at": 5}, {"managed_playlist": {"pinned": None}}, {"managed_playlist": {"pending": 7}},
    {"discovery": []}, {"discovery": {"albums_by_artist": "x"}}, {"artist_genres_api": 5},
    {"managed_playlist": {"not_yours": 5}}],
    ids=["playlist-a-string", "removed-a-number", "removed-objects", "pins-a-number", "fetched-a-number",
         "pinned-null", "pending-a-number", "discovery-a-list", "albums-a-string", "genres-probe-a-number",
         "not-yours-a-number"])
def test_a_manifest_damaged_into_other_json_is_recovered_from_its_second_copy(small, damage):
    """Still JSON, but not the shape the tool wrote (a hand edit, a damaged value): every run
    crashed with exit 1 ('str' object has no attribute 'get', 'int' object is not iterable...)."""
    server, settings = small
    first = build(settings)
    store = Store(settings.cache_dir)
    data = json.loads(store.manifest_path.read_text())
    for key, value in damage.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    store.manifest_path.write_text(json.dumps(data))
    again = build(settings, force_refresh=True)  # the nightly run: its refresh reads the last one's state too
    assert again.playlist_id == first.playlist_id and not again.created
    assert [m for m in again.messages if "manifest.json was unreadable" in m and "manifest.backup.json" in m]
    assert server.playlist_track_ids(first.playlist_id) == server.playlist_track_ids(again.playlist_id)


def test_every_managed_playlist_stays_out_of_taste_and_evaluation(small, monkeypatch):
    from recommender import pipeline
    server, settings = small
    first = build(settings)
    second = build(settings, new_playlist=True, force_refresh=True)
    assert second.playlist_id != first.playlist_id
    # the old playlist is still in the user's library, but it is our output, not their taste
    assert first.playlist_id in set(Store(settings.cache_dir).load_library().playlists["playlist_id"])
    scored = []
    real = pipeline.candidate_scoring  # the library a build scores (its seeds and candidates)
    monkeypatch.setattr(pipeline, "candidate_scoring", lambda lib, *a, **k: scored.append(lib) or real(lib, *a, **k))
    third = build(settings, force_refresh=True)
    assert (third.added, third.removed) == (0, 0)
    assert not set(scored[0].playlists["playlist_id"]) & {first.playlist_id, second.playlist_id}
    assert not set(scored[0].playlist_items["playlist_id"]) & {first.playlist_id, second.playlist_id}
    setup = jobs.evaluation_setup(settings.with_overrides({"evaluate.min_tracks": 2}))
    targets = set(setup.hidden["playlist_id"])
    assert not targets & {first.playlist_id, second.playlist_id}
    assert set(publish.managed_playlist_ids(Store(settings.cache_dir))) == {first.playlist_id, second.playlist_id}


def test_only_ours_names_the_tracks_no_playlist_of_yours_saved_or_top_list_holds():
    """The tracks only this tool's playlists hold (the managed one, a mood export) are in
    nothing of yours: no candidate "new to you". One also in a playlist of yours, saved or a top
    track is yours; with no playlist of ours, or none of them in the cache, there are none."""
    import pandas as pd
    from recommender.library import Library
    items = [("mine", "a"), ("mine", "b"), ("managed", "b"), ("managed", "c"), ("managed", "d"), ("managed", "t"),
             ("mood", "e"), ("mood", "c")]
    lib = Library.from_frames(
        tracks=pd.DataFrame({"track_id": list("abcdet")}),
        playlists=pd.DataFrame({"playlist_id": ["mine", "managed", "mood"], "name": ["Mine", "For you", "Calm"]}),
        playlist_items=pd.DataFrame({"playlist_id": [p for p, _ in items], "track_id": [t for _, t in items]}),
        saved_tracks=pd.DataFrame({"track_id": ["d"], "added_at": ["2026-01-01T00:00:00Z"]}),
        top_tracks=pd.DataFrame({"track_id": ["t"], "time_range": ["short_term"], "rank": [1]}))
    assert jobs.only_ours(lib, ["managed", "mood", None]) == ["c", "e"]
    assert jobs.only_ours(lib, [None]) == [] and jobs.only_ours(lib, ["gone"]) == []


def test_a_run_that_recommends_nothing_leaves_the_playlist_as_it_is_even_with_pins(small):
    # Regression: with nothing to recommend the playlist is left as it is, but a pinned track
    # made the table non-empty, so the run rewrote the playlist to the pins alone and dropped
    # every earlier recommendation.
    server, settings = small
    first = build(settings)
    before = server.playlist_track_ids(first.playlist_id)
    jobs.steer(settings, pin=["smallTrack000000000023"])
    strict = settings.with_overrides({"blend.threshold": 1.0, "blend.min_tracks": 0})
    result = build(strict)
    assert result.table.empty and "blend.threshold" in result.reason
    assert server.playlist_track_ids(first.playlist_id) == before
    assert result.to_json()["tracks"][0]["why"] == "left as it was"
    assert result.to_json()["tracks"][0]["artist_mix"] is None  # not scored this run: no factor
    # every track of --json has the same keys, scored this run or left as it was
    assert set(result.to_json()["tracks"][0]) == set(first.to_json()["tracks"][0])
    assert (result.to_json()["tracks"][0]["new"], result.to_json()["tracks"][0]["source"]) == (None, None)


def test_a_cache_stamped_far_ahead_of_the_clock_is_refreshed(small):
    """After one refresh under a clock set years ahead, ``fetched_at`` said 2031: its age was
    negative, never above cache.max_age_hours, so no build-playlist (nor nightly run) refreshed
    until 2031. A stamp more than a day ahead is now an unknown age, refreshed like an
    unreadable one; up to a day ahead it is just now (fresh)."""
    from datetime import timedelta

    from recommender.isotime import utc_now
    server, settings = small
    build(settings, dry_run=True)
    store = Store(settings.cache_dir)
    store.update_manifest(fetched_at="2031-01-01T00:00:00+00:00")
    assert build(settings, dry_run=True).refreshed
    store.update_manifest(fetched_at=(utc_now() + timedelta(hours=20)).isoformat())
    assert not build(settings, dry_run=True).refreshed


def test_a_pinned_track_removed_in_the_web_app_leaves_the_playlist_and_stays_out(small):
    """`recommend web`'s remove on a pinned track already in the playlist said "removed: it will
    not be recommended again" and did nothing: the pin kept in the playlist's record outlived the
    removal (managed_state drops any removal of a pinned track, a track added back by hand being
    wanted again), so the next run kept it, pinned, first. A removal now ends the pin too."""
    server, settings = small
    first = build(settings)
    pick = "smallTrack000000000023"
    jobs.steer(settings, pin=[pick])
    build(settings)
    assert pick in server.playlist_track_ids(first.playlist_id)
    assert pick in Store(settings.cache_dir).read_manifest()["managed_playlist"]["pinned"]
    jobs.steer(settings, remove=[pick])
    build(settings)
    assert pick not in server.playlist_track_ids(first.playlist_id)
    manifest = Store(settings.cache_dir).read_manifest()
    assert pick in manifest["user_removed"] and pick not in manifest["managed_playlist"]["pinned"]
    build(settings)
    assert pick not in server.playlist_track_ids(first.playlist_id)


def test_a_published_pin_unpinned_in_the_web_app_is_no_longer_pinned(small):
    """Unpin in `recommend web` ended only the pin request: once a run had published the pin,
    the playlist's record kept it pinned, placed first run after run. Unpin ends it there too."""
    server, settings = small
    build(settings)
    pick = "smallTrack000000000023"
    jobs.steer(settings, pin=[pick])
    build(settings)
    assert pick in Store(settings.cache_dir).read_manifest()["managed_playlist"]["pinned"]
    jobs.steer(settings, unpin=[pick])
    result = build(settings)
    assert pick not in Store(settings.cache_dir).read_manifest()["managed_playlist"]["pinned"]
    assert pick not in set(result.table.loc[result.table["pinned"].astype(bool), "track_id"])


def pinned_ids(result: jobs.BuildResult) -> set[str]:
    return set(result.table.loc[result.table["pinned"].astype(bool), "track_id"])


def test_a_pin_not_published_yet_is_pinned_by_you_and_a_track_added_by_hand_kept_by_you(small):
    """A track pinned in `recommend web` and not yet on the published playlist said "kept by
    you" (the Next page, `build-playlist --dry-run`), as a track you added there by hand: it says
    "pinned by you" until a publish puts it there."""
    server, settings = small
    pid = build(settings).playlist_id
    mine, pick = "smallTrack000000000019", "smallTrack000000000021"
    assert mine not in server.playlist_track_ids(pid) and pick not in server.playlist_track_ids(pid)
    add_by_hand(gateway_for(settings), pid, [mine])
    jobs.steer(settings, pin=[pick])

    def whys(result: jobs.BuildResult) -> dict[str, str]:
        return dict(zip(result.table["track_id"], result.table["why"]))
    assert {mine, pick} <= pinned_ids(build(settings, dry_run=True))
    assert whys(build(settings, dry_run=True))[pick] == "pinned by you"
    assert whys(build(settings, dry_run=True))[mine] == "kept by you"
    published = build(settings)
    assert pick in server.playlist_track_ids(pid) and whys(published)[pick] == "pinned by you"  # as it was placed
    assert whys(build(settings, dry_run=True))[pick] == "kept by you"  # on the playlist now


def test_tracks_added_by_hand_past_max_tracks_all_stay_on_the_playlist(small):
    """blend.max_tracks 5 and seven tracks added by hand in Spotify (friends, on a collaborative
    playlist): the run rewrote the playlist with the first five and the other two were gone from
    Spotify, unsaid and unremembered. A track you add by hand stays (README): every one is kept,
    and no recommendation is added while they fill the list."""
    server, settings = small
    settings = settings.with_overrides({"blend.max_tracks": 5, "blend.min_tracks": 0})
    pid = build(settings).playlist_id
    picks = server.playlist_track_ids(pid)
    mine = [t for t in (f"smallTrack0000000000{n:02d}" for n in range(1, 24)) if t not in picks][:7]
    assert len(mine) == 7
    add_by_hand(gateway_for(settings), pid, mine)
    assert set(mine) <= pinned_ids(build(settings, dry_run=True))
    build(settings)
    assert set(mine) <= set(server.playlist_track_ids(pid)), server.playlist_track_ids(pid)
    build(settings)
    assert set(mine) <= set(server.playlist_track_ids(pid))


def test_a_track_added_by_hand_then_removed_in_the_web_app_leaves_the_playlist(small):
    """A track added by hand in Spotify since the last run shows in `recommend web` as pinned,
    kept by you; its remove said "removed: it will not be recommended again" and did nothing:
    the pin was not in the playlist's record yet, so the next run found the hand-added track
    again, pinned it, and dropped the removal (a track added back is wanted again). The
    removal now ends that pin too; the user's other hand pins stay pinned."""
    server, settings = small
    first = build(settings)
    pid = first.playlist_id
    mine, other = "smallTrack000000000019", "smallTrack000000000021"
    assert mine not in server.playlist_track_ids(pid) and other not in server.playlist_track_ids(pid)
    add_by_hand(gateway_for(settings), pid, [mine, other])
    assert {mine, other} <= pinned_ids(build(settings, dry_run=True))
    jobs.steer(settings, remove=[mine])
    assert mine not in set(build(settings, dry_run=True).table["track_id"])
    build(settings)
    assert mine not in server.playlist_track_ids(pid) and other in server.playlist_track_ids(pid)
    manifest = Store(settings.cache_dir).read_manifest()
    assert mine in manifest["user_removed"] and mine not in manifest["managed_playlist"]["pinned"]
    assert other in manifest["managed_playlist"]["pinned"]
    build(settings)
    assert mine not in server.playlist_track_ids(pid)


@pytest.mark.parametrize("published", [False, True])
def test_a_track_removed_in_the_web_app_then_added_by_hand_is_kept_as_a_hand_add(small, monkeypatch, published):
    """A track removed in `recommend web` and then added to the managed playlist by hand in
    Spotify before the next run was taken as the removal: the next run dropped it again. The
    later action wins: added after the removal (Spotify's added_at), it is a hand add, pinned
    and kept, its removal forgotten; a track added by hand before its removal stays removed
    (test_a_track_added_by_hand_then_removed_in_the_web_app_leaves_the_playlist). ``published``:
    the track was in the playlist already (the hand add is a second entry of it), else not."""
    from datetime import timedelta

    from recommender import isotime
    server, settings = small
    pid = build(settings).playlist_id
    before = server.playlist_track_ids(pid)
    pick = before[-1] if published else "smallTrack000000000019"
    assert (pick in before) == published
    clock = [isotime.utc_now()]
    monkeypatch.setattr(isotime, "_clock", lambda: clock[0])
    jobs.steer(settings, remove=[pick])
    assert pick not in set(build(settings, dry_run=True).table["track_id"])
    clock[0] += timedelta(minutes=2)  # the user turns to Spotify
    add_by_hand(gateway_for(settings), pid, [pick])
    assert pick in pinned_ids(build(settings, dry_run=True))
    result = build(settings)
    assert pick in pinned_ids(result) and server.playlist_track_ids(pid).count(pick) == 1
    manifest = Store(settings.cache_dir).read_manifest()
    assert pick not in manifest["user_removed"] and pick in manifest["managed_playlist"]["pinned"]
    assert publish.REMOVED_AT not in manifest["managed_playlist"]
    build(settings)
    assert pick in server.playlist_track_ids(pid)


def test_a_track_removed_in_the_web_app_soon_after_a_publish_stays_removed_on_a_clock_behind_spotifys(
        small, monkeypatch):
    """The removal's time is this computer's clock, a track's ``added_at`` Spotify's: with the
    clock two minutes behind, a track removed in `recommend web` a minute after the publish that
    wrote it looked added after its removal, a hand add, kept and pinned, its removal dropped.
    The entry our verified write put there is never a hand add, whatever the clocks say."""
    from datetime import timedelta

    from recommender import isotime
    server, settings = small
    spotify = [isotime.utc_now()]
    monkeypatch.setattr(isotime, "_clock", lambda: spotify[0])
    pid = build(settings).playlist_id  # written at Spotify's time
    pick = server.playlist_track_ids(pid)[-1]
    spotify[0] += timedelta(minutes=1)
    here = spotify[0] - timedelta(minutes=2)  # this computer's clock, behind Spotify's
    monkeypatch.setattr(isotime, "_clock", lambda: here)
    jobs.steer(settings, remove=[pick])
    monkeypatch.setattr(isotime, "_clock", lambda: spotify[0])
    assert pick not in set(build(settings, dry_run=True).table["track_id"])
    build(settings)
    assert pick not in server.playlist_track_ids(pid)
    assert pick in Store(settings.cache_dir).read_manifest()["user_removed"]


def removed_in_the_web_app(small, monkeypatch, count: int = 1):
    """Build, then remove the playlist's last ``count`` tracks in `recommend web`, one steer each a
    minute apart; returns (pid, the removed tracks, a hand add of tracks two minutes later)."""
    from datetime import timedelta

    from recommender import isotime
    server, settings = small
    pid = build(settings).playlist_id
    picks = server.playlist_track_ids(pid)[-count:]
    clock = [isotime.utc_now()]
    monkeypatch.setattr(isotime, "_clock", lambda: clock[0])
    for pick in picks:
        jobs.steer(settings, remove=[pick])
        clock[0] += timedelta(minutes=1)

    def add_later(tracks: list[str]) -> None:
        clock[0] += timedelta(minutes=2)  # the user turns to Spotify
        add_by_hand(gateway_for(settings), pid, tracks)
    return pid, picks, add_later


def test_each_removal_in_the_web_app_keeps_its_time_until_the_next_run(small, monkeypatch):
    """Two removals in `recommend web` before a run: a second steer that kept only its own
    removal's time would make a hand add of the first track, after its removal, a removal again."""
    _, settings = small
    _, (first, second), add_later = removed_in_the_web_app(small, monkeypatch, 2)
    add_later([first])
    result = build(settings, dry_run=True)
    assert first in pinned_ids(result) and second not in set(result.table["track_id"])


def test_a_removal_in_the_web_app_keeps_its_time_through_a_run_stopped_while_writing(small, monkeypatch):
    """A run stopped while writing the playlist (Spotify's daily quota) leaves its write pending:
    the removal's time must outlast it, else a hand add of the track after the removal, before
    the next run, is taken as the removal again and the track leaves the playlist."""
    from recommender.errors import RateLimited
    from recommender.standins.spotify import Fault
    server, settings = small
    _, [pick], add_later = removed_in_the_web_app(small, monkeypatch)
    server.add_fault(Fault(method="*", path=r"^/v1/playlists/[^/]+/items$", status=429, reason="QUOTA_EXCEEDED",
                           times=1))
    with pytest.raises(RateLimited):
        build(settings)
    assert Store(settings.cache_dir).read_manifest()["managed_playlist"]["pending"] is not None
    server.clear_faults()
    (settings.cache_dir / "spotify-wait.json").unlink()  # the quota's day has passed
    add_later([pick])
    assert pick in pinned_ids(build(settings, dry_run=True))


def test_a_removed_track_that_a_write_of_ours_put_back_is_no_hand_add(small, monkeypatch):
    """A run begun before your removal in `recommend web` (its write pending, its fate unknown:
    stopped, killed) may put the track in the playlist after the removal: that add is ours, not
    yours, and the removal stands."""
    _, settings = small
    _, [pick], add_later = removed_in_the_web_app(small, monkeypatch)
    store = Store(settings.cache_dir)
    info = store.read_manifest()["managed_playlist"]
    store.update_manifest(managed_playlist={**info, "pending": list(info["last_written"])})  # the run began before
    add_later([pick])  # its write lands after the removal
    result = build(settings, dry_run=True)
    assert pick not in pinned_ids(result) and pick not in set(result.table["track_id"])


def test_a_track_added_by_hand_then_unpinned_in_the_web_app_is_ranked_like_any_other(small):
    """Unpin of a track added by hand since the last run did nothing: the next run found it
    again, added by hand, and pinned it. It is now ranked like any other track (not removed),
    and added again by hand after that run, it is pinned again."""
    server, settings = small
    pid = build(settings).playlist_id
    mine, other = "smallTrack000000000019", "smallTrack000000000021"
    add_by_hand(gateway_for(settings), pid, [mine, other])
    jobs.steer(settings, unpin=[mine])
    assert mine not in pinned_ids(build(settings, dry_run=True))
    result = build(settings)
    assert mine not in pinned_ids(result) and other in pinned_ids(result)
    manifest = Store(settings.cache_dir).read_manifest()
    assert mine not in manifest["user_removed"] and mine not in manifest["managed_playlist"]["pinned"]
    if mine in server.playlist_track_ids(pid):  # kept as a recommendation: take it out to add it back
        remove_by_hand(gateway_for(settings), pid, [mine])
        build(settings)
        assert mine in Store(settings.cache_dir).read_manifest()["user_removed"]
    add_by_hand(gateway_for(settings), pid, [mine])
    assert mine in pinned_ids(build(settings, dry_run=True))


def test_a_track_that_made_room_for_a_pin_of_its_artist_says_so(small):
    """A pin takes one of its artist's ``blend.max_per_artist`` places: a higher-scored track of
    that artist left the playlist, and nothing said why (the web app's Removed list, the CLI's
    diff). The run names it and the pin it made room for; a track that left for another reason
    is not named."""
    server, settings = small
    settings = settings.with_overrides({"blend.max_per_artist": 1})
    first = build(settings)
    tracks = Store(settings.cache_dir).load_library().tracks
    first_artist = {str(t): str(a[0]) for t, a in zip(tracks["track_id"], tracks["artist_names"]) if len(a)}
    chosen = list(first.table["track_id"])
    pick, pin = next((a, b) for a in chosen for b in first_artist
                     if b not in chosen and b != a and first_artist[b] == first_artist.get(a))
    jobs.steer(settings, pin=[pin])
    result = build(settings, dry_run=True)
    assert pin in pinned_ids(result) and pick in result.removed_ids
    assert result.gave_way == {pick: pin}
    assert result.to_json()["diff"]["gave_way"] == {pick: pin}
    assert not [m for m in result.messages if "made room" in m]  # not a note: no news for a cron mail
    (note,) = jobs.gave_way_note(result.gave_way, result.label_parts)  # said under the table
    assert note.startswith("1 track made room for a pinned track of the same artist (blend.max_per_artist caps "
                           "the tracks per artist): ")
    assert f"for your pinned {result.label_parts[pin][0]!r}" in note
    roomier = build(settings.with_overrides({"blend.max_per_artist": 2}), dry_run=True)
    assert pin in pinned_ids(roomier) and roomier.gave_way == {}  # room for both: nothing made room


def test_a_renamed_managed_playlist_that_is_gone_is_named_as_you_renamed_it(small):
    """You renamed the managed playlist in Spotify, then unfollowed it: the next run said "the
    managed playlist 'recommend: for you' ... is no longer in your playlists", a name you had
    not seen on it for a while."""
    server, settings = small
    pid = build(settings).playlist_id
    server.account.playlist(pid)["name"] = "My renamed recs"
    build(settings)  # reads it under its new name
    server.account.playlist(pid)["followed"] = False
    (note,) = [m for m in build(settings).messages if "no longer in your playlists" in m]
    assert note.startswith(f"the managed playlist 'My renamed recs' ({pid}) is no longer in your playlists")


def test_a_new_playlist_starts_fresh_without_the_old_ones_hand_adds(small):
    """README: `--new-playlist` starts a fresh one, the old one kept as it is. The tracks you
    had added by hand to the old one were copied into the new one, first, pinned "kept by you"
    (after you delete the managed playlist they are not: the same rule now). Your removals and
    a pin asked in `recommend web` carry over."""
    server, settings = small
    first = build(settings)
    old = first.playlist_id
    mine = "smallTrack000000000019"
    assert mine not in server.playlist_track_ids(old)
    add_by_hand(gateway_for(settings), old, [mine])
    assert mine in pinned_ids(build(settings, dry_run=True))  # still the old one: pinned there
    gone, asked = first.table["track_id"].iloc[0], first.table["track_id"].iloc[-1]
    jobs.steer(settings, remove=[gone], pin=[asked])
    fresh = build(settings, new_playlist=True)
    assert fresh.created and fresh.playlist_id != old
    assert pinned_ids(fresh) == {asked} and gone not in set(fresh.table["track_id"])
    assert mine in server.playlist_track_ids(old)  # the old one is left as it is
    assert mine not in pinned_ids(build(settings, dry_run=True))
