"""`recommend moods cluster`, `near`, `recommend` and `classify`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from ..safetext import visible
from .base import (
    ConfigOpt, DemoOpt, ExploreDatasetOpt, JsonOpt, QuietOpt, _explore_library, _file_to_write, _logging,
    _record_export, _where, command, moods_app,
)
from .output import (
    _Bar, _as_the_page_rounds, _console, _echo, _echo_wrapped, _exported_json, _interactive, _other_matches,
    _print_exported, _print_json, _print_rows, _records, _rows, _safe, _state,
)


def _classifier_json(report) -> dict:
    """``ClassifierReport.to_dict`` for --json: rates in four decimals, as ``_records`` gives
    every other rate (0.6666666666666666 read as false precision), the p-value in four
    significant digits (a tiny one is not rounded to 0)."""
    d = report.to_dict()
    return {**d, "accuracy": round(d["accuracy"], 4), "baseline": round(d["baseline"], 4),
            "p_value": float(f"{d['p_value']:.4g}")}


def _mood_kwargs(settings) -> dict[str, float]:
    m = settings.moods
    return {"valence_threshold": m.valence_threshold, "energy_threshold": m.energy_threshold}


def _no_playlist_given(library, named, dataset, demo) -> None:
    """A usage error that names some playlists to cluster (the demo's are nowhere else to see)."""
    from ..moods import MIN_TRACKS
    from ..pipeline import playlist_examples
    examples = playlist_examples(library, source=named, min_tracks=MIN_TRACKS)
    if examples.startswith(":"):  # none to choose from ("...: the last refresh found no playlists ...")
        raise UsageError(f"no playlist to cluster{examples}")
    # `recommend playlists` lists your account's, not a --dataset file's
    raise UsageError(f"no playlist given to cluster: choose{examples}"
                     + ("" if dataset is not None else f"; `recommend playlists{' --demo' if demo else ''}` lists "
                        "them all"))


def _clusters_json(res, exported) -> dict:
    """``moods cluster --json``."""
    return {"playlist_id": res.playlist_id, "basis": res.basis, "k": res.k,
            "silhouette": None if res.silhouette is None else round(res.silhouette, 4),
            "axes": {"x": res.axes[0], "y": res.axes[1]},
            "playlists": [{"id": i, "name": n} for i, n in res.playlists],
            "with_audio_features": res.with_audio,
            "clusters": _records(res.clusters),
            "tracks": _records(res.tracks),
            "exported": _exported_json(exported)}


def _print_clusters(res, settings, *, limit: int, export: bool, demo: bool, dataset) -> None:
    """``moods cluster``'s tables and notes: the moods, their tracks (``limit`` a cluster), why the
    moods are of words when some tracks have audio features, the tracks left out."""
    note = " (weak structure: the moods overlap)" if res.silhouette is not None and res.silhouette < 0.1 else ""
    if res.k == 1:  # every track alike (the same audio features): no second mood to split off
        note = f" (the tracks' {res.basis} features are too alike to split into moods)"
    elif res.asked and res.k < res.asked:  # --k 4 of tracks of two sounds: 2 moods, the 4 unsaid
        note = f" (--k {res.asked}: the tracks' {res.basis} features hold only {res.k} distinct sets){note}"
    sil = "-" if res.silhouette is None else f"{res.silhouette:.2f}"
    from ..wording import plural
    moods = f"{res.k} {plural(res.k, 'mood')}"
    # the playlists' names as `recommend playlists` shows them (invisible characters as escapes)
    title = f"{visible(res.playlist_name)}: {moods} from {res.basis} features, silhouette {sil}{note}"
    # a mood in words and in the numbers behind them: the cluster's mean valence and energy
    cols = [c for c in ("cluster", "size", "label", "valence", "energy") if c in res.clusters.columns]
    _print_rows(res.clusters.to_dict("records"), title, cols, {"label"}, wide="label", drop=("energy", "valence"))
    clustered = res.tracks[res.tracks["cluster"] >= 0].sort_values("cluster", kind="stable")
    # at most ``limit`` a cluster: 7,590 tracks were 30,000 lines
    tracks = (clustered.groupby("cluster", sort=False).head(limit) if limit else clustered).to_dict("records")
    for r in tracks:  # the playlist's name as the title and `recommend playlists` show it ("mood": the
        r["playlist"] = visible(r["playlist"])  # cluster's name, set by cluster_playlists, as --json has it)
    # one playlist clustered: its name is the title's, not a column repeating it on every row (a long
    # name wrapped to five lines a track)
    cols = (["cluster", "mood", "name", "artists"] + (["playlist"] if len(res.playlists) > 1 else [])
            + [c for c in ("valence", "energy") if c in res.tracks])
    _print_rows(tracks, "Tracks per mood cluster", cols, {"mood", "name", "artists", "playlist"}, wide="name",
                drop=("energy", "valence", "playlist", "cluster"))
    if len(tracks) < len(clustered):
        _echo_wrapped(f"{len(tracks)} of the {len(clustered)} clustered tracks listed, the first {limit} of each "
                      "cluster: -n 0 lists them all, --json gives every track")
    if res.basis == "text" and res.with_audio:  # features imported for some: why they were not used
        from ..moods import MIN_TRACKS
        share = settings.moods.min_audio_share
        have = f"{res.with_audio} of the {len(res.tracks)} tracks (each recording once) {plural(res.with_audio, 'has', 'have')}"
        if res.with_audio < MIN_TRACKS:  # (whatever the share: "fewer than 1 % asks" of 3 in 42)
            _echo_wrapped(f"{have} audio features, and clustering by their sound needs at least {MIN_TRACKS}, so the "
                          "moods are of the tracks' words")
        else:
            _echo_wrapped(f"{have} audio features, fewer than moods.min_audio_share ({share:.0%}) asks, so the moods "
                          f"are of the tracks' words; a lower moods.min_audio_share clusters those {res.with_audio} "
                          "by their sound")
    left_out = int((res.tracks["cluster"] < 0).sum())  # clustered on audio: the tracks without features
    if left_out:
        from ..tables import joined
        _echo_wrapped(f"{joined(left_out)} of the {joined(len(res.tracks), 'tracks')} have no audio features, so "
                      f"they are in no mood{' and in none of the playlists' if export else ''}; "
                      f"{_where(demo, dataset).features}")


@command("cluster", parent=moods_app, record="export", examples=("recommend moods cluster --demo 'Alex Workout' --plot moods.png",
                                               "recommend moods cluster 'Road Trip' Workout --export"))
def moods_cluster_cmd(playlists: Annotated[Optional[list[str]], typer.Argument(
                          help="Playlist names or ids (one or more: their tracks are blended).",
                          show_default=False)] = None,
                      config: ConfigOpt = None, as_json: JsonOpt = False, quiet: QuietOpt = False,
                      k: Annotated[Optional[int], typer.Option("--k", min=2, help="Number of moods "
                                                                                "(default: best silhouette).")] = None,
                      plot: Annotated[Optional[Path], typer.Option("--plot", parser=_file_to_write, metavar="PATH", help="Write a PNG scatter (PCA; "
                                                                                "a marker per playlist; .svg or "
                                                                                ".pdf for those).")] = None,
                      export: Annotated[bool, typer.Option("--export", help="Write each cluster to its own "
                                                                           "private playlist 'recommend: <mood>', "
                                                                           "updated in place.")] = False,
                      limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Tracks of each cluster the "
                                                         "table lists (0: all; --json gives every track).")] = 25,
                      dataset: ExploreDatasetOpt = None, demo: DemoOpt = False) -> None:
    """Cluster one or more playlists into moods (k-means + PCA; audio features when present, else text)."""
    from ..moods import cluster_playlists, plot_clusters, plot_format
    started = time.monotonic()
    if export and dataset is not None:
        raise UsageError("--export writes to your Spotify account: it cannot be combined with --dataset")
    if plot:
        from ..store import check_output
        plot_format(plot)  # an ending it cannot write, a folder that cannot be written: refused before the work
        check_output(plot)
    settings, source, library = _explore_library(config, dataset, demo, quiet, as_json, refs=playlists or ())
    named = source.label if dataset is not None or demo else None  # None: "your"
    if not playlists:
        _no_playlist_given(library, named, dataset, demo)
    res = cluster_playlists(library, playlists, k=k, max_clusters=settings.moods.max_clusters,
                            source=named, where=_where(demo, dataset),
                            min_audio_share=settings.moods.min_audio_share, **_mood_kwargs(settings))
    if plot:
        _logging(settings, _state.quiet, _state.verbose, demo)  # a name's glyphs no font has: one line
        plot_clusters(res, plot)
    exported = []
    if export:
        from ..jobs import mood_export
        _logging(settings, _state.quiet, _state.verbose, demo)  # writes to Spotify: log it like build-playlist
        names, members = res.names(), res.members()
        exported = mood_export(settings, library, {names[c]: members[c] for c in members}, res.playlist_name, demo=demo)
        _record_export(settings, "moods cluster --export", exported, started, demo)
    if as_json:
        _print_json(_clusters_json(res, exported))
        return
    _print_clusters(res, settings, limit=limit, export=export, demo=demo, dataset=dataset)
    _print_exported(exported, demo)
    if plot:
        typer.echo(f"plot written to {plot}")


@command("near", parent=moods_app, examples=("recommend moods near --demo 'linger cranberries' -n 5",))
def moods_near_cmd(track: Annotated[str, typer.Argument(help="Track id, spotify:track: URI, link or search text.")],
                   config: ConfigOpt = None, as_json: JsonOpt = False, quiet: QuietOpt = False,
                   limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many tracks.")] = 10,
                   dataset: ExploreDatasetOpt = None, demo: DemoOpt = False) -> None:
    """Tracks nearest to one track in valence and energy (needs audio features)."""
    from ..explore import equal_matches
    from ..moods import mood_neighbours
    settings, _, library = _explore_library(config, dataset, demo, quiet, as_json)
    df = mood_neighbours(library, track, n=limit, where=_where(demo, dataset), **_mood_kwargs(settings))
    seed = df.attrs["seed"]
    if not quiet:  # as `similar` says it: "stay" took one of five songs, unsaid
        _other_matches(equal_matches(library, track, seed["track_id"]), track, _where(demo, dataset))
    if as_json:
        # the seed's plane coordinates to the rows' 4 decimals (they came with every digit of the file)
        _print_json({"seed": {**seed, "valence": round(seed["valence"], 4), "energy": round(seed["energy"], 4)},
                     "tracks": _records(df)})
        return
    from ..wording import named
    title = (f"Nearest in mood to {named(seed['name'])} - {named(seed['artists'])} (valence {seed['valence']:.3f}, "
             f"energy {seed['energy']:.3f}, {seed['mood']})")
    if df.empty:
        from ..safetext import terminal_safe  # a line break in a name as \x0a: one line, as the table's title
        _echo(f"{terminal_safe(title)}: no other song in {_where(demo, dataset).library} has a valence and an energy")
        return
    _print_rows(df.to_dict("records"), title, ["rank", "name", "artists", "mood", "valence", "energy", "distance"],
                {"name", "artists"}, drop=("rank", "distance", "energy", "valence"))


@command("recommend", parent=moods_app, record="export", examples=("recommend moods recommend --mood calm -n 10",
                                                 "recommend moods recommend --valence 0.2 --energy 0.9",
                                                 "recommend moods recommend --mood sad --export"))
def moods_recommend_cmd(mood: Annotated[Optional[str], typer.Option("--mood", help="happy, energetic, calm or sad.")] = None,
                        config: ConfigOpt = None,
                        as_json: Annotated[bool, typer.Option("--json", help="Print the rows as one JSON list (for "
                                                              "scripts). With --export: one object, tracks and "
                                                              "exported.")] = False,
                        quiet: QuietOpt = False,
                        limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many tracks.")] = 20,
                        valence: Annotated[Optional[float], typer.Option(
                            "--valence", min=0.0, max=1.0, help="Instead of --mood: a point of the mood plane, "
                                                                "valence 0 (sad) to 1 (happy) ...")] = None,
                        energy: Annotated[Optional[float], typer.Option(
                            "--energy", min=0.0, max=1.0, help="... and energy 0 (calm) to 1 (intense).")] = None,
                        export: Annotated[bool, typer.Option("--export", help="Write the tracks to their own private "
                                                                             "playlist 'recommend: <mood>', updated "
                                                                             "in place.")] = False,
                        dataset: ExploreDatasetOpt = None, demo: DemoOpt = False) -> None:
    """Tracks closest to a valence/energy mood, nudged toward your taste (needs audio features)."""
    from .. import jobs
    started = time.monotonic()
    point = (valence, energy) != (None, None)
    if point == (mood is not None) or (point and None in (valence, energy)):
        raise UsageError("give --mood, or --valence and --energy (a point of the mood plane)"
                         + (", not both" if point and mood is not None else ""))
    if export and dataset is not None:
        raise UsageError("--export writes to your Spotify account: it cannot be combined with --dataset")
    settings, _, library = _explore_library(config, dataset, demo, quiet, as_json)
    df, name = jobs.mood_list(settings, library, mood, valence, energy, n=limit, where=_where(demo, dataset))
    # the names the list is exported under: "calm" for --mood chill or Calm, never "-0" for --valence -0
    # a mood's list is of the point its quadrant's centre moved toward your taste: named, as the web
    # app's Moods page names it (the title said only "calm", above tracks of energy 0.35 to 0.45)
    tv, te = (_as_the_page_rounds(v, 2) for v in df.attrs["target"])
    title = (f"Tracks nearest {name}" if point else f"Tracks for {'an' if name[:1] in 'aeiou' else 'a'} {name} mood "
             f"(valence {tv}, energy {te})")
    exported = []
    if export:
        from ..jobs import mood_export
        _logging(settings, _state.quiet, _state.verbose, demo)  # writes to Spotify: log it like build-playlist
        from ..moodexport import LIBRARY
        exported = mood_export(settings, library, {name: list(df["track_id"])}, LIBRARY, demo=demo,
                              command="moods recommend --export")
        _record_export(settings, "moods recommend --export", exported, started, demo)
    rows = _records(df)
    if as_json:  # a list of tracks; with --export, the tracks and what the export did
        _print_json({"tracks": rows, "exported": _exported_json(exported)} if export else rows)
        return
    # a mood with fewer tracks than asked for is followed by the nearest of the others: their
    # moods stay in view at any width (valence and energy go first), and a line says where they start
    own = len(df) if point else int((df["mood"] == name).sum())
    _print_rows(df.to_dict("records"), title,
                ["rank", "name", "artists", "mood", "valence", "energy", "score"], {"name", "artists"},
                drop=("rank", "mood", "energy", "valence") if own == len(df) else ("rank", "energy", "valence", "mood"))
    if own < len(df):
        from ..tables import joined
        _echo_wrapped(f"{name} has {joined(_rows(own, 'track'))}; the rest are the nearest of other moods")
    _print_exported(exported, demo)


@command("classify", parent=moods_app, examples=("recommend moods classify --json", "recommend moods classify --evaluate"))
def moods_classify_cmd(config: ConfigOpt = None, as_json: JsonOpt = False, quiet: QuietOpt = False,
                       limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Rows the table shows "
                                                                                        "(--json gives every track).")] = 20,
                       evaluate: Annotated[bool, typer.Option("--evaluate", help="Test the classifier even when "
                                                                                "every track has audio features.")] = False,
                       dataset: ExploreDatasetOpt = None, demo: DemoOpt = False) -> None:
    """Mood of every track: from audio features, else predicted if the classifier clearly beats guessing."""
    from ..moods import classify_library, mood_counts
    from ..wording import plural
    settings, _, library = _explore_library(config, dataset, demo, quiet, as_json)
    m = settings.moods
    with _Bar(_interactive(quiet, as_json)) as bar:
        bar("training the mood classifier", 0, 1)
        df = classify_library(library, test_size=m.holdout, margin=m.classifier_margin, evaluate=evaluate,
                              where=_where(demo, dataset), classifier_c=m.classifier_c, **_mood_kwargs(settings))
        bar("training the mood classifier", 1, 1)
    report, untested = df.attrs.get("report"), df.attrs.get("untested")
    if as_json:
        _print_json({"classifier": _classifier_json(report) if report else None, "untested": untested,
                     "tracks": _records(df)})
        return
    if report is None and (df["source"] == "audio").all() and not untested:
        typer.echo("every track has audio features: no mood to predict (--evaluate tests the classifier anyway)")
    if untested:  # too few tracks with features to test it: say so, not a silent "no mood"
        unknown = int((df["source"] == "unknown").sum())
        _console().print(_safe(f"mood classifier not used, it cannot be tested: {untested}"
                               + (f"; {_rows(unknown, 'track')} without audio features {plural(unknown, 'gets', 'get')} "
                                  "no mood" if unknown else "")))
    if report is not None:
        verdict = ("used for the tracks without audio features" if report.useful else
                   f"NOT used: it does not beat the baseline by {report.margin:.0%} with p < {report.alpha:g}; "
                   "tracks without audio features get no mood")
        _console().print(f"mood classifier on {report.n_test} held-out tracks: accuracy {report.accuracy:.1%}, "
                         f"always guessing {report.baseline_mood} {report.baseline:.1%} (binomial p = "
                         f"{report.p_value:.2g}): {verdict}")
        conf = report.confusion
        _print_rows([{"true": i, **{c: int(conf.at[i, c]) for c in conf.columns}} for i in conf.index],
                    "Confusion matrix (rows: true mood from audio features; columns: predicted)",
                    ["true"] + list(conf.columns), set())
    _print_rows(mood_counts(df), "Tracks per mood (audio: from audio features; predicted: by the classifier)",
                ["mood", "audio", "predicted", "total"], {"mood"})
    shown = [{**r, "mood": r["mood"] if isinstance(r["mood"], str) else "no mood"}  # not "nan"
             for r in df.head(limit).to_dict("records")]
    _print_rows(shown, f"first {limit} tracks",
                ["name", "artists", "mood", "source", "confidence"], {"name", "artists", "mood"},
                drop=("confidence", "source"))
