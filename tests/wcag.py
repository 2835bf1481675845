"""WCAG 2's contrast ratio, for the tests of the web app's colours (its palette file and what a
browser draws)."""

from __future__ import annotations

from collections.abc import Sequence


def contrast(fg: str | Sequence[float], bg: str | Sequence[float]) -> float:
    """The contrast ratio of two colours, each "#rrggbb" or (r, g, b) with 0..255 channels."""
    def lum(colour: str | Sequence[float]) -> float:
        rgb = [int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)] if isinstance(colour, str) else colour[:3]
        f = lambda c: c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4  # noqa: E731
        r, g, b = (f(c / 255) for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
