"""The command line: one thin adapter per command over the functions in ``jobs`` and friends.

This is the only package that prints, and the only place where a ``RecommenderError`` becomes
a one-line message and an exit code (see ``errors``). Options go after the subcommand and
work there for every command; the common ones (--config, --quiet, --no-input, --verbose,
--json) are also accepted before it, and any other option given there gets a hint.

The package: ``base`` (the Typer ``app``, the ``command`` decorator, ``main``), ``output`` (how
everything is printed), and one module per family of commands, each registering its own:
``account`` (auth, refresh, status), ``build`` (build-playlist), ``evaluation`` (evaluate,
tune), ``servers`` (standin, web), ``explore`` (search, playlists, similar), ``configure``
(config ...), ``schedule``, ``data`` (enrich, import), ``moods``.
"""

from . import account, build, configure, data, evaluation, explore, moods, schedule, servers
from .base import app, main

# each registers its commands with ``app`` when imported (`recommend -h` lists them in that order)
COMMAND_MODULES = (account, build, configure, data, evaluation, explore, moods, schedule, servers)

__all__ = ["app", "main"]
