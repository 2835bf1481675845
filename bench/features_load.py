"""Seconds and peak memory of everyday commands after `import features` of a huge file.

    python bench/features_load.py [--rows 1200000] [--runs 3] [--json]

In a temporary directory (RECOMMENDER_CACHE_DIR; the user's cache is never touched): one
`build-playlist --demo --dry-run` fills the demo cache (the sample library, 1,695 tracks),
then a features CSV of ``--rows`` rows (the size of Kaggle's "Spotify 1.2M+ Songs" by
default: the library's tracks plus random ids of tracks not in it) is imported into the demo's
data directory. Each command is then run ``--runs`` times, each a fresh ``python -m
recommender`` process, as a user (or cron) runs it: `status --offline`, `build-playlist --demo
--dry-run` (the demo's refresh included) and `moods recommend --mood happy --demo`. Reports the
median wall seconds, CPU seconds (user + system) and peak resident MB of each (``--rows 0``: no
import, the baseline). Wall seconds grow with the machine's load, CPU seconds less, peak MB not.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {"status --offline": ["status", "--offline"],
            "build-playlist --demo --dry-run": ["build-playlist", "--demo", "--dry-run", "--quiet"],
            "moods recommend --demo": ["moods", "recommend", "--mood", "happy", "--demo"]}
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak resident MB) of one CLI process."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "recommender", *args], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    err = child.stderr.read().decode() if child.stderr else ""
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"recommend {' '.join(args)} failed ({child.returncode}): {err.strip()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def write_features(path: Path, library_ids: list[str], rows: int) -> None:
    """A features CSV: ``library_ids`` and random ids up to ``rows`` rows, shuffled."""
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(7)
    letters = np.array(list(ALPHABET))
    n = max(rows - len(library_ids), 0)
    ids = list(library_ids[:rows]) + ["".join(r) for r in letters[rng.integers(0, 62, size=(n, 22))]]
    size = len(ids)
    frame = pd.DataFrame({"id": ids, **{c: rng.random(size).round(3) for c in (
        "danceability", "energy", "speechiness", "acousticness", "instrumentalness", "liveness", "valence")},
        "key": rng.integers(0, 12, size), "mode": rng.integers(0, 2, size),
        "loudness": (-rng.random(size) * 30).round(3), "tempo": (60 + rng.random(size) * 120).round(3),
        "duration_ms": rng.integers(60000, 400000, size)})
    frame.sample(frac=1, random_state=1).to_csv(path, index=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_200_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--write-features", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--tracks", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.write_features:
        import pandas as pd
        write_features(a.write_features, pd.read_parquet(a.tracks)["track_id"].astype(str).tolist(), a.rows)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        env = {**os.environ, "RECOMMENDER_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
        _run(COMMANDS["build-playlist --demo --dry-run"], env)  # fills the demo cache
        demo = {**env, "RECOMMENDER_CACHE_DIR": str(cache / "demo")}  # the demo's data directory
        out: dict[str, object] = {"rows": a.rows}
        if a.rows:
            csv = Path(tmp) / "features.csv"
            # in a process of its own: a child forked from a parent holding the data would start
            # with the parent's resident memory, and its peak would be the parent's
            subprocess.run([sys.executable, __file__, "--write-features", str(csv), "--rows", str(a.rows),
                            "--tracks", str(cache / "demo" / "tracks.parquet")], check=True)
            wall, _, peak = _run(["import", "features", str(csv), "--quiet"], demo)
            out["import"] = {"s": round(wall, 1), "mb": round(peak)}
        for name, args in COMMANDS.items():
            runs = [_run(args, demo if name.startswith("status") else env) for _ in range(a.runs)]
            out[name] = {"s": round(statistics.median(r[0] for r in runs), 2),
                         "cpu_s": round(statistics.median(r[1] for r in runs), 2),
                         "mb": round(statistics.median(r[2] for r in runs))}
    if a.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
