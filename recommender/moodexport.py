"""`moods cluster --export` and `moods recommend --export`: each mood kept as its own managed
private playlist.

Each cluster (or mood list) goes to a private playlist named ``"recommend: <mood>"`` (the
cluster's label, the mood's name, or "valence V, energy E" for a point of the plane),
kept by ``publish`` exactly like the main managed playlist, in a slot of its own
(``mood:<name>``): created once, updated in place with plan/apply/verify, the user's edits
respected (tracks they remove stay out, tracks they add stay in), adopted again by name and
marker if the manifest is lost, and remembered among the playlists the tool manages, so it
never feeds the taste profile. Only those playlists are ever written: never the user's other
playlists, never the main managed playlist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .isotime import utc_now
from .store import Store

log = logging.getLogger(__name__)

PREFIX = "recommend: "
LIBRARY = "your library"  # what `moods recommend --export` makes its mood from


@dataclass
class MoodPlaylist:
    """What one export did to one mood playlist."""

    name: str
    playlist_id: str
    created: bool
    added: int
    removed: int
    kept: int
    replaced: str | None = None  # what the playlist's moods were made from before, when not the same
    requests: int = 0  # Spotify requests this playlist's export made (reading it, writing it)

    def to_dict(self) -> dict:
        return {"name": self.name, "playlist_id": self.playlist_id, "created": self.created, "added": self.added,
                "removed": self.removed, "kept": self.kept, "replaced": self.replaced, "requests": self.requests}

    @property
    def note(self) -> str:
        """The line saying this export replaced another source's mood ('' when it did not)."""
        if not self.replaced:
            return ""
        was = self.replaced if self.replaced == LIBRARY else f"'{self.replaced}'"
        return (f"{self.name!r} held the mood of {was} until now (each mood has one playlist, whatever it "
                f"is made from): {self.removed} of its tracks removed")


def playlist_name(mood: str) -> str:
    return f"{PREFIX}{mood}"


def slot(name: str) -> str:
    """The ``publish`` slot of the mood playlist called ``name``."""
    return f"mood:{name}"


def export_moods(gateway, store: Store, settings, user_id: str, moods: dict[str, list[str]], sources: str,
                 names: dict[str, str] | None = None) -> list[MoodPlaylist]:
    """Write each mood's tracks (mood -> track ids, in order) to its managed private playlist
    (named ``names[mood]``, default ``"recommend: <mood>"``). A failure (SpotifyUnavailable,
    RateLimited) leaves the playlist's write pending for the next export to finish, as for the
    main playlist. Returns one MoodPlaylist per mood."""
    from .publish import managed_state, publish, slot_record
    date = utc_now().strftime("%Y-%m-%d")
    out = []
    for mood, tracks in moods.items():
        start = gateway.requests_made
        name = (names or {}).get(mood) or playlist_name(mood)
        state = managed_state(gateway, store, settings, user_id, name=name, slot=slot(name))
        removed = set(state.user_removed)
        desired = list(dict.fromkeys(list(state.pinned) + [t for t in tracks if t not in removed]))
        before = slot_record(store.read_manifest(), slot(name)).get("about")
        pub = publish(gateway, store, settings, state, desired, {}, text=f"Mood cluster of {sources}, {date}.",
                      public=False, about=sources)
        plan = pub.plan
        other = before if before and before != sources and not pub.created and plan.removed else None
        out.append(MoodPlaylist(state.name or name, pub.playlist_id, pub.created, len(plan.added), len(plan.removed),
                                len(plan.kept), other, gateway.requests_made - start))
    return out


def point_name(valence: float, energy: float) -> str:
    """The mood name of a point of the plane (`moods recommend --valence --energy --export`)."""
    return f"valence {valence + 0.0:.2f}, energy {energy + 0.0:.2f}"  # + 0.0: -0 is 0, one playlist


def export_summary(exported: list[MoodPlaylist]) -> dict:
    """An export's record in the run log (``runlog.record_run``'s summary): its playlists, the
    one's id as a build's record names it, what was added, removed and kept in all, and the Spotify
    requests the writes made, so `recommend status` and the web app's Runs page show a write to
    Spotify that was in no record (its requests were ``null`` there)."""
    ids = [e.playlist_id for e in exported]
    return {"playlist_id": ids[0] if len(ids) == 1 else None, "playlists": ids,
            "added": sum(e.added for e in exported), "removed": sum(e.removed for e in exported),
            "kept": sum(e.kept for e in exported), "requests": sum(e.requests for e in exported)}
