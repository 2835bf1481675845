"""One run at a time: an exclusive ``flock`` on ``<cache dir>/recommend.lock``.

Every command that writes the cache or Spotify holds the lock. The kernel drops a flock when
its process dies, so a killed run never blocks the next one. The file itself records who
holds it (pid, host, command, start time; while the run waits for Spotify's rate limit, until
when: ``record_wait``) for the "another run holds the lock" message and `recommend status`; it is
emptied on a clean release, so content found by a new holder means the last run was killed
(logged at INFO as a stale lock taken over, and kept in ``RunLock.took_over`` for the caller
to record: ``jobs.writing`` records it in runs.jsonl). If the flock is still held but the recorded
process is gone (an orphaned child kept the file open), the file is replaced under a second
flock on the cache directory, so two runs can never both take over.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import LockHeld, RecommenderError, StorageError, make_dirs
from .isotime import believed_time, parse_time, shown, system_now

log = logging.getLogger(__name__)

LOCK_NAME = "recommend.lock"
# flock refused by the file system itself (an NFS mount whose lockd/statd is not running:
# ENOLCK; a FUSE or SMB mount without locks): a setting to change, not a bug (exit 7, not 1)
NO_LOCKING = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL})
POLL_SECONDS = 0.05
_HELD: dict[str, "RunLock"] = {}  # the locks this process holds, by path (``record_wait``)


def lock_path(cache_dir: Path | str) -> Path:
    """The lock file of one cache directory."""
    return Path(cache_dir) / LOCK_NAME


class RunLock:
    """Exclusive lock of one cache directory; a context manager.

    ``wait`` is how many seconds to keep trying before raising ``LockHeld`` (0 = fail at
    once). ``command`` is recorded in the file for other runs' messages (default: argv), and
    ``trigger`` (``runlog.run_trigger``: scheduled or not) for the record of a run killed
    holding it. ``took_over``: what the last ``acquire`` found left by a run that did not finish.
    """

    def __init__(self, path: Path | str, wait: float = 0.0, command: str | None = None,
                 trigger: str | None = None) -> None:
        self.path = Path(path)
        self.wait = max(0.0, float(wait))
        self.command = command if command is not None else _default_command()
        self.trigger = trigger
        self._fd: int | None = None
        self._info: dict[str, Any] = {}  # what this run recorded in the file
        self._thread: int | None = None  # the thread that took it: its run's waits are recorded (``record_wait``)
        self.took_over: dict[str, Any] | None = None  # the record a run that did not finish left

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def acquire(self) -> "RunLock":
        """Take the lock or raise ``LockHeld`` naming the file and the holder."""
        if self._fd is not None:
            raise RecommenderError(f"{self.path}: this run already holds the lock")
        make_dirs(self.path.parent)
        self.took_over = None  # this acquire's, not an earlier one's
        deadline = time.monotonic() + self.wait
        while True:
            holder = self._try_acquire()
            if holder is None:
                return self
            if time.monotonic() >= deadline:
                raise LockHeld(f"{self.path}: another run holds the lock ({describe_holder(holder)}); "
                               f"try again when it has finished")
            time.sleep(POLL_SECONDS)

    def release(self) -> None:
        """Empty the file and drop the lock (safe to call twice)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if _HELD.get(str(self.path)) is self:
            del _HELD[str(self.path)]
        try:
            os.ftruncate(fd, 0)
        except OSError:  # the lock still goes away with the descriptor
            pass
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # ----- internals -------------------------------------------------------------------
    def _try_acquire(self) -> dict[str, Any] | None:
        """One attempt: None when the lock is ours, else what the holder recorded."""
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                os.close(fd)
                if exc.errno in NO_LOCKING:
                    raise StorageError(f"{self.path}: cannot lock ({exc.strerror}): the data directory is on a "
                                       "file system that does not lock files (an NFS or SMB home whose lock "
                                       "service is not running?): set RECOMMENDER_CACHE_DIR or cache.dir to a "
                                       "folder on a local disk") from None
                raise RecommenderError(f"{self.path}: cannot lock ({exc.strerror})") from None
            holder = _read_info(fd)
            os.close(fd)
            if _is_dead(holder) and self._replace_orphaned_file():
                return self._try_acquire()
            return holder
        # Check and record under the directory guard, so that a run taking over an orphaned
        # file (below) never unlinks a file we have just locked but not yet written.
        with _dir_guard(self.path.parent):
            current = same_file(fd, self.path)
            if current:
                previous = _read_info(fd)
                if previous:
                    log.info("taking over the stale lock %s left by a run that did not finish "
                             "(%s)", self.path, describe_holder(previous))
                    self.took_over = previous
                try:
                    self._write_info(fd)
                except OSError as exc:
                    os.close(fd)
                    if StorageError.matches(exc):  # disk full...: exit 7 naming the file
                        raise StorageError.from_os_error(exc, self.path) from None
                    raise RecommenderError(f"{self.path}: cannot write the lock file "
                                           f"({exc.strerror})") from None
        if not current:  # replaced by a takeover in the meantime: lock the new file
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            return self._try_acquire()
        self._fd = fd
        self._thread = threading.get_ident()
        _HELD[str(self.path)] = self
        return None

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # it names the running command
        except OSError as exc:
            if StorageError.matches(exc):
                raise StorageError.from_os_error(exc, self.path) from None
            raise RecommenderError(f"{self.path}: cannot open the lock file ({exc.strerror})") from None

    def _write_info(self, fd: int) -> None:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                "started": system_now().replace(microsecond=0).isoformat()}  # vs /proc: _pid_reused
        if self.trigger is not None:  # the record of a run killed holding it: scheduled or not
            info["trigger"] = self.trigger
        self._info = info
        data = (json.dumps(info) + "\n").encode("utf-8")
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)

    def record_wait(self, seconds: float | None) -> None:
        """Add to the record that this run waits ``seconds`` for Spotify's rate limit from now
        (``waiting_until``; None: no longer). Written over the old record in one write, padded
        with spaces (a reader never finds the file empty meanwhile); a failing write is logged
        only (the run goes on; its wait is then not shown)."""
        if self._fd is None:
            return
        info = {k: v for k, v in self._info.items() if k != WAITING_UNTIL}
        if seconds is not None:
            until = system_now() + timedelta(seconds=seconds)
            info[WAITING_UNTIL] = until.replace(microsecond=0).isoformat()
        self._info = info
        data = json.dumps(info).encode("utf-8")
        try:
            size = os.fstat(self._fd).st_size
            os.pwrite(self._fd, data.ljust(max(size - 1, len(data))) + b"\n", 0)
        except OSError as exc:
            log.warning("could not record the wait in the lock file %s: %s", self.path, exc.strerror or exc)

    def _replace_orphaned_file(self) -> bool:
        """Unlink a lock file whose flock outlived its recorded process; True if done.

        Runs under a flock on the directory and checks again there, so that of two runs
        seeing the same orphan only one replaces the file.
        """
        with _dir_guard(self.path.parent):
            try:
                fd = os.open(self.path, os.O_RDWR)
            except FileNotFoundError:
                return True  # someone else already removed it: just try again
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_info(fd)
                if _is_dead(holder):
                    log.info("taking over the lock %s: its holder is gone (%s) but an orphaned "
                             "process kept it open", self.path, describe_holder(holder))
                    os.unlink(self.path)
                    return True
                return False
            else:  # free now: the normal path takes it
                fcntl.flock(fd, fcntl.LOCK_UN)
                return True
            finally:
                os.close(fd)


@contextmanager
def _dir_guard(directory: Path) -> Iterator[None]:
    """A short exclusive flock on the directory itself (held for a few syscalls only)."""
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(dir_fd)


WAITING_UNTIL = "waiting_until"  # in the record: the holder waits for Spotify's rate limit until then


def record_wait(path: Path | str, seconds: float | None) -> None:
    """``RunLock.record_wait`` of the lock this process holds on ``path``, when this thread
    took it; nothing when it holds none (a dry run that takes no lock), or when another thread
    did (`recommend web`: a page's dry run waiting beside a publish is not the publish's wait,
    and its end would erase the publish's)."""
    held = _HELD.get(str(Path(path)))
    if held is not None and held._thread == threading.get_ident():
        held.record_wait(seconds)


def waiting_until(info: dict[str, Any] | None) -> datetime | None:
    """Until when the holder of a lock record waits for Spotify's rate limit, by the machine's
    clock; None when it does not (no such wait recorded, or one already over)."""
    try:
        until = parse_time((info or {})[WAITING_UNTIL])
    except (KeyError, ValueError, TypeError, OverflowError):
        return None
    return until if until > system_now() else None


def waiting_text(info: dict[str, Any] | None) -> str:
    """"waiting for Spotify's rate limit until <time>" while the holder of a lock record waits
    for it (``waiting_until``), else "": how the exit-6 message and `recommend status` say it."""
    until = waiting_until(info)
    return f"waiting for Spotify's rate limit until {shown(until)}" if until is not None else ""


def read_holder(path: Path | str) -> dict[str, Any] | None:
    """What the lock file records (pid, host, command, started), or None when empty/absent."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return None
    return _parse_info(text)


def holders(path: Path | str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(``running_holder``, the record a run that ended holding the lock left: its process
    gone, kept until the next run takes the lock over), from one read of the lock file."""
    info = read_holder(path)
    if not info or "pid" not in info:
        return None, None
    gone = _is_dead(info) or _pid_reused(info)
    return (None, info) if gone else (info, None)


def running_holder(path: Path | str) -> dict[str, Any] | None:
    """Who holds the lock right now (pid, host, command, started), or None.

    Reads the record only (a probing flock could make a starting run fail): a record left
    by a killed run on this host, whose pid is gone, counts as not running.
    """
    return holders(path)[0]


def _default_command() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "recommend"
    return " ".join([name, *sys.argv[1:]])


def _read_info(fd: int) -> dict[str, Any]:
    try:
        data = os.pread(fd, 4096, 0)
    except OSError:
        return {}
    return _parse_info(data.decode("utf-8", "replace")) or {}


def _parse_info(text: str) -> dict[str, Any] | None:
    text = text.strip()
    if not text:
        return None
    try:
        info = json.loads(text)
    except ValueError:
        return {"raw": text[:80]}
    return info if isinstance(info, dict) else {"raw": text[:80]}


def describe_holder(info: dict[str, Any] | None) -> str:
    if not info:
        return "holder unknown"
    if "pid" not in info:
        return f"unreadable lock file content {info.get('raw', '')!r}"
    host = info.get("host")
    where = f" on {host}" if host and host != socket.gethostname() else ""
    parts = [f"pid {info.get('pid')}{where}"]
    if info.get("command"):
        parts.append(f"'{info['command']}'")
    if info.get("started"):
        when = started_at(info)
        parts.append(f"since {shown(when)}" if when else f"start unknown (recorded as {info['started']!r})")
    parts.append(waiting_text(info))
    return ", ".join(p for p in parts if p)


def started_at(info: dict[str, Any]) -> datetime | None:
    """When the run of a lock record started, by the machine's clock that wrote it
    (``isotime.believed_time``: a start up to a day ahead is now; further ahead, or unreadable,
    unknown: None)."""
    return believed_time(info.get("started"), system_now())


def _is_dead(info: dict[str, Any] | None) -> bool:
    """True only when the recorded process is on this host and certainly gone."""
    if not info or info.get("host") != socket.gethostname():
        return False
    try:
        pid = int(info["pid"])
    except (KeyError, TypeError, ValueError):
        return False
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False


def _pid_reused(info: dict[str, Any], slack_seconds: float = 60.0) -> bool:
    """True when the recorded pid is alive on this host but its process started after the
    record was written: a killed run's pid now belongs to another process (Linux /proc; False
    when unknown). For what ``status`` shows only: a wrong clock must never free a held lock."""
    if info.get("host") != socket.gethostname():
        return False
    try:
        pid = int(info["pid"])
        started = parse_time(info["started"])  # naive: UTC (ValueError: unknown)
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        began = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start time in ticks
    except (KeyError, TypeError, ValueError, IndexError, StopIteration, OSError):
        return False
    return began > started.timestamp() + slack_seconds


def still_held(path: Path | str) -> None:
    """Before a write of Spotify: the lock this process holds at ``path`` is still the file the
    path names. Its file deleted by hand (after an exit 6, say) let a second run take a new one
    and write the same playlist at once; now a deleted file is taken again, and one another run
    has locked since is LockHeld: this run writes nothing. No lock held here: nothing to check."""
    lock = _HELD.get(str(Path(path)))
    if lock is None or lock._fd is None or same_file(lock._fd, lock.path):
        return
    old, lock._fd = lock._fd, None
    del _HELD[str(lock.path)]
    try:
        holder = lock._try_acquire()
    finally:
        os.close(old)  # (its flock goes with it)
    if holder is not None:
        raise LockHeld(f"{lock.path}: the lock file was deleted during this run, and another run has taken the lock "
                       f"since ({describe_holder(holder)}): this run writes nothing to Spotify; never delete the lock "
                       f"file (a run killed holding it is taken over by the next)")
    log.warning("the lock file %s was deleted during this run: taken again", lock.path)


def same_file(fd: int, path: Path | str) -> bool:
    """True when ``path`` still names the open file ``fd`` (not renamed, replaced or removed)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def open_locked(path: Path | str, flags: int, tries: int | None = None) -> int:
    """A descriptor of the file ``path`` names, opened with ``flags`` (created 0600 with
    ``O_CREAT``) and held under an exclusive flock taken while the path still named it: a file
    another process renamed or replaced while we waited for the lock (a log rotated, runs.jsonl
    trimmed) is let go and the new one locked (each such retry follows another process's
    finished work). Closing the descriptor drops the lock. Returned unlocked on a file system
    without locks; with ``tries``, locked but perhaps no longer named after that many files in a
    row were replaced. OSError: the file cannot be opened."""
    attempt = 0
    while True:
        attempt += 1
        fd = os.open(path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # no locks here: as before, unlocked
            return fd
        if same_file(fd, path) or (tries is not None and attempt >= tries):
            return fd
        os.close(fd)


# held while a demo run's stand-in serves the sample account (a build, an export, `web --demo`
# for its whole life): two at once logged in over each other's token and saved over each
# other's account, so the one started first met "Spotify refused the saved login"
DEMO_LOCK = "standin.lock"


@contextmanager
def demo_lock(data_dir: Path | str) -> Iterator[None]:
    """Hold the demo's lock (``DEMO_LOCK`` in ``paths.demo_dir``); LockHeld saying who holds it."""
    from .paths import demo_dir
    path = demo_dir(data_dir) / DEMO_LOCK
    try:
        lock = RunLock(path).acquire()
    except LockHeld:
        raise LockHeld(f"another demo run is using the sample account ({describe_holder(read_holder(path))}): "
                       "demo runs share its stand-in's login and playlists, so one runs at a time; stop that one "
                       "(a `recommend web --demo` with Ctrl-C, or use its pages) and run this again") from None
    try:
        yield
    finally:
        lock.release()
