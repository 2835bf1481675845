"""One artist key for every per-artist rule (playlist cap, `similar --same-artist`, moods)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.artists import artist_key, first_artist_keys
from recommender.blend import select_tracks
from recommender.explore import similar_tracks
from recommender.library import Library
from recommender.moods import _first_artists
from recommender.pipeline import _ArtistKeys
from recommender.scorers.base import Scorer

# No artist ids (as for tracks known only by name): the names decide. "Beyoncé" and "BEYONCE"
# were one artist for `similar` (accent folding) and two for the playlist (casefold only).
TRACKS = [("s0", "Seed", "Someone"), ("b1", "Halo", "Beyoncé"), ("b2", "Formation", "BEYONCE"),
          ("b3", "Crazy in Love", "Beyonce!"), ("o1", "Royals", "Lorde")]


def _library() -> Library:
    return Library.from_frames(tracks=pd.DataFrame({
        "track_id": [t for t, _, _ in TRACKS], "name": [n for _, n, _ in TRACKS],
        "artist_ids": [[] for _ in TRACKS], "artist_names": [[a] for _, _, a in TRACKS],
        "album_name": [f"album {t}" for t, _, _ in TRACKS]}))


class _Fixed(Scorer):
    name = "fixed"

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table

    def fit(self, library: Library) -> "_Fixed":
        return self

    def score(self, seeds: pd.Series, candidates: pd.Index) -> pd.Series:
        return pd.Series([self.table.get(c, np.nan) for c in candidates], index=candidates, dtype=float)


def test_artist_key_prefers_the_id_then_the_folded_name():
    assert artist_key(["a1", "a2"], ["Beyoncé"]) == "id:a1"
    assert artist_key([], ["Beyoncé"]) == artist_key(np.array([]), ["BEYONCE"]) == "name:beyonce"
    assert artist_key([], ["!!!"]) == "name:!!!"  # a name of marks only is still a name
    assert artist_key([], []) is None and artist_key(float("nan"), None) is None
    # a cell that is a bare string, not a list of them, names no artist (not its first letter)
    assert artist_key("a1", "Beyoncé") is None


def test_the_playlist_cap_and_the_similar_cap_count_the_same_artist_alike():
    lib = _library()
    scores = {"b1": 1.0, "b2": 0.9, "b3": 0.8, "o1": 0.5}
    # the playlist: blend.max_per_artist 1 through the pipeline's artist keys
    playlist = select_tracks(pd.Series(scores), _ArtistKeys(lib), max_tracks=10, max_per_artist=1)
    # `recommend similar --same-artist 1`
    similar = similar_tracks(lib, "s0", {"fixed": _Fixed(scores)}, n=10, same_artist=1)["track_id"].tolist()
    assert playlist == similar == ["b1", "o1"]
    # the mood classifier's same-artist features pool them too
    assert len(set(_first_artists(lib, ["b1", "b2", "b3"]))) == 1
    assert first_artist_keys(lib, ["b1", "nope"]) == ["name:beyonce", None]
