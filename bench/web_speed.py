"""Server time of every `recommend web` page on a synthetic library (bench/synth.py).

Writes the synthetic library to a temporary cache, starts the app as `recommend web` does
(bound to 127.0.0.1, a real uvicorn server, a thread), with a stand-in gateway that has no
managed playlist yet (no Spotify, no network), and reads each response's Server-Timing header
(the app's own time, transport excluded). "cold" is the first request (it computes: dry run,
clustering, search index, scorers); "warm" the median of the next five (cached). Start-up is
measured on the real command (`recommend web --no-browser` in a subprocess): until its URL is
printed, and until it answers the first request.

    python bench/web_speed.py                      # 10,000 tracks, 200 playlists
    python bench/web_speed.py --tracks 1000 --playlists 20 --json
    python bench/web_speed.py --audio 0.9          # 90 % of the tracks with (random) audio features
    python bench/web_speed.py --cache DIR          # a copy of a filled cache directory instead

``--cache DIR`` measures a real library: a directory as ``RECOMMENDER_CACHE_DIR`` makes it (for
the power user's account, bench/power_account.py: refresh it through the stand-in with
``RECOMMENDER_CACHE_DIR=DIR``), copied to a temporary directory first without its login (no
request leaves the machine), its age ignored (no refresh). "slider moves" is ``/api/weights/preview`` with other weights at every request, as a
dragged slider sends them: cold is the first move, warm the median of the next five.

Without ``--audio`` the library has no audio features, as a Development Mode account's: the
taste map clusters text vectors and the Moods page says how to import features.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class NoSpotify:
    """The calls a dry run makes, answered locally: no playlists, so no managed playlist."""

    requests_made = 0

    def pages(self, path, **params):
        return iter(())

    def get(self, path, **params):
        return {}

    def listing(self, path, **params):
        return []

    def me(self):
        return {}


def cli_startup(cache: Path) -> tuple[float, float]:
    """`recommend web --no-browser` on ``cache`` as a user starts it: seconds until the URL is
    printed, and until the first page (the token's redirect) is answered; then Ctrl-C."""
    import os
    import signal
    import subprocess

    import requests
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "RECOMMENDER_CACHE_DIR": str(cache), "PYTHONPATH": str(root)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "recommender", "web", "--no-browser"], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = proc.stdout.readline().strip()
    url_s = time.perf_counter() - t0
    requests.get(url, allow_redirects=False, timeout=60).raise_for_status()
    first_s = time.perf_counter() - t0
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    return url_s, first_s


def with_random_audio(library, share: float, seed: int = 0):
    """``library`` with uniform random audio features for ``share`` of its tracks."""
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(seed)
    ids = library.track_ids.to_numpy(dtype=object)
    ids = ids[rng.random(len(ids)) < share]
    n = len(ids)
    cols = {c: rng.random(n) for c in ("danceability", "energy", "speechiness", "acousticness", "instrumentalness",
                                         "liveness", "valence")}
    frame = pd.DataFrame({"track_id": ids, **cols, "key": rng.integers(0, 12, n), "loudness": rng.uniform(-20, 0, n),
                          "mode": rng.integers(0, 2, n), "tempo": rng.uniform(60, 180, n),
                          "duration_ms": rng.integers(120_000, 360_000, n)})
    return library.replace(audio_features=frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=10_000)
    parser.add_argument("--playlists", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--audio", type=float, default=0.0, help="share of tracks with random audio features")
    parser.add_argument("--cache", type=Path, default=None, help="a filled cache directory to copy and measure "
                                                                   "(RECOMMENDER_CACHE_DIR's layout)")
    args = parser.parse_args()

    from bench.synth import make_library
    from recommender.config import default_settings
    from recommender.store import Store, now_iso
    cache = Path(tempfile.mkdtemp(prefix="web-speed-"))
    if args.cache is not None:
        import shutil
        shutil.copytree(args.cache, cache, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("search_index.npz", "recommend.lock", "spotify-token.json"))
        library = Store(cache).load_library()
        args.tracks, args.playlists = len(library.track_ids), len(library.playlists)
    else:
        library = make_library(args.tracks, args.playlists)
    if args.audio > 0:
        library = with_random_audio(library, args.audio)
    store = Store(cache)
    if args.cache is None or args.audio > 0:
        store.save_library(library)
        if args.audio > 0:  # a save of the library never writes them (only `import features` does)
            store.save_frame("audio_features", library.audio_features)
        store.update_manifest(fetched_at=now_iso(), user_id=library.user_id)
    settings = default_settings().with_overrides({"cache.dir": str(cache), "cache.max_age_hours": 36500 * 24})

    url_s, first_s = cli_startup(cache)
    t_start = time.perf_counter()
    import requests
    import uvicorn

    from recommender.web.app import Security, create_app
    from recommender.web.context import WebContext
    from recommender.web.server import bind
    ctx = WebContext(settings, config_file=cache / "user.yaml", gateway=lambda s: NoSpotify())
    sock = bind(0)
    sec = Security()
    sec.port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(ctx, sec), log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.005)
    base = f"http://127.0.0.1:{sec.port}"
    s = requests.Session()
    s.get(f"{base}/?token={sec.token}", timeout=60, allow_redirects=False)
    startup = time.perf_counter() - t_start

    def timed(method: str, path: str, **kw) -> float:
        r = s.request(method, base + path, timeout=120, **kw)
        r.raise_for_status()
        return float(r.headers["server-timing"].split("dur=")[1]) / 1000

    routes = [("GET", "/next", {}), ("GET", "/weights", {}), ("GET", "/discovery", {}), ("GET", "/map", {}),
              ("GET", "/moods", {}),
              # the mood lists need audio features (without them the endpoint answers 400, as the page says)
              *([("GET", "/api/moods?mood=happy", {}), ("GET", "/api/moods?valence=0.2&energy=0.9", {})]
                if args.audio > 0 else []),
              ("GET", "/search", {}),
              ("GET", "/api/search?q=" + library.tracks["name"].iloc[0], {}), ("GET", "/similar", {}),
              ("GET", "/api/similar?track=" + library.tracks["track_id"].iloc[0], {}), ("GET", "/runs", {}),
              ("POST", "/api/weights/preview", {"json": {"weights": {"content": 0.3, "collaborative": 1.0}},
                                                 "headers": {"X-CSRF-Token": sec.csrf}})]
    # the Runs page opened first, before any page has read the library (its warnings read it, as
    # `recommend status` does); later it is measured again with the library read
    rows = [{"page": "GET /runs (first page opened)", "cold_s": round(timed("GET", "/runs"), 3), "warm_s": None}]
    for method, path, kw in routes:
        cold = timed(method, path, **kw)
        warm = statistics.median(timed(method, path, **kw) for _ in range(5))
        page = f"{method} {path.split('?')[0]}" + (f"?{path.split('?')[1]}" if path.startswith("/api/moods") else "")
        rows.append({"page": page, "cold_s": round(cold, 3), "warm_s": round(warm, 3)})
    # a dragged slider: other weights at every request (the first move after the pages above)
    moves = [timed("POST", "/api/weights/preview", json={"weights": {"content": 0.2 + 0.1 * i, "year": 0.1 * i}},
                   headers={"X-CSRF-Token": sec.csrf}) for i in range(6)]
    rows.append({"page": "slider moves", "cold_s": round(moves[0], 3), "warm_s": round(statistics.median(moves[1:]), 3)})
    out = {"tracks": args.tracks, "playlists": args.playlists, "cli_url_s": round(url_s, 2),
           "cli_first_response_s": round(first_s, 2), "app_start_s": round(startup, 2), "pages": rows}
    server.should_exit = True
    if args.json:
        print(json.dumps(out))
        return
    print(f"{args.tracks:,} tracks, {args.playlists} playlists: `recommend web` prints its URL after {url_s:.2f} s "
          f"and answers after {first_s:.2f} s (in-process app start {startup:.2f} s)")
    print(f"{'page':40} {'cold s':>8} {'warm s':>8}")
    for r in rows:
        warm = "" if r["warm_s"] is None else f"{r['warm_s']:8.3f}"
        print(f"{r['page']:40} {r['cold_s']:8.3f} {warm:>8}")


if __name__ == "__main__":
    main()
