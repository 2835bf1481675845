"""schedule: cron validation, our crontab line, editing that keeps foreign lines, systemd."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from crontab import CronSlices

from recommender import schedule
from recommender.errors import RecommenderError, StorageError, UsageError

# Foreign lines python-crontab would re-render (double spaces, "50%", indented comment,
# environment lines, a line it cannot parse): all must survive byte for byte.
FOREIGN = (
    "# my jobs\n"
    "SHELL=/bin/bash\n"
    "MAILTO=me@example.com\n"
    "0  5 * * *   /usr/bin/backup.sh   # nightly\n"
    "   # indented comment mentioning recommend-managed\n"
    "*/15 * * * * echo \"50%\" > /dev/null\n"
    "\n"
    "@daily /usr/local/bin/daily\n"
    "not a cron line\n"
)
EXE = "/opt/recommend venv/bin/recommend"
CONFIG = "/home/me/.config/recommend/user.yaml"
CACHE = "/home/me/.cache/recommend"


def _local_zone(name: str):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", name)
        time.tzset()
        yield
    time.tzset()


@pytest.fixture
def berlin():
    """The local time zone is Europe/Berlin (cron's clock: local time) for the test."""
    yield from _local_zone("Europe/Berlin")


@pytest.fixture
def tab(tmp_path: Path) -> Path:
    path = tmp_path / "crontab"
    path.write_bytes(FOREIGN.encode())
    return path


def _foreign_lines(text: str) -> list[str]:
    return [line for line in text.splitlines(keepends=True) if "# recommend-managed" not in line]


# ----- validate_cron ------------------------------------------------------------------------
@pytest.mark.parametrize("expr, expected", [
    ("0 6 * * *", "0 6 * * *"),
    ("  30   7 * *  mon-fri ", "30 7 * * mon-fri"),
    ("*/15 * * * *", "*/15 * * * *"),
    ("@Daily", "@daily"),
    ("0 5 * * 7", "0 5 * * 7"),
    ("0 7 29 2 *", "0 7 29 2 *"),  # leap years
    ("0 7 31 feb mon", "0 7 31 feb mon"),  # day-of-month or day-of-week: every Monday of February
    ("0 7 31 */2 *", "0 7 31 */2 *"),
])
def test_validate_cron_accepts_and_normalises(expr, expected):
    assert schedule.validate_cron(expr) == expected


@pytest.mark.parametrize("expr", ["61 * * * *", "* * * *", "* * * * * *", "@reboot", "@often",
                                  "*/0 * * * *", "5-1 * * * *", "0 5 * * funday", "0 5 * * 8",
                                  "0 5 ~ * *", "", "0 24 * * *", "0 0 0 * *",
                                  # never runs: no month it names has the day (was installed, no next run)
                                  "0 7 31 2 *", "0 7 30 feb *", "0 7 31 4,6 *", "0 7 31 2 */1"])
def test_validate_cron_rejects_with_usage_error_naming_the_expression(expr):
    with pytest.raises(UsageError) as err:
        schedule.validate_cron(expr)
    assert repr(expr) in str(err.value)
    assert "\n" not in str(err.value)
    assert err.value.exit_code == 2


@pytest.mark.parametrize("word", ["daily", "Weekly", "hourly"])
def test_a_special_without_its_at_sign_is_named_with_it(word):
    """`--at daily` (systemd's OnCalendar= word) said only "expected 5 fields, got 1"."""
    with pytest.raises(UsageError, match=f"got 1; did you mean '@{word.lower()}'\\?$"):
        schedule.validate_cron(word)
    with pytest.raises(UsageError) as err:
        schedule.validate_cron("often")
    assert "did you mean" not in str(err.value)


# ----- cron_line ----------------------------------------------------------------------------
def test_cron_line_runs_build_playlist_quietly_with_absolute_paths():
    line = schedule.cron_line("0 6 * * *", EXE, CONFIG, CACHE)
    assert line == (f"0 6 * * * RECOMMENDER_TRIGGER=schedule RECOMMENDER_CACHE_DIR={CACHE} '{EXE}' build-playlist "
                    f"--quiet --no-input --config {CONFIG} # recommend-managed")
    assert schedule.is_ours(line)
    assert ">" not in line                      # the app writes its own log


def test_cron_line_makes_relative_paths_absolute_and_escapes_percent(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = schedule.cron_line("@weekly", "bin/recommend", "my%conf.yaml", None)
    assert line.startswith(f"@weekly RECOMMENDER_TRIGGER=schedule {tmp_path}/bin/recommend build-playlist")
    assert f"--config {tmp_path}/my\\%conf.yaml" in line     # cron reads a bare % as newline
    assert "RECOMMENDER_CACHE_DIR" not in line


def test_cron_line_without_config_has_no_config_flag():
    assert "--config" not in schedule.cron_line("0 6 * * *", EXE, None, None)


def test_cron_line_rejects_a_path_with_a_line_break():
    with pytest.raises(UsageError, match="line break"):
        schedule.cron_line("0 6 * * *", EXE, "/tmp/evil\n* * * * * rm -rf ~", None)


def _script(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "recommend"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return exe


def test_default_executable_is_found_on_path(tmp_path, monkeypatch):
    """The fallback: neither the started script nor one beside the running Python."""
    import sys
    monkeypatch.setattr(sys, "argv", ["python -m recommender"])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python-elsewhere" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    exe = _script(tmp_path)
    assert schedule.default_executable() == exe


@pytest.mark.parametrize("started_as", ["script", "python -m"])
def test_install_schedules_the_running_installation_not_another_one_on_path(tmp_path, monkeypatch, started_as):
    """`~/venvs/new/bin/recommend schedule install` run without activating that virtualenv,
    while PATH has an older `recommend` (pipx, ~/.local/bin, another checkout), wrote a crontab
    line running the older one: the scheduled runs used another version and another Python
    than the runs by hand. Reported: cron jobs running another interpreter than the
    virtualenv's, https://github.com/pypa/pipenv/issues/1369,
    https://github.com/crits/crits/issues/415. Now the installation that is running wins."""
    import sys
    older = _script(tmp_path / "pipx" / "bin")
    mine = _script(tmp_path / "venvs" / "new" / "bin")
    monkeypatch.setenv("PATH", f"{older.parent}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setattr(sys, "executable", str(mine.parent / "python"))
    monkeypatch.setattr(sys, "argv", [str(mine) if started_as == "script" else "-m", "schedule", "install"])
    assert schedule.default_executable() == mine


def test_the_running_script_counts_only_when_it_is_a_recommend(tmp_path, monkeypatch):
    """`python -m recommender` starts with the package's __main__.py as argv[0]: in a checkout
    whose files are executable (a mounted Windows disk, a tarball's modes) that file is no
    `recommend` to schedule; the one beside the running Python is."""
    import sys
    main = tmp_path / "checkout" / "recommender" / "__main__.py"
    main.parent.mkdir(parents=True)
    main.write_text("#!/usr/bin/env python3\n")
    main.chmod(0o755)
    mine = _script(tmp_path / "venv" / "bin")
    monkeypatch.setattr(sys, "executable", str(mine.parent / "python"))
    monkeypatch.setattr(sys, "argv", [str(main), "schedule", "install"])
    assert schedule.default_executable() == mine


def test_only_the_xdg_variables_that_place_the_folders_in_use_go_to_the_scheduled_run(tmp_path, monkeypatch):
    from recommender.paths import DataDirs
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    state, cache = tmp_path / "xs", tmp_path / "xc"
    env = {"XDG_STATE_HOME": str(state), "XDG_CACHE_HOME": str(cache)}
    assert schedule.xdg_environment(DataDirs(state / "recommend", cache / "recommend"), env) == env
    # the cache moved (cache.dir, after `config migrate`): XDG_CACHE_HOME places nothing in use
    moved = DataDirs(state / "recommend", tmp_path / "moved")
    assert schedule.xdg_environment(moved, env) == {"XDG_STATE_HOME": str(state)}
    # the place a run given only HOME looks anyway needs no variable; one directory is on the line
    home = {"XDG_STATE_HOME": str(tmp_path / "home" / ".local" / "state")}
    assert schedule.xdg_environment(DataDirs(tmp_path / "home" / ".local" / "state" / "recommend", cache), home) == {}
    assert schedule.xdg_environment(DataDirs(state / "recommend", state / "recommend"), env) == {}


def test_the_old_places_are_said_only_for_a_crontab_line_that_names_them(tmp_path):
    # what `recommend config migrate` says of our crontab line after moving a checkout's cache
    tab, old = tmp_path / "tab", tmp_path / "checkout" / "cache"
    schedule.install("0 7 * * *", EXE, None, old, tabfile=tab)
    units = tmp_path / "no units"
    assert schedule.still_naming([old], tab, units) == [
        "your crontab entry still names the old places: run `recommend schedule install` again"]
    assert schedule.still_naming([tmp_path / "elsewhere", tmp_path / "config.yaml"], tab, units) == []


def test_cron_line_rejects_an_invalid_expression():
    with pytest.raises(UsageError, match="'0 25 \\* \\* \\*'"):
        schedule.cron_line("0 25 * * *", EXE, CONFIG, CACHE)


# ----- install / show / remove on a tab file -------------------------------------------------
def test_install_appends_ours_and_keeps_every_foreign_line_byte_identical(tab):
    line = schedule.install("0 6 * * *", EXE, CONFIG, CACHE, tabfile=tab).line
    text = tab.read_bytes().decode()
    assert text == FOREIGN + line + "\n"
    assert schedule.show(tab) == line


def test_install_twice_replaces_in_place(tab):
    schedule.install("0 6 * * *", EXE, CONFIG, CACHE, tabfile=tab)
    with tab.open("a") as fh:
        fh.write("5 5 * * * /usr/bin/after-ours\n")
    second = schedule.install("30 7 * * mon-fri", EXE, CONFIG, CACHE, tabfile=tab).line
    text = tab.read_text()
    assert text.count("recommend-managed") == 2  # ours once + the foreign comment line
    assert text == FOREIGN + second + "\n" + "5 5 * * * /usr/bin/after-ours\n"
    assert schedule.show(tab).startswith("30 7 * * mon-fri ")


def test_a_path_holding_a_space_and_a_hash_keeps_the_line_ours_installed_once_and_removed(tab):
    """A folder "my #2": python-crontab took the first " #" for the line's comment, so our line was not
    ours: a second install added a second line (two runs a night), and remove left it."""
    config = "/home/me/my #2/config.yaml"
    schedule.install("0 6 * * *", EXE, config, CACHE, tabfile=tab)
    line = schedule.install("0 7 * * *", EXE, config, CACHE, tabfile=tab).line
    assert tab.read_text() == FOREIGN + line + "\n" and schedule.show(tab) == line
    assert schedule.line_words(line)[-2:] == ["--config", config]  # what the shell gives the program
    assert schedule.remove(tab) is True and tab.read_text() == FOREIGN


def test_install_also_replaces_a_commented_out_entry_of_ours(tab):
    line = schedule.cron_line("0 6 * * *", EXE, CONFIG, CACHE)
    tab.write_text(FOREIGN + "# " + line + "\n")
    new = schedule.install("0 9 * * *", EXE, CONFIG, CACHE, tabfile=tab).line
    assert tab.read_text() == FOREIGN + new + "\n"


def test_install_over_a_paused_line_says_the_runs_start_again(tmp_path, monkeypatch):
    """Our line commented out to pause the runs, then `schedule install` (another time, say):
    the line came back active and nothing said so."""
    from typer.testing import CliRunner

    from recommender.cli import app
    tab = tmp_path / "crontab"
    exe = tmp_path / "recommend"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setattr(schedule, "default_executable", lambda: exe)
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path / "data")}
    args = ["schedule", "install", "--at", "0 9 * * *", "--tabfile", str(tab)]
    first = CliRunner().invoke(app, args, env=env)
    assert first.exit_code == 0 and "commented out" not in first.stderr
    tab.write_text("# " + tab.read_text())
    again = CliRunner().invoke(app, args, env=env)
    assert again.exit_code == 0
    assert "note: our crontab line was commented out (the schedule paused); it runs again now" in " ".join(
        again.stderr.split())
    assert not schedule.is_paused(schedule.show(tab))


def test_install_into_missing_file_and_file_without_final_newline(tmp_path):
    missing = tmp_path / "new.tab"
    line = schedule.install("0 6 * * *", EXE, None, None, tabfile=missing).line
    assert missing.read_text() == line + "\n"
    bare = tmp_path / "bare.tab"
    bare.write_text("0 1 * * * /bin/true")
    line = schedule.install("0 6 * * *", EXE, None, None, tabfile=bare).line
    assert bare.read_text() == "0 1 * * * /bin/true\n" + line + "\n"


def test_a_tabfile_that_is_a_link_a_device_or_in_a_missing_folder_is_written_as_a_file_is(tab, tmp_path):
    """The crontab file was written by a temporary file moved over its name: a symlink (a dotfiles
    folder's) became a file of its own, its target left as it was; a device (`/dev/null`, as
    root) was replaced by a regular file; a folder that did not exist was "unexpected error:
    FileNotFoundError". They are written as every file of ours is (``store.atomic_write``)."""
    import os
    link = tmp_path / "link.tab"
    link.symlink_to(tab)
    line = schedule.install("0 6 * * *", EXE, None, None, tabfile=link).line
    assert link.is_symlink() and tab.read_text() == FOREIGN + line + "\n"
    deep = tmp_path / "not" / "yet" / "crontab"
    assert schedule.install("0 6 * * *", EXE, None, None, tabfile=deep).line == line and deep.read_text() == line + "\n"
    if os.geteuid() != 0:
        return  # (only root can make a device; only root could replace one)
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of the test's own
    with pytest.raises(StorageError, match="not a regular file"):
        schedule.install("0 6 * * *", EXE, None, None, tabfile=device)
    assert stat.S_ISCHR(device.stat().st_mode)


def test_install_keeps_the_file_mode(tab):
    tab.chmod(0o640)
    schedule.install("0 6 * * *", EXE, CONFIG, CACHE, tabfile=tab)
    assert stat.S_IMODE(tab.stat().st_mode) == 0o640


def test_remove_drops_only_ours(tab):
    assert schedule.remove(tab) is False
    assert tab.read_bytes() == FOREIGN.encode()
    schedule.install("0 6 * * *", EXE, CONFIG, CACHE, tabfile=tab)
    assert schedule.remove(tab) is True
    assert tab.read_bytes() == FOREIGN.encode()
    assert schedule.show(tab) is None
    assert schedule.remove(tmp := tab.with_name("absent")) is False and not tmp.exists()


def test_a_foreign_job_merely_mentioning_the_marker_is_not_ours(tab):
    assert schedule.show(tab) is None
    tab.write_text(FOREIGN + "0 1 * * * echo recommend-managed is nice\n")
    schedule.install("0 6 * * *", EXE, None, None, tabfile=tab)
    assert schedule.remove(tab) is True
    assert tab.read_text() == FOREIGN + "0 1 * * * echo recommend-managed is nice\n"


# ----- the user's crontab through a fake `crontab` program -----------------------------------
@pytest.fixture
def fake_crontab(tmp_path, monkeypatch) -> Path:
    """A `crontab` on PATH that keeps the table in a file (never the real crontab); each call's
    first argument (``-l`` or the file it installs) is appended to ``crontab.calls`` beside it."""
    store = tmp_path / "user.tab"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "crontab"
    script.write_text(
        "#!/bin/sh\n"
        f'STORE="{store}"\n'
        f'echo "$1" >> "{tmp_path / "crontab.calls"}"\n'
        'if [ "$1" = "-l" ]; then\n'
        '  if [ -f "$STORE" ]; then cat "$STORE"; exit 0; fi\n'
        '  echo "no crontab for tester" >&2; exit 1\n'
        "fi\n"
        'cp "$1" "$STORE"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return store


def test_user_crontab_install_show_remove(fake_crontab):
    assert schedule.show() is None                 # "no crontab for ..." means empty
    line = schedule.install("0 6 * * *", EXE, CONFIG, CACHE).line
    assert fake_crontab.read_text() == line + "\n"
    fake_crontab.write_text(FOREIGN + line + "\n")
    assert schedule.show() == line
    assert schedule.remove() is True
    assert fake_crontab.read_bytes() == FOREIGN.encode()


@pytest.mark.parametrize("refusal, said", [
    ('echo "bad minute" >&2; exit 1', "`crontab` refused the new table: bad minute"),
    ("exit 3", "`crontab` refused the new table: exit 3"),  # silent: its exit code is all there is
    # cronie's two lines, joined (the error line showed the line break as \x0a)
    ("""printf '"%s":1: bad minute\\nerrors in crontab file, can'"'"'t install.\\n' x >&2; exit 1""",
     "`crontab` refused the new table: \"x\":1: bad minute; errors in crontab file, can't install."),
])
def test_a_table_crontab_refuses_is_said_with_its_reason(fake_crontab, tmp_path, refusal, said):
    script = tmp_path / "bin" / "crontab"
    script.write_text(script.read_text().replace('cp "$1"', f'{refusal}\ncp "$1"'))
    with pytest.raises(RecommenderError) as raised:
        schedule.install("0 6 * * *", EXE, CONFIG, CACHE)
    assert str(raised.value) == said
    assert not fake_crontab.exists()


@pytest.mark.parametrize("hangs_on", ["-l", "the write"])
def test_a_crontab_program_that_never_ends_is_a_one_line_error_not_a_bug(fake_crontab, tmp_path, monkeypatch, hangs_on):
    """A `crontab` that does not return (waiting on a lock, a password, a network home) was
    "unexpected error: TimeoutExpired ... please report it", exit 1; it is CrontabUnavailable
    (exit 2) naming the call, and the table is left as it was."""
    script = tmp_path / "bin" / "crontab"
    hang = 'if [ "$1" = "-l" ]; then sleep 5; fi\n' if hangs_on == "-l" else 'if [ "$1" != "-l" ]; then sleep 5; fi\n'
    script.write_text(script.read_text().replace('if [ "$1" = "-l" ]; then\n', hang + 'if [ "$1" = "-l" ]; then\n', 1))
    monkeypatch.setattr(schedule, "CRONTAB_TIMEOUT", 0.5)
    fake_crontab.write_text(FOREIGN)
    with pytest.raises(schedule.CrontabUnavailable) as raised:
        schedule.install("0 6 * * *", EXE, CONFIG, CACHE)
    assert "did not finish within 0.5 s" in str(raised.value) and raised.value.exit_code == 2
    assert ("`crontab -l`" if hangs_on == "-l" else "nothing was changed") in str(raised.value)
    assert fake_crontab.read_text() == FOREIGN


@pytest.mark.parametrize("print_only", [True, False])
def test_a_config_piped_to_schedule_install_is_refused_saying_to_save_it_to_a_file(tmp_path, print_only):
    """`... | recommend schedule install --config /dev/stdin` said "/proc/123/fd/pipe:[456]: file not
    found": a scheduled run cannot read a pipe, and the message named neither the pipe nor what to do."""
    import sys
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "c"), "XDG_STATE_HOME": str(tmp_path / "s"),
           "XDG_CACHE_HOME": str(tmp_path / "k"), "RECOMMENDER_TEST_CRONTAB": str(tmp_path / "tab"), "PATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "recommender", "schedule", "install", "--config", "/dev/stdin",
                           *(["--print"] if print_only else [])], input="blend:\n  max_tracks: 30\n",
                          capture_output=True, text=True, timeout=120, env=env)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("error: --config /dev/stdin is a pipe or a device, not a file, which a scheduled run cannot "
                           "read: save the settings to a file and give that\n")


def test_missing_crontab_program_suggests_print(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RecommenderError, match="schedule install --print"):
        schedule.install("0 6 * * *", EXE, CONFIG, CACHE)
    with pytest.raises(RecommenderError, match="schedule install --print"):
        schedule.show()


def test_install_reads_the_crontab_before_writing_never_after_and_says_the_cron_tz_it_saw(fake_crontab, tmp_path, monkeypatch):
    """`schedule install` ran `crontab -l` once more after writing, only to find the CRON_TZ
    above our line: it now takes that zone from its own edit."""
    import sys

    from typer.testing import CliRunner

    from recommender.cli import app
    monkeypatch.setattr(sys, "argv", [str(_script(tmp_path / "exe")), "schedule", "install"])
    (tmp_path / "u.yaml").write_text("")
    fake_crontab.write_text("CRON_TZ=Asia/Tokyo\n0 9 * * * /usr/bin/backup\n")
    result = CliRunner().invoke(app, ["schedule", "install", "--at", "0 7 * * *", "--config", str(tmp_path / "u.yaml")],
                                env={"RECOMMENDER_CACHE_DIR": str(tmp_path / "cache")})
    assert result.exit_code == 0, result.stderr
    assert "note: the line CRON_TZ=Asia/Tokyo above ours" in " ".join(result.stderr.split())
    calls = (tmp_path / "crontab.calls").read_text().splitlines()
    # the check before the config file is touched, the edit's read, its write; nothing after
    assert calls[:2] == ["-l", "-l"] and len(calls) == 3 and calls[2] != "-l", calls


def test_install_returns_the_cron_tz_above_where_our_line_stands(tab):
    line = schedule.cron_line("0 6 * * *", EXE, CONFIG, CACHE)
    tab.write_text("CRON_TZ=Asia/Tokyo\n" + FOREIGN + "CRON_TZ=UTC\n")
    assert schedule.install("0 6 * * *", EXE, CONFIG, CACHE, tabfile=tab)[:2] == (line, "UTC")  # appended below both
    tab.write_text("CRON_TZ=Asia/Tokyo\n# " + line + "\nCRON_TZ=UTC\n")
    assert schedule.install("0 6 * * *", EXE, CONFIG, CACHE, tabfile=tab)[:2] == (line, "Asia/Tokyo")  # in place
    assert schedule.find_ours(tab)[:2] == (line, "Asia/Tokyo")
    tab.write_text(FOREIGN)
    assert schedule.install("0 6 * * *", EXE, CONFIG, CACHE, tabfile=tab)[:2] == (line, None)


# ----- systemd ------------------------------------------------------------------------------
@pytest.mark.parametrize("expr, calendar", [
    ("0 6 * * *", "*-*-* 06:00:00"),
    ("*/15 * * * *", "*-*-* *:00/15:00"),
    ("30 7 * * mon-fri", "Mon..Fri *-*-* 07:30:00"),
    ("0 8,20 * * *", "*-*-* 08,20:00:00"),
    ("0 5 * * 5-7", "Fri..Sun *-*-* 05:00:00"),
    ("0 */6 * * *", "*-*-* 00/6:00:00"),
    ("15 4 1-7 jan,jul *", "*-1,7-1..7 04:15:00"),
    ("0 8-10,20 * * *", "*-*-* 08..10,20:00:00"),  # a run of three is a range, one of two a list
    ("0 8,9 * * *", "*-*-* 08,09:00:00"),
    ("@weekly", "Sun *-*-* 00:00:00"),         # cron's week starts on Sunday, systemd's "weekly" on Monday
    ("@monthly", "*-*-1 00:00:00"),
    # cron ORs the day fields when neither starts with "*": a full one runs every day (it was the 13th only)
    ("0 6 13 * 0-6", "*-*-* 06:00:00"),
    ("0 6 1-31 * mon", "*-*-* 06:00:00"),
    ("0 6 13 * */1", "*-*-13 06:00:00"),  # a "*" day of the week: both must match, as systemd reads it
])
def test_on_calendar_common_forms(expr, calendar):
    assert schedule.on_calendar(expr) == calendar


def test_systemd_units_run_the_same_command_on_the_same_schedule():
    units = schedule.systemd_units("30 7 * * mon-fri", EXE, CONFIG, CACHE)
    assert set(units) == {"recommend.service", "recommend.timer"}
    service, timer = units["recommend.service"], units["recommend.timer"]
    assert f'ExecStart="{EXE}" build-playlist --quiet --no-input --config {CONFIG}\n' in service
    assert f'Environment="RECOMMENDER_CACHE_DIR={CACHE}"' in service
    assert 'Environment="RECOMMENDER_TRIGGER=schedule"' in service  # its runs are marked as the line's are
    assert "Type=oneshot" in service
    assert "\nOnCalendar=Mon..Fri *-*-* 07:30:00\n" in timer
    assert "Persistent=true" in timer and "WantedBy=timers.target" in timer


def test_systemd_units_explain_what_cannot_be_translated():
    timer = schedule.systemd_units("0 5 1 * mon", EXE, None, None)["recommend.timer"]
    assert "NOTE" in timer and "EITHER" in timer
    assert "\nOnCalendar=" not in timer             # left for the user, commented out
    assert "#OnCalendar=" in timer


def _cron_times(expr: str, start: datetime, count: int) -> list[datetime]:
    """Brute force: the first `count` minutes from `start` on which cron would run `expr`."""
    minute, hour, dom, month, dow = (set(s) for s in CronSlices(schedule.validate_cron(expr)))
    dom_any, dow_any = len(dom) == 31, len(dow) == 7
    out, t = [], start
    while len(out) < count:
        day_ok = ((t.day in dom or t.isoweekday() % 7 in dow) if not (dom_any or dow_any)
                  else (t.day in dom and t.isoweekday() % 7 in dow))
        if t.minute in minute and t.hour in hour and t.month in month and day_ok:
            out.append(t)
        t += timedelta(minutes=1)
    return out


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
@pytest.mark.parametrize("expr", ["*/20 9-17 * * 1-5", "15 4 1-7 jan,jul *", "0 0 */10 * *",
                                  "5 1 * * 6,0", "0 12 * * *"])
def test_on_calendar_fires_when_cron_would(expr):
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    proc = subprocess.run(["systemd-analyze", "calendar", "--iterations=6",
                           "--base-time=2025-12-31 23:59:30 UTC", schedule.on_calendar(expr)],
                          capture_output=True, text=True, env={**os.environ, "TZ": "UTC"})
    assert proc.returncode == 0, proc.stderr
    fired = [datetime.strptime(" ".join(line.split()[-3:-1]), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
             for line in proc.stdout.splitlines() if "Next elapse" in line or "Iter. #" in line]
    assert fired == _cron_times(expr, start, 6)


def test_a_user_crontab_that_is_not_utf8_keeps_its_bytes(fake_crontab, monkeypatch):
    """`crontab -l` was decoded with the locale's codec: a foreign line with a Latin-1
    byte (or any non-ASCII text under cron's C locale) was a UnicodeDecodeError, exit 1.
    The other lines now go back byte-identical, as with a crontab file."""
    foreign = b"# caf\xe9 backup\n0 3 * * * /usr/bin/backup --to /mnt/d\xe9p\xf4t\n"
    fake_crontab.write_bytes(foreign)
    monkeypatch.setenv("LC_ALL", "C")
    line = schedule.install("0 6 * * *", EXE, CONFIG, CACHE).line
    assert fake_crontab.read_bytes() == foreign + line.encode() + b"\n"
    assert schedule.show() == line
    assert schedule.remove() is True
    assert fake_crontab.read_bytes() == foreign


# ----- what breaks a line after it was installed -----------------------------------------------
def test_show_warns_when_the_scheduled_program_is_gone(tmp_path):
    """A virtualenv deleted, moved or rebuilt elsewhere after `schedule install` leaves a crontab
    line naming a dead path: cron's /bin/sh fails before the tool starts ("not found" in a
    mail nobody reads), nothing reaches recommend.log or runs.jsonl, and `schedule show` printed
    the line as if all was well. Reported e.g. https://github.com/pypa/pipenv/issues/1369 (a
    pipenv virtualenv path in a crontab) and https://github.com/kraiz/django-crontab/issues/12.
    `schedule show` now says the program is gone and to run `schedule install` again."""
    from typer.testing import CliRunner

    from recommender.cli import app
    venv = tmp_path / "old venv" / "bin"
    venv.mkdir(parents=True)
    exe = venv / "recommend"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    tab = tmp_path / "tab"
    config = tmp_path / "user.yaml"  # there (a config file gone is warned about too)
    config.write_text("")
    schedule.install("0 6 * * *", exe, config, CACHE, tabfile=tab)
    runner = CliRunner()
    shown = runner.invoke(app, ["schedule", "show", "--tabfile", str(tab)])
    assert shown.exit_code == 0 and "warning" not in shown.stderr
    exe.unlink()  # `rm -rf venv && python -m venv venv` elsewhere, or the folder moved
    shown = runner.invoke(app, ["schedule", "show", "--tabfile", str(tab)])
    assert shown.exit_code == 0
    assert str(exe) in shown.stdout
    assert f"warning: {exe} no longer exists" in shown.stderr and "recommend schedule install" in shown.stderr


def test_a_lines_words_skip_the_variables_the_line_sets():
    # `recommend schedule print` checks the program and --config of these words
    line = schedule.cron_line("0 6 * * *", EXE, CONFIG, CACHE, {"HTTPS_PROXY": "http://proxy:3128"})
    assert "HTTPS_PROXY=http://proxy:3128 " in line
    words = schedule.line_words(line)
    assert words[0] == EXE and schedule.missing_program(words) == Path(EXE)  # (not on this machine)


def test_an_environment_lines_quotes_are_taken_off_as_cron_does():
    # `MAILTO=""` is the commonest environment line of a crontab: its value is empty, not two quotes
    lines = ['MAILTO=""', "CRON_TZ = 'Asia/Tokyo'", 'A="x"y', "B='", "# C=1"]
    assert schedule.environment(lines) == {"MAILTO": "", "CRON_TZ": "Asia/Tokyo", "A": '"x"y', "B": "'"}


def test_print_says_a_user_timer_needs_lingering_to_run_while_logged_out(tmp_path, monkeypatch):
    """A systemd user timer runs only while its user manager runs, i.e. while you are logged in,
    unless lingering is enabled: on a home server nobody logs into, the printed timer never
    fired and nothing said why. Reported: https://stretton.xyz/2023/06/06/run-systemd-user-unit-at-boot-time/
    (user units start only when the user logs in), and systemd's loginctl(1) enable-linger.
    `--print` now ends with the `loginctl enable-linger` step."""
    from typer.testing import CliRunner

    from recommender.cli import app
    monkeypatch.setattr(schedule, "default_executable", lambda: Path(EXE))
    cfg = tmp_path / "user.yaml"
    cfg.write_text("")
    result = CliRunner().invoke(app, ["schedule", "install", "--print", "--config", str(cfg)],
                                env={"RECOMMENDER_CACHE_DIR": str(tmp_path / "cache")})
    assert result.exit_code == 0, result.stderr
    assert 'loginctl enable-linger "$USER"' in result.stdout
    assert "Persistent=true" in result.stdout
    quiet = CliRunner().invoke(app, ["schedule", "install", "--print", "-q", "--config", str(cfg)],
                               env={"RECOMMENDER_CACHE_DIR": str(tmp_path / "cache")})
    assert quiet.exit_code == 0 and quiet.stdout == result.stdout  # what was asked for (-q printed nothing)


# ----- the schedule in `recommend status` -----------------------------------------------------
def _crontab_for_status(tmp_path, monkeypatch, expr: str | None = None) -> tuple[Path, Path]:
    """The crontab file `recommend status` reads, with our line for ``expr`` when given, and the
    program the line runs; (crontab, program)."""
    tab = tmp_path / "tab"
    monkeypatch.setenv(schedule.TEST_TABFILE_VAR, str(tab))
    exe = tmp_path / "recommend"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    if expr:
        schedule.install(expr, exe, None, None, tabfile=tab)
    return tab, exe


def _status(tmp_path, *args, env=None):
    """`recommend status --offline` on an empty data directory (the crontab: conftest's
    RECOMMENDER_TEST_CRONTAB, never the user's)."""
    from typer.testing import CliRunner

    from recommender.cli import app
    return CliRunner().invoke(app, ["status", "--offline", *args],
                              env={"RECOMMENDER_CACHE_DIR": str(tmp_path / "cache"), **(env or {})})


@pytest.mark.parametrize("expr, after, expected", [
    ("0 7 * * *", datetime(2026, 11, 30, 20, 49), datetime(2026, 12, 1, 7, 0)),
    ("0 7 * * *", datetime(2026, 12, 1, 6, 59, 30), datetime(2026, 12, 1, 7, 0)),
    ("0 7 * * *", datetime(2026, 12, 1, 7, 0), datetime(2026, 12, 2, 7, 0)),  # the minute itself is past
    ("*/15 7 * * mon-fri", datetime(2026, 12, 4, 7, 50), datetime(2026, 12, 7, 7, 0)),  # Friday -> Monday
    ("@weekly", datetime(2026, 11, 30, 0, 0), datetime(2026, 12, 6, 0, 0)),  # Sunday midnight
    ("30 6 * * 7", datetime(2026, 11, 30, 0, 0), datetime(2026, 12, 6, 6, 30)),  # 7 is Sunday too
    ("0 0 13 * fri", datetime(2026, 11, 30, 0, 0), datetime(2026, 12, 4, 0, 0)),  # cron ORs both days
    ("0 7 29 2 *", datetime(2026, 11, 30, 0, 0), datetime(2028, 2, 29, 7, 0)),
])
def test_next_run_is_when_cron_starts_the_line(berlin, expr, after, expected):
    assert schedule.upcoming(expr, after)[0].replace(tzinfo=None) == expected


# Europe/Berlin: 2027-03-28 02:00 CET becomes 03:00 CEST; 2026-10-25 03:00 CEST becomes 02:00 CET.
SPRING = "2027-03-28"
FALL = "2026-10-25"


@pytest.mark.parametrize("expr, after, expected, note", [
    # a fixed time the clock skips: once, right after the jump (Vixie cron's "DST begins" case)
    ("30 2 * * *", f"{SPRING}T00:00:00+01:00", f"{SPRING}T03:00:00+02:00", "02:30 does not exist that day"),
    ("0 2 * * *", f"{SPRING}T01:59:30+01:00", f"{SPRING}T03:00:00+02:00", "02:00 does not exist that day"),
    ("30 3 * * *", f"{SPRING}T01:00:00+01:00", f"{SPRING}T03:30:00+02:00", None),  # exists: as usual
    # the skipped 02:00 and 02:30 start right after the jump, with the 03:00 run: one start, and its note
    ("0,30 2,3 * * *", f"{SPRING}T01:00:00+01:00", f"{SPRING}T03:00:00+02:00", "02:00 does not exist that day"),
    # a fixed time that comes twice: once, the first time ("DST ends": fixed-time jobs not repeated)
    ("30 2 * * *", f"{FALL}T00:00:00+02:00", f"{FALL}T02:30:00+02:00", "cron starts it once, the first time"),
    ("30 2 * * *", f"{FALL}T02:40:00+02:00", "2026-10-26T02:30:00+01:00", None),
    ("30 2 * * *", f"{FALL}T02:10:00+01:00", "2026-10-26T02:30:00+01:00", None),  # the second 02:10
    # a `*` minute or hour: only the wall times that happen, the repeated ones twice
    ("30 * * * *", f"{SPRING}T01:40:00+01:00", f"{SPRING}T03:30:00+02:00", "cron skips the 02:30 run on 2027-03-28"),
    ("@hourly", f"{SPRING}T01:10:00+01:00", f"{SPRING}T03:00:00+02:00", "cron skips the 02:00 run"),
    ("*/15 * * * *", f"{SPRING}T01:50:00+01:00", f"{SPRING}T03:00:00+02:00", "cron skips the 4 runs from 02:00 to 02:45"),
    ("30 * * * *", f"{FALL}T02:40:00+02:00", f"{FALL}T02:30:00+01:00", "cron starts it both times"),
    ("30 * * * *", f"{FALL}T02:10:00+02:00", f"{FALL}T02:30:00+02:00", "cron starts it both times"),
])
def test_next_run_across_a_clock_change_is_when_cron_really_starts_it(berlin, expr, after, expected, note):
    """`status` stepped through wall-clock days and read the answer in local time: a 02:30 job on
    the day the clock jumps from 02:00 to 03:00 was shown at 03:30 (cron runs it at 03:00,
    right after the jump), and on the night 02:30 comes twice, asked during the second 02:xx
    hour, it showed the first 02:30, already past (cron does not run it again). It now follows
    Vixie cron's rules (cron.c: fixed-time jobs skipped by the jump run once after it, repeated
    ones run once; jobs with a `*` minute or hour run only at wall times that happen)."""
    when, said = schedule.upcoming(expr, datetime.fromisoformat(after))
    assert when.isoformat() == expected
    assert (said is None) if note is None else (note in said)


def test_status_says_when_cron_really_runs_a_job_the_clock_change_skips(berlin, tmp_path, monkeypatch):
    from recommender import isotime
    _crontab_for_status(tmp_path, monkeypatch, "30 2 * * *")
    old = isotime.set_clock(lambda: datetime(2027, 3, 27, 20, 0, tzinfo=timezone.utc))
    try:
        data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
        text = " ".join(_status(tmp_path).stdout.split())
        isotime.set_clock(lambda: datetime(2026, 10, 25, 1, 10, tzinfo=timezone.utc))  # 02:10 CET, the second time
        second = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
    finally:
        isotime.set_clock(old)
    assert data["next_run"] == f"{SPRING}T03:00:00+02:00"
    assert "right after the jump" in data["next_run_note"]
    assert (f"schedule: 30 2 * * *, next run {SPRING} 03:00 CEST (02:30 does not exist that day (the clock "
            "jumps forward): cron starts it right after the jump)") in text
    assert second["next_run"] == "2026-10-26T02:30:00+01:00" and second["next_run_note"] is None


def test_status_shows_the_installed_schedule_and_its_next_run(tmp_path, monkeypatch):
    """`recommend status` said nothing of the schedule: "is my nightly run set up?" needed
    `recommend schedule show` too. It now shows our line's expression and next run (local time)."""
    tab = tmp_path / "tab"
    monkeypatch.setenv(schedule.TEST_TABFILE_VAR, str(tab))
    exe = tmp_path / "recommend"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    tab.write_text(FOREIGN)
    schedule.install("30 7 * * mon-fri", exe, None, None, tabfile=tab)
    result = _status(tmp_path)
    assert result.exit_code == 0
    assert "schedule: 30 7 * * mon-fri, next run 20" in result.stdout and "warning" not in result.stdout
    data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
    assert data["state"] == "installed" and data["cron"] == "30 7 * * mon-fri" and data["warnings"] == []
    when = datetime.fromisoformat(data["next_run"])
    assert when > datetime.now(timezone.utc) and (when.hour, when.minute) == (7, 30) and when.weekday() < 5
    assert f"next run {when.strftime('%Y-%m-%d %H:%M')}" in result.stdout


@pytest.mark.parametrize("content, shown", [
    (None, "not installed"),
    ("", "not installed"),
    (FOREIGN, "not installed"),
    (f"# 0 7 * * * /x/recommend build-playlist # {schedule.MARKER}\n", "0 7 * * * (commented out: never runs)"),
])
def test_status_without_an_active_schedule_says_so(tmp_path, monkeypatch, content, shown):
    tab = tmp_path / "tab"
    if content is not None:
        tab.write_text(content)
    monkeypatch.setenv(schedule.TEST_TABFILE_VAR, str(tab))
    result = _status(tmp_path)
    assert result.exit_code == 0 and f"schedule: {shown}" in result.stdout
    assert json.loads(_status(tmp_path, "--json").stdout)["schedule"]["next_run"] is None


def test_status_shows_the_expression_as_cron_reads_it(tmp_path):
    # python-crontab writes 0-23 as `*`, which cron reads otherwise: a `*` hour runs twice in an
    # hour the clock repeats, a 0-23 one is a fixed time and runs once
    tab = tmp_path / "tab"
    schedule.install("15 0-23 * * *", EXE, None, None, tabfile=tab)
    assert schedule.status(tab)["cron"] == "15 0-23 * * *"


def test_a_line_of_ours_edited_to_reboot_has_no_next_run_and_no_missed_runs(tmp_path, monkeypatch, runs_day):
    """Our line edited by hand (`crontab -e`) to start at each boot was read as "* * * * *": status said
    its next run was the coming minute and warned that cron had missed a run every minute since the last."""
    tab, exe = _crontab_for_status(tmp_path, monkeypatch)
    tab.write_text(f"@reboot RECOMMENDER_TRIGGER=schedule {exe} build-playlist --quiet --no-input # recommend-managed\n")
    _runs(tmp_path / "cache", _scheduled("2026-11-30T08:00:00+00:00", 0))
    found = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
    assert (found["state"], found["cron"], found["next_run"], found["warnings"]) == ("installed", "@reboot", None, [])
    assert "schedule: @reboot (cron starts it when the computer starts)" in _status(tmp_path).stdout


def test_status_without_a_crontab_program_says_unknown(tmp_path, monkeypatch):
    monkeypatch.delenv(schedule.TEST_TABFILE_VAR)
    monkeypatch.setenv("PATH", str(tmp_path))  # a container, CI: no `crontab`
    result = _status(tmp_path)
    assert result.exit_code == 0 and "schedule: unknown (no crontab program)" in result.stdout
    data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
    assert data["state"] == "unknown" and data["message"] == "no crontab program"


def test_status_with_a_crontab_that_cannot_be_read_says_unknown(tmp_path, monkeypatch):
    monkeypatch.delenv(schedule.TEST_TABFILE_VAR)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "crontab").write_text("#!/bin/sh\necho 'crontab: permission denied' >&2\nexit 1\n")
    (bindir / "crontab").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    result = _status(tmp_path)
    assert result.exit_code == 0
    assert "schedule: unknown (`crontab -l` failed: crontab: permission denied)" in " ".join(result.stdout.split())
    monkeypatch.setenv(schedule.TEST_TABFILE_VAR, str(tmp_path))  # a folder: not readable as a file
    result = _status(tmp_path, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["schedule"]["state"] == "unknown"


def _runs(cache: Path, *runs: dict) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in runs))


@pytest.fixture
def runs_day():
    """`status` read on 2026-11-30 at 12:00 UTC, the day the tests' runs were recorded: from a
    later day, the daily line's missed runs are warned about too (``status.missed_runs``)."""
    from recommender import isotime
    old = isotime.set_clock(lambda: datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc))
    yield
    isotime.set_clock(old)


def test_status_warns_when_the_scheduled_program_is_gone_or_the_last_run_failed(tmp_path, monkeypatch, runs_day):
    """The two ways a nightly run silently stops: the program the line runs is gone (cron fails
    before the tool starts, nothing is recorded), or the last build-playlist run failed (a
    refused login, exit 3). `status` now warns of both; a later success (not a dry run) clears it."""
    tab = tmp_path / "tab"
    monkeypatch.setenv(schedule.TEST_TABFILE_VAR, str(tab))
    exe = tmp_path / "gone" / "recommend"
    schedule.install("0 7 * * *", exe, None, None, tabfile=tab)
    failed = {"when": "2026-11-29T07:00:00+00:00", "command": "build-playlist", "exit_code": 3,
              "message": "not logged in: run `recommend auth`"}
    _runs(tmp_path / "cache", failed, {"when": "2026-11-29T09:00:00+00:00", "command": "build-playlist",
                                       "exit_code": 0, "dry_run": True},
          {"when": "2026-11-29T10:00:00+00:00", "command": "refresh", "exit_code": 0})
    text = " ".join(_status(tmp_path).stdout.split())
    assert f"warning: {exe} no longer exists" in text and "recommend schedule install" in text
    assert "warning: the last build-playlist run failed: 2026-11-29 07:00 UTC build-playlist exit 3" in text
    warnings = json.loads(_status(tmp_path, "--json").stdout)["schedule"]["warnings"]
    assert len(warnings) == 2
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    _runs(tmp_path / "cache", failed, {"when": "2026-11-30T07:00:00+00:00", "command": "build-playlist", "exit_code": 0})
    assert "warning" not in _status(tmp_path).stdout


def _scheduled(when: str, code: int, trigger: str | None = "schedule") -> dict:
    run = {"when": when, "command": "build-playlist", "exit_code": code}
    return run if trigger is None else {**run, "trigger": trigger}


def test_status_takes_the_last_scheduled_run_not_one_by_hand(tmp_path, monkeypatch, runs_day):
    """runs.jsonl did not mark cron's runs, so `status` took the last build-playlist for the
    scheduled one: a run by hand after a failed night hid the failure, and a failed run by hand
    after a good night warned that the schedule failed. Runs are marked now (``trigger``), and
    `status` uses the last one the schedule started; records from before the mark count as before."""
    _crontab_for_status(tmp_path, monkeypatch, "0 7 * * *")
    cache = tmp_path / "cache"
    _runs(cache, _scheduled("2026-11-29T07:00:00+00:00", 3), _scheduled("2026-11-29T09:00:00+00:00", 0, "manual"))
    data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
    assert data["marked"] is True and data["last_run"]["when"] == "2026-11-29T07:00:00+00:00"
    assert data["warnings"] == ["the last scheduled run failed: 2026-11-29 07:00 UTC build-playlist (scheduled) exit 3"]
    text = " ".join(_status(tmp_path).stdout.split())
    assert "warning: the last scheduled run failed: 2026-11-29 07:00 UTC build-playlist (scheduled) exit 3" in text
    assert "last scheduled run:" not in text  # the warning says it
    _runs(cache, _scheduled("2026-11-29T07:00:00+00:00", 0), _scheduled("2026-11-29T09:00:00+00:00", 3, "manual"))
    data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
    assert data["warnings"] == [] and data["last_run"]["exit_code"] == 0
    text = " ".join(_status(tmp_path).stdout.split())
    assert "last scheduled run: 2026-11-29 07:00 UTC build-playlist (scheduled) exit 0" in text and "warning" not in text
    # written before the mark existed: the last build-playlist, as before
    _runs(cache, _scheduled("2026-11-29T07:00:00+00:00", 3, None), _scheduled("2026-11-29T09:00:00+00:00", 0, "manual"))
    data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
    assert data["last_run"]["when"] == "2026-11-29T07:00:00+00:00"
    assert data["warnings"] == ["the last build-playlist run failed: 2026-11-29 07:00 UTC build-playlist exit 3"]


def test_status_without_a_crontab_line_still_reports_a_timers_failed_scheduled_run(tmp_path, monkeypatch):
    """A systemd user timer made from `schedule install --print` starts marked runs but puts no
    line in the crontab: `status` said "not installed" and kept quiet about its failed night.
    Only recent marked runs count so: after `schedule remove`, an old failed night is no
    warning for ever."""
    from recommender import isotime
    _crontab_for_status(tmp_path, monkeypatch)
    _runs(tmp_path / "cache", _scheduled("2026-11-29T07:00:00+00:00", 5), _scheduled("2026-11-29T09:00:00+00:00", 0, "manual"))
    old = isotime.set_clock(lambda: datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc))
    try:
        data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
        assert data["state"] == "not installed" and data["last_run"]["when"] == "2026-11-29T07:00:00+00:00"
        assert data["warnings"] == ["the last scheduled run failed: 2026-11-29 07:00 UTC build-playlist (scheduled) exit 5"]
        text = " ".join(_status(tmp_path).stdout.split())
        assert "no crontab line of ours" in text and "systemd timer" in text and "warning: the last scheduled run failed" in text
        isotime.set_clock(lambda: datetime(2026, 12, 8, 12, 0, tzinfo=timezone.utc))  # 9 days on: a line removed
        data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
        assert data["last_run"] is None and data["warnings"] == []
        assert "not installed (`recommend schedule install` sets one up)" in " ".join(_status(tmp_path).stdout.split())
        isotime.set_clock(lambda: datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc))
        _runs(tmp_path / "cache", _scheduled("2026-11-29T09:00:00+00:00", 3, "manual"))  # by hand only: as before
        data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
        assert data["last_run"] is None and data["warnings"] == []
    finally:
        isotime.set_clock(old)


def test_a_line_an_older_version_installed_is_still_ours_and_every_run_counts(tmp_path, monkeypatch):
    """A line installed before runs were marked has no RECOMMENDER_TRIGGER: `schedule show`,
    `remove` and `status` still know it as ours. Its runs are recorded as "manual", so `status`
    counts every build-playlist for it (the old rule: a failed night is never hidden) and says to
    install the line again; `schedule install` replaces it in place."""
    from typer.testing import CliRunner

    from recommender.cli import app
    tab, exe = _crontab_for_status(tmp_path, monkeypatch)
    old = f"0 7 * * * RECOMMENDER_CACHE_DIR=/c {exe} build-playlist --quiet --no-input # {schedule.MARKER}\n"
    tab.write_text(FOREIGN + old)
    assert schedule.show(tab) == old.strip()
    assert CliRunner().invoke(app, ["schedule", "show", "--tabfile", str(tab)]).stdout.strip() == old.strip()
    _runs(tmp_path / "cache", _scheduled("2026-11-29T07:00:00+00:00", 3, "manual"))
    data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
    assert data["state"] == "installed" and data["marked"] is False and data["last_run"]["exit_code"] == 3
    assert "installed by an older version" in data["warnings"][0] and "schedule install" in data["warnings"][0]
    assert data["warnings"][1].startswith("the last build-playlist run failed")
    line = schedule.install("0 7 * * *", exe, None, "/c", tabfile=tab).line
    assert tab.read_text() == FOREIGN + line + "\n" and "RECOMMENDER_TRIGGER=schedule" in line
    assert schedule.remove(tab) and tab.read_text() == FOREIGN


# ----- CRON_TZ -----------------------------------------------------------------------------------
@pytest.fixture
def utc_here():
    """This computer's time zone is UTC for the test."""
    yield from _local_zone("UTC")


def _status_at(tmp_path, when: datetime, *args) -> str:
    from recommender import isotime
    old = isotime.set_clock(lambda: when)
    try:
        return _status(tmp_path, *args).stdout
    finally:
        isotime.set_clock(old)


@pytest.mark.parametrize("above, zone", [
    ("CRON_TZ=Europe/Berlin\n", "Europe/Berlin"),
    ('  CRON_TZ = "Europe/Berlin"\n', "Europe/Berlin"),  # spaces and quotes, as cron reads them
    ("CRON_TZ=Asia/Tokyo\n0 1 * * * /bin/true\nCRON_TZ=Europe/Berlin\n", "Europe/Berlin"),  # the last one above
    ("CRON_TZ=Europe/Berlin\n#CRON_TZ=Asia/Tokyo\nTZ=Asia/Tokyo\n", "Europe/Berlin"),  # a comment; TZ: for the command only
    ("CRON_TZ=:Europe/Berlin\n", "Europe/Berlin"),  # glibc's form
])
def test_status_reads_the_next_run_in_the_zone_a_cron_tz_line_sets(utc_here, tmp_path, monkeypatch, above, zone):
    """A crontab may set CRON_TZ=Europe/Berlin before our line (cronie then reads its times in
    Berlin time); `status` computed the next run in the computer's zone: a 07:00 job on a UTC
    machine was shown at 07:00 UTC, an hour after cronie starts it. It now reads the times in the
    zone of the last CRON_TZ line above ours, and says when a cron that ignores CRON_TZ (Debian's
    and Ubuntu's) would start it instead."""
    tab, exe = _crontab_for_status(tmp_path, monkeypatch)
    line = schedule.cron_line("0 7 * * *", exe, None, None)
    tab.write_text(f"{above}{line}\nCRON_TZ=America/New_York\n")  # below ours: not for ours
    now = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)
    data = json.loads(_status_at(tmp_path, now, "--json"))["schedule"]
    assert data["next_run"] == "2026-12-01T07:00:00+01:00"  # before: 07:00 UTC
    assert data["cron_tz"] == zone and data["warnings"] == []
    assert "Debian's and Ubuntu's cron ignore CRON_TZ and would start it at 2026-12-01 07:00 UTC" in data["next_run_note"]
    text = " ".join(_status_at(tmp_path, now).split())
    assert "schedule: 0 7 * * *, next run 2026-12-01 07:00 CET (CRON_TZ=Europe/Berlin; 2026-12-01 06:00 UTC here)" in text


@pytest.mark.parametrize("above, warned", [
    ("CRON_TZ=Europe/Berln\n", True),  # a typo
    ("CRON_TZ=Europe\n", True),  # a folder of zones
    ("CRON_TZ=Europe/Berlin\nCRON_TZ=\n", False),  # emptied again: the computer's zone
    ("", False),
])
def test_a_cron_tz_naming_no_zone_is_said_in_one_line_and_local_time_shown(utc_here, tmp_path, monkeypatch,
                                                                           above, warned):
    tab, exe = _crontab_for_status(tmp_path, monkeypatch)
    tab.write_text(f"{above}{schedule.cron_line('0 7 * * *', exe, None, None)}\n")
    now = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)
    data = json.loads(_status_at(tmp_path, now, "--json"))["schedule"]
    assert data["next_run"] == "2026-12-01T07:00:00+00:00" and data["next_run_note"] is None
    if warned:
        assert len(data["warnings"]) == 1 and "names no time zone this computer knows" in data["warnings"][0]
        assert data["warnings"][0].startswith(f"{above.strip()} above our crontab line")
        text = _status_at(tmp_path, now)
        assert f"warning: {above.strip()} above our crontab line" in " ".join(text.split())
    else:
        assert data["warnings"] == []
    assert data["cron_tz"] is None


def test_with_cron_tz_a_time_that_zone_skips_or_repeats_is_not_run_or_run_twice(utc_here):
    """cronie compares each minute's time in the CRON_TZ zone (no catching up there): on the night
    Berlin jumps from 02:00 to 03:00 a 02:30 job does not run, and the night 02:30 comes twice it
    runs twice (cron.c's find_jobs: "jobs missed or run twice during the DST change in the job
    timezone")."""
    berlin = ZoneInfo("Europe/Berlin")
    when, note = schedule.upcoming("30 2 * * *", datetime(2027, 3, 27, 20, 0, tzinfo=timezone.utc), berlin)
    assert when.isoformat() == "2027-03-29T02:30:00+02:00" and "cron skips the 02:30 run on 2027-03-28" in note
    when, note = schedule.upcoming("30 2 * * *", datetime(2026, 10, 25, 0, 40, tzinfo=timezone.utc), berlin)
    assert when.isoformat() == "2026-10-25T02:30:00+01:00" and "cron starts it both times" in note


# ----- a systemd user timer --------------------------------------------------------------------
def _install_units(exe: Path, expr: str = "0 7 * * *", enable: bool = True) -> Path:
    """The units `schedule install --print` prints, put where it says (and enabled, as
    `systemctl --user enable` does: a link in timers.target.wants); the unit folder."""
    folder = Path(os.environ["XDG_CONFIG_HOME"]) / "systemd" / "user"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in schedule.systemd_units(expr, exe, None, None).items():
        (folder / name).write_text(text)
    if enable:
        (folder / "timers.target.wants").mkdir(exist_ok=True)
        (folder / "timers.target.wants" / "recommend.timer").symlink_to(folder / "recommend.timer")
    return folder


def test_status_shows_the_systemd_timer_made_from_print(tmp_path, monkeypatch):
    """A user who installed the systemd user timer `schedule install --print` prints (no crontab
    line) saw "schedule: not installed". `status` now reads our timer from the unit folder
    (`$XDG_CONFIG_HOME/systemd/user`, else ~/.config/systemd/user; no systemctl) and shows its
    OnCalendar, and warns as for a crontab line: the program gone, the timer not enabled."""
    _, exe = _crontab_for_status(tmp_path, monkeypatch)
    folder = _install_units(exe)
    text = " ".join(_status(tmp_path).stdout.split())
    assert f"schedule: systemd user timer {folder / 'recommend.timer'}, OnCalendar=*-*-* 07:00:00" in text
    assert "not installed" not in text and "warning" not in text
    data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
    assert (data["state"], data["source"], data["cron"], data["marked"]) == ("installed", "systemd", "0 7 * * *", True)
    assert data["timer"] == {"path": str(folder / "recommend.timer"), "on_calendar": "*-*-* 07:00:00", "enabled": True,
                             "cron": "0 7 * * *", "marked": True, "missing_program": None, "missing_config": None}
    assert data["next_run"] is None and data["warnings"] == []
    (folder / "timers.target.wants" / "recommend.timer").unlink()  # `systemctl --user disable`
    exe.unlink()
    warnings = json.loads(_status(tmp_path, "--json").stdout)["schedule"]["warnings"]
    assert "recommend.timer is not enabled" in warnings[0] and "systemctl --user enable --now recommend.timer" in warnings[0]
    assert f"{exe} no longer exists" in warnings[1]


def test_the_timer_status_reads_the_service_as_systemd_does(tmp_path):
    units = tmp_path / "units"
    units.mkdir()
    exe = _script(tmp_path / "bin")
    for name, text in schedule.systemd_units("0 7 * * *", exe, None, tmp_path / "cache").items():
        (units / name).write_text(text)
    service = units / "recommend.service"
    ours = service.read_text()
    assert schedule.timer_status(units)["marked"] is True
    # a setting you added below ExecStart= is not the program it runs
    service.write_text(ours + "Nice=10\n")
    exe.unlink()
    assert schedule.timer_status(units)["missing_program"] == str(exe)
    # a unit of an older version sets other variables but does not mark its runs
    older = "".join(line for line in ours.splitlines(keepends=True) if "RECOMMENDER_TRIGGER" not in line)
    assert "\nEnvironment=" in older
    service.write_text(older)
    assert schedule.timer_status(units)["marked"] is False


def test_a_schedule_whose_config_file_is_gone_is_warned_about(tmp_path, monkeypatch):
    """The checkout deleted after `recommend config migrate` (its line never installed again):
    every night the line's --config named a file that was gone, the run stopped with exit 2 and
    was recorded in the deleted checkout's cache/ (made again for it), and `recommend status`
    and `schedule show` said nothing (a line of this version marks its runs: no other warning)."""
    from typer.testing import CliRunner

    from recommender.cli import app
    tab, exe = _crontab_for_status(tmp_path, monkeypatch)
    gone = tmp_path / "checkout" / "config" / "user.yaml"
    schedule.install("0 7 * * *", exe, gone, tmp_path / "checkout" / "cache", tabfile=tab)
    said = f"the scheduled run's config file {gone} no longer exists"
    warnings = json.loads(_status(tmp_path, "--json").stdout)["schedule"]["warnings"]
    assert len(warnings) == 1 and said in warnings[0] and "`recommend schedule install` again" in warnings[0]
    shown = CliRunner().invoke(app, ["schedule", "show", "--tabfile", str(tab)])
    assert f"warning: {said}" in shown.stderr
    gone.parent.mkdir(parents=True)
    gone.write_text("")
    assert json.loads(_status(tmp_path, "--json").stdout)["schedule"]["warnings"] == []
    tab.write_text("")  # the same for the systemd unit `--print` gave
    folder = Path(os.environ["XDG_CONFIG_HOME"]) / "systemd" / "user"
    folder.mkdir(parents=True)
    for name, text in schedule.systemd_units("0 7 * * *", exe, tmp_path / "elsewhere.yaml", None).items():
        (folder / name).write_text(text)
    (folder / "timers.target.wants").mkdir()
    (folder / "timers.target.wants" / "recommend.timer").symlink_to(folder / "recommend.timer")
    data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
    assert data["source"] == "systemd" and data["timer"]["missing_config"] == str(tmp_path / "elsewhere.yaml")
    assert [w for w in data["warnings"] if "elsewhere.yaml no longer exists" in w]


def test_a_units_config_and_program_holding_a_dollar_or_a_percent_are_found_where_they_are(tmp_path, monkeypatch):
    """The unit writes "$" as "$$" (and "%" as "%%"), which the config's path kept: a --config
    holding a "$" was said to be gone, every run to stop with exit 2."""
    folder = tmp_path / "a $b %c"
    config, exe = folder / "config.yaml", folder / "recommend"
    folder.mkdir()
    config.write_text("")
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    units = Path(os.environ["XDG_CONFIG_HOME"]) / "systemd" / "user"
    units.mkdir(parents=True)
    for name, text in schedule.systemd_units("0 7 * * *", exe, config, None).items():
        (units / name).write_text(text)
    assert "$$b %%c" in (units / "recommend.service").read_text()
    timer = schedule.timer_status()
    assert (timer["missing_config"], timer["missing_program"]) == (None, None)


def test_a_timer_and_a_crontab_line_both_running_are_two_schedules(tmp_path, monkeypatch):
    tab, exe = _crontab_for_status(tmp_path, monkeypatch, "0 7 * * *")
    _install_units(exe, "30 6 * * *")
    data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
    assert data["source"] == "crontab" and data["cron"] == "0 7 * * *" and data["timer"]["on_calendar"] == "*-*-* 06:30:00"
    assert len(data["warnings"]) == 1 and "two schedules" in data["warnings"][0]
    tab.write_text("# " + tab.read_text())  # our line commented out: the timer is the schedule
    data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
    assert data["source"] == "systemd" and data["cron"] == "30 6 * * *" and data["warnings"] == []


def test_installing_the_crontab_line_beside_an_enabled_timer_says_there_are_two_schedules(tmp_path, monkeypatch,
                                                                                          fake_crontab):
    """A user with a systemd timer made from an older version's `--print`, told to run
    `recommend schedule install` again, got a crontab line beside it and only "installed: ...":
    two schedules, each night's build run twice, said only by a later `recommend status`."""
    import sys

    from typer.testing import CliRunner

    from recommender.cli import app
    exe = _script(tmp_path / "exe")
    folder = _install_units(exe)
    monkeypatch.setattr(sys, "argv", [str(exe), "schedule", "install"])
    (tmp_path / "u.yaml").write_text("")
    result = CliRunner().invoke(app, ["schedule", "install", "--config", str(tmp_path / "u.yaml")],
                                env={"RECOMMENDER_CACHE_DIR": str(tmp_path / "cache")})
    assert result.exit_code == 0, result.stderr
    assert (f"note: the systemd timer {folder / 'recommend.timer'} starts build-playlist too: two schedules (keep one: "
            "`recommend schedule remove`, or `systemctl --user disable --now recommend.timer`)") in " ".join(result.stderr.split())
    (folder / "timers.target.wants" / "recommend.timer").unlink()  # disabled: nothing to say
    again = CliRunner().invoke(app, ["schedule", "install", "--config", str(tmp_path / "u.yaml")],
                               env={"RECOMMENDER_CACHE_DIR": str(tmp_path / "cache")})
    assert again.exit_code == 0 and "two schedules" not in again.stderr


def test_print_names_the_unit_folder_status_reads(tmp_path, monkeypatch):
    """`--print` said ~/.config/systemd/user whatever XDG_CONFIG_HOME said; systemd (and
    `status`) look in $XDG_CONFIG_HOME/systemd/user when it is set."""
    from typer.testing import CliRunner

    from recommender.cli import app
    result = CliRunner().invoke(app, ["schedule", "install", "--print"],
                                env={"RECOMMENDER_CACHE_DIR": str(tmp_path / "cache")})
    assert result.exit_code == 0, result.stderr
    assert f"# {os.environ['XDG_CONFIG_HOME']}/systemd/user/recommend.timer" in result.stdout
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert schedule.unit_dir() == Path.home() / ".config" / "systemd" / "user"
    assert schedule.unit_dir({"XDG_CONFIG_HOME": "relative/ignored"}) == Path.home() / ".config" / "systemd" / "user"


def test_install_below_a_users_cron_tz_line_says_that_zone_applies_to_ours(tmp_path, monkeypatch):
    """`schedule install` appends our line, so a CRON_TZ line the user wrote for their own jobs
    (cronie) silently applied to it too: "0 7 * * *" ran at 07:00 in that zone. It says so now."""
    import sys

    from typer.testing import CliRunner

    from recommender.cli import app
    monkeypatch.setattr(sys, "argv", [str(_script(tmp_path / "bin")), "schedule", "install"])
    tab = tmp_path / "tab"
    (tmp_path / "u.yaml").write_text("")
    env = {"RECOMMENDER_CACHE_DIR": str(tmp_path / "cache")}
    args = ["schedule", "install", "--at", "0 7 * * *", "--tabfile", str(tab), "--config", str(tmp_path / "u.yaml")]
    tab.write_text("CRON_TZ=Asia/Tokyo\n0 9 * * * /usr/bin/backup\n")
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.stderr
    assert "note: the line CRON_TZ=Asia/Tokyo above ours in the crontab makes cronie read 0 7 * * * in that zone" in (
        " ".join(result.stderr.split()))
    tab.write_text("0 9 * * * /usr/bin/backup\n")
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0 and "CRON_TZ" not in result.stderr
    # a CRON_TZ naming no zone: cronie reads our times as UTC, not "in that zone" (as status says)
    tab.write_text("CRON_TZ=Mars/Olympus\n0 9 * * * /usr/bin/backup\n")
    result = CliRunner().invoke(app, args, env=env)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 0, result.stderr
    assert "CRON_TZ=Mars/Olympus above ours in the crontab names no time zone this computer knows" in said
    assert "cronie reads 0 7 * * * as UTC" in said and "in that zone" not in said


def test_schedule_show_and_remove_name_the_systemd_timer(tmp_path, monkeypatch):
    """With the timer `--print` made and no crontab line, `schedule show` said "no schedule
    installed" and `schedule remove` "no schedule was installed" while the timer kept running."""
    from typer.testing import CliRunner

    from recommender.cli import app
    tab, exe = _crontab_for_status(tmp_path, monkeypatch)
    folder = _install_units(exe)
    shown = CliRunner().invoke(app, ["schedule", "show", "--tabfile", str(tab)])
    assert shown.exit_code == 0 and "no schedule installed" not in shown.stdout
    assert f"systemd user timer: {folder / 'recommend.timer'} (OnCalendar=*-*-* 07:00:00)" in shown.stdout
    removed = CliRunner().invoke(app, ["schedule", "remove", "--tabfile", str(tab)])
    assert removed.exit_code == 0 and "no schedule was installed" not in removed.stdout
    assert "systemctl --user disable --now recommend.timer" in removed.stdout
    assert (folder / "recommend.timer").exists()  # not ours to remove


def test_a_unit_an_older_version_printed_is_told_to_be_replaced_not_the_crontab_line(tmp_path, monkeypatch):
    """A recommend.service printed before runs were marked has no RECOMMENDER_TRIGGER: every
    build-playlist counts for it, as for an old crontab line, but the warning said "your crontab
    line was installed by an older version ... run `recommend schedule install` again" (which
    would add a crontab line beside the timer: two schedules)."""
    _, exe = _crontab_for_status(tmp_path, monkeypatch)
    folder = _install_units(exe)
    service = folder / "recommend.service"
    service.write_text("".join(line for line in service.read_text().splitlines(keepends=True)
                               if "RECOMMENDER_TRIGGER" not in line))
    _runs(tmp_path / "cache", _scheduled("2026-11-29T07:00:00+00:00", 3, "manual"))
    data = json.loads(_status(tmp_path, "--json").stdout)["schedule"]
    assert data["marked"] is False and data["last_run"]["exit_code"] == 3
    assert data["warnings"][0].startswith("your systemd unit recommend.service was made by an older version")
    assert "`recommend schedule install --print`" in data["warnings"][0] and "crontab" not in data["warnings"][0]


def test_schedule_show_and_remove_without_a_crontab_program_report_the_timer(tmp_path, monkeypatch):
    """On a machine without cron, the user installs the systemd timer `schedule install --print`
    prints. `schedule show` and `schedule remove` then exited 2 with "no `crontab` program found;
    run `recommend schedule install --print`...", advice already followed, while `status` showed
    the timer. Both now report it (exit 0); remove leaves it and says how to stop it."""
    from typer.testing import CliRunner

    from recommender.cli import app
    exe = _script(tmp_path / "exe")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `crontab`
    for args in (["schedule", "show"], ["schedule", "remove"]):  # no timer: the advice still stands
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and "schedule install --print" in result.stderr
    folder = _install_units(exe)
    shown = CliRunner().invoke(app, ["schedule", "show"])
    assert shown.exit_code == 0, shown.stderr
    assert f"systemd user timer: {folder / 'recommend.timer'} (OnCalendar=*-*-* 07:00:00)" in shown.stdout
    assert "no schedule installed" not in shown.stdout and "error" not in shown.stderr
    removed = CliRunner().invoke(app, ["schedule", "remove"])
    assert removed.exit_code == 0, removed.stderr
    text = " ".join(removed.stdout.split())
    assert text.startswith("no `crontab` program, so no crontab line; your systemd user timer")
    assert "`systemctl --user disable --now recommend.timer` stops it" in text
    assert (folder / "recommend.timer").exists()  # not ours to remove


def test_show_and_remove_work_while_the_config_file_is_broken(tmp_path):
    """A config edit that breaks the file makes every scheduled run fail, exit 2; `schedule
    remove` (step 1 of "Stop using it") and `schedule show` refused too, exit 2, on a file
    neither reads, so the line could not be taken out before the YAML was mended."""
    from typer.testing import CliRunner

    from recommender.cli import app
    from recommender.paths import CONFIG_ENV
    config = tmp_path / "user.yaml"
    config.write_text("blend:\n\tmax_tracks: 5\n")  # a tab: no YAML
    tab = tmp_path / "tab"
    line = schedule.install("0 6 * * *", EXE, config, CACHE, tabfile=tab).line
    runner = CliRunner()
    env = {CONFIG_ENV: str(config), "RECOMMENDER_CACHE_DIR": str(tmp_path / "data")}
    for where in ([], ["--config", str(config)]):
        shown = runner.invoke(app, ["schedule", "show", "--tabfile", str(tab), *where], env=env)
        assert shown.exit_code == 0 and line in shown.stdout, shown.stderr
    removed = runner.invoke(app, ["schedule", "remove", "--tabfile", str(tab)], env=env)
    assert removed.exit_code == 0 and "removed the schedule" in removed.stdout, removed.stderr
    assert line not in tab.read_text()
    assert runner.invoke(app, ["config", "show"], env=env).exit_code == 2  # a command that reads it still refuses


def test_a_scripts_python_that_is_gone_is_warned_about(tmp_path):
    """A Python upgrade took away the virtualenv's interpreter: the `recommend` script is still
    there, and cron's shell fails on its first line ("not found"), every night, unrecorded;
    neither `schedule show` nor `status` said so (they checked the script alone). pip writes
    a path too long or with spaces on the second line, after `#!/bin/sh`."""
    python = tmp_path / "py" / "python3"
    python.parent.mkdir()
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    spaced = tmp_path / "a venv" / "python3"
    spaced.parent.mkdir()
    spaced.write_text("#!/bin/sh\n")
    spaced.chmod(0o755)
    forms = {"direct": f"#!{python}\nimport sys\n", "pip's long form": f"#!/bin/sh\n'''exec' \"{spaced}\" \"$0\" \"$@\"\n' '''\n"}
    for form, text in forms.items():
        exe = tmp_path / f"recommend-{form.split()[0]}"
        exe.write_text(text)
        exe.chmod(0o755)
        assert schedule.missing_program([str(exe)]) is None, form
    python.unlink()
    spaced.unlink()
    for form in forms:
        exe = tmp_path / f"recommend-{form.split()[0]}"
        assert schedule.missing_program([str(exe)]) == exe, form
    lost = tmp_path / "recommend-copied"  # copied without its modes: cron's shell says "Permission denied"
    lost.write_text(f"#!{python}\n")
    lost.chmod(0o644)
    folder = tmp_path / "recommend-folder"
    folder.mkdir()
    empty = tmp_path / "recommend-empty"  # no first line to read an interpreter from
    empty.write_text("")
    empty.chmod(0o755)
    assert [schedule.missing_program([str(p)]) for p in (lost, folder, empty)] == [lost, folder, None]
    env = tmp_path / "recommend-env"  # found on PATH when it runs: not ours to judge
    env.write_text("#!/usr/bin/env python3\n")
    env.chmod(0o755)
    assert schedule.missing_program([str(env)]) is None


def test_status_warns_when_cron_has_not_started_the_runs_it_was_due_to(tmp_path, monkeypatch):
    """Cron not running (a WSL or a container that never starts it), or the computer asleep at
    the line's time: no scheduled run for two weeks, and `status` showed the line, its next run
    and the last scheduled run, 14 days old, as if all was well. It warns once two starts the
    line was due to make are over an hour past with no scheduled run, counted from the last one
    or from `schedule install` when that came later; a line installed since, not yet due twice, is
    not warned about."""
    from typer.testing import CliRunner

    from recommender.cli import app
    tab, exe = _crontab_for_status(tmp_path, monkeypatch)
    cache = tmp_path / "cache"
    env = {"RECOMMENDER_CACHE_DIR": str(cache)}
    clock = _status_at
    _runs(cache, _scheduled("2026-11-20T06:30:05+00:00", 0))
    monkeypatch.setattr(schedule, "default_executable", lambda: exe)
    from recommender import isotime
    old = isotime.set_clock(lambda: datetime(2026, 11, 19, 9, 0, tzinfo=timezone.utc))
    try:
        installed = CliRunner().invoke(app, ["schedule", "install", "--at", "30 6 * * *", "--tabfile", str(tab)], env=env)
    finally:
        isotime.set_clock(old)
    assert installed.exit_code == 0, installed.stderr
    said = " ".join(clock(tmp_path, datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)).split())
    assert ("warning: no scheduled run since 2026-11-20 06:30 UTC, though cron was due to start one at "
            "2026-11-21 06:30 UTC and at 2026-11-22 06:30 UTC: is cron running") in said, said
    # one start missed (a night the laptop slept) is not yet a warning; two, an hour past the second, are
    assert "no scheduled run" not in clock(tmp_path, datetime(2026, 11, 22, 7, 29, tzinfo=timezone.utc))
    assert "no scheduled run" in clock(tmp_path, datetime(2026, 11, 22, 7, 31, tzinfo=timezone.utc))
    # installed again since (the line changed): counted from then, not from the old run
    old = isotime.set_clock(lambda: datetime(2026, 12, 3, 20, 0, tzinfo=timezone.utc))
    try:
        assert CliRunner().invoke(app, ["schedule", "install", "--at", "0 7 * * *", "--tabfile", str(tab)],
                                  env=env).exit_code == 0
    finally:
        isotime.set_clock(old)
    assert "no scheduled run" not in clock(tmp_path, datetime(2026, 12, 5, 7, 59, tzinfo=timezone.utc))
    assert ("no scheduled run since 2026-12-03 20:00 UTC, though cron was due to start one at 2026-12-04 07:00 UTC"
            in " ".join(clock(tmp_path, datetime(2026, 12, 5, 8, 1, tzinfo=timezone.utc)).split()))
    # installed and never started: the same warning, from the install
    _runs(cache)
    assert "no scheduled run since 2026-12-03 20:00 UTC" in " ".join(
        clock(tmp_path, datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)).split())


def test_the_settings_install_writes_into_the_config_file_are_written_holding_the_run_lock(tmp_path, monkeypatch, tab):
    """`schedule install` wrote the settings of your environment into the config file without the
    run lock every other writer of it holds (a Save in `recommend web`, `tune --write`, a block): a
    `tune --write` between its read of the file and its write was written over, its weights lost."""
    import sys

    from typer.testing import CliRunner

    from recommender import configfile, jobs
    from recommender.cli import app
    from recommender.config import load_settings
    from recommender.errors import LockHeld
    monkeypatch.setattr(sys, "argv", [str(_script(tmp_path / "exe")), "schedule", "install"])
    config, cache = tmp_path / "u.yaml", tmp_path / "cache"
    config.write_text("# mine\nscorers:\n  year:\n    weight: 0.2\n")
    real_load, tune = configfile._load, []

    def load_then_tune(path):  # another process's `tune --write` right after install read the file
        out = real_load(path)
        if not tune:
            tune.append("asked")
            try:
                jobs.write_tuned_weights(load_settings(config, environ={}, overrides={"cache.dir": str(cache)}),
                                         {"year": 0.9}, path=config, by_tune=True)
                tune.append("written")
            except LockHeld:  # the lock's "another run holds the lock": tune --write says so, exit 6
                tune.append("refused")
        return out
    monkeypatch.setattr(configfile, "_load", load_then_tune)
    result = CliRunner().invoke(app, ["schedule", "install", "--at", "0 7 * * *", "--config", str(config),
                                      "--tabfile", str(tab)],
                                env={"RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_ID": "abc123"})
    assert result.exit_code == 0, result.stderr
    text = config.read_text()
    assert "client_id: abc123" in text  # the install's write
    assert tune[-1] == "refused" or "weight: 0.9" in text, text  # (before: tune's write said done, and lost)
    assert tune == ["asked", "refused"]  # the other write waits for the lock: nothing written is lost
    assert "weight: 0.2" in text
