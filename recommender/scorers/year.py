"""Year scorer: how close a track's release year is to the seeds' years.

score = -|year(track) - weighted median year of the seeds| (0 = the same year, higher is
closer). Metadata only, no memberships. Tracks without a release year, and every track when
no seed has one, are NaN (unknown, dropped from their blend).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..library import Library
from .base import ONE_SONG, Scorer, seed_vector


def track_years(library: Library) -> np.ndarray:
    """Release year per track (rows of ``track_ids``), NaN where unknown (Spotify sends
    "0000" for an album whose date it does not know: that is no year 0)."""
    codes, dates = pd.factorize(library.tracks["release_date"])  # few distinct dates: parse those
    year = pd.to_numeric(pd.Series(np.asarray(dates, dtype=object)).astype("string").str[:4],
                         errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    year[~(year > 0)] = np.nan
    codes = np.asarray(codes)
    return np.where(codes >= 0, year[np.maximum(codes, 0)] if len(year) else np.nan, np.nan)


class YearScorer(Scorer):
    """Closeness of the release year to the seeds' weighted median year."""

    name = "year"

    def __init__(self) -> None:
        pass

    def fit(self, library: Library) -> "YearScorer":
        self.track_ids_ = library.track_ids
        self._positions = library.track_positions
        self.years_ = track_years(library)
        return self

    def centre(self, seeds: pd.Series) -> float:
        """Weighted median release year of the seeds (NaN when none has one)."""
        w = seed_vector(seeds, self.track_ids_, self._positions).astype(float)
        ok = (w > 0) & ~np.isnan(self.years_)
        if not ok.any():
            return float("nan")
        y, w = self.years_[ok], w[ok]
        order = np.argsort(y, kind="stable")
        cum = np.cumsum(w[order])
        return float(y[order][np.searchsorted(cum, cum[-1] / 2.0)])

    def score_all(self, seeds: pd.Series) -> np.ndarray:
        return -np.abs(self.years_ - self.centre(seeds))

    def explain(self, seeds: pd.Series, track_ids: list[str]) -> dict[str, str]:
        """How far a track's year is from the seeds' median year, in years: "from 2017, a
        year after your seeds' median year 2016"; with one seed (`similar`: one song, its
        copies) "your seed's year" ("like your seeds" said nothing of how near, and spoke of
        seeds to a person who gave one)."""
        c = self.centre(seeds)
        if np.isnan(c):
            return {}
        w = seed_vector(seeds, self.track_ids_, self._positions)
        one = int(((w > 0) & ~np.isnan(self.years_)).sum()) == 1 or seeds.attrs.get(ONE_SONG, False)
        whose = "your seed's year" if one else "your seeds' median year"
        out = {}
        for tid, r in self._fitted_rows(track_ids):
            if np.isnan(self.years_[r]):
                continue
            year, gap = int(self.years_[r]), int(self.years_[r] - c)
            if gap == 0:
                out[tid] = f"from {year}, {whose}"
            else:
                apart = "a year" if abs(gap) == 1 else f"{abs(gap)} years"
                out[tid] = f"from {year}, {apart} {'after' if gap > 0 else 'before'} {whose} {int(c)}"
        return out
