"""The one lifecycle of the stand-ins: a ``ThreadingHTTPServer`` on ``host:port`` (127.0.0.1;
port 0 = a free one) served from a daemon thread, stopped by ``stop()`` or by leaving a
``with`` block, plus the request handler that hands every request to the stand-in's
``_handle``."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, Self

from ..errors import UsageError

log = logging.getLogger(__name__)


def cannot_listen(where: str, err: OSError) -> UsageError:
    """The one-line error of a port a stand-in cannot take (``where``: "host:port")."""
    return UsageError(f"cannot listen on {where} ({err.strerror or err}): choose another --port")


class Heard(NamedTuple):
    """One request as a stand-in received it (``ServedStandIn.heard``): the privacy tests read
    every header and body the tool sent, to which service."""

    label: str
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]  # names in lower case
    body: bytes


class StandInHandler(BaseHTTPRequestHandler):
    """Reads a request and writes what ``standin._handle(method, target, headers, body)``
    returns, ``(status, headers, payload)``; header names reach ``_handle`` in lower case."""

    standin: Any  # the stand-in, set by ``ServedStandIn.start``
    protocol_version = "HTTP/1.1"
    server_version = "standin/1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stalls

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.standin.heard is not None:
            self.standin.heard.append(Heard(self.standin.label, self.command, self.path, headers, body))
        status, out_headers, payload = self.standin._handle(self.command, self.path, headers, body)
        try:
            self.send_response(status)
            for k, v in out_headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload and self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug(f"{self.standin.label}: {format}", *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops its connection between two requests (a run stopped with Ctrl-C,
        a keep-alive socket closed) is no error of the stand-in's: socketserver printed a
        15-line traceback of it to the terminal of `recommend standin`. Anything else still is."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            log.debug("%s: a client dropped its connection", client_address)
            return
        super().handle_error(request, client_address)


_LIFECYCLE_LOCK = threading.Lock()  # one start or stop at a time: none sees another half done
_POLL = 0.1  # seconds between serve_forever's looks at Ctrl-C and at the serving thread


@contextmanager
def ctrl_c_as_a_flag() -> Iterator[Callable[[], bool]]:
    """Within the block, Ctrl-C (SIGINT) sets a flag, read by the function yielded, instead of
    raising KeyboardInterrupt wherever the main thread happens to be (halfway through a print,
    a start or a stop). Outside the main thread, or when SIGINT is not Python's default (ignored,
    or someone's own handler), nothing changes and the flag stays False."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield lambda: False
        return
    pressed: list[int] = []
    # the handler takes no lock: it runs in the main thread between any two bytecodes
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous)  # (runs a Ctrl-C still pending through ours first)


class ServedStandIn:
    """Base of a stand-in. Subclasses set ``host``, ``port`` and ``label`` and define
    ``_handle(method, target, headers, body) -> (status, headers, payload)``.

    ``start()`` binds and serves (idempotent; returns self; ``port`` 0 becomes the port
    chosen); a port it cannot take is a ``UsageError`` naming it. ``stop()`` closes the
    socket and joins the thread (idempotent); a stopped stand-in can start again.
    ``_stopping`` is set while stopping (for answers that wait)."""

    host: str = "127.0.0.1"
    port: int = 0
    label: str = "stand-in"
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    # a list: every request is appended to it as ``Heard`` (off by default: bodies add up); a
    # test may set it on the class to hear every stand-in of the process, the demo's included
    heard: list[Heard] | None = None

    @property
    def origin(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self."""
        with _LIFECYCLE_LOCK:  # a stop() from another thread waits until this one is done
            if self._server is not None:
                return self
            handler = type(f"{type(self).__name__}Handler", (StandInHandler,), {"standin": self})
            try:
                server = _Server((self.host, self.port), handler)
            except OSError as err:
                raise cannot_listen(f"{self.host}:{self.port}", err) from err
            self._server, self.port = server, server.server_address[1]
            self._stopping = threading.Event()
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"{self.label}:{self.port}", daemon=True)
            self._thread.start()
        log.info("%s listening on %s", self.label, self.origin)
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join the thread (idempotent, and safe when two
        threads stop at once: Ctrl-C's cleanup and a stop from elsewhere)."""
        with _LIFECYCLE_LOCK:  # one stop at a time: a second caller returns once the port is free
            server, thread = self._server, self._thread
            if server is None:
                return
            self._stopping.set()
            server.shutdown()
            server.server_close()
            if thread is not None:
                thread.join(timeout=5)
            self._server = self._thread = None

    def serve_forever(self, ready: Callable[[Self], object] | None = None) -> None:
        """Start (if needed), call ``ready(self)`` (where a caller says "Ctrl-C to stop") and
        block until Ctrl-C or a ``stop()`` from elsewhere; then stop. In the main thread a
        Ctrl-C at any moment of this call (while starting, inside ``ready``, while stopping)
        is a clean stop: it only sets a flag that the wait looks at every ``_POLL`` s."""
        interrupted = False
        with ctrl_c_as_a_flag() as pressed:
            try:
                thread = self.start()._thread
                if ready is not None:
                    ready(self)
                while thread is not None and thread.is_alive() and not pressed():
                    thread.join(_POLL)
            except KeyboardInterrupt:  # SIGINT had someone's own handler, which raised it
                interrupted = True
            finally:
                self.stop()
            interrupted = interrupted or pressed()
        if interrupted:
            log.info("%s stopped", self.label)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
