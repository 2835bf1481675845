"""Dataset import and the benchmark protocol functions (tt-continuation-v1)."""

from __future__ import annotations

import gzip
import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.dataset import (artist_id_for, benchmark_split, hide_random, hide_tracks, load_dataset,
                                 split_library)
from recommender.errors import DataError, NotEnoughData
from deprecation_marks import DEPRECATIONS_OF_OURS

pytestmark = DEPRECATIONS_OF_OURS

FIX = Path(__file__).parent / "fixtures"
TIDY = FIX / "tidy_small.csv"
EXPORT = FIX / "Road_Trip.csv"
CHECK_PLAYLIST = "03qQtbNHoJuFezRu2CnLuF"


def test_tidytuesday_frames_restricted():
    lib = load_dataset(TIDY)
    # 31 data rows: one without track_id and one duplicate pair are dropped
    assert len(lib.playlist_items) == 30
    assert set(lib.playlists["name"]) == {"Synth Nights", "Calm Stones", "Remix Nights"}
    assert lib.tracks["track_id"].is_unique
    assert lib.tracks["popularity"].isna().all()
    assert lib.tracks["duration_ms"].isna().all()
    assert len(lib.audio_features) == 0
    row = lib.tracks.set_index("track_id").loc["5qrNtSNkPsWfjqaYNugzYT"]
    assert row["artist_names"] == ["The Lanterns"]
    assert row["artist_ids"] == [artist_id_for("the lanterns")]
    assert len(row["artist_ids"][0]) == 22


def test_tidytuesday_full_keeps_popularity_and_audio():
    lib = load_dataset(TIDY, features="full")
    pop = lib.tracks.set_index("track_id")["popularity"]
    assert pop["5qrNtSNkPsWfjqaYNugzYT"] == 30
    assert len(lib.audio_features) == len(lib.tracks)
    assert lib.audio_features["tempo"].iloc[0] == pytest.approx(120.0)


def test_playlist_genre_never_imported():
    lib = load_dataset(TIDY, features="full")
    for name, df in lib.frames.items():
        text = df.astype(str).to_string()
        assert "LEAKGENRE" not in text and "LEAKSUB" not in text, name


def test_gzip_file(tmp_path):
    gz = tmp_path / "songs.csv.gz"
    with open(TIDY, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert len(load_dataset(gz).playlist_items) == 30
    named = tmp_path / "songs.csv"  # gzipped, not named so: it was "not UTF-8 text", sent to a spreadsheet
    shutil.copyfile(gz, named)
    assert len(load_dataset(named).playlist_items) == 30
    plain = tmp_path / "unpacked.csv.gz"  # unpacked and not renamed: "cannot read as CSV (Not a gzipped file)"
    shutil.copyfile(TIDY, plain)
    assert len(load_dataset(plain).playlist_items) == 30


def test_missing_column_names_file_and_column(tmp_path):
    bad = tmp_path / "bad.csv"
    pd.read_csv(TIDY).drop(columns=["track_album_name"]).to_csv(bad, index=False)
    with pytest.raises(DataError, match=r"bad\.csv.*'track_album_name'"):
        load_dataset(bad)


def test_unknown_format_and_missing_file(tmp_path):
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="odd.csv: unknown CSV format"):
        load_dataset(odd)
    # a file of audio features (what `import features` reads) was said to miss 'track_id', which it has
    features = tmp_path / "features.csv"
    features.write_text("track_id,valence,energy\n2IZZqH4K02UIYg5EohpNHF,0.5,0.7\n")
    with pytest.raises(DataError) as caught:
        load_dataset(features)
    assert str(caught.value) == (f"{features}: no column 'playlist_id' beside 'track_id', so no playlist file (a file "
                                 "of audio features? `recommend import features FILE` reads it)")
    with pytest.raises(DataError, match="not_there.csv: file not found"):
        load_dataset(tmp_path / "not_there.csv")


def test_exportify_file():
    lib = load_dataset(EXPORT, features="full")
    assert lib.playlists["name"].tolist() == ["Road Trip"]
    t = lib.tracks.set_index("track_id")
    # "Tyler, The Creator" keeps its comma: Exportify separates artists with "," and no space
    assert t.loc["ex00000000000000000001", "artist_names"] == ["Tyler, The Creator", "Kali Band"]
    assert t.loc["ex00000000000000000001", "artist_ids"] == ["ar00000000000000000001", "ar00000000000000000002"]
    assert t.loc["ex00000000000000000001", "popularity"] == 61
    assert pd.isna(t.loc["ex00000000000000000003", "popularity"])
    assert bool(t.loc["ex00000000000000000002", "explicit"]) is True
    assert lib.playlist_items["added_at"].iloc[0] == "2024-01-02T10:00:00Z"
    assert load_dataset(EXPORT).tracks["popularity"].isna().all()


def test_exportify_folder_with_liked_songs(tmp_path):
    shutil.copy(EXPORT, tmp_path / "Road_Trip.csv")
    liked = pd.read_csv(EXPORT).iloc[:1]
    liked.to_csv(tmp_path / "Liked_Songs.csv", index=False)
    lib = load_dataset(tmp_path)
    assert lib.playlists["name"].tolist() == ["Road Trip"]
    assert lib.saved_tracks["track_id"].tolist() == ["ex00000000000000000001"]


def test_exportify_local_files_are_left_out_and_said(tmp_path, caplog):
    """Exportify writes a local file as spotify:local:Artist:Album:Title:200: its last part, the
    length, made two local files one track "200", the second gone without a word."""
    df = pd.read_csv(EXPORT)
    uri = next(c for c in df.columns if c in ("Track URI", "Spotify ID"))
    local = df.iloc[:2].copy()
    local[uri] = ["spotify:local:Local+Artist:Local+Album:My+Song:200", "spotify:local:Other:Album:Other+Song:200"]
    pd.concat([df, local]).to_csv(tmp_path / "Road_Trip.csv", index=False)
    with caplog.at_level(logging.WARNING):
        lib = load_dataset(tmp_path / "Road_Trip.csv")
    assert "200" not in set(lib.tracks["track_id"]) and len(lib.playlist_items) == len(df)
    assert "2 local files left out (no Spotify track id" in caplog.text


def test_exportify_missing_column(tmp_path):
    bad = tmp_path / "x.csv"
    pd.read_csv(EXPORT).drop(columns=["Track Name"]).to_csv(bad, index=False)
    with pytest.raises(DataError, match=r"x\.csv: missing column 'Track Name'"):
        load_dataset(bad)


def test_benchmark_split_is_the_protocols():
    assert benchmark_split(CHECK_PLAYLIST) == "dev"
    assert benchmark_split("37i9dQZF1DXcZDD7cfEKhW") == "holdout"
    assert benchmark_split("37i9dQZF1DWZQaaqNMbbXa") == "dev"


def test_split_library_sees_nothing_of_the_other_split():
    lib = load_dataset(TIDY, features="full")
    dev = split_library(lib, "dev")
    assert set(dev.playlists["playlist_id"]) == {CHECK_PLAYLIST, "37i9dQZF1DWZQaaqNMbbXa"}
    assert not dev.tracks["track_id"].str.startswith("hold").any()
    assert not dev.audio_features["track_id"].str.startswith("hold").any()
    assert "Stone Choir" not in set(dev.artists["name"])
    hold = split_library(lib, "holdout")
    assert len(hold.tracks) == 10


def test_hide_tracks_check_vector():
    dev = split_library(load_dataset(TIDY), "dev")
    hidden = hide_tracks(dev)
    # only the 14-track playlist is a target (the other has 6 < 10 tracks)
    assert set(hidden["playlist_id"]) == {CHECK_PLAYLIST}
    ids = sorted(hidden["track_id"])
    assert len(ids) == 7
    assert ids[:3] == ["0gzqZ9d1jIKo9psEIthwXe", "0viZ7D81W8pD65TkzaFkXT", "1qDrWA6lyx8cLECdZE7TV7"]
    other_salt = hide_tracks(dev, salt="1")
    assert len(other_salt) == 7 and set(other_salt["track_id"]) != set(ids)


def test_hide_random_is_seeded_and_leaves_tracks_visible():
    dev = split_library(load_dataset(TIDY), "dev")
    a = hide_random(dev, fraction=0.3, seed=7, min_tracks=5)
    b = hide_random(dev, fraction=0.3, seed=7, min_tracks=5)
    c = hide_random(dev, fraction=0.3, seed=8, min_tracks=5)
    pd.testing.assert_frame_equal(a, b)
    assert a.groupby("playlist_id").size().to_dict() == {CHECK_PLAYLIST: 4, "37i9dQZF1DWZQaaqNMbbXa": 1}
    assert not a.equals(c)
    assert len(hide_random(dev, fraction=1.0, seed=1, min_tracks=10)) == 13  # one always stays visible
    with pytest.raises(NotEnoughData, match="evaluate.min_tracks"):
        hide_random(dev, min_tracks=100)


def test_exportify_files_whose_names_hold_a_dot_stay_separate_playlists(tmp_path):
    """The playlist name was the file name up to its first dot: "Vol. 1.csv" and
    "Vol. 2.csv" both became one playlist "Vol" (merged items, a wrong name)."""
    shutil.copy(EXPORT, tmp_path / "Vol. 1.csv")
    pd.read_csv(EXPORT).iloc[:2].to_csv(tmp_path / "Vol. 2.csv", index=False)
    lib = load_dataset(tmp_path)
    assert sorted(lib.playlists["name"]) == ["Vol. 1", "Vol. 2"]
    sizes = lib.playlist_items.groupby("playlist_id").size()
    assert sorted(sizes.tolist()) == [2, len(pd.read_csv(EXPORT))]


def _spreadsheet_copy(src: Path, dest: Path, **changes) -> Path:
    """``src`` as a spreadsheet saves it where the decimal mark is a comma: ';' between fields,
    "0,5" for 0.5; ``changes`` replace whole columns first."""
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    for column, values in changes.items():
        df[column] = values
    df = df.map(lambda v: v.replace(".", ",") if v.replace(".", "", 1).lstrip("-").isdigit() else v)
    df.to_csv(dest, sep=";", index=False)
    return dest


def test_a_file_a_spreadsheet_saved_with_semicolons_and_decimal_commas_is_read(tmp_path):
    """Excel or LibreOffice in a comma-decimal locale (most of Europe) re-saves an Exportify or
    TidyTuesday CSV with ';' between fields and "0,518" numbers: the file was "unknown CSV
    format", and with that fixed by hand every feature was silently no value."""
    lib = load_dataset(_spreadsheet_copy(EXPORT, tmp_path / "Road_Trip.csv"), features="full")
    assert lib.playlists["name"].tolist() == ["Road Trip"]
    assert lib.tracks.set_index("track_id").loc["ex00000000000000000001", "artist_names"] == ["Tyler, The Creator",
                                                                                              "Kali Band"]
    plain = load_dataset(TIDY, features="full").frames["audio_features"].set_index("track_id")
    saved = load_dataset(_spreadsheet_copy(TIDY, tmp_path / "tidy.csv"), features="full")
    got = saved.frames["audio_features"].set_index("track_id")
    assert got["valence"].notna().all() and len(got) == len(plain)
    pd.testing.assert_series_equal(got["valence"], plain["valence"])
    pd.testing.assert_series_equal(got["tempo"], plain["tempo"])


def test_features_out_of_range_are_unknown_and_a_percent_scale_is_refused(tmp_path, caplog):
    """A file whose valence and energy run 0 to 100 (some exports and hand-made sheets) was read
    as is: every track was "happy" and the mood commands said nothing. Now that is refused
    naming the file and the column; a stray value out of range is unknown, with one warning."""
    n = len(pd.read_csv(TIDY))
    hundred = [str(v) for v in ([87, 12, 55, 100, 3] * n)[:n]]
    with pytest.raises(DataError, match=r"percent\.csv: column 'valence' runs from 3 to 100; valence is 0 to 1 "
                                        r"\(divide the column by 100\)"):
        load_dataset(_copy_with(TIDY, tmp_path / "percent.csv", valence=hundred), features="full")
    stray = ["0.5"] * n
    stray[0] = "1.7"
    lib = load_dataset(_copy_with(TIDY, tmp_path / "stray.csv", energy=stray), features="full")
    energy = lib.frames["audio_features"]["energy"]
    assert energy.isna().sum() == 1 and (energy.dropna() == 0.5).all()
    assert "stray.csv: 1 value(s) of column 'energy' out of range, read as unknown" in caplog.text
    assert load_dataset(_copy_with(TIDY, tmp_path / "ok.csv", valence=hundred)).tracks is not None  # features unused


def test_a_lone_value_above_1_is_unknown_even_when_it_is_its_columns_only_value(tmp_path, caplog):
    """A file whose energy column held one value, "1.7" (the others blank), was refused as a
    column "from 1.7 to 1.7" in percent; `recommend import features` skips that value as bad,
    and so does a data file now: the value is unknown, with the one-line warning."""
    n = len(pd.read_csv(TIDY))
    lone = ["1.7"] + [""] * (n - 1)
    lib = load_dataset(_copy_with(TIDY, tmp_path / "lone.csv", energy=lone), features="full")
    af = lib.frames["audio_features"]
    assert af["energy"].isna().all() and af["valence"].notna().all()
    assert "lone.csv: 1 value(s) of column 'energy' out of range, read as unknown (energy must be a number " \
           "in 0..1; e.g. '1.7')" in caplog.text


def test_a_number_too_big_for_its_column_is_unknown_not_the_end_of_every_command(tmp_path, caplog):
    """A duration or popularity cell of 1e30, inf or 99999999999999999999 stopped every command
    that read the file ("unexpected error: TypeError: cannot safely cast non-equivalent float64
    to int64", exit 1); it is unknown now, with one warning, like a negative one."""
    n = len(pd.read_csv(TIDY))
    odd = ["1e30", "inf", "-5", "99999999999999999999", "-inf"]
    duration = (odd + ["200000"] * n)[:n]
    popularity = (["1e308", "-3", "101"] + ["40"] * n)[:n]
    lib = load_dataset(_copy_with(TIDY, tmp_path / "big.csv", duration_ms=duration, track_popularity=popularity),
                       features="full")
    tracks = lib.tracks.set_index("track_id")
    ids = list(pd.read_csv(TIDY)["track_id"][:5])  # the first rows: five tracks
    assert tracks.loc[ids, "duration_ms"].isna().all() and tracks.drop(index=ids)["duration_ms"].eq(200000).all()
    assert tracks.loc[ids[:3], "popularity"].isna().all() and tracks.drop(index=ids[:3])["popularity"].eq(40).all()
    assert caplog.text.count("5 value(s) of column 'duration_ms' out of range") == 1  # said once (audio's rule)
    assert "big.csv: 3 value(s) of column 'track_popularity' out of range, read as unknown (0 to 100; " \
           "e.g. '1e308')" in caplog.text
    export = pd.read_csv(EXPORT, dtype=str, keep_default_na=False)  # an Exportify file alike
    export.loc[0, "Track Duration (ms)"], export.loc[1, "Popularity"] = "1e30", "inf"
    export.to_csv(tmp_path / "Road Trip.csv", index=False)
    lib = load_dataset(tmp_path / "Road Trip.csv", features="full")
    read = lib.tracks.set_index("track_id")
    assert pd.isna(read.loc["ex00000000000000000001", "duration_ms"]) and read["duration_ms"].notna().sum() >= 2
    assert pd.isna(read.loc["ex00000000000000000002", "popularity"]) and read.loc["ex00000000000000000001", "popularity"] == 61


def test_a_row_with_fields_too_many_is_named_by_its_line(tmp_path):
    # it said only "cannot read as CSV (ParserError)": which of 30,000 lines?
    lines = TIDY.read_text().splitlines()
    lines[5] += ",x,y"
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"bad\.csv: cannot read as CSV \(.*Expected \d+ fields in line 6, saw \d+\)$"):
        load_dataset(tmp_path / "bad.csv")


def test_a_row_with_one_unquoted_separator_is_named_by_its_line_not_read_shifted(tmp_path):
    """One field too many (a name with an unquoted comma, "Night, Drive 1") was read one column
    on, exit 0: a playlist named by a date, the track named "Night", its artist " Drive 1", with
    pandas' own warning on stderr. A row that ends in a separator (every row, in some exports) is
    still read."""
    lines = TIDY.read_text().splitlines()  # (the first row: pandas refuses a later one itself, naming it)
    lines[1] = lines[1].replace(",", ", and,", 2).replace(", and,", ",", 1)
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"bad\.csv: line 2 has \d+ fields where the header has \d+ columns .*put that "
                                        r"value in quotes$"):
        load_dataset(tmp_path / "bad.csv")
    trailing = tmp_path / "trailing.csv"
    trailing.write_text("\n".join(line + ("," if i else "") for i, line in enumerate(TIDY.read_text().splitlines()))
                        + "\n")
    assert len(load_dataset(trailing).playlist_items) == 30


def test_a_zip_of_several_files_or_none_is_said_not_a_crash(tmp_path):
    """`--dataset multi.zip`: "unexpected error: ValueError: Multiple files found in ZIP file"
    (exit 1), where `import features` says it in a line (exit 2)."""
    import zipfile
    for name, members in (("multi.zip", ["a.csv", "b.csv"]), ("empty.zip", [])):
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            for m in members:
                z.write(TIDY, m)
        with pytest.raises(DataError, match=rf"{name}: cannot read as CSV \(.*(Multiple|Zero) files found"):
            load_dataset(tmp_path / name)


def _copy_with(src: Path, dest: Path, **changes) -> Path:
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    for column, values in changes.items():
        df[column] = values
    df.to_csv(dest, index=False)
    return dest


def test_a_file_whose_0_to_1_features_are_all_in_percent_is_read_as_percentages(tmp_path):
    """A data file exported with every 0-to-1 feature in percent ("50", "60") is read as
    `recommend import features` reads it (tests/test_features.py), not refused; a file with only
    valence in percent is still refused (test_features_out_of_range_are_unknown_and_a_percent_scale_is_refused)."""
    df = pd.read_csv(TIDY, dtype=str, keep_default_na=False)
    ratios = ("danceability", "energy", "speechiness", "acousticness", "instrumentalness", "liveness", "valence")
    changes = {c: [f"{float(v) * 100:g}" if v else v for v in df[c]] for c in ratios}
    got = load_dataset(_copy_with(TIDY, tmp_path / "percent.csv", **changes), features="full").frames["audio_features"]
    plain = load_dataset(TIDY, features="full").frames["audio_features"]
    for c in ratios + ("tempo",):
        pd.testing.assert_series_equal(got[c], plain[c])


def test_a_csv_in_a_windows_code_page_says_to_save_it_as_utf8(tmp_path):
    """Excel's plain "CSV" is Windows-1252: the error named a byte "in position 14" of a read
    buffer (no place in the file) and gave no way out, where a workbook gets one."""
    from recommender.dataset import load_dataset
    from recommender.errors import DataError
    path = tmp_path / "mine.csv"
    path.write_bytes("Track URI,Track Name,Artist Name(s)\nspotify:track:a,Año,Niño\n".encode("cp1252"))
    with pytest.raises(DataError) as err:
        load_dataset(path)
    assert str(err.value) == (f"{path}: not UTF-8 text (a spreadsheet's plain \"CSV\" is in its own code page): save it "
                              'again as "CSV UTF-8" (Excel: Save As) and give that file')


def _tidy_file(path: Path, rows: list[dict]) -> Path:
    header = TIDY.read_text().splitlines()[0].split(",")
    pd.DataFrame(rows).reindex(columns=header).to_csv(path, index=False)
    return path


def test_evaluate_dataset_gives_the_same_numbers_whatever_the_files_row_order(tmp_path):
    """The evaluation breaks ties by a seeded permutation of the library's track positions, and
    a --dataset library kept the file's row order: the same file with its rows shuffled gave
    other numbers (blend R-precision and single-scorer rows moved by up to 0.005 on the
    benchmark file). Tracks are now in id order, as the cache has them."""
    from recommender.config import load_settings
    from recommender.evaluate import evaluate
    rng = np.random.default_rng(3)
    rows = []
    for p in range(12):
        for i in range(14):
            t = int(rng.integers(0, 90))  # tracks shared between playlists: ties among them
            rows.append({"track_id": f"{t:022d}", "track_name": f"song {t % 7}", "track_artist": f"Band {t % 9}",
                         "track_album_id": f"al{t % 11}", "track_album_name": f"record {t % 5}",
                         "track_album_release_date": "2001-01-01", "playlist_name": f"list {p}",
                         "playlist_id": f"pl{p:020d}"})
    a = _tidy_file(tmp_path / "a.csv", rows)
    b = _tidy_file(tmp_path / "b.csv", [rows[i] for i in rng.permutation(len(rows))])
    settings = load_settings(config_file=None, environ={})
    results = []
    for path in (a, b):
        lib = load_dataset(path)
        results.append(evaluate(lib, hide_tracks(lib, min_tracks=settings.evaluate.min_tracks), settings))
    assert results[0].metrics == results[1].metrics
    for method, hits in results[0].hits.items():
        assert (hits == results[1].hits[method]).all(), method


def _same_library(got, want) -> None:
    for name in ("tracks", "artists", "playlists", "playlist_items"):
        pd.testing.assert_frame_equal(got.frames[name].reset_index(drop=True), want.frames[name].reset_index(drop=True),
                                      check_dtype=False)


def test_a_files_columns_in_another_case_or_spaced_its_ids_as_uris_and_a_CSV_ending_are_read(tmp_path):
    """A file re-saved or written by another tool: "Track_ID", " Playlist_Name", "TRACK URI";
    "spotify:track:ID" ids in the benchmark's format; "Mix.CSV" in a folder. Each was refused
    ("unknown CSV format", "no .csv files in this folder") or, the URIs, read as other tracks
    than the same file's plain ids."""
    tidy = pd.read_csv(TIDY, dtype=str, keep_default_na=False)
    odd = tidy.rename(columns={"track_id": "Track_ID", "playlist_name": " Playlist_Name ", "energy": "ENERGY"})
    odd["Track_ID"] = "spotify:track:" + odd["Track_ID"]
    odd["playlist_id"] = "https://open.spotify.com/playlist/" + odd["playlist_id"] + "?si=x"
    odd.to_csv(tmp_path / "odd.csv", index=False)
    want = load_dataset(TIDY, features="full")
    got = load_dataset(tmp_path / "odd.csv", features="full")
    _same_library(got, want)
    pd.testing.assert_series_equal(got.frames["audio_features"]["energy"].reset_index(drop=True),
                                   want.frames["audio_features"]["energy"].reset_index(drop=True))
    folder = tmp_path / "exports"
    folder.mkdir()
    pd.read_csv(EXPORT, dtype=str, keep_default_na=False).rename(
        columns={"Track URI": "TRACK URI", "Track Name": "track_name", "Artist Name(s)": "artist name(s)"}
    ).to_csv(folder / "Road_Trip.CSV", index=False)
    _same_library(load_dataset(folder), load_dataset(EXPORT))


def test_excels_sep_line_names_the_separator_and_is_no_header(tmp_path):
    """Some exports begin with Excel's "sep=;" line: it was taken for the header ("unknown CSV
    format"; `import features`: no track id column), and a bad row's line was one off."""
    from recommender.features import import_features
    from recommender.store import Store
    body = (TIDY.read_text(encoding="utf-8").replace(",", ";"))
    (tmp_path / "tidy.csv").write_text("sep=;\n" + body, encoding="utf-8")
    _same_library(load_dataset(tmp_path / "tidy.csv"), load_dataset(TIDY))
    report = import_features(tmp_path / "tidy.csv", None, Store(tmp_path / "store"))
    plain = import_features(TIDY, None, Store(tmp_path / "plain"))
    assert report.imported == plain.imported > 0 and report.skipped == plain.skipped
    assert report.examples["missing track id"] == ["line 34: (blank)"] == [
        e.replace("line 33", "line 34") for e in plain.examples["missing track id"]]  # the file's own lines
    lines = body.splitlines()
    lines[3] = lines[3] + ";extra"
    (tmp_path / "bad.csv").write_text("sep=;\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.csv: .*\bline 5\b"):
        load_dataset(tmp_path / "bad.csv")


def test_exportify_artist_names_are_split_as_its_ids_count_them(tmp_path):
    """Exportify joins several artists' names with "," and no space (a ", " belongs to a name);
    a file that joins them with ";" is split there when the ids are as many, or when it has none."""
    path = tmp_path / "Mix.csv"
    pd.DataFrame({
        "Track URI": [f"spotify:track:{c * 22}" for c in "abcde"],
        "Track Name": ["One", "Two", "Three", "Four", "Five"],
        "Artist URI(s)": ["spotify:artist:" + "p" * 22 + ",spotify:artist:" + "q" * 22, "spotify:artist:" + "r" * 22,
                          "spotify:artist:" + "s" * 22 + ",spotify:artist:" + "t" * 22, None, None],
        "Artist Name(s)": ["Tyler, The Creator,Kali", "Rock; Roll", "Ana;Bo", "Cy,Di", "Ed;Flo"],
    }).to_csv(path, index=False)
    names = load_dataset(path).tracks.set_index("name")["artist_names"].map(list).to_dict()
    assert names == {"One": ["Tyler, The Creator", "Kali"], "Two": ["Rock; Roll"], "Three": ["Ana", "Bo"],
                     "Four": ["Cy", "Di"], "Five": ["Ed", "Flo"]}
