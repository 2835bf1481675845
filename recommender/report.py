"""An HTML evaluation report with embedded PNG charts (needs matplotlib: extra ``report``).

Charts: precision@N for N = 1..50 per scorer and the blend; the distribution of hits per
target playlist; with a TuneResult, mean p@N over folds of every weight combination tried.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from pathlib import Path

import numpy as np

from .config import TURN_ON, TURN_ON_TUNED, curve_label, off_line, weight_cell, weights_text
from .evaluate import BLEND, EvalResult
from .safetext import html_safe
from .store import atomic_write
from .tune import TuneResult


REPORT_ENDINGS = ("", ".html", ".htm")  # the report is one HTML page, whatever the file is called


def check_available(path: Path | str) -> None:
    """The UsageError ``write_report`` would end with, raised before the evaluation or the
    tuning it reports on (minutes of it, for `tune --report`): matplotlib missing, or a
    ``path`` whose ending names another format (``_check_ending``), or in a folder that cannot be
    written (StorageError, ``store.check_output``)."""
    _check_ending(path)
    from .store import check_output
    check_output(path)
    from .plotfonts import import_matplotlib
    import_matplotlib("the report")  # pyplot itself is imported when the charts are drawn


def _check_ending(path: Path | str) -> None:
    """UsageError for a ``path`` whose ending names another format ("report.png", "report.pdf":
    HTML there is a file no image viewer or PDF reader opens)."""
    from .errors import UsageError
    if str(path).endswith(("/", "\\")):  # a folder: `--report out/` wrote a file named "out"
        raise UsageError(f"{path}: names a folder; give the report's file name (report.html)")
    if Path(path).suffix.lower() not in REPORT_ENDINGS:
        raise UsageError(f"{path}: the report is an HTML page (its charts inside it): give a file ending "
                         f"in .html, not {Path(path).suffix}")


def _pyplot():
    from .plotfonts import import_matplotlib
    import_matplotlib("the report", "matplotlib.pyplot")  # on Agg: files only, never a window
    import matplotlib.pyplot as plt
    return plt


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _precision_chart(plt, result: EvalResult) -> str:
    fig, ax = plt.subplots(figsize=(7, 4))
    for method in result.hits:
        curve = result.precision_curve(method)
        label = curve_label(result.weights, method)  # "(off)": alone, not in the blend
        ax.plot(np.arange(1, len(curve) + 1), curve, label=label,
                lw=2.5 if method == BLEND else 1.2, ls="-" if label == method else ":")
    ax.set_xlabel("N")
    ax.set_ylabel("precision@N")
    ax.set_title("precision@N per scorer and the blend")
    ax.grid(alpha=0.3)
    ax.legend()
    out = _png(fig)
    plt.close(fig)
    return out


def _hits_chart(plt, result: EvalResult) -> str:
    hits = result.hits[BLEND][:, :result.top_n].sum(axis=1)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(hits, bins=np.arange(result.top_n + 2) - 0.5, rwidth=0.85)
    ax.set_xlabel(f"hidden tracks found in the blend's top {result.top_n}")
    ax.set_ylabel("target playlists")
    ax.set_title("hits per target playlist")
    from matplotlib.ticker import MaxNLocator
    for axis in (ax.xaxis, ax.yaxis):  # counts: no half a playlist
        axis.set_major_locator(MaxNLocator(integer=True))
    out = _png(fig)
    plt.close(fig)
    return out


def _tune_chart(plt, tuned: TuneResult) -> str:
    mean = tuned.precision.mean(axis=0)
    std = tuned.precision.std(axis=0)
    order = np.argsort(mean)
    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(order))
    ax.plot(x, mean[order], lw=1.5)
    ax.fill_between(x, (mean - std)[order], (mean + std)[order], alpha=0.25)
    d = tuned._index(tuned.defaults)
    if d >= 0:
        ax.axhline(mean[d], color="grey", ls="--", label="your weights")  # (tune.defaults: the config's)
        ax.legend()
    ax.set_xlabel("weight combinations, sorted by mean p@N")
    ax.set_ylabel(f"p@{tuned.top_n} (mean ± sd over folds)")
    import textwrap
    ax.set_title(textwrap.fill(f"tuning: {len(order)} combinations, best {weights_text(tuned.best_weights)}", 70),
                 fontsize=10)
    out = _png(fig)
    plt.close(fig)
    return out


def _code(escaped: str) -> str:
    """Escaped text whose `commands` (the terminal's words) are shown as code, not as backticks."""
    return re.sub(r"`([^`<>]+)`", r"<code>\1</code>", escaped)


def write_report(result: EvalResult, path: Path | str, tuned: TuneResult | None = None,
                 source: str | None = None) -> Path:
    """Write the HTML report to ``path`` (atomically) and return the path; ``tuned``: the
    search `tune --report` ran, whose best weights ``result`` was evaluated with; ``source``:
    what was measured, as the terminal's title says it (the library or file, split, hiding)."""
    _check_ending(path)
    plt = _pyplot()
    path = Path(path)
    charts = [("precision@N", _precision_chart(plt, result)), ("hits per playlist", _hits_chart(plt, result))]
    if tuned is not None:
        charts.append(("tuning", _tune_chart(plt, tuned)))
    rows = "".join(
        f"<tr><td>{html_safe(name)}</td><td>{html_safe(weight_cell(result.weights, name))}</td>"
        + "".join(f"<td>{v:.4f}</td>" for k, v in met.items()) + "</tr>"
        for name, met in result.metrics.items())
    # as evaluate's table says it: their rows are each scorer alone (after tune: not "let tune search")
    off = off_line(result.weights, TURN_ON if tuned is None else TURN_ON_TUNED)
    head = "".join(f"<th>{html_safe(k)}</th>" for k in next(iter(result.metrics.values())))
    imgs = "".join(f"<h2>{html_safe(t)}</h2><img alt='{html_safe(t)}' src='data:image/png;base64,{b}'>"
                   for t, b in charts)
    # (html.escape alone: html_safe wrote each line break as a visible "\x0a"; json.dumps escapes the rest)
    tune_json = (f"<h2>tuning summary</h2><pre>{html.escape(json.dumps(tuned.to_dict(), indent=2))}</pre>"
                 if tuned is not None else "")
    from .isotime import shown, utc_now
    measured = f" from {html_safe(source)}" if source else ""
    # a tune's report: the numbers of its best weights, and whether tune takes them
    whose = ("" if tuned is None else "<p id='whose'>These are the numbers of tune's best weights"
             + ("; tune keeps your current weights: the gain is within the spread of the folds" if tuned.within_spread
                else "") + ".</p>")
    title = "Evaluation" if tuned is None else "Tuning"
    doc = (f"<!doctype html><html><head><meta charset='utf-8'><title>recommend: {title.lower()}</title>"
           f"<style>body{{font-family:sans-serif;max-width:60em;margin:auto}}td,th{{padding:2px 8px;"
           f"text-align:right}}</style></head><body><h1>{title}</h1>"
           f"<p>{result.targets} target playlists{measured}, top {result.top_n}, {result.seconds:.1f} s, "
           f"blend weights {html_safe(weights_text({k: w for k, w in result.weights.items() if w}))}; "
           f"measured {shown(utc_now())}</p>{whose}"
           f"<table><tr><th>method</th><th>weight</th>{head}</tr>{rows}</table>"
           + (f"<p id='off'>{_code(html_safe(off))}</p>" if off else "") + f"{imgs}{tune_json}</body></html>")
    atomic_write(path, lambda p: p.write_text(doc, encoding="utf-8"), chosen=True)
    return path
