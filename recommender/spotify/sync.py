"""Pull the user's Spotify data into cached frames, incrementally.

Every refresh re-reads the listings (me, me/playlists, top tracks/artists, saved, followed).
A playlist whose ``snapshot_id`` is unchanged since the last pull costs no request at all:
its cached items are reused (and a 403 playlist stays skipped). Discovery albums already
pulled are not pulled again, and an artist's album list is re-read at most every
``refresh.discovery_recheck_days`` days.
Nothing is written until the pull is complete: a stop half way (quota, outage) leaves the
previous cache intact. Three answers do not stop it: a 403 on the items of your own playlist
(its cached items are kept), and a listing of saved tracks or of followed artists Spotify keeps
failing (the cached list is kept); each is one line in ``RefreshReport.problems``.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..errors import SpotifyError, SpotifyUnavailable, set_aside
from ..library import Library, isin
from ..sources.albums import discover_albums as _discover
from ..isotime import utc_now, younger_than
from ..store import Store, now_iso
from . import parse
from .gateway import Gateway

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]


def _no_progress(stage: str, done: int, total: int | None) -> None:
    pass


@dataclass
class RefreshReport:
    user_id: str
    playlists: int = 0
    playlists_fetched: int = 0
    playlists_unchanged: int = 0
    playlists_ours: int = 0  # the tool's own but the managed one: listed, their items not read (``_unread``)
    playlists_forbidden: list[str] = field(default_factory=list)
    tracks: int = 0
    discovery_tracks: int = 0
    requests: int = 0
    problems: list[str] = field(default_factory=list)
    open_data_tracks: int = 0  # new tracks the open-data sources found and the albums did not (jobs.discover)
    open_data_requests: int = 0
    requests_by_service: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # one line per failed open-data service
    switched: list[str] = field(default_factory=list)  # the note of a cache set aside for another account
    # your playlists as the pull listed them (``me/playlists``, read whole): the same run's
    # ``publish.managed_state`` takes them rather than listing them again; not in ``to_dict``
    listing: list[dict] | None = field(default=None, repr=False)
    # discovery's open-data clients (``DiscoveryReport.open_data``): the same run's
    # ``--seed-playlist`` discovery goes on with them (one budget); not in ``to_dict``
    open_data: Any = field(default=None, repr=False)
    # the library as the pull saved it (with the last discovery's finds: ``with_last_discovery``):
    # a discovery step a service stopped keeps those finds from it (``jobs.discover``, which
    # lets it go), not from the cache read again; not in ``to_dict``
    saved: Any = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k not in ("listing", "open_data", "saved")}


def _unread(store: Store, playlist_rows: list[dict]) -> set[str]:
    """The tool's own playlists but the managed one (mood exports, those managed before a
    --new-playlist, those another computer wrote): never taste, evidence or a candidate, so their
    items are not read; a mood export's rewrite had every later refresh read it page by page
    (about 150 requests on a big library). The managed playlist's are read: which of its tracks
    you saved after we put them there is feedback (``jobs.saved_after_recommended``)."""
    from ..publish import MAIN, our_playlist_ids, slot_record
    main_id = slot_record(store.read_manifest(), MAIN).get("id")
    frame = pd.DataFrame(playlist_rows, columns=list(schema.FRAMES["playlists"]))
    return set(our_playlist_ids(store, frame)) - {main_id}


def refresh_library(gateway: Gateway, store: Store, settings, progress: Progress | None = None,
                    cached: Library | None = None) -> tuple[Library, RefreshReport]:
    """Pull everything, reuse what is unchanged, save atomically. Returns (library, report).
    ``cached``: the store's library as the caller read it, the cache unchanged since (not read
    again: a scan of every row of a big features import); None: read here."""
    progress = progress or _no_progress
    start_requests = gateway.requests_made
    manifest = store.read_manifest()
    cached = cached if cached is not None else store.load_library()
    problems = list(store.problems)
    old_snapshots: dict[str, str] = manifest.get("snapshots", {}) if cached is not None else {}

    me = gateway.me()
    user_id = me["id"]
    before, manifest = store.switch_account(user_id)  # a token of another account (dropped in): never score its cache
    switched = []
    if before is not None:
        switched.append(f"the cache belonged to user {before!r}; rebuilding it for {user_id!r} ({set_aside(f'user {before!r}')})")
        problems += switched
        cached, old_snapshots = None, {}
    report = RefreshReport(user_id=user_id, switched=switched)
    met = _Met()
    listed_at = utc_now().isoformat()  # to the microsecond: what was written before it is in the listing
    playlists = _pull_playlists(gateway, store, user_id, cached, old_snapshots, met, report, problems, progress)
    top_tracks, top_artists = _pull_top(gateway, met, progress)
    progress("saved tracks", 0, None)
    saved, saved_total, saved_whole = _pull_saved_or_kept(gateway, cached, manifest, settings, met, problems)
    progress("saved tracks", len(saved), len(saved))
    progress("followed artists", 0, None)
    followed = _pull_followed_or_kept(gateway, cached, met, problems)
    progress("followed artists", len(followed), len(followed))
    genres_state = _artist_genres_api(gateway, settings, manifest, met)
    # --- discovery: albums of top and followed artists ---------------------------------------
    discovery_rows, discovery_state = _discover(gateway, settings, manifest, cached, top_artists, followed,
                                                met.add_track, progress)
    library = _assemble(store, user_id, cached, met, playlists, top_tracks, top_artists, saved, followed,
                        discovery_rows)
    report.saved = with_last_discovery(library, cached)
    report.requests = gateway.requests_made - start_requests
    # the snapshots and counts the frames were read against, written with them (``save_library``):
    # a stop in between left the new saved tracks beside the last pull's count, which the next
    # refresh then took for a list that had not changed
    store.save_library(report.saved, manifest={
        "user_id": user_id, "fetched_at": now_iso(), "listed_at": listed_at, "snapshots": playlists.snapshots,
        "artist_genres_api": genres_state, "discovery": discovery_state,
        "last_refresh": {"requests": report.requests, "at": now_iso()}, SAVED_TOTAL: saved_total,
        SAVED_READ_WHOLE: saved_whole})
    report.tracks = len(library.tracks)
    from ..sources.albums import new_to_you
    report.discovery_tracks = new_to_you(library.frames, store)
    report.problems = problems
    return library, report


class _Met:
    """The tracks and artists a pull meets, as rows, each once: a track's row with its album
    replaces one without (a playlist's entry before its album's listing)."""

    def __init__(self) -> None:
        self.tracks: dict[str, dict] = {}
        self.artists: dict[str, dict] = {}

    def add_track(self, obj: dict, album: dict | None = None) -> str:
        row = parse.track_row(obj, album)
        old = self.tracks.get(row["track_id"])
        if old is None or (old.get("album_id") is None and row.get("album_id")):
            self.tracks[row["track_id"]] = row
        for a in parse.track_artist_rows(obj):
            self.artists.setdefault(a["artist_id"], a)
        return row["track_id"]

    def add_artist(self, obj: dict) -> None:
        self.artists[obj["id"]] = parse.artist_row(obj)


@dataclass
class _Playlists:
    """What the pull read of your playlists: their rows, each one's items (read, or the cached
    ones of a playlist whose snapshot did not change) and the snapshot ids to remember."""

    rows: list[dict]
    item_frames: list[pd.DataFrame]
    snapshots: dict[str, str]


def _pull_playlists(gateway: Gateway, store: Store, user_id: str, cached: Library | None,
                    old_snapshots: dict[str, str], met: _Met, report: RefreshReport, problems: list[str],
                    progress: Progress) -> _Playlists:
    """Your playlists, and the items of each one whose snapshot changed (those Spotify lets a
    personal app read), the others' from the cache."""
    progress("playlists", 0, None)
    listing = gateway.listing("me/playlists")  # read again when it shifted (none skipped)
    # offset paging: a playlist created or removed between two pages shifts the list, so one
    # can come twice; it is one playlist (kept once, first listing wins)
    by_id: dict[str, dict] = {}
    for p in listing:
        if p and p.get("id"):
            by_id.setdefault(p["id"], parse.playlist_row(p, user_id))
    playlist_rows = list(by_id.values())
    report.playlists = len(playlist_rows)
    report.listing = listing
    old_items = cached.playlist_items if cached is not None else schema.empty_frame("playlist_items")
    old_playlists = (cached.playlists.drop_duplicates("playlist_id").set_index("playlist_id")
                     if cached is not None else None)
    # the cached items of each playlist, split once (one filter per unchanged playlist was
    # playlists x items: seconds on a library of thousands of playlists)
    old_by_playlist = {pid: frame for pid, frame in old_items.groupby("playlist_id", sort=False)}
    no_items = old_items.iloc[:0]
    item_frames: list[pd.DataFrame] = []
    snapshots: dict[str, str] = {}
    unread = _unread(store, playlist_rows)
    for i, row in enumerate(playlist_rows):
        pid = row["playlist_id"]
        progress("playlists", i, len(playlist_rows))
        if pid in unread:  # no snapshot kept: one that stops being ours is read whole
            row["readable"] = True
            report.playlists_ours += 1
            continue
        snapshots[pid] = row["snapshot_id"]
        was_readable = (bool(old_playlists.loc[pid, "readable"])
                        if old_playlists is not None and pid in old_playlists.index else True)
        # your own playlist is never remembered unreadable, nor one you collaborate on: Spotify lets
        # an app read both, so a 403 on one was its passing fault (remembered, a collaborative
        # playlist stayed "unread" until someone edited it); another's is, for its snapshot
        if row["snapshot_id"] and pid in old_snapshots and old_snapshots[pid] == row["snapshot_id"] \
                and (was_readable or not (row["owned"] or row["collaborative"])):
            row["readable"] = was_readable
            item_frames.append(old_by_playlist.get(pid, no_items))
            if not row["readable"]:  # counted as not readable only, as on the pull that found it so
                report.playlists_forbidden.append(row["name"])
            else:
                report.playlists_unchanged += 1
            continue
        if row["owned"] and row.get("total") == 0:  # your own empty playlist: nothing to ask (a request each)
            report.playlists_fetched += 1
            item_frames.append(no_items)
            continue
        rows = []
        try:
            for pos, entry in enumerate(gateway.pages(f"playlists/{pid}/items")):
                obj = parse.entry_track(entry)
                if obj is None:
                    continue
                rows.append({"playlist_id": pid, "track_id": met.add_track(obj), "position": pos,
                             "added_at": entry.get("added_at")})
        except SpotifyError as exc:
            if exc.status not in (403, 404):
                raise
            if row["owned"]:
                # Spotify lists the items of your own playlists; a bare 403 (or 404) on one is its
                # passing fault, not a rule: keep what the last pull read, and read it again next time
                problems.append(_own_playlist_refused(row["name"], exc, pid in old_by_playlist))
                # no snapshot kept: read again next time, also when the listing's is the one the last
                # pull kept (a playlist an older version remembered unreadable, asked again now: its
                # snapshot unchanged, the next refresh took its cache of no items for a read one)
                snapshots[pid] = None
                item_frames.append(old_by_playlist.get(pid, no_items))
                log.info("playlist %r (%s): Spotify refused its items (%s); kept the cached ones", row["name"], pid,
                         exc.status)
                continue
            row["readable"] = False
            report.playlists_forbidden.append(row["name"])
            log.info("playlist %r (%s): items not readable (%s), skipped", row["name"], pid, exc.status)
            continue
        report.playlists_fetched += 1
        item_frames.append(pd.DataFrame(rows, columns=list(schema.FRAMES["playlist_items"])))
    progress("playlists", len(playlist_rows), len(playlist_rows))
    return _Playlists(playlist_rows, item_frames, snapshots)


def _pull_top(gateway: Gateway, met: _Met, progress: Progress) -> tuple[list[dict], list[dict]]:
    """Your top tracks and artists of the three time ranges, with their ranks."""
    top_tracks, top_artists = [], []
    for time_range in schema.TIME_RANGES:
        progress("top tracks and artists", schema.TIME_RANGES.index(time_range), len(schema.TIME_RANGES))
        for rank, obj in enumerate(gateway.pages("me/top/tracks", time_range=time_range), start=1):
            if obj and obj.get("id"):
                top_tracks.append({"track_id": met.add_track(obj), "time_range": time_range, "rank": rank})
        for rank, obj in enumerate(gateway.pages("me/top/artists", time_range=time_range), start=1):
            if obj and obj.get("id"):
                met.add_artist(obj)
                top_artists.append({"artist_id": obj["id"], "time_range": time_range, "rank": rank})
    progress("top tracks and artists", len(schema.TIME_RANGES), len(schema.TIME_RANGES))
    return top_tracks, top_artists


def _pull_saved_or_kept(gateway: Gateway, cached: Library | None, manifest: dict, settings, met: _Met,
                        problems: list[str]) -> tuple[list[dict], int | None, str | None]:
    """Your saved tracks, their total (``_pull_saved``) and when they were last read whole, or
    the last refresh's when Spotify keeps failing their listing while it answers the rest.

    Read only in part (``_pull_saved``) while the last whole read is younger than
    ``refresh.saved_reread_days`` (less ``REREAD_SLACK_DAYS``: a daily run at a fixed time,
    seconds earlier than the week before, reads whole on the 7th day, not the 8th), else whole:
    a save dated before the newest cached one (made offline, or by an app that keeps the date of
    another service's likes) together with an unsave leaves Spotify's count as it was, and
    below the newest cached entry the count is all a partial read has to go by."""
    last_whole = manifest.get(SAVED_READ_WHOLE) if cached is not None else None
    days = float(settings.refresh.saved_reread_days)
    partial = days > 0 and younger_than(last_whole, max(days - REREAD_SLACK_DAYS, 0.0))
    started = now_iso()
    try:
        saved, total, whole = _pull_saved(gateway, cached if partial else None,
                                          manifest.get(SAVED_TOTAL) if partial else None, met.add_track)
        return saved, total, started if whole and total is not None else last_whole
    except SpotifyUnavailable as exc:
        # Spotify answers 500/502 to every page of a very large Liked Songs list (tens of
        # thousands), even one of a single track, while every other call works: the playlists
        # and top tracks are still taste; the last refresh's list stands in for the saved ones.
        # Not when no connection could be made: Spotify (or the network) is down for every call,
        # and going on met the same failure, retries and all, listing after listing
        if exc.unreached:
            raise
        old = schema.empty_frame("saved_tracks") if cached is None else cached.frames["saved_tracks"]
        saved = old[["track_id", "added_at"]].to_dict("records")
        problems.append(_kept_note("your saved tracks (Liked Songs)", exc, len(saved), cached is not None))
        return saved, manifest.get(SAVED_TOTAL) if cached is not None else None, last_whole


def _pull_followed_or_kept(gateway: Gateway, cached: Library | None, met: _Met, problems: list[str]) -> list[dict]:
    """The artists you follow, or (``_followed_kept``) those read and the last refresh's when
    Spotify keeps failing their listing while it answers the rest."""
    followed: list[dict] = []
    try:
        for obj in gateway.pages("me/following", key="artists", type="artist"):
            if obj and obj.get("id"):
                met.add_artist(obj)
                followed.append({"artist_id": obj["id"]})
    except SpotifyUnavailable as exc:
        # Spotify can fail this one listing for an account day after day ("Failed to get followed
        # artists", 502) while every other call works: the artists you follow are a small part
        # of the taste, not worth every refresh; the last refresh's list stands in for them
        # (not when no connection could be made: as for the saved tracks)
        if exc.unreached:
            raise
        followed, note = _followed_kept(followed, cached, exc)
        problems.append(note)
    return followed


def _artist_genres_api(gateway: Gateway, settings, manifest: dict, met: _Met) -> dict:
    """Whether Spotify gives artist genres to this app (the manifest's ``artist_genres_api``):
    known when a listed artist had some, else probed with one artist at most every
    ``GENRE_PROBE_DAYS`` days, never one request per artist for nothing."""
    genres_state = manifest.get("artist_genres_api", {})
    if any(a["genres"] for a in met.artists.values()):
        return {"available": True, "checked": now_iso()}
    if not (settings.refresh.probe_artist_genres and met.artists
            and not younger_than(genres_state.get("checked"), GENRE_PROBE_DAYS)):
        return genres_state
    try:
        obj = gateway.get(f"artists/{next(iter(met.artists))}")
    except SpotifyError:
        return {"available": False, "checked": now_iso()}
    if obj and obj.get("genres"):
        met.add_artist(obj)
        return {"available": True, "checked": now_iso()}
    return {"available": False, "checked": now_iso()}


def _assemble(store: Store, user_id: str, cached: Library | None, met: _Met, playlists: _Playlists,
              top_tracks: list[dict], top_artists: list[dict], saved: list[dict], followed: list[dict],
              discovery_rows: list[dict]) -> Library:
    """The pulled library: the rows met, the cached tracks still referenced and the cached
    artists not met again, the frames not from Spotify carried over, in a canonical order."""
    item_frames = [f for f in playlists.item_frames if len(f)]
    playlist_items = pd.concat(item_frames or [schema.empty_frame("playlist_items")], ignore_index=True)
    discovery = pd.DataFrame(discovery_rows, columns=list(schema.FRAMES["discovery"]))
    referenced = (set(playlist_items["track_id"].astype(str)) | {r["track_id"] for r in top_tracks}
                  | {r["track_id"] for r in saved} | set(discovery["track_id"].astype(str)))
    tracks = pd.DataFrame(list(met.tracks.values()), columns=list(schema.FRAMES["tracks"]))
    if cached is not None:
        reuse = cached.tracks[_among(cached.tracks["track_id"], referenced - set(met.tracks))]
        tracks = pd.concat([schema.conform("tracks", tracks), reuse], ignore_index=True) if len(reuse) else tracks
        old_artists = cached.artists[~_among(cached.artists["artist_id"], met.artists.keys())]
    else:
        old_artists = schema.empty_frame("artists")
    tracks = tracks[_among(tracks["track_id"], referenced)]
    artists = pd.DataFrame(list(met.artists.values()), columns=list(schema.FRAMES["artists"]))
    if len(old_artists):
        # only those still of the library (credited on a track kept, in your top lists, followed):
        # one unfollowed, or of tracks gone from it, leaves as it is not in a clean pull
        wanted = ({str(a) for ids in tracks["artist_ids"] for a in ids}
                  | {r["artist_id"] for r in top_artists} | {r["artist_id"] for r in followed})
        old_artists = old_artists[_among(old_artists["artist_id"], wanted)]
    if len(old_artists):
        artists = pd.concat([schema.conform("artists", artists), old_artists], ignore_index=True)
    # not from Spotify: carried over (never saved by the refresh: by their own commands), even from
    # a damaged cache; the audio features of this library's tracks, new ones included (below)
    genres = cached.frames["artist_genres"] if cached is not None else store.load_frame("artist_genres")
    extra = {} if genres is None else {"artist_genres": genres}
    # a canonical row order (by id): the same account gives the same frames whatever order the
    # listings came in, so that a run on an unchanged library changes nothing (ties break by id)
    tracks = tracks.drop_duplicates("track_id").sort_values("track_id", kind="stable")
    artists = artists.drop_duplicates("artist_id").sort_values("artist_id", kind="stable")
    playlist_frame = pd.DataFrame(playlists.rows, columns=list(schema.FRAMES["playlists"]))
    playlist_frame = playlist_frame.sort_values("playlist_id", kind="stable")
    playlist_items = playlist_items.sort_values(["playlist_id", "position"], kind="stable")
    library = Library.from_frames(
        user_id=user_id, tracks=tracks, artists=artists, playlists=playlist_frame,
        playlist_items=playlist_items, top_tracks=pd.DataFrame(top_tracks, columns=["track_id", "time_range", "rank"]),
        top_artists=pd.DataFrame(top_artists, columns=["artist_id", "time_range", "rank"]),
        saved_tracks=pd.DataFrame(saved, columns=["track_id", "added_at"]),
        followed_artists=pd.DataFrame(followed, columns=["artist_id"]), discovery=discovery, **extra)
    return store.with_features(library, cached)


def _followed_kept(read: list[dict], cached: Library | None, exc: SpotifyUnavailable) -> tuple[list[dict], str]:
    """The followed artists when Spotify kept failing their listing: those read before it failed,
    then those of the last refresh; and the note saying so."""
    have = {r["artist_id"] for r in read}
    old = [] if cached is None else [str(a) for a in cached.frames["followed_artists"]["artist_id"]]
    kept = [{"artist_id": a} for a in dict.fromkeys(old) if a not in have]
    return read + kept, _kept_note("artists you follow", exc, len(kept), cached is not None)


def _kept_note(listing: str, exc: SpotifyUnavailable, kept: int, cached: bool) -> str:
    """The note of a listing Spotify kept failing, whose last refresh's list stands in."""
    what = f"kept the {kept} of the last refresh" if cached else "none known yet"
    why = f" ({exc.reason})" if exc.reason else ""
    return f"Spotify kept failing the list of {listing}{why}; {what}, and the next refresh asks again"


def _own_playlist_refused(name: str, exc: SpotifyError, cached: bool) -> str:
    kept = "kept the tracks the last refresh read" if cached else "its tracks are left out this time"
    return (f"Spotify refused to list the tracks of your own playlist {name!r} ({exc.status}); {kept}, and the "
            "next refresh asks again")


def _among(ids: pd.Series, wanted) -> np.ndarray:
    """``ids.isin(wanted)`` for a set of ids: pandas' isin on a string column makes one pyarrow
    scalar per wanted id (a fifth of a refresh of 20,000 tracks); a set look-up per row is not."""
    wanted = wanted if isinstance(wanted, (set, frozenset, type({}.keys()))) else set(wanted)
    return np.fromiter((v in wanted for v in ids.astype(object)), dtype=bool, count=len(ids))


GENRE_PROBE_DAYS = 30  # Spotify's artist genres found missing: probed again after these days
SAVED_TOTAL = "saved_total"  # manifest key: Spotify's count of saved tracks at the last pull


def _pull_saved(gateway: Gateway, cached: Library | None, old_total,
                add_track) -> tuple[list[dict], int | None, bool]:
    """The saved tracks (newest first, as Spotify lists them), Spotify's ``total`` and whether
    the list was read to its end (not its rest taken from the cache). ``cached`` None (or no
    ``old_total``): read whole.

    Incremental: pages are read only down to the first entry already cached (same track,
    same ``added_at``) from which on the rest of Spotify's list is the rest of the cached one;
    that rest is then taken from the cache. The counts tell where that is: below a cached entry
    Spotify lists nothing new (what is saved since is above it, newest first), so its list from
    there is the cached one less what was unsaved (or saved again, listed above with a new date)
    since; when the entries Spotify has left to list are as many as the cached ones left
    (``total`` less those read, against the last pull's ``total`` less the cached entry's place,
    less those of them read already: saved again, or tied in date), none was unsaved below it.
    A track unsaved is so read past, not a reason to read the whole list: the reading stops at
    the first cached entry below the last one unsaved (or a cache of another version: the last
    page). What the counts cannot see is a save dated below a cached entry together with an
    unsave (the count stays): ``_pull_saved_or_kept`` has the list read whole now and then.

    A save or unsave while the pages are read shifts them (an entry comes twice or is passed
    over): the pages' ``total`` differ, and the list is read again (``SAVED_TRIES`` in all; one
    that never holds still is kept without doubles, its count None: read whole next time).
    """
    index: dict[tuple[str, str], int] = {}  # a cached entry -> its place in the cached list
    old_place: dict[str, int] = {}  # a cached track -> its place
    old = None
    if cached is not None and isinstance(old_total, int):
        old = cached.frames["saved_tracks"]
        dates = [str(d) for d in old["added_at"]]
        if all(a >= b for a, b in zip(dates, dates[1:])):  # newest first, as Spotify lists them
            # a place below a tie of dates is not one: Spotify may list tied entries in another order
            index = {key: j for j, key in enumerate(zip(old["track_id"].astype(str), dates))
                     if j == 0 or dates[j - 1] != dates[j]}
            old_place = {tid: j for j, tid in enumerate(old["track_id"].astype(str))}
    for _ in range(SAVED_TRIES):
        saved, objs, total, totals, whole = _read_saved(gateway, old, index, old_place, old_total)
        if len(set(totals)) <= 1:
            break
        # a song saved or unsaved while the pages were read shifted them: one entry came twice
        # (or was passed over), and the count it was read against is not the list's
        log.info("saved tracks changed while they were read (total %s): reading them again", totals)
    else:
        seen: set[str] = set()
        saved = [s for s in saved if not (s["track_id"] in seen or seen.add(s["track_id"]))]
        total = None  # the next refresh reads the list whole
    for obj in objs:
        add_track(obj)
    return saved, total, whole


SAVED_TRIES = 3  # readings of the saved tracks when they change while read
SAVED_READ_WHOLE = "saved_read_whole"  # manifest key: when the saved tracks were last read to their end
REREAD_SLACK_DAYS = 1 / 24  # ``refresh.saved_reread_days`` less an hour (``_pull_saved_or_kept``)


def _read_saved(gateway: Gateway, old: pd.DataFrame | None, index: dict, old_place: dict,
                old_total) -> tuple[list[dict], list[dict], int | None, list, bool]:
    """One reading of the saved tracks (``_pull_saved``): the entries, the track objects read,
    their count (Spotify's ``total``, or the entries read when read to the end), the
    ``total`` of each page read and whether it was read to the end."""
    saved: list[dict] = []
    objs: list[dict] = []
    entries = 0  # every entry read, skipped ones (episodes, null) too
    new_ids: set[str] = set()
    read: list[int] = []  # the cached places of the tracks read so far, sorted
    page = gateway.page(lambda: gateway.first_page("me/tracks"), "me/tracks")  # `{}` is no list of none saved
    total = page.get("total") if page else None
    totals = []
    while page:
        totals.append(page.get("total"))
        for entry in page.get("items") or []:
            obj = parse.entry_track(entry)
            key = (str(obj["id"]), str(entry.get("added_at"))) if obj is not None else None
            j = index.get(key) if key is not None else None
            if j is not None and isinstance(total, int) \
                    and total - entries == old_total - j - (len(read) - bisect.bisect_left(read, j)):
                rest = old.iloc[j:]
                rest = rest[~_among(rest["track_id"], new_ids)]
                log.info("saved tracks: %d read, %d cached", len(saved), len(rest))
                return saved + rest[["track_id", "added_at"]].to_dict("records"), objs, total, totals, False
            entries += 1
            if obj is not None:
                tid = obj["id"]  # as add_track (parse.track_row) stores it
                objs.append(obj)
                new_ids.add(tid)
                if tid in old_place:
                    bisect.insort(read, old_place[tid])
                saved.append({"track_id": tid, "added_at": entry.get("added_at")})
        nxt = page.get("next")
        page = gateway.page(lambda: gateway.get(nxt), nxt) if nxt else None
    # read to the end: the count of what was read, which the cache now holds (Spotify's total
    # can trail its list a moment, and the next refresh compares with the cache)
    return saved, objs, entries if totals else total, totals, True


def with_last_discovery(library: Library, cached: Library | None, beside: bool = False,
                        sources: dict[str, bool] | None = None) -> Library:
    """What the pull saves: ``library`` plus the cached open-data frames and their new tracks.

    The pull is saved (and dated) before the open-data step (``jobs.discover``) runs; that step
    replaces these frames when it finishes. One that does not (Ctrl-C, Spotify's quota, an
    outage) so leaves the last discovery in the cache, not a fresh-looking cache without any
    new track until it goes stale. The returned library (the one discovery starts from) is
    not changed. ``beside``: ``library``'s own open-data frames stay, the cached ones after
    them (a step a failing service stopped: its finds win a duplicate key, the last
    discovery's fill in what it could not ask). ``sources`` (source name -> bool, as
    ``sources_on`` gives it): the last discovery's finds of a source False there are not kept
    (one turned off since, or one that asked all it meant to this time).
    """
    if cached is not None and sources is not None:
        cached = _of_sources(cached, sources)
    if cached is None or not len(cached.frames["discovered"]):
        return library
    tracks = library.frames["tracks"]
    old = cached.frames["tracks"]
    keep = old[isin(old["track_id"], cached.frames["discovered"]["track_id"]) & ~isin(old["track_id"], tracks["track_id"])]
    tracks = pd.concat([schema.conform("tracks", tracks), keep], ignore_index=True).sort_values("track_id", kind="stable")
    have = tracks["track_id"]
    frames = {name: cached.frames[name] for name in schema.OPEN_DATA_FRAMES}
    if beside:
        frames = {name: pd.concat([schema.conform(name, library.frames[name]), schema.conform(name, frame)],
                                  ignore_index=True).drop_duplicates(schema.FOUND_KEYS[name])
                  for name, frame in frames.items()}
    for name in ("discovered", "recordings", "similar_tracks"):
        frames[name] = frames[name][isin(frames[name]["track_id"], have)]
    return library.replace(tracks=tracks, **frames)


# the open-data frame only the source of that name reads (``discovered`` says its source per row)
_FRAME_OF_SOURCE = {"similar_artists": "similar_artists", "similar_recordings": "similar_tracks"}


def _of_sources(cached: Library, sources: dict[str, bool]) -> Library:
    """``cached`` without the open-data finds of the sources ``sources`` says are off."""
    off = [name for name in _FRAME_OF_SOURCE if not sources.get(name, True)]
    if not off:
        return cached
    disc = cached.frames["discovered"]
    frames = {"discovered": disc[~disc["source"].astype(str).isin(off)]}
    frames.update({_FRAME_OF_SOURCE[name]: cached.frames[_FRAME_OF_SOURCE[name]].iloc[0:0] for name in off})
    return cached.replace(**frames)
