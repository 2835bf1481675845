"""`recommend config show`, `path`, `init` and `migrate`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from ..safetext import cut
from .base import ConfigOpt, JsonOpt, _settings, command, config_app
from .output import _echo, _echo_labelled, _print_json


@command("show", parent=config_app, examples=("recommend config show", "recommend config show --json",
                                               "recommend config show --demo"))
def config_show_cmd(config: ConfigOpt = None, as_json: JsonOpt = False,
                    demo: Annotated[bool, typer.Option("--demo", help="The settings the --demo commands start "
                                                                      "from: these with the demo's own file (what "
                                                                      "`recommend web --demo` saved) on top (the "
                                                                      "stand-ins' addresses and client id are set as "
                                                                      "a demo runs).")] = False) -> None:
    """Print the merged configuration (secrets redacted)."""
    import yaml
    settings = _settings(config)
    layers = f"{settings.user_file or '(no user file)'} < environment < flags"
    if demo:
        from ..paths import DEMO_CONFIG, demo_dir, demo_settings
        demo_file = demo_dir(settings.cache_dir) / DEMO_CONFIG
        settings = demo_settings(settings)  # the demo's file on top of everything else (paths.demo_settings)
        layers += f" < {demo_file}{'' if demo_file.is_file() else ' (none saved yet)'}"
    data = settings.redacted()
    if as_json:
        _print_json(data)
    else:
        src = f"# defaults < {layers}\n"
        _echo(src + yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


@command("path", parent=config_app, examples=("recommend config path", "recommend config path --json"))
def config_path_cmd(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Where the defaults, your config file, the state (manifest, login, logs) and the cache live."""
    from .. import paths
    from ..runlog import log_path
    from ..spotify.auth import token_path
    settings = _settings(config)
    dirs = settings.data_dirs
    data = dirs.state
    info = {"defaults": str(paths.default_config_path()),
            "config": str(settings.user_file) if settings.user_file else None,
            "config_default_place": str(paths.user_config_file()),
            "data": str(data), "cache": str(dirs.cache), "demo": str(paths.demo_dir(data)),
            "log": str(log_path(data, settings.schedule.log_file)), "token": str(token_path(data))}
    if as_json:
        _print_json(info)
        return
    cfg = info["config"] or (f"none (`recommend config init` writes a starting one at {info['config_default_place']}; "
                             "--config or RECOMMENDER_CONFIG override)")
    cache = ("the same directory" if dirs.single else
             "library frames, open-data answers, search index: safe to delete, the next run re-pulls")
    _echo_labelled([f"defaults: {info['defaults']}", f"config:   {cfg}",
                    f"data:     {info['data']} (manifest, login token, run log, imported audio features, genres; "
                    f"RECOMMENDER_CACHE_DIR or cache.dir naming another directory than this one puts data and "
                    f"cache in that one)",
                    f"cache:    {info['cache']} ({cache})", f"demo:     {info['demo']}", f"log:      {info['log']}"])


@command("init", parent=config_app, writes=True,
         examples=("recommend config init", "recommend config init --client-id abc123",
                   "recommend config init --config ./my.yaml"))
def config_init_cmd(
    config: ConfigOpt = None,
    client_id: Annotated[Optional[str], typer.Option("--client-id", help="Your Spotify app's client id, written "
                                                                          "in place of the placeholder.")] = None,
) -> None:
    """Write a starting config file (the commented example) where `recommend config path` says, or
    at --config PATH; never over a file that exists."""
    import os
    from .. import paths
    from ..config import known_config_homes
    from ..store import atomic_write_text
    known_config_homes(config)  # ~nouser/c.yaml: one line, exit 2 (expanduser's RuntimeError was exit 1)
    target = Path(config or paths.config_env() or paths.user_config_file()).expanduser()
    real = Path(os.path.realpath(target))
    # a link to a file still to be made (a dotfiles folder's) is written through, to that file;
    # one going round in a loop is said as such by the read
    if target.exists() or (target.is_symlink() and real.is_symlink()):
        _settings(target)  # a file with a problem: that problem first (config.py's one line), as every command says it
        raise UsageError(f"{target} exists: edit it (nothing was written; `recommend config show` shows what it sets)")
    text = paths.example_config_path().read_text(encoding="utf-8")
    if client_id is not None:
        if not re.fullmatch(r"[0-9A-Za-z]{1,64}", client_id.strip()):
            raise UsageError(f"--client-id {cut(client_id, 40)!r} is no Spotify client id (letters and digits, "
                             "as the app's dashboard shows it)")
        text = text.replace('client_id: "your-client-id"', f'client_id: "{client_id.strip()}"', 1)
    atomic_write_text(target, text, chosen=True)  # (0600, in folders made 0700: a secret may be added to it)
    through = f" (through its link, to {real})" if target.is_symlink() else ""
    typer.echo(f"wrote {target}{through}" + ("" if client_id else "; replace its spotify.client_id placeholder with your "
                                    "app's client id (or set SPOTIPY_CLIENT_ID), then run `recommend auth`"))


@command("migrate", parent=config_app, examples=("recommend config migrate --dry-run", "recommend config migrate"))
def config_migrate_cmd(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would move; move nothing.")] = False,
) -> None:
    """Move a source checkout's config/user.yaml and cache/ to the standard places."""
    from .. import migrate, schedule
    m = migrate.migrate(dry_run=dry_run)
    if m.nothing:
        typer.echo("nothing to migrate: no checkout config/user.yaml or cache/ in use")
        return
    verb = "would" if dry_run else "did"
    if m.config:
        typer.echo(f"{verb} copy {m.config[0]} -> {m.config[1]}" + ("" if dry_run else " (the old file is no "
                                                                       "longer read)"))
    if m.cache:
        typer.echo(f"{verb} move {len(m.entries) - len(m.refetchable)} entries of {m.cache[0]} -> {m.cache[1]}")
        if m.refetchable:
            typer.echo(f"{verb} move {len(m.refetchable)} re-fetchable entries (library frames, open-data answers, "
                       f"search index) -> {m.cache_dest}")
    for line in schedule.still_naming([pair[0] for pair in (m.cache, m.config) if pair]):
        typer.echo(line)
