"""Refresh bench: the data layer (``recommend refresh``) on a heavy synthetic account.

Builds a deterministic account for the local Spotify stand-in (recommender/standins/spotify.py):
owned playlists of Zipf-like sizes (the three largest 2,000+ tracks), followed playlists of
other owners (their items answer 403), saved tracks, followed artists, top tracks and artists
for the three time ranges, drawn from a catalogue with Zipf-like track popularity. The stand-in
runs in this process on 127.0.0.1; each refresh runs in a child process (``jobs.refresh``, the
code ``recommend refresh`` runs, discovery off: Spotify only), so that ``peak_mb`` is that
child's peak resident memory (``VmHWM``: the pull alone, not the stand-in). Three cases, one cache:

  first      the first refresh, from an empty cache
  unchanged  a second refresh, nothing changed on Spotify
  changed    after 5 playlists edited (3 tracks added each), 50 new saved tracks, one playlist
             deleted (unfollowed) and one renamed

Per case: Spotify requests by endpoint kind (counted by the stand-in), seconds (wall time of
the refresh call, the child's imports excluded), peak MB (``base_mb``: after the imports,
before the refresh) and the cache's size on disk (frames and manifest).

    python bench/refresh_speed.py                 # default size: about 1 min
    python bench/refresh_speed.py --json          # one JSON line per case
    python bench/refresh_speed.py --playlists 600 --saved 30000 --followed-artists 1000
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

log = logging.getLogger("refresh_speed")

CLIENT_ID = "bench-client"
REF_DAY = 20_000  # days since the epoch of the newest saved track (deterministic dates)


# ----- the account ------------------------------------------------------------------------------
def playlist_sizes(n: int, seed: int = 0) -> list[int]:
    """Zipf-like playlist sizes: the three largest 2,000+ tracks, then ~1,200 / rank^0.85 + 10."""
    import numpy as np
    rng = np.random.default_rng(seed)
    big = [3200, 2600, 2100][:n]
    rest = [int(1200 / (k ** 0.85) * rng.uniform(0.7, 1.3)) + 10 for k in range(1, max(n - len(big), 0) + 1)]
    return big + rest


def make_account(playlists: int = 300, followed_playlists: int = 20, saved: int = 15000,
                 followed_artists: int = 500, seed: int = 0):
    """The heavy account (a stand-in ``Account``), deterministic for given sizes and seed."""
    import numpy as np

    from recommender.standins.spotify import Account, base62_id
    rng = np.random.default_rng(seed)
    sizes = playlist_sizes(playlists, seed)
    n_tracks = max(int((sum(sizes) + saved) * 1.2), 1000)
    n_artists = max(n_tracks // 15, followed_artists + 200)
    n_albums = max(n_tracks // 10, 1)
    artists = [base62_id(f"bench-artist:{i}") for i in range(n_artists)]
    albums = [base62_id(f"bench-album:{i}") for i in range(n_albums)]
    tracks = [base62_id(f"bench-track:{i}") for i in range(n_tracks)]
    album_artist = rng.integers(0, n_artists, size=n_albums)
    data: dict = {
        "user": {"id": "bench-user", "display_name": "Bench"},
        "users": {"spotify": "Spotify", "friend": "A Friend"},
        "artists": {a: {"name": f"Artist {i}"} for i, a in enumerate(artists)},
        # total_tracks given: else the stand-in counts each album's tracks over the whole
        # catalogue for every track it renders (its time, not the client's, would be measured)
        "albums": {al: {"name": f"Album {i}", "release_date": f"{1970 + i % 56}-01-01",
                        "artist_ids": [artists[album_artist[i]]],
                        "total_tracks": n_tracks // n_albums + (i < n_tracks % n_albums)}
                   for i, al in enumerate(albums)},
        "tracks": {t: {"name": f"Track {i}", "artist_ids": [artists[album_artist[i % n_albums]]],
                       "album_id": albums[i % n_albums], "duration_ms": 150000 + (i * 7919) % 150000}
                   for i, t in enumerate(tracks)},
    }
    popularity = 1.0 / (np.arange(n_tracks) + 20.0)  # Zipf-like: a few tracks in many playlists
    popularity /= popularity.sum()

    def draw(k: int) -> list[str]:
        return [tracks[j] for j in rng.choice(n_tracks, size=min(k, n_tracks), replace=False, p=popularity)]

    pls = []
    for i, size in enumerate(sizes):
        items = [{"track": t, "added_at": _date(REF_DAY - 3000 + (i * 37 + j) % 3000)} for j, t in enumerate(draw(size))]
        pls.append({"id": base62_id(f"bench-playlist:{i}"), "name": f"Playlist {i}", "items": items})
    for i in range(followed_playlists):
        items = [{"track": t, "added_at": _date(REF_DAY - 500)} for t in draw(60)]
        pls.append({"id": base62_id(f"bench-followed:{i}"), "name": f"Followed {i}", "owner": "spotify" if i % 2 else "friend",
                    "items": items})
    data["playlists"] = pls
    saved_ids = draw(saved)
    data["saved_tracks"] = [{"id": t, "added_at": _date(REF_DAY - 3000 * j // max(saved, 1), j)}
                            for j, t in enumerate(saved_ids)]
    data["top_tracks"] = {r: draw(50) for r in ("short_term", "medium_term", "long_term")}
    data["top_artists"] = {r: [artists[j] for j in rng.choice(n_artists, size=min(50, n_artists), replace=False)]
                           for r in ("short_term", "medium_term", "long_term")}
    data["followed_artists"] = [artists[j] for j in rng.choice(n_artists, size=min(followed_artists, n_artists),
                                                               replace=False)]
    return Account.from_dict(data)


def _date(day: int, second: int = 0) -> str:
    """An ISO UTC date ``day`` days after the epoch (``second`` keeps same-day saves distinct)."""
    from datetime import datetime, timedelta, timezone
    when = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(days=day, seconds=86399 - second % 86400)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def apply_changes(server, seed: int = 0) -> None:
    """Case (c): 5 playlists edited (3 tracks added each), 50 new saved tracks, one playlist
    deleted (unfollowed, as a deletion is in the API) and one renamed."""
    account = server.account
    owned = [p for p in account.playlists if p["owner"] == account.user["id"]]
    catalogue = sorted(account.tracks)
    saved = {s["id"] for s in account.saved_tracks}
    n = len(owned)
    for k, pl in enumerate(owned[n // 30: n // 5: max(n // 30, 1)][:5]):  # five playlists of mid size
        for j in range(3):
            pl["items"].append({"kind": "track", "id": catalogue[(k * 97 + j * 13) % len(catalogue)],
                                "added_at": _date(REF_DAY + 1), "added_by": account.user["id"]})
        server._bump(pl)
    fresh = [t for t in catalogue if t not in saved][:50]
    for j, tid in enumerate(fresh):
        account.saved_tracks.append({"id": tid, "added_at": _date(REF_DAY + 1, j)})
    owned[n // 4]["followed"] = False  # deleted: it leaves /me/playlists
    owned[n // 3]["name"] = owned[n // 3]["name"] + " (renamed)"
    server._bump(owned[n // 3])


# ----- counting -------------------------------------------------------------------------------
KINDS = [
    (r"/v1/me/?$", "me"),
    (r"/v1/me/playlists$", "playlists list"),
    (r"/v1/playlists/[^/]+/items$", "playlist items"),
    (r"/v1/playlists/[^/]+$", "playlist"),
    (r"/v1/me/top/tracks$", "top tracks"),
    (r"/v1/me/top/artists$", "top artists"),
    (r"/v1/me/tracks$", "saved tracks"),
    (r"/v1/me/following$", "followed artists"),
    (r"/v1/artists/[^/]+/albums$", "artist albums"),
    (r"/v1/artists/[^/]+$", "artist"),
    (r"/v1/albums/.*", "albums"),
    (r"/v1/audio-features.*", "audio features"),
]


def kind(path: str) -> str:
    for pattern, name in KINDS:
        if re.match(pattern, path):
            return name
    return "other"


def requests_by_kind(server) -> dict[str, int]:
    return dict(Counter(kind(r.path) for r in server.requests if r.path.startswith("/v1/")))


# ----- one refresh (the child) ----------------------------------------------------------------
def peak_mb() -> float:
    """This process's peak resident memory. ``VmHWM`` on Linux: ``ru_maxrss`` of a child starts
    at its parent's resident size when forked (kept across exec), here the stand-in's account."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def settings_for(api_url: str, accounts_url: str, cache: Path):
    from recommender.config import load_settings
    return load_settings(environ={}, overrides={
        "spotify.api_url": api_url, "spotify.accounts_url": accounts_url, "spotify.client_id": CLIENT_ID,
        "cache.dir": str(cache), "refresh.discovery_artists": 0, "discovery.enabled": False})


def child(api_url: str, accounts_url: str, cache: Path) -> dict:
    """One ``jobs.refresh`` into ``cache``; the JSON record of this process."""
    from recommender import jobs
    from recommender.store import Store
    settings = settings_for(api_url, accounts_url, cache)
    import pyarrow.parquet  # noqa: F401  (imports are paid once per process, not by the refresh)

    import recommender.spotify.gateway  # noqa: F401
    import recommender.spotify.sync  # noqa: F401
    base = peak_mb()  # the imports' share of the peak
    start = time.perf_counter()
    library, report = jobs.refresh(settings)
    seconds = time.perf_counter() - start
    peak = peak_mb()
    store = Store.from_settings(settings)
    files = {p for d in {store.dir, store.frames_dir} for p in d.glob("*") if p.suffix in (".parquet", ".json")}
    files.discard(cache / "spotify-token.json")
    return {"seconds": round(seconds, 3), "peak_mb": round(peak, 1), "base_mb": round(base, 1),
            "cache_mb": round(sum(p.stat().st_size for p in files) / 2**20, 2),
            "tracks": len(library.track_ids), "playlists": int(report.playlists),
            "playlists_fetched": int(report.playlists_fetched), "items": int(len(library.playlist_items)),
            "saved": int(len(library.frames["saved_tracks"]))}


def run_case(server, name: str, cache: Path) -> dict:
    server.clear_requests()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", server.api_url, server.accounts_url, str(cache)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"case {name}: the refresh failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    by_kind = requests_by_kind(server)
    return {"case": name, "requests": sum(by_kind.values()), **record, "by_kind": by_kind}


def bench(playlists: int, followed_playlists: int, saved: int, followed_artists: int, seed: int = 0) -> list[dict]:
    from recommender.standins.spotify import StandinServer
    t0 = time.perf_counter()
    account = make_account(playlists, followed_playlists, saved, followed_artists, seed)
    log.info("account built in %.1f s: %d playlists, %d playlist entries, %d saved, %d tracks",
             time.perf_counter() - t0, len(account.playlists), sum(len(p["items"]) for p in account.playlists),
             len(account.saved_tracks), len(account.tracks))
    out = []
    with tempfile.TemporaryDirectory(prefix="refresh-bench-") as tmp, \
            StandinServer(account, client_id=CLIENT_ID) as server:
        cache = Path(tmp) / "cache"
        cache.mkdir()
        (cache / "spotify-token.json").write_text(json.dumps(server.issue_token(client_id=CLIENT_ID)))
        for name in ("first", "unchanged", "changed"):
            if name == "changed":
                apply_changes(server, seed)
            out.append(run_case(server, name, cache))
            log.info("%s: %d requests, %.2f s", name, out[-1]["requests"], out[-1]["seconds"])
    return out


def format_table(rows: list[dict]) -> str:
    kinds = sorted({k for r in rows for k in r["by_kind"]})
    head = ["case", "requests", *kinds, "seconds", "peak MB (imports)", "cache MB", "playlists read"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["case"], f"{r['requests']:,}", *[f"{r['by_kind'].get(k, 0):,}" for k in kinds],
                 f"{r['seconds']:.2f}", f"{r['peak_mb']:.0f} ({r['base_mb']:.0f})", f"{r['cache_mb']:.2f}", f"{r['playlists_fetched']:,}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        import os
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")  # as `recommend` does (cli.main)
        logging.basicConfig(level=logging.WARNING)
        print(json.dumps(child(argv[1], argv[2], Path(argv[3]))))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--playlists", type=int, default=300, help="owned playlists (default 300)")
    ap.add_argument("--followed-playlists", type=int, default=20, help="followed playlists of other owners (default 20)")
    ap.add_argument("--saved", type=int, default=15000, help="saved tracks (default 15,000)")
    ap.add_argument("--followed-artists", type=int, default=500, help="followed artists (default 500)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="one JSON line per case")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    rows = bench(args.playlists, args.followed_playlists, args.saved, args.followed_artists, args.seed)
    if args.json:
        for r in rows:
            print(json.dumps(r))
    else:
        print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
