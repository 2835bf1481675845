"""Deterministic synthetic libraries for the speed bench: ``make_library(n_tracks, n_playlists)``.

Shape: artists belong to topics (each with its own vocabulary and genres), albums of ~10
tracks per artist, Zipf-like track popularity inside each topic, playlists drawn from one
topic (90 %) plus popular tracks of any topic (10 %), ~100 tracks per playlist on average
(so memberships ~ 100 x playlists), 1 % remastered copies (same title + " - Remastered
20xx", own ISRC) to exercise dedupe, top tracks for the three time ranges, saved tracks with
dates, a discovery frame. Everything is vectorised (1M tracks in a few seconds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.library import Library

_ALPHABET = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
_SYLLABLES = np.array(["ka", "lo", "mi", "ra", "ne", "to", "su", "vi", "da", "re", "po", "xa", "zu",
                       "fe", "go", "hi", "ju", "be", "co", "wy", "qu", "ly", "mo", "ni", "sa", "te"])
_GENRE_WORDS = np.array(["pop", "rock", "house", "techno", "jazz", "soul", "funk", "folk", "metal",
                         "punk", "trap", "disco", "ambient", "indie", "latin", "reggae", "blues"])
_GENRE_PREFIX = np.array(["", "deep ", "dark ", "nu ", "dream ", "acid ", "neo ", "lo-fi ", "tropical "])
_REF_DATE = pd.Timestamp("2026-03-01", tz="UTC")


def _ids(rng: np.random.Generator, n: int, prefix: str) -> np.ndarray:
    """n unique 22-character base-62 ids (prefix + counter + random tail)."""
    tail = _ALPHABET[rng.integers(0, 62, size=(n, 12))]
    tails = tail.view("<U12").ravel() if n else np.array([], dtype="<U12")
    counter = np.char.zfill(np.arange(n).astype(str), 22 - 12 - len(prefix))
    return np.char.add(np.char.add(prefix, counter), tails).astype(object)


def _words(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """n made-up words of k syllables."""
    parts = _SYLLABLES[rng.integers(0, len(_SYLLABLES), size=(n, k))]
    out = parts[:, 0]
    for j in range(1, k):
        out = np.char.add(out, parts[:, j])
    return out


def make_library(n_tracks: int, n_playlists: int, seed: int = 0) -> Library:
    """A synthetic Library with ``n_tracks`` tracks and ``n_playlists`` playlists (deterministic)."""
    rng = np.random.default_rng(seed)
    n_tracks = max(int(n_tracks), 10)
    n_playlists = max(int(n_playlists), 1)
    n_topics = int(np.clip(np.sqrt(n_playlists) * 2, 4, 400))
    n_artists = max(n_tracks // 20, 5)

    # --- topics: vocabulary of 40 words and 3 genres each
    vocab = _words(rng, n_topics * 40, 2).reshape(n_topics, 40)
    genres = np.char.add(_GENRE_PREFIX[rng.integers(0, len(_GENRE_PREFIX), size=(n_topics, 3))],
                         _GENRE_WORDS[rng.integers(0, len(_GENRE_WORDS), size=(n_topics, 3))])

    # --- artists
    artist_ids = _ids(rng, n_artists, "ar")
    artist_topic = rng.integers(0, n_topics, size=n_artists)
    artist_names = np.char.add(np.char.add(_words(rng, n_artists, 2), " "), _words(rng, n_artists, 3))
    artist_names = np.char.title(artist_names).astype(object)
    artists = pd.DataFrame({
        "artist_id": artist_ids,
        "name": artist_names,
        "genres": [list(genres[t, : 1 + (i % 3)]) for i, t in enumerate(artist_topic)],
    })

    # --- tracks: sorted by artist so albums are runs of ~10 consecutive tracks
    n_orig = n_tracks - n_tracks // 100
    track_artist = np.sort(rng.integers(0, n_artists, size=n_orig))
    album_of = np.cumsum(np.r_[True, (track_artist[1:] != track_artist[:-1]) | (rng.random(n_orig - 1) < 0.1)]) - 1
    n_albums = int(album_of[-1]) + 1
    album_ids = _ids(rng, n_albums, "al")
    topic = artist_topic[track_artist]
    w1 = vocab[topic, rng.integers(0, 40, size=n_orig)]
    w2 = vocab[topic, rng.integers(0, 40, size=n_orig)]
    names = np.char.title(np.char.add(np.char.add(w1, " "), w2)).astype(object)
    album_names = np.char.title(vocab[artist_topic[track_artist[np.searchsorted(album_of, np.arange(n_albums))]],
                                      rng.integers(0, 40, size=n_albums)]).astype(object)
    year = rng.integers(1960, 2026, size=n_albums)
    month = rng.integers(1, 13, size=n_albums)
    dates = np.char.add(np.char.add(year.astype(str), "-"), np.char.zfill(month.astype(str), 2)).astype(object)

    # remastered copies of random originals (same artist and title, new id / ISRC / album)
    n_copy = n_tracks - n_orig
    src = rng.integers(0, n_orig, size=n_copy)
    idx = np.r_[np.arange(n_orig), src]
    copy_names = np.char.add(names[src].astype(str), np.char.add(" - Remastered ",
                                                                 rng.integers(1995, 2025, size=n_copy).astype(str)))
    all_names = np.r_[names, copy_names.astype(object)]
    track_ids = _ids(rng, n_tracks, "tr")
    isrc = np.char.add("SYN", np.char.zfill(np.arange(n_tracks).astype(str), 9)).astype(object)
    artist_row = track_artist[idx]
    album_row = album_of[idx]
    # Zipf-like popularity: rank inside the whole catalogue, shuffled
    zipf = 1.0 / np.power(rng.permutation(n_tracks) + 1.0, 0.8)
    pop = np.clip(np.round(100 * zipf ** 0.25), 0, 100).astype(int)
    tracks = pd.DataFrame({
        "track_id": track_ids,
        "name": all_names,
        "artist_ids": [[a] for a in artist_ids[artist_row]],
        "artist_names": [[a] for a in artist_names[artist_row]],
        "album_id": album_ids[album_row],
        "album_name": album_names[album_row],
        "release_date": dates[album_row],
        "duration_ms": rng.integers(90_000, 420_000, size=n_tracks),
        "explicit": rng.random(n_tracks) < 0.1,
        "isrc": isrc,
        "popularity": pop,
    })

    # --- playlists: tracks grouped by topic, sampled by popularity (inverse CDF per topic)
    t_topic = topic[idx]
    order = np.argsort(t_topic, kind="stable")
    cum = np.cumsum(zipf[order])
    bounds = np.searchsorted(t_topic[order], np.arange(n_topics + 1))
    lo = np.r_[0.0, cum][bounds[:-1]]
    hi = np.r_[0.0, cum][bounds[1:]]
    sizes = np.clip(rng.lognormal(np.log(80), 0.6, size=n_playlists), 5, 1000).astype(int)
    sizes = np.maximum((sizes * 100 / sizes.mean()).astype(int), 5)  # mean ~100
    pl_topic = rng.integers(0, n_topics, size=n_playlists)
    pl_topic = np.where(hi[pl_topic] > lo[pl_topic], pl_topic, int(np.argmax(hi - lo)))
    pl_of = np.repeat(np.arange(n_playlists), (sizes * 1.6).astype(int))  # oversample: popular tracks repeat
    m_topic = pl_topic[pl_of]
    u = lo[m_topic] + rng.random(len(pl_of)) * (hi[m_topic] - lo[m_topic])
    noise = rng.random(len(pl_of)) < 0.1
    u[noise] = rng.random(int(noise.sum())) * cum[-1]
    rows = order[np.minimum(np.searchsorted(cum, u, side="right"), n_tracks - 1)]
    playlist_ids = _ids(rng, n_playlists, "pl")
    pairs = pd.DataFrame({"pl": pl_of, "row": rows}).drop_duplicates(ignore_index=True)
    position = pairs.groupby("pl", sort=False).cumcount().to_numpy()
    pairs = pairs[position < sizes[pairs["pl"].to_numpy()]]
    items = pd.DataFrame({"playlist_id": playlist_ids[pairs["pl"].to_numpy()],
                          "track_id": track_ids[pairs["row"].to_numpy()],
                          "position": pairs.groupby("pl", sort=False).cumcount().to_numpy()})
    base = pd.Timestamp("2020-01-01", tz="UTC")
    items["added_at"] = (base + pd.to_timedelta(rng.integers(0, 6 * 365, size=len(items)), unit="D")
                         ).strftime("%Y-%m-%dT%H:%M:%SZ")
    pl_names = np.char.add(np.char.add(np.char.title(vocab[pl_topic, rng.integers(0, 40, size=n_playlists)]),
                                       " "), genres[pl_topic, 0]).astype(object)
    counts = items["playlist_id"].value_counts()
    playlists = pd.DataFrame({
        "playlist_id": playlist_ids,
        "name": np.char.add(np.char.add(pl_names.astype(str), " #"), np.arange(n_playlists).astype(str)).astype(object),
        "description": "",
        "owner_id": "bench",
        "snapshot_id": "s1",
        "collaborative": False,
        "owned": True,
        "public": False,
        "total": counts.reindex(playlist_ids).fillna(0).astype(int).to_numpy(),
        "readable": True,
    })

    # --- the user: favourite topics -> top tracks, saved tracks, top artists, discovery
    fav = rng.choice(n_topics, size=min(3, n_topics), replace=False)
    fav_rows = np.flatnonzero(np.isin(t_topic, fav))
    fav_rows = fav_rows[np.argsort(-zipf[fav_rows], kind="stable")]
    top_parts = []
    for r, rng_name in enumerate(("short_term", "medium_term", "long_term")):
        pick = fav_rows[r * 10: r * 10 + 50] if len(fav_rows) else np.array([], dtype=int)
        top_parts.append(pd.DataFrame({"track_id": track_ids[pick], "time_range": rng_name,
                                       "rank": np.arange(1, len(pick) + 1)}))
    top_tracks = pd.concat(top_parts, ignore_index=True)
    n_saved = min(max(n_tracks // 50, 10), 10_000)
    saved_rows = rng.choice(n_tracks, size=min(n_saved, n_tracks), replace=False)
    saved_rows[: min(len(fav_rows), len(saved_rows) // 4)] = fav_rows[: min(len(fav_rows), len(saved_rows) // 4)]
    saved_rows = np.unique(saved_rows)
    saved = pd.DataFrame({
        "track_id": track_ids[saved_rows],
        "added_at": (_REF_DATE - pd.to_timedelta(rng.integers(0, 3 * 365, size=len(saved_rows)), unit="D")
                     ).strftime("%Y-%m-%dT%H:%M:%SZ"),
    })
    fav_artists = np.flatnonzero(np.isin(artist_topic, fav))[:50]
    top_artists = pd.concat([pd.DataFrame({"artist_id": artist_ids[fav_artists], "time_range": r,
                                           "rank": np.arange(1, len(fav_artists) + 1)}) for r in
                             ("short_term", "medium_term", "long_term")], ignore_index=True)
    members = np.zeros(n_tracks, dtype=bool)
    members[rows] = True
    members[saved_rows] = True
    disc_rows = np.flatnonzero(np.isin(artist_row, fav_artists) & ~members)
    discovery = pd.DataFrame({"track_id": track_ids[disc_rows], "album_id": album_ids[album_row[disc_rows]],
                              "source_artist_id": artist_ids[artist_row[disc_rows]]})
    return Library.from_frames(
        user_id="bench", tracks=tracks, artists=artists, playlists=playlists, playlist_items=items,
        top_tracks=top_tracks, top_artists=top_artists, saved_tracks=saved,
        followed_artists=pd.DataFrame({"artist_id": artist_ids[fav_artists[:10]]}), discovery=discovery)


def median_playlist(library: Library) -> str:
    """Id of the playlist whose size is closest to the median (ties: first): the bench target."""
    sizes = library.frames["playlist_items"].groupby("playlist_id", sort=False).size()
    target = sizes.median()
    return str((sizes - target).abs().sort_values(kind="stable").index[0])
