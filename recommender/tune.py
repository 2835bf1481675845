"""Blend-weight tuning: cross-validated grid search over hidden-track splits.

Every fold hides another seeded share of the playlists' tracks, fits every scorer once and
normalises each scorer's scores per target; the blend of every weight combination is then
one array pass per scorer (``blend.blend_matrix``, the formula ``blend_scores`` uses, to the
bit), so the whole grid costs about as much as one evaluation. ``write_weights`` stores the chosen weights in the user's
YAML file, keeping its comments and other keys.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .artists import mix_inputs
from .blend import ArtistMix, blend_matrix, blender, normalise_columns, weight_factors
from .dataset import hide_random
from .errors import ConfigError, DataError, NotEnoughData, UsageError, make_dirs
from .evaluate import Progress, fit_scorers, iter_targets, ndcg, precision
from .library import Library
from .scorers import Scorer, blend_weights, make_scorers
from .scorers.audio import scores_nothing
from .store import atomic_write_text, now_iso

log = logging.getLogger(__name__)

Hider = Callable[[Library, int], pd.DataFrame]  # (library, fold) -> hidden pairs


def weight_grid(names: Sequence[str], grid: Sequence[float], fixed: Mapping[str, float] | None = None
                ) -> np.ndarray:
    """All combinations of ``grid`` values (not all zero) for the ``names`` not in ``fixed``;
    the scorers of ``fixed`` keep their weight in every row (a constant column), never alone
    (unless nothing is searched): tune cannot measure them, and that row would write 0 to
    every searched scorer. combos x names.

    A blend divides by the sum of the weights present, so a multiple of a combination ranks
    alike and is kept once, but only while the fixed weights are all 0: with a fixed part f,
    (c w.n + f n_f) / (c sum w + f) weighs the fixed scorers 1/c as much, another ranking."""
    fixed = dict(fixed or {})
    tuned = [i for i, n in enumerate(names) if n not in fixed]
    base = np.asarray([float(fixed.get(n, 0.0)) for n in names])
    drop_multiples = not base.any()
    seen, rows = set(), []
    for combo in itertools.product(*[list(grid)] * len(tuned)):
        w = base.copy()
        w[tuned] = combo
        if w.sum() <= 0 or (tuned and not any(combo)):
            continue
        key = tuple(np.round(w / w.sum(), 6)) if drop_multiples else tuple(w)
        if key not in seen:
            seen.add(key)
            rows.append(w)
    return np.vstack(rows) if rows else np.zeros((0, len(names)))


@dataclass
class TuneResult:
    """Mean and spread over folds of p@N and nDCG@N for every weight combination tried."""

    names: list[str]
    combos: np.ndarray  # combos x names
    precision: np.ndarray  # folds x combos
    ndcg: np.ndarray  # folds x combos
    top_n: int
    defaults: dict[str, float]
    seconds: float = 0.0
    targets: list[int] = field(default_factory=list)
    fixed: dict[str, float] = field(default_factory=dict)  # scorers at their configured weight in every row

    @property
    def tuned_weights(self) -> dict[str, float]:
        """The best weights of the scorers tune searched (not those of ``fixed``): what
        `tune --write` may write."""
        return {n: w for n, w in self.best_weights.items() if n not in self.fixed}

    def _index(self, weights: Mapping[str, float]) -> int:
        """The row of ``weights``: the very weights if tried (what evaluate ranks with them,
        to the bit), else a multiple of them (the same ranking up to rounding, while no fixed
        scorer weighs: see ``weight_grid``); -1 if none."""
        w = np.asarray([float(weights.get(n, 0.0)) for n in self.names])
        exact = np.flatnonzero(np.all(self.combos == w, axis=1))
        if len(exact):
            return int(exact[0])
        if any(self.fixed.values()):  # a multiple weighs the fixed scorers otherwise
            return -1
        w = w / w.sum() if w.sum() > 0 else w
        c = self.combos / self.combos.sum(axis=1, keepdims=True)
        hit = np.flatnonzero(np.all(np.isclose(c, w, atol=1e-6), axis=1))
        return int(hit[0]) if len(hit) else -1

    @property
    def best_index(self) -> int:
        """Highest mean p@N; ties go to the higher mean nDCG@N, then to the current weights (a tie
        is no reason to change them: the first combination of the grid, e.g. year alone, was
        written by `tune --write` over weights exactly as good), then the first combination."""
        p, g = self.precision.mean(axis=0), self.ndcg.mean(axis=0)
        best = int(np.lexsort((-g, -p))[0])
        current = self._index(self.defaults)
        if current >= 0 and p[current] >= p[best] - 1e-12 and g[current] >= g[best] - 1e-12:
            return current
        return best

    @property
    def best_weights(self) -> dict[str, float]:
        return {n: float(w) for n, w in zip(self.names, self.combos[self.best_index])}

    @property
    def within_spread(self) -> bool:
        """The best weights beat the current ones (tried as they are) by no more than the spread
        over folds of either, with more than one fold: nothing shows they are better, so
        `tune --write` keeps the current ones (a weekly tune would otherwise change them on noise)."""
        current = self.summary(self.defaults)
        if current is None or self.precision.shape[0] < 2 or self.best_index == self._index(self.defaults):
            return False
        best, n = self.summary(self.best_weights), self.top_n
        return best[f"p@{n}"] - current[f"p@{n}"] <= max(current[f"p@{n}_std"], best[f"p@{n}_std"])

    def summary(self, weights: Mapping[str, float]) -> dict[str, float] | None:
        """Mean and standard deviation over folds for ``weights`` (None if not in the grid)."""
        i = self._index(weights)
        if i < 0:
            return None
        n = self.top_n
        return {f"p@{n}": float(self.precision[:, i].mean()), f"p@{n}_std": float(self.precision[:, i].std()),
                f"ndcg@{n}": float(self.ndcg[:, i].mean()), f"ndcg@{n}_std": float(self.ndcg[:, i].std())}

    def per_fold(self, weights: Mapping[str, float]) -> dict[str, list[float]]:
        """Each fold's p@N and nDCG@N for ``weights`` (empty if not in the grid): the first
        fold's are what ``recommend evaluate`` gives, as it hides what the first fold hides."""
        i = self._index(weights)
        if i < 0:
            return {}
        n = self.top_n
        return {f"p@{n}_folds": [float(v) for v in self.precision[:, i]],
                f"ndcg@{n}_folds": [float(v) for v in self.ndcg[:, i]]}

    def to_dict(self) -> dict:
        """The result for --json and the table, its metrics to 4 decimals as `evaluate`'s (it gave
        0.5666666666666665)."""
        def row(weights: Mapping[str, float]) -> dict:
            metrics = {k: round(v, 4) if isinstance(v, float) else [round(x, 4) for x in v]
                       for k, v in {**(self.summary(weights) or {}), **self.per_fold(weights)}.items()}
            return {"weights": dict(weights), **metrics}
        return {"folds": int(self.precision.shape[0]), "combinations": int(len(self.combos)),
                "targets": self.targets, "seconds": round(self.seconds, 2), "fixed": dict(self.fixed),
                "best": row(self.best_weights), "defaults": row(self.defaults), "within_spread": self.within_spread}


BLEND_CELLS = 1 << 21  # combinations x candidates blended at once (float64: 16 MB; below malloc's
# mmap threshold, so the blocks reuse memory instead of faulting in fresh pages each time)


SHORTLIST_MARGIN = 1e-9  # far above the rounding of a weighted mean of values in [0, 1]
SHORTLIST_LEVELS = (40, 20)  # a shortlist's cells: each score in fortieths, else twentieths


class _Ranker:
    """The top ``top_n`` of candidates ``norm`` (candidates x scorers) for blocks of weight
    combinations: the blend, the artist mix, NaN as never (value -1)."""

    def __init__(self, norm: np.ndarray, codes, share, mix: ArtistMix, top_n: int) -> None:
        self.norm, self.codes, self.share, self.mix, self.top_n = norm, codes, share, mix, top_n
        self._blend = None

    def subset(self, kept: np.ndarray) -> "_Ranker":
        """The same ranking over the candidates ``kept`` only (a shortlist)."""
        return _Ranker(self.norm[kept], None if self.codes is None else self.codes[kept], self.share, self.mix,
                       self.top_n)

    def top(self, weights: np.ndarray, floor: float | None):
        """(positions, their blended values, sure, the k-th mixed score): see ``ArtistMix.top``."""
        if self._blend is None:
            self._blend = blender(self.norm)  # blend_matrix(norm, ...), prepared once for every block
        blended = self._blend(weights)  # combos x candidates
        # NaN (no scorer) ranks as never; the mix's factors are a top_n list's (off: the raw top_n)
        if floor is not None and np.all(floor == -np.inf):  # nothing that could rank was left out
            floor = None
        top, sure, kth = self.mix.top(blended, self.codes, self.share, self.top_n, floor=floor)
        blended[np.isnan(blended)] = -1.0
        return top, np.take_along_axis(blended, top, axis=1), sure, kth


class Cells:
    """A target's candidates in cells (the same scorers present, each score in the same
    ``levels``-th): a cell's blend lies between the blends of its members' lowest and highest
    scores (a blend is a weighted mean: it grows with every score). ``ok``: the scores lie in
    [0, 1] (normalised: the mix only lowers them), there are more than ``width`` candidates and
    the cells are few (at most half as many as the candidates; else bounding them costs about
    what it saves): the finest of ``SHORTLIST_LEVELS`` that gives so few is taken."""

    def __init__(self, norm: np.ndarray, width: int) -> None:
        self.n = n = len(norm)
        self.ok = n > width and not (np.nanmin(norm, initial=0.0) < 0 or np.nanmax(norm, initial=0.0) > 1)
        for levels in SHORTLIST_LEVELS if self.ok else ():
            cells = np.where(np.isnan(norm), -1, np.minimum((np.nan_to_num(norm) * levels).astype(np.int64),
                                                            levels - 1))
            if (levels + 1) ** norm.shape[1] < 1 << 62:  # one number per cell: a 1-d unique
                key = (cells + 1) @ (levels + 1) ** np.arange(norm.shape[1], dtype=np.int64)
                _, which, counts = np.unique(key, return_inverse=True, return_counts=True)
            else:
                _, which, counts = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
            if len(counts) <= n // 2:
                break
        else:
            self.ok = False
        if self.ok:
            self.which, self.counts = which.ravel(), counts
            self.low = np.full((len(counts), norm.shape[1]), np.inf)
            self.high = np.full((len(counts), norm.shape[1]), -np.inf)
            np.minimum.at(self.low, self.which, norm)  # NaN stays NaN: a cell's members share their scorers
            np.maximum.at(self.high, self.which, norm)

    def highs(self, combos: np.ndarray) -> np.ndarray:
        """The highest blend of each cell for each of ``combos`` (-inf: never ranked)."""
        return np.nan_to_num(blend_matrix(self.high, combos), nan=-np.inf)

    def reaching(self, highs: np.ndarray, bar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the candidates of the cells some row of ``highs`` reaches its ``bar`` in, the
        highest blend a candidate left out could have per row, plus the margin)."""
        needed = (highs >= bar[:, None]) & np.isfinite(highs)
        kept_cells = needed.any(axis=0)
        floor = np.where(kept_cells[None, :], -np.inf, highs).max(axis=1, initial=-np.inf)
        return np.flatnonzero(kept_cells[self.which]), floor + SHORTLIST_MARGIN


def shortlists(norm: np.ndarray | Cells, combos: np.ndarray, width: int, chunk: int = 64):
    """(combination rows, kept candidates or None = all, floor per row) for chunks of ``combos``.

    ``norm``: the candidates' normalised scores, or their ``Cells``. For each combination, the
    cells whose lowest blends hold ``width`` candidates set a bar, and a cell whose highest
    blend is below it is out of that combination's raw top ``width``; a chunk keeps the
    candidates some combination of it needs. ``floor`` is the highest blend a left-out
    candidate could have, per combination: ``ArtistMix.top`` says which lists it settles
    (the others are ranked again over the cells that reach their k-th mixed score, and then
    whole). A combination that needs most candidates (ties) is ranked whole on its own, so it
    does not widen its chunk's list. A candidate without any weighted scorer ranks as never
    and may be left out. Without ``Cells.ok`` every candidate is kept."""
    cells = norm if isinstance(norm, Cells) else Cells(norm, width)
    for c0 in range(0, len(combos), chunk):
        rows = np.arange(c0, min(c0 + chunk, len(combos)))
        if not cells.ok:
            yield rows, None, None
            continue
        lows = np.nan_to_num(blend_matrix(cells.low, combos[rows]), nan=-np.inf)  # combos x cells
        highs = cells.highs(combos[rows])
        bar = _bar(lows, cells.counts, width)
        wide = ((highs >= bar[:, None]) & np.isfinite(highs)) @ cells.counts > cells.n // 2  # ties (a scorer
        if wide.any():  # alone that gives most candidates 0): ranked whole
            yield rows[wide], None, None
        if not wide.all():
            yield rows[~wide], *cells.reaching(highs[~wide], bar[~wide])


def _bar(lows: np.ndarray, counts: np.ndarray, width: int) -> np.ndarray:
    """Per row of ``lows`` (combos x cells, -inf: never), the highest value such that the cells
    whose ``lows`` reach it hold ``width`` candidates (``counts`` per cell), less the margin;
    -inf when all the finite cells hold fewer. Every cell holds a candidate, so the ``width``
    best cells of a row hold that many: only those are sorted (the value the count crosses
    ``width`` at is the same whichever of a tie's cells the partition keeps)."""
    if lows.shape[1] > width:
        best = np.argpartition(-lows, width - 1, axis=1)[:, :width]
    else:
        best = np.broadcast_to(np.arange(lows.shape[1]), lows.shape)
    values = np.take_along_axis(lows, best, axis=1)
    order = np.argsort(-values, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    held = np.cumsum(np.where(np.isfinite(values), counts[np.take_along_axis(best, order, axis=1)], 0), axis=1)
    bar = np.take_along_axis(values, np.argmax(held >= width, axis=1)[:, None], axis=1)[:, 0]
    return np.where(held[:, -1] >= width, bar - SHORTLIST_MARGIN, -np.inf)


def _again(cells: Cells, whole: _Ranker, weights: np.ndarray, kth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions, their blended values) of the lists a shortlist did not settle (the artist
    mix pushed their k-th pick, ``kth``, below what a candidate left out could have): over
    the cells that reach that score (mixed scores are at most the raw ones, so no other
    candidate could have made the list), and the lists that does not settle either over
    every candidate. The very lists ranking every candidate gives (``ArtistMix.top``'s floor)."""
    top, vals = np.zeros((len(weights), whole.top_n), dtype=np.intp), np.zeros((len(weights), whole.top_n))
    done = np.zeros(len(weights), dtype=bool)
    again = np.flatnonzero(np.isfinite(kth) & (kth > 0))
    if len(again):
        kept, floor = cells.reaching(cells.highs(weights[again]), kth[again] - SHORTLIST_MARGIN)
        if len(kept) <= cells.n // 2:
            ranker = whole.subset(kept)
            t, v, sure, _ = ranker.top(weights[again], floor)
            if sure.any():  # (sure: a list of top_n, as many as every candidate gives)
                top[again[sure]], vals[again[sure]], done[again[sure]] = kept[t[sure]], v[sure], True
    if not done.all():
        top[~done], vals[~done] = whole.top(weights[~done], None)[:2]
    return top, vals


def top_lists(norm: np.ndarray, codes, share, mix: ArtistMix, combos: np.ndarray, top_n: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """(positions, their blended values, -1 for never) of the ``top_n`` best candidates of
    ``norm`` (candidates x scorers, normalised; ``codes`` and ``share``: the artist mix's
    inputs, None with the mix off) after the artist ``mix``, for every row of ``combos``:
    combos x top_n (fewer columns when there are fewer candidates), best first, ties by
    position. Exactly what blending and mixing every candidate for each combination alone
    gives, computed over shortlists of candidates."""
    k = min(top_n, len(norm))
    top, vals = np.zeros((len(combos), k), dtype=np.intp), np.zeros((len(combos), k))
    whole = _Ranker(norm, codes, share, mix, top_n)  # every candidate: the rows a shortlist cannot settle
    width = max(8 * top_n, 64)
    cells = Cells(norm, width)
    for rows, kept, floor in shortlists(cells, combos, width):
        ranker = whole if kept is None else whole.subset(kept)
        step = max(1, BLEND_CELLS // max(len(ranker.norm), 1))  # combinations per block: bounded memory
        for lo in range(0, len(rows), step):
            block = rows[lo:lo + step]
            t, v, sure, kth = ranker.top(combos[block], None if floor is None else floor[lo:lo + step])
            if kept is not None:
                t = kept[t]
                if not sure.all():  # a candidate left out might have made these lists: rank them again
                    if t.shape[1] < k:  # fewer kept than the list: no row of them is sure
                        t, v = np.zeros((len(block), k), dtype=np.intp), np.zeros((len(block), k))
                    t[~sure], v[~sure] = _again(cells, whole, combos[block[~sure]], kth[~sure])
            top[block], vals[block] = t, v
    return top, vals


def _fold_metrics(visible: Library, hidden: pd.DataFrame, fitted: Mapping[str, Scorer], combos: np.ndarray,
                  names: list[str], method: str, top_n: int,
                  tick: Callable[[], None] | None = None, mix: ArtistMix = ArtistMix()
                  ) -> tuple[np.ndarray, np.ndarray, int]:
    """Macro p@N and nDCG@N of every combination on one fold (each scorer's weight times
    its ``weight_factor()`` on this fold's library, and the artist ``mix``, as every blend
    does). Each combination ranks exactly as ``evaluate`` ranks it on the same hiding: the
    same float64 blend (``blend_matrix``), the same ties (``iter_targets``' tiebreak, by
    position here), so a combination's numbers are evaluate's with those weights."""
    factors = weight_factors({n: 1.0 for n in names}, fitted)
    combos = combos * np.asarray([factors.get(n, 1.0) for n in names])
    p_sum = np.zeros(len(combos))
    n_sum = np.zeros(len(combos))
    n_targets = 0
    for t in iter_targets(visible, hidden, fitted):  # evaluate's tiebreak
        # candidates in the tiebreak's order: ties broken by position are evaluate's ties
        # (top_positions), and never follow the frame order (a playlist's tracks sit together)
        perm = np.argsort(t.tiebreak, kind="stable")
        norm = normalise_columns(t.scores[names].to_numpy(dtype=float)[perm], method)
        rel = np.asarray(t.candidates.isin(t.relevant))[perm]
        t_codes, share = mix_inputs(visible, t.rows[perm], t.seeds) if mix.active else (None, None)
        top, vals = top_lists(norm, t_codes, share, mix, combos, top_n)
        hits = rel[top] & (vals > -0.5)  # combos x k (k < top_n: fewer candidates; still / top_n)
        n_rel = np.full(hits.shape[0], len(t.relevant))
        p_sum += precision(hits, top_n)
        n_sum += ndcg(hits, n_rel, top_n)
        n_targets += 1
        if tick:
            tick()
    if n_targets == 0:
        raise NotEnoughData("no tuning target has visible tracks left (evaluate.hide_fraction too high?)")
    return p_sum / n_targets, n_sum / n_targets, n_targets


def tune(library: Library, settings, folds: int = 3, grid: Sequence[float] | None = None, seed: int = 42,
         progress: Progress | None = None, scorers: Mapping[str, Scorer] | None = None,
         hider: Hider | None = None, top_n: int | None = None, fixed: Sequence[str] | None = None,
         searched_at_0: Sequence[str] = ()) -> TuneResult:
    """Cross-validated grid search of the blend weights.

    Fold ``f`` hides ``hider(library, f)`` (default: ``hide_random`` with
    ``evaluate.hide_fraction``, ``evaluate.min_tracks`` and seed ``seed + f``). ``grid``
    defaults to ``tune.grid``; every scorer of ``make_scorers(settings)`` with a positive
    weight is in the blend (a scorer at 0 joins once you give it a weight) and gets a weight
    from the grid (each one multiplies it by its length), but those named in ``fixed``
    (default ``tune.fixed``): they keep their configured weight in every combination.
    ``scorers`` given (the benchmark's ``--tune --scorers``): exactly those are in the blend,
    and all of them are searched unless ``fixed`` is given too. ``searched_at_0``: scorers at
    weight 0 searched all the same (those an earlier ``tune --write`` turned off:
    ``jobs.tuned_off``).
    """
    t0 = time.perf_counter()
    grid = list(settings["tune"]["grid"] if grid is None else grid)
    if not grid or any(g < 0 for g in grid):
        raise ConfigError(f"tune.grid must be a non-empty list of non-negative numbers, got {grid!r}")
    top_n = int(settings["evaluate"]["top_n"] if top_n is None else top_n)
    method = settings["blend"]["normalisation"]
    configured = blend_weights(settings)
    if scorers is None:  # the scorers that are on: a positive weight (all of them if none has one)
        fixed = settings["tune"]["fixed"] if fixed is None else fixed
        built = make_scorers(settings, also=searched_at_0)
        scorers = {n: sc for n, sc in built.items()
                   if configured.get(n, 0.0) > 0 or (n in searched_at_0 and n not in fixed)} or built
        if "audio" in scorers and len(scorers) > 1 and scores_nothing(library):
            # silent for every track: each of its weights ranks alike, and --write would set it to the
            # grid's first (0) on no evidence; it keeps the weight your config gives it
            del scorers["audio"]
    scorers = dict(scorers)
    names = list(scorers)
    defaults = {n: configured.get(n, 0.0) for n in names}
    kept = {n: defaults[n] for n in names if n in (fixed or ())}  # in the blend at their weight, not searched
    combos = weight_grid(names, grid, kept)
    default_row = np.asarray([defaults[n] for n in names])
    if default_row.sum() > 0 and not np.all(combos == default_row, axis=1).any():
        combos = np.vstack([combos, default_row])  # your weights themselves, not a multiple of them
    if hider is None:
        ev = settings["evaluate"]

        def hider(lib: Library, fold: int) -> pd.DataFrame:
            return hide_random(lib, fraction=ev["hide_fraction"], seed=seed + fold, min_tracks=ev["min_tracks"])

    hiddens = [hider(library, f) for f in range(folds)]
    total = sum(int(h["playlist_id"].nunique()) for h in hiddens)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    precision, ndcg, targets = [], [], []
    for f, hidden in enumerate(hiddens):
        visible, fitted = fit_scorers(library, hidden, scorers)
        p, n, k = _fold_metrics(visible, hidden, fitted, combos, names, method, top_n, tick,
                                ArtistMix.from_settings(settings))
        precision.append(p)
        ndcg.append(n)
        targets.append(k)
        log.info("fold %d: %d targets, best p@%d %.4f", f, k, top_n, p.max())
    return TuneResult(names=names, combos=combos, precision=np.vstack(precision), ndcg=np.vstack(ndcg),
                      top_n=top_n, defaults=defaults, seconds=time.perf_counter() - t0, targets=targets,
                      fixed=kept)


def write_weights(user_file: Path | str, weights: Mapping[str, float], new_share: float | None = None,
                  undo_file: Path | str | None = None, by: str | None = None) -> str:
    """Set ``scorers.<name>.weight`` for each of ``weights`` (and ``candidates.new_share`` when
    given) in ``user_file`` (created when missing), in one write, leaving every other key and
    comment as it was. Returns the unified diff. ``undo_file``: a change is recorded there
    first (the values the file had, None for a key it did not set, the ones written, ``by``:
    what wrote them, in words, ``empty``: the sections the file wrote with nothing in them,
    which the undo leaves so, and ``created`` when the write made the file), for
    ``undo_weights``; a write that fails puts the earlier record back."""
    from .configfile import get_values, set_values, written_empty
    values = {f"scorers.{name}.weight": round(float(w), 6) for name, w in weights.items()}
    if new_share is not None:
        values["candidates.new_share"] = round(float(new_share), 6)
    if undo_file is None:
        return set_values(user_file, values)
    before = get_values(user_file, values)
    if before == values:
        return set_values(user_file, values)  # nothing changes: the last change stays the one to undo
    records = _undo_records(undo_file, strict=False)
    earlier = dict(records)
    empty = written_empty(user_file, values)
    records[_undo_key(user_file)] = {"before": before, "after": values, "at": now_iso(), **({"by": by} if by else {}),
                                     **({"empty": empty} if empty else {}),
                                     **({"created": True} if not os.path.lexists(user_file) else {})}
    _write_undo_records(undo_file, records)
    try:
        return set_values(user_file, values)
    except BaseException:
        _write_undo_records(undo_file, earlier)
        raise


def undo_weights(user_file: Path | str, undo_file: Path | str) -> tuple[str, dict]:
    """Put back in ``user_file`` the values the last recorded ``write_weights`` replaced (a key
    the file did not set is taken out again: the default applies), comments and other keys
    kept; the record is then dropped (one step back). Returns (diff, the record: ``before``,
    ``after``, ``at``). UsageError when nothing is recorded for the file, or when the file no
    longer holds what was written (edited since: undoing would overwrite that edit)."""
    from .configfile import DELETE, get_values, set_values
    records = _undo_records(undo_file)
    key = _undo_key(user_file)
    record = records.get(key)
    if record is None and (moved := _moved_record(records, user_file)):
        key, record = moved
    if record is None:
        scorers = get_values(user_file, ["scorers"])["scorers"] if Path(user_file).is_file() else None
        weights = {f"scorers.{name}.weight": v["weight"] for name, v in (scorers or {}).items()
                   if isinstance(v, dict) and isinstance(v.get("weight"), (int, float))} \
            if isinstance(scorers, dict) else {}
        elsewhere = _other_record(records)
        if weights:  # set by hand, or by a `tune --write` from before this record was kept
            raise UsageError(f"nothing to undo: no `recommend tune --write` recorded the weights {user_file} sets "
                             f"({_record_text(weights)}) (or its change was undone already); one by an older version kept "
                             "no record (it printed the weights it replaced): set those back by hand, or delete the "
                             f"`weight:` lines to take the shipped weights{elsewhere}")
        raise UsageError(f"nothing to undo: no `recommend tune --write` has changed the weights of {user_file} "
                         f"(or its change was undone already){elsewhere}")
    now = get_values(user_file, record["after"])
    edited = [k for k, v in record["after"].items() if now.get(k) != v]
    if edited:
        k = edited[0]
        is_now = "not set" if now.get(k) is None else f"is {now.get(k)}"
        raise UsageError(f"{user_file} was edited since `recommend tune --write` ({k} {is_now}, tune wrote "
                         f"{record['after'][k]}): undoing would overwrite that edit, so nothing was changed; set the "
                         f"weights by hand if you want the old ones: {_record_text(record['before'])}")
    diff = set_values(user_file, {k: DELETE if v is None else v for k, v in record["before"].items()},
                      keep_empty=record.get("empty", ()))
    if record.get("created") and not Path(user_file).read_text(encoding="utf-8").strip():
        os.unlink(os.path.realpath(user_file))  # the file the write made, holding nothing again: gone as it was
    del records[key]
    _write_undo_records(undo_file, records)
    return diff, record


def _record_text(values: Mapping[str, object]) -> str:
    """``content 1, year (the default)``: the recorded values of ``scorers.NAME.weight`` (and
    ``candidates.new_share``) for a message."""
    parts = []
    for dotted, v in values.items():
        name = dotted.split(".")[1] if dotted.startswith("scorers.") else dotted
        parts.append(f"{name} {'(not set: the default)' if v is None else f'{float(v):g}'}")
    return ", ".join(parts)


def _moved_record(records: dict, user_file: Path | str) -> tuple[str, dict] | None:
    """(key, record) of the last recorded write to a config file that is no longer where it was
    and whose values ``user_file`` holds: the data directory and the config file copied to
    another computer, or another home folder, where the undo said "nothing to undo" and named
    the old computer's file."""
    from .configfile import get_values
    for k in sorted(records, key=lambda k: str(records[k].get("at") or ""), reverse=True):
        if not os.path.exists(k) and Path(user_file).is_file() \
                and get_values(user_file, records[k]["after"]) == records[k]["after"]:
            return k, records[k]
    return None


def _other_record(records: dict) -> str:
    """The words naming the config file the last recorded `tune --write` changed, for an undo of
    another file (a write with --config, an undo without it: "nothing to undo" named neither);
    nothing when that file is gone (moved to another computer: no command to offer)."""
    records = {k: r for k, r in records.items() if os.path.exists(k)}
    if not records:
        return ""
    path = max(records, key=lambda k: str(records[k].get("at") or ""))
    from .safetext import visible
    import shlex  # a command to copy: a path with a space (macOS's Application Support) is one word of it
    return f"; the last recorded one changed {visible(path)}: `recommend tune --undo --config {shlex.quote(visible(path))}`"


def _undo_key(user_file: Path | str) -> str:
    return os.path.realpath(user_file)  # a config reached through a symbolic link is its target


def _undo_records(undo_file: Path | str, strict: bool = True) -> dict:
    """{config file's real path: record}; a damaged file is a DataError naming it (``strict``)
    or, for a write that replaces it anyway, nothing recorded."""
    path = Path(undo_file)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(isinstance(r, dict) and {"before", "after"} <= set(r)
                                                 for r in data.values()):
            raise ValueError("not a mapping of records")
        return data
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        if strict:
            raise DataError(f"cannot read {path} ({type(exc).__name__}): delete it; the weights it recorded "
                            "cannot be put back by `recommend tune --undo`") from None
        log.warning("%s is damaged (%s): replaced", path, type(exc).__name__)
        return {}


def _write_undo_records(undo_file: Path | str, records: dict) -> None:
    path = Path(undo_file)
    make_dirs(path.parent)
    atomic_write_text(path, json.dumps(records, indent=1, sort_keys=True) + "\n")
