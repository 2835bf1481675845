"""Offline evaluation: hide some playlist memberships, ask the scorers to find them again.

Metrics are pure functions, each defined once on a targets x ranks hit matrix (and usable on
one ranking of ids). ``evaluate`` fits every scorer
once on the library *without* the hidden pairs, then for every target playlist ranks all
tracks but its visible ones (and their other releases) by the blend and by each scorer alone (ablation).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .artists import mix_inputs
from .blend import ArtistMix, blend_matrix, blend_scores, fitted_weights, in_blend, normalise_columns
from .errors import NotEnoughData
from .library import Library
from .scorers import Scorer, blend_weights, make_scorers

log = logging.getLogger(__name__)

BLEND = "blend"
CURVE_MAX_N = 50  # hit curves are kept up to this rank (precision@1..50 in the report)
Progress = Callable[[int, int], None]


# ----- metrics: one implementation each ------------------------------------------------------
# Each metric is defined once, on a targets x ranks boolean hit matrix (row i: whether rank
# 1, 2, ... of target i is a hidden track) and the number of hidden tracks per target; it
# returns one value per target. ``evaluate`` and ``tune`` call these on their matrices; the
# (ranked ids, relevant ids) forms below call them on a one-row matrix.

def precision(hits: np.ndarray, n: int) -> np.ndarray:
    """|top n ∩ relevant| / n (n, not min(n, |relevant|))."""
    if n <= 0:
        raise ValueError("n must be positive")
    return hits[:, :n].sum(axis=1) / n


def recall(hits: np.ndarray, n_relevant: np.ndarray, n: int) -> np.ndarray:
    """|top n ∩ relevant| / |relevant|; 0 when nothing is relevant."""
    n_rel = np.asarray(n_relevant, dtype=float)
    return np.where(n_rel > 0, hits[:, :n].sum(axis=1) / np.maximum(n_rel, 1), 0.0)


def ndcg(hits: np.ndarray, n_relevant: np.ndarray, n: int) -> np.ndarray:
    """Binary-gain nDCG: sum of 1/log2(rank+1) over hits in the top n, divided by the same
    sum for an ideal list with min(n, |relevant|) hits; 0 when nothing is relevant."""
    discount = 1.0 / np.log2(np.arange(2, n + 2))
    h = hits[:, :n]
    dcg = (h * discount[:h.shape[1]]).sum(axis=1)
    n_rel = np.minimum(np.asarray(n_relevant, dtype=int), n)
    ideal = np.where(n_rel > 0, np.cumsum(discount)[np.maximum(n_rel, 1) - 1], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ideal > 0, dcg / ideal, 0.0)


def r_precision_of(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """|top |relevant| ∩ relevant| / |relevant|; 0 when nothing is relevant. ``hits`` must be
    at least max(|relevant|) wide (or as long as the ranking)."""
    n_rel = np.asarray(n_relevant, dtype=int)
    within = np.arange(hits.shape[1])[None, :] < n_rel[:, None]
    return np.where(n_rel > 0, (hits & within).sum(axis=1) / np.maximum(n_rel, 1), 0.0)


def hit_coverage(hits: np.ndarray, n: int) -> np.ndarray:
    """1 for a target with at least one hit in the top n, else 0."""
    return (hits[:, :n].sum(axis=1) > 0).astype(float)


def diversity(artists: Sequence) -> float:
    """Distinct artists / tracks shown (one artist key per track); 0 for an empty list."""
    return len(set(artists)) / len(artists) if len(artists) else 0.0


def catalogue_coverage(shown: set, catalogue_size: int) -> float:
    """Share of the catalogue that appeared in any top list."""
    return len(shown) / max(catalogue_size, 1)


def _one(ranked: Sequence, relevant: Iterable, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    rel = set(relevant)
    ranked = list(ranked)[:width] if width is not None else list(ranked)
    return np.array([[r in rel for r in ranked]], dtype=bool).reshape(1, -1), np.array([len(rel)])


def precision_at(ranked: Sequence, relevant: Iterable, n: int = 10) -> float:
    """``precision`` of one ranking."""
    hits, _ = _one(ranked, relevant, max(n, 0))
    return float(precision(hits, n)[0])


def recall_at(ranked: Sequence, relevant: Iterable, n: int = 10) -> float:
    """``recall`` of one ranking."""
    hits, n_rel = _one(ranked, relevant, n)
    return float(recall(hits, n_rel, n)[0])


def ndcg_at(ranked: Sequence, relevant: Iterable, n: int = 10) -> float:
    """``ndcg`` of one ranking."""
    hits, n_rel = _one(ranked, relevant, n)
    return float(ndcg(hits, n_rel, n)[0])


def r_precision(ranked: Sequence, relevant: Iterable) -> float:
    """``r_precision_of`` one ranking."""
    hits, n_rel = _one(ranked, relevant)
    return float(r_precision_of(hits, n_rel)[0])


def metrics_from_hits(hits: np.ndarray, n_relevant: np.ndarray, n: int) -> dict[str, float]:
    """Macro-averaged p@n, r@n, ndcg@n, R-precision and coverage of a hit matrix (at least
    max(n, max |relevant|) wide)."""
    return {f"p@{n}": float(precision(hits, n).mean()), f"r@{n}": float(recall(hits, n_relevant, n).mean()),
            f"ndcg@{n}": float(ndcg(hits, n_relevant, n).mean()),
            "rprec": float(r_precision_of(hits, n_relevant).mean()),
            "coverage": float(hit_coverage(hits, n).mean())}


def _pad(rows: list[np.ndarray]) -> np.ndarray:
    """Rows of different lengths as one boolean matrix (missing ranks are misses)."""
    out = np.zeros((len(rows), max((len(r) for r in rows), default=0)), dtype=bool)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


# ----- ranking --------------------------------------------------------------------------------

def top_positions(values: np.ndarray, n: int, tiebreak: np.ndarray) -> np.ndarray:
    """Positions of the ``n`` largest non-NaN ``values``, best first; ties are broken by
    ``tiebreak`` (a fixed random permutation, so frame order can never leak into a ranking)."""
    values = np.asarray(values, dtype=float)
    ok = np.flatnonzero(~np.isnan(values))
    if len(ok) == 0 or n <= 0:
        return ok[:0]
    v = values[ok]
    if len(ok) > n:
        # everything strictly above the n-th largest value, plus the ties at that value
        kth = np.partition(v, len(v) - n)[len(v) - n]
        keep = v >= kth
        ok, v = ok[keep], v[keep]
    order = np.lexsort((tiebreak[ok], -v))
    return ok[order[:n]]


def mixed_top_positions(values: np.ndarray, mix: ArtistMix, codes: np.ndarray, share: np.ndarray, length: int,
                        n: int, tiebreak: np.ndarray) -> np.ndarray:
    """``top_positions(values * mix.factors(values, codes, share, length, tiebreak), n,
    tiebreak)``: ``ArtistMix.top`` of the one row (mixing only its head, exact), NaN left out."""
    v = np.asarray(values, dtype=float)
    if n <= 0:
        return np.empty(0, dtype=np.intp)
    pos = mix.top(v[None, :], codes, share, n, length=length, tiebreak=tiebreak).positions[0]
    return pos[~np.isnan(v[pos])]


@dataclass
class TargetScores:
    """One target: its candidates, each scorer's raw scores, the hidden set."""

    playlist_id: str
    candidates: pd.Index
    scores: pd.DataFrame  # candidates x scorers (raw)
    relevant: set[str]
    tiebreak: np.ndarray
    rows: np.ndarray | None = None  # the candidates' rows in the fitted library
    seeds: pd.Series | None = None  # track id -> seed weight


def fit_scorers(library: Library, hidden: pd.DataFrame, scorers: Mapping[str, Scorer]) -> tuple[Library, dict[str, Scorer]]:
    """The library without the hidden pairs, and every scorer fitted once on it."""
    visible = library.without_memberships(hidden)
    fitted = {}
    for name, scorer in scorers.items():
        t0 = time.perf_counter()
        fitted[name] = scorer.fit(visible)
        log.debug("fitted %s in %.2f s", name, time.perf_counter() - t0)
    return visible, fitted


def _score(scorer: Scorer, seeds: pd.Series, candidates: pd.Index, mask: np.ndarray, n: int) -> np.ndarray:
    """Raw scores of ``candidates``; scorers with ``score_all`` (one value per fitted track,
    same rows as the library) skip the per-target reindexing."""
    score_all = getattr(scorer, "score_all", None)
    if score_all is not None and len(getattr(scorer, "track_ids_", ())) == n:
        return np.asarray(score_all(seeds), dtype=float)[mask]
    return scorer.score(seeds, candidates).to_numpy(dtype=float)


def iter_targets(visible: Library, hidden: pd.DataFrame, fitted: Mapping[str, Scorer],
                 seed: int = 0) -> Iterator[TargetScores]:
    """Per target (every playlist with hidden pairs): seeds = its visible tracks (weight 1),
    candidates = every track but those and their other releases (as build-playlist:
    ``pipeline.shares_key``), raw scores of every fitted scorer."""
    from .pipeline import dedupe_codes, shares_key

    all_ids = visible.track_ids
    codes = visible.derived(("pipeline", "dedupe_codes"), lambda: dedupe_codes(visible))
    tiebreak_all = np.random.default_rng(seed).permutation(len(all_ids))
    items = visible.playlist_items[["playlist_id", "track_id"]].astype(str)
    visible_by = items.groupby("playlist_id")["track_id"].agg(list).to_dict()
    hidden = hidden.astype({"playlist_id": str, "track_id": str})
    for pid, grp in hidden.groupby("playlist_id", sort=True):
        seeds_ids = list(dict.fromkeys(visible_by.get(pid, [])))
        if not seeds_ids:
            continue
        is_seed = np.asarray(all_ids.isin(seeds_ids))
        mask = ~is_seed & ~shares_key(codes, is_seed)
        candidates = all_ids[mask]
        seeds = pd.Series(1.0, index=pd.Index(seeds_ids, name="track_id"))
        scores = pd.DataFrame({name: _score(sc, seeds, candidates, mask, len(all_ids))
                               for name, sc in fitted.items()}, index=candidates)
        yield TargetScores(pid, candidates, scores, set(grp["track_id"]), tiebreak_all[mask],
                           np.flatnonzero(mask), seeds)


@dataclass
class EvalResult:
    """Macro-averaged metrics of the blend and of every scorer alone."""

    top_n: int
    targets: int
    seconds: float
    metrics: dict[str, dict[str, float]]  # "blend" and each scorer name -> metrics
    hits: dict[str, np.ndarray] = field(repr=False, default_factory=dict)  # targets x CURVE_MAX_N
    n_relevant: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    playlist_ids: list[str] = field(repr=False, default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)

    def precision_curve(self, method: str = BLEND, max_n: int = CURVE_MAX_N) -> np.ndarray:
        """precision@N for N = 1..max_n (macro average)."""
        h = self.hits[method][:, :max_n].astype(float)
        return (np.cumsum(h, axis=1) / np.arange(1, h.shape[1] + 1)).mean(axis=0)

    def to_dict(self) -> dict:
        """JSON shape: blend metrics at top level, then ``targets``, ``seconds``, ``scorers``."""
        out: dict = dict(self.metrics[BLEND])
        out["targets"] = self.targets
        out["seconds"] = round(self.seconds, 2)
        out["weights"] = dict(self.weights)
        out["scorers"] = {k: v for k, v in self.metrics.items() if k != BLEND}
        return out


def evaluate(library: Library, hidden: pd.DataFrame, settings, scorers: Mapping[str, Scorer] | None = None,
             top_n: int = 10, progress: Progress | None = None, weights: Mapping[str, float] | None = None,
             method: str | None = None) -> EvalResult:
    """Hide ``hidden`` (playlist_id, track_id) pairs, fit once, rank per target; see module doc.

    ``scorers`` default to every scorer `recommend evaluate` shows (``make_scorers``' ``off_for``:
    those at weight 0 too); ``weights`` to ``blend_weights(settings)``; ``method`` to
    ``settings.blend.normalisation``.
    Raises NotEnoughData when no target has visible tracks left. One target's scores are
    held at a time (``Evaluation`` keeps them all, to evaluate many weights).
    """
    t0 = time.perf_counter()
    scorers = dict(make_scorers(settings, off_for=library) if scorers is None else scorers)  # every row evaluate shows
    weights, method = _weights(settings, scorers, weights, method)
    visible, fitted = fit_scorers(library, hidden, scorers)
    blend_w = fitted_weights(weights, fitted)
    with_seeds = set(visible.playlist_items["playlist_id"].astype(str))
    n_targets = int(hidden["playlist_id"].astype(str).drop_duplicates().isin(with_seeds).sum())
    keep_n = max(CURVE_MAX_N, top_n)
    ranked = {m: _Ranked(visible, keep_n, top_n) for m in [BLEND, *fitted]}
    n_rel, pids = [], []
    mix = ArtistMix.from_settings(settings)
    for t in iter_targets(visible, hidden, fitted):
        rel_mask = t.candidates.isin(t.relevant)
        ranked[BLEND].add(t, rel_mask, _blended(t.scores, blend_w, method), mix)
        for m in fitted:
            ranked[m].add(t, rel_mask, t.scores[m].to_numpy(dtype=float))
        n_rel.append(len(t.relevant))
        pids.append(t.playlist_id)
        if progress is not None:
            progress(len(pids), n_targets)
    return _result(ranked, n_rel, pids, weights, visible, top_n, t0)


def _weights(settings, scorers, weights, method) -> tuple[dict[str, float], str]:
    weights = dict(blend_weights(settings) if weights is None else weights)
    return {k: float(weights.get(k, 0.0)) for k in scorers}, method or settings["blend"]["normalisation"]


def _blended(scores: pd.DataFrame, blend_w: Mapping[str, float], method: str) -> np.ndarray:
    """The blend of one target's ``scores`` (before the artist mix: ``_Ranked.add``)."""
    blended, _ = blend_scores(scores, blend_w, method)
    return blended.to_numpy(dtype=float)


class _Ranked:
    """One method's (the blend's, or one scorer's) rankings of the targets, target by target."""

    def __init__(self, visible: Library, keep_n: int, top_n: int) -> None:
        self.artist_of = visible.derived(("evaluate", "artist_of"), lambda: pd.Series(
            [tuple(a) for a in visible.tracks["artist_ids"]], index=visible.track_ids))
        self.visible, self.keep_n, self.top_n = visible, keep_n, top_n
        self.hits: list[np.ndarray] = []  # per target: hit or not for ranks 1..max(keep_n, |hidden|)
        self.shown: set = set()
        self.diversities: list[float] = []

    def add(self, t: TargetScores, rel_mask: np.ndarray, values: np.ndarray, mix: ArtistMix | None = None) -> None:
        """Rank ``values`` (with ``mix``: after the artist mix of ``t``'s seeds, as the blend)."""
        n = max(self.keep_n, len(t.relevant))
        if mix is not None and mix.active:
            codes, share = mix_inputs(self.visible, t.rows, t.seeds)
            pos = mixed_top_positions(values, mix, codes, share, self.top_n, n, t.tiebreak)
        else:
            pos = top_positions(values, n, t.tiebreak)
        self.hits.append(rel_mask[pos])
        top_ids = t.candidates[pos[:self.top_n]]
        self.shown.update(top_ids)
        self.diversities.append(diversity(list(self.artist_of.reindex(top_ids))))


def _result(ranked: Mapping[str, _Ranked], n_rel: list[int], pids: list[str], weights: dict[str, float],
            visible: Library, top_n: int, t0: float) -> EvalResult:
    if not pids:
        raise NotEnoughData("no evaluation target has visible tracks left (evaluate.hide_fraction too high?)")
    n_rel_arr = np.asarray(n_rel)
    hit_arrays, metrics = {}, {}
    for m, r in ranked.items():
        full = _pad(r.hits)
        keep_n = r.keep_n
        hit_arrays[m] = np.pad(full, ((0, 0), (0, max(0, keep_n - full.shape[1]))))[:, :keep_n]
        met = metrics_from_hits(full, n_rel_arr, top_n)
        met["catalogue_coverage"] = catalogue_coverage(r.shown, len(visible.track_ids))
        met["diversity"] = float(np.mean(r.diversities))
        metrics[m] = {k: round(v, 4) for k, v in met.items()}
    seconds = time.perf_counter() - t0
    log.info("evaluated %d targets in %.1f s: p@%d %.4f", len(pids), seconds, top_n, metrics[BLEND][f"p@{top_n}"])
    return EvalResult(top_n=top_n, targets=len(pids), seconds=seconds, metrics=metrics, hits=hit_arrays,
                      n_relevant=n_rel_arr, playlist_ids=pids, weights=weights)


@dataclass(frozen=True)
class _Factor:
    """A fitted scorer's ``weight_factor`` kept without the scorer."""

    value: float

    def weight_factor(self) -> float:
        return self.value


class Evaluation:
    """``evaluate`` of one hiding for many weights: what the weights do not change (the
    scorers fitted on the visible library, every target's candidates and each scorer's
    normalised scores of them, each scorer's own rankings) is computed once, when a scorer is
    first asked for (each `recommend evaluate` shows, those at weight 0 too), so that
    evaluating other weights only blends and ranks. Every target's normalised scores are held
    (``method``: the normalisation): for a few targets (the web app's Weights page evaluates on
    30), not `recommend evaluate`'s hundreds. Build one per library, hiding and non-weight
    settings; one ``result`` at a time (not thread-safe)."""

    def __init__(self, library: Library, hidden: pd.DataFrame, top_n: int = 10, method: str = "rank") -> None:
        self.visible = library.without_memberships(hidden)
        self.top_n, self.method = top_n, method
        self.keep_n = max(CURVE_MAX_N, top_n)
        self.targets = list(iter_targets(self.visible, hidden, {}))
        if not self.targets:
            raise NotEnoughData("no evaluation target has visible tracks left (evaluate.hide_fraction too high?)")
        self.rel_masks = [t.candidates.isin(t.relevant) for t in self.targets]
        self.normalised: list[dict[str, np.ndarray]] = [{} for _ in self.targets]  # per target: scorer -> scores
        self.fitted: dict[str, _Factor] = {}  # each scorer's weight factor, once fitted
        self.alone: dict[str, _Ranked] = {}  # each scorer's own rankings

    def _add(self, name: str, scorer: Scorer) -> None:
        fitted = scorer.fit(self.visible)
        n = len(self.visible.track_ids)
        ranked = _Ranked(self.visible, self.keep_n, self.top_n)
        for t, rel_mask, normalised in zip(self.targets, self.rel_masks, self.normalised):
            raw = _score(fitted, t.seeds, t.candidates, t.rows, n)
            ranked.add(t, rel_mask, raw)
            normalised[name] = normalise_columns(raw[:, None], self.method)[:, 0]
        factor = getattr(fitted, "weight_factor", None)  # all the blend asks of it: the fitted model is let go
        self.fitted[name], self.alone[name] = _Factor(float(factor()) if factor else 1.0), ranked

    def result(self, settings, weights: Mapping[str, float] | None = None) -> EvalResult:
        """What ``evaluate(library, hidden, settings, top_n=top_n, weights=weights,
        method=method)`` gives (``settings``: the basis's but for the weights)."""
        t0 = time.perf_counter()
        scorers = make_scorers(settings, off_for=self.visible)  # the rows `recommend evaluate` shows
        for name, scorer in scorers.items():
            if name not in self.fitted:
                self._add(name, scorer)
        fitted = {name: self.fitted[name] for name in scorers}
        weights, _ = _weights(settings, fitted, weights, self.method)
        blend_w = fitted_weights(weights, fitted)
        used = in_blend(blend_w, fitted)  # as blend_scores blends them
        w = np.array([[float(blend_w[name]) for name in used]])
        mix = ArtistMix.from_settings(settings)
        blend = _Ranked(self.visible, self.keep_n, self.top_n)
        for t, rel_mask, normalised in zip(self.targets, self.rel_masks, self.normalised):
            values = (blend_matrix(np.column_stack([normalised[name] for name in used]), w)[0]
                      if used and len(t.candidates) else np.full(len(t.candidates), np.nan))
            blend.add(t, rel_mask, values, mix)
        ranked = {BLEND: blend, **{name: self.alone[name] for name in fitted}}
        return _result(ranked, [len(t.relevant) for t in self.targets], [t.playlist_id for t in self.targets],
                       weights, self.visible, self.top_n, t0)
