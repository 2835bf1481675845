"""`recommend` driven from scripts and cron: stdout holds one JSON document and nothing else,
names from strangers stay exact in it, errors keep stdout empty and README's exit codes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from recommender.cli import app
from recommender.standins.spotify import Account, StandinServer

from spotify_helpers import save_login

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parent / "fixtures"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
HOSTILE = " \u202e\x1b[31m\x07\u200f!"  # right-to-left override, a colour, a bell, a right-to-left mark


def strict_json(text: str):
    """One JSON document, as jq reads it: no NaN or Infinity, nothing before or after."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def _commands_with_json() -> list[str]:
    found = []

    def walk(group, words):
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                walk(cmd, words + [name])
            elif any("--json" in p.opts for p in cmd.params):
                found.append(" ".join(words + [name]))
    walk(typer.main.get_command(app), [])
    return found


@pytest.fixture
def hostile(tmp_path):
    """The small account with a stranger's controls and bidi marks in every name."""
    data = json.loads((FIXTURES / "small_account.json").read_text(encoding="utf-8"))
    for kind in ("tracks", "artists", "albums"):
        for item in data[kind].values():
            item["name"] += HOSTILE
    for playlist in data["playlists"]:
        playlist["name"] += HOSTILE
    with StandinServer(Account.from_dict(data)) as server:
        cache = tmp_path / "cache"
        save_login(server, cache)
        env = {"RECOMMENDER_SPOTIFY_API_URL": server.api_url, "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": server.accounts_url,
               "SPOTIPY_CLIENT_ID": "test-client", "RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_SECRET": "",
               "COLUMNS": "100", "NO_COLOR": "1"}
        yield data, env, tmp_path


def test_every_json_output_is_one_document_with_the_names_exact(hostile):
    data, env, tmp_path = hostile
    features = tmp_path / "features.csv"
    features.write_text("track_id,valence,energy,danceability\n" + "".join(
        f"{tid},{(i % 10) / 10},{(i * 7 % 10) / 10},0.5\n" for i, tid in enumerate(data["tracks"])))
    track = next(iter(data["tracks"]))
    playlist = data["playlists"][0]["id"]
    args = {"refresh": [], "build-playlist": [], "evaluate": [], "tune": ["--folds", "2"], "status": ["--offline"],
            "config show": [], "config path": [], "enrich genres": ["--limit", "1"],
            "import features": [str(features)], "search": ["night"], "playlists": [], "similar": [track],
            "moods cluster": [playlist, "--k", "2"], "moods near": [track], "moods recommend": ["--mood", "happy"],
            "moods classify": []}
    assert set(_commands_with_json()) == set(args)  # a new command with --json gets its line here
    names = {item["name"] for kind in ("tracks", "artists", "albums") for item in data[kind].values()}
    names |= {p["name"] for p in data["playlists"]}
    checked, rounded = set(), set()
    for command, extra in args.items():
        result = runner.invoke(app, command.split() + extra + ["--json"], env=env)
        assert result.exit_code in (0, 2), (command, result.stderr)  # 2: evaluate/tune on 3 playlists
        if result.exit_code:
            assert result.stdout == "" and len(result.stderr.splitlines()) == 1, (command, result.stderr)
            continue
        doc = strict_json(result.stdout)
        assert not RAW.search(result.stdout.replace("\n", "")), command  # escaped as JSON escapes...
        for key, value in _strings(doc):  # ...and the true names once read
            if "\u202e" in value:
                assert (value in names) if key == "name" else any(n in value for n in names), (command, key, value)
                checked.add(command)
        assert not RAW.search(result.stderr.replace("\n", "")), command
        # scores to 4 decimals in every list of tracks, as build-playlist's (search's had 16)
        listed = doc["tracks"] if command == "moods classify" else doc
        if command in FOUR_DECIMALS:
            assert all(f == round(f, 4) for f in _floats(listed)), (command, [f for f in _floats(listed) if f != round(f, 4)][:3])
            rounded.add(command)
    assert rounded == FOUR_DECIMALS
    assert checked >= {"build-playlist", "search", "playlists", "similar", "moods cluster", "moods near",
                       "moods recommend", "moods classify"}, checked


FOUR_DECIMALS = {"build-playlist", "search", "similar", "moods cluster", "moods near", "moods recommend",
                 "moods classify"}


def _floats(doc):
    if isinstance(doc, dict):
        for v in doc.values():
            yield from _floats(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _floats(v)
    elif isinstance(doc, float):
        yield doc


def _strings(doc, key=None):
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _strings(v, k)
    elif isinstance(doc, list):
        for v in doc:
            yield from _strings(v, key)
    elif isinstance(doc, str):
        yield key, doc


def test_json_before_a_command_that_has_none_is_refused(tmp_path):
    # `recommend --json config migrate` printed its text (exit 0): a script's `| jq` failed,
    # where `recommend config migrate --json` was refused
    for args in (["--json", "config", "migrate", "--dry-run"], ["--json", "schedule", "show"],
                 ["--json", "auth", "--no-browser"]):
        result = runner.invoke(app, args, env={"RECOMMENDER_CACHE_DIR": str(tmp_path)}, prog_name="recommend")
        assert result.exit_code == 2 and result.stdout == "", (args, result.stdout)
        path = " ".join(a for a in args[1:] if not a.startswith("-"))
        assert result.stderr == f"error: `recommend {path}` prints no JSON: leave out --json\n"
    fine = runner.invoke(app, ["--json", "config", "path"], env={"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert fine.exit_code == 0 and strict_json(fine.stdout)["data"] == str(tmp_path)


def test_json_after_a_command_that_has_none_says_so_as_before_it(tmp_path):
    # `recommend auth --json` said "no such option: --json", as if the option were mistyped,
    # where `recommend --json auth` says the command prints no JSON
    for args in (["config", "migrate", "--dry-run", "--json"], ["schedule", "show", "--json"],
                 ["auth", "--no-browser", "--json"]):
        result = runner.invoke(app, args, env={"RECOMMENDER_CACHE_DIR": str(tmp_path)}, prog_name="recommend")
        assert result.exit_code == 2 and result.stdout == "", (args, result.stdout)
        path = " ".join(a for a in args if not a.startswith("-"))
        assert result.stderr.startswith(f"error: `recommend {path}` prints no JSON: leave out --json"), result.stderr


def test_status_with_a_file_where_the_data_directory_goes_is_no_bug(tmp_path):
    # RECOMMENDER_CACHE_DIR naming a file (or a path below one): `status` died with exit 1,
    # "unexpected error: NotADirectoryError" (the run log could not be read); it has nothing to
    # show, as for an empty directory, and the commands that write say exit 7
    # (and with a client id set, as any real user has: its look for the login folder made it,
    # and a file in the way stopped status with exit 7; it is the login's message now)
    in_the_way = tmp_path / "file"
    in_the_way.write_text("")
    for where, client in [(w, c) for w in (in_the_way, in_the_way / "below") for c in ("", "x")]:
        env = {"RECOMMENDER_CACHE_DIR": str(where), "SPOTIPY_CLIENT_ID": client}
        shown = runner.invoke(app, ["status", "--json", "--offline"], env=env)
        assert shown.exit_code == 0, shown.stderr
        assert strict_json(shown.stdout)["last_runs"] == []
        if client:
            assert "cannot create the folder" in strict_json(shown.stdout)["login"]["message"]
        refused = runner.invoke(app, ["refresh", "--json", "--no-input"], env=env)
        assert refused.exit_code == 7 and refused.stdout == "" and str(where) in refused.stderr


@pytest.mark.parametrize("path, method", [(r"^/v1/me/playlists$", "GET"), (r"^/api/token$", "POST")])
def test_a_retry_after_past_the_calendar_exits_4_not_1(standin, tmp_path, path, method):
    # Retry-After: 10^12 s (a broken proxy, a misread header): "try again after <date>" raised
    # OverflowError, so a rate limit became "unexpected error" and exit 1, where cron's mail and
    # a script's `case $?` expect 4
    from recommender.standins.spotify import Fault
    cache = tmp_path / "cache"
    save_login(standin, cache, expires_in=-60 if method == "POST" else 3600)
    standin.add_fault(Fault(method=method, path=path, status=429, retry_after=10 ** 12, times=None))
    env = {"RECOMMENDER_SPOTIFY_API_URL": standin.api_url, "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": standin.accounts_url,
           "SPOTIPY_CLIENT_ID": "test-client", "RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_SECRET": ""}
    result = runner.invoke(app, ["refresh", "--json", "--no-input"], env=env)
    assert result.exit_code == 4 and result.stdout == "", result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    if method == "GET":  # a wait the next runs keep, 48 h at most: said so, not a date centuries ahead
        assert "; the next runs ask nothing for 48 h (until " in result.stderr, result.stderr
        assert "then ask Spotify again (a longer wait is kept that long)" in result.stderr
    else:  # the login's own 429 keeps no wait: Spotify's words
        assert "try again in 277777777.8 h" in result.stderr


# ----- "-" and pipes where a file is named (a scripting trial: each was "file not found", "the
# file is empty" after a pipe's first bytes were read for the encoding, or a report moved over
# the file a `>` had opened, the table lost) -----------------------------------------------------

def test_an_input_named_dash_or_a_pipe_is_refused_saying_to_save_it_first(tmp_path):
    from recommender.dataset import load_dataset
    from recommender.errors import DataError
    from recommender.features import check_input, import_features
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opened, it would block this test: the check never opens it
    for path in ("-", fifo):
        for read in (check_input, load_dataset, lambda p: import_features(p, None, None)):
            with pytest.raises(DataError, match="save it to a file and name that"):
                read(path)
    plain = tmp_path / "f.csv"
    plain.write_text("track_id,valence\n")
    check_input(plain)
    check_input(tmp_path)  # a folder of CSV files is a dataset too


@pytest.mark.parametrize("args", [["search", "a"], ["evaluate"]])
def test_a_dataset_named_dash_is_said_to_be_no_file(tmp_path, args):
    result = runner.invoke(app, [*args, "--dataset", "-"], env={"HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert "-: standard input is not read as a data file here" in result.output


def test_config_named_dash_says_how_to_read_standard_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["config", "show", "--config", "-"], env={"HOME": str(tmp_path)})
    assert result.exit_code == 2 and "--config /dev/stdin reads the settings" in result.output


@pytest.mark.parametrize("to_file", [True, False])
def test_a_report_or_chart_to_standard_output_or_dash_is_refused_before_the_work(tmp_path, to_file):
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[1]
    check = ("import sys\nfrom recommender.errors import RecommenderError\nfrom recommender.store import check_output\n"
             "for p in sys.argv[1:]:\n    try:\n        check_output(p)\n        print('ok', p, file=sys.stderr)\n"
             "    except RecommenderError as e:\n        print(type(e).__name__, e, file=sys.stderr)\n")
    out = tmp_path / "out.txt"
    with open(out, "w") if to_file else open(os.devnull, "w") as sink:
        stdout = sink if to_file else subprocess.PIPE
        done = subprocess.run([sys.executable, "-c", check, "-", "/dev/stdout", "/dev/stderr", str(tmp_path / "r.html")],
                              stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": str(root)})
    said = done.stderr.splitlines()
    assert said[0].startswith("UsageError '-' would be a file named '-' here, not standard output"), said
    assert said[1].startswith("UsageError /dev/stdout is this command's standard output"), said
    assert said[2].startswith("UsageError /dev/stderr is this command's standard error"), said
    assert said[3] == f"ok {tmp_path / 'r.html'}", said
    assert not (tmp_path / "-").exists()


def test_a_report_named_again_is_written_over_and_a_pipe_is_refused_before_the_work(tmp_path):
    """`--report r.html` of last week names a file that exists: it is written over (a check
    that refused every existing file would stop each weekly run), as are a new file and a
    folder's file; a pipe is refused before the work, as the write would refuse it after."""
    from recommender.errors import StorageError
    from recommender.store import check_output
    last = tmp_path / "r.html"
    last.write_text("last week's")
    check_output(last)
    check_output(tmp_path / "new" / "r.html")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(StorageError, match="not a regular file"):
        check_output(fifo)


@pytest.mark.parametrize("args", [["--version", "--json"], ["--json", "--version"]])
def test_the_version_with_json_is_one_json_document(args):
    # `recommend --version --json | jq .version` failed: the text line came instead
    from recommender import __version__
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert strict_json(result.stdout)["version"] == __version__
    plain = runner.invoke(app, ["--version"])
    assert plain.stdout.startswith(f"recommend {__version__} (")
