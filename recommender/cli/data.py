"""`recommend enrich genres` and `import features`: data Spotify no longer gives."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Optional

import typer

from .base import (
    ConfigOpt, JsonOpt, NoInputOpt, QuietOpt, VerboseOpt, _logging, _settings, command, enrich_app, import_app,
)
from .output import _Bar, _echo_wrapped, _err, _interactive, _print_json, _rows, _term_width


def _enrich_estimate(settings, due: int, rechecks: int) -> str:
    """`enrich genres`' first line: how many artists and about how long, at the pace the client
    keeps (a MusicBrainz on this machine, the stand-in, is not held to 1 request/s)."""
    from ..enrich.musicbrainz import estimate_seconds, paced_rate
    if not due:  # not "0 artists ...: about 0 s (interrupt any time ...)", then "looked up 0 artists ..."
        from ..tables import joined
        return ("nothing to look up on MusicBrainz: every artist was looked up lately (one without genres is asked "
                f"again after {joined(settings.enrich['retry_misses_days'], 'days')}, one with genres after "
                f"{joined(settings.enrich['refresh_days'], 'days')})")
    rate = paced_rate(settings)
    seconds = estimate_seconds(due, rechecks, rate=rate)
    # 5 artists: "about 10 s", not "0 min"; at least 1 s
    about = f"{max(seconds, 1):.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
    pace = f"at {rate:g} request/s" if rate == float(settings.enrich.rate) else "(a MusicBrainz on this machine: not paced)"
    from ..wording import plural
    return (f"{due} {plural(due, 'artist')} to look up on MusicBrainz: about {about} {pace} (interrupt any time: the next run "
            "resumes; --limit N does a part now)")


@command("genres", parent=enrich_app, writes=True, examples=("recommend enrich genres --limit 100",))
def enrich_genres_cmd(
    config: ConfigOpt = None, quiet: QuietOpt = False, as_json: JsonOpt = False, verbose: VerboseOpt = False,
    no_input: NoInputOpt = False,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Look up at most N artists now.")] = None,
) -> None:
    """Look up artist genres on MusicBrainz (1 request/second; resumable, cached per artist)."""
    from .. import jobs
    from ..enrich.musicbrainz import due_counts, enrich_genres
    from ..tables import joined, wrap_joined
    settings = _settings(config)
    _logging(settings, quiet, verbose)
    store = jobs.open_store(settings)  # one store: a damaged genres file is said once, not by each read of it
    library = jobs.require_library(settings, demo=None, store=store)  # the demo has its own cache: no genres to add there
    due, rechecks = due_counts(library, store, settings, limit=limit)
    if not quiet and not as_json:
        _err(wrap_joined(_enrich_estimate(settings, due, rechecks), _term_width()))
    with jobs.writing(settings, "enrich genres"), _Bar(_interactive(quiet, as_json)) as bar:
        report = enrich_genres(library, store, settings, limit=limit,
                               progress=lambda done, total, eta: bar("MusicBrainz artists", done, total))
    if as_json:
        _print_json({**vars(report), "seconds": round(report.seconds, 2)})  # as every other command's (0.02000746...)
    elif not quiet and (due or report.looked_up):  # nothing due: the first line said so
        _echo_wrapped(f"looked up {report.looked_up} artists: {report.found} found ({report.by_isrc} by ISRC, "
                      f"{report.by_name} by name), {report.with_genres} with genres, {report.misses} not found "
                      f"({report.ambiguous} ambiguous)"
                      + (f"; {report.rechecked} re-checked by MBID ({report.merged} merged into another, "
                         f"{report.gone} gone)" if report.rechecked else "")
                      + f"; {report.remaining} left for later; {report.requests} requests in "
                      + joined(f"{report.seconds:.0f}", "s"))


@command("features", parent=import_app, writes=True, examples=("recommend import features features.csv.gz",))
def import_features_cmd(
    file: Annotated[Path, typer.Argument(help="CSV keyed by Spotify track id (gz or plain).")],
    config: ConfigOpt = None, quiet: QuietOpt = False, as_json: JsonOpt = False, verbose: VerboseOpt = False,
    no_input: NoInputOpt = False,
) -> None:
    """Import audio features (danceability ... tempo) from a CSV file into your data directory (kept across refreshes: no refresh gives them back)."""
    from .. import jobs
    from ..features import RATIOS, import_features
    settings = _settings(config)
    _logging(settings, quiet, verbose)
    store = jobs.open_store(settings)
    with jobs.writing(settings, "import features"), _Bar(_interactive(quiet, as_json), lazy=True) as bar:
        report = import_features(file, store.load_library(), store, progress=bar)
    if as_json:
        _print_json({**vars(report), "skipped_rows": report.skipped_rows})
        return
    if quiet:
        return
    from ..tables import joined, whole
    from ..wording import plural
    # wrapped to the terminal at spaces, a count beside what it counts, the path and "line 7" whole
    _echo_wrapped(f"{whole(file)}: {joined(_rows(report.rows))}, {joined(_rows(report.imported, 'track'))} imported "
                  f"({joined(report.added, 'new')}, {joined(report.updated, 'updated')}; columns: "
                  f"{', '.join(report.columns)})"
                  + (f"; {joined(report.in_library)} of them {plural(report.in_library, 'is', 'are')} in your cache "
                     "(your library and the tracks discovery "
                     "found)" if report.in_library is not None else "")
                  + f"; {joined(_rows(report.total, 'track'))} {plural(report.total, 'has', 'have')} features now")
    if report.imported and not report.moods:  # e.g. Exportify's durations only: no mood can be told from them
        _echo_wrapped("the file gives none of its tracks both a valence and an energy, which the mood commands "
                      "(`recommend moods`) need"
                      + (f"; {joined(report.placed)} of them {plural(report.placed, 'has', 'have')} both from an "
                         "earlier file, kept" if report.placed else ""))
    if report.duplicates:  # why the tracks are fewer than the rows (a Kaggle file lists a track per playlist)
        _echo_wrapped(f"{joined(_rows(report.duplicates))} gave a track an earlier row gave too: "
                      "the later row's values are kept")
    if report.percent_rows:
        _echo_wrapped(f"read {joined(_rows(report.percent_rows))} written on a 0-to-100 scale as percentages (their "
                      f"{', '.join(c for c in report.columns if c in RATIOS)} divided by 100)")
    for reason, n in report.skipped.items():
        examples = "; ".join(re.sub(r"^line (\d+):", lambda m: joined("line", m[1] + ":"), e)
                             for e in report.examples.get(reason, [])[:3])
        _echo_wrapped(f"skipped {joined(_rows(n))}: {reason} (e.g. {examples})")
