"""A TTL cache of open-data answers: one JSON file per kind under ``<cache>/opendata/``.

Every answer is kept with the time it was fetched, misses (None, empty lists) too, and is
used while younger than its kind's TTL (similar artists 7 days, recordings and id mappings
30 days by default), by ``isotime.younger_than``: an entry with an unreadable date, or dated
more than a day in the future (a clock that was wrong), is stale; a date without a time zone is UTC.
A ``read_only`` cache (a run that may ask nothing) uses the stale ones too, and writes nothing.
Writes are atomic and happen every ``save_every`` new answers and on
``close()``, so an interrupted run resumes with what it had already fetched; the temporary
file of a write killed half way (``.<kind>.json.*.tmp``, beside the answers) is removed by the
next run holding the lock (``Store.remove_leftovers`` lists this folder: ``paths.WRITTEN_FOLDERS``).
A corrupt file is ignored (the answers are fetched again), and so is an answer kept in a shape
other than its kind's (``SHAPES``: a hand edit, damage that is still JSON). ``servers.json``
keeps which server answered each kind (``served_by``): when a service's address changes (the
offline trial's stand-ins, then the real services), its answers are not another server's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import make_dirs
from ..isotime import time_or_none, utc_now, younger_than
from ..store import atomic_write_text, fits

log = logging.getLogger(__name__)

MISSING = object()

# What ``--seed-playlist`` runs read of Spotify's albums of the playlist's artists
# (``sources/albums.py``), kept beside the open-data answers: an artist's newest album ids, kept
# ``refresh.discovery_recheck_days`` like the refresh's, and an album's playable tracks, kept
# like the other Spotify look-ups (``ttl_days``).
ARTIST_ALBUMS, ALBUM_TRACKS = "artist_albums", "album_tracks"


class AnswerCache:
    """``get(kind, key)`` -> cached value or ``MISSING``; ``put(kind, key, value)``."""

    def __init__(self, folder: Path | str, ttl_days: dict[str, float], save_every: int = 25,
                 now: datetime | None = None) -> None:
        self.folder = Path(folder)
        self.ttl_days = dict(ttl_days)
        self.save_every = save_every
        self.now = now or utc_now()
        self._data: dict[str, dict[str, list]] = {}
        self._dirty: dict[str, int] = {}
        # answers kept from an earlier run (an earlier cache object) that were asked for, each once;
        # one this object put and is asked for again counts as none: the first run said "32
        # answers kept from earlier runs", having none
        self.hits = 0
        self.misses = 0
        self._counted: set[tuple[str, str]] = set()  # put here, or counted as a hit
        self.unreadable: set[str] = set()  # kinds whose file could not be read (asked again)
        # read, never written: a run that does not hold the run lock (``OpenData.from_settings``'s
        # ask False); it asks nothing, so an answer older than its TTL is used, not dropped (``peek``)
        self.read_only = False

    def _load(self, kind: str) -> dict[str, list]:
        if kind not in self._data:
            path = self.folder / f"{kind}.json"
            data: dict[str, list] = {}
            if path.exists():
                try:
                    raw = json.loads(path.read_text(encoding="utf-8"))
                    if isinstance(raw, dict):  # (an answer of another shape than its kind's: not kept, asked again)
                        data = {k: v for k, v in raw.items()
                                if isinstance(v, list) and len(v) == 2 and self.usable(kind, v[1])}
                except (OSError, ValueError):
                    self.unreadable.add(kind)
                    log.warning("open-data cache %s is unreadable; its answers will be fetched again", path)
            self._data[kind] = data
        return self._data[kind]

    def get(self, kind: str, key: str) -> Any:
        value = self.peek(kind, key)
        if value is MISSING:
            self.misses += 1
        elif (kind, key) not in self._counted:
            self._counted.add((kind, key))
            self.hits += 1
        return value

    def peek(self, kind: str, key: str) -> Any:
        """``get`` without counting a hit or miss (for a note kept beside the answers). A
        ``read_only`` cache answers with every answer it holds, fresh or not: it stands for a
        run that may ask nothing, for which an old answer is better than none (it is what the
        run that cached it ranked with)."""
        entry = self._load(kind).get(key)
        return entry[1] if entry is not None and (self.read_only or self.fresh(kind, entry[0])) else MISSING

    @staticmethod
    def usable(kind: str, value: Any) -> bool:
        """Whether a kept answer has its kind's shape (``SHAPES``): one of another is not loaded
        (``_load``), so it is asked again; each answer is checked once, as its file is read."""
        return fits(value, SHAPES.get(kind, object))

    def fresh(self, kind: str, when: datetime | str | None) -> bool:
        """Whether an answer of ``kind`` fetched at ``when`` is still used: younger than the
        kind's TTL, by the rule of every memory (``isotime.younger_than``: an unreadable time
        or one more than a day ahead is not)."""
        return younger_than(when, float(self.ttl_days.get(kind, 30)), self.now)

    def fetched(self, kind: str) -> list[datetime | None]:
        """When each kept answer of ``kind`` was fetched (None: an unreadable time); one of another
        shape than its kind's is no kept answer (``usable``: left out as the file is read)."""
        return [time_or_none(entry[0]) for entry in self._load(kind).values()]

    def put(self, kind: str, key: str, value: Any) -> None:
        self._load(kind)[key] = [self.now.replace(microsecond=0).isoformat(), value]
        self._counted.add((kind, key))
        self._dirty[kind] = self._dirty.get(kind, 0) + 1
        if self._dirty[kind] >= self.save_every:
            self._save(kind)

    def drop(self, kind: str, unwanted: Callable[[str], bool]) -> int:
        """Forget every answer of ``kind`` whose key ``unwanted`` picks; how many were dropped."""
        data = self._load(kind)
        gone = [k for k in data if unwanted(k)]
        for k in gone:
            del data[k]
        if gone:
            self._dirty[kind] = self._dirty.get(kind, 0) + len(gone)
        return len(gone)

    def served_by(self, servers: dict[str, str]) -> None:
        """Note which server answers each service's kinds (``servers``: its address setting ->
        ``server_identity``; ``SERVED``); the answers of a service a former run asked at another
        address are forgotten (asked again, and the file written so on ``close``). A cache with
        no note yet (an older version's) is taken as the present servers'."""
        kept = self._load(SERVERS)
        for key, server in servers.items():
            entry = kept.get(key)
            if entry is not None and entry[1] != server:
                for kind in SERVED.get(key, ()):
                    self._data[kind] = {}
                    self._dirty[kind] = self._dirty.get(kind, 0) + 1
            if entry is None or entry[1] != server:  # (after the kinds: written last on close)
                self.put(SERVERS, key, server)

    def _save(self, kind: str) -> None:
        if self.read_only:
            return
        if kind in self.ttl_days:
            # an answer past its TTL is asked again, never used, by a run that asks (this one): not
            # kept, or the file grew by every question ever asked (each seed's of every week)
            self._data[kind] = {k: v for k, v in self._data[kind].items() if self.fresh(kind, v[0])}
        make_dirs(self.folder)
        atomic_write_text(self.folder / f"{kind}.json", json.dumps(self._data[kind], separators=(",", ":")))
        self._dirty[kind] = 0

    def close(self) -> None:
        """Write every kind with unsaved answers."""
        for kind, n in list(self._dirty.items()):
            if n:
                self._save(kind)


# An artist MBID MusicBrainz merged -> the MBID it was merged into (a lookup of the old one
# answers the new one's page; ListenBrainz and labs know the artist by the new one).
REDIRECTS = "artist_redirects"
# Which service answers each kind, by its address setting (``AnswerCache.served_by``); kept
# in ``servers.json``.
SERVERS = "servers"
SERVED = {"enrich.musicbrainz_url": ("isrc", "artists", REDIRECTS),
          "listenbrainz.api_url": ("top_recordings", "lb_radio", "popularity"),
          "listenbrainz.labs_url": ("similar_artists", "similar_recordings", "canonical", "spotify_ids"),
          "spotify.api_url": ("tracks", "search", ARTIST_ALBUMS, ALBUM_TRACKS)}


def server_identity(url: str) -> str:
    """Who answers at ``url``: its host and path (a password, the scheme and a trailing slash
    left out); every server on this machine (a stand-in, a mirror) is one, whatever its port:
    the demo starts its stand-ins on free ports each run."""
    from urllib.parse import urlsplit

    from .http import LOOPBACK
    parts = urlsplit(str(url).strip())
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    where = "this machine" if host in LOOPBACK else (f"{host}:{port}" if port else host)
    return f"{where}{parts.path.rstrip('/')}"


# The answers kept per artist MBID (the key's last ':' part): dropped for an MBID found merged.
ARTIST_KINDS = ("similar_artists", "lb_radio", "top_recordings")


def ttl_days(settings) -> dict[str, float]:
    """Days each kind of cached answer (``opendata/<kind>.json``) is reused (``discovery.ttl_*``)."""
    d = settings.discovery
    artists, recordings = float(d.ttl_similar_artists_days), float(d.ttl_recordings_days)
    # a merge is for good: its note is kept as long as any cached answer may still hold the old MBID
    return {"similar_artists": artists, "lb_radio": artists, REDIRECTS: max(artists, recordings),
            ARTIST_ALBUMS: float(settings.refresh.discovery_recheck_days),
            **{k: recordings for k in ("similar_recordings", "top_recordings", "spotify_ids", "isrc", "artists",
                                       "popularity", "search", "tracks", "canonical", ALBUM_TRACKS)}}


# What each kind of answer is kept as (``store.fits``: a field an object lacks reads as None, as
# the code reads it). An answer of another shape (a hand edit, damage that is still JSON) is not
# used but asked again: used, it crashed every refresh (exit 1, an IndexError or a TypeError)
# until it aged out, up to 30 days.
def _id(value: Any) -> bool:
    return isinstance(value, str) and value != ""


_NUMBER, _COUNT = (int, float), (int, None)
_RECORDING = {"mbid": _id, "name": (str, None), "artist": (str, None), "artist_mbids": [str]}
_TRACK_ROW = {"track_id": _id}
SHAPES: dict[str, Any] = {
    "similar_artists": [{"mbid": _id, "name": str, "score": _NUMBER}],
    "top_recordings": [{**_RECORDING, "listens": _COUNT, "users": _COUNT}],
    "lb_radio": [{"mbid": _id, "name": str, "recordings": [{"mbid": _id, "artist_mbids": [str], "listens": _COUNT}]}],
    "similar_recordings": [{**_RECORDING, "score": _NUMBER}],
    "canonical": (str, None), "spotify_ids": (str, [str], None), "artists": (str, None), "search": (str, None),
    "popularity": (lambda v: v is None or (isinstance(v, list) and len(v) == 2
                                          and all(c is None or isinstance(c, int) for c in v))),
    "isrc": (dict, None), "tracks": (_TRACK_ROW, None),
    ARTIST_ALBUMS: [_id], ALBUM_TRACKS: [_TRACK_ROW], REDIRECTS: _id,
}


def answer_cache(settings, frames_dir: Path | str | None = None) -> AnswerCache:
    """The open-data answer cache, ``<frames_dir>/opendata/`` (``settings.frames_dir`` unless given)."""
    cache = AnswerCache(Path(frames_dir or settings.frames_dir) / "opendata", ttl_days(settings))
    cache.served_by({key: server_identity(settings.get_path(key)) for key in SERVED})
    return cache


def current_artist(cache: AnswerCache, mbid: str) -> str:
    """The MBID ``mbid`` was merged into (through any chain of merges), else ``mbid``."""
    seen = {mbid}
    while True:
        new = cache.peek(REDIRECTS, mbid)
        if not isinstance(new, str) or not new or new in seen:
            return mbid
        seen.add(new)
        mbid = new


def note_merge(cache: AnswerCache, old: str, new: str) -> None:
    """Keep that MusicBrainz merged the artist ``old`` into ``new``; forget the answers asked
    with ``old`` (the next question goes by ``new``: one entry per artist)."""
    cache.put(REDIRECTS, old, new)
    for kind in ARTIST_KINDS:
        cache.drop(kind, lambda key: key.rsplit(":", 1)[-1] == old)
