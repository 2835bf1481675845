"""Blending: per-target normalisation of each scorer, weighted mean, contributions.

``blend_scores`` is the core used by both the pipeline and the evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def normalise(scores: pd.Series, method: str = "rank") -> pd.Series:
    """Map one scorer's scores for one target onto [0, 1]; NaN stays NaN.

    ``rank``: percentile rank (ties share the mean rank); ``minmax``: linear rescale.
    A constant (all-equal) series maps to 0.5 in both cases: it carries no ranking signal.
    """
    valid = scores.dropna()
    out = pd.Series(np.nan, index=scores.index, dtype=float)
    if valid.empty:
        return out
    if method == "rank":
        if len(valid) == 1 or valid.nunique() == 1:
            out[valid.index] = 0.5
        else:
            ranks = valid.rank(method="average")
            out[valid.index] = (ranks - 1) / (len(valid) - 1)
    elif method == "minmax":
        lo, hi = valid.min(), valid.max()
        out[valid.index] = 0.5 if hi == lo else (valid - lo) / (hi - lo)
    else:
        raise ValueError(f"unknown normalisation {method!r}")
    return out


def blend_scores(scores: pd.DataFrame, weights: Mapping[str, float], method: str = "rank"
                 ) -> tuple[pd.Series, pd.DataFrame]:
    """Blend the columns of ``scores`` (candidates x scorers).

    Each column is normalised, then blended = sum_s w_s * n_s / sum_s w_s over the scorers
    that could score that candidate (NaN ones drop out and the weights renormalise).
    Returns (blended score in [0, 1], contributions with one column per scorer, such that
    the contributions of a row add up to its blended score; NaN where a scorer was silent).
    Candidates no scorer could score get NaN.
    """
    cols = [c for c in scores.columns if weights.get(c, 0) > 0]
    norm = pd.DataFrame({c: normalise(scores[c], method) for c in cols}, index=scores.index)
    w = pd.Series({c: float(weights[c]) for c in cols}, dtype=float)
    present = norm.notna()
    wsum = present.mul(w, axis=1).sum(axis=1).replace(0.0, np.nan)
    contrib = norm.mul(w, axis=1).div(wsum, axis=0)
    blended = contrib.sum(axis=1, min_count=1)
    return blended, contrib.reindex(columns=list(scores.columns))
