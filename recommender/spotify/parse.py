"""Raw Spotify JSON -> rows of the frames in ``recommender.schema``.

Every optional field is read with ``.get``: ``popularity`` and ``genres`` are absent for
Development Mode apps, ``external_ids`` may be missing, playlist entries may carry the track
under ``item`` (2026) or ``track`` (old alias), and may be null, an episode or a local file; a
relinked track (``linked_from``) is read under the id the playlist or library stores.
"""

from __future__ import annotations

from typing import Any


def entry_track(entry: dict | None) -> dict | None:
    """The track of a playlist entry (``item`` first, then ``track``), or None to skip it
    (null, episode, local file, or no id)."""
    if not entry or entry.get("is_local"):
        return None
    obj = entry_object(entry)
    if not isinstance(obj, dict) or obj.get("is_local"):
        return None
    if obj.get("type", "track") != "track" or not obj.get("id"):
        return None
    return stored_track(obj)


def entry_object(entry: dict) -> object:
    """What a playlist entry holds: ``item`` (2026), else its old alias ``track`` (None: null)."""
    obj = entry.get("item")
    return entry.get("track") if obj is None else obj


def stored_track(obj: dict) -> dict:
    """A relinked track (Spotify answers with the playable copy and ``linked_from`` naming the
    track the playlist or library holds) under the stored id: the id we wrote and the user
    added, so that a playlist read back compares equal to what was written."""
    linked = obj.get("linked_from")
    if isinstance(linked, dict) and linked.get("id") and linked["id"] != obj["id"]:
        return {**obj, "id": linked["id"], "uri": linked.get("uri") or f"spotify:track:{linked['id']}"}
    return obj


# the ``market`` that asks for the catalogue as the logged-in user's country sees it: a track
# looked up with it says whether it plays there (``is_playable``); a search finds only tracks that do
MARKET = "from_token"


def playable(obj: dict) -> bool:
    """Whether a track asked for with a ``market`` plays in the user's country: Spotify answers
    ``is_playable: false`` for a release licensed only elsewhere (greyed out in the app); a
    track without the key (asked without a market) is taken as playable."""
    return obj.get("is_playable") is not False


def restriction(obj: dict) -> str:
    """Why a track that is not ``playable`` does not play: Spotify's ``restrictions.reason``
    ("market": not licensed in your country, "product": not with your subscription, "explicit":
    your account does not play explicit content); "market" when it does not say."""
    why = (obj.get("restrictions") or {}).get("reason") if isinstance(obj.get("restrictions"), dict) else None
    return str(why) if why else "market"


def track_row(obj: dict, album: dict | None = None) -> dict[str, Any]:
    """A row of the ``tracks`` frame. ``album`` is for simplified tracks (album tracks)."""
    album = obj.get("album") or album or {}
    artists = [a for a in obj.get("artists") or [] if a and a.get("id")]
    return {
        "track_id": obj["id"],
        "name": obj.get("name") or "",
        "artist_ids": [a["id"] for a in artists],
        "artist_names": [a.get("name") or "" for a in artists],
        "album_id": album.get("id"),
        "album_name": album.get("name"),
        "release_date": album.get("release_date"),
        "duration_ms": obj.get("duration_ms"),
        "explicit": obj.get("explicit"),
        "isrc": (obj.get("external_ids") or {}).get("isrc"),
        "popularity": obj.get("popularity"),
    }


def artist_row(obj: dict) -> dict[str, Any]:
    """A row of the ``artists`` frame (full or simplified artist object)."""
    return {
        "artist_id": obj["id"],
        "name": obj.get("name") or "",
        "genres": list(obj.get("genres") or []),
        "popularity": obj.get("popularity"),
    }


def track_artist_rows(obj: dict) -> list[dict[str, Any]]:
    """Simplified artist rows from a track's ``artists`` list."""
    return [artist_row(a) for a in obj.get("artists") or [] if a and a.get("id")]


def playlist_row(obj: dict, user_id: str) -> dict[str, Any]:
    owner = (obj.get("owner") or {}).get("id")
    listing = obj.get("items") or obj.get("tracks") or {}
    return {
        "playlist_id": obj["id"],
        "name": obj.get("name") or "",
        "description": obj.get("description") or "",
        "owner_id": owner,
        "snapshot_id": obj.get("snapshot_id"),
        "collaborative": bool(obj.get("collaborative")),
        "owned": owner == user_id,
        "public": obj.get("public"),
        "total": listing.get("total") if isinstance(listing, dict) else None,
        "readable": True,
    }
