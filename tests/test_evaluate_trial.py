"""Found in a trial of `recommend evaluate` and `recommend tune` as a user runs them on their own
library (odd options, small libraries, tune --write then evaluate, files that cannot be
written): each test fails on the code before its fix. In-process (CliRunner)."""

from __future__ import annotations

import json
import os
import re
import sys

import pytest

from recommender.errors import StorageError
from test_cli import FIXTURES, run

SMALL = str(FIXTURES / "tidy_small.csv")
CONFIG = "# mine\nblend:\n  max_tracks: 30   # short\n"


def tune_args(config, *more: str) -> list[str]:
    return ["tune", "--dataset", SMALL, "--folds", "2", "--write", "--config", str(config), *more]


@pytest.fixture
def env(tmp_path):
    return {"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")}


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    return path


def no_search(*args, **kwargs):
    raise AssertionError("the search ran: the problem was to be found before it")


def test_tune_write_through_a_symlinked_config_keeps_the_link(tmp_path, env, tune_finds_better):
    """A config file kept with the dotfiles (~/.config/recommend/config.yaml a symbolic link into
    a repository): `tune --write` replaced the link by a file of its own, so the dotfiles never
    saw the weights and the link was gone. `schedule install` and the web app's Save write the
    same way."""
    from recommender.configfile import set_values
    (tmp_path / "dotfiles").mkdir()
    real = tmp_path / "dotfiles" / "recommend.yaml"
    real.write_text(CONFIG)
    link = tmp_path / "config.yaml"
    link.symlink_to(real)
    result = run(tune_args(link), env)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith(CONFIG) and "scorers:" in real.read_text()
    diff = set_values(link, {"blend.max_tracks": 40})
    assert link.is_symlink() and "max_tracks: 40   # short" in real.read_text() and "+  max_tracks: 40" in diff


@pytest.mark.parametrize("what", ["file", "folder"])
def test_tune_write_to_a_config_it_cannot_write_fails_before_the_search(config, env, monkeypatch, what):
    """A read-only config file (or folder): `tune --write` searched for minutes, then exit 7,
    and the result (the table, the best weights) was never printed. Now the exit-7 line comes
    before any search."""
    from recommender import jobs
    denied = config if what == "file" else config.parent
    if what == "file":
        config.chmod(0o444)  # (root may write it all the same: os.access says no for it below)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p) == str(denied) and mode & os.W_OK
                        else real_access(p, mode, **kw))
    monkeypatch.setattr(jobs, "tune", no_search)
    result = run(tune_args(config), env)
    assert result.exit_code == 7, result.stderr
    line = result.stderr.strip()
    assert line.startswith(f"error: cannot write {config}: ") and line.endswith("nothing was changed")
    assert ("the file is read-only (mode 0444); make it writable (chmod u+w)" in line) if what == "file" \
        else (f"the folder {config.parent} is not writable" in line)
    assert result.stdout == "" and config.read_text() == CONFIG


def test_a_tune_whose_write_fails_still_prints_what_it_found(config, env, monkeypatch):
    """The write failing at the end (the disk filled during the search, another program made
    the file read-only): the table came after the write, so nothing of the search was shown."""
    from recommender import jobs

    def full(*args, **kwargs):
        raise StorageError(f"cannot write {config}: No space left on device")
    monkeypatch.setattr(jobs, "write_tuned_weights", full)
    result = run(tune_args(config), env)
    assert result.exit_code == 7
    assert "best" in result.stdout and "current" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == f"error: cannot write {config}: No space left on device"


@pytest.mark.parametrize("command", ["tune", "evaluate"])
def test_a_report_without_matplotlib_is_refused_before_the_work(config, env, monkeypatch, command):
    """`tune --report r.html --write` without matplotlib: minutes of search, then the config
    was written, and then "the report needs matplotlib" (exit 2) with no diff shown."""
    from recommender import jobs
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib: ImportError
    monkeypatch.setattr(jobs, command, no_search)
    args = tune_args(config) if command == "tune" else ["evaluate", "--dataset", SMALL]
    result = run([*args, "--report", str(config.parent / "r.html")], env)
    assert result.exit_code == 2, result.stderr
    assert "the report needs matplotlib: pip install 'recommend-playlist[report]'" in result.stderr
    assert config.read_text() == CONFIG and not (config.parent / "r.html").exists()


@pytest.mark.parametrize("command", ["tune", "evaluate"])
@pytest.mark.parametrize("name", ["r.png", "r.PDF"])
def test_a_report_named_as_another_format_is_refused_before_the_work(config, env, monkeypatch, command, name):
    """`evaluate --report r.png` wrote the HTML page into r.png (no image viewer opens it) and said
    "report written to r.png", where `moods cluster --plot moods.jpg` is refused for its ending;
    `tune --report r.pdf` did so after the search. Refused now, exit 2, before any work."""
    from recommender import jobs
    monkeypatch.setattr(jobs, command, no_search)
    args = tune_args(config) if command == "tune" else ["evaluate", "--dataset", SMALL]
    result = run([*args, "--report", str(config.parent / name)], env)
    assert result.exit_code == 2, result.stderr
    suffix = name[1:]
    assert f"the report is an HTML page (its charts inside it): give a file ending in .html, not {suffix}" in \
        " ".join(result.stderr.split())
    assert config.read_text() == CONFIG and not (config.parent / name).exists()


@pytest.mark.parametrize("name", ["r.html", "r.htm", "R.HTML", "report"])
def test_a_report_named_as_an_html_page_or_with_no_ending_is_taken(name):
    pytest.importorskip("matplotlib")
    from recommender.report import check_available
    check_available(name)  # no UsageError


def test_a_report_in_a_folder_not_made_yet_is_written_there_and_the_folder_is_private(env, tmp_path):
    """Decided: `--report reports/2026/r.html` makes the missing folders (as the cache's are
    made: 0700, a report names your playlists), where a "No such file or directory" after
    the work would throw the evaluation away."""
    pytest.importorskip("matplotlib")
    target = tmp_path / "reports" / "2026" / "r.html"
    result = run(["evaluate", "--dataset", SMALL, "--report", str(target)], env)
    assert result.exit_code == 0, result.stderr
    assert target.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert (target.parent.stat().st_mode & 0o777) == 0o700 and (target.parent.parent.stat().st_mode & 0o777) == 0o700


def test_a_report_that_cannot_be_written_leaves_the_config_as_it_was(config, env, monkeypatch):
    """`tune --write --report PATH` wrote the config, then failed on the report (exit 7): a failed
    run had changed the config, and its diff was never shown."""
    from recommender import report

    def cannot(*args, **kwargs):
        raise StorageError("cannot write r.html: Read-only file system")
    monkeypatch.setattr(report, "write_report", cannot)
    result = run(tune_args(config, "--report", str(config.parent / "r.html")), env)
    assert result.exit_code == 7
    assert config.read_text() == CONFIG and "best" in result.stdout


def test_tune_json_says_whether_the_config_changed(config, env, tune_finds_better):
    """`tune --write --json` said `"written": PATH` also when the file already had the weights
    and nothing was written: a script could not tell."""
    first = run(tune_args(config, "--json"), env)
    assert first.exit_code == 0, first.stderr
    again = run(tune_args(config, "--json"), env)
    assert again.exit_code == 0, again.stderr
    one, two = json.loads(first.stdout), json.loads(again.stdout)
    assert (one["written"], one["changed"]) == (str(config), True)
    assert (two["written"], two["changed"]) == (str(config), False)


def test_tune_write_says_what_the_weights_were(config, env, tune_finds_better):
    """After `tune --write` the old weights were only in the diff's '-' lines, and not even
    there for the scorers the file did not set (the defaults): nothing said how to go back."""
    config.write_text(CONFIG + "scorers:\n  year:\n    weight: 2.0   # mine\n")
    result = run(tune_args(config), env)
    assert result.exit_code == 0, result.stderr
    line = " ".join(result.stdout.split()).split(f"weights written to {config}")[1]
    # the weights the write changed: not tune.fixed's (opendata, release), which tune never writes
    assert line.startswith(f"; `recommend tune --undo --config {config}` puts back what they were: content 1, "
                           "artist_walk 1.15, year 2, coverage 0.4")
    assert "opendata" not in line and "release" not in line
    config.write_text(CONFIG + "scorers:\n  year:\n    weight: 2.0   # mine\n")
    quiet = run(tune_args(config) + ["--quiet"], env)  # your config changed: said with --quiet too, as a note
    assert quiet.exit_code == 0 and quiet.stdout == "", quiet.stderr
    assert f"note: weights written to {config}; `recommend tune --undo" in " ".join(quiet.stderr.split())


def test_a_one_fold_write_says_nothing_checked_its_gain(config, env, tune_finds_better):
    """With one fold there is no spread to weigh the gain against: a one-playlist library's
    `tune --folds 1 --write` turned two scorers off, saying nothing of what it rested on."""
    args = tune_args(config)
    args[args.index("--folds") + 1] = "1"
    result = run(args, env)
    said = " ".join(result.stdout.split())
    assert result.exit_code == 0 and "weights written to" in said, result.stderr
    assert re.search(r"note: one fold, on \d+ playlists: nothing checked the best weights' gain against chance", said)
    assert "one fold" not in " ".join(run(tune_args(config), env).stdout.split())  # two folds: the spread checks


def test_tune_undo_puts_back_what_tune_write_replaced_comments_kept(config, env, tune_finds_better):
    """`tune --write` printed the old weights and "set them back" by hand: no command put them
    back, and the keys it had added for the defaults stayed. `tune --undo` restores the file as
    it was (a key the file did not set is taken out again), comments and other keys kept, once."""
    from recommender.configfile import set_values
    original = CONFIG + "scorers:\n  year:\n    weight: 2.0   # mine\n"
    config.write_text(original)
    assert run(tune_args(config), env).exit_code == 0
    assert config.read_text() != original
    set_values(config, {"blend.max_tracks": 40})  # another key edited since: not the weights
    result = run(["tune", "--undo", "--config", str(config)], env)
    assert result.exit_code == 0, result.stderr
    assert config.read_text() == original.replace("max_tracks: 30", "max_tracks: 40")
    assert "-    weight: 0.1" in result.stdout and "has the weights it had before `recommend tune --write`" in result.stdout
    again = run(["tune", "--undo", "--config", str(config)], env)
    assert again.exit_code == 2 and again.stderr.startswith("error: nothing to undo")
    assert config.read_text() == original.replace("max_tracks: 30", "max_tracks: 40")


def test_tune_undo_after_a_web_save_names_the_save(config, env):
    """The web app's Save is undone by `tune --undo` as a `tune --write` is (one step), but the
    undo said "the weights it had before `recommend tune --write`" of the Save's: the user took
    the tune's earlier weights for restored. It names what it undid."""
    from recommender import jobs
    from recommender.config import load_settings
    settings = load_settings(config, environ=env)
    jobs.write_tuned_weights(settings, {"content": 0.5}, config)  # what the web app's Save does
    result = run(["tune", "--undo", "--config", str(config)], env)
    assert result.exit_code == 0, result.stderr
    assert "has the weights it had before a Save in `recommend web`" in " ".join(result.stdout.split())
    assert config.read_text() == CONFIG


def test_tune_undo_keeps_a_weight_edited_since_the_write(config, env, tune_finds_better):
    """An undo after the user (or the web app's Save) changed a weight that tune had written
    would silently throw that edit away: it is refused, the file unchanged, the old weights named."""
    from recommender.configfile import set_values
    assert run(tune_args(config), env).exit_code == 0
    set_values(config, {"scorers.content.weight": 0.7})
    edited = config.read_text()
    result = run(["tune", "--undo", "--config", str(config), "--json"], env)
    assert result.exit_code == 2 and result.stdout == ""
    line = " ".join(result.stderr.split())
    assert "was edited since `recommend tune --write` (scorers.content.weight is 0.7, tune wrote 0.1)" in line
    assert "content (not set: the default)" in line and config.read_text() == edited
    assert "opendata" not in line  # tune kept it at its default: not written, nothing to undo


@pytest.fixture
def less_open_data_wins(monkeypatch):
    """The real search runs, then the combination with the lowest open-data weight tried (the
    first such) scores 0.05 p@N above the best of every fold: on your own playlists, whose hidden
    tracks are yours, open data's weight shows only how it reorders them (0 was the best on the
    sample library), not what it is for."""
    import numpy as np

    from recommender import jobs
    real = jobs.tune

    def tune(*args, **kwargs):
        result = real(*args, **kwargs)
        j = result.names.index("opendata")
        result.precision[:, np.lexsort((np.arange(len(result.combos)), result.combos[:, j]))[0]] = \
            result.precision.max(axis=1) + 0.05
        return result
    monkeypatch.setattr(jobs, "tune", tune)


def test_tune_write_leaves_the_fixed_scorers_weights_as_configured(config, env, less_open_data_wins):
    """`tune --write` searched the open-data weight on your own playlists, which cannot measure
    it (tracks you do not have yet), and could write 0: discovery's open-data evidence switched
    off. tune.fixed (opendata, release) keeps them at the configured weight in every combination
    tried, shown as fixed, and --write leaves them; `tune.fixed: []` searches them too."""
    result = run(tune_args(config, "--json"), env)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["fixed"] == {"opendata": 0.1, "release": 0.1} and out["changed"]
    assert out["best"]["weights"]["opendata"] == 0.1 and out["best"]["weights"]["release"] == 0.1
    text = config.read_text()
    assert "content" in text and "opendata" not in text and "release" not in text
    import yaml
    assert any(v["weight"] for v in yaml.safe_load(text)["scorers"].values())  # never the fixed ones alone
    shown = " ".join(run(tune_args(config), env).stdout.split())
    assert "opendata 0.1 (fixed)" in shown and "release 0.1 (fixed)" in shown
    assert ("(fixed): tune.fixed keeps opendata and release at your config's weights in every combination "
            "tried, and --write never changes them (`tune.fixed: []` searches them too)") in shown
    off = "".join(f"  {n}:\n    weight: 0\n" for n in ("content", "artist_walk", "year", "coverage"))
    config.write_text(CONFIG + "scorers:\n" + off)  # only the fixed ones on
    shown = " ".join(run(tune_args(config), env).stdout.split())
    assert ("note: every scorer that is on is in tune.fixed (opendata, release): there was nothing to tune; "
            "`tune.fixed: []` searches them too") in shown
    config.write_text(CONFIG + "tune:\n  fixed: []\n  grid: [0, 0.1, 1]\n")
    everything = run(tune_args(config, "--json"), env)
    assert everything.exit_code == 0, everything.stderr
    assert json.loads(everything.stdout)["fixed"] == {}
    assert "opendata:\n    weight: 0.0\n" in config.read_text()


def test_tune_undo_searches_nothing_and_takes_no_search_options(config, env, monkeypatch):
    from recommender import jobs
    monkeypatch.setattr(jobs, "tune", no_search)
    result = run(["tune", "--undo", "--write", "--folds", "2", "--config", str(config)], env)
    assert result.exit_code == 2
    assert "--undo puts back the weights of your config file and searches nothing: leave out --write, --folds" \
        in result.stderr
    assert config.read_text() == CONFIG


def test_tune_says_what_evaluate_then_gives(config, env):
    """With the default folds tune showed the mean over folds (0.5678 on the sample library) and
    `recommend evaluate` then gave another number (0.5067): nothing said which number evaluate
    would confirm. Now a line (and the folds' values in --json) gives it: the first fold's."""
    shown = run(tune_args(config), env)
    assert shown.exit_code == 0, shown.stderr
    said = re.search(r"`recommend evaluate` gives p@10 (\d\.\d{4}) with the best weights: it hides what the "
                     r"first fold hides \(the table's mean is over 2 folds\)", " ".join(shown.stdout.split()))
    assert said, shown.stdout
    tuned = json.loads(run(["tune", "--dataset", SMALL, "--folds", "2", "--json", "--config", str(config)],
                           env).stdout)
    evaluated = run(["evaluate", "--dataset", SMALL, "--json", "--config", str(config)], env)
    assert evaluated.exit_code == 0, evaluated.stderr
    p = json.loads(evaluated.stdout)["p@10"]
    assert f"{p:.4f}" == said.group(1)
    assert len(tuned["best"]["p@10_folds"]) == 2 and tuned["best"]["p@10_folds"][0] == p
    one_fold = run(["tune", "--dataset", SMALL, "--folds", "1", "--config", str(config)], env)
    assert "x 1 fold on" in " ".join(one_fold.stdout.split()) and "gives p@10" not in one_fold.stdout
    # one fold has no spread: neither "mean ± spread over folds" nor "± 0.0000" (a trial's find)
    assert "±" not in one_fold.stdout and "spread" not in one_fold.stdout
    assert "mean ± spread over folds" in " ".join(shown.stdout.split())


@pytest.mark.parametrize("extra, message", [
    (["--in-process"], "error: --in-process is for --protocol persona (its open data); leave it out here"),
    (["--protocol", "persona", "--split", "dev", "--top-n", "20"],
     "error: --top-n is not for --protocol persona: the personal-library benchmark is measured at 10; "
     "leave --top-n out"),
    (["--protocol", "persona", "--split", "dev", "--report", "r.html"],
     "error: --report is not for --protocol persona: the personal-library benchmark has no HTML report; "
     "leave --report out (--json gives its numbers)"),
])
def test_evaluate_refuses_an_option_it_would_ignore(env, tmp_path, monkeypatch, extra, message):
    """`evaluate --in-process` (without the persona protocol) ran the pooled evaluation as if the
    option were not there; `--protocol persona --top-n 20` printed p@10, and `--report r.html`
    wrote no report, all exit 0 (README: options that would be ignored are refused)."""
    monkeypatch.chdir(tmp_path)
    result = run(["evaluate", "--dataset", SMALL, "--in-process", *extra] if extra != ["--in-process"]
                 else ["evaluate", "--dataset", SMALL, *extra], env)
    assert result.exit_code == 2 and result.stderr.strip() == message
    assert result.stdout == "" and not (tmp_path / "r.html").exists()


def test_the_persona_benchmark_on_a_file_too_small_for_a_persona_says_so(env):
    """A data file whose split has fewer than ten playlists: "0 targets of 0 personas" over a row
    of nan, exit 0, and --json without any p@10."""
    for args in ([], ["--json"]):
        result = run(["evaluate", "--dataset", SMALL, "--protocol", "persona", "--split", "dev", "--in-process",
                      *args], env)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.strip() == (
            f"error: no persona to evaluate in {SMALL} (dev split): a persona is 10 playlists with tracks to "
            "hide, and the split has 2 playlists")


def test_a_config_that_is_no_regular_file_is_never_written(env, monkeypatch):
    """`--config /dev/null` reads as an empty config (a fair way to run on the defaults); `tune
    --write` with it searched, then replaced the device by a YAML file (as root; otherwise it
    blamed the folder /dev). Refused before the search now, and by every config write."""
    from recommender import configfile, jobs
    written = []
    monkeypatch.setattr(configfile, "atomic_write_text", lambda *a, **k: written.append(a))
    monkeypatch.setattr(jobs, "tune", no_search)
    result = run(["tune", "--dataset", SMALL, "--write", "--config", os.devnull], env)
    assert result.exit_code == 7
    assert result.stderr.strip() == (
        f"error: cannot write {os.devnull}: it is no regular file (a device, a pipe or a folder); give a config "
        "file to write to (--config FILE); nothing was changed")
    with pytest.raises(StorageError, match="it is no regular file"):
        configfile.set_values(os.devnull, {"scorers.year.weight": 0.5})
    assert written == []


def test_evaluate_takes_n_for_its_top_n_as_search_and_similar_do(env):
    """`recommend evaluate -n 20` (as `search -n 5`, `similar -n 5`): "no such option: -n"."""
    result = run(["evaluate", "--dataset", SMALL, "-n", "20", "--json"], env)
    assert result.exit_code == 0, result.stderr
    assert "p@20" in json.loads(result.stdout)


def test_tune_with_one_scorer_on_says_there_was_nothing_to_tune(config, env):
    """After a `tune --write` that set every scorer but one to 0, the next tune searched one
    combination and said "your current weights are as good as far as this library can tell",
    though nothing had been compared: a scorer at 0 stays out of the search."""
    zeros = "".join(f"  {name}:\n    weight: 0\n" for name in ("content", "opendata", "year", "coverage", "release"))
    config.write_text(f"scorers:\n{zeros}  artist_walk:\n    weight: 0.1\n")
    result = run(["tune", "--dataset", SMALL, "--folds", "2", "--config", str(config)], env)
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "1 weight combination x 2 folds" in text and "as good as far as this library can tell" not in text
    assert ("note: only artist_walk is on, and one scorer ranks alike at any weight: there was nothing to tune. "
            "A scorer at weight 0 (an earlier `tune --write` may have set it so) joins the search once your "
            "config gives it a weight again (scorers.NAME.weight)") in text


def _tuned(precision: list[list[float]], defaults: dict[str, float]):
    """A TuneResult over two scorers' combinations (content, year) = (1, 0), (1, 1), (0, 1)."""
    import numpy as np

    from recommender.tune import TuneResult
    p = np.asarray(precision, dtype=float)
    return TuneResult(["content", "year"], np.asarray([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]), p, p.copy(), 10,
                      defaults)


def test_tune_write_keeps_the_current_weights_when_the_gain_is_within_the_spread(config, env, monkeypatch):
    """tune said "within the spread over folds: your current weights are as good as far as this
    library can tell" and `--write` then wrote the other weights all the same: a weekly tune
    changed the config on noise. Kept now, and said; a gain beyond the spread is written."""
    from recommender import jobs
    noisy = _tuned([[0.30, 0.40, 0.1], [0.30, 0.22, 0.1]], {"content": 1.0, "year": 0.0})  # +0.01, spread 0.09
    assert noisy.best_weights == {"content": 1.0, "year": 1.0} and noisy.within_spread
    monkeypatch.setattr(jobs, "tune", lambda *a, **k: noisy)
    before = config.read_text()
    result = run(tune_args(config), env)
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "within the spread over folds" in text and f"{config} keeps its weights" in text
    assert config.read_text() == before
    out = json.loads(run([*tune_args(config), "--json"], env).stdout)
    assert out["within_spread"] is True and out["changed"] is False and config.read_text() == before
    clear = _tuned([[0.30, 0.41, 0.1], [0.30, 0.39, 0.1]], {"content": 1.0, "year": 0.0})  # +0.10, spread 0.01
    assert not clear.within_spread
    monkeypatch.setattr(jobs, "tune", lambda *a, **k: clear)
    result = run(tune_args(config), env)
    assert result.exit_code == 0 and "weights written to" in result.stdout
    assert "year:\n    weight: 1" in config.read_text()
    same = _tuned([[0.40, 0.30, 0.1], [0.40, 0.30, 0.1]], {"content": 1.0, "year": 0.0})
    assert same.best_weights == same.defaults and not same.within_spread
    monkeypatch.setattr(jobs, "tune", lambda *a, **k: same)
    result = run(["tune", "--dataset", SMALL, "--folds", "2", "--config", str(config)], env)
    assert "note: your current weights are the best of the search: nothing to change" in result.stdout
    # with --write it said "nothing to change" too, and then wrote them in (a diff, "weights written")
    result = run(tune_args(config), env)
    assert result.exit_code == 0 and "nothing to change" not in result.stdout
    assert "note: your current weights are the best of the search" in result.stdout
    assert "weights written to" in result.stdout  # the file held other weights (the fake's current ones differ)


def test_a_scorer_at_weight_0_is_marked_off_in_the_table_and_kept_in_the_json(tmp_path, env):
    """The table listed the scorers at weight 0 among the others (their weights only in the title,
    cut short on a narrow terminal), so a row of collaborative at p@10 0.46 read as part of the
    blend. Each row now shows its weight, a scorer at weight 0 says "0 (off)" and a line under the
    table says its row is that scorer alone; --json keeps every scorer with its weight, as before."""
    config = tmp_path / "config.yaml"
    config.write_text("scorers:\n  collaborative: {weight: 0}\n  popularity: {weight: 0.3}\n  content: {weight: 1.5}\n")
    table = run(["evaluate", "--dataset", SMALL, "--config", str(config)], {**env, "COLUMNS": "200"})
    assert table.exit_code == 0, table.stderr
    rows = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
            for line in table.stdout.splitlines() if line.startswith("│")}
    assert rows["collaborative"][0] == "0 (off)" and rows["content"][0] == "1.5" and rows["blend"][0] == ""
    assert [name for name, cells in rows.items() if cells[0].endswith("(off)")] == ["collaborative"]
    assert ("collaborative is off (weight 0), not in the blend; its row shows how well it would do alone"
            in " ".join(table.stdout.split()))
    out = json.loads(run(["evaluate", "--dataset", SMALL, "--json", "--config", str(config)], env).stdout)
    assert out["weights"]["collaborative"] == 0 and "p@10" in out["scorers"]["collaborative"]


def test_the_scorers_built_only_with_a_weight_have_their_row_at_weight_0_too(tmp_path, env):
    """README: a scorer at weight 0 keeps its row, "0 (off)", to show whether it is worth turning
    on. The audio scorer (0 by default) and coverage at 0 were not built at all: a user who
    imported audio features had no row to tell what audio alone does. Both have their row now,
    out of the blend (its numbers unchanged); audio only where the library has audio features
    (without, it scores nothing)."""
    config = tmp_path / "config.yaml"
    config.write_text("scorers:\n  coverage: {weight: 0}\n")
    runs = {features: json.loads(run(["evaluate", "--dataset", SMALL, "--features", features, "--json",
                                      "--config", str(config)], env).stdout) for features in ("full", "restricted")}
    full, restricted = runs["full"], runs["restricted"]
    assert full["weights"]["audio"] == 0 and full["weights"]["coverage"] == 0
    assert "p@10" in full["scorers"]["audio"] and "p@10" in full["scorers"]["coverage"]
    assert "audio" not in restricted["scorers"] and "coverage" in restricted["scorers"]
    on = tmp_path / "on.yaml"
    on.write_text("scorers:\n  coverage: {weight: 0}\n  audio: {weight: 0.0001}\n")
    alone = json.loads(run(["evaluate", "--dataset", SMALL, "--features", "full", "--json", "--config", str(on)],
                           env).stdout)
    assert full["scorers"]["audio"] == alone["scorers"]["audio"]  # what it would do alone, as when it is on
    table = run(["evaluate", "--dataset", SMALL, "--features", "full", "--config", str(config)], {**env, "COLUMNS": "200"})
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in table.stdout.splitlines()
            if line.startswith("│")}
    assert rows["audio"] == "0 (off)" and rows["coverage"] == "0 (off)"


def test_three_fixed_scorers_are_named_as_a_sentence_lists_them(capsys):
    """tune's line about tune.fixed joined two scorers with "and" but three or more with commas
    alone ("keeps opendata, release, year at your config's weights"); it lists them as every
    other message does (wording.and_list): "opendata, release and year"."""
    from recommender.cli.evaluation import _print_tuned
    weights = {"content": 0.5, "opendata": 0.1, "release": 0.1, "year": 0.1}
    scores = {"p@10": 0.2, "p@10_std": 0.01, "ndcg@10": 0.3, "ndcg@10_std": 0.01}
    out = {"fixed": {"opendata": 0.1, "release": 0.1, "year": 0.1}, "folds": 1, "seconds": 1.0, "combinations": 3,
           "defaults": {"weights": weights, **scores}, "best": {"weights": weights, **scores}, "within_spread": True}
    _print_tuned(out, 10, "your playlists")
    shown = " ".join(capsys.readouterr().out.split())
    assert "tune.fixed keeps opendata, release and year at your config's weights" in shown


def test_a_file_of_one_playlist_is_refused_not_scored_perfect(tmp_path):
    """`evaluate --dataset` of one exported playlist gave p@10, NDCG and R-precision 1.0 to every
    scorer (the hidden tracks were the only candidates), and `tune` found every weighting alike."""
    from typer.testing import CliRunner

    from recommender.cli import app
    rows = ["Track URI,Track Name,Artist URI(s),Artist Name(s),Album URI,Album Name"]  # one Exportify export
    rows += [f"spotify:track:tr{i:020d},Song {i},spotify:artist:ar{i % 7:020d},Artist {i % 7},"
             f"spotify:album:al{i % 9:020d},Album {i % 9}" for i in range(40)]
    data = tmp_path / "Mine.csv"
    data.write_text("\n".join(rows) + "\n")
    for command in ("evaluate", "tune"):
        result = CliRunner().invoke(app, [command, "--dataset", str(data)])
        assert result.exit_code == 2, result.output
        assert "holds one playlist and no other track" in result.output and "1.0000" not in result.output


def test_a_playlist_exported_twice_is_refused_not_scored_perfect(tmp_path):
    """A folder holding the same playlist exported twice ("Mine.csv", "Mine (1).csv"), every
    playlist holding every track, passed the one-playlist refusal: the hidden tracks were again the
    only candidates, and every scorer got NDCG and R-precision 1.0000."""
    from typer.testing import CliRunner

    from recommender.cli import app
    rows = ["Track URI,Track Name,Artist URI(s),Artist Name(s),Album URI,Album Name"]
    rows += [f"spotify:track:tr{i:020d},Song {i},spotify:artist:ar{i % 7:020d},Artist {i % 7},"
             f"spotify:album:al{i % 9:020d},Album {i % 9}" for i in range(40)]
    for name in ("Mine.csv", "Mine (1).csv"):
        (tmp_path / name).write_text("\n".join(rows) + "\n")
    for command in ("evaluate", "tune"):
        result = CliRunner().invoke(app, [command, "--dataset", str(tmp_path)])
        assert result.exit_code == 2, result.output
        assert "holds the same tracks in every playlist" in result.output and "1.0000" not in result.output


def test_a_file_of_two_playlists_is_evaluated(tmp_path):
    """The refusal above is for one playlist alone: with two, the tracks hidden from each compete
    with the other's, and the file is evaluated."""
    from recommender import jobs
    from recommender.config import load_settings
    from test_persona import COLUMNS, _persona_rows, _write
    rows, at = _persona_rows(), COLUMNS.index("playlist_id")
    two = sorted({r[at] for r in rows})[:2]
    path = _write(tmp_path / "two.csv", [r for r in rows if r[at] in two])
    setup = jobs.evaluation_setup(load_settings(environ={}), dataset=path)
    assert sorted(setup.library.playlist_items["playlist_id"].unique()) == two
    assert sorted(setup.hidden["playlist_id"].unique()) == two


@pytest.mark.parametrize("split, noted", [("all", True), ("dev", False)])
def test_tune_on_a_data_file_says_when_it_tunes_on_the_holdout_split(split, noted):
    """`tune --dataset FILE` tuned on every playlist (its default split, all), holdout included,
    without a word; `evaluate --split holdout` then measured weights on playlists they were fit to."""
    from typer.testing import CliRunner

    from recommender.cli import app
    from pathlib import Path
    data = Path(__file__).parent / "fixtures" / "tidy_small.csv"
    result = CliRunner().invoke(app, ["tune", "--dataset", str(data), "--split", split, "--folds", "1", "--json"])
    said = "no longer measures weights on playlists they never saw" in result.stderr
    assert said == noted, result.stderr


def test_tune_write_leaves_the_audio_weight_of_a_library_without_audio_features(tmp_path, env, tune_finds_better):
    """With no track's audio features to score by, the audio scorer ranks nothing, yet tune searched
    its weight (every value alike: the grid six times as long) and `--write` set it to 0, the
    grid's first: the weight given for the features to come was turned off on no evidence."""
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG + "scorers:\n  audio:\n    weight: 0.2\n")
    result = run(tune_args(config, "--json"), env)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert "audio" not in out["best"]["weights"] and out["changed"] is True
    assert "audio:\n    weight: 0.2\n" in config.read_text()
    said = run(["tune", "--dataset", SMALL, "--folds", "1", "--config", str(config)], env)
    assert "audio has a weight, but no track has audio features" in " ".join(said.stdout.split())



@pytest.mark.parametrize("edited", ["scorers.year.weight", "scorers.content.weight"])
def test_a_weight_edited_while_tune_searched_is_neither_overwritten_nor_mixed_with_tuned_ones(config, env, monkeypatch,
                                                                                          tune_finds_better, edited):
    """The config file edited during the search (by hand, the web app's Save): `tune --write`
    wrote over the weight edited (year: the user's 0.9 gone, and the message named the 2 tune had
    read as the one replaced), or, where tune's best was the weight it had read (content 0.1),
    left the edited one beside the tuned ones, a blend tune never measured, saying "weights
    written". It is refused, exit 2, naming the weight, the file as edited."""
    from recommender import jobs
    from recommender.configfile import set_values
    config.write_text(CONFIG + "scorers:\n  content:\n    weight: 0.1   # mine\n  year:\n    weight: 2   # mine\n")
    searched = jobs.tune

    def edited_meanwhile(*args, **kwargs):
        result = searched(*args, **kwargs)
        set_values(config, {edited: 0.9})
        return result
    monkeypatch.setattr(jobs, "tune", edited_meanwhile)
    result = run(tune_args(config), env)
    assert result.exit_code == 2, result.stdout
    said = " ".join(result.stderr.split())
    assert f"changed while tune searched ({edited} is 0.9" in said and "nothing was written" in said, said
    assert "weights written" not in result.stdout
    assert config.read_text() == CONFIG + "scorers:\n  content:\n    weight: " + \
        ("0.1   # mine\n  year:\n    weight: 0.9   # mine\n" if "year" in edited else "0.9   # mine\n  year:\n    weight: 2   # mine\n")


def test_tune_s_help_says_write_keeps_the_weights_when_the_gain_is_within_the_spread(env):
    """`tune -h` said --write "stores the best weights in your config file", while with more
    than one fold a gain within the spread over folds leaves the file's weights as they are: a
    user who read the help took the weekly `tune --write` that kept them for broken."""
    result = run(["tune", "-h"], {**env, "COLUMNS": "400"})
    assert result.exit_code == 0
    assert "Store the best weights in your config file (the diff is shown), unless their gain is within the spread " \
           "over folds (then your weights stay)." in " ".join(result.stdout.split()), result.stdout
