"""Helpers for tests that talk to the stand-in: settings pointed at it, a saved login."""

from __future__ import annotations

import json
from pathlib import Path

from recommender.config import load_settings


def settings_for(server, cache_dir: Path, **overrides):
    """Settings pointing at ``server`` with ``cache_dir`` as cache; fast retries."""
    base = {
        "spotify.api_url": server.api_url,
        "spotify.accounts_url": server.accounts_url,
        "spotify.client_id": "test-client",
        "cache.dir": str(cache_dir),
        "spotify.max_retry_wait": 5.0,
    }
    import os  # the open-data stand-ins of conftest (no test reaches the real services)
    for var, key in (("RECOMMENDER_LISTENBRAINZ_API_URL", "listenbrainz.api_url"),
                     ("RECOMMENDER_LISTENBRAINZ_LABS_URL", "listenbrainz.labs_url"),
                     ("RECOMMENDER_MUSICBRAINZ_URL", "enrich.musicbrainz_url")):
        if os.environ.get(var):
            base[key] = os.environ[var]
    base.update(overrides)
    return load_settings(environ={}, overrides=base)


def save_login(server, cache_dir: Path, **token_kwargs) -> dict:
    """Write a token issued by the stand-in where the tool looks for it."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    token_kwargs.setdefault("client_id", "test-client")
    token = server.issue_token(**token_kwargs)
    (cache_dir / "spotify-token.json").write_text(json.dumps(token))
    return token


def gateway_for(settings, sleeps: list | None = None):
    """A Gateway whose sleeps are recorded instead of slept (tests never wait for real)."""
    from recommender.spotify.auth import make_auth_manager
    from recommender.spotify.gateway import Gateway
    record = sleeps if sleeps is not None else []
    return Gateway.from_settings(make_auth_manager(settings), settings, sleep=record.append)


def api_requests(server, method: str | None = None, prefix: str = "/v1/") -> list:
    return [r for r in server.requests if r.path.startswith(prefix) and (method is None or r.method == method)]


def remove_by_hand(gateway, playlist_id: str, tracks: list[str]) -> None:
    """The user removes tracks in the app: a DELETE, the other entries keep their ``added_at``
    (a replace would give every entry a new one, as another computer's write does)."""
    gateway.client.playlist_remove_all_occurrences_of_items(playlist_id, [f"spotify:track:{t}" for t in tracks])


def add_by_hand(gateway, playlist_id: str, tracks: list[str], position: int | None = None) -> None:
    """The user adds tracks in the app (at the end, or at ``position``)."""
    gateway.client.playlist_add_items(playlist_id, [f"spotify:track:{t}" for t in tracks], position=position)


def add_by_collaborator(server, playlist_id: str, tracks: list[str], user: str = "a-friend") -> None:
    """Another user adds tracks to the playlist (made collaborative: ``added_by`` is theirs)."""
    server.add_as(user, playlist_id, tracks)


class LocalServer:
    """An HTTP server of the test's own on 127.0.0.1 (a free port), answering with ``handler``
    (a ``BaseHTTPRequestHandler`` class) in a thread: ``url`` is its base, without a final "/".
    A context manager, or ``close()``: a misbehaving service, a proxy, an echo."""

    def __init__(self, handler: type) -> None:
        import http.server
        import threading
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "LocalServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def free_port() -> int:
    """A loopback port for a server the code under test opens itself (the login's redirect).

    Picked at random below Linux's ephemeral range (32768-60999), so a server another test worker
    opens on port 0 meanwhile cannot be given it, and checked free now; bind(0) handed out ports
    from that range, which a parallel worker's port-0 server could take before the login bound it."""
    import random
    import socket
    for _ in range(100):
        port = random.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port between 20000 and 32000")
