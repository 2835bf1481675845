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
    # another source's clusters took the mood's one playlist: said, not silent (the moods of a
    # second playlist replaced the first's without a word)
    assert second[0].replaced == "List A + List B" and second[0].note.startswith(
        "'recommend: happy/upbeat' held the mood of 'List A + List B' until now")
    assert "2 of its tracks removed" in second[0].note and "replaced" in second[0].to_dict()
    assert [e.replaced for e in first] == [None, None]
    writes = [r for r in api_requests(standin) if r.method != "GET"]
    assert writes and all(r.path in (f"/v1/playlists/{first[0].playlist_id}/items",  # its tracks
                                     f"/v1/playlists/{first[0].playlist_id}")  # its description
                          for r in writes)
    # the user's own playlists were never touched
    assert {p: standin.playlist_track_ids(p) for p in others} == others
    again = moodexport.export_moods(gateway, store, settings, USER, {"happy/upbeat": [tracks[8]]}, "List A")
    assert again[0].replaced is None and again[0].note == ""  # the same source again: nothing to say


def test_a_lost_manifest_adopts_the_mood_playlist_instead_of_making_a_second(standin, tmp_path):
    settings, gateway, store = _env(standin, tmp_path)
    tracks = sorted(standin.account.tracks)
    first = moodexport.export_moods(gateway, store, settings, USER, {"calm/peaceful": tracks[:2]}, "x")
    store.write_manifest({})
    again = moodexport.export_moods(gateway, store, settings, USER, {"calm/peaceful": tracks[2:4]}, "x")
    assert again[0].playlist_id == first[0].playlist_id and not again[0].created
    assert len([p for p in standin.account.playlists if p["name"] == "recommend: calm/peaceful"]) == 1


def test_an_export_of_several_moods_asks_who_is_logged_in_once(standin, tmp_path):
    """Before creating each mood playlist the export checks that the login is the library's
    account (a token of another one dropped in): it asked Spotify `GET /me` once per mood (three
    moods, three requests). One run asks once."""
    settings, gateway, store = _env(standin, tmp_path)
    tracks = sorted(standin.account.tracks)
    done = moodexport.export_moods(gateway, store, settings, USER, {"a": tracks[:2], "b": tracks[2:4], "c": tracks[4:6]},
                                   "x")
    assert [e.created for e in done] == [True, True, True]
    assert len([r for r in api_requests(standin, "GET") if r.path.rstrip("/") == "/v1/me"]) == 1


def test_an_export_for_a_library_of_unknown_account_adopts_its_playlist_after_a_lost_manifest(standin, tmp_path):
    """The web export asked Spotify who was logged in when it was given no account (and read the
    manifest's before that), the CLI's export did not: a library whose account is not recorded
    ("") never adopted its mood playlist after a lost manifest, and made a second one. The account
    unknown is the login's, in the one place that needs it (publish.managed_state)."""
    settings, gateway, store = _env(standin, tmp_path)
    tracks = sorted(standin.account.tracks)
    first = moodexport.export_moods(gateway, store, settings, "", {"calm": tracks[:2]}, "x")
    store.write_manifest({})
    again = moodexport.export_moods(gateway_for(settings), store, settings, "", {"calm": tracks[2:4]}, "x")
    assert again[0].playlist_id == first[0].playlist_id and not again[0].created
    assert len([p for p in standin.account.playlists if p["name"] == "recommend: calm"]) == 1


def test_the_web_export_answers_the_name_the_playlist_was_created_with(standin, tmp_path):
    """The web app's export of a cluster with a long label ("<playlist.name> - mood 3: <label>")
    created a playlist of 100 characters, as Spotify takes, but answered the page the name it was
    asked for, longer than any playlist in your account; it answers the name as created now."""
    from recommender.web.export import export_tracks
    settings, gateway, store = _env(standin, tmp_path)
    tracks = sorted(standin.account.tracks)
    asked = "recommend: for you - mood 3: " + "very long label " * 10
    out = export_tracks(settings, gateway, "x", asked, tracks[:2], USER)
    made = standin.account.playlist(out["playlist_id"])["name"]
    assert out["name"] == made and len(made) <= publish.MAX_NAME < len(asked)


def test_a_track_left_only_in_a_mood_playlist_is_never_a_pick(standin, tmp_path):
    """A mood export holds tracks of your playlists; the refresh caches every playlist of yours,
    ours too. Once you deleted a playlist (or removed a track from it), its tracks were held only
    by the mood playlist and came back in the managed playlist as "new to you" (source
    "catalogue"): our own output is no evidence of anything."""
    from recommender import jobs
    _, gateway, store = _env(standin, tmp_path)
    # no discovery: every track of the small account is on an album of one of its top artists
    settings = settings_for(standin, tmp_path / "cache", **{"refresh.discovery_artists": 0, "discovery.enabled": False})
    acc = standin.account
    gone = "smallPlaylist000000003"
    elsewhere = {t for p in acc.playlists if p["id"] != gone for t in standin.playlist_track_ids(p["id"])}
    elsewhere |= {s["id"] for s in acc.saved_tracks} | {t for ids in acc.top_tracks.values() for t in ids}
    only_there = [t for t in standin.playlist_track_ids(gone) if t not in elsewhere]
    assert only_there  # the fixture has tracks that only this playlist holds
    before = jobs.build_playlist(settings, dry_run=True, gateway=gateway)
    moodexport.export_moods(gateway, store, settings, USER, {"happy/upbeat": sorted(acc.tracks)}, "all")
    gateway.client._delete(f"me/library?uris=spotify:playlist:{gone}")  # you delete the playlist
    after = jobs.build_playlist(settings, dry_run=True, gateway=gateway, force_refresh=True)
    picked = set(after.table["track_id"])
    assert not picked & set(only_there), after.table[["track_id", "name", "new", "source"]].to_string()
    assert not after.table["new"].any() and len(after.table)  # nothing new without discovery; yours still
    assert not before.table["new"].any()


def test_a_refresh_reads_no_item_of_a_mood_playlist_and_still_lists_it(standin, tmp_path):
    """Every export rewrites its mood playlist, so the next refresh read it page by page (about
    150 requests on a big library after each export) for items nothing uses: our output is never
    taste nor a candidate. Its items are not read now; it is still listed as ours."""
    from recommender.spotify.sync import refresh_library
    settings, gateway, store = _env(standin, tmp_path)
    tracks = sorted(standin.account.tracks)
    refresh_library(gateway, store, settings)
    made = moodexport.export_moods(gateway, store, settings, USER, {"calm": tracks[:4]}, "x")[0]
    for chosen in (tracks[4:8], tracks[8:12]):  # a refresh after each of two exports
        moodexport.export_moods(gateway, store, settings, USER, {"calm": chosen}, "x")
        standin.clear_requests()
        library, report = refresh_library(gateway, store, settings)
        assert not [r for r in api_requests(standin, "GET") if made.playlist_id in r.path]
        assert report.playlists_ours == 1 and made.playlist_id in set(library.playlists["playlist_id"])
        assert made.playlist_id not in set(library.playlist_items["playlist_id"])
    assert publish.managed_playlist_roles(store, library.playlists)[made.playlist_id] == "mood"
    # the user's own playlists are read as before (the first refresh read them; unchanged since)
    assert report.playlists_unchanged == len([p for p in standin.account.playlists if p["owner"] == USER
                                              and p["id"] != made.playlist_id])


def test_a_run_whose_lock_file_another_run_took_writes_nothing(standin, tmp_path):
    """The write checks its lock first (`lock.still_held`): the lock file deleted by hand and taken
    by another run, this run creates no playlist and writes no track."""
    import pytest

    from recommender.errors import LockHeld
    from recommender.lock import RunLock, lock_path
    from test_lock import HOLDER, _finish, _spawn
    settings, gateway, store = _env(standin, tmp_path)
    before = len(standin.account.playlists)
    with RunLock(lock_path(settings.cache_dir)):
        lock_path(settings.cache_dir).unlink()
        other = _spawn(HOLDER, str(lock_path(settings.cache_dir)), "release")
        try:
            with pytest.raises(LockHeld, match="this run writes nothing to Spotify"):
                moodexport.export_moods(gateway, store, settings, USER, {"calm": sorted(standin.account.tracks)[:2]},
                                        "List A")
        finally:
            _finish(other)
    assert len(standin.account.playlists) == before
