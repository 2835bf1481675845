"""Found in a new-user trial of the command line (README from the top, then awkward but realistic
situations): each test fails on the code before its fix. In-process (CliRunner) against the
stand-ins on 127.0.0.1."""

from __future__ import annotations

import errno
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
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
    monkeypatch.setattr(store, "tempfile", types.SimpleNamespace(mkstemp=read_only))
    writer = run(["refresh"], env)
    assert writer.exit_code == 7, writer.stderr
    assert writer.stderr.strip().splitlines()[-1].startswith("error: cannot write ")
    assert log.read_bytes() == before


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
    assert result.stdout.strip().endswith("(1 new, 0 updated; columns: energy); 0 of them are in your library; "
                                          "3 tracks have features now")


@pytest.mark.parametrize("text, expected", [
    ("blend:\n  max_trakcs: 20\n", "unknown key blend.max_trakcs (did you mean blend.max_tracks?)"),
    ("scorers:\n  artistwalk:\n    weight: 1\n", "unknown key scorers.artistwalk (did you mean scorers.artist_walk?)"),
    ("spotify:\n  Client_ID: x\n", "unknown key spotify.Client_ID (did you mean spotify.client_id?)"),
])
def test_a_typod_config_key_is_answered_with_the_key_meant(tmp_path, text, expected):
    """'unknown key blend.max_trakcs' left the user to find the spelling in default.yaml."""
    config = tmp_path / "config.yaml"
    config.write_text(text)
    result = run(["status", "--offline", "--config", str(config)], {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {config}: {expected}"


def test_an_unknown_key_with_no_close_one_gets_no_guess(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("scorers:\n  magic:\n    weight: 1\n")
    result = run(["status", "--offline", "--config", str(config)], {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    assert result.exit_code == 2 and result.stderr.strip() == f"error: {config}: unknown key scorers.magic"
