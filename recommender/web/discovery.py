"""The Discovery page of `recommend web`: what the last refresh's discovery did, and its settings.

Read from what the cache already holds, never from a service: the manifest's
``last_discovery`` (written by ``jobs.discover`` at every refresh), the found frames
(``discovery``: albums of your artists; ``discovered``: the open-data sources), the Next
playlist's ``source`` column, the albums' check dates (manifest ``discovery``) and the dates of
the open-data answers (``opendata/<kind>.json``, reused for ``discovery.ttl_*`` days).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..errors import ConfigError, UsageError
from ..isotime import believed_time, remembered_until, shown, time_or_none, utc_now


# (key, label, what it does, the answer kinds of opendata/ it asks, its settings)
SOURCES = [
    ("albums", "Albums of your artists",
     "the newest albums of your top and followed artists, the best ranked first, from Spotify (and of a "
     "seed playlist's other main artists in a build-playlist --seed-playlist run, with the albums its "
     "tracks by several artists share, kept with the answers)",
     ["artist_albums", "album_tracks"], [("refresh.discovery_artists", "artists to look at (0 = off)"),
          ("refresh.discovery_albums_per_artist", "newest albums of each"),
          ("refresh.discovery_shared_albums", "albums a seed playlist's artists share (0 = off)")]),
    ("similar_artists", "Similar artists",
     "your main artists -> their most similar artists on ListenBrainz -> their popular recordings",
     ["similar_artists", "top_recordings", "lb_radio"],
     [("discovery.similar_artists.enabled", "on"), ("discovery.similar_artists.seed_artists", "your artists to start from"),
      ("discovery.similar_artists.artists_per_seed", "similar artists of each"),
      ("discovery.similar_artists.recordings_per_artist", "recordings of each similar artist")]),
    ("similar_recordings", "Similar tracks",
     "the recordings most often played with your strongest seed tracks (ListenBrainz labs)",
     ["similar_recordings"],
     [("discovery.similar_recordings.enabled", "on"), ("discovery.similar_recordings.seed_tracks", "seed tracks"),
      ("discovery.similar_recordings.per_seed", "similar recordings of each")]),
]
SHARED_KINDS = ["isrc", "artists", "spotify_ids", "popularity", "search", "tracks"]  # every open-data source's
COMMON = [("discovery.enabled", "open-data discovery on (both sources above)"),
          ("discovery.request_budget", "requests per refresh, all services together"),
          ("discovery.max_seconds", "seconds of asking per refresh (then the next one asks the rest)")]
KEYS = {key: label for _, _, _, _, fields in SOURCES for key, label in fields} | dict(COMMON)


def cache_state(folder, ttl: dict[str, float], now: datetime) -> dict[str, dict[str, Any]]:
    """Per answer kind: how many answers are kept, how many are still fresh, and when the
    oldest fresh one expires (then the next refresh asks that question again); read and judged
    by the open-data cache itself (``services.cache.AnswerCache``), each answer's end by the rule
    of every memory (``isotime.remembered_until``)."""
    from ..services.cache import AnswerCache
    cache = AnswerCache(folder, ttl, now=now)
    out: dict[str, dict[str, Any]] = {}
    for kind, days in ttl.items():
        if not (folder / f"{kind}.json").exists():
            continue
        whens = cache.fetched(kind)
        if kind in cache.unreadable:
            out[kind] = {"answers": 0, "fresh": 0, "next": None, "ttl_days": days, "unreadable": True}
            continue
        fresh = [w for w in whens if cache.fresh(kind, w)]
        out[kind] = {"answers": len(whens), "fresh": len(fresh), "ttl_days": days,
                     "next": shown(min(remembered_until(w, days, now) for w in fresh)) if fresh else None}
    return out


def _albums_recheck(manifest: dict, days: float, now: datetime) -> str | None:
    # the albums source's own rule (``isotime.younger_than``): the first artist whose memory ends
    # (a stamp far ahead of the clock, like an unreadable one, is no memory: re-checked next time)
    ends = [remembered_until(v, days, now) for v in (manifest.get("discovery") or {}).get("artists_checked", {}).values()]
    ends = [e for e in ends if e is not None]
    return shown(min(ends)) if ends else None


def _count_ids(df, source: str | None = None) -> int:
    """The tracks of a found frame (``df``: None when absent), of one ``source`` when given."""
    if df is None or not len(df):
        return 0
    if source is not None:
        df = df[df["source"].astype(str) == source]
    return int(df["track_id"].nunique())


def refresh_hint(demo: bool) -> dict[str, str]:
    """The command that applies saved changes (the app runs no refresh itself), and a note."""
    if demo:
        return {"command": "recommend web --demo", "note": "restarted: it refreshes the demo's cache as it starts"}
    return {"command": "recommend refresh", "note": "or the next `recommend build-playlist`, which refreshes "
            "when the cache is older than cache.max_age_hours"}


def discovery_page(settings, store, preview, demo: bool = False) -> dict[str, Any]:
    """Everything the Discovery page shows (``preview``: the Next playlist's BuildResult, or
    None when it failed)."""
    from ..jobs import LAST_DISCOVERY
    from ..services.cache import ARTIST_ALBUMS
    from ..services.cache import ttl_days
    from ..sources.albums import new_to_you, shared_albums_on
    from ..sources.run import sources_on
    now = utc_now()  # the one clock (isotime), as the TTLs it shows are computed
    manifest = store.read_manifest()
    last = _record(manifest.get(LAST_DISCOVERY))
    ttl = ttl_days(settings)
    cache = cache_state(settings.frames_dir / "opendata", ttl, now)
    in_next: dict[str, int] = {}
    if preview is not None and "source" in preview.table.columns:
        in_next = {str(k): int(v) for k, v in preview.table["source"].astype(str).value_counts().items()}
    by_source = (last or {}).get("requests_by_source") or {}
    running = sources_on(settings)
    found = {name: store.load_frame(name) for name in ("discovery", "discovered")}  # read once: two sources share one
    yours = {name: store.load_frame(name) for name in ("playlists", "playlist_items", "saved_tracks", "top_tracks")}
    sources = []
    for key, label, what, kinds, fields in SOURCES:
        on = running[key]
        # the albums' finds new to you, as the refresh counts them
        tracks = new_to_you({**found, **yours}, store) if key == "albums" else _count_ids(found["discovered"], key)
        requests = ({"Spotify (with the rest of the refresh)": int(last.get("spotify_requests", 0))} if key == "albums"
                    and last else dict(by_source.get(key) or {}))
        sources.append({
            "key": key, "label": label, "what": what, "on": on,
            "was_on": None if not last else bool((last.get("sources") or {}).get(key)),
            "tracks": tracks, "in_next": in_next.get(key, 0), "requests": requests,
            "cache": [{"kind": k, **cache[k]} for k in kinds if k in cache],
            "recheck": _albums_recheck(manifest, float(settings.refresh.discovery_recheck_days), now) if key == "albums" else None,
            "fields": [_field(settings, k, lab) for k, lab in fields],
            # off for the refresh, yet a --seed-playlist run still reads its shared albums (own key)
            "seed_runs": key == "albums" and not on and shared_albums_on(settings)})
    return {
        "state": "never" if last is None else "done",
        "last": last, "sources": sources,
        "shared": {"requests": dict(by_source.get("shared") or {}),
                   "cache": [{"kind": k, **cache[k]} for k in SHARED_KINDS if k in cache]},
        "common": [_field(settings, k, lab) for k, lab in COMMON],
        "in_next_total": int(len(preview.table)) if preview is not None else None,
        "in_next_catalogue": in_next.get("catalogue", 0),
        # how long the cache keeps each kind (``ttl_days``, the one place): what the page says
        "ttl": {"similar_artists": ttl["similar_artists"], "recordings": ttl["similar_recordings"],
                "albums": ttl[ARTIST_ALBUMS]},
        "hint": refresh_hint(demo), "when": _when(last, now),
    }


def _record(last: Any) -> dict[str, Any] | None:
    """The manifest's ``last_discovery`` with every part the page reads in its shape (a hand
    edit or a damaged value: what is missing or of another type reads as empty), or None."""
    if not isinstance(last, dict) or not last:
        return None
    shapes = {"sources": dict, "tracks": dict, "requests_by_service": dict, "requests_by_source": dict,
              "warnings": list, "requests": int, "spotify_requests": int, "cached_answers": int}
    return {**last, **{k: kind() for k, kind in shapes.items() if not isinstance(last.get(k), kind)}}


def _when(last: dict | None, now: datetime) -> str | None:
    """When the last refresh's discovery ran, as a stamp read back is shown
    (``isotime.believed_time``): up to a day ahead of ``now``, now; further ahead (a clock that
    was set ahead), unknown, quoting the record; a value that is no time (a hand edit) as it is."""
    if not last:
        return None
    value = last.get("when")
    moment = believed_time(value, now)
    if moment:
        return shown(moment)
    return f"unknown (recorded as {value!r})" if time_or_none(value) else str(value)


def _field(settings, key: str, label: str) -> dict[str, Any]:
    value = settings.get_path(key)
    # seconds may have a fraction (discovery.max_seconds): as a whole number field, 90.5 blocked every Save
    kind = "bool" if isinstance(value, bool) else "number" if isinstance(value, float) else "int"
    return {"key": key, "label": label, "value": f"{value:g}" if kind == "number" else value, "kind": kind}


def check_values(settings, values: Any) -> dict[str, Any]:
    """The changed ones of ``values`` (dotted key -> value), validated by config.py as a config
    file's would be; a UsageError/ConfigError names the key."""
    if not isinstance(values, dict):
        raise UsageError("values must be an object of setting -> value")
    for key in values:
        if key not in KEYS:
            raise UsageError(f"{key!r} is not a discovery setting (known: {', '.join(KEYS)})")
    try:
        checked = settings.with_overrides(values)
    except ConfigError as exc:
        raise ConfigError(str(exc).removeprefix("override: ")) from None
    # as config.py reads them: "5" is the number 5 (written as the text '5', it read back as a number
    # only because config.py takes one)
    values = {k: checked.get_path(k) for k in values}
    return {k: v for k, v in values.items() if settings.get_path(k) != v or type(settings.get_path(k)) is not type(v)}
