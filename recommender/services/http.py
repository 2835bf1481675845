"""The one HTTP layer of the open-data services (MusicBrainz, ListenBrainz, ListenBrainz labs).

``JsonService`` sends JSON requests with a User-Agent, paces them, retries a bounded number
of times and counts them against a shared per-run ``Budget``:

- at most ``rate`` requests per second (0 = no limit): a request starts no earlier than
  ``1/rate`` s after the previous one *finished* (``clock`` and ``sleep`` are injectable);
- ``X-RateLimit-Remaining: 0`` with ``X-RateLimit-Reset-In: N`` waits N s before the next
  request;
- 429, 5xx, timeouts, connection errors and unreadable bodies are retried ``max_retries``
  times, waiting ``Retry-After`` (or ``X-RateLimit-Reset-In``) or 1, 2, 4 ... s; a request
  that timed out (no answer within ``timeout``) at most ``timeout_retries`` times (default
  ``max_retries``): labs gets 1, as a query too slow once is slow again;
- no sleep is ever longer than ``max_retry_wait``: a longer wait is cut to it
  (``long_wait="cap"``, MusicBrainz's 503 "slow down") or stops at once with a
  ``ServiceError`` (``long_wait="stop"``, ListenBrainz: the discovery step stops, the run
  goes on);
- 404 answers None (``missing_is_none``: MusicBrainz, where it means an unknown ISRC or MBID);
  a client built with ``missing_is_none=False`` (ListenBrainz and labs, whose endpoints answer
  an unknown MBID with an empty list) raises ``ServiceError`` on it: the address is wrong or the
  endpoint is gone, and that must not be kept as "nothing found"; another 4xx raises
  ``ServiceError`` at once (with its status).

An answer is read leniently (``number``, ``count``, ``ids``, ``mapping``, ``objects``): a value
of another type than the contract's is read as no value, never a crash of the run.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from ..errors import RecommenderError, wait_seconds
from ..safetext import hide_url_passwords, whole_characters

log = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}
# an answer's body is read within this many times the timeout in all (the timeout bounds each
# wait for the socket: a server sending a byte every few seconds held a run for hours), and up to
# this size (the largest real answer, a popularity batch of 1,000 recordings, is about 200 kB: a
# 60 MB body took a gigabyte of memory)
BODY_TIMEOUTS = 2
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_REDIRECTS = 3  # each hop is a request the budget counts (a redirect loop sent 30 for one)
# the waits a service asks for (its rate-limit headers, Retry-After) add up to at most this many
# seconds a run for a client that stops on a long wait (discovery's): "wait 4 s" on every answer
# held a run for 164 s in a trial, and would for 40 minutes at the request budget's 600
ASKED_TOTAL_S = 120.0


LOOPBACK = {"127.0.0.1", "localhost", "::1"}  # a stand-in or your own mirror: no etiquette to follow


# A service's answer is read leniently (LISTENBRAINZ.md): a value of another type than the
# contract's ("score": "high", "artist_credit_mbids": 5) is read as no value, never a crash of
# the run (it was exit 1, every run, as nothing was cached before it)
def number(value: Any) -> float:
    """A finite number, else 0."""
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return x if math.isfinite(x) else 0.0


def count(value: Any) -> int | None:
    """A listen or user count: a whole number of at least 0, else None (not known)."""
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return int(x) if math.isfinite(x) and x >= 0 else None


def ids(value: Any) -> list[str]:
    """A list of MBIDs: the strings of a list, else none."""
    return [str(v) for v in value if isinstance(v, (str, int))] if isinstance(value, list) else []


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def objects(value: Any) -> list[dict[str, Any]]:
    """The JSON objects of a list (a row that is no object skipped), else none."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def user_agent(settings) -> str:
    """The User-Agent of the open-data requests: ``enrich.user_agent`` as written when set,
    else the tool's name and version (``recommend-playlist/<version>``), followed by
    ``( enrich.contact )`` when one is set. MusicBrainz and, since August 2026, ListenBrainz
    and labs ask every client for that form: a name, a version and a way to reach whoever
    runs it (ListenBrainz blocks addresses it cannot tell from scrapers)."""
    from .. import __version__
    from ..paths import DISTRIBUTION
    e = settings.enrich
    if e.user_agent:
        return str(e.user_agent)
    name = f"{DISTRIBUTION}/{__version__}"
    return f"{name} ( {e.contact} )" if e.contact else name


class ContactNotice:
    """The one warning of a run that asks MusicBrainz or ListenBrainz without a contact in its
    User-Agent, shared by every client of the run (``needs_contact``): each asks for one."""

    def __init__(self) -> None:
        self.said = False

    def say(self) -> None:
        if not self.said:
            self.said = True
            log.warning("MusicBrainz and ListenBrainz ask every client for a way to reach whoever runs it (ListenBrainz "
                        "blocks addresses it cannot tell from scrapers): set enrich.contact (an email address or URL) "
                        "in your config file; until then they are asked without one")


def needs_contact(settings, url: str) -> bool:
    """True when requests to ``url`` go out without the contact its service asks for: no
    ``enrich.contact`` nor ``enrich.user_agent``, and not a server on this machine."""
    e = settings.enrich
    return not e.user_agent and not e.contact and urlsplit(str(url)).hostname not in LOOPBACK


def said(response: requests.Response) -> str:
    """What a refusal's JSON body says (its ``error`` or ``message``), as `` "text"`` on one
    line, at most 160 characters, control characters escaped; "" for any other body (an HTML
    page, nothing). MusicBrainz's 503 says "Your requests are exceeding the allowable rate
    limit"; a bare "HTTP 503" read like an outage."""
    from ..safetext import cut, redact, terminal_safe
    try:
        body = response.json()
    except ValueError:
        return ""
    text = next((body[k] for k in ("error", "message") if isinstance(body, dict) and isinstance(body.get(k), str)), "")
    text = redact(" ".join(text.split()))  # (a server may repeat the request's token back)
    return f' "{cut(terminal_safe(text), 160)}"' if text else ""


class ServiceError(RecommenderError):
    """An open-data service failed after our bounded retries, or refused a request."""

    exit_code = 5

    def __init__(self, message: str, status: int | None = None, service: str = "") -> None:
        super().__init__(hide_url_passwords(message))  # (the address it names may hold a password)
        self.status = status
        self.service = service
        self.unreachable = False  # no server answered at the address (refused, no route, no such host)


class BudgetExhausted(ServiceError):
    """The per-run request budget (``discovery.request_budget``) is spent, or (``slow``) the
    time it may ask for (``discovery.max_seconds``): the services were too slow for it."""

    def __init__(self, message: str, status: int | None = None, service: str = "", slow: bool = False) -> None:
        super().__init__(message, status, service)
        self.slow = slow


class Budget:
    """A per-run request budget shared by every service client (None = unlimited), and the time
    the run may spend asking (``seconds`` from the budget's making, None = unlimited): a service
    answering every request slowly but within its timeout (10 s each) held a cron run for as long
    as the request budget lasted, 40 minutes and more, with nothing in the log."""

    def __init__(self, limit: int | None = None, source: str = "discovery.request_budget",
                 seconds: float | None = None, seconds_source: str = "discovery.max_seconds",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.source, self.seconds_source = source, seconds_source  # where the limits come from, for the message
        self.used = 0
        self.by_service: dict[str, int] = {}
        self.seconds, self._clock = seconds, clock
        self._deadline = None if seconds is None else clock() + seconds
        # seconds each service took to answer: the time spent names the slow one, not the next one asked
        self.seconds_by_service: dict[str, float] = {}

    def took(self, service: str, seconds: float) -> None:
        """Note that a request to ``service`` took ``seconds`` (its answer, or its failure)."""
        self.seconds_by_service[service] = self.seconds_by_service.get(service, 0.0) + max(seconds, 0.0)

    def spend(self, service: str) -> None:
        if self.limit is not None and self.used >= self.limit:
            raise BudgetExhausted(f"the request budget of {self.limit} per run is spent "
                                  f"({self.source})", service=service)
        if self._deadline is not None and self._clock() >= self._deadline:
            slow = max(self.seconds_by_service, key=self.seconds_by_service.__getitem__, default=service)
            raise BudgetExhausted(f"the {self.seconds:g} s it may ask for per run are spent ({self.seconds_source}; "
                                  f"{slow} answered slowly); the next run asks the rest", service=service, slow=True)
        self.used += 1
        self.by_service[service] = self.by_service.get(service, 0) + 1

    def may_wait(self, service: str, seconds: float, why: str) -> None:
        """Raise ``BudgetExhausted`` when a wait of ``seconds`` before asking ``service`` again would
        end past the time the run may ask for: slept, it ran that far past it (a Retry-After of 20 s
        near the end, 18 s past), and the next request was stopped all the same."""
        if self._deadline is not None and self._clock() + seconds >= self._deadline:
            raise BudgetExhausted(f"{service} asks us to wait {seconds:.0f} s ({why}), past the {self.seconds:g} s "
                                  f"it may ask for per run ({self.seconds_source}); the next run asks the rest",
                                  service=service, slow=True)


class JsonService:
    """A polite JSON client of one service (see the module docstring)."""

    error_class: type[ServiceError] = ServiceError

    def __init__(self, base_url: str, user_agent: str, *, name: str = "service", rate: float = 0.0,
                 timeout: float = 10.0, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 max_retries: int = 3, max_retry_wait: float = 30.0, long_wait: str = "stop",
                 headers: dict[str, str] | None = None, budget: Budget | None = None,
                 missing_is_none: bool = True, timeout_retries: int | None = None) -> None:
        if rate < 0:
            raise ValueError(f"rate must not be negative, got {rate}")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.user_agent = user_agent
        self.name = name
        self.rate = rate
        self.timeout = timeout
        self.session = session
        self.clock = clock
        self.sleep = sleep
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.long_wait = long_wait
        self.extra_headers = dict(headers or {})
        self.budget = budget
        self.missing_is_none = missing_is_none
        self.timeout_retries = max_retries if timeout_retries is None else timeout_retries
        self.requests_sent = 0
        self.contact_notice: ContactNotice | None = None  # set when asked without a contact (said once)
        self._last_done: float | None = None
        self._not_before: float | None = None
        self.asked_waited = 0.0  # seconds slept this run because the service asked (``ASKED_TOTAL_S``)

    # ----- pacing ------------------------------------------------------------------------
    def _pause(self, wait: float, why: str, asked: bool = True) -> None:
        """Sleep ``wait`` s, never longer than ``max_retry_wait``. A longer wait the service
        asked for is cut or stops the client (``long_wait``); our own back-off is cut. A wait
        ending past the budget's time stops the client (``Budget.may_wait``)."""
        if wait <= 0:
            return
        if wait > self.max_retry_wait:
            if self.long_wait == "stop" and asked:
                raise self.error_class(f"{self.name} asks us to wait {wait:.0f} s ({why}), longer than "
                                       f"the {self.max_retry_wait:g} s we wait at most", 429, self.name)
            wait = self.max_retry_wait
        if self.budget is not None:
            self.budget.may_wait(self.name, wait, why)
        if self.long_wait == "stop" and asked:
            if self.asked_waited + wait > ASKED_TOTAL_S:
                raise self.error_class(f"{self.name} asked us to wait {self.asked_waited + wait:.0f} s in all in this "
                                       f"run ({why}), more than the {ASKED_TOTAL_S:g} s a run waits for it", 429,
                                       self.name)
            self.asked_waited += wait
        self.sleep(wait)

    def _wait_turn(self) -> None:
        now = self.clock()
        own = self._last_done + 1.0 / self.rate - now if self.rate > 0 and self._last_done is not None else 0.0
        told = self._not_before - now if self._not_before is not None else 0.0  # the service's rate limit
        self._not_before = None
        if max(own, told) > 0:
            self._pause(max(own, told), "rate limit", asked=told > own)

    @staticmethod
    def _header_seconds(response: requests.Response | None, *names: str) -> float | None:
        if response is None:
            return None
        for name in names:
            seconds = wait_seconds(response.headers.get(name))
            if seconds is not None:
                return seconds
        return None  # absent, an HTTP date or garbage: our own back-off

    def _note_rate_headers(self, response: requests.Response) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining")
        reset = self._header_seconds(response, "X-RateLimit-Reset-In")
        if remaining is not None and reset is not None:
            try:
                if int(float(remaining)) <= 0:
                    self._not_before = self.clock() + reset
            except ValueError:
                pass

    def _retry_wait(self, attempt: int, response: requests.Response | None) -> tuple[float, bool]:
        """Seconds to wait before a retry, and whether the service asked for them."""
        names = ("Retry-After", "X-RateLimit-Reset-In") if response is not None and response.status_code == 429 \
            else ("Retry-After",)
        header = self._header_seconds(response, *names)
        return (header, True) if header is not None else (2.0 ** attempt, False)

    def _read_body(self, response: requests.Response, url: str) -> None:
        """Read ``response``'s body (``stream=True``) within ``BODY_TIMEOUTS`` times the timeout
        in all and up to ``MAX_BODY_BYTES``: a ReadTimeout past the time (retried, as a slow
        answer is), the service's error past the size. ``response.content`` holds it after."""
        raw = getattr(response, "raw", None)
        if raw is None:  # a body already read (a Response made whole, as a test's session gives it)
            return
        deadline = time.monotonic() + BODY_TIMEOUTS * self.timeout
        read = (lambda: raw.read1(65536, decode_content=True)) if hasattr(raw, "read1") else \
            (lambda: raw.read(1024, decode_content=True))
        chunks, size = [], 0
        try:
            while True:
                chunk = read()
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise self.error_class(f"{self.name} sent an answer larger than {MAX_BODY_BYTES // 2 ** 20} MB "
                                           f"for {url}", None, self.name)
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise requests.ReadTimeout(f"the answer took more than {BODY_TIMEOUTS * self.timeout:g} s")
        except urllib3.exceptions.ReadTimeoutError as exc:  # as requests raises urllib3's errors
            raise requests.ReadTimeout(str(exc)) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if isinstance(exc, requests.RequestException):
                raise
            raise requests.ConnectionError(str(exc)) from None
        finally:
            response.close()
        response._content = b"".join(chunks)  # (what requests keeps a read body in: .json(), .text)
        response._content_consumed = True

    # ----- requests ----------------------------------------------------------------------
    def request(self, method: str, path: str, params: Any = None, json: Any = None,
                accept: type | tuple[type, ...] = (dict, list)) -> Any:
        """One request with pacing and bounded retries: the JSON body, None on 404."""
        url = urljoin(self.base_url, path)
        headers = {"User-Agent": self.user_agent, "Accept": "application/json", **self.extra_headers}
        if self.session is None:
            self.session = requests.Session()
            self.session.max_redirects = MAX_REDIRECTS
        problem = ""
        timeouts = 0
        for attempt in range(self.max_retries + 1):
            self._wait_turn()
            if self.budget is not None:
                self.budget.spend(self.name)
            if self.contact_notice is not None:  # (once a request goes out: not one the budget stopped)
                self.contact_notice.say()
            response = None
            sent = self.clock()
            try:
                self.requests_sent += 1
                if method == "GET":
                    response = self.session.get(url, params=params, headers=headers, timeout=self.timeout, stream=True)
                else:
                    response = self.session.post(url, params=params, json=json, headers=headers, timeout=self.timeout,
                                                 stream=True)
                if self.budget is not None:
                    for _ in getattr(response, "history", ()):  # the redirects followed: each one a request
                        self.budget.spend(self.name)
                self._read_body(response, url)
            except requests.RequestException as exc:
                problem = type(exc).__name__
                hops = getattr(getattr(exc, "response", None), "history", None)
                if self.budget is not None and hops:  # a redirect loop's requests, counted too
                    for _ in hops:
                        self.budget.spend(self.name)
                if isinstance(exc, requests.ReadTimeout):
                    timeouts += 1
                    if timeouts > self.timeout_retries:
                        raise self.error_class(
                            f"{self.name} gave no answer within {self.timeout:g} s for {url} "
                            f"({timeouts} attempts)", None, self.name) from None
            finally:
                self._last_done = self.clock()
                if self.budget is not None:
                    self.budget.took(self.name, self._last_done - sent)
            if response is not None:
                self._note_rate_headers(response)
                status = response.status_code
                if status == 200:
                    try:
                        data = whole_characters(response.json())
                        if isinstance(data, accept):
                            return data
                        problem = "a body of the wrong shape"
                    except ValueError:
                        problem = "an unreadable body"
                elif status == 404 and self.missing_is_none:
                    return None
                elif status == 404:
                    raise self.error_class(f"{self.name} has no such endpoint (HTTP 404 for {url})", 404, self.name)
                elif status in RETRY_STATUSES:
                    problem = f"HTTP {status}{said(response)}"
                else:
                    raise self.error_class(f"{self.name} refused {response.url}: HTTP {status}{said(response)}",
                                           status, self.name)
            if attempt < self.max_retries:
                wait, asked = self._retry_wait(attempt, response)
                log.info("%s answered %s for %s; retrying in %.1f s", self.name, problem, url,
                         min(wait, self.max_retry_wait))
                self._pause(wait, problem, asked)
                self._not_before = None  # that wait covered the rate-limit window too
        err = self.error_class(
            f"{self.name} kept failing ({problem}) for {url} after {self.max_retries + 1} attempts",
            None, self.name)
        err.unreachable = problem == "ConnectionError"  # nothing answered at that address
        raise err
