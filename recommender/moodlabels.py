"""Labels of mood clusters found on text (``moods cluster`` when the tracks have no audio
features): what the cluster's tracks have in common, in what the library honestly holds.

A label is the cluster's most distinctive genres (artist genres from Spotify or MusicBrainz,
when the library has them), filled up with its most distinctive words of track and album
names, then its two leading artists: "dream pop / shoegaze, like Slowdive, Beach House";
"like Slowdive, Beach House" when no word sets it apart. A word or genre is distinctive when
it is held by a larger share of the cluster's tracks than of all the clustered tracks, and by
at least two of the cluster's tracks (one track's title is no mood). Words of artist names
are left to the "like" part, and so are names' packaging words ("Remastered 2011") and the
words ``moods.NOISE_WORDS`` and English stop words hold. The leading artists are those with
the most tracks in the cluster (ties: the more distinctive, then the first in the
playlist). Long artist names are cut ("…") so a label stays short enough to be a playlist
name and a legend line, and their invisible characters are visible escapes (``\x1b``); markup
is left as it is: each reader escapes the label (terminal, HTML, matplotlib's "$").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from .library import Library
from .namewords import strip_packaging
from .safetext import cut, visible
from .searchindex import fold

LABEL_WORDS = 2      # genres / name words in a label
LABEL_ARTISTS = 2    # artists after "like"
ARTIST_CHARS = 24    # an artist name longer than this is cut, with "…"
MIN_SUPPORT = 2      # a word must be held by this many of the cluster's tracks
# a guest's credit in a name ("(feat. Chris Brown)", "[with X]", "- feat. X"): artists, not words
_CREDIT = re.compile(r"[(\[]\s*(?:feat|ft|featuring|with)\b[^)\]]*[)\]]|\s-\s(?:feat|ft|featuring|with)\b.*$",
                     re.IGNORECASE)


def _short(name: str, limit: int = ARTIST_CHARS) -> str:
    """``name`` on one line (runs of white space one space), its invisible characters as
    visible escapes (``safetext.visible``: a label also names a playlist and a PNG legend
    line), cut to ``limit`` characters with "…" (``safetext.cut``: never inside a character)."""
    name = visible(" ".join(str(name).split()))
    return cut(name, limit)


def track_terms(library: Library, ids: Sequence[str], stop_words: frozenset[str]
                ) -> tuple[list[set[str]], list[set[str]], list[str]]:
    """Per track id: (its artists' genres, the words of its name and album, its first
    artist's name, "" when none). Name words are folded, 2+ characters starting with a
    letter, without ``stop_words``, packaging words or the words of any clustered artist's name."""
    t = library.frames["tracks"].drop_duplicates("track_id")
    t = t.set_index(t["track_id"].astype(str)).reindex([str(i) for i in ids])
    genres = library.artist_genres()
    genres = genres[~genres.index.duplicated(keep="last")]
    token = re.compile(r"\b[^\W\d_][^\W_]+\b")
    firsts, genre_sets, name_words, artist_words = [], [], [], set()
    for name, album, names, artist_ids in zip(t["name"], t["album_name"], t["artist_names"], t["artist_ids"]):
        names = [str(a) for a in names] if isinstance(names, (list, tuple, np.ndarray)) else []
        firsts.append(names[0] if names else "")
        for a in names:
            artist_words.update(fold(a).split())
        g: set[str] = set()
        for a in artist_ids if isinstance(artist_ids, (list, tuple, np.ndarray)) else []:
            got = genres.get(str(a))
            if isinstance(got, (list, tuple, np.ndarray)):
                g.update(" ".join(fold(str(x)).split()) for x in got if fold(str(x)))
        genre_sets.append(g)
        text = " ".join(_CREDIT.sub(" ", strip_packaging(x)) for x in (name, album) if isinstance(x, str))
        name_words.append({w for w in token.findall(fold(text)) if w not in stop_words})
    name_words = [w - artist_words for w in name_words]
    return genre_sets, name_words, firsts


def _distinctive(sets: list[set[str]], sel: np.ndarray, limit: int) -> list[str]:
    """The terms of ``sets`` held by a larger share of the selected rows than of all rows,
    by at least MIN_SUPPORT selected rows: the ``limit`` with the largest difference (ties:
    the more held, then alphabetical)."""
    inside = Counter(w for s, keep in zip(sets, sel) if keep for w in s)
    overall = Counter(w for s in sets for w in s)
    size, n = int(sel.sum()), len(sets)
    scored = [(inside[w] / size - overall[w] / n, inside[w], w) for w in inside
              if inside[w] >= MIN_SUPPORT and inside[w] / size > overall[w] / n]
    scored.sort(key=lambda x: (-x[0], -x[1], x[2]))
    return [w for _, _, w in scored[:limit]]


def _leading_artists(firsts: list[str], sel: np.ndarray, limit: int) -> list[str]:
    """The ``limit`` first artists with the most selected tracks (ties: larger share of the
    selection than of all rows, then first appearance)."""
    inside = Counter(a for a, keep in zip(firsts, sel) if keep and a)
    overall = Counter(a for a in firsts if a)
    order = {a: i for i, a in reversed(list(enumerate(firsts)))}
    size, n = int(sel.sum()), len(firsts)
    ranked = sorted(inside, key=lambda a: (-inside[a], -(inside[a] / size - overall[a] / n), order[a]))
    return ranked[:limit]


def cluster_label(genres: list[set[str]], words: list[set[str]], firsts: list[str], sel: np.ndarray) -> str:
    """The label of the cluster of the rows ``sel`` (see the module docstring)."""
    picked = _distinctive(genres, sel, LABEL_WORDS)
    if len(picked) < LABEL_WORDS:  # not "heavy metal / metal"
        said = {w for p in picked for w in p.split()}
        picked += [w for w in _distinctive(words, sel, LABEL_WORDS + len(said)) if w not in said]
    picked = picked[:LABEL_WORDS]
    artists = [_short(a) for a in _leading_artists(firsts, sel, LABEL_ARTISTS)]
    like = f"like {', '.join(artists)}" if artists else ""
    return ", ".join(p for p in (" / ".join(picked), like) if p) or "(no distinctive words)"
