"""Login: Authorization Code with PKCE (default) or with a client secret; token cache.

The token lives in ``<cache dir>/spotify-token.json`` in spotipy's CacheFileHandler JSON
format (mode 0600, written atomically). Only ``login()`` ever asks the user for anything;
every other path is non-interactive: no token, a changed scope or a refused refresh token
raise ``AuthError`` ("run `recommend auth`"), never a prompt.
"""

from __future__ import annotations

import copy
import html
import json
import logging
import re
import socket
import threading
import time
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from spotipy.cache_handler import CacheFileHandler
from spotipy.oauth2 import SpotifyOAuth, SpotifyOauthError, SpotifyPKCE

from ..errors import (AppAccessRefused, AuthError, ConfigError, RateLimited, RecommenderError, SpotifyUnavailable,
                      development_mode_refusal, make_dirs, wait_seconds)
from ..paths import TRY_DEMO, user_data_dir
from ..store import atomic_write_text, file_stat
from ..wording import configured_at
from .gateway import backoff_wait, failure, oauth_error_code, rate_limit_wait, retry_notice, slow_down_notice

log = logging.getLogger(__name__)
# a redirect to our address that carries neither a code nor an error (typed or cut by hand)
NO_ANSWER = "neither a code nor an error from Spotify (the address was cut or typed by hand?)"

TOKEN_FILE = "spotify-token.json"
EXAMPLE_CLIENT_ID = "your-client-id"  # config/example.yaml's placeholder: no app has it
# the characters a client id may hold: letters, digits and URL-safe marks. Spotify's are 32 hex
# digits; any such word is taken (a stand-in takes any client id: "test-client"), while a space, a
# line end, a quote or a non-ASCII letter (a paste gone wrong) is refused before any request
CLIENT_ID_CHARACTERS = re.compile(r"[A-Za-z0-9._~-]+")
BASE_SCOPES = (
    "playlist-read-private",
    "playlist-read-collaborative",
    "user-top-read",
    "user-library-read",
    "user-follow-read",
    "playlist-modify-private",
)
NEEDS_LOGIN = f"run `recommend auth` to log in to Spotify (or try {TRY_DEMO})"


def scopes(public_playlist: bool = False) -> str:
    """The OAuth scopes we ask for; ``playlist-modify-public`` only for a public playlist."""
    return " ".join(BASE_SCOPES + (("playlist-modify-public",) if public_playlist else ()))


def token_path(cache_dir: Path) -> Path:
    return Path(cache_dir) / TOKEN_FILE


class AtomicCacheFileHandler(CacheFileHandler):
    """spotipy's cache format, written atomically with mode 0600.

    spotipy asks for the token before every request; the file is read again only when its stat
    (``store.file_stat``: modification time, size, inode) changed since it was last read: a run
    reads it once, and a token another process wrote meanwhile (a scheduled run's refresh, a
    `recommend auth`), or our own refresh's, is read at the next request, as before."""

    _seen: tuple | None = None  # (the file's stat, the token read from it)
    client_id: str | None = None  # the app a token saved here is for, kept in it beside spotipy's keys

    def get_cached_token(self) -> dict[str, Any] | None:
        stat = file_stat(Path(self.cache_path))
        if stat is not None and self._seen is not None and self._seen[0] == stat:
            return copy.deepcopy(self._seen[1])
        try:
            token = super().get_cached_token()
        except ValueError:  # bytes that are not UTF-8 text (spotipy catches only a JSON error): no login
            token = None
        self._seen = (stat, copy.deepcopy(token)) if stat is not None and token is not None else None
        return token

    def save_token_to_cache(self, token_info: dict[str, Any]) -> None:
        saved = {**token_info, "client_id": self.client_id} if self.client_id else token_info
        atomic_write_text(Path(self.cache_path), json.dumps(saved), mode=0o600)


def read_token(cache_dir: Path) -> dict[str, Any] | None:
    """The cached token info, or None when absent or unreadable."""
    path = token_path(cache_dir)
    try:  # NaN or Infinity (a file edited by hand) unknown: `status --json` wrote them, which is no JSON
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=lambda constant: None)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def unusable_token(cache_dir: Path) -> str | None:
    """Why the saved login file of ``cache_dir``, which exists, cannot be used (damaged, not a
    login, no permission), with what to do; None when it is absent or a login."""
    path = token_path(cache_dir)
    token = read_token(cache_dir)
    if not path.exists() or (token is not None and any(isinstance(token.get(k), str) and token[k]
                                                       for k in ("access_token", "refresh_token"))):
        return None
    return f"{_unreadable_token(path)}{NEEDS_LOGIN}"


def another_apps_login(token: Any, path: Path, client_id: str, source: str | None = None) -> str | None:
    """Why ``token`` (the saved login ``path`` holds) is no login of the app ``client_id``
    (``spotify.client_id``, set in ``source``): it was saved for another client id; None when it
    is this app's, or says no app (a token dropped in, or saved before the file kept its app)."""
    owner = token.get("client_id") if isinstance(token, dict) else None
    if not isinstance(owner, str) or not owner or owner == client_id:
        return None
    source = f" (from {source})" if source and source != "override" else ""
    return (f"the saved login {path} is another app's (client id {owner!r}), "
            f"not that of spotify.client_id {client_id!r}{source}: {LOGIN_AGAIN}")


def _unreadable_token(path: Path) -> str:
    """Why there is no login: 'not logged in', or the saved login file that cannot be read
    (damaged, not spotipy's format, no permission) named, so that it is not taken for absent."""
    if not path.exists():
        standard = user_data_dir() / path.name
        if path.parent.resolve() != standard.parent.resolve() and standard.exists():
            # cache.dir / RECOMMENDER_CACHE_DIR names a folder without the login the standard place
            # has: a crontab line from before `config migrate` moved the checkout's cache/
            return (f"not logged in to Spotify in {path.parent} (cache.dir or RECOMMENDER_CACHE_DIR), but "
                    f"{standard.parent} has a login: if a crontab line names that folder, "
                    "`recommend schedule install` writes it anew; else ")
        return "not logged in to Spotify: "
    try:
        json.loads(path.read_text(encoding="utf-8"))
        why = "not a saved Spotify login"
    except OSError as exc:
        why = exc.strerror or str(exc)
    except UnicodeDecodeError:
        why = "not text"
    except ValueError:
        why = "not JSON"
    return f"the saved login {path} cannot be used ({why}): "


_sleep = time.sleep  # tests replace it: no test waits for real


class _NonInteractive:
    """Mixin: ``get_access_token`` uses the cache (refreshing silently) or raises AuthError.

    A token refresh that the accounts service answers with 429 or 5xx, or that times out, is
    an outage, not a lost login: it is retried ``max_retries`` times (Retry-After honoured up
    to ``max_retry_wait``), then RateLimited (exit 4) or SpotifyUnavailable (exit 5). Only a
    refusal of the refresh token itself (``invalid_grant`` and other 4xx) means "run
    `recommend auth`" (AuthError, exit 3). The token cache is written only on success.
    """

    max_retries = 4
    max_retry_wait = 60.0
    backoff = 0.5
    where = ""  # wording.configured_at: named when the accounts service cannot be reached
    announced = False  # the first retry was said on stderr (gateway.retry_notice)

    def get_access_token(self, code=None, check_cache=True, as_dict=False):  # noqa: D401
        cached = self.cache_handler.get_cached_token()
        if not isinstance(cached, dict) or not any(isinstance(cached.get(k), str) and cached[k]
                                                   for k in ("access_token", "refresh_token")):
            # none, or a dropped-in file that is no login (not an object, or an object without a token)
            raise AuthError(f"{_unreadable_token(Path(self.cache_handler.cache_path))}{NEEDS_LOGIN}")
        if other := another_apps_login(cached, Path(self.cache_handler.cache_path), self.client_id,
                                       getattr(self, "credentials_from", {}).get("spotify.client_id")):
            raise AuthError(other)  # spotify.client_id changed since: its access token was used for an
            # hour as this app's, then its refresh refused as "removed"
        if not isinstance(cached.get("expires_at"), (int, float)):  # a token dropped in (expires_in only)
            cached = {**cached, "expires_at": 0}  # its age is unknown: refresh it first
        scope = cached.get("scope")
        if scope is not None and not isinstance(scope, str):  # spotipy splits it: a list (another tool's) was exit 1
            words = scope if isinstance(scope, list) and all(isinstance(w, str) for w in scope) else []
            cached = {**cached, "scope": " ".join(words)}  # anything else grants nothing: "lacks the scopes"
        if self.is_token_expired(cached) and not cached.get("refresh_token"):
            raise AuthError(f"the saved login has expired and has no refresh token: {NEEDS_LOGIN}")
        token = self._with_retries(lambda: self.validate_token(cached))
        if token is None:
            granted = set(str(cached.get("scope") or "").split())
            missing = " ".join(s for s in str(self.scope or "").split() if s not in granted)
            raise AuthError(f"the saved login lacks the scopes this tool needs ({missing or 'unknown'}): {NEEDS_LOGIN} "
                            "and approve all that Spotify's page asks")
        return token if as_dict else token["access_token"]

    def force_refresh(self) -> None:
        """Refresh now, even though the cached token looks valid (the server said 401)."""
        cached = self.cache_handler.get_cached_token()
        if not cached or not cached.get("refresh_token"):
            raise AuthError(f"the access token was rejected and there is no refresh token: {NEEDS_LOGIN}")
        self._with_retries(lambda: self.refresh_access_token(cached["refresh_token"]))

    def _handle_oauth_error(self, http_error):
        """spotipy's handler, keeping the HTTP status and Retry-After on the exception."""
        try:
            super()._handle_oauth_error(http_error)
        except SpotifyOauthError as exc:
            response = http_error.response
            exc.http_status = getattr(response, "status_code", None)
            exc.retry_after = wait_seconds((getattr(response, "headers", None) or {}).get("Retry-After"))
            raise

    def _add_custom_values_to_token_info(self, token_info):
        """spotipy's, for an answer that is a token: JSON that is none (a proxy's `{}` or `[]`)
        is an unreadable answer, as one that is no JSON is (retried, then exit 5, the login kept),
        where spotipy's KeyError ('expires_in') was an unexpected error, exit 1."""
        if not isinstance(token_info, dict) or not isinstance(token_info.get("access_token"), str) \
                or not isinstance(token_info.get("expires_in"), (int, float)):
            raise requests.exceptions.InvalidJSONError("the accounts service answered with no token")
        granted = token_info.get("scope")
        token_info = super()._add_custom_values_to_token_info(token_info)
        if isinstance(granted, str):  # spotipy's secret flow put the scopes asked for in place of those
            token_info["scope"] = granted  # granted: a login approved with fewer said "Logged in"
        return token_info

    def _with_retries(self, call: Callable[[], Any]) -> Any:
        attempt = 0
        while True:
            per_try = 0.0  # how long one try may take (a timeout's): in the first retry's notice
            try:
                return call()
            except SpotifyOauthError as exc:
                status = getattr(exc, "http_status", None)
                refused = _app_refused(self, exc)
                if refused:
                    raise refused from None
                if not _outage(status):
                    raise AuthError(_login_refused(oauth_error_code(exc), exc)) from None
                wait = getattr(exc, "retry_after", None)
                if status == 429:
                    wait = rate_limit_wait(wait, self.backoff, self.max_retry_wait, attempt)
                    if wait > self.max_retry_wait or attempt >= self.max_retries:
                        from .gateway import when
                        raise RateLimited(f"the Spotify accounts service is rate-limiting the login refresh; "
                                          f"try again {when(wait)} (your saved login is kept)", retry_after=wait) from None
                    what, said = "429 from the accounts service", ""
                else:
                    what, said = f"{status} from the accounts service", f"answered {status} to the login refresh"
                    if attempt >= self.max_retries:
                        raise SpotifyUnavailable(f"the Spotify accounts service is unavailable ({what}, {attempt + 1} "
                                                 f"{_attempts(attempt + 1)}){self.where}; try again later (your saved login is kept)"
                                                 ) from None
                    wait = backoff_wait(self.backoff, self.max_retry_wait, attempt)
            except requests.RequestException as exc:
                what = f"{type(exc).__name__} from the accounts service"
                if attempt >= self.max_retries:
                    raise SpotifyUnavailable(f"cannot reach the Spotify accounts service ({type(exc).__name__}, "
                                             f"{attempt + 1} {_attempts(attempt + 1)}){self.where}; try again later (your saved login "
                                             "is kept)") from None
                wait = backoff_wait(self.backoff, self.max_retry_wait, attempt)
                said = f"did not answer the login refresh ({failure(exc, self.requests_timeout)})"
                per_try = self.requests_timeout if isinstance(exc, requests.Timeout) else 0.0
            if not self.announced:  # the first retry is said on stderr: a person sees why nothing happens
                self.announced = True
                later = [backoff_wait(self.backoff, self.max_retry_wait, a) for a in range(attempt + 1, self.max_retries)]
                service = f"the Spotify accounts service{self.where}"
                log.warning(retry_notice(service, said, [wait] + later, per_try) if said else
                            slow_down_notice(service, "429 to the login refresh", wait, self.max_retries - attempt))
            log.info("token refresh: %s; retrying in %.1f s", what, wait)
            _sleep(wait)
            attempt += 1


def _app_refused(manager, exc: SpotifyOauthError) -> AppAccessRefused | None:
    """The accounts service's refusal of the app or the account, whatever the status (an app
    whose owner has no Premium, an account not on its list, ``invalid_client``): no retry and no
    new login helps. None for any other answer."""
    refusal = development_mode_refusal(_oauth_text(exc))
    if refusal:
        return AppAccessRefused(refusal)
    if oauth_error_code(exc) == "invalid_client":  # the app's credentials are wrong
        return AppAccessRefused(_client_refused(manager, exc))
    return None


def _outage(status: int | None) -> bool:
    """An accounts service's answer of this HTTP status is an outage (429, 5xx), not a refusal."""
    return status == 429 or (status or 0) >= 500


def _client_refused(manager, exc: SpotifyOauthError) -> str:
    """What to do when Spotify's accounts service answers ``invalid_client``: the client id (an
    app deleted, or an id mistyped) or the secret (rotated in the dashboard) is not the app's.
    ``recommend auth`` with the same settings is refused the same way, so it names the setting."""
    said = f"invalid_client: {exc.error_description}" if exc.error_description else "invalid_client"
    froms = getattr(manager, "credentials_from", {})
    if getattr(manager, "client_secret", None) and "secret" in str(exc.error_description or "").lower():
        key, what = "spotify.client_secret", "a secret rotated there must be copied again; the saved login then works"
    else:
        key, what = "spotify.client_id", "an app deleted there needs a new app, its client id, and `recommend auth`"
    source = f" (from {froms[key]})" if froms.get(key) and froms[key] != "override" else ""
    return (f"Spotify does not accept this app's credentials ({said}): check {key}{source} against your app's "
            f"settings at https://developer.spotify.com/dashboard ({what}); until they match, every login is refused")


LOGIN_AGAIN = "run `recommend auth` to log in again"


def _login_refused(error: str | None, exc: SpotifyOauthError) -> str:
    """The one line of a saved login Spotify refuses (``invalid_grant``): what Spotify said, why
    that happens to a login that worked (its access removed on the account's Apps page, or the
    login too old), and what to do. Not the new user's "or try the demo": the login worked."""
    from .gateway import plain_text
    said = error or "invalid_grant"
    if isinstance(exc.error_description, str) and exc.error_description.strip():
        said += f": {plain_text(exc.error_description, 80)}"
    why = ("the app's access was removed on https://www.spotify.com/account/apps/, or the login expired; "
           if said.startswith("invalid_grant") else "")
    return f"Spotify refused the saved login ({said}): {why}{LOGIN_AGAIN}"


def _oauth_text(exc: SpotifyOauthError) -> str:
    """The accounts service's words: its JSON ``error_description``, or its whole body when it
    was no JSON (spotipy puts that in ``error``)."""
    return f"{getattr(exc, 'error', '') or ''} {getattr(exc, 'error_description', '') or ''}"


class PKCEAuth(_NonInteractive, SpotifyPKCE):
    pass


class SecretAuth(_NonInteractive, SpotifyOAuth):
    pass


def make_auth_manager(settings, cache_dir: Path | None = None) -> SpotifyPKCE | SpotifyOAuth:
    """An auth manager pointed at the configured accounts service, never prompting."""
    sp = settings.spotify
    if sp.client_id == EXAMPLE_CLIENT_ID:  # Spotify's login page would only say INVALID_CLIENT
        raise AuthError(f"spotify.client_id is still config/example.yaml's placeholder {EXAMPLE_CLIENT_ID!r} (from "
                        f"{settings.sources.get('spotify.client_id', 'your config file')}): put your app's client id "
                        "there (https://developer.spotify.com/dashboard) or set SPOTIPY_CLIENT_ID, then run "
                        "`recommend auth`")
    where = settings.sources.get("spotify.client_id")
    if not sp.client_id and where and where != "defaults":  # set empty (a file, a variable): name where
        raise AuthError(f"spotify.client_id is empty (in {where}): put your app's client id there "
                        "(https://developer.spotify.com/dashboard) or set SPOTIPY_CLIENT_ID, then run `recommend auth`")
    if not sp.client_id:
        raise AuthError("not connected to Spotify: set spotify.client_id in your config file (`recommend config path` "
                        "shows where) or SPOTIPY_CLIENT_ID "
                        "(create an app at https://developer.spotify.com/dashboard), then run `recommend auth`; "
                        f"or try everything on the built-in sample library with {TRY_DEMO}")
    if not CLIENT_ID_CHARACTERS.fullmatch(sp.client_id):  # (what Spotify would call "Invalid client")
        from ..safetext import cut, terminal_safe
        raise AuthError(f"spotify.client_id '{terminal_safe(cut(sp.client_id, 40))}' (from "
                        f"{where or 'your config file'}) is no client id: it holds a space, a control character or "
                        "another character no client id has (Spotify's are 32 letters and digits, 0-9 and a-f); "
                        "copy your app's Client ID from https://developer.spotify.com/dashboard into it, then run "
                        "`recommend auth`")
    cache_dir = Path(cache_dir or settings.cache_dir)
    make_dirs(cache_dir)
    handler = AtomicCacheFileHandler(cache_path=str(token_path(cache_dir)))
    handler.client_id = sp.client_id
    common = dict(client_id=sp.client_id, redirect_uri=sp.redirect_uri, scope=scopes(settings.playlist.public),
                  cache_handler=handler, open_browser=False, requests_timeout=sp.timeout)
    if sp.client_secret:
        manager: SpotifyPKCE | SpotifyOAuth = SecretAuth(client_secret=sp.client_secret, **common)
    else:
        manager = PKCEAuth(**common)
    manager.max_retries = sp.max_retries
    manager.max_retry_wait = sp.max_retry_wait
    manager.where = configured_at(settings, "spotify.accounts_url")
    manager.credentials_from = {k: settings.sources.get(k) for k in ("spotify.client_id", "spotify.client_secret")}
    base = sp.accounts_url.rstrip("/")
    manager.OAUTH_AUTHORIZE_URL = f"{base}/authorize"
    manager.OAUTH_TOKEN_URL = f"{base}/api/token"
    return manager


DASHBOARD = "https://developer.spotify.com/dashboard"


def _register(redirect_uri: str, settings) -> str:
    source = settings.sources.get("spotify.redirect_uri")
    source = f" (from {source})" if source and source != "override" else ""
    return (f"add exactly {redirect_uri} under Redirect URIs in your app's settings ({DASHBOARD}) and save, or set "
            f"spotify.redirect_uri{source} to one listed there; check spotify.client_id too")


def _authorize_refusal(url: str, redirect_uri: str, settings) -> str | None:
    """Spotify's own refusal of the login page (``INVALID_CLIENT: Invalid redirect URI``,
    ``Insecure redirect URI``, ``Invalid client``, answered 4xx), asked before the browser opens:
    the page shows it to the person, never to us, and the login used to wait its whole timeout
    for a redirect that could not come. None when the page answers otherwise, or cannot be asked
    (the browser will tell). A page this machine cannot reach (offline, a stand-in's address left
    behind) is SpotifyUnavailable naming the address: the login waited 300 s for a redirect that
    could not come, then blamed the browser."""
    try:
        answer = requests.get(url, allow_redirects=False, timeout=settings.spotify.timeout)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise SpotifyUnavailable(f"cannot reach the Spotify accounts service{configured_at(settings, 'spotify.accounts_url')} "
                                 f"for its login page ({failure(exc, settings.spotify.timeout)}): the login needs it; "
                                 "check the network (or that address), then run `recommend auth` again") from None
    except requests.RequestException:
        return None
    # only an error status counts: a login page (a redirect, or 200) may carry such words in its scripts
    found = None if answer.status_code < 400 else re.search(r"INVALID_CLIENT:\s*([^<\n]{1,80})", answer.text or "")
    if not found:
        return None
    said = found.group(1).strip()
    if "redirect" in said.lower():
        return f"Spotify's login page refuses the redirect URI {redirect_uri} (INVALID_CLIENT: {said}): " \
               f"{_register(redirect_uri, settings)}"
    source = settings.sources.get("spotify.client_id")
    source = f" (from {source})" if source and source != "override" else ""
    return (f"Spotify's login page does not know the client id {settings.spotify.client_id!r} (INVALID_CLIENT: "
            f"{said}): check spotify.client_id{source} against your app's settings at {DASHBOARD}")


class _CallbackHandler(BaseHTTPRequestHandler):
    timeout = 5  # a connection that sends nothing (a browser's preconnect) is let go after that

    def do_GET(self) -> None:  # noqa: N802
        server: _CallbackServer = self.server  # type: ignore[assignment]
        address = urlparse(self.path)
        if address.path != server.path:  # a browser's /favicon.ico
            self.send_error(404)
            return
        query = {k: v[0] for k, v in parse_qs(address.query).items()}
        if not {"state", "code", "error"} & set(query):
            # the redirect URI opened by hand (copied from the app's settings), no answer at all
            self._page(400, "this page takes the answer of Spotify's login page: open the login URL that "
                            "`recommend auth` prints (or opened) instead")
            return
        if query.get("state") != server.state:
            # not this login's answer: a tab of an earlier `recommend auth` reloaded, or any page's
            # request; this login keeps waiting for its own
            server.saw_stale(query)
            self._page(400, "this is the answer to an earlier login, not to the one waiting now: close this tab")
            return
        if not server.take(query):  # a reload, or a second tab: the first answer stays the login's
            self._page(200, "this login already has its answer from Spotify: the terminal says how it ends; "
                            "you can close this tab.")
            return
        try:  # the login ends once this page is written
            if "code" not in query:  # the error comes from the address: escaped, as every name is
                self._page(400, "Login failed: " + query.get("error", NO_ANSWER))  # (it said "?")
                return
            # the page says how the login ended: it said "Logged in" before the code was exchanged,
            # while the terminal could then say the exchange failed
            # ``logged_in`` is read only once ``ended`` is set (``finish`` writes it first): read
            # after a wait that gave up, a login ending meanwhile gave the "approved" page its status
            if server.ended.wait(server.finish_wait):
                self._page(200 if server.logged_in else 400, server.ending)
            else:
                self._page(400, "Spotify approved the login: the terminal says whether it was saved; "
                                "you can close this tab.")
        finally:
            server.page_sent.set()

    def _page(self, status: int, text: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(f"<html><body><p>recommend: {html.escape(text)}</p></body></html>".encode())

    def log_message(self, *args) -> None:
        pass


class _CallbackServer(ThreadingMixIn, HTTPServer):
    """The login's callback server on the IPv4 loopback address.

    Each connection is served in a thread of its own: a browser's preconnect left idle, a
    request sent half (another program's, a port scanner's) or slowly held up every connection
    behind it, Spotify's redirect too. The first answer with this login's state is taken
    (``answered`` is set); later ones leave it as it is. ``server_close`` ends the connections
    still open (a preconnect left idle, a request sent half) and their threads: none outlives
    the login."""

    def __init__(self, address, path: str = "/", state: str = "") -> None:
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()  # the ones still open
        self._handlers: list[threading.Thread] = []  # the threads serving them
        super().__init__(address, _CallbackHandler)  # (which calls server_close when it cannot listen)
        self.path, self.state = path, state
        self.result: dict[str, str] | None = None
        self.stale = False  # an answer for another login came (a stale tab)
        self.answered = threading.Event()
        # how the login ended (``finish``), for the page of the answer that brought its code
        self.ending, self.logged_in = "", False
        self.ended, self.page_sent = threading.Event(), threading.Event()
        self.finish_wait = 300.0  # the longest that page waits for it

    def process_request(self, request, client_address) -> None:
        # (not ThreadingMixIn's: its daemon_threads and _threads are unused; these threads are
        # daemons, and server_close ends their connections, then joins them)
        thread = threading.Thread(target=self.process_request_thread, args=(request, client_address), daemon=True,
                                  name=f"login callback {client_address[1]}")
        with self._lock:
            self._connections.add(request)
            self._handlers = [t for t in self._handlers if t.is_alive()] + [thread]
        thread.start()

    def shutdown_request(self, request) -> None:
        with self._lock:  # (not while server_close shuts it)
            self._connections.discard(request)
            super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._lock:
            for request in self._connections:  # an idle or half-sent one: its handler's read ends at once
                try:
                    request.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            threads = list(self._handlers)
        for thread in threads:
            thread.join(5)  # (each ends at once: its connection is over, and the login's ending said)

    def take(self, query: dict[str, str]) -> bool:
        """Keep ``query`` as the login's answer, unless one came before it."""
        with self._lock:
            if self.result is not None:
                return False
            self.result = query
        self.answered.set()
        return True

    def finish(self, text: str, logged_in: bool = False) -> None:
        """Say ``text`` on the page of the answer that brought the code (it waits for it)."""
        self.ending, self.logged_in = text, logged_in
        self.ended.set()

    def saw_stale(self, query: dict[str, str]) -> None:
        with self._lock:
            self.stale |= bool({"state", "code", "error"} & set(query))

    def handle_error(self, request, client_address) -> None:
        # a connection reset mid-request (a tab closed): socketserver printed a traceback on stderr
        log.debug("login callback: request from %s failed", client_address, exc_info=True)


class _CallbackServer6(_CallbackServer):
    """The login's callback server on the IPv6 loopback address (Spotify takes both
    http://127.0.0.1:PORT and http://[::1]:PORT; HTTPServer listens on IPv4 only)."""

    address_family = socket.AF_INET6


def _url_host(hostname: str) -> str:
    """``hostname`` as a URL (or ``ssh -L``) names it: an IPv6 address in brackets ("[::1]")."""
    return f"[{hostname}]" if ":" in hostname else hostname


_AGAIN = "nothing was saved; run `recommend auth` again in a moment"


def _callback_server(settings, redirect, state: str, any_port: bool):
    """The loopback server that takes Spotify's redirect for the login of ``state``, listening
    at ``spotify.redirect_uri`` (``redirect``: parsed; ``any_port``: a free port instead); a
    redirect URI that is no plain-http loopback address with a port, or a port another program
    holds, is a ConfigError that says what to set."""
    try:
        port = redirect.port
    except ValueError:  # "http://127.0.0.1:99999/callback"
        port = None
    loopback = redirect.hostname in {"127.0.0.1", "::1"}
    if not loopback or not port or redirect.scheme != "http":
        # Spotify takes https on the loopback address too, but the callback server speaks plain http
        said = redirect._replace(scheme="http").geturl() if loopback and port else "http://127.0.0.1:PORT/callback"
        source = settings.sources.get("spotify.redirect_uri")  # where a wrong value came from: the file or a variable
        raise ConfigError(f"{source + ': ' if source else ''}spotify.redirect_uri must be {said}, got "
                          f"{settings.spotify.redirect_uri!r}: the tool "
                          "takes Spotify's answer on its own plain-http page, on the loopback address (127.0.0.1 "
                          f"or [::1]); list the URI exactly so in your app's settings ({DASHBOARD})")
    host = _url_host(redirect.hostname)
    try:
        server_class = _CallbackServer6 if ":" in redirect.hostname else _CallbackServer
        server = server_class((redirect.hostname, 0 if any_port else port), redirect.path or "/", state)
    except OSError as exc:
        source = settings.sources.get("spotify.redirect_uri")
        source = f", from {source}" if source and source != "override" else ""
        import errno
        why = {errno.EADDRINUSE: "another program holds that port (another `recommend auth`, a notebook server): "
                                 "stop it, or",
               errno.EACCES: "ports below 1024 are the system's:",
               errno.EADDRNOTAVAIL: "no IPv6 loopback here (IPv6 is off):" if ":" in host else "no such address here:"
               }.get(exc.errno, "")
        raise ConfigError(f"spotify.redirect_uri{source}: cannot listen on {host}:{port} ({exc.strerror}): "
                          f"{why + ' ' if why else ''}list "
                          f"http://127.0.0.1:PORT/callback with a free PORT in your app's settings ({DASHBOARD}) and "
                          "set spotify.redirect_uri to it") from None
    return server


def _answered_and_saved(server, manager, url: str, settings, cache_dir: Path | None,
                        open_url: Callable[[str], Any] | None, timeout: float,
                        check: Callable[[], Any] | None) -> None:
    """``login``'s wait: ``url`` opened (``open_url``, default the web browser) while ``server``
    waits up to ``timeout`` seconds for Spotify's redirect; then the code exchanged and the
    token saved, ``check()`` called (a refusal puts back the login saved before, if any), and
    the browser's page told how the login ended."""
    # served until Spotify's redirect for this login (its path, its state) comes: a connection
    # that brings no request (a browser's preconnect), another request or another login's
    # answer ends nothing; one request ended the login at once, said as 'no answer within 300 s'
    deadline = time.monotonic() + timeout
    server.finish_wait = timeout
    opened: list[BaseException] = []

    def open_page() -> None:
        # in a thread of its own: a browser that returns only once closed (a text-mode one, a
        # test's) follows the redirect meanwhile, and that page waits for the exchange below
        try:
            (open_url or webbrowser.open)(url)
        except BaseException as exc:  # noqa: BLE001  # raised again in the login's own thread
            # (when no answer came: one that came is the login's, whatever the browser does after)
            log.debug("login: opening the login page failed", exc_info=True)
            opened.append(exc)
            server.answered.set()
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
                               name="login callback")
    opener = threading.Thread(target=open_page, daemon=True, name="login browser")
    serving.start()
    ending, logged_in = "the login was stopped: the terminal says why; you can close this tab.", False
    ended = False  # on its own, not stopped (Ctrl-C, SIGTERM): then the browser's opening is waited for
    try:
        opener.start()
        _waiting(server.answered.wait, deadline - time.monotonic())
        if opened and server.result is None:
            raise opened[0]
        try:
            saved = token_path(cache_dir or settings.cache_dir)
            before = _read_login(saved)  # the login that worked until now
            _exchange(manager, server, timeout, settings)
            if check is not None:
                try:
                    check()
                except RecommenderError as exc:  # (an account Spotify does not let use the app)
                    if before is None:  # kept: it works once the account is added, as nothing else does
                        raise
                    # the login that worked stays: cron's runs failed with the refused one from then on
                    _put_back(saved, before)
                    exc.args = (f"{exc}; the login saved before this one is kept",)  # (its class and fields kept)
                    raise
        except RecommenderError as exc:
            ending, ended = f"Login failed: {exc}", True
            raise
        ending, logged_in, ended = "Logged in: you can close this tab.", True, True
    finally:
        server.finish(ending, logged_in)
        try:
            if ended:
                _waiting(lambda t: opener.join(t) or not opener.is_alive(), None)
            if server.result is not None:  # (a refusal's page too)
                _waiting(server.page_sent.wait, 5)  # written before `recommend auth` ends
        finally:
            server.shutdown()
            serving.join()
            server.server_close()


def login(settings, cache_dir: Path | None = None, open_url: Callable[[str], Any] | None = None,
          timeout: float = 300.0, any_port: bool = False, check: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Interactive login: start the loopback callback server, open the authorize URL,
    wait for the redirect, exchange the code (PKCE or secret) and save the token.

    ``open_url`` receives the authorize URL (default: the web browser). ``any_port``: the
    callback listens on a free port and the redirect URI names it (the demo's stand-in takes
    any; Spotify takes only the registered one). ``check()`` is called once the token is
    saved, before the browser's page says how the login ended: a RecommenderError it raises
    ends the login (the page says it). Returns token info.
    """
    manager = make_auth_manager(settings, cache_dir)
    redirect = urlparse(settings.spotify.redirect_uri)
    import secrets
    state = secrets.token_urlsafe(16)
    server = _callback_server(settings, redirect, state, any_port)
    if any_port:  # bound, so no other process can take the port between choosing and listening
        manager.redirect_uri = redirect._replace(netloc=f"{_url_host(redirect.hostname)}:{server.server_port}").geturl()
    manager.state = state
    if isinstance(manager, SpotifyPKCE):
        manager.get_pkce_handshake_parameters()
    url = manager.get_authorize_url(state=state)
    if "show_dialog=" not in url:  # (spotipy's PKCE manager has no such option)
        # the login page then shows which account the browser is signed in to, with "Not you?":
        # without it Spotify approves at once for an account that approved the app before
        url += "&show_dialog=true"
    try:
        refused = _authorize_refusal(url, manager.redirect_uri, settings)
    except RecommenderError:
        server.server_close()
        raise
    if refused:
        server.server_close()
        raise ConfigError(refused)

    _answered_and_saved(server, manager, url, settings, cache_dir, open_url, timeout, check)
    token = manager.cache_handler.get_cached_token()
    log.info("logged in; token saved to %s", token_path(cache_dir or settings.cache_dir))
    return token


def _attempts(n: int) -> str:
    from ..wording import plural
    return plural(n, "attempt")


def _read_login(path: Path) -> str | None:
    """The saved login file's text, None when there is none (or it cannot be read)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _put_back(path: Path, text: str) -> None:
    """The saved login as it was before a login that ``check`` refused."""
    atomic_write_text(path, text, mode=0o600)


WAIT_SLICE = 0.1  # seconds: how soon the login's own thread runs a Ctrl-C or SIGTERM another thread got


def _waiting(wait: Callable[[float], bool], seconds: float | None) -> None:
    """``wait(t)`` (true once what is waited for came) in slices of ``WAIT_SLICE`` until it
    came or ``seconds`` passed (None: no limit). The kernel hands a process's Ctrl-C or SIGTERM
    to any of its threads, and Python runs the handler in the main thread only once a wait of
    its own returns: a wait of 300 s kept a signal that reached the callback's thread pending
    (`recommend auth` ignored SIGTERM, now and then, until the login's timeout)."""
    end = None if seconds is None else time.monotonic() + seconds
    while True:
        left = WAIT_SLICE if end is None else min(WAIT_SLICE, end - time.monotonic())
        if left <= 0 or wait(left):
            return


def _exchange(manager: SpotifyPKCE | SpotifyOAuth, server: _CallbackServer, timeout: float, settings) -> None:
    """Exchange the code of the login's answer for its token (saved by ``manager``); or say why
    there is none."""
    result = server.result
    if not result and server.stale:
        raise AuthError(f"no answer for this login within {timeout:.0f} s, only one for another login attempt "
                        "(state mismatch: a tab of an earlier `recommend auth`?); run `recommend auth` again and "
                        "log in from the page it opens")
    if not result:
        # a browser on another machine (`--no-browser`, over ssh) sends the redirect to its own loopback
        where = urlparse(manager.redirect_uri)
        host = _url_host(where.hostname or "")
        raise AuthError(f"no answer from the Spotify login page within {timeout:.0f} s: log in on that page in a "
                        f"browser on this machine, which it sends back to {manager.redirect_uri} (a browser on "
                        f"another one reaches it once you forward the port: ssh -L {where.port}:{host}:{where.port} "
                        f"to this machine); if it said INVALID_CLIENT, {_register(manager.redirect_uri, settings)}; "
                        "then run `recommend auth` again")
    if "code" not in result:
        if not result.get("error"):  # a redirect without either: nothing was refused ("refused (unknown error)")
            raise AuthError(f"the login's answer came back with {NO_ANSWER}; nothing was saved: run `recommend auth` "
                            "again and log in on the page it opens")
        error = str(result.get("error"))
        if error == "access_denied":  # the person chose Cancel on Spotify's page
            raise AuthError("Spotify login was refused (access_denied: Cancel was chosen on Spotify's page); nothing "
                            "was saved (a login saved before still works): run `recommend auth` again and choose Agree")
        raise AuthError(f"Spotify login was refused ({error}); nothing was saved: run `recommend auth` again")
    try:
        if isinstance(manager, SpotifyPKCE):
            SpotifyPKCE.get_access_token(manager, code=result["code"], check_cache=False)
        else:
            SpotifyOAuth.get_access_token(manager, code=result["code"], as_dict=False, check_cache=False)
    except SpotifyOauthError as exc:
        refused = _app_refused(manager, exc)
        if refused:
            raise refused from None
        status = getattr(exc, "http_status", None)
        if _outage(status):  # the code is not retried (it may have been used): a new login is the way
            outage = f"answered {status} to the login code"
            if status == 429:
                raise RateLimited(f"the Spotify accounts service{manager.where} {outage} (rate-limited): "
                                  f"{_AGAIN}", retry_after=getattr(exc, "retry_after", None)) from None
            raise SpotifyUnavailable(f"the Spotify accounts service{manager.where} {outage}: {_AGAIN}") from None
        said = getattr(exc, "error_description", None) or ""
        raise AuthError(f"Spotify refused the login code ({oauth_error_code(exc) or f'HTTP {status}'}"
                        f"{': ' + str(said) if said else ''}); nothing was saved: run `recommend auth` again") from None
    except requests.RequestException as exc:  # it was a traceback
        raise SpotifyUnavailable(f"cannot reach the Spotify accounts service{manager.where} to finish the login "
                                 f"({failure(exc, manager.requests_timeout)}): {_AGAIN}") from None
