"""How our messages count and list things in English: ``plural`` and ``and_list``.

A foundation module (stdlib only, imports nothing of ours), so that ``config`` and the other
foundations word their messages as the CLI's tables and the pipeline do.
"""

from __future__ import annotations

from typing import Any, Iterable


def plural(n: int, word: str, many: str | None = None) -> str:
    """``word`` as it goes with the count ``n``: itself for 1, else ``many`` (``word`` + "s"
    unless given): "1 request", "0 requests", "2 copies", "1 has", "3 have". The one place our
    messages make a word agree with a number."""
    if n == 1:
        return word
    return word + "s" if many is None else many


def named(name: str) -> str:
    """A name from a stranger as a sentence or a table cell shows it: as it is, or quoted when it
    has nothing to see (``"   "``, ``""``: a blank read as if the track or playlist had no name,
    or a gap in the sentence)."""
    return name if name.strip() else f'"{name}"'


def and_list(items: Iterable[Any]) -> str:
    """Words joined as a sentence lists them: "A", "A and B", "A, B and C"."""
    words = [str(i) for i in items]
    return " and ".join(words) if len(words) < 3 else f"{', '.join(words[:-1])} and {words[-1]}"


def configured_at(settings, key: str) -> str:
    """' at URL (KEY, from FILE)' when a config file or the environment set that service address
    (``spotify.api_url``, ``listenbrainz.api_url``, ...), for the messages that say a service cannot
    be reached or refused: a stand-in's address left behind after an offline trial is then plain
    to see (empty for the shipped address and the demo's own)."""
    source = settings.sources.get(key)
    if not source or source == "override":
        return ""
    from .safetext import hide_url_passwords  # a password in its user info shown as ***
    section, name = key.split(".")
    return f" at {hide_url_passwords(str(getattr(getattr(settings, section), name)))} ({key}, from {source})"


# a discovery source as the tables and pages name it (the others: their own word, "albums")
SOURCE_NAMES = {"similar_artists": "similar artists", "similar_recordings": "similar tracks"}


def source_name(source: object) -> str:
    """A recommendation's ``source`` as the CLI's table and the web app's Next page show it."""
    return SOURCE_NAMES.get(str(source), str(source))
