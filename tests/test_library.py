"""Library: the track x playlist matrix and the evaluation helper."""

import pandas as pd

from recommender.library import SAVED_COLUMN, TOP_COLUMN_PREFIX, Library


def small() -> Library:
    return Library.from_frames(
        tracks=pd.DataFrame({"track_id": ["a", "b", "c"]}),
        playlist_items=pd.DataFrame({"playlist_id": ["p", "p", "q", "p", "p"], "track_id": ["a", "b", "b", "a", "gone"],
                                     "position": [0, 1, 0, 2, 3]}),
        saved_tracks=pd.DataFrame({"track_id": ["c", "zz"]}),
        top_tracks=pd.DataFrame({"track_id": ["a"], "time_range": ["short_term"], "rank": [1]}))


def test_matrix_is_binary_drops_unknown_tracks_and_adds_pseudo_playlists():
    m, cols = small().track_playlist_matrix()
    assert list(cols) == ["p", "q", SAVED_COLUMN, TOP_COLUMN_PREFIX + "short_term"]
    dense = m.toarray()
    assert dense.tolist() == [[1, 0, 0, 1], [1, 1, 0, 0], [0, 0, 1, 0]]  # "a" twice in p counts once


def test_matrix_without_extra_sources():
    m, cols = small().track_playlist_matrix(extra_sources=False)
    assert list(cols) == ["p", "q"] and m.shape == (3, 2)


def test_without_memberships_hides_only_those_pairs():
    lib = small().without_memberships(pd.DataFrame({"playlist_id": ["p"], "track_id": ["b"]}))
    assert lib.playlist_tracks("p") == ["a", "gone"]
    assert lib.playlist_tracks("q") == ["b"]
    m, cols = lib.track_playlist_matrix(extra_sources=False)
    assert m[1, list(cols).index("p")] == 0


def test_track_codes_and_positions_map_ids_to_rows_with_minus_one_for_unknown():
    lib = small()
    ids = ["c", "gone", "a", None, "a"]
    assert lib.track_codes(pd.Series(ids, dtype="str")).tolist() == [2, -1, 0, -1, 0]
    assert lib.track_codes(["b"]).tolist() == [1] and lib.track_codes([]).tolist() == []
    assert lib.track_positions(["c", "gone", "a", "a"]).tolist() == [2, -1, 0, 0]
    assert lib.track_positions(pd.Index(["b"], dtype="str")).tolist() == [1]
    assert lib.track_positions([]).tolist() == []
    assert lib.track_rows(["zz", "b", "a"]).tolist() == [1, 0]


def test_text_codes_number_distinct_strings_in_first_appearance_order():
    lib = Library.from_frames(tracks=pd.DataFrame({"track_id": list("abcd"), "name": ["x", None, "y", "x"]}))
    codes, distinct = lib.text_codes("tracks", "name")
    assert codes.tolist() == [0, 1, 2, 0] and distinct.to_pylist() == ["x", "", "y"]
    assert lib.text_codes("tracks", "name")[0] is codes  # built once per Library


def test_track_artist_matrix_is_binary_tracks_by_artists():
    lib = Library.from_frames(tracks=pd.DataFrame({
        "track_id": ["a", "b", "c"], "artist_ids": [["x", "y"], [], ["y", "y"]]}))
    m, artists = lib.track_artist_matrix()
    assert list(artists) == ["x", "y"]
    assert m.toarray().tolist() == [[1, 1], [0, 0], [0, 1]]


def test_matrix_column_labels_keep_their_order_with_unknown_tracks_first():
    lib = Library.from_frames(
        tracks=pd.DataFrame({"track_id": ["a", "b"]}),
        playlist_items=pd.DataFrame({"playlist_id": ["p0", "p1", "p2"], "track_id": ["gone", "b", "a"]}))
    m, cols = lib.track_playlist_matrix(extra_sources=False)
    assert list(cols) == ["p1", "p2"]  # p0 holds only an unknown track: no column
    assert m.toarray().tolist() == [[0, 1], [1, 0]]


def test_membership_and_list_helpers_on_one_value_no_values_and_nulls():
    """The Arrow helpers every matrix and candidate mask is built with: a one-element list is
    looked up like any other, nulls are never members, and lists that are all empty give a
    matrix of no columns (not one column no token names)."""
    import numpy as np
    from recommender.library import as_list_arrow, first_of_lists, isin, list_indicator
    assert isin(["a"], ["a"]).tolist() == [True] and isin(["a"], {"b"}).tolist() == [False]
    assert isin(pd.Series(["a", None, "b"]), {"b"}).tolist() == [False, False, True]
    assert isin([], ["a"]).tolist() == [] and isin(["a"], []).tolist() == [False]
    lists = as_list_arrow(pd.Series([["x", "y", "x"], [], None, ("y",), float("nan")]))
    m, tokens = list_indicator(lists, 5)
    assert tokens.tolist() == ["x", "y"] and m.dtype == np.float32
    assert m.toarray().tolist() == [[1, 1], [0, 0], [0, 0], [0, 1], [0, 0]]
    assert first_of_lists(lists).to_pylist() == ["x", None, None, "y", None]
    m, tokens = list_indicator(as_list_arrow(pd.Series([[], None])), 2)
    assert m.shape == (2, 0) and tokens.tolist() == []
    m, tokens = list_indicator(as_list_arrow(pd.Series([[], ["z"]])), 2)
    assert m.toarray().tolist() == [[0], [1]] and tokens.tolist() == ["z"]


def test_an_artists_genres_are_spotifys_when_it_gives_any_else_the_enrichments():
    """An artist enriched while Spotify gave it no genres keeps Spotify's once Spotify gives some;
    the enrichment's stand for an empty list and for an artist the artists frame lacks."""
    lib = Library.from_frames(
        artists=pd.DataFrame({"artist_id": ["spotify", "empty"], "name": ["S", "E"],
                              "genres": [["indie pop"], []]}),
        artist_genres=pd.DataFrame({"artist_id": ["spotify", "empty", "other"],
                                    "genres": [["rock"], ["trip hop"], ["jazz"]]}))
    genres = lib.artist_genres()
    assert {a: list(g) for a, g in genres.items()} == {"spotify": ["indie pop"], "empty": ["trip hop"],
                                                       "other": ["jazz"]}
