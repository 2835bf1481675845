"""CLI conventions: --version, -h, completion, examples, options before the subcommand,
config path/migrate, playlists, links after writes, who is logged in, 80-column tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from recommender import __version__, paths
from recommender.cli import app
from recommender.cli.output import _table

from spotify_helpers import save_login
from test_cli import env_for, run

runner = CliRunner()


@pytest.fixture
def logged_in(standin, tmp_path):
    cache = tmp_path / "cache"
    save_login(standin, cache)
    return standin, env_for(standin, cache), cache


def all_commands():
    group = typer.main.get_command(app)
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from ([name, sub] for sub in cmd.commands)
        else:
            yield [name]


def test_version_and_short_help():
    result = run(["--version"], {})
    assert result.exit_code == 0 and __version__ in result.stdout and paths.DISTRIBUTION in result.stdout
    for args in (["-h"], ["build-playlist", "-h"], ["config", "path", "-h"]):
        result = run(args, {})
        assert result.exit_code == 0 and "Usage" in result.stdout, args


@pytest.mark.parametrize("command", list(all_commands()), ids=" ".join)
def test_every_command_help_has_examples(command):
    result = run([*command, "--help"], {})
    assert result.exit_code == 0
    assert "Examples:" in result.stdout and f"recommend {' '.join(command)}" in result.stdout


@pytest.mark.parametrize("group", sorted(name for name, cmd in typer.main.get_command(app).commands.items()
                                          if hasattr(cmd, "commands")))
def test_every_command_group_help_has_examples(group):
    # README: "-h on every command (each help ends with examples)"; `recommend moods -h`,
    # `config -h`, `schedule -h`, `enrich -h` and `import -h` ended with their command list alone
    result = run([group, "--help"], {"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Examples:" in result.stdout and f"`recommend {group} " in result.stdout


@pytest.mark.parametrize("command", [[], *all_commands()], ids=lambda c: " ".join(c) or "recommend")
def test_help_at_60_columns_cuts_no_word_short(command):
    # `recommend similar -h` at COLUMNS=60 said "(default: similar.same_ar…)" and `evaluate -h`
    # "tt-continuation…": a word longer than the help column was cut with an ellipsis; it now
    # continues on the next line. `recommend -h` said "--install-completi…": an option's name
    # is never cut, the help beside it wraps narrower
    result = run([*command, "--help"], {"COLUMNS": "60"})
    assert result.exit_code == 0
    assert not [line for line in result.stdout.splitlines() if "…" in line], result.stdout


def test_shell_completion_is_offered():
    assert "--install-completion" in run(["--help"], {}).stdout


def test_common_options_before_the_subcommand(tmp_path):
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path)}
    out = json.loads(run(["--json", "config", "path"], env).stdout)
    assert out["data"] == out["cache"] == str(tmp_path)  # RECOMMENDER_CACHE_DIR: one directory for both
    assert run(["--quiet", "config", "show"], env).stdout == ""
    assert f"cache:    {tmp_path} (the same directory)" in run(["config", "path"], env).stdout


def test_a_command_option_before_the_subcommand_gets_a_hint():
    result = run(["--dry-run", "build-playlist"], {})
    assert result.exit_code == 2
    assert "recommend build-playlist --dry-run" in " ".join(result.stderr.split()).replace("│", "").replace("  ", " ")


def test_config_path_names_the_platform_places(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = json.loads(run(["config", "path", "--json"], {}).stdout)
    assert out["cache"] == str(tmp_path / "cache" / "recommend")
    assert out["config"] is None
    assert out["config_default_place"] == str(tmp_path / "cfg" / "recommend" / "config.yaml")
    assert out["data"] == str(tmp_path / "state" / "recommend")
    assert out["demo"] == str(tmp_path / "state" / "recommend" / "demo")
    assert Path(out["defaults"]).read_text() == paths.default_config_text()


def test_config_migrate_moves_a_checkout_config_and_cache(tmp_path, monkeypatch):
    from test_paths import make_checkout
    old = make_checkout(tmp_path / "src")
    (old / "cache" / "spotify-token.json").write_text("{}")
    (old / "cache" / "tracks.parquet").write_text("")
    (old / "cache" / "opendata").mkdir()
    monkeypatch.setattr(paths, "checkout_roots", lambda cwd=None: [old])
    monkeypatch.setattr("recommender.schedule.show", lambda tabfile=None: None)
    note = run(["config", "path"], {})
    assert "config migrate" in note.stderr and str(old / "cache") in note.stderr
    dry = run(["config", "migrate", "--dry-run"], {})
    assert dry.exit_code == 0 and "would move 2 entries" in dry.stdout
    assert "would move 2 re-fetchable entries" in dry.stdout
    assert (old / "cache" / "manifest.json").exists()
    done = run(["config", "migrate"], {})
    assert done.exit_code == 0, done.stderr
    data, cfg = paths.user_data_dir(), paths.user_config_file()
    assert sorted(p.name for p in data.iterdir()) == ["manifest.json", "spotify-token.json"]
    assert sorted(p.name for p in paths.user_cache_dir().iterdir()) == ["opendata", "tracks.parquet"]
    assert cfg.read_text() == (old / "config" / "user.yaml").read_text()
    assert not (old / "cache" / "manifest.json").exists() and (old / "cache" / ".gitkeep").exists()
    after = run(["config", "path", "--json"], {})
    assert "config migrate" not in after.stderr
    assert json.loads(after.stdout)["data"] == str(data)
    assert "nothing to migrate" in run(["config", "migrate"], {}).stdout


def test_config_migrate_names_a_systemd_unit_that_still_names_the_old_places(tmp_path, monkeypatch):
    """An old version's `schedule install --print` gave a systemd unit naming the checkout's
    cache (Environment=RECOMMENDER_CACHE_DIR) and config file (--config): `config migrate` said
    to install the schedule again only for a crontab line, so a timer user was never told."""
    from recommender import schedule
    from test_paths import make_checkout
    old = make_checkout(tmp_path / "src")
    monkeypatch.setattr(paths, "checkout_roots", lambda cwd=None: [old])
    units = schedule.unit_dir()
    units.mkdir(parents=True)
    (units / "recommend.service").write_text(
        f'[Service]\nType=oneshot\nEnvironment="RECOMMENDER_CACHE_DIR={old / "cache"}"\n'
        f"ExecStart=/usr/bin/recommend build-playlist --quiet --no-input --config {old / 'config' / 'user.yaml'}\n")
    for args in (["config", "migrate", "--dry-run"], ["config", "migrate"]):
        out = run(args, {})
        assert out.exit_code == 0, out.stderr
        assert (f"your systemd unit {units / 'recommend.service'} still names the old places: replace it with the one "
                "`recommend schedule install --print` prints") in out.stdout
        assert "crontab" not in out.stdout  # (the tests' crontab is empty)


def test_build_playlist_prints_the_playlist_link(logged_in):
    server, env, _ = logged_in
    text = run(["build-playlist"], env)
    assert text.exit_code == 0, text.stderr
    out = json.loads(run(["build-playlist", "--json"], env).stdout)
    link = f"https://open.spotify.com/playlist/{out['playlist_id']}"
    assert out["playlist_url"] == link
    assert link in text.stdout
    assert "open.spotify.com" not in run(["build-playlist", "--dry-run"], env).stdout


def test_playlists_lists_ids_whole_names_safely_and_the_managed_one(logged_in):
    server, env, _ = logged_in
    first = server.account.playlists[0]
    first["name"] = "Road\u200bTrip\x1b[31m"
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    rows = json.loads(run(["playlists", "--json"], env).stdout)
    managed = [r for r in rows if r["managed"]]
    assert len(managed) == 1 and managed[0]["url"].endswith(managed[0]["id"])
    text = run(["playlists"], {**env, "COLUMNS": "80"}).stdout
    for r in rows:
        assert r["id"] in text
    assert "\x1b" not in text and "\u200b" not in text
    names = "".join(line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│"))
    assert "Road\\u200bTrip\\x1b[31m" in names  # wrapped over lines, but every character visible
    # Spotify's own playlist, whose tracks a personal app cannot read, was listed with its count as
    # if --seed-playlist could use it (it then had "0 tracks"): marked, and said why; its count
    # is Spotify's, beside the none the cache holds ("5 (unread)" still read as 5 to use)
    [theirs] = [r for r in rows if r["owner"] == "spotify"]
    assert theirs["readable"] is False and all(r["readable"] for r in rows if r is not theirs)
    assert theirs["tracks"] == 0 and theirs["total"] == len(server.playlist_track_ids(theirs["id"])) > 0
    wide = run(["playlists"], {**env, "COLUMNS": "200"}).stdout
    assert f"│ 0 of {theirs['total']} (unread) │" in wide
    said = f"1 playlist (unread: '{theirs['name']}'): Spotify does not let this app read its tracks"
    assert said in " ".join(wide.split())
    # at 60 columns the tracks column, which marks it, is left out: the note names it
    narrow = run(["playlists"], {**env, "COLUMNS": "60"}).stdout
    assert "(unread)" not in narrow.split("left out at")[0] and said in " ".join(narrow.split())


def test_playlists_counts_the_tracks_the_cache_holds_beside_spotifys_count(logged_in):
    """The tracks column was Spotify's count: a playlist holding a local file, a podcast episode
    or a removed track showed more tracks than --seed-playlist and moods cluster have of it. It
    is the cache's count now, "N of M" when Spotify counts otherwise, and a line names them."""
    server, env, _ = logged_in
    me = server.account.user["id"]
    mine = next(p for p in server.account.playlists if p["owner"] == me)
    held = len(server.playlist_track_ids(mine["id"]))
    mine["items"] += [{"kind": "local", "local": {"name": "Voice Memo", "artist": "Me", "album": "Memos",
                                                  "duration_ms": 1000}, "added_at": "2024-01-01T00:00:00Z",
                       "added_by": me},
                      {"kind": "null", "added_at": "2024-01-02T00:00:00Z", "added_by": me}]
    assert run(["refresh", "--quiet"], env).exit_code == 0
    rows = {r["id"]: r for r in json.loads(run(["playlists", "--json"], env).stdout)}
    total = len(mine["items"])
    assert (rows[mine["id"]]["tracks"], rows[mine["id"]]["total"]) == (held, total) and total >= held + 2
    wide = run(["playlists"], {**env, "COLUMNS": "200"}).stdout
    assert f"│ {held} of {total} " in wide
    said = " ".join(wide.split())
    assert f"('{mine['name']}' ({held} of {total})" in said and "holds entries the tool does not keep" in said, said


def test_playlists_are_listed_by_name(logged_in):
    # before: in the cache's order, by id: a power user's 600 playlists came out in no order a
    # person can search (README's power-user journey)
    server, env, _ = logged_in
    owned = [p for p in server.account.playlists if p["owner"] == server.account.user["id"]]
    names = ["zulu mix", "Alpha", "élan", "mike", "Бета", "ärger"][:len(owned)]
    for p, name in zip(sorted(owned, key=lambda p: p["id"]), names):
        p["name"] = name
    assert run(["refresh", "--quiet"], env).exit_code == 0
    listed = [r["name"] for r in json.loads(run(["playlists", "--json"], env).stdout) if r["name"] in names]
    assert len(listed) >= 3 and listed == sorted(listed, key=str.casefold)


def test_playlists_shows_an_earlier_managed_playlist_created_since_the_last_refresh(logged_in):
    """After `build-playlist` then `build-playlist --new-playlist` on a fresh cache (no refresh
    between), `recommend playlists` listed the new managed playlist but not the one it replaced."""
    server, env, _ = logged_in
    first = json.loads(run(["build-playlist", "--json"], env).stdout)["playlist_id"]
    second = json.loads(run(["build-playlist", "--new-playlist", "--json"], env).stdout)["playlist_id"]
    assert first != second
    listed = json.loads(run(["playlists", "--json"], env).stdout)
    rows = {r["id"]: r for r in listed}
    assert rows[first]["managed"] and rows[second]["managed"] and rows[first]["url"].endswith(first)
    assert rows[first]["name"] == rows[second]["name"] and rows[first]["tracks"] is None  # not cached yet
    # the shape: the cached playlists, then the earlier one, then the managed one with what we wrote
    assert [r["id"] for r in listed[-2:]] == [first, second] and len(listed) == len(rows)
    assert listed[-1] == {"name": rows[first]["name"], "id": second, "owner": server.account.user["id"],
                          "tracks": len(server.playlist_track_ids(second)), "total": None, "readable": True,
                          "managed": True, "role": "yes", "url": f"https://open.spotify.com/playlist/{second}"}
    text = run(["playlists"], {**env, "COLUMNS": "200"}).stdout
    assert any(first in line and "│ earlier" in line for line in text.splitlines()), text
    assert any(second in line and "│ yes" in line for line in text.splitlines()), text
    assert run(["refresh", "--quiet"], env).exit_code == 0  # once cached: listed once, with its tracks
    rows = [r for r in json.loads(run(["playlists", "--json"], env).stdout) if r["id"] == first]
    assert len(rows) == 1 and rows[0]["tracks"] == len(server.playlist_track_ids(first))


def test_playlists_names_another_accounts_playlist_the_record_named_other_account_not_earlier(logged_in):
    """A remembered managed playlist that another user owns (a data directory of another
    account's) is left alone and a new one made: `recommend playlists` listed it as "earlier",
    one of this account's own managed before, which it never was."""
    from recommender.store import Store
    server, env, cache = logged_in
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    theirs = "smallPlaylist000000004"  # Spotify's, followed by the user
    store = Store(cache)
    store.update_manifest(managed_playlist={**store.read_manifest()["managed_playlist"], "id": theirs})
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    assert {"id": theirs, "name": "recommend: for you", "owner": "spotify"} in store.read_manifest()["managed_history"]
    for history in (store.read_manifest()["managed_history"],  # and a history written before the owner was kept
                    [{k: v for k, v in h.items() if k != "owner"} for h in store.read_manifest()["managed_history"]]):
        store.update_manifest(managed_history=history)
        rows = {r["id"]: r for r in json.loads(run(["playlists", "--json"], env).stdout)}
        assert rows[theirs]["role"] == "other account" and rows[theirs]["owner"] == "spotify"
        text = run(["playlists"], {**env, "COLUMNS": "200"}).stdout
        assert any(theirs in line and "│ other account" in line for line in text.splitlines()), text
        refused = run(["build-playlist", "--dry-run", "--seed-playlist", theirs], env)
        assert refused.exit_code == 2 and "another account's (its owner is 'spotify')" in refused.stderr
        assert "written by this tool" not in refused.stderr


def test_playlists_leaves_out_an_earlier_managed_playlist_deleted_before_the_last_refresh(logged_in):
    """A managed playlist you delete in Spotify, replaced since (by --new-playlist, or by the
    next run's new one), is gone from the next refresh's listing: `recommend playlists` still
    listed it, as "earlier" with no track count, for good, as if it were one made since."""
    server, env, _ = logged_in
    first = json.loads(run(["build-playlist", "--json"], env).stdout)["playlist_id"]
    second = json.loads(run(["build-playlist", "--new-playlist", "--json"], env).stdout)["playlist_id"]
    server.account.playlist(first)["followed"] = False  # you delete the old one in Spotify
    assert run(["refresh", "--quiet"], env).exit_code == 0
    listed = [r["id"] for r in json.loads(run(["playlists", "--json"], env).stdout)]
    assert first not in listed and second in listed and len(listed) == len(set(listed))
    assert first not in run(["playlists"], {**env, "COLUMNS": "200"}).stdout


def test_status_names_the_user_and_checks_the_login_for_real(logged_in):
    server, env, _ = logged_in
    assert run(["build-playlist", "--quiet", "--dry-run"], env).exit_code == 0
    out = json.loads(run(["status", "--json"], env).stdout)
    assert out["login"]["state"] == "valid" and out["login"]["user_id"] == server.account.user["id"]
    assert out["login"]["checked"] is True and out["login"]["display_name"] == server.account.user["display_name"]
    text = run(["status"], env).stdout
    assert f"({server.account.user['id']})" in text and "(dry run)" in text and " UTC " in text
    server.expire_access_tokens()
    server.revoke_refresh_tokens()
    out = json.loads(run(["status", "--json"], env).stdout)
    assert out["login"]["state"] == "refused" and "recommend auth" in out["login"]["message"]
    assert out["login"]["checked"] is True  # Spotify answered: it refused the login
    assert "login:    refused" in run(["status"], env).stdout
    offline = json.loads(run(["status", "--json", "--offline"], env).stdout)
    assert "checked" not in offline["login"]


@pytest.mark.parametrize("args", [["--seed-playlist", "No Such Playlist"], ["--seed-playlist"]])
def test_a_failed_dry_run_is_recorded_as_a_dry_run(logged_in, args):
    """`build-playlist --dry-run --seed-playlist "No Such Playlist"` (or a command line that does
    not parse) was recorded as a failed `build-playlist`, without the "(dry run)" a dry run that
    succeeds has: `recommend status` and the web app's Runs page showed a real build that failed,
    where nothing had been written or tried."""
    server, env, _ = logged_in
    assert run(["build-playlist", "--dry-run", *args], env).exit_code == 2
    last = json.loads(run(["status", "--json", "--offline"], env).stdout)["last_runs"][0]  # newest first
    assert last["command"] == "build-playlist" and last["exit_code"] == 2 and last["dry_run"] is True
    assert "(dry run) exit 2" in run(["status", "--offline"], {**env, "COLUMNS": "200"}).stdout
    assert run(["build-playlist", "--seed-playlist", "No Such Playlist"], env).exit_code == 2  # a real run's stays
    last = json.loads(run(["status", "--json", "--offline"], env).stdout)["last_runs"][0]  # newest first
    assert last["exit_code"] == 2 and "dry_run" not in last


def test_auth_says_who_logged_in(standin, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setattr("recommender.spotify.auth.login", lambda settings, open_url=None, **kw: save_login(standin, cache))
    result = run(["auth", "--no-browser"], env_for(standin, cache))
    assert result.exit_code == 0, result.stderr
    assert f"Logged in as {standin.account.user['display_name']} ({standin.account.user['id']})" in result.stdout


def test_the_login_url_is_on_stderr_with_quiet_too(standin, tmp_path, monkeypatch):
    """README: the login URL is a message, not a result: on stderr, with `--quiet` too (it is
    what the person must open), and never on stdout, which a script reads."""
    cache = tmp_path / "cache"
    url = "https://accounts.example/authorize?client_id=x&state=y"

    def login(settings, open_url=None, **kw):
        open_url(url)
        return save_login(standin, cache)
    monkeypatch.setattr("recommender.spotify.auth.login", login)
    for args in (["auth", "--no-browser"], ["auth", "--no-browser", "--quiet"]):
        result = run(args, env_for(standin, cache))
        assert result.exit_code == 0, result.stderr
        assert url in result.stderr and url not in result.stdout, args


def test_auth_logout_deletes_the_saved_login_and_keeps_the_cache(standin, tmp_path):
    from recommender.lock import RunLock
    cache = tmp_path / "cache"
    save_login(standin, cache)
    env = env_for(standin, cache)
    assert run(["refresh", "--quiet"], env).exit_code == 0
    token = cache / "spotify-token.json"
    with RunLock(cache / "recommend.lock", command="test holder"):  # a running build keeps its login
        held = run(["auth", "--logout"], env)
    assert held.exit_code == 6 and token.exists()
    out = run(["auth", "--logout"], env)
    assert out.exit_code == 0, out.stderr
    assert f"Logged out: deleted {token}." in " ".join(out.stdout.split()) and "spotify.com/account/apps" in out.stdout
    assert not token.exists() and (cache / "manifest.json").exists()  # the cache stays
    assert run(["build-playlist", "--no-input", "--quiet"], env).exit_code == 3  # logged out: needs a login
    again = run(["auth", "--logout"], env)
    assert again.exit_code == 0 and "No saved login to delete" in again.stdout


def test_auth_logout_of_a_symlinked_login_deletes_the_tokens_it_links_to(standin, tmp_path):
    """A spotify-token.json that is a symlink (into a dotfiles or synced folder): the login is
    saved in the file it names, and --logout deleted the link alone, leaving the access and
    refresh tokens on disk. Both go now; a link to no regular file loses only the link."""
    cache, kept = tmp_path / "cache", tmp_path / "dotfiles" / "token.json"
    kept.parent.mkdir()
    cache.mkdir()
    save_login(standin, kept.parent)
    (kept.parent / "spotify-token.json").rename(kept)
    token = cache / "spotify-token.json"
    token.symlink_to(kept)
    out = run(["auth", "--logout"], env_for(standin, cache))
    assert out.exit_code == 0, out.stderr
    assert not token.is_symlink() and not kept.exists()
    assert f"deleted {token} and {kept}, the file that link named." in " ".join(out.stdout.split())
    (kept.parent / "folder").mkdir()
    token.symlink_to(kept.parent / "folder")  # no login of ours behind it: the folder stays
    assert run(["auth", "--logout"], env_for(standin, cache)).exit_code == 0
    assert not token.is_symlink() and (kept.parent / "folder").is_dir()


def test_an_80_column_table_wraps_text_and_keeps_ids_whole():
    from rich.console import Console
    from test_tables import field, squash
    why = "in 'A Very Long Playlist Name Indeed' with your seeds, and shares artist 'Somebody Famous'"
    rows = [[1, "4u7EnebtmKWzUH433cf5Qv", "Bohemian Rhapsody - Remastered 2011", "Queen", "0.912", why]]
    console = Console(width=80, record=True, highlight=False)
    console.print(_table("t", ["#", "track_id", "track", "artist", "score", "why"], rows, wide="why", width=80))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "4u7EnebtmKWzUH433cf5Qv" in text and "…" not in text
    assert squash(why) in field(text, "why")  # a table column or, as here (the id takes 22), a block per row


def test_search_prints_whole_ids_at_80_columns(logged_in):
    server, env, _ = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    name = next(iter(server.account.tracks.values()))["name"]
    ids = [r["track_id"] for r in json.loads(run(["search", name, "--json"], env).stdout)]
    text = run(["search", name], {**env, "COLUMNS": "80"}).stdout
    assert ids and all(i in text for i in ids)
    similar = json.loads(run(["similar", ids[0], "--json"], env).stdout)
    text = run(["similar", ids[0]], {**env, "COLUMNS": "80"}).stdout
    assert similar and all(r["track_id"] in text for r in similar)
    assert max(len(line) for line in text.splitlines()) <= 80


def test_no_legacy_note_when_the_old_places_are_overridden(tmp_path, monkeypatch):
    from test_paths import make_checkout
    old = make_checkout(tmp_path / "src")
    monkeypatch.setattr(paths, "checkout_roots", lambda cwd=None: [old])
    mine = tmp_path / "mine.yaml"
    mine.write_text("")
    result = run(["config", "path", "--config", str(mine)], {"RECOMMENDER_CACHE_DIR": str(tmp_path / "data")})
    assert result.exit_code == 0 and "note:" not in result.stderr
    result = run(["config", "path", "--config", str(mine)], {})
    assert f"note: using {old / 'cache'} from" in result.stderr and "user.yaml" not in result.stderr
    assert "`recommend config migrate` moves it to" in result.stderr  # one place: 'it', not 'them'


def test_an_old_crontab_line_after_a_migration_says_where_it_runs(tmp_path):
    from recommender import migrate
    from test_paths import make_checkout
    old = make_checkout(tmp_path / "src")
    migrate.migrate(paths.Legacy(old / "config" / "user.yaml", old / "cache"))
    result = run(["config", "path", "--config", str(old / "config" / "user.yaml")],
                 {"RECOMMENDER_CACHE_DIR": str(old / "cache")})
    assert result.exit_code == 0 and f"data:     {paths.user_data_dir()}" in result.stdout
    assert f"note: {old / 'cache'} and {old / 'config' / 'user.yaml'} moved to the standard places" in result.stderr
    assert "`recommend schedule install` again" in result.stderr


def test_an_old_quiet_crontab_line_after_a_migration_says_so_too(tmp_path):
    """Every crontab line an old version wrote runs `build-playlist --quiet --no-input`, and
    --quiet silenced the note README promises such a line after `config migrate` (re-run
    `recommend schedule install`): cron mailed nothing, night after night."""
    from recommender import migrate
    from test_paths import make_checkout
    old = make_checkout(tmp_path / "src")
    migrate.migrate(paths.Legacy(old / "config" / "user.yaml", old / "cache"))
    result = run(["build-playlist", "--quiet", "--no-input", "--config", str(old / "config" / "user.yaml")],
                 {"RECOMMENDER_CACHE_DIR": str(old / "cache"), "SPOTIPY_CLIENT_ID": "test-client"})
    assert f"note: {old / 'cache'} and {old / 'config' / 'user.yaml'} moved to the standard places" in result.stderr
    assert "`recommend schedule install` again" in result.stderr
    assert "from the source checkout" not in result.stderr


def _relative_cache_dir_of_an_older_version(tmp_path, monkeypatch):
    """A config file in src/config whose cache.dir is 'mycache', with the data in src/mycache
    (where versions before 29 Nov 2026 took it from, run in src); (src, the config file)."""
    root = tmp_path / "src"
    (root / "config").mkdir(parents=True)
    config = root / "config" / "user.yaml"
    config.write_text("cache:\n  dir: mycache   # mine\n")
    (root / "mycache").mkdir()
    (root / "mycache" / "manifest.json").write_text("{}")
    monkeypatch.chdir(root)
    return root, config


def test_a_relative_cache_dir_an_older_version_read_from_the_current_directory_is_named(tmp_path, monkeypatch):
    """Versions before 29 Nov 2026 took a relative cache.dir from the directory they ran in
    (a checkout's), this one from the config file's folder: after the upgrade the cache, login
    and manifest seemed gone ('cache: .../config/mycache (empty)', 'needs login'), nothing said
    where they were, and a new login would have started afresh without your removals."""
    root, config = _relative_cache_dir_of_an_older_version(tmp_path, monkeypatch)
    result = run(["config", "path", "--config", str(config)], {})
    assert result.exit_code == 0, result.stderr
    note = " ".join(result.stderr.split())
    assert (f"note: cache.dir 'mycache' in {config} is now the folder beside that file, {root / 'config' / 'mycache'}, "
            f"which holds nothing; {root / 'mycache'}, which versions before 29 Nov 2026 took it for") in note
    assert "holds your data: write that whole path as cache.dir" in note
    config.write_text(f"cache:\n  dir: {root / 'mycache'}\n")  # done as it says: no note
    assert "note:" not in run(["config", "path", "--config", str(config)], {}).stderr
    config.write_text("cache:\n  dir: mycache\n")
    (root / "config" / "mycache").mkdir()
    (root / "config" / "mycache" / "manifest.json").write_text("{}")  # in use beside the file: no note
    assert "note:" not in run(["config", "path", "--config", str(config)], {}).stderr


def test_a_cache_dir_set_by_the_environment_gets_no_note_of_the_config_files_relative_one(tmp_path, monkeypatch):
    """RECOMMENDER_CACHE_DIR wins over the config file's relative cache.dir: the folder that
    value named in the directory run from is no data of this run's, and no note says it is."""
    _, config = _relative_cache_dir_of_an_older_version(tmp_path, monkeypatch)
    result = run(["config", "path", "--config", str(config)], {"RECOMMENDER_CACHE_DIR": str(tmp_path / "elsewhere")})
    assert result.exit_code == 0, result.stderr
    assert "note:" not in result.stderr, result.stderr


def column_text(text: str, index: int) -> str:
    """One column of a rich table, its wrapped cells joined (rows start with a border)."""
    cells = [line.split("│")[index].strip() for line in text.splitlines() if line.startswith("│")]
    return " ".join(" ".join(cells).split())


def test_the_build_table_at_80_columns_wraps_and_cuts_nothing(logged_in):
    server, env, _ = logged_in
    out = json.loads(run(["build-playlist", "--dry-run", "--json"], env).stdout)
    narrow = run(["build-playlist", "--dry-run"], {**env, "COLUMNS": "80"}).stdout
    assert "…" not in narrow and max(len(line) for line in narrow.splitlines()) <= 80
    whys, tracks = column_text(narrow, -2), column_text(narrow, 2)
    for t in out["tracks"]:
        assert t["why"] in whys and t["name"] in tracks
    wide = run(["build-playlist", "--dry-run"], {**env, "COLUMNS": "160"}).stdout
    assert "content" in wide.splitlines()[2] + wide.splitlines()[3]
    # --rows: the first rows only (blend.max_tracks: 700 printed 700 rows, with no way to see fewer
    # but --quiet), the rest counted; the summary is the whole run's
    short = run(["build-playlist", "--dry-run", "--rows", "2"], {**env, "COLUMNS": "160"}).stdout
    tracks = column_text(short, 2)
    assert out["tracks"][0]["name"] in tracks and out["tracks"][2]["name"] not in tracks
    assert f"({len(out['tracks']) - 2} more rows not shown: --rows; --json lists them all)" in short
    assert f"would add {len(out['tracks'])}" in short


FIXTURE = str(Path(__file__).parent / "fixtures" / "tidy_small.csv")


@pytest.mark.parametrize("args", [["evaluate"], ["search", "night drive"], ["similar", "5qrNtSNkPsWfjqaYNugzYT"],
                                  ["moods", "classify"], ["moods", "recommend", "--mood", "happy"],
                                  ["moods", "near", "5qrNtSNkPsWfjqaYNugzYT"], ["tune", "--folds", "1"]])
def test_quiet_prints_no_table_for_the_reading_commands_either(tmp_path, args):
    """README and -h: --quiet prints only errors and notes, for every command; evaluate, tune,
    search, similar and the mood commands printed their whole tables."""
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path)}
    loud = run([*args, "--dataset", FIXTURE], env)
    assert loud.exit_code == 0 and loud.stdout.strip(), loud.stderr
    for line in ([*args, "--dataset", FIXTURE, "--quiet"], ["-q", *args, "--dataset", FIXTURE]):
        result = run(line, env)
        assert result.exit_code == 0 and result.stdout == "", (line, result.stdout[:300])
    assert json.loads(run([*args, "--dataset", FIXTURE, "--quiet", "--json"], env).stdout) is not None


def test_playlists_marks_one_the_tool_wrote_on_another_computer(logged_in):
    """A mood playlist the laptop exported (its description carries the tool's marker) was listed
    on the server like one of your own, "managed" blank, though never counted as taste."""
    server, env, _ = logged_in
    me = server.account.user["id"]
    theirs = next(p for p in server.account.playlists if p.get("owner", me) == me)
    theirs["description"] = "Mood 'happy' by recommend. Managed automatically."
    assert run(["refresh", "--quiet"], env).exit_code == 0
    rows = {r["id"]: r for r in json.loads(run(["playlists", "--json"], env).stdout)}
    assert rows[theirs["id"]]["managed"] is True
    assert sum(r["managed"] for r in rows.values()) == 1  # nothing else of ours yet
    text = run(["playlists"], {**env, "COLUMNS": "200"}).stdout
    assert any(theirs["id"] in line and "│ other computer" in line for line in text.splitlines()), text


def test_every_demo_example_of_the_help_runs(tmp_path, monkeypatch):
    """`build-playlist -h` gave `--seed-playlist 37i9dQZF1DXcBWIGoYBM5M` (one of Spotify's own
    playlists, which a personal app never reads: it failed for everyone), and the examples of
    `similar`, `moods near`, `moods cluster` and `search` named tracks and playlists the sample
    library does not have, so a user trying them with --demo got exit 2 or no match. Every help
    example that uses --demo now runs on it (the web app's, which serves until stopped, aside)."""
    import re
    import shlex
    monkeypatch.chdir(tmp_path)  # moods cluster --plot writes beside it
    examples = set()
    for command in [[], *all_commands()]:
        text = " ".join(run([*command, "--help"], {"COLUMNS": "400"}).stdout.split())
        examples |= {e for e in re.findall(r"`(recommend [^`]*)`", text) if "--demo" in e.split()}
    examples = sorted(e for e in examples if not e.startswith(("recommend web", "recommend tune")))
    assert len(examples) >= 6, examples
    for example in examples:
        args = shlex.split(example)[1:]
        result = run(args + (["--dry-run"] if args[0] == "build-playlist" else []), {})
        assert result.exit_code == 0, (example, result.stderr)
        assert "No match" not in result.stdout, example


def test_a_playlist_id_that_is_not_yours_is_said_as_an_id_not_a_name():
    result = run(["build-playlist", "--demo", "--dry-run", "--seed-playlist", "37i9dQZF1DXcBWIGoYBM5M"], {})
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no playlist with the id 37i9dQZF1DXcBWIGoYBM5M among the 32 playlists")
    result = run(["moods", "cluster", "--demo", "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M?si=1"], {})
    assert result.exit_code == 2 and "no playlist with the id 37i9dQZF1DXcBWIGoYBM5M" in result.stderr


def test_playlists_leaves_out_the_managed_playlist_deleted_before_the_last_refresh(logged_in):
    """The managed playlist deleted in Spotify, then a refresh that no longer lists it:
    `recommend playlists` still showed it as "yes" with the 50 tracks last written, until the
    next build made another."""
    server, env, _ = logged_in
    made = json.loads(run(["build-playlist", "--json"], env).stdout)["playlist_id"]
    assert made in [r["id"] for r in json.loads(run(["playlists", "--json"], env).stdout)]  # made since: shown
    server.account.playlist(made)["followed"] = False  # you delete it in Spotify
    assert run(["refresh", "--quiet"], env).exit_code == 0
    assert made not in [r["id"] for r in json.loads(run(["playlists", "--json"], env).stdout)]


def test_status_names_the_managed_playlist_as_the_last_refresh_listed_it(logged_in):
    """Renamed in Spotify, then a refresh: `recommend playlists` showed the new name and `status`
    the old one until the next build."""
    server, env, _ = logged_in
    made = json.loads(run(["build-playlist", "--json"], env).stdout)["playlist_id"]
    server.account.playlist(made)["name"] = "My Mix (renamed)"
    assert json.loads(run(["status", "--json", "--offline"], env).stdout)["playlist"]["name"] != "My Mix (renamed)"
    assert run(["refresh", "--quiet"], env).exit_code == 0
    assert json.loads(run(["status", "--json", "--offline"], env).stdout)["playlist"]["name"] == "My Mix (renamed)"
    assert "My Mix (renamed)" in run(["status", "--offline"], {**env, "COLUMNS": "200"}).stdout


def test_status_says_the_managed_playlist_the_last_refresh_found_deleted_is_gone(logged_in):
    """The managed playlist deleted in Spotify, then a refresh that no longer lists it: `status`
    still showed it as the managed playlist, its 50 tracks and a link to a playlist that is no
    more (`recommend playlists` leaves it out, the next build makes a new one), until that build."""
    server, env, _ = logged_in
    made = json.loads(run(["build-playlist", "--json"], env).stdout)["playlist_id"]
    assert json.loads(run(["status", "--json", "--offline"], env).stdout)["playlist"].get("gone") is None
    server.account.playlist(made)["followed"] = False  # you delete it in Spotify
    assert run(["refresh", "--quiet"], env).exit_code == 0
    shown = json.loads(run(["status", "--json", "--offline"], env).stdout)["playlist"]
    assert shown["id"] == made and shown.get("gone") is True and "url" not in shown
    text = run(["status", "--offline"], {**env, "COLUMNS": "200"}).stdout
    line = next(line for line in text.splitlines() if line.startswith("playlist:"))
    assert "no longer in your playlists" in line and "the next build-playlist creates a new one" in line
    assert "open.spotify.com" not in line and "50 tracks" not in line
    # the next build makes the new one, which status shows as before
    new = json.loads(run(["build-playlist", "--json"], env).stdout)["playlist_id"]
    shown = json.loads(run(["status", "--json", "--offline"], env).stdout)["playlist"]
    assert new != made and shown["id"] == new and "gone" not in shown and shown["url"].endswith(new)


@pytest.mark.parametrize("command", list(all_commands()), ids=" ".join)
def test_the_help_of_quiet_offers_json_output_only_where_the_command_prints_json(command):
    # `recommend auth -h`, `standin -h`, `web -h` and `schedule show -h` said --quiet leaves
    # "--json output", which each of them refuses (`prints no JSON: leave out --json`)
    result = run([*command, "--help"], {"COLUMNS": "200"})
    assert result.exit_code == 0
    quiet_help = next(line for line in result.stdout.splitlines() if "--quiet" in line)
    takes_json = "--json" in result.stdout.replace(quiet_help, "")
    assert ("--json" in quiet_help) == takes_json, quiet_help
