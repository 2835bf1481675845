"""The one orchestrator: seeds -> candidates -> dedupe -> scorers -> blend -> selection -> why.

``build_recommendations(library, settings)`` is what ``recommend build-playlist`` (and the
evaluation, per target playlist) calls. Two modes:

- ``taste`` (default): seeds are the user's top tracks (weighted by time range and rank),
  recently saved tracks and hand-added feedback tracks; candidates are every other known
  track (playlists, older saved tracks, discovery), or only unknown ones with
  ``candidates.exclude_known``.
- ``playlist``: seeds are one playlist's tracks; candidates are every known track not in it.
"""

from __future__ import annotations

import difflib
import logging
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .artists import artist_key, mix_inputs
from .blend import ArtistMix, best_items, blend_scores, fitted_weights, select_tracks, weight_factors
from . import schema
from .errors import NotEnoughData, UsageError
from .isotime import utc_now, utc_times
from .library import TOP_COLUMN_PREFIX, Library, as_list_arrow, first_of_lists
from .library import as_arrow as _arrow
from .library import isin
from .safetext import visible
from .titles import normalised_codes, track_titles
from .wording import plural

log = logging.getLogger(__name__)

# Fallback "why" when a scorer has no explanation of its own, by scorer name.
FALLBACK_WHY = {
    "opendata": "liked by listeners of your seeds on ListenBrainz",
    "content": "similar names, artists and genres to your seeds",
    "collaborative": "often in playlists with your seeds",
    "popularity": "popular in your library",
    "artist_walk": "its artist shares playlists with your seeds' artists",
    "year": "from the years of your seeds",
    "coverage": "from the albums of your seeds",
    "release": "released the way your seeds were",
    "audio": "sounds like your seeds",
}
PINNED_WHY = "kept by you"  # a pinned track on the playlist: added there by hand, or pinned and published
NEW_PIN_WHY = "pinned by you"  # one not on it yet: pinned in `recommend web` since the last publish


@dataclass
class Recommendations:
    """The result of one run.

    ``table``: one row per chosen track in playlist order; columns rank (1-based), track_id,
    name, artists (comma-joined), score (blended, 0..1, after the artist mix; NaN for pinned
    tracks: not scored), ``contrib_<scorer>`` per scorer (they add up to score), why, pinned
    (bool), artist_mix (the factor the artist mix multiplied the score by; NaN when pinned).
    ``seeds``: seed weights indexed by track id. ``reason``: why the table is empty (or why
    nothing but pinned tracks is in it), else "". ``removed``: how many known tracks each
    candidate rule removed. ``timings``: wall-clock seconds per stage. ``weight_factors``:
    scorer -> its ``weight_factor()`` where that is not 1 (the blend used weight x factor).
    ``short``: why the table holds fewer than ``blend.max_tracks`` tracks although more
    candidates were scored (``_short_reason``), else "".
    """

    table: pd.DataFrame
    seeds: pd.Series
    mode: str
    weights: dict[str, float]
    n_candidates: int
    reason: str = ""
    seed_playlist_id: str | None = None
    removed: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    weight_factors: dict[str, float] = field(default_factory=dict)
    short: str = ""
    new_candidates: int = 0  # the candidates new to you: in none of your playlists, not saved, not top
    # every candidate's blended score (after the artist mix), as the selection read it: None when none was scored
    blended: pd.Series | None = None
    # every candidate's contributions to ``blended`` (one column per scorer, and ``artist_mix``, its factor, when
    # the mix is on), by position as ``blended``: what ``explain_track`` reads instead of blending again
    shares: pd.DataFrame | None = None

    @property
    def track_ids(self) -> list[str]:
        """Chosen track ids in playlist order."""
        return list(self.table["track_id"])


# ----- seeds ----------------------------------------------------------------------------

def _now(now: datetime | None) -> pd.Timestamp:
    ts = pd.Timestamp(now if now is not None else utc_now())
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def taste_seeds(library: Library, settings, *, positive: Iterable[str] = (),
                now: datetime | None = None) -> pd.Series:
    """Seed weights (track id -> weight > 0) of the taste profile.

    A top track at 1-based rank r in range t weighs ``w_t / (1 + rank_decay * (r - 1))``,
    summed over ranges; a track saved within ``seeds.recent_days`` days adds
    ``seeds.saved_weight``; each ``positive`` id adds 1. Only tracks of the tracks frame count.
    """
    cfg = settings.seeds
    range_w = {str(k): float(v) for k, v in dict(cfg.time_range_weights).items()}
    decay = float(cfg.rank_decay)
    parts: list[pd.Series] = []
    top = library.frames["top_tracks"]
    if len(top):
        w = top["time_range"].astype(str).map(range_w).fillna(0.0).to_numpy(dtype=float)
        rank = top["rank"].astype("Float64").fillna(1.0).to_numpy(dtype=float)
        w = w / (1.0 + decay * np.maximum(rank - 1.0, 0.0))
        parts.append(pd.Series(w, index=top["track_id"].astype(str).to_numpy()))
    if float(cfg.saved_weight) > 0:
        recent = pd.unique(_recent_saves(library, cfg, now).to_numpy())
        parts.append(pd.Series(float(cfg.saved_weight), index=recent))
    pos = list(dict.fromkeys(str(t) for t in positive))
    if pos:
        parts.append(pd.Series(1.0, index=pos))
    if not parts:
        return pd.Series(dtype=float, name="weight")
    seeds = pd.concat(parts).groupby(level=0, sort=False).sum()
    seeds = seeds[(seeds > 0).to_numpy() & (library.track_positions(seeds.index.astype(str)) >= 0)]
    seeds.index.name = "track_id"
    return seeds.rename("weight").astype(float)


def _weighed_out(library: Library, settings, now: datetime | None = None) -> str:
    """What a taste profile without seeds holds that the config weighs at 0 ("your top tracks
    weigh 0 (seeds.time_range_weights: ...)"), '' for none: they are no seed then."""
    cfg, said = settings.seeds, []
    top = library.frames["top_tracks"]
    if len(top) and (library.track_positions(top["track_id"].astype(str)) >= 0).any():
        ranges = ", ".join(f"{k} {float(v):g}" for k, v in dict(cfg.time_range_weights).items())
        said.append(f"your top tracks weigh 0 (seeds.time_range_weights: {ranges})")
    if float(cfg.saved_weight) == 0 and (library.track_positions(_recent_saves(library, cfg, now)) >= 0).any():
        said.append(f"the tracks you saved in the last {cfg.recent_days} days weigh 0 (seeds.saved_weight)")
    return " and ".join(said)


def _recent_saves(library: Library, cfg, now: datetime | None = None) -> pd.Series:
    """The ids of the tracks saved within ``seeds.recent_days`` days (``cfg``: ``settings.seeds``)."""
    saved = library.frames["saved_tracks"]
    added = utc_times(saved["added_at"])
    cutoff = _now(now) - pd.Timedelta(days=int(cfg.recent_days))
    return saved.loc[(added >= cutoff).fillna(False).to_numpy(dtype=bool), "track_id"].astype(str)


def resolve_playlist(library: Library, name_or_id: str, source: str | None = None) -> str:
    """Playlist id of ``name_or_id`` (id, or case-insensitive name); UsageError naming close names.
    ``source``: the data file the library was read from, named by the error (None: the user's
    own playlists, which `recommend playlists` lists)."""
    pid = library.find_playlist(name_or_id)
    if pid is not None:
        return pid
    from .links import spotify_ref_kind
    kind = spotify_ref_kind(name_or_id)
    if kind not in (None, "playlist"):  # (taken for a name, it was "no playlist named 'https://...album/...'")
        raise UsageError(f"{name_or_id.strip()!r} is a Spotify {kind} link, not a playlist's: give a playlist's "
                         "name, id or link" + (" (`recommend playlists` lists them)" if source is None else ""))
    if not name_or_id.strip():
        if source is not None:
            raise UsageError(f'no playlist named "{name_or_id}": give the name or id of one'
                             f'{playlist_examples(library, source=source)}')
        raise UsageError(f'no playlist named "{name_or_id}": give a playlist\'s name or id (`recommend playlists` lists them)')
    names = [str(n) for n in library.frames["playlists"]["name"].dropna().unique()]
    from .library import name_key
    by_fold: dict[str, str] = {}
    for n in names:
        by_fold.setdefault(name_key(n), n)
    close = difflib.get_close_matches(name_key(name_or_id), list(by_fold), n=5, cutoff=0.5)
    contains = [f for f in by_fold if name_key(name_or_id) in f and f not in close]
    hints = [by_fold[f] for f in (close + contains)[:5]]
    if hints:
        ids = _ids_by_key(library)
        listed = ", ".join(_hint(h, ids[name_key(h)] if visible(h) != h else ()) for h in hints)
        where = "" if source is None else f" in {source}"
        raise UsageError(f'no playlist named "{name_or_id}"{where}; did you mean {listed}?')
    from .library import playlist_ref
    if playlist_ref(name_or_id):  # a pasted id or link is not "named" that (one of Spotify's own: never read)
        raise UsageError(f'no playlist with the id {playlist_ref(name_or_id)}{playlist_examples(library, source=source)}')
    raise UsageError(f'no playlist named "{name_or_id}"{playlist_examples(library, source=source)}')


def playlist_examples(library: Library, n: int = 5, source: str | None = None, min_tracks: int = 0) -> str:
    """' among your 32 playlists (e.g. "A", "B", ...)' (or ': the last refresh found no
    playlists in your account (...)'), for a message about a playlist that was not given or not found;
    ``source``: the data file a library that is not the user's was read from (' among the 3
    playlists of songs.csv (e.g. ...)'). ``min_tracks``: only playlists with that many tracks
    this app can read are offered (' among your 2 playlists of at least 4 tracks (...)'), or it
    says none has them: a followed playlist Spotify does not let us read, or one of 3 tracks
    for clustering, was offered and then refused."""
    pl = library.frames["playlists"].dropna(subset=["name"])
    rows = list(zip(pl["playlist_id"].astype(str), pl["name"].astype(str)))  # each playlist: two of one name are two
    if not rows:
        # (a command that reads the cache before any refresh stops earlier, saying to run one)
        return (": the last refresh found no playlists in your account (make or follow one in Spotify, then "
                "`recommend refresh`)" if source is None else f": {source} has no playlists")
    size = ""
    if min_tracks > 0:
        counts = library.frames["playlist_items"].groupby("playlist_id")["track_id"].nunique()
        usable = [(pid, name) for pid, name in rows if counts.get(pid, 0) >= min_tracks]
        if not usable:
            if source is None:
                none = "your one playlist does not have" if len(rows) == 1 else f"none of your {len(rows)} playlists has"
            else:
                none = (f"the one playlist of {source} does not have" if len(rows) == 1
                        else f"none of the {len(rows)} playlists of {source} has")
            unread = ("; Spotify does not let this app read the tracks of playlists you only follow (a personal "
                      "app reads those you own or collaborate on): copy some into a playlist of your own"
                      if source is None and library.unreadable() else "")
            readable = " this app can read" if source is None else ""  # (a file's tracks are all there to read)
            return f": {none} {min_tracks} {plural(min_tracks, 'track')}{readable}{unread}"
        if len(usable) < len(rows):  # said only when some are left out
            size = f" that {plural(len(usable), 'has', 'have')} at least {min_tracks} tracks"
        rows = usable
    from .library import name_key
    shared = Counter(name_key(name) for _, name in rows)  # one name for several: each shown with its id
    some = ", ".join(_hint(name, [pid] if shared[name_key(name)] > 1 or visible(name) != name else ())
                     for pid, name in sorted(rows, key=lambda r: (r[1].casefold(), r[0]))[:n])  # "Rock \u200b Mix" (id ...)
    if len(rows) == 1:  # an Exportify file holds one playlist: not "the 1 playlists of ... (e.g. ...)"
        return f" among {'your one playlist' if source is None else f'the one playlist of {source}'}{size} ({some})"
    whose = f"your {len(rows)} playlists" if source is None else f"the {len(rows)} playlists of {source}"
    return f" among {whose}{size} (e.g. {some})"


def _ids_by_key(library: Library) -> dict[str, list[str]]:
    """The playlists' ids by their names' ``name_key`` (the names ``find_playlist`` takes for one)."""
    from .library import name_key
    pl = library.frames["playlists"].dropna(subset=["name"])
    out: dict[str, list[str]] = {}
    for pid, name in zip(pl["playlist_id"].astype(str), pl["name"].astype(str)):
        out.setdefault(name_key(name), []).append(pid)
    return out


def _hint(name: str, ids: Sequence[str] = ()) -> str:
    """A playlist name for a "did you mean" or an example: invisible characters (zero-width
    spaces...) shown as ``\\uXXXX`` escapes, and ``ids`` after it, which can be typed where the
    name cannot, or where two playlists share it ("Café" typed as one letter or as two)."""
    shown = f'"{visible(name)}"'
    return f"{shown} ({'id' if len(ids) == 1 else 'ids'} {', '.join(ids)})" if ids else shown


def playlist_seeds(library: Library, playlist_id: str) -> pd.Series:
    """Seed weights of playlist mode: each track of the playlist (in the tracks frame) weighs 1."""
    ids = library.playlist_tracks(playlist_id)
    seeds = pd.Series(1.0, index=pd.Index(ids, dtype=object, name="track_id"), name="weight")
    return seeds[library.track_positions(seeds.index) >= 0]


# ----- dedupe (titles compared as titles.normalise_title does) ----------------------------

def dedupe_codes(library: Library | pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per track row, integer codes of its ISRC (upper-case) and of its normalised
    title + first artist; -1 where missing (no ISRC, or an empty normalised title).
    Codes number the distinct keys in order of first appearance. ``library`` may also
    be a bare tracks frame."""
    if isinstance(library, pd.DataFrame):
        library = Library.from_frames(tracks=library)
    # the ISRC as MusicBrainz reads it (enrich.musicbrainz.isrc_code): Spotify gives some with
    # hyphens or in lower case, and "US-UAN-13-00012" is the recording "USUAN1300012" is
    isrc = pc.utf8_upper(pc.replace_substring_regex(_arrow(library.frames["tracks"]["isrc"]),
                                                    pattern=schema.ISRC_SEPARATORS, replacement=""))
    isrc = pc.if_else(pc.equal(isrc, ""), pa.scalar(None, pa.large_string()), isrc)
    isrc_codes = pc.fill_null(pc.dictionary_encode(isrc).indices, -1).to_numpy(zero_copy_only=False)
    # title + artist: each distinct string is normalised once; the key is the pair of codes
    title, no_title = normalised_codes(*track_titles(library), normalised=True)
    first = pc.fill_null(first_of_lists(library.list_arrow("tracks", "artist_names")), "")
    enc = pc.dictionary_encode(first)
    artist, _ = normalised_codes(enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary)
    has = ~no_title
    pair = title[has] * (int(artist.max(initial=0)) + 1) + artist[has]
    key_codes = np.full(len(title), -1, dtype=np.int64)
    key_codes[has] = pd.factorize(pair)[0]
    return isrc_codes.astype(np.int64), key_codes


def library_codes(library: Library) -> tuple[np.ndarray, np.ndarray]:
    """``dedupe_codes`` of ``library``, built once per Library (and kept by a ``Library.replace``
    that keeps its tracks: ``library.FROM_TRACKS``)."""
    return library.derived(("pipeline", "dedupe_codes"), lambda: dedupe_codes(library))


def shares_key(codes: Sequence[np.ndarray], banned: np.ndarray) -> np.ndarray:
    """Bool per row: shares a duplicate key (``dedupe_codes``) with a ``banned`` row, other
    than being one itself: another release of a seed's song, for ``banned`` = the seeds.
    ``dedupe`` drops these rows; the benchmarks rank them last (README, evaluation)."""
    banned = np.asarray(banned, dtype=bool)
    out = np.zeros(len(banned), dtype=bool)
    for code in codes:
        has = code >= 0
        hit = np.zeros(max(int(code.max()) + 1 if len(code) else 0, 1), dtype=bool)
        hit[code[banned & has]] = True
        out |= has & hit[np.where(has, code, 0)]
    return out & ~banned


def dedupe(codes: Sequence[np.ndarray], preferred: np.ndarray, banned: np.ndarray,
           absent: np.ndarray | None = None) -> np.ndarray:
    """Which rows survive as candidates, given duplicate-key codes per row.

    ``codes``: one int array per key (ISRC, title + artist), -1 = no key. ``banned`` (bool
    per row): not candidates (seeds, removed, pinned...); a row sharing any key with a
    banned row is dropped too. Among the remaining rows sharing a key, one is kept: a
    ``preferred`` one (in the user's library) if any, else the first. ``absent`` (bool per
    row): not candidates either, but their copies are (a release that does not play for you:
    another release of the song may). Returns a bool mask.
    """
    banned = np.asarray(banned, dtype=bool)
    alive = ~banned & ~shares_key(codes, banned)
    if absent is not None:
        alive &= ~np.asarray(absent, dtype=bool)
    preferred = np.asarray(preferred, dtype=bool)
    for code in codes:
        rows = np.flatnonzero(alive & (code >= 0))
        if len(rows) < 2:
            continue
        # preferred rows first, then by position; keep the first row of each code
        order = rows[np.lexsort((rows, ~preferred[rows]))]
        _, first = np.unique(code[order], return_index=True)
        keep = np.zeros(len(order), dtype=bool)
        keep[first] = True
        alive[order[~keep]] = False
    return alive


# ----- candidates -----------------------------------------------------------------------

def _blocked(tracks: pd.DataFrame, settings, list_of=None) -> np.ndarray:
    """Bool per track row: on the blocklist (artist id/name or track id/name), compared as
    ``library.name_key`` compares playlist names: NFKC ("Björk" in the config blocks the "Björk"
    Spotify spells with a separate accent), then case-folded ("STRASSE" blocks "Straße").
    ``list_of(column)``: the ``artist_ids`` / ``artist_names`` column of ``tracks`` as an Arrow
    list array, when the caller has it (the Library's cached one); else it is built here."""
    from .library import name_key
    artists = {name_key(str(a)) for a in settings.candidates.blocklist_artists}
    titles = {name_key(str(t)) for t in settings.candidates.blocklist_tracks}

    def hits(values: pa.Array, keys: set[str]) -> np.ndarray:
        """Bool per value: its key is in ``keys`` (each distinct value folded once, in Python:
        pyarrow has no case folding)."""
        enc = pc.dictionary_encode(values)
        if not isinstance(enc, pa.DictionaryArray):  # a chunked column
            enc = enc.combine_chunks()
        found = np.array([v is not None and name_key(v) in keys for v in enc.dictionary.to_pylist()] + [False])
        codes = enc.indices.fill_null(len(enc.dictionary)).to_numpy(zero_copy_only=False)
        return found[codes]
    out = np.zeros(len(tracks), dtype=bool)
    if titles:
        for col in ("track_id", "name"):
            out |= hits(_arrow(tracks[col]), titles)
    if artists:
        for col in ("artist_ids", "artist_names"):
            lists = list_of(col) if list_of is not None else as_list_arrow(tracks[col])
            hit = hits(pc.list_flatten(lists), artists)
            parent = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
            out[parent[hit]] = True
    return out


def _in_library(library: Library) -> np.ndarray:
    """Bool per track row: in one of the user's playlists or saved. Read off the cached
    track x playlist matrix, which the collaborative scorer builds anyway."""
    m, columns = library.track_playlist_matrix(extra_sources=True)
    if len(columns) == 0:
        return np.zeros(m.shape[0], dtype=bool)
    real = np.array([not str(c).startswith(TOP_COLUMN_PREFIX) for c in columns], dtype=bool)
    return np.asarray(m @ real.astype(np.float32)).ravel() > 0


def find_candidates(library: Library, settings, seeds: pd.Series, *, exclude: Iterable[str] = (),
                    pinned: Iterable[str] = (), also_banned: Iterable[str] = (),
                    unplayable: Iterable[str] = ()) -> tuple[pd.Index, dict[str, int]]:
    """Candidate track ids (tracks frame order) and how many tracks each rule removed.

    Every known track except: seeds, ``also_banned`` (e.g. the seed playlist), ``exclude``,
    ``pinned`` (they are placed separately), the blocklist, and with
    ``candidates.exclude_known`` anything in a playlist or saved; then duplicates (ISRC,
    normalised title + artist) of those and of each other, keeping the library copy.
    ``unplayable`` (tracks that do not play for you) are no candidates, but their copies are.
    """
    alive, counts = candidate_mask(library, settings, seeds, exclude=exclude, pinned=pinned,
                                   also_banned=also_banned, unplayable=unplayable)
    return library.track_ids[alive], counts


def candidate_mask(library: Library, settings, seeds: pd.Series, *, exclude: Iterable[str] = (),
                   pinned: Iterable[str] = (), also_banned: Iterable[str] = (),
                   unplayable: Iterable[str] = (), only_ours: Iterable[str] = ()) -> tuple[np.ndarray, dict[str, int]]:
    """``find_candidates`` as a bool mask over the rows of ``library.track_ids``."""
    tracks = library.frames["tracks"]
    ids_arrow = library.track_ids_arrow()
    counts: dict[str, int] = {"known": len(ids_arrow)}
    seed_mask = isin(ids_arrow, list(seeds.index.astype(str)) + [str(t) for t in also_banned])
    pinned_mask = isin(ids_arrow, [str(t) for t in pinned])
    removed_mask = isin(ids_arrow, [str(t) for t in exclude]) & ~seed_mask & ~pinned_mask
    grey_mask = isin(ids_arrow, [str(t) for t in unplayable]) & ~seed_mask & ~pinned_mask & ~removed_mask
    ours_mask = isin(ids_arrow, [str(t) for t in only_ours]) & ~seed_mask & ~pinned_mask & ~removed_mask & ~grey_mask
    blocked = _blocked(tracks, settings, lambda col: library.list_arrow("tracks", col)) & ~seed_mask
    in_library = _in_library_rows(library)
    banned = seed_mask | removed_mask | pinned_mask | blocked
    alive_pre = ~banned & ~grey_mask & ~ours_mask
    if settings.candidates.exclude_known:
        alive_pre &= ~in_library
    codes = library_codes(library)
    alive = dedupe(codes, in_library, banned, grey_mask | ours_mask) & alive_pre
    counts["seeds"] = int(seed_mask.sum())
    counts["pinned"] = int((pinned_mask & ~seed_mask).sum())
    counts["removed_by_you"] = int(removed_mask.sum())
    counts["not_playable"] = int((grey_mask & ~blocked).sum())
    counts["only_ours"] = int((ours_mask & ~blocked).sum())
    counts["blocklist"] = int((blocked & ~removed_mask & ~pinned_mask).sum())
    counts["known_excluded"] = int((~banned & ~grey_mask & ~ours_mask & in_library).sum()) if settings.candidates.exclude_known else 0
    counts["duplicates"] = int((alive_pre & ~alive).sum())
    return alive, counts


# ----- scoring --------------------------------------------------------------------------

def default_weights(settings, names: Iterable[str]) -> dict[str, float]:
    """Blend weight per scorer name from ``scorers.<name>.weight`` (1.0 if not configured)."""
    out = {}
    for name in names:
        try:
            out[name] = float(settings.scorers[name].weight)
        except (KeyError, AttributeError):
            out[name] = 1.0
    return out


def _raw_scores(scorer, seeds: pd.Series, candidates: pd.Index, rows: np.ndarray | None,
                track_ids: pd.Index | None) -> np.ndarray:
    """One scorer's scores of ``candidates`` (float64, NaN = cannot say)."""
    score_all = getattr(scorer, "score_all", None)
    fitted_ids = getattr(scorer, "track_ids_", None)
    if (rows is not None and track_ids is not None and score_all is not None and fitted_ids is not None
            and (fitted_ids is track_ids or fitted_ids.equals(track_ids))):
        return np.asarray(score_all(seeds), dtype=float)[rows]
    s = scorer.score(seeds, candidates)
    if not (s.index is candidates or s.index.equals(candidates)):
        s = s.reindex(candidates)
    return s.to_numpy(dtype=float, na_value=np.nan)


def explain_rows(scorers: Mapping[str, object], seeds: pd.Series, contrib: pd.DataFrame,
                 mix: pd.Series | None = None) -> pd.Series:
    """The top contributing scorer's reason for each row of ``contrib`` ('' if none scored);
    a column that is no scorer of ``scorers`` (an extra source of `similar`) gets the fallback.
    ``mix``: the artist mix's factor per row, which scaled every share of the row alike."""
    why = pd.Series("", index=contrib.index, dtype=object)
    scored = contrib.notna().any(axis=1)
    if not scored.any():
        return why
    # a share that is the same for every row tells them nothing apart (a scorer with no evidence
    # for these seeds, normalised to its middle): the reason is another's, while one varies. The
    # shares before the artist mix: its factor made a constant share differ ("from the albums of
    # your seeds" said of a track on no seed's album)
    unmixed = contrib if mix is None else contrib.div(mix.reindex(contrib.index).where(lambda f: f > 0), axis=0)
    varies = [c for c in contrib.columns if unmixed[c].round(9).nunique(dropna=False) > 1]
    if varies and len(contrib) > 1:
        contrib = contrib[varies]
        scored = contrib.notna().any(axis=1)
    top = contrib[scored].fillna(-np.inf).idxmax(axis=1)
    for name, ids in top.groupby(top).groups.items():
        ids = list(ids)
        explained = (scorers[name].explain(seeds, ids) if name in scorers else None) or {}
        fallback = FALLBACK_WHY.get(name, f"high {name} score")
        why[ids] = [explained.get(t) or fallback for t in ids]
    return why


# ----- orchestration --------------------------------------------------------------------

def _no_candidates_reason(mode: str, counts: Mapping[str, int], target: str | None) -> str:
    if counts.get("known", 0) == 0:
        return "no candidates: the library has no tracks (refresh first)"
    what = "seeds" if mode == "taste" else f'in playlist "{target}"'
    bits = [f"{counts.get('seeds', 0)} are {what}"]
    for key, text in (("pinned", "kept by you"), ("removed_by_you", "removed by you earlier"),
                      ("not_playable", "greyed out in Spotify for you"),
                      ("only_ours", "only in playlists this tool wrote"),
                      ("blocklist", "blocked in config (candidates.blocklist_*)"),
                      ("known_excluded", "already in your playlists or saved (candidates.exclude_known is true)"),
                      ("duplicates", "duplicates of other tracks")):
        if counts.get(key):
            bits.append(f"{counts[key]} {text}")
    hint = ""
    if counts.get("known_excluded"):
        hint = "; turn discovery on (refresh.discovery_artists > 0) or set candidates.exclude_known: false"
    return f"no candidates left: of {counts['known']} known tracks, " + ", ".join(bits) + hint


def _empty_table(names: Iterable[str]) -> pd.DataFrame:
    cols = {"rank": pd.Series([], dtype="int64"), "track_id": pd.Series([], dtype=object),
            "name": pd.Series([], dtype=object), "artists": pd.Series([], dtype=object),
            "artist_names": pd.Series([], dtype=object),
            "score": pd.Series([], dtype=float)}
    cols.update({f"contrib_{n}": pd.Series([], dtype=float) for n in names})
    cols.update({"why": pd.Series([], dtype=object), "pinned": pd.Series([], dtype=bool),
                 "artist_mix": pd.Series([], dtype=float),
                 "new": pd.Series([], dtype=bool), "source": pd.Series([], dtype=object)})
    return pd.DataFrame(cols)


def _table(library: Library, chosen: list[str], pinned: set[str], blended: pd.Series,
           contrib: pd.DataFrame, why: pd.Series, names: list[str],
           mixed: pd.Series | None = None, new_pins: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The published rows; ``mixed``: each chosen track's artist-mix factor (None: 1, the
    mix is off; NaN for pinned tracks, which are not scored); ``new_pins``: the pinned tracks
    not on the playlist yet."""
    if not chosen:
        return _empty_table(names)
    tracks = library.frames["tracks"]
    rows = library.track_positions(chosen)
    known = rows >= 0
    sub = tracks.iloc[rows[known]]
    name = pd.Series("", index=chosen, dtype=object)
    artists = pd.Series("", index=chosen, dtype=object)
    kid = [t for t, k in zip(chosen, known) if k]
    name[kid] = sub["name"].astype(object).fillna("").to_numpy()
    lists = iter([[str(a) for a in a_list] for a_list in sub["artist_names"]])
    names_of = np.empty(len(chosen), dtype=object)  # one by one: a name may hold a comma ("Earth, Wind & Fire")
    for i, k in enumerate(known):
        names_of[i] = next(lists) if k else []
    artists[kid] = [", ".join(a) for a in names_of[known]]
    table = pd.DataFrame({
        "rank": np.arange(1, len(chosen) + 1, dtype="int64"),
        "track_id": chosen,
        "name": name.to_numpy(),
        "artists": artists.to_numpy(),
        "artist_names": names_of,
        "score": blended.reindex(chosen).to_numpy(dtype=float),
    })
    for n in names:
        table[f"contrib_{n}"] = contrib[n].reindex(chosen).to_numpy(dtype=float) if n in contrib else np.nan
    is_pinned = np.array([t in pinned for t in chosen], dtype=bool)
    pinned_why = [NEW_PIN_WHY if t in new_pins else PINNED_WHY for t in chosen]
    table["why"] = np.where(is_pinned, pinned_why, why.reindex(chosen).fillna("").to_numpy(dtype=object))
    table["pinned"] = is_pinned
    table["artist_mix"] = (mixed.reindex(chosen).to_numpy(dtype=float) if mixed is not None
                           else np.where(is_pinned, np.nan, 1.0))
    return table


def _chosen_rows(library: Library, rows: np.ndarray, chosen: list[str], blended: pd.Series,
                 contrib: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """``blended`` and ``contrib`` (over the candidates, whose track rows are the sorted
    ``rows``) reindexed to ``chosen`` (NaN for ids that are not candidates, e.g. pinned)."""
    r = library.track_positions(chosen)
    pos = np.minimum(np.searchsorted(rows, r), max(len(rows) - 1, 0))
    ok = (r >= 0) & (len(rows) > 0)
    ok[ok] = rows[pos[ok]] == r[ok]
    b = np.full(len(chosen), np.nan)
    b[ok] = blended.to_numpy(dtype=float, na_value=np.nan)[pos[ok]]
    c = np.full((len(chosen), contrib.shape[1]), np.nan)
    c[ok] = contrib.to_numpy(dtype=float, na_value=np.nan)[pos[ok]]
    index = pd.Index(chosen, dtype=object)
    return pd.Series(b, index=index, dtype=float), pd.DataFrame(c, index=index, columns=contrib.columns)


def _strip_playlist(library: Library, playlist_id: str | None) -> Library:
    """``library`` without one playlist and its items (the managed playlist)."""
    if not playlist_id:
        return library
    items, playlists = library.frames["playlist_items"], library.frames["playlists"]
    keep = (items["playlist_id"] != playlist_id).to_numpy(dtype=bool)
    keep_pl = (playlists["playlist_id"] != playlist_id).to_numpy(dtype=bool)
    if keep.all() and keep_pl.all():
        return library
    return library.replace(playlist_items=items[keep], playlists=playlists[keep_pl])


def build_recommendations(library: Library, settings, *, seed_playlist: str | None = None,
                          exclude: Sequence[str] = (), pinned: Sequence[str] = (),
                          positive: Sequence[str] = (), now: datetime | None = None,
                          unplayable: Sequence[str] = (), new_pins: Sequence[str] = (),
                          scorers: Mapping[str, object] | None = None,
                          weights: Mapping[str, float] | None = None, fit: bool = True,
                          managed_playlist_id: str | None = None) -> Recommendations:
    """Seeds -> candidates -> scores -> blend -> selection with a "why" per track.

    ``seed_playlist``: a playlist name or id (playlist mode); None = taste profile.
    ``exclude``: ids the user removed from the managed playlist (never recommended again),
    and every copy of them (same ISRC, or normalised title + first artist). ``unplayable``:
    ids Spotify greyed out for the user: no candidates, their copies still are.
    ``pinned``: ids the user kept by hand (placed first, in order); ``new_pins``: those of them
    not on the playlist yet (pinned in `recommend web` since the last publish), whose why says
    "pinned by you", not "kept by you". ``positive``: ids the user added or saved (extra taste
    seeds, weight 1). ``scorers``: name -> Scorer (default
    ``recommender.scorers.make_scorers(settings)``); fitted here unless ``fit`` is False.
    ``weights``: name -> blend weight (default ``scorers.<name>.weight``).
    ``managed_playlist_id``: the playlist this tool writes; its items are ignored (neither
    seeds, nor "known", nor scorer training data), so the output does not feed on itself.
    Raises NotEnoughData when there are no seeds and UsageError for an unknown playlist;
    no candidates gives an empty table and a ``reason``.

    It is ``recommend(candidate_scoring(...), settings, ...)``: the seeds, the candidates and
    each scorer's scores of them do not depend on the weights, so a caller trying many weights
    on one library (`recommend web`'s sliders) keeps the ``Scoring`` and blends it again.
    """
    scoring = candidate_scoring(library, settings, seed_playlist=seed_playlist, exclude=exclude, pinned=pinned,
                                positive=positive, now=now, managed_playlist_id=managed_playlist_id,
                                unplayable=unplayable, new_pins=new_pins)
    return recommend(scoring, settings, scorers=scorers, weights=weights, fit=fit)


@dataclass
class Scoring:
    """What a build computes before it uses the weights: the seeds, the candidates (their
    track ``rows``), and each scorer's raw and normalised scores of them, added the first time
    a weight turns the scorer on (``score_with``). Not thread-safe: one ``recommend`` at a time."""

    library: Library
    mode: str
    target: str | None
    playlist_id: str | None
    seeds: pd.Series
    candidates: pd.Index
    rows: np.ndarray
    counts: dict[str, int]
    pinned: list[str]
    laps: dict[str, float]
    scorers: dict[str, object] = field(default_factory=dict)  # the instance each column was scored by
    raw: dict[str, np.ndarray] = field(default_factory=dict)  # scorer name -> raw scores of the candidates
    normalised: dict = field(default_factory=dict)  # (scorer name, method) -> normalised scores
    new_pins: frozenset[str] = frozenset()  # the pins not on the playlist yet: "pinned by you"
    # the tracks each candidate rule was given (``candidate_mask``'s exclude, unplayable, only_ours,
    # also_banned), by the name ``counts`` gives the rule: what ``explain_track`` says of one track
    rules: dict[str, frozenset[str]] = field(default_factory=dict)

    def score_with(self, name: str, scorer, fit: bool) -> bool:
        """Score the candidates with ``scorer`` (fitted on the library first when ``fit``) as
        column ``name``, unless this very instance already did; whether it ran."""
        if self.scorers.get(name) is scorer:
            return False
        if fit:
            scorer.fit(self.library)
        self.raw[name] = _raw_scores(scorer, self.seeds, self.candidates, self.rows, self.library.track_ids)
        self.scorers[name] = scorer
        self.normalised = {k: v for k, v in self.normalised.items() if k[0] != name}
        return True


def candidate_scoring(library: Library, settings, *, seed_playlist: str | None = None,
                      exclude: Sequence[str] = (), pinned: Sequence[str] = (), positive: Sequence[str] = (),
                      now: datetime | None = None, managed_playlist_id: str | None = None,
                      unplayable: Sequence[str] = (), playlists_of: str | None = None,
                      seeds: pd.Series | None = None, only_ours: Sequence[str] = (),
                      new_pins: Sequence[str] = ()) -> Scoring:
    """``build_recommendations``' seeds and candidates, no scorer run yet (see there);
    ``playlists_of``: as ``resolve_playlist``'s ``source`` (None: the user's playlists).
    ``only_ours``: tracks that only the playlists this tool wrote hold (``jobs.only_ours``): no
    candidates, as ``unplayable`` (their copies elsewhere are).
    ``seeds``: with ``seed_playlist``, its ``playlist_seeds`` when the caller built them already
    (a ``--seed-playlist`` run's discovery adds only tracks the library did not have: the
    seeds of the library before it are these)."""
    clock = _Clock()
    library = _strip_playlist(library, managed_playlist_id)
    target: str | None = None
    if seed_playlist is not None:
        mode = "playlist"
        pid = resolve_playlist(library, seed_playlist, playlists_of)
        target = str(library.frames["playlists"].set_index("playlist_id")["name"].get(pid, pid))
        seeds = playlist_seeds(library, pid) if seeds is None else seeds
        also_banned = library.playlist_tracks(pid)
        if seeds.empty:
            raise NotEnoughData(f'playlist "{target}" has no tracks to use as seeds{library.unreadable_note(pid)}')
    else:
        mode, pid = "taste", None
        seeds = taste_seeds(library, settings, positive=positive, now=now)
        also_banned = []
        if seeds.empty:
            if not library.frames["playlist_items"].empty:
                instead = "or build from one of your playlists (`recommend build-playlist --seed-playlist NAME`)"
            else:
                listed = len(library.frames["playlists"])  # followed ones only: refused as seeds
                own = (f" of your own in Spotify (this app cannot read the tracks of the "
                       f"{'playlist' if listed == 1 else 'playlists'} you only follow)") if listed else " in Spotify"
                instead = (f"or make a playlist{own} and build from it (`recommend refresh`, then `recommend "
                           "build-playlist --seed-playlist NAME`)")
            weighed = _weighed_out(library, settings, now)
            if weighed:  # it said "Spotify gave no top tracks" of a library that had them
                raise NotEnoughData(f"no seeds: {weighed}; give them a weight above 0, " + instead)
            raise NotEnoughData(
                "no seeds: Spotify gave no top tracks and nothing was saved in the last "
                f"{settings.seeds.recent_days} days (seeds.recent_days); play or save some music, " + instead)
    pinned = [str(t) for t in dict.fromkeys(pinned)]
    alive, counts = candidate_mask(library, settings, seeds, exclude=exclude, pinned=pinned,
                                   also_banned=also_banned, unplayable=unplayable, only_ours=only_ours)
    candidates = library.track_ids[alive]
    pinned = unblocked(library, settings, pinned)
    clock.lap("seeds+candidates")
    log.info("%s mode: %d seeds, %d candidates (%s)", mode, len(seeds), len(candidates), counts)
    rules = {"removed_by_you": exclude, "not_playable": unplayable, "only_ours": only_ours, "seed_playlist": also_banned}
    return Scoring(library, mode, target, pid, seeds, candidates, np.flatnonzero(alive), counts, pinned, clock.laps,
                   new_pins=frozenset(str(t) for t in new_pins),
                   rules={k: frozenset(str(t) for t in v) for k, v in rules.items()})


def recommend(scoring: Scoring, settings, *, scorers: Mapping[str, object] | None = None,
              weights: Mapping[str, float] | None = None, fit: bool = True) -> Recommendations:
    """``build_recommendations`` from its ``Scoring``: run the scorers of positive weight that
    have not scored these candidates yet, blend, mix, select, explain. ``scorers`` None:
    ``make_scorers(settings)``, each reusing the instance that already scored ``scoring``
    (the caller keeps one ``Scoring`` per library and non-weight settings)."""
    clock = _Clock()
    clock.laps = dict(scoring.laps)
    library, seeds, candidates, rows, pinned = (scoring.library, scoring.seeds, scoring.candidates, scoring.rows,
                                                scoring.pinned)
    if scorers is None:
        from .scorers import make_scorers  # lazy: scorers import heavier modules
        scorers = {name: scoring.scorers.get(name, s) for name, s in make_scorers(settings).items()}
    names = list(scorers)
    w = dict(weights) if weights is not None else default_weights(settings, names)
    common = dict(seeds=seeds, mode=scoring.mode, weights=w, n_candidates=len(candidates),
                  seed_playlist_id=scoring.playlist_id, removed=scoring.counts, timings=clock.laps)
    if len(candidates) == 0:
        reason = _no_candidates_reason(scoring.mode, scoring.counts, scoring.target)
        table = _table(library, pinned, set(pinned),  # every pin: none is taken off the playlist
                       pd.Series(dtype=float), pd.DataFrame(), pd.Series(dtype=object), names, new_pins=scoring.new_pins)
        if len(table):
            _mark_sources(library, table, _new_rows(library),
                          seeds, scoring.mode == "playlist")
        return Recommendations(table=table, reason=reason, **common)

    for name, scorer in scorers.items():
        if w.get(name, 0) > 0 and scoring.score_with(name, scorer, fit):
            clock.lap(f"fit {name}")
    factors = weight_factors(w, scorers)
    cfg = settings.blend
    blended, contrib = _mixed_blend(scoring, scorers, w, settings)
    clock.lap("score+blend")
    scored, shares = blended, contrib  # every candidate's (the two become the chosen rows' below)
    chosen = select_tracks(blended, _ArtistKeys(library), threshold=float(cfg.threshold),
                           min_tracks=int(cfg.min_tracks), max_tracks=int(cfg.max_tracks),
                           max_per_artist=int(cfg.max_per_artist), pinned=pinned)
    pinned_set = set(pinned)
    new_rows = _new_rows(library)
    share = float(settings.candidates.new_share)
    selected = chosen
    if share > 0:
        chosen = mix_new(chosen, blended, new_rows[rows], pinned_set, share, _ArtistKeys(library),
                         max_per_artist=int(cfg.max_per_artist))
    unpinned = [t for t in chosen if t not in pinned_set]
    reason = "" if unpinned else _nothing_chosen_reason(blended, len(chosen), len(seeds), cfg)
    short = _short_reason(blended, chosen, set(selected) - set(chosen), cfg) if unpinned else ""
    # the chosen rows of blended and contrib, by position (no hash table of every candidate id)
    blended, contrib = _chosen_rows(library, rows, chosen, blended, contrib)
    mixed = contrib.pop("artist_mix") if "artist_mix" in contrib else None
    why = explain_rows(scorers, seeds, contrib.loc[unpinned], mixed) if unpinned else pd.Series(dtype=object)
    table = _table(library, chosen, pinned_set, blended, contrib, why, names, mixed, new_pins=scoring.new_pins)
    _mark_sources(library, table, new_rows, seeds, scoring.mode == "playlist")
    clock.lap("select+why")
    log.debug("timings: %s", ", ".join(f"{k} {v:.2f} s" for k, v in clock.laps.items()))
    return Recommendations(table=table, reason=reason, weight_factors=factors, short=short,
                           new_candidates=int(np.count_nonzero(new_rows[rows])), blended=scored, shares=shares,
                           **common)


# ``explain_track``'s verdicts of a track left out, as a count of them reads ("11 outranked"): the
# dry run's "would remove" line sums up why the tracks leave with them
LEFT_OUT_WORDS = {
    "outranked": "outranked", "made_room": "made room for tracks new to you",
    "below_threshold": "below blend.threshold", "artist_cap": "over blend.max_per_artist",
    "no_evidence": "no longer linked to your seeds", "duplicate": "another release of the same song",
    "not_playable": "greyed out by Spotify", "known_excluded": "already yours (candidates.exclude_known)",
    "blocklist": "on your blocklist", "removed_by_you": "removed by you", "seed": "now your seeds",
    "seed_playlist": "in the seed playlist", "only_ours": "only in this tool's playlists",
    "not_in_cache": "no longer in the cache",
}


def explain_track(scoring: Scoring, recs: Recommendations, settings, track_id: str, *, why: bool = True) -> dict:
    """Why ``track_id`` is, or is not, in ``recs`` (``recommend(scoring, settings)``), JSON-ready:
    track_id, name, artists, new (not in your playlists, saved or top: None when unknown),
    on_playlist, rank (its place there), verdict (one code: on_playlist, pinned, not_in_cache,
    seed, seed_playlist, removed_by_you, blocklist, not_playable, only_ours, known_excluded,
    duplicate, no_evidence, below_threshold, artist_cap, made_room, outranked), reason (one
    sentence naming the setting or rule), and for a candidate its score (after the artist mix),
    place among the candidates by score (1: the best), artist_mix (that factor), contributions
    (scorer -> share of the score) and why (the top scorer's reason). The rules are asked in the
    order ``candidate_mask`` applies them. The scores are the run's own (``recs.blended`` and
    ``recs.shares``, which a run with candidates always has), never blended again. ``why`` False
    leaves a candidate's why out ("": the verdict and reason of each track a diff removes need
    none, and the scorers' reasons were two thirds of the time)."""
    library, table = scoring.library, recs.table
    out: dict = {"track_id": track_id, "name": None, "artists": None, "new": None, "on_playlist": False,
                 "rank": None, "verdict": "", "reason": "", "score": None, "place": None,
                 "candidates": len(scoring.candidates), "artist_mix": None, "contributions": {}, "why": ""}
    rows = library.track_rows([track_id])
    if not len(rows):
        return {**out, "verdict": "not_in_cache",
                "reason": "not in your cache: neither your library nor a refresh's discovery holds it"}
    row = int(rows[0])
    name, artists = _name_and_artists(library, row)
    out.update(name=name, artists=artists, new=bool(_new_rows(library)[row]))
    at = scoring.candidates.get_indexer([track_id])[0]
    if at >= 0:
        blended, contrib = recs.blended, recs.shares
        mixed = contrib["artist_mix"] if "artist_mix" in contrib else None
        mine = contrib.iloc[[at]].drop(columns="artist_mix", errors="ignore")  # its row (the run's stay whole)
        values = blended.to_numpy(dtype=float, na_value=np.nan)
        score = float(values[at])
        out.update(score=None if np.isnan(score) else round(score, 6),
                   place=int(np.count_nonzero(values > score)) + 1 if np.isfinite(score) else None,
                   artist_mix=None if mixed is None else round(float(mixed.iat[at]), 6),
                   contributions={k: round(float(v), 6) for k, v in mine.iloc[0].items() if pd.notna(v) and v > 0},
                   why=str(explain_rows(scoring.scorers, scoring.seeds, mine, mixed).iat[0]) if why else "")
    mine = table.index[table["track_id"].astype(str) == track_id]
    if len(mine):
        r = table.loc[mine[0]]
        pinned = bool(r["pinned"])
        return {**out, "on_playlist": True, "rank": int(r["rank"]), "why": str(r["why"]),
                "verdict": "pinned" if pinned else "on_playlist",
                "reason": f"at {int(r['rank'])} of {len(table)}" + (f": {r['why']}, not scored" if pinned else "")}
    return {**out, **dict(zip(("verdict", "reason"), _left_out(scoring, recs, settings, out, row)))}


def explain_best(scoring: Scoring, recs: Recommendations, settings, track_ids: Sequence[str]) -> dict:
    """``explain_track`` of the best placed of ``track_ids`` (an artist's tracks, when `--why`
    names the artist: its best chance): the one highest on the playlist, else the best scored
    candidate, else the first given (the first too on a tie)."""
    ids = list(dict.fromkeys(str(t) for t in track_ids))
    table = recs.table
    on = table[table["track_id"].astype(str).isin(ids)]
    if len(on):
        return explain_track(scoring, recs, settings, str(on.sort_values("rank")["track_id"].iat[0]))
    at = scoring.candidates.get_indexer(ids)
    if recs.blended is not None and (at >= 0).any():
        values = recs.blended.to_numpy(dtype=float, na_value=np.nan)
        scores = np.where(at >= 0, values[np.maximum(at, 0)], np.nan)
        if np.isfinite(scores).any():
            return explain_track(scoring, recs, settings, ids[int(np.nanargmax(scores))])
    return explain_track(scoring, recs, settings, ids[0])


def _left_out(scoring: Scoring, recs: Recommendations, settings, out: dict, row: int) -> tuple[str, str]:
    """(verdict, reason) of ``explain_track`` for a track of the library the playlist does not hold."""
    library, cfg, track_id = scoring.library, settings.blend, out["track_id"]
    rules = scoring.rules
    if scoring.candidates.get_indexer([track_id])[0] < 0:  # a rule of ``candidate_mask`` kept it out
        in_playlist = f'in the playlist "{scoring.target}" itself: a --seed-playlist run recommends what it lacks'
        if track_id in scoring.seeds.index:
            return ("seed_playlist", in_playlist) if scoring.mode == "playlist" else (
                "seed", "one of your seeds (a top or recently saved track, seeds.*): the playlist is made from them, "
                        "never of them")
        if track_id in rules.get("seed_playlist", ()):
            return "seed_playlist", in_playlist
        if track_id in rules.get("removed_by_you", ()):
            return "removed_by_you", "you removed it from the managed playlist: it is not recommended again"
        if _blocked(library.frames["tracks"].iloc[[row]], settings)[0]:
            return "blocklist", "on your blocklist (candidates.blocklist_artists, candidates.blocklist_tracks)"
        if track_id in rules.get("not_playable", ()):
            return "not_playable", "Spotify greys it out for you (another release of it may be recommended)"
        if track_id in rules.get("only_ours", ()):
            return "only_ours", "only in playlists this tool wrote: its own output is not your taste"
        if settings.candidates.exclude_known and _in_library_rows(library)[row]:
            return "known_excluded", "already in your playlists or saved, and candidates.exclude_known is true"
        return "duplicate", _duplicate_of(scoring, row)
    score, threshold, factor = out["score"], float(cfg.threshold), out["artist_mix"] or 1.0
    if score is None:
        return "no_evidence", "no scorer found anything linking it to your seeds"
    # "it scored 0.133 (0.532 before the artist mix, blend.artist_mix: ...)"
    scored_as = f"it scored {score:.3f}" + ("" if f"{score / factor:.3f}" == f"{score:.3f}" else (
        f" ({score / factor:.3f} before blend.artist_mix lowered it: the tracks of an artist beyond its share of "
        "your seeds are)"))
    if score < threshold:
        return "below_threshold", f"{scored_as}, below blend.threshold {threshold:g}"
    table = recs.table
    scored = table[~table["pinned"].astype(bool)]
    keys = _ArtistKeys(library)
    cap, key = int(cfg.max_per_artist), keys[track_id]
    same = sum(1 for t in table["track_id"] if keys[str(t)] == key)
    if cap and same >= cap:
        return "artist_cap", (f"its artist has {same} {plural(same, 'track')} on the playlist already, as many as "
                              f"blend.max_per_artist {cap} allows")
    last = float(scored["score"].min()) if len(scored) else float("nan")
    share = float(settings.candidates.new_share)
    if share > 0 and not out["new"] and len(scored) and score > last:
        return "made_room", (f"a track you know, whose place went to a track new to you: candidates.new_share {share:g} "
                             "keeps that share of the playlist new")
    return "outranked", (f"{scored_as}, {out['place']} of the {out['candidates']} candidates; the "
                         f"playlist holds {int(cfg.max_tracks)} (blend.max_tracks)"
                         + (f", the last of them scored {last:.3f}" if len(scored) else ""))


def _name_and_artists(library: Library, row: int) -> tuple[str, str]:
    """The track at ``row``: its name and its artists joined by ", " (as the table shows them)."""
    tracks = library.frames["tracks"]
    return str(tracks["name"].iat[row] or ""), ", ".join(str(a) for a in tracks["artist_names"].iat[row])


def _duplicate_of(scoring: Scoring, row: int) -> str:
    """The reason of a track no rule but the duplicates' kept out: the other release that stands
    for it (a candidate, or one of your seeds), by its ISRC or its title and first artist."""
    library = scoring.library
    candidate = np.zeros(len(library.track_ids), dtype=bool)
    candidate[scoring.rows] = True
    seed = isin(library.track_ids_arrow(), [str(t) for t in scoring.seeds.index])
    for code in library_codes(library):
        if code[row] < 0:
            continue
        for pool, what in ((seed, " (one of your seeds)"), (candidate, "")):
            others = np.flatnonzero((code == code[row]) & pool)
            others = others[others != row]
            if len(others):
                o = int(others[0])
                tracks = library.frames["tracks"]
                # its album too, where the two share a name: "'The Hum - Short Edit' ... stands for it" named neither
                album = tracks["album_name"].iat[o] if "album_name" in tracks else None
                on = (f" on {str(album)!r}" if isinstance(album, str) and album
                      and album != tracks["album_name"].iat[row] else "")
                name, artists = _name_and_artists(library, o)
                return f"another release of the same song stands for it: {name!r} - {artists}{on}{what}"
    return "not a candidate: another release of the same song stands for it"


def gave_way_to_pins(recs: Recommendations, library: Library, track_ids: Sequence[str], cfg) -> dict[str, str]:
    """Of ``track_ids`` (the tracks leaving the playlist), those a pinned track of the same artist
    kept out -> that pinned track: each scored at least ``blend.threshold`` and above the weakest
    unpinned track chosen (or the playlist has room), its artist's ``blend.max_per_artist``
    places full with a pin among them. Such a track left unexplained: a higher-scored track of
    the artist gave way to a pin you asked for."""
    table, cap = recs.table, int(cfg.max_per_artist)
    if not cap or recs.blended is None or table.empty or not table["pinned"].astype(bool).any() or not track_ids:
        return {}
    keys = _ArtistKeys(library)
    pinned = table["pinned"].astype(bool).to_numpy()
    chosen = [str(t) for t in table["track_id"]]
    pin_of: dict[str, str] = {}
    for t in np.asarray(chosen, dtype=object)[pinned]:
        pin_of.setdefault(keys[t], t)
    per_artist: dict[str, int] = {}
    for t in chosen:
        per_artist[keys[t]] = per_artist.get(keys[t], 0) + 1
    rest = table.loc[~pinned, "score"].to_numpy(dtype=float, na_value=np.nan)
    floor = -np.inf if len(chosen) < int(cfg.max_tracks) or not np.isfinite(rest).any() else float(np.nanmin(rest))
    index = recs.blended.index
    at = np.flatnonzero(isin(index, [str(t) for t in track_ids]))
    values = recs.blended.to_numpy(dtype=float, na_value=np.nan)[at]
    out: dict[str, str] = {}
    for tid, value in zip(index[at].to_numpy(dtype=object), values):
        k = keys[tid]
        if k in pin_of and per_artist[k] >= cap and value >= float(cfg.threshold) and value > floor:
            out[str(tid)] = pin_of[k]
    return out


def _blend(scoring: Scoring, scorers: Mapping[str, object], weights: Mapping[str, float], method: str
           ) -> tuple[pd.Series, pd.DataFrame]:
    """The blend and contributions of the scorers of positive weight (each weight times the
    scorer's ``weight_factor()``: ``blend.fitted_weights``), from the scores ``scoring`` holds;
    NaN columns for the others, which are not run."""
    weights = fitted_weights(weights, scorers)
    n = len(scoring.candidates)
    raw = pd.DataFrame({name: scoring.raw[name] if weights.get(name, 0) > 0 else np.full(n, np.nan)
                        for name in scorers}, index=scoring.candidates)
    return blend_scores(raw, weights, method, scoring.normalised)


def _mixed_blend(scoring: Scoring, scorers: Mapping[str, object], weights: Mapping[str, float], settings
                 ) -> tuple[pd.Series, pd.DataFrame]:
    """``_blend`` of every candidate, then the artist mix, which scales the score and, alike,
    every contribution to it (its factor the column ``artist_mix`` when it is on: not a scorer,
    carried to the table, left out of the why)."""
    blended, contrib = _blend(scoring, scorers, weights, settings.blend.normalisation)
    mix = ArtistMix.from_settings(settings)
    if mix.active:
        factor = mix.factors(blended.to_numpy(dtype=float, na_value=np.nan),
                             *mix_inputs(scoring.library, scoring.rows, scoring.seeds), int(settings.blend.max_tracks))
        blended = blended * factor
        contrib = contrib.mul(factor, axis=0)
        contrib["artist_mix"] = factor
    return blended, contrib


def _nothing_chosen_reason(blended: pd.Series, n_pinned: int, n_seeds: int, cfg) -> str:
    """Why no candidate was chosen, from the scores of every candidate (``blended``): none
    scored, the pinned tracks fill the playlist, or all scored below the threshold."""
    values = blended.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(values).all():
        return (f"none of the {len(values)} candidates could be scored: no scorer found anything "
                f"linking them to the {n_seeds} seeds")
    if n_pinned >= int(cfg.max_tracks):
        return f"your {n_pinned} pinned tracks fill the playlist (blend.max_tracks {int(cfg.max_tracks)})"
    return (f"none of the {len(values)} candidates scored at least blend.threshold {float(cfg.threshold):g} "
            f"(the best: {np.nanmax(values):.3f}); lower it, or raise blend.min_tracks")


def _short_reason(blended: pd.Series, chosen: list[str], swapped: set[str], cfg) -> str:
    """Why ``chosen`` holds fewer than ``blend.max_tracks`` tracks while other candidates of
    ``blended`` were scored: they scored below ``blend.threshold`` (a blend re-weighted by
    ``tune`` or by hand can score lower overall: the playlist shrinks, and says so), or
    ``blend.max_per_artist`` left them out; "" when the playlist is full or nothing more scored.
    The known tracks the mix ``swapped`` for new ones (``candidates.new_share``) left no place
    empty: they are no reason."""
    room = int(cfg.max_tracks) - len(chosen)
    values = blended.to_numpy(dtype=float, na_value=np.nan)
    out = np.isfinite(values) & ~blended.index.isin(chosen) & ~blended.index.isin(list(swapped))
    threshold, cap = float(cfg.threshold), int(cfg.max_per_artist)
    below = int((out & (values < threshold)).sum())
    capped = int((out & (values >= threshold)).sum()) if cap else 0
    if room <= 0 or not (below or capped):
        return ""
    if capped:
        return (f"{len(chosen)} of blend.max_tracks {int(cfg.max_tracks)} places filled: blend.max_per_artist "
                f"{cap} left out {capped} more {plural(capped, 'track')} that scored "
                f"at least blend.threshold {threshold:g}; raise blend.max_per_artist for a fuller playlist")
    return (f"{len(chosen)} of blend.max_tracks {int(cfg.max_tracks)} places filled: the other {below} "
            f"scored {plural(below, 'candidate')} scored below blend.threshold {threshold:g} (the best: "
            f"{np.nanmax(np.where(out, values, np.nan)):.3f}); lower it, or raise blend.min_tracks, for a fuller playlist")


# ----- the mix: new tracks and where they came from -----------------------------------------

SOURCE_WHY = {
    "similar_artists": "similar to {seed} on ListenBrainz",
    "similar_recordings": "often played with {seed} on ListenBrainz",
    "albums": "from a new album by {seed}, one of your artists",
    # a --seed-playlist run's album find of an artist of that playlist who is not one of your
    # top or followed artists (``sources.albums.playlist_albums``): not "one of your artists"
    "playlist_albums": "from a new album by {seed}, one of the playlist's artists",
    # a --seed-playlist run's find on an album its tracks by several artists share
    # (``sources.albums.shared_albums``): {seed} is the album's name
    "shared_albums": "from the album '{seed}', which holds tracks of several of the playlist's artists",
    "shared_albums_unnamed": "from an album that holds tracks of several of the playlist's artists",
}
WHY_JOIN = " · "  # between a new track's source evidence and its top scorer's reason


def source_why(source: str, seed: str, scorer_why: str) -> str:
    """A new track's "why": its top scorer's reason alone when that reason already names the
    source's kind of evidence (the open-data scorer's "similar to X on ListenBrainz" for a
    similar-artists find), else the source's evidence first and the scorer's reason after
    ("similar to X on ListenBrainz · shares album 'Y'"); the source's alone when no scorer said
    anything. ``source`` "playlist_albums": an album find worded as the playlist's artist's. An album find whose scorer reason is the walk's "by X, one of your seeds' artists"
    for the same X says it once: "from a new album by X, one of your seeds' artists", and
    content's "shares ... artist 'X'" drops that part (``content.without_artist``). A source
    without a text (the catalogue) leaves the scorer's reason as it is."""
    template = SOURCE_WHY.get(source)
    if template is None:
        return scorer_why
    if source in ("albums", "playlist_albums"):  # the walk names the same artist: one sentence, not "by X" twice
        from .scorers.content import without_artist
        from .scorers.walk import own_artist_reason
        for one in (False, True):
            if scorer_why == own_artist_reason(seed, one):
                return f"from a new album {scorer_why}"
        scorer_why = without_artist(scorer_why, seed)  # nor "by X ... shares artist 'X'"
    prefix, named, suffix = template.partition("{seed}")
    if named and scorer_why.startswith(prefix) and scorer_why.endswith(suffix):
        return scorer_why
    evidence = template.format(seed=seed)
    return f"{evidence}{WHY_JOIN}{scorer_why}" if scorer_why else evidence


def _new_rows(library: Library) -> np.ndarray:
    """Bool per track row: new to you (not ``_known``), built once per Library."""
    return library.derived(("pipeline", "new_rows"), lambda: ~_known(library))


def _in_library_rows(library: Library) -> np.ndarray:
    """``_in_library``, built once per Library."""
    return library.derived(("pipeline", "in_library"), lambda: _in_library(library))


def _known(library: Library) -> np.ndarray:
    """Bool per track row: in one of the user's playlists, saved or a top track."""
    m, columns = library.track_playlist_matrix(extra_sources=True)
    if len(columns) == 0:
        return np.zeros(m.shape[0], dtype=bool)
    return np.asarray(m @ np.ones(len(columns), dtype=np.float32)).ravel() > 0


def mix_new(chosen: list[str], blended: pd.Series, is_new: np.ndarray, pinned: set[str], share: float,
            artist_of, *, threshold: float = 0.0, max_per_artist: int = 0) -> list[str]:
    """``chosen`` with at least ``ceil(share * n)`` of its ``n`` unpinned tracks new (``is_new``
    per candidate of ``blended``), when enough new candidates score above ``threshold`` (0:
    any evidence at all): the weakest known tracks make room for the best new ones. Pinned tracks stay first; the
    rest stays in blended-score order. Only the chosen tracks are looked up and the new
    candidates are read best first (``blend.best_items``), as many as it takes: no set of every
    new candidate's id, no sort of them all."""
    import math
    unpinned = [t for t in chosen if t not in pinned]
    index = blended.index
    values = blended.to_numpy(dtype=float, na_value=np.nan)
    at = np.flatnonzero(isin(index, unpinned))  # Arrow's is_in: no hash table of every candidate id
    score = dict(zip(index[at].to_numpy(dtype=object), values[at]))
    new_chosen = set(index[at[is_new[at]]].to_numpy(dtype=object))
    have = [t for t in unpinned if t in new_chosen]
    need = math.ceil(share * len(unpinned) - 1e-9)
    if len(have) >= need:
        return chosen
    with np.errstate(invalid="ignore"):
        pool = np.where(is_new & (values > threshold), values, np.nan)  # scored at all
    taken = set(chosen)
    counts: dict[str, int] = {}
    for t in chosen:
        counts[artist_of[t]] = counts.get(artist_of[t], 0) + 1
    known = [t for t in unpinned if t not in new_chosen]
    extra: list[str] = []
    for tid, value in best_items(index, pool, max(4 * need, 256)):
        if len(have) + len(extra) >= need or not known:
            break
        if tid in taken:
            continue
        a = artist_of[tid]
        dropped = artist_of[known[-1]]
        if max_per_artist and counts.get(a, 0) - (a == dropped) >= max_per_artist:
            continue
        counts[dropped] -= 1
        counts[a] = counts.get(a, 0) + 1
        known.pop()
        extra.append(tid)
        score[tid] = value
    keep = set(known) | set(have) | set(extra)
    rest = [t for t in unpinned + extra if t in keep]
    ordered = sorted(rest, key=lambda t: _descending(score.get(t, np.nan)))  # stable: ties keep their order
    return [t for t in chosen if t in pinned] + ordered


def _descending(value: float) -> tuple[bool, float]:
    """Sort key of a score, best first, NaN (unscored) last: as pandas' descending sort."""
    return (bool(np.isnan(value)), 0.0 if np.isnan(value) else -value)


def _evidence_of_run(library: Library, disc: pd.DataFrame, seeds: pd.Series | None, playlist: bool) -> np.ndarray:
    """Bool per row of ``disc`` (the discovered frame): its seed is one of this run's. A
    similar-tracks find names a seed track ("often played with X"): X must be a seed; a
    similar-artists find names one of your main artists, which in a ``--seed-playlist`` run
    must be an artist of the playlist's tracks (discovery asked for your taste's seeds, not
    the playlist's). ``seeds`` None: every row."""
    ok = np.ones(len(disc), dtype=bool)
    if seeds is None:
        return ok
    src = disc["source"].astype(str).to_numpy()
    seed_ids = disc["seed_id"].astype(str).to_numpy()
    keys = [str(t) for t in seeds.index]
    by_track = src == "similar_recordings"
    ok[by_track] = isin(seed_ids[by_track], keys)
    if playlist:
        tracks = library.frames["tracks"]
        at = library.track_positions(keys)
        artists = {str(a) for ids in tracks["artist_ids"].iloc[at[at >= 0]] for a in (ids if ids is not None else ())}
        by_artist = src == "similar_artists"
        ok[by_artist] = isin(seed_ids[by_artist], sorted(artists))
    return ok


def _mark_sources(library: Library, table: pd.DataFrame, new_rows: np.ndarray,
                  seeds: pd.Series | None = None, playlist: bool = False) -> None:
    """Add ``new`` (bool) and ``source`` columns to ``table``; a new (unpinned) track's "why"
    names its source's evidence and keeps its top scorer's reason (``source_why``). With
    ``seeds``, only evidence of this run's seeds is named (``_evidence_of_run``): a find whose
    every seed is another is marked by its source and explained by its scorer alone."""
    ids = list(table["track_id"])
    pos = library.track_positions(ids)
    table["new"] = [bool(p >= 0 and new_rows[p]) for p in pos]
    found: dict[str, tuple[str, str]] = {}
    disc = library.frames["discovered"]
    if len(disc):
        disc = disc[disc["track_id"].isin(ids)]
        ours = _evidence_of_run(library, disc, seeds, playlist)
        # the best find of this run's seeds first, then any other (its source, no evidence named)
        best = disc.assign(_ours=ours).sort_values(["_ours", "score"], ascending=False, kind="stable")
        best = best.drop_duplicates("track_id")
        for t, src, seed, mine in zip(best["track_id"].astype(str), best["source"].astype(str),
                                      best["seed_name"].astype(object), best["_ours"]):
            found[t] = (src, str(seed or "") if mine else None)
    albums = library.frames["discovery"]
    worded: dict[str, str] = {}  # track -> the SOURCE_WHY of its album find, when not its source's
    if len(albums):
        names = dict(zip(library.frames["artists"]["artist_id"].astype(str), library.frames["artists"]["name"].astype(object)))
        # the refresh reads the albums of your top and followed artists (the first
        # refresh.discovery_artists); a --seed-playlist run those of the playlist's other main
        # artists too, whose finds are the playlist's unless one is yours all the same
        yours = set(library.your_artists()) if playlist else None
        from .sources.albums import SHARED, text_or_none
        sub = albums[albums["track_id"].isin(ids)].drop_duplicates("track_id")
        # a shared album's find (its rows' source artist ``SHARED``) is named by its album
        shared = sub.loc[sub["source_artist_id"].astype(str) == SHARED, "track_id"].astype(str).tolist()
        at = library.track_positions(shared)
        album_of = {t: library.frames["tracks"]["album_name"].iloc[p] for t, p in zip(shared, at) if p >= 0}
        for t, a in zip(sub["track_id"].astype(str), sub["source_artist_id"].astype(str)):
            if t in found:
                continue
            if a == SHARED:  # (a name the album's listing did not give: said without it)
                name = text_or_none(album_of.get(t))
                found[t] = ("albums", name or "")
                worded[t] = "shared_albums" if name else "shared_albums_unnamed"
                continue
            found[t] = ("albums", str(names.get(a) or "your artist"))
            if yours is not None and a not in yours:
                worded[t] = "playlist_albums"
    sources, whys = [], []
    for t, is_new, why, pinned in zip(ids, table["new"], table["why"], table["pinned"]):
        src, seed = found.get(t, ("catalogue", "")) if is_new else ("library", "")
        sources.append(src)
        named = is_new and not pinned and seed is not None  # None: the find's seed is not this run's
        whys.append(source_why(worded.get(t, src), seed, str(why or "")) if named else why)
    table["source"] = sources
    table["why"] = whys


class _Clock:
    """Wall-clock seconds per stage (``laps``), for the speed bench and ``-v`` logs."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 4)
        self._last = now


def unblocked(library: Library, settings, ids: list[str]) -> list[str]:
    """``ids`` without those on the blocklist (order kept; unknown ids are kept)."""
    if not ids:
        return ids
    rows = library.track_rows(ids)
    known = [library.track_ids[r] for r in rows]
    blocked = set(np.asarray(known, dtype=object)[_blocked(library.frames["tracks"].iloc[rows], settings)])
    return [t for t in ids if t not in blocked]


class _ArtistKeys(Mapping):
    """Lazy track id -> ``artists.artist_key`` of its first artist (else the track id).

    Lazy because selection only looks at the top of the ranking, not every candidate.
    """

    def __init__(self, library: Library) -> None:
        self._ids = library.track_ids
        self._tracks = library.frames["tracks"]

    def __getitem__(self, track_id: str) -> str:
        try:
            row = self._ids.get_loc(track_id)
        except KeyError:
            return track_id
        if not isinstance(row, (int, np.integer)):
            row = int(np.flatnonzero(np.asarray(row))[0]) if not isinstance(row, slice) else row.start
        return artist_key(self._tracks["artist_ids"].iat[row], self._tracks["artist_names"].iat[row]) or track_id

    def __iter__(self):
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)
