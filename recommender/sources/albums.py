"""Source: albums of your top and followed artists (the Spotify catalogue).

Run by the pull itself (``spotify/sync.py``), because it reads the catalogue through the
same gateway and fills the ``discovery`` frame: the newest ``refresh.discovery_albums_per_artist``
albums of the ``refresh.discovery_artists`` highest-ranked artists (0 turns it off). Albums
already pulled are not pulled again; an artist's album list is re-read at most every
``refresh.discovery_recheck_days`` days. A ``--seed-playlist`` run reads those of the
playlist's main artists the same way (``playlist_albums``), and the albums its tracks by
several artists share (``shared_albums``), for that run only, remembered in the open-data
answer cache.
"""

from __future__ import annotations

import logging

import pandas as pd

from .. import schema
from ..library import ranked_artists
from ..errors import SpotifyError
from ..isotime import younger_than
from ..services.cache import ALBUM_TRACKS, ARTIST_ALBUMS, MISSING
from ..spotify import parse
from ..store import now_iso
from .base import json_track_row

log = logging.getLogger(__name__)

GONE = (403, 404)  # an artist or album taken down (or not readable): skipped, the refresh goes on
# Spotify answers 400 "Invalid limit" above 10 for an artist's albums since 2026 (50 before, and
# still for extended quota apps); each group is listed newest first, so the newest of each group
# are its first page
ARTIST_ALBUMS_PAGE = 10
GROUPS = ("album", "single")


def newest_albums(gateway, artist_id: str, n: int) -> list[dict]:
    """The ``n`` newest albums and singles of an artist (newest first): up to ``n`` of each group,
    read in pages of ``ARTIST_ALBUMS_PAGE`` (one request per group when ``n`` <= 10)."""
    from itertools import islice
    albums = []
    for group in GROUPS:
        listing = gateway.pages(f"artists/{artist_id}/albums", limit=ARTIST_ALBUMS_PAGE, include_groups=group,
                                market=parse.MARKET)  # the newest that play in your country
        # the first n entries that are albums (an entry without an id took a place)
        albums += islice((obj for obj in listing if obj and obj.get("id")), max(n, 1))
    albums.sort(key=lambda a: a.get("release_date") or "", reverse=True)
    return list({a["id"]: a for a in albums}.values())[:n]


def new_to_you(frames, store) -> int:
    """How many tracks of the albums' finds are new to you (``new_ids``)."""
    return len(new_ids(frames, store))


def new_ids(frames, store) -> set[str]:
    """The tracks of the albums' finds (``frames["discovery"]``) that are new to you: in none of
    your playlists (the tool's own, which ``store`` knows, do not count), not saved, not a top
    track (``frames``: a library's, or the cache's; a frame missing is empty). Your artists'
    albums hold the songs you have as well: counting those, a refresh said "125 from discovery
    albums" of 5 new ones."""
    found = frames.get("discovery")
    if found is None or not len(found):
        return set()
    from ..publish import our_playlist_ids
    drop = set(our_playlist_ids(store, frames.get("playlists")))
    yours: set[str] = set()
    items = frames.get("playlist_items")
    if items is not None and len(items):
        yours.update(items.loc[~items["playlist_id"].astype(str).isin(drop), "track_id"].astype(str))
    for name in ("saved_tracks", "top_tracks"):
        if frames.get(name) is not None:
            yours.update(frames[name]["track_id"].astype(str))
    return set(found["track_id"].astype(str)) - yours


def albums_on(settings) -> bool:
    """Whether the albums source runs: ``refresh.discovery_artists`` and ``_albums_per_artist`` above 0."""
    r = settings.refresh
    return int(r.discovery_artists) > 0 and int(r.discovery_albums_per_artist) > 0


def shared_albums_on(settings) -> bool:
    """Whether a ``--seed-playlist`` run reads the albums its tracks share (``shared_albums``):
    ``refresh.discovery_shared_albums`` above 0, whether or not ``albums_on``."""
    return int(settings.refresh.discovery_shared_albums) > 0


class _RefreshMemory:
    """What the refresh remembers of the albums it read: the manifest's ``discovery`` state
    (each artist's album ids, when they were read and under which ``albums_per_artist`` cap)
    and the cached ``discovery`` frame (the albums' tracks, pulled again only when the cache
    lost one of them)."""

    def __init__(self, manifest: dict, cached, recheck: float, add_track) -> None:
        state = manifest.get("discovery", {}) if cached is not None else {}
        self.checked: dict[str, str] = dict(state.get("artists_checked", {}))
        self.albums_by_artist: dict[str, list[str]] = dict(state.get("albums_by_artist", {}))
        # the cap each list was read under (a list of an older version's has none: taken as read under the cap asked)
        self.caps: dict[str, int] = dict(state.get("albums_per_artist") or {})
        self.recheck, self.add_track = recheck, add_track
        old = cached.discovery if cached is not None else schema.empty_frame("discovery")
        # the cached tracks as a set and the cached albums' rows grouped once: a pandas look-up per
        # album (isin on an arrow string index) cost a daily run about 2 s on the sample library
        self.old_tracks = set(cached.tracks["track_id"].astype(str)) if cached is not None else None
        self.old_albums = {str(a): g for a, g in old.groupby("album_id", sort=False)} if len(old) else {}

    def album_ids(self, artist_id: str, n: int) -> list[str] | None:
        """The ``n`` newest album ids kept of an artist, None when its list is older than the
        recheck or was read under a lower cap (a raised cap read nothing more for that long)."""
        if younger_than(self.checked.get(artist_id), self.recheck) and artist_id in self.albums_by_artist \
                and _whole(self.caps.get(artist_id, n)) >= n:
            return self.albums_by_artist[artist_id][:n]
        return None

    def keep_albums(self, artist_id: str, album_ids: list[str], n: int) -> None:
        self.albums_by_artist[artist_id] = album_ids
        self.caps[artist_id] = n
        self.checked[artist_id] = now_iso()

    def rows(self, album_id: str, artist_id: str) -> list[dict] | None:
        known = self.old_albums.get(album_id)
        if known is None or not len(known) or self.old_tracks is None \
                or not all(str(t) in self.old_tracks for t in known["track_id"]):
            return None
        return known.assign(source_artist_id=artist_id).to_dict("records")

    def add(self, album_id: str, artist_id: str, objs: list[dict], album: dict) -> list[dict]:
        return [{"track_id": self.add_track(obj, album), "album_id": album_id, "source_artist_id": artist_id}
                for obj in objs]

    def gone(self, kind: str, key: str) -> None:
        pass  # the refresh's record keeps no gone artist or album: asked again next refresh

    def state(self) -> dict:
        # an artist read longer ago than the recheck is read again (``album_ids``): not kept, or
        # the manifest grew with every artist you ever played
        kept = {a: t for a, t in self.checked.items() if younger_than(t, self.recheck) and a in self.albums_by_artist}
        return {"artists_checked": kept, "albums_by_artist": {a: self.albums_by_artist[a] for a in kept},
                "albums_per_artist": {a: self.caps[a] for a in kept if a in self.caps}}


def _whole(value) -> int:
    """A kept cap as a whole number (one of another type, a hand edit: 0, read again)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class _CachedMemory:
    """What ``--seed-playlist`` runs remember of the albums they read, in the open-data answer
    cache: each artist's album ids (``ARTIST_ALBUMS``, kept ``refresh.discovery_recheck_days``)
    and each album's playable tracks as tracks-frame rows (``ALBUM_TRACKS``, kept as long as
    the other Spotify look-ups); an artist or album Spotify answered ``GONE`` is kept as an
    empty answer, for as long. ``tracks``: the rows of every album read or remembered."""

    def __init__(self, cache) -> None:
        self.cache = cache
        self.tracks: dict[str, dict] = {}

    def album_ids(self, artist_id: str, n: int) -> list[str] | None:
        hit = self.cache.get(ARTIST_ALBUMS, artist_id)  # (one of another shape is none: ``SHAPES``)
        return None if hit is MISSING else hit[:n]

    def keep_albums(self, artist_id: str, album_ids: list[str], n: int) -> None:
        self.cache.put(ARTIST_ALBUMS, artist_id, album_ids)

    def gone(self, kind: str, key: str) -> None:
        # a miss is kept like any answer (the cache's rule): the next run does not ask again
        self.cache.put(ALBUM_TRACKS if kind == "album" else ARTIST_ALBUMS, key, [])

    def rows(self, album_id: str, artist_id: str) -> list[dict] | None:
        hit = self.cache.get(ALBUM_TRACKS, album_id)
        return None if hit is MISSING else self._rows(album_id, artist_id, hit)

    def add(self, album_id: str, artist_id: str, objs: list[dict], album: dict) -> list[dict]:
        found = [json_track_row(obj, album) for obj in objs]
        self.cache.put(ALBUM_TRACKS, album_id, found)
        return self._rows(album_id, artist_id, found)

    def _rows(self, album_id: str, artist_id: str, found: list[dict]) -> list[dict]:
        for row in found:
            self.tracks.setdefault(str(row["track_id"]), row)
        return [{"track_id": str(r["track_id"]), "album_id": album_id, "source_artist_id": artist_id} for r in found]


def read_albums(gateway, memory, artists: list[str], n_albums: int, progress) -> list[dict]:
    """``discovery`` rows of the ``n_albums`` newest albums of each of ``artists``: each
    artist's album list and each album's tracks as ``memory`` remembers them, else read from
    Spotify (``gateway`` None: only what ``memory`` holds). An artist or album Spotify answers
    ``GONE`` is skipped (``memory.gone``: remembered, or asked again); any other SpotifyError is raised."""
    rows: list[dict] = []
    for i, artist_id in enumerate(artists):
        progress("discovery", i, len(artists))
        album_ids, album_objs = memory.album_ids(artist_id, n_albums), {}
        if album_ids is None:
            if gateway is None:
                continue
            try:
                albums = newest_albums(gateway, artist_id, n_albums)
            except SpotifyError as exc:
                if exc.status not in GONE:
                    raise
                log.info("discovery: the albums of artist %s are not readable (%s), skipped", artist_id, exc.status)
                memory.gone("artist", artist_id)
                continue
            album_ids = [a["id"] for a in albums]
            memory.keep_albums(artist_id, album_ids, n_albums)
            album_objs = {a["id"]: a for a in albums}
        for album_id in album_ids:
            rows.extend(_album_rows(gateway, memory, album_id, artist_id, album_objs.get(album_id)))
    progress("discovery", len(artists), len(artists))
    return rows


def _album_rows(gateway, memory, album_id: str, artist_id: str, album: dict | None) -> list[dict]:
    """``discovery`` rows of one album's tracks, as ``memory`` remembers them, else read from
    Spotify (``gateway`` None: none); an album Spotify answers ``GONE`` gives none
    (``memory.gone``); any other SpotifyError is raised."""
    known = memory.rows(album_id, artist_id)
    if known is not None:
        return known
    if gateway is None:
        return []
    try:
        # asked as your country sees the album: a track that does not play there is left out
        found = [obj for obj in gateway.pages(f"albums/{album_id}/tracks", market=parse.MARKET)
                 if obj and obj.get("id") and not obj.get("is_local") and parse.playable(obj)]
    except SpotifyError as exc:
        if exc.status not in GONE:
            raise
        log.info("discovery: album %s is not readable (%s), skipped", album_id, exc.status)
        memory.gone("album", album_id)
        return []
    return memory.add(album_id, artist_id, found, album or {"id": album_id})


def discover_albums(gateway, settings, manifest: dict, cached, top_artists: list[dict],
              followed: list[dict], add_track, progress) -> tuple[list[dict], dict]:
    """The refresh's albums: ``discovery`` rows of the top and followed artists' newest albums
    (their tracks through ``add_track``) and the manifest's new ``discovery`` state."""
    if not albums_on(settings):
        return [], {}
    memory = _RefreshMemory(manifest, cached, settings.refresh.discovery_recheck_days, add_track)
    artists = ranked_artists(top_artists, followed)[:settings.refresh.discovery_artists]
    rows = read_albums(gateway, memory, artists, settings.refresh.discovery_albums_per_artist, progress)
    return rows, memory.state()


def playlist_album_artists(settings, library, artist_ids: list[str]) -> list[str]:
    """The artists of ``artist_ids`` (a ``--seed-playlist`` run's, main first) whose albums that
    run reads: of the first ``refresh.discovery_artists``, those the refresh's albums source
    does not read (none when the source is off)."""
    if not albums_on(settings):
        return []
    n_artists = int(settings.refresh.discovery_artists)
    covered = set(library.your_artists()[:n_artists])
    return [a for a in artist_ids[:n_artists] if a not in covered]


def shared_albums(settings, library, seed_tracks) -> list[dict]:
    """The albums a ``--seed-playlist`` run reads whole because its seeds share them: albums
    holding seed tracks by two or more artists (a track's first artist: a compilation, a split,
    a soundtrack), most such artists first, then most seeds, then album id; the first
    ``refresh.discovery_shared_albums`` (0: none). Each as a simplified album object (id, and
    the name and release date its seeds have: an album's track listing gives neither)."""
    if not shared_albums_on(settings) or not len(seed_tracks):
        return []
    tracks = library.frames["tracks"]
    at = library.track_positions(list(seed_tracks.index))
    sub = tracks.iloc[at[at >= 0]]
    firsts = [str(a[0]) if a is not None and len(a) else None for a in sub["artist_ids"]]
    ids = most_shared(sub["album_id"].astype(object).to_numpy(), firsts, int(settings.refresh.discovery_shared_albums))
    first = sub.drop_duplicates("album_id").set_index("album_id")
    return [{"id": a, "name": text_or_none(first.at[a, "album_name"]),
             "release_date": text_or_none(first.at[a, "release_date"])}
            for a in ids]


def text_or_none(value) -> str | None:
    """A frame's text value, or None for an empty or missing one (NaN, None, "")."""
    return value if isinstance(value, str) and value else None


def most_shared(albums, artists, n: int) -> list[str]:
    """Of the seeds' ``albums`` (per seed, its album id; ``artists``: its first artist, any
    key; a seed without either, None or "", left out), the first ``n`` that hold seeds by two
    or more artists: most such artists first, then most seeds, then album id (the rule of
    ``shared_albums``, which the personal-library benchmark's method follows too)."""
    df = pd.DataFrame({"album": pd.Series(albums, dtype=object), "artist": pd.Series(artists, dtype=object)})
    df = df[df["album"].notna() & (df["album"] != "") & df["artist"].notna() & (df["artist"] != "")]
    if df.empty or n <= 0:
        return []
    by = df.groupby("album").agg(artists=("artist", "nunique"), seeds=("artist", "size")).reset_index()
    by = by[by["artists"] >= 2].sort_values(["artists", "seeds", "album"], ascending=[False, False, True],
                                             kind="stable")
    return [str(a) for a in by["album"].head(n)]


SHARED = ""  # the ``source_artist_id`` of a shared album's rows (``shared_albums``): no one artist's album


def playlist_albums(gateway, settings, library, artist_ids: list[str], cache, progress=None,
                    shared: list[dict] = ()) -> tuple[list[dict], list[dict]]:
    """A ``--seed-playlist`` run's albums: those of the first ``refresh.discovery_artists`` of
    the playlist's main artists ``artist_ids`` that the refresh's albums source does not read
    (your top and followed artists it reads are in the ``discovery`` frame already), the
    refresh's caps, then the albums ``shared`` (``shared_albums``' objects: their rows' source artist is
    ``SHARED``), remembered in the answer ``cache`` (``_CachedMemory``; ``gateway`` None:
    only what it holds). Returns (``discovery`` rows, tracks-frame rows of their tracks)."""
    artists = playlist_album_artists(settings, library, artist_ids)
    if not artists and not shared:  # every one is read by the refresh (or the source is off): no bar of nothing to read
        return [], []
    memory = _CachedMemory(cache)
    progress = progress or (lambda stage, done, total: None)
    rows = read_albums(gateway, memory, artists, int(settings.refresh.discovery_albums_per_artist),
                       progress) if artists else []
    for i, album in enumerate(shared):
        progress("Spotify: shared albums", i, len(shared))
        rows.extend(_album_rows(gateway, memory, album["id"], SHARED, album))
    if shared:
        progress("Spotify: shared albums", len(shared), len(shared))
    return rows, list(memory.tracks.values())
