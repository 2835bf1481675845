"""A library whose names are not English: Japanese, Korean, Chinese, Arabic, Hebrew, Cyrillic,
Greek, Thai, accented Latin in NFC and NFD forms, full-width characters and emoji. Found by
using the tool as such a user would (the stand-in serving such an account)."""

from __future__ import annotations

import json
import re
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


@pytest.mark.parametrize("stored", [
    "Crossfit\u200f\u200f\u200b\u200b   \u200d",  # the sample library's: zero-width and bidi marks
    "Evil \x1b[2J list",                              # a control character, shown as \x1b
    "Road Trip \U000e0067",                           # beyond U+FFFF, shown as \U000e0067
])
def test_a_playlist_is_found_by_its_name_as_recommend_playlists_shows_it(stored):
    # `recommend playlists --demo` shows "Crossfit\u200f\u200f\u200b\u200b   \u200d" (safetext.visible:
    # "so that a name can be told apart and typed back"); `moods cluster` given that name said
    # 'no playlist named "Crossfit\u200f..."', the very text the table showed
    from recommender.safetext import visible
    lib = library_with_playlists(["Other", stored])
    shown = visible(stored)
    assert shown != stored and "\\" in shown
    assert lib.find_playlist(shown) == "p1"
    assert lib.find_playlist(visible(stored.upper())) == "p1"  # case ignored, as for any name
    assert lib.find_playlist(stored) == "p1"  # the name itself, as before


def test_an_escape_typed_back_in_capitals_finds_the_name_too():
    # `recommend playlists` shows "\\u200b"; a person copying it by hand may type "\\u200B"
    lib = library_with_playlists(["Other", "Crossfit\u200b"])
    assert lib.find_playlist("Crossfit\\u200B") == lib.find_playlist("crossfit\\u200b") == "p1"


def test_a_name_spelled_with_a_backslash_is_still_found_as_spelled():
    lib = library_with_playlists(["a\u200bb", "a\\u200bb"])  # one with the character, one with the text
    assert lib.find_playlist("a\\u200bb") == "p1" and lib.find_playlist("a\u200bb") == "p0"


def test_an_escape_of_no_character_is_looked_up_as_typed_not_a_crash():
    # "\\U00110000" is past the last character: a lookup by it is a name not found, as typed
    lib = library_with_playlists(["Other", "x\\U00110000"])
    assert lib.find_playlist("x\\U00110000") == "p1" and lib.find_playlist("y\\U00110000") is None


def test_a_plot_of_cjk_playlists_warns_once_not_once_per_glyph(tmp_path, caplog):
    # `moods cluster 夜のドライブ שירים --plot` printed 48 lines of "UserWarning: Glyph 39333
    # (\N{CJK UNIFIED IDEOGRAPH-99A5}) missing from font(s) DejaVu Sans." with their source lines
    pytest.importorskip("matplotlib")
    import warnings

    from recommender.moods import cluster_playlists, plot_clusters
    from test_moods import two_group_audio_library
    lib, party, ballads = two_group_audio_library()
    pl = pd.DataFrame({"playlist_id": ["a" * 22, "b" * 22], "name": ["夜のドライブ 🚗", "שירים בעברית"]})
    items = pd.DataFrame({"playlist_id": ["a" * 22] * 10 + ["b" * 22] * 8, "track_id": party + ballads,
                          "position": range(18)})
    res = cluster_playlists(lib.replace(playlists=pl, playlist_items=items), ["a" * 22, "b" * 22], k=2)
    with warnings.catch_warnings(record=True) as seen, caplog.at_level("WARNING"):
        warnings.simplefilter("always")
        path = plot_clusters(res, tmp_path / "m.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [w for w in seen if "Glyph" in str(w.message)]
    from recommender.plotfonts import glyph_fonts
    if glyph_fonts(["夜"])[1]:  # no installed font has it (this machine): one line says so
        [line] = [r.getMessage() for r in caplog.records if "empty boxes" in r.getMessage()]
        assert "夜" in line
    else:
        assert not [r for r in caplog.records if "empty boxes" in r.getMessage()]


def test_a_glyph_the_default_font_lacks_is_drawn_in_an_installed_font_that_has_it():
    pytest.importorskip("matplotlib")
    from recommender.plotfonts import _charmap, glyph_fonts
    from matplotlib import font_manager
    families, missing = glyph_fonts(["Ⓐnarchy"])  # DejaVu Sans has no circled letters; STIX has
    assert families[0] == "DejaVu Sans" and len(families) == 2 and missing == []
    assert any(ord("Ⓐ") in _charmap(f.fname) for f in font_manager.fontManager.ttflist if f.name == families[1])
    assert glyph_fonts(["plain ASCII, Ελληνικά, Кино"]) == (["DejaVu Sans"], [])


RTL_ROWS = [[1, "5GiPRvTccToqwOzkoAcDrY", "שיר לשלום", 'להקת הנח"ל', "0.722"],
            [2, "6ane3gfoE6QFtOWSvQGAIH", "أنا لحبيبي", "فيروز", "0.582"],
            [3, "0vlZXy3h1sJgrLiMyzhQ1U", "Mi Gente", "J Balvin", "0.499"]]


@pytest.mark.parametrize("width", [80, 120, 36])  # 36: one block of "column  value" lines per row
def test_a_right_to_left_name_keeps_the_columns_of_its_line_in_order(width):
    # In a terminal that applies the bidi algorithm, "│ שיר לשלום │ להקת הנח"ל │ 0.722 │" took the
    # name's direction and the score joined the names' run: fribidi showed the Hebrew name at the
    # right end of the line and the score before the artist. A LEFT-TO-RIGHT MARK opens every line
    # with such text and closes each of its pieces, so nothing after a name joins its run.
    from rich.cells import cell_len

    from recommender.tables import LRM, fit_table
    from test_tables import render
    text = render(fit_table("t", ["#", "track_id", "track", "artist", "score"], RTL_ROWS, width,
                            wide="track"), width)
    rtl = [line for line in text.splitlines() if any(unicodedata.bidirectional(c) in ("R", "AL") for c in line)]
    assert rtl and all(line.startswith(LRM) for line in rtl)
    for line in rtl:  # every run of right-to-left letters ends in the mark before anything else
        runs = [m for m in __import__("re").finditer(r"[\u0590-\u08ff][^\u200e│]*", line)]
        assert all(line[m.end():].startswith(LRM) for m in runs), line
    assert not any(LRM in line for line in text.splitlines() if "Balvin" in line)  # a Latin row as it was
    assert max(cell_len(line) for line in text.splitlines()) <= width
    assert "שיר לשלום" in text and 'להקת הנח"ל' in text and "أنا لحبيبي" in text  # whole, in logical order


def test_a_blocklisted_name_blocks_the_artist_and_track_however_spotify_encodes_them():
    # blocklist_artists: ["Björk Guðmundsdóttir"] (typed: NFC) let the artist Spotify held decomposed
    # (NFD) through, three times in a playlist of 50
    from recommender.config import load_settings
    from recommender.pipeline import _blocked
    tracks = pd.DataFrame({"track_id": ["t1", "t2", "t3", "t4"],
                           "name": ["Jóga", NFD("Señorita"), "ＦＵＬＬ", "Other"],
                           "artist_ids": [["a1"], ["a2"], ["a3"], ["a4"]],
                           "artist_names": [[NFD("Björk Guðmundsdóttir")], ["X"], ["Y"], ["Кино"]]})
    settings = load_settings(environ={}, overrides={
        "candidates.blocklist_artists": ["björk guðmundsdóttir", "КИНО"],
        "candidates.blocklist_tracks": ["SEÑORITA", "full"]})
    assert list(_blocked(tracks, settings)) == [True, True, True, True]
    settings = load_settings(environ={}, overrides={"candidates.blocklist_artists": ["Bjork"]})
    assert not _blocked(tracks, settings).any()  # a name, not a search: accents still count
    # folded as playlist names are (library.name_key): "STRASSE" is "Straße", "İSTANBUL" "istanbul"
    tracks = pd.DataFrame({"track_id": ["t1", "t2", "t3"], "name": ["Straße", "İstanbul", None],
                           "artist_ids": [["a1"], ["a2"], []], "artist_names": [["Die Ärzte"], ["DİE"], []]})
    settings = load_settings(environ={}, overrides={"candidates.blocklist_tracks": ["STRASSE", "istanbul"],
                                                     "candidates.blocklist_artists": ["DIE ÄRZTE"]})
    assert list(_blocked(tracks, settings)) == [True, True, False]


def test_similar_finds_a_japanese_title_alike_for_the_characters_it_shares():
    # "夜に駆ける" was one word (no spaces in Japanese): no title shared a word with it, and
    # `similar` had no name evidence for any Japanese, Chinese or Korean title
    from recommender.config import default_settings
    from recommender.explore import similar_setup, similar_tracks
    from test_explore import make_library, tid
    songs = [("夜に駆ける", "YOASOBI", "THE BOOK"), ("月の光", "A", "a"), ("夜の街", "B", "b"),
             ("花の歌", "C", "c"), ("Night Drive", "D", "d"), ("月亮代表我的心", "E", "e"),
             ("夜曲", "F", "f"), ("月光", "G", "g")]
    lib = make_library(songs)
    scorers, _, _ = similar_setup(default_settings(), lib)
    out = similar_tracks(lib, tid(0), {"content": scorers["content"]}, n=10)
    assert set(out["track_id"][:2]) == {tid(2), tid(6)}  # the two other titles with "夜"
    whys = dict(zip(out["track_id"], out["why"]))
    assert re.search(r"name words? ('[^']+', )*'夜'", whys[tid(2)]), whys[tid(2)]  # each label said once
    assert "'の'" not in " ".join(out["why"])  # a particle shared is no reason given
    out = similar_tracks(lib, tid(1), {"content": scorers["content"]}, n=10)
    assert out["track_id"].iloc[0] == tid(7) and re.search(r"name words? ('[^']+', )*'月'", out["why"].iloc[0])  # 月の光 -> 月光
    # build-playlist's scorer keeps whole words: the benchmark's numbers stand
    from recommender.scorers import make_scorers
    assert not make_scorers(default_settings())["content"].split_cjk


def test_similars_why_says_a_shared_pair_of_characters_as_it_reads_and_no_shared_particle():
    # the why of 夜に咲く for 夜に駆ける: the pair 夜に as written, not "夜 に"; 夜の街 shares only
    # the particle の with 月の光, which is no reason (the test above asks no why of a の)
    from recommender.config import default_settings
    from recommender.explore import similar_setup, similar_tracks
    from test_explore import make_library, tid
    lib = make_library([("夜に駆ける", "A", "a"), ("月の光", "B", "b"), ("夜の街", "C", "c"), ("夜に咲く", "D", "d")])
    scorers, _, _ = similar_setup(default_settings(), lib)

    def whys(seed: str) -> dict:
        out = similar_tracks(lib, seed, {"content": scorers["content"]}, n=10)
        return dict(zip(out["track_id"], out["why"]))
    assert whys(tid(0))[tid(3)] == "shares name words '夜に', '夜'"
    assert "の" not in whys(tid(1))[tid(2)]


def test_an_emoji_made_of_joined_emoji_is_shown_whole_and_a_lone_joiner_still_escaped():
    # `recommend playlists` showed the playlist "👨‍👩‍👧 Family" as "👨\u200d👩\u200d👧 Family"
    from recommender.safetext import visible
    for name in ("👨‍👩‍👧 Family", "Pride 🏳️‍🌈", "👍🏽‍🔥", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Alba",
                 "🇯🇵🇰🇷"):
        assert visible(name) == name
    assert visible("a\u200db") == "a\\u200db" and visible("x\u200b👨‍👩") == "x\\u200b👨‍👩"
    assert visible("\u200d👩") == "\\u200d👩"  # a joiner with no emoji before it joins nothing
    assert visible("tag \U000e0067") == "tag \\U000e0067"  # five hex digits would read as \ue006 and "7"


def test_search_finds_a_cjk_title_by_one_of_its_characters_or_words():
    # "夜" found nothing in "夜に駆ける" (the title was one word: its trigrams hold no " 夜 "),
    # nor "月亮" in "月亮代表我的心" above the floor
    from recommender.explore import search_tracks
    from test_explore import make_library
    songs = [("夜に駆ける", "YOASOBI", "THE BOOK"), ("月亮代表我的心", "邓丽君", "x"), ("千本桜", "初音ミク", "y"),
             ("우주를 줄게", "볼빨간사춘기", "z"), ("Night Drive", "Someone", "w")]
    lib = make_library(songs)
    for query, name in (("夜", "夜に駆ける"), ("駆ける", "夜に駆ける"), ("月亮", "月亮代表我的心"), ("千本", "千本桜"),
                        ("우주", "우주를 줄게"), ("ミク", "千本桜")):
        hits = search_tracks(lib, query)
        assert hits["name"].iloc[0] == name, query
    assert search_tracks(lib, "夜").shape[0] == 1  # no other title has it


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_table_on_a_terminal_that_is_not_utf8_keeps_its_columns(tmp_path, encoding):
    # The stream escaped what it could not encode ("🍹" -> "\U0001f379") after rich had laid the
    # table out for the character: that row ran 8 columns past the others
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPOTIPY_", "RECOMMENDER_"))}
    env.update(RECOMMENDER_CACHE_DIR=str(tmp_path), PYTHONPATH=str(root), PYTHONIOENCODING=encoding, COLUMNS="90")
    out = subprocess.run([sys.executable, "-m", "recommender", "playlists", "--demo"], capture_output=True, env=env,
                         cwd=root, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.decode(encoding).splitlines()
    table = [line for line in lines if line[:1] in "|+"]
    assert any("Club Mix 2020 \\U0001f379" in line for line in table)  # the demo's "Club Mix 2020 🍹"
    assert len({len(line) for line in table}) == 1, [line for line in table if len(line) != len(table[0])]
    if encoding == "latin-1":
        assert any("Academia Reggaetón" in line for line in table)  # what Latin-1 has is shown as itself
    else:  # the lines under the table too: the unread note's "¡Viva Latino!" came as UTF-8 bytes
        assert "'\\xa1Viva Latino!'" in " ".join(lines)
    out = subprocess.run([sys.executable, "-m", "recommender", "playlists", "--demo", "--json"], capture_output=True,
                         env=env, cwd=root, timeout=300)
    assert out.returncode == 0 and max(out.stdout) < 128, out.stderr
    assert "Academia Reggaetón" in [p["name"] for p in json.loads(out.stdout.decode("utf-8"))]


@pytest.mark.parametrize("encoding, utf8", [("latin-1", False), ("ascii", False), ("utf-8", True)])
def test_json_is_ascii_escaped_on_an_output_that_is_not_utf8(monkeypatch, encoding, utf8):
    """--json under PYTHONIOENCODING=latin-1 printed "ó" as the one Latin-1 byte (a name with
    nothing outside Latin-1): broken UTF-8 to every JSON reader. It is JSON's own \\u escapes
    on any output that is not UTF-8; names as written on one that is."""
    import io
    import sys

    from recommender.cli.output import _print_json
    out = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    monkeypatch.setattr(sys, "stdout", out)
    _print_json({"name": "Academia Reggaetón"})
    out.flush()
    raw = out.buffer.getvalue()
    assert json.loads(raw.decode("utf-8")) == {"name": "Academia Reggaetón"}
    assert ("Reggaetón".encode() in raw) == utf8 and (b"\\u00f3" in raw) != utf8


@pytest.mark.parametrize("name", [NFD("Björk Guðmundsdóttir Orchestra"), "The 👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦 Family Band",
                                  "Flags 🇯🇵🇰🇷🇺🇦🇬🇷🇮🇱🇹🇭🇮🇳🇨🇳 Collective", "Zero\u200bWidth\u200bSpaces\u200bEverywhere"])
def test_a_long_artist_name_in_a_mood_label_is_never_cut_inside_a_character(name):
    # `moods cluster --export` names playlists "recommend: <label>" with artist names cut to 24
    # code points: an NFD "ö" lost its umlaut, a ZWJ family was cut after a joiner, a flag halved,
    # a "\u200b" escape cut to "\u20"
    from recommender.moodlabels import ARTIST_CHARS, _short
    from recommender.safetext import visible
    whole = visible(" ".join(name.split()))
    for limit in range(2, ARTIST_CHARS + 1):
        short = _short(name, limit)
        assert len(short) <= limit and short.endswith("…")
        kept = short[:-1]
        assert whole.startswith(kept)
        rest = whole[len(kept):].lstrip()
        assert not rest or unicodedata.category(rest[0]) not in ("Mn", "Mc", "Me")
        assert not kept.endswith("\u200d") and not rest.startswith("\u200d")
        assert sum(0x1F1E6 <= ord(c) <= 0x1F1FF for c in kept) % 2 == 0
        tail = kept[kept.rfind("\\"):] if "\\" in kept else ""
        assert not tail or len(tail) >= 6  # "\u200b" whole or not at all


def _rtl_clusters():
    from recommender.moods import cluster_playlists
    from test_moods import two_group_audio_library
    lib, party, ballads = two_group_audio_library()
    pl = pd.DataFrame({"playlist_id": ["a" * 22, "b" * 22], "name": ['שירים של להקת הנח"ל', "أغاني هادئة"]})
    items = pd.DataFrame({"playlist_id": ["a" * 22] * 10 + ["b" * 22] * 8, "track_id": party + ballads,
                          "position": range(18)})
    return cluster_playlists(lib.replace(playlists=pl, playlist_items=items), ["a" * 22, "b" * 22], k=2)


def test_a_chart_of_hebrew_and_arabic_playlists_keeps_its_own_words_in_order():
    # The title "שירים ... + أغاني هادئة: 2 moods (audio features)" took its first letter's direction:
    # matplotlib (3.11, which lays out right-to-left text) drew "2 moods (audio features)" at the left
    # end and the second playlist left of the first. A LEFT-TO-RIGHT MARK opens each such line and
    # closes each name, whose letters still read right to left; its quotes stay inside it.
    pytest.importorskip("matplotlib")
    from recommender import plotfonts
    from recommender.moods import cluster_figure
    from recommender.tables import LRM
    if not plotfonts.lays_out_bidi():
        pytest.skip("this matplotlib cannot lay out right-to-left text")
    fig = cluster_figure(_rtl_clusters())
    title = fig.axes[0].get_title()
    assert title == f'{LRM}שירים של להקת הנח"ל{LRM} + أغاني هادئة{LRM}: 2 moods (audio features)'
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f'{LRM}שירים של להקת הנח"ל{LRM}' in legend and f"{LRM}أغاني هادئة{LRM}" in legend
    from recommender.safetext import left_to_right  # a playlist is one name; a label's words are not
    assert (left_to_right("אהבה, חלק 2 + שיר: 2 moods", ["אהבה, חלק 2", "שיר"])
            == f"{LRM}אהבה, חלק 2{LRM} + שיר{LRM}: 2 moods")
    # a cluster's count comes before its label, which may end with an artist: after a right-to-left
    # name "(12)" joined its run (a neutral and a number after it) and was drawn on the name's left
    from recommender.moods import legend_label
    assert (left_to_right(legend_label(1, "calm, like עומר אדם, فيروز", 12))
            == f"{LRM}1 (12): calm, like עומר אדם{LRM}, فيروز{LRM}")
    assert not any(LRM in t for t in legend if not plotfonts.RTL.search(t))


def test_a_matplotlib_that_cannot_lay_out_right_to_left_text_says_so_once(monkeypatch, caplog, tmp_path):
    # matplotlib before 3.11 draws a Hebrew name's letters left to right (it reads backwards): one
    # warning says so and how to get it right; the marks, which it would draw as boxes, are not added.
    pytest.importorskip("matplotlib")
    from recommender import plotfonts
    from recommender.moods import plot_clusters
    monkeypatch.setattr(plotfonts, "lays_out_bidi", lambda: False)
    with caplog.at_level("WARNING"):
        plot_clusters(_rtl_clusters(), tmp_path / "m.png")
    [line] = [r.getMessage() for r in caplog.records if "right-to-left" in r.getMessage()]
    assert "3 right-to-left (Hebrew, Arabic) texts" in line and "matplotlib 3.11 or newer" in line


def test_two_right_to_left_names_in_one_title_keep_their_order_in_a_terminal():
    # "A + B: 2 moods" in a title: the LEFT-TO-RIGHT MARK came after the whole line only, so a bidi
    # terminal ran both names and the " + " between them into one right-to-left run (B + A). A
    # cell is one name: its comma, brackets and number are its own, one mark after it.
    from recommender.tables import LRM, fit_table
    from test_tables import render
    text = render(fit_table("שירים שקטים + أغاني هادئة: 2 moods", ["cluster", "name"],
                            [[0, "אהבה, חלק 2"], [1, "שיר (גרסה חדשה)"]], 80), 80)
    assert f"{LRM}שירים שקטים{LRM} + أغاني هادئة{LRM}: 2 moods" in text
    import re
    assert re.search(f"│ אהבה, חלק 2 *{LRM} │", text) and re.search(fr"│ שיר \(גרסה חדשה\) *{LRM} │", text)


def test_a_chart_wraps_long_chinese_or_japanese_names_by_their_width_not_their_count():
    # The title and legend were wrapped at 70 and 34 characters: a line of 40 Japanese characters
    # (each as wide as two letters) ran past the image's edge and squeezed the plot; a long word
    # of letters with separate accents (NFD) could be broken between a letter and its accent.
    pytest.importorskip("matplotlib")
    from recommender.moods import cluster_figure, cluster_playlists
    from test_moods import two_group_audio_library

    def cells(line: str) -> int:  # as wide as how many Latin letters
        return sum(0 if unicodedata.combining(c) else 1 + (unicodedata.east_asian_width(c) in "WF") for c in line)
    lib, party, ballads = two_group_audio_library()
    names = ["夜に駆ける" * 8, NFD("Björkövärldsmusikärenärdengåtfullaüberlängdsnamnåäöüé")]
    pl = pd.DataFrame({"playlist_id": ["a" * 22, "b" * 22], "name": names})
    items = pd.DataFrame({"playlist_id": ["a" * 22] * 10 + ["b" * 22] * 8, "track_id": party + ballads,
                          "position": range(18)})
    ax = cluster_figure(cluster_playlists(lib.replace(playlists=pl, playlist_items=items),
                                          ["a" * 22, "b" * 22], k=2)).axes[0]
    title = ax.get_title().splitlines()
    assert len(title) >= 3 and all(cells(line) <= 70 for line in title)
    legend = [line for t in ax.get_legend().get_texts() for line in t.get_text().splitlines()]
    assert all(cells(line) <= 34 for line in legend)
    assert not any(unicodedata.combining(line[0]) for line in title + legend)
    assert "".join(line for line in legend if "夜" in line) == names[0]  # broken, nothing lost


def test_a_chart_measures_an_emoji_family_as_wide_as_the_tables_do():
    # A name of emoji families joined by ZWJ ("👨‍👩‍👧", one picture two letters wide, as rich
    # measures it for the tables) was measured by the charts as its three people and two
    # joiners, 6 letters: a legend's name that fits on a line was wrapped onto three.
    from rich.cells import cell_len

    from recommender.moods import _wrap
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    if cell_len(family) != 2:
        pytest.skip("this rich measures each person of a ZWJ sequence (rich 15 measures the picture)")
    name = " ".join([family] * 11)
    assert cell_len(name) == 32 and _wrap(name, 34) == name
    assert _wrap(name, 12) == "\n".join([" ".join([family] * 4)] * 2 + [" ".join([family] * 3)])


def test_a_name_typed_in_another_encoding_than_the_locales_is_a_usage_error_not_a_crash(tmp_path):
    # "Reggaetón" typed on a Latin-1 terminal under a UTF-8 locale: Python keeps the byte
    # 0xf3 as a lone surrogate, which the cache could not hold: "unexpected error:
    # UnicodeEncodeError", exit 1; now one line naming the value, the byte as an escape, exit 2
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPOTIPY_", "RECOMMENDER_", "LC_"))}
    env.update(RECOMMENDER_CACHE_DIR=str(tmp_path), PYTHONPATH=str(root), LANG="C.UTF-8", LC_ALL="C.UTF-8")
    out = subprocess.run([sys.executable, "-m", "recommender", "build-playlist", "--demo", "--dry-run",
                          "--seed-playlist", b"Academia Reggaet\xf3n"], capture_output=True, env=env, cwd=root,
                         timeout=300)
    err = out.stderr.decode("utf-8")
    assert out.returncode == 2, err
    assert err.count("\n") == 1 and "'Academia Reggaet\\xf3n' is not UTF-8 text" in err


def test_a_utf8_name_typed_under_an_ascii_locale_is_read_as_utf8(tmp_path):
    """A UTF-8 terminal under an ASCII locale (LC_ALL=C with PYTHONUTF8=0): "café" was refused
    as "'caf\\xc3\\xa9' is not UTF-8 text", which it was; it is read as UTF-8 now."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPOTIPY_", "RECOMMENDER_", "LC_", "LANG"))}
    env.update(RECOMMENDER_CACHE_DIR=str(tmp_path), PYTHONPATH=str(root), LC_ALL="C", PYTHONUTF8="0",
               PYTHONCOERCECLOCALE="0")
    out = subprocess.run([sys.executable, "-m", "recommender", "search", "--dataset",
                          str(Path(__file__).parent / "fixtures" / "tidy_small.csv"), "--json", "caf\u00e9".encode()],
                         capture_output=True, env=env, cwd=root, timeout=300)
    assert out.returncode == 0, out.stderr.decode("utf-8", "replace")
    assert b"not UTF-8" not in out.stderr


def test_the_font_named_for_a_missing_glyph_is_one_for_its_kind():
    """A plot's missing emoji was told to install "Noto Sans CJK for Chinese, Japanese, Korean"."""
    from recommender.plotfonts import _font_hint
    assert "emoji" in _font_hint(["🍹"]) and "CJK" not in _font_hint(["🍹"])
    assert "CJK" in _font_hint(["夜"]) and "emoji" not in _font_hint(["夜"])
    assert "CJK" in _font_hint(["夜", "🍹"]) and "emoji" in _font_hint(["夜", "🍹"])
