"""Where config and data live: shipped defaults, platform dirs, overrides, old checkout places."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import pandas as pd

from recommender import paths
from recommender.config import load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_defaults_are_config_default_yaml():
    """One source: the package's default.yaml is the checkout's config/default.yaml."""
    shipped = paths.default_config_text()
    assert shipped == (ROOT / "config" / "default.yaml").read_text(encoding="utf-8")
    assert "blend:" in shipped


def test_pyproject_ships_the_defaults_and_is_not_named_like_the_other_project():
    text = (ROOT / "pyproject.toml").read_text()
    assert f'name = "{paths.DISTRIBUTION}"' in text
    assert paths.DISTRIBUTION != "recommend"
    assert '"default.yaml"' in text
    # one version, written once: the package's (every run record names it; earlier releases all said 0.1.0)
    assert 'dynamic = ["version"]' in text and 'version = {attr = "recommender.__version__"}' in text


def test_no_install_hint_names_the_other_project():
    """`pip install recommend...` installs an unrelated package from the index."""
    offenders = [str(p.relative_to(ROOT)) for p in [*ROOT.joinpath("recommender").rglob("*.py"), ROOT / "README.md"]
                 if "pip install 'recommend[" in p.read_text(encoding="utf-8")
                 or "pip install recommend " in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_the_install_hint_in_a_pipx_environment_injects_the_extras_packages():
    """Installed with pipx (the README's way), `recommend web` said `pip install
    'recommend-playlist[web]'`: pip put the packages in another environment, and the command
    kept failing. In pipx's environment the hint injects the extra's packages into it."""
    hint = paths.install_hint("web", prefix="/home/u/.local/share/pipx/venvs/recommend-playlist")
    assert hint.startswith("pipx inject recommend-playlist ") and "'jinja2>=3.1'" in hint
    assert "'python-multipart>=0.0.9'" in hint and "'matplotlib" not in hint
    assert paths.install_hint("web", prefix="/home/u/venv") == "pip install 'recommend-playlist[web]'"


def test_web_without_the_forms_parser_says_which_extra_before_it_starts(tmp_path, monkeypatch):
    """Without python-multipart the app started, and every steer and Publish was a 500 with a
    traceback (starlette parses forms with it); it says so before it starts, as for the others."""
    import sys
    from typer.testing import CliRunner

    from recommender.cli import app
    from recommender.web import server
    monkeypatch.setattr(server, "run_web", lambda *a, **k: pytest.fail("the app started"))
    monkeypatch.setitem(sys.modules, "python_multipart", None)
    monkeypatch.setitem(sys.modules, "multipart", None)
    result = CliRunner().invoke(app, ["web", "--demo", "--no-browser"], env={"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "recommend web needs the 'web' extra (python-multipart is missing)" in result.stderr


def test_defaults_follow_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert paths.user_config_file() == tmp_path / "cfg" / "recommend" / "config.yaml"
    s = load_settings(environ={})
    assert s.user_file is None
    assert s.cache_dir == tmp_path / "state" / "recommend"
    assert s.frames_dir == tmp_path / "cache" / "recommend"
    assert not s.data_dirs.single
    (tmp_path / "cfg" / "recommend").mkdir(parents=True)
    (tmp_path / "cfg" / "recommend" / "config.yaml").write_text("blend:\n  max_tracks: 33\n")
    s = load_settings(environ={})
    assert s.user_file == tmp_path / "cfg" / "recommend" / "config.yaml"
    assert s.blend.max_tracks == 33


def test_data_dirs_are_resolved_once_per_settings_and_again_after_an_override(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    s = load_settings(environ={})
    calls = []
    real = paths.resolve_data_dirs
    monkeypatch.setattr(paths, "resolve_data_dirs", lambda *a, **k: calls.append(a) or real(*a, **k))
    dirs = s.data_dirs
    assert (s.cache_dir, s.frames_dir) == (dirs.state, dirs.cache) == (tmp_path / "state" / "recommend",
                                                                      tmp_path / "cache" / "recommend")
    assert s.data_dirs is dirs and s.cache_dir is s.cache_dir and len(calls) == 1
    moved = s.with_overrides({"cache.dir": str(tmp_path / "one")})
    assert moved.cache_dir == moved.frames_dir == tmp_path / "one" and moved.data_dirs.single
    assert s.cache_dir == tmp_path / "state" / "recommend" and len(calls) == 2
    assert moved.with_overrides({"blend.max_tracks": 70}).cache_dir == tmp_path / "one"


def test_environment_and_flag_override_the_config_file(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("blend:\n  max_tracks: 11\n")
    b.write_text("blend:\n  max_tracks: 22\n")
    s = load_settings(environ={"RECOMMENDER_CONFIG": str(a), "RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    assert (s.user_file, s.blend.max_tracks, s.cache_dir) == (a, 11, tmp_path / "c")
    assert s.frames_dir == tmp_path / "c" and s.data_dirs.single  # one directory, as before
    one = load_settings(overrides={"cache.dir": str(tmp_path / "d")}, environ={})
    assert one.cache_dir == one.frames_dir == tmp_path / "d"
    assert load_settings(b, environ={"RECOMMENDER_CONFIG": str(a)}).blend.max_tracks == 22
    with pytest.raises(Exception, match="nope.yaml: file not found"):
        load_settings(environ={"RECOMMENDER_CONFIG": str(tmp_path / "nope.yaml")})


def test_a_relative_cache_dir_in_the_environment_is_beside_the_current_directory(tmp_path, monkeypatch):
    """README: a relative RECOMMENDER_CACHE_DIR is beside the current directory, as the shell
    would. `recommend config path` and `status` printed it bare ("data: rel"), a place a person
    cannot find again from another directory; it is the absolute folder now."""
    import json

    from typer.testing import CliRunner

    from recommender.cli import app
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={"RECOMMENDER_CACHE_DIR": "rel"})
    assert s.cache_dir == s.frames_dir == tmp_path / "rel"
    out = CliRunner().invoke(app, ["config", "path", "--json"], env={"RECOMMENDER_CACHE_DIR": "rel"})
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["data"] == str(tmp_path / "rel")


def make_checkout(root: Path, user_config: bool = True, used_cache: bool = True) -> Path:
    (root / "recommender").mkdir(parents=True)
    (root / "recommender" / "paths.py").write_text("")
    (root / "config").mkdir()
    (root / "config" / "default.yaml").write_text("")
    (root / "pyproject.toml").write_text("")
    (root / "cache").mkdir()
    (root / "cache" / ".gitkeep").write_text("")
    if user_config:
        (root / "config" / "user.yaml").write_text("blend:\n  max_tracks: 17\n")
    if used_cache:
        (root / "cache" / "manifest.json").write_text("{}")
    return root


def test_an_old_checkout_config_and_cache_are_still_found(tmp_path, monkeypatch):
    old = make_checkout(tmp_path / "src")
    monkeypatch.setattr(paths, "checkout_roots", lambda cwd=None: [old])
    s = load_settings(environ={})
    assert s.user_file == old / "config" / "user.yaml" and s.blend.max_tracks == 17
    assert s.cache_dir == s.frames_dir == old / "cache"  # the old cache/ stays one directory
    assert paths.legacy_places() == paths.Legacy(old / "config" / "user.yaml", old / "cache")


def test_a_fresh_checkout_cache_is_not_used(tmp_path, monkeypatch):
    old = make_checkout(tmp_path / "src", user_config=False, used_cache=False)
    monkeypatch.setattr(paths, "checkout_roots", lambda cwd=None: [old])
    assert paths.legacy_places() == paths.Legacy(None, None)
    assert load_settings(environ={}).cache_dir == paths.user_data_dir()


def test_the_new_places_win_over_the_old_ones(tmp_path, monkeypatch):
    old = make_checkout(tmp_path / "src")
    monkeypatch.setattr(paths, "checkout_roots", lambda cwd=None: [old])
    paths.user_config_file().parent.mkdir(parents=True)
    paths.user_config_file().write_text("")
    paths.user_data_dir().mkdir(parents=True)
    (paths.user_data_dir() / "spotify-token.json").write_text("{}")
    assert paths.legacy_places() == paths.Legacy(None, None)


def test_frames_in_the_new_cache_dir_alone_also_win_over_the_old_cache(tmp_path, monkeypatch):
    old = make_checkout(tmp_path / "src", user_config=False)
    monkeypatch.setattr(paths, "checkout_roots", lambda cwd=None: [old])
    paths.user_cache_dir().mkdir(parents=True)
    (paths.user_cache_dir() / "tracks.parquet").write_text("")
    assert paths.legacy_places() == paths.Legacy(None, None)


def test_only_refetchable_entries_belong_in_the_cache_dir():
    from recommender import libsource, store
    assert all(paths.refetchable(n) for n in ("tracks.parquet", "opendata", libsource.INDEX_FILE, "datasets"))
    assert not any(paths.refetchable(n) for n in (store.MANIFEST, store.BACKUP, "spotify-token.json",
                                                 "runs.jsonl", "recommend.log", "recommend.lock", "demo"))


def test_checkout_roots_recognises_this_checkout(monkeypatch):
    monkeypatch.undo()  # the autouse fixture hides checkouts from every other test
    assert ROOT in paths.checkout_roots(cwd=ROOT)
    assert paths.checkout_roots(cwd=Path("/")) in ([], [ROOT])


def test_a_wiped_cache_dir_means_a_re_pull_never_a_lost_playlist_or_removal(standin):
    """A cache cleaner deletes $XDG_CACHE_HOME/recommend: the next run re-pulls (said in one
    line) and keeps writing the same managed playlist without the track the user removed."""
    import json
    import shutil

    from spotify_helpers import gateway_for, remove_by_hand, save_login
    from test_cli import env_for, run

    env = {k: v for k, v in env_for(standin, Path("unused")).items() if k != "RECOMMENDER_CACHE_DIR"}
    save_login(standin, paths.user_data_dir())
    first = run(["build-playlist", "--json"], env)
    assert first.exit_code == 0, first.stderr
    pid = json.loads(first.stdout)["playlist_id"]
    assert (paths.user_cache_dir() / "tracks.parquet").exists()
    assert (paths.user_data_dir() / "manifest.json").exists()
    # no frame a refresh makes: only those it cannot (imported features, looked-up genres) are state
    assert {p.name for p in paths.user_data_dir().glob("*.parquet")} <= set(paths.STATE_FRAMES)

    gateway = gateway_for(load_settings(environ=env))
    ours = standin.playlist_track_ids(pid)
    removed = ours[0]
    remove_by_hand(gateway, pid, [removed])  # the user removes one in the app
    second = run(["build-playlist", "--json"], env)
    assert second.exit_code == 0, second.stderr
    manifest = json.loads((paths.user_data_dir() / "manifest.json").read_text())
    assert removed in manifest["user_removed"]

    shutil.rmtree(paths.user_cache_dir())
    third = run(["build-playlist", "--json"], env)
    assert third.exit_code == 0, third.stderr
    said = [line for line in third.stderr.splitlines() if "re-pull" in line]
    assert len(said) == 1, third.stderr
    assert (paths.user_cache_dir() / "tracks.parquet").exists()
    assert json.loads(third.stdout)["playlist_id"] == pid
    manifest = json.loads((paths.user_data_dir() / "manifest.json").read_text())
    assert manifest["managed_playlist"]["id"] == pid and removed in manifest["user_removed"]
    assert removed not in standin.playlist_track_ids(pid)
    shown = run(["status", "--offline"], env).stdout
    assert f"cache:    {paths.user_cache_dir()}" in shown and "'" in shown and pid in shown


def test_the_demo_keeps_one_directory_of_its_own_below_the_state_dir():
    from test_cli import run
    result = run(["build-playlist", "--demo", "--json"], {})
    assert result.exit_code == 0, result.stderr
    demo = paths.demo_dir(paths.user_data_dir())
    assert (demo / "manifest.json").exists() and (demo / "tracks.parquet").exists()
    assert not paths.user_cache_dir().exists()  # the real cache dir is never touched
    assert not (paths.user_data_dir() / "manifest.json").exists()
    # its log too: the real data directory holds nothing but the demo's directory
    assert [p.name for p in paths.user_data_dir().iterdir()] == [demo.name]
    assert (demo / "recommend.log").exists()
    # `status --demo` shows what the demo did (plain `status`, your own runs: none; there was no --demo)
    pid = json.loads(result.stdout)["playlist_id"]
    shown = run(["status", "--demo"], {})
    assert shown.exit_code == 0, shown.stderr
    assert f"cache:    {demo} (demo-user's library" in shown.stdout and f"({pid}), 50 tracks" in shown.stdout
    assert "build-playlist --demo exit 0" in shown.stdout and "schedule:" not in shown.stdout
    assert "open.spotify.com" not in shown.stdout  # its playlist is in the stand-in, gone with the run
    # build-playlist imports no audio features: "none" alone read as if the sample had none
    assert ("features: none with valence and energy, which the mood commands need (the first `--demo` search, "
            "similar, moods or web run imports the sample's)") in " ".join(shown.stdout.split())
    # and why it has no genres, where "0 of 877 artists (0%)" stood alone, with no command to change it
    assert ("genres: 0 of 877 artists (0%); the demo looks up none (`recommend enrich genres` does, for your "
            "library or the offline trial's: `recommend standin`)") in " ".join(shown.stdout.split())
    assert "last runs: none" in run(["status", "--offline"], {}).stdout


def test_a_schedule_passes_one_data_directory_on_its_line_but_not_the_platform_pair(tmp_path):
    """The scheduled run must find the same manifest and frames: an explicit directory is
    passed as RECOMMENDER_CACHE_DIR; the platform pair is found again by the run itself (the
    variable would put both into the state dir)."""
    from test_cli import run
    env = {"SPOTIPY_CLIENT_ID": "test-client", "SPOTIPY_CLIENT_SECRET": ""}
    split = run(["schedule", "install", "--print"], env)
    assert split.exit_code == 0, split.stderr
    assert "RECOMMENDER_CACHE_DIR" not in split.stdout
    one = run(["schedule", "install", "--print"], {**env, "RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    assert one.exit_code == 0, one.stderr
    assert f"RECOMMENDER_CACHE_DIR={tmp_path / 'c'}" in one.stdout


def test_demo_settings_point_at_the_demo_directory_with_overrides_on_top(tmp_path):
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path)})
    demo = paths.demo_settings(settings, {"spotify.client_id": "recommend-demo"})
    assert Path(demo.cache_dir) == paths.demo_dir(tmp_path) and demo.spotify.client_id == "recommend-demo"
    assert Path(paths.demo_settings(settings).cache_dir) == tmp_path / "demo"
    assert Path(settings.cache_dir) == tmp_path  # the real settings are left as they were


def test_a_refused_migration_changes_nothing(tmp_path):
    """The config file was copied before the cache's destination was found not empty: the
    refusal (exit 2) left half a migration, the old config no longer read."""
    from recommender import migrate
    from recommender.errors import UsageError
    old = make_checkout(tmp_path / "src")
    paths.user_data_dir().mkdir(parents=True)
    (paths.user_data_dir() / "notes.txt").write_text("mine")
    legacy = paths.Legacy(old / "config" / "user.yaml", old / "cache")
    with pytest.raises(UsageError, match="is not empty"):
        migrate.migrate(legacy)
    assert not paths.user_config_file().exists()
    assert (old / "cache" / "manifest.json").exists()


def test_a_config_copy_cut_short_leaves_no_partial_config(tmp_path, monkeypatch):
    """A full disk cut the config's copy short: half the file was left at the new place, then
    read as the config (the settings past the cut lost without a word), and the next
    `config migrate` said there was nothing to migrate."""
    import errno
    import shutil
    from recommender import migrate
    from recommender.errors import StorageError
    old = make_checkout(tmp_path / "src", used_cache=False)
    real = shutil.copy2

    def full_disk(src, dst, *a, **k):
        Path(dst).write_bytes(Path(src).read_bytes()[:10])
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(shutil, "copy2", full_disk)
    with pytest.raises(StorageError, match=f"cannot write {re.escape(str(paths.user_config_file()))}: "):
        migrate.migrate(paths.Legacy(old / "config" / "user.yaml", None))
    assert not paths.user_config_file().exists()
    assert [p.name for p in paths.user_config_file().parent.iterdir()] == []  # nor a temporary file
    monkeypatch.setattr(shutil, "copy2", real)
    migrate.migrate(paths.Legacy(old / "config" / "user.yaml", None))  # the next one does it
    assert paths.user_config_file().read_bytes() == (old / "config" / "user.yaml").read_bytes()


def test_the_folders_an_upgrade_creates_are_private(tmp_path):
    """`recommend config migrate` made the config, state and cache folders (and the ones above
    them) with `mkdir -p`, 0755 under the usual umask, and so did the first run moving an older
    version's frames into a cache folder not made yet: every local user could list the login's,
    the log's and the run history's names and times, where a fresh install makes them 0700."""
    import os
    import stat
    from recommender import migrate
    old = make_checkout(tmp_path / "src")
    (old / "cache" / "tracks.parquet").write_text("frames")
    mask = os.umask(0o022)
    try:
        migrate.migrate(paths.Legacy(old / "config" / "user.yaml", old / "cache"))
        state, cache = tmp_path / "old-state", tmp_path / "home" / ".cache2" / "recommend"
        state.mkdir()
        (state / "tracks.parquet").write_text("frames")
        assert migrate.move_refetchable(state, cache) == ["tracks.parquet"]
    finally:
        os.umask(mask)
    made = [paths.user_config_file().parent, paths.user_data_dir(), paths.user_cache_dir(), cache, cache.parent]
    assert {str(d): oct(stat.S_IMODE(d.stat().st_mode)) for d in made} == {str(d): "0o700" for d in made}
    assert (paths.user_data_dir() / "manifest.json").exists() and (cache / "tracks.parquet").exists()


def test_a_dry_run_says_the_migration_would_be_refused(tmp_path):
    """README says `config migrate --dry-run` first: it said "would move 7 entries ..." where
    the migration itself then refused (a state folder already holding something, such as the
    demo's folder of another install), so the dry run promised what could not be done. It is
    refused the same way now, naming what is in the way."""
    from recommender import migrate
    from recommender.errors import UsageError
    old = make_checkout(tmp_path / "src")
    (paths.user_data_dir() / "demo").mkdir(parents=True)
    legacy = paths.Legacy(old / "config" / "user.yaml", old / "cache")
    for dry_run in (True, False):
        with pytest.raises(UsageError, match=r"recommend is not empty \(it holds demo\); move the files of "):
            migrate.migrate(legacy, dry_run=dry_run)
    assert not paths.user_config_file().exists() and (old / "cache" / "manifest.json").exists()
    assert migrate.migrate(paths.Legacy(old / "config" / "user.yaml", None), dry_run=True).config is not None


def test_a_run_from_a_deleted_directory_still_finds_its_places(tmp_path, monkeypatch):
    """Path.cwd() raised FileNotFoundError outside the OSError guard: every command run
    from a directory removed since (a build folder, a temp dir) died with exit 1."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("unpatched_paths", paths.__file__)
    real = importlib.util.module_from_spec(spec)  # conftest replaces checkout_roots in `paths`
    monkeypatch.setitem(__import__("sys").modules, "unpatched_paths", real)
    spec.loader.exec_module(real)
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert real.checkout_roots() in ([], [real.PACKAGE_DIR.parent.resolve()])
    assert real.resolve_data_dirs(None).state is not None


@pytest.mark.parametrize("args", [["search", "--demo", "love"], ["playlists", "--demo"]])
def test_every_demo_command_logs_in_the_demos_directory(args):
    # only build-playlist --demo logged there: the first pull of `search --demo` (and of any
    # other --demo command) wrote recommend.log into your real data directory
    from test_cli import run
    result = run(args, {})
    assert result.exit_code == 0, result.stderr
    demo = paths.demo_dir(paths.user_data_dir())
    assert [p.name for p in paths.user_data_dir().iterdir()] == [demo.name]
    assert (demo / "recommend.log").exists()


def test_an_old_crontab_line_follows_a_migration(tmp_path):
    """An old version's crontab line names the checkout's cache (RECOMMENDER_CACHE_DIR) and
    config file (--config): after `config migrate` it failed every night with 'not logged in'
    (the login had moved) and would have read a stale copy of the config."""
    from recommender import migrate
    old = make_checkout(tmp_path / "src")
    migrate.migrate(paths.Legacy(old / "config" / "user.yaml", old / "cache"))
    paths.user_config_file().write_text("blend:\n  max_tracks: 23\n")  # edited since, in its new place
    cron = {"RECOMMENDER_CACHE_DIR": str(old / "cache")}
    s = load_settings(old / "config" / "user.yaml", environ=cron)
    assert (s.cache_dir, s.frames_dir) == (paths.user_data_dir(), paths.user_cache_dir())
    assert (s.cache_dir / "manifest.json").exists()
    assert s.user_file == paths.user_config_file() and s.blend.max_tracks == 23
    # an old version run there again (a downgrade) makes it a cache of its own: used as it is
    (old / "cache" / "manifest.json").write_text("{}")
    assert load_settings(environ=cron).cache_dir == old / "cache"


def test_a_config_only_migration_is_followed_too(tmp_path):
    from recommender import migrate
    old = make_checkout(tmp_path / "src", used_cache=False)
    migrate.migrate(paths.Legacy(old / "config" / "user.yaml", None))
    assert paths.resolve_config_file(old / "config" / "user.yaml") == paths.user_config_file()
    assert paths.moved_dirs(old / "cache") is None  # the cache did not move: nothing to follow there
    assert paths.resolve_config_file(tmp_path / "elsewhere.yaml") == tmp_path / "elsewhere.yaml"


def test_no_login_in_a_named_folder_says_the_standard_place_has_one(tmp_path):
    """A checkout migrated before `config migrate` left moved.json: its crontab line's
    RECOMMENDER_CACHE_DIR names the emptied folder, and the run said only 'not logged in: run
    `recommend auth`', which logs in where the line does not look."""
    from typer.testing import CliRunner
    from recommender import migrate
    from recommender.cli import app
    old = make_checkout(tmp_path / "src")
    (old / "cache" / "spotify-token.json").write_text('{"access_token": "a", "refresh_token": "r"}')
    migrate.migrate(paths.Legacy(None, old / "cache"))
    (old / "cache" / paths.MOVED_MARKER).unlink()  # as an earlier version's migration left it
    env = {"RECOMMENDER_CACHE_DIR": str(old / "cache"), "SPOTIPY_CLIENT_ID": "x",
           "RECOMMENDER_SPOTIFY_API_URL": "http://127.0.0.1:9/v1/", "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": "http://127.0.0.1:9"}
    result = CliRunner().invoke(app, ["build-playlist", "--quiet", "--no-input"], env=env)
    assert result.exit_code == 3
    line = " ".join(result.stderr.split())
    assert f"not logged in to Spotify in {old / 'cache'}" in line and f"but {paths.user_data_dir()} has a login" in line
    assert "`recommend schedule install` writes it anew" in line and "recommend auth" in line


@pytest.mark.parametrize("layout", ["state a symlink into the cache", "bind mount", "cache.dir in the caches",
                                    "apart", "cache a symlink to the state"])
def test_status_warns_when_the_data_directory_lies_in_the_folder_cache_cleaners_empty(layout, monkeypatch):
    """README said deleting the cache directory costs only a re-pull: not when the data
    directory is in it (~/.local/state/recommend a symlink into ~/.cache), where the login, the
    managed playlist's record and your removals go with it."""
    import os

    from test_cli import run
    state, cache = paths.user_data_dir(), paths.user_cache_dir()
    env = {}
    if layout == "bind mount":  # two paths no symlink joins: only the device and inode tell
        monkeypatch.setattr(paths.os.path, "realpath", lambda p, *a, **kw: os.path.abspath(p))
    if layout in ("state a symlink into the cache", "bind mount"):
        cache.mkdir(parents=True)
        state.parent.mkdir(parents=True)
        os.symlink(cache, state)
    elif layout == "cache a symlink to the state":  # a cleaner deletes the symlink only
        state.mkdir(parents=True)
        cache.parent.mkdir(parents=True)
        os.symlink(state, cache)
    elif layout == "cache.dir in the caches":
        env["RECOMMENDER_CACHE_DIR"] = str(cache.parent / "mine")
    result = run(["status", "--offline"], env)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    inside = layout in ("state a symlink into the cache", "bind mount", "cache.dir in the caches")
    assert text.count("warning: the data directory") == text.count("which cache cleaners empty") == inside, text


@pytest.mark.parametrize("how", ["environment", "option"])
def test_a_relative_config_file_is_shown_as_the_absolute_file(tmp_path, monkeypatch, how):
    """`RECOMMENDER_CONFIG=rel.yaml` or `--config rel.yaml`: `recommend config path` printed
    "config: rel.yaml" (and errors named the bare name), unlike the data folder beside it, made
    absolute; the file read is the one beside the current directory, named whole."""
    import json

    from typer.testing import CliRunner

    from recommender.cli import app
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rel.yaml").write_text("playlist:\n  name: Mine\n")
    env, args = ({"RECOMMENDER_CONFIG": "rel.yaml"}, []) if how == "environment" else ({}, ["--config", "rel.yaml"])
    s = load_settings(*(args[1:] or [None]), environ=env)
    assert s.user_file == tmp_path / "rel.yaml" and s.playlist.name == "Mine"
    assert s.sources["playlist.name"] == str(tmp_path / "rel.yaml")
    out = CliRunner().invoke(app, ["config", "path", "--json", *args], env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["config"] == str(tmp_path / "rel.yaml")


def test_a_named_folder_without_the_record_the_standard_data_directory_holds_is_said(tmp_path):
    """The cache folder moved to a bigger disk and named with RECOMMENDER_CACHE_DIR (which names
    one folder for data and cache): the managed playlist's record, the removals and pins stayed
    in the standard data directory, and the next build adopted the playlist and put back what
    the user had removed, without a word. Every run says so until the named folder has a
    record of its own (with --quiet too: a crontab line runs that way)."""
    from typer.testing import CliRunner
    from recommender.cli import app
    paths.user_data_dir().mkdir(parents=True)
    (paths.user_data_dir() / "manifest.json").write_text('{"managed_playlist": {"id": "p"}, "user_removed": ["t"]}')
    moved = tmp_path / "bigdisk"
    moved.mkdir()
    env = {"RECOMMENDER_CACHE_DIR": str(moved)}
    assert "cache:    " + str(moved) + " (empty)" in CliRunner().invoke(app, ["status"], env=env).stdout
    pd.DataFrame({"track_id": ["t"]}).to_parquet(moved / "tracks.parquet")  # the moved cache's frames
    for args in (["status"], ["status", "--quiet"]):
        result = CliRunner().invoke(app, args, env=env)
        # the frames the folder holds are no "(empty)" cache
        assert args[-1] == "--quiet" or f"{moved} (no record of a refresh here: the next one pulls the library " \
            "again)" in " ".join(result.stdout.split())
        line = " ".join(result.stderr.split())
        assert f"{moved} (cache.dir, from environment RECOMMENDER_CACHE_DIR) holds no record of the managed " \
               f"playlist, but {paths.user_data_dir()} does, with your removals" in line, (args, line)
        assert f"move that folder's files into {moved}" in line
    assert "holds no record" not in CliRunner().invoke(app, ["status"]).stderr  # the standard places: no note
    (moved / "manifest.json").write_text("{}")
    assert "holds no record" not in CliRunner().invoke(app, ["status"], env=env).stderr
    # a file where the folder goes: no "move that folder's files into" a file, only the error
    afile = tmp_path / "afile"
    afile.write_text("")
    refused = CliRunner().invoke(app, ["refresh"], env={"RECOMMENDER_CACHE_DIR": str(afile)})
    assert refused.exit_code == 7 and "holds no record" not in refused.stderr, refused.stderr
    assert "a file is in the way" in refused.stderr
