"""The Spotify stand-in over real HTTP (127.0.0.1), with ``requests`` and spotipy 2.26."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyOauthError, SpotifyPKCE

from recommender.standins.spotify import Account, Fault, StandinServer, base62_id

OWNED = ["smallPlaylist000000001", "smallPlaylist000000002", "smallPlaylist000000003"]
FOLLOWED = "smallPlaylist000000004"
T = {n: f"smallTrack{n:012d}" for n in range(1, 24)}
ARTIST_KESTREL = "smallArtist00000000003"
SCOPE = "playlist-read-private user-top-read playlist-modify-private"


def get(server: StandinServer, path: str, token: dict | None = None, **params) -> requests.Response:
    token = token or server.issue_token()
    url = path if path.startswith("http") else server.base_url + path
    return requests.get(url, params=params, headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10)


def send(server: StandinServer, method: str, path: str, body=None, **params) -> requests.Response:
    token = server.issue_token()
    return requests.request(method, server.base_url + path, params=params, json=body, timeout=10,
                            headers={"Authorization": f"Bearer {token['access_token']}"})


def all_pages(server: StandinServer, path: str, **params) -> list[dict]:
    """Follow absolute ``next`` URLs; checks each one points at the stand-in."""
    token = server.issue_token()
    page = get(server, path, token, **params).json()
    items = list(page["items"])
    while page["next"]:
        assert page["next"].startswith(server.api_url)
        page = get(server, page["next"], token).json()
        items += page["items"]
    return items


# ----- accounts ------------------------------------------------------------------------
def test_account_round_trips_and_resolves_days_ago(small_account):
    d = small_account.to_dict()
    again = Account.from_dict(d)
    assert again.to_dict() == d
    assert all(s["added_at"].endswith("Z") for s in small_account.saved_tracks)
    kinds = [it["kind"] for it in small_account.playlist(OWNED[0])["items"]]
    assert {"episode", "local", "null"} <= set(kinds)


def test_account_rejects_dangling_references(small_account):
    d = small_account.to_dict()
    d["playlists"][0]["items"].append({"track": "0000000000000000000000"})
    with pytest.raises(ValueError, match="unknown track"):
        Account.from_dict(d)


def test_bad_account_file_is_a_data_error(tmp_path):
    from recommender.errors import DataError
    bad = tmp_path / "acc.json"
    bad.write_text('{"playlists": [{"id": "x", "items": [{"track": "nope"}]}]}')
    with pytest.raises(DataError, match="acc.json"):
        Account.from_file(bad)
    with pytest.raises(DataError, match="missing.json"):
        Account.from_file(tmp_path / "missing.json")


def test_base62_id_is_deterministic_22_chars():
    assert base62_id("Ed Sheeran") == base62_id("Ed Sheeran")
    assert len(base62_id("x")) == 22 and base62_id("x").isalnum()
    assert base62_id("a") != base62_id("b")


# ----- /me and paging ---------------------------------------------------------------------
def test_me_with_and_without_trailing_slash(standin_spotify, standin):
    me = standin_spotify.current_user()  # spotipy asks for "me/"
    assert me["id"] == "small-user" and me["account_id"]
    assert not {"country", "email", "product", "followers"} & set(me)
    assert standin.requests[-1].path == "/v1/me/"
    assert get(standin, "/v1/me").json()["id"] == "small-user"


def test_playlists_paging_uses_absolute_next_urls(standin):
    first = get(standin, "/v1/me/playlists", limit=3).json()
    assert first["total"] == 4 and first["next"].startswith(standin.api_url)
    items = all_pages(standin, "/v1/me/playlists", limit=3)
    assert [p["id"] for p in items] == OWNED + [FOLLOWED]
    followed = items[-1]
    assert followed["owner"]["id"] == "spotify" and followed["snapshot_id"]
    assert followed["items"] == followed["tracks"] == {"href": followed["items"]["href"], "total": 5}


@pytest.mark.parametrize("limit", ["51", "0", "abc"])
def test_page_size_over_50_is_refused(standin, limit):
    r = get(standin, "/v1/me/playlists", limit=limit)
    assert r.status_code == 400 and r.json()["error"]["message"] == "Invalid limit"


def test_playlist_items_carry_item_and_track_and_odd_entries(standin_spotify):
    page = standin_spotify.playlist_items(OWNED[0], limit=50)
    entries = page["items"]
    assert all(e["item"] == e["track"] for e in entries)
    types = [None if e["item"] is None else e["item"]["type"] for e in entries]
    assert types.count("episode") == 1 and types.count(None) == 1
    local = [e for e in entries if e["is_local"]]
    assert len(local) == 1 and local[0]["item"]["id"] is None and local[0]["item"]["uri"].startswith("spotify:local:")
    track = entries[0]["item"]
    assert track["id"] == T[1] and track["album"]["release_date"] == "2019-06-14"
    assert track["external_ids"] == {"isrc": "QZSMA1900001"}
    assert "popularity" not in track and "popularity" not in track["album"]


def test_paging_items_across_pages_keeps_order(standin):
    entries = all_pages(standin, f"/v1/playlists/{OWNED[0]}/items", limit=4)
    ids = [e["item"]["id"] for e in entries if e["item"] and e["item"]["type"] == "track" and not e["is_local"]]
    assert ids == standin.playlist_track_ids(OWNED[0])


def test_followed_playlist_items_are_forbidden_and_absent(standin_spotify):
    with pytest.raises(spotipy.SpotifyException) as err:
        standin_spotify.playlist_items(FOLLOWED)
    assert err.value.http_status == 403
    meta = standin_spotify.playlist(FOLLOWED)
    assert meta["name"] == "Today's Top Hits" and "items" not in meta and "tracks" not in meta
    own = standin_spotify.playlist(OWNED[1])
    assert own["items"]["total"] == 7 and own["items"]["items"][0]["item"]["id"] == T[5]


def test_a_collaborative_playlist_of_another_owner_is_readable_and_writable_but_not_editable(small_account):
    """SPOTIFY-2026.md: items only for playlists the user owns *or collaborates on*."""
    small_account.playlist(FOLLOWED)["collaborative"] = True
    with StandinServer(small_account) as server:
        assert get(server, f"/v1/playlists/{FOLLOWED}/items").json()["total"] == 5
        assert get(server, f"/v1/playlists/{FOLLOWED}").json()["items"]["total"] == 5
        added = send(server, "POST", f"/v1/playlists/{FOLLOWED}/items", {"uris": [f"spotify:track:{T[1]}"]})
        assert added.status_code == 201
        assert server.playlist_track_ids(FOLLOWED)[-1] == T[1]
        r = send(server, "PUT", f"/v1/playlists/{FOLLOWED}", {"name": "mine now"})
        assert r.status_code == 403 and small_account.playlist(FOLLOWED)["name"] == "Today's Top Hits"


# ----- writes ------------------------------------------------------------------------------
def test_writes_change_snapshot_and_state(standin_spotify, standin):
    pid = OWNED[1]
    before = standin_spotify.playlist(pid)["snapshot_id"]
    s1 = standin_spotify.playlist_add_items(pid, [T[21], T[22]])["snapshot_id"]  # bare JSON array
    assert s1 != before and standin.playlist_track_ids(pid)[-2:] == [T[21], T[22]]
    s2 = standin_spotify.playlist_replace_items(pid, [T[3], T[4]])["snapshot_id"]  # {"uris": [...]}
    assert s2 not in (before, s1) and standin.playlist_track_ids(pid) == [T[3], T[4]]
    s3 = standin_spotify.playlist_remove_all_occurrences_of_items(pid, [T[3]])["snapshot_id"]
    assert s3 not in (before, s1, s2) and standin.playlist_track_ids(pid) == [T[4]]
    assert standin_spotify.playlist(pid)["snapshot_id"] == s3
    entry = standin_spotify.playlist_items(pid)["items"][0]
    assert entry["added_by"]["id"] == "small-user" and entry["added_at"].endswith("Z")


def test_more_than_100_uris_or_unknown_ids_are_refused_without_change(standin_spotify, standin):
    pid = OWNED[1]
    before = standin.playlist_track_ids(pid)
    for call in (lambda: standin_spotify.playlist_add_items(pid, [T[1]] * 101),
                 lambda: standin_spotify.playlist_replace_items(pid, [T[1]] * 101),
                 lambda: standin_spotify.playlist_add_items(pid, ["0123456789abcdefghijkl"])):
        with pytest.raises(spotipy.SpotifyException) as err:
            call()
        assert err.value.http_status == 400
    assert standin.playlist_track_ids(pid) == before
    assert standin_spotify.playlist_add_items(pid, [T[1]] * 100)["snapshot_id"]
    assert len(standin.playlist_track_ids(pid)) == len(before) + 100


def test_reorder_and_remove_specific_positions(standin_spotify, standin):
    pid = OWNED[2]  # [18, 19, 14, 16, 1, 5]
    standin_spotify.playlist_reorder_items(pid, range_start=4, insert_before=0, range_length=2)
    assert standin.playlist_track_ids(pid) == [T[1], T[5], T[18], T[19], T[14], T[16]]
    standin_spotify.playlist_remove_specific_occurrences_of_items(pid, [{"uri": T[19], "positions": [3]}])
    assert standin.playlist_track_ids(pid) == [T[1], T[5], T[18], T[14], T[16]]
    with pytest.raises(spotipy.SpotifyException) as err:  # position does not hold that track
        standin_spotify.playlist_remove_specific_occurrences_of_items(pid, [{"uri": T[19], "positions": [0]}])
    assert err.value.http_status == 400


def test_writes_to_followed_playlist_are_forbidden(standin_spotify, standin):
    with pytest.raises(spotipy.SpotifyException) as err:
        standin_spotify.playlist_add_items(FOLLOWED, [T[1]])
    assert err.value.http_status == 403
    assert standin.playlist_track_ids(FOLLOWED) == [T[15], T[5], T[21], T[14], T[17]]


def test_create_change_details_and_unfollow(standin_spotify, standin):
    new = standin_spotify.current_user_playlist_create("recommend: for you", public=False, description="d")
    assert new["owner"]["id"] == "small-user" and new["items"]["total"] == 0 and new["public"] is False
    assert standin_spotify.current_user_playlists()["items"][0]["id"] == new["id"]
    standin_spotify.playlist_change_details(new["id"], description="updated")
    assert standin_spotify.playlist(new["id"])["description"] == "updated"
    r = send(standin, "DELETE", "/v1/me/library", uris=f"spotify:playlist:{new['id']}")
    assert r.status_code == 200
    listed = [p["id"] for p in standin_spotify.current_user_playlists()["items"]]
    assert new["id"] not in listed
    standin_spotify.playlist_add_items(new["id"], [T[1]])  # the owner still writes...
    assert standin_spotify.playlist_items(new["id"])["total"] == 1  # ...and reads it


def test_bad_positions_are_400_and_change_nothing(standin, caplog):
    pid, uri = OWNED[1], f"spotify:track:{T[1]}"
    before = standin.playlist_track_ids(pid)
    for method, body, params in [
        ("POST", [uri], {"position": "abc"}),  # spotipy's add: a bare array, position in the query
        ("POST", {"uris": [uri], "position": "x"}, {}),
        ("POST", {"uris": [uri], "position": 99}, {}),
        ("DELETE", {"items": [{"uri": f"spotify:track:{before[0]}", "positions": ["x"]}]}, {}),
        ("DELETE", {"items": [{"uri": f"spotify:track:{before[0]}", "positions": 0}]}, {}),
        # a reorder past either end (a client's off-by-one would otherwise pass unseen)
        ("PUT", {"range_start": len(before), "insert_before": 0}, {}),
        ("PUT", {"range_start": 0, "insert_before": len(before) + 1}, {}),
        ("PUT", {"range_start": len(before) - 1, "insert_before": 0, "range_length": 2}, {}),
        ("PUT", {"range_start": 0, "insert_before": 2, "range_length": 0}, {}),
    ]:
        r = send(standin, method, f"/v1/playlists/{pid}/items", body, **params)
        assert r.status_code == 400 and r.json()["error"]["status"] == 400, (method, body, params, r.text)
    assert standin.playlist_track_ids(pid) == before
    assert not [rec for rec in caplog.records if rec.levelname == "ERROR"]  # answered, not crashed
    r = send(standin, "PUT", f"/v1/playlists/{pid}/items", {"range_start": 0, "insert_before": len(before)})
    assert r.status_code == 200 and standin.playlist_track_ids(pid) == before[1:] + before[:1]  # to the end


def test_playlist_details_of_the_wrong_type_are_400_and_change_nothing(standin_spotify, standin):
    count = len(standin.account.playlists)
    r = send(standin, "POST", "/v1/me/playlists", {"name": "x", "public": "no"})
    assert (r.status_code, r.json()["error"]["message"]) == (400, "Invalid public")
    assert len(standin.account.playlists) == count
    r = send(standin, "PUT", f"/v1/playlists/{OWNED[0]}", {"name": "renamed", "public": "no"})
    assert (r.status_code, r.json()["error"]["message"]) == (400, "Invalid public")
    assert standin_spotify.playlist(OWNED[0])["name"] != "renamed"  # not half-applied
    made = send(standin, "POST", "/v1/me/playlists", {"name": "defaults"})  # Spotify's defaults
    assert made.status_code == 201
    assert (made.json()["public"], made.json()["collaborative"], made.json()["description"]) == (True, False, "")


@pytest.mark.parametrize("details", [{"name": "n" * 101}, {"name": "two\nlines"}, {"description": "d" * 301},
                                     {"description": "two\nlines"}, {"description": "cr\rlf"}])
def test_a_name_or_description_spotify_cannot_take_is_a_bare_500_that_changes_nothing(standin, details):
    """troi-recommendation-playground PR #155: over 100 / 300 characters, or a line break."""
    count = len(standin.account.playlists)
    r = send(standin, "POST", "/v1/me/playlists", {"name": "x", **details})
    assert r.status_code == 500 and len(standin.account.playlists) == count
    r = send(standin, "PUT", f"/v1/playlists/{OWNED[0]}", details)
    assert r.status_code == 500 and standin.account.playlist(OWNED[0])[next(iter(details))] != next(iter(details.values()))
    ok = send(standin, "POST", "/v1/me/playlists", {"name": "n" * 100, "description": "d" * 300, "public": False})
    assert ok.status_code == 201


def test_keeps_public_makes_public_playlists_whatever_is_asked(standin_spotify, standin):
    """spotipy #1072, news-bulletin-playlist #135: "public": false ignored, at creation and after."""
    standin.keeps_public = True
    new = standin_spotify.current_user_playlist_create("x", public=False)
    assert new["public"] is True
    standin_spotify.playlist_change_details(new["id"], public=False)  # answered 200...
    assert standin_spotify.playlist(new["id"])["public"] is True        # ...and changes nothing
    standin.keeps_public = False
    standin_spotify.playlist_change_details(new["id"], public=False)
    assert standin_spotify.playlist(new["id"])["public"] is False


def test_written_as_stores_a_track_under_another_id(standin_spotify, standin):
    """spotipy #1097: adding the old id adds the new one."""
    standin.written_as = {T[1]: T[2]}
    new = standin_spotify.current_user_playlist_create("x", public=False)
    standin_spotify.playlist_replace_items(new["id"], [T[1], T[3]])
    assert standin.playlist_track_ids(new["id"]) == [T[2], T[3]]


def test_listed_public_is_what_the_listing_says_not_the_playlist(standin_spotify, standin):
    """exportify #56: every playlist listed as public, each one's own object right."""
    standin.listed_public = True
    listed = standin_spotify.current_user_playlists()["items"]
    assert listed and all(p["public"] is True for p in listed)
    private = next(p for p in standin.account.playlists if not p["public"] and p["followed"])
    assert standin_spotify.playlist(private["id"])["public"] is False


def test_an_add_past_the_playlist_size_limit_is_a_400_that_adds_nothing(standin_spotify, standin):
    standin.max_items = 3
    new = standin_spotify.current_user_playlist_create("x", public=False)
    standin_spotify.playlist_add_items(new["id"], [T[1], T[2]])
    with pytest.raises(spotipy.SpotifyException) as err:
        standin_spotify.playlist_add_items(new["id"], [T[3], T[4]])
    assert err.value.http_status == 400 and "Playlist size limit reached" in err.value.msg
    assert standin.playlist_track_ids(new["id"]) == [T[1], T[2]]


def test_a_refused_description_is_a_bare_400_on_create_and_edit(standin_spotify, standin):
    standin.refused_description = "nope"
    with pytest.raises(spotipy.SpotifyException) as err:
        standin_spotify.current_user_playlist_create("x", public=False, description="say nope")
    assert err.value.http_status == 400
    new = standin_spotify.current_user_playlist_create("x", public=False, description="fine")
    with pytest.raises(spotipy.SpotifyException):
        standin_spotify.playlist_change_details(new["id"], description="nope")
    assert standin_spotify.playlist(new["id"])["description"] == "fine"


# ----- library endpoints -----------------------------------------------------------------
def test_top_saved_and_following(standin_spotify, small_account):
    top = standin_spotify.current_user_top_tracks(limit=50, time_range="long_term")
    assert [t["id"] for t in top["items"]] == small_account.top_tracks["long_term"]
    arts = standin_spotify.current_user_top_artists(limit=2, time_range="short_term")
    assert arts["total"] == 3 and arts["next"] and "genres" not in arts["items"][0]
    saved = standin_spotify.current_user_saved_tracks(limit=50)["items"]
    dates = [s["added_at"] for s in saved]
    assert dates == sorted(dates, reverse=True) and saved[0]["track"]["id"] == T[4]
    ids, page = [], standin_spotify.current_user_followed_artists(limit=2)["artists"]
    while True:
        ids += [a["id"] for a in page["items"]]
        assert page["cursors"]["after"] == (page["items"][-1]["id"] if page["next"] else None)
        if not page["next"]:
            break
        page = standin_spotify.next(page)["artists"]
    assert sorted(ids) == sorted(small_account.followed_artists) and len(ids) == 3


def test_bad_time_range_and_missing_scope(standin, client_for):
    assert get(standin, "/v1/me/top/tracks", time_range="forever").status_code == 400
    narrow = standin.issue_token(scope="playlist-read-private")
    r = get(standin, "/v1/me/top/tracks", narrow)
    assert r.status_code == 403 and r.json()["error"]["message"] == "Insufficient client scope"


def test_artist_albums_newest_first_and_album_tracks(standin_spotify):
    albums = standin_spotify.artist_albums(ARTIST_KESTREL, limit=10)["items"]
    assert [a["release_date"] for a in albums] == ["2022-11-04", "2022-09-30"]
    singles = standin_spotify.artist_albums(ARTIST_KESTREL, include_groups="single", limit=10)["items"]
    with pytest.raises(spotipy.SpotifyException, match="Invalid limit"):  # 10 at most since 2026 (spotipy #1231)
        standin_spotify.artist_albums(ARTIST_KESTREL, limit=11)
    assert [a["album_type"] for a in singles] == ["single"]
    tracks = standin_spotify.album_tracks(albums[0]["id"])["items"]
    assert [t["track_number"] for t in tracks] == [1, 2, 3, 4] and "album" not in tracks[0]
    artist = standin_spotify.artist(ARTIST_KESTREL)
    assert artist["name"] == "DJ Kestrel" and "genres" not in artist and "popularity" not in artist


def test_search_tokens_fields_isrc_and_limit(standin_spotify):
    res = standin_spotify.search("paper moon", type="track,artist", limit=10)
    assert {t["id"] for t in res["tracks"]["items"]} == {T[7], T[8]}  # same title + artist, two ids
    assert res["artists"]["total"] == 0
    assert standin_spotify.search("artist:luna", type="artist")["artists"]["items"][0]["name"] == "Luna Park"
    same = standin_spotify.search("isrc:QZSMA2200005", type="track")["tracks"]["items"]
    assert {t["id"] for t in same} == {T[5], T[6]}
    with pytest.raises(spotipy.SpotifyException) as err:
        standin_spotify.search("paper", limit=11)
    assert err.value.http_status == 400


def test_the_search_index_finds_what_matching_every_track_finds():
    """The track search reads a word index; its hits are the tracks that match the query one by
    one (``_matches``), in catalogue order, for free words, fields, ISRCs and empty filters."""
    from recommender.standins.spotify import _matches, _parse_query, _track_words
    acc = Account.sample()
    server = StandinServer(acc)
    ids = list(acc.tracks)
    first, other = acc.tracks[ids[0]], acc.tracks[ids[-1]]
    artist = acc.artists[first["artist_ids"][0]]["name"]
    queries = [first["name"], f"track:{first['name']} artist:{artist}", f'artist:"{artist}"',
               f"album:{acc.albums[other['album_id']]['name']}", "love", "the love", f"isrc:{first.get('isrc')}",
               'track:"!!"', "track:zzzznothing", "year:1999 love", "!!"]
    for text in queries:
        free, fields = _parse_query(text)

        def words(tid):
            t = acc.tracks[tid]
            return _track_words(t["name"], tuple(acc.artists[a]["name"] for a in t["artist_ids"]),
                                acc.albums[t["album_id"]]["name"], str(t.get("isrc") or ""))
        assert server._track_hits(free, fields) == [tid for tid in ids if _matches(words(tid), free, fields)], text
    assert len(server._track_hits(*_parse_query("love"))) > 1
    new = dict(first, name="Zzyzx Road")  # a track added after a search is found by the next
    acc.tracks["zzyzx"] = new
    assert server._track_hits(*_parse_query("zzyzx")) == ["zzyzx"]
    assert "zzyzx" in server._album_tracks_ids(first["album_id"])


# ----- removed endpoints and extended mode -------------------------------------------------
@pytest.mark.parametrize("method,path,status", [
    ("GET", f"/v1/artists/?ids={ARTIST_KESTREL}", 403),
    ("GET", f"/v1/artists?ids={ARTIST_KESTREL}", 403),
    ("GET", f"/v1/playlists/{OWNED[0]}/tracks", 403),
    ("GET", f"/v1/audio-features?ids={T[1]}", 403),
    ("GET", f"/v1/audio-features/{T[1]}", 403),
    ("GET", f"/v1/recommendations?seed_tracks={T[1]}", 404),
    ("POST", "/v1/users/small-user/playlists", 403),
    ("DELETE", f"/v1/playlists/{FOLLOWED}/followers", 403),  # spotipy's unfollow
    ("GET", "/v1/no-such-thing", 404),
])
def test_removed_endpoints_answer_like_spotify(standin, method, path, status):
    token = standin.issue_token()
    r = requests.request(method, standin.base_url + path, json={"name": "x"}, timeout=10,
                         headers={"Authorization": f"Bearer {token['access_token']}"})
    assert r.status_code == status and r.json()["error"]["status"] == status


@pytest.mark.filterwarnings("ignore:You're using `audio_features:DeprecationWarning")
def test_extended_mode_adds_popularity_genres_and_features(small_account, client_for):
    with StandinServer(small_account, extended=True) as server:
        sp = client_for(server)
        track = sp.playlist_items(OWNED[0])["items"][0]["item"]
        assert track["popularity"] == 57
        artist = sp.artist(ARTIST_KESTREL)
        assert artist["genres"] == ["progressive electro house", "edm"] and artist["popularity"] == 70
        assert all("genres" in a for a in sp.current_user_top_artists()["items"])
        feats = sp.audio_features([T[1], T[3]])
        assert feats[0]["tempo"] == 92.0 and feats[0]["key"] == 2 and feats[1] is None


def test_bearer_token_is_required(standin):
    assert requests.get(standin.api_url + "me", timeout=10).status_code == 401
    r = requests.get(standin.api_url + "me", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"]["message"] == "Invalid access token"


# ----- OAuth -----------------------------------------------------------------------------
def pkce_manager(server: StandinServer, redirect: str = "http://127.0.0.1:8888/callback") -> SpotifyPKCE:
    auth = SpotifyPKCE(client_id="my-client", redirect_uri=redirect, scope=SCOPE, open_browser=False,
                       cache_handler=MemoryCacheHandler(), requests_session=requests.Session())
    auth.OAUTH_AUTHORIZE_URL = server.accounts_url + "/authorize"
    auth.OAUTH_TOKEN_URL = server.accounts_url + "/api/token"
    return auth


def authorize(auth: SpotifyPKCE, state: str = "xyz") -> dict[str, str]:
    auth.get_pkce_handshake_parameters()
    r = requests.get(auth.get_authorize_url(state=state), allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    loc = urlsplit(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == auth.redirect_uri
    return {k: v[0] for k, v in parse_qs(loc.query).items()}


def test_pkce_login_with_spotipy(standin):
    auth = pkce_manager(standin)
    params = authorize(auth)
    assert params["state"] == "xyz"
    access = auth.get_access_token(params["code"], check_cache=False)
    cached = auth.cache_handler.get_cached_token()
    assert cached["access_token"] == access and cached["refresh_token"] and cached["scope"] == SCOPE
    sp = spotipy.Spotify(auth_manager=auth, requests_session=requests.Session(), retries=0, status_retries=0)
    sp.prefix = standin.api_url
    assert sp.current_user()["id"] == "small-user"
    with pytest.raises(SpotifyOauthError) as err:  # a code is single-use
        auth.get_access_token(params["code"], check_cache=False)
    assert err.value.error == "invalid_grant"


def test_pkce_wrong_verifier_fails(standin):
    auth = pkce_manager(standin)
    params = authorize(auth)
    auth.code_verifier = "a-different-verifier-" + "x" * 40
    with pytest.raises(SpotifyOauthError) as err:
        auth.get_access_token(params["code"], check_cache=False)
    assert err.value.error == "invalid_grant"


def test_authorization_code_with_client_secret(standin):
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    r = requests.get(standin.accounts_url + "/authorize", allow_redirects=False, timeout=10, params={
        "client_id": "c", "response_type": "code", "redirect_uri": "http://127.0.0.1:9/cb",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    tok = requests.post(standin.accounts_url + "/api/token", auth=("c", "secret"), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:9/cb"})
    assert tok.status_code == 200 and tok.json()["token_type"] == "Bearer"


def test_redirect_uri_must_be_loopback_ip(standin):
    auth = pkce_manager(standin, redirect="http://localhost:8888/callback")
    auth.get_pkce_handshake_parameters()
    r = requests.get(auth.get_authorize_url(), allow_redirects=False, timeout=10)
    assert r.status_code == 400 and "INVALID_CLIENT: Insecure redirect URI" in r.text


def test_client_id_is_checked_when_configured(small_account):
    with StandinServer(small_account, client_id="right") as server:
        r = requests.get(server.accounts_url + "/authorize", allow_redirects=False, timeout=10, params={
            "client_id": "wrong", "response_type": "code", "redirect_uri": "http://127.0.0.1:9/cb"})
        assert r.status_code == 400


def test_refresh_keeps_old_refresh_token_then_revocation(standin):
    info = standin.issue_token(scope=SCOPE)
    raw = requests.post(standin.accounts_url + "/api/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": info["refresh_token"], "client_id": "c"})
    assert raw.status_code == 200 and "refresh_token" not in raw.json()
    assert raw.json()["access_token"] != info["access_token"] and raw.json()["expires_in"] == 3600
    auth = pkce_manager(standin)
    refreshed = auth.refresh_access_token(info["refresh_token"])
    assert refreshed["refresh_token"] == info["refresh_token"]  # spotipy keeps the old one
    standin.revoke_refresh_tokens()
    with pytest.raises(SpotifyOauthError) as err:
        auth.refresh_access_token(info["refresh_token"])
    assert err.value.error == "invalid_grant" and err.value.error_description == "Refresh token revoked"
    with pytest.raises(SpotifyOauthError) as err:
        auth.refresh_access_token("never-issued")
    assert err.value.error == "invalid_grant"


def test_expired_access_tokens_answer_401(standin):
    token = standin.issue_token()
    assert get(standin, "/v1/me", token).status_code == 200
    standin.expire_access_tokens()
    r = get(standin, "/v1/me", token)
    assert r.status_code == 401 and r.json() == {"error": {"status": 401, "message": "The access token expired"}}
    assert get(standin, "/v1/me").status_code == 200  # a new token works
    assert get(standin, "/v1/me", standin.issue_token(expires_in=0)).status_code == 401


# ----- faults ------------------------------------------------------------------------------
def test_rate_limit_fault_once_with_retry_after(standin):
    standin.add_fault(Fault(method="GET", path=r"^/v1/me/playlists$", status=429, retry_after=7))
    first = get(standin, "/v1/me/playlists")
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert first.json()["error"]["status"] == 429
    assert get(standin, "/v1/me/playlists").status_code == 200
    assert [r.status for r in standin.requests] == [429, 200]


def test_quota_fault_body_and_long_retry_after(standin_spotify, standin):
    standin.add_fault(Fault(path=r"^/v1/me/top/tracks$", status=429, reason="QUOTA_EXCEEDED", times=2))
    r = get(standin, "/v1/me/top/tracks")
    assert r.headers["Retry-After"] == "86400"
    assert r.json() == {"error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}}
    with pytest.raises(spotipy.SpotifyException) as err:
        standin_spotify.current_user_top_tracks()
    assert err.value.http_status == 429 and err.value.reason == "QUOTA_EXCEEDED"
    assert standin_spotify.current_user_top_tracks()["items"]  # consumed after 2


@pytest.mark.parametrize("status,retry_after,header", [
    (429, None, "1"), (429, 0.4, "1"), (429, 7, "7"), (503, 1.5, "2"), (503, None, None),
])
def test_retry_after_is_whole_seconds_never_sooner_than_the_fault_asks(standin, status, retry_after, header):
    standin.add_fault(Fault(path=r"^/v1/me$", status=status, retry_after=retry_after))
    r = get(standin, "/v1/me")
    assert r.status_code == status and r.headers.get("Retry-After") == header


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_faults(standin, status):
    standin.add_fault(Fault(method="GET", path=r"/v1/me", status=status))
    r = get(standin, "/v1/me/")
    assert r.status_code == status and r.json()["error"]["status"] == status


def test_applied_then_502_really_writes(standin_spotify, standin):
    pid = OWNED[2]
    before = standin.playlist_track_ids(pid)
    standin.add_fault(Fault(method="POST", path=rf"^/v1/playlists/{pid}/items$", status=502, apply_first=True))
    with pytest.raises(spotipy.SpotifyException) as err:
        standin_spotify.playlist_add_items(pid, [T[20]])
    assert err.value.http_status == 502
    assert standin.playlist_track_ids(pid) == before + [T[20]]


def test_apply_late_answers_after_the_timeout_and_writes_afterwards(client_for, standin):
    pid = OWNED[2]
    before = standin.playlist_track_ids(pid)
    standin.add_fault(Fault(method="PUT", path=rf"^/v1/playlists/{pid}/items$", late=30, delay=30))
    sp = client_for(standin)
    sp.requests_timeout = 0.2
    with pytest.raises(requests.exceptions.ReadTimeout):
        sp.playlist_replace_items(pid, [T[20]])
    assert standin.playlist_track_ids(pid) == before  # not yet: the client gave up first
    standin.wait_late(now=True)
    assert standin.playlist_track_ids(pid) == [T[20]]


def test_a_fault_can_let_the_user_edit_at_the_same_moment(standin_spotify, standin):
    pid = OWNED[2]
    before = standin.playlist_track_ids(pid)
    standin.add_fault(Fault(method="POST", path=r"/items$",
                            before=lambda account: account.playlist(pid)["items"].clear()))
    standin_spotify.playlist_add_items(pid, [T[20]])
    assert before and standin.playlist_track_ids(pid) == [T[20]]


def test_plain_error_fault_does_not_write(standin_spotify, standin):
    pid = OWNED[2]
    before = standin.playlist_track_ids(pid)
    standin.add_fault(Fault(method="POST", path=r"/items$", status=503))
    with pytest.raises(spotipy.SpotifyException):
        standin_spotify.playlist_add_items(pid, [T[20]])
    assert standin.playlist_track_ids(pid) == before


def test_truncated_body_gives_none_in_spotipy(standin_spotify, standin):
    standin.add_fault(Fault(path=r"^/v1/me/playlists$", truncate=True))
    assert standin_spotify.current_user_playlists() is None
    r_fault = standin.add_fault(Fault(path=r"^/v1/me/tracks$", truncate=True))
    r = get(standin, "/v1/me/tracks")
    assert r.status_code == 200 and r_fault.hits == 1
    with pytest.raises(ValueError):
        r.json()


def test_slow_fault_trips_client_timeout(standin):
    standin.add_fault(Fault(path=r"^/v1/me$", delay=5.0))
    token = standin.issue_token()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(standin.api_url + "me", headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=0.2)
    assert get(standin, "/v1/me").status_code == 200  # consumed: next one is prompt


def test_faults_also_hit_the_token_endpoint(standin):
    info = standin.issue_token()
    standin.add_fault(Fault(method="POST", path=r"^/api/token$", status=503))
    r = requests.post(standin.accounts_url + "/api/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": info["refresh_token"], "client_id": "c"})
    assert r.status_code == 503


def test_request_records(standin):
    get(standin, "/v1/me/playlists", limit=2, offset=1)
    rec = standin.requests[-1]
    assert (rec.method, rec.path, rec.query, rec.status) == ("GET", "/v1/me/playlists", {"limit": "2", "offset": "1"}, 200)
    standin.clear_requests()
    assert standin.requests == []


def test_concurrent_requests(standin):
    token = standin.issue_token()
    codes: list[int] = []

    def worker() -> None:
        for _ in range(5):
            codes.append(get(standin, "/v1/me/playlists", token).status_code)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 20


# ----- the built-in sample library ----------------------------------------------------------
def test_sample_account_shape():
    a = Account.sample()
    owned = [p for p in a.playlists if p["owner"] == "demo-user"]
    followed = [p for p in a.playlists if p["owner"] != "demo-user"]
    assert a.user["id"] == "demo-user" and 30 <= len(owned) <= 50 and 1 <= len(followed) <= 2
    kinds = {it["kind"] for p in owned for it in p["items"]}
    assert {"track", "episode", "local", "null"} <= kinds
    assert all(len(a.top_tracks[r]) == 50 and len(a.top_artists[r]) == 30 for r in a.top_tracks)
    assert a.top_tracks["short_term"] != a.top_tracks["long_term"]
    assert set(a.audio_features) == set(a.tracks)
    assert all(len(aid) == 22 for aid in a.artists)
    catalogue = set(a.tracks) - {it["id"] for p in a.playlists for it in p["items"] if it["kind"] == "track"}
    assert len(catalogue) > 100  # discovery has something to find


def test_sample_served_restricted(sample_standin, client_for):
    sp = client_for(sample_standin)
    page = sp.current_user_playlists(limit=50)
    playlists = page["items"]
    while page["next"]:
        page = sp.next(page)
        playlists += page["items"]
    assert len(playlists) == len(sample_standin.account.playlists)
    top_artist = sp.current_user_top_artists(limit=50, time_range="medium_term")["items"][0]
    assert "genres" not in top_artist and "popularity" not in top_artist
    body = get(sample_standin, "/v1/me/top/tracks", limit=50).text
    assert "playlist_genre" not in body and "subgenre" not in body and '"popularity"' not in body
    albums = sp.artist_albums(top_artist["id"], limit=10)["items"]
    dates = [al["release_date"] for al in albums]
    assert albums and dates == sorted(dates, reverse=True)


def test_sample_files_are_small_and_compressed():
    from importlib import resources
    data = resources.files("recommender") / "data"
    lib = (data / "sample_library.json.gz").read_bytes()
    assert len(lib) < 400_000 and len((data / "sample_features.csv.gz").read_bytes()) < 200_000
    assert json.loads(gzip.decompress(lib))["user"]["id"] == "demo-user"


def test_a_track_removed_from_the_catalogue_leaves_every_list_that_held_it():
    # Spotify's answer for a track gone from its catalogue: a null entry in a playlist, and out of the
    # saved tracks, every top list, the relinking and the unplayable ones; the others as they were
    acct = Account.sample()
    gone = acct.top_tracks["short_term"][0]
    other = next(t for t in acct.tracks if t != gone and t not in acct.unplayable)
    acct.unplayable += [gone, other]
    acct.relinked.update({gone: other, other: other})
    nulls = lambda pl: sum(it["kind"] == "null" for it in pl["items"])  # noqa: E731
    held = {pl["name"]: nulls(pl) + sum(it.get("id") == gone for it in pl["items"]) for pl in acct.playlists}
    tops = {r: [t for t in acct.top_tracks[r] if t != gone] for r in acct.top_tracks}
    saved = [s["id"] for s in acct.saved_tracks if s["id"] != gone]
    relinked = {k: v for k, v in acct.relinked.items() if gone not in (k, v)}
    assert any(n > nulls(pl) for pl, n in zip(acct.playlists, held.values())) and any(
        len(v) < len(acct.top_tracks[r]) for r, v in tops.items())
    acct.remove_track(gone)
    assert gone not in acct.tracks and acct.top_tracks == tops and [s["id"] for s in acct.saved_tracks] == saved
    assert other in acct.unplayable and gone not in acct.unplayable and acct.relinked == relinked == {other: other}
    assert {pl["name"]: nulls(pl) for pl in acct.playlists} == held  # each entry of it now a null one
