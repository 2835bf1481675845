"""Names come from strangers: every name is printed literally and safely (terminal, logs, HTML)."""

from __future__ import annotations

import json
import logging
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.safetext import html_safe, terminal_safe
from recommender.standins.spotify import Account, StandinServer

from spotify_helpers import save_login

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE = "[/] [link=https://evil.invalid]x[/link] [bold]b \x1b[2J\x1b]0;pwned\x07\x1b]8;;https://evil.invalid\x1b\\ \x00\r\x9b\u202e"
# no raw control character may reach the output (tabs/newlines of our own layout excepted)
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
runner = CliRunner()


def test_terminal_safe_escapes_every_control_and_keeps_the_rest():
    out = terminal_safe(HOSTILE)
    assert not RAW.search(out) and "\n" not in out
    assert "[/] [link=https://evil.invalid]x[/link]" in out
    assert "\\x1b[2J" in out and "\\x07" in out and "\\x00" in out and "\\r" not in out and "\\x0d" in out
    assert "\\x9b" in out and "\\u202e" in out
    assert terminal_safe(out) == out  # idempotent
    assert terminal_safe("Beyoncé – 東京 🎵") == "Beyoncé – 東京 🎵"
    assert terminal_safe("a\nb", keep_newlines=True) == "a\nb"
    assert terminal_safe("a\nb") == "a\\x0ab"


def test_html_safe_escapes_markup_and_controls():
    out = html_safe('<script>alert(1)</script> "q" \x1b[2J')
    assert "<" not in out and '"' not in out and "\x1b" not in out
    assert "&lt;script&gt;" in out and "\\x1b[2J" in out


def hostile_account() -> Account:
    data = json.loads((FIXTURES / "small_account.json").read_text())
    for i, track in enumerate(data["tracks"].values()):
        track["name"] = f"{track['name']} {HOSTILE} {i}"
    for artist in data["artists"].values():
        artist["name"] = f"{artist['name']} [red]{HOSTILE}"
    for pl in data["playlists"]:
        pl["name"] = f"{pl['name']} {HOSTILE}"
    return Account.from_dict(data)


@pytest.fixture
def hostile(tmp_path):
    with StandinServer(hostile_account()) as server:
        cache = tmp_path / "cache"
        save_login(server, cache)
        env = {"RECOMMENDER_SPOTIFY_API_URL": server.api_url, "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": server.accounts_url,
               "SPOTIPY_CLIENT_ID": "test-client", "RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_SECRET": "",
               "COLUMNS": "400"}
        yield server, env, cache


def run(args, env):
    return runner.invoke(app, args, env=env, catch_exceptions=False)


def test_hostile_names_in_the_build_table_print_literally(hostile):
    server, env, cache = hostile
    result = run(["build-playlist", "--dry-run"], env)
    assert result.exit_code == 0, result.stderr
    assert "[/] [link=https://evil.invalid]x[/link]" in result.stdout  # markup shown, not interpreted
    assert "\\x1b[2J" in result.stdout
    assert not RAW.search(result.stdout) and not RAW.search(result.stderr)
    result = run(["build-playlist"], env)  # the write, then the table: exit 0 and a run record of 0
    assert result.exit_code == 0, result.stderr
    assert not RAW.search(result.stdout)
    runs = [json.loads(line) for line in (cache / "runs.jsonl").read_text().splitlines()]
    assert runs[-1]["exit_code"] == 0


def test_hostile_names_in_did_you_mean_search_similar_status_and_log(hostile):
    server, env, cache = hostile
    assert run(["refresh", "--quiet"], env).exit_code == 0
    result = run(["build-playlist", "--dry-run", "--seed-playlist", "Road Trip [/]"], env)
    assert result.exit_code == 2
    assert "did you mean" in result.stderr and "[/]" in result.stderr
    assert not RAW.search(result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1
    for args in (["search", "Owl"], ["similar", "smallTrack000000000001"], ["status"],
                 ["moods", "cluster", "Road Trip"]):
        result = run(args, env)
        assert not RAW.search(result.stdout + result.stderr), args
    log = (cache / "recommend.log").read_text(encoding="utf-8")
    assert not RAW.search(log)
    assert not RAW.search((cache / "runs.jsonl").read_text(encoding="utf-8"))


def test_log_records_are_made_safe_and_capped(tmp_path):
    from recommender.runlog import MAX_MESSAGE_CHARS, setup_logging, teardown_logging
    path = setup_logging(tmp_path, verbose=True, quiet=True)
    try:
        logging.getLogger("recommender.body").debug("RESULTS: %s", '{"items": [' + '{"name": "a b"}, ' * 200_000 + ']}')
        logging.getLogger("recommender.x").warning("playlist %s", HOSTILE)
    finally:
        teardown_logging()
    text = path.read_text(encoding="utf-8")
    assert len(text) < 2 * MAX_MESSAGE_CHARS + 1000
    assert "more characters not logged" in text
    assert not RAW.search(text) and "[link=https://evil.invalid]" in text


def test_json_output_keeps_the_names_and_escapes_what_a_terminal_would_act_on(hostile):
    server, env, cache = hostile
    result = run(["build-playlist", "--dry-run", "--json"], env)
    assert result.exit_code == 0, result.stderr
    assert not RAW.search(result.stdout)
    names = [t["name"] for t in json.loads(result.stdout)["tracks"]]
    assert names and all(HOSTILE in n for n in names)  # the data itself is intact for scripts


def test_a_lone_surrogate_in_a_name_is_a_replacement_character_not_a_crash(tmp_path):
    """JSON may carry a lone surrogate ("\\ud800", no partner), which no file or terminal can
    write: a track, artist or playlist so named stopped `recommend refresh` with exit 1
    ("surrogates not allowed", writing the cache); it is now U+FFFD, the rest of the name kept."""
    data = json.loads((FIXTURES / "small_account.json").read_text())
    track = next(iter(data["tracks"].values()))
    track["name"] = "Sur\ud800lone"
    next(iter(data["artists"].values()))["name"] = "Art\udfffist"
    data["playlists"][0]["name"] = "Play\ud83dlist"
    with StandinServer(Account.from_dict(data)) as server:
        cache = tmp_path / "cache"
        save_login(server, cache)
        env = {"RECOMMENDER_SPOTIFY_API_URL": server.api_url, "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": server.accounts_url,
               "SPOTIPY_CLIENT_ID": "test-client", "RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_SECRET": ""}
        result = run(["refresh", "--quiet"], env)
        assert result.exit_code == 0, result.stderr
        result = run(["playlists", "--json"], env)
        assert "Play\ufffdlist" in [p["name"] for p in json.loads(result.stdout)]
        result = run(["search", "Sur lone", "--json"], env)
        found = json.loads(result.stdout)
        assert any(t["name"] == "Sur\ufffdlone" for t in (found if isinstance(found, list) else found["tracks"]))
        result = run(["search", "Sur lone"], env)
        assert result.exit_code == 0 and "Sur\ufffdlone" in result.stdout


def test_whole_characters_mends_only_an_answer_holding_a_lone_surrogate():
    """Every answer passes `whole_characters`: one without a lone surrogate comes back as the
    very object given (none copied, however deep); in one with a lone surrogate, however deep,
    it is U+FFFD, and a pair (an emoji, one character) is kept."""
    from recommender.safetext import whole_characters
    clean = json.loads('{"items": [{"name": "x\\ud83d\\ude00", "n": 1.5, "ok": true, "none": null}], "a": []}')
    assert whole_characters(clean) is clean
    lone = json.loads('{"items": [{"track": {"artists": [{"name": "A\\udc00B"}]}, "name": "\\ud83d\\ude00"}]}')
    mended = whole_characters(lone)
    assert mended["items"][0]["track"]["artists"][0]["name"] == "A\ufffdB"
    assert mended["items"][0]["name"] == "\U0001f600"
    assert whole_characters(["\ud800"]) == ["\ufffd"] and whole_characters("\udfff!") == "\ufffd!"


def test_at_the_edges_a_name_of_exactly_the_limit_a_full_line_and_a_too_short_secret():
    """A name of exactly ``limit`` characters is shown whole; words that fill a line exactly stay
    on it; an empty or very short "secret" (a config value left "" or "x") is not masked wherever
    its letters appear ("" masked between every two characters)."""
    from recommender.safetext import cut, redact, wrap_cells
    assert cut("Linger", 6) == "Linger" and cut("Lingers", 6) == "Linge…"
    assert wrap_cells("ab cd ef", 5, len) == ["ab cd", "ef"]
    assert redact("a run of 3 tracks", secrets=["", "a", "run"]) == "a run of 3 tracks"
    assert redact("key s3cr3t-value", secrets=["s3cr3t-value"]) == "key ***"
    assert redact("pin wxyz ok", secrets=["wxyz"]) == "pin *** ok"  # four characters are enough to mask


@contextmanager
def served(data: dict, tmp_path: Path, columns: str = "400"):
    """The CLI's environment for a stand-in serving the account ``data``, logged in, with its own
    cache, on a terminal of ``columns`` columns (the tests of names printed whole)."""
    with StandinServer(Account.from_dict(data)) as server:
        cache = tmp_path / "cache"
        save_login(server, cache)
        yield {"RECOMMENDER_SPOTIFY_API_URL": server.api_url, "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": server.accounts_url,
               "SPOTIPY_CLIENT_ID": "test-client", "RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_SECRET": "",
               "COLUMNS": columns}


def test_a_name_holding_a_line_break_stays_on_its_line_in_the_dry_runs_diff(tmp_path):
    """A track or artist named with a line break ("New\\nLine") was printed with that break in the
    dry run's "would add" line, so a name could start a line of its own ("error: ..." under the
    table, as if the tool had said it); the break is now shown as \\x0a there, as in the table."""
    data = json.loads((FIXTURES / "small_account.json").read_text())
    for i, track in enumerate(data["tracks"].values()):
        track["name"] = f"Song {i}\nerror: fake track line"
    for artist in data["artists"].values():
        artist["name"] = f"{artist['name']}\nwarning: fake artist line"
    with served(data, tmp_path) as env:
        result = run(["build-playlist", "--dry-run"], env)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert not [line for line in lines if line.startswith(("error:", "warning:"))], result.stdout
    (diff,) = [line for line in lines if line.startswith("would add")]
    assert "\\x0aerror: fake track line - " in diff and "\\x0awarning: fake artist line" in diff, diff


def test_a_name_holding_a_line_break_stays_on_its_line_in_the_why_answer(tmp_path):
    """`build-playlist --why TRACK` printed an artist named with a line break with that break, in
    the track's line and in its "why:" line ("shares artist 'X" and a line "warning: ..."); each
    of its lines is now one line, the break shown as \\x0a, as the table shows it."""
    data = json.loads((FIXTURES / "small_account.json").read_text())
    for artist in data["artists"].values():
        artist["name"] = f"{artist['name']}\nwarning: fake artist line"
    with served(data, tmp_path) as env:
        first = json.loads(run(["build-playlist", "--dry-run", "--json"], env).stdout)["tracks"][0]
        result = run(["build-playlist", "--dry-run", "--why", first["track_id"]], env)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert not [line for line in lines if line.startswith("warning:")], result.stdout
    assert lines[0].startswith(repr(first["name"])) and "\\x0awarning: fake artist line" in lines[0], lines
    (why,) = [line for line in lines if line.startswith("  why: ")]
    assert "\\x0awarning: fake artist line" in why, lines
