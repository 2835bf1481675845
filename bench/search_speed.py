"""Wall time of a warm `recommend search` beside `recommend --help`'s start-up.

    python bench/search_speed.py DATA_FILE [--query "mad world gary jules"] [--runs 5] [--json]
    python bench/search_speed.py --cache DIR [--query ...]

DATA_FILE is any playlist file `recommend evaluate --dataset` reads (e.g. the 28k-track
TidyTuesday CSV); ``--cache DIR`` searches a copy of a filled cache directory instead
(RECOMMENDER_CACHE_DIR's layout, e.g. the power user's account of bench/power_account.py
after a refresh), without its search index and login. Runs in a temporary cache directory
(RECOMMENDER_CACHE_DIR), so the user's cache is never touched. One cold `search --dataset DATA_FILE` builds and caches the index
(timed and reported as ``cold_s``), then ``--runs`` warm searches and ``--runs`` `--help`
calls alternate; each is a fresh ``python -m recommender`` process, as a user would run it.
Reports the median wall seconds of each and the difference (what search adds to start-up).
Target: warm search under 1 s wall on the 28k-track library. On a loaded machine both
numbers grow together: compare them, and the user CPU seconds, not the wall alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 1.0


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, user+sys CPU seconds) of one CLI process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "recommender", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, nargs="?", help="a playlist data file (as for evaluate --dataset)")
    ap.add_argument("--cache", type=Path, default=None, help="search a copy of this cache directory instead")
    ap.add_argument("--query", default="mad world gary jules")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if (a.data is None) == (a.cache is None):
        ap.error("give a DATA_FILE or --cache DIR")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "RECOMMENDER_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        if a.cache is not None:
            import shutil
            shutil.copytree(a.cache, cache, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("search_index.npz", "recommend.lock", "spotify-token.json"))
            search = ["search", a.query, "--json"]
        else:
            search = ["search", a.query, "--dataset", str(a.data.resolve()), "--json"]
        cold, _ = _run(search, env)
        warm, helps, warm_cpu, help_cpu = [], [], [], []
        for _ in range(a.runs):
            w, c = _run(search, env)
            warm.append(w)
            warm_cpu.append(c)
            w, c = _run(["--help"], env)
            helps.append(w)
            help_cpu.append(c)
    out = {"data": str(a.data or a.cache), "query": a.query, "runs": a.runs, "cold_s": round(cold, 3),
           "warm_search_s": round(statistics.median(warm), 3), "help_s": round(statistics.median(helps), 3),
           "warm_search_cpu_s": round(statistics.median(warm_cpu), 3),
           "help_cpu_s": round(statistics.median(help_cpu), 3)}
    out["search_minus_help_s"] = round(out["warm_search_s"] - out["help_s"], 3)
    out["target_met"] = out["warm_search_s"] < TARGET_S
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{a.data or a.cache} ({a.runs} runs, median wall / CPU seconds)")
        print(f"  cold search (builds the index): {out['cold_s']:.2f} s")
        print(f"  warm search:                    {out['warm_search_s']:.2f} s / {out['warm_search_cpu_s']:.2f} s")
        print(f"  recommend --help:               {out['help_s']:.2f} s / {out['help_cpu_s']:.2f} s")
        print(f"  search adds:                    {out['search_minus_help_s']:+.2f} s; target < {TARGET_S:g} s "
              f"{'met' if out['target_met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
