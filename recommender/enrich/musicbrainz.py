"""Artist genres from MusicBrainz, into the ``artist_genres`` frame of the Store.

For every artist of the library that has no Spotify genres and was not looked up yet:
1. by ISRC of one of its tracks (``/isrc/{isrc}?inc=artist-credits``), taking the credit whose
   name matches the artist's;
2. else by name search (``/artist?query=artist:"NAME"``), accepted when the top score reaches
   ``enrich.min_score`` and is not ambiguous (several top hits with equal score and different
   disambiguation are a miss, unless exactly one of them has exactly the artist's name);
3. then ``/artist/{mbid}?inc=genres+tags``: genres with their vote counts, tags as fallback.

Misses are stored too (``miss`` = True, with the date) and asked again only after
``enrich.retry_misses_days``. An artist found is re-checked by its MBID alone (step 3, one
request) when its genres are ``enrich.refresh_days`` old (a found one without genres after
``enrich.retry_misses_days``): an MBID MusicBrainz merged answers with the id it was merged
into, which replaces it (in every row that held it, and as a note in the open-data cache,
which then asks ListenBrainz by the new id); a deleted one answers 404 and becomes a miss.
The frame is saved every ``enrich.save_every`` artists and when the run stops for any
reason, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

import pandas as pd
import requests

from .. import schema
from ..config import DEFAULT_FILE, Settings
from ..errors import ConfigError
from ..isotime import local_today, younger_than
from ..library import Library, normalise_name
from ..services.http import (LOOPBACK, Budget, ContactNotice, JsonService, ServiceError, count, mapping,
                             needs_contact, objects, user_agent)
from ..services.cache import answer_cache, current_artist, note_merge
from ..store import Store

log = logging.getLogger(__name__)

Progress = Callable[[int, int, float], None]  # (done, total, eta_seconds)

# Average requests per artist (ISRC or search, then the artist lookup; a failed ISRC adds a
# search, a miss saves the lookup): used only for the "this will take about N minutes" notice.
REQUESTS_PER_ARTIST = 2.5
LOOPBACK_RATE = 1000.0  # requests/s towards a server on this machine
MAX_TAGS = 10  # tags are noisier than genres: keep only the most voted ones


class MusicBrainzError(ServiceError):
    """MusicBrainz kept failing after our bounded retries, or refused a request."""

    exit_code = 5

    def __init__(self, message: str, status: int | None = None, service: str = "MusicBrainz") -> None:
        super().__init__(message, status, service)


# ----- HTTP client ---------------------------------------------------------------------------
class MusicBrainzClient(JsonService):
    """A polite MusicBrainz web-service client: JSON, User-Agent, rate limit, bounded retries.

    The shared HTTP layer (``services/http.py``) with MusicBrainz's rules: at most ``rate``
    requests per second (the next request starts no earlier than ``1/rate`` seconds after the
    previous one *finished*; timestamps from ``clock``, waits via ``sleep``, both injectable).
    503/429/5xx, timeouts and unreadable bodies are retried ``max_retries`` times, waiting
    ``Retry-After`` (cut to ``max_retry_wait`` seconds) or 1, 2, 4 ... s.
    """

    error_class = MusicBrainzError

    def __init__(self, base_url: str, user_agent: str, rate: float = 1.0, timeout: float = 10,
                 session: requests.Session | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 max_retries: int = 3, max_retry_wait: float = 30.0, budget: Budget | None = None) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        super().__init__(base_url, user_agent, name="MusicBrainz", rate=rate, timeout=timeout, session=session,
                         clock=clock, sleep=sleep, max_retries=max_retries, max_retry_wait=max_retry_wait,
                         long_wait="cap", budget=budget)

    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any] | None:
        """GET ``base_url + path`` with ``fmt=json``; the JSON body, or None on 404.

        Raises MusicBrainzError after the retries, or at once on another 4xx.
        """
        # Built by hand: MusicBrainz documents inc lists joined by a literal '+'.
        query = "&".join(f"{k}={quote(str(v), safe='+' if k == 'inc' else '')}"
                         for k, v in {**(params or {}), "fmt": "json"}.items())
        return self.request("GET", path, params=query, accept=dict)

    # -- endpoints --
    def isrc(self, isrc: str) -> dict[str, Any] | None:
        """``/isrc/{isrc}?inc=artist-credits``: ``{"isrc", "recordings": [...]}``, None if unknown.

        The code is written as MusicBrainz wants it first (``isrc_code``); one that is no ISRC
        at all is not asked, and one MusicBrainz refuses as invalid (400 "Invalid isrc.") is
        unknown too: a bad code on one track never stops a run."""
        code = isrc_code(isrc)
        if code is None:
            log.info("MusicBrainz: %r is no ISRC; not looked up", isrc)
            return None
        try:
            return self.get(f"isrc/{code}", {"inc": "artist-credits"})
        except MusicBrainzError as exc:
            if exc.status != 400:
                raise
            log.info("MusicBrainz refused the ISRC %s as invalid; taken as unknown", code)
            return None

    def search_artists(self, name: str, limit: int = 10) -> list[dict[str, Any]]:
        """Artist search hits for an exact-phrase name query, best first (each has ``score``)."""
        phrase = name.replace("\\", "\\\\").replace('"', '\\"')
        data = self.get("artist", {"query": f'artist:"{phrase}"', "limit": str(limit)})
        return objects((data or {}).get("artists"))

    def artist(self, mbid: str) -> dict[str, Any] | None:
        """``/artist/{mbid}?inc=genres+tags``, None if unknown (never known, or deleted). The
        body's ``id`` is the MBID the artist has now: another one when ``mbid`` was merged
        (MusicBrainz answers a merged MBID with the artist it was merged into)."""
        return self.get(f"artist/{quote(mbid, safe='')}", {"inc": "genres+tags"})


# ----- matching ------------------------------------------------------------------------------
def mbid_of(value: Any) -> str | None:
    """An answer's MBID: a string that is not blank, else None (an id of another type, 5 or
    {"x": 1}, was stored as the MBID "5" and asked of MusicBrainz and ListenBrainz later)."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def isrc_code(value: Any) -> str | None:
    """An ISRC as MusicBrainz looks it up: spaces and hyphens (any dash) dropped, upper case
    (Spotify's ``external_ids.isrc`` is sometimes "US-UAN-13-00012" or lower case; MusicBrainz
    answers those 400 "Invalid isrc."); None when what is left is not letters and digits."""
    if not isinstance(value, str):
        return None
    code = re.sub(schema.ISRC_SEPARATORS, "", value).upper()
    return code if code.isascii() and code.isalnum() else None


def match_isrc_credit(body: dict[str, Any] | None, name: str) -> str | None:
    """The MBID of the artist credited on any recording of an ISRC lookup whose credited or
    canonical name matches ``name`` (see ``normalise_name``); None when none does."""
    key = normalise_name(name)
    for recording in objects((body or {}).get("recordings")):
        for credit in objects(recording.get("artist-credit")):
            artist = mapping(credit.get("artist"))
            names = {n for n in (credit.get("name"), artist.get("name")) if isinstance(n, str)}
            if mbid_of(artist.get("id")) and key and key in {normalise_name(n) for n in names}:
                return mbid_of(artist.get("id"))
    return None


def choose_artist(hits: list[dict[str, Any]], name: str, min_score: int) -> tuple[str | None, str]:
    """Pick an MBID from name-search hits: ``(mbid, "found")``, ``(None, "miss")`` when the
    best score is below ``min_score`` or ``(None, "ambiguous")`` when several hits share the
    top score with different disambiguations and not exactly one has exactly ``name``."""
    scored = [(count(h.get("score")) or 0, {**h, "id": mbid_of(h.get("id"))})
              for h in objects(hits) if mbid_of(h.get("id"))]
    if not scored:
        return None, "miss"
    top = max(s for s, _ in scored)
    if top < min_score:
        return None, "miss"
    best = [h for s, h in scored if s == top]
    if len(best) == 1 or len({str(h.get("disambiguation") or "") for h in best}) == 1:
        return str(best[0]["id"]), "found"
    exact = [h for h in best if h.get("name") == name]
    if len(exact) == 1:
        return str(exact[0]["id"]), "found"
    return None, "ambiguous"


def genres_of(body: dict[str, Any] | None) -> tuple[list[str], list[int]]:
    """Genre names and vote counts of an artist lookup, most voted first; the (positive)
    tags, at most ``MAX_TAGS``, when the artist has no genres."""
    body = body or {}

    def ranked(items: list[dict[str, Any]]) -> list[tuple[str, int]]:
        pairs = [(i["name"].strip(), count(i.get("count")) or 0) for i in objects(items)
                 if isinstance(i.get("name"), str)]
        pairs = [(n, c) for n, c in pairs if n and c > 0]
        return sorted(pairs, key=lambda p: (-p[1], p[0]))

    pairs = ranked(body.get("genres")) or ranked(body.get("tags"))[:MAX_TAGS]
    return [n for n, _ in pairs], [c for _, c in pairs]


# ----- the enrichment run --------------------------------------------------------------------
@dataclass
class EnrichReport:
    """What one ``enrich_genres`` run did (counts of artists unless noted)."""

    candidates: int = 0  # library artists without Spotify genres and with a name
    already_known: int = 0  # looked up before (misses not yet due again included)
    looked_up: int = 0  # looked up in this run
    found: int = 0  # matched to a MusicBrainz artist
    with_genres: int = 0  # ... that has genres (or tags)
    by_isrc: int = 0
    by_name: int = 0
    misses: int = 0  # no match (includes ambiguous, and gone)
    ambiguous: int = 0
    rechecked: int = 0  # found before, asked again by MBID (their genres were due)
    merged: int = 0  # an MBID MusicBrainz answered with another one (merged into it)
    gone: int = 0  # a re-checked MBID MusicBrainz no longer knows (deleted): now a miss
    remaining: int = 0  # due but left for a later run by ``limit``
    requests: int = 0  # HTTP requests sent, retries included
    seconds: float = 0.0


def estimate_seconds(n_artists: int, rechecks: int = 0, *, rate: float) -> float:
    """Rough duration in seconds of looking up ``n_artists`` at ``rate`` requests/second, of
    which ``rechecks`` are re-checks by MBID (one request each)."""
    if n_artists <= 0:
        return 0.0
    return ((n_artists - rechecks) * REQUESTS_PER_ARTIST + rechecks) / rate


def library_artists(library: Library) -> pd.DataFrame:
    """Artists to enrich: ``artist_id, name, isrcs (list, sole/first-artist tracks first),
    n_tracks``; artists with Spotify genres or without a name are left out. Sorted by
    number of tracks (descending), so a ``limit`` covers the artists that matter most."""
    def text(value: Any) -> str | None:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return None
        return str(value).strip() or None

    tracks = library.frames["tracks"]
    n_tracks: dict[str, int] = {}
    track_name: dict[str, str] = {}
    isrcs: dict[str, list[tuple[int, str]]] = {}  # artist -> (position in credits, isrc)
    for ids, names, isrc in zip(tracks["artist_ids"], tracks["artist_names"], tracks["isrc"]):
        code = isrc_code(text(isrc))
        for pos, aid in enumerate(ids):
            aid = str(aid)
            n_tracks[aid] = n_tracks.get(aid, 0) + 1
            name = text(names[pos]) if pos < len(names) else None
            if name and aid not in track_name:
                track_name[aid] = name
            if code:
                isrcs.setdefault(aid, []).append((pos, code))
    art = library.frames["artists"]
    spotify_name = {str(a): text(n) for a, n in zip(art["artist_id"], art["name"])}
    has_genres = {str(a) for a, g in zip(art["artist_id"], art["genres"]) if len(g)}
    rows = []
    for aid in dict.fromkeys(list(spotify_name) + list(n_tracks)):
        name = spotify_name.get(aid) or track_name.get(aid)
        if aid in has_genres or not name:
            continue
        ordered = [i for _, i in sorted(isrcs.get(aid, []), key=lambda p: p[0])]  # stable
        rows.append((aid, name, list(dict.fromkeys(ordered)), n_tracks.get(aid, 0)))
    out = pd.DataFrame(rows, columns=["artist_id", "name", "isrcs", "n_tracks"])
    return out.sort_values("n_tracks", ascending=False, kind="stable").reset_index(drop=True)


def _setting(settings: Settings, key: str, check: Callable[[Any], bool], rule: str) -> Any:
    value = settings.enrich[key]
    if not check(value):
        origin = settings.sources.get(f"enrich.{key}", str(DEFAULT_FILE))
        raise ConfigError(f"{origin}: enrich.{key} {rule}, got {value!r}")
    return value


def paced_rate(settings: Settings, url: str | None = None) -> float:
    """The requests per second the client keeps to: ``enrich.rate``, but at least
    ``LOOPBACK_RATE`` towards a server on this machine (a stand-in or your own mirror: the
    1 request/s etiquette is musicbrainz.org's). ``url``: ``enrich.musicbrainz_url``, when
    the caller has it validated already."""
    url = url or _setting(settings, "musicbrainz_url", lambda v: str(v).startswith(("http://", "https://")),
                          "must be an http(s) URL")
    rate = _setting(settings, "rate", lambda v: v > 0, "must be positive")
    return max(rate, LOOPBACK_RATE) if urlsplit(url).hostname in LOOPBACK else rate


def client_from_settings(settings: Settings, notice: ContactNotice | None = None) -> MusicBrainzClient:
    """A MusicBrainzClient configured by the ``enrich`` section (validated). ``notice``: the
    run's one missing-contact warning, shared with its other open-data clients (default: its own)."""
    # enrich.user_agent and enrich.contact are checked as the settings are read (config._validate)
    url = _setting(settings, "musicbrainz_url", lambda v: str(v).startswith(("http://", "https://")),
                   "must be an http(s) URL")
    client = MusicBrainzClient(
        url, user_agent(settings),
        rate=paced_rate(settings, url),
        timeout=_setting(settings, "timeout", lambda v: v > 0, "must be positive"),
        max_retries=_setting(settings, "max_retries", lambda v: v >= 0, "must not be negative"),
        max_retry_wait=_setting(settings, "max_retry_wait", lambda v: v >= 0, "must not be negative"),
    )
    client.contact_notice = (notice or ContactNotice()) if needs_contact(settings, url) else None
    return client


def _stored_mbid(row: dict[str, Any] | None) -> str | None:
    """The MBID a stored row found (None for a miss, or no row)."""
    mbid = (row or {}).get("mbid")
    return mbid if isinstance(mbid, str) and mbid else None


def _is_due(row: dict[str, Any], today: date, retry_days: int, refresh_days: int) -> bool:
    """A stored row is asked again when old enough: a miss or one without genres after
    ``retry_days``, one with genres after ``refresh_days``."""
    miss = row.get("miss")
    found = not (False if pd.isna(miss) else bool(miss)) and len(row.get("genres") or [])
    # by dates (the day looked up, today where you are): an unreadable one is due
    return not younger_than(str(row["looked_up"])[:10], refresh_days if found else retry_days, today)


def look_up_artist(client: MusicBrainzClient, name: str, isrcs: list[str],
                   min_score: int) -> tuple[str | None, str]:
    """MBID of one artist and how it was found: ``"isrc"``, ``"name"``, ``"ambiguous"``
    or ``"miss"``. Asks one ISRC (the first), then the name search."""
    for isrc in isrcs[:1]:
        mbid = match_isrc_credit(client.isrc(isrc), name)
        if mbid:
            return mbid, "isrc"
    mbid, outcome = choose_artist(client.search_artists(name), name, min_score)
    return (mbid, "name") if mbid else (None, outcome)


def _stored_rows(store: Store) -> dict[str, dict[str, Any]]:
    stored = store.load_frame("artist_genres")
    return _rows(schema.empty_frame("artist_genres") if stored is None else stored)


def _rows(stored: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {str(r["artist_id"]): r for r in stored.to_dict("records")}


def _due(artists: pd.DataFrame, rows: dict[str, dict[str, Any]], today: date, retry_days: int,
         refresh_days: int) -> pd.DataFrame:
    mask = [aid not in rows or _is_due(rows[aid], today, retry_days, refresh_days) for aid in artists["artist_id"]]
    return artists.loc[pd.Series(mask, index=artists.index, dtype=bool)]  # [] alone selects columns


def _ages(settings: Settings) -> tuple[int, int]:
    """(``enrich.retry_misses_days``, ``enrich.refresh_days``), checked."""
    return (_setting(settings, "retry_misses_days", lambda v: v >= 0, "must not be negative"),
            _setting(settings, "refresh_days", lambda v: v >= 0, "must not be negative"))


def due_counts(library: Library, store: Store, settings: Settings, limit: int | None = None,
               today: date | None = None, stored: pd.DataFrame | None = None) -> tuple[int, int]:
    """(artists ``enrich_genres`` would look up now, how many of them are re-checks by MBID), for
    the CLI's time estimate: ``estimate_seconds(*due_counts(...), rate=settings.enrich.rate)``.
    ``stored``: the ``artist_genres`` frame ``store`` holds now, when the caller has read it
    (None: it is read here; ``library``'s may be older than the store's)."""
    rows = _stored_rows(store) if stored is None else _rows(stored)
    due = _due(library_artists(library), rows, today or local_today(), *_ages(settings))
    aids = list(due["artist_id"] if limit is None else due["artist_id"].iloc[:limit])
    return len(aids), sum(_stored_mbid(rows.get(a)) is not None for a in aids)


@dataclass
class _GenreLookups:
    """One `recommend enrich` run's look-ups: the stored rows (artist id -> row) it renews, what it
    found (``report``), the answers' cache (its notes of merged MBIDs serve discovery), and the
    artists whose row another artist's look-up renewed in this run (``settled``)."""

    client: MusicBrainzClient
    cache: Any
    rows: dict[str, dict[str, Any]]
    report: EnrichReport
    today: date
    min_score: float
    settled: set[str] = field(default_factory=set)

    def look_up(self, artist: Any) -> None:
        """One artist (a row of ``library_artists``) looked up, its row renewed and counted."""
        if artist.artist_id in self.settled:  # renewed by the lookup of the MBID it shared: no request
            row, how = self.rows[artist.artist_id], "recheck"
        else:
            row, how = self._ask(artist)
        mbid, genres = row["mbid"], row["genres"]
        report = self.report
        report.looked_up += 1
        if mbid:
            report.found += 1
            report.with_genres += bool(genres)
            report.by_isrc += how == "isrc"
            report.by_name += how == "name"
        else:
            report.misses += 1
            report.ambiguous += how == "ambiguous"
        log.debug("MusicBrainz: %s -> %s (%s) %s", artist.name, mbid, how, genres[:3])

    def _ask(self, artist: Any) -> tuple[dict[str, Any], str]:
        """Look one artist up; its new row and how it was found."""
        known = _stored_mbid(self.rows.get(artist.artist_id))
        if known:  # found before: its MBID alone is asked again (merged since? deleted?)
            self.report.rechecked += 1
            mbid, how = current_artist(self.cache, known), "recheck"
        else:
            mbid, how = look_up_artist(self.client, artist.name, artist.isrcs, self.min_score)
        genres: list[str] = []
        counts: list[int] = []
        now = mbid
        if mbid:
            body = self.client.artist(mbid)
            if body is None:  # unknown to the lookup (deleted, or a search index behind it): a miss
                self.report.gone += how == "recheck"
                now, how = None, "miss"
            else:
                genres, counts = genres_of(body)
                now = mbid_of(body.get("id")) or mbid  # another id: mbid was merged into it
        row = {"artist_id": artist.artist_id, "mbid": now, "genres": genres, "counts": counts,
               "looked_up": self.today.isoformat(), "miss": now is None}
        self.rows[artist.artist_id] = row
        for old in dict.fromkeys((known, mbid)):
            if now and old and old != now:
                self._merged(old, now, row)
        return row, how

    def _merged(self, old: str, new: str, row: dict[str, Any]) -> None:
        """``old`` was merged into ``new``: every row that held it takes ``row``'s answer."""
        self.report.merged += 1
        note_merge(self.cache, old, new)
        log.info("MusicBrainz: artist %s was merged into %s", old, new)
        for aid, other in self.rows.items():
            if _stored_mbid(other) == old:
                self.rows[aid] = {**row, "artist_id": aid}
                self.settled.add(aid)


def enrich_genres(library: Library, store: Store, settings: Settings, limit: int | None = None,
                  progress: Progress | None = None, client: MusicBrainzClient | None = None,
                  today: date | None = None) -> EnrichReport:
    """Look up the genres of the library's artists not looked up yet; save ``artist_genres``.

    ``limit`` caps the number of artists asked in this run (the most-played first).
    ``progress(done, total, eta_seconds)`` is called after each artist. Raises
    MusicBrainzError when MusicBrainz keeps failing (what was found so far is saved).
    """
    min_score = _setting(settings, "min_score", lambda v: 0 <= v <= 100, "must be between 0 and 100")
    save_every = _setting(settings, "save_every", lambda v: v >= 1, "must be at least 1")
    ages = _ages(settings)
    if limit is not None and limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    client = client or client_from_settings(settings)
    today = today or local_today()
    started = client.clock()
    sent_before = client.requests_sent

    rows = _stored_rows(store)
    artists = library_artists(library)
    due = _due(artists, rows, today, *ages)
    todo = due if limit is None else due.iloc[:limit]
    report = EnrichReport(candidates=len(artists), already_known=len(artists) - len(due),
                          remaining=len(due) - len(todo))
    total = len(todo)
    log.info("MusicBrainz: %d artists to look up (%d known, %d left for later)",
             total, report.already_known, report.remaining)

    def save() -> None:
        frame = pd.DataFrame(list(rows.values()), columns=list(schema.FRAMES["artist_genres"]))
        store.save_frame("artist_genres", frame)

    lookups = _GenreLookups(client, answer_cache(settings, store.frames_dir), rows, report, today, min_score)

    unsaved = 0
    try:
        for done, artist in enumerate(todo.itertuples(index=False), start=1):
            lookups.look_up(artist)
            unsaved += 1
            if unsaved >= save_every:
                save()
                unsaved = 0
            if progress is not None:
                elapsed = client.clock() - started
                progress(done, total, elapsed / done * (total - done))
    except MusicBrainzError as exc:
        if not exc.unreachable:
            raise
        # a wrong port or host named the URL alone: said as discovery says it, with where it was set
        from ..wording import configured_at
        key = "enrich.musicbrainz_url"
        told = f" (from {settings.sources[key]})" if configured_at(settings, key) else ""
        said = MusicBrainzError(f"{exc}; no server answered there: this computer is offline, MusicBrainz is down, or "
                                f"{key}{told} names the wrong address", exc.status, exc.service)
        said.unreachable = True
        raise said from None
    finally:
        if unsaved:
            save()
        lookups.cache.close()
        report.requests = client.requests_sent - sent_before
        report.seconds = client.clock() - started
    return report
