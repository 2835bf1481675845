"""Exploring the cached library: free-text track search, resolving a track reference, and
"tracks like this one" (the recommender's scorers seeded with a single track).

Search is local: TF-IDF over character n-grams of accent-folded "name artists album" text,
cosine similarity, so typos and missing accents still match. A ``remote`` callable (for
instance a Spotify search, at most 10 results per request in 2026) can add tracks the cache
does not hold; they are scored with the same vectoriser so both lists rank together.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .blend import blend_scores
from .errors import RecommenderError, UsageError
from .library import Library
from .scorers.base import Scorer

log = logging.getLogger(__name__)

SEARCH_COLUMNS = ["track_id", "name", "artists", "album", "score", "source"]
# A free-text reference resolves only to a search hit at least this good (cosine, 0..1).
RESOLVE_MIN_SCORE = 0.45
# Spotify's 2026 search returns at most 10 items per request.
REMOTE_LIMIT_MAX = 10

_ID_RE = re.compile(r"^[0-9A-Za-z]{22}$")
_URI_RE = re.compile(r"^spotify:track:([0-9A-Za-z]{22})$")
_URL_RE = re.compile(r"^(?:https?://)?open\.spotify\.com/(?:intl-[a-z-]+/)?(?:embed/)?track/([0-9A-Za-z]{22})(?:[/?#].*)?$")
# Letters that NFKD does not decompose into a base letter + combining mark.
_FOLD_EXTRA = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l",
                             "Ł": "l", "đ": "d", "Đ": "d", "ð": "d", "þ": "th", "Þ": "th", "ı": "i"})
_NON_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Accent- and case-folded text with punctuation turned into single spaces.

    ``fold("Beyoncé – Halo!") == "beyonce halo"``; used for both documents and queries.
    """
    if not isinstance(text, str):
        return ""
    if text.isascii():
        return _NON_WORD.sub(" ", text.casefold()).strip()
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", stripped.casefold()).strip()


def _join_names(value) -> str:
    """Artist names as one display string from a list (or a plain string)."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if hasattr(value, "tolist"):
        value = value.tolist()
    return ", ".join(str(v) for v in value if v is not None and v is not pd.NA)


def track_display(library: Library, track_ids=None) -> pd.DataFrame:
    """One row per track of ``library`` (tracks frame order; only ``track_ids`` when given):
    track_id, name, artists (comma-joined), album; plain ``str`` values, "" when missing."""
    t = library.frames["tracks"]
    if track_ids is not None:
        wanted = pd.Index([str(i) for i in track_ids], dtype=object)
        t = t[pd.Index(t["track_id"].astype(str).to_numpy(dtype=object), dtype=object).isin(wanted)]
    return pd.DataFrame({
        "track_id": t["track_id"].astype(str).to_numpy(),
        "name": t["name"].fillna("").astype(str).to_numpy(),
        "artists": [_join_names(v) for v in t["artist_names"]],
        "album": t["album_name"].fillna("").astype(str).to_numpy(),
    })


_VERSION_SUFFIX = re.compile(r"\s+-\s+.*$|\s*[(\[].*?[)\]]")


def core_title(name: str) -> str:
    """A track name without version decorations: "Hey Jude - Remastered 2009" -> "Hey Jude",
    "Halo (feat. X) [Live]" -> "Halo" (the name itself when nothing would be left)."""
    core = _VERSION_SUFFIX.sub("", name or "").strip()
    return core or (name or "")


def _documents(display: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(whole texts "name artists album", core titles), folded, one per row of ``display``."""
    whole = [fold(f"{n} {a} {b}") for n, a, b in zip(display["name"], display["artists"], display["album"])]
    titles = [fold(core_title(n)) for n in display["name"]]
    return whole, titles


@dataclass
class TrackIndex:
    """A fitted search index over a library's tracks (build once, query many times).

    ``ngram_range`` are character n-gram lengths (within word boundaries). Learned:
    ``display_`` (tracks x [track_id, name, artists, album]), ``vectorizer_``,
    ``documents_`` (tracks x n-grams, L2-normalised rows), ``names_`` (same, core titles).
    """

    ngram_range: tuple[int, int] = (3, 3)

    def fit(self, library: Library) -> "TrackIndex":
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.display_ = track_display(library)
        docs, titles = _documents(self.display_)
        self.vectorizer_ = TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range,
                                           sublinear_tf=True, dtype=np.float32)
        if any(d for d in docs):
            self.documents_ = self.vectorizer_.fit_transform(docs).tocsr()
            self.names_ = self.vectorizer_.transform(titles).tocsr()
        else:  # empty library (or no text at all): nothing can match
            self.vectorizer_ = None
            self.documents_ = sp.csr_matrix((len(docs), 0), dtype=np.float32)
            self.names_ = self.documents_
        return self

    def _score(self, query: str, documents: sp.csr_matrix, names: sp.csr_matrix
               ) -> tuple[np.ndarray, np.ndarray]:
        """(score, whole) per document: ``whole`` is the cosine of the query with the whole
        text; ``score`` the better of ``whole`` and 0.95 x the cosine with the core title (a
        title typed on its own should not lose to a longer matching text)."""
        if self.vectorizer_ is None or documents.shape[0] == 0:
            zeros = np.zeros(documents.shape[0])
            return zeros, zeros
        q = self.vectorizer_.transform([fold(query)]).T.tocsc()
        whole = np.asarray((documents @ q).todense()).ravel()
        name = np.asarray((names @ q).todense()).ravel()
        return np.maximum(whole, 0.95 * name), whole

    def search(self, query: str, limit: int = 10) -> pd.DataFrame:
        """Best ``limit`` local tracks for ``query`` (score > 0), best first (ties: the shorter
        name, i.e. the undecorated version, then the better whole-text match, then track id); columns SEARCH_COLUMNS with source "local"."""
        scores, whole = self._score(query, self.documents_, self.names_)
        keep = np.flatnonzero(scores > 1e-9)
        ids = self.display_["track_id"].to_numpy()[keep]
        name_len = self.display_["name"].str.len().to_numpy()[keep]
        order = keep[np.lexsort((ids, -whole[keep], name_len, -scores[keep]))][:max(limit, 0)]
        out = self.display_.iloc[order].reset_index(drop=True)
        out["score"] = scores[order].astype(float)
        out["source"] = "local"
        return out[SEARCH_COLUMNS]

    def score_texts(self, query: str, display: pd.DataFrame) -> np.ndarray:
        """Scores of other tracks (columns name, artists, album) against ``query`` with
        this index's vocabulary, comparable with ``search`` scores."""
        if self.vectorizer_ is None or display.empty:
            return np.zeros(len(display))
        whole, titles = _documents(display)
        docs = self.vectorizer_.transform(whole)
        names = self.vectorizer_.transform(titles)
        return self._score(query, docs.tocsr(), names.tocsr())[0]


def _parse_remote(item: Mapping) -> dict | None:
    """One remote search result -> {track_id, name, artists, album}; accepts our tidy shape
    (track_id, name, artist_names|artists, album_name|album) or a raw Spotify track object."""
    if not isinstance(item, Mapping):
        return None
    if "track" in item and isinstance(item["track"], Mapping):
        item = item["track"]
    tid = item.get("track_id") or item.get("id")
    if not tid and isinstance(item.get("uri"), str):
        m = _URI_RE.match(item["uri"])
        tid = m.group(1) if m else None
    if not tid:
        return None
    artists = item.get("artist_names", item.get("artists", []))
    if isinstance(artists, list):
        artists = ", ".join(a.get("name", "") if isinstance(a, Mapping) else str(a) for a in artists)
    album = item.get("album_name", item.get("album", ""))
    if isinstance(album, Mapping):
        album = album.get("name", "")
    return {"track_id": str(tid), "name": str(item.get("name") or ""), "artists": str(artists or ""),
            "album": str(album or "")}


def search_tracks(library: Library, query: str, limit: int = 10,
                  remote: Callable[[str, int], list[dict]] | None = None,
                  index: TrackIndex | None = None) -> pd.DataFrame:
    """Free-text search of the cached library, best first.

    Returns at most ``limit`` rows: track_id, name, artists, album, score (cosine in 0..1),
    source ("local", or "remote" for tracks only ``remote`` knew). ``remote(query, n)`` is
    asked for up to 10 results and its failures (RecommenderError) are logged, not raised:
    the local answer still counts. Pass a fitted ``index`` to reuse it across queries.
    Raises UsageError for an empty query.
    """
    if not fold(query):
        raise UsageError(f"search: the query {query!r} has no letters or digits to search for")
    index = index or TrackIndex().fit(library)
    out = index.search(query, limit)
    if remote is None or limit <= 0:
        return out
    try:
        items = remote(query, min(limit, REMOTE_LIMIT_MAX)) or []
    except RecommenderError as exc:
        log.warning("remote search for %r failed: %s", query, exc)
        out.attrs["remote_error"] = str(exc)
        return out
    known = set(index.display_["track_id"])
    rows = [r for r in map(_parse_remote, items) if r and r["track_id"] not in known]
    if not rows:
        return out
    extra = pd.DataFrame(rows).drop_duplicates("track_id")
    if index.vectorizer_ is None:  # nothing local: rank remote tracks by their own text
        extra["score"] = TrackIndex().fit(_display_library(extra)).score_texts(query, extra)
    else:
        extra["score"] = index.score_texts(query, extra)
    extra["source"] = "remote"
    both = pd.concat([out, extra[SEARCH_COLUMNS]], ignore_index=True)
    both["_order"] = np.arange(len(both))  # stable: remote order breaks ties among remote hits
    both = both.sort_values(["score", "_order"], ascending=[False, True]).head(limit)
    return both.drop(columns="_order").reset_index(drop=True)


def _display_library(display: pd.DataFrame) -> Library:
    tracks = pd.DataFrame({"track_id": display["track_id"], "name": display["name"],
                           "artist_names": [[a] if a else [] for a in display["artists"]],
                           "album_name": display["album"]})
    return Library.from_frames(tracks=tracks)


def parse_track_ref(text: str) -> str | None:
    """The bare track id in an id, a ``spotify:track:`` URI or an open.spotify.com track URL;
    None for anything else."""
    s = (text or "").strip()
    for rx in (_ID_RE, _URI_RE, _URL_RE):
        m = rx.match(s)
        if m:
            return m.group(1) if m.groups() else m.group(0)
    return None


def resolve_track(library: Library, text: str, min_score: float = RESOLVE_MIN_SCORE,
                  index: TrackIndex | None = None) -> str:
    """A track id from an id, a ``spotify:track:`` URI, an open.spotify.com URL or free text.

    Ids, URIs and URLs are returned as they are (whether the library holds them or not);
    free text is resolved to the best local search hit scoring at least ``min_score``.
    Raises UsageError naming ``text`` when nothing matches well enough.
    """
    ref = parse_track_ref(text)
    if ref is not None:
        return ref
    if not fold(text):
        raise UsageError(f"no track matches {text!r}: give a name, a Spotify track id, URI or URL")
    hits = search_tracks(library, text, limit=1, index=index)
    if hits.empty or hits["score"].iloc[0] < min_score:
        raise UsageError(f"no track in the cached library matches {text!r}; "
                         f"try `recommend search` or a Spotify track URL")
    return str(hits["track_id"].iloc[0])


def _is_fitted(scorer: Scorer) -> bool:
    """scikit-learn's rule: a fitted estimator has public attributes ending in "_"."""
    return any(k.endswith("_") and not k.startswith("_") for k in vars(scorer))


def similar_tracks(library: Library, track_id: str, scorers: Mapping[str, Scorer],
                   weights: Mapping[str, float] | None = None, n: int = 10,
                   normalisation: str = "rank", exclude_same_song: bool = True) -> pd.DataFrame:
    """The ``n`` tracks most like ``track_id``: every scorer seeded with that one track.

    Candidates are all other library tracks. With ``exclude_same_song`` another copy of the
    same song (equal folded name and artists, another id) is never suggested, and the result
    holds each song once (its best-scored copy). Scorers not fitted yet are
    fitted on ``library``; ``weights`` None gives every scorer weight 1. Returns columns
    rank (1..), track_id, name, artists, score (blended, 0..1) and one contribution column
    per scorer (NaN where it was silent; a row's contributions add up to its score).
    Raises UsageError when the library does not hold ``track_id``.
    """
    track_id = str(track_id)
    ids = library.track_ids
    if track_id not in ids:
        raise UsageError(f"track {track_id} is not in the cached library; run `recommend refresh` "
                         f"or pick one with `recommend search`")
    weights = {name: 1.0 for name in scorers} if weights is None else dict(weights)
    names = list(scorers)
    display = track_display(library).set_index("track_id", drop=False)
    display = display[~display.index.duplicated()]
    mask = ids != track_id
    if exclude_same_song:
        song = display["name"].map(fold) + "\x00" + display["artists"].map(fold)
        mask &= ~(song.reindex(ids).to_numpy() == song[track_id])
    candidates = pd.Index(ids[mask].unique(), name="track_id")
    seeds = pd.Series([1.0], index=pd.Index([track_id], name="track_id"))
    columns = {}
    for name, scorer in scorers.items():
        if not _is_fitted(scorer):
            scorer.fit(library)
        columns[name] = scorer.score(seeds, candidates).reindex(candidates).astype(float)
    scores = pd.DataFrame(columns, index=candidates, columns=names)
    blended, contrib = blend_scores(scores, weights, normalisation)
    ranked = pd.DataFrame({"track_id": candidates, "score": blended.to_numpy()}).dropna(subset=["score"])
    ranked = ranked.sort_values(["score", "track_id"], ascending=[False, True])
    if exclude_same_song:  # one copy of each song: the best-scored one
        ranked = ranked[~song.reindex(ranked["track_id"]).duplicated().to_numpy()]
    ranked = ranked.head(max(n, 0))
    out = display.loc[ranked["track_id"], ["track_id", "name", "artists"]].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["score"] = ranked["score"].to_numpy()
    for name in names:
        out[name] = contrib.loc[ranked["track_id"], name].to_numpy()
    return out
