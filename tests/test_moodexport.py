"""`moods cluster --export` against the stand-in over real HTTP: one private playlist per mood,
updated in place, the user's other playlists (and the main managed one) never written."""

from __future__ import annotations

from recommender import moodexport, publish
from recommender.store import Store

from spotify_helpers import api_requests, gateway_for, save_login, settings_for
from deprecation_marks import DEPRECATIONS_OF_OURS

pytestmark = DEPRECATIONS_OF_OURS

USER = "small-user"


def _env(server, tmp_path):
    settings = settings_for(server, tmp_path / "cache")
    save_login(server, tmp_path / "cache")
    return settings, gateway_for(settings), Store(settings.cache_dir)


def test_each_mood_gets_its_own_private_playlist_updated_in_place(standin, tmp_path):
    settings, gateway, store = _env(standin, tmp_path)
    tracks = sorted(standin.account.tracks)
    others = {p["id"]: standin.playlist_track_ids(p["id"]) for p in standin.account.playlists}
    first = moodexport.export_moods(gateway, store, settings, USER, {"happy/upbeat": tracks[:3], "sad/melancholic": tracks[3:6]},
                                    "List A + List B")
    assert [e.created for e in first] == [True, True]
    assert [e.name for e in first] == ["recommend: happy/upbeat", "recommend: sad/melancholic"]
    for e, want in zip(first, (tracks[:3], tracks[3:6])):
        pl = standin.account.playlist(e.playlist_id)
        assert pl["public"] is False and publish.MARKER in pl["description"]
        assert standin.playlist_track_ids(e.playlist_id) == want
    kept = store.read_manifest()["managed_playlist:mood:recommend: happy/upbeat"]
    assert kept["last_written"] == tracks[:3] and kept["pending"] is None
    assert "managed_playlist" not in store.read_manifest()
    # mood playlists are the tool's output: never taste, never an evaluation target
    assert {e.playlist_id for e in first} <= set(publish.managed_playlist_ids(store))

    standin.clear_requests()
    second = moodexport.export_moods(gateway, store, settings, USER, {"happy/upbeat": [tracks[2], tracks[7]]}, "List A")
    assert second[0].playlist_id == first[0].playlist_id and not second[0].created
    assert (second[0].added, second[0].removed, second[0].kept) == (1, 2, 1)
    assert standin.playlist_track_ids(first[0].playlist_id) == [tracks[2], tracks[7]]
    writes = [r for r in api_requests(standin) if r.method != "GET"]
    assert writes and all(r.path in (f"/v1/playlists/{first[0].playlist_id}/items",  # its tracks
                                     f"/v1/playlists/{first[0].playlist_id}")  # its description
                          for r in writes)
    # the user's own playlists were never touched
    assert {p: standin.playlist_track_ids(p) for p in others} == others


def test_a_lost_manifest_adopts_the_mood_playlist_instead_of_making_a_second(standin, tmp_path):
    settings, gateway, store = _env(standin, tmp_path)
    tracks = sorted(standin.account.tracks)
    first = moodexport.export_moods(gateway, store, settings, USER, {"calm/peaceful": tracks[:2]}, "x")
    store.write_manifest({})
    again = moodexport.export_moods(gateway, store, settings, USER, {"calm/peaceful": tracks[2:4]}, "x")
    assert again[0].playlist_id == first[0].playlist_id and not again[0].created
    assert len([p for p in standin.account.playlists if p["name"] == "recommend: calm/peaceful"]) == 1
