"""Export a taste-map cluster or a Moods page list as its own private playlist, written like
the managed one.

The same code as ``moods cluster --export`` (``recommender.moodexport``): each cluster name is
a slot of ``publish``, created once, updated in place, the user's edits respected, and
remembered among the playlists the tool manages (so it never becomes taste).
"""

from __future__ import annotations

from typing import Any

from .. import jobs

EXPORT_COMMAND = "moods export (web)"  # an export's name in the run log, as a Publish is "build-playlist (web)"


def export_cluster(settings, gateway, label: str, cluster: int, track_ids: list[str], user_id: str) -> dict[str, Any]:
    return export_tracks(settings, gateway, label, f"{settings.playlist.name} - mood {cluster + 1}: {label}", track_ids,
                         user_id)


def export_mood(settings, gateway, mood: str, track_ids: list[str], user_id: str) -> dict[str, Any]:
    """The Moods page's list to ``"recommend: <mood>"``: the playlist `moods recommend --export`
    writes, so the page and the CLI keep one playlist per mood."""
    from ..moodexport import playlist_name
    return export_tracks(settings, gateway, mood, playlist_name(mood), track_ids, user_id)


def export_tracks(settings, gateway, mood: str, name: str, track_ids: list[str], user_id: str) -> dict[str, Any]:
    """``track_ids`` to the mood playlist ``name`` (slot ``mood:<name>``), under the run lock.
    ``user_id``: the account of the library the tracks come from (the one the page loaded, never
    the manifest's, which a refresh in a terminal may have handed over): a login of another one is
    caught before anything is created in it (publish.managed_state), rather than this library's
    tracks exported into that account."""
    import time

    from ..moodexport import export_moods, export_summary
    from ..runlog import record_run
    started = time.monotonic()
    store = jobs.open_store(settings)
    with jobs.writing(settings, "web export"):
        done = export_moods(gateway, store, settings, user_id, {mood: list(track_ids)}, "your library",
                            names={mood: name})[0]
    # in the run log as the CLI's exports and the Publish are (`recommend status`, the Runs page)
    record_run(settings.cache_dir, EXPORT_COMMAND, 0, started, **export_summary([done]))
    return {"playlist_id": done.playlist_id, "name": done.name, "tracks": done.added + done.kept,  # as created
            "created": done.created}
