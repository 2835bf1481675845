"""Tables fit the terminal (recommender/tables.py): at 60 and 40 columns no line is wider than
the terminal, the essential columns (track, artist, the why or score, ids whole) stay, the
columns left out are named, and names from strangers stay escaped."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.cells import cell_len
from rich.console import Console

from recommender.tables import MIN_WIDTH, fit_table

from test_cli import env_for, run
from test_explore_cli import data  # noqa: F401  (the playlist data file fixture)
from test_explore_cli import run as run_dataset
from test_safetext import HOSTILE, RAW, hostile  # noqa: F401  (the hostile account fixture)
from spotify_helpers import save_login
from deprecation_marks import DEPRECATIONS_OF_OURS

pytestmark = DEPRECATIONS_OF_OURS

WHY = "in 'A Very Long Playlist Name Indeed' with your seeds, and shares artist 'Somebody Famous'"
ID = "4u7EnebtmKWzUH433cf5Qv"
COLUMNS = ["#", "track_id", "track", "artist", "score", "new", "source", "why"]
ROWS = [[1, ID, "Bohemian Rhapsody - Remastered 2011", "Queen", "0.912", "new", "similar artists", WHY],
        [2, "0vlZXy3h1sJgrLiMyzhQ1U", "Mi Gente - Hardwell & Quintino Remix", "J Balvin", "0.499", "", "albums",
         "from a new album by J Balvin, one of your artists"]]


def render(renderable, width: int) -> str:
    console = Console(width=width, record=True, highlight=False, markup=False, emoji=False, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def squash(text: str) -> str:
    return "".join(text.split())


def field(text: str, column: str) -> str:
    """Everything printed under ``column``, as a table column or in the one-block-per-row
    layout, wrapped lines joined (whitespace dropped: a fold may split a word)."""
    lines = text.splitlines()
    header = next((line for line in lines if line.startswith("┃")), None)
    if header is not None:
        names = [c.strip() for c in header.split("┃")[1:-1]]
        if column not in names:
            return ""
        i = names.index(column) + 1
        return squash(" ".join(line.split("│")[i] for line in lines if line.startswith("│")))
    out, inside, offset = [], False, 0
    for line in lines:
        if line.startswith(column + " "):
            offset = len(column) + len(line[len(column):]) - len(line[len(column):].lstrip())
            out.append(line[offset:])
            inside = True
        elif inside and line.startswith(" " * offset) and line[offset:offset + 1].strip():
            out.append(line[offset:])
        else:
            inside = False
    return squash(" ".join(out))


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


@pytest.mark.parametrize("width", [120, 80, 60, 40])
def test_a_table_fits_the_width_and_keeps_the_essential_columns(width):
    text = render(fit_table("t", COLUMNS, ROWS, width, wide="why", drop=("source", "new", "#")), width)
    assert widest(text) <= width and "…" not in text
    for r in ROWS:
        assert any(r[1] in line for line in text.splitlines())  # ids whole, on one line
        for column, value in (("track", r[2]), ("artist", r[3]), ("score", r[4]), ("why", r[7])):
            assert squash(value) in field(text, column), (width, column)


def test_columns_are_left_out_in_the_given_order_and_named():
    wide = render(fit_table("t", COLUMNS, ROWS, 160, wide="why", drop=("source", "new", "#")), 160)
    assert "left out" not in wide and field(wide, "source") and field(wide, "new")
    at96 = render(fit_table("t", COLUMNS, ROWS, 96, wide="why", drop=("source", "new", "#")), 96)
    assert "left out at 96 columns: source " in at96 and "┃ new" in at96
    at40 = render(fit_table("t", COLUMNS, ROWS, 40, wide="why", drop=("source", "new", "#")), 40)
    assert "┃" not in at40 and "left out at 40 columns: #, new, source" in " ".join(at40.split())


def test_a_name_that_reads_as_a_number_is_still_a_name():
    # one track named "1999" (or "Infinity") was taken for a number column: right-aligned and
    # never wrapped, as a score is
    rows = [[1, "1999", "Prince", "0.5"]]
    columns = ["#", "track", "artist", "score"]
    as_number = render(fit_table("t", columns, rows, 80), 80)
    as_name = render(fit_table("t", columns, rows, 80, text=("track", "artist")), 80)

    def cell(text: str, value: str = "1999") -> str:
        return next(line for line in text.splitlines() if value in line).split("│")[2]
    assert cell(as_number).startswith("  ")  # the old way: right-aligned like a number
    assert cell(as_name).startswith(" 1999")  # a name: left-aligned
    infinity = render(fit_table("t", ["#", "track", "artist", "score"], [[1, "Infinity", "X", "0.5"]], 80,
                                text=("track",)), 80)
    assert cell(infinity, "Infinity") == " Infinity "


def test_narrower_than_the_minimum_still_keeps_ids_whole():
    text = render(fit_table("t", COLUMNS, ROWS, 20, wide="why", drop=("source", "new", "#")), MIN_WIDTH)
    assert widest(text) <= MIN_WIDTH and any(ID in line for line in text.splitlines())


@pytest.mark.parametrize("width", [80, 40])
def test_hostile_cells_and_titles_print_literally_in_both_layouts(width):
    rows = [[1, ID, f"Song {HOSTILE}", f"Band [red]{HOSTILE}", "0.5", "", "albums", f"why {HOSTILE}"]]
    text = render(fit_table(f"title {HOSTILE}", COLUMNS, rows, width, wide="why", drop=("source", "new", "#")), width)
    assert not RAW.search(text) and widest(text) <= width
    assert squash("[/] [link=https://evil.invalid]x[/link]") in field(text, "track")
    assert squash("Band [red][/]") in field(text, "artist") and "\\x1b[2J" in field(text, "why")


@pytest.fixture
def logged_in(standin, tmp_path):
    cache = tmp_path / "cache"
    save_login(standin, cache)
    return standin, env_for(standin, cache)


@pytest.mark.parametrize("width", [60, 40])
def test_build_playlist_at_narrow_terminals(logged_in, width):
    server, env = logged_in
    out = json.loads(run(["build-playlist", "--dry-run", "--json"], env).stdout)
    result = run(["build-playlist", "--dry-run"], {**env, "COLUMNS": str(width)})
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert widest(text) <= width and "…" not in text
    assert out["tracks"]
    for t in out["tracks"]:
        assert squash(t["name"]) in field(text, "track")
        assert squash(", ".join(t["artists"]) if isinstance(t["artists"], list) else t["artists"]) in field(text, "artist")
        # the table rounds the score to 3 places, --json to 4: 0.06152 is "0.062" there, 0.0615 here
        assert squash(t["why"]) in field(text, "why") and any(
            f"{t['score'] + d:.3f}" in field(text, "score") for d in (-0.00005, 0, 0.00005))
    assert f"left out at {width} columns:" in text
    # piped, no line ends in spaces: rich padded a centred title to the table's width
    assert not [line for line in text.splitlines() if line != line.rstrip()]


@pytest.mark.parametrize("width", [80, 60, 40])
def test_search_similar_and_playlists_at_narrow_terminals(logged_in, width):
    server, env = logged_in
    assert run(["refresh", "--quiet"], env).exit_code == 0
    name = next(iter(server.account.tracks.values()))["name"]
    narrow = {**env, "COLUMNS": str(width)}
    for args, key, columns in ((["search", name], "track_id", ("name", "artists")),
                               (["similar", name], "track_id", ("name", "artists", "why")),
                               (["playlists"], "id", ("name",))):
        rows = json.loads(run([*args, "--json"], env).stdout)
        result = run(args, narrow)
        assert result.exit_code == 0 and rows, (args, result.stderr)
        assert widest(result.stdout) <= width, args
        lines = result.stdout.splitlines()
        for r in rows:
            assert any(r[key] in line for line in lines), args  # ids whole, on one line
            for c in columns:
                assert squash(str(r[c])) in field(result.stdout, c), (args, c)


@pytest.mark.parametrize("width", [60, 40])
def test_mood_tables_at_narrow_terminals(data, tmp_path, monkeypatch, width):  # noqa: F811
    monkeypatch.setenv("COLUMNS", str(width))
    for args in (["moods", "near", "gary jules mad world"], ["moods", "recommend", "--mood", "happy"],
                 ["moods", "classify", "--evaluate"], ["moods", "cluster", "Party", "Gloom", "--k", "2"]):
        result = run_dataset([*args, "--dataset", str(data)], tmp_path)
        assert result.exit_code == 0, (args, result.stderr)
        assert widest(result.stdout) <= width, args
        assert "name" in result.stdout and "artists" in result.stdout
        assert "\x1b" not in result.stdout


def test_hostile_names_at_40_columns_print_literally(hostile):  # noqa: F811
    server, env, cache = hostile
    result = run(["build-playlist", "--dry-run"], {**env, "COLUMNS": "40"})
    assert result.exit_code == 0, result.stderr
    assert not RAW.search(result.stdout) and widest(result.stdout) <= 40
    assert squash("[/] [link=https://evil.invalid]x[/link]") in field(result.stdout, "track")


def test_the_demo_run_at_40_columns_keeps_its_link_whole_and_every_other_line_narrow():
    # the link line carried the demo's remark with it, 137 characters wide at 40 columns, and the
    # stand-in's track list wrapped under its numbers
    result = run(["build-playlist", "--demo"], {"COLUMNS": "40"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    link = [line for line in lines if line.startswith("Open it: ")]
    assert len(link) == 1 and re.fullmatch(r"Open it: https://open\.spotify\.com/playlist/\w+", link[0])
    assert widest("\n".join(line for line in lines if line not in link)) <= 40
    said = next(i for i, x in enumerate(lines) if x.startswith("The stand-in's copy"))
    start = next(i for i, x in enumerate(lines) if i > said and re.match(r" *1\. ", x))
    listing = [x for x in lines[start:] if x.strip()]
    assert sum(1 for x in listing if re.match(r" *\d+\. ", x)) == 10
    for x in listing:  # a wrapped name continues under the text, not under the number
        assert re.match(r" *\d+\. ", x) or x.startswith(" " * 5), x
    # a dry run after it writes nothing, so it has no link and no copy of the playlist to list
    dry = run(["build-playlist", "--demo", "--dry-run"], {"COLUMNS": "40"})
    assert dry.exit_code == 0 and "(dry run: nothing written)" in " ".join(dry.stdout.split()), dry.stdout
    assert "The stand-in's copy" not in dry.stdout and "Open it: " not in dry.stdout


def test_the_demo_summary_at_40_columns_keeps_each_number_with_what_it_counts():
    # "...kept 0; 365 Spotify" / "requests, 4.0 s." and "now holds 50" / "tracks": a line broke
    # between a number and its word
    result = run(["build-playlist", "--demo"], {"COLUMNS": "40"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    start = next(i for i, x in enumerate(lines) if re.match(r"\d+ of \d+ tracks are new", x))
    summary = lines[start:next(i for i, x in enumerate(lines) if x.startswith("Open it: "))]
    summary += [x for x in lines if "holds" in x or x.startswith("tracks, first")]
    assert widest("\n".join(summary)) <= 40
    for unit in (r"\d+ of \d+ tracks", r"added \d+,", r"removed \d+,", r"kept \d+;", r"\d+ Spotify requests?,",
                 r"\d+\.\d s\.", r"\d+ tracks, first"):
        assert any(re.search(unit, x) for x in summary), (unit, summary)
    assert "\u00a0" not in result.stdout  # the joins print as plain spaces


def test_wrap_joined_breaks_only_between_units():
    from recommender.tables import joined, wrap_joined
    line = f"Managed playlist x: {joined('added', 50)}, {joined(365, 'Spotify', 'requests')}, {joined('4.0', 's.')}"
    assert wrap_joined(line, 30).split("\n") == ["Managed playlist x: added 50,", "365 Spotify requests, 4.0 s."]
    assert wrap_joined(joined("a" * 50, 7), 40) == "a" * 50 + " 7"  # a unit wider than the line stays whole


def test_hanging_wraps_at_spaces_under_the_value_and_never_splits_a_word():
    from recommender.tables import hanging
    line = "cache:    /a/very/long/path/that/does/not/fit/anywhere (fetched 2026-11-30, 1 h ago)"
    out = hanging(line, 30, 10).splitlines()
    assert out[0] == "cache:    /a/very/long/path/that/does/not/fit/anywhere"  # the path whole, by its label
    assert out[1:] == ["          (fetched 2026-11-30,", "          1 h ago)"]
    # a later word longer than the room left: on a line of its own (README, "Output")
    later = hanging("data:     none (see /a/very/long/path/that/does/not/fit/anywhere)", 30, 10).splitlines()
    assert later == ["data:     none (see", "          /a/very/long/path/that/does/not/fit/anywhere)"]
    assert hanging("short: fits", 30, 10) == "short: fits"
    assert hanging("", 30, 10) == "" and hanging("   ", 30, 10) == "   "  # were AttributeError (no match)
    wide = hanging("playlist: 'ドラマ ドラマ ドラマ ドラマ ドラマ'", 24, 10).splitlines()  # CJK: 2 cells each
    assert all(cell_len(x) <= 24 for x in wide) and len(wide) == 3
    assert hanging("playlist: 'x\x1b[2Jy'", 80, 10) == "playlist: 'x\\x1b[2Jy'"


def test_status_and_config_path_fit_40_columns_with_paths_and_links_whole(logged_in):
    # `recommend status` printed its cache path, the playlist's link and each run as one line,
    # 90 to 130 characters wide at 40 columns
    server, env = logged_in
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    for args in (["status", "--offline"], ["config", "path"]):
        wide = run(args, {**env, "COLUMNS": "200"}).stdout
        narrow = run(args, {**env, "COLUMNS": "40"})
        assert narrow.exit_code == 0, narrow.stderr
        for line in narrow.stdout.splitlines():  # only a lone word (a path, a link) may be wider
            assert cell_len(line) <= 40 or len(line.split()) <= 2, (args, line)
        assert squash(narrow.stdout) == squash(wide)  # nothing lost, only wrapped
        words = {w for w in wide.split() if "/" in w}  # paths and links: whole on one line
        assert words and (args[0] != "status" or any(w.startswith("https://open.spotify.com/") for w in words))
        assert all(any(w in line.split() for line in narrow.stdout.splitlines()) for w in words)


def test_a_narrow_tables_title_wraps_at_the_terminal_not_at_the_table():
    """The title was rich's own, wrapped to the table's width: a five-column confusion matrix
    on a 100-column terminal printed "Confusion matrix (rows: true mood from audio" and the rest
    on a second line, and a long moods heading ran down a third of the screen."""
    title = "Confusion matrix (rows: true mood from audio features; columns: predicted)"
    rows = [["happy", 63, 58], ["sad", 15, 13]]
    text = render(fit_table(title, ["true", "happy", "sad"], rows, 100), 100)
    assert text.splitlines()[0].strip() == title
    narrow = render(fit_table(title, ["true", "happy", "sad"], rows, 40), 40)
    assert max(cell_len(line) for line in narrow.splitlines()) <= 40 and squash(title) in squash(narrow)


BROKEN_ESCAPE = re.compile(r"\\(?![xuU])|\\x(?![0-9a-f]{2})|\\u(?![0-9a-f]{4})|\\U(?![0-9a-f]{8})")


@pytest.mark.parametrize("name", ["Crossfit\u200f\u200f\u200b\u200b   \u200d",  # the sample library's
                                  "Evil\x1b[2J\x07\x00list", "Road Trip \U000e0067\U000e0062", "日本" * 12])
def test_a_narrow_table_never_wraps_inside_an_escape(name):
    # `COLUMNS=60 recommend playlists --demo` printed "Crossfit\u200f\u200f\" on one line and
    # "u200b\u200b   \u200d" on the next: the wrap split an escape, which then read as nothing
    from recommender.safetext import visible
    shown = visible(name)
    for width in range(MIN_WIDTH, 80):  # the table, then (below 40 or so) a block per row
        for encoding in (None, "ascii"):  # a terminal that is not UTF-8 gets escapes of its own
            text = render(fit_table("playlists", ["name", "id", "owner"], [[shown, ID, "demo-user"], ["Other", ID, "x"]],
                                    width, wide="name", text=("name", "owner"), encoding=encoding), width)
            assert not BROKEN_ESCAPE.search(text), (width, encoding, text)
            assert widest(text) <= width, (width, text)
            if encoding is None:
                assert field(text, "name") == squash(shown) + "Other", (width, text)  # nothing lost
    from recommender.safetext import wrap_cells
    for width in range(10, 40):  # a mood chart's title and legend wrap the same way
        lines = wrap_cells(shown, width, cell_len)
        assert not any(BROKEN_ESCAPE.search(line) for line in lines) and squash("".join(lines)) == squash(shown), lines


@pytest.mark.parametrize("name", ["Crossfit\u200f\u200f\u200b\u200b\u200b\u200b\u200b\u200b", "日本のヒット曲ベスト",
                                  "Evil\x1b[2J\x07\x00\x1b[2J\x07\x00list"])
def test_a_narrow_tables_title_never_wraps_inside_an_escape(name):
    # `moods cluster` titles its table with the playlists' names ("A + B: 2 moods ..."), `similar`
    # with the track's: on a terminal that is not UTF-8 a Japanese name of 8 characters is 48 of
    # escapes, one word, which rich broke as "\u65e5\u672c\u306e\u30d2\u" and "30c3..."
    from recommender.safetext import visible
    shown = visible(name)
    title = f"{shown} + Other: 2 moods from audio features, silhouette 0.24"
    for width in range(MIN_WIDTH, 80):
        for encoding in (None, "ascii"):
            text = render(fit_table(title, ["cluster", "size", "label"], [[0, 79, "energetic/intense"]], width,
                                    encoding=encoding), width)
            assert not BROKEN_ESCAPE.search(text), (width, encoding, text)
            assert widest(text) <= width, (width, text)
            if encoding is None:
                assert squash(title) in squash(text), (width, text)  # nothing lost


def test_a_narrow_table_never_wraps_inside_a_flag():
    # a flag is two regional letters ("🇯🇵" is J and P): a run of flags wider than its column was
    # broken between the two letters of one at an odd width, so both lines showed a lone letter
    # and every flag after it was misread ("🇦" + "🇺🇳🇱..." read as UN, LS...)
    from recommender.safetext import wrap_cells
    flags = "🇯🇵🇺🇸🇫🇷🇩🇪🇬🇧🇮🇹🇪🇸🇨🇦🇧🇷🇦🇺🇳🇱🇸🇪"
    name = f"Flags {flags} Collective"
    regional = re.compile("[\U0001f1e6-\U0001f1ff]+")
    for width in range(MIN_WIDTH, 110):
        text = render(fit_table("playlists", ["name", "id", "owner"], [[name, ID, "demo-user"]], width, wide="name",
                                text=("name", "owner")), width)
        assert all(len(run) % 2 == 0 for run in regional.findall(text)), (width, text)
        assert widest(text) <= width and field(text, "name") == squash(name), (width, text)
    for width in range(3, 30):  # a mood chart's title and legend
        lines = wrap_cells(name, width, cell_len)
        assert all(len(run) % 2 == 0 for line in lines for run in regional.findall(line)) and squash("".join(lines)) == squash(name)


def test_the_left_out_caption_wraps_at_the_terminal_not_at_a_table_narrower_than_its_share():
    # a wrapped column is as wide as its share of the terminal, though its lines (made by the
    # table, to keep escapes whole) are shorter: the table shrank to them, and its "left out"
    # caption with it, so `COLUMNS=87 recommend moods cluster ...` printed "left out at 87
    # columns: playlist, valence, energy (a wider terminal or --json" and "has them" on two lines
    columns = ["#", "track_id", "track", "artist", "source", "why"]
    rows = [[i, ID, "Bohemian Rhapsody - Remastered 2011", "The Cranberries", "similar artists",
             "from a new album by Tujamo, one of your seeds' artists"] for i in range(3)]
    tables = 0
    for width in range(60, 130):
        text = render(fit_table("t", columns, rows, width, wide="why", drop=("source", "#"), text=("track", "artist")),
                      width)
        lines = text.splitlines()
        if "┃" not in text or "left out" not in text:
            continue
        tables += 1
        from recommender.tables import BORDER, fit_columns
        kept, widths, _ = fit_columns(columns, [[str(v) for v in r] for r in rows], width, "why", ("source", "#"),
                                      ("track", "artist"))
        assert cell_len(lines[1]) == BORDER * len(kept) + 1 + sum(widths.values()), (width, text)  # its share, all of it
        caption = [line.rstrip() for line in lines if line.startswith("left out")]
        full = f"left out at {width} columns: " + ("#, source" if "┃ #" not in text else "source")
        assert caption and caption[0].startswith(full), (width, text)
        if cell_len(full + " (a wider terminal or --json has them)") <= width:  # so it is on one line
            assert caption[0].endswith("(a wider terminal or --json has them)"), (width, text)
    assert tables > 10


def test_a_dumb_terminal_wider_than_80_columns_gets_tables_of_its_width(monkeypatch):
    """TERM=dumb on a terminal of 160 columns (Emacs' shell): the tables, laid out for 160, were
    drawn by rich in 80, their text columns squeezed to nothing and nothing said. Rich takes a
    width given without a height as 80 columns there; both are given now."""
    import rich.console

    from recommender.cli.output import _console
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.delenv("LINES", raising=False)  # (a shell seldom exports it; rich would take it for the height)
    monkeypatch.setattr(rich.console.Console, "is_terminal", property(lambda self: True))
    assert _console().size.width == 160
