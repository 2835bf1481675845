"""One rule for the ISO-8601 times the tool reads back (``recommender/isotime.py``) and the
readers that used to parse them each by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from recommender.isotime import parse_time, time_or_none, utc_times

UTC8 = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["2026-11-30T08:00:00Z", "2026-11-30T08:00:00z", "2026-11-30T08:00:00+00:00",
                                  "2026-11-30T09:00:00+01:00", "2026-11-30T08:00:00", " 2026-11-30T08:00:00Z\n"])
def test_z_offsets_and_naive_times_are_one_utc_moment(text):
    then = parse_time(text)
    assert then == UTC8 and then.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", [None, "", "yesterday", "2026-13-01T00:00:00Z", 20261130, ["2026-11-30"]])
def test_anything_else_is_not_a_time(value):
    with pytest.raises(ValueError, match="is not an ISO-8601 time") as err:
        parse_time(value)
    assert repr(value) in str(err.value)  # the message names the value
    assert time_or_none(value) is None


def test_a_column_of_mixed_shapes_is_read_row_by_row():
    # pandas takes the first row's shape for the whole column: fractional seconds, a naive
    # time or a bare date after a "Z" time became NaT
    col = pd.Series(["2026-11-30T08:00:00Z", "2026-11-30T08:00:00.5Z", "2026-11-30T08:00:00", "2026-11-30",
                     "2026-11-30T09:00:00+01:00", None, "junk"], dtype="string")
    got = utc_times(col)
    assert list(got[:5]) == [pd.Timestamp(UTC8), pd.Timestamp(UTC8) + pd.Timedelta(milliseconds=500),
                             pd.Timestamp(UTC8), pd.Timestamp("2026-11-30", tz="UTC"), pd.Timestamp(UTC8)]
    assert got[5:].isna().all()


def test_saved_after_recommended_reads_both_columns_whatever_their_shape():
    # jobs.saved_after_recommended parsed each column by pandas' first-row guess: a track saved
    # at "...T00:00:00.250Z" after a "...T00:00:00Z" first row was NaT and lost as feedback
    from recommender.jobs import saved_after_recommended
    from recommender.library import Library
    lib = Library.from_frames(
        tracks=pd.DataFrame({"track_id": ["a", "b", "c"]}),
        playlist_items=pd.DataFrame({"playlist_id": ["m"] * 3, "track_id": ["a", "b", "c"], "position": [0, 1, 2],
                                     "added_at": ["2026-01-10T00:00:00Z", "2026-01-10T00:00:00.5Z", "2026-01-10"]}),
        saved_tracks=pd.DataFrame({"track_id": ["c", "a", "b"],
                                   "added_at": ["2026-01-12T00:00:00Z", "2026-01-12T00:00:00.250Z", "2026-01-11"]}))
    assert saved_after_recommended(lib, "m") == ["a", "b", "c"]


def test_a_naive_time_in_the_manifest_or_the_discovery_state_is_utc_not_a_crash(tmp_path, monkeypatch):
    # a hand-edited fetched_at or discovery "checked" time without a zone: aware minus naive
    # raised TypeError from build-playlist (the cache age) and every refresh (discovery)
    import time

    from recommender.isotime import younger_than
    from recommender.store import Store
    # a machine clock 5 h east of UTC: on a UTC machine "UTC, not local" below could not fail
    monkeypatch.setenv("TZ", "PKT-5")
    time.tzset()
    try:
        naive = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(tzinfo=None).isoformat()
        store = Store(tmp_path)
        store.update_manifest(fetched_at=naive)
        assert 1.9 < store.age_hours() < 2.1
        assert younger_than(naive, 0.09) and not younger_than(naive, 0.08)  # about 2 hours: UTC, not local
        store.update_manifest(fetched_at="not a time")
        assert store.age_hours() is None and not younger_than("not a time", 10_000)
    finally:
        monkeypatch.undo()
        time.tzset()


# stamps of "not again for N days" memories and open-data answers, against a clock at UTC8
AHEAD = [("2026-11-29T08:00:00Z", True),  # a day old
         ("2026-11-30T10:00:00Z", True),  # two hours ahead: a clock set back a little
         ("2026-12-01T08:00:00Z", True),  # a day ahead: a local date written in another time zone
         ("2026-12-01T08:00:01Z", False),  # further ahead: the clock that wrote it was wrong
         ("2031-01-01T00:00:00Z", False),  # years ahead: believed, it lasted years
         ("2026-10-30T08:00:00Z", False)]  # 31 days old


@pytest.mark.parametrize("stamp, remembered", AHEAD)
def test_a_stamp_far_ahead_of_the_clock_is_remembered_no_longer(stamp, remembered):
    """Before, a memory stamped in the future (a 403 of /audio-features, a greyed-out pick, a
    MusicBrainz look-up) lasted until that future plus its days: years, after a clock set years
    ahead; while the open-data cache asked again an answer stamped a minute ahead. One rule
    now: up to a day ahead a stamp counts as just now, further ahead it is not believed."""
    from recommender.isotime import younger_than
    assert younger_than(stamp, 30, UTC8) is remembered


def test_a_stamp_is_believed_as_the_time_it_says_up_to_a_day_ahead_of_the_clock_given():
    # the time a lock's start or a run's is shown as: the stamp; up to a day ahead, now (never
    # a time to come); further ahead, unknown; by the clock given (not this machine's)
    from recommender.isotime import believed_time, remembered_until
    assert believed_time("2026-11-29T08:00:00Z", UTC8) == UTC8 - timedelta(days=1)
    assert believed_time("2026-11-30T10:00:00Z", UTC8) == UTC8
    assert believed_time("2026-12-01T08:00:01Z", UTC8) is None and believed_time("soon", UTC8) is None
    assert remembered_until("2026-11-29T08:00:00Z", 7, UTC8) == UTC8 + timedelta(days=6)
    assert remembered_until("2026-12-01T08:00:01Z", 7, UTC8) is None


def test_a_stamp_a_little_ahead_is_no_memory_of_zero_days():
    from recommender.isotime import younger_than
    assert not younger_than("2026-11-30T10:00:00Z", 0, UTC8)
    assert younger_than("2026-12-01", 30, UTC8.date()) and not younger_than("2026-12-02", 30, UTC8.date())


@pytest.mark.parametrize("stamp, remembered", AHEAD)
def test_the_open_data_cache_keeps_an_answer_by_the_same_rule(tmp_path, stamp, remembered):
    """``AnswerCache.fresh`` is ``younger_than`` (before, its own rule: an answer stamped a
    minute ahead, by a clock set back a little, was asked again)."""
    import json

    from recommender.services.cache import MISSING, AnswerCache
    (tmp_path / "isrc.json").write_text(json.dumps({"X": [stamp, {"recordings": []}]}))
    cache = AnswerCache(tmp_path, {"isrc": 30}, now=UTC8)
    assert (cache.get("isrc", "X") is not MISSING) is remembered
    assert cache.fresh("isrc", parse_time(stamp)) is remembered  # as the Discovery page counts them


def test_the_cache_age_follows_the_same_rule(tmp_path):
    """``Store.age_hours`` and `recommend status` computed now - fetched_at by hand: a cache
    stamped in 2031 (a refresh under a clock set years ahead) was some -36,000 hours old, so
    never stale and shown with a negative age. Now by ``age_seconds``: unknown (None: refresh)
    more than a day ahead, 0 up to it."""
    from recommender import status as statusinfo
    from recommender.isotime import age_seconds, set_clock
    from recommender.store import Store
    assert [age_seconds(stamp, UTC8) for stamp, _ in AHEAD] == [86400, 0, 0, None, None, 31 * 86400]
    assert age_seconds("not a time", UTC8) is None
    store = Store(tmp_path)
    old = set_clock(lambda: UTC8)
    try:
        for stamp, hours in [("2031-01-01T00:00:00Z", None), ("2026-11-30T10:00:00Z", 0), ("2026-11-30T06:00:00Z", 2)]:
            store.update_manifest(fetched_at=stamp)
            store.forget_manifest()
            assert store.age_hours() == hours
            assert statusinfo.status(tmp_path, {"fetched_at": stamp}, None, now=UTC8)["cache"]["age_hours"] == hours
    finally:
        set_clock(old)


def test_the_discovery_page_shows_no_re_check_the_rule_does_not_believe():
    """The Discovery page's "next re-check" of the albums source took every artist's stamp as
    it stood: one of 2031 (a clock set years ahead) showed a re-check in 2031, while the
    source (``younger_than``) re-checks that artist at the next refresh. It now ends only the
    memories the rule believes (``remembered_until``), as it ignores an unreadable stamp."""
    from recommender.isotime import remembered_until, shown
    from recommender.web.discovery import _albums_recheck
    assert remembered_until("2031-01-01T00:00:00Z", 7, UTC8) is None
    assert remembered_until("2026-11-30T10:00:00Z", 7, UTC8) == UTC8 + timedelta(days=7, hours=2)
    checked = {"a": "2031-01-01T00:00:00Z", "b": "2026-11-29T08:00:00Z", "c": "junk"}
    assert _albums_recheck({"discovery": {"artists_checked": checked}}, 7, UTC8) == shown(UTC8 + timedelta(days=6))
    assert _albums_recheck({"discovery": {"artists_checked": {"a": "2031-01-01T00:00:00Z"}}}, 7, UTC8) is None
