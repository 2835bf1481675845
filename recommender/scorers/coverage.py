"""Coverage scorer: how much of an artist's, and an album's, known tracks the seeds already hold.

For a group g (an artist, or an album) with ``n_g`` tracks in the fitted library, ``c_g`` of
them among the seeds, and ``k_g`` their seed weight (scaled so that the mean seed counts 1;
``k_g = c_g`` when every seed weighs the same):

    cover(g) = k_g / max(n_g - c_g + smoothing, 1)

is the number of seeds per track of g the seeds do not hold yet: four seeds by an artist
with six known tracks make each of the other two a strong candidate; four seeds by an artist
with two hundred make each of the others a weak one. A track scores

    artist_weight * max over its artists of cover(artist) + album_weight * cover(its album)

``per="seeds"`` scores a group by its share of the seeds instead (no catalogue count).
Only the catalogue counts ``n_g`` and the seeds are used, never a track's own playlist
memberships or listening counts, and the tracks of one album score alike: the artist/album
analogue of TF-IDF's idf (a seed's artist says more when the artist has few tracks).

**Shipped** at weight 0.4 with ``per="seeds"`` and the album part only (the share of the
seeds on the candidate's album: no catalogue count). With ``per="unseen"``, on both benchmarks
``n_g`` can only count tracks that sit in some playlist of the data set, so a small ``n_g``
also means "few other playlists hold this album": the shortcut PERSONA.md removes, one level
up (README, "The personal-library benchmark"). That form's benchmark gain comes from ``n_g``,
so it is not evidence that it helps a real library, where ``n_g`` counts the tracks you and
discovery know of. Tracks with neither an artist nor an album score 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..library import Library
from ..wording import and_list
from .base import Scorer, seed_vector


def _cover(k: np.ndarray, c: np.ndarray, n: np.ndarray, smoothing: float) -> np.ndarray:
    return k / np.maximum(n - c + smoothing, 1.0)


class CoverageScorer(Scorer):
    """Seeds per not-yet-held track of the candidate's artist and album (module docstring)."""

    name = "coverage"

    def __init__(self, artist_weight: float = 1.0, album_weight: float = 1.0, smoothing: float = 0.0,
                 per: str = "unseen") -> None:
        self.artist_weight = artist_weight
        self.album_weight = album_weight
        self.smoothing = smoothing
        self.per = per

    def fit(self, library: Library) -> "CoverageScorer":
        ta, self.artist_ids_ = library.track_artist_matrix()
        ta = sp.csr_matrix(ta, dtype=np.float64)
        ta.data[:] = 1.0
        self.track_artist_ = ta
        self.artist_tracks_ = np.asarray(ta.sum(axis=0)).ravel()
        codes, albums = pd.factorize(library.tracks["album_id"].astype("string"), use_na_sentinel=True)
        self.album_codes_ = np.asarray(codes, dtype=np.int64)
        self.album_ids_ = np.asarray(albums, dtype=object)
        has = self.album_codes_ >= 0
        self.album_tracks_ = np.bincount(self.album_codes_[has], minlength=len(self.album_ids_)).astype(np.float64)
        self.track_ids_ = library.track_ids
        self._positions = library.track_positions
        self._library = library
        self._albums = library.tracks["album_name"] if "album_name" in library.tracks else None
        return self

    def seed_counts(self, seeds: pd.Series) -> dict[str, np.ndarray]:
        """Per artist and per album: ``k_*`` the seed weight (the mean seed weighs 1) and
        ``c_*`` the number of seed tracks; ``n`` the number of seeds."""
        w = seed_vector(seeds, self.track_ids_, self._positions).astype(np.float64)
        pos = w > 0
        if pos.any():
            w /= w[pos].mean()
        has = self.album_codes_ >= 0
        out = {"n": float(pos.sum())}
        for kind, v in (("k", w), ("c", pos.astype(np.float64))):
            out[f"{kind}_artist"] = np.asarray(self.track_artist_.T @ v).ravel()
            out[f"{kind}_album"] = np.bincount(self.album_codes_[has], weights=v[has], minlength=len(self.album_ids_))
        return out

    def group_scores(self, k: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(score per artist, score per album) from ``seed_counts``, before weighting: ``cover``
        with ``per="unseen"``, the group's share of the seeds with ``per="seeds"`` (no
        catalogue count)."""
        if self.per == "seeds":
            total = max(k["n"], 1.0)
            return k["k_artist"] / total, k["k_album"] / total
        return (_cover(k["k_artist"], k["c_artist"], self.artist_tracks_, self.smoothing),
                _cover(k["k_album"], k["c_album"], self.album_tracks_, self.smoothing))

    def score_all(self, seeds: pd.Series) -> np.ndarray:
        """Score of every track (rows of ``track_ids_``); 0 for a track whose artists and
        album the seeds do not touch, or that has neither (no evidence is 0, never NaN, so a
        track without an artist cannot climb by dropping out of the blend); NaN everywhere when
        no seed is known."""
        k = self.seed_counts(seeds)
        if k["n"] == 0:
            return np.full(len(self.track_ids_), np.nan)
        art, albv = self.group_scores(k)
        per_track = self.track_artist_.multiply(art[np.newaxis, :]).tocsr()
        best_artist = np.asarray(per_track.max(axis=1).todense()).ravel() if per_track.shape[1] else \
            np.zeros(per_track.shape[0])
        alb = np.zeros(len(self.album_codes_))
        has = self.album_codes_ >= 0
        alb[has] = albv[self.album_codes_[has]]
        return self.artist_weight * best_artist + self.album_weight * alb

    def explain(self, seeds: pd.Series, track_ids: list[str]) -> dict[str, str]:
        """"your seeds hold 3 of the 11 tracks by Portishead and all 4 tracks of “Dummy”" when
        the seeds hold some of the track's artist or album (each part only when its weight is
        positive: the shipped album-only form names the album alone); "your seed is one of the
        4 tracks of “Dummy”" for a single seed."""
        k = self.seed_counts(seeds)
        held_artist, held_album = k["c_artist"], k["c_album"]
        art_score, _ = self.group_scores(k)
        names = self._artist_names()
        out = {}
        for tid, r in self._fitted_rows(track_ids):
            parts = []
            held = [(art_score[c], c) for c in self.track_artist_[r].indices if held_artist[c] > 0] \
                if self.artist_weight > 0 else []  # only the parts that score
            if held:
                _, c = max(held)  # the artist that scores the track
                count = held_artist[c]
                aid = self.artist_ids_[c]
                parts.append(_of(count, self.artist_tracks_[c], f"by {names.get(aid, aid)}"))
            a = self.album_codes_[r]
            if a >= 0 and held_album[a] > 0 and self.album_tracks_[a] > 1 and self.album_weight > 0:
                album = self._albums.iloc[r] if self._albums is not None else None
                parts.append(_of(held_album[a], self.album_tracks_[a],
                                 f"of “{album}”" if isinstance(album, str) and album else "of its album"))
            if parts:
                # one seed (`similar`, a one-track playlist): "your seed is one of the 13 tracks of …"
                out[tid] = ("your seed is " + and_list(p.replace("1 of the", "one of the", 1) for p in parts)
                            if k["n"] == 1 else "your seeds hold " + and_list(parts))
        return out


def _of(count: float, total: float, what: str) -> str:
    """"3 of the 11 tracks by X" / "all 4 tracks of Y"."""
    count, total = int(round(count)), int(total)
    return f"all {total} tracks {what}" if count >= total else f"{count} of the {total} tracks {what}"
