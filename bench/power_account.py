"""A power user's account for the Spotify stand-in: big, and named in many scripts.

600 owned playlists (five of 2,500 to 6,200 tracks, the rest Zipf-like from ~900 down to ~10;
41,000 entries in all), 25 followed playlists of other owners, 40,000 saved tracks, 1,500
followed artists, top tracks and artists; 70,000 catalogue tracks on 6,000 artists in 40
topics (a playlist of up to 2,000 tracks draws 85 % from one topic, the big ones from
everything). Names mix Latin, Cyrillic, Greek, Chinese, Japanese, Korean, Arabic, Hebrew,
Devanagari, Thai and emoji, with a few invisible characters, terminal escapes, HTML and
very long names. Deterministic for a seed. Writes the account JSON that `recommend standin
--account` serves (about 20 MB):

    python bench/power_account.py /tmp/power.json          # then:
    recommend standin --account /tmp/power.json            # prints the exports for the CLI

README's "Speed and memory" gives the power-user journey measured on it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.refresh_speed import REF_DAY, _date  # noqa: E402
from recommender.standins.spotify import base62_id  # noqa: E402

SCRIPTS = {
    "latin": "abcdefghijklmnopqrstuvwxyzéèüöñçåø",
    "cyr": "абвгдеёжзийклмнопрстуфхцчшщыэюя",
    "greek": "αβγδεζηθικλμνξοπρστυφχψω",
    "cjk": "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年",
    "kana": "あいうえおかきくけこさしすせそたちつてとなにぬねのアイウエオカキクケコ",
    "hangul": "가나다라마바사아자차카타파하강남동락문별빛사랑",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "hebrew": "אבגדהוזחטיכלמנסעפצקרשת",
    "deva": "कखगघचछजझटठडढणतथदधनपफबभमयरलवशसह",
    "thai": "กขคงจฉชซญดตถทนบปผพฟมยรลวสหอฮ",
    "emoji": "\U0001f3b5\U0001f3b6\U0001f525\U0001f49c\U0001f319\u2b50\U0001f3b8\U0001f941",
}


def make_account(seed: int = 7) -> dict:
    """The account in the stand-in's dict format."""
    rng = np.random.default_rng(seed)
    keys = list(SCRIPTS)

    def word(script, n=None):
        chars = SCRIPTS[script]
        n = n or int(rng.integers(2, 7))
        return "".join(chars[int(i)] for i in rng.integers(0, len(chars), n))

    def name(k=None):
        s = keys[int(rng.integers(0, len(keys)))] if rng.random() < 0.6 else "latin"
        w = " ".join(word(s) for _ in range(k or int(rng.integers(1, 4))))
        r = rng.random()
        if r < 0.01:
            w = w + "\u200b\u200d"  # invisible
        elif r < 0.015:
            w = w + " \x1b[31mred\x1b[0m"  # a terminal escape
        elif r < 0.02:
            w = w + " <b>&amp;</b>"
        elif r < 0.03:
            w = w + " " + "very long name " * 6
        return w

    N_TOPICS = 40
    sizes = [6200, 5400, 5100, 3000, 2500] + [int(900 / (k ** 0.8) * rng.uniform(0.7, 1.3)) + 8 for k in range(1, 596)]
    SAVED = 40000
    n_tracks = 70000
    n_artists = 6000
    n_albums = 9000
    artists = [base62_id(f"pw-artist:{i}") for i in range(n_artists)]
    albums = [base62_id(f"pw-album:{i}") for i in range(n_albums)]
    tracks = [base62_id(f"pw-track:{i}") for i in range(n_tracks)]
    artist_topic = rng.integers(0, N_TOPICS, n_artists)
    album_artist = rng.integers(0, n_artists, n_albums)
    track_album = rng.integers(0, n_albums, n_tracks)
    track_topic = artist_topic[album_artist[track_album]]
    data = {"format": "recommend-standin-account/1",
            "user": {"id": "power-user", "display_name": "Пауэр 用户"},
            "users": {"spotify": "Spotify", "friend": "صديق"},
            "artists": {a: {"name": name(2)} for a in artists},
            "albums": {al: {"name": name(), "release_date": f"{1960 + i % 66}-0{1 + i % 9}-1{i % 10}",
                            "artist_ids": [artists[album_artist[i]]], "total_tracks": 12}
                       for i, al in enumerate(albums)},
            "tracks": {t: {"name": name(), "artist_ids": [artists[album_artist[track_album[i]]]]
                            + ([artists[int(rng.integers(0, n_artists))]] if rng.random() < 0.1 else []),
                           "album_id": albums[track_album[i]], "duration_ms": 120000 + (i * 7919) % 240000,
                           "isrc": f"PW{i:010d}"}
                       for i, t in enumerate(tracks)}}
    pop = 1.0 / (np.arange(n_tracks) + 30.0)
    by_topic = [np.flatnonzero(track_topic == t) for t in range(N_TOPICS)]

    def draw(k, topic=None):
        if topic is None:
            idx = rng.choice(n_tracks, size=min(k, n_tracks), replace=False, p=pop / pop.sum())
        else:
            pool = by_topic[topic]
            p = pop[pool] / pop[pool].sum()
            k_in = min(int(k * 0.85), len(pool))
            idx = np.concatenate([rng.choice(pool, size=k_in, replace=False, p=p),
                                  rng.choice(n_tracks, size=k - k_in, replace=False, p=pop / pop.sum())])
            idx = list(dict.fromkeys(idx.tolist()))
        return [tracks[int(j)] for j in idx]

    pls = []
    for i, size in enumerate(sizes):
        items = [{"track": t, "added_at": _date(REF_DAY - 3000 + (i * 37 + j) % 3000)}
                 for j, t in enumerate(draw(size, None if size > 2000 else int(rng.integers(0, N_TOPICS))))]
        pls.append({"id": base62_id(f"pw-playlist:{i}"), "name": name() if i else "Everything I Love 💜 всё",
                    "items": items})
    for i in range(25):
        pls.append({"id": base62_id(f"pw-followed:{i}"), "name": name(), "owner": "spotify" if i % 2 else "friend",
                    "items": [{"track": t, "added_at": _date(REF_DAY - 500)} for t in draw(80)]})
    data["playlists"] = pls
    saved = draw(SAVED)
    data["saved_tracks"] = [{"id": t, "added_at": _date(REF_DAY - 3000 * j // SAVED, j)} for j, t in enumerate(saved)]
    data["top_tracks"] = {r: draw(50) for r in ("short_term", "medium_term", "long_term")}
    data["top_artists"] = {r: [artists[j] for j in rng.choice(n_artists, 50, replace=False)]
                           for r in ("short_term", "medium_term", "long_term")}
    data["followed_artists"] = [artists[j] for j in rng.choice(n_artists, 1500, replace=False)]
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="the account JSON to write")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    data = make_account(args.seed)
    args.out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    print(f"{args.out}: {len(data['playlists'])} playlists, {sum(len(p['items']) for p in data['playlists']):,} "
          f"entries, {len(data['saved_tracks']):,} saved, {len(data['followed_artists']):,} followed artists")
    return 0


if __name__ == "__main__":
    sys.exit(main())
