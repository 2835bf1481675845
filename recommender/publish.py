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
  (pinned) and count as positive feedback (those another user added, ``added_by`` not the
  user's, to a playlist made collaborative: kept, not feedback). While a write is pending (a run was killed or
  stopped half way) removals cannot be told apart from our own half-written state, so none
  are inferred.
- A write we gave up on (timeout, 5xx, unreadable answer) may still be applied later. It is
  settled before any read is trusted: wait, re-read by snapshot id, reconcile; and the writes
  whose fate stayed unknown are remembered (``unsettled``), so that the next run does not take
  their late effect for the user's edits; so are those a stopped run left on their way
  (``cut_off``; a run killed outright: any write of its list), by the run that finishes its
  list. A removal counts as the user's only when it is seen between two snapshots (ours,
  verified, and the current one) and no write of ours can explain it. A track the user adds while we write is kept (pinned).
- Every playlist ever managed is remembered (``managed_history``): never taste, never adopted
  again after a lost manifest.
- Spotify's own rules are kept: a name and description on one line, at most 100 and 300
  characters; at most 10,000 tracks; a new playlist Spotify makes public against our ask gets no
  track until it is private; a track Spotify stores under another id is taken as stored
  (``written_as``).
- Only the managed playlist is ever written. The public functions take the playlist's name
  and a manifest ``slot``, so that other managed playlists (one per mood) can share them.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import (AuthError, OtherAccount, RateLimited, RecommenderError, SpotifyError,
                     SpotifyUnavailable, StorageError)
from .isotime import time_or_none, utc_now
from .safetext import cut
from .spotify.gateway import MAX_WRITE, AmbiguousWrite, Gateway
from .store import Store
from .wording import and_list, plural

log = logging.getLogger(__name__)

MARKER = "Managed automatically."
MAX_ROUNDS = 4
# Spotify takes a playlist name or description of one line and at most this many characters;
# anything else fails the create or edit with a bare 500 (troi-recommendation-playground #155)
MAX_NAME = 100
MAX_DESCRIPTION = 300
# the most tracks a playlist holds: an add past it is refused, 400 "Playlist size limit reached"
MAX_PLAYLIST = 10_000
MAIN = "main"  # the manifest slot of the one main managed playlist
# the managed playlist's record: tracks whose pin you ended in `recommend web` (remove, unpin)
# that our last write did not put there, not taken as added by hand; the next publish drops it
ENDED_PINS = "ended_pins"
# the managed playlist's record: when you removed each track in `recommend web` (UTC, ISO), until
# the next verified write: a track added to the playlist by hand after that is a hand add (the
# later action wins), before it the removal stands
REMOVED_AT = "removed_at"
# the managed playlist's record, written by a run stopped while writing (quota, outage, Ctrl-C,
# SIGTERM): the writes it left of unknown fate (cut off on their way, or their answer lost)
CUT_OFF = "cut_off"


def slot_record(manifest: dict, slot: str) -> dict:
    """The manifest's record of the managed playlist of ``slot`` ({} when there is none)."""
    return manifest.get(_keys(slot)[0]) or {}


def _keys(slot: str) -> tuple[str, str]:
    """Manifest keys (playlist info, tracks the user removed) of a managed-playlist slot."""
    if slot == MAIN:
        return "managed_playlist", "user_removed"
    return f"managed_playlist:{slot}", f"user_removed:{slot}"


def _history(manifest: dict) -> list[dict]:
    """Every playlist the tool ever managed, oldest first (older manifests: the current ones)."""
    hist = [dict(h) for h in manifest.get("managed_history") or [] if isinstance(h, dict) and h.get("id")]
    ids = {h["id"] for h in hist}
    for key, info in sorted(manifest.items()):
        if (key == "managed_playlist" or key.startswith("managed_playlist:")) and isinstance(info, dict) \
                and info.get("id") and info["id"] not in ids:
            hist.append({"id": info["id"], "name": info.get("name", "")})
            ids.add(info["id"])
    return hist


def managed_history(store: Store, since_refresh: bool = False) -> list[dict]:
    """Every playlist the tool ever managed (``id``, ``name``), oldest first. ``since_refresh``:
    only those it began to manage since the cache's last refresh read your playlists, which the
    cache cannot hold yet, and that no run found gone since; one managed before it and not in
    the cache was deleted since. (A
    ``since`` in whole seconds, as versions before this one wrote it, in that refresh's own
    second counts as since.)"""
    manifest = store.read_manifest()
    listed = _last_listing(manifest)
    if not since_refresh or listed is None:
        return _history(manifest)

    def since(h: dict) -> bool:
        t = time_or_none(h.get("since"))
        return t is None or t >= (listed if "." in str(h.get("since")) else listed.replace(microsecond=0))
    return [h for h in _history(manifest) if since(h) and not h.get("gone")]


def gone_since_listing(store: Store) -> set[str]:
    """Ids of playlists the tool managed that a run found gone from your playlists (unfollowed
    or deleted in Spotify: it made a new one) since the cache's last refresh listed them, which
    the cache still holds; every such one when that listing's time is unknown."""
    manifest = store.read_manifest()
    listed = _last_listing(manifest)
    return {h["id"] for h in _history(manifest) if h.get("gone")
            and (listed is None or (time_or_none(h["gone"]) or listed) >= listed)}


def _last_listing(manifest: dict):
    """When the cache's last refresh read your playlists (None: never, or a time unreadable, or
    one ahead of the clock). A stamp ahead of now was written by a clock that was wrong then or
    is now: when the refresh really ran is unknown, and a playlist made since, stamped by the
    clock set right, falls before it. Believed as now (``isotime.believed_time``'s rule for a
    time shown) it would still be hidden; so, as for a time further ahead, every playlist is
    listed (the callers skip those the cache holds) until the next refresh stamps anew."""
    then = time_or_none(manifest.get("listed_at")) or time_or_none(manifest.get("fetched_at"))
    return then if then is not None and then <= utc_now() else None


def other_accounts(manifest: dict, playlists=None) -> dict[str, str]:
    """The playlists of the managed history that another user owns -> that owner ("" unknown):
    those a run found so (``ManagedState.left_alone``, recorded as ``owner``), and those
    ``playlists`` (the cached frame) lists as not yours (a history written before that record)."""
    import pandas as pd
    out = {h["id"]: str(h["owner"]) for h in _history(manifest) if h.get("owner")}
    if playlists is not None and len(playlists) and "owned" in playlists:
        ids = {h["id"] for h in _history(manifest)}
        for pid, owned, owner in zip(playlists["playlist_id"].astype(str), playlists["owned"],
                                     playlists.get("owner_id", [None] * len(playlists))):
            if pid in ids and owned is not None and not pd.isna(owned) and not bool(owned):
                out.setdefault(pid, "" if owner is None or pd.isna(owner) else str(owner))
    return out


def managed_playlist_ids(store: Store) -> list[str]:
    """Ids of every playlist the tool ever managed (any slot): never taste, never a target."""
    return [h["id"] for h in managed_history(store)]


def marked_playlist_ids(playlists) -> list[str]:
    """Ids of the user's own playlists (a ``playlists`` frame) whose description carries the
    marker: written by this tool, also from another computer whose data directory this one
    lacks (a mood export made on the laptop): output, never taste."""
    if playlists is None or playlists.empty or "description" not in playlists:
        return []
    owned = playlists["owned"].fillna(False).astype(bool) if "owned" in playlists else True
    marked = playlists["description"].fillna("").astype(str).str.contains(MARKER, regex=False)
    return [str(p) for p in playlists.loc[marked & owned, "playlist_id"]]


def our_playlist_ids(store: Store, playlists) -> list[str]:
    """Every playlist that is the tool's output: those this computer managed
    (``managed_playlist_ids``) and those of ``playlists`` carrying the marker
    (``marked_playlist_ids``: written on another computer too). Never taste, never a target."""
    return list(dict.fromkeys([*managed_playlist_ids(store), *marked_playlist_ids(playlists)]))


def _mood_slots(manifest: dict) -> list[dict]:
    """The manifest's records of the exported mood playlists (``managed_playlist:<slot>``)."""
    return [info for key, info in manifest.items()
            if key.startswith("managed_playlist:") and isinstance(info, dict) and info.get("id")]


def mood_playlists(store: Store, since_refresh: bool = False) -> list[dict]:
    """Every exported mood playlist as the manifest knows it: ``id``, ``name`` and ``tracks``
    (how many we last wrote; None when unknown), in export order. ``since_refresh``: only those
    written since the cache's last refresh (``fetched_at``; all when never refreshed or a time
    is unreadable or ahead of the clock: ``_last_listing``): `recommend playlists` lists those from here, since the cache cannot hold
    them yet (with --demo: since the demo's one pull). One written before that refresh and not
    in the cache was deleted since, and is not listed. Times are whole seconds: one written in
    the refresh's own second counts as since (the caller skips ids the cache holds); with the
    refresh's ``listed_at`` (the moment it read your playlists, to the microsecond: a refresh and
    an export never overlap, both hold the run lock) and a write time as exact, no second is
    shared (a quick test wrote, refreshed and listed again within one)."""
    manifest = store.read_manifest()
    fetched = _last_listing(manifest)
    out = []
    for info in _mood_slots(manifest):
        written_at = time_or_none(info.get("updated_at"))
        if since_refresh and fetched is not None and written_at is not None and written_at < fetched:
            continue
        written = info.get("last_written")
        out.append({"id": str(info["id"]), "name": info.get("name"),
                    "tracks": len(written) if isinstance(written, list) else None})
    return out


def managed_playlist_roles(store: Store, playlists=None) -> dict[str, str]:
    """Every playlist the tool ever managed -> "yes" (the managed playlist), "mood" (an exported
    mood cluster) or "earlier" (managed before a --new-playlist), and each of ``playlists``
    carrying the marker that this computer did not write -> "other computer", as `recommend
    playlists` shows. One the record named that another user owns (``other_accounts``: left
    alone, never written) -> "other account", not "earlier": it was never this account's."""
    manifest = store.read_manifest()
    roles = {pid: "other computer" for pid in marked_playlist_ids(playlists)}
    theirs = other_accounts(manifest, playlists)
    roles.update({h["id"]: "other account" if h["id"] in theirs else "earlier" for h in _history(manifest)})
    for info in _mood_slots(manifest):
        roles[info["id"]] = "mood"
    main_id = slot_record(manifest, MAIN).get("id")
    if main_id:
        roles[str(main_id)] = "yes"
    return roles


def one_line(text: str, most: int) -> str:
    """``text`` as Spotify takes a playlist name or description: every run of whitespace (line
    breaks, tabs) one space, cut to ``most`` characters (the last one an ellipsis)."""
    return cut(" ".join(str(text).split()), most)


def fit_name(name: str) -> str:
    """A managed playlist's name as it is created and found again (see ``one_line``)."""
    return one_line(name, MAX_NAME)


def shown_name(state: "ManagedState", settings, playlist_id: str | None) -> str:
    """The name of the managed playlist ``playlist_id`` as Spotify shows it: as listed when it is
    ``state``'s (you may have renamed it), else the name it is created with."""
    if playlist_id == state.playlist_id and state.listed_name:
        return state.listed_name
    return fit_name(state.name or settings.playlist.name)


def fit_description(text: str) -> str:
    """A managed playlist's description as it is written: one line of at most MAX_DESCRIPTION
    characters, ending with the marker when the text did not hold it or had to be cut."""
    text = " ".join(str(text).split())
    if MARKER in text and len(text) <= MAX_DESCRIPTION:
        return text
    rest = one_line(text.replace(MARKER, " "), MAX_DESCRIPTION - len(MARKER) - 1)
    return f"{rest} {MARKER}" if rest else MARKER


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
    snapshot: str | None = None     # snapshot id of ``current``
    public: bool = False            # as listed: writing a public playlist needs playlist-modify-public
    name: str | None = None         # the playlist's configured name
    listed_name: str | None = None  # its name as Spotify lists it now (you may have renamed it)
    slot: str = MAIN
    messages: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # episodes / local files in it: a rewrite drops them
    stamps: dict[str, str] = field(default_factory=dict)  # track -> added_at of ``current``
    written_as: dict[str, str] = field(default_factory=dict)  # track -> the id Spotify stores it as
    listed: set[str] = field(default_factory=set)  # ids of your playlists as listed before the run wrote
    # the remembered playlist another user owns (``_find_managed``: left alone) -> its owner; the
    # write marks it so in ``managed_history`` (`recommend playlists`: "other account", not "earlier")
    left_alone: dict[str, str] = field(default_factory=dict)
    # pinned tracks another user added (a collaborative playlist, or one you shared): kept, never your taste
    not_yours: list[str] = field(default_factory=list)
    # tracks in it that Spotify says do not play for you (greyed out), with the reason: no candidates
    unplayable: dict[str, str] = field(default_factory=dict)  # track -> Spotify's restrictions.reason
    # track -> (name, artists) as this read gives them: a diff names a track the cache does not
    # hold (a --seed-playlist run's find, which the cache does not keep)
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    # the writes a run stopped while writing (killed, Ctrl-C, an outage) may have left on their
    # way (its ``pending``): of unknown fate, remembered as ``unsettled`` by the run after it
    cut_off: list[dict] = field(default_factory=list)
    in_flight: set[str] = field(default_factory=set)  # the tracks of every write of unknown fate: never added by hand

    @property
    def own_pins(self) -> list[str]:
        """The pinned tracks that are your feedback: those you added by hand, not another user."""
        theirs = set(self.not_yours)
        return [t for t in self.pinned if t not in theirs]


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


DRIFT_PLACES = 2  # a new order moving no track more than this many places is not written


def _drift_kept(current: list[str], desired: list[str], pinned: list[str] = ()) -> list[str]:
    """``desired``, or ``current`` when it holds the same tracks with none more than
    DRIFT_PLACES places from where ``desired`` puts it and every ``pinned`` one (yours, placed
    first: a pin asked for in `recommend web` is a move to make) where ``desired`` puts it: a
    day's drift of the scores (a saved track ageing out of ``seeds.recent_days``) swapped two
    neighbours, and the rewrite of the whole list gave every entry a new date added in Spotify,
    on a day nothing else changed."""
    if len(current) != len(desired) or current == desired or set(current) != set(desired) \
            or len(set(current)) != len(current):
        return desired
    where, pins = {t: i for i, t in enumerate(current)}, set(pinned)
    if any(where[t] != i for i, t in enumerate(desired) if t in pins):
        return desired
    return current if all(abs(where[t] - i) <= DRIFT_PLACES for i, t in enumerate(desired)) else desired


@dataclass
class PublishResult:
    playlist_id: str | None
    plan: Plan
    written: bool
    created: bool = False
    messages: list[str] = field(default_factory=list)
    requests: int = 0
    order_kept: bool = False  # the playlist keeps its order, not the scores' (``_drift_kept``)


@dataclass
class ReadBack:
    """A playlist as read (``read_back``): its snapshot and track ids in order (null, episode and
    local entries skipped), with what each entry says of its track."""

    snapshot: str | None
    ids: list[str] = field(default_factory=list)
    public: bool | None = None  # as the playlist's own object says
    # what a rewrite would drop that the user put there ("episode", "local file"; an
    # unavailable, null entry is not counted)
    others: list[str] = field(default_factory=list)
    stamps: dict[str, str] = field(default_factory=dict)  # track -> added_at of its first entry
    latest: dict[str, str] = field(default_factory=dict)  # track -> added_at of its last (a duplicate added by hand)
    adders: dict[str, str] = field(default_factory=dict)  # track -> added_by id ("" when Spotify does not say)
    # read with a market: the tracks Spotify says do not play for you, with the reason
    unplayable: dict[str, str] = field(default_factory=dict)
    objects: dict[str, dict] = field(default_factory=dict)  # track -> its first entry's track object

    def labels(self) -> dict[str, tuple[str, str]]:
        """Each track's (name, artists), as the cache's tracks frame spells them (label_parts')."""
        from .spotify.parse import track_row
        rows = {tid: track_row(obj) for tid, obj in self.objects.items()}
        return {tid: (str(row["name"]), ", ".join(row["artist_names"])) for tid, row in rows.items()}

    def add(self, entries, market: bool) -> None:
        """The playlist entries ``entries`` (read with a ``market`` or not) added."""
        from .spotify.parse import entry_object, entry_track, playable, restriction
        for entry in entries:
            obj = entry_track(entry)
            if obj is None:
                if isinstance(entry, dict):
                    item = entry_object(entry)
                    item = item if isinstance(item, dict) else {}
                    if entry.get("is_local") or item.get("is_local"):
                        self.others.append("local file")
                    elif item.get("type") == "episode":
                        self.others.append("episode")
                continue
            tid = obj["id"]
            self.ids.append(tid)
            self.objects.setdefault(tid, obj)
            if market and not playable(entry_object(entry)):
                self.unplayable.setdefault(tid, restriction(entry_object(entry)))
            if not isinstance(entry, dict):
                continue
            self.stamps.setdefault(tid, str(entry.get("added_at")))
            if entry.get("added_at"):
                self.latest[tid] = max(self.latest.get(tid, ""), str(entry["added_at"]))
            by = entry.get("added_by")
            self.adders.setdefault(tid, str((by.get("id") if isinstance(by, dict) else None) or ""))


def _writes_of(desired: list[str]) -> list[dict]:
    """The writes that put ``desired`` in a playlist, as ``unsettled`` records them: a replace
    with the first 100, then adds of 100."""
    return [{"op": "PUT" if i == 0 else "POST", "ids": list(desired[i:i + MAX_WRITE])}
            for i in range(0, max(len(desired), 1), MAX_WRITE)]


def read_back(gateway: Gateway, playlist_id: str, market: bool = False) -> ReadBack:
    """A playlist as read: the playlist object carries its snapshot, whether it is public and
    the first page of items, the rest follows ``next`` (or, a bare ``{href, total}`` embedded,
    ``/items`` pages). With ``market`` it is read as your country sees it (a relinked entry
    still counts under its stored id) and ``unplayable`` gets the tracks that do not play there."""
    from .spotify.parse import MARKET
    query = {"market": MARKET} if market else {}
    obj = gateway.get(f"playlists/{playlist_id}", **query) or {}
    back = ReadBack(obj.get("snapshot_id"), public=obj.get("public"))
    page = obj.get("items") if isinstance(obj.get("items"), dict) else obj.get("tracks")
    if not isinstance(page, dict) or "items" not in page:  # a bare {href, total}: no items embedded
        back.add(gateway.pages(f"playlists/{playlist_id}/items", **query), market)
        return back
    while page:
        back.add(page.get("items") or [], market)
        nxt = page.get("next")
        # a next page answered `{}` ended the list: its tracks read as removed by you, never recommended again
        page = gateway.page(lambda: gateway.get(nxt), nxt) if nxt else None
    return back


def read_playlist(gateway: Gateway, playlist_id: str) -> tuple[str | None, list[str]]:
    """(snapshot id, track ids in order) of a playlist (``read_back``)."""
    back = read_back(gateway, playlist_id)
    return back.snapshot, back.ids


def rewritten_since(stamps: dict, now: dict[str, str], tracks: list[str]) -> bool:
    """Whether the playlist was rewritten (replaced) since ``stamps`` ({track: added_at} as
    verified after our last write) were read: every track of ours still in it (``tracks``, read
    with ``now``) carries a new ``added_at``. The user's edits in the app (remove, add, move)
    keep the other entries' dates, and a track removed and added back by hand has a new date
    alone; a replace by another writer (another computer running this tool with the same
    account) gives every entry a new one."""
    if not isinstance(stamps, dict):
        return False
    ours = [t for t in dict.fromkeys(tracks) if t in stamps and t in now]
    return bool(ours) and all(now[t] != stamps[t] for t in ours)


# entries whose ``added_at`` are at most this far apart were written by one run (its replace and
# adds of 100 follow each other within seconds; waits between them are far shorter than a minute)
WRITE_BURST_SECONDS = 60


def added_after_last_write(stamps: dict[str, str], tracks: list[str]) -> list[str]:
    """The tracks of an adopted playlist (found by name and marker: written by this tool on
    another computer, or this one's record lost) added after the tool's last write, in order.
    A run's write gives every entry of a list of up to 100 tracks a new ``added_at`` within
    seconds (a replace, and adds of 100 after it), so the largest group of entries stamped
    close together (``WRITE_BURST_SECONDS``; the earliest of groups alike) is that write, and an
    entry stamped after it is an add by hand: kept and pinned, not dropped by the first run
    here. Nothing when a stamp is missing or unreadable, or the list is longer than 100 (a run
    may then add after the first 100 without a replace, and its adds would look like yours).
    A track added by hand before the tool's last write is in that write, so it counts as the
    tool's, as before."""
    if not tracks or len(tracks) > MAX_WRITE:
        return []
    times = {t: time_or_none(stamps.get(t)) for t in dict.fromkeys(tracks)}
    if any(v is None for v in times.values()):
        return []
    bursts: list[list] = []  # runs of distinct times, each within WRITE_BURST_SECONDS of the one before
    for v in sorted(set(times.values())):
        if bursts and (v - bursts[-1][-1]).total_seconds() <= WRITE_BURST_SECONDS:
            bursts[-1].append(v)
        else:
            bursts.append([v])
    size = [sum(1 for v in times.values() if burst[0] <= v <= burst[-1]) for burst in bursts]
    end = bursts[size.index(max(size))][-1]
    return [t for t in times if times[t] > end]


def rewritten_note(slot: str, name: str | None) -> str:
    """The one note of a run that found the playlist rewritten by another writer."""
    what = "the managed playlist" if slot == MAIN else f"the playlist {name!r}"
    return (f"{what} was rewritten since this computer's last run (by another computer running recommend "
            "with this account?): removals and additions since then are not taken as yours this time; "
            "run the scheduled job on one computer only")


def snapshot_of(gateway: Gateway, playlist_id: str) -> str | None:
    """The playlist's current snapshot id (one request)."""
    return (gateway.get(f"playlists/{playlist_id}", fields="snapshot_id") or {}).get("snapshot_id")


def _listed_ids(gateway: Gateway, listing: list[dict] | None = None) -> dict[str, dict]:
    """Your playlists by id, read whole (``Gateway.listing``): a playlist deleted while they are
    listed by offset must not hide the managed playlist we look for by name and marker.
    ``listing``: the run's own listing already read that way (a refresh's), not read again."""
    listing = gateway.listing("me/playlists") if listing is None else listing
    return {p["id"]: p for p in listing if p and p.get("id")}


def _check_account(gateway: Gateway, user_id: str) -> None:
    """OtherAccount when the login is not ``user_id`` (the cached library's account). Spotify
    is asked at most once per run (``Gateway.me``): a refresh that pulled with this login, or an
    export of several mood playlists, asks no more."""
    me = str(gateway.me().get("id") or "")
    if me and user_id and me != str(user_id):
        raise OtherAccount(me, str(user_id))


def managed_state(gateway: Gateway, store: Store, settings, user_id: str, *, name: str | None = None,
                  slot: str = MAIN, listing: list[dict] | None = None) -> ManagedState:
    """Find the managed playlist of ``slot`` (manifest, else adopt one of ours by ``name`` +
    marker; default name: ``playlist.name``) and infer the user's edits since our last
    verified write. Makes no write. The tracks of the writes of unknown fate (``pending``,
    ``unsettled``) are in ``in_flight``: never your adds; the writes a stopped run left on their
    way are in ``cut_off``, for the run that finishes its list to remember as ``unsettled``.

    ``user_id`` is the cached library's account (empty: unknown, taken as the login's). A
    playlist about to be created (none remembered, or the remembered one not among your
    playlists, or not yours) is first checked against who is logged in (``Gateway.me``: asked
    once per run, not again after a pull): another
    account's login (a token dropped in) raises OtherAccount rather than writing this library's
    picks into that account, or telling it that its playlist was unfollowed. Your playlists are
    listed whole (``Gateway.listing``: read again when a playlist removed meanwhile shifted the
    offset pages, which would skip one and make a second managed playlist), once per run:
    ``listing`` is that listing when the run has read it already (the refresh it just did,
    ``RefreshReport.listing``; nothing of the run creates or removes a playlist in between)."""
    name = fit_name(name or settings.playlist.name)
    user_id = str(user_id or "") or str(gateway.me().get("id") or "")  # an unknown account: the login's
    pkey, rkey = _keys(slot)
    manifest = store.read_manifest()
    info = manifest.get(pkey) or {}
    user_removed = list(manifest.get(rkey, []))
    history = {h["id"] for h in _history(manifest)}
    listed = _listed_ids(gateway, listing)
    pid = info.get("id")
    owner = ((listed.get(pid) or {}).get("owner") or {}).get("id") if pid else None
    if user_id and owner != user_id:  # none, not listed, or another's
        _check_account(gateway, user_id)
    left_alone = {str(pid): str(owner)} if pid and user_id and owner and owner != user_id else {}
    pid, info, reason, messages = _find_managed(listed, info, user_id, name, history, slot)
    if not pid:
        return ManagedState(None, [], [], user_removed, recreated_reason=reason, name=name, slot=slot,
                            messages=messages, listed=set(listed), left_alone=left_alone)
    listed_name = (listed.get(pid) or {}).get("name")
    if slot == MAIN and info.get("name") and info["name"] != name and listed_name != name:
        # said once (the run records the new name): a change of the key was silently ignored
        messages.append(f"playlist.name is now {name!r}: the managed playlist keeps its name "
                        f"{listed_name or info['name']!r} (runs never rename it: rename it in Spotify, or "
                        "`recommend build-playlist --new-playlist` starts a playlist of the new name)")
    try:
        back = read_back(gateway, pid, market=True)
    except SpotifyError as exc:  # another account's login can list a playlist of ours it follows, never read it
        if exc.status in (403, 404) and user_id:
            _check_account(gateway, user_id)
        raise
    # the playlist's own object says whether it is public: your playlists listed can all say
    # "public" when they are not (exportify #56)
    public = back.public if isinstance(back.public, bool) else (listed.get(pid) or {}).get("public")
    listed_description = (listed.get(pid) or {}).get("description")
    if "last_written" not in info:  # adopted (manifest lost, another computer's)
        info = _adopted(info, back, messages)
    pinned, user_removed, in_flight = _your_edits(info, back, user_removed, slot, name, messages)
    current = back.ids
    pending = info.get("pending")
    written_as = {str(k): str(v) for k, v in _record_map(info, "written_as").items()}
    gone = set(user_removed)  # removing the song Spotify stored removes the one we recommended
    user_removed += [t for t, stored in written_as.items() if stored in gone and t not in gone]
    # added by another user (a collaborator): kept like your own, but not your feedback ("" unknown: yours);
    # remembered, as our next replace makes every entry "added by" you
    theirs = set(info.get("not_yours") or [])
    not_yours = [t for t in pinned if t in theirs or (back.adders.get(t) and user_id and back.adders[t] != user_id)]
    # what does not play for you, also under the id we recommended it by (jobs.not_playable keeps your pins)
    unplayable = {**back.unplayable, **{t: back.unplayable[stored] for t, stored in written_as.items()
                                        if stored in back.unplayable}}
    # a stopped run's write may land after the next run has finished the job: that run remembers
    # it as of unknown fate, or the run after it takes its tracks for your adds (pins, your likes);
    # what it left on their way as its stop recorded it (CUT_OFF), else (killed outright) any write;
    # none when the playlist holds its whole list (each write landed: stopped after them, a full disk)
    cut_off = [] if not isinstance(pending, list) or current == pending else \
        _unsettled(info[CUT_OFF]) if isinstance(info.get(CUT_OFF), list) else _writes_of(pending)
    return ManagedState(pid, current, pinned, user_removed, recreated_reason=reason,
                        description=listed_description, snapshot=back.snapshot,
                        public=bool(public), name=name, slot=slot, listed_name=listed_name,
                        messages=messages, others=back.others, stamps=back.stamps, written_as=written_as,
                        listed=set(listed), not_yours=not_yours, unplayable=unplayable, labels=back.labels(),
                        cut_off=cut_off, in_flight=in_flight)


def _adopted(info: dict, back: ReadBack, messages: list[str]) -> dict:
    """The record of a playlist adopted without one (manifest lost, another computer's): its
    content is ours but for what was added after the write that put the rest there (the
    user's adds, said in ``messages``)."""
    current = back.ids
    hand = set(added_after_last_write(back.stamps, current))
    if hand:
        messages.append(f"{len(hand)} {plural(len(hand), 'track')} added to it after recommend last wrote it "
                        f"{plural(len(hand), 'is', 'are')} kept, as added by you")
    return {**info, "last_written": [t for t in current if t not in hand], "snapshot": back.snapshot}


def _your_edits(info: dict, back: ReadBack, user_removed: list[str], slot: str, name: str,
                messages: list[str]) -> tuple[list[str], list[str], set[str]]:
    """(pinned, user_removed, in_flight): the tracks you added to the playlist since our last
    verified write (in its order, then the pins still there), every track you removed from it
    (the earlier removals first) and the tracks of the writes of unknown fate (``pending``,
    ``unsettled``), which are never your adds. Nor is what another writer (the same account on
    another computer) changed: it replaced the list since our verified write, so what it
    dropped or added would ban its replacements forever and pin its picks; only what this
    computer knew stands (said in ``messages``)."""
    current, snapshot = back.ids, back.snapshot
    pending = info.get("pending")
    unsettled = _unsettled(info.get("unsettled") or [])
    in_flight = set(pending or []) | {t for w in unsettled for t in w.get("ids", [])}  # writes of unknown fate
    known = set(info["last_written"]) | in_flight
    known |= set(info.get(ENDED_PINS) or [])  # not added by hand: you ended its pin in `recommend web`
    other = pending is None and not unsettled and snapshot != info.get("snapshot") \
        and rewritten_since(info.get("added_at"), back.stamps, current)
    if other:
        messages.append(rewritten_note(slot, name))
        log.info(messages[-1])
        known |= set(current)
    else:  # removed in `recommend web`, then added to the playlist by hand: the later action wins
        known -= added_after_removal(info, back.latest, in_flight)
    pins = info.get("pinned", [])
    was_pinned, now = set(pins), set(current)
    pinned = list(dict.fromkeys([t for t in current if t not in known and t not in was_pinned]
                                + [t for t in pins if t in now or other]))  # the other writer may drop a pin
    if (pending is None or isinstance(pending, list)) and not other \
            and (info.get("snapshot") is None or snapshot != info.get("snapshot")):
        user_removed = list(dict.fromkeys(user_removed + _removed_by_you(info, current, known)))
    kept = set(pinned)  # a track the user added back is wanted again
    return pinned, [t for t in user_removed if t not in kept], in_flight


def _find_managed(listed: dict[str, dict], info: dict, user_id: str, name: str, history: set[str],
                  slot: str) -> tuple[str | None, dict, str | None, list[str]]:
    """The managed playlist of ``slot`` among your playlists (``listed``): the one the record
    (``info``) names, else one of yours named ``name`` with our marker that no run of this
    computer made (``history``), adopted. Returns its id (None: one to create), its record, why
    the remembered one is not used (None) and what to tell you."""
    pid = info.get("id")
    reason = None
    messages: list[str] = []
    owner = ((listed.get(pid) or {}).get("owner") or {}).get("id") if pid else None
    if pid and pid not in listed:
        unusable = "is no longer in your playlists (unfollowed?); a new one will be created"
    elif pid and user_id and owner and owner != user_id:
        # one you follow that another user owns (a data directory of another account's): never
        # written, not even collaborative, and never read as ours (a 403 every run)
        unusable = f"is not yours (its owner is {owner!r}): it is left alone, and a new one will be created"
    else:
        unusable = None
    if unusable:
        # by the name you last saw it under (a rename in Spotify), not the configured one
        shown_as = info.get("listed_name") or info.get("name", "")
        reason = f"the managed playlist {shown_as!r} ({pid}) {unusable}"
        log.info(reason)
        pid = None
        info = {}
    if not pid:
        # never one we managed before (an old managed playlist the user kept after --new-playlist)
        candidates = [p for p in listed.values()
                      if (p.get("owner") or {}).get("id") == user_id and p.get("name") == name
                      and MARKER in (p.get("description") or "") and p["id"] not in history]
        if len(candidates) == 1:
            pid, info = candidates[0]["id"], {"id": candidates[0]["id"], "name": name}
            log.info("adopting existing managed playlist %s", pid)
            what = "the managed playlist" if slot == MAIN else "the playlist"
            found = (f"found {what} {name!r} ({pid}) in your playlists, marked as made by recommend (on another "
                     "computer, or before this one lost its record of it): it is updated, not a new one made")
            if reason:  # the one remembered is gone: not "a new one will be created" after all
                reason = f"{reason.removesuffix('; a new one will be created')}; {found}"
            else:
                messages.append(found)
        elif candidates:
            messages.append(f"{len(candidates)} of your playlists are named {name!r} and marked as managed; "
                            "none is adopted (one may be an old managed playlist you kept): a new one will be created")
    return pid, info, reason, messages


def _removed_by_you(info: dict, current: list[str], known: set[str]) -> list[str]:
    """The tracks of our last verified write (the record ``info``) that the playlist no longer
    holds (``current``) and that no write of ours whose fate stayed unknown can explain (a late
    replace drops whatever it does not list): an earlier run's, and a stopped or killed run's
    (its replace begins its list, after the tracks you added while it ran, which it puts first:
    a track past those may be ours). ``known``: the tracks a write of ours put there."""
    pending = info.get("pending")
    cur = set(current)
    stopped = info.get(CUT_OFF) if isinstance(info.get(CUT_OFF), list) else []
    unsettled = _unsettled(info.get("unsettled") or [])
    replaced = [set(w.get("ids", [])) for w in unsettled + _unsettled(stopped) if w.get("op") == "PUT"]
    if pending is not None:
        # a track of no write of ours: a hand add, or another computer's pick (its replace,
        # after our stopped run, drops what it does not list: no removal of yours is told
        # from it then, as ``other`` tells none while our write is unfinished)
        foreign = sum(1 for t in current if t not in known)
        replaced.append(set() if foreign else set(pending[:MAX_WRITE]))
    return [t for t in info["last_written"] if t not in cur and all(t in r for r in replaced)]


def recorded_state(store: Store, settings, *, slot: str = MAIN) -> ManagedState:
    """The managed playlist of ``slot`` as this computer last wrote it (the manifest's record),
    read without Spotify: a dry run's state when Spotify does not answer. Your edits in Spotify
    since that write are not known (no pins found, no removals inferred but those recorded); a
    playlist never written, or whose record is damaged, is one a run would create."""
    pkey, rkey = _keys(slot)
    manifest = store.read_manifest()
    info = manifest.get(pkey) if isinstance(manifest.get(pkey), dict) else {}
    removed = manifest.get(rkey)
    user_removed = [str(t) for t in removed] if isinstance(removed, list) else []
    name = fit_name(settings.playlist.name) if slot == MAIN else info.get("name")
    written = info.get("last_written")
    if not info.get("id") or not isinstance(written, list):
        return ManagedState(None, [], [], user_removed, name=name, slot=slot)
    current = list(dict.fromkeys(str(t) for t in written))
    pins = info.get("pinned")
    pinned = [str(t) for t in pins if str(t) in set(current)] if isinstance(pins, list) else []
    theirs = set(info.get("not_yours") or []) if isinstance(info.get("not_yours"), list) else set()
    return ManagedState(str(info["id"]), current, pinned, [t for t in user_removed if t not in set(pinned)],
                        name=name, slot=slot, listed_name=info.get("listed_name"),
                        written_as={str(k): str(v) for k, v in _record_map(info, "written_as").items()},
                        not_yours=[t for t in pinned if t in theirs])


def _record_map(info: dict, key: str) -> dict:
    """The managed playlist record's mapping at ``key`` (a damaged or missing one: {})."""
    value = info.get(key)
    return value if isinstance(value, dict) else {}


def removal_times(info: dict) -> dict[str, str]:
    """The managed playlist record's ``REMOVED_AT`` (track id -> when; a damaged one: none)."""
    return _record_map(info, REMOVED_AT)


def added_after_removal(info: dict, latest: dict[str, str], ours: set[str]) -> set[str]:
    """The tracks of the playlist (``latest``: each one's last ``added_at``) you added by hand
    after you removed them in `recommend web` (the record's ``REMOVED_AT``); not one a write of
    ours whose fate is unknown may have put there (``ours``), nor the entry our last verified
    write put there (its ``added_at`` as the record keeps it): the removal's time is this
    computer's clock, ``added_at`` Spotify's, and a clock behind Spotify's made a track removed
    soon after a publish look added after its removal."""
    removed_at = removal_times(info)
    written = _record_map(info, "added_at")
    out = set()
    for t, when in removed_at.items():
        if t in ours or (t in written and str(written[t]) == latest.get(t)):
            continue
        added, removed = time_or_none(latest.get(t)), time_or_none(when)
        if added is not None and removed is not None and added > removed:
            out.add(t)
    return out


def description(settings, weights: dict[str, float]) -> str:
    """The managed playlist's description: ``playlist.description`` with its date and weights
    (a template that does not format is refused where the settings are read: ``config.template_problem``);
    ``fit_description`` adds the marker when it lacks it, as it is written."""
    date = utc_now().strftime("%Y-%m-%d")
    from .config import weights_text
    w = weights_text({k: v for k, v in weights.items() if v > 0})  # the scorers that count, as the table's title
    return settings.playlist.description.format(date=date, weights=w)


@dataclass
class Applied:
    """What ``apply_plan`` achieved: the verified content and what the reads taught us."""

    content: list[str]
    desired: list[str]                 # the plan's, plus tracks the user added while we wrote
    snapshot: str | None               # the snapshot id of ``content``
    ambiguous: list[dict] = field(default_factory=list)  # {"op": "PUT"|"POST", "ids"} of unknown fate
    user_added: list[str] = field(default_factory=list)
    replaced: bool = False             # a replace (PUT) went through: it drops episodes and local files
    stamps: dict[str, str] = field(default_factory=dict)  # track -> added_at of ``content``
    written_as: dict[str, str] = field(default_factory=dict)  # track written -> the id Spotify stored


def apply_plan(gateway: Gateway, playlist_id: str, plan: Plan, settle: float = 0.0,
               label: str = "the managed playlist", again: str = "the next run",
               in_flight: set[str] = frozenset(), made_now: bool = False) -> Applied:
    """Make the playlist hold exactly ``plan.desired`` in order (plus, first, any track the user
    adds meanwhile: not one of ``in_flight``, the tracks of an earlier run's writes of unknown
    fate, which may land now). Returns what was verified.

    Replace with the first 100, add the rest in chunks; after an ambiguous write, re-read and
    continue from what is there. Once the content is right, a write whose fate was unknown is
    settled: wait ``settle`` seconds, and if the snapshot moved (it landed late) reconcile again.
    Raises SpotifyUnavailable when it cannot converge. A stop (quota, outage, Ctrl-C) says
    what ``label`` holds now and that ``again`` finishes it; its exception's ``cut_off`` lists
    the writes it left of unknown fate (for ``publish`` to record as ``CUT_OFF``).
    """
    desired = list(plan.desired)
    current = list(plan.current)
    # anything else that appears is the user's; not a track of an earlier write of unknown fate
    # (``in_flight``: a stopped run's, landing now)
    ours = set(plan.current) | set(desired) | set(in_flight)
    ambiguous: list[dict] = []
    failures: list[str] = []  # each ambiguous write's failure ("503 on PUT playlists/…/items")
    user_added: list[str] = []
    # for the message of a run stopped here: the leading tracks of `desired` the writes put in
    # place (None: none yet, the old list is untouched), and where a write in flight would end
    done: list[int | None] = [None, None]
    replaced = [False]
    flying: list[dict] = []  # the write on its way when the run is stopped (Ctrl-C, SIGTERM)

    def write(op: str, ids: list[str], end: int) -> None:
        done[1] = end
        flying[:] = [{"op": op, "ids": list(ids)}]
        try:
            if op == "PUT":
                gateway.replace_items(playlist_id, [uri(t) for t in ids])
            else:
                gateway.add_items(playlist_id, [uri(t) for t in ids])
        except AmbiguousWrite as exc:
            flying.clear()
            ambiguous.append({"op": op, "ids": list(ids)})
            failures.append(exc.reason or str(exc))
            raise
        except RecommenderError as exc:  # a definite refusal (quota, login, a gone track): not applied
            flying.clear()
            done[1] = None
            if isinstance(exc, SpotifyError):
                exc.refused_ids = list(ids)  # a 400 for a gone track: the culprit is among these
            raise
        flying.clear()
        done[:] = [end, None]
        replaced[0] = replaced[0] or op == "PUT"

    try:
        applied = _apply_rounds(gateway, playlist_id, desired, current, ours, ambiguous, user_added, settle, write, {})
    except (RecommenderError, KeyboardInterrupt) as exc:  # quota, outage, Ctrl-C: say what is left
        exc.args = (_left_behind(exc, *done, len(desired), bool(ambiguous), label, again, made_now),)
        if isinstance(exc, SpotifyError):
            exc.unsure_writes = bool(ambiguous)  # a write whose fate is unknown may still land
        exc.cut_off = ambiguous + flying  # recorded by publish (CUT_OFF) for the runs after
        raise
    if not isinstance(applied, Applied):  # what the last read-back found: say it, as a stop does
        held, old = applied, list(plan.current)
        prefix = len(held) if held != old and held and held == desired[:len(held)] else None
        # the last failure, as an outage of reads names it ("503 on GET me/playlists, 5 attempts"), and where
        failed = f"{failures[-1]}, {len(failures)} failed writes" if failures else None
        stop = SpotifyUnavailable(f"could not bring {label} to the planned state in this run (Spotify kept "
                                  f"failing writes{': ' + failed if failed else ''}){getattr(gateway, 'where', '')}")
        stop = SpotifyUnavailable(_left_behind(stop, prefix, None, len(desired), held != old and prefix is None,
                                               label, again, made_now) + "; try again later", reason=failed)
        stop.cut_off = list(ambiguous)  # recorded by publish (CUT_OFF) for the runs after
        raise stop
    applied.replaced = replaced[0]
    return applied


def _left_behind(exc: BaseException, done: int | None, flight: int | None, total: int, unsure: bool,
                 label: str = "the managed playlist", again: str = "the next run", made_now: bool = False) -> str:
    """The stop's message plus what the playlist (``label``) holds now and that ``again``
    finishes it: ``done`` leading new tracks written (None: the old list), a write to
    ``flight`` cut off; ``made_now``: the playlist was made in this run (its old list: none)."""
    if unsure:  # a write whose answer was lost earlier in this run
        left = f"{label} may hold part of its new list until {again} finishes it"
    elif done is None and flight is None:
        # (made in this run: "was not changed" hid that an empty playlist now stands in your account)
        left = f"{label} was made in this run and holds no tracks yet; {again} fills it" if made_now \
            else f"{label} was not changed"
    elif done is None:
        left = (f"{label} holds {'no tracks' if made_now else 'its old list'}, or the first {flight} of its {total} "
                f"new tracks if the write cut off lands; {again} finishes it")
    elif done < total:
        lands = f" ({flight} if the write cut off lands)" if flight else ""
        left = f"{label} holds only the first {done}{lands} of its {total} new tracks until {again} writes the rest"
    else:
        left = f"{label} holds its new tracks; {again} checks them"
    return f"{exc}; {left}" if str(exc) else left


def _apply_rounds(gateway: Gateway, playlist_id: str, desired: list[str], current: list[str], ours: set[str],
                  ambiguous: list[dict], user_added: list[str], settle: float, write,
                  written_as: dict[str, str]) -> Applied | list[str]:
    """``apply_plan``'s loop: write, re-read, reconcile, settle (see there); when it did not
    converge within MAX_ROUNDS, the playlist's content as last read back."""
    snapshot = None
    stamps: dict[str, str] = {}
    settled = 0  # ambiguous writes already waited for
    rounds = 0
    while True:
        if current == desired:
            if len(ambiguous) == settled:
                return Applied(current, desired, snapshot, ambiguous, user_added, stamps=stamps,
                               written_as=written_as)
            settled = len(ambiguous)
            log.info("waiting %.0f s for Spotify to settle a write whose answer was lost", settle)
            gateway.sleep(settle)
            if snapshot is not None and snapshot_of(gateway, playlist_id) == snapshot:
                continue
            log.warning("the managed playlist changed after our write (a late write landed); reconciling")
        elif rounds >= MAX_ROUNDS:
            break
        else:
            rounds += 1
            try:
                if current[:len(desired)] == desired[:len(current)] and len(current) < len(desired) and current \
                        and len(current) >= min(MAX_WRITE, len(desired)):
                    start = len(current)  # a prefix is in place: only add the rest
                else:
                    write("PUT", desired[:MAX_WRITE], min(MAX_WRITE, len(desired)))
                    start = min(MAX_WRITE, len(desired))
                for i in range(start, len(desired), MAX_WRITE):
                    write("POST", desired[i:i + MAX_WRITE], min(i + MAX_WRITE, len(desired)))
            except AmbiguousWrite as exc:
                log.warning("write to the managed playlist failed (%s); re-reading it to reconcile", exc)
        back = read_back(gateway, playlist_id)
        snapshot, current, stamps = back.snapshot, back.ids, back.stamps
        swapped = _stored_as(desired, current, ours)
        if swapped:  # Spotify keeps those songs under other ids: take its list as written
            log.info("Spotify stored %d %s under another id; keeping them as stored", len(swapped),
                     plural(len(swapped), "track"))
            written_as.update(swapped)
            ours |= set(swapped.values())
            desired = list(dict.fromkeys(current))  # two picks stored as one song: it stays once
        extra = [t for t in dict.fromkeys(current) if t not in ours]
        if extra:  # added by the user while we were writing: keep them, first, like any pin
            log.info("keeping %d %s added to the managed playlist during the write", len(extra),
                     plural(len(extra), "track"))
            user_added += extra
            ours |= set(extra)
            desired = list(dict.fromkeys(extra + desired))
    return current


def _stored_as(desired: list[str], current: list[str], ours: set[str]) -> dict[str, str]:
    """{track written: the id Spotify stored instead} when the playlist read back (``current``)
    is ``desired`` with some tracks in place swapped for ids we never wrote: adding a track can
    add the same song under a newer id ("adding the old ID adds the new ID", spotipy #1097), and
    that write would be repeated for ever; two releases of one song may both be stored as the
    same id (then it stands twice in ``current``, and the caller keeps it once). Empty when the
    list differs in any other way, or when a track read back is one of ``ours`` (the playlist's
    earlier tracks: a replace that did not land, or a stale read, is no swap)."""
    if len(current) != len(desired):
        return {}
    here, want = set(current), set(desired)
    swapped = {d: c for d, c in zip(desired, current) if d != c}
    if all(d not in here and c not in want and c not in ours for d, c in swapped.items()):
        return swapped
    return {}


def _record_cut_off(store: Store, pkey: str, info: dict, writes: list[dict]) -> None:
    """Record, for the runs after, the writes a stopped run left of unknown fate (``CUT_OFF``);
    when that fails too (a full disk), the next run takes any write of the list as possible."""
    try:
        store.update_manifest(**{pkey: {**info, CUT_OFF: list(writes)}})
    except StorageError as exc:
        log.warning("could not record the writes the stopped run left on their way: %s", exc)


def _unsettled(*writes: list[dict]) -> list[dict]:
    """The writes of unknown fate, each once; a damaged record of one (no list of track ids)
    is left out: it names no track, and read as one it stopped every run after."""
    out: list[dict] = []
    for w in (w for ws in writes for w in ws):
        if isinstance(w, dict) and isinstance(w.get("ids"), list):
            w = {**w, "ids": [t for t in w["ids"] if isinstance(t, str)]}
            if w not in out:
                out.append(w)
    return out


def _full(exc: SpotifyError) -> bool:
    """Whether a refused write was refused for the playlist being full (400 "Playlist size limit
    reached"): no track of it is gone, none is looked up."""
    return "size limit" in str(exc).lower()


def _gone_from_catalogue(gateway: Gateway, tracks: list[str]) -> list[str]:
    """Those of ``tracks`` (new ones: those in the playlist were just read back) that Spotify no
    longer has (a look-up answers 404 or 400), asked one by one after a write was refused with 400."""
    gone = []
    for t in tracks:
        try:
            gateway.get(f"tracks/{t}")
        except SpotifyError as exc:
            if exc.status not in (400, 404):
                raise
            gone.append(t)
    return gone


def _write_without_gone(gateway: Gateway, pid: str, plan: Plan, state: ManagedState, refused: SpotifyError,
                        settle: float, label: str, again: str,
                        in_flight: set[str] = frozenset()) -> tuple[Applied, Plan, str] | None:
    """After a write ``refused`` with 400 ("non-existing ID": a track Spotify dropped is still in
    our cache): the plan written again without the new tracks Spotify no longer has, from what
    the refused run left (over 100 tracks, its first replace went through). Returns (what was
    applied, the plan told against the playlist as it was before the run, the note naming the
    tracks left out); None when no new track is gone (the refusal stands). A quota or outage
    while looking stops with its own error, plus what the refused write left. Only the tracks
    of the refused write (at most 100) are looked up; a write refused later for another gone
    track is handled the same way. ``in_flight``: as ``apply_plan``'s."""
    gone: set[str] = set()
    looked: set[str] = set()
    while True:
        suspects = set(refused.refused_ids or plan.added)
        among = [t for t in plan.added if t in suspects and t not in looked]
        try:
            found = set(_gone_from_catalogue(gateway, among))
        except RecommenderError as lookup:
            lookup.args = (f"{lookup}; {refused}",)
            raise lookup from None
        looked.update(among)
        if not found:
            if not gone:
                return None
            raise refused
        gone |= found
        back = read_back(gateway, pid)
        now, left = back.ids, back.others
        desired = [t for t in plan.desired if t not in gone]
        try:
            applied = apply_plan(gateway, pid, Plan(current=now, desired=desired), settle=settle, label=label,
                                 again=again, in_flight=in_flight)
            break
        except SpotifyError as exc:
            if exc.status != 400 or _full(exc):
                raise
            refused = exc
    applied.replaced = applied.replaced or len(left) < len(state.others)  # the first replace dropped them
    named = [t for t in plan.added if t in gone]
    note = (f"left out {len(named)} {plural(len(named), 'track')} Spotify no longer has "
            f"({', '.join(named[:3])}{', ...' if len(named) > 3 else ''})")
    return applied, Plan(current=plan.current, desired=desired), note


def _apply_to(gateway: Gateway, pid: str, plan: Plan, settle: float, label: str, again: str,
              made_now: bool, in_flight: set[str] = frozenset()) -> Applied:
    """``apply_plan``; to a playlist made in this run (``made_now``), written again while
    Spotify does not know it yet (``_once_known``), from what the playlist holds (a 404 is a
    refusal: nothing of that write was applied)."""
    def write(attempt: int) -> Applied:
        nonlocal plan
        if attempt:
            try:
                _, now = read_playlist(gateway, pid)
            except RecommenderError as exc:
                if not isinstance(exc, SpotifyError) or exc.status != 404:  # an outage, the quota: what is left
                    exc.args = (f"{exc} ({label} was just made and may hold part of its new list; {again} fills it)",)
                    raise
                now = []  # not known yet: the whole list is written again (a replace, whatever landed)
            plan = Plan(current=now, desired=plan.desired)
        return apply_plan(gateway, pid, plan, settle=settle, label=label, again=again, in_flight=in_flight,
                          made_now=made_now and not attempt)
    return _once_known(gateway, pid, write, f"{again} fills it", made_now)


def _once_known(gateway: Gateway, pid: str, step, then: str, made_now: bool = True):
    """``step(attempt)`` (from 0) on the playlist ``pid``. One made in this run (``made_now``),
    which Spotify may answer with 404 for a moment after creating it (lineup-list #40), is
    asked again after the gateway's back-off (never above ``spotify.max_retry_wait``), at most
    ``max_retries`` times; the last 404 says so and ``then`` (what happens next). Any other
    playlist's 404 stands, and so does one after a write whose fate is unknown (it may land
    late: written again, its tracks would be there twice)."""
    attempt = 0
    while True:
        try:
            return step(attempt)
        except SpotifyError as exc:
            if not made_now or exc.status != 404 or exc.unsure_writes:
                raise
            if attempt >= gateway.max_retries:
                exc.args = (f"{exc}: Spotify did not know yet the playlist it had just made ({attempt + 1} "
                            f"{plural(attempt + 1, 'attempt')}); {then}",)
                raise
            gateway.backoff_sleep(attempt, f"404 on the playlist {pid} just created")
        attempt += 1


def _dropped(others: list[str], name: str) -> str:
    """The message for the episodes and local files a rewrite of the playlist ``name`` removed."""
    counts = {kind: others.count(kind) for kind in dict.fromkeys(others)}
    what = and_list(f"{n} {plural(n, kind)}" for kind, n in counts.items())
    why = " (Spotify's API cannot write local files back)" if "local file" in counts else ""
    return (f"removed {what} you had put in {name!r}: it holds tracks only{why}; keep them in a playlist of "
            "your own")


def _create(gateway: Gateway, name: str, public: bool, text: str) -> tuple[dict, str | None]:
    """Create the playlist: (Spotify's answer, a note or None). A description Spotify refuses
    with 400 (for reasons it does not say: news-bulletin-playlist #77) gives way to the marker
    alone, with a note, rather than no playlist on every run."""
    try:
        return gateway.create_playlist(name, public, text), None
    except SpotifyError as exc:
        if exc.status != 400 or text == MARKER:
            raise
        refused = str(exc)
    return gateway.create_playlist(name, public, MARKER), (
        f"Spotify refused the playlist description ({refused}); it holds {MARKER!r} alone: change playlist.description")


def _made_after_all(gateway: Gateway, name: str, known: set[str], lost: AmbiguousWrite) -> tuple[dict, str]:
    """After a create whose answer was lost (a 502 or a timeout on a create Spotify applied:
    spotipy #1170), the playlist it made, found in your playlists (named ``name``, with the
    marker, none of ``known``); raises ``lost`` when there is not exactly one (never a second
    create in the same run: the next run adopts one that shows up later)."""
    made = [p for p in gateway.pages("me/playlists") if p and p.get("id") and p["id"] not in known
            and p.get("name") == name and MARKER in (p.get("description") or "")]
    if len(made) != 1:
        raise lost
    return made[0], "Spotify's answer to the create was lost; the playlist it made is used"


def _still_public(gateway: Gateway, pid: str, made_now: bool = False, then: str = "") -> bool:
    """Whether the playlist ``pid``, just created public though a private one was asked
    (spotipy #1072; news-bulletin-playlist #135: Spotify's ``public: false`` ignored), stays
    public when asked once more for private (read back: that edit too may be ignored). One
    made in this run (``made_now``) is waited for while Spotify does not know it yet, as its
    first write is (``_once_known``); a 404 that outlasts the wait is raised."""
    try:
        _once_known(gateway, pid, lambda _: gateway.change_details(pid, public=False), then, made_now)
    except SpotifyError as exc:
        if made_now and exc.status == 404:
            raise
        log.info("could not make the new playlist private: %s", exc)
    return _once_known(gateway, pid, lambda _: _is_public(gateway, pid), then, made_now)


def _is_public(gateway: Gateway, pid: str) -> bool:
    """Whether the playlist's own object says public (your playlists listed can all say
    "public" when they are not: exportify #56)."""
    return (gateway.get(f"playlists/{pid}", fields="public") or {}).get("public") is True


def _not_writable(state: ManagedState, exc: SpotifyError) -> RecommenderError:
    if exc.status == 403 and state.public:
        # named as Spotify shows it: one you renamed is not found under the configured name
        return AuthError(f"the managed playlist {state.listed_name or state.name!r} ({state.playlist_id}) was made "
                         "public, and changing a public playlist "
                         "needs the playlist-modify-public permission this login lacks: make it private again in "
                         "Spotify, or set playlist.public: true and run `recommend auth`; the next run then updates it")
    return exc


def publish(gateway: Gateway, store: Store, settings, state: ManagedState, desired: list[str],
            weights: dict[str, float], dry_run: bool = False, new_playlist: bool = False, *,
            text: str | None = None, public: bool | None = None,
            expect: Callable[[str | None, Plan], None] | None = None, about: str | None = None) -> PublishResult:
    """Create the managed playlist of ``state.slot`` if needed (named ``state.name``, private
    unless ``public``/``playlist.public``), then apply the plan (unless ``dry_run``).
    ``text``: the description (default: ``playlist.description`` with the weights); ``expect``:
    called with the playlist id (None: one to create) and the plan before anything is written
    (a dry run's result holds the same), to refuse it by raising; ``about``: what the list was
    made from, kept in the slot's record (a mood playlist's playlists).

    Its steps: the plan (``_planned``), the playlist made if there is none (``_create_managed``),
    your edits made while the run scored (``_edits_while_scoring``), the record of the write
    about to be made (``_pending_record``: a stopped run leaves it), the write (``_write_plan``),
    then the record of what the playlist holds and its description."""
    start = gateway.requests_made
    name = fit_name(state.name or settings.playlist.name)
    public = settings.playlist.public if public is None else public
    pid = None if new_playlist else state.playlist_id
    result, written_as = _planned(state, desired, pid, name)
    text = text if text is not None else description(settings, weights)
    if dry_run:
        return result
    if expect is not None:
        expect(pid, result.plan)
    from .lock import lock_path, still_held
    still_held(lock_path(settings.cache_dir))  # the run lock's file deleted by hand: another run may write too
    pkey, rkey = _keys(state.slot)
    manifest = store.read_manifest()
    history = _history(manifest)
    for h in history:  # another user's, named by the record: left alone, and remembered as theirs
        if h["id"] in state.left_alone:
            h["owner"] = state.left_alone[h["id"]]
    text = fit_description(text)
    # a mood playlist is finished by exporting that mood again, not by the next build
    label, again = (("the managed playlist", "the next run") if state.slot == MAIN
                    else (f"the playlist {name!r}", "the next export of that mood"))
    left_public = False
    unseen: BaseException | None = None  # Spotify still did not know the playlist it had just made (or a stop)
    if pid is None:
        pid, left_public, unseen = _create_managed(gateway, store, state, result, name, public, text, history, again)
    user_removed = list(state.user_removed)
    pinned = list(state.pinned)
    # a stopped run's writes to this playlist, of unknown fate (none to a playlist made now)
    carried, in_flight = (state.cut_off, state.in_flight) if pid == state.playlist_id else ([], set())
    if pid == state.playlist_id and state.snapshot is not None and not result.plan.unchanged:
        added, gone = _edits_while_scoring(gateway, pid, state, result, in_flight, name)
        pinned = list(dict.fromkeys(added + pinned))
        user_removed = list(dict.fromkeys(user_removed + [t for t in gone if t not in set(added)]))
    previous = manifest.get(pkey) or {}
    if previous.get("id") == pid and previous.get("left_public") and not public:
        left_public = _still_public(gateway, pid)  # until you make it private in Spotify
    info = _pending_record(state, settings, result, previous, name, pinned, left_public, written_as, carried, about)
    store.update_manifest(**{pkey: info, rkey: user_removed, "managed_history": history})
    if left_public:  # kept in the manifest: the next run fills this one, never a second
        if unseen is not None:
            raise unseen
        raise AuthError(f"Spotify created the playlist {name!r} ({pid}) public although a private one was asked, "
                        "and did not make it private when asked again; nothing was put in it: make it private in "
                        f"Spotify (... > Make private), and {again} fills it")
    snapshot, unsettled, stamps = state.snapshot, list(carried), state.stamps
    if not result.plan.unchanged:
        applied = _write_plan(gateway, store, settings, state, result, pkey, info, name, label, again, in_flight)
        snapshot, unsettled, stamps = applied.snapshot, _unsettled(applied.ambiguous, carried), applied.stamps
        pinned = _learned_from_write(result, applied, pinned, written_as)
    _record_written(store, result, pkey, rkey, info, pinned, user_removed, snapshot, unsettled, stamps, written_as)
    # the tracks are in place and recorded: a failing description update only earns a message
    if not result.created and html.unescape(state.description or "") != text:
        try:
            gateway.change_details(pid, description=text)
        except (SpotifyError, SpotifyUnavailable, RateLimited) as exc:
            result.messages.append(f"could not update the playlist description ({exc})")
    result.requests = gateway.requests_made - start
    return result


def _planned(state: ManagedState, desired: list[str], pid: str | None, name: str) -> tuple[PublishResult, dict]:
    """``publish``'s first step, all a dry run does: the plan from the playlist's list now (none
    when ``pid`` is None: a playlist to make) to ``desired`` (as Spotify stores its tracks, at
    most MAX_PLAYLIST, in its present order when the scores only drifted), with the messages
    the state carries; and the ids Spotify stores tracks under (``written_as``, none for a new
    playlist)."""
    current = [] if pid is None else state.current
    written_as = dict(state.written_as) if pid is not None else {}
    desired = list(dict.fromkeys(written_as.get(t, t) for t in desired))  # as Spotify stores them
    over = len(desired) - MAX_PLAYLIST
    scored = desired[:MAX_PLAYLIST]
    desired = _drift_kept(current, scored, state.pinned)
    result = PublishResult(playlist_id=pid, plan=Plan(current=current, desired=desired), written=False,
                           order_kept=desired != scored)
    if over > 0:
        result.messages.append(f"a Spotify playlist holds at most {MAX_PLAYLIST:,} tracks: {name!r} gets the first "
                               f"{MAX_PLAYLIST:,} of {MAX_PLAYLIST + over:,}")
    if state.recreated_reason:
        result.messages.append(state.recreated_reason)
    result.messages.extend(state.messages)
    return result, written_as


def _create_managed(gateway: Gateway, store: Store, state: ManagedState, result: PublishResult, name: str,
                    public: bool, text: str, history: list[dict], again: str) -> tuple[str, bool, BaseException | None]:
    """Make the playlist (private unless ``public``) and record it in ``history`` at once: its
    id, whether it is still public (``again`` fills it then), and the 404 of a Spotify that did
    not know yet the playlist it had just made, or the stop (quota, outage, Ctrl-C) of the checks
    that follow the create (recorded as still public, and the next run asks again)."""
    try:
        created, note = _create(gateway, name, public, text)
    except AmbiguousWrite as lost:  # its answer lost: the playlist may be there all the same
        created, note = _made_after_all(gateway, name, state.listed | {h["id"] for h in history}, lost)
        created = {**created, "public": None}  # not the listing's: read below
    pid = created["id"]
    result.created = True
    result.playlist_id = pid
    result.messages.append(f"created the managed playlist {name!r} ({pid})")
    result.messages.extend([note] if note else [])
    # to the microsecond, as the refresh's listed_at: made since that listing or not (playlists)
    now = utc_now().isoformat()
    for h in history:  # not among your playlists as this run listed them: unfollowed or deleted since
        if h["id"] not in state.listed and not h.get("gone"):
            h["gone"] = now  # (`recommend playlists` listed it as "earlier" until the next refresh)
    history.append({"id": pid, "name": name, "slot": state.slot, "since": now})
    # kept at once: a run stopped before its playlist is recorded below leaves one of this
    # computer's ("earlier" in `recommend playlists`), not one of "another computer"
    store.update_manifest(managed_history=history)
    then = f"{again} makes it private and fills it"
    try:
        if not public and created.get("public") is None:
            created["public"] = _once_known(gateway, pid, lambda _: _is_public(gateway, pid), then)
        if not public and created.get("public") is True:
            left_public = _still_public(gateway, pid, made_now=True, then=then)
            if not left_public:
                result.messages.append(f"Spotify created {name!r} public although a private playlist was "
                                       "asked; it was made private")
            return pid, left_public, None
    except (RecommenderError, KeyboardInterrupt) as exc:  # the quota, an outage, a stop: recorded all the same,
        # or the next run, which never adopts a playlist this computer made, would make a second one
        if not (isinstance(exc, SpotifyError) and exc.status == 404):  # (a 404's message says it already)
            if state.playlist_id is not None:  # --new-playlist: the one managed until now stays the managed one
                raise
            what = "the managed playlist" if state.slot == MAIN else "the playlist"
            exc.args = (f"{exc}; {what} {name!r} ({pid}) was made in this run and holds no tracks yet; {then}",)
        return pid, True, exc
    return pid, False, None


def _edits_while_scoring(gateway: Gateway, pid: str, state: ManagedState, result: PublishResult,
                         in_flight: set[str], name: str) -> tuple[list[str], list[str]]:
    """The tracks you added to the playlist and those you removed since the run read it (while
    it scored), none when it is unchanged or another writer replaced its list; your edits win:
    the plan (``result.plan``) keeps your adds first and leaves out what you removed."""
    if snapshot_of(gateway, pid) == state.snapshot:
        return [], []
    back = read_back(gateway, pid)
    now, now_stamps = back.ids, back.stamps
    added = [t for t in dict.fromkeys(now) if t not in set(state.current) and t not in in_flight]
    gone = [t for t in dict.fromkeys(state.current) if t not in set(now)]
    if state.stamps and rewritten_since(state.stamps, now_stamps, now):  # another writer: not edits
        result.messages.append(rewritten_note(state.slot, name))
        added, gone = [], []
    want = [t for t in result.plan.desired if t not in set(gone)]
    result.plan = Plan(current=now, desired=list(dict.fromkeys(added + want))[:MAX_PLAYLIST])
    if added or gone:
        result.messages.append(f"kept your edits made during this run ({len(added)} added, {len(gone)} removed)")
    return added, gone


def _pending_record(state: ManagedState, settings, result: PublishResult, previous: dict, name: str,
                    pinned: list[str], left_public: bool, written_as: dict, carried: list[dict],
                    about: str | None) -> dict:
    """The slot's record before the write (``pending`` set to the plan's list): what a run
    stopped while writing leaves for the next one. ``previous``: the record as the manifest
    holds it; what we last wrote to *this* playlist is the baseline for inferring your edits
    while ``pending`` is set (an adopted playlist, manifest lost or pointing elsewhere, counts as
    ours; a playlist made now has none)."""
    pid = result.playlist_id
    same = previous.get("id") == pid
    if result.created:
        baseline: list[str] = []
    elif same and "last_written" in previous:
        baseline = list(previous["last_written"])
    else:
        baseline = list(state.current)
    kept_pins = set(pinned)
    # the name Spotify shows (you may have renamed it), for `recommend status`; ``name`` stays the configured one
    return {"id": pid, "name": name, "listed_name": shown_name(state, settings, pid), "last_written": baseline,
            "pinned": pinned, "pending": result.plan.desired,
            "not_yours": [t for t in state.not_yours if t in kept_pins],
            "snapshot": previous.get("snapshot") if same else None, "left_public": left_public,
            "written_as": dict(written_as),
            "unsettled": _unsettled(previous.get("unsettled") or [], carried) if same else [],
            "updated_at": utc_now().isoformat(), **({"about": about} if about is not None else {}),
            ENDED_PINS: (previous.get(ENDED_PINS) or []) if same else [],  # until the write is verified
            REMOVED_AT: removal_times(previous) if same else {}}  # a damaged one: none, as it is read


def _write_plan(gateway: Gateway, store: Store, settings, state: ManagedState, result: PublishResult, pkey: str,
                info: dict, name: str, label: str, again: str, in_flight: set[str]) -> Applied:
    """Write ``result.plan`` (without the tracks gone from the catalogue when Spotify refuses
    one); a stop records the writes it cut off in the slot's record (``CUT_OFF``) and says what
    the playlist holds."""
    pid = result.playlist_id
    try:
        # twice the client's timeout, but never a sleep longer than the configured maximum
        settle = min(2 * settings.spotify.timeout, settings.spotify.max_retry_wait)
        try:
            # one made in this run is named: its "created" note is not printed when the write stops
            applied = _apply_to(gateway, pid, result.plan, settle, f"{label} {name!r} ({pid})" if result.created
                                and state.slot == MAIN else label, again, made_now=result.created,
                                in_flight=in_flight)
        except SpotifyError as exc:
            # a full playlist is no gone track: never a look-up per track for it
            retried = _write_without_gone(gateway, pid, result.plan, state, exc, settle, label, again, in_flight) \
                if exc.status == 400 and not _full(exc) else None
            if retried is None:
                raise
            applied, result.plan, note = retried
            result.messages.append(note)
    except (RecommenderError, KeyboardInterrupt) as exc:  # stopped: `pending` stays set
        _record_cut_off(store, pkey, info, getattr(exc, "cut_off", []))
        if isinstance(exc, SpotifyError):
            raise _not_writable(state, exc) from None
        raise
    result.written = True
    if state.others and pid == state.playlist_id and applied.replaced:  # only adding keeps them
        result.messages.append(_dropped(state.others, name))
    return applied


def _learned_from_write(result: PublishResult, applied: Applied, pinned: list[str], written_as: dict) -> list[str]:
    """What the write taught: the tracks you added while it wrote (pinned first, returned with
    the other pins) and the ids Spotify stored tracks under (into ``written_as``); the plan's
    list becomes the one written."""
    if applied.user_added or applied.written_as:
        result.plan = Plan(current=result.plan.current, desired=applied.desired)
    if applied.user_added:
        pinned = list(dict.fromkeys(applied.user_added + pinned))
        n = len(applied.user_added)
        result.messages.append(f"kept {n} {plural(n, 'track')} you added to the playlist while it was being written")
    if applied.written_as:
        written_as.update(applied.written_as)
        n = len(applied.written_as)
        once = ", each song once" if len(set(applied.written_as.values())) < n else ""
        result.messages.append(f"Spotify put {n} {plural(n, 'track')} in the playlist under another id "
                               f"(the same song from another release); kept as Spotify has them{once}")
    return pinned


def _record_written(store: Store, result: PublishResult, pkey: str, rkey: str, info: dict, pinned: list[str],
                    user_removed: list[str], snapshot: str | None, unsettled: list[dict], stamps: dict[str, str],
                    written_as: dict) -> None:
    """The slot's record once the playlist holds the plan's list (``pending`` cleared)."""
    desired = result.plan.desired
    in_list = set(desired)
    info.pop(ENDED_PINS)  # the playlist holds what we wrote: an ended pin is either ours now or gone
    info.pop(REMOVED_AT)  # and a removal in `recommend web` is in it or undone: a later add is a hand add
    info.update(last_written=desired, pending=None, pinned=pinned, snapshot=snapshot, unsettled=unsettled,
                written_as={t: v for t, v in written_as.items() if v in in_list},
                added_at={t: stamps[t] for t in desired if t in stamps}, updated_at=utc_now().isoformat())
    try:
        store.update_manifest(**{pkey: info, rkey: user_removed})
    except StorageError as exc:  # a full disk after the writes: the line must not read as if they failed
        if not result.written:
            raise
        raise StorageError(f"{exc}; the managed playlist holds its new list all the same, and the next run "
                           "records it") from None
