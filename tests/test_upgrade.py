"""Upgrading over the files an older version left (README: Upgrading): each test writes the
older layout or format itself, then runs this version on it."""

from __future__ import annotations

import json

import pytest

from recommender import paths
from recommender.config import load_settings
from recommender.store import Store

from spotify_helpers import api_requests, save_login
from test_cli import env_for, run


def test_frames_and_open_data_answers_kept_in_the_state_directory_are_read_and_moved(standin, tmp_path,
                                                                                     monkeypatch):
    """The 0.1.0 versions of before the cache directory kept everything in the state directory
    (~/.local/state/recommend), and their crontab line named it (RECOMMENDER_CACHE_DIR=<it>).
    After the upgrade every read-only command said "no cached library ... run `recommend
    refresh`", the refresh by hand said "tracks.parquet is missing", pulled the whole library
    again and asked ListenBrainz and MusicBrainz every answer again (minutes at MusicBrainz's
    pace), and from then on the nightly runs and yours kept a cache each."""
    import json
    import shutil

    from recommender.standins.musicbrainz import MusicBrainzStandIn
    state, cache = paths.user_data_dir(), paths.user_cache_dir()
    one = tmp_path / "one-folder"
    save_login(standin, one)
    assert run(["refresh", "--quiet"], env_for(standin, one)).exit_code == 0
    answers = one / "opendata" / "isrc.json"  # MusicBrainz's answer per ISRC, a miss too
    assert json.loads(answers.read_text())  # the refresh asked MusicBrainz and kept its answers
    kept = answers.read_bytes()
    shutil.copytree(one, state, dirs_exist_ok=True)  # where the older version kept all of it
    nightly = env_for(standin, state)  # its crontab line
    by_hand = {k: v for k, v in nightly.items() if k != "RECOMMENDER_CACHE_DIR"}

    store = Store.from_settings(load_settings(environ={}))
    assert store.load_library() is not None and store.problems == []  # a read-only command
    heard: list = []
    monkeypatch.setattr(MusicBrainzStandIn, "heard", heard)
    for env in (by_hand, nightly, by_hand):
        before = len(api_requests(standin))
        result = run(["refresh"], env)
        assert result.exit_code == 0, result.output
        assert "missing" not in result.output and "re-pulled" not in result.output
        asked = [r.path for r in api_requests(standin)[before:]]
        assert not [p for p in asked if p.startswith("/v1/playlists/")], asked  # no playlist pulled again
        assert f"Cache: {cache}" in " ".join(result.stdout.split())
    assert [h.target for h in heard] == []  # no ISRC asked again: the answers were read where they were kept
    assert (cache / "opendata" / "isrc.json").read_bytes() == kept
    assert (cache / "tracks.parquet").exists()
    assert sorted(p.name for p in state.iterdir() if paths.refetchable(p.name)) == []
    assert (state / "manifest.json").exists() and (state / "spotify-token.json").exists()


def _age(path, hours):
    """Make ``path`` (and a directory's entries) ``hours`` old."""
    import os
    import time
    for p in [path, *(path.rglob("*") if path.is_dir() else [])]:
        os.utime(p, (time.time() - hours * 3600,) * 2)


def test_a_stale_copy_in_the_state_directory_gives_way_to_the_cache_directory_s(tmp_path):
    from recommender.migrate import move_refetchable
    state, cache = tmp_path / "state", tmp_path / "cache"
    for folder, text in ((state, "old"), (cache, "new")):
        (folder / "opendata").mkdir(parents=True)
        (folder / "opendata" / "isrc.json").write_text(text)
        (folder / "tracks.parquet").write_text(text)
    _age(state / "opendata", 2)
    _age(state / "tracks.parquet", 2)
    (state / "search_index.npz").write_text("index")
    (state / "audio_features.parquet").write_text("yours")  # state: stays
    assert move_refetchable(state, cache) == ["search_index.npz"]
    assert sorted(p.name for p in state.iterdir()) == ["audio_features.parquet"]
    assert (cache / "opendata" / "isrc.json").read_text() == "new" and (cache / "tracks.parquet").read_text() == "new"
    assert (cache / "search_index.npz").read_text() == "index"
    assert move_refetchable(cache, cache) == []


def test_tune_undo_after_an_older_version_s_tune_write_says_what_to_do(tmp_path):
    """`tune --write` kept no record before `tune --undo` came: after the upgrade, `tune --undo`
    said "no `recommend tune --write` has changed the weights" of a file one had just written."""
    import pytest

    from recommender.errors import UsageError
    from recommender.tune import undo_weights
    config, undo = tmp_path / "config.yaml", tmp_path / "state" / "tune-undo.json"
    config.write_text("scorers:\n  content:\n    weight: 0.5\n  opendata:\n    weight: 0.0\n  year:\n    weight: 0.1\n")
    with pytest.raises(UsageError) as err:
        undo_weights(config, undo)
    assert str(err.value) == (
        f"nothing to undo: no `recommend tune --write` recorded the weights {config} sets (content 0.5, opendata 0, "
        "year 0.1) (or its change was undone already); one by an older version kept no record (it printed the "
        "weights it replaced): set those back by hand, or delete the `weight:` lines to take the shipped weights")
    config.write_text("blend:\n  max_tracks: 30\n")
    with pytest.raises(UsageError, match="has changed the weights of"):
        undo_weights(config, undo)


def test_a_second_tune_undo_says_the_change_was_undone_already(tmp_path):
    """After a `tune --undo` the file sets weights again (the ones it had) and no record is
    left: the second `tune --undo` said only that an older version's write kept no record."""
    import pytest

    from recommender.errors import UsageError
    from recommender.tune import undo_weights, write_weights
    config, undo = tmp_path / "config.yaml", tmp_path / "state" / "tune-undo.json"
    config.write_text("scorers:\n  content:\n    weight: 0.5\n")
    write_weights(config, {"content": 0.7}, undo_file=undo)
    undo_weights(config, undo)
    assert "0.5" in config.read_text()
    with pytest.raises(UsageError, match=r"\(content 0\.5\) \(or its change was undone already\)"):
        undo_weights(config, undo)


@pytest.mark.parametrize("linked", ["cache", "state"])
def test_a_cache_directory_that_is_the_state_directory_by_a_symlink_is_one_directory(standin, tmp_path, linked,
                                                                                    monkeypatch):
    """~/.cache/recommend made a symlink to ~/.local/state/recommend (or the reverse): each
    frame was written through one name and deleted through the other, and the open-data
    answers deleted as "the stale copy": every run pulled the whole library again."""
    import json
    import os

    from recommender.standins.musicbrainz import MusicBrainzStandIn
    state, cache = paths.user_data_dir(), paths.user_cache_dir()
    real, link = (state, cache) if linked == "cache" else (cache, state)
    real.mkdir(parents=True)
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(real, link)
    save_login(standin, state)
    by_hand = {k: v for k, v in env_for(standin, state).items() if k != "RECOMMENDER_CACHE_DIR"}
    assert run(["refresh", "--quiet"], by_hand).exit_code == 0
    answers = real / "opendata" / "isrc.json"
    assert json.loads(answers.read_text())  # the refresh asked MusicBrainz and kept its answers
    kept = answers.read_bytes()
    heard: list = []
    monkeypatch.setattr(MusicBrainzStandIn, "heard", heard)
    before = len(api_requests(standin))
    result = run(["refresh"], by_hand)
    assert result.exit_code == 0, result.output
    assert "missing" not in result.output and "re-pulled" not in result.output
    asked = [r.path for r in api_requests(standin)[before:]]
    assert not [p for p in asked if p.startswith("/v1/playlists/")], asked
    assert (real / "tracks.parquet").exists() and answers.read_bytes() == kept
    assert [h.target for h in heard] == []  # no ISRC asked again
    assert paths.resolve_data_dirs(None).single


@pytest.mark.parametrize("kind", ["symlink", "bind mount"])
def test_one_directory_under_two_names_is_never_deleted_through_the_other(tmp_path, monkeypatch, kind):
    """Store and move_refetchable given two names of one directory (a symlink the data dirs
    did not resolve: cache.dir naming it, a bind mount) delete nothing."""
    import os
    if kind == "bind mount":  # two paths no symlink joins: only the device and inode tell
        monkeypatch.setattr(paths.os.path, "realpath", lambda p, *a, **kw: os.path.abspath(p))

    import pandas as pd

    from recommender.migrate import move_refetchable
    real, link = tmp_path / "real", tmp_path / "link"
    (real / "opendata").mkdir(parents=True)
    (real / "opendata" / "isrc.json").write_text("{}")
    os.symlink(real, link)
    assert move_refetchable(real, link) == [] and (real / "opendata" / "isrc.json").exists()
    store = Store(real, link)
    store.save_frame("tracks", pd.DataFrame())
    assert (real / "tracks.parquet").exists()


def test_the_newer_copy_wins_after_going_back_to_a_version_that_kept_the_cache_with_the_state(tmp_path):
    """After going back to a 29 Nov version (it pulled into the state directory) and forward
    again, the older frames of the cache directory were read and the newer ones deleted, while
    the manifest said the cache was fresh."""
    import pandas as pd

    from recommender.migrate import move_refetchable
    state, cache = tmp_path / "state", tmp_path / "cache"
    Store(cache, cache).save_frame("tracks", pd.DataFrame({"track_id": ["old"]}))
    (cache / "opendata").mkdir()
    (cache / "opendata" / "isrc.json").write_text("old")
    _age(cache / "tracks.parquet", 48)
    _age(cache / "opendata", 48)
    Store(state, state).save_frame("tracks", pd.DataFrame({"track_id": ["new"]}))  # the older version's pull
    (state / "opendata").mkdir()
    (state / "opendata" / "isrc.json").write_text("new")
    store = Store(state, cache)
    assert list(store.load_frame("tracks")["track_id"]) == ["new"]  # a read-only command, before the move
    assert move_refetchable(state, cache) == ["opendata", "tracks.parquet"]
    assert list(store.load_frame("tracks")["track_id"]) == ["new"]
    assert (cache / "opendata" / "isrc.json").read_text() == "new"
    assert not (state / "tracks.parquet").exists() and not (state / "opendata").exists()


def test_a_move_to_another_filesystem_killed_half_way_leaves_the_whole_copy(tmp_path, monkeypatch):
    """Onto another filesystem a move is a copy: killed half way it left a partial opendata/ in
    the cache directory, and the next run deleted the whole one as the stale copy."""
    import errno
    import os
    import shutil

    from recommender.migrate import move_refetchable
    state, cache = tmp_path / "state", tmp_path / "cache"
    (state / "opendata").mkdir(parents=True)
    for name in ("a.json", "b.json", "c.json"):
        (state / "opendata" / name).write_text(name)
    cache.mkdir()
    rename, replace, copytree = os.rename, os.replace, shutil.copytree

    def across(real):
        def move(src, dst, *args, **kw):
            if str(src).startswith(str(state)) and str(dst).startswith(str(cache)):
                raise OSError(errno.EXDEV, "Invalid cross-device link")
            return real(src, dst, *args, **kw)
        return move

    def killed(src, dst, *args, **kw):
        os.makedirs(dst)
        shutil.copy2(os.path.join(src, "a.json"), dst)
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "rename", across(rename))
    monkeypatch.setattr(os, "replace", across(replace))
    monkeypatch.setattr(shutil, "copytree", killed)
    with pytest.raises(KeyboardInterrupt):
        move_refetchable(state, cache)
    monkeypatch.setattr(shutil, "copytree", copytree)
    assert sorted(p.name for p in (state / "opendata").iterdir()) == ["a.json", "b.json", "c.json"]
    move_refetchable(state, cache)  # the next run, under the lock
    assert sorted(p.name for p in (cache / "opendata").iterdir()) == ["a.json", "b.json", "c.json"]
    assert sorted(p.name for p in cache.iterdir()) == ["opendata"] and not (state / "opendata").exists()


def test_a_frame_moved_while_a_reader_reads_it_is_read_from_its_new_place(tmp_path, monkeypatch):
    """`recommend web` and `status` read without the lock: a frame moved to the cache directory
    while read was reported as an "unreadable cache file" that "will be re-pulled"."""
    import os

    import pandas as pd

    from recommender import store as store_module
    state, cache = tmp_path / "state", tmp_path / "cache"
    Store(state, state).save_frame("tracks", pd.DataFrame({"track_id": ["t1"]}))
    cache.mkdir()
    read = pd.read_parquet

    def moved_meanwhile(path, *args, **kw):
        if str(path).startswith(str(state)):
            os.replace(path, cache / "tracks.parquet")  # the run holding the lock
            raise FileNotFoundError(path)
        return read(path, *args, **kw)
    monkeypatch.setattr(store_module.pd, "read_parquet", moved_meanwhile)
    store = Store(state, cache)
    assert list(store.load_frame("tracks")["track_id"]) == ["t1"] and store.problems == []


def test_status_says_when_cron_misses_the_xdg_state_home_an_older_crontab_line_relied_on(tmp_path, monkeypatch):
    """XDG_STATE_HOME set in the shell profile only: the 29 Nov crontab line names
    RECOMMENDER_CACHE_DIR=$XDG_STATE_HOME/recommend, which cron reads as one directory for
    data and cache while runs by hand keep their cache apart: each pulled the library again."""
    from recommender import schedule
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    tab, exe = tmp_path / "tab", tmp_path / "recommend"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    schedule.install("0 7 * * *", exe, None, paths.user_data_dir(), tabfile=tab)
    warnings = schedule.status(tab)["warnings"]
    assert [w for w in warnings if "cron does not set XDG_STATE_HOME" in w and
            "run `recommend schedule install` again" in w and str(paths.user_cache_dir()) in w], warnings
    schedule.install("0 7 * * *", exe, None, None, tabfile=tab, env=schedule.xdg_environment(paths.resolve_data_dirs(None)))
    assert "XDG_STATE_HOME=" in schedule.show(tab) and schedule.status(tab)["warnings"] == []
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "home" / ".local" / "state"))  # cron's own place
    schedule.install("0 7 * * *", exe, None, paths.user_data_dir(), tabfile=tab)
    assert schedule.status(tab)["warnings"] == []


def test_no_warning_when_the_crontab_sets_xdg_state_home_on_a_line_of_its_own(tmp_path, monkeypatch):
    """A crontab giving cron XDG_STATE_HOME on an environment line above our line (not among the
    line's own words) got the warning that cron does not set it."""
    from recommender import schedule
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    tab, exe = tmp_path / "tab", tmp_path / "recommend"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    base = paths.user_data_dir().parent
    tab.write_text(f"XDG_STATE_HOME={base}\n")
    schedule.install("0 7 * * *", exe, None, paths.user_data_dir(), tabfile=tab)
    assert schedule.status(tab)["warnings"] == []
    tab.write_text(f'XDG_STATE_HOME = "{base}"\nCRON_TZ=UTC\n' + schedule.show(tab) + "\n")
    assert schedule.status(tab)["warnings"] == []
    tab.write_text(schedule.show(tab) + f"\nXDG_STATE_HOME={base}\n")  # below ours: not given to it
    assert [w for w in schedule.status(tab)["warnings"] if "cron does not set XDG_STATE_HOME" in w]


def test_config_path_says_what_cache_dir_naming_the_data_directory_does(tmp_path):
    """`recommend config path` said RECOMMENDER_CACHE_DIR puts data and cache in one directory,
    also when it named the data directory, which keeps the two places."""
    state = paths.user_data_dir()
    result = run(["config", "path"], {"RECOMMENDER_CACHE_DIR": str(state)})
    text = " ".join(result.stdout.split())
    assert result.exit_code == 0 and f"cache: {paths.user_cache_dir()}" in text
    assert "RECOMMENDER_CACHE_DIR or cache.dir naming another directory than this one puts data and cache in " \
           "that one" in text


def test_a_directory_both_places_hold_is_merged_entry_by_entry(tmp_path):
    """opendata/ in both places was judged by its newest file: the state directory's one newer
    answer file made it win whole, and the cache directory's other answers were deleted (asked
    again). Each entry's newer copy now wins, and what only one place holds is kept."""
    from recommender.migrate import move_refetchable
    state, cache = tmp_path / "state", tmp_path / "cache"
    for name in ("a.json", "b.json", "c.json", "deep/x.json", "deep/y.json"):
        (cache / "opendata" / name).parent.mkdir(parents=True, exist_ok=True)
        (cache / "opendata" / name).write_text("cache")
    _age(cache / "opendata", 48)
    (cache / "opendata" / "b.json").write_text("cache, newer")
    for name in ("z.json", "a.json", "b.json", "deep/x.json"):
        (state / "opendata" / name).parent.mkdir(parents=True, exist_ok=True)
        (state / "opendata" / name).write_text("state")
    _age(state / "opendata" / "b.json", 2)
    assert move_refetchable(state, cache) == ["opendata"]
    found = {str(p.relative_to(cache / "opendata")): p.read_text()
             for p in (cache / "opendata").rglob("*") if p.is_file()}
    assert found == {"a.json": "state", "b.json": "cache, newer", "c.json": "cache", "z.json": "state",
                     "deep/x.json": "state", "deep/y.json": "cache"}
    assert not (state / "opendata").exists()


def test_a_merge_killed_on_another_filesystem_leaves_no_partial_answer_file(tmp_path, monkeypatch):
    """A merge onto another filesystem copies each file to .NAME.moving beside its place: killed
    half way, the cache directory's answers stay whole and the next run finishes the merge."""
    import errno
    import os
    import shutil
    from pathlib import Path

    from recommender.migrate import clear_unfinished, move_refetchable
    state, cache = tmp_path / "state", tmp_path / "cache"
    (cache / "opendata").mkdir(parents=True)
    (cache / "opendata" / "a.json").write_text("cache")
    _age(cache / "opendata", 48)
    (state / "opendata").mkdir(parents=True)
    (state / "opendata" / "a.json").write_text("state")
    replace, copy2 = os.replace, shutil.copy2

    def across(src, dst, *args, **kw):
        if str(src).startswith(str(state)):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return replace(src, dst, *args, **kw)

    def killed(src, dst, *args, **kw):
        Path(dst).write_text("sta")
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "replace", across)
    monkeypatch.setattr(shutil, "copy2", killed)
    with pytest.raises(KeyboardInterrupt):
        move_refetchable(state, cache)
    monkeypatch.setattr(shutil, "copy2", copy2)
    assert (cache / "opendata" / "a.json").read_text() == "cache"
    assert [p.name for p in clear_unfinished(cache)] == [".a.json.moving"]
    assert move_refetchable(state, cache) == ["opendata"]
    assert [p.name for p in (cache / "opendata").iterdir()] == ["a.json"]
    assert (cache / "opendata" / "a.json").read_text() == "state" and not (state / "opendata").exists()


def test_unfinished_copies_whose_source_has_gone_are_cleared(tmp_path):
    """A killed move's .NAME.moving copies are deleted by the next run holding the lock, also
    when nothing is left to move (the state directory's copy deleted meanwhile)."""
    from recommender.migrate import clear_unfinished, move_refetchable
    state, cache = tmp_path / "state", tmp_path / "cache"
    (cache / ".opendata.moving").mkdir(parents=True)
    (cache / ".opendata.moving" / "a.json").write_text("half")
    (cache / ".tracks.parquet.moving").write_text("half")
    (cache / "opendata").mkdir()
    (cache / "opendata" / ".b.json.moving").write_text("half")
    (cache / "opendata" / "a.json").write_text("whole")
    state.mkdir()
    removed = clear_unfinished(cache)
    assert sorted(p.relative_to(cache).as_posix() for p in removed) == [
        ".opendata.moving", ".tracks.parquet.moving", "opendata/.b.json.moving"]
    assert [p.relative_to(cache).as_posix() for p in cache.rglob("*")] == ["opendata", "opendata/a.json"]
    (cache / ".tracks.parquet.moving").write_text("half")
    move_refetchable(state, cache)  # what the next run holding the lock does (jobs.writing)
    assert not (cache / ".tracks.parquet.moving").exists()


def test_a_run_after_no_move_does_not_walk_the_open_data_answers(monkeypatch):
    """Every command holding the run lock walked the cache directory's open-data answers (one
    file per question asked: thousands) looking for a killed move's .NAME.moving copies, which
    only a move makes: it now lists the cache directory alone, and walks only after a move."""
    import os

    from recommender import jobs
    settings = load_settings(environ={})
    for name in ("a.json", "deep/b.json"):
        (settings.frames_dir / "opendata" / name).parent.mkdir(parents=True, exist_ok=True)
        (settings.frames_dir / "opendata" / name).write_text("{}")
    (settings.frames_dir / ".tracks.parquet.moving").write_text("half")  # left by a killed move of an older version
    walked = []
    walk = os.walk
    monkeypatch.setattr(os, "walk", lambda top, *a, **kw: walked.append(top) or walk(top, *a, **kw))
    with jobs.writing(settings, "refresh"):
        pass
    assert walked == [] and not (settings.frames_dir / ".tracks.parquet.moving").exists()
    assert sorted(p.name for p in settings.frames_dir.iterdir()) == ["opendata"]


def test_a_move_killed_after_its_old_copy_went_is_cleared_by_the_next_run(tmp_path, monkeypatch):
    """A move killed between putting the state directory's entry in place and deleting the
    copy it replaced (.NAME.stale.moving, deep in opendata/) may leave nothing to move: the
    next run still clears it, as the move had left its mark in the cache directory."""
    import os

    from recommender.migrate import move_refetchable
    state, cache = tmp_path / "state", tmp_path / "cache"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.json").write_text("state's")
    (cache / "opendata" / "deep").mkdir(parents=True)
    (cache / "opendata" / "deep" / "x.json").write_text("cache's")
    _age(cache / "opendata", 48)
    (state / "opendata").mkdir(parents=True)
    os.symlink(tmp_path / "elsewhere", state / "opendata" / "deep")  # not merged: put in place whole
    delete = paths.delete

    def killed(path):
        if path.name.endswith(".stale.moving"):
            raise KeyboardInterrupt
        delete(path)
    monkeypatch.setattr(paths, "delete", killed)
    with pytest.raises(KeyboardInterrupt):
        move_refetchable(state, cache)
    monkeypatch.setattr(paths, "delete", delete)
    stale = cache / "opendata" / ".deep.stale.moving"
    assert stale.is_dir() and not (state / "opendata" / "deep").exists()
    (state / "opendata").rmdir()  # emptied by the move: deleted by hand, or by the next move
    assert move_refetchable(state, cache) == [] and not stale.exists()
    assert (cache / "opendata" / "deep" / "x.json").read_text() == "state's"
    assert sorted(p.name for p in cache.iterdir()) == ["opendata"]  # the mark gone too


def test_a_frame_moved_between_its_look_up_and_its_read_is_read_from_its_new_place(tmp_path, monkeypatch):
    """`recommend web` and `status` read without the lock: a frame the run holding it moves
    after the reader looked for it and before it opened it was read as absent."""
    import os

    import pandas as pd
    state, cache = tmp_path / "state", tmp_path / "cache"
    Store(state, state).save_frame("tracks", pd.DataFrame({"track_id": ["t1"]}))
    cache.mkdir()
    look_up = Store.frame_path

    def then_moved(self, name):
        path = look_up(self, name)
        if path.parent == state and path.exists():
            os.replace(path, cache / path.name)  # the run holding the lock
        return path
    monkeypatch.setattr(Store, "frame_path", then_moved)
    store = Store(state, cache)
    assert list(store.load_frame("tracks")["track_id"]) == ["t1"] and store.problems == []


def test_a_leftover_that_could_not_be_deleted_is_looked_for_again(tmp_path, monkeypatch):
    """The move-under-way marker was removed even when a killed move's copy could not be
    deleted (EACCES, EBUSY): later runs only list the cache directory itself, so a copy deep in
    the open-data answers stayed for ever. The marker now stays until every copy found is gone."""
    import errno

    from recommender import paths
    from recommender.migrate import move_refetchable
    state, cache = tmp_path / "state", tmp_path / "cache"
    (cache / "opendata" / "deep").mkdir(parents=True)
    leftover = cache / "opendata" / "deep" / ".x.json.moving"
    leftover.write_text("half")
    (cache / paths.MOVE_UNDER_WAY).touch()
    state.mkdir()
    delete = paths.delete

    def refused(path):
        raise OSError(errno.EACCES, "Permission denied", str(path))
    monkeypatch.setattr(paths, "delete", refused)
    move_refetchable(state, cache)
    assert leftover.exists() and (cache / paths.MOVE_UNDER_WAY).exists()
    monkeypatch.setattr(paths, "delete", delete)
    move_refetchable(state, cache)
    assert not leftover.exists() and not (cache / paths.MOVE_UNDER_WAY).exists()


def test_a_features_file_an_older_version_saved_whole_is_read_for_the_librarys_tracks_and_left_as_it_was(tmp_path):
    """Versions of before 1 Dec 2026 loaded every imported row with the library and a refresh saved
    them all again (one row group of up to a million rows). That file is read as it is, the rows
    of the library's tracks alone, and the refresh's save leaves it untouched: nothing to migrate."""
    import pandas as pd

    from recommender import schema
    from recommender.library import Library
    from recommender.store import now_iso
    ours, others = ["a" * 22, "b" * 22], [f"{i:022d}" for i in range(2000)]
    store = Store(tmp_path)
    store.save_library(Library.from_frames(user_id="me", tracks=pd.DataFrame({"track_id": ours})))
    store.update_manifest(fetched_at=now_iso())
    path = tmp_path / "audio_features.parquet"
    frame = pd.DataFrame({"track_id": ours + others, "energy": 0.5, "valence": 0.25})
    schema.conform("audio_features", frame).to_parquet(path, index=False)  # as Store.save_frame wrote it
    written = path.read_bytes()
    library = store.load_library()
    assert sorted(library.audio_features["track_id"]) == ours and store.problems == []
    store.save_library(library)
    assert path.read_bytes() == written


def test_features_and_genres_an_older_version_kept_in_the_cache_directory_survive_a_cache_cleaner(tmp_path):
    """Versions of 29-30 Nov 2026 kept the imported audio features and the genres looked up in the
    cache directory, and their next refresh's save rewrote both into the state directory; a
    save no longer writes them, so they stayed in the directory README calls safe to delete and
    a cache cleaner took them. The next run holding the lock moves them (the newer copy of a
    frame both directories hold wins; a killed copy's leftover with nothing left to move goes)."""
    import shutil

    import pandas as pd

    from recommender import jobs
    settings = load_settings(environ={})
    state, cache = settings.cache_dir, settings.frames_dir
    assert not paths.same_place(state, cache)
    features = pd.DataFrame({"track_id": ["a" * 22, "b" * 22], "energy": [0.5, 0.25]})
    genres = pd.DataFrame({"artist_id": ["x" * 22], "genres": [["jazz"]], "counts": [[3]]})
    older = Store(cache)  # one folder: where those versions wrote both
    older.save_frame("audio_features", features)
    older.save_frame("artist_genres", genres)
    Store(state).save_frame("artist_genres", genres.assign(genres=[["stale"]]))
    _age(state / "artist_genres.parquet", 2)
    (state / ".audio_features.parquet.moving").write_text("half")  # a killed copy onto another filesystem
    with jobs.writing(settings, "refresh"):
        pass
    shutil.rmtree(cache)  # a cache cleaner
    store = Store.from_settings(settings)
    assert store.load_frame("audio_features")["track_id"].tolist() == ["a" * 22, "b" * 22]
    assert store.load_frame("artist_genres")["genres"].map(list).tolist() == [["jazz"]]
    (state / ".artist_genres.parquet.moving").write_text("half")  # a killed copy, and the cache cleaned since
    with jobs.writing(settings, "refresh"):
        pass
    assert sorted(p.name for p in state.iterdir() if p.suffix == ".parquet" or p.name.endswith(".moving")) == [
        "artist_genres.parquet", "audio_features.parquet"]


def test_search_and_similar_read_the_frames_an_older_version_kept_in_the_state_directory(standin, tmp_path):
    """README (Upgrading): the frames of a version from before the cache directory "are read
    there" until a run holding the lock moves them; `playlists` did, but `search` and `similar`
    looked for tracks.parquet in the cache directory only and said "no cached library ... run
    `recommend refresh`"."""
    import shutil
    state, cache = paths.user_data_dir(), paths.user_cache_dir()
    one = tmp_path / "one-folder"
    save_login(standin, one)
    assert run(["refresh", "--quiet"], env_for(standin, one)).exit_code == 0
    shutil.copytree(one, state, dirs_exist_ok=True)  # where the older version kept all of it
    by_hand = {k: v for k, v in env_for(standin, state).items() if k != "RECOMMENDER_CACHE_DIR"}
    assert not (cache / "tracks.parquet").exists()
    for args in (["search", "Owl Light", "--json"], ["similar", "Owl Light", "--json"]):
        result = run(args, by_hand)
        assert result.exit_code == 0, result.output
        assert "Owl Light" in result.stdout or "smallTrack" in result.stdout, result.output
    found = run(["search", "Owl Light", "--json"], by_hand)
    assert json.loads(found.stdout)[0]["name"] == "Owl Light"
