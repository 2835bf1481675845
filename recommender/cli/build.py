"""`recommend build-playlist`: the recommendations, their table and the managed playlist's diff."""

from __future__ import annotations

import time
from typing import Annotated, Optional

import typer

from ..errors import RecommenderError, UsageError
from ..safetext import terminal_safe
from .base import (
    ConfigOpt, JsonOpt, NoInputOpt, QuietOpt, VerboseOpt, _logging, _record, _settings, _where, command, log,
)
from .output import (
    NARROW, NARROW_NOTE, SHORT, _Bar, _console, _interactive, _note, _other_matches, _print_json, _result,
    _table, _term_width, playlist_url,
)


@command("build-playlist", record=True, examples=(
    "recommend build-playlist --demo", "recommend build-playlist --dry-run",
    "recommend build-playlist --demo --seed-playlist 'Alex Workout'", "recommend build-playlist --demo --why Linger"))
def build_playlist_cmd(
    config: ConfigOpt = None, quiet: QuietOpt = False, no_input: NoInputOpt = False, as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the table and the diff; write nothing to Spotify. "
                                                     "A stale cache (or --refresh) is still refreshed, under the run "
                                                     "lock like any writer.")] = False,
    demo: Annotated[bool, typer.Option("--demo", help="Run everything against the built-in stand-in and sample "
                                                      "library (no Spotify account needed).")] = False,
    seed_playlist: Annotated[Optional[str], typer.Option("--seed-playlist", help="Recommend for this playlist "
                                                                                "(name, id, spotify:playlist: URI or "
                                                                                "open.spotify.com link).")] = None,
    new_playlist: Annotated[bool, typer.Option("--new-playlist", help="Create a new managed playlist.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Refresh the cache even if it is fresh.")] = False,
    rows: Annotated[Optional[int], typer.Option("--rows", min=1, help="Print only the first N rows of the table "
                                                                      "(the playlist and --json get every track).")] = None,
    why: Annotated[Optional[str], typer.Option("--why", metavar="TRACK",
                                               help="Say why this track (name, id, URI or link) is or is not on the "
                                                    "next playlist: its place, score and shares, or the rule or "
                                                    "setting that keeps it out. A dry run: nothing is written.")] = None,
) -> None:
    """Score your library and write the recommendations to the managed private playlist."""
    from .. import jobs
    from ..paths import demo_settings
    from ..services.http import ContactNotice
    settings = _settings(config)
    _logging(settings, quiet, verbose, demo)
    if why is not None:
        if new_playlist:
            raise UsageError("--why explains the next playlist of a dry run: it takes no --new-playlist")
        dry_run = True  # it explains what a run would do, and writes nothing
    started = time.monotonic()
    held = None
    notice = ContactNotice()  # the run's one "no contact" warning: discovery's and the genre look-ups'
    with _Bar(_interactive(quiet, as_json)) as bar:
        if demo:
            result, held = jobs.run_demo(settings, dry_run=dry_run, seed_playlist=seed_playlist,
                                         new_playlist=new_playlist, progress=bar, explain=why)
        else:
            result = jobs.build_playlist(settings, dry_run=dry_run, seed_playlist=seed_playlist,
                                         new_playlist=new_playlist, force_refresh=refresh, progress=bar,
                                         notice=notice, explain=why)
    _record(demo_settings(settings) if demo else settings, "build-playlist --demo" if demo else "build-playlist", 0,
            started,
            playlist_id=result.playlist_id, added=result.added, removed=result.removed, kept=result.kept,
            requests=result.requests, dry_run=dry_run, refreshed=result.refreshed,
            **({"seed_playlist": seed_playlist} if seed_playlist else {}))
    if not demo and no_input and not dry_run and settings.schedule.enrich_limit > 0:
        _background_enrich(settings, notice)
    for m in result.messages:  # on stderr, with --json too (its messages hold them for a script): a cron's mail
        _note(m)
    if result.explained is not None:
        if as_json:
            _print_json(result.explained)
        else:
            _print_explained(result.explained)  # the answer asked for: with --quiet too
            _other_matches(result.explained["also_matches"], why, _where(demo, None), to="ask about it")
        return
    if as_json:
        out = result.to_json()
        if result.playlist_id:
            out["playlist_url"] = playlist_url(result.playlist_id)
        _print_json(out)
        return
    if quiet:
        return
    _print_build(result, held, rows)


def _print_explained(e: dict) -> None:
    """`build-playlist --why`: the track, where it is or what keeps it out, its score's shares."""
    from ..tables import joined
    from ..wording import named, plural
    label = f"{e['name']!r} - {named(e['artists'])}" if e["name"] is not None else e["track_id"]
    new = {True: " (new to you)", False: " (in your library)", None: ""}[e["new"]]
    if e.get("artist"):  # `--why metallica`: the artist's best placed track
        n = e["artist"]["tracks"]
        new += f", the best placed of {joined(n, plural(n, 'track'))} by {e['artist']['name']}" if n > 1 else ""
    place = "on the next playlist " if e["on_playlist"] else "not on the next playlist: "
    # each line one line: a line break in a name shown as \x0a (``_result`` keeps our own line ends)
    _result(terminal_safe(f"{label}{new}: {place}{e['reason']}"))
    if e["contributions"]:
        shares = ", ".join(f"{k} {v:.3f}" for k, v in sorted(e["contributions"].items(), key=lambda kv: -kv[1]))
        mix = f" (blend.artist_mix x{e['artist_mix']:.2f})" if (e["artist_mix"] or 1) < 1 else ""
        _result(f"  score {e['score']:.3f}{mix}, each scorer's share: {shares}")
    if e["why"]:
        _result(terminal_safe(f"  why: {e['why']}"))


def _print_build(result, held, limit: int | None = None) -> None:
    """The build's table (its first ``limit`` rows: --rows), the diff of a dry run and the summary."""
    from ..config import weights_text
    from ..publish import DRIFT_PLACES
    from ..tables import joined, wrap_joined
    from ..wording import named, plural, source_name
    console = _console()
    if result.table.empty:
        console.print(f"No recommendations: {result.reason}. " + ("The managed playlist was left as it is."
                      if result.playlist_id else "No playlist was made: there is nothing to put in it yet."))
        return
    shared = result.share_columns  # scorer -> its column
    narrow = bool(shared) and _term_width() < NARROW  # room for track, artist and the why first
    shared = {} if narrow else shared
    contrib = list(shared.values())
    rows = []
    for r in result.table.head(limit).to_dict("records"):
        rows.append([r["rank"], named(r["name"]), named(r["artists"]), "-" if r["score"] != r["score"] else f"{r['score']:.3f}"]
                    + ["-" if r[c] != r[c] else f"{r[c]:.3f}" for c in contrib]
                    + ["new" if r.get("new") else "", source_name(r.get("source", ""))]
                    + [("[pinned] " if r.get("pinned") else "") + str(r.get("why", ""))])
    factors = result.weight_factors  # artist_walk on few playlists: the blend used weight x factor
    weights = weights_text({k: v for k, v in result.weights.items() if v > 0}, factors)  # scorers that count
    lowered = sum(1 for v in result.table.get("artist_mix", ()) if v == v and v < 1 - 1e-9)
    mix = f"the artist mix lowered {lowered} of the {len(result.table)} scores (blend.artist_mix); " if lowered else ""
    title = (f"Recommendations ({result.mode} profile; blend weights: {weights}; {mix}"
             + (f"{NARROW_NOTE})" if narrow else "columns = each scorer's share of the score)"))
    shares = [SHORT.get(name, name) for name in shared]
    console.print(_table(title, ["#", "track", "artist", "score"] + shares + ["new", "source", "why"],
                         rows, wide="why", drop=(*shares[::-1], "source", "new", "#"),
                         text=("track", "artist", "source", "why")))
    if len(rows) < len(result.table):
        hidden = len(result.table) - len(rows)
        console.print(f"({hidden} more {plural(hidden, 'row')} not shown: --rows; --json lists them all)")
    if result.dry_run:
        for label, ids in (("would add", result.added_ids), ("would remove", result.removed_ids)):
            if ids:
                # a line break in a name shown as \x0a: the console keeps our own line ends only
                shown = "; ".join(terminal_safe(result.labels.get(t, t)) for t in ids[:8])
                why = _removed_counts(result.why_removed) if ids is result.removed_ids else ""
                console.print(f"{label} {len(ids)}{why}: {shown}{' ...' if len(ids) > 8 else ''}")
    add, remove, keep = ("would add", "remove", "keep") if result.dry_run else ("added", "removed", "kept")
    where = result.playlist_id or "(a new playlist)"
    n_new = int(result.table["new"].sum()) if "new" in result.table else 0

    def summary(line: str) -> None:  # wrapped between its units only: "365 Spotify requests" stays whole
        console.print(wrap_joined(line, _term_width()), soft_wrap=True)
    summary(f"{joined(n_new, 'of', len(result.table), 'tracks')} are new to you"
            + (f": {result.new_short}." if result.new_short else " (candidates.new_share)."))
    if result.short:  # fewer than blend.max_tracks: say which setting held the rest back
        summary(f"{result.short}.")
    from ..jobs import gave_way_note
    for line in gave_way_note(result.gave_way, result.label_parts):  # (a pin took its artist's place)
        summary(f"{terminal_safe(line)}.")
    summary(f"Managed playlist {where}: {joined(add, result.added)}, {joined(remove, result.removed)}, "
            f"{joined(keep, result.kept)}"
            + (f" in the order it had (none of them is more than {DRIFT_PLACES} places from its place in the table)"
               if result.order_kept else "")
            + (" (dry run: nothing written)" if result.dry_run else "")
            + f"; {joined(result.requests, 'Spotify', plural(result.requests, 'request'))}, "
            + f"{joined(f'{result.seconds:.1f}', 's.')}")
    if result.playlist_id and not result.dry_run:
        # the link whole on its own line (never broken, so a copy gets all of it); remarks wrap
        console.print(f"Open it: {playlist_url(result.playlist_id)}", soft_wrap=True)
        if held is not None:
            console.print("(the demo's playlist lives in the stand-in; a real run's link opens in Spotify)")
    if held:
        from rich.table import Table
        summary(f"The stand-in's copy of the playlist now holds {joined(len(held), 'tracks,')} first ones:")
        listing = Table.grid(padding=(0, 1))  # number, then the text with a hanging indent
        listing.add_column(justify="right", no_wrap=True)
        listing.add_column(overflow="fold")
        for i, t in enumerate(held[:10], 1):
            listing.add_row(f"{i:>3}.", terminal_safe(f"{t['name']} - {t['artists']}"))
        console.print(listing)


def _removed_counts(why_removed: dict[str, tuple[str, str]]) -> str:
    """" (11 outranked, 4 made room for tracks new to you ...; --why TRACK says more)": the dry
    run's leaving tracks counted by what keeps them off, the commonest first; "" for none."""
    from collections import Counter
    from ..pipeline import LEFT_OUT_WORDS
    counts = Counter(v for v, _ in why_removed.values())
    if not counts:
        return ""
    parts = [f"{n} {LEFT_OUT_WORDS.get(v, v)}" for v, n in sorted(counts.items(), key=lambda c: (-c[1], c[0]))]
    return f" ({', '.join(parts)}; --why TRACK says more)"


def _background_enrich(settings, notice) -> None:
    """A few MusicBrainz look-ups after a scheduled run; never fails the run. ``notice``: the
    run's missing-contact warning (said once, by the build's discovery or here)."""
    from .. import jobs
    from ..enrich.musicbrainz import client_from_settings, enrich_genres
    try:
        with jobs.writing(settings, "enrich genres (scheduled)"):
            store = jobs.open_store(settings)
            report = enrich_genres(jobs.require_library(settings), store, settings,
                                   limit=settings.schedule.enrich_limit, client=client_from_settings(settings, notice))
        log.info("scheduled genre look-up: %d artists, %d with genres, %d left", report.looked_up,
                 report.with_genres, report.remaining)
    except RecommenderError as exc:
        log.warning("scheduled genre look-up skipped: %s", exc)
