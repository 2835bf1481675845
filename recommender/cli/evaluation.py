"""`recommend evaluate` and `tune`: hidden-track evaluation and the weight search."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..config import MAX_FOLDS, MAX_TOP_N
from ..errors import UsageError
from .base import (ConfigOpt, JsonOpt, QuietOpt, VerboseOpt, _file_to_read, _file_to_write, _logging, _settings, _source,
                   command)
from .output import _Bar, _console, _echo, _echo_wrapped, _interactive, _note, _print_json, _state, _table


DatasetOpt = Annotated[Optional[Path], typer.Option("--dataset", help="Use a playlist CSV (benchmark or "
                                                                     "Exportify format) instead of your cache.",
                                                   parser=_file_to_read, metavar="<path>")]
SplitOpt = Annotated[str, typer.Option("--split", help="With --dataset: dev, holdout or all (a fixed sha1 split of the "
                                                  "playlists; README, Evaluation).")]
FeaturesOpt = Annotated[str, typer.Option("--features", help="With --dataset: restricted (what a personal app gets) "
                                                             "or full (+ popularity, audio features).")]


def _evaluation_setup(config, quiet, verbose, dataset, split, features, demo=False, as_json=False):
    """Settings, logging and the (library, hidden tracks) that evaluate and tune share; with
    ``demo``, the sample library (pulled once, as search/similar/moods --demo do) and settings
    pointed at the demo's directory (your weights and other keys are kept)."""
    from .. import jobs
    from ..paths import SAMPLE_LIBRARY
    settings, library = _settings(config), None
    if demo:  # the sample's audio features too, as search/similar/moods --demo have them
        from ..libsource import with_sample_features
        source = _source(settings, dataset, demo, quiet, as_json)
        settings, library = source.settings, with_sample_features(source, source.load())
    _logging(settings, quiet, verbose)
    return settings, jobs.evaluation_setup(settings, dataset, split, features, library=library,
                                           owner=SAMPLE_LIBRARY if demo else "your library",
                                           demo=jobs.ADD_DEMO)  # none cached: evaluate and tune take --demo


@command("evaluate", examples=("recommend evaluate", "recommend evaluate --demo",
                               "recommend evaluate --top-n 20 --report eval.html",
                               "recommend evaluate --dataset playlists.csv --split dev --json"))
def evaluate_cmd(
    config: ConfigOpt = None, quiet: QuietOpt = False, as_json: JsonOpt = False, verbose: VerboseOpt = False,
    dataset: DatasetOpt = None, split: SplitOpt = "all", features: FeaturesOpt = "restricted",
    top_n: Annotated[Optional[int], typer.Option("--top-n", "-n", min=1, max=MAX_TOP_N, help="N of precision@N (default: "
                                                                         "evaluate.top_n).")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", parser=_file_to_write, metavar="PATH", help="Write an HTML report with plots.")] = None,
    protocol: Annotated[str, typer.Option("--protocol", help="With --dataset: continuation (pooled, tt-continuation-v1) "
                                                             "or persona (ten playlists per person, tt-persona-v1; "
                                                             "README, Evaluation).")
                        ] = "continuation",
    in_process: Annotated[bool, typer.Option("--in-process", help="With --protocol persona: compute the open data "
                                                                  "in-process instead of serving it through the "
                                                                  "ListenBrainz stand-in (same numbers, faster).")
                          ] = False,
    demo: Annotated[bool, typer.Option("--demo", help="Evaluate on the sample library (pulled once through the "
                                                      "built-in stand-in; no Spotify account needed).")] = False,
) -> None:
    """Hide tracks of your playlists and measure how well each scorer and the blend find them."""
    from .. import jobs
    if protocol != "continuation":
        if demo:
            raise UsageError("--protocol persona reads a playlist data file (--dataset FILE), not --demo")
        if top_n is not None:  # else p@10 and no report, looking like what was asked
            raise UsageError("--top-n is not for --protocol persona: the personal-library benchmark is "
                             "measured at 10; leave --top-n out")
        if report is not None:
            raise UsageError("--report is not for --protocol persona: the personal-library benchmark has no "
                             "HTML report; leave --report out (--json gives its numbers)")
        return _evaluate_persona(config, quiet, verbose, as_json, dataset, split, features, protocol, in_process)
    if in_process:
        raise UsageError("--in-process is for --protocol persona (its open data); leave it out here")
    if report:
        from ..report import check_available
        check_available(report)
    settings, setup = _evaluation_setup(config, quiet, verbose, dataset, split, features, demo, as_json)
    with _Bar(_interactive(quiet, as_json)) as bar:
        result = jobs.evaluate(settings, setup, top_n=top_n, progress=bar)
    if report:
        from ..report import write_report
        write_report(result, report, source=setup.shared_source)
    if as_json:
        _print_json(result.to_dict())
        return
    n = result.top_n
    keys = [f"p@{n}", f"r@{n}", f"ndcg@{n}", "rprec", "coverage", "catalogue_coverage", "diversity"]
    from ..config import off_line, weight_cell
    rows = [[name, weight_cell(result.weights, name)] + [f"{met.get(k, float('nan')):.4f}" for k in keys]
            for name, met in result.metrics.items()]
    from ..tables import joined
    from ..wording import plural
    _console().print(_table(f"{joined(result.targets, plural(result.targets, 'target'))} from {setup.source}; "
                            f"{joined(f'{result.seconds:.1f}', 's')}", ["method", "weight"] + keys, rows,
                            drop=("catalogue_coverage", "diversity", "coverage", f"r@{n}", "rprec"), text=("weight",)))
    if off := off_line(result.weights):  # their rows are each scorer alone: what it would bring, not what it brings
        _echo_wrapped(off)
    from ..scorers.audio import idle_note
    if idle := idle_note(result.weights, setup.library):  # a weight that changes nothing, and why
        _echo_wrapped(idle)
    if report:
        typer.echo(f"report written to {report}")


def _evaluate_persona(config, quiet, verbose, as_json, dataset, split, features, protocol, in_process) -> None:
    """``evaluate --protocol persona``: the personal-library benchmark (recommender/persona.py)."""
    from .. import jobs
    settings = _settings(config)
    _logging(settings, quiet, verbose)
    with _Bar(_interactive(quiet, as_json)) as bar:
        result = jobs.evaluate_persona(settings, dataset, split, features, protocol, standins=not in_process,
                                       progress=bar)
    out = result.to_dict()
    if as_json:
        _print_json(out)
        return
    keys = ["p@10", "ndcg@10", "rprec", "new@10", "known@10"]
    rows = [[name] + [f"{met.get(k, float('nan')):.4f}" for k in keys] for name, met in result.metrics.items()]
    from ..tables import joined
    from ..wording import plural
    _console().print(_table(f"{joined(result.targets, plural(result.targets, 'target'))} of "
                            f"{joined(result.personas, plural(result.personas, 'persona'))} ({split} "
                            f"split); reach {result.reach:.4f}, {joined(f'{result.requests:.0f}', 'look-ups')} per "
                            f"person; {joined(f'{result.seconds:.1f}', 's')}",
                            ["method"] + keys, rows, drop=("known@10", "new@10", "rprec")))


@command("tune", writes=("write", "undo"), examples=("recommend tune", "recommend tune --folds 5 --write",
                                                     "recommend tune --undo", "recommend tune --demo"))
def tune_cmd(
    config: ConfigOpt = None, quiet: QuietOpt = False, as_json: JsonOpt = False, verbose: VerboseOpt = False,
    dataset: DatasetOpt = None, split: SplitOpt = "all", features: FeaturesOpt = "restricted",
    folds: Annotated[Optional[int], typer.Option("--folds", min=1, max=MAX_FOLDS, help="Cross-validation folds (default: "
                                                                        "tune.folds); the first hides what "
                                                                        "`recommend evaluate` hides.")] = None,
    write: Annotated[bool, typer.Option("--write", help="Store the best weights in your config file (the diff "
                                                        "is shown), unless their gain is within the spread over "
                                                        "folds (then your weights stay).")] = False,
    report: Annotated[Optional[Path], typer.Option("--report", parser=_file_to_write, metavar="PATH", help="Write an HTML report with the tuning "
                                                                   "curve.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Tune on the sample library (pulled once through the "
                                                      "built-in stand-in); not with --write.")] = False,
    undo: Annotated[bool, typer.Option("--undo", help="Put back the weights the last --write replaced in your "
                                                      "config file (no search).")] = False,
) -> None:
    """Search the blend weights (cross-validated) and optionally write the best to your config."""
    from .. import jobs
    if undo:
        _refuse_beside_undo((("--write", write), ("--demo", demo), ("--dataset", dataset is not None),
                             ("--report", report is not None), ("--folds", folds is not None),
                             ("--split", split != "all"), ("--features", features != "restricted")))
        return _undo_tuned(config, quiet, verbose, as_json)
    if demo and write:  # weights that fit the sample user are no advice for your library
        raise UsageError("--write and --demo cannot be combined: weights tuned on the sample library "
                         "would overwrite your config's; tune on your own library to write them")
    if report:  # what would fail at the end fails now, before minutes of search: a report without
        from ..report import check_available  # matplotlib, or one named as another format
        check_available(report)
    settings, setup = _evaluation_setup(config, quiet, verbose, dataset, split, features, demo, as_json)
    # and a config file that cannot be written
    target = jobs.tuned_weights_file(settings, config or _state.config, check=True) if write else None
    if dataset is not None and split != "dev":  # tuned on holdout, its numbers measure nothing any more
        _note(f"tuning on {'the holdout split' if split == 'holdout' else 'every playlist of the file, its holdout split too'}: "
              "`evaluate --split holdout` then no longer measures weights on playlists they never saw; "
              "tune with --split dev and report holdout once")
    again = jobs.tuned_off(settings, config or _state.config)  # read once: the search and the output's note
    with _Bar(_interactive(quiet, as_json)) as bar:
        result = jobs.tune(settings, setup, folds=folds, progress=bar, searched_at_0=again)
    out = result.to_dict()
    n = result.top_n
    out["searched_again"] = [s for s in again if s in result.names]
    if not as_json:  # the result first: a write or a report that fails then loses nothing
        _print_tuned(out, n, setup.source, write)
        if out["searched_again"]:
            from ..wording import and_list
            _echo_wrapped(f"{and_list(out['searched_again'])} at weight 0 since an earlier `recommend tune --write`: "
                          "searched again (a scorer you set to 0 yourself stays off)")
        from ..scorers import blend_weights
        from ..scorers.audio import idle_note
        if "audio" not in result.names and (idle := idle_note(blend_weights(settings), setup.library)):
            _echo_wrapped(f"{idle}: tune did not search it, and --write leaves it as it is")
    if report:  # before the config: a report that cannot be written leaves the config as it was
        from ..report import write_report
        best = settings.with_overrides({f"scorers.{k}.weight": v for k, v in result.best_weights.items()})
        write_report(jobs.evaluate(best, setup), report, tuned=result, source=setup.shared_source)
    diff = None
    if write and result.within_spread:  # no change on noise: the current weights stay
        out["written"], out["changed"] = str(target), False
    elif write:
        path, diff = jobs.write_tuned_weights(settings, result.tuned_weights, target, by_tune=True,  # never tune.fixed's
                                              check=lambda: jobs.weights_unchanged(settings, target))  # edited meanwhile?
        out["written"], out["changed"] = str(path), bool(diff)
    if as_json:
        _print_json(out)
        return
    if write:
        _say_written(out, result, diff, config, quiet)
    if report:
        typer.echo(f"report written to {report}")


def _refuse_beside_undo(options) -> None:
    """`tune --undo` searches nothing: a UsageError naming each of ``options`` (name, given)
    given with it."""
    given = [o for o, on in options if on]
    if given:
        raise UsageError(f"--undo puts back the weights of your config file and searches nothing: "
                         f"leave out {', '.join(given)}")


def _say_written(out: dict, result, diff: str | None, config: Path | None, quiet: bool) -> None:
    """What `tune --write` did to the config file ``out["written"]``: kept its weights (a gain
    within the spread), wrote them (the ``diff``, and the command that puts them back) or had
    nothing to write."""
    from ..tables import whole
    written = whole(out.get("written", ""))  # the config file written: a copy of its path stays whole
    if result.within_spread:
        _echo_wrapped(f"{written} keeps its weights: the best weights' gain is within the spread over "
                      "folds (set them by hand to use them anyway)")
    elif diff:
        from ..config import weights_text
        _echo(diff)
        undo = whole(_undo_command(config))  # whole on its line, to copy
        before = out["defaults"]["weights"]  # those the write changed (not tune.fixed's, never written)
        changed = {k: before.get(k, 0.0) for k, v in result.tuned_weights.items() if before.get(k, 0.0) != v}
        said = f"weights written to {written}; `{undo}` puts back what they were: {weights_text(changed or before)}"
        if quiet:  # your config changed: said with --quiet too (cron's mail), as a note
            _note(said)
        else:
            _echo_wrapped(said)
    else:
        _echo_wrapped(f"nothing written to {written}: the best weights are the ones in effect")


def _undo_command(config: Path | None) -> str:
    """`recommend tune --undo`, with the --config it needs to find the same file."""
    import shlex
    config = config or _state.config
    return "recommend tune --undo" + (f" --config {shlex.quote(str(config))}" if config else "")


def _undo_tuned(config, quiet: bool, verbose: bool, as_json: bool) -> None:
    """`tune --undo`: the weights the last `tune --write` replaced, back in the same file."""
    from .. import jobs
    settings = _settings(config)
    _logging(settings, quiet, verbose)
    path, diff, record = jobs.undo_tuned_weights(settings, config or _state.config)
    if as_json:
        _print_json({"written": str(path), "changed": bool(diff), "weights": record["before"],
                     "replaced": record["after"], "written_at": record.get("at")})
        return
    if diff:
        _echo(diff)
    at = str(record.get("at") or "")
    when = f" ({at[:16].replace('T', ' ')} UTC)" if at.endswith("+00:00") else ""
    # what wrote them: tune, or a Save in the web app (a record from before 2 Dec 2026 names neither)
    _echo(f"{path} has the weights it had before {record.get('by') or '`recommend tune --write`'}{when} again")


def _print_tuned(out: dict, n: int, source: str, write: bool = False) -> None:
    """tune's table (current and best weights, mean ± spread over folds), what `recommend
    evaluate` will show for the best weights, and whether the gain is within the spread."""
    from ..config import weights_text
    fixed = out.get("fixed", {})
    spread = out["folds"] > 1  # one fold has no spread: not "± 0.0000"

    def cell(r: dict, metric: str) -> str:
        mean = f"{r.get(metric, float('nan')):.4f}"
        return f"{mean} ± {r.get(f'{metric}_std', float('nan')):.4f}" if spread else mean
    rows = []
    for key, label in (("defaults", "current"), ("best", "best")):
        r = out[key]
        w = ", ".join(weights_text({k: v}) + (" (fixed)" if k in fixed else "") for k, v in r["weights"].items())
        rows.append([label, w, cell(r, f"p@{n}"), cell(r, f"ndcg@{n}")])
    from ..tables import joined
    from ..wording import and_list, plural
    folds = joined(out["folds"], plural(out["folds"], "fold"))
    took = joined(f"({out['seconds']:.0f}", "s)")
    _console().print(_table(f"{joined(out['combinations'], 'weight', plural(out['combinations'], 'combination'))} x {folds} on {source} "
                            f"{took}" + ("; mean ± spread over folds" if spread else ""),
                            ["", "weights", f"p@{n}", f"ndcg@{n}"], rows, wide="weights"))
    cur, best = out["defaults"], out["best"]
    if out["folds"] > 1 and best.get(f"p@{n}_folds"):  # the one number a later `evaluate` can confirm
        first = joined(f"p@{n}", f"{best[f'p@{n}_folds'][0]:.4f}")
        _echo_wrapped(f"`recommend evaluate` gives {first} with the best weights: it hides what the first fold hides "
                      f"(the table's mean is over {joined(out['folds'], 'folds')})")
    if fixed:  # why they did not move
        _echo_wrapped(f"(fixed): tune.fixed keeps {and_list(fixed)} at your config's "
                      f"{plural(len(fixed), 'weight')} in every combination tried, and --write "
                      "never changes them (`tune.fixed: []` searches them too)")
    gain = best.get(f"p@{n}", 0.0) - cur.get(f"p@{n}", 0.0)
    searched = [k for k in best["weights"] if k not in fixed]
    if not searched:
        _echo_wrapped(f"note: every scorer that is on is in tune.fixed ({', '.join(fixed)}): there was nothing to "
                      "tune; `tune.fixed: []` searches them too")
    elif len(best["weights"]) == 1:  # "as good as far as this library can tell" of a search of nothing
        _echo_wrapped(f"note: only {next(iter(best['weights']))} is on, and one scorer ranks alike at any weight: "
                      "there was nothing to tune. A scorer at weight 0 (an earlier `tune --write` may have set it "
                      "so) joins the search once your config gives it a weight again (scorers.NAME.weight)")
    elif best["weights"] == cur["weights"] and write:  # the write says what it did (a file of defaults gets them)
        _echo_wrapped("note: your current weights are the best of the search")
    elif best["weights"] == cur["weights"]:
        _echo_wrapped("note: your current weights are the best of the search: nothing to change")
    elif out["within_spread"]:
        _echo_wrapped(f"note: the best weights gain {joined(f'{gain:+.4f}', f'p@{n}')}, within the spread over folds: "
                      "your current weights are as good as far as this library can tell")
    elif out["folds"] == 1 and write:  # a one-playlist library's one fold turned two scorers off unsaid
        targets = sum(out["targets"])
        _echo_wrapped(f"note: one fold, on {joined(targets, plural(targets, 'playlist'))}: nothing checked the best "
                      "weights' gain against chance (with --folds 3 or more, --write keeps your weights when the gain "
                      "is within the spread over folds)")
