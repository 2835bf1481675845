"""Failures that users of Spotify-data analysis tools (clustering notebooks, recommenders built
on pandas, scikit-learn and matplotlib) reported in 2024-2026, tried on `search`, `similar`,
the mood commands, `evaluate` and `tune` as a user runs them. Each test names the thread its
shape comes from and fails on the code before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]


def run_recommend(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """`recommend ARGS` in a process of its own: matplotlib reads MPLBACKEND when it is first
    imported, which in this test process happened long ago."""
    environ = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    environ.update({"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
                    "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
                    "MPLCONFIGDIR": str(tmp_path / "mpl"), "PYTHONPATH": str(ROOT), "COLUMNS": "120", **env})
    return subprocess.run([sys.executable, "-m", "recommender", *args], capture_output=True, text=True,
                          env=environ, timeout=300, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("command", ["moods cluster", "evaluate"])
def test_a_notebook_terminals_mplbackend_does_not_stop_a_plot_or_a_report(tmp_path, command):
    """A terminal of Jupyter, VS Code or Colab exports MPLBACKEND=module://matplotlib_inline.backend_inline,
    and outside the notebook `import matplotlib` refuses it: "ValueError: Key backend:
    'module://matplotlib_inline.backend_inline' is not a valid value for backend"
    (https://github.com/bmaltais/kohya_ss/issues/2521, https://github.com/deeptools/deepTools/issues/1416,
    https://github.com/oobabooga/textgen/issues/6815). `moods cluster --plot` and `evaluate --report`
    clustered or evaluated, then ended with "unexpected error" (exit 1, "please report it"). They
    draw into files only, so the variable is not theirs to read: the plot and the report are written."""
    out = tmp_path / ("moods.png" if command == "moods cluster" else "report.html")
    args = (["moods", "cluster", "Synth Nights", "--plot", str(out)] if command == "moods cluster"
            else ["evaluate", "--report", str(out)])
    result = run_recommend([*args, "--dataset", str(FIXTURES / "tidy_small.csv")], tmp_path,
                           MPLBACKEND="module://matplotlib_inline.backend_inline")
    assert result.returncode == 0, result.stderr
    assert "unexpected error" not in result.stderr and out.stat().st_size > 1000


EXPORTIFY_2025 = ("Track URI,Track Name,Artist Name(s),Album Name,Danceability,Energy,Key,Loudness,Mode,Speechiness,"
                  "Acousticness,Instrumentalness,Liveness,Valence,Tempo,Time Signature\n")


def export_folder(tmp_path: Path, rows: str, name: str = "Mix") -> Path:
    """A folder holding one Exportify file (``EXPORTIFY_2025``'s columns) of ``rows``."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / f"{name}.csv").write_text(EXPORTIFY_2025 + rows)
    return folder


def run_on(folder: Path, args: list[str], tmp_path: Path, columns: int = 200):
    """`recommend ARGS --dataset FOLDER` in this process (CliRunner), with a cache of its own."""
    from typer.testing import CliRunner

    from recommender.cli import app
    return CliRunner().invoke(app, [*args, "--dataset", str(folder)],
                              env={"RECOMMENDER_CACHE_DIR": str(tmp_path / "c"), "COLUMNS": str(columns)})


@pytest.mark.parametrize("args", [["moods", "recommend", "--mood", "happy"], ["moods", "classify"],
                                  ["moods", "near", "Song 3"]])
def test_an_exportify_file_without_audio_features_says_to_fill_the_file(tmp_path, args):
    """Exportify exports made since Spotify stopped giving apps audio features have the columns
    from Danceability to Time Signature empty (https://github.com/pavelkomarov/exportify/issues/85,
    2025). The mood commands with `--dataset` said "no audio features for the 6 cached tracks ...;
    import audio features with `recommend import features FILE.csv`": that import fills the cache,
    which a `--dataset` run never reads, so the user went round in a circle. Now the message names
    the file and says to fill its valence and energy columns (or to use the cache)."""
    rows = "".join(f"spotify:track:{i:022d},Song {i},Band {i % 2},Album,,,,,,,,,,,,\n" for i in range(6))
    folder = export_folder(tmp_path, rows)
    result = run_on(folder, args, tmp_path)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 2, said
    assert "fill in the file's valence and energy columns (0 to 1; an Exportify export made since Spotify " in said
    assert "cached tracks" not in said and (f"the 6 tracks of {folder}" in said or "Song 3" in said)


@pytest.mark.parametrize("args", [["moods", "recommend", "--mood", "happy"], ["moods", "classify"]])
def test_a_data_file_of_one_track_without_audio_features_says_the_1_track(tmp_path, args):
    """The message counted a file of one track as "the 1 tracks of FILE"."""
    folder = export_folder(tmp_path, "spotify:track:" + "0" * 22 + ",Song,Band,Album,,,,,,,,,,,,\n")
    said = " ".join(run_on(folder, args, tmp_path).stderr.split())
    assert f"no audio features for the 1 track of {folder}, so" in said, said


def test_an_infinite_feature_value_in_a_data_file_is_no_value_not_a_crash(tmp_path):
    """scikit-learn refuses infinity: "ValueError: Input X contains infinity or a value too large
    for dtype('float64')" (https://github.com/YeoLab/bento-tools/issues/147, 2024). A data file
    with `inf` in a Tempo or Loudness cell (a spreadsheet's division by zero, saved as text)
    made `moods cluster --dataset` end with "unexpected error" (exit 1). `recommend import
    features` refuses such a value; read from a file, it is now unknown, like a blank cell."""
    rows = "".join(f"spotify:track:{i:022d},Song {i},Band {i % 3},Album,0.{i + 1},0.{9 - i},5,"
                   f"{'-inf' if i == 1 else -6},1,0.05,0.1,0,0.1,0.{(i * 3) % 10},{'inf' if i == 0 else 120 + i},4\n"
                   for i in range(8))
    result = run_on(export_folder(tmp_path, rows), ["moods", "cluster", "Mix", "--json"], tmp_path)
    assert result.exit_code == 0, result.stderr
    assert '"basis": "audio"' in result.stdout


def test_a_playlist_whose_tracks_sound_alike_is_said_to_be_one_mood(tmp_path):
    """k-means on rows that are all the same finds one cluster whatever k asks for ("Number of
    distinct clusters (1) found smaller than n_clusters",
    https://github.com/eberharf/cfl/issues/18, asked again in 2024; https://github.com/sdv-dev/SDGym/issues/192).
    `moods cluster` on such a playlist (features imported from a tool that gives one value for
    every track) titled it "1 moods from audio features, silhouette -", leaving the user to
    guess why the clustering found nothing. Now: "1 mood ..., the tracks' audio features are
    too alike to split into moods"."""
    rows = "".join(f"spotify:track:{i:022d},Song {i},Band {i % 3},Album,0.5,0.5,5,-6,1,0.05,0.1,0,0.1,0.5,120,4\n"
                   for i in range(8))
    result = run_on(export_folder(tmp_path, rows), ["moods", "cluster", "Mix"], tmp_path)
    assert result.exit_code == 0, result.stderr
    title = " ".join(result.stdout.split())
    assert "Mix: 1 mood from audio features, silhouette - (the tracks' audio features are too alike to split " \
           "into moods)" in title


def test_more_moods_than_tracks_says_how_many_it_can_give(tmp_path):
    """k-means needs as many rows as clusters ("n_samples=4 should be >= n_clusters=9",
    https://github.com/NVIDIA/cuml/pull/7189, 2025: "error nicely"). `moods cluster --k 9` on a
    playlist of 4 tracks said "k must be between 1 and 4", and `--k 1` is then refused (at least
    2): now the line says what there is and the largest --k that works."""
    rows = "".join(f"spotify:track:{i:022d},Song {i},Band {i},Album,0.{i + 1},0.{8 - i},5,-6,1,0.05,0.1,0,0.1,"
                   f"0.{i + 2},120,4\n" for i in range(4))
    result = run_on(export_folder(tmp_path, rows), ["moods", "cluster", "Mix", "--k", "9"], tmp_path)
    assert result.exit_code == 2
    assert " ".join(result.stderr.split()) == ("error: --k 9 asks for more moods than playlist 'Mix' has tracks with "
                                               "audio features (4): give --k 4 or fewer")


def test_a_font_the_matplotlibrc_names_and_the_machine_lacks_is_said_once(tmp_path):
    """A matplotlibrc copied from another machine ("font.family: Liberation Sans", Arial,
    Helvetica) where that font is not installed: matplotlib logs "findfont: Font family ... not
    found" for every text it draws, and "logs are swamped by the message"
    (https://github.com/MeteoSwiss-APN/pyflexplot/issues/66, 2025; https://github.com/tanghaibao/jcvi/issues/594).
    `evaluate --report` printed it hundreds of times on the terminal (and into recommend.log,
    and a cron mail); now each such line comes once, and the report is written."""
    rc = tmp_path / "mplrc"
    rc.mkdir()
    (rc / "matplotlibrc").write_text("font.family: No Such Font Sans\n")
    out = tmp_path / "report.html"
    result = run_recommend(["evaluate", "--report", str(out), "--dataset", str(FIXTURES / "tidy_small.csv")],
                           tmp_path, MPLCONFIGDIR=str(rc))
    assert result.returncode == 0, result.stderr
    findfont = [line for line in result.stderr.splitlines() if "findfont" in line]
    assert 1 <= len(findfont) <= 2 and len(set(findfont)) == len(findfont), findfont[:5]
    assert out.stat().st_size > 1000


def test_a_classifier_that_cannot_be_tested_on_a_file_says_what_the_file_lacks(tmp_path):
    """An Exportify export with features for some tracks only (rows exported before and after
    Spotify withdrew them, https://github.com/pavelkomarov/exportify/issues/85), all of one mood:
    `moods classify --dataset` said the classifier "needs at least 8 tracks with audio features in
    2 moods, got 10" (10 is at least 8: the one mood went unsaid) and to run `recommend import
    features`, which fills the cache and not the file."""
    value = ["0.9" if i < 10 else "" for i in range(15)]  # energy and valence: happy, or not given
    rows = "".join(f"spotify:track:{i:022d},Song {i},Band,Album,,{value[i]},,,,,,,,{value[i]},,\n" for i in range(15))
    result = run_on(export_folder(tmp_path, rows), ["moods", "classify"], tmp_path, columns=300)
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stdout.split())
    assert "needs at least 8 recordings with audio features in 2 moods (copies of one recording count once), " \
           "got 10 in 1 mood (every one of them happy); fill in the file's " \
           "valence and energy columns" in said


def test_a_library_of_one_song_says_there_is_nothing_to_compare(tmp_path):
    """The tiny-input shape of https://github.com/NVIDIA/cuml/pull/7189 (fewer rows than the
    analysis needs, 2025), tried on `similar` and `moods near`: a file of one track printed a
    title over an empty table, as if the scorers had found nothing alike. Now one line says that
    there is no other song to compare it with (exit 0; `--json` stays `[]`)."""
    folder = export_folder(tmp_path, f"spotify:track:{1:022d},Only Song,Band,Album,0.5,0.6,5,-6,1,0.05,0.1,0,0.1,"
                                     "0.7,120,4\n", name="One")
    similar = run_on(folder, ["similar", "Only Song"], tmp_path)
    near = run_on(folder, ["moods", "near", "Only Song"], tmp_path)
    assert similar.exit_code == near.exit_code == 0, similar.stderr + near.stderr
    assert similar.stdout.strip() == f"Similar to Only Song - Band: no other song in {folder} to compare it with"
    assert near.stdout.strip().endswith(f"): no other song in {folder} has a valence and an energy")
    assert "┃" not in similar.stdout + near.stdout  # no empty table


def test_a_library_of_one_song_named_with_a_line_break_says_so_on_one_line(tmp_path):
    """The line saying a library of one song has nothing to compare it with printed a line break
    of the song's or artist's name as it is, so a name could start a line of its own ("error: ...");
    it is shown as \\x0a, as the tables show it."""
    folder = export_folder(tmp_path, f'spotify:track:{1:022d},"Only\nerror: fake",Band,Album,0.5,0.6,5,-6,1,0.05,0.1,0,0.1,'
                                     "0.7,120,4\n", name="One")
    for args in (["similar", f"spotify:track:{1:022d}"], ["moods", "near", f"spotify:track:{1:022d}"]):
        result = run_on(folder, args, tmp_path)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.startswith("Similar to Only\\x0aerror: fake - Band" if args[0] == "similar"
                                        else "Nearest in mood to Only\\x0aerror: fake - Band"), result.stdout
        assert len(result.stdout.strip().splitlines()) == 1, result.stdout
