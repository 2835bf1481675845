"""``recommend config migrate``: move a source checkout's old ``config/user.yaml`` and
``cache/`` to the user's config file, state directory and cache directory (see ``paths``).

The config file is copied (the old one is then never read again, since the new one wins);
the cache entries are moved, under the old cache's run lock, re-fetchable ones (frames,
open-data answers, search indexes: ``paths.refetchable``) into the user cache dir and the rest
(manifest, login, logs, the demo) into the user state dir, and only into directories that hold
nothing yet, so nothing is ever overwritten. ``moved.json`` (``paths.MOVED_MARKER``) is left in
the old ``cache/`` naming where everything went, so an old crontab line that still names the old
cache and config file reads the moved ones (``paths.moved_dirs`` / ``paths.moved_config``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .errors import UsageError, make_dirs, private_mkdirs
from .lock import RunLock
from .wording import and_list, plural

log = logging.getLogger(__name__)

KEEP = {".gitkeep", "recommend.lock", paths.MOVED_MARKER}  # stays in the checkout


@dataclass
class Migration:
    """What was (or, with ``dry_run``, would be) moved: (source, destination) pairs."""

    config: tuple[Path, Path] | None = None
    cache: tuple[Path, Path] | None = None
    entries: list[str] = field(default_factory=list)
    dry_run: bool = False
    cache_dest: Path | None = None  # where the re-fetchable entries go (cache[1] holds the others)

    @property
    def refetchable(self) -> list[str]:
        return [name for name in self.entries if paths.refetchable(name)]

    def destination(self, name: str) -> Path:
        assert self.cache is not None
        folder = self.cache_dest if paths.refetchable(name) and self.cache_dest is not None else self.cache[1]
        return folder / name

    @property
    def nothing(self) -> bool:
        return self.config is None and self.cache is None


def plan(legacy: paths.Legacy | None = None) -> Migration:
    """What ``migrate`` would do, from the old places currently in use."""
    legacy = paths.legacy_places() if legacy is None else legacy
    out = Migration(dry_run=True)
    if legacy.config is not None:
        out.config = (legacy.config, paths.user_config_file())
    if legacy.cache is not None:
        out.cache = (legacy.cache, paths.user_data_dir())
        out.cache_dest = paths.user_cache_dir()
        out.entries = sorted(p.name for p in legacy.cache.iterdir() if p.name not in KEEP)
    return out


def migrate(legacy: paths.Legacy | None = None, dry_run: bool = False) -> Migration:
    """Copy the old config file and move the old cache; returns what was done."""
    m = plan(legacy)
    m.dry_run = dry_run
    if m.nothing:
        return m
    # every refusal before anything changes: a refused cache move must not leave the config
    # copied; and in a dry run too, so that it never promises a move the real run refuses
    if m.config is not None and m.config[1].exists():
        raise UsageError(f"{m.config[1]} exists already; not overwriting it with {m.config[0]}")
    if m.cache is not None:
        src, dst = m.cache
        targets = sorted({m.destination(name).parent for name in m.entries} | {dst})
        for folder in targets:
            held = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
            if held:
                shown = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
                raise UsageError(f"{folder} is not empty (it holds {shown}); move the files of {src} yourself")
    if dry_run:
        return m
    if m.config is not None:
        config_src, config_dst = m.config
        make_dirs(config_dst.parent)
        from .store import atomic_write  # a copy cut short (a full disk) left a partial config, then in use
        atomic_write(config_dst, lambda tmp: shutil.copy2(config_src, tmp))
        log.info("copied %s to %s", config_src, config_dst)
    if m.cache is not None:
        for folder in targets:
            make_dirs(folder)
        with RunLock(src / "recommend.lock", command="config migrate"):
            for name in m.entries:
                shutil.move(str(src / name), str(m.destination(name)))
        log.info("moved %d %s from %s to %s", len(m.entries), plural(len(m.entries), "entry", "entries"), src,
                 and_list(targets))
    _leave_marker(m)
    return m


def _leave_marker(m: Migration) -> None:
    """``moved.json`` in the checkout's ``cache/``: what moved where (merged with an earlier one)."""
    if m.cache is not None:
        folder = m.cache[0]
    else:
        assert m.config is not None
        folder = m.config[0].parent.parent / "cache"
        if not folder.is_dir():
            return
    marker = folder / paths.MOVED_MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data = data if isinstance(data, dict) else {}
    if m.cache is not None:
        data.update(state=str(m.cache[1]), cache=str(m.cache_dest or m.cache[1]))
    if m.config is not None:
        data["config"] = [str(m.config[0].resolve()), str(m.config[1])]
    from .errors import StorageError
    from .store import atomic_write_text
    try:
        atomic_write_text(marker, json.dumps(data, indent=2) + "\n")
    except (OSError, StorageError) as exc:  # the move is done; only an old crontab line will not follow it
        log.warning("could not leave %s: %s", marker, exc)


def move_refetchable(state: Path, cache: Path) -> list[str]:
    """Move what an older version kept in the state directory ``state`` and this one reads
    from the cache directory ``cache`` (frames, open-data answers, search indexes:
    ``paths.refetchable``; versions of 29 Nov 2026 kept all of the data in the state directory),
    so that an upgrade re-asks nothing. When both hold a copy, the newer one (by modification
    time) is kept and the other deleted, a directory both hold entry by entry (``_merge``:
    going back to such a version and forward again keeps each file either pulled, the newer
    of two copies of one answer file whole). Nothing is deleted
    through another name of itself (a symlink, a bind mount: ``paths.same_place``), and a copy
    onto another filesystem goes to ``.NAME.moving`` first (``_move_over``). Call it holding the
    run lock. Returns the names moved (a directory: some of its entries), and those of the
    frames moved the other way (``_move_state_frames``).

    Leftovers only follow a move: ``paths.MOVE_UNDER_WAY`` is written in ``cache`` before one
    and removed after it, so a run finding it (the last move was killed) clears them at every
    depth, and any other run only looks at ``cache`` itself (one listing, never a walk of the
    open-data answers)."""
    marker = cache / paths.MOVE_UNDER_WAY
    killed = os.path.lexists(marker)
    cleared = _clear(cache, deep=killed)
    olds = [] if paths.same_place(state, cache) or not state.is_dir() else \
        [old for old in sorted(state.iterdir()) if paths.refetchable(old.name)]
    if olds:
        with contextlib.suppress(OSError):  # (a cache that cannot be written: every move fails, and says so)
            private_mkdirs(cache)
            marker.touch(mode=0o600)
    moved = [old.name for old in olds if _merge(old, cache / old.name)]
    if moved:
        log.info("moved %s from %s (where an older version kept them) to %s", ", ".join(moved), state, cache)
    if olds:
        cleared = _clear(cache)  # the partial copies of moves that failed (a full disk): their old copy is kept
    if (olds or killed) and cleared:  # a leftover that could not be deleted: the next run looks again
        with contextlib.suppress(OSError):
            marker.unlink(missing_ok=True)
    return moved + _move_state_frames(cache, state)


def _move_state_frames(cache: Path, state: Path) -> list[str]:
    """Move into the state directory ``state`` the frames no refresh makes (``paths.STATE_FRAMES``:
    the imported audio features, the genres looked up) that versions of 29-30 Nov 2026 kept in
    the cache directory ``cache``, which a cache cleaner may empty (a refresh of those versions
    rewrote them into ``state``; one of this version never writes them). A rename, the newer copy
    kept when both hold one (``_merge``); a copy onto another filesystem that a killed run left
    (``.NAME.moving`` in ``state``) is deleted, and the move made again while the old copy is there."""
    if paths.same_place(state, cache):
        return []
    moved = []
    for name in paths.STATE_FRAMES:
        old, leftover = cache / name, state / f".{name}{paths.MOVING}"
        if os.path.lexists(old) and _merge(old, state / name):
            moved.append(name)
        elif os.path.lexists(leftover) and not os.path.lexists(old):
            with contextlib.suppress(OSError):
                paths.delete(leftover)
    if moved:
        log.info("moved %s from %s (where an older version kept them) to %s", ", ".join(moved), cache, state)
    return moved


def _merge(old: Path, new: Path) -> bool:
    """Put ``old`` at ``new`` when ``new`` is absent or older, else delete ``old``; a directory
    both hold is merged entry by entry (recursively: the newer copy of each entry wins, an entry
    only one holds is kept), and the old one deleted once empty. True when anything was moved."""
    try:
        if paths.same_place(old, new):  # one file under two names
            return False
        if old.is_dir() and not old.is_symlink() and new.is_dir():
            moved = [_merge(entry, new / entry.name) for entry in sorted(old.iterdir())]
            if not any(old.iterdir()):
                old.rmdir()
            return any(moved)
        if new.exists() and _newest(new) >= _newest(old):
            paths.delete(old)
            return False
        make_dirs(new.parent)
        _move_over(old, new)
        return True
    except OSError as exc:
        log.warning("could not move %s to %s (%s)", old, new, exc)
        return False


def _newest(path: Path) -> float:
    """The modification time of ``path``, of a directory its newest entry's (a directory meets
    a file of its name only: two directories are merged)."""
    newest = path.stat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
    return newest


def clear_unfinished(cache: Path, deep: bool = True) -> list[Path]:
    """``_found_and_removed``'s deleted copies."""
    return _found_and_removed(cache, deep)[1]


def _found_and_removed(cache: Path, deep: bool = True) -> tuple[list[Path], list[Path]]:
    """Delete the copies a killed move left (``unfinished_moves``: made only by a run holding
    the lock, so never in use by the one that calls this, holding it); not ``deep``: only those
    in ``cache`` itself. Returns the copies found and those deleted (one that cannot be deleted
    is logged and left)."""
    found = unfinished_moves(cache, deep)
    removed = paths.delete_leftovers(found)
    if removed:
        log.info("removed %d unfinished %s of a killed move: %s", len(removed), plural(len(removed), "copy", "copies"),
                 ", ".join(str(p.relative_to(cache)) for p in removed))
    return found, removed


def _clear(cache: Path, deep: bool = True) -> bool:
    """``clear_unfinished``: True when it deleted every copy it found (none left to look for)."""
    found, removed = _found_and_removed(cache, deep)
    return len(removed) == len(found)


def unfinished_moves(cache: Path, deep: bool = True) -> list[Path]:
    """The copies ``_move_over`` left unfinished in ``cache`` (a run killed meanwhile): the
    ``.NAME.moving`` entries in it and (``deep``), at any depth, in the directories ``_merge``
    merges."""
    found: list[Path] = []
    if not deep:
        try:
            return [cache / name for name in sorted(os.listdir(cache)) if _unfinished(name)]
        except OSError:  # no cache yet
            return found
    if not cache.is_dir():
        return found
    for root, dirs, files in os.walk(cache):
        here = Path(root)
        found += [here / name for name in dirs + files if _unfinished(name)]
        dirs[:] = [name for name in dirs if not name.endswith(paths.MOVING) and (here != cache or paths.refetchable(name))]
    return found


def _unfinished(name: str) -> bool:
    return name.startswith(".") and name.endswith(paths.MOVING)


def _move_over(old: Path, new: Path) -> None:
    """Put ``old`` at ``new`` (replacing what is there), then delete ``old``: in one rename on
    one filesystem, else copied to ``.NAME.moving`` beside ``new`` and renamed into place, so
    that a run killed half way leaves ``old`` whole and no partial ``new`` (the leftovers are
    cleared by the next run holding the lock: ``clear_unfinished``)."""
    moving = new.with_name(f".{new.name}{paths.MOVING}")
    stale = new.with_name(f".{new.name}.stale{paths.MOVING}")
    for leftover in (moving, stale):
        if os.path.lexists(leftover):
            paths.delete(leftover)
    if new.is_dir() and not new.is_symlink():
        os.rename(new, stale)  # a directory is not replaced in one step: the older copy goes aside
    try:
        os.replace(old, new)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        if old.is_dir() and not old.is_symlink():
            shutil.copytree(old, moving, symlinks=True)
        else:
            shutil.copy2(old, moving, follow_symlinks=False)
        os.replace(moving, new)
        paths.delete(old)
    if os.path.lexists(stale):
        paths.delete(stale)
