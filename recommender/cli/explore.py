"""`recommend search`, `playlists` and `similar`: reading the library."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..errors import UsageError
from ..safetext import cut, visible
from .base import (
    ConfigOpt, DemoOpt, ExploreDatasetOpt, JsonRowsOpt, QuietOpt, _explore_library, _library_settings,
    _logging, _settings, _source, _where, command,
)
from .output import (
    NARROW, NARROW_NOTE, SHORT, _Bar, _console, _echo, _echo_wrapped, _interactive, _note, _other_matches,
    _print_json, _print_rows, _records, _table, _term_width, playlist_url,
)


@command("search", examples=("recommend search --demo 'cranbery zombi'", "recommend search queen --spotify -n 5",
                              "recommend search 'mad world gary jules' --dataset playlists.csv"))
def search_cmd(text: Annotated[str, typer.Argument(help="Words of the title, artist or album.")],
               config: ConfigOpt = None, as_json: JsonRowsOpt = False, quiet: QuietOpt = False,
               limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many results.")] = 10,
               spotify: Annotated[bool, typer.Option("--spotify", help="Also ask Spotify's search (needs a "
                                                                      "login; at most 10 results).")] = False,
               dataset: ExploreDatasetOpt = None, demo: DemoOpt = False) -> None:
    """Free-text search over the tracks in your cache (typos and accents forgiven); says so
    when nothing matches."""
    from .. import libsource
    from ..searchindex import check_query
    settings = _settings(config)
    check_query(text)  # before a login is asked for or an index built
    if spotify and demo:  # the demo's login belongs to a stand-in that is gone once the pull is done
        from ..paths import SAMPLE_LIBRARY
        raise UsageError("--spotify and --demo cannot be combined: the demo has no Spotify account to "
                         f"search; drop --spotify to search {SAMPLE_LIBRARY}")
    source = _source(settings, dataset, demo, quiet, as_json)
    min_score = source.settings.search.min_score  # the demo's: with what `recommend web --demo` saved
    if not spotify:
        with _Bar(_interactive(quiet, as_json), lazy=True) as bar:  # the first search builds the index
            rows = libsource.search(source, text, limit, min_score, progress=bar)
    else:
        from .. import jobs
        from ..explore import TrackIndex, search_tracks
        _logging(settings, quiet, False)  # talks to Spotify: spotipy's own error lines go to the log only
        libsource.require_tracks(source)
        library = source.load()
        with _Bar(_interactive(quiet, as_json), lazy=True) as bar:
            index = TrackIndex(min_score=min_score).from_index(libsource.search_index(source, library, bar))
        gateway = jobs.connect(source.settings)

        def remote(query: str, n: int) -> list[dict]:
            page = gateway.get("search", q=query, type="track", limit=min(n, 10))
            return ((page or {}).get("tracks") or {}).get("items") or []
        df = search_tracks(library, text, limit=limit, remote=remote, index=index)
        if df.attrs.get("remote_error"):
            _note(f"Spotify search failed ({df.attrs['remote_error']}); showing cached tracks only")
        rows = _records(df)
    if as_json:
        _print_json([{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for r in rows])
        return
    if not rows:
        place = source.label  # the demo by name, not by its folder, as similar says it
        # wrapped to $COLUMNS as every line is (a 70-column line at 40 columns)
        _echo_wrapped(f"No match for {cut(text, 80)!r} in {place} (nothing scored {min_score:g} or more).")
        return
    cols = ["track_id", "name", "artists", "album", "score"] + (["source"] if spotify else [])
    _print_rows(rows, f"Tracks matching {cut(text, 80)!r}", cols, {"name", "artists", "album", "track_id"},
                drop=("source", "score", "album"))


@command("playlists", examples=("recommend playlists", "recommend playlists --json",
                                 "recommend build-playlist --seed-playlist PLAYLIST_ID", "recommend playlists --demo"))
def playlists_cmd(config: ConfigOpt = None, as_json: JsonRowsOpt = False, demo: DemoOpt = False) -> None:
    """Your cached playlists: name (invisible characters shown as \\u escapes), id to copy
    into --seed-playlist, owner, tracks (those the tool holds, and Spotify's count when it differs), and which ones
    this tool writes (yes, mood, earlier, other computer) or left alone (other account)."""
    from .. import jobs
    if demo:  # the sample library's playlists: the names `--seed-playlist` and `moods cluster` take with --demo
        source = _source(_settings(config), None, True, False, as_json)
        # all of them, ours too (the taste library leaves ours out: a mood exported before the
        # demo's next pull was no longer listed)
        settings = source.settings
        library = jobs.require_library(settings)
    else:
        settings, library = _library_settings(config)
    rows = [{**r, "url": playlist_url(r["id"])} for r in jobs.playlist_rows(settings, library)]
    if as_json:
        _print_json(rows)
        return
    if not rows:  # a new account: a sentence, not an empty table
        typer.echo("No playlists: the last refresh found none in your account; make or follow one in Spotify, "
                   "then `recommend refresh`")
        return
    # a name of spaces only (or none) quoted: its cell was blank, as if the playlist had no name
    from ..wording import named
    table = [[visible(named(r["name"])), r["id"], visible(r["owner"]), _tracks_cell(r), r["role"] or ""]
             for r in rows]
    from ..wording import plural
    _console().print(_table(f"{len(rows)} {plural(len(rows), 'playlist')} (ids are whole: copy them into "
                            "--seed-playlist)",
                            ["name", "id", "owner", "tracks", "managed"], table, wide="name",
                            drop=("owner", "tracks", "managed"), text=("name", "owner")))
    fewer = [r for r in rows if r["readable"] and _held_apart(r)]
    if fewer:  # "46 of 49": the entries of a playlist that are no track (named: a narrow terminal drops the column)
        names = ", ".join(f"'{visible(r['name'])}' ({r['tracks']} of {r['total']})" for r in fewer[:5]) \
            + (f" and {len(fewer) - 5} more" if len(fewer) > 5 else "")
        n = len(fewer)
        _echo_wrapped(f"{n} {plural(n, 'playlist')} ({names}) {plural(n, 'holds', 'hold')} entries the tool does not "
                      "keep (local files, podcast episodes, tracks no longer on Spotify): the tracks column says how "
                      "many of Spotify's count --seed-playlist and moods cluster use")
    unread = [r["name"] for r in rows if not r["readable"]]
    if unread:  # listed, but seeding from one or clustering it found no track and said "0 tracks"
        # named here: a narrow terminal leaves out the tracks column that marks them
        names = ", ".join(f"'{visible(n)}'" for n in unread[:5]) + (f" and {len(unread) - 5} more"
                                                                     if len(unread) > 5 else "")
        unread = len(unread)
        _echo_wrapped(f"{unread} {plural(unread, 'playlist')} (unread: {names}): Spotify does not let this app read "
                      f"{plural(unread, 'its', 'their')} tracks (a personal app reads only the playlists you own or "
                      "collaborate on), so --seed-playlist and moods cluster cannot use "
                      f"{plural(unread, 'it', 'them')}: copy the tracks into a playlist of your own")


def _held_apart(row: dict) -> bool:
    """Whether a `recommend playlists` row's tracks (those the cache holds) differ from Spotify's count."""
    return row["tracks"] is not None and row.get("total") is not None and row["tracks"] != row["total"]


def _tracks_cell(row: dict) -> str:
    """The tracks column: the tracks the cache holds, "46 of 49" when Spotify counts more (or
    fewer), and "0 of 16 (unread)" of one Spotify does not let this app read (its count alone
    read as 16 tracks --seed-playlist could use)."""
    if row["tracks"] is None:
        return ""
    shown = f"{row['tracks']} of {row['total']}" if _held_apart(row) else str(row["tracks"])
    return shown if row["readable"] else f"{shown} (unread)"


@command("similar", examples=("recommend similar --demo 'zombie cranberries'",
                              "recommend similar 'https://open.spotify.com/track/4u7EnebtmKWzUH433cf5Qv'"))
def similar_cmd(track: Annotated[str, typer.Argument(help="Track id, spotify:track: URI, link or search text.")],
                config: ConfigOpt = None, as_json: JsonRowsOpt = False, quiet: QuietOpt = False,
                limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many tracks.")] = 10,
                same_artist: Annotated[Optional[int], typer.Option("--same-artist", min=0, help="At most N tracks "
                                                                   "per artist (0 = no limit; default: "
                                                                   "similar.same_artist).")] = None,
                dataset: ExploreDatasetOpt = None, demo: DemoOpt = False) -> None:
    """Tracks most similar to one track, by the same blended scorers as build-playlist (plus audio
    features when present); each song once, never another version of the seed."""
    from .. import libsource
    from ..explore import TrackIndex, equal_matches, resolve_track, share_columns, sharing, similar_setup, similar_tracks
    settings, source, library = _explore_library(config, dataset, demo, quiet, as_json)
    with _Bar(_interactive(quiet, as_json), lazy=True) as bar:
        index = TrackIndex().from_index(libsource.search_index(source, library, bar))
    where = _where(demo, dataset)
    track_id = resolve_track(library, track, index=index, where=where)
    if not quiet:  # the title (or --json's rows) says which one it took: not that it had a choice
        _other_matches(equal_matches(library, track, track_id, index=index), track, where)
    scorers, weights, extra = similar_setup(settings, library)
    cap = settings.similar.same_artist if same_artist is None else same_artist
    df = similar_tracks(library, track_id, scorers, weights, n=limit, normalisation=settings.blend.normalisation,
                        same_artist=cap, extra=extra, where=where)
    if as_json:  # each row's shares also as build-playlist's --json gives them (the flat keys stay)
        names = share_columns(df)
        _print_json([{**r, "contributions": {c: r[c] for c in names}} for r in _records(df)])
        return
    row = library.tracks[library.tracks["track_id"] == track_id].iloc[0]
    from ..wording import named
    title = f"Similar to {named(row['name'])} - {named(', '.join(row['artist_names']))}"
    if df.empty:  # a library of this one song (its other versions left out): not an empty table
        from ..safetext import terminal_safe  # a line break in a name as \x0a: one line, as the table's title
        _echo(f"{terminal_safe(title)}: no other song in {where.library} to compare it with")
        return
    # the id stays (whole: it can be pasted into the next `similar`); the scorers with a weight
    # get a (short-named) column when the terminal has NARROW columns, as build-playlist's table;
    # a narrower one leaves out the score before name, artists or the why
    shown = [{SHORT.get(c, c): v for c, v in r.items()} for r in df.to_dict("records")]
    scorer_cols = [SHORT.get(c, c) for c in sharing(df, weights)]
    if _term_width() < NARROW:
        scorer_cols = []
        title += f" ({NARROW_NOTE})"
    _print_rows(shown, title, ["track_id", "name", "artists", "score"] + scorer_cols + ["why"],
                {"name", "artists", "why"}, wide="why", drop=(*scorer_cols[::-1], "score"))
