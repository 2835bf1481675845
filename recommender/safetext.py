"""Text from strangers, made safe to show: one function for the terminal, one for HTML.

Track, artist and playlist names (and anything else that came from Spotify, a CSV or a user's
file) may hold rich markup (``[/]``, ``[link=...]``), terminal escapes (``ESC [2J``, OSC title
or hyperlink sequences), BEL, NUL, CR, C1 controls or bidirectional overrides. ``terminal_safe``
shows every such character as a visible escape (``\\x1b``, ``\\u202e``), so the text is printed
literally and nothing in it reaches the terminal as a control; the CLI prints with rich markup
off, so brackets stay brackets. ``html_safe`` does the same, then ``html.escape``.

Stdlib only: any module may import it.
"""

from __future__ import annotations

import html
import re
from typing import Any

# C0 controls, DEL, C1 controls; line/paragraph separators; bidi embeddings, overrides and
# isolates (they reorder what follows them on the line).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f]")
_UNSAFE_KEEP_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f]")


def _escape(match: re.Match) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(value: Any, keep_newlines: bool = False) -> str:
    """``str(value)`` with every control character written as a visible escape.

    ``keep_newlines`` leaves ``\\n`` alone (multi-line messages of our own); everything else,
    CR and TAB included, is escaped. Idempotent: safe text passes through unchanged.
    """
    text = value if isinstance(value, str) else str(value)
    return (_UNSAFE_KEEP_NEWLINE if keep_newlines else _UNSAFE).sub(_escape, text)


_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f]")


# an emoji (a pictograph, maybe with its presentation selector or skin tone) on each side of a
# ZERO WIDTH JOINER: the joiner is part of one picture ("👨‍👩‍👧", "🏳️‍🌈"), not an invisible character
_EMOJI = "\u2600-\u27bf\U0001f000-\U0001faff"
_EMOJI_ZWJ = re.compile(f"(?<=[{_EMOJI}\ufe0f\U0001f3fb-\U0001f3ff])\u200d(?=[{_EMOJI}])")
# the tag letters of a subdivision flag ("🏴 g b s c t ␡": Scotland's)
_FLAG_TAGS = re.compile("(?<=\U0001f3f4)[\U000e0020-\U000e007f]+")


def visible(value: Any) -> str:
    """``terminal_safe``, and every other invisible character too (format, separator and
    unassigned code points such as zero-width spaces: Unicode categories C* and Z* but the
    plain space) as a ``\\uXXXX`` escape, so that a name can be told apart and typed back.
    The joiners and tags inside an emoji ("👨‍👩‍👧", a subdivision flag) are kept: they draw one
    picture, and "👨\\u200d👩\\u200d👧" showed none."""
    import unicodedata
    text = terminal_safe(value)
    keep = {m.start() for m in _EMOJI_ZWJ.finditer(text)}
    keep |= {i for m in _FLAG_TAGS.finditer(text) for i in range(m.start(), m.end())}
    return "".join(c if c == " " or i in keep or unicodedata.category(c)[0] not in "CZ"
                   else f"\\u{ord(c):04x}" if ord(c) <= 0xffff else f"\\U{ord(c):08x}"  # "\\ue0067" read as \\ue006 7
                   for i, c in enumerate(text))


def json_safe(text: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``, which escapes C0 controls
    itself) with DEL, C1 controls and bidi/line-separator characters written as ``\\uXXXX``
    escapes: the same data for a JSON reader, nothing raw for a terminal."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def html_safe(value: Any) -> str:
    """Text for an HTML page (element content or a quoted attribute value)."""
    return html.escape(terminal_safe(value), quote=True)
