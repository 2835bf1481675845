"""The only door to the Spotify Web API: paging, timeouts, bounded retries, write batches.

spotipy's own retry adapter is off (it would sleep a day on a quota 429 and retry POSTs).
Idempotent calls (GET, and PUT/DELETE of a whole state) are retried a bounded number of
times on 429 (honouring Retry-After up to ``max_retry_wait``, and ``max_total_wait`` in all for
one run's Gateway), 5xx, timeouts and unreadable
bodies (spotipy returns ``None`` for those). Non-idempotent writes are never retried here:
they raise ``AmbiguousWrite`` and the caller re-reads and reconciles.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
import spotipy
from spotipy.exceptions import SpotifyException
from spotipy.oauth2 import SpotifyOauthError

from ..errors import (AppAccessRefused, AuthError, MissingScope, RateLimited, SpotifyError, SpotifyUnavailable,
                      development_mode_refusal, wait_seconds)
from ..isotime import parse_time, shown, utc_now, younger_than
from ..safetext import redact, whole_characters
from ..store import atomic_write_text
from ..wording import configured_at

log = logging.getLogger(__name__)

MAX_PAGE = 50
MAX_WRITE = 100
# Spotify lowered page sizes without notice in 2026 (search, an artist's albums: 10), for newer
# logins first: a listing refused with "Invalid limit" is asked again this many at a time
SAFE_PAGE = 10
WAIT_FILE = "spotify-wait.json"  # in the data directory: a wait Spotify asked for, kept until it is over
# a kept wait lasts at most this long (a day's Retry-After is the longest Spotify gives): asking
# after it only gets the answer again, and a proxy's Retry-After of 10^10 s blocks no run for centuries
MAX_KEPT_WAIT = 48 * 3600.0
# a rate-limit wait this long or longer is said as it starts (a warning marked as a note: on a
# terminal even with --quiet) and recorded in the run lock's record (``on_wait``)
LONG_WAIT = 10.0
# a run that waited this long in all for Spotify's rate limit says so when it ends (``waited_note``:
# in cron's mail, why the night's run took that long)
NOTED_TOTAL_WAIT = 60.0


class AmbiguousWrite(SpotifyUnavailable):
    """A write failed in a way that leaves unknown whether Spotify applied it."""


def _retry_after(exc: SpotifyException) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    return wait_seconds(headers.get("Retry-After") or headers.get("retry-after"))


def plain_text(body: object, limit: int = 120) -> str:
    """Spotify's words from an error body in one short line: a proxy's HTML page ("<html>
    <head><title>400 Bad Request</title>...") is read as its title (else its text without
    tags), whitespace is collapsed, credentials it repeats back are hidden (``safetext.redact``),
    and the whole is cut at ``limit`` characters."""
    import re
    text = str(body or "")
    if "<" in text and re.search(r"<\s*(html|head|body|title|!doctype)\b", text, re.I):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        text = title.group(1) if title else re.sub(r"<[^>]*>", " ", text)
    text = redact(" ".join(text.split()))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def oauth_error_code(exc: SpotifyOauthError) -> str | None:
    """The accounts service's OAuth error code (``invalid_grant``...), or its answer in short
    when it is none (spotipy puts a body that is no JSON, such as a proxy's HTML page, whole in
    ``error``: never a multi-line message)."""
    import re
    error = exc.error if isinstance(exc.error, str) else None
    if error is None or re.fullmatch(r"[A-Za-z_]{1,40}", error):
        return error
    return f"HTTP {getattr(exc, 'http_status', None) or '?'}: {plain_text(error, 80)}"


def again(seconds: float) -> str:
    """'try again in ...' of a wait the next runs keep (``Gateway._keep_wait``): one longer than
    ``MAX_KEPT_WAIT`` is kept that long, and the first run after it asks Spotify again (a
    Retry-After of 10^10 s said "try again in 2777777.8 h (after 2343-10-25 08:51 UTC)", cron's one
    line, while status said the wait was kept two days)."""
    if seconds <= MAX_KEPT_WAIT:
        return f"try again {when(seconds)}"
    return (f"the next runs ask nothing for {MAX_KEPT_WAIT / 3600:.0f} h (until {shown(utc_now() + timedelta(seconds=MAX_KEPT_WAIT))}), "
            "then ask Spotify again (a longer wait is kept that long)")


def when(seconds: float) -> str:
    """'in 3 min (at 14:05 UTC)' style text for a retry time; no time of day past the calendar's
    end (a Retry-After of 10^12 s raised OverflowError: exit 1 where a 429 exits 4)."""
    try:
        after = f" (after {shown(utc_now() + timedelta(seconds=seconds))})"
    except OverflowError:
        after = ""
    if seconds >= 3600:
        span = f"{seconds / 3600:.1f} h"
    elif seconds >= 60:
        span = f"{seconds / 60:.0f} min"
    else:
        span = f"{seconds:.0f} s"
    return f"in {span}{after}"


def retry_notice(service: str, said: str, waits: list[float], per_try: float = 0.0) -> str:
    """The one line said when a run first starts retrying ``service``, so that a person at a
    terminal knows why nothing happens: what went wrong (``said``: 'did not answer (connection
    refused on GET me)'), how many more tries and how long at most (the back-off ``waits`` still
    ahead, plus ``per_try`` for each try that may itself time out)."""
    bound = sum(waits) + per_try * len(waits)
    tries = f"{len(waits)} more time{'s' if len(waits) != 1 else ''}"
    return f"{service} {said}; trying again {tries} for up to {bound:.0f} s"


def seconds(wait: float) -> str:
    """A short wait in seconds as a person reads it: '0.5 s', '2 s', '45 s'."""
    return f"{wait:.2g} s" if wait < 10 else f"{wait:.0f} s"


def slow_down_notice(service: str, said: str, wait: float, tries: int) -> str:
    """``retry_notice`` for a 429: the wait asked for now (each later 429 names its own)."""
    return (f"{service} asks us to slow down ({said}); waiting {seconds(wait)}, then trying again "
            f"(at most {tries} more time{'s' if tries != 1 else ''})")


def backoff_wait(backoff: float, max_wait: float, attempt: int) -> float:
    """The wait before retry ``attempt`` (from 0): ``backoff`` doubled each time, at most ``max_wait``."""
    return min(backoff * 2 ** attempt, max_wait)


def rate_limit_wait(retry_after: float | None, backoff: float, max_wait: float, attempt: int) -> float:
    """The wait before retrying a 429: its Retry-After, else our back-off (``backoff_wait``, never
    above ``max_wait``: it said "Spotify asks us to wait 4 s (more than spotify.max_retry_wait =
    2.5 s)" and stopped, of a wait Spotify never asked). The Web API's and the login refresh's."""
    return backoff_wait(backoff, max_wait, attempt) if retry_after is None else retry_after


def failure(exc: Exception, timeout: float | None) -> str:
    """A request's failure in a person's words: 'connection refused', 'no answer within 10 s'."""
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s" if timeout else "no answer in time"
    if isinstance(exc, requests.ConnectionError) and "refused" in str(exc).lower():
        return "connection refused"
    return type(exc).__name__


def _spotipy_call(client: spotipy.Spotify, method: str, url: str, payload: Any, params: dict) -> Any:
    """``client._internal_call``; an error answer whose ``error`` is text, not Spotify's object
    (``{"error": "invalid_client"}``: the accounts service's shape, from an address set to
    another service) is a SpotifyException as any refusal: spotipy's own reading of it failed
    with AttributeError, and the run with "unexpected error"."""
    try:
        return client._internal_call(method, url, payload, params)
    except AttributeError as exc:
        http = exc.__context__
        if not isinstance(http, requests.exceptions.HTTPError) or http.response is None:
            raise
        try:
            body = http.response.json()
        except ValueError:
            body = None
        text = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), str) else ""
        raise SpotifyException(http.response.status_code, -1, f"{http.response.url}:\n {text}",
                               headers=http.response.headers) from None


def _scope_needed(method: str, url: str, payload: Any = None) -> str | None:
    """The OAuth scope Spotify asks for ``method`` on ``url`` (relative or absolute), as the
    2026 API's reference names it; None for a request this tool makes no such guess of."""
    path = url.split("?")[0].rstrip("/")
    path = path.split("/v1/")[-1] if "/v1/" in path else path
    if method == "GET":
        reads = {"me/top/tracks": "user-top-read", "me/top/artists": "user-top-read",
                 "me/tracks": "user-library-read", "me/following": "user-follow-read",
                 "me/playlists": "playlist-read-private"}
        return reads.get(path, "playlist-read-private" if path.startswith("playlists/") else None)
    if path == "me/playlists" or path.startswith("playlists/"):  # a write: the playlist's kind of it
        if isinstance(payload, dict) and isinstance(payload.get("public"), bool):
            return "playlist-modify-public" if payload["public"] else "playlist-modify-private"
        return "playlist-modify-private (playlist-modify-public for a public playlist)"
    return None


def _refused(exc: SpotifyException, method: str, url: str, where: str, payload: Any = None) -> AuthError | SpotifyError:
    """The error of a call Spotify refused (a 4xx but 401 and 429): the app not allowed in
    Development Mode, a login without a permission, an address that is not the API's
    (``where``: the address you set, said when it is not Spotify's), or what Spotify said."""
    status = exc.http_status
    message = plain_text(str(getattr(exc, "msg", "") or "").partition("\n")[2])  # after "URL:\n"
    refusal = development_mode_refusal(message) if status == 403 else None
    if refusal:  # every call would answer the same: stop, and say what to change
        return AppAccessRefused(refusal)
    if status == 403 and "insufficient client scope" in message.lower():
        scope = _scope_needed(method, url, payload)
        return MissingScope(f"Spotify refused {method} {url} (403: {message}): the saved login lacks a "
                            "permission this needs; run `recommend auth` and approve all that Spotify's "
                            "page asks" + (f" ({scope} is the one missing)" if scope else ""), status=status)
    if status == 404 and message == "Service not found" and where:  # no such endpoint:
        # the address you set is not the API's (its /v1/ left out, a stand-in's port)
        return SpotifyError(f"Spotify refused {method} {url} ({status}: {message}){where}: check "
                            "that address (Spotify's Web API is https://api.spotify.com/v1/)", status=status)
    return SpotifyError(f"Spotify refused {method} {url} ({status}: {message or 'no message'})", status=status)


def build_client(auth_manager, settings) -> spotipy.Spotify:
    """A spotipy client with its retry adapter off, a timeout, and our base URL."""
    sp = spotipy.Spotify(auth_manager=auth_manager, requests_session=requests.Session(),
                         requests_timeout=settings.spotify.timeout, retries=0, status_retries=0)
    sp.prefix = settings.spotify.api_url.rstrip("/") + "/"
    return sp


class Gateway:
    """Thin, counted wrapper over a spotipy client."""

    def __init__(self, client: spotipy.Spotify, max_retries: int = 4, max_retry_wait: float = 60.0,
                 backoff: float = 0.5, sleep: Callable[[float], None] = time.sleep, where: str = "",
                 wait_file: Path | None = None, app: str = "", sleeps_kept_wait: bool = True,
                 max_total_wait: float = 600.0, on_wait: Callable[[float | None], None] | None = None) -> None:
        """``wait_file``: where a long wait Spotify asked for is kept (None: none is kept nor
        read); ``app``: the client id the wait is for (another app is not rate-limited with this
        one); ``sleeps_kept_wait`` False: a check that must not sleep (`recommend status`) is
        told the last seconds of a kept wait instead of waiting them out. ``max_total_wait``:
        the most this Gateway (one run's) sleeps for Spotify's rate limit in all; ``on_wait``:
        told the seconds of each long wait as it starts, and None when it is over (the run
        lock's record, for `recommend status` and another run's exit 6)."""
        self.client = client
        # told each wait (seconds, why) before it is slept, and may raise instead: discovery's look-ups
        # set it to their budget's time (``Budget.may_wait``), which a 429's wait ran past unbounded
        self.wait_bound: Callable[[float, str], None] | None = None
        self.where = where  # configured_at: named when Spotify cannot be reached
        self.wait_file = wait_file
        self.app = app
        self.sleeps_kept_wait = sleeps_kept_wait
        self._wait_checked = False  # the kept wait was looked at (``_asked_to_wait``), once per Gateway
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.backoff = backoff
        self.sleep = sleep
        self.max_total_wait = max_total_wait
        self.on_wait = on_wait
        self.waited = 0.0  # seconds slept for Spotify's rate limit so far (``max_total_wait``)
        self.requests_made = 0
        self.lowered: dict[str, int] = {}  # listing (ids replaced by {id}) -> page size Spotify took
        self._me: dict | None = None  # who is logged in, once asked (``me``)
        self.announced = False  # the first retry of the run was said on stderr (``retry_notice``)

    @classmethod
    def from_settings(cls, auth_manager, settings, **kwargs) -> "Gateway":
        return cls(build_client(auth_manager, settings), max_retries=settings.spotify.max_retries,
                   max_retry_wait=settings.spotify.max_retry_wait, max_total_wait=settings.spotify.max_total_wait,
                   where=configured_at(settings, "spotify.api_url"), wait_file=Path(settings.cache_dir) / WAIT_FILE,
                   app=str(settings.spotify.client_id or ""), **kwargs)

    # ----- a long Retry-After is kept: no run asks before it has passed -----------------------
    def _asked_to_wait(self) -> None:
        """RateLimited when a run before this one was told (a long Retry-After, a used-up quota)
        to wait until a time still ahead: asking again meanwhile is refused the same way, and a
        run's every night at the same minute would ask seconds before a day's wait is over. What
        is left of it is slept when it is no longer than ``max_retry_wait`` nor ``max_total_wait``
        (that nightly run; counted in ``waited`` as any wait for the rate limit).
        A wait lasts at most ``MAX_KEPT_WAIT`` from when it was asked, and one asked more than
        ``isotime.TRUSTED_AHEAD`` in the future (a clock that was set ahead) is not believed."""
        if self.wait_file is None:
            return
        try:
            kept = json.loads(self.wait_file.read_text(encoding="utf-8"))
            until, since = parse_time(kept["until"]), parse_time(kept["since"])
            until = min(until, since + timedelta(seconds=MAX_KEPT_WAIT))
        except (OSError, ValueError, TypeError, KeyError, OverflowError):
            return  # none (or unreadable: ask, and Spotify says again)
        now = utc_now()
        if str(kept.get("app") or "") != self.app or not younger_than(since, MAX_KEPT_WAIT / 86400, now):
            return  # another app's; or over, or stamped by a clock that was ahead (its wait unknown: ask)
        left = (until - now).total_seconds()
        if left <= 0:
            return
        asked = f"Spotify asked at {shown(since)} to wait until {shown(until)}"
        if isinstance(kept.get("asked"), (int, float)) and kept["asked"] > MAX_KEPT_WAIT:  # the whole of it
            asked = (f"Spotify asked at {shown(since)} to wait {kept['asked'] / 3600:.1f} h, kept until {shown(until)} "
                     f"(at most {MAX_KEPT_WAIT / 3600:.0f} h: asking after that only gets the answer again)")
        if left <= min(self.max_retry_wait, self.max_total_wait) and self.sleeps_kept_wait:  # a nightly line a
            self._rate_sleep(left, f"{asked}: waiting the last {seconds(left)} of it, then going on",  # few seconds early:
                             warn=True)  # said as for a short 429
            return
        raise RateLimited(f"{asked} (rate limited); nothing is asked before then (delete {self.wait_file} to ask "
                          f"anyway); try again {when(left)}", retry_after=left)

    def _keep_wait(self, wait: float) -> None:
        """Remember a wait too long to sleep through, for the runs that start before it is over
        (at most ``MAX_KEPT_WAIT`` of it)."""
        if self.wait_file is None:
            return
        now = utc_now()
        until = now + timedelta(seconds=min(wait, MAX_KEPT_WAIT))
        try:
            atomic_write_text(self.wait_file, json.dumps({"since": now.isoformat(), "until": until.isoformat(),
                                                          "asked": wait, "app": self.app}), mode=0o600)
        except OSError as exc:  # the run stops with exit 4 all the same
            log.warning("could not keep Spotify's wait in %s: %s", self.wait_file, exc.strerror or exc)

    # ----- the one call path ---------------------------------------------------------------
    def call(self, method: str, url: str, payload: Any = None, idempotent: bool | None = None,
             empty_ok: bool = False, **params: Any) -> Any:
        """One API call with our retry policy. ``url`` is relative to the API base or absolute.

        ``empty_ok``: the endpoint answers with no body on success (spotipy then returns None).
        """
        if idempotent is None:
            idempotent = method in {"GET", "PUT", "DELETE"}
        params = {k: v for k, v in params.items() if v is not None}
        if not self._wait_checked:  # once per Gateway, before its first request
            self._asked_to_wait()  # (RateLimited while a kept wait is on: looked at again on the next call)
            self._wait_checked = True
        refreshed = False
        attempt = 0
        while True:
            self.requests_made += 1
            try:
                result = _spotipy_call(self.client, method, url, payload, dict(params))
            except AuthError:  # no token to send (no login, or it was refused): no request was made
                self.requests_made -= 1
                raise
            except SpotifyException as exc:
                status = exc.http_status
                if status == 401 and not refreshed:
                    refreshed = True
                    self.requests_made += 1
                    self._force_refresh()
                    continue
                if status == 401:
                    raise AuthError(f"Spotify rejected the access token even after a refresh{self.where}: "
                                    "run `recommend auth`") from None
                if status == 429:
                    self._rate_limited(exc, attempt, method, url)  # raises, or has waited as asked
                    attempt += 1
                    continue
                if status >= 500:
                    self._transient(attempt, idempotent, f"{status} on {method} {url}", f"answered {status} to {method} {url}")
                    attempt += 1
                    continue
                raise _refused(exc, method, url, self.where, payload) from None
            except SpotifyOauthError as exc:
                raise AuthError(f"Spotify refused the saved login ({oauth_error_code(exc)}): run `recommend auth`") from None
            except (requests.Timeout, requests.ConnectionError,  # also a connection broken mid-body:
                    requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
                timeout = getattr(self.client, "requests_timeout", None)
                self._transient(attempt, idempotent, f"{type(exc).__name__} on {method} {url}",
                                f"did not answer ({failure(exc, timeout)} on {method} {url})",
                                timeout if isinstance(exc, requests.Timeout) else 0.0,
                                unreached=isinstance(exc, requests.ConnectionError)
                                and not isinstance(exc, requests.exceptions.ReadTimeout))
                attempt += 1
                continue
            # every answer of the Web API the tool asks is a JSON object: another value (a proxy's
            # `[]` or `"ok"`) read as an empty listing, and "you have no playlists" made a second managed one
            if (result is None and not empty_ok) or (result is not None and not isinstance(result, dict)):
                self._transient(attempt, idempotent, f"unreadable answer to {method} {url}",
                                f"sent an unreadable answer to {method} {url}")
                attempt += 1
                continue
            return whole_characters(result)

    def _rate_limited(self, exc: SpotifyException, attempt: int, method: str, url: str) -> None:
        """A 429: wait what Spotify asks (``Retry-After``, else our backoff) and return, or
        raise RateLimited when the wait is a day's quota, longer than ``max_retry_wait``, past
        ``max_retries`` or past the run's ``max_total_wait`` (kept for the next runs to honour)."""
        wait = _retry_after(exc)
        if getattr(exc, "reason", None) == "QUOTA_EXCEEDED":
            wait = wait if wait is not None else 86400.0
            self._keep_wait(wait)
            raise RateLimited(f"Spotify's daily request quota for this app is used up; {again(wait)}",
                              retry_after=wait) from None
        wait = rate_limit_wait(wait, self.backoff, self.max_retry_wait, attempt)
        if wait > self.max_retry_wait:
            self._keep_wait(wait)
            raise RateLimited(f"Spotify asks us to wait {wait:.0f} s (more than spotify.max_retry_wait = "
                              f"{self.max_retry_wait:.0f} s); {again(wait)}", retry_after=wait) from None
        if attempt >= self.max_retries:
            raise RateLimited(f"Spotify kept answering 429 (rate limited) for {url}; try again {when(wait)}",
                              retry_after=wait) from None
        if self.waited + wait > self.max_total_wait:
            self._keep_wait(wait)
            raise RateLimited(self._past_total(wait, f"429 on {method} {url}"), retry_after=wait) from None
        if self.wait_bound is not None:
            self.wait_bound(wait, f"429 on {method} {url}")
        said = slow_down_notice(f"Spotify{self.where}", f"429 on {method} {url}", wait, self.max_retries - attempt)
        self._rate_sleep(wait, said, warn=not self.announced)
        self.announced = True

    def _rate_sleep(self, wait: float, said: str, warn: bool) -> None:
        """Sleep ``wait`` seconds Spotify's rate limit asks for, counted in ``waited``. ``said``
        (the wait in words) is a warning when ``warn`` (the run's first 429) or the wait is
        ``LONG_WAIT`` or more, else logged at INFO. A long wait's warning also says until when
        and how much of ``max_total_wait`` the run has used, marked ``note`` (the log's stderr
        handler shows it as a note, on a terminal even with --quiet), and ``on_wait`` is told its
        seconds, then None."""
        long = wait >= LONG_WAIT
        if long:
            said += (f"; the wait ends at {shown(utc_now() + timedelta(seconds=wait))}, and with it this run has waited "
                     f"{self.waited + wait:.0f} s for Spotify's rate limit (at most spotify.max_total_wait = "
                     f"{self.max_total_wait:.0f} s)")
            log.warning(said, extra={"note": True})
        elif warn:
            log.warning(said)
        else:
            log.info(said)
        if long and self.on_wait is not None:
            self.on_wait(wait)
        try:
            self.sleep(wait)
        finally:
            self.waited += wait
            if long and self.on_wait is not None:
                self.on_wait(None)

    def _past_total(self, wait: float, what: str) -> str:
        """The RateLimited message of a wait that would take the run past ``max_total_wait``."""
        bound = f"spotify.max_total_wait = {self.max_total_wait:.0f} s"
        if not self.waited:
            return f"Spotify asks us to wait {wait:.0f} s ({what}), more than {bound}; {again(wait)}"
        return (f"Spotify kept rate-limiting this run: it waited {self.waited:.0f} s in all, and Spotify asks for "
                f"{wait:.0f} s more ({what}), which would pass {bound}; {again(wait)}")

    def waited_note(self) -> str | None:
        """What the CLI notes at the end of a run that waited ``NOTED_TOTAL_WAIT`` or more in all
        for Spotify's rate limit (else None): why it took that long, and how close it came to
        stopping."""
        if self.waited < NOTED_TOTAL_WAIT:
            return None
        return (f"this run waited {self.waited:.0f} s in all for Spotify's rate limit (429 answers), of at most "
                f"spotify.max_total_wait = {self.max_total_wait:.0f} s")

    def _transient(self, attempt: int, idempotent: bool, what: str, said: str, per_try: float = 0.0,
                   unreached: bool = False) -> None:
        """A failure that may pass: wait and let the caller retry, or raise.

        A write is never retried here (``AmbiguousWrite``: the caller re-reads and reconciles);
        a read is retried until ``max_retries``, then ``SpotifyUnavailable``. The run's first
        retry is said on stderr (one warning, ``retry_notice``: ``said`` is the failure in words,
        ``per_try`` how long each try may take when the failure was a timeout; ``unreached``: no
        connection was made, ``SpotifyUnavailable.unreached``).
        """
        if not idempotent:
            raise AmbiguousWrite(f"Spotify failed a write ({what}); it may or may not have been applied", reason=what)
        if attempt >= self.max_retries:
            from ..wording import plural
            reason = f"{what}, {attempt + 1} {plural(attempt + 1, 'attempt')}"
            raise SpotifyUnavailable(f"Spotify is unavailable ({reason}){self.where}; try again later", reason=reason,
                                     unreached=unreached)
        if self.wait_bound is not None:
            self.wait_bound(backoff_wait(self.backoff, self.max_retry_wait, attempt), what)
        if not self.announced:
            self.announced = True
            waits = [backoff_wait(self.backoff, self.max_retry_wait, a) for a in range(attempt, self.max_retries)]
            log.warning(retry_notice(f"Spotify{self.where}", said, waits, per_try))
        self.backoff_sleep(attempt, what)

    def backoff_sleep(self, attempt: int, what: str) -> None:
        """Wait before retry ``attempt`` (from 0) of ``what``: the back-off, at most ``max_retry_wait``."""
        wait = backoff_wait(self.backoff, self.max_retry_wait, attempt)
        log.info("%s: retrying in %.1f s", what, wait)
        self.sleep(wait)

    def _force_refresh(self) -> None:
        manager = self.client.auth_manager
        if manager is None or not hasattr(manager, "force_refresh"):
            raise AuthError("Spotify rejected the access token: run `recommend auth`")
        manager.force_refresh()

    # ----- reading -------------------------------------------------------------------------
    def get(self, url: str, **params: Any) -> Any:
        return self.call("GET", url, **params)

    def me(self) -> dict:
        """Who is logged in (``GET /me``), asked once per Gateway: a Gateway is one run's, and
        its login's account does not change within it (a token refresh keeps the account). An
        answer without the account's id (a proxy's `{}`) is an unreadable one (it was exit 1, KeyError)."""
        if self._me is None:
            self._me = self._read_until(lambda: self.get("me") or {},
                                        lambda me: isinstance(me.get("id"), str) and bool(me["id"]), "me")
        return self._me

    def first_page(self, url: str, limit: int = MAX_PAGE, **params: Any) -> Any:
        """The first page of a listing; refused with 400 "Invalid limit", asked again
        ``SAFE_PAGE`` at a time, and that page size kept for this listing for the rest of the run."""
        import re
        listing = re.sub(r"/[0-9A-Za-z]{22}(?=/|$)", "/{id}", url.split("?")[0])
        limit = min(limit, self.lowered.get(listing, limit))
        try:
            return self.get(url, limit=limit, **params)
        except SpotifyError as exc:
            if exc.status != 400 or "invalid limit" not in str(exc).lower() or limit <= SAFE_PAGE:
                raise
        log.info("Spotify refused pages of %d for %s (Invalid limit): asking %d at a time", limit, listing, SAFE_PAGE)
        self.lowered[listing] = SAFE_PAGE
        return self.get(url, limit=SAFE_PAGE, **params)

    def pages(self, url: str, key: str | None = None, limit: int = MAX_PAGE, totals: list | None = None,
              **params: Any) -> Iterator[dict]:
        """Every item of a paged listing, following absolute ``next`` URLs (offset or cursor).
        ``totals`` gets each page's ``total``: one that changed between pages says the listing
        shifted while it was read (an item removed or added meanwhile)."""
        page = self.page(lambda: self.first_page(url, limit, **params), url, key)
        while page:
            if totals is not None:
                totals.append(page.get("total"))
            yield from page.get("items") or []
            nxt = page.get("next")
            if not nxt:
                return
            page = self.page(lambda: self.get(nxt), nxt, key)

    def page(self, ask: Callable[[], dict], url: str, key: str | None = None) -> dict:
        """A page of a listing (under ``key``), asked by ``ask``: one without its list of items
        (``{}``) is an unreadable answer, retried as one, never an empty listing."""
        def asked() -> Any:
            page = ask()
            return page.get(key) if key else page
        return self._read_until(asked, lambda page: isinstance(page, dict) and isinstance(page.get("items"), list), url)

    def _read_until(self, ask: Callable[[], Any], readable: Callable[[Any], bool], url: str) -> Any:
        """``ask()``'s answer once ``readable``: one that is not (JSON of another shape: a proxy's
        ``{}``) is an unreadable answer to GET ``url``, retried as one (``_transient``)."""
        attempt = 0
        while True:
            answer = ask()
            if readable(answer):
                return answer
            self._transient(attempt, True, f"unreadable answer to GET {url}", f"sent an unreadable answer to GET {url}")
            attempt += 1

    def listing(self, url: str, tries: int = 3, **params: Any) -> list[dict]:
        """Every item of an offset-paged listing, read whole: an item removed (or added) while the
        pages are read shifts the later ones, so that one is skipped (or comes twice), and the
        listing's ``total`` changes between its pages. Such a listing is read again, at most
        ``tries`` times in all; one that never holds still gives the items of every reading (by
        id, first seen first)."""
        seen: dict[str, dict] = {}
        for _ in range(tries):
            totals: list = []
            items = list(self.pages(url, totals=totals, **params))
            if len(set(totals)) <= 1:
                return items
            log.info("%s changed while it was read (total %s): reading it again", url, totals)
            for item in items:
                if item and item.get("id"):
                    seen.setdefault(item["id"], item)
        return list(seen.values())

    # ----- writing -------------------------------------------------------------------------
    def create_playlist(self, name: str, public: bool, description: str) -> dict:
        return self.call("POST", "me/playlists", {"name": name, "public": public, "collaborative": False,
                                                  "description": description}, idempotent=False)

    def change_details(self, playlist_id: str, **details: Any) -> None:
        self.call("PUT", f"playlists/{playlist_id}", {k: v for k, v in details.items() if v is not None},
                  idempotent=True, empty_ok=True)

    def replace_items(self, playlist_id: str, uris: list[str]) -> dict:
        if len(uris) > MAX_WRITE:
            raise ValueError("at most 100 URIs per replace")
        # PUT replaces the whole list: repeating it is harmless, but we re-read instead of retrying
        # so that the caller sees what really happened.
        return self.call("PUT", f"playlists/{playlist_id}/items", {"uris": uris}, idempotent=False)

    def add_items(self, playlist_id: str, uris: list[str]) -> dict:
        if len(uris) > MAX_WRITE:
            raise ValueError("at most 100 URIs per add")
        return self.call("POST", f"playlists/{playlist_id}/items", {"uris": uris}, idempotent=False)
