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
    ("Wed, 21 Oct 2015 07:28:00 GMT", None), ("", None), (None, None), ([], None),
])
def test_wait_seconds(value, expected):
    assert wait_seconds(value) == expected


@pytest.mark.parametrize("value", ["nan", "-3", "inf"])
def test_odd_waits_never_reach_sleep_as_bad_values(value):
    spotify = _retry_after(SpotifyException(429, -1, "slow down", headers={"Retry-After": value}))
    open_data = JsonService._header_seconds(SimpleNamespace(headers={"Retry-After": value}), "Retry-After")
    for seconds in (spotify, open_data):
        assert seconds is None or (math.isfinite(seconds) and seconds >= 0)
