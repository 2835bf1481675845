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
all, or no seed is a track of the library, the scorer says nothing (NaN everywhere) and drops
out of the blend. No learned model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..library import Library, normalise_name
from ..wording import named
from .base import Scorer, seed_vector


def _key(name: str) -> str:
    return normalise_name(str(name or ""))


def _rows_by_artist_key(library: Library, wanted: set[str]) -> dict[str, list[int]]:
    """Track rows per normalised artist name, for the names in ``wanted`` only (each distinct
    name is normalised once)."""
    import pyarrow.compute as pc
    lists = library.list_arrow("tracks", "artist_names")
    flat = pc.list_flatten(lists)
    out: dict[str, list[int]] = {}
    if len(flat) == 0 or not wanted:
        return out
    parents = np.asarray(pc.list_parent_indices(lists).to_numpy(zero_copy_only=False))
    enc = pc.dictionary_encode(flat)
    codes = np.asarray(enc.indices.to_numpy(zero_copy_only=False))
    keys = [_key(n) for n in enc.dictionary.to_pylist()]
    hit = np.array([k in wanted for k in keys], dtype=bool)
    sel = np.flatnonzero(hit[codes])
    for code, row in zip(codes[sel], parents[sel]):
        out.setdefault(keys[code], []).append(int(row))
    return out


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
        key_rows = _rows_by_artist_key(library, {_key(n) for n in sim_a["artist_name"].astype(object)})
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
        top = np.log1p(listens.max(initial=0.0)) if listens.max(initial=0.0) > 0 else 1.0  # 0 tracks: no max
        self.listens_ = np.log1p(listens) / top
        self.listen_counts_ = listens
        return self

    def _terms(self, seeds: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(track term, artist term, seed weight per artist, seed weight per track)."""
        w = seed_vector(seeds, self.track_ids_).astype(float)  # non-negative: evidence only adds
        track = np.asarray(self.track_sim_.T @ w).ravel()
        artist_w = np.asarray(self.track_artist_.T @ w).ravel()
        artist = np.asarray(self.artist_sim_.T @ artist_w).ravel()
        return track, artist, artist_w, w

    def score_all(self, seeds: pd.Series) -> np.ndarray:
        n = len(self.track_ids_)
        if not self.has_data_:
            return np.full(n, np.nan)
        track, artist, _, w = self._terms(seeds)
        if not w.any():  # no seed it knows: nothing to say (the contract), not the listen prior alone
            return np.full(n, np.nan)
        out = np.zeros(n)
        for weight, term in ((self.track_weight, track), (self.artist_weight, artist)):
            top = term.max(initial=0.0)
            if weight > 0 and top > 0:
                out += weight * term / top
        if self.listen_weight > 0:
            out += self.listen_weight * self.listens_
        return out

    def explain(self, seeds: pd.Series, track_ids: list[str]) -> dict[str, str]:
        """"often played with <seed track>" / "similar to <seed artist> on ListenBrainz" /
        "popular on ListenBrainz"; the strongest piece of evidence of each track."""
        if not self.has_data_ or not track_ids:
            return {}
        track, artist, artist_w, w = self._terms(seeds)
        t_top, a_top = track.max(initial=0.0) or 1.0, artist.max(initial=0.0) or 1.0
        by_candidate = self.track_sim_.T.tocsr()
        artist_by_candidate = self.artist_sim_.T.tocsr()
        out = {}
        for tid, r in zip(track_ids, np.asarray(self.track_ids_.get_indexer(list(track_ids)))):
            if r < 0:
                continue
            t_part = self.track_weight * track[r] / t_top
            a_part = self.artist_weight * artist[r] / a_top
            if t_part > 0 and t_part >= a_part:
                row = by_candidate[r]
                best = row.indices[int(np.argmax(row.data * w[row.indices]))]
                out[tid] = f"often played with {named(self.names_[best])} on ListenBrainz"
            elif a_part > 0:
                row = artist_by_candidate[r]
                best = row.indices[int(np.argmax(row.data * artist_w[row.indices]))]
                out[tid] = f"similar to {named(self.seed_artist_names_.get(int(best), 'your artists'))} on ListenBrainz"
            elif self.listen_weight > 0 and self.listen_counts_[r] > 0:
                out[tid] = "popular on ListenBrainz"
        return out
