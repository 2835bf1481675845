"""Settings: package defaults < user YAML < environment < command-line overrides.

``config/default.yaml`` (shipped in the package as ``recommender/default.yaml``) lists every key;
a user file may override any subset (where each file lives: ``paths``). Values are
checked against the default's type; a few keys have extra rules (weights, enums, URLs).
Every error names the file and the dotted key path, on one line.
"""

from __future__ import annotations

import copy
import datetime
import functools
import math
import os
import re
import shlex
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlparse

import yaml

from . import paths
from .errors import ConfigError
from .wording import and_list

DEFAULT_FILE = paths.default_config_path()

ENVIRONMENT = {
    "SPOTIPY_CLIENT_ID": "spotify.client_id",
    "SPOTIPY_CLIENT_SECRET": "spotify.client_secret",
    "SPOTIPY_REDIRECT_URI": "spotify.redirect_uri",
    "RECOMMENDER_SPOTIFY_API_URL": "spotify.api_url",
    "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": "spotify.accounts_url",
    "RECOMMENDER_CACHE_DIR": "cache.dir",
    "RECOMMENDER_MUSICBRAINZ_URL": "enrich.musicbrainz_url",
    "RECOMMENDER_LISTENBRAINZ_API_URL": "listenbrainz.api_url",
    "RECOMMENDER_LISTENBRAINZ_LABS_URL": "listenbrainz.labs_url",
    "LISTENBRAINZ_TOKEN": "listenbrainz.token",
}
SECRET_KEYS = {"spotify.client_secret", "listenbrainz.token"}
# Keys whose default is null but whose value, when set, must be a string.
NULLABLE_STRINGS = {"spotify.client_id", "spotify.client_secret", "cache.dir", "listenbrainz.token",
                    "enrich.user_agent", "enrich.contact"}
ENUMS = {"blend.normalisation": {"rank", "minmax"}, "discovery.similar_artists.via": {"top_recordings", "lb_radio"},
         "scorers.coverage.per": {"unseen", "seeds"}}
PATH_KEYS = {"cache.dir", "schedule.log_file"}  # expanded like a shell would (~ is a home folder)
UNIT_INTERVAL = {"blend.threshold", "evaluate.hide_fraction", "candidates.new_share", "search.min_score",
                 "moods.classifier_margin"}
# Bounds of numeric keys (low, high; None = open), checked on the merged settings so that a value
# that passes the type check cannot crash a command later. "*" matches one level of keys.
# Strict bounds: (value, False) means the bound itself is excluded.
# an evaluation's N and tune's folds: more is no better measure (N past a playlist's length counts
# nothing more), only memory (100,000,000 was an out-of-memory kill) and hours
MAX_TOP_N, MAX_FOLDS = 1000, 20
# Upper bounds no sensible value reaches, past which a value crashed a command (a day count of
# 1e12 past pandas' dates, a timeout of 1e10 s past the platform's time_t, weights of 1e308
# overflowing their sum): a hundred years, a week of seconds, a million times another weight;
# and a million of anything counted (albums per artist, retries, clusters: 10**20 albums per artist
# crashed a run past sys.maxsize)
MAX_DAYS, MAX_SECONDS, MAX_WEIGHT, MAX_COUNT = 36500, 7 * 86400, 1e6, 1_000_000
SANITY = {MAX_DAYS, MAX_SECONDS, MAX_WEIGHT, MAX_COUNT, MAX_DAYS * 24}

BOUNDS: dict[str, tuple[Any, Any]] = {
    "spotify.timeout": ((0, False), MAX_SECONDS), "spotify.max_retries": (0, MAX_COUNT), "spotify.max_retry_wait": (0, MAX_SECONDS),
    "spotify.max_total_wait": (0, MAX_SECONDS),
    "cache.max_age_hours": (0, MAX_DAYS * 24),
    "listenbrainz.timeout": ((0, False), MAX_SECONDS), "discovery.max_seconds": ((0, False), MAX_SECONDS),
    "refresh.discovery_artists": (0, MAX_COUNT), "refresh.discovery_albums_per_artist": (0, MAX_COUNT),
    "refresh.discovery_shared_albums": (0, MAX_COUNT),
    "refresh.discovery_recheck_days": (0, MAX_DAYS), "refresh.saved_reread_days": (0, MAX_DAYS),
    "seeds.time_range_weights.*": (0, MAX_WEIGHT), "seeds.rank_decay": (0, None), "seeds.recent_days": (0, MAX_DAYS),
    "seeds.saved_weight": (0, MAX_WEIGHT),
    "scorers.content.fields.*": (0, MAX_WEIGHT), "scorers.content.min_df": (1, MAX_COUNT),
    "scorers.collaborative.artist_weight": (0, MAX_WEIGHT),
    "scorers.popularity.top_weight": (0, MAX_WEIGHT), "scorers.popularity.rank_decay": (0, None),
    "scorers.popularity.saved_weight": (0, MAX_WEIGHT), "scorers.popularity.spotify_weight": (0, MAX_WEIGHT),
    "scorers.audio.k": (0, MAX_COUNT),
    "scorers.coverage.artist_weight": (0, MAX_WEIGHT), "scorers.coverage.album_weight": (0, MAX_WEIGHT),
    "scorers.coverage.smoothing": (0, None), "scorers.release.smoothing": (0, None),
    "scorers.year.bandwidth": (0, 1000),  # years: at 1,000 every seed counts alike already
    "scorers.opendata.track_weight": (0, MAX_WEIGHT), "scorers.opendata.artist_weight": (0, MAX_WEIGHT),
    "scorers.opendata.listen_weight": (0, MAX_WEIGHT),
    # (a beta of 1e300 overflowed a power of the artists' degrees; a sensible one is 0 to 1)
    "scorers.artist_walk.alpha": ((0, False), None), "scorers.artist_walk.beta": (0, 10),
    "scorers.artist_walk.shrink": (0, None),
    "blend.max_tracks": (1, 10000), "blend.max_per_artist": (0, MAX_COUNT), "blend.min_tracks": (0, 10000),
    "blend.artist_mix": (0, (1, False)),
    "evaluate.hide_fraction": ((0, False), (1, False)), "evaluate.min_tracks": (2, MAX_COUNT), "evaluate.top_n": (1, MAX_TOP_N),
    "tune.folds": (1, MAX_FOLDS),
    # (10**20 backups hung every run, a file looked for per backup)
    "schedule.log_max_bytes": (0, None), "schedule.log_backups": (0, 1000), "schedule.enrich_limit": (0, MAX_COUNT),
    "enrich.rate": ((0, False), None), "enrich.min_score": (0, 100), "enrich.timeout": ((0, False), MAX_SECONDS),
    "enrich.max_retries": (0, MAX_COUNT), "enrich.max_retry_wait": (0, MAX_SECONDS), "enrich.save_every": (1, MAX_COUNT),
    "enrich.retry_misses_days": (0, MAX_DAYS), "enrich.refresh_days": (0, MAX_DAYS),
    "moods.valence_threshold": (0, 1), "moods.energy_threshold": (0, 1), "moods.max_clusters": (2, MAX_COUNT),
    "moods.min_audio_share": (0, 1), "moods.seed_bias": (0, 1), "moods.classifier_c": ((0, False), None),
    "moods.holdout": (0, (1, False)),
    "evaluate.seed": (0, None),  # numpy's generators take no negative seed (exit 1 in evaluate and tune)
    "scorers.*.weight": (None, MAX_WEIGHT),  # (negative ones are refused first, by _validate)
    "listenbrainz.max_retry_wait": (None, MAX_SECONDS), "similar.audio_weight": (None, MAX_WEIGHT),
    "discovery.ttl_similar_artists_days": (None, MAX_DAYS), "discovery.ttl_recordings_days": (None, MAX_DAYS),
    "discovery.request_budget": (None, MAX_COUNT), "discovery.search_fallback": (None, MAX_COUNT),
    "discovery.similar_artists.*": (None, MAX_COUNT), "discovery.similar_recordings.*": (None, MAX_COUNT),
    "listenbrainz.max_retries": (None, MAX_COUNT), "similar.same_artist": (None, MAX_COUNT),
}
NGRAM_KEYS = ("scorers.content.word_ngrams", "scorers.content.char_ngrams")


class Settings(Mapping):
    """Read-only nested settings with attribute access: ``settings.blend.threshold``.
    ``relative_cache_dir``: the user file's relative ``cache.dir`` as written there, before
    ``_anchor_to_file`` made it the folder beside the file (``old_relative_cache_dir``)."""

    def __init__(self, data: Mapping[str, Any], path: str = "", sources: Mapping[str, str] | None = None,
                 user_file: Path | None = None, relative_cache_dir: str | None = None) -> None:
        object.__setattr__(self, "_data", MappingProxyType(dict(data)))
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "sources", sources or {})
        object.__setattr__(self, "user_file", user_file)
        object.__setattr__(self, "relative_cache_dir", relative_cache_dir)

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        if isinstance(value, Mapping):
            return Settings(value, f"{self._path}{key}.", self.sources, self.user_file)
        return value

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"no setting {self._path}{key}") from None

    def __setattr__(self, key, value):
        raise AttributeError("Settings are read-only")

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def get_path(self, dotted: str) -> Any:
        node: Any = self
        for part in dotted.split("."):
            node = node[part]
        return node

    def to_dict(self) -> dict:
        return thaw(self._data)

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Settings":
        """A new Settings with dotted-key overrides applied and validated."""
        data = self.to_dict()
        defaults = _read_defaults()
        sources = dict(self.sources)
        for dotted, value in overrides.items():
            _set_path(data, dotted, value, defaults, "override")
            sources[dotted] = "override"
        _validate(data, sources)
        return Settings(data, sources=sources, user_file=self.user_file, relative_cache_dir=self.relative_cache_dir)

    def with_layer(self, path: Path | str) -> "Settings":
        """A new Settings with the keys of the settings file ``path`` on top, checked as a user
        file's are (an unknown key or bad value names the file and line): the demo's own file
        (``paths.demo_settings``) over yours."""
        path = Path(path)
        data = self.to_dict()
        sources = dict(self.sources)
        lines: dict[str, int] = {}
        _merge(data, _read_yaml(path, "", lines), _read_defaults(), str(path), sources, lines=lines)
        _validate(data, sources, {str(path): lines})
        return Settings(data, sources=sources, user_file=self.user_file, relative_cache_dir=self.relative_cache_dir)

    def redacted(self) -> dict:
        """The merged settings as a dict with secrets, and the password of a URL (a service
        address "http://user:secret@host/"), replaced by '***'."""
        from .safetext import hide_url_passwords

        def hidden(node: Any) -> Any:
            if isinstance(node, dict):
                return {k: hidden(v) for k, v in node.items()}
            if isinstance(node, list):
                return [hidden(v) for v in node]
            return hide_url_passwords(node) if isinstance(node, str) else node
        data = hidden(self.to_dict())
        for dotted in SECRET_KEYS:
            node = data
            *parents, last = dotted.split(".")
            for p in parents:
                node = node[p]
            if node.get(last):
                node[last] = "***"
        return data

    @cached_property
    def data_dirs(self) -> "paths.DataDirs":
        """Where state and re-fetchable data live (``paths.resolve_data_dirs``), resolved
        once per Settings (``with_overrides`` makes a new one)."""
        return paths.resolve_data_dirs(self._root_get("cache", "dir"))

    @property
    def cache_dir(self) -> Path:
        """The state directory: manifest, login token, logs, run history, lock (named after
        the ``cache.dir`` key, which sets both directories)."""
        return self.data_dirs.state

    @property
    def frames_dir(self) -> Path:
        """Re-fetchable data: cached frames, open-data answers, search indexes (the user cache
        dir; ``cache_dir`` when ``cache.dir`` is set)."""
        return self.data_dirs.cache

    def _root_get(self, section: str, key: str) -> Any:
        return self._data[section][key]


def weights_text(weights: Mapping[str, float], factors: Mapping[str, float] | None = None) -> str:
    """``content 1, artist_walk 1.15 x0.40``: blend weights as the CLI's titles, the HTML report
    and the playlist description print them; ``factors``: each scorer's ``weight_factor`` where
    it is not 1."""
    factors = factors or {}
    return ", ".join(f"{k} {float(v):g}" + (f" x{factors[k]:.2f}" if k in factors else "")
                     for k, v in weights.items())


# evaluate's table, its HTML report and the web app's Weights page say the scorers at weight 0 alike
# (not "or let tune search the weights": tune searches only the scorers that have a weight)
TURN_ON = "set scorers.NAME.weight above 0; `recommend tune` then searches its weight too"
# `tune --report`'s: tune searched the weights (of the scorers with one: tune.tune) and left these at 0
TURN_ON_TUNED = "set scorers.NAME.weight yourself: tune searches only scorers with a weight, and may leave one at 0"


def weight_cell(weights: Mapping[str, float], name: str) -> str:
    """A row's weight as evaluate's table, the HTML report and the Weights page show it: the
    blend's row (no scorer of ``weights``) none, a scorer at weight 0 ``0 (off)``."""
    if name not in weights:
        return ""
    return "0 (off)" if not weights[name] else f"{float(weights[name]):g}"


def curve_label(weights: Mapping[str, float], name: str) -> str:
    """A precision curve's name in the HTML report and on the Runs page: a scorer at weight 0
    (drawn dotted: each scorer alone, not in the blend) ``NAME (off)``."""
    return f"{name} (off)" if name in weights and not weights[name] else name


def off_line(weights: Mapping[str, float], turn_on: str = TURN_ON) -> str:
    """The line under those tables naming the scorers at weight 0 ('' when none is): their rows
    are each scorer alone, what it would bring, not what it brings; ``turn_on``: how to use one."""
    off = [name for name, w in weights.items() if not w]
    if not off:
        return ""
    one = len(off) == 1
    names = and_list(off)
    rows_say = "its row shows how well it" if one else "their rows show how well each"
    return (f"{names} {'is' if one else 'are'} off (weight 0), not in the blend; {rows_say} would do "
            f"alone (to use one, {turn_on})")


def thaw(value: Any) -> Any:
    """A settings value as plain data: nested mappings (``Settings`` too) as dicts, tuples as lists."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def _read_defaults() -> dict:
    """The shipped defaults, read as package data (importlib.resources): a copy of the mapping,
    parsed once per text (22 ms each time: every settings load, override and layer parsed it
    again, 5 % of the test suite's time and a good part of a quick command's)."""
    try:
        text = paths.default_config_text()
    except OSError as exc:
        raise ConfigError(f"{DEFAULT_FILE}: cannot read the shipped defaults ({exc}); reinstall the package") from None
    return copy.deepcopy(_parsed_defaults(text))


@functools.lru_cache(maxsize=1)
def _parsed_defaults(text: str) -> dict:
    return _parse_yaml(text, DEFAULT_FILE)


MAX_FILE_BYTES = 16 * 2**20  # a settings file is a few kB; --config naming a video or /dev/zero read it whole


def _read_yaml(path: Path, named_by: str = "", lines: dict[str, int] | None = None) -> dict:
    """``named_by``: ' (named by RECOMMENDER_CONFIG)' when the variable chose the file (a file
    not found said nothing of the variable that named it); ``lines``: see ``_parse_yaml``."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MB, so no settings file "
                              f"(one is a few kB){named_by}; check the path")
        text = raw.decode("utf-8")
    except FileNotFoundError:
        if Path(path).name == "-":  # `--config -` looked for a file named "-" in the current folder
            raise ConfigError(f"{path}: file not found{named_by} ('-' is a file name here: "
                              "--config /dev/stdin reads the settings from standard input)") from None
        raise ConfigError(f"{path}: file not found{named_by}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); "
                          "save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror}){named_by}") from None
    return _parse_yaml(text, path, lines)


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, but a key given twice in one mapping is an error: a second
    `blend:` section further down silently replaced the first one's settings."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor`, PyYAML's own business
                    continue
                key = self.construct_object(key_node, deep=True)
                mark = key_node.start_mark
                try:  # by place in the text, not line: `content: {weight: 1, weight: 2}` is one line
                    earlier = first.setdefault(key, mark)
                except TypeError:  # an unhashable key: the constructor says what is wrong with it
                    continue
                if earlier.index != mark.index:
                    where = "earlier on the same line" if earlier.line == mark.line else f"of line {earlier.line + 1}"
                    raise yaml.constructor.ConstructorError(
                        None, None, f"repeats key {key!r} {where}: the settings there would be "
                                    "lost; merge the two", mark)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        """YAML 1.2's whole numbers, as ruamel (which writes the file) reads them: `040` is 40,
        not PyYAML's octal 32 (while `090` was 90), `0o40` is octal; `1:30` is no number (YAML
        1.1's base 60), so the key's check says what it wants."""
        text = self.construct_scalar(node).replace("_", "")
        sign, body = (-1, text[1:]) if text[:1] == "-" else (1, text.lstrip("+"))
        base = {"0x": 16, "0o": 8}.get(body[:2].lower(), 10)
        return sign * int(body[2:] if base != 10 else body, base)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _UniqueKeyLoader.construct_yaml_int)
_UniqueKeyLoader.yaml_implicit_resolvers = {  # YAML 1.2's int pattern in place of 1.1's
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:int"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+)$"), list("-+0123456789"))


def _key_lines(node: Any, prefix: str = "", out: dict[str, int] | None = None) -> dict[str, int]:
    """The line (1-based) of every key of a composed YAML document, by dotted path, so that a
    value error can say where the value is (``prefix.key``: the line of ``key:``)."""
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                dotted = f"{prefix}{_key_text(key_node)}"
                out.setdefault(dotted, key_node.start_mark.line + 1)
                _key_lines(value_node, dotted + ".", out)
    return out


MAX_VALUES = 100_000  # a settings file holds a few hundred; aliases of aliases multiply theirs


def _too_many_values(node: Any) -> bool:
    """Whether the composed document ``node`` holds more than ``MAX_VALUES`` values, its aliases
    expanded: ten `*a` in `&b`, ten `*b` in `&c`... (a few hundred bytes) made the key walk and
    an error's value billions long, and the command hung."""
    count, stack = 0, [node]
    while stack:
        count += 1
        if count > MAX_VALUES:
            return True
        n = stack.pop()
        if isinstance(n, yaml.MappingNode):
            stack.extend(part for pair in n.value for part in pair)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return False


def _key_text(node: yaml.ScalarNode) -> str:
    """A key as ``_merge`` names it: YAML's value of it (`on` is True, `~` None, `040` 40), not
    its text, so that an unknown key of another type is found on its line."""
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    loader = _UniqueKeyLoader("")
    try:
        return str(loader.construct_object(node, deep=True))
    except (yaml.YAMLError, ValueError):
        return node.value
    finally:
        loader.dispose()


def _indented_under_a_value(text: str, line: int) -> bool:
    """Is line ``line`` (0-based) of ``text`` indented more than the line of content above it,
    which is a key with a value ("  max_tracks: 30" over "   max_per_artist: 2")? PyYAML then
    says "mapping values are not allowed here", as for a second ': ' on one line."""
    rows = text.split("\n")
    if line >= len(rows):
        return False
    above = next((r for r in reversed(rows[:line]) if r.strip() and not r.lstrip().startswith("#")), None)
    if above is None:
        return False
    indent = len(rows[line]) - len(rows[line].lstrip(" "))
    return indent > len(above) - len(above.lstrip(" ")) and bool(re.match(r"^\s*[^#:]+:\s+[^#\s]", above))


def _parse_yaml(text: str, path: Path, lines: dict[str, int] | None = None) -> dict:
    """The YAML mapping of ``text``; ``lines``, when given, receives the line of every key
    (``_key_lines``)."""
    try:
        loader = _UniqueKeyLoader(text)  # (checks the characters: a ReaderError)
        try:
            node = loader.get_single_node()
            if node is not None and _too_many_values(node):
                raise ConfigError(f"{path}: its aliases (*name) repeat values into more than {MAX_VALUES:,} of them, "
                                  "which no settings file holds (one holds a few hundred); write the values out")
            if lines is not None:
                lines.update(_key_lines(node))
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as exc:  # PyYAML's str() of it has no line: "invalid YAML" alone
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ConfigError(f"{path}: line {text[:exc.position].count(chr(10)) + 1} has the character "
                          f"U+{code:04X}, which YAML does not allow; delete it") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        context, start = getattr(exc, "context", None) or "", getattr(exc, "context_mark", None)
        if "'\\t'" in problem and mark:  # PyYAML: "found character '\t' that cannot start any token"
            problem = (f"has a tab (column {mark.column + 1}): YAML indents, and separates a value from its key "
                       "or comment, with spaces only; replace the tab with spaces")
        elif "double-quoted scalar" in context and "escape" in problem:  # "\q", "C:\Users": closed, not "never closed"
            problem += (r" (in double quotes a backslash starts an escape: write \\ for one, or put the text in "
                        "single quotes)")
        elif "quoted scalar" in context and start:  # PyYAML named the end of the file
            where, problem = f" line {start.line + 1}", "has a quote that is never closed"
        elif problem.startswith("found character") and "cannot start any token" in problem:
            problem += " (a value starting with @, ` or % needs quotes)"
        elif problem == "mapping values are not allowed here" and mark and _indented_under_a_value(text, mark.line):
            problem += (" (the line is indented more than the key above it, which has a value: indent it as "
                        "that key is)")
        elif problem == "mapping values are not allowed here":
            problem += (" (a second ': ' on the line, whose value then needs quotes, or a key above it "
                        "without its ':')")
        elif problem == "but found another document":  # PyYAML: "expected a single document ... but found ..."
            problem = ("starts a second YAML document (a --- line after settings): a settings file is one document; "
                       "delete that --- line, and merge the sections below it with the ones above (each once)")
        elif problem.startswith("expected <block end>"):
            problem += (" (text after a closing quote: write it's as \"it's\")" if "'<scalar>'" in problem
                        else " (the line is indented differently from the lines above it)")
        raise ConfigError(f"{path}:{where} {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return data


def _shown(value: Any, dotted: str = "") -> str:
    """``value`` as an error message shows it: in YAML's words (null, true, false, not Python's
    None, True, False), and never the text of a secret (``dotted`` a secret key or a section
    holding one: a type error about the client secret printed the secret)."""
    if dotted and any(key == dotted or key.startswith(dotted + ".") for key in SECRET_KEYS):
        return f"{_type_name(value)}, not shown ({dotted} holds a secret)"
    if value is None or isinstance(value, bool):
        return yaml.safe_dump(value).split("\n")[0]  # null / true / false
    if isinstance(value, datetime.date):  # `name: 2026-11-30`, not datetime.date(2026, 11, 30)
        return value.isoformat()
    if isinstance(value, list):  # `[true, 2]`, not [True, 2]
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return repr(value)


def _type_name(v: Any) -> str:
    return {bool: "true/false", int: "a whole number", float: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(v), type(v).__name__)


def _known_home(value: Any, origin: str, dotted: str = "the path") -> None:
    """A path starting ``~user`` whose user does not exist is a config error (pathlib raised
    RuntimeError, an exit 1 'please report it', wherever the path was first used)."""
    if isinstance(value, (str, Path)) and str(value).startswith("~"):
        try:
            Path(value).expanduser()
        except RuntimeError:
            raise ConfigError(f"{origin}: {dotted} starts with the home folder of a user this system does not "
                              f"know, got {str(value)!r}") from None


def known_config_homes(config_file: Path | str | None, environ: Mapping[str, str] | None = None) -> None:
    """ConfigError for a ``--config`` or ``RECOMMENDER_CONFIG`` in the home folder of a user
    this computer does not know (``~nouser/c.yaml``), before anything expands it (Python's
    RuntimeError was exit 1): every command's settings, and ``config init``'s file."""
    _known_home(config_file, "--config")
    _known_home(paths.config_env(environ), f"environment {paths.CONFIG_ENV}")


# half of a character: a `"\ud800"` escape in the file, or a byte of a variable that is not
# UTF-8 (Python keeps it as U+DC80..U+DCFF); no file, log or request can write it
_SURROGATE = re.compile("[\ud800-\udfff]")


def _coerce(default: Any, value: Any, dotted: str, origin: str) -> Any:
    """Check ``value`` against the type of ``default``; return it (ints widened to float)."""
    if any(isinstance(v, str) and _SURROGATE.search(v) for v in (value if isinstance(value, list) else [value])):
        # (it stopped a run later with "unexpected error: UnicodeEncodeError", the first time it was logged)
        raise ConfigError(f"{origin}: {dotted} must be UTF-8 text, got {_shown(value, dotted)}, which holds half "
                          "of a character or a byte of another encoding (a \\udXXX); write it in UTF-8")
    if dotted in PATH_KEYS:
        _known_home(value, origin, dotted)
    if dotted in NULLABLE_STRINGS:
        if value is None or isinstance(value, str):
            return value
        raise ConfigError(f"{origin}: {dotted} must be a string, got {_shown(value, dotted)}{_quote_hint(value)}")
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, float):
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                pass
        if number is not None:
            if math.isfinite(number):  # .nan passes every bound check below (NaN < 0 is False)
                return number
            raise ConfigError(f"{origin}: {dotted} must be a finite number, got {value!r}")
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:  # "--5", "²": a config error below, not a crash
                pass
            try:  # "1e3": YAML 1.1 reads an exponent without a dot as text
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, float) and value.is_integer():  # 40.0 and 1e3 are whole numbers
            return int(value)
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
    elif isinstance(default, list):
        if isinstance(value, list):
            return value
    elif default is None:
        return value
    hint = _quote_hint(value) if isinstance(default, str) else ""
    raise ConfigError(f"{origin}: {dotted} must be {_type_name(default)}, got {_shown(value, dotted)}{hint}")


def _quote_hint(value: Any) -> str:
    """Why YAML made a number or true/false of what was meant as text, for a key that wants text."""
    if isinstance(value, bool):
        return "; YAML reads a bare yes, no, on, off, true or false as true/false: put the text in quotes"
    if isinstance(value, (int, float)):
        return "; YAML reads it as a number: put the text in quotes"
    if isinstance(value, datetime.date):
        return "; YAML reads it as a date: put the text in quotes"
    return ""


# words a user guesses for a key that has another name: `playlist.size: 30` is blend.max_tracks
_OTHER_NAMES = dict.fromkeys(("size", "length", "tracks", "limit", "count", "n_tracks", "num_tracks",
                              "number_of_tracks", "playlist_size"), "max_tracks")


def _did_you_mean(key: Any, defaults: dict, prefix: str) -> str:
    """' (did you mean blend.max_tracks?)' for a typo'd key, for a key in the wrong section
    (``max_tracks`` at the top, ``blend.new_share``) when one section has it, or for another
    name of one (``playlist.size``); else the keys the section takes, when it has few."""
    import difflib
    close = difflib.get_close_matches(str(key).lower(), [str(k) for k in defaults], n=1, cutoff=0.75)
    if close:
        return f" (did you mean {prefix}{close[0]}?)"
    name = str(key).lower().replace("-", "_").replace(" ", "_")
    if name == "private":  # the opposite of the key there is: "did you mean public?" would invert it
        return " (the managed playlist is private unless playlist.public is true)"
    every = _all_keys(_read_defaults())
    # "weights": each scorer's "weight"; "size": blend.max_tracks
    for leaf in dict.fromkeys((name, name.removesuffix("s"), _OTHER_NAMES.get(name, name))):
        elsewhere = [dotted for dotted in every if dotted.rsplit(".", 1)[-1] == leaf]
        if len(elsewhere) == 1:
            return f" (did you mean {elsewhere[0]}?)"
        # one per entry of a section (scorers.content.weight, scorers.collaborative.weight, ...)
        sections = {dotted.split(".")[0] for dotted in elsewhere if dotted.count(".") == 2}
        if len(elsewhere) > 1 and len(sections) == 1 and all(d.count(".") == 2 for d in elsewhere):
            (section,) = sections
            each = section.removesuffix("s")
            return f" (did you mean {section}.<name>.{leaf}? one per {each}: {elsewhere[0]}, ...)"
    if prefix and 0 < len(defaults) <= 8 and not any(isinstance(v, dict) for v in defaults.values()):
        return f" ({prefix.rstrip('.')} takes {', '.join(map(str, defaults))})"
    return ""


def _all_keys(data: dict, prefix: str = "") -> list[str]:
    """Every dotted key of ``data``, sections included."""
    out = []
    for key, value in data.items():
        out.append(prefix + key)
        if isinstance(value, dict):
            out.extend(_all_keys(value, f"{prefix}{key}."))
    return out


def _at(origin: str, lines: Mapping[str, int] | None, dotted: str) -> str:
    """``origin`` (a file, an environment variable), with the key's line when it is known."""
    line = (lines or {}).get(dotted)
    return f"{origin}: line {line}" if line else origin


def _merge(base: dict, over: dict, defaults: dict, origin: str, sources: dict, prefix: str = "",
           lines: Mapping[str, int] | None = None) -> None:
    """Merge ``over`` into ``base`` key by key, each value checked (``_coerce``) against
    ``defaults``; ``sources`` records ``origin`` per key; ``lines``: each key's line in the
    file ``origin`` names, for the errors."""
    for key, value in over.items():
        dotted = f"{prefix}{key}"
        here = _at(origin, lines, dotted)
        if isinstance(key, bool) or key is None:  # `on:`, `~:` are YAML's true and null: "unknown key True"
            read = "a bare yes, no, on or off as true or false" if key is not None else "a bare ~ as null"
            turn = f"; to turn it on or off, write `{prefix}enabled: true` or `false`" if "enabled" in defaults else ""
            raise ConfigError(f"{here}: unknown key {prefix}{_shown(key)} (YAML reads {read}){turn}")
        if not isinstance(key, str) or key not in defaults:
            raise ConfigError(f"{here}: unknown key {dotted}{_did_you_mean(key, defaults, prefix)}")
        if isinstance(defaults[key], dict):
            if value is None:  # a section whose keys are all commented out: nothing to change
                continue
            if not isinstance(value, dict):
                first = value.split()[0] if isinstance(value, str) and value.split() else ""
                colon = f"; write `{first}: ...`, a colon and a space after the key" if first in defaults[key] else ""
                if isinstance(value, bool) and "enabled" in defaults[key]:  # `similar_artists: false`
                    colon = f"; to turn it {'on' if value else 'off'}, write `{dotted}.enabled: {str(value).lower()}`"
                raise ConfigError(f"{here}: {dotted} must be a mapping, got {_shown(value, dotted)}{colon}")
            _merge(base[key], value, defaults[key], origin, sources, dotted + ".", lines)
        else:
            base[key] = _coerce(defaults[key], value, dotted, here)
            sources[dotted] = origin


def _set_path(data: dict, dotted: str, value: Any, defaults: dict, origin: str) -> None:
    *parents, last = dotted.split(".")
    nested: dict = {last: value}
    for p in reversed(parents):
        nested = {p: nested}
    _merge(data, nested, defaults, origin, {})


def _blend_weights(data: dict) -> dict[str, float]:
    return {name: sc["weight"] for name, sc in data["scorers"].items()}


# 0 or more (not blend.max_tracks, evaluate.top_n, tune.folds: BOUNDS says "at least 1" of them,
# where "must not be negative" of -5 left 0 to be refused by a second edit)
NON_NEGATIVE = ("blend.min_tracks", "blend.max_per_artist", "spotify.max_retries",
                "refresh.discovery_artists", "refresh.discovery_albums_per_artist", "refresh.discovery_shared_albums",
                "seeds.recent_days", "discovery.request_budget", "discovery.search_fallback",
                "discovery.ttl_similar_artists_days", "discovery.ttl_recordings_days",
                "discovery.similar_artists.seed_artists", "discovery.similar_artists.artists_per_seed",
                "discovery.similar_artists.recordings_per_artist", "discovery.similar_recordings.seed_tracks",
                "discovery.similar_recordings.per_seed", "listenbrainz.max_retries", "listenbrainz.max_retry_wait",
                "similar.same_artist", "similar.audio_weight")


def _validate(data: dict, sources: Mapping[str, str], lines: Mapping[str, Mapping[str, int]] | None = None) -> None:
    """The rules beyond each value's type; every error names where the value came from
    (``sources``) and, for a file, its line (``lines``: file -> key -> line)."""
    def place(dotted: str) -> tuple[str, int]:  # (the file or variable it came from, its line there or 0)
        origin = sources.get(dotted, str(DEFAULT_FILE))
        return origin, ((lines or {}).get(origin) or {}).get(dotted, 0)

    def where(dotted: str) -> str:
        origin = sources.get(dotted, str(DEFAULT_FILE))
        return _at(origin, (lines or {}).get(origin), dotted)

    _validate_weights(data, sources, where)
    for dotted, allowed in ENUMS.items():
        if _get(data, dotted) not in allowed:
            raise ConfigError(f"{where(dotted)}: {dotted} must be one of {sorted(allowed)}, got {_get(data, dotted)!r}")
    for dotted in sorted(UNIT_INTERVAL):
        section, key = dotted.split(".")
        if not 0 <= data[section][key] <= 1:
            raise ConfigError(f"{where(dotted)}: {dotted} must be between 0 and 1, got {data[section][key]}")
    _validate_urls(data, where)
    _validate_open_data(data, where)
    redirect = urlparse(data["spotify"]["redirect_uri"])
    if redirect.hostname == "localhost":
        raise ConfigError(
            f"{where('spotify.redirect_uri')}: spotify.redirect_uri must use the loopback IP 127.0.0.1, "
            f"not localhost (Spotify rejects localhost), got {data['spotify']['redirect_uri']!r}")
    _validate_non_negative(data, where)
    _validate_bounds(data, where, place)
    said = template_problem(data["playlist"]["description"])  # here, with its line: it said so at the first write
    if said:
        raise ConfigError(f"{where('playlist.description')}: playlist.description: {said}")
    if data["blend"]["min_tracks"] > data["blend"]["max_tracks"]:
        key = "blend.max_tracks" if "blend.max_tracks" in sources and "blend.min_tracks" not in sources \
            else "blend.min_tracks"
        raise ConfigError(f"{where(key)}: blend.min_tracks ({data['blend']['min_tracks']}) "
                          f"is larger than blend.max_tracks ({data['blend']['max_tracks']})")


def _validate_weights(data: dict, sources: Mapping[str, str], where) -> None:
    """No blend weight negative, and not all of them zero."""
    weights = _blend_weights(data)
    for name, w in weights.items():
        if w < 0:
            key = f"scorers.{name}.weight"
            raise ConfigError(f"{where(key)}: {key} must not be negative, got {w:g}")  # -1, not -1.0
    if weights and all(w == 0 for w in weights.values()):
        key = next((f"scorers.{n}.weight" for n in weights if f"scorers.{n}.weight" in sources), "scorers.*.weight")
        raise ConfigError(f"{where(key)}: all blend weights are zero; give at least one scorer a positive weight")


def _validate_urls(data: dict, where) -> None:
    """Every service address an http(s) URL with a port a computer can have."""
    for dotted in ("spotify.redirect_uri", "spotify.api_url", "spotify.accounts_url", "listenbrainz.api_url",
                   "listenbrainz.labs_url", "enrich.musicbrainz_url"):
        section, key = dotted.split(".")
        value = data[section][key]
        try:
            url = urlparse(value)
            ok = url.scheme in {"http", "https"} and bool(url.hostname)
        except ValueError:  # "http://[::1/": an unclosed IPv6 bracket
            ok = False
        if not ok:
            raise ConfigError(f"{where(dotted)}: {dotted} must be an http(s) URL, got {value!r}")
        try:
            url.port  # noqa: B018 (raises ValueError for a port that is not a number in 0..65535)
        except ValueError:  # it said "must be an http(s) URL" of one, which it is
            raise ConfigError(f"{where(dotted)}: {dotted} has no port a computer can have (a number from 1 to "
                              f"65535), got {value!r}") from None


def _validate_open_data(data: dict, where) -> None:
    """The User-Agent of the open-data requests (``enrich.user_agent``, ``enrich.contact``) and
    MusicBrainz's one request a second."""
    # checked here (not at the first open-data request) so that the error names the line, and a
    # run that asks no open-data service (config show, an enrich with nothing to look up) refuses it too
    from .safetext import header_safe
    agent, contact = data["enrich"]["user_agent"], data["enrich"]["contact"]
    if agent is not None and not (isinstance(agent, str) and agent.strip() and header_safe(agent)):
        raise ConfigError(f"{where('enrich.user_agent')}: enrich.user_agent must name this app and a contact "
                          "(MusicBrainz asks for it) in characters an HTTP header can carry (Latin-1, no control "
                          f"characters), or be null, got {_shown(agent)}")
    if contact is not None and not agent and not header_safe(str(contact)):
        raise ConfigError(f"{where('enrich.contact')}: enrich.contact goes in the User-Agent header of every "
                          "MusicBrainz and ListenBrainz request: write it in characters an HTTP header can carry "
                          f"(Latin-1, no control characters; an email address or URL is), or null, got {_shown(contact)}")
    mb_host = (urlparse(data["enrich"]["musicbrainz_url"]).hostname or "").lower().rstrip(".")
    if is_musicbrainz_org(data["enrich"]["musicbrainz_url"]) and data["enrich"]["rate"] > 1:
        raise ConfigError(f"{where('enrich.rate')}: enrich.rate must be at most 1 for {mb_host}, which allows "
                          f"one request per second from an address (faster gets it blocked); a higher rate "
                          f"needs your own mirror in enrich.musicbrainz_url, got {data['enrich']['rate']:g}")


def _validate_non_negative(data: dict, where) -> None:
    """The counts and sizes of ``NON_NEGATIVE``: 0 or more."""
    for dotted in NON_NEGATIVE:
        node = data
        for part in dotted.split("."):
            node = node[part]
        if node < 0:
            raise ConfigError(f"{where(dotted)}: {dotted} must not be negative, got {node}")


def template_problem(template: str) -> str | None:
    """What is wrong with a ``playlist.description`` template, in words ("'Hello {user}' names
    {user}, which it does not know: it may use {date} and {weights}, and {{ }} for a literal
    brace"), or None when it formats. (It said "(KeyError: 'user')" at the first write.)"""
    try:  # (its type is checked before: a string)
        template.format(date="2026-01-01", weights="content 1")
        return None
    except KeyError as exc:
        what = f"names {{{exc.args[0]}}}, which it does not know"
    except IndexError:
        what = "has a {} or {0} without a name"
    except ValueError as exc:
        what = ("has a { or } that opens or closes nothing" if "'{'" in str(exc) or "'}'" in str(exc)
                else "has a conversion or format after ! or : that it cannot apply")
    except (AttributeError, TypeError):
        what = "asks {date} or {weights} for a part they do not have"
    return f"{template!r} {what}: it may use {{date}} and {{weights}}, and {{{{ }}}} for a literal brace"


def _expand(data: dict, dotted: str) -> list[str]:
    """The existing dotted keys matched by ``dotted`` ("*" = any key at that level)."""
    keys = [""]
    for part in dotted.split("."):
        nxt = []
        for prefix in keys:
            node = data
            for p in filter(None, prefix.split(".")):
                node = node[p]
            if not isinstance(node, dict):
                continue
            for k in (node if part == "*" else [part] if part in node else []):
                nxt.append(f"{prefix}.{k}" if prefix else k)
        keys = nxt
    return keys


def _get(data: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def _number(value: float) -> str:
    """A bound or a value as a person writes it: 1000000, not 1e+06; 1, not the 1.0 a key of
    decimals reads it as; 0.5 as 0.5."""
    whole = isinstance(value, float) and value.is_integer() and abs(value) < 1e16
    return str(int(value)) if whole else repr(value)


def _validate_bounds(data: dict, where, place) -> None:
    """Every numeric key within its BOUNDS; n-gram ranges [min, max] with 1 <= min <= max;
    tune.grid a non-empty list of non-negative numbers; tune.fixed a list of scorer names; a
    non-empty playlist name. Every value past its bound is named at once, in file order (an
    upgrade that brought new bounds had a cron run fail once per value, in the table's order)."""
    past: list[tuple[str, str]] = []  # (key, the rest of its message)
    for pattern, (low, high) in BOUNDS.items():
        for dotted in _expand(data, pattern):
            value = _get(data, dotted)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            lo, lo_in = low if isinstance(low, tuple) else (low, True)
            hi, hi_in = high if isinstance(high, tuple) else (high, True)
            too_low = lo is not None and (value < lo or (value == lo and not lo_in))
            too_high = hi is not None and (value > hi or (value == hi and not hi_in))
            if too_low or too_high:
                if hi in SANITY:
                    # a bound no sensible value reaches is named only when passed ("at least 0" for -1)
                    lo, hi = (lo, None) if too_low else (None, hi)
                if hi is None:
                    rule = f"must be {'at least' if lo_in else 'more than'} {_number(lo)}"
                elif lo is None:
                    rule = f"must be {'at most' if hi_in else 'less than'} {_number(hi)}"
                else:
                    rule = (f"must be between {_number(lo)} and {_number(hi)}"
                            + ("" if lo_in and hi_in else f" ({'' if lo_in else 'more than ' + _number(lo)}"
                               f"{'' if lo_in or hi_in else ', '}{'' if hi_in else 'less than ' + _number(hi)})"))
                past.append((dotted, f"{dotted} {rule}, got {_number(value)}"))
    if past:
        (key, first), *more = sorted(past, key=lambda p: place(p[0]))
        origin = place(key)[0]

        def short(dotted: str) -> str:  # "line 7" in the first one's file, else where it came from
            at, line = place(dotted)
            return f"line {line}" if at == origin and line else where(dotted)
        also = "; ".join(f"{short(d)}: {what}" for d, what in more)
        raise ConfigError(f"{where(key)}: {first}" + (f" (also past its bound: {also})" if more else ""))
    for dotted in NGRAM_KEYS:
        value = _get(data, dotted)
        if (not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                                                       for v in value) or not 1 <= value[0] <= value[1]):
            raise ConfigError(f"{where(dotted)}: {dotted} must be [min, max] whole numbers with 1 <= min <= max, "
                              f"got {_shown(value)}")
    if data["scorers"]["collaborative"]["no_evidence"] not in {"zero", "nan"}:
        dotted = "scorers.collaborative.no_evidence"
        raise ConfigError(f"{where(dotted)}: {dotted} must be one of ['nan', 'zero'], "
                          f"got {data['scorers']['collaborative']['no_evidence']!r}")
    grid = data["tune"]["grid"]
    if isinstance(grid, list):  # "1e0": YAML 1.1 reads an exponent without a dot as text, as for one number
        grid = data["tune"]["grid"] = [_exponent_text(v) for v in grid]
    if not grid or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           and 0 <= v <= MAX_WEIGHT for v in grid):
        raise ConfigError(f"{where('tune.grid')}: tune.grid must be a non-empty list of numbers from 0 to "
                          f"{_number(MAX_WEIGHT)}, got {_shown(grid)}")
    known = sorted(data["scorers"])
    bad = [v for v in data["tune"]["fixed"] if not isinstance(v, str) or v not in known]
    if bad:  # a typo would tune the scorer meant to stay, silently
        raise ConfigError(f"{where('tune.fixed')}: tune.fixed must be a list of scorer names ({', '.join(known)}), "
                          f"got {_shown(bad[0])} in {_shown(data['tune']['fixed'])}")
    if not str(data["playlist"]["name"]).strip():
        raise ConfigError(f"{where('playlist.name')}: playlist.name must not be empty")
    log_file = data["schedule"]["log_file"]
    if not log_file.strip() or log_file.endswith(("/", os.sep)) or Path(log_file).name in {"", ".", ".."}:
        raise ConfigError(f"{where('schedule.log_file')}: schedule.log_file must name a file (recommend.log, "
                          f"~/logs/recommend.log), got {log_file!r}")
    for dotted in ("candidates.blocklist_artists", "candidates.blocklist_tracks"):
        bad = [v for v in _get(data, dotted) if isinstance(v, bool) or not isinstance(v, (str, int, float))]
        if bad:  # a mapping or an empty entry would block nothing (or an artist named "None"), silently
            raise ConfigError(f"{where(dotted)}: {dotted} must be a list of ids or names, got {_shown(bad[0])} in it")


def is_musicbrainz_org(url: str) -> bool:
    """``url`` is MusicBrainz's own server (musicbrainz.org or a name under it), not a mirror."""
    host = (urlparse(str(url)).hostname or "").lower().rstrip(".")
    return host == "musicbrainz.org" or host.endswith(".musicbrainz.org")


def _exponent_text(value: Any) -> Any:
    """``value``, or the number a text such as "1e0" or "5E-1" is (YAML 1.1 reads those as text)."""
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+\s*", value):
        return float(value)
    return value


def load_settings(config_file: Path | str | None = None, overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Merge defaults, the user file, the environment and ``overrides`` (dotted keys).

    ``config_file`` None means ``$RECOMMENDER_CONFIG``, else the user config file, else a
    checkout's ``config/user.yaml`` (``paths.resolve_config_file``). Raises ConfigError.
    """
    defaults = _read_defaults()
    data = copy.deepcopy(defaults)
    sources: dict[str, str] = {}
    lines: dict[str, int] = {}  # the user file's keys -> their lines, for the errors
    relative_cache_dir = None
    env = os.environ if environ is None else environ
    known_config_homes(config_file, env)
    user_file = paths.resolve_config_file(config_file, env)
    if user_file is not None:
        # a relative --config or RECOMMENDER_CONFIG: beside the current directory, as the shell would,
        # and named so (`config path`, errors, the web app's Save): a bare name cannot be found again
        user_file = user_file.absolute()
        named_by = f" (named by {paths.CONFIG_ENV})" if config_file is None and paths.config_env(env) else ""
        _merge(data, _read_yaml(user_file, named_by, lines), defaults, str(user_file), sources, lines=lines)
        relative_cache_dir = _anchor_to_file(data, user_file)
    for var, dotted in ENVIRONMENT.items():
        # without the spaces a copy and paste brings along (" abc " went to Spotify: INVALID_CLIENT);
        # no id, secret, token, address or folder of ours begins or ends with one
        value = (env.get(var) or "").strip()
        if value:
            _set_path(data, dotted, value, defaults, f"environment {var}")
            sources[dotted] = f"environment {var}"
    for dotted, value in (overrides or {}).items():
        _set_path(data, dotted, value, defaults, "command line")
        sources[dotted] = "command line"
    _validate(data, sources, {str(user_file): lines} if user_file is not None else None)
    return Settings(data, sources=sources, user_file=user_file, relative_cache_dir=relative_cache_dir)


def exposed_secrets(settings: Settings) -> str:
    """A warning when the user file holds a secret (``SECRET_KEYS``) and other users of the
    computer may read it (any group or other permission bit, as ssh checks a key file); ""
    otherwise, or when the file cannot be checked."""
    user_file = settings.user_file
    if user_file is None:
        return ""
    held = [key for key in sorted(SECRET_KEYS) if settings.sources.get(key) == str(user_file)]
    try:
        mode = Path(user_file).stat().st_mode & 0o777
    except OSError:
        return ""
    if not held or not mode & 0o077:
        return ""
    return (f"{user_file} holds {and_list(held)} and other users of this computer can read it "
            f"(mode {mode:04o}); run `chmod 600 {shlex.quote(str(user_file))}`")  # (macOS's folder has a space)


def _anchor_to_file(data: dict, user_file: Path) -> str | None:
    """A relative ``cache.dir`` in a config file means a folder beside that file, not one in
    whatever directory the command happens to run from (cron's is $HOME). Returns that
    relative value as written (None when there is none)."""
    value = (data.get("cache") or {}).get("dir")
    if isinstance(value, str) and value and not value.strip():  # it was a folder named "   " beside the file
        raise ConfigError(f"{user_file}: cache.dir must name a folder (~/music-data), or be left out for the "
                          f"standard places, got {value!r}")
    if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
        data["cache"]["dir"] = str(Path(user_file).expanduser().absolute().parent / value)
        return value
    return None


def old_relative_cache_dir(settings: Settings, cwd: Path | None = None) -> tuple[str, Path, Path] | None:
    """A relative ``cache.dir`` of the user file is a folder beside that file (``_anchor_to_file``,
    since 29 Nov 2026); earlier versions took it from the directory they ran in. (the value, the
    folder used now, the folder it was) when only the one it was holds data; else None."""
    value = settings.relative_cache_dir
    if value is None or settings.sources.get("cache.dir") != str(settings.user_file):
        return None
    try:
        was = (Path.cwd() if cwd is None else cwd) / value
        now = Path(settings.get_path("cache.dir"))
        if was.absolute() == now.absolute():
            return None
        return (value, now, was) if paths.holds_data(was) and not paths.holds_data(now) else None
    except OSError:
        return None


def default_settings() -> Settings:
    """The package defaults alone: no user file, no environment (benchmarks, tests)."""
    defaults = _read_defaults()
    _validate(defaults, {})
    return Settings(defaults)
