"""Levers that are code, not config keys: README's "Things that did not help" rows of 2026-12-06.

    python bench/levers.py --data PATH minmax-kth 3 10 30
    python bench/levers.py --data PATH minmax-max
    python bench/levers.py --data PATH profile-artist-power 0.5 0 1.5
    python bench/levers.py --data PATH profile-centrality 0.5 1 2
    python bench/levers.py --data PATH profile-minus-mean 0.25 1 4                 # every content field
    python bench/levers.py --data PATH profile-minus-mean 4 --fields artist        # one field's part
    python bench/levers.py --data PATH other-artists 0.9 0.7 0.5 0
    python bench/levers.py --data PATH feedback 5:0.3 10:0.2 3:0.5

Each value is one variant of the shipped blend, ranked on persona dev and compared with it per
target as ``bench/quality.py --compare`` compares config keys (``compared``: the paired
gain of p@10, new@10 and nDCG@10, its 95 % interval over resampled personas). The change is
made for the variant's run only, by swapping one function of the package, and undone after it:

- ``minmax-kth K``: minmax's top is the K-th best score of a scorer (the scores above it count 1);
- ``minmax-max``: each score divided by the highest (0 stays 0);
- ``profile-artist-power G``: content's seed profile with each seed artist's seeds weighted by its
  number of seeds to the power G - 1 (1: the mean of the seed rows, as shipped; 0: each seed
  artist weighs the same);
- ``profile-centrality G``: each seed weighted by its mean cosine with the other seeds to the power G;
- ``profile-minus-mean B``: B times the mean row of all the tracks content scores taken off the
  profile (Rocchio's negative term; a negative B adds it), of ``--fields`` only (default: every
  field: name, artist, artist_words, album, album_id, year);
- ``other-artists F``: the candidates by artists none of the target's seeds has multiplied by F
  after the artist mix;
- ``feedback K:W``: pseudo-relevance feedback: each target ranked twice, the first ranking's top K
  added to its seeds with weight W (the playlist's own seeds weigh 1) for every library scorer.

``--data`` is the TidyTuesday ``spotify_songs.csv.gz`` (no default: a checkout has no copy of it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality  # noqa: E402  (bench/quality.py: it puts the checkout on sys.path)

CONTENT_FIELDS = ("name", "artist", "artist_words", "album", "album_id", "year")


@contextmanager
def _swapped(owner, name: str, make: Callable[[Callable], Callable]) -> Iterator[None]:
    """``owner.name`` replaced by ``make(the original)`` while the block runs."""
    original = getattr(owner, name)
    setattr(owner, name, make(original))
    try:
        yield
    finally:
        setattr(owner, name, original)


def minmax_top(k: int | None) -> Callable[[], Iterator[None]]:
    """minmax with its top at the ``k``-th best score, or (``k`` None) each score over the highest."""
    from recommender import blend

    def make(original):
        def minmax(valid: np.ndarray) -> np.ndarray:
            finite = np.isfinite(valid)
            if finite.sum() < 3:
                return original(valid)
            v = valid[finite]
            lo, hi = (v.min(), np.sort(v)[-min(k, len(v))]) if k else (min(0.0, v.min()), v.max())
            if hi <= lo:
                return original(valid)
            out = np.clip((valid - lo) / (hi - lo), 0, 1 if k else None)
            return np.where(valid == np.inf, 1.0, np.where(valid == -np.inf, 0.0, out))
        return minmax
    return lambda: _swapped(blend, "_minmax", make)


def _seed_profile(weigh: Callable) -> Callable[[], Iterator[None]]:
    """Content's profile of the seed vector ``weigh(scorer, v, seed rows)`` gives (when a seed has weight)."""
    from recommender.scorers.content import ContentScorer

    def make(original):
        def profile(self, v: np.ndarray) -> np.ndarray:
            idx = np.flatnonzero(v > 0)
            return original(self, weigh(self, v, idx) if len(idx) else v)
        return profile
    return lambda: _swapped(ContentScorer, "_profile", make)


def artist_power(g: float) -> Callable[[], Iterator[None]]:
    """Content's seed profile with each seed weighted by its artist's number of seeds to the
    power ``g - 1`` (so an artist's seeds together weigh its count to the power ``g``: 1 is
    the shipped mean of the seed rows, 0 every seed artist alike)."""
    def weigh(scorer, v, idx):
        ta, _ = scorer._library.track_artist_matrix()  # tracks x artists
        sub = ta[idx]
        first = np.asarray(sub.argmax(axis=1)).ravel()
        has = np.asarray(sub.sum(axis=1)).ravel() > 0
        _, inv, cnt = np.unique(np.where(has, first, -1 - np.arange(len(idx))), return_inverse=True,
                                return_counts=True)  # a seed without an artist: an artist of its own
        w = v.copy()
        w[idx] = v[idx] * cnt[inv].astype(np.float32) ** np.float32(g - 1)
        return w
    return _seed_profile(weigh)


def centrality(g: float) -> Callable[[], Iterator[None]]:
    """Content's seed profile with each seed weighted by its mean cosine with the other seeds
    to the power ``g`` (a seed unlike the rest counts less); fewer than three seeds: unchanged."""
    def weigh(scorer, v, idx):
        if len(idx) < 3:
            return v
        rows = scorer.X_[idx]
        sim = np.asarray((rows @ rows.T).todense())
        np.fill_diagonal(sim, 0)
        w = v.copy()
        w[idx] = v[idx] * (np.maximum(sim.sum(axis=1) / (len(idx) - 1), 1e-6) ** np.float32(g)).astype(np.float32)
        return w
    return _seed_profile(weigh)


def minus_mean(b: float, fields: tuple[str, ...]) -> Callable[[], Iterator[None]]:
    """Content's profile minus ``b`` times the mean row of its matrix, on ``fields`` only."""
    from recommender.scorers.content import ContentScorer

    def make(original):
        def profile(self, v: np.ndarray) -> np.ndarray:
            p = original(self, v)
            if not p.any():
                return p
            kept = getattr(self, "_lever_mean", None)  # (the matrix, its mean row): one per fit
            if kept is None or kept[0] is not self.X_:
                field = np.array([str(f).split(":", 1)[0] for f in self.feature_names_])
                mean = np.asarray(self.X_.mean(axis=0)).ravel().astype(np.float32)
                kept = self._lever_mean = (self.X_, np.where(np.isin(field, fields), mean, np.float32(0)))
            return p - np.float32(b) * kept[1]
        return profile
    return lambda: _swapped(ContentScorer, "_profile", make)


def other_artists(f: float) -> Callable[[], Iterator[None]]:
    """The blend's candidates by artists no seed of the target has, times ``f`` after the artist mix."""
    from recommender import persona

    def make(original):
        def blended(t, weights, method="minmax", mix=persona.ArtistMix(), n=10):
            out = original(t, weights, method, mix, n)
            if t.artist_codes is None:
                return out
            share = np.where(t.artist_codes >= 0, t.seed_share[np.maximum(t.artist_codes, 0)], 0.0)
            return np.where(share > 0, out, out * f)
        return blended
    return lambda: _swapped(persona, "blended", make)


class _Fed:
    """A library scorer whose seeds gain, per target, the first ranking's best candidates."""

    def __init__(self, scorer, extra: dict, weight: float) -> None:
        self.scorer, self.extra, self.weight = scorer, extra, weight

    def fit(self, library) -> "_Fed":
        return _Fed(self.scorer.fit(library), self.extra, self.weight)

    def score_all(self, seeds):
        more = [t for t in self.extra.get(tuple(seeds.index), ()) if t not in seeds.index]
        return self.scorer.score_all(pd.concat([seeds, pd.Series(self.weight, index=pd.Index(more, name="track_id"))]))

    def __getattr__(self, name):
        return getattr(self.scorer, name)


def feedback(value: str) -> Callable[[], Iterator[None]]:
    """``K:W``: each target ranked twice, the first ranking's top K added to its seeds with
    weight W for every library scorer (the open-data evidence and the artist mix keep the
    playlist's own seeds)."""
    from recommender import persona
    from recommender.scorers import blend_weights
    k, w = value.split(":")

    def make(original):
        def score_persona(p, cat, scorers, caps, service=None):
            settings = quality._settings()
            weights, mix = blend_weights(settings), persona.ArtistMix.from_settings(settings)
            first, _ = original(p, cat, scorers, caps, service)
            items = p.library.playlist_items[["playlist_id", "track_id"]].astype(str)
            seeds = items.groupby("playlist_id")["track_id"].agg(lambda s: tuple(dict.fromkeys(s))).to_dict()
            extra = {seeds.get(t.playlist_id, ()): t.candidates[persona.rank(
                persona.blended(t, weights, settings["blend"]["normalisation"], mix), t.candidates, int(k))]
                for t in first}
            return original(p, cat, {n: _Fed(sc, extra, float(w)) for n, sc in scorers.items()}, caps, service)
        return score_persona
    return lambda: _swapped(persona, "score_persona", make)


LEVERS = {"minmax-kth": lambda x, _: minmax_top(int(x)), "minmax-max": lambda x, _: minmax_top(None),
          "profile-artist-power": lambda x, _: artist_power(float(x)),
          "profile-centrality": lambda x, _: centrality(float(x)),
          "profile-minus-mean": lambda x, fields: minus_mean(float(x), fields),
          "other-artists": lambda x, _: other_artists(float(x)),
          "feedback": lambda x, _: feedback(x)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True, metavar="FILE",
                   help="the playlist data file (the TidyTuesday spotify_songs.csv.gz)")
    p.add_argument("lever", choices=sorted(LEVERS))
    p.add_argument("values", nargs="*", help="one variant each (minmax-max takes none)")
    p.add_argument("--fields", nargs="+", default=list(CONTENT_FIELDS), choices=CONTENT_FIELDS,
                   help="with profile-minus-mean: the content fields whose mean is taken off")
    p.add_argument("--split", default="dev", choices=["dev", "holdout"])
    p.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    values = args.values or ([""] if args.lever == "minmax-max" else [])
    if not values or (args.lever == "minmax-max") != (values == [""]):
        p.error(f"{args.lever}: " + ("takes no value" if args.lever == "minmax-max" else "give one value or more"))
    lib, cat = quality.persona_split(args.data, args.split)
    settings = quality._settings()
    base = quality.persona_side(lib, cat, settings, [])  # once: each lever changes only its own side
    for value in values:
        fields = f" --fields {' '.join(args.fields)}" if args.lever == "profile-minus-mean" else ""
        with LEVERS[args.lever](value, tuple(args.fields))():
            variant = quality.persona_side(lib, cat, settings, [])
        out = quality.compared(args.split, base, variant, args.resamples, lever=f"{args.lever} {value}".strip() + fields)
        print(json.dumps(out) if args.json else quality.compare_table(out) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
