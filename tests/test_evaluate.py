"""Metrics on hand-worked lists; the evaluation hides what it must hide."""

from __future__ import annotations

import re

import json
import math

import numpy as np
import pandas as pd
import pytest

from recommender.config import load_settings
from recommender.dataset import hide_random
from recommender.errors import NotEnoughData
from recommender.evaluate import (EvalResult, evaluate, ndcg_at, precision_at, r_precision, recall_at,
                                  top_positions)
from recommender.library import Library
from recommender.scorers import ContentScorer, PopularityScorer
from recommender.scorers.base import Scorer
from deprecation_marks import DEPRECATIONS_OF_OURS

pytestmark = DEPRECATIONS_OF_OURS


def themed_library(n_playlists: int = 6, per: int = 12, seed: int = 0) -> Library:
    """Playlists with one theme each: the theme's artists, album and title words."""
    rng = np.random.default_rng(seed)
    rows, items = [], []
    for p in range(n_playlists):
        for i in range(per):
            tid = f"t{p:02d}{i:02d}"
            a = f"art{p}_{i % 3}"
            rows.append({"track_id": tid, "name": f"theme{p} song {rng.integers(1000)}", "artist_ids": [a],
                         "artist_names": [f"Artist {p} {i % 3}"], "album_id": f"al{p}_{i % 2}",
                         "album_name": f"record{p}", "release_date": str(1970 + 5 * p)})
            items.append({"playlist_id": f"p{p}", "track_id": tid, "position": i})
    playlists = pd.DataFrame({"playlist_id": [f"p{p}" for p in range(n_playlists)],
                              "name": [f"list {p}" for p in range(n_playlists)]})
    return Library.from_frames(tracks=pd.DataFrame(rows), playlists=playlists, playlist_items=pd.DataFrame(items))


@pytest.fixture(scope="module")
def settings():
    return load_settings(config_file=None, environ={})


# ----- metrics ---------------------------------------------------------------------------------

RANKED = ["a", "b", "c", "d", "e"]
RELEVANT = {"b", "e", "z"}


def test_precision_recall_hand_worked():
    assert precision_at(RANKED, RELEVANT, 5) == pytest.approx(2 / 5)
    assert precision_at(RANKED, RELEVANT, 1) == 0.0
    assert precision_at(RANKED, RELEVANT, 2) == pytest.approx(1 / 2)
    assert precision_at(["a"], {"a"}, 10) == pytest.approx(0.1)  # divides by N, not min(N, |H|)
    assert recall_at(RANKED, RELEVANT, 5) == pytest.approx(2 / 3)
    assert recall_at(RANKED, set(), 5) == 0.0


def test_ndcg_hand_worked():
    dcg = 1 / math.log2(3) + 1 / math.log2(6)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # min(5, |H| = 3) hits
    assert ndcg_at(RANKED, RELEVANT, 5) == pytest.approx(dcg / ideal)
    assert ndcg_at(["b", "e", "z"], RELEVANT, 5) == pytest.approx(1.0)
    assert ndcg_at(["b"], {"b"}, 10) == pytest.approx(1.0)  # ideal has min(10, 1) = 1 hit
    assert ndcg_at(RANKED, set(), 5) == 0.0


def test_r_precision_hand_worked():
    assert r_precision(RANKED, RELEVANT) == pytest.approx(1 / 3)  # top 3 = a, b, c
    assert r_precision(["z", "b", "e"], RELEVANT) == 1.0
    with pytest.raises(ValueError):
        precision_at(RANKED, RELEVANT, 0)


def test_matrix_metrics_hand_worked():
    """The one implementation of each metric, on hand-made hit rows (targets x ranks)."""
    from recommender.evaluate import diversity, hit_coverage, ndcg, precision, r_precision_of, recall
    hits = np.array([[0, 1, 0, 1, 1],    # 4 relevant
                     [1, 0, 0, 0, 0],    # 1 relevant
                     [0, 0, 0, 0, 0]],   # nothing relevant
                    dtype=bool)
    n_rel = np.array([4, 1, 0])
    assert precision(hits, 3) == pytest.approx([1 / 3, 1 / 3, 0])
    assert recall(hits, n_rel, 3) == pytest.approx([1 / 4, 1, 0])
    d = 1 / np.log2([2, 3, 4])
    assert ndcg(hits, n_rel, 3) == pytest.approx([d[1] / d.sum(), 1, 0])
    assert r_precision_of(hits, n_rel) == pytest.approx([2 / 4, 1, 0])
    assert hit_coverage(hits, 3) == pytest.approx([1, 1, 0])
    assert hit_coverage(hits, 1) == pytest.approx([0, 1, 0])
    assert diversity(["A", "A", "B"]) == pytest.approx(2 / 3)
    assert diversity([]) == 0.0


class FixedScorer(Scorer):
    """Scores from a fixed table: the ranking of every target is known by hand."""

    name = "fixed"

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table

    def fit(self, library):
        return self

    def score(self, seeds, candidates):
        return pd.Series([self.table[t] for t in candidates], index=candidates, dtype=float)


def test_evaluate_metrics_hand_worked(settings):
    """evaluate() on two targets whose rankings are known: every metric is checked, so a
    broken precision, recall, nDCG, R-precision, coverage or diversity inside it fails."""
    ids = ["s1", "s2", "s3"] + [f"c{i}" for i in range(1, 9)]
    artist = {"c1": "A", "c2": "A", "c3": "B"}
    tracks = pd.DataFrame([{"track_id": t, "name": f"song {t}", "artist_ids": [artist.get(t, f"x{t}")],
                            "artist_names": [artist.get(t, f"x{t}")], "album_id": f"al{t}", "album_name": "r",
                            "release_date": "2000"} for t in ids])
    members = {"P": ["s1", "s2", "c2", "c4", "c7", "c8"], "Q": ["s3", "c1"]}
    items = pd.DataFrame([{"playlist_id": p, "track_id": t, "position": i}
                          for p, ts in members.items() for i, t in enumerate(ts)])
    lib = Library.from_frames(tracks=tracks, playlists=pd.DataFrame({"playlist_id": ["P", "Q"], "name": ["p", "q"]}),
                              playlist_items=items)
    hidden = pd.DataFrame({"playlist_id": ["P"] * 4 + ["Q"], "track_id": ["c2", "c4", "c7", "c8", "c1"]})
    table = {f"c{i}": 10.0 - i for i in range(1, 9)} | {"s1": 0.0, "s2": 0.0, "s3": 0.0}
    res = evaluate(lib, hidden, settings, scorers={"fixed": FixedScorer(table)}, weights={"fixed": 1.0}, top_n=3)
    # P ranks c1 c2 c3 c4 ...: hits at 2, 4, 7, 8 of 4 hidden; Q ranks c1 first: its 1 hidden
    d = 1 / np.log2([2, 3, 4])
    expected = {"p@3": (1 / 3 + 1 / 3) / 2, "r@3": (1 / 4 + 1) / 2, "ndcg@3": (d[1] / d.sum() + 1) / 2,
                "rprec": (2 / 4 + 1) / 2, "coverage": 1.0, "diversity": 2 / 3, "catalogue_coverage": 3 / 11}
    for method in ("blend", "fixed"):
        got = res.metrics[method]
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, abs=1e-4), (method, key)
    assert res.targets == 2 and list(res.n_relevant) == [4, 1]
    assert res.hits["blend"].shape == (2, 50) and res.hits["blend"][0, :8].tolist() == [0, 1, 0, 1, 0, 0, 1, 1]


def test_top_positions_ties_nan_and_order():
    values = np.array([0.5, np.nan, 0.9, 0.5, 0.5, 0.1])
    tiebreak = np.array([5, 0, 1, 2, 0, 3])
    assert list(top_positions(values, 3, tiebreak)) == [2, 4, 3]
    assert list(top_positions(values, 10, tiebreak)) == [2, 4, 3, 0, 5]
    assert len(top_positions(np.full(3, np.nan), 2, np.arange(3))) == 0


# ----- evaluate --------------------------------------------------------------------------------

class MembershipScorer(Scorer):
    """Scores a candidate by how many playlists it shares with the seeds in the library it
    was fitted on, or, when leaky, in a library it kept from before the hiding."""

    name = "membership"

    def __init__(self, leak_from: Library | None = None) -> None:
        self.leak_from = leak_from

    def fit(self, library):
        source = self.leak_from if self.leak_from is not None else library
        self.items_ = source.playlist_items[["playlist_id", "track_id"]].astype(str)
        return self

    def score(self, seeds, candidates):
        pls = set(self.items_[self.items_["track_id"].isin(seeds.index)]["playlist_id"])
        counts = self.items_[self.items_["playlist_id"].isin(pls)]["track_id"].value_counts()
        return counts.reindex(candidates).fillna(0.0).astype(float)


def test_leaky_scorer_scores_differently_from_the_honest_one(settings):
    lib = themed_library()
    hidden = hide_random(lib, fraction=0.5, seed=3, min_tracks=10)
    honest = evaluate(lib, hidden, settings, scorers={"m": MembershipScorer()}, weights={"m": 1.0}, top_n=5)
    leaky = evaluate(lib, hidden, settings, scorers={"m": MembershipScorer(leak_from=lib)},
                     weights={"m": 1.0}, top_n=5)
    assert leaky.metrics["m"]["p@5"] == pytest.approx(1.0)
    # the honest one sees no hidden membership: its hits are only what ties let through
    assert honest.metrics["m"]["p@5"] < 0.5


def test_hidden_pairs_are_invisible_to_every_scorer(settings):
    lib = themed_library()
    hidden = hide_random(lib, fraction=0.5, seed=1, min_tracks=10)
    seen = {}

    class Spy(Scorer):
        name = "spy"

        def fit(self, library):
            seen["items"] = library.playlist_items
            return self

        def score(self, seeds, candidates):
            seen.setdefault("seeds", []).append(set(seeds.index))
            seen.setdefault("candidates", []).append(set(candidates))
            return pd.Series(0.0, index=candidates)

    evaluate(lib, hidden, settings, scorers={"spy": Spy()}, weights={"spy": 1.0}, top_n=5)
    key = set(zip(seen["items"]["playlist_id"], seen["items"]["track_id"]))
    assert not key & set(zip(hidden["playlist_id"], hidden["track_id"]))
    for seeds, cands in zip(seen["seeds"], seen["candidates"]):
        assert not seeds & cands
        assert len(seeds) + len(cands) == len(lib.track_ids)


def test_evaluate_result_shape_and_progress(settings):
    lib = themed_library()
    hidden = hide_random(lib, fraction=0.5, seed=2, min_tracks=10)
    calls = []
    res = evaluate(lib, hidden, settings, scorers={"content": ContentScorer(), "popularity": PopularityScorer()},
                   weights={"content": 1.0, "popularity": 0.0}, top_n=5, progress=lambda d, t: calls.append((d, t)))
    assert isinstance(res, EvalResult)
    assert calls[-1] == (6, 6) and len(calls) == 6
    out = json.loads(json.dumps(res.to_dict()))
    for key in ("p@5", "r@5", "ndcg@5", "rprec", "targets", "seconds", "scorers", "coverage"):
        assert key in out
    assert out["targets"] == 6
    assert set(out["scorers"]) == {"content", "popularity"}
    assert set(out["scorers"]["content"]) >= {"p@5", "r@5", "ndcg@5", "rprec", "catalogue_coverage"}
    # themed playlists: content finds the hidden half; popularity (counts) cannot
    assert out["p@5"] > 0.8
    assert out["scorers"]["popularity"]["p@5"] < out["p@5"]
    curve = res.precision_curve("blend", 10)
    assert len(curve) == 10 and curve[4] == pytest.approx(out["p@5"], abs=1e-4)


def test_evaluate_needs_targets(settings):
    lib = themed_library()
    everything = lib.playlist_items[["playlist_id", "track_id"]]
    with pytest.raises(NotEnoughData):
        evaluate(lib, everything, settings, scorers={"content": ContentScorer()}, weights={"content": 1.0})


def test_write_report_itself_refuses_a_file_named_as_another_format(settings, tmp_path):
    """`evaluate --report r.png` is refused by the CLI before the work (``check_available``), but
    ``write_report`` itself, which ``check_available`` says it stands in for, wrote the HTML page
    into r.png for any other caller; it refuses it too now, as ``plot_clusters`` does its ending."""
    pytest.importorskip("matplotlib")
    from recommender.errors import UsageError
    from recommender.report import write_report

    lib = themed_library()
    hidden = hide_random(lib, fraction=0.5, seed=2, min_tracks=10)
    res = evaluate(lib, hidden, settings, scorers={"content": ContentScorer()}, weights={"content": 1.0}, top_n=5)
    with pytest.raises(UsageError, match="the report is an HTML page"):
        write_report(res, tmp_path / "r.png")
    assert not (tmp_path / "r.png").exists()


def test_write_report_embeds_charts(settings, tmp_path):
    pytest.importorskip("matplotlib")
    from recommender.report import write_report

    lib = themed_library()
    hidden = hide_random(lib, fraction=0.5, seed=2, min_tracks=10)
    res = evaluate(lib, hidden, settings, scorers={"content": ContentScorer()}, weights={"content": 1.0}, top_n=5)
    out = write_report(res, tmp_path / "r.html", source="sample.csv (dev split, protocol hiding)")
    text = out.read_text()
    assert text.count("data:image/png;base64,") == 2
    assert "<td>content</td>" in text
    # what was measured and when, as the terminal's title says it (it said only "40 target playlists")
    head = text.split("<body>")[1].split("</p>")[0]
    assert "target playlists from sample.csv (dev split, protocol hiding), top 5, " in head
    assert "blend weights content 1; measured 20" in head and head.endswith(" UTC") and "{" not in head
    assert not re.search(r"\+00:00|T\d\d:", head)  # a time as every page shows it ("+00:00 UTC" said it twice)


def test_the_report_marks_a_scorer_at_weight_0_off_as_evaluate_does(settings, tmp_path):
    """The HTML report listed popularity at weight 0 among the blend's weights and its row among
    the others, as if it were in the blend, after `recommend evaluate`'s table had come to mark it
    "0 (off)". The report now has the table's weight column and the line under it, in the same
    words (config.weight_cell, config.off_line), and its chart calls the curve "(off)"."""
    pytest.importorskip("matplotlib")
    from recommender.report import write_report

    lib = themed_library()
    hidden = hide_random(lib, fraction=0.5, seed=2, min_tracks=10)
    res = evaluate(lib, hidden, settings, scorers={"content": ContentScorer(), "popularity": PopularityScorer()},
                   weights={"content": 1.5, "popularity": 0.0}, top_n=5)
    text = write_report(res, tmp_path / "r.html").read_text()
    assert "blend weights content 1.5; measured " in text  # popularity is not in the blend
    assert "<tr><td>popularity</td><td>0 (off)</td>" in text and "<tr><td>content</td><td>1.5</td>" in text
    assert "<tr><td>blend</td><td></td>" in text and "<th>method</th><th>weight</th>" in text
    assert ("<p id='off'>popularity is off (weight 0), not in the blend; its row shows how well it would do alone "
            "(to use one, set scorers.NAME.weight above 0; <code>recommend tune</code> then searches its weight too)</p>") in text


def test_the_report_of_tune_does_not_say_let_tune_search_the_weights(settings, tmp_path):
    """`tune --report` evaluates the weights tune found best; for a scorer they leave at 0 the
    report said "... or let `recommend tune` search the weights", just after tune had. It now
    says to set the weight yourself: tune searches only scorers with one (a scorer at 0 is not
    searched) and may leave one at 0 (config.TURN_ON_TUNED); evaluate's report says to set the
    weight, then tune searches it."""
    pytest.importorskip("matplotlib")
    from recommender.report import write_report
    from recommender.tune import tune

    lib = themed_library(n_playlists=4, per=12)
    scorers = {"content": ContentScorer(), "popularity": PopularityScorer()}
    tuned = tune(lib, settings, folds=1, grid=[0.0, 1.0], seed=3, top_n=5, scorers=scorers)
    res = evaluate(lib, hide_random(lib, fraction=0.5, seed=2, min_tracks=10), settings, scorers=scorers,
                   weights={"content": 1.0, "popularity": 0.0}, top_n=5)
    text = write_report(res, tmp_path / "r.html", tuned=tuned).read_text()
    off = text.split("<p id='off'>", 1)[1].split("</p>", 1)[0]
    assert off == ("popularity is off (weight 0), not in the blend; its row shows how well it would do alone (to use "
                   "one, set scorers.NAME.weight yourself: tune searches only scorers with a weight, and may leave one "
                   "at 0)")
    assert "<code>recommend tune</code> then searches its weight too" in write_report(res, tmp_path / "e.html").read_text()
    assert "<title>recommend: tuning</title>" in text and "<h1>Tuning</h1>" in text  # (it said "Evaluation")
    # the tuning summary's lines are lines (each break was a visible "\x0a"), and the numbers say whose they are
    summary = text.split("<h2>tuning summary</h2><pre>", 1)[1].split("</pre>", 1)[0]
    assert "\\x0a" not in summary and summary.count("\n") > 5 and "&quot;folds&quot;: 1" in summary
    whose = text.split("<p id='whose'>", 1)[1].split("</p>", 1)[0]
    assert whose.startswith("These are the numbers of tune's best weights")
    assert ("tune keeps your current weights" in whose) == tuned.within_spread
    assert "<p id='whose'>" not in write_report(res, tmp_path / "e.html").read_text()


def test_a_report_named_as_a_folder_is_refused():
    """`--report out/` wrote the report to a file named "out"."""
    from recommender.errors import UsageError
    from recommender.report import check_available
    with pytest.raises(UsageError, match=r"^out/: names a folder; give the report's file name"):
        check_available("out/")


def test_the_line_about_a_scorer_at_weight_0_does_not_say_tune_would_turn_it_on(settings):
    """`recommend evaluate` (its table, its report) said of the scorers at weight 0 "to use one, set
    scorers.NAME.weight, or let `recommend tune` search the weights"; but tune searches only the
    scorers that have a weight: it never turns one at 0 on. It now says to set the weight above 0,
    after which tune searches it too."""
    from recommender.config import off_line
    from recommender.tune import tune

    lib = themed_library(n_playlists=4, per=12)
    off = settings.with_overrides({"scorers.popularity.weight": 0.0, "scorers.content.weight": 1.0})
    on = settings.with_overrides({"scorers.popularity.weight": 0.5, "scorers.content.weight": 1.0})
    searched = {name: set(tune(lib, s, folds=1, grid=[0.0, 1.0], seed=3, top_n=5, fixed=()).best_weights)
                for name, s in (("off", off), ("on", on))}
    assert "popularity" not in searched["off"] and "popularity" in searched["on"]  # what the line must say
    line = off_line({"content": 1.0, "popularity": 0.0})
    assert "let `recommend tune` search" not in line
    assert line.endswith("(to use one, set scorers.NAME.weight above 0; `recommend tune` then searches its "
                         "weight too)")


def test_a_seeds_other_release_is_no_candidate_as_in_build_playlist(settings):
    """build-playlist never offers another release of a seed's song (same ISRC, or the same
    normalised title and first artist: ``pipeline.dedupe``); evaluate (and tune, through
    ``iter_targets``) measured a ranking holding it, where content ranks it first. Two copies of
    another song both stay: the benchmark does not keep "the first" of them."""
    from recommender.evaluate import iter_targets
    names = {"s1": "Song One", "s2": "Song Two", "r1": "Song One - 2011 Remaster", "r2": "Other Title",
             "c1": "Three", "c2": "Four", "d1": "Five", "d2": "Five - Remastered 2009", "q1": "Six"}
    isrc = {"s2": "USAAA0000001", "r2": "US-AAA-00-00001"}
    tracks = pd.DataFrame([{"track_id": t, "name": n, "artist_ids": ["A"], "artist_names": ["Artist"],
                            "album_id": f"al{t}", "album_name": "r", "release_date": "2000", "isrc": isrc.get(t)}
                           for t, n in names.items()])
    members = {"P": ["s1", "s2", "r1", "c2", "r2"], "Q": ["q1", "c1", "d1", "d2"]}
    items = pd.DataFrame([{"playlist_id": p, "track_id": t, "position": i}
                          for p, ts in members.items() for i, t in enumerate(ts)])
    lib = Library.from_frames(tracks=tracks, playlists=pd.DataFrame({"playlist_id": ["P", "Q"], "name": ["p", "q"]}),
                              playlist_items=items)
    hidden = pd.DataFrame({"playlist_id": ["P", "P", "P"], "track_id": ["r1", "c2", "r2"]})
    table = {"r1": 10.0, "r2": 9.0, "c1": 5.0, "c2": 1.0, "d1": 0.5, "d2": 0.4, "q1": 0.3, "s1": 0.0, "s2": 0.0}
    res = evaluate(lib, hidden, settings, scorers={"fixed": FixedScorer(table)}, weights={"fixed": 1.0}, top_n=2)
    # r1 (title) and r2 (ISRC) are releases of P's seeds: P ranks c1 c2 ..., one hit in the top 2
    assert res.hits["blend"][0, :3].tolist() == [0, 1, 0]
    assert res.metrics["blend"]["p@2"] == pytest.approx(0.5)
    visible = lib.without_memberships(hidden)
    (t,) = iter_targets(visible, hidden, {"fixed": FixedScorer(table).fit(visible)})
    assert sorted(t.candidates) == ["c1", "c2", "d1", "d2", "q1"]


def test_ranking_the_blend_mixes_only_its_head_and_ranks_as_mixing_every_candidate():
    """The artist mix ranked each of a target's ~45,000 candidates among its artist's at every
    evaluation (0.3 s of a web slider move on 30 targets); only the best ``8n`` are mixed now,
    with every candidate mixed when that could differ: the same positions, ties and NaN included."""
    from recommender.blend import ArtistMix
    from recommender.evaluate import mixed_top_positions, top_positions
    rng = np.random.default_rng(3)
    for _ in range(400):
        size = int(rng.integers(1, 2500))
        v = rng.random(size)
        if rng.random() < 0.5:
            v = np.round(v, int(rng.integers(1, 3)))  # many ties
        v[rng.random(size) < rng.random() * 0.5] = np.nan
        n_artists = int(rng.integers(1, 150))
        codes = rng.integers(-1, n_artists, size)
        share = rng.random(n_artists + 3)
        share /= share.sum() * rng.uniform(0.5, 3)
        tiebreak = rng.permutation(size)
        mix = ArtistMix(float(rng.choice([0.0, 0.05, 0.3, 1.0])))
        length, n = int(rng.integers(1, 30)), int(rng.integers(1, 100))
        mixed = v * mix.factors(v, codes, share, length, tiebreak) if mix.active else v
        assert np.array_equal(mixed_top_positions(v, mix, codes, share, length, n, tiebreak),
                              top_positions(mixed, n, tiebreak))


def test_a_head_whose_last_mixed_score_ties_one_left_out_is_ranked_whole():
    """The shortcut is exact only when the n-th mixed score beats (not equals) every score left
    out: a left-out candidate that ties it and comes first by the tiebreak takes its place."""
    from recommender.blend import ArtistMix
    from recommender.evaluate import mixed_top_positions, top_positions
    mix = ArtistMix(0.5)
    # 0: raw 0.8, no artist (mixed 0.4); 1..62: raw 0.6, no artist (mixed 0.3); 63 and 64: raw
    # 0.4, each the only track of an artist with the whole share (mixed 0.4, as raw)
    v = np.array([0.8] + [0.6] * 62 + [0.4, 0.4])
    codes = np.array([-1] * 63 + [0, 1])
    share = np.array([1.0, 1.0])
    for first in (63, 64):  # either 0.4 first by the tiebreak, then the other, then 0
        tiebreak = np.arange(len(v)) + 2
        tiebreak[first], tiebreak[127 - first], tiebreak[0] = 0, 1, 200
        mixed = v * mix.factors(v, codes, share, 1, tiebreak)
        assert mixed[0] == mixed[63] == mixed[64] == 0.4
        assert mixed_top_positions(v, mix, codes, share, 1, 1, tiebreak).tolist() == [first]
        assert np.array_equal(mixed_top_positions(v, mix, codes, share, 1, 3, tiebreak),
                              top_positions(mixed, 3, tiebreak))
    # the head (the best 64 raw scores) holds 0 and 1..62 and 63; 64 ties 0's mixed score, first
    tiebreak = np.arange(len(v)) + 2
    tiebreak[64], tiebreak[63] = 0, 300
    v[63] = 0.41  # 63 enters the head for sure; its mixed 0.41 leads, then 64 (0.4) before 0 (0.4)
    mixed = v * mix.factors(v, codes, share, 2, tiebreak)
    assert mixed_top_positions(v, mix, codes, share, 2, 2, tiebreak).tolist() == top_positions(mixed, 2, tiebreak).tolist()


def test_an_evaluation_kept_for_many_weights_gives_what_evaluate_gives(settings):
    """`recommend web` keeps one ``Evaluation`` and asks it again at every slider move: its
    result for any weights is ``evaluate``'s, numbers, curves and per-scorer rows alike (an
    optional scorer turned on, artist_walk's factor on few playlists, another normalisation)."""
    from recommender.evaluate import Evaluation
    lib = themed_library(n_playlists=8, per=14)
    hidden = hide_random(lib, fraction=0.3, seed=1, min_tracks=5)
    for method in ("rank", "minmax"):
        base = settings.with_overrides({"blend.normalisation": method})
        kept = Evaluation(lib, hidden, top_n=5, method=method)
        for weights in ({}, {"scorers.content.weight": 0.3, "scorers.popularity.weight": 2.0},
                        {"scorers.audio.weight": 1.0, "scorers.artist_walk.weight": 2.0, "scorers.year.weight": 0.0},
                        {"scorers.content.weight": 1.0}):
            s = base.with_overrides(weights)
            got, want = kept.result(s), evaluate(lib, hidden, s, top_n=5)
            assert got.to_dict() | {"seconds": 0} == want.to_dict() | {"seconds": 0}
            assert all(np.array_equal(got.hits[m], want.hits[m]) for m in want.hits) and got.hits.keys() == want.hits.keys()


def test_the_kept_evaluation_and_evaluate_both_show_the_audio_row_at_weight_0(settings):
    """On a library with audio features `recommend evaluate` shows audio at weight 0 as a row,
    "0 (off)" (what it would do alone); the web app's kept ``Evaluation`` shows the same row with
    the same numbers (the test above turns audio on, on a library without audio features)."""
    from recommender.evaluate import Evaluation
    lib = themed_library(n_playlists=8, per=14)
    rng = np.random.default_rng(3)
    ids = list(lib.track_ids)
    lib = lib.replace(audio_features=pd.DataFrame({"track_id": ids, "valence": rng.random(len(ids)),
                                                    "energy": rng.random(len(ids)), "tempo": 80 + 80 * rng.random(len(ids))}))
    hidden = hide_random(lib, fraction=0.3, seed=1, min_tracks=5)
    assert settings.scorers.audio.weight == 0
    kept = Evaluation(lib, hidden, top_n=5, method=settings.blend.normalisation)  # as the web app makes it
    got, want = kept.result(settings), evaluate(lib, hidden, settings, top_n=5)
    for result in (got.to_dict(), want.to_dict()):
        assert result["weights"]["audio"] == 0 and "p@5" in result["scorers"]["audio"]
    assert got.to_dict() | {"seconds": 0} == want.to_dict() | {"seconds": 0}


def test_a_report_names_no_folder_of_this_machine(settings, tmp_path):
    """An evaluation's title names the data folder ("the sample library in /home/ann/..."); the
    HTML report, a file to share, said it too, and with it the user's name."""
    from recommender import jobs
    setup = jobs.evaluation_setup(settings, library=themed_library())
    assert str(settings.frames_dir) in setup.source and str(settings.frames_dir) not in setup.shared_source
    assert setup.shared_source == setup.source.replace(f" in {settings.frames_dir}", "")


def test_the_hits_chart_counts_in_whole_numbers(monkeypatch):
    """With a few target playlists the "hits per target playlist" chart's y axis read 0.0, 0.5,
    1.0, 1.5, ...: half a playlist. Both its axes count things and tick at whole numbers."""
    from recommender import report
    plt = report._pyplot()
    seen = {}

    def keep(fig):
        ax = fig.axes[0]
        fig.canvas.draw()
        seen["x"], seen["y"] = list(ax.get_xticks()), list(ax.get_yticks())
        return ""
    monkeypatch.setattr(report, "_png", keep)
    hits = np.zeros((3, 20), dtype=bool)
    hits[0, :2] = hits[1, :1] = True  # one target finds 2, one 1, one none
    report._hits_chart(plt, EvalResult(top_n=10, targets=3, seconds=0.1, metrics={}, hits={"blend": hits}))
    assert seen["y"] and all(float(v).is_integer() for v in seen["y"]), seen
    assert seen["x"] and all(float(v).is_integer() for v in seen["x"]), seen
