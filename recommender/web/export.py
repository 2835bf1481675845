"""Export a taste-map cluster as its own private playlist, written like the managed one.

The playlist is created once per cluster name (its id kept in the manifest under
``exported_playlists``), marked "Managed automatically.", and written with
``publish.apply_plan`` (replace, add in chunks of 100, read back and verify). Only playlists
this function created are ever written.
"""

from __future__ import annotations

from typing import Any

from .. import jobs

EXPORTED = "exported_playlists"  # manifest key: playlist name -> id


def export_cluster(settings, gateway, label: str, cluster: int, track_ids: list[str]) -> dict[str, Any]:
    from ..publish import MARKER, Plan, apply_plan, read_items
    name = f"{settings.playlist.name} - mood {cluster + 1}: {label}"
    store = jobs.open_store(settings)
    with jobs.writing(settings, "web export"):
        exported = dict(store.read_manifest().get(EXPORTED, {}))
        pid = exported.get(name)
        listed = {p["id"] for p in gateway.pages("me/playlists") if p and p.get("id")}
        created = False
        if pid not in listed:
            pid = gateway.create_playlist(name, bool(settings.playlist.public),
                                          f"A mood of your library, exported by recommend web. {MARKER}")["id"]
            created = True
            exported[name] = pid
            store.update_manifest(**{EXPORTED: exported})
        current = [] if created else read_items(gateway, pid)
        held = apply_plan(gateway, pid, Plan(current=current, desired=list(track_ids)))
    return {"playlist_id": pid, "name": name, "tracks": len(held), "created": created}
