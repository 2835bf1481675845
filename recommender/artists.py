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
