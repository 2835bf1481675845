"""Artist-walk scorer: RP3beta random walk one level up, over artists and playlists.

The walk goes seeds -> their artists -> the playlists those artists are in -> the artists of
those playlists. With ``A`` the binary artists x columns matrix (columns: playlists, plus the
saved/top pseudo-playlists when ``extra_sources``), every transition probability is raised to
``alpha`` and the arriving artist's score is divided by its degree (number of columns) to the
power ``beta`` (RP3beta, Paudel et al. 2017): popular artists need more support.

    s_a   = (share of the seed weight on artist a) ** alpha
    u_p   = sum_a s_a * (A[a, p] / deg(a)) ** alpha
    art_b = sum_p u_p * (A[p, b] / deg(p)) ** alpha / deg(b) ** beta

A track gets the mean score of its artists. With few columns the walk has little to go on,
so its blend weight is shrunk by ``m / (m + shrink)`` (``weight_factor``; m = the number of
columns it walks over), the support shrinkage of neighbourhood methods (Koren 2008): a
ten-playlist library gets about a fifth of the weight, the benchmark's 333-playlist pool nearly
all of it. Only sparse mat-vecs, never an artists x artists
matrix. Every term is non-negative, so a track gains nothing from having no evidence: an artist
no walk reaches scores 0, and so does a track without an artist (a NaN would drop out of the
blend and let it keep its other scores at full weight); tracks the scorer was not fitted on are NaN. Measured on the
benchmark's dev split, alone: p@10 0.381 with alpha 0.5, beta 0.5 (PROTOCOL.md's anchor); the
shipped beta 1 blends better (README's benchmark table).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..library import Library
from .base import ONE_SONG, Scorer, seed_vector


def _pow_rows(m: sp.csr_matrix, alpha: float) -> sp.csr_matrix:
    """Rows turned into transition probabilities (entry / row sum) raised to ``alpha``."""
    m = sp.csr_matrix(m, dtype=np.float64, copy=True)
    total = np.asarray(m.sum(axis=1)).ravel()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    m.data = np.power(m.data / total[rows], alpha)
    return m


def own_artist_reason(artist: str, one_seed: bool = False) -> str:
    """The walk's "why" for a track by a seed's own artist: "by X, one of your seeds' artists"."""
    return f"by {artist}, " + ("your seed's artist" if one_seed else "one of your seeds' artists")


class ArtistWalkScorer(Scorer):
    """RP3beta over the artists x playlists graph (see the module docstring)."""

    name = "artist_walk"

    def __init__(self, alpha: float = 0.5, beta: float = 1.0, extra_sources: bool = True,
                 counts: bool = False, shrink: float = 0.0) -> None:
        self.alpha = alpha
        self.shrink = shrink
        self.counts = counts
        self.beta = beta
        self.extra_sources = extra_sources

    def fit(self, library: Library) -> "ArtistWalkScorer":
        """Learn the two transition matrices ``P_ap_`` (artists -> columns) and ``P_pa_``
        (columns -> artists, penalised by the arriving artist's degree)."""
        X, _ = library.track_playlist_matrix(extra_sources=self.extra_sources)
        ta, self.artist_ids_ = library.track_artist_matrix()
        A = sp.csr_matrix(ta.T @ X)
        m = X.shape[1]
        self.weight_factor_ = m / (m + self.shrink) if self.shrink > 0 else 1.0
        deg = np.diff(A.indptr).astype(np.float64)  # columns the artist appears in
        if not self.counts:
            A.data[:] = 1.0  # the artist appears in the column
        self.P_ap_ = _pow_rows(A, self.alpha)
        penalty = np.where(deg > 0, 1.0 / np.power(np.maximum(deg, 1.0), self.beta), 0.0)
        self.P_pa_ = sp.csr_matrix(_pow_rows(A.T.tocsr(), self.alpha) @ sp.diags(penalty))
        self.track_artist_ = sp.csr_matrix(ta, dtype=np.float64)
        counts = np.asarray(ta.sum(axis=1)).ravel()
        self.track_artist_mean_ = sp.diags(1.0 / np.maximum(counts, 1.0)) @ self.track_artist_
        self.track_ids_ = library.track_ids
        self._positions = library.track_positions
        self._library = library
        return self

    def weight_factor(self) -> float:
        """``m / (m + shrink)`` for the m columns (playlists, saved, top ranges) of the fitted
        library; 1 with ``shrink`` 0."""
        return self.weight_factor_

    def _walk(self, seeds: pd.Series) -> np.ndarray | None:
        """Walk score of every artist, or None when no seed is known."""
        s = seed_vector(seeds, self.track_ids_, self._positions).astype(np.float64)
        total = s.sum()
        if total <= 0:
            return None
        start = np.power(np.asarray(self.track_artist_.T @ (s / total)).ravel(), self.alpha)
        u = np.asarray(self.P_ap_.T @ start).ravel()
        return np.asarray(self.P_pa_.T @ u).ravel()

    def artist_scores(self, seeds: pd.Series) -> np.ndarray:
        """Walk score of every artist (columns of the track x artist matrix); 0 without seeds."""
        art = self._walk(seeds)
        return np.zeros(len(self.artist_ids_)) if art is None else art

    def score_all(self, seeds: pd.Series) -> np.ndarray:
        """Score of every track (rows of ``track_ids_``): mean walk score of its artists;
        0 for tracks without an artist (the walk reaches nothing: no evidence, never NaN);
        NaN everywhere when no seed is known."""
        art = self._walk(seeds)
        if art is None:
            return np.full(len(self.track_ids_), np.nan)
        return np.asarray(self.track_artist_mean_ @ art).ravel()

    def explain(self, seeds: pd.Series, track_ids: list[str]) -> dict[str, str]:
        """Names the track's artist when the walk from the seeds reaches it (``own_artist_reason``
        when that is a seed's own artist)."""
        art = self.artist_scores(seeds)
        names = self._artist_names()
        s = seed_vector(seeds, self.track_ids_, self._positions).astype(np.float64)
        own = set(np.flatnonzero(np.asarray(self.track_artist_.T @ s).ravel() > 0).tolist())
        one = int((s > 0).sum()) == 1 or seeds.attrs.get(ONE_SONG, False)  # `similar`: one song (its copies)
        out = {}
        for tid, r in self._fitted_rows(track_ids):
            row = self.track_artist_[r]
            best = [(art[c], c) for c in row.indices if art[c] > 0]
            if best:
                c = max(best)[1]
                aid = self.artist_ids_[c]
                if c in own:  # the seed's own artist: it does not "share playlists" with itself
                    out[tid] = own_artist_reason(names.get(aid, aid), one)
                else:
                    out[tid] = f"{names.get(aid, aid)} shares playlists with " + ("your seed's artist" if one else "your seeds' artists")
        return out
