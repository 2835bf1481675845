"""Audio scorer: cosine similarity on standardised audio features (frame ``audio_features``).

Features are z-scored over the library (``key`` is dropped: it is circular and categorical),
rows L2-normalised; a candidate's score is the mean cosine to its ``k`` most similar seeds
(``k = 0``: cosine to the seed centroid). NaN for tracks without audio features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..library import Library
from ..schema import AUDIO_COLUMNS
from .base import ONE_SONG, Scorer, seed_vector

FEATURES = tuple(c for c in AUDIO_COLUMNS if c != "key")
# how a "why" names a feature, (low, high); others read "low X" / "high X". time_signature counts
# in the score but has no word: "high time signature" tells a person nothing. Each word means
# "more (less) than your library's mean": liveness above it is a "live feel", not "live" (which
# read as a live recording; the library's mean is about 0.2, Spotify's live cue 0.8).
FEATURE_WORDS = {"duration_ms": ("short", "long"), "tempo": ("slow", "fast"), "loudness": ("quiet", "loud"),
                 "mode": ("minor key", "major key"), "valence": ("sad", "happy"),
                 "instrumentalness": ("vocal", "instrumental"), "liveness": ("studio sound", "live feel"), "time_signature": None}
CHUNK = 200_000  # candidate rows per block in k-NN mode (bounds memory: CHUNK x seeds floats)


def idle_note(weights, library: Library | None) -> str:
    """The line saying the audio scorer has a weight but not one track has audio features to
    score by (its slider moved on the Weights page, its row all 0: nothing said why); ''
    otherwise."""
    if not weights.get("audio") or library is None or not scores_nothing(library):
        return ""
    return ("audio has a weight, but no track has audio features to score by (`recommend import features FILE` "
            "imports them): its weight changes nothing")


def scores_nothing(library: Library) -> bool:
    """No track of ``library`` has an audio feature: the audio scorer is silent for every track,
    so its weight changes no ranking (and tune cannot measure it)."""
    af = library.audio_features
    cols = [c for c in FEATURES if c in af.columns]
    return not (len(af) and cols and af[cols].notna().any().any())


class AudioScorer(Scorer):
    """Similarity of standardised audio features (centroid cosine or mean of k nearest seeds)."""

    name = "audio"

    def __init__(self, k: int = 0, features: tuple[str, ...] | list[str] = FEATURES) -> None:
        self.k = k
        self.features = tuple(features)

    def fit(self, library: Library) -> "AudioScorer":
        """Learn ``F_`` (tracks x features, z-scored, unit rows; rows of 0 where a track has no
        audio features, ``has_`` False)."""
        ids = library.track_ids
        af = library.audio_features.drop_duplicates("track_id").set_index(
            library.audio_features.drop_duplicates("track_id")["track_id"].astype(str))
        cols = [c for c in self.features if c in af.columns and af[c].notna().any()]
        f = af[cols].astype("Float64").to_numpy(dtype=float, na_value=np.nan) if cols else np.zeros((len(af), 0))
        mu = np.nanmean(f, axis=0) if len(f) else np.zeros(len(cols))
        sd = np.nanstd(f, axis=0) if len(f) else np.ones(len(cols))
        sd[~(sd > 0)] = 1.0
        z = np.nan_to_num((f - mu) / sd)  # a missing single feature counts as the mean
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        z = (z / norms).astype(np.float32)
        # zeros where missing, so that scoring reads F_ as it is (a copy per target was the cost)
        F = np.zeros((len(ids), len(cols)), dtype=np.float32)
        pos = ids.get_indexer(af.index)
        ok = (pos >= 0) & ~np.isnan(f).all(axis=1)  # a row without any value: no audio features
        F[pos[ok]] = z[ok]
        has = np.zeros(len(ids), dtype=bool)
        has[pos[ok]] = len(cols) > 0
        self.track_ids_ = ids
        self._positions = library.track_positions  # id -> row lookups without rereading every id
        self.F_ = F
        self.columns_ = list(cols)
        self.has_ = has
        return self

    def score_all(self, seeds: pd.Series) -> np.ndarray:
        s = seed_vector(seeds, self.track_ids_, self._positions)
        s[~self.has_] = 0
        out = np.full(len(self.track_ids_), np.nan)
        if s.sum() <= 0:
            return out
        F = self.F_
        if self.k <= 0:
            centroid = (F.T @ s) / s.sum()
            out[self.has_] = F[self.has_] @ centroid
            return out
        seed_rows = np.flatnonzero(s > 0)
        S = F[seed_rows]
        k = min(self.k, len(seed_rows))
        rows = np.flatnonzero(self.has_)
        for start in range(0, len(rows), CHUNK):
            block = rows[start:start + CHUNK]
            sims = F[block] @ S.T
            top = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
            out[block] = top.mean(axis=1)
        return out

    def explain(self, seeds: pd.Series, track_ids: list[str], top: int = 2) -> dict[str, str]:
        """The features on which a track and the seeds lean the same way most ("sounds like
        your seeds: high energy, low acousticness, fast"; "sounds alike: ..." for one seed, as
        in `similar`), from the standardised rows."""
        s = seed_vector(seeds, self.track_ids_, self._positions)
        s[~self.has_] = 0
        if s.sum() <= 0 or not self.columns_:
            return {}
        seed_rows = np.flatnonzero(s)  # the seeds' rows only: no copy of every track's features
        one = len(seed_rows) == 1 or seeds.attrs.get(ONE_SONG, False)  # `similar`: one song (its copies)
        lead = "sounds alike: " if one else "sounds like your seeds: "
        centroid = (self.F_[seed_rows].T @ s[seed_rows]) / s.sum()
        F = self.F_
        words = [FEATURE_WORDS.get(c, (f"low {c}", f"high {c}")) for c in self.columns_]  # once, not per track
        out = {}
        ids = [str(t) for t in track_ids]
        for tid, r in zip(ids, self._positions(ids)):
            if r < 0 or not self.has_[r]:
                continue
            agree = F[r] * centroid
            ranked = [j for j in np.argsort(-agree, kind="stable") if agree[j] > 0 and words[j] is not None]
            parts = [words[j][int(F[r, j] > 0)] for j in ranked[:top]]
            if parts:
                out[str(tid)] = lead + ", ".join(parts)
        return out
