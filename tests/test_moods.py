"""Mood quadrants, clustering, the mood recommender and the text classifier, on synthetic
libraries whose right answer is known."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.errors import NotEnoughData, UsageError
from recommender.library import Library
from recommender.moods import (ClassifierReport, MoodClassifier, classify_library, cluster_playlist, mood_labels,
                               mood_point, mood_recommend, mood_target, normalise_mood, plot_clusters, quadrant)
from deprecation_marks import DEPRECATIONS_OF_OURS

pytestmark = DEPRECATIONS_OF_OURS

CORNERS = {"happy": (0.9, 0.9), "energetic": (0.1, 0.9), "calm": (0.9, 0.1), "sad": (0.1, 0.1)}
PLANTED = {"happy": "sunshine", "energetic": "rage", "calm": "breeze", "sad": "tears"}
FILLER = "river night city heart road dream light fire stone glass paper window".split()


def tid(i: int) -> str:
    return f"t{i:021d}"


def make_library(rows: list[dict], playlists: dict[str, list[str]] | None = None) -> Library:
    """rows: track_id, name, artist, album and optionally valence, energy (+ other features)."""
    tracks = pd.DataFrame({
        "track_id": [r["track_id"] for r in rows],
        "name": [r["name"] for r in rows],
        "artist_ids": [[("a" + r["artist"].replace(" ", "").lower()).ljust(22, "0")[:22]] for r in rows],
        "artist_names": [[r["artist"]] for r in rows],
        "album_name": [r.get("album", "") for r in rows],
    })
    feats = pd.DataFrame([{k: v for k, v in r.items() if k not in ("name", "artist", "album")}
                          for r in rows if "valence" in r])
    frames = {"tracks": tracks}
    if len(feats):
        frames["audio_features"] = feats
    if playlists:
        frames["playlists"] = pd.DataFrame({"playlist_id": list(playlists), "name": [f"List {p}" for p in playlists]})
        frames["playlist_items"] = pd.DataFrame(
            [{"playlist_id": p, "track_id": t, "position": i} for p, ids in playlists.items() for i, t in enumerate(ids)])
    return Library.from_frames(**frames)


def corner_rows(per_mood: int = 6, seed: int = 0, jitter: float = 0.05) -> list[dict]:
    """per_mood tracks near each corner of the valence/energy square."""
    rng = np.random.default_rng(seed)
    rows = []
    for mood, (v, e) in CORNERS.items():
        for _ in range(per_mood):
            i = len(rows)
            rows.append({"track_id": tid(i), "name": f"{mood} song {i}", "artist": f"{mood} band", "album": "LP",
                         "valence": float(np.clip(v + rng.normal(0, jitter), 0, 1)),
                         "energy": float(np.clip(e + rng.normal(0, jitter), 0, 1))})
    return rows


# ----- quadrants ----------------------------------------------------------------------------
def test_quadrant_of_extremes_thresholds_and_missing_values():
    v = [0.95, 0.05, 0.95, 0.05, 0.5, np.nan]
    e = [0.95, 0.95, 0.05, 0.05, 0.5, 0.5]
    assert quadrant(v, e).tolist() == ["happy", "energetic", "calm", "sad", "happy", None]
    # thresholds move the boundary
    assert quadrant([0.6], [0.6], valence_threshold=0.7).tolist() == ["energetic"]
    assert quadrant([0.6], [0.6], energy_threshold=0.7).tolist() == ["calm"]


def test_mood_targets_and_names():
    assert mood_target("happy") == (0.75, 0.75)
    assert mood_target("sad") == (0.25, 0.25)
    assert mood_target("calm") == (0.75, 0.25)
    assert mood_target("energetic") == mood_target("intense") == (0.25, 0.75)
    assert mood_target("happy", valence_threshold=0.6, energy_threshold=0.4) == (0.8, 0.7)
    assert normalise_mood(" Peaceful ") == "calm"
    with pytest.raises(UsageError, match="grumpy"):
        normalise_mood("grumpy")
    # valence/energy cannot tell angry from merely intense: "angry" is not a class
    with pytest.raises(UsageError, match="angry"):
        normalise_mood("angry")


def test_an_unknown_mood_says_why_angry_is_none_and_what_a_typo_meant():
    # `moods recommend --mood angry` said only "unknown mood 'angry': choose one of happy, energetic,
    # calm, sad", as if the tool had forgotten it, where README says why it is refused; `--mood
    # hapy` got no "did you mean", which a misspelt playlist or command gets
    with pytest.raises(UsageError) as angry:
        normalise_mood("Angry")
    assert str(angry.value) == ("unknown mood 'Angry': choose one of happy, energetic, calm, sad; valence and energy "
                                "cannot tell angry music from merely intense music, so there is no angry mood "
                                "(energetic holds both)")
    for typed, meant in (("hapy", "'happy'"), ("energtic", "'energetic'"), ("sadd", "'sad'"),
                         # an alias with the mood it stands for, which the list of moods names
                         ("chil", "'chill' (calm)"), ("nonsense", "'intense' (energetic)")):
        with pytest.raises(UsageError, match=re.escape(f"; did you mean {meant}?")):
            normalise_mood(typed)
    with pytest.raises(UsageError) as far:
        normalise_mood("grumpy")
    assert str(far.value) == "unknown mood 'grumpy': choose one of happy, energetic, calm, sad"


# ----- mood recommender ---------------------------------------------------------------------
def test_mood_recommend_returns_the_mood_quadrant_first():
    lib = make_library(corner_rows())
    for mood in CORNERS:
        out = mood_recommend(lib, mood, n=6)
        assert out["mood"].tolist() == [mood] * 6
        assert out["rank"].tolist() == list(range(1, 7))
        assert out["distance"].is_monotonic_increasing
        assert out["name"].str.startswith(mood).all()
        assert ((out["score"] > 0) & (out["score"] <= 1)).all()


def test_a_point_of_the_plane_is_taken_from_0_to_1_and_anything_else_is_named_and_refused():
    """``mood_point`` is a function of the package (the CLI and the web app check their own
    input first): the edges of the plane are points, a value outside it or not a number is
    refused with the axis and the value named."""
    lib = make_library(corner_rows())
    out = mood_point(lib, 1, 0.0, n=3)
    assert out.attrs["target"] == (1.0, 0.0) and out["mood"].tolist() == ["calm"] * 3
    for valence, energy, said in [(1.5, 0.5, "valence must be a number from 0 to 1, got 1.5"),
                                  (0.5, -0.1, "energy must be a number from 0 to 1, got -0.1"),
                                  (float("nan"), 0.5, "valence must be a number from 0 to 1, got nan"),
                                  (True, 0.5, "valence must be a number from 0 to 1, got True"),
                                  (0.5, "0.5", "energy must be a number from 0 to 1, got '0.5'")]:
        with pytest.raises(UsageError) as err:
            mood_point(lib, valence, energy)
        assert str(err.value) == said


def test_a_moods_own_tracks_come_before_nearer_tracks_of_another_mood():
    """A happy track on the calm quadrant's edge is nearer the calm centre (0.75, 0.25) than a
    calm track in its corner: `moods recommend --mood calm -n 50` on the sample account listed
    (and exported as "recommend: calm") 3 tracks of other moods from rank 43 while 20 calm
    ones were left out."""
    rows = [{"track_id": tid(0), "name": "corner", "artist": "x", "valence": 0.98, "energy": 0.02},  # calm
            {"track_id": tid(1), "name": "edge", "artist": "y", "valence": 0.75, "energy": 0.52},  # happy
            {"track_id": tid(2), "name": "far", "artist": "z", "valence": 0.1, "energy": 0.9}]  # energetic
    out = mood_recommend(make_library(rows), "calm", n=3)
    assert out["track_id"].tolist() == [tid(0), tid(1), tid(2)]  # the mood's own, then the nearest others
    assert out["mood"].tolist() == ["calm", "happy", "energetic"]


def test_mood_recommend_moves_toward_seeds_within_the_quadrant():
    rows = [
        {"track_id": tid(0), "name": "a", "artist": "x", "valence": 0.9, "energy": 0.6},  # happy, calmer
        {"track_id": tid(1), "name": "b", "artist": "x", "valence": 0.55, "energy": 0.95},  # happy, wilder
        {"track_id": tid(2), "name": "c", "artist": "x", "valence": 0.52, "energy": 0.98},  # the seed
        {"track_id": tid(3), "name": "d", "artist": "x", "valence": 0.1, "energy": 0.1},
    ]
    lib = make_library(rows)
    plain = mood_recommend(lib, "happy", n=4)
    assert plain.attrs["target"] == (0.75, 0.75)
    assert plain["track_id"].tolist() == [tid(0), tid(1), tid(2), tid(3)]
    seeded = mood_recommend(lib, "happy", n=4, seeds=[tid(2)], seed_bias=0.8)
    tv, te = seeded.attrs["target"]
    assert tv < 0.75 and te > 0.75
    assert seeded["track_id"].tolist() == [tid(1), tid(2), tid(0), tid(3)]
    # a seed outside the quadrant only pulls the target to the quadrant's edge
    sad_seed = mood_recommend(lib, "happy", seeds=pd.Series({tid(3): 1.0}), seed_bias=1.0)
    assert sad_seed.attrs["target"] == (0.5, 0.5)


def test_mood_recommend_without_audio_features_says_how_to_import_them():
    lib = make_library([{"track_id": tid(0), "name": "a", "artist": "x"}])
    with pytest.raises(NotEnoughData, match="recommend import features"):
        mood_recommend(lib, "happy")
    with pytest.raises(UsageError, match="grumpy"):
        mood_recommend(make_library(corner_rows(1)), "grumpy")


# ----- clustering ---------------------------------------------------------------------------
def two_group_audio_library() -> tuple[Library, list[str], list[str]]:
    rng = np.random.default_rng(1)
    rows = []
    for i in range(10):  # loud party: happy, energetic, danceable
        rows.append({"track_id": tid(i), "name": f"party {i}", "artist": "p", "valence": 0.85 + rng.normal(0, .03),
                     "energy": 0.9 + rng.normal(0, .03), "danceability": 0.8, "tempo": 125 + rng.normal(0, 2)})
    for i in range(10, 18):  # quiet sad ballads
        rows.append({"track_id": tid(i), "name": f"ballad {i}", "artist": "b", "valence": 0.15 + rng.normal(0, .03),
                     "energy": 0.2 + rng.normal(0, .03), "danceability": 0.3, "tempo": 70 + rng.normal(0, 2)})
    ids = [r["track_id"] for r in rows]
    return make_library(rows, {"p" * 22: ids}), ids[:10], ids[10:]


def two_named_playlists(names: list[str]) -> Library:
    """``two_group_audio_library`` with its party songs in a playlist named ``names[0]`` (id
    "a" * 22) and its ballads in one named ``names[1]`` ("b" * 22)."""
    lib, party, ballads = two_group_audio_library()
    pl = pd.DataFrame({"playlist_id": ["a" * 22, "b" * 22], "name": names})
    items = pd.DataFrame({"playlist_id": ["a" * 22] * 10 + ["b" * 22] * 8, "track_id": party + ballads,
                          "position": range(18)})
    return lib.replace(playlists=pl, playlist_items=items)


def test_cluster_playlist_finds_two_obvious_audio_clusters():
    lib, party, ballads = two_group_audio_library()
    res = cluster_playlist(lib, "List " + "p" * 22)  # by name, case as stored
    assert res.basis == "audio" and res.k == 2
    assert res.silhouette > 0.5
    by_track = res.tracks.set_index("track_id")["cluster"]
    assert by_track[party].nunique() == 1 and by_track[ballads].nunique() == 1
    assert by_track[party].iloc[0] == 0  # the larger cluster is 0
    labels = res.clusters.set_index("cluster")["label"]
    assert labels[0].startswith("happy") and labels[1].startswith("sad")
    assert res.clusters.set_index("cluster").loc[0, "size"] == 10
    assert res.clusters.set_index("cluster").loc[1, "valence"] < 0.3
    assert np.isfinite(res.tracks[["x", "y"]].to_numpy()).all()
    assert set(res.silhouettes) == {2, 3, 4, 5, 6}
    # the chart's x axis says what grows along it: the side the party tracks lie on is theirs
    low, high = (side.strip() for side in res.axes[0].split("← →"))
    x = res.tracks.set_index("track_id")["x"]
    party_side, ballad_side = (high, low) if x[party].mean() > x[ballads].mean() else (low, high)
    assert "valence" in party_side or "energy" in party_side, res.axes
    assert "valence" not in ballad_side and "energy" not in ballad_side, res.axes


def test_two_clusters_of_one_label_are_told_apart_alike_everywhere():
    """Two clusters labelled alike were "energetic/intense" twice in the clusters' table and the
    chart's legend, and "energetic/intense 2" in the tracks' table: one name per cluster now, and
    a name that says how they differ (a number said nothing of it, in the legend or an export's
    name: "happy/upbeat 2")."""
    rows = [{"track_id": tid(i), "name": f"song {i}", "artist": "a", "valence": v + 0.01 * (i % 3), "energy": e}
            for i, (v, e) in enumerate([(0.9, 0.9)] * 8 + [(0.65, 0.6)] * 8 + [(0.1, 0.2)] * 8)]
    lib = make_library(rows, {"p" * 22: [r["track_id"] for r in rows]})
    res = cluster_playlist(lib, "p" * 22, k=3, seed=0)
    labels = res.clusters.set_index("cluster")["label"]
    assert sorted(labels) == ["happy/upbeat, more intense", "happy/upbeat, softer", "sad/melancholic"], labels.tolist()
    loud = res.tracks.loc[res.tracks["mood"] == "happy/upbeat, more intense", "energy"]
    assert len(loud) == 8 and (loud == 0.9).all()  # the cluster of the higher energy
    assert labels.to_dict() == res.names()
    assert (res.tracks["mood"] == res.tracks["cluster"].map(labels)).all()


def test_cluster_playlist_with_a_fixed_k_and_bad_inputs():
    lib, _, _ = two_group_audio_library()
    res = cluster_playlist(lib, "p" * 22, k=3, seed=3)
    assert res.k == 3 and res.tracks["cluster"].nunique() == 3
    with pytest.raises(UsageError, match="--k 40 asks for more moods than playlist"):
        cluster_playlist(lib, "p" * 22, k=40)
    with pytest.raises(UsageError, match="nope"):
        cluster_playlist(lib, "nope")
    small = make_library(corner_rows(1), {"s" * 22: [tid(0), tid(1), tid(2)]})
    with pytest.raises(NotEnoughData, match="at least 4"):
        cluster_playlist(small, "s" * 22)


def text_rows(n_per_group: int = 8) -> list[dict]:
    rows = []
    for i in range(n_per_group):
        rows.append({"track_id": tid(i), "name": f"Thunder Steel {FILLER[i % len(FILLER)]}",
                     "artist": "Iron Hammer", "album": "Metal Storm"})
    for i in range(n_per_group, 2 * n_per_group):
        rows.append({"track_id": tid(i), "name": f"Lullaby Piano {FILLER[i % len(FILLER)]}",
                     "artist": "Soft Keys", "album": "Sleepy Nocturnes"})
    return rows


def test_cluster_playlist_falls_back_to_text_and_names_clusters_by_words():
    rows = text_rows()
    ids = [r["track_id"] for r in rows]
    lib = make_library(rows, {"q" * 22: ids})
    res = cluster_playlist(lib, "q" * 22)
    assert res.basis == "text" and res.k == 2
    by_track = res.tracks.set_index("track_id")["cluster"]
    assert by_track[ids[:8]].nunique() == 1 and by_track[ids[8:]].nunique() == 1
    assert by_track[ids[0]] != by_track[ids[8]]
    words = " ".join(res.clusters["label"])
    assert "thunder" in words or "hammer" in words or "metal" in words
    assert "lullaby" in words or "piano" in words or "sleepy" in words
    assert "valence" not in res.tracks.columns
    sides = [set(side.strip().split(", ")) for side in res.axes[0].split("← →")]  # the words each way along x
    loud, soft = {"'thunder'", "'hammer'", "'metal'", "'storm'"}, {"'lullaby'", "'piano'", "'sleepy'", "'keys'"}
    assert len(sides) == 2 and ((sides[0] & loud and sides[1] & soft) or (sides[0] & soft and sides[1] & loud)), res.axes


def test_cluster_basis_depends_on_the_share_of_tracks_with_audio_features():
    lib_audio, party, ballads = two_group_audio_library()
    rows = [{"track_id": tid(100 + i), "name": f"unknown {i}", "artist": "u"} for i in range(4)]
    base = lib_audio.frames
    tracks = pd.concat([base["tracks"], make_library(rows).frames["tracks"]], ignore_index=True)
    ids = party + ballads + [r["track_id"] for r in rows]
    items = pd.DataFrame({"playlist_id": "m" * 22, "track_id": ids, "position": range(len(ids))})
    pl = pd.DataFrame({"playlist_id": ["m" * 22], "name": ["Mixed"]})
    lib = Library.from_frames(tracks=tracks, audio_features=base["audio_features"], playlists=pl, playlist_items=items)
    res = cluster_playlist(lib, "mixed")  # 18 of 22 tracks have features
    assert res.basis == "audio"
    left_out = res.tracks.set_index("track_id").loc[[r["track_id"] for r in rows]]
    assert (left_out["cluster"] == -1).all() and left_out["x"].isna().all()
    assert cluster_playlist(lib, "mixed", min_audio_share=0.9).basis == "text"
    with pytest.raises(NotEnoughData, match="recommend import features"):
        text_lib = make_library(text_rows(), {"q" * 22: [tid(i) for i in range(16)]})
        cluster_playlist(text_lib, "q" * 22, basis="audio")


def test_plot_clusters_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    lib, _, _ = two_group_audio_library()
    res = cluster_playlist(lib, "p" * 22)
    path = plot_clusters(res, tmp_path / "plots" / "moods.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_clusters_without_matplotlib_is_a_clear_error(tmp_path, monkeypatch):
    lib, _, _ = two_group_audio_library()
    res = cluster_playlist(lib, "p" * 22, k=2)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import now raises ImportError
    with pytest.raises(UsageError, match="matplotlib"):
        plot_clusters(res, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_a_plot_that_fails_half_way_keeps_the_previous_file(tmp_path, monkeypatch):
    """savefig wrote straight into the user's file: a failure (disk full, Ctrl-C) left
    half a PNG where the last good plot was."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure
    lib, _, _ = two_group_audio_library()
    res = cluster_playlist(lib, "p" * 22, k=2)
    path = plot_clusters(res, tmp_path / "moods.png")
    good = path.read_bytes()

    def half(self, fname, **kw):
        Path(fname).write_bytes(good[:100])
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Figure, "savefig", half)
    from recommender.errors import StorageError
    with pytest.raises(StorageError, match="moods.png"):  # exit 7 naming the file
        plot_clusters(res, path)
    assert path.read_bytes() == good and [p.name for p in tmp_path.iterdir()] == ["moods.png"]


# ----- classifier ---------------------------------------------------------------------------
def planted_rows(per_mood: int = 12, unlabelled: int = 3, seed: int = 0) -> tuple[list[dict], dict[str, str]]:
    """Tracks whose name carries their mood's planted word; the last ``unlabelled`` of each
    mood have no audio features. Returns rows and the true mood of the unlabelled ones."""
    rng = np.random.default_rng(seed)
    rows, truth = [], {}
    for mood, (v, e) in CORNERS.items():
        for j in range(per_mood):
            i = len(rows)
            filler = " ".join(rng.choice(FILLER, size=2, replace=False))
            row = {"track_id": tid(i), "name": f"{filler} {PLANTED[mood]}",
                   "artist": f"artist {rng.integers(0, 5)}", "album": f"album {FILLER[rng.integers(0, len(FILLER))]}"}
            if j < per_mood - unlabelled:
                row.update(valence=float(np.clip(v + rng.normal(0, .05), 0, 1)),
                           energy=float(np.clip(e + rng.normal(0, .05), 0, 1)))
            else:
                truth[row["track_id"]] = mood
            rows.append(row)
    return rows, truth


def test_classifier_learns_a_planted_word_to_mood_rule():
    rows, truth = planted_rows()
    lib = make_library(rows)
    clf = MoodClassifier(seed=0)
    assert clf.fit(lib) is clf
    assert sorted(clf.classes_) == sorted(CORNERS) and clf.n_train_ == 36
    pred = clf.predict(lib, list(truth))
    assert pred.to_dict() == truth
    assert clf.holdout_score(lib, test_size=0.25) >= 0.9
    assert clf.score(lib) >= 0.9


def test_classifier_accuracy_is_honest_when_text_says_nothing():
    rows, _ = planted_rows(per_mood=10, unlabelled=0)
    for i, r in enumerate(rows):  # same words everywhere (each its own recording): nothing to learn
        r["name"], r["artist"], r["album"] = f"same song {i}", "same artist", "same album"
    lib = make_library(rows)
    assert MoodClassifier().holdout_score(lib) <= 0.5


def test_the_classifier_report_gives_rates_in_four_decimals_and_keeps_a_tiny_p_value():
    # before: 'moods classify --json' printed "accuracy": 0.6666666666666666 (false precision)
    from recommender.cli.moods import _classifier_json
    confusion = pd.DataFrame([[2, 1], [0, 0]], index=["happy", "sad"], columns=["happy", "sad"])
    report = ClassifierReport(accuracy=2 / 3, baseline=1 / 3, baseline_mood="happy", n_train=9, n_test=3,
                              p_value=1.23456789e-12, margin=0.05, alpha=0.01, useful=True, confusion=confusion)
    d = _classifier_json(report)
    assert d["accuracy"] == 0.6667 and d["baseline"] == 0.3333
    assert d["p_value"] == 1.235e-12  # four significant digits, not rounded to 0
    assert d["confusion"] == {"happy": {"happy": 2, "sad": 1}, "sad": {"happy": 0, "sad": 0}}


def test_classifier_needs_two_moods():
    rows = [{"track_id": tid(i), "name": f"x {i}", "artist": "a", "valence": 0.9, "energy": 0.9} for i in range(6)]
    with pytest.raises(NotEnoughData, match="2 moods"):
        MoodClassifier().fit(make_library(rows))
    with pytest.raises(NotEnoughData, match="fit"):
        MoodClassifier().predict(make_library(rows))


def test_the_classifier_says_how_the_library_in_use_gets_audio_features():
    """With `--dataset FILE`, a classifier given too few tracks said to import features into the
    cache, which a data file does not read; it says how that library gets them now, as the
    other mood messages do."""
    from recommender.explore import dataset_where
    rows, _ = planted_rows()
    where = dataset_where("songs.csv", "recommend search --dataset songs.csv")
    out = classify_library(make_library(rows), test_size=0.99, where=where)  # 1 track left to train on
    assert out.attrs["untested"].startswith("the mood classifier needs at least 4 tracks")
    assert out.attrs["untested"].endswith("; " + where.features)
    happy = [{"track_id": tid(i), "name": f"x {i}", "artist": "a", "valence": 0.9, "energy": 0.9} for i in range(6)]
    with pytest.raises(NotEnoughData, match=r"2 moods, got 6 tracks in 1 mood; fill in the file's valence"):
        MoodClassifier().fit(make_library(happy), where=where)


def test_classify_library_mixes_audio_labels_and_predictions():
    rows, truth = planted_rows()
    lib = make_library(rows)
    out = classify_library(lib)
    assert list(out.columns[:4]) == ["track_id", "mood", "source", "confidence"]
    assert out["track_id"].tolist() == [r["track_id"] for r in rows]
    audio = out[out["source"] == "audio"].set_index("track_id")
    pred = out[out["source"] == "predicted"].set_index("track_id")
    assert set(pred.index) == set(truth)
    assert (audio["confidence"] == 1.0).all()
    assert ((pred["confidence"] > 0.25) & (pred["confidence"] < 1.0)).all()
    assert pred["mood"].to_dict() == truth
    assert audio["mood"].to_dict() == mood_labels(lib).to_dict()


def test_mood_counts_per_mood_and_source_with_the_unplaced_last():
    from recommender.moods import mood_counts
    df = pd.DataFrame({"mood": ["sad", "happy", None, "happy", "sad", "happy"],
                       "source": ["audio", "audio", "unknown", "predicted", "audio", "audio"]})
    assert mood_counts(df) == [{"mood": "happy", "audio": 2, "predicted": 1, "total": 3},
                               {"mood": "sad", "audio": 2, "predicted": 0, "total": 2},
                               {"mood": "no mood", "audio": 0, "predicted": 0, "total": 1}]


def test_classify_library_without_any_audio_features():
    lib = make_library(text_rows())
    with pytest.raises(NotEnoughData, match="recommend import features"):
        classify_library(lib)


# ----- the classifier's honesty: baseline, test, confusion, artist features ---------------
def test_evaluate_classifier_reports_accuracy_beside_the_majority_baseline():
    from recommender.moods import evaluate_classifier
    rows, _ = planted_rows()
    report = evaluate_classifier(make_library(rows))
    assert report.useful and report.accuracy >= 0.9 and report.p_value < 0.01
    assert report.baseline <= 0.5 and report.baseline_mood in CORNERS
    assert report.confusion.to_numpy().sum() == report.n_test == 9
    assert list(report.confusion.index) == list(report.confusion.columns)
    assert np.trace(report.confusion.to_numpy()) == round(report.accuracy * report.n_test)


def test_a_classifier_no_better_than_guessing_is_not_used():
    rows, _ = planted_rows(per_mood=10, unlabelled=2)
    rng = np.random.default_rng(3)
    for r in rows:  # words unrelated to moods, artists unrelated to moods: nothing to learn
        r["name"], r["album"] = "".join(rng.choice(list("abcdefghij"), size=8)), "same album"
    lib = make_library(rows)
    out = classify_library(lib)
    report = out.attrs["report"]
    assert report is not None and not report.useful
    unlabelled = out[~out["track_id"].isin(mood_labels(lib).index)]
    assert len(unlabelled) == 8
    assert (unlabelled["source"] == "unknown").all() and unlabelled["mood"].isna().all()


def test_the_artists_other_tracks_predict_a_track_without_features():
    from recommender.moods import evaluate_classifier
    rng = np.random.default_rng(1)
    rows = []
    for i in range(96):  # act k always plays mood k % 4; the text says nothing
        act = i % 8
        v, e = CORNERS[list(CORNERS)[act % 4]]
        rows.append({"track_id": tid(i), "name": f"song {i}", "artist": f"act {'xyzwvuts'[act]}", "album": "lp",
                     "valence": float(v + rng.normal(0, .05)), "energy": float(e + rng.normal(0, .05))})
    lib = make_library(rows)
    text_only = evaluate_classifier(lib, MoodClassifier(artist_weight=0.0, ngram_range=(1, 1)))
    with_artist = evaluate_classifier(lib, MoodClassifier())
    assert with_artist.useful and with_artist.accuracy >= 0.9
    assert not text_only.useful  # the text alone says nothing here
    # a track without features, by act 0 (a happy act): predicted happy from its artist's tracks
    extra = rows + [{"track_id": tid(500), "name": "new one", "artist": "act x", "album": "lp"}]
    out = classify_library(make_library(extra)).set_index("track_id")
    assert out.at[tid(500), "mood"] == "happy" and out.at[tid(500), "source"] == "predicted"


# ----- mood neighbours, recordings once ---------------------------------------------------
def test_mood_neighbours_are_nearest_in_valence_and_energy_without_the_seeds_copies():
    from recommender.moods import mood_neighbours
    rows = [
        {"track_id": tid(0), "name": "Seed", "artist": "x", "valence": 0.5, "energy": 0.5},
        {"track_id": tid(1), "name": "Seed - Remastered 2011", "artist": "x", "valence": 0.5, "energy": 0.5},
        {"track_id": tid(2), "name": "Near", "artist": "y", "valence": 0.55, "energy": 0.5},
        {"track_id": tid(3), "name": "Near", "artist": "y", "valence": 0.56, "energy": 0.5},  # another copy
        {"track_id": tid(4), "name": "Middle", "artist": "z", "valence": 0.4, "energy": 0.7},
        {"track_id": tid(5), "name": "Far", "artist": "w", "valence": 0.0, "energy": 0.0},
    ]
    out = mood_neighbours(make_library(rows), tid(0), n=5)
    assert out["track_id"].tolist() == [tid(2), tid(4), tid(5)]
    assert out["distance"].is_monotonic_increasing
    np.testing.assert_allclose(out["distance"].iloc[0], 0.05)
    assert out[["valence", "energy"]].iloc[0].tolist() == [0.55, 0.5]
    assert out.attrs["seed"]["valence"] == 0.5 and out.attrs["seed"]["name"] == "Seed"
    # by search text too
    assert mood_neighbours(make_library(rows), "far w", n=1)["track_id"].tolist() == [tid(0)]


def test_mood_lists_hold_each_recording_once():
    rows = corner_rows(per_mood=3)
    rows.append({**rows[0], "track_id": tid(99)})  # the same happy song under another id
    out = mood_recommend(make_library(rows), "happy", n=10)
    assert len(out) == len(set(out["name"] + out["artists"]))


@pytest.mark.parametrize("size, said", [(1, "has 1 track;"),
                                         (2, "has 2 tracks;")])
def test_a_playlist_too_small_to_cluster_counts_its_tracks_in_words(size, said):
    # `moods cluster Solo` (a one-track playlist) said "playlist 'Solo' has 1 tracks"
    from recommender.moods import cluster_playlists
    rows = corner_rows(per_mood=1)[:size]
    lib = make_library(rows, playlists={"p" * 22: [r["track_id"] for r in rows]})
    with pytest.raises(NotEnoughData) as small:
        cluster_playlists(lib, ["p" * 22])
    assert f"playlist 'List {'p' * 22}' {said} clustering needs at least 4" in str(small.value)


# ----- several playlists ----------------------------------------------------------------------
def test_cluster_playlists_blends_several_playlists_and_lists_each_cluster():
    from recommender.moods import cluster_playlists
    lib, party, ballads = two_group_audio_library()
    pl = pd.DataFrame({"playlist_id": ["a" * 22, "b" * 22], "name": ["Party", "Ballads"]})
    items = pd.DataFrame({"playlist_id": ["a" * 22] * 11 + ["b" * 22] * 8,
                          "track_id": party + [ballads[0]] + ballads, "position": range(19)})
    lib = lib.replace(playlists=pl, playlist_items=items)
    res = cluster_playlists(lib, ["party", "b" * 22], k=2)
    assert res.playlist_name == "Party + Ballads" and len(res.playlists) == 2
    assert len(res.tracks) == 18 and res.tracks["track_id"].is_unique  # the shared ballad once
    assert set(res.tracks["playlist"]) == {"Party", "Ballads"}
    members = res.members()
    assert sorted(map(sorted, members.values())) == sorted([sorted(party), sorted(ballads)])
    names = res.names()
    assert len(set(names.values())) == 2 and any(n.startswith("happy") for n in names.values())
    with pytest.raises(UsageError, match="nope"):
        cluster_playlists(lib, ["party", "nope"])


@pytest.mark.parametrize("names", [["Party", "Ballads"],
                                   ["$$ Money $x^{", "Ballads $"]])  # mathtext would fail on "$x^{"
def test_plot_marks_each_source_playlist_and_shows_names_as_text(tmp_path, names):
    pytest.importorskip("matplotlib")
    from recommender.moods import cluster_playlists
    lib, party, ballads = two_group_audio_library()
    pl = pd.DataFrame({"playlist_id": ["a" * 22, "b" * 22], "name": names})
    items = pd.DataFrame({"playlist_id": ["a" * 22] * 10 + ["b" * 22] * 8, "track_id": party + ballads,
                          "position": range(18)})
    res = cluster_playlists(lib.replace(playlists=pl, playlist_items=items), ["a" * 22, "b" * 22], k=2)
    path = plot_clusters(res, tmp_path / "m.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_chart_is_written_in_the_format_its_file_ends_in(tmp_path):
    """`--plot moods.svg` wrote PNG data under that name, which no SVG reader opens."""
    pytest.importorskip("matplotlib")
    lib, _, _ = two_group_audio_library()
    res = cluster_playlist(lib, "p" * 22)
    assert plot_clusters(res, tmp_path / "m.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert plot_clusters(res, tmp_path / "m.PDF").read_bytes()[:5] == b"%PDF-"
    assert plot_clusters(res, tmp_path / "m").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(UsageError, match=r"m\.jpg: the mood chart is written as PNG, SVG or PDF"):
        plot_clusters(res, tmp_path / "m.jpg")
    assert not (tmp_path / "m.jpg").exists()


def test_a_names_control_characters_are_escapes_in_the_chart(tmp_path):
    """A playlist named with a terminal escape ("\\x1b[31m") was drawn with a box for the raw
    ESC, and in an SVG the raw character made a file no reader opens (not well-formed XML)."""
    pytest.importorskip("matplotlib")
    import xml.dom.minidom

    from recommender.moods import cluster_figure, cluster_playlists
    res = cluster_playlists(two_named_playlists(["\x1b[31mRed\x1b[0m <b>", "Bell\x07 --><script>"]),
                            ["a" * 22, "b" * 22], k=2)
    fig = cluster_figure(res)
    shown = [fig.axes[0].get_title()] + [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert not any(c in text for text in shown for c in "\x1b\x07"), shown
    assert any("\\x1b[31mRed\\x1b[0m" in " ".join(text.split()) for text in shown), shown
    svg = plot_clusters(res, tmp_path / "m.svg")
    xml.dom.minidom.parse(str(svg))  # well-formed
    assert "<script>" not in svg.read_text(encoding="utf-8")


def test_a_playlist_name_two_playlists_share_is_refused_naming_their_ids():
    # before: the first "Mix" was clustered silently, whichever the user meant
    from recommender.moods import cluster_playlists
    lib, party, ballads = two_group_audio_library()
    pl = pd.DataFrame({"playlist_id": ["a" * 22, "b" * 22], "name": ["Mix", "mix"]})
    items = pd.DataFrame({"playlist_id": ["a" * 22] * 10 + ["b" * 22] * 8, "track_id": party + ballads,
                          "position": range(18)})
    lib = lib.replace(playlists=pl, playlist_items=items)
    with pytest.raises(UsageError, match=f"2 playlists are named 'Mix'.*{'a' * 22}.*{'b' * 22}"):
        cluster_playlists(lib, ["Mix"])
    assert set(cluster_playlists(lib, ["b" * 22], k=1).tracks["track_id"]) == set(ballads)  # an id is exact
    # each is listed with its name as `recommend playlists` shows it: a blank and a no-break space
    # were "2 playlists are named ' '", the same blank twice
    lib = lib.replace(playlists=pl.assign(name=[" ", "\u00a0"]))
    with pytest.raises(UsageError) as caught:
        cluster_playlists(lib, [" "])
    assert str(caught.value) == (f"2 playlists are named ' ': {'a' * 22} (' '), {'b' * 22} ('\\u00a0'); give the "
                                 "id of the one you mean")


@pytest.mark.parametrize("test_size", [0.25, 0.0])
def test_evaluate_classifier_on_a_small_library_or_a_zero_holdout_does_not_crash(test_size):
    """8 labelled tracks in 4 moods: a stratified 25 % holdout (2 tracks) cannot hold every
    mood and a holdout of 0 holds nothing (sklearn raised ValueError: exit 1 from `moods
    classify`). The split now keeps 1..n-1 tracks out, stratified only when it can be; a
    training side too small to fit is the classifier's own NotEnoughData."""
    from recommender.moods import evaluate_classifier
    lib = make_library(corner_rows(per_mood=2))
    report = evaluate_classifier(lib, test_size=test_size)
    assert 1 <= report.n_test <= 2 and report.n_train + report.n_test == 8
    assert report.confusion.to_numpy().sum() == report.n_test
    with pytest.raises(NotEnoughData):
        evaluate_classifier(lib, test_size=0.99)


def test_a_tiny_holdout_without_the_majority_mood_is_not_called_significant():
    """The binomial test's null rate was the majority mood's count in the test set: a
    2-track holdout without that mood gave a rate of 0 (clipped to 1e-9), so two correct
    guesses had p = 1e-18 and the classifier counted as useful on two predictions."""
    from recommender.moods import evaluate_classifier
    report = evaluate_classifier(make_library(corner_rows(per_mood=2)))
    assert report.n_test == 2
    assert report.p_value >= 0.25 ** report.n_test and not report.useful


def test_text_features_skip_the_function_words_the_content_why_skips():
    # moods kept "der", "und", "das", "dos" as words of a cluster (the content why skipped them)
    from recommender.moods import _text_vectorizer
    vocab = set(_text_vectorizer().fit(["Der Tag und die Nacht", "Das Lied der Nacht", "Dos Mundos"]).vocabulary_)
    assert vocab == {"tag", "die", "nacht", "lied", "mundos"}


def test_the_plot_keeps_its_legend_off_the_points_and_its_title_in_the_image(tmp_path):
    # before: the legend sat over the points ("best" found no empty corner) and a title naming
    # three playlists ran past the right edge of the PNG, cut off mid-word
    pytest.importorskip("matplotlib")
    from recommender.moods import cluster_figure, cluster_playlists
    lib, party, ballads = two_group_audio_library()
    long = "A playlist a stranger named at great length, " * 4
    pl = pd.DataFrame({"playlist_id": ["a" * 22, "b" * 22], "name": [long, "Ballads"]})
    items = pd.DataFrame({"playlist_id": ["a" * 22] * 10 + ["b" * 22] * 8, "track_id": party + ballads,
                          "position": range(18)})
    res = cluster_playlists(lib.replace(playlists=pl, playlist_items=items), ["a" * 22, "b" * 22], k=2)
    fig = cluster_figure(res)
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(renderer)
    assert not legend.overlaps(ax.get_window_extent(renderer))
    title = ax.title.get_window_extent(renderer)
    assert 0 <= title.x0 and title.x1 <= fig.bbox.x1
    assert max(len(line) for line in ax.get_title().splitlines()) <= 70
    assert all(len(line) <= 34 for t in ax.get_legend().get_texts() for line in t.get_text().splitlines())
    assert plot_clusters(res, tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cluster_count_is_not_chosen_for_a_pair_of_outliers():
    # before: the demo's "Brand New EDM" (69 tracks) came out as 5 moods, one of them 2 tracks
    # ("happy/upbeat, fast, acoustic (2)"): the best silhouette isolated a pair of outliers
    from recommender.moods import _choose_clusters
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal((0, 0), 1, (30, 2)), rng.normal((10, 0), 1, (30, 2)), rng.normal((5, 12), 0.3, (2, 2))])
    k, labels, _, silhouettes = _choose_clusters(X, None, 6, 0)
    assert max(silhouettes, key=silhouettes.get) == 3  # the pair alone scores best...
    assert k == 2 and np.bincount(labels).min() >= 4  # ...but is no mood
    assert _choose_clusters(X, 3, 6, 0)[0] == 3  # a k asked for is a k given
    tiny = np.vstack([np.zeros((3, 2)), np.ones((3, 2)) * 5, [[20, 20]]])  # every k has a lone track
    assert _choose_clusters(tiny, None, 3, 0)[0] in (2, 3)


def test_a_big_playlists_silhouette_is_not_quadratic(monkeypatch):
    # before: `moods cluster` on a 6,200-track playlist compared every track with every other
    # for each k tried (2.7 s of 5.7 s; 20,000 tracks: half a minute): now a sample per cluster
    import sklearn.metrics

    from recommender.moods import _choose_clusters
    real = sklearn.metrics.silhouette_score
    rows = []

    def counting(X, labels, **kw):
        rows.append(len(X))
        return real(X, labels, **kw)

    monkeypatch.setattr(sklearn.metrics, "silhouette_score", counting)
    rng = np.random.default_rng(0)
    centres = [(0, 0), (10, 0), (0, 10), (10, 10)]
    X = np.vstack([rng.normal(c, 1, (1500, 2)) for c in centres])
    k, labels, sil, silhouettes = _choose_clusters(X, None, 6, 0)
    assert k == 4 and sorted(np.bincount(labels)) == [1500] * 4
    assert rows and max(rows) <= 2000 + 2 * 6  # never every row of the 6,000 (moods.SILHOUETTE_ROWS)
    assert abs(sil - real(X, labels)) < 0.02  # the sample's mean is the whole's, near enough
    assert _choose_clusters(X, 4, 6, 0)[2] == sil  # a k asked for: the same sample, the same number


def test_mood_neighbours_of_a_track_without_features_names_it():
    # before: "track t000…8 has no valence/energy": free text ("moods near 'song 6'") may find
    # another track than the one meant, and the id alone did not say which it found
    from recommender.moods import mood_neighbours
    rows = corner_rows(per_mood=2)
    rows.append({"track_id": tid(50), "name": "Quiet Storm", "artist": "Nobody Known", "album": "LP"})
    with pytest.raises(NotEnoughData, match=rf"'Quiet Storm' by Nobody Known \({tid(50)}\) has no valence"):
        mood_neighbours(make_library(rows), tid(50))
    # another copy of its recording with features places it: the single's id, beside the album's
    # that the features file had, was refused though `search` lists both and `status` counts the
    # recording as placed
    rows.append({"track_id": tid(51), "name": "Quiet Storm", "artist": "Nobody Known", "album": "Single",
                 "valence": 0.2, "energy": 0.3})
    out = mood_neighbours(make_library(rows), tid(50), n=3)
    assert out.attrs["seed"]["track_id"] == tid(50) and out.attrs["seed"]["valence"] == 0.2
    assert tid(51) not in set(out["track_id"])  # (its own copy is no neighbour)


def test_a_mood_label_never_pairs_energetic_with_quiet():
    # before: the demo's rain and jungle sounds (energy 0.61 at -25 dB) were the mood
    # "energetic/intense, quiet, instrumental"; the loudness word that reads as the opposite of
    # the mood is left out, the others stay
    rng = np.random.default_rng(2)
    rows = []
    for i in range(12):  # loud rock: energetic
        rows.append({"track_id": tid(i), "name": f"rock {i}", "artist": "r", "valence": 0.3 + rng.normal(0, .02),
                     "energy": 0.85 + rng.normal(0, .02), "loudness": -5 + rng.normal(0, .5),
                     "instrumentalness": 0.0})
    for i in range(12, 20):  # rain noise: energetic too, but very quiet and instrumental
        rows.append({"track_id": tid(i), "name": f"rain {i}", "artist": "n", "valence": 0.05 + rng.normal(0, .02),
                     "energy": 0.65 + rng.normal(0, .02), "loudness": -25 + rng.normal(0, .5),
                     "instrumentalness": 0.9})
    ids = [r["track_id"] for r in rows]
    res = cluster_playlist(make_library(rows, {"p" * 22: ids}), "p" * 22, k=2)
    labels = set(res.clusters["label"])
    assert all(label.startswith("energetic/intense") for label in labels)
    assert not any("quiet" in label for label in labels)
    assert "energetic/intense, instrumental" in labels


def _band_rows() -> list[dict]:
    """Two groups of 8 tracks: metal (two bands) and piano lullabies (two pianists)."""
    rows = []
    for i in range(8):
        rows.append({"track_id": tid(i), "name": f"Thunder {FILLER[i]} - 2011 Remaster",
                     "artist": "Iron Hammer" if i % 4 else "Steel Anvil", "album": "Metal Storm (Deluxe Edition)"})
    for i in range(8, 16):
        rows.append({"track_id": tid(i), "name": f"Lullaby {FILLER[i - 8]} (feat. Guest Star)",
                     "artist": "Soft Keys" if i % 4 else "Quiet Hands", "album": "Sleepy Nocturnes"})
    return rows


def test_text_cluster_labels_name_words_then_leading_artists():
    # before: a text cluster's label was its top TF-IDF terms, mostly artist-name words
    # ("hammer / iron / thunder"), which told a user little
    rows = _band_rows()
    lib = make_library(rows, {"q" * 22: [r["track_id"] for r in rows]})
    res = cluster_playlist(lib, "q" * 22, k=2)
    assert res.basis == "text"
    labels = dict(zip(res.clusters["cluster"], res.clusters["label"]))
    metal = labels[res.tracks.set_index("track_id").at[tid(0), "cluster"]]
    piano = labels[res.tracks.set_index("track_id").at[tid(8), "cluster"]]
    # words first (not the artists' words, not packaging or credits), then "like" the artist with most tracks
    assert metal.endswith(", like Iron Hammer, Steel Anvil") and piano.endswith(", like Soft Keys, Quiet Hands")
    metal_words, piano_words = (set(label.split(", like ")[0].split(" / ")) for label in (metal, piano))
    assert len(metal_words) == 2 and metal_words <= {"thunder", "metal", "storm"}, metal
    assert len(piano_words) == 2 and piano_words <= {"lullaby", "sleepy", "nocturnes"}, piano


def test_text_cluster_labels_prefer_genres_and_stay_short():
    from recommender.moodlabels import ARTIST_CHARS

    rows = _band_rows()
    long_name = "The " + "Very" * 20 + " Long\nBand"
    rows[8]["artist"] = rows[12]["artist"] = "Quiet\x1b[2J Hands"  # a terminal escape, shown as text
    for r in rows[8:]:
        r["artist"] = long_name if r["artist"] == "Soft Keys" else r["artist"]
    lib = make_library(rows, {"q" * 22: [r["track_id"] for r in rows]})
    art = lib.tracks[["artist_ids", "artist_names"]].assign(artist_id=lambda d: d["artist_ids"].str[0],
                                                              name=lambda d: d["artist_names"].str[0])
    art = art.drop_duplicates("artist_id")
    genre = {"Iron Hammer": ["heavy metal"], "Steel Anvil": ["Heavy  Metal"], long_name: ["ambient"],
             "Quiet\x1b[2J Hands": ["ambient"]}
    lib = lib.replace(artists=pd.DataFrame({"artist_id": art["artist_id"], "name": art["name"],
                                            "genres": [genre[n] for n in art["name"]]}))
    res = cluster_playlist(lib, "q" * 22, k=2)
    labels = sorted(res.clusters["label"])
    # the one genre, then a name word that does not repeat it ("heavy metal / metal")
    assert labels[1] in ("heavy metal / storm, like Iron Hammer, Steel Anvil",
                         "heavy metal / thunder, like Iron Hammer, Steel Anvil"), labels
    piano = labels[0]
    assert piano.startswith("ambient / lullaby, like The VeryVery"), piano
    cut = piano.split("like ")[1].split(", ")[0]
    assert len(cut) == ARTIST_CHARS and cut.endswith("…") and "\n" not in piano
    assert piano.endswith(", Quiet\\x1b[2J Hands") and "\x1b" not in piano


def test_the_held_out_score_never_tests_a_copy_of_a_track_it_learnt_from():
    """A single and its album release are two tracks of one recording: one held out while the
    other trained was "predicted" from its own title, so a classifier that learnt nothing about
    moods scored far above guessing and was used (28k-track data set: 9 % of its tracks are such
    copies)."""
    from recommender.moods import evaluate_classifier
    rng = np.random.default_rng(5)
    rows = []
    for song in range(60):  # titles and artists unrelated to the mood; each song released twice
        title = "".join(rng.choice(list("abcdefghijklmnop"), size=10))
        v, e = rng.uniform(0.05, 0.95, size=2)
        for release in ("single", "album"):
            rows.append({"track_id": tid(len(rows)), "name": title, "artist": f"artist {title[:4]}",
                         "album": release, "valence": float(v), "energy": float(e)})
    report = evaluate_classifier(make_library(rows))
    assert not report.useful and report.p_value > 0.01
    assert report.n_train + report.n_test == 60


def test_the_classifiers_verdict_does_not_follow_the_order_of_the_features_file():
    """The held-out quarter followed the order of the audio features' rows: the same tracks
    imported from the sample's file (sorted by id) gave 50.7 %, used, and from the data set's
    own order 43.0 %, not used."""
    from recommender.moods import evaluate_classifier
    rows = corner_rows(per_mood=12, seed=3, jitter=0.2)
    rng = np.random.default_rng(7)
    for r in rows:  # words that say little, so the split decides much
        r["name"] = " ".join(rng.choice(["night", "sun", "rain", "fire", "road", "blue"], size=2))
    reports = []
    for order in (rows, rows[::-1], list(rng.permutation(rows))):
        lib = make_library(rows)
        af = lib.frames["audio_features"].set_index("track_id").loc[[r["track_id"] for r in order]].reset_index()
        reports.append(evaluate_classifier(Library.from_frames(**{**lib.frames, "audio_features": af})))
    first = reports[0]
    assert first.n_test > 0
    for other in reports[1:]:
        assert (other.accuracy, other.baseline, other.p_value, other.n_test) == \
            (first.accuracy, first.baseline, first.p_value, first.n_test)


def test_too_few_to_test_the_classifier_counts_recordings_and_says_so():
    """The held-out score counts each recording once (a copy held out would be told by its own
    name): 10 tracks, two copies each of 5 recordings, were "needs at least 8 tracks ..., got 5",
    which a user with 10 tracks could not square."""
    from recommender.moods import evaluate_classifier
    rows = [dict(r, track_id=tid(i + 20 * copy)) for copy in (0, 1) for i, r in enumerate(corner_rows(per_mood=2)[:5])]
    lib = make_library(rows)
    assert len(lib.track_ids) == 10
    with pytest.raises(NotEnoughData, match=r"a held-out score needs at least 8 recordings with audio features in "
                                            r"2 moods \(copies of one recording count once\), got 5 in 3 moods"):
        evaluate_classifier(lib)


def test_a_library_of_one_mood_with_every_feature_is_not_told_to_import_features():
    """Every track with its audio features, all of them happy: `moods classify --evaluate` said the
    classifier could not be tested and to import audio features (or fill in the file's columns),
    which the library had; it says there is only one mood to learn, and how more tracks help."""
    from recommender.moods import evaluate_classifier
    lib = make_library(corner_rows(per_mood=10)[:10])  # the happy corner's ten
    with pytest.raises(NotEnoughData) as caught:
        evaluate_classifier(lib)
    said = str(caught.value)
    assert "got 10 in 1 mood" in said and "every one of them happy" in said and "import features" not in said


def test_a_names_invisible_characters_are_escapes_in_the_chart_as_in_recommend_playlists():
    """The sample library's "Crossfit\\u200f\\u200f\\u200b\\u200b   \\u200d": the chart's title and
    legend escaped its bidi marks but drew the zero-width characters raw (nothing to see), where
    `recommend playlists` shows them all as escapes."""
    pytest.importorskip("matplotlib")
    from recommender.moods import cluster_figure, cluster_playlists
    from recommender.safetext import visible
    names = ["Crossfit\u200f\u200f\u200b\u200b   \u200d", "Ballads"]
    fig = cluster_figure(cluster_playlists(two_named_playlists(names), ["a" * 22, "b" * 22], k=2))
    title = fig.axes[0].get_title()
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert not any(c in text for text in [title, *legend] for c in "\u200b\u200d\u200f"), [title, legend]
    shown = " ".join(visible(names[0]).split())  # wrapped: its spaces are where lines break
    assert " ".join(title.split()).startswith(shown), title
    assert any(shown in " ".join(text.split()) for text in legend), legend


def test_a_very_long_playlist_name_is_cut_on_the_chart_and_says_no_warning(tmp_path, recwarn):
    """A playlist named with 2,000 characters wrapped to 29 lines of title and 60 of legend, the
    plot squeezed to a strip, and matplotlib's "Tight layout not applied" warning came out on
    stderr with our source path. The name is cut with "…" on the chart (the table has it whole)."""
    pytest.importorskip("matplotlib")
    from recommender.moods import CHART_TEXT_MAX, cluster_figure, cluster_playlists
    long = "Long name " * 200
    res = cluster_playlists(two_named_playlists([long, "Short"]), ["a" * 22, "b" * 22], k=2)
    fig = cluster_figure(res)
    shown = [fig.axes[0].get_title()] + [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert all(len(text.replace("\n", "")) <= CHART_TEXT_MAX for text in shown), [len(t) for t in shown]
    assert any("…" in text for text in shown)
    assert "moods" in fig.axes[0].get_title()  # what the title says after the name stays
    plot_clusters(res, tmp_path / "m.png")
    assert not [w for w in recwarn if "Tight layout" in str(w.message)]


def test_the_charts_title_counts_one_mood_as_one():
    """A playlist of alike tracks is one mood: the chart's title said "1 moods" where the table said "1 mood"."""
    pytest.importorskip("matplotlib")
    from recommender.moods import cluster_figure, cluster_playlists
    for k, said in ((1, "Party + Ballads: 1 mood (audio features)"), (2, "Party + Ballads: 2 moods (audio features)")):
        fig = cluster_figure(cluster_playlists(two_named_playlists(["Party", "Ballads"]), ["a" * 22, "b" * 22], k=k))
        assert fig.axes[0].get_title() == said


@pytest.mark.parametrize("rare", range(8))
def test_a_mood_of_one_recording_is_learnt_from_never_left_alone_in_the_held_out_quarter(rare):
    """Seven happy recordings and one sad: where the split held the sad one out, the side it learnt
    from had one mood and `moods classify` said the classifier "cannot be tested: ... got 6 tracks
    in 1 mood; import features", of a library whose 8 recordings all had theirs; it is tested as
    for the other seven places of the sad track."""
    from recommender.moods import evaluate_classifier
    rows = [{"track_id": tid(i), "name": f"tune {w}", "artist": f"band {w}", "valence": 0.8, "energy": 0.8}
            for i, w in enumerate("alpha beta gamma delta epsilon zeta eta theta".split())]
    rows[rare].update(valence=0.1, energy=0.1)
    report = evaluate_classifier(make_library(rows))
    assert (report.n_train, report.n_test) == (6, 2) and not report.useful
