"""Text from strangers, made safe to show: one function for the terminal, one for HTML.

Track, artist and playlist names (and anything else that came from Spotify, a CSV or a user's
file) may hold rich markup (``[/]``, ``[link=...]``), terminal escapes (``ESC [2J``, OSC title
or hyperlink sequences), BEL, NUL, CR, C1 controls or bidirectional overrides. ``terminal_safe``
shows every such character as a visible escape (``\\x1b``, ``\\u202e``), so the text is printed
literally and nothing in it reaches the terminal as a control; the CLI prints with rich markup
off, so brackets stay brackets. ``html_safe`` does the same, then ``html.escape``.

Shown among our own words, such names also need: ``left_to_right`` (marks that keep a line in
order around Hebrew or Arabic names), ``wrap_cells`` (lines of a width measured by the caller:
a Chinese character is two letters wide, an accent none), ``cut`` (never inside a character).

Credentials are strangers' text too where a service's answer quotes them back: ``redact``
hides them (bearer and basic values, Authorization headers, tokens, codes, the configured
secrets ``remember_secrets`` was given), for the log and for every message that quotes an answer.

Stdlib only: any module may import it (widths are measured by rich's ``cell_len``, which a
caller passes in, as ``tables`` measures them).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any, Callable, Iterable

# ----- credentials ---------------------------------------------------------------------------
REDACTED = "***"
# (a credential is 16 characters or more: "Basic Beats", a playlist's name, is no header)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]{16,}=*")
_KEY_VALUE = re.compile(
    r"""(?ix)
    (["']?\b(?:access_token|refresh_token|client_secret|code_verifier|id_token)\b["']?
     \s*[:=]\s*["']?)
    (?!(?:null|none|~)(?:["'\s&,;}]|$))  # no value at all ("client_secret: null" of `config show`)
    [^"'\s&,;}]+""")
_AUTH_CODE = re.compile(r"(?i)([?&]code=)[^&\s\"']+")
_QUOTED_CODE = re.compile(r"""(["']code["']\s*:\s*["'])[^"']+""")  # a form body as a dict (spotipy at -v)
# any Authorization header's value (ListenBrainz's "Token ...", whatever the scheme)
_AUTHORIZATION = re.compile(r"""(?i)(\bauthorization\b["']?\s*[:=]\s*["']?)[^"'\r\n,}]+""")
_LONG_TOKEN = re.compile(r"[A-Za-z0-9_\-]{80,}")  # Spotify tokens and codes are 100+ chars
# the password of a URL's user info ("http://user:PASSWORD@host/"): up to the address's last "@"
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^/?#@\s:]*:)[^/?#\s]*@")


_SECRETS: tuple[str, ...] = ()  # the configured secrets of this process (``remember_secrets``)


def remember_secrets(secrets: Iterable[str]) -> None:
    """The configured secrets (client secret, ListenBrainz token) ``redact`` replaces verbatim
    from now on (``runlog.setup_logging`` gives them, as each command sets up its log)."""
    global _SECRETS
    _SECRETS = tuple(s for s in secrets if s)


def hide_url_passwords(text: str) -> str:
    """``text`` with the password of each URL in it ("http://user:secret@host/v1") replaced by
    *** ("http://user:***@host/v1"): a service address set with credentials in it (config,
    environment) is shown so wherever the tool shows or logs it."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with bearer/basic credentials, any Authorization value, token and secret values,
    URLs' passwords and authorization codes replaced by ***; ``secrets`` and the remembered ones
    (``remember_secrets``) are replaced verbatim. The log's every line goes through it, and so
    does a service's answer quoted in a message (a server that repeats the request's
    credentials back printed them in an error line, a note, --json and the manifest)."""
    for secret in (*secrets, *_SECRETS):
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + REDACTED, text)
    text = _KEY_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _AUTH_CODE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _QUOTED_CODE.sub(lambda m: m.group(1) + REDACTED, text)
    text = hide_url_passwords(text)
    return _LONG_TOKEN.sub(lambda m: m.group(0) if _no_token(m.group(0)) else REDACTED, text)


def _no_token(run: str) -> bool:
    """Whether a long run of token characters is not one: words joined by "_" (ListenBrainz's
    algorithm names, 90 characters: hidden, an unknown one's message named '***'), which no
    token is (a random 100-character one holds two "_" in all, on average), or a run without a
    digit (a playlist named with 80 letters and no space showed as '***'), which no token of
    that length is either (a random one lacks digits once in 25 million)."""
    parts = run.split("_")
    return (len(parts) >= 5 and max(map(len, parts)) <= 12) or not any(c.isdigit() for c in run)


# C0 controls, DEL, C1 controls; line/paragraph separators; bidi embeddings, overrides and
# isolates (they reorder what follows them on the line).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f]")
_UNSAFE_KEEP_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f]")


LRM = "\u200e"  # LEFT-TO-RIGHT MARK: a strong left-to-right character, zero columns wide
# strong right-to-left letters (Hebrew, Arabic, Syriac, Thaana, N'Ko, Samaritan..., their
# presentation forms and the historic scripts of the SMP)
_RTL_LETTERS = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff"
RTL = re.compile(f"[{_RTL_LETTERS}]")
# a piece of right-to-left text, a name in a line of other words: from a right-to-left letter to
# the last such letter, digit or closing bracket before a separator of the words around it
# (" + ", ", ", ": ", "/", "·", an arrow, a table's rule) or the line's end; its spaces, quotes,
# brackets and numbers are its own ('להקת הנח"ל', "שיר (גרסה חדשה)", "שירים 2020")
_RTL_PIECE = re.compile(f"[{_RTL_LETTERS}](?:[^+,:;/·│←→\n]*[{_RTL_LETTERS}0-9)\\]}}])?")


def left_to_right(text: str, names: Iterable[str] = ()) -> str:
    """``text`` whose lines holding right-to-left letters start with a LEFT-TO-RIGHT MARK and
    have one after each piece of that text (a Hebrew or Arabic name), so a line of our own words
    around names keeps its left-to-right order and each name reads right to left in its place:
    what follows a name, a number or the " + " before the next name, no longer joins its run
    (a bidi renderer drew "A + B: 2 moods" as "2 moods :B + A"). ``names`` found in the text are
    each one piece, whatever they hold ("אהבה, חלק 2"); elsewhere a piece ends at a separator."""
    if not RTL.search(text):
        return text
    known = sorted({n for n in names if n and RTL.search(n)}, key=len, reverse=True)
    parts = re.split("(" + "|".join(map(re.escape, known)) + ")", text) if known else [text]
    marked = "".join(part + LRM if i % 2 else _RTL_PIECE.sub(lambda m: m.group(0) + LRM, part)
                     for i, part in enumerate(parts))
    return "\n".join(LRM + line if RTL.search(line) else line for line in marked.split("\n"))


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


_SURROGATE = re.compile("[\ud800-\udfff]")


def whole_characters(data: Any) -> Any:
    """``data`` decoded from JSON with every lone surrogate in its strings (JSON's ``"\\ud800"``
    with no partner: a name Spotify or MusicBrainz holds) made U+FFFD, the replacement
    character: no file, table or terminal can write one (UTF-8 has no such character; a refresh
    stopped on the first, "surrogates not allowed"). A pair, one character, is not a surrogate
    once decoded. Dicts and lists are rebuilt only where they hold one.

    Every answer of every service passes here, nearly all without a lone surrogate: the answer
    written out again by the C encoder (which keeps a lone surrogate as it is, with
    ``ensure_ascii=False``) and encoded as UTF-8 (which refuses one) tells, and only an answer
    holding one is walked in Python: about half the time (a 50-track page of a playlist's items:
    1.1 ms, walked 2.0 ms)."""
    if isinstance(data, (dict, list)):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
            return data
        except (UnicodeEncodeError, TypeError, ValueError):  # a lone surrogate (or not JSON's types)
            pass
    return _whole(data)


def _whole(data: Any) -> Any:
    if isinstance(data, str):
        return _SURROGATE.sub("\ufffd", data) if _SURROGATE.search(data) else data
    if isinstance(data, dict):
        fixed = {k: _whole(v) for k, v in data.items()}
        return data if all(fixed[k] is v for k, v in data.items()) else fixed
    if isinstance(data, list):
        fixed = [_whole(v) for v in data]
        return data if all(a is b for a, b in zip(fixed, data)) else fixed
    return data


def html_safe(value: Any) -> str:
    """Text for an HTML page (element content or a quoted attribute value)."""
    return html.escape(terminal_safe(value), quote=True)


_ESCAPE_TAIL = re.compile(r"\\(?:x[0-9a-f]?|u[0-9a-f]{0,3}|U[0-9a-f]{0,7})?$")
# one whole escape of ``terminal_safe`` or ``visible`` (or of an encoding's backslashreplace):
# "\\x1b", "\\u200b", "\\U000e0067"; any case of hex digits, as a user may type one back
_ESCAPE_AT = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))")


def unescape_shown(text: str) -> str:
    """``text`` with the ``\\uXXXX``, ``\\UXXXXXXXX`` and ``\\xXX`` escapes ``terminal_safe`` and
    ``visible`` show a name's invisible characters as turned back into those characters (an
    escape of no character kept), so that a name copied from `recommend playlists` is found."""
    def char(m: re.Match) -> str:
        code = int(next(g for g in m.groups() if g), 16)
        return chr(code) if code <= 0x10FFFF else m.group(0)
    return _ESCAPE_AT.sub(char, text)


def _regional(c: str) -> bool:
    return 0x1F1E6 <= ord(c) <= 0x1F1FF  # a flag is a pair of these regional letters ("🇯🇵": J, P)


def _pieces(word: str) -> Iterable[str]:
    """``word``'s characters, each escape (``\\u200f``) and each flag (a pair of regional
    letters, taken in pairs from the start of their run) one piece: a line never breaks inside it."""
    i = 0
    while i < len(word):
        m = _ESCAPE_AT.match(word, i)
        if m:
            j = m.end()
        elif _regional(word[i]) and i + 1 < len(word) and _regional(word[i + 1]):
            j = i + 2
        else:
            j = i + 1
        yield word[i:j]
        i = j


def _joins(prev: str, c: str) -> bool:
    """True when ``c`` belongs to the character (grapheme) that ``prev`` is part of."""
    import unicodedata
    o = ord(c)
    return (unicodedata.category(c) in ("Mn", "Mc", "Me") or o == 0x200D or prev == "\u200d"
            or 0xFE00 <= o <= 0xFE0F or 0x1F3FB <= o <= 0x1F3FF or 0xE0020 <= o <= 0xE007F)


def wrap_cells(text: str, width: int, cells: Callable[[str], int]) -> list[str]:
    """``text`` on lines at most ``width`` wide as ``cells`` measures them (rich's
    ``cell_len``: a terminal's columns, near enough for a chart's font too), broken at spaces;
    a word wider than that (a Japanese title has no spaces) is broken between characters, never
    inside one drawn from several code points (a letter and its accent, an emoji joined by
    ZWJ, a flag) nor inside an escape ("\\u200f" broken as "\\u200" and "f" reads as another character).
    ``textwrap`` counts code points: a line of 34 Chinese characters was twice as wide as
    one of 34 letters."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and cells(line) + 1 + cells(word) <= width:
            line += " " + word
            continue
        if line:
            lines.append(line)
        line = ""
        for c in _pieces(word):  # a word of its own: broken only where it must be
            if line and cells(line + c) > width and not _joins(line[-1], c[0]):
                lines.append(line)
                line = ""
            line += c
    if line:
        lines.append(line)
    return lines


def cut(text: str, limit: int, mark: str = "…") -> str:
    """``text`` whole when it has at most ``limit`` characters, else cut to fewer with ``mark``
    after it, never inside a character drawn from several code points (a letter and its accent,
    an emoji joined by ZWJ, a flag's two letters, a skin tone) nor inside a ``\\\\uXXXX``
    escape of ``visible``: an NFD "Björk" cut after its "o" lost the umlaut, "👨‍👩‍👧" cut after a
    joiner drew two people."""
    if len(text) <= limit:
        return text
    end = max(limit - len(mark), 0)
    while 0 < end < len(text) and _joins(text[end - 1], text[end]):
        end -= 1
    regional = 0
    while end - regional - 1 >= 0 and _regional(text[end - regional - 1]):
        regional += 1
    end -= regional % 2  # a flag is a pair of regional letters: not half of one
    tail = _ESCAPE_TAIL.search(text[:end])
    if tail:
        end = tail.start()
    return text[:end].rstrip() + mark


def header_safe(text: str) -> bool:
    """True when ``text`` can go in an HTTP header as it is: Latin-1 without control characters
    (http.client encodes headers as Latin-1, so "Łukasz" made every request raise
    UnicodeEncodeError, and a line break is refused as a header injection)."""
    return all(" " <= c <= "~" or "\xa0" <= c <= "\xff" for c in text)
