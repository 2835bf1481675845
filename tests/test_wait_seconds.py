"""A server's wait (Retry-After, X-RateLimit-Reset-In) is read by one function: odd values fall
back to our own back-off instead of reaching time.sleep (which raises on NaN or a negative)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
from spotipy.exceptions import SpotifyException

from recommender.errors import wait_seconds
from recommender.services.http import JsonService
from recommender.spotify.gateway import _retry_after


@pytest.mark.parametrize("value, expected", [
    ("120", 120.0), ("0.5", 0.5), (3, 3.0), ("0", 0.0),
    ("-5", 0.0),  # a wait in the past: now
    ("nan", None), ("inf", None), ("-inf", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # an HTTP date in the past: now
    ("Wed, 99 Oct 2015 07:28:00 GMT", None), ("", None), (None, None), ([], None),
])
def test_wait_seconds(value, expected):
    assert wait_seconds(value) == expected


def test_a_retry_after_given_as_an_http_date_is_the_time_until_then():
    """RFC 9110 lets Retry-After be a date: it was read as no value, so a ListenBrainz or
    MusicBrainz asking for a day (a proxy's 429 or 503 says it so) was asked again within seconds."""
    from email.utils import format_datetime
    from datetime import datetime, timedelta, timezone
    now = datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)
    date = format_datetime(now + timedelta(days=1), usegmt=True)
    assert wait_seconds(date, now=now.timestamp()) == 86400.0
    header = JsonService._header_seconds(SimpleNamespace(headers={"Retry-After": format_datetime(
        datetime.now(timezone.utc) + timedelta(days=1), usegmt=True)}), "Retry-After")
    assert 86000 < header <= 86400


@pytest.mark.parametrize("value", ["nan", "-3", "inf"])
def test_odd_waits_never_reach_sleep_as_bad_values(value):
    spotify = _retry_after(SpotifyException(429, -1, "slow down", headers={"Retry-After": value}))
    open_data = JsonService._header_seconds(SimpleNamespace(headers={"Retry-After": value}), "Retry-After")
    for seconds in (spotify, open_data):
        assert seconds is None or (math.isfinite(seconds) and seconds >= 0)
