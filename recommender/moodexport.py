"""`moods cluster --export`: each mood cluster kept as its own managed private playlist.

Each cluster goes to a private playlist named ``"recommend: <mood>"`` (the cluster's label).
Like the main managed playlist (``publish``) it is created once, its id kept in the cache
manifest (under ``mood_playlists``: name -> {id, last_written, pending, updated_at}), and
later exports update it in place with publish's plan/apply/verify (``publish.Plan``,
``publish.apply_plan``, ``publish.read_items``). A playlist lost from the manifest is adopted
again by exact name + owner + the managed marker in its description. Only playlists found
that way, or created here, are ever written: never the user's other playlists, never the
main managed playlist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from .store import Store, now_iso

log = logging.getLogger(__name__)

MANIFEST_KEY = "mood_playlists"
PREFIX = "recommend: "


@dataclass
class MoodPlaylist:
    """What one export did to one mood playlist."""

    name: str
    playlist_id: str
    created: bool
    added: int
    removed: int
    kept: int

    def to_dict(self) -> dict:
        return {"name": self.name, "playlist_id": self.playlist_id, "created": self.created, "added": self.added,
                "removed": self.removed, "kept": self.kept}


def playlist_name(mood: str) -> str:
    return f"{PREFIX}{mood}"


def _find(listed: dict[str, dict], known: dict, name: str, user_id: str) -> str | None:
    """The id of our playlist called ``name``: the manifest's when it still exists, else an
    adopted one (owned by the user, that exact name, our marker in its description)."""
    from .publish import MARKER
    pid = (known.get(name) or {}).get("id")
    if pid and pid in listed:
        return pid
    for p in listed.values():
        if ((p.get("owner") or {}).get("id") == user_id and p.get("name") == name
                and MARKER in (p.get("description") or "")):
            log.info("adopting existing mood playlist %s (%s)", name, p["id"])
            return p["id"]
    return None


def export_moods(gateway, store: Store, user_id: str, moods: dict[str, list[str]], sources: str
                 ) -> list[MoodPlaylist]:
    """Write each mood's tracks (name -> track ids, in order) to its managed private playlist.

    The manifest records ``pending`` before a write and ``last_written`` after the playlist was
    read back equal to the plan; a failure (SpotifyUnavailable, RateLimited) leaves the
    playlist for the next export to finish. Returns one MoodPlaylist per mood.
    """
    from .publish import MARKER, Plan, apply_plan, read_items
    listed = {p["id"]: p for p in gateway.pages("me/playlists") if p and p.get("id")}
    known = dict(store.read_manifest().get(MANIFEST_KEY) or {})
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    out = []
    for mood, desired in moods.items():
        name = playlist_name(mood)
        desired = list(dict.fromkeys(desired))
        pid = _find(listed, known, name, user_id)
        created = pid is None
        if created:
            text = f"Mood cluster of {sources}, {date}. {MARKER}"
            pid = gateway.create_playlist(name, False, text)["id"]
        current = [] if created else read_items(gateway, pid)
        plan = Plan(current=current, desired=desired)
        known[name] = {**known.get(name, {}), "id": pid, "pending": desired, "updated_at": now_iso()}
        store.update_manifest(**{MANIFEST_KEY: known})
        if not plan.unchanged:
            apply_plan(gateway, pid, plan)
        known[name].update(last_written=desired, pending=None, updated_at=now_iso())
        store.update_manifest(**{MANIFEST_KEY: known})
        out.append(MoodPlaylist(name, pid, created, len(plan.added), len(plan.removed), len(plan.kept)))
    return out


def export_job(settings, library, moods: dict[str, list[str]], sources: str, demo: bool = False
               ) -> list[MoodPlaylist]:
    """``export_moods`` for the CLI: the user's account under the run lock, or with ``demo``
    the built-in stand-in (the demo's own cache and account)."""
    from . import jobs
    if demo:
        with jobs.demo_environment(settings) as (demo_settings, _server):
            jobs.demo_login(demo_settings)
            gateway = jobs.connect(demo_settings)
            with jobs.writing(demo_settings, "moods cluster --export"):
                return export_moods(gateway, jobs.open_store(demo_settings), library.user_id, moods, sources)
    gateway = jobs.connect(settings)
    with jobs.writing(settings, "moods cluster --export"):
        return export_moods(gateway, jobs.open_store(settings), library.user_id, moods, sources)
