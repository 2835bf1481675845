"""The command line: exit codes, one-line messages, JSON output, options after the subcommand."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.lock import RunLock
from recommender.standins.spotify import Fault

from spotify_helpers import api_requests, save_login
from deprecation_marks import DEPRECATIONS_OF_OURS

pytestmark = DEPRECATIONS_OF_OURS

runner = CliRunner()
README = Path(__file__).resolve().parents[1] / "README.md"


def env_for(server, cache: Path) -> dict[str, str]:
    return {"RECOMMENDER_SPOTIFY_API_URL": server.api_url, "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": server.accounts_url,
            "SPOTIPY_CLIENT_ID": "test-client", "RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_SECRET": ""}


def run(args: list[str], env: dict[str, str]):
    return runner.invoke(app, args, env=env, catch_exceptions=False)


@pytest.fixture
def logged_in(standin, tmp_path):
    cache = tmp_path / "cache"
    save_login(standin, cache)
    return standin, env_for(standin, cache), cache


def test_unknown_config_key_exits_2_naming_file_and_key(tmp_path):
    bad = tmp_path / "user.yaml"
    bad.write_text("blend:\n  treshold: 0.4\n")
    for args in (["refresh", "--config", str(bad)], ["--config", str(bad), "build-playlist"],
                 ["status", "--config", str(bad)], ["config", "show", "--config", str(bad)]):
        result = run(args, {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
        assert result.exit_code == 2, args
        assert f"{bad}: line 2: unknown key blend.treshold" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_musicbrainz_url_exits_2_before_anything_is_pulled(logged_in):
    """RECOMMENDER_MUSICBRAINZ_URL=garbage was refused only when enrichment first used it,
    after the whole Spotify pull of the refresh."""
    server, env, _ = logged_in
    result = run(["refresh"], {**env, "RECOMMENDER_MUSICBRAINZ_URL": "garbage"})
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: environment RECOMMENDER_MUSICBRAINZ_URL: enrich.musicbrainz_url "
                                     "must be an http(s) URL, got 'garbage'")
    assert api_requests(server) == []


def test_without_credentials_says_how_to_connect(tmp_path):
    result = run(["build-playlist"], {"RECOMMENDER_CACHE_DIR": str(tmp_path), "SPOTIPY_CLIENT_ID": ""})
    assert result.exit_code == 3
    assert "--demo" in result.stderr and "recommend auth" in result.stderr and "client_id" in result.stderr


def test_no_token_exits_3_with_auth_message(standin, tmp_path):
    result = run(["refresh", "--no-input"], env_for(standin, tmp_path / "c"))
    assert result.exit_code == 3
    assert "recommend auth" in result.stderr


def test_expired_login_exits_3_and_logs_one_line(logged_in):
    server, env, cache = logged_in
    server.expire_access_tokens()
    server.revoke_refresh_tokens()
    result = run(["build-playlist", "--quiet", "--no-input"], env)
    assert result.exit_code == 3
    assert "recommend auth" in result.stderr
    log = (cache / "recommend.log").read_text()
    assert "recommend auth" in log
    assert "access_token" not in log


def test_quota_exits_4_and_says_when(logged_in):
    server, env, _ = logged_in
    server.add_fault(Fault(method="GET", path=r"^/v1/me/playlists$", status=429, reason="QUOTA_EXCEEDED", times=9))
    result = run(["refresh", "--quiet"], env)
    assert result.exit_code == 4
    assert re.search(r"try again in \d", result.stderr)


def test_spotify_down_exits_5(logged_in):
    server, env, _ = logged_in
    server.add_fault(Fault(method="GET", path=r"^/v1/me$", status=503, times=99))
    env = {**env}
    result = run(["refresh", "--quiet"], env)
    assert result.exit_code == 5


def test_lock_held_exits_6_naming_the_lock(logged_in):
    server, env, cache = logged_in
    cache.mkdir(parents=True, exist_ok=True)
    with RunLock(cache / "recommend.lock", command="test holder"):
        result = run(["refresh", "--quiet"], env)
    assert result.exit_code == 6
    assert "recommend.lock" in result.stderr


@pytest.mark.parametrize("at, said", [("61 * * * *", "'61 * * * *'"),
                                       # installed with no next run, no warning: it never ran
                                       ("0 7 31 2 *", "'0 7 31 2 *': it would never run"),
                                       ("", "'': it is empty")])  # installed the default time, unsaid
def test_invalid_cron_exits_2(tmp_path, at, said):
    tab = tmp_path / "tab"
    result = run(["schedule", "install", "--at", at, "--tabfile", str(tab)], {"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: invalid cron expression {said}")
    assert not tab.exists()


def test_a_broken_line_with_our_marker_prints_no_raw_python_crontab_message(tmp_path):
    """A crontab line carrying our marker that python-crontab cannot read ("61 * * * * ...") had it
    print "'61', not in 0-59 for Minutes" on stderr, raw, with no "error:" or "note:" and nothing
    saying where from, at every schedule install/show/remove and status. Such a line is no line
    of ours: it is left as it is, and nothing of python-crontab's is printed."""
    import os
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[1]
    tab = tmp_path / "tab"
    broken = "61 * * * * /bin/true # recommend-managed\n"
    tab.write_text(broken)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPOTIPY_", "RECOMMENDER_"))}
    env.update(RECOMMENDER_CACHE_DIR=str(tmp_path), PYTHONPATH=str(root), RECOMMENDER_TEST_CRONTAB=str(tab))  # status's
    for args in (["schedule", "install", "--at", "0 7 * * *", "--tabfile", str(tab)], ["schedule", "show", "--tabfile", str(tab)],
                 ["schedule", "remove", "--tabfile", str(tab)], ["status", "--offline"]):
        out = subprocess.run([sys.executable, "-m", "recommender", *args], capture_output=True, text=True, env=env,
                             cwd=root, timeout=120)
        assert out.returncode == 0 and "Minutes" not in out.stderr + out.stdout, (args, out.stderr)
    assert tab.read_text() == broken


def test_schedule_install_show_remove_keeps_other_lines(tmp_path):
    tab = tmp_path / "tab"
    foreign = "MAILTO=me@example.invalid\n*/5 * * * *   echo  \"50%\"  # someone else's\n"
    tab.write_text(foreign)
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path)}
    assert run(["schedule", "install", "--at", "0 7 * * *", "--tabfile", str(tab)], env).exit_code == 0
    shown = run(["schedule", "show", "--tabfile", str(tab)], env).stdout
    assert shown.startswith("0 7 * * *") and "build-playlist --quiet --no-input" in shown
    assert run(["schedule", "remove", "--tabfile", str(tab)], env).exit_code == 0
    assert tab.read_text() == foreign


def test_refresh_then_second_refresh_is_incremental(logged_in):
    server, env, cache = logged_in
    first = run(["refresh", "--json"], env)
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["playlists_fetched"] > 0
    assert not {"listing", "open_data", "saved"} & set(report)  # the run's own objects, not the report's
    second = json.loads(run(["refresh", "--json"], env).stdout)
    assert second["playlists_fetched"] == 0 and second["requests"] < report["requests"]
    assert (cache / "tracks.parquet").exists()


def test_refreshs_summary_says_which_requests_went_to_open_data(logged_in):
    """`recommend refresh` ended "196 Spotify requests, 285 for discovery.": read as 285 of the
    Spotify requests, more than all of them, while they were the requests to ListenBrainz and
    MusicBrainz. The line names them open-data requests now."""
    server, env, cache = logged_in
    result = run(["refresh"], env)
    assert result.exit_code == 0, result.stderr
    line = " ".join(result.stdout.split())  # (as one line, however wrapped)
    assert re.search(r"\d+ Spotify requests, \d+ open-data requests? for discovery\.", line), line


def test_refreshs_summary_puts_one_request_in_the_singular(monkeypatch, tmp_path):
    """The summary said "1 Spotify requests" (its open-data count and the playlists' already
    agreed with their number): every count of the line now does."""
    from recommender import jobs
    from recommender.spotify.sync import RefreshReport
    report = RefreshReport("u", playlists=1, tracks=1, requests=1, open_data_requests=1)
    monkeypatch.setattr(jobs, "refresh", lambda *args, **kw: (None, report))
    result = run(["refresh"], {"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.stderr
    line = " ".join(result.stdout.split())
    assert line.startswith("1 playlist (") and "; 1 Spotify request, 1 open-data request for discovery." in line, line
    assert "), 1 track (" in line, line


def test_build_playlist_json_shape_and_in_place_update(logged_in):
    server, env, cache = logged_in
    first = run(["build-playlist", "--json"], env)
    assert first.exit_code == 0, first.stderr
    out = json.loads(first.stdout)
    for key in ("playlist_id", "dry_run", "tracks", "added", "removed", "kept"):
        assert key in out
    assert out["dry_run"] is False and out["tracks"]
    track = out["tracks"][0]
    assert set(track) >= {"id", "name", "artists", "score", "contributions", "why"}
    assert track["track_id"] == track["id"]  # as search, similar and moods name it (a scripting trial)
    assert [t["id"] for t in out["tracks"]] == server.playlist_track_ids(out["playlist_id"])
    created = [r for r in api_requests(server, "POST") if r.path == "/v1/me/playlists"]
    assert len(created) == 1
    again = json.loads(run(["build-playlist", "--json", "--refresh"], env).stdout)
    assert again["playlist_id"] == out["playlist_id"]
    assert len([r for r in api_requests(server, "POST") if r.path == "/v1/me/playlists"]) == 1


def test_dry_run_writes_nothing(logged_in):
    server, env, _ = logged_in
    server.clear_requests()
    result = run(["build-playlist", "--dry-run", "--json"], env)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["dry_run"] is True and out["added"] == len(out["tracks"])
    assert [r for r in server.requests if r.method != "GET" and r.path.startswith("/v1/")] == []


def test_unknown_seed_playlist_exits_2(logged_in):
    server, env, _ = logged_in
    result = run(["build-playlist", "--seed-playlist", "No Such Playlist", "--dry-run"], env)
    assert result.exit_code == 2
    assert "No Such Playlist" in result.stderr


def test_a_seed_playlist_run_is_recorded_with_its_playlist(logged_in):
    # `recommend status` showed "build-playlist" for a run that wrote the managed playlist for
    # one playlist's continuation, not for your taste: the record names the playlist
    server, env, cache = logged_in
    result = run(["build-playlist", "--seed-playlist", "Road Trip", "--dry-run"], env)
    assert result.exit_code == 0, result.stderr
    status = run(["status"], env)
    assert "build-playlist --seed-playlist 'Road Trip' (dry run) exit 0" in " ".join(status.stdout.split())


def test_every_demo_run_pulls_the_sample_account_again():
    # the demo shows the whole job, the pull included, each time (README: a demo run's line says
    # "cache refreshed"), where a run of yours leaves a fresh cache as it is
    for _ in range(2):
        out = json.loads(run(["build-playlist", "--demo", "--dry-run", "--json"], {}).stdout)
        assert out["refreshed"] and out["requests"] > 0


def test_a_runs_seconds_are_the_time_from_its_start_to_its_end(monkeypatch):
    # the time `--json` and the summary line give (cron's mail says why a night's run took long)
    from types import SimpleNamespace

    from recommender import jobs
    ticks = iter([100.0, 102.3, 200.0, 207.5])  # a run reads the clock as it starts and as it ends
    monkeypatch.setattr(jobs, "time", SimpleNamespace(monotonic=lambda: next(ticks)))
    out = json.loads(run(["build-playlist", "--demo", "--dry-run", "--json"], {}).stdout)
    assert out["seconds"] == 2.3
    said = " ".join(run(["build-playlist", "--demo", "--dry-run"], {}).stdout.split())
    assert "Spotify requests, 7.5 s." in said, said


def test_a_run_that_refreshed_the_cache_is_recorded_as_such(logged_in):
    # runs.jsonl said nothing of a run's refresh: `status` showed a --refresh run (hundreds of
    # requests) like the quick run after it; the record and the line say which pulled the cache
    server, env, cache = logged_in
    assert run(["build-playlist", "--quiet"], env).exit_code == 0  # the first: no cache yet
    assert run(["build-playlist", "--quiet"], env).exit_code == 0  # a fresh cache: no refresh
    assert run(["build-playlist", "--quiet", "--refresh"], env).exit_code == 0
    runs = json.loads(run(["status", "--json", "--offline"], env).stdout)["last_runs"]
    assert [r.get("refreshed") for r in runs[:3]] == [True, False, True]
    lines = [" ".join(line.split()) for line in run(["status", "--offline"], env).stdout.split("  20")]
    shown = [line for line in lines if "build-playlist exit 0" in line]
    assert ["cache refreshed" in line for line in shown[:3]] == [True, False, True], shown


@pytest.mark.parametrize("refresh_between", [False, True])
def test_a_managed_playlist_unfollowed_in_spotify_is_not_listed_once_a_run_found_it_gone(logged_in, refresh_between):
    # `recommend playlists` listed the managed playlist you had unfollowed, as "earlier", until
    # the next refresh, though the run that made its successor had found it gone. Without a
    # refresh between: it was listed as made since the last refresh (blank count); with one
    # (the cache holds it): from the cache.
    server, env, cache = logged_in
    first = json.loads(run(["build-playlist", "--json", "--quiet"], env).stdout)["playlist_id"]
    if refresh_between:
        assert run(["refresh", "--quiet"], env).exit_code == 0
    listed = json.loads(run(["playlists", "--json"], env).stdout)
    assert [r["role"] for r in listed if r["id"] == first] == ["yes"]
    others = [r["id"] for r in listed if r["id"] != first]  # by name: some come after it
    server.account.playlist(first)["followed"] = False  # unfollowed in Spotify's app
    second = json.loads(run(["build-playlist", "--json", "--quiet"], env).stdout)
    assert second["created"] and second["playlist_id"] != first and not second["refreshed"]
    listed = json.loads(run(["playlists", "--json"], env).stdout)
    assert first not in {r["id"] for r in listed}, [r for r in listed if r["id"] == first]
    assert [r["id"] for r in listed if r["id"] in others] == others  # the rest listed as before
    assert [r["role"] for r in listed if r["id"] == second["playlist_id"]] == ["yes"]
    assert run(["refresh", "--quiet"], env).exit_code == 0  # and after a refresh, as before
    assert first not in {r["id"] for r in json.loads(run(["playlists", "--json"], env).stdout)}


def test_config_show_redacts_the_secret(tmp_path):
    result = run(["config", "show", "--json"], {"SPOTIPY_CLIENT_SECRET": "hunter2", "RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert result.exit_code == 0
    assert "hunter2" not in result.stdout
    assert json.loads(result.stdout)["spotify"]["client_secret"] == "***"
    assert "  client_secret: '***'" in run(["config", "show"], {"SPOTIPY_CLIENT_SECRET": "hunter2",
                                                             "RECOMMENDER_CACHE_DIR": str(tmp_path)}).stdout


def test_config_show_says_an_unset_secret_is_unset(tmp_path):
    """With no client secret (PKCE needs none) the text said `client_secret: ***`, as if one
    were set, while --json said null: a user checking whether theirs is read was told it is."""
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path)}
    text = run(["config", "show"], env).stdout
    assert "  client_secret: null" in text.splitlines() and "  token: null" in text.splitlines(), text
    assert json.loads(run(["config", "show", "--json"], env).stdout)["spotify"]["client_secret"] is None


def test_status_after_a_run(logged_in):
    server, env, _ = logged_in
    run(["build-playlist", "--quiet"], env)
    out = json.loads(run(["status", "--json"], env).stdout)
    assert out["playlist"]["id"] and out["playlist"]["tracks"] > 0
    assert out["last_runs"][0]["command"] == "build-playlist"
    assert out["login"]["state"] in {"valid", "expired"}


@pytest.mark.parametrize("place", ["runs.jsonl", "recommend.lock"])
def test_a_folder_in_the_place_of_the_run_log_or_the_lock_is_exit_7_naming_it(logged_in, place):
    """A folder where the run log or the lock file goes ended the build, its playlist written, in
    "unexpected error: IsADirectoryError ... please report it", exit 1: it is a local file that
    cannot be written (exit 7), named, with what to do."""
    server, env, cache = logged_in
    (cache / place).mkdir(parents=True)
    result = run(["build-playlist", "--quiet"], env)
    assert result.exit_code == 7, result.stderr
    said = " ".join(result.stderr.split())
    assert f"{cache / place}" in said and "a folder is where the file goes: move it away" in said
    assert "unexpected" not in said and "previous version is kept" not in said


def test_status_says_what_the_last_discovery_found(logged_in):
    """build-playlist's "no candidate is new to you (`recommend status` says what the last
    discovery found)" sent you to a status that said nothing of discovery."""
    server, env, cache = logged_in
    before = run(["status", "--offline"], env)
    assert "discovery: none recorded yet (the next refresh or build-playlist runs it)" in before.stdout
    assert json.loads(run(["status", "--offline", "--json"], env).stdout)["discovery"] is None
    run(["build-playlist", "--quiet"], {**env, "COLUMNS": "300"})
    found = json.loads(run(["status", "--offline", "--json"], env).stdout)["discovery"]
    assert found["sources"]["albums"] is True and found["tracks"]["albums"] > 0 and found["when"]
    said = " ".join(run(["status", "--offline"], env).stdout.split())
    total = sum(found["tracks"].values())
    assert f"found {total} tracks new to you ({found['tracks']['albums']} from albums of your artists" in said, said
    # a record written before it named its sources (an older version's) is not said to be "off"
    from recommender.store import Store
    store = Store(cache)
    store.update_manifest(last_discovery={**store.read_manifest()["last_discovery"], "sources": {}})
    said = " ".join(run(["status", "--offline"], env).stdout.split())
    assert "discovery: off" not in said and f"found {total} tracks new to you (" in said, said


def test_status_with_an_unreadable_fetched_at_says_so(tmp_path):
    # before: f"{None:.1f}" raised TypeError when the manifest's fetched_at did not parse
    from recommender.store import Store
    Store(tmp_path).update_manifest(fetched_at="last tuesday")
    result = run(["status", "--offline"], {"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert result.exit_code == 0
    assert "(fetched last tuesday, age unknown)" in result.stdout


def test_status_with_a_last_discovery_whose_counts_are_no_numbers_shows_the_rest(tmp_path):
    # int(NaN) of a damaged or hand-edited manifest stopped status with exit 1 (and text, a list: the same)
    from recommender.store import Store
    Store(tmp_path).update_manifest(last_discovery={"when": "2026-11-30T08:00:00+00:00", "requests": float("nan"),
                                                    "new_tracks": float("inf"), "cached_answers": "7", "warnings": 5,
                                                    "sources": [1], "tracks": {"albums": float("nan"), "similar": 3}})
    result = run(["status", "--offline", "--json"], {"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["discovery"] == {"when": "2026-11-30T08:00:00+00:00", "sources": {},
                                                      "tracks": {"similar": 3}, "new_tracks": None, "requests": 0,
                                                      "cached_answers": 0, "warnings": []}


def test_status_json_of_a_saved_login_holding_nan_is_json(tmp_path):
    # a token file edited by hand ("scope": NaN) went into `status --json` as NaN, which no JSON reader takes
    from recommender.spotify.auth import token_path
    token_path(tmp_path).write_text('{"access_token": "a", "refresh_token": "r", "expires_at": NaN, "scope": NaN}')
    out = run(["status", "--offline", "--json"], {"RECOMMENDER_CACHE_DIR": str(tmp_path)}).stdout

    def no_json(constant):
        raise ValueError(constant)
    assert json.loads(out, parse_constant=no_json)["login"]["scope"] is None


def test_status_shows_the_fetch_and_the_token_expiry_as_every_message_shows_a_time(tmp_path):
    # status printed the manifest's and the token's raw ISO text ("2026-11-30T08:00:00.123456+01:00"),
    # where runs, the lock and every other message say "2026-11-30 07:00 UTC"; a hand-edited value
    # that reads as no time is shown as it is, its control characters made visible, and its
    # invisible ones too (a zero-width space), as every name in status is
    from recommender.spotify.auth import token_path
    from recommender.store import Store
    Store(tmp_path).update_manifest(fetched_at="2026-11-30T08:00:00.123456+01:00")
    token_path(tmp_path).write_text(json.dumps({"access_token": "a", "refresh_token": "r", "expires_at": 1764489600}))
    out = run(["status", "--offline"], {"RECOMMENDER_CACHE_DIR": str(tmp_path)}).stdout
    assert "(fetched 2026-11-30 07:00 UTC, " in out and "access token until 2025-11-30 08:00 UTC" in out
    Store(tmp_path).update_manifest(fetched_at="last\x1b[2J tues\u200bday")
    out = run(["status", "--offline"], {"RECOMMENDER_CACHE_DIR": str(tmp_path)}).stdout
    assert "(fetched last\\x1b[2J tues\\u200bday," in out and "\x1b" not in out and "\u200b" not in out


def test_every_command_is_documented_in_the_readme():
    import typer.main
    text = README.read_text()
    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            names += [f"{name} {sub}" for sub in cmd.commands]
        else:
            names.append(name)
    missing = [n for n in names if f"recommend {n}" not in text]
    assert not missing, f"README does not mention: {missing}"


REQUIRED_ARGS = {"search": ["x"], "similar": ["x"], "moods cluster": ["x"], "moods near": ["x"],
                 "moods recommend": ["--mood", "happy"],
                 "import features": ["missing.csv"], "schedule install": ["--print"]}


def _all_commands() -> list[str]:
    import typer.main
    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():
        names += [f"{name} {sub}" for sub in cmd.commands] if hasattr(cmd, "commands") else [name]
    return names


@pytest.mark.parametrize("command", _all_commands())
def test_every_command_takes_the_common_options_and_rejects_a_bad_config(command, tmp_path):
    bad = tmp_path / "user.yaml"
    bad.write_text("blend:\n  max_tracks: lots\n")
    args = command.split() + REQUIRED_ARGS.get(command, []) + ["--quiet", "--no-input", "--config", str(bad)]
    result = run(args, {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    if command in NEVER_READ_CONFIG:  # taken, and the file left alone: a broken one stops every scheduled run
        assert "blend.max_tracks" not in result.stderr, (command, result.stderr)  # (no crontab here: exit 2 for that)
        return
    assert result.exit_code == 2, (command, result.stdout, result.stderr)
    assert "blend.max_tracks" in result.stderr and str(bad) in result.stderr


# the commands that never read the config file: they work while a broken edit of it stops every
# scheduled run (tests/test_schedule.py::test_show_and_remove_work_while_the_config_file_is_broken)
NEVER_READ_CONFIG = {"schedule show", "schedule remove"}


def test_saved_after_recommended_is_feedback_saved_before_is_not():
    import pandas as pd
    from recommender.jobs import saved_after_recommended
    from recommender.library import Library
    lib = Library.from_frames(
        tracks=pd.DataFrame({"track_id": ["a", "b", "c"]}),
        playlist_items=pd.DataFrame({"playlist_id": ["m", "m", "m"], "track_id": ["a", "b", "c"], "position": [0, 1, 2],
                                     "added_at": ["2026-01-10T00:00:00Z"] * 3}),
        saved_tracks=pd.DataFrame({"track_id": ["a", "b", "c"],  # c saved the second it was put there: not after
                                   "added_at": ["2026-01-12T00:00:00Z", "2025-05-01T00:00:00Z",
                                                "2026-01-10T00:00:00Z"]}))
    assert saved_after_recommended(lib, "m") == ["a"]
    assert saved_after_recommended(lib, None) == []


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_evaluate_on_a_dataset_prints_the_protocol_json(tmp_path):
    result = run(["evaluate", "--dataset", str(FIXTURES / "tidy_small.csv"), "--json"],
                 {"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    for key in ("p@10", "r@10", "ndcg@10", "rprec", "targets", "seconds", "scorers"):
        assert key in out
    assert out["targets"] > 0 and set(out["scorers"]) >= {"content", "collaborative"}
    assert 0 <= out["p@10"] <= 1


def test_evaluate_without_a_cache_says_what_to_do(tmp_path):
    result = run(["evaluate"], {"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "recommend refresh" in result.stderr


def test_tune_write_keeps_comments_and_other_keys(tmp_path, tune_finds_better):
    cfg = tmp_path / "user.yaml"
    cfg.write_text("# mine\nblend:\n  # fewer\n  max_tracks: 30\n")
    result = run(["tune", "--dataset", str(FIXTURES / "tidy_small.csv"), "--folds", "2", "--write",
                  "--config", str(cfg)], {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    assert result.exit_code == 0, result.stderr
    text = cfg.read_text()
    assert text.startswith("# mine\nblend:\n  # fewer\n  max_tracks: 30\n")
    assert "scorers:" in text and "+scorers:" in result.stdout
    from recommender.config import load_settings
    assert load_settings(cfg, environ={}).blend.max_tracks == 30


def test_a_scorer_tune_turned_off_is_searched_again_and_one_you_turned_off_is_not(tmp_path):
    """tune searches only the scorers that are on: a `tune --write` that set one to 0 turned it
    off for good (a weekly `tune --write` turned scorers off one noisy week at a time, never back
    on). A scorer tune set to 0 is searched again while the file is as tune left it; once you
    edit the file or Save weights on the web app, its zeros are yours."""
    from recommender import jobs
    from recommender.config import load_settings
    cfg, cache = tmp_path / "user.yaml", tmp_path / "c"
    cfg.write_text("# mine\n")
    env = {"RECOMMENDER_CACHE_DIR": str(cache)}
    args = ["tune", "--dataset", str(FIXTURES / "tidy_small.csv"), "--folds", "1", "--config", str(cfg)]

    def write(weights, by_tune=True):  # as `tune --write` does (by_tune), or the web app's Save
        jobs.write_tuned_weights(load_settings(cfg, environ=env), weights, cfg, by_tune=by_tune)

    def again():
        out = json.loads(run([*args, "--json"], env).stdout)
        assert set(out["searched_again"]) <= set(out["best"]["weights"])
        return out["searched_again"], set(out["best"]["weights"])
    assert "content" in again()[1]
    write({"content": 0.0, "coverage": 0.0})
    assert again()[0] == ["content", "coverage"]
    said = run(args, {**env, "COLUMNS": "200"}).stdout
    assert "content and coverage at weight 0 since an earlier `recommend tune --write`: searched again (a scorer you " \
           "set to 0 yourself stays off)" in said
    write({"content": 0.5})
    assert again()[0] == ["coverage"]  # on again: no longer tune's to bring back
    cfg.write_text(cfg.read_text() + "# edited by hand\n")
    searched, names = again()
    assert searched == [] and "coverage" not in names  # your file now: its zeros are yours
    write({"year": 0.0})
    assert again()[0] == ["year"]
    write({"content": 0.0}, by_tune=False)  # a Save on the web app's Weights page turning content off, year at 0 on it
    searched, names = again()
    assert searched == [] and not {"year", "content"} & names  # a zero a Save wrote is yours too


@pytest.mark.parametrize("record", [5, ["content"], {"off": "content", "sha256": "SHA"},
                                    {"off": ["content", 3], "sha256": "SHA"}, {"off": ["content"]},
                                    {"off": ["content"], "sha256": 5}])
def test_a_damaged_record_of_what_tune_turned_off_is_no_record(tmp_path, record):
    """tune-off.json (in the data directory) damaged or edited by hand, a record of the wrong
    shape, counts no scorer as one tune turned off and stops nothing; the record as tune writes
    it does count."""
    import hashlib
    import os

    from recommender import jobs
    from recommender.config import load_settings
    cfg, cache = tmp_path / "user.yaml", tmp_path / "c"
    cfg.write_text("scorers:\n  content:\n    weight: 0\n")
    settings = load_settings(cfg, environ={"RECOMMENDER_CACHE_DIR": str(cache)})
    cache.mkdir()
    sha256 = hashlib.sha256(cfg.read_bytes()).hexdigest()

    def off_with(value) -> list[str]:
        (cache / jobs.TUNE_OFF).write_text(json.dumps({os.path.realpath(cfg): value, "other": 5}))
        return jobs.tuned_off(settings, cfg)
    assert off_with({"off": ["content"], "sha256": sha256}) == ["content"]
    assert off_with(json.loads(json.dumps(record).replace('"SHA"', json.dumps(sha256)))) == []


def test_without_a_cache_each_command_says_the_way_that_works_for_it(tmp_path):
    # `enrich genres` said "(or `recommend build-playlist --demo`)": the demo keeps its own cache,
    # enrich has no --demo, and the same error came back
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path)}
    enrich = run(["enrich", "genres"], env)
    assert enrich.exit_code == 2 and enrich.stderr.strip().endswith("run `recommend refresh` first"), enrich.stderr
    similar = run(["similar", "x"], env)
    assert similar.exit_code == 2 and similar.stderr.strip().endswith("run `recommend refresh` first (or add --demo)")


def test_unexpected_error_exits_1_with_one_line(monkeypatch, tmp_path):
    from recommender import jobs

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")
    monkeypatch.setattr(jobs, "refresh", boom)
    result = run(["refresh"], {"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert "unexpected error: RuntimeError: kaboom" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Traceback" in (tmp_path / "recommend.log").read_text()


def test_login_error_is_one_line_on_stderr(logged_in):
    server, env, _ = logged_in
    server.expire_access_tokens()
    server.revoke_refresh_tokens()
    result = run(["refresh"], env)
    assert result.exit_code == 3
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_nothing_to_recommend_exits_0_and_leaves_the_playlist(logged_in, tmp_path):
    server, env, _ = logged_in
    first = json.loads(run(["build-playlist", "--json"], env).stdout)
    before = server.playlist_track_ids(first["playlist_id"])
    cfg = tmp_path / "strict.yaml"  # block every artist: no candidate survives
    names = sorted({a["name"] for a in server.account.artists.values()})
    cfg.write_text("candidates:\n  blocklist_artists:\n" + "".join(f"    - {json.dumps(n)}\n" for n in names))
    server.clear_requests()
    result = run(["build-playlist", "--json", "--config", str(cfg)], env)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["reason"] and out["added"] == 0 and out["removed"] == 0
    assert [t["id"] for t in out["tracks"]] == before == server.playlist_track_ids(first["playlist_id"])
    assert [r for r in server.requests if r.method != "GET" and r.path.startswith("/v1/")] == []
    said = run(["build-playlist", "--config", str(cfg)], env).stdout
    assert said.startswith("No recommendations: ") and "The managed playlist was left as it is." in said


def test_nothing_to_recommend_before_any_playlist_says_none_was_made(logged_in, tmp_path):
    # "The managed playlist was left as it is" of an account that had none (status: "none yet")
    server, env, _ = logged_in
    cfg = tmp_path / "strict.yaml"
    names = sorted({a["name"] for a in server.account.artists.values()})
    cfg.write_text("candidates:\n  blocklist_artists:\n" + "".join(f"    - {json.dumps(n)}\n" for n in names))
    for args in (["build-playlist"], ["build-playlist", "--dry-run"]):
        result = run(args + ["--config", str(cfg)], {**env, "COLUMNS": "300"})
        assert result.exit_code == 0, result.stderr
        assert "left as it is" not in result.stdout, result.stdout
        assert "No playlist was made: there is nothing to put in it yet." in result.stdout, result.stdout


def test_a_playlist_with_fewer_new_tracks_than_new_share_asks_says_why(logged_in, tmp_path):
    """`candidates.new_share: 1` with every discovery source off said "0 of 23 tracks are new
    to you (candidates.new_share)" and no more: the line now says why, and --json has it."""
    server, env, _ = logged_in
    off = tmp_path / "off.yaml"
    off.write_text("candidates:\n  new_share: 1\ndiscovery:\n  enabled: false\nrefresh:\n  discovery_artists: 0\n")
    out = json.loads(run(["build-playlist", "--dry-run", "--json", "--config", str(off)], env).stdout)
    n = len(out["tracks"])
    assert n and not any(t["new"] for t in out["tracks"])
    assert out["new_short"] == (f"candidates.new_share 1 asks for {n}, but every discovery source is off "
                                "(discovery.enabled, refresh.discovery_artists)")
    text = run(["build-playlist", "--dry-run", "--config", str(off)], env | {"COLUMNS": "300"})
    assert f"0 of {n} tracks are new to you: candidates.new_share 1 asks for {n}, but every discovery" in text.stdout
    on = tmp_path / "on.yaml"  # the sources on, and nothing found (this account's artists have no other album)
    on.write_text("candidates:\n  new_share: 1\n")
    out = json.loads(run(["build-playlist", "--dry-run", "--json", "--config", str(on)], env).stdout)
    assert out["new_short"] == (f"candidates.new_share 1 asks for {n}, but no candidate is new to you "
                                "(`recommend status` says what the last discovery found)")
    # some new candidates, too few of them chosen (a demo run with the albums alone: 38 of 69)
    import pandas as pd

    from recommender.config import load_settings
    from recommender.jobs import new_short
    table = pd.DataFrame({"pinned": [True, False, False, False, False], "new": [False, True, False, False, False]})
    settings = load_settings(environ={}, overrides={"candidates.new_share": 0.5})
    assert new_short(table, 9, settings) == ("candidates.new_share 0.5 asks for 2, but only 1 of the 9 candidates new "
                                             "to you could take a place (a score above 0, within blend.max_per_artist; "
                                             "`recommend status` says what the last discovery found)")
    assert new_short(table.assign(new=[False, True, True, False, False]), 9, settings) == ""  # 2 of the 4 unpinned
    none = tmp_path / "none.yaml"  # no share asked: nothing to say
    none.write_text("candidates:\n  new_share: 0\n")
    assert json.loads(run(["build-playlist", "--dry-run", "--json", "--config", str(none)], env).stdout)["new_short"] == ""


def test_the_new_share_asks_for_whole_tracks_and_names_the_case_of_every_new_candidate_taken():
    """``candidates.new_share`` 0.07 of 100 tracks asks for 7 (the product is 7.000000000000001
    in floating point, and a ceiling of it asked for 8); when every new candidate took a place
    and they are still too few, the line says there are only that many, not that some could
    not take a place."""
    import pandas as pd

    from recommender.config import load_settings
    from recommender.jobs import new_short
    status = "(`recommend status` says what the last discovery found)"
    table = pd.DataFrame({"pinned": [False] * 100, "new": [True] * 7 + [False] * 93})
    assert new_short(table, 7, load_settings(environ={}, overrides={"candidates.new_share": 0.07})) == ""
    assert new_short(table, 7, load_settings(environ={}, overrides={"candidates.new_share": 0.08})) == (
        f"candidates.new_share 0.08 asks for 8, but only 7 candidates are new to you {status}")
    one = pd.DataFrame({"pinned": [False] * 4, "new": [True, False, False, False]})
    assert new_short(one, 1, load_settings(environ={}, overrides={"candidates.new_share": 0.5})) == (
        f"candidates.new_share 0.5 asks for 2, but only 1 candidate is new to you {status}")


def test_a_build_short_of_max_tracks_says_why_in_text_and_json(logged_in, tmp_path):
    """Weights tuned by hand or by tune --write can score lower overall: the playlist went
    from 50 to 24 tracks ("removed 26") with no word of blend.threshold or blend.max_per_artist."""
    server, env, _ = logged_in
    cfg = tmp_path / "strict.yaml"
    cfg.write_text("blend:\n  threshold: 0.6\n  min_tracks: 0\n  max_per_artist: 0\n")
    out = json.loads(run(["build-playlist", "--json", "--config", str(cfg)], env).stdout)
    assert out["short"].startswith(f"{len(out['tracks'])} of blend.max_tracks 50 places filled")
    assert "blend.threshold 0.6" in out["short"] and out["tracks"]
    text = run(["build-playlist", "--config", str(cfg)], env | {"COLUMNS": "200"})
    assert text.exit_code == 0 and out["short"].split(" (the best")[0] in text.stdout
    every = json.loads(run(["build-playlist", "--json"], env).stdout)  # every candidate chosen: nothing to say
    assert len(every["tracks"]) > len(out["tracks"]) and every["short"] == ""


def test_search_local_and_spotify(logged_in):
    server, env, _ = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    name = next(iter(server.account.tracks.values()))["name"]
    local = json.loads(run(["search", name, "--json"], env).stdout)
    assert local and local[0]["name"] == name
    both = run(["search", name, "--spotify", "--json", "-n", "20"], env)
    assert both.exit_code == 0, both.stderr
    searches = [r for r in server.requests if r.path == "/v1/search"]
    assert searches and all(int(r.query["limit"]) <= 10 for r in searches)


def test_build_playlist_says_how_much_of_the_walk_weight_it_used(logged_in):
    """artist_walk's weight shrinks with few playlists (m / (m + shrink)): the table's title and
    --json say by how much, so the nominal weight shown is not mistaken for the one used."""
    from recommender.store import Store
    server, env, cache = logged_in
    out = json.loads(run(["build-playlist", "--dry-run", "--json"], env).stdout)
    library = Store(cache).load_library()
    m = library.track_playlist_matrix(extra_sources=True)[0].shape[1]
    assert out["weights"]["artist_walk"] == 1.15
    assert out["weight_factors"] == {"artist_walk": round(m / (m + 50), 4)}
    table = run(["build-playlist", "--dry-run"], {**env, "COLUMNS": "200"})
    assert table.exit_code == 0, table.stderr
    assert f"artist_walk 1.15 x{m / (m + 50):.2f}" in " ".join(table.stdout.split())
    # the artist mix: --json gives each track's factor, the title how many it lowered
    lowered = sum(1 for t in out["tracks"] if t["artist_mix"] is not None and t["artist_mix"] < 1)
    assert all(t["artist_mix"] is None or 0 < t["artist_mix"] <= 1 for t in out["tracks"])
    assert lowered and f"the artist mix lowered {lowered} of the {len(out['tracks'])} scores (blend.artist_mix)" in " ".join(table.stdout.split())


def test_build_table_shows_a_dash_for_a_pinned_tracks_score(capsys):
    # Regression: pinned tracks are not scored (NaN) and their score printed as "nan".
    import math

    import pandas as pd

    from recommender.cli.build import _print_build
    from recommender.jobs import BuildResult
    table = pd.DataFrame({"rank": [1, 2], "track_id": ["t1", "t2"], "name": ["Kept", "Found"],
                          "artists": ["A", "B"], "score": [math.nan, 0.8], "contrib_content": [math.nan, 0.8],
                          "why": ["kept by you", "shares artist"], "pinned": [True, False],
                          "new": [False, True], "source": ["library", "catalogue"]})
    _print_build(BuildResult("pl1", True, table, 1, 0, 1, weights={"content": 1.0}), None)
    out = capsys.readouterr().out
    assert "Kept" in out and "0.800" in out
    assert "nan" not in out.lower()


def test_a_playlist_left_in_its_order_is_said_to_differ_from_the_tables(capsys):
    """A day's drift of the scores is not written (publish._drift_kept): the table listed the
    tracks in the new order while the playlist kept the old one, and nothing said so."""
    import pandas as pd

    from recommender.cli.build import _print_build
    from recommender.jobs import BuildResult
    table = pd.DataFrame({"rank": [1, 2], "track_id": ["t1", "t2"], "name": ["One", "Two"], "artists": ["A", "B"],
                          "artist_names": [["A"], ["B"]],
                          "score": [0.9, 0.8], "why": ["", ""], "new": [False, False], "source": ["library"] * 2})
    for kept in (True, False):
        result = BuildResult("pl1", False, table, 0, 0, 2, weights={"content": 1.0}, order_kept=kept)
        _print_build(result, None)
        out = " ".join(capsys.readouterr().out.split())
        assert ("kept 2 in the order it had (none of them is more than 2 places from its place in the table)"
                in out) is kept
        assert result.to_json()["order_kept"] is kept


def test_evaluate_title_keeps_each_number_beside_its_unit_at_every_width(tmp_path, monkeypatch):
    """`recommend evaluate`'s title wrapped "…; 0.2" and "s" onto two lines (seen at 120
    columns): a number stays on the line of what it counts, and no non-breaking space (the
    join) reaches the output."""
    from recommender import jobs
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path)}
    real, real_setup = jobs.evaluate, jobs.evaluation_setup
    kept, setups = [], []

    def once(*a, **kw):  # the real evaluation once, then its result at every width
        if not kept:
            kept.append(real(*a, **kw))
        return kept[0]

    def setup_once(*a, **kw):  # the dataset read once (two thirds of each width's time)
        if not setups:
            setups.append(real_setup(*a, **kw))
        return setups[0]
    monkeypatch.setattr(jobs, "evaluate", once)
    monkeypatch.setattr(jobs, "evaluation_setup", setup_once)
    args = ["evaluate", "--dataset", str(FIXTURES / "tidy_small.csv")]
    for width in range(40, 161):
        result = run(args, {**env, "COLUMNS": str(width)})
        assert result.exit_code == 0, result.stderr
        res = kept[0]
        lines = result.stdout.splitlines()
        assert "\u00a0" not in result.stdout
        assert any(line.rstrip().endswith(f"{res.seconds:.1f} s") for line in lines), (width, lines[:6])
        assert any(line.startswith(f"{res.targets} targets") for line in lines), (width, lines[:6])


def _lines_under_the_table(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.startswith("`recommend evaluate` gives")):]


def test_tunes_lines_after_its_table_fit_the_terminal(tmp_path):
    """`recommend tune`'s lines under its table ("`recommend evaluate` gives p@10 0.6667 with the
    best weights: ...", the note on the gain) ran 131 and 136 characters wide on a 120-column
    terminal; they now wrap to it, each number beside what it counts."""
    from rich.cells import cell_len
    result = run(["tune", "--dataset", str(FIXTURES / "tidy_small.csv"), "--folds", "2"],
                 {"RECOMMENDER_CACHE_DIR": str(tmp_path), "COLUMNS": "50"})
    assert result.exit_code == 0, result.stderr
    after = _lines_under_the_table(result.stdout)
    assert len(after) > 2 and all(cell_len(line) <= 50 for line in after), after
    assert any(re.search(r"p@10 \d\.\d{4}", line) for line in after), after


def test_tune_writes_line_fits_the_terminal_its_path_whole(tmp_path, tune_finds_better):
    """`tune --write`'s "weights written to FILE; `recommend tune --undo --config FILE` puts back
    what they were: ..." ran off a narrow terminal: it wraps, each path whole on its line."""
    from rich.cells import cell_len
    cfg = tmp_path / "user.yaml"
    cfg.write_text("blend:\n  max_tracks: 30\n")
    result = run(["tune", "--dataset", str(FIXTURES / "tidy_small.csv"), "--folds", "2", "--write",
                  "--config", str(cfg)], {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c"), "COLUMNS": "60"})
    assert result.exit_code == 0, result.stderr
    after = _lines_under_the_table(result.stdout)
    start = next(i for i, line in enumerate(after) if line.startswith("weights written to"))
    written = after[start:]
    whole = [f"{cfg};", f"`recommend tune --undo --config {cfg}`"]  # each on a line of its own, to copy
    assert [line for line in written if str(cfg) in line] == whole, written
    assert all(cell_len(line) <= 60 for line in written if line not in whole), written


def test_status_says_what_it_found_damaged(logged_in):
    """A manifest lost with its backup, or a damaged genres file: `status` showed "playlist: none
    yet" and "genres: 0 of 877 artists" unexplained (the runs said it: the next build-playlist,
    `enrich genres`)."""
    from recommender.config import load_settings
    from recommender.jobs import open_store
    server, env, cache = logged_in
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    store = open_store(load_settings(environ=env))
    genres = store.frame_path("artist_genres")
    genres.write_bytes(b"PAR1 not a parquet file")
    out = json.loads(run(["status", "--json", "--offline"], env).stdout)
    assert [w for w in out["warnings"] if f"{genres}: unreadable cache file" in w], out["warnings"]
    store.manifest_path.write_text("{")
    store.backup_path.write_text("{")
    result = run(["status", "--offline"], env)
    assert result.exit_code == 0
    said = " ".join(result.stdout.split())
    assert "warning: " + f"{store.manifest_path}: unreadable (" in said
    assert "manifest and no readable backup; the cache will be rebuilt" in said


def test_a_track_that_made_room_for_a_pin_is_named_under_the_table_not_in_a_note(logged_in, tmp_path):
    from recommender import jobs
    from recommender.config import load_settings
    server, env, cache = logged_in
    config = tmp_path / "config.yaml"
    config.write_text("blend:\n  max_per_artist: 1\n")
    first = json.loads(run(["build-playlist", "--json", "--config", str(config)], env).stdout)
    settings = load_settings(config, environ=env)
    tracks = jobs.open_store(settings).load_library().tracks
    first_artist = {str(t): str(a[0]) for t, a in zip(tracks["track_id"], tracks["artist_names"]) if len(a)}
    chosen = [t["id"] for t in first["tracks"]]
    pick, pin = next((a, b) for a in chosen for b in first_artist
                     if b not in chosen and b != a and first_artist[b] == first_artist.get(a))
    jobs.steer(settings, pin=[pin])
    result = run(["build-playlist", "--dry-run", "--config", str(config)], {**env, "COLUMNS": "200"})
    assert result.exit_code == 0 and "made room" not in result.stderr, result.stderr
    said = " ".join(result.stdout.split())
    assert "1 track made room for a pinned track of the same artist (blend.max_per_artist caps the tracks per " \
           "artist): " in said, said


def test_evaluate_says_an_audio_weight_changes_nothing_without_audio_features(logged_in, tmp_path):
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    config = tmp_path / "config.yaml"
    config.write_text("scorers:\n  audio:\n    weight: 0.5\nevaluate:\n  min_tracks: 3\n")  # (a small account)
    result = run(["evaluate", "--config", str(config)], {**env, "COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "audio has a weight, but no track has audio features to score by" in " ".join(result.stdout.split())


def test_json_rows_give_each_artist_whole_where_a_name_holds_a_comma(logged_in):
    """`artists` is one comma-joined string ("Earth, Wind & Fire, Other" is two artists or
    three): every --json row with it also has `artist_names`, one name each."""
    server, env, _ = logged_in
    aid = next(iter(server.account.artists))
    server.account.artists[aid]["name"] = "Earth, Wind & Fire"
    built = run(["build-playlist", "--dry-run", "--json", "--refresh"], env)
    assert built.exit_code == 0, built.stderr
    tracks = json.loads(built.stdout)["tracks"]
    assert all(", ".join(t["artist_names"]) == t["artists"] for t in tracks)
    found = json.loads(run(["search", "earth wind fire", "--json"], env).stdout)
    assert found and found[0]["artist_names"][0] == "Earth, Wind & Fire", found[0]
    assert all(", ".join(r["artist_names"]) == r["artists"] for r in found)
    similar = json.loads(run(["similar", found[0]["track_id"], "--json"], env).stdout)
    assert similar and all(", ".join(r["artist_names"]) == r["artists"] for r in similar)
    assert "Earth, Wind & Fire" in [a for r in tracks + similar for a in r["artist_names"]]


def test_similar_json_gives_each_rows_shares_as_build_playlists_contributions(logged_in):
    """A script reading build-playlist's `contributions` found no such object in `similar
    --json` (its shares were flat keys beside name and why): each row has it now, the same
    scorers as build-playlist's, adding up to the row's score; the flat keys stay."""
    server, env, _ = logged_in
    built = run(["build-playlist", "--dry-run", "--json", "--refresh"], env)
    assert built.exit_code == 0, built.stderr
    first = json.loads(built.stdout)["tracks"][0]
    done = run(["similar", first["track_id"], "--json"], env)
    assert done.exit_code == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows
    for r in rows:
        shares = r["contributions"]
        assert set(first["contributions"]) <= set(shares)
        assert all(r[k] == v for k, v in shares.items())  # the flat keys, as before
        assert sum(v for v in shares.values() if v is not None) == pytest.approx(r["score"], abs=0.002)


@pytest.mark.parametrize("quiet", [False, True])
def test_refresh_says_a_service_down_as_build_playlist_does(logged_in, tmp_path, quiet):
    """`refresh --quiet` printed a service that was down as a `warning:` line, which --quiet
    does not print (README: only errors and `note:` lines), where build-playlist prints the same
    line as a `note:`; both print it as a note now, with or without --quiet."""
    import socket
    _, env, _ = logged_in
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{s.getsockname()[1]}/ws/2/"  # nothing listens there
    config = tmp_path / "user.yaml"
    config.write_text("enrich:\n  max_retries: 1\n  max_retry_wait: 0.01\n")
    env = {**env, "RECOMMENDER_MUSICBRAINZ_URL": down}
    said = {}
    for command in (["refresh"], ["build-playlist", "--refresh"]):
        result = run([*command, "--config", str(config), *(["--quiet"] if quiet else [])], env)
        assert result.exit_code == 0, result.stderr
        said[command[0]] = [line.split(" ", 1)[0] for line in result.stderr.splitlines() if "MusicBrainz" in line]
    assert said["refresh"] == said["build-playlist"] == ["note:"], said


def test_a_refresh_stopped_says_what_the_cache_holds(logged_in, monkeypatch):
    """A refresh stopped with Ctrl-C (or SIGTERM) said "interrupted" alone, where one stopped by
    the quota says what the cache still holds; a stop says it too now."""
    from recommender.spotify import sync
    _, env, _ = logged_in
    real = sync.refresh_library

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt()
    monkeypatch.setattr(sync, "refresh_library", stopped)
    first = run(["refresh"], env)
    assert first.exit_code == 130 and first.stderr.strip() == "interrupted: the cache is still empty", first.stderr
    monkeypatch.setattr(sync, "refresh_library", real)
    assert run(["refresh", "--quiet"], env).exit_code == 0
    monkeypatch.setattr(sync, "refresh_library", stopped)
    again = run(["refresh"], env)
    assert again.exit_code == 130
    assert re.match(r"interrupted: the cache holds the last complete refresh \(20\d\d-\d\d-\d\d \d\d:\d\d UTC\)",
                    again.stderr), again.stderr
    # stopped in the discovery after the pull (the exit-143 run said "terminated" alone): the pull
    # is kept, and the next run finishes the discovery
    from recommender.sources import run as sources_run
    monkeypatch.setattr(sync, "refresh_library", real)
    monkeypatch.setattr(sources_run, "discover_open_data", stopped)
    late = run(["refresh"], env)
    assert late.exit_code == 130
    assert re.match(r"interrupted: stopped during the discovery: the cache holds this refresh's pull \(20\d\d-\d\d-"
                    r"\d\d \d\d:\d\d UTC\), the answers so far kept; the next run finishes the discovery", late.stderr), \
        late.stderr


def test_status_counts_a_track_two_discovery_sources_found_once():
    """The demo's refresh said "88 new from discovery albums, 222 from open data" (310) and
    `status` "found 316 tracks new to you": six tracks found by similar artists and by similar
    tracks were counted twice in the total."""
    from recommender.status import discovery_lines
    assert run(["build-playlist", "--demo", "--quiet"], {}).exit_code == 0
    d = json.loads(run(["status", "--demo", "--json"], {}).stdout)["discovery"]
    by_source = sum(d["tracks"].values())
    assert 0 < d["new_tracks"] < by_source  # the sample's sources do overlap
    said = " ".join(run(["status", "--demo"], {}).stdout.split())
    assert f"found {d['new_tracks']} tracks new to you ({d['tracks']['albums']} from albums" in said
    assert "; some found by two)" in said
    # a record an older version wrote, without the total: the sum, as it said then
    (line,) = discovery_lines({**d, "new_tracks": None, "warnings": []})
    assert f"found {by_source} tracks new to you" in line and "some found by two" not in line


def test_the_discovery_line_of_status_says_what_each_source_that_was_on_found():
    from recommender.status import discovery_lines
    d = {"when": None, "sources": {"albums": True, "similar_artists": False, "similar_recordings": True},
         "tracks": {"albums": 3, "similar_recordings": 1}, "new_tracks": 4, "requests": 1, "cached_answers": 0,
         "warnings": ["labs answered 503"]}
    assert discovery_lines(d) == [
        "discovery: the last refresh found 4 tracks new to you (3 from albums of your artists, 1 similar to your tracks) "
        "with 1 request; `recommend web`'s Discovery page shows more",
        "note:     the last discovery: labs answered 503"]
    nothing = {**d, "tracks": {"albums": 0}, "new_tracks": 0, "requests": 2, "cached_answers": 5, "warnings": []}
    assert discovery_lines(nothing) == [
        "discovery: the last refresh found 0 tracks new to you with 2 requests and 5 answers kept from earlier runs; "
        "`recommend web`'s Discovery page shows more"]
    off = {**d, "sources": dict.fromkeys(d["sources"], False)}
    assert discovery_lines(off) == ["discovery: off at the last refresh (discovery.enabled, refresh.discovery_artists)"]


def test_a_run_that_ends_while_status_reads_the_library_is_not_said_to_have_stopped(logged_in, monkeypatch):
    """`recommend status` read the manifest, then the library (seconds, for a big one), then who
    holds the run lock. A build that ended in between had left its marks in the manifest read
    first (its discovery under way, its write of the playlist begun) and no holder by the time
    the lock was read: status said the refresh was stopped during its discovery and that the
    playlist's last write did not finish, of a run that had just ended well."""
    from recommender.lock import lock_path
    from recommender.store import DISCOVERING, Store
    server, env, cache = logged_in
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    store = Store(cache)
    managed = store.read_manifest()["managed_playlist"]
    lock = RunLock(lock_path(cache), command="build-playlist").acquire()  # a cron run, in its discovery and write
    store.update_manifest(**{DISCOVERING: True, "managed_playlist": {**managed, "pending": managed["last_written"]}})
    real = Store.load_library

    def the_run_ends_meanwhile(self):
        library = real(self)
        Store(cache).update_manifest(**{DISCOVERING: None, "managed_playlist": managed})
        lock.release()
        return library
    monkeypatch.setattr(Store, "load_library", the_run_ends_meanwhile)
    out = json.loads(run(["status", "--offline", "--json"], env).stdout)
    assert out["running"] is None and out["cache"]["discovery_unfinished"] is False
    assert out["playlist"]["unfinished"] is False


def test_why_of_an_artists_name_answers_of_its_best_placed_track_and_a_shared_title_names_the_others():
    # "--why metallica" answered of whichever Metallica track the search listed first, and "--why
    # Linger" of one of two songs of that name without a word of the other
    plan = json.loads(run(["build-playlist", "--demo", "--dry-run", "--json"], {}).stdout)["tracks"]
    ranks = [t["rank"] for t in ({**t, "rank": i} for i, t in enumerate(plan, 1)) if "The Cranberries" in t["artist_names"]]
    e = json.loads(run(["build-playlist", "--demo", "--why", "the cranberries", "--json"], {}).stdout)
    assert e["artist"]["name"] == "The Cranberries" and e["artist"]["tracks"] > len(ranks) > 1
    assert (e["verdict"], e["rank"], e["also_matches"]) == ("on_playlist", min(ranks), []), e
    text = run(["build-playlist", "--demo", "--why", "the cranberries"], {})
    assert f"the best placed of {e['artist']['tracks']}\u00a0tracks by The Cranberries: on the next playlist at " \
           f"{min(ranks)} of " in text.stdout.replace("\n", " "), text.stdout
    e = json.loads(run(["build-playlist", "--demo", "--why", "Linger", "--json"], {}).stdout)
    assert (e["name"], e["artist"], e["also_matches"]) == ("Linger", None, ["Linger - Acoustic Version - The Cranberries"])
    said = run(["build-playlist", "--demo", "--why", "Linger"], {})
    assert "note: 1 other song matches 'Linger' as well ('Linger - Acoustic Version - The Cranberries'): give the " \
           "id of one (`recommend search Linger --demo` lists them) to ask about it" in " ".join(said.stderr.split())


def test_why_of_words_builds_one_search_index_and_of_an_id_none(monkeypatch):
    # "--why Linger" fitted the search index over the library twice: for the best hit, then
    # for the songs that match as well
    from recommender.explore import TrackIndex
    fits = []
    real = TrackIndex.fit

    def counted(self, library):
        fits.append(len(library.track_ids))
        return real(self, library)
    monkeypatch.setattr(TrackIndex, "fit", counted)
    e = json.loads(run(["build-playlist", "--demo", "--why", "Linger", "--json"], {}).stdout)
    assert e["also_matches"] == ["Linger - Acoustic Version - The Cranberries"] and len(fits) == 1, fits
    fits.clear()
    e = json.loads(run(["build-playlist", "--demo", "--why", e["track_id"], "--json"], {}).stdout)
    assert e["name"] == "Linger" and e["also_matches"] == [] and fits == []


def test_a_dry_runs_removed_tracks_are_counted_by_what_keeps_each_off_as_why_says(logged_in, tmp_path):
    server, env, cache = logged_in
    first = json.loads(run(["build-playlist", "--json"], env).stdout)
    shorter = tmp_path / "three.yaml"
    shorter.write_text("blend:\n  max_tracks: 3\n  min_tracks: 3\n")
    dry = json.loads(run(["build-playlist", "--dry-run", "--json", "-c", str(shorter)], env).stdout)
    removed, why = dry["diff"]["removed"], dry["diff"]["why_removed"]
    assert len(removed) == len(first["tracks"]) - 3 and set(why) == set(removed) - set(dry["diff"]["gave_way"])
    for t in removed[:3]:  # each the verdict and reason --why gives that track, from the same run
        e = json.loads(run(["build-playlist", "--why", t, "--json", "-c", str(shorter)], env).stdout)
        assert why[t] == {"verdict": e["verdict"], "reason": e["reason"]}, (t, e)
    from collections import Counter
    from recommender.pipeline import LEFT_OUT_WORDS
    counts = Counter(v["verdict"] for v in why.values())
    text = run(["build-playlist", "--dry-run", "-c", str(shorter)], env).stdout.replace("\n", " ")
    said = ", ".join(f"{n} {LEFT_OUT_WORDS[v]}" for v, n in sorted(counts.items(), key=lambda c: (-c[1], c[0])))
    assert f"would remove {len(removed)} ({said}; --why TRACK says more): " in text, text
    assert server.playlist_track_ids(first["playlist_id"]) == [t["track_id"] for t in first["tracks"]]


def test_why_says_where_a_track_is_or_which_rule_keeps_it_out_and_writes_nothing(logged_in, tmp_path):
    from recommender.config import load_settings
    from recommender.jobs import open_store
    server, env, cache = logged_in
    first = json.loads(run(["build-playlist", "--json"], env).stdout)
    pid = first["playlist_id"]
    written = server.playlist_track_ids(pid)
    top = first["tracks"][0]
    e = json.loads(run(["build-playlist", "--why", top["track_id"], "--json"], env).stdout)
    assert (e["verdict"], e["rank"], e["why"], e["new"]) == ("on_playlist", 1, top["why"], top["new"]), e
    assert sum(e["contributions"].values()) == pytest.approx(e["score"], abs=1e-4)
    library = open_store(load_settings(environ=env)).load_library()
    seed = str(library.frames["top_tracks"]["track_id"].iloc[0])
    said = run(["build-playlist", "--why", seed], env)
    assert said.exit_code == 0 and said.stdout.count("\n") == 1, said.stdout  # one line: no table, no diff
    assert ": not on the next playlist: one of your seeds" in said.stdout
    shorter = tmp_path / "three.yaml"  # the small account's candidates all fit in a playlist of 10
    shorter.write_text("blend:\n  max_tracks: 3\n  min_tracks: 3\n")
    left = first["tracks"][-1]["track_id"]
    e = json.loads(run(["build-playlist", "--why", left, "--json", "-c", str(shorter)], env).stdout)
    assert not e["on_playlist"] and e["verdict"] in ("below_threshold", "artist_cap", "made_room", "outranked"), e
    assert re.search(r"blend\.\w+|candidates\.new_share", e["reason"]), e["reason"]  # the setting that decided
    text = run(["build-playlist", "--why", left, "-c", str(shorter)], env).stdout
    assert "not on the next playlist: " in text and "each scorer's share: " in text and "\n  why: " in text
    assert server.playlist_track_ids(pid) == written  # a dry run: nothing written
    refused = run(["build-playlist", "--why", top["track_id"], "--new-playlist"], env)
    assert refused.exit_code == 2 and "--why" in refused.stderr
    unknown = run(["build-playlist", "--why", "zzqx qxzz"], env)
    assert unknown.exit_code == 2 and "no track in " in unknown.stderr and "'zzqx qxzz'" in unknown.stderr


def test_the_playlists_listing_counts_the_cached_tracks_of_a_playlist_without_a_total(tmp_path):
    """A playlist is listed with the number of its tracks the cache holds, 0 for none, whether
    its listing had a total (kept beside, as ``total``) or none (None, or NaN once read from the
    cache: ``total`` None)."""
    import numpy as np
    import pandas as pd

    from recommender import jobs
    from recommender.config import load_settings
    from test_evaluate import themed_library
    lib = themed_library()
    empty = pd.DataFrame([{**lib.playlists.iloc[0].to_dict(), "playlist_id": "empty", "name": "zz empty"}])
    playlists = pd.concat([lib.playlists, empty], ignore_index=True)
    playlists["total"] = [None, np.nan, 40] + [None] * (len(playlists) - 3)
    rows = {r["id"]: (r["tracks"], r["total"]) for r in jobs.playlist_rows(load_settings(environ={}, overrides={
        "cache.dir": str(tmp_path)}), lib.replace(playlists=playlists))}
    held = lib.playlist_items.groupby("playlist_id").size()
    assert (rows["p0"], rows["p1"], rows["p2"], rows["empty"]) == (
        (held["p0"], None), (held["p1"], None), (held["p2"], 40), (0, None))
