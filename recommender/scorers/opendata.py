"""The open-data scorer: what other people's listening (ListenBrainz) says about a track.

Reads the frames the discovery sources fill (``similar_tracks``, ``similar_artists``,
``recordings``; see ``schema.py``). Three terms, each scaled to [0, 1] by its maximum over the
library, then weighted:

- *track*: ``sum_s w_s * sim(s, t)`` over the seed tracks ``s`` whose similar recordings
  include ``t`` (labs similar-recordings score, 1 = the seed's most similar);
- *artist*: ``sum_a W_a * sim(a, artist(t))`` over the seed artists ``a`` (``W_a``: summed
  weight of the seeds by ``a``) whose similar artists include one of ``t``'s artists (matched
  by name: a library track by a similar artist counts too);
- *listens*: ``log1p(listen count) / log1p(max)``, a weak prior (``listen_weight``).

Every term is a sum of non-negative evidence, so a track never scores higher for having less
evidence (PROTOCOL.md). A track without any evidence scores 0 (not NaN: NaN would let the
blend renormalise it above tracks with weak evidence); when the library has no open data at
all the scorer says nothing (NaN everywhere) and drops out of the blend. No learned model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..library import Library
from .base import Scorer


def _key(name: str) -> str:
    from ..enrich.musicbrainz import normalise_name
    return normalise_name(str(name or ""))


class OpenDataScorer(Scorer):
    name = "opendata"

    def __init__(self, track_weight: float = 1.0, artist_weight: float = 0.5, listen_weight: float = 0.1) -> None:
        self.track_weight = track_weight
        self.artist_weight = artist_weight
        self.listen_weight = listen_weight

    def fit(self, library: Library) -> "OpenDataScorer":
        f = library.frames
        self.track_ids_ = library.track_ids
        n = len(self.track_ids_)
        self.names_ = f["tracks"]["name"].astype(object).fillna("").to_numpy()
        sim_t, sim_a, recs = f["similar_tracks"], f["similar_artists"], f["recordings"]
        self.has_data_ = bool(len(sim_t) or len(sim_a) or recs["listen_count"].notna().any())
        # seed track x candidate track
        s_rows = library.track_positions(sim_t["seed_track_id"].astype(str))
        c_rows = library.track_positions(sim_t["track_id"].astype(str))
        ok = (s_rows >= 0) & (c_rows >= 0)
        score = sim_t["score"].astype("Float64").fillna(0).to_numpy(dtype=float)
        self.track_sim_ = sp.csr_matrix((score[ok], (s_rows[ok], c_rows[ok])), shape=(n, n))
        # seed artist (Spotify id, a column of the track x artist matrix) -> candidate tracks
        ta, artist_cols = library.track_artist_matrix()
        col_of = {str(a): i for i, a in enumerate(artist_cols)}
        self.track_artist_ = ta
        key_rows: dict[str, list[int]] = {}
        for row, names in enumerate(f["tracks"]["artist_names"]):
            for nm in list(names):
                key_rows.setdefault(_key(nm), []).append(row)
        rows, cols, vals = [], [], []
        self.seed_artist_names_ = {}
        for a, a_name, other, s in zip(sim_a["seed_artist_id"].astype(str), sim_a["seed_artist_name"].astype(object),
                                       sim_a["artist_name"].astype(object), sim_a["score"].astype("Float64").fillna(0)):
            c = col_of.get(a)
            if c is None:
                continue
            self.seed_artist_names_[c] = str(a_name or "")
            for r in key_rows.get(_key(other), []):
                rows.append(c)
                cols.append(r)
                vals.append(float(s))
        m = sp.csr_matrix((vals, (rows, cols)), shape=(len(artist_cols), n))
        m.sum_duplicates()
        self.artist_sim_ = m  # duplicates (one seed, two similar names of one track) add up: still evidence
        listens = np.zeros(n)
        r = library.track_positions(recs["track_id"].astype(str))
        lc = recs["listen_count"].astype("Float64").fillna(0).to_numpy(dtype=float)
        listens[r[r >= 0]] = np.maximum(listens[r[r >= 0]], lc[r >= 0])
        top = np.log1p(listens.max()) if listens.max() > 0 else 1.0
        self.listens_ = np.log1p(listens) / top
        self.listen_counts_ = listens
        return self

    def _terms(self, seeds: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(self.track_ids_)
        w = np.zeros(n)
        pos = np.asarray(self.track_ids_.get_indexer(seeds.index.astype(str)))
        ok = pos >= 0
        np.add.at(w, pos[ok], seeds.to_numpy(dtype=float)[ok])
        track = np.asarray(self.track_sim_.T @ w).ravel()
        artist_w = np.asarray(self.track_artist_.T @ w).ravel()
        artist = np.asarray(self.artist_sim_.T @ artist_w).ravel()
        return track, artist, artist_w

    def score_all(self, seeds: pd.Series) -> np.ndarray:
        n = len(self.track_ids_)
        if not self.has_data_:
            return np.full(n, np.nan)
        track, artist, _ = self._terms(seeds)
        out = np.zeros(n)
        for weight, term in ((self.track_weight, track), (self.artist_weight, artist)):
            top = term.max(initial=0.0)
            if weight > 0 and top > 0:
                out += weight * term / top
        if self.listen_weight > 0:
            out += self.listen_weight * self.listens_
        return out

    def score(self, seeds: pd.Series, candidates: pd.Index) -> pd.Series:
        values = self.score_all(seeds)
        pos = np.asarray(self.track_ids_.get_indexer(candidates))
        out = np.where(pos >= 0, values[np.maximum(pos, 0)], np.nan)
        return pd.Series(out, index=candidates, dtype=float)

    def explain(self, seeds: pd.Series, track_ids: list[str]) -> dict[str, str]:
        """"often played with <seed track>" / "similar to <seed artist> on ListenBrainz" /
        "popular on ListenBrainz"; the strongest piece of evidence of each track."""
        if not self.has_data_ or not track_ids:
            return {}
        track, artist, artist_w = self._terms(seeds)
        t_top, a_top = track.max(initial=0.0) or 1.0, artist.max(initial=0.0) or 1.0
        w = pd.Series(0.0, index=self.track_ids_)
        w[seeds.index[seeds.index.isin(self.track_ids_)]] = seeds[seeds.index.isin(self.track_ids_)].to_numpy(dtype=float)
        out = {}
        for tid in track_ids:
            r = self.track_ids_.get_indexer([tid])[0]
            if r < 0:
                continue
            t_part = self.track_weight * track[r] / t_top
            a_part = self.artist_weight * artist[r] / a_top
            if t_part > 0 and t_part >= a_part:
                col = self.track_sim_[:, r].toarray().ravel() * w.to_numpy()
                out[tid] = f"often played with {self.names_[int(col.argmax())]} on ListenBrainz"
            elif a_part > 0:
                col = self.artist_sim_[:, r].toarray().ravel() * artist_w
                out[tid] = f"similar to {self.seed_artist_names_.get(int(col.argmax()), 'your artists')} on ListenBrainz"
            elif self.listen_counts_[r] > 0:
                out[tid] = "popular on ListenBrainz"
        return out
