"""Year scorer: how close a track's release year is to the seeds' years.

With ``bandwidth`` h > 0 (the default, 1 year) the score is a kernel density over the seeds'
years: score(y) = sum_s w_s * exp(-|y - year(s)| / h) / sum_s w_s, so a playlist of the 1980s
and the 2010s favours both decades, not the 1990s between them. With h = 0 it is the distance
to the seeds' weighted median year, -|y - median| (the form before 0.3.16). Higher is closer.
Metadata only, no memberships. Tracks without a release year, and every track when no seed
has one, are NaN (unknown, dropped from their blend).
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
    """Closeness of the release year to the seeds' years: a kernel density over them
    (``bandwidth`` in years), or with ``bandwidth`` 0 the distance to their weighted median."""

    name = "year"

    def __init__(self, bandwidth: float = 1.0) -> None:
        self.bandwidth = bandwidth

    def fit(self, library: Library) -> "YearScorer":
        self.track_ids_ = library.track_ids
        self._positions = library.track_positions
        self.years_ = track_years(library)
        self._known = ~np.isnan(self.years_)
        # the few distinct years, and each dated track's place among them: the density is
        # worked out once per year, not once per track
        self._grid, self._at = np.unique(self.years_[self._known], return_inverse=True)
        return self

    def _seed_years(self, seeds: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Years and weights of the seeds that have a year."""
        w = seed_vector(seeds, self.track_ids_, self._positions).astype(float)
        ok = (w > 0) & self._known
        return self.years_[ok], w[ok]

    def centre(self, seeds: pd.Series) -> float:
        """Weighted median release year of the seeds (NaN when none has one)."""
        return _weighted_median(*self._seed_years(seeds))

    def score_all(self, seeds: pd.Series) -> np.ndarray:
        if not self.bandwidth > 0:
            return -np.abs(self.years_ - self.centre(seeds))
        y, w = self._seed_years(seeds)
        out = np.full(len(self.years_), np.nan)
        if len(y):
            near = np.exp(-np.abs(self._grid[:, None] - y[None, :]) / self.bandwidth)
            out[self._known] = (near @ w)[self._at] / w.sum()
        return out

    def explain(self, seeds: pd.Series, track_ids: list[str]) -> dict[str, str]:
        """Where a track's year stands among the seeds' years. With one seed (`similar`: one
        song, its copies) how far from it: "from 2017, a year after your seed's year 2016". With
        the density (``bandwidth`` > 0) how many seeds share its year ("from 2017, the year of 3
        of your 12 seeds"), else how far the nearest seed's year is ("from 2009, 2 years before your
        nearest seed's year 2011"); with the median (``bandwidth`` 0) how far from it ("from
        2017, a year after your seeds' median year 2016")."""
        y, w = self._seed_years(seeds)
        if not len(y):
            return {}
        one = len(y) == 1 or seeds.attrs.get(ONE_SONG, False)
        by_median = one or not self.bandwidth > 0
        c = _weighted_median(y, w) if by_median else None
        out = {}
        for tid, r in self._fitted_rows(track_ids):
            if np.isnan(self.years_[r]):
                continue
            year = int(self.years_[r])
            if by_median:
                out[tid] = _far(year, int(c), "your seed's year" if one else "your seeds' median year")
                continue
            gap = np.abs(y - year)
            if gap.min() == 0:
                out[tid] = f"from {year}, the year of {int((gap == 0).sum())} of your {len(y)} seeds"
            else:  # the earlier of two seeds as near
                out[tid] = _far(year, int(y[gap == gap.min()].min()), "your nearest seed's year")
        return out


def _weighted_median(y: np.ndarray, w: np.ndarray) -> float:
    """The weighted median of the years ``y`` (NaN when there are none)."""
    if not len(y):
        return float("nan")
    order = np.argsort(y, kind="stable")
    cum = np.cumsum(w[order])
    return float(y[order][np.searchsorted(cum, cum[-1] / 2.0)])


def _far(year: int, other: int, whose: str) -> str:
    """"from 2017, a year after <whose> 2016"; "from 2016, <whose>" for the same year."""
    gap = year - other
    if gap == 0:
        return f"from {year}, {whose}"
    apart = "a year" if abs(gap) == 1 else f"{abs(gap)} years"
    return f"from {year}, {apart} {'after' if gap > 0 else 'before'} {whose} {other}"
