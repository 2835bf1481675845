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


def visible(value: Any) -> str:
    """``terminal_safe``, and every other invisible character too (format, separator and
    unassigned code points such as zero-width spaces: Unicode categories C* and Z* but the
    plain space) as a ``\\uXXXX`` escape, so that a name can be told apart and typed back."""
    import unicodedata
    return "".join(c if c == " " or unicodedata.category(c)[0] not in "CZ" else f"\\u{ord(c):04x}"
                   for c in terminal_safe(value))


def json_safe(text: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``, which escapes C0 controls
    itself) with DEL, C1 controls and bidi/line-separator characters written as ``\\uXXXX``
    escapes: the same data for a JSON reader, nothing raw for a terminal."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def html_safe(value: Any) -> str:
    """Text for an HTML page (element content or a quoted attribute value)."""
    return html.escape(terminal_safe(value), quote=True)
