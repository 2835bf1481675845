"""runlog: logging setup and redaction, runs.jsonl; status (what `recommend status` puts together)."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import sys
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from recommender import runlog
from recommender import status as statusinfo
from recommender.library import Library
from recommender.lock import RunLock, lock_path

ACCESS = "BQD" + "x1Y2z3" * 30                     # 183 chars, shaped like a Spotify token
REFRESH = "AQC" + "r9S8t7" * 22
SECRET = "0123456789abcdef0123456789abcdef"      # a client secret is 32 hex chars
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def logs(tmp_path):
    """setup_logging into tmp_path; handlers removed afterwards."""
    saved = logging.getLogger().level
    yield tmp_path
    runlog.teardown_logging()
    logging.getLogger().setLevel(saved)


# ----- redaction ----------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    f"Authorization: Bearer {ACCESS}",
    f"headers={{'Authorization': 'Basic {SECRET}'}}",
    f'token response {{"access_token": "{ACCESS}", "token_type": "Bearer", "refresh_token": "{REFRESH}"}}',
    "{'access_token': 'short-but-secret', 'expires_in': 3600}",
    "POST /api/token grant_type=refresh_token&refresh_token=abcdEFGH1234&client_secret=s3cr3tValue",
    "callback http://127.0.0.1:8888/callback?code=AQBshortcode&state=xyz",
    "code_verifier=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    f"unlabelled token {ACCESS} in an error text",
])
def test_redact_removes_tokens_and_secrets(text):
    out = runlog.redact(text, secrets=[SECRET])
    for secret in (ACCESS, REFRESH, SECRET, "short-but-secret", "abcdEFGH1234", "s3cr3tValue",
                   "AQBshortcode", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"):
        assert secret not in out
    assert "***" in out


def test_redact_keeps_ordinary_text():
    text = "fetched 120 tracks for playlist 37i9dQZF1DXcBWIGoYBM5M in 3.2 s (expires_in=3600)"
    assert runlog.redact(text) == text
    # a ListenBrainz algorithm's name is 90 characters a token may hold, words joined by "_": an
    # unknown one's message (which the CLI's lines redact too) said it was '***'
    from recommender.config import load_settings
    for name in ("similar_artists_algorithm", "similar_recordings_algorithm"):
        algorithm = load_settings(environ={}).listenbrainz[name] + "_typo"
        said = f"ListenBrainz labs does not know the algorithm {algorithm!r} (listenbrainz.{name})"
        assert len(algorithm) >= 80 and runlog.redact(said) == said
    # names that begin like an Authorization header's scheme stay (every printed line is redacted)
    for name in ("name: Basic Beats", "Bearer of Bad News - The Band", "basic instinct mix"):
        assert runlog.redact(name) == name
    assert runlog.redact("bad auth Basic YW55OkNTRUNSRVRlbnZZWVkxMTEyMjI=") == "bad auth Basic ***"
    underscored = "_".join(ACCESS[i:i + 30] for i in range(0, len(ACCESS), 30))  # a token's few "_"
    assert runlog.redact(f"echoed {underscored}") == "echoed ***"
    # a name of 80 letters and more with no space: no token has no digit (it was shown as '***')
    for name in ("Aaaaaaah" + "a" * 90, "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch" * 2):
        said = f"choose among: '{name}', 'Road Trip'"
        assert runlog.redact(said) == said


def test_log_file_never_contains_tokens(logs):
    path = runlog.setup_logging(logs, "recommend.log", 1_000_000, 3, quiet=True, verbose=True,
                                secrets=[SECRET])
    logger = logging.getLogger("recommender.spotify.auth")
    logger.debug("token %s", {"access_token": ACCESS, "refresh_token": REFRESH})
    logger.info("client secret is %s", SECRET)
    try:
        raise RuntimeError(f"refresh failed for Bearer {ACCESS}")
    except RuntimeError:
        logger.exception("refresh failed")
    runlog.teardown_logging()
    text = path.read_text()
    assert "refresh failed" in text and "RuntimeError" in text and "Traceback" in text
    for secret in (ACCESS, REFRESH, SECRET):
        assert secret not in text


def test_a_password_in_a_services_address_is_in_no_log_line_or_run_record(logs):
    """An address holding a password (spotify.api_url, a ListenBrainz mirror or a proxy behind basic
    auth, ``http://bob:pw@host``) was written whole into recommend.log, runs.jsonl and the error line,
    each message naming the address it failed on; the password is now ***, the rest of it kept."""
    url = "http://bob:hunter2pw@127.0.0.1:1/v1/"
    said = f"Spotify is unavailable (ConnectionError on GET me, 5 attempts) at {url} (spotify.api_url); try again later"
    assert runlog.redact(said) == said.replace("hunter2pw", "***")
    assert runlog.redact("proxy HTTPS://u%40x:p%3Ass@proxy.lan:3128 refused") == "proxy HTTPS://u%40x:***@proxy.lan:3128 refused"
    for kept in ("Spotify at http://127.0.0.1:8765/v1/ (spotify.api_url)", "mail me: bob:x@example.org",
                 "http://127.0.0.1:8765/v1/search?q=artist:Queen@home", "track 'ratio 3:4@night'"):
        assert runlog.redact(kept) == kept
    path = runlog.setup_logging(logs, "recommend.log", 1_000_000, 3, quiet=True)
    logging.getLogger("recommender.test").warning("Spotify at %s did not answer", url)
    runlog.append_run(logs, {"command": "build-playlist", "exit_code": 5, "message": said})
    runlog.teardown_logging()
    for text in (path.read_text(), runlog.runs_path(logs).read_text()):
        assert "hunter2pw" not in text and "http://bob:***@127.0.0.1:1/v1/" in text


# ----- setup_logging ------------------------------------------------------------------------
def test_setup_logging_file_and_stderr_levels(logs, capsys):
    path = runlog.setup_logging(logs, "recommend.log", 1_000_000, 3, quiet=False, verbose=False)
    assert path == logs / "recommend.log"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    log = logging.getLogger("recommender.test")
    log.debug("debug line")
    log.info("info line")
    log.warning("warning line")
    err = capsys.readouterr().err
    assert "warning line" in err and "info line" not in err
    text = path.read_text()
    assert "info line" in text and "warning line" in text and "debug line" not in text


def test_a_warning_is_said_once_on_stderr_per_command_and_kept_each_time_in_the_file(logs, capsys):
    """`build-playlist --demo` logs in and builds in one command: a damaged manifest, read by the
    login's store and then by the build's, printed the same warning twice."""
    path = runlog.setup_logging(logs, "recommend.log", 1_000_000, 3, quiet=False, verbose=True)
    log = logging.getLogger("recommender.test")
    for _ in range(2):
        log.warning("manifest.json was unreadable")
        log.info("GET /me 200")
    err = capsys.readouterr().err
    assert err.count("manifest.json was unreadable") == 1
    assert err.count("GET /me 200") == 2  # -v's trace keeps every line
    assert path.read_text().count("manifest.json was unreadable") == 2
    runlog.setup_logging(logs, "recommend.log", 1_000_000, 3, quiet=False, verbose=False)  # the next command
    log.warning("manifest.json was unreadable")
    assert capsys.readouterr().err.count("manifest.json was unreadable") == 1


def test_quiet_writes_nothing_to_stderr_but_still_logs_to_file(logs, capsys):
    path = runlog.setup_logging(logs, "recommend.log", 1_000_000, 3, quiet=True, verbose=False)
    logging.getLogger("recommender.test").error("something failed")
    assert capsys.readouterr().err == ""
    assert "something failed" in path.read_text()


def test_setup_twice_does_not_duplicate_lines(logs):
    runlog.setup_logging(logs, "recommend.log", 1_000_000, 3, quiet=True, verbose=False)
    path = runlog.setup_logging(logs, "recommend.log", 1_000_000, 3, quiet=True, verbose=False)
    logging.getLogger("recommender.test").info("once")
    assert path.read_text().count("once") == 1


def test_log_rotates(logs):
    path = runlog.setup_logging(logs, "sub/r.log", 2000, 2, quiet=True, verbose=False)
    for i in range(200):
        logging.getLogger("recommender.test").info("line %d %s", i, "x" * 40)
    runlog.teardown_logging()
    assert path.exists() and (logs / "sub" / "r.log.1").exists() and (logs / "sub" / "r.log.2").exists()
    assert not (logs / "sub" / "r.log.3").exists()
    assert path.stat().st_size <= 2000


@pytest.mark.parametrize("backups", [2, 0])
def test_a_log_whose_rotation_is_refused_keeps_every_line_and_says_so_once(logs, monkeypatch, capsys, backups):
    """A log in a folder the user may write the file in but not rename in (`schedule.log_file` under
    /var/log, a file made append-only): past log_max_bytes every line was lost and each printed a
    40-line "--- Logging error ---" traceback on stderr, cron's mail (seven in one demo run). Each
    line is now written on, and one warning says the log cannot rotate."""
    import logging.handlers

    def refused(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(logging.handlers.RotatingFileHandler, "rotate", refused)
    real_open = os.open
    monkeypatch.setattr(runlog.os, "open", lambda path, flags, *a: refused() if flags & os.O_TRUNC else real_open(path, flags, *a))
    path = runlog.setup_logging(logs, "r.log", 300, backups, quiet=False, verbose=False)
    for i in range(20):
        logging.getLogger("recommender.test").warning("line %d %s", i, "x" * 40)
    runlog.teardown_logging()
    err, text = capsys.readouterr().err, path.read_text()
    assert "Logging error" not in err and "Traceback" not in err
    assert all(f"line {i} " in text for i in range(20))
    said = [line for line in err.splitlines() if "cannot rotate" in line]
    assert said == [f"warning: cannot rotate the log {path} (Operation not permitted): it grows past "
                    "schedule.log_max_bytes (300 bytes) until it can: let its folder be written, or set schedule.log_file "
                    "to a file in a folder of yours"]
    assert text.count("cannot rotate the log") == 1


def _record(text: str) -> logging.LogRecord:
    return logging.LogRecord("recommender.test", logging.INFO, __file__, 1, text, None, None)


def test_a_log_renamed_by_logrotate_is_followed(tmp_path):
    """logrotate (its default `create` mode) renames recommend.log and makes a new one; a process
    that keeps running (`recommend web`, a long build) went on writing into the renamed file,
    which logrotate then compresses or deletes: its lines were lost. Each record now goes to the
    file the path names; a file truncated in place (`copytruncate`) is written from its new end."""
    path = tmp_path / "recommend.log"
    handler = runlog._file_handler(path, 1_000_000, 3, verbose=False)
    try:
        handler.handle(_record("before the rotation"))
        path.rename(tmp_path / "recommend.log.1")
        path.write_text("")
        handler.handle(_record("after the rotation"))
        (tmp_path / "recommend.log.1").unlink()  # compressed away
        path.rename(tmp_path / "moved")  # renamed and no new file made (`nocreate`)
        handler.handle(_record("with no file there"))
        assert "with no file there" in path.read_text() and stat.S_IMODE(path.stat().st_mode) == 0o600
        with path.open("r+") as fh:
            fh.truncate(0)  # copytruncate
        handler.handle(_record("after the truncation"))
    finally:
        handler.close()
    assert "after the rotation" in (tmp_path / "moved").read_text()
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and lines[0].endswith("after the truncation")  # no NUL bytes before it


def test_a_rotation_by_another_run_is_followed_not_repeated(tmp_path):
    """Two runs write the log at once (a scheduled one and one by hand that the lock refuses,
    `status`, `recommend web`). When one rotated it, the other kept writing into the renamed
    file and, finding it full, rotated again: the oldest backup was dropped a rotation early,
    and under load records were lost (and tracebacks printed) as both renamed the same files.
    The other now follows the new file, and a rotation is made by one process at a time."""
    path = tmp_path / "recommend.log"
    path.write_text("old\n" * 200)  # 800 bytes: the next record rotates it
    (tmp_path / "recommend.log.1").write_text("history 1\n")
    (tmp_path / "recommend.log.2").write_text("history 2\n")
    first = runlog._file_handler(path, 1000, 3, verbose=False)
    second = runlog._file_handler(path, 1000, 3, verbose=False)
    try:
        first.handle(_record("first run " + "x" * 300))
        second.handle(_record("second run " + "y" * 300))
    finally:
        first.close()
        second.close()
    assert "first run" in path.read_text() and "second run" in path.read_text()
    assert (tmp_path / "recommend.log.1").read_text() == "old\n" * 200
    assert (tmp_path / "recommend.log.2").read_text() == "history 1\n"
    assert (tmp_path / "recommend.log.3").read_text() == "history 2\n"


# ----- runs.jsonl ---------------------------------------------------------------------------
def test_append_and_read_runs_newest_first(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="recommender.runlog"):
        first = runlog.append_run(tmp_path, {"command": "build-playlist", "exit_code": 0, "added": 5,
                                             "removed": 3, "kept": 42, "playlist_id": "PL1",
                                             "duration_s": 12.34567, "requests": 57, "message": "ok"})
        runlog.append_run(tmp_path, {"command": "refresh", "exit_code": 4, "message": "rate limited",
                                     "duration": 2.5, "tracks": 900})
    lines = (tmp_path / "runs.jsonl").read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0]) == first
    assert set(runlog.RUN_FIELDS) <= set(first)
    assert first["duration_s"] == 12.346 and first["when"]
    from recommender import __version__
    assert first["version"] == __version__  # which release wrote it (an upgrade's trouble, traced)
    runs = runlog.read_runs(tmp_path)
    assert [r["command"] for r in runs] == ["refresh", "build-playlist"]
    assert runs[0]["added"] is None
    assert runs[0]["duration_s"] == 2.5 and "duration" not in runs[0] and runs[0]["tracks"] == 900
    summary = [r.getMessage() for r in caplog.records if "run summary" in r.getMessage()]
    when = datetime.fromisoformat(first["when"]).strftime("%Y-%m-%d %H:%M")
    assert summary[0] == (f"run summary: {when} UTC build-playlist exit 0 in 12.3 s, playlist PL1 +5 -3 =42, "
                          "57 requests: ok")


def test_a_run_records_whether_our_schedule_started_it(tmp_path, monkeypatch):
    """runs.jsonl did not say which runs cron started, so `recommend status` took a run by hand
    for the scheduled one. Our line and unit now set RECOMMENDER_TRIGGER=schedule, and every
    record says ``trigger``: "schedule" for those runs, "manual" for every other."""
    by_hand = runlog.append_run(tmp_path, {"command": "build-playlist", "exit_code": 0})
    monkeypatch.setenv(runlog.TRIGGER_VAR, "schedule")
    scheduled = runlog.append_run(tmp_path, {"command": "build-playlist", "exit_code": 3})
    assert (by_hand["trigger"], scheduled["trigger"]) == ("manual", "schedule")
    assert [r["trigger"] for r in runlog.read_runs(tmp_path)] == ["schedule", "manual"]
    assert " build-playlist (scheduled) exit 3" in runlog.describe_run(scheduled)
    assert "(scheduled)" not in runlog.describe_run(by_hand)
    monkeypatch.setenv(runlog.TRIGGER_VAR, "yes")  # only our value marks a run
    assert runlog.run_trigger() == "manual"


def test_describe_run_shows_the_time_and_marks_dry_runs():
    run = {"when": "2026-03-01T07:00:05+00:00", "command": "build-playlist", "exit_code": 0, "dry_run": True,
           "added": 2, "removed": 0, "kept": 3}
    assert runlog.describe_run(run).startswith("2026-03-01 07:00 UTC build-playlist (dry run) exit 0")
    assert "(dry run)" not in runlog.describe_run({**run, "dry_run": False})
    # a run for a seed playlist says so: its playlist is that playlist's continuation, not your taste's
    seeded = runlog.describe_run({**run, "seed_playlist": "Road Trip"})
    assert seeded.startswith("2026-03-01 07:00 UTC build-playlist --seed-playlist 'Road Trip' (dry run) exit 0"), seeded


@pytest.mark.parametrize("run, line", [
    ({"command": "moods export", "exit_code": 0, "duration_s": 1.5, "playlists": ["a", "b", "c"], "added": 5,
      "removed": 0, "kept": 7, "requests": 9}, "moods export exit 0 in 1.5 s, 3 playlists +5 -0 =7, 9 requests"),
    ({"command": "moods export", "exit_code": 0, "duration_s": 1.5, "playlists": ["a"], "playlist_id": "P1",
      "added": 5, "removed": 0, "kept": 7}, "moods export exit 0 in 1.5 s, playlist P1 +5 -0 =7"),
    ({"command": "build-playlist", "exit_code": 0, "duration_s": 2, "playlist_id": "P1"},
     "build-playlist exit 0 in 2.0 s, playlist P1"),
    ({"command": "refresh", "exit_code": 0, "duration_s": 2, "requests": 9, "refreshed": True},
     "refresh exit 0 in 2.0 s, 9 requests, cache refreshed"),
    ({"exit_code": 1, "unfinished": True}, "run did not finish"),
    ({"exit_code": 5, "duration_s": 2, "message": "Spotify kept failing"}, "run exit 5 in 2.0 s: Spotify kept failing"),
])
def test_describe_run_gives_each_kind_of_run_its_whole_line(run, line):
    """What `recommend status` and the Runs page show of a run: an export of several moods counts
    its playlists, one playlist is named by its id, a record without a command is a "run"."""
    assert runlog.describe_run(run) == line


def test_read_runs_tolerates_corrupt_and_partial_lines(tmp_path):
    runlog.append_run(tmp_path, {"command": "a", "exit_code": 0})
    with (tmp_path / "runs.jsonl").open("a") as fh:
        fh.write("not json\n[1, 2]\n\n")
        fh.write('{"command": "half a li')            # a killed run's partial line
    runlog.append_run(tmp_path, {"command": "b", "exit_code": 0})
    assert [r["command"] for r in runlog.read_runs(tmp_path)] == ["b", "a"]
    assert [r["command"] for r in runlog.read_runs(tmp_path, n=1)] == ["b"]
    assert runlog.read_runs(tmp_path / "nowhere") == []


def test_a_run_line_holding_nan_or_infinity_is_read_with_those_unknown_and_status_json_stays_json(tmp_path):
    """A line edited by hand ("duration_s": NaN) went into `status --json` as NaN, which no JSON reader takes."""
    from typer.testing import CliRunner

    from recommender.cli import app
    (tmp_path / "runs.jsonl").write_text('{"when": "2026-11-30T08:00:00+00:00", "command": "refresh", "exit_code": 0, '
                                         '"duration_s": NaN, "requests": Infinity}\n')
    assert runlog.read_runs(tmp_path)[0]["duration_s"] is None and runlog.read_runs(tmp_path)[0]["requests"] is None
    result = CliRunner().invoke(app, ["status", "--offline", "--json"], env={"RECOMMENDER_CACHE_DIR": str(tmp_path)})

    def no_json(constant):
        raise ValueError(constant)
    assert json.loads(result.stdout, parse_constant=no_json)["last_runs"][0]["command"] == "refresh"


def test_run_message_is_redacted(tmp_path):
    runlog.append_run(tmp_path, {"command": "auth", "exit_code": 3, "message": f"refused Bearer {ACCESS}"})
    assert ACCESS not in (tmp_path / "runs.jsonl").read_text()


def test_runs_file_is_trimmed(tmp_path, monkeypatch):
    monkeypatch.setattr(runlog, "RUNS_MAX_BYTES", 3000)
    monkeypatch.setattr(runlog, "RUNS_KEEP", 5)
    for i in range(40):
        runlog.append_run(tmp_path, {"command": f"run{i}", "exit_code": 0})
    lines = (tmp_path / "runs.jsonl").read_text().splitlines()
    assert len(lines) < 40
    assert json.loads(lines[-1])["command"] == "run39"


WRITER = """
import sys, time
from pathlib import Path
from recommender import runlog
from recommender import status as statusinfo
runlog.RUNS_MAX_BYTES, runlog.RUNS_KEEP = 1, 10_000  # every record trims, and keeps every line
folder, writer, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
(folder / f"ready-{writer}").touch()
while not (folder / "go").exists():
    time.sleep(0.001)
for n in range(count):
    runlog.append_run(folder, {"command": "build-playlist", "exit_code": 0, "writer": writer, "n": n})
"""


def test_runs_appended_while_another_run_trims_the_file_are_kept(tmp_path):
    """Two runs recording at once (a scheduled build and one by hand, mood exports, the web app)
    lost records: one run read runs.jsonl to trim it, another appended its record, and the trim
    then replaced the file without it (a failed night could vanish from `recommend status`).
    Appending and trimming now happen under an flock of the file. Checked with real processes,
    each record trimming a file that keeps them all: every record is there at the end."""
    import subprocess
    import time
    writers, count = 4, 100
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), f"w{w}", str(count)],
                              stderr=subprocess.PIPE, text=True) for w in range(writers)]
    while len(list(tmp_path.glob("ready-*"))) < writers and all(p.poll() is None for p in procs):
        time.sleep(0.01)
    (tmp_path / "go").touch()  # all at once
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    kept: dict[str, list[int]] = {}
    for line in (tmp_path / "runs.jsonl").read_text().splitlines():
        record = json.loads(line)  # never half a line
        kept.setdefault(record["writer"], []).append(record["n"])
    assert {writer: len(numbers) for writer, numbers in kept.items()} == {f"w{w}": count for w in range(writers)}
    assert all(numbers == sorted(numbers) for numbers in kept.values())


# ----- status -------------------------------------------------------------------------------
def _library() -> Library:
    artists = pd.DataFrame({"artist_id": ["a1", "a2", "a3", "a4"], "name": ["A", "B", "C", "D"],
                            "genres": [["indie"], [], [], []]})
    enriched = pd.DataFrame({"artist_id": ["a2"], "genres": [["jazz"]]})
    return Library.from_frames(artists=artists, artist_genres=enriched)


def test_genre_coverage_counts_the_artists_enrich_looks_up():
    """An artist credited on a track but absent from the artists frame (a featured artist, a
    discovered track's) is one enrich looks up, so status counts it too: "874 to look up" next
    to "of 856 artists" was the confusion."""
    from recommender.enrich.musicbrainz import library_artists
    lib = _library()
    tracks = pd.DataFrame({"track_id": ["t1"], "name": ["x"], "artist_ids": [["a1", "f9"]],
                           "artist_names": [["A", "Feat"]]})
    lib = Library.from_frames(artists=lib.frames["artists"], artist_genres=lib.frames["artist_genres"], tracks=tracks)
    cov = statusinfo.genre_coverage(lib)
    assert cov == {"artists": 5, "with_genres": 2, "coverage": 0.4, "nameless": 0}
    # the same population: enrich's candidates are every counted artist but a1 (Spotify's genres)
    assert len(library_artists(lib)) == cov["artists"] - 1


def test_feature_coverage_counts_the_tracks_the_mood_commands_place():
    """Status counted "tracks with a valence and an energy" by its own reading, beside the mood
    commands' (``moods.audio_features``): a track whose later row lost its valence counted as
    placed though no mood command could place it. Both now read it one way."""
    from recommender.moods import audio_features
    tracks = pd.DataFrame({"track_id": ["t1", "t2", "t3"], "name": ["a", "b", "c"],
                           "artist_ids": [["a1"]] * 3, "artist_names": [["A"]] * 3})
    af = pd.DataFrame({"track_id": ["t1", "t2", "t2", "t9"], "valence": [0.5, 0.4, None, 0.1],
                       "energy": [0.6, 0.3, 0.3, 0.2]})  # t2's later row wins; t9 is not in the library
    lib = Library.from_frames(tracks=tracks, audio_features=af)
    assert statusinfo.feature_coverage(lib) == {"tracks": 3, "recordings": 3, "with_features": 1,
                                            "coverage": round(1 / 3, 4)}
    assert len(audio_features(lib)) == 1


def test_feature_coverage_counts_each_recording_once_as_the_moods_page_does():
    """Status said 1555 of 1695 tracks on the demo where the web app's Moods page (and `moods
    classify`) said 1523 of 1644: a recording on an album and on a single, two track ids, counted
    twice. Status counts recordings as they do, a copy with features standing for its recording."""
    from recommender.moods import classify_library
    tracks = pd.DataFrame({"track_id": ["t1", "t2", "t3", "t4"], "name": ["Song", "Song", "Other", "Third"],
                           "artist_ids": [["a1"]] * 4, "artist_names": [["A"]] * 4,
                           "isrc": ["X1", "X1", "X2", "X3"]})
    af = pd.DataFrame({"track_id": ["t2", "t3"], "valence": [0.5, 0.4], "energy": [0.6, 0.3]})
    lib = Library.from_frames(tracks=tracks, audio_features=af)
    cov = statusinfo.feature_coverage(lib)
    assert cov == {"tracks": 4, "recordings": 3, "with_features": 2, "coverage": round(2 / 3, 4)}
    classified = classify_library(lib)
    assert (len(classified), int((classified["source"] == "audio").sum())) == (cov["recordings"], cov["with_features"])


def test_status_gathers_runs_cache_login_playlist_genres(tmp_path):
    runlog.append_run(tmp_path, {"command": "build-playlist", "exit_code": 0})
    manifest = {"fetched_at": (NOW - timedelta(hours=5)).isoformat(), "user_id": "me-1",
                "managed_playlist": {"id": "PL1", "name": "recommend: for you", "last_written": ["t1", "t2", "t3"]}}
    token = {"access_token": ACCESS, "refresh_token": REFRESH, "scope": "user-top-read",
             "expires_at": int((NOW + timedelta(minutes=30)).timestamp())}
    st = statusinfo.status(tmp_path, manifest, token, library=_library(), now=NOW)
    assert st["last_runs"][0]["command"] == "build-playlist"
    assert st["cache"] == {"fetched_at": manifest["fetched_at"], "age_hours": 5.0, "user_id": "me-1",
                           "discovery_unfinished": False, "empty": True}
    assert st["login"]["state"] == "valid" and st["login"]["expires_in_minutes"] == 30.0
    assert st["login"]["expires_at"] == "2026-03-01T12:30:00+00:00"
    assert st["playlist"] == {"id": "PL1", "name": "recommend: for you", "tracks": 3, "unfinished": False}
    assert st["genres"] == {"artists": 4, "with_genres": 2, "coverage": 0.5, "nameless": 0}
    assert st["running"] is None
    text = json.dumps(st)                              # JSON-ready, and no token in it
    assert ACCESS not in text and REFRESH not in text


def test_a_refresh_whose_discovery_is_under_way_is_not_said_to_be_stopped(tmp_path):
    # `recommend status` during a `build-playlist --refresh` said "the last refresh was stopped
    # during its discovery" beside "running: pid ... (build-playlist)": the mark is set while
    # discovery runs, and means "stopped" only once no live run holds the lock
    from recommender.jobs import DISCOVERING
    manifest = {"fetched_at": (NOW - timedelta(hours=1)).isoformat(), DISCOVERING: True}
    with RunLock(lock_path(tmp_path), command="recommend build-playlist --refresh"):
        st = statusinfo.status(tmp_path, manifest, None, now=NOW)
        assert st["running"] and st["cache"]["discovery_unfinished"] is False
    assert statusinfo.status(tmp_path, manifest, None, now=NOW)["cache"]["discovery_unfinished"] is True


def test_status_names_the_data_directory_and_the_cache_by_what_they_are(tmp_path):
    # `status --json` gave the data directory (~/.local/state/recommend: login, manifest, runs)
    # only as "cache_dir", beside the cache as "frames_dir": it reads as the cache's; kept for scripts
    st = statusinfo.status(tmp_path / "state", {}, None, now=NOW, frames_dir=tmp_path / "cache")
    assert st["data_dir"] == st["cache_dir"] == str(tmp_path / "state")
    assert st["frames_dir"] == str(tmp_path / "cache")


def test_status_without_anything(tmp_path):
    st = statusinfo.status(tmp_path, {}, None, now=NOW)
    assert st["last_runs"] == [] and st["playlist"] is None and st["genres"] is None
    assert st["cache"] == {"fetched_at": None, "age_hours": None, "user_id": None, "discovery_unfinished": False, "empty": True}
    assert st["login"]["state"] == "needs login"
    # a frame file with no record of its refresh: not empty (status says the next refresh pulls again)
    (tmp_path / "tracks.parquet").touch()
    assert statusinfo.status(tmp_path, {}, None, now=NOW)["cache"]["empty"] is False


@pytest.mark.parametrize("token, state", [
    ({"access_token": "x", "expires_at": 2_000_000_000}, "needs login"),      # no refresh token
    ({"access_token": "x", "refresh_token": "r", "expires_at": int(NOW.timestamp()) - 60}, "expired"),
    ({"access_token": "x", "refresh_token": "r"}, "expired"),
])
def test_login_states(token, state):
    assert statusinfo.login_status(token, NOW)["state"] == state


def test_a_login_says_its_minutes_left_and_only_an_expired_one_says_it_is_renewed():
    login = {"access_token": "x", "refresh_token": "r"}
    valid = statusinfo.login_status({**login, "expires_at": int(NOW.timestamp()) + 90}, NOW)
    assert (valid["state"], valid["expires_in_minutes"], valid["message"]) == ("valid", 1.5, None)
    expired = statusinfo.login_status({**login, "expires_at": int(NOW.timestamp()) - 90}, NOW)
    assert (expired["state"], expired["expires_in_minutes"]) == ("expired", -1.5)
    assert expired["message"] == "the access token is renewed from the refresh token on the next run"
    assert statusinfo.login_status({**login, "expires_at": int(NOW.timestamp())}, NOW)["state"] == "expired"


def test_status_reports_a_running_holder_but_not_a_killed_one(tmp_path):
    with RunLock(lock_path(tmp_path), command="recommend build-playlist"):
        running = statusinfo.status(tmp_path, {}, None, now=NOW)["running"]
    assert running["pid"] == os.getpid() and running["command"] == "recommend build-playlist"
    assert statusinfo.status(tmp_path, {}, None, now=NOW)["running"] is None
    import subprocess
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    lock_path(tmp_path).write_text(json.dumps({"pid": proc.pid, "host": socket.gethostname()}))
    assert statusinfo.status(tmp_path, {}, None, now=NOW)["running"] is None


def test_a_scheduled_run_stamped_days_ahead_is_not_among_the_recent_ones():
    """With no line or timer of ours, a failed scheduled run of the last 8 days is warned about,
    older ones not. One recorded by a clock two days ahead (put right since) counted as recent
    until 8 days after that clock's date, and one years ahead for years: its time is unknown
    (isotime's rule), so it is not recent; one up to a day ahead counts as just now."""
    from datetime import timedelta
    failed = {"command": "build-playlist", "exit_code": 5, "trigger": runlog.SCHEDULED}
    for ahead, counted in ((timedelta(days=2), False), (timedelta(days=3650), False), (timedelta(hours=12), True)):
        run = {**failed, "when": (NOW + ahead).isoformat()}
        said = statusinfo.schedule_warnings({"state": "not installed"}, [run], NOW)
        assert (said["last_run"] is not None, bool(said["warnings"])) == (counted, counted), ahead


def test_a_playlist_written_half_way_is_unfinished_and_one_never_written_has_no_track_count():
    half = {"id": "P", "name": "recommend: for you", "last_written": ["t1", "t2"], "pending": ["t3"]}
    assert statusinfo.status("/nonexistent", {"managed_playlist": half}, None, now=NOW)["playlist"] == \
        {"id": "P", "name": "recommend: for you", "tracks": 2, "unfinished": True}
    assert statusinfo.status("/nonexistent", {"managed_playlist": {"id": "P"}}, None, now=NOW)["playlist"] == \
        {"id": "P", "name": None, "tracks": None, "unfinished": False}
    assert statusinfo.status("/nonexistent", {"managed_playlist": None}, None, now=NOW)["playlist"] is None


def test_the_schedules_last_run_is_found_behind_more_runs_than_status_lists(tmp_path):
    """status lists the last five runs; the schedule's last run is looked for further back (a
    night's run followed by a day of runs by hand was "no run yet")."""
    night = {"command": "build-playlist", "exit_code": 0, "trigger": runlog.SCHEDULED,
             "when": (NOW - timedelta(hours=10)).isoformat()}
    runlog.append_run(tmp_path, night)
    for hour in range(9, 0, -1):
        runlog.append_run(tmp_path, {"command": "build-playlist", "exit_code": 0, "trigger": runlog.MANUAL,
                                     "when": (NOW - timedelta(hours=hour)).isoformat()})
    st = statusinfo.status(tmp_path, {}, None, now=NOW, schedule={"state": "not installed"})
    assert len(st["last_runs"]) == 5 and night["trigger"] not in [r["trigger"] for r in st["last_runs"]]
    assert st["schedule"]["last_run"]["when"] == night["when"]


def test_a_half_written_playlist_is_warned_of_only_when_no_run_is_writing_it(tmp_path):
    """The write a run has under way is no write left unfinished: status warns of it once no live
    run holds the lock (the run that stopped it, or the next build, finishes it)."""
    half = {"managed_playlist": {"id": "P", "name": "recommend: for you", "last_written": ["t1"], "pending": ["t2"]}}
    with RunLock(lock_path(tmp_path), command="recommend build-playlist"):
        assert "playlist" not in statusinfo.state_warnings(statusinfo.status(tmp_path, half, None, now=NOW))
    said = statusinfo.state_warnings(statusinfo.status(tmp_path, half, None, now=NOW))
    assert said["playlist"].startswith("the last write to the managed playlist did not finish")
    assert statusinfo.state_warnings(statusinfo.status(tmp_path, {"managed_playlist": {"id": "P"}}, None, now=NOW)) == {}


def test_status_does_not_report_a_killed_run_whose_pid_now_belongs_to_another_process(tmp_path):
    """A run killed with -9 leaves its record; once its pid is reused by a new process,
    `status` said that run was still going (pid alive). A process started after the
    record was written is not the holder."""
    import subprocess
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        record = {"pid": proc.pid, "host": socket.gethostname(), "command": "recommend build-playlist"}
        lock_path(tmp_path).write_text(json.dumps({**record, "started": "2020-01-01T07:00:00+00:00"}))
        assert statusinfo.status(tmp_path, {}, None, now=NOW)["running"] is None
        now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        lock_path(tmp_path).write_text(json.dumps({**record, "started": now}))
        assert statusinfo.status(tmp_path, {}, None, now=NOW)["running"]["pid"] == proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_a_long_message_is_cut_once_with_the_right_count_in_the_file_and_on_stderr(logs, capsys):
    """Both handlers share one record and each ran the redacting filter: the stderr copy
    was cut a second time ("... [ ... [38 more characters not logged]")."""
    path = runlog.setup_logging(logs, "recommend.log", 1_000_000, 3, quiet=False, verbose=False)
    message = "word " * 1000  # 5000 characters
    logging.getLogger("recommender.test").warning("%s", message)
    err = capsys.readouterr().err
    expected = runlog.cap(message)
    assert expected in err and err.count("more characters not logged") == 1
    assert expected in path.read_text()


def test_a_damaged_run_record_is_described_not_a_crash(tmp_path):
    """read_runs keeps every JSON object; one whose duration is not a number (a hand edit)
    made describe_run raise ValueError, so `recommend status` exited 1."""
    runlog.runs_path(tmp_path).write_text('{"command": "refresh", "exit_code": 0, "duration_s": "slow"}\n')
    (run,) = runlog.read_runs(tmp_path)
    assert runlog.describe_run(run) == "refresh exit 0 in 'slow'"
    assert runlog.describe_run({"command": "refresh", "exit_code": 0, "duration_s": 2}) == "refresh exit 0 in 2.0 s"


def test_no_log_backups_keeps_the_log_within_its_size(logs):
    """logging's RotatingFileHandler never rolls over with backupCount 0: with
    `schedule.log_backups: 0` the log only reopened itself and grew without bound."""
    path = runlog.setup_logging(logs, "recommend.log", 2000, 0, quiet=True)
    for i in range(200):
        logging.getLogger("recommender.test").info("line %03d %s", i, "x" * 80)
    assert path.stat().st_size < 2000 and "line 199" in path.read_text()
    assert sorted(p.name for p in logs.iterdir()) == ["recommend.log"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_log_lines_carry_utc_times_whatever_the_zone_a_run_is_started_in(logs, monkeypatch):
    """A run by hand in a shell with TZ set wrote its lines in that zone's time, unmarked, beside
    the scheduled runs' in the computer's: the log seemed to go back 5 hours, while the same
    line's run summary said UTC. Every line now says its time in UTC."""
    import os
    import time as clock
    before = os.environ.get("TZ")
    monkeypatch.setenv("TZ", "America/New_York")
    clock.tzset()
    try:
        path = runlog.setup_logging(logs, "recommend.log", 1_000_000, 3, quiet=True)
        logging.getLogger("recommender.test").info("a line")
        runlog.teardown_logging()
        stamp = path.read_text().split(" INFO ")[0]
        written = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f UTC").replace(tzinfo=timezone.utc)
        assert abs((written - datetime.now(timezone.utc)).total_seconds()) < 600
    finally:  # the zone the tests run in, read again (deleting TZ here left them in UTC until monkeypatch put it back)
        if before is None:
            monkeypatch.delenv("TZ")
        else:
            monkeypatch.setenv("TZ", before)
        clock.tzset()


def test_the_zone_test_gives_the_tests_after_it_their_zone_back(tmp_path):
    """The test above deleted TZ and read the zone again, and monkeypatch later put TZ back
    without reading it: the tests after it ran in UTC while TZ said another zone."""
    import subprocess
    from pathlib import Path
    (tmp_path / "zone_after.py").write_text(
        "import time\ndef pytest_sessionfinish(session, exitstatus):\n"
        "    print('ZONE-AFTER', time.tzname[0])\n")
    here = Path(__file__).resolve()
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q", "-s",
                           "-p", "zone_after", f"{here}::test_log_lines_carry_utc_times_whatever_the_zone_a_run_is_started_in"],
                          capture_output=True, text=True, timeout=120, cwd=here.parents[1],
                          env={**os.environ, "TZ": "Asia/Tokyo",
                               "PYTHONPATH": os.pathsep.join([str(tmp_path), str(here.parents[1])])})
    assert "1 passed" in done.stdout and "ZONE-AFTER JST" in done.stdout, done.stdout + done.stderr


def test_a_record_a_full_disk_cut_short_still_shows_that_run_failed(tmp_path):
    """A nightly run stopped by a full disk (exit 7) had its own line in runs.jsonl cut half way
    (the write ran out of space mid-line; played against the stand-ins on a filled tmpfs), and
    `recommend status` skipped the line as not JSON: its last runs began with the night before,
    exit 0, as if nothing had failed. The line's time, command and exit code are now shown."""
    runlog.append_run(tmp_path, {"command": "build-playlist", "exit_code": 0, "added": 1, "removed": 0, "kept": 9})
    whole = json.dumps({"when": "2026-12-01T19:34:09+00:00", "command": "build-playlist", "exit_code": 7,
                        "added": None, "message": "cannot write recommend.lock: No space left on device"})
    with open(runlog.runs_path(tmp_path), "a", encoding="utf-8") as f:
        f.write(whole[: len(whole) // 2 + 20])  # no end of line: the disk was full
    last = runlog.read_runs(tmp_path, 5)
    assert [r["exit_code"] for r in last] == [7, 0]
    shown = runlog.describe_run(last[0])
    assert "2026-12-01 19:34 UTC build-playlist exit 7" in shown and "cut short" in shown
    runlog.append_run(tmp_path, {"command": "build-playlist", "exit_code": 0})  # the next night, space again
    assert [r["exit_code"] for r in runlog.read_runs(tmp_path, 5)] == [0, 7, 0]
