"""Build the built-in sample library from the TidyTuesday "Spotify Songs" CSV.

Usage: ``python bench/build_sample.py --csv PATH/spotify_songs.csv.gz``.
Writes ``recommender/data/sample_library.json.gz`` (the account the stand-in serves by
default), ``recommender/data/sample_features.csv.gz`` (audio features of its tracks) and
``recommender/data/sample_world.json.gz`` (the "other people's playlists" from which the
ListenBrainz stand-in computes similar artists, similar recordings and popularity).
Both outputs are committed: users and CI do not have the CSV. The build is deterministic
(same CSV, same bytes out); every "random" choice below is an order by sha1 of a string.

How the sample account ``demo-user`` is derived (copy into the README):

* Data: the TidyTuesday 2020-01-21 "Spotify Songs" CSV (real playlists, collected with the
  Spotify Web API; MIT-licensed repository). Rows without a track id, playlist id, track
  name or artist are dropped, then duplicate (playlist, track) pairs.
* Owned playlists: each playlist gets the genre most of its rows carry. For each of the six
  genres (edm, latin, pop, r&b, rap, rock), the playlists with 15 to 70 unique tracks are
  ordered by ``sha1("sample:" + playlist_id)`` and the first 5 are taken: 30 real playlists
  with their real names and tracks in CSV order, owned by ``demo-user``; about one in three
  is public (``sha1`` first hex digit < 5). Genre labels are never exposed.
* Followed playlists: the first 2 Spotify editorial playlists (ids starting ``37i9dQZF1``,
  at most 40 tracks) in the same sha1 order that were not taken; owner ``spotify``, their items answer 403.
* When items were added: playlist ``p`` was created ``30 + h1 % 1100`` days ago and last
  changed ``h2 % min(created, 400)`` days ago (``h1``, ``h2``: sha1 of ``"created:"+p``,
  ``"last:"+p``); its items are spread evenly between the two dates in CSV order. Dates are
  stored as "days ago" and rendered relative to today when the stand-in loads.
* Saved tracks: the first 150 library tracks by ``sha1("saved:" + track_id)``, plus the first
  20 catalogue tracks (below) in the same order; saved ``int(730 * u**2)`` days ago with
  ``u = sha1("saved-at:" + track_id) / 2**160`` (about a third within the last 90 days).
* Listening score of a track for a time range: the sum, over its playlist memberships and
  its save, of ``w(days_ago)`` with ``w = exp(-d/28)`` (short_term), ``exp(-d/182)``
  (medium_term), ``1 / (1 + d/1000)`` (long_term), times ``1 + 0.1 * min(n, 10)`` where ``n``
  is the number of library tracks by the same artist (people replay favourite artists).
  Top tracks: the 50 highest scores per range; top artists: the 30 highest sums of their
  tracks' scores. Ties by sha1.
* Followed artists: the top artists of any range whose ``sha1("follow:" + id)`` starts with
  a hex digit below 8 (about half).
* Catalogue (for discovery and search): every track in the whole CSV by a top or followed
  artist, with its album. The catalogue saves count as listening too, so top and followed
  artists are computed twice (without, then with them); the catalogue uses both passes. Albums list the tracks the CSV knows; the album artist is its most
  frequent track artist; ``album_type`` is "compilation" for names like "Greatest Hits",
  "single" when the album is named after one of its tracks and has at most 3 known tracks,
  else "album"; track numbers follow track-name order.
* Ids: track, album and playlist ids are the real Spotify ids from the CSV. The CSV has no
  artist ids: an artist's id is a 22-character base-62 number from ``sha1(artist name)``.
  The CSV has no ISRCs either: each track gets a synthetic one, ``ZZ`` + 10 base-36 digits of
  ``sha1(casefold(name) | casefold(artist))``, so re-releases of one song share an ISRC.
  ``explicit`` is unknown and stored as false.
* Extended mode only (never served otherwise): track popularity (the CSV's
  ``track_popularity``), artist popularity (mean of the artist's 5 most popular tracks), and
  artist genres (the artist's 3 most frequent playlist subgenres, then its most frequent
  genre, over all its CSV rows).
* Open-data world (``sample_world.json.gz``): every other playlist of the CSV, complete,
  limited to the account's tracks plus the tracks of artists found in at least 8 of those
  playlists (to keep the file small). World-only tracks get derived ids
  (``base62("world-track:<row>")``, albums ``base62("world-album:<row>")``) and the same
  synthetic ISRC rule; the demo adds them to the stand-in's catalogue.
* Playlist parsing cases: the first owned playlist also holds one podcast episode, one local
  file and one null item (a track Spotify no longer has).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import math
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recommender.standins.listenbrainz import WORLD_FORMAT, synthetic_isrc  # noqa: E402
from recommender.standins.spotify import FEATURE_COLUMNS, FORMAT, base62_id  # noqa: E402

OUT_LIBRARY = ROOT / "recommender" / "data" / "sample_library.json.gz"
OUT_FEATURES = ROOT / "recommender" / "data" / "sample_features.csv.gz"
OUT_WORLD = ROOT / "recommender" / "data" / "sample_world.json.gz"
WORLD_MIN_ARTIST_PLAYLISTS = 8  # world-only tracks: by artists in at least this many other playlists
USER = "demo-user"
GENRES = ("edm", "latin", "pop", "r&b", "rap", "rock")
PER_GENRE = 5
MIN_TRACKS, MAX_TRACKS = 15, 70
MAX_FOLLOWED_TRACKS = 40
N_FOLLOWED_PLAYLISTS = 2
N_SAVED_LIBRARY, N_SAVED_CATALOGUE = 150, 20
N_TOP_TRACKS, N_TOP_ARTISTS = 50, 30
EDITORIAL_PREFIX = "37i9dQZF1"
WEIGHTS = {
    "short_term": lambda d: math.exp(-d / 28),
    "medium_term": lambda d: math.exp(-d / 182),
    "long_term": lambda d: 1 / (1 + d / 1000),
}
EPISODE_ID = base62_id("sample-episode:1")


def h(text: str) -> int:
    """sha1 of ``text`` as an integer."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)


def hx(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


isrc = synthetic_isrc  # one rule for the sample and the open-data world


def load(csv_path: Path) -> pd.DataFrame:
    df = pd.read_csv(csv_path, dtype={"track_album_release_date": str})
    df = df.dropna(subset=["track_id", "playlist_id", "track_name", "track_artist"])
    return df


def choose_playlists(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    pairs = df.drop_duplicates(["playlist_id", "track_id"])
    size = pairs.groupby("playlist_id").size()
    genre = (df.groupby(["playlist_id", "playlist_genre"]).size().reset_index(name="n")
             .sort_values(["playlist_id", "n", "playlist_genre"], ascending=[True, False, True])
             .drop_duplicates("playlist_id").set_index("playlist_id")["playlist_genre"])
    order = sorted(size.index, key=lambda p: hx("sample:" + p))
    owned: list[str] = []
    for g in GENRES:
        cands = [p for p in order if genre[p] == g and MIN_TRACKS <= size[p] <= MAX_TRACKS]
        owned.extend(cands[:PER_GENRE])
    followed = [p for p in order if p.startswith(EDITORIAL_PREFIX) and p not in owned
                and size[p] <= MAX_FOLLOWED_TRACKS][:N_FOLLOWED_PLAYLISTS]
    return owned, followed


def build(csv_path: Path) -> tuple[dict, list[dict]]:
    df = load(csv_path)
    owned, followed = choose_playlists(df)
    pairs = df.drop_duplicates(["playlist_id", "track_id"])
    first = df.drop_duplicates("track_id").set_index("track_id")
    playlist_name = df.drop_duplicates("playlist_id").set_index("playlist_id")["playlist_name"]

    # ----- playlist items and their dates ---------------------------------------------
    items: dict[str, list[tuple[str, int]]] = {}
    for pid in owned + followed:
        tids = list(pairs.loc[pairs["playlist_id"] == pid, "track_id"])
        created = 30 + h("created:" + pid) % 1100
        last = h("last:" + pid) % min(created, 400)
        n = len(tids)
        items[pid] = [(t, round(created - (created - last) * k / max(n - 1, 1))) for k, t in enumerate(tids)]
    library = list(dict.fromkeys(t for pid in owned for t, _ in items[pid]))
    lib_set = set(library)

    artist_of = first["track_artist"].to_dict()
    artist_tracks = Counter(artist_of[t] for t in library)

    # ----- saved (library part first; catalogue part after the catalogue is known) ------
    def saved_days(tid: str) -> int:
        u = h("saved-at:" + tid) / 2**160
        return int(730 * u * u)

    saved_lib = sorted(library, key=lambda t: hx("saved:" + t))[:N_SAVED_LIBRARY]

    # ----- scores, top lists -----------------------------------------------------------
    def top_lists(saved: list[str]) -> tuple[dict, dict]:
        events: dict[str, list[int]] = defaultdict(list)
        for pid in owned:
            for t, d in items[pid]:
                events[t].append(d)
        for t in saved:
            events[t].append(saved_days(t))
        top_t, top_a = {}, {}
        for r, w in WEIGHTS.items():
            score = {t: sum(w(d) for d in ds) * (1 + 0.1 * min(artist_tracks.get(artist_of[t], 0), 10))
                     for t, ds in events.items()}
            top_t[r] = sorted(score, key=lambda t: (-round(score[t], 9), hx(f"top:{r}:{t}")))[:N_TOP_TRACKS]
            art: dict[str, float] = defaultdict(float)
            for t, s in score.items():
                art[artist_of[t]] += s
            top_a[r] = sorted(art, key=lambda a: (-round(art[a], 9), hx(f"top:{r}:{a}")))[:N_TOP_ARTISTS]
        return top_t, top_a

    top_tracks, top_artists = top_lists(saved_lib)
    top_artist_names = list(dict.fromkeys(a for r in WEIGHTS for a in top_artists[r]))
    followed_names = [a for a in top_artist_names if hx("follow:" + base62_id(a))[0] < "8"]
    catalogue_artists = set(top_artist_names) | set(followed_names)
    catalogue = sorted(set(df.loc[df["track_artist"].isin(catalogue_artists), "track_id"]) - lib_set)
    saved_cat = sorted(catalogue, key=lambda t: hx("saved:" + t))[:N_SAVED_CATALOGUE]
    saved = saved_lib + saved_cat
    # Recompute with the catalogue saves counted (they are listened to as well).
    top_tracks, top_artists = top_lists(saved)
    top_artist_names = list(dict.fromkeys(a for r in WEIGHTS for a in top_artists[r]))
    followed_names = sorted({*followed_names, *(a for a in top_artist_names if hx("follow:" + base62_id(a))[0] < "8")})
    catalogue_artists |= set(top_artist_names) | set(followed_names)
    catalogue = sorted(set(df.loc[df["track_artist"].isin(catalogue_artists), "track_id"]) - lib_set)

    all_tracks = list(dict.fromkeys(
        library + [t for pid in followed for t, _ in items[pid]] + catalogue))
    rows = first.loc[all_tracks]

    # ----- albums ------------------------------------------------------------------------
    album_ids = list(dict.fromkeys(rows["track_album_id"]))
    album_rows = df[df["track_album_id"].isin(album_ids)].drop_duplicates("track_id")
    album_rows = album_rows[album_rows["track_id"].isin(all_tracks)]
    albums: dict[str, dict] = {}
    track_number: dict[str, int] = {}
    for alid, grp in album_rows.groupby("track_album_id", sort=True):
        name = str(grp["track_album_name"].iloc[0]) if pd.notna(grp["track_album_name"].iloc[0]) else "Unknown album"
        counts = Counter(grp["track_artist"])
        main = sorted(counts, key=lambda a: (-counts[a], a))[0]
        tnames = {str(x).casefold() for x in grp["track_name"]}
        if re.search(r"greatest hits|best of|collection|anthology", name, re.I):
            kind = "compilation"
        elif name.casefold() in tnames and len(grp) <= 3:
            kind = "single"
        else:
            kind = "album"
        for k, tid in enumerate(sorted(grp["track_id"], key=lambda t: (str(first.at[t, "track_name"]).casefold(), t)), 1):
            track_number[tid] = k
        albums[alid] = {
            "name": name, "release_date": str(grp["track_album_release_date"].iloc[0]),
            "artist_ids": [base62_id(main)], "album_type": kind, "total_tracks": int(len(grp)),
            "popularity": int(grp["track_popularity"].max()),
        }

    # ----- artists (extended-only fields from all CSV rows of the artist) -------------------
    artist_names = sorted(set(rows["track_artist"]) | set(album_rows["track_artist"]))
    album_main = {alid: a["artist_ids"][0] for alid, a in albums.items()}
    artists: dict[str, dict] = {}
    for name in artist_names:
        sub = df[df["track_artist"] == name]
        subg = Counter(sub["playlist_subgenre"])
        gen = Counter(sub["playlist_genre"])
        genres = [g for g in sorted(subg, key=lambda g: (-subg[g], g))[:3]]
        top_genre = sorted(gen, key=lambda g: (-gen[g], g))[0]
        if top_genre not in genres:
            genres.append(top_genre)
        pops = sorted(sub.drop_duplicates("track_id")["track_popularity"], reverse=True)[:5]
        artists[base62_id(name)] = {"name": name, "genres": genres, "popularity": int(round(sum(pops) / len(pops)))}
    missing = {aid for aid in album_main.values() if aid not in artists}
    assert not missing, missing

    popularity = df.groupby("track_id")["track_popularity"].max()
    tracks: dict[str, dict] = {}
    for tid, r in rows.iterrows():
        tracks[tid] = {
            "name": str(r["track_name"]), "artist_ids": [base62_id(r["track_artist"])],
            "album_id": r["track_album_id"], "duration_ms": int(r["duration_ms"]), "explicit": False,
            "isrc": isrc(str(r["track_name"]), str(r["track_artist"])),
            "popularity": int(popularity[tid]),
            "track_number": track_number.get(tid, 1),
        }

    # ----- playlists ------------------------------------------------------------------------
    playlists = []
    for k, pid in enumerate(owned + followed):
        is_owned = pid in owned
        entries: list = [{"track": t, "days_ago": d} for t, d in items[pid]]
        if not is_owned:
            for e in entries:
                e["added_by"] = "spotify"
        if k == 0:  # the parsing cases: an episode, a local file, a null item
            d = entries[min(3, len(entries) - 1)]["days_ago"]
            entries.insert(3, {"episode": EPISODE_ID, "days_ago": d})
            entries.insert(7, {"local": {"name": "Voice Memo Jam", "artist": "Demo User",
                                         "album": "Voice Memos", "duration_ms": 95000},
                               "days_ago": entries[6]["days_ago"]})
            entries.insert(11, {"null": True, "days_ago": entries[10]["days_ago"]})
        pl = {"id": pid, "name": str(playlist_name[pid]), "description": "",
              "public": (hx("public:" + pid)[0] < "5") if is_owned else True, "items": entries}
        if not is_owned:
            pl["owner"] = "spotify"
        playlists.append(pl)

    account = {
        "format": FORMAT,
        "user": {"id": USER, "display_name": "Demo User"},
        "users": {"spotify": "Spotify"},
        "artists": artists, "albums": albums, "tracks": tracks,
        "episodes": {EPISODE_ID: {"name": "Episode 41: Why remixes work", "show": "Liner Notes",
                                  "duration_ms": 2460000, "release_date": "2024-03-14"}},
        "playlists": playlists,
        "top_tracks": top_tracks,
        "top_artists": {r: [base62_id(a) for a in v] for r, v in top_artists.items()},
        "saved_tracks": [{"id": t, "days_ago": saved_days(t)} for t in saved],
        "followed_artists": [base62_id(a) for a in followed_names],
    }
    features = [
        {"track_id": tid, **{c: first.at[tid, c] for c in FEATURE_COLUMNS}} for tid in sorted(tracks)
    ]
    return account, features


def build_world(csv_path: Path, account: dict) -> dict:
    """The open-data world of the sample: every playlist of the CSV that is not the user's.

    Tracks already in the sample account are stored by id only; the other tracks are kept
    when their artist is in at least ``WORLD_MIN_ARTIST_PLAYLISTS`` world playlists (the file
    stays small) and stored without ids (the stand-in derives them from the row number).
    """
    df = load(csv_path)
    own = {p["id"] for p in account["playlists"]}
    w = df[~df["playlist_id"].isin(own)].drop_duplicates(["playlist_id", "track_id"])
    known = set(account["tracks"])
    reach = w.groupby("track_artist")["playlist_id"].nunique()
    keep = w[w["track_id"].isin(known) | (w["track_artist"].map(reach) >= WORLD_MIN_ARTIST_PLAYLISTS)]
    first = keep.drop_duplicates("track_id").sort_values("track_id", kind="stable")
    new = first[~first["track_id"].isin(known)]
    artists = sorted(set(new["track_artist"]))
    a_ix = {a: i for i, a in enumerate(artists)}
    album_rows = new.drop_duplicates("track_album_id")
    albums, al_ix = [], {}
    for r in album_rows.itertuples(index=False):
        al_ix[r.track_album_id] = len(albums)
        albums.append([str(r.track_album_name) if pd.notna(r.track_album_name) else "Unknown album",
                       str(r.track_album_release_date), a_ix[r.track_artist]])
    rows, t_ix = [], {}
    for r in first.itertuples(index=False):
        t_ix[r.track_id] = len(rows)
        if r.track_id in known:
            rows.append(r.track_id)
        else:
            rows.append([str(r.track_name), a_ix[r.track_artist], al_ix[r.track_album_id], int(r.duration_ms)])
    playlists = {pid: [t_ix[t] for t in grp["track_id"]] for pid, grp in keep.groupby("playlist_id", sort=True)}
    return {"format": WORLD_FORMAT, "artists": artists, "albums": albums, "tracks": rows, "playlists": playlists}


def write_gzip(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    path.write_bytes(buf.getvalue())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, required=True, metavar="FILE",
                        help="the TidyTuesday spotify_songs.csv.gz (no default: a checkout has no copy of it)")
    args = parser.parse_args(argv)
    account, features = build(args.csv)
    write_gzip(OUT_LIBRARY, json.dumps(account, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=["track_id", *FEATURE_COLUMNS], lineterminator="\n")
    w.writeheader()
    for row in features:
        w.writerow({k: (repr(float(v)) if k not in ("track_id", "key", "mode", "duration_ms") else
                        (v if k == "track_id" else int(v))) for k, v in row.items()})
    write_gzip(OUT_FEATURES, out.getvalue().encode())
    world = build_world(args.csv, account)
    write_gzip(OUT_WORLD, json.dumps(world, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    print(f"world: {len(world['playlists'])} playlists, {len(world['tracks'])} tracks "
          f"({sum(isinstance(t, list) for t in world['tracks'])} not in the account)")
    pl = account["playlists"]
    print(f"{len(pl)} playlists ({sum('owner' not in p for p in pl)} owned), {len(account['tracks'])} tracks, "
          f"{len(account['albums'])} albums, {len(account['artists'])} artists, "
          f"{len(account['saved_tracks'])} saved, {len(account['followed_artists'])} followed artists")
    for p in (OUT_LIBRARY, OUT_FEATURES, OUT_WORLD):
        print(f"{p.relative_to(ROOT)}: {p.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
