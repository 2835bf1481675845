"""Words of track, album and playlist names that say nothing about a track (stdlib only).

Two readers share them: the content scorer's "why" (``scorers/content.py``: a reason such as
"album 'de'" explains nothing to a person) and the mood cluster labels and text features
(``moods.py``: such a word names no mood). Each adds its own words on top: the content scorer
English stop words, the moods ``PACKAGING_WORDS`` and a performance's words ("remix", "live").
``strip_packaging`` takes the packaging words out of a name's decorations for `similar`.
"""

from __future__ import annotations

import re

# "feat", "ft", "featuring": the credit of a guest, a word of half the names in a library
CREDIT_WORDS = frozenset({"feat", "ft", "featuring"})

# Function words (articles, prepositions, conjunctions, pronouns) of the other languages common
# in playlists: Spanish, Portuguese, French, Italian, German. English ones are
# ``ENGLISH_STOP_WORDS`` below, which each reader adds in its own way.
FOREIGN_FUNCTION_WORDS = frozenset(
    "de del la las el los le les y e en da do das dos der und un una o mi te tu "
    "que lo se me no con por para et du des".split())

NAME_FILLER = CREDIT_WORDS | FOREIGN_FUNCTION_WORDS

# English stop words: scikit-learn's ``ENGLISH_STOP_WORDS`` (BSD-3-Clause, from the Glasgow
# Information Retrieval Group's list), copied so that a build-playlist run, whose "why" reads
# them, does not import scikit-learn for one constant (1.4 s of every run: it imports scipy.stats).
# ``tests/test_scorers.py`` checks that the copy is still scikit-learn's list.
ENGLISH_STOP_WORDS = frozenset((
    "a about above across after afterwards again against all almost alone along already also "
    "although always am among amongst amoungst amount an and another any anyhow anyone anything "
    "anyway anywhere are around as at back be became because become becomes becoming been before "
    "beforehand behind being below beside besides between beyond bill both bottom but by call can "
    "cannot cant co con could couldnt cry de describe detail do done down due during each eg "
    "eight either eleven else elsewhere empty enough etc even ever every everyone everything "
    "everywhere except few fifteen fifty fill find fire first five for former formerly forty "
    "found four from front full further get give go had has hasnt have he hence her here "
    "hereafter hereby herein hereupon hers herself him himself his how however hundred i ie if in "
    "inc indeed interest into is it its itself keep last latter latterly least less ltd made many "
    "may me meanwhile might mill mine more moreover most mostly move much must my myself name "
    "namely neither never nevertheless next nine no nobody none noone nor not nothing now nowhere "
    "of off often on once one only onto or other others otherwise our ours ourselves out over own "
    "part per perhaps please put rather re same see seem seemed seeming seems serious several she "
    "should show side since sincere six sixty so some somehow someone something sometime "
    "sometimes somewhere still such system take ten than that the their them themselves then "
    "thence there thereafter thereby therefore therein thereupon these they thick thin third this "
    "those though three through throughout thru thus to together too top toward towards twelve "
    "twenty two un under until up upon us very via was we well were what whatever when whence "
    "whenever where whereafter whereas whereby wherein whereupon wherever whether which while "
    "whither who whoever whole whom whose why will with within without would yet you your yours "
    "yourself yourselves").split())


def word_grams(word: str, n: int) -> list[str]:
    """The character n-grams of ``word`` padded with a space at both ends, as scikit-learn's
    ``char_wb`` analyzer cuts them: "halo", 3 -> [" ha", "hal", "alo", "lo "]; a padded word no
    longer than n is one gram, itself (" a " for "a", 4)."""
    w = f" {word} "
    return [w[i:i + n] for i in range(max(len(w) - n, 0) + 1)]

# Words of a name's decoration (the part after " - " or in brackets) that say how a release is
# packaged, not how it sounds: "X - 2011 Remaster", "Y (Deluxe Edition)", "Z - Radio Edit",
# "W - Original Mix". One shared by two unrelated tracks is no likeness ("recommend similar"
# ranked every remaster alike). Kept: the words of a different performance ("remix", "live",
# "acoustic", "extended", "club", "instrumental", "demo"), which do say how it sounds, and
# everything outside a decoration ("Version Excursion", an album called "1999").
PACKAGING_WORDS = frozenset(
    "remaster remastered remasterd remastering remasterizado remasterizada version versión versao "
    "versão edition edición deluxe super expanded anniversary special bonus track explicit clean "
    "reissue reissued single album edit radio original mix mono stereo digital international".split())
# Chinese, Japanese and Korean letters (a character class's ranges): scripts that write no
# spaces between words, so a reader that splits names into words takes each letter as one
# (`similar`'s content scorer, the search index)
CJK_LETTERS = ("\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
               "\uf900-\ufaff\U00020000-\U0002fa1f")
_YEAR_OR_ORDINAL = re.compile(r"^(?:(?:19|20)\d\d|\d+(?:st|nd|rd|th))$")
_DASH = re.compile(r"\s+[-\u2013\u2014]\s+")
_BRACKETED = re.compile(r"([(\[])([^()\[\]]*)([)\]])")
_WORD = re.compile(r"\w+")


def unpackaged(text: str) -> str:
    """``text`` without its packaging words, years and ordinals ("" when no word is left)."""
    kept = [w for w in text.split()
            if not all(t in PACKAGING_WORDS or _YEAR_OR_ORDINAL.match(t) for t in _WORD.findall(w.casefold()))]
    return " ".join(kept) if any(_WORD.search(w) for w in kept) else ""


def strip_packaging(name: str) -> str:
    """A track or album name without the packaging words of its decorations (``PACKAGING_WORDS``,
    years, ordinals): "Hey Jude - Remastered 2009" -> "Hey Jude", "Abbey Road (Super Deluxe
    Edition)" -> "Abbey Road", "Song - Live at Wembley / 2011 Remaster" -> "Song - Live at
    Wembley". The undecorated part is left whole: "Version Excursion" stays itself."""
    if not name:
        return name or ""

    def bracket(m: re.Match) -> str:
        inner = unpackaged(m.group(2))
        return f"{m.group(1)}{inner}{m.group(3)}" if inner else ""

    parts = _DASH.split(name, maxsplit=1)
    head = _BRACKETED.sub(bracket, parts[0])
    if len(parts) == 1:
        return head.strip()
    tail = unpackaged(_BRACKETED.sub(bracket, parts[1]))
    return f"{head.strip()} - {tail}" if tail else head.strip()
