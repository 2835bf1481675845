"""The lifecycle the open-data stand-ins share: a ``ThreadingHTTPServer`` on 127.0.0.1 served
from a daemon thread, stopped by ``stop()`` or by leaving a ``with`` block."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ServedStandIn:
    """Base of a stand-in: subclasses set ``host`` and ``port`` and call ``_serve(Handler)``
    from their ``start``. ``_stopping`` is set while stopping (for answers that wait)."""

    host: str
    port: int
    _server: ThreadingHTTPServer | None = None

    def _serve(self, handler: type[BaseHTTPRequestHandler]):
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        if self._server is not None:
            self._stopping.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
