"""Audio features from a CSV file, or from Spotify for apps that still have the endpoint.

``import_features`` reads a CSV keyed by Spotify track id (``track_id``, ``id``, or a
``Track URI``/``uri`` column of ``spotify:track:`` URIs or open.spotify.com links; plain or
gzip) with any of the audio feature columns (``schema.AUDIO_COLUMNS``; header case is
ignored), reads it once (``read_features``: a row written in percent is read on the 0-to-1
scale, a 0-to-1 column in percent in rows that are not is refused, every value's range is
checked), and merges the good rows into the ``audio_features`` frame: for a track already
there, each value the file gives replaces the old one. ``dataset`` reads a ``--dataset`` file's
features with the same ``read_features``.

``fetch_spotify_features`` asks an extended-quota app's ``/audio-features``; a 403 is
remembered in the manifest (``audio_features_forbidden``) and not retried for 30 days.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import schema
from .errors import DataError, SpotifyError
from .isotime import local_today, remembered_until, younger_than
from .library import Library
from .safetext import cut
from .store import Store

log = logging.getLogger(__name__)

FORBIDDEN_KEY = "audio_features_forbidden"
FORBIDDEN_DAYS = 30
BATCH_SIZE = 100  # Spotify's /audio-features takes at most 100 ids
MAX_EXAMPLES = 3

# Accepted id column headers, in order of preference (compared case-insensitively, "_" as a
# space: "track_uri" is "Track URI"); "spotify_id" is Kaggle's "Top Spotify Songs in 73 Countries".
ID_COLUMNS = ("track_id", "id", "track id", "track uri", "uri", "spotify uri", "spotify id", "spotify track id")


def header_words(header: str) -> str:
    """A header as a file's columns are compared with the names we know (``ID_COLUMNS`` here,
    the playlist formats' in ``dataset``): case folded, "_" and runs of spaces one space."""
    return " ".join(str(header).replace("_", " ").casefold().split())


_ID_HEADERS = tuple(dict.fromkeys(map(header_words, ID_COLUMNS)))  # ``ID_COLUMNS`` as compared, in order
# Extra header spellings (Exportify and friends) of the feature columns.
ALIASES = {"duration (ms)": "duration_ms", "track duration (ms)": "duration_ms"}

RATIOS = ("danceability", "energy", "speechiness", "acousticness", "instrumentalness",
          "liveness", "valence")
MAX_DURATION_MS = 2 ** 31 - 1  # about 24.8 days: Spotify's longest tracks are hours
# column -> (low, high, whole number?, low bound exclusive?)
RULES: dict[str, tuple[float, float, bool, bool]] = {
    **{c: (0.0, 1.0, False, False) for c in RATIOS},
    "key": (-1, 11, True, False),
    "mode": (0, 1, True, False),
    "loudness": (-60.0, 5.0, False, False),
    "tempo": (0.0, 300.0, False, False),
    "duration_ms": (0, MAX_DURATION_MS, True, True),  # 1e30 passed, then stopped the import in its int cast
}

_TRACK_ID = re.compile(
    r"^(?:spotify:track:|https?://open\.spotify\.com/(?:intl-[a-z-]+/)?track/)?"
    r"([0-9A-Za-z]{22})(?:[?#].*)?$")

Fetch = Callable[[list[str]], "list[dict[str, Any]] | None"]


@dataclass
class ImportReport:
    """What ``import_features`` read, kept and skipped (counts of rows unless noted)."""

    path: str
    rows: int = 0  # data rows in the file
    imported: int = 0  # distinct tracks with at least one good value
    added: int = 0  # tracks that had no features before
    updated: int = 0  # tracks that had features, now with the file's values
    duplicates: int = 0  # extra rows of a track already seen in the file (later values win)
    percent_rows: int = 0  # rows read on a 0-to-100 scale (their 0-to-1 features divided by 100)
    columns: list[str] = field(default_factory=list)  # feature columns found
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows
    examples: dict[str, list[str]] = field(default_factory=dict)  # reason -> first few rows
    in_library: int | None = None  # imported tracks that are in the library (None: no library)
    total: int = 0  # tracks with features in the store after the merge
    moods: int = 0  # imported tracks the file gives both a valence and an energy (what the mood commands need)
    placed: int = 0  # imported tracks with both after the merge (an earlier file's kept)

    @property
    def skipped_rows(self) -> int:
        return sum(self.skipped.values())


def parse_track_id(value: Any) -> str | None:
    """The bare 22-character id of a Spotify track id, URI or open.spotify.com link."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    m = _TRACK_ID.match(str(value).strip())
    return m.group(1) if m else None


def rule_text(column: str) -> str:
    low, high, whole, exclusive = RULES[column]
    if exclusive:
        return (f"{column} must be {'a whole number ' if whole else ''}above {low:g}"
                + ("" if np.isinf(high) else f" and at most {high:.0f}"))
    kind = "a whole number" if whole else "a number"
    return f"{column} must be {kind} in {low:g}..{high:g}"


# How files write a missing value: R's write.csv "NA", pandas' na_rep "NaN", SQL and JSON
# exports "NULL", a spreadsheet "#N/A". Such a cell is a blank (the value is unknown, the row's
# other values kept), not a bad value that skips the row.
MISSING = frozenset({"na", "n/a", "nan", "-nan", "null", "none", "#n/a", "<na>"})


def _is_blank(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip() or value.strip().casefold() in MISSING
    return value is None or bool(pd.isna(value))


# Keys and modes written as names (Kaggle's "SpotifyFeatures.csv": key "C#", mode "Major"),
# read as Spotify numbers them: pitch class 0 (C) to 11 (B), mode 1 major, 0 minor.
_PITCH = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_ACCIDENTAL = {"": 0, "#": 1, "♯": 1, "b": -1, "♭": -1}
_MODES = {"major": 1, "maj": 1, "minor": 0, "min": 0}


def _named(column: str, cells: np.ndarray) -> np.ndarray:
    """``cells`` of the key or mode column with names ("C#", "Db", "Major") replaced by their
    numbers; other cells (numbers, blanks, unknown words) as they are."""
    if column not in ("key", "mode"):
        return cells

    def number(cell: Any) -> Any:
        if not isinstance(cell, str):
            return cell
        word = cell.strip()
        if column == "mode":
            return _MODES.get(word.casefold(), cell)
        if 1 <= len(word) <= 2 and word[0].casefold() in _PITCH and word[1:] in _ACCIDENTAL:
            return (_PITCH[word[0].casefold()] + _ACCIDENTAL[word[1:]]) % 12
        return cell
    return pd.Series(cells, dtype=object).map({c: number(c) for c in pd.unique(cells)}).to_numpy(dtype=object)


SEPARATORS = (",", ";", "\t")
GZIP_MARK = b"\x1f\x8b"  # the first bytes of a gzip file (``csv_encoding``, ``csv_compression``)
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d*,\d+(?:[eE][+-]?\d+)?\s*$")  # "2,33e-05" too (a spreadsheet's tiny values)


# the first bytes of a spreadsheet's own file: an .xlsx, .ods or .numbers (a zip), an old .xls
_WORKBOOK = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
# the start of a JSON file (an object with a key, a list of objects or lists, an empty list), or JSON
# Lines, after a UTF-8 mark and blanks: no CSV header starts so
_JSON = re.compile(rb'^(?:\xef\xbb\xbf)?\s*(?:\{\s*"|\[\s*[{\[\]])')


def check_input(path: Path | str) -> None:
    """DataError for an input file that cannot be read more than once: ``-`` (a file named "-"
    was looked for: "file not found") and a pipe (``/dev/stdin`` from ``|``, ``<(...)``: its
    first bytes, read to learn its encoding and separator, were gone when its rows were read,
    and it was said to be empty)."""
    import stat
    if str(path) == "-":
        raise DataError("-: standard input is not read as a data file here (a file is read more than once: its "
                        "encoding, its separator, then its rows): save it to a file and name that")
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # a missing file is said by the reader, as ever
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise DataError(f"{path}: a pipe or a device, not a file (a file is read more than once: its encoding, "
                        "its separator, then its rows): save it to a file and name that")


def csv_encoding(path: Path | str) -> str:
    """"utf-16" for a file (plain or gzip) that starts with a UTF-16 byte-order mark (a
    spreadsheet's "Unicode text", tab-separated: it was "cannot read as CSV ('utf-8' codec
    can't decode byte 0xff)"), else "utf-8" (whose own mark ``read_csv`` skips). DataError for
    a spreadsheet's workbook (an .xlsx: "can't decode byte 0xb2"), which is no CSV (a ``.zip``
    is left to ``read_csv``, which reads a zipped CSV), and for a JSON file (the audio features
    Spotify's API gave, saved: "no track id column", though its objects hold an "id"). A file
    that cannot be read is left to ``read_csv`` to say so."""
    import gzip
    try:
        with open(path, "rb") as f:
            head = f.read(64)
        if head[:2] == GZIP_MARK:
            with gzip.open(path, "rb") as f:
                head = f.read(64)
    except (OSError, EOFError):
        return "utf-8"
    if head[:4] in _WORKBOOK and Path(path).suffix.lower() != ".zip":
        raise DataError(f"{path}: a spreadsheet's workbook, not a CSV file: save it from the spreadsheet "
                        "as CSV (\"CSV UTF-8\" in Excel) and give that file")
    if _JSON.match(head):
        raise DataError(f"{path}: JSON, not a CSV file: a CSV file is read here (a header line naming the columns, "
                        "then a line per track): convert it to CSV and give that file")
    return "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8"


def csv_compression(path: Path | str) -> str | None:
    """"gzip" for a file that starts with gzip's mark, whatever its name ("export.csv" that is
    gzipped was refused as "not UTF-8 text"); None (plain text) for a ``.gz`` file without it
    (a file unpacked and not renamed was "Not a gzipped file (b'pl')"); else pandas' "infer"
    (by the name: .zip, .bz2...)."""
    try:
        with open(path, "rb") as f:
            gzipped = f.read(2) == GZIP_MARK
    except OSError:
        return "infer"
    if gzipped:
        return "gzip"
    return None if Path(path).suffix.lower() == ".gz" else "infer"


_SEP_LINE = re.compile(r'"?sep=(.)"?')  # a first line naming the separator, which Excel reads (and some exports write)


def _named_separator(path: Path | str, encoding: str) -> str | None:
    """The separator the file's first line names when it is Excel's "sep=;" (some exports write
    it so that Excel splits the columns; it was read as the header: "unknown CSV format", "no
    track id column"), else None."""
    from pandas.io.common import get_handle
    try:
        with get_handle(path, "r", encoding=encoding, compression=csv_compression(path), errors="replace") as h:
            first = h.handle.readline(80)
    except (OSError, ValueError, EOFError):
        return None
    named = _SEP_LINE.fullmatch(first.lstrip("\ufeff").strip())
    return named.group(1) if named else None


def csv_layout(path: Path | str, encoding: str) -> tuple[str, int]:
    """(the field separator, the lines the readers skip before the header) of a CSV file: the
    separator a first line "sep=;" names, that line skipped; else ``,`` unless the header line
    holds more ``;`` or tabs (a spreadsheet saved where the decimal mark is a comma writes ``;``;
    "Unicode text" tabs), nothing skipped. A file that cannot be read is left to ``read_csv`` to
    say so. ``encoding``: ``csv_encoding``'s answer (every caller has it: the file's first bytes
    are looked at once)."""
    named = _named_separator(path, encoding)
    if named:
        return named, 1
    try:
        line = pd.read_csv(path, sep="\x01", header=None, nrows=1, dtype=str, compression=csv_compression(path),
                           encoding=encoding,
                           quoting=csv.QUOTE_NONE, encoding_errors="replace", keep_default_na=False)
        header = str(line.iat[0, 0]) if line.shape[1] == 1 and len(line) else ""
    except (OSError, ValueError, UnicodeDecodeError, EOFError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return ",", 0
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return (best if counts[best] > counts[","] else ","), 0


def numbers(cells: Any, decimal_comma: bool = False) -> np.ndarray:
    """Cells (strings or numbers) as floats, NaN where blank or not a number; with
    ``decimal_comma`` (a ``;`` or tab separated file), "0,5" is 0.5. A comma file's "1,234" is
    not read as a number (thousands or decimals: it cannot tell)."""
    series = pd.Series(np.asarray(cells, dtype=object), dtype=object)
    if decimal_comma:
        text = series.astype(str)
        comma = text.str.match(_DECIMAL_COMMA).fillna(False).to_numpy(dtype=bool)
        series = series.where(~comma, text.str.replace(",", ".", regex=False))
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)


@dataclass
class FeatureValues:
    """Feature cells read once (``read_features``): their numbers and what is wrong with them."""

    values: pd.DataFrame  # float per column, NaN where blank or bad; percent rows divided by 100
    bad: pd.DataFrame  # per cell: not a number, or out of its column's range (``RULES``)
    reason: pd.Series  # per row: the first bad column's rule, "no feature values", or None
    percent_rows: np.ndarray  # per row: read in percent (see ``_percent_rows``)
    percent_columns: dict[str, tuple[float, float]]  # 0-to-1 column -> (lowest, highest): see ``_percent_column``
    unread: pd.DataFrame  # per cell: text that is no number at all ("120 BPM"), a subset of ``bad``
    numeric: dict[str, int]  # column -> cells read as a number (in its range or not)

    def refuse_percent_columns(self, path: Path | str, names: dict[str, str]) -> None:
        """Raise DataError naming the file and its column (``names``: ours -> the file's) of the
        first 0-to-1 feature written on a 0-to-100 scale in rows that are not."""
        if self.percent_columns:
            c, (low, high) = next(iter(self.percent_columns.items()))
            raise DataError(f"{path}: column {names[c]!r} runs from {low:g} to {high:g}; {c} is 0 to 1 "
                            "(divide the column by 100)")


def read_features(raw: pd.DataFrame, columns: Iterable[str], decimal_comma: bool = False,
                  percent: bool = True) -> FeatureValues:
    """Read and check the feature cells of ``raw`` (strings or numbers, one column per feature),
    each parsed once (``numbers``; ``decimal_comma``: see there). Blank cells are allowed: the
    value stays unknown. With ``percent`` (a file, not Spotify's objects), the 0-to-1 values of
    rows written in percent (``_percent_rows``) are divided by 100 before the range checks, and
    the 0-to-1 columns still written in percent are told apart (``_percent_column``)."""
    columns = list(columns)
    n = len(raw)
    num = {c: numbers(_named(c, raw[c].to_numpy(dtype=object)), decimal_comma) for c in columns}
    ratios = [c for c in columns if c in RATIOS]
    rows = _percent_rows([num[c] for c in ratios], n) if percent else np.zeros(n, dtype=bool)
    if rows.any():
        num.update({c: np.where(rows, num[c] / 100, num[c]) for c in ratios})
    values: dict[str, np.ndarray] = {}
    bad: dict[str, np.ndarray] = {}
    unread_cells: dict[str, np.ndarray] = {}
    reason = np.full(n, None, dtype=object)
    for c in columns:
        cells = raw[c].to_numpy(dtype=object)
        unread = np.flatnonzero(np.isnan(num[c]))  # blank, or text that is not a number
        wrong = np.zeros(n, dtype=bool)
        wrong[unread] = [not _is_blank(cells[i]) for i in unread]
        unread_cells[c] = wrong.copy()
        low, high, whole, exclusive = RULES[c]
        with np.errstate(invalid="ignore"):
            wrong |= (num[c] <= low) if exclusive else (num[c] < low)
            wrong |= (num[c] > high) | np.isinf(num[c])
            if whole:
                wrong |= np.isfinite(num[c]) & (num[c] != np.round(num[c]))
        reason[wrong & (reason == None)] = rule_text(c)  # noqa: E711 (elementwise)
        values[c], bad[c] = np.where(wrong, np.nan, num[c]), wrong
    frame = pd.DataFrame(values, index=raw.index, columns=columns)
    no_values = frame.isna().all(axis=1).to_numpy() & (reason == None)  # noqa: E711
    reason[no_values] = "no feature values"
    in_percent = {}
    for c in ratios if percent else ():
        finite = num[c][np.isfinite(num[c])]
        if _percent_column(finite):
            in_percent[c] = (float(finite.min()), float(finite.max()))
    return FeatureValues(frame, pd.DataFrame(bad, index=raw.index, columns=columns),
                         pd.Series(reason, index=raw.index, dtype=object), rows, in_percent,
                         pd.DataFrame(unread_cells, index=raw.index, columns=columns),
                         {c: int((~np.isnan(num[c])).sum()) for c in columns})


def _percent_rows(ratios: list[np.ndarray], n: int) -> np.ndarray:
    """Per row of the parsed 0-to-1 feature columns ``ratios`` (``n`` rows): are they written
    on a 0-to-100 scale? A row is when most of its 0-to-1 values are above 1 and none is below
    0 or above 100 (a file joined from two exports, one in percent: "valence 56.6, energy
    40.1"). In a file with such rows, so is any row with a value above 1 ("valence 0.3, energy
    100": a sad, loud track), and in a file of mostly such rows, every row (a quiet track's
    "valence 0.8, energy 0.5"). In a file without them, one value above 1 beside others within
    0..1 ("energy 1.7, valence 0.4") is a bad value, not a percentage; so is a lone one (a row
    with one 0-to-1 value, or a file with one such column): only rows with two or more values
    above 1 show that a file mixes in another export, unless most of its rows are above 1."""
    if not ratios:
        return np.zeros(n, dtype=bool)
    num = np.column_stack(ratios)
    known = np.isfinite(num)
    with np.errstate(invalid="ignore"):
        inside = ~(known & ((num < 0) | (num > 100))).any(axis=1)
        above = (known & (num > 1)).sum(axis=1)
    has = known.any(axis=1)
    percent = inside & (2 * above > known.sum(axis=1))
    if 2 * percent.sum() > has.sum():
        return inside & has
    return inside & (above > 0) if (percent & (above >= 2)).any() else np.zeros(n, dtype=bool)


def _percent_column(finite: np.ndarray) -> bool:
    """Is one 0-to-1 column (its finite numbers, percent rows already divided by 100) written
    in percent in rows that are not: most of its values above 1 (two or more), none above 100
    (valence "56.6" beside energy "0.401")? Such a file is refused naming the column, not read
    as every track "happy"; a lone value above 1 is a bad value (``_percent_rows``)."""
    above = int((finite > 1).sum())
    return above >= 2 and 2 * above > len(finite) and finite.max() <= 100


def _resolve_columns(header: list[str], path: Path,
                     cells: Callable[[str], pd.Series] | None = None) -> tuple[str, dict[str, str]]:
    """(id column, {feature: file column}) of a CSV header, matched case-insensitively. Of
    several id columns, the first (in ``ID_COLUMNS``' order) whose ``cells`` hold a Spotify track
    id, else the first: a row number in "id" beside the track's URI in "uri" (a database's
    export) refused the file as keyed by no Spotify id."""
    folded: dict[str, str] = {}
    for h in header:
        folded.setdefault(str(h).strip().casefold(), h)
    ids: dict[str, str] = {}
    for h in header:
        ids.setdefault(header_words(h), h)
    found = [ids[c] for c in _ID_HEADERS if c in ids]
    if not found:
        raise DataError(f"{path}: no track id column (expected one of track_id, id, Track URI, uri, spotify_id)")

    def holds_ids(column: pd.Series) -> bool:
        return bool(column.astype(str).str.strip().str.extract(_TRACK_ID, expand=False).notna().any())
    # (its first rows looked at first: the whole of a 1.2-million-row column only when they hold none)
    id_col = found[0] if len(found) == 1 or cells is None else next(
        (h for h in found if holds_ids(cells(h).iloc[:1000]) or holds_ids(cells(h))), found[0])
    features = {c: folded[c] for c in schema.AUDIO_COLUMNS if c in folded}
    for alias, c in ALIASES.items():
        if alias in folded and c not in features:
            features[c] = folded[alias]
    if not features:
        raise DataError(f"{path}: no audio feature column (expected any of {', '.join(schema.AUDIO_COLUMNS)})")
    return id_col, features


def _wanted_header(header: str) -> bool:
    """Only id and feature columns are read (a big export has many others)."""
    h = header.strip().casefold()
    return header_words(h) in _ID_HEADERS or h in schema.AUDIO_COLUMNS or h in ALIASES


def _header_key(header: str) -> str:
    """What a wanted header is compared by: an id header as ``header_words``, a feature's folded."""
    h = header.strip().casefold()
    return header_words(h) if header_words(h) in _ID_HEADERS else h


CHUNK_ROWS = 50_000
TOO_MANY_FIELDS = ("more fields than the header has columns (a value holding an unquoted separator "
                   "moves the values after it into the wrong columns)")


READING = "reading the file"  # the progress stage of ``import_features`` (rows read, no total)


def _read_csv(path: Path, sep: str, encoding: str, skip: int = 0,
              progress: Callable[[str, int, int | None], None] | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """The id and feature columns of a CSV file (as strings; a missing or blank cell is ""), and
    per row whether it has a filled field beyond the header's columns (looked for in the next
    three: empty ones are a row that ends in a separator, as some exports write every row, and
    a row's missing fields are blank cells).
    Such a row cannot be read: pandas, told which columns to read, drops the extra fields, so a
    name with an unquoted comma ("Hello, World") gave its energy column the danceability of the
    row. DataError when the file cannot be read or its header names a wanted column twice."""
    compression = csv_compression(path)
    try:
        header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False,
                             compression=compression, encoding=encoding, skiprows=skip).iloc[0].tolist()
        n = len(header)
        wanted = [i for i, h in enumerate(header) if _wanted_header(str(h))]
        _refuse_twice_named(path, header, wanted)
        # the rows, their columns named by position, three more than the header has, which
        # only a row with extra fields fills. Every column is read, in chunks (pandas told which
        # columns to read drops a row's extra fields unseen, and refuses positions past the
        # widest row), and the wanted ones kept (bench/features_load.py: the import's time and
        # peak as before). The first row read is the header (blank lines before it are skipped,
        # as everywhere)
        beyond = [n, n + 1, n + 2]
        chunks = pd.read_csv(path, sep=sep, header=None, names=range(n + 3), dtype=object,
                             keep_default_na=False, compression=compression, encoding=encoding,
                             chunksize=CHUNK_ROWS, skiprows=skip)
        parts, rows = [], 0
        for chunk in chunks:
            parts.append(chunk[wanted + beyond].astype("string[pyarrow]"))
            rows += len(chunk)
            if progress:  # (a file of a million rows takes half a minute)
                progress(READING, max(rows - 1, 0), None)
        df = pd.concat(parts, ignore_index=True)
        df = df.iloc[1:].reset_index(drop=True)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except UnicodeDecodeError:  # "byte 0xe9 in position 3" of pandas' buffer, not of the file
        raise not_utf8(path) from None
    except (pd.errors.ParserError, OSError, EOFError, ValueError) as exc:
        if "EOF inside string" in str(exc):  # pandas' "starting at row 1" counts records, not lines
            raise DataError(f"{path}: a quoted value is never closed (a \" opens it and no \" ends it before the "
                            "end of the file): close it, or write a \" inside a value as \"\"") from None
        raise DataError(f"{path}: cannot read as CSV ({first_line(exc)})") from None
    extra = (df[beyond].fillna("") != "").any(axis=1).to_numpy(dtype=bool)
    return df[wanted].set_axis([str(header[i]) for i in wanted], axis=1), extra


def csv_records(path: Path, sep: str, encoding: str, skip: int = 0) -> Iterator[tuple[int, list[str]]]:
    """Each row of a CSV file with the line it starts on, as an editor numbers them (a quoted
    value holding a line break makes one row of several lines; blank lines are no rows), the
    file opened as pandas opens it (its compressions, the text read with newline="" as csv needs)."""
    from pandas.io.common import get_handle
    with get_handle(path, "r", encoding=encoding, compression=csv_compression(path)) as handle:
        reader = csv.reader(handle.handle, delimiter=sep)
        before = 0
        if skip:  # Excel's "sep=;" line (``csv_layout``)
            next(reader, None)
            before = reader.line_num
        for row in reader:
            if row:
                yield before + 1, row
            before = reader.line_num


def _record_lines(path: Path, sep: str, encoding: str, skip: int = 0) -> Callable[[int], int]:
    """Row position (0: the first row after the header) -> the file's line where that row
    starts, as an editor numbers them, worked out on first use (only a skipped row's message
    needs it). A quoted value holding a line break makes one row of several lines, and blank
    lines are no rows, so "the row's position + 2" named the wrong line after either. The file
    is read again the way pandas read it (the same separator, quotes and blank lines skipped);
    if that fails, positions + 2 it is."""
    starts: list[int] = []

    def line(position: int) -> int:
        if not starts:
            try:
                starts.extend(start for start, _ in csv_records(path, sep, encoding, skip))
            except Exception as exc:  # noqa: BLE001 - only the numbering is lost
                log.debug("%s: line numbers by position (%s)", path, exc)
                starts.append(0)
        if len(starts) > position + 1 and starts[0] != 0:
            return starts[position + 1]
        return position + 2
    return line


def _refuse_twice_named(path: Path, header: list, wanted: list[int]) -> None:
    """DataError naming the file and the column when two wanted columns have one name (as
    compared: "Valence" and "valence"): which one to read cannot be told (the first was read)."""
    seen: dict[str, int] = {}
    for i in wanted:
        key = _header_key(str(header[i]))
        if key in seen:
            first, second = str(header[seen[key]]).strip(), str(header[i]).strip()
            spelled = f", {first!r} and {second!r}" if first != second else ""
            raise DataError(f"{path}: the header names column {first!r} twice (columns {seen[key] + 1} and "
                            f"{i + 1}{spelled}): which one to import cannot be told; keep one")
        seen[key] = i


def not_utf8(path: Path | str) -> DataError:
    """The error of a CSV file that is not UTF-8 (Excel's plain "CSV", in its own code page)."""
    return DataError(f"{path}: not UTF-8 text (a spreadsheet's plain \"CSV\" is in its own code page): save it "
                     "again as \"CSV UTF-8\" (Excel: Save As) and give that file")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (pandas' names the line of the file), else its type."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def merge_features(old: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """``old`` updated by ``new`` (both audio_features-shaped): per track and column, a value
    of ``new`` wins; a blank in ``new`` keeps the old value. Conformed, in old order, then the
    new tracks in new order. Column by column in numpy: pandas' combine_first and a membership
    test per id took 15 of the 30 seconds of a 1.2-million-track import."""
    new = schema.conform("audio_features", new)
    if old is None or old.empty:
        return schema.conform("audio_features", new.reset_index(drop=True))
    old = schema.conform("audio_features", old)
    old = old[~old["track_id"].duplicated(keep="last").to_numpy()].reset_index(drop=True)
    pos = pd.Index(old["track_id"].to_numpy(dtype=object)).get_indexer(new["track_id"].to_numpy(dtype=object))
    hit = pos >= 0
    out = {"track_id": np.concatenate([old["track_id"].to_numpy(dtype=object),
                                       new["track_id"].to_numpy(dtype=object)[~hit]])}
    for c in schema.AUDIO_COLUMNS:
        merged = old[c].to_numpy(dtype="float64", na_value=np.nan).copy()
        given = new[c].to_numpy(dtype="float64", na_value=np.nan)
        known = hit & ~np.isnan(given)
        merged[pos[known]] = given[known]
        out[c] = np.concatenate([merged, given[~hit]])
    return schema.conform("audio_features", pd.DataFrame(out))


def import_features(path: Path | str, library: Library | None, store: Store,
                    progress: Callable[[str, int, int | None], None] | None = None) -> ImportReport:
    """Import audio features from a CSV (plain or .gz) into the store's ``audio_features``.

    Rows with a bad id or an out-of-range value are skipped and counted per reason (with the
    first few as examples: file line, id, value). Raises DataError naming the file when it
    cannot be read, has no id column or no feature column, or a column that reads in none of
    its filled rows (``_refuse_unreadable_column``).
    """
    path = Path(path)
    check_input(path)
    encoding = csv_encoding(path)  # (the file's first bytes, looked at once)
    sep, skip = csv_layout(path, encoding)
    df, too_many = _read_csv(path, sep, encoding, skip, progress)
    lines = _record_lines(path, sep, encoding, skip)
    id_col, columns = _resolve_columns(list(df.columns), path, cells=lambda h: df[h])
    report = ImportReport(path=str(path), rows=len(df), columns=list(columns))
    raw = pd.DataFrame({c: df[f] for c, f in columns.items()}, index=df.index)
    read = read_features(raw, columns, decimal_comma=sep != ",")
    read.refuse_percent_columns(path, columns)
    proper = [c for c in columns if c != "duration_ms"]  # Exportify fills its "Duration (ms)" still
    if len(df) and proper and read.values[proper].isna().all(axis=None) and not read.bad[proper].any(axis=None):
        # every row without features: not bad rows, a file without features (the user's next step differs)
        raise DataError(f"{path}: its audio feature columns ({', '.join(columns[c] for c in proper)}) are empty in every row "
                        "(an Exportify export made since Spotify stopped giving apps audio features, in November "
                        "2024, has them empty); import a file that has them, such as a data set keyed by "
                        "Spotify track id")
    report.percent_rows, values, reason = int(read.percent_rows.sum()), read.values, read.reason
    ids = df[id_col].astype(str).str.strip().str.extract(_TRACK_ID, expand=False)  # parse_track_id, vectorised
    blank_id = df[id_col].astype(str).str.strip() == ""
    fit = ~too_many  # a row with extra fields has its values in other columns: not the column's

    def numeric(c: str) -> int:  # the column's cells that read as a number (in range or not), in rows that fit
        number = read.values[c].notna().to_numpy(dtype=bool) | (read.bad[c] & ~read.unread[c]).to_numpy(dtype=bool)
        return int((number & fit).sum())
    _refuse_unreadable_column(path, df, {**{c: (read.unread[c] & fit, numeric(c)) for c in columns},
                                         "track_id": (ids.isna() & ~blank_id & fit, int((ids.notna() & fit).sum()))},
                              {**columns, "track_id": id_col}, lines)
    reason = reason.mask(ids.isna() & ~blank_id, "not a Spotify track id")
    reason = reason.mask(blank_id, "missing track id")
    reason = reason.mask(pd.Series(too_many, index=reason.index), TOO_MANY_FIELDS)  # its values are in the wrong columns

    for why, rows in reason.dropna().groupby(reason.dropna(), sort=False):
        report.skipped[str(why)] = len(rows)
        report.examples[str(why)] = [
            _example(df, i, id_col, columns, str(why), lines) for i in rows.index[:MAX_EXAMPLES]]
    good = reason.isna()
    values = values[good].assign(track_id=ids[good])
    report.duplicates = int(values["track_id"].duplicated().sum())
    # later rows of the same track win, column by column (groupby.last skips blanks)
    new = values.groupby("track_id", sort=False).last().reset_index()
    report.imported = len(new)
    report.moods = int(new.reindex(columns=["valence", "energy"]).notna().all(axis=1).sum())
    for why, n in report.skipped.items():
        log.info("%s: skipped %d row(s): %s", path, n, why)

    old = store.load_frame("audio_features")
    # ids compared as a hashed Index (an Arrow string column's isin of a 1.2-million-id set took 7 s)
    before = pd.Index([] if old is None else old["track_id"].astype(str).to_numpy(dtype=object), dtype=object)
    report.updated = int(pd.Index(new["track_id"].to_numpy(dtype=object)).isin(before).sum())
    report.added = report.imported - report.updated
    if library is not None:
        report.in_library = int(new["track_id"].isin(library.track_ids).sum())
        if report.imported and not report.in_library and len(library.track_ids):
            log.warning("%s: none of the %d tracks is in your cache (your library and the tracks discovery found)", path, report.imported)
    if report.imported:
        merged = merge_features(old, new)
        store.save_frame("audio_features", merged)
        report.total = len(merged)
        mine = merged[merged["track_id"].astype(str).isin(set(new["track_id"].astype(str)))]
        report.placed = int(mine.reindex(columns=["valence", "energy"]).notna().all(axis=1).sum())
    else:
        report.total = before.nunique()
    return report


def _refuse_unreadable_column(path: Path, df: pd.DataFrame, cells: dict[str, tuple[pd.Series, int]],
                              names: dict[str, str],
                              lines: Callable[[int], int] = lambda position: position + 2) -> None:
    """Raise DataError naming the file, the column (``names``: ours -> the file's) and its first
    cell (on its line of the file: ``lines``) when a column is unreadable in every row that fills it. ``cells``: column -> (per row,
    is the cell filled with text that does not read; how many cells read: as a number, in its
    range or not, or for "track_id" as a Spotify track id). Refused: two or more such cells and
    not one that reads. Such a column ("120 BPM" for a tempo, a file keyed by another service's
    ids) skipped every row, exit 0; a column with one cell that reads, or a single bad cell,
    keeps its bad rows skipped and reported."""
    for c, (unread, numeric) in cells.items():
        if numeric or int(unread.sum()) < 2:
            continue
        first = unread.index[unread.to_numpy(dtype=bool)][0]
        line = lines(int(df.index.get_loc(first)))
        noun, rule = (("Spotify track id", "an id is 22 letters and digits, a spotify:track: URI or an "
                       "open.spotify.com link") if c == "track_id" else ("number", rule_text(c)))
        raise DataError(f"{path}: column {names[c]!r} holds no {noun} in any of its {int(unread.sum())} filled "
                        f"rows (e.g. {cut(str(df.at[first, names[c]]), 60)!r} on line {line}); {rule}: nothing was imported")


def _example(df: pd.DataFrame, i: Any, id_col: str, columns: dict[str, str], why: str,
             lines: Callable[[int], int] = lambda position: position + 2) -> str:
    """'line 7: <id> energy=1.7' (``lines``: the file's line of a row, ``_record_lines``; a cell
    is cut at 60 characters: a 100,000-character id was printed whole)."""
    line = lines(int(df.index.get_loc(i)))
    column = next((c for c in columns if why.startswith(c + " ")), None)
    shown = f" {columns[column]}={cut(str(df.at[i, columns[column]]), 60)!r}" if column else ""
    return f"line {line}: {cut(str(df.at[i, id_col] or '(blank)'), 60)}{shown}"


# ----- Spotify's /audio-features (extended-quota apps only) ----------------------------------
def fetch_spotify_features(fetch: Fetch, track_ids: Iterable[str], store: Store,
                           today: date | None = None, batch_size: int = BATCH_SIZE) -> pd.DataFrame | None:
    """Fetch audio features of the ``track_ids`` not in the store yet and merge them in.

    ``fetch(ids)`` (at most ``batch_size`` ids) returns Spotify audio-features objects
    (``None`` entries for unknown ids are fine), or None when the endpoint is not available.
    Returns the stored ``audio_features`` rows of ``track_ids`` after the merge (the stored
    frame is read whole only when Spotify gave features to add), or None when Spotify refused
    (403, remembered in the manifest and not asked again for 30 days) or ``fetch`` returned
    None. Other SpotifyErrors propagate; batches fetched before are saved first.
    """
    today = today or local_today()
    manifest = store.read_manifest()
    refused_on = manifest.get(FORBIDDEN_KEY)  # a 403 is remembered FORBIDDEN_DAYS days from its date, as of ``today``
    refused_day = str(refused_on)[:10] if refused_on else None
    if refused_day and younger_than(refused_day, FORBIDDEN_DAYS, today):
        log.info("audio features: Spotify refused them recently; not asking again before %s",
                 remembered_until(refused_day, FORBIDDEN_DAYS, today).date())
        return None
    ids = list(dict.fromkeys(str(t) for t in track_ids))
    known = store.load_frame("audio_features", only=ids)  # the rows of these tracks alone
    have = set() if known is None else set(known["track_id"].astype(str))
    wanted = [t for t in ids if t not in have]
    got: list[dict[str, Any]] = []
    refused = unavailable = False
    try:
        for start in range(0, len(wanted), batch_size):
            batch = fetch(wanted[start:start + batch_size])
            if batch is None:
                unavailable = True
                break
            got.extend(item for item in batch if item)
    except SpotifyError as exc:
        if exc.status != 403:
            _merge_fetched(store, got)
            raise
        log.info("audio features: Spotify answered 403 (normal for a Development Mode app); not asking again for %d days", FORBIDDEN_DAYS)
        store.update_manifest(**{FORBIDDEN_KEY: today.isoformat()})
        refused = True
    except BaseException:
        _merge_fetched(store, got)
        raise
    merged = _merge_fetched(store, got)
    if refused or unavailable:
        return None
    if FORBIDDEN_KEY in manifest:  # it works again: forget the old refusal (nothing here wrote the manifest since)
        del manifest[FORBIDDEN_KEY]
        store.write_manifest(manifest)
    if merged is None:
        return known if known is not None else schema.empty_frame("audio_features")
    return merged[merged["track_id"].isin(ids).to_numpy()].reset_index(drop=True)


def _merge_fetched(store: Store, items: list[dict[str, Any]]) -> pd.DataFrame | None:
    """Validate Spotify's objects, merge them into the stored frame (read whole: every row
    of it is kept) and save; the frame now stored, or None when there were no objects."""
    if not items:
        return None
    raw = pd.DataFrame(items)
    ids = raw["id"] if "id" in raw.columns else pd.Series([None] * len(raw), index=raw.index)
    raw["track_id"] = ids.map(parse_track_id)
    columns = [c for c in schema.AUDIO_COLUMNS if c in raw.columns]
    read = read_features(raw, columns, percent=False)
    values, reason = read.values, read.reason
    keep = reason.isna() & raw["track_id"].notna()
    if (~keep).any():
        log.warning("audio features: dropped %d object(s) with a bad id or values", int((~keep).sum()))
    new = values[keep].assign(track_id=raw.loc[keep, "track_id"])
    merged = merge_features(store.load_frame("audio_features"), new.drop_duplicates("track_id", keep="last"))
    store.save_frame("audio_features", merged)
    return merged
