"""Run the app on 127.0.0.1 (never another interface) until Ctrl-C."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator

from ..paths import DEMO_CONFIG  # (re-exported: the demo's own config file, saved weights, blocked artists)

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


def bind(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1:port (0 = a free port)."""
    from ..errors import UsageError
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {HOST}:{port} ({exc.strerror}); try another --port, or 0") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@contextlib.contextmanager
def ctrl_c_kept() -> Iterator[Callable[[], bool]]:
    """Within (the main thread, SIGINT Python's default): Ctrl-C raises KeyboardInterrupt as
    always, and is also kept, for the function yielded to say. Python runs a signal's handler
    wherever the main thread happens to be, and there the KeyboardInterrupt can be lost: inside a
    weakref callback or a ``__del__`` (an import's module lock dropped: "Exception ignored in:
    <function _get_module_lock.<locals>.cb>"), Python prints it and carries on. A Ctrl-C in the
    second of `recommend web`'s start-up was so lost about once in 200 tries, and the server then
    ran on as if it had never been pressed; kept, it is looked at again before serving. Within
    another ``ctrl_c_kept`` (the CLI's, from before its imports), the same press is looked at."""
    current = signal.getsignal(signal.SIGINT)
    if getattr(current, "kept", None) is not None:
        yield current.kept
        return
    if threading.current_thread() is not threading.main_thread() or current is not signal.default_int_handler:
        yield lambda: False
        return
    pressed: list[int] = []

    def interrupt(signum, frame):
        pressed.append(signum)
        raise KeyboardInterrupt
    interrupt.kept = lambda: bool(pressed)
    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield interrupt.kept
    finally:
        signal.signal(signal.SIGINT, previous)


def stop_if_pressed(pressed: Callable[[], bool]) -> None:
    """KeyboardInterrupt if Ctrl-C was pressed (``ctrl_c_kept``), even if its own was lost."""
    if pressed():
        raise KeyboardInterrupt


def serve(ctx, sock: socket.socket, security, warm_up: bool = True,
          pressed: Callable[[], bool] = lambda: False) -> None:
    """Serve ``ctx`` on the bound ``sock`` until Ctrl-C (or SIGTERM). A stop waits for the
    requests under way: a publish, an export or a save cut off halfway would leave a playlist or
    the config half-written (before: cancelled after 3 s, a traceback on stderr, a 500 in the
    browser, and the demo's stand-in stopped under the publish still writing to it); it says
    so, and a second Ctrl-C stops at once."""
    import uvicorn

    from .app import create_app
    app = create_app(ctx, security)
    if warm_up:
        threading.Thread(target=ctx.warm_up, name="web-warm-up", daemon=True).start()

    uvicorn_log = logging.getLogger("uvicorn.error")

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            if app.state.writing and not self.should_exit:
                log.warning("stopping once the change under way is written (%s): stopped halfway it could be left "
                            "half-done; Ctrl-C again to stop at once", ", ".join(app.state.writing))
            elif app.state.writing and sig == signal.SIGINT:  # the second: uvicorn's traceback of the cut request says no more
                log.warning("stopping at once: the page gets no answer for %s", ", ".join(app.state.writing))
                uvicorn_log.disabled = True
            super().handle_exit(sig, frame)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                if pressed():  # before uvicorn's handler: lost on the way here
                    self.handle_exit(signal.SIGINT, None)
                yield
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=None, http=refusing_protocol())
    try:
        Server(config).run(sockets=[sock])
    finally:
        uvicorn_log.disabled = False
        sock.close()


def refusing_protocol() -> type | str:
    """uvicorn's HTTP/1.1 protocol (h11), but a request it cannot take is refused cleanly. A request
    line or headers longer than h11 keeps (16 KB: a very long URL) were a bare 400, and the
    connection was closed with the rest of the request unread, which resets it (the browser's
    "connection reset", the answer lost): now a 414 (the address) or 431 (the headers) saying
    so, the connection closed after it, and what the client still sends read and dropped until it
    closes its side (``timeout_keep_alive`` at most). The limit is the head's, however its bytes
    arrive: h11 measures only a head still incomplete, so a 40 KB address read in one piece was
    served and the same address read in two was refused; a whole head over it is refused too."""
    try:  # uvicorn's inside (>= 0.29 as pyproject asks; 0.55 today): another's is served by its own
        import h11  # protocol, whose bare 400 is better than no app at all
        from uvicorn.protocols.http.h11_impl import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE, STATUS_PHRASES, H11Protocol
    except ImportError:
        return "auto"
    if not callable(getattr(H11Protocol, "send_400_response", None)):
        return "auto"

    class HeadLimited(h11.Connection):
        """h11's connection, a request whose head (request line and headers) is longer than
        ``limit`` refused when it comes whole too: ``too_long`` is then its request line's length
        and its head's."""
        too_long: tuple[int, int] | None = None

        def __init__(self, limit: int) -> None:
            super().__init__(h11.SERVER, limit)
            self.limit = limit

        def next_event(self):
            if self.their_state is not h11.IDLE:  # (a request's body, or the end of it)
                return super().next_event()
            before = len(self.trailing_data[0])
            event = super().next_event()
            if isinstance(event, h11.Request) and before - len(self.trailing_data[0]) > self.limit:
                line = len(event.method) + len(event.target) + len(b" HTTP/1.1\r\n") + 1
                self.too_long = (line, before - len(self.trailing_data[0]))
                raise h11.RemoteProtocolError("request head too long", error_status_hint=431)
            return event

    class RefusingProtocol(H11Protocol):
        refused = False

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.conn = HeadLimited(self.config.h11_max_incomplete_event_size or DEFAULT_MAX_INCOMPLETE_EVENT_SIZE)

        def data_received(self, data: bytes) -> None:
            if not self.refused:  # (else the rest of the refused request, dropped)
                super().data_received(data)

        def send_400_response(self, msg: str) -> None:
            head, _ = self.conn.trailing_data
            limit = self.conn.limit
            # (the request line's length and the head's: a whole head's as parsed, else what came of it so far)
            line, length = self.conn.too_long or (len(head) if b"\n" not in head.lstrip(b"\r\n") else 0, len(head))
            status = 400
            if length > limit and line > limit:
                status, msg = 414, f"the address asked for is too long (over {limit // 1024} KB): nothing was done"
            elif length > limit:
                status, msg = 431, f"the request's headers are too long (over {limit // 1024} KB): nothing was done"
            body = msg.encode("utf-8")
            headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
            for event in (h11.Response(status_code=status, headers=headers, reason=STATUS_PHRASES[status]),
                          h11.Data(data=body), h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
            self.refused = True
            if self.transport.can_write_eof():  # the answer, then the end of it; the client closes its side
                self.transport.write_eof()
                self.loop.call_later(self.timeout_keep_alive, self.transport.close)
            else:
                self.transport.close()
    return RefusingProtocol


OPEN_FILE = "web-open.html"  # the page the browser is started with (holds the token)


def browser_url(url: str, directory) -> str:
    """What to start the browser with: the ``file://`` URL of a private (0600) page in
    ``directory`` that redirects to ``url``, so that the secret token never appears in the
    browser's command line, which every local user can read (``ps``); as Jupyter does.
    ``url`` itself when the page cannot be written."""
    from pathlib import Path

    from ..errors import RecommenderError
    from ..store import atomic_write_text
    path = Path(directory) / OPEN_FILE
    try:
        atomic_write_text(path, _start_page(url), mode=0o600)
    except (OSError, RecommenderError) as exc:
        log.warning("could not write %s (%s): the browser gets the URL itself", path, exc)
        return url
    return path.resolve().as_uri()


def _start_page(url: str) -> str:
    """The page ``browser_url`` writes: it sends the browser on to ``url``."""
    import html
    target = html.escape(url, quote=True)
    return (f'<!doctype html>\n<meta charset="utf-8">\n<meta http-equiv="refresh" content="0;url={target}">\n'
            f'<title>recommend web</title>\n<p><a href="{target}">Open recommend web</a></p>\n')


def remove_browser_page(url: str, directory) -> None:
    """Remove ``browser_url``'s page once the app that ``url`` opens has stopped: its token is
    worth nothing then (it was left behind in the data directory). A page another `recommend web`
    wrote since, for its own URL, is left to it."""
    from pathlib import Path
    path = Path(directory) / OPEN_FILE
    try:
        if path.read_text(encoding="utf-8") == _start_page(url):
            path.unlink()
    except (OSError, UnicodeDecodeError):
        pass  # no page (no browser was started), or not ours to remove


def no_browser(url: str, why: str) -> str:
    """What to do when no browser was started: open the URL elsewhere, through a tunnel."""
    from urllib.parse import urlsplit
    port = urlsplit(url).port
    return (f"no browser opened ({why}): open the URL above in a browser on this machine, or on yours "
            f"through an SSH tunnel (ssh -L {port}:127.0.0.1:{port} THIS-MACHINE, then the same URL)")


def open_browser(url: str, directory, say: Callable[[str], None], environ=None,
                 platform: str | None = None) -> threading.Thread | None:
    """Start the user's browser at ``url`` (through ``browser_url``) beside the server, never
    before it: Python's ``webbrowser`` waits for a text-mode browser (lynx, w3m, ``www-browser``)
    to exit, and that browser waited for the server, which started only after it: the terminal
    hung in the text browser. Without a graphical display on Linux and the BSDs (an SSH session,
    a headless server) and no ``BROWSER`` chosen, no browser is started (the pages need one that
    runs their script and draws SVG) and ``say`` tells what to do, as when none could be started."""
    import webbrowser

    from ..paths import graphical_display
    if not graphical_display(environ, platform):
        say(no_browser(url, "no graphical display here: an SSH session?"))
        return None

    def start() -> None:
        try:
            opened = webbrowser.open(browser_url(url, directory))  # no token in the browser's command line
        except webbrowser.Error:
            opened = False
        if not opened:
            say(no_browser(url, "none found"))
    thread = threading.Thread(target=start, name="web-browser", daemon=True)
    thread.start()
    return thread


# the demo's settings kept when its config file is (re)loaded: the stand-ins', open data's too, and
# no secret (a reload reads the environment: SPOTIPY_CLIENT_SECRET and LISTENBRAINZ_TOKEN are yours)
DEMO_KEYS = ("spotify.api_url", "spotify.accounts_url", "spotify.client_id", "spotify.client_secret",
             "spotify.redirect_uri", "cache.dir", "listenbrainz.api_url", "listenbrainz.labs_url",
             "listenbrainz.token", "enrich.musicbrainz_url")


def run_web(settings, *, demo: bool = False, port: int = 0, ready: Callable[[str], None] | None = None) -> None:
    """`recommend web`: serve the user's cache, or with ``demo`` the sample library through the
    Spotify stand-in (as `build-playlist --demo`: own cache dir, real PKCE login, a pull).

    The socket is bound and ``ready(url)`` called first, before the heavy imports and the demo's
    login and pull: a browser opened at once waits for the first page instead of failing.
    Returns when Ctrl-C stopped the server (the demo's stand-in account is saved, as the CLI's
    demo does)."""
    with ctrl_c_kept() as pressed:  # one Ctrl-C at any moment of the start-up stops it
        _run_web(settings, demo, port, ready, pressed)


def _run_web(settings, demo: bool, port: int, ready: Callable[[str], None] | None,
             pressed: Callable[[], bool]) -> None:
    from ..lock import demo_lock
    from .app import Security
    sock = bind(port)
    security = Security()
    security.port = sock.getsockname()[1]
    try:
        # the demo's lock before the URL: a second `web --demo` said its URL and opened a
        # browser on it, then stopped ("another demo run is using the sample account")
        with demo_lock(settings.cache_dir) if demo else contextlib.nullcontext():
            if ready:
                ready(f"http://{HOST}:{security.port}/?token={security.token}")
            # a press Python lost (``ctrl_c_kept``) is looked at again before each step of seconds:
            # the imports and the cache (with --demo: the stand-ins and the login), the demo's pull,
            # and serving (``_serve_until_interrupted``; uvicorn's ``capture_signals`` after that)
            stop_if_pressed(pressed)
            from .. import jobs
            from .context import WebContext
            if not demo:
                _serve_until_interrupted(WebContext(settings), sock, security, pressed)
                return
            with jobs.demo_environment(settings, locked=True) as (demo_settings, _server):
                jobs.demo_login(demo_settings)
                stop_if_pressed(pressed)
                _serve_until_interrupted(demo_context(demo_settings), sock, security, pressed)
    finally:
        sock.close()


def demo_context(demo_settings):
    """The demo's WebContext, its cache refreshed with the demo's own config file (saved weights,
    blocked artists, discovery's settings: a restart applies what the Discovery page saved)."""
    from pathlib import Path

    from .. import jobs
    from .context import WebContext
    config_file = Path(demo_settings.cache_dir) / DEMO_CONFIG
    ctx = WebContext(demo_settings, config_file=config_file,
                     overrides={k: demo_settings.get_path(k) for k in DEMO_KEYS}, demo=True)
    if config_file.exists():
        ctx.reload_settings()
    started = time.monotonic()
    _library, report = jobs.refresh(ctx.settings)
    # in the run log as the app's other pulls are: the Runs page said "no runs yet" beside a cache
    # fetched a moment ago, and the Discovery page counted that pull's hundreds of requests
    ctx.record_refresh(report.requests, report.tracks, started)
    jobs.import_sample_features(ctx.settings)  # the taste map's audio basis
    return ctx


def _serve_until_interrupted(ctx, sock, security, pressed: Callable[[], bool]) -> None:
    stop_if_pressed(pressed)  # still starting: "interrupted" (exit 130), not the server's stop
    try:
        serve(ctx, sock, security, pressed=pressed)
    except KeyboardInterrupt:  # uvicorn re-raises the signal after its graceful shutdown
        log.info("recommend web stopped")
