"""Words of track, album and playlist names that say nothing about a track (stdlib only).

Two readers share them: the content scorer's "why" (``scorers/content.py``: a reason such as
"album 'de'" explains nothing to a person) and the mood cluster labels and text features
(``moods.py``: such a word names no mood). Each adds its own words on top: the content scorer
English stop words, the moods the release-format words ("remix", "live", "deluxe").
"""

from __future__ import annotations

# "feat", "ft", "featuring": the credit of a guest, a word of half the names in a library
CREDIT_WORDS = frozenset({"feat", "ft", "featuring"})

# Function words (articles, prepositions, conjunctions, pronouns) of the other languages common
# in playlists: Spanish, Portuguese, French, Italian, German. English ones come from
# scikit-learn's list, which each reader adds in its own way.
FOREIGN_FUNCTION_WORDS = frozenset(
    "de del la las el los le les y e en da do das dos der und un una o mi te tu "
    "que lo se me no con por para et du des".split())

NAME_FILLER = CREDIT_WORDS | FOREIGN_FUNCTION_WORDS
