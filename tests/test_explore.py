"""Search, track references and "similar tracks" on small synthetic libraries."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from recommender.errors import SpotifyUnavailable, UsageError
from recommender.explore import (TrackIndex, core_title, fold, parse_track_ref, resolve_track, search_tracks,
                                 similar_tracks)
from recommender.library import Library
from recommender.scorers.base import Scorer
from deprecation_marks import DEPRECATIONS_OF_OURS

pytestmark = DEPRECATIONS_OF_OURS

SONGS = [  # (name, artist, album)
    ("Halo", "Beyoncé", "I Am... Sasha Fierce"),
    ("Single Ladies", "Beyoncé", "I Am... Sasha Fierce"),
    ("Hey Jude - Remastered 2009", "The Beatles", "Past Masters"),
    ("Hey", "Pixies", "Doolittle"),
    ("Ace of Spades", "Motörhead", "Ace of Spades"),
    ("Shape of You", "Ed Sheeran", "Divide"),
    ("Shape of You", "Ed Sheeran", "Shape of You"),  # the same song again, another id
    ("Nothing Else Matters", "Metallica", "Metallica"),
    ("Jóga", "Björk", "Homogenic"),
    ("Despacito - Remix", "Luis Fonsi", "Despacito Remix"),
]


def tid(i: int) -> str:
    return f"t{i:021d}"


def make_library(songs=SONGS) -> Library:
    tracks = pd.DataFrame({
        "track_id": [tid(i) for i in range(len(songs))],
        "name": [s[0] for s in songs],
        "artist_ids": [["a" + fold(s[1]).replace(" ", "").ljust(21, "0")[:21]] for s in songs],
        "artist_names": [[s[1]] for s in songs],
        "album_name": [s[2] for s in songs],
    })
    return Library.from_frames(tracks=tracks)


@pytest.fixture(scope="module")
def lib() -> Library:
    return make_library()


def test_fold_removes_accents_case_and_punctuation():
    assert fold("Beyoncé – HALO!") == "beyonce halo"
    assert fold("Motörhead") == "motorhead"
    assert fold("Sigur Rós / Ágætis byrjun") == "sigur ros agaetis byrjun"
    assert fold("Straße") == "strasse"
    assert fold(None) == ""


def test_core_title_strips_version_decorations():
    assert core_title("Hey Jude - Remastered 2009") == "Hey Jude"
    assert core_title("Halo (feat. X) [Live]") == "Halo"
    assert core_title("(Untitled)") == "(Untitled)"


@pytest.mark.parametrize("query, expected", [
    ("halo", 0),
    ("beyonse halo", 0),          # typo in the artist
    ("BEYONCE single ladies", 1),  # accents and case ignored
    ("motorhead ace of spades", 4),
    ("Motörhead", 4),
    ("hey jude", 2),               # the title wins over the shorter "Hey"
    ("bjork joga", 8),
    ("Björk Jóga", 8),
    ("nothing els matter", 7),     # typos
])
def test_search_puts_the_intended_track_first(lib, query, expected):
    hits = search_tracks(lib, query, limit=3)
    assert hits["track_id"].iloc[0] == tid(expected)
    assert list(hits.columns) == ["track_id", "name", "artists", "artist_names", "album", "score", "source"]


def test_search_is_sorted_limited_and_drops_non_matches(lib):
    hits = search_tracks(lib, "shape of you", limit=4)
    assert len(hits) <= 4
    assert hits["score"].is_monotonic_decreasing
    assert (hits["score"] > 0).all() and (hits["score"] <= 1 + 1e-6).all()
    assert set(hits["track_id"].iloc[:2]) == {tid(5), tid(6)}
    assert search_tracks(lib, "zzqx", limit=5).empty  # no shared n-gram at all


def test_search_rejects_an_empty_query(lib):
    with pytest.raises(UsageError, match="query"):
        search_tracks(lib, "  !? ")


def test_search_on_an_empty_library_returns_nothing():
    empty = Library.from_frames()
    assert search_tracks(empty, "halo").empty


def test_index_is_reusable(lib):
    index = TrackIndex().fit(lib)
    a = search_tracks(lib, "halo", index=index)
    b = search_tracks(lib, "halo")
    pd.testing.assert_frame_equal(a, b)


def test_remote_results_join_the_ranking_without_duplicates(lib):
    calls = []

    def remote(query, limit):
        calls.append((query, limit))
        return [
            {"id": tid(0), "name": "Halo", "artists": [{"name": "Beyoncé"}], "album": {"name": "x"}},
            {"id": "r" * 22, "name": "Halo - Live", "artists": [{"name": "Beyoncé"}],
             "album": {"name": "Live"}},
            {"track_id": "s" * 22, "name": "Unrelated", "artist_names": ["Nobody"], "album_name": "Qqq"},
        ]

    hits = search_tracks(lib, "beyonce halo", limit=25, remote=remote)
    assert calls == [("beyonce halo", 10)]  # Spotify's 2026 maximum per request
    assert hits["track_id"].tolist().count(tid(0)) == 1
    remote_hits = hits[hits["source"] == "remote"]
    assert "r" * 22 in set(remote_hits["track_id"])
    assert hits.loc[hits["track_id"] == tid(0), "source"].item() == "local"
    # a remote hit is ranked by the same vectoriser: the live Halo beats "Unrelated"
    order = hits["track_id"].tolist()
    assert order.index("r" * 22) < order.index("s" * 22)  # Spotify's other answers are kept, last
    assert hits["score"].is_monotonic_decreasing


def test_remote_results_are_read_in_each_shape_spotify_or_a_caller_gives_and_ties_keep_spotifys_order(lib):
    """A raw track object (artists and album as objects), a playlist entry wrapping one, our tidy
    shape and a result known by its URI alone each give the track's id, name, artists and album;
    one without any id is left out; two equally good answers keep the order Spotify gave."""
    def remote(query, limit):
        return [
            {"id": "b" * 22, "name": "Halo - Live", "artists": [{"name": "Beyoncé"}], "album": {"name": "Tour"}},
            {"track": {"id": "a" * 22, "name": "Halo - Live", "artists": [{"name": "Beyoncé"}],
                       "album": {"name": "Tour"}}},
            {"track_id": "c" * 22, "name": "Halo Halo", "artist_names": ["Beyoncé", "Jay"], "album_name": "Duets"},
            {"uri": f"spotify:track:{'d' * 22}", "name": "Halo (demo)", "artists": ["Beyoncé"], "album": "Demos"},
            {"name": "Halo without an id", "artists": [{"name": "Beyoncé"}]},
        ]

    hits = search_tracks(lib, "halo live tour", limit=25, remote=remote).set_index("track_id")
    remote_hits = hits[hits["source"] == "remote"]
    assert sorted(remote_hits.index) == ["a" * 22, "b" * 22, "c" * 22, "d" * 22]
    assert remote_hits.loc["b" * 22, ["name", "artists", "album"]].tolist() == ["Halo - Live", "Beyoncé", "Tour"]
    assert remote_hits.loc["c" * 22, ["name", "artists", "album"]].tolist() == ["Halo Halo", "Beyoncé, Jay", "Duets"]
    assert remote_hits.loc["c" * 22, "artist_names"] == ["Beyoncé", "Jay"]
    assert remote_hits.loc["d" * 22, ["name", "artists", "album"]].tolist() == ["Halo (demo)", "Beyoncé", "Demos"]
    order = hits.index.tolist()
    assert remote_hits.loc["a" * 22, "score"] == remote_hits.loc["b" * 22, "score"]
    assert order.index("b" * 22) == order.index("a" * 22) - 1


def test_an_artists_tracks_are_every_track_crediting_them_first_or_featured_accents_and_case_aside():
    from recommender.explore import artist_track_ids
    tracks = make_library().frames["tracks"].copy()
    tracks.at[1, "artist_names"] = ["Jay-Z", "Beyoncé"]  # Beyoncé featured, not first
    library = Library.from_frames(tracks=tracks)
    assert artist_track_ids(library, "BEYONCE") == [tid(0), tid(1)]
    assert artist_track_ids(library, "jay-z") == [tid(1)] and artist_track_ids(library, "Jay") == []


def test_a_failing_remote_search_keeps_the_local_answer(lib):
    def remote(query, limit):
        raise SpotifyUnavailable("Spotify kept failing")

    hits = search_tracks(lib, "halo", remote=remote)
    assert hits["track_id"].iloc[0] == tid(0)
    assert "Spotify kept failing" in hits.attrs["remote_error"]


def test_parse_track_ref_accepts_ids_uris_and_urls():
    i = "4uLU6hMCjMI75M1A2tKUQC"
    assert parse_track_ref(i) == i
    assert parse_track_ref(f"spotify:track:{i}") == i
    assert parse_track_ref(f"https://open.spotify.com/track/{i}?si=abc123") == i
    assert parse_track_ref(f"https://open.spotify.com/intl-de/track/{i}") == i
    assert parse_track_ref(f"spotify:album:{i}") is None
    assert parse_track_ref("hey jude") is None


def test_resolve_track_from_text_and_refs(lib):
    assert resolve_track(lib, "beatles hey jude") == tid(2)
    assert resolve_track(lib, f" spotify:track:{tid(3)} ") == tid(3)
    with pytest.raises(UsageError, match="qwxz vbnm"):
        resolve_track(lib, "qwxz vbnm")


# ----- similar tracks --------------------------------------------------------------------
class TableScorer(Scorer):
    """Scores candidates from a fixed table (NaN for ids not in it); records its calls."""

    name = "table"

    def __init__(self, table: dict[str, float] | None = None) -> None:
        self.table = table or {}

    def fit(self, library: Library) -> "TableScorer":
        self.n_tracks_ = len(library.track_ids)
        self.calls_ = []
        return self

    def score(self, seeds: pd.Series, candidates: pd.Index) -> pd.Series:
        self.calls_.append((seeds.copy(), candidates.copy()))
        return pd.Series([self.table.get(c, np.nan) for c in candidates], index=candidates, dtype=float)


def test_similar_tracks_blends_scorers_seeded_with_one_track(lib):
    strong = TableScorer({tid(1): 0.9, tid(2): 0.5, tid(3): 0.1, tid(4): 0.3})
    silent = TableScorer({tid(2): 1.0, tid(3): 0.0})  # knows only two candidates
    out = similar_tracks(lib, tid(0), {"strong": strong, "silent": silent}, {"strong": 1.0, "silent": 1.0}, n=3)
    seeds, candidates = strong.calls_[0]
    assert seeds.to_dict() == {tid(0): 1.0}
    assert tid(0) not in candidates and len(candidates) == len(lib.track_ids) - 1
    assert list(out.columns) == ["rank", "track_id", "name", "artists", "artist_names", "score", "strong", "silent", "why"]
    assert out["why"].tolist()[0] == "high strong score"  # the top scorer's reason (its fallback here)
    assert out["rank"].tolist() == [1, 2, 3]
    assert out["score"].is_monotonic_decreasing
    # contributions add up to the score; a silent scorer leaves NaN
    np.testing.assert_allclose(out[["strong", "silent"]].sum(axis=1, min_count=1), out["score"])
    assert out["track_id"].iloc[0] in {tid(1), tid(2)}
    assert out.loc[out["track_id"] == tid(1), "silent"].isna().all()
    assert out["name"].iloc[0] in {"Single Ladies", "Hey Jude - Remastered 2009"}


def test_similar_shows_no_share_for_a_scorer_that_found_nothing():
    # the seed's album ("Doolittle") holds no other track: coverage scores every candidate 0,
    # and its column showed half its weight on every row, as if each were on the seed's album
    from recommender.scorers import ContentScorer, CoverageScorer
    lib = Library.from_frames(tracks=make_library().tracks.assign(album_id=lambda f: f["album_name"]))
    scorers = {"content": ContentScorer(), "coverage": CoverageScorer(artist_weight=0.0, per="seeds")}
    weights = {"content": 1.0, "coverage": 0.4}
    out = similar_tracks(lib, tid(3), scorers, weights, n=5, normalisation="minmax")  # the shipped one
    assert len(out) == 5 and (out["coverage"] == 0).all()
    np.testing.assert_allclose(out["content"], out["score"])
    # where it did find something (Halo's album holds Single Ladies), that row alone has a share
    out = similar_tracks(lib, tid(0), scorers, weights, n=5, normalisation="minmax")
    assert out.loc[out["coverage"] > 0, "track_id"].tolist() == [tid(1)]


def test_similar_tracks_fits_unfitted_scorers_and_respects_weights(lib):
    a = TableScorer({tid(1): 1.0, tid(2): 0.0, tid(3): 0.5})
    b = TableScorer({tid(1): 0.0, tid(2): 1.0, tid(3): 0.5})
    only_b = similar_tracks(lib, tid(0), {"a": a, "b": b}, {"a": 0.0, "b": 1.0}, n=1)
    assert a.n_tracks_ == len(lib.track_ids)  # fitted on the library
    assert only_b["track_id"].tolist() == [tid(2)]
    mostly_a = similar_tracks(lib, tid(0), {"a": a, "b": b}, {"a": 3.0, "b": 1.0}, n=1)
    assert mostly_a["track_id"].tolist() == [tid(1)]


def test_similar_tracks_skips_other_copies_of_the_same_song(lib):
    sc = TableScorer({tid(6): 1.0, tid(7): 0.5, tid(0): 0.1})
    out = similar_tracks(lib, tid(5), {"t": sc}, n=5)
    assert tid(6) not in set(out["track_id"])
    kept = similar_tracks(lib, tid(5), {"t": sc}, n=5, exclude_same_song=False)
    assert kept["track_id"].iloc[0] == tid(6)
    # two copies of one song among the candidates: only the better one is listed
    twice = TableScorer({tid(5): 0.9, tid(6): 1.0, tid(7): 0.5})
    out = similar_tracks(lib, tid(0), {"t": twice}, n=5)
    assert out["track_id"].tolist()[:2] == [tid(6), tid(7)]
    assert tid(5) not in set(out["track_id"])


def test_similar_tracks_unknown_track_is_a_usage_error(lib):
    with pytest.raises(UsageError, match="x" * 22):
        similar_tracks(lib, "x" * 22, {"t": TableScorer()})


def test_only_a_track_missing_from_the_cache_is_sent_to_refresh(lib):
    """A refresh can add a track to your cache, not to a data file: a file that happened to be
    named like the cache's label ("the cached library") got the cache's refresh hint."""
    from recommender.explore import CACHE, DEMO, dataset_where
    said = {}
    for name, where in (("cache", CACHE), ("demo", DEMO),
                        ("file", dataset_where("the cached library", "`recommend search --dataset x.csv`"))):
        with pytest.raises(UsageError) as caught:
            similar_tracks(lib, "x" * 22, {"t": TableScorer()}, where=where)
        said[name] = str(caught.value)
    assert "run `recommend refresh` or pick one with `recommend search`" in said["cache"]
    assert "refresh" not in said["demo"] and "refresh" not in said["file"]
    assert said["file"].endswith("is not in the cached library; pick one with `recommend search --dataset x.csv`")


# ----- title and artist both weigh; a floor; the cached index --------------------------------
MAD = [  # (name, artist, album): five "Mad World"s and an artist whose name rhymes with "Rules"
    ("Mad World", "Tears For Fears", "The Hurting"),
    ("Mad World", "Michael Andrews", "Donnie Darko"),
    ("Mad World - Radio Edit", "Hardwell", "Mad World"),
    ("Mad World (Feat. Michael Andrews)", "Gary Jules", "Trading Snakeoil for Wolftickets"),
    ("Mad World", "Adam Lambert", "Live"),
    ("Rules", "Doja Cat", "Hot Pink"),
    ("New Rules", "Dua Lipa", "Dua Lipa"),
    ("Inside Out", "XYZ", "Inside Out"),
    ("Stars", "Callalily", "Callalily"),
]


@pytest.fixture(scope="module")
def mad() -> Library:
    return make_library(MAD)


def test_a_query_naming_title_and_artist_finds_that_recording_first(mad):
    # before: the five "Mad World"s tied on the title and Gary Jules' came 4th
    hits = search_tracks(mad, "mad world gary jules", limit=5, min_score=0.0)
    assert hits["track_id"].iloc[0] == tid(3)
    assert hits["score"].iloc[0] > hits["score"].iloc[1] + 0.2  # clearly, not by a tie-break


def test_an_artist_name_alone_finds_that_artists_tracks_not_a_rhyming_title(mad):
    # before: another artist's "Rules" came first for "gary jules"
    hits = search_tracks(mad, "gary jules", limit=5)
    assert hits["track_id"].iloc[0] == tid(3)
    assert tid(5) not in set(hits["track_id"])  # "Rules" is below the floor


def test_a_title_alone_prefers_that_title_over_mentions(mad):
    hits = search_tracks(mad, "rules", limit=3)
    assert hits["track_id"].iloc[0] == tid(5)


def test_a_title_typed_exactly_comes_first_among_the_tracks_it_ties_with():
    # in the sample library "Me & You" found "You & Me" first (the same words, a lower track id),
    # "bad bad bad" James Bay's "Bad" (a shorter name) and "Dababy" a track of DaBaby's, and
    # `similar "Me & You"` started from "You & Me"
    lib = make_library([("You & Me", "James TW", "Chapters"), ("Me & You", "Chip Conyard", "Me & You"),
                        ("Bad", "James Bay", "Electric Light"), ("Bad Bad Bad", "Kalli", "Bad Bad Bad"),
                        ("Suge", "DaBaby", "Baby on Baby"), ("Dababy", "Dfideliz", "Dababy")])
    for query, expected in (("Me & You", 1), ("Bad Bad Bad", 3), ("dababy", 5)):
        assert search_tracks(lib, query, limit=3)["track_id"].iloc[0] == tid(expected), query
    assert resolve_track(lib, "Me & You") == tid(1)
    # and with its artist: "The Cranberries - In the End" found "Lost", of the album "In the End"
    other = make_library([("Lost", "The Cranberries", "In the End"), ("In the End", "The Cranberries", "In the End"),
                          ("Thing For You - Don Diablo Remix", "David Guetta", "Thing For You"),
                          ("Thing For You - David Guetta Remix", "David Guetta", "Thing For You")])
    for query, expected in (("The Cranberries - In the End", 1), ("in the end cranberries", 1),
                            ("David Guetta - Thing For You - David Guetta Remix", 3)):
        assert search_tracks(other, query, limit=3)["track_id"].iloc[0] == tid(expected), query
    assert search_tracks(lib, "bad", limit=2)["track_id"].iloc[0] == tid(2)  # the exact "Bad", as before


def test_gibberish_is_an_honest_no_match(mad):
    # before: 7 unrelated rows came back for "xyzzyqq"
    assert search_tracks(mad, "xyzzyqq", limit=10).empty
    assert search_tracks(mad, "qwxz vbnm", limit=10).empty
    # the floor is a parameter: at 0 the weak partial matches come back
    assert not search_tracks(mad, "gary jules", limit=10, min_score=0.0).empty


def test_search_index_is_cached_with_the_library_and_rebuilt_when_it_changes(tmp_path, mad):
    from recommender.libsource import LibrarySource, search, search_index
    from recommender.store import Store

    store = Store(tmp_path)
    store.save_library(mad)
    store.update_manifest(fetched_at="2026-01-01T00:00:00+00:00")
    source = LibrarySource(SimpleNamespace(cache_dir=str(tmp_path), frames_dir=str(tmp_path)))
    assert [r["track_id"] for r in search(source, "mad world gary jules", limit=1)] == [tid(3)]
    path = source.index_path()
    assert path.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    first = path.stat().st_mtime_ns
    assert search(source, "xyzzyqq") == []
    assert path.stat().st_mtime_ns == first  # warm: loaded, not rebuilt
    # the library changes: a new track must be found, so the index is rebuilt
    bigger = make_library(MAD + [("Zebra Crossing", "Quuxly", "Qzz")])
    store.save_library(bigger)
    assert [r["name"] for r in search(source, "zebra crossing quuxly", limit=1)] == ["Zebra Crossing"]
    assert len(search_index(source).tracks) == len(MAD) + 1
    # a corrupt index file is rebuilt, not an error
    path.write_bytes(b"not an npz")
    assert search(source, "rules", limit=1)[0]["track_id"] == tid(5)


@pytest.mark.parametrize("damage", ["empty", "truncated", "zip-garbage"])
def test_a_damaged_index_file_loads_as_none(tmp_path, damage):
    # before: an empty file raised EOFError and a truncated one zipfile.BadZipFile (a crash
    # of `recommend search` instead of the promised rebuild)
    from recommender.searchindex import SearchIndex
    good = tmp_path / "good.npz"
    SearchIndex.build([(tid(0), "Halo", "Beyoncé", "X")], fingerprint="f").save(good)
    data = good.read_bytes()
    path = tmp_path / "index.npz"
    path.write_bytes({"empty": b"", "truncated": data[:len(data) // 2], "zip-garbage": b"PK\x03\x04garbage"}[damage])
    assert SearchIndex.load(path, fingerprint="f") is None
    assert SearchIndex.load(good, fingerprint="f").query("halo")[0]["track_id"] == tid(0)


def test_a_saved_index_keeps_each_artist_whole(tmp_path):
    # search --json gave "artists": "Earth, Wind & Fire, X" only: two artists or three
    from recommender.searchindex import SearchIndex
    path = tmp_path / "index.npz"
    SearchIndex.build([(tid(0), "September", ["Earth, Wind & Fire", "X"], "Y")], fingerprint="f").save(path)
    [row] = SearchIndex.load(path, fingerprint="f").query("september")
    assert row["artists"] == "Earth, Wind & Fire, X" and row["artist_names"] == ["Earth, Wind & Fire", "X"]
    assert SearchIndex.load(path, fingerprint="f").query("wind fire")[0]["track_id"] == tid(0)  # still matched


def test_grams_match_scikit_learns_char_wb_analyzer():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from recommender.searchindex import grams
    text = fold("Mad World - Gary Jules a ox")
    sk = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3)).build_analyzer()(text)
    assert grams(text) == sk


# ----- similar: one recording once, an artist cap, extra sources ------------------------------
def _credited_library() -> Library:
    songs = [("bad guy", "Billie Eilish", "x"), ("bad guy (with Justin Bieber)", "Billie Eilish", "y"),
             ("Bad Guy", "Someone Else", "z"), ("bury a friend", "Billie Eilish", "x"),
             ("xanny", "Billie Eilish", "x"), ("8", "Billie Eilish", "x"), ("Bored", "Billie Eilish", "x"),
             ("Location", "Khalid", "k"), ("Royals", "Lorde", "l"), ("Royals - Live", "Lorde feat. Band", "l")]
    lib = make_library(songs)
    t = lib.tracks.copy()
    t["isrc"] = [None] * 8 + ["NZUM71200031", "nzum71200031 "]  # same recording, another credit
    return lib.replace(tracks=t)


def test_similar_lists_a_recording_once_whatever_its_credit():
    lib = _credited_library()
    # the "with Justin Bieber" credit of the seed itself is not a similar track
    sc = TableScorer({tid(1): 1.0, tid(2): 0.9, tid(3): 0.5, tid(8): 0.7, tid(9): 0.8})
    out = similar_tracks(lib, tid(0), {"t": sc}, n=10)
    ids = out["track_id"].tolist()
    assert tid(1) not in ids
    assert tid(2) in ids  # another artist's "Bad Guy" is another recording
    # same ISRC under another title and credit: one row, the better-scored copy
    assert tid(9) in ids and tid(8) not in ids


def test_similar_caps_tracks_per_artist():
    lib = _credited_library()
    sc = TableScorer({tid(3): 1.0, tid(4): 0.95, tid(5): 0.9, tid(6): 0.85, tid(7): 0.2})
    capped = similar_tracks(lib, tid(0), {"t": sc}, n=10, same_artist=3)
    eilish = [r for r in capped["artists"] if r == "Billie Eilish"]
    assert len(eilish) == 3 and tid(7) in set(capped["track_id"])
    assert capped["rank"].tolist() == list(range(1, len(capped) + 1))
    assert len(similar_tracks(lib, tid(0), {"t": sc}, n=10, same_artist=0)) == 5


def test_similar_blends_an_extra_similarity_source():
    lib = _credited_library()
    sc = TableScorer({tid(3): 1.0, tid(7): 0.0})
    calls = []

    def open_data(library, seed):
        calls.append(seed)
        return pd.Series({tid(7): 1.0, tid(3): 0.0, "unknown" + "x" * 15: 5.0})

    plain = similar_tracks(lib, tid(0), {"t": sc}, n=1)
    both = similar_tracks(lib, tid(0), {"t": sc}, {"t": 1.0, "open_data": 3.0}, n=2, extra={"open_data": open_data})
    assert calls == [tid(0)]
    assert plain["track_id"].tolist() == [tid(3)]
    assert both["track_id"].tolist()[0] == tid(7) and "open_data" in both.columns
    np.testing.assert_allclose(both[["t", "open_data"]].sum(axis=1, min_count=1), both["score"])
    assert both["why"].iloc[0] == "high open_data score"  # an extra source is named, not a silent scorer


def test_similar_setup_adds_audio_when_the_library_has_features():
    from recommender.config import default_settings
    from recommender.explore import similar_setup

    lib = _credited_library()
    settings = default_settings()
    scorers, weights, extra = similar_setup(settings, lib)
    assert "audio" not in scorers and extra == {}
    af = pd.DataFrame({"track_id": [tid(i) for i in range(10)], "valence": np.linspace(0, 1, 10),
                       "energy": np.linspace(1, 0, 10)})
    scorers, weights, _ = similar_setup(settings, lib.replace(audio_features=af))
    assert "audio" in scorers and weights["audio"] == settings.similar.audio_weight


def test_similar_setup_takes_plugged_in_sources(monkeypatch):
    from recommender import explore
    from recommender.config import default_settings

    def open_data(library, seed):
        return pd.Series({tid(7): 1.0})
    monkeypatch.setattr(explore, "similarity_sources", lambda settings, library: {"open_data": open_data})
    settings = default_settings()
    _, weights, extra = explore.similar_setup(settings, _credited_library())
    assert extra == {"open_data": open_data} and weights["open_data"] == 1.0  # no similar.open_data_weight key


def test_similar_and_moods_never_read_the_playlists_the_tool_wrote(tmp_path):
    # before: `recommend similar` (and moods) loaded the cache with the managed playlist in it,
    # so our own recommendations counted as "played together" evidence for the next similar
    import pandas as pd

    from recommender.config import load_settings
    from recommender.libsource import LibrarySource
    from recommender.scorers import CollaborativeScorer
    from recommender.store import Store
    from test_moods import make_library
    rows = [{"track_id": t * 22, "name": f"song {t}", "artist": f"artist {t}"} for t in "abcdef"]
    lib = make_library(rows, {"p" * 22: ["a" * 22, "c" * 22], "q" * 22: ["d" * 22, "e" * 22],
                              "m" * 22: ["a" * 22, "b" * 22]})
    lib = lib.replace(playlists=pd.DataFrame({"playlist_id": ["p" * 22, "q" * 22, "m" * 22],
                                              "name": ["Mine", "Other", "Recommended"]}))
    store = Store(tmp_path)
    store.save_library(lib)
    store.update_manifest(fetched_at="2026-11-29T00:00:00+00:00",
                          managed_playlist={"id": "m" * 22, "name": "Recommended"})
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path)})
    loaded = LibrarySource(settings).load()
    assert set(loaded.playlists["playlist_id"]) == {"p" * 22, "q" * 22}
    assert "m" * 22 not in set(loaded.playlist_items["playlist_id"])
    assert "b" * 22 in set(loaded.track_ids)  # the tracks stay: search still finds them
    out = similar_tracks(loaded, "a" * 22, {"collaborative": CollaborativeScorer(artist_weight=0.0)}, n=5,
                       normalisation="minmax")
    scored = out.dropna(subset=["score"])
    assert scored.iloc[0]["track_id"] == "c" * 22
    assert "b" * 22 not in set(scored[scored["score"] > 0]["track_id"])


def test_similar_never_lists_another_version_of_the_seed_song():
    # before: "similar to Despacito" put "Despacito - Remix" by Luis Fonsi first, and "Bohemian
    # Rhapsody - 2011 Mix" gave "Bohemian Rhapsody - 2011 Remaster" (the 28k-track data set)
    songs = [("Bohemian Rhapsody - 2011 Mix", "Queen", "A"), ("Bohemian Rhapsody - 2011 Remaster", "Queen", "B"),
             ("Despacito", "Luis Fonsi", "C"), ("Despacito - Remix", "Luis Fonsi", "D"),
             ("Bohemian Rhapsody", "Panic! at the Disco", "E"), ("Imposible", "Luis Fonsi", "F"),
             ("We Are The Champions", "Queen", "G")]
    lib = make_library(songs)
    sc = TableScorer({tid(i): 1.0 - i / 10 for i in range(len(songs))})
    queen = similar_tracks(lib, tid(0), {"t": sc}, n=10)["track_id"].tolist()
    assert tid(1) not in queen and tid(6) in queen
    assert tid(4) in queen  # another artist's song of that title is another song
    fonsi = similar_tracks(lib, tid(2), {"t": sc}, n=10)["track_id"].tolist()
    assert tid(3) not in fonsi and tid(5) in fonsi
    assert tid(3) in similar_tracks(lib, tid(2), {"t": sc}, n=10, exclude_same_song=False)["track_id"].tolist()
    # two versions of one other song: the better-scored one alone
    songs2 = songs + [("Imposible - Remix", "Luis Fonsi", "H")]
    sc2 = TableScorer({**{tid(i): 1.0 - i / 10 for i in range(len(songs))}, tid(7): 0.95})
    fonsi = similar_tracks(make_library(songs2), tid(2), {"t": sc2}, n=10)["track_id"].tolist()
    assert tid(7) in fonsi and tid(5) not in fonsi


def _remaster_library() -> Library:
    songs = [("Wonderwall - Remastered 2011", "Oasis", "Morning Glory (Remastered 2011)"),
             ("Layla - 2011 Remaster", "Derek and the Dominos", "Layla (2011 Remaster)"),
             ("Heroes - 2011 Remaster", "David Bowie", "Heroes (2011 Remaster)"),
             ("Dreams - 2011 Remaster", "Fleetwood Mac", "Rumours (2011 Remaster)"),
             ("Wonderwall", "Ryan Adams", "Love Is Hell"),
             ("Morning Glory Blues", "Someone", "Glory Days"),
             ("Version Excursion", "Stereolab", "Dots and Loops"),
             ("Radio", "Sylvan Esso", "What Now")]
    return make_library(songs)


def test_strip_packaging_drops_packaging_words_of_decorations_only():
    from recommender.namewords import strip_packaging

    assert strip_packaging("Hey Jude - Remastered 2009") == "Hey Jude"
    assert strip_packaging("A Night at the Opera (2011 Remaster)") == "A Night at the Opera"
    assert strip_packaging("Greatest Hits (40th Anniversary Edition) [Remastered]") == "Greatest Hits"
    assert strip_packaging("Y (feat. Z) - Radio Edit") == "Y (feat. Z)"
    # what is not packaging stays: another performance, and every undecorated name
    assert strip_packaging("Despacito - Remix") == "Despacito - Remix"
    assert strip_packaging("Song - Live at Wembley / 2011 Remaster") == "Song - Live at Wembley"
    for name in ("Version Excursion", "1999", "Radio", "Single Ladies (Put a Ring on It)", ""):
        assert strip_packaging(name) == name


def test_similar_does_not_find_tracks_alike_for_their_packaging_words():
    # before: "Wonderwall - Remastered 2011" found every other "- 2011 Remaster" alike, for the
    # words "remaster(ed)" and "2011" of their names and albums and nothing else
    from recommender.config import default_settings
    from recommender.explore import similar_setup

    lib = _remaster_library()
    scorers, weights, _ = similar_setup(default_settings(), lib)
    assert scorers["content"].drop_packaging
    out = similar_tracks(lib, tid(0), {"content": scorers["content"]}, n=10)
    assert set(out["track_id"][:2]) == {tid(4), tid(5)}  # "wonderwall", "morning glory"
    raw = scorers["content"].score_all(pd.Series([1.0], index=[tid(0)]))
    assert raw[[1, 2, 3]].tolist() == [0, 0, 0] and raw[4] > 0 and raw[5] > 0
    assert not any(w in " ".join(out["why"]).lower() for w in ("2011", "remaster"))
    # build-playlist's content scorer keeps the words: the shipped benchmark numbers stand
    from recommender.scorers import make_scorers
    assert not make_scorers(default_settings())["content"].drop_packaging


def test_search_still_finds_a_title_made_of_packaging_words():
    lib = _remaster_library()
    assert search_tracks(lib, "version excursion", limit=1)["track_id"].tolist() == [tid(6)]
    assert search_tracks(lib, "radio sylvan esso", limit=1)["track_id"].tolist() == [tid(7)]


def test_search_does_not_match_tracks_for_the_packaging_words_of_the_query_alone():
    # before: "hey jude remastered 2009" also listed "Pride (In the Name of Love) - Remastered
    # 2009" by U2 (0.47, over the 0.35 floor) for the words "remastered 2009" alone
    songs = [("Hey Jude - Remastered 2009", "The Beatles", "Past Masters"),
             ("Hey Jude", "Wilson Pickett", "Hey Jude"),
             ("Something - Remastered 2009", "The Beatles", "Abbey Road (Remastered)"),
             ("Pride (In the Name of Love) - Remastered 2009", "U2", "The Unforgettable Fire (Remastered)"),
             ("Heroes - 2017 Remaster", "David Bowie", "Heroes"), ("Wonderwall", "Oasis", "Morning Glory"),
             ("Radio Edit", "Someone", "Edits")]
    lib = make_library(songs)
    hits = search_tracks(lib, "hey jude remastered 2009")["track_id"].tolist()
    assert hits[:2] == [tid(0), tid(1)] and tid(3) not in hits and tid(4) not in hits
    assert search_tracks(lib, "heroes 2011 remaster")["track_id"].tolist() == [tid(4)]
    assert search_tracks(lib, "radio edit", limit=1)["track_id"].tolist() == [tid(6)]  # packaging words alone


def test_the_index_build_gives_each_track_the_rows_of_the_formula_and_reports_progress():
    """The build folds each distinct text and cuts each distinct word into trigrams once, then
    counts for all tracks at once (45,000 tracks: 5.1 s before, 1.5 s after); its rows are still
    the module's formula, track by track, and it reports the tracks read."""
    from collections import Counter

    from recommender.searchindex import SearchIndex, grams, joined
    tracks = [("a", "Halo", "Beyoncé", "I Am"), ("b", "Halo - Remastered 2009", "Beyoncé", "I Am"),
              ("c", "ab(x)cd", "Zed", ""), ("d", "夜に駆ける", "YOASOBI", "夜"), ("e", "", "", ""),
              ("f", "Halo halo halo", "Beyonce, Jay-Z", "Ø")]
    calls = []
    idx = SearchIndex.build(tracks, progress=lambda done, total: calls.append((done, total)))
    assert calls == sorted(calls) and calls[-1] == (len(tracks), len(tracks))
    assert sorted(set(calls)) == [(i, len(tracks)) for i in range(1, len(tracks) + 1)]  # each track read is told
    vocab = [str(g) for g in idx.vocab]
    col = {g: j for j, g in enumerate(vocab)}
    docs = [set(grams(f"{fold(f'{n} {a} {b}')} {joined(f'{n} {a} {b}')}")) for _, n, a, b in tracks]  # "jayz" too
    assert vocab == sorted(set().union(*docs))
    df = Counter(g for d in docs for g in d)
    assert np.allclose(idx.idf, np.log((1 + len(tracks)) / (1 + np.array([df[g] for g in vocab]))) + 1)

    def dense(csc):  # tracks x vocabulary
        ptr, rows, *vals = csc
        out = np.zeros((len(tracks), len(vocab)))
        for j in range(len(vocab)):
            for k in range(ptr[j], ptr[j + 1]):
                out[rows[k], j] = vals[0][k] if vals else 1.0
        return out
    (g_ptr, g_words), (d_ptr, d_words) = idx.gram_words, idx.doc_words
    held = [[bool(set(g_words[g_ptr[j]:g_ptr[j + 1]]) & set(d_words[d_ptr[i]:d_ptr[i + 1]])) for j in range(len(vocab))]
            for i in range(len(tracks))]  # a word of the document holds the trigram
    assert held == [[g in d for g in vocab] for d in docs]
    for csc, texts in ((idx.title, [core_title(t[1]) for t in tracks]), (idx.artist, [t[2] for t in tracks]),
                       (idx.album, [t[3] for t in tracks])):
        want = np.zeros((len(tracks), len(vocab)))
        for i, text in enumerate(texts):
            for g, c in Counter(g for g in grams(fold(text)) if g in col).items():
                want[i, col[g]] = (1 + np.log(c)) * idx.idf[col[g]]
            if np.linalg.norm(want[i]):
                want[i] /= np.linalg.norm(want[i])
        assert np.allclose(dense(csc), want, atol=1e-6)
    assert [h["track_id"] for h in idx.query("halo beyonce", 2)] == ["a", "b"]
    assert "e" not in [h["track_id"] for h in idx.query("halo", 10)]  # a track without a word matches nothing


def test_a_scorer_with_no_weight_has_no_share_in_similar_as_in_build_playlist():
    """``explore.sharing`` (`recommend similar`'s columns, the web page's legend) listed a scorer
    column whose weight was not given (as weight 1) while ``BuildResult.sharing`` (build-playlist's
    table, the Next page) and the blend itself take it as weight 0, no share of any score. One
    rule now (``blend.in_blend``)."""
    from recommender.explore import sharing
    from recommender.jobs import BuildResult
    weights = {"content": 1.0, "popularity": 0.0}  # no weight for walk
    similar = pd.DataFrame(columns=["track_id", "name", "artists", "score", "rank", "why", "content", "popularity", "walk"])
    built = BuildResult(None, True, pd.DataFrame(columns=["contrib_content", "contrib_popularity", "contrib_walk"]),
                        0, 0, 0, weights=weights)
    assert sharing(similar, weights) == built.sharing == ["content"]


def test_a_word_is_found_whole_before_its_trigrams_spread_over_two_words():
    """"viva" ranked "Surviva" (album "Vivegam") above the tracks of the albums "Ferida Viva" and
    "Água Viva" in the sample library: its " vi" came from one word, its "va " from the other,
    and an album's name counted in no field. Each query word is now covered within one word, and
    an album's name is a field at half a title's weight: a title of that name still comes first."""
    from recommender.searchindex import SearchIndex
    tracks = [("s", "Surviva (feat. Yogi B & Mali)", "Anirudh Ravichander", "Vivegam (Original Motion Picture Soundtrack)"),
              ("f", "Beijo Grego", "2DE1", "Ferida Viva"), ("v", "Viva", "Zed", "Songs"),
              *[(f"x{i}", f"Filler {i} song", "Band", "Album") for i in range(20)]]
    idx = SearchIndex.build(tracks)
    assert [h["track_id"] for h in idx.query("viva", 3)] == ["v", "f", "s"]
    assert [h["track_id"] for h in idx.query("ferida viva", 1)] == ["f"]
    # tracks from elsewhere (a Spotify search's) are scored as the index scores its own
    for q in ("viva", "surviva vivegam", "beijo 2de1", "filler song"):
        assert np.allclose(idx.score_texts(q, tracks), idx.scores(q)), q
    # "half a title's weight": of the score past the word's coverage (whole in both), the album's
    # match gets half the title's (an album weight of 0 or 2 kept the order above)
    from recommender.searchindex import COVERAGE_WEIGHT
    two = SearchIndex.build([("t", "Viva", "Zed", "Songs"), ("a", "Other Thing", "Band", "Viva"), *tracks[3:]])
    by = {h["track_id"]: h["score"] for h in two.query("viva", 2)}
    assert (by["a"] - COVERAGE_WEIGHT) / (by["t"] - COVERAGE_WEIGHT) == pytest.approx(0.5)


def test_a_track_id_uri_or_link_searched_for_finds_that_track():
    """`search` with a pasted id, URI or link said "No match" for a track of the library, where
    `similar` and `moods near` take them."""
    from recommender.searchindex import SearchIndex
    idx = SearchIndex.build([(tid(1), "Zombie", "The Cranberries", "No Need To Argue"), (tid(2), "Linger", "The Cranberries", "X")])
    for text in (tid(1), f"spotify:track:{tid(1)}", f"https://open.spotify.com/intl-de/track/{tid(1)}?si=abc"):
        assert [(h["track_id"], h["score"]) for h in idx.query(text)] == [(tid(1), 1.0)], text
    assert idx.query(tid(3)) == []  # not in the library: no match, not an error


def test_an_album_or_playlist_link_given_for_a_track_is_said_to_be_one():
    """`similar https://open.spotify.com/album/...` said "no track matches" as if it were words."""
    from recommender.explore import resolve_track
    lib = make_library([("Zombie", "The Cranberries", "No Need To Argue")])
    for text, kind in (("https://open.spotify.com/album/0eFHYz8NmK75zSplL5qlfM?si=1", "album"),
                       ("spotify:playlist:37i9dQZF1DXcBWIGoYBM5M", "playlist"),
                       ("open.spotify.com/intl-de/artist/0eFHYz8NmK75zSplL5qlfM", "artist")):
        with pytest.raises(UsageError, match=f"is a Spotify {kind} link, not a track's"):
            resolve_track(lib, text)


def test_an_album_playlist_or_artist_link_searched_for_is_said_to_be_one(tmp_path):
    """`search https://open.spotify.com/album/...` (an album the cache holds) said "No match ...
    (nothing scored 0.35 or more)", exit 0, as the web app's Search page did, where `similar` says
    what the link is."""
    from typer.testing import CliRunner

    from recommender.cli import app
    from recommender.explore import search_tracks
    lib = make_library([("Zombie", "The Cranberries", "No Need To Argue")])
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path)}
    for text, kind in (("https://open.spotify.com/album/0eFHYz8NmK75zSplL5qlfM?si=1", "album"),
                       ("spotify:playlist:37i9dQZF1DXcBWIGoYBM5M", "playlist"),
                       ("open.spotify.com/intl-de/artist/0eFHYz8NmK75zSplL5qlfM", "artist")):
        with pytest.raises(UsageError, match=f"is a Spotify {kind} link, not a track's: search takes words"):
            search_tracks(lib, text)  # the web app's Search page and `search --spotify`
        said = CliRunner().invoke(app, ["search", "--demo", text], env=env)
        assert said.exit_code == 2 and f"is a Spotify {kind} link, not a track's" in said.stderr, said.output
    assert CliRunner().invoke(app, ["search", "--demo", "zombie"], env=env).exit_code == 0


def test_a_spotify_short_link_is_said_to_be_one_not_searched_for_as_words():
    """The phone app's Share, Copy link gives https://spotify.link/...: `search` said "No match ...
    (nothing scored 0.35 or more)" of a track the cache may hold, and `similar` "no track ...
    matches it; try `recommend search` or a Spotify track URL", the very thing given."""
    lib = make_library([("Zombie", "The Cranberries", "No Need To Argue")])
    for text in ("https://spotify.link/Bq4aXyz12Kb", "spotify.link/Bq4aXyz12Kb?si=1", "https://spoti.fi/3xYzAb"):
        with pytest.raises(UsageError, match="is a Spotify short link.*open.spotify.com"):
            search_tracks(lib, text)
        with pytest.raises(UsageError, match="is a Spotify short link.*open.spotify.com"):
            resolve_track(lib, text)
    search_tracks(lib, "spotify.link", min_score=0.0)  # words are still words: not refused


def test_a_name_written_with_punctuation_is_found_typed_without_it():
    """"acdc" found nothing ("No match") in a library holding AC/DC, "rem" no track of R.E.M.'s
    and "aha" none of a-ha's: the letters of "AC/DC" were two words, "ac" and "dc"."""
    lib = make_library([("Back In Black", "AC/DC", "Back In Black"), ("Everybody Hurts", "R.E.M.", "Automatic"),
                        ("Take on Me", "a-ha", "Hunting High and Low"), ("Dont Stop", "Someone", "Other"),
                        ("Mantém", "WIU", "Manter"), ("The Anthem", "Dimitri Vegas", "Remedy")])
    for query, expected in (("acdc", 0), ("rem everybody hurts", 1), ("aha take on me", 2), ("aha", 2),
                            ("AC/DC", 0), ("R.E.M.", 1)):
        hits = search_tracks(lib, query, limit=3)
        assert not hits.empty and hits["track_id"].iloc[0] == tid(expected), query
    assert search_tracks(lib, "rem", limit=3)["track_id"].iloc[0] == tid(1)


def test_an_ampersand_is_found_typed_as_and():
    """"me and you" listed "You And Me" and not "Me & You" at all: "&" was no word of the title."""
    lib = make_library([("You And Me", "The Cranberries", "Wake Up and Smell the Coffee"),
                        ("Me & You", "Chip Conyard", "Me & You"), ("You Called And Told Me", "Jeff Redd", "Various"),
                        ("You Don't Love Me Now", "The Made and The Born", "Other")])
    hits = search_tracks(lib, "me and you", limit=3)
    assert list(hits["track_id"].iloc[:2]) == [tid(0), tid(1)]
    assert search_tracks(lib, "me & you", limit=1)["track_id"].iloc[0] == tid(1)  # as before


def test_a_word_of_a_core_title_alone_does_not_break_a_query():
    """A core title can make a word no document has ("ab(x)cd" -> "abcd"); the last track's such
    word was past the end of the word table: the query crashed (IndexError)."""
    from recommender.searchindex import SearchIndex
    idx = SearchIndex.build([(tid(1), "Song", "X", "Y"), (tid(2), "ab(x)cd", "Zed", "")])
    assert idx.query("abcd", min_score=0.0)[0]["track_id"] == tid(2)
    assert idx.query("song")[0]["track_id"] == tid(1)


def test_an_album_or_track_link_given_for_a_playlist_is_said_to_be_one():
    """`build-playlist --seed-playlist https://open.spotify.com/album/...` said "no playlist
    named 'https://...'", as if the link were a name; `similar` said it of a track's already."""
    from recommender.pipeline import resolve_playlist
    lib = make_library([("Zombie", "The Cranberries", "No Need To Argue")])
    for text, kind in (("https://open.spotify.com/album/0WicovBbxeB0nvQC6IfuaT", "album"),
                       ("spotify:track:0eFHYz8NmK75zSplL5qlfM", "track"),
                       ("open.spotify.com/intl-fr/artist/0eFHYz8NmK75zSplL5qlfM?si=x", "artist")):
        with pytest.raises(UsageError, match=f"is a Spotify {kind} link, not a playlist's: give a playlist's name, "
                                             r"id or link \(`recommend playlists` lists them\)$"):
            resolve_playlist(lib, text)
    with pytest.raises(UsageError, match="no playlist with the id 37i9dQZF1DXcBWIGoYBM5M"):
        resolve_playlist(lib, "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M")


def test_similar_starts_from_every_copy_of_the_recording_whichever_the_text_found():
    """`similar "lucid dreams"` started from the single's copy, which search happened to find,
    and listed tracks that shared only its year; from the album's copy (the same ISRC) its
    peers. Every copy of the recording seeds it now: the same list from either."""
    from recommender.explore import recording_copies
    lib = make_library([("Lucid Dreams", "Juice WRLD", "Goodbye & Good Riddance"),
                        ("Lucid Dreams", "Juice WRLD", "Lucid Dreams"),
                        ("Drip Too Hard", "Lil Baby", "Drip Harder"), ("Other", "Someone", "Else")])
    album, single, peer = tid(0), tid(1), tid(2)
    assert recording_copies(lib, single) == [single, album] and recording_copies(lib, album) == [album, single]
    seen = []

    class Seeds(TableScorer):
        def score(self, seeds, candidates):
            seen.append(sorted(seeds.index))
            return pd.Series({peer: 1.0 if album in seeds.index else 0.0}).reindex(candidates)
    lists = [similar_tracks(lib, t, {"t": Seeds()}, n=3)["track_id"].tolist() for t in (single, album)]
    assert lists[0] == lists[1] and lists[0][0] == peer and album not in lists[0] and single not in lists[1]
    assert seen == [[album, single], [album, single]]


def test_similar_from_a_recording_with_two_copies_still_speaks_of_one_seed():
    # seeded with both copies of its recording, similar's whys said "your seeds' artists" and
    # "sounds like your seeds" of the one song it was asked about
    from recommender.explore import recording_copies
    from recommender.scorers.base import ONE_SONG
    from recommender.scorers.walk import ArtistWalkScorer
    base = make_library([("Lucid Dreams", "Juice WRLD", "Goodbye"), ("Lucid Dreams", "Juice WRLD", "Lucid Dreams"),
                         ("Bandit", "Juice WRLD", "Bandit")])
    lib = base.replace(playlists=pd.DataFrame({"playlist_id": ["p1"], "name": ["mine"]}),
                       playlist_items=pd.DataFrame({"playlist_id": ["p1"] * 3, "track_id": [tid(0), tid(1), tid(2)],
                                                    "position": [0, 1, 2]}))
    seeds = pd.Series(1.0, index=pd.Index(recording_copies(lib, tid(1)), name="track_id"))
    seeds.attrs[ONE_SONG] = True
    why = ArtistWalkScorer().fit(lib).explain(seeds, [tid(2)])
    assert why == {tid(2): "by Juice WRLD, your seed's artist"}, why
    # and similar_tracks seeds the scorers so, from either copy
    for asked in (tid(0), tid(1)):
        out = similar_tracks(lib, asked, {"walk": ArtistWalkScorer()}, n=3)
        assert out.set_index("track_id").loc[tid(2), "why"] == "by Juice WRLD, your seed's artist", out


def test_a_name_with_invisible_or_control_characters_is_found_as_typed_or_as_the_table_shows_it():
    """A zero-width space split a word for the search ("Hel\\u200blo World" was not found by
    "hello"), and a name holding an escape sequence, shown in the tables as `\\x1b[31mRED\\x1b[0m`,
    was not found by that text copied back (`recommend similar` said no track matches)."""
    from recommender.searchindex import SearchIndex
    tracks = [(tid(0), "Hel\u200blo\ufeff World\u2060", "Art\u200dist", "A"),
              (tid(1), "\x1b[31mRED\x1b[0m", "Band", "B"),
              (tid(2), "Goodbye Moon", "Other", "C")]
    index = SearchIndex.build(tracks)
    assert [r["track_id"] for r in index.query("hello world", limit=1)] == [tid(0)]
    assert [r["track_id"] for r in index.query("artist", limit=1)] == [tid(0)]
    assert [r["track_id"] for r in index.query("\\x1b[31mRED\\x1b[0m", limit=1)] == [tid(1)]


def test_two_swapped_letters_count_as_one_typo(tmp_path):
    """"posion" did not find "Poison" (it listed "Our Time" by Tess Posner): a swap of two
    neighbouring letters broke three of the word's trigrams, where a typo of one letter breaks
    two. A word the library holds as typed is not taken for another ("form" finds "Form")."""
    from recommender.searchindex import SearchIndex
    lib = make_library([("Our Time", "Tess Posner", "Our Time"), ("Poison", "Alice Cooper", "Trash"),
                        ("Shape of You", "Ed Sheeran", "Divide"), ("Form", "Band", "Shapes"), ("From Me", "Band", "X")])
    for query, expected in (("posion", 1), ("alice cooper posion", 1), ("shape of yuo", 2), ("form", 3)):
        hits = search_tracks(lib, query, limit=3)
        assert not hits.empty and hits["track_id"].iloc[0] == tid(expected), query
    assert search_tracks(lib, "posion", limit=3)["score"].iloc[0] > 0.8
    built = SearchIndex.build([(tid(1), "Poison", "Alice Cooper", "Trash"), (tid(2), "Our Time", "Tess Posner", "")])
    built.save(tmp_path / "index.npz")
    loaded = SearchIndex.load(tmp_path / "index.npz")
    assert loaded is not None and loaded.query("posion")[0]["track_id"] == tid(1)


def test_letters_and_digits_typed_together_find_the_words_written_apart():
    """"mac10" said "No match" of a library holding "Mac 10", and "maroon5" found Maroon 5 at
    0.49 only: a word typed with its number joined was one word the library did not have."""
    lib = make_library([("Mac 10", "Rapper", "Tape"), ("Sugar", "Maroon 5", "V"), ("Bank Account", "21 Savage", "Issa"),
                        ("Macarena", "Los del Rio", "A mi me gusta"), ("2U", "David Guetta", "7")])
    for query, expected in (("mac10", 0), ("maroon5", 1), ("21savage", 2), ("2u", 4)):
        hits = search_tracks(lib, query, limit=3)
        assert not hits.empty and hits["track_id"].iloc[0] == tid(expected) and hits["score"].iloc[0] > 0.8, query


def test_two_words_typed_run_together_find_the_words_written_apart():
    """"foofighters" found Foo Fighters at 0.50 only (a song of another band sharing a few of its
    letters could come first), "thekillers mr brightside" The Killers at 0.75: two
    words typed as one are read apart, when the library holds both, as letters and digits are."""
    lib = make_library([("Everlong", "Foo Fighters", "The Colour and the Shape"), ("Fighter", "Foo Band", "Foo"),
                        ("Mr. Brightside", "The Killers", "Hot Fuss"), ("Killer Queen", "Queen", "Sheer Heart Attack")])
    for query, expected in (("foofighters", 0), ("foofighters everlong", 0), ("thekillers mr brightside", 2)):
        hits = search_tracks(lib, query, limit=3)
        assert not hits.empty and hits["track_id"].iloc[0] == tid(expected) and hits["score"].iloc[0] > 0.8, query
    assert search_tracks(lib, "fighter", limit=3)["track_id"].iloc[0] == tid(1)  # a word held as typed: not split


def test_the_other_songs_a_text_matches_as_well_are_all_counted():
    """`similar prolific` said "49 other songs match 'prolific' as well" of an artist with 69
    songs: the songs as good as the chosen one were looked for among its first 50 hits only."""
    from recommender.explore import equal_matches
    lib = make_library([(f"Song number {i}", "Prolific", f"Album {i % 7}") for i in range(70)] + [("Other", "Band", "X")])
    chosen = resolve_track(lib, "prolific")
    assert len(equal_matches(lib, "prolific", chosen)) == 69


def test_a_title_typed_with_two_letters_swapped_comes_first_among_the_tracks_it_ties_with():
    """"poison" listed Alice Cooper's "Poison" before "Yes" by the band Poison (a title spelt out
    comes first among the tracks it ties with), "posion" the other way round: the shorter name won."""
    lib = make_library([("Yes", "Poison", "Open Up"), ("Poison", "Alice Cooper", "Trash")])
    for query in ("poison", "posion"):
        assert list(search_tracks(lib, query, limit=2)["track_id"]) == [tid(1), tid(0)], query
