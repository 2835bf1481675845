"""Unattended runs: our one crontab entry, or a systemd user timer.

Cron expressions are parsed and validated by python-crontab, and our line is rendered by it.
Editing a crontab, however, is done line by line: python-crontab re-renders every line it
writes back (it collapses spaces, moves environment lines, rewrites ``50%`` as ``50 %`` and
comments out lines it cannot parse), and a user's other jobs must survive byte-identical.
So we read the raw text, recognise OUR entry (python-crontab parses each line; ours carries
the comment ``recommend-managed``), replace or drop only that line and write the rest back
unchanged. With ``tabfile=None`` the user's crontab is read with ``crontab -l`` and written
with ``crontab FILE``, as python-crontab's ``CronTab(user=True)`` does.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from crontab import CronSlices, CronTab

from .errors import ConfigError, RecommenderError, UsageError
from .isotime import utc_now
from .runlog import SCHEDULED, SCHEDULED_COMMAND, TRIGGER_VAR
from .wording import and_list

log = logging.getLogger(__name__)

MARKER = "recommend-managed"
UNIT_NAME = "recommend"
# what cron reads each special as (Vixie cron's entry.c; @hourly's hour counts as a `*` there too)
SPECIAL_FIELDS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
                  "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *",
                  "@annually": "0 0 1 1 *"}
SPECIALS = set(SPECIAL_FIELDS)
REBOOT = "@reboot"  # cron's special without times (not one `--at` takes: a line edited by hand may have it)
ALLOWED_FIELD_CHARS = set("0123456789*,-/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
# Test-only, not for users (so not in README): the crontab file `recommend status` reads instead
# of the user's crontab, so that no test's `status` reads the real one (tests/conftest.py sets it
# for every test). The schedule commands take --tabfile instead.
TEST_TABFILE_VAR = "RECOMMENDER_TEST_CRONTAB"


class CrontabUnavailable(RecommenderError):
    """No ``crontab`` program, or it refused to read or write the user's crontab: exit 2 like a
    usage error (the message says what to do instead); exit 1 is kept for bugs."""

    exit_code = 2


class NoCrontabProgram(CrontabUnavailable):
    """No ``crontab`` program on PATH (a container, a machine without cron): no crontab to read
    or edit, and our systemd user timer may be the schedule."""


class Ours(NamedTuple):
    """Our crontab line (None when there is none), the value of the ``CRON_TZ`` line above
    it (the zone cronie reads its times in; None without one) and every
    environment line above it (:func:`environment`: what cron gives our command)."""

    line: str | None
    cron_tz: str | None
    environment: dict[str, str]


# ----- expressions --------------------------------------------------------------------------
def validate_cron(expr: str) -> str:
    """The expression with its whitespace normalised; UsageError naming it when invalid.

    Accepts five fields (minute hour day-of-month month day-of-week, with lists, ranges,
    steps and English names) or @hourly/@daily/@weekly/@monthly/@yearly.
    """
    text = " ".join(str(expr).split())
    fields = text.split(" ")
    if text.startswith("@"):
        if text.lower() not in SPECIALS:
            raise UsageError(f"invalid cron expression {expr!r}: use five fields or one of "
                             f"{', '.join(sorted(SPECIALS))}")
        return text.lower()
    if not text:
        raise UsageError(f"invalid cron expression {expr!r}: it is empty (five fields: minute hour "
                         "day-of-month month day-of-week, e.g. \"30 6 * * *\")")
    if len(fields) != 5:
        special = f"@{text.lower()}"  # "daily", as systemd's OnCalendar= takes it: cron's is @daily
        hint = f"; did you mean {special!r}?" if special in SPECIALS else ""
        raise UsageError(f"invalid cron expression {expr!r}: expected 5 fields "
                         f"(minute hour day-of-month month day-of-week), got {len(fields)}{hint}")
    if not all(set(f) <= ALLOWED_FIELD_CHARS for f in fields):
        raise UsageError(f"invalid cron expression {expr!r}: unexpected character")
    try:
        slices = CronSlices(text)
    except (ValueError, KeyError) as exc:
        reason = exc.args[0] if exc.args else type(exc).__name__
        raise UsageError(f"invalid cron expression {expr!r}: {reason}") from None
    days, months = (set(s) for s in list(slices)[2:4])
    # a day-of-month no month it names has ("31 2": 31 February) never runs, unless a restricted
    # day-of-week may run it instead (cron runs a day that matches either when both are restricted)
    if (fields[2].startswith("*") or fields[4].startswith("*")) and not any(
            d <= _LONGEST.get(m, 31) for m in months for d in days):
        raise UsageError(f"invalid cron expression {expr!r}: it would never run (none of its months has "
                         f"day {', '.join(map(str, sorted(days)))})")
    return text


_LONGEST = {2: 29, 4: 30, 6: 30, 9: 30, 11: 30}  # days of each month at most (29 February in leap years)


def configured_cron(settings) -> str:
    """``schedule.cron`` validated; an invalid one is a ConfigError naming the file that set it
    and the key (the bare expression left the user looking for a mistyped --at)."""
    try:
        return validate_cron(settings.schedule.cron)
    except UsageError as exc:
        from .config import DEFAULT_FILE
        origin = settings.sources.get("schedule.cron", str(DEFAULT_FILE))
        raise ConfigError(f"{origin}: schedule.cron: {exc}") from None


def cron_line(expr: str, executable: Path | str, config_path: Path | str | None,
              cache_dir: Path | str | None, env: dict[str, str] | None = None) -> str:
    """Our crontab line (no trailing newline), marked with ``# recommend-managed``.

    Runs ``<executable> build-playlist --quiet --no-input [--config <abs>]``; the app writes
    its own rotating log, so nothing is redirected. ``RECOMMENDER_TRIGGER=schedule`` marks the
    runs it starts as scheduled in runs.jsonl (a line without it, installed by an older version,
    is still ours: the comment says so). ``cache_dir`` (when given) is passed as
    RECOMMENDER_CACHE_DIR so the scheduled run uses the cache (and login) in effect now;
    ``env`` (the proxy settings of :func:`proxy_environment`) is set on the line too.
    """
    expr = validate_cron(expr)
    # Rendered here rather than by python-crontab, which would turn "0 0 * * *" into "@daily"
    # (unknown to some crons); cron reads an unescaped % as a newline. A " #" (a folder "my #2",
    # inside shlex's single quotes, as every space is) is written '"#"': python-crontab takes the first
    # " #" for the comment, so the line was not ours (installed twice, never removed)
    command = _command(executable, config_path, cache_dir, env)
    command = re.sub(r"(\s)#", "\\1'\"#\"'", command).replace("%", "\\%")
    return f"{expr} {command} # {MARKER}"


def _words(executable: Path | str, config_path: Path | str | None) -> list[str]:
    words = [str(Path(executable).expanduser().absolute()), "build-playlist", "--quiet", "--no-input"]
    if config_path is not None:
        words += ["--config", str(Path(config_path).expanduser().absolute())]
    return words


def _command(executable: Path | str, config_path: Path | str | None, cache_dir: Path | str | None,
             env: dict[str, str] | None = None) -> str:
    for path in (executable, config_path, cache_dir, *(env or {}).values()):
        if path is not None and ("\n" in str(path) or "\r" in str(path)):
            raise UsageError(f"cannot schedule with the path {str(path)!r}: it contains a line break")
    command = shlex.join(_words(executable, config_path))
    for name, value in reversed(list(_environment(cache_dir, env).items())):
        command = f"{name}={shlex.quote(value)} {command}"
    return command


def _environment(cache_dir: Path | str | None, env: dict[str, str] | None) -> dict[str, str]:
    """The variables our line or unit sets: the scheduled-run mark, the cache directory, then the
    carried proxy settings."""
    found = {"RECOMMENDER_CACHE_DIR": str(Path(cache_dir).expanduser().absolute())} if cache_dir is not None else {}
    return {TRIGGER_VAR: SCHEDULED, **found, **(env or {})}


# ----- proxies -------------------------------------------------------------------------------
# A proxy exported in ~/.profile or ~/.bashrc is not in cron's or systemd's environment: the
# scheduled run then tried to go direct and failed with "Spotify is unavailable" (exit 5).
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
NO_PROXY_VARS = ("NO_PROXY", "no_proxy")


def proxy_environment(environ=None) -> tuple[dict[str, str], list[str]]:
    """The proxy variables of this environment a scheduled run must be given (name -> value),
    and notes for the ones that are not written: a proxy URL holding a password is never
    written into a crontab or a unit by us, like the client secret."""
    environ = os.environ if environ is None else environ
    carried: dict[str, str] = {}
    notes: list[str] = []
    for name in PROXY_VARS:
        value = environ.get(name)
        if not value:
            continue
        if url_password(value):
            notes.append(f"{name} in your environment holds a password, which a scheduled run does not see "
                         f"and is never written into a crontab or a unit: add `{name}=...` at the top of your "
                         "crontab (`crontab -e`) yourself, or the scheduled run cannot reach Spotify")
        else:
            carried[name] = value
    if carried:
        carried.update({name: environ[name] for name in NO_PROXY_VARS if environ.get(name)})
    return carried, notes


# The state and cache folders follow XDG_STATE_HOME / XDG_CACHE_HOME; set in ~/.profile only, the
# scheduled run looked in ~/.local/state instead: "not logged in" (exit 3) every day, and
# `recommend auth` by hand saved the login where the scheduled run never looks.
XDG_DIRS = (("XDG_STATE_HOME", "state", ".local/state"), ("XDG_CACHE_HOME", "cache", ".cache"))


def xdg_environment(data_dirs, environ=None) -> dict[str, str]:
    """The XDG base-directory variables that place this run's state and cache folders
    somewhere else than where a run given only HOME looks (name -> value)."""
    environ = os.environ if environ is None else environ
    if data_dirs.single:  # one directory: passed on the line as RECOMMENDER_CACHE_DIR
        return {}
    carried = {}
    for name, which, default in XDG_DIRS:
        value = (environ.get(name) or "").strip()
        if not value:
            continue
        base = Path(value).expanduser().absolute()
        used = Path(getattr(data_dirs, which)).expanduser().absolute()
        if used.parent == base and base != Path.home() / default:
            carried[name] = str(base)
    return carried


def state_dir_cron_misses(assigned: dict[str, str]) -> str | None:
    """The warning for a crontab line of a version from before the cache directory (the 29 Nov
    ones named the data directory: ``RECOMMENDER_CACHE_DIR=$XDG_STATE_HOME/recommend``) when
    that directory was placed by an XDG_STATE_HOME the line does not give cron: the scheduled
    runs then keep data and cache in it as one directory while runs by hand keep their cache in
    the cache directory, and each pulls the library again after the other; None otherwise.
    ``assigned``: what cron gives the command (the crontab's environment lines above it, then
    the line's own NAME=value words)."""
    from . import paths
    named, base = assigned.get("RECOMMENDER_CACHE_DIR"), (os.environ.get("XDG_STATE_HOME") or "").strip()
    if not named or not base or "XDG_STATE_HOME" in assigned:
        return None
    state = paths.user_data_dir()
    base_dir = Path(base).expanduser().absolute()
    if state.parent != base_dir or base_dir == Path.home() / ".local" / "state" or not paths.same_place(named, state):
        return None
    return (f"our crontab line names RECOMMENDER_CACHE_DIR={named}, the data directory your XDG_STATE_HOME puts "
            "there; cron does not set XDG_STATE_HOME, so the scheduled runs keep their cache in it and yours in "
            f"{paths.user_cache_dir()}, each pulling the library again: run `recommend schedule install` again")


def _command_words(command: str) -> tuple[dict[str, str], list[str]]:
    """A crontab job's command as (the NAME=value words before the program, the rest)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return {}, []
    assigned: dict[str, str] = {}
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0], re.S):
        name, _, value = words.pop(0).partition("=")
        assigned[name] = value
    return assigned, words


def line_words(line: str) -> list[str]:
    """The command of a crontab line of ours after its NAME=value words, as words ([] when it
    has none): parsed once for :func:`missing_program` and :func:`missing_config`."""
    for job in _jobs(line):
        return _command_words(job.command)[1]
    return []


def _program(words: list[str]) -> Path | None:
    return Path(words[0]) if words else None


def program_gone(program: Path | str) -> str:
    """What `schedule show` and `status` say of a scheduled program that is gone."""
    return (f"{program} no longer exists or cannot be run (a virtualenv deleted, moved or rebuilt?): cron fails "
            "before the tool starts, so no run is recorded; run `recommend schedule install` again with the "
            "`recommend` you use now")


def missing_program(words: list[str]) -> Path | None:
    """The program our line runs (its :func:`line_words`) when it no longer exists or cannot be
    run (a virtualenv deleted, moved or rebuilt elsewhere, a checkout removed): cron then fails
    before the tool starts, so nothing reaches recommend.log or runs.jsonl. None when it is there."""
    return _gone(_program(words))


def config_gone(path: Path | str) -> str:
    """What `schedule show` and `status` say of a scheduled run whose --config file is gone."""
    return (f"the scheduled run's config file {path} no longer exists (a checkout deleted after `recommend config "
            "migrate`?): every scheduled run stops with exit 2; run "
            "`recommend schedule install` again")


def missing_config(words: list[str]) -> Path | None:
    """The --config file a scheduled command (our crontab line's :func:`line_words`, our unit's
    ExecStart=) names when it no longer exists; None when it is there (or it names none)."""
    named = [value for flag, value in zip(words, words[1:]) if flag in ("--config", "-c")]
    named += [word.partition("=")[2] for word in words if word.startswith("--config=")]
    if not named or not named[-1]:
        return None
    path = Path(named[-1]).expanduser()
    return path if path.is_absolute() and not path.exists() else None


def _gone(program: Path | None) -> Path | None:
    """``program`` when it cannot be run: not there, not executable, or the Python its first
    line names is gone (a Python upgrade that took away the virtualenv's interpreter: the
    script is there and cron's shell says "not found")."""
    if program is None or not program.is_absolute():
        return None
    if not (program.is_file() and os.access(program, os.X_OK)):
        return program
    interpreter = _interpreter(program)
    return program if interpreter is not None and not os.access(interpreter, os.X_OK) else None


def _interpreter(script: Path) -> Path | None:
    """The absolute interpreter a script's ``#!`` line names, and pip's form for a path too long
    or with spaces (``#!/bin/sh`` then ``'''exec' "/path/python" "$0" "$@"``); None for a
    binary, ``#!/usr/bin/env python3`` (found on PATH) or a file that cannot be read."""
    import shlex
    try:
        with open(script, "rb") as f:
            head = f.read(1024).decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    if not head or not head[0].startswith("#!"):
        return None
    words = head[0][2:].split()
    if words and words[0] in ("/bin/sh", "/usr/bin/sh") and len(head) > 1 and head[1].startswith("'''exec' "):
        try:
            words = shlex.split(head[1][len("'''exec' "):])
        except ValueError:
            return None
    if not words or not words[0].startswith("/") or Path(words[0]).name == "env":
        return None
    return Path(words[0])


# ----- the settings a scheduled run sees -------------------------------------------------------
# cron and systemd start the run with a bare environment: whatever the interactive run got from
# SPOTIPY_* / RECOMMENDER_* variables must live in the config file instead (the cache dir
# is passed on the line itself when one directory is set). The client secret is never written anywhere by us.
CARRIED_KEYS = ("spotify.client_id", "spotify.redirect_uri", "spotify.api_url", "spotify.accounts_url",
                "listenbrainz.api_url", "listenbrainz.labs_url", "enrich.musicbrainz_url")
SECRET_KEY = "spotify.client_secret"
OPTIONAL_SECRET_KEY = "listenbrainz.token"  # never written either; without it discovery still works


def unseen_settings(settings, config_path: Path | str | None, cache_dir: Path | str | None) -> dict[str, Any]:
    """Settings of this run (dotted key -> value) that a scheduled run of our line, started
    with an empty environment, would not have."""
    from .config import load_settings
    scheduled = load_settings(config_path, environ={"RECOMMENDER_CACHE_DIR": str(cache_dir)} if cache_dir else {})
    return {key: settings.get_path(key) for key in (*CARRIED_KEYS, SECRET_KEY, OPTIONAL_SECRET_KEY)
            if settings.get_path(key) is not None and settings.get_path(key) != scheduled.get_path(key)}


def carry_settings(settings, config_path: Path | str | None, cache_dir: Path | str | None,
                   write: bool = True, lock: Callable[[], None] | None = None) -> tuple[Path | None, list[str], list[str]]:
    """Make a scheduled run use the same settings as this one.

    Settings that come only from the environment are written into the user's config file
    (``config_path``, else the default user file, created when missing). A client secret that
    the file lacks is refused (UsageError): it is never written into a crontab, a unit or a
    file by us. With ``write=False`` nothing is changed and notes say what is missing.
    ``lock``: called before the file is written (the caller then holds the run lock, as every
    other writer of the config file does: a write between our read and ours was lost).
    Returns (the config file the scheduled command must use, keys written, notes).
    """
    missing = unseen_settings(settings, config_path, cache_dir)
    target = config_target(settings, config_path)
    notes: list[str] = []
    from .config import load_settings
    filed = load_settings(config_path, environ={})  # its sources: the keys the file a scheduled run reads sets
    in_file = set(filed.sources)
    clash = _file_sets_otherwise(settings, filed, [k for k in sorted(missing) if k in in_file], missing)
    if clash:  # it replaced your file's client id with a stand-in's "any" from the shell, unsaid
        if write:
            raise UsageError(f"{clash}; a scheduled run reads the file, not your shell: unset the variable, or put the "
                             "value you want in the file, then run this `recommend schedule install` again (with its "
                             "--config and --at); nothing "
                             "was installed")
        notes.append(f"{clash}: a scheduled run of these lines gets the file's")
        missing = {k: v for k, v in missing.items() if k not in in_file}
    if SECRET_KEY in missing:
        source = settings.sources.get(SECRET_KEY, "your environment")
        text = (f"the client secret comes from {source}, which a scheduled run does not see: put "
                f"`spotify.client_secret: ...` in {target} (readable only by you: chmod 600), then run "
                "this `recommend schedule install` again (with its --config and --at)")
        _refuse_or_note(text, write, notes)
        del missing[SECRET_KEY]
    if OPTIONAL_SECRET_KEY in missing:
        source = settings.sources.get(OPTIONAL_SECRET_KEY, "your environment")
        notes.append(f"the ListenBrainz token comes from {source}, which a scheduled run does not see: the "
                     f"scheduled run asks ListenBrainz without it unless you put `listenbrainz.token: ...` in {target}")
        del missing[OPTIONAL_SECRET_KEY]
    # a service address with a password in it (http://user:pw@host/), from the environment only: written
    # into the file by us as the client secret would be, which is never (the output hides it: `config show`)
    passworded = sorted(k for k, v in missing.items() if isinstance(v, str) and url_password(v))
    if passworded:
        where = [f"{k} from {settings.sources.get(k, 'your environment')}" for k in passworded]
        text = (f"{and_list(where)} "
                f"holds a password, which a scheduled run does not see and we never write into a file: put that "
                f"address in {target} yourself (readable only by you: chmod 600), then run this `recommend schedule "
                "install` again (with its --config and --at)")
        _refuse_or_note(text, write, notes)
        missing = {k: v for k, v in missing.items() if k not in passworded}
    if not missing:
        return (Path(config_path).expanduser().absolute() if config_path else None), [], notes
    keys = sorted(missing)
    sources = ", ".join(f"{k} from {settings.sources.get(k, 'your environment')}" for k in keys)
    if write:
        from .configfile import set_values
        if lock is not None:
            lock()
        set_values(target, {key: missing[key] for key in keys})
        log.info("wrote %s to %s for the scheduled run", ", ".join(keys), target)
    else:
        notes.append(f"{sources}: a scheduled run does not see these settings: "
                     f"`recommend schedule install` writes them to {target}; add them there yourself "
                     "when you use these lines")
    return target, (keys if write else []), notes


def _refuse_or_note(text: str, write: bool, notes: list[str]) -> None:
    """A setting a scheduled run would miss and that we never write for it: an install refuses
    (UsageError, nothing installed); ``--print`` (``write`` False) adds ``text`` to ``notes``."""
    if write:
        raise UsageError(text + "; nothing was installed")
    notes.append(text)


def config_target(settings, config_path: Path | str | None) -> Path:
    """The config file ``carry_settings`` writes: ``config_path``, else the user's config file
    (made when missing)."""
    from .paths import user_config_file
    return Path(config_path or settings.user_file or user_config_file()).expanduser().absolute()


def file_bytes(path: Path) -> bytes | None:
    """``path``'s bytes (None: no such file), to ``put_back`` after an install that failed."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def put_back(path: Path, before: bytes | None) -> None:
    """The config file as it was before ``carry_settings`` wrote it (``file_bytes``; None: it
    did not exist): an install `crontab` then refused left the file changed."""
    from .store import atomic_write
    if before is None:
        path.unlink(missing_ok=True)
    else:
        atomic_write(path, lambda p: p.write_bytes(before))


def url_password(value: str) -> str | None:
    """The password in a URL's user info ("http://user:pw@host/"; a bare "user:pw@host" read as
    one), None when it has none."""
    from urllib.parse import urlsplit
    try:
        return urlsplit(value if "://" in value else f"http://{value}").password
    except ValueError:
        return None


def _file_sets_otherwise(settings, filed, keys: list[str], missing: dict) -> str | None:
    """What your environment gives (``missing``: key -> value) differently from a value the
    config file sets itself (``filed``: that file's settings; ``keys``: those it sets): "FILE
    sets spotify.client_id to 'abc123' and environment SPOTIPY_CLIENT_ID gives 'any'" (a
    secret's values unsaid); None for no key."""
    said = []
    for key in keys:
        ours = settings.sources.get(key, "your environment")
        if key in (SECRET_KEY, OPTIONAL_SECRET_KEY):
            said.append(f"{filed.sources[key]} sets {key} and {ours} gives another")
        else:
            said.append(f"{filed.sources[key]} sets {key} to {filed.get_path(key)!r} and {ours} gives {missing[key]!r}")
    return "; ".join(said) or None


def default_executable() -> Path:
    """The ``recommend`` script of the installation that is running: the script this process was
    started as, else the one beside the running Python (its virtualenv), else the first on PATH.
    (PATH came first: `~/venvs/new/bin/recommend schedule install` with an older install earlier
    on PATH, a pipx one say, scheduled the older program.)"""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if started is not None and started.name == "recommend" and started.is_file() and os.access(started, os.X_OK):
        return started.absolute()
    beside = Path(sys.executable).parent / "recommend"
    if beside.exists():
        return beside.absolute()
    found = shutil.which("recommend")
    if found:
        return Path(found).absolute()
    raise UsageError("cannot find the `recommend` program on PATH; install the package "
                     "(pip install .) or pass its path")


# ----- crontab editing ---------------------------------------------------------------------
def _jobs(line: str) -> list:
    """The jobs python-crontab reads in one crontab line. It logs each line it cannot parse
    ("'61', not in 0-59 for Minutes") on its own logger, which reached stderr raw, with nothing
    saying where from, at every `schedule install/remove/show` and `status` over a crontab holding
    a broken line with our marker; such a line is no line of ours (``is_ours``), and is left as
    it is: its logger is silenced (it is asked nothing else)."""
    logging.getLogger("crontab").disabled = True
    return list(CronTab(tab=line.rstrip("\r\n")))


def is_ours(line: str) -> bool:
    """True when the crontab line is a job (enabled or commented out) carrying our marker."""
    if MARKER not in line:
        return False
    jobs = _jobs(line)
    return any(job.comment == MARKER for job in jobs)


def install(expr: str, executable: Path | str, config_path: Path | str | None,
            cache_dir: Path | str | None, tabfile: Path | str | None = None,
            env: dict[str, str] | None = None) -> Ours:
    """Add or replace our entry; every other line stays byte-identical. Returns our line and the
    CRON_TZ above it where it now stands (a user's own CRON_TZ line applies to ours too)."""
    line = cron_line(expr, executable, config_path, cache_dir, env)
    lines = _read(tabfile).splitlines(keepends=True)
    ours = [i for i, text in enumerate(lines) if is_ours(text)]
    newline = _newline_of(lines)
    if ours:
        lines[ours[0]] = line + newline
        for i in reversed(ours[1:]):
            del lines[i]
    else:
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        lines.append(line + newline)
    _write(tabfile, "".join(lines))
    log.info("installed the schedule %r in %s", expr, _where(tabfile))
    return _ours(line, lines[:ours[0] if ours else len(lines) - 1])


def is_paused(line: str | None) -> bool:
    """True for our line commented out (a schedule paused by hand, `crontab -e`)."""
    return bool(line) and not _jobs(line)[0].is_enabled()


def find_ours(tabfile: Path | str | None = None) -> Ours:
    """Our crontab line and the CRON_TZ above it, from one read of the crontab (``crontab -l``
    with ``tabfile`` None)."""
    lines = _read(tabfile).splitlines()
    index = next((i for i, text in enumerate(lines) if is_ours(text)), None)
    return Ours(None, None, {}) if index is None else _ours(lines[index], lines[:index])


def _ours(line: str, above: list[str]) -> Ours:
    """Our line with what the crontab's lines ``above`` it set (one walk of them)."""
    env = environment(above)
    return Ours(line, env.get("CRON_TZ"), env)


def show(tabfile: Path | str | None = None) -> str | None:
    """Our crontab line, or None when there is none."""
    return find_ours(tabfile).line


def remove(tabfile: Path | str | None = None) -> bool:
    """Drop our entry (only ours); True when there was one."""
    lines = _read(tabfile).splitlines(keepends=True)
    kept = [text for text in lines if not is_ours(text)]
    if len(kept) == len(lines):
        return False
    _write(tabfile, "".join(kept))
    log.info("removed the schedule from %s", _where(tabfile))
    return True


def _newline_of(lines: list[str]) -> str:
    return "\r\n" if lines and lines[0].endswith("\r\n") else "\n"


def _where(tabfile: Path | str | None) -> str:
    return str(tabfile) if tabfile is not None else "your crontab"


def _crontab_program() -> str:
    found = shutil.which("crontab")
    if not found:
        raise NoCrontabProgram("no `crontab` program found; run `recommend schedule install --print` "
                               "and add the line to your scheduler yourself")
    return found


def _read(tabfile: Path | str | None) -> str:
    if tabfile is not None:
        try:
            return Path(tabfile).read_bytes().decode("utf-8")
        except FileNotFoundError:
            return ""
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{tabfile}: cannot read the crontab file ({exc})") from None
    program = _crontab_program()
    proc = _crontab([program, "-l"], "`crontab -l`")
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        if "no crontab" in stderr.lower():
            return ""
        raise CrontabUnavailable(f"`crontab -l` failed: {_one_line(stderr) or f'exit {proc.returncode}'}")
    # bytes that are not UTF-8 (a Latin-1 comment) survive as surrogates and are written back as they were
    return proc.stdout.decode("utf-8", "surrogateescape")


def _write(tabfile: Path | str | None, text: str) -> None:
    if tabfile is not None:  # (a link's target is written; a device, a pipe or a folder refused, as root
        from .store import atomic_write_text  # too: `--tabfile /dev/null` replaced the device by a file)
        atomic_write_text(Path(tabfile), text, chosen=True)
        return
    program = _crontab_program()
    fd, tmp = tempfile.mkstemp(prefix="recommend-crontab.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8", "surrogateescape"))
        proc = _crontab([program, tmp], "`crontab` writing the new table (nothing was changed)")
    finally:
        Path(tmp).unlink(missing_ok=True)
    if proc.returncode != 0:
        said = _one_line(proc.stderr.decode("utf-8", "replace"))
        raise CrontabUnavailable(f"`crontab` refused the new table: {said or f'exit {proc.returncode}'}")


def _one_line(said: str) -> str:
    """What a `crontab` program wrote on stderr as one line: cronie's refusal is two
    ('"/tmp/x":1: bad minute' and "errors in crontab file, can't install."), shown joined
    by "; " (the error line showed the line break as \\x0a)."""
    return "; ".join(line.strip() for line in said.splitlines() if line.strip())


CRONTAB_TIMEOUT = 30.0  # seconds a `crontab` call may take


def _crontab(argv: list[str], what: str) -> subprocess.CompletedProcess:
    """One `crontab` call (its output as bytes). One that does not end within CRONTAB_TIMEOUT
    (a crontab program waiting on a lock, a password, a network home) is CrontabUnavailable
    naming it: it was "unexpected error: TimeoutExpired ... please report it", exit 1."""
    try:
        return subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL, timeout=CRONTAB_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise CrontabUnavailable(f"{what} did not finish within {CRONTAB_TIMEOUT:g} s; check that `crontab -l` "
                                 "works in a terminal, or run `recommend schedule install --print` and add the line "
                                 "to your scheduler yourself") from None


# ----- what `recommend status` shows ----------------------------------------------------------
def status(tabfile: Path | str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Our schedule as ``recommend status`` shows it: our crontab entry (one read of the
    crontab), else our systemd user timer; never raises for a crontab that cannot be read (no
    ``crontab`` program, a refusal).

    Keys: state ('installed', 'disabled' (our line commented out), 'not installed' or
    'unknown'), source ('crontab', 'systemd' (no active crontab line of ours, our user timer's
    unit files: :func:`timer_status`; no next run computed, systemd's own rules) or None), timer (:func:`timer_status`'s
    dict or None), cron (the expression), cron_tz (the time zone a ``CRON_TZ=`` line above ours
    sets, which cronie reads our times in; None without one, or when it names no zone this
    computer knows: a warning says so), next_run (ISO with its offset: when cron really starts
    it, see :func:`upcoming`), next_run_note (what a clock change does to that run, and with
    CRON_TZ when a cron that ignores it would start it; or None), line, marked (the line marks its
    runs as scheduled: False for a line an older version installed), missing_program (the
    program our line runs when it is gone, see :func:`missing_program`), missing_config (the
    --config file it names when that is gone, :func:`missing_config`), message (why the state
    is unknown) and warnings."""
    found: dict[str, Any] = {"state": "unknown", "source": None, "cron": None, "cron_tz": None, "next_run": None,
                             "next_run_note": None, "line": None, "marked": None, "missing_program": None,
                             "missing_config": None, "message": None, "warnings": [], "timer": None}
    timer = timer_status()
    found = _crontab_status(found, tabfile, now)
    if timer is None:
        return found
    if found["state"] == "installed":
        both = [two_schedules(timer)]
        return {**found, "timer": timer, "warnings": found["warnings"] + (both if timer["enabled"] else [])}
    # no working line of ours in the crontab (or none to read): the timer `schedule install --print` made
    warnings = [] if timer["enabled"] else [
        f"{UNIT_NAME}.timer is not enabled, so it is not started at login or boot: "
        f"`systemctl --user enable --now {UNIT_NAME}.timer`"]
    if not timer["on_calendar"]:
        warnings.append(f"{timer['path']} has no OnCalendar= line, so it never starts a run: write one "
                        "(see the NOTE in the file)")
    return {**found, "state": "installed", "source": "systemd", "cron": timer["cron"], "timer": timer,
            "marked": timer["marked"], "missing_program": timer["missing_program"],
            "missing_config": timer["missing_config"], "message": None,
            "warnings": warnings}


def two_schedules(timer: dict[str, Any]) -> str:
    """What `status` and `schedule install` say when our crontab line and our enabled systemd
    timer (:func:`timer_status`) both start the scheduled build."""
    return (f"the systemd timer {timer['path']} starts {SCHEDULED_COMMAND} too: two schedules (keep one: "
            f"`recommend schedule remove`, or `systemctl --user disable --now {UNIT_NAME}.timer`)")


def _crontab_status(found: dict[str, Any], tabfile: Path | str | None, now: datetime | None) -> dict[str, Any]:
    """:func:`status`'s keys for our crontab line."""
    tabfile = tabfile if tabfile is not None else (os.environ.get(TEST_TABFILE_VAR) or None)
    try:
        line, zone_name, env = find_ours(tabfile)
    except NoCrontabProgram:
        return {**found, "message": "no crontab program"}
    except (RecommenderError, OSError, subprocess.SubprocessError) as exc:
        return {**found, "message": str(exc)}
    if line is None:
        return {**found, "state": "not installed"}
    found = {**found, "source": "crontab"}
    job = _jobs(line)[0]  # parsed once: the program, the mark, enabled or not
    # (@reboot, edited in by hand, has no times: its slices read "* * * * *", a run every minute)
    expr = _expression(line) or (REBOOT if str(job.slices) == REBOOT else " ".join(str(s) for s in job.slices))
    assigned, words = _command_words(job.command)
    gone, config = missing_program(words), missing_config(words)
    found.update(line=line, cron=expr, missing_program=str(gone) if gone else None,
                 missing_config=str(config) if config else None,
                 marked=assigned.get(TRIGGER_VAR) == SCHEDULED,
                 state="installed" if job.is_enabled() else "disabled")
    if job.is_enabled():
        zone, warning = cron_zone(zone_name)
        found["cron_tz"] = zone.key if zone is not None else None
        found["warnings"] = [warning] if warning else []
        split = state_dir_cron_misses({**env, **assigned})  # cron's environment lines, then the line's own
        if split:
            found["warnings"].append(split)
        at = now or utc_now()  # one clock for both readings
        coming = upcoming(expr, at, zone) if expr != REBOOT else None
        if expr == REBOOT:
            found["next_run_note"] = "cron starts it when the computer starts"
        if coming is not None:
            notes = [coming[1]] if coming[1] else []
            plain = upcoming(expr, at) if zone is not None else coming
            if plain is not None and plain[0] != coming[0]:
                notes.append(f"Debian's and Ubuntu's cron ignore CRON_TZ and would start it at "
                             f"{plain[0]:%Y-%m-%d %H:%M %Z}")
            found["next_run"], found["next_run_note"] = coming[0].isoformat(), "; ".join(notes) or None
    return found


# an environment line of a crontab as cron reads it: ``name = value``, either may be quoted
_ENV_LINE = re.compile(r"""^[ \t]*(?:"([^"]*)"|'([^']*)'|([^\s='"]+))[ \t]*=[ \t]*(.*?)\s*$""")


def environment(lines: list[str]) -> dict[str, str]:
    """What the environment lines among ``lines`` (those above our line) set, the last line of
    a name winning: cron passes them to the commands of the jobs after them, and cronie reads
    the times of those jobs in the zone of ``CRON_TZ`` (cron.c's find_jobs reads CRON_TZ only;
    a ``TZ=`` line is only passed on to the commands)."""
    found: dict[str, str] = {}
    for text in lines:
        matched = _ENV_LINE.match(text)
        if matched:
            value = matched.group(4)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            found[next(n for n in matched.groups()[:3] if n is not None)] = value
    return found


def cron_zone(name: str | None) -> tuple[ZoneInfo | None, str | None]:
    """The zone a CRON_TZ value names (None: the computer's own), and a warning when it names
    none this computer knows."""
    key = (name or "").strip().lstrip(":")  # glibc's ":Europe/Berlin" form
    if not key:  # unset or empty: cronie uses the computer's zone
        return None, None
    try:
        return ZoneInfo(key), None
    except (KeyError, ValueError, OSError):
        return None, (f"CRON_TZ={name} above our crontab line names no time zone this computer knows "
                      "(cronie then reads the times as UTC): the next run is shown in local time; "
                      "correct it with `crontab -e`")


def _expression(line: str) -> str | None:
    """The expression our line starts with as cron reads it (python-crontab renders ``0-59`` as
    ``*``, which cron treats otherwise), or None when it is not a valid one."""
    words = line.lstrip().lstrip("#").split()
    text = " ".join(words[:1] if words and words[0].startswith("@") else words[:5])
    try:
        return validate_cron(text)
    except UsageError:
        return None


def upcoming(expr: str, after: datetime, zone: tzinfo | None = None) -> tuple[datetime, str | None] | None:
    """When cron next starts the expression after ``after`` (aware; a naive time is local wall
    time), as an aware time, with a note when a clock change moves or repeats that run; None
    when no run comes within 8 years.

    Cron reads the local wall clock (``zone`` None), and Vixie cron (Debian's, cronie) treats
    clock changes so: a job whose minute and hour are fixed (neither starts with ``*``; @hourly
    does not count) whose time the clock skips (02:30 when 02:00 becomes 03:00) runs once right
    after the jump; one whose time comes twice (the clock set back) runs once, the first time. A
    job with a ``*`` minute or hour runs at the wall times that happen: none in a skipped hour,
    twice in a repeated one. With ``zone`` (a CRON_TZ line, which cronie reads) the times are
    that zone's, and every job runs so at its clock changes (cronie's find_jobs compares each
    minute's time in that zone, with no catching up)."""
    fields = _fields(expr)
    fixed = zone is None and not fields[0].startswith("*") and not fields[1].startswith("*")
    after = after.astimezone(zone)
    wall = after.replace(tzinfo=None, second=0, microsecond=0)
    best: tuple[datetime, str | None] | None = None
    skipped: list[datetime] = []  # wall times of a `*` job the clock jumps over
    # a clock set back makes a wall time earlier than ``after``'s come again later: look back a little
    for moment in _wall_matches(fields, wall - timedelta(hours=3)):
        if best is not None and moment > best[0].replace(tzinfo=None) + timedelta(hours=3):
            break
        for start, note in _starts(moment, fixed, zone):
            if start > after and (best is None or start < best[0]):
                best = (start, note)
        if not fixed and _kind(moment, zone) == "skipped" and _jump(moment, zone) > after:
            skipped.append(moment)
    skipped = [m for m in skipped if best is not None and _jump(m, zone) <= best[0]]
    if best is not None and skipped and best[1] is None:
        which = (f"the {skipped[0]:%H:%M} run" if len(skipped) == 1
                 else f"the {len(skipped)} runs from {skipped[0]:%H:%M} to {skipped[-1]:%H:%M}")
        best = (best[0], f"cron skips {which} on {skipped[0]:%Y-%m-%d} (the clock jumps forward)")
    return best


def _fields(expr: str) -> list[str]:
    """The five fields of a valid expression as cron reads them (@daily -> 0 0 * * *)."""
    text = validate_cron(expr)
    return SPECIAL_FIELDS.get(text, text).split(" ")


def _wall_matches(fields: list[str], start: datetime):
    """The wall-clock minutes (naive, ascending) from ``start`` on that the expression's
    ``fields`` name; as cron does, a day matches its day-of-month OR its day-of-week when both
    are restricted (neither field starts with ``*``); 8 years at most."""
    minutes, hours, days, months, weekdays = (sorted(set(s)) for s in CronSlices(" ".join(fields)))
    weekdays = {d % 7 for d in weekdays}  # 7 is Sunday too
    either = not fields[2].startswith("*") and not fields[4].startswith("*")
    start = start.replace(second=0, microsecond=0)
    day = start.replace(hour=0, minute=0)
    for _ in range(366 * 8):
        dom_ok, dow_ok = day.day in days, (day.weekday() + 1) % 7 in weekdays
        if day.month in months and ((dom_ok or dow_ok) if either else (dom_ok and dow_ok)):
            for hour in hours:
                for minute in minutes:
                    moment = day.replace(hour=hour, minute=minute)
                    if moment >= start:
                        yield moment
        day += timedelta(days=1)


def _seconds(wall: datetime, fold: int, zone: tzinfo | None) -> float:
    """A wall time of ``zone`` (None: local) as a POSIX time; for a time that comes twice,
    fold 0 is the first; for one the clock skips, fold 0 reads it with the offset before the
    jump, 1 after."""
    return wall.replace(tzinfo=zone, fold=fold).timestamp()


def _instant(wall: datetime, fold: int, zone: tzinfo | None) -> datetime:
    """A wall time of ``zone`` (None: local) as an aware time with that zone's offset then (see
    :func:`_seconds`); a fixed offset, so that two such times compare as moments (two times of
    one ZoneInfo compare as wall times, the second 02:30 of a night before its first 02:40)."""
    moment = datetime.fromtimestamp(_seconds(wall, fold, zone), timezone.utc).astimezone(zone)
    return moment.replace(tzinfo=timezone(moment.utcoffset(), moment.tzname()))


def _kind(wall: datetime, zone: tzinfo | None) -> str | None:
    """'skipped' (the clock jumps over this wall time), 'repeated' (it comes twice) or None."""
    first, second = _seconds(wall, 0, zone), _seconds(wall, 1, zone)
    return None if first == second else "repeated" if first < second else "skipped"


def _starts(wall: datetime, fixed: bool, zone: tzinfo | None) -> list[tuple[datetime, str | None]]:
    """When cron starts a job for this wall time (see :func:`upcoming`), each with its note."""
    kind = _kind(wall, zone)
    if kind is None:
        return [(_instant(wall, 0, zone), None)]
    if kind == "repeated":
        if fixed:
            return [(_instant(wall, 0, zone), f"{wall:%H:%M} comes twice that night (the clock goes back): "
                                              "cron starts it once, the first time")]
        return [(_instant(wall, fold, zone), f"{wall:%H:%M} comes twice that night (the clock goes back): "
                                             "cron starts it both times") for fold in (0, 1)]
    if not fixed:
        return []
    return [(_jump(wall, zone), f"{wall:%H:%M} does not exist that day (the clock jumps forward): "
                                "cron starts it right after the jump")]


def _jump(wall: datetime, zone: tzinfo | None) -> datetime:
    """For a wall time the clock skips: the moment of the jump (the first minute it shows after)."""
    while _kind(wall, zone) == "skipped":
        wall += timedelta(minutes=1)
    return _instant(wall, 0, zone)


# ----- systemd -----------------------------------------------------------------------------
def on_calendar(expr: str) -> str | None:
    """The systemd OnCalendar= equivalent of a cron expression, or None when there is none.

    Exact for every field made of values, ranges and steps; not translatable: a restricted
    day-of-month together with a restricted day-of-week (cron ORs them, systemd ANDs them).
    Cron ORs the two whenever neither starts with ``*`` (Vixie cron's rule, as :func:`upcoming`
    reads it), so one that names every day ("1-31", "0-6") makes every day run: "* * 13 * 0-6"
    was the 13th only.
    """
    text = validate_cron(expr)
    fields = SPECIAL_FIELDS.get(text, text).split(" ")
    slices = CronSlices(text)
    minute, hour, dom, month, dow = slices
    days = _values(dow)
    restricted_dow, restricted_dom = len(days) < 7, len(_values(dom)) < 31
    if restricted_dow and restricted_dom:
        return None
    if restricted_dow != restricted_dom and not fields[2].startswith("*") and not fields[4].startswith("*"):
        restricted_dow = restricted_dom = False  # either day field matching: the full one matches every day
    weekday = _weekdays(days) + " " if restricted_dow else ""
    return (f"{weekday}*-{_field(month)}-{_field(dom) if restricted_dom else '*'} "
            f"{_field(hour, pad=2)}:{_field(minute, pad=2)}:00")


def _values(cron_slice) -> list[int]:
    return sorted(set(cron_slice))


def _field(cron_slice, pad: int = 0) -> str:
    """One OnCalendar component: '*', 'start/step' for a full stepped range, else a list
    in which runs of three or more consecutive values are written 'a..b'."""
    values = _values(cron_slice)
    lo, hi = cron_slice.min, cron_slice.max
    full = list(range(lo, hi + 1))
    if values == full:
        return "*"
    step = values[1] - values[0] if len(values) > 2 else 0
    if values[0] == lo and step > 1 and values == full[::step]:
        return f"{lo:0{pad}d}/{step}"
    runs: list[list[int]] = []
    for v in values:
        if runs and v == runs[-1][-1] + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{run[0]:0{pad}d}..{run[-1]:0{pad}d}")
        else:
            parts.extend(f"{v:0{pad}d}" for v in run)
    return ",".join(parts)


def _weekdays(days: list[int]) -> str:
    """Cron day numbers (0 = Sunday) as systemd weekdays, runs of 3+ joined with '..' (Mon first)."""
    order = [1, 2, 3, 4, 5, 6, 0]
    present = [d for d in order if d in set(days)]
    groups: list[list[int]] = []
    for d in present:
        if groups and order.index(d) == order.index(groups[-1][-1]) + 1:
            groups[-1].append(d)
        else:
            groups.append([d])
    return ",".join(f"{WEEKDAYS[g[0]]}..{WEEKDAYS[g[-1]]}" if len(g) >= 3 else ",".join(WEEKDAYS[d] for d in g)
                    for g in groups)


def unit_dir(environ=None) -> Path:
    """Where systemd looks for a user's own units, and where `schedule install --print` says to
    put ours: ``$XDG_CONFIG_HOME/systemd/user`` (an absolute XDG_CONFIG_HOME), else
    ``~/.config/systemd/user``."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME") or ""
    return (Path(base) if os.path.isabs(base) else Path.home() / ".config") / "systemd" / "user"


def timer_status(directory: Path | None = None) -> dict[str, Any] | None:
    """Our systemd user timer, read from the unit files `schedule install --print` prints (no
    systemctl); None when ``recommend.timer`` is not in :func:`unit_dir`. Keys: path (the timer
    file), on_calendar (its OnCalendar= values joined by '; ', None when it has none), enabled
    (linked into timers.target.wants, as `systemctl --user enable` does), cron (the expression our
    ``# cron:`` comment names, or None), marked (the service sets RECOMMENDER_TRIGGER=schedule)
    missing_program (the program the service's ExecStart= runs, when it is gone) and missing_config
    (the --config file it names, when that is gone)."""
    directory = unit_dir() if directory is None else directory
    path = directory / f"{UNIT_NAME}.timer"
    try:
        timer = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:  # none there (or not readable: not ours to judge)
        return None
    calendar: list[str] = []
    cron = None
    for text in (t.strip() for t in timer):
        if text.startswith("OnCalendar="):
            value = text.partition("=")[2].strip()
            calendar = calendar + [value] if value else []  # an empty assignment resets the list
        elif text.startswith("# cron:"):
            cron = _expression(text.partition(":")[2])
    try:
        service = (directory / f"{UNIT_NAME}.service").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        service = []
    settings = [t.strip().partition("=") for t in service]
    marked = any(name == "Environment" and f"{TRIGGER_VAR}={SCHEDULED}" in value for name, _, value in settings)
    starts = [value for name, _, value in settings if name == "ExecStart" and value.strip()]
    words = _unit_words(starts[-1]) if starts else []  # parsed once, as a crontab line's (line_words)
    gone, config = _gone(_unit_program(words)), missing_config(words)
    return {"path": str(path), "on_calendar": "; ".join(calendar) or None,
            "enabled": os.path.lexists(directory / "timers.target.wants" / f"{UNIT_NAME}.timer"),
            "cron": cron, "marked": marked, "missing_program": str(gone) if gone else None,
            "missing_config": str(config) if config else None}


def still_naming(places: list[Path | str], tabfile: Path | str | None = None,
                 directory: Path | None = None) -> list[str]:
    """Which of our installed schedules (the crontab line, the systemd unit) still name one of
    ``places`` (a checkout's old cache or config file after `recommend config migrate`), each
    as a line saying what replaces it. Neither need be readable."""
    words = [str(p) for p in places]
    found = []
    try:
        line = show(tabfile)
    except (RecommenderError, OSError):
        line = None
    if line and any(w in line for w in words):
        found.append("your crontab entry still names the old places: run `recommend schedule install` again")
    service = (unit_dir() if directory is None else directory) / f"{UNIT_NAME}.service"
    try:
        text = service.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    if any(w in text for w in words):
        found.append(f"your systemd unit {service} still names the old places: replace it with the one "
                     "`recommend schedule install --print` prints")
    return found


def _unit_program(words: list[str]) -> Path | None:
    """The program of an ExecStart= value's words (:func:`_unit_words`), or None."""
    return Path(words[0]) if words else None


def _unit_words(exec_start: str) -> list[str]:
    """The words of an ExecStart= value as the program gets them, systemd's "%%" and "$$" (as
    :func:`systemd_quote` writes "%" and "$") undone: a --config path holding a "$" was said to be
    gone ([] when it cannot be split)."""
    try:
        words = shlex.split(exec_start.strip().lstrip("-@:+!"))
    except ValueError:
        return []
    return [word.replace("%%", "%").replace("$$", "$") for word in words]


def systemd_quote(word: str, dollar: bool = False, always: bool = False) -> str:
    """One word of a unit file setting, double-quoted when needed per systemd's rules (systemd.syntax(7),
    systemd.service(7)): backslash and double quote C-escaped, ``%`` (specifiers) doubled,
    and with ``dollar`` (ExecStart= expands $VARS) ``$`` doubled too."""
    for bad in ("\n", "\r"):
        if bad in word:
            raise UsageError(f"cannot schedule with {word!r}: it contains a line break")
    if not always and re.fullmatch(r"[A-Za-z0-9_@+=:,./-]+", word):
        return word
    text = word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    if dollar:
        text = text.replace("$", "$$")
    return f'"{text}"'


def systemd_units(expr: str, executable: Path | str, config_path: Path | str | None,
                  cache_dir: Path | str | None, env: dict[str, str] | None = None) -> dict[str, str]:
    """A user service and timer (file name -> text) for ``~/.config/systemd/user/``.

    When the expression has no OnCalendar equivalent the timer says so in a NOTE comment
    and its OnCalendar= line is left commented out for the user to write.
    """
    expr = validate_cron(expr)
    words = _words(executable, config_path)
    env_lines = "".join(f'Environment={systemd_quote(f"{name}={value}", always=True)}\n'
                        for name, value in _environment(cache_dir, env).items())
    service = (
        "[Unit]\n"
        "Description=recommend: rebuild the managed Spotify playlist\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"{env_lines}"
        f"ExecStart={' '.join(systemd_quote(w, dollar=True) for w in words)}\n"
    )
    calendar = on_calendar(expr)
    if calendar is None:
        timing = (f"# NOTE: the cron expression '{expr}' restricts both the day of the month and the\n"
                  "# day of the week; cron runs when EITHER matches, systemd only when BOTH do, so it\n"
                  "# has no exact OnCalendar equivalent. Write one yourself (man systemd.time) and\n"
                  "# check it with `systemd-analyze calendar '<value>'`.\n"
                  "#OnCalendar=\n")
    else:
        timing = f"# cron: {expr}\nOnCalendar={calendar}\n"
    timer = (
        "[Unit]\n"
        "Description=recommend: scheduled playlist rebuild\n"
        "\n"
        "[Timer]\n"
        f"{timing}"
        "Persistent=true\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return {f"{UNIT_NAME}.service": service, f"{UNIT_NAME}.timer": timer}
