"""Defects found by configuring the tool by hand (a user's edits of config/example.yaml):
each test failed on the code before its fix."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender import config as config_module
from recommender.cli import app
from recommender.config import load_settings
from recommender.configfile import DELETE, set_values
from recommender.errors import ConfigError
from recommender.tune import write_weights

runner = CliRunner()


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def refused(path: Path, environ: dict | None = None) -> str:
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ=environ or {})
    message = str(err.value)
    assert "\n" not in message
    return message


# ----- secrets are never printed, also not in an error about their own key ----------------
@pytest.mark.parametrize("text, key", [
    ("listenbrainz:\n  token: 12345678\n", "listenbrainz.token"),          # an all-digit token
    ("listenbrainz:\n  token: [12345678]\n", "listenbrainz.token"),
    ("spotify:\n  client_secret: 12345678\n", "spotify.client_secret"),
    ("spotify:\n  client_secret 12345678\n", "spotify"),                    # the colon forgotten
    ("spotify: 12345678\n", "spotify"),
])
def test_an_error_about_a_secret_does_not_print_it(tmp_path, text, key):
    message = refused(write(tmp_path, text))
    assert key in message and "12345678" not in message


def test_the_diff_of_tune_write_shows_no_secret(tmp_path):
    """`recommend tune --write` (and the web app's Save) print the diff, whose context lines
    held the client secret or the ListenBrainz token when they sat near a changed key."""
    f = write(tmp_path, "listenbrainz:\n  token: lb-token-0000\nscorers:\n  content:\n    weight: 1.0\n"
                        "spotify: {client_secret: \"cs-secret-1111\"}\ncandidates:\n  new_share: 0.5\n")
    diff = write_weights(f, {"content": 0.5}, new_share=0.3)
    assert "weight: 0.5" in diff and "new_share: 0.3" in diff
    assert "lb-token-0000" not in diff and "cs-secret-1111" not in diff
    assert "token: ***" in diff
    text = f.read_text()  # the file itself keeps them
    assert "lb-token-0000" in text and "cs-secret-1111" in text


def test_the_diff_of_a_config_write_shows_no_password_of_a_service_address(tmp_path):
    """The same diff (`tune --write`, the web app's Save, which shows it unredacted on its page)
    held the password of a service address (`spotify.api_url: http://user:pw@host/v1`) that sat
    near a changed key; it shows it ***, the file keeps it."""
    f = write(tmp_path, "scorers:\n  content:\n    weight: 1.0\nspotify:\n  api_url: http://me:pa55word@127.0.0.1:9/v1/\n")
    diff = write_weights(f, {"content": 0.5})
    assert "weight: 0.5" in diff and "api_url: http://me:***@127.0.0.1:9/v1/" in diff and "pa55word" not in diff
    assert "pa55word" in f.read_text()


def test_editing_a_windows_file_keeps_its_line_endings_and_bom(tmp_path):
    f = tmp_path / "config.yaml"
    f.write_bytes(b"\xef\xbb\xbfblend:\r\n  max_tracks: 40\r\nscorers:\r\n  content:\r\n    weight: 1.0\r\n")
    diff = set_values(f, {"scorers.content.weight": 0.5})
    assert f.read_bytes() == b"\xef\xbb\xbfblend:\r\n  max_tracks: 40\r\nscorers:\r\n  content:\r\n    weight: 0.5\r\n"
    assert [line for line in diff.splitlines() if line.startswith(("-", "+")) and line[:3] not in {"---", "+++"}] \
        == ["-    weight: 1.0", "+    weight: 0.5"]  # not every line, not an invisible BOM change
    assert load_settings(f, environ={}).scorers.content.weight == 0.5


def test_a_file_with_both_kinds_of_line_endings_keeps_each_line_s(tmp_path):
    """A file edited on two systems has Windows and Unix line endings; a write turned every
    line into Windows ones (version control then shows the whole file changed)."""
    f = tmp_path / "config.yaml"
    text = b"scorers:\r\n  content:\n    weight: 1.0\n  year:\r\n    weight: 0.1\r\n# end\r\n"
    f.write_bytes(text)
    set_values(f, {"scorers.content.weight": 0.5, "scorers.coverage.weight": 0.3})
    assert f.read_bytes() == (b"scorers:\r\n  content:\n    weight: 0.5\n  year:\r\n    weight: 0.1\r\n"
                              b"  coverage:\r\n    weight: 0.3\r\n# end\r\n")  # new lines as most of the file's
    set_values(f, {"scorers.content.weight": 1.0, "scorers.coverage.weight": DELETE})
    assert f.read_bytes() == text
    # a changed line with new ones right after it: the change keeps its ending, the new ones are the file's
    set_values(f, {"scorers.year.weight": 0.2, "scorers.coverage.weight": 0.3})
    assert f.read_bytes() == (b"scorers:\r\n  content:\n    weight: 1.0\n  year:\r\n    weight: 0.2\r\n"
                              b"  coverage:\r\n    weight: 0.3\r\n# end\r\n")


def test_the_log_redacts_the_listenbrainz_token(tmp_path):
    from recommender.cli.base import _logging
    from recommender.runlog import teardown_logging
    settings = load_settings(environ={"RECOMMENDER_CACHE_DIR": str(tmp_path), "LISTENBRAINZ_TOKEN": "lbtok-98765"})
    try:
        _logging(settings, quiet=True, verbose=False)
        logging.getLogger("recommender.test").warning("asked with lbtok-98765")
    finally:
        teardown_logging()
    log = (tmp_path / "recommend.log").read_text()
    assert "asked with ***" in log and "lbtok-98765" not in log


# ----- values that crashed a command (exit 1) ---------------------------------------------
def test_a_negative_evaluate_seed_is_a_config_error(tmp_path):
    """numpy takes no negative seed: `recommend evaluate` ended in 'unexpected error:
    ValueError: expected non-negative integer' (exit 1)."""
    assert "evaluate.seed must be at least 0, got -1" in refused(write(tmp_path, "evaluate:\n  seed: -1\n"))


@pytest.mark.parametrize("value", ['""', '"/"', '"logs/"', '".."', '"  "'])
def test_a_log_file_that_names_no_file_is_a_config_error(tmp_path, value):
    """'' crashed every command with IsADirectoryError, '/' with ValueError (exit 1)."""
    assert "schedule.log_file must name a file" in refused(write(tmp_path, f"schedule:\n  log_file: {value}\n"))


# ----- messages that help the user find the mistake -----------------------------------------
@pytest.mark.parametrize("text, suggestion", [
    ("max_tracks: 40\n", "unknown key max_tracks (did you mean blend.max_tracks?)"),
    ("blend:\n  new_share: 0.5\n", "unknown key blend.new_share (did you mean candidates.new_share?)"),
    ("token: abc\n", "(did you mean listenbrainz.token?)"),
    ("content:\n  weight: 1\n", "(did you mean scorers.content?)"),
    ("blend:\n  max_trakcs: 40\n", "(did you mean blend.max_tracks?)"),  # a typo still wins
    # another name for a key: these had no hint at all
    ("playlist:\n  size: 30\n", "unknown key playlist.size (did you mean blend.max_tracks?)"),
    ("playlist:\n  length: 30\n", "(did you mean blend.max_tracks?)"),
    ("playlist:\n  private: true\n", "(the managed playlist is private unless playlist.public is true)"),
    # else a section of a few keys names them
    ("playlist:\n  colour: red\n", "unknown key playlist.colour (playlist takes name, description, public)"),
])
def test_a_key_in_the_wrong_section_names_the_right_one(tmp_path, text, suggestion):
    assert suggestion in refused(write(tmp_path, text))


def test_a_key_of_several_sections_is_not_guessed_but_one_per_entry_is_named_so(tmp_path):
    # no one section guessed; a key every entry of one section has (each scorer's weight) is named
    # as such: `weights:` at the top, where the weights live, had no hint at all
    for text in ("blend:\n  weight: 1\n", "weights:\n  content: 0.5\n"):
        said = refused(write(tmp_path, text))
        assert said.endswith("(did you mean scorers.<name>.weight? one per scorer: scorers.content.weight, ...)"), said
    assert "did you mean" not in refused(write(tmp_path, "blend:\n  max_retries: 1\n"))  # spotify, enrich, ...


@pytest.mark.parametrize("text, expected", [
    ("playlist:\n  name: off\n", "playlist.name must be a string, got false; YAML reads a bare yes, no, on, off"),
    ("spotify:\n  client_id: 0123\n", "spotify.client_id must be a string, got 123; YAML reads it as a number: "
                                      "put the text in quotes"),
    ("playlist:\n  name: null\n", "playlist.name must be a string, got null"),
    ("candidates:\n  exclude_known: null\n", "candidates.exclude_known must be true/false, got null"),
    ("blend:\n  max_tracks 40\n", "blend must be a mapping, got 'max_tracks 40'; write `max_tracks: ...`"),
    # a range of a number that is not whole, or of a switch, in YAML's words
    ("scorers:\n  content:\n    word_ngrams: [1.5, 2]\n", "scorers.content.word_ngrams must be [min, max] whole "
                                                          "numbers with 1 <= min <= max, got [1.5, 2]"),
    ("scorers:\n  content:\n    char_ngrams: [true, 2]\n", "char_ngrams must be [min, max] whole numbers with "
                                                          "1 <= min <= max, got [true, 2]"),
    # a scorer tune leaves alone that is no scorer
    ("tune:\n  fixed: [opendata, nonsense]\n", "tune.fixed must be a list of scorer names (artist_walk, audio, "
                                               "collaborative, content, coverage, opendata, popularity, release, year), "
                                               "got 'nonsense' in ['opendata', 'nonsense']"),
    # every list and entry of one in YAML's words, as word_ngrams' (it said [0, True] and got True in [True])
    ("tune:\n  grid: [0, true]\n", "tune.grid must be a non-empty list of numbers from 0 to 1000000, got [0, true]"),
    ("tune:\n  fixed: [true]\n", "got true in [true]"),
    ("candidates:\n  blocklist_tracks: [null]\n", "candidates.blocklist_tracks must be a list of ids or names, got null in it"),
    # a source's switch with its colon forgotten: the colon's hint, not the one for `similar_artists: false`
    ("discovery:\n  similar_artists: enabled false\n",
     "discovery.similar_artists must be a mapping, got 'enabled false'; write `enabled: ...`, a colon"),
])
def test_a_value_yaml_changed_is_shown_in_yaml_words_with_a_hint(tmp_path, text, expected):
    assert expected in refused(write(tmp_path, text))


@pytest.mark.parametrize("text, line, column", [
    ("blend:\n\tmax_tracks: 40\n", 2, 1),
    ("blend:\n  max_tracks:\t40\n", 2, 14),
])
def test_a_tab_is_named_as_a_tab(tmp_path, text, line, column):
    f = write(tmp_path, text)
    message = refused(f)
    assert message.startswith(f"{f}: line {line} has a tab (column {column})") and "spaces" in message


def test_schedule_cron_from_the_file_names_the_file_and_key(tmp_path):
    f = write(tmp_path, 'schedule:\n  cron: "99 * * * *"\n')
    result = runner.invoke(app, ["schedule", "install", "--print", "--config", str(f)],
                           env={"RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(f"error: {f}: schedule.cron: invalid cron expression '99 * * * *'")


def test_a_config_file_named_by_the_variable_says_so(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=r"nope.yaml: file not found \(named by RECOMMENDER_CONFIG\)"):
        load_settings(environ={"RECOMMENDER_CONFIG": str(missing)})
    with pytest.raises(ConfigError) as err:  # --config names it itself
        load_settings(missing, environ={"RECOMMENDER_CONFIG": str(missing)})
    assert "RECOMMENDER_CONFIG" not in str(err.value)


def test_config_path_expands_a_home_log_file(tmp_path):
    f = write(tmp_path, 'schedule:\n  log_file: "~/logs/rec.log"\n')
    result = runner.invoke(app, ["config", "path", "--json", "--config", str(f)],
                           env={"RECOMMENDER_CACHE_DIR": str(tmp_path / "c"), "HOME": str(tmp_path / "home")})
    assert '"log": "' + str(tmp_path / "home" / "logs" / "rec.log") + '"' in result.stdout


# ----- what a user writes that was refused for no reason --------------------------------------
@pytest.mark.parametrize("text, key, value", [
    ("blend:\n  max_tracks: 40.0\n", "blend.max_tracks", 40),
    ("discovery:\n  request_budget: 1e3\n", "discovery.request_budget", 1000),   # YAML 1.1: the text '1e3'
    ("discovery:\n  request_budget: '2000'\n", "discovery.request_budget", 2000),
])
def test_a_whole_number_written_as_a_float_is_a_whole_number(tmp_path, text, key, value):
    """'must be a whole number, got 40.0' refused a whole number."""
    got = load_settings(write(tmp_path, text), environ={}).get_path(key)
    assert got == value and type(got) is int


@pytest.mark.parametrize("text", ["blend:\n  max_tracks: 4.5\n", "blend:\n  max_tracks: '4.5'\n",
                                  "blend:\n  max_tracks: .inf\n", "blend:\n  max_tracks: 1e400\n"])
def test_a_fraction_is_still_no_whole_number(tmp_path, text):
    assert "blend.max_tracks must be a whole number" in refused(write(tmp_path, text))


def test_a_section_with_every_key_commented_out_changes_nothing(tmp_path):
    """Keeping only what you change in a copy of example.yaml leaves `candidates:` with
    nothing under it: 'candidates must be a mapping, got None'."""
    f = write(tmp_path, "candidates:\n  # exclude_known: true\nblend:\n  max_tracks: 30\n")
    s = load_settings(f, environ={})
    assert s.blend.max_tracks == 30 and s.candidates.exclude_known is False


def test_a_huge_file_is_refused_without_reading_it_whole(tmp_path, monkeypatch):
    """`--config /dev/zero` (or a video picked by tab completion) was read whole into memory."""
    monkeypatch.setattr(config_module, "MAX_FILE_BYTES", 1000)
    f = write(tmp_path, "playlist:\n  name: x\n" + "# padding\n" * 200)
    assert "larger than" in refused(f)
    assert load_settings(write(tmp_path, "playlist:\n  name: x\n", "small.yaml"), environ={}).playlist.name == "x"


def test_a_log_file_naming_a_folder_is_warned_about_not_a_crash(tmp_path, caplog):
    """`schedule.log_file: /tmp` (an existing folder): every command that logs first made the
    folder 0600 (the log's privacy fix, meant for old log files: /tmp lost its x bits for
    everyone) and then ended in 'unexpected error: IsADirectoryError' (exit 1); now the folder is
    left alone and, as for a read-only log, one warning names it and the run goes on."""
    from recommender.runlog import UNWRITABLE, setup_logging, teardown_logging
    folder = tmp_path / "logs"
    folder.mkdir()
    folder.chmod(0o755)
    try:
        assert setup_logging(tmp_path, str(folder), quiet=True) == folder
    finally:
        teardown_logging()
    assert UNWRITABLE == [f"cannot write the log {folder}: Is a directory; this run goes on without it"]  # (the CLI's note)
    assert folder.stat().st_mode & 0o777 == 0o755  # it was made 0600 as "a log kept private" (/tmp, ~)


def test_a_short_secret_does_not_garble_the_diff(tmp_path):
    f = write(tmp_path, "spotify:\n  client_secret: '1'\nscorers:\n  content:\n    weight: 1.0\n")
    diff = write_weights(f, {"content": 0.1})
    assert "+    weight: 0.1" in diff and "-    weight: 1.0" in diff and "client_secret: ***" in diff


@pytest.mark.parametrize("text, expected", [
    ("a: 1\nplaylist:\n  name: a\x07b\n", "line 3 has the character U+0007, which YAML does not allow"),
    ("playlist:\n  name: a\x00b\n", "line 2 has the character U+0000"),
])
def test_a_control_character_is_named_with_its_line(tmp_path, text, expected):
    """The message was '<file>: invalid YAML', nothing else."""
    assert expected in refused(write(tmp_path, text))


def test_a_date_is_shown_as_written_with_a_hint(tmp_path):
    message = refused(write(tmp_path, "playlist:\n  name: 2026-11-30\n"))
    assert "playlist.name must be a string, got 2026-11-30; YAML reads it as a date: put the text in quotes" in message


@pytest.mark.parametrize("text, expected", [
    ('playlist:\n  name: "unterminated\nblend:\n  max_tracks: 1\n', ": line 2 has a quote that is never closed"),  # was line 5
    ("playlist:\n  name: 'it's'\n", "text after a closing quote"),
    ("blend:\n  max_tracks: 40\n max_per_artist: 2\n", "line 3 expected <block end>, but found '<block mapping start>' "
                                                       "(the line is indented differently from the lines above it)"),
    ("playlist:\n  name: foo: bar\n", "line 2 mapping values are not allowed here (a second ': ' on the line"),
    # the same under a key with a value at its own indent: the second ': ', not the indent
    ("blend:\n  threshold: 0.2\n  max_tracks: 30: 2\n", "line 3 mapping values are not allowed here (a second ': '"),
    # indented one more than the key above it: it named a second ': ' (the opposite case named the indent)
    ("blend:\n  max_tracks: 30\n   max_per_artist: 2\n", "line 3 mapping values are not allowed here (the line is "
                                                          "indented more than the key above it, which has a value"),
    ("playlist:\n  name: @me\n", "(a value starting with @, ` or % needs quotes)"),
    # a backslash in double quotes: the quote is closed, and it said "a quote that is never closed"
    ('playlist:\n  name: "up \\o/"\n', "line 2 found unknown escape character 'o' (in double quotes a backslash "
                                       "starts an escape: write \\\\ for one, or put the text in single quotes)"),
    ('cache:\n  dir: "C:\\Users\\me"\n', "line 2 expected escape sequence of 8 hexadecimal numbers, but found 's' (in "
                                          "double quotes a backslash starts an escape"),
    # a snippet pasted with its --- at the end of the file: it said "line 3 but found another document"
    ("evaluate:\n  folds: 3\n---\nevaluate:\n  top_n: 5\n", "line 3 starts a second YAML document (a --- line after "
                                                          "settings): a settings file is one document; delete that --- line"),
])
def test_a_yaml_syntax_error_says_what_to_change(tmp_path, text, expected):
    assert expected in refused(write(tmp_path, text))


@pytest.mark.parametrize("text, expected", [
    ("discovery:\n  on: false\n", ": line 2: unknown key discovery.true (YAML reads a bare yes, no, on or off as true or "
                                  "false); to turn it on or off, write `discovery.enabled: true` or `false`"),
    ("yes: 1\n", ": line 1: unknown key true (YAML reads a bare yes, no, on or off as true or false)"),
    ("blend:\n  ~: 1\n", ": line 2: unknown key blend.null (YAML reads a bare ~ as null)"),
])
def test_a_key_yaml_reads_as_true_or_null_is_named_as_yaml_reads_it_on_its_line(tmp_path, text, expected):
    """`on:` said "unknown key discovery.True" (Python's word), on no line, and `yes:` offered "did you mean tune?"."""
    path = write(tmp_path, text)
    assert refused(path) == f"{path}{expected}"


def _aliases_of_aliases(levels: int, mapping: bool) -> str:
    """A value of ten values, then of ten aliases of it, of ten aliases of that...: 10^levels values."""
    if mapping:
        value = "&a0 {" + ", ".join(f"k{j}: 1" for j in range(10)) + "}"
        for i in range(1, levels):
            value = f"&a{i} {{k0: {value}, " + ", ".join(f"k{j}: *a{i - 1}" for j in range(1, 10)) + "}"
    else:
        value = "&a0 [" + ", ".join(["x"] * 10) + "]"
        for i in range(1, levels):
            value = f"&a{i} [{value}, " + ", ".join([f"*a{i - 1}"] * 9) + "]"
    return value


@pytest.mark.parametrize("mapping", [False, True])
def test_aliases_that_repeat_values_into_millions_are_refused_at_once(tmp_path, mapping):
    """Ten `*a` in `&b`, ten `*b` in `&c`...: 600 bytes held 10^8 values, and every command hung
    (the walk of the keys, or the value a type error shows, expanded them all)."""
    path = write(tmp_path, f"blend:\n  max_tracks: {_aliases_of_aliases(6, mapping)}\n")  # a million (8: it hung)
    assert refused(path) == (f"{path}: its aliases (*name) repeat values into more than 100,000 of them, which no "
                             "settings file holds (one holds a few hundred); write the values out")
    few = write(tmp_path, f"blend:\n  max_tracks: {_aliases_of_aliases(3, mapping)}\n")  # a thousand: the type is said
    assert "blend.max_tracks must be a whole number, got " in refused(few)


def test_a_symlinked_config_file_stays_a_symlink(tmp_path):
    """A config file kept in a dotfiles folder and linked into place: `tune --write` replaced
    the link with a new file and left the real one as it was."""
    real = write(tmp_path, "scorers:\n  content:\n    weight: 1.0\n", "dotfiles.yaml")
    link = tmp_path / "config.yaml"
    link.symlink_to(real)
    write_weights(link, {"content": 0.5})
    assert link.is_symlink() and link.resolve() == real
    assert load_settings(real, environ={}).scorers.content.weight == 0.5


# ----- a config file holding a secret that other users can read ---------------------------
SECRET_FILE = "spotify:\n  client_id: abcdef0123456789\n  client_secret: cs-secret-2222\n"


@pytest.mark.parametrize("mode, warned", [(0o644, True), (0o640, True), (0o604, True), (0o600, False), (0o400, False)])
def test_a_config_file_with_a_secret_readable_by_others_is_warned_about(tmp_path, mode, warned):
    """A client secret in a 0644 config file (what an editor or `cp` makes) could be read by every
    user of the computer, silently; ssh refuses such a key file, we say so once per command."""
    f = write(tmp_path, SECRET_FILE)
    f.chmod(mode)
    message = config_module.exposed_secrets(load_settings(f, environ={}))
    if not warned:
        assert message == ""
        return
    assert message == (f"{f} holds spotify.client_secret and other users of this computer can read it "
                       f"(mode {mode:04o}); run `chmod 600 {f}`")
    assert "cs-secret-2222" not in message


def test_the_chmod_to_copy_names_a_config_file_in_a_folder_with_a_space_as_one_word(tmp_path):
    """macOS keeps the file in "Library/Application Support": `chmod 600 /Users/me/Library/Application
    Support/recommend/config.yaml` was two files to chmod, neither of them the config file."""
    folder = tmp_path / "Application Support"
    folder.mkdir()
    f = write(folder, SECRET_FILE)
    f.chmod(0o644)
    message = config_module.exposed_secrets(load_settings(f, environ={}))
    assert message.endswith(f"run `chmod 600 '{f}'`")


def test_no_warning_without_a_secret_in_the_file(tmp_path):
    """A readable file without a secret, or whose secret comes from the environment, is fine."""
    f = write(tmp_path, "blend:\n  max_tracks: 20\n")
    f.chmod(0o644)
    assert config_module.exposed_secrets(load_settings(f, environ={"SPOTIPY_CLIENT_SECRET": "from-env"})) == ""
    g = write(tmp_path, "listenbrainz:\n  token: lb-token-3333\n", name="other.yaml")
    g.chmod(0o644)
    assert "holds listenbrainz.token" in config_module.exposed_secrets(load_settings(g, environ={}))


def test_a_command_warns_about_a_readable_secret_on_stderr_and_in_the_log(tmp_path):
    f = write(tmp_path, SECRET_FILE)
    f.chmod(0o644)
    cache = tmp_path / "cache"
    result = runner.invoke(app, ["--no-input", "refresh", "--config", str(f)], catch_exceptions=False,
                           env={"RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_SECRET": "", "SPOTIPY_CLIENT_ID": ""})
    assert result.exit_code == 3  # not logged in: the warning comes first, whatever the command does
    assert f"warning: {f} holds spotify.client_secret" in result.stderr
    assert "cs-secret-2222" not in result.stderr
    log = (cache / "recommend.log").read_text()
    assert "holds spotify.client_secret" in log and "cs-secret-2222" not in log


# ----- enrich.rate above what musicbrainz.org allows ---------------------------------------
@pytest.mark.parametrize("url", [None, "https://musicbrainz.org/ws/2/", "https://beta.musicbrainz.org/ws/2/",
                                 "https://MusicBrainz.org./ws/2/"])
def test_a_rate_above_one_per_second_for_musicbrainz_org_is_refused(tmp_path, url):
    """`enrich.rate: 5` was accepted: musicbrainz.org answers 503 to an address going faster than
    1 request/s and blocks one that keeps at it, so a genre look-up of a big library would have
    failed for hours (or got the user's address blocked) instead of being refused at once."""
    text = "enrich:\n  rate: 5\n" + (f"  musicbrainz_url: {url}\n" if url else "")
    message = refused(write(tmp_path, text))
    host = (url or "https://musicbrainz.org/").split("/")[2].lower().rstrip(".")  # as the address names it
    assert message.startswith(f"{tmp_path / 'config.yaml'}: line 2: enrich.rate must be at most 1 for {host}, ")
    assert "own mirror in enrich.musicbrainz_url, got 5" in message


def test_a_mirror_of_musicbrainz_may_be_asked_faster(tmp_path):
    s = load_settings(write(tmp_path, "enrich:\n  rate: 50\n  musicbrainz_url: http://mirror.lan:5000/ws/2/\n"),
                      environ={})
    assert s.enrich.rate == 50
    assert load_settings(write(tmp_path, "enrich:\n  rate: 1\n"), environ={}).enrich.rate == 1  # the limit itself


@pytest.mark.parametrize("text, key, most", [
    ("seeds:\n  recent_days: 1e12\n", "seeds.recent_days", "36500"),
    ("spotify:\n  timeout: 1e10\n", "spotify.timeout", "604800"),
    ("enrich:\n  refresh_days: 1e12\n", "enrich.refresh_days", "36500"),
    ("discovery:\n  ttl_recordings_days: 1e12\n", "discovery.ttl_recordings_days", "36500"),
    ("scorers:\n  content:\n    weight: 1e308\n", "scorers.content.weight", "1000000"),
    ("scorers:\n  opendata:\n    listen_weight: 1e308\n", "scorers.opendata.listen_weight", "1000000"),
    # 10**20 albums per artist crashed the run (islice past sys.maxsize), 10**20 log backups hung
    # it, 1e300 of a content field or of the walk's beta overflowed (numpy's warnings on stderr);
    # the other counts took any number (the web page's Discovery fields saved 1e20)
    ("refresh:\n  discovery_albums_per_artist: 100000000000000000000\n", "refresh.discovery_albums_per_artist",
     "1000000"),
    ("schedule:\n  log_backups: 100000000000000000000\n", "schedule.log_backups", "1000"),
    ("scorers:\n  content:\n    fields:\n      name: 1e300\n", "scorers.content.fields.name", "1000000"),
    ("scorers:\n  artist_walk:\n    beta: 1e300\n", "scorers.artist_walk.beta", "10"),
    ("discovery:\n  similar_artists:\n    seed_artists: 100000000000000000000\n",
     "discovery.similar_artists.seed_artists", "1000000"),
    ("discovery:\n  request_budget: 100000000000000000000\n", "discovery.request_budget", "1000000"),
    ("blend:\n  max_per_artist: 100000000000000000000\n", "blend.max_per_artist", "1000000"),
])
def test_a_value_past_any_sensible_one_is_refused_not_a_crash(tmp_path, text, key, most):
    """A day count of 1e12 (OutOfBoundsTimedelta) and a timeout of 1e10 s (OverflowError:
    timestamp out of range) passed the check and crashed the run with exit 1; weights of 1e308
    overflowed their sum (numpy's RuntimeWarning on stderr) and tune wrote them back. Each key
    now has an upper bound no sensible value reaches, and the bound itself runs."""
    message = refused(write(tmp_path, text))
    assert any(f"line {n}: {key}" in message for n in (2, 3, 4))
    assert f" {most}" in message.partition(", got ")[0]
    value = float(most)
    top = text.replace(text.split(": ")[-1].strip(), f"{value:g}" if value != int(value) else str(int(value)))
    settings = load_settings(write(tmp_path, top), environ={})
    assert settings.get_path(key) == value


def test_a_contact_no_http_header_can_carry_is_named_with_its_line_by_every_command(tmp_path):
    """`enrich.contact: Łukasz <l@x.pl>`: `config show` took it, `enrich genres` with nothing to
    look up said "nothing to look up" and then failed, and the error named no line, as it was
    checked at the first open-data client. It is checked as the file is read."""
    path = write(tmp_path, "# mine\nenrich:\n  contact: Łukasz <l@x.pl>\n")
    message = refused(path)
    assert message.startswith(f"{path}: line 3: enrich.contact goes in the User-Agent header")
    assert message.endswith("got 'Łukasz <l@x.pl>'")
    shown = runner.invoke(app, ["config", "show", "--config", str(path)])
    assert shown.exit_code == 2 and "line 3: enrich.contact" in shown.stderr
    # not sent when enrich.user_agent is set (the User-Agent goes as written): not refused
    assert load_settings(write(tmp_path, "enrich:\n  contact: Łukasz\n  user_agent: me/1 ( a@b.c )\n"), environ={})


def test_tune_write_changes_only_the_values_in_a_file_of_its_own_layout(tmp_path):
    """`tune --write` wrote the whole file anew from its parse: a file indented by 4 came back
    indented by 2 (every line in the diff, comments left at 4 above keys at 2), spacing after a
    colon and comment columns moved, and `--undo` did not give the layout back. A value the
    file already sets on its key's line is now replaced there, nothing else touched; a new key
    writes the file in its own indentation."""
    from recommender.configfile import DELETE, set_values
    path = tmp_path / "config.yaml"
    text = ("# mine\ncache:\n    dir:   \"/tmp/lib\"    # copied\nblend:\n    max_tracks: 40   # forty!\n"
            "scorers:\n    # I like content a lot\n    content:\n        weight: 1.0   # yes\n"
            "    year: {weight: 0.1}\n")
    path.write_text(text)
    diff = set_values(path, {"scorers.content.weight": 0.75, "blend.max_tracks": 35})
    assert path.read_text() == text.replace("weight: 1.0", "weight: 0.75").replace("max_tracks: 40", "max_tracks: 35")
    assert len([line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("---", "+++")]) == 4
    set_values(path, {"scorers.content.weight": 1.0, "blend.max_tracks": 40})  # as `tune --undo` puts them back
    assert path.read_text() == text
    set_values(path, {"scorers.walk.weight": 0.5})  # a new key: the file in its own indentation
    assert path.read_text().endswith("    year: {weight: 0.1}\n    walk:\n        weight: 0.5\n")
    assert "        weight: 1.0   # yes\n" in path.read_text() and "    # I like content a lot\n    content:\n" in path.read_text()
    set_values(path, {"scorers.walk.weight": DELETE, "scorers.year.weight": 0.2})  # in a flow mapping: anew
    assert "    year: {weight: 0.2}\n" in path.read_text() and "walk" not in path.read_text()


def test_a_key_added_or_taken_out_changes_those_lines_alone(tmp_path):
    """A key the file did not set (the common case of `tune --write`) wrote the file anew from
    its parse: a list at the key's own indentation moved in by two, a long text was wrapped at 80
    columns, `~` became nothing, a value's spacing and a comment's column moved, and `---`,
    `...` and a `%YAML` line were dropped. Those lines now stay as written; only the added lines
    (or those taken out) change, and `--undo` gives the file back as it was."""
    from recommender.configfile import DELETE, set_values
    path = tmp_path / "config.yaml"
    text = ("%YAML 1.1\n---\n# mine\ncandidates:\n  blocklist_artists:\n  - Some Artist\n"
            "  - Another One   # no\nplaylist:\n  description: \"" + "a long description " * 6 + "\"\n"
            "scorers:\n  content:\n    weight: 1.0   # c\n  year: {weight: 0.4, }   # flow\n"
            "  popularity: ~\n# --- blend ---\nblend:\n  max_tracks: 40\n...\n")
    path.write_text(text)
    diff = set_values(path, {"scorers.coverage.weight": 0.3, "blend.threshold": 0.2, "scorers.content.weight": 2.0})
    assert path.read_text() == text.replace("weight: 1.0 ", "weight: 2.0 ").replace(
        "  popularity: ~\n", "  popularity: ~\n  coverage:\n    weight: 0.3\n").replace(
        "max_tracks: 40\n", "max_tracks: 40\n  threshold: 0.2\n")
    assert len([line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("---", "+++")]) == 5
    set_values(path, {"scorers.coverage.weight": DELETE, "blend.threshold": DELETE, "scorers.content.weight": 1.0})
    assert path.read_text() == text


def test_config_init_writes_the_example_once(tmp_path):
    """The README said "start from config/example.yaml", which an installed package did not hold
    and no command wrote: `config init` writes it, with your client id if given, never over a file."""
    target = tmp_path / "conf" / "config.yaml"
    result = CliRunner().invoke(app, ["config", "init", "--config", str(target), "--client-id", "abc123"])
    assert result.exit_code == 0, result.output
    assert target.stat().st_mode & 0o777 == 0o600 and 'client_id: "abc123"' in target.read_text()
    assert "# Copy to your config file" in target.read_text()  # the commented example, whole
    assert load_settings(target, environ={}).spotify.client_id == "abc123"
    target.write_text("# mine\n")
    again = CliRunner().invoke(app, ["config", "init", "--config", str(target)])
    assert again.exit_code == 2 and "exists: edit it" in again.output and target.read_text() == "# mine\n"
    bad = CliRunner().invoke(app, ["config", "init", "--config", str(tmp_path / "b.yaml"), "--client-id", "a b;c"])
    assert bad.exit_code == 2 and not (tmp_path / "b.yaml").exists()


def test_config_init_at_the_home_folder_of_an_unknown_user_is_one_line(tmp_path, monkeypatch):
    """`config init --config ~nouser/c.yaml` stopped with "unexpected error: RuntimeError: Could not
    determine home directory. (please report it)", exit 1, where every other command says it in one line."""
    result = CliRunner().invoke(app, ["config", "init", "--config", "~nouser-xyz/c.yaml"])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == ("error: --config: the path starts with the home folder of a user this "
                                     "system does not know, got '~nouser-xyz/c.yaml'")
    monkeypatch.setenv("RECOMMENDER_CONFIG", "~nouser-xyz/c.yaml")
    result = CliRunner().invoke(app, ["config", "init"])
    assert result.exit_code == 2 and "environment RECOMMENDER_CONFIG: the path starts with" in result.output


def test_an_empty_client_id_names_the_file_that_set_it(tmp_path):
    """`client_id: ""` said "not connected to Spotify: set spotify.client_id in your config file",
    a key the file already sets, naming no file, and offered the demo."""
    from recommender.errors import AuthError
    from recommender.spotify.auth import make_auth_manager
    path = tmp_path / "c.yaml"
    path.write_text('spotify:\n  client_id: ""\n')
    with pytest.raises(AuthError, match=rf"spotify.client_id is empty \(in {re.escape(str(path))}\): put your app's"):
        make_auth_manager(load_settings(path, environ={}))
    with pytest.raises(AuthError, match="not connected to Spotify: set spotify.client_id"):  # set nowhere
        make_auth_manager(load_settings(environ={}, overrides={"cache.dir": str(tmp_path)}))


def test_a_file_the_writer_cannot_parse_is_named_with_its_line_and_problem(tmp_path):
    """The writer (ruamel) refused a key given twice as "cannot parse YAML (DuplicateKeyError)":
    no line, no key. It says both, and that the file was left as it was."""
    config = tmp_path / "config.yaml"
    text = "blend:\n  threshold: 0.3\nscorers:\n  content: {weight: 1, weight: 2}\n"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        set_values(config, {"scorers.year.weight": 0.5})
    assert str(caught.value) == (f'{config}: line 4 cannot parse YAML (found duplicate key "weight" with value '
                                 '"2" (original value: "1")); nothing was changed')
    assert config.read_text() == text


def test_config_init_writes_through_a_link_to_a_file_still_to_be_made(tmp_path):
    """A config path that is a link into a dotfiles folder whose file is not made yet was refused
    as "file not found" (the link counted as a file that exists): the file it names is written."""
    real = tmp_path / "dots" / "recommend.yaml"
    real.parent.mkdir()
    link = tmp_path / "config.yaml"
    link.symlink_to(real)
    result = CliRunner().invoke(app, ["config", "init", "--config", str(link)])
    assert result.exit_code == 0, result.output
    assert f"wrote {link} (through its link, to {real})" in result.output
    assert link.is_symlink() and "# Copy to your config file" in real.read_text()
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    looped = CliRunner().invoke(app, ["config", "init", "--config", str(loop)])
    assert looped.exit_code == 2 and "Too many levels of symbolic links" in looped.output


def test_a_config_file_on_a_read_only_disk_is_said_as_such(tmp_path, monkeypatch):
    """On a file system mounted read-only, writing the config file said to check the file's
    permissions (or, on the write itself, to set `cache.dir` to another disk and reinstall the
    schedule: the advice for the data folder): it says the disk is read-only."""
    import errno
    import os
    import types

    from recommender.configfile import check_writable
    from recommender.errors import StorageError
    path = tmp_path / "config.yaml"
    path.write_text("blend:\n  max_tracks: 40\n")
    real_replace = os.replace

    def refuse(src, dst):
        if str(dst) == str(path):
            raise OSError(errno.EROFS, "Read-only file system", str(dst))
        return real_replace(src, dst)
    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(StorageError) as caught:
        set_values(path, {"blend.max_tracks": 30})
    assert "the file system is read-only: name a file on a writable disk" in str(caught.value)
    assert "cache.dir" not in str(caught.value) and path.read_text().endswith("40\n")
    monkeypatch.setattr(os, "access", lambda *a, **k: False)  # (root may write anything: the disk refuses)
    monkeypatch.setattr(os, "statvfs", lambda p: types.SimpleNamespace(f_flag=os.ST_RDONLY))
    with pytest.raises(StorageError) as caught:
        check_writable(path)
    assert str(caught.value) == (f"cannot write {path}: the file system is read-only (make it writable, or give "
                                 "a config file on another disk with --config); nothing was changed")


def test_a_weight_not_edited_on_its_line_still_changes_that_line_alone(tmp_path):
    """A weight that cannot be replaced on its own line (with an anchor, `weight: &one 0.01`)
    wrote the whole file anew: `---`/`...` dropped, a list indented again, a flow list redone,
    which `--undo` then kept. Only the lines of the change move now."""
    from recommender.configfile import set_values
    path = tmp_path / "config.yaml"
    text = ("---\ncandidates:\n  blocklist_tracks:\n  - a   # x\n  blocklist_artists:   [ \"X\",  Y ]\n"
            "scorers:\n  content:\n    weight: &one 0.01   # shared\n...\n")
    path.write_text(text)
    set_values(path, {"scorers.content.weight": 0.3})
    changed = [(a, b) for a, b in zip(text.splitlines(), path.read_text().splitlines()) if a != b]
    assert len(path.read_text().splitlines()) == len(text.splitlines()) and len(changed) == 1, path.read_text()
    assert changed[0][1].split("#")[0].split() == ["weight:", "0.3"] and changed[0][1].endswith("# shared")


def test_text_the_reader_would_take_for_true_false_or_a_number_is_written_quoted(tmp_path):
    """`schedule install` with SPOTIPY_CLIENT_ID=off wrote `client_id: off`, which ruamel (YAML
    1.2) writes as text and the reader (PyYAML, YAML 1.1) reads as false: every command then
    refused the file, the scheduled run too."""
    from recommender.configfile import set_values
    path = tmp_path / "config.yaml"
    path.write_text("# mine\nplaylist:\n  name: x\n")
    set_values(path, {"spotify.client_id": "off", "playlist.name": "0123", "enrich.contact": "me@example.org"})
    settings = load_settings(path, environ={})
    assert (settings.spotify.client_id, settings.playlist.name) == ("off", "0123")
    assert 'client_id: "off"' in path.read_text() and "contact: me@example.org" in path.read_text()


def test_text_written_over_quoted_text_keeps_its_kind_of_quotes_and_its_comment(tmp_path):
    """A value written in place of a quoted one keeps the quotes the file chose (set_values keeps
    a file's own writing): double quotes with their backslash escapes, single quotes with a
    quote written twice, and plain text stays plain; every other character of the line stays."""
    from recommender.configfile import set_values
    path = tmp_path / "config.yaml"
    path.write_text('playlist:\n  name: "My mix"   # mine\n  description: \'old\'  # theirs\n'
                    "enrich:\n  contact: me@example.org  # plain\n")
    set_values(path, {"playlist.name": 'Say "hi"', "playlist.description": "It's late",
                      "enrich.contact": "you@example.org"})
    assert path.read_text() == ('playlist:\n  name: "Say \\"hi\\""   # mine\n'
                                "  description: 'It''s late'  # theirs\n"
                                "enrich:\n  contact: you@example.org  # plain\n")
    settings = load_settings(path, environ={})
    assert (settings.playlist.name, settings.playlist.description) == ('Say "hi"', "It's late")


def test_a_write_to_a_mapping_merged_into_another_is_refused_naming_the_one_that_would_change_too(tmp_path):
    """`year: {<<: *content}` takes content's weight: a write of scorers.content.weight (the web app's
    Save of one slider, tune's of a scorer it does not fix) changed year's too, and the diff showed one line."""
    text = "scorers:\n  content: &c\n    weight: 1\n  year:\n    <<: *c\n    bandwidth: 1\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        set_values(path, {"scorers.content.weight": 2.0})
    assert str(raised.value) == (f"{path}: scorers.year takes its weight from scorers.content (<<: *anchor): changing "
                                 "scorers.content.weight would change it too; write weight in it itself, then run this "
                                 "again; nothing was changed")
    assert path.read_text() == text
    set_values(path, {"scorers.content.weight": 2.0, "scorers.year.weight": 0.5})  # year's own weight written too: fine
    settings = load_settings(path, environ={})
    assert (settings.scorers.content.weight, settings.scorers.year.weight) == (2.0, 0.5)


def test_a_comment_at_the_end_of_the_file_stays_at_its_end_when_a_section_is_added(tmp_path):
    """One write adding a key to the last section and a new section after it (the web app's Save
    of a weight and the new-music share, `schedule install`) put `# vim: set ft=yaml`, the file's
    last line, above the new section; the undo gives the file back as it was."""
    from recommender.configfile import DELETE, set_values
    path = tmp_path / "config.yaml"
    text = "playlist:\n  name: x\nscorers:\n  content:\n    weight: 1.0\n\n# vim: set ft=yaml\n"
    path.write_text(text)
    set_values(path, {"scorers.year.weight": 0.5, "candidates.new_share": 0.6})
    assert path.read_text().endswith("    weight: 0.5\ncandidates:\n  new_share: 0.6\n\n# vim: set ft=yaml\n"), \
        path.read_text()
    set_values(path, {"scorers.year.weight": DELETE, "candidates.new_share": DELETE})
    assert path.read_text() == text


def test_every_value_past_its_bound_is_named_at_once_in_file_order(tmp_path):
    """An upgrade that brought new bounds: three values of an older config past them made three
    failed cron nights, each naming one, not in the file's order."""
    path = write(tmp_path, "discovery:\n  request_budget: 5000000\nrefresh:\n  discovery_albums_per_artist: 2000000\n"
                           "schedule:\n  log_backups: 5000\n")
    assert refused(path) == (
        f"{path}: line 2: discovery.request_budget must be at most 1000000, got 5000000 (also past its bound: "
        "line 4: refresh.discovery_albums_per_artist must be at most 1000000, got 2000000; line 6: "
        "schedule.log_backups must be between 0 and 1000, got 5000)")


@pytest.mark.parametrize("agent", ['"   "', '"me \u2615/1 ( a@b.c )"', '"me/1\\u0007"'])
def test_a_user_agent_of_spaces_or_that_no_http_header_can_carry_is_named_with_its_line(tmp_path, agent):
    """`enrich.user_agent` goes as written in every open-data request's header: one of spaces
    names no app, and a character past Latin-1 or a control character cannot be sent."""
    path = write(tmp_path, f"enrich:\n  user_agent: {agent}\n")
    assert refused(path).startswith(f"{path}: line 2: enrich.user_agent must name this app and a contact")


@pytest.mark.parametrize("text", ["~\n", "null\n...\n", "--- ~\n", "# mine\nnull  \n\n# more\n"])
def test_a_write_to_a_file_of_a_null_document_leaves_a_file_that_loads(tmp_path, text):
    """A file that is one null document (`~`, or `null` and `...` as a YAML dump of nothing writes
    it) loads as no settings; `schedule install`, `tune --write` and the web app's Save wrote their
    sections after its `~`, and every command then refused the file (exit 2), the scheduled runs too."""
    path = write(tmp_path, text)
    assert load_settings(path, environ={}).blend.max_tracks == 50
    set_values(path, {"spotify.client_id": "abc123", "blend.max_tracks": 30})
    settings = load_settings(path, environ={})
    assert (settings.spotify.client_id, settings.blend.max_tracks) == ("abc123", 30)
    assert [line for line in path.read_text().split("\n") if line.startswith("#")] == \
        [line for line in text.split("\n") if line.startswith("#")]  # its comments kept
