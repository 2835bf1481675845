"""Exploring the cached library: free-text track search, resolving a track reference, and
"tracks like this one" (the recommender's scorers seeded with a single track).

Search is local: character trigrams of accent-folded "name artists album" text, scored by
how much of the query a track covers plus how well it matches the track's title (see
``searchindex``), so typos and missing accents still match, a query naming title and artist
finds that recording first, and nothing scoring under a floor is returned. A ``remote``
callable (for instance a Spotify search, at most 10 results per request in 2026) can add
tracks the cache does not hold; they are scored the same way so both lists rank together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from .artists import first_artist_keys
from .blend import blend_scores, fitted_weights, in_blend
from .errors import RecommenderError, UsageError
from .library import Library
from .links import ID_RE, TRACK_URI_RE, parse_track_ref, spotify_ref_kind
from .paths import SAMPLE_LIBRARY
from .searchindex import MIN_SCORE, SearchIndex, check_query, core_title, empty_library, fold, refuse_short_link

if TYPE_CHECKING:  # the scorers import scikit-learn: a first search (the index build) does not need it
    from .scorers.base import Scorer

__all__ = ["SEARCH_COLUMNS", "TrackIndex", "core_title", "distinct_recordings", "fold", "parse_track_ref",
           "resolve_track", "search_tracks", "similar_tracks", "track_display"]

log = logging.getLogger(__name__)

SEARCH_COLUMNS = ["track_id", "name", "artists", "artist_names", "album", "score", "source"]
# a ``similar_tracks`` frame's columns that are no scorer's (the others are: ``sharing``)
SIMILAR_TRACK_COLUMNS = ("rank", "track_id", "name", "artists", "artist_names", "score", "why")
# A free-text reference resolves only to a search hit at least this good (0..1).
RESOLVE_MIN_SCORE = 0.5
# Spotify's 2026 search returns at most 10 items per request.
REMOTE_LIMIT_MAX = 10


def is_track_id(text: str) -> bool:
    """Whether ``text`` is a bare Spotify track id (22 letters and digits)."""
    return bool(ID_RE.fullmatch(text))


def _names(value) -> list[str]:
    """Artist names one by one from a list (a plain string: one name)."""
    if isinstance(value, str):
        return [value] if value else []
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if hasattr(value, "tolist"):
        value = value.tolist()
    return [str(v) for v in value if v is not None and v is not pd.NA]


def _join_names(value) -> str:
    """Artist names as one display string from a list (or a plain string)."""
    return value if isinstance(value, str) else ", ".join(_names(value))


def track_display(library: Library, track_ids=None) -> pd.DataFrame:
    """One row per track of ``library`` (tracks frame order; only ``track_ids`` when given):
    track_id, name, artists (comma-joined), artist_names (a list: a name may hold a comma,
    "Earth, Wind & Fire"), album; plain ``str`` values, "" when missing."""
    t = library.frames["tracks"]
    if track_ids is not None:
        wanted = pd.Index([str(i) for i in track_ids], dtype=object)
        t = t[pd.Index(t["track_id"].astype(str).to_numpy(dtype=object), dtype=object).isin(wanted)]
    return pd.DataFrame({
        "track_id": t["track_id"].astype(str).to_numpy(),
        "name": t["name"].fillna("").astype(str).to_numpy(),
        "artists": [_join_names(v) for v in t["artist_names"]],
        "artist_names": [_names(v) for v in t["artist_names"]],
        "album": t["album_name"].fillna("").astype(str).to_numpy(),
    })


def index_tracks(library: Library) -> list[tuple[str, str, list[str], str]]:
    """(track_id, name, artist names, album) of each distinct track id, tracks frame order."""
    d = track_display(library).drop_duplicates("track_id")
    return list(zip(d["track_id"], d["name"], d["artist_names"], d["album"]))


@dataclass
class TrackIndex:
    """A fitted search index over a library's tracks (build once, query many times); a
    DataFrame face over ``searchindex.SearchIndex`` (scoring: see that module).

    ``min_score``: hits scoring below it are no match. Learned: ``index_`` (the
    SearchIndex), ``display_`` (tracks x [track_id, name, artists, album]).
    """

    min_score: float = MIN_SCORE

    def fit(self, library: Library) -> "TrackIndex":
        return self.from_index(SearchIndex.build(index_tracks(library)))

    def from_index(self, index: SearchIndex) -> "TrackIndex":
        """Wrap an already built (or loaded) SearchIndex."""
        self.index_ = index
        self.display_ = pd.DataFrame(index.tracks, columns=["track_id", "name", "artists", "album"],
                                     dtype=object)
        self.display_.insert(3, "artist_names", pd.Series(index.artist_names, dtype=object))
        return self

    def search(self, query: str, limit: int = 10) -> pd.DataFrame:
        """Best ``limit`` local tracks for ``query`` scoring at least ``min_score``, best first
        (ties: a title the query spells out, then the shorter name, i.e. the undecorated
        version, then track id); columns SEARCH_COLUMNS with source "local"."""
        rows = self.index_.query(query, max(limit, 0), self.min_score)
        out = pd.DataFrame(rows, columns=SEARCH_COLUMNS[:-1])
        out["score"] = out["score"].astype(float)
        out["source"] = "local"
        return out[SEARCH_COLUMNS]

    def score_texts(self, query: str, display: pd.DataFrame) -> np.ndarray:
        """Scores of other tracks (columns name, artists, album) against ``query`` with
        this index's statistics, comparable with ``search`` scores."""
        if display.empty:
            return np.zeros(0)
        rows = list(zip(display.get("track_id", [""] * len(display)), display["name"], display["artists"],
                        display["album"]))
        return self.index_.score_texts(query, rows)


def _parse_remote(item: Mapping) -> dict | None:
    """One remote search result -> {track_id, name, artists, album}; accepts our tidy shape
    (track_id, name, artist_names|artists, album_name|album) or a raw Spotify track object."""
    if not isinstance(item, Mapping):
        return None
    if "track" in item and isinstance(item["track"], Mapping):
        item = item["track"]
    tid = item.get("track_id") or item.get("id")
    if not tid and isinstance(item.get("uri"), str):
        m = TRACK_URI_RE.match(item["uri"])
        tid = m.group(1) if m else None
    if not tid:
        return None
    artists = item.get("artist_names", item.get("artists", []))
    names = ([a.get("name", "") if isinstance(a, Mapping) else str(a) for a in artists] if isinstance(artists, list)
             else [str(artists)] if artists else [])
    album = item.get("album_name", item.get("album", ""))
    if isinstance(album, Mapping):
        album = album.get("name", "")
    return {"track_id": str(tid), "name": str(item.get("name") or ""), "artists": ", ".join(names),
            "artist_names": names, "album": str(album or "")}


def search_tracks(library: Library, query: str, limit: int = 10,
                  remote: Callable[[str, int], list[dict]] | None = None,
                  index: TrackIndex | None = None, min_score: float | None = None) -> pd.DataFrame:
    """Free-text search of the cached library, best first.

    Returns at most ``limit`` rows: track_id, name, artists, artist_names, album, score (0..1, see
    ``searchindex``), source ("local", or "remote" for tracks only ``remote`` knew); no row
    at all when nothing scores ``min_score`` (default: the index's, ``searchindex.MIN_SCORE``).
    ``remote(query, n)`` is asked for up to 10 results and its failures (RecommenderError) are
    logged, not raised: the local answer still counts. Pass a fitted ``index`` to reuse it
    across queries. Raises UsageError for an empty query.
    """
    check_query(query)
    index = index or TrackIndex().fit(library)
    if min_score is not None and min_score != index.min_score:
        index = TrackIndex(min_score=min_score).from_index(index.index_)
    out = index.search(query, limit)
    if remote is None or limit <= 0:
        return out
    try:
        items = remote(query, min(limit, REMOTE_LIMIT_MAX)) or []
    except RecommenderError as exc:
        log.info("remote search for %r failed: %s", query, exc)  # the caller says so, once
        out.attrs["remote_error"] = str(exc)
        return out
    known = set(index.display_["track_id"])
    rows = [r for r in map(_parse_remote, items) if r and r["track_id"] not in known]
    if not rows:
        return out
    extra = pd.DataFrame(rows).drop_duplicates("track_id")
    scorer = index if len(index.index_.vocab) else TrackIndex().from_index(
        SearchIndex.build(list(zip(extra["track_id"], extra["name"], extra["artist_names"], extra["album"]))))
    extra["score"] = scorer.score_texts(query, extra)
    extra["source"] = "remote"  # Spotify's own answers are kept even below the floor: it matched them
    both = pd.concat([out, extra[SEARCH_COLUMNS]], ignore_index=True)
    both["_order"] = np.arange(len(both))  # stable: remote order breaks ties among remote hits
    both = both.sort_values(["score", "_order"], ascending=[False, True]).head(limit)
    return both.drop(columns="_order").reset_index(drop=True)


IMPORT_HINT = ("import audio features with `recommend import features FILE.csv` "
               "(a CSV with track_id, valence, energy, ... columns)")


class Where(NamedTuple):
    """For messages about a track not found or without audio features: the library looked in,
    the search that reads it, as a message names it (a command in backticks, or the web app's
    Search page), how its tracks get audio features (``--demo`` and ``--dataset FILE`` read
    another library than your cache: features imported into the cache are not theirs) and
    whether a refresh can add a track to it (only to your cache), and what else to give when a
    text matched none of its tracks (in the sample library a Spotify link means nothing: its
    titles and artists do)."""

    library: str = "the cached library"
    search: str = "`recommend search`"
    features: str = IMPORT_HINT
    refreshed: bool = True  # `recommend refresh` fills it
    other: str = "a Spotify track URL"


def dataset_where(path: str, search: str) -> Where:
    """``Where`` for a playlist data file (``--dataset FILE``): its own columns hold the features."""
    return Where(path, search,
                 "fill in the file's valence and energy columns (0 to 1; an Exportify export made since "
                 "Spotify stopped giving apps audio features, in November 2024, has them empty), or use "
                 "your cache with features imported by `recommend import features FILE.csv`",
                 refreshed=False)


CACHE = Where()
SAMPLE_TRACKS = ("Zombie", "Linger")  # tracks of the sample library, the ones the demo's hints name
DEMO = Where(SAMPLE_LIBRARY, "`recommend search --demo`",  # `--demo`, and `recommend web --demo`
             f"{SAMPLE_LIBRARY} has the audio features it ships with (`recommend import features` fills "
             "your own cache, which --demo does not read)", refreshed=False,
             other=f"a title or artist {SAMPLE_LIBRARY} holds, such as {SAMPLE_TRACKS[0]!r} or 'The Cranberries'")


def resolve_track(library: Library, text: str, min_score: float = RESOLVE_MIN_SCORE,
                  index: TrackIndex | None = None, where: Where = CACHE) -> str:
    """A track id from an id, a ``spotify:track:`` URI, an open.spotify.com URL or free text.

    Ids, URIs and URLs are returned as they are (whether the library holds them or not);
    free text is resolved to the best local search hit scoring at least ``min_score``.
    Raises UsageError naming ``text`` and ``where`` when nothing matches well enough.
    """
    ref = parse_track_ref(text)
    if ref is not None:
        return ref
    if not fold(text):
        raise UsageError(f"no track matches {text!r}: give a name, a Spotify track id, URI or URL")
    refuse_short_link(text)
    other = spotify_ref_kind(text)
    if other not in (None, "track"):  # (searched for as words, it said "no track matches")
        raise UsageError(f"{text.strip()!r} is a Spotify {other} link, not a track's: "
                         "give a track's id, URI or link (Share, Copy Song Link), or its name")
    if not len(library.track_ids):  # "no track matches ...; try `recommend search`", which has none either
        raise empty_library(where.library, mine=where.refreshed)
    hits = search_tracks(library, text, limit=1, index=index)
    if hits.empty or hits["score"].iloc[0] < min_score:
        raise UsageError(f"no track in {where.library} matches {text!r}; "
                         f"try {where.search} or {where.other}")
    return str(hits["track_id"].iloc[0])


def equal_matches(library: Library, text: str, chosen: str, index: TrackIndex | None = None,
                  limit: int = 50) -> list[str]:
    """The other songs ("Name - Artists") that free ``text`` matches exactly as well as the
    track ``resolve_track`` chose (``chosen``): "voice" names several tracks called "Voice".
    Another release of the chosen song (the same name and artists) is no other match. None at
    all for an id, URI or link."""
    return list(equal_match_songs(library, text, chosen, index, limit).values())


def artist_named(library: Library, text: str, track_id: str) -> str | None:
    """The artist of the track whose name free ``text`` is (accents and case aside), not the
    track's title: "metallica" asks about the artist; else None."""
    rows = library.track_rows([track_id])
    if not len(rows):
        return None
    tracks = library.frames["tracks"]
    asked = fold(text)
    if asked == fold(str(tracks["name"].iat[int(rows[0])] or "")):
        return None
    return next((str(a) for a in tracks["artist_names"].iat[int(rows[0])] if asked == fold(str(a))), None)


def artist_track_ids(library: Library, name: str) -> list[str]:
    """Every track of the library credited to an artist called ``name`` (accents and case aside)."""
    asked = fold(name)
    names = library.frames["tracks"]["artist_names"]
    return [str(t) for t, artists in zip(library.track_ids, names) if any(fold(str(a)) == asked for a in artists)]


def equal_match_songs(library: Library, text: str, chosen: str, index: TrackIndex | None = None,
                      limit: int = 50) -> dict[str, str]:
    """``equal_matches``' songs, each once: the track id of its first hit -> its "Name - Artists"."""
    if parse_track_ref(text) is not None or not fold(text):
        return {}
    index = index or TrackIndex().fit(library)  # (searched twice below, at times)
    hits = search_tracks(library, text, limit=limit, index=index)
    if hits.empty or chosen not in set(hits["track_id"]):
        return {}
    best = float(hits.loc[hits["track_id"] == chosen, "score"].iloc[0])
    if len(hits) == limit and hits["score"].iloc[-1] >= best - 1e-9:
        # the first ``limit`` hits all tie with it (an artist's name, of 70 songs): every one is
        # looked at, where the note said "49 other songs" of them
        hits = search_tracks(library, text, limit=max(len(library.track_ids), limit), index=index,
                             min_score=max(best - 1e-6, index.min_score))
    labels = hits["name"].astype(str) + " - " + hits["artists"].astype(str)
    mine = hits["track_id"] == chosen
    # another release is the chosen song in other letters too ("Wind of Change" beside "Wind Of
    # Change", which `similar` seeds from as one recording): compared case-folded, and by recording
    same = labels.str.casefold() == labels[mine].iloc[0].casefold()
    same |= hits["track_id"].isin(recording_copies(library, chosen))
    tied = (hits["score"] >= best - 1e-9) & ~same
    first: dict[str, tuple[str, str]] = {}
    for track_id, label in zip(hits.loc[tied, "track_id"], labels[tied]):
        first.setdefault(label.casefold(), (str(track_id), label))
    return dict(first.values())


def _is_fitted(scorer: Scorer) -> bool:
    """scikit-learn's rule: a fitted estimator has public attributes ending in "_"."""
    return any(k.endswith("_") and not k.startswith("_") for k in vars(scorer))


# An extra similarity source for `similar`: (library, seed track id) -> similarity per track
# id (higher = more alike; ids it does not know are left out and it stays silent for them).
SimilaritySource = Callable[[Library, str], pd.Series]


def similar_tracks(library: Library, track_id: str, scorers: Mapping[str, Scorer],
                   weights: Mapping[str, float] | None = None, n: int = 10,
                   normalisation: str = "rank", exclude_same_song: bool = True,
                   same_artist: int = 0, extra: Mapping[str, SimilaritySource] | None = None,
                   where: Where = CACHE) -> pd.DataFrame:
    """The ``n`` tracks most like ``track_id``: every scorer seeded with that track and, with
    ``exclude_same_song``, every other copy of its recording (``recording_copies``).

    Candidates are all other library tracks. With ``exclude_same_song`` another copy of the
    same recording (same ISRC, or same normalised title + first artist: ``pipeline.dedupe``)
    or another version of the seed's song by its artist (a remix, another remaster:
    ``_distinct_songs``) is never suggested, and the result holds each song once (its
    best-scored version).
    ``same_artist`` > 0 keeps at most that many tracks per (first) artist, the seed's artist
    included; 0 = no limit. ``extra`` adds similarity sources (name -> SimilaritySource, e.g.
    open-data "listened together" relations) blended like scorers, weight ``weights[name]``
    (default 1). Scorers not fitted yet are fitted on ``library``; ``weights`` None gives
    every scorer weight 1. Returns columns rank (1..), track_id, name, artists, score
    (blended, 0..1), one contribution column per scorer and extra source (NaN where it
    was silent; a row's contributions add up to its score) and ``why`` (the top scorer's
    reason, as build-playlist gives it).
    Raises UsageError when the library does not hold ``track_id`` (``where``: which one).
    """
    track_id = str(track_id)
    ids = library.track_ids
    if track_id not in ids:
        raise UsageError(f"track {track_id} is not in {where.library}; "
                         + ("run `recommend refresh` or " if where.refreshed else "")
                         + f"pick one with {where.search}")
    extra = dict(extra or {})
    names = list(scorers) + [k for k in extra if k not in scorers]
    weights = {name: 1.0 for name in scorers} if weights is None else dict(weights)
    for k in extra:
        weights.setdefault(k, 1.0)
    display = track_display(library).set_index("track_id", drop=False)
    display = display[~display.index.duplicated()]
    candidates = pd.Index(ids[ids != track_id].unique(), name="track_id")
    # every copy of the seed's recording seeds it (an album's and a single's: the same ISRC, or
    # title and artist): from the single copy, which no playlist of yours holds, "Lucid Dreams" had
    # tracks that only shared its year, from the album's, its peers
    copies = recording_copies(library, track_id) if exclude_same_song else [track_id]  # (else: candidates)
    seeds = pd.Series(1.0, index=pd.Index(copies, name="track_id"))
    from .scorers.base import ONE_SONG  # (lazy: the scorers' package imports scikit-learn)
    seeds.attrs[ONE_SONG] = True  # the whys say "your seed's artist", "sounds alike": one song, if two ids
    candidates = candidates.difference(pd.Index(copies), sort=False)
    scores = _similarity_scores(library, track_id, scorers, extra, seeds, candidates, names)
    blended, contrib = blend_scores(scores, fitted_weights({k: weights.get(k, 0.0) for k in names}, scorers),
                                    normalisation)
    ranked = pd.DataFrame({"track_id": candidates, "score": blended.to_numpy()}).dropna(subset=["score"])
    ranked = ranked.sort_values(["score", "track_id"], ascending=[False, True])
    if exclude_same_song:  # one copy of each recording (the best-scored), never the seed's
        ranked = ranked[distinct_recordings(library, ranked["track_id"], exclude=[track_id])]
        ranked = ranked[_distinct_songs(library, track_id, ranked["track_id"], display["name"],
                                        window=max(300, 30 * n))]
    if same_artist and same_artist > 0:
        ranked = ranked[_artist_cap(library, ranked["track_id"], same_artist)]
    # the whys are chosen among the first WHY_ROWS (a scorer whose share is the same for every row
    # tells none apart: ``explain_rows``): among the n shown, a track's why changed with -n and
    # --same-artist ("sounds alike" with -n 2, "shares artist 'The Cranberries', the same album"
    # with -n 5, for one row of one score)
    window = ranked.head(max(n, WHY_ROWS))
    ranked = ranked.head(max(n, 0))
    out = display.loc[ranked["track_id"], ["track_id", "name", "artists", "artist_names"]].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["score"] = ranked["score"].to_numpy()
    for name in names:
        out[name] = contrib.loc[ranked["track_id"], name].to_numpy()
    from .pipeline import explain_rows
    why = explain_rows(scorers, seeds, contrib.loc[window["track_id"]])
    out["why"] = why.reindex(pd.Index(ranked["track_id"])).fillna("").to_numpy()
    return out


def _similarity_scores(library: Library, track_id: str, scorers: Mapping[str, Scorer],
                       extra: Mapping[str, SimilaritySource], seeds: pd.Series, candidates: pd.Index,
                       names: list[str]) -> pd.DataFrame:
    """Each scorer's raw score of ``candidates`` for ``seeds`` (fitted on ``library`` first if
    it was not) and each ``extra`` source's for ``track_id``: candidates x ``names``, NaN where
    one is silent."""
    columns = {}
    for name, scorer in scorers.items():
        if not _is_fitted(scorer):
            scorer.fit(library)
        columns[name] = scorer.score(seeds, candidates).reindex(candidates).astype(float)
    for name, source in extra.items():
        got = source(library, track_id)
        got = pd.Series(got, dtype=float) if not isinstance(got, pd.Series) else got.astype(float)
        got.index = got.index.astype(str)
        columns[name] = got[~got.index.duplicated()].reindex(candidates)
    return pd.DataFrame(columns, index=candidates, columns=names)


WHY_ROWS = 50  # (build-playlist's playlist, blend.max_tracks' default, among which its whys are chosen)


def distinct_recordings(library: Library, track_ids: Sequence[str], exclude: Iterable[str] = ()) -> np.ndarray:
    """Bool per id of ``track_ids`` (best first): the first of its recording (same ISRC, or
    same normalised title + first artist: ``pipeline.dedupe``) and not a recording of any id
    in ``exclude`` (e.g. the seed). Ids the library does not hold are kept."""
    from .pipeline import dedupe, library_codes

    ids = library.track_ids
    first_row = pd.Series(np.arange(len(ids)), index=ids)
    first_row = first_row[~first_row.index.duplicated()]
    exclude = [str(e) for e in exclude if str(e) in first_row.index]
    rows = first_row.reindex([str(t) for t in list(exclude) + list(track_ids)]).to_numpy()
    known = ~np.isnan(rows)
    safe = np.where(known, rows, 0).astype(np.int64)
    codes = [np.where(known, c[safe], -1) for c in library_codes(library)]
    banned = np.zeros(len(rows), dtype=bool)
    banned[:len(exclude)] = True
    alive = dedupe(codes, np.zeros(len(rows), dtype=bool), banned)
    return alive[len(exclude):]


def recording_copies(library: Library, track_id: str) -> list[str]:
    """``track_id`` and the other ids of its recording in ``library`` (the same ISRC, or the same
    normalised title + first artist: ``pipeline.dedupe_codes``), ``track_id`` first."""
    from .pipeline import library_codes, shares_key
    ids = library.track_ids
    seed = np.asarray(ids == track_id, dtype=bool)
    if not seed.any():
        return [track_id]
    others = ids[shares_key(library_codes(library), seed)]
    return [track_id] + [str(t) for t in dict.fromkeys(others) if str(t) != track_id]


def one_copy_each(library: Library, track_ids: Sequence[str], preferred: np.ndarray) -> np.ndarray:
    """Bool per id of ``track_ids``: the one copy kept of its recording (``distinct_recordings``),
    a ``preferred`` copy (one with audio features) before the others, else the first."""
    order = np.argsort(~np.asarray(preferred, dtype=bool), kind="stable")
    keep = np.zeros(len(track_ids), dtype=bool)
    if len(track_ids):
        keep[order] = distinct_recordings(library, [track_ids[i] for i in order])
    return keep


def each_recording_once(library: Library, track_ids: Sequence[str]) -> list[str]:
    """``track_ids`` (in order) without later copies of a recording (``distinct_recordings``):
    the tracks the taste map and the mood clusters place, each recording once."""
    return [t for t, keep in zip(track_ids, distinct_recordings(library, track_ids)) if keep]


def _distinct_songs(library: Library, track_id: str, track_ids: Sequence[str], names: pd.Series,
                    window: int) -> np.ndarray:
    """Bool per id of ``track_ids`` (best first): not another version of the seed's song and
    the first version of its own song among the first ``window`` ids (the rest are kept). A
    song is a first artist (``artists.artist_key``) + the title without its version
    decorations (``core_title``): "Despacito - Remix" is a version of "Despacito" by Luis
    Fonsi, "Bohemian Rhapsody - 2011 Remaster" of "Bohemian Rhapsody - 2011 Mix". Not copies
    of one recording (``distinct_recordings`` finds those) but not other songs either, and
    "tracks like this one" lists other songs. ``names``: track name by track id."""
    ids = [str(t) for t in track_ids]
    keep = np.ones(len(ids), dtype=bool)
    head = [track_id] + ids[:window]
    titles = [fold(core_title(str(names.get(t, "")))) for t in head]
    keys = first_artist_keys(library, head)
    seen = {(keys[0], titles[0])} if keys[0] is not None and titles[0] else set()
    for i, song in enumerate(zip(keys[1:], titles[1:])):
        if song[0] is None or not song[1]:
            continue
        keep[i] = song not in seen
        seen.add(song)
    return keep


def _artist_cap(library: Library, track_ids: pd.Series, cap: int) -> np.ndarray:
    """Bool per id of ``track_ids`` (best first): within the first ``cap`` of its first artist
    (``artists.artist_key``, as the playlist's ``blend.max_per_artist``)."""
    ids = [str(t) for t in track_ids]
    seen: dict[str, int] = {}
    keep = []
    for tid, key in zip(ids, first_artist_keys(library, ids)):
        a = key or tid
        seen[a] = seen.get(a, 0) + 1
        keep.append(seen[a] <= cap)
    return np.array(keep, dtype=bool)


def similarity_sources(settings, library: Library) -> dict[str, SimilaritySource]:
    """Extra similarity sources for `similar` beyond the scorers (name -> SimilaritySource);
    their blend weight is ``similar.<name>_weight`` when that key exists, else 1.

    Empty today: the open-data similarity (ListenBrainz similar recordings and artists cached by
    the discovery refresh) already enters through the blend's ``opendata`` scorer, weighted
    ``scorers.opendata.weight``. A further source plugs in here as ``{"name": fn}`` with
    ``fn(library, seed_id)`` returning a Series of similarity indexed by similar track id
    (weight ``similar.<name>_weight``). Sources whose weight is 0 are not called.
    """
    return {}


def share_columns(similar: pd.DataFrame) -> list[str]:
    """The contribution columns of a ``similar_tracks`` frame (one per scorer and extra source,
    in its order): every column but ``SIMILAR_TRACK_COLUMNS``."""
    return [c for c in similar.columns if c not in SIMILAR_TRACK_COLUMNS]


def sharing(similar: pd.DataFrame, weights: dict[str, float]) -> list[str]:
    """The scorer columns of a ``similar_tracks`` frame whose weight counts (``weights``: as
    ``similar_setup`` gives them; ``blend.in_blend``): a scorer at weight 0, or with none, has
    no share of any score, and neither the CLI's table nor the web page's legend lists it."""
    return in_blend(weights, share_columns(similar))


def similar_setup(settings, library: Library) -> tuple[dict[str, Scorer], dict[str, float], dict[str, SimilaritySource]]:
    """(scorers, weights, extra sources) for `similar`: the build-playlist scorers and blend
    weights, plus the audio-feature scorer weighted ``similar.audio_weight`` when the library
    has audio features, plus ``similarity_sources``. The content scorer skips the packaging
    words of name decorations (``namewords.strip_packaging``): seeded with one track, "X -
    2011 Remaster" would otherwise find every other remaster alike (build-playlist keeps them:
    over a playlist's many seeds they cost nothing, and dropping them there lowers the
    benchmark's persona p@10 from 0.3699 to 0.3677)."""
    from .scorers import AudioScorer, ContentScorer, blend_weights, make_scorers, scorer_params

    scorers = make_scorers(settings)
    if "content" in scorers:
        scorers["content"] = ContentScorer(**{**scorer_params(settings, "content"), "drop_packaging": True,
                                               "split_cjk": True})
    weights = blend_weights(settings)
    audio_w = float(settings.similar.audio_weight)
    if audio_w > 0 and len(library.frames["audio_features"]):
        scorers["audio"] = AudioScorer(**scorer_params(settings, "audio"))
        weights["audio"] = audio_w
    section = settings.similar
    extra = {}
    for name, source in similarity_sources(settings, library).items():
        w = float(section[f"{name}_weight"]) if f"{name}_weight" in section else 1.0
        if w > 0:
            extra[name], weights[name] = source, w
    return scorers, weights, extra
