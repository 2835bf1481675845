"""The scorer contract (shared by every scorer and checked by one contract test suite).

- ``__init__`` only stores parameters (keyword arguments with defaults).
- ``fit(library)`` learns from a Library and returns ``self``; learned attributes end in ``_``.
- ``score(seeds, candidates)`` returns a float Series indexed exactly like ``candidates``:
  higher is better, NaN where the scorer cannot say anything (never a made-up 0).
  ``seeds`` is a Series of positive weights indexed by track id (unknown ids are ignored);
  ``candidates`` is a pandas Index of track ids.
- ``explain(seeds, track_ids)`` (optional) returns a short human reason per track id; seeds whose
  ``attrs[ONE_SONG]`` is true are the copies of one recording (`similar`'s), said as one seed.
- ``weight_factor()`` (optional, default 1) multiplies the scorer's blend weight for the
  library it was fitted on, for a scorer that knows its evidence is thin there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..library import Library

ONE_SONG = "one_song"  # seeds.attrs key: the seeds are the copies of one recording (`similar`'s)


class Scorer:
    """Base class. Subclasses set ``name`` and implement ``fit`` and ``score_all`` (a score per
    fitted track, ``track_ids_`` order; ``score`` aligns it to the candidates) or ``score``."""

    name: str = "scorer"

    def fit(self, library: Library) -> "Scorer":
        raise NotImplementedError

    def score_all(self, seeds: pd.Series):
        raise NotImplementedError

    def score(self, seeds: pd.Series, candidates: pd.Index) -> pd.Series:
        """``score_all`` aligned to ``candidates`` (NaN for a track the scorer was not fitted on)."""
        return pd.Series(self.score_all(seeds), index=self.track_ids_).reindex(candidates).astype(float)

    def explain(self, seeds: pd.Series, track_ids: list[str]) -> dict[str, str]:
        return {}

    def weight_factor(self) -> float:
        """Multiplier on this scorer's blend weight for the library it was fitted on (1: full)."""
        return 1.0

    def _fitted_rows(self, track_ids) -> list[tuple[str, int]]:
        """(track id, row) of each id the scorer was fitted on (``_positions``), in order."""
        rows = self._positions(list(track_ids))
        return [(tid, int(r)) for tid, r in zip(track_ids, rows) if r >= 0]

    def _artist_names(self) -> pd.Series:
        """Artist id -> name, from the fitted library (``_library``: its artists, and the names its
        tracks credit an artist the artists frame lacks by: an id is never shown for a name)."""
        return self._library.artist_names()

    def get_params(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def seed_vector(seeds: pd.Series, index: pd.Index, positions=None) -> np.ndarray:
    """Dense float32 vector over ``index`` with the (positive) seed weights; unknown ids dropped,
    and so are weights that are not finite positive numbers (a NaN or inf weight would turn
    every score NaN).

    ``positions``: optional faster id -> row function for ``index`` (``Library.track_positions``).
    """
    v = np.zeros(len(index), dtype=np.float32)
    if len(seeds):
        ids = pd.Index(seeds.index.astype(str))
        pos = positions(ids) if positions is not None else index.get_indexer(ids)
        ok = pos >= 0
        w = np.asarray(seeds.to_numpy(dtype=float, na_value=np.nan), dtype=np.float32)[ok]
        np.add.at(v, pos[ok], np.where(np.isfinite(w) & (w > 0), w, np.float32(0)))
    return v
