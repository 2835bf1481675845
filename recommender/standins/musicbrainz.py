"""A local MusicBrainz stand-in: serves recorded JSON responses over HTTP on 127.0.0.1.

Responses come from a folder of recorded bodies in MusicBrainz's own JSON shapes:
``isrc-<ISRC>.json`` (``/ws/2/isrc/<ISRC>``), ``artist-<MBID>.json`` (``/ws/2/artist/<MBID>``)
and ``search-<slug>.json`` (``/ws/2/artist?query=artist:"<name>"``, where slug is the
name folded to lower-case ASCII words joined by '-'). Unknown ISRCs and MBIDs answer 404,
unknown names an empty search result; an ISRC with anything but capitals and digits (a
hyphen, a space, lower case) answers 400 "Invalid isrc.", as MusicBrainz does. Like MusicBrainz, lookups leave out ``artist-credit``,
``genres`` and ``tags`` unless asked for with ``inc``, and anything but ``fmt=json`` is refused.

Built with ``world=`` (an ``OpenDataWorld`` of ``standins/listenbrainz.py``), it also answers
``/isrc/<ISRC>`` for every track of that world, with the world's recording and artist MBIDs,
and ``/artist/<MBID>`` for every artist of it, with the world's genres of that artist as
genres and tags (``OpenDataWorld.artist_page``): ``recommend standin`` and ``--demo`` serve
the sample's world, whose genres are the sample library's artist genres (derived when the
stand-in starts, not stored). Recorded bodies come first.

``merged`` (old artist MBID -> the MBID it was merged into) answers ``/artist/<old>`` with the
page of the new one, its ``id`` the new MBID, and credits the new one in ISRC answers, as
MusicBrainz does after a merge; ``deleted`` (artist MBIDs) answers those 404, as MusicBrainz
does for an entity removed. Both can be changed between requests.

Tests can queue failures (``fail(503, times=2, retry_after=0)``) and read ``seen``: the
monotonic time, path, query and User-Agent of every request received.

Demo: ``python -m recommender.standins.musicbrainz tests/fixtures/musicbrainz --port 8766``, then
set ``enrich.musicbrainz_url: "http://127.0.0.1:8766/ws/2/"``.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import threading
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .server import ServedStandIn

PREFIX = "/ws/2/"
NOT_FOUND = {"error": "Not Found", "help": "For usage, please see: https://musicbrainz.org/development/mmd"}


def slug(name: str) -> str:
    """File-name key of an artist name: 'Beyoncé & Jay-Z' -> 'beyonce-jay-z'."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return "-".join(re.findall(r"[a-z0-9]+", text))


def search_name(query: str) -> str:
    """The name of an ``artist:"..."`` phrase query (Lucene escapes removed), else the query."""
    m = re.search(r'artist:"((?:\\.|[^"\\])*)"', query)
    if not m:
        return query
    return re.sub(r"\\(.)", r"\1", m.group(1))


@dataclass(frozen=True)
class Seen:
    """One request as the stand-in received it."""

    time: float  # time.monotonic() when the request arrived
    path: str
    query: dict[str, str]
    user_agent: str


class MusicBrainzStandIn(ServedStandIn):
    """Serve recorded responses; use as a context manager or call ``start``/``stop``."""

    label = "MusicBrainz stand-in"

    def __init__(self, fixtures: Path | str | None = None, host: str = "127.0.0.1", port: int = 0,
                 world: Any = None, merged: dict[str, str] | None = None, deleted: Iterable[str] = ()) -> None:
        self.world = world  # an OpenDataWorld (standins.listenbrainz): answers ISRC look-ups of its tracks
        self.host = host
        self.port = port
        self.isrcs: dict[str, dict[str, Any]] = {}
        self.artists: dict[str, dict[str, Any]] = {}
        self.searches: dict[str, dict[str, Any]] = {}
        self.merged: dict[str, str] = dict(merged or {})  # old artist MBID -> the one it was merged into
        self.deleted: set[str] = set(deleted)  # artist MBIDs removed: 404
        self.seen: list[Seen] = []
        self._failures: list[tuple[int, float | None]] = []
        self._lock = threading.Lock()
        if fixtures is not None:
            self.load(fixtures)

    # ----- data ------------------------------------------------------------------------
    def load(self, folder: Path | str) -> None:
        """Read every ``isrc-*.json``, ``artist-*.json`` and ``search-*.json`` of ``folder``."""
        for path in sorted(Path(folder).glob("*.json")):
            kind, _, key = path.stem.partition("-")
            body = json.loads(path.read_text(encoding="utf-8"))
            if kind == "isrc":
                self.isrcs[key.upper()] = body
            elif kind == "artist":
                self.artists[key] = body
            elif kind == "search":
                self.searches[key] = body

    def fail(self, status: int = 503, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (and a Retry-After header)."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * times)

    # ----- server ----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"{self.origin}{PREFIX}"

    # ----- routing ---------------------------------------------------------------------
    def _merged_into(self, mbid: str) -> str:
        """The MBID ``mbid`` was merged into (through chains of merges), else ``mbid``."""
        seen = {mbid}
        while self.merged.get(mbid) not in (None, *seen):
            mbid = self.merged[mbid]
            seen.add(mbid)
        return mbid

    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes
                ) -> tuple[int, dict[str, str], bytes]:
        if method not in ("GET", "HEAD"):
            status, answer, out = 405, {"error": "Method not allowed"}, {}
        else:
            status, answer, out = self._answer(target, headers.get("user-agent", ""))
        return status, {"Content-Type": "application/json; charset=utf-8", **out}, json.dumps(answer).encode("utf-8")

    def _answer(self, raw_path: str, user_agent: str) -> tuple[int, Any, dict[str, str]]:
        url = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        with self._lock:
            self.seen.append(Seen(time.monotonic(), url.path, query, user_agent))
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            status, retry_after = failure
            headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
            return status, {"error": "Your requests are exceeding the allowable rate limit."}, headers
        if not user_agent:
            return 403, {"error": "Please provide a meaningful User-Agent."}, {}
        if query.get("fmt") != "json":
            return 400, {"error": "this stand-in only speaks fmt=json"}, {}
        if not url.path.startswith(PREFIX):
            return 404, NOT_FOUND, {}
        parts = url.path[len(PREFIX):].strip("/").split("/")
        inc = set(re.split(r"[+ ]", query.get("inc", ""))) - {""}  # '+' arrives decoded as ' '
        if parts[0] == "isrc" and len(parts) == 2:
            if not re.fullmatch(r"[A-Z0-9]+", parts[1]):
                # MusicBrainz checks the code as sent (^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$): a hyphen, a
                # space or a lower-case letter is "Invalid isrc." (400), not an unknown one (404).
                # Looser on length and digits, for the synthetic codes of the sample world.
                return 400, {"error": "Invalid isrc.", "help": NOT_FOUND["help"]}, {}
            body = self.isrcs.get(parts[1].upper())
            if body is None and self.world is not None:
                body = self.world.isrc_lookup(parts[1])
            if body is None:
                return 404, NOT_FOUND, {}
            body = copy.deepcopy(body)
            for rec in body.get("recordings", []):
                if "artist-credits" not in inc:
                    rec.pop("artist-credit", None)
                credits = rec.get("artist-credit")
                for credit in credits if isinstance(credits, list) else []:  # (a test's odd answer: as given)
                    artist = credit.get("artist") if isinstance(credit, dict) else None
                    if isinstance(artist, dict) and artist.get("id") in self.merged:
                        artist["id"] = self._merged_into(artist["id"])
            return 200, body, {}
        if parts[0] == "artist" and len(parts) == 2:
            mbid = self._merged_into(parts[1])
            body = None if mbid in self.deleted else self.artists.get(mbid)
            if body is None and self.world is not None and mbid not in self.deleted:
                body = self.world.artist_page(mbid)
            if body is None:
                return 404, NOT_FOUND, {}
            body = {**body, "id": mbid}
            body = {k: v for k, v in body.items() if k not in {"genres", "tags"} - inc}
            return 200, body, {}
        if parts == ["artist"] and "query" in query:
            body = self.searches.get(slug(search_name(query["query"])))
            if body is None:
                body = {"created": "2026-01-01T00:00:00.000Z", "count": 0, "offset": 0, "artists": []}
            return 200, body, {}
        return 404, NOT_FOUND, {}


def main(argv: list[str] | None = None) -> None:
    """Serve a fixtures folder until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixtures", type=Path)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args(argv)
    MusicBrainzStandIn(args.fixtures, port=args.port).serve_forever()


if __name__ == "__main__":
    main()
