"""Export a taste-map cluster as its own private playlist, written like the managed one.

Each cluster name is a slot of ``publish`` (``mood:<name>``): created once, updated in place,
the user's edits respected, and remembered among the playlists the tool manages (so it never
becomes taste). Only playlists this tool created are ever written.
"""

from __future__ import annotations

from typing import Any

from .. import jobs


def export_cluster(settings, gateway, label: str, cluster: int, track_ids: list[str]) -> dict[str, Any]:
    from ..publish import managed_state, publish
    name = f"{settings.playlist.name} - mood {cluster + 1}: {label}"
    store = jobs.open_store(settings)
    with jobs.writing(settings, "web export"):
        user_id = (gateway.get("me") or {}).get("id", "")
        state = managed_state(gateway, store, settings, user_id, name=name, slot=f"mood:{name}")
        pub = publish(gateway, store, settings, state, list(track_ids), {},
                      text="A mood of your library, exported by recommend web.")
    return {"playlist_id": pub.playlist_id, "name": name, "tracks": len(pub.plan.desired),
            "created": bool(getattr(pub, "created", False))}
