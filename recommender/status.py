"""What `recommend status` shows, JSON-ready: the last runs (``runlog``), the lock's holder, the
cache, the login, the managed playlist, genre and audio-feature coverage, the last discovery and
the schedule (``schedule.status``'s, with its last run and its warnings)."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import StorageError, make_dirs, set_aside
from .isotime import age_seconds, iso_utc, shown, shown_text, system_now, time_or_none, utc_now
from .lock import holders, lock_path, started_at, waiting_text
from .paths import home_short
from . import runlog
from .runlog import SCHEDULED, SCHEDULED_COMMAND, describe_run
from .safetext import visible
from .store import DISCOVERING, atomic_write_text
from .wording import plural

log = logging.getLogger(__name__)


def status(cache_dir: Path | str, store_manifest: Mapping[str, Any], token_info: Mapping[str, Any] | None,
           library: Any = None, now: datetime | None = None, runs: int = 5,
           frames_dir: Path | str | None = None, schedule: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything ``recommend status`` shows, JSON-ready (no tokens in it).

    Keys: data_dir (the state directory; also as cache_dir, its first name), frames_dir (re-fetchable data; ``data_dir`` unless
    given), warnings (about the places: the state directory inside the folder of caches),
    running (lock holder or None), stopped (the lock record of a run that ended without
    releasing it, killed, until the next run takes over and records it; or None), last_runs (newest first), cache
    {fetched_at, age_hours, discovery_unfinished, empty (no frame file in ``frames_dir``)}, login {state, expires_at, expires_in_minutes, scope},
    playlist {id, name, tracks (as last written), unfinished (a write begun and not verified), and gone: true when the last refresh did not list it} or None, genres {artists, with_genres, coverage, nameless (no name to look up by)} or None,
    audio_features {tracks, recordings, with_features, coverage} or None,
    discovery {when, sources (on or off), tracks (new to you, per source), new_tracks (each once, or
    None in an older record), requests (open data), cached_answers, warnings} of the last refresh's discovery, or None before the first,
    schedule (``schedule.status``'s dict given as ``schedule``, with ``last_run`` and ``warnings``:
    ``schedule_warnings``) or None.
    ``token_info`` is the spotipy token file's JSON (None when there is none).
    """
    now = now or utc_now()
    frames = cache_dir if frames_dir is None else frames_dir
    recent = runlog.read_runs(cache_dir, max(runs, SCHEDULED_SCAN) if schedule is not None else runs)
    running, stopped = holders(lock_path(cache_dir))  # one read of the lock file for both
    return {
        # the data directory (login, manifest, runs), by the name `--json` readers know it as,
        # and by its own: "cache_dir" held ~/.local/state/recommend, beside the cache's "frames_dir"
        "cache_dir": str(cache_dir),
        "data_dir": str(cache_dir),
        "frames_dir": str(frames),
        "warnings": _place_warnings(cache_dir),
        "running": running,
        "stopped": stopped,
        "last_runs": recent[:runs],
        # a refresh's discovery under way (a live run holds the lock) is not one stopped half way
        "cache": {**(cache := _cache_status(store_manifest, now)),
                  "discovery_unfinished": cache["discovery_unfinished"] and not running,
                  "empty": not any(Path(frames).glob("*.parquet"))},
        "login": login_status(token_info, now),
        "playlist": _playlist_status(store_manifest, library),
        "genres": genre_coverage(library) if library is not None else None,
        "audio_features": feature_coverage(library) if library is not None else None,
        "discovery": _discovery_status(store_manifest),
        "schedule": schedule_warnings(schedule, recent, now, installed_at(cache_dir, schedule.get("line")))
        if schedule is not None else None,
    }


def read_warnings(store: Any, library: Any) -> list[str]:
    """What the reads of ``store`` found amiss, as ``recommend status`` and the web app's Runs
    page say it: the cached library unreadable (``library`` None: a file of it missing or
    damaged), and the other problems (a manifest with no readable backup, a damaged genres
    file), where the runs said "playlist: none yet" and "genres: 0 of 877" unexplained."""
    warnings = []
    if library is None and (damaged := store.damaged()):  # (its genre and feature rows were left out, unsaid)
        warnings.append(f"the cached library cannot be read ({damaged}): the next refresh or "
                        "build-playlist pulls it again; until then the other commands stop")
    warnings += [p for p in store.problems if not (store.lost and p.startswith(store.lost))]
    return warnings


def state_warnings(info: Mapping[str, Any]) -> dict[str, str]:
    """The warnings of a ``status`` dict about work left half done, by what they are about
    (``discovery``, ``playlist``, ``stopped``): a refresh stopped in its discovery, a write to
    the managed playlist that did not finish, a run that ended without releasing the lock.
    Plain text: the CLI and the web app escape it as they show it."""
    warnings = {}
    if info["cache"].get("discovery_unfinished"):
        warnings["discovery"] = ("the last refresh was stopped during its discovery: the next build-playlist or "
                                 "refresh finishes it")
    if info["playlist"] and info["playlist"].get("unfinished") and not info["running"]:
        warnings["playlist"] = ("the last write to the managed playlist did not finish (its run failed, was stopped "
                                "or killed): it may hold part of its new list until the next build-playlist finishes it")
    if stopped := info.get("stopped"):
        when = started_at(stopped)
        warnings["stopped"] = (f"the run '{stopped.get('command')}' (pid {stopped.get('pid')}"
                               + (f", started {shown(when)}" if when else "") + f") {runlog.UNFINISHED}; "
                               "the next run records it")
    return warnings


def _place_warnings(cache_dir: Path | str) -> list[str]:
    """The data directory lying in the folder of caches (``paths.in_the_caches``)."""
    from .paths import in_the_caches
    caches = in_the_caches(cache_dir)
    return [] if caches is None else [
        f"the data directory {cache_dir} lies in {caches}, which cache cleaners empty: the login, the managed "
        "playlist's record and your removals would go with the cache; keep it elsewhere"]


SCHEDULED_SCAN = 200  # runs looked through for the last one the schedule's command made


def last_scheduled_run(runs: Iterable[Mapping[str, Any]], marked: bool = True) -> Mapping[str, Any] | None:
    """The newest (``runs`` newest first) run our schedule started: a ``build-playlist`` recorded
    with ``"trigger": "schedule"``. A record written before the mark existed (no ``trigger``)
    counts whatever started it, as does every non-dry ``build-playlist`` when the installed line
    does not mark its runs (``marked`` False: installed by an older version); dry runs never do."""
    for run in runs:
        if run.get("command") != SCHEDULED_COMMAND or run.get("dry_run"):
            continue
        if not marked or "trigger" not in run or run.get("trigger") == SCHEDULED:
            return run
    return None


UNMARKED_DAYS = 8  # with no crontab line of ours, marked runs this recent still show (a weekly timer's)
INSTALLED_FILE = "schedule-installed.json"  # when `schedule install` wrote our crontab line, and which line
MISSED_GRACE_S = 3600  # a start cron was due this long ago and no scheduled run since: missed


def note_installed(cache_dir: Path | str, line: str, now: datetime | None = None) -> None:
    """Remember that ``line`` was installed now, so that ``recommend status`` can tell a line
    cron never started (cron not running, the computer asleep at that time) from one installed
    since its last run. Best effort: a data directory that cannot be written only loses that."""
    record = {"line": line, "installed_at": (now or utc_now()).isoformat(timespec="seconds")}
    try:
        make_dirs(cache_dir)
        atomic_write_text(Path(cache_dir) / INSTALLED_FILE, json.dumps(record) + "\n", mode=0o600)
    except (OSError, StorageError) as exc:
        log.debug("the install time of the schedule was not kept: %s", exc)


def installed_at(cache_dir: Path | str, line: str | None) -> str | None:
    """When ``line`` was installed (``note_installed``); None for another line (installed by
    hand, by an older version, or changed since) or no record."""
    if not line:  # no line of ours: nothing to read
        return None
    try:
        record = json.loads((Path(cache_dir) / INSTALLED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record.get("installed_at") if isinstance(record, dict) and record.get("line") == line else None


def missed_runs(schedule: Mapping[str, Any], since: datetime, now: datetime) -> str | None:
    """A warning when our crontab line was due to start two runs after ``since`` (its last
    scheduled run, or its install) and the second is more than ``MISSED_GRACE_S`` past: cron
    does not run, or the computer is off or asleep at that time (cron does not catch up)."""
    from zoneinfo import ZoneInfo

    from .schedule import REBOOT, upcoming
    if schedule.get("cron") == REBOOT:  # started at each boot: no time cron was due at
        return None
    try:
        zone = ZoneInfo(schedule["cron_tz"]) if schedule.get("cron_tz") else None
        first = upcoming(schedule["cron"], since, zone)
        second = upcoming(schedule["cron"], first[0], zone) if first is not None else None
    except (KeyError, ValueError, TypeError):
        return None
    if second is None or (now - second[0]).total_seconds() <= MISSED_GRACE_S:
        return None
    return (f"no scheduled run since {shown(since)}, though cron was due to start one at {shown(first[0])} and at "
            f"{shown(second[0])}: is cron running (`systemctl status cron`), and is this computer on and awake "
            "at that time? (cron does not catch up a run it missed; the systemd timer of `recommend schedule "
            "install --print` does)")


def schedule_warnings(schedule: Mapping[str, Any], runs: list[Mapping[str, Any]],
                      now: datetime | None = None, installed: str | None = None) -> dict[str, Any]:
    """``schedule`` (``schedule.status``'s dict) with ``last_run`` (``last_scheduled_run`` of
    ``runs``, newest first) and ``warnings``: the scheduled program gone, the installed line
    not marking its runs (installed by an older version), the last scheduled run failed, or
    runs cron was due to start missed (``missed_runs``; ``installed``: when our line was
    installed, ``installed_at``). ``now``: the status's clock (default: the current time)."""
    warnings: list[str] = list(schedule.get("warnings") or [])  # the schedule's own (a CRON_TZ naming no zone)
    if schedule.get("missing_program"):
        from .schedule import program_gone
        warnings.append(program_gone(schedule["missing_program"]))
    if schedule.get("missing_config"):
        from .schedule import config_gone
        warnings.append(config_gone(schedule["missing_config"]))
    ours = schedule.get("state") in ("installed", "disabled")
    marked = bool(schedule.get("marked", True)) or not ours
    if not marked:
        which, again = (("your systemd unit recommend.service was made by an older version",
                         "replace it with the one `recommend schedule install --print` prints")
                        if schedule.get("source") == "systemd" else
                        ("your crontab line was installed by an older version", "run `recommend schedule install` again"))
        warnings.append(f"{which} and does not mark the runs it starts, so every {SCHEDULED_COMMAND} counts as "
                        f"the scheduled one, by hand too: {again}")
    # no line or timer of ours (a timer of the user's own elsewhere, a crontab that cannot be
    # read): marked runs of the last UNMARKED_DAYS only, so that a line
    # removed (`schedule remove`) after a failed night is not warned about for ever; such a
    # timer's failed night is as worth a warning as cron's. A run whose time is unknown
    # (``isotime.age_seconds``: unreadable, or more than a day ahead of the clock) is not recent:
    # stamped by a clock set ahead, it would be warned about until that clock's date came round
    if not ours:
        now = now or utc_now()
        runs = [r for r in runs if r.get("trigger") == SCHEDULED
                and (age := age_seconds(r.get("when"), now)) is not None and age <= UNMARKED_DAYS * 86400]
    last = last_scheduled_run(runs, marked)
    if last is not None and (last.get("exit_code") not in (0, None) or last.get("unfinished")):
        which = "scheduled" if last.get("trigger") == SCHEDULED else SCHEDULED_COMMAND
        warnings.append(f"the last {which} run failed: {describe_run(last)}")
    # runs cron should have started and did not: only for a marked line of ours in the crontab
    # (a timer's times are systemd's), from its last run or its install, whichever is later;
    # with neither known (no run among those read, no install record), nothing is said
    starts = [t for t in (time_or_none(last.get("when")) if last is not None else None, time_or_none(installed))
              if t is not None]
    if (schedule.get("state") == "installed" and schedule.get("source") == "crontab" and schedule.get("marked")
            and schedule.get("cron") and starts and (last is not None or len(runs) < SCHEDULED_SCAN)):
        missed = missed_runs(schedule, max(starts), now or utc_now())
        if missed:
            warnings.append(missed)
    return {**schedule, "last_run": dict(last) if last is not None else None, "warnings": warnings}


def _cache_status(manifest: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    fetched = manifest.get("fetched_at")
    seconds = age_seconds(fetched, now)  # None: unreadable, or ahead of a clock that was wrong
    return {"fetched_at": fetched, "age_hours": round(seconds / 3600, 2) if seconds is not None else None,
            "user_id": manifest.get("user_id") or None,  # whose library the cache holds
            # a refresh stopped during its discovery: the next build refreshes again to finish it
            "discovery_unfinished": bool(manifest.get(DISCOVERING))}


def login_status(token_info: Mapping[str, Any] | None, now: datetime | None = None) -> dict[str, Any]:
    """State of the saved login: 'needs login' (no token or no refresh token), 'valid' or
    'expired' (the refresh token renews it on the next run). Never returns a token value."""
    now = now or system_now()  # spotipy compares the expiry with the system time
    if not token_info or not token_info.get("refresh_token"):
        return {"state": "needs login", "expires_at": None, "expires_in_minutes": None, "scope": None,
                "message": "run `recommend auth`"}
    expires = token_info.get("expires_at")
    try:
        expires_at = datetime.fromtimestamp(float(expires), timezone.utc) if expires is not None else None
    except (TypeError, ValueError, OverflowError, OSError):
        expires_at = None
    if expires_at is None:
        state, minutes = "expired", None
    else:
        minutes = round((expires_at - now).total_seconds() / 60, 1)
        state = "valid" if minutes > 0 else "expired"
    message = ("the access token is renewed from the refresh token on the next run"
               if state == "expired" else None)
    return {"state": state, "expires_at": iso_utc(expires_at) if expires_at else None,
            "expires_in_minutes": minutes, "scope": token_info.get("scope"), "message": message}


def _discovery_status(manifest: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the last refresh's discovery did, as the manifest's ``last_discovery`` records it
    (``jobs.last_discovery``; the web app's Discovery page shows the rest), or None."""
    last = manifest.get("last_discovery")
    if not isinstance(last, Mapping):
        return None
    counts = last.get("tracks") if isinstance(last.get("tracks"), Mapping) else {}
    warnings = last.get("warnings") if isinstance(last.get("warnings"), list) else []
    return {"when": last.get("when"), "sources": dict(last["sources"]) if isinstance(last.get("sources"), Mapping) else {},
            "tracks": {str(k): n for k, v in counts.items() if (n := _count(v)) is not None},
            # tracks found, each once (a record written before it had the key: the sum by source)
            "new_tracks": _count(last.get("new_tracks")),
            "requests": _count(last.get("requests")) or 0, "cached_answers": _count(last.get("cached_answers")) or 0,
            "warnings": [str(w) for w in warnings]}


def _count(value: Any) -> int | None:
    """A count the manifest holds; None for what is no count (a file damaged or edited by hand:
    NaN, text), where `status` stopped with exit 1 ("cannot convert float NaN to integer")."""
    return int(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _playlist_status(manifest: Mapping[str, Any], library: Any = None) -> dict[str, Any] | None:
    """The managed playlist as `status` shows it: its id, name (as Spotify lists it: the last
    run's, or the cached library's when a refresh listed it since), tracks and ``unfinished``."""
    managed = manifest.get("managed_playlist")  # an object or null: the store's shape check refuses the rest
    if not managed:
        return None
    written = managed.get("last_written")
    tracks = len(written) if isinstance(written, list) else None
    # a write begun and never verified (a run stopped or killed while writing, or writing now):
    # the playlist may hold part of the new list, not the ``tracks`` last written
    listed = managed.get("listed_name")  # as Spotify showed it at the last run: you may have renamed it
    pid = managed.get("id")
    # a refresh that listed your playlists after that run has the newer name (renamed since:
    # `status` showed the old one until the next build, beside `recommend playlists`' new one)
    listed_at, written_at = time_or_none(manifest.get("listed_at")), time_or_none(managed.get("updated_at"))
    gone = False
    if listed_at is not None and written_at is not None and listed_at > written_at:
        listed = library_name(library, pid) or listed
        # one that listing left out was deleted (unfollowed) in Spotify: the next build makes a
        # new one (`publish._find_managed`), where status showed it with its tracks and its link
        ids = getattr(library, "playlists", None)
        gone = bool(pid) and ids is not None and "playlist_id" in ids.columns and pid not in set(ids["playlist_id"])
    return {"id": pid,
            "name": listed if isinstance(listed, str) and listed else managed.get("name"),
            "tracks": tracks, "unfinished": isinstance(managed.get("pending"), list),
            **({"gone": True} if gone else {})}


def library_name(library: Any, playlist_id: str | None) -> str | None:
    """The name the cached library lists a playlist under (None: not there, or no library)."""
    playlists = getattr(library, "playlists", None)
    if playlists is None or not playlist_id or "name" not in playlists.columns:
        return None
    names = playlists.loc[playlists["playlist_id"] == playlist_id, "name"]
    return str(names.iloc[0]) if len(names) and isinstance(names.iloc[0], str) and names.iloc[0] else None


def genre_coverage(library: Any) -> dict[str, Any]:
    """Share of the library's artists that have at least one genre (Spotify's or enriched).
    The artists are those of the artists frame and every artist credited on a track (the
    population `recommend enrich genres` looks up), so its "artists to look up" never
    exceeds the artists counted here."""
    genres = library.artist_genres()
    genres = genres[~genres.index.duplicated(keep="last")]
    tracks, artists = library.frames["tracks"], library.frames["artists"]
    credited = {str(a) for ids in tracks["artist_ids"] for a in ids}
    everyone = set(genres.index) | credited
    total = int(len(everyone))
    with_genres = int(sum(1 for g in genres if _non_empty(g)))
    # an artist with no name anywhere (a blank one) is one MusicBrainz cannot be asked about
    named = {str(a) for a, n in zip(artists["artist_id"], artists["name"]) if isinstance(n, str) and n.strip()}
    named |= {str(a) for ids, names in zip(tracks["artist_ids"], tracks["artist_names"])
              for a, n in zip(ids, names) if isinstance(n, str) and n.strip()}
    return {"artists": total, "with_genres": with_genres,
            "coverage": round(with_genres / total, 4) if total else None,
            "nameless": int(len(everyone - named))}


def feature_coverage(library: Any) -> dict[str, Any]:
    """Share of the library's recordings that have a valence and an energy (imported with
    `recommend import features`), what the mood commands need: counted on their own reading
    (``Library.placed_audio_features``), so status never counts a track they cannot place, and
    each recording once, a copy with features first, as `moods classify` and the web app's Moods
    page count them (status said 1555 of 1695 tracks where the page said 1523 of 1644: the
    demo's copies of one recording, an album's and a single's, counted twice). ``tracks``: the
    library's tracks, copies included."""
    import pandas as pd

    from .explore import one_copy_each
    ids = list(dict.fromkeys(library.frames["tracks"]["track_id"].astype(str)))
    has = pd.Index(ids, dtype=object).isin(library.placed_audio_features().index)
    keep = one_copy_each(library, ids, has)  # the copy with features is the one kept, as moods classify keeps it
    recordings, with_features = int(keep.sum()), int((keep & has).sum())
    return {"tracks": len(ids), "recordings": recordings, "with_features": with_features,
            "coverage": round(with_features / recordings, 4) if recordings else None}


def _non_empty(value: Any) -> bool:
    if value is None or isinstance(value, float):  # None / NaN
        return False
    try:
        return len(value) > 0
    except TypeError:
        return False


# ----- what `recommend status` prints ----------------------------------------------------------
def _age(hours: float | None) -> str:
    return "age unknown" if hours is None else f"{hours:.1f} h ago"  # None: fetched_at unreadable, or far ahead of the clock


def status_lines(info: Mapping[str, Any], demo: bool = False) -> list[str]:
    """`recommend status`'s ``label: value`` lines for ``status()``'s dict as the CLI completes it
    (the login checked, the playlist's link, the artists to look up: ``jobs.status_report``);
    ``demo``: the sample's, which has no account, schedule or genres to look up. Every name
    in them comes from strangers and is shown with ``visible``."""
    login = info["login"]
    cache = info["cache"]
    half_done = state_warnings(info)
    who = f" as {visible(login['display_name'])} ({visible(login['user_id'])})" if login.get("user_id") else ""
    owner = cache.get("user_id")
    whose = f"{visible(owner)}'s library, " if owner else ""
    other = (f" (not the cache's account {visible(owner)}: `recommend refresh` pulls this account's library, "
             f"then {set_aside(visible(owner))})" if owner and login.get("user_id")
             and str(login["user_id"]) != str(owner) else "")
    lines = [f"cache:    {info['frames_dir']}"
             + (f" ({whose}fetched {visible(shown_text(cache['fetched_at']))}, {_age(cache['age_hours'])})" if cache["fetched_at"]
                else " (empty)" if cache["empty"]
                else " (no record of a refresh here: the next one pulls the library again)"),
             *([f"warning:  {half_done['discovery']}"] if "discovery" in half_done else []),
             *(f"warning:  {visible(w)}" for w in info["warnings"]),
             f"login:    {login['state']}{who}"
             + (f", access token until {shown_text(login['expires_at'])}" if login.get("expires_at") else "")
             + (f" ({login['message']})" if login.get("message") else "") + other]
    pl = info["playlist"]
    if pl and pl.get("gone"):
        lines.append(f"playlist: '{visible(pl['name'])}' ({pl['id']}) is no longer in your playlists (deleted or "
                     "unfollowed in Spotify, as the last refresh found): the next build-playlist creates a new one")
    else:
        lines.append(f"playlist: '{visible(pl['name'])}' ({pl['id']}), {pl['tracks']} {plural(pl['tracks'], 'track')}"
                     + (f", {pl['url']}" if pl.get("url") else "") if pl else "playlist: none yet")
    if "playlist" in half_done:
        lines.append(f"warning:  {half_done['playlist']}")
    g = info["genres"]
    if g and not g["artists"]:  # a new account: nothing to look up
        lines.append("genres:   no artists in the cache")
    elif g:
        cov = "n/a" if g["coverage"] is None else f"{g['coverage']:.0%}"
        nameless = g.get("nameless", 0)
        if demo:  # `enrich genres` has no --demo (the demo's evaluate would score the playlists' own labels)
            more = ("the demo looks up none (`recommend enrich genres` does, for your library or the offline "
                    "trial's: `recommend standin`)")
        elif g.get("to_look_up", 1):
            more = f"`recommend enrich genres` looks up {g['to_look_up']} more"
            if nameless:
                more += f"; {nameless} {plural(nameless, 'has', 'have')} no name to look up by"
        else:
            more = (f"every artist with a name is looked up ({nameless} with no name to look up by)" if nameless
                    else "every artist is looked up")
            more += "; MusicBrainz gave the others none (asked again after enrich.retry_misses_days)"
        lines.append(f"genres:   {g['with_genres']} of {g['artists']} artists ({cov}); {more}")
    f = info.get("audio_features")
    if f and f["tracks"]:  # valence and energy, which the mood commands need
        cov = (f"{f['with_features']} of {f['recordings']} recordings ({f['coverage']:.0%})" if f["with_features"]
               else "none")
        # the demo's are the sample's, imported by its first search, similar, moods or web run (not by
        # build-playlist): "none" alone read as if the sample had none
        hint = ("" if f["with_features"] else " (the first `--demo` search, similar, moods or web run imports "
                "the sample's)") if demo else " (`recommend import features FILE.csv`)"
        lines.append(f"features: {cov} with valence and energy, which the mood commands need{hint}")
    lines += discovery_lines(info["discovery"])
    lines += _schedule_lines(info["schedule"]) if info["schedule"] is not None else []
    if info["running"]:
        waiting = waiting_text(info["running"])
        lines.append(f"running:  pid {info['running'].get('pid')} ({visible(str(info['running'].get('command')))})"
                     + (f", {waiting}" if waiting else ""))
    if "stopped" in half_done:
        lines.append(f"warning:  {visible(half_done['stopped'])}")
    lines.append("last runs:" if info["last_runs"] else "last runs: none")
    lines += [f"  {describe_run(r)}" for r in info["last_runs"]]
    return lines


DISCOVERY_SOURCES = {"albums": "from albums of your artists", "similar_artists": "by similar artists",
                     "similar_recordings": "similar to your tracks"}  # "1 similar tracks" read wrong


def discovery_lines(d: Mapping[str, Any] | None) -> list[str]:
    """`recommend status`'s discovery line: what the last refresh found new to you, by source,
    and the open-data requests it made; a warning it gave, as a note."""
    if d is None:
        return ["discovery: none recorded yet (the next refresh or build-playlist runs it)"]
    if d["sources"] and not any(d["sources"].values()):  # (a record older than its "sources" says nothing of them)
        return ["discovery: off at the last refresh (discovery.enabled, refresh.discovery_artists)"]
    by_source = sum(d["tracks"].values())
    total = by_source if d.get("new_tracks") is None else d["new_tracks"]
    parts = ", ".join(f"{n} {DISCOVERY_SOURCES.get(k, k)}" for k, n in d["tracks"].items()
                      if d["sources"].get(k, True))
    if parts and total < by_source:
        parts += "; some found by two"
    when = f" ({shown_text(d['when'])})" if d.get("when") else ""
    asked = (f"{d['requests']} {plural(d['requests'], 'request')}"
             + (f" and {d['cached_answers']} {plural(d['cached_answers'], 'answer')} kept from earlier runs"
                if d["cached_answers"] else ""))
    return ([f"discovery: the last refresh{when} found {total} {plural(total, 'track')} new to you"
             + (f" ({parts})" if parts and total else "") + f" with {asked}; `recommend web`'s Discovery page "
             "shows more"]
            + [f"note:     the last discovery: {visible(w)}" for w in d["warnings"]])


def _schedule_lines(sched: Mapping[str, Any]) -> list[str]:
    """`recommend status`'s schedule line, its last run and its warnings."""
    if sched["state"] == "unknown":
        text = f"unknown ({visible(sched['message'])})"
    elif sched["state"] == "not installed" and sched.get("last_run"):
        text = (f"no crontab line of ours (a run marked scheduled in the last {UNMARKED_DAYS} days: a systemd "
                "timer, or a line removed since)")
    elif sched["state"] == "not installed":
        text = "not installed (`recommend schedule install` sets one up)"
    elif sched.get("source") == "systemd":
        timer = sched["timer"]
        text = (f"systemd user timer {visible(home_short(Path(timer['path'])))}"
                + (f", OnCalendar={visible(timer['on_calendar'])}" if timer["on_calendar"] else "")
                + " (`systemctl --user list-timers recommend.timer` shows its next run)")
    else:
        when = (f", next run {_next_run(sched['next_run'], sched.get('cron_tz'))}"
                + (f" ({visible(sched['next_run_note'])})" if sched.get("next_run_note") else "")
                if sched["next_run"] else f" ({visible(sched['next_run_note'])})" if sched.get("next_run_note") else "")
        text = f"{sched['cron']}{when}" if sched["state"] == "installed" else f"{sched['cron']} (commented out: never runs)"
    run = sched.get("last_run")
    warned = run and run.get("exit_code") not in (0, None)
    last = [f"  last scheduled run: {visible(describe_run(run))}"] if run and not warned else []  # else a warning says it
    return [f"schedule: {text}"] + last + [f"  warning: {visible(w)}" for w in sched["warnings"]]


def _next_run(when: str, zone: str | None) -> str:
    """A schedule's next run in local time; with a CRON_TZ zone, in that zone's time (the one the
    crontab line is written in) and this computer's when it differs."""
    from zoneinfo import ZoneInfo
    moment = datetime.fromisoformat(when)
    local = moment.astimezone().strftime("%Y-%m-%d %H:%M %Z")
    if not zone:
        return local
    there = moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
    return f"{there} (CRON_TZ={visible(zone)}" + (f"; {local} here)" if local != there else ")")
