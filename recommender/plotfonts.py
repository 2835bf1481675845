"""Fonts for the text of a plot: matplotlib's default font (DejaVu Sans) has no Chinese,
Japanese, Korean or Thai glyphs, and drew empty boxes for such names while warning "Glyph ...
missing from font(s)" once per character on the terminal. ``glyph_fonts`` finds installed
fonts that have the glyphs (matplotlib falls back to them glyph by glyph); ``quiet_glyphs``
keeps matplotlib's per-character warnings off the terminal, the one log line saying instead
what is still missing. Needs matplotlib, imported only when called: ``import_matplotlib``
imports it for drawing into files, whatever MPLBACKEND a terminal exports, and says each
"findfont: ... not found" once. ``keep_left_to_right`` keeps a chart's own words in order
around right-to-left names (Hebrew, Arabic).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings
from contextlib import contextmanager
from typing import Iterable, Iterator

from .safetext import RTL, left_to_right

log = logging.getLogger(__name__)

_charmaps: dict[str, frozenset[int]] = {}
_MISSING_GLYPH = re.compile(r"Glyph \d+ .* missing from (?:current )?font")  # matplotlib 3.8 says "current font"


def import_matplotlib(needs: str, *modules: str):
    """matplotlib (and its ``modules``, e.g. "matplotlib.figure"), for figures written to files
    only (the Agg canvas, never a window). MPLBACKEND is not read when it is imported: a
    Jupyter or VS Code terminal exports ``module://matplotlib_inline.backend_inline``, which
    matplotlib refuses outside the notebook (``import matplotlib`` raised "Key backend: ... is
    not a valid value for backend", a crash after the work was done); pyplot, when asked for,
    is set to Agg before it is imported. A UsageError saying that ``needs`` needs matplotlib,
    and how to install it, when it (or a part of it) is missing."""
    import importlib
    saved = os.environ.pop("MPLBACKEND", None) if sys.modules.get("matplotlib") is None else None
    try:
        import matplotlib
        if "matplotlib.pyplot" in modules:
            matplotlib.use("Agg")
        for name in modules:
            importlib.import_module(name)
    except ImportError:
        from .errors import UsageError
        from .paths import install_hint
        raise UsageError(f"{needs} needs matplotlib: {install_hint('report')}") from None
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved
    fonts = logging.getLogger("matplotlib.font_manager")
    if not any(isinstance(f, _EachOnce) for f in fonts.filters):
        fonts.addFilter(_EachOnce())
    return matplotlib


class _EachOnce(logging.Filter):
    """matplotlib logs "findfont: Font family 'Arial' not found." for every text it draws in a
    family its matplotlibrc names and the machine lacks: hundreds of lines on the terminal and
    in recommend.log for one plot. Each such message passes once."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith("findfont:"):
            return True
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


def _charmap(path: str) -> frozenset[int]:
    """The code points the font file at ``path`` has glyphs for (empty for one it cannot read)."""
    if path not in _charmaps:
        from matplotlib.ft2font import FT2Font
        try:
            _charmaps[path] = frozenset(FT2Font(path).get_charmap())
        except (OSError, RuntimeError, ValueError):
            _charmaps[path] = frozenset()
    return _charmaps[path]


def _drawn(texts: Iterable[str]) -> set[int]:
    """The code points of ``texts`` a font must draw (not spaces, controls or combining marks
    on their own: those come with their base's font)."""
    import unicodedata
    return {ord(c) for t in texts for c in str(t)
            if ord(c) > 0x7f and not c.isspace() and unicodedata.category(c)[0] not in "CM"}


def glyph_fonts(texts: Iterable[str]) -> tuple[list[str], list[str]]:
    """(font families, characters no installed font has): the default sans-serif font first,
    then as few installed fonts as cover the characters of ``texts`` it lacks (greedily, the
    one covering most first; ties by name). Families is just the default when it has every glyph."""
    from matplotlib import font_manager, rcParams
    wanted = _drawn(texts)
    default_path = font_manager.findfont(font_manager.FontProperties(family=rcParams["font.family"]))
    families = [font_manager.FontProperties(fname=default_path).get_name()]
    missing = wanted - _charmap(default_path)
    if missing:
        # not "Last Resort" (matplotlib's own): its glyphs are the boxes, with the code point in them
        fonts = sorted({(f.name, f.fname) for f in font_manager.fontManager.ttflist if "last resort" not in f.name.lower()})
        while missing:
            cover = [(len(missing & _charmap(path)), name, path) for name, path in fonts if name not in families]
            count, name, path = max(cover, key=lambda x: x[0], default=(0, "", ""))
            if not count:
                break
            families.append(name)
            missing -= _charmap(path)
    return families, [chr(cp) for cp in sorted(missing)]


def use_glyph_fonts(fig) -> None:
    """Every text of the matplotlib Figure ``fig`` drawn in ``glyph_fonts``' families; one log
    line naming the characters no installed font has (they stay empty boxes)."""
    from matplotlib.text import Text
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    families, missing = glyph_fonts(t.get_text() for t in texts)
    if len(families) > 1:
        for t in texts:
            t.set_fontfamily(families)
    if missing:
        some = "".join(missing[:8]) + ("…" if len(missing) > 8 else "")
        from .wording import plural
        log.warning("the plot shows %d %s as empty boxes (%s): no installed font has %s; install one that does "
                    "(e.g. %s)", len(missing), plural(len(missing), "character"), some,
                    "it" if len(missing) == 1 else "them", _font_hint(missing))


def _font_hint(missing: list[str]) -> str:
    """The fonts to name for the characters no installed font has: an emoji's (an emoji was
    told to install a font for Chinese, Japanese, Korean), a CJK one's, or both."""
    import unicodedata
    emoji = any(unicodedata.category(c) == "So" for c in missing)
    other = any(unicodedata.category(c) != "So" for c in missing)
    hints = (["Noto Sans CJK for Chinese, Japanese, Korean"] if other or not emoji else []) + \
        (["Symbola or Noto Emoji for emoji: a black-and-white one, as matplotlib draws no color font"] if emoji else [])
    return "; ".join(hints)


def lays_out_bidi() -> bool:
    """Does this matplotlib lay out right-to-left text (libraqm, from matplotlib 3.11 on)? An
    older one draws every text's letters left to right: a Hebrew name reads backwards."""
    from matplotlib import ft2font
    return bool(getattr(ft2font, "__libraqm_version__", None))


def keep_left_to_right(fig, names: Iterable[str] = ()) -> None:
    """Every text of the matplotlib Figure ``fig`` holding right-to-left letters made
    ``safetext.left_to_right`` when this matplotlib lays such text out; else one log line saying
    that those names are drawn with their letters left to right, and how to get them right.
    Without the marks "שירים + أغاني + Remix: 2 moods" took its first letter's direction: "2
    moods" was drawn at the left end, and the " + " between two names swapped them. ``names``
    (the playlists) are each marked as one piece wherever they stand, their commas their own."""
    from matplotlib.text import Text
    texts = [t for t in fig.findobj(Text) if RTL.search(t.get_text())]
    if not texts:
        return
    if not lays_out_bidi():
        import matplotlib
        log.warning("the plot draws %d right-to-left (Hebrew, Arabic) texts with their letters left to right: "
                    "matplotlib %s cannot lay them out; matplotlib 3.11 or newer can "
                    "(pip install -U matplotlib)", len(texts), matplotlib.__version__)
        return
    names = list(names)
    for t in texts:
        t.set_text(left_to_right(t.get_text(), names))


@contextmanager
def quiet_glyphs() -> Iterator[None]:
    """matplotlib's "Glyph N missing from font(s)" warnings (one per character and draw) kept
    off the terminal: ``use_glyph_fonts`` said it once."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_MISSING_GLYPH.pattern, category=UserWarning)
        yield
