"""What leaves the machine and what stays on it (README "What leaves your machine" and
"Privacy"): a real login, refresh and build-playlist against the three stand-ins, every
request heard with its headers and body (``ServedStandIn.heard``), then the files left behind.
Every address is 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from recommender import __version__, jobs
from recommender.standins.server import ServedStandIn

from test_cli import run

LB_TOKEN = "0b5e7c1a-2d4f-4e8a-9c3b-6f1d2e3a4b5c"  # a ListenBrainz user token (a UUID)
CONTACT = "someone@example.org"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{10}$")  # the sample's are ZZ + 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def heard(monkeypatch) -> list:
    """Every request any stand-in of this process receives (the demo's own too)."""
    heard: list = []
    monkeypatch.setattr(ServedStandIn, "heard", heard)
    return heard


@pytest.fixture
def world(heard):
    """Spotify (the sample account with the open-data world's catalogue), ListenBrainz + labs and
    MusicBrainz stand-ins, as `recommend standin` runs them."""
    from recommender.standins.listenbrainz import open_data_standins
    from recommender.standins.spotify import Account, StandinServer
    with open_data_standins() as (lb, mb, prepare):
        account = Account.sample()
        prepare(account)
        with StandinServer(account) as spotify:
            yield spotify, lb, mb


def env_of(spotify, lb, mb, cache: Path, **more: str) -> dict[str, str]:
    return {"RECOMMENDER_SPOTIFY_API_URL": spotify.api_url, "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": spotify.accounts_url,
            "SPOTIPY_CLIENT_ID": "privacy-client", "SPOTIPY_CLIENT_SECRET": "",
            "SPOTIPY_REDIRECT_URI": f"http://127.0.0.1:{free_port()}/callback",
            "RECOMMENDER_LISTENBRAINZ_API_URL": lb.api_url, "RECOMMENDER_LISTENBRAINZ_LABS_URL": lb.labs_url,
            "RECOMMENDER_MUSICBRAINZ_URL": mb.base_url, "RECOMMENDER_CACHE_DIR": str(cache), **more}


def browser_login(monkeypatch) -> None:
    """`recommend auth --no-browser` with this test as the person at the browser: the printed
    URL is opened (the stand-in approves at once and redirects to our callback)."""
    real = jobs.login

    def login(settings, open_url=None):
        def opened(url: str) -> None:
            open_url(url)
            requests.get(url, timeout=10)
        return real(settings, open_url=opened)
    monkeypatch.setattr(jobs, "login", login)


def by(heard: list, label: str) -> list:
    return [h for h in heard if h.label == label]


def leaves(value) -> list:
    """Every scalar of a JSON value."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in leaves(v)]
    return [value]


class _Answer:
    status_code, headers, url = 404, {}, ""


class _Session:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    def get(self, url, params=None, headers=None, timeout=None):
        self.sent.append(headers)
        return _Answer()


@pytest.mark.parametrize("overrides, agent, warned", [
    ({}, f"recommend-playlist/{__version__}", True),
    ({"enrich.contact": CONTACT}, f"recommend-playlist/{__version__} ( {CONTACT} )", False),
    ({"enrich.user_agent": "mine/1.0 ( me@example.org )"}, "mine/1.0 ( me@example.org )", False),
    ({"enrich.musicbrainz_url": "http://127.0.0.1:9/ws/2/"}, f"recommend-playlist/{__version__}", False),
])
def test_musicbrainz_is_told_the_tool_its_version_and_your_contact(overrides, agent, warned, caplog):
    """The shipped User-Agent was "recommend/0.1 ( https://example.invalid/recommend )": another
    project's name, a version that was not this one, and an address that reaches nobody.
    Without a contact, the first request to musicbrainz.org says once how to set one."""
    from recommender.config import load_settings
    from recommender.enrich.musicbrainz import client_from_settings
    settings = load_settings(environ={}, overrides={"enrich.musicbrainz_url": "https://musicbrainz.org/ws/2/",
                                                    **overrides})
    client = client_from_settings(settings)
    client.session, client.sleep = _Session(), lambda s: None
    with caplog.at_level(logging.WARNING):
        client.isrc("USRC17607839")
        client.isrc("USRC17607840")
    assert [h["User-Agent"] for h in client.session.sent] == [agent, agent]
    said = [r.getMessage() for r in caplog.records if "enrich.contact" in r.getMessage()]
    assert len(said) == (1 if warned else 0)
