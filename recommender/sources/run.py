"""Run the open-data sources during a refresh and fold what they found into the Library."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import schema
from ..library import Library, isin
from ..services.http import BudgetExhausted, ServiceError
from ..services.listenbrainz import LB_RADIO, TOP_RECORDINGS
from .base import Context, Found, Progress, Resolver
from .similar_artists import SimilarArtists
from .similar_recordings import SimilarRecordings

log = logging.getLogger(__name__)


@dataclass
class DiscoveryReport:
    track_ids: set[str] = field(default_factory=set)  # new tracks found by the open-data sources (with metadata)
    by_source: dict[str, int] = field(default_factory=dict)
    requests: int = 0  # requests sent (open data + Spotify look-ups)
    requests_by_service: dict[str, int] = field(default_factory=dict)
    # source name -> service -> requests it sent itself; "shared": listen counts and the new
    # tracks' Spotify look-ups, asked once for every source's finds together
    requests_by_source: dict[str, dict[str, int]] = field(default_factory=dict)
    cached_answers: int = 0
    warnings: list[str] = field(default_factory=list)
    # a service failed (not the budget, not ListenBrainz's refusal for want of a token): the step
    # did not ask all it meant to, so its finds are fewer than a day's (``jobs.discover``)
    failed: bool = False
    # the sources that asked all they meant to (no service failed them, nor before them): the
    # last discovery's finds of these are not kept beside theirs (``jobs.discover``)
    finished: list[str] = field(default_factory=list)
    # the step's ``OpenData`` (budget, first failure, refusals, answers read): a later step of
    # the same run (a ``--seed-playlist`` run's own discovery) goes on with it
    open_data: Any = field(default=None, repr=False)

    @property
    def tracks(self) -> int:
        """How many new tracks the open-data sources found (two sources finding one: once)."""
        return len(self.track_ids)


def seed_artists(library: Library, seed_tracks: pd.Series) -> list[str]:
    """Spotify artist ids: top artists (best rank first), followed artists, then the artists
    of the seed tracks by summed seed weight."""
    return list(dict.fromkeys(library.your_artists() + artists_of_seeds(library, seed_tracks)))


def artists_of_seeds(library: Library, seed_tracks: pd.Series) -> list[str]:
    """Spotify artist ids of the seed tracks' first artists, by summed seed weight (ties: in
    the seeds' order): a ``--seed-playlist`` run's seed artists, that playlist's main artists."""
    weight: dict[str, float] = {}
    tracks = library.frames["tracks"].set_index("track_id")
    for tid, w in seed_tracks.items():
        if tid in tracks.index:
            for a in list(tracks.at[tid, "artist_ids"])[:1]:
                weight[str(a)] = weight.get(str(a), 0.0) + float(w)
    return sorted(weight, key=lambda a: -weight[a])


def _no_progress(stage: str, done: int, total: int | None) -> None:
    pass


def discover_open_data(library: Library, settings, gateway=None, progress: Progress | None = None,
                       open_data=None, seed_tracks: pd.Series | None = None,
                       seed_artist_ids: list[str] | None = None, notice=None,
                       keep: bool = False, on: dict[str, bool] | None = None) -> tuple[Library, DiscoveryReport]:
    """Run the enabled open-data sources; return the library with the ``discovered``,
    ``recordings``, ``similar_artists`` and ``similar_tracks`` frames and the new tracks'
    metadata added, and a report. The frames hold this run's finds only (a refresh's), or with
    ``keep`` the library's earlier finds beside them (a ``--seed-playlist`` run's, added to the
    last refresh's). ``open_data``: an earlier step's of the same run (``DiscoveryReport.open_data``:
    one budget, and a service that failed there is not asked again); the report counts this
    step's requests and answers. A failing service stops the step with one warning line
    naming it (what was found so far is kept; ListenBrainz's refusal for want of a token is
    a second short note after it, see ``_warnings``); never raises ServiceError. ``notice``: the
    run's missing-contact warning, for ``OpenData.from_settings`` (when ``open_data`` is None).
    ``on``: ``sources_on(settings)``, when the caller has it already."""
    report = DiscoveryReport()
    d = settings.discovery
    on = sources_on(settings) if on is None else on
    sources = [s for s in (SimilarArtists(), SimilarRecordings()) if on[s.name]]
    if not sources:  # (``open_data_on``)
        return library, report
    progress = progress or _no_progress
    if open_data is None:
        from ..services.listenbrainz import OpenData
        open_data = OpenData.from_settings(settings, notice=notice)
    report.open_data = open_data
    start = (open_data.budget.used, dict(open_data.budget.by_service), open_data.cache.hits)
    if seed_tracks is None:
        from ..pipeline import taste_seeds
        seed_tracks = taste_seeds(library, settings)
    artists = seed_artist_ids if seed_artist_ids is not None else seed_artists(library, seed_tracks)
    resolver = Resolver(library, open_data, gateway, int(d.search_fallback))
    ctx = Context(library, seed_tracks, artists, settings, open_data, resolver, progress)
    found = Found()
    shared_from: dict[str, int] | None = None
    try:
        for source in sources:
            before = dict(open_data.budget.by_service)
            try:
                source.find(ctx, found)
            finally:
                report.requests_by_source[source.name] = tally(open_data.budget.by_service, before, -1)
            if not ctx.failed:  # (after a failure before it, it read the cache only)
                report.finished.append(source.name)
        asked = not ctx.failed  # every source asked all it meant to
        shared_from = dict(open_data.budget.by_service)
        _listen_counts(open_data, found, ctx.note)
        new_ids = [r["track_id"] for r in found.discovered]
        try:
            rows = resolver.track_rows(new_ids, progress)
        except ServiceError as exc:  # the budget ran out while looking up: keep the cached ones
            live = dict.fromkeys(resolver.replaced.get(t, t) for t in new_ids)
            rows = [resolver.metadata[t] for t in live if t in resolver.metadata]
            ctx.note(exc)
        report.warnings = _warnings(ctx.failures, open_data)
        unknown = open_data.unknown_isrcs_note()
        if unknown:
            report.warnings.append(unknown)
        # MusicBrainz knowing none of the ISRCs is a failure too: the last discovery's finds stay
        report.failed = ctx.failed or bool(unknown)
        if report.failed and (asked or unknown):  # the listen counts, the look-ups or MusicBrainz failed
            report.finished = []
        _follow(found, resolver.replaced)
    finally:
        open_data.close()  # every answer so far is saved, whatever happened
        if shared_from is not None:
            report.requests_by_source["shared"] = tally(open_data.budget.by_service, shared_from, -1)
    library = fold(library, found, rows, keep=keep)
    disc = library.frames["discovered"]
    if keep:  # the report counts this run's finds
        disc = disc[disc["track_id"].isin({r["track_id"] for r in found.discovered})]
    report.track_ids = set(disc["track_id"].astype(str))
    report.by_source = {str(k): int(v) for k, v in disc.groupby("source")["track_id"].nunique().items()}
    report.requests = open_data.budget.used - start[0]
    report.requests_by_service = tally(open_data.budget.by_service, start[1], -1)
    report.cached_answers = open_data.cache.hits - start[2]
    for w in report.warnings:
        log.info(w)  # the caller shows it (one line: the CLI's note, the web page); the log file keeps it
    return library, report


def sources_on(settings) -> dict[str, bool]:
    """Which discovery sources a refresh with ``settings`` runs: the albums of your artists
    (``refresh.discovery_artists`` and ``_albums_per_artist`` both above 0) and each open-data
    source (``discovery.enabled`` and its own ``enabled``). The refresh's record and the web
    app's Discovery page both ask here."""
    from .albums import albums_on
    d = settings.discovery
    return {"albums": albums_on(settings),
            "similar_artists": bool(d.enabled and d.similar_artists.enabled),
            "similar_recordings": bool(d.enabled and d.similar_recordings.enabled)}


def open_data_on(on: dict[str, bool]) -> bool:
    """Whether a run asks the open-data services: one of their sources is on (``on``: as
    ``sources_on`` gives it)."""
    return on["similar_artists"] or on["similar_recordings"]


def tally(counts: dict[str, int], more: dict[str, int], sign: int = 1) -> dict[str, int]:
    """Requests per service, the services above 0: ``counts`` plus ``more`` (two steps of one
    run), or with ``sign`` -1 minus ``more`` (sent between the budget's counts ``more`` and
    the later ``counts``)."""
    out = {k: counts.get(k, 0) + sign * more.get(k, 0) for k in dict.fromkeys([*counts, *more])}
    return {k: v for k, v in out.items() if v > 0}


def _follow(found: Found, replaced: dict[str, str]) -> None:
    """Point what was found at a gone Spotify id to the next id of its recording that lives."""
    if not replaced:
        return
    for rows in (found.discovered, found.recordings, found.similar_tracks):
        for r in rows:
            r["track_id"] = replaced.get(r["track_id"], r["track_id"])
    found.similar_tracks = [r for r in found.similar_tracks if r["track_id"] != r["seed_track_id"]]


def _listen_counts(open_data, found: Found, note) -> None:
    """Open listen/user counts for the recordings found without them (one request per 1,000);
    a failure is given to ``note``, and the cached counts are used."""
    missing = [r["recording_mbid"] for r in found.recordings if r.get("listen_count") is None]
    if not missing:
        return
    counts = open_data.popularity(missing, note=note)
    for r in found.recordings:
        if r.get("listen_count") is None and r["recording_mbid"] in counts:
            r["listen_count"], r["user_count"] = counts[r["recording_mbid"]]


def _warnings(failures: list[ServiceError], open_data) -> list[str]:
    """The run's discovery warnings: its first real failure (a service down, the budget spent,
    a wrong address), named as ``_warning`` does, and, after it, ListenBrainz's refusal for
    want of a user token as a short note. Without a token (the default) every run meets that
    refusal first: named first, it hid the failure that did stop discovery."""
    refusals = [f for f in failures if f.status == 401 and any(f is r for r in open_data.refusals.values())]
    real = next((f for f in failures if not any(f is r for r in refusals)), None) or open_data.failure
    if real is None:
        return [_warning(refusals[0], open_data)] if refusals else []
    if not refusals:
        return [_warning(real, open_data)]
    return [_warning(real, open_data), f"also: {refusals[0]}"
            + ("; lb-radio stood in for similar artists' top recordings" if _radio_stood_in(refusals[0], open_data) else "")]


def _radio_stood_in(exc: ServiceError, open_data) -> bool:
    """``exc`` is the refusal of artists' top recordings, and lb-radio was asked in their place."""
    return exc is open_data.refusals.get(TOP_RECORDINGS) and not open_data.refused(LB_RADIO)


def _warning(exc: ServiceError, open_data=None) -> str:
    if isinstance(exc, BudgetExhausted):
        if open_data is not None and open_data.budget.limit == 0:  # set so: cached answers only, nothing stopped
            return (f"discovery asked no service ({open_data.budget.source} is 0): it used only the answers "
                    "earlier runs cached, and a question without a fresh one went unasked")
        return f"discovery stopped early: {exc}; the playlist uses what was found{LAST_FINDS if exc.slow else ''}"
    service = exc.service or "an open-data service"
    if exc.status == 401 and service == "ListenBrainz":  # only its own questions stopped (OpenData._call)
        if open_data is not None and open_data.failure is None and _radio_stood_in(exc, open_data):
            return ("discovery took similar artists' recordings from ListenBrainz's lb-radio (which needs no "
                    f"token) instead of their top recordings: {exc}")
        return f"discovery went on without ListenBrainz's popular recordings: {exc}"
    return f"discovery stopped early: {service} failed ({exc}); the playlist uses what was found{LAST_FINDS}"


LAST_FINDS = " and the last discovery's new tracks"  # words of a warning, left out when there is no last discovery


def fold(library: Library, found: Found, new_track_rows: list[dict], keep: bool = False) -> Library:
    """The library with the found frames (deduplicated) and the new tracks added; discovered
    tracks without metadata are dropped. ``keep``: the library's own found frames stay, after
    the new finds (which win a duplicate key)."""
    tracks = _with_tracks(library.frames["tracks"], new_track_rows)
    have = tracks["track_id"]

    def frame(name: str, rows: list[dict], key: list[str]) -> pd.DataFrame:
        df = schema.conform(name, pd.DataFrame(rows, columns=list(schema.FRAMES[name])) if rows
                            else schema.empty_frame(name))
        if keep:
            df = pd.concat([df, schema.conform(name, library.frames[name])], ignore_index=True)
        return df.drop_duplicates(key)

    keys = schema.FOUND_KEYS
    disc = frame("discovered", found.discovered, keys["discovered"])
    disc = disc[isin(disc["track_id"], have)]
    recs = frame("recordings", found.recordings, keys["recordings"])
    recs = recs[isin(recs["track_id"], have)]
    sim_t = frame("similar_tracks", found.similar_tracks, keys["similar_tracks"])
    sim_t = sim_t[isin(sim_t["track_id"], have)]
    sim_a = frame("similar_artists", found.similar_artists, keys["similar_artists"])
    return library.replace(tracks=tracks, discovered=disc, recordings=recs, similar_tracks=sim_t,
                           similar_artists=sim_a)


def _with_tracks(tracks: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    """The tracks frame with the rows of the tracks it does not have added, in id order as the
    pull keeps it (``refresh_library``): a refresh that finds the same tracks again then saves
    the file the pull saved, and leaves it as it was."""
    known = set(tracks["track_id"].astype(str))
    new = [r for r in rows if r.get("track_id") and r["track_id"] not in known]
    if not new:
        return tracks
    return pd.concat([tracks, schema.conform("tracks", pd.DataFrame(new).drop_duplicates("track_id"))],
                     ignore_index=True).sort_values("track_id", kind="stable", ignore_index=True)


def fold_albums(library: Library, rows: list[dict], track_rows: list[dict]) -> Library:
    """The library with a ``--seed-playlist`` run's album finds (``albums.playlist_albums``):
    their tracks added, their ``discovery`` rows after the refresh's (this run's library only)."""
    if not rows:
        return library
    tracks = _with_tracks(library.frames["tracks"], track_rows)
    found = schema.conform("discovery", pd.DataFrame(rows, columns=list(schema.FRAMES["discovery"])))
    disc = pd.concat([schema.conform("discovery", library.frames["discovery"]), found], ignore_index=True)
    return library.replace(tracks=tracks, discovery=disc.drop_duplicates())
