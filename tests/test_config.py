"""Settings: layering, validation messages naming file and key, redaction."""

import re
from pathlib import Path

import pytest

from recommender.config import DEFAULT_FILE, load_settings
from recommender.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "user.yaml"
    p.write_text(text)
    return p


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _commented(lines: list[str], i: int) -> bool:
    """A key is commented when the line above it is a comment, or when it belongs to a small
    mapping of plain values (time_range_weights) whose header line is commented."""
    if i and lines[i - 1].strip().startswith("#"):
        return True
    j = i - 1
    while j >= 0 and _indent(lines[j]) == _indent(lines[i]) and not lines[j].strip().startswith("#"):
        j -= 1
    return j > 0 and _indent(lines[j]) < _indent(lines[i]) and lines[j - 1].strip().startswith("#")


def test_defaults_load_and_every_key_is_commented():
    s = load_settings(environ={})
    assert s.blend.normalisation in {"rank", "minmax"}
    assert s.spotify.redirect_uri.startswith("http://127.0.0.1:")
    lines = DEFAULT_FILE.read_text().splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        is_key = stripped and not stripped.startswith(("#", "-")) and ":" in stripped
        is_section = _indent(line) == 0 or stripped.endswith(":")
        if is_key and not is_section:
            assert _commented(lines, i), f"config/default.yaml line {i + 1} has no comment: {stripped}"


def test_user_file_overrides_defaults_and_environment_overrides_file(tmp_path):
    f = write(tmp_path, "blend:\n  threshold: 0.25\nspotify:\n  api_url: http://127.0.0.1:1/v1/\n")
    s = load_settings(f, environ={"RECOMMENDER_SPOTIFY_API_URL": "http://127.0.0.1:2/v1/",
                                  "RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    assert s.blend.threshold == 0.25
    assert s.spotify.api_url == "http://127.0.0.1:2/v1/"
    assert s.cache_dir == tmp_path / "c"


def test_spaces_around_an_environment_value_are_not_part_of_it(tmp_path):
    """SPOTIPY_CLIENT_ID=" abc " (a copy and paste) sent the spaces to Spotify: INVALID_CLIENT;
    a value of spaces alone is no value, as an empty one is."""
    f = write(tmp_path, "spotify:\n  client_id: fromthefile\n")
    s = load_settings(f, environ={"SPOTIPY_CLIENT_ID": " 0123abcd \n", "LISTENBRAINZ_TOKEN": "\ttok "})
    assert s.spotify.client_id == "0123abcd" and s.get_path("listenbrainz.token") == "tok"
    assert load_settings(f, environ={"SPOTIPY_CLIENT_ID": "   "}).spotify.client_id == "fromthefile"


def test_spaces_around_recommender_config_are_not_part_of_the_path(tmp_path, monkeypatch):
    """RECOMMENDER_CONFIG=" /x/c.yaml " named a file in a folder " " of the current directory
    (`config init` made it there), and one of spaces alone a file named "   ", where the README
    says every variable is read without its spaces and is not set when it is spaces alone."""
    from typer.testing import CliRunner

    from recommender.cli import app
    f = write(tmp_path, "blend:\n  max_tracks: 20\n")
    assert load_settings(environ={"RECOMMENDER_CONFIG": f" {f} \n"}).user_file == f
    assert load_settings(environ={"RECOMMENDER_CONFIG": "   "}).user_file is None
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECOMMENDER_CONFIG", f" {tmp_path / 'new.yaml'} ")
    result = CliRunner().invoke(app, ["config", "init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new.yaml").is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["new.yaml", "user.yaml"]


def test_text_that_is_not_utf8_is_refused_naming_its_key(tmp_path):
    """A `"\\ud800"` escape in the file, or a variable holding a byte that is not UTF-8 (a Latin-1
    folder name), was taken: the first log line or request that wrote it stopped the run with
    "unexpected error: UnicodeEncodeError", exit 1 (a playlist name, after the playlist was asked for)."""
    f = write(tmp_path, 'playlist:\n  name: "mix \\ud800"\n')
    with pytest.raises(ConfigError, match=re.escape(f"{f}: line 2: playlist.name must be UTF-8 text, got 'mix \\ud800'")):
        load_settings(f, environ={})
    with pytest.raises(ConfigError, match=r"^environment RECOMMENDER_CACHE_DIR: cache.dir must be UTF-8 text, got '/x/caf\\udce9'"):
        load_settings(environ={"RECOMMENDER_CACHE_DIR": "/x/caf\udce9"})
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"SPOTIPY_CLIENT_SECRET": "zq\udce9xw"})
    assert "spotify.client_secret must be UTF-8 text" in str(raised.value) and "zq" not in str(raised.value)


def test_command_line_overrides_everything(tmp_path):
    f = write(tmp_path, "blend:\n  max_tracks: 20\n")
    s = load_settings(f, overrides={"blend.max_tracks": 30}, environ={})
    assert s.blend.max_tracks == 30


@pytest.mark.parametrize("text, expected", [
    ("blend:\n  treshold: 0.3\n", "unknown key blend.treshold"),
    ("nonsense: 1\n", "unknown key nonsense"),
    ("blend:\n  threshold: high\n", "blend.threshold must be a number"),
    ("blend:\n  max_tracks: 2.5\n", "blend.max_tracks must be a whole number"),
    ("scorers:\n  content:\n    weight: -1\n", "scorers.content.weight must not be negative"),
    ("scorers:\n  coverage:\n    smoothing: -1\n", "scorers.coverage.smoothing must be at least 0"),
    ("scorers:\n  coverage:\n    per: album\n", "scorers.coverage.per must be one of"),
    ("scorers:\n  release:\n    smoothing: -1\n", "scorers.release.smoothing must be at least 0"),
    ("scorers:\n  year:\n    bandwidth: -1\n", "scorers.year.bandwidth must be between 0 and 1000, got -1"),
    ("scorers:\n  year:\n    bandwidth: 1e9\n", "scorers.year.bandwidth must be between 0 and 1000, got 1"),
    ("scorers:\n  opendata:\n    listen_weight: -0.5\n", "scorers.opendata.listen_weight must be at least 0"),
    ("scorers:\n  artist_walk:\n    alpha: 0\n", "scorers.artist_walk.alpha must be"),
    ("spotify:\n  redirect_uri: http://localhost:8888/callback\n", "127.0.0.1, not localhost"),
    ("spotify:\n  max_total_wait: -1\n", "spotify.max_total_wait must be at least 0, got -1"),
    ("spotify:\n  max_total_wait: soon\n", "spotify.max_total_wait must be a number, got 'soon'"),
    ("blend:\n  normalisation: zscore\n", "blend.normalisation must be one of"),
    ("blend: [1, 2\n", "line"),
])
def test_bad_values_are_rejected_naming_file_and_key(tmp_path, text, expected):
    f = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(f, environ={})
    message = str(err.value)
    assert str(f) in message and expected in message
    assert "\n" not in message


def test_all_zero_weights_rejected(tmp_path):
    s = load_settings(environ={})
    zero = "".join(f"  {name}:\n    weight: 0\n" for name in s.scorers)
    f = write(tmp_path, "scorers:\n" + zero)
    with pytest.raises(ConfigError, match="all blend weights are zero") as err:
        load_settings(f, environ={})
    assert str(err.value).startswith(f"{f}: line 3: ")  # the first of them the file set


def test_environment_value_is_validated_and_named():
    with pytest.raises(ConfigError, match="environment SPOTIPY_REDIRECT_URI"):
        load_settings(environ={"SPOTIPY_REDIRECT_URI": "http://localhost:9/callback"})


def test_a_config_file_that_is_not_utf8_is_a_config_error_naming_it(tmp_path):
    # Tried as a new user would: a config saved as Latin-1 ("Café" playlist name) crashed
    # every command with exit 1 ("unexpected error: UnicodeDecodeError").
    f = tmp_path / "user.yaml"
    f.write_bytes("playlist:\n  name: Caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ConfigError) as err:
        load_settings(f, environ={})
    assert str(f) in str(err.value) and "UTF-8" in str(err.value) and "line 2" in str(err.value)


def test_a_relative_cache_dir_in_a_config_file_is_beside_that_file(tmp_path, monkeypatch):
    # Tried as a new user would: `cache: dir: relcache` put a new cache (login, managed playlist)
    # into every directory the command was run from
    f = write(tmp_path, "cache:\n  dir: relcache\n")
    for cwd in (tmp_path, tmp_path.parent):
        monkeypatch.chdir(cwd)
        assert load_settings(f, environ={}).cache_dir == f.parent / "relcache"
    monkeypatch.chdir(tmp_path.parent)  # the environment's is the shell's: relative to where it runs
    assert load_settings(f, environ={"RECOMMENDER_CACHE_DIR": "envcache"}).cache_dir == tmp_path.parent / "envcache"
    assert load_settings(write(tmp_path, "cache:\n  dir: /abs/c\n"), environ={}).cache_dir == Path("/abs/c")


def test_missing_user_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_redacted_hides_the_secret():
    s = load_settings(environ={"SPOTIPY_CLIENT_SECRET": "s3cret", "SPOTIPY_CLIENT_ID": "abc"})
    red = s.redacted()
    assert red["spotify"]["client_secret"] == "***"
    assert red["spotify"]["client_id"] == "abc"
    assert s.spotify.client_secret == "s3cret"


def test_settings_are_read_only():
    s = load_settings(environ={})
    with pytest.raises(AttributeError):
        s.blend = 1


def test_example_config_is_valid():
    s = load_settings(Path(__file__).resolve().parents[1] / "config" / "example.yaml", environ={})
    assert s.user_file.name == "example.yaml"


def test_the_example_config_that_config_init_writes_changes_no_default():
    # `config init` writes config/example.yaml: its max_tracks 40 and max_per_artist 2 made a
    # new user's playlist 40 tracks, 2 per artist, where the README says 50 and 3 (the demo's
    # Electropop example lost 2 of its 10 new tracks)
    import yaml
    root = Path(__file__).resolve().parents[1] / "config"
    default, example = (yaml.safe_load((root / f"{n}.yaml").read_text(encoding="utf-8")) for n in ("default", "example"))

    def leaves(tree, path=()):
        for key, value in tree.items():
            yield from leaves(value, path + (key,)) if isinstance(value, dict) else [(path + (key,), value)]
    for path, value in leaves(example):
        if path == ("spotify", "client_id"):  # the placeholder you replace
            continue
        shipped = default
        for key in path:
            shipped = shipped[key]
        assert value == shipped, (".".join(path), value, shipped)


def test_default_settings_ignore_user_file_and_environment(monkeypatch):
    from recommender.config import default_settings
    monkeypatch.setenv("RECOMMENDER_CACHE_DIR", "/nowhere")
    s = default_settings()
    assert s.cache.dir is None and s.user_file is None


@pytest.mark.parametrize("text, key", [
    ("scorers:\n  content:\n    weight: .nan\n", "scorers.content.weight"),
    ("spotify:\n  timeout: .nan\n", "spotify.timeout"),
    ("moods:\n  valence_threshold: .nan\n", "moods.valence_threshold"),
    ("scorers:\n  year:\n    weight: .inf\n", "scorers.year.weight"),
    ("spotify:\n  timeout: 'nan'\n", "spotify.timeout"),
])
def test_a_number_that_is_not_finite_is_refused_naming_the_key(tmp_path, text, key):
    """NaN compares False with every bound, so `.nan` passed the checks and reached the
    blend (NaN scores) or requests (a NaN timeout); infinity is no weight either."""
    f = write(tmp_path, text)
    with pytest.raises(ConfigError, match=f"{key} must be a finite number") as err:
        load_settings(f, environ={})
    assert str(f) in str(err.value)


@pytest.mark.parametrize("value", ["--5", "²", "5.5"])
def test_a_whole_number_key_given_a_malformed_string_is_a_config_error(tmp_path, value):
    """A string that str.isdigit() accepts but int() does not ("--5" stripped of its
    minus signs, a superscript two) crashed with ValueError (exit 1)."""
    f = write(tmp_path, f"blend:\n  max_tracks: '{value}'\n")
    with pytest.raises(ConfigError, match="blend.max_tracks must be a whole number"):
        load_settings(f, environ={})


@pytest.mark.parametrize("url, said", [("http://[::1/v1/", "must be an http(s) URL"),
                                       ("http://127.0.0.1:99999/v1/", "has no port a computer can have"),
                                       ("http://127.0.0.1:abc/v1/", "has no port a computer can have")])
def test_a_malformed_url_is_a_config_error_naming_the_variable(url, said):
    """urlparse raised ValueError on an unclosed IPv6 bracket (exit 1); a port that is not
    a number in 0..65535 passed and failed later, inside the first request, and then was said
    not to be an http(s) URL, which it is."""
    with pytest.raises(ConfigError, match=re.escape(f"environment RECOMMENDER_SPOTIFY_API_URL: spotify.api_url {said}")):
        load_settings(environ={"RECOMMENDER_SPOTIFY_API_URL": url})


@pytest.mark.parametrize("var, key", [("RECOMMENDER_MUSICBRAINZ_URL", "enrich.musicbrainz_url"),
                                      ("RECOMMENDER_LISTENBRAINZ_API_URL", "listenbrainz.api_url"),
                                      ("RECOMMENDER_LISTENBRAINZ_LABS_URL", "listenbrainz.labs_url")])
@pytest.mark.parametrize("value", ["garbage", "ftp://example.org/ws/2/", "http://"])
def test_an_open_data_url_that_is_no_http_url_is_refused_when_the_config_is_loaded(tmp_path, var, key, value):
    """enrich.musicbrainz_url was only checked when MusicBrainz was first asked, after the
    Spotify pull of a refresh had run."""
    with pytest.raises(ConfigError) as err:
        load_settings(environ={var: value})
    assert str(err.value) == f"environment {var}: {key} must be an http(s) URL, got {value!r}"
    assert err.value.exit_code == 2
    section, name = key.split(".")
    path = write(tmp_path, f"{section}:\n  {name}: {value!r}\n")
    with pytest.raises(ConfigError, match=f"^{path}: line 2: {key} must be an http"):
        load_settings(path, environ={})


@pytest.mark.parametrize("text, key", [
    ("candidates:\n  blocklist_artists: [Nirvana, {name: Muse}]\n", "candidates.blocklist_artists"),
    ("candidates:\n  blocklist_tracks:\n    -\n    - Creep\n", "candidates.blocklist_tracks"),
])
def test_a_blocklist_entry_that_is_no_id_or_name_is_refused_naming_the_key(tmp_path, text, key):
    """A mapping blocked nothing and an empty entry blocked an artist or track named 'None',
    both silently."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert str(err.value).startswith(f"{path}: line 2: {key} must be a list of ids or names, got ")
    assert load_settings(write(tmp_path, "candidates:\n  blocklist_artists: [Nirvana, 1999]\n"), environ={})


@pytest.mark.parametrize("where", ["file", "environment", "config path"])
def test_a_path_in_the_home_folder_of_an_unknown_user_is_a_config_error(tmp_path, where):
    """`~nouser/...` (a typo for `~/...`) made pathlib raise RuntimeError wherever the path was
    first used: exit 1, 'please report it'."""
    odd = "~no-such-user-here/recommend"
    with pytest.raises(ConfigError) as err:
        if where == "file":
            load_settings(write(tmp_path, f"cache:\n  dir: {odd}\n"), environ={})
        elif where == "environment":
            load_settings(environ={"RECOMMENDER_CACHE_DIR": odd})
        else:
            load_settings(environ={"RECOMMENDER_CONFIG": odd + "/config.yaml"})
    assert "home folder of a user this system does not know" in str(err.value) and odd in str(err.value)
    assert err.value.exit_code == 2


@pytest.mark.parametrize("text, line, message", [
    # a type error deep in a section, below comments and other keys
    ("# mine\nblend:\n  threshold: 0.2\n\n  max_tracks: 2.5\n", 5, "blend.max_tracks must be a whole number, got 2.5"),
    # a rule checked on the merged settings (a bound), not while reading
    ("tune:\n  folds: 0\n", 2, "tune.folds must be between 1 and 20, got 0"),
    # below 0, the whole range (it said "must not be negative" of -5, and 0 was refused next)
    ("blend:\n  max_tracks: -5\n", 2, "blend.max_tracks must be between 1 and 10000, got -5"),
    ("evaluate:\n  top_n: -1\n", 2, "evaluate.top_n must be between 1 and 1000, got -1"),
    # a bound the value may not reach is said so: one of them, or both
    ("blend:\n  artist_mix: 1\n", 2, "blend.artist_mix must be between 0 and 1 (less than 1), got 1"),
    ("evaluate:\n  hide_fraction: 0\n", 2,
     "evaluate.hide_fraction must be between 0 and 1 (more than 0, less than 1), got 0"),
    ("scorers:\n  content:\n    weight: 1\n  year:\n    weight: -2\n", 5, "scorers.year.weight must not be negative"),
    # an unknown key, and a section that is no mapping
    ("blend:\n  threshold: 0.2\n  treshold: 1\n", 3, "unknown key blend.treshold"),
    ("playlist: 3\n", 1, "playlist must be a mapping"),
    # a source switched off as if it were a switch (it said only "must be a mapping, got false")
    ("discovery:\n  similar_artists: false\n", 2, "discovery.similar_artists must be a mapping, got false; to turn "
                                                   "it off, write `discovery.similar_artists.enabled: false`"),
])
def test_a_bad_value_in_a_file_is_named_with_its_line(tmp_path, text, line, message):
    """A config error named the file and the key but not the line: a long file with the same key
    name in several sections (weight, artist_weight) left the user searching."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert str(err.value).startswith(f"{path}: line {line}: {message}")


def test_a_value_from_the_environment_is_named_by_its_variable_not_by_a_line_of_the_file(tmp_path):
    """The file sets the key on line 2, the environment overrides it with a bad value: the error
    is the environment's, with no line of a file that is not to blame."""
    path = write(tmp_path, "enrich:\n  musicbrainz_url: http://127.0.0.1:1/ws/2/\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={"RECOMMENDER_MUSICBRAINZ_URL": "garbage"})
    assert str(err.value) == ("environment RECOMMENDER_MUSICBRAINZ_URL: enrich.musicbrainz_url must be an "
                              "http(s) URL, got 'garbage'")


def test_a_negative_weight_is_shown_as_written(tmp_path):
    """`weight: -1` was refused as "got -1.0", a number the file does not hold."""
    f = write(tmp_path, "scorers:\n  content:\n    weight: -1\n")
    with pytest.raises(ConfigError) as err:
        load_settings(f, environ={})
    assert str(err.value).endswith("scorers.content.weight must not be negative, got -1")


@pytest.mark.parametrize("template, said", [
    ("Mix {mood}", "names {mood}, which it does not know"),
    ("{ oops", "has a { or } that opens or closes nothing"),
    ("oops }", "has a { or } that opens or closes nothing"),
    ("x {0}", "has a {} or {0} without a name"),
    ("{date.year}", "asks {date} or {weights} for a part they do not have"),
    ("{weights!z}", "has a conversion or format after ! or : that it cannot apply"),
    ("{date:%Q}", "has a conversion or format after ! or : that it cannot apply"),
])
def test_a_bad_description_template_is_told_in_words_of_what_is_wrong(template, said):
    from recommender.config import template_problem
    assert template_problem(template) == (f"{template!r} {said}: it may use {{date}} and {{weights}}, and "
                                          "{{ }} for a literal brace")
    assert template_problem("{{mine}} on {date}, {weights}") is None


def test_a_count_that_must_not_be_negative_takes_0_and_refuses_minus_1(tmp_path):
    """0 is how a count is turned off (`refresh.discovery_artists: 0`, `spotify.max_retries: 0`)."""
    from recommender.config import NON_NEGATIVE
    for dotted in NON_NEGATIVE:
        section, _, key = dotted.rpartition(".")
        *outer, inner = section.split(".")
        text = "".join(f"{'  ' * i}{part}:\n" for i, part in enumerate([*outer, inner]))
        indent = "  " * (len(outer) + 1)
        assert load_settings(write(tmp_path, f"{text}{indent}{key}: 0\n"), environ={}).get_path(dotted) == 0
        with pytest.raises(ConfigError, match=f"{dotted} must (not be negative|be between)"):
            load_settings(write(tmp_path, f"{text}{indent}{key}: -1\n"), environ={})


def test_a_share_takes_0_and_1_and_refuses_what_is_past_them(tmp_path):
    from recommender.config import BOUNDS, UNIT_INTERVAL
    for dotted in sorted(UNIT_INTERVAL - set(BOUNDS)):  # (evaluate.hide_fraction may be neither: above)
        section, key = dotted.split(".")
        for value in (0, 1):
            assert load_settings(write(tmp_path, f"{section}:\n  {key}: {value}\n"), environ={}).get_path(dotted) == value
        for value in (-0.1, 1.1):
            with pytest.raises(ConfigError, match=f"line 2: {dotted} must be between 0 and 1, got {value}"):
                load_settings(write(tmp_path, f"{section}:\n  {key}: {value}\n"), environ={})


def test_a_max_tracks_below_the_default_min_tracks_is_named_at_its_own_line(tmp_path):
    """The file set only blend.max_tracks: the error names its line, not the defaults' min_tracks."""
    f = write(tmp_path, "# mine\nblend:\n  max_tracks: 3\n")
    with pytest.raises(ConfigError) as err:
        load_settings(f, environ={})
    assert str(err.value) == f"{f}: line 3: blend.min_tracks (10) is larger than blend.max_tracks (3)"


def test_a_cache_dir_of_spaces_alone_in_a_config_file_is_refused_naming_it(tmp_path):
    """`cache.dir: "   "` put the data in a folder named with three spaces beside the file (the
    same value in RECOMMENDER_CACHE_DIR counts as unset, and `schedule.log_file: "   "` is refused)."""
    f = write(tmp_path, 'cache:\n  dir: "   "\n')
    with pytest.raises(ConfigError) as err:
        load_settings(f, environ={})
    assert str(err.value) == f"{f}: cache.dir must name a folder (~/music-data), or be left out for the standard places, got '   '"
    assert not (tmp_path / "   ").exists()
