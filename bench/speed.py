"""Speed and memory of one recommendation run on synthetic libraries.

    python bench/speed.py --tracks 100000 --playlists 2000 --json   # one size, this process
    python bench/speed.py                                           # the ladder, one table
    python bench/speed.py --tracks 100000                           # one size as a table

One size: builds ``bench.synth.make_library`` (not timed), then times ONE
``build_recommendations(seed_playlist=<the median-sized playlist>)`` with the real scorers
(``recommender.scorers.make_scorers``), their fit (feature building) included, in this
fresh process. Imports happen before the clock starts (their time is logged to stderr).
``peak_mb`` is ``ru_maxrss`` of this process: the peak resident memory of the whole run
(interpreter, imports, the synthetic library and the pipeline), nothing subtracted.

The ladder (no ``--json``, or ``--table``) runs 1k/10k/100k/1M tracks (playlists =
tracks/50; or only ``--tracks``), each size in its own subprocess, and prints one table;
the time per stage (seeds+candidates, fit <scorer>, score+blend, select+why) goes to
stderr. ``--profile N`` prints the N most expensive functions of the timed call to stderr.
Targets: 100k tracks / 2k playlists < 1.5 s and < 1 GB; 1M / 20k < 20 s and < 8 GB.

``--discovery`` (issue 9): a 50k-track library (``--tracks``) plus 10k discovered tracks
(``--discovered``) with open-data evidence (similar tracks of the seeds, similar artists,
listen counts); times one taste-profile run without the discovery frames and the open-data
scorer, then one with them, each on a fresh Library, and prints the difference. Target: the
discovery part adds < 1 s and < 300 MB (the network part is bounded by the request budget,
not by the library size).
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LADDER = (1_000, 10_000, 100_000, 1_000_000)
log = logging.getLogger("bench.speed")
TARGETS = {100_000: (1.5, 1024.0), 1_000_000: (20.0, 8192.0)}  # tracks -> (seconds, MB)


def _settings():
    from recommender.config import default_settings

    return default_settings()  # package defaults only, never the user's config


def measure(n_tracks: int, n_playlists: int, seed: int = 0, profile: int = 0) -> dict:
    """Build a library, time one playlist-mode run; returns the JSON record."""
    from bench.synth import make_library, median_playlist
    from recommender.pipeline import build_recommendations

    settings = _settings()
    t0 = time.perf_counter()
    import recommender.scorers  # noqa: F401  (imports are paid once per process, not per run)

    log.info("importing the scorers took %.2f s (not in 'seconds')", time.perf_counter() - t0)
    library = make_library(n_tracks, n_playlists, seed=seed)
    target = median_playlist(library)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start = time.perf_counter()
    rec = build_recommendations(library, settings, seed_playlist=target)
    seconds = time.perf_counter() - start
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(profile)
    log.info("%d candidates, %d chosen; stages: %s", rec.n_candidates, len(rec.table),
             ", ".join(f"{k} {v:.2f} s" for k, v in rec.timings.items()))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"tracks": len(library.track_ids), "playlists": len(library.playlist_ids),
            "memberships": int(len(library.frames["playlist_items"])),
            "seconds": round(seconds, 3), "peak_mb": round(peak_kb / 1024, 1)}


def with_discovery(library, n_new: int, seed: int = 0):
    """``library`` plus ``n_new`` discovered tracks and the open-data frames pointing at them."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    tracks = library.frames["tracks"]
    donors = tracks.iloc[rng.integers(0, len(tracks), n_new)]
    new_ids = [f"new{i:018d}" for i in range(n_new)]
    new = donors.assign(track_id=new_ids, isrc=None, name=[f"new song {i}" for i in range(n_new)]).reset_index(drop=True)
    seeds = library.frames["top_tracks"]["track_id"].astype(str).unique()
    seeds = seeds if len(seeds) else tracks["track_id"].astype(str).to_numpy()[:50]
    sim_t = pd.DataFrame({"seed_track_id": rng.choice(seeds, n_new), "track_id": new_ids,
                          "score": rng.random(n_new), "rank": rng.integers(1, 50, n_new)})
    artists = library.frames["artists"]
    seed_artists = artists["artist_id"].astype(str).to_numpy()[:50]
    names = [a[0] if len(a) else "" for a in new["artist_names"]]
    sim_a = pd.DataFrame({"seed_artist_id": rng.choice(seed_artists, n_new // 10) if len(seed_artists) else [],
                          "seed_artist_name": "seed", "artist_mbid": [f"m{i}" for i in range(n_new // 10)],
                          "artist_name": rng.choice(names, n_new // 10), "score": rng.random(n_new // 10),
                          "rank": 1})
    recs = pd.DataFrame({"track_id": new_ids, "recording_mbid": [f"r{i}" for i in range(n_new)],
                         "artist_mbids": [[] for _ in range(n_new)], "listen_count": rng.integers(0, 10**6, n_new)})
    disc = pd.DataFrame({"track_id": new_ids, "source": "similar_recordings", "seed_id": sim_t["seed_track_id"],
                         "seed_name": "seed", "score": sim_t["score"]})
    return library.replace(tracks=pd.concat([tracks, new], ignore_index=True), similar_tracks=sim_t,
                           similar_artists=sim_a, recordings=recs, discovered=disc)


def measure_discovery(n_tracks: int, n_playlists: int, n_new: int, seed: int = 0) -> dict:
    """Time one taste run without, then with, ``n_new`` discovered tracks and the open-data scorer."""
    from bench.synth import make_library
    from recommender.pipeline import build_recommendations

    import recommender.scorers  # noqa: F401

    settings = _settings()
    base = make_library(n_tracks, n_playlists, seed=seed)
    off = settings.with_overrides({"scorers.opendata.weight": 0.0, "candidates.new_share": 0.0})
    build_recommendations(base, off)  # warm-up: first-call costs (imports, caches) are not discovery's
    start = time.perf_counter()
    build_recommendations(base, off)
    t_base = time.perf_counter() - start
    mb_base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del base  # the peak with discovery must not hold a second library
    library = with_discovery(make_library(n_tracks, n_playlists, seed=seed), n_new, seed)
    start = time.perf_counter()
    rec = build_recommendations(library, settings)
    t_disc = time.perf_counter() - start
    mb_disc = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    log.info("with discovery: %d candidates, %d chosen (%d new); stages: %s", rec.n_candidates, len(rec.table),
             int(rec.table["new"].sum()), ", ".join(f"{k} {v:.2f} s" for k, v in rec.timings.items()))
    return {"tracks": n_tracks, "discovered": n_new, "seconds_without": round(t_base, 3),
            "seconds_with": round(t_disc, 3), "added_seconds": round(t_disc - t_base, 3),
            "added_peak_mb": round(mb_disc - mb_base, 1), "target": "< 1 s, < 300 MB"}


def ladder(sizes, seed: int = 0) -> list[dict]:
    """Run each (tracks, playlists) size in its own subprocess; a failed size gets an "error"."""
    out = []
    for n, m in sizes:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--tracks", str(n),
               "--playlists", str(m), "--seed", str(seed), "--json"]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            out.append({"tracks": n, "playlists": m, "error": tail})
            continue
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        stages = [line for line in proc.stderr.splitlines() if "stages:" in line]
        if stages:
            log.info("%d tracks: %s", n, stages[-1].split("stages: ", 1)[-1])
    return out


def format_table(rows: list[dict]) -> str:
    lines = [f"{'tracks':>9} {'playlists':>9} {'memberships':>11} {'seconds':>8} {'peak MB':>8}  target",
             "-" * 64]
    for r in rows:
        if "error" in r:
            lines.append(f"{r['tracks']:>9} {r['playlists']:>9} {'':>11} {'failed':>8} {'':>8}  {r['error']}")
            continue
        goal = TARGETS.get(r["tracks"])
        verdict = ""
        if goal:
            ok = r["seconds"] < goal[0] and r["peak_mb"] < goal[1]
            verdict = f"{'ok' if ok else 'MISSED'} (< {goal[0]:g} s, < {goal[1]:g} MB)"
        lines.append(f"{r['tracks']:>9} {r['playlists']:>9} {r['memberships']:>11} {r['seconds']:>8.2f} "
                     f"{r['peak_mb']:>8.0f}  {verdict}")
    lines.append("seconds: one build_recommendations(seed_playlist=...) incl. scorer fit; "
                 "peak MB: ru_maxrss of the child process (whole run, library generation included)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, help="number of tracks (one size)")
    parser.add_argument("--playlists", type=int, help="number of playlists (default tracks/50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="one size, one JSON line")
    parser.add_argument("--table", action="store_true", help="the ladder as one table")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the top N functions")
    parser.add_argument("--discovery", action="store_true", help="the open-data discovery case (issue 9)")
    parser.add_argument("--discovered", type=int, default=10_000, help="discovered tracks (with --discovery)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    if args.discovery:
        n = args.tracks or 50_000
        print(json.dumps(measure_discovery(n, args.playlists or max(n // 50, 1), args.discovered, seed=args.seed)))
        return 0
    if args.json and not args.table:
        n = args.tracks or 100_000
        record = measure(n, args.playlists or max(n // 50, 1), seed=args.seed, profile=args.profile)
        print(json.dumps(record))
        return 0
    sizes = [(args.tracks, args.playlists or max(args.tracks // 50, 1))] if args.tracks else \
        [(n, max(n // 50, 1)) for n in LADDER]
    print(format_table(ladder(sizes, seed=args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
