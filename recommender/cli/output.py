"""What the CLI prints and how: errors and ``note:`` lines on stderr, results on stdout,
progress bars, tables that fit the terminal, ``--json``; names from strangers made safe to show."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from ..errors import RecommenderError
from ..safetext import json_safe, terminal_safe


class State:
    config: Path | None = None
    quiet = no_input = verbose = as_json = False  # given before the subcommand
    legacy_noted = False
    argv: list[str] = []  # the command line (``_Group.make_context``)
    stdout: Any = None  # the command's stdout before --quiet silences it (``_result``)
    recorded: str | None = None  # the command recorded its run as done (``_record``): what it was
    unrecorded: Any = None  # the StorageError of a run done whose record the disk refused (``_record``)


_state = State()


def _err(message: str) -> None:
    typer.echo(_shown(message, sys.stderr), err=True)


def _shown(message: str, stream) -> str:
    """``message`` made terminal-safe (``safetext``) and as the stream's encoding can show it
    (``tables.encodable``): click writes UTF-8 to a stream it finds set to ASCII, where the
    tables, laid out by rich, escape what it cannot encode (a name's "¡" came out as bytes
    that stream's reader could not decode)."""
    from ..safetext import redact
    from ..tables import encodable
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
    from ..runlog import SAID_ON_STDERR
    from ..tables import wrap_joined
    if message not in SAID_ON_STDERR:
        width = _stderr_width()
        _err(f"note: {message}" if width is None else wrap_joined(f"note: {message}", width))


def _stderr_width() -> int | None:
    """The width of the terminal stderr is: ``$COLUMNS`` when set, else the terminal's own;
    None when stderr is no terminal (a pipe, a file) and ``$COLUMNS`` is not set."""
    import os
    from ..tables import MIN_WIDTH
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
    from ..tables import wrap_joined
    _echo(wrap_joined(line, _term_width()))  # names from strangers (a config path too) made safe, as _echo does


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
    from ..tables import MIN_WIDTH
    return max(MIN_WIDTH, shutil.get_terminal_size((120, 24)).columns)


def _table(title: str, columns: list[str], rows: list[list[Any]], wide: str | None = None, width: int | None = None,
           drop: tuple[str, ...] = (), text: tuple[str, ...] | set[str] = ()):
    """A table that fits the terminal (``tables.fit_table``): ids and numbers whole, text
    wrapped (``wide`` gets the largest share), the ``drop`` columns left out in that order when
    the rest would not fit, one block per row when even that does not fit; ``text`` columns
    (names) are never taken for numbers."""
    from ..tables import fit_table
    return fit_table(title, columns, rows, width or _term_width(), wide=wide, drop=drop, text=text,
                     encoding=getattr(sys.stdout, "encoding", None))


SHORT = {"collaborative": "collab", "popularity": "popular", "opendata": "open"}
NARROW = 140  # below this many columns the build and similar tables leave out the per-scorer columns
NARROW_NOTE = f"each scorer's share of the score: on a terminal of {NARROW}+ columns or in --json"


def playlist_url(playlist_id: str) -> str:
    return f"https://open.spotify.com/playlist/{playlist_id}"


def _exported_json(exported) -> list[dict]:
    """The mood playlists an export wrote, each with its link (the text output shows it)."""
    return [{**e.to_dict(), "playlist_url": playlist_url(e.playlist_id)} for e in exported]


def _echo_labelled(lines: list[str]) -> None:
    """``label: value`` lines wrapped to the terminal under their values (``tables.hanging``):
    at 40 columns a path, a link or a run's summary no longer runs off the screen."""
    from ..tables import hanging
    width = _term_width()
    _echo("\n".join(hanging(line, width, 4 if line.startswith("  ") else 10) for line in lines))


def _rows(n: int, word: str = "row") -> str:
    from ..wording import plural
    return f"{n} {plural(n, word)}"


def _safe(value: Any):
    """A table cell for text from strangers: a rich Text (no markup), controls as visible escapes."""
    from rich.text import Text
    return Text(terminal_safe(value))


def _print_rows(rows: list[dict], title: str, columns: list[str], text: set[str], wide: str | None = None,
                drop: tuple[str, ...] = ()) -> None:
    """A table of dict rows: ``text`` columns escaped with ``_safe``, floats with 3 decimals;
    ``drop``: the columns a narrow terminal leaves out first (``_table``). A track's ``name`` or
    ``artists`` of spaces only is quoted (``wording.named``), as build-playlist's table shows it: a
    blank cell read as if the track had no name or artist."""
    from ..wording import named
    cells = [[_safe(named(str(r.get(c, ""))) if c in ("name", "artists") else r.get(c, "")) if c in text else
              (("-" if r.get(c) != r.get(c) or r.get(c) is None else f"{r[c]:.3f}")
               if isinstance(r.get(c), float) or r.get(c) is None else r.get(c)) for c in columns] for r in rows]
    _console().print(_table(_safe(title), columns, cells, wide=wide, drop=drop, text=text))


def _other_matches(others: list[str], text: str, where, to: str = "start from it") -> None:
    """The note of a free text that names several songs alike (``explore.equal_matches``), as
    `similar` and `moods near` start from one of them (`build-playlist --why` answers of one: ``to``
    says which): which, their titles say; the search that lists them reads the library ``where``
    names (with --dataset it named your cache's)."""
    if not others:
        return
    import shlex

    from ..wording import plural
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
