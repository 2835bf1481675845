"""`recommend schedule install`, `show` and `remove`: the crontab line."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import UsageError
from ..safetext import visible
from .base import ConfigOpt, _settings, command, schedule_app
from .output import _echo, _echo_wrapped, _err, _note, _state


TabfileOpt = Annotated[Optional[Path], typer.Option("--tabfile", hidden=True,
                                                    help="Edit this crontab file instead of the user's crontab.")]


@command("install", parent=schedule_app, examples=('recommend schedule install --at "0 7 * * *"',
                                                     "recommend schedule install --print"))
def schedule_install_cmd(
    at: Annotated[Optional[str], typer.Option("--at", help='Cron expression, e.g. "0 7 * * *".')] = None,
    print_only: Annotated[bool, typer.Option("--print", help="Print the cron line and a systemd timer; "
                                                            "change nothing.")] = False,
    config: ConfigOpt = None, tabfile: TabfileOpt = None,
) -> None:
    """Add (or replace) our one crontab entry running `build-playlist --quiet --no-input`."""
    from .. import jobs, schedule
    from ..paths import home_short
    settings = _settings(config)
    expr = schedule.validate_cron(at) if at is not None else schedule.configured_cron(settings)
    exe = schedule.default_executable()
    cfg = (config or _state.config or settings.user_file)
    # `--config /dev/stdin` from a pipe (it said "/proc/123/fd/pipe:[456]: file not found"), a device
    if cfg and Path(cfg).exists() and not Path(cfg).is_file():
        raise UsageError(f"--config {cfg} is a pipe or a device, not a file, which a scheduled run cannot read: "
                         "save the settings to a file and give that")
    cfg = Path(cfg).resolve() if cfg else None
    # one directory (cache.dir, RECOMMENDER_CACHE_DIR, a checkout's cache/) is passed on the line;
    # the platform state and cache dirs are found again by the scheduled run itself
    cache = Path(settings.cache_dir).resolve() if settings.data_dirs.single else None
    before = None if print_only else schedule.show(tabfile)  # no crontab to write fails before the config is touched
    target = schedule.config_target(settings, cfg)
    with contextlib.ExitStack() as held:  # the run lock, from the config file's write until the line is in
        kept = None

        def lock() -> None:  # before the config file is written: a refused crontab puts it back as it was then
            nonlocal kept
            held.enter_context(jobs.writing(settings, "schedule install"))
            kept = schedule.file_bytes(target)
        cfg, written, notes = schedule.carry_settings(settings, cfg, cache, write=not print_only, lock=lock)
        carried, proxy_notes = schedule.proxy_environment()
        for note in notes + proxy_notes:
            _note(note)
        if written:
            _echo(f"wrote {', '.join(written)} to {cfg}: the scheduled run does not see your shell's environment")
        carried = {**schedule.xdg_environment(settings.data_dirs), **carried}
        given = f"the scheduled run is given your {', '.join(carried)} (cron and systemd do not see your shell's)"
        if carried and not print_only:
            _echo(given)
        if print_only:  # what was asked for, so printed with --quiet too (it printed nothing: a script's trap)
            def result(text: str) -> None:
                typer.echo(text, file=_state.stdout or sys.stdout)
            if carried:  # a comment of what is pasted (a bare line of it went into a crontab pasted whole)
                result(f"# {given}")
            result("# crontab line (crontab -e):")
            result(schedule.cron_line(expr, exe, cfg, cache, carried))
            for name, text in schedule.systemd_units(expr, exe, cfg, cache, carried).items():
                result(f"\n# {home_short(schedule.unit_dir() / name)}\n{text.rstrip()}")
            result("\n# then: systemctl --user daemon-reload && systemctl --user enable --now recommend.timer"
                       "\n# and, unless you stay logged in, let the timer run without a login session"
                       " (it also catches up a run missed while off or asleep: Persistent=true):"
                       '\n#   loginctl enable-linger "$USER"')
            return
        try:
            line, zone, _ = schedule.install(expr, exe, cfg, cache, tabfile=tabfile, env=carried)
        except BaseException:  # a refused crontab (or Ctrl-C) left the settings written into the config file
            if written:
                schedule.put_back(target, kept)
                _note(f"{visible(str(target))} is put back as it was")
            raise
    from ..status import note_installed
    note_installed(settings.cache_dir, line)  # `status` then tells a line cron never started
    typer.echo(f"installed: {line}")
    if schedule.is_paused(before):  # said: the line was commented out to pause the runs
        _note("our crontab line was commented out (the schedule paused); it runs again now: comment it out "
              "again (`crontab -e`) to pause it, or `recommend schedule remove`")
    timer = schedule.timer_status()
    if timer and timer["enabled"]:  # a timer made from an older `--print`, say: both would run
        _note(schedule.two_schedules(timer))
    if zone and zone.strip():  # the user's own CRON_TZ line now applies to ours too
        from ..tables import whole
        unknown = schedule.cron_zone(zone)[1] is not None  # cronie reads a name it does not know as UTC
        _note(f"the line CRON_TZ={visible(zone)} above ours in the crontab "
              + (f"names no time zone this computer knows, so cronie reads {whole(expr)} as UTC (Debian's and "
                 "Ubuntu's cron ignore it); correct it with `crontab -e`" if unknown else
                 f"makes cronie read {whole(expr)} in that zone (Debian's and Ubuntu's cron ignore it); "
                 "`recommend status` shows when it runs"))


@command("show", parent=schedule_app, examples=("recommend schedule show",), reads_config=False)
def schedule_show_cmd(tabfile: TabfileOpt = None) -> None:
    """Print our crontab entry, if any."""
    from .. import schedule
    timer = schedule.timer_status()
    line = _crontab_beside(timer, lambda: schedule.show(tabfile))
    if line or not timer:
        if line:
            _echo(line)  # a crontab line: whole, as it is in the crontab
        else:
            from ..tables import whole
            _echo_wrapped(f"no schedule installed (see {whole('`recommend schedule install --help`')})")
    if timer:
        _echo(f"systemd user timer: {timer['path']}" + (f" (OnCalendar={timer['on_calendar']})" if timer["on_calendar"] else ""))
    words = schedule.line_words(line) if line else []  # parsed once
    gone = schedule.missing_program(words)
    if gone:
        _err(f"warning: {schedule.program_gone(gone)}")
    config = schedule.missing_config(words)
    if config:
        _err(f"warning: {schedule.config_gone(config)}")


@command("remove", parent=schedule_app, examples=("recommend schedule remove",), reads_config=False)
def schedule_remove_cmd(tabfile: TabfileOpt = None) -> None:
    """Remove our crontab entry; every other line stays as it is."""
    from .. import schedule
    timer = schedule.timer_status()
    removed = _crontab_beside(timer, lambda: schedule.remove(tabfile))
    if timer:  # not ours to remove: the user installed it from `--print`
        crontab = {True: "removed the crontab line", False: "no crontab line of ours",
                   None: "no `crontab` program, so no crontab line"}[removed]
        typer.echo(f"{crontab}; your systemd user timer {timer['path']} stays: `systemctl --user disable --now "
                   f"{schedule.UNIT_NAME}.timer` stops it")
    else:
        typer.echo("removed the schedule" if removed else "no schedule was installed")


def _crontab_beside(timer: dict[str, Any] | None, call) -> Any:
    """``call()`` on the crontab; None when there is no `crontab` program but our systemd user
    timer is there (a machine without cron, where the timer `--print` made is the schedule),
    rather than the error advising `--print`, which the user followed."""
    from .. import schedule
    try:
        return call()
    except schedule.NoCrontabProgram:
        if timer is None:
            raise
        return None
