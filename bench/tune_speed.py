"""Wall time of `recommend tune` on a filled cache, on a seeded subset of its targets.

    python bench/tune_speed.py --cache DIR [--targets 40] [--folds 1] [--out FILE] [--profile FILE] [--json]

Reads the library of the cache directory ``DIR`` (a refresh's: e.g. the power account of
README's "Speed and memory", ``RECOMMENDER_CACHE_DIR=DIR recommend refresh`` with the
stand-in's exports) and the settings `recommend tune` would use (your config file, the
shipped grid), hides what `recommend tune` hides on each fold (``hide_random`` with
``evaluate.hide_fraction``, ``evaluate.min_tracks`` and seed ``evaluate.seed + fold``), and
keeps the hidden tracks of ``--targets`` of its playlists, drawn with a fixed seed (0: every
target, the whole `recommend tune --folds N`). Reports seconds in all and per target.
``--out FILE`` writes the whole result (``TuneResult.to_dict`` without its seconds, plus a
SHA-256 of every combination's p@N and nDCG@N on every fold, so two versions' runs can be
compared bit for bit); ``--profile FILE`` runs under cProfile and saves its statistics. The
seconds are wall time (and the process's CPU time beside: on a shared machine the wall time
follows the load) of the tuning alone, the library's reading left out.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True, help="a filled cache directory (read only)")
    ap.add_argument("--targets", type=int, default=40, help="targets per fold (0: all of them)")
    ap.add_argument("--folds", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="write the whole result as JSON")
    ap.add_argument("--profile", type=Path, default=None, help="save cProfile statistics here")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    os.environ["RECOMMENDER_CACHE_DIR"] = str(a.cache)

    from recommender import jobs
    from recommender.config import load_settings
    from recommender.dataset import hide_random
    from recommender.tune import tune

    settings = load_settings()
    setup = jobs.evaluation_setup(settings)
    ev = settings.evaluate

    def hider(lib, fold):
        hidden = hide_random(lib, fraction=ev.hide_fraction, seed=ev.seed + fold, min_tracks=ev.min_tracks)
        pids = np.sort(hidden["playlist_id"].astype(str).unique())
        if 0 < a.targets < len(pids):
            pids = np.random.default_rng(fold).choice(pids, a.targets, replace=False)
            hidden = hidden[hidden["playlist_id"].astype(str).isin(pids)]
        return hidden

    def run():
        return tune(setup.library, settings, folds=a.folds, seed=ev.seed, hider=hider)

    start, cpu = time.perf_counter(), time.process_time()
    if a.profile is not None:
        import cProfile
        prof = cProfile.Profile()
        result = prof.runcall(run)
        prof.dump_stats(str(a.profile))
    else:
        result = run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    targets = sum(result.targets)
    out = {"tracks": len(setup.library.track_ids), "targets": targets, "combinations": len(result.combos),
           "seconds": round(seconds, 2), "seconds_per_target": round(seconds / max(targets, 1), 3),
           "cpu_seconds": round(cpu, 2),
           "load_average": round(os.getloadavg()[0], 2)}
    if a.out is not None:
        whole = result.to_dict()
        whole.pop("seconds")
        whole["arrays_sha256"] = hashlib.sha256(np.ascontiguousarray(result.precision).tobytes()
                                                + np.ascontiguousarray(result.ndcg).tobytes()
                                                + np.ascontiguousarray(result.combos).tobytes()).hexdigest()
        a.out.write_text(json.dumps(whole, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(out) if a.json else
          f"{targets} targets x {len(result.combos)} combinations on {out['tracks']} tracks: "
          f"{seconds:.1f} s ({out['seconds_per_target']} s a target; CPU {cpu:.1f} s; load average "
          f"{out['load_average']})")


if __name__ == "__main__":
    main()
