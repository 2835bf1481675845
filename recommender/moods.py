"""Moods: cluster a playlist into moods, recommend tracks for a mood, predict moods from text.

Mood quadrants on Spotify's valence (musical positiveness, 0..1) and energy (intensity, 0..1),
both split at a threshold (default 0.5, settings ``moods.valence_threshold`` and
``moods.energy_threshold``); a value equal to the threshold counts as high:

=============  =========  ==========
mood           valence    energy
=============  =========  ==========
``happy``      >= t_v     >= t_e
``energetic``  < t_v      >= t_e      (energetic/intense)
``calm``       >= t_v     < t_e       (calm/peaceful)
``sad``        < t_v      < t_e
=============  =========  ==========

Audio features are optional (the 2026 Development Mode API has none; ``recommend import
features FILE.csv`` fills the ``audio_features`` frame). Without them clustering falls back to
text (names, artists, album, genres) and ``MoodClassifier`` predicts moods from text, trained
on the tracks that do have features.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .artists import first_artist_keys
from .errors import NotEnoughData, UsageError
from .explore import (CACHE, Where, distinct_recordings, each_recording_once, fold, one_copy_each, recording_copies,
                      resolve_track, track_display)
from .library import Library
from .namewords import ENGLISH_STOP_WORDS, NAME_FILLER, PACKAGING_WORDS
from .wording import plural

log = logging.getLogger(__name__)

MOODS = ("happy", "energetic", "calm", "sad")
MOOD_LABELS = {"happy": "happy/upbeat", "energetic": "energetic/intense", "calm": "calm/peaceful",
               "sad": "sad/melancholic"}
# No "angry": low valence + high energy holds angry, tense and merely driving music alike, so
# calling the quadrant "angry" would claim a class the data does not have.
MOOD_ALIASES = {"intense": "energetic", "peaceful": "calm", "relaxed": "calm",
                "chill": "calm", "melancholic": "sad", "upbeat": "happy"}
# Audio features used for clustering, in this order when present (tempo in BPM, loudness in
# dB: both are standardised with the rest).
CLUSTER_FEATURES = ("valence", "energy", "danceability", "acousticness", "instrumentalness",
                    "speechiness", "liveness", "tempo", "loudness")
# Valence and energy define the moods, so their standardised columns count this much more.
MOOD_AXIS_WEIGHT = 1.5
# Words naming a cluster whose mean differs from the playlist's by at least QUALIFIER_Z
# standard deviations: feature -> (word when higher, word when lower).
QUALIFIERS = {"danceability": ("danceable", "not danceable"), "acousticness": ("acoustic", "electric"),
              "instrumentalness": ("instrumental", "vocal"), "speechiness": ("spoken", None),
              "liveness": ("live", None), "tempo": ("fast", "slow"), "loudness": ("loud", "quiet")}
QUALIFIER_Z = 0.75
# Qualifiers left out of a mood's label because they read as its opposite: Spotify gives rain
# and white noise high energy at -25 dB, and "energetic/intense, quiet" says nothing.
CONTRADICTS = {"happy": ("quiet",), "energetic": ("quiet",), "calm": ("loud",), "sad": ("loud",)}
# Without --k, a k whose smallest cluster holds under this share of the tracks (or under 2) is
# not chosen: a handful of outliers is no mood to name or export.
MIN_CLUSTER_SHARE = 0.05
MIN_TRACKS = 4  # a playlist (or several named together) clusters from this many tracks
# rows a silhouette is computed on: it compares every row with every other (quadratic: a blend of
# 6,200 tracks spent 2.7 s of its 5.7 s there, 20,000 would spend half a minute), so a bigger
# playlist's silhouette is that of a sample drawn from every cluster in proportion to its size
SILHOUETTE_ROWS = 2000
PLOT_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")  # one per source playlist in `moods cluster --plot`
# Words too common in track/album names to say anything about a mood or a cluster: the
# packaging words `similar` drops (``namewords.PACKAGING_WORDS``) and those of a performance
# ("remix", "live"), and the credit and foreign function words the content scorer's "why"
# skips too (``namewords``).
NOISE_WORDS = NAME_FILLER | PACKAGING_WORDS | frozenset(
    "remix live ep vol pt part extended acoustic instrumental".split())
_TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W_]+\b"  # words of 2+ characters starting with a letter


# ----- quadrants ----------------------------------------------------------------------------
def normalise_mood(mood: str) -> str:
    """The canonical mood name for ``mood`` or an alias ("intense" -> "energetic");
    UsageError naming the value otherwise."""
    m = (mood or "").strip().casefold()
    m = MOOD_ALIASES.get(m, m)
    if m not in MOODS:
        import difflib
        if m == "angry":  # README, Genres and audio features: refused, not guessed
            why = ("; valence and energy cannot tell angry music from merely intense music, so there is no angry "
                   "mood (energetic holds both)")
        elif close := difflib.get_close_matches(m, [*MOODS, *MOOD_ALIASES], n=1, cutoff=0.6):
            # an alias is named with its mood: "did you mean 'intense'?" after a list without it read as a slip
            alias = f" ({MOOD_ALIASES[close[0]]})" if close[0] in MOOD_ALIASES else ""
            why = f"; did you mean {close[0]!r}{alias}?"
        else:
            why = ""
        raise UsageError(f"unknown mood {mood!r}: choose one of {', '.join(MOODS)}{why}")
    return m


def quadrant(valence, energy, valence_threshold: float = 0.5, energy_threshold: float = 0.5) -> np.ndarray:
    """Mood name per track from valence and energy (arrays of 0..1); None where either is
    missing. Thresholds: see the module docstring."""
    v = np.asarray(pd.to_numeric(pd.Series(np.ravel(valence)), errors="coerce"), dtype=float)
    e = np.asarray(pd.to_numeric(pd.Series(np.ravel(energy)), errors="coerce"), dtype=float)
    out = np.where(e >= energy_threshold, np.where(v >= valence_threshold, "happy", "energetic"),
                   np.where(v >= valence_threshold, "calm", "sad")).astype(object)
    out[np.isnan(v) | np.isnan(e)] = None
    return out


def mood_target(mood: str, valence_threshold: float = 0.5, energy_threshold: float = 0.5
                ) -> tuple[float, float]:
    """(valence, energy) centre of the mood's quadrant, e.g. happy -> (0.75, 0.75)."""
    mood = normalise_mood(mood)
    v_lo, v_hi = _bounds(mood in ("happy", "calm"), valence_threshold)
    e_lo, e_hi = _bounds(mood in ("happy", "energetic"), energy_threshold)
    return (v_lo + v_hi) / 2, (e_lo + e_hi) / 2


def _bounds(high: bool, threshold: float) -> tuple[float, float]:
    return (threshold, 1.0) if high else (0.0, threshold)


# ----- frames -------------------------------------------------------------------------------
def audio_features(library: Library) -> pd.DataFrame:
    """Audio features of the library's tracks as floats, indexed by track id (one row per
    track that has a valence and an energy; the last imported row wins). Read once per
    Library (``Library.derived``: the mood page, its classifier and its plane share one
    read): callers must not modify it."""
    return library.derived("moods.audio_features", lambda: _read_audio_features(library))


def _read_audio_features(library: Library) -> pd.DataFrame:
    af = library.placed_audio_features()
    cols = [c for c in CLUSTER_FEATURES + ("mode", "key") if c in af.columns]
    return af[cols].astype("float64")


def track_texts(library: Library, track_ids: Sequence[str] | None = None) -> pd.Series:
    """Folded "name artists album genres" text per track id (the tracks frame order when
    ``track_ids`` is None; "" for unknown ids)."""
    t = library.frames["tracks"].drop_duplicates("track_id")
    t = t.set_index(t["track_id"].astype(str).rename("track_id"))
    ids = list(library.track_ids.unique()) if track_ids is None else [str(i) for i in track_ids]
    t = t.reindex(ids)
    genres = library.artist_genres()
    genres = genres[~genres.index.duplicated(keep="last")]
    texts = []
    for name, artists, album, artist_ids in zip(t["name"], t["artist_names"], t["album_name"], t["artist_ids"]):
        words = [name if isinstance(name, str) else "", album if isinstance(album, str) else ""]
        if isinstance(artists, (list, tuple, np.ndarray)):
            words += [str(a) for a in artists]
        if isinstance(artist_ids, (list, tuple, np.ndarray)):
            for a in artist_ids:
                g = genres.get(str(a))
                if isinstance(g, (list, tuple, np.ndarray)):
                    words += [str(x) for x in g]
        texts.append(fold(" ".join(words)))
    return pd.Series(texts, index=pd.Index(ids, name="track_id"), dtype=object)


def _text_vectorizer(ngram_range: tuple[int, int] = (1, 1), min_df: int = 1, stop_words: bool = True):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(token_pattern=_TOKEN_PATTERN, ngram_range=ngram_range, min_df=min_df,
                           stop_words=sorted(ENGLISH_STOP_WORDS | NOISE_WORDS) if stop_words else None,
                           sublinear_tf=True)


# ----- mood recommender ---------------------------------------------------------------------
def mood_recommend(library: Library, mood: str, n: int = 20, seeds: pd.Series | Iterable[str] | None = None,
                   seed_bias: float = 0.5, valence_threshold: float = 0.5,
                   energy_threshold: float = 0.5, where: Where = CACHE) -> pd.DataFrame:
    """The ``n`` library tracks closest to the mood's target point in (valence, energy), each
    recording once (the closest copy: ``explore.distinct_recordings``).

    The mood's own tracks come first, then (when it has fewer than ``n``) the nearest of the
    others. The target is the centre of the mood's quadrant; with ``seeds`` (track ids, or a Series
    of positive weights indexed by id) it moves ``seed_bias`` (0..1) of the way toward the
    seeds' weighted mean, clipped into the quadrant ("sad, but like what I play"). Nothing
    is excluded (seeds and known tracks included). Columns: rank, track_id, name, artists,
    mood, valence, energy, distance (Euclidean in the unit square), score = 1 - distance/sqrt(2).
    Raises NotEnoughData when no track has audio features (saying how ``where``'s tracks get
    them), UsageError for an unknown mood.
    """
    mood = normalise_mood(mood)
    if not 0.0 <= seed_bias <= 1.0:
        raise UsageError(f"moods.seed_bias must be between 0 and 1, got {seed_bias}")
    feats = audio_features(library)
    if feats.empty:
        raise _no_features(library, where, "moods are unknown")
    tv, te = mood_target(mood, valence_threshold, energy_threshold)
    if seeds is not None:
        w = seeds if isinstance(seeds, pd.Series) else pd.Series(1.0, index=pd.Index([str(s) for s in seeds]))
        w = w[w.index.astype(str).isin(feats.index) & (w > 0)].astype(float)
        w.index = w.index.astype(str)
        w = w.groupby(level=0).sum()
        if len(w):
            sv = float(np.average(feats.loc[w.index, "valence"], weights=w))
            se = float(np.average(feats.loc[w.index, "energy"], weights=w))
            v_lo, v_hi = _bounds(mood in ("happy", "calm"), valence_threshold)
            e_lo, e_hi = _bounds(mood in ("happy", "energetic"), energy_threshold)
            tv = (1 - seed_bias) * tv + seed_bias * float(np.clip(sv, v_lo, v_hi))
            te = (1 - seed_bias) * te + seed_bias * float(np.clip(se, e_lo, e_hi))
        else:
            log.info("no seed has audio features: using the centre of the %s quadrant", mood)
    out = _nearest(library, feats, (tv, te), n, (), valence_threshold, energy_threshold, mood=mood)
    out["score"] = 1.0 - out["distance"] / np.sqrt(2.0)
    out.attrs["target"] = (tv, te)
    return out


def mood_point(library: Library, valence: float, energy: float, n: int = 20, valence_threshold: float = 0.5,
               energy_threshold: float = 0.5, where: Where = CACHE) -> pd.DataFrame:
    """The ``n`` library tracks closest to a point of the mood plane (valence, energy, each
    0..1), each recording once: ``mood_recommend``'s columns, for a point a person picks
    rather than a quadrant's centre. UsageError for a value outside 0..1, NotEnoughData when
    no track has audio features."""
    for key, value in (("valence", valence), ("energy", energy)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= float(value) <= 1.0:
            raise UsageError(f"{key} must be a number from 0 to 1, got {value!r}")
    feats = audio_features(library)
    if feats.empty:
        raise _no_features(library, where, "moods are unknown")
    out = _nearest(library, feats, (float(valence), float(energy)), n, (), valence_threshold, energy_threshold)
    out["score"] = 1.0 - out["distance"] / np.sqrt(2.0)
    out.attrs["target"] = (float(valence), float(energy))
    return out


def _no_features(library: Library, where: Where, so: str) -> NotEnoughData:
    """No track of the library has a valence and an energy: what follows, and how to get them."""
    n = len(library.track_ids)
    return NotEnoughData(f"no audio features for the {n} {plural(n, 'track')} of {where.library}, so {so}; "
                         f"{where.features}")


def _nearest(library: Library, feats: pd.DataFrame, point: tuple[float, float], n: int, exclude: Sequence[str],
             valence_threshold: float, energy_threshold: float, mood: str | None = None) -> pd.DataFrame:
    """The ``n`` tracks of ``feats`` nearest to ``point`` (valence, energy), each recording
    once and none of ``exclude``'s recordings: rank, track_id, name, artists, mood, valence,
    energy, distance. With ``mood``, that mood's tracks come first (a happy track on the edge
    of the calm quadrant is nearer its centre than a calm track in its corner), then the
    nearest of the others."""
    others = feats.drop(index=[t for t in exclude if t in feats.index])
    dist = np.hypot(others["valence"] - point[0], others["energy"] - point[1])
    outside = np.zeros(len(others), dtype=bool) if mood is None else (
        quadrant(others["valence"], others["energy"], valence_threshold, energy_threshold) != mood)
    ranked = pd.DataFrame({"track_id": others.index, "distance": dist.to_numpy(), "outside": outside})
    ranked = ranked.sort_values(["outside", "distance", "track_id"])
    ranked = ranked[distinct_recordings(library, ranked["track_id"], exclude=exclude)].head(max(n, 0))
    display = track_display(library, ranked["track_id"]).drop_duplicates("track_id").set_index("track_id", drop=False)
    out = display.loc[ranked["track_id"], ["track_id", "name", "artists", "artist_names"]].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    sel = feats.loc[ranked["track_id"]]
    out["mood"] = quadrant(sel["valence"], sel["energy"], valence_threshold, energy_threshold)
    out["valence"] = sel["valence"].to_numpy()
    out["energy"] = sel["energy"].to_numpy()
    out["distance"] = ranked["distance"].to_numpy()
    return out


def mood_neighbours(library: Library, track: str, n: int = 10, valence_threshold: float = 0.5,
                    energy_threshold: float = 0.5, where: Where = CACHE) -> pd.DataFrame:
    """The ``n`` tracks nearest to ``track`` (an id, URI, link or search text) in (valence,
    energy), other recordings only (the track's own copies under other credits are left
    out, and each recording is listed once). Columns: rank, track_id, name, artists, mood,
    valence, energy, distance (Euclidean in the unit square). ``attrs["seed"]`` holds the
    seed's track_id, name, artists, valence, energy and mood.
    Raises UsageError (no such track) and NotEnoughData (the track has no audio features).
    """
    track_id = resolve_track(library, track, where=where)
    feats = audio_features(library)
    if track_id not in set(library.track_ids):
        raise UsageError(f"track {track_id} is not in {where.library}; pick one with {where.search}")
    # another copy of its recording may have them (an album's and a single's id: `search` lists
    # both, `status` counts the recording as having features, and the id copied was refused)
    placed = next((c for c in recording_copies(library, track_id) if c in feats.index), None)
    if placed is None:  # named: free text may have found another track than the one meant
        t = track_display(library, [track_id]).iloc[0]
        raise NotEnoughData(f"track {t['name']!r} by {t['artists'] or 'no artist'} ({track_id}) has no "
                            f"valence/energy, so it has no mood neighbours; {where.features}")
    sv, se = float(feats.at[placed, "valence"]), float(feats.at[placed, "energy"])
    out = _nearest(library, feats, (sv, se), n, [track_id], valence_threshold, energy_threshold)
    seed = track_display(library, [track_id]).iloc[0]
    out.attrs["seed"] = {"track_id": track_id, "name": seed["name"], "artists": seed["artists"],
                         "artist_names": list(seed["artist_names"]), "valence": sv,
                         "energy": se,
                         "mood": quadrant([sv], [se], valence_threshold, energy_threshold)[0]}
    return out


# ----- clustering ---------------------------------------------------------------------------
@dataclass
class MoodClusters:
    """One or more playlists, blended, split into mood clusters.

    ``tracks``: track_id, name, artists, playlist (the first source playlist holding it; a
    recording in several is listed once), cluster (0 = largest; -1 = left out: no audio
    features on an audio basis), mood (its cluster's name, ``names``: the table's and the
    export's; NaN, null in --json, when left out), x, y (2-D PCA coordinates), plus valence, energy and
    quadrant (the track's own valence/energy mood) on an audio basis. ``clusters``: cluster,
    size, label (+ quadrant, of the mean valence/energy, on an audio basis), then the centroid:
    mean of each raw audio feature (audio basis) or the top terms (text basis).
    """

    playlist_id: str  # the source playlists' ids, comma-joined
    playlist_name: str  # their names, " + "-joined
    basis: str  # "audio" | "text"
    k: int
    silhouette: float | None  # mean silhouette of the chosen k (None when k == 1)
    tracks: pd.DataFrame
    clusters: pd.DataFrame
    features: tuple[str, ...]
    explained_variance: tuple[float, float]  # share of variance on the x and y axes
    axes: tuple[str, str] = ("", "")  # what grows along x and y ("acousticness ← → energy, loudness")
    silhouettes: dict[int, float] = field(default_factory=dict)  # every k tried -> silhouette
    playlists: tuple[tuple[str, str], ...] = ()  # (id, name) of each source playlist
    with_audio: int = 0  # how many of the tracks have audio features (some, on a text basis: too few)
    asked: int | None = None  # the k asked for (--k), which may be more than the tracks' distinct rows allow

    def names(self) -> dict[int, str]:
        """A playlist-ready name per cluster, unique: its label, numbered when two clusters
        share one (e.g. "happy/upbeat, danceable", "sad/melancholic 2")."""
        out: dict[int, str] = {}
        seen: dict[str, int] = {}
        for c, label in zip(self.clusters["cluster"], self.clusters["label"]):
            base = str(label)
            seen[base] = seen.get(base, 0) + 1
            out[int(c)] = base if seen[base] == 1 else f"{base} {seen[base]}"
        return out

    def members(self) -> dict[int, list[str]]:
        """Track ids of each cluster, in table order."""
        t = self.tracks[self.tracks["cluster"] >= 0]
        return {int(c): list(g["track_id"]) for c, g in t.groupby("cluster", sort=True)}


def cluster_playlist(library: Library, playlist_id: str, k: int | None = None, seed: int = 0,
                     max_clusters: int = 6, basis: str = "auto", min_audio_share: float = 0.5,
                     valence_threshold: float = 0.5, energy_threshold: float = 0.5) -> MoodClusters:
    """``cluster_playlists`` of one playlist."""
    return cluster_playlists(library, [playlist_id], k=k, seed=seed, max_clusters=max_clusters, basis=basis,
                             min_audio_share=min_audio_share, valence_threshold=valence_threshold,
                             energy_threshold=energy_threshold)


def cluster_playlists(library: Library, playlist_ids: Sequence[str], k: int | None = None, seed: int = 0,
                      max_clusters: int = 6, basis: str = "auto", min_audio_share: float = 0.5,
                      valence_threshold: float = 0.5, energy_threshold: float = 0.5,
                      source: str | None = None, where: Where = CACHE) -> MoodClusters:
    """k-means of the blended tracks of one or more playlists into moods, with a 2-D PCA view.

    The playlists' tracks are pooled, each recording once (``explore.each_recording_once``);
    ``tracks["playlist"]`` names the first source playlist of each. Each of ``playlist_ids``
    may be an id or an exact (case-insensitive) name. ``basis`` "auto" uses
    audio features when at least ``min_audio_share`` of the tracks have them (standardised;
    valence and energy weighted MOOD_AXIS_WEIGHT), else text (TF-IDF of name, artists,
    album, genres reduced with TruncatedSVD). ``k`` None picks the best mean silhouette over
    2..``max_clusters`` (ties: the smaller k). Raises UsageError (unknown playlist, bad k or
    basis) and NotEnoughData (fewer than 4 usable tracks; no features for basis "audio").
    ``source``: the data file the library was read from, named by an unknown playlist's error;
    ``where``: how its tracks get audio features, for the errors that need them.
    """
    from threadpoolctl import threadpool_limits

    if isinstance(playlist_ids, str):
        playlist_ids = [playlist_ids]
    if not playlist_ids:
        raise UsageError("name at least one playlist to cluster")
    if basis not in ("auto", "audio", "text"):
        raise UsageError(f"unknown clustering basis {basis!r}: choose auto, audio or text")
    sources, source_of = _pooled(library, playlist_ids, source)
    pname = " + ".join(n for _, n in sources)
    pid = ",".join(p for p, _ in sources)
    ids = each_recording_once(library, list(source_of))
    feats = audio_features(library)
    with_audio = [t for t in ids if t in feats.index]
    share = len(with_audio) / len(ids) if ids else 0.0
    if basis == "audio" and not with_audio:
        raise NotEnoughData(f"none of the {len(ids)} tracks of playlist {pname!r} has audio features; {where.features}")
    use_audio = basis == "audio" or (basis == "auto" and share >= min_audio_share and len(with_audio) >= MIN_TRACKS)
    used = with_audio if use_audio else ids
    _refuse_too_few(library, sources, pname, len(used), use_audio, k)

    if use_audio:
        X, feature_names, raw = _audio_matrix(feats.loc[used])
    else:
        X, feature_names, raw = _text_matrix(library, used, seed, where)

    asked = k
    with threadpool_limits(1):  # playlists are small: thread start-up costs more than it saves
        k, labels, sil, silhouettes = _choose_clusters(X, k, max_clusters, seed)
    labels = _relabel_by_size(labels)
    coords, explained = _pca_2d(X, seed)
    if use_audio:
        axes = _axis_words(np.nan_to_num((raw.to_numpy() - raw.mean().to_numpy()) / raw.std(ddof=0).replace(0, 1).to_numpy()),
                           feature_names, coords)
    else:
        axes = _axis_words(raw[0], [f"'{w}'" for w in raw[1]], coords)

    tracks = _placed_tracks(library, ids, used, source_of, labels, coords)
    if use_audio:
        af = feats.reindex(tracks["track_id"])
        tracks["valence"] = af["valence"].to_numpy()
        tracks["energy"] = af["energy"].to_numpy()
        tracks["quadrant"] = quadrant(tracks["valence"], tracks["energy"], valence_threshold, energy_threshold)
        clusters = _audio_clusters(raw, X, labels, feature_names, valence_threshold, energy_threshold)
    else:
        clusters = _text_clusters(raw, labels, library, used)
    res = MoodClusters(playlist_id=pid, playlist_name=pname, basis="audio" if use_audio else "text", k=int(k),
                       silhouette=sil, tracks=tracks, clusters=clusters, features=tuple(feature_names),
                       explained_variance=explained, silhouettes=silhouettes, playlists=tuple(sources),
                       axes=axes, with_audio=len(with_audio), asked=asked)
    # one name per cluster everywhere: the clusters' table, the chart's legend, the tracks' mood
    # and an export (two clusters labelled alike were "energetic/intense" twice in the table and
    # the legend, and "energetic/intense 2" in the tracks' table)
    names = res.names()
    clusters["label"] = clusters["cluster"].map(names)
    # a track's mood is its cluster's, as the table and an export name it (NaN: left out)
    tracks.insert(tracks.columns.get_loc("cluster") + 1, "mood", tracks["cluster"].map(names))
    return res


def _refuse_too_few(library: Library, sources, pname: str, n: int, use_audio: bool, k: int | None) -> None:
    """NotEnoughData when the ``n`` tracks to cluster (those with audio features, with
    ``use_audio``) are fewer than MIN_TRACKS, saying why a playlist's tracks could not be read;
    UsageError for a ``k`` outside 1..n."""
    if n < MIN_TRACKS:  # "has 1 track", not "1 tracks"
        what = f"{plural(n, 'track')}{' with audio features' if use_audio else ''}"
        why = "".join(dict.fromkeys(library.unreadable_note(p) for p, _ in sources))
        if not n and why:  # "has 0 tracks" of a playlist `recommend playlists` shows as "0 of 16 (unread)"
            raise NotEnoughData(f"playlist {pname!r} has no tracks this app can read, and clustering needs "
                                f"at least {MIN_TRACKS}{why}")
        raise NotEnoughData(f"playlist {pname!r} has {n} {what}; clustering needs at least {MIN_TRACKS}{why}")
    if k is not None and not 1 <= k <= n:
        what = "tracks with audio features" if use_audio else "tracks"
        raise UsageError(f"--k {k} asks for more moods than playlist {pname!r} has {what} ({n}): "
                         f"give --k {n} or fewer" if k > n else f"k must be at least 1, got {k}")


def _pooled(library: Library, playlist_ids: Sequence[str], source: str | None
            ) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The playlists ``playlist_ids`` name (ids or names; each once) as (id, name), and each of
    their tracks the library holds -> the name of the first of them that holds it."""
    pl = library.frames["playlists"]
    known = set(library.track_ids)
    sources: list[tuple[str, str]] = []
    source_of: dict[str, str] = {}
    for ref in playlist_ids:
        pid = library.find_playlist(ref)
        if pid is None:
            from .pipeline import resolve_playlist
            pid = resolve_playlist(library, ref, source)  # UsageError naming close names, as --seed-playlist's
        if pid in dict(sources):
            continue
        names = pl.loc[pl["playlist_id"] == pid, "name"]
        name = str(names.iloc[0]) if len(names) and isinstance(names.iloc[0], str) else pid
        sources.append((pid, name))
        for t in library.playlist_tracks(pid):
            if t in known:
                source_of.setdefault(t, name)
    return sources, source_of


def _placed_tracks(library: Library, ids: list[str], used: list[str], source_of: dict[str, str],
                   labels: np.ndarray, coords: np.ndarray) -> pd.DataFrame:
    """One row per track of ``ids``: its names, its playlist, and for those clustered (``used``,
    in the order of ``labels`` and ``coords``) its cluster and place on the chart; the others
    (no audio features) cluster -1, no place."""
    display = track_display(library, ids).drop_duplicates("track_id").set_index("track_id", drop=False)
    tracks = display.loc[ids, ["track_id", "name", "artists", "artist_names"]].reset_index(drop=True)
    tracks["playlist"] = [source_of[t] for t in ids]
    pos = pd.Series(np.arange(len(used)), index=used)
    row = pos.reindex(tracks["track_id"]).to_numpy()
    has = ~np.isnan(row)
    r = row[has].astype(int)
    tracks["cluster"] = -1
    tracks.loc[has, "cluster"] = labels[r]
    tracks["x"] = np.nan
    tracks["y"] = np.nan
    tracks.loc[has, "x"] = coords[r, 0]
    tracks.loc[has, "y"] = coords[r, 1]
    return tracks


def _choose_clusters(X: np.ndarray, k: int | None, max_clusters: int, seed: int
                     ) -> tuple[int, np.ndarray, float | None, dict[int, float]]:
    """k-means labels of the rows of X: with ``k`` given, that many clusters (at most the
    number of distinct rows); else the best mean silhouette over 2..max_clusters (ties: the
    smaller k) among the k whose every cluster holds at least MIN_CLUSTER_SHARE of the rows
    (at least 2), over every k when none does. Returns (k, labels, silhouette or None,
    {k tried: silhouette})."""
    from sklearn.cluster import KMeans

    n = X.shape[0]
    distinct = len(np.unique(np.round(X, 9), axis=0))
    silhouettes: dict[int, float] = {}
    if k is None:
        smallest = max(2, int(np.ceil(MIN_CLUSTER_SHARE * n)))
        best: dict[bool, tuple] = {}  # every cluster big enough? -> (k, labels, silhouette)
        for kk in range(2, min(max_clusters, n - 1, distinct) + 1):
            labels = KMeans(n_clusters=kk, n_init=10, random_state=seed).fit_predict(X)
            if len(set(labels)) < 2:
                continue
            s = _silhouette(X, labels, seed)
            silhouettes[kk] = s
            # a "mood" of 2 tracks out of 69 is a pair of outliers, not a mood: chosen only when every k has one
            big = bool(np.bincount(labels).min() >= smallest)
            if big not in best or s > best[big][2] + 1e-12:
                best[big] = (kk, labels, s)
        if not best:
            return 1, np.zeros(n, dtype=int), None, silhouettes
        best_k, best_labels, best_s = best.get(True) or best[False]
        return best_k, best_labels, best_s, silhouettes
    k = min(k, distinct)
    labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(X) if k > 1 else np.zeros(n, dtype=int)
    sil = _silhouette(X, labels, seed) if 1 < len(set(labels)) < n else None
    return int(k), labels, sil, silhouettes


def _silhouette(X: np.ndarray, labels: np.ndarray, seed: int, rows: int = SILHOUETTE_ROWS) -> float:
    """The mean silhouette of ``labels`` (at least two clusters): of every row up to ``rows``
    rows, else of a sample of about ``rows`` rows, every cluster in proportion to its size and
    with at least two rows of its own (deterministic for ``seed``)."""
    from sklearn.metrics import silhouette_score
    labels = np.asarray(labels)
    n = len(labels)
    if n > rows:
        rng = np.random.default_rng(seed)
        parts = []
        for c in np.unique(labels):
            members = np.flatnonzero(labels == c)
            take = min(len(members), max(2, int(round(rows * len(members) / n))))
            parts.append(rng.choice(members, size=take, replace=False))
        keep = np.sort(np.concatenate(parts))
        X, labels = X[keep], labels[keep]
    return float(silhouette_score(X, labels))


def _audio_matrix(feats: pd.DataFrame) -> tuple[np.ndarray, list[str], pd.DataFrame]:
    """(standardised weighted matrix, feature names, raw feature frame) of the tracks."""
    from sklearn.preprocessing import StandardScaler

    cols = [c for c in CLUSTER_FEATURES if c in feats.columns and feats[c].notna().any()]
    raw = feats[cols].astype(float)
    raw = raw.fillna(raw.median())
    X = StandardScaler().fit_transform(raw.to_numpy())
    X = np.nan_to_num(X)
    for j, c in enumerate(cols):
        if c in ("valence", "energy"):
            X[:, j] *= MOOD_AXIS_WEIGHT
    return X, cols, raw


def _text_matrix(library: Library, ids: list[str], seed: int, where: Where = CACHE
                 ) -> tuple[np.ndarray, list[str], tuple]:
    """(L2-normalised SVD of the TF-IDF matrix, ["svd1", ...], (tfidf matrix, vocabulary))."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    texts = track_texts(library, ids)
    vec = _text_vectorizer()
    try:
        tfidf = vec.fit_transform(texts.tolist())
    except ValueError:  # empty vocabulary: no usable words at all
        raise NotEnoughData(f"the {len(ids)} tracks have no words to cluster on (names, artists, "
                            f"albums, genres); {where.features}") from None
    vocab = vec.get_feature_names_out()
    n_comp = min(20, len(ids) - 1, tfidf.shape[1] - 1)
    if n_comp >= 2:
        Z = TruncatedSVD(n_components=n_comp, random_state=seed).fit_transform(tfidf)
    else:
        Z = tfidf.toarray()
    Z = normalize(Z)
    return Z, [f"svd{i + 1}" for i in range(Z.shape[1])], (tfidf, vocab)


def _relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0.. by decreasing size (ties: first appearance)."""
    labels = np.asarray(labels)
    uniq, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(uniq)), key=lambda i: (-counts[i], first[i]))
    mapping = {uniq[i]: new for new, i in enumerate(order)}
    return np.array([mapping[x] for x in labels], dtype=int)


def _pca_2d(X: np.ndarray, seed: int) -> tuple[np.ndarray, tuple[float, float]]:
    """2-D PCA coordinates (zeros for missing axes) and the explained variance shares."""
    from sklearn.decomposition import PCA

    n_comp = min(2, X.shape[0], X.shape[1])
    coords = np.zeros((X.shape[0], 2))
    explained = [0.0, 0.0]
    if n_comp >= 1 and np.ptp(X, axis=0).max() > 0:
        pca = PCA(n_components=n_comp, random_state=seed)
        coords[:, :n_comp] = pca.fit_transform(X)
        explained[:n_comp] = [float(x) for x in pca.explained_variance_ratio_]
    return coords, (explained[0], explained[1])


def _axis_words(values, names: list[str], coords: np.ndarray, top: int = 2) -> tuple[str, str]:
    """What each PCA axis means, in the features or words that move with it: per axis, the
    ``top`` columns of ``values`` (tracks x features, standardised audio or TF-IDF, dense or
    sparse) with the largest covariance with the coordinate, each way, those at least a
    quarter of the largest ("acousticness ← → energy, loudness"; "← → tempo" when only one way
    has any; "" for a flat axis)."""
    out = []
    for a in range(2):
        c = coords[:, a] - coords[:, a].mean()
        cov = np.asarray(values.T @ c, dtype=float).ravel()
        big = np.abs(cov).max() if cov.size else 0.0
        if not big > 1e-12:
            out.append("")
            continue
        order = np.argsort(-cov, kind="stable")
        pos = [names[j].replace("duration_ms", "duration") for j in order[:top] if cov[j] >= big / 4]
        neg = [names[j].replace("duration_ms", "duration") for j in order[::-1][:top] if -cov[j] >= big / 4]
        out.append(f"{', '.join(neg)} ← → {', '.join(pos)}".strip())
    return out[0], out[1]


def _audio_clusters(raw: pd.DataFrame, X: np.ndarray, labels: np.ndarray, cols: list[str],
                    valence_threshold: float, energy_threshold: float) -> pd.DataFrame:
    """Per cluster: size, label (quadrant of the mean valence/energy + standout qualifiers),
    mean raw features."""
    rows = []
    z = pd.DataFrame(X, columns=cols)
    for c in range(labels.max() + 1):
        sel = labels == c
        mean = raw[sel].mean()
        zmean = z[sel].mean()
        mood = quadrant([mean["valence"]], [mean["energy"]], valence_threshold, energy_threshold)[0]
        words = []
        for f, zval in zmean.drop(["valence", "energy"], errors="ignore").abs().sort_values(ascending=False).items():
            if zval < QUALIFIER_Z or f not in QUALIFIERS or len(words) == 2:
                continue
            word = QUALIFIERS[f][0] if zmean[f] > 0 else QUALIFIERS[f][1]
            if word and word not in CONTRADICTS.get(mood, ()):
                words.append(word)
        label = ", ".join([MOOD_LABELS[mood]] + words)
        rows.append({"cluster": c, "size": int(sel.sum()), "label": label, "quadrant": mood,
                     "_z": zmean, **mean.to_dict()})
    _tell_apart(rows)
    return pd.DataFrame(rows).drop(columns="_z")


# what tells apart clusters labelled alike (one quadrant, the same qualifiers): the higher and the
# lower in valence or energy, whichever differs more between them
APART = {"valence": ("brighter", "darker"), "energy": ("more intense", "softer")}


def _tell_apart(rows: list[dict]) -> None:
    """Clusters of one label get a word of the valence or energy that sets them apart, the
    highest and the lowest of them ("energetic/intense, brighter" and "energetic/intense, darker",
    where they were "energetic/intense" and "energetic/intense 2", valence 0.67 and 0.51); any
    still alike (a third between them) are numbered by ``MoodClusters.names``."""
    by_label: dict[str, list[dict]] = {}
    for row in rows:
        by_label.setdefault(row["label"], []).append(row)
    for label, alike in by_label.items():
        features = [f for f in APART if f in alike[0]["_z"].index]
        if len(alike) < 2 or not features:
            continue
        spread = {f: max(r["_z"][f] for r in alike) - min(r["_z"][f] for r in alike) for f in features}
        f = max(features, key=lambda name: spread[name])
        if not spread[f] > 1e-9:
            continue
        ordered = sorted(alike, key=lambda r: r["_z"][f])
        ordered[-1]["label"] = f"{label}, {APART[f][0]}"
        ordered[0]["label"] = f"{label}, {APART[f][1]}"


def _text_clusters(raw: tuple, labels: np.ndarray, library: Library, ids: list[str]) -> pd.DataFrame:
    """Per cluster: size, label (its most distinctive genres or name words, then its two
    leading artists: ``moodlabels``), terms (top 5 by mean TF-IDF above the playlist's mean)."""
    from .moodlabels import cluster_label, track_terms
    tfidf, vocab = raw
    genres, words, firsts = track_terms(library, ids, ENGLISH_STOP_WORDS | NOISE_WORDS)
    overall = np.asarray(tfidf.mean(axis=0)).ravel()
    rows = []
    for c in range(labels.max() + 1):
        sel = labels == c
        lift = np.asarray(tfidf[np.flatnonzero(sel)].mean(axis=0)).ravel() - overall
        top = [vocab[i] for i in np.argsort(-lift, kind="stable")[:5] if lift[i] > 0]
        rows.append({"cluster": c, "size": int(sel.sum()), "label": cluster_label(genres, words, firsts, sel),
                     "terms": top})
    return pd.DataFrame(rows)


def legend_label(cluster: int, label: str, count: int) -> str:
    """A cluster's legend entry, "1 (12): calm, like Fairuz": the count before the label, which
    may end with an artist's name: after a Hebrew or Arabic one, "(12)" would join its
    right-to-left run and be drawn on the name's left."""
    return f"{cluster} ({count}): {label}"


def _mpl(text) -> str:
    """Text for matplotlib as it is: a stranger's "$" would otherwise start mathtext."""
    return str(text).replace("$", r"\$")


CHART_TEXT_MAX = 160  # characters of one name, label or title on a chart: a name of 2,000 took the whole image


def _chart_text(text, width: int) -> str:
    """A stranger's name (or a label or title holding one) as the chart shows it: its control
    characters as visible escapes, as in a table ("\\x1b[31m": a raw ESC was a box in a PNG and
    made an SVG no reader opens), cut to ``CHART_TEXT_MAX`` characters with "…" (a name of
    2,000 wrapped to 29 lines of title and 60 of legend, the plot squeezed to a strip), wrapped
    to ``width``, "$" kept from starting mathtext."""
    from .safetext import cut, terminal_safe
    return _mpl(_wrap(cut(terminal_safe(text), CHART_TEXT_MAX), width))


def _wrap(text: str, width: int) -> str:
    """``text`` wrapped onto lines at most ``width`` Latin letters wide, measured as the tables
    measure them (rich's ``cell_len``: a Chinese or Japanese character counts two, an emoji
    family joined by ZWJ two); a longer word is split, never inside a letter (``wrap_cells``)."""
    from rich.cells import cell_len

    from .safetext import wrap_cells
    return "\n".join(wrap_cells(str(text), width, cell_len)) or str(text)


# The chart's format by its file's ending (none: PNG). "moods.svg" was PNG data under that
# name, which no SVG reader opens.
PLOT_FORMATS = {"": "png", ".png": "png", ".svg": "svg", ".pdf": "pdf"}


def plot_format(path: str | Path) -> str:
    """The format ``plot_clusters`` writes ``path`` in; UsageError for an ending it cannot write."""
    suffix = Path(path).suffix.lower()
    if suffix not in PLOT_FORMATS:
        raise UsageError(f"{path}: the mood chart is written as PNG, SVG or PDF, chosen by the file's "
                         f"ending (.png, .svg, .pdf), not {suffix}")
    return PLOT_FORMATS[suffix]


def plot_clusters(result: MoodClusters, path: str | Path, title: str | None = None) -> Path:
    """Write a scatter of the clusters (PCA x, y; one colour per cluster, labelled in the
    legend), as PNG, SVG or PDF by the file's ending (``plot_format``). Needs matplotlib
    (optional: ``pip install matplotlib``). Returns the path."""
    kind = plot_format(path)
    fig = cluster_figure(result, title)
    path = Path(path)
    from .plotfonts import quiet_glyphs
    from .store import atomic_write
    # a run stopped half way keeps the old plot; "tight" keeps the legend beside the axes in the image
    with quiet_glyphs():
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=kind, bbox_inches="tight"), chosen=True)
    return path


def cluster_figure(result: MoodClusters, title: str | None = None):
    """The matplotlib Figure ``plot_clusters`` saves: the legend (each cluster's words and
    size, then each source playlist's marker) beside the axes, never over the points, the
    title and long names wrapped so that no text runs out of the image, and right-to-left names
    in their place among the chart's left-to-right words."""
    from .plotfonts import import_matplotlib
    import_matplotlib("plotting", "matplotlib.figure", "matplotlib.backends.backend_agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(9, 5.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    t = result.tracks[result.tracks["cluster"] >= 0]
    labels = result.clusters.set_index("cluster")["label"]
    sources = list(dict.fromkeys(t["playlist"])) if "playlist" in t.columns else [None]
    marker = {p: PLOT_MARKERS[i % len(PLOT_MARKERS)] for i, p in enumerate(sources)}
    colours = {}
    for c, grp in t.groupby("cluster"):
        for p in sources:  # one marker per source playlist, one colour per cluster
            sub = grp if p is None else grp[grp["playlist"] == p]
            if len(sub):
                pts = ax.scatter(sub["x"], sub["y"], s=28, alpha=0.8, marker=marker[p],
                                 color=colours.get(c), label=None)
                colours.setdefault(c, pts.get_facecolor()[0])
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], marker="o", linestyle="", color=colours[c],
                      label=_chart_text(legend_label(c, labels.get(c, ""), int((t["cluster"] == c).sum())), 34))
               for c in sorted(colours)]
    from .safetext import cut, visible  # the playlists' names as `recommend playlists` shows them
    names = [_chart_text(visible(p), 34) for p in sources] if len(sources) > 1 else []
    handles += [Line2D([], [], marker=marker[p], linestyle="", color="grey", label=name)
                for p, name in zip(sources, names)]
    ev = result.explained_variance
    # each axis: its share of the variance, then what grows along it (rotated, "←" points down)
    ax.set_xlabel(_mpl(f"PC1 ({ev[0]:.0%} of variance)" + (f"\n{result.axes[0]}" if result.axes[0] else "")))
    ax.set_ylabel(_mpl(f"PC2 ({ev[1]:.0%} of variance)" + (f"\n{result.axes[1]}" if result.axes[1] else "")))
    named = cut(visible(result.playlist_name), CHART_TEXT_MAX - 40)  # its moods said after it whole
    ax.set_title(_chart_text(title or f"{named}: {result.k} {plural(result.k, 'mood')} ({result.basis} features)", 70),
                 fontsize=11)
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    from .plotfonts import keep_left_to_right, quiet_glyphs, use_glyph_fonts
    # Hebrew or Arabic names read right to left, the words around them in order
    keep_left_to_right(fig, [_chart_text(visible(p), 10 ** 6) for p in sources if p is not None] + names)
    use_glyph_fonts(fig)  # CJK or Thai names in a font that has them, else one log line
    import warnings
    with quiet_glyphs(), warnings.catch_warnings():
        # "Tight layout not applied": the chart is drawn as it is (a warning with our source path, on stderr)
        warnings.filterwarnings("ignore", message="Tight layout not applied", category=UserWarning)
        fig.tight_layout()
    return fig


# ----- classifier ---------------------------------------------------------------------------
def mood_labels(library: Library, valence_threshold: float = 0.5, energy_threshold: float = 0.5) -> pd.Series:
    """Mood per track id from its audio features (only tracks that have valence and energy)."""
    feats = audio_features(library)
    return pd.Series(quadrant(feats["valence"], feats["energy"], valence_threshold, energy_threshold),
                     index=feats.index, dtype=object, name="mood")


def _first_artists(library: Library, track_ids: Sequence[str]) -> list[str]:
    """The first artist key (``artists.artist_key``) of each track id, "" when it has none."""
    return [key or "" for key in first_artist_keys(library, track_ids)]


class MoodClassifier:
    """Predicts a track's mood without its audio features, from what is there: its text
    (name, artists, album, and the artists' genres/tags from Spotify or MusicBrainz) as
    TF-IDF word n-grams, and the mean valence and energy of the *same artist's other*
    labelled tracks (0 with an "unknown" flag when there are none). Logistic regression,
    trained on the tracks whose audio features give the mood; fitted on the user's machine
    at run time (no model is shipped).

    scikit-learn habits: ``__init__`` stores parameters, ``fit`` returns self, learned
    attributes end in ``_`` (``classes_``, ``vectorizer_``, ``model_``, ``n_train_``).
    ``artist_weight`` scales the artist features against the text (0 = text only).
    """

    def __init__(self, C: float = 1.0, ngram_range: tuple[int, int] = (1, 2), min_df: int = 1,
                 class_weight: str | None = "balanced", valence_threshold: float = 0.5,
                 energy_threshold: float = 0.5, seed: int = 0, artist_weight: float = 0.5) -> None:
        self.C = C
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.class_weight = class_weight
        self.valence_threshold = valence_threshold
        self.energy_threshold = energy_threshold
        self.seed = seed
        self.artist_weight = artist_weight

    def get_params(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    def _labels(self, library: Library) -> pd.Series:
        return mood_labels(library, self.valence_threshold, self.energy_threshold)

    def _artist_features(self, library: Library, track_ids: list[str]) -> np.ndarray:
        """Per track: (mean valence - 0.5, mean energy - 0.5, known) over the training tracks
        of its first artist other than itself, times ``artist_weight``."""
        artists = _first_artists(library, track_ids)
        sums, own = self.artist_sums_, self.train_values_
        out = np.zeros((len(track_ids), 3))
        for i, (tid, a) in enumerate(zip(track_ids, artists)):
            if not a or a not in sums:
                continue
            v, e, n = sums[a]
            if tid in own:  # leave the track itself out
                ov, oe = own[tid]
                v, e, n = v - ov, e - oe, n - 1
            if n > 0:
                out[i] = (v / n - 0.5, e / n - 0.5, 1.0)
        return out * self.artist_weight

    def _matrix(self, library: Library, track_ids: list[str]):
        import scipy.sparse as sp

        X = self.vectorizer_.transform(track_texts(library, track_ids).tolist())
        return sp.hstack([X, sp.csr_matrix(self._artist_features(library, track_ids))]).tocsr()

    def fit(self, library: Library, track_ids: Iterable[str] | None = None,
            where: Where = CACHE) -> "MoodClassifier":
        """Learn from the library's tracks that have audio features (only ``track_ids`` among
        them when given). Raises NotEnoughData with fewer than 2 moods or 4 tracks (saying how
        ``where``'s tracks get audio features)."""
        from sklearn.linear_model import LogisticRegression

        y = self._labels(library)
        if track_ids is not None:
            y = y[y.index.isin([str(t) for t in track_ids])]
        if len(y) < 4 or y.nunique() < 2:
            raise NotEnoughData(f"the mood classifier needs at least 4 tracks with audio features in at least "
                                f"2 moods, got {len(y)} {plural(len(y), 'track')} in {y.nunique()} "
                                f"{plural(y.nunique(), 'mood')}; {where.features}")
        ids = list(y.index)
        feats = audio_features(library).loc[ids]
        self.train_values_ = {t: (float(v), float(e)) for t, v, e in zip(ids, feats["valence"], feats["energy"])}
        sums: dict[str, list[float]] = {}
        for t, a in zip(ids, _first_artists(library, ids)):
            if a:
                acc = sums.setdefault(a, [0.0, 0.0, 0])
                acc[0] += self.train_values_[t][0]
                acc[1] += self.train_values_[t][1]
                acc[2] += 1
        self.artist_sums_ = {a: tuple(v) for a, v in sums.items()}
        self.vectorizer_ = _text_vectorizer(self.ngram_range, self.min_df)
        try:
            self.vectorizer_.fit(track_texts(library, ids).tolist())
        except ValueError:  # no words at all: the artist features alone
            self.vectorizer_ = _text_vectorizer(self.ngram_range, self.min_df, stop_words=False)
            self.vectorizer_.fit(["x" + "y" * 3])
        self.model_ = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000,
                                         random_state=self.seed).fit(self._matrix(library, ids),
                                                                     y.to_numpy().astype(str))
        self.classes_ = [str(c) for c in self.model_.classes_]
        self.n_train_ = int(len(y))
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotEnoughData("the mood classifier is not trained yet: call fit(library) first")

    def predict_proba(self, library: Library, track_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Probability of each mood (columns ``classes_``), one row per track id."""
        self._check_fitted()
        ids = list(library.track_ids.unique()) if track_ids is None else [str(t) for t in track_ids]
        if not ids:
            return pd.DataFrame(columns=self.classes_, index=pd.Index([], name="track_id"), dtype=float)
        proba = self.model_.predict_proba(self._matrix(library, ids))
        return pd.DataFrame(proba, index=pd.Index(ids, name="track_id"), columns=self.classes_)

    def predict(self, library: Library, track_ids: Iterable[str] | None = None) -> pd.Series:
        """Most likely mood per track id (every track, or ``track_ids``)."""
        proba = self.predict_proba(library, track_ids)
        return pd.Series(proba.idxmax(axis=1) if len(proba) else [], index=proba.index, dtype=object, name="mood")

    def score(self, library: Library, track_ids: Iterable[str] | None = None) -> float:
        """Accuracy (0..1) of the predictions against the audio-feature moods of ``track_ids``
        (default: every track with features). Pass tracks held out of ``fit`` for an honest
        number, or use ``holdout_score`` / ``evaluate_classifier``."""
        y = self._labels(library)
        if track_ids is not None:
            y = y[y.index.isin([str(t) for t in track_ids])]
        if y.empty:
            raise NotEnoughData("no track with audio features to score the mood classifier on")
        pred = self.predict(library, list(y.index))
        return float((pred.to_numpy() == y.to_numpy()).mean())

    def holdout_score(self, library: Library, test_size: float = 0.25) -> float:
        """Held-out accuracy (see ``evaluate_classifier``)."""
        return evaluate_classifier(library, self, test_size=test_size).accuracy


@dataclass
class ClassifierReport:
    """How the mood classifier does on held-out tracks, beside always guessing the largest mood.

    ``useful``: accuracy beats the baseline by at least ``margin`` *and* a one-sided exact
    binomial test of the correct count against the majority's rate (its share of the training
    set, or of the test set when higher) gives p < ``alpha``; only
    then are its predictions used. ``confusion``: true mood (rows) x predicted mood (columns).
    """

    accuracy: float
    baseline: float
    baseline_mood: str
    n_train: int
    n_test: int
    p_value: float
    margin: float
    alpha: float
    useful: bool
    confusion: pd.DataFrame

    def to_dict(self) -> dict:
        """The report as plain values, exact (``cli`` rounds them for --json, a page as it shows them)."""
        return {"accuracy": self.accuracy, "baseline": self.baseline, "baseline_mood": self.baseline_mood,
                "n_train": self.n_train, "n_test": self.n_test, "p_value": self.p_value, "margin": self.margin,
                "alpha": self.alpha, "useful": self.useful,
                "confusion": {str(k): {str(c): int(v) for c, v in row.items()}
                              for k, row in self.confusion.to_dict(orient="index").items()}}


def evaluate_classifier(library: Library, classifier: MoodClassifier | None = None, test_size: float = 0.25,
                        margin: float = 0.05, alpha: float = 0.01, where: Where = CACHE) -> ClassifierReport:
    """Train a copy of ``classifier`` (default ``MoodClassifier()``) on a seeded,
    mood-stratified ``1 - test_size`` of the tracks with audio features (each recording once,
    so that no copy of a held-out track is learnt from), and report its
    accuracy on the rest beside the majority baseline (the training set's largest mood, as
    often as it occurs in the test set), the binomial test and the confusion matrix.
    Raises NotEnoughData below 8 labelled recordings or 2 moods (saying how ``where``'s tracks get
    audio features)."""
    from scipy.stats import binomtest
    from sklearn.model_selection import train_test_split

    clf = classifier or MoodClassifier()
    # in track id order: the split (and which copy of a recording stands for it) followed the
    # order of the imported file's rows, so re-saving a file in another order turned a useful
    # classifier into "NOT used" (50.7 % against 43.0 % on the same tracks)
    y = clf._labels(library).sort_index(kind="stable")
    every = set(library.track_ids) <= set(y.index)  # no track lacks audio features
    # each recording once: a copy (a single and its album release, same ISRC or title + artist)
    # held out while the other trains is told by its own name and artist, not predicted
    y = y[distinct_recordings(library, list(y.index))]
    if len(y) < 8 or y.nunique() < 2:
        # one mood among tracks that all have their features: importing features adds no second one
        one = f" (every one of them {y.iloc[0]})" if y.nunique() == 1 else ""
        how = ("more tracks of other moods would give it one" if one and every and len(y) >= 8 else where.features)
        raise NotEnoughData(f"a held-out score needs at least 8 recordings with audio features in 2 moods (copies "
                            f"of one recording count once), got {len(y)} in {y.nunique()} "
                            f"{plural(y.nunique(), 'mood')}{one}; {how}")
    # the held-out count as sklearn rounds it (ceil), kept within 1..n-1 (a holdout of 0 or 1
    # would leave one side empty); stratified only when both sides can hold every mood
    n_test = min(max(int(np.ceil(test_size * len(y))), 1), len(y) - 1)
    stratify = y.value_counts().min() >= 2 and min(n_test, len(y) - n_test) >= y.nunique()
    train, test = train_test_split(list(y.index), test_size=n_test, random_state=clf.seed,
                                   stratify=y.to_numpy() if stratify else None)
    if y.loc[train].nunique() < 2:
        # unstratified (a mood of one recording) and the held-out side took every track of the other
        # moods: one mood left to learn, which said "cannot be tested ... got 6 tracks in 1 mood; import
        # features" of 8 recordings with theirs; the first held-out track of another mood trades places
        # with the last one learnt from
        other = next(t for t in test if y.at[t] != y.at[train[0]])
        train, test = train[:-1] + [other], [t for t in test if t != other] + [train[-1]]
    clone = type(clf)(**clf.get_params()).fit(library, train, where=where)
    truth = y.loc[test].to_numpy().astype(str)
    pred = clone.predict(library, test).to_numpy().astype(str)
    correct = int((pred == truth).sum())
    majority = str(y.loc[train].value_counts().idxmax())
    baseline = float((truth == majority).mean())
    accuracy = correct / len(test)
    # the null is guessing the majority, which hits its share of the training set on average; the
    # test set's own count of it may be 0 (a small holdout), which made any correct guess "significant"
    rate = max(baseline, float((y.loc[train] == majority).mean()))
    p = float(binomtest(correct, len(test), min(max(rate, 1e-9), 1 - 1e-9), alternative="greater").pvalue)
    present = [m for m in MOODS if m in set(truth) | set(pred)]
    confusion = pd.crosstab(pd.Series(truth, name="true"), pd.Series(pred, name="predicted"))
    confusion = confusion.reindex(index=present, columns=present, fill_value=0)
    return ClassifierReport(accuracy=accuracy, baseline=baseline, baseline_mood=majority, n_train=len(train),
                            n_test=len(test), p_value=p, margin=margin, alpha=alpha,
                            useful=bool(accuracy >= baseline + margin and p < alpha), confusion=confusion)


def mood_counts(classified: pd.DataFrame) -> list[dict]:
    """Rows of ``classify_library``'s table counted per mood (in ``MOODS`` order, then "no
    mood" for the tracks neither source could place): mood, audio, predicted, total."""
    mood = classified["mood"].astype(object).where(classified["mood"].notna(), "no mood")
    counts = pd.crosstab(mood, classified["source"])
    out = []
    for m in [*MOODS, "no mood"]:
        if m in counts.index:
            audio, predicted = (int(counts.at[m, c]) if c in counts.columns else 0 for c in ("audio", "predicted"))
            out.append({"mood": m, "audio": audio, "predicted": predicted, "total": int(counts.loc[m].sum())})
    return out


def classify_library(library: Library, classifier: MoodClassifier | None = None,
                     valence_threshold: float = 0.5, energy_threshold: float = 0.5,
                     test_size: float = 0.25, margin: float = 0.05, evaluate: bool = False,
                     where: Where = CACHE, classifier_c: float = 1.0) -> pd.DataFrame:
    """Mood of every library track (recordings listed once): from its audio features when it
    has them (source "audio", confidence 1.0), else predicted by ``classifier`` (source
    "predicted", confidence = the predicted mood's probability) *if* the classifier beats
    the majority baseline on held-out tracks (``evaluate_classifier`` with ``margin``);
    otherwise those tracks get no mood (source "unknown"). ``attrs["report"]`` holds the
    ClassifierReport (None when every track has features, unless ``evaluate``, or when there
    are too few to test: then ``attrs["untested"]`` says why, else it is None).
    A classifier that is not fitted yet is fitted on the library (default: ``MoodClassifier``
    with these thresholds and ``C=classifier_c``, the setting ``moods.classifier_c``). Columns:
    track_id, mood, source, confidence, name, artists
    (tracks frame order). Raises NotEnoughData when no track has audio features.
    """
    labels = mood_labels(library, valence_threshold, energy_threshold)
    if labels.empty:
        raise _no_features(library, where, "there is nothing to learn moods from")
    display = track_display(library).drop_duplicates("track_id").reset_index(drop=True)
    # each recording once, a copy with audio features first
    keep = one_copy_each(library, list(display["track_id"]), display["track_id"].isin(labels.index).to_numpy())
    display = display[keep].reset_index(drop=True)
    out = pd.DataFrame({"track_id": display["track_id"]})
    out["mood"] = out["track_id"].map(labels)
    out["source"] = np.where(out["mood"].notna(), "audio", "unknown")
    out["confidence"] = np.where(out["mood"].notna(), 1.0, np.nan)
    missing = out.loc[out["mood"].isna(), "track_id"].tolist()
    report = None
    untested = None
    if missing or evaluate:
        clf = classifier or MoodClassifier(C=classifier_c, valence_threshold=valence_threshold,
                                           energy_threshold=energy_threshold)
        try:
            report = evaluate_classifier(library, clf, test_size=test_size, margin=margin, where=where)
        except NotEnoughData as exc:
            log.info("mood classifier not tested: %s", exc)
            untested = str(exc)
        if report is not None and report.useful and missing:
            if not hasattr(clf, "model_"):
                clf.fit(library, where=where)
            proba = clf.predict_proba(library, missing)
            sel = out["mood"].isna()
            out.loc[sel, "mood"] = proba.idxmax(axis=1).to_numpy()
            out.loc[sel, "confidence"] = proba.max(axis=1).to_numpy()
            out.loc[sel, "source"] = "predicted"
    out["name"] = display["name"]
    out["artists"] = display["artists"]
    out["artist_names"] = display["artist_names"]
    out.attrs["report"] = report
    out.attrs["untested"] = untested
    return out
