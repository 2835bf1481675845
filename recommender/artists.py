"""Which tracks count as by the same artist: the one key every per-artist rule uses.

A track's artist key is its first credited artist: ``id:<artist id>`` when the track has
artist ids, else ``name:<folded first name>`` (``searchindex.fold``: case, accents and
punctuation do not count, so "Beyoncé", "BEYONCE" and "Beyonce!" are one artist), else None.
Used by the playlist's ``blend.max_per_artist`` (pipeline), ``recommend similar``'s
``--same-artist`` cap (explore) and the mood classifier's same-artist features (moods).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from .searchindex import fold


def _first(values: Any) -> Any:
    """The first item of a non-empty list, tuple or array (a frame cell), else None."""
    if values is None or isinstance(values, (str, bytes, float)):  # None / NaN (a reindexed gap)
        return None
    try:
        return values[0] if len(values) else None
    except TypeError:
        return None


def artist_key(artist_ids: Any, artist_names: Any) -> str | None:
    """The key of a track's first credited artist from its ``artist_ids`` and ``artist_names``
    cells (see the module doc); None when the track names no artist at all."""
    first_id = _first(artist_ids)
    if first_id is not None and str(first_id):
        return "id:" + str(first_id)
    name = _first(artist_names)
    if name is None:
        return None
    folded = fold(str(name)) or str(name).strip().casefold()  # "!!!" folds to nothing: keep its marks
    return "name:" + folded if folded else None


def first_artist_keys(library, track_ids: Sequence[str]) -> list[str | None]:
    """``artist_key`` of each of ``track_ids`` (None for an id the library does not have)."""
    t = library.frames["tracks"].drop_duplicates("track_id")
    t = t.set_index(t["track_id"].astype(str)).reindex([str(i) for i in track_ids])
    return [artist_key(ids, names) for ids, names in zip(t["artist_ids"], t["artist_names"])]


def artist_codes(library) -> np.ndarray:
    """An integer code per track row of ``library`` for its ``artist_key`` (-1: no artist),
    built once per Library (the blend's artist mix reads it for every target). The first
    artist ids are read column-wise; only rows without one go through ``artist_key``."""
    return library.derived("artist_codes", lambda: _artist_codes(library))


def _artist_codes(library) -> np.ndarray:
    from .library import first_of_lists  # lazy: library imports nothing from here
    first = first_of_lists(library.list_arrow("tracks", "artist_ids"))
    has_id = pc.fill_null(pc.not_equal(first, ""), False).to_numpy(zero_copy_only=False)
    enc = pc.dictionary_encode(first)
    codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    codes[~has_id] = -1
    rest = np.flatnonzero(~has_id)  # no artist id: the folded first name (``artist_key``)
    if len(rest):
        names = library.tracks["artist_names"].to_numpy(dtype=object)
        by_name, _ = pd.factorize(pd.Series([artist_key(None, names[r]) for r in rest], dtype=object),
                                  use_na_sentinel=True)
        codes[rest] = np.where(by_name >= 0, by_name + len(enc.dictionary), -1)
    return codes


def seed_share(library, seeds) -> np.ndarray:
    """Each artist code's (``artist_codes``) share of the weight of ``seeds`` (track id ->
    weight; ids the library lacks count in the total only)."""
    from .blend import seed_artist_share  # lazy: blend imports nothing from here
    codes = artist_codes(library)
    rows = library.track_positions(seeds.index)
    seed_codes = np.where(rows >= 0, codes[np.maximum(rows, 0)], -1) if len(codes) else np.full(len(rows), -1)
    return seed_artist_share(seed_codes, seeds.to_numpy(dtype=float), int(codes.max(initial=-1)) + 1)


def mix_inputs(library, rows: np.ndarray, seeds) -> tuple[np.ndarray, np.ndarray]:
    """What ``blend.ArtistMix`` needs for one ranking over ``library``: the artist code of each
    candidate (``rows``: their track rows) and each code's share of ``seeds``."""
    return artist_codes(library)[rows], seed_share(library, seeds)
