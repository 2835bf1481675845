"""Spotify refusing a Development Mode app whatever the request: the account is not on the app's
user list, or the app's owner has no Premium (since February 2026). These are the first errors a
new user of a personal app meets; every request answers the same, so the tool stops at once with
what to change (exit 3), and nothing it remembers is spoiled by the refusal."""

from __future__ import annotations


import pytest
import requests
from typer.testing import CliRunner

from recommender.cli import app
from recommender.errors import AppAccessRefused, development_mode_refusal
from recommender.standins.spotify import Fault

from spotify_helpers import api_requests, free_port, save_login, settings_for

runner = CliRunner()

# Spotify's words, as client libraries reported them (spotipy #688 and #1044, spotipy #1233)
NOT_LISTED = "User not registered in the Developer Dashboard"
NO_PREMIUM = ("Active premium subscription required for the owner of the app. When the subscription status "
              "changes, it can take a few hours before requests are allowed again.")


def env_for(server, cache) -> dict[str, str]:
    return {"RECOMMENDER_SPOTIFY_API_URL": server.api_url, "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": server.accounts_url,
            "SPOTIPY_CLIENT_ID": "test-client", "RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_SECRET": ""}


def run(args, env):
    return runner.invoke(app, args, env=env, catch_exceptions=False)


@pytest.mark.parametrize("message, says", [
    (NOT_LISTED, "User Management"), ("User not approved for app", "User Management"),
    ("Check settings on developer.spotify.com/dashboard, the user may not be registered.", "User Management"),
    (NO_PREMIUM, "Premium"),
    ("Insufficient client scope", None), ("Forbidden", None), ("", None),
])
def test_spotifys_refusals_are_told_apart_from_other_403s(message, says):
    advice = development_mode_refusal(message)
    assert (advice is None) == (says is None)
    if says:
        assert says in advice and "\n" not in advice


@pytest.mark.parametrize("message, says", [(NOT_LISTED, "add this account's e-mail there"),
                                           (NO_PREMIUM, "has no active Premium subscription")])
def test_a_refused_account_stops_a_refresh_at_once_with_what_to_change(standin, tmp_path, message, says):
    """It said "Spotify refused GET me (403: User not registered in the Developer Dashboard)",
    exit 5 like an outage, with nothing on what to do."""
    cache = tmp_path / "cache"
    save_login(standin, cache)
    fault = standin.add_fault(Fault(method="*", path=r"^/v1/", status=403, message=message, times=None))
    result = run(["refresh", "--quiet"], env_for(standin, cache))
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and says in result.stderr
    assert fault.hits == 1  # the first refusal ends the run: every other request would answer the same


def test_a_lapsed_premium_does_not_mark_your_own_playlists_unreadable(standin, tmp_path):
    """The refusal came on each playlist's items: the pull took the 403s for "a playlist of
    another owner", skipped every playlist and remembered them as unreadable for their snapshot,
    so once Premium was back they stayed skipped (and the run exited 0 with an empty library)."""
    from recommender.jobs import open_store
    cache = tmp_path / "cache"
    save_login(standin, cache)
    standin.add_fault(Fault(method="GET", path=r"^/v1/playlists/[^/]+/items$", status=403, message=NO_PREMIUM,
                            times=None))
    assert run(["refresh", "--quiet"], env_for(standin, cache)).exit_code == 3
    standin.clear_faults()  # Premium again
    assert run(["refresh", "--quiet"], env_for(standin, cache)).exit_code == 0
    library = open_store(settings_for(standin, cache)).load_library()
    owned = library.playlists[library.playlists["owner_id"] == standin.account.user["id"]]
    assert len(owned) >= 3 and owned["readable"].all()
    assert set(owned["playlist_id"]) <= set(library.playlist_items["playlist_id"])


def test_build_playlist_writes_nothing_when_refused(standin, tmp_path):
    cache = tmp_path / "cache"
    save_login(standin, cache)
    env = env_for(standin, cache)
    assert run(["refresh", "--quiet"], env).exit_code == 0
    standin.add_fault(Fault(method="*", path=r"^/v1/", status=403, message=NO_PREMIUM, times=None))
    result = run(["build-playlist", "--quiet"], env)
    assert result.exit_code == 3 and "Premium" in result.stderr
    assert not [r for r in api_requests(standin) if r.method in {"POST", "PUT", "DELETE"} and r.status < 400]


def test_a_token_refresh_refused_for_premium_says_so_without_retrying(standin, tmp_path):
    """The accounts service can give the same refusal when the token is refreshed."""
    cache = tmp_path / "cache"
    save_login(standin, cache, expires_in=-10)  # expired: the first call refreshes it
    fault = standin.add_fault(Fault(method="POST", path=r"^/api/token$", status=400, message=NO_PREMIUM, times=None))
    result = run(["refresh", "--quiet"], env_for(standin, cache))
    assert result.exit_code == 3 and "Premium" in result.stderr
    assert fault.hits == 1


def _browser(url: str) -> None:
    answer = requests.get(url, allow_redirects=False, timeout=10)
    requests.get(answer.headers["Location"], timeout=10)


def test_recommend_auth_with_an_account_not_on_the_apps_list_says_what_to_do(standin, tmp_path):
    """`recommend auth` said "Logged in (could not ask Spotify who you are: ...)" and exited 0:
    the user went on to set up cron, whose every run then failed."""
    from recommender import jobs
    settings = settings_for(standin, tmp_path / "cache", **{"spotify.redirect_uri":
                                                           f"http://127.0.0.1:{free_port()}/callback"})
    standin.add_fault(Fault(method="GET", path=r"^/v1/me$", status=403, message=NOT_LISTED, times=None))
    with pytest.raises(AppAccessRefused, match="User Management") as err:
        jobs.login(settings, open_url=_browser)
    assert err.value.exit_code == 3
    assert (tmp_path / "cache" / "spotify-token.json").exists()  # kept: it works once the account is added


def test_the_login_page_of_an_account_not_on_the_apps_list_says_the_login_failed(standin, tmp_path):
    """The browser's page said "Logged in: you can close this tab." while `recommend auth` said
    that Spotify does not let this account use the app (exit 3): the page was written once the
    token was saved, before the tool asked Spotify who logged in. It now says the terminal's words."""
    from recommender import jobs
    settings = settings_for(standin, tmp_path / "cache", **{"spotify.redirect_uri":
                                                           f"http://127.0.0.1:{free_port()}/callback"})
    standin.add_fault(Fault(method="GET", path=r"^/v1/me$", status=403, message=NOT_LISTED, times=None))
    pages = []

    def browser(url: str) -> None:
        answer = requests.get(url, allow_redirects=False, timeout=10)
        pages.append(requests.get(answer.headers["Location"], timeout=10).text)
    with pytest.raises(AppAccessRefused, match="User Management"):
        jobs.login(settings, open_url=browser)
    assert len(pages) == 1 and "recommend: Login failed: Spotify does not let this account use your app" in pages[0]


def test_a_login_spotify_refuses_keeps_the_login_that_worked(standin, tmp_path):
    """Logged in and running from cron, then `recommend auth` with an account not on the app's
    list: the refused account's token replaced the one that worked, and every cron run failed
    from then on, telling the app's owner to add "this account". The earlier login stays."""
    from recommender import jobs
    cache = tmp_path / "cache"
    settings = settings_for(standin, cache, **{"spotify.redirect_uri": f"http://127.0.0.1:{free_port()}/callback"})
    save_login(standin, cache)
    working = (cache / "spotify-token.json").read_text()
    assert jobs.connect(settings).me()["id"]
    standin.add_fault(Fault(method="GET", path=r"^/v1/me$", status=403, message=NOT_LISTED, times=1))
    with pytest.raises(AppAccessRefused, match="User Management") as err:
        jobs.login(settings, open_url=_browser)
    assert str(err.value).endswith("; the login saved before this one is kept") and err.value.exit_code == 3
    assert (cache / "spotify-token.json").read_text() == working
    assert (cache / "spotify-token.json").stat().st_mode & 0o777 == 0o600  # put back private, as saved
    assert jobs.connect(settings).me()["id"]  # the next run works as before


def test_recommend_auth_that_cannot_reach_the_login_page_says_so_at_once_naming_the_address(tmp_path):
    """Offline, or a stand-in's address left behind after a trial: `recommend auth` waited its
    whole 300 s for a redirect that could not come, then blamed the browser and the redirect
    URI. The login page is asked first anyway: it now stops there, exit 5, naming the address
    and what set it, with the port let go."""
    import socket
    import time
    dead = f"http://127.0.0.1:{free_port()}"  # a port nothing listens on
    port = free_port()
    env = {"RECOMMENDER_SPOTIFY_API_URL": f"{dead}/v1/", "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": dead,
           "SPOTIPY_CLIENT_ID": "test-client", "RECOMMENDER_CACHE_DIR": str(tmp_path / "cache"),
           "SPOTIPY_CLIENT_SECRET": "", "SPOTIPY_REDIRECT_URI": f"http://127.0.0.1:{port}/callback"}
    started = time.monotonic()
    result = runner.invoke(app, ["auth", "--no-browser"], env=env)
    assert result.exit_code == 5, result.output
    assert time.monotonic() - started < 60
    said = result.output.strip().splitlines()[-1]
    assert said.startswith(f"error: cannot reach the Spotify accounts service at {dead} (spotify.accounts_url, "
                           "from environment RECOMMENDER_SPOTIFY_ACCOUNTS_URL) for its login page (connection refused)")
    with socket.socket() as s:  # the callback's port is free again
        s.bind(("127.0.0.1", port))
    assert not (tmp_path / "cache" / "spotify-token.json").exists()


def test_auth_on_a_machine_without_a_display_starts_no_text_mode_browser(standin, tmp_path, monkeypatch):
    """`recommend auth` in an SSH session started lynx or w3m in the terminal (Python's
    webbrowser does, without a display), where Spotify's login page cannot run: the person was
    stuck in it. As `recommend web` does, it now starts none there and says how to log in."""
    import sys
    import types
    import webbrowser

    from recommender import jobs
    from recommender.cli import account as cli
    opened, shown = [], []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url))

    class Terminal:  # a person at a terminal (the runner's stdin is none)
        stdin = types.SimpleNamespace(isatty=lambda: True)

        def __getattr__(self, name):
            return getattr(sys, name)
    monkeypatch.setattr(cli, "sys", Terminal())

    def login(settings, open_url=None):
        open_url("http://127.0.0.1:1/authorize?x")
        shown.append(True)
        return jobs.Login({"id": "small-user", "display_name": "Small"})
    monkeypatch.setattr(jobs, "login", login)
    env = {"RECOMMENDER_SPOTIFY_API_URL": standin.api_url, "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": standin.accounts_url,
           "SPOTIPY_CLIENT_ID": "test-client", "RECOMMENDER_CACHE_DIR": str(tmp_path / "cache")}
    for display, started in ((None, False), (":0", True)):
        for var in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
            monkeypatch.delenv(var, raising=False)
        if display:
            monkeypatch.setenv("DISPLAY", display)
        opened.clear()
        result = runner.invoke(app, ["auth"], env=env)
        assert result.exit_code == 0 and shown, result.output
        assert bool(opened) == started
        assert ("no browser opened (no graphical display here" in result.output) == (not started), result.output


@pytest.mark.parametrize("extra", [[], ["--no-browser"]])
def test_auth_with_no_input_exits_3_as_no_input_says_and_names_it(standin, tmp_path, extra):
    """`recommend auth --no-input` was a usage error (exit 2) telling to use --no-browser, also
    when given; --no-input's help says "exit 3 if a login is needed", and auth is the login."""
    result = runner.invoke(app, ["auth", "--no-input", *extra], env=env_for(standin, tmp_path / "cache"))
    assert result.exit_code == 3, result.output
    line = result.output.strip()
    assert "--no-input (never prompt) forbids it" in line and "--no-browser" not in line, line


def test_status_without_a_client_id_says_to_set_one_not_to_run_auth(tmp_path, monkeypatch):
    """`status` said "login: needs login (run `recommend auth`)" with no client id set, where
    `recommend auth` can only fail: it names the setting now, as auth does."""
    import json
    monkeypatch.delenv("SPOTIPY_CLIENT_ID", raising=False)
    result = runner.invoke(app, ["--json", "status", "--offline"], env={"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    login = json.loads(result.stdout)["login"]
    assert login["state"] == "needs login" and login["message"].startswith("not connected to Spotify: set "
                                                                           "spotify.client_id"), login


def test_a_login_that_lacks_a_permission_is_a_login_problem_not_an_outage(standin, tmp_path):
    """A login granted fewer scopes than asked (spotipy's secret flow saves the scopes it asked
    for, so the tool cannot see it): `refresh` said "Spotify refused GET me/following (403:
    Insufficient client scope)", exit 5 ("Spotify unavailable": cron tries again every night,
    for ever), with no next step. It is exit 3 now, saying to log in again."""
    import json
    cache = tmp_path / "cache"
    token = save_login(standin, cache, scope="playlist-read-private user-top-read user-library-read "
                                                  "playlist-modify-private")  # no user-follow-read
    from recommender.spotify.auth import scopes
    (cache / "spotify-token.json").write_text(json.dumps({**token, "scope": scopes()}))  # as spotipy saved it
    result = run(["refresh", "--no-input"], env_for(standin, cache))
    assert result.exit_code == 3, result.output
    line = result.output.strip().splitlines()[-1]
    assert "(403: Insufficient client scope): the saved login lacks a permission this needs; run `recommend auth`" \
        in line, line


@pytest.mark.parametrize("secret", [None, "the-secret"], ids=["pkce", "client-secret"])
def test_a_login_granted_fewer_scopes_than_asked_fails_naming_them(standin, tmp_path, secret):
    """The login page approved without user-follow-read: `recommend auth` said "Logged in (could
    not ask Spotify who you are: the saved login lacks the scopes ...)", exit 0, and every run
    then failed. The login fails now (exit 3), naming the missing scope; a login saved before stays.
    With a client secret, spotipy saved the scopes the tool asked for, not those Spotify granted:
    that login said "Logged in" and every run then failed with a 403 naming no permission."""
    import re

    from recommender import jobs
    from recommender.errors import AuthError
    cache = tmp_path / "cache"
    settings = settings_for(standin, cache, **{"spotify.redirect_uri": f"http://127.0.0.1:{free_port()}/callback",
                                               **({"spotify.client_secret": secret} if secret else {})})
    save_login(standin, cache)
    working = (cache / "spotify-token.json").read_text()

    def browser(url: str) -> None:  # the person's page approved less than asked
        _browser(re.sub(r"\+?user-follow-read", "", url))
    with pytest.raises(AuthError, match=r"lacks the scopes this tool needs \(user-follow-read\)"):
        jobs.login(settings, open_url=browser)
    assert (cache / "spotify-token.json").read_text() == working


@pytest.mark.parametrize("method,url,payload,needed", [
    ("GET", "me/top/tracks", None, "user-top-read"),
    ("GET", "me/tracks", None, "user-library-read"),
    ("POST", "me/playlists", {"name": "x", "public": False}, "playlist-modify-private"),
])
def test_a_403_for_a_missing_scope_names_the_scope(standin, tmp_path, method, url, payload, needed):
    """A login whose file says it has every scope (spotipy's secret flow saved the ones asked
    for) while Spotify granted fewer: the 403 said "the saved login lacks a permission this
    needs" without naming it. It names the scope the refused request needs."""
    import json

    from recommender.errors import MissingScope
    from recommender.spotify.auth import BASE_SCOPES, scopes

    from spotify_helpers import gateway_for
    cache = tmp_path / "cache"
    token = save_login(standin, cache, scope=" ".join(s for s in BASE_SCOPES if s != needed))
    (cache / "spotify-token.json").write_text(json.dumps({**token, "scope": scopes()}))
    gateway = gateway_for(settings_for(standin, cache))
    with pytest.raises(MissingScope, match=f"approve all that Spotify's page asks \\({needed} is the one missing\\)"):
        gateway.call(method, url, payload)
