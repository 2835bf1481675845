"""What unattended runs leave behind: a rotating log, one JSON line per run, and a status.

* ``setup_logging``: every run logs to ``<cache>/<log_file>`` (rotating) and, unless quiet,
  warnings to stderr. A filter on both handlers redacts tokens and secrets.
* ``append_run`` / ``read_runs``: ``<cache>/runs.jsonl``, one object per run; ``record_run`` /
  ``record_failure`` build a command's record (the CLI's and the web app's, one way).
(``status.py`` puts what `recommend status` shows together from these.)
"""

from __future__ import annotations

import errno
import json
import logging
import logging.handlers
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import StorageError, make_dirs, private_mkdirs
from .isotime import iso_utc, shown, time_or_none, utc_now
from .lock import describe_holder, open_locked, same_file
from .safetext import json_safe, redact, remember_secrets, terminal_safe
from .store import atomic_write_text

log = logging.getLogger(__name__)

RUNS_FILE = "runs.jsonl"
RUNS_MAX_BYTES = 1_000_000       # past this size runs.jsonl is cut to its last RUNS_KEEP lines
RUNS_KEEP = 1000
RUN_FIELDS = ("when", "command", "exit_code", "added", "removed", "kept", "playlist_id",
              "duration_s", "requests", "message", "version", "trigger")
# Our crontab line and systemd unit set TRIGGER_VAR=SCHEDULED (schedule.py), so the run they start
# is recorded as ``"trigger": "schedule"``; every other run (by hand, a script, the web app) as
# MANUAL. Records written before the mark existed have no ``trigger`` at all.
TRIGGER_VAR = "RECOMMENDER_TRIGGER"
SCHEDULED = "schedule"
SCHEDULED_COMMAND = "build-playlist"  # what our crontab line runs (schedule.cron_line)
MANUAL = "manual"
SAID_ON_STDERR: set[str] = set()  # messages the stderr handler printed: the CLI does not repeat them as notes
# every line's time in UTC, said so, as every message and `recommend status` show times
# (isotime.shown): a run by hand with TZ set, or a night the clock changes, never writes
# lines that seem to go back hours beside the scheduled run's
FILE_FORMAT = "%(asctime)s UTC %(levelname)s [%(process)d] %(name)s: %(message)s"
STDERR_FORMAT = "%(message)s"  # after the level in lower case, as the CLI's "error:" and "note:" read
MAX_MESSAGE_CHARS = 1000          # a log message (e.g. a response body at -v) is cut to this many characters


def cap(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    kept = re.sub(r"[A-Za-z0-9_\-.~+/=]+$", "", text[:limit])  # never keep the start of a cut token
    return f"{kept} ... [{len(text) - len(kept)} more characters not logged]"


class RedactSecrets(logging.Filter):
    """Rewrites each record's message, traceback and stack text through ``redact``; the
    message is also capped (``MAX_MESSAGE_CHARS``: whole response bodies at -v would rotate
    the history away) and made terminal-safe (names from strangers, see ``safetext``)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_recommend_redacted", None) is self:  # every handler shares the record:
            return True                                         # cut and redact it once
        record._recommend_redacted = self  # type: ignore[attr-defined]
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw template, still redacted
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = terminal_safe(redact(cap(message), self.secrets), keep_newlines=True), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = terminal_safe(redact(record.exc_text, self.secrets), keep_newlines=True)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


# ----- logging setup ------------------------------------------------------------------------
class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file (the current one and each one rotation starts) is 0600.

    Several processes write the same log (a scheduled run, one by hand refused by the lock,
    `status`, a long `recommend web`), and a user's logrotate may rename it. Each record is one
    O_APPEND write, so lines never interleave; before each record the handler follows the path
    to the file it now names (the standard handler kept writing into the renamed file, and
    rotated that one again, dropping the oldest backup early), and a rotation happens under an
    flock of the log, only when no other process rotated it meanwhile."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)

    cannot_rotate = False  # a rotation was refused (a folder we may not rename in): not tried again

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._follow()
            if not self.cannot_rotate and self.shouldRollover(record):
                try:
                    self._rollover_once(record)
                except OSError as exc:  # the record was lost, with a traceback on stderr for each
                    self.cannot_rotate = True
                    logging.FileHandler.emit(self, record)  # (the file reopened if the rotation closed it)
                    log.warning("cannot rotate the log %s (%s): it grows past schedule.log_max_bytes (%d bytes) "
                                "until it can: let its folder be written, or set schedule.log_file to a file in a "
                                "folder of yours", self.baseFilename, exc.strerror or exc, self.maxBytes)
                    return
            logging.FileHandler.emit(self, record)
        except Exception:
            self.handleError(record)

    def _follow(self) -> None:
        """Reopen the log when its path no longer names the file written so far (renamed by
        logrotate, rotated by another run); a file truncated in place needs nothing (O_APPEND)."""
        if self.stream is None or same_file(self.stream.fileno(), self.baseFilename):
            return
        try:
            stream = self._open()
        except OSError:  # a new file we may not write (made by root's logrotate), a full disk:
            return       # keep writing the one we have
        self.stream.close()
        self.stream = stream

    def _rollover_once(self, record: logging.LogRecord) -> None:
        """Rotate while holding an flock of the file the path names, if it still needs it then
        (another run may have rotated it while we waited: follow that file instead)."""
        try:
            fd = open_locked(self.baseFilename, os.O_RDONLY, tries=3)
        except OSError:  # no file to lock: as the standard handler does
            fd = None
        try:
            self._follow()
            if self.shouldRollover(record):
                self.doRollover()
        finally:
            if fd is not None:
                os.close(fd)

    def doRollover(self) -> None:
        """With no backups to keep (``schedule.log_backups: 0``) the log starts again empty;
        the standard handler then only reopened the file, so it grew without bound."""
        if self.backupCount > 0:
            return super().doRollover()
        if self.stream:
            self.stream.close()
            self.stream = None  # type: ignore[assignment]
        os.close(os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        if not self.delay:
            self.stream = self._open()

    def handleError(self, record: logging.LogRecord) -> None:
        """A full disk loses log lines quietly (the CLI reports the failure in one line);
        anything else is reported as logging does."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError) and exc.errno in StorageError.NO_ROOM_ERRNOS:
            return
        super().handleError(record)


def log_path(cache_dir: Path | str, log_file: str) -> Path:
    """The log file ``schedule.log_file`` names: ``~`` expanded, a relative name under the data
    directory ``cache_dir``."""
    return Path(cache_dir) / Path(log_file).expanduser()  # (an absolute name stays as it is)


def setup_logging(cache_dir: Path | str, log_file: str = "recommend.log", max_bytes: int = 1_000_000,
                  backups: int = 3, quiet: bool = False, verbose: bool = False,
                  secrets: Iterable[str] = ()) -> Path:
    """Log every run to a rotating file under the cache dir; return the file's path.

    File: INFO (DEBUG with verbose). stderr: WARNING (INFO with verbose); with quiet, only the
    records marked ``note`` (``extra={"note": True}``: a long wait for Spotify's rate limit, said
    as it starts) and only on a terminal (cron's mail gets the run's one line about them at its
    end instead). A record marked ``note`` reads 'note: ...' there.
    ``secrets`` (e.g. the configured client secret) are redacted verbatim on top of the
    patterns. Calling it again replaces the handlers installed the first time. A log file that
    cannot be opened for writing (a read-only data directory, a full disk, not ours) is warned
    about and left out: a command that only reads still runs, one that writes stops at its first
    write with that write's exit-7 error.
    """
    path = log_path(cache_dir, log_file)
    teardown_logging()
    SAID_ON_STDERR.clear()  # one command's
    remember_secrets(secrets)  # runs.jsonl's messages, every message a service's answer quotes, the CLI's lines
    redactor = RedactSecrets(secrets)
    handlers: list[logging.Handler] = []
    try:
        # a folder of its own too: one that cannot be made (a `schedule.log_file` on a disk not
        # mounted) stopped every command with exit 7, where a file that cannot be written is a
        # note; the data directory's is the run's own exit-7 error, first
        make_dirs(path.parent)
        handlers.append(_file_handler(path, max_bytes, backups, verbose))
    except StorageError as exc:
        if path.parent.absolute().is_relative_to(Path(cache_dir).absolute()):
            raise
        unwritable = f"cannot write the log {path}: {exc}; this run goes on without it"
    except OSError as exc:
        if not StorageError.matches(exc) and exc.errno != errno.EISDIR:  # schedule.log_file naming a folder
            raise
        unwritable = f"cannot write the log {path}: {exc.strerror or exc}; this run goes on without it"
    else:
        unwritable = ""
    if not quiet or _terminal(sys.stderr):
        err_handler = logging.StreamHandler(sys.stderr)
        err_handler.setLevel(logging.INFO if verbose else logging.WARNING)
        err_handler.setFormatter(_StderrFormatter(STDERR_FORMAT))
        # the CLI prints its own one-line error; records marked file_only (with tracebacks) stay in the file
        err_handler.addFilter(lambda record: not getattr(record, "file_only", False))
        if quiet:  # on a terminal: the notes only (a long wait for Spotify's rate limit, as it starts)
            err_handler.addFilter(lambda record: getattr(record, "note", False))
        err_handler.addFilter(_remember_said)
        handlers.append(err_handler)
    root = logging.getLogger()
    for handler in handlers:
        handler.addFilter(redactor)
        handler._recommend = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    UNWRITABLE[:] = [unwritable] if unwritable else []
    if unwritable and not quiet:  # with quiet, the CLI says it as a note (cron's mail: no handler here)
        log.warning(unwritable)
    return path


UNWRITABLE: list[str] = []  # the last setup_logging's "cannot write the log ..." (none: empty)


def _terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed, or no real file behind it
        return False


class _StderrFormatter(logging.Formatter):
    """'warning: ...' (the level in lower case: "WARNING:" beside the CLI's "error:" and
    "note:" lines), and 'note: ...' for records marked ``note``, as the CLI's notes read."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "note", False):
            return f"note: {record.getMessage()}"
        return f"{record.levelname.lower()}: {super().format(record)}"


def _file_handler(path: Path, max_bytes: int, backups: int, verbose: bool) -> logging.Handler:
    """The rotating log file's handler (the file created 0600 when missing). Only regular files
    are made private: `schedule.log_file: /tmp` (or `~`) made that folder 0600, and a log linked
    to /dev/null would have taken the device from every other user."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # the log is the owner's only
    for old in [path] + [path.with_name(f"{path.name}.{i}") for i in range(1, max(0, int(backups)) + 1)]:
        if old.is_file() and old.stat().st_mode & 0o077:
            old.chmod(0o600)  # logs written before they were kept private
    handler = PrivateRotatingFileHandler(
        path, maxBytes=max(0, int(max_bytes)), backupCount=max(0, int(backups)), encoding="utf-8")
    handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    handler.setFormatter(_utc_formatter())
    return handler


def _utc_formatter() -> logging.Formatter:
    """FILE_FORMAT with ``asctime`` in UTC ('2026-12-01 07:00:02,113 UTC INFO ...')."""
    formatter = logging.Formatter(FILE_FORMAT)
    formatter.converter = time.gmtime
    return formatter


def _remember_said(record: logging.LogRecord) -> bool:
    """Remember what the stderr handler prints; a warning (or error) it printed already in this
    command is not printed again (the log file keeps each): the demo logs in and builds in one
    command, and a damaged manifest read by the login's store and the build's was said twice."""
    message = record.getMessage()
    if record.levelno >= logging.WARNING and message in SAID_ON_STDERR:
        return False
    if len(SAID_ON_STDERR) < 1000:  # a long `recommend web` keeps logging: bounded
        SAID_ON_STDERR.add(message)
    return True


def logging_to_file() -> bool:
    """Whether ``setup_logging``'s log file is receiving records (a command that only reads, such
    as `recommend search`, sets it up only when it crashes)."""
    return any(getattr(h, "_recommend", False) and isinstance(h, logging.FileHandler)
               for h in logging.getLogger().handlers)


def teardown_logging() -> None:
    """Remove and close the handlers ``setup_logging`` installed (tests, repeated calls)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_recommend", False):
            root.removeHandler(handler)
            handler.close()


# ----- runs.jsonl ---------------------------------------------------------------------------
def runs_path(cache_dir: Path | str) -> Path:
    return Path(cache_dir) / RUNS_FILE


def run_trigger(environ: Mapping[str, str] | None = None) -> str:
    """Who started this run: SCHEDULED when our crontab line or unit did (it sets
    ``RECOMMENDER_TRIGGER=schedule``), else MANUAL."""
    environ = os.environ if environ is None else environ
    return SCHEDULED if environ.get(TRIGGER_VAR, "").strip() == SCHEDULED else MANUAL


def append_run(cache_dir: Path | str, summary: Mapping[str, Any]) -> dict[str, Any]:
    """Append one JSON line for this run and log a one-line summary; return the record.

    Known fields (missing ones are null): when (ISO UTC, defaults to now), command,
    exit_code, added, removed, kept, playlist_id, duration_s (seconds; ``duration`` is
    accepted too), requests, message, version (the tool's, by default), trigger
    (``run_trigger``'s, by default). Extra keys are kept. The message is redacted like the log.
    """
    record: dict[str, Any] = {key: None for key in RUN_FIELDS}
    record.update(summary)
    if record["duration_s"] is None and "duration" in record:  # accepted alias
        record["duration_s"] = record.pop("duration")
    if not record["when"]:
        record["when"] = iso_utc(utc_now())
    if not record["version"]:  # which release wrote it: an upgrade's trouble traced to a version
        from . import __version__
        record["version"] = __version__
    if not record["trigger"]:
        record["trigger"] = run_trigger()
    if isinstance(record["message"], str):
        record["message"] = redact(record["message"])
    if isinstance(record["duration_s"], float):
        record["duration_s"] = round(record["duration_s"], 3)
    line = json_safe(json.dumps(record, default=str, ensure_ascii=False)) + "\n"
    path = runs_path(cache_dir)
    private_mkdirs(path.parent)  # OSError: the callers say it was not recorded
    # under an flock of the file, held until it is trimmed: a record another run appended while
    # this one trimmed went into the file the trim replaced, and was lost
    fd = open_locked(path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":  # a killed run left half a line
            line = "\n" + line
        os.write(fd, line.encode("utf-8"))
        if os.fstat(fd).st_size > RUNS_MAX_BYTES:
            _trim(path)
    finally:
        os.close(fd)
    log.info("run summary: %s", describe_run(record))
    return record


def record_run(cache_dir: Path | str, command: str, exit_code: int, started: float,
               **summary: Any) -> dict[str, Any]:
    """Append the run of ``command`` (``started``: ``time.monotonic()`` when it began) with its
    exit code, duration and ``summary`` fields; return the record. Raises OSError when the
    file cannot be written."""
    return append_run(cache_dir, {"command": command, "exit_code": exit_code,
                                  "duration_s": round(time.monotonic() - started, 2), **summary})


UNFINISHED = ("did not finish: its process was killed (kill -9, out of memory) or the computer stopped "
              "before it could record how it ended")


def record_unfinished(directory: Path | str, info: Mapping[str, Any]) -> None:
    """A run that ended holding the lock recorded nothing in runs.jsonl: the run that takes the
    lock over (``RunLock.took_over``, which ``jobs.writing`` passes here) records it (when it started, its command, ``"unfinished": true``), so that
    `recommend status` and the history show that night. A record that cannot be written is
    logged, never a failure of this run."""
    if "pid" not in info:
        return
    try:
        append_run(directory, {"when": info.get("started"), "command": info.get("command"), "unfinished": True,
                               "trigger": info.get("trigger") or "unknown", "message": UNFINISHED})
    except OSError as exc:
        log.warning("the run that did not finish (%s) could not be recorded in runs.jsonl (%s)",
                    describe_holder(info), exc.strerror or exc)


def unexpected_message(exc: BaseException) -> str:
    """How a run that died of a bug (not a RecommenderError) is described: in runs.jsonl and on
    the one line the user sees."""
    return f"unexpected error: {type(exc).__name__}: {exc}"


def record_failure(cache_dir: Path | str, command: str, exit_code: int, started: float,
                   message: str, dry_run: bool = False) -> str | None:
    """``record_run`` for a failed run (``dry_run``: marked as the dry run it was, as a dry run
    that succeeds is). A disk that cannot take the record is not a second failure: returns the
    one-line note that says so (for the user), else None."""
    try:
        record_run(cache_dir, command, exit_code, started, message=message, **({"dry_run": True} if dry_run else {}))
    except OSError as exc:
        return (f"this failure could not be recorded in {runs_path(cache_dir)} ({exc.strerror or exc}), "
                "so `recommend status` does not show it")
    return None


def describe_run(run: Mapping[str, Any]) -> str:
    """One human line: '2026-11-29 07:00 UTC build-playlist (dry run) exit 0 in 12.3 s: playlist X
    +5 -3 =42, 57 requests, cache refreshed: msg' (time, a seed playlist, dry-run and scheduled marks when the
    record has them)."""
    when = time_or_none(run.get("when"))
    dry = " (dry run)" if run.get("dry_run") else " (scheduled)" if run.get("trigger") == SCHEDULED else ""
    # a seed playlist's run wrote the playlist for that playlist, not for your taste
    seed = f" --seed-playlist '{run['seed_playlist']}'" if run.get("seed_playlist") else ""
    dry = seed + dry
    at = f"{shown(when)} " if when else ""
    if run.get("unfinished"):  # no exit, no duration: its message says "did not finish" and why
        return f"{at}{run.get('command') or 'run'}{dry} {run.get('message') or 'did not finish'}"
    parts = [f"{at}{run.get('command') or 'run'}{dry} exit {run.get('exit_code')}"]
    try:  # a hand-edited or damaged line is shown, not a crash of `recommend status`
        parts[0] += f" in {float(run['duration_s']):.1f} s" if run.get("duration_s") is not None else ""
    except (TypeError, ValueError):
        parts[0] += f" in {run['duration_s']!r}"
    changes = " ".join(f"{sign}{run[key]}" for sign, key in (("+", "added"), ("-", "removed"), ("=", "kept"))
                       if run.get(key) is not None)
    if len(run.get("playlists") or ()) > 1 and not run.get("playlist_id"):  # an export of several moods
        changes = " ".join(p for p in (f"{len(run['playlists'])} playlists", changes) if p)
    if run.get("playlist_id") or changes:
        parts.append(" ".join(p for p in (f"playlist {run['playlist_id']}" if run.get("playlist_id") else "",
                                          changes) if p))
    if run.get("requests") is not None:
        parts.append(f"{run['requests']} requests")
    if run.get("refreshed"):  # the cache pulled again (stale, --refresh, every demo run): what the requests were for
        parts.append("cache refreshed")
    text = ", ".join(parts)
    if run.get("message"):
        text += f": {run['message']}"
    return text


def read_runs(cache_dir: Path | str, n: int = 10) -> list[dict[str, Any]]:
    """The last ``n`` runs, newest first; unreadable lines are skipped (logged at DEBUG)."""
    path = runs_path(cache_dir)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except (FileNotFoundError, NotADirectoryError):  # no runs yet, or no data directory (a file in its way)
        return []
    runs: list[dict[str, Any]] = []
    for number in range(len(lines) - 1, -1, -1):
        if len(runs) >= n:
            break
        text = lines[number].strip()
        if not text:
            continue
        try:  # NaN or Infinity (a line edited by hand) unknown: `status --json` wrote them, which is no JSON
            run = json.loads(text, parse_constant=lambda constant: None)
        except ValueError:
            run = _cut_record(text)
            if run is None:
                log.debug("%s line %d is not JSON; skipped", path, number + 1)
                continue
        if isinstance(run, dict):
            runs.append(run)
    return runs


# the start of a record as ``append_run`` writes it (json.dumps, RUN_FIELDS' order)
_CUT = re.compile(r'\{"when": "([^"\\]+)", "command": "([^"\\]+)", "exit_code": (-?\d+)[,}]')


def _cut_record(text: str) -> dict[str, Any] | None:
    """A record a full disk cut short (a write that ran out of space half way: the run itself
    failed on it, exit 7): its time, command and exit code, when they were written, so that
    ``status`` shows that run rather than the one before as the last; else None."""
    found = _CUT.match(text)
    if found is None:
        return None
    return {"when": found[1], "command": found[2], "exit_code": int(found[3]),
            "trigger": "unknown", "message": "its record in runs.jsonl was cut short (the disk was full?)"}


def _trim(path: Path) -> None:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    atomic_write_text(path, "".join(lines[-RUNS_KEEP:]), mode=0o600)
