"""Spotify ids, URIs and open.spotify.com links as people paste them (stdlib only).

One grammar for every command that takes a reference: a link with or without ``https://``,
in any language (``intl-de/``), embedded (``embed/``), with or without its ``?si=`` tail.
"""

from __future__ import annotations

import re

# a Spotify id, a track's URI, and the start of an open.spotify.com link (any language, embedded)
ID_RE = re.compile(r"^[0-9A-Za-z]{22}$")
TRACK_URI_RE = re.compile(r"^spotify:track:([0-9A-Za-z]{22})$")
LINK_START = r"(?:https?://)?open\.spotify\.com/(?:intl-[a-z-]+/)?(?:embed/)?"
_TRACK_LINK_RE = re.compile(rf"^{LINK_START}track/([0-9A-Za-z]{{22}})(?:[/?#].*)?$")
PLAYLIST_LINK_RE = re.compile(rf"^(?:spotify:playlist:|{LINK_START}playlist/)([0-9A-Za-z]{{22}})(?:[/?#].*)?$")
# the short links the phone app's Share gives (spotify.link/..., once spoti.fi/...): only Spotify's
# servers know what they lead to
_SHORT_LINK_RE = re.compile(r"^(?:https?://)?(?:spotify\.link|spoti\.fi)/\S+$", re.IGNORECASE)
_KINDS = "track|album|artist|playlist|episode|show|user"
_REF_KIND_RE = re.compile(rf"^(?:{LINK_START}({_KINDS})/|spotify:({_KINDS}):)")


def spotify_ref_kind(text: str) -> str | None:
    """What a pasted Spotify link or URI names ("album", "track", "playlist", ...), None for
    other text: a command asking for one kind says it was given another (searched for as
    words or a name, an album link was "no match")."""
    m = _REF_KIND_RE.match(text.strip())
    return (m.group(1) or m.group(2)) if m else None


def is_short_link(text: str) -> bool:
    """Whether ``text`` is a Spotify short link (``https://spotify.link/...``), which names no id."""
    return bool(_SHORT_LINK_RE.match((text or "").strip()))


def parse_track_ref(text: str) -> str | None:
    """The bare track id in an id, a ``spotify:track:`` URI or an open.spotify.com track URL;
    None for anything else."""
    s = (text or "").strip()
    for rx in (ID_RE, TRACK_URI_RE, _TRACK_LINK_RE):
        m = rx.match(s)
        if m:
            return m.group(1) if m.groups() else m.group(0)
    return None
