"""What the pages of `recommend web` do, through ``WebContext`` against the stand-in: the same
functions as the CLI (dry run, publish with its lock and exit codes, tune --write), steering
(remove, pin, block) that the next `build-playlist` honours, and the cluster export."""

from __future__ import annotations

import json
import re
import time

import pytest

from recommender import jobs
from recommender.errors import UsageError
from recommender.lock import RunLock
from recommender.runlog import read_runs
from recommender.web.context import CHECK_PAUSE_SECONDS, WebContext
from spotify_helpers import save_login, settings_for


@pytest.fixture
def ctx(standin, tmp_path):
    cache = tmp_path / "cache"
    settings = settings_for(standin, cache)
    save_login(standin, cache)
    config = tmp_path / "user.yaml"
    config.write_text("# my settings\nblend:\n  min_tracks: 5  # keep\nevaluate:\n  min_tracks: 4\n")
    c = WebContext(settings, config_file=config, overrides={k: settings.get_path(k) for k in (
        "spotify.api_url", "spotify.accounts_url", "spotify.client_id", "cache.dir")})
    c.reload_settings()
    jobs.refresh(c.settings)
    return c


def ids_of(result) -> list[str]:
    return list(result.table["track_id"])


def test_next_playlist_is_the_cli_dry_run(ctx):
    web = ctx.preview()
    cli = jobs.build_playlist(ctx.settings, dry_run=True)
    assert ids_of(web) == ids_of(cli) and len(ids_of(web)) >= 3
    rows = ctx.next_rows(web)
    assert [r["track_id"] for r in rows] == ids_of(web)
    assert all(isinstance(r["new"], bool) and r["source"] for r in rows)  # every row has its badge and source
    # each source named as the CLI's table names it (the page said "similar_recordings")
    from recommender.wording import source_name
    assert [r["source"] for r in rows] == [source_name(s) for s in web.table["source"]]
    assert not {"similar_recordings", "similar_artists"} & {r["source"] for r in rows}


def test_a_stale_cache_the_next_page_refreshes_is_in_the_run_log(ctx, standin):
    """`recommend web` started on an empty or stale cache pulled the library for its Next page
    (a dry run that refreshes, as `build-playlist --dry-run` does), hundreds of requests, and
    recorded nothing: `recommend status` and the Runs page showed no run, while the cache line
    said it had just been fetched. That pull is recorded now as `refresh (web)`, once."""
    store = jobs.open_store(ctx.settings)
    manifest = store.read_manifest()
    manifest["fetched_at"] = "2020-01-01T00:00:00+00:00"  # stale
    store.write_manifest(manifest)
    before = len(read_runs(ctx.settings.cache_dir, 100))
    ctx.preview()
    runs = read_runs(ctx.settings.cache_dir, 100)
    assert len(runs) == before + 1, runs
    assert runs[0]["command"] == "refresh (web)" and runs[0]["exit_code"] == 0 and runs[0]["requests"] > 0
    assert runs[0]["tracks"] > 0
    ctx.invalidate()
    ctx.preview()  # fresh now: nothing pulled, nothing recorded
    assert len(read_runs(ctx.settings.cache_dir, 100)) == before + 1


def test_the_web_apps_refresh_record_counts_the_pulls_requests_as_refresh_does(ctx, monkeypatch):
    """`refresh (web)` recorded every request of the page's dry run, the reads of the managed
    playlist after the pull among them, where `recommend refresh` records the pull's alone: the
    same pull counted more in the web app. Both now count what the pull asked Spotify."""
    assert ctx.publish()["exit_code"] == 0  # a managed playlist, which the dry run reads after the pull
    store = jobs.open_store(ctx.settings)
    manifest = store.read_manifest()
    manifest["fetched_at"] = "2020-01-01T00:00:00+00:00"  # stale
    store.write_manifest(manifest)
    pulls, gateways, pull, connect = [], [], jobs.pull, ctx._gateway

    def counted(*args, **kw):
        library, report = pull(*args, **kw)
        pulls.append(report)
        return library, report
    monkeypatch.setattr(jobs, "pull", counted)
    ctx._gateway = lambda settings: gateways.append(connect(settings)) or gateways[-1]
    ctx.invalidate()
    ctx.preview()
    record = read_runs(ctx.settings.cache_dir, 100)[0]
    assert record["command"] == "refresh (web)" and len(pulls) == 1
    assert record["requests"] == pulls[0].requests > 0  # what `recommend refresh` records of a pull
    assert gateways[-1].requests_made > record["requests"]  # the dry run's own reads are not the refresh's


def test_the_next_page_reads_the_library_once(ctx, monkeypatch):
    # the dry run read the cached library, then the page's rows read it again (every frame
    # file twice for the first Next page, and for the warm-up at start)
    from recommender.store import Store
    loads, load = [], Store.load_library
    monkeypatch.setattr(Store, "load_library", lambda self: loads.append(1) or load(self))
    rows = ctx.next_rows(ctx.preview())
    assert rows and len(loads) == 1
    jobs.open_store(ctx.settings).update_manifest(fetched_at="2026-12-01T00:00:00+00:00")  # a refresh in a terminal
    ctx.sync_settings()  # before the next page: it shows that library
    assert "library" not in ctx._cache


def test_the_published_box_says_when_the_web_apps_publish_ran(ctx):
    # the Next page kept its "Published" box, the web app's own last publish, after a
    # `build-playlist` in a terminal had written the playlist since: it now says when it ran
    out = ctx.publish()
    assert out["exit_code"] == 0 and ctx.last_publish is out
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", out["when"])  # as the Runs page says its times


def test_the_next_page_names_the_managed_playlist_as_spotify_shows_it(ctx, standin):
    # the Publish box and the diff named the playlist by its Spotify id alone
    assert ctx.preview().playlist_name == ctx.settings.playlist.name  # the one a Publish creates
    out = ctx.publish()
    assert out["playlist_name"] == ctx.settings.playlist.name and out["playlist_id"]
    standin.account.playlist(out["playlist_id"])["name"] = "My renamed recs"  # renamed in Spotify
    ctx.invalidate()
    result = ctx.preview()
    assert (result.playlist_id, result.playlist_name) == (out["playlist_id"], "My renamed recs")
    assert ctx.publish()["playlist_name"] == "My renamed recs"


def test_a_page_computed_while_its_data_changed_is_computed_again(ctx, monkeypatch):
    # a value built before an invalidate() (weights saved in another tab, a refresh seen by
    # another page) was kept after it: the Next playlist kept the old weights' tracks
    ctx.invalidate()
    real, runs = jobs.dry_run_with, []

    def dry_run_with(basis, settings, **kw):
        runs.append(1)
        if len(runs) == 1:
            ctx.save_weights({"year": 0.6})  # in another tab, while this dry run goes on
        return real(basis, settings, **kw)
    monkeypatch.setattr(jobs, "dry_run_with", dry_run_with)
    before = ctx.preview().weights  # the page that asked shows what it computed
    ctx.sync_settings()
    after = ctx.preview().weights
    assert after != before and after == jobs.build_playlist(ctx.settings, dry_run=True).weights
    real_taste, tastes = jobs.taste_library, []

    def taste_library(settings, library):
        tastes.append(1)
        if len(tastes) == 1:
            ctx.invalidate()  # a refresh (or a login as another account) seen by another page
        return real_taste(settings, library)
    monkeypatch.setattr(jobs, "taste_library", taste_library)
    ctx.taste()
    ctx.taste()
    assert len(tastes) == 2


def test_the_weights_page_reads_the_library_once_for_its_dry_run_and_evaluation(ctx, monkeypatch):
    # a cold Weights preview (or the warm-up's evaluation, or a slider's move after a steer) read
    # the whole cached library twice, at the same time: the dry run, and the evaluation's set-up
    from recommender.errors import OtherAccount
    from recommender.isotime import utc_now
    from recommender.store import Store
    loads, load = [], Store.load_library
    monkeypatch.setattr(Store, "load_library", lambda self: loads.append(1) or load(self))
    first = ctx.weights_preview({"content": 1.0})
    assert len(loads) == 1 and "error" not in first["evaluation"] and first["tracks"]
    ctx.steer("pin", ids_of(ctx.preview())[-1])  # the data change, not the library
    ctx.sync_settings()
    loads.clear()
    ctx.weights_preview({"content": 0.5})
    assert len(loads) == 1  # the dry run's; the evaluation's library is the pages'
    jobs.open_store(ctx.settings).update_manifest(fetched_at=utc_now().isoformat())  # a refresh in a terminal
    loads.clear()
    ctx.weights_preview({"content": 0.7})  # a slider's move reloads no page: the pages' library is not it
    assert len(loads) == 1  # the dry run's, which the evaluation takes
    ctx.invalidate()
    loads.clear()
    ctx.warm_up()
    assert len(loads) == 1
    fresh_ctx = fresh(ctx)  # a dry run that fails before it reads the library: the evaluation reads it

    def refuse(settings):  # (a missing login goes on from the cache: another account's does not)
        raise OtherAccount("someone", "me")
    fresh_ctx._gateway = refuse
    loads.clear()
    with pytest.raises(OtherAccount):
        fresh_ctx.weights_preview({"content": 1.0})
    assert len(loads) == 1 and fresh_ctx.evaluate()["targets"]


@pytest.mark.parametrize("playlists, kept", [(12, 12), (30, 30), (31, 16), (45, 23), (59, 30), (61, 21), (200, 29)])
def test_the_weights_pages_evaluation_takes_at_most_30_playlists_evenly_spread(tmp_path, monkeypatch, playlists, kept):
    # the page's first evaluation is quick however many playlists you have: `recommend evaluate`
    # takes them all, the page every k-th of the sorted ids, the first among them
    import dataclasses

    import pandas as pd

    from recommender.config import load_settings
    from recommender.web.context import EVAL_MAX_TARGETS

    @dataclasses.dataclass
    class Setup:
        hidden: pd.DataFrame

    pids = [f"p{i:03d}" for i in range(playlists)]
    hidden = pd.DataFrame({"playlist_id": [p for p in pids for _ in range(2)], "track_id": range(2 * playlists)})
    monkeypatch.setattr(jobs, "evaluation_setup", lambda settings, library: Setup(hidden))
    c = WebContext(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=tmp_path / "u.yaml")
    taken = c._evaluation_setup(c.settings, library=object()).hidden
    assert taken["playlist_id"].nunique() == kept <= EVAL_MAX_TARGETS == 30 and "p000" in set(taken["playlist_id"])
    assert taken.groupby("playlist_id").size().eq(2).all()  # a playlist taken is taken whole


def test_new_and_source_columns_are_shown_when_the_table_has_them(ctx):
    result = ctx.preview()
    table = result.table.copy()
    table["new"] = [i % 2 == 0 for i in range(len(table))]
    table["source"] = ["open data"] + [None] * (len(table) - 1)
    rows = ctx.next_rows(type(result)(**{**vars(result), "table": table}))
    assert [r["new"] for r in rows[:2]] == [True, False]
    assert rows[0]["source"] == "open data" and rows[1]["source"] is None


def test_remove_and_pin_shape_the_next_run_and_publish(ctx, standin):
    first = ids_of(ctx.preview())
    ctx.steer("remove", first[0])
    ctx.steer("pin", first[-1])
    after = ctx.preview()
    assert first[0] not in ids_of(after)
    assert ids_of(after)[0] == first[-1] and bool(after.table["pinned"].iloc[0])
    # not on a published playlist yet: pinned by you, as `build-playlist --dry-run` says it (it said "kept by you")
    assert ctx.next_rows(after)[0]["why"] == "pinned by you"
    out = ctx.publish()
    assert out["exit_code"] == 0
    manifest = jobs.open_store(ctx.settings).read_manifest()
    held = standin.account.playlist_track_ids(manifest["managed_playlist"]["id"])
    assert held[0] == first[-1] and first[0] not in held
    assert manifest[jobs.PIN_REQUESTS] == [] and first[-1] in manifest["managed_playlist"]["pinned"]
    assert first[0] in manifest["user_removed"]
    assert ids_of(ctx.preview())[0] == first[-1]  # still first: kept like a track added by hand
    assert ctx.next_rows(ctx.preview())[0]["why"] == "kept by you"
    run = read_runs(ctx.settings.cache_dir, 1)[0]
    assert run["command"] == "build-playlist (web)" and run["exit_code"] == 0


def test_a_steer_refuses_a_track_id_no_page_shows_and_keeps_nothing_of_it(ctx, standin):
    # a form's track value, sent by a script: "pinned: the next run puts it first" for any text,
    # kept in the manifest (100 KB of it too), and every Publish after failed (Spotify: "Invalid
    # track uri") until it was unpinned
    store = jobs.open_store(ctx.settings)
    before = store.read_manifest()
    for action, track, said in (("pin", "NoSuchTrack1234567890A", "not pinned: the track is neither in your library "
                                                                   "nor on the Next playlist (reload the page)"),
                                ("pin", "x" * 100_000, "not pinned: 'xxxxxxxx"),
                                ("remove", "<script>alert(1)</script>", "not removed: '<script>alert(1)</script>' is "
                                                                        "not a Spotify track id"),
                                ("unpin", ids_of(ctx.preview())[0] + "\n", "not unpinned: ")):
        with pytest.raises(UsageError, match=re.escape(said)) as caught:
            ctx.steer(action, track)
        assert len(str(caught.value)) < 200
    assert store.read_manifest() == before
    assert ctx.publish()["exit_code"] == 0


def test_a_publish_in_a_terminal_shows_on_the_next_page(ctx, standin):
    # the page kept its playlist until a refresh: after a `build-playlist` in a terminal (its
    # cache fresh, so not refreshed) it still offered to add the tracks that run had just added
    assert ctx.preview().added_ids
    shown = ctx.library_version()
    jobs.build_playlist(ctx.settings)  # in a terminal: writes the manifest only
    assert ctx.library_version() == shown  # the same library: the pages that show it keep it
    ctx.sync_settings()  # what every page does first
    after = ctx.preview()
    assert not after.added_ids and not after.removed_ids and after.kept == len(after.table)
    assert "library" in ctx._cache
    ctx.sync_settings()  # nothing written since: the page keeps it
    assert ctx.preview() is after


def test_a_publish_from_a_page_whose_diff_is_out_of_date_publishes_nothing(ctx, standin):
    # a Next page opened before a `build-playlist` in a terminal kept its diff (and its confirm,
    # "add 23 and remove 0 tracks?"); its Publish then published whatever a run did by then.
    # The page's plan is checked: nothing is written, and the page's own (current) plan publishes
    from recommender.web.context import StalePlan, plan_of
    shown = plan_of(ctx.preview())
    jobs.build_playlist(ctx.settings)  # in a terminal; no page is opened before the Publish
    playlist = jobs.open_store(ctx.settings).read_manifest()["managed_playlist"]["id"]
    held = standin.account.playlist_track_ids(playlist)
    runs = len(read_runs(ctx.settings.cache_dir, 100))
    with pytest.raises(StalePlan, match=r"not published: .* \(a steer or Publish in another tab, a run in a terminal"):
        ctx.publish(shown)
    assert standin.account.playlist_track_ids(playlist) == held and ctx.last_publish is None
    assert len(read_runs(ctx.settings.cache_dir, 100)) == runs  # no run: nothing to record
    ctx.steer("remove", held[0])  # then the page shows the new diff, and its Publish publishes it
    now = ctx.preview()
    assert held[0] in now.removed_ids
    assert now.why_removed[held[0]][0] == "removed_by_you"  # what its Removed list says of it
    assert ctx.publish(plan_of(now))["exit_code"] == 0
    assert held[0] not in standin.account.playlist_track_ids(playlist)


def test_a_publish_after_an_edit_of_the_playlist_in_spotify_publishes_nothing_the_page_did_not_show(ctx, standin):
    # the plan was checked against the kept Next playlist, which knows nothing of the playlist's
    # edits in Spotify: a track removed by hand after the page was opened made the run add a
    # replacement the page never listed (nor its confirm counted). The run checks its own plan
    from spotify_helpers import remove_by_hand
    from recommender.web.context import StalePlan, plan_of
    ctx.publish()
    playlist = jobs.open_store(ctx.settings).read_manifest()["managed_playlist"]["id"]
    shown = ctx.preview()
    assert not shown.added_ids and not shown.removed_ids  # nothing to change: the page says so
    gone = standin.account.playlist_track_ids(playlist)[0]
    remove_by_hand(ctx._gateway(ctx.settings), playlist, [gone])  # in Spotify, the page left open
    held = standin.account.playlist_track_ids(playlist)
    runs = len(read_runs(ctx.settings.cache_dir, 100))
    with pytest.raises(StalePlan, match="not published"):
        ctx.publish(plan_of(shown))
    assert standin.account.playlist_track_ids(playlist) == held
    assert len(read_runs(ctx.settings.cache_dir, 100)) == runs
    now = ctx.preview()  # the page then shows what the run would do: the replacement
    assert now.added_ids and gone not in now.added_ids
    assert ctx.publish(plan_of(now))["exit_code"] == 0
    assert set(now.added_ids) <= set(standin.account.playlist_track_ids(playlist))


def test_the_next_page_shows_an_edit_of_the_playlist_in_spotify_at_its_next_load(ctx, standin, monkeypatch):
    """The Next page kept its playlist until a publish, a steer or a refresh: a track removed by
    hand in Spotify still showed, pinned and kept, and Publish was then refused as out of date.
    Each load now reads the playlist's snapshot id (one request, no retry) and computes anew when
    it changed; a check Spotify does not answer keeps the page and pauses the checks."""
    pytest.importorskip("uvicorn")
    from spotify_helpers import add_by_hand, remove_by_hand
    from recommender.standins.spotify import Fault
    from recommender.web import context
    from recommender.web.context import plan_of
    from test_web import entered, serving
    ctx.publish()
    playlist = jobs.open_store(ctx.settings).read_manifest()["managed_playlist"]["id"]
    with serving(ctx) as (sec, base):
        session = entered(sec, base)
        session.get(base + "/next", timeout=60)  # the kept playlist: nothing to change
        gone = standin.account.playlist_track_ids(playlist)[0]
        remove_by_hand(ctx._gateway(ctx.settings), playlist, [gone])   # in Spotify, the page left open
        mine = next(t for t in standin.account.tracks if t not in standin.account.playlist_track_ids(playlist))
        add_by_hand(ctx._gateway(ctx.settings), playlist, [mine])
        page = session.get(base + "/next", timeout=60).text
        rows = re.findall(r'<tr data-track="([^"]+)"', page)
        assert gone not in rows and mine in rows  # the removal stands, the add by hand is pinned
        assert ctx.publish(plan_of(ctx.preview()))["exit_code"] == 0  # what the page shows is what Publish does
        assert standin.account.playlist_track_ids(playlist) == rows
        session.get(base + "/next", timeout=60)
        down = standin.add_fault(Fault(method="GET", status=503, times=None))
        monkeypatch.setattr(context, "CHECK_PAUSE_SECONDS", 300.0)
        again = session.get(base + "/next", timeout=60).text  # Spotify down: the page as it was, one request
        assert re.findall(r'<tr data-track="([^"]+)"', again) == rows and down.hits == 1
        session.get(base + "/next", timeout=60)
        assert down.hits == 1  # no check again before CHECK_PAUSE_SECONDS


def test_a_publish_refused_as_out_of_date_keeps_the_note_of_a_pick_greyed_out_since(ctx, standin):
    # a refused publish is no run: it recorded the pick Spotify greyed out since the page was
    # opened as seen, so neither the new page nor the publish after it said why it left
    from recommender.web.context import StalePlan, plan_of
    ctx.publish()
    playlist = jobs.open_store(ctx.settings).read_manifest()["managed_playlist"]["id"]
    shown = ctx.preview()
    standin.account.unplayable = [standin.account.playlist_track_ids(playlist)[0]]
    with pytest.raises(StalePlan):
        ctx.publish(plan_of(shown))
    assert not jobs.open_store(ctx.settings).read_manifest().get(jobs.NOT_PLAYABLE)
    now = ctx.preview()
    assert any("does not play" in m for m in now.messages)
    assert "does not play" in ctx.publish(plan_of(now))["message"]


def test_a_publish_refused_as_out_of_date_records_no_liked_track(ctx, standin):
    # a refused publish is no run: it wrote the pick you saved since the page was opened to the
    # manifest's user_liked all the same, before its plan was checked
    from datetime import datetime, timedelta, timezone

    from recommender.web.context import StalePlan, plan_of
    ctx.publish()
    playlist = jobs.open_store(ctx.settings).read_manifest()["managed_playlist"]["id"]
    shown = ctx.preview()
    saved = standin.account.playlist_track_ids(playlist)[0]  # saved in Spotify, the page left open
    later = (datetime.now(timezone.utc) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    standin.account.saved_tracks.append({"id": saved, "added_at": later})
    jobs.refresh(ctx.settings)  # in a terminal
    before = jobs.open_store(ctx.settings).read_manifest().get(jobs.USER_LIKED, [])
    with pytest.raises(StalePlan):
        ctx.publish(plan_of(shown))
    assert jobs.open_store(ctx.settings).read_manifest().get(jobs.USER_LIKED, []) == before
    assert ctx.publish(plan_of(ctx.preview()))["exit_code"] == 0  # the publish the new page shows records it
    assert saved in jobs.open_store(ctx.settings).read_manifest()[jobs.USER_LIKED]


def test_a_dry_run_that_recommends_nothing_records_no_liked_track(ctx, standin, recommends_nothing):
    # a dry run writes nothing: one with nothing to recommend (the playlist left as it is)
    # recorded the picks you saved since in the manifest's user_liked all the same
    from datetime import datetime, timedelta, timezone
    ctx.publish()
    playlist = jobs.open_store(ctx.settings).read_manifest()["managed_playlist"]["id"]
    saved = standin.account.playlist_track_ids(playlist)[0]
    later = (datetime.now(timezone.utc) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    standin.account.saved_tracks.append({"id": saved, "added_at": later})
    jobs.refresh(ctx.settings)
    before = jobs.open_store(ctx.settings).read_manifest().get(jobs.USER_LIKED, [])
    recommends_nothing()
    assert jobs.build_playlist(ctx.settings, dry_run=True).table.empty
    assert jobs.open_store(ctx.settings).read_manifest().get(jobs.USER_LIKED, []) == before
    jobs.build_playlist(ctx.settings)  # a run that writes records it
    assert saved in jobs.open_store(ctx.settings).read_manifest()[jobs.USER_LIKED]


@pytest.mark.parametrize("now", [dict(playlist_id="p2"), dict(added_ids=["a"]), dict(added_ids=["a", "b", "x"]),
                                 dict(removed_ids=[]), dict(removed_ids=["c", "d"]),
                                 dict(added_ids=["a"], removed_ids=["b", "c"])])
def test_a_plan_that_adds_or_removes_other_tracks_is_another_plan(now):
    # the test above changes the playlist itself (none -> created): a fingerprint of the playlist
    # alone passed it. The page's confirm counts adds and removals: either differing is stale
    from types import SimpleNamespace

    from recommender.web.context import plan_of
    shown = dict(playlist_id="p1", added_ids=["a", "b"], removed_ids=["c"])
    # what the confirm does not count (the kept tracks, the scores) is no other plan: no false refusal
    assert plan_of(SimpleNamespace(**shown, kept=3, seconds=1.0)) == plan_of(SimpleNamespace(**shown, kept=5, seconds=2.0))
    assert plan_of(SimpleNamespace(**{**shown, **now})) != plan_of(SimpleNamespace(**shown))


def test_the_runs_page_shows_the_fetch_and_the_token_expiry_as_it_shows_run_times(ctx):
    # the Runs page showed the manifest's and the token's raw ISO text beside runs in UTC minutes
    jobs.open_store(ctx.settings).update_manifest(fetched_at="2026-11-30T08:00:00.123456+01:00")
    info = ctx.runs()
    assert info["cache"]["fetched_at"] == "2026-11-30 07:00 UTC"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", info["login"]["expires_at"])
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", r["when"]) for r in info["runs"])


def test_the_runs_page_shows_a_run_without_a_time_without_one(ctx):
    # a run record without a time (a run taken over whose lock said no start) showed the
    # current time, then 'None'; one edited by hand shows its text as it is
    from recommender.runlog import runs_path
    runs_path(ctx.settings.cache_dir).parent.mkdir(parents=True, exist_ok=True)
    with runs_path(ctx.settings.cache_dir).open("a", encoding="utf-8") as f:
        f.write(json.dumps({"when": None, "command": "build-playlist", "exit_code": 1}) + "\n")
        f.write(json.dumps({"when": "last tuesday", "command": "refresh", "exit_code": 0}) + "\n")
    info = ctx.runs()
    assert [r["when"] for r in info["runs"][:2]] == ["last tuesday", ""]


def test_a_publish_whose_plan_cannot_be_checked_fails_as_the_run_fails(tmp_path, monkeypatch):
    # when what a run would do cannot be computed (the login expired), the page's Publish is not
    # refused as out of date: it runs, meets the same error and says it, recorded as the CLI records it
    from recommender.config import load_settings
    from recommender.errors import AuthError

    def expired(*args, **kwargs):
        raise AuthError("the login expired: run `recommend auth`")

    monkeypatch.setattr(jobs, "build_playlist", expired)
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path)})
    c = WebContext(settings, config_file=tmp_path / "user.yaml", gateway=lambda s: None)
    monkeypatch.setattr(c, "preview", expired)
    out = c.publish("the plan the page showed")
    assert out["exit_code"] == 3 and "the login expired" in out["message"]
    assert read_runs(settings.cache_dir, 1)[0]["exit_code"] == 3


def test_publish_while_another_run_holds_the_lock_exits_6(ctx, standin):
    with RunLock(ctx.settings.cache_dir / "recommend.lock", command="test holder"):
        out = ctx.publish()
    assert out["exit_code"] == 6 and "test holder" in out["message"]
    assert read_runs(ctx.settings.cache_dir, 1)[0]["exit_code"] == 6
    assert not [p for p in standin.account.playlists if "Managed automatically" in (p.get("description") or "")]


@pytest.mark.parametrize("raised, code, says", [
    (RuntimeError("boom"), 1, "unexpected error: RuntimeError: boom"),
    (OSError(28, "No space left on device", "/x/tracks.parquet"), 7, "cannot write /x/tracks.parquet"),
])
def test_a_publish_that_raises_is_recorded_like_the_cli_records_it(tmp_path, monkeypatch, raised, code, says):
    from recommender.config import load_settings

    def build_playlist(*args, **kwargs):
        raise raised

    monkeypatch.setattr(jobs, "build_playlist", build_playlist)
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path)})
    c = WebContext(settings, config_file=tmp_path / "user.yaml", gateway=lambda s: None)
    out = c.publish()
    assert out["exit_code"] == code and says in out["message"] and c.last_publish == out
    run = read_runs(tmp_path, 1)[0]
    assert run["command"] == "build-playlist (web)" and run["exit_code"] == code
    assert says in run["message"] and "details in the log" not in run["message"]
    assert run["duration_s"] is not None


def test_a_removal_is_undone_by_putting_the_track_back(ctx):
    """A removal in the web app was for ever (one mis-click): its Undo puts the track back."""
    first = ids_of(ctx.preview())[0]
    ctx.steer("remove", first)
    assert first not in ids_of(ctx.preview())
    manifest = jobs.open_store(ctx.settings).read_manifest()
    assert first in manifest["user_removed"]
    assert ctx.steer("restore", first) == "put back: it may be recommended again"
    manifest = jobs.open_store(ctx.settings).read_manifest()
    assert first not in manifest["user_removed"]
    assert first not in (manifest.get("managed_playlist") or {}).get("removed_at", {})
    assert first in ids_of(ctx.preview())
    with pytest.raises(UsageError, match="not put back: this track is not among your removed tracks"):
        ctx.steer("restore", first)


def test_the_undo_of_a_removal_pins_again_a_track_the_removal_unpinned(ctx):
    """A pinned track removed, then its Undo: the track was put back unpinned, and the diff then
    listed it as removed (the next Publish took it off the playlist), where an Undo of a block
    keeps the pins it hid."""
    second = ids_of(ctx.preview())[1]
    ctx.steer("pin", second)
    assert ids_of(ctx.preview())[0] == second
    ctx.steer("remove", second)
    assert second not in ids_of(ctx.preview())
    assert ctx.steer("restore", second) == "put back, and pinned again: the next run puts it first"
    assert ids_of(ctx.preview())[0] == second
    assert not jobs.open_store(ctx.settings).read_manifest()[jobs.REMOVED_PINS]  # said once: then a plain removal
    ctx.steer("unpin", second)
    ctx.steer("remove", second)
    assert ctx.steer("restore", second) == "put back: it may be recommended again"


def test_a_block_names_the_pinned_tracks_it_takes_out(ctx):
    """Blocking an artist dropped a track of theirs you had just pinned, unsaid."""
    table = ctx.preview().table
    first = str(table["track_id"].iloc[1])
    artist = table["artists"].iloc[1].split(", ")[0]
    name = str(table["name"].iloc[1])
    ctx.steer("pin", first)
    said = ctx.steer("block", artist=artist)
    assert said.endswith(f"; its pinned track {name!r} leaves the playlist too (no run places a blocked track)"), said
    other = ctx.preview().table
    assert first not in set(other["track_id"])
    ctx.steer("unblock", artist=artist)
    another = next(a.split(", ")[0] for a in other["artists"] if artist not in a.split(", "))
    assert ctx.steer("block", artist=another).endswith("unblocks it)")  # none of its tracks pinned: nothing more said
    ctx.steer("unblock", artist=another)
    # more than three pinned: the first three named, in the order pinned, then "..."
    tracks = ctx.library().tracks
    solo = tracks.assign(artist=[names[0] if len(names) == 1 else None for names in tracks["artist_names"]])
    many = solo["artist"].value_counts().index[0]
    four = solo[solo["artist"] == many].head(4)
    assert len(four) == 4
    for t in four["track_id"]:
        ctx.steer("pin", str(t))
    said = ctx.steer("block", artist=many)
    names = ", ".join(repr(str(n)) for n in four["name"].iloc[:3])
    assert said.endswith(f"; its pinned tracks {names}, ... leave the playlist too (no run places a blocked track)"), said


def test_block_artist_writes_the_config_and_hides_the_artist(ctx):
    table = ctx.preview().table
    artist = table["artists"].iloc[0].split(", ")[0]
    ctx.steer("block", artist=artist)
    text = ctx.config_file.read_text()
    assert "# my settings" in text and "# keep" in text and artist in text
    assert artist in ctx.settings.candidates.blocklist_artists
    assert not any(artist in a.split(", ") for a in ctx.preview().table["artists"])
    # Undo (unblock): the name out of the list again, the artist back (it took an edit of the file by hand)
    assert "unblocked the artist" in ctx.steer("unblock", artist=artist.upper())  # compared as the block compares
    assert artist not in ctx.settings.candidates.blocklist_artists and "# keep" in ctx.config_file.read_text()
    assert any(artist in a.split(", ") for a in ctx.preview().table["artists"])
    with pytest.raises(UsageError, match="not unblocked: the artist is not in candidates.blocklist_artists"):
        ctx.steer("unblock", artist=artist)


def test_save_weights_writes_like_tune_and_previews_without_saving(ctx):
    before = ctx.config_file.read_text()
    out = ctx.weights_preview({"content": 0.0, "collaborative": 1.0})
    assert out["tracks"] and "p@10" in out["evaluation"]
    walk = ctx.weights_preview({"content": 1.0, "artist_walk": 1.0})["weight_factors"]
    assert set(walk) == {"artist_walk"} and 0 < walk["artist_walk"] < 1  # shrunk on a small library
    assert ctx.config_file.read_text() == before  # previewing writes nothing
    diff = ctx.save_weights({"content": 0.2, "collaborative": 1.0})
    assert "+    weight: 0.2" in diff or "weight: 0.2" in diff
    assert "# keep" in ctx.config_file.read_text()
    assert ctx.weights()["content"] == 0.2
    with pytest.raises(UsageError, match="at least one weight"):
        ctx.weights_preview({name: 0.0 for name in ctx.weights()})
    saved = ctx.config_file.read_text()  # a weight that rounds to 0 as written (6 decimals) is 0: the
    with pytest.raises(UsageError, match="at least one weight"):  # file held all at 0, which every page refused
        ctx.save_weights({**{name: 0.0 for name in ctx.weights()}, "year": 1e-7})
    assert ctx.config_file.read_text() == saved
    for wrong in (True, "1", None, -1, 1e6 + 1, float("nan")):  # true was taken for 1.0 (a script's JSON)
        with pytest.raises(UsageError, match=f"weight of content must be a number from 0 to 1,000,000, got {wrong!r}"):
            ctx.save_weights({"content": wrong})
    # a weight the config allows (a hand edit, tune's grid) is previewed and saved: above 100 the
    # page refused every preview and Save while the file held one
    assert ctx.weights_preview({"content": 150.0})["tracks"]
    ctx.save_weights({"content": 150.0})
    assert ctx.weights()["content"] == 150.0


def test_the_weights_page_marks_a_scorer_at_weight_0_off_as_evaluate_does(ctx):
    """The Weights page listed "collaborative alone" at weight 0 among the others, as if it were
    in the blend, after `recommend evaluate`'s table had come to mark it "0 (off)". Its evaluation
    now gives each row's weight as that table's column does, and the table's line under it (how
    to use one: the page's slider)."""
    out = ctx.weights_preview({**{name: 0.0 for name in ctx.weights()}, "content": 1.5, "year": 0.0})["evaluation"]
    cells = out["weight_cells"]
    assert cells["blend"] == "" and cells["content"] == "1.5" and cells["year"] == "0 (off)"
    # a scorer built only with a weight has its row at 0 too, as in `recommend evaluate`
    assert cells["coverage"] == "0 (off)"
    assert [name for name, cell in cells.items() if cell != "0 (off)"] == ["blend", "content"]
    off = [name for name in out["scorers"] if name != "content"]
    assert out["off"] == (f"{', '.join(off[:-1])} and {off[-1]} are off (weight 0), not in the blend; their rows "
                          "show how well each would do alone (to use one, move its slider above 0)")
    everything = {name: 1.0 for name in ctx.weights()}  # none off (audio's weight says it changes nothing here)
    assert ctx.weights_preview(everything)["evaluation"]["off"].startswith("audio has a weight, but no track")
    assert ctx.weights_preview({**everything, "audio": 0.0})["evaluation"]["off"] == ""  # (no audio row: no data)


def test_the_similar_and_next_pages_leave_out_a_scorer_at_weight_0_as_the_cli_does(ctx):
    """The Similar page's "shares:" legend, and the Next page's, listed the scorers at weight 0
    (collaborative, popularity, audio: no share of any score), where `recommend similar` and
    `build-playlist` leave them out of their columns."""
    pytest.importorskip("uvicorn")
    from recommender.scorers import blend_weights
    from test_web import entered, serving
    off = {name for name, w in blend_weights(ctx.settings).items() if w == 0}
    assert {"collaborative", "popularity"} <= off
    sim = ctx.similar(ctx.library().tracks["track_id"].iloc[0])
    assert sim["scorers"] and not off & set(sim["scorers"]), sim["scorers"]
    assert all(set(t["shares"]) == set(sim["scorers"]) for t in sim["tracks"])
    assert "content" in sim["scorers"]
    with serving(ctx) as (sec, base):
        html = entered(sec, base).get(base + "/next", timeout=60).text
    legend = re.search(r'<p class="legend">(.*?)· shares', html, re.S).group(1)
    listed = re.findall(r'</span>(\w+) ', legend)
    assert "content" in listed and not off & set(listed), listed
    assert listed == ctx.preview().sharing


def test_the_runs_page_marks_a_scorer_at_weight_0_off_as_the_report_does(ctx):
    """The Runs page's last evaluation listed "weights ... collaborative 0.0" among the blend's
    and drew that scorer's curve like the others, while the HTML report and the Weights page
    mark it off. It now lists the blend's weights alone, names those off, and labels their
    curves "(off)" (drawn dotted) as the report's chart does. The page as the app serves it
    (its own templates and context: the session's last evaluation), not a template rendered apart."""
    pytest.importorskip("uvicorn")
    from test_web import entered, serving
    out = ctx.weights_preview({**{name: 0.0 for name in ctx.weights()}, "content": 1.5})["evaluation"]
    off = [name for name in out["scorers"] if name != "content"]
    assert out["curve_labels"] == {"blend": "blend", "content": "content", **{n: f"{n} (off)" for n in off}}
    with serving(ctx) as (sec, base):
        html = entered(sec, base).get(base + "/runs", timeout=30).text
    line = re.search(r"precision@N for N = .*?</p>", html, re.S).group(0)
    assert "blend weights content 1.5;" in line and "0.0" not in line
    assert line.split("alone): ", 1)[1].split(")", 1)[0] == ", ".join(sorted(off))
    # the labels app.js draws the curves with (dotted, "NAME (off)") reach the page
    data = json.loads(re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S).group(1))
    assert data["curve_labels"] == out["curve_labels"]


def test_a_short_playlist_says_why_in_the_weights_preview_as_in_the_cli(ctx):
    ctx.config_file.write_text("blend:\n  threshold: 0.6\n  min_tracks: 0\n  max_per_artist: 0\n")
    ctx.reload_settings()
    out = ctx.weights_preview(ctx.weights())
    cli = jobs.build_playlist(ctx.settings, dry_run=True)
    assert "places filled" in out["short"] and "blend.threshold 0.6" in out["short"] and out["short"] == cli.short


def moved(c, weights, new_share=None) -> dict:
    """A slider move's answer without its timings and clock."""
    out = c.weights_preview(weights, new_share)
    out.pop("seconds")
    out["evaluation"].pop("seconds")
    out["evaluation"].pop("when")
    return out


def fresh(c) -> WebContext:
    """A new app on the same settings and cache: nothing kept from ``c``."""
    return WebContext(c.settings, config_file=c.config_file)


def test_a_slider_move_blends_kept_scores_and_answers_as_a_fresh_computation(ctx, monkeypatch):
    """A slider move refitted and rescored every scorer for the dry run and the evaluation (1.9
    to 3.5 s on a 45,000-track account); the scores do not depend on the weights, so they are
    kept and a move only blends and ranks again: the same list and numbers as computed anew."""
    from recommender.scorers import ContentScorer
    ctx.preview()
    ctx.evaluate()  # what the warm-up computes
    fits = []
    real_fit = ContentScorer.fit
    monkeypatch.setattr(ContentScorer, "fit", lambda self, library: fits.append(1) or real_fit(self, library))
    moves = [({"content": 0.3, "collaborative": 1.0}, None), ({"content": 1.0, "popularity": 2.0}, 0.2),
             ({"audio": 1.0, "year": 0.0}, None), ({"content": 0.7}, 0.0)]
    answers = []
    for weights, share in moves:
        answers.append(moved(ctx, weights, share))
    assert fits == []  # no move refitted the content scorer (nor scored again)
    for (weights, share), got in zip(moves, answers):
        assert got == moved(fresh(ctx), weights, share)
    assert answers[0]["tracks"] != answers[1]["tracks"]  # the weights did change the list


def test_kept_scores_are_dropped_after_a_refresh_or_a_change_of_another_setting(ctx, standin):
    """The kept scores belong to one cached library and one set of settings but the weights: a
    refresh in a terminal (no page reloaded) or another setting scores anew."""
    weights = {"content": 0.5, "popularity": 1.0}
    before = moved(ctx, weights)
    account = standin.account  # other top tracks (other seeds), then a refresh
    top = {t for r in account.top_tracks for t in account.top_tracks[r]}
    other = [t for p in account.playlists for t in account.playlist_track_ids(p["id"]) if t not in top]
    for r in account.top_tracks:
        account.top_tracks[r] = other[-10:]
    jobs.refresh(ctx.settings)
    after = moved(ctx, weights)
    assert after == moved(fresh(ctx), weights) and after != before
    ctx.settings = ctx.settings.with_overrides({"scorers.content.fields.artist": 0.0, "scorers.content.fields.name": 2.0})
    changed = moved(ctx, weights)
    assert changed == moved(fresh(ctx), weights) and changed["tracks"] != after["tracks"]


def import_features_csv(ctx, path, header: str, rows) -> None:
    """A features CSV at ``path`` (the ``header`` line, then ``rows``, each a line's text)
    imported into ``ctx``'s cache, as `recommend import features` does in a terminal (a frame
    written, not the manifest)."""
    from recommender.features import import_features
    path.write_text("".join(f"{line}\n" for line in (header, *rows)))
    store = jobs.open_store(ctx.settings)
    import_features(path, store.load_library(), store)


def test_kept_scores_are_dropped_after_an_import_of_audio_features(ctx, tmp_path):
    """`recommend import features` (and `enrich genres`) write a frame, not the manifest: the
    slider kept the scores of before the import while `build-playlist --dry-run` changed."""
    import numpy as np
    weights = {"audio": 1.0, "content": 0.0, "collaborative": 0.0}
    before = moved(ctx, weights)
    ids = list(jobs.open_store(ctx.settings).load_library().track_ids)
    rng = np.random.default_rng(3)
    import_features_csv(ctx, tmp_path / "features.csv", "track_id,danceability,energy,valence,acousticness,tempo",
                        (f"{t},{a:.3f},{b:.3f},{c:.3f},{d:.3f},{e:.1f}" for t, (a, b, c, d), e in
                         zip(ids, rng.random((len(ids), 4)), rng.uniform(60, 180, len(ids)))))
    after = moved(ctx, weights)
    assert after == moved(fresh(ctx), weights) and after != before


def test_the_moods_and_taste_map_pages_show_audio_features_imported_in_a_terminal(ctx, tmp_path):
    """The pages keep the library until it changes; `import features` writes a frame, not the
    manifest, so the Moods page went on saying no track had audio features until a refresh."""
    ids = list(jobs.open_store(ctx.settings).load_library().track_ids)
    from recommender.errors import NotEnoughData
    ctx.sync_settings()  # what every page does first
    with pytest.raises(NotEnoughData, match="no audio features"):
        ctx.moods()
    ctx.taste_map()
    steered = ctx.library_version()
    ctx.steer("pin", ids[0])  # a steer writes only the manifest: the library stays loaded
    assert ctx.library_version() == steered
    import_features_csv(ctx, tmp_path / "features.csv", "track_id,energy,valence",
                        (f"{t},0.{i % 9 + 1},0.{(i * 7) % 9 + 1}" for i, t in enumerate(ids)))
    ctx.sync_settings()
    data = ctx.moods()  # every track has features now (its recordings counted once, as the table counts them)
    assert data["with_audio"] == data["total"] > len(ids) - 3 and data["all_audio"]


def test_the_taste_maps_radar_draws_the_features_on_a_0_to_1_scale_only(ctx, tmp_path):
    """The radar's axes run from 0 to 1: the features on that scale are drawn (one a track lacks
    too), tempo and loudness are not, even where a value falls in 0..1 (a track at 0 dB)."""
    import numpy as np
    ids = list(jobs.open_store(ctx.settings).load_library().track_ids)
    rng = np.random.default_rng(5)
    acousticness = ["", *(f"{c:.3f}" for c in rng.random(len(ids) - 1))]  # the first track lacks it
    loudness = [-9.5, 0, *[-9.5] * (len(ids) - 2)]  # the second is at 0 dB
    import_features_csv(ctx, tmp_path / "features.csv", "track_id,valence,energy,acousticness,tempo,loudness",
                        (f"{t},{a:.3f},{b:.3f},{c},{rng.uniform(60, 180):.1f},{db}"
                         for t, (a, b), c, db in zip(ids, rng.random((len(ids), 2)), acousticness, loudness)))
    ctx.sync_settings()
    data = ctx.taste_map()
    assert data["features"] == ["valence", "energy", "acousticness"]
    drawn = [c["radar"] for c in data["clusters"] if c["radar"]]
    assert drawn and all(len(r) == 3 and all(0 <= v <= 1 for v in r) for r in drawn)


def test_a_basis_that_refreshed_a_stale_cache_is_kept_for_the_next_move(ctx, monkeypatch):
    """The basis's own refresh of a stale cache wrote the cache after its version was read: the
    next slider move built the whole basis again (every scorer fitted anew)."""
    store = jobs.open_store(ctx.settings)
    store.update_manifest(fetched_at="2020-01-01T00:00:00Z")  # older than cache.max_age_hours
    builds = []
    real = jobs.dry_run_basis
    monkeypatch.setattr(jobs, "dry_run_basis", lambda *a, **kw: builds.append(1) or real(*a, **kw))
    first = ctx.weights_preview({"content": 1.0})
    assert builds == [1]
    ctx.weights_preview({"content": 0.5, "popularity": 1.0})
    assert builds == [1] and first["tracks"]  # the second move only blended again


def test_a_weights_preview_makes_its_dry_runs_basis_once_while_the_cache_is_written(ctx, monkeypatch):
    """A Weights preview took the kept basis twice, once for the library its evaluation takes and
    once to blend: a write of the cached data while the first was made (a steer, a run in a
    terminal, the nightly run) made the second score everything anew (every scorer fitted again:
    seconds on a large account), its list of other data than the evaluation's library. It takes
    the basis once; the next move scores the data written meanwhile."""
    track = jobs.open_store(ctx.settings).load_library().track_ids[0]
    real, builds = jobs.dry_run_basis, []

    def dry_run_basis(settings, **kw):
        builds.append(1)
        basis = real(settings, **kw)
        if len(builds) == 1:
            jobs.steer(ctx.settings, pin=[track])  # in a terminal, while this basis was made
        return basis
    monkeypatch.setattr(jobs, "dry_run_basis", dry_run_basis)
    out = ctx.weights_preview({"content": 1.0})
    assert builds == [1] and out["tracks"] and "error" not in out["evaluation"]
    ctx.weights_preview({"content": 0.5})
    assert builds == [1, 1]


def test_the_library_a_dry_run_read_before_the_pages_data_was_dropped_is_not_theirs(ctx, standin, monkeypatch):
    """The dry run handed the library it read to the pages outside their cache: read before a
    refresh in a terminal that another page saw meanwhile (dropping what the pages kept), it
    became the pages' library after it, until the next page's check. The pages' library now
    comes through their cache, which does not keep a value read before a drop."""
    from datetime import timedelta

    from recommender.isotime import utc_now
    from spotify_helpers import add_by_hand, gateway_for
    earlier = (utc_now() - timedelta(minutes=5)).isoformat()  # the refresh below: in another second
    jobs.open_store(ctx.settings).update_manifest(fetched_at=earlier)
    ctx.library()  # the pages hold the library
    lib = jobs.open_store(ctx.settings).load_library()
    playlist = str(lib.playlists["playlist_id"].iloc[0])
    mine = set(lib.playlist_items.loc[lib.playlist_items["playlist_id"] == playlist, "track_id"])
    added = next(t for t in lib.track_ids if t not in mine)
    real, builds = jobs.dry_run_basis, []

    def dry_run_basis(settings, **kw):
        builds.append(1)
        basis = real(settings, **kw)
        add_by_hand(gateway_for(ctx.settings), playlist, [added])
        jobs.refresh(ctx.settings)  # in a terminal, while this basis was made
        ctx.sync_settings()  # another page opened meanwhile: the pages show the refreshed library
        return basis
    monkeypatch.setattr(jobs, "dry_run_basis", dry_run_basis)
    ctx.preview()
    items = ctx.library().playlist_items
    assert builds == [1] and added in set(items.loc[items["playlist_id"] == playlist, "track_id"])
    assert ctx.loaded_library == ctx.library_version()


def test_save_weights_writes_the_weights_and_the_new_share_in_one_write(tmp_path, monkeypatch):
    from recommender import configfile
    from recommender.config import load_settings
    writes = []
    real = configfile.atomic_write_text
    monkeypatch.setattr(configfile, "atomic_write_text", lambda path, text, **kw: (writes.append(path),
                                                                                  real(path, text, **kw)))
    config = tmp_path / "user.yaml"
    config.write_text("# mine\ncandidates:\n  new_share: 0.5  # half new\n")
    c = WebContext(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=config,
                   overrides={"cache.dir": str(tmp_path)})
    diff = c.save_weights({"content": 0.3, "artist_walk": 1.0}, new_share=0.25)
    assert writes == [config]  # one write for the weights and the share together
    assert "weight: 0.3" in diff and "new_share: 0.25" in diff
    assert c.weights()["content"] == 0.3 and c.new_share() == 0.25  # reloaded from the file
    assert "# mine" in config.read_text() and "# half new" in config.read_text()


def test_taste_map_and_cluster_export(ctx, standin):
    data = ctx.taste_map()
    assert data["points"] and len(data["clusters"]) >= 1
    assert {p["cluster"] for p in data["points"]} == {c["cluster"] for c in data["clusters"]}
    json.dumps(data)  # JSON-ready
    c = data["clusters"][0]
    out = ctx.export_cluster(c["cluster"])
    assert out["created"] and out["tracks"] == c["size"]
    expected = [p["id"] for p in data["points"] if p["cluster"] == c["cluster"]]
    assert standin.account.playlist_track_ids(out["playlist_id"]) == expected
    # decided (README, the Taste map row): numbered, beside the moods `moods cluster --export` writes
    names = {p["id"]: p["name"] for p in standin.account.playlists}
    assert names[out["playlist_id"]] == f"recommend: for you - mood {c['cluster'] + 1}: {c['label']}"
    again = ctx.export_cluster(c["cluster"])  # the same playlist, updated in place
    assert not again["created"] and again["playlist_id"] == out["playlist_id"]
    # each export is in the run log, as the CLI's are: it wrote to Spotify (no record said so)
    from recommender.runlog import read_runs
    runs = read_runs(ctx.settings.cache_dir, 2)
    assert [(r["command"], r["playlist_id"], r["added"], r["exit_code"]) for r in runs] == [
        ("moods export (web)", out["playlist_id"], 0, 0), ("moods export (web)", out["playlist_id"], c["size"], 0)]


def test_the_taste_map_finds_the_copies_of_a_recording_once(ctx, monkeypatch):
    """The taste map left out the second copies of a recording, then clustered its pseudo
    playlist, whose clustering left them out again: two reads of the whole library's ISRCs,
    titles and artists (``pipeline.dedupe_codes``) per page. One helper now does both
    (``explore.each_recording_once``), on codes built once: the pseudo playlist's library keeps
    the tracks, and with them the codes (``Library.replace``)."""
    from recommender import pipeline
    calls = []
    real = pipeline.dedupe_codes
    monkeypatch.setattr(pipeline, "dedupe_codes", lambda library: calls.append(1) or real(library))
    assert ctx.taste_map()["points"] and len(calls) == 1


def test_the_taste_map_reads_the_audio_features_once(tmp_path, monkeypatch):
    # its clustering read the audio features of the map's library, then the page read them
    # again from the library it was made from for the clusters' radar: the same frame twice
    from recommender import moods
    from recommender.config import load_settings
    from test_moods import corner_rows, make_library
    rows = corner_rows(per_mood=4)
    c = WebContext(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=tmp_path / "u.yaml")
    c._cache["library"] = make_library(rows, {"p" * 22: [r["track_id"] for r in rows]})
    calls, read = [], moods._read_audio_features
    monkeypatch.setattr(moods, "_read_audio_features", lambda library: calls.append(1) or read(library))
    data = c.taste_map()
    assert data["basis"] == "audio" and data["features"] and all(cl["radar"] for cl in data["clusters"])
    assert len(calls) == 1


def test_search_and_similar(ctx):
    name = ctx.library().tracks["name"].iloc[0]
    hits = ctx.search(name)["tracks"]
    assert hits and hits[0]["name"] == name
    # nothing found: the answer names the score none reached, as `recommend search` says it
    assert ctx.search("zzqxjvzzqxjv") == {"query": "zzqxjvzzqxjv", "min_score": ctx.settings.search.min_score, "tracks": []}
    sim = ctx.similar(hits[0]["track_id"])
    assert sim["track_id"] == hits[0]["track_id"] and sim["tracks"]
    info = ctx.runs()
    assert info["login"]["state"] and "runs" in info


@pytest.mark.parametrize("demo", [False, True])
def test_a_track_the_similar_page_does_not_find_is_said_of_the_library_the_app_shows(ctx, demo):
    # `recommend web --demo`'s Similar page said "no track in the cached library matches 'zzzqqq';
    # try `recommend search`" (the user's own cache, empty), where `recommend similar --demo` says
    # "the sample library"; and either named a command to search with (`recommend search --demo`)
    # where the app's own Search page, a tab away, does it
    ctx.demo = demo  # as `recommend web --demo` makes it
    place = "the sample library" if demo else "the cached library"
    # a Spotify track URL means nothing in the demo (the sample library): its titles and artists do
    other = ("a title or artist the sample library holds, such as 'Zombie' or 'The Cranberries'" if demo
             else "a Spotify track URL")
    with pytest.raises(UsageError, match=re.escape(f"no track in {place} matches 'zzzqqq'; try the Search page "
                                                   f"or {other}")) as raised:
        ctx.similar("zzzqqq")
    assert demo == ("URL" not in str(raised.value))
    refresh = "" if demo else "run `recommend refresh` or "  # (the sample library needs none)
    with pytest.raises(UsageError, match=re.escape(f"is not in {place}; {refresh}pick one with the Search page")):
        ctx.similar("0000000000000000000000")


def test_the_similar_pages_box_names_a_track_given_by_its_id_as_you_would_type_it(ctx):
    # opened from a Search result's link (/similar?track=ID), the box showed the bare id
    hit = ctx.search(ctx.library().tracks["name"].iloc[0])["tracks"][0]
    title = f"{hit['name']} - {hit['artists']}"
    tid = hit["track_id"]
    for given in (tid, f"spotify:track:{tid}", f"https://open.spotify.com/track/{tid}"):
        assert ctx.track_title(given) == title
    assert ctx.similar(tid)["title"] == title  # as the heading names it
    assert ctx.track_title(hit["name"]) is None  # a text typed stays as it is
    assert ctx.track_title("0000000000000000000000") is None  # an id the library does not hold


def test_taste_map_colours_two_playlists_of_the_same_name_apart(tmp_path):
    # before: points were coloured by the playlist's *name*, so every point of the second
    # "Chill" got the first one's colour and the second legend entry coloured nothing
    import pandas as pd

    from recommender.config import load_settings
    from test_moods import corner_rows, make_library
    rows = corner_rows(per_mood=4)
    first, second = [r["track_id"] for r in rows[:8]], [r["track_id"] for r in rows[8:]]
    lib = make_library(rows, {"p" * 22: first, "q" * 22: second})
    lib = lib.replace(playlists=pd.DataFrame({"playlist_id": ["p" * 22, "q" * 22], "name": ["Chill", "Chill"]}))
    c = WebContext(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=tmp_path / "u.yaml")
    c._cache["library"] = lib
    data = c.taste_map()
    assert data["playlists"] == ["Chill", "Chill"]
    colour = {p["id"]: p["playlist"] for p in data["points"]}
    assert {colour[t] for t in first} == {0} and {colour[t] for t in second} == {1}


def test_taste_map_of_a_tiny_library_says_so_in_plain_words(tmp_path):
    # before: "playlist '__recommend_web_library__' has 3 tracks; clustering needs at least 4"
    from recommender.config import load_settings
    from recommender.errors import NotEnoughData
    from test_moods import corner_rows, make_library
    rows = corner_rows(per_mood=1)[:3]
    lib = make_library(rows, {"p" * 22: [r["track_id"] for r in rows]})
    c = WebContext(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=tmp_path / "u.yaml")
    c._cache["library"] = lib
    with pytest.raises(NotEnoughData) as err:
        c.taste_map()
    assert "'your library' has 3 tracks" in str(err.value) and "__" not in str(err.value)


def test_moods_page_counts_and_the_tracks_of_a_mood_or_a_point(tmp_path, monkeypatch):
    from recommender.config import load_settings
    from recommender.errors import NotEnoughData
    from test_moods import corner_rows, make_library, text_rows
    rows = corner_rows(per_mood=6)
    lib = make_library(rows, {"p" * 22: [r["track_id"] for r in rows]})
    c = WebContext(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=tmp_path / "u.yaml")
    c._cache["library"] = lib
    data = c.moods()
    json.dumps(data)  # JSON-ready
    assert len(data["points"]) == 24 and data["with_audio"] == data["total"] == 24
    assert [(r["mood"], r["audio"], r["predicted"]) for r in data["counts"]] == [
        ("happy", 6, 0), ("energetic", 6, 0), ("calm", 6, 0), ("sad", 6, 0)]
    sad = c.mood_tracks(mood="sad")
    assert [t["mood"] for t in sad["tracks"][:6]] == ["sad"] * 6
    calm = c.mood_tracks(valence="0.9", energy="0.1")  # a point, as the page's click sends it
    assert calm["target"] == {"valence": 0.9, "energy": 0.1} and calm["tracks"][0]["mood"] == "calm"
    # the page said the playlist's name itself, rounding as JavaScript does (0.125 -> "0.13"),
    # while the export wrote "recommend: valence 0.12, ..." (Python's rounding, as the CLI's)
    from recommender.moodexport import point_name
    half = c.mood_tracks(valence="0.125", energy="0.5")
    assert (half["mood"], half["playlist"]) == (point_name(0.125, 0.5), "recommend: " + point_name(0.125, 0.5))
    assert c.mood_tracks(mood=" Sad")["playlist"] == "recommend: sad"
    written = []
    monkeypatch.setattr("recommender.web.export.export_mood", lambda s, g, mood, ids, **kw: written.append(mood) or {})
    c._gateway = lambda settings: None
    c.export_mood(valence="0.125", energy="0.5")
    assert written == [half["mood"]]
    for bad in ("abc", "1.5", "nan", ""):
        with pytest.raises(UsageError, match="valence must be a number from 0 to 1"):
            c.mood_tracks(valence=bad, energy="0.5")
    with pytest.raises(UsageError, match="unknown mood 'glum'"):
        c.mood_tracks(mood="glum")
    with pytest.raises(UsageError, match="energy must be a number from 0 to 1"):  # refused before any write
        c.export_mood(valence="0.5", energy="x")
    plain = make_library(text_rows(), {"q" * 22: [r["track_id"] for r in text_rows()]})
    c.invalidate()
    c._cache["library"] = plain  # no audio features: the page says how to import them
    with pytest.raises(NotEnoughData, match="recommend import features"):
        c.moods()


@pytest.mark.parametrize("share", ["abc", "0.5", True, float("nan"), 1.5, -0.1])
def test_a_bad_new_share_is_a_usage_error(tmp_path, share):
    # before: float("abc") raised a bare ValueError (answered as if it were a bug's message)
    from recommender.config import load_settings
    c = WebContext(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=tmp_path / "u.yaml")
    with pytest.raises(UsageError, match="new-music share must be between 0 and 1"):
        c.save_weights({}, new_share=share)
    assert not (tmp_path / "u.yaml").exists()  # nothing written


@pytest.mark.parametrize("share, weight", [(0, 0.0), (1, 1e6), (1.0, 1e6)])
def test_the_ends_of_the_new_share_and_weight_ranges_are_saved(tmp_path, share, weight):
    """A new-music share of 0 (no new tracks kept a place) or 1 (only new tracks) and a weight of
    0 or of the config's bound (1,000,000) are values the settings allow, so the Weights page
    saves them (the file then holds them)."""
    from recommender.config import load_settings
    config = tmp_path / "u.yaml"
    c = WebContext(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=config,
                   overrides={"cache.dir": str(tmp_path)})
    c.save_weights({"year": weight, "content": 1.0}, new_share=share)
    assert c.new_share() == share and c.weights()["year"] == weight


def with_our_playlist(tmp_path) -> tuple[WebContext, list[str]]:
    """An app whose library has one playlist of yours ("Mine") and the managed one ("Recommended"),
    12 tracks each; and the tracks of yours."""
    import pandas as pd

    from recommender.config import load_settings
    from recommender.store import Store
    from test_moods import corner_rows, make_library
    rows = corner_rows(per_mood=4)
    mine, ours = [r["track_id"] for r in rows[:12]], [r["track_id"] for r in rows[12:]]
    lib = make_library(rows, {"p" * 22: mine, "m" * 22: ours})
    lib = lib.replace(playlists=pd.DataFrame({"playlist_id": ["p" * 22, "m" * 22], "name": ["Mine", "Recommended"]}))
    Store(tmp_path).update_manifest(managed_playlist={"id": "m" * 22, "name": "Recommended"})
    c = WebContext(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=tmp_path / "u.yaml")
    c._cache["library"] = lib
    return c, mine


def test_taste_map_leaves_out_the_playlists_the_tool_wrote(tmp_path):
    # before: the managed playlist (our recommendations) and the mood playlists were drawn as
    # "your library" and coloured as your playlists, and a cluster export could feed them back
    c, mine = with_our_playlist(tmp_path)
    data = c.taste_map()
    assert data["playlists"] == ["Mine"]
    assert {p["id"] for p in data["points"]} == set(mine) and data["total"] == len(mine)


def test_the_moods_and_taste_map_pages_build_the_library_without_our_playlists_once(tmp_path, monkeypatch):
    # the Moods page, each of its lists (every click on the plane), each export and the taste map
    # built the library without the tool's playlists anew (the manifest read, every frame
    # filtered, what the moods derive from it computed again): once per library now
    c, mine = with_our_playlist(tmp_path)
    builds, real = [], jobs.taste_library
    monkeypatch.setattr(jobs, "taste_library", lambda *a, **kw: builds.append(1) or real(*a, **kw))
    monkeypatch.setattr("recommender.web.export.export_mood", lambda s, g, mood, ids, **kw: {})
    c._gateway = lambda settings: None
    assert c.taste_map()["playlists"] == ["Mine"] and c.moods()["total_yours"] == len(mine)
    c.mood_tracks(mood="sad"), c.mood_tracks(valence="0.9", energy="0.1"), c.export_mood(mood="calm")
    assert builds == [1]
    lib = c.library()
    c.invalidate()  # a refresh elsewhere (sync_settings): the new library's
    c._cache["library"] = lib
    c.mood_tracks(mood="sad")
    assert builds == [1, 1]


def test_next_rows_carry_the_artist_mix_factor(ctx):
    """The page's scores are the mixed ones: each row says by what factor the artist mix
    lowered it (None for a pinned track, which is not scored)."""
    result = ctx.preview()
    rows = ctx.next_rows(result)
    want = [None if f != f else round(float(f), 6) for f in result.table["artist_mix"]]
    assert [r["artist_mix"] for r in rows] == want
    table = result.table.copy()
    table["artist_mix"] = [0.5] + [float("nan")] * (len(table) - 1)
    rows = ctx.next_rows(type(result)(**{**vars(result), "table": table}))
    assert rows[0]["artist_mix"] == 0.5 and rows[1]["artist_mix"] is None


def test_the_moods_page_reads_the_audio_features_once(tmp_path):
    # the page read the frame for the classifier's labels, for each fit of the classifier and
    # again for its plane: the same frame converted several times per page
    from recommender.config import load_settings
    from recommender.library import Library
    from test_moods import corner_rows, make_library, tid

    class Counted(dict):
        reads = 0

        def __getitem__(self, key):
            Counted.reads += key == "audio_features"
            return super().__getitem__(key)
    rows = corner_rows(per_mood=8) + [{"track_id": tid(100 + i), "name": f"{mood} tune {i}", "artist": f"{mood} band",
                                       "album": "LP"} for i, mood in enumerate(["happy", "sad"] * 3)]
    lib = make_library(rows, {"p" * 22: [r["track_id"] for r in rows]})
    lib = Library(frames=Counted(lib.frames), user_id=lib.user_id)
    c = WebContext(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=tmp_path / "u.yaml")
    c._cache["library"] = lib
    data = c.moods()
    assert data["with_audio"] == 32 and data["total"] == 38 and data["classifier"] is not None  # it was tested
    assert Counted.reads == 1


def test_the_moods_page_rounds_the_classifiers_accuracy_once(tmp_path, monkeypatch):
    # the page formatted a whole percent from the --json report, already rounded to four decimals:
    # 0.134951 became 0.135 and showed "14%", where the exact value (and the CLI's line) gives 13
    import pandas as pd

    from recommender import moods
    from recommender.config import load_settings
    from test_moods import corner_rows, make_library
    from test_web import entered, serving
    real = moods.classify_library

    def classified(*args, **kwargs):
        out = real(*args, **kwargs)
        out.attrs["report"] = moods.ClassifierReport(
            accuracy=0.134951, baseline=0.124951, baseline_mood="happy", n_train=3000, n_test=1000, p_value=0.2,
            margin=0.05, alpha=0.01, useful=False, confusion=pd.DataFrame([[1]], index=["happy"], columns=["happy"]))
        return out
    monkeypatch.setattr(moods, "classify_library", classified)
    rows = corner_rows(per_mood=8)
    c = WebContext(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=tmp_path / "u.yaml")
    c._cache["library"] = make_library(rows, {"p" * 22: [r["track_id"] for r in rows]})
    assert c.moods()["classifier"]["accuracy"] == 0.134951  # unrounded, for the page to round
    with serving(c) as (sec, base):
        html = entered(sec, base).get(base + "/moods", timeout=60).text
    said = re.search(r'<p id="classifier" class="muted">(.*?)</p>', html).group(1)
    assert "accuracy 13%, always guessing happy 12%" in said


# ----- Discovery ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_discovery(tmp_path_factory, refreshed_demo_cache):
    """The Discovery page of the demo (its sample library finds tracks through the stand-ins)."""
    import shutil

    from recommender.config import load_settings
    tmp = tmp_path_factory.mktemp("demo")
    shutil.copytree(refreshed_demo_cache, tmp, dirs_exist_ok=True)  # (a login and a refresh, once)
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp)})
    with jobs.demo_environment(settings) as (demo, _server):
        jobs.demo_login(demo)
        c = WebContext(demo, config_file=tmp / "user.yaml", demo=True)
        yield c, c.discovery()


def test_discovery_page_shows_what_the_last_refresh_did(demo_discovery):
    ctx, data = demo_discovery
    store = jobs.open_store(ctx.settings)
    last = store.read_manifest()[jobs.LAST_DISCOVERY]
    assert data["state"] == "done" and data["last"] == last
    sources = {s["key"]: s for s in data["sources"]}
    assert list(sources) == ["albums", "similar_artists", "similar_recordings"]
    lib = store.load_library()
    disc = lib.frames["discovered"]
    # the albums' tracks new to you, as the refresh counts them: your artists' albums hold yours too
    yours = set(lib.playlist_items["track_id"]) | set(lib.saved_tracks["track_id"]) | set(lib.top_tracks["track_id"])
    assert sources["albums"]["tracks"] == len(set(lib.discovery["track_id"]) - yours) > 0
    assert sources["albums"]["tracks"] == last["tracks"]["albums"] < lib.discovery["track_id"].nunique()
    for key in ("similar_artists", "similar_recordings"):
        assert sources[key]["tracks"] == disc.loc[disc["source"] == key, "track_id"].nunique() > 0
        assert sources[key]["requests"] == last["requests_by_source"][key] and sources[key]["on"]
    counts = ctx.preview().table["source"].value_counts()
    assert {k: s["in_next"] for k, s in sources.items()} == {k: int(counts.get(k, 0)) for k in sources}
    assert sources["similar_artists"]["in_next"] + sources["similar_recordings"]["in_next"] > 0
    # the open-data cache's state: answers kept, and when the oldest fresh one is asked again
    kinds = {c["kind"]: c for c in sources["similar_artists"]["cache"]}
    assert kinds["similar_artists"]["answers"] > 0 and kinds["similar_artists"]["next"] > data["when"]
    assert sources["albums"]["recheck"] > data["when"] and data["when"].endswith(" UTC")
    assert data["hint"]["command"] == "recommend web --demo" and data["config_file"] == str(ctx.config_file)


def test_the_discovery_page_says_the_album_lists_of_seed_playlist_runs_are_kept_the_recheck_days(demo_discovery):
    """The page tells how long each kind of answer is kept: the album lists --seed-playlist runs
    keep are read again after ``refresh.discovery_recheck_days`` (as the answer cache keeps
    them), not after the open-data answers' days."""
    ctx, data = demo_discovery
    s = ctx.settings
    assert data["ttl"] == {"similar_artists": float(s.discovery.ttl_similar_artists_days),
                           "recordings": float(s.discovery.ttl_recordings_days),
                           "albums": float(s.refresh.discovery_recheck_days)}
    assert data["ttl"]["albums"] != data["ttl"]["recordings"]  # the check tells the two apart


def test_the_discovery_page_reads_each_found_frame_once(demo_discovery, monkeypatch):
    # the two open-data sources each read the whole `discovered` frame to count their tracks
    from recommender.store import Store
    ctx, data = demo_discovery
    ctx.preview()  # kept: only the page's own reads are counted
    reads, load = [], Store.load_frame
    monkeypatch.setattr(Store, "load_frame", lambda self, name: reads.append(name) or load(self, name))
    ctx.invalidate("discovery")
    again = ctx.discovery()
    assert sorted(reads) == ["discovered", "discovery", "playlist_items", "playlists", "saved_tracks", "top_tracks"]
    assert [s["tracks"] for s in again["sources"]] == [s["tracks"] for s in data["sources"]]


def test_discovery_page_reads_no_service(ctx, monkeypatch):
    import recommender.services.listenbrainz as lb
    ctx.invalidate("discovery")

    def refuse(*a, **k):
        raise AssertionError("the Discovery page asked a service")
    monkeypatch.setattr(lb.OpenData, "from_settings", classmethod(refuse))
    monkeypatch.setattr(lb.JsonService, "get", refuse, raising=False)
    assert ctx.discovery()["state"] == "done"


def test_a_discovery_setting_sent_as_text_is_saved_as_the_number_it_is(ctx):
    # {"refresh.discovery_artists": "5"} from a script was written as the text '5'
    ctx.save_discovery({"refresh.discovery_artists": "5", "discovery.enabled": True})
    text = ctx.config_file.read_text()
    assert "discovery_artists: 5\n" in text and "'5'" not in text
    assert ctx.settings.refresh.discovery_artists == 5


def test_discovery_page_of_a_library_never_refreshed_says_so(tmp_path):
    from recommender.config import load_settings
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path / "cache")})
    c = WebContext(settings, config_file=tmp_path / "user.yaml", overrides={"cache.dir": str(tmp_path / "cache")})
    data = c.discovery()
    assert data["state"] == "never" and data["last"] is None and data["in_next_total"] is None
    assert [s["tracks"] for s in data["sources"]] == [0, 0, 0]


def test_save_discovery_writes_the_changed_keys_with_comments_kept(ctx):
    before = ctx.config_file.read_text()
    diff = ctx.save_discovery({"discovery.similar_artists.enabled": False, "discovery.request_budget": 300,
                               "refresh.discovery_artists": ctx.settings.refresh.discovery_artists})
    text = ctx.config_file.read_text()
    assert text.startswith("# my settings\n") and "min_tracks: 5  # keep" in text
    assert "+    enabled: false" in diff and "+  request_budget: 300" in diff and "discovery_artists" not in diff
    assert before.splitlines()[0] in text
    assert ctx.settings.discovery.request_budget == 300 and not ctx.settings.discovery.similar_artists.enabled
    sources = {s["key"]: s for s in ctx.discovery()["sources"]}  # the page shows the new settings at once
    assert sources["similar_artists"]["on"] is False and sources["similar_artists"]["was_on"] is True


@pytest.mark.parametrize("values,says", [
    ({"discovery.request_budget": -1}, "discovery.request_budget must not be negative"),
    ({"discovery.similar_artists.seed_artists": 2.5}, "discovery.similar_artists.seed_artists must be a whole number"),
    ({"discovery.enabled": "yes"}, "discovery.enabled must be true/false"),
    ({"discovery.ttl_recordings_days": 1}, "'discovery.ttl_recordings_days' is not a discovery setting"),
    (["discovery.enabled"], "values must be an object"),
])
def test_a_bad_discovery_setting_is_one_line_naming_the_key_and_writes_nothing(ctx, values, says):
    from recommender.errors import RecommenderError
    before = ctx.config_file.read_text()
    with pytest.raises(RecommenderError, match=says.replace(".", r"\.")) as info:
        ctx.save_discovery(values)
    assert "\n" not in str(info.value) and not str(info.value).startswith("override")
    assert ctx.config_file.read_text() == before


def test_the_demo_restarts_with_the_discovery_settings_saved_and_its_own_services(tmp_path):
    # the demo's start refreshed before reading its own config file (a saved discovery setting
    # never applied), and a reload of that file (any Save) dropped the open-data stand-ins'
    # URLs from its settings: a later refresh would have asked the real ListenBrainz
    from recommender.config import load_settings
    from recommender.web.server import DEMO_CONFIG, demo_context
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path)})
    with jobs.demo_environment(settings) as (demo, _server):
        jobs.demo_login(demo)
        (demo.cache_dir / DEMO_CONFIG).write_text("discovery:\n  similar_recordings:\n    enabled: false\n")
        ctx = demo_context(demo)
        # its start's pull in the run log, as the app's other pulls (the Runs page said "no runs yet")
        runs = read_runs(ctx.settings.cache_dir, 100)
        assert [(r["command"], r["exit_code"]) for r in runs] == [("refresh (web)", 0)] and runs[0]["requests"] > 0
        last = jobs.open_store(ctx.settings).read_manifest()[jobs.LAST_DISCOVERY]
        assert last["sources"]["similar_recordings"] is False and last["sources"]["similar_artists"] is True
        for key in ("listenbrainz.api_url", "listenbrainz.labs_url", "enrich.musicbrainz_url"):
            assert ctx.settings.get_path(key) == demo.get_path(key) and "127.0.0.1" in demo.get_path(key)


def test_the_demo_in_a_terminal_and_in_the_web_app_reads_one_set_of_settings(tmp_path, monkeypatch):
    """`recommend web --demo` saved its weights, blocks and discovery settings to the demo's own
    file, which `build-playlist --demo` never read (a blocked artist came back in the terminal,
    and the two swapped half the playlist in turn); and the web demo read your config file only
    until its first Save, then the demo's file alone. Every --demo path now reads your file with
    the demo's on top."""
    from typer.testing import CliRunner

    from recommender.cli import app
    from recommender.config import load_settings
    from recommender.paths import DEMO_CONFIG, demo_dir, demo_settings
    from recommender.web.server import DEMO_KEYS
    mine = tmp_path / "mine.yaml"
    mine.write_text("blend:\n  max_tracks: 30\n")
    settings = load_settings(mine, environ={}, overrides={"cache.dir": str(tmp_path)})
    own = demo_dir(tmp_path) / DEMO_CONFIG
    own.parent.mkdir(parents=True)
    own.write_text("candidates:\n  blocklist_artists: [The Cranberries]\n")
    demo = demo_settings(settings)
    assert demo.blend.max_tracks == 30 and demo.candidates.blocklist_artists == ["The Cranberries"]
    ctx = WebContext(demo, config_file=own, overrides={k: demo.get_path(k) for k in DEMO_KEYS}, demo=True)
    own.write_text("candidates:\n  blocklist_artists: [Portishead]\n")  # a Save
    ctx.reload_settings()
    assert ctx.settings.blend.max_tracks == 30 and ctx.settings.candidates.blocklist_artists == ["Portishead"]
    assert ctx.settings.cache_dir == demo.cache_dir
    own.write_text("blend:\n  max_tracks: 12\n")
    out = CliRunner().invoke(app, ["build-playlist", "--demo", "--dry-run", "--json", "--config", str(mine)],
                             env={"RECOMMENDER_CACHE_DIR": str(tmp_path), "HOME": str(tmp_path)})
    assert out.exit_code == 0, out.stderr
    assert len(json.loads(out.stdout)["tracks"]) == 12
    # and `config show --demo` shows them so, naming the demo's file (config show had no --demo,
    # so nothing showed the settings the demo ran with)
    shown = CliRunner().invoke(app, ["config", "show", "--demo", "--config", str(mine)],
                               env={"RECOMMENDER_CACHE_DIR": str(tmp_path), "HOME": str(tmp_path)})
    assert shown.exit_code == 0, shown.stderr
    assert "max_tracks: 12" in shown.stdout and str(own) in shown.stdout.splitlines()[0], shown.stdout
    mine_only = CliRunner().invoke(app, ["config", "show", "--json", "--config", str(mine)],
                                   env={"RECOMMENDER_CACHE_DIR": str(tmp_path), "HOME": str(tmp_path)})
    assert json.loads(mine_only.stdout)["blend"]["max_tracks"] == 30
    own.write_text("blend:\n  max_trax: 12\n")  # a typo in it: named, file and line
    bad = CliRunner().invoke(app, ["build-playlist", "--demo", "--dry-run", "--config", str(mine)],
                             env={"RECOMMENDER_CACHE_DIR": str(tmp_path), "HOME": str(tmp_path)})
    assert bad.exit_code == 2 and f"{own}" in bad.stderr and "max_trax" in bad.stderr, bad.stderr


def test_a_steer_recounts_the_discovery_pages_tracks_in_next(ctx):
    ctx.discovery()
    ctx.steer("remove", str(ctx.preview().table["track_id"].iloc[0]))
    assert "discovery" not in ctx._cache  # computed again with the new Next playlist


@pytest.mark.parametrize("overrides", [
    {}, {"refresh.discovery_albums_per_artist": 0}, {"refresh.discovery_artists": 0},
    {"discovery.enabled": False}, {"discovery.similar_recordings.enabled": False},
    {"discovery.enabled": False, "discovery.similar_artists.enabled": True}])
def test_the_refresh_record_and_the_page_agree_on_which_sources_are_on(tmp_path, overrides):
    """One rule for "is this source on": the refresh's record (shown as "on/off in the last
    refresh") said the albums source was on with 0 albums per artist, which finds nothing,
    while the page said off, so the page claimed the setting had changed since."""
    from recommender import schema
    from recommender.config import load_settings
    from recommender.library import Library
    from recommender.sources.run import DiscoveryReport
    from recommender.store import Store
    from recommender.web.discovery import discovery_page
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path), **overrides})
    library = Library.from_frames(discovery=schema.empty_frame("discovery"))
    recorded = jobs.last_discovery(settings, library, DiscoveryReport(), 0)["sources"]
    page = discovery_page(settings, Store(tmp_path), None)
    assert {s["key"]: s["on"] for s in page["sources"]} == recorded
    assert recorded["albums"] is (settings.refresh.discovery_artists > 0
                                  and settings.refresh.discovery_albums_per_artist > 0)


def _discovery_html(settings, store) -> str:
    """The Discovery page as the app's template renders it (no server, no Next playlist)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from recommender.web.app import HERE, PAGES
    from recommender.web.discovery import discovery_page
    data = {**discovery_page(settings, store, None), "config_file": "user.yaml"}
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(("html",), default=True))
    return env.get_template("discovery.html").render(pages=PAGES, csrf="x", demo=False, page="discovery",
                                                     data=data, error=None)


@pytest.mark.parametrize("record", ["yesterday", ["a"], {"when": "2026-11-30T06:30:00+00:00"},
                                    {"when": 5, "requests_by_service": "many", "warnings": None, "sources": []}])
def test_a_hand_edited_last_discovery_shows_the_page_not_a_crash(tmp_path, record):
    """The manifest's ``last_discovery`` is read by the page only: a value of another shape (a
    hand edit, a partial record) showed a server error (``.get`` of a text, ``.items()`` of a
    missing part in the template) instead of the page and its settings."""
    from recommender.config import load_settings
    from recommender.store import Store
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path)})
    store = Store(tmp_path)
    store.update_manifest(**{jobs.LAST_DISCOVERY: record})
    html = _discovery_html(settings, store)
    assert 'id="discovery-form"' in html
    assert ('id="never"' in html) is (not isinstance(record, dict))


@pytest.mark.parametrize("overrides, says", [
    ({"refresh.discovery_artists": 0}, True), ({"refresh.discovery_albums_per_artist": 0}, True),
    ({"refresh.discovery_artists": 0, "refresh.discovery_shared_albums": 0}, False), ({}, False)])
def test_the_discovery_page_says_a_seed_playlist_run_still_reads_shared_albums(tmp_path, overrides, says):
    """With the albums source off for the refresh the page said only "off", though a
    ``--seed-playlist`` run still reads the albums its tracks by several artists share (their
    own key, ``refresh.discovery_shared_albums``): it now says so, and only then."""
    from recommender.config import load_settings
    from recommender.store import Store
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path), **overrides})
    row = _discovery_html(settings, Store(tmp_path)).split('data-source="albums"')[1].split("</tr>")[0]
    assert ('<span class="badge known">off</span>' in row) is bool(overrides)
    assert ("--seed-playlist</code> run still reads the albums" in row) is says
    assert ("refresh.discovery_shared_albums</code>)" in row) is says


@pytest.mark.parametrize("when, shown", [
    ("2026-12-01T18:00:00+00:00", "2026-12-01 09:00 UTC"),  # 9 h ahead (a clock set back a little): now
    ("2028-12-01T09:00:00Z", "unknown (recorded as '2028-12-01T09:00:00Z')"),  # a clock set years ahead
    ("2026-11-30T06:30:00+00:00", "2026-11-30 06:30 UTC"), ("yesterday", "yesterday")])
def test_the_discovery_pages_last_refresh_is_never_a_time_to_come(tmp_path, when, shown):
    """The page showed the record's time whatever the clock said: a refresh under a clock set
    ahead (put right since) was shown as made in two years' time. A stamp read back is believed
    up to a day ahead (now), unknown further ahead (isotime.believed_time, as the lock's start)."""
    from datetime import datetime, timezone

    from recommender import isotime
    from recommender.config import load_settings
    from recommender.store import Store
    from recommender.web.discovery import discovery_page
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path)})
    store = Store(tmp_path)
    store.update_manifest(**{jobs.LAST_DISCOVERY: {"when": when}})
    old = isotime.set_clock(lambda: datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    try:
        assert discovery_page(settings, store, None)["when"] == shown
    finally:
        isotime.set_clock(old)


def test_the_discovery_cache_state_is_judged_as_the_open_data_cache_uses_its_answers(tmp_path):
    """The page's counts are the cache's own rule: fresh = younger than the kind's TTL (a future
    date, an unreadable time and an old one are not), the next question at the oldest fresh
    answer plus the TTL (``isotime.remembered_until``: an answer stamped a few hours ahead of the
    clock ends the TTL after its stamp); a damaged file says so, an answer of another shape than
    its kind's is none (a refresh asks it again); a kind never asked is left out."""
    import json
    from datetime import datetime, timezone

    from recommender.isotime import remembered_until, shown
    from recommender.services.cache import MISSING, AnswerCache
    from recommender.web.discovery import cache_state
    now = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    answers = {"a": ["2026-11-28T12:00:00+00:00", []], "b": ["2026-11-20T12:00:00Z", []],
               "c": ["2026-12-30T00:00:00Z", []], "d": ["yesterday", []], "damaged": ["2026-11-29T12:00:00Z", 5]}
    (tmp_path / "similar_artists.json").write_text(json.dumps(answers), encoding="utf-8")
    (tmp_path / "lb_radio.json").write_text(json.dumps({"e": ["2026-11-30T18:00:00Z", []]}), encoding="utf-8")
    (tmp_path / "isrc.json").write_text("{not json", encoding="utf-8")
    ttl = {"similar_artists": 7.0, "lb_radio": 7.0, "isrc": 30.0, "tracks": 30.0}
    state = cache_state(tmp_path, ttl, now)
    assert state["similar_artists"] == {"answers": 4, "fresh": 1, "ttl_days": 7.0, "next": "2026-12-05 12:00 UTC"}
    ahead = "2026-12-07 18:00 UTC"  # 6 hours ahead: fresh (it counts as now), and ends 7 days after its stamp
    assert state["lb_radio"] == {"answers": 1, "fresh": 1, "ttl_days": 7.0, "next": ahead}
    assert shown(remembered_until("2026-11-30T18:00:00Z", 7.0, now)) == ahead  # the rule every memory ends by
    assert state["isrc"]["unreadable"] is True and "tracks" not in state
    cache = AnswerCache(tmp_path, ttl, now=now)  # the answers the page calls fresh are the ones a refresh reuses
    assert [k for k in answers if cache.get("similar_artists", k) is not MISSING] == ["a"]


def test_a_save_from_a_page_older_than_the_config_file_is_refused_and_a_hand_edit_is_read(tmp_path):
    # before: the pages kept the settings read at start and every Save wrote all of a page's
    # values: a second tab, or a page opened before an edit by hand, undid that change silently
    from recommender.config import load_settings
    from recommender.errors import ConfigError
    from recommender.web.context import StaleConfig
    config = tmp_path / "user.yaml"
    config.write_text("# mine\nscorers:\n  year:\n    weight: 0.2\n")
    c = WebContext(load_settings(config, environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=config,
                   overrides={"cache.dir": str(tmp_path)})
    opened = c.loaded_version  # two tabs opened the Weights page
    c.save_weights({"content": 0.5}, version=opened)  # the first saves
    assert c.loaded_version != opened
    with pytest.raises(StaleConfig, match="changed since this page was opened"):  # the second is refused
        c.save_weights({"content": 1.0, "year": 0.6}, version=opened)
    with pytest.raises(StaleConfig):
        c.save_discovery({"discovery.request_budget": 10}, version=opened)
    assert "weight: 0.5" in config.read_text() and "0.6" not in config.read_text() and "request_budget" not in config.read_text()
    c.save_weights({"year": 0.6}, version=c.loaded_version)  # a reloaded page saves
    assert c.weights()["content"] == 0.5 and c.weights()["year"] == 0.6
    # an edit by hand is what the next page shows (it kept showing the values read at start)
    config.write_text(config.read_text().replace("weight: 0.5", "weight: 3.0"))
    c.sync_settings()
    assert c.weights()["content"] == 3.0
    # a file broken by hand: config.py's one line; the settings read last stay in use
    good = config.read_text()
    config.write_text(good + "scorers: [\n")
    with pytest.raises(ConfigError, match="user.yaml"):
        c.sync_settings()
    assert c.weights()["content"] == 3.0
    config.write_text(good.replace("weight: 3.0", "weight: 2.0"))  # mended: read again
    c.sync_settings()
    assert c.weights()["content"] == 2.0


def test_runs_say_times_as_status_does_and_keep_the_dry_run_mark(tmp_path):
    # before: the run log's raw ISO times beside the evaluation's local time without a zone
    from recommender.config import load_settings
    from recommender.runlog import record_run
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path)})
    record_run(tmp_path, "build-playlist --demo", 0, 0.0, added=50, removed=0, kept=0, requests=31, dry_run=True)
    info = WebContext(settings, config_file=tmp_path / "user.yaml").runs()
    run = info["runs"][0]
    assert run["dry_run"] is True and run["requests"] == 31
    assert run["when"].endswith(" UTC") and len(run["when"]) == len("2026-11-30 07:00 UTC"), run["when"]


def test_the_runs_page_says_a_run_killed_holding_the_lock_did_not_finish(tmp_path):
    # before: its exit column said "None" (such a run is recorded with no exit code); the page as
    # the app serves it (its own templates and context), not a template rendered apart
    pytest.importorskip("uvicorn")
    from recommender.config import load_settings
    from recommender.runlog import record_run, record_unfinished
    from test_web import entered, serving
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path)})
    record_unfinished(tmp_path, {"pid": 4242, "started": "2026-11-30T07:00:00+00:00", "command": "build-playlist",
                                 "trigger": "schedule"})
    record_run(tmp_path, "refresh", 0, 0.0)
    with serving(WebContext(settings, config_file=tmp_path / "user.yaml")) as (sec, base):
        html = entered(sec, base).get(base + "/runs", timeout=30).text
    killed = html.split("2026-11-30 07:00 UTC", 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", killed)
    assert cells[1] == "did not finish" and "None" not in killed, killed
    assert "its process was killed" in cells[-1]  # the message says why, as `recommend status` does
    finished = html.split("<td>refresh", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r"<td[^>]*>(.*?)</td>", finished)[0] == "0"  # a run that ended: its exit code


def test_the_runs_page_reads_the_run_log_once(tmp_path, monkeypatch):
    # before: status() read runs.jsonl for the page's header, then the page read it again
    from recommender import runlog
    from recommender.config import load_settings
    for n in range(55):
        runlog.append_run(tmp_path, {"command": f"run{n}", "exit_code": 0})
    reads = []
    real = runlog.read_runs
    monkeypatch.setattr(runlog, "read_runs", lambda *a, **k: reads.append(a) or real(*a, **k))
    info = WebContext(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}),
                      config_file=tmp_path / "user.yaml").runs()
    assert len(reads) == 1
    assert [r["command"] for r in info["runs"]] == [f"run{n}" for n in range(54, 4, -1)]


def test_the_taste_map_says_how_many_tracks_the_library_has_not_the_sample(tmp_path, monkeypatch):
    # before: a library larger than the map's sample said "(995 shown of 1000)": of the sample
    from recommender.config import load_settings
    from recommender.web import context as web_context
    from test_moods import corner_rows, make_library
    rows = corner_rows(per_mood=6)
    lib = make_library(rows, {"p" * 22: [r["track_id"] for r in rows]})
    monkeypatch.setattr(web_context, "MAP_MAX_TRACKS", 12)
    c = WebContext(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=tmp_path / "u.yaml")
    c._cache["library"] = lib
    data = c.taste_map()
    assert len(data["points"]) <= 12 and data["total"] == len(rows) == 24


def test_with_spotify_down_the_next_page_keeps_its_playlist_and_says_so(ctx, standin):
    """Spotify down: after a failed Publish each load of the Next page asked Spotify again (five
    tries, 8 s) and showed the error alone, the table gone; the Weights page lost its evaluation.
    A Publish Spotify did not answer keeps what the pages show; a change of the cached data since
    (a steer) shows the playlist the cache gives, as `build-playlist --dry-run` does, saying
    so, and asks Spotify again only after CHECK_PAUSE_SECONDS (it showed the last playlist
    computed, the track just removed taken out of its table and nothing else changed)."""
    pytest.importorskip("uvicorn")
    from recommender.standins.spotify import Fault
    from test_web import entered, serving
    ctx.config_file.write_text(ctx.config_file.read_text() + "spotify:\n  max_retries: 1  # one wait of 0.5 s a question\n")
    ctx.reload_settings()
    with serving(ctx) as (sec, base):
        session = entered(sec, base)
        before = session.get(base + "/next", timeout=60).text
        rows = re.findall(r'<tr data-track="([^"]+)"', before)
        plan = re.search(r'name="plan" value="([^"]*)"', before).group(1)
        assert rows and "your cache" not in before
        down = standin.add_fault(Fault(method="*", status=503, times=None))
        r = session.post(base + "/next/publish", data={"csrf": sec.csrf, "plan": plan}, timeout=120)
        assert "Publish failed (exit 5)" in r.text
        asked = down.hits
        assert re.findall(r'<tr data-track="([^"]+)"', r.text) == rows  # the page it lands on: the table
        again = session.get(base + "/next", timeout=60).text
        assert down.hits == asked and re.findall(r'<tr data-track="([^"]+)"', again) == rows
        assert session.get(base + "/weights", timeout=60).status_code == 200 and down.hits == asked
        ctx.steer("remove", rows[0])  # the cached data changes: the page's dry run asks Spotify
        page = session.get(base + "/next", timeout=60).text
        assert down.hits > asked
        # the dry run from the cache, as the CLI's: the track removed is gone, the next one in its place
        now = re.findall(r'<tr data-track="([^"]+)"', page)
        assert now == ids_of(jobs.build_playlist(ctx.settings, dry_run=True)) and rows[0] not in now
        note = re.findall(r'<li class="note">([^<]*)', page)
        assert len(note) == 1 and note[0].startswith("Spotify is unavailable (503") and "this page shows your cache" in note[0]
        assert "this dry run" not in page and "Publish failed (exit 5)" in page
        asked = down.hits  # (the CLI's dry run asked too)
        assert ctx.weights_preview({"content": 0.5})["tracks"]  # the Weights page: the same basis
        assert re.findall(r'<tr data-track="([^"]+)"', session.get(base + "/next", timeout=60).text) == now
        assert down.hits == asked  # kept for CHECK_PAUSE_SECONDS: no page asked again meanwhile
        # Spotify back, the pause over: the next load asks again and drops the failed Publish's box (it
        # stood, "Spotify is unavailable", above a playlist Spotify had answered for since)
        standin.clear_faults()
        ctx.clock = lambda: time.monotonic() + CHECK_PAUSE_SECONDS
        back = session.get(base + "/next", timeout=60).text
        assert "your cache" not in back and "Publish failed" not in back and 'id="published"' not in back
        assert re.findall(r'<tr data-track="([^"]+)"', back) == now


def test_without_a_login_the_next_and_weights_pages_show_the_cached_picks_until_a_login_is_saved(ctx):
    """After `recommend auth --logout` the Next page said only "error (exit 3): not logged in" and
    the Weights page had no playlist, where `build-playlist --dry-run` shows the cached picks: the
    pages show them too, saying how to log in, and a login saved meanwhile (a `recommend auth` in
    a terminal) is used at the next page (the token file changed), not 5 minutes later."""
    pytest.importorskip("uvicorn")
    from recommender.spotify.auth import token_path
    from test_web import entered, serving
    want = ids_of(ctx.preview())
    token = token_path(ctx.settings.cache_dir)
    login = token.read_bytes()
    token.unlink()
    c = fresh(ctx)
    with serving(c) as (sec, base):
        page = entered(sec, base).get(base + "/next", timeout=60).text
    assert re.findall(r'<tr data-track="([^"]+)"', page) == want and "error (exit 3)" not in page
    note = re.findall(r'<li class="note">([^<]*)', page)
    assert len(note) == 1 and note[0].startswith("not logged in to Spotify") and "recommend auth" in note[0]
    assert "this page shows your cache" in note[0]
    moved = c.weights_preview({"content": 0.5})
    assert moved["tracks"] and moved["from_cache"] == note[0]  # the Weights page says it too
    kept = c.preview()
    assert c.preview() is kept and any("not logged in" in m for m in kept.messages)  # not computed at each load
    token.write_bytes(login)  # logged in again
    again = c.preview()
    assert ids_of(again) == want and not any("not logged in" in m for m in again.messages)
    assert c.weights_preview({"content": 0.5})["from_cache"] == ""
    assert c.publish()["exit_code"] == 0


def test_the_next_page_says_why_fewer_tracks_are_new_than_new_share_asks(ctx):
    pytest.importorskip("uvicorn")
    from test_web import entered, serving
    ctx.config_file.write_text(ctx.config_file.read_text() + "candidates:\n  new_share: 1\n")
    ctx.reload_settings()
    with serving(ctx) as (sec, base):
        html = entered(sec, base).get(base + "/next", timeout=60).text
    assert '<p class="note" id="new-short">Fewer new tracks than asked: candidates.new_share 1 asks for ' in html
    said = re.search(r'id="new-short">([^<]*)', html).group(1)
    new = sum(r["new"] for r in ctx.next_rows(ctx.preview()))  # the albums of its artists: every one taken
    # the app's own page, not a command in backticks shown as they are
    assert said.endswith(f", but only {new} candidates are new to you (the Discovery page says what the last "
                         "discovery found).") and new, said


def test_the_next_page_shows_a_score_as_the_cli_table_does(ctx):
    """Scores rounded to 4 decimals for the page, then shown with 3, differed from the CLI's table
    in the third (0.82649: 0.8265 -> 0.827 where the CLI shows 0.826)."""
    from recommender.web.context import _num
    for value in (0.82649, 0.52151, 0.12345449, 1.0, 0.0):
        assert f"{_num(value):.3f}" == f"{value:.3f}", value
    assert _num(float("nan")) is None and _num("x") is None
    # the page's rows themselves (the helper alone was tested: rows rounded to 4 again failed nothing)
    result = ctx.preview()
    rows = ctx.next_rows(result)
    assert rows and [r["score"] for r in rows] == [round(float(v), 6) for v in result.table["score"]]


def test_an_audio_weight_with_no_audio_features_says_it_changes_nothing(ctx):
    """The audio slider moved on a library with no audio features: a row of 0s appeared, the
    playlist stayed the same, and nothing said why."""
    said = ctx.weights_preview({"content": 1.0, "audio": 0.5})["evaluation"]["off"]
    assert "audio has a weight, but no track has audio features to score by (`recommend import features FILE` " \
           "imports them): its weight changes nothing" in said
    assert "audio has a weight" not in ctx.weights_preview({"content": 1.0, "audio": 0.0})["evaluation"]["off"]


@pytest.mark.parametrize("save", ["weights", "discovery"])
def test_a_tune_write_between_a_saves_version_check_and_its_lock_refuses_the_save_not_mixes_them(tmp_path, monkeypatch,
                                                                                                  save):
    # before: the Save compared the page's version with the file, then took the run lock; a
    # `tune --write` in between was written over by a Save made from the values it replaced: a mix
    from contextlib import contextmanager

    from recommender.config import load_settings
    from recommender.web.context import StaleConfig
    config = tmp_path / "user.yaml"
    config.write_text("# mine\nscorers:\n  year:\n    weight: 0.2\n")
    c = WebContext(load_settings(config, environ={}, overrides={"cache.dir": str(tmp_path)}), config_file=config,
                   overrides={"cache.dir": str(tmp_path)})
    opened = c.loaded_version
    real, tuned = jobs.writing, []

    @contextmanager
    def tune_first(settings, command):
        if not tuned:  # another process's `tune --write`, just before the Save takes the lock
            tuned.append(command)
            jobs.write_tuned_weights(load_settings(config, environ={}, overrides={"cache.dir": str(tmp_path)}),
                                     {"year": 0.9, "content": 0.7}, path=config, by_tune=True)
        with real(settings, command):
            yield
    monkeypatch.setattr(jobs, "writing", tune_first)
    with pytest.raises(StaleConfig, match="changed since this page was opened"):
        if save == "weights":
            c.save_weights({"content": 0.5}, version=opened)
        else:
            c.save_discovery({"discovery.request_budget": 10}, version=opened)
    assert tuned
    text = config.read_text()
    assert "weight: 0.9" in text and "weight: 0.7" in text  # tune's write, whole
    assert "0.5" not in text and "request_budget" not in text  # and nothing of the Save's
    c.save_weights({"content": 0.5}, version=c.loaded_version)  # a reloaded page saves
    assert c.weights()["content"] == 0.5 and c.weights()["year"] == 0.9
