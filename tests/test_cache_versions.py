"""A cache written under the oldest dependencies pyproject.toml allows (pandas 2.1, pyarrow 15,
numpy 1.26) is read by the newest (pandas 3: its own string dtype in the parquet metadata,
pyarrow 26, numpy 2), and the other way round: users upgrade and downgrade over the same cache.
Each venv runs this test (.ci/run the newest, .ci/lowest the oldest), so both directions are read.

The fixture folders hold the frames of ``EXPECTED`` saved by ``Store.save_frame`` under those
versions (``tests/fixtures/cache-versions/<pandas major>/``); to write them again, run in each venv:
``python -c "import sys, pandas as pd; sys.path.insert(0, 'tests'); from recommender.store import Store;
from test_cache_versions import EXPECTED; s = Store(sys.argv[1]);
[s.save_frame(n, pd.DataFrame(r)) for n, r in EXPECTED.items()]" tests/fixtures/cache-versions/pandasN``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from recommender import schema
from recommender.store import Store
from deprecation_marks import DEPRECATIONS_OF_OURS

pytestmark = DEPRECATIONS_OF_OURS

FIXTURES = Path(__file__).parent / "fixtures" / "cache-versions"

EXPECTED = {
    "tracks": {
        "track_id": ["0M7wMmWaB3ZIkGuRFE4457", "1abcdefghijklmnopqrstu", "2abcdefghijklmnopqrstu"],
        "name": ["How", "Déjà vu 東京", None],
        "artist_ids": [["a1"], ["a2", "a3"], []],
        "artist_names": [["The Cranberries"], ["Björk", "宇多田ヒカル"], []],
        "album_id": ["al1", None, "al3"],
        "album_name": ["Everybody Else Is Doing It", "", None],
        "release_date": ["1993", "2001-05", "2019-04-26"],
        "duration_ms": [171000, None, 200000],
        "explicit": [False, True, None],
        "isrc": ["GBAAA9300001", None, "USRC11900001"],
        "popularity": [None, 55, 0],
    },
    "artist_genres": {
        "artist_id": ["a1", "a2", None],
        "mbid": ["m1", None, "m3"],
        "genres": [["rock", "alternative rock"], [], ["j-pop"]],
        "counts": [[3, 1], [], [7]],
        "looked_up": ["2026-01-01T00:00:00+00:00", None, "2026-02-01T00:00:00+00:00"],
        "miss": [False, True, None],
    },
    "audio_features": {
        "track_id": ["0M7wMmWaB3ZIkGuRFE4457", "1abcdefghijklmnopqrstu"],
        "danceability": [0.5, None], "energy": [0.25, 1.0], "key": [1, None], "loudness": [-7.5, -60.0],
        "mode": [0, 1], "speechiness": [0.03, None], "acousticness": [0.0, 0.9], "instrumentalness": [None, 0.1],
        "liveness": [0.1, 0.2], "valence": [0.7, 0.0], "tempo": [120.0, 87.5], "duration_ms": [171000, None],
    },
}


@pytest.mark.parametrize("written_by, pandas_version", [("pandas2", "2.1."), ("pandas3", "3.")])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_cache_frame_written_under_another_pandas_reads_the_same(written_by, pandas_version, name):
    folder = FIXTURES / written_by
    path = folder / f"{name}.parquet"
    assert pq.read_schema(path).pandas_metadata["pandas_version"].startswith(pandas_version)
    store = Store(folder)
    got = store.load_frame(name)
    assert store.problems == []
    pd.testing.assert_frame_equal(got, schema.conform(name, pd.DataFrame(EXPECTED[name])))


@pytest.mark.parametrize("written_by", ["pandas2", "pandas3"])
def test_the_features_of_some_tracks_read_alone_are_those_rows_of_the_whole_frame(written_by):
    """A library reads the audio features of its own tracks alone (``load_frame(only=...)``: the
    file's batches filtered by pyarrow); from a file saved under either pandas, the very rows the
    whole frame's read gives."""
    store = Store(FIXTURES / written_by)
    ids = ["1abcdefghijklmnopqrstu", "2abcdefghijklmnopqrstu"]  # the second has no features
    whole = store.load_frame("audio_features")
    got = store.load_frame("audio_features", only=ids)
    assert store.problems == []
    pd.testing.assert_frame_equal(got, whole[whole["track_id"].isin(ids)].reset_index(drop=True))
