"""The cache: one parquet file per frame (in ``frames_dir``, re-fetchable) plus
``manifest.json`` (in the state directory ``dir``; the same directory unless split, see paths).

Every write is atomic (temporary file in the same folder, then ``os.replace``), so a killed
run leaves either the old file or the new one (and a ``.*.tmp`` file, removed by the next
writer: ``Store.remove_leftovers``, also from the folder of open-data answers). A corrupt
file or a cache written by another schema version is reported (``Store.problems``) and
treated as absent, so the caller refetches; a missing frame counts as corrupt (the cache is
re-pulled, never used half).

The manifest also holds state only we know (which tracks the user removed from the managed
playlist, every playlist we ever managed, writes not yet verified). It is written twice, to
``manifest.json`` and then ``manifest.backup.json``: one damaged or deleted file loses nothing,
and the recovery is reported in one line. A ``build-playlist`` run reads it from disk once
(``Store.one_read``: under the run lock nobody else writes it; our writes update the copy kept).
"""

from __future__ import annotations

import contextlib
import copy
import errno
import filecmp
import json
import logging
import os
import socket
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from . import paths, schema
from .errors import StorageError, make_dirs
from .isotime import age_seconds, system_now, time_or_none, utc_now
from .library import Library
from .paths import file_stat, frame_source

log = logging.getLogger(__name__)


def _damaged_file_errors() -> tuple[type[BaseException], ...]:
    """What reading a damaged or foreign frame file raises: pyarrow's several unrelated types
    (ArrowInvalid is a ValueError, ArrowIOError an OSError...), a frame of columns or types not
    ours, a file of another version. Not a bug of ours (an AttributeError, a NameError), which
    was taken for a damaged file too: "the cache will be re-pulled" at every run, exit 0, the bug
    never said."""
    import pyarrow as pa
    return (OSError, EOFError, ValueError, TypeError, KeyError, pa.ArrowException, _OtherVersion)


class _OtherVersion(ValueError):
    """A frame file without a column this version's schema has (saved by an older version)."""


MANIFEST = "manifest.json"
BACKUP = "manifest.backup.json"
# manifest keys that cannot be re-pulled from Spotify (also "<key>:<slot>" for other managed
# playlists): kept across schema versions, reported when recovered from the backup copy
OWN_STATE = ("managed_playlist", "user_removed", "managed_history", "user_liked")
# what belongs to the one account the manifest is for (see ``Store.switch_account``): its own
# state, set aside when another account logs in, and the cache's, pulled again for the new one
ACCOUNT_STATE = (*OWN_STATE, "pin_requests", "removed_pins", "not_playable")
LAST_DISCOVERY = "last_discovery"  # manifest key: what the last refresh's discovery did (`status`, `recommend web`)
# manifest key: when the last refresh's discovery began, until it ends (a Ctrl-C, a kill, a crash
# in between left a fresh cache without the finds, and no run asked again for 12 hours)
DISCOVERING = "discovering"
ACCOUNT_CACHE = ("fetched_at", "listed_at", "snapshots", "last_refresh", LAST_DISCOVERY, DISCOVERING)
ACCOUNTS = "accounts"  # manifest key: the own state of the other accounts, by user id
# frames a refresh pulls from Spotify (a missing one means a re-pull); the others are imported
# or looked up elsewhere (audio features, MusicBrainz genres) and carried over by a refresh
PULLED_FRAMES = ("tracks", "artists", "playlists", "playlist_items", "top_tracks", "top_artists",
                 "saved_tracks", "followed_artists", "discovery")
# frames not pulled from Spotify but made by a command of their own (the command a user runs
# again): a damaged one is left out, its file left for that command to replace, never "re-pulled"
MADE_BY = {"audio_features": "recommend import features FILE", "artist_genres": "recommend enrich genres"}
# frames ``load_library`` reads only the rows of the library's tracks of (the first column, the
# track id, among the tracks frame's): an import keeps every row of its file (1.2 million for
# Kaggle's "Spotify 1.2M+ Songs"), and a command pays for the tracks it uses, not for the import.
# Such a frame in a Library is part of its file: only its own writers (``MADE_BY``) write it.
BY_TRACK = ("audio_features",)
BY_TRACK_GROUP = 65536  # rows per row group of their files: what a filtered read decodes at a time
TMP_GLOB = ".*.tmp"  # what atomic_write leaves behind when killed between create and replace
# a temporary file of one file's write (``.NAME.XXXXXXXX.tmp``: mkstemp's 8 characters) untouched
# for this long is a killed write's: the next write of that file removes it (``_remove_stale_tmps``)
STALE_TMP_SECONDS = 600.0
_MKSTEMP_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
SAVING = "saving"  # manifest key set while ``save_library`` writes its frames (one unit)
SAVE_WAIT = 60.0  # seconds a reader waits for another run's save in progress to end
LOAD_TRIES = 3  # reads of the frames a reader makes while other runs' saves overtake it (``load_library``)
_SAVING_HERE: set[str] = set()  # the data folders a thread of this process is saving frames into


def _not_a_file(path: Path | str) -> StorageError:
    return StorageError(f"cannot write {path}: not a regular file (a device, a pipe or a folder); name a file")


def check_output(path: Path | str) -> None:
    """StorageError (exit 7) for a file you named (``--plot``, ``--report``) that cannot be
    written, said before the work that makes it: the nearest existing folder on its way is not
    writable (a read-only disk, another user's folder). UsageError for ``-`` (it wrote a file
    named "-") and for this command's own standard output or error (``/dev/stdout``: the file
    was moved over the one a ``>`` had opened, and the command's table went to a file no folder
    lists any more); StorageError for a device or a pipe (``atomic_write`` would refuse it after the work)."""
    from .errors import UsageError
    if str(path) == "-":
        raise UsageError("'-' would be a file named '-' here, not standard output: name the file to write "
                         "(a report or a chart is a file of its own; the command's output is the table)")
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None:
        for fd, which in ((1, "standard output"), (2, "standard error")):
            try:
                own = os.fstat(fd)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino):
                raise UsageError(f"{path} is this command's {which}: name a file of its own (the command "
                                 f"writes its table to {which}; --json gives it to a script)")
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            raise _not_a_file(path)
    folder = Path(os.path.realpath(path)).parent
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(f"cannot write {path}: the folder {folder} is not writable (read-only, or "
                           f"another user's); name a file in a folder you can write")


ROOM_SUFFIX = ".room"  # ``reserve_room``'s file beside the one it keeps room for: ``.NAME.room``


def reserve_room(path: Path, size: int) -> Path:
    """Set aside ``size`` bytes of disk now for a write of ``path`` at the end of a run
    (``atomic_write_text(path, text, room=...)``), so a disk without that room fails the run
    before it changes anything, not after (the demo's stand-in account, 4 MB saved last, was lost
    so while the manifest kept the run's playlist). The room is the file ``.NAME.room`` beside
    ``path``, allocated (``posix_fallocate``; where the file system cannot allocate, the free
    space is checked instead); one a killed run left is taken over. StorageError naming ``path``
    when there is no such room (the previous version is kept); the caller deletes the room when
    it does not write."""
    import shutil
    path = Path(os.path.realpath(path))
    make_dirs(path.parent)
    room = path.parent / f".{path.name}{ROOM_SUFFIX}"
    try:
        fd = os.open(room, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            try:
                os.posix_fallocate(fd, 0, size)
            except (AttributeError, OSError) as exc:  # no such call (macOS), or not on this file system
                if isinstance(exc, OSError) and exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                if shutil.disk_usage(path.parent).free < size:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) from None
        finally:
            os.close(fd)
    except OSError as exc:
        room.unlink(missing_ok=True)
        if StorageError.matches(exc):
            raise StorageError.from_os_error(exc, path) from None
        raise
    return room


def atomic_write(path: Path, write: Callable[[Path], None], mode: int | None = None, keep_same: bool = False,
                 chosen: bool = False, room: Path | None = None) -> None:
    """Call ``write(tmp_path)`` then move the temporary file over ``path`` atomically.

    The file gets ``mode`` when given; else a file that exists keeps its permissions (a 0644
    config stays 0644) and a new one is 0600. ``keep_same``: a file that already holds exactly
    these bytes is left as it is (its modification time too: what is fingerprinted by it, the
    search index, stays valid). ``chosen``: a file you named (errors say to name another).
    ``room``: ``reserve_room``'s file, the temporary file (``write`` writes into it without
    truncating it first, so the room it holds is used).
    """
    path = Path(path)
    if path.is_symlink():  # a link stays one, its target is written (a report or config a dotfiles repo links)
        path = Path(os.path.realpath(path))
    if path.exists() and not path.is_file():  # `--report /dev/null` as root replaced the device by a file
        raise _not_a_file(path)
    make_dirs(path.parent)
    _remove_stale_tmps(path)
    if mode is None and path.exists():
        mode = path.stat().st_mode & 0o7777
    if room is not None:
        tmp = str(room)
    else:
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except OSError as exc:  # no file can be made in that folder (read-only, gone since, /proc): name it
            raise StorageError.from_os_error(exc, path, chosen=chosen) from None
        os.close(fd)
    try:
        if mode is not None:
            os.chmod(tmp, mode)
        write(Path(tmp))
        if keep_same and path.exists() and filecmp.cmp(tmp, path, shallow=False):
            Path(tmp).unlink()
            return
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if StorageError.matches(exc):  # disk full, read-only...: one line naming the file
            if exc.errno in (errno.EACCES, errno.EPERM) and mode is not None and not mode & stat.S_IWUSR:
                # the copy made for writing took the file's read-only mode: say so of the file
                raise StorageError(f"cannot write {path}: the file is read-only (mode {mode:04o}); make it "
                                   "writable (chmod u+w) or delete it and run again; the previous version is "
                                   "kept") from None
            err = StorageError.from_os_error(exc, path, chosen=chosen)
            raise StorageError(str(err).replace(tmp, str(path))) from None  # never name our temporary file
        raise


def _remove_stale_tmps(path: Path) -> None:
    """Delete the temporary files a killed write of ``path`` left beside it (``.NAME.XXXXXXXX.tmp``,
    ours, untouched for ``STALE_TMP_SECONDS``): one beside the config file or a report was left
    for good (``Store.remove_leftovers`` looks in the cache only). Never another file's, one
    named otherwise, or another user's; one that cannot be removed is logged and left."""
    import time
    prefix = f".{path.name}."
    found = []
    try:
        with os.scandir(path.parent) as entries:
            for entry in entries:
                middle = entry.name[len(prefix):-len(".tmp")]
                if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp") and len(middle) == 8
                        and set(middle) <= _MKSTEMP_CHARS):
                    continue
                st = entry.stat(follow_symlinks=False)
                if (stat.S_ISREG(st.st_mode) and st.st_uid == getattr(os, "geteuid", lambda: st.st_uid)()
                        and time.time() - st.st_mtime > STALE_TMP_SECONDS):
                    found.append(Path(entry.path))
    except OSError:  # the folder unreadable: the write says so itself
        return
    removed = paths.delete_leftovers(found)
    if removed:
        log.info("removed %d leftover temporary file(s) of a killed write of %s: %s", len(removed), path,
                 ", ".join(p.name for p in removed))


def atomic_write_text(path: Path, text: str, mode: int | None = None, chosen: bool = False,
                      room: Path | None = None) -> None:
    """``room``: the file ``reserve_room`` made for this write (written over, then cut to the text)."""
    if room is None:
        atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"), mode, chosen=chosen)
        return

    def into_room(p: Path) -> None:
        with open(p, "r+b") as f:  # not "w": truncating first would give the room back
            f.write(text.encode("utf-8"))
            f.truncate()
    atomic_write(path, into_room, mode, chosen=chosen, room=room)


def now_iso() -> str:
    return utc_now().replace(microsecond=0).isoformat()


class Store:
    """Manifest (in ``dir``, the state directory) and frames (in ``frames_dir``, re-fetchable;
    ``dir`` unless given)."""

    def __init__(self, cache_dir: Path | str, frames_dir: Path | str | None = None) -> None:
        self.dir = Path(cache_dir)
        self.frames_dir = self.dir if frames_dir is None else Path(frames_dir)
        self.problems: list[str] = []
        self.unreadable: set[str] = set()  # frames whose file ``load_frame`` could not read
        self.lost: str | None = None  # a pulled frame's file missing or damaged ("... is missing": ``damaged``)
        self._keeping = False  # inside ``one_read``: the manifest read once is kept in memory
        self._kept: dict[str, Any] | None = None
        # who holds the run lock of ``dir`` now (``lock.running_holder``; ``jobs.open_store`` sets
        # it): a save marked ``saving`` by a live holder is in progress, not stopped
        self.lock_holder: Callable[[], dict[str, Any] | None] | None = None

    @classmethod
    def from_settings(cls, settings) -> "Store":
        return cls(settings.cache_dir, settings.frames_dir)

    # ----- manifest --------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.dir / MANIFEST

    @property
    def backup_path(self) -> Path:
        return self.dir / BACKUP

    @staticmethod
    def _read_json(path: Path) -> dict[str, Any]:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not an object")
        _check_manifest(data)
        return data

    @contextmanager
    def one_read(self) -> Iterator["Store"]:
        """Within: the manifest is read from disk at most once and kept in memory, our own
        writes (still atomic, still with the backup copy) updating that copy; every read returns
        a fresh copy of it. For one run holding the run lock (no other process writes the
        manifest meanwhile); ``forget_manifest`` when the lock is taken later than this."""
        self._keeping, self._kept = True, None
        try:
            yield self
        finally:
            self._keeping, self._kept = False, None

    def forget_manifest(self) -> None:
        """The next read goes to disk again (inside ``one_read``: and is kept again)."""
        self._kept = None

    def read_manifest(self) -> dict[str, Any]:
        """The manifest, or {} when absent, corrupt or of another schema version.

        A damaged or missing ``manifest.json`` is replaced by its backup copy when that one
        is readable (said once in ``problems``); the next write restores both files.
        """
        if self._kept is not None:
            return copy.deepcopy(self._kept)
        data = self._read_manifest_file()
        if self._keeping:
            self._kept = copy.deepcopy(data)
        return data

    def _read_manifest_file(self) -> dict[str, Any]:
        path = self.manifest_path
        data: dict[str, Any] | None = None
        damage = None
        if path.exists():
            try:
                data = self._read_json(path)
            except (OSError, ValueError) as exc:
                damage = f"unreadable ({exc})"
        else:
            damage = "missing"
        if data is None and self.backup_path.exists():
            try:
                data = self._read_json(self.backup_path)
            except (OSError, ValueError):
                data = None
            else:
                self._problem(f"{path} was {damage}; recovered {_recovered(data)} from {self.backup_path.name}")
        if data is None:
            if damage != "missing":
                self._problem(f"{path}: {damage} manifest and no readable backup; the cache will be rebuilt")
            return {}
        if data.get("schema_version") != schema.SCHEMA_VERSION:
            self._problem(f"{path}: cache schema version {data.get('schema_version')!r} is not "
                          f"{schema.SCHEMA_VERSION}; the cache will be rebuilt")
            keep = {k: v for k, v in data.items() if k in (*OWN_STATE, ACCOUNTS) or k.split(":")[0] in OWN_STATE}
            return keep
        return data

    def write_manifest(self, data: dict[str, Any]) -> None:
        data = {**data, "schema_version": schema.SCHEMA_VERSION}
        text = json.dumps(data, indent=2, sort_keys=True, default=str)
        self._kept = None  # a failed write leaves the disk as the truth
        atomic_write_text(self.manifest_path, text)
        atomic_write_text(self.backup_path, text)  # second copy: one damaged file loses nothing
        if self._keeping:
            self._kept = json.loads(text)  # what a read would give (JSON types)

    def remove_leftovers(self, min_age: float = 60.0) -> list[Path]:
        """Delete the temporary files of writes killed half way, in ``dir``, ``frames_dir`` and
        its folders of open-data answers and search indexes (``paths.WRITTEN_FOLDERS``: flat, one
        listing each; a killed move's copies are ``migrate.clear_unfinished``'s). Call it holding
        the run lock; temporary files younger than ``min_age`` seconds are left alone (a command
        that needs no lock, refreshing the login token or building a search index, may be writing
        one right now). Returns what was removed."""
        import time
        folders = {self.dir, self.frames_dir, *(self.frames_dir / name for name in paths.WRITTEN_FOLDERS)}
        leftovers = {tmp for d in folders if d.is_dir() for tmp in d.glob(TMP_GLOB)}
        removed = paths.delete_leftovers(sorted(leftovers), keep=lambda tmp: time.time() - tmp.stat().st_mtime < min_age)
        if removed:
            log.info("removed %d leftover temporary file(s) of a killed write: %s", len(removed),
                     ", ".join(p.name if p.parent in (self.dir, self.frames_dir) else f"{p.parent.name}/{p.name}"
                               for p in removed))
        return removed

    def update_manifest(self, **changes: Any) -> dict[str, Any]:
        data = self.read_manifest()
        data.update(changes)
        self.write_manifest(data)
        return data

    def switch_account(self, user_id: str) -> tuple[str | None, dict[str, Any]]:
        """Make the manifest ``user_id``'s. When it is another account's (a login as someone
        else: after the stand-in's trial, or a second account), that account's own state (the
        managed playlist, your removals, pins) is set aside under ``accounts`` and given back if
        it logs in again, ``user_id`` gets back its own, and the cache's fetch time is forgotten
        so that the next run pulls the new account's library instead of scoring the other's.
        Returns the other account's id (None when the manifest is this account's or nobody's)
        and the manifest as it is now (as written, when it was switched: not read again)."""
        data = self.read_manifest()
        before = data.get("user_id")
        if not before or not user_id or str(before) == str(user_id):
            return None, data

        def own(key: str) -> bool:
            return key.split(":")[0] in ACCOUNT_STATE
        accounts = dict(data.get(ACCOUNTS) or {})
        accounts[str(before)] = {k: v for k, v in data.items() if own(k)}
        back = accounts.pop(str(user_id), None) or {}
        new = {k: v for k, v in data.items() if not own(k) and k not in ACCOUNT_CACHE and k != ACCOUNTS}
        new.update({k: v for k, v in back.items() if own(k)}, user_id=user_id)
        if accounts:
            new[ACCOUNTS] = accounts
        self.write_manifest(new)
        log.info("the manifest was %s's; set aside for %s", before, user_id)
        return str(before), new

    def data_version(self) -> tuple:
        """The stats (modification time, size, inode) of the manifest and of every frame's file,
        where it is read from (None: absent): changes with every write of the cached data,
        whichever command made it (a refresh, a steer, `import features`, `enrich genres`)."""
        manifest, frames = self.data_stats()
        return (manifest, *frames.values())

    def data_stats(self) -> tuple[tuple | None, dict[str, tuple | None]]:
        """``data_version``'s stats: the manifest's, and each frame's file's by frame name."""
        return file_stat(self.manifest_path), dict(zip(schema.FRAMES, self.frame_stats(schema.FRAMES)))

    def frame_stats(self, names) -> tuple:
        """The stats of the files the frames ``names`` are read from (``data_version``'s), from
        the stats ``frame_path`` decides by: each place stat-ed once, the file picked not again."""
        return tuple(self._source(name)[1] for name in names)

    # ----- frames ----------------------------------------------------------------------
    def _home(self, name: str) -> Path:
        """Where a frame is written: a frame no refresh makes (``MADE_BY``: the audio features you
        imported, the genres looked up) is state, kept with the manifest, so that a cache cleaner
        does not take what a re-pull cannot give back; every other frame is re-fetchable."""
        return (self.dir if name in MADE_BY else self.frames_dir) / f"{name}.parquet"

    def _before_the_move(self, name: str) -> Path:
        """Where versions of before the state/cache split kept a frame: a ``MADE_BY`` frame in the
        cache directory, every other one in the state directory (versions of 29 Nov 2026 kept
        all of the data there)."""
        return (self.frames_dir if name in MADE_BY else self.dir) / f"{name}.parquet"

    def frame_path(self, name: str) -> Path:
        """Where a frame is read from: its home, or for a frame an older version saved in the
        other directory (``_before_the_move``), that copy until the next save when it is the
        only one or the newer one (written by that version after this one's: gone back to it)."""
        return self._source(name)[0]

    def _source(self, name: str) -> tuple[Path, tuple | None]:
        """(``frame_path``, its stat: None when absent), each place stat-ed once."""
        return frame_source(self._home(name), self._before_the_move(name))

    def save_frame(self, name: str, df: pd.DataFrame) -> None:
        df = schema.conform(name, df)
        home = self._home(name)
        # an unchanged frame keeps its file (and modification time): a refresh that changed
        # one frame rewrites one file, and the search index built from tracks stays valid
        group = BY_TRACK_GROUP if name in BY_TRACK else None
        atomic_write(home, lambda p: df.to_parquet(p, index=False, row_group_size=group), keep_same=True)
        self.unreadable.discard(name)
        legacy = self._before_the_move(name)
        if legacy != home and not paths.same_place(legacy, home):  # never the file just written, by another name
            with contextlib.suppress(OSError):
                legacy.unlink(missing_ok=True)  # the copy from before the move, stale now

    def load_frame(self, name: str, only: Iterable[str] | None = None) -> pd.DataFrame | None:
        """The frame, or None when absent or unreadable (reported in ``problems``). A file that
        vanished while read (moved by a run holding the lock: ``migrate.move_refetchable``) is
        read once more from where it is now. ``only``: the rows whose first column (the id) is
        one of these ids, the others filtered out batch by batch, never all in memory."""
        self.unreadable.discard(name)
        path, stat = self._source(name)
        if stat is None:
            path, stat = self._source(name)  # moved since it was looked for
            if stat is None:
                return None
        damaged = _damaged_file_errors()
        try:
            return self._read_frame(name, path, only)
        except damaged as exc:
            moved = self.frame_path(name)
            if isinstance(exc, _OtherVersion) or path.exists() or moved == path or not moved.exists():
                return self._unreadable(name, path, exc)
        try:
            return self._read_frame(name, moved, only)
        except damaged as exc:
            return self._unreadable(name, moved, exc)

    @staticmethod
    def _read_frame(name: str, path: Path, only: Iterable[str] | None = None) -> pd.DataFrame:
        if only is None:
            df = pd.read_parquet(path)
            _check_columns(name, df.columns)
        else:
            import pyarrow.parquet as pq
            with pq.ParquetFile(path, pre_buffer=False) as file:
                _check_columns(name, file.schema_arrow.names)
                df = _rows_of(file, next(iter(schema.FRAMES[name])), only)
        return schema.conform(name, df)

    def _unreadable(self, name: str, path: Path, exc: Exception) -> None:
        self.unreadable.add(name)
        what = str(exc) if isinstance(exc, _OtherVersion) else f"unreadable cache file ({type(exc).__name__})"
        if name in MADE_BY:
            self._problem(f"{path}: {what}; a refresh does not make it: "
                          f"run `{MADE_BY[name]}` again (until then the tool works without it)")
        else:
            self.lost = f"{path}: {what}"
            self._problem(f"{self.lost}; the cache will be re-pulled")

    def with_features(self, library: Library, known: Library | None = None) -> Library:
        """``library`` with the stored rows of its tracks of the ``BY_TRACK`` frames: ``known``'s
        (a Library loaded before) when it held every one of the tracks, else read from the file
        (a scan of every row of it: 0.2 s for 1.2 million tracks). Unchanged when the file is
        absent or unreadable."""
        # by Arrow look-ups: pandas' isin on these string columns made one pyarrow scalar per id
        # (0.2 s for 20,000 tracks, twice a refresh)
        held_all = known is not None and bool((known.track_codes(library.track_ids) >= 0).all())
        ids = library.track_ids
        frames = {}
        for name in BY_TRACK:
            if held_all:
                held = known.frames[name]
                frame = held[library.track_codes(held["track_id"]) >= 0]
            else:
                frame = self.load_frame(name, only=ids)
            if frame is not None:
                frames[name] = frame
        return library.replace(**frames) if frames else library

    def save_library(self, library: Library, names: list[str] | None = None,
                     manifest: dict[str, Any] | None = None) -> None:
        """Write the frames as one unit: each file is atomic, and the manifest says ``saving``
        until the last one is in place, so a save stopped between two files (killed, Ctrl-C,
        disk full) is never loaded as a mix of new and old frames: the next run re-pulls.
        ``manifest``: changes that go with these frames (a pull's snapshots and counts), written
        in the one manifest write that ends the save: a stop after the frames never leaves them
        beside the previous pull's."""
        # a frame only its own command makes is written by that command alone (``save_frame``): a
        # Library holds only its tracks' rows of the audio features (``BY_TRACK``), and a damaged
        # frame written over would make the next runs forget to say that command must be run again
        names = [n for n in names or list(schema.FRAMES) if n not in MADE_BY]
        # this folder is said to be saving here before the mark is written: a reader in another
        # thread (the web app's pages) that saw the mark first would call this save a stopped one
        _SAVING_HERE.add(str(self.dir))
        written = 0
        try:
            # on the machine's clock: it is compared with the run lock's start (``_await_save``),
            # which is written on that clock too
            self.update_manifest(**{SAVING: system_now().replace(microsecond=0).isoformat()})
            for name in names:
                self.save_frame(name, library.frames[name])
                written += 1
        except BaseException:
            if not written:  # nothing replaced: the previous cache is whole and stays usable
                with contextlib.suppress(Exception):
                    self._saved()
            raise
        else:
            self._saved(manifest)
        finally:
            _SAVING_HERE.discard(str(self.dir))

    def _saved(self, changes: dict[str, Any] | None = None) -> None:
        data = self.read_manifest()
        data.pop(SAVING, None)
        data.update(changes or {})
        self.write_manifest(data)

    def _await_save(self, manifest: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """A manifest marked ``saving`` while another process (or another thread of this one)
        holds the run lock and saves is a save in progress, not a stopped one: wait (at most
        ``SAVE_WAIT`` seconds) for it to end. Returns the manifest then, and the holder when it
        is still saving (else None)."""
        import time
        deadline = time.monotonic() + SAVE_WAIT
        while manifest.get(SAVING):
            holder = self.lock_holder() if self.lock_holder is not None else None
            ours = holder is not None and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname()
            if holder is None or (ours and str(self.dir) not in _SAVING_HERE) \
                    or _earlier(manifest[SAVING], holder.get("started")):
                # nobody saving, or marked before the holder began: a stopped save, unless the mark
                # read before is gone now (the save ended, and its run with it, since that read)
                self.forget_manifest()
                now = self.read_manifest()
                if now.get(SAVING) == manifest[SAVING]:
                    return manifest, None
                manifest = now
                continue
            if time.monotonic() >= deadline:
                return manifest, holder
            time.sleep(0.1)
            self.forget_manifest()
            manifest = self.read_manifest()
        return manifest, None

    def load_library(self) -> Library | None:
        """The cached Library, or None when the cache is missing, old or corrupt. A save by
        another run that began after this read did (the manifest written since: its ``saving``
        mark) is waited for and the frames read again, never read as a mix of two pulls."""
        for _ in range(LOAD_TRIES - 1):
            before = self._manifest_stamp()
            library = self._load_library()
            if self._manifest_stamp() == before:
                return library
            self.forget_manifest()
            self.lost = None  # (that read's: this one replaces it)
        return self._load_library()

    def _manifest_stamp(self) -> tuple[int, int, int] | None:
        """Which write of manifest.json is on disk (each write is a new file: ``atomic_write``)."""
        try:
            st = self.manifest_path.stat()
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _load_library(self) -> Library | None:
        manifest = self.read_manifest()
        if not manifest.get("fetched_at"):
            return None
        if manifest.get(SAVING):
            manifest, saver = self._await_save(manifest)
        if manifest.get(SAVING):
            if saver is not None:
                self._problem(f"{self.frames_dir}: the cache is being saved by a run in progress (pid "
                              f"{saver.get('pid')}: {saver.get('command', '?')}); try again when it ends")
            else:  # damaged, as a file missing is: `evaluate --demo` said "run `recommend refresh` first"
                # (your library's pull), where the demo's is pulled again
                self.lost = (f"{self.frames_dir}: the save of the cache that began {manifest[SAVING]} stopped before "
                             "its last file")
                self._problem(f"{self.lost}; the cache will be re-pulled")
            return None
        frames: dict[str, pd.DataFrame] = {}
        for name in schema.FRAMES:  # the tracks frame first: the ids ``BY_TRACK`` frames are read for
            only = frames["tracks"]["track_id"].astype(str) if name in BY_TRACK and "tracks" in frames else None
            df = self.load_frame(name, only)
            if df is None and self.frame_path(name).exists() and name not in MADE_BY:
                return None
            if df is None and name in PULLED_FRAMES:
                self.lost = f"{self.frame_path(name)} is missing"
                self._problem(f"{self.lost}; the cache will be re-pulled")
                return None
            if df is not None:
                frames[name] = df
        return Library.of_conformed(frames, manifest.get("user_id", ""))  # load_frame conformed each

    def age_hours(self) -> float | None:
        """Hours since the last pull (``fetched_at``, by ``isotime.age_seconds``); None, unknown
        (refresh), when it is missing, unreadable or more than a day ahead of the clock."""
        seconds = age_seconds(self.read_manifest().get("fetched_at"))  # naive: UTC, as we write
        return None if seconds is None else seconds / 3600

    def damaged(self) -> str | None:
        """What a cache that was pulled (``fetched_at``) but could not be loaded lacks ("...
        artists.parquet is missing"), as ``load_library`` found it; None when nothing is amiss."""
        return self.lost if self.lost and self.read_manifest().get("fetched_at") else None

    def _problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)
            log.warning(message)


def _check_columns(name: str, columns) -> None:
    """_OtherVersion when a file of the frame ``name`` lacks a column this version's schema has."""
    missing = set(schema.FRAMES[name]) - set(columns)
    if missing:
        raise _OtherVersion(f"written by another version of the tool (no {', '.join(sorted(missing))} "
                            f"column{'s' if len(missing) > 1 else ''})")


def _rows_of(file, key: str, ids: Iterable[str]) -> pd.DataFrame:
    """The rows of the parquet ``file`` whose column ``key`` is one of ``ids``, read a batch at a
    time, in one thread (1.2 million rows of audio features: 0.2 s and ~45 MB, against 1 s and
    ~370 MB whole; ~90 MB from a file written before ``BY_TRACK_GROUP``, of 1M-row groups)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    arrow = file.schema_arrow
    wanted = [str(i) for i in ids]
    # the ids compared as text: a file this tool did not write may hold them as a dictionary,
    # integers or string_view (``_as_text``); one whose column is no text at all is read whole
    kind = arrow.field(key).type
    text = kind if kind in (pa.string(), pa.large_string()) else pa.large_string()
    value_set = pa.array(wanted, type=text)
    try:
        batches = [b.filter(pc.is_in(_as_text(b.column(key), text), value_set=value_set))
                   for b in file.iter_batches(batch_size=8192, use_threads=False)]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        df = file.read(use_threads=False).to_pandas()
        return df[df[key].astype(str).isin(set(wanted)).to_numpy()]
    return pa.Table.from_batches(batches, schema=arrow).to_pandas()


def _as_text(column, text):
    """``column`` as the text type ``text``: a dictionary decoded, any other type cast (a string
    column as it is)."""
    import pyarrow as pa
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column if column.type == text else column.cast(text)


def _earlier(marked: Any, started: Any) -> bool:
    """True when the ISO time ``marked`` is certainly before ``started`` (False when unknown)."""
    a, b = time_or_none(marked), time_or_none(started)
    return a is not None and b is not None and a < b


IDS = "a list of ids"
# the shape of what the tool reads back from the manifest ("<key>:<slot>" like "<key>"); a file
# that differs (a hand edit, damage that is still JSON) counts as unreadable, as garbage does
MANIFEST_SHAPE: dict[str, Any] = {
    "managed_playlist": (dict, None), "user_removed": IDS, "user_liked": IDS, "pin_requests": IDS, "managed_history": list,
    "fetched_at": (str, None), "user_id": str, "snapshots": dict, SAVING: str,
    # what a refresh reads back of its last one (``sync``: the artist genres probe, discovery's albums)
    "artist_genres_api": dict, "discovery": dict}
PLAYLIST_SHAPE: dict[str, Any] = {"id": str, "name": str, "last_written": IDS, "pinned": IDS, "ended_pins": IDS,
                                  "removed_at": dict,
                                  "pending": (IDS, None), "snapshot": (str, None), "unsettled": list,
                                  "cut_off": list, "not_yours": IDS}
DISCOVERY_SHAPE: dict[str, Any] = {"artists_checked": dict, "albums_by_artist": dict,  # the manifest's "discovery"
                                    "albums_per_artist": (dict, None)}


def fits(value: Any, shape: Any) -> bool:
    """Whether ``value``, read back from JSON, has ``shape``: a type, None, a tuple of
    alternatives, ``IDS`` (a list of strings), [shape] (a list of such), {field: shape} (an
    object whose fields have those shapes, a field it lacks read as None) or a test of it. The
    manifest's (``MANIFEST_SHAPE``) and the open-data answers' (``services.cache.SHAPES``)."""
    if isinstance(shape, tuple):
        return any(fits(value, s) for s in shape)
    if shape is None:
        return value is None
    if isinstance(shape, str):  # IDS
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if isinstance(shape, list):
        return isinstance(value, list) and all(fits(v, shape[0]) for v in value)
    if isinstance(shape, dict):
        return isinstance(value, dict) and all(fits(value.get(k), s) for k, s in shape.items())
    if isinstance(shape, type):
        return isinstance(value, shape)
    return bool(shape(value))


def _check_manifest(data: dict[str, Any]) -> None:
    """ValueError naming the first key whose value has not the shape the tool reads."""
    for key, value in data.items():
        shape = MANIFEST_SHAPE.get(key.split(":")[0])
        if shape is None:
            continue
        if not fits(value, shape):
            raise ValueError(f"{key} is not {_shape_name(shape)}")
        inner_shape = {"managed_playlist": PLAYLIST_SHAPE, "discovery": DISCOVERY_SHAPE}.get(key.split(":")[0])
        if inner_shape is not None and value is not None:
            for field, inner in inner_shape.items():
                if field in value and not fits(value[field], inner):
                    raise ValueError(f"{key}.{field} is not {_shape_name(inner)}")


def _shape_name(shape: Any) -> str:
    if isinstance(shape, tuple):
        return " or ".join(_shape_name(s) for s in shape)
    return {None: "null", dict: "an object", list: "a list", str: "a string"}.get(shape, str(shape))


def _recovered(data: dict[str, Any]) -> str:
    """'the managed playlist, 3 tracks you removed, 2 managed playlists' for the recovery line."""
    parts = []
    if (data.get("managed_playlist") or {}).get("id"):
        parts.append(f"the managed playlist {data['managed_playlist']['id']}")
    removed = len(data.get("user_removed") or [])
    parts.append(f"{removed} track{'s' if removed != 1 else ''} you removed")
    managed = len(data.get("managed_history") or [])
    if managed:
        parts.append(f"{managed} playlist{'s' if managed != 1 else ''} managed so far")
    return ", ".join(parts)
