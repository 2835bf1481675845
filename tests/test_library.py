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
