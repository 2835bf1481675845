"""The Library value object: the cached frames plus id <-> row indexes and matrix builders.

A Library is immutable by convention: methods that "change" it return a new Library.
Rows of every track-oriented matrix follow ``library.track_ids`` (the tracks frame order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import schema

# Pseudo-playlists that join the real ones as columns of the track x playlist matrix.
SAVED_COLUMN = "~saved"
TOP_COLUMN_PREFIX = "~top:"


@dataclass(frozen=True, eq=False)
class Library:
    """All frames of one account (or one imported dataset)."""

    frames: dict[str, pd.DataFrame]
    user_id: str = ""
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_frames(cls, user_id: str = "", **frames: pd.DataFrame) -> "Library":
        """Build from any subset of frames; missing ones are empty, all are conformed."""
        unknown = set(frames) - set(schema.FRAMES)
        if unknown:
            raise KeyError(f"unknown frame(s): {sorted(unknown)}")
        full = {
            name: schema.conform(name, frames[name]) if name in frames else schema.empty_frame(name)
            for name in schema.FRAMES
        }
        return cls(frames=full, user_id=user_id)

    def __getattr__(self, name: str) -> pd.DataFrame:
        frames = self.__dict__.get("frames")
        if frames is not None and name in frames:
            return frames[name]
        raise AttributeError(name)

    def replace(self, **frames: pd.DataFrame) -> "Library":
        """A new Library with some frames replaced (conformed)."""
        new = dict(self.frames)
        for name, df in frames.items():
            new[name] = schema.conform(name, df)
        return Library(frames=new, user_id=self.user_id)

    # ----- indexes -------------------------------------------------------------------
    @cached_property
    def track_ids(self) -> pd.Index:
        """Track ids in row order of every track-oriented matrix."""
        return pd.Index(self.frames["tracks"]["track_id"].astype(str), name="track_id")

    def track_rows(self, ids) -> np.ndarray:
        """Row numbers of ``ids`` (unknown ids are dropped)."""
        pos = self.track_ids.get_indexer(pd.Index(list(ids), dtype=object))
        return pos[pos >= 0]

    @cached_property
    def playlist_ids(self) -> pd.Index:
        return pd.Index(self.frames["playlists"]["playlist_id"].astype(str), name="playlist_id")

    def playlist_tracks(self, playlist_id: str) -> list[str]:
        """Track ids of one playlist in playlist order (duplicates removed)."""
        items = self.frames["playlist_items"]
        sel = items[items["playlist_id"] == playlist_id].sort_values("position")
        return list(dict.fromkeys(sel["track_id"].astype(str)))

    def find_playlist(self, name_or_id: str) -> str | None:
        """Playlist id by exact id, else case-insensitive name (first match)."""
        pl = self.frames["playlists"]
        if (pl["playlist_id"] == name_or_id).any():
            return name_or_id
        hit = pl[pl["name"].str.casefold() == name_or_id.casefold()]
        return None if hit.empty else str(hit["playlist_id"].iloc[0])

    # ----- memberships ---------------------------------------------------------------
    def memberships(self, extra_sources: bool = True) -> pd.DataFrame:
        """(track_id, column) pairs: playlist items plus, optionally, saved and top lists
        as pseudo-playlists. Unique pairs, only tracks present in the tracks frame."""
        parts = [self.frames["playlist_items"][["track_id", "playlist_id"]].rename(columns={"playlist_id": "column"})]
        if extra_sources:
            saved = self.frames["saved_tracks"]
            parts.append(pd.DataFrame({"track_id": saved["track_id"], "column": SAVED_COLUMN}))
            top = self.frames["top_tracks"]
            parts.append(pd.DataFrame({"track_id": top["track_id"], "column": TOP_COLUMN_PREFIX + top["time_range"].astype(str)}))
        pairs = pd.concat(parts, ignore_index=True).astype({"track_id": str, "column": str}).drop_duplicates()
        return pairs[pairs["track_id"].isin(self.track_ids)]

    def track_playlist_matrix(self, extra_sources: bool = True) -> tuple[sp.csr_matrix, pd.Index]:
        """Binary CSR matrix, tracks x columns (playlists, then pseudo-playlists).

        Returns the matrix and the column index. Rows follow ``track_ids``; memberships of
        tracks missing from the tracks frame are dropped. Built from integer codes only
        (no string de-duplication), once per Library and ``extra_sources``.
        """
        key = ("track_playlist", extra_sources)
        if key not in self._cache:
            f = self.frames
            tid = [f["playlist_items"]["track_id"]]
            col = [f["playlist_items"]["playlist_id"].astype(str)]
            if extra_sources:
                tid += [f["saved_tracks"]["track_id"], f["top_tracks"]["track_id"]]
                col += [pd.Series(SAVED_COLUMN, index=f["saved_tracks"].index, dtype=object),
                        TOP_COLUMN_PREFIX + f["top_tracks"]["time_range"].astype(str)]
            tids = pd.concat(tid, ignore_index=True)
            cols = pd.concat(col, ignore_index=True)
            rows = self.track_ids.get_indexer(tids)
            keep = rows >= 0
            codes, columns = pd.factorize(cols[keep])
            m = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], codes)),
                              shape=(len(self.track_ids), len(columns)))
            m.sum_duplicates()
            m.data[:] = 1.0
            self._cache[key] = (m, pd.Index(columns, name="column"))
        return self._cache[key]

    def in_library_ids(self) -> set[str]:
        """Tracks in any of the user's playlists or saved."""
        return set(self.frames["playlist_items"]["track_id"].astype(str)) | set(
            self.frames["saved_tracks"]["track_id"].astype(str)
        )

    def without_memberships(self, hidden: pd.DataFrame) -> "Library":
        """A Library in which the (playlist_id, track_id) pairs of ``hidden`` are removed
        from playlist_items (evaluation: hidden tracks must be invisible to every scorer)."""
        items = self.frames["playlist_items"]
        key = items["playlist_id"].astype(str) + "\x00" + items["track_id"].astype(str)
        hkey = set(hidden["playlist_id"].astype(str) + "\x00" + hidden["track_id"].astype(str))
        return self.replace(playlist_items=items[~key.isin(hkey)])

    def artist_genres(self) -> pd.Series:
        """artist_id -> list of genres: Spotify's when present, else the enrichment source's."""
        art = self.frames["artists"]
        g = pd.Series(list(art["genres"]), index=art["artist_id"].astype(str), dtype=object)
        ext = self.frames["artist_genres"]
        if len(ext):
            eg = pd.Series(list(ext["genres"]), index=ext["artist_id"].astype(str), dtype=object)
            eg = eg[~eg.index.duplicated(keep="last")]
            g = g[~g.index.duplicated(keep="last")]
            missing = [a for a in eg.index if a not in g.index or not g.get(a)]
            g = pd.concat([g[[a for a in g.index if a not in set(missing)]], eg[missing]])
        return g
