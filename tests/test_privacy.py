"""What leaves the machine and what stays on it (README "What leaves your machine" and
"Privacy"): a real login, refresh and build-playlist against the three stand-ins, every
request heard with its headers and body (``ServedStandIn.heard``), then the files left behind.
Every address is 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from recommender import __version__, jobs
from recommender.standins.server import ServedStandIn

from spotify_helpers import free_port
from test_cli import run

LB_TOKEN = "0b5e7c1a-2d4f-4e8a-9c3b-6f1d2e3a4b5c"  # a ListenBrainz user token (a UUID)
CONTACT = "someone@example.org"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{10}$")  # the sample's are ZZ + 10


@pytest.fixture
def heard(monkeypatch) -> list:
    """Every request any stand-in of this process receives (the demo's own too)."""
    heard: list = []
    monkeypatch.setattr(ServedStandIn, "heard", heard)
    return heard


@pytest.fixture
def world(heard):
    """Spotify (the sample account with the open-data world's catalogue), ListenBrainz + labs and
    MusicBrainz stand-ins, as `recommend standin` runs them."""
    from recommender.standins.listenbrainz import open_data_standins
    from recommender.standins.spotify import Account, StandinServer
    with open_data_standins() as (lb, mb, prepare):
        account = Account.sample()
        prepare(account)
        with StandinServer(account) as spotify:
            yield spotify, lb, mb


def env_of(spotify, lb, mb, cache: Path, **more: str) -> dict[str, str]:
    return {"RECOMMENDER_SPOTIFY_API_URL": spotify.api_url, "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": spotify.accounts_url,
            "SPOTIPY_CLIENT_ID": "privacy-client", "SPOTIPY_CLIENT_SECRET": "",
            "SPOTIPY_REDIRECT_URI": f"http://127.0.0.1:{free_port()}/callback",
            "RECOMMENDER_LISTENBRAINZ_API_URL": lb.api_url, "RECOMMENDER_LISTENBRAINZ_LABS_URL": lb.labs_url,
            "RECOMMENDER_MUSICBRAINZ_URL": mb.base_url, "RECOMMENDER_CACHE_DIR": str(cache), **more}


def browser_login(monkeypatch) -> None:
    """`recommend auth --no-browser` with this test as the person at the browser: the printed
    URL is opened (the stand-in approves at once and redirects to our callback)."""
    real = jobs.login

    def login(settings, open_url=None):
        def opened(url: str) -> None:
            open_url(url)
            requests.get(url, timeout=10)
        return real(settings, open_url=opened)
    monkeypatch.setattr(jobs, "login", login)


def by(heard: list, label: str) -> list:
    return [h for h in heard if h.label == label]


def leaves(value) -> list:
    """Every scalar of a JSON value."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in leaves(v)]
    return [value]


def test_a_scheduled_run_without_a_contact_says_so_once(world, heard, tmp_path, monkeypatch):
    """A scheduled run (`build-playlist --quiet --no-input`) with `schedule.enrich_limit` set
    asks the open-data services twice: the refresh's discovery (ListenBrainz, labs, MusicBrainz)
    and the genre look-ups after the build (MusicBrainz). Each made its own missing-contact
    notice, so the log said twice in one run how to set `enrich.contact`. One notice per run now."""
    from recommender.runlog import log_path

    from spotify_helpers import save_login
    spotify, lb, mb = world
    monkeypatch.setattr("recommender.services.http.LOOPBACK", set())  # the stand-ins taken for the real services
    cache = tmp_path / "state"
    config = tmp_path / "config.yaml"
    config.write_text("schedule:\n  enrich_limit: 3\n")
    env = env_of(spotify, lb, mb, cache, RECOMMENDER_CONFIG=str(config))
    save_login(spotify, cache, client_id="privacy-client")
    result = run(["build-playlist", "--quiet", "--no-input"], env)
    assert result.exit_code == 0, result.stderr
    logged = log_path(cache, "recommend.log").read_text().splitlines()
    assert by(heard, lb.label) and any("scheduled genre look-up: 3 artists" in line for line in logged)  # both asked
    assert len([line for line in logged if "set enrich.contact" in line]) == 1


def test_what_leaves_in_a_login_refresh_and_build_is_what_readme_says(world, heard, tmp_path, monkeypatch):
    spotify, lb, mb = world
    cache = tmp_path / "state"
    config = tmp_path / "config.yaml"
    config.write_text(f"enrich:\n  contact: {CONTACT}\n")
    env = env_of(spotify, lb, mb, cache, LISTENBRAINZ_TOKEN=LB_TOKEN, RECOMMENDER_CONFIG=str(config))
    browser_login(monkeypatch)
    assert run(["auth", "--no-browser", "-v"], env).exit_code == 0
    for args in (["refresh", "-v"], ["build-playlist", "-v"]):
        result = run(args, env)
        assert result.exit_code == 0, result.stderr
    token = json.loads((cache / "spotify-token.json").read_text())
    [exchange] = [h for h in heard if h.target.startswith("/api/token")]
    form = {k: v[0] for k, v in parse_qs(exchange.body.decode()).items()}
    assert set(form) == {"client_id", "grant_type", "code", "redirect_uri", "code_verifier"}  # PKCE: no secret

    # Spotify: its own bearer token on every API request, never another service's token
    to_spotify = by(heard, spotify.label)
    for h in to_spotify:
        if h.target.startswith("/v1/"):
            assert h.headers.get("authorization") == f"Bearer {token['access_token']}", h.target
        else:  # the browser's /authorize and the code exchange carry no Authorization
            assert "authorization" not in h.headers, h.target
    assert not any(LB_TOKEN in str(h) for h in to_spotify)
    searches = [parse_qs(urlsplit(h.target).query)["q"][0] for h in to_spotify if h.target.startswith("/v1/search")]
    assert searches and all(re.fullmatch(r'track:".*" artist:".*"', q) for q in searches)  # names of the suggestions

    # MusicBrainz: ISRC look-ups only, no Authorization, the tool's name, version and your contact
    to_mb = by(heard, mb.label)
    assert to_mb
    for h in to_mb:
        url = urlsplit(h.target)
        assert h.method == "GET" and url.path.startswith("/ws/2/isrc/") and ISRC.match(url.path.rsplit("/", 1)[1])
        assert parse_qs(url.query) == {"inc": ["artist-credits"], "fmt": ["json"]}
        assert "authorization" not in h.headers
        assert h.headers["user-agent"] == f"recommend-playlist/{__version__} ( {CONTACT} )"

    # ListenBrainz: MBIDs (and the algorithm's name) only; the user token to the API, never to labs;
    # the tool's name, version and your contact (it asks for one since August 2026, as MusicBrainz)
    to_lb = by(heard, lb.label)
    assert {h.target.split("/")[1] for h in to_lb} == {"1", "labs"}
    for h in to_lb:
        url = urlsplit(h.target)
        assert h.headers["user-agent"] == f"recommend-playlist/{__version__} ( {CONTACT} )"
        expected = f"Token {LB_TOKEN}" if url.path.startswith("/1/") else None
        assert h.headers.get("authorization") == expected, h.target
        values = [v for vs in parse_qs(url.query).values() for v in vs]
        values += [p for p in url.path.split("/") if UUID.match(p)]
        values += leaves(json.loads(h.body)) if h.body else []
        for v in values:
            assert isinstance(v, (int, float)) or UUID.match(v) or v.startswith("session_based_"), (h.target, v)

    # nothing names the account, a playlist, or a Spotify id to the open-data services
    account = spotify.account
    private = {account.user["id"], account.user.get("display_name")} | {p["name"] for p in account.playlists} \
        | {p["id"] for p in account.playlists} | set(account.tracks)
    open_text = " ".join(h.target + h.body.decode() for h in to_mb + to_lb)
    assert not {p for p in private if p and p in open_text}

    # what stays: no secret in any file but the login's, every file and folder the owner's only
    secrets = {"access token": token["access_token"], "refresh token": token["refresh_token"], "LB token": LB_TOKEN,
               "code": form["code"], "PKCE verifier": form["code_verifier"]}
    folders = [cache]  # RECOMMENDER_CACHE_DIR: one folder for the data and the cache
    files = [f for d in folders for f in d.rglob("*") if f.is_file()]
    assert {f.name for f in files} >= {"spotify-token.json", "recommend.log", "runs.jsonl", "manifest.json"}
    for f in files:
        text = f.read_bytes().decode("utf-8", "replace")
        found = [what for what, value in secrets.items() if value in text]
        assert not found or f.name == "spotify-token.json", (f, found)
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f  # the lock too (it names the running command)
    log = (cache / "recommend.log").read_text()
    assert "'code': '***'" in log and "'code_verifier': '***'" in log  # -v logged the exchange, redacted
    for d in folders + [d for folder in folders for d in folder.rglob("*") if d.is_dir()]:
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d


def test_a_client_secret_goes_to_the_accounts_service_only(world, heard, tmp_path, monkeypatch):
    """With a client secret the login and every token refresh send it (HTTP Basic) to the
    accounts service's /api/token, and nowhere else."""
    import base64
    spotify, lb, mb = world
    cache = tmp_path / "state"
    env = env_of(spotify, lb, mb, cache, SPOTIPY_CLIENT_SECRET="s3cret-value", LISTENBRAINZ_TOKEN=LB_TOKEN)
    browser_login(monkeypatch)
    assert run(["auth", "--no-browser"], env).exit_code == 0
    spotify.expire_access_tokens()  # the refresh's first request is refused: the token is refreshed
    saved = json.loads((cache / "spotify-token.json").read_text())
    (cache / "spotify-token.json").write_text(json.dumps({**saved, "expires_at": 0}))
    assert run(["refresh", "--quiet"], env).exit_code == 0
    basic = "Basic " + base64.b64encode(b"privacy-client:s3cret-value").decode()
    with_secret = [h for h in heard if "s3cret-value" in str(h) or basic in h.headers.values()]
    assert len(with_secret) >= 2  # the code exchange and the refresh
    assert {(h.label, urlsplit(h.target).path) for h in with_secret} == {(spotify.label, "/api/token")}


@pytest.mark.parametrize("config, silent", [
    ("discovery:\n  enabled: false\n", {"/ws/2/", "/1/", "/labs/", "/v1/search", "/v1/tracks/"}),
    ("discovery:\n  similar_artists:\n    enabled: false\n  similar_recordings:\n    enabled: false\n",
     {"/ws/2/", "/1/", "/labs/", "/v1/search", "/v1/tracks/"}),
    ("discovery:\n  similar_artists:\n    enabled: false\n", {"/labs/similar-artists", "/1/popularity/top-recordings"}),
    ("discovery:\n  similar_recordings:\n    enabled: false\n", {"/labs/similar-recordings", "/labs/recording-mbid-lookup"}),
])
def test_a_switched_off_source_sends_nothing(world, heard, tmp_path, config, silent):
    """`discovery.enabled: false` (or both sources off) asks MusicBrainz and ListenBrainz nothing,
    nor Spotify's search and track look-ups; one source off asks nothing of its own."""
    from spotify_helpers import save_login
    spotify, lb, mb = world
    cache = tmp_path / "state"
    save_login(spotify, cache, client_id="privacy-client")
    (tmp_path / "config.yaml").write_text(config)
    env = env_of(spotify, lb, mb, cache, RECOMMENDER_CONFIG=str(tmp_path / "config.yaml"))
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    targets = [h.target for h in heard]
    assert any(t.startswith("/v1/me/playlists") for t in targets)  # the run did run
    assert not [t for t in targets if any(s in t for s in silent)]


def test_the_demo_asks_nothing_but_its_own_stand_ins_and_sends_them_no_secret(world, heard, tmp_path):
    """`--demo` runs against stand-ins it starts itself on 127.0.0.1: the services your
    environment names hear nothing, and neither your ListenBrainz token nor your client secret
    goes to the demo's stand-ins (the LB token did)."""
    spotify, lb, mb = world  # "your" services: the demo must not use them
    env = env_of(spotify, lb, mb, tmp_path / "state", LISTENBRAINZ_TOKEN=LB_TOKEN, SPOTIPY_CLIENT_SECRET="s3cret-value")
    result = run(["build-playlist", "--demo", "--quiet"], env)
    assert result.exit_code == 0, result.stderr
    ports = {spotify.port, lb.port, mb.port}
    assert heard and not [h for h in heard if int(h.headers["host"].rsplit(":", 1)[1]) in ports]
    assert {h.headers["host"].rsplit(":", 1)[0] for h in heard} == {"127.0.0.1"}
    assert not [h for h in heard if LB_TOKEN in str(h) or "s3cret-value" in str(h)
                or h.headers.get("authorization", "").lower().startswith(("token", "basic"))]


def test_the_web_demo_keeps_your_secrets_out_after_a_reload(tmp_path, monkeypatch):
    """`recommend web --demo` reads its own config file again (at start once it exists, after a
    Save): that reload read SPOTIPY_CLIENT_SECRET and LISTENBRAINZ_TOKEN from the environment,
    so the demo's stand-ins were sent your real client secret (the token refresh) and token."""
    from recommender.config import load_settings
    from recommender.paths import demo_settings
    from recommender.web import server
    monkeypatch.setenv("SPOTIPY_CLIENT_SECRET", "s3cret-value")
    monkeypatch.setenv("LISTENBRAINZ_TOKEN", LB_TOKEN)
    from types import SimpleNamespace
    monkeypatch.setattr(jobs, "refresh", lambda settings: (None, SimpleNamespace(requests=0, tracks=0)))
    monkeypatch.setattr(jobs, "import_sample_features", lambda settings: None)
    settings = load_settings(overrides={"cache.dir": str(tmp_path)})
    demo = demo_settings(settings, {"spotify.client_id": "recommend-demo", "spotify.client_secret": None,
                                    "listenbrainz.token": None})
    (Path(demo.cache_dir) / server.DEMO_CONFIG).parent.mkdir(parents=True)
    (Path(demo.cache_dir) / server.DEMO_CONFIG).write_text("blend:\n  max_tracks: 30\n")
    ctx = server.demo_context(demo)
    assert ctx.settings.blend.max_tracks == 30  # the demo's file was read
    assert ctx.settings.spotify.client_secret is None and ctx.settings.listenbrainz.token is None


class _Answer:
    status_code, headers, url = 404, {}, ""


class _Session:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    def get(self, url, params=None, headers=None, timeout=None, stream=False):
        self.sent.append(headers)
        return _Answer()


@pytest.mark.parametrize("overrides, agent, warned", [
    ({}, f"recommend-playlist/{__version__}", True),
    ({"enrich.contact": CONTACT}, f"recommend-playlist/{__version__} ( {CONTACT} )", False),
    ({"enrich.user_agent": "mine/1.0 ( me@example.org )"}, "mine/1.0 ( me@example.org )", False),
    ({"enrich.musicbrainz_url": "http://127.0.0.1:9/ws/2/"}, f"recommend-playlist/{__version__}", False),
])
def test_musicbrainz_is_told_the_tool_its_version_and_your_contact(overrides, agent, warned, caplog):
    """The shipped User-Agent was "recommend/0.1 ( https://example.invalid/recommend )": another
    project's name, a version that was not this one, and an address that reaches nobody.
    Without a contact, the first request to musicbrainz.org says once how to set one."""
    from recommender.config import load_settings
    from recommender.enrich.musicbrainz import client_from_settings
    settings = load_settings(environ={}, overrides={"enrich.musicbrainz_url": "https://musicbrainz.org/ws/2/",
                                                    **overrides})
    client = client_from_settings(settings)
    client.session, client.sleep = _Session(), lambda s: None
    with caplog.at_level(logging.WARNING):
        client.isrc("USRC17607839")
        client.isrc("USRC17607840")
    assert [h["User-Agent"] for h in client.session.sent] == [agent, agent]
    said = [r.getMessage() for r in caplog.records if "enrich.contact" in r.getMessage()]
    assert len(said) == (1 if warned else 0)


def test_every_configured_secret_is_redacted_from_the_log_and_the_crash_line(tmp_path, monkeypatch):
    """The CLI gave the log's redaction the client secret only: the ListenBrainz token (a UUID,
    too short for the long-token rule) was written as it was. An Authorization header of any
    scheme and an authorization code in a logged form body are redacted too."""
    from recommender.cli.base import _logging
    from recommender.config import load_settings
    from recommender.runlog import redact, teardown_logging
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path), "listenbrainz.token": LB_TOKEN,
                                                    "spotify.client_secret": "s3cret-value"})
    _logging(settings, quiet=True, verbose=True)
    try:
        logging.getLogger("recommender.test").info("token %s, secret %s", LB_TOKEN, "s3cret-value")
        logging.getLogger("recommender.test").debug("Headers: {'Authorization': 'Token abc123'} and Body: "
                                                    "{'client_id': 'x', 'code': 'AQshortcode', 'state': 'y'}")
    finally:
        teardown_logging()
    log = (tmp_path / "recommend.log").read_text()
    assert LB_TOKEN not in log and "s3cret-value" not in log and "abc123" not in log and "AQshortcode" not in log
    assert "'state': 'y'" in log and "'client_id': 'x'" in log  # what is no secret stays readable
    assert redact(f"unexpected error: ValueError: bad {LB_TOKEN}") == "unexpected error: ValueError: bad ***"


def test_a_secret_of_the_wrong_type_is_not_echoed_by_the_config_error(tmp_path):
    from recommender.config import load_settings
    from recommender.errors import ConfigError
    with pytest.raises(ConfigError) as err:
        load_settings(environ={}, overrides={"spotify.client_secret": 4815162342})
    assert "4815162342" not in str(err.value)
    assert "must be a string, got a whole number, not shown (spotify.client_secret holds a secret)" in str(err.value)


def test_folders_the_tool_creates_are_private(tmp_path):
    """`mkdir -p` made the state and cache folders (and the ones above them it had to make)
    0755: every local user could list the login's, the log's and the run history's names and
    times. A folder that exists keeps its mode."""
    from recommender.errors import make_dirs
    old = os.umask(0o022)
    try:
        (tmp_path / "home").mkdir(mode=0o755)
        make_dirs(tmp_path / "home" / ".local" / "state" / "recommend")
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "home").rglob("*")}
    assert modes == {".local": 0o700, "state": 0o700, "recommend": 0o700}
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o755


def test_the_login_callback_page_escapes_what_the_address_says(standin, tmp_path):
    """The callback page wrote the `error` of its address into HTML as it was: any page could
    open http://127.0.0.1:8888/callback?error=<script>... while a login waits. (The login page
    is the stand-in's: the test asked the real accounts.spotify.com for it.)"""
    from recommender.config import load_settings
    from recommender.errors import AuthError
    from recommender.spotify.auth import login
    port = free_port()
    settings = load_settings(environ={}, overrides={"cache.dir": str(tmp_path), "spotify.client_id": "test-client",
                                                    "spotify.accounts_url": standin.accounts_url,
                                                    "spotify.redirect_uri": f"http://127.0.0.1:{port}/callback"})
    from urllib.parse import parse_qs, quote, urlparse
    pages = []
    attack = f"http://127.0.0.1:{port}/callback?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E"

    def answer(url: str) -> None:  # without the login's state (another page), then with it
        pages.append(requests.get(attack, timeout=10).text)
        state = parse_qs(urlparse(url).query)["state"][0]
        pages.append(requests.get(f"{attack}&state={quote(state)}", timeout=10).text)
    with pytest.raises(AuthError):
        login(settings, open_url=answer, timeout=10)
    assert "<script>" not in pages[0] and "alert" not in pages[0]  # another login's answer: not echoed
    assert "<script>" not in pages[1] and "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1]


def test_clients_that_may_ask_nothing_do_not_say_they_ask_without_a_contact(tmp_path, caplog):
    """A `--seed-playlist` dry run beside a run holding the lock answers from the cache alone
    (``OpenData.from_settings(ask=False)``: a budget of 0). Its first question the cache could
    not answer said "MusicBrainz and ListenBrainz ask every client ... until then they are asked
    without one" though no request went out (the budget stopped it): the warning is said once a
    request is sent, and a client that sends none says nothing."""
    from recommender.config import load_settings
    from recommender.services.http import BudgetExhausted, ServiceError
    from recommender.services.listenbrainz import OpenData
    settings = load_settings(environ={}, overrides={
        "cache.dir": str(tmp_path), "enrich.musicbrainz_url": "https://musicbrainz.org/ws/2/",
        "listenbrainz.api_url": "https://api.listenbrainz.org/1/", "listenbrainz.labs_url": "https://labs.api.listenbrainz.org/"})
    od = OpenData.from_settings(settings, ask=False)
    sessions = [_Session(), _Session(), _Session()]
    od.api.session, od.labs.session, od.musicbrainz.session = sessions
    with caplog.at_level(logging.WARNING):
        for ask in (lambda: od.similar_artists("8538e728-ca0b-4321-b7e5-cff6565dd4c0"), lambda: od.isrc("USRC17607839"),
                    lambda: od.popularity(["0f2a1e6d-0000-4000-8000-000000000001"])):
            with pytest.raises(ServiceError) as stopped:
                ask()
            assert isinstance(stopped.value, BudgetExhausted)
    assert not [s.sent for s in sessions if s.sent]
    assert not [r for r in caplog.records if "enrich.contact" in r.getMessage()]


def _echo(status: int, shape: str):
    """A server of the test's own that refuses every request with ``status``, its answer repeating
    the request's Authorization header back (a debugging proxy, an httpbin-like service at a wrong
    address): ``shape`` "spotify" ({"error": {"status", "message"}}) or "text" ({"error": "..."})."""
    from http.server import BaseHTTPRequestHandler

    from spotify_helpers import LocalServer

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            said = "bad auth " + str(self.headers.get("Authorization"))
            body = {"error": {"status": status, "message": said}} if shape == "spotify" else {"error": said}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args):
            pass
    return LocalServer(Handler)


def test_a_credential_a_server_repeats_back_is_in_no_message_note_json_or_file(world, tmp_path):
    """A server answering with the request's own Authorization header (a wrong address, a
    debugging proxy) had it printed whole: the ListenBrainz token in the discovery note, --json's
    warnings and the manifest (and from there `status` and the web app's Discovery page), the
    access token in Spotify's refusal. The log alone hid them. A service's answer quoted in a
    message is redacted as the log is."""
    from spotify_helpers import save_login
    spotify, lb, mb = world
    cache = tmp_path / "cache"
    token = save_login(spotify, cache, client_id="privacy-client")["access_token"]
    echo = _echo(500, "text")
    try:
        env = env_of(spotify, lb, mb, cache, LISTENBRAINZ_TOKEN=LB_TOKEN,
                     RECOMMENDER_LISTENBRAINZ_API_URL=echo.url + "/1")
        result = run(["refresh", "--json"], env)
        assert result.exit_code == 0, result.stderr
        assert "ListenBrainz" in result.stderr and "bad auth" in result.stderr  # the note is there, the token not
        files = "".join(p.read_text(errors="replace") for p in cache.rglob("*") if p.is_file() and p.suffix != ".parquet"
                        and p.name != "spotify-token.json")
        for text in (result.stdout, result.stderr, files, run(["status", "--offline"], env).stdout):
            assert LB_TOKEN not in text
    finally:
        echo.close()
    for status, shape in ((403, "spotify"), (401, "text")):  # and Spotify's API, in its shape and the other
        echo = _echo(status, shape)
        try:
            result = run(["refresh"], env_of(spotify, lb, mb, cache, RECOMMENDER_SPOTIFY_API_URL=echo.url + "/v1/"))
        finally:
            echo.close()
        assert result.exit_code in (3, 5), result.stderr  # refused, not "unexpected error" (exit 1)
        assert token not in result.stderr and "unexpected error" not in result.stderr, result.stderr
        assert status == 403 or echo.url in result.stderr  # a 401 after a refresh names the address set


def test_a_password_in_a_service_address_is_shown_as_stars(world, tmp_path):
    """`spotify.api_url: http://user:secret@host/v1` (or the environment's) was shown whole by
    `config show` (text and --json), by status and by the error naming the address, and was
    written to the log and the run history. Each shows it "http://user:***@host/v1"; the config
    file keeps it."""
    from spotify_helpers import save_login
    spotify, lb, mb = world
    cache = tmp_path / "cache"
    save_login(spotify, cache, client_id="privacy-client")
    dead = f"http://user:s3cretpw@127.0.0.1:{free_port()}/v1/"
    config = tmp_path / "config.yaml"
    config.write_text(f"spotify:\n  max_retries: 0\n  api_url: {dead}\n")
    env = env_of(spotify, lb, mb, cache, RECOMMENDER_MUSICBRAINZ_URL="http://mb:mbs3cret@127.0.0.1:9/ws/2/",
                 RECOMMENDER_CONFIG=str(config))
    del env["RECOMMENDER_SPOTIFY_API_URL"]
    shown = run(["config", "show"], env).stdout
    assert f"api_url: {dead.replace('s3cretpw', '***')}" in shown and "http://mb:***@127.0.0.1:9/ws/2/" in shown
    assert json.loads(run(["config", "show", "--json"], env).stdout)["spotify"]["api_url"] == dead.replace("s3cretpw", "***")
    refresh = run(["refresh", "--json"], env)
    status, status_json = run(["status"], env), run(["status", "--json"], env)
    assert refresh.exit_code == 5 and "user:***@127.0.0.1" in refresh.stderr, refresh.stderr
    assert "user:***@127.0.0.1" in status.stdout + status.stderr and "user:***@127.0.0.1" in status_json.stdout
    files = "".join(p.read_text(errors="replace") for p in cache.rglob("*") if p.is_file() and p.suffix != ".parquet")
    for text in (shown, refresh.stdout, refresh.stderr, status.stdout, status.stderr, status_json.stdout, files):
        assert "s3cretpw" not in text and "mbs3cret" not in text
    assert "s3cret" in config.read_text()  # the file itself is left as written
    from recommender.safetext import redact
    assert redact("GET http://u:p@ss@h:1/x?a=b@c failed") == "GET http://u:***@h:1/x?a=b@c failed"
