"""Release scorer: is a track released the way the seeds' tracks are (single, compilation, album)?

Each track has a release kind from its names only: a **single** when its title and its album's
title are the same song (``titles.normalise_titles``: "Song (feat. X)" on the album "Song -
Radio Edit" is one), a **compilation** track when the album's name says so ("Greatest Hits",
"The Best of ...", "Collection", "Anthology", ...), an **album** track otherwise. A track scores
the seeds' (weighted) share of its kind, smoothed:

    score(track) = (seed weight of its kind + smoothing) / (seed weight + 3 * smoothing)

so a playlist built from singles favours singles, and one built from albums favours album
tracks. The score is a straight line of the seeds' share with a positive slope, so the blend's
per-target normalisation (minmax or rank) sees the same scores for any smoothing above 0: it
keeps the share defined, and changes no ranking. Metadata only: no memberships, popularity or catalogue counts, so it cannot reward
a track for having less evidence (PROTOCOL.md); on the persona benchmark's candidates its
correlation with the number of world playlists holding a track is -0.01. Tracks without an
album name, and every track when no seed has one, are NaN (unknown, dropped from their blend).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..library import Library
from ..titles import normalise_titles, track_titles
from .base import Scorer, seed_vector

KINDS = ("single", "compilation", "album")
_SAID = ("a single or title track", "from a compilation", "an album track")
# words that make an album a compilation; not "gold", "years" or "complete", which name as
# many studio albums as compilations ("Mellow Gold", "Dog Years", "... (Complete Edition)")
_COMPILATION = (r"(?i)\b(?:greatest hits|best of|the very best|hits|collection|essential|anthology"
                r"|compilation|classics|definitive|singles)\b")
_SINGLE_MARK = r"(?i)\s+-\s+single\s*$"  # Spotify's own "Song - Single" album name


def release_kinds(library: Library) -> np.ndarray:
    """Per track (rows of ``track_ids``): 0 single, 1 compilation, 2 album track, -1 unknown
    (no album name)."""
    # each distinct name and album name is read once (the Library's codes; the titles normalised
    # once per Library, shared with the pipeline's dedupe), then taken per track
    codes, titles = track_titles(library)
    a_codes, albums = library.text_codes("tracks", "album_name")
    title = pc.take(titles, pa.array(codes))
    album_title = pc.take(normalise_titles(pc.replace_substring_regex(albums, _SINGLE_MARK, "")), pa.array(a_codes))
    same = pc.and_(pc.equal(title, album_title), pc.not_equal(title, "")).to_numpy(zero_copy_only=False)
    single = same | pc.match_substring_regex(albums, _SINGLE_MARK).to_numpy(zero_copy_only=False)[a_codes]
    compilation = pc.match_substring_regex(albums, _COMPILATION).to_numpy(zero_copy_only=False)[a_codes]
    kind = np.where(single, 0, np.where(compilation, 1, 2))
    return np.where(pc.equal(albums, "").to_numpy(zero_copy_only=False)[a_codes], -1, kind)


class ReleaseScorer(Scorer):
    """The seeds' share of the candidate's release kind (module docstring)."""

    name = "release"

    def __init__(self, smoothing: float = 1.0) -> None:
        self.smoothing = smoothing

    def fit(self, library: Library) -> "ReleaseScorer":
        self.track_ids_ = library.track_ids
        self._positions = library.track_positions
        self.kinds_ = release_kinds(library)
        return self

    def seed_weights(self, seeds: pd.Series) -> np.ndarray | None:
        """The seeds' weight of each kind (``KINDS`` order); None when no seed has a kind."""
        w = seed_vector(seeds, self.track_ids_, self._positions).astype(float)
        ok = (w > 0) & (self.kinds_ >= 0)
        if not ok.any():
            return None
        return np.bincount(self.kinds_[ok], weights=w[ok], minlength=len(KINDS))

    def shares(self, seeds: pd.Series) -> np.ndarray | None:
        """Smoothed seed share of each kind (``KINDS`` order); None when no seed has a kind."""
        per = self.seed_weights(seeds)
        if per is None:
            return None
        return (per + self.smoothing) / (per.sum() + len(KINDS) * self.smoothing)

    def score_all(self, seeds: pd.Series) -> np.ndarray:
        share = self.shares(seeds)
        if share is None:
            return np.full(len(self.kinds_), np.nan)
        return np.where(self.kinds_ >= 0, share[np.maximum(self.kinds_, 0)], np.nan)

    def explain(self, seeds: pd.Series, track_ids: list[str]) -> dict[str, str]:
        per = self.seed_weights(seeds)  # "most": more than half of the seeds' own weight, unsmoothed
        out = {}
        for tid, r in self._fitted_rows(track_ids):
            k = self.kinds_[r]
            if per is not None and k >= 0 and per[k] > per.sum() / 2:
                out[tid] = f"{_SAID[k]}, like most of your seeds"
        return out
