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
DEADLINE = 60  # seconds: a stand-in process or serve_forever still running by then fails its test


def standin_process(code: str | None = None, *more: str) -> subprocess.Popen:
    """`recommend standin --port 0` (with ``more`` arguments, or ``python -c code``) in a
    subprocess, killed after DEADLINE s so that a read of its output ends (and the test fails)
    rather than hangs."""
    import threading
    argv = ["-c", code] if code else ["-m", "recommender", "standin", "--port", "0", *more]
    proc = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    killer = threading.Timer(DEADLINE, proc.kill)
    killer.daemon = True
    killer.start()
    return proc


def stop_by_ctrl_c(proc: subprocess.Popen) -> tuple[str, str]:
    """SIGINT, then its output once it has exited (killed, and the test failed, if it has not)."""
    try:
        proc.send_signal(signal.SIGINT)
        return proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
            pytest.fail(f"the stand-ins were still running {DEADLINE} s after Ctrl-C")


def all_released(*urls: str) -> None:
    for url in urls:  # every port was released
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=2)


def test_standin_command_prints_the_exports_and_stops_cleanly_on_ctrl_c():
    """The export line is on stdout, alone (it used to be on stderr with the rest): a script can
    read it (`recommend standin --port 0 > standin.env &`, then `. standin.env`); what a person
    reads around it is on stderr."""
    proc = standin_process()
    try:
        lines = [proc.stderr.readline() for _ in range(2)]
        first = lines[0]
        m = re.fullmatch(r"Stand-ins on 127\.0\.0\.1 \(Ctrl-C to stop\): Spotify (http://127\.0\.0\.1:(\d+)), "
                         r"ListenBrainz (http://127\.0\.0\.1:(\d+))/1, labs \3/labs, "
                         r"MusicBrainz (http://127\.0\.0\.1:\d+)/ws/2/\. Point the tool at them with the export line on standard output:\n", first)
        assert m, lines
        spotify, lb, mb = m.group(1), m.group(3), m.group(5)
        assert lines[1] == ("then `recommend auth` logs in (auto-approved) and `recommend refresh` pulls the "
                            "sample library.\n")
        exports = proc.stdout.readline()
        assert exports == (f"export RECOMMENDER_SPOTIFY_API_URL={spotify}/v1/ RECOMMENDER_SPOTIFY_ACCOUNTS_URL="
                           f"{spotify} SPOTIPY_CLIENT_ID=any RECOMMENDER_LISTENBRAINZ_API_URL={lb}/1 "
                           f"RECOMMENDER_LISTENBRAINZ_LABS_URL={lb}/labs RECOMMENDER_MUSICBRAINZ_URL={mb}/ws/2/\n")
        sourced = subprocess.run(["sh", "-c", exports + 'echo "$RECOMMENDER_SPOTIFY_API_URL $SPOTIPY_CLIENT_ID"'],
                                 capture_output=True, text=True, timeout=DEADLINE)
        assert sourced.stdout == f"{spotify}/v1/ any\n"  # as the shell reads it
        # all three answer while it runs
        assert requests.get(f"{spotify}/v1/me", timeout=5).status_code == 401  # no token: the API is up
        assert requests.get(f"{lb}/1/nothing", timeout=5).status_code == 404
        assert requests.get(f"{mb}/ws/2/artist/x?fmt=json", headers={"User-Agent": "t"}, timeout=5).status_code == 404
    finally:
        out, err = stop_by_ctrl_c(proc)
    assert (proc.returncode, out, err) == (0, "", "")
    all_released(spotify, lb, mb)


def test_standin_command_with_quiet_still_prints_the_export_line_on_stdout():
    """--quiet silences a command's stdout, and took the export line with it: a script reading
    `recommend standin --port 0 --quiet > standin.env` got an empty file. The line is the
    command's result, so it is on stdout, alone, with --quiet too."""
    proc = standin_process(None, "--quiet")
    try:
        exports = proc.stdout.readline()
        assert exports.startswith("export RECOMMENDER_SPOTIFY_API_URL=http://127.0.0.1:"), exports
        spotify = re.search(r"RECOMMENDER_SPOTIFY_ACCOUNTS_URL=(\S+)", exports).group(1)
        assert requests.get(f"{spotify}/v1/me", timeout=5).status_code == 401  # it serves while it waits
    finally:
        out, err = stop_by_ctrl_c(proc)
    assert (proc.returncode, out) == (0, ""), err
    # --quiet prints only errors, notes and the result (README): the lines around the export line,
    # for a person at the terminal, went to stderr all the same
    assert "Stand-ins on 127.0.0.1" not in err and "recommend auth" not in err, err


def test_a_client_that_drops_its_connection_prints_nothing_on_the_standins_terminal():
    """A run stopped with Ctrl-C resets its keep-alive connection while the stand-in waits for
    its next request: socketserver printed "Exception occurred during processing of request",
    a 15-line ConnectionResetError traceback and a dashed line, for every such stop."""
    import struct
    proc = standin_process(None, "--quiet")
    try:
        exports = proc.stdout.readline()
        host, port = re.search(r"RECOMMENDER_SPOTIFY_ACCOUNTS_URL=http://([\d.]+):(\d+)", exports).groups()
        for _ in range(3):
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(b"GET /v1/me HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(65536).startswith(b"HTTP/1.1 401")  # answered; it waits for the next request
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()  # a reset, not a clean close
        time.sleep(0.5)  # the handler threads meet the resets
        assert requests.get(f"http://{host}:{port}/v1/me", timeout=5).status_code == 401  # still serving
    finally:
        out, err = stop_by_ctrl_c(proc)
    assert (proc.returncode, err) == (0, ""), err


# The user's Ctrl-C the instant the lines are out: a real SIGINT to itself from inside the print.
CTRL_C_AS_THE_LINES_PRINT = """
import os, signal, sys
import recommender.cli as cli
import recommender.cli.output as output
real_err = output._err
def err(message):
    real_err(message)
    if message.startswith("then `recommend auth`"):  # the last of the lines
        os.kill(os.getpid(), signal.SIGINT)
output._err = err
sys.argv = ["recommend", "standin", "--port", "0"]
cli.main()
"""


def test_standin_command_ctrl_c_as_the_lines_print_is_a_clean_stop_too():
    """Before, a Ctrl-C that landed while the ready lines were printing (outside the wait) came out
    as "interrupted", exit 130 (seen under load: the Ctrl-C test above failed that way)."""
    proc = standin_process(CTRL_C_AS_THE_LINES_PRINT)
    out, err = proc.communicate(timeout=DEADLINE)  # its own Ctrl-C stops it (the killer if not)
    assert proc.returncode == 0 and out.startswith("export RECOMMENDER_SPOTIFY_API_URL=") and out.count("\n") == 1, err
    assert err.startswith("Stand-ins on 127.0.0.1") and err.count("\n") == 2, err  # the lines, nothing else
    all_released(*re.findall(r"(http://127\.0\.0\.1:\d+)", err.splitlines()[0]))


# A second Ctrl-C while the ListenBrainz and MusicBrainz stand-ins stop (after the first one
# has stopped the Spotify stand-in): a real SIGINT to itself from inside each of their stops.
CTRL_C_AGAIN_AS_THE_OPEN_DATA_STAND_INS_STOP = CTRL_C_AS_THE_LINES_PRINT.replace("output._err = err", """output._err = err
from recommender.standins.listenbrainz import ListenBrainzStandIn
from recommender.standins.musicbrainz import MusicBrainzStandIn
for cls in (ListenBrainzStandIn, MusicBrainzStandIn):
    def stop(self, _real=cls.stop):
        os.kill(os.getpid(), signal.SIGINT)
        _real(self)
    cls.stop = stop""")


def test_standin_command_a_second_ctrl_c_as_the_open_data_stand_ins_stop_is_a_clean_stop_too():
    """Before, the Spotify stand-in stopped cleanly but a second Ctrl-C while the ListenBrainz
    and MusicBrainz ones stopped came out as "interrupted", exit 130."""
    proc = standin_process(CTRL_C_AGAIN_AS_THE_OPEN_DATA_STAND_INS_STOP)
    out, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == 0 and out.startswith("export RECOMMENDER_SPOTIFY_API_URL=") and out.count("\n") == 1, err
    assert err.startswith("Stand-ins on 127.0.0.1") and err.count("\n") == 2, err
    all_released(*re.findall(r"(http://127\.0\.0\.1:\d+)", err.splitlines()[0]))


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def busy_port_with_free_neighbours(below: int, above: int) -> socket.socket:
    """``busy_port`` whose ``below`` ports under it and ``above`` over it are free when it is
    picked (the stand-ins take port + 1 and + 2: another program on one of them, on a shared
    machine, would make the error name that one instead)."""
    for _ in range(50):
        s = busy_port()
        port = s.getsockname()[1]
        if all(_free(port + d) for d in range(-below, above + 1) if d and 0 < port + d < 65536):
            return s
        s.close()
    pytest.skip("no port with free neighbours found on this machine")


@pytest.mark.parametrize("which", ["spotify", "open data"])
def test_standin_command_on_a_busy_port_is_one_line_and_exit_2(which):
    with busy_port_with_free_neighbours(*((0, 2) if which == "spotify" else (1, 1))) as s:
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


def until(condition, what: str) -> None:
    """Wait for ``condition()``, at most DEADLINE s (then fail, naming ``what``)."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"waited {DEADLINE} s for {what}"
        time.sleep(0.01)


def serve_bounded(standin, ready) -> None:
    """``standin.serve_forever(ready)`` here, with a watchdog that stops the stand-in after
    DEADLINE s: a stop or Ctrl-C that serve_forever missed fails the test instead of hanging it,
    and a Ctrl-C that escapes fails it instead of interrupting the whole run."""
    import threading
    fired = threading.Event()

    def watchdog() -> None:
        fired.set()
        standin.stop()

    timer = threading.Timer(DEADLINE, watchdog)
    timer.start()
    try:
        standin.serve_forever(ready)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped serve_forever")
    finally:
        timer.cancel()
    assert not fired.is_set(), f"serve_forever had not returned after {DEADLINE} s"


@pytest.mark.parametrize("where", ["main thread", "another thread"])
def test_serve_forever_blocks_until_stopped_elsewhere(kind, where):
    """It serves until a stop() from another thread, and returns then (not before)."""
    import threading
    make, path, status = kind
    standin = make()
    seen = {}

    def ready(served) -> None:  # called once it listens
        def stop_elsewhere() -> None:
            seen["answered"] = answers(standin, path)  # it serves while serve_forever blocks
            seen["stop"] = True
            standin.stop()
        assert served is standin
        threading.Thread(target=stop_elsewhere, daemon=True).start()

    if where == "main thread":
        serve_bounded(standin, ready)
    else:  # no Ctrl-C handling there (only the main thread gets signals): the same stop
        serving = threading.Thread(target=standin.serve_forever, args=(ready,), daemon=True)
        serving.start()
        serving.join(DEADLINE)
        assert not serving.is_alive(), f"serve_forever had not returned after {DEADLINE} s"
    assert seen == {"answered": status, "stop": True}
    assert not standin.running and refused(standin, path)


def test_a_stop_while_it_starts_waits_for_the_start_then_stops_it(kind, monkeypatch):
    """A stop() from another thread that comes while serve_forever is still binding: before, it
    found nothing to stop, returned, and serve_forever then served (and waited) for ever (seen
    under load, when the old test's 0.3 s stop timer beat the bind). Now it waits for the start."""
    import threading

    from recommender.standins import server as served_module
    make, path, status = kind
    binding, stop_returned = threading.Event(), threading.Event()

    class SlowToBind(served_module._Server):
        def __init__(self, *args, **kwargs) -> None:
            binding.set()
            stop_returned.wait(0.5)  # the stop's chance to slip in before the bind (it must not)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(served_module, "_Server", SlowToBind)
    standin = make()

    def stop_as_it_binds() -> None:
        if binding.wait(DEADLINE):
            standin.stop()
            stop_returned.set()

    threading.Thread(target=stop_as_it_binds, daemon=True).start()
    serve_bounded(standin, None)
    assert stop_returned.is_set() and not standin.running and refused(standin, path)


@pytest.mark.parametrize("moment", ["as ready prints", "while it serves", "while it serves, again as it stops"])
def test_ctrl_c_at_any_moment_of_serve_forever_stops_it_cleanly(kind, moment, caplog):
    """Ctrl-C (``interrupt_main`` is what SIGINT does) wherever the main thread is: a clean stop,
    logged, and Ctrl-C is Python's own again afterwards. Before, one landing in ``ready`` (the
    CLI's print) or a second one in the stop escaped as KeyboardInterrupt."""
    import _thread
    import threading
    make, path, status = kind
    standin = make()

    def ready(served) -> None:
        if moment == "as ready prints":
            _thread.interrupt_main()  # lands here, in ready(), as the CLI's lines go out
            return
        if moment.endswith("as it stops"):
            real_shutdown = served._server.shutdown

            def shutdown_and_ctrl_c() -> None:
                _thread.interrupt_main()  # lands inside stop(), in the main thread
                real_shutdown()
            served._server.shutdown = shutdown_and_ctrl_c

        def ctrl_c_once_it_answers() -> None:
            assert answers(standin, path) == status
            _thread.interrupt_main()
        threading.Thread(target=ctrl_c_once_it_answers, daemon=True).start()

    with caplog.at_level("INFO", logger="recommender.standins.server"):
        serve_bounded(standin, ready)
    assert f"{standin.label} stopped" in caplog.messages
    assert not standin.running and refused(standin, path)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("name", ["spotify", "listenbrainz"])
def test_stop_ends_answers_that_wait(name):
    """An injected delay of a minute does not hold ``stop()`` nor keep its request waiting."""
    import threading
    make, path, status = KINDS[name]
    standin = make().start()
    if name == "spotify":
        from recommender.standins.spotify import Fault
        fault = standin.add_fault(Fault(path="/v1/me", delay=60))
    else:
        fault = standin.fail(status=None, delay=60)
    done = threading.Event()

    def ask() -> None:
        try:
            requests.get(standin.origin + path, timeout=30)
        except requests.RequestException:
            pass
        done.set()

    threading.Thread(target=ask, daemon=True).start()
    until(lambda: fault.hits == 1, "the request to reach the stand-in")  # it is waiting its minute
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
        t.join(DEADLINE)
    assert not any(t.is_alive() for t in threads), f"a stop() had not returned after {DEADLINE} s"
    assert errors == [] and not standin.running
    assert standin.start().running  # and it starts again
    standin.stop()
