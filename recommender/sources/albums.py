"""Source: albums of your top and followed artists (the Spotify catalogue).

Run by the pull itself (``spotify/sync.py``), because it reads the catalogue through the
same gateway and fills the ``discovery`` frame: the newest ``refresh.discovery_albums_per_artist``
albums of the ``refresh.discovery_artists`` highest-ranked artists (0 turns it off). Albums
already pulled are not pulled again; an artist's album list is re-read at most every
``refresh.discovery_recheck_days`` days.
"""

from __future__ import annotations

import logging

from .. import schema
from ..errors import SpotifyError
from ..isotime import younger_than
from ..spotify import parse
from ..store import now_iso

log = logging.getLogger(__name__)

SOURCE = "albums"
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
        albums += [obj for obj in islice(listing, max(n, 1)) if obj and obj.get("id")]
    albums.sort(key=lambda a: a.get("release_date") or "", reverse=True)
    return list({a["id"]: a for a in albums}.values())[:n]


def ranked_artists(top_artists: list[dict], followed: list[dict]) -> list[str]:
    """Top artists by best rank (short term first on ties), then followed artists."""
    order = {t: i for i, t in enumerate(schema.TIME_RANGES)}
    best: dict[str, tuple[int, int]] = {}
    for r in top_artists:
        key = (r["rank"], order[r["time_range"]])
        if r["artist_id"] not in best or key < best[r["artist_id"]]:
            best[r["artist_id"]] = key
    ranked = sorted(best, key=best.__getitem__)
    ranked += [f["artist_id"] for f in followed if f["artist_id"] not in best]
    return ranked


def discover_albums(gateway, settings, manifest: dict, cached, top_artists: list[dict],
              followed: list[dict], add_track, progress) -> tuple[list[dict], dict]:
    n_artists = settings.refresh.discovery_artists
    n_albums = settings.refresh.discovery_albums_per_artist
    state = manifest.get("discovery", {}) if cached is not None else {}
    checked: dict[str, str] = dict(state.get("artists_checked", {}))
    albums_by_artist: dict[str, list[str]] = dict(state.get("albums_by_artist", {}))
    if n_artists == 0 or n_albums == 0:
        return [], {}
    old = cached.discovery if cached is not None else schema.empty_frame("discovery")
    # the cached tracks as a set and the cached albums' rows grouped once: a pandas look-up per
    # album (isin on an arrow string index) cost a daily run about 2 s on the sample library
    old_tracks = set(cached.tracks["track_id"].astype(str)) if cached is not None else None
    old_albums = {str(a): g for a, g in old.groupby("album_id", sort=False)} if len(old) else {}
    rows: list[dict] = []
    artists = ranked_artists(top_artists, followed)[:n_artists]
    recheck = settings.refresh.discovery_recheck_days
    for i, artist_id in enumerate(artists):
        progress("discovery", i, len(artists))
        if not younger_than(checked.get(artist_id), recheck) or artist_id not in albums_by_artist:
            try:
                albums = newest_albums(gateway, artist_id, n_albums)
            except SpotifyError as exc:
                if exc.status not in GONE:
                    raise
                log.info("discovery: the albums of artist %s are not readable (%s), skipped", artist_id, exc.status)
                continue
            albums_by_artist[artist_id] = [a["id"] for a in albums]
            checked[artist_id] = now_iso()
            album_objs = {a["id"]: a for a in albums}
        else:
            album_objs = {}
        for album_id in albums_by_artist[artist_id]:
            known = old_albums.get(album_id, old.iloc[0:0])
            if len(known) and old_tracks is not None and all(str(t) in old_tracks for t in known["track_id"]):
                rows.extend(known.assign(source_artist_id=artist_id).to_dict("records"))
                continue
            album = album_objs.get(album_id) or {"id": album_id}
            try:
                # asked as your country sees the album: a track that does not play there is left out
                found = [obj for obj in gateway.pages(f"albums/{album_id}/tracks", market=parse.MARKET)
                         if obj and obj.get("id") and not obj.get("is_local") and parse.playable(obj)]
            except SpotifyError as exc:
                if exc.status not in GONE:
                    raise
                log.info("discovery: album %s is not readable (%s), skipped", album_id, exc.status)
                continue
            for obj in found:
                tid = add_track(obj, album)
                rows.append({"track_id": tid, "album_id": album_id, "source_artist_id": artist_id})
    progress("discovery", len(artists), len(artists))
    return rows, {"artists_checked": checked, "albums_by_artist": albums_by_artist}
