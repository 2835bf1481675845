"""What each command does, as plain functions over settings (the CLI only adapts them).

Data flow of ``build_playlist``: store.load (fresh?) else login -> gateway pulls -> store.save
-> Library -> pipeline.build_recommendations -> publish.plan -> apply (unless dry run) ->
manifest records the playlist id and what was written.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import pandas as pd

from .errors import UNREACHED, AuthError, DataError, NotEnoughData, OtherAccount, UsageError, make_dirs
from .isotime import shown_text, utc_times
from .library import Library
from .paths import SAMPLE_LIBRARY, TRY_DEMO, demo_dir, demo_settings
from .store import DISCOVERING, LAST_DISCOVERY, Store, atomic_write_text, now_iso, reserve_room

if TYPE_CHECKING:
    from .moodexport import MoodPlaylist

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]
DEMO_ACCOUNT = "standin-account.json"
ADD_DEMO = "add --demo"  # a command that takes --demo itself


def open_store(settings) -> Store:
    """The store of ``settings``, which knows who holds the run lock (a save in progress)."""
    from .lock import lock_path, running_holder
    store = Store.from_settings(settings)
    store.lock_holder = lambda: running_holder(lock_path(settings.cache_dir))
    return store


@contextmanager
def writing(settings, command: str) -> Iterator[None]:
    """Hold the run lock for commands that write the cache or Spotify; a run that was killed
    holding it (``RunLock.took_over``) is recorded in runs.jsonl first."""
    from .lock import RunLock, lock_path
    from .migrate import move_refetchable
    from .runlog import record_unfinished, run_trigger
    make_dirs(settings.cache_dir)
    with RunLock(lock_path(settings.cache_dir), command=command, trigger=run_trigger()) as lock:
        if lock.took_over:
            record_unfinished(settings.cache_dir, lock.took_over)
        open_store(settings).remove_leftovers()  # temporary files of a killed write
        # the frames and open-data answers an older version kept beside the state
        move_refetchable(settings.cache_dir, settings.frames_dir)
        yield


def connect(settings, check: bool = True, **kwargs):
    """A Gateway using the cached login (refreshed silently); AuthError when there is none
    (``check`` False: at its first request instead, which a dry run may go on without).
    ``kwargs`` go to the Gateway (``sleeps_kept_wait``...). A long wait for Spotify's rate limit
    is recorded in the run lock this process holds (``lock.record_wait``), for `recommend status`
    and another run's exit 6."""
    from .lock import lock_path, record_wait
    from .spotify.auth import make_auth_manager
    from .spotify.gateway import Gateway
    manager = make_auth_manager(settings)
    if check:
        manager.get_access_token()  # raises AuthError now rather than half way through a pull
    held = lock_path(settings.cache_dir)  # a long wait for the rate limit is in its record while on
    kwargs.setdefault("on_wait", lambda seconds: record_wait(held, seconds))
    return Gateway.from_settings(manager, settings, **kwargs)


@dataclass
class Login:
    """Who logged in (``me``: Spotify's profile, None when it could not be asked: ``error``
    says why) and the account whose cache and state that login set aside (``set_aside``)."""

    me: dict | None
    error: str | None = None
    set_aside: str | None = None
    left: list[str] = field(default_factory=list)  # names of the playlists we made in that account


def login(settings, open_url=None, any_port: bool = False) -> Login:
    """The interactive login, then who it is: a login as another account than the one the
    cache holds sets that one aside (``Store.switch_account``), so that the next run pulls the
    new account's library rather than writing the other's recommendations into it.
    ``any_port``: as ``spotify.auth.login`` (the demo's)."""
    from .spotify.auth import login as _login
    with writing(settings, "auth"):  # (which makes the data folder)
        # asked before the browser's page says how the login ended: an account Spotify does not
        # let use the app was said there as "Logged in" while the terminal said what to do
        done: list[Login] = []
        _login(settings, open_url=open_url, any_port=any_port, check=lambda: done.append(_logged_in(settings)))
        return done[0] if done else _logged_in(settings)  # (a login that did not call check)


def _logged_in(settings) -> Login:
    """Who the saved login is, and the cache set aside when it is another account's."""
    from .errors import AppAccessRefused, AuthError, RecommenderError
    try:
        me = connect(settings).me()
    except (AppAccessRefused, AuthError):  # the login is saved, but no request will pass until that is
        raise  # fixed (a login granted fewer scopes than asked said "Logged in", exit 0, and every run failed)
    except RecommenderError as exc:  # logged in all the same; a refresh checks the account
        return Login(None, str(exc))
    store = open_store(settings)
    before, manifest = store.switch_account(str(me.get("id") or ""))
    from .publish import _history
    from .store import ACCOUNTS
    aside = ((manifest.get(ACCOUNTS) or {}).get(before) or {}) if before else {}
    left = [str(h.get("name") or h["id"]) for h in _history(aside)]  # every one made there, not only the current
    return Login(me, set_aside=before, left=left)


SPOTIFY_APPS_PAGE = "https://www.spotify.com/account/apps/"  # where a person removes an app's access


def logout(settings) -> tuple[Path, bool, Path | None]:
    """Delete the saved Spotify login (under the run lock, so that a running build cannot
    write a refreshed token back). Returns (the token file, whether there was one, the file
    it links to when it is a symlink). A token file that is a symlink (into a dotfiles or
    synced folder) has the file it names deleted too, a regular file only: the login is
    saved there (``store.atomic_write`` writes a link's target), and deleting the link alone
    left the tokens on disk. The cache, the runs and the managed playlist stay; Spotify keeps
    the app's access until the person removes it on ``SPOTIFY_APPS_PAGE``."""
    import os

    from .errors import StorageError
    from .spotify.auth import token_path
    path = token_path(settings.cache_dir)
    if not path.exists():
        return path, False, None
    with writing(settings, "auth --logout"):
        target = Path(os.path.realpath(path)) if path.is_symlink() else None
        if target is not None and not target.is_file():
            target = None  # (a link to a folder or a device holds no login of ours: only the link goes)

        def delete(doomed: Path) -> bool:
            """True once deleted, False when it was gone already."""
            try:
                doomed.unlink()
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise StorageError(f"cannot delete the saved login {doomed}: {exc.strerror or exc}") from None
            return True
        if target is not None:
            delete(target)
        if not delete(path):
            return path, target is not None, target
    return path, True, target


def refresh(settings, gateway=None, progress: Progress | None = None, lock: bool = True):
    """Pull the account into the cache. Returns (library, RefreshReport); a refresh that waited
    long for Spotify's rate limit says so in its ``problems`` (the notes `recommend refresh`
    prints), as a build does in its messages."""
    gateway = gateway or connect(settings)
    with writing(settings, "refresh") if lock else nullcontext():
        library, report = pull(gateway, open_store(settings), settings, progress)
    waited = gateway.waited_note()
    if waited:
        report.problems.append(waited)
    return library, report


def pull(gateway, store: Store, settings, progress: Progress | None = None, notice=None,
         cached: Library | None = None):
    """The incremental pull, then audio features for new tracks when Spotify still serves
    them (extended-quota apps; a 403 is remembered for 30 days and costs one request), then
    ``discover`` (``notice``: as there; ``cached``: as ``refresh_library``'s)."""
    from .errors import RateLimited, SpotifyError
    from .features import fetch_spotify_features
    from .spotify.sync import refresh_library
    try:
        library, report = refresh_library(gateway, store, settings, progress, cached=cached)
    except RateLimited as exc:  # say what is true of the cache: a pull is saved only when complete
        fetched = store.read_manifest().get("fetched_at")
        kept = (f"the cache still holds the last complete refresh ({shown_text(fetched)})" if fetched
                else "the cache is still empty")
        raise RateLimited(f"{exc}; this refresh was stopped before the end and nothing of it was saved: {kept}",
                          retry_after=exc.retry_after) from None
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: "interrupted" alone left the cache unsaid
        fetched = store.read_manifest().get("fetched_at")
        raise type(exc)(f"the cache holds the last complete refresh ({shown_text(fetched)})" if fetched
                        else "the cache is still empty") from None

    def fetch(ids: list[str]) -> list[dict] | None:
        page = gateway.get("audio-features", ids=",".join(ids))
        return (page or {}).get("audio_features")
    before = gateway.requests_made
    try:
        merged = fetch_spotify_features(fetch, library.track_ids, store)
    except SpotifyError as exc:
        log.info("audio features not fetched: %s", exc)
        merged = None
    report.requests += gateway.requests_made - before
    if merged is not None:
        library = library.replace(audio_features=merged)
    library = discover(gateway, store, settings, library, report, progress, notice)
    return library, report


def discover(gateway, store: Store, settings, library: Library, report, progress: Progress | None = None,
             notice=None) -> Library:
    """Open-data discovery (ListenBrainz + MusicBrainz) after a pull; saved with the pull.
    A failing service gives one warning in ``report.warnings``, never an error. ``notice``: the
    run's one missing-contact warning (``services.http.ContactNotice``), when the run asks the
    open-data services again after this (a scheduled run's genre look-ups)."""
    from . import schema
    from .sources.run import discover_open_data, sources_on
    before = library
    saved, report.saved = report.saved, None  # the pull's, as it saved it (held no longer than needed)
    on = sources_on(settings)
    if any(on.values()):  # a run stopped from here on left a fresh pull without its finds: the next one finishes them
        store.update_manifest(**{DISCOVERING: now_iso()})
    try:
        library, found = discover_open_data(library, settings, gateway, progress, notice=notice, on=on)
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: "terminated" alone, where a stop in the pull says what was kept
        fetched = store.read_manifest().get("fetched_at")
        raise type(exc)(f"stopped during the discovery: the cache holds this refresh's pull ({shown_text(fetched)}), the answers "
                        "so far kept; the next run finishes the discovery") from None
    if found.failed:  # a service down: the last discovery's finds stay beside what it could ask, or
        # their picks would leave the playlist for a day; not a source's that asked all, nor one turned off since
        from .spotify.sync import with_last_discovery
        kept = {name: is_on and name not in found.finished for name, is_on in on.items()}
        library = with_last_discovery(library, saved, beside=True, sources=kept)
        if saved is None or not len(saved.frames["discovered"]):  # a first discovery: no last one to use
            from .sources.run import LAST_FINDS
            found.warnings = [w.replace(LAST_FINDS, "") for w in found.warnings]
    store.save_library(library, ["tracks", *schema.OPEN_DATA_FRAMES])
    library = store.with_features(library, before)  # the new candidates' audio features too
    report.tracks = len(library.track_ids)  # the total the cache holds, the open-data tracks included
    pulled = report.requests
    # the new tracks' look-ups are Spotify requests, as build-playlist counts them (they were "open-data
    # requests" here, and left out of the Spotify ones); requests_by_service still says how many
    lookups = int(found.requests_by_service.get("Spotify", 0))
    report.requests = pulled + lookups
    report.open_data_requests = found.requests - lookups
    report.requests_by_service = found.requests_by_service
    report.warnings = list(found.warnings)
    report.open_data = found.open_data
    record = last_discovery(settings, library, found, pulled)
    # the ones the albums did not find too: the line said "88 new from discovery albums, 222 from open data" of 308
    report.open_data_tracks = record["new_tracks"] - record["tracks"]["albums"]
    store.update_manifest(**{LAST_DISCOVERY: record, DISCOVERING: None})
    return library


def _may_cache_answers(held: ExitStack, settings, basis: "BuildBasis", dry_run: bool, open_data: bool,
                       albums: bool) -> bool:
    """Whether this run may ask what its seed playlist's discovery would ask (``open_data``: the
    open-data services; ``albums``: Spotify, for the albums of artists the refresh does not read
    and the albums the playlist's tracks share)
    and write the answer cache: a run that writes (or a dry run that refreshed) holds the run
    lock; another dry run takes it into ``held`` (for its discovery alone), and while another
    run holds it goes on with what the cache holds, asking nothing (one warning says what it
    did not ask), as a dry run on a fresh cache reads beside a busy scheduled run."""
    from .errors import LockHeld
    from .wording import and_list
    if not dry_run or basis.refreshed:
        return True
    try:
        held.enter_context(writing(settings, "build-playlist --dry-run (discovery)"))
    except LockHeld as exc:
        asked, cached = [], []
        if open_data:
            asked.append("asked no open-data service about the playlist")
            cached.append("answers")
        if albums:
            whose = "its" if asked else "the playlist's"
            asked.append(f"read no new album of {whose} artists from Spotify")
            cached.append("albums")
        basis.warnings.append(f"this dry run {and_list(asked)}, so it ranks what the last refresh found and the "
                              f"{and_list(cached)} earlier runs cached: {exc}")
        return False
    return True


def discover_for_playlist(gateway, store: Store, settings, library: Library, basis: "BuildBasis", playlist_id: str,
                          *, progress: Progress | None = None, notice=None, open_data=None,
                          may_ask: Callable[[bool, bool], bool] | None = None,
                          seeds: pd.Series | None = None) -> Library:
    """A ``--seed-playlist`` run's own discovery: the newest albums of the playlist
    ``playlist_id``'s main artists and the albums its tracks by several artists share
    (``albums.playlist_albums``, ``albums.shared_albums``), then the open-data sources
    asked about its tracks and main artists (the refresh's caps); the caller resolved the name
    the user gave; it asks nothing when neither has anything to ask (the sources off, every
    artist's albums read by the refresh), so callers need not check. ``open_data``: this
    run's refresh's clients (``RefreshReport.open_data``), when it refreshed: one budget, what
    it left, and a service that failed there is not asked again (nor said twice); else made
    here, before the albums are read, whose answer cache keeps them too. ``may_ask(open_data,
    albums)``: whether it may ask what it would (``_may_cache_answers``; None: it may); False (a
    dry run while another run holds the lock): no request and no write, what the cache holds
    (the albums and open-data answers earlier runs kept) is used all the same. Returns
    ``library`` with these finds beside the last refresh's, for this run only: the
    cache's found frames stay the refresh's (the albums read, the answers and the new tracks'
    look-ups are cached, so the next run of the same playlist asks nothing). Warnings and
    open-data requests are added to ``basis``; a Spotify error other than a gone artist or
    album is raised, as the refresh's albums source raises it. ``seeds``: the playlist's
    ``pipeline.playlist_seeds``, when the caller built them (its scoring takes the same)."""
    from .pipeline import playlist_seeds
    from .services.cache import answer_cache
    from .services.listenbrainz import OpenData
    from .sources.albums import playlist_album_artists, playlist_albums, shared_albums
    from .sources.run import artists_of_seeds, discover_open_data, fold_albums, open_data_on, sources_on, tally
    on = sources_on(settings)
    seeds = playlist_seeds(library, playlist_id) if seeds is None else seeds
    if seeds.empty:  # candidate_scoring says so
        return library
    before = library
    if progress is not None:  # bars of their own, after the refresh's bars of the same services
        progress = _labelled(progress, " (playlist)")
    artists = artists_of_seeds(library, seeds)
    shared = shared_albums(settings, library, seeds)
    asks, reads = open_data_on(on), bool(playlist_album_artists(settings, library, artists) or shared)
    if not (asks or reads):
        return library
    ask = may_ask is None or may_ask(asks, reads)
    if asks and open_data is None:  # made first: its answer cache keeps the albums read too (one cache)
        open_data = OpenData.from_settings(settings, notice=notice, ask=ask)
    cache = open_data.cache if open_data is not None else answer_cache(settings)
    cache.read_only = cache.read_only or not ask  # (not asking: every album it holds, however old)
    try:
        rows, tracks = playlist_albums(gateway if ask else None, settings, library, artists, cache, progress,
                                       shared=shared)
    finally:
        if ask:  # what was read so far is kept, whatever happened
            cache.close()
    library = fold_albums(library, rows, tracks)
    if asks:
        library, found = discover_open_data(library, settings, gateway if ask else None, progress, open_data,
                                            seed_tracks=seeds, seed_artist_ids=artists, notice=notice, keep=True, on=on)
        if ask:  # (else the one warning is _may_cache_answers')
            # a failure the refresh's discovery said already is not said twice (there without the
            # last discovery's new tracks, when it was the first)
            from .sources.run import LAST_FINDS
            said = {w.replace(LAST_FINDS, "") for w in basis.warnings}
            basis.warnings = list(dict.fromkeys([*basis.warnings, *(w for w in found.warnings
                                                                    if w.replace(LAST_FINDS, "") not in said)]))
            basis.open_data = tally(basis.open_data, found.requests_by_service)
    return library if library is before else store.with_features(library, before)


def _labelled(progress: Progress, suffix: str) -> Progress:
    return lambda stage, done, total: progress(stage + suffix, done, total)


def last_discovery(settings, library: Library, found, spotify_requests: int) -> dict[str, Any]:
    """The record of one discovery step: when, which sources were on, new tracks per source,
    requests per service, in all and per open-data source ("shared": listen counts and look-ups
    of the new tracks; the albums source's are among the refresh's Spotify requests), answers
    the cache gave, and the warning line of a service that failed."""
    from .sources.albums import new_ids
    from .sources.run import sources_on
    albums = new_ids(library.frames, open_store(settings))
    return {"when": now_iso(), "enabled": bool(settings.discovery.enabled), "sources": sources_on(settings),
            "tracks": {"albums": len(albums), **found.by_source},
            # each track once: one two sources found was counted twice in `status`'s total
            "new_tracks": len(albums | found.track_ids),
            "requests_by_service": dict(found.requests_by_service), "requests": int(found.requests),
            "requests_by_source": {k: dict(v) for k, v in found.requests_by_source.items()},
            "spotify_requests": int(spotify_requests), "cached_answers": int(found.cached_answers),
            "warnings": list(found.warnings)}


@dataclass
class BuildResult:
    playlist_id: str | None
    dry_run: bool
    table: pd.DataFrame
    added: int
    removed: int
    kept: int
    created: bool = False
    mode: str = "taste"
    reason: str | None = None
    short: str = ""  # why fewer than blend.max_tracks tracks were chosen (pipeline.Recommendations.short)
    new_short: str = ""  # why fewer tracks are new than candidates.new_share asks for (``new_short``)
    weights: dict[str, float] = field(default_factory=dict)
    weight_factors: dict[str, float] = field(default_factory=dict)  # scorer -> weight_factor() when not 1
    messages: list[str] = field(default_factory=list)
    requests: int = 0  # to Spotify
    open_data_requests: dict[str, int] = field(default_factory=dict)  # discovery's, by service (a refresh's, a --seed-playlist run's)
    refreshed: bool = False
    seconds: float = 0.0
    added_ids: list[str] = field(default_factory=list)
    removed_ids: list[str] = field(default_factory=list)
    # track id -> (name, artists) of the diff's tracks and a left playlist's (``label_parts``)
    label_parts: dict[str, tuple[str, str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)  # the playlist's content when nothing was recommended
    # a track leaving the playlist -> the pinned track of its artist it made room for (``pipeline.gave_way_to_pins``)
    gave_way: dict[str, str] = field(default_factory=dict)
    playlist_name: str = ""  # the playlist's name as Spotify shows it (or will: one to create)
    # the playlist keeps the order it had, not the table's: no track moved more than publish.DRIFT_PLACES
    order_kept: bool = False
    explained: dict[str, Any] | None = None  # `build-playlist --why TRACK`: ``pipeline.explain_best``'s answer
    # a dry run's: a track leaving the playlist (not for a pin: ``gave_way``) -> (verdict, reason) of
    # ``pipeline.explain_track``: what keeps it off the next playlist
    why_removed: dict[str, tuple[str, str]] = field(default_factory=dict)
    # a dry run from the cache alone (Spotify did not answer, or no login): its note, also in ``messages``
    from_cache: str = ""

    @property
    def contributions(self) -> dict[str, str]:
        """Scorer -> the table's column of its share of each score (``contrib_<scorer>``), in
        the table's order: the one place that maps the two."""
        return {c[len("contrib_"):]: c for c in self.table.columns if c.startswith("contrib_")}

    @property
    def share_columns(self) -> dict[str, str]:
        """The ``contributions`` the table and the Next page show: those of a scorer whose weight
        counts (a scorer at weight 0 has no share)."""
        from .blend import in_blend
        contributions = self.contributions
        return {name: contributions[name] for name in in_blend(self.weights, contributions)}

    @property
    def sharing(self) -> list[str]:
        """The scorers of ``share_columns``."""
        return list(self.share_columns)

    @cached_property
    def labels(self) -> dict[str, str]:
        """Track id -> "name - artists" (the CLI's diff lines); built once (``label_parts`` is
        set when the result is made)."""
        from .wording import named
        return {t: f"{named(n)} - {named(a)}" if a else named(n) for t, (n, a) in self.label_parts.items()}

    def to_json(self) -> dict[str, Any]:
        contributions = self.contributions
        tracks = []
        for row in self.table.itertuples(index=False):
            r = row._asdict()
            tracks.append({
                "id": r["track_id"], "track_id": r["track_id"], "name": r["name"], "artists": r["artists"],
                "artist_names": list(r["artist_names"]),
                "score": None if pd.isna(r["score"]) else round(float(r["score"]), 4),
                "contributions": {name: (None if pd.isna(r[c]) else round(float(r[c]), 4))
                                  for name, c in contributions.items()},
                "why": r.get("why", ""), "pinned": bool(r.get("pinned", False)),
                "new": bool(r.get("new", False)), "source": r.get("source", "library"),
                "artist_mix": None if pd.isna(r.get("artist_mix", float("nan"))) else round(float(r["artist_mix"]), 4),
            })
        if self.table.empty:  # "tracks" is always the playlist's content after the run
            tracks = [{"id": t, "track_id": t, "name": self.labels.get(t, t), "artists": "", "artist_names": [], "score": None, "contributions": {},
                       "why": "left as it was", "pinned": False, "artist_mix": None, "new": None, "source": None}
                      for t in self.unchanged]  # the same keys as a scored track's; not scored this run: None
        return {"playlist_id": self.playlist_id, "dry_run": self.dry_run, "tracks": tracks,
                "added": self.added, "removed": self.removed, "kept": self.kept, "created": self.created,
                "mode": self.mode, "reason": self.reason, "short": self.short, "new_short": self.new_short,
                "weights": self.weights,
                "weight_factors": {k: round(v, 4) for k, v in self.weight_factors.items()}, "messages": self.messages,
                # by service: the name refresh --json gives it; "open_data_requests", this dict too, is kept
                # for scripts written before (refresh's key of that name is a whole number)
                "requests": self.requests, "requests_by_service": self.open_data_requests,
                "open_data_requests": self.open_data_requests,
                "refreshed": self.refreshed, "seconds": round(self.seconds, 2), "order_kept": self.order_kept,
                "diff": {"added": self.added_ids, "removed": self.removed_ids, "gave_way": self.gave_way,
                         "why_removed": {t: {"verdict": v, "reason": r} for t, (v, r) in self.why_removed.items()}}}


def saved_after_recommended(library: Library, playlist_id: str | None) -> list[str]:
    """Tracks of the managed playlist that the user saved after we put them there: feedback.

    (A track saved long before it was recommended says nothing about the recommendation.)
    """
    if not playlist_id:
        return []
    items = library.playlist_items
    mine = items[items["playlist_id"] == playlist_id][["track_id", "added_at"]]
    both = mine.merge(library.saved_tracks, on="track_id", suffixes=("_playlist", "_saved"))
    added, saved = utc_times(both["added_at_playlist"]), utc_times(both["added_at_saved"])
    return list(dict.fromkeys(both.loc[saved > added, "track_id"].astype(str)))


USER_LIKED = "user_liked"  # manifest key: tracks of the managed playlist you saved after we put them there


def liked_tracks(store: Store, library: Library, state) -> list[str]:
    """The saved-after-recommended feedback, remembered: what ``saved_after_recommended`` finds
    now plus what earlier runs found (manifest ``user_liked``), as long as the track is still
    saved and was not removed by you. A saved track is a seed, so the next run takes it out of
    the managed playlist; read from the playlist alone, the feedback left with it."""
    saved = set(library.saved_tracks["track_id"].astype(str))
    removed = set(state.user_removed)
    found = list(store.read_manifest().get(USER_LIKED, [])) + saved_after_recommended(library, state.playlist_id)
    return [t for t in dict.fromkeys(found) if t in saved and t not in removed]


NOT_PLAYABLE = "not_playable"  # manifest key: track -> when the managed playlist showed it greyed out (see not_playable)
NOT_PLAYABLE_DAYS = 30  # then it is a candidate again (licences change both ways)
# restrictions.reason of a greyed pick that days alone do not change (your account does not play
# explicit content, your subscription does not have it): remembered LASTING_DAYS days, or until
# Spotify shows a track of that reason playing for you (you changed the setting)
LASTING = ("explicit", "product")
LASTING_DAYS = 180
_GREY_WHY = {"market": "{do} not play in your country",
             "explicit": "{are} explicit, and your account does not play explicit tracks",
             "product": "{do} not play with your Spotify subscription"}
_GREY_BACK = {"explicit": "once Spotify plays an explicit track for you",
              "product": "once one of them plays for you"}


def _grey_reason(remembered: Any) -> tuple[Any, str]:
    """(when, why) of a ``not_playable`` entry: a bare time is a "market" one."""
    return (remembered.get("at"), str(remembered.get("reason"))) if isinstance(remembered, dict) \
        else (remembered, "market")


def _plays_again(library: Library | None, state, seen: dict) -> set[str]:
    """The ``LASTING`` reasons this run's read of the managed playlist (with a market) shows
    no longer hold: a track remembered for that reason plays now (you added it back by hand),
    or, for "explicit", any explicit track in it plays (your account plays explicit content)."""
    playing = [t for t in state.current if t not in state.unplayable]
    back = {_grey_reason(seen[t])[1] for t in playing if t in seen}
    if library is not None and playing:
        tracks = library.frames["tracks"]
        flags = tracks.loc[tracks["track_id"].isin(playing), "explicit"]
        if bool(flags.eq(True).any()):  # a nullable column: unknown is not explicit
            back.add("explicit")
    return back & set(LASTING)


def not_playable(store: Store, state, library: Library | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The picks Spotify said do not play for you (manifest ``not_playable``: track -> when a
    read of the managed playlist found it, or {"at": when, "reason": why} for a ``LASTING``
    reason), those of "market" remembered ``NOT_PLAYABLE_DAYS`` days, the others
    ``LASTING_DAYS`` or until this run's read shows that reason no longer holds
    (``_plays_again``; ``library`` says which tracks are explicit), and the picks this run's
    read found for the first time (track -> reason; a pick Spotify stores under another id is
    one pick, under the id we recommended). A track you pinned is never among them."""
    from .isotime import younger_than
    pins = set(state.pinned)
    seen = store.read_manifest().get(NOT_PLAYABLE)
    seen = {str(t): w for t, w in seen.items()} if isinstance(seen, dict) else {}
    back = _plays_again(library, state, seen)
    kept: dict[str, Any] = {}
    for t, w in seen.items():
        at, why = _grey_reason(w)
        if why not in back and younger_than(at, LASTING_DAYS if why in LASTING else NOT_PLAYABLE_DAYS):
            kept[t] = w
    new = {t: why for t, why in state.unplayable.items() if t not in kept and t not in pins}
    grey = {**kept, **{t: {"at": now_iso(), "reason": why} if why in LASTING else now_iso() for t, why in new.items()}}
    stored_as = {state.written_as[t] for t in new if state.written_as.get(t, t) != t}
    return {t: w for t, w in grey.items() if t not in pins}, {t: w for t, w in new.items() if t not in stored_as}


def not_playable_notes(new: dict[str, str]) -> list[str]:
    """One note per reason of the picks this run found greyed out (``not_playable``'s new)."""
    from .wording import plural
    notes = []
    for why in dict.fromkeys(new.values()):
        n = sum(1 for w in new.values() if w == why)
        text = _GREY_WHY.get(why, _GREY_WHY["market"]).format(do=plural(n, "does", "do"), are=plural(n, "is", "are"))
        later = (f"asked again after {LASTING_DAYS} days or {_GREY_BACK[why]}; add one back to the playlist by hand "
                 "to keep it") if why in LASTING else f"asked again after {NOT_PLAYABLE_DAYS} days"
        notes.append(f"{n} {plural(n, 'pick')} of the managed playlist {text} (greyed out in Spotify): "
                     f"left out, {later}")
    return notes


def _without_playlist(library: Library, *playlist_ids: str | None) -> Library:
    drop = [p for p in playlist_ids if p]
    if not drop:
        return library
    pl, items = library.playlists, library.playlist_items
    return library.replace(playlists=pl[~pl["playlist_id"].isin(drop)],
                           playlist_items=items[~items["playlist_id"].isin(drop)])


def only_ours(library: Library, ours: Iterable[str | None]) -> list[str]:
    """The tracks that only the playlists ``ours`` (this tool's output) hold: in none of your
    other playlists, not saved, not a top track and found by no discovery. The cache keeps them
    (the managed playlist's items; a cache of an older version, the mood exports' too), but they
    are in nothing of yours: a track left only in an exported mood playlist after you deleted
    its playlist was picked as "new to you"."""
    drop = {str(p) for p in ours if p}
    items = library.playlist_items
    if not drop or not len(items):
        return []
    in_ours = items["playlist_id"].astype(str).isin(drop).to_numpy(dtype=bool)
    if not in_ours.any():
        return []
    f = library.frames
    elsewhere = set(items.loc[~in_ours, "track_id"].astype(str))
    for name in ("top_tracks", "saved_tracks", "discovery", "discovered"):
        elsewhere.update(f[name]["track_id"].astype(str))
    return [t for t in dict.fromkeys(items.loc[in_ours, "track_id"].astype(str)) if t not in elsewhere]


def _refuse_our_playlist(library: Library, ref: str, ours: list[str | None], store: Store,
                         playlists_of: str | None = None) -> None:
    """UsageError naming the reason when a command names a playlist this tool writes
    (`recommend playlists` lists it, so "no playlist named" would be a riddle), also one created
    since the last refresh (not in the cached library yet: `recommend playlists` adds it).
    ``playlists_of``: as ``build_playlist``'s (the sample library's are listed by `recommend
    playlists --demo`, the command the error names in the demo)."""
    from .library import name_key, playlist_ref_id
    from .publish import managed_history
    try:
        if _without_playlist(library, *ours).find_playlist(ref) is not None:
            return  # one of yours: a playlist of ours of the same name is never a seed, so not "2 playlists"
    except UsageError:
        return  # several of yours have the name: resolve_playlist asks which one
    pl = library.playlists
    try:
        pid = library.replace(playlists=pl[pl["playlist_id"].isin([p for p in ours if p])]).find_playlist(ref)
    except UsageError:  # two of ours share the name (an earlier managed playlist)
        pid = next(p for p in ours if p)
    if pid is None:
        pid = next((h["id"] for h in managed_history(store) if h["id"] == playlist_ref_id(ref)
                    or name_key(str(h.get("name") or "")) == name_key(ref)), None)
    if pid is not None and pid in ours:
        from .publish import other_accounts
        mine = "your own playlists (`recommend playlists`)" if playlists_of is None else \
            f"the playlists of {playlists_of} (`recommend playlists --demo`)"
        theirs = other_accounts(store.read_manifest(), library.playlists)
        if pid in theirs:  # never written by this tool for you: not "written by this tool"
            owner = f" (its owner is {theirs[pid]!r})" if theirs[pid] else ""
            raise UsageError(f'playlist "{ref}" is another account\'s{owner}, once recorded here as the managed '
                             "playlist: left alone, never written, and, as the tool's output, never your taste: "
                             f"pick one of {mine}")
        raise UsageError(f'playlist "{ref}" is written by this tool (its output, never your taste): '
                         f"pick one of {mine}")


def build_playlist(settings, *, dry_run: bool = False, seed_playlist: str | None = None,
                   new_playlist: bool = False, force_refresh: bool = False, gateway=None,
                   progress: Progress | None = None, notice=None, playlists_of: str | None = None,
                   expect=None, explain: str | None = None, where=None) -> BuildResult:
    """Refresh when stale, score, and write the managed playlist (unless ``dry_run``).
    ``explain`` (a dry run's: `--why`): a track's id, URI, link or name, resolved in the library as
    ``explore.resolve_track`` does (``where``: how its errors name the library, ``explore.CACHE``
    by default), whose place or the rule that keeps it out is the result's ``explained``.
    ``notice``: as ``discover``'s; ``playlists_of``: whose playlists an unknown ``seed_playlist``'s
    error names (None: the user's; "the sample library" for the demo's). Your playlists are listed once: by the refresh when there is
    one, else by ``publish.managed_state``. ``expect``: as ``publish.publish``'s (a run that
    recommends nothing writes nothing and does not call it).

    Every run that writes takes the run lock. A dry run writes nothing (no lock) unless the
    cache must be refreshed (stale, missing or ``force_refresh``): then it takes the lock like
    any writer before pulling, and exits 6 while another run holds it; with ``seed_playlist`` it
    also takes it while it reads the albums of that playlist's artists and asks open data about
    it (``_may_cache_answers``: while another run holds it, it asks nothing, uses what earlier
    runs cached of those and says so).
    """
    started = time.monotonic()
    gateway = gateway or connect(settings, check=not dry_run)  # (a dry run goes on from the cache without a login)
    with ExitStack() as held:
        if not dry_run:
            held.enter_context(writing(settings, "build-playlist"))
        basis = _build_basis(held, settings, gateway, dry_run=dry_run, seed_playlist=seed_playlist,
                             force_refresh=force_refresh, progress=progress, notice=notice, playlists_of=playlists_of,
                             unreached_ok=dry_run, new_playlist=new_playlist)
        result = _finish_build(basis, settings, dry_run=dry_run, new_playlist=new_playlist, expect=expect,
                               explain=explain, where=where, reasons=dry_run and explain is None)
    waited = gateway.waited_note()  # why a night's run took that long, in cron's mail
    if waited:
        result.messages.append(waited)
    result.seconds = time.monotonic() - started
    return result


@dataclass
class BuildBasis:
    """A build's work before the weights are used: the library read (or refreshed), the
    managed playlist's state, the seeds and candidates with each scorer's scores of them
    (``pipeline.Scoring``). `recommend web` keeps one per library and non-weight settings, so
    that a weight slider's dry run (``dry_run_with``) only blends and selects again."""

    store: Store
    library: Library
    state: Any  # publish.ManagedState
    scoring: Any  # pipeline.Scoring
    gateway: Any
    refreshed: bool = False
    refresh_requests: int = 0  # its refresh's Spotify requests, as `refresh` counts them (not the run's others)
    warnings: list[str] = field(default_factory=list)
    open_data: dict[str, int] = field(default_factory=dict)
    listing: list[dict] | None = None  # your playlists as the refresh listed them: not listed twice
    grey: dict[str, Any] = field(default_factory=dict)  # the manifest's not_playable after this run
    grey_notes: list[str] = field(default_factory=list)  # picks found greyed out: said when they leave
    liked: list[str] = field(default_factory=list)  # liked_tracks: recorded by a run that is not refused
    # ``unreached_ok``: Spotify did not answer (or there was no login), so the basis is the cache's alone
    unreached: Exception | None = None
    cache_note: str = ""  # then: what the run shows instead (``unreached_note``), among ``warnings``


def dry_run_basis(settings, *, gateway=None, unreached_ok: bool = False) -> BuildBasis:
    """What ``build_playlist(settings, dry_run=True)`` computes before the weights (a refresh
    too when the cache is stale); ``dry_run_with`` finishes it for any weights. Its ``library``
    (read or refreshed: ``refreshed``) is the login's account's: a cache of another account
    (``publish.managed_state`` refused it) was refreshed first. Spotify not answering (or no
    login) raises, or with ``unreached_ok`` gives the cache's basis (``unreached``: why), as a
    dry run of `build-playlist` does."""
    gateway = gateway or connect(settings, check=not unreached_ok)
    with ExitStack() as held:
        return _build_basis(held, settings, gateway, dry_run=True, unreached_ok=unreached_ok)


def dry_run_with(basis: BuildBasis, settings, explain: str | None = None, where=None,
                 reasons: bool = False) -> BuildResult:
    """``build_playlist(settings, dry_run=True)`` from a ``basis`` made with the same settings
    but (perhaps) other weights or ``candidates.new_share``: the same result. ``explain``,
    ``where``: as ``build_playlist``'s (`--why`; the web app's Search page); ``reasons``: the
    result's ``why_removed`` too (the Next page's Removed list; not a slider move's preview)."""
    started = time.monotonic()
    result = _finish_build(basis, settings, dry_run=True, new_playlist=False, explain=explain, where=where,
                           reasons=reasons)
    result.seconds = time.monotonic() - started
    return result


@dataclass
class _Refresh:
    """A build's refresh, called when the cache must be pulled (and once more when it turns out to
    be another account's than the login's): it keeps in ``basis`` what each pull said and did."""

    held: ExitStack
    settings: Any
    basis: BuildBasis
    version: Any  # the cache's data version as the build first read it
    dry_run: bool
    progress: Progress | None
    notice: Any
    open_data: Any = None  # the refresh's open-data clients: the seed playlist's discovery goes on with them

    def __call__(self) -> Library:
        from .sources.run import tally
        basis, store = self.basis, self.basis.store
        if self.dry_run and not basis.refreshed:  # the refresh writes the cache: a writer like any other (once)
            self.held.enter_context(writing(self.settings, "build-playlist --dry-run (refresh)"))
            store.forget_manifest()  # read before the lock: another run may have written it since
        # the library read first is the pull's starting point unless the cache changed since
        # (another run saved it before this one took the lock): not read twice
        cached = basis.library if store.data_version() == self.version else None
        library, pulled = pull(basis.gateway, store, self.settings, self.progress, notice=self.notice, cached=cached)
        # what the refresh had to recover (a listing kept from the last one, a cache set aside), as `refresh`
        # says it; a second pull (the login's account not the first one's) adds to the first's, whose
        # saved cache, set-aside state and requests were as real as its own
        basis.warnings = list(dict.fromkeys([*basis.warnings, *pulled.problems, *pulled.warnings]))
        basis.open_data, self.open_data = tally(basis.open_data, pulled.requests_by_service), pulled.open_data
        basis.refreshed, basis.listing, basis.library = True, pulled.listing, library
        basis.refresh_requests += pulled.requests
        return library


def _library_now(refresh: _Refresh, library: Library | None, *, force_refresh: bool,
                 unreached_ok: bool) -> tuple[Library, Exception | None]:
    """The library a build scores, and why Spotify was not reached (None when it was, or not
    asked): the cache's, or refreshed when it is missing, stale, ``force_refresh`` or its last
    refresh stopped during its discovery. See ``_build_basis`` for ``unreached_ok``."""
    store, settings = refresh.basis.store, refresh.settings
    age = store.age_hours()
    stale = force_refresh or age is None or age > settings.cache.max_age_hours
    unfinished = library is not None and bool(store.read_manifest().get(DISCOVERING))
    if unfinished and not stale:
        refresh.basis.warnings.append("the last refresh was stopped during its discovery: this run refreshes again "
                                      "to finish it (the answers it had saved are kept)")
    if library is None or stale or unfinished:
        try:
            return refresh(), None
        except (*UNREACHED, AuthError) as exc:
            if isinstance(exc, OtherAccount) or not (unreached_ok and library is not None and not force_refresh):
                raise
            return store.load_library(), exc  # the last complete refresh (a pull saves only whole)
    return library, None


def _state_now(refresh: _Refresh, library: Library, unreached: Exception | None, *,
               unreached_ok: bool) -> tuple[Library, Any]:
    """(library, the managed playlist's state): read from Spotify, or as this computer last wrote
    it when Spotify was not reached (then ``basis`` says so: ``unreached``, ``cache_note``). A
    fresh cache of another account than the login's is refreshed first (the library returned)."""
    from . import publish
    basis, store, settings = refresh.basis, refresh.basis.store, refresh.settings
    if unreached is None:
        try:
            state = publish.managed_state(basis.gateway, store, settings, library.user_id, listing=basis.listing)
        except OtherAccount:  # a fresh cache of another account than the login's: pull this one's
            library = refresh()
            state = publish.managed_state(basis.gateway, store, settings, library.user_id, listing=basis.listing)
        except (*UNREACHED, AuthError) as exc:  # (OtherAccount, an AuthError, is the clause above's)
            if not unreached_ok:
                raise
            unreached = exc
    if unreached is not None:
        state = publish.recorded_state(store, settings)
        basis.cache_note = unreached_note(unreached, store)
        basis.warnings.append(basis.cache_note)
        basis.unreached = unreached
    return library, state


def _take_pins(store: Store, state, new_playlist: bool) -> None:
    """The pins you asked for in `recommend web` join ``state``'s (they are yours, not another
    user's adds); with ``new_playlist`` a hand add of the old playlist was your edit of that one."""
    if new_playlist:  # a fresh playlist: it copied them
        state.pinned, state.not_yours = [], []
    requested = pin_requests(store, state.user_removed)
    state.pinned = list(dict.fromkeys(state.pinned + requested))
    asked = set(requested)
    state.not_yours = [t for t in state.not_yours if t not in asked]


def _build_basis(held: ExitStack, settings, gateway, *, dry_run: bool, seed_playlist: str | None = None,
                 force_refresh: bool = False, progress: Progress | None = None, notice=None,
                 playlists_of: str | None = None, unreached_ok: bool = False, new_playlist: bool = False) -> BuildBasis:
    """``new_playlist`` (`--new-playlist`): the tracks you added by hand to the playlist managed
    until now stay there, with it, and are neither pinned nor liked in the new one (as after
    you delete it); your removals and the pins you asked for in `recommend web` carry over.
    ``unreached_ok`` (a dry run of `build-playlist`): when Spotify does not answer the refresh
    of a stale cache (not one asked for: ``force_refresh``) or the read of the managed playlist,
    or there is no login (``AuthError``, but for another account's: ``OtherAccount``), go on
    from the cache and the playlist as this computer last wrote it, saying so in a warning
    (``unreached_note``); else (a real run, the web app's pages, which say it their own way) raise."""
    from . import publish
    from .pipeline import candidate_scoring, playlist_seeds, resolve_playlist
    store = open_store(settings)
    held.enter_context(store.one_read())  # the manifest is read once per run
    version = store.data_version()  # (before the library: a pull starts from it only if the cache is that one)
    basis = BuildBasis(store, store.load_library(), None, None, gateway)
    refresh = _Refresh(held, settings, basis, version, dry_run, progress, notice)
    library, unreached = _library_now(refresh, basis.library, force_refresh=force_refresh, unreached_ok=unreached_ok)
    library, state = _state_now(refresh, library, unreached, unreached_ok=unreached_ok)
    _take_pins(store, state, new_playlist)
    # every playlist we ever managed is our output, never the user's taste
    ours = [*publish.our_playlist_ids(store, library.playlists), state.playlist_id]
    pid = seeds = None  # the seed playlist, resolved once, and its seeds, built once: its discovery and
    # its scoring use them (the discovery adds only tracks the library did not have: the same seeds after it)
    if seed_playlist is not None:
        _refuse_our_playlist(library, seed_playlist, ours, store, playlists_of)
        # among the playlists it may be (not ours: "did you mean" never names one it would refuse)
        pid = resolve_playlist(_without_playlist(library, *ours), seed_playlist, playlists_of)
        seeds = playlist_seeds(library, pid)
        # (it decides whether there is anything to ask: the sources on, artists the refresh does not read)
        with ExitStack() as asking:  # a dry run lets the lock go once the answers are saved
            def may_ask(asks: bool, reads: bool) -> bool:  # a dry run without Spotify (or a login): what earlier
                # runs kept, asked nothing (the albums are Spotify's; its note says the cache is all it shows)
                return unreached is None and _may_cache_answers(asking, settings, basis, dry_run, asks, reads)
            library = discover_for_playlist(gateway, store, settings, library, basis, pid, progress=progress,
                                            notice=notice, open_data=refresh.open_data, may_ask=may_ask, seeds=seeds)
    scoring_library = _without_playlist(library, *ours)
    liked = basis.liked = liked_tracks(store, library, state)
    positive = list(dict.fromkeys(state.own_pins + liked))  # not the tracks another user added
    basis.grey, newly_grey = not_playable(store, state, library)
    basis.grey_notes = not_playable_notes(newly_grey)
    basis.library, basis.state = library, state
    basis.scoring = candidate_scoring(scoring_library, settings, seed_playlist=pid, seeds=seeds,
                                      exclude=state.user_removed, unplayable=list(basis.grey), pinned=state.pinned,
                                      positive=positive, playlists_of=playlists_of, only_ours=only_ours(library, ours),
                                      new_pins=new_pins(state))
    return basis


def new_pins(state) -> list[str]:
    """The pinned tracks not on the managed playlist yet (pinned in `recommend web` since it was
    last published, under the id Spotify stores too): "pinned by you", the others "kept by you"."""
    on = set(state.current)
    return [t for t in state.pinned if t not in on and state.written_as.get(t) not in on]


CACHE_SHOWN = "this dry run shows your cache"  # (the web app's Next page: "this page shows")


def unreached_note(exc: Exception, store: Store) -> str:
    """What a dry run shows when Spotify did not answer or there is no login (``exc``, said
    first): the cache's last refresh and the managed playlist as this computer last wrote it
    (``publish.recorded_state``)."""
    from .publish import MAIN, slot_record
    manifest = store.read_manifest()
    fetched = manifest.get("fetched_at")
    written = slot_record(manifest, MAIN)
    when = written.get("updated_at")
    said = str(exc).replace(f" (or try {TRY_DEMO})", "")  # (no login: you have a cache of your own)
    return (f"{said.rstrip('.')}; {CACHE_SHOWN} as its last refresh left it"
            + (f" ({shown_text(fetched)})" if fetched else "")
            + (f" and the diff against the managed playlist as recommend last wrote it ({shown_text(when)}): edits "
               "you made to it in Spotify since are not seen" if when else "; the managed playlist was not read"))


SEE_DISCOVERY = "`recommend status` says what the last discovery found"  # (the web app's: its Discovery page)


def new_short(table, new_candidates: int, settings) -> str:
    """Why fewer of the playlist's (unpinned) tracks are new to you than ``candidates.new_share``
    asks for, else "": no candidate is new (every discovery source off, or discovery found
    none), or too few of the ``new_candidates`` could take a place (the mix takes those with a
    score, within the artist cap). "0 of 50 tracks are new to you (candidates.new_share)" said
    no more, with every source off too."""
    import math

    from .sources.run import sources_on
    share = float(settings.candidates.new_share)
    if table.empty or share <= 0 or "new" not in table:
        return ""
    unpinned = table[~table["pinned"].astype(bool)]
    need = math.ceil(share * len(unpinned) - 1e-9)
    have = int(unpinned["new"].astype(bool).sum())
    if have >= need:
        return ""
    asked = f"candidates.new_share {share:g} asks for {need}"
    n = new_candidates
    if n == 0 and not any(sources_on(settings).values()):
        return f"{asked}, but every discovery source is off (discovery.enabled, refresh.discovery_artists)"
    status = SEE_DISCOVERY
    if n == 0:
        return f"{asked}, but no candidate is new to you ({status})"
    if have >= n:  # every one of them taken
        return f"{asked}, but only {n} {'candidate is' if n == 1 else 'candidates are'} new to you ({status})"
    return (f"{asked}, but only {have} of the {n} {'candidate' if n == 1 else 'candidates'} new to you could take a "
            f"place (a score above 0, within blend.max_per_artist; {status})")


def gave_way_note(gave_way: dict[str, str], labels: dict[str, tuple[str, str]]) -> list[str]:
    """The one line naming the tracks that left the playlist to make room for a pinned track of
    their artist (``blend.max_per_artist``), each with that pin; [] when none did. Said under the
    table, not as a `note:`: the consequence of your own pin, not news for a cron mail."""
    from .wording import plural
    if not gave_way:
        return []

    def label(t: str) -> str:
        name, artists = labels.get(t, (t, ""))
        return f"{name!r}" + (f" - {artists}" if artists else "")
    n = len(gave_way)
    pairs = "; ".join(f"{label(t)} for your pinned {labels.get(p, (p, ''))[0]!r}" for t, p in gave_way.items())
    return [f"{n} {plural(n, 'track')} made room for a pinned track of the same artist (blend.max_per_artist "
            f"caps the tracks per artist): {pairs}"]


def _finish_build(basis: BuildBasis, settings, *, dry_run: bool, new_playlist: bool, expect=None,
                  explain: str | None = None, where=None, reasons: bool = False) -> BuildResult:
    """The build from its ``basis``; ``reasons``: a dry run's ``why_removed`` (what the diff a
    person reads says of each leaving track; an explanation each, left out where nothing shows it)."""
    from . import publish
    from .pipeline import recommend
    store, library, state, gateway = basis.store, basis.library, basis.state, basis.gateway
    recs = recommend(basis.scoring, settings)
    explained = None
    if explain is not None:
        explained = _explain_text(basis.scoring, recs, settings, explain, where)
    table = recs.table
    # nothing recommended (pinned tracks alone, short of max_tracks, are not a recommendation):
    # the playlist is left exactly as it is
    if not (~table["pinned"].astype(bool)).any() and len(table) < settings.blend.max_tracks:
        table = table.iloc[0:0]

    def record_found(grey: bool = True) -> None:  # the liked (and greyed) picks, in one manifest write
        manifest = store.read_manifest()
        changes = {USER_LIKED: basis.liked} if basis.liked != list(manifest.get(USER_LIKED, [])) else {}
        if grey and basis.grey != manifest.get(NOT_PLAYABLE, {}):
            changes[NOT_PLAYABLE] = basis.grey
        if changes:
            store.update_manifest(**changes)
    if table.empty:  # greyed picks stay too: remembered and said by the run that replaces them
        if not dry_run:
            record_found(grey=False)
        return BuildResult(state.playlist_id, dry_run, table, 0, 0, len(state.current),
                           mode=recs.mode, reason=recs.reason, weights=dict(recs.weights),
                           requests=gateway.requests_made, open_data_requests=basis.open_data,
                           refreshed=basis.refreshed, unchanged=state.current, label_parts=label_parts(library, state.current, state.labels),
                           playlist_name=publish.shown_name(state, settings, state.playlist_id),
                           messages=list(dict.fromkeys(store.problems + state.messages + basis.warnings)),
                           explained=explained, from_cache=basis.cache_note)

    def before_writes(playlist_id, plan) -> None:  # the liked and greyed picks found, once the plan is not refused
        if expect is not None:
            expect(playlist_id, plan)
        record_found()
    desired = list(table["track_id"])
    pub = publish.publish(gateway, store, settings, state, desired, dict(recs.weights), dry_run=dry_run,
                          new_playlist=new_playlist, expect=before_writes)
    plan = pub.plan
    if not dry_run:  # the requested pins are now recorded with the playlist (state.pinned)
        store.update_manifest(**{PIN_REQUESTS: []})
    from .pipeline import gave_way_to_pins
    gave_way = gave_way_to_pins(recs, library, plan.removed, settings.blend)
    why_removed = {}
    if reasons:  # the diff a person reads: why each track leaves (the run's scores, not blended again)
        from .pipeline import explain_track
        for t in plan.removed:
            if t not in gave_way:
                e = explain_track(basis.scoring, recs, settings, t, why=False)
                why_removed[t] = (e["verdict"], e["reason"])
    labels = label_parts(library, list(dict.fromkeys(plan.added + plan.removed + list(gave_way.values()))), state.labels)
    return BuildResult(pub.playlist_id, dry_run, table, len(plan.added), len(plan.removed), len(plan.kept),
                       created=pub.created, mode=recs.mode, short=recs.short,
                       new_short=new_short(table, recs.new_candidates, settings), weights=dict(recs.weights),
                       weight_factors=dict(recs.weight_factors),
                       messages=list(dict.fromkeys(store.problems + basis.warnings + basis.grey_notes + pub.messages)),
                       requests=gateway.requests_made, open_data_requests=basis.open_data, refreshed=basis.refreshed,
                       added_ids=plan.added, removed_ids=plan.removed, gave_way=gave_way, label_parts=labels,
                       playlist_name=publish.shown_name(state, settings, pub.playlist_id), order_kept=pub.order_kept,
                       explained=explained, why_removed=why_removed, from_cache=basis.cache_note)


def _explain_text(scoring, recs, settings, text: str, where) -> dict:
    """`build-playlist --why TEXT`: ``pipeline.explain_track`` of the track ``text`` names, with
    ``also_matches``, the other songs its words name as well; an artist's name ("metallica")
    answers of that artist's best placed track (``pipeline.explain_best``), and ``artist`` says
    so: {"name", "tracks"} (its tracks in the cache), else None."""
    from .explore import CACHE, TrackIndex, artist_named, artist_track_ids, equal_match_songs, resolve_track
    from .links import parse_track_ref
    from .pipeline import explain_best, explain_track
    library = scoring.library
    # words are searched for twice, the best hit and the songs as good: one index for both
    index = TrackIndex().fit(library) if parse_track_ref(text) is None and len(library.track_ids) else None
    track_id = resolve_track(library, text, where=where or CACHE, index=index)
    artist = artist_named(library, text, track_id)
    if artist is not None:
        ids = artist_track_ids(library, artist)
        return {**explain_best(scoring, recs, settings, ids), "artist": {"name": artist, "tracks": len(ids)},
                "also_matches": []}
    return {**explain_track(scoring, recs, settings, track_id), "artist": None,
            "also_matches": list(equal_match_songs(library, text, track_id, index).values())}


# ----- steering from `recommend web`: remembered in the manifest, applied by the next run -----
PIN_REQUESTS = "pin_requests"  # manifest key: tracks pinned in `recommend web`, placed first next run
REMOVED_PINS = "removed_pins"  # manifest key: the pins a removal in `recommend web` ended, which its Undo pins again


def pin_requests(store: Store, user_removed: list[str] = ()) -> list[str]:
    removed = set(user_removed)
    return [t for t in store.read_manifest().get(PIN_REQUESTS, []) if t not in removed]


def steer(settings, *, remove: list[str] = (), pin: list[str] = (), unpin: list[str] = (),
          restore: list[str] = (), account: str | None = None) -> dict:
    """Remove tracks (remembered like a removal in Spotify: never recommended again), put removed
    tracks back (``restore``: the Undo of a removal, which pins again a track the removal
    unpinned: it put back an unpinned track, which the next run took off the playlist), and pin
    or unpin tracks (placed first by the next run, then kept like tracks you added by hand).
    ``account``, from a page: the user id of the library it showed; a steer of a page opened
    before a login as another account is refused (it was written into that account's state)."""
    store = open_store(settings)
    with writing(settings, "web steer"):
        manifest = store.read_manifest()
        if account is not None and account != (manifest.get("user_id") or ""):
            done = ("removed" if remove else "pinned" if pin else "unpinned" if unpin else "put back")
            raise UsageError(f"not {done}: this page showed the library of another Spotify account than the one "
                             "logged in now (a `recommend auth` since): reload the page")
        if set(pin) & set(manifest.get("user_removed", [])):  # a page opened before its removal (another tab)
            raise UsageError("not pinned: you removed this track (on this page or in another tab), and a removed "
                             "track is never recommended again")
        from .publish import ENDED_PINS, MAIN, REMOVED_AT, removal_times, slot_record
        info = manifest.get("managed_playlist")  # an object or null: the manifest's shape check refuses the rest
        record = slot_record(manifest, MAIN)
        pinned = set(manifest.get(PIN_REQUESTS, [])) | set(record.get("pinned") or [])
        # ours as written, or a pin ended: not pinned (a track added by hand since the last run is a pin no record has yet)
        settled = set(record.get(ENDED_PINS) or []) | set(record.get("last_written") or [])
        if unpin and all(t not in pinned and t in settled for t in unpin):  # a page opened before (another tab)
            raise UsageError("not unpinned: this track is not pinned (unpinned on this page before, or in another tab)")
        back = set(restore)
        if back and not back & set(manifest.get("user_removed", [])):
            raise UsageError("not put back: this track is not among your removed tracks")
        removed = [t for t in dict.fromkeys(list(manifest.get("user_removed", [])) + list(remove)) if t not in back]
        drop = set(remove) | set(unpin)
        unpinned = list(manifest.get(REMOVED_PINS) or [])  # by a removal: its Undo pins them again
        again = [t for t in unpinned if t in back]
        pins = [t for t in dict.fromkeys(list(manifest.get(PIN_REQUESTS, [])) + list(pin) + again) if t not in drop]
        changes = {"user_removed": removed, PIN_REQUESTS: pins,
                   REMOVED_PINS: [t for t in dict.fromkeys(unpinned + [t for t in remove if t in pinned]) if t not in back]}
        if info is not None and back:  # its removal's time goes too: a later add by hand is plain again
            info = {**info, REMOVED_AT: {t: w for t, w in removal_times(info).items() if t not in back}}
            changes["managed_playlist"] = info
        if info is not None and drop:
            # a pin outlives an unpin or a removal (a track added back is wanted again,
            # publish.managed_state): both end it, published (the playlist's record keeps it) or
            # not yet (a track you added by hand since the last run, found again by the next);
            # a removal's time tells a track you add by hand after it (kept) from one added before
            from .isotime import utc_now
            removed_at = removal_times(info)
            changes["managed_playlist"] = {**info, "pinned": [t for t in info.get("pinned") or [] if t not in drop],
                                           ENDED_PINS: list(info.get(ENDED_PINS) or [])
                                           + [t for t in dict.fromkeys(drop) if t not in settled],
                                           REMOVED_AT: {**removed_at, **dict.fromkeys(remove, utc_now().isoformat())}}
        return store.update_manifest(**changes)


def label_parts(library: Library, ids: list[str], read: dict[str, tuple[str, str]] | None = None
                ) -> dict[str, tuple[str, str]]:
    """(name, artists) of each track of ``ids`` the library holds, else as ``read`` (the managed
    playlist's read, ``ManagedState.labels``) gives it: `recommend web` shows each in its own
    direction (a right-to-left name before its artists)."""
    tracks = library.tracks.set_index("track_id")
    out = {}
    for tid in ids:
        if tid in tracks.index:
            row = tracks.loc[tid]
            out[tid] = (str(row["name"]), ", ".join(row["artist_names"]))
        elif read and tid in read:
            out[tid] = read[tid]
    return out


# ----- the demo: everything against the built-in stand-in -------------------------------------
DEMO_REDIRECT = "http://127.0.0.1:8888/callback"  # in the demo's settings; its login takes a free port


@contextmanager
def demo_environment(settings, locked: bool = False) -> Iterator[tuple[Any, Any]]:
    """Start the stand-ins (Spotify on the sample library, ListenBrainz + MusicBrainz on its
    open-data world) and yield (demo settings, Spotify server), under the demo's lock
    (``lock.demo_lock``; ``locked``: the caller holds it already).

    The demo uses its own cache directory (``<cache>/demo``) and a demo client id, so a
    real account's cache and token are never touched.
    """
    from .standins.listenbrainz import open_data_standins
    from .standins.spotify import Account, StandinServer
    state = demo_dir(settings.cache_dir) / DEMO_ACCOUNT
    stack = ExitStack()
    if not locked:
        from .lock import demo_lock
        stack.enter_context(demo_lock(settings.cache_dir))
    try:  # (the lock is let go however this ends, also when the account cannot be read)
        try:
            account = Account.from_file(state) if state.exists() else Account.sample()
        except DataError as exc:  # the demo's own state, damaged: say how to start the demo afresh
            raise DataError(f"{exc}; delete it to start the demo afresh (its playlist goes with it)") from None
        lb, mb, prepare = stack.enter_context(open_data_standins())
        prepare(account)  # the tracks the open data can point to
        # room for the account's save at the end, set aside before the run changes anything: with
        # less room on the disk the run wrote its playlist and manifest, then lost the account
        size = len(account.to_json())
        room = reserve_room(state, size + size // 8 + (1 << 16))  # and for what the run adds to it
        stack.callback(room.unlink, missing_ok=True)  # (gone once written: the account is in its place)
        server = stack.enter_context(StandinServer(account))
        demo = demo_settings(settings, {
            "spotify.api_url": server.api_url,
            "spotify.accounts_url": server.accounts_url,
            "spotify.client_id": "recommend-demo",
            "spotify.client_secret": None,
            "spotify.redirect_uri": DEMO_REDIRECT,  # demo_login listens on any free port instead
            "listenbrainz.api_url": lb.api_url,
            "listenbrainz.labs_url": lb.labs_url,
            "enrich.musicbrainz_url": mb.base_url,
            "enrich.rate": 1000.0,  # a local stand-in: no need for MusicBrainz's 1 request/s
            "listenbrainz.token": None,  # your ListenBrainz token is for ListenBrainz, not the stand-in
        })
        server.open_data, server.musicbrainz = lb, mb  # tests read the stand-ins' request logs
        yield demo, server
        # the stand-in's account (with the managed playlist) persists between demo runs,
        # as a real account would: a second demo run updates the same playlist
        atomic_write_text(state, server.account.to_json(), room=room)
    finally:
        stack.close()


def import_sample_features(settings) -> None:
    """The sample's audio features into the demo cache of ``settings`` (as `recommend import
    features FILE` would give them), which the Development Mode stand-in does not serve."""
    from importlib import resources

    from .features import import_features
    from .standins.spotify import SAMPLE_FEATURES
    store = open_store(settings)
    with resources.as_file(resources.files("recommender") / "data" / SAMPLE_FEATURES) as path:
        with writing(settings, "import features"):
            import_features(path, store.load_library(), store)


def demo_login(demo_settings) -> None:
    """Log in to the stand-in through the real PKCE flow; the 'browser' is an HTTP client. The
    callback listens on a free port it holds from the start (a port chosen first and bound
    later could be taken in between by another program)."""
    import requests
    login(demo_settings, open_url=lambda url: requests.get(url, timeout=10), any_port=True)


def run_demo(settings, *, dry_run: bool = False, seed_playlist: str | None = None, new_playlist: bool = False,
             progress: Progress | None = None, explain: str | None = None) -> tuple[BuildResult, list[dict]]:
    """The README's first command: login, pull, score and publish on the stand-in.

    Returns the build result and the managed playlist as the stand-in now holds it.
    """
    with demo_environment(settings) as (demo, server):
        demo_login(demo)
        from .explore import DEMO
        result = build_playlist(demo, dry_run=dry_run, seed_playlist=seed_playlist, new_playlist=new_playlist,
                                force_refresh=True, progress=progress, playlists_of=SAMPLE_LIBRARY,
                                explain=explain, where=DEMO)
        held = []
        if result.playlist_id and not dry_run:
            acct = server.account
            for tid in server.playlist_track_ids(result.playlist_id):
                t = acct.tracks.get(tid, {})
                names = [acct.artists.get(a, {}).get("name", "") for a in t.get("artist_ids", [])]
                held.append({"id": tid, "name": t.get("name", ""), "artists": ", ".join(names)})
    return result, held


def no_library(frames_dir, demo: str | None = TRY_DEMO) -> NotEnoughData:
    """The error of a command that found no cached library in ``frames_dir``, saying how to get
    one (``demo``: how the command run tries the sample library instead: ``ADD_DEMO`` where it
    takes that option; ``paths.TRY_DEMO``, which the web app words as its own, elsewhere; None
    for a command that works on your cache only: `enrich genres`, which the demo's run left
    where it was)."""
    return NotEnoughData(f"no cached library in {frames_dir}: run `recommend refresh` first"
                         + (f" (or {demo})" if demo else ""))


def require_library(settings, demo: str | None = TRY_DEMO, store: Store | None = None) -> Library:
    """The cached library, or NotEnoughData saying how to get one (``no_library``), or that a
    file of it is missing or damaged (it said "no cached library" of a cache that lacked one file).
    ``store``: the command's own, when it reads the cache again (a damaged file is said once)."""
    store = store or open_store(settings)
    library = store.load_library()
    if library is None:
        damaged = store.damaged()
        if damaged:
            from .errors import DamagedCache
            raise DamagedCache(f"the cached library cannot be read ({damaged}): `recommend refresh` pulls it again")
        raise no_library(settings.frames_dir, demo)
    return library


def mood_export(settings, library, moods: dict[str, list[str]], sources: str, demo: bool = False,
               command: str = "moods cluster --export") -> list[MoodPlaylist]:
    """``moodexport.export_moods`` for the CLI: the user's account under the run lock (held as
    ``command``), or with ``demo`` the built-in stand-in (the demo's own cache and account)."""
    from .moodexport import export_moods
    if demo:
        with demo_environment(settings) as (demo_settings, _server):
            demo_login(demo_settings)
            gateway = connect(demo_settings)
            with writing(demo_settings, command):
                return export_moods(gateway, open_store(demo_settings), demo_settings, library.user_id, moods,
                                    sources)
    gateway = connect(settings)
    with writing(settings, command):
        return export_moods(gateway, open_store(settings), settings, library.user_id, moods, sources)


def mood_list(settings, library: Library, mood: str | None = None, valence: float | None = None,
              energy: float | None = None, n: int = 20, where=None) -> tuple[pd.DataFrame, str]:
    """`moods recommend`'s tracks (the CLI's and the web Moods page's) and the list's name
    (the mood, or "valence V, energy E"; the export's playlist is "recommend: <name>"): a mood
    is nudged toward your taste (``moods.seed_bias``), a point of the plane is taken as given.
    ``where`` (``explore.Where``): the library's name and how it gets audio features, for errors."""
    from .errors import RecommenderError
    from .moodexport import point_name
    from .moods import mood_point, mood_recommend, normalise_mood
    from .pipeline import taste_seeds
    m = settings.moods
    kwargs = {"n": n, "valence_threshold": m.valence_threshold, "energy_threshold": m.energy_threshold,
              **({"where": where} if where is not None else {})}
    if mood is None:
        df = mood_point(library, valence, energy, **kwargs)
        return df, point_name(*df.attrs["target"])
    try:
        seeds = taste_seeds(library, settings)
    except RecommenderError:  # no top or saved tracks: the centre of the mood's quadrant
        seeds = None
    return mood_recommend(library, mood, seeds=seeds, seed_bias=m.seed_bias, **kwargs), normalise_mood(mood)


def taste_library(settings, library: Library | None = None, refs: Iterable[str] = (),
                  demo: str = TRY_DEMO, playlists_of: str | None = None) -> Library:
    """The cached library (or ``library``) without every playlist this tool ever wrote (the
    managed playlist, old ones, mood exports): our own output is never taste, evidence or a
    target. The tracks stay (search still finds them). A playlist named in ``refs`` that is one
    of ours is a UsageError saying so (not a riddling "no playlist named"); ``demo``: as
    ``require_library``'s; ``playlists_of``: as ``build_playlist``'s."""
    from .publish import our_playlist_ids
    library = require_library(settings, demo) if library is None else library
    store = open_store(settings)
    ours = our_playlist_ids(store, library.playlists)
    for ref in refs:
        _refuse_our_playlist(library, ref, ours, store, playlists_of)
    return _without_playlist(library, *ours)


# ----- evaluation and tuning ----------------------------------------------------------------------
@dataclass
class EvalSetup:
    """What an evaluation runs on: a library and the (playlist_id, track_id) pairs to hide."""

    library: Library
    hidden: pd.DataFrame
    source: str
    protocol: bool = False  # hidden by the benchmark's sha1 rule (a dataset), else seeded random
    # ``source`` as a report you may share says it: no folder of this machine (its user's name)
    shared_source: str = ""


def evaluation_setup(settings, dataset: Path | None = None, split: str = "all",
                     features: str = "restricted", owner: str = "your library",
                     library: Library | None = None, demo: str = TRY_DEMO) -> EvalSetup:
    """The user's cached library (``library`` when the caller has read it already) with a
    seeded random hiding, or a playlist CSV with the benchmark protocol's sha1 split and
    hiding (``bench/protocols/PROTOCOL.md``); ``owner`` names the cached library in the
    source line; ``demo``: as ``require_library``'s, when no library is cached."""
    from .dataset import hide_random, hide_tracks, load_dataset, split_library
    from .errors import UsageError
    ev = settings.evaluate
    if split not in {"dev", "holdout", "all"}:
        raise UsageError(f"--split must be dev, holdout or all, got {split!r}")
    if features not in {"restricted", "full"}:
        raise UsageError(f"--features must be restricted or full, got {features!r}")
    if dataset is None and (split, features) != ("all", "restricted"):  # else silently ignored
        raise UsageError("--split and --features choose a benchmark data file's split and columns: "
                         "give --dataset FILE (your own library is evaluated whole, with what it has)")
    if dataset is not None:
        library = load_dataset(dataset, features=features)
        if split != "all":
            library = split_library(library, split)
        hidden = hide_tracks(library, min_tracks=ev.min_tracks)
        how = f"({split} split, {features} features, protocol hiding)"
        source, shared = f"{dataset} {how}", f"{Path(dataset).name} {how}"
    else:
        library = taste_library(settings, library, demo=demo)  # the playlists we wrote: never a target to predict
        hidden = hide_random(library, fraction=ev.hide_fraction, seed=ev.seed, min_tracks=ev.min_tracks)
        how = f"({ev.hide_fraction:.0%} of each playlist with {ev.min_tracks}+ tracks hidden, seed {ev.seed})"
        source, shared = f"{owner} in {settings.frames_dir} {how}", f"{owner} {how}"
    if hidden.empty:
        raise NotEnoughData(f"no playlist with at least {ev.min_tracks} tracks to evaluate on in {source}")
    items = library.playlist_items.astype({"playlist_id": str, "track_id": str})
    held = items[items["playlist_id"].isin(set(hidden["playlist_id"].astype(str)))].groupby("playlist_id")["track_id"]
    every = set(library.track_ids.astype(str))
    if all(every <= set(tracks) for _, tracks in held):
        # each target's hidden tracks would be its only candidates: every scorer at 1.0 (and tune: every
        # weighting); one playlist alone, or the same playlist twice (exported twice into one folder)
        one = items["playlist_id"].nunique() < 2
        what = ("holds one playlist and no other track: the tracks hidden from it would be the only candidates"
                if one else "holds the same tracks in every playlist (one playlist twice?): the tracks hidden from "
                "each would be its only candidates")
        raise NotEnoughData(f"{source} {what}, and every scorer would find them all (a perfect score that says "
                            f"nothing); evaluate a file of several {'' if one else 'different '}playlists")
    return EvalSetup(library, hidden, source, protocol=dataset is not None, shared_source=shared)


def evaluate(settings, setup: EvalSetup, top_n: int | None = None, progress: Progress | None = None):
    from .evaluate import evaluate as _evaluate
    n = top_n or settings.evaluate.top_n
    return _evaluate(setup.library, setup.hidden, settings, top_n=n,
                     progress=(lambda d, t: progress("targets", d, t)) if progress else None)


def weights_evaluation(settings, setup: EvalSetup):
    """``evaluate(settings, setup)`` for many weights (`recommend web`'s sliders): an
    ``evaluate.Evaluation`` whose ``result(s)`` is ``evaluate(s, setup)`` for settings ``s``
    that differ from ``settings`` in the weights alone."""
    from .evaluate import Evaluation
    return Evaluation(setup.library, setup.hidden, top_n=settings.evaluate.top_n,
                      method=settings.blend.normalisation)


def evaluate_persona(settings, dataset: Path | None, split: str, features: str, protocol: str = "persona",
                     standins: bool = True, progress: Progress | None = None):
    """The personal-library benchmark (``recommender/persona.py``) on one split of a dataset."""
    from .dataset import load_dataset, split_library
    from .errors import UsageError
    from .persona import evaluate_personas
    if protocol != "persona":
        raise UsageError(f"--protocol must be continuation or persona, got {protocol!r}")
    if dataset is None or split not in {"dev", "holdout"}:
        raise UsageError("--protocol persona needs --dataset FILE and --split dev or holdout")
    from .persona import PERSONA_SIZE
    library = split_library(load_dataset(dataset, features=features), split)
    result, _ = evaluate_personas(library, settings, standins=standins,
                                  progress=(lambda d, t: progress("personas", d, t)) if progress else None)
    if not result.targets:  # else a table of nan (no p@10 at all in --json), exit 0
        playlists = library.playlist_items["playlist_id"].nunique()
        raise NotEnoughData(f"no persona to evaluate in {dataset} ({split} split): a persona is {PERSONA_SIZE} "
                            f"playlists with tracks to hide, and the split has {playlists} playlists")
    return result


def tune(settings, setup: EvalSetup, folds: int | None = None, progress: Progress | None = None,
         searched_at_0: list[str] = ()):
    """Cross-validated weight search; folds hide with seeds evaluate.seed + fold.
    ``searched_at_0``: scorers at weight 0 searched all the same (``tuned_off``: those an
    earlier `tune --write` turned off)."""
    from .dataset import hide_random
    from .tune import tune as _tune
    ev = settings.evaluate

    def protocol_hider(lib, fold):  # benchmark data: protocol hiding for fold 0, seeded random after
        from .dataset import hide_tracks
        return hide_tracks(lib, min_tracks=ev.min_tracks) if fold == 0 else \
            hide_random(lib, fraction=ev.hide_fraction, seed=ev.seed + fold, min_tracks=ev.min_tracks)
    return _tune(setup.library, settings, folds=folds or settings.tune.folds, seed=ev.seed,
                 hider=protocol_hider if setup.protocol else None, searched_at_0=searched_at_0,
                 progress=(lambda d, t: progress("tuning folds x targets", d, t)) if progress else None)


def tuned_weights_file(settings, path: Path | None = None, check: bool = False) -> Path:
    """The config file ``write_tuned_weights`` writes (``path``, else the user's); ``check``:
    first make sure it can be written (``configfile.check_writable``: exit 7 before a search of
    minutes, not after it)."""
    from .paths import user_config_file
    target = Path(path or settings.user_file or user_config_file())
    if check:
        from .configfile import check_writable
        check_writable(target)
    return target


TUNE_UNDO = "tune-undo.json"  # in the data directory: what the last weights write replaced, per config file
# in the data directory: per config file, the scorers a `tune --write` set to 0 and the file's
# fingerprint then; the next tune searches them again while the file is as tune left it (a scorer
# tune was not asked about at 0 stayed off for good: a weekly `tune --write` turned scorers off one
# noisy week at a time and never back on). An edit of the file since makes its zeros yours.
TUNE_OFF = "tune-off.json"


def _tune_off_records(settings) -> dict[str, dict]:
    try:
        data = json.loads((Path(settings.cache_dir) / TUNE_OFF).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or damaged: no scorer is taken for one tune turned off
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict) and isinstance(v.get("off"), list)
            and all(isinstance(n, str) for n in v["off"]) and isinstance(v.get("sha256"), str)}


def _file_sha256(path: Path) -> str | None:
    import hashlib
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def tuned_off(settings, path: Path | None = None) -> list[str]:
    """The scorers a `tune --write` into the config file ``path`` (else the user's) set to 0, at
    0 still, the file unchanged since that write: a scorer set to 0 by hand, or with the web
    app's Save, is not."""
    from .scorers import blend_weights
    current = blend_weights(settings)
    return [n for n in _off_as_left(settings, tuned_weights_file(settings, path)) if current.get(n, 0.0) == 0]


def _off_as_left(settings, target: Path) -> list[str]:
    """The scorers tune set to 0 in ``target``, while the file is as its last write left it."""
    import os
    record = _tune_off_records(settings).get(os.path.realpath(target))
    return list(record["off"]) if record and _file_sha256(target) == record["sha256"] else []


def _record_tuned_off(settings, target: Path, written: dict[str, float], by_tune: bool, earlier: list[str]) -> None:
    """After a write of weights: ``earlier`` (``_off_as_left`` before it) less the ones written,
    plus, ``by_tune``, the ones it set to 0; a Save by you makes every zero yours."""
    import os
    records = _tune_off_records(settings)
    key = os.path.realpath(target)
    off = [n for n in earlier if n not in written] if by_tune else []  # a weight written since is that write's
    off += [n for n, w in written.items() if by_tune and float(w) == 0 and n not in off]
    if off:
        records[key] = {"off": off, "sha256": _file_sha256(target)}
    elif key in records:
        del records[key]
    else:
        return
    atomic_write_text(Path(settings.cache_dir) / TUNE_OFF, json.dumps(records, indent=1))


def weights_unchanged(settings, path: Path) -> None:
    """Raise a UsageError when the config file ``path`` now gives other blend weights than
    ``settings``, read from it before a search, has: the file was edited while tune searched
    (by hand, the web app's Save), and its write would throw that edit away, or, leaving a
    weight it had found where it was, keep the edited one beside the tuned ones (a blend
    nothing measured). A file that no longer reads is the ConfigError it is."""
    import os

    from .config import load_settings
    from .scorers import blend_weights
    had, now = blend_weights(settings), blend_weights(load_settings(path if os.path.lexists(path) else None))
    changed = [n for n in {**had, **now} if round(had.get(n, 0.0), 6) != round(now.get(n, 0.0), 6)]
    if changed:
        said = ", ".join(f"scorers.{n}.weight is {now.get(n, 0.0):g}, tune searched from {had.get(n, 0.0):g}"
                         for n in changed)
        raise UsageError(f"{path} changed while tune searched ({said}): nothing was written; "
                         "run `recommend tune --write` again to tune from the weights it has now")


def write_tuned_weights(settings, weights: dict[str, float], path: Path | None = None,
                        new_share: float | None = None, by_tune: bool = False,
                        check: Callable[[], None] | None = None) -> tuple[Path, str]:
    """Store ``weights`` (and ``candidates.new_share`` when given) in the user's config in one
    write (comments and other keys kept), keeping what they replace for ``undo_tuned_weights``
    (``tune-undo.json`` in the data directory); returns (path, diff). Only values that differ
    from the ones ``settings`` has in effect are written: a weight left where it was (a
    package default, say) is not pinned in the file, so a later default still reaches it.
    ``by_tune``: written by `tune --write` (a weight of 0 is then one the next tune searches
    again, ``tuned_off``), not by you (the web app's Save). ``check``: called holding the run lock,
    before anything is read (the Save's check that the file is the one its page was opened on)."""
    from .scorers import blend_weights
    from .tune import write_weights
    current = blend_weights(settings)
    weights = {k: v for k, v in weights.items() if k not in current or round(float(v), 6) != round(current[k], 6)}
    if new_share is not None and round(float(new_share), 6) == round(float(settings["candidates"]["new_share"]), 6):
        new_share = None
    target = tuned_weights_file(settings, path)
    with writing(settings, "tune --write"):
        if check is not None:
            check()
        earlier = _off_as_left(settings, target)
        diff = write_weights(target, weights, new_share, undo_file=Path(settings.cache_dir) / TUNE_UNDO,
                             by="`recommend tune --write`" if by_tune else "a Save in `recommend web`")
        _record_tuned_off(settings, target, weights, by_tune, earlier)
    return target, diff


def undo_tuned_weights(settings, path: Path | None = None) -> tuple[Path, str, dict]:
    """Put back the weights the last ``write_tuned_weights`` of that config file replaced
    (``tune.undo_weights``); returns (path, diff, record)."""
    from .tune import undo_weights
    target = tuned_weights_file(settings, path, check=True)
    with writing(settings, "tune --undo"):
        diff, record = undo_weights(target, Path(settings.cache_dir) / TUNE_UNDO)
    return target, diff, record


# ----- playlists -----------------------------------------------------------------------------------
def playlist_rows(settings, library: Library) -> list[dict[str, Any]]:
    """`recommend playlists`' rows: the cached playlists by name, then id (name, id, owner, tracks,
    total, readable, managed, role: the tool's own as ``publish.managed_playlist_roles`` says),
    less the ones of ours a run found unfollowed since, plus ours made since the last refresh (a
    playlist --new-playlist replaced, the exported moods, the managed one).

    ``tracks``: the entries the cache holds, what --seed-playlist and moods cluster have of it
    (none of a playlist Spotify does not let the app read; local files, podcast episodes and
    removed tracks are not kept), where Spotify's count (``total``) made the one Spotify lets no
    personal app read look as usable as the rest; of the tool's own but the managed one, whose
    items no refresh reads (nothing uses them), Spotify's count. ``total``: Spotify's count as the
    last refresh listed it (None: unknown, as of a playlist made since)."""
    from .publish import MAIN, gone_since_listing, managed_history, managed_playlist_roles, mood_playlists, slot_record
    store = open_store(settings)
    managed = slot_record(store.read_manifest(), MAIN)
    managed_id = managed.get("id")
    roles = managed_playlist_roles(store, library.playlists)  # mood, earlier, another computer's: ours too
    counts = library.playlist_items.groupby("playlist_id").size()
    rows = []
    gone = gone_since_listing(store)  # ours, found unfollowed by a run since the cache listed them
    # by name (a big account's hundreds of playlists are found by name, not by id), then id
    for p in sorted(library.playlists.to_dict("records"),
                    key=lambda p: (str(p.get("name") or "").casefold(), str(p["playlist_id"]))):
        pid = str(p["playlist_id"])
        if pid in gone:
            continue
        total = p.get("total")
        total = None if total is None or pd.isna(total) else int(total)
        held = int(counts.get(pid, 0))
        readable = pid not in library.unreadable()
        # the tool's own but the managed one: listed, its items never read (``sync._unread``)
        unread_by_design = roles.get(pid) not in (None, "yes") and readable and not held
        rows.append({"name": str(p.get("name") or ""), "id": pid, "owner": str(p.get("owner_id") or ""),
                     "tracks": total if unread_by_design and total is not None else held, "total": total,
                     "readable": readable, "managed": pid in roles, "role": roles.get(pid)})
    # ours, created after the last refresh (not cached yet): one replaced by --new-playlist (its
    # tracks unknown), the exported moods, then the managed playlist (the tracks we last wrote)
    made_since = managed_history(store, since_refresh=True)
    late = [(h["id"], h.get("name"), None) for h in made_since if roles.get(h["id"]) == "earlier"]
    late += [(p["id"], p["name"], p["tracks"]) for p in mood_playlists(store, since_refresh=True)]
    # the managed playlist when it was made since that refresh: one it listed no more was deleted
    # in Spotify (it was shown as yours, 50 tracks, until the next build made another)
    late += ([(managed_id, managed.get("name"), len(managed.get("last_written") or []))]
             if managed_id and any(h["id"] == managed_id for h in made_since) else [])
    shown = {r["id"] for r in rows}
    for pid, name, tracks in late:
        if pid not in shown:
            rows.append({"name": name or settings.playlist.name, "id": pid, "owner": library.user_id,
                         "tracks": tracks, "total": None, "readable": True, "managed": True,
                         "role": roles.get(pid, "yes")})
    return rows


# ----- status --------------------------------------------------------------------------------------
def read_status(settings, store: Store, library: Library | None, runs: int = 5,
                schedule: dict[str, Any] | None = None) -> dict[str, Any]:
    """``status.status`` of ``store``, whose ``library`` was just read (None when there is none or
    it cannot be read), with what reading it found (``status.read_warnings``). The manifest is
    read after the library (which can take seconds), just before the run lock is: a run that
    ended meanwhile left its marks in a manifest read first, and status called it stopped.
    `recommend status` and the web app's Runs page both read it so."""
    from .spotify.auth import another_apps_login, read_token, token_path
    from .status import read_warnings, status
    manifest = store.read_manifest()
    token = read_token(settings.cache_dir)
    info = status(settings.cache_dir, manifest, token, library=library,
                  frames_dir=settings.frames_dir, runs=runs, schedule=schedule)
    if other := another_apps_login(token, token_path(settings.cache_dir), settings.spotify.client_id,
                                   settings.sources.get("spotify.client_id")):
        # spotify.client_id changed since the login: every run stops so; its time said "valid"
        info["login"].update(state="needs login", message=other, expires_at=None, expires_in_minutes=None)
    info["warnings"] += read_warnings(store, library)
    return info


def status_report(settings, *, demo: bool = False, offline: bool = False,
                  before_check: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Everything `recommend status` shows (``read_status`` with the schedule), of ``settings``'
    data directory or, with ``demo``, the demo's: the login checked with Spotify unless
    ``offline`` (``before_check()`` just before: the CLI's logging), a login that cannot be made
    named with why, and the artists `enrich genres` would look up now."""
    from . import schedule
    from .spotify.auth import make_auth_manager, unusable_token
    from .errors import AuthError, StorageError
    if demo:  # the demo's own directory: its runs, cache and playlist (in the stand-in, gone with it)
        settings = demo_settings(settings)
    store = open_store(settings)
    genres_file = store.frame_stats(["artist_genres"])  # stat-ed before the library's read of it
    library = store.load_library()
    info = read_status(settings, store, library, schedule=schedule.status())
    if demo:  # no account, no schedule: the stand-in the demo pulls through lives as long as its run
        info["login"] = {"state": "demo", "expires_at": None, "expires_in_minutes": None, "scope": None,
                         "message": "each --demo run logs in to its own stand-in of Spotify; no account of yours"}
        info["schedule"] = None
    elif info["login"]["state"] == "needs login" and (damaged := unusable_token(settings.cache_dir)):
        info["login"]["message"] = damaged  # named: not taken for a login never made
    elif info["login"]["state"] == "needs login":  # "run `recommend auth`" sent you to a command that fails
        try:  # (no client id, or config/example.yaml's placeholder: it says what to set)
            make_auth_manager(settings)
        except (AuthError, StorageError) as exc:  # or no folder for the login (a file in the way): status still shows
            info["login"]["message"] = str(exc)
    if not offline and not demo and info["login"]["state"] != "needs login":
        if before_check is not None:
            before_check()
        info["login"].update(_check_login(settings))
    if info["genres"] and info["genres"]["artists"]:  # what `enrich genres` would look up now
        from .enrich.musicbrainz import due_counts
        # the genres the library was read with, unless `enrich genres` saved others since
        same = store.frame_stats(["artist_genres"]) == genres_file
        info["genres"]["to_look_up"] = due_counts(library, store, settings,
                                                  stored=library.frames["artist_genres"] if same else None)[0]
    return info


def _check_login(settings) -> dict[str, Any]:
    """Ask Spotify who is logged in (refreshing the token if needed): the saved token alone
    cannot tell whether Spotify still accepts the refresh token."""
    from .errors import AuthError, RecommenderError
    from .spotify.auth import read_token
    from .status import login_status
    try:  # one attempt: a status check should not sit through the retry back-off, nor a kept wait's end
        gateway = connect(settings.with_overrides({"spotify.max_retries": 0}), sleeps_kept_wait=False)
        me = gateway.get("me") or {}
    except AuthError as exc:
        # no "access token until": the saved token's time says nothing once Spotify refused the login
        return {"state": "refused", "checked": True, "message": str(exc), "expires_at": None,
                "expires_in_minutes": None}
    except RecommenderError as exc:
        return {"checked": False, "message": f"not checked with Spotify: {exc}"}
    saved = login_status(read_token(settings.cache_dir))  # the token may have just been refreshed
    return {"state": "valid", "checked": True, "user_id": me.get("id"),
            "display_name": me.get("display_name") or me.get("id"), "message": None,
            "expires_at": saved["expires_at"], "expires_in_minutes": saved["expires_in_minutes"]}
