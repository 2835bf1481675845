"""Column names and dtypes of every cached frame: the one place they are defined.

Ids are bare Spotify ids (22 base-62 characters), never URIs. List columns (artist ids,
genres) hold Python lists of strings. Nullable columns use pandas' nullable dtypes, so a
field Spotify no longer sends (``popularity``) is ``<NA>``, never a made-up zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SCHEMA_VERSION = 1
OPEN_DATA_FRAMES = ("discovered", "recordings", "similar_artists", "similar_tracks")
# what makes a row of each open-data frame one find (a later find of the same key replaces it)
FOUND_KEYS = {"discovered": ["track_id", "source", "seed_id"], "recordings": ["track_id"],
              "similar_tracks": ["seed_track_id", "track_id"], "similar_artists": ["seed_artist_id", "artist_mbid"]}

LIST = "list"  # marker: object column holding lists of str

FRAMES: dict[str, dict[str, str]] = {
    "tracks": {
        "track_id": "string",
        "name": "string",
        "artist_ids": LIST,
        "artist_names": LIST,
        "album_id": "string",
        "album_name": "string",
        "release_date": "string",  # "YYYY", "YYYY-MM" or "YYYY-MM-DD" as Spotify gives it
        "duration_ms": "Int64",
        "explicit": "boolean",
        "isrc": "string",
        "popularity": "Int64",  # absent for Development Mode apps
    },
    "artists": {
        "artist_id": "string",
        "name": "string",
        "genres": LIST,
        "popularity": "Int64",
    },
    "playlists": {
        "playlist_id": "string",
        "name": "string",
        "description": "string",
        "owner_id": "string",
        "snapshot_id": "string",
        "collaborative": "boolean",
        "owned": "boolean",
        "public": "boolean",
        "total": "Int64",
        "readable": "boolean",  # False when Spotify answered 403 on its items
    },
    "playlist_items": {
        "playlist_id": "string",
        "track_id": "string",
        "position": "Int64",
        "added_at": "string",  # ISO 8601 as Spotify gives it
    },
    "top_tracks": {"track_id": "string", "time_range": "string", "rank": "Int64"},
    "top_artists": {"artist_id": "string", "time_range": "string", "rank": "Int64"},
    "saved_tracks": {"track_id": "string", "added_at": "string"},
    "followed_artists": {"artist_id": "string"},
    # Discovery source: tracks of albums by top/followed artists (not in the user's library).
    "discovery": {"track_id": "string", "album_id": "string", "source_artist_id": "string"},
    # Open-data discovery (recommender/sources/): what ListenBrainz/MusicBrainz said, keyed by
    # Spotify ids where resolved. Written by refresh; read by the open-data scorer.
    # Tracks found by the open-data sources (the albums source keeps the "discovery" frame):
    # source is "similar_artists" or "similar_recordings"; seed_id/seed_name the Spotify id
    # and name of the seed artist or seed track that led to it; score its similarity (0..1).
    "discovered": {"track_id": "string", "source": "string", "seed_id": "string", "seed_name": "string",
                   "score": "Float64"},
    # Spotify track <-> MusicBrainz recording and artist MBIDs, with open listen/user counts.
    "recordings": {"track_id": "string", "recording_mbid": "string", "artist_mbids": LIST,
                   "listen_count": "Int64", "user_count": "Int64"},
    # Seed artist (Spotify id + name) -> similar artist (MBID + name), score 0..1 (1 = the most
    # similar of that seed), rank 1-based.
    "similar_artists": {"seed_artist_id": "string", "seed_artist_name": "string", "artist_mbid": "string",
                        "artist_name": "string", "score": "Float64", "rank": "Int64"},
    # Seed track -> similar track (both Spotify ids), score 0..1 per seed, rank 1-based.
    "similar_tracks": {"seed_track_id": "string", "track_id": "string", "score": "Float64", "rank": "Int64"},
    # Optional: audio features imported from a file or an extended-quota app.
    "audio_features": {
        "track_id": "string",
        "danceability": "Float64",
        "energy": "Float64",
        "key": "Int64",
        "loudness": "Float64",
        "mode": "Int64",
        "speechiness": "Float64",
        "acousticness": "Float64",
        "instrumentalness": "Float64",
        "liveness": "Float64",
        "valence": "Float64",
        "tempo": "Float64",
        "duration_ms": "Int64",
    },
    # Optional: artist genres from an external source (MusicBrainz), with tag counts.
    "artist_genres": {
        "artist_id": "string",
        "mbid": "string",
        "genres": LIST,
        "counts": LIST,
        "looked_up": "string",
        "miss": "boolean",
    },
}

TIME_RANGES = ("short_term", "medium_term", "long_term")
# what an ISRC may carry between its parts ("US-UAN-13-00012", "US UAN 13 00012", a Unicode dash):
# dropped wherever an ISRC is read (enrich.musicbrainz.isrc_code, pipeline.dedupe_codes); the
# dashes are characters in the string (not \x{...} escapes), so Python's re and pyarrow's RE2 read it alike
ISRC_SEPARATORS = "[\\s\\-\u2010-\u2015\u2212]"
AUDIO_COLUMNS = tuple(c for c in FRAMES["audio_features"] if c != "track_id")


def empty_frame(name: str) -> pd.DataFrame:
    """An empty frame with the columns and dtypes of ``name``."""
    cols = FRAMES[name]
    return pd.DataFrame(
        {c: pd.Series([], dtype=object if t == LIST else t) for c, t in cols.items()}
    )


def _as_list(value) -> list:
    """A list from a list, tuple or numpy array (parquet round-trips); [] for anything else."""
    kind = type(value)  # the two usual kinds first: conform runs this for every row of tracks
    if kind is list:
        return value.copy()
    if kind is np.ndarray and value.ndim == 1:
        return value.tolist()
    if isinstance(value, str) or value is None:
        return []
    if hasattr(value, "tolist"):
        value = value.tolist()
    return list(value) if isinstance(value, (list, tuple)) else []


def conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly the columns of ``name``, in order, cast to their dtypes.

    Missing columns are added as nulls (empty lists for list columns); extra columns are
    dropped. Raises ``KeyError`` for an unknown frame name.
    """
    cols = FRAMES[name]
    out = {}
    n = len(df)
    for c, t in cols.items():
        if c in df.columns:
            s = df[c]
        else:
            s = pd.Series([None] * n, index=df.index, dtype=object)
        if t == LIST:
            out[c] = pd.Series([_as_list(v) for v in s], index=df.index, dtype=object)
        else:
            out[c] = s.astype(t)
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)
