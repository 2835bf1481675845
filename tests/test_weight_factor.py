"""A scorer's ``weight_factor()`` (artist_walk's shrinkage on few playlists) is applied by every
blend: the pipeline, ``evaluate``, ``tune``, ``similar`` and the persona benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.blend import fitted_weights
from recommender.config import load_settings
from recommender.dataset import hide_random
from recommender.evaluate import evaluate
from recommender.persona import TargetRanking, blended
from recommender.scorers import ArtistWalkScorer, ContentScorer
from recommender.scorers.base import Scorer
from recommender.tune import tune

from test_evaluate import themed_library


class Fixed(Scorer):
    """Fixed raw scores and a fixed weight factor."""

    def __init__(self, values: dict, factor: float = 1.0) -> None:
        self.values = values
        self.factor = factor

    def fit(self, library):
        return self

    def score(self, seeds, candidates):
        return pd.Series(self.values, dtype=float).reindex(candidates)

    def weight_factor(self) -> float:
        return self.factor


@pytest.fixture(scope="module")
def settings():
    # the artist mix off: on these small themed libraries it would hide the factor's effect
    # (test_artist_mix.py measures the mix in evaluate and tune)
    return load_settings(config_file=None, environ={}, overrides={"blend.artist_mix": 0.0})


def test_walk_weight_factor_is_m_over_m_plus_shrink():
    lib = themed_library(n_playlists=6, per=12)
    m = lib.track_playlist_matrix(extra_sources=True)[0].shape[1]
    assert m == 6
    assert ArtistWalkScorer(shrink=4.0).fit(lib).weight_factor() == pytest.approx(6 / 10)
    assert ArtistWalkScorer(shrink=0.0).fit(lib).weight_factor() == 1.0
    more = themed_library(n_playlists=12, per=12)
    assert ArtistWalkScorer(shrink=4.0).fit(more).weight_factor() == pytest.approx(12 / 16)


def test_fitted_weights_multiplies_only_weighted_scorers():
    class Unfitted(Scorer):
        def weight_factor(self):
            raise AttributeError("not fitted")

    scorers = {"a": Fixed({}, 0.25), "b": Unfitted()}
    out = fitted_weights({"a": 2.0, "b": 0.0, "extra": 1.5}, scorers)
    assert out == {"a": 0.5, "b": 0.0, "extra": 1.5}


def test_pipeline_blend_uses_the_weight_factor(settings):
    """build-playlist's blend (``pipeline.recommend`` over kept scores) weighs each scorer by its
    weight times its factor."""
    from recommender.pipeline import build_recommendations
    lib = themed_library(n_playlists=3, per=6)
    cands = [t for t in lib.track_ids if not t.startswith("t00")]  # seeds: list 0
    x, y = cands[0], cands[1]
    a = Fixed({t: 1.0 if t == x else 0.0 if t == y else 0.5 for t in cands})
    b = Fixed({t: 0.0 if t == x else 1.0 if t == y else 0.5 for t in cands}, factor=0.25)
    s = settings.with_overrides({"blend.normalisation": "minmax", "blend.threshold": 0.0,
                                 "blend.max_per_artist": 0, "candidates.new_share": 0.0})
    rec = build_recommendations(lib, s, seed_playlist="list 0", scorers={"a": a, "b": b},
                                weights={"a": 1.0, "b": 1.0}, fit=False)
    table = rec.table.set_index("track_id")
    # weights 1 and 0.25: x = 1 / 1.25, y = 0.25 / 1.25; without the factor x and y would tie
    assert table.at[x, "score"] == pytest.approx(0.8) and table.at[y, "score"] == pytest.approx(0.2)
    assert table["contrib_b"].drop([x, y]).tolist() == pytest.approx([0.25 * 0.5 / 1.25] * (len(table) - 2))
    assert rec.weight_factors == {"b": 0.25}


def test_persona_blend_uses_the_weight_factor():
    scores = pd.DataFrame({"a": [1.0, 0.0], "b": [0.0, 1.0]})
    t = TargetRanking(0, "p", np.array(["x", "y"]), scores, set(), set(), set(), {"b": 0.25})
    assert blended(t, {"a": 1.0, "b": 1.0}) == pytest.approx([0.8, 0.2])
    t.weight_factors = {}
    assert blended(t, {"a": 1.0, "b": 1.0}) == pytest.approx([0.5, 0.5])


def _walk_and_content(shrink: float) -> dict:
    return {"content": ContentScorer(), "artist_walk": ArtistWalkScorer(shrink=shrink)}


def test_evaluate_and_tune_blend_with_the_weight_factor(settings):
    """A shrunk walk at weight 1 measures exactly like an unshrunk walk at weight m/(m+shrink),
    in evaluate and in tune; and differently from an unshrunk walk at weight 1."""
    lib = themed_library(n_playlists=8, per=12, seed=1)
    # blur the themes: every playlist also holds tracks of the next theme's artists
    items = lib.playlist_items
    extra = items[items["position"] < 4].assign(playlist_id=lambda d: "p" + ((d["playlist_id"].str[1:].astype(int) + 1) % 8).astype(str))
    lib = lib.replace(playlist_items=pd.concat([items, extra], ignore_index=True))
    hidden = hide_random(lib, 0.5, seed=2)
    factor = 8 / (8 + 24.0)

    def run(shrink, walk_weight):
        res = evaluate(lib, hidden, settings, scorers=_walk_and_content(shrink),
                       weights={"content": 1.0, "artist_walk": walk_weight}, method="minmax", top_n=5)
        return res.metrics["blend"]

    shrunk = run(24.0, 1.0)
    assert shrunk == pytest.approx(run(0.0, factor))
    assert shrunk != pytest.approx(run(0.0, 1.0))

    def tuned(shrink, grid):
        return tune(lib, settings, folds=2, grid=grid, seed=3, scorers=_walk_and_content(shrink), top_n=5)

    a = tuned(24.0, [0.0, 1.0]).summary({"content": 1.0, "artist_walk": 1.0})
    b = tuned(0.0, [0.0, factor, 1.0]).summary({"content": 1.0, "artist_walk": factor})
    assert a == pytest.approx(b)
