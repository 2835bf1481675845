"""Result tables that fit the terminal: the one layout every CLI table goes through.

``fit_table`` builds a rich renderable (the CLI prints it) no wider than ``width``:

- numbers and ids are never cut or wrapped (ids must stay copyable); text columns share what
  is left, the ``wide`` one (the "why", a name) the largest part, and wrap onto more lines;
- when the columns do not all fit at a readable width (``MIN_TEXT`` characters per text
  column, or its longest word up to ``WORD``; ``MIN_WIDE`` for the wide one), the columns
  the caller names in ``drop`` are left out, in that order, and a caption names them;
- when even the columns left do not fit, each row becomes a block of ``column  value`` lines
  (the columns not in ``drop``), so a 40-column terminal still shows every track, artist and
  "why" in full.

Every cell and the title go through ``terminal_safe`` (names come from strangers; rich markup
is never parsed: cells are ``Text``). rich is imported inside the functions (importing the CLI
stays light).
"""

from __future__ import annotations

from typing import Any, Collection, Sequence

from .safetext import LRM, RTL, left_to_right, terminal_safe, wrap_cells

MIN_WIDTH = 32  # a narrower terminal gets the 32-column layout: an id (22 characters) is never cut
MIN_TEXT = 10   # a text column narrower than this is worse than leaving a column out ...
WORD = 18       # ... or than splitting a word up to this long ("Cranberries", "energetic/intense") across lines
MIN_WIDE = 20   # the same for the ``wide`` column (the why, a name): below, it runs to 5+ lines
BORDER = 3      # rich's box: one rule and a space either side per column (and one more rule)


def is_id(column: str) -> bool:
    return column == "id" or column.endswith("_id")


def is_number(value: Any) -> bool:
    if isinstance(value, (int, float)):
        return True
    try:
        float(str(value))
        return True
    except ValueError:
        return str(value) == "-"


def fit_columns(columns: Sequence[str], cells: Sequence[Sequence[str]], width: int, wide: str | None = None,
                drop: Sequence[str] = (), text: Collection[str] = ()) -> tuple[list[int], dict[int, int] | None, set[int]]:
    """(the columns kept, in order; each kept column's width, or None when even the kept
    columns do not fit as a table; the columns shown whole) for plain-text ``cells``; the
    ``text`` columns are never taken for numbers (a track named "1999" is a name)."""
    from rich.cells import cell_len
    n = len(columns)
    need = [max([cell_len(columns[i])] + [cell_len(r[i]) for r in cells]) for i in range(n)]
    numeric = {i for i in range(n) if cells and columns[i] not in text and all(is_number(r[i]) for r in cells)}
    whole = numeric | {i for i in range(n) if is_id(columns[i])}

    def narrowest(i: int) -> int:  # the least width column i is readable at
        if i in whole:
            return need[i]
        word = max([cell_len(w) for r in cells for w in r[i].split()] + [0])
        least = max(MIN_TEXT, min(word, WORD))
        if columns[i] == wide:
            least = max(least, MIN_WIDE)
        return min(need[i], least)
    least = {i: narrowest(i) for i in range(n)}
    kept = list(range(n))
    order = [columns.index(c) for c in drop if c in columns]
    while BORDER * len(kept) + 1 + sum(least[i] for i in kept) > width:
        if not order:
            return kept, None, whole
        kept.remove(order.pop(0))
    wrapped = [i for i in kept if i not in whole]
    cap = {i: least[i] for i in wrapped}
    spare = width - BORDER * len(kept) - 1 - sum(least[i] for i in kept)
    share = {i: 2 if columns[i] == wide else 1 for i in wrapped}
    while spare > 0:  # share what is left out, 2:1 for the wide column, up to what each needs
        wanting = [i for i in wrapped if cap[i] < need[i]]
        if not wanting:
            break
        total = sum(share[i] for i in wanting)
        pot = spare
        for i in wanting:
            extra = min(need[i] - cap[i], max(1, pot * share[i] // total), spare)
            cap[i] += extra
            spare -= extra
    return kept, {i: cap.get(i, need[i]) for i in kept}, whole


def fold(text: str, width: int) -> str:
    """A wrapped cell's text with its line breaks put where rich's ``overflow="fold"`` puts
    them (at spaces; a word wider than the column on a line of its own, broken between
    characters), but never inside an escape (``wrap_cells``): a name shown as
    "Crossfit\\u200f\\u200f\\u200b" in a narrow column was "\\u200" on one line and "f" on the
    next. Spaces inside a line are kept as they are."""
    import re

    from rich.cells import cell_len
    out: list[str] = []
    for text_line in text.split("\n"):
        line = ""
        for token in re.findall(r"\s+|\S+", text_line):
            if token.isspace() or cell_len(line + token) <= width:
                line += token
                continue
            if line.strip():
                out.append(line.rstrip())
            line = token
            if cell_len(token) > width:
                *full, line = wrap_cells(token, width, cell_len)
                out.extend(full)
        out.append(line.rstrip() if cell_len(line) > width else line)
    return "\n".join(out)


def encodable(text: str, encoding: str | None) -> str:
    """``text`` as a terminal of ``encoding`` shows it (None: any, UTF-8): in NFC when that
    encodes ("Cafe" + a combining accent is the Latin-1 "é"), else what it cannot encode as the
    ``\\u65e5`` escapes the output stream would write, so a table is laid out with them, not
    with the characters they replace (the columns of a CJK name's row ran past the others)."""
    if not encoding or encoding.replace("-", "").replace("_", "").lower() in ("utf8", "utf16", "utf32"):
        return text
    import unicodedata
    try:
        return unicodedata.normalize("NFC", text).encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        return text


def fit_table(title: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]], width: int,
              wide: str | None = None, drop: Sequence[str] = (), text: Collection[str] = (),
              encoding: str | None = None):
    """A rich renderable of ``rows`` under ``columns``, at most ``width`` (at least MIN_WIDTH)
    characters wide; see the module docstring. ``encoding``: the terminal's (see ``encodable``)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text
    width = max(MIN_WIDTH, width)
    cells = [[encodable(terminal_safe(v.plain if hasattr(v, "plain") else v), encoding) for v in r] for r in rows]
    kept, widths, whole = fit_columns(columns, cells, width, wide, drop, text)
    left_out = [c for i, c in enumerate(columns) if i not in kept]
    note = (Text(f"left out at {width} columns: {', '.join(c or '(unnamed)' for c in left_out)} "
                 "(a wider terminal or --json has them)") if left_out else None)
    # a title joins names with our words ("A + B: 2 moods"): each name marked (``left_to_right``)
    # wrapped here at its spaces only, so a number stays beside what it counts ("0.2 s", ``joined``);
    # a line still wider (a name longer than the terminal, or as long once a terminal that is not
    # UTF-8 spells it in escapes) is folded as a cell is, never inside an escape
    heading = Text(left_to_right(fold(encodable(wrap_joined(title.plain if hasattr(title, "plain") else str(title),
                                                            width), encoding), width)))
    if widths is None:  # one block of "column  value" lines per row
        from rich.cells import cell_len
        label = width - max(cell_len(columns[i]) for i in kept) - 1  # the values' width, beside the column names
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column(overflow="fold")
        for n, r in enumerate(cells):
            if n:
                grid.add_row()
            for i in kept:
                grid.add_row(columns[i], Text(fold(r[i], label)))
        return LeftToRight(Group(*[x for x in (heading, grid, note) if x is not None]))
    # the title above the table, not rich's own (wrapped to the table's width: a narrow table's
    # title ran down the left third of a wide terminal, "Confusion matrix (rows: true mood from audio")
    heading.style = "table.title"
    t = Table(show_lines=False, caption=note, caption_justify="left")
    numeric = {i for i in whole if not is_id(columns[i])}
    for i in kept:  # each column its share, all of it: a wrapped one is as wide as rich made it before
        # ``fold`` made its lines, often shorter (the table shrank, and its caption wrapped narrower)
        t.add_column(columns[i], justify="right" if i in numeric else "left", overflow="fold", no_wrap=i in whole,
                     min_width=widths[i], max_width=widths[i])
    for r in cells:
        t.add_row(*[Text(r[i] if i in whole else fold(r[i], widths[i])) for i in kept])
    return LeftToRight(Group(heading, t) if heading.plain else t)


class LeftToRight:
    """A rich renderable whose lines holding right-to-left text (a Hebrew or Arabic name) start
    with a LEFT-TO-RIGHT MARK, and have one after each piece of that text: a terminal that
    applies the bidi algorithm (Konsole, mlterm, GNOME's with bidi on) then keeps the columns
    in their order. Without the marks the line took the name's direction (its first strong
    letter) and a number or id after the name joined its run: "| שירים | 56 |" showed the 56
    left of the name. A title has a mark after each name it holds (``fit_table``): "A + B"
    showed B first. The marks are zero-width; other lines are untouched."""

    def __init__(self, renderable) -> None:
        self.renderable = renderable

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement
        return Measurement.get(console, options, self.renderable)

    def __rich_console__(self, console, options):
        from rich.segment import Segment
        for line in console.render_lines(self.renderable, options, pad=False):
            if any(RTL.search(seg.text) for seg in line if not seg.control):
                yield Segment(LRM)
                for seg in line:
                    yield seg
                    if not seg.control and RTL.search(seg.text):
                        yield Segment(LRM)
            else:
                yield from line
            yield Segment.line()


NBSP = "\u00a0"


def joined(*words: Any) -> str:
    """Words that must stay on one line, a number and what it counts ("25 new", "365 Spotify
    requests"): joined by non-breaking spaces, which ``wrap_joined`` never breaks at."""
    return NBSP.join(str(w) for w in words)


def whole(text: Any) -> str:
    """A path or a command kept on one line by ``wrap_joined`` whatever spaces it holds
    ("~/Library/Application Support/recommend", "C:\\Users\\Anna Smith"), so a copy of it is whole."""
    return str(text).replace(" ", NBSP)


def wrap_joined(line: str, width: int) -> str:
    """Plain text wrapped to ``width`` cells at its spaces only (``hanging`` with no indent):
    the non-breaking joins of ``joined`` stay on one line and are printed as plain spaces."""
    return hanging(line, width, 0).replace(NBSP, " ")


def hanging(line: str, width: int, indent: int) -> str:
    """One ``label: value`` line of plain text wrapped at spaces to ``width`` terminal cells,
    its continuation lines indented by ``indent``. The label (the first word with the spaces
    after it) keeps the value's first word beside it. A word (a path, a link) is never split:
    one longer than the room left gets a line of its own and the terminal wraps it, so a copy
    of it stays whole. The text is made ``terminal_safe`` first."""
    import re

    from rich.cells import cell_len
    parts = re.match(r"(\s*\S+\s*)(.*)", terminal_safe(line), re.S)
    if parts is None:  # an empty or blank line: nothing to wrap
        return terminal_safe(line)
    head, value = parts.groups()
    words = value.split(" ")
    out, current = [], head + words[0]
    for word in words[1:]:
        candidate = f"{current} {word}"
        if cell_len(candidate) > width and current.strip():
            out.append(current)
            candidate = " " * indent + word
        current = candidate
    out.append(current)
    return "\n".join(out)
