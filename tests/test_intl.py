"""A library whose names are not English: Japanese, Korean, Chinese, Arabic, Hebrew, Cyrillic,
Greek, Thai, accented Latin in NFC and NFD forms, full-width characters and emoji. Found by
using the tool as such a user would (the stand-in serving such an account)."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from recommender.library import Library

NFD = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731


def library_with_playlists(names: list[str]) -> Library:
    ids = [f"p{i}" for i in range(len(names))]
    return Library.from_frames(
        tracks=pd.DataFrame({"track_id": ["a"]}),
        playlists=pd.DataFrame({"playlist_id": ids, "name": names}),
        playlist_items=pd.DataFrame({"playlist_id": ids, "track_id": ["a"] * len(ids), "position": [0] * len(ids)}))


@pytest.mark.parametrize("typed, stored", [
    ("Café Müsik", NFD("Café Müsik")),      # typed NFC (a keyboard), stored NFD (a Mac's export)
    (NFD("Café Müsik"), "Café Müsik"),
    ("istanbul geceleri", "İstanbul Geceleri"),
    ("İSTANBUL GECELERİ", "İstanbul Geceleri"),
    ("STRASSE", "Straße"),
    ("ＳＴＲＡＳＳＥ", "Straße"),          # full-width letters
    ("cafe musik", "Café Müsik"),           # no accent typed: still the one playlist so named
    ("ελληνικα", "Ελληνικά"),
])
def test_a_playlist_is_found_by_its_name_however_the_name_is_encoded_or_cased(typed, stored):
    # `--seed-playlist "Café Müsik"` said 'no playlist named "Café Müsik"; did you mean "Café Müsik"?'
    # when Spotify held the name decomposed (NFD), and "İSTANBUL GECELERİ" missed "İstanbul Geceleri"
    lib = library_with_playlists(["Other", stored])
    assert lib.find_playlist(typed) == "p1"


def test_the_exact_spelling_wins_over_the_accentless_one_and_two_accentless_twins_are_refused():
    from recommender.errors import UsageError
    lib = library_with_playlists(["Cafe", "Café", "Cafè"])
    assert lib.find_playlist("café") == "p1" and lib.find_playlist("CAFE") == "p0"
    lib = library_with_playlists(["Café", "Cafè"])
    with pytest.raises(UsageError, match="2 playlists"):
        lib.find_playlist("cafe")
