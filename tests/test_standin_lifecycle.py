"""The stand-ins' one lifecycle (recommender/standins/server.py), tested once for all three
stand-ins, and `recommend standin` (which starts all three) end to end."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import requests
from typer.testing import CliRunner

from recommender.cli import app

REPO = Path(__file__).resolve().parents[1]


def busy_port() -> socket.socket:
    """A listening socket on a free port of 127.0.0.1 (the caller closes it)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


# ----- `recommend standin` ----------------------------------------------------------------------
def test_standin_command_prints_the_exports_and_stops_cleanly_on_ctrl_c():
    proc = subprocess.Popen([sys.executable, "-m", "recommender", "standin", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        lines = [proc.stderr.readline() for _ in range(3)]
        first = lines[0]
        m = re.fullmatch(r"Stand-ins on 127\.0\.0\.1 \(Ctrl-C to stop\): Spotify (http://127\.0\.0\.1:(\d+)), "
                         r"ListenBrainz (http://127\.0\.0\.1:(\d+))/1, labs \3/labs, "
                         r"MusicBrainz (http://127\.0\.0\.1:\d+)/ws/2/\. Point the tool at them with:\n", first)
        assert m, lines
        spotify, lb, mb = m.group(1), m.group(3), m.group(5)
        assert lines[1] == (f"  export RECOMMENDER_SPOTIFY_API_URL={spotify}/v1/ RECOMMENDER_SPOTIFY_ACCOUNTS_URL="
                            f"{spotify} SPOTIPY_CLIENT_ID=any RECOMMENDER_LISTENBRAINZ_API_URL={lb}/1 "
                            f"RECOMMENDER_LISTENBRAINZ_LABS_URL={lb}/labs RECOMMENDER_MUSICBRAINZ_URL={mb}/ws/2/\n")
        assert lines[2] == ("then `recommend auth` logs in (auto-approved) and `recommend refresh` pulls the "
                            "sample library.\n")
        # all three answer while it runs
        assert requests.get(f"{spotify}/v1/me", timeout=5).status_code == 401  # no token: the API is up
        assert requests.get(f"{lb}/1/nothing", timeout=5).status_code == 404
        assert requests.get(f"{mb}/ws/2/artist/x?fmt=json", headers={"User-Agent": "t"}, timeout=5).status_code == 404
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert (proc.returncode, out, err) == (0, "", "")
    for url in (spotify, lb, mb):  # every port was released
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=2)


@pytest.mark.parametrize("which", ["spotify", "open data"])
def test_standin_command_on_a_busy_port_is_one_line_and_exit_2(which):
    with busy_port() as s:
        busy = s.getsockname()[1]
        port = busy if which == "spotify" else busy - 1  # ListenBrainz takes port + 1
        result = CliRunner().invoke(app, ["standin", "--port", str(port)])
    assert result.exit_code == 2
    where = f"127.0.0.1:{port}" if which == "spotify" else f"127.0.0.1:{port + 1}/{port + 2}"
    assert result.stderr == f"error: cannot listen on {where} (Address already in use): choose another --port\n"


# ----- the shared lifecycle, once for every stand-in ----------------------------------------------
def _spotify(port: int = 0):
    from recommender.standins.spotify import Account, StandinServer
    return StandinServer(Account.from_file(REPO / "tests" / "fixtures" / "small_account.json"), port=port)


def _listenbrainz(port: int = 0):
    from recommender.standins.listenbrainz import ListenBrainzStandIn, OpenDataWorld
    world = OpenDataWorld(pd.DataFrame(columns=["playlist_id", "track_id", "track_name", "track_artist"]))
    return ListenBrainzStandIn(world, port=port)


def _musicbrainz(port: int = 0):
    from recommender.standins.musicbrainz import MusicBrainzStandIn
    return MusicBrainzStandIn(port=port)


# (make, a request each stand-in answers with its own status, that status)
KINDS = {
    "spotify": (_spotify, "/v1/me", 401),  # no token
    "listenbrainz": (_listenbrainz, "/1/no-such-endpoint", 404),
    "musicbrainz": (_musicbrainz, "/ws/2/artist/x", 400),  # no fmt=json
}


@pytest.fixture(params=sorted(KINDS))
def kind(request):
    from recommender.standins.server import ServedStandIn
    make, path, status = KINDS[request.param]
    assert isinstance(make(), ServedStandIn)  # one lifecycle, not a copy of it
    return make, path, status


def answers(standin, path: str) -> int:
    return requests.get(standin.origin + path, timeout=5).status_code


def refused(standin, path: str) -> bool:
    try:
        requests.get(standin.origin + path, timeout=2)
    except requests.ConnectionError:
        return True
    return False


def serving_threads(standin) -> list[str]:
    import threading
    return [t.name for t in threading.enumerate() if t.name == f"{standin.label}:{standin.port}"]


def test_start_serves_on_127_0_0_1_and_stop_releases_the_port(kind, caplog):
    make, path, status = kind
    standin = make()
    with caplog.at_level("INFO", logger="recommender.standins.server"):
        assert standin.start() is standin
    port = standin.port
    assert port > 0 and standin.origin == f"http://127.0.0.1:{port}"
    assert f"{standin.label} listening on http://127.0.0.1:{port}" in caplog.messages
    assert answers(standin, path) == status
    assert standin.start() is standin and standin.port == port  # starting twice is harmless
    assert serving_threads(standin) and standin.running
    standin.stop()
    assert not standin.running and not serving_threads(standin)  # the thread was joined
    assert refused(standin, path)
    with socket.socket() as s:  # the port is free again
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
    standin.stop()  # stopping twice is harmless


def test_a_second_start_on_the_same_port_works_after_stop(kind):
    make, path, status = kind
    first = make().start()
    port = first.port
    assert answers(first, path) == status
    first.stop()
    with make(port) as second:
        assert second.port == port and answers(second, path) == status
    assert refused(second, path)
    assert first.start().port == port and answers(first, path) == status  # the same object restarts too
    first.stop()


def test_a_port_in_use_is_reported_naming_it_and_nothing_keeps_running(kind):
    from recommender.errors import UsageError
    make, path, status = kind
    with busy_port() as s:
        port = s.getsockname()[1]
        standin = make(port)
        with pytest.raises(UsageError) as err:
            standin.start()
    assert str(err.value) == f"cannot listen on 127.0.0.1:{port} (Address already in use): choose another --port"
    assert err.value.exit_code == 2 and isinstance(err.value.__cause__, OSError)
    assert not standin.running and not serving_threads(standin)
    standin.stop()  # nothing to stop: harmless
    with standin:  # once the port is free, the same stand-in starts
        assert answers(standin, path) == status


def test_serve_forever_blocks_until_stopped_or_interrupted(kind):
    import _thread
    import threading
    make, path, status = kind
    standin = make()
    threading.Timer(0.3, standin.stop).start()  # stopped elsewhere
    started = time.monotonic()
    standin.serve_forever()
    assert 0.25 < time.monotonic() - started < 5 and not standin.running
    threading.Timer(0.3, _thread.interrupt_main).start()  # Ctrl-C: returns, stopped
    standin.serve_forever()
    assert not standin.running and refused(standin, path)


@pytest.mark.parametrize("name", ["spotify", "listenbrainz"])
def test_stop_ends_answers_that_wait(name):
    """An injected delay of a minute does not hold ``stop()`` nor keep its request waiting."""
    import threading
    make, path, status = KINDS[name]
    standin = make().start()
    if name == "spotify":
        from recommender.standins.spotify import Fault
        standin.add_fault(Fault(path="/v1/me", delay=60))
    else:
        standin.fail(status=None, delay=60)
    done = threading.Event()

    def ask() -> None:
        try:
            requests.get(standin.origin + path, timeout=30)
        except requests.RequestException:
            pass
        done.set()

    threading.Thread(target=ask, daemon=True).start()
    time.sleep(0.3)
    started = time.monotonic()
    standin.stop()
    assert time.monotonic() - started < 5
    assert done.wait(5)


def test_open_data_standins_stop_listenbrainz_when_musicbrainz_cannot_start():
    import threading

    from recommender.errors import UsageError
    from recommender.standins.listenbrainz import open_data_standins

    def listenbrainz_threads() -> set[str]:  # (the session's empty-world one runs throughout)
        return {t.name for t in threading.enumerate() if t.name.startswith("ListenBrainz stand-in:")}

    before = listenbrainz_threads()
    with busy_port() as s:
        port = s.getsockname()[1]
        with pytest.raises(UsageError, match=f"cannot listen on 127.0.0.1:0/{port} "):
            with open_data_standins(0, port):
                pass
    assert listenbrainz_threads() == before


@pytest.mark.parametrize("name", ["spotify", "musicbrainz"])
def test_two_threads_stopping_at_once_stop_it_once_without_an_error(name):
    """Ctrl-C's cleanup and a stop from elsewhere can overlap: before, the second stop() found
    the server half torn down (AttributeError on None in a thread, seen in CI)."""
    import threading
    make = KINDS[name][0]
    standin = make().start()
    server = standin._server
    real_shutdown = server.shutdown

    def slow_shutdown():
        time.sleep(0.2)  # widen the window in which the other thread also stops
        real_shutdown()

    server.shutdown = slow_shutdown
    errors = []

    def stop():
        try:
            standin.stop()
        except Exception as exc:  # noqa: BLE001 - the test collects whatever escapes
            errors.append(exc)

    threads = [threading.Thread(target=stop) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == [] and not standin.running
    assert standin.start().running  # and it starts again
    standin.stop()
