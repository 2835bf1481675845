"""A local ListenBrainz + labs stand-in, computed from a "world" of other people's playlists.

ListenBrainz computes similar artists, similar recordings and popularity from millions of
people's listens. This stand-in computes them from a world: a set of playlists (playlist id
-> tracks with id, name, artist, album), exactly as ``benchmark/PERSONA.md`` defines its
open-data service, and speaks the contract of ``LISTENBRAINZ.md`` over real HTTP:

- similar artists: cosine over the binary artist x playlist matrix of the world, the top 100
  other artists with score > 0; similar recordings: cosine over the binary track x playlist
  matrix, the top 50 other tracks with score > 0. Cosines are rounded to 12 decimals, ties
  break by the other artist's name or the track id (ascending). Answers carry
  ``score = round(cosine * 1e6)`` (labs scores are integers) in that order, plus the exact
  ``cosine`` as an extra field (clients ignore unknown fields).
- popularity: the number of world playlists holding a recording (``total_user_count``;
  ``total_listen_count`` is ten times that); top recordings of an artist: the artist's tracks
  (world and catalogue) by that popularity, then track id.
- ids: recording MBID = uuid5 of ``"recording:<spotify track id>"``, artist MBID = uuid5 of
  ``"artist:<artist name>"`` (one artist per track: the world's artist key is the exact
  artist string). ``spotify-id-from-mbid`` leaves out about one recording in five
  (``unresolvable_share``, chosen by sha1 of the track id), like the real mapping.

Endpoints (``api_url`` = ``http://127.0.0.1:PORT/1``, ``labs_url`` = ``http://127.0.0.1:PORT/labs``):
``GET {labs}/similar-artists/json`` (400 for an unknown algorithm), ``POST
{labs}/similar-recordings/json``, ``POST {labs}/spotify-id-from-mbid/json``, ``POST
{labs}/recording-mbid-lookup/json`` (``canonical``: recordings it maps to another), ``GET
{api}/popularity/top-recordings-for-artist/{mbid}``, ``POST {api}/popularity/recording``,
``GET {api}/lb-radio/artist/{mbid}`` (400 without its mode, max_similar_artists,
max_recordings_per_artist, pop_begin and pop_end). API answers carry ``X-RateLimit-*`` headers.

Faults (``fail``): a status (429 with ``X-RateLimit-Reset-In``, 503...), a delay, a malformed
body, for a number of requests matching a path regex; ``stop()`` makes it "down". ``merged``
(MBID -> the MBID it was merged into) answers the similar-artists, similar-recordings and
top-recordings rows of a merged MBID under its new one, as the services do. ``spotify_ids``
(track id -> ids) makes the mapping list several Spotify ids for a recording. ``seen``
lists every request (method, path) received, ``agents`` the User-Agent of each (ListenBrainz
asks since August 2026 for ``name/version ( contact )`` and blocks addresses it cannot tell
from scrapers).

Build one from a frame with the CSV's column names (``OpenDataWorld.from_frame(memberships,
catalogue)``); the demo's comes from ``recommender/data/sample_world.json.gz``
(``sample_world``).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import pickle
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import UsageError
from .server import ServedStandIn, cannot_listen

WORLD_FORMAT = "recommend-open-data-world/1"
SAMPLE_WORLD = "sample_world.json.gz"
NAMESPACE = uuid.UUID("6f1e2c1a-9b7d-4c1e-8a3b-52d9c0f1e7a4")  # fixed: MBIDs are stable
SIMILAR_ARTISTS_ALGORITHM = ("session_based_days_7500_session_300_contribution_5_threshold_10_limit_100_"
                             "filter_True_skip_30")
SIMILAR_RECORDINGS_ALGORITHM = ("session_based_days_7500_session_300_contribution_5_threshold_15_limit_50_"
                                "skip_30_top_n_listeners_1000")
MAX_SIMILAR_ARTISTS = 100
LOCKED = ("/1/popularity/top-recordings-for-artist/",)  # the API paths that want a user token
MAX_SIMILAR_RECORDINGS = 50
LISTENS_PER_PLAYLIST = 10
SCORE_SCALE = 1_000_000
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def synthetic_isrc(name: str, artist: str) -> str:
    """``ZZ`` + 10 base-36 digits of sha1(casefold(name) | casefold(artist)): re-releases of
    one song share it (the sample data has no real ISRCs)."""
    n = int(hashlib.sha1(f"{name.casefold().strip()}|{artist.casefold().strip()}".encode()).hexdigest(), 16)
    n %= 36**10
    out = ""
    for _ in range(10):
        n, r = divmod(n, 36)
        out = _BASE36[r] + out
    return "ZZ" + out


def recording_mbid(track_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"recording:{track_id}"))


def artist_mbid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"artist:{name}"))


def string_ranks(values: list[str]):
    """Rank of every value in Python's string order (the values are distinct): the tie-break
    order of the open-data lists, as an integer array."""
    import numpy as np
    out = np.empty(len(values), dtype=np.int64)
    out[sorted(range(len(values)), key=values.__getitem__)] = np.arange(len(values))
    return out


def top_cosines(others, co, norms, i: int, k: int, order) -> list[tuple[int, float]]:
    """The open-data similarity list of row ``i`` (PERSONA.md): from its co-occurrence counts
    ``co`` with rows ``others`` in a binary membership matrix whose row norms are ``norms``,
    cosine = co / (norm_other * norm_i) rounded to 12 decimals, > 0, ``i`` itself left out,
    the best ``k`` first, ties by ``order`` (``string_ranks`` of the names or ids).
    (row, cosine) pairs. Shared by this stand-in and the persona benchmark's ``Service``."""
    import numpy as np
    others, co = np.asarray(others, dtype=np.int64), np.asarray(co, dtype=np.float64)
    ok = (others != i) & (co > 0)
    others = others[ok]
    if not len(others) or norms[i] == 0:
        return []
    cos = np.round(co[ok] / (norms[others] * norms[i]), 12)
    keep = cos > 0
    others, cos = others[keep], cos[keep]
    best = np.lexsort((order[others], -cos))[:k]
    return [(int(others[j]), float(cos[j])) for j in best]


def by_popularity(rows, popularity, order) -> list[int]:
    """``rows`` most popular first, ties by ``order`` (an artist's top recordings)."""
    import numpy as np
    rows = np.asarray(rows, dtype=np.int64)
    return [int(r) for r in rows[np.lexsort((order[rows], -np.asarray(popularity)[rows]))]]


def _unresolvable(track_id: str, share: float) -> bool:
    return int(hashlib.sha1(f"unresolvable:{track_id}".encode()).hexdigest(), 16) % 1000 < share * 1000


class OpenDataWorld:
    """The open data of one world, computed on demand from sparse matrices (answers memoised).

    ``memberships``: one row per (playlist, track) with columns ``playlist_id``, ``track_id``,
    ``track_name``, ``track_artist`` and optionally ``track_album_name``, ``isrc``,
    ``duration_ms``. ``catalogue``: optional extra tracks (same columns, no playlist) that
    exist but are in no world playlist (popularity 0). Rows without an artist have none.
    ``genres``: optional artist name -> genre names, most fitting first: the MusicBrainz view's
    artist pages (``artist_page``) carry them as genres and tags.
    """

    def __init__(self, memberships, catalogue=None, unresolvable_share: float = 0.2,
                 genres: dict[str, list[str]] | None = None) -> None:
        import numpy as np
        import pandas as pd
        import scipy.sparse as sp
        cols = ["track_id", "track_name", "track_artist", "track_album_name", "isrc", "duration_ms"]
        m = memberships.copy()
        for c in cols:
            if c not in m.columns:
                m[c] = None
        frames = [m[cols]]
        if catalogue is not None and len(catalogue):
            c2 = catalogue.copy()
            for c in cols:
                if c not in c2.columns:
                    c2[c] = None
            frames.append(c2[cols])
        tracks = pd.concat(frames, ignore_index=True).drop_duplicates("track_id").reset_index(drop=True)
        tracks["track_id"] = tracks["track_id"].astype(str)
        self.unresolvable_share = unresolvable_share
        self.genres = {str(a): [str(g) for g in gs if g] for a, gs in (genres or {}).items()}
        self.track_ids = tracks["track_id"].tolist()
        self.t_index = {t: i for i, t in enumerate(self.track_ids)}
        self.names = [str(x) if x is not None and x == x else "" for x in tracks["track_name"]]
        self.artist_of = [str(x) if isinstance(x, str) and x else None for x in tracks["track_artist"]]
        self.albums = [str(x) if isinstance(x, str) else "" for x in tracks["track_album_name"]]
        self.isrcs = [str(x) if isinstance(x, str) and x else None for x in tracks["isrc"]]
        self.lengths = [int(x) if x is not None and x == x else None for x in tracks["duration_ms"]]
        self.recording_mbids = [recording_mbid(t) for t in self.track_ids]
        self.by_recording = {mb: i for i, mb in enumerate(self.recording_mbids)}
        self.artists = sorted({a for a in self.artist_of if a})
        self.a_index = {a: i for i, a in enumerate(self.artists)}
        self.artist_mbids = [artist_mbid(a) for a in self.artists]
        self.by_artist_mbid = {mb: i for i, mb in enumerate(self.artist_mbids)}
        pl = memberships[["playlist_id", "track_id"]].drop_duplicates()
        pcodes, _ = pd.factorize(pl["playlist_id"].astype(str))
        rows = np.array([self.t_index[str(t)] for t in pl["track_id"]], dtype=np.int64)
        n_t, n_p = len(self.track_ids), int(pcodes.max()) + 1 if len(pcodes) else 0
        tp = sp.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, pcodes)), shape=(n_t, n_p))
        tp.data[:] = 1.0
        a_of_t = np.array([self.a_index[a] if a else -1 for a in self.artist_of], dtype=np.int64)
        has = a_of_t >= 0
        ta = sp.csr_matrix((np.ones(int(has.sum())), (np.flatnonzero(has), a_of_t[has])), shape=(n_t, len(self.artists)))
        ap = (ta.T @ tp).tocsr()
        ap.data[:] = 1.0
        self.tp, self.ap, self.ta = tp, ap, ta.tocsc()
        self.tp_t, self.ap_t = tp.T.tocsr(), ap.T.tocsr()
        self.t_norm = np.sqrt(np.asarray(tp.sum(axis=1)).ravel())
        self.a_norm = np.sqrt(np.asarray(ap.sum(axis=1)).ravel())
        self.popularity = np.asarray(tp.sum(axis=1)).ravel().astype(int)
        self.t_order = string_ranks(self.track_ids)  # tie-breaks; the artists are sorted already
        self.a_order = np.arange(len(self.artists), dtype=np.int64)
        self._memo: dict[tuple[str, int], list[tuple[int, float]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_frame(cls, memberships, catalogue=None, unresolvable_share: float = 0.2,
                   genres: dict[str, list[str]] | None = None) -> "OpenDataWorld":
        return cls(memberships, catalogue, unresolvable_share, genres)

    # ----- similarity ------------------------------------------------------------------
    def _similar(self, kind: str, i: int) -> list[tuple[int, float]]:
        key = (kind, i)
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        if kind == "artist":
            m, mt, norm, order, limit = self.ap, self.ap_t, self.a_norm, self.a_order, MAX_SIMILAR_ARTISTS
        else:
            m, mt, norm, order, limit = self.tp, self.tp_t, self.t_norm, self.t_order, MAX_SIMILAR_RECORDINGS
        co = (m @ mt[:, i]).tocoo()  # co-memberships with every other row
        out = top_cosines(co.row, co.data, norm, i, limit, order)
        with self._lock:
            self._memo[key] = out
        return out

    def similar_artists(self, mbid: str) -> list[dict[str, Any]]:
        i = self.by_artist_mbid.get(mbid)
        if i is None:
            return []
        return [{"artist_mbid": self.artist_mbids[o], "name": self.artists[o], "comment": "", "type": "Group",
                 "gender": None, "score": int(round(c * SCORE_SCALE)), "cosine": c, "reference_mbid": mbid}
                for o, c in self._similar("artist", i)]

    def similar_recordings(self, mbid: str) -> list[dict[str, Any]]:
        i = self.by_recording.get(mbid)
        if i is None:
            return []
        out = []
        for o, c in self._similar("track", i):
            a = self.artist_of[o]
            out.append({"recording_mbid": self.recording_mbids[o], "recording_name": self.names[o],
                        "artist_credit_name": a or "", "artist_credit_mbids": [artist_mbid(a)] if a else [],
                        "release_name": self.albums[o], "release_mbid": None,
                        "score": int(round(c * SCORE_SCALE)), "cosine": c, "reference_mbid": mbid})
        return out

    # ----- popularity and ids ----------------------------------------------------------
    def _recording_row(self, i: int) -> dict[str, Any]:
        a = self.artist_of[i]
        n = int(self.popularity[i])
        return {"recording_mbid": self.recording_mbids[i], "recording_name": self.names[i],
                "artist_name": a or "", "artist_mbids": [artist_mbid(a)] if a else [], "release_mbid": None,
                "release_name": self.albums[i], "length": self.lengths[i],
                "total_listen_count": n * LISTENS_PER_PLAYLIST, "total_user_count": n}

    def top_recordings(self, mbid: str) -> list[dict[str, Any]]:
        j = self.by_artist_mbid.get(mbid)
        if j is None:
            return []
        return [self._recording_row(r) for r in by_popularity(self.ta[:, j].nonzero()[0], self.popularity, self.t_order)]

    def popularity_of(self, mbids: list[str]) -> list[dict[str, Any]]:
        out = []
        for mb in mbids:
            i = self.by_recording.get(mb)
            n = None if i is None else int(self.popularity[i])
            out.append({"recording_mbid": mb, "total_listen_count": None if n is None else n * LISTENS_PER_PLAYLIST,
                        "total_user_count": n})
        return out

    def spotify_ids(self, mbids: list[str]) -> list[dict[str, Any]]:
        out = []
        for mb in mbids:
            i = self.by_recording.get(mb)
            if i is None or _unresolvable(self.track_ids[i], self.unresolvable_share):
                continue  # left out, like the real mapping
            out.append({"recording_mbid": mb, "artist_name": self.artist_of[i] or "", "release_name": self.albums[i],
                        "track_name": self.names[i], "spotify_track_ids": [self.track_ids[i]]})
        return out

    def radio(self, mbid: str, n_artists: int, n_recordings: int) -> dict[str, list[dict[str, Any]]]:
        """``lb-radio/artist`` (mode and popularity range ignored): the seed artist and its
        ``n_artists`` most similar artists, each with its ``n_recordings`` most popular
        recordings, keyed by artist MBID in that order. The live service picks its artists at
        random within similarity-rank bins, its recordings at random within the popularity
        range, and promises no order; this stand-in is deterministic."""
        j = self.by_artist_mbid.get(mbid)
        if j is None:
            return {}
        out: dict[str, list[dict[str, Any]]] = {}
        for k, _ in [(j, 1.0)] + self._similar("artist", j)[:n_artists]:
            rows = self.top_recordings(self.artist_mbids[k])[:n_recordings]
            if not rows:
                continue  # like the service: an artist without recordings is not listed
            out[self.artist_mbids[k]] = [{"recording_mbid": r["recording_mbid"],
                                          "similar_artist_mbid": self.artist_mbids[k],
                                          "similar_artist_name": self.artists[k],
                                          "total_listen_count": r["total_listen_count"]} for r in rows]
        return out

    # ----- MusicBrainz view ------------------------------------------------------------
    def isrc_lookup(self, isrc: str) -> dict[str, Any] | None:
        """``/isrc/{isrc}?inc=artist-credits`` as MusicBrainz would answer it, None if unknown."""
        if not hasattr(self, "_by_isrc"):
            by: dict[str, list[int]] = {}
            for i, code in enumerate(self.isrcs):
                if code:
                    by.setdefault(code.upper(), []).append(i)
            self._by_isrc = by
        rows = self._by_isrc.get(isrc.upper())
        if not rows:
            return None
        recs = []
        for i in rows:
            a = self.artist_of[i]
            credit = [{"name": a, "joinphrase": "", "artist": {"id": artist_mbid(a), "name": a, "sort-name": a}}] if a else []
            recs.append({"id": self.recording_mbids[i], "title": self.names[i], "length": self.lengths[i],
                         "artist-credit": credit})
        return {"isrc": isrc.upper(), "recordings": recs}

    def artist_page(self, mbid: str) -> dict[str, Any] | None:
        """``/artist/{mbid}?inc=genres+tags`` as MusicBrainz would answer it, None if unknown.
        The artist's ``genres`` (most fitting first) are its genres and tags, with votes by
        rank: the first has as many votes as the artist has genres, the last one."""
        j = self.by_artist_mbid.get(mbid)
        if j is None:
            return None
        name = self.artists[j]
        names = list(dict.fromkeys(self.genres.get(name, [])))
        votes = [(g, len(names) - k) for k, g in enumerate(names)]
        return {"id": mbid, "name": name, "sort-name": name, "type": None, "disambiguation": "",
                "genres": [{"id": str(uuid.uuid5(NAMESPACE, f"genre:{g}")), "name": g, "count": n,
                            "disambiguation": ""} for g, n in votes],
                "tags": [{"name": g, "count": n} for g, n in votes]}


# ----- the sample's world ------------------------------------------------------------------
def sample_world_data() -> dict[str, Any]:
    raw = (resources.files("recommender") / "data" / SAMPLE_WORLD).read_bytes()
    data = json.loads(gzip.decompress(raw).decode("utf-8"))
    if data.get("format") != WORLD_FORMAT:
        raise ValueError(f"{SAMPLE_WORLD}: unknown format {data.get('format')!r}")
    return data


def sample_world(account) -> tuple[OpenDataWorld, dict[str, dict], dict[str, dict], dict[str, dict]]:
    """The demo's world, from ``sample_world.json.gz`` and the sample ``Account``.

    Returns (world, artists, albums, tracks): the last three are the world-only catalogue
    entries in the stand-in Account's dict shapes, to add to the Spotify stand-in so that
    single-track look-ups and search find them (``extend_account``). The world's artist
    genres (the MusicBrainz stand-in's artist pages) are the Account's artist genres, which
    the Spotify stand-in serves only in extended mode.
    """
    import pandas as pd

    from .spotify import base62_id
    data = sample_world_data()
    names = data["artists"]
    artists = {base62_id(n): {"name": n} for n in names}
    albums: dict[str, dict] = {}
    for k, (name, date, a) in enumerate(data["albums"]):
        albums[base62_id(f"world-album:{k}")] = {"name": name, "release_date": date,
                                                 "artist_ids": [base62_id(names[a])], "album_type": "album"}
    album_ids = list(albums)
    rows, tracks = [], {}
    for k, t in enumerate(data["tracks"]):
        if isinstance(t, str):
            known = account.tracks.get(t)
            if known is None:
                rows.append(None)
                continue
            artist = account.artists.get((known.get("artist_ids") or [""])[0], {}).get("name")
            album = account.albums.get(known.get("album_id"), {}).get("name", "")
            rows.append({"track_id": t, "track_name": known["name"], "track_artist": artist,
                         "track_album_name": album, "isrc": known.get("isrc"), "duration_ms": known.get("duration_ms")})
            continue
        name, a, al, ms = t
        tid = base62_id(f"world-track:{k}")
        code = synthetic_isrc(name, names[a])
        tracks[tid] = {"name": name, "artist_ids": [base62_id(names[a])], "album_id": album_ids[al],
                       "duration_ms": ms, "explicit": False, "isrc": code, "track_number": 1}
        rows.append({"track_id": tid, "track_name": name, "track_artist": names[a],
                     "track_album_name": data["albums"][al][0], "isrc": code, "duration_ms": ms})
    members = [dict(rows[i], playlist_id=pid) for pid, idx in data["playlists"].items() for i in idx
               if rows[i] is not None]
    catalogue = []
    genres = {a["name"]: list(a.get("genres") or []) for a in account.artists.values() if a.get("name")}
    for tid, t in account.tracks.items():  # the account's catalogue: popularity 0 unless in the world
        artist = account.artists.get((t.get("artist_ids") or [""])[0], {}).get("name")
        catalogue.append({"track_id": tid, "track_name": t["name"], "track_artist": artist,
                          "track_album_name": account.albums.get(t.get("album_id"), {}).get("name", ""),
                          "isrc": t.get("isrc"), "duration_ms": t.get("duration_ms")})
    world = OpenDataWorld(pd.DataFrame(members), pd.DataFrame(catalogue), genres=genres)
    return world, artists, albums, tracks


def extend_account(account, artists: dict, albums: dict, tracks: dict) -> None:
    """Add world-only catalogue entries to a stand-in Account (existing entries are kept)."""
    for aid, a in artists.items():
        account.artists.setdefault(aid, a)
    for alid, al in albums.items():
        account.albums.setdefault(alid, al)
    for tid, t in tracks.items():
        account.tracks.setdefault(tid, t)


@functools.lru_cache(maxsize=1)
def _the_sample_world() -> tuple:
    """(world, (artists, albums, tracks)) of ``sample_world`` for the sample Account, made once a
    process: every demo run (a test suite makes hundreds, the web demo one a reload) built it
    again from the same packaged files. The world is read, never written, by the stand-ins; the
    catalogue is copied by the caller."""
    from .spotify import Account
    world, *catalogue = sample_world(Account.sample(features=False))
    return world, tuple(catalogue)


@contextmanager
def open_data_standins(lb_port: int = 0, mb_port: int = 0):
    """Start the ListenBrainz and MusicBrainz stand-ins on the sample's world; yields
    (listenbrainz, musicbrainz, prepare) where ``prepare(account)`` adds the world's
    catalogue to a Spotify stand-in Account."""
    from .musicbrainz import MusicBrainzStandIn
    world, catalogue = _the_sample_world()
    # an Account's own entries: a run may change them (a track made unplayable); a pickle's
    # round trip is deepcopy's copy of these plain dicts in a third of its time
    catalogue = pickle.loads(pickle.dumps(catalogue, pickle.HIGHEST_PROTOCOL))
    with ExitStack() as stack:
        try:
            lb = stack.enter_context(ListenBrainzStandIn(world, port=lb_port))
            mb = stack.enter_context(MusicBrainzStandIn(world=world, port=mb_port))
        except UsageError as err:  # the message names both ports, as `recommend standin --port` sets both
            raise cannot_listen(f"127.0.0.1:{lb_port}/{mb_port}", err.__cause__) from err.__cause__
        yield lb, mb, lambda account: extend_account(account, *catalogue)


# ----- the server ----------------------------------------------------------------------------
@dataclass
class Failure:
    """An injected failure for requests whose path contains ``path`` (all when "")."""

    status: int | None = 503
    times: int = 1
    path: str = ""
    retry_after: float | None = None  # Retry-After header
    reset_in: float | None = None  # X-RateLimit-Reset-In header (with 429)
    delay: float = 0.0  # seconds before answering
    malformed: bool = False  # 200 with a body that is not JSON
    hits: int = field(default=0, compare=False)


class ListenBrainzStandIn(ServedStandIn):
    """Serve one OpenDataWorld; ``start``/``stop`` or a context manager."""

    label = "ListenBrainz stand-in"

    def __init__(self, world: OpenDataWorld, host: str = "127.0.0.1", port: int = 0,
                 rate_limit: int = 1000, rate_window: float = 10.0, token: str | None = None,
                 unordered: bool = False, merged: dict[str, str] | None = None,
                 spotify_ids: dict[str, list[str]] | None = None, canonical: dict[str, str] | None = None) -> None:
        self.world = world
        # recordings ListenBrainz maps to another, canonical recording (one per artist credit and
        # title: listenbrainz-server mbid_mapping canonical_musicbrainz_data.py): MBID -> canonical
        # MBID. Labs knows their similarity under the canonical one only; ``recording-mbid-lookup``
        # answers it (db/recording.py load_recordings_from_mbids_with_redirects)
        self.canonical = dict(canonical or {})
        # the id mapping lists further Spotify ids of a recording (its other releases):
        # Spotify track id of the world -> the ids ``spotify-id-from-mbid`` lists instead, in order
        self.spotify_ids = dict(spotify_ids or {})
        # MusicBrainz merges: artist or recording MBID -> the MBID it now redirects to. Labs
        # answers a similar MBID that was merged under its new MBID and name, with the old one's
        # score and reference_mbid null (listenbrainz-server db/similarity.py get_artists,
        # get_recordings: one row per similar MBID, looked up "with redirects"); an artist's
        # top recordings likewise (db/popularity.py get_top_recordings_for_artist)
        self.merged = dict(merged or {})
        # the services promise no order (similar artists: "unordered, sort by score"; the id
        # mapping leaves rows out): ``unordered`` answers every list but an artist's top
        # recordings (most listened first, as promised) and lb-radio's artists reversed
        self.unordered = unordered
        self.host, self.port = host, port
        self.rate_limit, self.rate_window = rate_limit, rate_window
        # when set, the endpoints of ``locked`` require it: as the service since August 2026,
        # an artist's top recordings (and top release groups) only, not lb-radio nor listen counts
        # (listenbrainz-server popularity_api.py ``ensure_user_token_for_expensive_endpoint``,
        # commit 0a119846d; api.py's ``lb-radio/artist`` never asks for one)
        self.token = token
        self.locked: tuple[str, ...] = LOCKED
        self.seen: list[tuple[str, str]] = []
        self.agents: list[str] = []  # the User-Agent of each request in ``seen``
        self.failures: list[Failure] = []
        self._lock = threading.Lock()
        self._window_start = time.monotonic()
        self._window_count = 0

    @property
    def api_url(self) -> str:
        return f"{self.origin}/1"

    @property
    def labs_url(self) -> str:
        return f"{self.origin}/labs"

    def fail(self, status: int | None = 503, times: int = 1, path: str = "", **kw: Any) -> Failure:
        f = Failure(status=status, times=times, path=path, **kw)
        with self._lock:
            self.failures.append(f)
        return f

    def requests_to(self, fragment: str = "") -> int:
        with self._lock:
            return sum(fragment in p for _, p in self.seen)

    # ----- answering -------------------------------------------------------------------
    def _rate_headers(self) -> tuple[dict[str, str], bool]:
        now = time.monotonic()
        if now - self._window_start >= self.rate_window:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        remaining = max(self.rate_limit - self._window_count, 0)
        reset = max(self.rate_window - (now - self._window_start), 0.0)
        headers = {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Remaining": str(remaining),
                   "X-RateLimit-Reset-In": f"{reset:.0f}"}
        return headers, self._window_count > self.rate_limit

    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        url = urlsplit(target)
        path = unquote(url.path).rstrip("/")
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        with self._lock:
            self.seen.append((method, path))
            self.agents.append(headers.get("user-agent", ""))
            failure = next((f for f in self.failures if f.path in path), None)
            if failure is not None:
                failure.hits += 1
                if failure.hits >= failure.times:
                    self.failures.remove(failure)
            rate, over = self._rate_headers() if path.startswith("/1/") else ({}, False)
        if failure is not None:
            if failure.delay:
                self._stopping.wait(failure.delay)
            if failure.malformed:
                return 200, {"Content-Type": "application/json", **rate}, b'[{"recording_mbid": '
            if failure.status is not None:
                h = dict(rate)
                if failure.retry_after is not None:
                    h["Retry-After"] = f"{failure.retry_after:g}"
                if failure.reset_in is not None:
                    h["X-RateLimit-Reset-In"] = f"{failure.reset_in:g}"
                    h["X-RateLimit-Remaining"] = "0"
                return self._json(failure.status, {"code": failure.status, "error": "injected failure"}, h)
        if over:
            return self._json(429, {"code": 429, "error": "rate limit exceeded"}, rate)
        try:
            data = json.loads(body.decode("utf-8")) if body else None
        except ValueError:
            return self._json(400, {"code": 400, "error": "invalid JSON body"}, rate)
        try:
            status, answer = self._route(method, path, query, data, headers)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            status, answer = 400, {"code": 400, "error": f"bad request: {exc}"}
        if self.merged and status == 200 and ("similar-" in path or "top-recordings" in path):
            answer = [self._redirected(r) for r in answer]
        if self.unordered and status == 200 and "top-recordings" not in path:
            answer = answer[::-1] if isinstance(answer, list) else dict(reversed(list(answer.items())))
        return self._json(status, answer, rate)

    def _redirected(self, row: dict[str, Any]) -> dict[str, Any]:
        """A similar-artists, similar-recordings or top-recordings row as the service gives it
        once its MBID was merged."""
        w = self.world
        key = "artist_mbid" if "artist_mbid" in row else "recording_mbid"
        target = self.merged.get(row[key])
        if target is None:
            return row
        if key == "artist_mbid":
            name = {"name": w.artists[w.by_artist_mbid[target]]}
        else:
            name = {"recording_name": w.names[w.by_recording[target]]}
        return {**row, key: target, **name, "reference_mbid": None}

    def _lookup(self, mbid: str) -> dict[str, Any]:
        """A ``recording-mbid-lookup`` row: the recording a merged MBID redirects to and its
        canonical recording; every field null but ``original_recording_mbid`` for an unknown one."""
        now = self.merged.get(mbid, mbid)
        canonical = self.canonical.get(now, now)
        i = self.world.by_recording.get(canonical)
        if i is None and now not in self.canonical:
            return {"recording_mbid": None, "canonical_recording_mbid": None, "original_recording_mbid": mbid,
                    "recording_name": None, "artist_credit_name": None, "artist_credit_mbids": None,
                    "length": None, "release_name": None, "release_mbid": None, "artists": []}
        a = self.world.artist_of[i] if i is not None else None
        return {"recording_mbid": now, "canonical_recording_mbid": canonical, "original_recording_mbid": mbid,
                "recording_name": self.world.names[i] if i is not None else "", "artist_credit_name": a or "",
                "artist_credit_mbids": [artist_mbid(a)] if a else [], "length": None, "release_name": "",
                "release_mbid": None, "artists": []}

    @staticmethod
    def _json(status: int, body: Any, headers: dict[str, str]) -> tuple[int, dict, bytes]:
        return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode("utf-8")

    def _route(self, method: str, path: str, q: dict[str, str], data: Any, headers: dict[str, str]) -> tuple[int, Any]:
        w = self.world
        if method == "GET" and path == "/labs/similar-artists/json":
            if q.get("algorithm") != SIMILAR_ARTISTS_ALGORITHM:
                return 400, {"code": 400, "error": f"Unknown algorithm {q.get('algorithm')!r}"}
            out = []
            for mb in (q.get("artist_mbids") or "").split(","):
                out.extend(w.similar_artists(mb.strip()))
            return 200, out
        if method == "POST" and path == "/labs/similar-recordings/json":
            first = data[0]
            if first.get("algorithm") != SIMILAR_RECORDINGS_ALGORITHM:
                return 400, {"code": 400, "error": f"Unknown algorithm {first.get('algorithm')!r}"}
            out = []
            for mb in first.get("recording_mbids") or []:
                out.extend(w.similar_recordings(str(mb)))
            return 200, out
        if method == "POST" and path == "/labs/recording-mbid-lookup/json":
            return 200, [self._lookup(str(r["recording_mbid"])) for r in data]
        if method == "POST" and path == "/labs/spotify-id-from-mbid/json":
            rows = w.spotify_ids([str(r["recording_mbid"]) for r in data])
            for r in rows:
                r["spotify_track_ids"] = list(self.spotify_ids.get(r["spotify_track_ids"][0], r["spotify_track_ids"]))
            return 200, rows
        if self.token and path.startswith(self.locked) and headers.get("authorization") != f"Token {self.token}":
            return 401, {"code": 401, "error": "Due to bad actors and AI scrapers causing undue traffic on our sites, "
                                               "you need to provide an Auth token for this endpoint. Sorry for this mess."}
        if method == "GET" and path.startswith("/1/popularity/top-recordings-for-artist/"):
            return 200, w.top_recordings(path.rsplit("/", 1)[1])
        if method == "POST" and path == "/1/popularity/recording":
            mbids = [str(m) for m in data["recording_mbids"]]
            if len(mbids) > 1000:
                return 400, {"code": 400, "error": "too many recording_mbids"}
            return 200, w.popularity_of(mbids)
        if method == "GET" and path.startswith("/1/lb-radio/artist/"):
            missing = [p for p in ("mode", "max_similar_artists", "max_recordings_per_artist", "pop_begin", "pop_end")
                       if p not in q]
            if missing or q["mode"] not in ("easy", "medium", "hard"):
                return 400, {"code": 400, "error": f"missing or invalid parameter: {(missing or ['mode'])[0]}"}
            if not 0 <= float(q["pop_begin"]) <= 100 or not 0 <= float(q["pop_end"]) <= 100:
                return 400, {"code": 400, "error": "pop_begin and pop_end must be between 0 and 100"}
            return 200, w.radio(path.rsplit("/", 1)[1], int(q["max_similar_artists"]),
                                int(q["max_recordings_per_artist"]))
        return 404, {"code": 404, "error": "Not found"}
