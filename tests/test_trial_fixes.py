"""Found in a new-user trial of the command line (README from the top, then awkward but realistic
situations): each test fails on the code before its fix. In-process (CliRunner) against the
stand-ins on 127.0.0.1."""

from __future__ import annotations

import errno
import json
import types

import pytest

from test_cli import logged_in, run  # noqa: F401 (a fixture)


def read_only(*args, **kwargs):
    raise OSError(errno.EROFS, "Read-only file system")


@pytest.fixture
def refreshed(logged_in):  # noqa: F811
    server, env, cache = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    return server, env, cache


def test_search_and_similar_on_a_read_only_cache_still_answer(refreshed, monkeypatch):
    """The search index could not be saved beside a read-only cache: `search` and `similar`
    exited 7 ("cannot write .../search_index.npz") though they only read; the index is an
    optimisation (libsource meant to go on, but caught OSError, not the StorageError the atomic
    write raises)."""
    from recommender import store
    server, env, cache = refreshed
    monkeypatch.setattr(store, "tempfile", types.SimpleNamespace(mkstemp=read_only))
    found = run(["search", "owl light", "--json"], env)
    assert found.exit_code == 0, found.stderr
    assert "Owl Light" in found.stdout
    similar = run(["similar", "owl light"], env)
    assert similar.exit_code == 0, similar.stderr
    assert "Similar to Owl Light" in similar.stdout
    assert not (cache / "search_index.npz").exists()


def test_a_log_that_cannot_be_written_lets_a_reader_run_and_a_writer_still_stops(refreshed, monkeypatch):
    """A read-only data directory: every command that logs (`build-playlist --dry-run`,
    `evaluate`, `similar`) exited 7 on recommend.log before reading anything. Now a warning
    names the log and the reader runs; a writer still stops at its first write (exit 7)."""
    from recommender import runlog, store
    server, env, cache = refreshed
    log = cache / "recommend.log"
    before = log.read_bytes()
    monkeypatch.setattr(runlog.PrivateRotatingFileHandler, "_open", read_only)
    dry = run(["build-playlist", "--dry-run"], env)
    assert dry.exit_code == 0, dry.stderr
    assert f"cannot write the log {log}: Read-only file system; this run goes on without it" in dry.stderr
    assert "would add" in dry.stdout
    quiet = run(["build-playlist", "--dry-run", "--quiet"], env)
    # with --quiet (cron's line), one note: a log that stopped being written said nothing at all
    assert quiet.exit_code == 0 and quiet.stdout == ""
    assert quiet.stderr == f"note: cannot write the log {log}: Read-only file system; this run goes on without it\n"
    monkeypatch.setattr(store, "tempfile", types.SimpleNamespace(mkstemp=read_only))
    writer = run(["refresh"], env)
    assert writer.exit_code == 7, writer.stderr
    assert writer.stderr.strip().splitlines()[-1].startswith("error: cannot write ")
    assert log.read_bytes() == before


def test_a_dry_run_on_a_read_only_data_directory_shows_its_playlist_though_it_cannot_be_recorded(refreshed, monkeypatch):
    """A read-only data directory (a disk remounted read-only, a backup mounted to look at): a
    dry run on a fresh cache reads only, yet exited 7 on runs.jsonl after its work, printing no
    playlist at all ("cannot write .../runs.jsonl"); it shows its playlist, exit 0, and says in
    one line that `recommend status` will not show it. A run that writes still stops (exit 7)."""
    from recommender import runlog
    server, env, cache = refreshed
    runs = (cache / "runs.jsonl").read_bytes()
    monkeypatch.setattr(runlog.PrivateRotatingFileHandler, "_open", read_only)  # the log's file,
    monkeypatch.setattr(runlog, "open_locked", read_only)  # and the run record's
    for quiet in ([], ["--quiet"]):
        dry = run(["build-playlist", "--dry-run", *quiet], env)
        assert dry.exit_code == 0, dry.stderr
        assert ("would add" in dry.stdout) != bool(quiet)
        assert (f"note: this dry run could not be recorded in {cache / 'runs.jsonl'} (Read-only file system), so "
                "`recommend status` does not show it\n") in dry.stderr
        assert "error" not in dry.stderr
    assert (cache / "runs.jsonl").read_bytes() == runs
    writer = run(["build-playlist"], env)
    assert writer.exit_code == 7, writer.stderr


def test_a_log_folder_that_cannot_be_made_is_a_note_not_exit_7_for_every_command(refreshed, tmp_path):
    """`schedule.log_file` in a folder that could not be made (a disk not mounted, a folder above
    it not writable) stopped every command with exit 7, `status` and the nightly run included, so
    status could not say why; a log file that cannot be written was a note already."""
    server, env, cache = refreshed
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")  # a file where a folder of the log's path is needed: no mkdir can succeed
    config = tmp_path / "config.yaml"
    config.write_text(f"schedule:\n  log_file: {blocker / 'sub' / 'recommend.log'}\n")
    assert run(["status", "--offline", "--config", str(config)], env).exit_code == 0
    for quiet in ([], ["--quiet"]):  # (with --quiet, cron's mail: a note)
        result = run(["build-playlist", "--dry-run", *quiet, "--config", str(config)], env)
        assert result.exit_code == 0, result.stderr
        said = " ".join(result.stderr.split())
        assert (f"cannot write the log {blocker / 'sub' / 'recommend.log'}: cannot create the folder "
                f"{blocker / 'sub'}:") in said and "this run goes on without it" in said


def test_no_help_shows_a_value_after_a_flag():
    """typer 0.29 printed `--dry-run <bool>`, `--help <bool>` in every help, as if each flag took a
    value (`--write true`); options that take one keep their type."""
    from test_cli_conventions import all_commands
    for command in [[], ["moods"], *all_commands()]:
        result = run([*command, "--help"], {"COLUMNS": "200"})
        assert result.exit_code == 0, command
        assert "<bool>" not in result.stdout, command
    help_text = run(["build-playlist", "--help"], {"COLUMNS": "200"}).stdout
    assert "--seed-playlist          <str>" in help_text and "<path>" in help_text
    assert "open.spotify.com link" in help_text  # as README says it takes (the help said "name or id")


def test_import_features_says_how_many_of_the_imported_tracks_are_yours(refreshed, tmp_path):
    """A second file with one track not in the library said "3 tracks have features now; 0 of
    them are in your library": the 0 counted this file's tracks, not the 3."""
    server, env, cache = refreshed
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("track_id,energy\nsmallTrack000000000001,0.5\nsmallTrack000000000002,0.7\n")
    second.write_text("track_id,energy\n0000000000000000000000,0.2\n")
    assert run(["import", "features", str(first)], env).exit_code == 0
    result = run(["import", "features", str(second)], env)
    assert result.exit_code == 0, result.stderr
    assert ("(1 new, 0 updated; columns: energy); 0 of them are in your cache (your library and the tracks discovery found); 3 tracks have features now"
            in " ".join(result.stdout.split()))
    third = tmp_path / "third.csv"
    third.write_text("track_id,energy\nsmallTrack000000000003,0.5\n")
    said = " ".join(run(["import", "features", str(third)], env).stdout.split())
    assert "; 1 of them is in your cache (" in said, said  # (it said "1 of them are")


def config_error(tmp_path, text: str) -> str:
    """The one stderr line of `recommend config show` on a config file holding ``text`` (exit 2)."""
    config = tmp_path / "config.yaml"
    config.write_text(text)
    result = run(["config", "show", "--config", str(config)], {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    assert result.exit_code == 2, result.stdout
    return result.stderr.strip().replace(f"error: {config}: ", "error: ")


@pytest.mark.parametrize("text, expected", [
    ("blend:\n  max_trakcs: 20\n", "unknown key blend.max_trakcs (did you mean blend.max_tracks?)"),
    ("scorers:\n  artistwalk:\n    weight: 1\n", "unknown key scorers.artistwalk (did you mean scorers.artist_walk?)"),
    ("spotify:\n  Client_ID: x\n", "unknown key spotify.Client_ID (did you mean spotify.client_id?)"),
    ("scorers:\n  magic:\n    weight: 1\n", "unknown key scorers.magic"),  # nothing close: no guess
])
def test_a_typod_config_key_is_answered_with_the_key_meant(tmp_path, text, expected):
    """'unknown key blend.max_trakcs' left the user to find the spelling in default.yaml."""
    assert config_error(tmp_path, text) == f"error: line 2: {expected}"  # the line of the key


@pytest.fixture
def account_server():
    """``account_server(edit)``: a stand-in on the small account as ``edit(data)`` leaves it."""
    import json

    from recommender.standins.spotify import Account, StandinServer

    from conftest import FIXTURES
    servers = []

    def start(edit):
        data = json.loads((FIXTURES / "small_account.json").read_text())
        edit(data)
        server = StandinServer(Account.from_dict(data)).__enter__()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.__exit__(None, None, None)


def logged_in_env(server, cache):
    """The CLI's environment for ``server`` (an ``account_server``), logged in, with ``cache``."""
    from spotify_helpers import save_login
    from test_cli import env_for
    save_login(server, cache)
    return env_for(server, cache)


def new_account(data):
    for key in ("playlists", "saved_tracks", "followed_artists"):
        data[key] = []
    data["top_tracks"], data["top_artists"] = {}, {}


def tiny_account(data):
    new_account(data)
    data["playlists"] = [{"id": "tinyPlaylist0000000001", "name": "Three",
                          "items": ["smallTrack000000000001", "smallTrack000000000002", "smallTrack000000000003"]}]


def test_a_brand_new_account_gets_sentences_not_an_empty_table_or_a_vague_hint(account_server, tmp_path):
    """`recommend playlists` on an account without playlists printed an empty table under a
    title wrapped at 40 columns; build-playlist's 'no seeds' ended "build from one of your
    playlists (seed playlist)", naming no option; `moods cluster` said "choose: the library has
    no playlists" and offered to list them."""
    server = account_server(new_account)
    cache = tmp_path / "cache"
    env = logged_in_env(server, cache)
    assert run(["refresh", "--quiet"], env).exit_code == 0
    listed = run(["playlists"], env)
    assert listed.exit_code == 0
    assert listed.stdout.startswith("No playlists: the last refresh found none in your account")
    assert "┃" not in listed.stdout
    assert run(["playlists", "--json"], env).stdout.strip() == "[]"
    built = run(["build-playlist"], env)
    assert built.exit_code == 2
    # no playlist to build from: it says to make one (it said "build from one of your playlists")
    assert built.stderr.strip().endswith("or make a playlist in Spotify and build from it (`recommend refresh`, "
                                         "then `recommend build-playlist --seed-playlist NAME`)"), built.stderr
    status = run(["status", "--offline"], env).stdout  # was "0 of 0 artists (n/a); `recommend enrich genres` adds more"
    assert "genres:   no artists in the cache\n" in status and "adds more" not in status
    clustered = run(["moods", "cluster"], env)  # "...: choose: the library has no playlists (refresh first?);
    assert clustered.exit_code == 2  # `recommend playlists` lists them all"; then "(refresh first?)" after a refresh
    assert clustered.stderr.strip() == ("error: no playlist to cluster: the last refresh found no playlists in your "
                                        "account (make or follow one in Spotify, then `recommend refresh`)")
    # search said "No match for 'love' in the cache in ... (nothing scored 0.35 or more)", and
    # similar "no track ... matches 'love'; try `recommend search`", which had no track either
    for args in (["search", "love"], ["similar", "love"]):
        said = run(args, {**env, "COLUMNS": "300"})
        assert said.exit_code == 2 and "holds no tracks to search: the last refresh found none in your account" \
            in said.stderr and "recommend search" not in said.stderr, (args, said.stdout, said.stderr)


def followed_only_account(data):
    followed = [p for p in data["playlists"] if p.get("owner") == "spotify"]
    assert followed
    new_account(data)
    data["playlists"] = followed


def test_an_account_of_followed_playlists_or_one_small_one_is_offered_only_what_works(account_server, tmp_path):
    """An account whose playlists are all followed (Spotify lets this app read none of their
    tracks) was told to build `--seed-playlist NAME` from one, and `moods cluster` offered its
    playlists by name; each then failed on the playlist offered. A 3-track playlist was offered
    for clustering, which needs 4."""
    for edit in (followed_only_account, tiny_account):
        server = account_server(edit)
        cache = tmp_path / edit.__name__
        env = logged_in_env(server, cache)
        assert run(["refresh", "--quiet"], env).exit_code == 0
        built = " ".join(run(["build-playlist"], env).stderr.split())
        clustered = run(["moods", "cluster"], env)
        said = " ".join(clustered.stderr.split())
        assert clustered.exit_code == 2
        if edit is tiny_account:
            assert "build from one of your playlists (`recommend build-playlist --seed-playlist NAME`)" in built, built
            assert said == "error: no playlist to cluster: your one playlist does not have 4 tracks this app can read", said
            # evaluate said what was missing, not what to do
            evaluated = " ".join(run(["evaluate"], env).stderr.split())
            assert evaluated == ("error: no playlist has at least 10 tracks to hide some of (evaluate.min_tracks): add "
                                 "tracks to one until it has 10, or set evaluate.min_tracks lower (2 at least)"), evaluated
        else:
            assert "--seed-playlist NAME" in built and "build from one of your playlists" not in built, built
            assert "make a playlist of your own in Spotify (this app cannot read the tracks of the playlist you only " \
                   "follow)" in built, built
            assert "this app can read; Spotify does not let this app read the tracks of playlists you only follow" in said
            assert "Today" not in said, said  # the followed playlist is not offered
            # evaluate said only "no playlist has at least 10 tracks", of a playlist `playlists` shows as "0 of 16 (unread)"
            evaluated = " ".join(run(["evaluate"], env).stderr.split())
            assert "(evaluate.min_tracks); Spotify does not let this app read the tracks of the playlist you only " \
                   "follow" in evaluated, evaluated


def test_one_playlist_is_one_playlist(account_server, tmp_path):
    """'1 playlists (1 fetched, ...)' after the refresh of an account with one playlist."""
    server = account_server(tiny_account)
    cache = tmp_path / "cache"
    env = logged_in_env(server, cache)
    refreshed = run(["refresh"], env)
    assert refreshed.exit_code == 0
    assert refreshed.stdout.startswith("1 playlist (1 fetched, 0 unchanged, 0 not readable), ")
    assert run(["playlists"], {**env, "COLUMNS": "120"}).stdout.startswith("1 playlist (ids are whole")


def test_the_standin_with_an_account_file_does_not_promise_the_sample_library(monkeypatch, tmp_path):
    """`recommend standin --account FILE` said "`recommend refresh` pulls the sample library"."""
    import types

    from recommender.standins import spotify

    said = []

    def fake_run(port, extended, account_path, ready, prepare):
        ready(types.SimpleNamespace(base_url="http://127.0.0.1:1", api_url="http://127.0.0.1:1/v1/",
                                    accounts_url="http://127.0.0.1:1"))
        said.append(account_path)
    monkeypatch.setattr(spotify, "run_standin", fake_run)
    account = tmp_path / "mine.json"
    account.write_text("{}")
    result = run(["standin", "--port", "0", "--account", str(account)], {})
    assert result.exit_code == 0 and said == [str(account)]
    assert result.stderr.strip().endswith("`recommend refresh` pulls that account's library.")
    result = run(["standin", "--port", "0"], {})
    assert result.stderr.strip().endswith("`recommend refresh` pulls the sample library.")


def test_imported_audio_features_survive_a_cache_cleaner(standin):
    """README: deleting the cache directory "costs one re-pull". It also took the audio features
    you imported (and the genres `enrich genres` looked up for half an hour), which no re-pull
    gives back: `moods` then said "no audio features". They are state now, beside the manifest."""
    import shutil

    from recommender import paths
    from recommender.config import load_settings
    from recommender.store import Store

    from spotify_helpers import save_login
    from test_cli import env_for
    state, cache = paths.user_data_dir(), paths.user_cache_dir()
    save_login(standin, state)
    env = {k: v for k, v in env_for(standin, state).items() if k != "RECOMMENDER_CACHE_DIR"}
    assert run(["refresh", "--quiet"], env).exit_code == 0
    features = cache.parent / "features.csv"
    features.write_text("track_id,energy,valence\nsmallTrack000000000001,0.5,0.4\nsmallTrack000000000002,0.7,0.9\n")
    assert run(["import", "features", str(features), "--quiet"], env).exit_code == 0
    assert (state / "audio_features.parquet").exists() and not (cache / "audio_features.parquet").exists()
    shutil.rmtree(cache)  # a cache cleaner
    assert run(["refresh", "--quiet"], env).exit_code == 0
    store = Store.from_settings(load_settings(environ={}))
    assert sorted(store.load_frame("audio_features")["track_id"]) == ["smallTrack000000000001",
                                                                      "smallTrack000000000002"]
    assert not paths.refetchable("audio_features.parquet") and not paths.refetchable("artist_genres.parquet")
    shown = " ".join(run(["config", "path"], {**env, "COLUMNS": "200"}).stdout.split())
    assert f"data: {state} (manifest, login token, run log, imported audio features, genres;" in shown


def test_features_saved_in_the_cache_directory_before_are_read_and_moved(tmp_path):
    import pandas as pd

    from recommender.store import Store
    state, cache = tmp_path / "state", tmp_path / "cache"
    Store(cache).save_frame("audio_features", pd.DataFrame({"track_id": ["a" * 22], "energy": [0.5]}))  # one folder
    store = Store(state, cache)
    assert store.frame_path("audio_features") == cache / "audio_features.parquet"
    assert list(store.load_frame("audio_features")["track_id"]) == ["a" * 22]
    store.save_frame("audio_features", store.load_frame("audio_features"))
    assert (state / "audio_features.parquet").exists() and not (cache / "audio_features.parquet").exists()
    assert store.frame_path("audio_features") == state / "audio_features.parquet"
    assert store.frame_path("tracks") == cache / "tracks.parquet"


def test_the_state_frames_are_the_frames_no_refresh_makes():
    from recommender import paths, store
    assert set(paths.STATE_FRAMES) == {f"{name}.parquet" for name in store.MADE_BY}


def test_tune_keeps_the_current_weights_on_a_tie(tmp_path):
    """On a library where every weight set ranks alike, tune named the grid's first combination
    best ("content 0, opendata 0, artist_walk 0, year 0.1, coverage 0", gain +0.0000) and
    `--write` put that year-only blend into the config over weights exactly as good."""
    import json

    from conftest import FIXTURES
    result = run(["tune", "--dataset", str(FIXTURES / "tidy_small.csv"), "--folds", "2", "--json"],
                 {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["best"]["p@10"] == out["defaults"]["p@10"] and out["best"]["ndcg@10"] == out["defaults"]["ndcg@10"]
    assert out["best"]["weights"] == {k: v for k, v in out["defaults"]["weights"].items() if k in out["best"]["weights"]}


def test_a_config_of_comments_only_keeps_them_when_a_command_writes_it(tmp_path):
    """`tune --write` (and `schedule install`) on a config file holding only comments (a template
    with every key commented out) replaced the whole file with the new keys."""
    from recommender.configfile import set_values
    from recommender.config import load_settings
    config = tmp_path / "config.yaml"
    config.write_text("# my settings\n# blend:\n#   max_tracks: 30\n")
    diff = set_values(config, {"scorers.year.weight": 0.5})
    assert config.read_text() == "# my settings\n# blend:\n#   max_tracks: 30\nscorers:\n  year:\n    weight: 0.5\n"
    assert "-# my settings" not in diff and "+scorers:" in diff
    assert load_settings(config, environ={}).scorers.year.weight == 0.5


def test_tune_write_with_nothing_to_change_does_not_say_it_wrote(tmp_path, tune_finds_better):
    """A second `tune --write` printed "(the config already had these weights)" and then
    "weights written to ..." although the file was left as it was."""
    from conftest import FIXTURES
    config = tmp_path / "config.yaml"
    config.write_text("# mine\n")
    args = ["tune", "--dataset", str(FIXTURES / "tidy_small.csv"), "--folds", "2", "--write", "--config", str(config)]
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")}
    first = run(args, env)
    assert first.exit_code == 0 and f"weights written to {config}" in first.stdout
    written = config.read_text()
    again = run(args, env)
    assert again.exit_code == 0, again.stderr
    said = " ".join(again.stdout.split())  # the line wraps to the terminal
    assert said.endswith(f"nothing written to {config}: the best weights are the ones in effect")
    assert "weights written" not in again.stdout and config.read_text() == written


@pytest.mark.parametrize("command", [["search"], ["similar"], ["playlists"], ["moods", "recommend"]])
def test_the_help_of_a_command_printing_rows_says_its_json_is_a_list(command):
    """`search --json` prints a list (README says so) while its help said "Print one JSON object"."""
    text = " ".join(run([*command, "--help"], {"COLUMNS": "200"}).stdout.split())
    assert "Print the rows as one JSON list (for scripts)." in text and "one JSON object" not in text


def test_schedule_print_pairs_each_setting_with_the_variable_it_comes_from(tmp_path):
    """`schedule install --print` listed the keys, then the variables, each sorted on its own:
    "enrich.musicbrainz_url, listenbrainz.api_url, ... come from environment
    RECOMMENDER_LISTENBRAINZ_API_URL, environment RECOMMENDER_LISTENBRAINZ_LABS_URL, ...", so the
    first key seemed to come from the first variable."""
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c"), "SPOTIPY_CLIENT_ID": "mine",
           "RECOMMENDER_MUSICBRAINZ_URL": "http://127.0.0.1:1/ws/2/",
           "RECOMMENDER_LISTENBRAINZ_API_URL": "http://127.0.0.1:2/1"}
    result = run(["schedule", "install", "--print"], env)
    assert result.exit_code == 0, result.stderr
    note = " ".join(result.stderr.split())
    assert note.startswith("note: enrich.musicbrainz_url from environment RECOMMENDER_MUSICBRAINZ_URL, "
                           "listenbrainz.api_url from environment RECOMMENDER_LISTENBRAINZ_API_URL, ")
    assert ", spotify.client_id from environment SPOTIPY_CLIENT_ID: a scheduled run does not see these settings" in note


@pytest.mark.parametrize("text, expected", [
    ("blend:\n  max_tracks: 20\nplaylist:\n  name: x\nblend:\n  threshold: 0.4\n",
     "line 5 repeats key 'blend' of line 1: the settings there would be lost; merge the two"),
    ("blend:\n  max_tracks: 20\n  max_tracks: 30\n",
     "line 3 repeats key 'max_tracks' of line 2: the settings there would be lost; merge the two"),
    # one flow mapping on one line: compared by line alone, the second weight silently won
    ("scorers:\n  content: {weight: 1, weight: 2}\n",
     "line 2 repeats key 'weight' earlier on the same line: the settings there would be lost; merge the two"),
])
def test_a_section_given_twice_in_the_config_is_an_error_not_a_silent_loss(tmp_path, text, expected):
    """A second `blend:` section further down (a user appending settings) silently replaced the
    first: blend.max_tracks 20 was dropped, the run used 50. `tune --write` on the same file
    failed meanwhile ("cannot parse YAML (DuplicateKeyError)"), so the two readers disagreed."""
    assert config_error(tmp_path, text) == f"error: {expected}"


def test_whole_numbers_with_a_leading_zero_are_read_as_written_not_as_octal(tmp_path):
    """PyYAML reads YAML 1.1, where `040` is octal 32 and `010` is 8, while `090` (no octal
    number) was 90 and ruamel, which writes the file back, reads 40: a padded `max_tracks: 040`
    made a 32-track playlist. YAML 1.2's reading: 40, with `0o40` and `0x20` for other bases; a
    base-60 `1:30` is text, refused by the key's check rather than read as 90."""
    from recommender.config import load_settings
    config = tmp_path / "config.yaml"
    config.write_text("blend:\n  max_tracks: 040\n  max_per_artist: 02\n"
                      "refresh:\n  discovery_artists: 010\n  discovery_albums_per_artist: 0x10\n"
                      "  discovery_shared_albums: 0o10\n")
    settings = load_settings(config, environ={})
    assert (settings.blend.max_tracks, settings.blend.max_per_artist) == (40, 2)
    assert (settings.refresh.discovery_artists, settings.refresh.discovery_albums_per_artist,
            settings.refresh.discovery_shared_albums) == (10, 16, 8)
    assert config_error(tmp_path, "spotify:\n  timeout: 1:30\n").endswith(
        "spotify.timeout must be a number, got '1:30'")


def test_yaml_merge_keys_and_the_shipped_defaults_still_load(tmp_path):
    from recommender.config import load_settings
    config = tmp_path / "config.yaml"
    config.write_text("scorers:\n  content: &w\n    weight: 2\n  year:\n    <<: *w\n")
    settings = load_settings(config, environ={})
    assert settings.scorers.content.weight == settings.scorers.year.weight == 2


def test_moods_recommend_with_a_mood_and_a_point_says_not_both(tmp_path):
    """`--mood happy --valence 0.3 --energy 0.2` was answered "give --mood, or --valence and
    --energy", which the user had done, twice over."""
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path)}
    both = run(["moods", "recommend", "--mood", "happy", "--valence", "0.3", "--energy", "0.2"], env)
    assert both.exit_code == 2
    assert both.stderr.strip() == "error: give --mood, or --valence and --energy (a point of the mood plane), not both"
    half = run(["moods", "recommend", "--valence", "0.3"], env)
    assert half.stderr.strip() == "error: give --mood, or --valence and --energy (a point of the mood plane)"


def test_a_track_not_found_with_demo_or_dataset_points_to_the_search_of_that_library(tmp_path):
    """`similar X --demo` (or `--dataset FILE`) said "not in the cached library; run `recommend
    refresh` or pick one with `recommend search`": the search of your own cache, which then
    said to refresh first."""
    from recommender.cli.base import _where

    from conftest import FIXTURES
    data = tmp_path / "my songs.csv"
    data.write_bytes((FIXTURES / "tidy_small.csv").read_bytes())
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")}
    quoted = f"`recommend search --dataset '{data}'`"
    for args, said in ((["similar", "zzzqqq"], f"error: no track in {data} matches 'zzzqqq'; try {quoted} or a "
                                                "Spotify track URL"),
                       (["similar", "4u7EnebtmKWzUH433cf5Qv"], f"error: track 4u7EnebtmKWzUH433cf5Qv is not in {data}; "
                                                               f"pick one with {quoted}"),
                       (["moods", "near", "4u7EnebtmKWzUH433cf5Qv"], f"error: track 4u7EnebtmKWzUH433cf5Qv is not in "
                                                                     f"{data}; pick one with {quoted}")):
        result = run([*args, "--dataset", str(data)], env)
        assert result.exit_code == 2 and result.stderr.strip() == said, args
    assert _where(True, None)[:2] == ("the sample library", "`recommend search --demo`")


def test_a_demo_track_not_found_is_said_with_names_the_sample_library_holds(tmp_path):
    """`similar zzzqqq --demo` (and the web demo's Similar page) said "try ... or a Spotify track
    URL", which finds nothing in the sample library; it names a title and an artist it holds,
    and each of them finds a track there."""
    import re

    from recommender.explore import DEMO
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")}
    result = run(["similar", "zzzqqq", "--demo"], env)
    assert result.exit_code == 2 and result.stderr.strip() == (
        f"error: no track in the sample library matches 'zzzqqq'; try `recommend search --demo` or {DEMO.other}")
    assert "URL" not in result.stderr
    examples = re.findall(r"'([^']+)'", DEMO.other)
    assert examples == ["Zombie", "The Cranberries"]
    for text in examples:
        found = run(["similar", text, "--demo", "--json"], env)
        assert found.exit_code == 0 and json.loads(found.stdout), (text, found.stderr)


def test_a_demo_track_without_audio_features_does_not_send_you_to_import_them(tmp_path):
    """`moods near "take it easy eagles" --demo` (a sample track without audio features) said
    "import audio features with `recommend import features FILE.csv`": that fills your own
    cache, which --demo never reads, so the import changed nothing. It now says so."""
    env = {"HOME": str(tmp_path), "RECOMMENDER_CACHE_DIR": str(tmp_path / "c")}
    result = run(["moods", "near", "DddHvq97D7ThSp9PQIMKK6", "--demo"], env)  # Take It Easy - 2013 Remaster
    assert (result.exit_code, " ".join(result.stderr.split()).split("; ", 1)[1]) == (
        2, "the sample library has the audio features it ships with (`recommend import features` fills your own "
           "cache, which --demo does not read)")
    assert "(DddHvq97D7ThSp9PQIMKK6) has no valence/energy" in result.stderr


def test_a_second_demo_run_while_one_serves_the_sample_account_is_refused_not_logged_in_over_it(tmp_path):
    """With `recommend web --demo` open, `recommend build-playlist --demo` (or a mood export with
    --demo) in another terminal logged in to its own stand-in over the web app's saved login and
    saved its own copy of the sample account: the web app's next Publish or export said "Spotify
    refused the saved login (invalid_grant) ... run `recommend auth`", and the run stopped last
    saved over the other's playlists. One demo run serves the sample account at a time: the
    second is refused (exit 6) naming the first, and the first goes on working."""
    from recommender import jobs
    from recommender.config import load_settings
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path)})
    env = {"HOME": str(tmp_path), "RECOMMENDER_CACHE_DIR": str(tmp_path)}
    with jobs.demo_environment(settings) as (demo, _server):  # as `recommend web --demo` holds it
        jobs.demo_login(demo)
        for args in (["build-playlist", "--demo", "--dry-run"],
                     ["moods", "recommend", "--mood", "happy", "--demo", "--export"]):
            result = run(args, env)
            assert result.exit_code == 6, (args, result.stderr)
            said = " ".join(result.stderr.split())
            assert said.startswith("error: another demo run is using the sample account (pid ") and \
                "so one runs at a time; stop that one" in said, said
        assert jobs.connect(demo).get("me")["id"]  # its login was not replaced
    result = run(["build-playlist", "--demo", "--dry-run", "--quiet"], env)  # once it stopped
    assert result.exit_code == 0, result.stderr


def test_a_second_web_demo_says_no_url_and_opens_no_browser_before_it_is_refused(tmp_path):
    """With one `recommend web --demo` serving, a second printed a fresh URL, opened the browser
    on it and only then stopped ("another demo run is using the sample account"): the tab it
    opened met "connection refused". The demo's lock is now taken before the URL."""
    import os
    import subprocess
    import sys

    from recommender.lock import demo_lock
    opened = tmp_path / "opened"
    browser = tmp_path / "browser.sh"
    browser.write_text(f"#!/bin/sh\necho \"$1\" > {opened}\n")
    browser.chmod(0o755)
    env = {**os.environ, "HOME": str(tmp_path), "RECOMMENDER_CACHE_DIR": str(tmp_path), "BROWSER": str(browser),
           "DISPLAY": ":0"}
    with demo_lock(tmp_path):  # as the first `recommend web --demo` holds it
        result = subprocess.run([sys.executable, "-m", "recommender", "web", "--demo", "--port", "0"], env=env,
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 6, result.stderr
    assert result.stdout == "" and not opened.exists()
    assert "another demo run is using the sample account" in result.stderr and "open the URL" not in result.stderr


def test_import_features_says_which_rows_it_read_in_percent(refreshed, tmp_path):
    """A features file joined from two exports, one in percent: its percent rows were skipped
    as out of range; now they are read, and one line says how many and which columns."""
    server, env, cache = refreshed
    joined = tmp_path / "joined.csv"
    joined.write_text("track_id,valence,energy,tempo\nsmallTrack000000000001,0.5,0.7,120\n"
                      "smallTrack000000000002,56.6,40.1,97\n")
    result = run(["import", "features", str(joined)], env)
    assert result.exit_code == 0, result.stderr
    assert ("read 1 row written on a 0-to-100 scale as percentages (their energy, valence divided by 100)"
            in result.stdout)
    assert "skipped" not in result.stdout
    assert run(["import", "features", str(joined), "--json"], env).stdout.count('"percent_rows": 1') == 1


def test_status_says_how_many_tracks_have_audio_features(refreshed, tmp_path):
    """After `import features`, `recommend status` said nothing of audio features (only of
    genres), so a user could not see how many tracks the mood commands can place."""
    server, env, cache = refreshed
    before = " ".join(run(["status", "--offline"], env).stdout.split())
    assert ("features: none with valence and energy, which the mood commands need "
            "(`recommend import features FILE.csv`)") in before
    f = tmp_path / "f.csv"
    f.write_text("track_id,valence,energy\nsmallTrack000000000001,0.5,0.7\nsmallTrack000000000002,0.4,\n"
                 "0000000000000000000000,0.1,0.2\n")
    assert run(["import", "features", str(f)], env).exit_code == 0
    after = json.loads(run(["status", "--offline", "--json"], env).stdout)["audio_features"]
    assert after["with_features"] == 1 and after["recordings"] > 2  # no energy: not placed; not in the library: not counted
    shown = " ".join(run(["status", "--offline"], env).stdout.split())
    assert f"features: 1 of {after['recordings']} recordings (" in shown


def test_a_demo_run_whose_sample_account_cannot_be_read_lets_the_demo_lock_go(tmp_path, monkeypatch):
    """A demo run that failed to read the sample account's saved state for a reason other than
    a damaged file (a permission refused, an unreadable disk) kept the demo lock it had just
    taken: in the same process (`recommend web --demo`'s, the tests') every later demo run was
    refused as "another demo run is using the sample account", naming itself."""
    from recommender import jobs
    from recommender.config import load_settings
    from recommender.standins.spotify import Account
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path)})
    state = jobs.demo_dir(settings.cache_dir) / jobs.DEMO_ACCOUNT
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("{}")

    def unreadable(path):
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(Account, "from_file", staticmethod(unreadable))
    with pytest.raises(PermissionError):
        with jobs.demo_environment(settings):
            pass
    monkeypatch.undo()
    state.unlink()
    with jobs.demo_environment(settings) as (demo, _server):  # the lock was let go
        assert demo.cache_dir


def test_evaluate_of_small_playlists_beside_followed_ones_says_how_to_evaluate_the_small_ones(account_server, tmp_path):
    """Playlists of your own under 10 tracks beside one you follow (Spotify's, whose tracks this
    app cannot read): `evaluate` and `tune` said only to copy the followed one's tracks into a
    playlist of your own, not to add tracks to yours or set evaluate.min_tracks lower, which
    evaluates those you have (as it says when you follow none)."""

    def edit(data):
        followed = [p for p in data["playlists"] if p.get("owner") == "spotify"]
        tiny_account(data)
        data["playlists"] += followed
    server = account_server(edit)
    cache = tmp_path / "cache"
    env = logged_in_env(server, cache)
    assert run(["refresh", "--quiet"], env).exit_code == 0
    for command in ("evaluate", "tune"):
        result = run([command], env)
        said = " ".join(result.stderr.split())
        assert result.exit_code == 2
        assert said.startswith("error: no playlist has at least 10 tracks to hide some of (evaluate.min_tracks): add "
                               "tracks to one of yours until it has 10, or set evaluate.min_tracks lower (2 at least)"), said
        assert "Spotify does not let this app read the tracks of the playlist you only follow" in said, said
