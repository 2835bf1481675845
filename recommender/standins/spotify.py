"""A local stand-in for the Spotify Web API and accounts service (the 2026 contract).

A real HTTP server (``http.server.ThreadingHTTPServer``) on 127.0.0.1 that answers the way
Spotify answers a Development Mode app in 2026 (see SPOTIFY-2026.md), so that spotipy 2.26
works against it unchanged::

    sp = spotipy.Spotify(auth=token, requests_session=requests.Session())
    sp.prefix = server.api_url
    SpotifyPKCE.OAUTH_TOKEN_URL = server.accounts_url + "/api/token"

It serves one :class:`Account` (the built-in sample library or a small hand-written one),
keeps its state in memory (writes mutate ``server.account``), records every request, and can
inject faults (429, quota, 5xx, "applied then 502", "applied late", slow, truncated bodies). ``extended=True``
imitates an extended-quota app: popularity and artist genres appear, audio features answer.
``aliases`` picks the playlist keys: "both" (2026: ``item`` + the deprecated ``track`` in an
entry, ``items`` + ``tracks`` in a playlist), "new" (the aliases gone) or "old" (before 2026).

Run it by hand with ``python -m recommender.standins.spotify --port 8765 [--extended]``.
"""

from __future__ import annotations

import argparse
import base64
import copy
import csv
import functools
import gzip
import hashlib
import io
import json
import logging
import math
import re
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode, urlsplit

from ..errors import DataError, UsageError
from ..isotime import utc_now
from .server import ServedStandIn

log = logging.getLogger(__name__)

FORMAT = "recommend-standin-account/1"
SAMPLE_LIBRARY = "sample_library.json.gz"
SAMPLE_FEATURES = "sample_features.csv.gz"
TIME_RANGES = ("short_term", "medium_term", "long_term")
FEATURE_COLUMNS = (
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "duration_ms",
)
INT_FEATURES = {"key", "mode", "duration_ms"}
DEFAULT_SCOPE = (
    "playlist-read-private playlist-read-collaborative user-top-read user-library-read "
    "user-follow-read playlist-modify-private playlist-modify-public"
)
MAX_PAGE = 50  # page size limit of every list endpoint
MAX_SEARCH = 10  # search limit since 2026
MAX_ARTIST_ALBUMS = 10  # an artist's albums, page size since 2026 (still 50 in extended quota mode)
MAX_WRITE = 100  # URIs per playlist write
# a playlist's name and description: one line, at most this many characters; Spotify answers
# anything else with a bare 500 (troi-recommendation-playground PR #155, 2024-12)
MAX_NAME = 100
MAX_ITEMS = 10_000  # items a playlist holds; an add past it is a 400 "Playlist size limit reached"
MAX_DESCRIPTION = 300
CODE_LIFETIME = 600.0  # seconds an authorization code stays valid

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_RE = re.compile(r"^[0-9A-Za-z]{22}$")


@functools.lru_cache(maxsize=1 << 17)  # each demo start makes the sample world's 21,000 ids again
def base62_id(text: str) -> str:
    """A deterministic 22-character base-62 id from the sha1 of ``text`` (UTF-8)."""
    n = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % (62**22)
    out = []
    for _ in range(22):
        n, r = divmod(n, 62)
        out.append(_BASE62[r])
    return "".join(reversed(out))


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now_iso() -> str:
    """When a write lands: the tool's clock (``isotime.utc_now``), so a simulated clock moves
    the stand-in's ``added_at`` with it."""
    return _iso(utc_now())


def days_ago_iso(days: float, salt: str = "", now: datetime | None = None) -> str:
    """ISO timestamp ``days`` days before ``now`` (UTC, hour-floored), minus a stable 0-12 h
    offset from ``salt`` so that entries of the same day differ. Never in the future.
    ``now``: by default the tool's clock (``isotime.utc_now``), as for a write's date, so an
    account made under a simulated clock is dated by it, not by the hour the tests run at."""
    now = (now or utc_now()).replace(minute=0, second=0, microsecond=0)
    offset = int(hashlib.sha1(salt.encode("utf-8")).hexdigest()[:8], 16) % 43200
    return _iso(now - timedelta(days=float(days), seconds=offset))


def _precision(date: str) -> str:
    return {4: "year", 7: "month"}.get(len(date or ""), "day")


# ---------------------------------------------------------------------------------------
# The account: everything one user's Spotify looks like
# ---------------------------------------------------------------------------------------
class Account:
    """One user's Spotify world: catalogue (artists, albums, tracks, episodes), playlists,
    top lists, saved tracks, followed artists and optional audio features.

    The dict format (``from_dict``/``to_dict``; JSON files in tests/fixtures)::

        {"format": "recommend-standin-account/1",
         "user": {"id": "demo-user", "display_name": "Demo"},
         "users": {"spotify": "Spotify"},                    # display names of other owners
         "artists": {id: {"name", "genres"?, "popularity"?}},
         "albums": {id: {"name", "release_date", "artist_ids", "album_type"?, "total_tracks"?,
                         "popularity"?}},
         "tracks": {id: {"name", "artist_ids", "album_id", "duration_ms", "explicit"?,
                         "isrc"?, "popularity"?, "track_number"?}},
         "episodes": {id: {"name", "show", "duration_ms", "release_date"}},
         "playlists": [{"id", "name", "description"?, "owner"? (default: the user),
                        "collaborative"?, "public"?, "followed"? (in /me/playlists, default
                        true), "snapshot_id"?, "items": [item, ...]}],
         "top_tracks": {time_range: [track ids]}, "top_artists": {time_range: [artist ids]},
         "saved_tracks": [{"id", "added_at" | "days_ago"}],
         "followed_artists": [artist ids],
         "audio_features": {track id: {danceability ... duration_ms}},
         "relinked": {track id: playable track id},          # track relinking, see below
         "unplayable": [track ids]}                          # not playable in the user's country

    A playlist item is a bare track id, or ``{"track": id}``, ``{"episode": id}``,
    ``{"local": {"name", "artist", "album", "duration_ms"}}`` or ``{"null": true}``, each
    optionally with ``"added_at"`` (ISO) or ``"days_ago"`` (rendered relative to now when
    loaded) and ``"added_by"`` (user id). ``to_dict`` writes resolved ISO dates, so
    ``Account.from_dict(a.to_dict()).to_dict() == a.to_dict()``.

    ``relinked`` imitates Spotify's track relinking: a request that names a ``market`` gets,
    for a relinked track in a playlist or the saved tracks, the playable track's object with
    ``linked_from`` naming the stored one (without ``market``: the stored track, as Spotify).

    ``unplayable`` lists the tracks licensed only in other countries than the user's (a release
    of another market). As Spotify, a request without ``market`` serves them like any other
    track; one that names a ``market`` marks every track it returns ``is_playable`` (false, with
    ``restrictions.reason`` "market", for these), and a search naming one leaves them out, as an
    artist's album listing naming one leaves out an album all of whose tracks are such.
    """

    def __init__(self) -> None:
        self.user: dict[str, Any] = {"id": "demo-user", "display_name": "Demo User"}
        self.users: dict[str, str] = {}
        self.artists: dict[str, dict[str, Any]] = {}
        self.albums: dict[str, dict[str, Any]] = {}
        self.tracks: dict[str, dict[str, Any]] = {}
        self.episodes: dict[str, dict[str, Any]] = {}
        self.playlists: list[dict[str, Any]] = []
        self.top_tracks: dict[str, list[str]] = {r: [] for r in TIME_RANGES}
        self.top_artists: dict[str, list[str]] = {r: [] for r in TIME_RANGES}
        self.saved_tracks: list[dict[str, str]] = []
        self.followed_artists: list[str] = []
        self.audio_features: dict[str, dict[str, Any]] = {}
        self.relinked: dict[str, str] = {}
        self.unplayable: list[str] = []
        self.restriction: dict[str, str] = {}  # an unplayable track -> its restrictions.reason ("market" if none)

    # ----- loading ---------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any], now: datetime | None = None, *, copied: bool = True) -> "Account":
        """Build from the dict format above (deep-copied, unless ``copied`` is False: a dict just
        parsed, that no one else holds; ``days_ago`` resolved against now)."""
        if copied:
            data = copy.deepcopy(data)
        fmt = data.get("format", FORMAT)
        if fmt != FORMAT:
            raise ValueError(f"unknown account format {fmt!r} (expected {FORMAT!r})")
        a = cls()
        a.user = dict(data.get("user") or a.user)
        a.user.setdefault("display_name", a.user["id"])
        uid = a.user["id"]
        a.users = dict(data.get("users") or {})
        a.artists = dict(data.get("artists") or {})
        a.albums = dict(data.get("albums") or {})
        a.tracks = dict(data.get("tracks") or {})
        a.episodes = dict(data.get("episodes") or {})
        for pl in data.get("playlists") or []:
            pid = pl["id"]
            items = [
                _norm_item(it, uid, f"{pid}:{i}", now) for i, it in enumerate(pl.get("items") or [])
            ]
            a.playlists.append({
                "id": pid,
                "name": pl.get("name", pid),
                "description": pl.get("description", ""),
                "owner": pl.get("owner", uid),
                "collaborative": bool(pl.get("collaborative", False)),
                "public": bool(pl.get("public", False)),
                "followed": bool(pl.get("followed", True)),
                "snapshot_id": pl.get("snapshot_id") or _snapshot(pid, 0),
                "version": int(pl.get("version", 0)),
                "items": items,
            })
        for r in TIME_RANGES:
            a.top_tracks[r] = list((data.get("top_tracks") or {}).get(r, []))
            a.top_artists[r] = list((data.get("top_artists") or {}).get(r, []))
        for s in data.get("saved_tracks") or []:
            s = {"id": s} if isinstance(s, str) else s
            a.saved_tracks.append({"id": s["id"], "added_at": _resolve_date(s, f"saved:{s['id']}", now)})
        a.followed_artists = list(data.get("followed_artists") or [])
        a.audio_features = dict(data.get("audio_features") or {})
        a.relinked = dict(data.get("relinked") or {})
        a.unplayable = list(data.get("unplayable") or [])
        a.validate()
        return a

    @classmethod
    def from_file(cls, path: str | Path) -> "Account":
        """Load a JSON (or gzip-compressed ``.json.gz``) account file; ``DataError`` names
        the file when it cannot be read or does not hold a valid account."""
        path = Path(path)
        try:
            raw = path.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            return cls.from_dict(json.loads(raw.decode("utf-8")), copied=False)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            detail = f"missing key {err}" if isinstance(err, KeyError) else str(err).splitlines()[0]
            raise DataError(f"{path}: not a readable stand-in account ({detail})") from err

    @classmethod
    def sample(cls, features: bool = True) -> "Account":
        """The built-in sample library (recommender/data), with its audio features."""
        data_dir = resources.files("recommender") / "data"
        raw = gzip.decompress((data_dir / SAMPLE_LIBRARY).read_bytes())
        account = cls.from_dict(json.loads(raw.decode("utf-8")), copied=False)
        if features:
            account.audio_features.update(
                read_features_csv(gzip.decompress((data_dir / SAMPLE_FEATURES).read_bytes()))
            )
        return account

    def to_dict(self) -> dict[str, Any]:
        """The dict format (dates resolved to ISO strings); a deep copy."""
        return copy.deepcopy(self._as_dict())

    def to_json(self) -> str:
        """``to_dict()`` as JSON, without the copy (a demo run saves its account so: the copy cost
        it a second)."""
        return json.dumps(self._as_dict())

    def _as_dict(self) -> dict[str, Any]:
        """The dict format over the account's own objects (callers copy or serialise it)."""
        playlists = []
        for pl in self.playlists:
            d = {k: pl[k] for k in ("id", "name", "description", "owner", "collaborative",
                                    "public", "followed", "snapshot_id", "version")}
            d["items"] = [_item_to_dict(it) for it in pl["items"]]
            playlists.append(d)
        return {
            "format": FORMAT,
            "user": self.user,
            "users": self.users,
            "artists": self.artists,
            "albums": self.albums,
            "tracks": self.tracks,
            "episodes": self.episodes,
            "playlists": playlists,
            "top_tracks": self.top_tracks,
            "top_artists": self.top_artists,
            "saved_tracks": self.saved_tracks,
            "followed_artists": self.followed_artists,
            "audio_features": self.audio_features,
            "relinked": self.relinked,
            "unplayable": self.unplayable,
        }

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first dangling reference."""
        for tid, t in self.tracks.items():
            if t.get("album_id") not in self.albums:
                raise ValueError(f"track {tid}: unknown album_id {t.get('album_id')!r}")
            for aid in t.get("artist_ids", []):
                if aid not in self.artists:
                    raise ValueError(f"track {tid}: unknown artist id {aid!r}")
        for alid, al in self.albums.items():
            for aid in al.get("artist_ids", []):
                if aid not in self.artists:
                    raise ValueError(f"album {alid}: unknown artist id {aid!r}")
        for pl in self.playlists:
            for it in pl["items"]:
                if it["kind"] == "track" and it["id"] not in self.tracks:
                    raise ValueError(f"playlist {pl['id']}: unknown track {it['id']!r}")
                if it["kind"] == "episode" and it["id"] not in self.episodes:
                    raise ValueError(f"playlist {pl['id']}: unknown episode {it['id']!r}")
        for r in TIME_RANGES:
            for tid in self.top_tracks[r]:
                if tid not in self.tracks:
                    raise ValueError(f"top_tracks.{r}: unknown track {tid!r}")
            for aid in self.top_artists[r]:
                if aid not in self.artists:
                    raise ValueError(f"top_artists.{r}: unknown artist {aid!r}")
        for s in self.saved_tracks:
            if s["id"] not in self.tracks:
                raise ValueError(f"saved_tracks: unknown track {s['id']!r}")
        for aid in self.followed_artists:
            if aid not in self.artists:
                raise ValueError(f"followed_artists: unknown artist {aid!r}")
        for stored, playable in self.relinked.items():
            for tid in (stored, playable):
                if tid not in self.tracks:
                    raise ValueError(f"relinked: unknown track {tid!r}")
        for tid in self.unplayable:
            if tid not in self.tracks:
                raise ValueError(f"unplayable: unknown track {tid!r}")

    # ----- lookups ---------------------------------------------------------------------
    def playlist(self, playlist_id: str) -> dict[str, Any] | None:
        """The playlist record (mutable, live) or None."""
        for pl in self.playlists:
            if pl["id"] == playlist_id:
                return pl
        return None

    def playlist_track_ids(self, playlist_id: str) -> list[str]:
        """Track ids of a playlist in order (episodes, local files and null items skipped)."""
        pl = self.playlist(playlist_id)
        if pl is None:
            raise KeyError(playlist_id)
        return [it["id"] for it in pl["items"] if it["kind"] == "track"]

    def remove_track(self, track_id: str) -> None:
        """Spotify drops a track from its catalogue: its playlist entries turn null (``item``
        null, as the API shows them), it leaves the saved and top tracks and any relinking, a
        look-up answers 404 and a write naming it 400 ("non-existing ID")."""
        del self.tracks[track_id]
        for pl in self.playlists:
            for it in pl["items"]:
                if it["kind"] == "track" and it["id"] == track_id:
                    it["kind"] = "null"
                    del it["id"]
        self.saved_tracks = [s for s in self.saved_tracks if s["id"] != track_id]
        for r in TIME_RANGES:
            self.top_tracks[r] = [t for t in self.top_tracks[r] if t != track_id]
        self.relinked = {k: v for k, v in self.relinked.items() if track_id not in (k, v)}
        self.unplayable = [t for t in self.unplayable if t != track_id]
        self.audio_features.pop(track_id, None)


def _resolve_date(entry: dict[str, Any], salt: str, now: datetime | None) -> str:
    if entry.get("added_at"):
        return str(entry["added_at"])
    if entry.get("days_ago") is not None:
        return days_ago_iso(entry["days_ago"], salt, now)
    return "2020-01-01T00:00:00Z"


def _norm_item(it: Any, uid: str, salt: str, now: datetime | None) -> dict[str, Any]:
    """The internal item record: {kind, id?, local?, added_at, added_by}."""
    if isinstance(it, str):
        it = {"track": it}
    out: dict[str, Any] = {"added_at": _resolve_date(it, salt, now), "added_by": it.get("added_by", uid)}
    if "track" in it:
        out.update(kind="track", id=it["track"])
    elif "episode" in it:
        out.update(kind="episode", id=it["episode"])
    elif "local" in it:
        out.update(kind="local", local=dict(it["local"]))
    elif it.get("null"):
        out.update(kind="null")
    else:
        raise ValueError(f"playlist item {salt}: needs one of track, episode, local, null")
    return out


def _item_to_dict(it: dict[str, Any]) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if it["kind"] in ("track", "episode"):
        d[it["kind"]] = it["id"]
    elif it["kind"] == "local":
        d["local"] = dict(it["local"])
    else:
        d["null"] = True
    d["added_at"] = it["added_at"]
    d["added_by"] = it["added_by"]
    return d


def _snapshot(playlist_id: str, version: int) -> str:
    digest = hashlib.sha1(f"{playlist_id}:{version}".encode()).digest()
    return base64.b64encode(version.to_bytes(4, "big") + digest[:20]).decode("ascii")


def read_features_csv(raw: bytes | str) -> dict[str, dict[str, Any]]:
    """track_id -> audio features from CSV text with columns track_id + FEATURE_COLUMNS."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    out: dict[str, dict[str, Any]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        out[row["track_id"]] = {
            c: (int(float(row[c])) if c in INT_FEATURES else float(row[c]))
            for c in FEATURE_COLUMNS
            if row.get(c) not in (None, "")
        }
    return out


# ---------------------------------------------------------------------------------------
# Faults and request records
# ---------------------------------------------------------------------------------------
@dataclass
class Fault:
    """An injected failure, matched on ``method`` and a regex searched in the request path.

    ``status`` None keeps the real status (use with ``delay`` or ``truncate``).
    ``times`` None = for ever. ``apply_first`` does the request, then answers ``status``.
    ``reason="QUOTA_EXCEEDED"`` with 429 gives the quota body and Retry-After 86400 unless
    ``retry_after`` is given. ``message`` replaces the error's text (an accounts-service fault
    answers it as ``error_description``, as /api/token does). ``truncate`` answers 200 with the body cut in half.
    ``method`` "*" matches any method. ``path`` is searched (``re.search``) in the request
    path without its query, both as sent and without a trailing slash ("/v1/me/" and
    "/v1/me"). Faults also apply to /authorize and /api/token. ``hits`` counts matches.
    ``late`` (seconds) "applies late": the request is applied that long after it arrived, in
    the background, while the answer (``status``, default 504) comes after ``delay``; with a
    ``delay`` beyond the client's timeout the client never sees it (``StandinServer.
    wait_late`` waits for the late writes, or applies them at once). ``before`` is called with the account just before
    the request is handled (a user editing in the app at the same moment). ``raw`` answers
    ``status`` with that body as it is (an HTML page of Spotify's edge, or b"" for none) and no
    Retry-After header.
    """

    method: str = "GET"
    path: str = ".*"
    status: int | None = None
    retry_after: float | None = None
    times: int | None = 1
    reason: str | None = None
    message: str | None = None
    apply_first: bool = False
    delay: float = 0.0
    truncate: bool = False
    late: float | None = None
    before: Callable[[Account], None] | None = field(default=None, compare=False)
    raw: bytes | None = None
    hits: int = field(default=0, compare=False)

    def matches(self, method: str, paths: tuple[str, ...]) -> bool:
        if self.method != "*" and self.method.upper() != method:
            return False
        return any(re.search(self.path, p) for p in paths)


class RequestRecord(NamedTuple):
    """One request the stand-in answered: path without the query, first value per query key."""

    method: str
    path: str
    query: dict[str, str]
    status: int


class _Reply(Exception):
    """Raised by handlers to answer at once (errors, redirects, empty bodies)."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                 raw: bytes | None = None, content_type: str = "application/json") -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.raw = raw
        self.content_type = content_type


def _api_error(status: int, message: str, reason: str | None = None,
               headers: dict[str, str] | None = None) -> _Reply:
    err: dict[str, Any] = {"status": status, "message": message}
    if reason:
        err["reason"] = reason
    return _Reply(status, {"error": err}, headers)


def _oauth_error(error: str, description: str, status: int = 400) -> _Reply:
    return _Reply(status, {"error": error, "error_description": description})


_STATUS_MESSAGES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
    429: "API rate limit exceeded", 500: "Server error", 502: "Bad gateway",
    503: "Service unavailable", 504: "Gateway timeout",
}


# ---------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------
class StandinServer(ServedStandIn):
    """The stand-in: ``start()``/``stop()`` or ``with StandinServer(account) as server:``
    (the lifecycle of ``standins/server.py``).

    ``client_id`` None accepts any client id; ``client_secret`` None accepts any secret.
    ``port`` 0 picks a free ephemeral port. ``aliases``: "both", "new" or "old" (module docstring).
    """

    label = "Spotify stand-in"

    def __init__(self, account: Account, extended: bool = False, client_id: str | None = None,
                 *, client_secret: str | None = None, host: str = "127.0.0.1", port: int = 0,
                 aliases: str = "both") -> None:
        if aliases not in ("both", "new", "old"):
            raise ValueError(f"aliases must be both, new or old, not {aliases!r}")
        self.account = account
        self.extended = extended
        self.aliases = aliases
        self.client_id = client_id
        self.client_secret = client_secret
        self.host = host
        self.port = port
        self._lock = threading.RLock()
        self._records: list[RequestRecord] = []
        self._faults: list[Fault] = []
        self._access: dict[str, dict[str, Any]] = {}
        self._refresh: dict[str, dict[str, Any]] = {}
        self._codes: dict[str, dict[str, Any]] = {}
        self._created = 0
        self._index: tuple | None = None  # the catalogue's search index (_track_hits)
        self._by_artist: tuple | None = None  # each artist's albums (_albums_by_artist)
        self._by_album: tuple | None = None  # each album's tracks (_tracks_by_album)
        # True: Spotify's playlists that stay public whatever is asked (spotipy #1072, 2024;
        # news-bulletin-playlist #135, 2026): a create with "public": false makes a public
        # playlist, and a change of details to "public": false answers 200 and changes nothing
        self.keeps_public = False
        # track id -> the id Spotify stores it as when it is written to a playlist (the same song
        # under a newer id: "adding the old ID adds the new ID", spotipy #1097, 2024)
        self.written_as: dict[str, str] = {}
        # True/False: the "public" flag /me/playlists gives every playlist, whatever it is (true
        # for all, exportify #56, 2024); GET /playlists/{id} still tells the truth
        self.listed_public: bool | None = None
        self.max_items = MAX_ITEMS  # a test may lower it rather than write 10,000 tracks
        # a regex: a description it finds is refused with a bare 400 (a description Spotify
        # would not take, for reasons it does not say: news-bulletin-playlist #77, 2026)
        self.refused_description: str | None = None
        # a playlist just created answers 404 "Not found." to the next this many requests that
        # name it, writes included: the server that takes them has not seen it yet ("usually the
        # creation succeeds and the failure comes when writing the first or second page of 100
        # tracks", lineup-list #40; intermittent 404s on adding items, spotify-web-api-java #297)
        self.new_playlist_lag = 0
        self._unseen: dict[str, int] = {}  # created playlist id -> requests it still answers 404
        self._late: list[threading.Thread] = []
        self._release_late = threading.Event()

    # ----- URLs ------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.origin

    @property
    def api_url(self) -> str:
        return self.base_url + "/v1/"

    @property
    def accounts_url(self) -> str:
        return self.base_url

    # ----- test controls ---------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the requests answered so far, oldest first."""
        with self._lock:
            return list(self._records)

    def clear_requests(self) -> None:
        with self._lock:
            self._records.clear()

    def add_fault(self, fault: Fault) -> Fault:
        """Queue a fault; the first matching active fault is used for each request."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def issue_token(self, scope: str = DEFAULT_SCOPE, expires_in: int = 3600,
                    client_id: str | None = None) -> dict[str, Any]:
        """A fresh access + refresh token, as spotipy's cache file stores it. The refresh token
        works for ``client_id`` (default: the server's; None: any client)."""
        with self._lock:
            info = self._new_tokens(scope, expires_in, client_id or self.client_id)
        info["expires_at"] = int(time.time()) + expires_in
        return info

    def expire_access_tokens(self) -> None:
        """Every access token issued so far now answers 401 "The access token expired"."""
        with self._lock:
            for tok in self._access.values():
                tok["expires_at"] = 0.0

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far now fails with invalid_grant."""
        with self._lock:
            for tok in self._refresh.values():
                tok["revoked"] = True

    def wait_late(self, timeout: float = 10.0, now: bool = False) -> None:
        """Wait until every "apply late" request received so far has been applied; ``now``
        applies them at once instead of at their time (a test decides when they land)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            pending = list(self._late)
        if now:
            self._release_late.set()
        try:
            for t in pending:
                t.join(max(0.0, deadline - time.monotonic()))
        finally:
            self._release_late.clear()

    def playlist_track_ids(self, playlist_id: str) -> list[str]:
        """Track ids of a playlist in order, read from the live state."""
        with self._lock:
            return self.account.playlist_track_ids(playlist_id)

    def add_as(self, user_id: str, playlist_id: str, track_ids: list[str]) -> None:
        """Another user adds tracks at the end of a playlist (made collaborative, as Spotify needs
        for that): entries ``added_by`` that user, a new snapshot."""
        with self._lock:
            pl = self._get_playlist(playlist_id)
            pl["collaborative"], pl["public"] = True, False  # a collaborative playlist is never public
            pl["items"] += [{"kind": "track", "id": t, "added_at": _now_iso(), "added_by": user_id} for t in track_ids]
            self._bump(pl)

    def remove_track(self, track_id: str) -> None:
        """``Account.remove_track`` on the live state. The playlists keep their snapshot ids
        (no one edited them): the worst case for a client that caches items by snapshot."""
        with self._lock:
            self.account.remove_track(track_id)

    # ----- request plumbing ------------------------------------------------------------
    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes
                ) -> tuple[int, dict[str, str], bytes]:
        """Answer one request: faults, routing, recording. Returns (status, headers, body)."""
        split = urlsplit(target)
        raw_path = split.path
        path = raw_path.rstrip("/") or "/"
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        with self._lock:
            fault = next((f for f in self._faults if f.matches(method, (raw_path, path))), None)
            if fault is not None:
                fault.hits += 1
                if fault.times is not None and fault.hits >= fault.times:
                    self._faults.remove(fault)
        if fault is not None and fault.before is not None:
            with self._lock:
                fault.before(self.account)
        if fault is not None and fault.late is not None:  # applied in the background, later
            def apply_late(wait: float = fault.late) -> None:
                self._release_late.wait(wait)
                if not self._stopping.is_set():
                    self._run(method, path, query, headers, body)
            late = threading.Thread(target=apply_late, name="standin-late", daemon=True)
            with self._lock:
                self._late.append(late)
            late.start()
        if fault is not None and fault.delay > 0:
            self._stopping.wait(fault.delay)

        if fault is not None and fault.late is not None:
            reply = self._fault_reply(fault, path) if fault.status is not None else _api_error(504, "Gateway timeout")
        elif fault is not None and fault.status is not None and not fault.apply_first:
            reply = self._fault_reply(fault, path)
        else:
            reply = self._run(method, path, query, headers, body)
            if fault is not None and fault.status is not None:  # applied, then an error
                reply = self._fault_reply(fault, path)
        status, out_headers, payload = _encode(reply)
        if fault is not None and fault.truncate:
            if status >= 400:
                status = 200
            payload = payload[: max(1, len(payload) // 2)] if len(payload) > 2 else b'{"'
            out_headers["Content-Type"] = "application/json; charset=utf-8"
        with self._lock:
            self._records.append(RequestRecord(method, raw_path, query, status))
        return status, out_headers, payload

    @staticmethod
    def _fault_reply(fault: Fault, path: str = "") -> _Reply:
        status = int(fault.status or 500)
        if fault.raw is not None:
            return _Reply(status, raw=fault.raw, content_type="text/html; charset=utf-8")
        if fault.message is not None and path == "/api/token":
            return _oauth_error("internal_error", fault.message, status)
        quota = status == 429 and fault.reason == "QUOTA_EXCEEDED"
        wait = fault.retry_after
        if status == 429 and wait is None:
            wait = 86400 if quota else 1
        # whole seconds, as Spotify sends them, rounded up: never sooner than the fault asks
        headers = {} if wait is None else {"Retry-After": str(math.ceil(wait))}
        message = fault.message if fault.message is not None else \
            "Too many requests" if quota else _STATUS_MESSAGES.get(status) or HTTPStatus(status).phrase
        return _api_error(status, message, fault.reason, headers)

    def _run(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
             body: bytes) -> _Reply:
        try:
            if path == "/authorize":
                return self._authorize(method, query)
            if path == "/api/token":
                return self._token(method, headers, body)
            if path == "/v1" or path.startswith("/v1/"):
                token = self._check_bearer(headers)
                with self._lock:
                    return self._api(method, path, query, body, token)
            return _api_error(404, "Service not found")
        except _Reply as reply:
            return reply
        except Exception:  # a bug in the stand-in: answer 500 like a server would, and log it
            log.exception("stand-in failed on %s %s", method, path)
            return _api_error(500, "Server error")

    # ----- accounts service ------------------------------------------------------------
    def _new_tokens(self, scope: str, expires_in: int, client_id: str | None, refresh: str | None = None
                    ) -> dict[str, Any]:
        access = "SA" + secrets.token_urlsafe(30)
        self._access[access] = {"scope": scope, "expires_at": time.time() + expires_in,
                                "client_id": client_id}
        info = {"access_token": access, "token_type": "Bearer", "expires_in": expires_in,
                "scope": scope}
        if refresh is None:
            new_refresh = "SR" + secrets.token_urlsafe(40)
            self._refresh[new_refresh] = {"scope": scope, "client_id": client_id, "revoked": False}
            info["refresh_token"] = new_refresh
        return info

    def _authorize(self, method: str, q: dict[str, str]) -> _Reply:
        if method != "GET":
            return _api_error(405, "Method not allowed")

        def bad(msg: str) -> _Reply:
            return _Reply(400, raw=msg.encode(), content_type="text/plain; charset=utf-8")

        client_id = q.get("client_id", "")
        if not client_id or (self.client_id is not None and client_id != self.client_id):
            return bad("INVALID_CLIENT: Invalid client")
        redirect = q.get("redirect_uri", "")
        parts = urlsplit(redirect)
        if not redirect or parts.scheme not in ("http", "https"):
            return bad("INVALID_CLIENT: Invalid redirect URI")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "::1"):
            return bad("INVALID_CLIENT: Insecure redirect URI")
        if q.get("response_type") != "code":
            return bad("unsupported_response_type: response_type must be code")
        challenge = q.get("code_challenge")
        if challenge and q.get("code_challenge_method") != "S256":
            return bad("INVALID_REQUEST: code_challenge_method must be S256")
        code = "SC" + secrets.token_urlsafe(30)
        with self._lock:
            self._codes[code] = {
                "client_id": client_id, "redirect_uri": redirect, "challenge": challenge,
                "scope": q.get("scope", ""), "expires_at": time.time() + CODE_LIFETIME,
                "used": False,
            }
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if parts.query else "?"
        return _Reply(302, headers={"Location": redirect + sep + urlencode(params)}, raw=b"")

    def _token(self, method: str, headers: dict[str, str], body: bytes) -> _Reply:
        if method != "POST":
            return _api_error(405, "Method not allowed")
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        client_id, secret = form.get("client_id"), None
        auth = headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return _oauth_error("invalid_client", "Invalid client")
        if not client_id or (self.client_id is not None and client_id != self.client_id):
            return _oauth_error("invalid_client", "Invalid client")
        if secret is not None and self.client_secret is not None and secret != self.client_secret:
            return _oauth_error("invalid_client", "Invalid client secret")
        grant = form.get("grant_type")
        with self._lock:
            if grant == "authorization_code":
                code = self._codes.get(form.get("code", ""))
                if code is None or code["used"] or code["client_id"] != client_id:
                    return _oauth_error("invalid_grant", "Invalid authorization code")
                code["used"] = True
                if time.time() > code["expires_at"]:
                    return _oauth_error("invalid_grant", "Authorization code expired")
                if form.get("redirect_uri") != code["redirect_uri"]:
                    return _oauth_error("invalid_grant", "Invalid redirect URI")
                verifier = form.get("code_verifier")
                if verifier is not None:
                    digest = hashlib.sha256(verifier.encode()).digest()
                    expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
                    if not code["challenge"] or expected != code["challenge"]:
                        return _oauth_error("invalid_grant", "code_verifier was incorrect")
                elif secret is None:
                    return _oauth_error("invalid_request", "code_verifier required")
                return _Reply(200, self._new_tokens(code["scope"], 3600, client_id))
            if grant == "refresh_token":
                ref = self._refresh.get(form.get("refresh_token", ""))
                if ref is None or ref["client_id"] not in (None, client_id):
                    return _oauth_error("invalid_grant", "Invalid refresh token")
                if ref["revoked"]:
                    return _oauth_error("invalid_grant", "Refresh token revoked")
                return _Reply(200, self._new_tokens(ref["scope"], 3600, client_id, refresh=form["refresh_token"]))
        return _oauth_error("unsupported_grant_type", f"grant_type must be authorization_code or refresh_token, not {grant!r}")

    def _check_bearer(self, headers: dict[str, str]) -> dict[str, Any]:
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise _api_error(401, "No token provided")
        with self._lock:
            tok = self._access.get(auth[7:].strip())
        if tok is None:
            raise _api_error(401, "Invalid access token")
        if time.time() >= tok["expires_at"]:
            raise _api_error(401, "The access token expired")
        return tok

    # ----- Web API routing ---------------------------------------------------------------
    def _api(self, method: str, path: str, q: dict[str, str], body: bytes,
             token: dict[str, Any]) -> _Reply:
        for methods, pattern, name in _ROUTES:
            m = re.fullmatch(pattern, path)
            if m is None:
                continue
            if methods != "*" and method not in methods.split("|"):
                return _api_error(405, "Method not allowed")
            handler: Callable[..., _Reply] = getattr(self, name)
            return handler(method, q, body, token, *m.groups())
        return _api_error(404, "Service not found")

    # removed / absent endpoints
    def _forbidden(self, *_: Any) -> _Reply:
        return _api_error(403, "Forbidden")

    def _gone(self, *_: Any) -> _Reply:
        return _api_error(404, "Service not found")

    def _audio_features(self, method: str, q: dict[str, str], body: bytes, token: dict,
                        one: str | None) -> _Reply:
        if not self.extended or method != "GET":
            return _api_error(403, "Forbidden")
        feats = self.account.audio_features
        if one:
            if one not in feats:
                return _api_error(404, "analysis not found")
            return _Reply(200, self._features_obj(one))
        ids = [i for i in q.get("ids", "").split(",") if i]
        if not ids or len(ids) > 100:
            return _api_error(400, "invalid ids")
        return _Reply(200, {"audio_features": [self._features_obj(i) if i in feats else None for i in ids]})

    def _features_obj(self, tid: str) -> dict[str, Any]:
        obj = dict(self.account.audio_features[tid])
        obj.update(id=tid, uri=f"spotify:track:{tid}", type="audio_features",
                   track_href=f"{self.api_url}tracks/{tid}",
                   analysis_url=f"{self.api_url}audio-analysis/{tid}")
        return obj

    # ----- object renderers -------------------------------------------------------------
    def _user_obj(self, uid: str) -> dict[str, Any]:
        name = self.account.user["display_name"] if uid == self.account.user["id"] else self.account.users.get(uid, uid)
        return {"display_name": name, "external_urls": {"spotify": f"https://open.spotify.com/user/{uid}"},
                "href": f"{self.api_url}users/{uid}", "id": uid, "type": "user", "uri": f"spotify:user:{uid}"}

    def _artist_simple(self, aid: str) -> dict[str, Any]:
        return {"external_urls": {"spotify": f"https://open.spotify.com/artist/{aid}"},
                "href": f"{self.api_url}artists/{aid}", "id": aid,
                "name": self.account.artists[aid]["name"], "type": "artist", "uri": f"spotify:artist:{aid}"}

    def _artist_full(self, aid: str) -> dict[str, Any]:
        obj = self._artist_simple(aid)
        obj["images"] = []
        if self.extended:
            art = self.account.artists[aid]
            obj["genres"] = list(art.get("genres") or [])
            obj["popularity"] = int(art.get("popularity") or 0)
        return obj

    def _album_simple(self, alid: str) -> dict[str, Any]:
        al = self.account.albums[alid]
        date = str(al.get("release_date") or "")
        return {
            "album_type": al.get("album_type", "album"),
            "total_tracks": int(al.get("total_tracks") or len(self._tracks_by_album().get(alid, []))),
            "external_urls": {"spotify": f"https://open.spotify.com/album/{alid}"},
            "href": f"{self.api_url}albums/{alid}", "id": alid, "images": [], "name": al["name"],
            "release_date": date, "release_date_precision": al.get("release_date_precision") or _precision(date),
            "type": "album", "uri": f"spotify:album:{alid}",
            "artists": [self._artist_simple(a) for a in al.get("artist_ids", [])],
        }

    def _track_simple(self, tid: str) -> dict[str, Any]:
        t = self.account.tracks[tid]
        return {
            "artists": [self._artist_simple(a) for a in t.get("artist_ids", [])],
            "disc_number": int(t.get("disc_number", 1)), "duration_ms": int(t.get("duration_ms") or 0),
            "explicit": bool(t.get("explicit", False)),
            "external_urls": {"spotify": f"https://open.spotify.com/track/{tid}"},
            "href": f"{self.api_url}tracks/{tid}", "id": tid, "is_local": False, "name": t["name"],
            "track_number": int(t.get("track_number", 1)), "type": "track", "uri": f"spotify:track:{tid}",
        }

    def _track_full(self, tid: str) -> dict[str, Any]:
        t = self.account.tracks[tid]
        obj = self._track_simple(tid)
        obj["album"] = self._album_simple(t["album_id"])
        obj["external_ids"] = {"isrc": t["isrc"]} if t.get("isrc") else {}
        if self.extended and t.get("popularity") is not None:
            obj["popularity"] = int(t["popularity"])
        return obj

    def _episode_obj(self, eid: str) -> dict[str, Any]:
        ep = self.account.episodes[eid]
        show = ep.get("show") or "Podcast"
        show_id = base62_id(f"show:{show}")
        date = str(ep.get("release_date") or "2024-01-01")
        return {
            "description": ep.get("description", ""), "duration_ms": int(ep.get("duration_ms") or 0),
            "explicit": False, "external_urls": {"spotify": f"https://open.spotify.com/episode/{eid}"},
            "href": f"{self.api_url}episodes/{eid}", "id": eid, "images": [], "is_playable": True,
            "name": ep["name"], "release_date": date, "release_date_precision": _precision(date),
            "type": "episode", "uri": f"spotify:episode:{eid}",
            "show": {"id": show_id, "name": show, "publisher": ep.get("publisher", show), "type": "show",
                     "uri": f"spotify:show:{show_id}", "href": f"{self.api_url}shows/{show_id}"},
        }

    @staticmethod
    def _local_obj(local: dict[str, Any]) -> dict[str, Any]:
        name, artist = local.get("name", ""), local.get("artist", "")
        album, dur = local.get("album", ""), int(local.get("duration_ms") or 0)
        enc = lambda s: re.sub(r"\s", "+", s)  # noqa: E731 - Spotify's local URI encoding
        return {
            "album": {"album_type": None, "artists": [], "id": None, "images": [], "name": album,
                      "release_date": None, "release_date_precision": None, "type": "album", "uri": None},
            "artists": [{"id": None, "name": artist, "type": "artist", "uri": None, "href": None}],
            "disc_number": 0, "duration_ms": dur, "explicit": False, "external_ids": {},
            "external_urls": {}, "href": None, "id": None, "is_local": True, "name": name,
            "track_number": 0, "type": "track",
            "uri": f"spotify:local:{enc(artist)}:{enc(album)}:{enc(name)}:{dur // 1000}",
        }

    def _playability(self, obj: dict[str, Any], market: bool) -> dict[str, Any]:
        """``obj`` (a track object) as a request naming a market gets it: ``is_playable`` set,
        and a track of ``Account.unplayable`` restricted by market; without one, unchanged."""
        if market:
            obj["is_playable"] = obj["id"] not in self.account.unplayable
            if not obj["is_playable"]:
                obj["restrictions"] = {"reason": self.account.restriction.get(obj["id"], "market")}
        return obj

    def _relinked_track(self, tid: str, relink: bool) -> dict[str, Any]:
        """The track object of stored track ``tid``; with ``relink`` (a request naming a market)
        a relinked one is its playable track, ``linked_from`` naming ``tid``, and each says
        whether it is playable there."""
        playable = self.account.relinked.get(tid) if relink else None
        if not playable:
            return self._playability(self._track_full(tid), relink)
        obj = self._track_full(playable)
        obj["linked_from"] = {"external_urls": {"spotify": f"https://open.spotify.com/track/{tid}"},
                              "href": f"{self.api_url}tracks/{tid}", "id": tid, "type": "track",
                              "uri": f"spotify:track:{tid}"}
        return self._playability(obj, True)

    def _item_entry(self, it: dict[str, Any], relink: bool = False) -> dict[str, Any]:
        kind = it["kind"]
        if kind == "track":
            obj = self._relinked_track(it["id"], relink)
        elif kind == "episode":
            obj = self._episode_obj(it["id"])
        elif kind == "local":
            obj = self._local_obj(it["local"])
        else:
            obj = None
        return self._keyed({"added_at": it["added_at"], "added_by": self._user_obj(it["added_by"]),
                            "is_local": kind == "local", "primary_color": None}, "item", "track", obj)

    def _keyed(self, obj: dict[str, Any], new: str, old: str, value: Any) -> dict[str, Any]:
        """``obj`` with ``value`` under the 2026 key ``new`` and/or its deprecated alias ``old``."""
        if self.aliases != "old":
            obj[new] = value
        if self.aliases != "new":
            obj[old] = copy.deepcopy(value)
        return obj

    def _playlist_simple(self, pl: dict[str, Any]) -> dict[str, Any]:
        pid = pl["id"]
        ref = {"href": f"{self.api_url}playlists/{pid}/items", "total": len(pl["items"])}
        return self._keyed({
            "collaborative": pl["collaborative"], "description": pl["description"],
            "external_urls": {"spotify": f"https://open.spotify.com/playlist/{pid}"},
            "href": f"{self.api_url}playlists/{pid}", "id": pid, "images": [], "name": pl["name"],
            "owner": self._user_obj(pl["owner"]), "primary_color": None, "public": pl["public"],
            "snapshot_id": pl["snapshot_id"], "type": "playlist", "uri": f"spotify:playlist:{pid}",
        }, "items", "tracks", ref)

    # ----- paging ----------------------------------------------------------------------
    @staticmethod
    def _int_value(raw: Any, default: int, lo: int, hi: int | None, msg: str) -> int:
        """``raw`` (a query or body value) as an int in [lo, hi]; ``default`` when absent; 400 ``msg``."""
        if raw in (None, ""):
            return default
        try:
            val = int(raw)
        except (TypeError, ValueError):
            raise _api_error(400, msg) from None
        if val < lo or (hi is not None and val > hi):
            raise _api_error(400, msg)
        return val

    def _paging(self, q: dict[str, str], default: int = 20, maximum: int = MAX_PAGE) -> tuple[int, int]:
        limit = self._int_value(q.get("limit"), default, 1, maximum, "Invalid limit")
        offset = self._int_value(q.get("offset"), 0, 0, None, "Invalid offset")
        return limit, offset

    def _page(self, path: str, items: list[Any], limit: int, offset: int,
              render: Callable[[Any], Any], extra: dict[str, str] | None = None) -> dict[str, Any]:
        """A paging object over ``items`` with absolute href/next/previous URLs."""
        extra = {k: v for k, v in (extra or {}).items() if v is not None}

        def url(off: int) -> str:
            return f"{self.api_url}{path}?" + urlencode({**extra, "offset": off, "limit": limit})

        total = len(items)
        return {
            "href": url(offset),
            "items": [render(x) for x in items[offset: offset + limit]],
            "limit": limit,
            "next": url(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": url(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }

    @staticmethod
    def _json_body(body: bytes) -> Any:
        if not body.strip():
            return None
        try:
            return json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise _api_error(400, "Error parsing JSON.") from None

    @staticmethod
    def _need_scope(token: dict[str, Any], *scopes: str) -> None:
        have = set(token["scope"].split())
        if not have.intersection(scopes):
            raise _api_error(403, "Insufficient client scope")

    # ----- /me ---------------------------------------------------------------------------
    def _me(self, method: str, q: dict, body: bytes, token: dict) -> _Reply:
        uid = self.account.user["id"]
        obj = self._user_obj(uid)
        obj["images"] = []
        obj["account_id"] = self.account.user.get("account_id") or base62_id(f"account:{uid}")
        return _Reply(200, obj)

    def _visible_playlists(self) -> list[dict[str, Any]]:
        return [pl for pl in self.account.playlists if pl["followed"]]

    def _my_playlists(self, method: str, q: dict, body: bytes, token: dict) -> _Reply:
        if method == "POST":
            return self._create_playlist(body, token)
        limit, offset = self._paging(q)
        def listed(pl: dict[str, Any]) -> dict[str, Any]:
            obj = self._playlist_simple(pl)
            if self.listed_public is not None:
                obj["public"] = self.listed_public
            return obj

        return _Reply(200, self._page("me/playlists", self._visible_playlists(), limit, offset, listed))

    def _create_playlist(self, body: bytes, token: dict) -> _Reply:
        data = self._json_body(body)
        if not isinstance(data, dict) or not str(data.get("name") or "").strip():
            return _api_error(400, "Missing required field: name")
        details = {"description": "", "public": True, "collaborative": False,  # Spotify's defaults
                   **self._details({k: v for k, v in data.items() if v is not None})}
        self._check_description(details["description"])
        self._need_scope(token, "playlist-modify-public" if details["public"] else "playlist-modify-private")
        if self.keeps_public:
            details["public"] = True
        uid = self.account.user["id"]
        self._created += 1
        pid = base62_id(f"created:{uid}:{self._created}:{data['name']}:{time.time_ns()}")
        pl = {"id": pid, **details, "owner": uid, "followed": True, "version": 0,
              "snapshot_id": _snapshot(pid, 0), "items": []}
        self.account.playlists.insert(0, pl)
        if self.new_playlist_lag:
            self._unseen[pid] = self.new_playlist_lag
        return _Reply(201, self._playlist_full(pl))

    def _library(self, method: str, q: dict, body: bytes, token: dict) -> _Reply:
        uris = [u for u in q.get("uris", "").split(",") if u]
        if not uris or len(uris) > 40:
            return _api_error(400, "uris must list 1 to 40 URIs")
        for uri in uris:
            m = re.fullmatch(r"spotify:playlist:([0-9A-Za-z]+)", uri)
            if m is None:
                return _api_error(400, f"Unsupported URI: {uri}")
            pl = self.account.playlist(m.group(1))
            if pl is None:
                return _api_error(404, "Not found.")
            pl["followed"] = False
        return _Reply(200, raw=b"")

    def _top(self, method: str, q: dict, body: bytes, token: dict, kind: str) -> _Reply:
        self._need_scope(token, "user-top-read")
        time_range = q.get("time_range") or "medium_term"
        if time_range not in TIME_RANGES:
            return _api_error(400, "Invalid time range")
        limit, offset = self._paging(q)
        if kind == "tracks":
            ids, render = self.account.top_tracks[time_range], self._track_full
        else:
            ids, render = self.account.top_artists[time_range], self._artist_full
        return _Reply(200, self._page(f"me/top/{kind}", ids, limit, offset, render, {"time_range": time_range}))

    def _saved(self, method: str, q: dict, body: bytes, token: dict) -> _Reply:
        self._need_scope(token, "user-library-read")
        limit, offset = self._paging(q)
        saved = sorted(self.account.saved_tracks, key=lambda s: s["added_at"], reverse=True)
        relink = bool(q.get("market"))
        render = lambda s: {"added_at": s["added_at"], "track": self._relinked_track(s["id"], relink)}  # noqa: E731
        return _Reply(200, self._page("me/tracks", saved, limit, offset, render, {"market": q.get("market")}))

    def _following(self, method: str, q: dict, body: bytes, token: dict) -> _Reply:
        self._need_scope(token, "user-follow-read")
        if q.get("type") != "artist":
            return _api_error(400, "Bad request: type must be artist")
        limit = self._int_value(q.get("limit"), 20, 1, MAX_PAGE, "Invalid limit")
        ids = sorted(self.account.followed_artists, key=lambda a: (self.account.artists[a]["name"].casefold(), a))
        start = 0
        after = q.get("after")
        if after:
            if after not in ids:
                return _api_error(400, "Invalid after cursor")
            start = ids.index(after) + 1
        chunk = ids[start: start + limit]
        more = start + limit < len(ids)
        last = chunk[-1] if chunk else None
        base = {"type": "artist", "limit": limit}

        def url(extra: dict[str, Any]) -> str:
            return f"{self.api_url}me/following?" + urlencode({**base, **extra})

        return _Reply(200, {"artists": {
            "href": url({"after": after} if after else {}),
            "items": [self._artist_full(a) for a in chunk],
            "limit": limit,
            "next": url({"after": last}) if more and last else None,
            "cursors": {"after": last if more else None, "before": None},
            "total": len(ids),
        }})

    # ----- playlists --------------------------------------------------------------------
    def _get_playlist(self, pid: str) -> dict[str, Any]:
        pl = self.account.playlist(pid)
        if pl is None or (self.new_playlist_lag and self._unseen.get(pid)):  # back to 0: all known
            if pl is not None:
                self._unseen[pid] -= 1
            raise _api_error(404, "Not found.")
        return pl

    def _can_use_items(self, pl: dict[str, Any]) -> bool:
        return pl["owner"] == self.account.user["id"] or pl["collaborative"]

    def _playlist_full(self, pl: dict[str, Any], relink: bool = False) -> dict[str, Any]:
        obj = self._playlist_simple(pl)
        obj.pop("items", None), obj.pop("tracks", None)
        if self._can_use_items(pl):
            page = self._page(f"playlists/{pl['id']}/items", pl["items"], MAX_PAGE, 0,
                              lambda it: self._item_entry(it, relink), {"market": "from_token" if relink else None})
            self._keyed(obj, "items", "tracks", page)
        return obj

    def _playlist(self, method: str, q: dict, body: bytes, token: dict, pid: str) -> _Reply:
        pl = self._get_playlist(pid)
        if method == "GET":
            return _Reply(200, self._playlist_full(pl, relink=bool(q.get("market"))))
        if pl["owner"] != self.account.user["id"]:
            return _api_error(403, "Forbidden")
        self._need_scope(token, "playlist-modify-private", "playlist-modify-public")
        data = self._json_body(body)
        if not isinstance(data, dict):
            return _api_error(400, "Error parsing JSON.")
        details = self._details(data)  # all checked before any is set
        self._check_description(details.get("description"))
        if self.keeps_public and pl["public"]:
            details.pop("public", None)
        pl.update(details)
        self._bump(pl)
        return _Reply(200, raw=b"")

    @staticmethod
    def _details(data: dict[str, Any]) -> dict[str, Any]:
        """The playlist details a create or change-details body sets; 400 naming the first
        one of the wrong type (``"public": "no"`` is not a boolean); 500 for a name or
        description longer than ``MAX_NAME`` / ``MAX_DESCRIPTION`` or holding a line break."""
        types = {"name": str, "description": str, "public": bool, "collaborative": bool}
        for key, typ in types.items():
            if key in data and not isinstance(data[key], typ):
                raise _api_error(400, f"Invalid {key}")
        for key, most in (("name", MAX_NAME), ("description", MAX_DESCRIPTION)):
            text = data.get(key)
            if isinstance(text, str) and (len(text) > most or "\n" in text or "\r" in text):
                raise _api_error(500, "Server error")  # not a 400 naming the field: what Spotify answers
        return {key: data[key] for key in types if key in data}

    def _check_description(self, text: str | None) -> None:
        if text and self.refused_description and re.search(self.refused_description, text):
            raise _api_error(400, "Bad request")

    @staticmethod
    def _bump(pl: dict[str, Any]) -> None:
        pl["version"] = int(pl.get("version", 0)) + 1
        pl["snapshot_id"] = _snapshot(pl["id"], pl["version"])

    def _parse_uris(self, uris: list[Any]) -> list[dict[str, Any]]:
        """Playlist item records for track/episode URIs; 400 on anything unknown."""
        if len(uris) > MAX_WRITE:
            raise _api_error(400, f"You can add a maximum of {MAX_WRITE} tracks per request.")
        now, uid, out = _now_iso(), self.account.user["id"], []
        for uri in uris:
            m = re.fullmatch(r"spotify:(track|episode):([0-9A-Za-z]{22})", str(uri))
            if m is None:
                raise _api_error(400, f"Invalid track uri: {uri}")
            kind, iid = m.groups()
            known = self.account.tracks if kind == "track" else self.account.episodes
            if iid not in known:
                raise _api_error(400, f"Payload contains a non-existing ID: {uri}")
            if kind == "track":
                iid = self.written_as.get(iid, iid)
            out.append({"kind": kind, "id": iid, "added_at": now, "added_by": uid})
        return out

    def _items(self, method: str, q: dict, body: bytes, token: dict, pid: str) -> _Reply:
        pl = self._get_playlist(pid)
        if not self._can_use_items(pl):
            return _api_error(403, "Forbidden")
        if method == "GET":
            limit, offset = self._paging(q)
            render = lambda it: self._item_entry(it, relink=bool(q.get("market")))  # noqa: E731
            return _Reply(200, self._page(f"playlists/{pid}/items", pl["items"], limit, offset, render,
                                          {"market": q.get("market")}))
        self._need_scope(token, "playlist-modify-public" if pl["public"] else "playlist-modify-private")
        data = self._json_body(body)
        if method == "POST":
            if isinstance(data, list):
                uris, position = data, q.get("position")
            elif isinstance(data, dict) and "uris" in data:
                uris, position = data["uris"], data.get("position", q.get("position"))
            elif q.get("uris"):
                uris, position = q["uris"].split(","), q.get("position")
            else:
                return _api_error(400, "No uris provided")
            new = self._parse_uris(list(uris))
            pos = self._int_value(position, len(pl["items"]), 0, len(pl["items"]), "Index out of bounds")
            if len(pl["items"]) + len(new) > self.max_items:
                return _api_error(400, "Playlist size limit reached")
            pl["items"][pos:pos] = new
            self._bump(pl)
            return _Reply(201, {"snapshot_id": pl["snapshot_id"]})
        if method == "PUT":
            if isinstance(data, dict) and "range_start" in data:
                return self._reorder(pl, data)
            if isinstance(data, dict) and "uris" in data:
                uris = data["uris"]
            elif q.get("uris") is not None:
                uris = [u for u in q["uris"].split(",") if u]
            else:
                return _api_error(400, "No uris provided")
            pl["items"] = self._parse_uris(list(uris))
            self._bump(pl)
            return _Reply(200, {"snapshot_id": pl["snapshot_id"]})
        # DELETE
        if not isinstance(data, dict):
            return _api_error(400, "No items provided")
        entries = data.get("items", data.get("tracks"))
        if not isinstance(entries, list) or not entries:
            return _api_error(400, "No items provided")
        if len(entries) > MAX_WRITE:
            return _api_error(400, f"You can remove a maximum of {MAX_WRITE} tracks per request.")
        drop_all: set[str] = set()
        drop_at: dict[int, str] = {}
        for e in entries:
            uri = str(e.get("uri", "")) if isinstance(e, dict) else ""
            m = re.fullmatch(r"spotify:(track|episode):([0-9A-Za-z]{22})", uri)
            if m is None:
                return _api_error(400, f"Invalid track uri: {uri}")
            positions = e.get("positions")
            if positions is not None and not isinstance(positions, list):
                return _api_error(400, f"Invalid positions: {positions}")
            if positions:
                for p in positions:
                    drop_at[self._int_value(p, -1, 0, None, f"Invalid position: {p}")] = m.group(2)
            else:
                drop_all.add(m.group(2))
        for p, iid in drop_at.items():
            if not (0 <= p < len(pl["items"])) or pl["items"][p].get("id") != iid:
                return _api_error(400, f"Could not remove tracks, please check parameters: position {p}")
        pl["items"] = [it for i, it in enumerate(pl["items"])
                       if i not in drop_at and it.get("id") not in drop_all]
        self._bump(pl)
        return _Reply(200, {"snapshot_id": pl["snapshot_id"]})

    def _reorder(self, pl: dict[str, Any], data: dict[str, Any]) -> _Reply:
        items = pl["items"]
        try:
            start, length = int(data["range_start"]), int(data.get("range_length", 1))
            before = int(data["insert_before"])
        except (KeyError, TypeError, ValueError):
            return _api_error(400, "Invalid reorder parameters")
        if not (0 <= start < len(items) and length >= 1 and start + length <= len(items)
                and 0 <= before <= len(items)):
            return _api_error(400, "Index out of bounds")
        moved = items[start: start + length]
        rest = items[:start] + items[start + length:]
        at = before if before <= start else before - length
        pl["items"] = rest[:at] + moved + rest[at:]
        self._bump(pl)
        return _Reply(200, {"snapshot_id": pl["snapshot_id"]})

    # ----- catalogue ---------------------------------------------------------------------
    def _known(self, table: dict[str, Any], iid: str) -> None:
        if not _ID_RE.match(iid):
            raise _api_error(400, "Invalid base62 id")
        if iid not in table:
            raise _api_error(404, "Resource not found")

    def _artist(self, method: str, q: dict, body: bytes, token: dict, aid: str) -> _Reply:
        self._known(self.account.artists, aid)
        return _Reply(200, self._artist_full(aid))

    def _artist_albums(self, method: str, q: dict, body: bytes, token: dict, aid: str) -> _Reply:
        self._known(self.account.artists, aid)
        limit, offset = self._paging(q, default=5, maximum=MAX_PAGE if self.extended else MAX_ARTIST_ALBUMS)
        groups = q.get("include_groups") or ""
        wanted = {g.strip() for g in groups.split(",") if g.strip()}
        market = bool(q.get("market"))  # Spotify then lists only albums that play in that market
        albums = [alid for alid in self._albums_by_artist().get(aid, ())
                  if (not wanted or self.account.albums[alid].get("album_type", "album") in wanted)
                  and not (market and self._unplayable_album(alid))]
        albums.sort(key=lambda alid: (str(self.account.albums[alid].get("release_date") or ""), alid), reverse=True)

        def render(alid: str) -> dict[str, Any]:
            obj = self._album_simple(alid)
            obj["album_group"] = obj["album_type"]
            return obj

        return _Reply(200, self._page(f"artists/{aid}/albums", albums, limit, offset, render,
                                      {"include_groups": groups or None, "market": q.get("market")}))

    def _albums_by_artist(self) -> dict[str, list[str]]:
        """Each artist's albums, in the catalogue's order: built at first use and again when the
        albums' dict is replaced or changes size, as ``_catalogue_index`` is (each artist's album
        list scanned every album: a tenth of a demo run's stand-in time)."""
        albums = self.account.albums
        key = (id(albums), len(albums))
        if self._by_artist is None or self._by_artist[0] != key:
            by: dict[str, list[str]] = {}
            for alid, al in albums.items():
                for a in dict.fromkeys(al.get("artist_ids", [])):
                    by.setdefault(a, []).append(alid)
            self._by_artist = (key, by)
        return self._by_artist[1]

    def _unplayable_album(self, alid: str) -> bool:
        """An album of another market: every track of it is in ``Account.unplayable``."""
        ids = self._album_tracks_ids(alid)
        return bool(ids) and all(t in self.account.unplayable for t in ids)

    def _album_tracks_ids(self, alid: str) -> list[str]:
        ids = self._tracks_by_album().get(alid, [])
        return sorted(ids, key=lambda tid: (int(self.account.tracks[tid].get("disc_number", 1)),
                                            int(self.account.tracks[tid].get("track_number", 1)), tid))

    def _album(self, method: str, q: dict, body: bytes, token: dict, alid: str) -> _Reply:
        self._known(self.account.albums, alid)
        obj = self._album_simple(alid)
        obj["tracks"] = self._page(f"albums/{alid}/tracks", self._album_tracks_ids(alid), MAX_PAGE, 0, self._track_simple)
        al = self.account.albums[alid]
        if self.extended and al.get("popularity") is not None:
            obj["popularity"] = int(al["popularity"])
        return _Reply(200, obj)

    def _album_tracks(self, method: str, q: dict, body: bytes, token: dict, alid: str) -> _Reply:
        self._known(self.account.albums, alid)
        limit, offset = self._paging(q)
        market = bool(q.get("market"))
        render = lambda tid: self._playability(self._track_simple(tid), market)  # noqa: E731
        return _Reply(200, self._page(f"albums/{alid}/tracks", self._album_tracks_ids(alid), limit, offset, render,
                                      {"market": q.get("market")}))

    def _track(self, method: str, q: dict, body: bytes, token: dict, tid: str) -> _Reply:
        self._known(self.account.tracks, tid)
        return _Reply(200, self._relinked_track(tid, bool(q.get("market"))))

    def _catalogue_index(self) -> tuple[dict[str, int], dict[str, dict[str, set[str]]]]:
        """The catalogue's track order and its word index by search field, built at first
        search and again when the catalogue's dicts are replaced or change size (a name or
        album changed in place after a first search is not seen: tests change them before
        they serve the account)."""
        acc = self.account
        key = tuple((id(d), len(d)) for d in (acc.tracks, acc.artists, acc.albums))
        if self._index is None or self._index[0] != key:
            order = {tid: i for i, tid in enumerate(acc.tracks)}
            # field -> word -> track ids; a field's index looked up once a track, not once a word
            words_of: defaultdict[str, defaultdict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
            for tid, t in acc.tracks.items():
                words = _track_words(t["name"], tuple(acc.artists[a]["name"] for a in t.get("artist_ids", [])),
                                     acc.albums[t["album_id"]]["name"], str(t.get("isrc") or ""))
                for kind, found in words.items():
                    index = words_of[kind]
                    for w in found:
                        index[w].add(tid)
            self._index = (key, order, {kind: dict(index) for kind, index in words_of.items()})
        return self._index[1:]

    def _tracks_by_album(self) -> dict[str, list[str]]:
        """Each album's tracks, in the catalogue's order, rebuilt as ``_catalogue_index`` is; kept
        apart from it, as every track object's album counts its tracks and a run that never
        searches need not index the catalogue's words (a tenth of a demo run)."""
        tracks = self.account.tracks
        key = (id(tracks), len(tracks))
        if self._by_album is None or self._by_album[0] != key:
            by: dict[str, list[str]] = {}
            for tid, t in tracks.items():
                by.setdefault(t["album_id"], []).append(tid)
            self._by_album = (key, by)
        return self._by_album[1]

    def _track_hits(self, free: list[str], fields: dict[str, list[str]]) -> list[str]:
        """The catalogue's tracks that match a query, in catalogue order (the tracks ``_matches``
        finds one by one), from the word index."""
        order, index = self._catalogue_index()
        if not free and not fields:
            return []
        sets = [index.get(name, {}).get(w, set()) for name, wanted in fields.items() for w in wanted]
        sets += [index.get("", {}).get(w, set()) for w in free]
        if not sets:  # field filters without a word in them: every track, as _matches says
            return list(order)
        return sorted(set.intersection(*sorted(sets, key=len)), key=order.__getitem__)

    def _search(self, method: str, q: dict, body: bytes, token: dict) -> _Reply:
        text = q.get("q", "").strip()
        if not text:
            return _api_error(400, "No search query")
        types = [t.strip() for t in (q.get("type") or "").split(",") if t.strip()]
        if not types:
            return _api_error(400, "Missing parameter type")
        allowed = {"track", "artist", "album", "playlist", "show", "episode", "audiobook"}
        if any(t not in allowed for t in types):
            return _api_error(400, "Bad search type field")
        limit, offset = self._paging(q, default=5, maximum=MAX_SEARCH)
        free, fields = _parse_query(text)
        acc = self.account
        out: dict[str, Any] = {}
        extra = {"q": text, "type": ",".join(types), "market": q.get("market")}
        for typ in types:
            if typ == "track":
                market = bool(q.get("market"))  # Spotify then finds only what plays in that market
                hits = [tid for tid in self._track_hits(free, fields) if not (market and tid in acc.unplayable)]
                out["tracks"] = self._page("search", hits, limit, offset,
                                           lambda tid: self._playability(self._track_full(tid), market), extra)
            elif typ == "artist":
                hits = [aid for aid, a in acc.artists.items()
                        if _matches({"artist": _words(a["name"])}, free, fields)]
                out["artists"] = self._page("search", hits, limit, offset, self._artist_full, extra)
            elif typ == "album":
                def album_words(alid: str) -> dict[str, set[str]]:
                    al = acc.albums[alid]
                    return {"album": _words(al["name"]),
                            "artist": set().union(*(_words(acc.artists[a]["name"]) for a in al.get("artist_ids", [])))}
                hits = [alid for alid in acc.albums if _matches(album_words(alid), free, fields)]
                out["albums"] = self._page("search", hits, limit, offset, self._album_simple, extra)
            else:
                out[typ + "s"] = self._page("search", [], limit, offset, lambda x: x, extra)
        return _Reply(200, out)


@functools.lru_cache(maxsize=1 << 16)  # a search reads every name of the catalogue: each once
def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", str(text or "").casefold()))


_FIELD_RE = re.compile(r'(\w+):(?:"([^"]*)"|(\S+))')


def _parse_query(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """Free words and field filters (track:, artist:, album:, isrc:) of a search query."""
    fields: dict[str, list[str]] = {}
    for m in _FIELD_RE.finditer(text):
        name, value = m.group(1).casefold(), m.group(2) if m.group(2) is not None else m.group(3)
        if name == "isrc":
            fields.setdefault("isrc", []).append(value.casefold())
        elif name in ("track", "artist", "album"):
            fields.setdefault(name, []).extend(sorted(_words(value)))
        # year:, genre: and other filters are ignored
    free = sorted(_words(_FIELD_RE.sub(" ", text)))
    return free, fields


@functools.lru_cache(maxsize=1 << 16)
def _track_words(name: str, artists: tuple[str, ...], album: str, isrc: str) -> dict[str, frozenset[str]]:
    """A track's words by search field, and all but its ISRC under ``""`` (free words)."""
    words = {"track": _words(name), "artist": frozenset().union(*map(_words, artists)), "album": _words(album)}
    return {**words, "isrc": frozenset({isrc.casefold()}), "": frozenset().union(*words.values())}


def _matches(words: dict[str, frozenset[str]], free: list[str], fields: dict[str, list[str]]) -> bool:
    for name, wanted in fields.items():
        have = words.get(name)
        if have is None or not all(w in have for w in wanted):
            return False
    if not free:
        return bool(fields)
    everything = words.get("")
    if everything is None:
        everything = frozenset().union(*(v for k, v in words.items() if k != "isrc"))
    return all(w in everything for w in free)


# (methods, path regex, handler name); the first matching path wins.
_ROUTES: list[tuple[str, str, str]] = [
    ("GET", r"/v1/me", "_me"),
    ("GET|POST", r"/v1/me/playlists", "_my_playlists"),
    ("GET", r"/v1/me/top/(tracks|artists)", "_top"),
    ("GET", r"/v1/me/tracks", "_saved"),
    ("GET", r"/v1/me/following", "_following"),
    ("DELETE", r"/v1/me/library", "_library"),
    ("*", r"/v1/playlists/[^/]+/(?:tracks|followers)(?:/.*)?", "_forbidden"),
    ("GET|POST|PUT|DELETE", r"/v1/playlists/([^/]+)/items", "_items"),
    ("GET|PUT", r"/v1/playlists/([^/]+)", "_playlist"),
    ("*", r"/v1/users/[^/]+/playlists", "_forbidden"),
    ("*", r"/v1/(?:artists|albums|tracks)", "_forbidden"),  # batch look-ups (?ids=) removed
    ("*", r"/v1/artists/[^/]+/(?:related-artists|top-tracks)", "_gone"),
    ("GET", r"/v1/artists/([^/]+)/albums", "_artist_albums"),
    ("GET", r"/v1/artists/([^/]+)", "_artist"),
    ("GET", r"/v1/albums/([^/]+)/tracks", "_album_tracks"),
    ("GET", r"/v1/albums/([^/]+)", "_album"),
    ("GET", r"/v1/tracks/([^/]+)", "_track"),
    ("GET", r"/v1/search", "_search"),
    ("*", r"/v1/audio-features(?:/([^/]+))?", "_audio_features"),
    ("*", r"/v1/audio-analysis(?:/.*)?", "_forbidden"),
    ("*", r"/v1/recommendations(?:/.*)?", "_gone"),
    ("*", r"/v1/browse(?:/.*)?", "_gone"),
]


def _encode(reply: _Reply) -> tuple[int, dict[str, str], bytes]:
    headers = dict(reply.headers)
    if reply.raw is not None:
        payload = reply.raw
        if payload:
            headers.setdefault("Content-Type", reply.content_type)
    else:
        text = json.dumps(reply.body, ensure_ascii=False)
        try:
            payload = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in a name: JSON's \ud800, as Spotify may send it
            payload = json.dumps(reply.body).encode("ascii")
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
    return reply.status, headers, payload


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------
def run_standin(port: int = 8765, extended: bool = False, account_path: str | None = None,
                ready: Callable[[StandinServer], None] | None = None,
                prepare: Callable[[Account], None] | None = None) -> None:
    """Serve the sample library (or ``account_path``) on 127.0.0.1:``port`` until Ctrl-C.

    ``ready(server)`` is called once it listens (the CLI prints the URLs there), inside
    ``serve_forever``: a Ctrl-C from then on, even one pressed as they print, stops cleanly;
    ``prepare(account)`` may extend the account first (the open-data world's catalogue).
    """
    account = Account.from_file(account_path) if account_path else Account.sample()
    if prepare is not None:
        prepare(account)
    StandinServer(account, extended=extended, port=port).serve_forever(ready)


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535, got {port}")
    return port


def main(argv: list[str] | None = None) -> None:
    """``python -m recommender.standins.spotify [--port N] [--extended] [--account FILE]``."""
    parser = argparse.ArgumentParser(prog="python -m recommender.standins.spotify",
                                     description="Run the local Spotify stand-in.")
    parser.add_argument("--port", type=_port, default=8765, help="0..65535 (0 = any free port)")
    parser.add_argument("--extended", action="store_true", help="imitate an extended-quota app")
    parser.add_argument("--account", default=None, help="account JSON file (default: the sample library)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    def ready(server: StandinServer) -> None:
        print(f"Spotify stand-in on {server.base_url}  (Ctrl-C stops it)")
        print(f"  RECOMMENDER_SPOTIFY_API_URL={server.api_url}")
        print(f"  RECOMMENDER_SPOTIFY_ACCOUNTS_URL={server.accounts_url}")

    try:
        run_standin(args.port, args.extended, args.account, ready)
    except (DataError, UsageError) as err:
        parser.exit(2, f"error: {err}\n")


if __name__ == "__main__":
    main()
