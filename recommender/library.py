"""The Library value object: the cached frames plus id <-> row indexes and matrix builders.

A Library is immutable by convention: methods that "change" it return a new Library.
Rows of every track-oriented matrix follow ``library.track_ids`` (the tracks frame order).
Because it is immutable, derived arrays (id -> row lookups, Arrow views of columns, the
matrices) are built on first use and kept in ``_cache``: callers must not modify them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from . import schema
from .links import PLAYLIST_LINK_RE
from .safetext import unescape_shown, visible


def playlist_ref_id(ref: str) -> str:
    """The playlist id a ``spotify:playlist:`` URI or open.spotify.com link names, else ``ref``."""
    link = PLAYLIST_LINK_RE.match(ref.strip())
    return link.group(1) if link else ref


def playlist_ref(text: str) -> str | None:
    """The playlist id ``text`` gives as an id, a ``spotify:playlist:`` URI or a link (None: a name)."""
    ref = playlist_ref_id(text).strip()
    return ref if re.fullmatch(r"[0-9A-Za-z]{22}", ref) else None


def name_key(name: str) -> str:
    """A playlist name as typed and as stored compare equal: NFKC (an "é" typed as one character
    or as "e" and its accent, full-width "Ａ" and "A"), then case-folded ("STRASSE" and "Straße"),
    the dot of a capital "İ" dropped ("istanbul" and "İstanbul")."""
    import unicodedata
    folded = unicodedata.normalize("NFKC", name).casefold().replace("i\u0307", "i")
    return unicodedata.normalize("NFC", folded)


def loose_name_key(name: str) -> str:
    """``name_key`` without accents and other combining marks ("cafe" and "Café"). Not
    ``normalise_name``, though both fold accents: this finds a playlist *you* named, so its
    punctuation and a leading "The" still count ("Rock" and "Rock!", "Chill" and "The Chill"
    are two playlists a name given must tell apart, not one ambiguous name)."""
    import unicodedata
    return "".join(c for c in unicodedata.normalize("NFD", name_key(name)) if not unicodedata.combining(c))


def normalise_name(name: str) -> str:
    """An artist or track name as the open-data look-ups match it (MusicBrainz credits, labs and
    Spotify search answers, the open-data scorer's similar artists): a loose key, accents and
    case folded, '&' = 'and', punctuation and a leading 'the' dropped ("The Beatles" ==
    "beatles", "Beyoncé" == "BEYONCE"). A name of punctuation only ("!!!", "+/-") keeps its
    characters (spaces dropped): dropping them made every such name "", one artist for the
    matching and none for the ISRC credit. Looser than ``loose_name_key`` (playlist names) on
    purpose: services spell one artist differently ("The Beatles" and "Beatles", "Guns N'
    Roses" and "Guns N Roses"), while two playlists of yours that differ so are two."""
    import unicodedata
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    words = re.findall(r"\w+", text.replace("&", " and "))
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words) if words else "".join(text.split())


# Pseudo-playlists that join the real ones as columns of the track x playlist matrix.
SAVED_COLUMN = "~saved"
TOP_COLUMN_PREFIX = "~top:"


def as_arrow(values) -> pa.Array:
    """A large_string Arrow array from an Index, Series, array, list or set of str.

    Arrow-backed pandas columns (the ``str`` dtype) are taken without a copy of the strings.
    """
    if isinstance(values, (set, frozenset, dict)):
        values = list(values)
    if isinstance(values, (pd.Index, pd.Series)):
        values = values.array
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values
    elif isinstance(values, list):
        arr = pa.array(values, type=pa.large_string(), from_pandas=True)
    else:
        arr = pa.array(values, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    return arr


# pandas' ``isin`` on its Arrow-backed ``str`` dtype builds one Python object per lookup value
# (seconds for 10^5 values; 0.15 to 0.35 s a call on a 22,000-track library's ids), so
# membership goes through pyarrow.compute.is_in instead.
def isin(values, lookup) -> np.ndarray:
    """Bool per element of ``values``: is it in ``lookup`` (nulls never are)."""
    arr = as_arrow(values)
    if len(arr) == 0 or len(lookup) == 0:
        return np.zeros(len(arr), dtype=bool)
    return pc.fill_null(pc.is_in(arr, value_set=as_arrow(lookup)), False).to_numpy(zero_copy_only=False)


def first_of_lists(lists: pa.ListArray) -> pa.Array:
    """First element of each list (null for empty lists)."""
    head = pc.list_slice(lists, 0, 1)
    flat = pc.list_flatten(head)
    take = np.full(len(lists), -1, dtype=np.int64)
    take[pc.list_parent_indices(head).to_numpy(zero_copy_only=False)] = np.arange(len(flat))
    return pc.take(flat, pa.array(take, mask=take < 0))


def as_list_arrow(lists: pd.Series) -> pa.ListArray:
    """A list<large_string> Arrow array from a Series of lists or tuples (None or NaN = empty
    list; a string would be read as its characters: ``schema.conform`` makes every cell a list)."""
    try:
        return pa.array(lists.tolist(), type=pa.list_(pa.large_string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        values = [list(x) if isinstance(x, (list, tuple, np.ndarray)) else [] for x in lists]
        return pa.array(values, type=pa.list_(pa.large_string()))


def list_indicator(lists: pa.ListArray, n_rows: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """rows x tokens binary float32 CSR from an Arrow list array, and the tokens (object
    array, in order of first appearance)."""
    flat = pc.list_flatten(lists)
    if len(flat) == 0:
        return sp.csr_matrix((n_rows, 0), dtype=np.float32), np.array([], dtype=object)
    rows = np.asarray(pc.list_parent_indices(lists).to_numpy(zero_copy_only=False), dtype=np.int64)
    enc = pc.dictionary_encode(flat)
    cols = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    uniques = np.asarray(enc.dictionary.to_pylist(), dtype=object)
    m = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(n_rows, len(uniques)))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m, uniques


# ``Library.derived`` keys (and ``track_lookup``) computed from the tracks frame alone: the rows'
# copies of one recording (``pipeline.dedupe_codes``), the id look-up
FROM_TRACKS = frozenset({("pipeline", "dedupe_codes"), "track_lookup"})


def ranked_artists(top_artists: list[dict], followed: list[dict]) -> list[str]:
    """Top artists by best rank (short term first on ties), then followed artists."""
    order = {t: i for i, t in enumerate(schema.TIME_RANGES)}
    best: dict[str, tuple[int, int]] = {}
    for r in top_artists:
        key = (r["rank"], order[r["time_range"]])
        if r["artist_id"] not in best or key < best[r["artist_id"]]:
            best[r["artist_id"]] = key
    ranked = sorted(best, key=best.__getitem__)
    ranked += [f["artist_id"] for f in followed if f["artist_id"] not in best]
    return ranked


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
        return cls.of_conformed({name: schema.conform(name, df) for name, df in frames.items()}, user_id)

    @classmethod
    def of_conformed(cls, frames: dict[str, pd.DataFrame], user_id: str = "") -> "Library":
        """Build from frames ``schema.conform`` already made (a ``Store``'s reads, which
        ``from_frames`` would conform a second time); missing ones are empty."""
        return cls(frames={name: frames[name] if name in frames else schema.empty_frame(name)
                           for name in schema.FRAMES}, user_id=user_id)

    def __getattr__(self, name: str) -> pd.DataFrame:
        frames = self.__dict__.get("frames")
        if frames is not None and name in frames:
            return frames[name]
        raise AttributeError(name)

    def replace(self, **frames: pd.DataFrame) -> "Library":
        """A new Library with some frames replaced (conformed); one that keeps the tracks frame
        keeps what was derived from that frame alone (``FROM_TRACKS``), not built again."""
        new = dict(self.frames)
        for name, df in frames.items():
            new[name] = schema.conform(name, df)
        out = Library(frames=new, user_id=self.user_id)
        if "tracks" not in frames:
            out._cache.update({k: v for k, v in self._cache.items() if k in FROM_TRACKS})
        return out

    # ----- indexes -------------------------------------------------------------------
    @cached_property
    def track_ids(self) -> pd.Index:
        """Track ids in row order of every track-oriented matrix."""
        return pd.Index(self.frames["tracks"]["track_id"].astype(str), name="track_id")

    def track_rows(self, ids) -> np.ndarray:
        """Row numbers of ``ids`` (unknown ids are dropped)."""
        pos = self.track_positions(ids)
        return pos[pos >= 0]

    def derived(self, key, build):
        """``build()``, once per Library (a Library is immutable): how other modules memoise
        what they derive from it (the pipeline's candidate masks, the artist codes), so that
        evaluating many targets on one library builds each once."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def artist_names(self) -> pd.Series:
        """Artist id -> name: the artists frame's, and for an artist it lacks (only the artists
        of your top lists, playlists' first artists and the followed ones are read whole) the
        name a track of the library credits it by; once per Library."""
        def build() -> pd.Series:
            artists = self.frames["artists"]
            known = dict(zip(artists["artist_id"].astype(str), artists["name"].astype(str)))
            tracks = self.frames["tracks"]
            for ids, names in zip(tracks["artist_ids"], tracks["artist_names"]):
                if ids is None or names is None or len(ids) != len(names):
                    continue
                for a, n in zip(ids, names):
                    if str(a) not in known and n:
                        known[str(a)] = str(n)
            return pd.Series(known, dtype=object, name="name").rename_axis("artist_id")
        return self.derived("artist_names", build)

    def placed_audio_features(self) -> pd.DataFrame:
        """The audio features rows of the library's tracks that have a valence and an energy
        (what the mood commands place on their plane), one per track (the last imported row
        wins), indexed by track id; once per Library: callers must not modify it."""
        def build() -> pd.DataFrame:
            af = self.frames["audio_features"]
            ids = pd.Index(af["track_id"].astype(str).to_numpy(dtype=object), dtype=object, name="track_id")
            keep = ids.isin(pd.Index(self.track_ids.to_numpy(dtype=object), dtype=object)) & ~ids.duplicated(keep="last")
            af = af[keep].set_axis(ids[keep], axis=0)
            return af[af["valence"].notna().to_numpy() & af["energy"].notna().to_numpy()]
        return self.derived("placed_audio_features", build)

    def track_positions(self, ids) -> np.ndarray:
        """Row number of each of ``ids`` (-1 where unknown), same length and order.

        Its hash table is built once per Library, so a call costs only its own ids (the
        Arrow-backed ``track_ids.get_indexer`` re-reads every track id on each call).
        """
        if "track_lookup" not in self._cache:
            self._cache["track_lookup"] = pd.Index(self.track_ids.to_numpy(dtype=object), dtype=object)
        if isinstance(ids, (pd.Index, pd.Series)):
            query = ids.to_numpy(dtype=object)
        else:
            ids = list(ids)
            query = np.empty(len(ids), dtype=object)
            query[:] = ids
        return self._cache["track_lookup"].get_indexer(pd.Index(query, dtype=object))

    def track_ids_arrow(self) -> pa.Array:
        """``track_ids`` as one large_string Arrow array (built once per Library)."""
        if "track_ids_arrow" not in self._cache:
            self._cache["track_ids_arrow"] = as_arrow(self.track_ids)
        return self._cache["track_ids_arrow"]

    def track_codes(self, ids) -> np.ndarray:
        """Row number (int64) of every element of ``ids``, -1 where unknown or null; same length.

        One Arrow hash join, for long id columns (10^5..10^6 ids, e.g. all memberships);
        for a few ids ``track_positions`` is cheaper.
        """
        arr = as_arrow(ids)
        if len(arr) == 0:
            return np.zeros(0, dtype=np.int64)
        pos = pc.index_in(arr, value_set=self.track_ids_arrow(), skip_nulls=True)
        return pc.fill_null(pos, -1).to_numpy(zero_copy_only=False).astype(np.int64)

    # ----- columnar views (built once per Library: it is immutable) -------------------------
    def list_arrow(self, frame: str, column: str) -> pa.ListArray:
        """A list column (e.g. tracks.artist_ids) as an Arrow list<large_string> array."""
        key = ("list_arrow", frame, column)
        if key not in self._cache:
            self._cache[key] = as_list_arrow(self.frames[frame][column])
        return self._cache[key]

    def text_codes(self, frame: str, column: str) -> tuple[np.ndarray, pa.Array]:
        """A string column dictionary-encoded: (int64 code per row, distinct strings in order
        of first appearance); nulls count as ""."""
        key = ("text_codes", frame, column)
        if key not in self._cache:
            enc = pc.dictionary_encode(pc.fill_null(as_arrow(self.frames[frame][column]), ""))
            codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            codes.flags.writeable = False  # shared by every caller
            self._cache[key] = (codes, enc.dictionary)
        return self._cache[key]

    def track_artist_matrix(self) -> tuple[sp.csr_matrix, np.ndarray]:
        """Binary CSR tracks x artists (from ``tracks.artist_ids``) and the artist ids of its
        columns (first appearance order). Built once per Library: treat it as read-only."""
        key = ("track_artist",)
        if key not in self._cache:
            self._cache[key] = list_indicator(self.list_arrow("tracks", "artist_ids"), len(self.frames["tracks"]))
        return self._cache[key]

    @cached_property
    def playlist_ids(self) -> pd.Index:
        return pd.Index(self.frames["playlists"]["playlist_id"].astype(str), name="playlist_id")

    def your_artists(self) -> list[str]:
        """Your artists, best first (``ranked_artists``): your top artists of every time range,
        then the artists you follow. Each is "one of your artists" where a new track's why says
        so (``pipeline._mark_sources``), not only the first ``refresh.discovery_artists`` the
        refresh reads the albums of (``sources.albums``)."""
        top = self.frames["top_artists"]
        return ranked_artists([{"artist_id": str(a), "time_range": str(t), "rank": int(r)}
                               for a, t, r in zip(top["artist_id"], top["time_range"], top["rank"])],
                              [{"artist_id": str(a)} for a in self.frames["followed_artists"]["artist_id"]])

    def playlist_tracks(self, playlist_id: str) -> list[str]:
        """Track ids of one playlist in playlist order (duplicates removed)."""
        items = self.frames["playlist_items"]
        sel = items[items["playlist_id"] == playlist_id].sort_values("position")
        return list(dict.fromkeys(sel["track_id"].astype(str)))

    def unreadable(self) -> set[str]:
        """The playlists whose items Spotify refused to list (``readable`` false; unknown counts
        as readable), once per Library."""
        def build() -> set[str]:
            pl = self.frames["playlists"]
            if "readable" not in pl:
                return set()
            return {str(p) for p, r in zip(pl["playlist_id"], pl["readable"]) if r is not None and not pd.isna(r)
                    and not bool(r)}
        return self.derived("unreadable", build)

    def unreadable_note(self, playlist_id: str) -> str:
        """Why a listed playlist has no tracks here, when Spotify refused to list them ('' else)."""
        if playlist_id not in self.unreadable():
            return ""
        return ("; Spotify does not let this app read its tracks (a personal app reads only the playlists you "
                "own or collaborate on): copy them into a playlist of your own")

    def find_playlist(self, name_or_id: str) -> str | None:
        """Playlist id by exact id (or its ``spotify:playlist:`` URI or open.spotify.com link, as
        Spotify's "Share" copies it), else case-insensitive name (``name_key``: NFC or NFD,
        full- or half-width alike), else the name without its accents (``loose_name_key``); each
        also as the tool shows the name, its invisible characters as ``\\u200b`` escapes
        (``unescape_shown``); UsageError when several
        playlists have that name (naming their ids: the user picks one)."""
        pl = self.frames["playlists"]
        link = PLAYLIST_LINK_RE.match(name_or_id.strip())
        if link and (pl["playlist_id"] == link.group(1)).any():
            return link.group(1)
        if (pl["playlist_id"] == name_or_id).any():
            return name_or_id
        names = pl["name"].fillna("").astype(str)
        # as typed, then as `recommend playlists` shows it ("Crossfit\\u200b" copied from its table)
        typed = list(dict.fromkeys((name_or_id, unescape_shown(name_or_id))))
        hit = []
        for key in (name_key, loose_name_key):  # "Cafe Musik" for "Café Müsik", when no name is spelled that way
            keys = names.map(key)
            for text in typed:
                hit = hit or list(dict.fromkeys(pl.loc[keys == key(text), "playlist_id"].astype(str)))
            if hit:
                break
        if len(hit) > 1:
            from .errors import UsageError
            # each with its name as `recommend playlists` shows it: a name matched loosely may differ
            # (' ' beside a no-break space, which the message showed as the same blank)
            named = dict(zip(pl["playlist_id"].astype(str), names))
            listed = ", ".join(f"{i} ('{visible(named[i])}')" for i in hit)
            raise UsageError(f"{len(hit)} playlists are named '{visible(name_or_id)}': {listed}; give the id of "
                             "the one you mean")
        return hit[0] if hit else None

    # ----- memberships ---------------------------------------------------------------
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
            rows = self.track_codes(pa.chunked_array([as_arrow(t) for t in tid], type=pa.large_string()))
            cols = pa.chunked_array([as_arrow(c) for c in col], type=pa.large_string()).combine_chunks()
            keep = (rows >= 0) & cols.is_valid().to_numpy(zero_copy_only=False)
            # first-appearance order of the kept columns, as pd.factorize gives it
            enc = pc.dictionary_encode(cols.filter(pa.array(keep)))
            codes = enc.indices.to_numpy(zero_copy_only=False)
            # dtype as before: object once the (object) pseudo-columns are mixed in, else str
            columns = pd.Index(enc.dictionary.to_pylist(), dtype=object if extra_sources else str, name="column")
            m = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], codes)),
                              shape=(len(self.track_ids), len(columns)))
            m.sum_duplicates()
            m.data[:] = 1.0
            self._cache[key] = (m, columns)
        return self._cache[key]

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
