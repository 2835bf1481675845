"""The cache directory: the manifest's second copy, leftovers of killed writes, missing frames."""

from __future__ import annotations

import json
import os
import time

import pandas as pd
import pytest

from recommender import jobs
from recommender.config import load_settings
from recommender.store import Store
from deprecation_marks import DEPRECATIONS_OF_OURS

pytestmark = DEPRECATIONS_OF_OURS


def own_state() -> dict:
    return {"managed_playlist": {"id": "P1", "name": "x", "last_written": ["a", "b"], "pending": None},
            "user_removed": ["c", "d"], "managed_history": [{"id": "P0"}, {"id": "P1"}], "fetched_at": "2026-01-01"}


@pytest.mark.parametrize("damage", [b"{\"managed_playlist\": {\"id\": ", b"\x00\xff garbage", b"[1, 2]", None,
                                    # a field publish reads as a map (track -> when): never carried on as it is
                                    b"{\"managed_playlist\": {\"id\": \"P1\", \"removed_at\": [\"a\"]}}"],
                         ids=["truncated", "binary", "not-an-object", "deleted", "removed_at-not-a-map"])
def test_a_damaged_manifest_is_recovered_from_its_second_copy_and_said_once(tmp_path, damage):
    store = Store(tmp_path)
    store.write_manifest(own_state())
    if damage is None:
        store.manifest_path.unlink()
    else:
        store.manifest_path.write_bytes(damage)
    fresh = Store(tmp_path)
    data = fresh.read_manifest()
    assert data["user_removed"] == ["c", "d"] and data["managed_playlist"]["id"] == "P1"
    fresh.read_manifest()
    assert len(fresh.problems) == 1
    line = fresh.problems[0]
    assert "\n" not in line and "manifest.json" in line and "manifest.backup.json" in line
    assert line.startswith(f"{store.manifest_path} was " + ("missing;" if damage is None else "unreadable ("))
    assert "the managed playlist P1, 2 tracks you removed, 2 playlists managed so far" in line
    fresh.update_manifest(fetched_at="2026-02-02")  # the next write restores both copies
    assert json.loads(store.manifest_path.read_text())["user_removed"] == ["c", "d"]
    assert Store(tmp_path).read_manifest()["fetched_at"] == "2026-02-02" and Store(tmp_path).problems == []


def test_a_manifest_of_another_schema_version_keeps_only_what_cannot_be_pulled_again(tmp_path):
    """An upgrade that changes the cache's schema rebuilds the cache: the manifest's pulled
    state goes, the state only we know (the managed playlists of every slot, your removals) stays."""
    from recommender import schema
    store = Store(tmp_path)
    mood = {"id": "M1", "name": "m", "last_written": [], "pending": None}
    old = {**own_state(), "managed_playlist:mood:happy": mood, "user_removed:mood:happy": ["e"],
           "accounts": {"other": {"user_removed": ["z"]}}, "snapshots": {"P1": "s"}, "user_id": "u",
           "schema_version": schema.SCHEMA_VERSION - 1}
    store.manifest_path.write_text(json.dumps(old))
    kept = Store(tmp_path).read_manifest()
    assert kept == {k: old[k] for k in ("managed_playlist", "user_removed", "managed_history",
                                        "managed_playlist:mood:happy", "user_removed:mood:happy", "accounts")}


def test_a_damaged_backup_alone_loses_nothing(tmp_path):
    store = Store(tmp_path)
    store.write_manifest(own_state())
    store.backup_path.write_text("garbage")
    fresh = Store(tmp_path)
    assert fresh.read_manifest()["user_removed"] == ["c", "d"] and fresh.problems == []


def test_one_read_keeps_the_manifest_and_every_write_still_makes_both_copies(tmp_path, monkeypatch):
    Store(tmp_path).write_manifest(own_state())
    store = Store(tmp_path)
    store.manifest_path.write_text("garbage")  # recovered from the backup, inside a run too
    reads = []
    real = Store._read_json
    monkeypatch.setattr(Store, "_read_json", staticmethod(lambda path: reads.append(path.name) or real(path)))
    with store.one_read():
        first = store.read_manifest()
        first["user_removed"].append("mutated by a caller")  # a copy: the kept one is untouched
        assert store.read_manifest()["user_removed"] == ["c", "d"]
        store.update_manifest(fetched_at="2026-02-02")
        assert store.read_manifest()["fetched_at"] == "2026-02-02"
        assert reads == ["manifest.json", "manifest.backup.json"] and len(store.problems) == 1
        on_disk = [json.loads(p.read_text()) for p in (store.manifest_path, store.backup_path)]
        assert on_disk[0] == on_disk[1] and on_disk[0]["fetched_at"] == "2026-02-02"
        assert on_disk[0]["user_removed"] == ["c", "d"]
        Store(tmp_path).update_manifest(user_removed=["x"])  # another writer (before our lock)
        assert store.read_manifest()["user_removed"] == ["c", "d"]  # kept ...
        store.forget_manifest()
        assert store.read_manifest()["user_removed"] == ["x"]  # ... until forgotten
    reads.clear()
    store.read_manifest()
    store.read_manifest()  # (one read alone would pass with the first one kept)
    assert reads == ["manifest.json"] * 2  # outside a run every read goes to disk
    never_in_a_run = Store(tmp_path)
    reads.clear()
    never_in_a_run.read_manifest()
    never_in_a_run.read_manifest()
    assert reads == ["manifest.json"] * 2


def test_both_copies_damaged_is_reported_not_fatal(tmp_path):
    store = Store(tmp_path)
    store.write_manifest(own_state())
    store.manifest_path.write_text("garbage")
    store.backup_path.write_text("garbage")
    fresh = Store(tmp_path)
    assert fresh.read_manifest() == {}
    assert len(fresh.problems) == 1 and "no readable backup" in fresh.problems[0]


def test_leftover_temporary_files_are_removed_by_the_next_writer(tmp_path):
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path)})
    store = Store(tmp_path)
    store.save_frame("saved_tracks", pd.DataFrame({"track_id": ["a"], "added_at": ["2026-01-01"]}))
    left = [tmp_path / ".tracks.parquet.k1ll3d.tmp", tmp_path / ".manifest.json.x9.tmp"]
    for p in left:
        p.write_bytes(b"half written")
        os.utime(p, (time.time() - 3600, time.time() - 3600))  # from a run killed an hour ago
    fresh = tmp_path / ".spotify-token.json.w1p.tmp"  # being written right now by a lock-free command
    fresh.write_text("{}")
    keep = tmp_path / "notes.tmp.txt"
    keep.write_text("not ours")
    with jobs.writing(settings, "refresh"):
        pass
    assert not any(p.exists() for p in left)
    assert keep.exists() and fresh.exists() and store.frame_path("saved_tracks").exists()


KILLED_ANSWER_WRITE = """
import os, signal, sys
from recommender.services.cache import AnswerCache
os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)  # killed between the write and the rename
AnswerCache(sys.argv[1], {"similar_artists": 7}, save_every=1).put("similar_artists", "mbid", ["answer"])
"""


def test_a_write_of_open_data_answers_killed_half_way_leaves_no_temporary_file_after_the_next_run(tmp_path):
    """A run killed (kill -9) while it wrote its open-data answers left
    ``opendata/.similar_artists.json.*.tmp`` for good: the clean-up looked in the top folders only."""
    import subprocess
    import sys
    from pathlib import Path
    cache = tmp_path
    settings = load_settings(environ={}, overrides={"cache.dir": str(cache)})
    assert settings.frames_dir == cache
    repo = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, "-c", KILLED_ANSWER_WRITE, str(cache / "opendata")], timeout=120,
                          env={**os.environ, "PYTHONPATH": repo}, capture_output=True, text=True)
    assert done.returncode == -9, done.stderr
    left = list((cache / "opendata").glob(".*.tmp"))
    assert [p.name.split(".json.")[0] for p in left] == [".similar_artists"]
    index = cache / "datasets" / ".search-0123456789abcdef.npz.k1ll3d.tmp"  # a search index's, the other such folder
    index.parent.mkdir()
    index.write_bytes(b"half written")
    for p in (*left, index):
        os.utime(p, (time.time() - 3600, time.time() - 3600))  # from a run killed an hour ago
    fresh = cache / "opendata" / ".isrc.json.w1p.tmp"  # being written right now
    fresh.write_text("{}")
    with jobs.writing(settings, "refresh"):
        pass
    assert not any(p.exists() for p in (*left, index)) and fresh.exists()


def test_frames_and_manifest_in_separate_directories_and_leftovers_of_both_removed(tmp_path):
    state, cache = tmp_path / "state", tmp_path / "cache"
    store = Store(state, cache)
    store.save_frame("saved_tracks", pd.DataFrame({"track_id": ["a"], "added_at": ["2026-01-01"]}))
    store.write_manifest({"fetched_at": "2026-01-01T00:00:00+00:00"})
    assert sorted(p.name for p in state.iterdir()) == ["manifest.backup.json", "manifest.json"]
    assert [p.name for p in cache.iterdir()] == ["saved_tracks.parquet"]
    left = [cache / ".tracks.parquet.k1ll3d.tmp", state / ".manifest.json.x9.tmp"]
    for p in left:
        p.write_bytes(b"half written")
        os.utime(p, (time.time() - 3600, time.time() - 3600))
    assert sorted(store.remove_leftovers()) == sorted(left)
    assert not any(p.exists() for p in left)


def test_a_save_removes_the_copy_an_older_version_left_in_the_other_directory(tmp_path):
    """A frame an older version kept in the state directory (before the state/cache split) is
    read until the next save; that save writes its home and removes the stale copy, which an
    older version run again would otherwise take for the newer data (untested: a save that kept
    it, or removed it by the wrong rule, passed)."""
    state, cache = tmp_path / "state", tmp_path / "cache"
    store = Store(state, cache)
    state.mkdir()
    old = pd.DataFrame({"track_id": ["a"], "added_at": ["2026-01-01"]})
    old.to_parquet(state / "saved_tracks.parquet", index=False)  # an older version's copy
    assert store.frame_path("saved_tracks") == state / "saved_tracks.parquet"
    store.save_frame("saved_tracks", pd.DataFrame({"track_id": ["b"], "added_at": ["2026-02-02"]}))
    assert not (state / "saved_tracks.parquet").exists()
    assert store.frame_path("saved_tracks") == cache / "saved_tracks.parquet"
    assert list(Store(state, cache).load_frame("saved_tracks")["track_id"]) == ["b"]
    one = Store(tmp_path / "one")  # one directory for both: the file just written is never removed
    one.save_frame("saved_tracks", old)
    assert list(one.load_frame("saved_tracks")["track_id"]) == ["a"]


def test_a_login_as_another_account_sets_aside_its_own_state_keeps_the_shared_and_gives_it_back(tmp_path):
    """``switch_account``: the managed playlist and your removals are the account's own (set
    aside under ``accounts``, given back when it logs in again); the cache's fetch time goes
    (the new account's library is pulled); what belongs to the app and this machine, such as
    Spotify's refusal of audio features to this app, stays for every account."""
    store = Store(tmp_path)
    mine = {"managed_playlist": {"id": "p1", "name": "recommend: for you"}, "user_removed": ["t1"]}
    store.write_manifest({"user_id": "me", "fetched_at": "2026-12-01T00:00:00+00:00",
                          "audio_features_forbidden": "2026-12-01", **mine})
    before, now = store.switch_account("other")
    assert before == "me" and now == store.read_manifest()

    def kept(manifest):  # (the file's schema version aside)
        return {k: v for k, v in manifest.items() if k != "schema_version"}
    assert kept(now) == {"user_id": "other", "audio_features_forbidden": "2026-12-01", "accounts": {"me": mine}}
    store.update_manifest(managed_playlist={"id": "p2", "name": "recommend: for you"})
    assert kept(store.switch_account("me")[1]) == {
        "user_id": "me", "audio_features_forbidden": "2026-12-01", **mine,
        "accounts": {"other": {"managed_playlist": {"id": "p2", "name": "recommend: for you"}}}}
    assert store.switch_account("me") == (None, store.read_manifest())  # the same account: nothing moves


def test_a_missing_frame_means_no_cached_library(tmp_path):
    store = Store(tmp_path)
    store.write_manifest({"fetched_at": "2026-01-01T00:00:00+00:00", "user_id": "u"})
    from recommender import schema
    for name in schema.FRAMES:
        store.save_frame(name, schema.empty_frame(name))
    assert Store(tmp_path).load_library() is not None
    store.frame_path("top_tracks").unlink()
    fresh = Store(tmp_path)
    assert fresh.load_library() is None
    assert fresh.problems == [f"{store.frame_path('top_tracks')} is missing; the cache will be re-pulled"]


@pytest.mark.parametrize("name, dropped, then", [
    ("tracks", ["isrc"], "the cache will be re-pulled"),
    ("audio_features", ["tempo", "valence"], "run `recommend import features FILE` again"),
])
def test_a_frame_an_older_version_saved_without_a_column_says_so(tmp_path, name, dropped, then):
    """An upgrade that gives a frame a column: the old file's note said 'unreadable cache file
    (ValueError)', as for a damaged file, not that it came from another version and which column."""
    from recommender import schema
    store = Store(tmp_path)
    old = schema.empty_frame(name).drop(columns=dropped)
    old.to_parquet(store.frame_path(name), index=False)
    fresh = Store(tmp_path)
    assert fresh.load_frame(name) is None and name in fresh.unreadable
    assert len(fresh.problems) == 1
    line = fresh.problems[0]
    assert line.startswith(f"{store.frame_path(name)}: written by another version of the tool (no "
                           f"{', '.join(dropped)} column") and then in line


def test_a_write_error_that_names_the_temporary_copy_names_the_real_file(tmp_path):
    """pyarrow's errors name the file it opened, our temporary copy ('.x.json.abcd.tmp'):
    the exit-7 line named that instead of the file the user knows."""
    import errno

    from recommender.errors import StorageError
    from recommender.store import atomic_write

    def fail(tmp):
        raise OSError(errno.ENOSPC, f"Failed to write local file '{tmp}'. No space left on device")
    target = tmp_path / "frame.parquet"
    with pytest.raises(StorageError) as err:
        atomic_write(target, fail)
    assert str(err.value).startswith(f"cannot write {target}: Failed to write local file '{target}'.")
    assert ".tmp" not in str(err.value) and list(tmp_path.iterdir()) == []


def test_the_data_version_stats_each_place_of_a_frame_once(tmp_path, monkeypatch):
    """`recommend web` asks the data version before every Next playlist, evaluation and weights
    preview: with a copy an older version left in the other directory, each frame's two files
    were stat-ed to pick the one it is read from and the picked one once more. Each is stat-ed
    once now, and the version still follows the file the frame is read from."""
    state, cache = tmp_path / "state", tmp_path / "cache"
    store = Store(state, cache)
    for name in ("tracks", "audio_features"):
        store.save_frame(name, pd.DataFrame({"track_id": ["a" * 22]}))
        legacy = store._before_the_move(name)
        legacy.parent.mkdir(parents=True, exist_ok=True)
        legacy.write_bytes(store.frame_path(name).read_bytes())  # an older version's copy
        os.utime(legacy, (time.time() - 3600,) * 2)
    stats = []
    real = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **kw: stats.append(str(path)) or real(path, *a, **kw))
    before = store.frame_stats(["tracks", "audio_features"])
    assert len(stats) == 4 and len(set(stats)) == 4, stats
    monkeypatch.setattr(os, "stat", real)
    assert before == tuple(store.frame_stats([n])[0] for n in ("tracks", "audio_features"))
    os.utime(state / "tracks.parquet")  # the older version ran again: its copy is the newer, read from now
    assert store.frame_path("tracks") == state / "tracks.parquet"
    after = store.frame_stats(["tracks", "audio_features"])
    assert after[0] == (os.stat(state / "tracks.parquet").st_mtime_ns, os.stat(state / "tracks.parquet").st_size,
                        os.stat(state / "tracks.parquet").st_ino) and after[1] == before[1]


@pytest.mark.parametrize("kind", ["dictionary", "int64", "string_view", "large_string", "no text"])
def test_features_of_another_tools_file_are_read_for_the_librarys_tracks_whatever_the_id_column_type(tmp_path, kind,
                                                                                                     monkeypatch):
    """A features file this tool did not write (put in place by hand, saved by pandas with a
    categorical track_id: a dictionary column) was read as "unreadable cache file" by a library's
    read of its tracks' rows, which cast the wanted ids to the column's type: the features were
    dropped. The column is now read as text, whatever its type."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    if not hasattr(pa, "string_view") and kind == "string_view":
        pytest.skip("no string_view in this pyarrow")
    ids = ["11", "22", "33"] if kind == "int64" else ["a" * 22, "b" * 22, "c" * 22]
    column = {"dictionary": lambda: pa.array(ids).dictionary_encode(), "int64": lambda: pa.array([int(i) for i in ids]),
              "string_view": lambda: pa.array(ids, type=pa.string_view()),
              "large_string": lambda: pa.array(ids, type=pa.large_string()), "no text": lambda: pa.array(ids)}[kind]()
    if kind == "no text":  # a column arrow cannot cast to text: the file is read whole, then filtered
        from recommender import store as store_module

        def refused(column, text):
            raise pa.ArrowNotImplementedError(f"Unsupported cast from {column.type} to {text}")
        monkeypatch.setattr(store_module, "_as_text", refused)
    from recommender.schema import FRAMES
    values = {name: [1, 1, 1] if dtype == "Int64" else [0.5, 0.5, 0.5]
              for name, dtype in FRAMES["audio_features"].items() if name != "track_id"}
    try:
        pq.write_table(pa.table({"track_id": column, **values, "energy": [0.1, 0.2, 0.3]}),
                       tmp_path / "audio_features.parquet")
    except pa.ArrowNotImplementedError:  # pyarrow 16 (.ci/lowest's newest-numpy pass) has string_view, cannot write it
        assert kind == "string_view"
        pytest.skip("this pyarrow cannot write a string_view column to parquet, so no tool using it can either")
    store = Store(tmp_path)
    got = store.load_frame("audio_features", only=[ids[2], ids[0], "x" * 22])
    assert store.problems == [] and "audio_features" not in store.unreadable
    assert list(got["track_id"]) == [ids[0], ids[2]] and list(got["energy"]) == [0.1, 0.3]


def test_a_write_to_a_link_writes_its_target_and_never_replaces_a_device_or_a_pipe(tmp_path):
    """`recommend evaluate --report /dev/null` (as root: a Docker container, root's crontab)
    replaced the system's /dev/null with an HTML file, mode 0666; a FIFO or a dotfiles repo's
    link was replaced by a plain file alike. A link stays one and its target is written; a
    device, a pipe or a folder is refused in one line, left as it is."""
    import os

    from recommender.errors import StorageError
    from recommender.store import atomic_write_text
    target = tmp_path / "reports" / "target.html"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.html"
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    fifo = tmp_path / "pipe.html"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path / "reports"):
        with pytest.raises(StorageError) as err:
            atomic_write_text(path, "x")
        assert str(err.value).startswith(f"cannot write {path}: not a regular file")
    assert fifo.is_fifo() and (tmp_path / "reports").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.html", "pipe.html", "reports"]


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_a_cache_with_one_file_missing_or_damaged_is_said_so_not_called_absent(refreshed_demo_cache, tmp_path, damage):
    """One frame of a pulled cache missing or damaged: `playlists` and `similar` said "no cached
    library in ...: run `recommend refresh` first" of a cache that was there, and `status` gave
    no warning (its genre and feature rows just left out). Both now name the file."""
    import json
    import shutil

    from typer.testing import CliRunner

    from recommender.cli import app
    cache = tmp_path / "cache"
    shutil.copytree(refreshed_demo_cache / "demo", cache)  # the demo's pulled cache, as a cache of yours
    broken = cache / "artists.parquet"
    if damage == "missing":
        broken.unlink()
    else:
        broken.write_bytes(b"garbage")
    env = {"RECOMMENDER_CACHE_DIR": str(cache)}
    for args in (["playlists"], ["similar", "anything"]):
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 2, result.output
        line = result.output.strip().splitlines()[-1]
        assert line.startswith("error: the cached library cannot be read (") and str(broken) in line, line
        assert line.endswith("`recommend refresh` pulls it again"), line
    shown = CliRunner().invoke(app, ["--json", "status", "--offline"], env=env)
    warned = [w for w in json.loads(shown.stdout)["warnings"] if str(broken) in w]
    assert len(warned) == 1 and warned[0].startswith("the cached library cannot be read ("), shown.stdout
    # the web app's Runs page (its status) said "cache: ... (fetched ...)" and nothing of it
    from recommender.config import load_settings
    from recommender.web.context import WebContext
    page = WebContext(load_settings(environ={}, overrides={"cache.dir": str(cache)}), config_file=tmp_path / "u.yaml").runs()
    assert [w for w in page["warnings"] if str(broken) in w] == warned, page["warnings"]


def test_a_bug_while_reading_a_frame_is_raised_not_taken_for_a_damaged_file(tmp_path, monkeypatch):
    """Every error while reading a frame, ours too, was "unreadable cache file; the cache will be
    re-pulled": a bug made every run pull the whole library again, exit 0, and was never said.
    A damaged file is still said and left for the refresh to pull again."""
    from recommender import schema
    store = Store(tmp_path)
    store.save_frame("tracks", pd.DataFrame({"track_id": ["t" * 22], "name": ["x"]}))
    real = schema.conform

    def broken(name, df):
        raise AttributeError("'NoneType' object has no attribute 'x'")
    monkeypatch.setattr(schema, "conform", broken)
    with pytest.raises(AttributeError):
        store.load_frame("tracks")
    monkeypatch.setattr(schema, "conform", real)
    assert store.load_frame("tracks")["name"].tolist() == ["x"]
    store.frame_path("tracks").write_bytes(b"PAR1 not a parquet file")
    assert store.load_frame("tracks") is None and "tracks" in store.unreadable


def test_a_read_that_a_save_of_another_run_overtakes_never_gives_a_mix_of_two_pulls(tmp_path, monkeypatch):
    """A command that reads the cache without the lock (`search`, `similar`, a dry run, a page of
    `recommend web`) while the nightly refresh saves it: the read began before the save's mark,
    read the tracks of the last pull, and the playlists of the new one (a playlist holding
    tracks the library did not have), where one pull or the other is whole."""
    import threading

    from recommender.library import Library

    def pull(n: int) -> Library:
        tracks = [f"t{i}" for i in range(n)]
        return Library.from_frames(
            tracks=pd.DataFrame({"track_id": tracks, "name": tracks}),
            playlists=pd.DataFrame({"playlist_id": ["p"], "name": ["mine"]}),
            playlist_items=pd.DataFrame({"playlist_id": ["p"] * n, "track_id": tracks, "position": range(n)}),
            user_id="me")

    Store(tmp_path).save_library(pull(3), manifest={"fetched_at": "2026-01-01T00:00:00", "user_id": "me"})
    reader = Store(tmp_path)
    tracks_read, go_on = threading.Event(), threading.Event()
    real = Store.load_frame

    def load_frame(self, name, *args, **kwargs):
        frame = real(self, name, *args, **kwargs)
        if self is reader and name == "tracks" and not tracks_read.is_set():
            tracks_read.set()
            assert go_on.wait(30)
        return frame

    monkeypatch.setattr(Store, "load_frame", load_frame)
    got: list = []
    thread = threading.Thread(target=lambda: got.append(reader.load_library()))
    thread.start()
    assert tracks_read.wait(30)
    Store(tmp_path).save_library(pull(5), manifest={"fetched_at": "2026-01-02T00:00:00", "user_id": "me"})
    go_on.set()
    thread.join(30)
    lib = got[0]
    assert lib is not None
    tracks = set(lib.tracks["track_id"].astype(str))
    assert set(lib.playlist_items["track_id"].astype(str)) == tracks  # one pull's frames, whole
    assert len(tracks) == 5  # the pull that ended meanwhile, read again


def test_a_config_write_killed_half_way_leaves_no_temporary_file_after_the_next_write_of_that_file(tmp_path):
    """`kill -9` while the config file was written left `.config.yaml.XXXXXXXX.tmp` beside it for
    good (the run lock's clean-up looks in the cache only): the next write of that file removes its
    own stale temporary files, never a fresh one, another file's or one named otherwise."""
    from recommender.store import atomic_write_text
    folder = tmp_path / "config"
    folder.mkdir()
    config = folder / "config.yaml"
    config.write_text("a: 1\n")
    stale = folder / ".config.yaml.k1ll3d_9.tmp"  # mkstemp's name: 8 characters
    others = [folder / ".config.yaml.w1p_w1p0.tmp",  # being written right now
              folder / ".other.yaml.k1ll3d_9.tmp",  # another file's
              folder / ".config.yaml.backup.tmp",  # not a name of ours
              folder / ".config.yaml.k1ll3d_9.tmp.txt"]
    for p in (stale, *others):
        p.write_text("half written")
    for p in (stale, *others[1:]):
        os.utime(p, (time.time() - 3600, time.time() - 3600))  # from a write killed an hour ago
    atomic_write_text(config, "a: 2\n")
    assert config.read_text() == "a: 2\n"
    assert not stale.exists()
    assert all(p.exists() for p in others)
    assert sorted(p.name for p in folder.iterdir()) == sorted(["config.yaml", *(p.name for p in others)])


@pytest.mark.parametrize("allocates", [True, False], ids=["fallocate", "file-system-without-it"])
def test_room_reserved_for_a_write_is_refused_up_front_when_the_disk_lacks_it_and_used_by_the_write(
        tmp_path, monkeypatch, allocates):
    import errno
    import shutil
    from collections import namedtuple

    from recommender.errors import StorageError
    from recommender.store import atomic_write_text, reserve_room
    path = tmp_path / "account.json"
    room = reserve_room(path, 100_000)
    assert room.stat().st_size == 100_000 and room.name == ".account.json.room"
    atomic_write_text(path, "new", room=room)
    assert path.read_text() == "new" and not room.exists() and path.stat().st_mode & 0o777 == 0o600

    def cannot(fd, offset, size):
        raise OSError(errno.EOPNOTSUPP if not allocates else errno.ENOSPC, "no")
    monkeypatch.setattr(os, "posix_fallocate", cannot)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 50_000, 50_000))
    with pytest.raises(StorageError) as refused:
        reserve_room(path, 100_000)
    assert str(refused.value).startswith(f"cannot write {path}: ") and "disk is full" in str(refused.value)
    assert path.read_text() == "new" and not list(tmp_path.glob(".*"))
