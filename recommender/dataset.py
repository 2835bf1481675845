"""Import playlist datasets from CSV files into a Library, and the benchmark splits.

Two formats are detected from the header:

- ``tidytuesday``: one row per (playlist, track) membership, the columns of the TidyTuesday
  "Spotify Songs" file (``track_id, track_name, track_artist, ... playlist_id``).
  ``playlist_genre`` / ``playlist_subgenre`` are never read: they label the answer.
- ``exportify``: one file per playlist as written by Exportify (``Track URI``, ``Track Name``,
  ``Artist Name(s)`` ...); the playlist is the file name (or a ``Playlist`` column). A file
  named ``Liked_Songs.csv`` becomes the saved tracks.

A path may be one file (``.csv`` or ``.csv.gz``) or a folder of them. ``features``:
``"full"`` keeps popularity and audio features, ``"restricted"`` drops them (what a
Development Mode app gets from Spotify).

The benchmark functions follow the protocol file ``bench/protocols/PROTOCOL.md`` of the source tree (``tt-continuation-v1``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema
from .errors import DataError, NotEnoughData
from .features import (MAX_DURATION_MS, check_input, csv_compression, csv_encoding, csv_layout, csv_records,
                       first_line, header_words, not_utf8, read_features, rule_text)
from .library import Library
from .wording import plural

log = logging.getLogger(__name__)

FEATURE_LEVELS = ("restricted", "full")
TIDY_REQUIRED = ("track_id", "track_name", "track_artist", "track_album_id", "track_album_name",
                 "track_album_release_date", "playlist_name", "playlist_id")
EXPORTIFY_ID_COLUMNS = ("Track URI", "Spotify ID")
LIKED_NAMES = {"liked_songs", "liked songs", "liked"}


def artist_id_for(name: str) -> str:
    """A deterministic 22-character id for an artist known only by name (case-insensitive)."""
    return "a" + hashlib.sha1(name.strip().casefold().encode("utf-8")).hexdigest()[:21]


def playlist_id_for(name: str) -> str:
    """A deterministic 22-character id for a playlist known only by name."""
    return "p" + hashlib.sha1(name.strip().encode("utf-8")).hexdigest()[:21]


def _bare_id(value: str) -> str:
    """``spotify:track:ID`` or an open.spotify.com URL -> ``ID``; bare ids unchanged."""
    value = value.strip()
    if value.startswith("spotify:"):
        return value.rsplit(":", 1)[-1]
    if "open.spotify.com/" in value:
        return value.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    return value


def _read_csv(path: Path, sep: str, encoding: str, skip: int = 0) -> pd.DataFrame:
    import warnings
    try:
        # index_col=False: rows that end in a separator (a trailing comma) are not shifted onto an index
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                             compression=csv_compression(path), encoding=encoding, index_col=False,
                             skiprows=skip)
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in said):
            _refuse_a_row_with_a_field_too_many(path, sep, encoding, len(df.columns), skip)
        return df
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except UnicodeDecodeError:  # Excel's plain "CSV" (Windows-1252): "byte 0xf1 in position 14" of a buffer
        raise not_utf8(path) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (OSError, pd.errors.ParserError, EOFError, ValueError) as exc:
        # pandas' own words name the line ("Expected 23 fields in line 30, saw 25"); a zip of
        # several files or none is a ValueError (it was "unexpected error", exit 1)
        raise DataError(f"{path}: cannot read as CSV ({first_line(exc)})") from None


def _refuse_a_row_with_a_field_too_many(path: Path, sep: str, encoding: str, columns: int, skip: int = 0) -> None:
    """DataError naming the first line whose row has a filled field past the header's ``columns``
    (pandas, told ``index_col=False``, dropped it with a warning of its own on stderr, and read the
    row's values one column on: "Night, Drive 0" unquoted made a playlist named by a date, a
    track of another's name and album). Empty ones are a row that ends in a separator: read."""
    for line, row in csv_records(path, sep, encoding, skip):
        if len(row) > columns and any(cell.strip() for cell in row[columns:]):
            raise DataError(f"{path}: line {line} has {len(row)} fields where the header has {columns} columns (a "
                            "value holding an unquoted separator moves the values after it into the wrong columns): "
                            "put that value in quotes")


def _unknown_format(columns) -> str:
    """Why a CSV is no playlist file, naming what it lacks (a file with `track_id` was said to
    miss "'track_id'/'playlist_id'"); a file of audio features, the one `import features` reads,
    is said to be one."""
    have = {str(c) for c in columns}
    if "track_id" in have and "playlist_id" not in have:
        features = " (a file of audio features? `recommend import features FILE` reads it)" \
            if {c.strip().lower() for c in have} & {"valence", "energy", "danceability"} else ""
        return f"no column 'playlist_id' beside 'track_id', so no playlist file{features}"
    return "unknown CSV format (missing column 'track_id'/'playlist_id' or 'Track URI')"


def detect_format(columns) -> str:
    """``"tidytuesday"`` or ``"exportify"`` from a header; ``"unknown"`` otherwise."""
    cols = set(columns)
    if "track_id" in cols and "playlist_id" in cols:
        return "tidytuesday"
    if cols & set(EXPORTIFY_ID_COLUMNS):
        return "exportify"
    return "unknown"


def _require(df: pd.DataFrame, columns, path: Path) -> None:
    for c in columns:
        if c not in df.columns:
            raise DataError(f"{path}: missing column {c!r}")


def _audio_frame(df: pd.DataFrame, mapping: dict[str, str], path: Path, sep: str) -> pd.DataFrame:
    """Audio features from the columns named in ``mapping`` (our name -> file column), read as
    `recommend import features` reads them (``features.read_features``: rows written in
    percent are read as such, a 0-to-1 feature written on a 0-to-100 scale in rows that are not
    is refused), except that a value out of its range is unknown (one warning per column)."""
    present = {ours: theirs for ours, theirs in mapping.items() if theirs in df.columns}
    raw = pd.DataFrame({ours: df[theirs] for ours, theirs in present.items()}, index=df.index)
    read = read_features(raw, present, decimal_comma=sep != ",")
    read.refuse_percent_columns(path, present)
    if read.percent_rows.any():
        log.info("%s: %d row(s) with audio features on a 0-to-100 scale, read as percentages", path,
                 int(read.percent_rows.sum()))
    out = {"track_id": df["track_id"]}
    for ours, theirs in present.items():
        bad = read.bad[ours].to_numpy()
        if bad.any():
            log.warning("%s: %d value(s) of column %r out of range, read as unknown (%s; e.g. %r)", path,
                        int(bad.sum()), theirs, rule_text(ours), raw[ours].iloc[int(np.flatnonzero(bad)[0])])
        out[ours] = read.values[ours].to_numpy()
    af = pd.DataFrame(out)
    present = [c for c in af.columns if c != "track_id"]
    if not present:
        return schema.empty_frame("audio_features")
    af = af[af[present].notna().any(axis=1)].drop_duplicates("track_id")
    for c in ("key", "mode", "duration_ms"):
        if c in af.columns:
            af[c] = af[c].round().astype("Int64")
    return af


def _whole_numbers(values: pd.Series, low: int, high: int, path: Path, column: str, say: bool = True) -> pd.Series:
    """``values`` as whole numbers (nullable Int64); a cell that is no number, or one outside
    ``low``..``high`` (1e30, inf, a negative popularity), is unknown, with one warning line: a
    cell of 1e30 stopped every command that read the file ("cannot safely cast non-equivalent
    float64 to int64")."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    bad = numbers.notna() & ~numbers.between(low, high)
    if say and bad.any():
        log.warning("%s: %d value(s) of column %r out of range, read as unknown (%d to %d; e.g. %r)", path,
                    int(bad.sum()), column, low, high, values[bad].iloc[0])
    return numbers.mask(bad).round().astype("Int64")


def _from_tidytuesday(df: pd.DataFrame, path: Path, features: str, sep: str = ",") -> dict[str, pd.DataFrame]:
    _require(df, TIDY_REQUIRED, path)
    df = df.dropna(subset=["track_id", "playlist_id"])
    # ids as URIs or links ("spotify:track:ID", a file written by another tool) are their ids
    df = df.assign(**{c: df[c].map(_bare_id, na_action="ignore") for c in ("track_id", "playlist_id", "track_album_id")})
    df = df[(df["track_id"] != "") & (df["playlist_id"] != "")]
    df = df.drop_duplicates(["playlist_id", "track_id"]).reset_index(drop=True)
    artist = df["track_artist"].fillna("").astype(str)
    artist_ids = artist.map(artist_id_for)
    tr = pd.DataFrame({
        "track_id": df["track_id"],
        "name": df["track_name"].fillna(""),
        "artist_ids": [[a] if n else [] for a, n in zip(artist_ids, artist)],
        "artist_names": [[n] if n else [] for n in artist],
        "album_id": df["track_album_id"],
        "album_name": df["track_album_name"].fillna(""),
        "release_date": df["track_album_release_date"],
    })
    if features == "full":
        if "track_popularity" in df.columns:
            tr["popularity"] = _whole_numbers(df["track_popularity"], 0, 100, path, "track_popularity")
        if "duration_ms" in df.columns:
            # (said once, by the audio features' read of the same column)
            tr["duration_ms"] = _whole_numbers(df["duration_ms"], 1, MAX_DURATION_MS, path, "duration_ms", say=False)
    keep = tr.drop_duplicates("track_id").index
    tracks = tr.loc[keep]
    artists = pd.DataFrame({"artist_id": artist_ids, "name": artist})
    artists = artists[artists["name"] != ""].drop_duplicates("artist_id")
    pl = df.drop_duplicates("playlist_id")
    counts = df.groupby("playlist_id", sort=False).size()
    playlists = pd.DataFrame({
        "playlist_id": pl["playlist_id"], "name": pl["playlist_name"].fillna(""),
        "total": pl["playlist_id"].map(counts).astype("Int64"),
        "owned": True, "readable": True, "collaborative": False, "public": False,
    })
    items = pd.DataFrame({"playlist_id": df["playlist_id"], "track_id": df["track_id"],
                          "position": df.groupby("playlist_id", sort=False).cumcount().astype("Int64")})
    frames = {"tracks": tracks, "artists": artists, "playlists": playlists, "playlist_items": items}
    if features == "full":
        frames["audio_features"] = _audio_frame(
            df.loc[keep], {c: c for c in schema.AUDIO_COLUMNS}, path, sep)
    return frames


EXPORTIFY_AUDIO = {
    "danceability": "Danceability", "energy": "Energy", "key": "Key", "loudness": "Loudness",
    "mode": "Mode", "speechiness": "Speechiness", "acousticness": "Acousticness",
    "instrumentalness": "Instrumentalness", "liveness": "Liveness", "valence": "Valence",
    "tempo": "Tempo",
}


EXPORTIFY_COLUMNS = (*EXPORTIFY_ID_COLUMNS, "Track Name", "Artist Name(s)", "Playlist", "Artist URI(s)", "Artist IDs",
                     "Album Name", "Album URI", "Album Release Date", "Release Date", "ISRC", "Explicit", "Explicit?",
                     "Popularity", "Duration (ms)", "Track Duration (ms)", "Genres", "Added At",
                     *EXPORTIFY_AUDIO.values())
TIDY_COLUMNS = (*TIDY_REQUIRED, "track_popularity", "duration_ms", *schema.AUDIO_COLUMNS)


def _known_names(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its columns named as its format names them, compared as `import features`
    compares its headers (``features.header_words``: any case, "_" and a space alike: "Track_ID",
    "track uri " from a hand-made or re-saved file were "unknown CSV format"). A column already
    named so is kept, and a second of the same name left as it is."""
    keys = {header_words(c) for c in df.columns}
    if {header_words("track_id"), header_words("playlist_id")} <= keys:
        known = TIDY_COLUMNS
    elif keys & {header_words(c) for c in EXPORTIFY_ID_COLUMNS}:
        known = EXPORTIFY_COLUMNS
    else:
        return df
    wanted = {header_words(name): name for name in known}
    taken = set(df.columns)
    rename = {}
    for column in df.columns:
        name = wanted.get(header_words(column))
        if name is not None and name not in taken:
            rename[column] = name
            taken.add(name)
    return df.rename(columns=rename)


def _first_column(df: pd.DataFrame, *names: str) -> pd.Series | None:
    for n in names:
        if n in df.columns:
            return df[n]
    return None


def _split_names(names: str, n_ids: int) -> list[str]:
    """Split Exportify's joined artist names. Exportify joins with "," and no space, so a
    comma followed by a space belongs to a name ("Tyler, The Creator"); ";" also separates."""
    if not names:
        return []
    sep = ";" if ";" in names and (n_ids == 0 or len(names.split(";")) == n_ids) else r",(?!\s)"
    parts = [p.strip() for p in re.split(sep, names) if p.strip()]
    return parts


def _name_of_file(path: Path) -> str:
    """The playlist an Exportify file holds: its name without ``.csv``/``.csv.gz`` (a dot
    inside the name stays: "Vol. 2.csv" is "Vol. 2"), underscores read as spaces."""
    name = re.sub(r"(?i)\.csv(\.gz)?$", "", path.name)
    return name.replace("_", " ")


def _from_exportify(df: pd.DataFrame, path: Path, features: str, sep: str = ",") -> dict[str, pd.DataFrame]:
    uri = _first_column(df, *EXPORTIFY_ID_COLUMNS)
    if uri is None:
        raise DataError(f"{path}: missing column 'Track URI'")
    _require(df, ("Track Name", "Artist Name(s)"), path)
    # a local file (spotify:local:Artist:Album:Title:200) has no track id: its last part, the
    # length, made every one of them one track "200", merged without a word
    local = uri.fillna("").astype(str).str.strip().str.startswith("spotify:local:")
    if local.any():
        n = int(local.sum())
        log.warning("%s: %d local %s left out (no Spotify track id: Spotify's API cannot read them)", path, n,
                    plural(n, "file"))
    df = df[~local.to_numpy()].assign(track_id=uri[~local].fillna("").astype(str).map(_bare_id))
    df = df[df["track_id"] != ""].reset_index(drop=True)
    if "Playlist" in df.columns:
        pl_names = df["Playlist"].fillna(_name_of_file(path))
    else:
        pl_names = pd.Series(_name_of_file(path), index=df.index)
    artist_uris = _first_column(df, "Artist URI(s)", "Artist IDs")
    names_col = df["Artist Name(s)"].fillna("")
    artist_ids, artist_names = [], []
    for i, names in enumerate(names_col):
        ids = []
        if artist_uris is not None and isinstance(artist_uris.iloc[i], str):
            ids = [_bare_id(u) for u in artist_uris.iloc[i].split(",") if u.strip()]
        parts = _split_names(names, len(ids))
        if len(ids) != len(parts):
            ids = [artist_id_for(p) for p in parts]
        artist_ids.append(ids)
        artist_names.append(parts)
    album = _first_column(df, "Album Name")
    album_uri = _first_column(df, "Album URI")
    release = _first_column(df, "Album Release Date", "Release Date")
    tr = pd.DataFrame({
        "track_id": df["track_id"], "name": df["Track Name"].fillna(""),
        "artist_ids": artist_ids, "artist_names": artist_names,
        "album_name": album.fillna("") if album is not None else "",
        "release_date": release if release is not None else None,
        "isrc": _first_column(df, "ISRC"),
    })
    if album_uri is not None:
        tr["album_id"] = album_uri.fillna("").map(_bare_id)
    else:
        tr["album_id"] = (tr["album_name"].astype(str) + "\x00" + names_col).map(playlist_id_for)
    explicit = _first_column(df, "Explicit", "Explicit?")
    if explicit is not None:
        tr["explicit"] = explicit.str.lower().map({"true": True, "false": False})
    if features == "full":
        pop = _first_column(df, "Popularity")
        if pop is not None:
            tr["popularity"] = _whole_numbers(pop, 0, 100, path, "Popularity")
    dur = _first_column(df, "Duration (ms)", "Track Duration (ms)")
    if dur is not None:
        tr["duration_ms"] = _whole_numbers(dur, 1, MAX_DURATION_MS, path, dur.name or "Duration (ms)")
    genres = _first_column(df, "Genres")
    art_rows = []
    for i, (ids, parts) in enumerate(zip(artist_ids, artist_names)):
        g = []
        if genres is not None and isinstance(genres.iloc[i], str):
            g = [x.strip() for x in genres.iloc[i].split(",") if x.strip()]
        art_rows += [{"artist_id": a, "name": n, "genres": g} for a, n in zip(ids, parts)]
    artists = pd.DataFrame(art_rows, columns=["artist_id", "name", "genres"])
    added = _first_column(df, "Added At")
    items = pd.DataFrame({"playlist_name": pl_names, "track_id": df["track_id"],
                          "added_at": added if added is not None else None})
    frames = {"tracks": tr, "artists": artists, "items": items}
    if features == "full":
        af = df.assign(**{"track_id": df["track_id"]})
        frames["audio_features"] = _audio_frame(af, EXPORTIFY_AUDIO | (
            {"duration_ms": dur.name} if dur is not None else {}), path, sep)
    return frames


def _finish_exportify(parts: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    tracks = pd.concat([p["tracks"] for p in parts], ignore_index=True).drop_duplicates("track_id")
    artists = pd.concat([p["artists"] for p in parts], ignore_index=True)
    if len(artists):
        artists = artists.groupby("artist_id", sort=False).agg(
            name=("name", "first"), genres=("genres", lambda s: sorted({g for gs in s for g in gs}))
        ).reset_index()
    items = pd.concat([p["items"] for p in parts], ignore_index=True)
    liked = items["playlist_name"].str.casefold().isin(LIKED_NAMES)
    saved = items[liked][["track_id", "added_at"]].drop_duplicates("track_id")
    items = items[~liked].drop_duplicates(["playlist_name", "track_id"]).copy()
    items["playlist_id"] = items["playlist_name"].map(playlist_id_for)
    items["position"] = items.groupby("playlist_id", sort=False).cumcount()
    pl = items.drop_duplicates("playlist_id")
    counts = items.groupby("playlist_id", sort=False).size()
    playlists = pd.DataFrame({
        "playlist_id": pl["playlist_id"], "name": pl["playlist_name"],
        "total": pl["playlist_id"].map(counts), "owned": True, "readable": True,
        "collaborative": False, "public": False,
    })
    frames = {"tracks": tracks, "artists": artists, "playlists": playlists,
              "playlist_items": items[["playlist_id", "track_id", "position", "added_at"]],
              "saved_tracks": saved}
    af = [p["audio_features"] for p in parts if "audio_features" in p and len(p["audio_features"])]
    if af:
        frames["audio_features"] = pd.concat(af, ignore_index=True).drop_duplicates("track_id")
    return frames


def load_dataset(path: Path | str, features: str = "restricted") -> Library:
    """A Library from a dataset file or a folder of playlist CSVs (format from the header).

    Raises DataError naming the file (and column) when it cannot be read.
    """
    if features not in FEATURE_LEVELS:
        raise DataError(f"features must be one of {list(FEATURE_LEVELS)}, got {features!r}")
    path = Path(path)
    check_input(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.name.lower().endswith((".csv", ".csv.gz")))  # "Mix.CSV" too
        if not files:
            raise DataError(f"{path}: no .csv files in this folder")
    elif path.exists():
        files = [path]
    else:
        raise DataError(f"{path}: file not found")
    tidy, export = [], []
    for f in files:
        encoding = csv_encoding(f)  # (the file's first bytes, looked at once)
        sep, skip = csv_layout(f, encoding)
        df = _known_names(_read_csv(f, sep, encoding, skip))
        fmt = detect_format(df.columns)
        if fmt == "tidytuesday":
            tidy.append(_from_tidytuesday(df, f, features, sep))
        elif fmt == "exportify":
            export.append(_from_exportify(df, f, features, sep))
        else:
            raise DataError(f"{f}: {_unknown_format(df.columns)}")
    if export:
        tidy.append(_finish_exportify(export))
    if len(tidy) == 1:
        frames = tidy[0]
    else:
        frames = {}
        for name in ("tracks", "artists", "playlists", "playlist_items", "saved_tracks", "audio_features"):
            got = [p[name] for p in tidy if name in p]
            if got:
                frames[name] = pd.concat(got, ignore_index=True)
        keys = {"tracks": ["track_id"], "artists": ["artist_id"], "playlists": ["playlist_id"],
                "playlist_items": ["playlist_id", "track_id"], "saved_tracks": ["track_id"],
                "audio_features": ["track_id"]}
        frames = {k: v.drop_duplicates(keys[k]) for k, v in frames.items()}
    # In id order, as the cache stores them: the evaluation breaks ties by track position, and
    # the same file with its rows in another order gives the same numbers.
    frames["tracks"] = frames["tracks"].sort_values("track_id", kind="stable", ignore_index=True)
    lib = Library.from_frames(**frames)
    log.info("loaded %s: %d tracks, %d playlists, %d memberships", path, len(lib.tracks),
             len(lib.playlists), len(lib.playlist_items))
    return lib


# ----- benchmark protocol (tt-continuation-v1) ----------------------------------------------

def benchmark_split(pid: str) -> str:
    """``"dev"`` or ``"holdout"`` for a playlist id (sha1 of the UTF-8 id, mod 10 < 7 -> dev)."""
    return "dev" if int(hashlib.sha1(pid.encode("utf-8")).hexdigest(), 16) % 10 < 7 else "holdout"


def split_library(library: Library, split: str) -> Library:
    """The Library of one split: its playlists, their items, and only the tracks, artists
    and audio features those items reach (nothing of the other split is visible)."""
    if split not in ("dev", "holdout"):
        raise DataError(f"split must be 'dev' or 'holdout', got {split!r}")
    pl = library.playlists
    keep = pl[pl["playlist_id"].astype(str).map(benchmark_split) == split]
    items = library.playlist_items[library.playlist_items["playlist_id"].isin(keep["playlist_id"])]
    tids = set(items["track_id"].astype(str))
    tracks = library.tracks[library.tracks["track_id"].isin(tids)]
    aids = {a for ids in tracks["artist_ids"] for a in ids}
    artists = library.artists[library.artists["artist_id"].isin(aids)]
    af = library.audio_features[library.audio_features["track_id"].isin(tids)]
    ag = library.frames["artist_genres"][library.frames["artist_genres"]["artist_id"].isin(aids)]
    return library.replace(playlists=keep, playlist_items=items, tracks=tracks, artists=artists,
                           audio_features=af, artist_genres=ag,
                           saved_tracks=library.saved_tracks[library.saved_tracks["track_id"].isin(tids)],
                           top_tracks=library.top_tracks[library.top_tracks["track_id"].isin(tids)])


def _unique_items(library: Library) -> pd.DataFrame:
    items = library.playlist_items[["playlist_id", "track_id"]].astype(str).drop_duplicates()
    return items[items["track_id"].isin(library.track_ids)]


def hide_tracks(library: Library, min_tracks: int = 10, salt: str = "42") -> pd.DataFrame:
    """Hidden (playlist_id, track_id) pairs exactly as PROTOCOL.md: in every playlist with at
    least ``min_tracks`` unique tracks, sort them by ``sha1(f"{salt}:{pid}:{tid}")`` (hex
    order) and hide the first ``len // 2``. Another ``salt`` gives another deterministic fold.
    """
    items = _unique_items(library)
    size = items.groupby("playlist_id")["track_id"].transform("size")
    items = items[size >= min_tracks].copy()
    items["key"] = [hashlib.sha1(f"{salt}:{p}:{t}".encode("utf-8")).hexdigest()
                    for p, t in zip(items["playlist_id"], items["track_id"])]
    items = items.sort_values(["playlist_id", "key"])
    rank = items.groupby("playlist_id").cumcount()
    half = items.groupby("playlist_id")["track_id"].transform("size") // 2
    hidden = items[rank < half][["playlist_id", "track_id"]]
    return hidden.reset_index(drop=True)


def hide_random(library: Library, fraction: float = 0.5, seed: int = 42, min_tracks: int = 10,
                playlists: list[str] | None = None) -> pd.DataFrame:
    """Seeded random hiding for a user's own library: in every playlist (of ``playlists``, or
    all) with at least ``min_tracks`` unique tracks, hide ``floor(fraction * n)`` of them
    (at least 1, and always leaving at least 1 visible). Raises NotEnoughData when no
    playlist qualifies."""
    items = _unique_items(library)
    if playlists is not None:
        items = items[items["playlist_id"].isin(set(playlists))]
    rng = np.random.default_rng(seed)
    parts = []
    for pid, grp in items.groupby("playlist_id", sort=True):
        n = len(grp)
        if n < max(min_tracks, 2):
            continue
        k = min(max(int(np.floor(fraction * n)), 1), n - 1)
        pick = rng.choice(n, size=k, replace=False)
        parts.append(grp.iloc[np.sort(pick)])
    if not parts:
        unread = library.unreadable() if playlists is None else library.unreadable() & set(playlists)
        n = len(unread)
        # playlists of yours that a lower evaluate.min_tracks would evaluate: said beside the followed ones
        # (its advice alone, to copy theirs, left out the one that works with the playlists you have)
        small = (items.groupby("playlist_id")["track_id"].size() >= 2).any()
        lower = (f": add tracks to one{' of yours' if n else ''} until it has {min_tracks}, or set "
                 "evaluate.min_tracks lower (2 at least)") if small or not n else ""
        why = lower + (f"; Spotify does not let this app read the tracks of the {'playlist' if n == 1 else f'{n} playlists'} "
                       "you only follow (a personal app reads those you own or collaborate on): copy some into a "
                       "playlist of your own" if n else "")
        raise NotEnoughData(f"no playlist has at least {min_tracks} tracks to hide some of "
                            f"(evaluate.min_tracks){why}")
    return pd.concat(parts, ignore_index=True)[["playlist_id", "track_id"]]
