"""Personal-library benchmark (protocol ``tt-persona-v1``, see the README's evaluation section).

A split of the benchmark file is cut into *personas* of ten playlists each (playlist ids in
``sha1("persona:{pid}")`` order; a last group of fewer than ten forms none). For persona P:

- targets: P's playlists with >= 10 unique tracks, hidden tracks by the v1 rule
  (``dataset.hide_tracks``);
- P's library: P's playlists with their visible tracks, saved tracks (visible tracks with
  ``sha1("saved:{tid}") % 100 < 40``) and three top-track ranges (the 50 saved tracks with the
  smallest ``sha1("top:{range}:{tid}")``); no followed artists;
- world W(P): every other playlist of the split, complete;
- catalogue: every track of the split, reached only through look-ups (an artist's tracks, an
  album's tracks), and the open-data service computed from W(P): similar artists / similar
  recordings (cosine over the binary artist / track x playlist matrix of W(P), top 100 / 50,
  score > 0, rounded to 12 decimals, ties by name / id), popularity and an artist's top
  recordings. Every distinct look-up is one request of the persona (repeats are free).

``Service`` is that world as the recommender sees it (look-ups only, counted). ``discover``
is the method: which look-ups to make for a seed playlist and the evidence they give;
``rank_target`` blends the evidence with the library scorers. ``evaluate_personas`` runs the
protocol and returns ``PersonaResult`` (top-level p@10, ndcg@10, rprec, new@10, known@10,
reach, requests, plus one row per scorer alone).

Scores derived from memberships are non-decreasing in evidence: a candidate never gains from
being absent from the world (which here would single out P's own hidden tracks).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .artists import mix_inputs
from .blend import ArtistMix, weight_factors
from .config import MAX_COUNT, MAX_SECONDS
from .evaluate import ndcg_at, precision_at, r_precision
from .library import Library

log = logging.getLogger(__name__)

PERSONA_SIZE = 10
TIME_RANGES = ("short_term", "medium_term", "long_term")
TOP_PER_RANGE = 50
SAVED_PERCENT = 40
SAVED_AT = "2026-01-01T00:00:00Z"
BLEND = "blend"
Progress = Callable[[int, int], None]


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def persona_groups(playlist_ids) -> list[list[str]]:
    """Playlist ids in ``sha1("persona:{pid}")`` hex order, cut into full groups of ten."""
    ordered = sorted({str(p) for p in playlist_ids}, key=lambda p: _sha(f"persona:{p}"))
    return [ordered[i:i + PERSONA_SIZE] for i in range(0, len(ordered) - PERSONA_SIZE + 1, PERSONA_SIZE)]


def saved_tracks(track_ids) -> list[str]:
    """The saved ones among a persona's visible tracks: ``int(sha1("saved:{tid}"), 16) % 100 < 40``."""
    return sorted(t for t in set(track_ids) if int(_sha(f"saved:{t}"), 16) % 100 < SAVED_PERCENT)


def top_tracks(saved: list[str]) -> pd.DataFrame:
    """Per time range, the 50 saved tracks with the smallest ``sha1("top:{range}:{tid}")``, ranked."""
    rows = []
    for rng in TIME_RANGES:
        ranked = sorted(saved, key=lambda t: _sha(f"top:{rng}:{t}"))[:TOP_PER_RANGE]
        rows += [{"track_id": t, "time_range": rng, "rank": i + 1} for i, t in enumerate(ranked)]
    return pd.DataFrame(rows, columns=["track_id", "time_range", "rank"])


@dataclass
class Persona:
    """One persona: its playlists, hidden pairs, library and the world it may look up."""

    index: int
    playlist_ids: list[str]
    hidden: pd.DataFrame  # playlist_id, track_id (targets only)
    library: Library  # P's library: visible tracks only, saved and top tracks
    world_columns: np.ndarray  # column numbers of W(P) in the split's track x playlist matrix

    @property
    def known(self) -> set[str]:
        """Track ids anywhere in P's library (visible in a playlist, saved or top)."""
        lib = self.library
        return (set(lib.playlist_items["track_id"].astype(str)) | set(lib.saved_tracks["track_id"].astype(str))
                | set(lib.top_tracks["track_id"].astype(str)))


class Catalogue:
    """The split seen as a catalogue plus the matrices the open-data service is computed from."""

    def __init__(self, split: Library) -> None:
        import scipy.sparse as sp

        self.library = split
        self.tracks = split.tracks.reset_index(drop=True)
        self.track_ids = split.track_ids
        self.X, self.columns = split.track_playlist_matrix(extra_sources=False)  # tracks x playlists
        self.X = sp.csr_matrix(self.X, dtype=np.float64)
        # the artist key is the exact artist string (PERSONA.md): the library's artist ids fold
        # case ("Cream" and "CREAM" are one artist there, two here)
        from .dataset import artist_id_for
        from .standins.listenbrainz import string_ranks
        first = [str(a[0]) if len(a) else None for a in self.tracks["artist_names"]]
        codes, uniques = pd.factorize(pd.Series(first, dtype=object))
        self.artist_of = np.asarray(codes, dtype=np.int64)
        self.artist_names = np.asarray(list(uniques), dtype=object)
        self.artist_ids = np.asarray([artist_id_for(n) for n in self.artist_names], dtype=object)  # library ids
        has = np.flatnonzero(self.artist_of >= 0)
        self.TA = sp.csr_matrix((np.ones(len(has)), (has, self.artist_of[has])),
                                shape=(len(self.track_ids), len(self.artist_names)))  # tracks x artists
        self.artist_tracks = pd.Series(np.arange(len(self.track_ids))).groupby(self.artist_of).agg(list).to_dict()
        albums = self.tracks["album_id"].astype("string").fillna("")
        self.album_tracks = pd.Series(np.arange(len(albums))).groupby(albums.to_numpy()).agg(list).to_dict()
        self.album_of = albums.to_numpy(dtype=object)
        self.id_order = string_ranks(list(self.track_ids.astype(str)))  # tie-break ranks (Python string order)
        self.name_order = string_ranks([str(n) for n in self.artist_names])


class Service:
    """Catalogue and open-data look-ups for one persona, each distinct one counted once.

    The open data is computed from the world W(P) only: the split's playlists minus P's. The
    lists are ranked by the ListenBrainz stand-in's own functions (``top_cosines``,
    ``by_popularity``); the matrices are the catalogue's, restricted to W(P)'s columns.
    """

    def __init__(self, cat: Catalogue, world_columns: np.ndarray) -> None:
        import scipy.sparse as sp

        from .standins.listenbrainz import by_popularity, top_cosines
        self._top, self._by_popularity = top_cosines, by_popularity
        self.cat = cat
        self._sp = sp
        Xw = sp.csr_matrix(cat.X[:, world_columns])
        self.popularity_ = np.diff(Xw.indptr).astype(np.float64)
        # binary matrices and row norms: cosine = co-occurrences / (norm_a * norm_b), computed in
        # this order so that rounding to 12 decimals ties exactly as the stand-in's does
        self.X_w, self.X_wT = Xw, sp.csr_matrix(Xw.T)
        self.x_norm = np.sqrt(self.popularity_)
        A = sp.csr_matrix(cat.TA.T @ Xw)
        A.data[:] = 1.0
        self.A_w, self.A_wT = A, sp.csr_matrix(A.T)
        self.a_norm = np.sqrt(np.diff(A.indptr).astype(np.float64))
        self.calls: set[tuple[str, object]] = set()

    @property
    def requests(self) -> int:
        return len(self.calls)

    def _count(self, kind: str, arg) -> None:
        self.calls.add((kind, arg))

    # ----- catalogue -------------------------------------------------------------------
    def artist_tracks(self, artist: int) -> list[int]:
        """All tracks of an artist (artist -> albums -> album tracks), one request."""
        self._count("artist_tracks", artist)
        return list(self.cat.artist_tracks.get(artist, []))

    def album_tracks(self, album: str) -> list[int]:
        self._count("album_tracks", album)
        return list(self.cat.album_tracks.get(album, []))

    # ----- open data ------------------------------------------------------------------
    def similar_artists(self, artist: int, k: int = 100) -> list[tuple[int, float]]:
        self._count("similar_artists", artist)
        col = (self.A_w @ self.A_wT[:, artist]).tocoo()
        return self._top(col.row, col.data, self.a_norm, artist, k, self.cat.name_order)

    def similar_recordings(self, track: int, k: int = 50) -> list[tuple[int, float]]:
        return self.similar_recordings_many([track], k)[track]

    def similar_recordings_many(self, tracks: list[int], k: int = 50) -> dict[int, list[tuple[int, float]]]:
        """``similar_recordings`` of several tracks in one sparse product (one request each)."""
        tracks = [int(t) for t in dict.fromkeys(tracks)]
        for t in tracks:
            self._count("similar_recordings", t)
        if not tracks:
            return {}
        prod = self._sp.csr_matrix(self.X_w[tracks] @ self.X_wT)
        out = {}
        for i, t in enumerate(tracks):
            lo, hi = prod.indptr[i], prod.indptr[i + 1]
            out[t] = self._top(prod.indices[lo:hi], prod.data[lo:hi], self.x_norm, t, k, self.cat.id_order)
        return out

    def popularity(self, track: int) -> int:
        self._count("popularity", track)
        return int(self.popularity_[track])

    def top_recordings(self, artist: int, k: int | None = None) -> list[int]:
        self._count("top_recordings", artist)
        rows = self.cat.artist_tracks.get(artist, [])
        return self._by_popularity(rows, self.popularity_, self.cat.id_order)[:k]


class StandinService(Service):
    """``Service`` whose open data is served over HTTP by the ListenBrainz + labs stand-in
    (``standins/listenbrainz.py``) built from W(P), and read through the real client
    (``services/listenbrainz.OpenData``: shared HTTP layer, answer cache, budget), as a refresh
    would. MBIDs go back to tracks through the client's ``spotify_ids`` (the stand-in's mapping
    resolves every recording here: the protocol has no id loss). Catalogue look-ups (an
    artist's tracks) stay in-process; they are counted the same way."""

    def __init__(self, cat: Catalogue, world_columns: np.ndarray, settings, cache_dir) -> None:
        from .services.listenbrainz import OpenData
        from .standins.listenbrainz import ListenBrainzStandIn, OpenDataWorld

        super().__init__(cat, world_columns)
        lib = cat.library
        world_ids = set(cat.columns[world_columns].astype(str))
        items = lib.playlist_items[["playlist_id", "track_id"]].astype(str)
        items = items[items["playlist_id"].isin(world_ids)].drop_duplicates()
        meta = pd.DataFrame({"track_id": cat.track_ids.to_numpy(dtype=str),
                             "track_name": cat.tracks["name"].astype(str).to_numpy(),
                             "track_artist": [a[0] if len(a) else None for a in cat.tracks["artist_names"]],
                             "track_album_name": cat.tracks["album_name"].astype(str).to_numpy()})
        world = OpenDataWorld(items.merge(meta, on="track_id"), catalogue=meta, unresolvable_share=0.0)
        self.server = ListenBrainzStandIn(world, rate_limit=10**9).start()
        s = settings.with_overrides({"listenbrainz.api_url": self.server.api_url,
                                     "listenbrainz.labs_url": self.server.labs_url, "listenbrainz.token": None,
                                     # a benchmark measures what is found, not a cron run's time
                                     "discovery.request_budget": MAX_COUNT, "discovery.max_seconds": MAX_SECONDS})
        self.client = OpenData.from_settings(s, cache_dir=cache_dir)
        from .standins.listenbrainz import artist_mbid, recording_mbid
        self._artist_mbid, self._recording_mbid = artist_mbid, recording_mbid
        self._artist_row = {str(n): i for i, n in enumerate(cat.artist_names)}

    def close(self) -> None:
        self.client.close()
        self.server.stop()

    def _rows(self, mbids: list[str]) -> list[int]:
        """Catalogue rows of recording MBIDs (through the client's id mapping), in order."""
        ids = self.client.spotify_ids(list(dict.fromkeys(mbids)))
        tids = [ids.get(m) for m in mbids]
        pos = self.cat.library.track_positions([t or "" for t in tids])
        return [int(p) for p in pos]

    def similar_artists(self, artist: int, k: int = 100) -> list[tuple[int, float]]:
        self._count("similar_artists", artist)
        rows = self.client.similar_artists(self._artist_mbid(str(self.cat.artist_names[artist])))
        out = [(self._artist_row.get(r["name"], -1), r["score"] / 1e6) for r in rows]
        return [(a, s) for a, s in out if a >= 0][:k]

    def similar_recordings_many(self, tracks: list[int], k: int = 50) -> dict[int, list[tuple[int, float]]]:
        out = {}
        for t in dict.fromkeys(int(x) for x in tracks):
            self._count("similar_recordings", t)
            rows = self.client.similar_recordings(self._recording_mbid(str(self.cat.track_ids[t])))[:k]
            found = self._rows([r["mbid"] for r in rows])
            out[t] = [(f, r["score"] / 1e6) for f, r in zip(found, rows) if f >= 0]
        return out

    def top_recordings(self, artist: int, k: int | None = None) -> list[int]:
        self._count("top_recordings", artist)
        rows = self.client.top_recordings(self._artist_mbid(str(self.cat.artist_names[artist])))
        return [r for r in self._rows([r["mbid"] for r in rows[:k]]) if r >= 0]


def build_personas(split: Library, cat: Catalogue | None = None) -> list[Persona]:
    """Every persona of a split library (see the module docstring)."""
    from .dataset import hide_tracks

    cat = cat or Catalogue(split)
    hidden_all = hide_tracks(split)
    items = split.playlist_items[["playlist_id", "track_id"]].astype(str).drop_duplicates()
    out = []
    col_of = {c: i for i, c in enumerate(cat.columns.astype(str))}
    for k, group in enumerate(persona_groups(split.playlist_ids)):
        gset = set(group)
        hidden = hidden_all[hidden_all["playlist_id"].isin(gset)].reset_index(drop=True)
        mine = items[items["playlist_id"].isin(gset)]
        hkey = set(hidden["playlist_id"] + "\x00" + hidden["track_id"])
        visible = mine[~(mine["playlist_id"] + "\x00" + mine["track_id"]).isin(hkey)]
        vis_ids = set(visible["track_id"])
        saved = saved_tracks(vis_ids)
        tracks = split.tracks[split.tracks["track_id"].astype(str).isin(vis_ids)]
        aids = {a for ids in tracks["artist_ids"] for a in ids}
        lib = Library.from_frames(
            tracks=tracks, artists=split.artists[split.artists["artist_id"].isin(aids)],
            playlists=split.playlists[split.playlists["playlist_id"].astype(str).isin(gset)],
            playlist_items=split.playlist_items[split.playlist_items["playlist_id"].astype(str).isin(gset)
                                                & split.playlist_items["track_id"].astype(str).isin(vis_ids)
                                                ].merge(visible, on=["playlist_id", "track_id"]),
            saved_tracks=pd.DataFrame({"track_id": saved, "added_at": SAVED_AT}),
            top_tracks=top_tracks(saved))
        world = np.asarray(sorted(i for c, i in col_of.items() if c not in gset), dtype=np.int64)
        out.append(Persona(k, group, hidden, lib, world))
    return out


# ----- the method: look-ups per seed playlist, then ranking ------------------------------------

@dataclass
class DiscoveryCaps:
    """How much the method looks up per seed playlist (the request economy)."""

    similar_artists_of: int = 5  # seed artists (most seeds first) whose similar artists are read
    similar_artists: int = 10  # similar artists kept per seed artist
    top_recordings: int = 20  # top recordings read per similar artist
    seed_artist_tracks: bool = True  # read every seed artist's tracks
    similar_recordings: bool = True  # similar recordings of every seed
    # albums holding seeds by two or more artists read whole (``refresh.discovery_shared_albums``)
    shared_albums: int = 5

    @classmethod
    def from_settings(cls, settings, **caps) -> "DiscoveryCaps":
        """The defaults, ``shared_albums`` as build-playlist reads them (``settings``'
        ``refresh.discovery_shared_albums``), and ``caps`` given over them."""
        return cls(**{"shared_albums": int(settings.refresh.discovery_shared_albums), **caps})

    @classmethod
    def library_only(cls) -> "DiscoveryCaps":
        """No look-ups at all: candidates are P's own library (today's default)."""
        return cls(similar_artists_of=0, seed_artist_tracks=False, similar_recordings=False, shared_albums=0)


@dataclass
class Evidence:
    """Open-data evidence of one seed playlist, per catalogue row (sums over seeds)."""

    recording: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    artist: dict[int, float] = field(default_factory=lambda: defaultdict(float))  # artist row -> score
    reached: set[int] = field(default_factory=set)
    # the answers as a refresh stores them (schema frames similar_tracks / similar_artists)
    similar_tracks: list[tuple[int, int, float, int]] = field(default_factory=list)  # seed, row, score, rank
    similar_artists: list[tuple[int, int, float, int]] = field(default_factory=list)  # seed artist, artist, ...


def seed_artist_counts(cat: Catalogue, seed_rows: list[int]) -> pd.Series:
    """Seeds per artist row (artists without a name left out), most seeds first, then name."""
    arts = pd.Series(cat.artist_of[seed_rows], dtype=np.int64)
    counts = arts[arts >= 0].value_counts()
    return counts.iloc[np.lexsort((cat.name_order[counts.index.to_numpy()], -counts.to_numpy()))]


def shared_albums(cat: Catalogue, seed_rows: list[int], n: int) -> list[str]:
    """The first ``n`` albums holding seeds by two or more artists, as build-playlist picks them
    (``sources.albums.shared_albums``: most such artists first, then most seeds, then album id)."""
    from .sources.albums import most_shared
    artists = cat.artist_of[seed_rows]
    return most_shared(cat.album_of[seed_rows], [int(a) if a >= 0 else None for a in artists], n)


def discover(service: Service, seed_rows: list[int], caps: DiscoveryCaps) -> Evidence:
    """The look-ups for one seed playlist and the evidence they give (see ``DiscoveryCaps``)."""
    ev = Evidence()
    share = seed_artist_counts(service.cat, seed_rows) / max(len(seed_rows), 1)
    for a, w in share.items():
        ev.artist[int(a)] += float(w)
        if caps.seed_artist_tracks:
            ev.reached.update(service.artist_tracks(int(a)))
    for a, w in list(share.items())[:caps.similar_artists_of]:
        similar = service.similar_artists(int(a))[:caps.similar_artists]
        for rank_, (b, s) in enumerate(similar):
            ev.artist[b] += float(w) * s
            ev.reached.update(service.top_recordings(b)[:caps.top_recordings])
            ev.similar_artists.append((int(a), b, s / similar[0][1], rank_ + 1))
    for album in shared_albums(service.cat, seed_rows, caps.shared_albums):
        ev.reached.update(service.album_tracks(album))
    if caps.similar_recordings:
        for seed, similar in service.similar_recordings_many(seed_rows).items():
            for rank_, (t, s) in enumerate(similar):
                ev.recording[t] += s
                ev.reached.add(t)
                ev.similar_tracks.append((seed, t, s / similar[0][1], rank_ + 1))
    return ev


def universe_library(persona: Persona, cat: Catalogue, rows: set[int], evidence: list[Evidence] = ()) -> Library:
    """P's library plus the metadata of every catalogue track reached (no memberships), and
    the open-data answers in the frames a refresh fills (``similar_tracks``,
    ``similar_artists``; scores scaled per seed so its best is 1), for the ``opendata`` scorer."""
    tids = cat.track_ids.to_numpy(dtype=str)
    st = {(tids[s], tids[r]): (sc, rk) for ev in evidence for s, r, sc, rk in ev.similar_tracks}
    sa = {(a, b): (sc, rk) for ev in evidence for a, b, sc, rk in ev.similar_artists}
    frames = {
        "similar_tracks": pd.DataFrame([{"seed_track_id": s, "track_id": r, "score": sc, "rank": rk}
                                        for (s, r), (sc, rk) in st.items()]),
        "similar_artists": pd.DataFrame([{"seed_artist_id": str(cat.artist_ids[a]),
                                          "seed_artist_name": str(cat.artist_names[a]),
                                          "artist_mbid": str(cat.artist_ids[b]), "artist_name": str(cat.artist_names[b]),
                                          "score": sc, "rank": rk} for (a, b), (sc, rk) in sa.items()])}
    frames = {k: v for k, v in frames.items() if len(v)}
    lib = persona.library.replace(**frames) if frames else persona.library
    known = set(lib.track_ids)
    extra = cat.tracks.iloc[sorted(rows)]
    extra = extra[~extra["track_id"].astype(str).isin(known)]
    aids = {a for ids in extra["artist_ids"] for a in ids} - set(lib.artists["artist_id"].astype(str))
    return lib.replace(tracks=pd.concat([lib.tracks, extra], ignore_index=True),
                       artists=pd.concat([lib.artists, cat.library.artists[cat.library.artists["artist_id"].isin(aids)]],
                                         ignore_index=True))


@dataclass
class TargetRanking:
    """One target's candidates and the raw score of every scorer (columns)."""

    persona: int
    playlist_id: str
    candidates: np.ndarray  # track ids
    scores: pd.DataFrame  # candidates x scorers, positional
    hidden: set[str]
    hidden_new: set[str]
    known: set[str]
    weight_factors: dict[str, float] = field(default_factory=dict)  # scorer -> weight_factor() on P's library
    artist_codes: np.ndarray | None = None  # per candidate (-1: no artist), for the artist mix
    seed_share: np.ndarray | None = None  # per artist code: its share of the seeds
    last: np.ndarray | None = None  # per candidate: another release of a seed's song, ranked last

    def __post_init__(self) -> None:
        if self.last is None:
            self.last = np.zeros(len(self.candidates), dtype=bool)


def score_persona(persona: Persona, cat: Catalogue, scorers: Mapping[str, object],
                  caps: DiscoveryCaps, service: Service | None = None) -> tuple[list[TargetRanking], int]:
    """Discovery for every target of P, one fit of the library scorers on P's library plus
    what was reached, then every target's candidates scored. Returns (targets, requests).
    ``service``: the look-ups (default: in-process ``Service`` over W(P))."""
    service = service or Service(cat, persona.world_columns)
    lib = persona.library
    items = lib.playlist_items[["playlist_id", "track_id"]].astype(str)
    visible_by = items.groupby("playlist_id")["track_id"].agg(lambda s: list(dict.fromkeys(s))).to_dict()
    targets = sorted(set(persona.hidden["playlist_id"].astype(str)))
    evidence, reached = {}, set(cat.library.track_positions(lib.track_ids).tolist())
    for pid in targets:
        rows = [int(r) for r in cat.library.track_positions(visible_by.get(pid, [])) if r >= 0]
        evidence[pid] = ev = discover(service, rows, caps)
        reached |= ev.reached | set(ev.recording)
    reached.discard(-1)
    universe = universe_library(persona, cat, reached, list(evidence.values()))
    fitted = {name: sc.fit(universe) for name, sc in scorers.items()}
    factors = weight_factors({name: 1.0 for name in fitted}, fitted)
    ids = universe.track_ids
    urows = cat.library.track_positions(ids)
    u_artist = cat.artist_of[urows]
    from .pipeline import dedupe_codes, shares_key
    codes = dedupe_codes(universe)  # a seed's other releases: build-playlist's keys (ranked last)
    known = persona.known  # computed once: a property over three frames
    hidden_by = persona.hidden.astype(str).groupby("playlist_id")["track_id"].agg(set).to_dict()
    out = []
    for pid in targets:
        seeds_ids = visible_by.get(pid, [])
        seeds = pd.Series(1.0, index=pd.Index(seeds_ids, name="track_id"))
        is_seed = np.asarray(ids.isin(seeds_ids))
        mask = ~is_seed
        cols = {}
        for name, sc in fitted.items():
            cols[name] = np.asarray(sc.score_all(seeds), dtype=float)[mask]
        ev = evidence[pid]
        rec = pd.Series(ev.recording, dtype=float).reindex(urows).fillna(0.0).to_numpy(dtype=float)
        art = pd.Series(ev.artist).reindex(u_artist).fillna(0.0).to_numpy(dtype=float)
        cols["similar_recordings"] = rec[mask]
        cols["similar_artists"] = art[mask]
        hidden = hidden_by.get(pid, set())
        out.append(TargetRanking(persona.index, pid, ids.to_numpy(dtype=str)[mask], pd.DataFrame(cols),
                                 hidden, hidden - known, known, factors, *mix_inputs(universe, mask, seeds),
                                 shares_key(codes, is_seed)[mask]))
    return out, service.requests


@dataclass
class PersonaResult:
    """Macro-averaged metrics of the blend and of every scorer alone over all targets."""

    personas: int
    targets: int
    seconds: float
    requests: float
    reach: float
    metrics: dict[str, dict[str, float]]
    weights: dict[str, float]
    # the blend's metrics of each target by (persona, playlist id) (``per_target``): not in ``to_dict``
    each: dict[tuple[int, str], dict[str, float]] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        out: dict = dict(self.metrics[BLEND])
        out.update({"reach": round(self.reach, 4), "requests": round(self.requests, 1),
                    "personas": self.personas, "targets": self.targets, "seconds": round(self.seconds, 2),
                    "weights": dict(self.weights),
                    "scorers": {k: v for k, v in self.metrics.items() if k != BLEND}})
        return out


def rank(values: np.ndarray, ids: np.ndarray, n: int | None = None, last: np.ndarray | None = None) -> np.ndarray:
    """Positions best first (the first ``n``): higher value, then track id ascending; NaN last.
    ``last`` (bool per position, e.g. ``TargetRanking.last``): those come after all others,
    in the same order among themselves."""
    if last is not None and last.any():
        head, tail = np.flatnonzero(~last), np.flatnonzero(last)
        out = np.concatenate([head[rank(values[head], ids[head], n)], tail[rank(values[tail], ids[tail], n)]])
        return out[:n]
    v = np.where(np.isnan(values), -np.inf, values)
    if n is not None and n < len(v):
        kth = np.partition(-v, n - 1)[n - 1]
        keep = np.flatnonzero(-v <= kth)  # the n best plus ties at the n-th value
        return keep[np.lexsort((ids[keep], -v[keep]))][:n]
    return np.lexsort((ids, -v))


def target_metrics(ranked: np.ndarray, t: TargetRanking, n: int = 10) -> dict[str, float]:
    """The per-target metrics of PERSONA.md (``ranked``: at least the top max(n, |H|) ids)."""
    top = list(ranked[:n])
    return {f"p@{n}": precision_at(top, t.hidden, n), f"ndcg@{n}": ndcg_at(top, t.hidden, n),
            "rprec": r_precision(ranked, t.hidden), f"new@{n}": precision_at(top, t.hidden_new, n),
            f"known@{n}": sum(1 for x in top if x in t.known) / n}


def blended(t: TargetRanking, weights: Mapping[str, float], method: str = "minmax",
            mix: ArtistMix = ArtistMix(), n: int = 10) -> np.ndarray:
    """The blend of one target's candidates: ``blend.blend_scores``' formula (per-target
    normalisation, weighted mean of the scorers that could score a candidate, each weight
    times the scorer's ``weight_factor()`` on P's library), then the artist ``mix`` for a
    list of ``n``, as the pipeline does; all NaN when no scorer has a weight. The seed's other
    releases (``t.last``) are NaN and take no part: they are no candidates of build-playlist."""
    from .blend import blend_matrix, normalise_columns
    w = np.asarray([[float(weights.get(c, 0.0)) * t.weight_factors.get(c, 1.0) for c in t.scores.columns]])
    used = w[0] > 0
    out = np.full(len(t.scores), np.nan)
    keep = ~t.last
    if not used.any() or not keep.any():
        return out
    values = blend_matrix(normalise_columns(t.scores.to_numpy(dtype=float)[keep][:, used], method), w[:, used])[0]
    if mix.active and t.artist_codes is not None:
        values = values * mix.factors(values, t.artist_codes[keep], t.seed_share, n, t.candidates[keep])  # ties: as ``rank``
    out[keep] = values
    return out


def summarise(targets: list[TargetRanking], weights: Mapping[str, float], method: str = "minmax",
              n: int = 10, singles: bool = True, mix: ArtistMix = ArtistMix(),
              each: dict[tuple[int, str], dict[str, float]] | None = None) -> dict[str, dict[str, float]]:
    """Blend (and, with ``singles``, every scorer alone) metrics over ``targets`` (macro averages).
    The blend is ``blended``; ``each``: its ``per_target`` metrics, when the caller has them."""
    names = list(targets[0].scores.columns) if targets and singles else []
    each = per_target(targets, weights, method, n, mix) if each is None else each
    rows = {BLEND: list(each.values()),
            **{m: [_ranked_metrics(t, m, weights, method, n, mix) for t in targets] for m in names}}
    return {m: _means(r) for m, r in rows.items()}


def _means(rows: list[dict[str, float]]) -> dict[str, float]:
    """Each metric's mean over ``rows`` (one per target), rounded to 4 places."""
    acc = defaultdict(list)
    for row in rows:
        for k, v in row.items():
            acc[k].append(v)
    return {k: round(float(np.mean(v)), 4) for k, v in acc.items()}


def per_target(targets: list[TargetRanking], weights: Mapping[str, float], method: str = "minmax",
               n: int = 10, mix: ArtistMix = ArtistMix()) -> dict[tuple[int, str], dict[str, float]]:
    """The blend's metrics of each target, by (persona, playlist id): what ``summarise``
    averages, kept apart for a paired comparison of two methods (``bench/quality.py --compare``)."""
    return {(t.persona, t.playlist_id): _ranked_metrics(t, BLEND, weights, method, n, mix) for t in targets}


def _ranked_metrics(t: TargetRanking, m: str, weights: Mapping[str, float], method: str, n: int,
                    mix: ArtistMix) -> dict[str, float]:
    """The metrics of target ``t`` ranked by ``m``: the blend, or one scorer alone."""
    keep = max(n, len(t.hidden))
    values = blended(t, weights, method, mix, n) if m == BLEND else t.scores[m].to_numpy(dtype=float)
    return target_metrics(t.candidates[rank(values, t.candidates, keep, t.last)], t, n)


def persona_scorers(settings) -> dict[str, object]:
    """The library scorers of the package blend (built from settings), plus coverage for the
    ablation when it is off (weight 0: it stays out of the blend)."""
    from .scorers import CoverageScorer, make_scorers, scorer_params
    scorers = dict(make_scorers(settings))
    scorers.setdefault("coverage", CoverageScorer(**scorer_params(settings, "coverage")))
    return scorers


def evaluate_personas(split: Library, settings, weights: Mapping[str, float] | None = None,
                      caps: DiscoveryCaps | None = None, progress: Progress | None = None,
                      keep_targets: bool = False, singles: bool = True, standins: bool = True,
                      cat: Catalogue | None = None) -> tuple[PersonaResult, list[TargetRanking]]:
    """Run the protocol on one split library; see the module docstring. ``standins``: the open
    data of each persona is served by the ListenBrainz stand-in built from W(P) and read
    through the real client (``StandinService``); False computes it in-process (same
    definitions, faster: for exploring). ``cat``: the split's ``Catalogue`` when the caller
    has it already (built from ``split`` otherwise). ``caps`` None: ``DiscoveryCaps.from_settings``."""
    import tempfile
    from .scorers import blend_weights
    t0 = time.perf_counter()
    caps = caps or DiscoveryCaps.from_settings(settings)
    cat = cat or Catalogue(split)
    personas = build_personas(split, cat)
    scorers = persona_scorers(settings)
    weights = dict(weights or blend_weights(settings))
    all_targets, requests = [], []
    reach_num = reach_den = 0
    for i, p in enumerate(personas):
        if standins and caps != DiscoveryCaps.library_only():
            with tempfile.TemporaryDirectory(prefix="persona-") as tmp:
                service = StandinService(cat, p.world_columns, settings, tmp)
                try:
                    targets, req = score_persona(p, cat, scorers, caps, service)
                finally:
                    service.close()
        else:
            targets, req = score_persona(p, cat, scorers, caps)
        requests.append(req)
        for t in targets:
            reach_num += len(t.hidden_new & set(t.candidates))
            reach_den += len(t.hidden_new)
        all_targets += targets
        if progress is not None:
            progress(i + 1, len(personas))
    method, mix = settings["blend"]["normalisation"], ArtistMix.from_settings(settings)
    each = per_target(all_targets, weights, method, mix=mix)
    metrics = summarise(all_targets, weights, method, singles=singles, mix=mix, each=each)
    result = PersonaResult(len(personas), len(all_targets), time.perf_counter() - t0,
                           float(np.mean(requests)) if requests else 0.0,
                           reach_num / reach_den if reach_den else 0.0, metrics, weights, each)
    return result, (all_targets if keep_targets else [])


def radio_anchor(split: Library, similar: int = 8, per_artist_tracks: int = 20, cap: int = 3,
                 seed_artists: int = 5, progress: Progress | None = None,
                 cat: Catalogue | None = None) -> PersonaResult:
    """The issue's radio anchor: the ``seed_artists`` main seed artists (most seeds first) ->
    ``similar`` similar artists
    each -> their ``per_artist_tracks`` most popular recordings, interleaved round-robin over
    the similar artists, at most ``cap`` per artist. ``cat``: as for ``evaluate_personas``."""
    t0 = time.perf_counter()
    cat = cat or Catalogue(split)
    personas = build_personas(split, cat)
    each, requests, reach_num, reach_den = [], [], 0, 0
    ids = cat.track_ids.to_numpy(dtype=str)
    for i, p in enumerate(personas):
        service = Service(cat, p.world_columns)
        known = p.known
        items = p.library.playlist_items[["playlist_id", "track_id"]].astype(str)
        for pid, hidden in p.hidden.astype(str).groupby("playlist_id")["track_id"]:
            seeds = list(dict.fromkeys(items[items["playlist_id"] == pid]["track_id"]))
            rows = [int(r) for r in cat.library.track_positions(seeds) if r >= 0]
            counts = seed_artist_counts(cat, rows)
            lists = []
            for a in counts.index[:seed_artists]:
                for b, _ in service.similar_artists(int(a))[:similar]:
                    lists.append([r for r in service.top_recordings(b)[:per_artist_tracks]])
            ranked, seen, per = [], set(rows), defaultdict(int)
            for k in range(per_artist_tracks):
                for lst in lists:
                    if k < len(lst) and lst[k] not in seen and per[cat.artist_of[lst[k]]] < cap:
                        seen.add(lst[k])
                        per[cat.artist_of[lst[k]]] += 1
                        ranked.append(lst[k])
            h = set(hidden)
            t = TargetRanking(p.index, pid, ids[ranked], pd.DataFrame(), h, h - known, known)
            each.append(target_metrics(t.candidates, t))
            reach_num += len(t.hidden_new & set(t.candidates))
            reach_den += len(t.hidden_new)
        requests.append(service.requests)
        if progress is not None:
            progress(i + 1, len(personas))
    return PersonaResult(len(personas), len(each), time.perf_counter() - t0, float(np.mean(requests)),
                         reach_num / reach_den if reach_den else 0.0, {BLEND: _means(each)}, {})
