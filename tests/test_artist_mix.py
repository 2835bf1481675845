"""The artist mix (``blend.artist_mix``): an artist's tracks beyond its share of the seeds are
lowered, in every blend (the pipeline, ``evaluate``, ``tune`` and the persona benchmark)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.artists import artist_codes, seed_share
from recommender.blend import ArtistMix, group_ranks, seed_artist_share
from recommender.config import load_settings
from recommender.dataset import hide_random
from recommender.errors import ConfigError
from recommender.evaluate import evaluate
from recommender.persona import TargetRanking, blended
from recommender.pipeline import build_recommendations
from recommender.scorers import ContentScorer, CoverageScorer
from recommender.tune import tune

from test_evaluate import themed_library


def settings_with(**blend):
    return load_settings(config_file=None, environ={}, overrides={f"blend.{k}": v for k, v in blend.items()})


# ----- the formula ------------------------------------------------------------------------------

def test_group_ranks_count_better_tracks_of_the_same_artist_only():
    values = np.array([0.9, 0.8, 0.7, 0.6, np.nan, 0.5, 0.8])
    codes = np.array([0, 0, 1, -1, 0, 0, -1])
    # artist 0: 0.9, 0.8, 0.5, then NaN last; artist 1 alone; no artist: each a group of one
    assert group_ranks(values, codes).tolist() == [0, 1, 0, 0, 3, 2, 0]
    both = np.vstack([values, values[::-1]])
    assert group_ranks(both, codes).tolist() == [group_ranks(values, codes).tolist(),
                                                 group_ranks(values[::-1], codes).tolist()]
    assert group_ranks(np.array([0.5, 0.5]), np.array([3, 3])).tolist() == [0, 1]  # ties by position
    assert group_ranks(np.array([0.5, 0.5]), np.array([3, 3]), np.array(["b", "a"])).tolist() == [1, 0]


def test_seed_share_counts_artistless_and_ignores_bad_weights():
    share = seed_artist_share(np.array([0, 0, 1, -1, 1]), np.array([1.0, 1.0, 2.0, 4.0, np.nan]), 3)
    assert share.tolist() == pytest.approx([2 / 8, 2 / 8, 0.0])
    assert seed_artist_share(np.array([0]), np.array([-1.0]), 1).tolist() == [0.0]


def test_factors_follow_the_seed_share_of_the_list():
    mix = ArtistMix(0.2)
    values = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    codes = np.array([0, 0, 0, 0, 1, 2])
    share = np.array([0.2, 0.5, 0.0])  # a list of 10: artist 0 has 2 tracks at full score, 1 has 5
    f = mix.factors(values, codes, share, 10)
    assert f.tolist() == pytest.approx([1, 1, 0.8, 0.8 ** 2, 1, 0.8])  # artist 2: no seed, lowered at once
    assert ArtistMix(0.0).factors(values, codes, share, 10).tolist() == [1.0] * 6
    assert mix.factors(values, codes, share, 20)[:4].tolist() == pytest.approx([1, 1, 1, 1])  # longer list
    # a fractional L x s (README: 2.5 lowers the 3rd track by (1 - artist_mix)^0.5): 0.25 x 10
    f = mix.factors(values, codes, np.array([0.25, 0.5, 0.0]), 10)
    assert f[:4].tolist() == pytest.approx([1, 1, 0.8 ** 0.5, 0.8 ** 1.5])


def test_a_track_never_gains_from_less_evidence():
    """PROTOCOL.md: lowering one candidate's raw score never raises its mixed score."""
    rng = np.random.default_rng(4)
    mix = ArtistMix(0.3)
    for _ in range(50):
        values = rng.random(40)
        codes = rng.integers(-1, 5, 40)
        share = rng.dirichlet(np.ones(5))
        i = int(rng.integers(40))
        before = (values * mix.factors(values, codes, share, 10))[i]
        lower = values.copy()
        lower[i] *= rng.random()
        assert (lower * mix.factors(lower, codes, share, 10))[i] <= before + 1e-12


@pytest.mark.parametrize("strength", [0.0, 0.05, 0.5, 0.99])
def test_top_is_the_full_ranking_of_the_mixed_scores(strength):
    """``top`` mixes only each row's best scores; it must equal ranking every mixed score,
    also where a strong mix pushes the k-th pick below the best scores left out (0: the
    mix off, the raw scores, ties by position: tune's ranking without the mix)."""
    rng = np.random.default_rng(7)
    mix = ArtistMix(strength)
    for n, n_artists in [(30, 4), (600, 3), (600, 60), (2000, 1)]:
        values = rng.random((6, n))
        values[0, :5] = np.nan
        values[1] = np.round(values[1], 1)  # ties
        codes = rng.integers(-1, n_artists, n)
        share = rng.dirichlet(np.ones(n_artists)) * 0.8
        top = mix.top(values, codes, share, 10).positions
        for row in range(len(values)):
            v = values[row]
            mixed = np.where(np.isnan(v), -np.inf, v * mix.factors(v, codes, share, 10))
            assert top[row].tolist() == np.lexsort((np.arange(n), -mixed))[:10].tolist()


def test_config_bounds():
    with pytest.raises(ConfigError, match="blend.artist_mix"):
        settings_with(artist_mix=1.0)
    assert ArtistMix.from_settings(settings_with(artist_mix=0.3)).strength == 0.3


# ----- every blend uses it ----------------------------------------------------------------------

def test_library_codes_and_share():
    lib = themed_library(n_playlists=2, per=6)
    codes = artist_codes(lib)
    assert len(codes) == 12 and (codes >= 0).all() and len(set(codes.tolist())) == 6
    seeds = pd.Series(1.0, index=["t0000", "t0003", "t0001", "unknown"])  # art0_0 twice, art0_1 once
    share = seed_share(lib, seeds)
    assert share[codes[0]] == pytest.approx(2 / 4) and share[codes[1]] == pytest.approx(1 / 4)


def test_pipeline_scores_are_mixed_and_contributions_add_up():
    lib = themed_library(n_playlists=4, per=12)
    plain = build_recommendations(lib, settings_with(artist_mix=0.0, threshold=0.0, max_per_artist=0),
                                  seed_playlist="list 0")
    mixed = build_recommendations(lib, settings_with(artist_mix=0.5, threshold=0.0, max_per_artist=0),
                                  seed_playlist="list 0")
    p = plain.table.set_index("track_id")
    m = mixed.table.set_index("track_id")
    assert (p["artist_mix"] == 1.0).all()
    assert (m["artist_mix"] < 1.0).any() and (m["artist_mix"] <= 1.0).all()
    common = p.index.intersection(m.index)
    assert m.loc[common, "score"].to_numpy() == pytest.approx(
        (p.loc[common, "score"] * m.loc[common, "artist_mix"]).to_numpy())
    contrib = m[[c for c in m.columns if c.startswith("contrib_")]].sum(axis=1, min_count=1)
    assert contrib.to_numpy() == pytest.approx(m["score"].to_numpy())
    # the lowered tracks are the later ones of an artist
    ranks = m.assign(artist=m["artists"]).groupby("artist")["score"].rank(ascending=False)
    assert (m.loc[ranks == 1, "artist_mix"] >= m.loc[ranks > 1, "artist_mix"].min()).all()


def test_pipeline_json_has_the_factor(tmp_path):
    from recommender.jobs import BuildResult
    lib = themed_library(n_playlists=4, per=12)
    rec = build_recommendations(lib, settings_with(artist_mix=0.5, threshold=0.0), seed_playlist="list 0")
    out = BuildResult(playlist_id=None, dry_run=True, table=rec.table, added=0, removed=0, kept=0).to_json()
    assert all(0 < t["artist_mix"] <= 1 for t in out["tracks"])


def _blurred_library():
    lib = themed_library(n_playlists=8, per=12, seed=1)
    items = lib.playlist_items
    extra = items[items["position"] < 4].assign(
        playlist_id=lambda d: "p" + ((d["playlist_id"].str[1:].astype(int) + 1) % 8).astype(str))
    return lib.replace(playlist_items=pd.concat([items, extra], ignore_index=True))


def test_evaluate_and_tune_measure_the_mixed_blend():
    lib = _blurred_library()
    hidden = hide_random(lib, 0.5, seed=2)

    def scorers():
        return {"content": ContentScorer(), "coverage": CoverageScorer(per="seeds", artist_weight=0.0)}

    weights = {"content": 1.0, "coverage": 1.0}
    off = evaluate(lib, hidden, settings_with(artist_mix=0.0), scorers=scorers(), weights=weights,
                   method="minmax", top_n=5).metrics["blend"]
    on = evaluate(lib, hidden, settings_with(artist_mix=0.9), scorers=scorers(), weights=weights,
                  method="minmax", top_n=5).metrics["blend"]
    assert on != off

    def tuned(strength):  # every fold breaks ties as evaluate does
        res = tune(lib, settings_with(artist_mix=strength), folds=1, grid=[1.0], seed=0, scorers=scorers(), top_n=5,
                   hider=lambda _lib, _f: hidden)
        return res.summary(weights)

    for strength, ev in [(0.0, off), (0.9, on)]:
        assert tuned(strength)["p@5"] == pytest.approx(ev["p@5"])


def test_persona_blend_is_mixed():
    scores = pd.DataFrame({"a": [1.0, 0.8, 0.6, 0.0]})
    t = TargetRanking(0, "p", np.array(["w", "x", "y", "z"]), scores, set(), set(), set(), {},
                      np.array([0, 0, 1, 1]), np.array([0.1, 0.0]))
    assert blended(t, {"a": 1.0}) == pytest.approx([1.0, 0.8, 0.6, 0.0])  # off by default
    # a list of 10 gives artist 0 one track at full score; artist 1 has no seed
    assert blended(t, {"a": 1.0}, mix=ArtistMix(0.5), n=10) == pytest.approx([1.0, 0.4, 0.3, 0.0])


def test_library_codes_follow_artist_key_without_ids():
    from recommender.library import Library
    tracks = pd.DataFrame({"track_id": ["a", "b", "c", "d", "e"], "name": list("abcde"),
                           "artist_ids": [["x1"], [], [], [""], ["x1", "x2"]],
                           "artist_names": [["X"], ["Beyoncé"], ["BEYONCE!"], []] + [["X", "Y"]]})
    codes = artist_codes(Library.from_frames(tracks=tracks))
    assert codes[0] == codes[4] >= 0  # the first credited artist's id
    assert codes[1] == codes[2] >= 0 and codes[1] != codes[0]  # no id: the folded name
    assert codes[3] == -1  # an empty id and no name: no artist
    assert len(artist_codes(Library.from_frames(tracks=tracks.iloc[:0]))) == 0


def test_top_is_exact_when_the_cut_falls_inside_a_tie():
    """Many equal raw scores across the partial cut (argpartition picks among them freely):
    ``top`` must still return what ranking every mixed score returns, ties by position."""
    mix = ArtistMix(0.5)
    values = np.full((2, 300), 0.5)  # the 10th mixed score equals every score left out
    values[1, 250:] = 0.9
    codes = np.zeros(300, dtype=np.int64)
    share = np.array([1.0])
    top = mix.top(values, codes, share, 10).positions
    for row in range(2):
        mixed = values[row] * mix.factors(values[row], codes, share, 10)
        assert top[row].tolist() == np.lexsort((np.arange(300), -mixed))[:10].tolist()


def test_top_is_exact_for_negative_scores():
    """A factor below 1 raises a negative score: a track left out of the partial cut can
    then beat the k-th pick, and ``top`` must see it (the old bound, the lowest raw score
    kept, missed it)."""
    mix = ArtistMix(0.3)
    n = 100
    values = (-1 - 0.01 * np.arange(n))[None, :]  # one artist without seeds: later tracks rise
    codes, share = np.zeros(n, dtype=np.int64), np.array([0.0])
    mixed = values[0] * mix.factors(values[0], codes, share, 1)
    assert mix.top(values, codes, share, 1).positions[0].tolist() == np.lexsort((np.arange(n), -mixed))[:1].tolist() == [99]


def test_top_uses_the_list_length_when_a_row_has_fewer_candidates():
    """tune asks for a top N of rows that may hold fewer than N candidates; the factors must
    be those of a list of N, as evaluate and the persona benchmark compute them."""
    mix = ArtistMix(0.3)
    values = np.array([[0.9, 0.8, 0.7]])
    codes, share = np.array([0, 0, 1]), np.array([0.2, 0.0])  # artist 0: 2 of a list of 10
    mixed = values[0] * mix.factors(values[0], codes, share, 10)
    assert mix.top(values, codes, share, 10).positions[0].tolist() == np.lexsort((np.arange(3), -mixed)).tolist() == [0, 1, 2]


def reference_top(mix, values, codes, share, k, floor=None, length=None, tiebreak=None):
    """``ArtistMix.top`` the plain way: every candidate mixed, the whole row ranked."""
    n = values.shape[1]
    length = k if length is None else length
    tb = np.arange(n) if tiebreak is None else tiebreak
    positions, kth = [], []
    for v in values:
        mixed = np.where(np.isnan(v), -np.inf, v * mix.factors(v, codes, share, length, tiebreak))
        order = np.lexsort((tb, -mixed))[:min(k, n)]
        positions.append(order)
        kth.append(mixed[order[-1]] if len(order) else -np.inf)
    sure = np.ones(len(values), bool) if floor is None else (np.array(kth) > floor) & (min(k, n) >= length)
    return np.array(positions).reshape(len(values), min(k, n)), sure


@pytest.mark.parametrize("seed", range(6))
def test_top_equals_ranking_every_mixed_score_however_deep_the_mix_reaches(seed):
    """`recommend tune` ranks 7,472 weight combinations per target with ``top``, which mixes
    only each row's best raw scores and takes more of them (four times as many, and so on)
    where the mix pushed the k-th pick below the best one left out: the lists, and whether
    a floor settles them, must be those of mixing and ranking every candidate, for strong
    and weak mixes, ties, NaN, negative scores, a tiebreak, a list longer than k."""
    rng = np.random.default_rng(seed)
    n = int(rng.choice([40, 300, 3000]))
    n_artists = int(rng.choice([1, 5, 50]))
    mix = ArtistMix(float(rng.choice([0.05, 0.3, 0.9])))
    values = rng.random((40, n))
    values[:10] = np.round(values[:10], 2)  # ties, also across the partial cut
    values[10:15] = 1 - 10.0 ** -rng.integers(1, 4, (5, n)) * rng.random((5, n))  # a dense top
    values[15, rng.random(n) < 0.9] = np.nan  # fewer scored candidates than k in some rows
    values[16] = -values[16]  # a factor below 1 raises a negative score
    codes = rng.integers(-1, n_artists, n)
    share = rng.dirichlet(np.ones(n_artists)) * rng.random()
    floor = rng.random(len(values)) * 0.9
    for k, length, tiebreak in [(10, None, None), (5, 20, None), (10, None, rng.permutation(n))]:
        got = mix.top(values, codes, share, k, floor, length=length, tiebreak=tiebreak)
        want_positions, want_sure = reference_top(mix, values, codes, share, k, floor, length, tiebreak)
        assert np.array_equal(got.positions, want_positions)
        assert np.array_equal(got.sure, want_sure)
