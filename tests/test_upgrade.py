"""Upgrading over the files an older version left (README: Upgrading): each test writes the
older layout or format itself, then runs this version on it."""

from __future__ import annotations

from recommender import paths
from recommender.config import load_settings
from recommender.store import Store

from spotify_helpers import api_requests, save_login
from test_cli import env_for, run


def test_frames_and_open_data_answers_kept_in_the_state_directory_are_read_and_moved(standin, tmp_path):
    """The 0.1.0 versions of before the cache directory kept everything in the state directory
    (~/.local/state/recommend), and their crontab line named it (RECOMMENDER_CACHE_DIR=<it>).
    After the upgrade every read-only command said "no cached library ... run `recommend
    refresh`", the refresh by hand said "tracks.parquet is missing", pulled the whole library
    again and asked ListenBrainz and MusicBrainz every answer again (minutes at MusicBrainz's
    pace), and from then on the nightly runs and yours kept a cache each."""
    import shutil
    state, cache = paths.user_data_dir(), paths.user_cache_dir()
    one = tmp_path / "one-folder"
    save_login(standin, one)
    assert run(["refresh", "--quiet"], env_for(standin, one)).exit_code == 0
    answers = one / "opendata" / "similar_artists.json"
    answers.parent.mkdir(exist_ok=True)
    if not answers.exists():
        answers.write_text("{}")
    kept = answers.read_bytes()
    shutil.copytree(one, state, dirs_exist_ok=True)  # where the older version kept all of it
    nightly = env_for(standin, state)  # its crontab line
    by_hand = {k: v for k, v in nightly.items() if k != "RECOMMENDER_CACHE_DIR"}

    store = Store.from_settings(load_settings(environ={}))
    assert store.load_library() is not None and store.problems == []  # a read-only command
    for env in (by_hand, nightly, by_hand):
        before = len(api_requests(standin))
        result = run(["refresh"], env)
        assert result.exit_code == 0, result.output
        assert "missing" not in result.output and "re-pulled" not in result.output
        asked = [r.path for r in api_requests(standin)[before:]]
        assert not [p for p in asked if p.startswith("/v1/playlists/")], asked  # no playlist pulled again
        assert f"Cache: {cache}" in " ".join(result.stdout.split())
    assert (cache / "opendata" / "similar_artists.json").read_bytes() == kept
    assert (cache / "tracks.parquet").exists()
    assert sorted(p.name for p in state.iterdir() if paths.refetchable(p.name)) == []
    assert (state / "manifest.json").exists() and (state / "spotify-token.json").exists()


def test_a_stale_copy_in_the_state_directory_gives_way_to_the_cache_directory_s(tmp_path):
    from recommender.migrate import move_refetchable
    state, cache = tmp_path / "state", tmp_path / "cache"
    for folder, text in ((state, "old"), (cache, "new")):
        (folder / "opendata").mkdir(parents=True)
        (folder / "opendata" / "isrc.json").write_text(text)
        (folder / "tracks.parquet").write_text(text)
    (state / "search_index.npz").write_text("index")
    (state / "audio_features.parquet").write_text("yours")  # state: stays
    assert move_refetchable(state, cache) == ["search_index.npz"]
    assert sorted(p.name for p in state.iterdir()) == ["audio_features.parquet"]
    assert (cache / "opendata" / "isrc.json").read_text() == "new" and (cache / "tracks.parquet").read_text() == "new"
    assert (cache / "search_index.npz").read_text() == "index"
    assert move_refetchable(cache, cache) == []


def test_tune_undo_after_an_older_version_s_tune_write_says_what_to_do(tmp_path):
    """`tune --write` kept no record before `tune --undo` came: after the upgrade, `tune --undo`
    said "no `recommend tune --write` has changed the weights" of a file one had just written."""
    import pytest

    from recommender.errors import UsageError
    from recommender.tune import undo_weights
    config, undo = tmp_path / "config.yaml", tmp_path / "state" / "tune-undo.json"
    config.write_text("scorers:\n  content:\n    weight: 0.5\n  opendata:\n    weight: 0.0\n  year:\n    weight: 0.1\n")
    with pytest.raises(UsageError) as err:
        undo_weights(config, undo)
    assert str(err.value) == (
        f"nothing to undo: no `recommend tune --write` recorded the weights {config} sets (content 0.5, opendata 0, "
        "year 0.1); one by an older version kept no record (it printed the weights it replaced): set those back by "
        "hand, or delete the `weight:` lines to take the shipped weights")
    config.write_text("blend:\n  max_tracks: 30\n")
    with pytest.raises(UsageError, match="has changed the weights of"):
        undo_weights(config, undo)
