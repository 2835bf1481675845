"""The scorer contract (shared by every scorer and checked by one contract test suite).

- ``__init__`` only stores parameters (keyword arguments with defaults).
- ``fit(library)`` learns from a Library and returns ``self``; learned attributes end in ``_``.
- ``score(seeds, candidates)`` returns a float Series indexed exactly like ``candidates``:
  higher is better, NaN where the scorer cannot say anything (never a made-up 0).
  ``seeds`` is a Series of positive weights indexed by track id (unknown ids are ignored);
  ``candidates`` is a pandas Index of track ids.
- ``explain(seeds, track_ids)`` (optional) returns a short human reason per track id.
"""

from __future__ import annotations

import pandas as pd

from ..library import Library


class Scorer:
    """Base class. Subclasses set ``name`` and implement ``fit`` and ``score``."""

    name: str = "scorer"

    def fit(self, library: Library) -> "Scorer":
        raise NotImplementedError

    def score(self, seeds: pd.Series, candidates: pd.Index) -> pd.Series:
        raise NotImplementedError

    def explain(self, seeds: pd.Series, track_ids: list[str]) -> dict[str, str]:
        return {}

    def get_params(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"
