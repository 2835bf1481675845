"""Content scorer: TF-IDF over per-track text fields, cosine similarity to the seed profile.

Fields (each vectorised on its own, weighted, hstacked, rows L2-normalised):
``name`` (word n-grams of the track name), ``name_chars`` (char n-grams, off by default),
``artist`` (each artist as one whole-name token), ``artist_words``, ``album`` (words of the
album name), ``album_id`` (the album as one token), ``year``, ``decade``, ``playlists``
(words of the names of the playlists that hold the track), ``genres`` (artist genres).

Every distinct string is tokenised once (names repeat across tracks), so fitting is a few
sparse products; the profile is the weighted mean of the seed rows and the score of every
track is one sparse mat-vec.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from ..library import Library, as_arrow, as_list_arrow, list_indicator
from ..namewords import CJK_LETTERS, ENGLISH_STOP_WORDS, NAME_FILLER, PACKAGING_WORDS, strip_packaging, word_grams
from ..wording import plural
from .base import Scorer, seed_vector
from .year import track_years

log = logging.getLogger(__name__)

# Measured on the benchmark's dev split (content alone, p@10): artist 0.24, album_id 0.27,
# album words 0.16, name words 0.03, year 0.01, playlists 0.005 (and adding it at 0.3 to the
# rest costs 0.035: the seeds all carry their own playlist's name, which no candidate has).
DEFAULT_FIELDS: dict[str, float] = {
    "name": 0.5, "name_chars": 0.0, "artist": 1.0, "artist_words": 0.5, "album": 0.5,
    "album_id": 1.0, "year": 0.3, "decade": 0.0, "playlists": 0.0, "genres": 0.5,
}


_WORD_FIELDS = {"name", "album", "artist_words", "playlists"}
# Tokens an explanation skips: they scored, but "album 'the'" explains nothing to a person.
# English stop words plus the credit and foreign function words of ``namewords``; not the
# content words scikit-learn's list also holds ("fire", "cry", "one", "alone": song titles,
# real reasons).
_NOT_FILLER = {
    "alone", "always", "again", "amount", "back", "bill", "bottom", "call", "cry", "describe", "detail",
    "empty", "eight", "eleven", "fifteen", "fifty", "fill", "find", "fire", "first", "five", "forty", "found",
    "four", "front", "full", "give", "hundred", "interest", "keep", "last", "made", "mill", "move", "name",
    "never", "nine", "one", "part", "put", "see", "serious", "show", "side", "sincere", "six", "sixty",
    "system", "take", "ten", "thick", "thin", "third", "three", "together", "top", "twelve", "twenty", "two"}
# The pieces the word fields split an English contraction into ("That's" -> "that", "s";
# "Don't" -> "don", "t"): "name 's'", "name 'don'" is half a word, no reason.
_CONTRACTION_PIECES = frozenset(
    "s t d ll m re ve don won isn aren wasn weren didn doesn hasn haven hadn couldn wouldn shouldn ain".split())
# And the packaging words of a name's decoration ("- Radio Edit", "- Original Mix"): build-playlist
# scores them (as benchmarked), but "shares name 'edit'" is no likeness to show.
_FILLER_WORDS = (ENGLISH_STOP_WORDS - _NOT_FILLER) | NAME_FILLER | _CONTRACTION_PIECES | PACKAGING_WORDS
# The words ``skip_filler`` leaves out of the word fields' features: the same but the packaging
# words, which ``drop_packaging`` decides (and only in a name's decoration)
_SKIPPED_WORDS = _FILLER_WORDS - PACKAGING_WORDS


def _words(text: str) -> list[str]:
    """The lower-cased words of ``text`` as the word fields split them (runs of letters,
    digits and underscores, any script)."""
    return re.findall(r"\w+", text.lower())


SHARES = "shares "  # the start of every ``ContentScorer.explain`` reason; its parts are joined by ", "


def without_artist(why: str, name: str) -> str:
    """``why`` without its part naming artist ``name`` whole ("shares year '2019', artist
    'Deorro'" -> "shares year '2019'"), for a reason placed after another that names the
    artist already; '' when that was its only part; unchanged when it is no content reason
    or has no such part."""
    if not why.startswith(SHARES):
        return why
    body, part = why[len(SHARES):], f"artist '{name}'"
    if body == part:
        return ""
    if body.startswith(part + ", "):
        return SHARES + body[len(part) + 2:]
    if body.endswith(", " + part):
        return SHARES + body[:-len(part) - 2]
    return SHARES + body.replace(f", {part}, ", ", ", 1)


def row_normalise(m: sp.csr_matrix, copy: bool = True) -> sp.csr_matrix:
    """Rows scaled to unit L2 norm (all-zero rows stay zero). Returns a new float32 CSR
    (``copy=False``: scales ``m`` itself when it already is a float32 CSR)."""
    m = sp.csr_matrix(m, dtype=np.float32, copy=copy)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    norms = np.sqrt(np.bincount(rows, weights=np.square(m.data, dtype=np.float64), minlength=m.shape[0]))
    norms[norms == 0] = 1.0
    m.data /= norms[rows].astype(np.float32)
    return m


def idf_weight(counts: sp.csr_matrix, sublinear: bool = True) -> sp.csr_matrix:
    """TF-IDF (smooth idf over rows, sublinear tf) of a rows x terms count matrix."""
    tf = sp.csr_matrix(counts, dtype=np.float32, copy=True)
    n = tf.shape[0]
    df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float32)
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    if sublinear:
        tf.data = 1.0 + np.log(np.maximum(tf.data, 1e-12))
    tf.data *= idf[tf.indices]
    return tf


def onehot(codes: np.ndarray, n_cols: int) -> sp.csr_matrix:
    """rows x n_cols indicator matrix from one code per row (-1 = none)."""
    rows = np.flatnonzero(codes >= 0)
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, codes[rows])),
                         shape=(len(codes), n_cols))


# Chinese, Japanese and Korean letters as RE2 classes (pyarrow's regexes; U+30FC is the katakana
# long-vowel mark, a letter of no script); ``namewords.CJK_LETTERS`` is the same for Python's ``re``
_CJK_RE2 = r"([\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\x{30FC}])"
_CJK_JOIN = re.compile(f"(?<=[{CJK_LETTERS}]) (?=[{CJK_LETTERS}])")
_KANA_PARTICLE = re.compile("^[\u3040-\u309f]$")  # one hiragana: の, に, を... (a particle, not a word)


def cjk_words(token: str) -> str:
    """A term of ``split_cjk`` counts as it reads: "夜 に" -> "夜に"."""
    return _CJK_JOIN.sub("", token)


def _word_ngrams(uniques: pa.Array, ngram_range, split_cjk: bool = False) -> tuple[sp.csr_matrix, np.ndarray]:
    """strings x terms counts of lower-cased word n-grams (words: runs of letters, digits
    and underscores, any script), computed column-wise with pyarrow (no Python loop).
    ``split_cjk``: each Chinese, Japanese or Korean letter is a word of its own (those scripts
    write no spaces between words: "夜に駆ける" was one word, shared with no other title), so
    n-grams of 1 and 2 are the characters and character pairs."""
    arr = as_arrow(uniques)
    arr = pc.utf8_lower(arr)
    if split_cjk:
        arr = pc.replace_substring_regex(arr, _CJK_RE2, r" \1 ")
    arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, r"[^\p{L}\p{N}_]+", " "))
    lists = pc.utf8_split_whitespace(arr)
    flat = pc.list_flatten(lists)
    parent = np.asarray(pc.list_parent_indices(lists).to_numpy(zero_copy_only=False), dtype=np.int64)
    nonempty = np.asarray(pc.greater(pc.utf8_length(flat), 0).to_numpy(zero_copy_only=False), dtype=bool)
    if not nonempty.all():
        keep = np.flatnonzero(nonempty)
        flat, parent = flat.take(pa.array(keep)), parent[keep]
    lo, hi = int(ngram_range[0]), int(ngram_range[1])
    tokens, rows = [], []
    space = pa.scalar(" ", pa.large_string())
    for n in range(max(lo, 1), hi + 1):
        m = len(flat) - n + 1
        if m <= 0:
            break
        gram = flat.slice(0, m)
        for k in range(1, n):
            gram = pc.binary_join_element_wise(gram, flat.slice(k, m), space)
        same = np.flatnonzero(parent[n - 1:] == parent[:m])  # all n words from one string
        tokens.append(gram.take(pa.array(same)))
        rows.append(parent[:m][same])
    if not tokens or sum(len(t) for t in tokens) == 0:
        return sp.csr_matrix((len(uniques), 0), dtype=np.float32), np.array([], dtype=object)
    enc = pc.dictionary_encode(pa.chunked_array(tokens).combine_chunks())
    cols = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    terms = np.asarray(enc.dictionary.to_pylist(), dtype=object)
    u = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), (np.concatenate(rows), cols)),
                      shape=(len(uniques), len(terms)))
    u.sum_duplicates()
    return u, terms


def _char_wb_ngrams(strings: list[str], ngram_range) -> tuple[sp.csr_matrix, np.ndarray]:
    """strings x terms counts of lower-cased character n-grams inside words, each word padded
    with a space at both ends, a word shorter than n counted once (scikit-learn's
    ``CountVectorizer(analyzer="char_wb")``, term for term: ``tests/test_scorers.py`` compares
    them; written here because importing scikit-learn costs a run 1.4 s). Terms sorted."""
    lo, hi = int(ngram_range[0]), int(ngram_range[1])
    vocab: dict[str, int] = {}
    cols: list[int] = []
    counts: list[int] = []
    indptr = [0]
    for text in strings:
        seen: dict[int, int] = {}
        for w in text.lower().split():  # (scikit-learn first turns runs of white space into one: split() does)
            for n in range(lo, hi + 1):
                for g in word_grams(w, n):
                    j = vocab.setdefault(g, len(vocab))
                    seen[j] = seen.get(j, 0) + 1
                if len(w) + 2 <= n:  # a padded word no longer than n: one gram, and none longer
                    break
        cols.extend(seen)
        counts.extend(seen.values())
        indptr.append(len(cols))
    terms = np.array(sorted(vocab), dtype=object)
    order = np.empty(len(vocab), dtype=np.int64)
    order[[vocab[t] for t in terms]] = np.arange(len(terms))
    u = sp.csr_matrix((np.asarray(counts, dtype=np.float32), order[np.asarray(cols, dtype=np.int64)],
                       np.asarray(indptr, dtype=np.int64)), shape=(len(strings), len(terms)))
    u.sort_indices()
    return u, terms


def text_counts(values, ngram_range=(1, 1), analyzer: str = "word",
                min_df: int = 1, split_cjk: bool = False) -> tuple[sp.csr_matrix, np.ndarray]:
    """rows x terms counts of a string Series (or Arrow array); every distinct string is
    tokenised once; nulls count as "".

    ``analyzer``: "word" (word n-grams) or "char_wb" (character n-grams inside words).
    Terms occurring in fewer than ``min_df`` rows are dropped. Returns (matrix, terms).
    """
    enc = pc.dictionary_encode(pc.fill_null(as_arrow(values), ""))
    codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return coded_text_counts(codes, enc.dictionary, ngram_range, analyzer, min_df, split_cjk)


def coded_text_counts(codes: np.ndarray, uniques: pa.Array, ngram_range=(1, 1), analyzer: str = "word",
                      min_df: int = 1, split_cjk: bool = False) -> tuple[sp.csr_matrix, np.ndarray]:
    """``text_counts`` of a dictionary-encoded column: ``codes`` (one per row) into the
    distinct strings ``uniques`` (e.g. from ``Library.text_codes``); ``split_cjk``: see
    ``_word_ngrams``."""
    n = len(codes)
    if len(uniques) == 0:
        return sp.csr_matrix((n, 0), dtype=np.float32), np.array([], dtype=object)
    if analyzer == "word":
        u, terms = _word_ngrams(uniques, ngram_range, split_cjk)
    else:
        u, terms = _char_wb_ngrams(uniques.to_pylist(), ngram_range)
    m = sp.csr_matrix(u[codes]) if n else sp.csr_matrix((0, u.shape[1]), dtype=np.float32)
    if min_df > 1 and m.shape[1]:
        df = np.bincount(m.indices, minlength=m.shape[1])
        keep = np.flatnonzero(df >= min_df)
        m, terms = m[:, keep], terms[keep]
    return sp.csr_matrix(m), terms


def list_counts(lists, n_rows: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """rows x tokens indicator matrix from a Series of lists of tokens (None = no tokens),
    or from an Arrow list array."""
    arr = lists if isinstance(lists, (pa.ListArray, pa.LargeListArray)) else as_list_arrow(lists)
    return list_indicator(arr, n_rows)


class ContentScorer(Scorer):
    """TF-IDF cosine similarity between each candidate and the weighted mean of the seeds.

    ``drop_packaging``: the name and album word fields leave out the packaging words of name
    decorations ("X - 2011 Remaster", "(Deluxe Edition)": ``namewords.strip_packaging``);
    ``split_cjk``: the name, album and playlist word fields count each Chinese, Japanese or
    Korean letter as a word (see ``_word_ngrams``). `similar` sets both, build-playlist
    neither (see ``explore.similar_setup``). ``skip_filler``: the word fields (name, album,
    artist_words, playlists) leave out every term made of filler words only (``_SKIPPED_WORDS``:
    "the", "of", "feat", the "s" of "That's", ...; not the packaging words), so "The Police" shares nothing
    with "The Cranberries"; "the police" as a pair of words stays. Off by default (the config key
    ``scorers.content.skip_filler``: measured, no gain; see its comment in config/default.yaml)."""

    name = "content"

    def __init__(self, fields: Mapping[str, float] | None = None, word_ngrams=(1, 2),
                 char_ngrams=(3, 4), min_df: int = 2, sublinear_tf: bool = True,
                 drop_packaging: bool = False, split_cjk: bool = False, skip_filler: bool = False) -> None:
        self.fields = dict(DEFAULT_FIELDS if fields is None else fields)
        self.drop_packaging = drop_packaging
        self.skip_filler = skip_filler
        self.split_cjk = split_cjk
        self.word_ngrams = tuple(word_ngrams)
        self.char_ngrams = tuple(char_ngrams)
        self.min_df = min_df
        self.sublinear_tf = sublinear_tf

    # ----- fitting ---------------------------------------------------------------------
    def _name_codes(self, library: Library, column: str) -> tuple[np.ndarray, pa.Array]:
        """``library.text_codes("tracks", column)``; with ``drop_packaging`` each distinct name
        without the packaging words of its decorations ("X - 2011 Remaster" -> "X")."""
        codes, uniques = library.text_codes("tracks", column)
        if self.drop_packaging:
            uniques = pa.array([strip_packaging(u) for u in uniques.to_pylist()], type=uniques.type)
        return codes, uniques

    def _field_counts(self, library: Library, field: str) -> tuple[sp.csr_matrix, np.ndarray]:
        tracks = library.tracks
        n = len(tracks)
        if field == "name":
            return coded_text_counts(*self._name_codes(library, "name"), self.word_ngrams, min_df=self.min_df,
                                     split_cjk=self.split_cjk)
        if field == "name_chars":
            return coded_text_counts(*library.text_codes("tracks", "name"), self.char_ngrams, analyzer="char_wb",
                                     min_df=self.min_df)
        if field == "artist":
            return library.track_artist_matrix()
        if field == "artist_words":
            joined = pc.binary_join(library.list_arrow("tracks", "artist_names"), pa.scalar(" ; ", pa.large_string()))
            return text_counts(joined, (1, 1), min_df=self.min_df)
        if field == "album":
            return coded_text_counts(*self._name_codes(library, "album_name"), self.word_ngrams,
                                     min_df=self.min_df, split_cjk=self.split_cjk)
        if field == "album_id":
            enc = pc.dictionary_encode(as_arrow(tracks["album_id"]))  # nulls: no album token
            codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
            return onehot(codes, len(enc.dictionary)), np.asarray(enc.dictionary.to_pylist(), dtype=object)
        if field in ("year", "decade"):
            per_track = track_years(library)
            if field == "decade":
                per_track = (per_track // 10) * 10
            codes, uniques = pd.factorize(per_track)
            return onehot(np.asarray(codes), len(uniques)), np.asarray(
                [f"{int(u)}{'s' if field == 'decade' else ''}" for u in uniques], dtype=object)
        if field == "playlists":
            tp, cols = library.track_playlist_matrix(extra_sources=False)
            names = library.playlists.drop_duplicates("playlist_id").set_index("playlist_id")["name"]
            pl_names = pd.Series(cols.map(lambda c: names.get(c, "")), index=range(len(cols))).fillna("")
            words, terms = text_counts(pl_names, self.word_ngrams, min_df=1, split_cjk=self.split_cjk)
            return sp.csr_matrix(tp @ words), terms
        if field == "genres":
            genres = library.artist_genres()
            genres = genres[genres.map(len) > 0] if len(genres) else genres
            if not len(genres):
                return sp.csr_matrix((n, 0), dtype=np.float32), np.array([], dtype=object)
            g = genres[~genres.index.duplicated()]
            ag, terms = list_counts(g, len(g))
            ta, artists = library.track_artist_matrix()
            rows = g.index.get_indexer(pd.Index(artists))
            ok = rows >= 0
            sel = sp.csr_matrix((np.ones(ok.sum(), dtype=np.float32), (np.flatnonzero(ok), rows[ok])),
                                shape=(len(artists), len(g)))
            return sp.csr_matrix(ta @ sel @ ag), terms
        raise ValueError(f"unknown content field {field!r}")

    def fit(self, library: Library) -> "ContentScorer":
        """Build the tracks x features matrix ``X_`` (rows L2-normalised)."""
        blocks, names = [], []
        for field, weight in self.fields.items():
            if weight <= 0:
                continue
            counts, terms = self._field_counts(library, field)
            if self.skip_filler and field in _WORD_FIELDS and len(terms):
                keep = np.flatnonzero([not set(_words(str(t))) <= _SKIPPED_WORDS for t in terms])
                counts, terms = sp.csr_matrix(counts[:, keep]), np.asarray(terms)[keep]
            if counts.shape[1] == 0:
                continue
            block = row_normalise(idf_weight(counts, self.sublinear_tf), copy=False)  # a fresh matrix
            block.data *= np.float32(weight)
            blocks.append(block)
            names.append(np.char.add(f"{field}:", np.asarray(terms, dtype=str)))
        n = len(library.track_ids)
        self.track_ids_ = library.track_ids
        self._positions = library.track_positions  # id -> row lookups without rereading every id
        if blocks:
            self.X_ = row_normalise(sp.hstack(blocks, format="csr"), copy=False)
            self.feature_names_ = np.concatenate(names)
        else:
            self.X_ = sp.csr_matrix((n, 0), dtype=np.float32)
            self.feature_names_ = np.array([], dtype=str)
        self._library = library  # names for explanations, looked up lazily
        log.debug("content: %d tracks x %d features, %d non-zeros", *self.X_.shape, self.X_.nnz)
        return self

    # ----- scoring ---------------------------------------------------------------------
    def profile(self, seeds: pd.Series) -> np.ndarray:
        """Weighted mean of the seed rows (dense, features)."""
        return self._profile(seed_vector(seeds, self.track_ids_, self._positions))

    def _profile(self, v: np.ndarray) -> np.ndarray:
        total = v.sum()
        if total <= 0:
            return np.zeros(self.X_.shape[1], dtype=np.float32)
        return np.asarray(self.X_.T @ v).ravel() / np.float32(total)

    def score_all(self, seeds: pd.Series) -> np.ndarray:
        """Cosine-like score of every track (rows of ``track_ids_``); NaN when no seed is known."""
        v = seed_vector(seeds, self.track_ids_, self._positions)
        if v.sum() <= 0:
            return np.full(len(self.track_ids_), np.nan)
        return np.asarray(self.X_ @ self._profile(v)).ravel()

    def explain(self, seeds: pd.Series, track_ids: list[str], top: int = 3) -> dict[str, str]:
        """The features a track shares with the seed profile that contribute most."""
        prof = self.profile(seeds)
        artist_names = self._artist_names()
        out = {}
        for tid, r in self._fitted_rows(track_ids):
            row = self.X_[r]
            contrib = row.data * prof[row.indices]
            order = [i for i in np.argsort(-contrib, kind="stable") if contrib[i] > 0]
            features = [self.feature_names_[row.indices[i]].partition(":") for i in order]
            # a word of an artist the track already shares whole says nothing more
            # ("shares artist 'The Cranberries', artist 'cranberries'")
            shared = {w for field, _, token in features if field == "artist"
                      for w in _words(str(artist_names.get(token, token)))}
            # nor a word of the album it shares whole ("the same album, album 'athena'")
            same_album = any(field == "album_id" for field, _, _ in features)
            parts, filler = [], []
            for field, _, token in features:
                if len(parts) == top:
                    break
                if field == "album_id":
                    parts.append((None, "the same album"))
                    continue
                if field == "album" and same_album:
                    continue
                if field == "artist_words" and set(_words(token)) <= shared:
                    continue
                if field in _WORD_FIELDS and set(_words(token)) <= _FILLER_WORDS:
                    filler.extend(w for w in _words(token) if w not in filler)
                    continue  # it scored, but "album 'the'" explains nothing to a person
                if self.split_cjk and field in _WORD_FIELDS and all(_KANA_PARTICLE.match(w) for w in token.split()):
                    continue  # "name 'の'": the same
                if self.split_cjk and field in _WORD_FIELDS:
                    token = cjk_words(token)
                if field == "artist":
                    token = str(artist_names.get(token, token))
                label = {"name_chars": "name", "playlists": "playlist"}.get(field, field)
                parts.append((label, token))
            if parts:
                out[tid] = SHARES + _joined_parts(parts)
            elif filler:  # only "the" of "The Police" and "The Cranberries": say so, not "similar artists"
                out[tid] = f"{SHARES}only the common {plural(len(filler), 'word')} " + \
                    ", ".join(f"'{w}'" for w in filler[:3]) + " with your seeds"
        return out


# labels whose parts are words of a name, not the name, and how each is said: "artist word 'x'"
# for a word two artists' names share, as "artist 'X'" is a seed's artist itself
_WORDS_OF = {"name": "name", "album": "album", "artist_words": "artist"}


def _joined_parts(parts: list[tuple[str | None, str]]) -> str:
    """A why's shared features, each label said once before its words, labels in the order of
    their first (strongest) feature: "name words 'personal', 'jesus', artist 'X'", not "name
    word 'personal', artist 'X', name word 'jesus'"; a part without a label ("the same album")
    as it is."""
    order = list(dict.fromkeys(label for label, _ in parts))
    said = []
    for label in order:
        texts = [text for lab, text in parts if lab == label]
        if label in _WORDS_OF:  # "album word 'full'": "album 'full'" read as the same album
            label = f"{_WORDS_OF[label]} {plural(len(texts), 'word')}"
        said.extend(texts if label is None else [f"{label} " + ", ".join(f"'{t}'" for t in texts)])
    return ", ".join(said)
