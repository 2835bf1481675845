"""Export a taste-map cluster as its own private playlist, written like the managed one.

The same code as ``moods cluster --export`` (``recommender.moodexport``): each cluster name is
a slot of ``publish``, created once, updated in place, the user's edits respected, and
remembered among the playlists the tool manages (so it never becomes taste).
"""

from __future__ import annotations

from typing import Any

from .. import jobs


def export_cluster(settings, gateway, label: str, cluster: int, track_ids: list[str]) -> dict[str, Any]:
    from ..moodexport import export_moods
    name = f"{settings.playlist.name} - mood {cluster + 1}: {label}"
    store = jobs.open_store(settings)
    with jobs.writing(settings, "web export"):
        user_id = (gateway.get("me") or {}).get("id", "")
        done = export_moods(gateway, store, settings, user_id, {label: list(track_ids)}, "your library",
                            names={label: name})[0]
    return {"playlist_id": done.playlist_id, "name": name, "tracks": done.added + done.kept,
            "created": done.created}
