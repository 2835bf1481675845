"""Tuning: the vectorised blend equals blend_scores, the grid search, write_weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.blend import blend_scores
from recommender.config import load_settings
from recommender.errors import ConfigError
from recommender.scorers import ContentScorer, PopularityScorer
from recommender.blend import blend_matrix, normalise_columns
from recommender.tune import TuneResult, tune, weight_grid, write_weights

from test_evaluate import themed_library


@pytest.fixture(scope="module")
def settings():
    return load_settings(config_file=None, environ={})


@pytest.mark.parametrize("method", ["rank", "minmax"])
def test_blend_matrix_equals_blend_scores(method):
    rng = np.random.default_rng(0)
    raw = rng.random((50, 3))
    raw[rng.random((50, 3)) < 0.3] = np.nan
    raw[:5, 1] = 0.25  # ties
    raw[7] = np.nan  # a candidate nobody scores
    frame = pd.DataFrame(raw, columns=["a", "b", "c"])
    weights = np.array([[1.0, 0.3, 0.0], [0.5, 2.0, 1.0]])
    got = blend_matrix(normalise_columns(raw, method), weights)
    for i, w in enumerate(weights):
        expected, _ = blend_scores(frame, dict(zip("abc", w)), method)
        assert np.allclose(got[i], expected.to_numpy(), atol=1e-5, equal_nan=True)


def test_weight_grid_keeps_one_combination_per_ranking():
    combos = weight_grid(["a", "b"], [0.0, 1.0, 2.0])
    as_tuples = {tuple(r) for r in combos}
    assert as_tuples == {(0.0, 1.0), (1.0, 0.0), (1.0, 1.0), (1.0, 2.0), (2.0, 1.0)}


def test_tune_prefers_the_informative_scorer(settings):
    lib = themed_library(n_playlists=6, per=12)
    calls = []
    res = tune(lib, settings, folds=2, grid=[0.0, 0.5, 1.0], seed=3,
               scorers={"content": ContentScorer(), "popularity": PopularityScorer()}, top_n=5,
               progress=lambda d, t: calls.append((d, t)))
    assert isinstance(res, TuneResult)
    assert res.precision.shape == (2, len(res.combos))
    assert calls[-1] == (12, 12)
    best = res.best_weights
    assert best["content"] > 0 and best["popularity"] <= best["content"]
    only_pop = res.summary({"content": 0.0, "popularity": 1.0})
    assert res.summary(best)["p@5"] > only_pop["p@5"]
    out = res.to_dict()
    assert out["folds"] == 2 and "p@5_std" in out["best"]
    assert out["defaults"]["weights"] == {"content": settings.scorers.content.weight,
                                          "popularity": settings.scorers.popularity.weight}
    assert "p@5" in out["defaults"]  # the defaults are always measured, even when off the grid


def test_tune_rejects_a_bad_grid(settings):
    with pytest.raises(ConfigError, match="tune.grid"):
        tune(themed_library(), settings, grid=[-1.0, 1.0])


USER_YAML = """\
# my settings
scorers:
  content:
    # I like content
    weight: 2.0   # keep this comment
  popularity:
    weight: 0.5
blend:
  threshold: 0.4  # mine
"""


def test_write_weights_preserves_comments_and_other_keys(tmp_path):
    path = tmp_path / "user.yaml"
    path.write_text(USER_YAML)
    diff = write_weights(path, {"content": 1.0, "collaborative": 0.25})
    text = path.read_text()
    assert "# my settings" in text and "# I like content" in text and "threshold: 0.4  # mine" in text
    assert "keep this comment" in text
    assert "-    weight: 2.0" in diff and "+    weight: 1.0" in diff
    loaded = load_settings(config_file=path, environ={})
    assert loaded.scorers.content.weight == 1.0
    assert loaded.scorers.collaborative.weight == 0.25
    assert loaded.scorers.popularity.weight == 0.5  # untouched
    assert loaded.blend.threshold == 0.4
    assert write_weights(path, {"content": 1.0}) == ""  # nothing changed, no diff


def test_write_weights_creates_the_file(tmp_path):
    path = tmp_path / "new.yaml"
    diff = write_weights(path, {"content": 0.7})
    assert path.exists() and "+scorers:" in diff
    assert load_settings(config_file=path, environ={}).scorers.content.weight == 0.7


def test_write_weights_refuses_a_non_mapping(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        write_weights(path, {"content": 1.0})


def test_tune_blends_the_grid_in_bounded_blocks_with_the_same_result(settings, monkeypatch):
    """The grid is blended a block of combinations at a time (memory stays bounded however
    many scorers there are: 7 scorers x 6 grid values once needed 24 GB), with the same numbers."""
    import recommender.tune as tune_module
    lib = themed_library(n_playlists=6, per=12)
    kwargs = dict(folds=2, grid=[0.0, 0.5, 1.0], seed=3, top_n=5,
                  scorers={"content": ContentScorer(), "popularity": PopularityScorer()})
    whole = tune(lib, settings, **kwargs)
    seen = []
    real = tune_module.blend_matrix

    def spy(norm, combos, **kw):
        seen.append(len(combos))
        return real(norm, combos, **kw)
    monkeypatch.setattr(tune_module, "BLEND_CELLS", 3 * 40)  # about 3 combinations per block here
    monkeypatch.setattr(tune_module, "blend_matrix", spy)
    blocks = tune(lib, settings, **kwargs)
    assert max(seen) < len(whole.combos)
    assert np.allclose(blocks.precision, whole.precision) and np.allclose(blocks.ndcg, whole.ndcg)


def test_tune_grids_the_scorers_that_are_on(settings):
    """A scorer at weight 0 stays out of the grid (each one multiplies it by the grid's
    length); giving it a weight brings it in."""
    lib = themed_library(n_playlists=4, per=12)
    on = {n for n, w in settings_weights(settings).items() if w > 0}
    res = tune(lib, settings, folds=1, grid=[0.0, 1.0], seed=3, top_n=5)
    assert set(res.names) == on and "collaborative" not in on and "popularity" not in on
    more = tune(lib, settings.with_overrides({"scorers.popularity.weight": 0.5}), folds=1, grid=[0.0, 1.0],
                seed=3, top_n=5)
    assert set(more.names) == on | {"popularity"}


def settings_weights(settings):
    from recommender.scorers import blend_weights
    return blend_weights(settings)
