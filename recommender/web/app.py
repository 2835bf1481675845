"""The Starlette app of `recommend web`: pages, JSON endpoints, and the safety checks.

Safety (see README "recommend web"):
- Only requests whose Host is a loopback name are answered (no DNS rebinding), on any port (an
  SSH tunnel's); the server itself binds 127.0.0.1 only (``server.serve``).
- ``GET /?token=T`` with the secret token printed at start sets a session cookie (HttpOnly,
  SameSite=Strict) and redirects to a URL without the token. Every page and endpoint except
  the static files answers 403 without the cookie (or the token), so no library data leaks.
- Every POST needs the CSRF token (form field ``csrf`` or header ``X-CSRF-Token``), which only
  pages served to the session carry (never a refusal page), and a same-origin ``Origin`` (the
  request's own Host) when the browser sends one; a refusal says why and what to do.
- Names are escaped by Jinja2's autoescape in HTML and by ``tojson`` in JSON embedded in pages;
  the scripts build the DOM with ``textContent`` only. A strict Content-Security-Policy (no
  inline scripts, styles or event handlers) backs this up.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import (AuthError, LockHeld, MissingScope, RateLimited, RecommenderError, SpotifyError, SpotifyUnavailable,
                      StorageError, UsageError)
from ..safetext import terminal_safe
from .context import StalePlan, plan_of, web_words

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
PAGES = [("next", "Next playlist"), ("weights", "Weights"), ("discovery", "Discovery"), ("map", "Taste map"), ("moods", "Moods"),
         ("search", "Search"), ("similar", "Similar"), ("runs", "Runs")]
CATCH_ALL = "/{path:path}"  # (the route of an address no other route answers: ``not_found``)
READ_ONLY_POSTS = frozenset({"/api/weights/preview"})  # POSTs that change nothing: not one at a time, no "change under way"
CONTROL = re.compile("[\x00-\x1f\x7f]")  # in a request's path: no address of the app (``guard``)
BODY_WAIT = 10  # seconds a POST's body may take to arrive whole (its forms and JSON are a few KB): then a 408
LOOPBACK = re.compile(r"(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?", re.IGNORECASE)  # a Host header


def _here(path: str, query: str = "") -> str:
    """An address on this server for a path as Starlette gives it (decoded): one leading slash
    ("//evil.example/" is a path here, where a browser reads it as another site), each part
    quoted, and the query kept."""
    from urllib.parse import quote
    return quote("/" + path.lstrip("/"), safe="/") + (f"?{query}" if query else "")


def _any_method(route: Route) -> Route:
    """``route`` taking every method, those no list names too: a TRACE or PROPFIND (any word a client
    sends) was a bare "Not Found" or "Method Not Allowed" in plain text, where the methods listed
    got the app's answer (JSON under /api/, a page of the app elsewhere)."""
    route.methods = None  # (Starlette's Route then matches and handles any method)
    return route


def _json_text(value: Any) -> str | None:
    """The text a form's field holds as a JSON string, or None (no field, or no JSON string in it)."""
    import json
    try:
        text = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return text if isinstance(text, str) else None


def _same(given: str, secret: str) -> bool:
    """Constant-time comparison of a client's value with a secret (any text: compare_digest
    refuses non-ASCII str, so both are compared as UTF-8 bytes)."""
    return bool(given) and hmac.compare_digest(given.encode("utf-8", "surrogatepass"), secret.encode("utf-8"))


class Security:
    """The secret token, the session cookie and the CSRF token of one server."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token or secrets.token_urlsafe(32)
        self.session = secrets.token_urlsafe(32)
        self.csrf = hmac.new(self.session.encode(), b"csrf", hashlib.sha256).hexdigest()
        self.port: int | None = None  # set by the server once bound; None accepts any Host (tests)

    @property
    def cookie(self) -> str:
        return f"recommend_web_{self.port or 0}"

    def host_ok(self, host: str | None) -> bool:
        """A loopback name, on any port: an SSH tunnel or an editor's port forwarding may reach the
        server through another port (``ssh -L 9000:127.0.0.1:PORT``); a name that is no loopback
        one is a DNS rebinding (a web site pointing its own name at 127.0.0.1) and refused."""
        return self.port is None or LOOPBACK.fullmatch(host or "") is not None

    def authed(self, request: Request) -> bool:
        cookie = request.cookies.get(self.cookie, "")
        token = request.query_params.get("token", "")
        return _same(cookie, self.session) or _same(token, self.token)

    def origin_ok(self, request: Request) -> bool:
        """The request comes from a page of this server: the browser's ``Origin`` names the address
        the page was opened at, which is the request's ``Host`` (itself a loopback name)."""
        origin = request.headers.get("origin")
        if origin is None or self.port is None:
            return True
        return origin.lower() == f"http://{request.headers.get('host', '')}".lower()


# the web answer of an error that is no fault of the request (it was a 400, "Bad Request", for all of them):
# the first class the error is an instance of gives it (a subclass before its base); anything else is bad input, 400
ERROR_STATUSES: tuple[tuple[type[RecommenderError], int], ...] = (
    (MissingScope, 403), (AuthError, 403),  # no usable Spotify login (the page's own session is fine): `recommend auth`
    (RateLimited, 503), (SpotifyUnavailable, 502), (SpotifyError, 502),  # Spotify failed or refused
    (LockHeld, 423),  # another run holds the run lock (423, not 409: a 409 is the pages' "config file changed")
    (StorageError, 507))  # a file that cannot be written (a full disk), as ``guard`` answers the OSError itself


def error_status(exc: RecommenderError) -> int:
    """The HTTP status of ``exc`` as a JSON endpoint answers it: its own ``http_status`` (StaleConfig's
    409), else ``ERROR_STATUSES``'s, else 400."""
    status = getattr(exc, "http_status", None)
    if status is not None:
        return status
    return next((code for kind, code in ERROR_STATUSES if isinstance(exc, kind)), 400)


def _headers(response: Response, started: float) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"  # "no-referrer" would make form POSTs send Origin: null
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


def _visible_controls(value: Any) -> Any:
    """Every ``{{ value }}``: control characters and bidi overrides as visible escapes
    (``\\u202e``, as the CLI shows them), then autoescaped: ``safetext.html_safe``. A name
    holding U+202E turned the rest of its line around (the why's words, the artist after it).
    A value sent back as it is (a form's hidden artist name, the search text) is ``|e``:
    escaped Markup, passed through whole."""
    if isinstance(value, Markup):  # tojson's JSON (ASCII, \\u escapes): the script's visibleText() shows its names
        return value
    return terminal_safe(value, keep_newlines=True) if isinstance(value, str) else value


class _Site:
    """The pages, the JSON endpoints and the checks in front of them (``guard``) of one app over
    a ``context.WebContext``; ``app`` is the Starlette app that ``create_app`` makes of them."""

    def __init__(self, ctx, sec: Security) -> None:
        from jinja2 import Environment, FileSystemLoader, select_autoescape
        self.ctx, self.sec = ctx, sec
        self.env = Environment(loader=FileSystemLoader(str(HERE / "templates")), finalize=_visible_controls,
                               autoescape=select_autoescape(("html",), default=True), auto_reload=False)
        self.writes = threading.Lock()  # (``one_at_a_time``)
        self.app: Starlette | None = None

    def render(self, request: Request, name: str, status: int = 200, **data: Any) -> HTMLResponse:
        data.setdefault("page", name.removesuffix(".html"))
        data.setdefault("csrf", self.sec.csrf)  # "" on the pages a stranger gets (refused): only a session's pages carry it
        html = self.env.get_template(name).render(pages=PAGES, demo=self.ctx.demo, **data)
        return HTMLResponse(html, status_code=status)

    def denied(self, request: Request) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "forbidden: open the URL printed by `recommend web` (with its token)"},
                                status_code=403)
        return self.render(request, "denied.html", status=403, csrf="")

    def wrong_host(self, request: Request) -> Response:
        """A Host that is no loopback name: said with the addresses that work, not a bare 400."""
        here = f"http://127.0.0.1:{self.sec.port}/"
        message = (f"recommend web answers only at 127.0.0.1 or localhost ({here}, or the port of an SSH tunnel to it), "
                   f"not at {request.headers.get('host', '')!r}: a web site could point such a name at your machine "
                   "(DNS rebinding)")
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=400)
        return self.render(request, "problem.html", status=400, csrf="", heading="Open recommend web at 127.0.0.1",
                           message=message, advice=f"Open the URL that recommend web printed ({here}?token=...).")

    async def refused_post(self, request: Request, changes: bool = True) -> Response | None:
        """None when the POST carries this server's CSRF token and comes from one of its pages; else
        the refusal, saying why and what to do: a page opened before `recommend web` was restarted
        (on the same --port) carries the old server's token, and its next click was a bare 403.
        ``changes``: the POST changes something, refused too while the config file is broken."""
        api = request.url.path.startswith("/api/")
        given = request.headers.get("x-csrf-token", "")
        if not given and "form" in request.headers.get("content-type", ""):
            await request.body()  # kept: a JSON endpoint reads it after (a form sent there was a 500, "Stream consumed")
            form = await request.form()
            given = str(form.get("csrf", ""))
        if not self.sec.origin_ok(request):
            message = (f"refused: this request came from another site ({request.headers.get('origin')!r}), "
                       "not from a page of recommend web; nothing was changed")
        elif not given:  # a script's POST: every page of the app sends its token
            message = ("refused: this request carries no CSRF token, which every page of recommend web sends with "
                       "its forms and clicks (a script takes it from a page's csrf-token meta tag); nothing was changed")
        elif not _same(given, self.sec.csrf):
            if api:  # the script takes the new token from a page and asks again
                return JSONResponse({"error": "this page is older than the running recommend web (it was restarted "
                                     "since you opened the page): nothing was changed; reload the page and do it again",
                                     "stale_token": True}, status_code=403)
            # a form's (a steer, Publish): the Next page as it is now, with forms of the running app, saying
            # so. A page answering the POST itself was reloaded by sending the same old token again
            return self.to_next({"msg": "nothing was changed: the page you clicked on was older than the running "
                                 "recommend web (it was restarted since); do it again here"})
        else:  # a change (not a preview) needs a config file that reads
            return await self.config_problem(request, api) if changes else None
        if api:
            return JSONResponse({"error": message}, status_code=403)
        return self.render(request, "problem.html", status=403, csrf="", heading="Nothing was changed", message=message,
                           advice="Reload the page (or open the Next playlist again) and do it again.")

    async def config_problem(self, request: Request, api: bool) -> Response | None:
        """None when the config file reads (the settings reloaded if it changed); else the refusal of
        a change, as a command refuses to run: a Publish or a steer clicked after the file broke
        wrote with the settings read before, while the page showed the file's problem alone (and a
        Save said "changed since this page was opened: reload", which showed only that problem)."""
        try:
            await run_in_threadpool(self.ctx.sync_settings)
            return None
        except RecommenderError as exc:
            if api:
                return JSONResponse({"error": web_words(f"nothing was changed: your config file has a problem: {exc}"),
                                     "exit_code": exc.exit_code}, status_code=409)
            # a 303 (as every answer to a form): the page answering the POST itself sent the steer or
            # Publish again when reloaded once the file was mended, as it said to do
            return self.to_next({"msg": "nothing was changed: your config file had a problem when you clicked (it reads "
                                 "now); do it again", "unchanged": "config"})

    def one_at_a_time(self, call):
        """``call`` once the app's other writes are done: a second click (two tabs, a double
        submit) waited for by the app, not refused by its own first one's run lock ("another run
        holds the lock ('web steer')"); another program's run still meets the lock at once."""
        def run(*args):
            self.app.state.waiting_writes.append(call)
            with self.writes:
                self.app.state.waiting_writes.remove(call)
                return call(*args)
        return run

    def error_json(self, exc: RecommenderError) -> JSONResponse:
        """The error's one line as JSON, with the status of what failed (``error_status``)."""
        retry = getattr(exc, "retry_after", None) if isinstance(exc, RateLimited) else None
        return JSONResponse({"error": web_words(str(exc)), "exit_code": exc.exit_code}, status_code=error_status(exc),
                            headers={"Retry-After": str(math.ceil(retry))} if retry is not None else None)

    # ----- pages ---------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        """Sets the session cookie; the page then replaces itself (script) by /next. Not a 303:
        when a file:// page started the visit (``server.browser_url``), the browser would not
        send the SameSite=Strict cookie on the redirect, and /next would answer 403."""
        return self.enter(request, "/next")

    def enter(self, request: Request, target: str) -> Response:
        """The session cookie and a page that replaces itself by ``target`` (an address on this
        server, without the token)."""
        response = self.render(request, "enter.html", target=target)
        response.set_cookie(self.sec.cookie, self.sec.session, httponly=True, samesite="strict", path="/")
        return response

    def steered(self, request: Request) -> dict[str, str]:
        """The last steer's message, and the track (its name, ``by`` its artists) or artist it names;
        ``refused``: the message is a Publish refused (the box of the publish before is then the
        last one's, not this click's)."""
        q = request.query_params
        return {"message": q.get("msg", ""), "named": q.get("name", ""), "by": q.get("by", ""),
                "refused": q.get("refused") == "1",
                "undo": q.get("undo") if q.get("undo") in ("unblock", "restore") else "", "undo_track": q.get("track", "")}

    def to_next(self, query: dict[str, str], fragment: str = "") -> RedirectResponse:
        """A 303 to the Next page with ``query`` (the message, the names a steer named)."""
        from urllib.parse import quote, urlencode
        return RedirectResponse(f"/next?{urlencode(query, quote_via=quote)}{fragment}", status_code=303)

    async def next_page(self, request: Request) -> Response:
        # (Spotify not answering, or no login: the playlist the cache gives, its note saying so)
        try:
            await run_in_threadpool(self.ctx.check_playlist)  # edited in Spotify since: computed anew
            result = await run_in_threadpool(self.ctx.preview)
            rows = await run_in_threadpool(self.ctx.next_rows, result)
        except RecommenderError as exc:
            if self.ctx.last_publish is not None:
                self.ctx.last_publish["seen"] = True
            return self.render(request, "next.html", error=web_words(str(exc)), exit_code=exc.exit_code, rows=[],
                               published=self.ctx.last_publish, account=await self.page_account(), **self.steered(request))
        scorers = result.sharing  # a scorer at weight 0 left out, as `recommend build-playlist` leaves it out
        # (name, artists) of each track, each name isolated in its own direction on the page: a line
        # "name - artists" took the direction of its first letter (an Arabic name put it right to left,
        # its artists first); a removed track, not in the table, as the run's library names it
        shown = {**result.label_parts, **{r["track_id"]: (r["name"], r["artists"]) for r in rows}}

        def parts(ids: list[str]) -> list[tuple[str, str]]:
            return [shown.get(t, (t, "")) for t in ids]
        # a removed track says why it leaves: it made room for a pin of its artist (blend.max_per_artist), or in the
        # dry run's words (LEFT_OUT_WORDS: "outranked"); it left unexplained, then only behind its "why" button
        from ..pipeline import LEFT_OUT_WORDS
        diff = {"added": parts(result.added_ids), "kept": result.kept,  # removed: (name, artists, pin, its id, why)
                "removed": [(*shown.get(t, (t, "")), shown.get(result.gave_way[t], (result.gave_way[t], ""))[0]
                             if t in result.gave_way else "", t,
                             LEFT_OUT_WORDS.get(result.why_removed.get(t, ("",))[0], ""))
                            for t in result.removed_ids]}
        has_new = "new" in result.table.columns
        has_source = "source" in result.table.columns
        # what the dry run noted (the managed playlist gone and a new one to be made, a damaged cache
        # file, greyed-out picks): the CLI's `note:` lines, which the page left out until a Publish
        notes = [web_words(m) for m in result.messages]
        published = self.ctx.last_publish
        if published is not None:  # shown: a failed one goes once a computation succeeds after it (ctx.preview)
            published["seen"] = True
        return self.render(request, "next.html", result=result, new_short=web_words(result.new_short), rows=rows,
                           scorers=scorers, diff=diff, has_new=has_new,
                           has_source=has_source, published=published, plan=plan_of(result), notes=notes,
                           account=await self.page_account(), **self.steered(request))

    async def page_account(self) -> str | None:
        """Whose library the Next page shows (``ctx.account``), which its steer forms send back:
        a remove, pin or Undo clicked on a page opened before a `recommend auth` as another
        account was written into that account's state. None when the cache cannot say (its
        forms then steer the account logged in, as a script's POST does)."""
        try:
            return await run_in_threadpool(self.ctx.account)
        except RecommenderError:
            return None

    async def steer(self, request: Request) -> Response:
        if refusal := await self.refused_post(request):
            return refusal
        form = await request.form()
        action, track = str(form.get("action", "")), str(form.get("track", ""))
        try:  # the names as the library holds them (a form's values come back with their line breaks made CR LF)
            known = await run_in_threadpool(self.ctx.names_of, track, str(form.get("artist_id", "")))
        except RecommenderError:
            known = {}
        artist = known.get("artist") or str(form.get("artist", ""))
        if action == "unblock":  # the name the block wrote, sent back by the page's Undo as JSON (``blocked``): a
            # browser sends a form's value with each line break, a lone CR too, made CR LF, and a NUL as U+FFFD
            artist = _json_text(form.get("blocked")) or artist.replace("\r\n", "\n").replace("\r", "\n")
        try:
            # (the page's account: None from a script's POST, which steers the library logged in now)
            account = None if form.get("account") is None else str(form.get("account"))
            msg = await run_in_threadpool(self.one_at_a_time(self.ctx.steer), action,
                                          "" if action in ("block", "unblock") else track, artist, account)
            undo = {"block": "unblock", "remove": "restore"}.get(action)  # the page offers to undo it
        except RecommenderError as exc:
            # an Undo refused while another run (a build from cron) holds the lock is offered again: "try again
            # when it has finished" said, and its button was gone (the block undone only in the file by hand)
            msg, undo = f"error: {web_words(str(exc))}", action if action in ("unblock", "restore") and isinstance(
                exc, LockHeld) else None
        # which track (name, by: its artists) or artist, refused or not: the focus is then on the row now
        # in its place, which names another. Apart from the message, each name in its own isolate
        if action in ("block", "unblock"):  # whole, as blocked: its Undo sends it back ("Band " trimmed unblocked no one)
            named, by = artist, ""
        else:
            named = (known.get("name") or str(form.get("name") or form.get("artist") or "")).strip()
            by = (known.get("by") or str(form.get("by") or "")).strip() if named else ""
        return self.to_next({"msg": msg, **({"name": named} if named else {}), **({"by": by} if by else {}),
                             **({"undo": undo} if undo and named else {}),
                             **({"track": track} if undo == "restore" and named else {})})

    async def not_found(self, request: Request) -> Response:
        """An address no page has (a typo, an old bookmark): a page of the app saying so, with
        its menu, not a bare "Not Found"; the scripts' JSON under /api/."""
        path = request.scope["path"]  # (with its line breaks: ``guard``)
        odd = CONTROL.search(path) is not None
        if not odd and request.method in ("GET", "HEAD") and len(path) > 1 and path.endswith("/"):  # "/next/": the page, as
            # Starlette's own redirect did (it sent "//next/" to the host "next" and dropped "/search/?q=love"'s query)
            return RedirectResponse(_here(path.rstrip("/"), request.url.query), status_code=307)
        # an address of the app asked with another method: a 405 naming those it takes (a GET of /api/weights/save
        # said "no page", and a POST to an address no page has "Method Not Allowed")
        allowed = [] if odd else sorted({m for r in self.app.routes if isinstance(r, Route) and r.path != CATCH_ALL
                                         and r.matches(request.scope)[0] is Match.PARTIAL for m in r.methods or ()})
        status, message = 404, f"{path!r} is no page of recommend web"
        if allowed:
            status, message = 405, f"{path!r} takes {' or '.join(allowed)}, not {request.method}"
        headers = {"Allow": ", ".join(allowed)} if allowed else None
        if path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status, headers=headers)
        response = self.render(request, "problem.html", status=status, heading="No such page" if status == 404
                               else "Not asked that way", message=message, advice="Pick a page in the menu above.")
        response.headers.update(headers or {})
        return response

    async def to_next_page(self, request: Request) -> Response:
        """A GET of a steer's or Publish's address (typed, or from the history): the Next page, not
        a bare "Method Not Allowed"."""
        return RedirectResponse("/next", status_code=303)

    async def publish(self, request: Request) -> Response:
        if refusal := await self.refused_post(request):
            return refusal
        form = await request.form()
        try:
            plan = form.get("plan")  # None: a script's POST, no page's diff to check
            await run_in_threadpool(self.one_at_a_time(self.ctx.publish), None if plan is None else str(plan))
        except StalePlan as exc:  # the page's diff is out of date: the new one, with the reason
            return self.to_next({"msg": str(exc), "refused": "1"}, "#diff")
        return RedirectResponse("/next#published", status_code=303)

    async def weights_page(self, request: Request) -> Response:
        return self.render(request, "weights.html", data={"weights": self.ctx.weights(), "new_share": self.ctx.new_share(),
                                                          "config_file": str(self.ctx.config_file),
                                                          "version": self.ctx.loaded_version})

    async def data_page(self, request: Request, template: str, compute) -> Response:
        """A page over one computed dict, or the error's one line in its place."""
        try:
            data = await run_in_threadpool(compute)
        except RecommenderError as exc:
            return self.render(request, template, error=web_words(str(exc)), data=None)
        return self.render(request, template, data=data, error=None, version=self.ctx.loaded_version)

    async def discovery_page(self, request: Request) -> Response:
        return await self.data_page(request, "discovery.html", self.ctx.discovery)

    async def map_page(self, request: Request) -> Response:
        return await self.data_page(request, "map.html", self.ctx.taste_map)

    async def moods_page(self, request: Request) -> Response:
        return await self.data_page(request, "moods.html", self.ctx.moods)

    async def search_page(self, request: Request) -> Response:
        return self.render(request, "lookup.html", page="search", heading="Search", query=request.query_params.get("q", ""),
                           label="Search your cached tracks",
                           placeholder="title, artist or album (typos forgiven)", columns=["track", "album", "score", ""],
                           hint=("Results come as you type. A row's \u201csimilar\u201d opens the Similar page from "
                                 "that track; its \u201cwhy\u201d says whether it is on your next playlist."))

    async def similar_page(self, request: Request) -> Response:
        """``?track=``: the text asked for; a track's id (a Search result's link, the taste map's)
        is shown in the box as its "Name - Artists", and asked for by its id while the box holds that."""
        from ..explore import SAMPLE_TRACKS
        query = request.query_params.get("track", "")
        try:
            title = await run_in_threadpool(self.ctx.track_title, query)
        except RecommenderError:  # no library yet: the box shows the text, and the answer says why
            title = None
        return self.render(request, "lookup.html", page="similar", heading="Similar", query=query, track_title=title,
                           label="Tracks similar to",
                           # the demo's tracks are the sample library's: a name or id of those (a Spotify
                           # link works only for one of them, which a person without an account has not)
                           placeholder=("a track of the sample library: name or id" if self.ctx.demo
                                        else "a track: name, id, spotify:track: URI or link"),
                           columns=["#", "track", "score", "shares", "why"],
                           # an empty page with one box: what to type, and the other way in
                           hint=(f"For instance {' or '.join(SAMPLE_TRACKS)} (tracks of the sample library)" if self.ctx.demo
                                 else "A title with its artist if the title is common (the best match is taken)")
                           + "; a Search result\u2019s \u201csimilar\u201d link opens this page from that track.")

    async def runs_page(self, request: Request) -> Response:
        info = await run_in_threadpool(self.ctx.runs)
        return self.render(request, "runs.html", info=info, curves=info.get("evaluation"))

    # ----- JSON endpoints ----------------------------------------------------------------------
    async def json_action(self, request: Request, call) -> Response:
        """A JSON endpoint: CSRF check, body, ``call(body)`` in a thread (one change at a time, but
        for ``READ_ONLY_POSTS``), errors as JSON (bad input: the UsageError of the validation;
        anything else is a bug, see ``guard``)."""
        write = request.url.path not in READ_ONLY_POSTS
        if refusal := await self.refused_post(request, changes=write):
            return refusal
        import json
        import sys
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):  # not JSON, not UTF-8
            return JSONResponse({"error": "the request body is not JSON"}, status_code=400)
        except ValueError:  # JSON, but a whole number longer than Python reads (it said "not JSON")
            return JSONResponse({"error": f"a number in the request body has more than {sys.get_int_max_str_digits()} digits"},
                                status_code=400)
        except RecursionError:  # [[[[...: JSON, but Python's parser gives up (it was a 500, logged as a bug)
            return JSONResponse({"error": "the request body is nested too deeply"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "the request body must be a JSON object"}, status_code=400)
        try:
            return JSONResponse(await run_in_threadpool(self.one_at_a_time(call) if write else call, body))
        except RecommenderError as exc:
            return self.error_json(exc)

    def whole(self, value: Any, key: str) -> int:
        """``value`` as a whole number (JSON's 3 or 3.0), else a UsageError; an int is taken as it is
        (one past a float's range, 10**400, raised OverflowError: a 500, logged as a bug)."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if not isinstance(value, float) or not value.is_integer():
            raise UsageError(f"{key} must be a whole number, got {value!r}")
        return int(value)

    async def api_weights_preview(self, request: Request) -> Response:  # (in READ_ONLY_POSTS)
        return await self.json_action(request, lambda b: self.ctx.weights_preview(b.get("weights") or {}, b.get("new_share")))

    async def api_weights_save(self, request: Request) -> Response:
        return await self.json_action(request, lambda b: {
            "diff": self.ctx.save_weights(b.get("weights") or {}, b.get("new_share"), version=b.get("version")),
            "path": str(self.ctx.config_file), "version": self.ctx.loaded_version})

    async def api_discovery_save(self, request: Request) -> Response:
        return await self.json_action(request, lambda b: {"diff": self.ctx.save_discovery(b.get("values"), version=b.get("version")),
                                                          "path": str(self.ctx.config_file), "version": self.ctx.loaded_version})

    async def api_mood_export(self, request: Request) -> Response:
        return await self.json_action(request, lambda b: self.ctx.export_mood(
            str(b.get("mood") or ""), str(b.get("valence") if b.get("valence") is not None else ""),
            str(b.get("energy") if b.get("energy") is not None else "")))

    async def api_export(self, request: Request) -> Response:
        return await self.json_action(request, lambda b: self.ctx.export_cluster(self.whole(b.get("cluster"), "cluster")))

    def asked(self, method: str, param: str):
        """An endpoint answering ``ctx.<method>(the query's param)`` as JSON (an error: ``error_json``)."""
        async def endpoint(request: Request) -> Response:
            try:
                out = await run_in_threadpool(getattr(self.ctx, method), request.query_params.get(param, ""))
            except RecommenderError as exc:
                return self.error_json(exc)
            return JSONResponse(out)
        return endpoint

    async def api_moods(self, request: Request) -> Response:
        q = request.query_params
        try:
            out = await run_in_threadpool(self.ctx.mood_tracks, q.get("mood", ""), q.get("valence", ""), q.get("energy", ""))
        except RecommenderError as exc:
            return self.error_json(exc)
        return JSONResponse(out)

    def routes(self) -> list:
        """The app's routes: its pages, its JSON endpoints, the static files, then any other address."""
        return [
            Route("/", self.index), Route("/next", self.next_page), Route("/next/steer", self.steer, methods=["POST"]),
            Route("/next/publish", self.publish, methods=["POST"]), Route("/next/steer", self.to_next_page), Route("/next/publish", self.to_next_page),
            Route("/weights", self.weights_page),
            Route("/discovery", self.discovery_page), Route("/map", self.map_page), Route("/moods", self.moods_page), Route("/search", self.search_page), Route("/similar", self.similar_page),
            Route("/runs", self.runs_page),
            Route("/api/weights/preview", self.api_weights_preview, methods=["POST"]),
            Route("/api/weights/save", self.api_weights_save, methods=["POST"]),
            Route("/api/discovery/save", self.api_discovery_save, methods=["POST"]),
            Route("/api/search", self.asked("search", "q")), Route("/api/similar", self.asked("similar", "track")),
            Route("/api/why", self.asked("why", "track")),
            Route("/api/moods", self.api_moods),
            Route("/api/map/export", self.api_export, methods=["POST"]),
            Route("/api/moods/export", self.api_mood_export, methods=["POST"]),
            Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
            _any_method(Route(CATCH_ALL, self.not_found)),  # last: what no route above answers
        ]

    async def body_late(self, request: Request) -> Response | None:
        """None once the POST's body is in (kept for the endpoint); else a 408 when it did not arrive
        whole within ``BODY_WAIT``, the connection closed after it. A client that sent a head and
        then held its body back (a stalled tunnel) was waited for as long as it stayed connected,
        named as "the change under way" that a Ctrl-C waited for, though nothing had been done."""
        import anyio
        try:
            with anyio.fail_after(BODY_WAIT):
                await request.body()
            return None
        except TimeoutError:
            message, status = f"the request's body did not arrive within {BODY_WAIT} s: nothing was done", 408
            log.warning("%s %s: %s", request.method, request.url.path, message)
        except ClientDisconnect:  # the sender went before its body was in (a tab closed): no one to answer, no bug
            log.debug("%s %s: the client went away before its request's body was in", request.method, request.url.path)
            message, status = "the request's body did not arrive whole", 400
        headers = {"Connection": "close"}
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status, headers=headers)
        return Response(message, status_code=status, headers=headers)

    async def guard(self, request: Request, call_next):
        """In front of every request: a loopback Host, the session (or the token), a token in another
        page's address moved to the cookie, a page's config file read again, the POSTs under way noted
        (a Ctrl-C waits for them), a failure said in one line, and the security headers."""
        started = time.perf_counter()
        if not self.sec.host_ok(request.headers.get("host")):
            return _headers(self.wrong_host(request), started)
        # the path as asked (``request.url`` drops its line breaks and tabs): a control character is in no
        # address of the app (/next%0A showed the Next page, /a%0Ab was a bare "Not Found" in plain text)
        odd = CONTROL.search(request.scope["path"]) is not None
        if (odd or not request.url.path.startswith("/static/")) and not self.sec.authed(request):
            return _headers(self.denied(request), started)
        if odd:
            return _headers(await self.not_found(request), started)
        if (request.method == "GET" and request.url.path not in ("/", "") and not request.url.path.startswith(
                ("/static/", "/api/")) and _same(request.query_params.get("token", ""), self.sec.token)):
            # the URL's token on another page (/weights?token=...): it showed the page, but set no cookie,
            # so each of its clicks and fetches was refused, and the token stayed in the address bar
            from urllib.parse import urlencode
            rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
            return _headers(self.enter(request, _here(request.url.path, rest)), started)
        if request.method == "GET" and request.url.path not in ("/", "") and not request.url.path.startswith(("/static/", "/api/")):
            try:  # a page shows the config file as it is now (edited by hand, saved in another tab)
                await run_in_threadpool(self.ctx.sync_settings)
            except RecommenderError as exc:
                refused = request.query_params.get("unchanged") == "config"  # a steer or Publish sent here
                return _headers(self.render(request, "problem.html", status=409 if refused else 200,
                                            heading=("Nothing was changed: your config file has a problem" if refused
                                                     else "Your config file has a problem"), message=str(exc),
                                            advice="Mend it, then reload this page and do it again." if refused else "",
                                            page=request.url.path.strip("/")), started)
        if request.method == "POST" and (refusal := await self.body_late(request)):
            return _headers(refusal, started)
        # a change under way, its body in: a Ctrl-C waits for it and says so (server.serve); a preview writes
        # nothing (it was named there: "stopping once the change under way is written (/api/weights/preview)")
        change = request.method == "POST" and request.url.path not in READ_ONLY_POSTS
        if change:
            self.app.state.writing.append(request.url.path)
        try:
            response = await call_next(request)
        except Exception as exc:  # a full disk as the CLI says it; a bug: one line, the details to the log
            if isinstance(exc, ClientDisconnect):  # the sender went before its body was in (a tab closed): no bug,
                # nothing done, and no one to answer (it was logged with a traceback: "error in POST ...")
                log.debug("%s %s: the client went away before its request's body was in", request.method, request.url.path)
                message, status = "the request's body did not arrive whole", 400
            elif StorageError.matches(exc):
                message, status = str(StorageError.from_os_error(exc)), 507
                log.warning("%s %s: %s", request.method, request.url.path, message)
            else:
                log.exception("error in %s %s", request.method, request.url.path)
                message, status = "internal error (details in the log)", 500
            response = JSONResponse({"error": message}, status_code=status) if request.url.path.startswith("/api/") \
                else Response(message, status_code=status)  # the scripts read {"error"} from /api/ answers
        finally:
            if change:
                self.app.state.writing.remove(request.url.path)
        if request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-cache"
        return _headers(response, started)


def create_app(ctx, security: Security | None = None) -> Starlette:
    """The app over a ``context.WebContext``."""
    site = _Site(ctx, security or Security())
    app = site.app = Starlette(routes=site.routes(), middleware=[Middleware(BaseHTTPMiddleware, dispatch=site.guard)])
    app.state.security = site.sec
    app.state.writing = []  # the paths of the POSTs under way
    app.state.waiting_writes = []  # writes waiting for the one under way
    app.state.context = ctx
    return app
