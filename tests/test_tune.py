"""Tuning: the vectorised blend equals blend_scores, the grid search, write_weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.blend import blend_scores
from recommender.config import load_settings
from recommender.errors import ConfigError
from recommender.evaluate import evaluate, ndcg, precision
from recommender.library import Library
from recommender.scorers import ContentScorer, PopularityScorer
from recommender.blend import blend_matrix, normalise_columns
from recommender.tune import TuneResult, tune, weight_grid, write_weights

from test_evaluate import FixedScorer, themed_library
from deprecation_marks import DEPRECATIONS_OF_OURS

pytestmark = DEPRECATIONS_OF_OURS


@pytest.fixture(scope="module")
def settings():
    return load_settings(config_file=None, environ={})


@pytest.mark.parametrize("method", ["rank", "minmax"])
def test_blend_matrix_equals_blend_scores(method):
    """Every row of a grid's blend is, to the bit, blend_scores of those weights over the
    weighted scorers alone (a matrix product's rounding depended on its shape: a row of the
    grid and the same weights alone differed in the last bit and could rank a near-tie apart)."""
    rng = np.random.default_rng(0)
    raw = rng.random((200, 5))
    raw[rng.random((200, 5)) < 0.3] = np.nan
    raw[:5, 1] = 0.25  # ties
    raw[7] = np.nan  # a candidate nobody scores
    frame = pd.DataFrame(raw, columns=list("abcde"))
    weights = weight_grid(list("abcde"), [0.0, 0.3, 1.0]) * np.array([1.0, 1.0, 0.37, 1.0, 1.0])
    got = blend_matrix(normalise_columns(raw, method), weights)
    for i, w in enumerate(weights):
        expected, _ = blend_scores(frame, dict(zip("abcde", w)), method)
        assert np.array_equal(got[i], expected.to_numpy(), equal_nan=True), w


def test_blender_chunks_candidates_and_combinations_to_the_same_bits(monkeypatch):
    """``blender`` passes over chunks of candidates too (a 10^5-candidate row left the cache:
    tune took 2.6 times as long as the float32 product); chunk edges that cut the rows and
    the grid anywhere give the very bits of one combination blended alone."""
    import recommender.blend as blend_module
    rng = np.random.default_rng(1)
    raw = rng.random((1000, 4))
    raw[rng.random(raw.shape) < 0.4] = np.nan
    norm = normalise_columns(raw, "rank")
    weights = weight_grid(list("abcd"), [0.0, 0.3, 1.0])
    alone = np.vstack([blend_matrix(norm, w[None, :]) for w in weights])
    for chunk in (7, 64, 1 << 14):  # 7: seven candidates a pass; 64: one row of 64; default: whole rows
        monkeypatch.setattr(blend_module, "_BLEND_CHUNK", chunk)
        blend = blend_module.blender(norm)
        got = np.vstack([blend(weights[lo:lo + 5]) for lo in range(0, len(weights), 5)])
        assert np.array_equal(got, alone, equal_nan=True), chunk
    assert blend_module.blender(norm[:0])(weights).shape == (len(weights), 0)


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


def test_a_grid_value_written_with_an_exponent_is_a_number(tmp_path):
    # YAML 1.1 reads 1e0 as text: "tune.grid must be ... numbers, got [0, '1e0']", where a weight
    # of 1e0 was taken as a number
    path = tmp_path / "c.yaml"
    path.write_text("tune:\n  grid: [0, 1e0, 5E-1]\n")
    assert load_settings(config_file=path, environ={}).tune.grid == [0, 1.0, 0.5]
    path.write_text("tune:\n  grid: [0, 1e400]\n")  # inf is still no weight
    with pytest.raises(ConfigError, match=r"tune.grid must be a non-empty list of numbers from 0 to 1000000"):
        load_settings(config_file=path, environ={})


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


@pytest.mark.parametrize("text, above", [
    # a comment over the next section: the new keys went in below it, so it stood over them
    ('scorers:\n  content:\n    weight: 1.0\n\n# --- playlist settings below ---\nplaylist:\n  name: "mine"\n',
     "# --- playlist settings below ---\nplaylist:"),
    # a comment at the end (below a flow mapping), and one over a key with a comment on the line before
    ("scorers:\n    content:\n        weight: 1.0   # mine\n    year: {weight: 0.2}\n# end comment\n",
     "        weight: 0.4\n# end comment\n"),
    ("scorers:\n  content:\n    weight: 1.0  # mine\n  # about year\n  year:\n    weight: 0.2\n# end\n",
     "  # about year\n  year:"),
    # sections written empty, for tune to fill: the undo took them out with their comments
    ("# my config\nscorers:   # tuned by tune\ncandidates:\n  new_share: 0.5\n", "scorers:   # tuned by tune\n"),
    ("scorers:\n  coverage:   # mine\n  year:\n    weight: 0.2\n", "  coverage:   # mine\n    weight: 0.4\n"),
    # a last line the file's writing redoes (`config init`'s file ends so): a new section went in
    # by writing the whole file anew, as `contact:`, and the undo left it so
    ("# mine\nenrich:\n  contact: null\n", "  contact: null\nscorers:\n"),
    ("# mine\nenrich:\n  contact: ~\n", "  contact: ~\nscorers:\n"),
])
def test_a_write_and_its_undo_keep_the_comments_between_sections_where_they_were(tmp_path, text, above):
    """`tune --write` added its keys below the comment lines after a section (ruamel keeps them
    on the section's last line), and `tune --undo`, taking those keys out, took the comment
    with them: gone from the file for good. Now the comments stay where they stood, and the
    undo gives back the very file."""
    from recommender.tune import undo_weights
    path, undo = tmp_path / "user.yaml", tmp_path / "state" / "tune-undo.json"
    path.write_text(text)
    write_weights(path, {"content": 0.9, "artist_walk": 1.15, "coverage": 0.4}, undo_file=undo)
    written = path.read_text()
    assert "artist_walk:\n" in written and written.count("#") == text.count("#")
    assert above in written  # still right above its section, or last
    undo_weights(path, undo)
    assert path.read_text() == text


def test_an_undo_that_takes_a_section_out_keeps_a_comment_written_below_it_since(tmp_path):
    """A comment and a section written by hand below the section `tune --write` added: the undo,
    taking that section out, moved the comment to the end of the file, below the new section."""
    from recommender.tune import undo_weights
    path, undo = tmp_path / "user.yaml", tmp_path / "state" / "tune-undo.json"
    path.write_text("playlist:\n  name: mine\n")
    write_weights(path, {"content": 0.7}, undo_file=undo)
    path.write_text(path.read_text() + "# my note\nevaluate:\n  top_n: 20\n")
    undo_weights(path, undo)
    assert path.read_text() == "playlist:\n  name: mine\n# my note\nevaluate:\n  top_n: 20\n"


def test_write_weights_creates_the_file(tmp_path):
    path = tmp_path / "new.yaml"
    diff = write_weights(path, {"content": 0.7})
    assert path.exists() and "+scorers:" in diff
    assert load_settings(config_file=path, environ={}).scorers.content.weight == 0.7


def test_undo_weights_restores_a_new_file_and_a_failed_write_keeps_the_earlier_undo(tmp_path, monkeypatch):
    """`tune --undo`'s record: a file tune created goes back to holding nothing (no `scorers: {}`
    left over), a write whose change is nothing keeps the last change the one to undo, and a write
    that fails (disk full) leaves the earlier record, not one for a change that never happened."""
    from recommender import configfile
    from recommender.tune import undo_weights
    path, undo = tmp_path / "new.yaml", tmp_path / "state" / "tune-undo.json"
    path.write_text("# only comments\n")
    write_weights(path, {"content": 0.7}, undo_file=undo)
    write_weights(path, {"content": 0.7}, undo_file=undo)  # nothing changes: the first write stays undoable
    diff, record = undo_weights(path, undo)
    assert path.read_text() == "# only comments\n" and record["before"] == {"scorers.content.weight": None}
    made = tmp_path / "made.yaml"  # a file the write made: gone again (an empty file was left)
    write_weights(made, {"content": 0.7}, undo_file=undo)
    undo_weights(made, undo)
    assert not made.exists()
    write_weights(path, {"content": 0.5}, undo_file=undo)
    recorded = undo.read_text()

    def full(*args, **kwargs):
        raise OSError("No space left on device")
    monkeypatch.setattr(configfile, "set_values", full)
    with pytest.raises(OSError):
        write_weights(path, {"content": 0.9}, undo_file=undo)
    assert undo.read_text() == recorded


def test_write_weights_refuses_a_weight_an_alias_shares_and_changes_nothing(tmp_path):
    # `content: &w {weight: 0.5}` and `year: *w` are one mapping: tune's best (content 0, year
    # 0.1) was written as whichever came last for both, and the diff and message said otherwise
    path = tmp_path / "shared.yaml"
    text = "scorers:\n  content: &w\n    weight: 0.5\n  year: *w\n"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"shared\.yaml: scorers\.content is the same YAML mapping as scorers\.year "
                                          r"\(an anchor & and an alias \*\): changing scorers\.content\.weight would "
                                          r"change them all; write each out in full, then run this again; nothing was changed"):
        write_weights(path, {"artist_walk": 1.0, "content": 0.0, "year": 0.1})
    assert path.read_text() == text
    write_weights(path, {"artist_walk": 1.0})  # a key no alias shares is written as ever
    assert path.read_text() == text + "  artist_walk:\n    weight: 1.0\n"


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
    real = tune_module.blender

    def spy(norm):
        blend = real(norm)

        def blocks(combos):
            seen.append(len(combos))
            return blend(combos)
        return blocks
    monkeypatch.setattr(tune_module, "BLEND_CELLS", 3 * 40)  # about 3 combinations per block here
    monkeypatch.setattr(tune_module, "blender", spy)
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


def near_tie_library(favoured: str) -> tuple[Library, pd.DataFrame, dict]:
    """Playlist P (s1 s2 s3 visible, ``favoured`` hidden) and candidates whose blend ranks
    c1, c2, then x and y a hair apart (1e-9: below float32's resolution, ties there) at the
    top-3 border: ``favoured`` is the one ahead. Two fixed scorers, every value already in
    [0, 1] with 0 and 1 present, so minmax leaves them as they are."""
    ids = ["s1", "s2", "s3", "c1", "c2", "x", "y", "c3", "c4"]
    tracks = pd.DataFrame([{"track_id": t, "name": f"song {t}", "artist_ids": [f"ar{t}"], "artist_names": [f"A {t}"],
                            "album_id": f"al{t}", "album_name": "r", "release_date": "2000"} for t in ids])
    items = pd.DataFrame([{"playlist_id": "P", "track_id": t, "position": i}
                          for i, t in enumerate(["s1", "s2", "s3", favoured])])
    lib = Library.from_frames(tracks=tracks, playlists=pd.DataFrame({"playlist_id": ["P"], "name": ["p"]}),
                              playlist_items=items)
    base = {"s1": 0.0, "s2": 0.0, "s3": 0.0, "c1": 1.0, "c2": 0.9, "x": 0.5, "y": 0.5, "c3": 0.2, "c4": 0.0}
    scorers = {"a": FixedScorer(base | {favoured: 0.5 + 1e-9}), "b": FixedScorer(base)}
    return lib, pd.DataFrame({"playlist_id": ["P"], "track_id": [favoured]}), scorers


@pytest.mark.parametrize("mix", [0.0, 0.05])
@pytest.mark.parametrize("favoured", ["x", "y"])
def test_tune_reports_what_evaluate_gives_for_the_same_weights(settings, favoured, mix):
    """Tune's p@N and nDCG@N of every combination are evaluate's with those weights on the
    same hiding, also at a near-tie on the top-N border (tune blended in float32, where the
    two tie and its tiebreak chose, and evaluate in float64: `tune --write` could store
    weights whose number evaluate then did not give)."""
    lib, hidden, scorers = near_tie_library(favoured)
    s = settings.with_overrides({"blend.artist_mix": mix, "blend.normalisation": "minmax"})
    res = tune(lib, s, folds=1, grid=[0.0, 1.0], scorers=scorers, hider=lambda library, fold: hidden, top_n=3)
    assert len(res.combos) == 3
    for i, row in enumerate(res.combos):
        ev = evaluate(lib, hidden, s, scorers=scorers, weights=dict(zip(res.names, row)), top_n=3)
        hits = ev.hits["blend"]
        if row[0] > 0:  # scorer a weighted: the hidden track is third, one place ahead of its twin
            assert hits[0, :4].tolist() == [False, False, True, False]
        assert res.precision[0, i] == precision(hits, 3).mean(), row
        assert res.ndcg[0, i] == ndcg(hits, ev.n_relevant, 3).mean(), row


def test_tune_summary_of_your_weights_is_for_those_very_weights(settings):
    """Weights that are a multiple of a grid row are tried themselves (a multiple ranks the
    same only up to rounding), and summary() reports their row."""
    lib = themed_library(n_playlists=4, per=12)
    s = settings.with_overrides({"scorers.content.weight": 0.6, "scorers.popularity.weight": 0.2})
    res = tune(lib, s, folds=1, grid=[0.0, 0.3, 0.1], seed=3, top_n=5,
               scorers={"content": ContentScorer(), "popularity": PopularityScorer()})
    mine = np.flatnonzero(np.all(res.combos == [0.6, 0.2], axis=1))
    assert len(mine) == 1 and res._index({"content": 0.6, "popularity": 0.2}) == mine[0]
    assert res._index({"content": 0.3, "popularity": 0.1}) != mine[0]


def test_a_multiple_of_a_row_is_that_row_only_while_no_fixed_scorer_weighs():
    # with a fixed scorer in every row, 2 x (content 1) is another ranking than content 1 (the
    # fixed part weighs half as much): its row is not that one's, whose numbers it would report
    from recommender.tune import TuneResult
    combos = np.asarray([[1.0, 0.1], [0.5, 0.1]])
    scores = np.asarray([[0.4, 0.3]])
    fixed = TuneResult(["content", "release"], combos, scores, scores, 10, {"content": 1.0, "release": 0.1},
                       fixed={"release": 0.1})
    assert fixed._index({"content": 1.0, "release": 0.1}) == 0
    assert fixed._index({"content": 2.0, "release": 0.2}) == -1
    free = TuneResult(["content", "release"], combos, scores, scores, 10, {"content": 1.0, "release": 0.1})
    assert free._index({"content": 2.0, "release": 0.2}) == 0


def test_tune_write_leaves_a_weight_it_did_not_change_to_the_default(tmp_path):
    """`tune --write` (and the web app's Save) write only what differs from the weights in
    effect: a weight the search left at the package default is not pinned in the user's
    file, so a later release's better default still reaches it; a weight the file sets and
    the search keeps stays as written; the new-music share likewise."""
    from recommender import jobs
    from recommender.scorers import blend_weights
    path = tmp_path / "user.yaml"
    path.write_text("# mine\nscorers:\n  popularity:\n    weight: 0.5\n")
    settings = load_settings(config_file=path, environ={}, overrides={"cache.dir": str(tmp_path / "c")})
    best = dict(blend_weights(settings))
    default_content = best["content"]
    best["year"] = best["year"] + 0.25
    _, diff = jobs.write_tuned_weights(settings, best, path, new_share=float(settings.candidates.new_share))
    text = path.read_text()
    assert "content" not in text and "new_share" not in text and "walk" not in text
    loaded = load_settings(config_file=path, environ={})
    assert loaded.scorers.year.weight == best["year"] and loaded.scorers.popularity.weight == 0.5
    assert loaded.scorers.content.weight == default_content
    assert "year" in diff and "content" not in diff


def test_tune_blends_only_the_candidates_a_top_list_could_hold(settings, monkeypatch):
    """Before: every combination of the grid was blended over every candidate of every target
    (a 45,000-track account's `tune --folds 2`: 1,200 targets x 7,472 combinations x 45,000
    candidates, an hour and a half). Candidates that no combination of a chunk could rank in
    its list are left out (bounds of a weighted mean), and the numbers stay evaluate's."""
    import recommender.tune as tune_module
    lib = themed_library(n_playlists=60, per=30)
    s = settings.with_overrides({"blend.normalisation": "minmax"})
    rng = np.random.default_rng(5)  # two scorers of distinct values beside content (mostly 0: ties)
    scorers = {"content": ContentScorer(), **{name: FixedScorer(dict(zip(lib.track_ids, rng.random(len(lib.track_ids)))))
                                              for name in ("a", "b")}}
    from recommender.dataset import hide_random
    hidden = hide_random(lib, fraction=0.5, seed=3, min_tracks=10)
    cells = []
    real = tune_module.blender

    def spy(norm):
        blend = real(norm)

        def counted(combos):
            cells.append(len(norm) * len(combos))
            return blend(combos)
        return counted
    monkeypatch.setattr(tune_module, "blender", spy)
    res = tune(lib, s, folds=1, grid=[0.0, 0.3, 1.0], scorers=scorers, hider=lambda library, fold: hidden, top_n=5)
    candidates = len(lib.track_ids) - 30  # at least, per target: every track but the playlist's own
    assert sum(cells) < 0.8 * res.targets[0] * len(res.combos) * candidates  # 0.75 here
    monkeypatch.setattr(tune_module, "blender", real)
    shortlists = tune_module.shortlists
    monkeypatch.setattr(tune_module, "shortlists", lambda norm, combos, width: (
        (rows, None, None) for rows, _, _ in shortlists(norm, combos, width)))  # every candidate, as before
    whole = tune(lib, s, folds=1, grid=[0.0, 0.3, 1.0], scorers=scorers, hider=lambda library, fold: hidden, top_n=5)
    assert np.array_equal(res.precision, whole.precision) and np.array_equal(res.ndcg, whole.ndcg)
    for i in range(0, len(res.combos), 4):
        row = res.combos[i]
        ev = evaluate(lib, hidden, s, scorers=scorers, weights=dict(zip(res.names, row)), top_n=5)
        assert res.precision[0, i] == pytest.approx(precision(ev.hits["blend"], 5).mean(), rel=1e-12), row
        assert res.ndcg[0, i] == pytest.approx(ndcg(ev.hits["blend"], ev.n_relevant, 5).mean(), rel=1e-12), row


@pytest.mark.parametrize("normalisation", ["rank", "minmax"])
def test_every_combination_tune_ranks_is_evaluate_s_with_a_strong_artist_mix(settings, normalisation):
    """`recommend tune` ranks each combination from a shortlist of the target's candidates
    and mixes only each list's best raw scores, taking more where the mix pushes its k-th pick
    down (a strong mix here): every combination's p@N and nDCG@N must still be what
    ``evaluate``, which mixes and ranks every candidate, gives with those weights."""
    lib = themed_library(n_playlists=40, per=25, seed=4)
    s = settings.with_overrides({"blend.normalisation": normalisation, "blend.artist_mix": 0.9})
    rng = np.random.default_rng(9)
    # each artist's tracks score alike, one artist of every playlist high: a target's own low
    # artists (seeds: not lowered) rise above the other playlists' high ones, from far below
    # the raw scores a shortlist keeps
    artist = [ids[0] for ids in lib.tracks["artist_ids"]]
    level = {a: 0.8 + 0.2 * rng.random() if a.endswith("_0") else 0.3 * rng.random() for a in sorted(set(artist))}
    scorers = {"content": ContentScorer(),
               **{name: FixedScorer({t: level[a] + 0.02 * rng.random() for t, a in zip(lib.track_ids, artist)})
                  for name in ("a", "b")}}
    from recommender.dataset import hide_random
    hidden = hide_random(lib, fraction=0.5, seed=3, min_tracks=10)
    res = tune(lib, s, folds=1, grid=[0.0, 0.3, 1.0], scorers=scorers, hider=lambda library, fold: hidden, top_n=5)
    for i, row in enumerate(res.combos):
        ev = evaluate(lib, hidden, s, scorers=scorers, weights=dict(zip(res.names, row)), top_n=5)
        assert res.precision[0, i] == pytest.approx(precision(ev.hits["blend"], 5).mean(), rel=1e-12, abs=0), row
        assert res.ndcg[0, i] == pytest.approx(ndcg(ev.hits["blend"], ev.n_relevant, 5).mean(), rel=1e-12, abs=0), row


def test_the_shortlist_bar_is_the_one_sorting_every_cell_gives():
    """The bar of a shortlist (the blend its best cells reach with ``width`` candidates) is
    taken from each row's ``width`` best cells only: it must be the value sorting every cell
    gives, also with ties, cells never ranked (-inf) and rows holding fewer than ``width``."""
    from recommender.tune import SHORTLIST_MARGIN, _bar
    rng = np.random.default_rng(2)
    for cells, width in [(500, 64), (40, 64), (300, 80)]:
        lows = np.round(rng.random((30, cells)), 2)
        lows[rng.random(lows.shape) < 0.2] = -np.inf
        lows[0] = -np.inf
        counts = rng.integers(1, 6, cells)
        order = np.argsort(-lows, axis=1, kind="stable")
        held = np.cumsum(np.where(np.isfinite(np.take_along_axis(lows, order, axis=1)), counts[order], 0), axis=1)
        at = np.argmax(held >= width, axis=1)
        want = np.take_along_axis(lows, np.take_along_axis(order, at[:, None], axis=1), axis=1)[:, 0]
        want = np.where(held[:, -1] >= width, want - SHORTLIST_MARGIN, -np.inf)
        assert np.array_equal(_bar(lows, counts, width), want)


@pytest.mark.parametrize("seed", range(3))
def test_tune_s_lists_are_those_of_mixing_and_ranking_every_candidate(seed):
    """`recommend tune` ranks every weight combination of a target over shortlists of its
    candidates (cells of alike scores, bounds of a weighted mean), mixes only each list's best
    raw scores, and ranks again, over more cells and then every candidate, the lists the artist
    mix pushed below a candidate left out (16 min on a 45,000-track account before, most of it
    the mix). Every list must be the one blending and mixing every candidate for that
    combination alone gives: the same candidates in the same order, ties by position."""
    from recommender.blend import ArtistMix
    from recommender.tune import top_lists
    rng = np.random.default_rng(seed)
    n, top_n = 4000, 5
    norm = np.column_stack([np.where(rng.random(n) < 0.7, 0.0, rng.random(n)),  # mostly 0: ties
                            np.round(rng.beta(5, 1, n), 3), rng.beta(4, 1, n)])
    norm[rng.random(norm.shape) < 0.1] = np.nan  # silent scorers
    codes = rng.integers(-1, 25, n)  # few artists, many tracks each: the mix reaches deep
    share = rng.dirichlet(np.ones(25)) * 0.6
    mix = ArtistMix(float(rng.choice([0.3, 0.6])))
    combos = weight_grid(["a", "b", "c"], [0.0, 0.1, 0.5, 1.0])
    top, vals = top_lists(norm, codes, share, mix, combos, top_n)
    for i, w in enumerate(combos):
        blended = blend_matrix(norm, w[None, :])[0]
        mixed = np.where(np.isnan(blended), -np.inf, blended * mix.factors(blended, codes, share, top_n))
        want = np.lexsort((np.arange(n), -mixed))[:top_n]
        assert top[i].tolist() == want.tolist(), w
        assert np.array_equal(vals[i], np.where(np.isnan(blended[want]), -1.0, blended[want]))


# ----- tune.fixed: scorers in the blend at their configured weight, never searched ---------------

def test_weight_grid_keeps_a_fixed_scorers_weight_and_the_multiples_it_makes_rank_otherwise():
    """A fixed scorer is a constant column; the others get every grid value but all zero (the
    fixed scorers alone: test_tune_never_offers_the_fixed_scorers_alone). A blend divides by the sum of the weights present,
    so without a fixed weight a multiple ranks alike and is dropped, but with one it weighs the
    fixed scorer less and ranks otherwise: kept."""
    combos = weight_grid(["a", "f", "b"], [0.0, 1.0, 2.0], {"f": 0.5})
    assert len(combos) == 3 ** 2 - 1 and np.all(combos[:, 1] == 0.5)
    assert {(0.0, 0.5, 1.0), (1.0, 0.5, 0.0), (2.0, 0.5, 0.0), (2.0, 0.5, 2.0)} <= {tuple(r) for r in combos}
    norm = np.array([[1.0, 0.0, np.nan], [0.6, 1.0, np.nan]])  # two candidates x (a, f, b)
    once, twice = blend_matrix(norm, np.array([[1.0, 0.5, 0.0], [2.0, 0.5, 0.0]]))
    assert np.argmax(once) == 1 and np.argmax(twice) == 0  # a multiple of a's weight: another ranking
    alike = blend_matrix(norm[:, [0, 2]], np.array([[1.0, 0.0], [2.0, 0.0]]))
    assert np.array_equal(np.argsort(alike[0]), np.argsort(alike[1]))  # no fixed part: the same ranking
    assert len(weight_grid(["a", "f", "b"], [0.0, 1.0, 2.0], {"f": 0.0})) == 5  # a fixed 0: as without it
    assert len(weight_grid(["f"], [0.0, 1.0], {"f": 0.5})) == 1  # nothing to search: the fixed row alone


def test_tune_keeps_the_fixed_scorers_as_configured_and_grids_the_others(settings):
    """tune.fixed (opendata, release) was not there: yesterday's release scorer made six scorers
    on, 6^6 combinations (45,802 without multiples, three times the time), and tune set open
    data's weight by how it reorders your own tracks (0 on the sample library), which is not
    what it is for. Now they stay at their configured weight in every combination: 6^k - 1 for
    the k searched scorers (not all 0), your own weights beside; `tune.fixed: []` searches them too."""
    lib = themed_library(n_playlists=4, per=12)
    weights = settings_weights(settings)
    on = [n for n, w in weights.items() if w > 0]
    fixed = {n: weights[n] for n in settings.tune.fixed}
    assert set(fixed) == {"opendata", "release"} and set(fixed) < set(on) and all(fixed.values())
    res = tune(lib, settings, folds=1, seed=3, top_n=5)
    searched = [n for n in res.names if n not in fixed]
    assert len(searched) == 4 and res.fixed == fixed and res.to_dict()["fixed"] == fixed
    default_row = [weights[n] for n in res.names]
    assert not np.all(np.isin(default_row, settings.tune.grid))  # artist_walk 1.15: off the grid
    assert len(res.combos) == len(settings.tune.grid) ** len(searched) - 1 + 1
    for name, w in fixed.items():
        assert np.all(res.combos[:, res.names.index(name)] == w) and res.best_weights[name] == w
    assert set(res.tuned_weights) == set(searched)
    everything = tune(lib, settings.with_overrides({"tune.fixed": []}), folds=1, grid=[0.0, 1.0], seed=3, top_n=5)
    assert everything.fixed == {} and set(everything.names) == set(on)
    assert set(everything.combos[:, everything.names.index("opendata")]) == {0.0, 1.0, 0.1}  # 0.1: your row


def test_tune_with_a_fixed_scorer_gives_what_evaluate_gives_for_every_combination(settings, monkeypatch):
    """With a fixed scorer in the blend, every combination tune tries (a multiple of another
    among them) still ranks as `recommend evaluate` ranks those weights,
    to the bit: the number tune shows for the weights --write stores is evaluate's."""
    import recommender.tune as tune_module
    from recommender.dataset import hide_random
    lib = themed_library(n_playlists=4, per=12)
    rng = np.random.default_rng(7)
    ids = list(lib.track_ids)
    tables = {n: {t: float(rng.random()) for t in ids} for n in ("content", "year")}
    tables["opendata"] = {t: (float(rng.random()) if i % 3 == 0 else np.nan) for i, t in enumerate(ids)}

    def scorers():
        return {n: FixedScorer(tables[n]) for n in ("content", "opendata", "year")}
    monkeypatch.setattr(tune_module, "make_scorers", lambda s, **kw: scorers())
    s = settings.with_overrides({"scorers.opendata.weight": 0.3, "scorers.artist_walk.weight": 0.0,
                                 "scorers.coverage.weight": 0.0, "scorers.release.weight": 0.0,
                                 "blend.normalisation": "minmax"})
    hidden = hide_random(lib, fraction=0.5, seed=4, min_tracks=10)
    res = tune(lib, s, folds=1, grid=[0.0, 0.5, 1.0, 2.0], top_n=3, hider=lambda library, fold: hidden)
    assert res.names == ["content", "opendata", "year"] and res.fixed == {"opendata": 0.3}
    assert len(res.combos) == 4 ** 2 - 1 + 1 and np.all(res.combos[:, 1] == 0.3)
    for i, row in enumerate(res.combos):
        ev = evaluate(lib, hidden, s, scorers=scorers(), weights=dict(zip(res.names, row)), top_n=3)
        assert res.precision[0, i] == precision(ev.hits["blend"], 3).mean(), row
        assert res.ndcg[0, i] == ndcg(ev.hits["blend"], ev.n_relevant, 3).mean(), row


def test_tune_never_offers_the_fixed_scorers_alone(settings, monkeypatch):
    """With a fixed scorer the grid held the row where every searched weight is 0: the fixed
    scorers alone. Open data is fixed because tune cannot measure it on your own tracks, yet
    where open data alone ranked them best, that row won and --write set every searched scorer
    to 0 (a blend of open data and release only, and no scorer left for a later tune to search)."""
    import recommender.tune as tune_module
    from recommender.dataset import hide_random
    lib = themed_library(n_playlists=4, per=12)
    hidden = hide_random(lib, fraction=0.5, seed=4, min_tracks=10)
    found = set(hidden["track_id"])
    rng = np.random.default_rng(7)
    ids = list(lib.track_ids)
    tables = {n: {t: float(rng.random()) for t in ids} for n in ("content", "year")}
    tables["opendata"] = {t: 1.0 if t in found else 0.1 * float(rng.random()) for t in ids}  # knows the hidden ones
    monkeypatch.setattr(tune_module, "make_scorers",
                        lambda s, **kw: {n: FixedScorer(tables[n]) for n in ("content", "opendata", "year")})
    s = settings.with_overrides({"scorers.opendata.weight": 0.3, "scorers.artist_walk.weight": 0.0,
                                 "scorers.coverage.weight": 0.0, "scorers.release.weight": 0.0})
    res = tune(lib, s, folds=1, grid=[0.0, 0.5, 1.0], top_n=3, hider=lambda library, fold: hidden)
    assert res.fixed == {"opendata": 0.3}
    assert not any(np.all(res.combos[:, [0, 2]] == 0, axis=1))  # content and year both 0: never tried
    assert any(res.tuned_weights.values())  # what --write stores leaves a scorer to search
    assert len(weight_grid(["a", "f", "b"], [0.0, 1.0], {"f": 0.5})) == 2 ** 2 - 1
    assert len(weight_grid(["f"], [0.0, 1.0], {"f": 0.5})) == 1  # nothing to search: the fixed row alone


@pytest.mark.parametrize("text", ["tune:\n  fixed: [opendata, relase]\n", "tune:\n  fixed: [3]\n"])
def test_tune_fixed_takes_only_scorer_names(tmp_path, text):
    path = tmp_path / "user.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(config_file=path, environ={})
    bad = text.split("[", 1)[1].split("]")[0].split(", ")[-1]
    assert str(err.value).startswith(f"{path}: line 2: tune.fixed must be a list of scorer names (artist_walk, "
                                     f"audio, collaborative, content, coverage, opendata, popularity, release, "
                                     f"year), got {bad if bad == '3' else repr(bad)} in ")
    assert "\n" not in str(err.value)
    assert load_settings(config_file=None, environ={}).with_overrides({"tune.fixed": []}).tune.fixed == []


def test_an_undo_of_another_config_file_names_the_one_the_last_write_changed(tmp_path):
    """`tune --write --config other.yaml`, then `tune --undo` without --config: "nothing to undo"
    named neither the file written nor how to undo it."""
    from recommender.errors import UsageError
    from recommender.tune import undo_weights
    other, mine, undo = tmp_path / "other.yaml", tmp_path / "config.yaml", tmp_path / "state" / "tune-undo.json"
    mine.write_text("# mine\n")
    write_weights(other, {"content": 0.7}, undo_file=undo)
    with pytest.raises(UsageError) as err:
        undo_weights(mine, undo)
    assert str(err.value).endswith(f"; the last recorded one changed {other}: `recommend tune --undo --config {other}`")
    undo_weights(other, undo)  # (and that one undoes it)
    spaced = tmp_path / "Application Support" / "other.yaml"  # macOS's folder: the command named two words
    write_weights(spaced, {"content": 0.7}, undo_file=undo)
    with pytest.raises(UsageError) as err:
        undo_weights(mine, undo)
    assert str(err.value).endswith(f": `recommend tune --undo --config '{spaced}'`")


def test_an_undo_after_moving_to_another_computer_undoes_the_copied_file(tmp_path):
    """The data directory and the config file copied to another home folder: `tune --undo` said
    "nothing to undo" (its record names the old file) and offered `--config` with the old
    computer's path. The copy holding what the write wrote is undone; one edited since is not,
    and no gone file is offered."""
    import shutil

    from recommender.errors import UsageError
    from recommender.tune import undo_weights
    old, undo = tmp_path / "old" / "config.yaml", tmp_path / "old-state" / "tune-undo.json"
    old.parent.mkdir()
    old.write_text("playlist:\n  name: mine\n")
    write_weights(old, {"content": 0.7}, undo_file=undo)
    new, moved = tmp_path / "new" / "config.yaml", tmp_path / "new-state" / "tune-undo.json"
    shutil.copytree(old.parent, new.parent)
    shutil.copytree(undo.parent, moved.parent)
    shutil.rmtree(old.parent)
    edited = tmp_path / "edited.yaml"
    edited.write_text(new.read_text().replace("0.7", "0.8"))
    with pytest.raises(UsageError) as err:
        undo_weights(edited, moved)
    assert str(err.value).startswith("nothing to undo") and str(old) not in str(err.value)
    undo_weights(new, moved)
    assert new.read_text() == "playlist:\n  name: mine\n"


def test_tune_s_json_gives_its_metrics_to_four_decimals_as_evaluate_s():
    """`tune --json` gave 0.5666666666666665 where `evaluate --json` gives 0.5667."""
    from recommender.tune import TuneResult
    p = np.asarray([[0.5, 2 / 3], [0.6, 1 / 3]])  # folds x combinations
    out = TuneResult(["content"], np.asarray([[0.5], [1.0]]), p, p / 7, 10, {"content": 1.0}).to_dict()
    for row in (out["best"], out["defaults"]):
        values = [v for k, vs in row.items() if k != "weights" for v in (vs if isinstance(vs, list) else [vs])]
        assert len(values) == 8 and all(v == round(v, 4) for v in values), row
    assert out["defaults"]["p@10"] == 0.5 and out["defaults"]["p@10_folds"] == [0.6667, 0.3333]


# ----- the grid and the choice, on numbers ------------------------------------------------------
def test_the_grid_keeps_one_of_each_ranking_and_never_weighs_every_scorer_0():
    """A blend divides by the sum of its weights: (0.5, 0.5) ranks as (1, 1) does, so the grid
    holds one of them; no row is all zeros (it would blend nothing)."""
    from recommender.tune import weight_grid
    rows = weight_grid(["a", "b"], [0.0, 0.5, 1.0])
    assert rows.tolist() == [[0.0, 0.5], [0.5, 0.0], [0.5, 0.5], [0.5, 1.0], [1.0, 0.5]]


def test_the_grid_keeps_a_fixed_weight_in_every_row_and_multiples_once_it_weighs():
    """A fixed scorer keeps its configured weight in every row and never stands alone; with its
    weight above 0, a multiple of a combination weighs it otherwise, so both are kept; a fixed
    weight of 0 drops the multiples as before."""
    from recommender.tune import weight_grid
    rows = weight_grid(["a", "b", "fixed"], [0.0, 0.5, 1.0], fixed={"fixed": 0.2})
    assert rows[:, 2].tolist() == [0.2] * 8 and not (rows[:, :2] == 0).all(axis=1).any()
    assert [0.5, 0.5, 0.2] in rows.tolist() and [1.0, 1.0, 0.2] in rows.tolist()
    zero = weight_grid(["a", "b", "fixed"], [0.0, 0.5, 1.0], fixed={"fixed": 0.0})
    assert zero[:, :2].tolist() == weight_grid(["a", "b"], [0.0, 0.5, 1.0]).tolist()
    assert (zero[:, 2] == 0).all()
    # nothing searched: the one row of the fixed weights, or none when they are all 0
    assert weight_grid(["a"], [0.0, 1.0], fixed={"a": 0.4}).tolist() == [[0.4]]
    assert weight_grid(["a"], [0.0, 1.0], fixed={"a": 0.0}).shape == (0, 1)


def _result(precision, ndcg, defaults, combos=((1.0, 0.0), (0.0, 1.0), (1.0, 1.0)), fixed=None, names="ab"):
    """A tune's result over scorers ``names``: ``precision`` and ``ndcg`` are folds x ``combos``."""
    from recommender.tune import TuneResult
    return TuneResult(names=list(names), combos=np.asarray(combos, dtype=float),
                      precision=np.asarray(precision, dtype=float), ndcg=np.asarray(ndcg, dtype=float),
                      top_n=10, defaults=defaults, fixed=fixed or {})


def test_a_result_finds_weights_by_their_row_or_a_multiple_of_it_unless_a_fixed_scorer_weighs():
    r = _result([[0.1, 0.2, 0.3]], [[0.1, 0.2, 0.3]], {"a": 1.0, "b": 1.0})
    assert r.summary({"a": 1.0, "b": 1.0})["p@10"] == 0.3  # the very row
    assert r.summary({"a": 0.2, "b": 0.2})["p@10"] == 0.3  # a multiple: the same ranking
    assert r.summary({"a": 2.0})["p@10"] == 0.1 and r.summary({"b": 3.0})["p@10"] == 0.2
    assert r.summary({"a": 0.5, "b": 0.2}) is None and r.per_fold({"a": 0.5, "b": 0.2}) == {}
    fixed = _result([[0.1, 0.2, 0.3]], [[0.1, 0.2, 0.3]], {"a": 1.0, "b": 1.0}, fixed={"b": 1.0})
    assert fixed.summary({"a": 1.0, "b": 1.0})["p@10"] == 0.3 and fixed.summary({"a": 0.5, "b": 0.5}) is None
    # every weight as in the row: (1, 1, 0) is not (1, 0, 0) for sharing its last weight
    three = _result([[0.1, 0.2, 0.3]], [[0.1, 0.2, 0.3]], {},
                    combos=((1.0, 0.0, 0.0), (0.0, 1.0, 1.0), (1.0, 1.0, 0.0)),
                    names="abc")
    assert three.summary({"a": 2.0, "b": 2.0})["p@10"] == 0.3


def test_the_best_weights_are_the_highest_precision_then_ndcg_then_the_current_ones():
    # the highest p@10 wins whatever its nDCG
    assert _result([[0.2, 0.3, 0.1]], [[0.9, 0.1, 0.9]], {"a": 1.0}).best_weights == {"a": 0.0, "b": 1.0}
    # a tie on p@10 goes to the higher nDCG
    assert _result([[0.3, 0.3, 0.1]], [[0.2, 0.4, 0.9]], {"a": 1.0}).best_weights == {"a": 0.0, "b": 1.0}
    # a tie on both keeps the current weights, wherever they are in the grid
    assert _result([[0.3, 0.3, 0.3]], [[0.4, 0.4, 0.4]], {"a": 1.0, "b": 1.0}).best_index == 2
    assert _result([[0.3, 0.3, 0.3]], [[0.4, 0.4, 0.4]], {"a": 0.5, "b": 0.5}).best_index == 2
    # ... and a tie up to the last bits of a float too
    assert _result([[0.3, 0.3 + 1e-15, 0.1]], [[0.4, 0.4, 0.4]], {"a": 1.0}).best_index == 0
    # current weights beaten by a little are not kept; weights not in the grid: the first best
    assert _result([[0.3, 0.3, 0.3001]], [[0.4, 0.4, 0.4]], {"a": 1.0}).best_index == 2
    assert _result([[0.3, 0.3, 0.3]], [[0.4, 0.4, 0.4001]], {"a": 1.0}).best_index == 2
    assert _result([[0.3, 0.3, 0.2]], [[0.4, 0.4, 0.4]], {"a": 0.3, "b": 0.2}).best_index == 0


def test_better_weights_within_the_spread_over_folds_are_no_reason_to_change():
    folds = [[0.30, 0.34, 0.1], [0.30, 0.30, 0.1]]  # b: 0.32 +- 0.02 over a's 0.30 +- 0
    assert _result(folds, folds, {"a": 1.0}).within_spread  # 0.02 <= 0.02
    spread = [[0.28, 0.31, 0.1], [0.32, 0.31, 0.1]]  # b: 0.31 +- 0 over a's 0.30 +- 0.02: the current's spread
    assert _result(spread, spread, {"a": 1.0}).within_spread
    clear = [[0.30, 0.40, 0.1], [0.30, 0.38, 0.1]]  # b: 0.39 +- 0.01 over 0.30 +- 0
    assert not _result(clear, clear, {"a": 1.0}).within_spread
    steady = [[0.30, 0.32, 0.1], [0.30, 0.32, 0.1]]  # a gain with no spread at all is a gain
    assert not _result(steady, steady, {"a": 1.0}).within_spread
    # one fold has no spread to judge by; the current weights best, or not in the grid: nothing to judge
    assert not _result([[0.30, 0.31, 0.1]], [[0.30, 0.31, 0.1]], {"a": 1.0}).within_spread
    assert not _result(clear, clear, {"b": 1.0}).within_spread
    assert not _result(clear, clear, {"a": 0.3, "b": 0.2}).within_spread


def test_tune_on_a_data_file_hides_by_the_protocol_in_fold_0_and_by_its_seed_in_each_other(tmp_path, monkeypatch):
    """`recommend tune --dataset FILE`: its first fold hides exactly the benchmark's tracks
    (PROTOCOL.md's sha1 rule, what `evaluate --dataset` measures), fold k the seeded random
    hiding of seed ``evaluate.seed + k``; on your cached library every fold is tune's own
    seeded hiding (no protocol hider)."""
    from recommender import jobs
    from recommender import tune as tuning
    from recommender.dataset import hide_random, hide_tracks
    from test_persona import _persona_rows, _write
    settings = load_settings(environ={})
    ev = settings.evaluate
    seen = {}

    def searched(library, settings, folds, seed, hider, searched_at_0, progress):
        seen.update(library=library, hider=hider, folds=folds)
    monkeypatch.setattr(tuning, "tune", searched)
    setup = jobs.evaluation_setup(settings, dataset=_write(tmp_path / "songs.csv", _persona_rows()))
    jobs.tune(settings, setup, folds=3)
    lib, hider = seen["library"], seen["hider"]
    assert seen["folds"] == 3 and setup.protocol
    pd.testing.assert_frame_equal(hider(lib, 0), hide_tracks(lib, min_tracks=ev.min_tracks))
    folds = [hider(lib, k) for k in (1, 2)]
    for k, hidden in zip((1, 2), folds):
        pd.testing.assert_frame_equal(hidden, hide_random(lib, fraction=ev.hide_fraction, seed=ev.seed + k,
                                                          min_tracks=ev.min_tracks))
    assert not folds[0].equals(folds[1]) and not folds[0].equals(hider(lib, 0))  # three different folds
    jobs.tune(settings, jobs.evaluation_setup(settings, library=themed_library()))
    assert seen["hider"] is None
