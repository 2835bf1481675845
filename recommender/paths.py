"""Where things live: the shipped defaults, the user's config file and the data directory.

- Defaults: ``recommender/default.yaml`` inside the package (read with importlib.resources;
  in a source checkout it is a symlink to ``config/default.yaml``, the one source).
- User config: ``$XDG_CONFIG_HOME/recommend/config.yaml`` (platformdirs' user config dir);
  ``--config`` / ``RECOMMENDER_CONFIG`` override it.
- State only we know, or that must survive a cache cleaner (manifest and its backup copy,
  login token, logs, ``runs.jsonl``, lock, the demo's directory, the frames no refresh makes:
  imported audio features, looked-up genres): platformdirs' user state
  dir, ``$XDG_STATE_HOME/recommend`` (``Settings.cache_dir``, named after the config key).
- Re-fetchable data (cached frames, the open-data answer cache, search indexes): platformdirs'
  user cache dir, ``$XDG_CACHE_HOME/recommend`` (``Settings.frames_dir``). Deleting it costs a
  re-pull, never the manifest or the login.
- ``cache.dir`` / ``RECOMMENDER_CACHE_DIR`` put both in that one directory (as before), except
  when they name the user state dir itself, as the crontab line of versions from before the
  user cache dir did: that means the standard places. The user state and cache dirs that are
  one directory (a symlink from one to the other, a bind mount) are used as one directory.
- A source checkout's old places (``config/user.yaml``, ``cache/``) are still used when they
  hold something and the new places do not (``recommend config migrate`` moves them); the old
  ``cache/`` stays one directory for both.
- ``config migrate`` leaves ``moved.json`` in the old ``cache/``: a crontab line an old version
  wrote (``RECOMMENDER_CACHE_DIR=<checkout>/cache ... --config <checkout>/config/user.yaml``)
  then reads the moved files instead of an emptied folder and a stale copy of the config.

Nothing here writes anything, and nothing is ever written into the package or the current
directory. This module imports nothing of ours (a foundation module, like ``errors``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

APP = "recommend"
DISTRIBUTION = "recommend-playlist"  # the name on the package index (`recommend` there is another project)
CONFIG_ENV = "RECOMMENDER_CONFIG"
PACKAGE_DIR = Path(__file__).resolve().parent
# Files in the data directory that only a used (not a fresh) directory holds.
DATA_MARKERS = ("manifest.json", "spotify-token.json", "runs.jsonl", "tracks.parquet")
# Entries of a data directory that can be fetched again (they go to the user cache dir); every
# other entry is state. Names used by store.py (frames), services/listenbrainz.py and libsource.py.
REFETCHABLE = ("opendata", "search_index.npz", "datasets")
# The folders of the cache directory that hold files written one by one, each atomically
# (``store.atomic_write``: a killed write leaves its ``.NAME.*.tmp`` beside them): open-data
# answers (one file per kind) and search indexes of data files. Flat, so the run holding the
# lock clears such leftovers with one listing of each (``Store.remove_leftovers``), never a walk.
WRITTEN_FOLDERS = ("opendata", "datasets")
REFETCHABLE_SUFFIX = ".parquet"
# ... but for the frames no refresh makes (store.MADE_BY: imported audio features, looked-up genres)
STATE_FRAMES = ("audio_features.parquet", "artist_genres.parquet")
# What ``migrate.move_refetchable`` copies onto another filesystem is ``.NAME.moving`` until it
# is whole (a killed run's leftover is cleared by the next run holding the lock:
# ``migrate.clear_unfinished``).
MOVING = ".moving"
# In the cache directory while ``migrate.move_refetchable`` moves entries into it (a run killed
# meanwhile leaves it): the next run looks for ``.NAME.moving`` leftovers at every depth only then.
MOVE_UNDER_WAY = ".move-under-way"
# Left in a checkout's old cache/ by `recommend config migrate`: where its files went.
MOVED_MARKER = "moved.json"


def install_hint(extra: str | None = None, prefix: str | None = None) -> str:
    """The command that installs this tool (with ``extra``), for error messages: pip's, or, in
    the virtualenv pipx made for it (``prefix``: ``sys.prefix``), ``pipx inject`` with the
    extra's packages (pip there installed them into another environment, and the command kept
    failing)."""
    import sys
    prefix = sys.prefix if prefix is None else prefix
    if extra and "pipx" in Path(prefix).parts:
        return f"pipx inject {DISTRIBUTION} {' '.join(_extra_requirements(extra)) or repr(DISTRIBUTION + '[' + extra + ']')}"
    return f"pip install '{DISTRIBUTION}[{extra}]'" if extra else f"pip install {DISTRIBUTION}"


def _extra_requirements(extra: str) -> list[str]:
    """The requirements ``extra`` adds, quoted for a shell ("'jinja2>=3.1'"), as installed."""
    import re
    from importlib.metadata import PackageNotFoundError, requires
    try:
        listed = requires(DISTRIBUTION) or []
    except PackageNotFoundError:
        return []
    out = []
    for req in listed:
        spec, _, marker = req.partition(";")
        if re.search(rf"""extra\s*==\s*["']{re.escape(extra)}["']""", marker):
            out.append(f"'{spec.strip()}'")
    return out


def default_config_text() -> str:
    """The shipped ``default.yaml`` (works from a wheel, a zip and an editable install)."""
    from importlib.resources import files
    return files("recommender").joinpath("default.yaml").read_text(encoding="utf-8")


def default_config_path() -> Path:
    """A path naming the shipped defaults, for messages (``recommender/default.yaml``)."""
    return PACKAGE_DIR / "default.yaml"


def example_config_path() -> Path:
    """The commented starting config (``config/example.yaml``, shipped in the package as
    ``recommender/example.yaml``), which `recommend config init` copies."""
    return PACKAGE_DIR / "example.yaml"


def user_config_file() -> Path:
    """``$XDG_CONFIG_HOME/recommend/config.yaml`` (or the platform's equivalent)."""
    from platformdirs import user_config_path
    return user_config_path(APP, appauthor=False) / "config.yaml"


def user_data_dir() -> Path:
    """``$XDG_STATE_HOME/recommend``: the default state directory (manifest, token, logs, lock)."""
    from platformdirs import user_state_path
    return user_state_path(APP, appauthor=False)


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/recommend``: the default directory of re-fetchable data (frames,
    open-data answers, search indexes)."""
    from platformdirs import user_cache_path
    return user_cache_path(APP, appauthor=False)


def refetchable(name: str) -> bool:
    """Whether a data directory entry can be fetched again (so it belongs in the cache dir)."""
    return (name.endswith(REFETCHABLE_SUFFIX) and name not in STATE_FRAMES) or name in REFETCHABLE


@dataclass(frozen=True)
class DataDirs:
    """Where state (``state``) and re-fetchable data (``cache``) live; the same directory
    when ``cache.dir`` / ``RECOMMENDER_CACHE_DIR`` or a checkout's old ``cache/`` is used."""

    state: Path
    cache: Path

    @property
    def single(self) -> bool:
        return self.state == self.cache


SAMPLE_LIBRARY = "the sample library"  # what messages call the library `--demo` reads (explore.DEMO's)
# how an error tells you to try the sample library instead (no library cached, not logged in); the
# web app says WEB_DEMO in its place (``web.context.web_words``): its user is in a browser
TRY_DEMO = "`recommend build-playlist --demo`"
WEB_DEMO = "`recommend web --demo`"


def demo_dir(data_dir: Path | str) -> Path:
    """Where ``--demo`` keeps its own cache: below the data directory, never in the real one."""
    return Path(data_dir) / "demo"


DEMO_CONFIG = "web-config.yaml"  # the demo's own settings file: `recommend web --demo`'s Save writes it


def with_demo_layer(settings):
    """``settings`` with the demo's own settings file on top (what `recommend web --demo` saved),
    its directories left as they are: for a ``--demo`` command that scores with them and hands
    them on to code that applies ``demo_settings`` itself (a mood export, the demo's logging)."""
    return _with_demo_file(settings, demo_dir(settings.cache_dir))


def _with_demo_file(settings, folder: Path):
    file = folder / DEMO_CONFIG
    return settings.with_layer(file) if file.is_file() else settings


def demo_settings(settings, overrides: dict | None = None):
    """``settings`` pointed at the demo's own directory (``demo_dir`` of its data directory),
    with the demo's own settings file (``DEMO_CONFIG``, what `recommend web --demo` saved:
    weights, blocked artists, discovery's settings) and then ``overrides`` (dotted keys) on top:
    what every ``--demo`` path reads and writes, in a terminal as in the web app."""
    folder = demo_dir(settings.cache_dir)
    demo = _with_demo_file(settings.with_overrides({"cache.dir": str(folder)}), folder)
    return demo.with_overrides({"cache.dir": str(folder), **(overrides or {})})


def checkout_roots(cwd: Path | None = None) -> list[Path]:
    """Source checkouts of this project that may hold old ``config/user.yaml`` / ``cache/``:
    the one this package runs from (editable install) and the current directory."""
    roots = []
    if cwd is None:
        try:
            cwd = Path.cwd()
        except OSError:  # run from a directory deleted since (getcwd fails): no checkout there
            cwd = PACKAGE_DIR.parent
    for root in (PACKAGE_DIR.parent, cwd):
        try:
            root = root.resolve()
            ok = (root / "pyproject.toml").is_file() and (root / "recommender" / "paths.py").is_file() \
                and (root / "config" / "default.yaml").is_file()
        except OSError:
            ok = False
        if ok and root not in roots:
            roots.append(root)
    return roots


def holds_data(*data_dirs: Path) -> bool:
    """Whether one of ``data_dirs`` is a used data directory (``DATA_MARKERS``)."""
    return any((d / m).exists() for d in data_dirs for m in DATA_MARKERS)


@dataclass(frozen=True)
class Legacy:
    """A checkout's old config file and/or cache directory that are in use."""

    config: Path | None
    cache: Path | None


def legacy_places(cwd: Path | None = None) -> Legacy:
    """The checkout's ``config/user.yaml`` and ``cache/`` when they hold something and the
    new places (user config file, user state and cache dirs) do not."""
    config = cache = None
    new_config, new_data = user_config_file(), (user_data_dir(), user_cache_dir())
    for root in checkout_roots(cwd):
        if config is None and not new_config.exists() and (root / "config" / "user.yaml").is_file():
            config = root / "config" / "user.yaml"
        if cache is None and not holds_data(*new_data) and holds_data(root / "cache"):
            cache = root / "cache"
    return Legacy(config, cache)


def _moved_marker(old_cache: Path) -> dict:
    try:
        data = json.loads((old_cache / MOVED_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def moved_dirs(old_cache: Path | str) -> DataDirs | None:
    """Where ``recommend config migrate`` moved the checkout cache ``old_cache`` (its
    ``moved.json``), while nothing was put back there since (no manifest, no login); else None."""
    old = Path(old_cache).expanduser()
    if any((old / name).exists() for name in ("manifest.json", "spotify-token.json")):
        return None
    marker = _moved_marker(old)
    state, cache = marker.get("state"), marker.get("cache")
    if isinstance(state, str) and isinstance(cache, str) and state and cache:
        return DataDirs(Path(state), Path(cache))
    return None


def moved_config(old_config: Path | str) -> Path | None:
    """The config file ``recommend config migrate`` copied the checkout's ``old_config`` to
    (named in ``<checkout>/cache/moved.json``), when it still exists; else None."""
    try:
        old = Path(old_config).expanduser().resolve()
    except (OSError, RuntimeError):
        return None
    pair = _moved_marker(old.parent.parent / "cache").get("config")
    if isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair):
        if Path(pair[0]) == old and Path(pair[1]).is_file():
            return Path(pair[1])
    return None


def config_env(environ=None) -> str | None:
    """``$RECOMMENDER_CONFIG`` without the spaces around it; None when it is unset, empty or
    spaces alone, as every variable of ours is read (" /x/c.yaml " named a file in a folder " "
    of the current directory, and `config init` made them)."""
    env = os.environ if environ is None else environ
    return (env.get(CONFIG_ENV) or "").strip() or None


def resolve_config_file(explicit: Path | str | None = None, environ=None, cwd: Path | None = None) -> Path | None:
    """The user config file to read: ``explicit`` (--config), ``$RECOMMENDER_CONFIG`` (either
    one, when ``config migrate`` copied it, its copy: ``moved_config``), the user config file, a
    checkout's ``config/user.yaml``; None when there is none."""
    if explicit is not None:
        return moved_config(explicit) or Path(explicit).expanduser()
    named = config_env(environ)
    if named:
        return moved_config(named) or Path(named).expanduser()
    new = user_config_file()
    if new.exists():
        return new
    return legacy_places(cwd).config


def resolve_data_dirs(configured: str | None, cwd: Path | None = None) -> DataDirs:
    """``cache.dir`` when set (where ``config migrate`` moved it, when it was a checkout's
    ``cache/``), else a checkout's used ``cache/`` (one directory for both), else the user state
    dir and the user cache dir."""
    if configured:
        # a relative RECOMMENDER_CACHE_DIR: beside the current directory, as the shell would, and
        # shown so (`config path`, `status`: it printed the bare name)
        one = Path(configured).expanduser().absolute()
        if same_place(one, user_data_dir()):
            # the crontab line `schedule install` wrote before the cache dir named the state dir
            # so: the standard places, or its nightly runs and yours would keep two caches
            return standard_dirs()
        return moved_dirs(one) or DataDirs(one, one)
    old = legacy_places(cwd).cache
    if old is not None:
        return DataDirs(old, old)
    return standard_dirs()


def data_left_behind(data_dir: Path | str) -> Path | None:
    """The standard data directory when ``data_dir`` (named by ``cache.dir`` or
    ``RECOMMENDER_CACHE_DIR``) is another one that holds no manifest while the standard one
    does: the managed playlist's record, your removals and pins stay there, unused (a cache
    folder moved and named, the data directory left where it was). None otherwise."""
    standard = user_data_dir()
    if same_place(data_dir, standard) or (Path(data_dir) / "manifest.json").exists():
        return None
    if Path(data_dir).exists() and not Path(data_dir).is_dir():  # a file in its way: no folder to move files into
        return None  # (the run's error says that: "cannot create the folder ...: a file is in the way")
    return standard if (standard / "manifest.json").is_file() else None


def same_place(a: Path | str, b: Path | str) -> bool:
    """Whether ``a`` and ``b`` name one file or directory: the same path once symlinks are
    resolved, or (a bind mount) the same device and inode."""
    a, b = Path(a).expanduser(), Path(b).expanduser()
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist (yet)
        return False


def file_stat(path: Path) -> tuple | None:
    """(modification time, size, inode) of ``path``, None when absent or unreadable."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def frame_source(home: Path, legacy: Path) -> tuple[Path, tuple | None]:
    """Where a frame is read from, of its ``home`` and ``legacy``, the place a version from before
    the move kept it (``store.Store.frame_path``): the home, or the legacy copy when it is the only
    one or the newer one; and that file's ``file_stat`` (None: absent). Without pandas: the
    search's ``libsource`` fingerprints the tracks' file by it."""
    old = None if legacy == home else file_stat(legacy)
    if old is None:
        return home, file_stat(home)
    new = file_stat(home)
    return (legacy, old) if new is None or old[0] > new[0] else (home, new)


def in_the_caches(data_dir: Path | str) -> Path | None:
    """The folder of caches (``$XDG_CACHE_HOME``, ``~/.cache``) when the data directory
    ``data_dir`` lies in it (by its real path, or a bind mount of it there: the user cache dir
    is it), so that a cache cleaner emptying that folder deletes the manifest and the login
    too; None otherwise."""
    caches = user_cache_dir().parent
    base, real = Path(os.path.realpath(caches)), Path(os.path.realpath(Path(data_dir).expanduser()))
    if real.is_relative_to(base):
        return caches
    cache = Path(os.path.realpath(user_cache_dir()))
    return caches if cache.is_relative_to(base) and same_place(cache, real) else None


def standard_dirs() -> DataDirs:
    """The user state dir and the user cache dir; one directory when they are one (a symlink
    from either to the other, a bind mount), so that nothing is moved or deleted through
    another name of itself."""
    state, cache = user_data_dir(), user_cache_dir()
    return DataDirs(state, state if same_place(state, cache) else cache)


def delete(path: Path) -> None:
    """Delete ``path``: a real directory with what it holds, anything else (a file, a symlink,
    never what it points to) by itself."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def delete_leftovers(found: Iterable[Path], keep: Callable[[Path], bool] | None = None) -> list[Path]:
    """``delete`` each path of ``found`` (a killed run's leftovers) but those ``keep`` says to
    keep; one that cannot be deleted (or looked at) is logged and left. Returns the deleted."""
    removed = []
    for path in found:
        try:
            if keep is not None and keep(path):
                continue
            delete(path)
        except OSError as exc:
            logging.getLogger(__name__).warning("could not remove the leftover %s (%s)", path, exc)
            continue
        removed.append(path)
    return removed


def graphical_display(environ=None, platform: str | None = None) -> bool:
    """Whether a browser started here can show a page to a person: Windows and macOS, or a
    graphical display on Linux and the BSDs (DISPLAY, WAYLAND_DISPLAY), or a ``BROWSER`` the
    person chose. Without one (an SSH session, a headless server) Python's ``webbrowser``
    starts a text-mode browser (lynx, w3m) in the terminal, which runs no script: Spotify's
    login page and the web app's pages need one that does."""
    import os
    import sys
    environ = os.environ if environ is None else environ
    platform = platform or sys.platform
    return bool(platform.startswith(("win", "darwin", "cygwin")) or environ.get("DISPLAY")
                or environ.get("WAYLAND_DISPLAY") or environ.get("BROWSER"))


def home_short(path: Path) -> str:
    """``path`` with the home folder written ``~``."""
    try:
        return f"~/{path.relative_to(Path.home())}"
    except ValueError:
        return str(path)
