"""Where `search`, `similar` and `moods` read their library from, and the search index cached
beside it.

Three sources: the user's cache (the default), a playlist data file (``--dataset FILE``, the
formats ``evaluate`` reads) and the demo (``--demo``: the sample library pulled through the
local stand-in into ``<data directory>/demo``, as ``build-playlist --demo`` does; pulled once, then
read from that cache).

The search index is cached as one ``.npz`` file in the directory of re-fetchable data
(``settings.frames_dir``, the user cache dir): ``<cache>/search_index.npz`` for the cache
(and the demo cache), ``<cache>/datasets/search-<hash of the path>.npz`` for a data file. It
records a fingerprint of what it was built from (path, size and modification time of the
tracks file or the data file), so it is rebuilt whenever the library changes. Nothing here
imports pandas at module level: a warm search needs numpy only.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterable
from typing import Any

from .paths import SAMPLE_LIBRARY, frame_source


log = logging.getLogger(__name__)

INDEX_FILE = "search_index.npz"


@dataclass
class LibrarySource:
    """One library to explore: ``settings`` (for the demo: the demo's, whose cache is
    ``<cache>/demo``) and ``dataset`` (a data file) or None (the cache); ``demo``: the cache is
    the sample library's (its errors name `recommend playlists --demo`)."""

    settings: Any
    dataset: Path | None = None
    features: str = "full"
    demo: bool = False
    repull: Any = None  # the demo's: pulls the sample library again (``load``)

    @property
    def frames_dir(self) -> Path:
        return Path(self.settings.frames_dir)

    @property
    def label(self) -> str:
        """The library read, as messages name it (the demo's by what it is, not by its folder)."""
        if self.dataset is not None:
            return str(self.dataset)
        return SAMPLE_LIBRARY if self.demo else f"the cache in {self.frames_dir}"

    def _file(self) -> Path:
        """The data file, or the cache's tracks file where the store reads it: the cache
        directory, or the data directory where a version from before the cache directory kept
        it, until a run holding the lock moves it (README: Upgrading)."""
        if self.dataset is not None:
            return self.dataset
        return frame_source(self.frames_dir / "tracks.parquet", Path(self.settings.cache_dir) / "tracks.parquet")[0]

    def fingerprint(self) -> str:
        """Changes whenever the library's tracks may have changed."""
        path = self._file()
        try:
            st = path.stat()
        except OSError:
            return ""
        return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"

    def index_path(self) -> Path:
        if self.dataset is None:
            return self.frames_dir / INDEX_FILE
        digest = hashlib.sha1(str(self.dataset.resolve()).encode("utf-8")).hexdigest()[:16]
        return self.frames_dir / "datasets" / f"search-{digest}.npz"

    def load(self, refs: Iterable[str] = ()):
        """The Library (NotEnoughData when the cache holds none; DataError for a bad file);
        from the cache without the playlists this tool wrote (``jobs.taste_library``), so that
        similar and moods never take our own output for your taste (a playlist of ours named in
        ``refs`` is a UsageError saying so)."""
        if self.dataset is not None:
            from .dataset import load_dataset
            return load_dataset(self.dataset, features=self.features)
        from .errors import DamagedCache
        from .jobs import taste_library
        try:
            return taste_library(self.settings, refs=refs, playlists_of=SAMPLE_LIBRARY if self.demo else None)
        except DamagedCache:  # the demo's pulled again, as a missing one is: the message's
            if self.repull is None:  # "`recommend refresh` pulls it again" pulls your library, not the demo's
                raise
        log.warning("the demo's cache cannot be read: pulling the sample library again")
        self.repull()
        return taste_library(self.settings, refs=refs, playlists_of=SAMPLE_LIBRARY)


def open_source(settings, dataset: Path | None = None, demo: bool = False, progress=None) -> LibrarySource:
    """The source the options name; with ``demo`` the sample library is pulled through the
    stand-in first when the demo cache has none yet."""
    if dataset is not None and demo:
        from .errors import UsageError
        raise UsageError("--dataset and --demo cannot be combined: pick one library")
    if dataset is not None:
        return LibrarySource(settings, Path(dataset))
    if not demo:
        return LibrarySource(settings)
    from .paths import demo_settings
    source = LibrarySource(demo_settings(settings), demo=True, repull=lambda: _pull_demo(settings))  # (no bar: the command's has ended by then)
    if not source.fingerprint():
        _pull_demo(settings, progress)
    return source


def _pull_demo(settings, progress=None) -> None:
    """Fill the demo cache from the stand-in's sample account (login + pull)."""
    from . import jobs
    with jobs.demo_environment(settings) as (demo, _server):
        jobs.demo_login(demo)
        jobs.refresh(demo, progress=progress)


def with_sample_features(source: LibrarySource, library):
    """The demo's library with the sample's audio features (imported into the demo cache the
    first time), so that `moods ... --demo` has valence and energy, as `recommend web --demo` has."""
    if len(library.frames["audio_features"]):
        return library
    from .jobs import import_sample_features
    import_sample_features(source.settings)
    return source.load()


INDEX_STAGE = "search index"  # the progress stage of a build


def search_index(source: LibrarySource, library=None, progress=None):
    """The source's SearchIndex: the cached one when it was built from the current library,
    else built (from ``library`` when given) and saved for the next call; ``progress(stage,
    done, total)`` is told the build's tracks (``INDEX_STAGE``; nothing when the cached one is used)."""
    from .searchindex import SearchIndex
    fp = source.fingerprint()
    path = source.index_path()
    index = SearchIndex.load(path, fingerprint=fp) if fp else None
    if index is not None:
        return index
    from .explore import index_tracks
    if progress is not None:
        progress(INDEX_STAGE, 0, None)  # reading the library comes first
    library = library if library is not None else source.load()
    tracks = index_tracks(library)
    index = SearchIndex.build(tracks, fingerprint=fp, progress=(lambda done, total: progress(INDEX_STAGE, done, total))
                              if progress is not None else None)
    if fp:
        from .errors import StorageError
        try:
            index.save(path)
        except (OSError, StorageError) as exc:  # a read-only cache still searches, just not as fast next time
            log.warning("could not save the search index to %s: %s", path, exc)
    return index


def require_tracks(source: LibrarySource) -> None:
    """NotEnoughData when the source has no library file at all (before any work); DataError
    for a data file that is ``-`` or a pipe (``features.check_input``)."""
    if source.dataset is not None:
        from .features import check_input
        check_input(source.dataset)
    if not source.fingerprint():
        if source.dataset is not None:
            from .errors import DataError
            raise DataError(f"{source.dataset}: file not found")
        from .jobs import ADD_DEMO, no_library
        raise no_library(source.frames_dir, ADD_DEMO)


def search(source: LibrarySource, query: str, limit: int = 10, min_score: float | None = None,
           progress=None) -> list[dict]:
    """Local search of the source with the cached index (numpy only when it is warm): dicts
    with track_id, name, artists, album, score; [] when nothing scores ``min_score``
    (default ``searchindex.MIN_SCORE``). UsageError for a query without letters or digits.
    ``progress``: as ``search_index``'s, for a build."""
    from .searchindex import MIN_SCORE, check_query, empty_library
    check_query(query)  # "  !? ", or an album's link: "No match" said nothing of why
    require_tracks(source)
    index = search_index(source, progress=progress)
    if not index.tracks:  # "No match ... (nothing scored 0.35 or more)" of a library with no track at all
        raise empty_library(source.label, mine=source.dataset is None and not source.demo)
    return index.query(query, limit, MIN_SCORE if min_score is None else min_score)
