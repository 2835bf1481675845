"""Tried as a new user would: what broke when following README.md from an installed wheel,
each test against the local stand-ins (127.0.0.1) only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import OPEN_DATA_ENV
from recommender import moodexport
from recommender.config import load_settings
from recommender.store import Store

from spotify_helpers import api_requests, gateway_for, settings_for
from test_cli import logged_in, run  # noqa: F401 (a fixture)

SUBPROCESS = {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}  # the checkout under test


def test_did_you_mean_shows_invisible_characters_and_the_id(logged_in):
    # `--seed-playlist Crossfit` on the demo said: did you mean "Crossfit​​   ‍"? (zero-width
    # characters printed raw: the hint could be neither seen nor typed back)
    server, env, _ = logged_in
    first = server.account.playlists[0]
    first["name"] = "Road\u200bTrip\u200d"
    assert run(["refresh", "--quiet"], env).exit_code == 0
    result = run(["build-playlist", "--dry-run", "--seed-playlist", "roadtrip"], env)
    assert result.exit_code == 2
    assert "\u200b" not in result.stderr and "\u200d" not in result.stderr
    assert '"Road\\u200bTrip\\u200d"' in result.stderr and f"(id {first['id']})" in result.stderr
    assert run(["build-playlist", "--dry-run", "--seed-playlist", first["id"]], env).exit_code == 0
    # and so do the examples of a name nothing is close to (they were printed raw)
    result = run(["build-playlist", "--dry-run", "--seed-playlist", "zzzzzz"], env)
    assert result.exit_code == 2 and "\u200b" not in result.stderr, result.stderr
    assert '"Road\\u200bTrip\\u200d"' in result.stderr and f"(id {first['id']})" in result.stderr


def test_the_examples_count_every_playlist_and_tell_apart_two_of_one_name(logged_in):
    """Two playlists named "Mix", two "Café" (é as one letter, and as e and its accent):
    `--seed-playlist Nope` said "among your 3 playlists (e.g. "Café", "Café", "Mix")", counting
    names, the two Cafés alike. Now 4, each with its playlist's id."""
    server, env, _ = logged_in
    named = ["Mix", "Mix", "Caf\u00e9", "Cafe\u0301"]
    assert len(server.account.playlists) == len(named)
    for playlist, name in zip(server.account.playlists, named):
        playlist["name"] = name
    assert run(["refresh", "--quiet"], env).exit_code == 0
    result = run(["build-playlist", "--dry-run", "--seed-playlist", "Nope"], env)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 2 and "among your 4 playlists (e.g. " in said, said
    for playlist in server.account.playlists:
        assert f'"{playlist["name"]}" (id {playlist["id"]})' in said, said


def test_a_playlist_named_with_spaces_only_is_listed_quoted(logged_in):
    """A playlist named "   " had a blank name cell in `recommend playlists`, as if it had none."""
    server, env, _ = logged_in
    server.account.playlists[0]["name"] = "   "
    assert run(["refresh", "--quiet"], env).exit_code == 0
    listed = run(["playlists"], {**env, "COLUMNS": "160"})
    (line,) = [line for line in listed.stdout.splitlines() if server.account.playlists[0]["id"] in line]
    assert '"   "' in line, listed.stdout


def test_a_mood_export_in_the_same_second_as_the_refresh_is_listed(tmp_path):
    # times are whole seconds: an export right after a refresh (as in a fast test, or a script)
    # has the refresh's own time, and `playlists` did not list it until the next refresh
    from recommender.publish import mood_playlists
    store = Store(tmp_path)
    store.update_manifest(fetched_at="2026-11-30T10:00:00+00:00", **{
        "managed_playlist:happy": {"id": "p1", "name": "recommend: happy", "updated_at": "2026-11-30T10:00:00+00:00"},
        "managed_playlist:sad": {"id": "p2", "name": "recommend: sad", "updated_at": "2026-11-30T09:59:59+00:00"}})
    assert [p["id"] for p in mood_playlists(store, since_refresh=True)] == ["p1"]
    assert [p["id"] for p in mood_playlists(store)] == ["p1", "p2"]


def test_playlists_marks_every_playlist_the_tool_writes_and_seeding_from_one_says_why(logged_in, tmp_path):
    # `recommend playlists` listed the exported mood playlists as not managed, and
    # `--seed-playlist "recommend: for you"` answered 'no playlist named ...' for a name it lists
    server, env, cache = logged_in
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    settings = settings_for(server, cache)
    store = Store.from_settings(settings)
    tracks = sorted(server.account.tracks)[:3]
    moodexport.export_moods(gateway_for(settings), store, settings, server.account.user["id"],
                            {"happy/upbeat": tracks}, "Road Trip")
    # listed before a refresh too (it was not, until the next refresh cached it)
    early = [r for r in json.loads(run(["playlists", "--json"], env).stdout) if r["name"] == "recommend: happy/upbeat"]
    assert len(early) == 1 and early[0]["managed"] and early[0]["tracks"] == 3, early
    assert run(["refresh", "--quiet"], env).exit_code == 0
    rows = {r["name"]: r for r in json.loads(run(["playlists", "--json"], env).stdout)}
    main, mood = rows[settings.playlist.name], rows["recommend: happy/upbeat"]
    assert main["managed"] and mood["managed"]
    assert sum(r["managed"] for r in rows.values()) == 2
    text = run(["playlists"], {**env, "COLUMNS": "200"}).stdout
    assert any(main["id"] in line and "│ yes" in line for line in text.splitlines())
    assert any(mood["id"] in line and "│ mood" in line for line in text.splitlines())
    for name in (settings.playlist.name, "recommend: happy/upbeat"):
        result = run(["build-playlist", "--dry-run", "--seed-playlist", name], env)
        assert result.exit_code == 2
        assert "written by this tool" in result.stderr and "no playlist named" not in result.stderr
        # moods read the library without our playlists: naming one says why, not "no playlist named"
        result = run(["moods", "cluster", name], env)
        assert result.exit_code == 2
        assert "written by this tool" in result.stderr and "no playlist named" not in result.stderr
    # a name close to ours: "did you mean" never names a playlist the run would refuse
    result = run(["build-playlist", "--dry-run", "--seed-playlist", "recommend: happy/upbet"], env)
    assert result.exit_code == 2 and "no playlist named" in result.stderr
    assert "recommend: happy/upbeat" not in result.stderr, result.stderr
    # a playlist of yours with the name of one of ours is the one a name means: ours is never a
    # seed (it was "2 playlists are named ...: give the id", both ids listed)
    yours = next(p for p in server.account.playlists if p["owner"] == server.account.user["id"]
                 and p["id"] not in (main["id"], mood["id"]) and p.get("items"))
    yours["name"], before = "recommend: happy/upbeat", yours["name"]
    assert run(["refresh", "--quiet"], env).exit_code == 0
    for args in (["build-playlist", "--dry-run", "--json", "--seed-playlist"], ["moods", "cluster", "--json"]):
        result = run([*args, "recommend: happy/upbeat"], env)
        assert result.exit_code == 0, (args, result.stderr)
    assert json.loads(result.stdout)["playlist_id"] == yours["id"]
    yours["name"] = before
    server.account.playlist(mood["id"])["followed"] = False  # you delete it in Spotify: gone at the next refresh
    assert run(["refresh", "--quiet"], env).exit_code == 0
    assert "recommend: happy/upbeat" not in [r["name"] for r in json.loads(run(["playlists", "--json"], env).stdout)]


def test_the_mood_commands_work_on_the_demo(tmp_path):
    # `recommend moods recommend --mood happy --demo` (README: every moods command takes --demo)
    # said "no audio features for the 1695 cached tracks" unless `recommend web --demo` had run
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path / "state")}
    result = run(["moods", "recommend", "--mood", "happy", "--demo", "--json", "-n", "5"], env)
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 5 and all(r["mood"] == "happy" for r in rows)
    near = run(["moods", "near", rows[0]["track_id"], "--demo", "--json"], env)
    assert near.exit_code == 0, near.stderr
    point = run(["moods", "recommend", "--valence", "0.1", "--energy", "0.95", "--demo", "--json", "-n", "5"], env)
    assert point.exit_code == 0, point.stderr  # a point of the plane, as the web page's click
    picked = json.loads(point.stdout)
    assert len(picked) == 5 and all(r["mood"] == "energetic" and r["valence"] < 0.3 for r in picked), picked
    made = run(["moods", "recommend", "--mood", "sad", "--demo", "--export", "--json", "-n", "6"], env)
    assert made.exit_code == 0, made.stderr  # a mood list kept as its own private playlist
    out = json.loads(made.stdout)
    assert len(out["tracks"]) == 6 and out["exported"][0]["name"] == "recommend: sad" and out["exported"][0]["created"]
    again = json.loads(run(["moods", "recommend", "--mood", "sad", "--demo", "--export", "--json", "-n", "6"], env).stdout)
    assert again["exported"][0]["playlist_id"] == out["exported"][0]["playlist_id"] and not again["exported"][0]["created"]
    # its open.spotify.com link names a playlist of the demo's stand-in, which Spotify does not
    # have: said, as `build-playlist --demo` says it of its own link
    shown = run(["moods", "recommend", "--mood", "sad", "--demo", "--export", "-n", "6"], env)
    assert shown.exit_code == 0 and "playlist/" in shown.stdout, shown.stderr
    assert "(the demo's mood playlists live in the stand-in; a real run's links open in Spotify)" in shown.stdout
    for args in (["--valence", "0.1"], ["--mood", "sad", "--energy", "0.2"], []):
        half = run(["moods", "recommend", *args, "--demo"], env)
        assert half.exit_code == 2 and "give --mood, or --valence and --energy" in half.stderr, (args, half.stderr)
    # `recommend moods cluster --demo` said only "Missing argument 'playlists'": the demo's
    # playlist names were nowhere to see; now the error names some, and one of them works
    bare = run(["moods", "cluster", "--demo"], env)
    assert bare.exit_code == 2 and "no playlist given to cluster" in bare.stderr, bare.stderr
    assert "`recommend playlists --demo`" in bare.stderr and len(bare.stderr.strip().splitlines()) == 1
    named = bare.stderr.split('(e.g. "')[1].split('"')[0]
    listed = run(["playlists", "--demo", "--json"], env)  # said "No such option: --demo"
    assert listed.exit_code == 0 and named in [p["name"] for p in json.loads(listed.stdout)], listed.stderr
    # the mood playlist exported above, since the demo's one pull, was not listed: the demo's
    # cache never refreshes, so it is listed from the manifest, as ours, with what we wrote
    sad = [p for p in json.loads(listed.stdout) if p["name"] == "recommend: sad"]
    pid = out["exported"][0]["playlist_id"]
    assert sad == [{"name": "recommend: sad", "id": pid, "owner": "demo-user", "tracks": 6, "total": None, "readable": True,
                    "managed": True, "role": "mood", "url": f"https://open.spotify.com/playlist/{pid}"}], sad
    assert "│ mood" in next(line for line in run(["playlists", "--demo"], {**env, "COLUMNS": "200"}).stdout.splitlines()
                           if "recommend: sad" in line)
    clustered = run(["moods", "cluster", named, "--demo", "--json"], env)
    assert clustered.exit_code == 0 and json.loads(clustered.stdout)["k"] >= 2, clustered.stderr
    # naming that mood playlist (ours) in the demo sent the user to `recommend playlists`, which
    # lists their own account's, not the sample library's
    for args in (["moods", "cluster", "recommend: sad", "--demo"],
                 ["build-playlist", "--demo", "--dry-run", "--seed-playlist", "recommend: sad"]):
        refused = run(args, env)
        assert refused.exit_code == 2 and "written by this tool" in refused.stderr, refused.stderr
        assert "`recommend playlists --demo`" in refused.stderr and "your own" not in refused.stderr, refused.stderr
    # after the demo's next pull (--refresh) the mood playlist is in its cache: it was listed no
    # more (the listing took the library without our playlists, then added only those made since)
    assert run(["build-playlist", "--demo", "--refresh", "--dry-run", "--quiet"], env).exit_code == 0
    sad = [p for p in json.loads(run(["playlists", "--demo", "--json"], env).stdout) if p["name"] == "recommend: sad"]
    assert [(p["id"], p["role"], p["tracks"]) for p in sad] == [(pid, "mood", 6)], sad
    # a search of the demo that finds nothing named the demo's folder ("in the cache in
    # .../demo"), where similar and the mood commands say "the sample library"
    nothing = run(["search", "xyzzyqq", "--demo"], env)
    assert nothing.exit_code == 0 and "No match for 'xyzzyqq' in the sample library (" in nothing.stdout, nothing.stdout


def test_evaluate_and_tune_work_on_the_demo_and_tune_never_writes_its_weights(tmp_path):
    # `recommend evaluate --demo` / `tune --demo` said "No such option: --demo" while search,
    # similar, moods and web all took it; README's tune timing had no command to repeat it
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path / "state")}
    config = tmp_path / "user.yaml"
    config.write_text("scorers:\n  artist_walk: {weight: 0}\n  opendata: {weight: 0}\n"
                      "  coverage: {weight: 0}\n  release: {weight: 0}\n  audio: {weight: 0.1}\n")  # three scorers on: a quick grid
    before = config.read_text()
    result = run(["evaluate", "--demo", "--json", "--config", str(config)], env)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["targets"] > 0 and 0 < out["p@10"] <= 1
    assert out["weights"]["artist_walk"] == 0  # the user's config is read, only its directory moves
    assert out["scorers"]["audio"]["p@10"] > 0.05  # the sample's audio features, as moods --demo has them
    table = run(["evaluate", "--demo", "--config", str(config)], {**env, "COLUMNS": "200"})
    assert table.exit_code == 0 and "the sample library in" in table.stdout
    assert "your library" not in table.stdout
    tuned = run(["tune", "--demo", "--json", "--config", str(config)], env)
    assert tuned.exit_code == 0, tuned.stderr
    assert set(json.loads(tuned.stdout)["best"]["weights"]) == {"content", "year", "audio"}
    refused = run(["tune", "--demo", "--write", "--config", str(config)], env)
    assert refused.exit_code == 2 and "--write and --demo" in refused.stderr
    persona = run(["evaluate", "--demo", "--protocol", "persona"], env)
    assert persona.exit_code == 2 and "--dataset FILE" in persona.stderr
    assert config.read_text() == before
    assert not list((tmp_path / "state").glob("*.parquet"))  # frames only in the demo's directory


def test_schedule_install_carries_the_open_data_services_of_the_environment(logged_in, tmp_path):
    # With the README's stand-in exports, `schedule install` wrote only the spotify.* ones into
    # the config: the scheduled run (cron's bare environment) then asked the real ListenBrainz
    # and MusicBrainz; a ListenBrainz token only in the environment was dropped without a word.
    server, env, cache = logged_in
    user, tab = tmp_path / "user.yaml", tmp_path / "tab"
    user.write_text("")
    urls = {var: os.environ[var] for var in OPEN_DATA_ENV}  # conftest's local stand-ins
    result = run(["schedule", "install", "--tabfile", str(tab), "--config", str(user)],
                 {**env, **urls, "LISTENBRAINZ_TOKEN": "lb-t0ken"})
    assert result.exit_code == 0, result.stderr
    text = user.read_text()
    assert all(url in text for url in urls.values()) and server.api_url in text
    assert "lb-t0ken" not in text + result.output + tab.read_text()
    assert "listenbrainz.token" in result.stderr
    settings = load_settings(user, environ={})
    assert settings.listenbrainz.api_url == urls["RECOMMENDER_LISTENBRAINZ_API_URL"]
    assert settings.enrich.musicbrainz_url == urls["RECOMMENDER_MUSICBRAINZ_URL"]


def test_schedule_install_never_replaces_a_value_your_config_file_sets(logged_in, tmp_path):
    # With the stand-in's exports in the shell (SPOTIPY_CLIENT_ID=test-client here, "any" in the
    # README's), `schedule install` replaced the file's own client id, saying only "wrote
    # spotify.client_id": your real app's id was gone. It refuses, naming both values; --print
    # says so in a note and prints lines that use the file's value.
    server, env, cache = logged_in
    user, tab = tmp_path / "user.yaml", tmp_path / "tab"
    user.write_text("# mine\nspotify:\n  client_id: abc123\n")
    before = user.read_text()
    result = run(["schedule", "install", "--tabfile", str(tab), "--config", str(user)], env)
    assert result.exit_code == 2, result.stderr
    said = " ".join(result.stderr.split())
    assert f"{user} sets spotify.client_id to 'abc123' and environment SPOTIPY_CLIENT_ID gives 'test-client'" in said
    assert "nothing was installed" in said and len(result.stderr.strip().splitlines()) == 1
    # the command to run again is the one given, its --config too (it said `recommend schedule install`
    # alone, which then read another file)
    assert "run this `recommend schedule install` again (with its --config and --at)" in said
    assert user.read_text() == before and not tab.exists()
    printed = run(["schedule", "install", "--print", "--config", str(user)], env)
    assert printed.exit_code == 0 and "sets spotify.client_id to 'abc123'" in " ".join(printed.stderr.split())
    assert "wrote" not in printed.stdout and user.read_text() == before
    # what only the shell has is still said, without the key the file keeps
    unseen = [n for n in " ".join(printed.stderr.split()).split("note: ") if "does not see these settings" in n]
    assert len(unseen) == 1 and "spotify.api_url from environment RECOMMENDER_SPOTIFY_API_URL" in unseen[0]
    assert "client_id" not in unseen[0]
    # a file that sets nothing of it still gets what only the shell has, as before
    user.write_text("# mine\n")
    assert run(["schedule", "install", "--tabfile", str(tab), "--config", str(user)], env).exit_code == 0
    assert load_settings(user, environ={}).spotify.client_id == "test-client"


def test_schedule_install_never_writes_a_service_address_holding_a_password_into_the_config(logged_in, tmp_path):
    # RECOMMENDER_LISTENBRAINZ_API_URL=http://me:pw@host/ in the shell only: `schedule install` wrote it,
    # password and all, into a config file the user never put it in (as the client secret, it is refused)
    server, env, cache = logged_in
    user, tab = tmp_path / "user.yaml", tmp_path / "tab"
    user.write_text("# mine\n")
    env = {**env, "RECOMMENDER_LISTENBRAINZ_API_URL": "http://me:s3cret@127.0.0.1:9/"}
    result = run(["schedule", "install", "--tabfile", str(tab), "--config", str(user)], env)
    assert result.exit_code == 2, result.stderr
    said = " ".join(result.stderr.split())
    assert "listenbrainz.api_url from environment RECOMMENDER_LISTENBRAINZ_API_URL holds a password" in said, said
    assert "nothing was installed" in said and "s3cret" not in said + result.stdout
    assert user.read_text() == "# mine\n" and not tab.exists()
    printed = run(["schedule", "install", "--print", "--config", str(user)], env)
    assert printed.exit_code == 0 and "holds a password" in " ".join(printed.stderr.split())
    assert "s3cret" not in printed.stdout + printed.stderr and user.read_text() == "# mine\n"


def test_a_schedule_install_that_crontab_refuses_puts_the_config_file_back(logged_in, tmp_path, monkeypatch):
    # the settings only the shell has were written into the config file before `crontab` was asked:
    # a refused install left the file changed, for a schedule that was never installed
    from recommender import schedule
    from recommender.schedule import CrontabUnavailable

    def refused(*args, **kwargs):
        raise CrontabUnavailable("`crontab` refused the new table: bad minute")
    monkeypatch.setattr(schedule, "install", refused)
    server, env, cache = logged_in
    user, tab = tmp_path / "user.yaml", tmp_path / "tab"
    before = b"# mine\r\nscorers: {year: {weight: 0.2}}\r\n"  # (its line ends and layout too)
    user.write_bytes(before)
    result = run(["schedule", "install", "--tabfile", str(tab), "--config", str(user)], env)
    assert result.exit_code == 2 and "bad minute" in result.stderr, result.stderr
    assert str(user) in "".join(result.stderr.split("\n")) and "put back as it was" in " ".join(result.stderr.split())
    assert user.read_bytes() == before and not tab.exists()


def test_schedule_install_prints_a_line_to_paste_and_nothing_else_on_stdout(logged_in, tmp_path):
    # "the scheduled run is given your XDG_STATE_HOME (...)" came first on `--print`'s stdout, a
    # bare line that a crontab pasted whole took for a broken entry: it is a comment now
    server, env, cache = logged_in
    home = {**env, "RECOMMENDER_CACHE_DIR": None, "HOME": str(tmp_path / "home"), "XDG_STATE_HOME": str(tmp_path / "xs")}
    printed = run(["schedule", "install", "--print"], home)
    assert printed.exit_code == 0, printed.stderr
    lines = [line for line in printed.stdout.splitlines() if line.strip()]
    assert lines[0].startswith("# the scheduled run is given your XDG_STATE_HOME")
    entries = [line for line in lines if not line.startswith("#")]
    assert entries and " build-playlist " in entries[0] and "XDG_STATE_HOME=" in entries[0]


def test_a_terminal_that_is_not_utf8_gets_escapes_not_a_crash(logged_in):
    # A Latin-1 terminal (PYTHONIOENCODING, or an ISO-8859-1 locale): `recommend playlists` on
    # the demo crashed with exit 1, "UnicodeEncodeError ... '\U0001f379'" (a cocktail emoji)
    server, env, cache = logged_in
    server.account.playlists[0]["name"] = "Club Mix \U0001f379 Café"
    assert run(["refresh", "--quiet"], env).exit_code == 0
    for encoding in ("latin-1", "ascii"):
        done = subprocess.run([sys.executable, "-m", "recommender", "playlists"], capture_output=True,
                              env={**os.environ, **env, **SUBPROCESS, "PYTHONIOENCODING": encoding, "COLUMNS": "200"},
                              timeout=120)
        assert done.returncode == 0, done.stderr
        out = done.stdout.decode(encoding)
        assert "Club Mix \\U0001f379 Caf" in out and server.account.playlists[0]["id"] in out
        js = subprocess.run([sys.executable, "-m", "recommender", "playlists", "--json"], capture_output=True,
                            env={**os.environ, **env, **SUBPROCESS, "PYTHONIOENCODING": encoding}, timeout=120)
        assert js.returncode == 0 and "Club Mix \U0001f379 Café" in [r["name"] for r in json.loads(js.stdout)]
        bad = subprocess.run([sys.executable, "-m", "recommender", "similar", "Café \U0001f379 nowhere"],
                             capture_output=True, env={**os.environ, **env, **SUBPROCESS, "PYTHONIOENCODING": encoding},
                             timeout=120)
        assert bad.returncode == 2 and b"Traceback" not in bad.stderr and b"unexpected" not in bad.stderr


def test_the_dry_run_summary_says_what_it_would_do_in_one_tense(logged_in):
    # "Managed playlist (a new playlist): would add 50, removed 0, kept 0 (dry run: nothing
    # written); 1 Spotify requests": the dry run had removed and kept nothing
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    text = " ".join(run(["build-playlist", "--dry-run"], {**env, "COLUMNS": "200"}).stdout.split())
    # 2: your playlists, and who is logged in (asked before a playlist would be created: README, Which account)
    assert "(a new playlist): would add 10, remove 0, keep 0 (dry run: nothing written); 2 Spotify requests," in text
    text = " ".join(run(["build-playlist"], {**env, "COLUMNS": "200"}).stdout.split())
    assert ": added 10, removed 0, kept 0;" in text and "Spotify requests," in text


def test_schedule_install_without_crontab_changes_no_config_file(logged_in, tmp_path, monkeypatch):
    # No `crontab` program: install wrote spotify.* into the config file, then failed
    server, env, cache = logged_in
    user = tmp_path / "user.yaml"
    user.write_text("# mine\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run(["schedule", "install", "--config", str(user)], env)
    assert result.exit_code == 2 and "--print" in result.stderr  # 1 is for bugs (README's exit codes)
    assert user.read_text() == "# mine\n" and "wrote" not in result.stdout


def test_the_commands_list_has_no_line_breaks_of_the_source(tmp_path):
    # `recommend -h` broke "... the managed playlist" / "and genre coverage." onto two lines
    # wherever a docstring wrapped, however wide the terminal
    text = run(["-h"], {"COLUMNS": "200"}).stdout
    lines = [" ".join(line.strip("│ ").split()) for line in text.splitlines()]
    assert any(line.startswith("status Show the last runs") and line.endswith("and genre coverage.")
               for line in lines)
    assert any(line.startswith("similar Tracks most similar") and line.endswith("never another version of the seed.")
               for line in lines)


@pytest.mark.parametrize("args", [["evaluate", "--report"], ["tune", "--report"],
                                  ["moods", "cluster", "Road Trip", "--plot"]])
def test_a_directory_given_for_a_report_or_plot_file_is_a_usage_error_before_any_work(logged_in, tmp_path, args):
    # `recommend evaluate --report /tmp` ran the evaluation, then "unexpected error:
    # IsADirectoryError" (exit 1); `tune --report DIR` did so after minutes of tuning
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    result = run([*args, str(tmp_path)], env)
    assert result.exit_code == 2
    assert "is a directory" in " ".join(result.stderr.replace("│", " ").split())


def test_a_typo_in_a_playlist_to_cluster_gets_a_did_you_mean(logged_in):
    # `moods cluster "tropical nigths"` said only "no playlist ... (give its id or exact name)",
    # where `--seed-playlist` with the same typo names the close playlists
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    result = run(["moods", "cluster", "road trp"], env)
    assert result.exit_code == 2 and 'did you mean "Road Trip"' in result.stderr


@pytest.mark.parametrize("args", [["build-playlist", "--dry-run"], ["refresh"]])
def test_a_deleted_cache_is_said_in_one_line(logged_in, args):
    # README: deleting the cache "costs one re-pull, said in one line by the next run"; it was
    # said twice ("WARNING: ... is missing; ..." and "note: ... is missing; ...")
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    (cache / "tracks.parquet").unlink()
    result = run(args, env)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("is missing; the cache will be re-pulled") == 1
    (cache / "tracks.parquet").unlink()
    quiet = run([*args, "--quiet"], env)  # no log on stderr: the note is the one line
    assert quiet.stderr.count("is missing; the cache will be re-pulled") == 1


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_playlist_name_is_refused_without_listing_every_playlist(logged_in, name):
    # `--seed-playlist ""` answered 'did you mean' with five arbitrary playlists (each name
    # "contains" the empty string)
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    for args in (["build-playlist", "--dry-run", "--seed-playlist", name], ["moods", "cluster", name]):
        result = run(args, env)
        assert result.exit_code == 2 and "did you mean" not in result.stderr
        assert "give a playlist's name or id" in result.stderr


def test_search_with_spotify_says_a_failed_remote_search_once(logged_in):
    # `recommend search zombie --spotify` with a login Spotify refuses printed spotipy's "HTTP Error
    # for GET to .../v1/search ... returned 401" and, after a demo, "WARNING: remote search for
    # 'zombie' failed: ..." above its own "note: Spotify search failed (...)"
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    server.expire_access_tokens()
    server.revoke_refresh_tokens()
    result = subprocess.run([sys.executable, "-m", "recommender", "search", "owl", "--spotify"], capture_output=True,
                            text=True, env={**os.environ, **env, **SUBPROCESS}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("invalid_grant") == 1 and "showing cached tracks only" in result.stderr
    assert "HTTP Error" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["playlists"], ["evaluate"], ["tune"], ["search", "x"]])
def test_a_command_with_no_library_cached_says_to_add_demo_when_it_takes_it(tmp_path, args):
    # `recommend evaluate` (and tune, playlists) with nothing cached said "run `recommend refresh`
    # first (or `recommend build-playlist --demo`)": that run fills no cache of yours, while
    # `evaluate --demo` was what to try; search, similar and moods said "(or add --demo)"
    result = run(args, {"HOME": str(tmp_path), "RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    assert result.exit_code == 2
    assert " ".join(result.stderr.split()).endswith("run `recommend refresh` first (or add --demo)"), result.stderr


def test_search_with_spotify_on_the_demo_is_refused_before_any_work(tmp_path):
    # `recommend search zombie --demo --spotify` pulled the demo, then said "Spotify refused the
    # saved login (invalid_grant): run `recommend auth`" twice: no login could ever help
    result = run(["search", "zombie", "--demo", "--spotify"], {"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert result.exit_code == 2 and "--spotify and --demo cannot be combined" in result.stderr
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize("args, says", [
    (["evaluate", "--split", "holdout"], "give --dataset FILE"),
    (["evaluate", "--features", "full"], "give --dataset FILE"),
    (["evaluate", "--features", "fool"], "--features must be restricted or full"),
    (["tune", "--split", "dev"], "give --dataset FILE"),
])
def test_evaluate_options_that_would_be_ignored_are_refused(logged_in, args, says):
    # `recommend evaluate --split holdout` on your own library printed the usual numbers (the
    # split was ignored) and `--features fool` was accepted without a word
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    result = run(args, env)
    assert result.exit_code == 2 and says in result.stderr


@pytest.mark.parametrize("args", [["status", "--offline"], ["playlists"], ["config", "path"]])
def test_json_with_quiet_prints_the_json_for_every_command(logged_in, args):
    # `recommend status --json --quiet` printed nothing while `build-playlist`, `search` and
    # `evaluate` with --json --quiet print their JSON: a script got an empty answer
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    for flags in (["--json", "--quiet"], ["--quiet", "--json"]):
        for line in ([*args, *flags], [*flags, *args]):  # after the command or before it
            result = run(line, env)
            assert result.exit_code == 0 and json.loads(result.stdout), line
    assert run([*args, "--quiet"], env).stdout == ""


def test_a_playlist_link_or_uri_names_the_playlist(logged_in):
    # Spotify's "Share > Copy link to playlist" gives https://open.spotify.com/playlist/ID?si=...;
    # `--seed-playlist LINK` and `moods cluster LINK` said 'no playlist named "https://..."'
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    pid = next(p["id"] for p in server.account.playlists if p["name"] == "Road Trip")
    # as the track search takes a link: without https:// ("open.spotify.com/playlist/ID", as a
    # browser's address bar copies it) and embedded ("/embed/playlist/ID") were names before
    for ref in (f"https://open.spotify.com/playlist/{pid}?si=0123abcd", f"spotify:playlist:{pid}",
                f"https://open.spotify.com/intl-de/playlist/{pid}", f"open.spotify.com/playlist/{pid}",
                f"https://open.spotify.com/embed/playlist/{pid}"):
        result = run(["build-playlist", "--dry-run", "--json", "--seed-playlist", ref], env)
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["mode"] == "playlist"
        assert run(["moods", "cluster", ref, "--json"], env).exit_code == 0


def test_status_says_a_refused_login_without_spotipys_http_error(logged_in):
    # `recommend status` with a login the stand-in no longer knows printed "HTTP Error for GET to
    # http://127.0.0.1:8765/v1/me with Params: {} returned 401 due to Invalid access token" too
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    server.expire_access_tokens()
    server.revoke_refresh_tokens()
    done = subprocess.run([sys.executable, "-m", "recommender", "status"], capture_output=True, text=True,
                          env={**os.environ, **env, **SUBPROCESS}, timeout=120)
    assert done.returncode == 0 and "refused" in done.stdout
    assert "HTTP Error" not in done.stderr and done.stderr == ""


def test_a_semicolon_separated_feature_file_is_read(logged_in, tmp_path):
    # A spreadsheet saved as CSV with ';' (as European locales do) has a "Track URI" column,
    # yet the import said only "no track id column (expected one of ..., Track URI, uri)"; it
    # then named the separator as the problem; it is read now, "0,3" as 0.3
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    f = tmp_path / "features.csv"
    f.write_text("Track URI;Valence;Energy\nspotify:track:smallTrack000000000001;0,3;0,9\n")
    result = run(["import", "features", str(f)], env)
    assert result.exit_code == 0, result.stderr
    import pandas as pd
    got = pd.read_parquet(cache / "audio_features.parquet").set_index("track_id")
    assert got.loc["smallTrack000000000001", ["valence", "energy"]].tolist() == [0.3, 0.9]


def test_a_playlist_spotify_will_not_list_says_why_it_has_no_tracks(logged_in):
    # "Today's Top Hits" (owner spotify) shows 50 tracks in `recommend playlists`, but
    # `--seed-playlist` said only 'has no tracks to use as seeds' (its items answered 403)
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    for args in (["build-playlist", "--dry-run", "--seed-playlist", "Today's Top Hits"],
                 ["moods", "cluster", "Today's Top Hits"]):
        result = run(args, env)
        assert result.exit_code == 2
        said = " ".join(result.stderr.split())
        assert "does not let this app read its tracks" in said
        # not "has 0 tracks" first, of a playlist `recommend playlists` shows with its count, "(unread)"
        assert "has 0 tracks" not in said and ("no tracks this app can read" in said or "--seed-playlist" in args)
    result = run(["moods", "cluster", "Road Trip", "--k", "9"], env)  # a readable one says no such thing
    assert "read its tracks" not in result.stderr


@pytest.mark.parametrize("args", [["-h"], ["--version"], ["search", "-h"]])
def test_help_and_version_into_a_closed_pipe_exit_0(args):
    # `recommend -h | head -1` and `recommend --version | head -0` exited 1, where every
    # command's own output into a closed pipe exits 0 (README: the reader's choice)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "recommender", *args], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, timeout=120, env={**os.environ, **SUBPROCESS})
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (0, "")
    wrong = subprocess.run([sys.executable, "-m", "recommender", "nosuch"], capture_output=True, text=True,
                           timeout=120, env={**os.environ, **SUBPROCESS})
    assert wrong.returncode == 2  # a real usage error keeps its code


def test_a_damaged_demo_account_says_how_to_start_the_demo_afresh(tmp_path):
    # the demo's saved stand-in account, damaged: every `--demo` run failed with exit 2 and
    # nothing said what to do about the file
    from recommender.paths import demo_dir
    state = tmp_path / "state"
    account = demo_dir(state) / "standin-account.json"
    account.parent.mkdir(parents=True)
    account.write_text("[1]")
    result = run(["build-playlist", "--demo", "--dry-run", "--quiet"], {"RECOMMENDER_CACHE_DIR": str(state)})
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith(f"error: {account}: not a readable stand-in account") and "delete it" in line
    account.unlink()
    assert run(["build-playlist", "--demo", "--dry-run", "--quiet"],
               {"RECOMMENDER_CACHE_DIR": str(state)}).exit_code == 0


def test_a_mood_playlist_deleted_within_the_second_of_its_export_is_not_listed(logged_in, monkeypatch):
    """Export, refresh, delete in Spotify and refresh again, all within one second (a fast
    machine; the test above did it after others had warmed up): `playlists` still listed the
    deleted mood playlist, since the write and the refresh had the same whole-second time and
    "written in the refresh's second" counts as written after it."""
    from datetime import datetime, timedelta, timezone

    from recommender import publish, store as store_module
    from recommender.spotify import sync
    ticks = iter(range(10**6))  # one frozen second, each call a microsecond later
    second = datetime(2026, 11, 30, 20, 10, 44, tzinfo=timezone.utc)
    clock = lambda: second + timedelta(microseconds=next(ticks))  # noqa: E731
    for module in (publish, store_module, sync):
        monkeypatch.setattr(module, "utc_now", clock, raising=False)
    server, env, cache = logged_in
    settings = settings_for(server, cache)
    store = Store.from_settings(settings)
    assert run(["refresh", "--quiet"], env).exit_code == 0
    moodexport.export_moods(gateway_for(settings), store, settings, server.account.user["id"],
                            {"happy/upbeat": sorted(server.account.tracks)[:3]}, "Road Trip")
    assert run(["refresh", "--quiet"], env).exit_code == 0
    mood_id = next(p["id"] for p in publish.mood_playlists(store))
    server.account.playlist(mood_id)["followed"] = False  # deleted in Spotify
    assert run(["refresh", "--quiet"], env).exit_code == 0
    assert publish.mood_playlists(store, since_refresh=True) == []
    assert mood_id not in [r["id"] for r in json.loads(run(["playlists", "--json"], env).stdout)]


def test_playlists_json_says_what_the_tables_managed_column_says(logged_in):
    # the table said "yes" for the managed playlist and "mood" for an exported mood, while
    # --json had `"managed": true` for both: a script could not tell them apart
    server, env, cache = logged_in
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    settings = settings_for(server, cache)
    moodexport.export_moods(gateway_for(settings), Store.from_settings(settings), settings,
                            server.account.user["id"], {"happy": sorted(server.account.tracks)[:3]}, "Road Trip")
    rows = json.loads(run(["playlists", "--json"], env).stdout)
    text = run(["playlists"], {**env, "COLUMNS": "200"}).stdout.splitlines()
    roles = {r["name"]: r["role"] for r in rows if r["managed"]}
    assert roles == {settings.playlist.name: "yes", "recommend: happy": "mood"}, roles
    assert all(r["role"] is None for r in rows if not r["managed"])
    for r in rows:
        line = next(line for line in text if r["id"] in line)
        assert line.split("│")[-2].strip() == (r["role"] or ""), line


def test_a_mood_exports_json_gives_each_playlists_link_as_its_text_does(logged_in):
    # `moods recommend --export` printed each mood playlist's open.spotify.com link, its --json
    # only the id (the managed playlist's run has `playlist_url`)
    server, env, cache = logged_in
    settings = settings_for(server, cache)
    features = cache / "features.csv"
    ids = sorted(server.account.tracks)[:8]
    features.write_text("track_id;valence;energy\n" + "".join(f"{t};0,{7 + i % 3};0,8\n" for i, t in enumerate(ids)))
    assert run(["refresh", "--quiet"], env).exit_code == 0
    assert run(["import", "features", str(features), "--quiet"], env).exit_code == 0
    text = run(["moods", "recommend", "--mood", "happy", "--export", "-n", "4"], {**env, "COLUMNS": "200"})
    assert text.exit_code == 0, text.stderr
    made = run(["moods", "recommend", "--mood", "happy", "--export", "--json", "-n", "4"], env)
    assert made.exit_code == 0, made.stderr
    exported = json.loads(made.stdout)["exported"]
    assert [e["name"] for e in exported] == ["recommend: happy"], exported
    assert exported[0]["playlist_url"] == f"https://open.spotify.com/playlist/{exported[0]['playlist_id']}"
    assert exported[0]["playlist_url"] in text.stdout + text.stderr
    assert settings.playlist.name not in [e["name"] for e in exported]
    # and its help says so: it said "Print the rows as one JSON list", which --export does not give
    said = " ".join(run(["moods", "recommend", "-h"], {**env, "COLUMNS": "200"}).stdout.replace("│", " ").split())
    assert "Print the rows as one JSON list (for scripts). With --export: one object, tracks and exported." in said


def test_a_mood_export_is_in_the_run_log_as_a_build_is(logged_in):
    # `moods recommend --export` and `moods cluster --export` write private playlists to your
    # account, yet `recommend status` (and the web app's Runs page) showed no trace of them: a
    # failed export neither. Each is recorded; a list without --export is no write, not recorded.
    server, env, cache = logged_in
    features = cache / "features.csv"
    ids = sorted(server.account.tracks)[:8]
    features.write_text("track_id,valence,energy\n" + "".join(f"{t},0.{2 + i % 7},0.{9 - i % 5}\n" for i, t in enumerate(ids)))
    assert run(["refresh", "--quiet"], env).exit_code == 0
    assert run(["import", "features", str(features), "--quiet"], env).exit_code == 0
    assert run(["moods", "recommend", "--mood", "happy", "-n", "4", "--quiet"], env).exit_code == 0  # no write
    made = json.loads(run(["moods", "recommend", "--mood", "happy", "--export", "--json", "-n", "4"], env).stdout)
    playlist = json.loads(run(["playlists", "--json"], env).stdout)[0]["name"]
    server.clear_requests()
    clustered = run(["moods", "cluster", playlist, "--k", "2", "--export", "--json"], env)
    assert clustered.exit_code == 0, clustered.stderr
    seen = api_requests(server)  # what the export asked Spotify: the record says how many (it said null)
    (cache / "spotify-token.json").unlink()  # no login: the export fails, exit 3
    failed = run(["moods", "recommend", "--mood", "happy", "--export", "--no-input", "-n", "4"], env)
    assert failed.exit_code == 3, failed.stderr
    runs = json.loads(run(["status", "--json", "--offline"], env).stdout)["last_runs"]
    assert [r["command"] for r in runs[:4]] == ["moods recommend --export", "moods cluster --export",
                                                "moods recommend --export", "refresh"], runs
    assert runs[0]["exit_code"] == 3 and runs[1]["exit_code"] == 0 and runs[2]["exit_code"] == 0
    exported = json.loads(clustered.stdout)["exported"]
    assert runs[1]["playlists"] == [e["playlist_id"] for e in exported]
    assert runs[1]["added"] == sum(e["added"] for e in exported)
    assert runs[1]["requests"] == sum(e["requests"] for e in exported) == len(seen), [r.path for r in seen]
    assert runs[2]["playlist_id"] == made["exported"][0]["playlist_id"] and runs[2]["added"] == 4
    shown = " ".join(run(["status", "--offline"], env).stdout.split())
    assert "moods recommend --export exit 0" in shown and f"playlist {runs[2]['playlist_id']} +4 -0 =0" in shown
    assert f"=0, {runs[2]['requests']} requests" in shown and runs[2]["requests"] > 0


def test_a_track_named_with_spaces_only_is_quoted_in_the_table_and_the_diff(logged_in):
    """A track named "   " left a blank track cell and a gap in the dry run's "would add" line
    ('would add 30:     - Artist; ...'), as a playlist's blank name did in `playlists`."""
    from spotify_helpers import save_login
    from test_cli import env_for
    server, env, cache = logged_in
    first = json.loads(run(["build-playlist", "--dry-run", "--json"], env).stdout)["tracks"][0]
    server.account.tracks[first["track_id"]]["name"] = "   "
    fresh = cache.parent / "fresh"  # a first pull reads the name (a refresh keeps an unchanged playlist's)
    save_login(server, fresh)
    out = run(["build-playlist", "--dry-run"], {**env_for(server, fresh), "COLUMNS": "200"})
    assert out.exit_code == 0, out.stderr
    (line,) = [line for line in out.stdout.splitlines() if line.startswith("would add")]
    assert f'"   " - {first["artists"]}' in line, line
    assert any(f'│ "   " ' in row for row in out.stdout.splitlines()), out.stdout


def test_an_artist_named_with_spaces_only_is_quoted_as_a_track_so_named_is(logged_in):
    """An artist named "   " left a blank artist cell in the build and search tables and a gap
    in the lines naming a track ("would add", `--why`, `similar`'s title: "'Song' -     (in your
    library)"), where a track so named is quoted; the artist is quoted too."""
    from spotify_helpers import save_login
    from test_cli import env_for
    server, env, cache = logged_in
    first = json.loads(run(["build-playlist", "--dry-run", "--json"], env).stdout)["tracks"][0]
    artist_id = server.account.tracks[first["track_id"]]["artist_ids"][0]
    server.account.artists[artist_id]["name"] = "   "
    fresh = cache.parent / "fresh"  # a first pull reads the name (a refresh keeps an unchanged playlist's)
    save_login(server, fresh)
    env = {**env_for(server, fresh), "COLUMNS": "200"}
    out = run(["build-playlist", "--dry-run"], env)
    assert out.exit_code == 0, out.stderr
    (line,) = [line for line in out.stdout.splitlines() if line.startswith("would add")]
    assert f'{first["name"]} - "   "' in line, line
    row = next(row for row in out.stdout.splitlines() if f' {first["name"]} ' in row)
    assert '│ "   " ' in row, row
    why = run(["build-playlist", "--dry-run", "--why", first["track_id"]], env).stdout.splitlines()[0]
    assert why.startswith(f'{first["name"]!r} - "   " ('), why
    similar = run(["similar", first["track_id"]], env).stdout
    assert f'Similar to {first["name"]} - "   "' in similar, similar
    found = run(["search", first["name"]], env).stdout.splitlines()
    assert any(first["track_id"] in row and '│ "   " ' in row for row in found), found
