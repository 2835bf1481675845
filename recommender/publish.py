"""The managed private playlist: read its state, plan the diff, apply it safely.

- Created once (``POST /me/playlists``, private unless configured), its id kept in the cache
  manifest (``managed_playlist``); later runs update the same playlist in place.
- Plan then apply: replace with the first 100 tracks, add the rest in chunks of 100, read
  back and verify. Writes are never blindly retried: after a failed or ambiguous write the
  playlist is re-read and the remaining work is computed from what is really there, so it
  never keeps duplicates. No convergence within the run -> ``SpotifyUnavailable`` (exit 5);
  the next run converges.
- The user's edits are respected: tracks they removed since our last write are remembered
  and never recommended again (unless they add them back); tracks they added are kept
  (pinned) and count as positive feedback. While a write is pending (a run was killed or
  stopped half way) removals cannot be told apart from our own half-written state, so none
  are inferred.
- Only the managed playlist is ever written.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .errors import RateLimited, SpotifyError, SpotifyUnavailable
from .spotify.gateway import MAX_WRITE, AmbiguousWrite, Gateway
from .store import Store, now_iso

log = logging.getLogger(__name__)

MARKER = "Managed automatically."
MAX_ROUNDS = 4


def uri(track_id: str) -> str:
    return f"spotify:track:{track_id}"


@dataclass
class ManagedState:
    """What we know of the managed playlist before scoring."""

    playlist_id: str | None
    current: list[str]
    pinned: list[str]           # added by the user by hand: keep, first
    user_removed: list[str]     # removed by the user since we wrote: never again
    created: bool = False
    recreated_reason: str | None = None
    description: str | None = None  # its description as listed (None: unknown or no playlist)


@dataclass
class Plan:
    current: list[str]
    desired: list[str]

    @property
    def added(self) -> list[str]:
        cur = set(self.current)
        return [t for t in self.desired if t not in cur]

    @property
    def removed(self) -> list[str]:
        want = set(self.desired)
        return [t for t in dict.fromkeys(self.current) if t not in want]

    @property
    def kept(self) -> list[str]:
        cur = set(self.current)
        return [t for t in self.desired if t in cur]

    @property
    def unchanged(self) -> bool:
        return self.current == self.desired


@dataclass
class PublishResult:
    playlist_id: str | None
    plan: Plan
    written: bool
    created: bool = False
    messages: list[str] = field(default_factory=list)
    requests: int = 0


def read_items(gateway: Gateway, playlist_id: str) -> list[str]:
    """Track ids of a playlist, in order (null/episode/local entries skipped)."""
    from .spotify.parse import entry_track
    out = []
    for entry in gateway.pages(f"playlists/{playlist_id}/items"):
        obj = entry_track(entry)
        if obj is not None:
            out.append(obj["id"])
    return out


def _listed_ids(gateway: Gateway) -> dict[str, dict]:
    return {p["id"]: p for p in gateway.pages("me/playlists") if p and p.get("id")}


def managed_state(gateway: Gateway, store: Store, settings, user_id: str) -> ManagedState:
    """Find the managed playlist (manifest, else adopt one of ours by name + marker) and
    infer the user's edits since our last write. Makes no write."""
    manifest = store.read_manifest()
    info = manifest.get("managed_playlist") or {}
    user_removed = list(manifest.get("user_removed", []))
    listed = _listed_ids(gateway)
    pid = info.get("id")
    reason = None
    if pid and pid not in listed:
        reason = (f"the managed playlist {info.get('name', '')!r} ({pid}) is no longer in your playlists "
                  "(unfollowed?); a new one will be created")
        log.info(reason)
        pid = None
        info = {}
    if not pid:
        for p in listed.values():
            if ((p.get("owner") or {}).get("id") == user_id and p.get("name") == settings.playlist.name
                    and MARKER in (p.get("description") or "")):
                pid, info = p["id"], {"id": p["id"], "name": p["name"]}
                log.info("adopting existing managed playlist %s", pid)
                break
    if not pid:
        return ManagedState(None, [], [], user_removed, recreated_reason=reason)
    current = read_items(gateway, pid)
    listed_description = (listed.get(pid) or {}).get("description")
    if "last_written" not in info:  # adopted (manifest lost): treat its content as ours
        info = {**info, "last_written": list(current)}
    last = list(info["last_written"])
    pending = info.get("pending")
    known = set(last) | set(pending or [])
    pinned = [t for t in current if t not in known and t not in set(info.get("pinned", []))] + \
             [t for t in info.get("pinned", []) if t in set(current)]
    pinned = list(dict.fromkeys(pinned))
    if pending is None:
        cur = set(current)
        newly_removed = [t for t in last if t not in cur]
        user_removed = list(dict.fromkeys(user_removed + newly_removed))
    kept = set(pinned)  # a track the user added back is wanted again
    user_removed = [t for t in user_removed if t not in kept]
    return ManagedState(pid, current, pinned, user_removed, recreated_reason=reason,
                        description=listed_description)


def description(settings, weights: dict[str, float]) -> str:
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    w = ", ".join(f"{k} {v:g}" for k, v in weights.items())
    text = settings.playlist.description.format(date=date, weights=w)
    return text if MARKER in text else f"{text} {MARKER}"


def apply_plan(gateway: Gateway, playlist_id: str, plan: Plan) -> list[str]:
    """Make the playlist hold exactly ``plan.desired`` in order. Returns the verified content.

    Replace with the first 100, add the rest in chunks; after an ambiguous write, re-read
    and continue from what is there. Raises SpotifyUnavailable when it cannot converge.
    """
    desired = plan.desired
    current = plan.current
    for round_ in range(MAX_ROUNDS):
        if current == desired:
            return current
        try:
            if current[:len(desired)] == desired[:len(current)] and len(current) < len(desired) and current \
                    and len(current) >= min(MAX_WRITE, len(desired)):
                start = len(current)  # a prefix is in place: only add the rest
            else:
                gateway.replace_items(playlist_id, [uri(t) for t in desired[:MAX_WRITE]])
                start = min(MAX_WRITE, len(desired))
            for i in range(start, len(desired), MAX_WRITE):
                gateway.add_items(playlist_id, [uri(t) for t in desired[i:i + MAX_WRITE]])
        except AmbiguousWrite as exc:
            log.warning("write to the managed playlist failed (%s); re-reading it to reconcile", exc)
        current = read_items(gateway, playlist_id)
    if current == desired:
        return current
    raise SpotifyUnavailable("could not bring the managed playlist to the planned state in this run "
                             "(Spotify kept failing writes); the next run will finish it")


def publish(gateway: Gateway, store: Store, settings, state: ManagedState, desired: list[str],
            weights: dict[str, float], dry_run: bool = False, new_playlist: bool = False) -> PublishResult:
    """Create the managed playlist if needed, then apply the plan (unless ``dry_run``)."""
    start = gateway.requests_made
    pid = None if new_playlist else state.playlist_id
    current = [] if pid is None else state.current
    plan = Plan(current=current, desired=desired)
    result = PublishResult(playlist_id=pid, plan=plan, written=False)
    if state.recreated_reason:
        result.messages.append(state.recreated_reason)
    if dry_run:
        return result
    manifest = store.read_manifest()
    text = description(settings, weights)
    if pid is None:
        created = gateway.create_playlist(settings.playlist.name, settings.playlist.public, text)
        pid = created["id"]
        result.created = True
        result.playlist_id = pid
        result.messages.append(f"created the managed playlist {settings.playlist.name!r} ({pid})")
    # what we last wrote to *this* playlist: the baseline for inferring the user's edits while
    # `pending` is set; an adopted playlist (manifest lost or pointing elsewhere) counts as ours
    previous = manifest.get("managed_playlist") or {}
    if result.created:
        baseline: list[str] = []
    elif previous.get("id") == pid and "last_written" in previous:
        baseline = list(previous["last_written"])
    else:
        baseline = list(state.current)
    info = {"id": pid, "name": settings.playlist.name, "last_written": baseline,
            "pinned": state.pinned, "pending": desired, "updated_at": now_iso()}
    store.update_manifest(managed_playlist=info, user_removed=state.user_removed)
    if not plan.unchanged:
        apply_plan(gateway, pid, plan)  # RateLimited / SpotifyUnavailable leave `pending` set
        result.written = True
    info.update(last_written=desired, pending=None, updated_at=now_iso())
    store.update_manifest(managed_playlist=info, user_removed=state.user_removed)
    # the tracks are in place and recorded: a failing description update only earns a message
    if not result.created and html.unescape(state.description or "") != text:
        try:
            gateway.change_details(pid, description=text)
        except (SpotifyError, SpotifyUnavailable, RateLimited) as exc:
            result.messages.append(f"could not update the playlist description ({exc})")
    result.requests = gateway.requests_made - start
    return result
