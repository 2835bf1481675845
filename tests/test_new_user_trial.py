"""Found by following README.md as a new user: the stand-in's offline trial, then the user's own
account, in the same (standard) places. Every test runs against the local stand-ins (127.0.0.1)."""

from __future__ import annotations

import json
import re
import sys

import pytest

from recommender import publish
from recommender.standins.spotify import Account, StandinServer
from recommender.store import Store

from conftest import FIXTURES
from spotify_helpers import gateway_for, remove_by_hand, save_login, settings_for
from test_cli import env_for, logged_in, run  # noqa: F401 (a fixture)


@pytest.fixture
def second():
    """Another account (another user id, one playlist of its own): "your own account" after
    the stand-in's trial account."""
    data = Account.from_file(FIXTURES / "small_account.json").to_dict()
    data["user"] = {"id": "second-user", "display_name": "Second User"}
    data["playlists"] = [dict(p, id="secondPlaylist00000001", name="Second's Mix", owner="second-user")
                         for p in data["playlists"] if p["name"] == "Workout Mix"]
    with StandinServer(Account.from_dict(data)) as server:
        yield server


def login_as(server, cache, monkeypatch):
    """`recommend auth` as the account ``server`` holds (its login page approves at once)."""
    monkeypatch.setattr("recommender.spotify.auth.login", lambda settings, open_url=None, **kw: save_login(server, cache))
    return run(["auth", "--no-browser"], env_for(server, cache))


def ours(server, name="recommend: for you"):
    return [p["id"] for p in server.account.playlists if p["name"] == name]


def test_a_login_as_another_account_pulls_its_library_and_sets_the_first_ones_state_aside(
        standin, second, tmp_path, monkeypatch):
    # After the trial (README: "To try the whole flow without Spotify") `recommend auth` as your
    # own account and `recommend build-playlist --dry-run` scored the trial's cache (fresh for
    # 12 h): it would have written the trial's recommendations into your account, said the trial's
    # playlist was "no longer in your playlists (unfollowed?)" and kept the trial's removals.
    cache = tmp_path / "state"
    first_env, second_env = env_for(standin, cache), env_for(second, cache)
    assert login_as(standin, cache, monkeypatch).exit_code == 0
    assert run(["build-playlist", "--quiet"], first_env).exit_code == 0
    [first_pid] = ours(standin)
    settings = settings_for(standin, cache)
    gateway = gateway_for(settings)
    _, content = publish.read_playlist(gateway, first_pid)
    remove_by_hand(gateway, first_pid, [content[0]])  # the user removes one
    assert run(["build-playlist", "--quiet"], first_env).exit_code == 0
    assert Store.from_settings(settings).read_manifest()["user_removed"] == [content[0]]

    result = login_as(second, cache, monkeypatch)
    assert result.exit_code == 0, result.stderr
    assert "'small-user'" not in result.stderr and "small-user" in result.stderr  # the note names it
    dry = run(["build-playlist", "--dry-run", "--json"], second_env)
    assert dry.exit_code == 0, dry.stderr
    out = json.loads(dry.stdout)
    assert out["refreshed"] and out["playlist_id"] is None
    assert not any("unfollowed" in m for m in out["messages"]) and "unfollowed" not in dry.stderr
    names = {p["name"] for p in json.loads(run(["playlists", "--json"], second_env).stdout)}
    assert names == {"Second's Mix"}
    manifest = Store.from_settings(settings).read_manifest()
    assert manifest["user_id"] == "second-user" and not manifest.get("user_removed")
    assert run(["build-playlist", "--quiet"], second_env).exit_code == 0
    assert len(ours(second)) == 1 and ours(standin) == [first_pid]

    # back to the first account: its managed playlist (updated in place) and removals return
    assert login_as(standin, cache, monkeypatch).exit_code == 0
    out = json.loads(run(["build-playlist", "--json"], first_env).stdout)
    assert out["playlist_id"] == first_pid and ours(standin) == [first_pid]
    manifest = Store.from_settings(settings).read_manifest()
    assert manifest["user_removed"] == [content[0]] and content[0] not in [t["id"] for t in out["tracks"]]


def test_a_dropped_in_token_of_another_account_is_caught_by_the_refresh(standin, second, tmp_path):
    # README: "a token obtained elsewhere can be dropped in"; the refresh rebuilt the cache for
    # the new account but kept the other account's managed playlist and removals
    cache = tmp_path / "state"
    save_login(standin, cache)
    assert run(["build-playlist", "--quiet"], env_for(standin, cache)).exit_code == 0
    save_login(second, cache)
    result = run(["refresh"], env_for(second, cache))
    assert result.exit_code == 0, result.stderr
    assert "rebuilding it for 'second-user'" in result.stderr and "set aside" in result.stderr
    manifest = Store.from_settings(settings_for(second, cache)).read_manifest()
    assert "managed_playlist" not in manifest and manifest["accounts"]["small-user"]["managed_playlist"]["id"]
    assert run(["build-playlist", "--quiet"], env_for(second, cache)).exit_code == 0
    assert len(ours(second)) == 1


def test_seeding_from_the_managed_playlist_right_after_it_was_created_says_why(logged_in):
    # the first `build-playlist` creates the playlist; `recommend playlists` lists it at once (from
    # the manifest) but `--seed-playlist "recommend: for you"` answered 'no playlist named
    # "recommend: for you" among your 4 playlists' until the next refresh
    server, env, _ = logged_in
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    [pid] = ours(server)
    listed = {r["name"]: r for r in json.loads(run(["playlists", "--json"], env).stdout)}
    assert listed["recommend: for you"]["managed"]
    for ref in ("recommend: for you", "RECOMMEND: FOR YOU", pid, f"spotify:playlist:{pid}",
                f"https://open.spotify.com/playlist/{pid}?si=x"):
        result = run(["build-playlist", "--dry-run", "--seed-playlist", ref], env)
        assert result.exit_code == 2, ref
        assert "written by this tool" in result.stderr and "no playlist named" not in result.stderr, ref
        result = run(["moods", "cluster", ref], env)  # the taste-library commands refuse it too
        assert result.exit_code == 2 and "written by this tool" in result.stderr, ref


def unreachable_spotify(tmp_path, retries: str) -> tuple:
    """(port, config file, cache): a config naming Spotify's addresses on a port where nothing
    listens (``retries``: the rest of its spotify section), and a saved login (``expire`` it)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here
    config = tmp_path / "config.yaml"
    config.write_text(f"spotify:\n  client_id: any\n  api_url: http://127.0.0.1:{port}/v1/\n"
                      f"  accounts_url: http://127.0.0.1:{port}\n{retries}")
    cache = tmp_path / "state"
    cache.mkdir()
    save_token(cache, expires_at=2 ** 40)
    return port, config, cache


def save_token(cache, expires_at: int) -> None:
    from recommender.spotify.auth import scopes
    token = {"access_token": "a", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "r",
             "scope": scopes(), "expires_at": expires_at}
    (cache / "spotify-token.json").write_text(json.dumps(token))


def test_a_spotify_address_left_in_the_config_is_named_when_it_cannot_be_reached(tmp_path):
    # after the trial, `schedule install` had written the stand-in's addresses into the config
    # file; once the stand-in was stopped every run said only "Spotify is unavailable (...); try
    # again later", not where it had asked
    port, config, cache = unreachable_spotify(tmp_path, "  max_retries: 0\n")
    env = {"RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_ID": ""}
    result = run(["refresh", "--config", str(config)], env)
    assert result.exit_code == 5
    assert f"at http://127.0.0.1:{port}/v1/ (spotify.api_url, from {config})" in result.stderr
    save_token(cache, expires_at=1)  # expired: a refresh
    result = run(["refresh", "--config", str(config)], env)
    assert result.exit_code == 5
    assert f"at http://127.0.0.1:{port} (spotify.accounts_url, from {config})" in result.stderr


@pytest.mark.parametrize("expired", [False, True], ids=["api", "accounts"])
def test_an_unreachable_spotify_is_said_when_the_retries_start_not_only_at_the_end(tmp_path, expired):
    # `build-playlist --refresh` with Spotify unreachable retried about 8 s with nothing on the
    # terminal, then exited 5: a person saw a command that hung. The first retry now says, in one
    # line, what failed, where it asked and how long the retries may take; --quiet (cron) only the error
    port, config, cache = unreachable_spotify(tmp_path, "  max_retries: 2\n  max_retry_wait: 0.01\n")
    if expired:
        save_token(cache, expires_at=1)
    env = {"RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_ID": ""}
    result = run(["build-playlist", "--refresh", "--config", str(config)], env)
    assert result.exit_code == 5
    lines = result.stderr.splitlines()
    key, url = ("spotify.accounts_url", f"http://127.0.0.1:{port}") if expired else ("spotify.api_url",
                                                                                      f"http://127.0.0.1:{port}/v1/")
    said = [i for i, line in enumerate(lines) if "connection refused" in line and "trying again 2 more times" in line]
    error = [i for i, line in enumerate(lines) if line.startswith("error:")]
    assert len(said) == 1 and error and said[0] < error[0], result.stderr
    for i in (said[0], error[0]):
        assert f"at {url} ({key}, from {config})" in lines[i], lines[i]
    assert "Spotify" in lines[error[0]]
    quiet = run(["build-playlist", "--refresh", "--quiet", "--config", str(config)], env)
    assert quiet.exit_code == 5 and "trying again" not in quiet.stderr and quiet.stderr.startswith("error:")


def test_the_example_configs_placeholder_client_id_is_refused_before_the_login_page(tmp_path):
    # config/example.yaml copied as the README says, client id left as is: `recommend auth` sent the
    # browser to Spotify with client_id=your-client-id (Spotify's page: INVALID_CLIENT)
    from pathlib import Path
    example = Path(__file__).resolve().parents[1] / "config" / "example.yaml"
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path / "state"), "SPOTIPY_CLIENT_ID": ""}
    for args in (["auth", "--no-browser"], ["refresh"]):
        result = run([*args, "--config", str(example)], env)
        assert result.exit_code == 3, args
        assert "placeholder 'your-client-id'" in result.stderr and str(example) in result.stderr
        assert "authorize" not in result.stderr  # no login URL was printed
    assert "config/user.yaml" not in example.read_text()  # it named the old place of the config file


@pytest.mark.parametrize("client_id, shown", [("0123456789abcdef 0123456789abcdef", "0123456789abcdef 0123456789abcdef"),
                                               ("0123456789abcdef0123456789abcdef\t", "0123456789abcdef0123456789abcdef\\x09"),
                                               ('"0123456789abcdef"', '"0123456789abcdef"'), ("clé", "clé")])
def test_a_client_id_no_app_can_have_is_refused_naming_the_key_and_file(client_id, shown, tmp_path):
    """A client id with a space, a tab, quotes or a letter no client id has (a paste gone wrong)
    went to the login page and the token endpoint, whose refusal was Spotify's opaque
    INVALID_CLIENT; a refresh with a saved login failed on its first token refresh. Refused now
    on one line, naming spotify.client_id and the file, before any request (exit 3, as the
    placeholder's). Ids of letters, digits and -_.~ are taken: a stand-in's ("test-client") too."""
    from pathlib import Path
    config = tmp_path / "config.yaml"
    config.write_text(f"spotify:\n  client_id: {json.dumps(client_id)}\n", encoding="utf-8")
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path / "state"), "SPOTIPY_CLIENT_ID": "",
           "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": "http://127.0.0.1:9", "RECOMMENDER_SPOTIFY_API_URL": "http://127.0.0.1:9/v1/"}
    for args in (["auth", "--no-browser"], ["refresh"]):
        result = run([*args, "--config", str(config)], env)
        assert result.exit_code == 3, (args, result.stderr)
        assert result.stderr.splitlines() == [result.stderr.strip()], result.stderr  # one line
        assert result.stderr.startswith(f"error: spotify.client_id '{shown}' (from {config}) is no client id"), result.stderr
        assert "authorize" not in result.stderr and "127.0.0.1:9" not in result.stderr  # asked nothing
    assert not Path(tmp_path / "state" / "spotify-token.json").exists()


def test_web_without_its_extra_names_the_package_to_install(tmp_path, monkeypatch):
    # the hint said `pip install -e '.[web]'`, which works only inside a source checkout
    import recommender.web  # (also binds recommender): the attribute put back below must exist when run alone
    monkeypatch.setitem(sys.modules, "starlette", None)  # as if the extra were not installed
    # the command imports recommender.web (for its Ctrl-C guard) anew: the package attribute too
    # is put back after, or the other tests would find a recommender.web without its modules
    monkeypatch.setattr(recommender, "web", recommender.web)
    for name in [m for m in sys.modules if m.startswith("recommender.web")]:
        monkeypatch.delitem(sys.modules, name)
    result = run(["web", "--no-browser"], {"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "pip install 'recommend-playlist[web]'" in result.stderr and "pip install -e" not in result.stderr


def test_the_refresh_summary_counts_each_playlist_once(logged_in):
    # the second refresh of the trial said "32 playlists (0 fetched, 32 unchanged, 2 not
    # readable)": the followed playlists Spotify does not let an app read were counted as
    # unchanged and as not readable, where the first refresh said "30 fetched, 0 unchanged, 2 not readable"
    server, env, _ = logged_in
    for _ in range(2):
        result = run(["refresh", "--json"], env)
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["playlists_forbidden"], "fixture needs a playlist the app may not read"
        assert report["playlists_fetched"] + report["playlists_unchanged"] + len(report["playlists_forbidden"]) \
            == report["playlists"], report
    assert report["playlists_fetched"] == 0


def test_enrich_genres_says_a_short_look_up_in_seconds_not_0_min(logged_in):
    # `recommend enrich genres --limit 5` announced "5 artists to look up on MusicBrainz: about 0 min"
    server, env, _ = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    result = run(["enrich", "genres", "--limit", "5"], env)
    assert result.exit_code == 0, result.stderr
    line = next(x for x in result.stderr.splitlines() if "to look up on MusicBrainz" in x)
    # the stand-in is on this machine: not held to 1 request/s, so not "about 37 min" for seconds of work
    assert line.startswith("5 artists to look up on MusicBrainz: about 1 s (a MusicBrainz on this machine: not "
                           "paced)"), line
    from recommender.cli.data import _enrich_estimate
    from recommender.config import load_settings
    real = load_settings(config_file=None, environ={}, overrides={"enrich.musicbrainz_url": "https://musicbrainz.org/ws/2/"})
    assert _enrich_estimate(real, 5, 0).startswith("5 artists to look up on MusicBrainz: about 12 s at 1 request/s ")
    assert " about 37 min at 1 request/s " in _enrich_estimate(real, 877, 0)
    assert _enrich_estimate(real, 0, 0).startswith("nothing to look up on MusicBrainz: ")


def test_enrich_genres_with_nothing_left_to_look_up_says_so_in_one_line(logged_in):
    # a second `recommend enrich genres` printed "0 artists to look up on MusicBrainz: about 0 s ...
    # (interrupt any time: the next run resumes; --limit N does a part now)", then "looked up 0 artists:
    # 0 found (0 by ISRC, 0 by name) ... 0 requests in 0 s"
    server, env, _ = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    assert run(["enrich", "genres", "--quiet"], env).exit_code == 0
    result = run(["enrich", "genres"], env)
    assert result.exit_code == 0, result.stderr
    said = " ".join((result.stdout + result.stderr).split())
    assert said == ("nothing to look up on MusicBrainz: every artist was looked up lately (one without genres "
                    "is asked again after 90 days, one with genres after 180 days)"), said
    report = json.loads(run(["enrich", "genres", "--json"], env).stdout)  # --json: the report, as before
    assert report["looked_up"] == 0 and report["remaining"] == 0 and "candidates" in report


def test_moods_cluster_on_an_exportify_file_without_a_playlist_names_its_one_playlist(tmp_path):
    # an Exportify file holds one playlist: "choose among the 1 playlists of My Mix.csv (e.g. "My Mix")"
    data = tmp_path / "My Mix.csv"
    data.write_text("Track URI;Track Name;Artist Name(s);Valence;Energy\n"
                    + "".join(f"spotify:track:{i:022d};Song {i};Artist {i % 3};0,{i + 1};0,{9 - i}\n" for i in range(8)))
    result = run(["moods", "cluster", "--dataset", str(data)], {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    assert result.exit_code == 2
    assert f'among the one playlist of {data} ("My Mix")' in result.stderr, result.stderr
    assert "1 playlists" not in result.stderr and "e.g." not in result.stderr


def test_refresh_auth_and_enrich_lines_fit_a_60_column_terminal(logged_in, monkeypatch):
    # at COLUMNS=60 `refresh` printed its summary as one 201-character line, `enrich genres` its
    # estimate and summary as 161 and 141, and `auth` "Logged in as ... Token saved in <path>"
    # as one line (and `auth --logout` its two): they now wrap between words, a path kept whole on a line of its own
    server, env, cache = logged_in
    env = {**env, "COLUMNS": "60"}
    monkeypatch.setattr("recommender.spotify.auth.login",
                        lambda settings, open_url=None, **kw: save_login(server, cache))
    for args in (["auth", "--no-browser"], ["refresh"], ["enrich", "genres"], ["auth", "--logout"]):
        result = run(args, env)
        assert result.exit_code == 0, result.stderr
        for line in (result.stdout + result.stderr).splitlines():
            assert len(line) <= 60 or re.fullmatch(r"\S+", line), (args, line)
    assert run(["auth", "--no-browser"], env).exit_code == 0
    refreshed = run(["refresh"], env).stdout
    assert f"Cache: {cache}" in " ".join(refreshed.split()) and re.search(r"\d+ Spotify requests", refreshed)


def test_a_path_with_spaces_is_never_split_by_the_wrapping(standin, tmp_path, monkeypatch):
    # the wrapped lines broke a path at its spaces: "deleted .../Application" then
    # "Support/recommend/spotify-token.json" (macOS's ~/Library/Application Support, a Windows
    # home "C:\\Users\\Anna Smith"), a copy of which named no file
    cache = tmp_path / "Application Support with a long name" / "recommend"
    save_login(standin, cache)
    env = {**env_for(standin, cache), "COLUMNS": "60"}
    monkeypatch.setattr("recommender.spotify.auth.login",
                        lambda settings, open_url=None, **kw: save_login(standin, cache))
    token = str(cache / "spotify-token.json")
    for args, path in ((["auth", "--no-browser"], token), (["refresh"], str(cache)),
                       (["auth", "--logout"], token), (["auth", "--logout"], token)):
        result = run(args, env)
        assert result.exit_code == 0, result.stderr
        assert any(path in line for line in result.stdout.splitlines()), (args, result.stdout)


def test_moods_cluster_demo_names_the_sample_librarys_playlists_not_yours(tmp_path):
    # `recommend moods cluster --demo` with no playlist (or an unknown one) said "choose among
    # your 32 playlists": they are the sample library's, not the user's
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path)}
    for args in (["moods", "cluster", "--demo"], ["moods", "cluster", "--demo", "zzzz"]):
        result = run(args, env)
        assert result.exit_code == 2, result.stderr
        said = " ".join(result.stderr.split())
        assert "your" not in said and re.search(r"playlists of the sample library (that have at least 4 tracks )?\(e\.g\. ",
                                                said), said


def test_build_playlist_demo_names_the_sample_librarys_playlists_not_yours(tmp_path):
    # `recommend build-playlist --demo --seed-playlist nope` said "no playlist named "nope" among
    # your 32 playlists": they are the sample library's
    result = run(["build-playlist", "--demo", "--dry-run", "--seed-playlist", "zzzz"], {"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert result.exit_code == 2, result.stderr
    assert "your" not in result.stderr and "playlists of the sample library (e.g. " in result.stderr, result.stderr


def test_note_lines_and_schedule_show_fit_a_60_column_terminal(tmp_path):
    # at COLUMNS=60 `schedule install` printed its notes (a proxy holding a password, the CRON_TZ above
    # ours) as lines of 200 characters and more, and `schedule show` "no schedule installed (see
    # `recommend schedule install --help`)" as one of 64: they now wrap between words like the
    # summaries, the cron expression and the command kept whole
    tab = tmp_path / "tab"
    tab.write_text("CRON_TZ=Asia/Tokyo\n")
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "60",
           "HTTPS_PROXY": "http://me:secret@proxy.invalid:3128"}
    installed = run(["schedule", "install", "--at", "0 7 * * *", "--tabfile", str(tab)], env)
    assert installed.exit_code == 0, installed.stderr
    notes = installed.stderr.splitlines()
    assert sum(line.startswith("note: ") for line in notes) == 2 and len(notes) > 2, notes
    assert all(len(line) <= 60 for line in notes), notes
    assert any("0 7 * * *" in line for line in notes), notes
    said = " ".join(notes)
    assert "HTTPS_PROXY in your environment holds a password" in said and "CRON_TZ=Asia/Tokyo above ours" in said
    assert run(["schedule", "remove", "--tabfile", str(tab)], env).exit_code == 0
    shown = run(["schedule", "show", "--tabfile", str(tab)], env).stdout.splitlines()
    assert shown == ["no schedule installed (see", "`recommend schedule install --help`)"], shown
