"""Click's usage errors in the house format: one line on stderr, 'error: ...' naming the option
and the value, the command's -h, exit 2 (README's exit codes), nothing on stdout."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from recommender.cli import app

runner = CliRunner()


def one_line_error(args: list[str], tmp_path) -> str:
    result = runner.invoke(app, args, env={"RECOMMENDER_CACHE_DIR": str(tmp_path)}, catch_exceptions=False,
                           prog_name="recommend")
    assert result.exit_code == 2, (args, result.stdout, result.stderr)
    assert result.stdout == "", args
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)
    assert "╭" not in result.stderr and "Usage:" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("args, said", [
    # typer's box said "Input should be less than or equal to 1" for nan
    (["moods", "recommend", "--valence", "nan", "--energy", "0.5"],
     "error: --valence must be a number from 0 to 1, got 'nan' (see `recommend moods recommend -h`)"),
    (["moods", "recommend", "--valence", "0.5", "--energy", "-inf"],
     "error: --energy must be a number from 0 to 1, got '-inf' (see `recommend moods recommend -h`)"),
    (["moods", "recommend", "--valence", "infinity"],
     "error: --valence must be a number from 0 to 1, got 'infinity' (see `recommend moods recommend -h`)"),
    (["moods", "recommend", "--valence=1.5"],
     "error: --valence must be a number from 0 to 1, got '1.5' (see `recommend moods recommend -h`)"),
    (["search", "x", "-n", "0"],
     "error: --limit/-n must be a whole number of at least 1, got '0' (see `recommend search -h`)"),
    # an evaluation's N of 100,000,000 was an out-of-memory kill (exit 137, nothing said), one past
    # a C long a crash; tune's folds ran for hours
    (["evaluate", "-n", "100000000"],
     "error: --top-n/-n must be a whole number from 1 to 1000, got '100000000' (see `recommend evaluate -h`)"),
    (["evaluate", "-n", "99999999999999999999"],
     "error: --top-n/-n must be a whole number from 1 to 1000, got '99999999999999999999' (see `recommend evaluate -h`)"),
    (["tune", "--folds", "21"], "error: --folds must be a whole number from 1 to 20, got '21' (see `recommend tune -h`)"),
    (["search", "x", "--limit", "ten"],
     "error: --limit/-n must be a whole number of at least 1, got 'ten' (see `recommend search -h`)"),
    (["web", "--port", "99999"], "error: --port must be a whole number from 0 to 65535, got '99999' (see `recommend web -h`)"),
    (["moods", "recommend", "--valence"], "error: --valence needs a value (see `recommend moods recommend -h`)"),
    # an empty file name (a variable that was not set) said "file '' is a directory"
    (["moods", "cluster", "x", "--plot", ""], "error: --plot needs a file name, got '' (see `recommend moods cluster -h`)"),
    (["evaluate", "--report", ""], "error: --report needs a file name, got '' (see `recommend evaluate -h`)"),
    (["similar"], "error: missing the track argument: track id, spotify:track: URI, link or search text "
                  "(see `recommend similar -h`)"),
    (["refresh", "--dry-rn"], "error: no such option: --dry-rn (see `recommend refresh -h`)"),
    (["refresh", "--verbos"], "error: no such option: --verbos; did you mean --verbose? (see `recommend refresh -h`)"),
    # click compares the names with their "--", which made "--bogus" close to "--verbose"
    (["build-playlist", "--bogus"], "error: no such option: --bogus (see `recommend build-playlist -h`)"),
    (["search", "--limt", "3", "x"], "error: no such option: --limt; did you mean --limit? (see `recommend search -h`)"),
    (["refresh", "now"], "error: unexpected extra argument: now (see `recommend refresh -h`)"),
    (["search", "mad", "world"], "error: unexpected extra argument: world; the text is one argument: quote it if "
                                 "it has spaces (see `recommend search -h`)"),
    (["refesh"], "error: no such command 'refesh'; did you mean 'refresh'? (see `recommend -h`)"),
    (["--limit", "3", "search", "x"], "error: no such option: --limit before the command; a command's own options "
                                      "go after it: `recommend search --limit 3` (see `recommend -h`)"),
    # the option as typed, its value too (`--rows=3` said `recommend build-playlist --rows`); quoted for the shell
    (["--rows=3", "build-playlist"], "error: no such option: --rows before the command; a command's own options "
                                     "go after it: `recommend build-playlist --rows 3` (see `recommend -h`)"),
    (["--seed-playlist=Mon mix été", "build-playlist"], "error: no such option: --seed-playlist before the command; a "
                                                       "command's own options go after it: `recommend build-playlist "
                                                       "--seed-playlist 'Mon mix été'` (see `recommend -h`)"),
    (["-n3", "search", "x"], "error: no such option: -n before the command; a command's own options "
                             "go after it: `recommend search -n 3` (see `recommend -h`)"),
    (["--rows", "build-playlist"], "error: no such option: --rows before the command; a command's own options "
                                   "go after it: `recommend build-playlist --rows` (see `recommend -h`)"),
    # the command after it has the option: the hint, not click's "did you mean --json?" (it said that)
    (["--top-n", "3", "evaluate"], "error: no such option: --top-n before the command; a command's own options "
                                   "go after it: `recommend evaluate --top-n 3` (see `recommend -h`)"),
    # a subcommand's option names the whole command (it said `recommend moods --mood`)
    (["--mood", "happy", "moods", "recommend"], "error: no such option: --mood before the command; a command's own "
                                                "options go after it: `recommend moods recommend --mood happy` "
                                                "(see `recommend -h`)"),
    (["--verbos", "refresh"], "error: no such option: --verbos; did you mean --verbose or --version? "
                              "(see `recommend -h`)"),
    # the hint was not true: `recommend evaluate --top-m` fails too, status has no --demo, a group
    # needs its command, and an option's value is no command (`recommend status --seed-playlist`)
    (["--top-m", "3", "evaluate"], "error: no such option: --top-m, and `recommend evaluate` has no --top-m "
                                   "either; did you mean `recommend evaluate --top-n`? (see `recommend -h`)"),
    (["--demo", "auth"], "error: no such option: --demo, and `recommend auth` has no --demo either "
                         "(see `recommend -h`)"),
    (["--demo", "status"], "error: no such option: --demo before the command; a command's own options go after "
                           "it: `recommend status --demo` (see `recommend -h`)"),
    (["--frobnicate", "moods"], "error: no such option: --frobnicate, and no command of `recommend moods` has it "
                                "(see `recommend -h`)"),
    (["--mood", "happy", "moods"], "error: no such option: --mood before the command; a command's own options go "
                                   "after it: `recommend moods COMMAND --mood happy` (see `recommend -h`)"),
    (["--seed-playlist", "status", "build-playlist"], "error: no such option: --seed-playlist before the command; "
                                                      "a command's own options go after it: `recommend build-playlist "
                                                      "--seed-playlist status` (see `recommend -h`)"),
    (["--playlist-name", "status", "build-playlist"], "error: no such option: --playlist-name, and `recommend "
                                                      "build-playlist` has no --playlist-name either (see `recommend -h`)"),
    # between a group and its command: a bare "no such option", or for --json, that `recommend
    # moods` prints no JSON, where `moods recommend --json` does
    (["moods", "--json", "recommend", "--mood", "happy"],
     "error: no such option: --json before the command; a command's own options go after it: "
     "`recommend moods recommend --json` (see `recommend moods -h`)"),
    (["moods", "--demo", "recommend"], "error: no such option: --demo before the command; a command's own options "
                                       "go after it: `recommend moods recommend --demo` (see `recommend moods -h`)"),
    (["schedule", "--print", "install"], "error: no such option: --print before the command; a command's own "
                                         "options go after it: `recommend schedule install --print` "
                                         "(see `recommend schedule -h`)"),
    (["config", "--json", "init"], "error: no such option: --json, and `recommend config init` has no --json "
                                   "either (see `recommend config -h`)"),
])
def test_a_usage_error_is_one_line_naming_the_option_and_value(args, said, tmp_path):
    assert one_line_error(args, tmp_path) == said


@pytest.mark.parametrize("args", [["search", "--dataset", "", "night"], ["evaluate", "--dataset", ""],
                                  ["config", "show", "--config", ""], ["--config=", "config", "show"]])
def test_an_empty_file_name_is_refused_not_read_as_the_current_folder(args, tmp_path, monkeypatch):
    """`--dataset "$FILE"` with FILE unset read every CSV file of the current folder as the
    library, exit 0; `--config ''` said "<the current folder>: cannot read (Is a directory)"."""
    import shutil
    from pathlib import Path
    shutil.copy(Path(__file__).parent / "fixtures" / "tidy_small.csv", tmp_path / "songs.csv")
    monkeypatch.chdir(tmp_path)
    option = next(a for a in args if a.startswith("--")).rstrip("=")
    said = one_line_error(args, tmp_path)
    assert said.startswith(f"error: {option}{'/-c' if option == '--config' else ''} needs a file name, got ''"), said


@pytest.mark.parametrize("command, option, shown", [("tune", "--folds", "[1<=x<=20]"),
                                                  ("evaluate", "--top-n", "[1<=x<=1000]")])
def test_the_help_gives_the_range_an_option_takes(command, option, shown):
    """`tune -h` gave `--folds <int range> [x>=1]`, and `--folds 21` was refused "from 1 to 20"."""
    from typer.testing import CliRunner

    from recommender.cli import app
    out = CliRunner().invoke(app, [command, "-h"], env={"COLUMNS": "200"})
    (line,) = [line for line in out.stdout.splitlines() if f"│ {option} " in line]
    assert shown in line, line


@pytest.mark.parametrize("typed, meant", [("login", "auth"), ("Sign_In", "auth"), ("logon", "auth"),
                                           ("logout", "auth --logout"), ("build", "build-playlist"),
                                           ("runs", "status"), ("cron", "schedule install")])
def test_a_command_typed_by_another_name_says_which_is_meant(typed, meant, tmp_path):
    # before: `recommend login` (the command is auth) said only "no such command 'login'"
    assert one_line_error([typed], tmp_path) == (f"error: no such command {typed!r}; did you mean `recommend {meant}`? "
                                                 "(see `recommend -h`)")
    assert one_line_error(["--quiet", typed, "--no-input"], tmp_path).endswith(f"`recommend {meant}`? (see `recommend -h`)")


def test_every_command_line_a_synonym_names_exists():
    from recommender.cli.usage import SYNONYMS
    root = typer.main.get_command(app)
    for typed, meant in SYNONYMS.items():
        assert typed not in root.commands, typed  # a synonym never hides a command
        cmd = root
        for word in meant.split():
            if word.startswith("-"):
                assert word in {o for p in cmd.params for o in p.opts}, (typed, meant)
            else:
                cmd = cmd.commands[word]


def test_a_bad_value_is_shown_escaped(tmp_path):
    said = one_line_error(["moods", "recommend", "--valence", "\x1b[31m1\u202e"], tmp_path)
    assert "\x1b" not in said and "\u202e" not in said and "\\x1b[31m1" in said


def _numeric_options():
    """Every int or float option of every command, as (command words, option)."""
    found = []

    def walk(group, words):
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                walk(cmd, words + [name])
                continue
            for param in cmd.params:
                annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
                if param.param_type_name == "option" and annotation in (int, float):
                    found.append((words + [name], param.opts[0]))
    walk(typer.main.get_command(app), [])
    return found


def test_every_numeric_option_refuses_nan_and_infinity_in_one_line(tmp_path):
    options = _numeric_options()
    assert len(options) >= 10  # --limit (x4), --valence, --energy, --port (x2), --k, --folds, --top-n...
    for words, option in options:
        for value in ("nan", "inf"):
            said = one_line_error(words + [option, value], tmp_path)
            assert said.startswith(f"error: {option}") and f"got '{value}'" in said, said
            assert "number" in said and f"`recommend {' '.join(words)} -h`" in said, said


def test_the_installed_command_prints_no_box_either():
    done = subprocess.run([sys.executable, "-m", "recommender", "moods", "recommend", "--valence", "nan"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "80", "FORCE_COLOR": "1"})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("error: --valence must be a number from 0 to 1, got 'nan' "
                           "(see `recommend moods recommend -h`)\n")


def test_no_arguments_still_print_the_help(tmp_path):
    result = runner.invoke(app, ["moods"], env={"RECOMMENDER_CACHE_DIR": str(tmp_path)})
    assert result.exit_code == 2 and "cluster" in result.stdout and "error" not in result.stderr


def test_a_scheduled_command_refused_for_its_options_is_in_the_run_log(tmp_path):
    # a crontab line an upgrade broke (an option renamed) exited 2 and left no trace: `status`
    # went on showing the last good run
    import json
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path)}
    refused = runner.invoke(app, ["build-playlist", "--quiet", "--no-input", "--dry-rn"], env=env, prog_name="recommend")
    assert refused.exit_code == 2
    runner.invoke(app, ["search", "--bogus", "x"], env=env, prog_name="recommend")  # not a recorded command
    status = runner.invoke(app, ["status", "--json", "--offline"], env=env, prog_name="recommend")
    runs = json.loads(status.stdout)["last_runs"]
    assert [(r["command"], r["exit_code"]) for r in runs] == [("build-playlist", 2)]
    assert "--dry-rn" in runs[0]["message"] and "--dry-run" in runs[0]["message"]
    # a --demo run is recorded with the demo's runs, not yours
    assert runner.invoke(app, ["build-playlist", "--demo", "--bogus"], env=env, prog_name="recommend").exit_code == 2
    mine = json.loads(runner.invoke(app, ["status", "--json", "--offline"], env=env, prog_name="recommend").stdout)
    assert len(mine["last_runs"]) == 1
    from recommender.runlog import runs_path
    demo_runs = [json.loads(line) for line in runs_path(tmp_path / "demo").read_text().splitlines()]
    assert [(r["command"], r["exit_code"]) for r in demo_runs] == [("build-playlist --demo", 2)]
    # --config names where the data lives
    other = tmp_path / "other"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"cache:\n  dir: {other}\n", encoding="utf-8")
    assert runner.invoke(app, ["refresh", "--config", str(cfg), "--bogus"], env={}, prog_name="recommend").exit_code == 2
    again = runner.invoke(app, ["status", "--json", "--offline", "--config", str(cfg)], env={}, prog_name="recommend")
    assert [(r["command"], r["exit_code"]) for r in json.loads(again.stdout)["last_runs"]] == [("refresh", 2)]


def test_a_scheduled_command_refused_for_its_options_is_in_the_log_as_in_the_run_log(tmp_path):
    # README: every refresh and build-playlist run, a failed one too, is logged and recorded; a crontab
    # line an upgrade broke was recorded in runs.jsonl, but recommend.log, where `status` sends you for
    # the details, held no line of that night (the log is set up by the command, which never ran)
    from recommender.runlog import teardown_logging
    teardown_logging()  # a fresh process's: no log of an earlier test's command
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path)}
    refused = runner.invoke(app, ["build-playlist", "--quiet", "--no-input", "--dry-rn"], env=env, prog_name="recommend")
    assert refused.exit_code == 2
    teardown_logging()
    log = (tmp_path / "recommend.log").read_text(encoding="utf-8")
    assert "ERROR" in log and "build-playlist failed: no such option: --dry-rn" in log
    assert "run summary:" in log and "build-playlist exit 2" in log


def test_a_command_refused_for_its_options_on_a_terminal_is_not_in_the_run_log(tmp_path, monkeypatch):
    # a typo by hand (`build-playlist --dryrun`) was recorded as a failed run: seen on the terminal
    # already, its record pushed real runs out of `status`'s list, where a config typo by hand is
    # not recorded either (README, Unattended runs)
    import json
    from recommender.cli import base as cli
    monkeypatch.setattr(cli, "_on_a_terminal", lambda: True, raising=False)
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path)}
    for args in (["build-playlist", "--dryrun"], ["refresh", "--jsn"], ["build-playlist", "extra"]):
        assert runner.invoke(app, args, env=env, prog_name="recommend").exit_code == 2
    status = runner.invoke(app, ["status", "--json", "--offline"], env=env, prog_name="recommend")
    assert json.loads(status.stdout)["last_runs"] == []
