"""Scorers: each turns (seeds, candidates) into one score per candidate.

See ``base.Scorer`` for the contract every scorer follows. ``make_scorers(settings)`` builds
them from ``settings.scorers.<name>.*`` (every key but ``weight`` is a constructor
parameter); ``blend_weights(settings)`` gives the blend weight of each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..config import thaw
from .audio import AudioScorer
from .base import Scorer
from .collaborative import CollaborativeScorer
from .content import ContentScorer
from .coverage import CoverageScorer
from .opendata import OpenDataScorer
from .popularity import PopularityScorer
from .release import ReleaseScorer
from .walk import ArtistWalkScorer
from .year import YearScorer

REGISTRY: dict[str, type[Scorer]] = {
    "content": ContentScorer,
    "collaborative": CollaborativeScorer,
    "popularity": PopularityScorer,
    "audio": AudioScorer,
    "opendata": OpenDataScorer,
    "artist_walk": ArtistWalkScorer,
    "year": YearScorer,
    "coverage": CoverageScorer,
    "release": ReleaseScorer,
}
OPTIONAL = {"audio", "coverage"}  # only built when their weight is positive

__all__ = ["REGISTRY", "Scorer", "ContentScorer", "CollaborativeScorer", "PopularityScorer",
           "AudioScorer", "OpenDataScorer", "ArtistWalkScorer", "YearScorer", "CoverageScorer", "ReleaseScorer", "make_scorers", "blend_weights",
           "scorer_params"]


def scorer_params(settings, name: str) -> dict[str, Any]:
    """Constructor parameters of scorer ``name`` from ``settings.scorers.<name>`` (no weight)."""
    section = settings["scorers"][name] if name in settings["scorers"] else {}
    return {k: thaw(v) for k, v in section.items() if k != "weight"}


def blend_weights(settings) -> dict[str, float]:
    """Blend weight of every configured scorer (``scorers.<name>.weight``)."""
    return {name: float(section["weight"]) for name, section in settings["scorers"].items()}


def make_scorers(settings, off_for=None, also: Iterable[str] = ()) -> dict[str, Scorer]:
    """Unfitted scorers named by their registry name: content, collaborative, popularity,
    opendata, artist_walk, year, and the optional ones (audio, coverage) when their weight is
    positive (an unused scorer would only slow ``recommend tune``'s grid down). ``off_for``: a
    Library whose `recommend evaluate` shows every scorer, those at weight 0 as what each would
    do alone: the optional ones at 0 too, audio when that library has audio features (without,
    it scores nothing; the user who imported them had no row to tell whether to turn it on).
    ``also``: scorers built at weight 0 too (those tune searches again: ``jobs.tuned_off``)."""
    weights = blend_weights(settings)
    out: dict[str, Scorer] = {}
    for name, cls in REGISTRY.items():
        if name in OPTIONAL and weights.get(name, 0.0) <= 0 and name not in also and (
                off_for is None or name == "audio" and off_for.frames["audio_features"].empty):
            continue
        out[name] = cls(**scorer_params(settings, name)) if name in settings["scorers"] else cls()
    return out
