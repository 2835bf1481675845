"""The source interface and the id resolver shared by the open-data sources."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..library import Library, normalise_name
from ..services.cache import MISSING
from ..titles import normalise_title

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]
MAX_ISRC_TRIES = 3  # ISRC look-ups spent on finding one artist's MBID
MAX_SPOTIFY_IDS = 3  # ids of labs' mapping tried per recording when Spotify says the first is gone


@dataclass
class Found:
    """What one source found (rows in the shapes of the frames of ``schema.py``)."""

    discovered: list[dict] = field(default_factory=list)
    recordings: list[dict] = field(default_factory=list)
    similar_artists: list[dict] = field(default_factory=list)
    similar_tracks: list[dict] = field(default_factory=list)
    tracks: list[dict] = field(default_factory=list)


@dataclass
class Context:
    """What a source may use. ``seed_tracks``: weight per track id (strongest first);
    ``seed_artists``: Spotify artist ids, most important first."""

    library: Library
    seed_tracks: pd.Series
    seed_artists: list[str]
    settings: Any
    open_data: Any  # services.listenbrainz.OpenData
    resolver: "Resolver"
    progress: Progress
    failures: list = field(default_factory=list)  # ServiceErrors met (the first real one is reported: run._warnings)
    # a service failed in this step (``service_failed``), or in an earlier step of the same
    # run whose ``open_data`` this one goes on with: kept up to date by ``note``
    failed: bool = False

    def __post_init__(self) -> None:
        earlier = self.open_data.failure
        self.failed = earlier is not None and service_failed(earlier, self.open_data)

    def note(self, exc) -> None:
        """Keep a failure met (``failures``), and whether it is a service's own (``failed``)."""
        self.failures.append(exc)
        self.failed = self.failed or service_failed(exc, self.open_data)

    def guarded(self, work, *args) -> None:
        """Run one seed's work; a failing service is noted and the source goes on with the
        next seed (after a first failure, uncached questions fail at once)."""
        from ..services.http import ServiceError
        try:
            work(*args)
        except ServiceError as exc:
            self.note(exc)


def service_failed(exc, open_data) -> bool:
    """``exc`` is a service's own failure (down, slow, too slow for ``discovery.max_seconds``,
    a long Retry-After, a wrong address): not the request budget running out (the step asked
    what a day's budget allows), nor ListenBrainz's refusal of a question for want of a token
    (every run without one meets it, and lb-radio stands in; ``open_data.refusals``, kept
    before the refusal is raised)."""
    from ..services.http import BudgetExhausted
    return (not isinstance(exc, BudgetExhausted) or exc.slow) and not any(exc is r for r in open_data.refusals.values())


class Source:
    """Base class: ``name`` and ``find(context) -> Found``."""

    name = "source"

    def find(self, ctx: Context) -> Found:
        raise NotImplementedError

    def each_seed(self, ctx: Context, found: Found, label: str, seeds: list[tuple[str, str]]) -> Found:
        """``self._seed(ctx, found, id, name)`` for every (id, name) of ``seeds``, each guarded
        (a failing service stops the step with one warning), with a progress bar ``label``."""
        for k, (sid, name) in enumerate(seeds):
            ctx.progress(label, k, len(seeds))
            ctx.guarded(self._seed, ctx, found, sid, name)
        ctx.progress(label, len(seeds), len(seeds))
        return found


def _norm(text: str) -> str:
    return normalise_name(text or "")


class Resolver:
    """The id chain: Spotify track -> ISRC -> MusicBrainz recording + artist MBIDs (via the
    cached MusicBrainz look-up); recording MBIDs -> Spotify ids (labs mapping, then at most
    ``search_limit`` Spotify searches); new tracks' metadata from Spotify single-track
    look-ups (cached). ``gateway`` may be None (no Spotify: unresolved ids are skipped).
    When Spotify says a mapped id is gone (404/400), ``track_rows`` tries the mapping's next
    ids (at most ``MAX_SPOTIFY_IDS`` in all) and notes the one it took in ``replaced``."""

    def __init__(self, library: Library, open_data, gateway=None, search_limit: int = 0) -> None:
        self.library = library
        self.od = open_data
        self.gateway = gateway
        self.search_limit = search_limit
        self.searches = 0
        tracks = library.frames["tracks"]
        self._tracks = {str(t): (n, list(a), i, d) for t, n, a, i, d in zip(
            tracks["track_id"], tracks["name"], tracks["artist_names"], tracks["isrc"], tracks["duration_ms"])}
        self.metadata: dict[str, dict] = {}
        self.alternatives: dict[str, list[str]] = {}  # first mapped id -> the mapping's next ids
        self.replaced: dict[str, str] = {}  # a gone id -> the next id of its recording that lives
        self._track_mbids: dict[str, tuple[str | None, list[str], dict[str, str]]] = {}
        # the artist MBIDs `recommend enrich genres` found (misses have none)
        genres = library.frames["artist_genres"]
        self._stored_mbids = {str(a): str(m) for a, m in zip(genres["artist_id"], genres["mbid"])
                              if isinstance(m, str) and m}

    # ----- Spotify -> MusicBrainz --------------------------------------------------------
    def track_mbids(self, track_id: str) -> tuple[str | None, list[str], dict[str, str]]:
        """(recording MBID, artist MBIDs, artist name -> MBID) of a library track, by ISRC;
        worked out once a run (similar recordings asks twice per seed: its canonical recording,
        then its neighbours), so a skipped ISRC is logged once."""
        if track_id not in self._track_mbids:
            self._track_mbids[track_id] = self._find_track_mbids(track_id)
        rec, mbids, names = self._track_mbids[track_id]
        return rec, list(mbids), dict(names)

    def _find_track_mbids(self, track_id: str) -> tuple[str | None, list[str], dict[str, str]]:
        row = self._tracks.get(track_id)
        if row is None:
            return None, [], {}
        name, artists, isrc, length = row
        if not isinstance(isrc, str) or not isrc:
            return None, [], {}
        body = self.od.isrc(isrc)
        recs = (body or {}).get("recordings") or []
        if not recs:
            return None, [], {}
        keys = {_norm(a) for a in artists}
        title = normalise_title(name or "")  # a title's version suffixes ("- 2015 Remaster") are no other song

        def fit(rec: dict) -> tuple:
            credit = {_norm(c.get("name") or "") for c in rec.get("artist-credit") or []}
            credit |= {_norm((c.get("artist") or {}).get("name") or "") for c in rec.get("artist-credit") or []}
            rec_len = rec.get("length")
            known = rec_len and not pd.isna(length)  # duration_ms is Int64: a missing one is <NA>
            gap = abs(int(rec_len) - int(length)) if known else 10**9
            return (-len(keys & credit), title != normalise_title(rec.get("title") or ""), gap)

        ranked = sorted((fit(r), i) for i, r in enumerate(recs))
        (shared, other_title, _), i = ranked[0]
        if not shared and other_title:
            # an ISRC MusicBrainz knows only for another artist's song of another title: a wrong
            # ISRC (a label's reused or mistyped code), not this track; seeding with it would bring
            # tracks played with that other song
            log.info("discovery: the ISRC %s of %r is another song's on MusicBrainz, skipped", isrc, name)
            return None, [], {}
        best = recs[i]
        names = {}
        for c in best.get("artist-credit") or []:
            a = c.get("artist") or {}
            if a.get("id"):
                names[_norm(c.get("name") or a.get("name") or "")] = str(a["id"])
        mbids = list(dict.fromkeys(names.values()))
        return str(best["id"]), mbids, names

    def artist_mbid(self, artist_id: str, name: str) -> str | None:
        """MBID of a Spotify artist: the one ``recommend enrich genres`` stored, else the
        artist credited under ``name`` on the ISRC look-up of one of its library tracks; an
        MBID a MusicBrainz lookup found merged gives way to the one it was merged into."""
        from ..enrich.musicbrainz import match_isrc_credit
        stored = self._stored_mbids.get(artist_id)
        if stored:
            return self.od.current(stored)
        hit = self.od.cache.get("artists", artist_id)
        if hit is not MISSING:
            return self.od.current(hit) if hit else hit
        tracks = self.library.frames["tracks"]
        isrcs = sorted((str(t), i) for t, ids, i in zip(tracks["track_id"], tracks["artist_ids"], tracks["isrc"])
                       if artist_id in list(ids) and isinstance(i, str) and i)
        found = None
        for _, isrc in isrcs[:MAX_ISRC_TRIES]:
            found = match_isrc_credit(self.od.isrc(isrc), name)
            if found:
                break
        if not found:  # forgotten again if MusicBrainz knew none of this run's ISRCs (a wrong address)
            self.od.artist_misses.append(artist_id)
        self.od.cache.put("artists", artist_id, found)
        return self.od.current(found) if found else found

    # ----- MusicBrainz -> Spotify ------------------------------------------------------------
    def to_spotify(self, recordings: list[dict], note=None) -> dict[str, str]:
        """Spotify track id per recording MBID (unresolvable ones left out). ``note``: a failing
        mapping is given to it, and the ids the cache has are used (else it is raised)."""
        ids = self.od.spotify_id_lists([r["mbid"] for r in recordings], note=note)
        out = {}
        for mb, tids in ids.items():
            if tids:
                out[mb] = tids[0]
                if len(tids) > 1:
                    self.alternatives[tids[0]] = tids[1:MAX_SPOTIFY_IDS]
        for r in recordings:  # (searched: a recording the mapping has no id for; one not asked is not)
            if r["mbid"] in out or r["mbid"] not in ids or ids[r["mbid"]] is not None:
                continue
            tid = self._search(r.get("name") or "", r.get("artist") or "")
            if tid:
                out[r["mbid"]] = tid
        return out

    def _search(self, name: str, artist: str) -> str | None:
        # the limit counts cached searches too, so every run resolves the same recordings
        if not name or self.searches >= self.search_limit:
            return None
        self.searches += 1
        key = f"{_norm(name)}|{_norm(artist)}"
        hit = self.od.cache.get("search", key)
        if hit is not MISSING or self.gateway is None:  # (no Spotify: what the cache holds)
            return None if hit is MISSING else hit
        from ..errors import SpotifyError
        from ..spotify import parse
        self.od.budget.spend("Spotify")
        q = f'track:"{name}" artist:"{artist}"' if artist else f'track:"{name}"'
        try:
            page = self._spotify("search", q=q, type="track", limit=10, market=parse.MARKET)
        except SpotifyError as exc:
            log.info("Spotify search for %r failed: %s", q, exc)
            return None
        found = None
        for obj in ((page or {}).get("tracks") or {}).get("items") or []:
            if not obj or not obj.get("id") or not parse.playable(obj):
                continue
            names = {_norm(a.get("name") or "") for a in obj.get("artists") or []}
            if _norm(obj.get("name") or "") == _norm(name) and (not artist or _norm(artist) in names):
                found = str(obj["id"])
                self.metadata.setdefault(found, json_track_row(obj))
                # kept like a look-up's: the next run takes the id from the search's answer and
                # would look the track up again
                self.od.cache.put("tracks", found, self.metadata[found])
                break
        self.od.cache.put("search", key, found)
        return found

    def _spotify(self, path: str, **params) -> dict | None:
        """One Spotify request of discovery, the time its answer took noted in the run's budget
        (``Budget.took``: past ``discovery.max_seconds`` the note names the slowest service); a
        wait for Spotify (a 429's, a back-off) that would end past that time stops the step unslept,
        as an open-data client's does (``Budget.may_wait``)."""
        import time
        started, bound = time.monotonic(), getattr(self.gateway, "wait_bound", None)
        self.gateway.wait_bound = lambda seconds, why: self.od.budget.may_wait("Spotify", seconds, why)
        try:
            return self.gateway.get(path, **params)
        finally:
            self.gateway.wait_bound = bound
            self.od.budget.took("Spotify", time.monotonic() - started)

    def track_rows(self, track_ids: list[str], progress: Progress | None = None) -> list[dict]:
        """Tracks-frame rows of tracks the library does not have: cached, else one Spotify
        single-track look-up each (unknown tracks are skipped, after the mapping's next ids
        of their recording were tried)."""
        out = []
        todo = [t for t in dict.fromkeys(track_ids) if t not in self._tracks]
        for k, tid in enumerate(todo):
            if progress is not None:
                progress("Spotify: new tracks", k, len(todo))
            row = self._row(tid)
            for other in self.alternatives.get(tid, []) if row is None else []:
                if other in self._tracks:  # the library has that release: nothing to look up
                    self.replaced[tid] = other
                    break
                row = self._row(other)
                if row is not None:
                    self.replaced[tid] = other
                    break
            if row is not None:
                out.append(row)
        if progress is not None and todo:
            progress("Spotify: new tracks", len(todo), len(todo))
        return out

    def _row(self, tid: str) -> dict | None:
        """The tracks-frame row of one track: known, cached, else a Spotify look-up (None:
        Spotify says it is gone, or no Spotify)."""
        row = self.metadata.get(tid)
        if row is None:
            hit = self.od.cache.get("tracks", tid)
            if hit is not MISSING:
                row = hit
            elif self.gateway is not None:
                from ..errors import SpotifyError
                from ..spotify import parse
                self.od.budget.spend("Spotify")
                try:
                    obj = self._spotify(f"tracks/{tid}", market=parse.MARKET)
                    # a track that does not play in your country (another market's release) is
                    # no candidate, as one Spotify no longer has: the recording's next ids are tried;
                    # a relinked one (the playable copy answered) keeps the id asked for
                    row = (json_track_row(parse.stored_track(obj))
                           if obj and obj.get("id") and parse.playable(obj) else None)
                    if obj and obj.get("id") and not parse.playable(obj):
                        log.info("discovery: track %s does not play in your country, skipped", tid)
                except SpotifyError as exc:
                    if exc.status not in (400, 404):  # the look-ups refused (403...): stop asking
                        from ..services.http import ServiceError
                        raise ServiceError(str(exc), exc.status, "Spotify") from None
                    row = None
                self.od.cache.put("tracks", tid, row)
        if row is not None:
            self.metadata[tid] = row
        return row


def json_track_row(obj: dict, album: dict | None = None) -> dict:
    """A tracks-frame row (JSON-friendly: kept in the answer cache) from a Spotify track object
    (``album``: a simplified track's, as ``parse.track_row``): the resolver's look-ups and the
    albums of ``--seed-playlist`` runs (``albums._CachedMemory``)."""
    from ..spotify import parse
    row = parse.track_row(obj, album)
    return {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in row.items()}
