"""Shared fixtures: hand-written accounts and the local Spotify stand-in (127.0.0.1 only)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import spotipy

from recommender.standins.spotify import Account, StandinServer

FIXTURES = Path(__file__).parent / "fixtures"
OPEN_DATA_ENV = ("RECOMMENDER_LISTENBRAINZ_API_URL", "RECOMMENDER_LISTENBRAINZ_LABS_URL", "RECOMMENDER_MUSICBRAINZ_URL")


# the longest files first, then the rest by their number of tests: pytest-xdist's loadfile hands
# files out in that order (with `--no-loadscope-reorder` in pyproject.toml's addopts; by itself
# pytest-xdist orders files by their number of tests, and the files of a few long tests, such as
# test_weeks.py's 24 s soak test, ran alone on one worker at the suite's end). By
# `pytest --durations=0` (2026-12-07): test_web_browser.py 134 s, test_discovery.py 112 s, ...
LONGEST_FIRST = ("test_web_browser.py", "test_discovery.py", "test_reliability.py", "test_new_user.py",
                 "test_cli.py", "test_web_context.py", "test_build.py", "test_explore_cli.py", "test_weeks.py")


def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto`: one worker more than the cores. The tests wait a good part of their time on
    sockets (the stand-ins), subprocesses and the browser: on two cores, three workers ran the
    suite in 648 s where two took 718 to 745 s (2026-12-02)."""
    import os
    return (os.cpu_count() or 1) + 1


def pytest_configure(config) -> None:
    """Python's cyclic garbage collector runs less often in a test process: its full collections
    walk every object alive, and a worker holds hundreds of thousands (the sample world's
    catalogue, the frames' lists), so at the default thresholds (700, 10, 10) the collector took
    14.5 s of test_discovery.py's 80.6 (2.9 s of 68.3 at these; `bench/gc_time.py` measures it).
    A `recommend` run is too short for this to matter (a demo build runs as fast at either)."""
    import gc
    gc.set_threshold(10_000, 20, 20)


def pytest_collection_modifyitems(config, items) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    per_file = Counter(item.path for item in items)
    # stable: a file's tests keep their order, and files of as many tests their collection order
    items.sort(key=lambda item: (rank.get(item.path.name, len(LONGEST_FIRST)), -per_file[item.path]))


@pytest.fixture(scope="session", autouse=True)
def ctrl_c_as_in_a_terminal() -> Iterator[None]:
    """The suite sees Ctrl-C as a terminal run does, however it was started: a shell script's
    `pytest &` starts it with SIGINT ignored, which every child process inherits (and Python
    then installs no KeyboardInterrupt handler), so the tests that press Ctrl-C on a stand-in
    or `recommend web` would wait for a stop that never comes."""
    import signal
    old = signal.getsignal(signal.SIGINT)
    if old is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@pytest.fixture(scope="session", autouse=True)
def no_real_open_data() -> Iterator[None]:
    """No test may reach the real MusicBrainz or ListenBrainz: every run that does not set its
    own URLs talks to empty-world stand-ins on 127.0.0.1 (their answers: nothing known)."""
    import os

    import pandas as pd

    from recommender.standins.listenbrainz import ListenBrainzStandIn, OpenDataWorld
    from recommender.standins.musicbrainz import MusicBrainzStandIn
    world = OpenDataWorld(pd.DataFrame(columns=["playlist_id", "track_id", "track_name", "track_artist"]))
    with ListenBrainzStandIn(world) as lb, MusicBrainzStandIn(world=world) as mb:
        urls = dict(zip(OPEN_DATA_ENV, (lb.api_url, lb.labs_url, mb.base_url)))
        old = {k: os.environ.get(k) for k in urls}
        os.environ.update(urls)
        try:
            yield
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


_ASKED_BEYOND_LOOPBACK: list[str] = []  # host names a test's own process tried to resolve
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::", ""})


@pytest.fixture(scope="session", autouse=True)
def nothing_beyond_loopback() -> Iterator[None]:
    """No test reaches past 127.0.0.1: any other host name a test's process resolves is refused
    as an offline machine refuses it (``socket.gaierror``) and fails that test (``_only_loopback``).
    A test that asked the real accounts.spotify.com passed here only because it was offline."""
    import socket
    real = socket.getaddrinfo
    here = _LOOPBACK_NAMES | {socket.gethostname().lower()}  # (this machine's own name: its own addresses)

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name.strip("[]").lower() not in here and not name.startswith("127."):
            _ASKED_BEYOND_LOOPBACK.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"the tests reach 127.0.0.1 only, not {name}")
        return real(host, *args, **kwargs)
    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = real


@pytest.fixture(autouse=True)
def _only_loopback() -> Iterator[None]:
    start = len(_ASKED_BEYOND_LOOPBACK)
    yield
    asked = _ASKED_BEYOND_LOOPBACK[start:]
    assert not asked, f"the test asked for {sorted(set(asked))}: tests reach 127.0.0.1 only"


@pytest.fixture(scope="session")
def refreshed_demo_cache(tmp_path_factory) -> Path:
    """A demo cache (``cache.dir``) as a login and a refresh on the default settings leave it,
    made once: tests copy it rather than refresh the demo each (about 2.5 s each). Read-only!"""
    from recommender import jobs
    from recommender.config import load_settings
    cache = tmp_path_factory.mktemp("refreshed-demo")
    settings = load_settings(environ={}, overrides={"cache.dir": str(cache)})
    with jobs.demo_environment(settings) as (demo, server):
        jobs.demo_login(demo)
        jobs.refresh(demo)
    return cache


@pytest.fixture
def small_account() -> Account:
    """tests/fixtures/small_account.json: 3 owned playlists + 1 followed (owner spotify),
    23 tracks, one episode / local / null item, tracks 5 and 6 sharing an ISRC, tracks 7 and 8
    sharing title + artist. A fresh copy per test."""
    return Account.from_file(FIXTURES / "small_account.json")


@pytest.fixture
def standin(small_account: Account) -> Iterator[StandinServer]:
    """A started stand-in serving ``small_account``; fresh per test (writes are fine)."""
    with StandinServer(small_account) as server:
        yield server


@pytest.fixture(scope="session")
def sample_standin() -> Iterator[StandinServer]:
    """One stand-in on the built-in sample library for the whole session: read-only use!
    Tests that write must start their own ``StandinServer(Account.sample())``."""
    with StandinServer(Account.sample()) as server:
        yield server


def standin_client(server: StandinServer, **token_kwargs) -> spotipy.Spotify:
    """A spotipy client on ``server`` with a fresh token and no spotipy retries."""
    token = server.issue_token(**token_kwargs)
    sp = spotipy.Spotify(auth=token["access_token"], requests_session=requests.Session(),
                         retries=0, status_retries=0, requests_timeout=10)
    sp.prefix = server.api_url
    return sp


@pytest.fixture
def standin_spotify(standin: StandinServer) -> spotipy.Spotify:
    """A spotipy client bound to ``standin`` (full scopes, no retries)."""
    return standin_client(standin)


@pytest.fixture
def client_for():
    """``client_for(server, scope=..., expires_in=...)`` -> a spotipy client on any stand-in."""
    return standin_client


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """No test reads or writes the real ~/.config/recommend or ~/.local/state/recommend, and
    none picks up a developer's config/user.yaml or cache/ from the checkout it runs in."""
    home = tmp_path_factory.mktemp("home")
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    monkeypatch.delenv("RECOMMENDER_CONFIG", raising=False)
    monkeypatch.delenv("RECOMMENDER_TRIGGER", raising=False)  # a run by hand unless a test says otherwise
    # `recommend status` reads this empty crontab, never the user's (schedule.TEST_TABFILE_VAR)
    monkeypatch.setenv("RECOMMENDER_TEST_CRONTAB", str(home / "crontab"))
    # no width of the terminal pytest runs in: a developer's exported COLUMNS, or the 80 that
    # pytest-xdist's workers have, wrapped the notes tests read whole (a test sets its own)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    from recommender import paths
    monkeypatch.setattr(paths, "checkout_roots", lambda cwd=None: [])


@pytest.fixture
def tune_finds_better(monkeypatch):
    """On the small fixtures every weighting ties, so `recommend tune` keeps the current weights
    and `--write` has nothing to write. With this fixture the real search runs, then the grid's
    "every scorer alike" (its first such row: all 0.1) scores 0.05 p@N higher in every fold: a
    gain beyond the spread, and the next tune of the same file finds that those are its
    current weights."""
    import numpy as np

    from recommender import jobs
    real = jobs.tune

    def tune(*args, **kwargs):
        result = real(*args, **kwargs)
        alike = np.flatnonzero(np.all(result.combos == result.combos[:, :1], axis=1))[0]
        result.precision[:, alike] += 0.05
        return result
    monkeypatch.setattr(jobs, "tune", tune)


@pytest.fixture
def recommends_nothing(monkeypatch):
    """Call it to make a build find nothing to recommend (the playlist left as it is)."""
    from recommender import pipeline
    recommend = pipeline.recommend

    def nothing(*args, **kw):
        recs = recommend(*args, **kw)
        recs.table = recs.table.iloc[0:0]
        return recs
    return lambda: monkeypatch.setattr(pipeline, "recommend", nothing)
