"""`recommend standin` and `web`: the local stand-ins and the local web app."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from .base import ConfigOpt, QuietNoJsonOpt, VerboseOpt, _logging, _settings, command
from .output import _err, _result, _say_unless_quiet


@command("standin", examples=("recommend standin --port 8765", "recommend standin --extended"))
def standin_cmd(
    port: Annotated[int, typer.Option("--port", min=0, max=65533, help="Port on 127.0.0.1; ListenBrainz and MusicBrainz take the next two (0: any free ports, as the export line names them).")] = 8765,
    extended: Annotated[bool, typer.Option("--extended", help="Extended-quota fields (popularity, genres, audio features).")] = False,
    account: Annotated[Optional[Path], typer.Option("--account", help="Account fixture JSON (default: the sample).")] = None,
) -> None:
    """Run the local stand-ins: Spotify, ListenBrainz + labs and MusicBrainz (offline trial, tests)."""
    from contextlib import ExitStack

    from ..standins.listenbrainz import open_data_standins
    from ..standins.server import ctrl_c_as_a_flag
    from ..standins.spotify import run_standin

    stack = ExitStack()
    lb, mb, prepare = stack.enter_context(open_data_standins(*((0, 0) if port == 0 else (port + 1, port + 2))))
    try:
        def ready(server) -> None:  # the export line alone on stdout (a script reads it); the rest on stderr
            _say_unless_quiet(f"Stand-ins on 127.0.0.1 (Ctrl-C to stop): Spotify {server.base_url}, ListenBrainz "
                 f"{lb.api_url}, labs {lb.labs_url}, MusicBrainz {mb.base_url}. Point the tool at them with the export line on standard output:")
            _result(f"export RECOMMENDER_SPOTIFY_API_URL={server.api_url} "
                  f"RECOMMENDER_SPOTIFY_ACCOUNTS_URL={server.accounts_url} SPOTIPY_CLIENT_ID=any "
                  f"RECOMMENDER_LISTENBRAINZ_API_URL={lb.api_url} RECOMMENDER_LISTENBRAINZ_LABS_URL={lb.labs_url} "
                  f"RECOMMENDER_MUSICBRAINZ_URL={mb.base_url}")
            _say_unless_quiet("then `recommend auth` logs in (auto-approved) and `recommend refresh` pulls "
                 + ("that account's library." if account else "the sample library."))
        run_standin(port=port, extended=extended, account_path=str(account) if account else None, ready=ready,
                    prepare=prepare)  # until Ctrl-C: a clean stop of the Spotify stand-in
    finally:
        with ctrl_c_as_a_flag():  # a second Ctrl-C while the open-data ones stop is no "interrupted"
            stack.close()


@command("web", examples=("recommend web --demo", "recommend web --port 8080 --no-browser"))
def web_cmd(config: ConfigOpt = None, quiet: QuietNoJsonOpt = False, verbose: VerboseOpt = False,
            demo: Annotated[bool, typer.Option("--demo", help="The sample library through the Spotify stand-in "
                                                              "(as build-playlist --demo).")] = False,
            port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0 = a free port).")] = 0,
            no_browser: Annotated[bool, typer.Option("--no-browser", help="Print the URL; do not open a browser.")] = False,
            ) -> None:
    """Local web app: next playlist, weights, discovery, taste map, moods, search, similar, runs (127.0.0.1 only)."""
    from ..web.server import ctrl_c_kept
    with ctrl_c_kept():  # from here on, a Ctrl-C that Python loses on the way still stops it (run_web looks)
        _web(config, quiet, verbose, demo, port, no_browser)


def _web(config, quiet: bool, verbose: bool, demo: bool, port: int, no_browser: bool) -> None:
    try:  # the app imports these only once it runs: an install without the extra failed as a bug
        import jinja2  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
        try:  # the forms' parser (every steer and Publish): without it each POST was a 500
            import python_multipart  # noqa: F401
        except ImportError:
            import multipart  # noqa: F401  (its name before 0.0.13)

        from ..web.server import run_web
    except ImportError as exc:
        from ..paths import install_hint
        hint = install_hint("web")
        missing = "python-multipart" if exc.name in ("multipart", "python_multipart") else exc.name
        raise UsageError(f"recommend web needs the 'web' extra ({missing} is missing): {hint}"
                         + (" (from a source checkout: pip install '.[web]')" if hint.startswith("pip ") else "")) from None
    settings = _settings(config)
    opened: list[str] = []

    def ready(url: str) -> None:
        print(url, file=sys.__stdout__, flush=True)  # first on stdout, even with --quiet (as Jupyter does)
        _say_unless_quiet("recommend web: open the URL above; it holds the secret token (Ctrl-C to stop)")
        _logging(settings, quiet, verbose, demo)  # after the URL: the log's set-up imports pandas
        if not no_browser:
            from ..web.server import open_browser
            opened.append(url)
            open_browser(url, settings.cache_dir, say=_err)  # beside the server: a text browser waits for it
    try:
        run_web(settings, demo=demo, port=port, ready=ready)
    finally:
        if opened:  # the browser's start page holds a token that is dead now
            from ..web.server import remove_browser_page
            remove_browser_page(opened[0], settings.cache_dir)
