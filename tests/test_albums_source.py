"""The albums source's own rules, on canned answers: which of an artist's albums are read, and
which of their tracks count as new to you."""

from __future__ import annotations

import pandas as pd

from recommender.publish import MARKER
from recommender.sources.albums import new_ids, newest_albums
from recommender.store import Store


class AlbumListings:
    """Spotify's artist album listings, canned per ``include_groups``."""

    def __init__(self, groups: dict):
        self.groups = groups
        self.asked: list[dict] = []

    def pages(self, path, **params):
        self.asked.append({"path": path, **params})
        yield from self.groups[params["include_groups"]]


def test_the_newest_albums_are_the_newest_of_albums_and_singles_together():
    """Up to n of each group are read (a listing is newest first), then the n newest of both
    kept, newest first; an entry without an id is skipped, one without a date comes last, and an
    album listed in both groups counts once."""
    albums = [{"id": "a1", "release_date": "2020-05-01"}, None, {"name": "no id"},
              {"id": "a2", "release_date": "2019"}, {"id": "a0"}, {"id": "a3", "release_date": "2010"}]
    singles = [{"id": "s1", "release_date": "2021-01-01"}, {"id": "a1", "release_date": "2020-05-01"},
               {"id": "s2", "release_date": "2001"}]
    listings = AlbumListings({"album": albums, "single": singles})
    got = newest_albums(listings, "artist", 3)
    assert [a["id"] for a in got] == ["s1", "a1", "a2"]
    assert [q["include_groups"] for q in listings.asked] == ["album", "single"]
    assert all(q["path"] == "artists/artist/albums" and q["limit"] == 10 for q in listings.asked)
    assert [a["id"] for a in newest_albums(AlbumListings({"album": albums, "single": singles}), "artist", 6)] == \
        ["s1", "a1", "a2", "a3", "s2", "a0"]


def test_new_to_you_leaves_out_what_your_playlists_saved_and_top_tracks_hold_but_not_the_tools_own(tmp_path):
    """Your artists' albums hold the songs you have too: those are not new. The tool's own
    playlist (marked in its description) is output, not taste: what only it holds is new."""
    frames = {
        "discovery": pd.DataFrame({"track_id": ["d1", "d2", "d3", "d4", "d5"]}),
        "playlists": pd.DataFrame([{"playlist_id": "mine", "owned": True, "description": "road trip"},
                                   {"playlist_id": "ours", "owned": True, "description": f"For you. {MARKER}"}]),
        "playlist_items": pd.DataFrame({"playlist_id": ["mine", "ours", "ours"], "track_id": ["d1", "d2", "d1"]}),
        "saved_tracks": pd.DataFrame({"track_id": ["d3"]}),
        "top_tracks": pd.DataFrame({"track_id": ["d5"]}),
    }
    store = Store(tmp_path)
    assert new_ids(frames, store) == {"d2", "d4"}
    assert new_ids({k: v for k, v in frames.items() if k not in ("saved_tracks", "top_tracks")}, store) == \
        {"d2", "d3", "d4", "d5"}
    assert new_ids({**frames, "playlist_items": frames["playlist_items"].iloc[:0]}, store) == {"d1", "d2", "d4"}
    assert new_ids({k: v for k, v in frames.items() if k != "playlist_items"}, store) == {"d1", "d2", "d4"}
    assert new_ids({"discovery": frames["discovery"].iloc[:0]}, store) == set()
