"""What each page of `recommend web` shows and does, over the product's own functions.

Every call into the rest of the product is here, and each is the one the CLI makes:
- Next playlist: ``jobs.build_playlist(dry_run=True)`` (what `build-playlist --dry-run` shows);
  Publish: ``jobs.build_playlist()`` (same lock, same errors and exit codes), recorded in the run
  log like the CLI's run; remove/pin: ``jobs.steer``; block an artist: the config's blocklist.
- Weights: ``jobs.evaluation_setup`` + ``jobs.evaluate`` (as `recommend evaluate`), the preview
  by ``jobs.build_playlist(dry_run=True)`` with the weights as overrides; save:
  ``jobs.write_tuned_weights`` (as `tune --write`).
- Taste map: ``moods.cluster_playlist`` over the library; Moods: ``moods.classify_library``,
  ``moods.mood_recommend`` / ``moods.mood_point``; Search/Similar: ``explore``;
  Runs: ``status`` (over ``runlog``).
Results are cached until something changes them (a publish, a steer, saved weights).
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from pathlib import Path
from typing import Any, Callable

from .. import jobs
from ..config import MAX_WEIGHT, curve_label, off_line, weight_cell
from ..errors import UNREACHED, RecommenderError, UsageError  # UNREACHED: the page's data stands
from ..isotime import shown, shown_text, utc_now
from ..paths import TRY_DEMO, WEB_DEMO
from ..safetext import cut
from ..wording import plural, source_name

log = logging.getLogger(__name__)

MAP_MAX_TRACKS = 1000  # the taste map clusters at most this many tracks (evenly spread over the library)
MAP_PLAYLIST = "__recommend_web_library__"
MAP_PLAYLIST_NAME = "your library"  # what clustering's messages call it
MAP_TOP_PLAYLISTS = 8  # playlists with their own colour on the map; the rest are "other"
PREVIEW_ROWS = 20
EVAL_MAX_TARGETS = 30  # the Weights page evaluates on at most this many playlists (`recommend evaluate`: all)
SEARCH_LIMIT = 20
RUNS_SHOWN = 50  # the Runs page's run log: the newest this many
PUBLISH_COMMAND = "build-playlist (web)"  # the publish's name in the run log
REFRESH_COMMAND = "refresh (web)"  # a page's dry run that refreshed a stale cache, in the run log
CHECK_PAUSE_SECONDS = 300.0  # a check of the managed playlist that Spotify did not answer: none again before
TURN_ON_HERE = "move its slider above 0"  # the Weights page's way to use a scorer at weight 0 (off_line)


def web_words(message: str) -> str:
    """An error's message as a page says it: the sample library is tried with `recommend web
    --demo` there, not with the CLI's `build-playlist --demo` (``paths.TRY_DEMO``) that jobs
    and the login name in their errors; what the last discovery found is on its Discovery page;
    a playlist computed from the cache alone is the page's, not a dry run's (``jobs.CACHE_SHOWN``)."""
    return message.replace(TRY_DEMO, WEB_DEMO).replace(jobs.SEE_DISCOVERY, "the Discovery page says what the last "
                                                                          "discovery found") \
        .replace(jobs.CACHE_SHOWN, "this page shows your cache")


def _title(lib, track_id: str) -> str | None:
    """A track's "Name - Artists", as the Similar page names it; None when ``lib`` lacks it."""
    parts = jobs.label_parts(lib, [track_id]).get(track_id)
    return f"{parts[0]} - {parts[1]}" if parts else None


def _num(value: Any) -> float | None:
    """A number for a page: None for NaN; 6 decimals, so that a page's 3 show what the CLI's table
    shows (rounded to 4 first, 0.82649 became 0.8265, shown 0.827 beside the CLI's 0.826)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else round(v, 6)


def settings_key(settings) -> str:
    """The settings but the blend weights (``scorers.<name>.weight``) and
    ``candidates.new_share``, as text: what the scores a slider move re-blends depend on."""
    import json
    data = settings.to_dict()
    for section in data.get("scorers", {}).values():
        if isinstance(section, dict):
            section.pop("weight", None)
    data.get("candidates", {}).pop("new_share", None)
    return json.dumps(data, sort_keys=True, default=str)


class StaleConfig(UsageError):
    """A save from a page opened before the config file last changed (another tab's save, a
    block, an edit by hand): refused, so that the page's old values do not undo that change."""

    http_status = 409  # the web app's answer: Conflict


class StalePlan(UsageError):
    """A Publish from a page whose diff is no longer what a run would do (a run in a terminal,
    the nightly run or a refresh changed it since): refused, so that the tracks published are
    those the page listed and its confirm counted."""


def plan_of(result) -> str:
    """A short fingerprint of what publishing ``result`` would do: its playlist, the tracks it adds
    and those it removes (the diff a Next page shows and its confirm counts)."""
    return _fingerprint(result.playlist_id, result.added_ids, result.removed_ids)


def _fingerprint(playlist_id: str | None, added: list[str], removed: list[str]) -> str:
    import hashlib
    text = "\n".join([str(playlist_id or ""), ",".join(added), ",".join(removed)])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _missing(value: Any) -> bool:
    """None, NaN or pandas' NA (the discovery columns may be absent or empty)."""
    import pandas as pd
    return value is None or bool(pd.isna(value))


def your_tracks(lib) -> list[str]:
    """The tracks of your playlists, then your saved tracks not in them (each once, cached
    ones only): the taste map's tracks, and what the moods page counts as yours (the cache holds
    the new music a refresh found too, which has moods but is not your taste)."""
    known = set(lib.track_ids)
    return [t for t in dict.fromkeys(list(lib.playlist_items["track_id"].astype(str)) +
                                     list(lib.saved_tracks["track_id"].astype(str))) if t in known]


def _left_out(total: int, recordings: int, without_audio: int) -> list[str]:
    """Why the taste map shows fewer than your ``total`` tracks, one phrase per reason: the copies
    of a recording (drawn once), the sample of ``MAP_MAX_TRACKS`` of the ``recordings`` left, the
    tracks of the sample with no audio features when the map places tracks by them."""
    copies = total - recordings
    out = [f"{copies} {plural(copies, 'is', 'are')} another copy of a recording the map draws once"] if copies else []
    if recordings > MAP_MAX_TRACKS:
        out.append(f"the map draws at most {MAP_MAX_TRACKS}, evenly spread over "
                   f"{'the other' if copies else 'all'} {recordings}")
    if without_audio:
        out.append(f"{without_audio} {plural(without_audio, 'has', 'have')} no audio features, "
                   "by which the map places the others")
    return out


class WebContext:
    """The app's state: settings (reloaded after a save), a cache of computed results, a lock.

    ``config_file``: where "save weights" and "block artist" write (the user's config, or the
    demo's own file); ``overrides``: dotted keys applied on top when the settings are reloaded.
    ``gateway``: a factory (settings -> Gateway), default ``jobs.connect``.
    """

    def __init__(self, settings, config_file: Path | None = None, overrides: dict[str, Any] | None = None,
                 demo: bool = False, gateway: Callable | None = None) -> None:
        from ..paths import user_config_file
        self.settings = settings
        self.config_file = Path(config_file or settings.user_file or user_config_file())
        self.overrides = dict(overrides or {})
        self.demo = demo
        self.base_file = settings.user_file  # the demo's: your file, under its own (``paths.demo_settings``)
        self._gateway = gateway or jobs.connect
        self._lock = threading.RLock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._similar_lock = threading.Lock()  # the fitted scorers are shared: one query at a time
        self._cache: dict[str, Any] = {}
        self._invalidated = 0  # invalidate()s of every key, and of each key alone: no value built before
        self._dropped: dict[str, int] = {}  # one of them is kept after it (_cached)
        self.last_publish: dict[str, Any] | None = None
        self.last_evaluation: dict[str, Any] | None = None
        self.loaded_version = self.config_version()  # the config file the settings were read from
        self.loaded_library: tuple | None = None  # library_version() of the library the pages show
        self._manifest_seen: tuple = (None, None)  # (the manifest file's stat, library_version() read from it)
        self._preview_data: tuple | None = None  # data_version() the kept Next playlist was computed from
        self._no_check_until = 0.0  # (monotonic) a snapshot check Spotify did not answer: none again before
        self.clock = time.monotonic  # the pauses' clock (CHECK_PAUSE_SECONDS): a test moves it on
        # the basis the pages' dry run made from the cache alone (Spotify did not answer, or no login),
        # and what says it is over (``_offline_over``): none while its basis is ``None``
        self._offline: tuple[Any, Callable[[], bool]] = (None, lambda: False)

    # ----- plumbing -----------------------------------------------------------------------
    def _cached(self, key: str, build: Callable[[], Any], kept: Callable[[], None] | None = None,
                began: tuple[int, int] | None = None) -> Any:
        """``build()`` once per key; one key's build does not hold up the others' pages. A value
        whose build began before an ``invalidate`` of its key is returned but not kept (it may be
        of the data the invalidate dropped); ``kept``: called, under the lock, when it is kept.
        ``began``: the key's ``_generation`` when the work ``build`` returns began, when that was
        before this call (the library a dry run read)."""
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
                if began is None:
                    began = self._generation(key)
            value = build()
            with self._lock:
                if self._generation(key) == began:
                    self._cache[key] = value
                    if kept is not None:
                        kept()
            return value

    def _generation(self, key: str) -> tuple[int, int]:
        """How many times ``invalidate`` dropped everything, and ``key`` alone (under the lock)."""
        return self._invalidated, self._dropped.get(key, 0)

    def invalidate(self, *keys: str) -> None:
        if "preview" in keys:  # the Discovery page counts each source's tracks in the Next playlist
            keys = (*keys, "discovery", "preview_basis")
        with self._lock:
            if not keys or "preview" in keys:
                self._preview_data = None
            if not keys:
                self._cache.clear()
                self._invalidated += 1
            for k in keys:
                self._cache.pop(k, None)
                self._dropped[k] = self._dropped.get(k, 0) + 1

    def _with_basis(self, name: str, settings, build: Callable[[], Any], use: Callable[[Any], Any]) -> tuple:
        """(the ``data_version`` of the basis, ``use(basis)``), ``basis`` being ``build()`` kept
        under ``name`` for as long as the cached data (``data_version``: a refresh, a steer,
        `import features`, a run in a terminal) and ``settings`` but for the weights stay the
        same, so that a weight slider's move only blends again. One ``use`` of a name at a time
        (a basis fills in scorers as weights turn them on)."""
        with self._lock:
            lock = self._key_locks.setdefault(name, threading.Lock())
        with lock:
            key = (self.data_version(), settings_key(settings))  # read first: a change meanwhile is seen next time
            with self._lock:
                entry = self._cache.get(name)
            if entry is None or entry[0] != key or self._offline_over(entry[1]):
                basis = build()
                if getattr(basis, "refreshed", False):  # its own refresh wrote the cache: the data it holds
                    key = (self.data_version(), key[1])
                entry = (key, basis)
                with self._lock:
                    self._cache[name] = entry
            return entry[0][0], use(entry[1])

    def data_version(self) -> tuple:
        """``Store.data_version``: the stats of the manifest and of every frame file the scorers
        read, so that any write of the cached data, by any command, scores anew."""
        return jobs.open_store(self.settings).data_version()

    def reload_settings(self) -> None:
        from ..config import load_settings
        version = self.config_version()  # read first: a change made while loading is seen next time
        if self.demo:  # your file, the demo's own on top, as every --demo command reads them
            settings = load_settings(self.base_file, overrides=self.overrides)
            if self.config_file.exists():
                settings = settings.with_layer(self.config_file).with_overrides(self.overrides)
            self.settings = settings
        else:
            self.settings = load_settings(self.config_file if self.config_file.exists() else None,
                                          overrides=self.overrides)
        self.loaded_version = version

    def config_version(self) -> str:
        """A fingerprint of the config file's bytes ('' when it does not exist): the pages that
        save settings carry it, and a save from a page older than the file is refused."""
        import hashlib
        try:
            data = self.config_file.read_bytes()
        except FileNotFoundError:
            return ""
        except OSError as exc:
            return f"unreadable: {exc.strerror}"
        return hashlib.sha256(data).hexdigest()[:16]

    def sync_settings(self) -> None:
        """Before a page shows them: reload the settings when the config file changed since they
        were read (an edit by hand, another program; a bad file is config.py's one-line
        ConfigError: the page shows it, the old settings stay until the file is mended), and drop
        what writes of the cache elsewhere made stale (``versions``, one look at its files): a
        refresh, login or import every page's, any other write (a `build-playlist` in a terminal)
        the Next playlist's and what follows it (``invalidate``)."""
        if self.config_version() != self.loaded_version:
            self.reload_settings()
            self.invalidate()
        data, library = self.versions()
        if self.loaded_library is not None and library != self.loaded_library:
            self.invalidate()  # refreshed (or another account's) elsewhere: the pages show that library
            self.loaded_library = None
        elif self._preview_data is not None and data != self._preview_data:
            self.invalidate("preview")  # published or steered elsewhere: the playlist and its diff

    def check_version(self, version: Any) -> None:
        """Refuse a save from a page opened before the config file last changed (``version``:
        what the page was given; None: a script that does not send one, not checked)."""
        if version is None or version == self.config_version():
            return
        try:
            self.sync_settings()  # a reload of the page shows the file's values
        except RecommenderError:
            pass
        raise StaleConfig(f"{self.config_file} changed since this page was opened (a save in another tab, a "
                          "blocked artist or an edit): nothing was saved; reload the page to see its values")

    def warm_up(self) -> None:
        """Compute what the pages show (called in a background thread at start)."""
        for step in (self.preview, self.library, self.discovery, self.search_index, self.taste_map, self.evaluate,
                     self.moods):
            try:
                step()
            except RecommenderError as exc:
                log.info("warm-up: %s", exc)
            except Exception:  # noqa: BLE001 - a page shows the error when it is opened
                log.exception("warm-up failed")

    def library(self, store=None):
        """The library the pages show: read from the cache, or the one the Next playlist's dry run
        read (``_dry_run_basis``), whichever comes first (``_pages_library``). ``store``: the
        caller's, which then holds what its read found amiss (the Runs page says it)."""
        return self._pages_library(lambda: (self.library_version(),  # read first: a refresh while loading is seen next time
                                            jobs.require_library(self.settings, store=store)))

    def _pages_library(self, read: Callable[[], tuple], began: tuple[int, int] | None = None):
        """The pages' library, kept with its ``library_version`` (``loaded_library``, which
        ``sync_settings`` compares) when they have none yet: ``read()`` gives (the version, the
        library); ``began``: as ``_cached``'s."""
        version = None

        def load():
            nonlocal version
            version, library = read()
            return library

        def kept() -> None:
            self.loaded_library = version
        return self._cached("library", load, kept, began)

    def taste(self):
        """The pages' library without every playlist this tool wrote (``jobs.taste_library``: our
        output is never your taste): what the Taste map, Moods (its lists and their export) and
        Similar read, built once per library (a playlist the tool makes meanwhile is not in it
        until the refresh that loads a new one)."""
        return self._cached("taste", lambda: jobs.taste_library(self.settings, self.library()))

    def library_version(self) -> tuple:
        """Whose library the cache holds and when it was pulled (the manifest's ``user_id`` and
        ``fetched_at``), and the frames no refresh makes (``store.MADE_BY``): a `recommend
        refresh`, `recommend auth`, `import features` or `enrich genres` in a terminal changes it
        (a steer, which writes only the manifest, does not)."""
        return self.versions()[1]

    def account(self) -> str:
        """The user id of the account whose library the cache holds ("" unknown): the Next page's
        steer forms send it back (``steer``)."""
        return str(self.library_version()[0] or "")

    def versions(self) -> tuple[tuple, tuple]:
        """(``data_version()``, ``library_version()``) from one look at the files, each stat-ed
        once: what every page asks first (``sync_settings``)."""
        from ..store import MADE_BY
        store = jobs.open_store(self.settings)
        manifest, frames = store.data_stats()
        return (manifest, *frames.values()), self._manifest_version(store, manifest) + tuple(frames[n] for n in MADE_BY)

    def _manifest_version(self, store, seen: tuple | None) -> tuple:
        """The manifest's account and pull time; ``seen``: its file's stat (asked before every
        page: the file is parsed again only when it changed)."""
        if seen is None or seen != self._manifest_seen[0]:
            manifest = store.read_manifest()
            self._manifest_seen = (seen, (manifest.get("user_id"), manifest.get("fetched_at")))
        return self._manifest_seen[1]

    def weights(self) -> dict[str, float]:
        from ..scorers import blend_weights
        return blend_weights(self.settings)

    def new_share(self) -> float:
        """``candidates.new_share``: the share of the playlist kept for tracks new to you."""
        return float(self.settings.candidates.new_share)

    def _with(self, weights: dict[str, float] | None, new_share: float | None):
        if not isinstance(weights or {}, dict):
            raise UsageError("weights must be an object of scorer name -> number")
        changes: dict[str, Any] = {}
        blend = self.weights()  # then with the given ones
        for name, w in (weights or {}).items():
            if name not in blend:
                raise UsageError(f"unknown scorer {name!r} (known: {', '.join(sorted(blend))})")
            # true is no weight; the config's bound (a hand edit or tune's grid may save 150: the page
            # refused to preview or Save anything while the file held it)
            if isinstance(w, bool) or not (isinstance(w, (int, float)) and 0 <= float(w) <= MAX_WEIGHT):
                raise UsageError(f"weight of {name} must be a number from 0 to {MAX_WEIGHT:,.0f}, got {w!r}")
            # as written (6 decimals): 1e-7 passed "above 0", and the file then held every weight at 0
            changes[f"scorers.{name}.weight"] = blend[name] = round(float(w), 6)
        if new_share is not None:
            if isinstance(new_share, bool) or not isinstance(new_share, (int, float)) or not 0 <= new_share <= 1:
                raise UsageError(f"new-music share must be between 0 and 1, got {new_share!r}")
            changes["candidates.new_share"] = float(new_share)
        if changes and not any(w > 0 for w in blend.values()):
            raise UsageError("at least one weight must be above 0")
        return self.settings.with_overrides(changes) if changes else self.settings

    # ----- Next playlist ------------------------------------------------------------------
    def _dry_run(self, settings, use: Callable[[Any], Any] | None = None) -> tuple:
        """(the data version, ``jobs.build_playlist(settings, dry_run=True)``), from the basis
        (seeds, candidates, every scorer's scores) kept for these settings but the weights
        (``_with_basis``); ``use``: what to take of the basis instead of the dry run."""
        return self._with_basis("preview_basis", settings, lambda: self._dry_run_basis(settings),
                                use or (lambda basis: jobs.dry_run_with(basis, settings, reasons=True)))

    def _dry_run_basis(self, settings):
        """``jobs.dry_run_basis``, whose library (read from the cache, or refreshed) becomes the
        pages' library when they have none yet (``_pages_library``, as ``library()`` reads it;
        not when the pages' data was dropped while the basis was made): the Next page's rows and
        the first pages after the start use the library the dry run read instead of reading it
        again. Only once the basis is made, its account known to be the login's: a cache of
        another account (a `recommend auth` as someone else) is refreshed first, and a page built
        from it (Moods, Search, the evaluation) would show that account's tracks until the next
        refresh."""
        with self._lock:  # an invalidate while the basis is made: its library may be of the data dropped
            began = self._generation("library")
        version = self.library_version()  # read first, as library() does
        started = time.monotonic()
        basis = jobs.dry_run_basis(settings, gateway=self._page_gateway(settings), unreached_ok=True)
        # (a basis Spotify answered for lets the last one made from the cache go: it held its library)
        self._offline = (basis, self._offline_until(basis.unreached)) if basis.unreached is not None \
            else (None, lambda: False)
        if basis.refreshed:  # its own refresh wrote the cache: the library it holds
            version = self.library_version()
            self.record_refresh(basis.refresh_requests, len(basis.library.track_ids), started)
        self._pages_library(lambda: (version, basis.library), began)
        return basis

    def _page_gateway(self, settings):
        """The gateway of the pages' dry run: without a login (``AuthError``, not another
        account's), one whose first request says so, so that the dry run shows the cache as
        `build-playlist --dry-run` does (``jobs.dry_run_basis(unreached_ok=True)``)."""
        from ..errors import AuthError, OtherAccount
        try:
            return self._gateway(settings)
        except AuthError as exc:
            if isinstance(exc, OtherAccount):
                raise
            return jobs.connect(settings, check=False)

    def _offline_until(self, why: Exception) -> Callable[[], bool]:
        """When a basis made from the cache alone is over, so that the next page asks Spotify
        again: ``CHECK_PAUSE_SECONDS`` after Spotify did not answer (no snapshot check meanwhile,
        ``check_playlist``), or as soon as a login is saved or removed (the token file changed:
        a `recommend auth` in a terminal) when there was none."""
        from ..spotify.auth import token_path
        if isinstance(why, UNREACHED):
            until = self._no_check_until = self.clock() + CHECK_PAUSE_SECONDS
            return lambda: self.clock() >= until
        token = token_path(self.settings.cache_dir)

        def stamp() -> tuple | None:
            try:
                st = token.stat()
            except OSError:
                return None
            return st.st_mtime_ns, st.st_size
        was = stamp()
        return lambda: stamp() != was

    def _offline_over(self, basis) -> bool:
        """Whether ``basis`` was made from the cache alone and that is over (``_offline_until``)."""
        made, over = self._offline
        return basis is made and over()

    def record_refresh(self, requests: int, tracks: int, started: float) -> None:
        """A pull of the web app (a page's dry run on a stale cache: the warm-up's, the Next page's;
        the demo's at start) in the run log, as a `refresh` records it (the pull's requests: not the
        dry run's reads of the managed playlist after it): else `recommend status` and the Runs page
        showed none of its requests. A record that cannot be written is logged, never the page's
        failure. ``started``: ``time.monotonic()`` when the pull began."""
        from ..runlog import record_run
        try:
            record_run(self.settings.cache_dir, REFRESH_COMMAND, 0, started, requests=requests, tracks=tracks)
        except OSError as exc:
            log.warning("the web app's refresh could not be recorded in runs.jsonl (%s)", exc.strerror or exc)

    def preview(self):
        """What `build-playlist --dry-run` shows now (a jobs.BuildResult), kept until the cached
        data it was computed from changes (``sync_settings``)."""
        data = None

        def build():
            nonlocal data
            data, result = self._dry_run(self.settings)
            failed = self.last_publish
            if not result.from_cache and failed is not None and failed.get("exit_code") != 0 and failed.get("seen"):
                # a failed Publish the page has shown, and Spotify answered a computation since: its
                # red box ("Spotify is unavailable") stood above a playlist computed after it
                self.last_publish = None
            return result

        def kept() -> None:
            self._preview_data = data
        with self._lock:  # a playlist computed from the cache alone, Spotify perhaps back (or a login saved)
            entry = self._cache.get("preview_basis")
        if entry is not None and self._offline_over(entry[1]):
            self.invalidate("preview")
        return self._cached("preview", build, kept)

    def check_playlist(self) -> None:
        """Before the Next page shows its kept playlist: drop it when the managed playlist changed
        in Spotify since the playlist was computed (a track removed, added or moved by hand in the
        app), so that the page shows what a run would do now. One request (the playlist's
        snapshot id), sent once (no retry); when Spotify does not answer it, the page shows what it
        kept and no check is made for ``CHECK_PAUSE_SECONDS``."""
        from .. import publish
        from ..errors import SpotifyError
        with self._lock:
            entry = self._cache.get("preview_basis")
            if "preview" not in self._cache or entry is None or self.clock() < self._no_check_until \
                    or entry[1].unreached is not None:  # (made from the cache alone: its note says why)
                return
            state, data = entry[1].state, self._preview_data
        if state is None or not state.playlist_id or not state.snapshot:
            return  # no managed playlist yet (a publish makes it): nothing to compare
        try:
            now = publish.snapshot_of(self._gateway(self.settings.with_overrides({"spotify.max_retries": 0})),
                                      state.playlist_id)
        except (SpotifyError, *UNREACHED) as exc:  # (a 404: gone; the next computation says so)
            log.info("the managed playlist's snapshot could not be read (%s): the Next page shows what it kept", exc)
            if isinstance(exc, UNREACHED):
                self._no_check_until = self.clock() + CHECK_PAUSE_SECONDS
            else:
                self.invalidate("preview")
            return
        if now and now != state.snapshot:
            with self._lock:
                if self._preview_data == data:  # (not computed anew meanwhile)
                    self.invalidate("preview")

    def next_rows(self, result) -> list[dict[str, Any]]:
        """The preview's table as rows for the page: shares, new/source when present, artists."""
        table = result.table
        lib = self.library()
        positions = dict(zip(table["track_id"].astype(str), lib.track_positions(list(table["track_id"].astype(str)))))
        pins = set(jobs.pin_requests(jobs.open_store(self.settings)))
        contributions = result.contributions  # scorer -> its column
        rows = []
        for r in table.to_dict("records"):
            tid = str(r["track_id"])
            artists: list[tuple[str, str]] = []
            if positions.get(tid, -1) >= 0:
                t = lib.tracks.iloc[positions[tid]]
                artists = [(str(i), str(n)) for i, n in zip(t["artist_ids"], t["artist_names"])]
            rows.append({
                "rank": int(r["rank"]), "track_id": tid, "name": str(r["name"]), "artists": str(r["artists"]),
                "artist_list": artists, "score": _num(r["score"]),
                "artist_mix": _num(r.get("artist_mix")),  # the factor the artist mix gave the score (None: pinned)
                "shares": {name: _num(r[c]) for name, c in contributions.items()},
                "new": None if _missing(r.get("new")) else bool(r["new"]),
                "source": None if _missing(r.get("source")) else source_name(r["source"]),  # as the CLI names it
                "why": str(r.get("why") or ""), "pinned": bool(r.get("pinned", False)), "pin_requested": tid in pins,
            })
        return rows

    def _on_next_page(self, track_id: str) -> bool:
        """Whether the library holds the track or the Next playlist shows it (a row may be neither
        a library track nor a candidate: one you added to the playlist by hand)."""
        if int(self.library().track_positions([track_id])[0]) >= 0:
            return True
        return track_id in set(self.preview().table["track_id"].astype(str))

    def names_of(self, track_id: str, artist_id: str = "") -> dict[str, str]:
        """The library's names of a track of the Next page (``name``; ``by``: its artists as the
        page shows them) and of one of its artists (``artist``, by id; from another track when the
        library no longer holds this one), {} for what it does not hold: a steer's form sends them
        back, and a browser sends a form's values with every line break made CR LF, so an artist
        whose name holds a newline was blocked under another name (it stayed in the playlist,
        "blocked" said above it)."""
        lib = self.library()
        tracks = lib.tracks
        pos = int(lib.track_positions([track_id])[0]) if track_id else -1
        out: dict[str, str] = {}
        own = []  # the track's (artist ids, names)
        if pos >= 0:
            t = tracks.iloc[pos]
            out = {"name": str(t["name"]), "by": ", ".join(str(n) for n in t["artist_names"])}
            own = [(t["artist_ids"], t["artist_names"])]
        if artist_id:  # its own artists first, then any track's: one gone since the page was opened (a refresh)
            for ids, names in itertools.chain(own, zip(tracks["artist_ids"], tracks["artist_names"])):
                found = {str(i): str(n) for i, n in zip(ids, names)}
                if artist_id in found:
                    out["artist"] = found[artist_id]
                    break
        return out

    def steer(self, action: str, track_id: str = "", artist: str = "", account: str | None = None) -> str:
        """remove / pin / unpin / restore (put back, the Undo of remove) a track, or block or unblock
        an artist; returns a one-line message. ``account``: the user id of the library the page
        showed (``jobs.steer`` refuses a track's steer from a page of another account's; a block
        goes to the config, which every account shares)."""
        if action in ("remove", "pin", "unpin", "restore"):
            if not track_id:
                raise UsageError(f"{action}: no track given")
            from ..explore import is_track_id
            if not is_track_id(track_id):  # a form's value, or a script's: never kept in the manifest
                raise UsageError(f"not {action}{'ned' if action.endswith('pin') else 'd'}: {cut(track_id, 40)!r} "
                                 "is not a Spotify track id")
            if action == "pin" and not self._on_next_page(track_id):
                # a pin is sent to Spotify by every later run: an id it does not know failed each Publish
                raise UsageError("not pinned: the track is neither in your library nor on the Next playlist "
                                 "(reload the page)")
            if action == "pin":
                from ..pipeline import unblocked
                if not unblocked(self.library(), self.settings, [track_id]):  # a page opened before the block (another tab)
                    raise UsageError("not pinned: this track is on your blocklist (its artist or title: "
                                     "candidates.blocklist_artists, candidates.blocklist_tracks), and no run places a "
                                     "blocked track")
            repin = action == "restore" and track_id in (jobs.open_store(self.settings).read_manifest()
                                                         .get(jobs.REMOVED_PINS) or [])
            jobs.steer(self.settings, **{action: [track_id]}, account=account)
            self.invalidate("preview")
            if repin:
                return "put back, and pinned again: the next run puts it first"
            return {"remove": "removed: it will not be recommended again",
                    "pin": "pinned: the next run puts it first", "unpin": "unpinned",
                    "restore": "put back: it may be recommended again"}[action]
        if action == "block":
            if not artist:  # a name of spaces only is a name: the blocklist compares whole names
                raise UsageError("block: no artist given")
            from .configfile import add_to_list
            leaving = self._pins_blocked_by(artist)  # said: a pin of theirs left the playlist unsaid
            with jobs.writing(self.settings, "web block"):
                # the name whole: the blocklist compares whole names, and "Band " trimmed blocked no one
                add_to_list(self.config_file, "candidates.blocklist_artists", artist)
            self.reload_settings()
            self.invalidate("preview", "similar_setup")
            pins = (f"; {plural(len(leaving), 'its pinned track', 'its pinned tracks')} "
                    f"{', '.join(repr(n) for n in leaving[:3])}{', ...' if len(leaving) > 3 else ''} "
                    f"{plural(len(leaving), 'leaves', 'leave')} the playlist too (no run places a blocked track)"
                    if leaving else "")
            return (f"blocked the artist in {self.config_file} (candidates.blocklist_artists; Undo, or take the name "
                    f"out of that list, unblocks it){pins}")
        if action == "unblock":  # the Undo of a block: its name out of the list again
            if not artist:
                raise UsageError("unblock: no artist given")
            from .configfile import remove_from_list
            with jobs.writing(self.settings, "web unblock"):
                _, held = remove_from_list(self.config_file, "candidates.blocklist_artists", artist)
            if not held:
                raise UsageError(f"not unblocked: the artist is not in candidates.blocklist_artists of {self.config_file}")
            self.reload_settings()
            self.invalidate("preview", "similar_setup")
            return f"unblocked the artist: taken out of candidates.blocklist_artists in {self.config_file}"
        raise UsageError(f"unknown action {action!r}")

    def _pins_blocked_by(self, artist: str) -> list[str]:
        """The names of your pinned tracks (asked here, or kept from a publish) that a block of
        ``artist`` would take out, matched as the blocklist matches (``pipeline.unblocked``)."""
        from ..pipeline import unblocked
        from ..publish import MAIN, slot_record
        manifest = jobs.open_store(self.settings).read_manifest()
        info = slot_record(manifest, MAIN)
        pinned = [str(t) for t in dict.fromkeys(list(manifest.get(jobs.PIN_REQUESTS) or []) + list(info.get("pinned") or []))]
        if not pinned:
            return []
        lib = self.library()
        now = set(unblocked(lib, self.settings, pinned))
        listed = list(self.settings.candidates.blocklist_artists or [])
        with_it = set(unblocked(lib, self.settings.with_overrides({"candidates.blocklist_artists": listed + [artist]}),
                                pinned))
        names = lib.tracks.set_index("track_id")["name"]
        return [str(names.get(t, t)) for t in pinned if t in now and t not in with_it]

    def publish(self, plan: str | None = None) -> dict[str, Any]:
        """`recommend build-playlist`: the same function, lock, errors and exit codes; the run is
        recorded in the run log as the CLI records it (``runlog.record_run``), failures included:
        a RecommenderError with its exit code, a full disk as exit 7, a bug as exit 1 (logged).
        ``plan``, from a page, is the fingerprint (``plan_of``) of the diff it showed: when the run
        would add or remove other tracks, it writes nothing (StalePlan). Checked by the run itself,
        once it has read the playlist and scored, before its first write (``expect``): a kept
        Next playlist knows nothing of an edit of the playlist in Spotify, nor of the refresh a
        cache gone stale since the page gets from the run."""
        from ..errors import StorageError
        from ..runlog import record_failure, record_run, unexpected_message
        # the config file as a page reads it: the app syncs before every change it is asked for
        # (``app.config_problem``, which refuses one while the file is broken)

        def expect(playlist_id, planned) -> None:
            if plan is not None and _fingerprint(playlist_id, planned.added, planned.removed) != plan:
                raise StalePlan("not published: what Publish would change is no longer what the page showed "
                                "(a steer or Publish in another tab, a run in a terminal, the nightly run, an edit "
                                "of the playlist in Spotify or a refresh changed it since); here it is now: check "
                                "it and publish again")
        started = time.monotonic()
        unreached = False
        try:
            result = jobs.build_playlist(self.settings, gateway=self._gateway(self.settings), expect=expect)
        except StalePlan:
            self.invalidate("preview")  # the page shows what the run found, not the kept playlist
            raise
        except Exception as exc:  # noqa: BLE001 - the page shows it in one line, as the CLI would
            unreached = isinstance(exc, UNREACHED)
            if StorageError.matches(exc):
                exc = StorageError.from_os_error(exc)
            bug = not isinstance(exc, RecommenderError)
            if bug:
                log.exception("unexpected error in the web publish")
            code, message = (1, unexpected_message(exc)) if bug else (exc.exit_code, str(exc))
            note = record_failure(self.settings.cache_dir, PUBLISH_COMMAND, code, started, message)
            if note:
                log.warning("%s", note)
            outcome = {"exit_code": code, "message": web_words(message) + (" (details in the log; please report it)" if bug else "")
                       + (f"; {note}" if note else "")}
        else:
            outcome = {"exit_code": 0, "message": "; ".join(result.messages), "playlist_id": result.playlist_id,
                       "playlist_name": result.playlist_name, "added": [result.labels.get(t, t) for t in result.added_ids],
                       "removed": [result.labels.get(t, t) for t in result.removed_ids],
                       "kept": result.kept, "reason": result.reason}
            record_run(self.settings.cache_dir, PUBLISH_COMMAND, 0, started, playlist_id=result.playlist_id,
                       added=result.added, removed=result.removed, kept=result.kept,
                       requests=result.requests, dry_run=False, refreshed=result.refreshed)
        outcome["when"] = shown(utc_now())  # the page says when: a run in a terminal may have written it since
        self.last_publish = outcome
        if not unreached:
            self.invalidate()
        else:  # Spotify did not answer (or asked to wait): the pages keep what they showed, each load
            # asked it again (five tries, 8 s) to show the error alone; a write of the cache meanwhile
            # is seen as ever (``sync_settings``), and a Publish checks its plan with Spotify again
            self._no_check_until = self.clock() + CHECK_PAUSE_SECONDS  # (``check_playlist``)
        return outcome

    # ----- Weights --------------------------------------------------------------------------
    def weights_preview(self, weights: dict[str, float] | None, new_share: float | None = None) -> dict[str, Any]:
        """The top of the playlist and the evaluation numbers for these weights."""
        from concurrent.futures import ThreadPoolExecutor
        t0 = time.perf_counter()
        settings = self._with(weights, new_share)
        evaluation = None
        with ThreadPoolExecutor(2) as pool:  # the dry run and the evaluation are independent but for the library:
            def blend(basis):  # the dry run's basis reads it (its account the login's) and the evaluation,
                nonlocal evaluation  # beside the blend, takes it: one use of the basis, as the Next page's
                evaluation = pool.submit(self._evaluation_or_error, settings, basis.library)
                return jobs.dry_run_with(basis, settings)
            try:
                _data, result = self._dry_run(settings, use=blend)
            finally:  # or reads it itself when the dry run failed first
                if evaluation is None:
                    evaluation = pool.submit(self._evaluation_or_error, settings, None)
            out_eval = evaluation.result()
        rows = [{"rank": int(r["rank"]), "name": str(r["name"]), "artists": str(r["artists"]),
                 "score": _num(r["score"])} for r in result.table.head(PREVIEW_ROWS).to_dict("records")]
        out: dict[str, Any] = {"tracks": rows, "reason": result.reason or "", "short": result.short,
                               "added": len(result.added_ids), "removed": len(result.removed_ids),
                               # artist_walk on few playlists: the blend uses the slider's weight x factor
                               "weight_factors": {k: round(v, 2) for k, v in result.weight_factors.items()},
                               # Spotify did not answer (or no login): the note the Next page shows, said here too
                               "from_cache": web_words(result.from_cache)}
        out["evaluation"] = out_eval
        out["seconds"] = round(time.perf_counter() - t0, 3)
        return out

    def _evaluation_or_error(self, settings, library=None) -> dict[str, Any]:
        try:
            return self.evaluate(settings, library)
        except RecommenderError as exc:
            return {"error": web_words(str(exc))}

    def evaluate(self, settings=None, library=None) -> dict[str, Any]:
        """`recommend evaluate` on the user's library (seeded random hiding): metrics and curves.
        ``library``: the one the dry run beside it read (None: the pages')."""
        settings = settings or self.settings
        _data, res = self._with_basis("eval_basis", settings,
                                      lambda: jobs.weights_evaluation(settings, self._evaluation_setup(settings, library)),
                                      lambda basis: basis.result(settings))
        out = res.to_dict()
        out["top_n"] = res.top_n
        # a scorer at weight 0 is off, as `recommend evaluate` says it: its row is that scorer alone
        out["weight_cells"] = {name: weight_cell(res.weights, name) for name in res.metrics}
        out["off"] = off_line(res.weights, TURN_ON_HERE)
        from ..scorers.audio import idle_note
        idle = idle_note(res.weights, library if library is not None else self.library())
        out["off"] = "; ".join(line for line in (out["off"], idle) if line)
        out["curves"] = {m: [round(float(v), 4) for v in res.precision_curve(m)] for m in res.hits}
        out["curve_labels"] = {m: curve_label(res.weights, m) for m in res.hits}  # the Runs page's, as the report's
        out["when"] = shown(utc_now())  # now, in UTC as the run log's times
        self.last_evaluation = out
        return out

    def _evaluation_setup(self, settings, library=None):
        """`recommend evaluate`'s hiding of ``library`` (None: the pages'), on at most
        EVAL_MAX_TARGETS playlists (evenly spread over the sorted playlist ids), so that the
        page's first evaluation is quick."""
        import dataclasses
        setup = jobs.evaluation_setup(settings, library=self.library() if library is None else library)
        pids = sorted(setup.hidden["playlist_id"].astype(str).unique())
        if len(pids) > EVAL_MAX_TARGETS:
            keep = set(pids[i] for i in range(0, len(pids), -(-len(pids) // EVAL_MAX_TARGETS)))
            setup = dataclasses.replace(setup, hidden=setup.hidden[setup.hidden["playlist_id"].astype(str).isin(keep)])
        return setup

    def save_weights(self, weights: dict[str, float], new_share: float | None = None, version: Any = None) -> str:
        """Write the weights like `tune --write` (comments and other keys kept); returns the diff.
        ``version``: the config file's fingerprint the page was given (``check_version``, made
        holding the run lock: a `tune --write` just before the write was written over, a mix of both)."""
        self._with(weights, new_share)  # validates
        _path, diff = jobs.write_tuned_weights(self.settings, {k: float(v) for k, v in weights.items()},
                                               path=self.config_file,
                                               new_share=None if new_share is None else float(new_share),
                                               check=lambda: self.check_version(version))
        self.reload_settings()
        self.invalidate("preview", "similar_setup")
        return diff

    # ----- Taste map --------------------------------------------------------------------------
    def taste_map(self) -> dict[str, Any]:
        return self._cached("map", self._taste_map)

    def _taste_map(self) -> dict[str, Any]:
        import numpy as np
        import pandas as pd

        from ..explore import each_recording_once
        from ..moods import CLUSTER_FEATURES, audio_features, cluster_playlist
        from ..safetext import visible
        lib = self.taste()  # the playlists we wrote (the managed one, mood exports) are our output, not your taste
        items = lib.playlist_items
        ids = your_tracks(lib)
        total = len(ids)  # the library's tracks: the page says "N of your total tracks" and why not all
        # each recording once (clustering keeps one of its copies), before the sample: a copy in the
        # sample took the place of a track shown (the demo's 1,424 tracks gave 995 points, not 1,000)
        ids = each_recording_once(lib, ids)  # as the clustering below does (its library keeps lib's codes)
        recordings = len(ids)
        if len(ids) > MAP_MAX_TRACKS:
            ids = [ids[i] for i in np.linspace(0, len(ids) - 1, MAP_MAX_TRACKS).astype(int)]
        pl = lib.playlists
        pseudo = lib.replace(
            playlists=pd.concat([pl, pd.DataFrame({"playlist_id": [MAP_PLAYLIST], "name": [MAP_PLAYLIST_NAME]})],
                                ignore_index=True),
            playlist_items=pd.concat([items, pd.DataFrame({"playlist_id": MAP_PLAYLIST, "track_id": ids,
                                                           "position": range(len(ids))})], ignore_index=True))
        m = self.settings.moods
        res = cluster_playlist(pseudo, MAP_PLAYLIST, max_clusters=m.max_clusters, min_audio_share=m.min_audio_share,
                               valence_threshold=m.valence_threshold, energy_threshold=m.energy_threshold)
        names = pl.set_index("playlist_id")["name"].astype(str).to_dict()
        first = items.drop_duplicates("track_id").set_index("track_id")["playlist_id"].astype(str).to_dict()
        top = list(items["playlist_id"].astype(str).value_counts().index[:MAP_TOP_PLAYLISTS])
        # each name's invisible characters as escapes, as `recommend playlists` shows it ("Chill" and
        # "Chill\u200b" are two playlists, and the name can be typed back): they drew as one
        playlists = [visible(names.get(p, p)) for p in top]
        colour = {p: i for i, p in enumerate(top)}  # by id: two playlists may share a name
        t = res.tracks[res.tracks["cluster"] >= 0]
        points = []
        for r in t.to_dict("records"):
            p = first.get(r["track_id"])
            points.append({"id": r["track_id"], "name": str(r["name"]), "artists": str(r["artists"]),
                           "x": _num(r["x"]), "y": _num(r["y"]), "cluster": int(r["cluster"]),
                           "playlist": colour.get(p, -1)})
        # radar: each cluster's mean audio features (those on a 0..1 scale), whatever the basis; of
        # ``pseudo``, whose clustering has read them (the same tracks and features as ``lib``'s)
        feats = audio_features(pseudo)
        radar_features = [f for f in CLUSTER_FEATURES if f in feats.columns and feats[f].notna().any()
                          and feats[f].dropna().between(0, 1).all()]
        means = (feats.reindex(t["track_id"])[radar_features].assign(cluster=t["cluster"].to_numpy())
                 .groupby("cluster").mean()) if radar_features else pd.DataFrame()
        clusters = []
        for c in res.clusters.to_dict("records"):
            k = int(c["cluster"])
            radar = [_num(means.at[k, f]) if k in means.index else None for f in radar_features]
            clusters.append({"cluster": k, "size": int(c["size"]), "label": str(c["label"]),
                             "radar": radar if any(v is not None for v in radar) else []})
        if not any(c["radar"] for c in clusters):
            radar_features = []
        return {"basis": res.basis, "k": res.k, "silhouette": _num(res.silhouette), "points": points,
                "clusters": clusters, "features": radar_features, "playlists": playlists,
                "explained": [_num(v) for v in res.explained_variance], "axes": list(res.axes), "total": total,
                "left_out": _left_out(total, recordings, int((res.tracks["cluster"] < 0).sum()))}

    def export_cluster(self, cluster: int) -> dict[str, Any]:
        """Write one mood cluster to its own private playlist, managed like the main one."""
        from .export import export_cluster
        data = self.taste_map()
        match = [c for c in data["clusters"] if c["cluster"] == cluster]
        if not match:
            raise UsageError(f"no cluster {cluster} on the map")
        ids = [p["id"] for p in data["points"] if p["cluster"] == cluster]
        return export_cluster(self.settings, self._gateway(self.settings), match[0]["label"], cluster, ids,
                              user_id=self.library().user_id)

    # ----- Search / Similar ---------------------------------------------------------------------
    def search_index(self):
        """The CLI's search index: cached beside the library, with ``search.min_score``."""
        from ..explore import TrackIndex
        from ..libsource import LibrarySource, search_index
        return self._cached("search_index", lambda: TrackIndex(min_score=self.settings.search.min_score).from_index(
            search_index(LibrarySource(self.settings), self.library())))

    def search(self, query: str) -> dict[str, Any]:
        """The Search page's answer: the query, its tracks and ``min_score``, the score none of
        them reached when there are none (the page says the number, as `recommend search` does)."""
        from ..explore import search_tracks
        index = self.search_index()
        df = search_tracks(self.library(), query, limit=SEARCH_LIMIT, index=index)
        return {"query": query, "min_score": index.min_score,
                "tracks": [{"track_id": str(r["track_id"]), "name": str(r["name"]), "artists": str(r["artists"]),
                            "album": str(r["album"]), "score": _num(r["score"])} for r in df.to_dict("records")]}

    def similar(self, text: str) -> dict[str, Any]:
        from ..explore import CACHE, DEMO, equal_matches, resolve_track, sharing, similar_tracks
        lib = self.library()
        # a track not found: in the library the app shows, found with the app's own Search page
        where = (DEMO if self.demo else CACHE)._replace(search="the Search page")
        tid = resolve_track(lib, text, index=self.search_index(), where=where)
        # the other songs the text names as well ("Stay": five of them), as `recommend similar` says
        others = equal_matches(lib, text, tid, index=self.search_index())
        with self._similar_lock:  # the scorers are fitted once and shared
            scorers, weights, extra = self._cached("similar_setup", self._similar_setup)
            df = similar_tracks(lib, tid, scorers, weights, n=SEARCH_LIMIT,
                                normalisation=self.settings.blend.normalisation,
                                same_artist=self.settings.similar.same_artist, extra=extra, where=where)
        title = _title(lib, tid) or tid
        names = sharing(df, weights)  # a scorer at weight 0 left out, as `recommend similar` leaves it out
        return {"track_id": tid, "title": title, "scorers": names, "others": others,
                "tracks": [{"rank": int(r["rank"]), "track_id": str(r["track_id"]), "name": str(r["name"]),
                            "artists": str(r["artists"]), "score": _num(r["score"]),
                            "shares": {n: _num(r[n]) for n in names}, "why": str(r["why"])}
                           for r in df.to_dict("records")]}

    def why(self, text: str) -> dict[str, Any]:
        """The Search page's "why" of one track (`build-playlist --why`, ``pipeline.explain_track``):
        its place on the Next playlist, or the rule or setting that keeps it out, from the basis
        the Next page keeps (no second scoring of the library)."""
        from ..explore import CACHE, DEMO
        where = (DEMO if self.demo else CACHE)._replace(search="the Search page")
        settings = self.settings
        return self._dry_run(settings, use=lambda basis: jobs.dry_run_with(basis, settings, explain=text,
                                                                           where=where).explained)[1]

    def track_title(self, text: str) -> str | None:
        """"Name - Artists" of the track a Spotify id, URI or link names, as the Similar page's box
        shows it (a Search result's link opens the page with the id, which the box showed bare);
        None for other text, or a track the library does not hold."""
        from ..links import parse_track_ref
        ref = parse_track_ref(text)
        return _title(self.library(), ref) if ref is not None else None

    def _similar_setup(self):
        """``recommend similar``'s scorers (fitted once), weights and extra sources."""
        from ..explore import similar_setup
        lib = self.taste()  # our playlists are not evidence
        scorers, weights, extra = similar_setup(self.settings, lib)
        return {name: s.fit(lib) for name, s in scorers.items()}, weights, extra

    # ----- Moods ----------------------------------------------------------------------------------
    def moods(self) -> dict[str, Any]:
        return self._cached("moods", self._moods)

    def _moods(self) -> dict[str, Any]:
        """The mood plane (your tracks by valence and energy, at most ``MAP_MAX_TRACKS``) and
        `recommend moods classify`'s counts and classifier report."""
        import numpy as np

        from ..moods import audio_features, classify_library, mood_counts, quadrant
        lib = self.taste()
        m = self.settings.moods
        classified = classify_library(lib, test_size=m.holdout, margin=m.classifier_margin, classifier_c=m.classifier_c,
                                      valence_threshold=m.valence_threshold, energy_threshold=m.energy_threshold)
        feats = audio_features(lib)
        # each recording once, as the table counts them (its copy with audio features kept): the plane
        # said 1555 tracks with audio features above a table of 1523 tracks in all (the demo's copies)
        ids = [str(t) for t in classified.loc[classified["source"] == "audio", "track_id"] if t in feats.index]
        with_audio = list(ids)
        if len(ids) > MAP_MAX_TRACKS:
            ids = [ids[i] for i in np.linspace(0, len(ids) - 1, MAP_MAX_TRACKS).astype(int)]
        names = classified.drop_duplicates("track_id").set_index("track_id")
        sel = feats.loc[ids]
        moods = quadrant(sel["valence"], sel["energy"], m.valence_threshold, m.energy_threshold)
        points = [{"id": t, "name": str(names.at[t, "name"]) if t in names.index else t,
                   "artists": str(names.at[t, "artists"]) if t in names.index else "",
                   "valence": _num(v), "energy": _num(e), "mood": mood}
                  for t, v, e, mood in zip(ids, sel["valence"], sel["energy"], moods)]
        report = classified.attrs.get("report")
        # your recordings, each once, as the taste map counts them: a recording of yours whose kept
        # copy is another (the copy with audio features) is still yours (the demo said 1411 here
        # and 1417 on the map); those with audio features: the kept ones that are a recording of yours
        from ..explore import distinct_recordings, each_recording_once
        mine = your_tracks(lib)
        others = int(distinct_recordings(lib, with_audio, exclude=mine).sum()) if with_audio else 0
        return {"points": points, "with_audio": len(with_audio), "total": int(len(classified)),
                "with_audio_yours": len(with_audio) - others,
                "total_yours": min(len(each_recording_once(lib, mine)), int(len(classified))),
                "thresholds": {"valence": m.valence_threshold, "energy": m.energy_threshold},
                "counts": mood_counts(classified),
                "classifier": report.to_dict() if report else None,  # exact: the page rounds, once
                # as `recommend moods classify` decides it: each recording once
                "all_audio": bool((classified["source"] == "audio").all())}

    def export_mood(self, mood: str = "", valence: str = "", energy: str = "") -> dict[str, Any]:
        """The list ``mood_tracks`` gives for the same query, to ``"recommend: <mood>"`` (a point:
        "recommend: valence V, energy E"), the playlist `moods recommend --export` keeps."""
        from .export import export_mood
        out = self.mood_tracks(mood, valence, energy)
        return export_mood(self.settings, self._gateway(self.settings), out["mood"], [t["track_id"] for t in out["tracks"]],
                           user_id=self.library().user_id)

    def mood_tracks(self, mood: str = "", valence: str = "", energy: str = "") -> dict[str, Any]:
        """`recommend moods recommend`: a mood (nudged toward your taste, as the CLI does) or a
        point of the plane (``valence`` and ``energy`` as the query gives them, 0..1). ``mood``
        and ``playlist`` name the list and the playlist an export writes it to (the page says
        them as given: a point's name rounded here, as `moods recommend --export` rounds it)."""
        from ..moodexport import playlist_name
        lib = self.taste()  # as the CLI's: our playlists are not yours

        def number(key: str, text: str) -> float:
            try:
                return float(text)
            except ValueError:
                raise UsageError(f"{key} must be a number from 0 to 1, got {text!r}") from None
        if mood:
            df, name = jobs.mood_list(self.settings, lib, mood, n=SEARCH_LIMIT)
        else:
            df, name = jobs.mood_list(self.settings, lib, valence=number("valence", valence),
                                      energy=number("energy", energy), n=SEARCH_LIMIT)
        tv, te = df.attrs["target"]
        return {"target": {"valence": _num(tv), "energy": _num(te)}, "mood": name, "playlist": playlist_name(name),
                "tracks": [{"rank": int(r["rank"]), "track_id": str(r["track_id"]), "name": str(r["name"]),
                            "artists": str(r["artists"]), "mood": str(r["mood"]), "valence": _num(r["valence"]),
                            "energy": _num(r["energy"]), "score": _num(r["score"])} for r in df.to_dict("records")]}

    # ----- Discovery ----------------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        """What the last refresh's discovery did (the manifest's ``last_discovery``, the found
        frames, the open-data cache's dates) and its settings; no request to any service."""
        return self._cached("discovery", self._discovery)

    def _discovery(self) -> dict[str, Any]:
        from .discovery import discovery_page
        try:
            preview = self.preview()
        except RecommenderError:
            preview = None
        out = discovery_page(self.settings, jobs.open_store(self.settings), preview, demo=self.demo)
        out["config_file"] = str(self.config_file)
        return out

    def save_discovery(self, values: dict[str, Any], version: Any = None) -> str:
        """Write discovery's settings to the config file (comments kept), as Save on Weights
        does; validated by config.py first. Returns the diff."""
        from ..configfile import set_values
        from .discovery import check_values
        changes = check_values(self.settings, values)
        with jobs.writing(self.settings, "web discovery"):
            self.check_version(version)  # holding the lock: a write just before it is seen
            diff = set_values(self.config_file, changes)
        self.reload_settings()
        self.invalidate("discovery")
        return diff

    # ----- Runs -----------------------------------------------------------------------------------
    def runs(self) -> dict[str, Any]:
        from ..status import state_warnings
        store = jobs.open_store(self.settings)
        try:  # the pages' library (read here with this store when no page has read it yet)
            lib = self.library(store)
        except RecommenderError:  # none, or damaged: said below, as `recommend status` says it
            lib = None
        info = jobs.read_status(self.settings, store, lib, runs=RUNS_SHOWN)  # runs.jsonl read once
        # what `recommend status` warns of too: work left half done
        info["warnings"] += list(state_warnings(info).values())
        # as `recommend status` says them: UTC minutes, dry runs marked (the template), requests
        # and as the pages say their errors: the sample library tried with `recommend web --demo` (``web_words``)
        info["runs"] = [{**r, "when": shown_text(r.get("when")),
                         **({"message": web_words(r["message"])} if isinstance(r.get("message"), str) else {})}
                        for r in info.pop("last_runs")]
        info["cache"]["fetched_at"] = shown_text(info["cache"]["fetched_at"])
        info["login"]["expires_at"] = shown_text(info["login"]["expires_at"])
        info["evaluation"] = self.last_evaluation
        return info
