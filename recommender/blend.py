"""Blending: per-target normalisation of each scorer, weighted mean, contributions, selection.

``blend_scores`` is the core used by both the pipeline and the evaluation; ``select_tracks``
turns blended scores into the published list (threshold, min/max, per-artist cap, pinned).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """0-based ranks of ``values`` (no NaN), ties sharing their mean rank."""
    order = np.argsort(values)  # quicksort: ties are resolved below, so stability is not needed
    ranked = values[order]
    new_group = np.r_[True, ranked[1:] != ranked[:-1]]
    starts = np.flatnonzero(new_group)
    sizes = np.diff(np.r_[starts, len(values)])
    mean_rank = starts + (sizes - 1) / 2.0
    out = np.empty(len(values))
    out[order] = mean_rank[np.cumsum(new_group) - 1]
    return out


def _all_equal(value: float) -> float:
    """The normalised score of candidates that all scored ``value``: 0 when that is 0 (the
    scorer found nothing for any of them, e.g. coverage with no candidate on a seed's album),
    else 0.5 (evidence that does not rank). A scorer that found nothing adds nothing to a
    score, its contribution or its why."""
    return 0.0 if value == 0 else 0.5


def _minmax(valid: np.ndarray) -> np.ndarray:
    """Linear rescale of the finite values onto [0, 1] (all equal: ``_all_equal``); +inf maps
    to 1 and -inf to 0, so one infinite score cannot turn every other score into 0 or NaN."""
    finite = np.isfinite(valid)
    if not finite.any():
        return np.where(valid > 0, 1.0, np.where(valid < 0, 0.0, 0.5))
    lo, hi = valid[finite].min(), valid[finite].max()
    with np.errstate(over="ignore"):  # hi - lo may overflow: that is what the check looks at
        if not np.isfinite(hi - lo):  # finite scores further apart than the largest float: halve first
            valid, lo, hi = valid / 2, lo / 2, hi / 2
        scaled = np.full(len(valid), _all_equal(hi)) if hi == lo else (valid - lo) / (hi - lo)
    return np.where(valid == np.inf, 1.0, np.where(valid == -np.inf, 0.0, scaled))


def _normalise_values(values: np.ndarray, method: str) -> np.ndarray:
    """``normalise`` on a float array (positional, so it is fast on 10^6 string-indexed rows)."""
    out = np.full(len(values), np.nan)
    mask = ~np.isnan(values)
    valid = values[mask]
    if len(valid) == 0:
        if method not in ("rank", "minmax"):
            raise ValueError(f"unknown normalisation {method!r}")
        return out
    lo, hi = valid.min(), valid.max()
    if method == "rank":
        if lo == hi:  # one value, or all equal
            out[mask] = _all_equal(hi)
        else:
            pct = _average_ranks(valid) / (len(valid) - 1)
            # the candidates a scorer found nothing for (0, its lowest) add nothing, as when it
            # found nothing for any: sharing their mean rank showed (and added) part of its
            # weight on each of them, the open-data share on every row of `similar`
            out[mask] = np.where(valid == 0, 0.0, pct) if lo == 0 else pct
    elif method == "minmax":
        out[mask] = _minmax(valid)
    else:
        raise ValueError(f"unknown normalisation {method!r}")
    return out


def normalise(scores: pd.Series, method: str = "rank") -> pd.Series:
    """Map one scorer's scores for one target onto [0, 1]; NaN stays NaN.

    ``rank``: percentile rank (ties share the mean rank, except the zeros of a scorer whose
    lowest score is 0: they map to 0); ``minmax``: linear rescale.
    A constant (all-equal) series carries no ranking signal and maps to 0.5 in both cases, or
    to 0 when it is all zeros (the scorer found nothing: it adds nothing).
    """
    values = scores.to_numpy(dtype=float, na_value=np.nan)
    return pd.Series(_normalise_values(values, method), index=scores.index, dtype=float)


def normalise_columns(scores: np.ndarray, method: str = "rank") -> np.ndarray:
    """``normalise`` of every column of a candidates x scorers array (NaN stays NaN)."""
    if scores.shape[1] == 0:
        return np.full(scores.shape, np.nan)
    return np.column_stack([_normalise_values(np.asarray(scores[:, j], dtype=float), method)
                            for j in range(scores.shape[1])])


def weight_factors(weights, scorers) -> dict[str, float]:
    """Each fitted scorer's ``weight_factor()`` where it is not 1 (artist_walk on few
    playlists). Only scorers with a positive weight are asked (the others may not be fitted);
    a name without a scorer, or a scorer without the method, has factor 1."""
    out = {}
    for name, w in weights.items():
        factor = getattr(scorers.get(name), "weight_factor", None) if float(w) > 0 else None
        if factor is not None and float(factor()) != 1.0:
            out[name] = float(factor())
    return out


def fitted_weights(weights, scorers) -> dict[str, float]:
    """``weights`` times ``weight_factors``: the weights a blend over those scorers uses."""
    factors = weight_factors(weights, scorers)
    return {name: float(w) * factors.get(name, 1.0) for name, w in weights.items()}


def blend_matrix(norm: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The blend formula, for many weight vectors at once: combos x candidates, float64.

    ``norm``: candidates x scorers, normalised (NaN = silent); ``weights``: combos x scorers.
    sum_s w_s n_s / sum_s w_s over the scorers present; NaN where none is. ``tune`` passes
    a block of its weight grid; ``blend_scores`` (build-playlist, evaluate) one combination.
    Every cell is summed scorer by scorer in column order, element-wise: a matrix product's
    summation order depends on its shape, so one combination alone and the same combination
    in a grid could differ in the last bit and rank a near-tie differently. A scorer at
    weight 0 adds exact zeros, so the blend over more columns equals the blend over the
    weighted ones bit for bit, and tune's numbers are evaluate's.
    """
    return blender(norm)(weights)


def blender(norm: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """``blend_matrix(norm, weights)`` as a function of ``weights``: what depends only on
    ``norm`` (each scorer's values in a row of their own, the pattern of present scorers of
    every candidate) is done once, so ``tune`` prepares a target's candidates once for every
    block of its grid. The passes run over cache-sized chunks of combinations x candidates."""
    norm = np.asarray(norm, dtype=float)
    n, k = norm.shape
    if n == 0 or k == 0:
        return lambda weights: np.full((len(weights), n), np.nan)
    present = ~np.isnan(norm)
    values = np.where(present, norm, 0.0).T.copy()  # scorers x candidates: each pass reads one row
    # the denominators: the same sums in the same order, once per pattern of present scorers
    codes = np.zeros(n, dtype=np.int64)
    for s in range(k):
        codes |= present[:, s].astype(np.int64) << s
    if k <= 16:  # a few scorers: a table of every pattern, no sort
        seen = np.zeros(1 << k, dtype=bool)
        seen[codes] = True
        keys, which = np.flatnonzero(seen), (np.cumsum(seen) - 1)[codes]
    else:
        keys, which = np.unique(codes, return_inverse=True)
    cols = min(n, _BLEND_CHUNK)  # candidates per pass: a row of 10^5 would leave the cache
    rows = max(1, _BLEND_CHUNK // cols)  # combinations per pass
    term, den = np.empty((rows, cols)), np.empty((rows, cols))

    def blend(weights: np.ndarray) -> np.ndarray:
        w = np.asarray(weights, dtype=float)
        dens = np.zeros((len(w), len(keys)))
        for s in range(k):
            dens += w[:, s, None] * ((keys >> s) & 1)[None, :]
        dens[~(dens > 0)] = np.nan  # no weighted scorer present: NaN
        out = np.empty((len(w), n))
        for lo in range(0, len(w), rows):
            r = min(rows, len(w) - lo)
            for c0 in range(0, n, cols):
                c = min(cols, n - c0)
                num, t = out[lo:lo + r, c0:c0 + c], term[:r, :c]
                num[:] = 0.0
                for s in range(k):
                    num += np.multiply(w[lo:lo + r, s, None], values[None, s, c0:c0 + c], out=t)
                np.divide(num, np.take(dens[lo:lo + r], which[c0:c0 + c], axis=1, out=den[:r, :c]), out=num)
        return out
    return blend


_BLEND_CHUNK = 1 << 14  # cells per pass of blend_matrix (3 arrays of 128 kB)


def in_blend(weights: Mapping[str, float], names) -> list[str]:
    """Those of ``names`` the blend uses: a weight above 0. A scorer with no weight given is
    not blended (as weight 0), so it has no share of any score: the one rule of the blend, the
    tables' and pages' share columns and `recommend similar`'s legend."""
    return [n for n in names if weights.get(n, 0) > 0]


def blend_scores(scores: pd.DataFrame, weights: Mapping[str, float], method: str = "rank",
                 normalised: dict | None = None) -> tuple[pd.Series, pd.DataFrame]:
    """Blend the columns of ``scores`` (candidates x scorers).

    Each column is normalised, then blended = sum_s w_s * n_s / sum_s w_s over the scorers
    that could score that candidate (NaN ones drop out and the weights renormalise).
    Returns (blended score in [0, 1], contributions with one column per scorer, such that
    the contributions of a row add up to its blended score; NaN where a scorer was silent).
    Candidates no scorer could score get NaN. ``normalised``: a cache of normalised columns
    ((column, method) -> array) kept by a caller that blends the same ``scores`` with other
    weights (`recommend web`'s sliders); each column is normalised alone, so a cached one is
    the very value normalising it again would give.
    """
    n = len(scores)
    contrib = np.full((n, len(scores.columns)), np.nan)
    blended = np.full(n, np.nan)
    counted = set(in_blend(weights, scores.columns))
    used = [(j, c) for j, c in enumerate(scores.columns) if c in counted]
    if used and n:
        norm = np.column_stack([_normalised(scores, c, method, normalised) for _, c in used])
        w = np.array([float(weights[c]) for _, c in used])
        blended = blend_matrix(norm, w[None, :])[0]
        # each scorer's share of blended: w_s n_s / sum of the present weights (same denominator)
        present = ~np.isnan(norm)
        with np.errstate(invalid="ignore", divide="ignore"):
            part = np.where(present, norm, np.nan) * w / (present @ w)[:, None]
        contrib[:, [j for j, _ in used]] = part
    return (pd.Series(blended, index=scores.index, dtype=float),
            pd.DataFrame(contrib, index=scores.index, columns=scores.columns))


def _normalised(scores: pd.DataFrame, column: str, method: str, cache: dict | None) -> np.ndarray:
    """One column of ``scores`` normalised (``normalise``), from ``cache`` when it holds it."""
    if cache is not None and (column, method) in cache:
        return cache[(column, method)]
    values = _normalise_values(scores[column].to_numpy(dtype=float, na_value=np.nan), method)
    if cache is not None:
        cache[(column, method)] = values
    return values


def select_tracks(blended: pd.Series, artist_of: Mapping[str, str] | None = None, *,
                  threshold: float = 0.0, min_tracks: int = 0, max_tracks: int = 50,
                  max_per_artist: int = 0, pinned: Sequence[str] = ()) -> list[str]:
    """Choose the tracks to publish, in playlist order.

    ``blended`` maps track id -> blended score in [0, 1] (NaN = unscored, never chosen).
    ``pinned`` ids come first, in their order (duplicates dropped), every one of them: tracks
    added to the playlist by hand past ``max_tracks`` were dropped, taken off it. They count
    toward ``max_tracks``, ``min_tracks`` and the per-artist cap. Then candidates
    follow by descending score (ties keep the order of ``blended``): every one with
    score >= ``threshold``, or, while fewer than ``min_tracks`` are chosen, the best of the
    rest. At most ``max_tracks`` in all and at most ``max_per_artist`` per artist key from
    ``artist_of`` (track id -> artist key; 0 or a missing mapping = no cap).
    """
    chosen: list[str] = []
    per_artist: Counter[str] = Counter()
    cap = max_per_artist if (max_per_artist and artist_of is not None) else 0

    def key(tid: str) -> str:
        return artist_of.get(tid, tid) if artist_of is not None else tid

    for tid in dict.fromkeys(pinned):
        chosen.append(tid)
        per_artist[key(tid)] += 1
    taken = set(chosen)
    values = blended.to_numpy(dtype=float, na_value=np.nan)
    for tid, value in best_items(blended.index, values, max(4 * max_tracks, 256)):
        if len(chosen) >= max_tracks or (value < threshold and len(chosen) >= min_tracks):
            return chosen
        if tid in taken:
            continue
        if cap:
            k = key(tid)
            if per_artist[k] >= cap:
                continue
            per_artist[k] += 1
        chosen.append(tid)
        taken.add(tid)  # an id listed twice in ``blended`` is chosen once
    return chosen


def best_items(index: pd.Index, values: np.ndarray, chunk: int):
    """(id of ``index``, value) of the non-NaN ``values``, best first, one at a time
    (``best_first``'s order and blocks)."""
    for pos in best_first(values, chunk):
        yield from zip(index[pos].to_numpy(dtype=object), values[pos])


def best_first(values: np.ndarray, chunk: int):
    """Positions of the non-NaN ``values`` by descending value (ties: by position), yielded
    in blocks of about ``chunk``, so that a long ranking is never fully sorted."""
    remaining = np.flatnonzero(~np.isnan(values))
    while len(remaining):
        vals = values[remaining]
        if len(remaining) > chunk:
            kth = np.partition(vals, len(vals) - chunk)[len(vals) - chunk]
            sel = vals >= kth  # every tie of the chunk-th best is in this block
        else:
            sel = np.ones(len(remaining), dtype=bool)
        block = remaining[sel]
        yield block[np.lexsort((block, -values[block]))]
        remaining = remaining[~sel]


# ----- artist mix -----------------------------------------------------------------------

def group_ranks(values: np.ndarray, codes: np.ndarray, tiebreak: np.ndarray | None = None) -> np.ndarray:
    """0-based rank of each entry among the entries of its group (``codes`` along the last
    axis), by descending value; NaN last; ties by ``tiebreak`` (ascending; default: position),
    so that the ranks agree with the ranking that follows. A negative code is a group of its
    own (rank 0). Works on one row or on a combos x candidates matrix."""
    v = np.asarray(values, dtype=float)
    c = np.broadcast_to(np.asarray(codes, dtype=np.int64), v.shape)
    n = v.shape[-1]
    pos = np.broadcast_to(np.arange(n), v.shape)
    tie = pos if tiebreak is None else np.broadcast_to(np.asarray(tiebreak), v.shape)
    c = np.where(c < 0, int(c.max(initial=0)) + 1 + pos, c)  # no artist: a group of one
    order = np.lexsort((tie, -np.where(np.isnan(v), -np.inf, v), c), axis=-1)
    sc = np.take_along_axis(c, order, axis=-1)
    start = np.where(np.concatenate([np.ones(sc.shape[:-1] + (1,), bool), sc[..., 1:] != sc[..., :-1]], axis=-1),
                     pos, 0)
    ranks = np.empty(v.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, pos - np.maximum.accumulate(start, axis=-1), axis=-1)
    return ranks


def seed_artist_share(seed_codes: np.ndarray, seed_weights: np.ndarray, n_codes: int) -> np.ndarray:
    """Each artist code's share of the seed weight (seeds without an artist count in the
    total, not in any share); zeros when no seed has a positive finite weight."""
    codes = np.asarray(seed_codes, dtype=np.int64)
    w = np.asarray(seed_weights, dtype=float)
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    total = w.sum()
    share = np.zeros(max(int(n_codes), 0))
    has = codes >= 0
    if total > 0 and has.any():
        share += np.bincount(codes[has], weights=w[has], minlength=len(share))[:len(share)] / total
    return share


@dataclass(frozen=True)
class ArtistMix:
    """Lower a candidate's score once its artist has had its share of the list.

    For a list of ``length`` tracks (the playlist's ``blend.max_tracks``; an evaluation's
    top N), a candidate that is the (r+1)-th best of its artist among the candidates has its
    blended score multiplied by ``(1 - strength) ** max(0, r + 1 - length * share)``, with
    ``share`` the artist's share of the seed weight: an artist with a fifth of the seeds has a
    fifth of the list at full score, and each further track of it is lowered a step more; an
    artist no seed has (and a track without one) is lowered from its first track. Only the
    candidate's own rank among its artist's tracks counts, so a track never gains from having
    less evidence. ``strength`` 0 turns it off (``blend.artist_mix``).
    """

    strength: float = 0.0

    @classmethod
    def from_settings(cls, settings) -> "ArtistMix":
        return cls(float(settings["blend"].get("artist_mix", 0.0)))

    @property
    def active(self) -> bool:
        return self.strength > 0

    def factors(self, values: np.ndarray, codes: np.ndarray, share: np.ndarray, length: int,
                tiebreak: np.ndarray | None = None) -> np.ndarray:
        """The multiplier in (0, 1] of each candidate (``values``: blended scores, one row or
        combos x candidates; ``codes``: the candidates' artist codes, -1 = none; ``share``:
        ``seed_artist_share`` over the same codes; ``length``: the list's length; ``tiebreak``:
        how the ranking breaks ties, ascending, as ``group_ranks``)."""
        v = np.asarray(values, dtype=float)
        if not self.active or v.shape[-1] == 0:
            return np.ones(v.shape)
        codes = np.asarray(codes, dtype=np.int64)
        excess = np.maximum(0.0, group_ranks(v, codes, tiebreak) + 1 - _full_score_tracks(codes, share, length))
        return (1.0 - self.strength) ** excess

    def top(self, values: np.ndarray, codes: np.ndarray, share: np.ndarray, k: int,
            floor: float | np.ndarray | None = None, *, length: int | None = None,
            tiebreak: np.ndarray | None = None) -> "TopLists":
        """``positions``: those of the ``k`` best mixed scores (a list of length ``k``, also when
        a row has fewer candidates: then all of them) of every row of ``values`` (combos x
        candidates, NaN = never, ranked last), best first; with the mix off, of the raw scores
        (``codes`` and ``share`` may then be None). ``length``: the list the mix's factors are
        those of (default ``k``; an evaluation ranks further than its top N). ``tiebreak``: one
        distinct value per candidate, ties ascending by it (default: by position), as
        ``factors`` takes it. Only each row's best ``max(8k, 64)`` raw scores (by value, ties
        by ``tiebreak``: the order the artist ranks count in) are mixed, which is exact: a
        candidate's rank in its artist depends only on better ones, and a row whose k-th mixed
        score does not beat every mixed score left out could have (at most the lowest raw
        score kept, or 0 when that is negative: a factor below 1 raises a negative score) is
        redone with four times as many best scores, and so on up to all of them.

        ``sure``, per row: no candidate left out of ``values`` could have entered its list, nor
        moved a listed one. Without ``floor`` none was left out: every row is sure. With
        ``floor`` (per row or for all, the highest raw score of candidates left out, none
        negative), the rows whose k-th mixed score beats it are (an artist's rank counts only
        better raw scores)."""
        v = np.where(np.isnan(values), -np.inf, np.asarray(values, dtype=float))
        n = v.shape[1]
        length = k if length is None else length
        k = min(k, n)
        tb = None if tiebreak is None else np.asarray(tiebreak)  # None: by position
        limit = None
        if self.active:  # how many tracks of its artist a candidate may follow at full score
            codes = np.asarray(codes, dtype=np.int64)
            limit = _full_score_tracks(codes, share, length)
        out = np.zeros((len(v), k), dtype=np.intp)
        kth = np.full(len(v), -np.inf)
        rows, m = np.arange(len(v)), min(n, max(8 * k, 64))
        while k and len(rows):
            top, row_kth, done = self._head(v[rows], m, k, tb, codes, limit)
            out[rows[done]], kth[rows[done]] = top[done], row_kth[done]
            rows, m = rows[~done], min(n, 4 * m)
        if floor is None:
            return TopLists(out, np.ones(len(v), dtype=bool), kth)
        return TopLists(out, (kth > floor) & (k >= length), kth)

    def _head(self, v: np.ndarray, m: int, k: int, tb: np.ndarray | None, codes: np.ndarray | None,
              limit: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``top`` of rows ``v`` (no NaN) from the best ``m`` raw scores of each: (positions,
        the k-th mixed score, whether that is exact: it beats every score left out; always
        when ``m`` covers every candidate)."""
        n = v.shape[1]
        if m < n:
            part = np.argpartition(-v, m - 1, axis=1)[:, :m]
        else:
            part = np.broadcast_to(np.arange(n), v.shape).copy()
        # by value, ties by tiebreak (the order ranks use): by tiebreak, then stably by value
        if tb is None:
            part.sort(axis=1)
        else:
            part = np.take_along_axis(part, np.argsort(tb[part], axis=1, kind="stable"), axis=1)
        pv = np.take_along_axis(v, part, axis=1)
        keyed = np.argsort(-pv, axis=1, kind="stable")
        part = np.take_along_axis(part, keyed, axis=1)
        pv = np.take_along_axis(pv, keyed, axis=1)
        if limit is not None:
            excess = np.maximum(0.0, _sorted_group_ranks(codes[part]) + 1 - limit[part])
            mixed = _times(pv, (1.0 - self.strength) ** excess)  # ``factors``, to the bit
        else:
            mixed = pv
        order = _order(mixed, part if tb is None else tb[part], k)
        top = np.take_along_axis(part, order, axis=1)
        kth = np.take_along_axis(mixed, order[:, -1:], axis=1)[:, 0]
        if m >= n:
            return top, kth, np.ones(len(v), dtype=bool)
        cut = pv[:, -1]  # no score left out is higher (-inf: only never-candidates are left out)
        bound = np.where(np.isfinite(cut) & (cut < 0), 0.0, cut)
        return top, kth, kth > bound  # equal: a tie with a score left out


def _full_score_tracks(codes: np.ndarray, share: np.ndarray, length: int) -> np.ndarray:
    """Per candidate, ``length`` times its artist's share of the seeds (``share`` by artist
    code; 0 without an artist): how many of its artist's tracks keep their full score in a
    list of ``length`` (``ArtistMix.factors`` and ``top`` alike)."""
    s = np.zeros(codes.shape)
    has = (codes >= 0) & (codes < len(share))
    s[has] = np.asarray(share, dtype=float)[codes[has]]
    return float(length) * s


class TopLists(NamedTuple):
    """What ``ArtistMix.top`` returns: positions (rows x k) and, per row, whether it is sure
    and the k-th mixed score (-inf: fewer than k candidates that rank)."""

    positions: np.ndarray
    sure: np.ndarray
    kth: np.ndarray


def _order(values: np.ndarray, tiebreak: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` of ``np.lexsort((tiebreak, -values), axis=1)`` (rows x columns, no
    NaN): a plain sort of the values, and the lexsort for the rows where two of the first
    ``k + 1`` sorted values are equal (where the plain sort's order of ties is not the
    tiebreak's)."""
    order = np.argsort(-values, axis=1)
    head = np.take_along_axis(values, order[:, :k + 1], axis=1)
    tied = np.flatnonzero((head[:, 1:] == head[:, :-1]).any(axis=1))
    if len(tied):
        order[tied] = np.lexsort((tiebreak[tied], -values[tied]), axis=1)
    return order[:, :k]


def _sorted_group_ranks(codes: np.ndarray) -> np.ndarray:
    """``group_ranks`` of rows already in ranking order (best first): each entry's number of
    earlier entries with its code (a negative code: a group of its own, rank 0)."""
    r, m = codes.shape
    pos = np.broadcast_to(np.arange(m), codes.shape)
    c = np.where(codes < 0, int(codes.max(initial=0)) + 1 + pos, codes)
    order = np.argsort(c * m + pos, axis=1)  # by code, then position: all distinct
    sc = np.take_along_axis(c, order, axis=1)
    start = np.where(np.concatenate([np.ones((r, 1), bool), sc[:, 1:] != sc[:, :-1]], axis=1), pos, 0)
    ranks = np.empty(codes.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, pos - np.maximum.accumulate(start, axis=1), axis=1)
    return ranks


def _times(values: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """``values * factors`` where ``values`` is finite, -inf elsewhere (a factor that
    underflowed to 0 must not turn -inf into NaN)."""
    ok = np.isfinite(values)
    return np.where(ok, np.where(ok, values, 0.0) * factors, -np.inf)
