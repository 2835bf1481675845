"""The track search index: character trigrams, numpy only, cached on disk beside the library.

A document is a track's folded "title artists album" text. A query scores each document by

- ``coverage``: the share of the query's trigrams (IDF-weighted, squared) found in the
  document (its words, and those it writes with punctuation inside joined: ``joined``), each
  query word's within one word of it (the word that holds most of them): a
  query naming the title *and* the artist is fully covered only by that recording, an artist's
  name alone covers all of that artist's tracks, and "viva" is covered by the album "Ferida
  Viva", not by "Surviva" beside "Vivegam" (its " vi" taken from one word, its "va " from the
  other, which ranked it first);
- ``field``: the best cosine of the query with the track's core title, with its artist names
  or (times ``ALBUM_SHARE``) with its album's name (TF-IDF), so that a title (or an artist)
  typed alone prefers that title (artist) over tracks that merely mention the words, and an
  album's name its tracks, after a title of that name;

``score = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * field`` (0..1). Ties go to a
title the query spells out (``_spelt``), then the shorter name (the undecorated version), then the track
id. Trigrams are taken within words padded with a space (" ha", "hal", "alo", "lo "), so
typos and missing accents still match most of a word.

The index is built once per library and saved as one ``.npz`` file (atomic write) carrying
the fingerprint of what it was built from; ``SearchIndex.load`` returns None when the file
is missing, unreadable, of another version or built from something else. Querying uses numpy
alone, so a warm ``recommend search`` does not import pandas, scipy or scikit-learn.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from .links import is_short_link, parse_track_ref, spotify_ref_kind
from .namewords import CJK_LETTERS, unpackaged, word_grams
from .safetext import unescape_shown

log = logging.getLogger(__name__)

INDEX_VERSION = 8  # 2: each Chinese, Japanese or Korean letter is a gram of its own too; 3: words; 4: artist_names;
# 5: format characters (zero-width space...) dropped by ``fold``; 6: ``joined`` words ("acdc" of "AC/DC");
# 7: and "and" of "&"; 8: the library's words (``lexicon``), to forgive two swapped letters
NGRAM = 3
COVERAGE_WEIGHT = 0.75
ALBUM_SHARE = 0.5  # an album's name counts for half a title's in ``field``
# Default score floor: below it a hit is no match (``search.min_score``). Random text scores
# under 0.2 on the 28k-track data set; "shape of yuo" still finds Shape of You at 0.46.
MIN_SCORE = 0.35
# Share of a query's score that its packaging words ("remastered", "2009") decide when it has
# other words too (``packaging_blend``): a track matching them alone scores under MIN_SCORE.
PACKAGING_SHARE = 0.25
# A query word the library does not hold, two neighbouring letters of which swapped give one it
# holds ("posion": "poison"), or its letters and digits apart words it holds ("mac10": "mac 10"),
# or that is two words it holds run together ("foofighters": "foo fighters"),
# is read as those too, their score times this (``forgiving``), so that a query spelt as the
# library spells it comes first. At most SWAP_QUERIES such readings.
SWAP_SHARE = 0.9
SWAP_QUERIES = 8

# Letters that NFKD does not decompose into a base letter + combining mark.
_FOLD_EXTRA = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l",
                             "Ł": "l", "đ": "d", "Đ": "d", "ð": "d", "þ": "th", "Þ": "th", "ı": "i"})
_NON_WORD = re.compile(r"[\W_]+")
_VERSION_SUFFIX = re.compile(r"\s+-\s+.*$|\s*[(\[].*?[)\]]")


def fold(text: str) -> str:
    """Accent- and case-folded text with punctuation turned into single spaces.

    ``fold("Beyoncé – Halo!") == "beyonce halo"``; used for both documents and queries.
    """
    if not isinstance(text, str):
        return ""
    if text.isascii():
        return _NON_WORD.sub(" ", text.casefold()).strip()
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD_EXTRA))
    # accents off, and invisible format characters (a zero-width space, a joiner, a byte-order
    # mark, bidi marks) dropped, not taken for word breaks: "Hel\u200blo" is found by "hello"
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf")
    return _NON_WORD.sub(" ", stripped.casefold()).strip()


_INNER_PUNCTUATION = re.compile(r"[^\W_](?:[^\w\s]|_)+[^\W_]|&")  # a word's letters around punctuation, or "&"


def joined(text: str) -> str:
    """The words ``text`` writes with punctuation inside, folded and joined as people type them
    without it, space-separated ("" when none): "AC/DC" -> "acdc", "R.E.M." -> "rem", "a-ha" ->
    "aha", "Don't" -> "dont". ``fold`` makes two words of each ("ac dc"), so "acdc" found nothing.
    And "and" for an "&" ("Me & You" is found by "me and you", where "&" was no word)."""
    if not _INNER_PUNCTUATION.search(text or ""):
        return ""
    out = ["and"] if "&" in text else []
    for token in text.split():
        parts = fold(token).split()
        if len(parts) > 1:
            out.append("".join(parts))
    return " ".join(out)


def core_title(name: str) -> str:
    """A track name without version decorations: "Hey Jude - Remastered 2009" -> "Hey Jude",
    "Halo (feat. X) [Live]" -> "Halo" (the name itself when nothing would be left)."""
    core = _VERSION_SUFFIX.sub("", name or "").strip()
    return core or (name or "")


def packaging_blend(query: str, score: Callable[[str], np.ndarray]) -> np.ndarray:
    """``score(query)``, except that a query holding packaging words ("hey jude remastered
    2009": ``namewords.PACKAGING_WORDS``, years) and other words scores mostly by the others:
    ``(1 - PACKAGING_SHARE) * score(the others) + PACKAGING_SHARE * score(query)``. The words
    still prefer the version they name, but "Something - Remastered 2009" no longer matches
    for them alone. A query of packaging words only ("radio edit") is scored whole, and
    "version excursion" still finds "Version Excursion" first (by "excursion", then both)."""
    core = unpackaged(query)
    if not core or fold(core) == fold(query):
        return score(query)
    return (1 - PACKAGING_SHARE) * score(core) + PACKAGING_SHARE * score(query)


def swaps(word: str) -> list[str]:
    """The words made by swapping two neighbouring (different) letters of ``word``, once each:
    "posion" -> ["opsion", "psoion", "poison", "posoin", "posino"]."""
    out = (word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1) if word[i] != word[i + 1])
    return list(dict.fromkeys(out))


_LETTERS_DIGITS = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")  # between a letter and a digit


def readings(word: str, has_word: Callable[[str], bool]) -> list[str]:
    """What a query word the library does not hold (``has_word``) may have meant: its letters and
    digits apart when the library holds each part ("mac10" -> "mac 10", "maroon5" -> "maroon 5"),
    and the words of 3 letters or more it holds with two neighbouring letters swapped
    ("posion" -> "poison"); two words it holds typed run together ("foofighters" -> "foo
    fighters"), each of 2 letters or more. None for a word the library holds ("form" is not read
    as "from")."""
    if has_word(word):
        return []
    out = []
    parts = _LETTERS_DIGITS.split(word)
    if len(parts) > 1 and all(has_word(x) for x in parts):
        out.append(" ".join(parts))
    out.extend(f"{word[:i]} {word[i:]}" for i in range(2, len(word) - 1)
               if has_word(word[:i]) and has_word(word[i:]) and f"{word[:i]} {word[i:]}" not in out)
    if len(word) >= 3:
        out.extend(v for v in swaps(word) if has_word(v))
    return out


def forgiving(query: str, has_word: Callable[[str], bool], score: Callable[[str], np.ndarray]) -> np.ndarray:
    """``score(query)``, and for a query word the library does not hold (``has_word``) but may
    have meant (``readings``), the best of that and SWAP_SHARE times the score of the query so
    spelt: a swap broke three of a word's trigrams (where a wrong letter breaks two), and
    "posion" did not find "Poison"; "mac10" found no "Mac 10". A word the library holds as typed
    is left as it is ("form" is not read as "from")."""
    out = score(query)
    for other in respellings(query, has_word):
        out = np.maximum(out, SWAP_SHARE * score(other))
    return out


def respellings(query: str, has_word: Callable[[str], bool]) -> list[str]:
    """The folded queries ``query`` may have meant, its words the library does not hold read as
    ``readings`` gives them (at most SWAP_QUERIES; none when every word is held as typed)."""
    words = fold(query).split()
    meant = [[w] + readings(w, has_word) for w in words]
    if all(len(r) == 1 for r in meant):
        return []
    spelt = (" ".join(ws) for ws in itertools.product(*meant))
    return list(itertools.islice((q for q in spelt if q.split() != words), SWAP_QUERIES))


def check_query(query: str) -> None:
    """UsageError for a query a search cannot take: one without letters or digits ("  !? "),
    or a Spotify link to something other than a track (``refuse_other_link``)."""
    if not fold(query):
        from .errors import UsageError
        raise UsageError(f"search: the query {query!r} has no letters or digits to search for")
    refuse_other_link(query)


def refuse_other_link(text: str) -> None:
    """UsageError for a Spotify album, artist, playlist, episode... link or URI given where a
    search takes words or a track: searched for as words, it said "No match" (exit 0) of an
    album the cache holds."""
    refuse_short_link(text)
    other = spotify_ref_kind(text)
    if other not in (None, "track"):
        from .errors import UsageError
        raise UsageError(f"{text.strip()!r} is a Spotify {other} link, not a track's: search takes words of a "
                         "title, artist or album, or a track's id, URI or link (Share, Copy Song Link)")


def refuse_short_link(text: str) -> None:
    """UsageError for a Spotify short link (``https://spotify.link/...``, what the phone app's
    Share gives) where a track is asked for: searched for as words it was "No match", and
    `similar` then said to give a Spotify track URL, the thing it was given."""
    if is_short_link(text):
        from .errors import UsageError
        raise UsageError(f"{text.strip()!r} is a Spotify short link, which only Spotify can open: open it in a "
                         "browser and give the open.spotify.com link it leads to, or the track's name")


# Chinese, Japanese and Korean letters: those scripts write no spaces between words
_CJK = re.compile(f"[{CJK_LETTERS}]")


def grams(folded: str) -> list[str]:
    """Character trigrams of each word of already folded text, the word padded with spaces
    (scikit-learn's ``char_wb`` analyzer): "halo" -> [" ha", "hal", "alo", "lo "]; and each
    Chinese, Japanese or Korean letter as a padded word of its own (" 夜 "), as such a title
    is one "word": the query "夜" finds "夜に駆ける"."""
    out = []
    for word in folded.split():
        out.extend(word_grams(word, NGRAM))
        if len(word) > 1 and not word.isascii():
            out.extend(f" {c} " for c in _CJK.findall(word))
    return out


def _distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct ``keys`` and how often each occurs (``np.unique`` by a sort: its
    hashing is several times slower on millions of integers)."""
    keys = np.sort(keys)
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, dtype=np.int64)
    return keys[first], np.diff(np.r_[first, len(keys)])


def _ptr(cols: np.ndarray, n_cols: int) -> np.ndarray:
    """The column pointers of a column-compressed matrix whose entries' columns are ``cols`` (sorted)."""
    indptr = np.zeros(n_cols + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=n_cols), out=indptr[1:])
    return indptr


class _Words:
    """The distinct words of a library, numbered as first met, each folded text and each word
    cut into trigrams once (``numbers``). After ``freeze``: ``flat`` holds every word's
    provisional trigram numbers one word after another (``lengths``, ``starts``), ``texts``
    each provisional trigram's text."""

    def __init__(self) -> None:
        self.number: dict[str, int] = {}  # word -> its number; its trigrams: grams_of[number]
        self.gram_ids: dict[str, int] = {}  # trigram -> provisional number (first seen)
        self.grams_of: list[list[int]] = []
        self.folded: dict[str, list[int]] = {}  # text -> its words' numbers
        empty = np.zeros(0, dtype=np.int64)  # until ``freeze``
        self.lengths, self.flat, self.starts = empty, empty, empty
        self.texts = np.zeros(0, dtype=f"<U{NGRAM}")

    def numbers(self, text: str) -> list[int]:
        """The numbers of the words of ``text`` (folded), new words numbered as they come."""
        out = self.folded.get(text)
        if out is None:
            out = []
            for word in fold(text).split():
                k = self.number.get(word)
                if k is None:
                    k = self.number[word] = len(self.grams_of)
                    self.grams_of.append([self.gram_ids.setdefault(g, len(self.gram_ids)) for g in grams(word)])
                out.append(k)
            self.folded[text] = out
        return out

    def freeze(self) -> None:
        """Fix the words met so far into the arrays ``pairs`` reads."""
        self.lengths = np.array([len(g) for g in self.grams_of], dtype=np.int64)
        self.flat = np.array([g for gs in self.grams_of for g in gs], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]) if len(self.lengths) else self.lengths
        self.texts = np.array(list(self.gram_ids), dtype=f"<U{NGRAM}")

    def pairs(self, per_track: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """(track row, provisional trigram) of every trigram of every track's words."""
        counts = np.array([len(w) for w in per_track], dtype=np.int64)
        word = np.array([k for w in per_track for k in w], dtype=np.int64)
        rows = np.repeat(np.arange(len(per_track), dtype=np.int64), counts)
        per_word = self.lengths[word] if len(word) else np.zeros(0, dtype=np.int64)
        rows = np.repeat(rows, per_word)
        first = np.repeat(self.starts[word] - np.concatenate([[0], np.cumsum(per_word)[:-1]]), per_word)
        return rows, self.flat[first + np.arange(len(rows))] if len(rows) else np.zeros(0, dtype=np.int64)


def _vocabulary(words: _Words, doc_words: list[list[int]], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vocabulary, column, idf): the trigrams of the documents, sorted (``query`` looks them up
    by bisection), each provisional trigram's column in it (-1: in no document) and the
    vocabulary's smoothed IDF."""
    doc_rows, doc_grams = words.pairs(doc_words)
    in_docs = np.zeros(len(words.texts), dtype=bool)
    in_docs[doc_grams] = True
    vocab_of = np.flatnonzero(in_docs)
    vocab_of = vocab_of[np.argsort(words.texts[vocab_of], kind="stable")]
    column = np.full(len(words.texts), -1, dtype=np.int64)  # provisional number -> vocabulary column
    column[vocab_of] = np.arange(len(vocab_of))
    doc_keys, _ = _distinct(column[doc_grams] * max(n, 1) + doc_rows)  # each (trigram, track) once, by column
    df = np.bincount(doc_keys // max(n, 1), minlength=len(vocab_of))
    idf = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
    return words.texts[vocab_of], column, idf


def _field(words: _Words, per_track: list[list[int]], column: np.ndarray, idf: np.ndarray, n: int,
           m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The CSC (indptr, rows, values) of the unit sublinear TF-IDF rows of one field's words."""
    rows, grams_ = words.pairs(per_track)
    cols = column[grams_]
    keep = cols >= 0  # a core title may make a word the documents do not have
    keys, tf = _distinct(cols[keep] * max(n, 1) + rows[keep])
    cols, rows = keys // max(n, 1), keys % max(n, 1)
    v = (1 + np.log(tf.astype(np.float64))) * idf[cols]
    norm = np.sqrt(np.bincount(rows, weights=v * v, minlength=n))
    vals = np.where(norm[rows] > 0, v / np.where(norm[rows] > 0, norm[rows], 1.0), v)
    return _ptr(cols, m), rows.astype(np.int32), vals.astype(np.float32)


def _gram_words(words: _Words, column: np.ndarray, doc_word: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, words) by trigram column: the distinct words of the documents that hold each
    trigram (a word of a core title alone, "abcd" of "ab(x)cd", is in no document: left out, as
    coverage looks in documents)."""
    n_words = len(words.grams_of)
    wcol = column[words.flat] if len(words.flat) else np.zeros(0, dtype=np.int64)
    wnum = np.repeat(np.arange(n_words, dtype=np.int64), words.lengths)
    in_docs_word = np.zeros(n_words, dtype=bool)
    in_docs_word[doc_word] = True
    keep = (wcol >= 0) & in_docs_word[wnum] if len(wnum) else np.zeros(0, dtype=bool)
    keys, _ = _distinct(wcol[keep] * max(n_words, 1) + wnum[keep])
    return _ptr(keys // max(n_words, 1), m), (keys % max(n_words, 1)).astype(np.int32)


def _spelt(asked: str, name: str) -> int:
    """How much of the folded query ``asked`` (padded with a space each side, "&" read as "and")
    a track's title spells out, as whole words: the length of its folded name or of its core
    title (the longer one found in the query), else 0."""
    name = name.replace("&", " and ")  # ("me and you" spells out "Me & You", as ``joined`` finds it)
    found = [len(f) for f in (fold(name), fold(core_title(name))) if f and f" {f} " in asked]
    return max(found, default=0)


def _combine(coverage: np.ndarray, field: np.ndarray) -> np.ndarray:
    """The score from the query's coverage and the best field cosine (both 0..1)."""
    return COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * np.minimum(field, 1.0)


class SearchIndex:
    """Trigram index over tracks. Build with ``build`` (or ``load`` a saved one), then
    ``query``. ``tracks`` is a list of (track_id, name, artists, album) tuples of plain str
    (artists comma-joined, for display); ``artist_names`` each track's artists one by one (a
    name may hold a comma: "Earth, Wind & Fire")."""

    def __init__(self, tracks: list[tuple[str, str, str, str]], vocab: np.ndarray, idf: np.ndarray,
                 words: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                 title: tuple[np.ndarray, np.ndarray, np.ndarray],
                 artist: tuple[np.ndarray, np.ndarray, np.ndarray],
                 album: tuple[np.ndarray, np.ndarray, np.ndarray], fingerprint: str = "",
                 artist_names: list[list[str]] | None = None, lexicon: str | None = None) -> None:
        self.tracks = tracks
        # the distinct words of the documents, one a line ("\nac\nacdc\n..."), saved so; made a
        # set by the first ``has_word`` (a few ms for 60,000 words), not at load
        self.lexicon = lexicon if lexicon is not None else "\n"
        self._words: frozenset[str] | None = None
        self.artist_names = artist_names if artist_names is not None else [[t[2]] if t[2] else [] for t in tracks]
        self.vocab = vocab  # sorted trigrams
        self.idf = idf
        # (indptr, words) by trigram column: the distinct words of the documents that hold each
        # trigram; (indptr, words) by track: the words of each document ("name artists album")
        self.gram_words = words[:2]
        self.doc_words = words[2:]
        self.title = title  # CSC (indptr, rows, values): unit TF-IDF rows of the core titles
        self.artist = artist  # the same for the artist names
        self.album = album  # and the album's name
        self.fingerprint = fingerprint
        self.name_len = np.array([len(t[1]) for t in tracks], dtype=np.int64)

    # ----- building ----------------------------------------------------------------------
    @classmethod
    def build(cls, tracks: Iterable[Sequence[str]], fingerprint: str = "",
              progress: Callable[[int, int], None] | None = None) -> "SearchIndex":
        """The index of ``tracks``; ``progress(done, total)`` is told the tracks read so far. A
        track's artists may be a list of names (joined with ", " for display and matching).

        Each distinct text is folded once and each distinct word cut into trigrams once (a
        library repeats its artists, albums and words, ``_Words``); the counts and TF-IDF rows
        are then computed for all tracks at once, as arrays of (trigram, track) pairs."""
        tracks = list(tracks)
        artist_names = [[str(a) for a in t[2]] if isinstance(t[2], (list, tuple)) else [str(t[2])] if t[2] else []
                        for t in tracks]
        tracks = [(str(t[0]), str(t[1] or ""), ", ".join(names), str(t[3] or ""))
                  for t, names in zip(tracks, artist_names)]
        n = len(tracks)
        words = _Words()
        inner_of: dict[str, list[int]] = {}  # an artist's or album's ``joined`` words, once per text

        def inner(text: str) -> list[int]:
            got = inner_of.get(text)
            if got is None:
                got = inner_of[text] = words.numbers(joined(text))
            return got
        doc_words, title_words, artist_words, album_words = [], [], [], []
        step = max(1, n // 20)
        for i, (_, name, artists, album) in enumerate(tracks):
            a, b = words.numbers(artists), words.numbers(album)
            # the words of "name artists album", and those it writes with punctuation inside joined
            doc_words.append(words.numbers(name) + a + b + words.numbers(joined(name)) + inner(artists) + inner(album))
            title_words.append(words.numbers(core_title(name)))
            artist_words.append(a)
            album_words.append(b)
            if progress is not None and (i + 1) % step == 0:
                progress(i + 1, n)
        words.freeze()
        vocab, column, idf = _vocabulary(words, doc_words, n)
        counts = np.array([len(w) for w in doc_words], dtype=np.int64)
        doc_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=doc_ptr[1:])
        doc_word = np.array([k for w in doc_words for k in w], dtype=np.int32)
        gram_words = _gram_words(words, column, doc_word, len(vocab))
        texts = list(words.number)  # word texts by number (numbered as first met)
        lexicon = "\n" + "".join(f"{texts[k]}\n" for k in sorted(set(doc_word.tolist())))
        title, artist, album = (_field(words, per_track, column, idf, n, len(vocab))
                                for per_track in (title_words, artist_words, album_words))
        if progress is not None:
            progress(n, n)
        return cls(tracks, vocab, idf, (*gram_words, doc_ptr, doc_word), title, artist, album, fingerprint,
                   artist_names, lexicon)

    def has_word(self, word: str) -> bool:
        """Whether a track's name, artists or album holds the folded ``word`` as a word."""
        if self._words is None:
            self._words = frozenset(self.lexicon.split())
        return word in self._words

    # ----- querying ----------------------------------------------------------------------
    def _query_weights(self, query: str) -> tuple[np.ndarray, np.ndarray, float]:
        """(vocabulary columns of the query's known trigrams, their IDF, sum of squared IDF
        over all its trigrams: unknown ones count as the rarest, so gibberish scores ~0)."""
        qgrams = sorted(set(grams(fold(query))))
        if not qgrams:
            return np.zeros(0, dtype=np.int64), np.zeros(0), 0.0
        unseen = math.log(1 + len(self.tracks)) + 1
        cols, w = [], []
        total = 0.0
        for g in qgrams:
            j = int(np.searchsorted(self.vocab, g)) if len(self.vocab) else 0
            if j < len(self.vocab) and self.vocab[j] == g:
                cols.append(j)
                w.append(float(self.idf[j]))
                total += float(self.idf[j]) ** 2
            else:
                total += unseen ** 2
        return np.array(cols, dtype=np.int64), np.array(w), total

    def scores(self, query: str) -> np.ndarray:
        """Score (0..1) of every track for ``query``, in ``tracks`` order (``packaging_blend``);
        the escapes the tables show a name's control characters as (``\x1b``, ``\u202e``) are
        read as those characters, so a name copied from a table is found."""
        return packaging_blend(unescape_shown(query), lambda q: forgiving(q, self.has_word, self._scores))

    def _word_weights(self, query: str) -> tuple[list[tuple[np.ndarray, np.ndarray]], float]:
        """Per distinct word of the query, (vocabulary columns of its known trigrams, their
        squared IDF); and the sum of squared IDF over every word's trigrams, unknown ones as the
        rarest (``_query_weights``): ``coverage``'s parts and whole."""
        unseen = (math.log(1 + len(self.tracks)) + 1) ** 2
        parts, total = [], 0.0
        for word in dict.fromkeys(fold(query).split()):
            cols = []
            for g in sorted(set(grams(word))):
                j = int(np.searchsorted(self.vocab, g)) if len(self.vocab) else 0
                if j < len(self.vocab) and self.vocab[j] == g:
                    cols.append(j)
                else:
                    total += unseen
            c = np.array(cols, dtype=np.int64)
            w2 = self.idf[c].astype(np.float64) ** 2
            total += float(w2.sum())
            parts.append((c, w2))
        return parts, total

    def _coverage(self, query: str) -> np.ndarray:
        """Each track's ``coverage`` (module docstring): per query word, the best word of the
        document (the most of its trigrams' squared IDF), summed, over the query's total."""
        n = len(self.tracks)
        parts, total = self._word_weights(query)
        out = np.zeros(n)
        g_ptr, g_words = self.gram_words
        d_ptr, d_words = self.doc_words
        if total <= 0 or not len(d_words):
            return out
        nonempty = np.flatnonzero(d_ptr[1:] > d_ptr[:-1])
        n_words = int(max(d_words.max(), g_words.max() if len(g_words) else 0)) + 1
        for cols, w2 in parts:
            if not len(cols):
                continue
            held = np.zeros(n_words)
            for j, v in zip(cols, w2):
                held[g_words[g_ptr[j]:g_ptr[j + 1]]] += v
            out[nonempty] += np.maximum.reduceat(held[d_words], d_ptr[nonempty])
        return out / total

    def _scores(self, query: str) -> np.ndarray:
        n = len(self.tracks)
        cols, w, total = self._query_weights(query)
        if total <= 0 or len(cols) == 0:
            return np.zeros(n)
        title = np.zeros(n)
        artist = np.zeros(n)
        album = np.zeros(n)
        qnorm = math.sqrt(total)
        for j, wj in zip(cols, w):
            for (ptr, rows, vals), acc in ((self.title, title), (self.artist, artist), (self.album, album)):
                lo, hi = ptr[j], ptr[j + 1]
                acc[rows[lo:hi]] += vals[lo:hi] * (wj / qnorm)
        return _combine(self._coverage(query), np.maximum(np.maximum(title, artist), ALBUM_SHARE * album))

    def query(self, query: str, limit: int = 10, min_score: float = MIN_SCORE) -> list[dict]:
        """The best ``limit`` tracks scoring at least ``min_score``, best first (ties: a title
        the query spells out, accents and case aside, then the shorter name, then track id):
        dicts with track_id, name, artists, artist_names, album, score."""
        ref = parse_track_ref(query)  # a track's id, URI or link pasted in: that track (as `similar` takes it)
        if ref is not None and limit > 0:
            at = next((i for i, t in enumerate(self.tracks) if t[0] == ref), None)
            if at is not None:
                return [self._row(at, 1.0)]
        s = self.scores(query)
        keep = np.flatnonzero((s >= min_score) & (s > 1e-9))
        if len(keep) == 0 or limit <= 0:
            return []
        rounded = np.round(s[keep], 9)
        # of the tracks that may be shown (those scoring at least the limit-th best), a title the
        # query spells out ("Me & You", "The Cranberries - In the End") comes before the others it
        # ties with ("You & Me"; "Lost" from the album "In the End")
        last = min(limit, len(keep)) - 1
        shown = rounded >= -np.partition(-rounded, last)[last]
        keep, rounded = keep[shown], rounded[shown]
        asked = fold(unescape_shown(query).replace('&', ' and '))
        # and a title it spells with a typo forgiven ("posion": "Poison") before the tracks it ties with
        asks = [f" {a} " for a in (asked, *respellings(asked, self.has_word))]
        spelt = np.array([max(_spelt(a, self.tracks[i][1]) for a in asks) for i in keep], dtype=np.int64)
        ids = np.array([self.tracks[i][0] for i in keep], dtype=object)
        order = keep[np.lexsort((ids, self.name_len[keep], -spelt, -rounded))][:limit]
        return [self._row(i, float(s[i])) for i in order]

    def _row(self, i: int, score: float) -> dict:
        t = self.tracks[i]
        return {"track_id": t[0], "name": t[1], "artists": t[2], "artist_names": list(self.artist_names[i]),
                "album": t[3], "score": score}

    def score_texts(self, query: str, tracks: Sequence[Sequence[str]]) -> np.ndarray:
        """Scores of other tracks ((id, name, artists, album)) for ``query`` with this
        index's IDF, comparable with ``scores`` (used for remote search results)."""
        return packaging_blend(unescape_shown(query),
                               lambda q: forgiving(q, self.has_word, lambda r: self._score_texts(r, tracks)))

    def _score_texts(self, query: str, tracks: Sequence[Sequence[str]]) -> np.ndarray:
        lookup = {g: i for i, g in enumerate(self.vocab.tolist())}
        out = np.zeros(len(tracks))
        cols, w, total = self._query_weights(query)
        if total <= 0:
            return out
        qw = dict(zip(cols.tolist(), w.tolist()))

        def cosine(text: str) -> float:
            tc = Counter(lookup[g] for g in grams(fold(text)) if g in lookup)
            v = {j: (1 + math.log(c)) * float(self.idf[j]) for j, c in tc.items()}
            norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
            return sum(v[j] / norm * qw[j] / math.sqrt(total) for j in v if j in qw)

        parts, word_total = self._word_weights(query)
        for k, (_, n, a, b) in enumerate(tracks):
            text = f"{n} {a} {b}"
            words = [{lookup[g] for g in grams(word) if g in lookup}
                     for word in set(fold(text).split()) | set(joined(text).split())]
            held = sum(max((float(w2[np.isin(cols, list(doc))].sum()) for doc in words), default=0.0)
                       for cols, w2 in parts)
            cov = held / word_total if word_total > 0 else 0.0
            out[k] = _combine(np.array([cov]), np.array([max(cosine(core_title(n)), cosine(a), ALBUM_SHARE * cosine(b))]))[0]
        return out

    # ----- saving ------------------------------------------------------------------------
    def save(self, path: Path | str) -> None:
        """Write the index to ``path`` (one .npz, atomically)."""
        from .store import atomic_write

        meta = json.dumps({"version": INDEX_VERSION, "fingerprint": self.fingerprint,
                           "tracks": self.tracks, "artist_names": self.artist_names},
                          ensure_ascii=False).encode("utf-8")
        arrays = {"meta": np.frombuffer(meta, dtype=np.uint8), "vocab": self.vocab, "idf": self.idf,
                  "gram_word_ptr": self.gram_words[0], "gram_words": self.gram_words[1],
                  "doc_word_ptr": self.doc_words[0], "doc_words": self.doc_words[1], "title_ptr": self.title[0],
                  "title_rows": self.title[1], "title_vals": self.title[2], "artist_ptr": self.artist[0],
                  "artist_rows": self.artist[1], "artist_vals": self.artist[2], "album_ptr": self.album[0],
                  "album_rows": self.album[1], "album_vals": self.album[2],
                  "lexicon": np.frombuffer(self.lexicon.encode("utf-8"), dtype=np.uint8)}

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
        atomic_write(Path(path), write)

    @classmethod
    def load(cls, path: Path | str, fingerprint: str | None = None) -> "SearchIndex | None":
        """The saved index, or None when absent, unreadable, of another version, or (with
        ``fingerprint``) built from something else."""
        path = Path(path)
        if not path.exists():
            return None
        try:
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:  # fh: closed on a damaged file too
                meta = json.loads(z["meta"].tobytes().decode("utf-8"))
                if meta.get("version") != INDEX_VERSION:
                    return None
                if fingerprint is not None and meta.get("fingerprint") != fingerprint:
                    return None
                return cls([tuple(t) for t in meta["tracks"]], z["vocab"], z["idf"],
                           (z["gram_word_ptr"], z["gram_words"], z["doc_word_ptr"], z["doc_words"]),
                           (z["title_ptr"], z["title_rows"], z["title_vals"]),
                           (z["artist_ptr"], z["artist_rows"], z["artist_vals"]),
                           (z["album_ptr"], z["album_rows"], z["album_vals"]), meta.get("fingerprint", ""),
                           [list(a) for a in meta["artist_names"]], z["lexicon"].tobytes().decode("utf-8"))
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:  # empty, truncated
            log.info("search index %s unreadable (%s): rebuilding it", path, exc)
            return None


def empty_library(label: str, mine: bool = True):
    """The error of a search or a look-up in a library that holds no track (a new account's)."""
    from .errors import NotEnoughData
    return NotEnoughData(f"{label} holds no tracks to search" + (
        ": the last refresh found none in your account (save some, or add some to a playlist of your own, "
        "then `recommend refresh`)" if mine else ""))
