"""Blending: normalisation, NaN handling, and selection (threshold, min/max, artist cap, pinned)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.blend import blend_scores, normalise, normalise_columns, select_tracks
from deprecation_marks import DEPRECATIONS_OF_OURS

pytestmark = DEPRECATIONS_OF_OURS

NAN = np.nan


# ----- normalise / blend_scores ----------------------------------------------------------

def test_rank_normalisation_is_percentile_and_keeps_nan():
    s = pd.Series([10.0, NAN, 30.0, 20.0], index=list("abcd"))
    out = normalise(s, "rank")
    assert out["a"] == 0.0 and out["c"] == 1.0 and out["d"] == 0.5
    assert np.isnan(out["b"])


def test_rank_ties_share_their_mean_rank():
    s = pd.Series([3.0, 1.0, 2.0, 2.0, NAN], index=list("abcde"))
    assert normalise(s, "rank").tolist()[:4] == [1.0, 0.0, 0.5, 0.5]


def test_minmax_normalisation_is_linear():
    s = pd.Series([0.0, 1.0, 4.0], index=list("abc"))
    assert normalise(s, "minmax").tolist() == [0.0, 0.25, 1.0]


def test_minmax_keeps_the_finite_scores_apart_when_one_score_is_infinite():
    # Before: hi - lo was inf, so every finite score became 0 and the inf one NaN (dropped).
    s = pd.Series([0.0, 1.0, 4.0, np.inf, -np.inf, np.nan], index=list("abcdef"))
    out = normalise(s, "minmax")
    assert out.iloc[:5].tolist() == [0.0, 0.25, 1.0, 1.0, 0.0]
    assert np.isnan(out["f"])
    assert normalise(pd.Series([np.inf, -np.inf]), "minmax").tolist() == [1.0, 0.0]
    assert np.isfinite(normalise_columns(np.array([[1.0], [np.inf], [2.0]]), "minmax")).all()


def test_minmax_of_finite_scores_further_apart_than_the_largest_float():
    # hi - lo overflowed to inf: every score became 0 and the top one NaN (silent)
    out = normalise(pd.Series([-1e308, 0.0, 1e308, np.inf]), "minmax")
    assert out.tolist() == [0.0, 0.5, 1.0, 1.0]


def test_constant_series_carries_no_signal():
    assert normalise(pd.Series([3.0, 3.0], index=list("ab")), "rank").tolist() == [0.5, 0.5]
    assert normalise(pd.Series([3.0, 3.0], index=list("ab")), "minmax").tolist() == [0.5, 0.5]


def test_a_scorer_that_found_nothing_adds_nothing():
    # `similar` of a track whose album holds no other candidate: coverage scored 0 for all and
    # showed 0.06 of every row's score (half its weight), as if each shared the seed's album
    for method in ("rank", "minmax"):
        assert normalise(pd.Series([0.0, 0.0, NAN], index=list("abc")), method).tolist()[:2] == [0.0, 0.0]
        assert normalise(pd.Series([0.0]), method).tolist() == [0.0]
        scores = pd.DataFrame({"content": [0.9, 0.1], "coverage": [0.0, 0.0]}, index=list("ab"))
        blended, contrib = blend_scores(scores, {"content": 1.0, "coverage": 1.0}, method)
        assert contrib["coverage"].tolist() == [0.0, 0.0]
        assert blended.tolist() == [0.5, 0.0]


def test_rank_gives_nothing_to_the_candidates_a_scorer_found_nothing_for():
    # with `blend.normalisation: rank`, `similar --demo "all love"` showed an open-data share of
    # 0.013 on every row, as the candidates it found nothing for shared their mean rank
    s = pd.Series([0.0, 0.0, 0.0, 0.2, 0.5, NAN], index=list("abcdef"))
    out = normalise(s, "rank").tolist()
    assert out[:5] == [0.0, 0.0, 0.0, 0.75, 1.0] and np.isnan(out[5])
    scores = pd.DataFrame({"content": [0.9, 0.5, 0.1], "opendata": [0.0, 0.0, 0.3]}, index=list("abc"))
    blended, contrib = blend_scores(scores, {"content": 1.0, "opendata": 1.0}, "rank")
    assert contrib["opendata"].tolist()[:2] == [0.0, 0.0] and contrib["opendata"]["c"] > 0
    # a lowest score that is not 0 (evidence, if the weakest) keeps its mean rank
    assert normalise(pd.Series([0.1, 0.1, 0.3]), "rank").tolist() == [0.25, 0.25, 1.0]


def test_unknown_method_is_refused():
    with pytest.raises(ValueError):
        normalise(pd.Series([1.0, 2.0]), "zscore")


def test_blend_renormalises_over_scorers_that_could_score():
    # b is only scored by "x": its blend must be x's normalised score alone, not halved.
    scores = pd.DataFrame({"x": [0.0, 1.0, 0.5], "y": [0.0, NAN, 1.0]}, index=list("abc"))
    blended, contrib = blend_scores(scores, {"x": 1.0, "y": 3.0}, "minmax")
    assert blended["b"] == pytest.approx(1.0)
    assert blended["a"] == pytest.approx(0.0)
    assert blended["c"] == pytest.approx((1 * 0.5 + 3 * 1.0) / 4)
    assert np.isnan(contrib.loc["b", "y"])
    np.testing.assert_allclose(contrib.sum(axis=1, min_count=1), blended)


def test_blend_unscorable_candidate_is_nan_and_zero_weight_is_ignored():
    scores = pd.DataFrame({"x": [1.0, NAN, 0.0], "y": [NAN, NAN, 1.0], "z": [5.0, 5.0, 0.0]},
                          index=list("abc"))
    blended, contrib = blend_scores(scores, {"x": 1.0, "y": 1.0, "z": 0.0}, "minmax")
    assert np.isnan(blended["b"])  # z has weight 0, so nobody scored b
    assert blended["a"] == pytest.approx(1.0)
    assert list(contrib.columns) == ["x", "y", "z"]
    assert contrib["z"].isna().all()


# ----- select_tracks ---------------------------------------------------------------------

def _scores(**kw: float) -> pd.Series:
    return pd.Series(kw, dtype=float)


def test_threshold_keeps_only_passing_tracks_in_score_order():
    s = _scores(a=0.2, b=0.9, c=0.6, d=0.55, e=NAN, f=0.5)
    # f sits on the threshold: "score >= blend.threshold" (README) keeps it
    assert select_tracks(s, threshold=0.5, min_tracks=0, max_tracks=10) == ["b", "c", "d", "f"]


def test_min_tracks_fills_with_the_best_of_the_rest():
    s = _scores(a=0.2, b=0.9, c=0.1, d=0.3)
    assert select_tracks(s, threshold=0.8, min_tracks=3, max_tracks=10) == ["b", "d", "a"]


def test_min_tracks_never_takes_unscored_tracks():
    s = _scores(a=0.2, b=NAN, c=NAN)
    assert select_tracks(s, threshold=0.8, min_tracks=3, max_tracks=10) == ["a"]


def test_max_tracks_caps_the_list():
    s = _scores(a=0.9, b=0.8, c=0.7, d=0.6)
    assert select_tracks(s, threshold=0.0, max_tracks=2) == ["a", "b"]


def test_ties_keep_input_order():
    s = _scores(x=0.5, a=0.5, m=0.5)
    assert select_tracks(s, threshold=0.0, max_tracks=10) == ["x", "a", "m"]


def test_per_artist_cap_skips_to_other_artists():
    s = _scores(a1=0.9, a2=0.8, a3=0.7, b1=0.6, b2=0.5)
    artist = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B"}
    assert select_tracks(s, artist, threshold=0.0, max_tracks=10, max_per_artist=2) == ["a1", "a2", "b1", "b2"]
    # 0 = no cap
    assert select_tracks(s, artist, threshold=0.0, max_tracks=10, max_per_artist=0) == list(s.index)


def test_per_artist_cap_applies_while_filling_min_tracks():
    s = _scores(a1=0.4, a2=0.3, b1=0.2)
    artist = {"a1": "A", "a2": "A", "b1": "B"}
    assert select_tracks(s, artist, threshold=0.9, min_tracks=2, max_tracks=10, max_per_artist=1) == ["a1", "b1"]


def test_pinned_come_first_in_their_order_and_count_toward_limits():
    s = _scores(a=0.9, b=0.8, c=0.7, p=0.1)
    artist = {"a": "A", "b": "B", "c": "C", "p": "A", "q": "Q"}
    out = select_tracks(s, artist, threshold=0.0, max_tracks=3, max_per_artist=1, pinned=["q", "p", "q"])
    # q then p (duplicates dropped); p uses artist A's only slot, so a is skipped; 3 in all.
    assert out == ["q", "p", "b"]


def test_more_pinned_than_max_tracks_keeps_every_pin_and_no_candidate():
    # the pins past max_tracks were dropped: tracks added by hand to the playlist, taken off it
    s = _scores(a=0.9)
    assert select_tracks(s, threshold=0.0, max_tracks=2, pinned=["x", "y", "z", "y"]) == ["x", "y", "z"]
    assert select_tracks(s, threshold=0.0, max_tracks=3, pinned=["x", "y"]) == ["x", "y", "a"]


def test_pinned_count_toward_min_tracks():
    s = _scores(a=0.9, b=0.3, c=0.2)
    assert select_tracks(s, threshold=0.5, min_tracks=3, max_tracks=10, pinned=["p"]) == ["p", "a", "b"]


def test_a_long_ranking_with_ties_is_chosen_as_a_full_sort_would():
    """select_tracks sorts a long ranking in blocks of max(4 * max_tracks, 256): the block edge
    falls inside a run of equal scores, and every block must come out whole, best first, ties
    in input order. (Each test above ranks a handful of tracks: the blocks went untested.)"""
    rng = np.random.default_rng(7)
    values = rng.integers(0, 40, 2000) / 39.0  # 40 distinct scores: every block edge is a tie
    values[rng.integers(0, 2000, 100)] = NAN
    s = pd.Series(values, index=[f"t{i}" for i in range(2000)])
    expected = list(s.dropna().sort_values(ascending=False, kind="stable").index)
    assert select_tracks(s, threshold=0.0, max_tracks=2000) == expected
    assert select_tracks(s, threshold=0.0, max_tracks=70) == expected[:70]
    flat = pd.Series(0.5, index=[f"t{i}" for i in range(600)])  # one tie longer than a block (256)
    assert select_tracks(flat, threshold=0.0, max_tracks=50) == list(flat.index[:50])


def test_no_weighted_scorer_blends_every_candidate_to_nan():
    scores = pd.DataFrame({"x": [1.0, 0.0], "y": [0.5, 0.2]}, index=list("ab"))
    blended, contrib = blend_scores(scores, {"x": 0.0, "y": 0.0}, "rank")
    assert blended.isna().all() and contrib.isna().all().all() and list(contrib.columns) == ["x", "y"]


def test_an_unknown_method_is_refused_also_for_a_scorer_that_scored_nothing():
    with pytest.raises(ValueError, match="zscore"):
        normalise(pd.Series([NAN, NAN]), "zscore")


def test_select_tracks_never_chooses_a_track_twice():
    """A track id that appears twice in the ranking is published once (Spotify would add it twice)."""
    blended = pd.Series([0.9, 0.8, 0.9, 0.7], index=["a", "b", "a", "c"])
    assert select_tracks(blended, max_tracks=5) == ["a", "b", "c"]
    assert select_tracks(blended, max_tracks=2) == ["a", "b"]
