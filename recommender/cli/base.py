"""The Typer app: its groups, the options every command shares, the ``command`` decorator
(one place where a ``RecommenderError`` becomes a one-line message and an exit code, and
where a run is recorded), click's usage errors in one line, and ``main``. Typer's classes as
adjusted are in ``clickparts``, the process's streams and signals in ``process``."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import inspect
import io
import logging
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from ..errors import RecommenderError, StorageError, UsageError
from ..safetext import terminal_safe
from .clickparts import (_Command, _ErrorsNameTheirCommand, _FlagsTakeNoValue, _HelpKeepsLongWords,
                         _OptionsGoAfterTheCommand, _SubGroup)
from .output import _Bar, _err, _interactive, _note, _print_json, _say, _state
from .process import (HungUp, Terminated, _escape_what_the_terminal_cannot_encode, _fill_closed_standard_streams,
                      _late_stops_end_with, _reader_left, _sigterm_as_interrupt, _silence_closed_output)


@contextlib.contextmanager
def _usage_errors_in_one_line():
    """Click's usage errors (bad value, missing argument, unknown option...) are printed as
    every other error is (``_say``), not as typer's box of usage lines; exit 2 all the same."""
    try:
        yield
    except Exception as exc:  # click's (typer vendors its own click): known by name
        kinds = {c.__name__ for c in type(exc).__mro__}
        if "ClickException" not in kinds or "NoArgsIsHelpError" in kinds:  # no-args help: printed already
            raise
        from .usage import usage_error
        error = usage_error(exc)
        code = _say(error)
        ctx = getattr(exc, "ctx", None)
        name = getattr(getattr(ctx, "command", None), "name", None)
        # a scheduled line an upgrade broke shows in `recommend status`; a typo on a terminal is
        # seen there, and its record pushed your real runs out of status's short list
        if name in RECORDED and not _on_a_terminal():
            argv = _state.argv
            _state.legacy_noted = True  # the error is the one line this run prints
            _record_failure(name, code, time.monotonic(), str(error), demo="--demo" in argv, config=_argv_config(argv),
                            dry_run="--dry-run" in argv)
        raise typer.Exit(code) from None


def _on_a_terminal() -> bool:
    """Whether this run's errors reach a person's terminal (stderr is one): not cron's, a
    unit's or a script's run, whose refused options are recorded for `recommend status`."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        return False


def _argv_config(argv: list[str]) -> Path | None:
    """The --config/-c a command line gives (for a run whose options could not be parsed)."""
    for i, arg in enumerate(argv):
        if arg in ("--config", "-c") and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--config="):
            return Path(arg.split("=", 1)[1])
    return None


class _Group(_HelpKeepsLongWords, _OptionsGoAfterTheCommand, _ErrorsNameTheirCommand, _FlagsTakeNoValue, TyperGroup):
    """Typer's group, plus a hint when a command's own option is given before the command or a
    command is typed by another name (``usage.SYNONYMS``: `recommend login`), and click's
    usage errors in one line."""

    def resolve_command(self, ctx, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except Exception as exc:  # click's UsageError "No such command 'login'." (typer vendors its own click)
            from .usage import synonym_hint
            message = getattr(exc, "message", None)
            if args and isinstance(message, str) and message.startswith("No such command") and \
                    (hint := synonym_hint(args[0])):
                exc.message = f"No such command {args[0]!r}; {hint}"  # typer's close spellings: not what was meant
            raise

    def make_context(self, info_name, args, parent=None, **extra):
        if parent is None:  # the whole command line, for a run whose options cannot be parsed
            _state.argv = list(args)
        with _usage_errors_in_one_line():
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx):
        with _usage_errors_in_one_line():
            return super().invoke(ctx)


HELP = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(cls=_Group, no_args_is_help=True, pretty_exceptions_enable=False, context_settings=HELP,
                  help="recommend: a personal hybrid recommender that writes a private Spotify playlist.",
                  epilog="Examples: `recommend build-playlist --demo` (no account needed) · "
                         "`recommend build-playlist --dry-run` · `recommend COMMAND -h`")


def _examples(*examples: str) -> str:
    """The line that ends a command's (or a group's) help: ``Examples: `a` · `b```."""
    return "Examples: " + " · ".join(f"`{e}`" for e in examples)


def _group(text: str, *examples: str) -> typer.Typer:
    """A command group (``recommend moods``...), whose help ends with examples as every command's does."""
    return typer.Typer(cls=_SubGroup, no_args_is_help=True, help=text, epilog=_examples(*examples))


config_app = _group("Show the configuration and where files live.", "recommend config path", "recommend config show")
schedule_app = _group("Run build-playlist from cron.", 'recommend schedule install --at "0 7 * * *"',
                      "recommend schedule show", "recommend schedule remove")
enrich_app = _group("Add data Spotify no longer gives (genres).", "recommend enrich genres --limit 100")
import_app = _group("Import data from files (audio features).", "recommend import features features.csv.gz")
moods_app = _group("Moods: clusters, mood playlists, classifier.", "recommend moods recommend --mood calm",
                   "recommend moods cluster --demo 'Alex Workout' --plot moods.png", "recommend moods classify")
app.add_typer(config_app, name="config")
app.add_typer(schedule_app, name="schedule")
app.add_typer(enrich_app, name="enrich")
app.add_typer(import_app, name="import")
app.add_typer(moods_app, name="moods")

log = logging.getLogger("recommender")

# ----- shared options (declared once) -----------------------------------------------------------
def _file_to_read(value: str) -> Path:
    """A file a command reads (``--config``, ``--dataset``, ``import features FILE``). An empty
    name, a script's unset variable (`--dataset "$FILE"`), is refused, exit 2: it was the current
    folder, and `--dataset ''` read every CSV file there as the library."""
    if not value:
        raise typer.BadParameter("needs a file name")
    return Path(value)


ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", help="User config file (YAML).",
                                                   show_default=False, parser=_file_to_read, metavar="<path>")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables: only errors, `note:` lines (a recovery, a new playlist) and --json output.")]
# the same for a command that prints no JSON (its help offered "--json output" it refuses)
QuietNoJsonOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables: only errors and `note:` lines.")]
NoInputOpt = Annotated[bool, typer.Option("--no-input", help="Never prompt (cron); exit 3 if a login is needed.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object (for scripts).")]
JsonRowsOpt = Annotated[bool, typer.Option("--json", help="Print the rows as one JSON list (for scripts).")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details to stderr.")]


def _file_to_write(value: str) -> Path:
    """A file a command writes (``--plot``, ``--report``). A folder, or a name ending in "/",
    which Path forgets ("charts/" wrote a file named charts), is refused, exit 2."""
    if not value:
        raise typer.BadParameter("needs a file name")
    if Path(value).is_dir():
        raise typer.BadParameter(f"{value!r} is a directory: name the file to write in it")
    if value.endswith("/"):
        raise typer.BadParameter(f"{value!r} ends in '/', so it names a directory: name the file to write in it")
    return Path(value)


def _version(value: bool) -> None:
    if value:
        from .. import __version__
        from ..paths import DISTRIBUTION
        python = sys.version.split()[0]
        if "--json" in _state.argv:  # `recommend --version --json` (either order): a script's `| jq` reads it
            _print_json({"version": __version__, "distribution": DISTRIBUTION, "python": python})
        else:
            typer.echo(f"recommend {__version__} ({DISTRIBUTION}, Python {python})")
        raise typer.Exit()


@app.callback()
def _root(config: ConfigOpt = None, quiet: QuietOpt = False, no_input: NoInputOpt = False,
          verbose: VerboseOpt = False, as_json: JsonOpt = False,
          version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """recommend: a personal hybrid recommender that writes a private Spotify playlist."""
    _state.config = config
    _state.quiet, _state.no_input, _state.verbose, _state.as_json = quiet, no_input, verbose, as_json
    _state.legacy_noted = False


FILE_ONLY = {"file_only": True}  # log records the stderr handler skips (the CLI prints its own line)
COMMON_OPTIONS = {"config": (ConfigOpt, None), "quiet": (QuietOpt, False), "no_input": (NoInputOpt, False),
                  "verbose": (VerboseOpt, False)}
ROOT_FLAGS = ("quiet", "no_input", "verbose", "as_json")  # also accepted before the subcommand


RECORDED: set[str | None] = set()  # the commands whose runs, failed ones too, go to the run log


def command(name: str | None = None, *, parent: typer.Typer = app, record: bool | str = False,
            writes: bool | str | tuple[str, ...] = False, examples: tuple[str, ...] = (),
            reads_config: bool = True, **kwargs):
    """Register a command.

    Every command accepts the common options (--config, --quiet, --no-input, --verbose) after
    the subcommand, whether or not its function declares them; undeclared ones are applied
    here, and flags given before the subcommand are merged in. A RecommenderError becomes
    'error: ...' on stderr and the class's exit code; with ``record`` a failed run is also
    appended to the run log (``recommend status``): True, or the name of the option that makes
    a run write ("export": recorded as "moods cluster --export"). ``examples`` end the command's help.
    SIGTERM is unwound like Ctrl-C (exit 143) in the commands that write: ``record`` ones, and
    ``writes`` ones (True, or the name(s) of the option(s) that make a run write, like "export").
    A bad config file (``--config``) stops every command, exit 2, but those that never read it
    (``reads_config=False``: `schedule show` and `remove`, which a user whose scheduled runs fail
    on that file needs most).
    """
    kwargs.setdefault("cls", _Command)
    if record is True:
        RECORDED.add(name)
    if examples:
        kwargs.setdefault("epilog", _examples(*examples))
        kwargs.setdefault("context_settings", HELP)

    def decorate(fn: Callable) -> Callable:
        if fn.__doc__ and "short_help" not in kwargs:  # the commands list: one paragraph, no hard breaks
            kwargs["short_help"] = " ".join(inspect.cleandoc(fn.__doc__).split("\n\n")[0].split())
        sig = inspect.signature(fn, eval_str=True)
        called = name or fn.__name__  # the command's name, as runs are logged and recorded
        extra = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=d,
                                   annotation=QuietNoJsonOpt if k == "quiet" and "as_json" not in sig.parameters else a)
                 for k, (a, d) in COMMON_OPTIONS.items() if k not in sig.parameters]

        @functools.wraps(fn)
        def wrapper(*args, **kw):
            given = {p.name: kw.pop(p.name, p.default) for p in extra}
            _merge_root_flags(kw, given)
            _state.recorded = _state.unrecorded = None  # the run has written no record yet
            run = _Run(called, started=time.monotonic(),
                       records=record is True or (isinstance(record, str) and bool(kw.get(record))),
                       recorded_as=called if record is True else _recorded_as(parent, name, record),
                       demo=bool(kw.get("demo")),  # a --demo run is recorded with the demo's runs, not yours
                       dry_run=bool(kw.get("dry_run")))  # and a failed dry run as a dry run
            stack = contextlib.ExitStack()
            try:
                if _state.as_json and "as_json" not in sig.parameters:  # `recommend --json web`: no JSON to give
                    raise UsageError(f"`{_command_path(parent, called)}` prints no JSON: leave out --json")
                if run.records or writes is True or any(kw.get(w) for w in ((writes,) if isinstance(writes, str)
                                                                          else writes if isinstance(writes, tuple) else ())):
                    stack.enter_context(_sigterm_as_interrupt())
                _check_text_arguments(kw)
                if "config" in given and reads_config:
                    _settings(None)  # every command that reads it rejects a bad config file (exit 2)
                # --quiet: errors and notes only (stderr), whether the command takes it itself or
                # not; --json asked for its output
                silent = (given.get("quiet") or kw.get("quiet")) and not kw.get("as_json")
                _state.stdout = sys.stdout
                with contextlib.redirect_stdout(io.StringIO()) if silent else contextlib.nullcontext():
                    out = fn(*args, **kw)
                if _state.unrecorded is not None:  # done and said, its record refused (``_record``)
                    raise _state.unrecorded
                return out
            except RecommenderError as exc:
                raise run.fail(exc) from None
            except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (cron's or systemd's stop, `timeout`)
                raise run.stopped(exc) from None
            except BrokenPipeError:  # the reader left (`| head -1`): the run itself is done and recorded
                _silence_closed_output()
                raise typer.Exit(0) from None
            except typer.Exit:
                raise
            except Exception as exc:  # the one catch-all: a bug, reported in one line + the log
                raise run.crashed(exc) from None
            finally:
                stack.close()
                log.debug("%s took %.2f s", run.name, time.monotonic() - run.started)

        params = list(sig.parameters.values()) + extra
        wrapper.__signature__ = sig.replace(parameters=params)
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return parent.command(name, **kwargs)(wrapper)
    return decorate


def _merge_root_flags(kw: dict, given: dict) -> None:
    """Flags given before the subcommand (``recommend --quiet refresh``) count as given after it;
    the command's own --config (our crontab line's, after the command) is the run's: a failure
    is recorded in that config's data folder, a typo in it nowhere by hand (_record_failure)."""
    for flag in ROOT_FLAGS:
        for bag in (kw, given):
            if flag in bag and getattr(_state, flag):
                bag[flag] = True
    _state.quiet = bool(_state.quiet or kw.get("quiet") or given.get("quiet"))
    config = given.get("config") or kw.get("config")
    if config is not None:
        _state.config = config


@dataclasses.dataclass
class _Run:
    """One command's run, as its end is said and recorded: a RecommenderError (``fail``), a stop
    (``stopped``: Ctrl-C or SIGTERM) or a bug (``crashed``); each returns the typer.Exit to raise."""
    name: str
    started: float
    records: bool  # a failed or stopped run goes to the run log
    recorded_as: str
    demo: bool
    dry_run: bool

    def fail(self, exc: RecommenderError) -> typer.Exit:
        log.error("%s failed: %s", self.name, exc, extra=FILE_ONLY)
        if _state.recorded:  # its output, after the run was done and recorded: one record,
            # the run's (a second said the run failed, though the playlist was written)
            said = copy.copy(exc)  # (its class's hints and exit code, whatever its constructor takes)
            said.args = (f"{_state.recorded} is done and recorded, but {exc}",)
            _say(said)
            return typer.Exit(exc.exit_code)
        _say(exc)
        if self.records:
            _record_failure(self.recorded_as, exc.exit_code, self.started, str(exc), demo=self.demo,
                            dry_run=self.dry_run)
        return typer.Exit(exc.exit_code)

    def stopped(self, exc: KeyboardInterrupt) -> typer.Exit:
        code = 129 if isinstance(exc, HungUp) else 143 if isinstance(exc, Terminated) else 130
        said = {129: "hung up", 143: "terminated"}.get(code, "interrupted")
        message = f"{said}: {exc}" if str(exc) else said
        log.warning("%s %s", self.name, message, extra=FILE_ONLY)
        _err(message)
        if self.records and not _state.recorded:  # `recommend status` shows the stop, not the run before it
            _record_stop(self.recorded_as, code, self.started, message, demo=self.demo, dry_run=self.dry_run)
        return typer.Exit(code)

    def crashed(self, exc: Exception) -> typer.Exit:
        stop = _stop_behind(exc)
        if stop is not None:  # raised by a stop's unwinding: the stop is what happened
            log.debug("%s: %r while a stop unwound", self.name, exc, extra=FILE_ONLY)
            return self.stopped(stop)
        if StorageError.matches(exc):  # disk full, read-only...: not a bug
            return self.fail(StorageError.from_os_error(exc))
        from ..runlog import redact, unexpected_message
        logged = _log_for_a_crash(self.demo)
        log.error("unexpected error in %s", self.name, exc_info=exc, extra=FILE_ONLY)
        _err(f"{redact(unexpected_message(exc))} ({'details in the log; ' if logged else ''}"  # pasted in reports
             "please report it)")
        if self.records and not _state.recorded:
            _record_failure(self.recorded_as, 1, self.started, unexpected_message(exc), demo=self.demo,
                            dry_run=self.dry_run)
        return typer.Exit(1)


_UNDECODED = re.compile("[\udc80-\udcff]")


def _check_text_arguments(kw: dict) -> None:
    """A text argument holding bytes the locale's encoding cannot read, which Python keeps as
    lone surrogates (no cache, log or terminal can write them: the run stopped with "unexpected
    error: UnicodeEncodeError"): read as UTF-8 when they are (a UTF-8 terminal under an ASCII
    locale, ``LC_ALL=C`` with ``PYTHONUTF8=0``: it was refused as "not UTF-8", which it was),
    else UsageError (a name typed on a Latin-1 terminal, "Caf\\xe9")."""
    for key, value in kw.items():
        texts = list(value) if isinstance(value, (list, tuple)) else [value]
        changed = False
        for i, text in enumerate(texts):
            if isinstance(text, str) and _UNDECODED.search(text):
                try:
                    texts[i] = text.encode(sys.getfilesystemencoding(), "surrogateescape").decode("utf-8")
                    changed = True
                    continue
                except (UnicodeEncodeError, UnicodeDecodeError):
                    pass
                shown = _UNDECODED.sub(lambda m: f"\\x{ord(m.group(0)) - 0xdc00:02x}", terminal_safe(text))
                raise UsageError(f"'{shown}' is not UTF-8 text, as the locale says the terminal sends: "
                                 "set the terminal's character encoding to UTF-8 and type it again")
        if changed:
            kw[key] = type(value)(texts) if isinstance(value, (list, tuple)) else texts[0]


def _recorded_as(parent: typer.Typer, name: str | None, option: str | bool) -> str:
    """The run log's name of a command's run ("moods cluster --export"): its words without
    "recommend", and the option that made it write."""
    return " ".join(_command_path(parent, name or "").split()[1:] + ([f"--{option}"] if isinstance(option, str) else []))


def _command_path(parent: typer.Typer, name: str) -> str:
    group = next((g.name for g in app.registered_groups if g.typer_instance is parent), None)
    return " ".join(["recommend"] + ([group] if group else []) + [name])


def _stop_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C or SIGTERM (``Terminated``) whose unwinding raised ``exc``, or None. A stop
    that lands inside a lock's wait (``Thread.start`` as the login's browser opener starts) is
    raised before the lock is taken back, and the ``with`` around the wait then raises
    "RuntimeError: release unlocked lock" in its place: that was a crash report, exit 1."""
    seen: set[int] = set()
    cause = exc.__context__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return cause
        seen.add(id(cause))
        cause = cause.__context__
    return None


def _settings(config: Path | None, overrides: dict[str, Any] | None = None):
    from ..config import load_settings
    settings = load_settings(config if config is not None else _state.config, overrides=overrides)
    _note_legacy(settings, config if config is not None else _state.config)
    return settings


def _note_legacy(settings, explicit_config: Path | None = None) -> None:
    """Once per run: say that a source checkout's old config file or cache is in use, or that
    the old places named (an old crontab line) were moved by `config migrate` and are followed:
    that one with --quiet too, as every such line runs (cron mails it: the one place it reaches)."""
    if _state.legacy_noted:
        return
    _state.legacy_noted = True
    from ..paths import Legacy, config_env, legacy_places, moved_config, moved_dirs
    from ..tables import whole
    from ..wording import and_list

    def places(paths) -> str:  # "A and B", each path whole on its line
        return and_list(whole(p) for p in paths if p)
    named = ((settings.get_path("cache.dir"), moved_dirs), (explicit_config or config_env(), moved_config))
    moved = [str(place) for place, follow in named if place and follow(place)]
    if moved:
        _note(f"{places(moved)} moved to the standard places (`recommend config migrate`), "
              "which are used instead; run `recommend schedule install` again so your crontab names them")
    from ..paths import data_left_behind
    left = data_left_behind(settings.cache_dir) if settings.get_path("cache.dir") and not moved else None
    if left is not None:
        _note(f"{whole(settings.cache_dir)} (cache.dir, from {settings.sources.get('cache.dir')}) holds no record of "
              f"the managed playlist, but {whole(left)} does, with your removals, pins and login: to go on with "
              f"them, move that folder's files into {whole(settings.cache_dir)}; else this folder starts afresh and "
              "adopts the playlist as it is")
    from ..config import old_relative_cache_dir
    relative = old_relative_cache_dir(settings)
    if relative:
        _note(f"cache.dir {relative[0]!r} in {whole(settings.user_file)} is now the folder beside that file, "
              f"{whole(relative[1])}, which holds nothing; {whole(relative[2])}, which versions before 29 Nov 2026 "
              "took it for (from the directory they ran in), holds your data: write that whole path as cache.dir")
    if _state.quiet:
        return
    old = legacy_places()
    used = Legacy(old.config if old.config == settings.user_file else None,
                  old.cache if old.cache == settings.cache_dir else None)
    if used.config or used.cache:
        _note(f"using {places((used.config, used.cache))} from the source checkout; `recommend config migrate` moves "
              f"{'them' if used.config and used.cache else 'it'} to the standard places (`recommend config path` "
              "shows where)")


def _logging(settings, quiet: bool, verbose: bool, demo: bool = False) -> None:
    """The log of ``settings`` (with ``demo``: of the demo's directory, as its runs.jsonl)."""
    if demo:
        from ..paths import demo_settings
        settings = demo_settings(settings)
    try:
        from ..runlog import setup_logging
    except ImportError:  # pragma: no cover - during development only
        logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING)
        return
    s = settings.schedule
    from ..config import SECRET_KEYS
    setup_logging(settings.cache_dir, s.log_file, s.log_max_bytes, s.log_backups, quiet=quiet, verbose=verbose,
                  secrets=[settings.get_path(key) or "" for key in sorted(SECRET_KEYS)])  # the client secret, LB token
    from ..runlog import UNWRITABLE
    if quiet and UNWRITABLE:  # a scheduled run's log that stopped being written: one line in cron's mail
        _note(UNWRITABLE[0])
    # spotipy logs every HTTP error at ERROR; our own messages say what matters (its bodies at -v)
    logging.getLogger("spotipy").setLevel(logging.NOTSET if verbose else logging.CRITICAL)
    from ..config import exposed_secrets
    exposed = exposed_secrets(settings)
    if exposed:
        log.warning(exposed)


def _log_for_a_crash(demo: bool) -> bool:
    """Whether the log file takes the traceback of a crash: set up now for a command that only
    reads and had not set it up (`search`, `similar`, `moods`: their crash said "details in the
    log", and the log held nothing of it)."""
    from ..runlog import logging_to_file
    if not logging_to_file():
        try:
            _logging(_settings(_state.config), quiet=True, verbose=False, demo=demo)
        except Exception:  # noqa: BLE001 - a config file broken too: the crash's one line is all there is
            return False
    return logging_to_file()


def _record_failure(command_name: str, exit_code: int, started: float, message: str, demo: bool = False,
                    config: Path | None = None, dry_run: bool = False) -> None:
    from ..errors import ConfigError
    try:
        settings = _settings(config)
        if demo:  # where and as what a --demo run that succeeds is recorded
            from ..paths import demo_settings
            settings, command_name = demo_settings(settings), f"{command_name} --demo"
    except ConfigError:
        settings = None if demo else _scheduled_settings_without_config()
        if settings is None:
            return  # a config error in a run by hand: it is on the terminal, and no data folder is sure
        _logging(settings, quiet=True, verbose=False)
        log.error("%s failed: %s", command_name, message, extra=FILE_ONLY)
    except RecommenderError:
        return
    from ..runlog import UNWRITABLE, logging_to_file, record_failure
    # refused for its options, or stopped, before the command set up its log: logged as recorded (the
    # settings are the demo's already); not a log it could not write, said once already
    if not logging_to_file() and not UNWRITABLE:
        try:
            _logging(settings, quiet=True, verbose=False)
        except (RecommenderError, OSError):  # no data folder to log in: the record below says so
            pass
        if exit_code in (129, 130, 143):
            log.warning("%s %s", command_name, message, extra=FILE_ONLY)
        else:
            log.error("%s failed: %s", command_name, message, extra=FILE_ONLY)
    note = record_failure(settings.cache_dir, command_name, exit_code, started, message, dry_run=dry_run)
    if note:  # e.g. the disk is full: say so where cron's mail shows it
        _note(note)


def _record_stop(command_name: str, exit_code: int, started: float, message: str, **how: Any) -> None:
    """``_record_failure`` for a Ctrl-C or SIGTERM: a second one meanwhile (a double Ctrl-C) no
    longer stops the recording half way (the stop went unrecorded, once with a traceback), and a
    stop that came during the first imports, which leaves a module half-loaded (pandas, numpy,
    yaml cannot be imported again in this process), ends in its one line, unrecorded, instead of
    a hundred lines of ImportError or RecursionError and exit 1."""
    import signal
    import threading
    held = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            held[sig] = signal.signal(sig, signal.SIG_IGN)
    try:
        _record_failure(command_name, exit_code, started, message, **how)
    except Exception as exc:  # noqa: BLE001 - a half-imported module; the stop is said already
        log.debug("the stop was not recorded: %s", exc)
    finally:
        for sig, previous in held.items():
            signal.signal(sig, signal.SIG_DFL if previous is None else previous)


def _scheduled_settings_without_config():
    """The settings of a scheduled run whose config file is refused (a typo made since): the
    environment's alone (no config file), when its data folder exists. Our crontab line and unit
    name that folder (``RECOMMENDER_CACHE_DIR``, when it is not the standard one), so the failure
    is logged and recorded where `recommend status` and the log are read: cron's mail, its one
    other trace, goes nowhere on a computer without a mail server. None otherwise."""
    import os
    from ..config import load_settings
    from ..runlog import SCHEDULED, run_trigger
    if run_trigger() != SCHEDULED:
        return None
    try:
        settings = load_settings(os.devnull)
    except RecommenderError:  # the environment's own settings are refused too
        return None
    return settings if Path(settings.cache_dir).is_dir() else None


def _record_export(settings, command_name: str, exported: list, started: float, demo: bool) -> None:
    """A mood export's run in the run log, as a build's is (``moodexport.export_summary``): the
    demo's in the demo's own, as "... --export --demo"."""
    from ..moodexport import export_summary
    from ..paths import demo_settings
    _record(demo_settings(settings) if demo else settings, f"{command_name}{' --demo' if demo else ''}", 0,
            started, **export_summary(exported))


def _record(settings, command_name: str, exit_code: int, started: float, **summary: Any) -> None:
    """Record the run done in runs.jsonl. A record the disk refuses (full, read-only) does not
    hide what the run did: a dry run (it only read) says so in a note and ends as it would; any
    other run is said as it is, then ends with exit 7 (the command's wrapper raises it)."""
    from ..runlog import record_run, runs_path
    try:
        record_run(settings.cache_dir, command_name, exit_code, started, **summary)
    except OSError as exc:
        if not StorageError.matches(exc):
            raise
        where = runs_path(settings.cache_dir)
        if summary.get("dry_run"):
            _note(f"this dry run could not be recorded in {where} ({exc.strerror or exc}), "
                  "so `recommend status` does not show it")
        else:
            _state.unrecorded = StorageError(f"{StorageError.from_os_error(exc, where)}; this run is done all the "
                                             "same, only its record is missing")
        return
    _state.recorded = f"the {command_name.split()[0]} run"


def _library_settings(config: Path | None):
    from .. import jobs
    settings = _settings(config)
    return settings, jobs.require_library(settings, jobs.ADD_DEMO)  # (playlists takes --demo)


ExploreDatasetOpt = Annotated[Optional[Path], typer.Option("--dataset", help="Use a playlist data file (the "
                                                                              "formats evaluate reads) instead of "
                                                                              "your cache.", parser=_file_to_read,
                                                          metavar="<path>")]
DemoOpt = Annotated[bool, typer.Option("--demo", help="Use the sample library (pulled once through the built-in "
                                                      "stand-in; no Spotify account needed).")]


def _source(settings, dataset, demo, quiet: bool = False, as_json: bool = False):
    from ..libsource import open_source
    if demo:  # the first demo run pulls the sample account: log as build-playlist --demo does
        _logging(settings, quiet, False, demo=True)
    with _Bar(_interactive(quiet, as_json), lazy=True) as bar:  # shown when the demo is pulled
        return open_source(settings, dataset, demo, progress=bar)


def _explore_library(config, dataset, demo, quiet: bool = False, as_json: bool = False, refs=()):
    """(settings, source, library) for search/similar/moods (``refs``: playlists the command
    names, refused with a clear line when the tool wrote them)."""
    from ..libsource import require_tracks, with_sample_features
    from ..paths import with_demo_layer
    settings = _settings(config)
    source = _source(settings, dataset, demo, quiet, as_json)
    if demo:  # the weights and settings `recommend web --demo` saved, as every --demo command reads them
        settings = with_demo_layer(settings)
    require_tracks(source)
    library = source.load(refs)
    return settings, source, (with_sample_features(source, library) if demo else library)


def _where(demo: bool, dataset: Path | None):
    """The library `similar` and the mood commands read, for their messages (a track not found
    there, or no audio features)."""
    from ..explore import CACHE, DEMO, dataset_where
    if demo:
        return DEMO
    import shlex
    return CACHE if dataset is None else dataset_where(str(dataset), f"`recommend search --dataset "
                                                                     f"{shlex.quote(str(dataset))}`")


def main() -> None:
    """Console-script entry point."""
    _fill_closed_standard_streams()
    _escape_what_the_terminal_cannot_encode()
    import os
    # pyarrow's own allocator (mimalloc) keeps what a parquet read or write used: reading the
    # cache of 20,000 tracks took about 70 MB more at its peak than with the C library's
    # malloc, for no speed a person would see; read when pyarrow is first imported (a
    # command's, not this module's), and a choice of yours in the environment stays yours
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    try:
        before = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        before = None
    try:
        app(prog_name="recommend")
    except SystemExit as exc:  # help and --version run outside the commands' own BrokenPipeError handling
        if exc.code == 1 and _reader_left(before):
            _silence_closed_output()
            raise SystemExit(0) from None
        _late_stops_end_with(exc.code)
        raise
    except OSError as exc:  # help or the version written to a full disk (`> /dev/full`): a traceback, exit 1
        from ..errors import StorageError
        if not StorageError.matches(exc):
            raise
        error = StorageError.from_os_error(exc)
        try:
            os.write(2, f"error: {error}\n".encode())
        except OSError:
            pass
        _silence_closed_output()  # (nothing more goes to that output, not even the flush at exit)
        raise SystemExit(error.exit_code) from None
