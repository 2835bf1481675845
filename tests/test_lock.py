"""RunLock: real contention between processes, stale and orphaned lock files, release."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from recommender.errors import LockHeld
from recommender.lock import RunLock, lock_path, read_holder

ROOT = Path(__file__).resolve().parents[1]

HOLDER = """
import sys
from recommender.lock import RunLock
lock = RunLock(sys.argv[1], command="recommend build-playlist --quiet")
lock.acquire()
print("ready", flush=True)
sys.stdin.read()          # hold until the test closes our stdin
if sys.argv[2] == "kill":
    import os; os._exit(0)  # die without releasing, like a killed run
lock.release()
"""


def _spawn(script: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _finish(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_second_process_gets_lock_held_naming_file_pid_and_command(tmp_path):
    path = lock_path(tmp_path)
    holder = _spawn(HOLDER, str(path), "release")
    try:
        with pytest.raises(LockHeld) as err:
            RunLock(path).acquire()
        message = str(err.value)
        assert str(path) in message
        assert f"pid {holder.pid}" in message
        assert "recommend build-playlist --quiet" in message
        assert "\n" not in message
        assert err.value.exit_code == 6
    finally:
        _finish(holder)
    # released by the holder: now it is ours, and the file names us
    with RunLock(path, command="recommend refresh") as lock:
        assert lock.held
        assert read_holder(path)["pid"] == os.getpid()
        assert read_holder(path)["command"] == "recommend refresh"


def test_waiting_run_gets_the_lock_once_the_holder_exits(tmp_path):
    path = lock_path(tmp_path)
    holder = _spawn(HOLDER, str(path), "release")
    holder.stdin.close()                      # holder releases and exits while we wait
    with RunLock(path, wait=60) as lock:
        assert lock.held
    assert holder.wait(timeout=30) == 0


def test_lock_is_exclusive_within_one_process_too(tmp_path):
    path = lock_path(tmp_path)
    with RunLock(path):
        with pytest.raises(LockHeld, match=f"pid {os.getpid()}"):
            RunLock(path).acquire()


def test_killed_holder_leaves_a_stale_file_that_is_taken_over(tmp_path, caplog):
    path = lock_path(tmp_path)
    holder = _spawn(HOLDER, str(path), "kill")
    dead = holder.pid
    _finish(holder)
    assert read_holder(path)["pid"] == dead       # the killed run's record is still there
    with caplog.at_level(logging.INFO, logger="recommender.lock"):
        with RunLock(path):
            assert read_holder(path)["pid"] == os.getpid()
    assert any("stale" in r.getMessage() and f"pid {dead}" in r.getMessage() and r.levelno == logging.INFO
               for r in caplog.records)


def test_stale_file_with_dead_pid_is_taken_over(tmp_path, caplog):
    path = lock_path(tmp_path)
    path.write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname(),
                                "command": "recommend build-playlist", "started": "2026-01-01T00:00:00+00:00"}))
    with caplog.at_level(logging.INFO, logger="recommender.lock"):
        with RunLock(path) as lock:
            assert lock.held
    assert any("stale" in r.getMessage() for r in caplog.records)


def _spawn_flock_holder(path):
    """A process that holds the flock on ``path`` without writing its own pid into it."""
    return _spawn("import fcntl, os, sys\n"
                  "fd = os.open(sys.argv[1], os.O_RDWR)\n"
                  "fcntl.flock(fd, fcntl.LOCK_EX)\n"
                  "print('ready', flush=True)\n"
                  "sys.stdin.read()\n", str(path))


def test_flock_kept_by_an_orphan_whose_recorded_pid_is_dead_is_taken_over(tmp_path):
    """An orphaned child still has the file open (flock held) but the recorded run is gone."""
    path = lock_path(tmp_path)
    path.write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname(), "command": "x"}))
    orphan = _spawn_flock_holder(path)
    try:
        old_inode = path.stat().st_ino
        with RunLock(path) as lock:
            assert lock.held
            assert read_holder(path)["pid"] == os.getpid()
            assert path.stat().st_ino != old_inode
    finally:
        _finish(orphan)


def test_a_held_lock_recorded_by_another_computer_is_never_taken_over(tmp_path):
    """A cache on a shared disk: the record's pid means nothing on this computer (here no
    process has it), so the lock is not taken as a dead run's while its flock is held."""
    path = lock_path(tmp_path)
    path.write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname() + "-other", "command": "x"}))
    orphan = _spawn_flock_holder(path)
    try:
        with pytest.raises(LockHeld):
            RunLock(path).acquire()
        assert read_holder(path)["host"] == socket.gethostname() + "-other"
    finally:
        _finish(orphan)


def test_flock_held_by_a_live_process_is_never_taken_over(tmp_path):
    """A live holder whose file records another live pid (ours) keeps its lock."""
    path = lock_path(tmp_path)
    path.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname(), "command": "x"}))
    orphan = _spawn_flock_holder(path)
    try:
        with pytest.raises(LockHeld, match=f"pid {os.getppid()}"):
            RunLock(path).acquire()
    finally:
        _finish(orphan)


def test_release_on_context_exit_and_on_exception(tmp_path):
    path = lock_path(tmp_path)
    with pytest.raises(RuntimeError):
        with RunLock(path):
            raise RuntimeError("boom")
    assert read_holder(path) is None          # emptied: the next run sees no stale record
    # another process can take it now
    probe = subprocess.run([sys.executable, "-c", "import fcntl, os, sys\n"
                            "fd = os.open(sys.argv[1], os.O_RDWR)\n"
                            "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n", str(path)])
    assert probe.returncode == 0
    lock = RunLock(path)
    lock.acquire()
    lock.release()
    lock.release()                             # twice is harmless
    assert not lock.held


def test_holder_record_is_written_while_held(tmp_path):
    path = lock_path(tmp_path / "new" / "cache")   # the cache dir is created when missing
    with RunLock(path, command="recommend refresh"):
        info = read_holder(path)
        fd = os.open(path, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    assert info["host"] == socket.gethostname()
    assert info["started"].endswith("+00:00")


def test_a_moved_clock_does_not_make_a_live_holder_look_like_a_reused_pid(tmp_path, monkeypatch):
    """The record's start time is compared with the kernel's start time of the pid: it must be
    the machine's time. Written by the simulated clock (isotime.set_clock, tests/test_weeks.py)
    a live holder looked like a reused pid, so ``running_holder`` said nobody runs."""
    from datetime import datetime, timezone

    from recommender import isotime
    from recommender.lock import running_holder
    monkeypatch.setattr(isotime, "_clock", lambda: datetime(2026, 1, 5, 6, 30, tzinfo=timezone.utc))
    path = lock_path(tmp_path)
    with RunLock(path, command="recommend build-playlist"):
        holder = running_holder(path)
        assert holder is not None and holder["pid"] == os.getpid()
    assert running_holder(path) is None


def test_a_file_system_without_locks_is_exit_7_saying_to_use_a_local_folder(tmp_path, monkeypatch):
    """A data directory on an NFS home whose lock service (lockd/statd) is not running: flock
    fails with ENOLCK "No locks available". The run stopped with exit 1 (kept for bugs) and
    only "cannot lock (No locks available)". Reported e.g.
    https://github.com/ComparativeGenomicsToolkit/cactus/issues/1299 (asking for a more helpful
    message than "No locks available"), https://github.com/caracal-pipeline/caracal/issues/1239,
    https://github.com/SwissDataScienceCenter/renku-python/issues/3669 (a lock in an NFS home;
    the way out: a local folder). Now exit 7 naming the lock file and the setting to change."""
    import errno

    from recommender import lock as lock_module
    real_flock = fcntl.flock

    def no_locks(fd, op):
        if op & fcntl.LOCK_EX and os.path.isfile(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))
        return real_flock(fd, op)

    monkeypatch.setattr(lock_module.fcntl, "flock", no_locks)
    path = lock_path(tmp_path)
    with pytest.raises(Exception) as caught:
        RunLock(path).acquire()
    assert caught.value.exit_code == 7
    message = str(caught.value)
    assert str(path) in message and "No locks available" in message
    assert "RECOMMENDER_CACHE_DIR" in message and "local disk" in message


def test_a_run_killed_holding_the_lock_is_shown_by_status_and_recorded_by_the_next_run(tmp_path, monkeypatch):
    """A nightly run killed half way (kill -9, the OOM killer, the computer switched off) wrote
    nothing to runs.jsonl: `recommend status` the next morning showed the night before's
    success as the last scheduled run, and only a log line of the next run said anything."""
    from recommender import runlog
    from recommender import status as statusinfo
    path = lock_path(tmp_path)
    monkeypatch.setenv("RECOMMENDER_TRIGGER", "schedule")  # the holder runs as our crontab line starts it
    holder = _spawn(HOLDER.replace('command="recommend build-playlist --quiet"',  # as jobs.writing takes it
                                   'command="build-playlist", trigger=__import__("recommender.runlog").runlog.run_trigger()'),
                    str(path), "kill")
    monkeypatch.delenv("RECOMMENDER_TRIGGER")
    dead = holder.pid
    _finish(holder)
    stopped = statusinfo.status(tmp_path, {}, None)["stopped"]
    assert stopped["pid"] == dead and stopped["command"] == "build-playlist"
    assert runlog.read_runs(tmp_path) == []
    from typer.testing import CliRunner

    from recommender.cli import app
    shown = CliRunner().invoke(app, ["status", "--offline"], env={"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert shown.exit_code == 0 and f"the run 'build-playlist' (pid {dead}, started " in shown.stdout
    assert "did not finish" in shown.stdout
    said = " ".join(shown.stdout.split())  # (wrapped to the terminal)
    assert "the next run records it" in said and "finishes its work" not in said  # true of a killed auth too
    # the web app's Runs page (its status) said nothing of it
    from recommender import jobs
    from recommender.config import load_settings
    from recommender.web.context import WebContext
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path)})
    page = WebContext(settings, config_file=tmp_path / "u.yaml").runs()
    assert [w for w in page["warnings"] if w.startswith(f"the run 'build-playlist' (pid {dead}, started ")
            and "did not finish" in w and w.endswith("the next run records it")], page["warnings"]
    with jobs.writing(settings, "build-playlist"):
        assert statusinfo.status(tmp_path, {}, None)["stopped"] is None  # the next night's run
    killed, = runlog.read_runs(tmp_path)
    assert killed["unfinished"] and killed["exit_code"] is None and killed["trigger"] == "schedule"
    assert killed["command"] == "build-playlist" and killed["when"] == stopped["started"]
    said = runlog.describe_run(killed)
    assert "(scheduled) did not finish: its process was killed" in said and "exit None" not in said
    warnings = statusinfo.schedule_warnings({"state": "installed"}, [killed])["warnings"]
    assert warnings and "did not finish" in warnings[0]


def test_a_lock_record_stamped_ahead_of_the_clock_is_never_shown_as_a_time_to_come(tmp_path):
    """A run killed while the computer's clock was two days ahead (put right since) left a lock
    record that `recommend status` showed as started in two days' time, and a held lock's
    message said "since" a time to come. isotime's rule: a start more than a day ahead is
    unknown (not shown; the message quotes the record), one up to a day ahead is just now."""
    from datetime import timedelta

    from typer.testing import CliRunner

    from recommender.cli import app
    from recommender.isotime import system_now
    from recommender.lock import describe_holder
    path = lock_path(tmp_path)
    ahead = (system_now() + timedelta(days=2)).replace(microsecond=0).isoformat()
    record = {"pid": _dead_pid(), "host": socket.gethostname(), "command": "build-playlist", "started": ahead}
    path.write_text(json.dumps(record) + "\n")
    shown = CliRunner().invoke(app, ["status", "--offline"], env={"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    said = " ".join(shown.stdout.split())
    assert shown.exit_code == 0 and f"the run 'build-playlist' (pid {record['pid']}) did not finish" in said
    assert describe_holder(record).endswith(f"start unknown (recorded as {ahead!r})")
    from recommender.lock import started_at
    soon = {**record, "started": (system_now() + timedelta(hours=1)).isoformat()}
    before = system_now()
    assert before <= started_at(soon) <= system_now()  # just now
    assert "since " in describe_holder(soon)


def test_a_lock_taken_over_once_is_recorded_once_however_often_it_is_taken_again(tmp_path):
    """RunLock kept what it had taken over for good, and recorded it at every acquire: a lock
    taken again after a release (acquire, release, acquire) wrote the killed run to runs.jsonl
    twice. ``took_over`` is now this acquire's only, and RunLock records nothing itself (its
    caller does: jobs.writing; migrate's lock on an old checkout folder writes no runs.jsonl
    there)."""
    from recommender import runlog
    path = lock_path(tmp_path)
    path.write_text(json.dumps({"pid": 2 ** 22 + 7, "host": socket.gethostname(), "command": "build-playlist",
                                "started": "2026-11-30T07:00:00+00:00"}) + "\n")  # a pid no process has
    lock = RunLock(path, command="refresh")
    lock.acquire()
    assert lock.took_over and lock.took_over["command"] == "build-playlist"
    lock.release()
    lock.acquire()
    try:
        assert lock.took_over is None
    finally:
        lock.release()
    assert runlog.read_runs(tmp_path) == []


def test_a_lock_file_deleted_during_a_run_is_taken_again_or_stops_the_write(tmp_path, caplog):
    """After an exit 6, deleting recommend.lock let a second run take a new file while the first
    still ran: both wrote the managed playlist, and each then blamed "another computer". Before
    it writes to Spotify, a run checks that its lock's file is still the one the path names: a
    deleted file is taken again; one another run locked since stops this run's write."""
    from recommender.lock import still_held
    path = lock_path(tmp_path)
    still_held(path)  # no lock held here: nothing to check
    with RunLock(path, command="recommend build-playlist") as first:
        path.unlink()
        with caplog.at_level(logging.WARNING, logger="recommender.lock"):
            still_held(path)  # nobody took it: this run takes it again
        assert "deleted during this run: taken again" in caplog.text
        assert read_holder(path)["pid"] == os.getpid() and first.held
        with pytest.raises(LockHeld, match=f"pid {os.getpid()}"):
            RunLock(path).acquire()  # exclusive again
        path.unlink()
        second = _spawn(HOLDER, str(path), "release")  # another run takes the new file
        try:
            with pytest.raises(LockHeld, match="deleted during this run, and another run has taken the lock since"):
                still_held(path)
        finally:
            _finish(second)
