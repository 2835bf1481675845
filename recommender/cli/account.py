"""`recommend auth`, `refresh` and `status`: the login, the pull, how things stand."""

from __future__ import annotations

import collections
import sys
import time
from typing import Annotated

import typer

from ..errors import UsageError, set_aside
from ..safetext import visible
from .base import (
    ConfigOpt, JsonOpt, NoInputOpt, QuietNoJsonOpt, QuietOpt, VerboseOpt, _logging, _record, _settings,
    command,
)
from .output import _Bar, _echo_labelled, _echo_wrapped, _err, _interactive, _note, _print_json, _state, playlist_url


# ----- login and data ----------------------------------------------------------------------------
@command("auth", writes=True, examples=("recommend auth", "recommend auth --no-browser", "recommend auth --logout"))
def auth_cmd(config: ConfigOpt = None, no_input: NoInputOpt = False, quiet: QuietNoJsonOpt = False,
             verbose: VerboseOpt = False,
             no_browser: Annotated[bool, typer.Option("--no-browser", help="Print the login URL instead.")] = False,
             logout: Annotated[bool, typer.Option("--logout", help="Delete the saved login (the cache stays); "
                                                  "then remove the app's access on Spotify's apps page.")] = False
             ) -> None:
    """Log in to Spotify (Authorization Code with PKCE; a client secret is optional)."""
    from .. import jobs
    settings = _settings(config)
    _logging(settings, quiet, verbose)
    if logout:
        if no_browser:
            raise UsageError("--logout and --no-browser cannot be combined: --logout deletes the saved login")
        path, had, target = jobs.logout(settings)
        if not quiet:
            from ..tables import whole
            path = whole(path)  # a copy of it stays whole, spaces and all
            linked = f" and {whole(target)}, the file that link named" if target is not None else ""
            _echo_wrapped(f"Logged out: deleted {path}{linked}." if had else
                          f"No saved login to delete ({path} does not exist).")
            _echo_wrapped(f"Spotify keeps this app's access to your account until you remove it: {jobs.SPOTIFY_APPS_PAGE}")
        return
    if no_input:  # what --no-input says it does when a login is needed (exit 3), and why
        from ..errors import AuthError
        raise AuthError("`recommend auth` is the login, which needs a person at a browser: --no-input (never "
                        "prompt) forbids it; run `recommend auth` without it")
    if not sys.stdin.isatty() and not no_browser:
        raise UsageError("`recommend auth` needs a person at a browser; run it in a terminal "
                         "(use --no-browser to get the URL to open elsewhere)")

    from ..paths import graphical_display
    start_browser = not no_browser and graphical_display()

    def show(url: str) -> None:
        _err(f"Open this URL to log in (waiting for the redirect to {settings.spotify.redirect_uri}):\n{url}")
        if start_browser:
            import webbrowser
            webbrowser.open(url)
        elif not no_browser:  # an SSH session: webbrowser.open started lynx or w3m in the terminal, which
            from urllib.parse import urlparse  # cannot run Spotify's login page
            port = urlparse(settings.spotify.redirect_uri).port
            _err(f"no browser opened (no graphical display here: an SSH session?): open the URL above in a "
                 f"browser on this machine, or on yours through an SSH tunnel (ssh -L {port}:127.0.0.1:{port} "
                 "THIS-MACHINE first)")
    done = jobs.login(settings, open_url=show)
    me = done.me or {}
    if done.set_aside:
        counts = collections.Counter(done.left)  # three under one name said "'X', 'X', 'X'"
        left = ", ".join(f"'{visible(n)}'" + (f" ({k} playlists of that name)" if k > 1 else "")
                         for n, k in counts.items())
        _note(f"the cache held the library of {visible(done.set_aside)}, not {visible(me.get('id', '?'))}: the next "
              f"run pulls this account's library; {set_aside(visible(done.set_aside))}"
              + (f"; the playlists made there ({left}) stay in "
                 f"{visible(done.set_aside)}'s account: the tool never deletes a playlist, so delete them in Spotify "
                 f"if logging in as {visible(done.set_aside)} was a mistake" if done.left else ""))
    if not quiet:
        who = (f" as {visible(me.get('display_name') or me.get('id', '?'))} ({visible(me.get('id', '?'))})"
               if done.me is not None else f" (could not ask Spotify who you are: {done.error})")
        from ..tables import whole
        _echo_wrapped(f"Logged in{who}. Token saved in {whole(settings.cache_dir / 'spotify-token.json')}")


@command("refresh", record=True, examples=("recommend refresh", "recommend refresh --quiet --no-input"))
def refresh_cmd(config: ConfigOpt = None, quiet: QuietOpt = False, no_input: NoInputOpt = False,
                as_json: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """Pull your playlists, top tracks/artists, saved tracks and followed artists into the cache, and new music (discovery)."""
    from .. import jobs
    settings = _settings(config)
    _logging(settings, quiet, verbose)
    started = time.monotonic()
    with _Bar(_interactive(quiet, as_json)) as bar:
        library, report = jobs.refresh(settings, progress=bar)
    _record(settings, "refresh", 0, started, requests=report.requests, tracks=report.tracks)
    for p in [*report.problems, *report.warnings]:  # a service down is a note, as build-playlist says it
        _note(p)
    if as_json:
        _print_json(report.to_dict())
    elif not quiet:
        from ..tables import joined, whole
        from ..wording import plural
        _echo_wrapped(f"{joined(report.playlists, plural(report.playlists, 'playlist'))} "
                      f"({joined(report.playlists_fetched, 'fetched')}, {joined(report.playlists_unchanged, 'unchanged')}, "
                      f"{joined(len(report.playlists_forbidden), 'not', 'readable')}"
                      + (f", {joined(report.playlists_ours, 'written')} by this tool, not read" if report.playlists_ours else "")
                      + f"), {joined(report.tracks, plural(report.tracks, 'track'))} "
                      f"({joined(report.discovery_tracks, 'new', 'from')} discovery albums, "
                      f"{joined(report.open_data_tracks, 'more from')} open data); "
                      f"{joined(report.requests, 'Spotify', plural(report.requests, 'request'))}, "
                      f"{joined(report.open_data_requests, 'open-data', plural(report.open_data_requests, 'request'))} "
                      f"for discovery. Cache: {whole(settings.frames_dir)}")


@command("status", examples=("recommend status", "recommend status --offline", "recommend status --json",
                              "recommend status --demo"))
def status_cmd(config: ConfigOpt = None, as_json: JsonOpt = False,
               offline: Annotated[bool, typer.Option("--offline", help="Do not ask Spotify whether the login "
                                                                      "still works (show the saved token only).")]
               = False,
               demo: Annotated[bool, typer.Option("--demo", help="The sample library's runs, cache and playlist "
                                                                "(what the --demo commands did).")] = False) -> None:
    """Show the last runs, the schedule (our crontab line, its next run), cache age, login state
    (checked with Spotify), the managed playlist and genre coverage."""
    from ..jobs import status_report
    from ..status import status_lines
    settings = _settings(config)
    # spotipy's own HTTP error lines go to the log only
    info = status_report(settings, demo=demo, offline=offline,
                         before_check=lambda: _logging(settings, _state.quiet, _state.verbose))
    if info["playlist"] and info["playlist"].get("id") and not demo and not info["playlist"].get("gone"):  # (the demo's is in its stand-in)
        info["playlist"]["url"] = playlist_url(info["playlist"]["id"])
    if as_json:
        _print_json(info)
        return
    _echo_labelled(status_lines(info, demo))
