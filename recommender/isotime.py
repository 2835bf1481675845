"""ISO-8601 times read back: the manifest's and the caches' times, runs.jsonl, the lock record
and Spotify's ``added_at`` column, all with one rule (stdlib only; pandas inside ``utc_times``).

A time with a ``Z`` or an offset is converted to UTC; one without (naive: a hand edit, an
import) is taken as UTC, as every time this tool writes is UTC; anything else is not a time.
Every reader here treats a bad time as "unknown" (an age to re-check, a run without its time),
so ``time_or_none`` is what they call; ``parse_time`` raises for a caller that must fail.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

_clock: Callable[[], datetime] | None = None  # set_clock's; None: the system clock


def utc_now() -> datetime:
    """The current time, aware UTC: the one place the tool reads "now" for the times it
    writes and the ages it compares (cache age, TTLs, re-check intervals, recent saves, the run
    log, the playlist description's date). ``set_clock`` replaces it."""
    return _clock() if _clock is not None else datetime.now(timezone.utc)


def system_now() -> datetime:
    """The machine's time, aware UTC, whatever ``set_clock`` says: for a time compared with the
    kernel's (the lock record's start, against the start time of the process that holds it)."""
    return datetime.now(timezone.utc)


def local_today() -> date:
    """Today's date where this machine is (``date.today()``), by ``utc_now``."""
    return utc_now().astimezone().date()


def set_clock(clock: Callable[[], datetime] | None) -> Callable[[], datetime] | None:
    """Make ``utc_now`` call ``clock`` (an aware datetime; None: the system clock again), so a
    simulation can run weeks of daily runs in seconds; returns the clock it replaced."""
    global _clock
    old, _clock = _clock, clock
    return old


def shown(moment: datetime) -> str:
    """A time as every message and page shows it: '2026-11-30 07:00 UTC'."""
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"


def shown_text(value: Any) -> str:
    """``shown`` of a stored time (ISO text, a datetime); text that reads as no time (a file
    edited by hand) as it is, None as ''."""
    moment = time_or_none(value)
    return shown(moment) if moment is not None else ("" if value is None else str(value))


def parse_time(value: Any) -> datetime:
    """``value`` (an ISO-8601 text, or a datetime) as an aware UTC datetime; ValueError naming
    the value when it is not one (None, a number, an empty or unreadable text)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            then = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return then.replace(tzinfo=timezone.utc) if then.tzinfo is None else then.astimezone(timezone.utc)
    raise ValueError(f"{value!r} is not an ISO-8601 time")


def time_or_none(value: Any) -> datetime | None:
    """``parse_time``, or None for a missing or unreadable value."""
    try:
        return parse_time(value)
    except ValueError:
        return None


# how far ahead of "now" a stamp is still believed: a clock set back a little, a date written in
# another time zone (a local date, after a flight west); further ahead, the clock was wrong
TRUSTED_AHEAD = timedelta(days=1)


def age_seconds(stamp: Any, now: datetime | date | None = None) -> float | None:
    """How long before ``now`` (a date: its midnight UTC; default ``utc_now``) ``stamp`` (an ISO
    time or a datetime, or a date: its midnight UTC) was, in seconds: 0 for a stamp ahead of
    ``now`` by up to ``TRUSTED_AHEAD`` (believed: just now), None for a missing or unreadable one
    and for one further ahead (written by a clock that was wrong: its age is as unknown as an
    unreadable one's). The one age of every stamp read back: the memories' (``younger_than``),
    the cache's (``Store.age_hours``, ``recommend status``)."""
    then = time_or_none(stamp)
    if then is None:
        return None
    if isinstance(now, date) and not isinstance(now, datetime):
        now = datetime(now.year, now.month, now.day, tzinfo=timezone.utc)
    now = now or utc_now()
    if then - now > TRUSTED_AHEAD:
        return None
    return max((now - then).total_seconds(), 0.0)


def younger_than(stamp: Any, days: float, now: datetime | date | None = None) -> bool:
    """Whether something remembered at ``stamp`` (an ISO time or a datetime, or a date: its
    midnight UTC) is still remembered: less than ``days`` days before ``now`` (a date: its
    midnight; default ``utc_now``), by ``age_seconds``. A missing or unreadable stamp is
    remembered no longer, and so is one more than ``TRUSTED_AHEAD`` after ``now``: written by a
    clock that was wrong, its age is as unknown as an unreadable one's, and believed it would
    last as long as the clock was off (years, for a clock set years ahead); asked again, it is
    stamped anew. The one rule of every "not again for N days" memory (a 403 of /audio-features,
    a pick greyed out in Spotify, the genre probe of artists, discovery's albums re-check,
    MusicBrainz genre look-ups) and of the open-data cache's TTLs
    (``services.cache.AnswerCache.fresh``)."""
    age = age_seconds(stamp, now)
    return age is not None and age < days * 86400


def remembered_until(stamp: Any, days: float, now: datetime | date | None = None) -> datetime | None:
    """When a memory stamped at ``stamp`` (an ISO time, or a date: its midnight UTC) ends:
    ``days`` days later; None for a missing or unreadable stamp and for one ``younger_than``
    does not believe (more than ``TRUSTED_AHEAD`` after ``now``, default ``utc_now``)."""
    then = time_or_none(stamp)
    return None if then is None or age_seconds(then, now) is None else then + timedelta(days=days)


def believed_time(stamp: Any, now: datetime | None = None) -> datetime | None:
    """``stamp`` (an ISO time or a datetime) as the time it says, for a time shown or counted
    back from ``now`` (default ``utc_now``): ``now`` for a stamp ahead of it by up to
    ``TRUSTED_AHEAD`` (believed: just now, never shown as a time to come), None for a missing
    or unreadable one and for one further ahead (written by a clock that was wrong: unknown),
    by ``age_seconds``."""
    then = time_or_none(stamp)
    now = now or utc_now()
    return None if then is None or age_seconds(then, now) is None else min(then, now)


def utc_times(column):
    """A pandas column of ISO-8601 texts as UTC timestamps, by the same rule (any mix of
    shapes: pandas otherwise takes the first row's shape for all and drops the rest); NaT where
    missing or unreadable."""
    import pandas as pd
    return pd.to_datetime(column.astype(object), utc=True, errors="coerce", format="ISO8601")


def iso_utc(moment: datetime) -> str:
    """``moment`` as the tool writes times: ISO 8601 in UTC, to the second."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()
