"""The command line: one thin adapter per command over the functions in ``jobs`` and friends.

This is the only module that prints, and the only place where a ``RecommenderError`` becomes
a one-line message and an exit code (see ``errors``). Options go after the subcommand and
work there for every command; the common ones (--config, --quiet, --no-input, --verbose,
--json) are also accepted before it, and any other option given there gets a hint.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import functools
import io
import inspect
import json
import logging
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from .config import MAX_FOLDS, MAX_TOP_N  # (the bounds of --folds and --top-n, as of their keys)
from .errors import RecommenderError, StorageError, UsageError, set_aside
from .safetext import cut, json_safe, terminal_safe, visible


class _FlagsTakeNoValue:
    """Help without a type after a flag: typer 0.29 shows `--dry-run <bool>`, as if it took one."""

    def get_params(self, ctx) -> list:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class _ErrorsNameTheirCommand:
    """A usage error raised without its command (click's parser: "Option '--valence' requires
    an argument") gets it, so that its message can say which command's -h to read."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except Exception as exc:
            if hasattr(exc, "ctx") and exc.ctx is None:
                exc.ctx = ctx
            if type(exc).__name__ == "NoSuchOption" and getattr(exc, "possibilities", None):
                exc.possibilities = _close_options(exc.option_name, exc.possibilities) or None
            raise


def _close_options(typed: str, offered: list[str]) -> list[str]:
    """Click's "did you mean" options, those still close without their dashes: click compares
    "--bogus" with "--verbose", whose shared "--" made them close ("did you mean --verbose?")."""
    from difflib import get_close_matches
    bare = {o.lstrip("-"): o for o in offered}
    return [bare[b] for b in get_close_matches(typed.lstrip("-"), list(bare))]


class _HelpKeepsLongWords:
    """A word of help text longer than its column (a setting's name, "tt-continuation-v1" at 60
    columns) goes on over the next line, rather than being cut short with an ellipsis; an
    option's name is never cut ("--install-completi…" at 60 columns): the help beside it wraps
    narrower instead."""

    def format_help(self, ctx, formatter):
        from rich.text import Text
        from typer import rich_utils
        make = getattr(rich_utils, "_make_rich_text", None)  # typer's own, private: help as typer
        table = getattr(rich_utils, "Table", None)             # prints it when a release drops it
        if make is None or table is None:
            return super().format_help(ctx, formatter)

        def folded(*args, **kwargs):
            text = make(*args, **kwargs)
            if isinstance(text, Text):
                text.overflow = "fold"
            return text

        class NamesWhole(table):
            def __rich_console__(self, console, options):
                # the columns of option names ("--config", "-c"; "" where a row has none): never
                # wrapped or cut, so that rich narrows the help column instead
                for column in self.columns[:-1]:
                    cells = list(column.cells)
                    if cells and all(isinstance(c, Text) and (not c.plain or c.plain.startswith("-")) for c in cells):
                        column.no_wrap = True
                return super().__rich_console__(console, options)
        rich_utils._make_rich_text, rich_utils.Table = folded, NamesWhole
        try:
            return super().format_help(ctx, formatter)
        finally:
            rich_utils._make_rich_text, rich_utils.Table = make, table


class _Command(_HelpKeepsLongWords, _ErrorsNameTheirCommand, _FlagsTakeNoValue, TyperCommand):
    pass


class _OptionsGoAfterTheCommand:
    """A hint when a command's own option is given before it: "no such option: --demo before
    the command; a command's own options go after it: `recommend moods recommend --demo`"
    (``_option_hint``), the root's and every group's (`recommend moods --demo recommend` said
    only "no such option", and `recommend moods --json recommend` that moods prints no JSON)."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        given = list(args)  # (click's parser takes words off the list it is given)
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except Exception as exc:  # click's NoSuchOption (typer vendors its own click)
            if type(exc).__name__ == "NoSuchOption" and isinstance(getattr(exc, "message", None), str):
                hint = _option_hint(self, given, exc.option_name, bool(getattr(exc, "possibilities", None)),
                                    ctx.command_path if ctx.parent is not None else "recommend")
                if hint:
                    exc.possibilities = None
                    exc.message += hint
                    exc.hinted = True  # (clierrors: not "prints no JSON" for a --json its command takes)
            raise


class _SubGroup(_HelpKeepsLongWords, _OptionsGoAfterTheCommand, _ErrorsNameTheirCommand, _FlagsTakeNoValue,
                TyperGroup):
    pass


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
        from .clierrors import usage_error
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
    command is typed by another name (``clierrors.SYNONYMS``: `recommend login`), and click's
    usage errors in one line."""

    def resolve_command(self, ctx, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except Exception as exc:  # click's UsageError "No such command 'login'." (typer vendors its own click)
            from .clierrors import synonym_hint
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



def _option_hint(group, args: list[str], option: str, close_root: bool, prefix: str = "recommend") -> str:
    """What to add to "no such option: --x" for an option typed before the command: the command
    (of those typed) that has it, or its closest option of the command typed, or plainly that the
    command typed has none; "" for a typo of a common option click has a "did you mean" for.
    Every command word after the leading options may be the command (as its words: `moods
    recommend`): a word may be an option's value (`--playlist-name status build-playlist`)."""
    import difflib

    def has(command) -> bool:  # a group: one of its commands
        subs = getattr(command, "commands", None)
        return any(map(has, subs.values())) if subs is not None else any(option in p.opts + p.secondary_opts
                                                                          for p in command.params)
    takes_value = {o for p in group.params if not (p.is_flag or p.count) for o in p.opts + p.secondary_opts}
    typed, skip = [], False  # (where its first word is, its words, the command)
    for at, arg in enumerate(args):
        if skip or arg.startswith("-"):
            skip = not skip and arg in takes_value
        elif arg in group.commands:
            words, command = [arg], group.commands[arg]
            for later in args[at + 1:]:
                if later not in (getattr(command, "commands", None) or {}):
                    break
                words, command = [*words, later], command.commands[later]
            typed.append((at, " ".join(words), command))
    having = [(name, command) for _, name, command in typed if has(command)]
    after = args.index(option) + 1 if option in args else -1
    # an option's value is no command when another command was typed (`--playlist-name status build-playlist`)
    meant = having or [(n, c) for at, n, c in typed if at != after] or [(n, c) for _, n, c in typed]
    name, command = meant[0] if meant else ("COMMAND", None)
    group_of = getattr(command, "commands", None) is not None  # `--mood happy moods`: the group's commands
    if close_root and not having:
        return ""  # a typo of a common option (`--verbos refresh`): click's "did you mean --verbose?"
    if having or not meant:
        return (" before the command; a command's own options go after it: "
                f"`{prefix} {name}{' COMMAND' if group_of else ''} {option}`")
    if group_of:
        return f", and no command of `{prefix} {name}` has it"
    # a typo only (--top-m for --top-n), not another option sharing a word (--new-playlist for --playlist-name)
    close = difflib.get_close_matches(option, [o for p in command.params for o in p.opts + p.secondary_opts
                                               if o.startswith("--")], n=1, cutoff=0.8)
    return f", and `{prefix} {name}` has no {option} either" + (
        f"; did you mean `{prefix} {name} {close[0]}`?" if close else "")


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
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", help="User config file (YAML).",
                                                   show_default=False)]
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


class State:
    config: Path | None = None
    quiet = no_input = verbose = as_json = False  # given before the subcommand
    legacy_noted = False
    argv: list[str] = []  # the command line (``_Group.make_context``)
    stdout: Any = None  # the command's stdout before --quiet silences it (``_result``)
    recorded: str | None = None  # the command recorded its run as done (``_record``): what it was


_state = State()


def _version(value: bool) -> None:
    if value:
        from . import __version__
        from .paths import DISTRIBUTION
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


def _err(message: str) -> None:
    typer.echo(_shown(message, sys.stderr), err=True)


def _shown(message: str, stream) -> str:
    """``message`` made terminal-safe (``safetext``) and as the stream's encoding can show it
    (``tables.encodable``): click writes UTF-8 to a stream it finds set to ASCII, where the
    tables, laid out by rich, escape what it cannot encode (a name's "¡" came out as bytes
    that stream's reader could not decode)."""
    from .safetext import redact
    from .tables import encodable
    # (credentials a service's answer quoted back, hidden: the message may not have come through the log)
    return encodable(terminal_safe(redact(message), keep_newlines=True), getattr(stream, "encoding", None))


def _say_unless_quiet(message: str) -> None:
    """A line on stderr that is neither an error nor a note (what a long-running command is
    doing): left out with --quiet, which prints only those and the result."""
    if not _state.quiet:
        _err(message)


def _say(exc: RecommenderError) -> int:
    """The one way an error reaches the user: 'error: ...' on stderr; returns its exit code."""
    _err(f"error: {terminal_safe(exc)}")
    return exc.exit_code


def _note(message: str) -> None:
    """'note: ...' on stderr, unless the log's stderr handler already printed that message, wrapped
    as ``_echo_wrapped`` wraps (a path ``tables.whole`` in it stays on one line) when the width is
    known (``_stderr_width``); to a pipe or a file (cron's mail, a script's log) one line, for grep."""
    from .runlog import SAID_ON_STDERR
    from .tables import wrap_joined
    if message not in SAID_ON_STDERR:
        width = _stderr_width()
        _err(f"note: {message}" if width is None else wrap_joined(f"note: {message}", width))


def _stderr_width() -> int | None:
    """The width of the terminal stderr is: ``$COLUMNS`` when set, else the terminal's own;
    None when stderr is no terminal (a pipe, a file) and ``$COLUMNS`` is not set."""
    import os
    from .tables import MIN_WIDTH
    if os.environ.get("COLUMNS", "").strip().isdigit():
        return _term_width()
    try:
        return max(MIN_WIDTH, os.get_terminal_size(sys.stderr.fileno()).columns) if sys.stderr.isatty() else None
    except (AttributeError, OSError, ValueError):  # no real file behind it (a test's capture)
        return None


def _echo(message: str) -> None:
    """typer.echo for text that may hold names from strangers (see ``safetext``)."""
    typer.echo(_shown(message, sys.stdout))


def _result(message: str) -> None:
    """A line that is the command's result (a script reads it), not chatter: on stdout even
    with --quiet, which silences the rest of stdout."""
    typer.echo(_shown(message, _state.stdout or sys.stdout), file=_state.stdout or sys.stdout)


def _echo_wrapped(line: str) -> None:
    """One line of text wrapped to the terminal at its spaces (``tables.wrap_joined``: a number
    ``joined`` to what it counts stays beside it, a path or a link is never split)."""
    from .tables import wrap_joined
    _echo(wrap_joined(line, _term_width()))  # names from strangers (a config path too) made safe, as _echo does


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
        extra = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=d,
                                   annotation=QuietNoJsonOpt if k == "quiet" and "as_json" not in sig.parameters else a)
                 for k, (a, d) in COMMON_OPTIONS.items() if k not in sig.parameters]

        @functools.wraps(fn)
        def wrapper(*args, **kw):
            given = {p.name: kw.pop(p.name, p.default) for p in extra}
            for flag in ROOT_FLAGS:
                for bag in (kw, given):
                    if flag in bag and getattr(_state, flag):
                        bag[flag] = True
            _state.quiet = bool(_state.quiet or kw.get("quiet") or given.get("quiet"))
            # the command's own --config (our crontab line's, after the command) too: a failure
            # is recorded in that config's data folder, a typo in it nowhere by hand (_record_failure)
            config = given.get("config") or kw.get("config")
            if config is not None:
                _state.config = config
            started = time.monotonic()
            _state.recorded = None
            demo = bool(kw.get("demo"))  # a --demo run is recorded with the demo's runs, not yours
            dry_run = bool(kw.get("dry_run"))  # and a failed dry run as a dry run
            records = record is True or (isinstance(record, str) and bool(kw.get(record)))
            recorded_as = (name or fn.__name__) if record is True else _recorded_as(parent, name, record)

            def fail(exc: RecommenderError) -> typer.Exit:
                log.error("%s failed: %s", name or fn.__name__, exc, extra=FILE_ONLY)
                if _state.recorded:  # its output, after the run was done and recorded: one record,
                    # the run's (a second said the run failed, though the playlist was written)
                    said = copy.copy(exc)  # (its class's hints and exit code, whatever its constructor takes)
                    said.args = (f"{_state.recorded} is done and recorded, but {exc}",)
                    _say(said)
                    return typer.Exit(exc.exit_code)
                _say(exc)
                if records:
                    _record_failure(recorded_as, exc.exit_code, started, str(exc), demo=demo, dry_run=dry_run)
                return typer.Exit(exc.exit_code)

            def stopped(exc: KeyboardInterrupt) -> typer.Exit:
                code = 143 if isinstance(exc, Terminated) else 130
                said = "terminated" if code == 143 else "interrupted"
                message = f"{said}: {exc}" if str(exc) else said
                log.warning("%s %s", name or fn.__name__, message, extra=FILE_ONLY)
                _err(message)
                if records and not _state.recorded:  # `recommend status` shows the stop, not the run before it
                    _record_stop(recorded_as, code, started, message, demo=demo, dry_run=dry_run)
                return typer.Exit(code)

            stack = contextlib.ExitStack()
            try:
                if _state.as_json and "as_json" not in sig.parameters:  # `recommend --json web`: no JSON to give
                    raise UsageError(f"`{_command_path(parent, name or fn.__name__)}` prints no JSON: leave out --json")
                if records or writes is True or any(kw.get(w) for w in ((writes,) if isinstance(writes, str)
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
                    return fn(*args, **kw)
            except RecommenderError as exc:
                raise fail(exc) from None
            except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (cron's or systemd's stop, `timeout`)
                raise stopped(exc) from None
            except BrokenPipeError:  # the reader left (`| head -1`): the run itself is done and recorded
                _silence_closed_output()
                raise typer.Exit(0) from None
            except typer.Exit:
                raise
            except Exception as exc:  # the one catch-all: a bug, reported in one line + the log
                stop = _stop_behind(exc)
                if stop is not None:  # raised by a stop's unwinding: the stop is what happened
                    log.debug("%s: %r while a stop unwound", name or fn.__name__, exc, extra=FILE_ONLY)
                    raise stopped(stop) from None
                if StorageError.matches(exc):  # disk full, read-only...: not a bug
                    raise fail(StorageError.from_os_error(exc)) from None
                from .runlog import redact, unexpected_message
                logged = _log_for_a_crash(demo)
                log.exception("unexpected error in %s", name or fn.__name__, extra=FILE_ONLY)
                _err(f"{redact(unexpected_message(exc))} ({'details in the log; ' if logged else ''}"  # pasted in reports
                     "please report it)")
                if records and not _state.recorded:
                    _record_failure(recorded_as, 1, started, unexpected_message(exc), demo=demo, dry_run=dry_run)
                raise typer.Exit(1) from None
            finally:
                stack.close()
                log.debug("%s took %.2f s", name or fn.__name__, time.monotonic() - started)

        params = list(sig.parameters.values()) + extra
        wrapper.__signature__ = sig.replace(parameters=params)
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return parent.command(name, **kwargs)(wrapper)
    return decorate


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


class Terminated(KeyboardInterrupt):
    """SIGTERM during a command that writes: unwound like Ctrl-C (the lock released, temporary
    files removed, the run recorded), exit 143."""


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Within: SIGTERM raises ``Terminated`` (main thread only; the previous handler after; a
    SIGTERM the parent set to be ignored stays ignored)."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    previous = signal.getsignal(signal.SIGTERM)
    if previous is signal.SIG_IGN:  # the parent asked for SIGTERM to be ignored (nohup-like): keep that
        yield
        return

    def stop(signum, frame):
        raise Terminated()
    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:  # None: a handler not set from Python, which signal.signal cannot put back
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _silence_closed_output() -> None:
    """Point stdout and stderr at /dev/null so nothing (not even the flush at exit) writes to the
    pipe the reader closed."""
    import os
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass


def _settings(config: Path | None, overrides: dict[str, Any] | None = None):
    from .config import load_settings
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
    import os
    from .paths import CONFIG_ENV, Legacy, legacy_places, moved_config, moved_dirs
    from .tables import whole
    from .wording import and_list

    def places(paths) -> str:  # "A and B", each path whole on its line
        return and_list(whole(p) for p in paths if p)
    named = ((settings.get_path("cache.dir"), moved_dirs), (explicit_config or os.environ.get(CONFIG_ENV), moved_config))
    moved = [str(place) for place, follow in named if place and follow(place)]
    if moved:
        _note(f"{places(moved)} moved to the standard places (`recommend config migrate`), "
              "which are used instead; run `recommend schedule install` again so your crontab names them")
    from .paths import data_left_behind
    left = data_left_behind(settings.cache_dir) if settings.get_path("cache.dir") and not moved else None
    if left is not None:
        _note(f"{whole(settings.cache_dir)} (cache.dir, from {settings.sources.get('cache.dir')}) holds no record of "
              f"the managed playlist, but {whole(left)} does, with your removals, pins and login: to go on with "
              f"them, move that folder's files into {whole(settings.cache_dir)}; else this folder starts afresh and "
              "adopts the playlist as it is")
    from .config import old_relative_cache_dir
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
        from .paths import demo_settings
        settings = demo_settings(settings)
    try:
        from .runlog import setup_logging
    except ImportError:  # pragma: no cover - during development only
        logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING)
        return
    s = settings.schedule
    from .config import SECRET_KEYS
    setup_logging(settings.cache_dir, s.log_file, s.log_max_bytes, s.log_backups, quiet=quiet, verbose=verbose,
                  secrets=[settings.get_path(key) or "" for key in sorted(SECRET_KEYS)])  # the client secret, LB token
    from .runlog import UNWRITABLE
    if quiet and UNWRITABLE:  # a scheduled run's log that stopped being written: one line in cron's mail
        _note(UNWRITABLE[0])
    # spotipy logs every HTTP error at ERROR; our own messages say what matters (its bodies at -v)
    logging.getLogger("spotipy").setLevel(logging.NOTSET if verbose else logging.CRITICAL)
    from .config import exposed_secrets
    exposed = exposed_secrets(settings)
    if exposed:
        log.warning(exposed)


def _log_for_a_crash(demo: bool) -> bool:
    """Whether the log file takes the traceback of a crash: set up now for a command that only
    reads and had not set it up (`search`, `similar`, `moods`: their crash said "details in the
    log", and the log held nothing of it)."""
    from .runlog import logging_to_file
    if not logging_to_file():
        try:
            _logging(_settings(_state.config), quiet=True, verbose=False, demo=demo)
        except Exception:  # noqa: BLE001 - a config file broken too: the crash's one line is all there is
            return False
    return logging_to_file()


def _interactive(quiet: bool, as_json: bool) -> bool:
    return not quiet and not as_json and sys.stderr.isatty()


class _Bar:
    """Adapts the library's progress(stage, done, total) callback to a rich progress bar.
    ``lazy``: shown from the first progress report on (a warm `search` reports none, and
    does not import rich)."""

    def __init__(self, enabled: bool, lazy: bool = False) -> None:
        self.enabled = enabled
        self.lazy = lazy
        self.progress = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> "_Bar":
        if self.enabled and not self.lazy:
            self._start()
        return self

    def _start(self) -> None:
        if self.progress is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
            self.progress = Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
                                     TimeRemainingColumn(), console=Console(stderr=True), transient=False)
            self.progress.start()

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if self.enabled and self.lazy:
            self._start()
        if self.progress is None:
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()


def _print_json(data: Any) -> None:
    """``data`` as JSON text: UTF-8 (names as written) on an output that is UTF-8, else ASCII with
    JSON's own \\u escapes, which every reader reads (PYTHONIOENCODING=latin-1 printed Latin-1
    bytes, which a JSON reader takes for broken UTF-8)."""
    import codecs
    try:
        utf = codecs.lookup(getattr(sys.stdout, "encoding", None) or "utf-8").name.startswith("utf")
    except LookupError:
        utf = False
    text = json_safe(json.dumps(data, indent=2, default=str, ensure_ascii=False)) if utf else \
        json.dumps(data, indent=2, default=str, ensure_ascii=True)
    typer.echo(text)


def _as_the_page_rounds(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals as the web app's pages write it (JavaScript's toFixed:
    a half rounds up), so that a number is the same in both: Python's format rounds a half to
    even, and the calm mood's 0.625 was 0.62 here, 0.63 on the Moods page."""
    from decimal import ROUND_HALF_UP, Decimal
    return str(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _records(df) -> list[dict]:
    """A frame's rows for ``--json``: floats (scores, shares, distances, the plane's
    coordinates) to 4 decimals, as build-playlist's scores are (search's came with 16, the
    others' with pandas' 10)."""
    return json.loads(df.to_json(orient="records", double_precision=4))


def _classifier_json(report) -> dict:
    """``ClassifierReport.to_dict`` for --json: rates in four decimals, as ``_records`` gives
    every other rate (0.6666666666666666 read as false precision), the p-value in four
    significant digits (a tiny one is not rounded to 0)."""
    d = report.to_dict()
    return {**d, "accuracy": round(d["accuracy"], 4), "baseline": round(d["baseline"], 4),
            "p_value": float(f"{d['p_value']:.4g}")}


def _console():
    # the height too: rich takes a width given alone as 80 columns on a dumb terminal (TERM=dumb,
    # Emacs' shell), which cut the tables laid out for the real width and lost their text columns
    import shutil
    return _safe_console(highlight=False, soft_wrap=False, markup=False, emoji=False, width=_term_width(),
                         height=shutil.get_terminal_size((120, 24)).lines)


def _safe_console_class():
    from rich.console import Console

    class SafeConsole(Console):
        """Markup off, and every string printed goes through ``terminal_safe``."""

        def print(self, *objects, **kwargs):
            objects = tuple(terminal_safe(o, keep_newlines=True) if isinstance(o, str) else o for o in objects)
            if self.is_terminal:
                super().print(*objects, **kwargs)
                return
            with self.capture() as captured:  # piped or redirected: no line ends in rich's padding
                super().print(*objects, **kwargs)  # (a centred title was padded to the table's width)
            self.file.write("\n".join(line.rstrip() for line in captured.get().split("\n")))
            self.file.flush()

        def on_broken_pipe(self) -> None:  # rich would exit 1; the command wrapper decides
            raise BrokenPipeError
    return SafeConsole


def _safe_console(**kwargs):
    return _safe_console_class()(**kwargs)


def _term_width() -> int:
    import shutil
    from .tables import MIN_WIDTH
    return max(MIN_WIDTH, shutil.get_terminal_size((120, 24)).columns)


def _table(title: str, columns: list[str], rows: list[list[Any]], wide: str | None = None, width: int | None = None,
           drop: tuple[str, ...] = (), text: tuple[str, ...] | set[str] = ()):
    """A table that fits the terminal (``tables.fit_table``): ids and numbers whole, text
    wrapped (``wide`` gets the largest share), the ``drop`` columns left out in that order when
    the rest would not fit, one block per row when even that does not fit; ``text`` columns
    (names) are never taken for numbers."""
    from .tables import fit_table
    return fit_table(title, columns, rows, width or _term_width(), wide=wide, drop=drop, text=text,
                     encoding=getattr(sys.stdout, "encoding", None))


# ----- login and data ----------------------------------------------------------------------------
@command("auth", writes=True, examples=("recommend auth", "recommend auth --no-browser", "recommend auth --logout"))
def auth_cmd(config: ConfigOpt = None, no_input: NoInputOpt = False, quiet: QuietNoJsonOpt = False,
             verbose: VerboseOpt = False,
             no_browser: Annotated[bool, typer.Option("--no-browser", help="Print the login URL instead.")] = False,
             logout: Annotated[bool, typer.Option("--logout", help="Delete the saved login (the cache stays); "
                                                  "then remove the app's access on Spotify's apps page.")] = False
             ) -> None:
    """Log in to Spotify (Authorization Code with PKCE; a client secret is optional)."""
    from . import jobs
    settings = _settings(config)
    _logging(settings, quiet, verbose)
    if logout:
        if no_browser:
            raise UsageError("--logout and --no-browser cannot be combined: --logout deletes the saved login")
        path, had = jobs.logout(settings)
        if not quiet:
            from .tables import whole
            path = whole(path)  # a copy of it stays whole, spaces and all
            _echo_wrapped(f"Logged out: deleted {path}." if had else f"No saved login to delete ({path} does not exist).")
            _echo_wrapped(f"Spotify keeps this app's access to your account until you remove it: {jobs.SPOTIFY_APPS_PAGE}")
        return
    if no_input:  # what --no-input says it does when a login is needed (exit 3), and why
        from .errors import AuthError
        raise AuthError("`recommend auth` is the login, which needs a person at a browser: --no-input (never "
                        "prompt) forbids it; run `recommend auth` without it")
    if not sys.stdin.isatty() and not no_browser:
        raise UsageError("`recommend auth` needs a person at a browser; run it in a terminal "
                         "(use --no-browser to get the URL to open elsewhere)")

    from .paths import graphical_display
    start_browser = not no_browser and graphical_display()

    def show(url: str) -> None:
        _err(f"Open this URL to log in (waiting for the redirect to {settings.spotify.redirect_uri}):\n{url}")
        if start_browser:
            import webbrowser
            webbrowser.open(url)
        elif not no_browser:  # an SSH session: webbrowser.open started lynx or w3m in the terminal, which
            from urllib.parse import urlparse  # cannot run Spotify's login page
            port = urlparse(settings.spotify.redirect_uri).port
            _err(f"no browser opened (no graphical display here: an SSH session?): open the URL above in a "
                 f"browser on this machine, or on yours through an SSH tunnel (ssh -L {port}:127.0.0.1:{port} "
                 "THIS-MACHINE first)")
    done = jobs.login(settings, open_url=show)
    me = done.me or {}
    if done.set_aside:
        counts = collections.Counter(done.left)  # three under one name said "'X', 'X', 'X'"
        left = ", ".join(f"'{visible(n)}'" + (f" ({k} playlists of that name)" if k > 1 else "")
                         for n, k in counts.items())
        _note(f"the cache held the library of {visible(done.set_aside)}, not {visible(me.get('id', '?'))}: the next "
              f"run pulls this account's library; {set_aside(visible(done.set_aside))}"
              + (f"; the playlists made there ({left}) stay in "
                 f"{visible(done.set_aside)}'s account: the tool never deletes a playlist, so delete them in Spotify "
                 f"if logging in as {visible(done.set_aside)} was a mistake" if done.left else ""))
    if not quiet:
        who = (f" as {visible(me.get('display_name') or me.get('id', '?'))} ({visible(me.get('id', '?'))})"
               if done.me is not None else f" (could not ask Spotify who you are: {done.error})")
        from .tables import whole
        _echo_wrapped(f"Logged in{who}. Token saved in {whole(settings.cache_dir / 'spotify-token.json')}")


@command("refresh", record=True, examples=("recommend refresh", "recommend refresh --quiet --no-input"))
def refresh_cmd(config: ConfigOpt = None, quiet: QuietOpt = False, no_input: NoInputOpt = False,
                as_json: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """Pull your playlists, top tracks/artists, saved tracks and followed artists into the cache."""
    from . import jobs
    settings = _settings(config)
    _logging(settings, quiet, verbose)
    started = time.monotonic()
    with _Bar(_interactive(quiet, as_json)) as bar:
        library, report = jobs.refresh(settings, progress=bar)
    _record(settings, "refresh", 0, started, requests=report.requests, tracks=report.tracks)
    for p in [*report.problems, *report.warnings]:  # a service down is a note, as build-playlist says it
        _note(p)
    if as_json:
        _print_json(report.to_dict())
    elif not quiet:
        from .tables import joined, whole
        from .wording import plural
        _echo_wrapped(f"{joined(report.playlists, plural(report.playlists, 'playlist'))} "
                      f"({joined(report.playlists_fetched, 'fetched')}, {joined(report.playlists_unchanged, 'unchanged')}, "
                      f"{joined(len(report.playlists_forbidden), 'not', 'readable')}"
                      + (f", {joined(report.playlists_ours, 'written')} by this tool, not read" if report.playlists_ours else "")
                      + f"), {joined(report.tracks, plural(report.tracks, 'track'))} "
                      f"({joined(report.discovery_tracks, 'new', 'from')} discovery albums, "
                      f"{joined(report.open_data_tracks, 'more from')} open data); "
                      f"{joined(report.requests, 'Spotify', plural(report.requests, 'request'))}, "
                      f"{joined(report.open_data_requests, 'open-data', plural(report.open_data_requests, 'request'))} "
                      f"for discovery. Cache: {whole(settings.frames_dir)}")


def _record_failure(command_name: str, exit_code: int, started: float, message: str, demo: bool = False,
                    config: Path | None = None, dry_run: bool = False) -> None:
    from .errors import ConfigError
    try:
        settings = _settings(config)
        if demo:  # where and as what a --demo run that succeeds is recorded
            from .paths import demo_settings
            settings, command_name = demo_settings(settings), f"{command_name} --demo"
    except ConfigError:
        settings = None if demo else _scheduled_settings_without_config()
        if settings is None:
            return  # a config error in a run by hand: it is on the terminal, and no data folder is sure
        _logging(settings, quiet=True, verbose=False)
        log.error("%s failed: %s", command_name, message, extra=FILE_ONLY)
    except RecommenderError:
        return
    from .runlog import record_failure
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
        for sig in (signal.SIGINT, signal.SIGTERM):
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
    from .config import load_settings
    from .runlog import SCHEDULED, run_trigger
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
    from .moodexport import export_summary
    from .paths import demo_settings
    _record(demo_settings(settings) if demo else settings, f"{command_name}{' --demo' if demo else ''}", 0,
            started, **export_summary(exported))


def _record(settings, command_name: str, exit_code: int, started: float, **summary: Any) -> None:
    from .runlog import record_run
    record_run(settings.cache_dir, command_name, exit_code, started, **summary)
    _state.recorded = f"the {command_name.split()[0]} run"


@command("build-playlist", record=True, examples=(
    "recommend build-playlist --demo", "recommend build-playlist --dry-run",
    "recommend build-playlist --demo --seed-playlist 'Alex Workout'", "recommend build-playlist --demo --why Linger"))
def build_playlist_cmd(
    config: ConfigOpt = None, quiet: QuietOpt = False, no_input: NoInputOpt = False, as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the table and the diff; write nothing to Spotify. "
                                                     "A stale cache (or --refresh) is still refreshed, under the run "
                                                     "lock like any writer.")] = False,
    demo: Annotated[bool, typer.Option("--demo", help="Run everything against the built-in stand-in and sample "
                                                      "library (no Spotify account needed).")] = False,
    seed_playlist: Annotated[Optional[str], typer.Option("--seed-playlist", help="Recommend for this playlist "
                                                                                "(name, id, spotify:playlist: URI or "
                                                                                "open.spotify.com link).")] = None,
    new_playlist: Annotated[bool, typer.Option("--new-playlist", help="Create a new managed playlist.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Refresh the cache even if it is fresh.")] = False,
    rows: Annotated[Optional[int], typer.Option("--rows", min=1, help="Print only the first N rows of the table "
                                                                      "(the playlist and --json get every track).")] = None,
    why: Annotated[Optional[str], typer.Option("--why", metavar="TRACK",
                                               help="Say why this track (name, id, URI or link) is or is not on the "
                                                    "next playlist: its place, score and shares, or the rule or "
                                                    "setting that keeps it out. A dry run: nothing is written.")] = None,
) -> None:
    """Score your library and write the recommendations to the managed private playlist."""
    from . import jobs
    from .paths import demo_settings
    from .services.http import ContactNotice
    settings = _settings(config)
    _logging(settings, quiet, verbose, demo)
    if why is not None:
        if new_playlist:
            raise UsageError("--why explains the next playlist of a dry run: it takes no --new-playlist")
        dry_run = True  # it explains what a run would do, and writes nothing
    started = time.monotonic()
    held = None
    notice = ContactNotice()  # the run's one "no contact" warning: discovery's and the genre look-ups'
    with _Bar(_interactive(quiet, as_json)) as bar:
        if demo:
            result, held = jobs.run_demo(settings, dry_run=dry_run, seed_playlist=seed_playlist,
                                         new_playlist=new_playlist, progress=bar, explain=why)
        else:
            result = jobs.build_playlist(settings, dry_run=dry_run, seed_playlist=seed_playlist,
                                         new_playlist=new_playlist, force_refresh=refresh, progress=bar,
                                         notice=notice, explain=why)
    _record(demo_settings(settings) if demo else settings, "build-playlist --demo" if demo else "build-playlist", 0,
            started,
            playlist_id=result.playlist_id, added=result.added, removed=result.removed, kept=result.kept,
            requests=result.requests, dry_run=dry_run, refreshed=result.refreshed,
            **({"seed_playlist": seed_playlist} if seed_playlist else {}))
    if not demo and no_input and not dry_run and settings.schedule.enrich_limit > 0:
        _background_enrich(settings, notice)
    for m in result.messages:  # on stderr, with --json too (its messages hold them for a script): a cron's mail
        _note(m)
    if result.explained is not None:
        if as_json:
            _print_json(result.explained)
        else:
            _print_explained(result.explained)  # the answer asked for: with --quiet too
            _other_matches(result.explained["also_matches"], why, _where(demo, None), to="ask about it")
        return
    if as_json:
        out = result.to_json()
        if result.playlist_id:
            out["playlist_url"] = playlist_url(result.playlist_id)
        _print_json(out)
        return
    if quiet:
        return
    _print_build(result, held, rows)


SHORT = {"collaborative": "collab", "popularity": "popular", "opendata": "open"}
NARROW = 140  # below this many columns the build and similar tables leave out the per-scorer columns
NARROW_NOTE = f"each scorer's share of the score: on a terminal of {NARROW}+ columns or in --json"


def _print_explained(e: dict) -> None:
    """`build-playlist --why`: the track, where it is or what keeps it out, its score's shares."""
    from .tables import joined
    from .wording import plural
    label = f"{e['name']!r} - {e['artists']}" if e["name"] is not None else e["track_id"]
    new = {True: " (new to you)", False: " (in your library)", None: ""}[e["new"]]
    if e.get("artist"):  # `--why metallica`: the artist's best placed track
        n = e["artist"]["tracks"]
        new += f", the best placed of {joined(n, plural(n, 'track'))} by {e['artist']['name']}" if n > 1 else ""
    place = "on the next playlist " if e["on_playlist"] else "not on the next playlist: "
    _result(f"{label}{new}: {place}{e['reason']}")
    if e["contributions"]:
        shares = ", ".join(f"{k} {v:.3f}" for k, v in sorted(e["contributions"].items(), key=lambda kv: -kv[1]))
        mix = f" (blend.artist_mix x{e['artist_mix']:.2f})" if (e["artist_mix"] or 1) < 1 else ""
        _result(f"  score {e['score']:.3f}{mix}, each scorer's share: {shares}")
    if e["why"]:
        _result(f"  why: {e['why']}")


def playlist_url(playlist_id: str) -> str:
    return f"https://open.spotify.com/playlist/{playlist_id}"


def _exported_json(exported) -> list[dict]:
    """The mood playlists an export wrote, each with its link (the text output shows it)."""
    return [{**e.to_dict(), "playlist_url": playlist_url(e.playlist_id)} for e in exported]


def _print_build(result, held, limit: int | None = None) -> None:
    """The build's table (its first ``limit`` rows: --rows), the diff of a dry run and the summary."""
    from .config import weights_text
    from .publish import DRIFT_PLACES
    from .tables import joined, wrap_joined
    from .wording import named, plural, source_name
    console = _console()
    if result.table.empty:
        console.print(f"No recommendations: {result.reason}. " + ("The managed playlist was left as it is."
                      if result.playlist_id else "No playlist was made: there is nothing to put in it yet."))
        return
    shared = result.share_columns  # scorer -> its column
    narrow = bool(shared) and _term_width() < NARROW  # room for track, artist and the why first
    shared = {} if narrow else shared
    contrib = list(shared.values())
    rows = []
    for r in result.table.head(limit).to_dict("records"):
        rows.append([r["rank"], named(r["name"]), r["artists"], "-" if r["score"] != r["score"] else f"{r['score']:.3f}"]
                    + ["-" if r[c] != r[c] else f"{r[c]:.3f}" for c in contrib]
                    + ["new" if r.get("new") else "", source_name(r.get("source", ""))]
                    + [("[pinned] " if r.get("pinned") else "") + str(r.get("why", ""))])
    factors = result.weight_factors  # artist_walk on few playlists: the blend used weight x factor
    weights = weights_text({k: v for k, v in result.weights.items() if v > 0}, factors)  # scorers that count
    lowered = sum(1 for v in result.table.get("artist_mix", ()) if v == v and v < 1 - 1e-9)
    mix = f"the artist mix lowered {lowered} of the {len(result.table)} scores (blend.artist_mix); " if lowered else ""
    title = (f"Recommendations ({result.mode} profile; blend weights: {weights}; {mix}"
             + (f"{NARROW_NOTE})" if narrow else "columns = each scorer's share of the score)"))
    shares = [SHORT.get(name, name) for name in shared]
    console.print(_table(title, ["#", "track", "artist", "score"] + shares + ["new", "source", "why"],
                         rows, wide="why", drop=(*shares[::-1], "source", "new", "#"),
                         text=("track", "artist", "source", "why")))
    if len(rows) < len(result.table):
        hidden = len(result.table) - len(rows)
        console.print(f"({hidden} more {plural(hidden, 'row')} not shown: --rows; --json lists them all)")
    if result.dry_run:
        for label, ids in (("would add", result.added_ids), ("would remove", result.removed_ids)):
            if ids:
                shown = "; ".join(result.labels.get(t, t) for t in ids[:8])
                why = _removed_counts(result.why_removed) if ids is result.removed_ids else ""
                console.print(f"{label} {len(ids)}{why}: {shown}{' ...' if len(ids) > 8 else ''}")
    add, remove, keep = ("would add", "remove", "keep") if result.dry_run else ("added", "removed", "kept")
    where = result.playlist_id or "(a new playlist)"
    n_new = int(result.table["new"].sum()) if "new" in result.table else 0

    def summary(line: str) -> None:  # wrapped between its units only: "365 Spotify requests" stays whole
        console.print(wrap_joined(line, _term_width()), soft_wrap=True)
    summary(f"{joined(n_new, 'of', len(result.table), 'tracks')} are new to you"
            + (f": {result.new_short}." if result.new_short else " (candidates.new_share)."))
    if result.short:  # fewer than blend.max_tracks: say which setting held the rest back
        summary(f"{result.short}.")
    from .jobs import gave_way_note
    for line in gave_way_note(result.gave_way, result.label_parts):  # (a pin took its artist's place)
        summary(f"{line}.")
    summary(f"Managed playlist {where}: {joined(add, result.added)}, {joined(remove, result.removed)}, "
            f"{joined(keep, result.kept)}"
            + (f" in the order it had (none of them is more than {DRIFT_PLACES} places from its place in the table)"
               if result.order_kept else "")
            + (" (dry run: nothing written)" if result.dry_run else "")
            + f"; {joined(result.requests, 'Spotify', plural(result.requests, 'request'))}, "
            + f"{joined(f'{result.seconds:.1f}', 's.')}")
    if result.playlist_id and not result.dry_run:
        # the link whole on its own line (never broken, so a copy gets all of it); remarks wrap
        console.print(f"Open it: {playlist_url(result.playlist_id)}", soft_wrap=True)
        if held is not None:
            console.print("(the demo's playlist lives in the stand-in; a real run's link opens in Spotify)")
    if held:
        from rich.table import Table
        summary(f"The stand-in's copy of the playlist now holds {joined(len(held), 'tracks,')} first ones:")
        listing = Table.grid(padding=(0, 1))  # number, then the text with a hanging indent
        listing.add_column(justify="right", no_wrap=True)
        listing.add_column(overflow="fold")
        for i, t in enumerate(held[:10], 1):
            listing.add_row(f"{i:>3}.", terminal_safe(f"{t['name']} - {t['artists']}"))
        console.print(listing)


def _removed_counts(why_removed: dict[str, tuple[str, str]]) -> str:
    """" (11 outranked, 4 made room for tracks new to you ...; --why TRACK says more)": the dry
    run's leaving tracks counted by what keeps them off, the commonest first; "" for none."""
    from collections import Counter
    from .pipeline import LEFT_OUT_WORDS
    counts = Counter(v for v, _ in why_removed.values())
    if not counts:
        return ""
    parts = [f"{n} {LEFT_OUT_WORDS.get(v, v)}" for v, n in sorted(counts.items(), key=lambda c: (-c[1], c[0]))]
    return f" ({', '.join(parts)}; --why TRACK says more)"


def _background_enrich(settings, notice) -> None:
    """A few MusicBrainz look-ups after a scheduled run; never fails the run. ``notice``: the
    run's missing-contact warning (said once, by the build's discovery or here)."""
    from . import jobs
    from .enrich.musicbrainz import client_from_settings, enrich_genres
    try:
        with jobs.writing(settings, "enrich genres (scheduled)"):
            store = jobs.open_store(settings)
            report = enrich_genres(jobs.require_library(settings), store, settings,
                                   limit=settings.schedule.enrich_limit, client=client_from_settings(settings, notice))
        log.info("scheduled genre look-up: %d artists, %d with genres, %d left", report.looked_up,
                 report.with_genres, report.remaining)
    except RecommenderError as exc:
        log.warning("scheduled genre look-up skipped: %s", exc)


def _enrich_estimate(settings, due: int, rechecks: int) -> str:
    """`enrich genres`' first line: how many artists and about how long, at the pace the client
    keeps (a MusicBrainz on this machine, the stand-in, is not held to 1 request/s)."""
    from .enrich.musicbrainz import estimate_seconds, paced_rate
    if not due:  # not "0 artists ...: about 0 s (interrupt any time ...)", then "looked up 0 artists ..."
        from .tables import joined
        return ("nothing to look up on MusicBrainz: every artist was looked up lately (one without genres is asked "
                f"again after {joined(settings.enrich['retry_misses_days'], 'days')}, one with genres after "
                f"{joined(settings.enrich['refresh_days'], 'days')})")
    rate = paced_rate(settings)
    seconds = estimate_seconds(due, rechecks, rate=rate)
    # 5 artists: "about 10 s", not "0 min"; at least 1 s
    about = f"{max(seconds, 1):.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
    pace = f"at {rate:g} request/s" if rate == float(settings.enrich.rate) else "(a MusicBrainz on this machine: not paced)"
    from .wording import plural
    return (f"{due} {plural(due, 'artist')} to look up on MusicBrainz: about {about} {pace} (interrupt any time: the next run "
            "resumes; --limit N does a part now)")


DatasetOpt = Annotated[Optional[Path], typer.Option("--dataset", help="Use a playlist CSV (benchmark or "
                                                                     "Exportify format) instead of your cache.")]
SplitOpt = Annotated[str, typer.Option("--split", help="With --dataset: dev, holdout or all (a fixed sha1 split of the "
                                                  "playlists; README, Evaluation).")]
FeaturesOpt = Annotated[str, typer.Option("--features", help="With --dataset: restricted (what a personal app gets) "
                                                             "or full (+ popularity, audio features).")]


def _evaluation_setup(config, quiet, verbose, dataset, split, features, demo=False, as_json=False):
    """Settings, logging and the (library, hidden tracks) that evaluate and tune share; with
    ``demo``, the sample library (pulled once, as search/similar/moods --demo do) and settings
    pointed at the demo's directory (your weights and other keys are kept)."""
    from . import jobs
    from .paths import SAMPLE_LIBRARY
    settings, library = _settings(config), None
    if demo:  # the sample's audio features too, as search/similar/moods --demo have them
        from .libsource import with_sample_features
        source = _source(settings, dataset, demo, quiet, as_json)
        settings, library = source.settings, with_sample_features(source, source.load())
    _logging(settings, quiet, verbose)
    return settings, jobs.evaluation_setup(settings, dataset, split, features, library=library,
                                           owner=SAMPLE_LIBRARY if demo else "your library",
                                           demo=jobs.ADD_DEMO)  # none cached: evaluate and tune take --demo


@command("evaluate", examples=("recommend evaluate", "recommend evaluate --demo",
                               "recommend evaluate --top-n 20 --report eval.html",
                               "recommend evaluate --dataset playlists.csv --split dev --json"))
def evaluate_cmd(
    config: ConfigOpt = None, quiet: QuietOpt = False, as_json: JsonOpt = False, verbose: VerboseOpt = False,
    dataset: DatasetOpt = None, split: SplitOpt = "all", features: FeaturesOpt = "restricted",
    top_n: Annotated[Optional[int], typer.Option("--top-n", "-n", min=1, max=MAX_TOP_N, help="N of precision@N (default: "
                                                                         "evaluate.top_n).")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", parser=_file_to_write, metavar="PATH", help="Write an HTML report with plots.")] = None,
    protocol: Annotated[str, typer.Option("--protocol", help="With --dataset: continuation (pooled, tt-continuation-v1) "
                                                             "or persona (ten playlists per person, tt-persona-v1; "
                                                             "README, Evaluation).")
                        ] = "continuation",
    in_process: Annotated[bool, typer.Option("--in-process", help="With --protocol persona: compute the open data "
                                                                  "in-process instead of serving it through the "
                                                                  "ListenBrainz stand-in (same numbers, faster).")
                          ] = False,
    demo: Annotated[bool, typer.Option("--demo", help="Evaluate on the sample library (pulled once through the "
                                                      "built-in stand-in; no Spotify account needed).")] = False,
) -> None:
    """Hide tracks of your playlists and measure how well each scorer and the blend find them."""
    from . import jobs
    if protocol != "continuation":
        if demo:
            raise UsageError("--protocol persona reads a playlist data file (--dataset FILE), not --demo")
        if top_n is not None:  # else p@10 and no report, looking like what was asked
            raise UsageError("--top-n is not for --protocol persona: the personal-library benchmark is "
                             "measured at 10; leave --top-n out")
        if report is not None:
            raise UsageError("--report is not for --protocol persona: the personal-library benchmark has no "
                             "HTML report; leave --report out (--json gives its numbers)")
        return _evaluate_persona(config, quiet, verbose, as_json, dataset, split, features, protocol, in_process)
    if in_process:
        raise UsageError("--in-process is for --protocol persona (its open data); leave it out here")
    if report:
        from .report import check_available
        check_available(report)
    settings, setup = _evaluation_setup(config, quiet, verbose, dataset, split, features, demo, as_json)
    with _Bar(_interactive(quiet, as_json)) as bar:
        result = jobs.evaluate(settings, setup, top_n=top_n, progress=bar)
    if report:
        from .report import write_report
        write_report(result, report, source=setup.shared_source)
    if as_json:
        _print_json(result.to_dict())
        return
    n = result.top_n
    keys = [f"p@{n}", f"r@{n}", f"ndcg@{n}", "rprec", "coverage", "catalogue_coverage", "diversity"]
    from .config import off_line, weight_cell
    rows = [[name, weight_cell(result.weights, name)] + [f"{met.get(k, float('nan')):.4f}" for k in keys]
            for name, met in result.metrics.items()]
    from .tables import joined
    from .wording import plural
    _console().print(_table(f"{joined(result.targets, plural(result.targets, 'target'))} from {setup.source}; "
                            f"{joined(f'{result.seconds:.1f}', 's')}", ["method", "weight"] + keys, rows,
                            drop=("catalogue_coverage", "diversity", "coverage", f"r@{n}", "rprec"), text=("weight",)))
    if off := off_line(result.weights):  # their rows are each scorer alone: what it would bring, not what it brings
        _echo_wrapped(off)
    from .scorers.audio import idle_note
    if idle := idle_note(result.weights, setup.library):  # a weight that changes nothing, and why
        _echo_wrapped(idle)
    if report:
        typer.echo(f"report written to {report}")


def _evaluate_persona(config, quiet, verbose, as_json, dataset, split, features, protocol, in_process) -> None:
    """``evaluate --protocol persona``: the personal-library benchmark (recommender/persona.py)."""
    from . import jobs
    settings = _settings(config)
    _logging(settings, quiet, verbose)
    with _Bar(_interactive(quiet, as_json)) as bar:
        result = jobs.evaluate_persona(settings, dataset, split, features, protocol, standins=not in_process,
                                       progress=bar)
    out = result.to_dict()
    if as_json:
        _print_json(out)
        return
    keys = ["p@10", "ndcg@10", "rprec", "new@10", "known@10"]
    rows = [[name] + [f"{met.get(k, float('nan')):.4f}" for k in keys] for name, met in result.metrics.items()]
    from .tables import joined
    from .wording import plural
    _console().print(_table(f"{joined(result.targets, plural(result.targets, 'target'))} of "
                            f"{joined(result.personas, plural(result.personas, 'persona'))} ({split} "
                            f"split); reach {result.reach:.4f}, {joined(f'{result.requests:.0f}', 'look-ups')} per "
                            f"person; {joined(f'{result.seconds:.1f}', 's')}",
                            ["method"] + keys, rows, drop=("known@10", "new@10", "rprec")))


@command("tune", writes=("write", "undo"), examples=("recommend tune", "recommend tune --folds 5 --write",
                                                     "recommend tune --undo", "recommend tune --demo"))
def tune_cmd(
    config: ConfigOpt = None, quiet: QuietOpt = False, as_json: JsonOpt = False, verbose: VerboseOpt = False,
    dataset: DatasetOpt = None, split: SplitOpt = "all", features: FeaturesOpt = "restricted",
    folds: Annotated[Optional[int], typer.Option("--folds", min=1, max=MAX_FOLDS, help="Cross-validation folds (default: "
                                                                        "tune.folds); the first hides what "
                                                                        "`recommend evaluate` hides.")] = None,
    write: Annotated[bool, typer.Option("--write", help="Store the best weights in your config file (the diff "
                                                        "is shown).")] = False,
    report: Annotated[Optional[Path], typer.Option("--report", parser=_file_to_write, metavar="PATH", help="Write an HTML report with the tuning "
                                                                   "curve.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Tune on the sample library (pulled once through the "
                                                      "built-in stand-in); not with --write.")] = False,
    undo: Annotated[bool, typer.Option("--undo", help="Put back the weights the last --write replaced in your "
                                                      "config file (no search).")] = False,
) -> None:
    """Search the blend weights (cross-validated) and optionally write the best to your config."""
    from . import jobs
    if undo:
        given = [o for o, on in (("--write", write), ("--demo", demo), ("--dataset", dataset is not None),
                                 ("--report", report is not None), ("--folds", folds is not None),
                                 ("--split", split != "all"), ("--features", features != "restricted")) if on]
        if given:
            raise UsageError(f"--undo puts back the weights of your config file and searches nothing: "
                             f"leave out {', '.join(given)}")
        return _undo_tuned(config, quiet, verbose, as_json)
    if demo and write:  # weights that fit the sample user are no advice for your library
        raise UsageError("--write and --demo cannot be combined: weights tuned on the sample library "
                         "would overwrite your config's; tune on your own library to write them")
    if report:  # what would fail at the end fails now, before minutes of search: a report without
        from .report import check_available  # matplotlib, or one named as another format
        check_available(report)
    settings, setup = _evaluation_setup(config, quiet, verbose, dataset, split, features, demo, as_json)
    # and a config file that cannot be written
    target = jobs.tuned_weights_file(settings, config or _state.config, check=True) if write else None
    if dataset is not None and split != "dev":  # tuned on holdout, its numbers measure nothing any more
        _note(f"tuning on {'the holdout split' if split == 'holdout' else 'every playlist of the file, its holdout split too'}: "
              "`evaluate --split holdout` then no longer measures weights on playlists they never saw; "
              "tune with --split dev and report holdout once")
    again = jobs.tuned_off(settings, config or _state.config)  # read once: the search and the output's note
    with _Bar(_interactive(quiet, as_json)) as bar:
        result = jobs.tune(settings, setup, folds=folds, progress=bar, searched_at_0=again)
    out = result.to_dict()
    n = result.top_n
    out["searched_again"] = [s for s in again if s in result.names]
    if not as_json:  # the result first: a write or a report that fails then loses nothing
        _print_tuned(out, n, setup.source, write)
        if out["searched_again"]:
            from .wording import and_list
            _echo_wrapped(f"{and_list(out['searched_again'])} at weight 0 since an earlier `recommend tune --write`: "
                          "searched again (a scorer you set to 0 yourself stays off)")
    if report:  # before the config: a report that cannot be written leaves the config as it was
        from .report import write_report
        best = settings.with_overrides({f"scorers.{k}.weight": v for k, v in result.best_weights.items()})
        write_report(jobs.evaluate(best, setup), report, tuned=result, source=setup.shared_source)
    diff = None
    if write and result.within_spread:  # no change on noise: the current weights stay
        out["written"], out["changed"] = str(target), False
    elif write:
        path, diff = jobs.write_tuned_weights(settings, result.tuned_weights, target, by_tune=True)  # never tune.fixed's
        out["written"], out["changed"] = str(path), bool(diff)
    if as_json:
        _print_json(out)
        return
    from .tables import whole
    written = whole(out.get("written", ""))  # the config file written: a copy of its path stays whole
    if write and result.within_spread:
        _echo_wrapped(f"{written} keeps its weights: the best weights' gain is within the spread over "
                      "folds (set them by hand to use them anyway)")
    elif write and diff:
        from .config import weights_text
        _echo(diff)
        undo = whole(_undo_command(config))  # whole on its line, to copy
        before = out["defaults"]["weights"]  # those the write changed (not tune.fixed's, never written)
        changed = {k: before.get(k, 0.0) for k, v in result.tuned_weights.items() if before.get(k, 0.0) != v}
        said = f"weights written to {written}; `{undo}` puts back what they were: {weights_text(changed or before)}"
        if quiet:  # your config changed: said with --quiet too (cron's mail), as a note
            _note(said)
        else:
            _echo_wrapped(said)
    elif write:
        _echo_wrapped(f"nothing written to {written}: the best weights are the ones in effect")
    if report:
        typer.echo(f"report written to {report}")


def _undo_command(config: Path | None) -> str:
    """`recommend tune --undo`, with the --config it needs to find the same file."""
    import shlex
    config = config or _state.config
    return "recommend tune --undo" + (f" --config {shlex.quote(str(config))}" if config else "")


def _undo_tuned(config, quiet: bool, verbose: bool, as_json: bool) -> None:
    """`tune --undo`: the weights the last `tune --write` replaced, back in the same file."""
    from . import jobs
    settings = _settings(config)
    _logging(settings, quiet, verbose)
    path, diff, record = jobs.undo_tuned_weights(settings, config or _state.config)
    if as_json:
        _print_json({"written": str(path), "changed": bool(diff), "weights": record["before"],
                     "replaced": record["after"], "written_at": record.get("at")})
        return
    if diff:
        _echo(diff)
    at = str(record.get("at") or "")
    when = f" ({at[:16].replace('T', ' ')} UTC)" if at.endswith("+00:00") else ""
    # what wrote them: tune, or a Save in the web app (a record from before 2 Dec 2026 names neither)
    _echo(f"{path} has the weights it had before {record.get('by') or '`recommend tune --write`'}{when} again")


def _print_tuned(out: dict, n: int, source: str, write: bool = False) -> None:
    """tune's table (current and best weights, mean ± spread over folds), what `recommend
    evaluate` will show for the best weights, and whether the gain is within the spread."""
    from .config import weights_text
    fixed = out.get("fixed", {})
    spread = out["folds"] > 1  # one fold has no spread: not "± 0.0000"

    def cell(r: dict, metric: str) -> str:
        mean = f"{r.get(metric, float('nan')):.4f}"
        return f"{mean} ± {r.get(f'{metric}_std', float('nan')):.4f}" if spread else mean
    rows = []
    for key, label in (("defaults", "current"), ("best", "best")):
        r = out[key]
        w = ", ".join(weights_text({k: v}) + (" (fixed)" if k in fixed else "") for k, v in r["weights"].items())
        rows.append([label, w, cell(r, f"p@{n}"), cell(r, f"ndcg@{n}")])
    from .tables import joined
    from .wording import and_list, plural
    folds = joined(out["folds"], plural(out["folds"], "fold"))
    took = joined(f"({out['seconds']:.0f}", "s)")
    _console().print(_table(f"{joined(out['combinations'], 'weight', 'combinations')} x {folds} on {source} "
                            f"{took}" + ("; mean ± spread over folds" if spread else ""),
                            ["", "weights", f"p@{n}", f"ndcg@{n}"], rows, wide="weights"))
    cur, best = out["defaults"], out["best"]
    if out["folds"] > 1 and best.get(f"p@{n}_folds"):  # the one number a later `evaluate` can confirm
        first = joined(f"p@{n}", f"{best[f'p@{n}_folds'][0]:.4f}")
        _echo_wrapped(f"`recommend evaluate` gives {first} with the best weights: it hides what the first fold hides "
                      f"(the table's mean is over {joined(out['folds'], 'folds')})")
    if fixed:  # why they did not move
        _echo_wrapped(f"(fixed): tune.fixed keeps {and_list(fixed)} at your config's "
                      f"{plural(len(fixed), 'weight')} in every combination tried, and --write "
                      "never changes them (`tune.fixed: []` searches them too)")
    gain = best.get(f"p@{n}", 0.0) - cur.get(f"p@{n}", 0.0)
    searched = [k for k in best["weights"] if k not in fixed]
    if not searched:
        _echo_wrapped(f"note: every scorer that is on is in tune.fixed ({', '.join(fixed)}): there was nothing to "
                      "tune; `tune.fixed: []` searches them too")
    elif len(best["weights"]) == 1:  # "as good as far as this library can tell" of a search of nothing
        _echo_wrapped(f"note: only {next(iter(best['weights']))} is on, and one scorer ranks alike at any weight: "
                      "there was nothing to tune. A scorer at weight 0 (an earlier `tune --write` may have set it "
                      "so) joins the search once your config gives it a weight again (scorers.NAME.weight)")
    elif best["weights"] == cur["weights"] and write:  # the write says what it did (a file of defaults gets them)
        _echo_wrapped("note: your current weights are the best of the search")
    elif best["weights"] == cur["weights"]:
        _echo_wrapped("note: your current weights are the best of the search: nothing to change")
    elif out["within_spread"]:
        _echo_wrapped(f"note: the best weights gain {joined(f'{gain:+.4f}', f'p@{n}')}, within the spread over folds: "
                      "your current weights are as good as far as this library can tell")
    elif out["folds"] == 1 and write:  # a one-playlist library's one fold turned two scorers off unsaid
        targets = sum(out["targets"])
        _echo_wrapped(f"note: one fold, on {joined(targets, plural(targets, 'playlist'))}: nothing checked the best "
                      "weights' gain against chance (with --folds 3 or more, --write keeps your weights when the gain "
                      "is within the spread over folds)")


@command("standin", examples=("recommend standin --port 8765", "recommend standin --extended"))
def standin_cmd(
    port: Annotated[int, typer.Option("--port", min=0, max=65533, help="Port on 127.0.0.1; ListenBrainz and MusicBrainz take the next two (0: any free ports, as the export line names them).")] = 8765,
    extended: Annotated[bool, typer.Option("--extended", help="Extended-quota fields (popularity, genres, audio features).")] = False,
    account: Annotated[Optional[Path], typer.Option("--account", help="Account fixture JSON (default: the sample).")] = None,
) -> None:
    """Run the local stand-ins: Spotify, ListenBrainz + labs and MusicBrainz (offline trial, tests)."""
    from contextlib import ExitStack

    from .standins.listenbrainz import open_data_standins
    from .standins.server import ctrl_c_as_a_flag
    from .standins.spotify import run_standin

    stack = ExitStack()
    lb, mb, prepare = stack.enter_context(open_data_standins(*((0, 0) if port == 0 else (port + 1, port + 2))))
    try:
        def ready(server) -> None:  # the export line alone on stdout (a script reads it); the rest on stderr
            _say_unless_quiet(f"Stand-ins on 127.0.0.1 (Ctrl-C to stop): Spotify {server.base_url}, ListenBrainz "
                 f"{lb.api_url}, labs {lb.labs_url}, MusicBrainz {mb.base_url}. Point the tool at them with the export line on standard output:")
            _result(f"export RECOMMENDER_SPOTIFY_API_URL={server.api_url} "
                  f"RECOMMENDER_SPOTIFY_ACCOUNTS_URL={server.accounts_url} SPOTIPY_CLIENT_ID=any "
                  f"RECOMMENDER_LISTENBRAINZ_API_URL={lb.api_url} RECOMMENDER_LISTENBRAINZ_LABS_URL={lb.labs_url} "
                  f"RECOMMENDER_MUSICBRAINZ_URL={mb.base_url}")
            _say_unless_quiet("then `recommend auth` logs in (auto-approved) and `recommend refresh` pulls "
                 + ("that account's library." if account else "the sample library."))
        run_standin(port=port, extended=extended, account_path=str(account) if account else None, ready=ready,
                    prepare=prepare)  # until Ctrl-C: a clean stop of the Spotify stand-in
    finally:
        with ctrl_c_as_a_flag():  # a second Ctrl-C while the open-data ones stop is no "interrupted"
            stack.close()


@command("web", examples=("recommend web --demo", "recommend web --port 8080 --no-browser"))
def web_cmd(config: ConfigOpt = None, quiet: QuietNoJsonOpt = False, verbose: VerboseOpt = False,
            demo: Annotated[bool, typer.Option("--demo", help="The sample library through the Spotify stand-in "
                                                              "(as build-playlist --demo).")] = False,
            port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0 = a free port).")] = 0,
            no_browser: Annotated[bool, typer.Option("--no-browser", help="Print the URL; do not open a browser.")] = False,
            ) -> None:
    """Local web app: next playlist, weights, discovery, taste map, moods, search, similar, runs (127.0.0.1 only)."""
    from .web.server import ctrl_c_kept
    with ctrl_c_kept():  # from here on, a Ctrl-C that Python loses on the way still stops it (run_web looks)
        _web(config, quiet, verbose, demo, port, no_browser)


def _web(config, quiet: bool, verbose: bool, demo: bool, port: int, no_browser: bool) -> None:
    try:  # the app imports these only once it runs: an install without the extra failed as a bug
        import jinja2  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
        try:  # the forms' parser (every steer and Publish): without it each POST was a 500
            import python_multipart  # noqa: F401
        except ImportError:
            import multipart  # noqa: F401  (its name before 0.0.13)

        from .web.server import run_web
    except ImportError as exc:
        from .paths import install_hint
        hint = install_hint("web")
        missing = "python-multipart" if exc.name in ("multipart", "python_multipart") else exc.name
        raise UsageError(f"recommend web needs the 'web' extra ({missing} is missing): {hint}"
                         + (" (from a source checkout: pip install '.[web]')" if hint.startswith("pip ") else "")) from None
    settings = _settings(config)
    opened: list[str] = []

    def ready(url: str) -> None:
        print(url, file=sys.__stdout__, flush=True)  # first on stdout, even with --quiet (as Jupyter does)
        _say_unless_quiet("recommend web: open the URL above; it holds the secret token (Ctrl-C to stop)")
        _logging(settings, quiet, verbose, demo)  # after the URL: the log's set-up imports pandas
        if not no_browser:
            from .web.server import open_browser
            opened.append(url)
            open_browser(url, settings.cache_dir, say=_err)  # beside the server: a text browser waits for it
    try:
        run_web(settings, demo=demo, port=port, ready=ready)
    finally:
        if opened:  # the browser's start page holds a token that is dead now
            from .web.server import remove_browser_page
            remove_browser_page(opened[0], settings.cache_dir)


@command("show", parent=config_app, examples=("recommend config show", "recommend config show --json",
                                               "recommend config show --demo"))
def config_show_cmd(config: ConfigOpt = None, as_json: JsonOpt = False,
                    demo: Annotated[bool, typer.Option("--demo", help="The settings the --demo commands start "
                                                                      "from: these with the demo's own file (what "
                                                                      "`recommend web --demo` saved) on top (the "
                                                                      "stand-ins' addresses and client id are set as "
                                                                      "a demo runs).")] = False) -> None:
    """Print the merged configuration (secrets redacted)."""
    import yaml
    settings = _settings(config)
    layers = f"{settings.user_file or '(no user file)'} < environment < flags"
    if demo:
        from .paths import DEMO_CONFIG, demo_dir, demo_settings
        demo_file = demo_dir(settings.cache_dir) / DEMO_CONFIG
        settings = demo_settings(settings)  # the demo's file on top of everything else (paths.demo_settings)
        layers += f" < {demo_file}{'' if demo_file.is_file() else ' (none saved yet)'}"
    data = settings.redacted()
    if as_json:
        _print_json(data)
    else:
        src = f"# defaults < {layers}\n"
        _echo(src + yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


@command("path", parent=config_app, examples=("recommend config path", "recommend config path --json"))
def config_path_cmd(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Where the defaults, your config file, the state (manifest, login, logs) and the cache live."""
    from . import paths
    from .runlog import log_path
    from .spotify.auth import token_path
    settings = _settings(config)
    dirs = settings.data_dirs
    data = dirs.state
    info = {"defaults": str(paths.default_config_path()),
            "config": str(settings.user_file) if settings.user_file else None,
            "config_default_place": str(paths.user_config_file()),
            "data": str(data), "cache": str(dirs.cache), "demo": str(paths.demo_dir(data)),
            "log": str(log_path(data, settings.schedule.log_file)), "token": str(token_path(data))}
    if as_json:
        _print_json(info)
        return
    cfg = info["config"] or (f"none (`recommend config init` writes a starting one at {info['config_default_place']}; "
                             "--config or RECOMMENDER_CONFIG override)")
    cache = ("the same directory" if dirs.single else
             "library frames, open-data answers, search index: safe to delete, the next run re-pulls")
    _echo_labelled([f"defaults: {info['defaults']}", f"config:   {cfg}",
                    f"data:     {info['data']} (manifest, login token, run log, imported audio features, genres; "
                    f"RECOMMENDER_CACHE_DIR or cache.dir naming another directory than this one puts data and "
                    f"cache in that one)",
                    f"cache:    {info['cache']} ({cache})", f"demo:     {info['demo']}", f"log:      {info['log']}"])


@command("init", parent=config_app, writes=True,
         examples=("recommend config init", "recommend config init --client-id abc123",
                   "recommend config init --config ./my.yaml"))
def config_init_cmd(
    config: ConfigOpt = None,
    client_id: Annotated[Optional[str], typer.Option("--client-id", help="Your Spotify app's client id, written "
                                                                          "in place of the placeholder.")] = None,
) -> None:
    """Write a starting config file (the commented example) where `recommend config path` says, or
    at --config PATH; never over a file that exists."""
    import os
    from . import paths
    from .store import atomic_write_text
    target = Path(config or os.environ.get(paths.CONFIG_ENV) or paths.user_config_file()).expanduser()
    real = Path(os.path.realpath(target))
    # a link to a file still to be made (a dotfiles folder's) is written through, to that file;
    # one going round in a loop is said as such by the read
    if target.exists() or (target.is_symlink() and real.is_symlink()):
        _settings(target)  # a file with a problem: that problem first (config.py's one line), as every command says it
        raise UsageError(f"{target} exists: edit it (nothing was written; `recommend config show` shows what it sets)")
    text = paths.example_config_path().read_text(encoding="utf-8")
    if client_id is not None:
        if not re.fullmatch(r"[0-9A-Za-z]{1,64}", client_id.strip()):
            raise UsageError(f"--client-id {cut(client_id, 40)!r} is no Spotify client id (letters and digits, "
                             "as the app's dashboard shows it)")
        text = text.replace('client_id: "your-client-id"', f'client_id: "{client_id.strip()}"', 1)
    atomic_write_text(target, text, chosen=True)  # (0600, in folders made 0700: a secret may be added to it)
    through = f" (through its link, to {real})" if target.is_symlink() else ""
    typer.echo(f"wrote {target}{through}" + ("" if client_id else "; replace its spotify.client_id placeholder with your "
                                    "app's client id (or set SPOTIPY_CLIENT_ID), then run `recommend auth`"))


@command("migrate", parent=config_app, examples=("recommend config migrate --dry-run", "recommend config migrate"))
def config_migrate_cmd(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would move; move nothing.")] = False,
) -> None:
    """Move a source checkout's config/user.yaml and cache/ to the standard places."""
    from . import migrate, schedule
    m = migrate.migrate(dry_run=dry_run)
    if m.nothing:
        typer.echo("nothing to migrate: no checkout config/user.yaml or cache/ in use")
        return
    verb = "would" if dry_run else "did"
    if m.config:
        typer.echo(f"{verb} copy {m.config[0]} -> {m.config[1]}" + ("" if dry_run else " (the old file is no "
                                                                       "longer read)"))
    if m.cache:
        typer.echo(f"{verb} move {len(m.entries) - len(m.refetchable)} entries of {m.cache[0]} -> {m.cache[1]}")
        if m.refetchable:
            typer.echo(f"{verb} move {len(m.refetchable)} re-fetchable entries (library frames, open-data answers, "
                       f"search index) -> {m.cache_dest}")
    for line in schedule.still_naming([pair[0] for pair in (m.cache, m.config) if pair]):
        typer.echo(line)


@command("status", examples=("recommend status", "recommend status --offline", "recommend status --json",
                              "recommend status --demo"))
def status_cmd(config: ConfigOpt = None, as_json: JsonOpt = False,
               offline: Annotated[bool, typer.Option("--offline", help="Do not ask Spotify whether the login "
                                                                      "still works (show the saved token only).")]
               = False,
               demo: Annotated[bool, typer.Option("--demo", help="The sample library's runs, cache and playlist "
                                                                "(what the --demo commands did).")] = False) -> None:
    """Show the last runs, the schedule (our crontab line, its next run), cache age, login state
    (checked with Spotify), the managed playlist and genre coverage."""
    from .jobs import status_report
    from .status import status_lines
    settings = _settings(config)
    # spotipy's own HTTP error lines go to the log only
    info = status_report(settings, demo=demo, offline=offline,
                         before_check=lambda: _logging(settings, _state.quiet, _state.verbose))
    if info["playlist"] and info["playlist"].get("id") and not demo:  # (the demo's is in its stand-in)
        info["playlist"]["url"] = playlist_url(info["playlist"]["id"])
    if as_json:
        _print_json(info)
        return
    _echo_labelled(status_lines(info, demo))


def _echo_labelled(lines: list[str]) -> None:
    """``label: value`` lines wrapped to the terminal under their values (``tables.hanging``):
    at 40 columns a path, a link or a run's summary no longer runs off the screen."""
    from .tables import hanging
    width = _term_width()
    _echo("\n".join(hanging(line, width, 4 if line.startswith("  ") else 10) for line in lines))


@command("genres", parent=enrich_app, writes=True, examples=("recommend enrich genres --limit 100",))
def enrich_genres_cmd(
    config: ConfigOpt = None, quiet: QuietOpt = False, as_json: JsonOpt = False, verbose: VerboseOpt = False,
    no_input: NoInputOpt = False,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Look up at most N artists now.")] = None,
) -> None:
    """Look up artist genres on MusicBrainz (1 request/second; resumable, cached per artist)."""
    from . import jobs
    from .enrich.musicbrainz import due_counts, enrich_genres
    from .tables import joined, wrap_joined
    settings = _settings(config)
    _logging(settings, quiet, verbose)
    store = jobs.open_store(settings)  # one store: a damaged genres file is said once, not by each read of it
    library = jobs.require_library(settings, demo=None, store=store)  # the demo has its own cache: no genres to add there
    due, rechecks = due_counts(library, store, settings, limit=limit)
    if not quiet and not as_json:
        _err(wrap_joined(_enrich_estimate(settings, due, rechecks), _term_width()))
    with jobs.writing(settings, "enrich genres"), _Bar(_interactive(quiet, as_json)) as bar:
        report = enrich_genres(library, store, settings, limit=limit,
                               progress=lambda done, total, eta: bar("MusicBrainz artists", done, total))
    if as_json:
        _print_json({**vars(report), "seconds": round(report.seconds, 2)})  # as every other command's (0.02000746...)
    elif not quiet and (due or report.looked_up):  # nothing due: the first line said so
        _echo_wrapped(f"looked up {report.looked_up} artists: {report.found} found ({report.by_isrc} by ISRC, "
                      f"{report.by_name} by name), {report.with_genres} with genres, {report.misses} not found "
                      f"({report.ambiguous} ambiguous)"
                      + (f"; {report.rechecked} re-checked by MBID ({report.merged} merged into another, "
                         f"{report.gone} gone)" if report.rechecked else "")
                      + f"; {report.remaining} left for later; {report.requests} requests in "
                      + joined(f"{report.seconds:.0f}", "s"))


@command("features", parent=import_app, writes=True, examples=("recommend import features features.csv.gz",))
def import_features_cmd(
    file: Annotated[Path, typer.Argument(help="CSV keyed by Spotify track id (gz or plain).")],
    config: ConfigOpt = None, quiet: QuietOpt = False, as_json: JsonOpt = False, verbose: VerboseOpt = False,
    no_input: NoInputOpt = False,
) -> None:
    """Import audio features (danceability ... tempo) from a CSV file into your data directory (kept across refreshes: no refresh gives them back)."""
    from . import jobs
    from .features import RATIOS, import_features
    settings = _settings(config)
    _logging(settings, quiet, verbose)
    store = jobs.open_store(settings)
    with jobs.writing(settings, "import features"), _Bar(_interactive(quiet, as_json), lazy=True) as bar:
        report = import_features(file, store.load_library(), store, progress=bar)
    if as_json:
        _print_json({**vars(report), "skipped_rows": report.skipped_rows})
        return
    if quiet:
        return
    from .tables import joined, whole
    from .wording import plural
    # wrapped to the terminal at spaces, a count beside what it counts, the path and "line 7" whole
    _echo_wrapped(f"{whole(file)}: {joined(_rows(report.rows))}, {joined(_rows(report.imported, 'track'))} imported "
                  f"({joined(report.added, 'new')}, {joined(report.updated, 'updated')}; columns: "
                  f"{', '.join(report.columns)})"
                  + (f"; {joined(report.in_library)} of them {plural(report.in_library, 'is', 'are')} in your cache "
                     "(your library and the tracks discovery "
                     "found)" if report.in_library is not None else "")
                  + f"; {joined(_rows(report.total, 'track'))} {plural(report.total, 'has', 'have')} features now")
    if report.imported and not report.moods:  # e.g. Exportify's durations only: no mood can be told from them
        _echo_wrapped("the file gives none of its tracks both a valence and an energy, which the mood commands "
                      "(`recommend moods`) need"
                      + (f"; {joined(report.placed)} of them {plural(report.placed, 'has', 'have')} both from an "
                         "earlier file, kept" if report.placed else ""))
    if report.duplicates:  # why the tracks are fewer than the rows (a Kaggle file lists a track per playlist)
        _echo_wrapped(f"{joined(_rows(report.duplicates))} gave a track an earlier row gave too: "
                      "the later row's values are kept")
    if report.percent_rows:
        _echo_wrapped(f"read {joined(_rows(report.percent_rows))} written on a 0-to-100 scale as percentages (their "
                      f"{', '.join(c for c in report.columns if c in RATIOS)} divided by 100)")
    for reason, n in report.skipped.items():
        examples = "; ".join(re.sub(r"^line (\d+):", lambda m: joined("line", m[1] + ":"), e)
                             for e in report.examples.get(reason, [])[:3])
        _echo_wrapped(f"skipped {joined(_rows(n))}: {reason} (e.g. {examples})")


def _rows(n: int, word: str = "row") -> str:
    from .wording import plural
    return f"{n} {plural(n, word)}"


def _library_settings(config: Path | None):
    from . import jobs
    settings = _settings(config)
    return settings, jobs.require_library(settings, jobs.ADD_DEMO)  # (playlists takes --demo)


ExploreDatasetOpt = Annotated[Optional[Path], typer.Option("--dataset", help="Use a playlist data file (the "
                                                                              "formats evaluate reads) instead of "
                                                                              "your cache.")]
DemoOpt = Annotated[bool, typer.Option("--demo", help="Use the sample library (pulled once through the built-in "
                                                      "stand-in; no Spotify account needed).")]


def _source(settings, dataset, demo, quiet: bool = False, as_json: bool = False):
    from .libsource import open_source
    if demo:  # the first demo run pulls the sample account: log as build-playlist --demo does
        _logging(settings, quiet, False, demo=True)
    with _Bar(_interactive(quiet, as_json), lazy=True) as bar:  # shown when the demo is pulled
        return open_source(settings, dataset, demo, progress=bar)


def _explore_library(config, dataset, demo, quiet: bool = False, as_json: bool = False, refs=()):
    """(settings, source, library) for search/similar/moods (``refs``: playlists the command
    names, refused with a clear line when the tool wrote them)."""
    from .libsource import require_tracks, with_sample_features
    from .paths import with_demo_layer
    settings = _settings(config)
    source = _source(settings, dataset, demo, quiet, as_json)
    if demo:  # the weights and settings `recommend web --demo` saved, as every --demo command reads them
        settings = with_demo_layer(settings)
    require_tracks(source)
    library = source.load(refs)
    return settings, source, (with_sample_features(source, library) if demo else library)


def _safe(value: Any):
    """A table cell for text from strangers: a rich Text (no markup), controls as visible escapes."""
    from rich.text import Text
    return Text(terminal_safe(value))


def _print_rows(rows: list[dict], title: str, columns: list[str], text: set[str], wide: str | None = None,
                drop: tuple[str, ...] = ()) -> None:
    """A table of dict rows: ``text`` columns escaped with ``_safe``, floats with 3 decimals;
    ``drop``: the columns a narrow terminal leaves out first (``_table``)."""
    cells = [[_safe(r.get(c, "")) if c in text else
              (("-" if r.get(c) != r.get(c) or r.get(c) is None else f"{r[c]:.3f}")
               if isinstance(r.get(c), float) or r.get(c) is None else r.get(c)) for c in columns] for r in rows]
    _console().print(_table(_safe(title), columns, cells, wide=wide, drop=drop, text=text))


@command("search", examples=("recommend search --demo 'cranbery zombi'", "recommend search queen --spotify -n 5",
                              "recommend search 'mad world gary jules' --dataset playlists.csv"))
def search_cmd(text: Annotated[str, typer.Argument(help="Words of the title, artist or album.")],
               config: ConfigOpt = None, as_json: JsonRowsOpt = False, quiet: QuietOpt = False,
               limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many results.")] = 10,
               spotify: Annotated[bool, typer.Option("--spotify", help="Also ask Spotify's search (needs a "
                                                                      "login; at most 10 results).")] = False,
               dataset: ExploreDatasetOpt = None, demo: DemoOpt = False) -> None:
    """Free-text search over the tracks in your cache (typos and accents forgiven); says so
    when nothing matches."""
    from . import libsource
    from .searchindex import check_query
    settings = _settings(config)
    check_query(text)  # before a login is asked for or an index built
    if spotify and demo:  # the demo's login belongs to a stand-in that is gone once the pull is done
        from .paths import SAMPLE_LIBRARY
        raise UsageError("--spotify and --demo cannot be combined: the demo has no Spotify account to "
                         f"search; drop --spotify to search {SAMPLE_LIBRARY}")
    source = _source(settings, dataset, demo, quiet, as_json)
    min_score = source.settings.search.min_score  # the demo's: with what `recommend web --demo` saved
    if not spotify:
        with _Bar(_interactive(quiet, as_json), lazy=True) as bar:  # the first search builds the index
            rows = libsource.search(source, text, limit, min_score, progress=bar)
    else:
        from . import jobs
        from .explore import TrackIndex, search_tracks
        _logging(settings, quiet, False)  # talks to Spotify: spotipy's own error lines go to the log only
        libsource.require_tracks(source)
        library = source.load()
        with _Bar(_interactive(quiet, as_json), lazy=True) as bar:
            index = TrackIndex(min_score=min_score).from_index(libsource.search_index(source, library, bar))
        gateway = jobs.connect(source.settings)

        def remote(query: str, n: int) -> list[dict]:
            page = gateway.get("search", q=query, type="track", limit=min(n, 10))
            return ((page or {}).get("tracks") or {}).get("items") or []
        df = search_tracks(library, text, limit=limit, remote=remote, index=index)
        if df.attrs.get("remote_error"):
            _note(f"Spotify search failed ({df.attrs['remote_error']}); showing cached tracks only")
        rows = _records(df)
    if as_json:
        _print_json([{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for r in rows])
        return
    if not rows:
        place = source.label  # the demo by name, not by its folder, as similar says it
        # wrapped to $COLUMNS as every line is (a 70-column line at 40 columns)
        _echo_wrapped(f"No match for {cut(text, 80)!r} in {place} (nothing scored {min_score:g} or more).")
        return
    cols = ["track_id", "name", "artists", "album", "score"] + (["source"] if spotify else [])
    _print_rows(rows, f"Tracks matching {cut(text, 80)!r}", cols, {"name", "artists", "album", "track_id"},
                drop=("source", "score", "album"))


@command("playlists", examples=("recommend playlists", "recommend playlists --json",
                                 "recommend build-playlist --seed-playlist PLAYLIST_ID", "recommend playlists --demo"))
def playlists_cmd(config: ConfigOpt = None, as_json: JsonRowsOpt = False, demo: DemoOpt = False) -> None:
    """Your cached playlists: name (invisible characters shown as \\u escapes), id to copy
    into --seed-playlist, owner, tracks, and which ones this tool writes (yes, mood, earlier, other computer)."""
    from . import jobs
    if demo:  # the sample library's playlists: the names `--seed-playlist` and `moods cluster` take with --demo
        source = _source(_settings(config), None, True, False, as_json)
        # all of them, ours too (the taste library leaves ours out: a mood exported before the
        # demo's next pull was no longer listed)
        settings = source.settings
        library = jobs.require_library(settings)
    else:
        settings, library = _library_settings(config)
    rows = [{**r, "url": playlist_url(r["id"])} for r in jobs.playlist_rows(settings, library)]
    if as_json:
        _print_json(rows)
        return
    if not rows:  # a new account: a sentence, not an empty table
        typer.echo("No playlists: the last refresh found none in your account; make or follow one in Spotify, "
                   "then `recommend refresh`")
        return
    # a name of spaces only (or none) quoted: its cell was blank, as if the playlist had no name
    from .wording import named
    table = [[visible(named(r["name"])), r["id"], visible(r["owner"]),
              "" if r["tracks"] is None else r["tracks"] if r["readable"] else f"{r['tracks']} (unread)",
              r["role"] or ""] for r in rows]
    from .wording import plural
    _console().print(_table(f"{len(rows)} {plural(len(rows), 'playlist')} (ids are whole: copy them into "
                            "--seed-playlist)",
                            ["name", "id", "owner", "tracks", "managed"], table, wide="name",
                            drop=("owner", "tracks", "managed"), text=("name", "owner")))
    unread = [r["name"] for r in rows if not r["readable"]]
    if unread:  # listed, but seeding from one or clustering it found no track and said "0 tracks"
        # named here: a narrow terminal leaves out the tracks column that marks them
        names = ", ".join(f"'{visible(n)}'" for n in unread[:5]) + (f" and {len(unread) - 5} more"
                                                                     if len(unread) > 5 else "")
        unread = len(unread)
        _echo_wrapped(f"{unread} {plural(unread, 'playlist')} (unread: {names}): Spotify does not let this app read "
                      f"{plural(unread, 'its', 'their')} tracks (a personal app reads only the playlists you own or "
                      "collaborate on), so --seed-playlist and moods cluster cannot use "
                      f"{plural(unread, 'it', 'them')}: copy the tracks into a playlist of your own")


def _where(demo: bool, dataset: Path | None):
    """The library `similar` and the mood commands read, for their messages (a track not found
    there, or no audio features)."""
    from .explore import CACHE, DEMO, dataset_where
    if demo:
        return DEMO
    import shlex
    return CACHE if dataset is None else dataset_where(str(dataset), f"`recommend search --dataset "
                                                                     f"{shlex.quote(str(dataset))}`")


@command("similar", examples=("recommend similar --demo 'zombie cranberries'",
                              "recommend similar 'https://open.spotify.com/track/4u7EnebtmKWzUH433cf5Qv'"))
def similar_cmd(track: Annotated[str, typer.Argument(help="Track id, spotify:track: URI, link or search text.")],
                config: ConfigOpt = None, as_json: JsonRowsOpt = False, quiet: QuietOpt = False,
                limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many tracks.")] = 10,
                same_artist: Annotated[Optional[int], typer.Option("--same-artist", min=0, help="At most N tracks "
                                                                   "per artist (0 = no limit; default: "
                                                                   "similar.same_artist).")] = None,
                dataset: ExploreDatasetOpt = None, demo: DemoOpt = False) -> None:
    """Tracks most similar to one track, by the same blended scorers as build-playlist (plus audio
    features when present); each song once, never another version of the seed."""
    from . import libsource
    from .explore import TrackIndex, equal_matches, resolve_track, share_columns, sharing, similar_setup, similar_tracks
    settings, source, library = _explore_library(config, dataset, demo, quiet, as_json)
    with _Bar(_interactive(quiet, as_json), lazy=True) as bar:
        index = TrackIndex().from_index(libsource.search_index(source, library, bar))
    where = _where(demo, dataset)
    track_id = resolve_track(library, track, index=index, where=where)
    if not quiet:  # the title (or --json's rows) says which one it took: not that it had a choice
        _other_matches(equal_matches(library, track, track_id, index=index), track, where)
    scorers, weights, extra = similar_setup(settings, library)
    cap = settings.similar.same_artist if same_artist is None else same_artist
    df = similar_tracks(library, track_id, scorers, weights, n=limit, normalisation=settings.blend.normalisation,
                        same_artist=cap, extra=extra, where=where)
    if as_json:  # each row's shares also as build-playlist's --json gives them (the flat keys stay)
        names = share_columns(df)
        _print_json([{**r, "contributions": {c: r[c] for c in names}} for r in _records(df)])
        return
    row = library.tracks[library.tracks["track_id"] == track_id].iloc[0]
    title = f"Similar to {row['name']} - {', '.join(row['artist_names'])}"
    if df.empty:  # a library of this one song (its other versions left out): not an empty table
        _echo(f"{title}: no other song in {where.library} to compare it with")
        return
    # the id stays (whole: it can be pasted into the next `similar`); the scorers with a weight
    # get a (short-named) column when the terminal has NARROW columns, as build-playlist's table;
    # a narrower one leaves out the score before name, artists or the why
    shown = [{SHORT.get(c, c): v for c, v in r.items()} for r in df.to_dict("records")]
    scorer_cols = [SHORT.get(c, c) for c in sharing(df, weights)]
    if _term_width() < NARROW:
        scorer_cols = []
        title += f" ({NARROW_NOTE})"
    _print_rows(shown, title, ["track_id", "name", "artists", "score"] + scorer_cols + ["why"],
                {"name", "artists", "why"}, wide="why", drop=(*scorer_cols[::-1], "score"))


def _other_matches(others: list[str], text: str, where, to: str = "start from it") -> None:
    """The note of a free text that names several songs alike (``explore.equal_matches``), as
    `similar` and `moods near` start from one of them (`build-playlist --why` answers of one: ``to``
    says which): which, their titles say; the search that lists them reads the library ``where``
    names (with --dataset it named your cache's)."""
    if not others:
        return
    import shlex

    from .wording import plural
    search = "recommend search"
    options = where.search.strip("`").removeprefix(search)  # " --demo", " --dataset FILE" or ""
    # a text that reads as an option ("--help") is given after `--`, the options before it
    asked = f"{options} -- {shlex.quote(text)}" if text.startswith("-") else f" {shlex.quote(text)}{options}"
    _note(f"{len(others)} other {plural(len(others), 'song')} {'match' if len(others) > 1 else 'matches'} "
          f"{text!r} as well ("
          f"{', '.join(repr(o) for o in others[:3])}{', ...' if len(others) > 3 else ''}): give the id of one "
          f"(`{search}{asked}` lists them) to {to}")


def _print_exported(exported, demo: bool = False) -> None:
    """One line per mood playlist an export wrote, with its link (``demo``: a remark that the
    link names a playlist of the stand-in, as ``build-playlist --demo`` says of its own)."""
    for e in exported:
        _console().print(_safe(f"{'created' if e.created else 'updated'} {e.name!r} ({e.playlist_id}): added "
                               f"{e.added}, removed {e.removed}, kept {e.kept}; {playlist_url(e.playlist_id)}"))
    for e in exported:
        if e.note:
            _note(e.note)
    if exported and demo:
        _console().print(f"({DEMO_LINKS})")


DEMO_LINKS = "the demo's mood playlists live in the stand-in; a real run's links open in Spotify"


def _mood_kwargs(settings) -> dict[str, float]:
    m = settings.moods
    return {"valence_threshold": m.valence_threshold, "energy_threshold": m.energy_threshold}


@command("cluster", parent=moods_app, record="export", examples=("recommend moods cluster --demo 'Alex Workout' --plot moods.png",
                                               "recommend moods cluster 'Road Trip' Workout --export"))
def moods_cluster_cmd(playlists: Annotated[Optional[list[str]], typer.Argument(
                          help="Playlist names or ids (one or more: their tracks are blended).",
                          show_default=False)] = None,
                      config: ConfigOpt = None, as_json: JsonOpt = False, quiet: QuietOpt = False,
                      k: Annotated[Optional[int], typer.Option("--k", min=2, help="Number of moods "
                                                                                "(default: best silhouette).")] = None,
                      plot: Annotated[Optional[Path], typer.Option("--plot", parser=_file_to_write, metavar="PATH", help="Write a PNG scatter (PCA; "
                                                                                "a marker per playlist; .svg or "
                                                                                ".pdf for those).")] = None,
                      export: Annotated[bool, typer.Option("--export", help="Write each cluster to its own "
                                                                           "private playlist 'recommend: <mood>', "
                                                                           "updated in place.")] = False,
                      limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Tracks of each cluster the "
                                                         "table lists (0: all; --json gives every track).")] = 25,
                      dataset: ExploreDatasetOpt = None, demo: DemoOpt = False) -> None:
    """Cluster one or more playlists into moods (k-means + PCA; audio features when present, else text)."""
    from .moods import cluster_playlists, plot_clusters, plot_format
    started = time.monotonic()
    if export and dataset is not None:
        raise UsageError("--export writes to your Spotify account: it cannot be combined with --dataset")
    if plot:
        from .store import check_output
        plot_format(plot)  # an ending it cannot write, a folder that cannot be written: refused before the work
        check_output(plot)
    settings, source, library = _explore_library(config, dataset, demo, quiet, as_json, refs=playlists or ())
    named = source.label if dataset is not None or demo else None  # None: "your"
    if not playlists:  # a usage error that names some playlists (the demo's are nowhere else to see)
        from .moods import MIN_TRACKS
        from .pipeline import playlist_examples
        examples = playlist_examples(library, source=named, min_tracks=MIN_TRACKS)
        if examples.startswith(":"):  # none to choose from ("...: the last refresh found no playlists ...")
            raise UsageError(f"no playlist to cluster{examples}")
        # `recommend playlists` lists your account's, not a --dataset file's
        raise UsageError(f"no playlist given to cluster: choose{examples}"
                         + ("" if dataset is not None else f"; `recommend playlists{' --demo' if demo else ''}` lists "
                            "them all"))
    res = cluster_playlists(library, playlists, k=k, max_clusters=settings.moods.max_clusters,
                            source=named, where=_where(demo, dataset),
                            min_audio_share=settings.moods.min_audio_share, **_mood_kwargs(settings))
    if plot:
        _logging(settings, _state.quiet, _state.verbose, demo)  # a name's glyphs no font has: one line
        plot_clusters(res, plot)
    exported = []
    if export:
        from .jobs import mood_export
        _logging(settings, _state.quiet, _state.verbose, demo)  # writes to Spotify: log it like build-playlist
        names, members = res.names(), res.members()
        exported = mood_export(settings, library, {names[c]: members[c] for c in members}, res.playlist_name, demo=demo)
        _record_export(settings, "moods cluster --export", exported, started, demo)
    if as_json:
        _print_json({"playlist_id": res.playlist_id, "basis": res.basis, "k": res.k,
                     "silhouette": None if res.silhouette is None else round(res.silhouette, 4),
                     "axes": {"x": res.axes[0], "y": res.axes[1]},
                     "playlists": [{"id": i, "name": n} for i, n in res.playlists],
                     "with_audio_features": res.with_audio,
                     "clusters": _records(res.clusters),
                     "tracks": _records(res.tracks),
                     "exported": _exported_json(exported)})
        return
    note = " (weak structure: the moods overlap)" if res.silhouette is not None and res.silhouette < 0.1 else ""
    if res.k == 1:  # every track alike (the same audio features): no second mood to split off
        note = f" (the tracks' {res.basis} features are too alike to split into moods)"
    sil = "-" if res.silhouette is None else f"{res.silhouette:.2f}"
    from .wording import plural
    moods = f"{res.k} {plural(res.k, 'mood')}"
    # the playlists' names as `recommend playlists` shows them (invisible characters as escapes)
    title = f"{visible(res.playlist_name)}: {moods} from {res.basis} features, silhouette {sil}{note}"
    # a mood in words and in the numbers behind them: the cluster's mean valence and energy
    cols = [c for c in ("cluster", "size", "label", "valence", "energy") if c in res.clusters.columns]
    _print_rows(res.clusters.to_dict("records"), title, cols, {"label"}, wide="label", drop=("energy", "valence"))
    clustered = res.tracks[res.tracks["cluster"] >= 0].sort_values("cluster", kind="stable")
    # at most ``limit`` a cluster: 7,590 tracks were 30,000 lines
    tracks = (clustered.groupby("cluster", sort=False).head(limit) if limit else clustered).to_dict("records")
    for r in tracks:  # the playlist's name as the title and `recommend playlists` show it ("mood": the
        r["playlist"] = visible(r["playlist"])  # cluster's name, set by cluster_playlists, as --json has it)
    # one playlist clustered: its name is the title's, not a column repeating it on every row (a long
    # name wrapped to five lines a track)
    cols = (["cluster", "mood", "name", "artists"] + (["playlist"] if len(res.playlists) > 1 else [])
            + [c for c in ("valence", "energy") if c in res.tracks])
    _print_rows(tracks, "Tracks per mood cluster", cols, {"mood", "name", "artists", "playlist"}, wide="name",
                drop=("energy", "valence", "playlist", "cluster"))
    if len(tracks) < len(clustered):
        _echo_wrapped(f"{len(tracks)} of the {len(clustered)} clustered tracks listed, the first {limit} of each "
                      "cluster: -n 0 lists them all, --json gives every track")
    if res.basis == "text" and res.with_audio:  # features imported for some: why they were not used
        from .moods import MIN_TRACKS
        share = settings.moods.min_audio_share
        have = f"{res.with_audio} of the {len(res.tracks)} tracks (each recording once) {plural(res.with_audio, 'has', 'have')}"
        if res.with_audio < MIN_TRACKS:  # (whatever the share: "fewer than 1 % asks" of 3 in 42)
            _echo_wrapped(f"{have} audio features, and clustering by their sound needs at least {MIN_TRACKS}, so the "
                          "moods are of the tracks' words")
        else:
            _echo_wrapped(f"{have} audio features, fewer than moods.min_audio_share ({share:.0%}) asks, so the moods "
                          f"are of the tracks' words; a lower moods.min_audio_share clusters those {res.with_audio} "
                          "by their sound")
    left_out = int((res.tracks["cluster"] < 0).sum())  # clustered on audio: the tracks without features
    if left_out:
        from .tables import joined
        _echo_wrapped(f"{joined(left_out)} of the {joined(len(res.tracks), 'tracks')} have no audio features, so "
                      f"they are in no mood{' and in none of the playlists' if export else ''}; "
                      f"{_where(demo, dataset).features}")
    _print_exported(exported, demo)
    if plot:
        typer.echo(f"plot written to {plot}")


@command("near", parent=moods_app, examples=("recommend moods near --demo 'linger cranberries' -n 5",))
def moods_near_cmd(track: Annotated[str, typer.Argument(help="Track id, spotify:track: URI, link or search text.")],
                   config: ConfigOpt = None, as_json: JsonOpt = False, quiet: QuietOpt = False,
                   limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many tracks.")] = 10,
                   dataset: ExploreDatasetOpt = None, demo: DemoOpt = False) -> None:
    """Tracks nearest to one track in valence and energy (needs audio features)."""
    from .explore import equal_matches
    from .moods import mood_neighbours
    settings, _, library = _explore_library(config, dataset, demo, quiet, as_json)
    df = mood_neighbours(library, track, n=limit, where=_where(demo, dataset), **_mood_kwargs(settings))
    seed = df.attrs["seed"]
    if not quiet:  # as `similar` says it: "stay" took one of five songs, unsaid
        _other_matches(equal_matches(library, track, seed["track_id"]), track, _where(demo, dataset))
    if as_json:
        _print_json({"seed": seed, "tracks": _records(df)})
        return
    title = (f"Nearest in mood to {seed['name']} - {seed['artists']} (valence {seed['valence']:.3f}, "
             f"energy {seed['energy']:.3f}, {seed['mood']})")
    if df.empty:
        _echo(f"{title}: no other song in {_where(demo, dataset).library} has a valence and an energy")
        return
    _print_rows(df.to_dict("records"), title, ["rank", "name", "artists", "mood", "valence", "energy", "distance"],
                {"name", "artists"}, drop=("rank", "distance", "energy", "valence"))


@command("recommend", parent=moods_app, record="export", examples=("recommend moods recommend --mood calm -n 10",
                                                 "recommend moods recommend --valence 0.2 --energy 0.9",
                                                 "recommend moods recommend --mood sad --export"))
def moods_recommend_cmd(mood: Annotated[Optional[str], typer.Option("--mood", help="happy, energetic, calm or sad.")] = None,
                        config: ConfigOpt = None,
                        as_json: Annotated[bool, typer.Option("--json", help="Print the rows as one JSON list (for "
                                                              "scripts). With --export: one object, tracks and "
                                                              "exported.")] = False,
                        quiet: QuietOpt = False,
                        limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many tracks.")] = 20,
                        valence: Annotated[Optional[float], typer.Option(
                            "--valence", min=0.0, max=1.0, help="Instead of --mood: a point of the mood plane, "
                                                                "valence 0 (sad) to 1 (happy) ...")] = None,
                        energy: Annotated[Optional[float], typer.Option(
                            "--energy", min=0.0, max=1.0, help="... and energy 0 (calm) to 1 (intense).")] = None,
                        export: Annotated[bool, typer.Option("--export", help="Write the tracks to their own private "
                                                                             "playlist 'recommend: <mood>', updated "
                                                                             "in place.")] = False,
                        dataset: ExploreDatasetOpt = None, demo: DemoOpt = False) -> None:
    """Tracks closest to a valence/energy mood, nudged toward your taste (needs audio features)."""
    from . import jobs
    started = time.monotonic()
    point = (valence, energy) != (None, None)
    if point == (mood is not None) or (point and None in (valence, energy)):
        raise UsageError("give --mood, or --valence and --energy (a point of the mood plane)"
                         + (", not both" if point and mood is not None else ""))
    if export and dataset is not None:
        raise UsageError("--export writes to your Spotify account: it cannot be combined with --dataset")
    settings, _, library = _explore_library(config, dataset, demo, quiet, as_json)
    df, name = jobs.mood_list(settings, library, mood, valence, energy, n=limit, where=_where(demo, dataset))
    # the names the list is exported under: "calm" for --mood chill or Calm, never "-0" for --valence -0
    # a mood's list is of the point its quadrant's centre moved toward your taste: named, as the web
    # app's Moods page names it (the title said only "calm", above tracks of energy 0.35 to 0.45)
    tv, te = (_as_the_page_rounds(v, 2) for v in df.attrs["target"])
    title = (f"Tracks nearest {name}" if point else f"Tracks for {'an' if name[:1] in 'aeiou' else 'a'} {name} mood "
             f"(valence {tv}, energy {te})")
    exported = []
    if export:
        from .jobs import mood_export
        _logging(settings, _state.quiet, _state.verbose, demo)  # writes to Spotify: log it like build-playlist
        from .moodexport import LIBRARY
        exported = mood_export(settings, library, {name: list(df["track_id"])}, LIBRARY, demo=demo,
                              command="moods recommend --export")
        _record_export(settings, "moods recommend --export", exported, started, demo)
    rows = _records(df)
    if as_json:  # a list of tracks; with --export, the tracks and what the export did
        _print_json({"tracks": rows, "exported": _exported_json(exported)} if export else rows)
        return
    # a mood with fewer tracks than asked for is followed by the nearest of the others: their
    # moods stay in view at any width (valence and energy go first), and a line says where they start
    own = len(df) if point else int((df["mood"] == name).sum())
    _print_rows(df.to_dict("records"), title,
                ["rank", "name", "artists", "mood", "valence", "energy", "score"], {"name", "artists"},
                drop=("rank", "mood", "energy", "valence") if own == len(df) else ("rank", "energy", "valence", "mood"))
    if own < len(df):
        from .tables import joined
        _echo_wrapped(f"{name} has {joined(_rows(own, 'track'))}; the rest are the nearest of other moods")
    _print_exported(exported, demo)


@command("classify", parent=moods_app, examples=("recommend moods classify --json", "recommend moods classify --evaluate"))
def moods_classify_cmd(config: ConfigOpt = None, as_json: JsonOpt = False, quiet: QuietOpt = False,
                       limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Rows the table shows "
                                                                                        "(--json gives every track).")] = 20,
                       evaluate: Annotated[bool, typer.Option("--evaluate", help="Test the classifier even when "
                                                                                "every track has audio features.")] = False,
                       dataset: ExploreDatasetOpt = None, demo: DemoOpt = False) -> None:
    """Mood of every track: from audio features, else predicted if the classifier clearly beats guessing."""
    from .moods import classify_library, mood_counts
    settings, _, library = _explore_library(config, dataset, demo, quiet, as_json)
    m = settings.moods
    with _Bar(_interactive(quiet, as_json)) as bar:
        bar("training the mood classifier", 0, 1)
        df = classify_library(library, test_size=m.holdout, margin=m.classifier_margin, evaluate=evaluate,
                              where=_where(demo, dataset), **_mood_kwargs(settings))
        bar("training the mood classifier", 1, 1)
    report, untested = df.attrs.get("report"), df.attrs.get("untested")
    if as_json:
        _print_json({"classifier": _classifier_json(report) if report else None, "untested": untested,
                     "tracks": _records(df)})
        return
    if report is None and (df["source"] == "audio").all() and not untested:
        typer.echo("every track has audio features: no mood to predict (--evaluate tests the classifier anyway)")
    if untested:  # too few tracks with features to test it: say so, not a silent "no mood"
        unknown = int((df["source"] == "unknown").sum())
        _console().print(_safe(f"mood classifier not used, it cannot be tested: {untested}"
                               + (f"; {unknown} tracks without audio features get no mood" if unknown else "")))
    if report is not None:
        verdict = ("used for the tracks without audio features" if report.useful else
                   f"NOT used: it does not beat the baseline by {report.margin:.0%} with p < {report.alpha:g}; "
                   "tracks without audio features get no mood")
        _console().print(f"mood classifier on {report.n_test} held-out tracks: accuracy {report.accuracy:.1%}, "
                         f"always guessing {report.baseline_mood} {report.baseline:.1%} (binomial p = "
                         f"{report.p_value:.2g}): {verdict}")
        conf = report.confusion
        _print_rows([{"true": i, **{c: int(conf.at[i, c]) for c in conf.columns}} for i in conf.index],
                    "Confusion matrix (rows: true mood from audio features; columns: predicted)",
                    ["true"] + list(conf.columns), set())
    _print_rows(mood_counts(df), "Tracks per mood (audio: from audio features; predicted: by the classifier)",
                ["mood", "audio", "predicted", "total"], {"mood"})
    shown = [{**r, "mood": r["mood"] if isinstance(r["mood"], str) else "no mood"}  # not "nan"
             for r in df.head(limit).to_dict("records")]
    _print_rows(shown, f"first {limit} tracks",
                ["name", "artists", "mood", "source", "confidence"], {"name", "artists", "mood"},
                drop=("confidence", "source"))


TabfileOpt = Annotated[Optional[Path], typer.Option("--tabfile", hidden=True,
                                                    help="Edit this crontab file instead of the user's crontab.")]


@command("install", parent=schedule_app, examples=('recommend schedule install --at "0 7 * * *"',
                                                     "recommend schedule install --print"))
def schedule_install_cmd(
    at: Annotated[Optional[str], typer.Option("--at", help='Cron expression, e.g. "0 7 * * *".')] = None,
    print_only: Annotated[bool, typer.Option("--print", help="Print the cron line and a systemd timer; "
                                                            "change nothing.")] = False,
    config: ConfigOpt = None, tabfile: TabfileOpt = None,
) -> None:
    """Add (or replace) our one crontab entry running `build-playlist --quiet --no-input`."""
    from . import schedule
    from .paths import home_short
    settings = _settings(config)
    expr = schedule.validate_cron(at) if at is not None else schedule.configured_cron(settings)
    exe = schedule.default_executable()
    cfg = (config or _state.config or settings.user_file)
    cfg = Path(cfg).resolve() if cfg else None
    # one directory (cache.dir, RECOMMENDER_CACHE_DIR, a checkout's cache/) is passed on the line;
    # the platform state and cache dirs are found again by the scheduled run itself
    cache = Path(settings.cache_dir).resolve() if settings.data_dirs.single else None
    before = None if print_only else schedule.show(tabfile)  # no crontab to write fails before the config is touched
    cfg, written, notes = schedule.carry_settings(settings, cfg, cache, write=not print_only)
    carried, proxy_notes = schedule.proxy_environment()
    for note in notes + proxy_notes:
        _note(note)
    if written:
        _echo(f"wrote {', '.join(written)} to {cfg}: the scheduled run does not see your shell's environment")
    carried = {**schedule.xdg_environment(settings.data_dirs), **carried}
    given = f"the scheduled run is given your {', '.join(carried)} (cron and systemd do not see your shell's)"
    if carried and not print_only:
        _echo(given)
    if print_only:  # what was asked for, so printed with --quiet too (it printed nothing: a script's trap)
        def result(text: str) -> None:
            typer.echo(text, file=_state.stdout or sys.stdout)
        if carried:  # a comment of what is pasted (a bare line of it went into a crontab pasted whole)
            result(f"# {given}")
        result("# crontab line (crontab -e):")
        result(schedule.cron_line(expr, exe, cfg, cache, carried))
        for name, text in schedule.systemd_units(expr, exe, cfg, cache, carried).items():
            result(f"\n# {home_short(schedule.unit_dir() / name)}\n{text.rstrip()}")
        result("\n# then: systemctl --user daemon-reload && systemctl --user enable --now recommend.timer"
                   "\n# and, unless you stay logged in, let the timer run without a login session"
                   " (it also catches up a run missed while off or asleep: Persistent=true):"
                   '\n#   loginctl enable-linger "$USER"')
        return
    line, zone, _ = schedule.install(expr, exe, cfg, cache, tabfile=tabfile, env=carried)
    from .status import note_installed
    note_installed(settings.cache_dir, line)  # `status` then tells a line cron never started
    typer.echo(f"installed: {line}")
    if schedule.is_paused(before):  # said: the line was commented out to pause the runs
        _note("our crontab line was commented out (the schedule paused); it runs again now: comment it out "
              "again (`crontab -e`) to pause it, or `recommend schedule remove`")
    timer = schedule.timer_status()
    if timer and timer["enabled"]:  # a timer made from an older `--print`, say: both would run
        _note(schedule.two_schedules(timer))
    if zone and zone.strip():  # the user's own CRON_TZ line now applies to ours too
        from .tables import whole
        unknown = schedule.cron_zone(zone)[1] is not None  # cronie reads a name it does not know as UTC
        _note(f"the line CRON_TZ={visible(zone)} above ours in the crontab "
              + (f"names no time zone this computer knows, so cronie reads {whole(expr)} as UTC (Debian's and "
                 "Ubuntu's cron ignore it); correct it with `crontab -e`" if unknown else
                 f"makes cronie read {whole(expr)} in that zone (Debian's and Ubuntu's cron ignore it); "
                 "`recommend status` shows when it runs"))


@command("show", parent=schedule_app, examples=("recommend schedule show",), reads_config=False)
def schedule_show_cmd(tabfile: TabfileOpt = None) -> None:
    """Print our crontab entry, if any."""
    from . import schedule
    timer = schedule.timer_status()
    line = _crontab_beside(timer, lambda: schedule.show(tabfile))
    if line or not timer:
        if line:
            _echo(line)  # a crontab line: whole, as it is in the crontab
        else:
            from .tables import whole
            _echo_wrapped(f"no schedule installed (see {whole('`recommend schedule install --help`')})")
    if timer:
        _echo(f"systemd user timer: {timer['path']}" + (f" (OnCalendar={timer['on_calendar']})" if timer["on_calendar"] else ""))
    words = schedule.line_words(line) if line else []  # parsed once
    gone = schedule.missing_program(words)
    if gone:
        _err(f"warning: {schedule.program_gone(gone)}")
    config = schedule.missing_config(words)
    if config:
        _err(f"warning: {schedule.config_gone(config)}")


@command("remove", parent=schedule_app, examples=("recommend schedule remove",), reads_config=False)
def schedule_remove_cmd(tabfile: TabfileOpt = None) -> None:
    """Remove our crontab entry; every other line stays as it is."""
    from . import schedule
    timer = schedule.timer_status()
    removed = _crontab_beside(timer, lambda: schedule.remove(tabfile))
    if timer:  # not ours to remove: the user installed it from `--print`
        crontab = {True: "removed the crontab line", False: "no crontab line of ours",
                   None: "no `crontab` program, so no crontab line"}[removed]
        typer.echo(f"{crontab}; your systemd user timer {timer['path']} stays: `systemctl --user disable --now "
                   f"{schedule.UNIT_NAME}.timer` stops it")
    else:
        typer.echo("removed the schedule" if removed else "no schedule was installed")


def _crontab_beside(timer: dict[str, Any] | None, call) -> Any:
    """``call()`` on the crontab; None when there is no `crontab` program but our systemd user
    timer is there (a machine without cron, where the timer `--print` made is the schedule),
    rather than the error advising `--print`, which the user followed."""
    from . import schedule
    try:
        return call()
    except schedule.NoCrontabProgram:
        if timer is None:
            raise
        return None


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
        from .errors import StorageError
        if not StorageError.matches(exc):
            raise
        error = StorageError.from_os_error(exc)
        try:
            os.write(2, f"error: {error}\n".encode())
        except OSError:
            pass
        _silence_closed_output()  # (nothing more goes to that output, not even the flush at exit)
        raise SystemExit(error.exit_code) from None


def _late_stops_end_with(code) -> None:
    """After the command is done, a Ctrl-C or SIGTERM ends the process at once with the
    command's own exit code. Python takes about half a second to end after a demo run (its
    threads joined, its objects freed); a stop then ended the process by the signal (143 or
    130 to the shell) though the run was done and recorded as exit 0, and a `timeout` or cron
    wrapper counted a finished run as failed.

    From the exit handlers on, a stop is ignored instead: Python then puts back the default
    action in place of any handler of ours (no Python code runs any more) while it frees its
    modules, the slow part of ending, and a stop then still killed the process (130 or 143) a
    finished run; an ignored signal stays ignored, and the process ends by itself in that
    half second. (Ours is the last exit handler registered, so the first to run: the stdlib's
    ones, the log's flush among them, run after it.)"""
    import atexit
    import os
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        return
    status = code if isinstance(code, int) else 0 if code is None else 1

    def end(signum, frame) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a closed or full output: the code is what counts
                pass
        os._exit(status)

    def ignore() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, end)
    atexit.register(ignore)


def _reader_left(before) -> bool:
    """True when click (``PacifyFlushWrapper``) or rich (stdout pointed at /dev/null) gave up
    writing help or the version into a pipe whose reader left (`recommend -h | head -1`)."""
    import os
    if type(sys.stdout).__name__ == "PacifyFlushWrapper":  # click's, or typer's vendored click's
        return True
    try:
        now = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
    return before is not None and (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino)


def _fill_closed_standard_streams() -> None:
    """A run started with its output closed (cron's ``>&-``, ``2>&-``, ``<&-``) reads and writes
    /dev/null there: Python gave it no ``sys.stdout`` and the run stopped in a traceback, outside
    the log and the run record; and a file opened later (the log, the lock) could have taken the
    free descriptor and received what is printed."""
    import os
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            got = os.open(os.devnull, os.O_RDWR)
            if got != fd:
                os.dup2(got, fd)
                os.close(got)
        if getattr(sys, name) is None:
            stream = open(fd, mode, encoding="utf-8", errors="backslashreplace", closefd=False)
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)


def _escape_what_the_terminal_cannot_encode() -> None:
    """On a terminal that is not UTF-8 (a Latin-1 locale, PYTHONIOENCODING=ascii) a name it
    cannot encode is printed as a ``\\U0001f379`` escape instead of stopping the command."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, io.UnsupportedOperation):  # not a text file we may change
            pass
