"""cache/: one parquet file per frame plus ``manifest.json``.

Every write is atomic (temporary file in the same folder, then ``os.replace``), so a killed
run leaves either the old file or the new one. A corrupt file or a cache written by another
schema version is reported (``Store.problems``) and treated as absent, so the caller refetches.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from . import schema
from .errors import StorageError
from .library import Library

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


def atomic_write(path: Path, write: Callable[[Path], None], mode: int | None = None) -> None:
    """Call ``write(tmp_path)`` then move the temporary file over ``path`` atomically.

    The file gets ``mode`` when given; else a file that exists keeps its permissions (a 0644
    config stays 0644) and a new one is 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None and path.exists():
        mode = path.stat().st_mode & 0o7777
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        if StorageError.matches(exc):
            raise StorageError.from_os_error(exc, path) from None
        raise
    os.close(fd)
    try:
        if mode is not None:
            os.chmod(tmp, mode)
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if StorageError.matches(exc):  # disk full, read-only...: one line naming the file
            raise StorageError.from_os_error(exc, path) from None
        raise


def atomic_write_text(path: Path, text: str, mode: int | None = None) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"), mode)


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class Store:
    """Frames and manifest of one cache directory."""

    def __init__(self, cache_dir: Path | str) -> None:
        self.dir = Path(cache_dir)
        self.problems: list[str] = []

    # ----- manifest --------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.dir / MANIFEST

    def read_manifest(self) -> dict[str, Any]:
        """The manifest, or {} when absent, corrupt or of another schema version."""
        path = self.manifest_path
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as exc:
            self._problem(f"{path}: unreadable manifest ({exc}); the cache will be rebuilt")
            return {}
        if data.get("schema_version") != schema.SCHEMA_VERSION:
            self._problem(f"{path}: cache schema version {data.get('schema_version')!r} is not "
                          f"{schema.SCHEMA_VERSION}; the cache will be rebuilt")
            keep = {k: data[k] for k in ("managed_playlist", "user_removed") if k in data}
            return keep
        return data

    def write_manifest(self, data: dict[str, Any]) -> None:
        data = {**data, "schema_version": schema.SCHEMA_VERSION}
        atomic_write_text(self.manifest_path, json.dumps(data, indent=2, sort_keys=True, default=str))

    def update_manifest(self, **changes: Any) -> dict[str, Any]:
        data = self.read_manifest()
        data.update(changes)
        self.write_manifest(data)
        return data

    # ----- frames ----------------------------------------------------------------------
    def frame_path(self, name: str) -> Path:
        return self.dir / f"{name}.parquet"

    def save_frame(self, name: str, df: pd.DataFrame) -> None:
        df = schema.conform(name, df)
        atomic_write(self.frame_path(name), lambda p: df.to_parquet(p, index=False))

    def load_frame(self, name: str) -> pd.DataFrame | None:
        """The frame, or None when absent or unreadable (reported in ``problems``)."""
        path = self.frame_path(name)
        if not path.exists():
            return None
        try:
            df = pd.read_parquet(path)
            missing = set(schema.FRAMES[name]) - set(df.columns)
            if missing:
                raise ValueError(f"missing columns {sorted(missing)}")
            return schema.conform(name, df)
        except Exception as exc:  # pyarrow raises several unrelated types for bad files
            self._problem(f"{path}: unreadable cache file ({type(exc).__name__}); it will be refetched")
            return None

    def save_library(self, library: Library, names: list[str] | None = None) -> None:
        for name in names or list(schema.FRAMES):
            self.save_frame(name, library.frames[name])

    def load_library(self) -> Library | None:
        """The cached Library, or None when the cache is missing, old or corrupt."""
        manifest = self.read_manifest()
        if not manifest.get("fetched_at"):
            return None
        frames = {}
        for name in schema.FRAMES:
            df = self.load_frame(name)
            if df is None and self.frame_path(name).exists():
                return None
            if df is not None:
                frames[name] = df
        if "tracks" not in frames:
            return None
        return Library.from_frames(user_id=manifest.get("user_id", ""), **frames)

    def age_hours(self) -> float | None:
        fetched = self.read_manifest().get("fetched_at")
        if not fetched:
            return None
        try:
            then = datetime.fromisoformat(fetched)
        except ValueError:
            return None
        return (datetime.now(timezone.utc) - then).total_seconds() / 3600

    def _problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)
            log.warning(message)
