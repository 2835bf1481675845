"""Wall time of `recommend tune`'s grid blend for one target (``blend.blender``).

    python bench/blend_speed.py [--candidates 100000] [--scorers 5] [--combos 7472] [--json]

Blends ``--combos`` random weight vectors over ``--candidates`` random normalised scores (30 %
silent), a block of ``tune.BLEND_CELLS`` cells at a time, as every target of every fold of
`recommend tune` does (the default grid of the five shipped scorers is 7,472 combinations;
the candidates are the library's tracks). Reports seconds per target. Measured on 2 cores:
100,000 candidates 4.6 s (the float32 matrix product that was not bit-exact: 3.9 s; the
first bit-exact version, which prepared the candidates again for every block: 13.5 s).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from recommender.blend import blender  # noqa: E402
from recommender.tune import BLEND_CELLS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=100_000)
    ap.add_argument("--scorers", type=int, default=5)
    ap.add_argument("--combos", type=int, default=7472)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    norm = rng.random((args.candidates, args.scorers))
    norm[rng.random(norm.shape) < 0.3] = np.nan
    combos = rng.random((args.combos, args.scorers))
    step = max(1, BLEND_CELLS // args.candidates)
    start = time.perf_counter()
    blend = blender(norm)
    for lo in range(0, len(combos), step):
        blend(combos[lo:lo + step])
    seconds = time.perf_counter() - start
    result = {"candidates": args.candidates, "scorers": args.scorers, "combos": args.combos,
              "seconds": round(seconds, 3)}
    print(json.dumps(result) if args.json else
          f"{args.combos} combinations x {args.candidates} candidates x {args.scorers} scorers: {seconds:.2f} s")


if __name__ == "__main__":
    main()
