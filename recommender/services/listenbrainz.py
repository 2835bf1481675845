"""ListenBrainz + labs client (the contract of LISTENBRAINZ.md), every answer TTL-cached.

``OpenData`` bundles what discovery needs: the ListenBrainz API and labs clients (shared HTTP
layer, one request budget), the MusicBrainz client for ISRC look-ups and the answer cache.
Each method returns plain Python values and caches misses too. Errors are ``ServiceError``
naming the service; an unknown similarity algorithm (labs answers 400) names its config key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import ConfigError
from .cache import MISSING, AnswerCache, answer_cache, current_artist
from ..safetext import header_safe
from .http import (Budget, ContactNotice, JsonService, ServiceError, count, ids, mapping, needs_contact, number,
                   objects, user_agent)

log = logging.getLogger(__name__)

LABS = "ListenBrainz labs"
API = "ListenBrainz"
# The ListenBrainz API endpoints discovery asks (a 401 of one stops only that one: OpenData._call)
TOP_RECORDINGS, LB_RADIO, POPULARITY = "top recordings", "lb-radio", "listen counts"


# Artists similar to almost everyone on ListenBrainz, and the factor their similarity score is
# multiplied by: ListenBrainz's own lb-radio knocks them down so (listenbrainz-server
# admin/timescale/insert_default_data.sql, similarity.overhyped_artists, used by
# db/lb_radio_artist.py), as troi does to labs' similar-artists answers (troi-recommendation-
# playground troi/content_resolver/artist_search.py OVERHYPED_SIMILAR_ARTISTS); labs answers them raw.
OVERHYPED = dict.fromkeys((
    "b10bbbfc-cf9e-42e0-be17-e2c3e1d2600d",  # The Beatles
    "83d91898-7763-47d7-b03b-b92132375c47",  # Pink Floyd
    "a74b1b7f-71a5-4011-9441-d0b5e4122711",  # Radiohead
    "8bfac288-ccc5-448d-9573-c33ea2aa5c30",  # Red Hot Chili Peppers
    "9c9f1380-2516-4fc9-a3e6-f9f61941d090",  # Muse
    "cc197bad-dc9c-440d-a5b5-d52ba2e14234",  # Coldplay
    "65f4f0c5-ef9e-490c-aee3-909e7ae6b2ab",  # Metallica
    "5b11f4ce-a62d-471e-81fc-a69a8278c7da",  # Nirvana
    "f59c5520-5f46-4d2c-b2c4-822eabf53419",  # Linkin Park
    "cc0b7089-c08d-4c10-b6b0-873582c17fd6",  # System of a Down
    "ebfc1398-8d96-47e3-82c3-f782abcdb13d",  # The Beach Boys
    "ba0d6274-db14-4ef5-b28d-657ebde1a396",  # The Smashing Pumpkins
    "87c5dedd-371d-4a53-9f7f-80522fb7f3cb",  # Björk
    "5441c29d-3602-4898-b1a1-b77fa23b8e50",  # David Bowie
    "69ee3720-a7cb-4402-b48d-a02c366f2bcf",  # The Cure
    "ea4dfa26-f633-4da6-a52a-f49ea4897b58",  # R.E.M.
), 0.3)


def first_once(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """``rows`` in their order, each ``key`` MBID once (its first row): a merged MBID comes back
    under the one it was merged into, next to that one's own row (ListenBrainz and labs look
    the MBIDs they stored up "with redirects")."""
    first: dict[str, dict[str, Any]] = {}
    for r in rows:
        first.setdefault(str(r[key]), r)
    return list(first.values())


def best_once(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Labs similarity rows best score first (stable: the service's order on ties), each MBID
    once (``first_once``)."""
    return first_once(sorted(rows, key=lambda r: -number(r.get("score"))), key)


def _check_token(settings) -> None:
    """A ``listenbrainz.token`` an HTTP header cannot carry (a line break of a pasted token,
    letters beyond Latin-1) is a config error naming the key, before any request: http.client
    refused it as a header injection, retried as a network failure. Its value is never shown."""
    token = settings.listenbrainz.token
    if token and not header_safe(str(token)):
        from ..config import DEFAULT_FILE
        origin = settings.sources.get("listenbrainz.token", str(DEFAULT_FILE))
        raise ConfigError(f"{origin}: listenbrainz.token goes in the Authorization header of ListenBrainz requests: "
                          "write it as your ListenBrainz settings page shows it, on one line, without control "
                          "characters or letters an HTTP header cannot carry (the value is not shown here)")


# each service's address setting, as messages name it
ADDRESS_KEYS = {API: "listenbrainz.api_url", LABS: "listenbrainz.labs_url", "MusicBrainz": "enrich.musicbrainz_url"}


@dataclass
class OpenData:
    """Clients + cache of one run. Build with ``from_settings``; call ``close()`` at the end."""

    api: JsonService
    labs: JsonService
    musicbrainz: Any  # enrich.musicbrainz.MusicBrainzClient
    cache: AnswerCache
    budget: Budget
    similar_artists_algorithm: str
    similar_recordings_algorithm: str
    requests_by_service: dict[str, int] = field(default_factory=dict)
    failure: ServiceError | None = None  # the first failure of this run
    # ListenBrainz's 401 per endpoint: only that endpoint stops asking (TOP_RECORDINGS wants a
    # user token since August 2026; lb-radio and listen counts do not)
    refusals: dict[str, ServiceError] = field(default_factory=dict)
    # the ISRCs MusicBrainz was asked this run: known, and the unknown ones (``unknown_isrcs_note``)
    isrc_known: int = 0
    isrc_unknown: list[str] = field(default_factory=list)
    # the Spotify artists this run found no MBID for from those answers (``Resolver.artist_mbid``)
    artist_misses: list[str] = field(default_factory=list)
    # config key -> where it was set (a config file, an environment variable) when it was set, as
    # ``Settings.sources`` says (``wording.configured_at``): a 401 or an unreachable address names it
    set_from: dict[str, str] = field(default_factory=dict)

    def unknown_isrcs_note(self, at_least: int = 10) -> str | None:
        """When MusicBrainz knew none of ``at_least`` or more ISRCs asked this run (an address that
        is not its /ws/2/ answers every one 404, as an unknown ISRC is answered, or 200 with
        JSON of another shape): a warning naming enrich.musicbrainz_url, and those answers are
        not kept (they were, as "unknown", for 30 days, after the address was mended too), nor
        the artists found without an MBID from them (similar artists asked nothing for those
        artists until then). None otherwise, and always of musicbrainz.org's own address, whose
        404 is an ISRC it does not know (a library of little-known releases had its misses asked
        again, and warned about, every night)."""
        from ..config import is_musicbrainz_org
        if self.isrc_known or len(self.isrc_unknown) < at_least or is_musicbrainz_org(self.musicbrainz.base_url):
            return None
        asked = set(self.isrc_unknown)
        self.cache.drop("isrc", asked.__contains__)
        self.cache.drop("artists", set(self.artist_misses).__contains__)
        return (f"MusicBrainz knew none of the {len(asked)} ISRCs asked (none found to start from): if "
                f"enrich.musicbrainz_url ({self.musicbrainz.base_url}) is not MusicBrainz's /ws/2/ address, "
                "mend it; they are asked again next time")

    @classmethod
    def from_settings(cls, settings, cache_dir: Path | None = None, budget: Budget | None = None,
                      notice: ContactNotice | None = None, ask: bool = True) -> "OpenData":
        """The three clients of a run (``notice``: the run's one missing-contact warning, when
        the run has other open-data clients; default: one for these three). ``ask`` False:
        clients that answer from the cache alone and write nothing to it (a dry run while
        another run holds the run lock): a budget of 0 stops the first question the cache
        cannot answer, and then every other (``_call``), and the cache is read-only."""
        from ..enrich.musicbrainz import client_from_settings
        lb = settings.listenbrainz
        d = settings.discovery
        _check_token(settings)
        budget = Budget(0, "a dry run beside a run holding the run lock asks nothing") if not ask \
            else budget or Budget(int(d.request_budget), seconds=float(d.max_seconds))
        ua = user_agent(settings)  # with enrich.contact: ListenBrainz asks for one too since August 2026
        headers = {"Authorization": f"Token {lb.token}"} if lb.token else {}
        common = dict(timeout=float(lb.timeout), max_retries=int(lb.max_retries),
                      max_retry_wait=float(lb.max_retry_wait), long_wait="stop", budget=budget,
                      missing_is_none=False)
        api = JsonService(lb.api_url, ua, name=API, headers=headers, **common)
        # labs is slow by design: a query that timed out is asked once more, not max_retries
        # times (at the default 30 s timeout and 2 retries a cron run waited about 93 s to give up)
        labs = JsonService(lb.labs_url, ua, name=LABS, timeout_retries=min(1, int(lb.max_retries)), **common)
        notice = notice or ContactNotice()  # one warning for the three services
        mb = client_from_settings(settings, notice)
        mb.budget = budget
        # a wait MusicBrainz asks for beyond enrich.max_retry_wait stops the step, as ListenBrainz's
        # does (`enrich genres` cuts it instead): a 503 with Retry-After 1000 held a run 3 x 30 s
        mb.long_wait = "stop"
        for client in (api, labs):
            client.contact_notice = notice if needs_contact(settings, client.base_url) else None
        cache = answer_cache(settings, cache_dir)
        cache.read_only = not ask
        from ..wording import configured_at
        return cls(api, labs, mb, cache, budget, lb.similar_artists_algorithm, lb.similar_recordings_algorithm,
                   set_from={k: settings.sources[k] for k in ADDRESS_KEYS.values() if configured_at(settings, k)})

    def close(self) -> None:
        self.cache.close()

    @property
    def requests(self) -> int:
        return self.budget.used

    # ----- endpoints -------------------------------------------------------------------
    def refused(self, endpoint: str) -> bool:
        """True when ListenBrainz answered this run's ``endpoint`` (``TOP_RECORDINGS``,
        ``LB_RADIO``, ``POPULARITY``) 401: it asks for a user token, or refused ours."""
        return endpoint in self.refusals

    def _call(self, request, *args: Any, endpoint: str = "", **kw: Any) -> Any:
        """One request; after a first failure every uncached question fails at once (the
        sources go on with what the cache knows). A 401 of the ListenBrainz API (no user
        token, or a refused one) stops only that ``endpoint``'s questions: since August 2026
        its artists' top recordings want a token, while lb-radio and listen counts do not, and
        labs and MusicBrainz need none, so similar tracks and artists are still found."""
        if self.failure is not None:
            raise self.failure
        to_api = getattr(request, "__self__", None) is self.api
        if to_api and endpoint in self.refusals:
            raise self.refusals[endpoint]
        try:
            return request(*args, **kw)
        except ServiceError as exc:
            if exc.status == 401 and to_api:
                # "may require Authorization: Token" (since 2026 an artist's top recordings
                # do): say which setting gives one
                told = "refused the user token" if "Authorization" in self.api.extra_headers else "asks for a user token"
                # an address of your own (a wrong one answers 401 too): named, and that it may be the cause
                key = ADDRESS_KEYS[API]
                where = (f"; or the address {self.api.base_url.rstrip('/')} ({key}, from {self.set_from[key]}) is not "
                         f"ListenBrainz's API: mend {key}" if key in self.set_from else "")
                self.refusals[endpoint] = ServiceError(
                    f"{API} {told} for {endpoint or 'its API'} (HTTP 401): set listenbrainz.token or "
                    f"LISTENBRAINZ_TOKEN to the token of your ListenBrainz account's settings page{where}", 401, API)
                raise self.refusals[endpoint] from None
            if exc.status == 404:
                # ListenBrainz and labs answer an unknown MBID with an empty list: a 404 is a
                # wrong address (or a retired endpoint); kept as "nothing found" it would hide
                # every discovery for a week, and still after the address is mended
                key = "labs_url" if exc.service == LABS else "api_url"
                exc = ServiceError(f"{exc}: check listenbrainz.{key}", 404, exc.service)
            elif exc.unreachable:  # a wrong port or host named the URL alone; an outage or no network reads the same
                key = ADDRESS_KEYS.get(exc.service, "enrich.musicbrainz_url")
                told = f" (from {self.set_from[key]})" if key in self.set_from else ""  # where you set it
                exc = ServiceError(f"{exc}; no server answered there: this computer is offline, the service is down, "
                                   f"or {key}{told} names the wrong address", None, exc.service)
            self.failure = exc
            raise exc from None

    def _rows(self, body: Any, key: str, service: str) -> list[dict[str, Any]]:
        """The rows of a list answer that carry ``key``. An answer of rows none of which does (a
        field renamed) is a failure of the service, not "nothing found": kept, it hid that
        discovery for the answers' days, and the next run asked nothing, the service mended."""
        rows = [r for r in body or [] if isinstance(r, dict) and r.get(key)]
        if body and not rows:
            self.failure = ServiceError(f"{service} answered with rows of another shape (none has {key!r})",
                                        None, service)
            raise self.failure
        return rows

    def _similarity(self, method: str, path: str, key: str, **kw: Any) -> Any:
        """A labs similarity request; its 400 (unknown algorithm) names the config key. The
        run's stored first failure, raised again by ``_call``, is kept as it is (a 400 of the
        other similarity endpoint, or of lb-radio, is not this key's)."""
        earlier = self.failure
        try:
            return self._call(self.labs.request, method, path, accept=list, **kw)
        except ServiceError as exc:
            if exc.status == 400 and earlier is None:
                self.failure = ServiceError(f"{LABS} does not know the algorithm {getattr(self, key)!r} "
                                            f"(listenbrainz.{key})", 400, LABS)
                raise self.failure from None
            raise

    def current(self, mbid: str) -> str:
        """The artist MBID to ask ListenBrainz and labs with: the one ``mbid`` was merged into,
        when a MusicBrainz lookup said so (``note_merge``), else ``mbid``."""
        return current_artist(self.cache, mbid)

    def similar_artists(self, mbid: str) -> list[dict[str, Any]]:
        """Similar artists of one artist MBID, best first: ``{"mbid", "name", "score"}``."""
        mbid = self.current(mbid)
        key = f"{self.similar_artists_algorithm}:{mbid}"
        hit = self.cache.get("similar_artists", key)
        if hit is not MISSING:
            return hit
        body = self._similarity("GET", "similar-artists/json", "similar_artists_algorithm",
                                params={"artist_mbids": mbid, "algorithm": self.similar_artists_algorithm})
        rows = self._rows(body, "artist_mbid", LABS)
        rows = [r for r in rows if r.get("reference_mbid") in (None, mbid)]
        # an overhyped artist's score is knocked down first, as lb-radio does (OVERHYPED)
        rows = [{**r, "score": number(r.get("score")) * OVERHYPED.get(str(r["artist_mbid"]), 1.0)} for r in rows]
        out = [{"mbid": str(r["artist_mbid"]), "name": str(r.get("name") or ""), "score": r["score"]}
               for r in best_once(rows, "artist_mbid") if str(r["artist_mbid"]) != mbid]
        self.cache.put("similar_artists", key, out)
        return out

    def top_recordings(self, artist_mbid: str) -> list[dict[str, Any]]:
        """Popular recordings of an artist, most listened first:
        ``{"mbid", "name", "artist", "artist_mbids", "listens", "users"}``."""
        artist_mbid = self.current(artist_mbid)
        hit = self.cache.get("top_recordings", artist_mbid)
        if hit is not MISSING:
            return hit
        path = f"popularity/top-recordings-for-artist/{quote(artist_mbid, safe='')}"
        body = self._call(self.api.request, "GET", path, accept=list, endpoint=TOP_RECORDINGS)
        rows = self._rows(body, "recording_mbid", API)
        out = [{"mbid": str(r["recording_mbid"]), "name": str(r.get("recording_name") or ""),
                "artist": str(r.get("artist_name") or ""), "artist_mbids": ids(r.get("artist_mbids")),
                "listens": count(r.get("total_listen_count")), "users": count(r.get("total_user_count"))}
               for r in first_once(rows, "recording_mbid")]
        self.cache.put("top_recordings", artist_mbid, out)
        return out

    def lb_radio(self, mbid: str, artists: int, recordings: int) -> list[dict[str, Any]]:
        """The similar artists of an artist MBID with some of their popular recordings, in one
        request (``lb-radio/artist``, mode easy, popularity 0-100), in the answer's order, the
        seed artist left out: ``{"mbid", "name", "recordings": [{"mbid", "artist_mbids",
        "listens"}]}``. The answer has no similarity score (and its contract promises no order)."""
        mbid = self.current(mbid)
        key = f"easy:{artists}:{recordings}:{mbid}"
        hit = self.cache.get("lb_radio", key)
        if hit is not MISSING:
            return hit
        path = f"lb-radio/artist/{quote(mbid, safe='')}"
        body = self._call(self.api.request, "GET", path, accept=dict, endpoint=LB_RADIO,
                          params={"mode": "easy", "max_similar_artists": artists,
                                  "max_recordings_per_artist": recordings, "pop_begin": 0, "pop_end": 100})
        by_artist = {other: objects(rows) for other, rows in (body or {}).items()}
        # rows none of which has its key (a field renamed) are a failure, not "no similar artists"
        self._rows([r for rows in by_artist.values() for r in rows], "recording_mbid", API)
        out = []
        for other, rows in by_artist.items():
            rows = [r for r in rows if r.get("recording_mbid")]
            if str(other) == mbid or not rows:
                continue
            name = next((str(r["similar_artist_name"]) for r in rows if r.get("similar_artist_name")), "")
            out.append({"mbid": str(other), "name": name,
                        "recordings": [{"mbid": str(r["recording_mbid"]), "artist_mbids": [str(other)],
                                        "listens": count(r.get("total_listen_count"))} for r in rows][:recordings]})
        out = out[:artists]
        self.cache.put("lb_radio", key, out)
        return out

    def similar_recordings(self, mbid: str) -> list[dict[str, Any]]:
        """Similar recordings of one recording MBID, best first:
        ``{"mbid", "name", "artist", "artist_mbids", "score"}``."""
        key = f"{self.similar_recordings_algorithm}:{mbid}"
        hit = self.cache.get("similar_recordings", key)
        if hit is not MISSING:
            return hit
        body = self._similarity("POST", "similar-recordings/json", "similar_recordings_algorithm",
                                json=[{"recording_mbids": [mbid], "algorithm": self.similar_recordings_algorithm}])
        rows = self._rows(body, "recording_mbid", LABS)
        out = [{"mbid": str(r["recording_mbid"]), "name": str(r.get("recording_name") or ""),
                "artist": str(r.get("artist_credit_name") or ""),
                "artist_mbids": ids(r.get("artist_credit_mbids")),
                "score": number(r.get("score"))}
               for r in best_once(rows, "recording_mbid") if str(r["recording_mbid"]) != mbid]
        self.cache.put("similar_recordings", key, out)
        return out

    def canonical_recordings(self, mbids: list[str], chunk: int = 100) -> dict[str, str]:
        """The recording MBID ListenBrainz keeps the listens of each recording MBID under (labs
        ``recording-mbid-lookup``: MusicBrainz's redirect of a merged one, then its canonical
        recording), else the MBID itself. ListenBrainz maps listens to one canonical recording
        per artist credit and title (listenbrainz-server mbid_mapping canonical_musicbrainz_data.py),
        so its similar recordings are computed between canonical MBIDs and labs looks the asked
        MBID up as given (db/similarity.py ``get``): an ISRC's recording that is not the canonical
        one (another release's copy of the song) has no similar recordings of its own."""
        def fetch(part: list[str]) -> dict[str, str]:
            body = self._call(self.labs.request, "POST", "recording-mbid-lookup/json", accept=list,
                              json=[{"recording_mbid": mb} for mb in part])
            found: dict[str, str] = {}
            for r in self._rows(body, "original_recording_mbid", LABS):
                now = r.get("canonical_recording_mbid") or r.get("recording_mbid")
                if now:
                    found.setdefault(str(r["original_recording_mbid"]), str(now))
            return found
        got = self._batch("canonical", mbids, chunk, fetch)
        return {mb: str(now or mb) for mb, now in got.items()}

    def _batch(self, kind: str, mbids: list[str], chunk: int, fetch, note=None) -> dict[str, Any]:
        """Cached answer per MBID; the uncached ones are asked ``chunk`` at a time with
        ``fetch(mbids) -> {mbid: answer}`` (absent = None, cached as a miss too). ``note``: a
        failure is given to it and the MBIDs not asked are left out, the answers had kept (one
        uncached MBID of a budget spent dropped every cached answer of the batch); without it,
        raised."""
        out: dict[str, Any] = {}
        todo = []
        for mb in dict.fromkeys(mbids):
            hit = self.cache.get(kind, mb)
            if hit is MISSING:
                todo.append(mb)
            else:
                out[mb] = hit
        for start in range(0, len(todo), chunk):
            part = todo[start:start + chunk]
            try:
                got = fetch(part)
            except ServiceError as exc:
                if note is None:
                    raise
                note(exc)
                break
            for mb in part:
                out[mb] = got.get(mb)
                self.cache.put(kind, mb, out[mb])
        return out

    def spotify_ids(self, mbids: list[str], chunk: int = 100) -> dict[str, str | None]:
        """Spotify track id of each recording MBID (None when the mapping has none): the first
        of ``spotify_id_lists``."""
        return {mb: ids[0] if ids else None for mb, ids in self.spotify_id_lists(mbids, chunk).items()}

    def spotify_id_lists(self, mbids: list[str], chunk: int = 100, note=None) -> dict[str, list[str] | None]:
        """The Spotify track ids the mapping lists for each recording MBID, in its order (other
        releases of the same recording; None when it has none), matched by ``recording_mbid``
        (the service leaves unresolvable ones out). A cache entry of an older version holds
        the first id alone, as a string: it reads as a list of one. ``note``: as ``_batch``'s
        (an MBID not asked is left out)."""
        def fetch(part: list[str]) -> dict[str, list[str]]:
            body = self._call(self.labs.request, "POST", "spotify-id-from-mbid/json", accept=list,
                              json=[{"recording_mbid": mb} for mb in part])
            found: dict[str, list[str]] = {}
            for r in self._rows(body, "recording_mbid", LABS):
                spotify = [i for i in ids(r.get("spotify_track_ids")) if i]
                if spotify:
                    found.setdefault(str(r["recording_mbid"]), list(dict.fromkeys(spotify)))
            return found
        got = self._batch("spotify_ids", mbids, chunk, fetch, note)
        return {mb: [kept] if isinstance(kept, str) else (list(kept) if kept else None) for mb, kept in got.items()}

    def popularity(self, mbids: list[str], chunk: int = 1000, note=None) -> dict[str, tuple[int | None, int | None]]:
        """(total listen count, total user count) per recording MBID; (None, None) if unknown.
        ``note``: as ``_batch``'s (an MBID not asked is left out)."""
        def fetch(part: list[str]) -> dict[str, list]:
            body = self._call(self.api.request, "POST", "popularity/recording", json={"recording_mbids": part},
                              accept=list, endpoint=POPULARITY)
            return {str(r["recording_mbid"]): [count(r.get("total_listen_count")), count(r.get("total_user_count"))]
                    for r in self._rows(body, "recording_mbid", API)}
        got = self._batch("popularity", mbids, chunk, fetch, note)
        return {mb: (v[0], v[1]) if v else (None, None) for mb, v in got.items()}

    def isrc(self, isrc: str) -> dict[str, Any] | None:
        """MusicBrainz's ``/isrc/{isrc}`` answer (cached; None = unknown ISRC, or no ISRC at all)."""
        from ..enrich.musicbrainz import isrc_code
        key = isrc_code(isrc)
        if key is None:
            return None
        hit = self.cache.get("isrc", key)
        if hit is not MISSING:
            return slim_isrc(hit)  # (one kept before its values were read leniently, too)
        body = self._call(self.musicbrainz.isrc, key)
        slim = slim_isrc(body)
        if slim is not None:
            self.isrc_known += 1
        else:  # unknown (404), or an answer of another shape (not MusicBrainz: ``unknown_isrcs_note``)
            self.isrc_unknown.append(key)
        self.cache.put("isrc", key, slim)
        return slim


def slim_isrc(body: Any) -> dict[str, Any] | None:
    """What discovery reads of MusicBrainz's ``/isrc/`` answer (None: no recording with an id),
    read leniently: a title or name that is no string, a length that is no whole number of at
    least 0 (a "5:01", a list), is none; such a value crashed the run (exit 1), every run, as
    the answer was kept before it was read."""
    recordings = body.get("recordings") if isinstance(body, dict) else None
    if not isinstance(recordings, list) or not any(isinstance(r, dict) and r.get("id") for r in recordings):
        return None

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) else None

    return {"recordings": [{"id": str(r["id"]), "title": text(r.get("title")), "length": count(r.get("length")),
                            "artist-credit": [{"name": text(c.get("name")), "artist": {
                                "id": text(mapping(c.get("artist")).get("id")),
                                "name": text(mapping(c.get("artist")).get("name"))}}
                                for c in objects(r.get("artist-credit"))]}
                           for r in recordings if isinstance(r, dict) and r.get("id")]}
