"""Track titles compared as one song: version suffixes, credits, accents and punctuation left out.

Two readers share the rule: the pipeline's dedupe (another release of a seed's song is no
candidate) and the open-data sources' id resolver (``sources/base.py``: a recording
MusicBrainz gives for an ISRC is the track's when the titles agree). Vectorised on Arrow.
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .library import as_arrow

# RE2 syntax (pyarrow.compute): \p{L}/\p{N} are Unicode letters/digits.
_VERSION = (r"re-?master(?:ed)?|mono|stereo|single version|album version|original version|radio edit"
            r"|deluxe(?: edition| version)?|bonus track|explicit(?: version)?|clean(?: version)?"
            r"|anniversary(?: edition)?|expanded edition")
_VERSION_SUFFIXES = "|".join([
    # " - Remastered 2011", " - 2011 Remaster", " - Radio Edit", " - Mono Version"
    rf"\s+-\s+[^-]*\b(?:{_VERSION})\b[^-]*$",
    # "(feat. X)", "[ft. X]", "(with X)"
    r"\s*[\(\[](?:feat\.?|ft\.?|featuring|with)\s[^\)\]]*[\)\]]",
    # "(Remastered 2009)", "[Deluxe Edition]"
    rf"\s*[\(\[][^\)\]]*\b(?:{_VERSION})\b[^\)\]]*[\)\]]",
    # trailing "feat. X" without brackets
    r"\s+(?:feat\.|ft\.|featuring)\s.*$",
])
_PATTERNS = [
    (_VERSION_SUFFIXES, ""),
    (r"\p{Mn}+", ""),  # accents, after NFKD
    (r"[^\p{L}\p{N}]+", " "),  # runs of punctuation and spaces -> one space
]


def normalise_titles(names) -> pa.Array:
    """Vectorised title normalisation (Arrow): lowercase, NFKD without accents, version
    suffixes ("- Remastered 2011", "(feat. X)", "[Deluxe Edition]") and punctuation removed.
    Each distinct title is normalised once; nulls become ""."""
    arr = pc.fill_null(as_arrow(names), "")
    enc = pc.dictionary_encode(arr)
    return pc.take(_normalise_distinct(enc.dictionary), enc.indices)


def _normalise_distinct(titles: pa.Array) -> pa.Array:
    """``normalise_titles`` of an Arrow array without nulls, string by string."""
    d = pc.utf8_normalize(pc.utf8_lower(titles), "NFKD")
    for pattern, repl in _PATTERNS:
        d = pc.replace_substring_regex(d, pattern, repl)
    return pc.utf8_trim_whitespace(d)


@functools.lru_cache(maxsize=1 << 15)  # one title's Arrow calls cost about a millisecond; the
def normalise_title(name: str) -> str:  # resolver asks the same seeds' titles every run
    """One title: 'Song X (feat. Y) - Remastered 2011' -> 'song x'."""
    return normalise_titles([name])[0].as_py()


def normalised_codes(codes: np.ndarray, distinct: pa.Array, normalised: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per row, an int code of its normalised string (equal codes = equal normalised
    strings), from a dictionary-encoded column (``codes`` into ``distinct``, which has no
    nulls; ``normalised``: its strings are normalised already, as ``track_titles`` gives
    them); and a bool per row: normalised to ""."""
    enc = pc.dictionary_encode(distinct if normalised else _normalise_distinct(distinct))
    norm = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    empty = pc.equal(enc.dictionary, "").to_numpy(zero_copy_only=False)
    return norm[codes], empty[norm][codes]


def track_titles(library) -> tuple[np.ndarray, pa.Array]:
    """The tracks' names as ``library.text_codes("tracks", "name")`` gives them (a code per
    row, the distinct names), each distinct name normalised (``normalise_titles``): once per
    Library, for the dedupe and the release scorer of one build alike."""
    def build() -> tuple[np.ndarray, pa.Array]:
        codes, distinct = library.text_codes("tracks", "name")
        return codes, _normalise_distinct(distinct)
    return library.derived(("titles", "name"), build)
