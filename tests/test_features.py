"""Audio features: CSV import (validation, merge) and the extended-quota Spotify fetch."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender import features as ft
from recommender.errors import DataError, SpotifyError
from recommender.library import Library
from recommender.store import Store
from deprecation_marks import DEPRECATIONS_OF_OURS

pytestmark = DEPRECATIONS_OF_OURS

FIXTURES = Path(__file__).parent / "fixtures" / "features"
TODAY = date(2026, 3, 2)


def tid(n: int) -> str:
    return f"7ouMYWpwJ422jRcDASZB{n:02d}"


def stored(store: Store) -> pd.DataFrame:
    return store.load_frame("audio_features").set_index("track_id")


def features_file(path: Path, header: str, rows: list[tuple]) -> Path:
    """A features CSV at ``path``: the ``header`` line, then row n's values after track ``tid(n)``."""
    path.write_text(header + "\n" + "".join(f"{tid(n)},{','.join(map(str, row))}\n" for n, row in enumerate(rows)))
    return path


def test_import_plain_csv(tmp_path):
    store = Store(tmp_path)
    report = ft.import_features(FIXTURES / "good.csv", None, store)
    assert (report.rows, report.imported, report.added, report.updated, report.total) == (3, 3, 3, 0, 3)
    assert report.skipped == {} and report.in_library is None
    assert len(report.columns) == 12
    got = stored(store)
    assert got.loc[tid(1), "energy"] == pytest.approx(0.916)
    assert got.loc[tid(2), "key"] == 11 and got.loc[tid(3), "mode"] == 0
    assert got.loc[tid(3), "instrumentalness"] == pytest.approx(2.33e-05)
    assert got.loc[tid(1), "duration_ms"] == 194754
    assert str(got["key"].dtype) == "Int64"


def test_import_gzip_with_uris_and_exportify_headers(tmp_path):
    store = Store(tmp_path)
    report = ft.import_features(FIXTURES / "exportify.csv.gz", None, store)
    assert report.imported == 2 and set(report.columns) == {
        "danceability", "energy", "key", "loudness", "mode", "tempo", "duration_ms"}
    got = stored(store)
    assert set(got.index) == {tid(1), tid(4)}  # URI and open.spotify.com link both parsed
    assert got.loc[tid(1), "key"] == -1 and got.loc[tid(4), "duration_ms"] == 100000
    assert pd.isna(got.loc[tid(1), "valence"])  # not in the file: unknown, not zero


def test_a_duration_too_big_for_a_whole_number_is_skipped_not_the_end_of_the_import(tmp_path):
    # 1e30 passed "a whole number above 0", then stopped the import in its int cast (exit 1)
    path = tmp_path / "f.csv"
    path.write_text("track_id,valence,energy,duration_ms\n"
                    f"{tid(1)},0.5,0.6,1e30\n{tid(2)},0.5,0.6,99999999999999999999\n{tid(3)},0.5,0.6,200000\n")
    report = ft.import_features(path, None, Store(tmp_path / "c"))
    assert report.skipped == {"duration_ms must be a whole number above 0 and at most 2147483647": 2}
    assert report.imported == 1


def test_rows_that_end_in_a_separator_are_read_as_their_header_says(tmp_path):
    # "0000...0200,0.5,0.6," (a trailing comma): pandas took the ids for an index and the refusal
    # blamed track_id: "holds no Spotify track id in any of its 2 filled rows (e.g. '0.5')"
    path = tmp_path / "f.csv"
    path.write_text(f"track_id,valence,energy\n{tid(1)},0.5,0.6,\n{tid(2)},0.4,0.2,\n")
    report = ft.import_features(path, None, Store(tmp_path / "c"))
    assert report.imported == 2 and report.skipped == {}


def test_a_row_with_more_fields_than_the_header_is_skipped_not_read_shifted(tmp_path):
    # a name with an unquoted comma moved the row's values one column on; pandas, told which
    # columns to read, dropped the extra field and imported danceability 0.5 as the energy
    path = tmp_path / "f.csv"
    path.write_text(f"track_id,name,danceability,energy\n{tid(1)},Hello, World,0.5,0.9\n"
                    f"{tid(2)},Fine,0.3,0.4\n{tid(3)},Short\n{tid(4)},Three,0.1,0.2,,,\n")
    store = Store(tmp_path / "c")
    report = ft.import_features(path, None, store)
    assert report.skipped == {ft.TOO_MANY_FIELDS: 1, "no feature values": 1}  # a row's missing fields are blank
    assert report.examples[ft.TOO_MANY_FIELDS] == [f"line 2: {tid(1)}"]
    got = stored(store)
    assert set(got.index) == {tid(2), tid(4)}
    assert got.loc[tid(4), "energy"] == pytest.approx(0.2)  # empty fields past the header: read as it says


def test_a_feature_column_named_twice_is_refused_naming_it(tmp_path):
    # the first "valence" was imported and the other left unsaid
    path = tmp_path / "f.csv"
    path.write_text(f"track_id,valence,energy,Valence,name,name\n{tid(1)},0.5,0.6,0.9,a,b\n")
    with pytest.raises(DataError, match=r"f\.csv: the header names column 'valence' twice \(columns 2 and 4, "
                                        r"'valence' and 'Valence'\)"):
        ft.import_features(path, None, Store(tmp_path / "c"))
    path.write_text(f"Track ID,track_id,energy\n{tid(1)},{tid(2)},0.6\n")
    with pytest.raises(DataError, match="column 'Track ID' twice"):
        ft.import_features(path, None, Store(tmp_path / "c"))


def test_messy_files_are_read_as_written_or_refused_saying_why(tmp_path):
    """Found by a trial of the row-width check: blank lines before the header made the header a
    row ("not a Spotify track id: track_id"); a gzipped file not named .gz was "not UTF-8 text";
    an unclosed quote was pandas' "EOF inside string starting at row 1"; a file whose every row
    had an unquoted comma blamed the column its shifted text landed in."""
    import gzip
    store = Store(tmp_path / "c")
    path = tmp_path / "f.csv"
    path.write_text(f"\n\ntrack_id,valence,energy\n{tid(1)},0.5,0.6\n")
    report = ft.import_features(path, None, store)
    assert (report.rows, report.imported, report.skipped) == (1, 1, {})
    path.write_bytes(gzip.compress(f"track_id,valence,energy\n{tid(2)},0.5,0.6\n".encode()))
    assert ft.import_features(path, None, store).imported == 1
    path.write_text(f'track_id,valence,energy\n"{tid(3)},0.5,0.6\n')
    with pytest.raises(DataError, match=r"f\.csv: a quoted value is never closed"):
        ft.import_features(path, None, store)
    path.write_text("track_id,name,danceability,energy\n" + "".join(f"{tid(i)},A, B,0.5,0.6\n" for i in range(4, 7)))
    assert ft.import_features(path, None, store).skipped == {ft.TOO_MANY_FIELDS: 3}
    assert set(stored(store).index) == {tid(1), tid(2)}


def test_an_example_of_a_skipped_row_shows_a_long_cell_cut(tmp_path):
    # a 100,000-character id was printed whole in the "skipped" line
    path = tmp_path / "f.csv"
    path.write_text(f"track_id,valence,energy\n{'x' * 100_000},0.5,0.6\n{tid(1)},0.5,{'9' * 1000}\n{tid(2)},0.5,0.6\n")
    report = ft.import_features(path, None, Store(tmp_path / "c"))
    shown = [e for examples in report.examples.values() for e in examples]
    assert len(shown) == 2 and all(len(e) < 160 for e in shown), shown
    assert shown[0].startswith("line 2: xxxx") and shown[0].endswith("…")


def test_bad_rows_are_skipped_with_reasons_and_examples(tmp_path):
    store = Store(tmp_path)
    report = ft.import_features(FIXTURES / "mixed.csv", None, store)
    assert report.rows == 15
    assert report.skipped == {
        "energy must be a number in 0..1": 3,  # 1.7, -0.1 and "loud"
        "key must be a whole number in -1..11": 2,  # 12 and 2.5
        "mode must be a whole number in 0..1": 1,
        "loudness must be a number in -60..5": 1,
        "tempo must be a number in 0..300": 1,
        "duration_ms must be a whole number above 0 and at most 2147483647": 1,
        "not a Spotify track id": 1,
        "missing track id": 1,
        "no feature values": 1,
    }
    assert report.skipped_rows == 12
    assert report.examples["energy must be a number in 0..1"] == [
        f"line 3: {tid(11)} energy='1.7'", f"line 4: {tid(12)} energy='-0.1'",
        f"line 11: {tid(19)} energy='loud'"]
    assert report.examples["not a Spotify track id"] == ["line 12: not-an-id"]
    assert report.imported == 2 and report.duplicates == 1
    got = stored(store)
    assert set(got.index) == {tid(10), tid(21)}
    # the later row of tid(10) only gave valence: it wins there, energy stays
    assert got.loc[tid(10), "valence"] == pytest.approx(0.9)
    assert got.loc[tid(10), "energy"] == pytest.approx(0.5)
    assert pd.isna(got.loc[tid(21), "key"])  # blank cell: unknown, the row is kept


def test_a_second_file_updates_per_value_and_adds_tracks(tmp_path):
    store = Store(tmp_path)
    ft.import_features(FIXTURES / "good.csv", None, store)
    report = ft.import_features(FIXTURES / "exportify.csv.gz", None, store)
    assert (report.added, report.updated, report.total) == (1, 1, 4)
    got = stored(store)
    assert got.loc[tid(1), "energy"] == pytest.approx(0.6)  # newer file wins
    assert got.loc[tid(1), "valence"] == pytest.approx(0.518)  # not in the newer file: kept
    assert got.loc[tid(2), "energy"] == pytest.approx(0.815)  # untouched track
    assert list(got.index[:3]) == [tid(1), tid(2), tid(3)]


def test_library_matches_are_counted(tmp_path):
    library = Library.from_frames(tracks=pd.DataFrame({"track_id": [tid(1), tid(3), tid(99)]}))
    report = ft.import_features(FIXTURES / "good.csv", library, Store(tmp_path))
    assert report.in_library == 2


@pytest.mark.parametrize("name, message", [
    ("no_id.csv", "no track id column"),
    ("no_features.csv", "no audio feature column"),
    ("missing.csv", "file not found"),
])
def test_unusable_files_raise_data_error_naming_the_file(tmp_path, name, message):
    with pytest.raises(DataError, match=message) as err:
        ft.import_features(FIXTURES / name, None, Store(tmp_path))
    assert str(FIXTURES / name) in str(err.value)
    assert not (tmp_path / "audio_features.parquet").exists()


def test_broken_gzip_is_a_data_error(tmp_path):
    import gzip
    path = tmp_path / "broken.csv.gz"
    path.write_bytes(gzip.compress(b"track_id,energy\n" * 50)[:30])  # cut short
    with pytest.raises(DataError, match="cannot read as CSV"):
        ft.import_features(path, None, Store(tmp_path / "cache"))
    path.write_bytes(b"this is not gzip")  # plain text under a .gz name: read as the text it is
    with pytest.raises(DataError, match="no track id column"):
        ft.import_features(path, None, Store(tmp_path / "cache"))


def test_parse_track_id_forms():
    bare = "4uLU6hMCjMI75M1A2tKUQC"
    assert ft.parse_track_id(bare) == bare
    assert ft.parse_track_id(f"spotify:track:{bare}") == bare
    assert ft.parse_track_id(f"https://open.spotify.com/intl-de/track/{bare}?si=x") == bare
    assert ft.parse_track_id(f"spotify:album:{bare}") is None
    assert ft.parse_track_id(bare[:-1]) is None and ft.parse_track_id(None) is None


# ----- fetch_spotify_features ------------------------------------------------------------------
def spotify_object(track_id: str, energy: float = 0.5) -> dict:
    return {"danceability": 0.6, "energy": energy, "key": 5, "loudness": -7.1, "mode": 1,
            "speechiness": 0.04, "acousticness": 0.2, "instrumentalness": 0.0, "liveness": 0.1,
            "valence": 0.3, "tempo": 118.0, "type": "audio_features", "id": track_id,
            "uri": f"spotify:track:{track_id}", "duration_ms": 210000, "time_signature": 4}


class FakeFetch:
    def __init__(self, fail_with: Exception | None = None, fail_on_call: int = 1, answer_none: bool = False):
        self.calls: list[list[str]] = []
        self.fail_with, self.fail_on_call, self.answer_none = fail_with, fail_on_call, answer_none

    def __call__(self, ids: list[str]):
        self.calls.append(list(ids))
        if self.fail_with is not None and len(self.calls) == self.fail_on_call:
            raise self.fail_with
        if self.answer_none:
            return None
        return [None if i.endswith("00") else spotify_object(i) for i in ids]  # *00: unknown id


def many_ids(n: int) -> list[str]:
    return [f"5ouMYWpwJ422jRcDASZ{i:03d}" for i in range(n)]


def test_fetch_in_batches_of_100_only_missing_ids(tmp_path):
    store = Store(tmp_path)
    ft.import_features(FIXTURES / "good.csv", None, store)
    fetch = FakeFetch()
    ids = many_ids(150) + [tid(1)]
    frame = ft.fetch_spotify_features(fetch, ids, store, today=TODAY)
    assert [len(c) for c in fetch.calls] == [100, 50]
    assert tid(1) not in sum(fetch.calls, [])  # already had features
    assert len(frame) == 150 - 2 + 1  # the asked tracks' rows: two "unknown" ids (…000, …100) answered null
    assert len(stored(store)) == 3 + 150 - 2  # the file's other tracks kept
    assert stored(store).loc[many_ids(2)[1], "tempo"] == pytest.approx(118.0)
    assert stored(store).loc[tid(1), "energy"] == pytest.approx(0.916)  # not overwritten


def test_403_is_remembered_for_30_days(tmp_path):
    store = Store(tmp_path)
    refused = FakeFetch(fail_with=SpotifyError("Forbidden", status=403))
    assert ft.fetch_spotify_features(refused, many_ids(3), store, today=TODAY) is None
    assert store.read_manifest()[ft.FORBIDDEN_KEY] == TODAY.isoformat()

    later = FakeFetch()
    assert ft.fetch_spotify_features(later, many_ids(3), store, today=TODAY + timedelta(days=29)) is None
    assert later.calls == []  # not asked again within 30 days

    frame = ft.fetch_spotify_features(later, many_ids(3), store, today=TODAY + timedelta(days=30))
    assert len(later.calls) == 1 and len(frame) == 2
    assert ft.FORBIDDEN_KEY not in store.read_manifest()  # it works again: forgotten


def test_a_403_stamped_a_day_ahead_is_remembered_from_the_date_of_the_run(tmp_path, monkeypatch, caplog):
    """A refusal stamped with tomorrow's date (a clock a day ahead that night), read on a morning
    east of UTC (the local date a day ahead of the UTC one): the stamp is believed as of the
    run's date, but its end was worked out from the UTC clock, which believed it no longer, and
    the run crashed ('NoneType' object has no attribute 'date'). Both come from one reading of
    the stamp, as of the run's date."""
    import logging
    from datetime import datetime, timezone

    from recommender import isotime
    store = Store(tmp_path)
    store.update_manifest(**{ft.FORBIDDEN_KEY: "2026-03-03"})
    monkeypatch.setattr(isotime, "_clock", lambda: datetime(2026, 3, 1, 15, tzinfo=timezone.utc))
    fetch = FakeFetch()
    with caplog.at_level(logging.INFO, logger="recommender"):
        assert ft.fetch_spotify_features(fetch, many_ids(3), store, today=TODAY) is None
    assert fetch.calls == [] and "not asking again before 2026-04-02" in caplog.text


def test_other_spotify_errors_propagate_after_saving_earlier_batches(tmp_path):
    store = Store(tmp_path)
    failing = FakeFetch(fail_with=SpotifyError("Bad request", status=400), fail_on_call=2)
    with pytest.raises(SpotifyError):
        ft.fetch_spotify_features(failing, many_ids(150), store, today=TODAY)
    assert len(stored(store)) == 99  # first batch saved (one unknown id in it)
    assert ft.FORBIDDEN_KEY not in store.read_manifest()


def test_fetch_answering_none_means_unavailable(tmp_path):
    store = Store(tmp_path)
    assert ft.fetch_spotify_features(FakeFetch(answer_none=True), many_ids(3), store, today=TODAY) is None
    assert ft.FORBIDDEN_KEY not in store.read_manifest()


def test_fetched_objects_with_bad_values_are_dropped(tmp_path):
    store = Store(tmp_path)
    ids = many_ids(3)[1:]

    def fetch(batch):
        return [spotify_object(ids[0], energy=3.0), spotify_object(ids[1])]

    frame = ft.fetch_spotify_features(fetch, ids, store, today=TODAY)
    assert list(frame["track_id"]) == [ids[1]]


def test_import_reads_a_spreadsheets_semicolons_and_decimal_commas(tmp_path):
    """A features file re-saved by a spreadsheet in a comma-decimal locale (';' and "0,916")
    was refused as having no id column."""
    df = pd.read_csv(FIXTURES / "good.csv", dtype=str)
    df = df.map(lambda v: v.replace(".", ",") if v.replace(".", "", 1).lstrip("-").isdigit() else v)
    df.to_csv(tmp_path / "sheet.csv", sep=";", index=False)
    store = Store(tmp_path / "cache")
    report = ft.import_features(tmp_path / "sheet.csv", None, store)
    assert report.imported == 3 and report.skipped == {}
    got = stored(store)
    assert got.loc[tid(1), "energy"] == pytest.approx(0.916) and got.loc[tid(1), "loudness"] == pytest.approx(-2.634)
    assert got.loc[tid(1), "duration_ms"] == 194754


def test_a_comma_files_number_with_a_comma_is_not_guessed():
    """"1,234" in a ',' file is thousands or decimals: it cannot tell, so it is no number."""
    assert np.isnan(ft.numbers(["1,234"])).all()
    assert ft.numbers(["0,5", "1.5", ""], decimal_comma=True)[:2].tolist() == [0.5, 1.5]
    # an exponent too: "2,33e-05" was no number, and its row skipped (11,811 of the real 32,833)
    assert ft.numbers(["2,33e-05", "-1,5E+2"], decimal_comma=True).tolist() == [2.33e-05, -150.0]


RATIO_HEADER = "track_id,danceability,energy,speechiness,acousticness,instrumentalness,liveness,valence,tempo"


def test_rows_written_in_percent_are_read_as_percentages_others_as_they_are(tmp_path):
    """A file joined from two exports, one giving the 0-to-1 features in percent ("56.6"):
    every such row was skipped as out of range (its mood lost). Now a row whose 0-to-1 values
    are mostly above 1 is read in percent, and then so is a row of the same file with one value
    above 1 (a sad, loud track: "valence 0.3, energy 100"); the 0-to-1 rows stay as they are,
    tempo is never scaled, and a value above 100 is still a bad value."""
    path = tmp_path / "joined.csv"
    path.write_text("\n".join([
        RATIO_HEADER,
        f"{tid(1)},0.682,0.401,0.0236,0.279,0.0117,0.0887,0.566,97.1",   # 0 to 1
        f"{tid(2)},68.2,40.1,2.36,27.9,1.17,8.87,56.6,97.1",             # percent
        f"{tid(3)},50,100,0.5,0.2,0,0.3,0.3,128",                        # percent: energy 100, valence 0.3
        f"{tid(4)},0.5,0.6,0.05,0.1,0,0.1,0.9,120",                      # 0 to 1
        f"{tid(5)},50,150,5,5,5,5,50,120",                               # energy 150: no percent
    ]) + "\n")
    store = Store(tmp_path / "cache")
    report = ft.import_features(path, None, store)
    assert report.percent_rows == 2 and report.imported == 4
    assert report.skipped == {"danceability must be a number in 0..1": 1}  # the row is not in percent
    got = stored(store)
    assert got.loc[tid(2), "valence"] == pytest.approx(0.566) and got.loc[tid(2), "energy"] == pytest.approx(0.401)
    assert got.loc[tid(2), "instrumentalness"] == pytest.approx(0.0117)
    assert got.loc[tid(3), "energy"] == pytest.approx(1.0) and got.loc[tid(3), "valence"] == pytest.approx(0.003)
    assert got.loc[tid(1), "valence"] == pytest.approx(0.566) and got.loc[tid(4), "valence"] == pytest.approx(0.9)
    assert got.loc[tid(2), "tempo"] == pytest.approx(97.1)


def test_a_lone_value_above_1_is_a_bad_value_not_a_percentage(tmp_path):
    """A file of one 0-to-1 column (energy) with a typo "1.7", or a row whose other 0-to-1
    values are blank: one value above 1 was "most of the row's values" and the typo was
    imported as 0.017. It is a bad value, skipped with its reason."""
    path = features_file(tmp_path / "energy.csv", "track_id,energy,valence",
                         [(0.5, 0.2), (0.7, ""), (1.7, ""), (0.2, 0.9)])
    store = Store(tmp_path / "cache")
    report = ft.import_features(path, None, store)
    assert report.percent_rows == 0 and report.imported == 3
    assert list(report.skipped) == ["energy must be a number in 0..1"]


def test_a_file_in_percent_reads_its_rows_within_0_to_1_in_percent_too(tmp_path):
    """In a file written in percent, a quiet, sad track's "valence 0.8, energy 0.5" is 0.008
    and 0.005, not a happy 0.8; in a file without percent rows, "energy 1.7" beside
    "valence 0.4" stays a bad value (test_bad_rows_are_skipped_with_reasons_and_examples)."""
    path = features_file(tmp_path / "percent.csv", "track_id,valence,energy",
                         [(56.6, 40.1), (87, 12), (0.8, 0.5), (33, 90)])
    store = Store(tmp_path / "cache")
    report = ft.import_features(path, None, store)
    assert report.percent_rows == 4 and report.skipped == {}
    got = stored(store)
    assert got.loc[tid(2), "valence"] == pytest.approx(0.008) and got.loc[tid(2), "energy"] == pytest.approx(0.005)
    assert got.loc[tid(1), "valence"] == pytest.approx(0.87)


def test_half_the_rows_in_percent_is_no_file_in_percent_and_a_value_of_1_is_no_percentage(tmp_path):
    """Percent rows in half the file (not most of it): the others stay as they are, a loud track's
    "energy 1, valence 1" (the top of the 0-to-1 scale) too, not 0.01; a value of 100 is a
    percentage (the top of that scale)."""
    path = features_file(tmp_path / "half.csv", "track_id,valence,energy", [(56.6, 100), (87, 12), (1, 1), (0.4, 0.5)])
    store = Store(tmp_path / "cache")
    report = ft.import_features(path, None, store)
    assert report.percent_rows == 2 and report.skipped == {}
    got = stored(store)
    assert got.loc[tid(0), "energy"] == pytest.approx(1.0) and got.loc[tid(1), "valence"] == pytest.approx(0.87)
    assert got.loc[tid(2), "valence"] == pytest.approx(1.0) and got.loc[tid(2), "energy"] == pytest.approx(1.0)
    assert got.loc[tid(3), "valence"] == pytest.approx(0.4)


def test_a_0_to_1_column_in_percent_is_refused_naming_file_and_column_a_lone_value_is_not(tmp_path):
    """A file whose valence alone is in percent ("56.6" beside energy "0.5") had every row
    skipped as out of range, and its rows under 1 ("0.8": 0.008 in that file) imported as they
    were; `--dataset` refused such a file naming the column. Import refuses it the same way now;
    a lone value above 1 in a column, even the column's only value, stays a bad value."""
    path = features_file(tmp_path / "valence.csv", "track_id,Energy,Valence", [(0.5, v) for v in (56.6, 0.8, 87, 33)])
    store = Store(tmp_path / "cache")
    with pytest.raises(DataError, match=r"^\S*valence\.csv: column 'Valence' runs from 0\.8 to 87; valence is 0 to 1 "
                                        r"\(divide the column by 100\)$"):
        ft.import_features(path, None, store)
    assert store.load_frame("audio_features") is None
    lone = features_file(tmp_path / "lone.csv", "track_id,energy,valence", [(1.7, 0.4), ("", 0.5), ("", 0.2)])
    report = ft.import_features(lone, None, store)
    assert report.imported == 2 and report.skipped == {"energy must be a number in 0..1": 1}


def test_keys_and_modes_written_as_names_are_read_as_spotify_numbers(tmp_path):
    """Kaggle's "SpotifyFeatures.csv" writes key "C#" and mode "Major": every one of its rows
    was skipped as "key must be a whole number", so nothing was imported from it."""
    path = tmp_path / "SpotifyFeatures.csv"
    path.write_text("genre,artist_name,track_name,track_id,popularity,energy,key,mode,time_signature,valence\n"
                    f"Pop,A,x,{tid(1)},50,0.8,C#,Major,4/4,0.6\n"
                    f"Pop,A,y,{tid(2)},50,0.3,Bb,Minor,4/4,0.2\n"
                    f"Pop,A,z,{tid(3)},50,0.5,B,minor,3/4,0.4\n"
                    f"Pop,A,w,{tid(4)},50,0.5,H,Major,4/4,0.4\n"
                    f"Pop,A,v,{tid(5)},50,0.5,Cb,Major,4/4,0.4\n"  # C flat is B (11), not -1 ("no key")
                    f"Pop,A,u,{tid(6)},50,0.5,B#,Major,4/4,0.4\n", encoding="utf-8")  # B sharp is C (0), not 12
    store = Store(tmp_path / "cache")
    report = ft.import_features(path, None, store)
    assert report.imported == 5 and report.skipped == {"key must be a whole number in -1..11": 1}
    got = stored(store)
    assert got.loc[[tid(1), tid(2), tid(3), tid(5), tid(6)], "key"].tolist() == [1, 10, 11, 11, 0]
    assert got.loc[[tid(1), tid(2), tid(3)], "mode"].tolist() == [1, 0, 0]


@pytest.mark.parametrize("marker", ["NA", "NaN", "nan", "NULL", "#N/A", "None"])
def test_a_missing_value_marker_is_a_blank_not_a_bad_value(tmp_path, marker):
    """R's write.csv writes a missing valence as "NA", pandas' na_rep "NaN": the whole row was
    skipped as "valence must be a number in 0..1" (its energy and tempo lost with it)."""
    path = tmp_path / "r.csv"
    path.write_text(f"track_id,valence,energy,tempo\n{tid(1)},{marker},0.7,120\n{tid(2)},0.4,0.3,90\n",
                    encoding="utf-8")
    store = Store(tmp_path / "cache")
    report = ft.import_features(path, None, store)
    assert report.imported == 2 and report.skipped == {}
    got = stored(store)
    assert pd.isna(got.loc[tid(1), "valence"]) and got.loc[tid(1), "energy"] == pytest.approx(0.7)


def test_the_import_summary_fits_a_60_column_terminal(tmp_path):
    """At COLUMNS=60 `import features` printed its summary as one 250-character line and each
    skip reason with its examples as another, cut by the terminal inside words and ids."""
    import re

    from test_cli import run
    path = tmp_path / "with a space" / "kaggle features.csv"
    path.parent.mkdir()
    path.write_text("track_id,danceability,energy,valence,tempo\n"
                    f"{tid(1)},0.5,0.6,0.7,120\n{tid(2)},0.5,1.7,0.4,90\n{tid(3)},0.5,1.9,0.2,90\n"
                    "not-an-id,0.1,0.2,0.3,100\n", encoding="utf-8")
    result = run(["import", "features", str(path)], {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c"), "COLUMNS": "60"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{path}:"  # the path whole, spaces and all, on a line of its own
    assert all(len(line) <= 60 or re.fullmatch(r"\S+", line) for line in lines[1:]), lines
    assert "1 track imported" in " ".join(lines)
    text = " ".join(result.stdout.split())
    assert "skipped 2 rows: energy must be a number in 0..1 (e.g. line 3: " in text
    assert not any(line.endswith("line") for line in lines)


def test_the_import_says_when_rows_repeat_a_track(tmp_path):
    """Kaggle's spotify_songs.csv lists a track once per playlist: "32833 rows, 28356 tracks
    imported" left the user to guess where 4477 rows went, and which of two differing rows won."""
    from test_cli import run
    path = tmp_path / "songs.csv"
    path.write_text(f"track_id,valence,energy\n{tid(1)},0.2,0.3\n{tid(2)},0.5,0.5\n{tid(1)},0.8,0.3\n",
                    encoding="utf-8")
    result = run(["import", "features", str(path)], {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "3 rows, 2 tracks imported" in text
    assert "1 row gave a track an earlier row gave too: the later row's values are kept" in text
    assert stored(Store(tmp_path / "c")).loc[tid(1), "valence"] == pytest.approx(0.8)


@pytest.mark.parametrize("gz, encoding", [(False, "utf-16"), (True, "utf-16"), (False, "utf-16-be")])
def test_a_spreadsheets_unicode_text_file_is_read(tmp_path, gz, encoding):
    """Excel's "Unicode Text" save is UTF-16 with a byte-order mark, tab-separated (in a
    comma-decimal locale "0,5"): it was "cannot read as CSV ('utf-8' codec can't decode byte
    0xff in position 0)"."""
    import gzip
    text = f"Track URI\tValence\tEnergy\nspotify:track:{tid(1)}\t0,3\t0,9\n{tid(2)}\t0.5\t0.25\n"
    path = tmp_path / ("features.txt.gz" if gz else "features.txt")
    # Python's "utf-16" writes the machine's order (little-endian here) with its mark; a file
    # from a big-endian machine or program starts with FE FF
    data = text.encode("utf-16") if encoding == "utf-16" else b"\xfe\xff" + text.encode(encoding)
    path.write_bytes(gzip.compress(data) if gz else data)
    store = Store(tmp_path / "cache")
    report = ft.import_features(path, None, store)
    assert report.imported == 2 and report.skipped == {}
    got = stored(store)
    assert got.loc[tid(1), ["valence", "energy"]].tolist() == [0.3, 0.9]
    assert got.loc[tid(2), ["valence", "energy"]].tolist() == [0.5, 0.25]


@pytest.mark.parametrize("header", ["spotify_id", "track_uri", "Spotify_URI", "TRACK ID"])
def test_an_id_column_spelt_with_underscores_or_spotify_id_is_found(tmp_path, header):
    """Kaggle's "Top Spotify Songs in 73 Countries" keys its rows by "spotify_id", other exports
    by "track_uri": both were "no track id column (expected one of track_id, id, Track URI, uri)"."""
    path = tmp_path / "f.csv"
    path.write_text(f"{header},name,daily_rank,valence,energy\nspotify:track:{tid(1)},x,1,0.5,0.6\n", encoding="utf-8")
    store = Store(tmp_path / "cache")
    assert ft.import_features(path, None, store).imported == 1
    assert stored(store).loc[tid(1), "energy"] == pytest.approx(0.6)


def test_the_id_column_holding_spotify_ids_is_read_when_another_id_column_holds_row_numbers(tmp_path):
    """A file with a row number in "id" and the track in "uri" (a database's export) was refused:
    "column 'id' holds no Spotify track id", as "id" comes first of the id headers."""
    path = tmp_path / "f.csv"
    path.write_text(f"id,uri,valence,energy\n1,spotify:track:{tid(1)},0.5,0.6\n2,spotify:track:{tid(2)},0.2,0.3\n")
    store = Store(tmp_path / "cache")
    assert ft.import_features(path, None, store).imported == 2
    assert stored(store).loc[tid(2), "energy"] == pytest.approx(0.3)
    path.write_text("id,uri,valence,energy\n1,x,0.5,0.6\n2,y,0.2,0.3\n")  # neither holds one: the first is named
    with pytest.raises(DataError, match="column 'id' holds no Spotify track id"):
        ft.import_features(path, None, store)


def test_a_spreadsheets_workbook_is_refused_saying_to_save_it_as_csv(tmp_path):
    """An .xlsx given for a CSV was "cannot read as CSV ('utf-8' codec can't decode byte 0xb2 in
    position 10: invalid start byte)", which told a user nothing of what to do."""
    import zipfile

    from recommender.dataset import load_dataset
    book = tmp_path / "features.xlsx"
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<?xml version='1.0'?><Types/>" * 40)
        z.writestr("xl/workbook.xml", "<workbook/>" * 40)
    for read in (lambda: ft.import_features(book, None, Store(tmp_path / "cache")), lambda: load_dataset(book)):
        with pytest.raises(DataError, match=r"features\.xlsx: a spreadsheet's workbook, not a CSV file: save it"):
            read()


@pytest.mark.parametrize("text", [
    '{"audio_features": [{"id": "%s", "valence": 0.5, "energy": 0.6}]}',  # Spotify's /audio-features answer, saved
    '\ufeff[\n  {\n    "id": "%s",\n    "valence": 0.5\n  }\n]\n',  # a list of them, pretty-printed
    '{"id": "%s", "valence": 0.5}\n{"id": "%s", "valence": 0.2}\n',  # JSON Lines
])
def test_a_json_file_is_refused_saying_it_is_json_not_csv(tmp_path, text):
    """A JSON file of audio features (as Spotify's API gave them) was "no track id column (expected
    one of track_id, id, ...)", though its objects hold an "id"."""
    from recommender.dataset import load_dataset
    path = tmp_path / "features.json"
    path.write_text(text.replace("%s", tid(1)), encoding="utf-8")
    for read in (lambda: ft.import_features(path, None, Store(tmp_path / "cache")), lambda: load_dataset(path)):
        with pytest.raises(DataError, match=r"features\.json: JSON, not a CSV file: "):
            read()
    assert not list(tmp_path.glob("cache/*.parquet"))


# Exportify's header as it exports a playlist today (https://github.com/pavelkomarov/exportify)
EXPORTIFY_HEADER = ("Track URI,Track Name,Album Name,Artist Name(s),Release Date,Duration (ms),Popularity,Explicit,"
                    "Added By,Added At,Genres,Record Label,Danceability,Energy,Key,Loudness,Mode,Speechiness,"
                    "Acousticness,Instrumentalness,Liveness,Valence,Tempo,Time Signature")


def test_an_exportify_export_with_its_durations_but_no_features_is_refused(tmp_path):
    """Exportify fills "Duration (ms)" (read as duration_ms) but leaves every audio feature empty
    since November 2024: the durations made the file look not empty, and the import said "2 tracks
    imported ... 2 tracks have features now", exit 0, though no mood could come of it."""
    path = tmp_path / "exportify.csv"
    path.write_text(EXPORTIFY_HEADER + "\n" + "".join(
        f"spotify:track:{tid(i)},Song {i},Alb,Art,2020-01-01,{180000 + i},50,false,,2024-12-01T00:00:00Z,pop,Lbl"
        + "," * 12 + "\n" for i in (1, 2)), encoding="utf-8")
    with pytest.raises(DataError, match=r"exportify\.csv: its audio feature columns \(Danceability, Energy, Key, "
                                         r"Loudness, Mode, Speechiness, Acousticness, Instrumentalness, Liveness, "
                                         r"Valence, Tempo\) are empty in every row \(an Exportify export"):
        ft.import_features(path, None, Store(tmp_path / "cache"))
    assert Store(tmp_path / "cache").load_frame("audio_features") is None


def test_an_import_without_a_valence_and_an_energy_says_the_moods_cannot_use_it(tmp_path):
    """A file of tempos and durations is imported (the audio scorer uses them) but tells no
    mood: the import says so rather than leave `recommend moods` to find out."""
    from test_cli import run
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")}
    path = tmp_path / "f.csv"
    path.write_text(f"track_id,tempo,Duration (ms),energy\n{tid(1)},120,200000,\n{tid(2)},90,,0.4\n", encoding="utf-8")
    result = run(["import", "features", str(path)], env)
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stdout.split())
    assert "2 tracks imported" in said
    assert "the file gives none of its tracks both a valence and an energy, which the mood commands" in said
    assert "from an earlier file" not in said
    path.write_text(f"track_id,valence,energy\n{tid(3)},0.5,0.4\n", encoding="utf-8")
    result = run(["import", "features", str(path)], env)
    assert result.exit_code == 0 and "valence and an energy" not in result.stdout
    # a file of tempos for a track an earlier file placed: it keeps its valence and energy, said so
    path.write_text(f"track_id,tempo\n{tid(3)},100\n", encoding="utf-8")
    said = " ".join(run(["import", "features", str(path)], env).stdout.split())
    assert ("the file gives none of its tracks both a valence and an energy, which the mood commands (`recommend "
            "moods`) need; 1 of them has both from an earlier file, kept") in said, said


def test_a_file_whose_every_row_has_a_bad_value_is_not_called_empty(tmp_path):
    """Rows whose only values are bad ("loud", -0.5) are skipped rows, said with their reason
    and examples, not refused as a file whose feature columns are empty."""
    path = tmp_path / "bad.csv"
    path.write_text("Track URI,Track Name,Danceability,Energy,Valence,Tempo\n"
                    f"spotify:track:{tid(1)},a,,loud,,\nspotify:track:{tid(2)},b,,-0.5,,\n", encoding="utf-8")
    report = ft.import_features(path, None, Store(tmp_path / "cache"))
    assert report.imported == 0 and report.skipped == {"energy must be a number in 0..1": 2}


def test_a_stored_frame_holding_a_track_twice_merges_as_its_later_row():
    """A stored frame can hold a track twice (written by an older version, or joined by hand):
    the merge keeps its later row, once, and the file's values update that row."""
    old = pd.DataFrame({"track_id": [tid(1), tid(2), tid(1)], "valence": [0.1, 0.2, 0.3],
                        "energy": [0.4, 0.5, 0.6]})
    new = pd.DataFrame({"track_id": [tid(1), tid(3)], "valence": [np.nan, 0.9], "energy": [0.7, 0.8]})
    merged = ft.merge_features(old, new)
    assert merged["track_id"].tolist() == [tid(2), tid(1), tid(3)]
    got = merged.set_index("track_id")
    assert got.loc[tid(1), ["valence", "energy"]].tolist() == [0.3, 0.7]  # the later row's valence kept


def test_an_import_that_adds_nothing_still_counts_the_stored_tracks_once(tmp_path):
    """A file whose every row is skipped changes nothing: "0 tracks imported; N tracks have
    features now" must still count the store's tracks (each once), not say 0."""
    store = Store(tmp_path / "cache")
    store.save_frame("audio_features", pd.DataFrame({"track_id": [tid(1), tid(2), tid(1)], "valence": [0.1, 0.2, 0.3],
                                                     "energy": [0.4, 0.5, 0.6]}))
    path = tmp_path / "bad.csv"
    path.write_text(f"track_id,valence,energy\n{tid(3)},7,0.5\nnot-an-id,0.5,0.5\n", encoding="utf-8")
    report = ft.import_features(path, None, store)
    assert report.imported == 0 and report.skipped_rows == 2
    assert report.total == 2


def test_a_file_whose_feature_columns_are_all_empty_says_why(tmp_path):
    """An Exportify export made since November 2024 has its audio feature columns empty: the
    import said "0 tracks imported ... skipped 2 rows: no feature values", exit 0, which left a
    Development Mode user guessing; a single empty row among others is still a skipped row."""
    path = tmp_path / "exportify.csv"
    path.write_text("Track URI,Track Name,Danceability,Energy,Valence,Tempo\n"
                    f"spotify:track:{tid(1)},a,,,,\nspotify:track:{tid(2)},b,,,,\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"exportify\.csv: its audio feature columns \(Danceability, Energy, "
                                         r"Valence, Tempo\) are empty in every row \(an Exportify export"):
        ft.import_features(path, None, Store(tmp_path / "cache"))
    path.write_text(path.read_text(encoding="utf-8") + f"spotify:track:{tid(3)},c,0.5,0.5,0.5,120\n", encoding="utf-8")
    report = ft.import_features(path, None, Store(tmp_path / "cache"))
    assert report.imported == 1 and report.skipped == {"no feature values": 2}


def test_a_library_reads_the_features_of_its_tracks_alone_and_a_save_of_it_loses_no_other_row(tmp_path):
    """An import keeps every row of its file (1.2 million for Kaggle's "Spotify 1.2M+ Songs"), and
    every later command read them all with the library: 2.5 s and ~450 MB more each, `status` and
    the nightly `build-playlist` too. The library now reads the rows of its own tracks alone; a
    save of the library (a refresh's), which wrote the frame it held, no longer writes it, so no
    row is lost, and a track that joins the library later has its features at once."""
    from recommender.store import now_iso
    store = Store(tmp_path)

    def save(ids: list[str]) -> None:
        store.save_library(Library.from_frames(user_id="me", tracks=pd.DataFrame({"track_id": ids})))
        store.update_manifest(fetched_at=now_iso())
    save([tid(1), tid(2)])
    ft.import_features(FIXTURES / "good.csv", store.load_library(), store)  # tracks 1, 2 and 3
    library = store.load_library()
    assert sorted(library.audio_features["track_id"]) == [tid(1), tid(2)]  # not the other track's row
    store.save_library(library)  # what a refresh does with the library it loaded
    assert sorted(stored(store).index) == [tid(1), tid(2), tid(3)]
    save([tid(1), tid(2), tid(3)])  # track 3 joins the library
    got = store.load_library().audio_features.set_index("track_id")
    assert sorted(got.index) == [tid(1), tid(2), tid(3)]
    assert got.loc[tid(3), "mode"] == 0 and got.loc[tid(1), "energy"] == pytest.approx(0.916)


def test_a_column_that_reads_in_no_row_is_refused_naming_file_column_and_value(tmp_path):
    """A tempo written "120 BPM" in every row (or a file keyed by another service's ids) had
    every row skipped, the skip named, exit 0, nothing useful imported. A column none of whose
    filled cells (two or more) reads is refused in one line naming the file, the column and a
    value, exit 2, nothing written; one cell that reads keeps the others skipped rows."""
    from test_cli import run
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")}
    path = tmp_path / "bpm.csv"
    path.write_text("track_id,Energy,Tempo\n" + "".join(
        f"{tid(n)},0.5,{t}\n" for n, t in enumerate(["120 BPM", "", "98 BPM", "140 bpm"])), encoding="utf-8")
    result = run(["import", "features", str(path)], env)
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "bpm.csv: column 'Tempo' holds no number in any of its 3 filled rows " \
        "(e.g. '120 BPM' on line 2); tempo must be a number in 0..300: nothing was imported" in lines[0]
    assert not list((tmp_path / "c").glob("audio_features*"))
    ids = tmp_path / "ids.csv"
    ids.write_text("id,energy\n123456,0.5\n123457,0.6\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"ids\.csv: column 'id' holds no Spotify track id in any of its 2 filled "
                                        r"rows \(e\.g\. '123456' on line 2\); an id is 22 letters"):
        ft.import_features(ids, None, Store(tmp_path / "c"))
    # partial damage stays skipped rows: one tempo reads (even out of range), or a single bad cell
    for text, skipped in ((path.read_text(encoding="utf-8") + f"{tid(9)},0.5,400\n", 4),
                          (f"track_id,energy,tempo\n{tid(1)},0.5,120 BPM\n{tid(2)},0.6,\n", 1)):
        path.write_text(text, encoding="utf-8")
        report = ft.import_features(path, None, Store(tmp_path / "c"))
        assert report.imported == 1 and report.skipped == {"tempo must be a number in 0..300": skipped}


def test_a_file_in_a_spreadsheets_own_code_page_says_to_save_it_as_utf8(tmp_path):
    """A Windows-1252 byte in a column the import reads: "cannot read as CSV ('utf-8' codec can't
    decode byte 0xe9 in position 3 ...)", a position in pandas' buffer, not the file, and none
    of the advice `evaluate --dataset` gives for the same file. The same words now."""
    path = tmp_path / "features.csv"
    path.write_bytes(f"id,valence,energy\n{tid(1)},0.5,0.5\ncaf\xe9,0.5,0.5\n".encode("cp1252"))
    with pytest.raises(DataError) as err:
        ft.import_features(path, None, Store(tmp_path / "cache"))
    assert str(err.value) == str(ft.not_utf8(path))
    assert 'save it again as "CSV UTF-8"' in str(err.value) and "position" not in str(err.value)


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_skipped_rows_line_is_the_files_line_after_a_value_of_several_lines_or_a_blank_line(tmp_path, gzipped):
    """The examples named "line <row's position + 2>": after a quoted name holding a line break
    (an Exportify export's track names may) or a blank line, the line an editor shows was later."""
    import gzip
    text = (f"track_id,valence,energy,name\n{tid(1)},0.5,0.5,\"two\nlines\"\n\n{tid(2)},x,0.5,ok\r\n"
            f"{tid(3)},0.4,0.5,\"three\r\nlines\r\nhere\"\n{tid(4)},0.5,1.7,ok\n")
    path = tmp_path / ("f.csv.gz" if gzipped else "f.csv")
    path.write_bytes(gzip.compress(text.encode()) if gzipped else text.encode())
    report = ft.import_features(path, None, Store(tmp_path / "c"))
    assert report.examples["valence must be a number in 0..1"] == [f"line 5: {tid(2)} valence='x'"]
    assert report.examples["energy must be a number in 0..1"] == [f"line 9: {tid(4)} energy='1.7'"]
    assert report.imported == 2
    ids = tmp_path / "ids.csv"  # a column refused whole names its first cell's line too
    ids.write_text('id,energy,name\n\n123456,0.5,"a\nb"\n123457,0.6,c\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"\(e\.g\. '123456' on line 3\)"):
        ft.import_features(ids, None, Store(tmp_path / "c"))


def test_import_reports_its_progress_by_rows_read(tmp_path, monkeypatch):
    """A 200 MB file took half a minute without a word on the terminal: the read reports the rows
    read so far, chunk by chunk, which the command shows as a progress bar."""
    monkeypatch.setattr(ft, "CHUNK_ROWS", 10)
    ids = [f"{i:022d}".replace("0", "a", 1) for i in range(35)]
    path = tmp_path / "f.csv"
    pd.DataFrame({"track_id": ids, "valence": 0.5, "energy": 0.25}).to_csv(path, index=False)
    seen = []
    report = ft.import_features(path, None, Store(tmp_path / "s"), progress=lambda *a: seen.append(a))
    assert report.rows == 35 and report.imported == 35
    assert seen == [(ft.READING, 9, None), (ft.READING, 19, None), (ft.READING, 29, None), (ft.READING, 35, None)]
