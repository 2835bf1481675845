"""Quality benchmark: protocol ``tt-continuation-v1`` (``bench/protocols/PROTOCOL.md``).

    python bench/quality.py --data PATH [--splits dev holdout] [--features restricted full] [--json]
    python bench/quality.py --data PATH --protocol persona --splits dev [--json]     # tt-persona-v1 (PERSONA.md)
    python bench/quality.py --data PATH --protocol persona --splits dev --set scorers.artist_walk.weight=0.3   # any key
    python bench/quality.py --data PATH --protocol persona --splits dev --diagnose   # the shortcut, measured
    python bench/quality.py --data PATH --protocol persona --splits dev --caps similar_artists_of=0   # look-ups

``--data`` is the TidyTuesday ``spotify_songs.csv.gz`` (no default: a checkout has no copy of it).

For every split x feature level: hides the protocol's tracks, re-runs the anchors in this
process (popularity count, track_popularity (full only), implicit item-kNN cosine and BM25
K=100, ALS 64 factors 15 iterations, TF-IDF word 1-2-grams over track+artist+album name,
the original hybrid TF-IDF+playlist names with SVD(k=15), 2*content + 1*collaborative),
then our blend and every scorer alone (``recommender.evaluate.evaluate`` with the package
defaults). Prints one table (or ``--json``) and checks the targets: blend p@10 and nDCG@10
>= 1.2 x the best anchor's (restricted features, both splits) and blend >= its best scorer.
``implicit`` is a bench-only dependency (``pip install .[bench]``); without it those anchors
are skipped.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit warns (and slows) otherwise

import numpy as np
import pandas as pd
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from recommender.dataset import hide_tracks, load_dataset, split_library  # noqa: E402
from recommender.evaluate import evaluate, ndcg_at, precision_at, r_precision, recall_at, top_positions  # noqa: E402
from recommender.library import Library  # noqa: E402
from recommender.scorers import AudioScorer, CoverageScorer, make_scorers, scorer_params  # noqa: E402

TOP_N = 10
log = logging.getLogger("bench.quality")


OVERRIDES: dict = {}  # --set key=value (dotted config keys), applied to the package defaults


def _settings():
    from recommender.config import default_settings

    settings = default_settings()  # package defaults only, never the user's config
    return settings.with_overrides(OVERRIDES) if OVERRIDES else settings


def parse_set(pairs: list[str]) -> dict:
    """``["scorers.year.weight=0", ...]`` -> {dotted key: YAML-parsed value}."""
    import yaml

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"--set {pair!r}: expected key=value, e.g. scorers.year.weight=0")
        out[key.strip()] = yaml.safe_load(value)
    return out


# ----- anchors: (visible library) -> function(target playlist row, seed rows) -> scores ---------

def _playlist_track(visible: Library) -> tuple[sp.csr_matrix, pd.Index]:
    m, cols = visible.track_playlist_matrix(extra_sources=False)
    return sp.csr_matrix(m.T), cols


def anchor_popularity_count(visible: Library):
    counts = np.asarray(visible.track_playlist_matrix(extra_sources=False)[0].sum(axis=1)).ravel()
    return lambda pid, seeds: counts.astype(float)


def anchor_track_popularity(visible: Library):
    pop = visible.tracks["popularity"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return lambda pid, seeds: pop


def _implicit_anchor(model_factory):
    def build(visible: Library):
        user_items, cols = _playlist_track(visible)
        user_items = user_items.astype(np.float32).tocsr()
        model = model_factory()
        model.fit(user_items, show_progress=False)
        n_items = user_items.shape[1]

        def score(pid, seeds):
            u = cols.get_loc(pid)
            n = min(n_items, 2000)
            ids, vals = model.recommend(u, user_items[u:u + 1], N=n, filter_already_liked_items=True)  # (a 2-D CSR row)
            out = np.full(n_items, np.nan)
            out[ids] = vals
            return out
        return score
    return build


def anchor_tfidf_names(visible: Library):
    from sklearn.feature_extraction.text import TfidfVectorizer

    t = visible.tracks
    text = (t["name"].fillna("") + " " + t["artist_names"].map(" ".join) + " " + t["album_name"].fillna(""))
    X = TfidfVectorizer(ngram_range=(1, 2)).fit_transform(text.astype(str))

    def score(pid, seeds):
        prof = np.asarray(X[seeds].sum(axis=0)).ravel()
        return np.asarray(X @ prof).ravel()
    return score


def anchor_original_hybrid(visible: Library):
    """TF-IDF over names incl. the names of the playlists holding a track + SVD(k=15) item
    factors of the track x playlist matrix; blend = 2*minmax(content) + 1*minmax(collab)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    t = visible.tracks
    m, cols = visible.track_playlist_matrix(extra_sources=False)
    names = visible.playlists.drop_duplicates("playlist_id").set_index("playlist_id")["name"]
    col_names = np.asarray([str(names.get(c, "")) for c in cols], dtype=object)
    coo = sp.coo_matrix(m)
    per_track = pd.Series(col_names[coo.col]).groupby(coo.row).agg(" ".join)
    pl_text = pd.Series("", index=range(len(t)))
    pl_text[per_track.index] = per_track.to_numpy()
    text = (t["name"].fillna("") + " " + t["artist_names"].map(" ".join) + " " + t["album_name"].fillna("")
            ).reset_index(drop=True) + " " + pl_text
    X = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(text.astype(str))
    F = TruncatedSVD(n_components=15, random_state=0).fit_transform(m)
    F = F / np.maximum(np.linalg.norm(F, axis=1, keepdims=True), 1e-12)

    def mm(v):
        lo, hi = np.nanmin(v), np.nanmax(v)
        return np.zeros_like(v) if hi == lo else (v - lo) / (hi - lo)

    def score(pid, seeds):
        c = np.asarray(X @ np.asarray(X[seeds].mean(axis=0)).ravel()).ravel()
        k = F @ F[seeds].mean(axis=0)
        return 2 * mm(c) + 1 * mm(k)
    return score


def anchors(features: str) -> list[tuple[str, object]]:
    out = [("anchor: popularity count", anchor_popularity_count)]
    if features == "full":
        out.append(("anchor: track_popularity", anchor_track_popularity))
    try:
        from implicit.als import AlternatingLeastSquares
        from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

        out += [("anchor: item-kNN cosine K=100", _implicit_anchor(lambda: CosineRecommender(K=100))),
                ("anchor: item-kNN BM25 K=100", _implicit_anchor(lambda: BM25Recommender(K=100))),
                ("anchor: ALS 64f 15it", _implicit_anchor(lambda: AlternatingLeastSquares(
                    factors=64, iterations=15, random_state=42)))]
    except ImportError:
        log.warning("implicit is not installed: its anchors are skipped (pip install .[bench])")
    out += [("anchor: TF-IDF names 1-2g", anchor_tfidf_names),
            ("anchor: original hybrid", anchor_original_hybrid)]
    return out


def run_anchor(build, library: Library, hidden: pd.DataFrame) -> dict[str, float]:
    """Protocol metrics of one anchor (same candidates, tie-break and metrics as ours)."""
    visible = library.without_memberships(hidden)
    score = build(visible)
    ids = visible.track_ids
    tiebreak = np.random.default_rng(0).permutation(len(ids))
    items = visible.playlist_items[["playlist_id", "track_id"]].astype(str)
    by = items.groupby("playlist_id")["track_id"].agg(list).to_dict()
    res = {"p": [], "r": [], "n": [], "rp": []}
    for pid, grp in hidden.astype(str).groupby("playlist_id", sort=True):
        seeds = visible.track_rows(by.get(pid, []))
        if len(seeds) == 0:
            continue
        values = np.asarray(score(pid, seeds), dtype=float).copy()
        values[seeds] = np.nan  # candidates: everything but the visible tracks
        rel = set(grp["track_id"])
        ranked = list(ids[top_positions(values, max(TOP_N, len(rel)), tiebreak)])
        res["p"].append(precision_at(ranked, rel, TOP_N))
        res["r"].append(recall_at(ranked, rel, TOP_N))
        res["n"].append(ndcg_at(ranked, rel, TOP_N))
        res["rp"].append(r_precision(ranked, rel))
    return {f"p@{TOP_N}": float(np.mean(res["p"])), f"r@{TOP_N}": float(np.mean(res["r"])),
            f"ndcg@{TOP_N}": float(np.mean(res["n"])), "rprec": float(np.mean(res["rp"]))}


def run(data: Path, splits: list[str], features: list[str], with_anchors: bool = True,
        normalisation: str | None = None) -> dict:
    """Every split x feature level: {"<split>/<features>": {method: metrics}}."""
    settings = _settings()
    if normalisation:
        settings = settings.with_overrides({"blend.normalisation": normalisation})
    out: dict = {}
    for feat in features:
        full = load_dataset(data, features=feat)
        for split in splits:
            lib = split_library(full, split)
            hidden = hide_tracks(lib)
            rows: dict[str, dict] = {}
            if with_anchors:
                for name, build in anchors(feat):
                    t0 = time.perf_counter()
                    rows[name] = run_anchor(build, lib, hidden)
                    log.info("%s/%s %s: %.1f s", split, feat, name, time.perf_counter() - t0)
            scorers = make_scorers(settings)
            if feat == "full" and "audio" not in scorers:  # ablation only: weight 0 keeps the blend as is
                scorers["audio"] = AudioScorer(**scorer_params(settings, "audio"))
            if "coverage" not in scorers:  # ablation only, like audio
                scorers["coverage"] = CoverageScorer(**scorer_params(settings, "coverage"))
            result = evaluate(lib, hidden, settings, scorers=scorers, top_n=TOP_N)
            rows["ours: blend"] = {k: v for k, v in result.metrics["blend"].items()}
            for name, met in result.metrics.items():
                if name != "blend":
                    rows[f"ours: {name} alone"] = dict(met)
            out[f"{split}/{feat}"] = {"targets": result.targets, "seconds": round(result.seconds, 1),
                                      "weights": result.weights,
                                      "normalisation": settings["blend"]["normalisation"], "methods": rows}
    return out


def check_targets(results: dict) -> list[str]:
    """The benchmark's targets, one line each ("PASS ..." or "FAIL ...")."""
    lines = []
    for key, res in results.items():
        rows = res["methods"]
        blend = rows["ours: blend"]
        anchors_ = {k: v for k, v in rows.items() if k.startswith("anchor:")}
        singles = {k: v for k, v in rows.items() if k.startswith("ours:") and k != "ours: blend"}
        for metric in (f"p@{TOP_N}", f"ndcg@{TOP_N}"):
            if anchors_ and key.endswith("/restricted"):
                best_name, best = max(anchors_.items(), key=lambda kv: kv[1][metric])
                need = 1.2 * best[metric]
                ok = blend[metric] >= need
                lines.append(f"{'PASS' if ok else 'FAIL'} {key} {metric}: blend {blend[metric]:.4f} vs "
                             f"1.2 x {best_name} {best[metric]:.4f} = {need:.4f}")
            if singles:
                s_name, s = max(singles.items(), key=lambda kv: kv[1][metric])
                ok = blend[metric] >= s[metric]
                lines.append(f"{'PASS' if ok else 'FAIL'} {key} {metric}: blend {blend[metric]:.4f} vs best "
                             f"single {s_name} {s[metric]:.4f}")
    return lines


def table(results: dict) -> str:
    metrics = (f"p@{TOP_N}", f"r@{TOP_N}", f"ndcg@{TOP_N}", "rprec")
    lines = []
    for key, res in results.items():
        lines.append(f"\n{key}  ({res['targets']} targets, our evaluation {res['seconds']} s, "
                     f"weights {res['weights']}, normalisation {res['normalisation']})")
        lines.append(f"{'method':34s}" + "".join(f"{m:>9s}" for m in metrics))
        for name, met in res["methods"].items():
            lines.append(f"{name:34s}" + "".join(f"{met[m]:9.4f}" for m in metrics))
    return "\n".join(lines)


def tune_dev(data: Path, features: str, folds: int, normalisation: str | None,
             grid: list[float] | None = None, names: list[str] | None = None) -> dict:
    """Tune the blend weights on the dev split only: fold f hides the protocol's way with
    salt ``f + 1`` (never the evaluation's salt 42, never holdout). ``names``: tune only these
    scorers (the others stay out of the blend); every scorer given is searched (``tune.fixed``
    is `recommend tune`'s: the benchmarks are where release's weight was chosen); ``grid`` overrides ``tune.grid`` (the grid is
    combinations ** scorers: keep it small, every combination is a candidates-long row)."""
    from recommender.tune import tune

    settings = _settings()
    if normalisation:
        settings = settings.with_overrides({"blend.normalisation": normalisation})
    lib = split_library(load_dataset(data, features=features), "dev")
    scorers = make_scorers(settings)
    if names:
        scorers = {k: v for k, v in scorers.items() if k in names}
    result = tune(lib, settings, folds=folds, grid=grid, scorers=scorers,
                  hider=lambda library, f: hide_tracks(library, salt=str(f + 1)))
    return result.to_dict()


PERSONA_METRICS = ("p@10", "ndcg@10", "rprec", "new@10", "known@10")


def parse_caps(pairs: list[str], settings=None):
    """``--caps similar_artists_of=3 ...`` as the persona method's ``DiscoveryCaps``; a cap not
    given is the default's, with ``settings``: ``DiscoveryCaps.from_settings``' (so ``--set
    refresh.discovery_shared_albums=0`` holds)."""
    import dataclasses

    import yaml
    from recommender.persona import DiscoveryCaps
    known = {f.name for f in dataclasses.fields(DiscoveryCaps)}
    values = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key.strip() not in known:
            raise SystemExit(f"--caps {pair}: the keys are {', '.join(sorted(known))}")
        values[key.strip()] = yaml.safe_load(value)
    return DiscoveryCaps(**values) if settings is None else DiscoveryCaps.from_settings(settings, **values)


def _needs_a_persona(lib, cat, data: Path, split: str) -> None:
    """A split too small for one persona stops with a sentence (it was a KeyError on 'p@10')."""
    from recommender.persona import PERSONA_SIZE, build_personas
    if not build_personas(lib, cat):
        playlists = lib.playlist_items["playlist_id"].nunique()
        raise SystemExit(f"no persona to evaluate in {data} ({split} split): a persona is {PERSONA_SIZE} "
                         f"playlists with tracks to hide, and the split has {playlists} playlists")


def run_persona(data: Path, splits: list[str], caps=None) -> dict:
    """Protocol ``tt-persona-v1`` (recommender/persona.py) with its anchors, per split:
    {"<split>": {method: metrics + reach + requests}}. ``caps``: the method's look-ups
    (``DiscoveryCaps``; the shipped ones by default)."""
    from recommender.persona import Catalogue, DiscoveryCaps, evaluate_personas, radio_anchor

    settings = _settings()
    full = load_dataset(data)
    out: dict = {}
    for split in splits:
        lib = split_library(full, split)
        cat = Catalogue(lib)  # once per split, shared by the three runs
        _needs_a_persona(lib, cat, data, split)
        rows: dict[str, dict] = {}

        def row(res, name="blend"):
            return {**res.metrics[name], "reach": round(res.reach, 4), "requests": round(res.requests, 1)}

        res, _ = evaluate_personas(lib, settings, caps=DiscoveryCaps.library_only(), singles=False, standins=False,
                                   cat=cat)
        rows["anchor: our blend over the library only"] = row(res)
        res = radio_anchor(lib, cat=cat)
        rows["anchor: radio (5 seed artists x 8 similar x 20 top recordings, <= 3 per artist)"] = row(res)
        res, _ = evaluate_personas(lib, settings, caps=caps, standins=False, cat=cat)  # = the stand-ins' (tested)
        rows["ours: blend over library + open-data pool"] = row(res)
        for name in res.metrics:
            if name != "blend":
                rows[f"ours: {name} alone"] = row(res, name)
        out[split] = {"personas": res.personas, "targets": res.targets, "seconds": round(res.seconds, 1),
                      "weights": res.weights, "methods": rows}
    return out


def persona_diagnosis(data: Path, split: str = "dev") -> dict:
    """Why tt-persona-v1's p@10 target is out of reach for scores that never rise with less
    evidence (README, "The personal-library benchmark"). Bench-only: the "shortcut" ranker
    below is exactly what PROTOCOL.md forbids and is never part of the package.

    - ``hidden_world_pop0``: share of the hidden tracks that are in no playlist of W(P);
    - ``misses_world_pop_gt0``: share of the shipped blend's top-10 misses that are in some;
    - ``shortcut_p@10``: p@10 of a ranker that puts reached tracks in neither P's library nor
      W(P) first (in blend order), then the rest (in blend order);
    - the blend's p@10 split into hits on hidden tracks some W(P) playlist holds and on the
      others (with ``--set``: of any configured blend, e.g. one with coverage on);
    - ``oracle_weightings_p@10``: the p@10 of choosing, for each target after the fact, the best
      of ``len(oracle_weightings)`` weightings (the blend's, and each weighted scorer's weight
      times 3 or divided by 3): a bound on any rule that picks weights per playlist;
    - ``best_single_weighting_p@10``: the best of those weightings used for every target alike;
    - ``within_artist_oracle_p@10``: the p@10 if each artist kept its places in the blend's top
      10 but filled them with its hidden tracks first (hindsight): how much is lost choosing
      *which* tracks of an artist, against how many places each artist gets;
    - ``allocation_oracle_p@10``: the other half of that bound: each artist's candidates kept in
      the blend's order (before the artist mix), but the list's places shared among the
      artists in the best way with hindsight (how many of its first tracks each artist gets);
    - ``other_artists``: the hidden tracks by artists none of the target's seeds has (their
      ``share`` of all hidden tracks), the share of those that discovery ``reached``, the share
      of the blend's hits that are such tracks (``of_hits``), how many candidates by such artists a
      target has (``candidates``, mean) and how often the best of them by the blend (before the
      artist mix) is hidden (``first_pick_hit_rate``), beside how often the blend's tenth place
      is (``blend_tenth_place_hit_rate``): where the hits cannot come from;
    - ``p@10_by_seed_artist_spread``: the blend's p@10 by the share of a target's seeds that are
      distinct artists (targets, p@10, and the share of its hidden tracks by seed artists);
    - ``within_artist_auc``: per scorer and for the blend (before the artist mix), the chance
      that a hidden track of a seed artist scores above another candidate of that artist (ties
      count half), pooled over all such pairs: how well each score makes that choice.
    """
    from recommender.blend import ArtistMix
    from recommender.persona import Service, blended, build_personas, evaluate_personas, rank

    settings = _settings()
    lib, cat = persona_split(data, split)
    res, targets = evaluate_personas(lib, settings, standins=False, keep_targets=True, singles=False, cat=cat)
    personas = build_personas(lib, cat)
    pop = {p.index: Service(cat, p.world_columns).popularity_ for p in personas}
    method = settings["blend"]["normalisation"]
    hidden_n = hidden_pop0 = misses = misses_pop = 0
    shortcut, hit_world, hit_alone = [], [], []
    weightings = [dict(res.weights)] + [{**res.weights, k: v * f} for k, v in res.weights.items() if v > 0
                                        for f in (3.0, 1 / 3)]
    oracle, singles, within, allocation = [], [], [], []
    seeds_of = {(p.index, pid): list(dict.fromkeys(g["track_id"]))
                for p in personas for pid, g in p.library.playlist_items[["playlist_id", "track_id"]].astype(str)
                .groupby("playlist_id")}
    other = defaultdict(float)  # the hidden tracks by artists no seed has, and the blend's hits
    spread = []  # (distinct artists / seeds, p@10, share of the hidden tracks by seed artists)
    auc = defaultdict(lambda: [0.0, 0])  # score -> [pairs won, pairs]
    mix = ArtistMix.from_settings(settings)
    for t in targets:
        rows = cat.library.track_positions(pd.Index(t.candidates))
        world = pop[t.persona][rows] > 0
        values = blended(t, res.weights, method, mix)
        top = rank(values, t.candidates, 10, t.last)
        hit_world.append(sum(1 for i in top if t.candidates[i] in t.hidden and world[i]) / 10)
        within.append(_within_artist_oracle(t, top) / 10)
        unmixed = blended(t, res.weights, method)  # before the artist mix
        allocation.append(_allocation_oracle(t, unmixed) / 10)
        _within_artist_pairs(t, {**{c: t.scores[c].to_numpy(dtype=float) for c in t.scores.columns},
                                 "blend": unmixed}, auc)
        hit_alone.append(sum(1 for i in top if t.candidates[i] in t.hidden and not world[i]) / 10)
        _other_artists(t, cat, seeds_of[(t.persona, t.playlist_id)], top, unmixed, other, spread)
        for i in top:
            if t.candidates[i] not in t.hidden:
                misses += 1
                misses_pop += bool(world[i])
        h_rows = cat.library.track_positions(pd.Index(sorted(t.hidden)))
        hidden_n += len(h_rows)
        hidden_pop0 += int((pop[t.persona][h_rows[h_rows >= 0]] == 0).sum())
        unknown = ~np.isin(t.candidates, list(t.known)) & ~world
        b = np.nan_to_num(values, nan=-1.0)
        cut = rank(b + 10.0 * unknown, t.candidates, 10, t.last)
        shortcut.append(float(np.isin(t.candidates[cut], list(t.hidden)).sum()) / 10)
        per_weighting = [float(np.isin(t.candidates[rank(blended(t, w, method, mix), t.candidates, 10, t.last)],
                                       list(t.hidden)).sum()) / 10
                         for w in weightings]
        oracle.append(max(per_weighting))
        singles.append(per_weighting)
    return {"split": split, "targets": len(targets), "blend_p@10": res.metrics["blend"]["p@10"],
            "hidden_world_pop0": round(hidden_pop0 / max(hidden_n, 1), 4),
            "misses_world_pop_gt0": round(misses_pop / max(misses, 1), 4),
            "blend_p@10_on_world_tracks": round(float(np.mean(hit_world)), 4),
            "blend_p@10_on_tracks_in_no_world_playlist": round(float(np.mean(hit_alone)), 4),
            "shortcut_p@10": round(float(np.mean(shortcut)), 4),
            "oracle_weightings": len(weightings), "oracle_weightings_p@10": round(float(np.mean(oracle)), 4),
            "best_single_weighting_p@10": round(float(np.mean(singles, axis=0).max()), 4),
            "within_artist_oracle_p@10": round(float(np.mean(within)), 4),
            "allocation_oracle_p@10": round(float(np.mean(allocation)), 4),
            "other_artists": {"share": round(other["hidden"] / max(other["all_hidden"], 1), 4),
                              "reached": round(other["reached"] / max(other["hidden"], 1), 4),
                              "of_hits": round(other["hits"] / max(other["all_hits"], 1), 4),
                              "candidates": round(other["candidates"] / max(len(targets), 1), 1),
                              "first_pick_hit_rate": round(other["first_hit"] / max(other["first"], 1), 4),
                              "blend_tenth_place_hit_rate": round(other["tenth_hit"] / max(len(targets), 1), 4)},
            "p@10_by_seed_artist_spread": _by_spread(spread),
            "within_artist_auc": {k: round(won / n, 3) for k, (won, n) in auc.items() if n}}


def _other_artists(t, cat, seeds: list[str], top: np.ndarray, unmixed: np.ndarray, acc, spread: list) -> None:
    """Add to ``acc`` one target's hidden tracks by artists no seed has (the catalogue's artist
    key), how many discovery reached and the blend's ``top`` holds, its candidates by such
    artists and whether the best of them by ``unmixed`` is hidden; to ``spread`` its seeds'
    spread over artists, p@10 and the share of its hidden tracks by seed artists."""
    from recommender.persona import rank

    def artist(ids) -> np.ndarray:
        rows = cat.library.track_positions(pd.Index(list(ids)))
        return np.where(rows >= 0, cat.artist_of[np.maximum(rows, 0)], -1)
    seed_artists = set(artist(seeds).tolist()) - {-1}
    hidden = sorted(t.hidden)
    by_other = ~np.isin(artist(hidden), list(seed_artists))
    candidates = set(t.candidates)
    acc["all_hidden"] += len(hidden)
    acc["hidden"] += int(by_other.sum())
    acc["reached"] += sum(1 for h, o in zip(hidden, by_other) if o and h in candidates)
    is_hidden = np.isin(t.candidates, hidden)
    acc["all_hits"] += int(is_hidden[top].sum())
    mine = ~np.isin(artist(t.candidates), list(seed_artists))
    acc["hits"] += int((is_hidden & mine)[top].sum())
    acc["tenth_hit"] += float(is_hidden[top[9]]) if len(top) >= 10 else 0.0
    pool = mine & ~t.last & ~np.isnan(unmixed)
    acc["candidates"] += int(pool.sum())
    if pool.any():
        acc["first"] += 1
        best = np.flatnonzero(pool)[rank(np.where(pool, unmixed, np.nan)[pool], t.candidates[pool], 1)[0]]
        acc["first_hit"] += float(is_hidden[best])
    spread.append((len(seed_artists) / max(len(seeds), 1), float(is_hidden[top].sum()) / 10,
                   1 - float(by_other.mean()) if len(hidden) else 0.0))


def _by_spread(spread: list) -> dict:
    """``spread``'s targets in five bands of their seeds' spread over artists ("0.8-1.0": four
    in five seeds by an artist of their own): targets, mean p@10, mean share of the hidden
    tracks by seed artists."""
    out = {}
    for lo in (0.0, 0.2, 0.4, 0.6, 0.8):
        band = [(p, s) for x, p, s in spread if lo < x <= lo + 0.2 or (lo == 0.0 and x == 0.0)]
        if band:
            out[f"{lo:.1f}-{lo + 0.2:.1f}"] = {"targets": len(band), "p@10": round(float(np.mean([p for p, _ in band])), 4),
                                               "hidden_by_seed_artists": round(float(np.mean([s for _, s in band])), 4)}
    return out


def _within_artist_pairs(t, scores: dict, acc) -> None:
    """Add to ``acc`` (score -> [won, pairs]) every (hidden, other) pair of candidates of one
    seed artist of ``t``: won when the hidden one scores higher (a tie: half; NaN lowest). A
    seed's other releases (``t.last``) are no candidates here, as in build-playlist."""
    hidden = np.isin(t.candidates, list(t.hidden))
    for code in np.unique(t.artist_codes[hidden]):
        if code < 0 or t.seed_share[code] == 0:
            continue
        mine = (t.artist_codes == code) & ~t.last
        h, other = mine & hidden, mine & ~hidden
        if not other.any():
            continue
        for name, values in scores.items():
            v = np.nan_to_num(values, nan=-np.inf)
            a, b = v[h][:, None], v[other][None, :]
            acc[name][0] += float((a > b).sum() + 0.5 * (a == b).sum())
            acc[name][1] += a.size * b.size


def _within_artist_oracle(t, top: np.ndarray) -> int:
    """Hits of ``top`` (positions into ``t.candidates``) had each artist's places in it gone to
    that artist's hidden candidates first (a track without an artist keeps its own place; a
    seed's other releases, ranked last, are none)."""
    hidden = np.isin(t.candidates, list(t.hidden)) & ~t.last
    codes = t.artist_codes[top]
    hits = int(hidden[top][codes < 0].sum())
    for code, places in zip(*np.unique(codes[codes >= 0], return_counts=True)):
        hits += min(int(places), int(hidden[t.artist_codes == code].sum()))
    return hits


def _allocation_oracle(t, values: np.ndarray, n: int = 10) -> int:
    """Most hits a list of ``n`` can hold when each artist's candidates keep their order by
    ``values`` (best first, ties by track id, NaN and a seed's other releases never) and only
    how many of its first ones each artist gets is chosen, with hindsight; a track without an
    artist is a group of its own."""
    hidden = np.isin(t.candidates, list(t.hidden))
    ok = np.flatnonzero(~np.isnan(values) & ~t.last)
    order = ok[np.lexsort((t.candidates[ok], -values[ok]))]
    groups: dict[int, list[bool]] = {}
    for i in order:
        code = int(t.artist_codes[i])
        group = groups.setdefault(code if code >= 0 else -1 - int(i), [])
        if len(group) < n:
            group.append(bool(hidden[i]))
    best = np.full(n + 1, -1)  # best[k]: most hits with k places given out so far (-1: not reachable)
    best[0] = 0
    for group in groups.values():
        hits = np.concatenate([[0], np.cumsum(group)])
        new = best.copy()
        for used in np.flatnonzero(best >= 0):
            for k in range(1, min(n - used, len(group)) + 1):
                new[used + k] = max(new[used + k], best[used] + hits[k])
        best = new
    return int(best.max())


COMPARED = ("p@10", "new@10", "ndcg@10")  # --compare's metrics


def compare_persona(data: Path, split: str, variant: dict, caps: list[str], resamples: int = 2000,
                    seed: int = 0) -> dict:
    """``--compare``: the shipped blend (with ``--set``) against the same with ``variant``'s
    config keys too, each target ranked both ways; ``paired_gain`` of each metric. Each side's
    discovery caps are its own settings' (``--caps`` over both), so a variant of
    ``refresh.discovery_shared_albums`` reads other albums."""
    lib, cat = persona_split(data, split)
    base = persona_side(lib, cat, _settings(), caps)
    return compared(split, base, persona_side(lib, cat, _settings().with_overrides(variant), caps), resamples, seed,
                    compare=dict(variant))


def persona_split(data: Path, split: str):
    """(split library, its Catalogue) of ``data``, refused when it makes no persona."""
    from recommender.persona import Catalogue
    lib = split_library(load_dataset(data), split)
    cat = Catalogue(lib)
    _needs_a_persona(lib, cat, data, split)
    return lib, cat


def persona_side(lib, cat, settings, caps: list[str]):
    """One side of a comparison: (the persona result, ``per_target`` metrics) of ``settings``."""
    from recommender.persona import evaluate_personas
    res, _ = evaluate_personas(lib, settings, caps=parse_caps(caps, settings), singles=False, standins=False, cat=cat)
    return res, res.each


def compared(split: str, base, variant, resamples: int = 2000, seed: int = 0, **said) -> dict:
    """The comparison of two ``persona_side``s (``said``: what the variant changes, e.g.
    ``compare``, the config keys)."""
    (res, a), (var, b) = base, variant
    return {"split": split, "personas": res.personas, "targets": res.targets, "set": dict(OVERRIDES),
            "compare": {}, **said,
            "requests": {"base": round(res.requests, 1), "variant": round(var.requests, 1)},
            "metrics": {m: paired_gain({k: v[m] for k, v in a.items()}, {k: v[m] for k, v in b.items()},
                                       resamples, seed) for m in COMPARED}}


def paired_gain(base: dict, variant: dict, resamples: int = 2000, seed: int = 0) -> dict:
    """The variant's gain over the base on the same targets (keys ``(persona, playlist id)``):
    the mean of the per-target differences (the difference of the two macro averages), its 95 %
    interval over personas resampled with replacement (a persona's targets share its library and
    discovery, so they go together), and how many targets gain and lose."""
    if set(base) != set(variant):
        raise ValueError("the two runs ranked different targets")
    keys = sorted(base)
    diff = np.array([variant[k] - base[k] for k in keys], dtype=float)
    personas = sorted({k[0] for k in keys})
    index = {p: i for i, p in enumerate(personas)}
    of = np.array([index[k[0]] for k in keys], dtype=np.int64)
    sums = np.bincount(of, weights=diff, minlength=len(personas))
    counts = np.bincount(of, minlength=len(personas)).astype(float)
    draws = np.random.default_rng(seed).integers(0, len(personas), size=(resamples, len(personas)))
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"base": round(float(np.mean([base[k] for k in keys])), 4),
            "variant": round(float(np.mean([variant[k] for k in keys])), 4),
            "gain": round(float(diff.mean()), 4), "interval_95": [round(float(low), 4), round(float(high), 4)],
            "targets_gained": int((diff > 0).sum()), "targets_lost": int((diff < 0).sum()),
            "resamples": resamples}


def compare_table(out: dict) -> str:
    sets = " ".join(f"{k}={v}" for k, v in out["set"].items()) or "the shipped defaults"
    lines = [f"{out['split']}: {out['personas']} personas, {out['targets']} targets; base: {sets}; variant: also "
             + " ".join([f"{k}={v}" for k, v in out["compare"].items()] + ([out["lever"]] if "lever" in out else []))
             + f"; requests a persona {out['requests']['base']:.0f} -> {out['requests']['variant']:.0f}",
             f"{'metric':10s}{'base':>9s}{'variant':>9s}{'gain':>9s}   {'95 % interval (personas resampled)':36s}"
             "targets gained / lost"]
    for m, g in out["metrics"].items():
        lo, hi = g["interval_95"]
        lines.append(f"{m:10s}{g['base']:9.4f}{g['variant']:9.4f}{g['gain']:+9.4f}   {lo:+.4f} to {hi:+.4f}"
                     f"{'':17s}{g['targets_gained']} / {g['targets_lost']}")
    return "\n".join(lines)


def persona_table(results: dict) -> str:
    lines = []
    for split, res in results.items():
        lines.append(f"\n{split}  ({res['personas']} personas, {res['targets']} targets, {res['seconds']} s, "
                     f"weights {res['weights']})")
        cols = (*PERSONA_METRICS, "reach", "requests")
        lines.append(f"{'method':72s}" + "".join(f"{m:>9s}" for m in cols))
        for name, met in res["methods"].items():
            lines.append(f"{name:72s}" + "".join(f"{met[m]:9.4f}" if m != "requests" else f"{met[m]:9.0f}"
                                                  for m in cols))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True, metavar="FILE",
                   help="the playlist data file (the TidyTuesday spotify_songs.csv.gz)")
    p.add_argument("--splits", nargs="+", default=["dev", "holdout"], choices=["dev", "holdout"])
    p.add_argument("--features", nargs="+", default=["restricted", "full"], choices=["restricted", "full"])
    p.add_argument("--no-anchors", action="store_true", help="only our blend and scorers")
    p.add_argument("--json", action="store_true")
    p.add_argument("--tune", action="store_true", help="tune the blend weights on dev (first --features level)")
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--grid", type=float, nargs="+", help="with --tune: weights tried per scorer (default tune.grid)")
    p.add_argument("--scorers", nargs="+", help="with --tune: only these scorers get a weight")
    p.add_argument("--normalisation", choices=["rank", "minmax"], help="override blend.normalisation")
    p.add_argument("--protocol", choices=["continuation", "persona"], default="continuation",
                   help="persona: tt-persona-v1 (PERSONA.md) with its anchors")
    p.add_argument("--diagnose", action="store_true",
                   help="with --protocol persona: the shortcut diagnosis (README), first --splits only")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key for this run (repeatable), e.g. --set scorers.artist_walk.weight=0.3")
    p.add_argument("--caps", action="append", default=[], metavar="KEY=VALUE",
                   help="with --protocol persona: the method's look-ups (recommender/persona.py DiscoveryCaps), "
                        "e.g. --caps similar_artists_of=3 --caps top_recordings=10")
    p.add_argument("--compare", action="append", default=[], metavar="KEY=VALUE",
                   help="with --protocol persona: the paired gain of these config keys (repeatable) over "
                        "the blend of --set, per target, with its 95 %% interval over resampled personas "
                        "(first --splits only)")
    p.add_argument("--resamples", type=int, default=2000, help="with --compare: bootstrap resamples")
    args = p.parse_args(argv)
    if args.compare and args.protocol != "persona":
        p.error("--compare needs --protocol persona (it resamples personas)")
    if args.resamples < 1:
        p.error(f"--resamples {args.resamples}: at least 1")
    OVERRIDES.clear()
    OVERRIDES.update(parse_set(args.overrides))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    if args.protocol == "persona" and args.diagnose:
        print(json.dumps(persona_diagnosis(args.data, args.splits[0]), indent=2))
        return 0
    if args.compare:
        out = compare_persona(args.data, args.splits[0], parse_set(args.compare), args.caps, args.resamples)
        print(json.dumps(out, indent=2) if args.json else compare_table(out))
        return 0
    if args.protocol == "persona":
        results = run_persona(args.data, args.splits, parse_caps(args.caps, _settings()))
        print(json.dumps({"protocol": "tt-persona-v1", "results": results}, indent=2) if args.json
              else persona_table(results))
        return 0
    if args.tune:
        print(json.dumps(tune_dev(args.data, args.features[0], args.folds, args.normalisation,
                                         args.grid, args.scorers), indent=2))
        return 0
    results = run(args.data, args.splits, args.features, not args.no_anchors, args.normalisation)
    checks = check_targets(results)
    if args.json:
        print(json.dumps({"protocol": "tt-continuation-v1", "results": results, "checks": checks}, indent=2))
    else:
        print(table(results))
        print("\n" + "\n".join(checks))
    return 0 if all(c.startswith("PASS") for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
