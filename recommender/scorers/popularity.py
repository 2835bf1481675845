"""Popularity scorer: how present a track already is in the user's own library.

score = log1p(number of the user's playlists holding the track)
        + top_weight * sum over time ranges of 1 / (1 + rank_decay * (rank - 1))
        + saved_weight * saved
        + spotify_weight * popularity / 100   (only when Spotify sent ``popularity``)

It is the same for every target (seeds are ignored). Tracks unknown to the library get NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..library import Library
from .base import Scorer


class PopularityScorer(Scorer):
    """In-library popularity: playlist count, top-track presence and rank, saved, Spotify popularity."""

    name = "popularity"

    def __init__(self, top_weight: float = 1.0, rank_decay: float = 0.05, saved_weight: float = 0.5,
                 spotify_weight: float = 1.0) -> None:
        self.top_weight = top_weight
        self.rank_decay = rank_decay
        self.saved_weight = saved_weight
        self.spotify_weight = spotify_weight

    def fit(self, library: Library) -> "PopularityScorer":
        """Learn ``scores_`` (Series over track ids) and the parts for explanations."""
        ids = library.track_ids
        # distinct playlists per track: the non-zeros of its row of the binary matrix
        tp, _ = library.track_playlist_matrix(extra_sources=False)
        n_playlists = np.diff(tp.indptr).astype(float)
        top = library.top_tracks
        top_score = np.zeros(len(ids))
        if len(top):
            rank = top["rank"].astype("Float64").fillna(1.0).to_numpy(float)
            w = 1.0 / (1.0 + self.rank_decay * (np.maximum(rank, 1.0) - 1.0))
            per = pd.Series(w).groupby(top["track_id"].astype(str).to_numpy()).sum()
            rows = library.track_positions(per.index)
            top_score[rows[rows >= 0]] = per.to_numpy(float)[rows >= 0]
        saved = np.zeros(len(ids))
        rows = library.track_positions(library.saved_tracks["track_id"].astype(str))
        saved[rows[rows >= 0]] = 1.0
        pop = library.tracks["popularity"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        spotify = np.where(np.isnan(pop), 0.0, pop / 100.0)
        self.track_ids_ = ids
        self._positions = library.track_positions
        self.parts_ = pd.DataFrame({"playlists": n_playlists, "top": top_score, "saved": saved,
                                    "spotify": pop}, index=ids)
        self.scores_ = pd.Series(np.log1p(n_playlists) + self.top_weight * top_score
                                 + self.saved_weight * saved + self.spotify_weight * spotify,
                                 index=ids, dtype=float)
        return self

    def score_all(self, seeds: pd.Series) -> np.ndarray:
        """Score of every track (rows of ``track_ids_``); the same for any seeds."""
        return self.scores_.to_numpy(dtype=float)

    def score(self, seeds: pd.Series, candidates: pd.Index) -> pd.Series:
        return self.scores_.reindex(candidates).astype(float)

    def explain(self, seeds: pd.Series, track_ids: list[str]) -> dict[str, str]:
        out = {}
        parts = self.parts_.to_numpy(dtype=float, na_value=np.nan)
        for tid, r in self._fitted_rows(track_ids):
            n_pl, top, saved = parts[r, 0], parts[r, 1], parts[r, 2]
            bits = []
            if n_pl > 0:
                bits.append(f"in {int(n_pl)} of your playlists")
            if top > 0:
                bits.append("one of your top tracks")
            if saved > 0:
                bits.append("saved")
            if bits:
                out[tid] = ", ".join(bits)
        return out
