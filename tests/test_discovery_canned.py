"""Discovery's own rules on canned answers (one per endpoint, no server), so each test names
exactly what came back: how ``OpenData`` reads ListenBrainz, labs and MusicBrainz answers that
stray from the contract (LISTENBRAINZ.md: the client is lenient: a value of the wrong type
counts as none, a row of the wrong type is skipped, what the answer does say is kept); the id
chain (which of an ISRC's recordings is the track's, an artist's MBID, labs' mapping, the
Spotify search fallback, a gone id giving way to the next); which failures mark a step failed
and which sources it reports finished. What is sent and how the services answer is tested
against the stand-ins (tests/test_discovery.py, tests/test_listenbrainz.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from recommender.config import load_settings
from recommender.errors import SpotifyError
from recommender.library import Library
from recommender.services.cache import MISSING, AnswerCache
from recommender.services.http import Budget, BudgetExhausted, ContactNotice, ServiceError
from recommender.services.listenbrainz import LABS, OpenData, count, number
from recommender.sources.base import MAX_ISRC_TRIES, Context, Resolver
from recommender.sources.run import discover_open_data
from recommender.sources.similar_artists import SimilarArtists
from recommender.sources.similar_recordings import SimilarRecordings


class Canned:
    """A service client answering each path with the body of the first prefix it starts with."""

    def __init__(self, answers: dict, base_url: str = "http://127.0.0.1:9/"):
        self.answers = answers
        self.base_url = base_url
        self.extra_headers: dict[str, str] = {}

    def request(self, method, path, **kw):
        answer = next(body for prefix, body in self.answers.items() if path.startswith(prefix))
        if isinstance(answer, Exception):
            raise answer
        return answer


class CannedMusicBrainz:
    base_url = "https://musicbrainz.org/ws/2/"

    def __init__(self, answers: dict):
        self.answers = answers

    def isrc(self, code):
        return self.answers.get(code)


def open_data(tmp_path, api=None, labs=None, isrcs=None) -> OpenData:
    kinds = ("similar_artists", "similar_recordings", "top_recordings", "lb_radio", "canonical", "spotify_ids",
             "popularity", "isrc", "artists")
    return OpenData(api=Canned(api or {}), labs=Canned(labs or {}), musicbrainz=CannedMusicBrainz(isrcs or {}),
                    cache=AnswerCache(tmp_path, dict.fromkeys(kinds, 30)), budget=Budget(None),
                    similar_artists_algorithm="algo-a", similar_recordings_algorithm="algo-r")


def test_a_score_that_is_no_finite_number_counts_as_no_similarity(tmp_path):
    """A score "high", a list, NaN or infinity (Python's json reads the last two) is no evidence:
    0, so such a row never ranks above one the service scored."""
    assert [number(v) for v in ("high", [1], None, float("nan"), float("inf"), -float("inf"))] == [0.0] * 6
    assert number("0.25") == 0.25 and number(3) == 3.0
    od = open_data(tmp_path, labs={"similar-artists": [
        {"artist_mbid": "odd", "name": "Odd", "score": float("inf")},
        {"artist_mbid": "text", "name": "Text", "score": "high"},
        {"artist_mbid": "real", "name": "Real", "score": 12}]})
    got = od.similar_artists("seed")
    assert [(r["name"], r["score"]) for r in got] == [("Real", 12.0), ("Odd", 0.0), ("Text", 0.0)]


@pytest.mark.parametrize("value, read", [(0, 0), (12, 12), ("7", 7), (2.0, 2), (-1, None), ("lots", None),
                                         (float("inf"), None), (float("nan"), None), (None, None)])
def test_a_listen_count_is_a_whole_number_of_at_least_0_else_not_known(value, read):
    """0 listens is known (nobody played it), a negative or endless count is not."""
    assert count(value) == read


def test_listen_counts_of_an_answer_with_odd_rows(tmp_path):
    """Rows that are no object, or have no recording MBID, are skipped; an endless count reads as
    not known, where it crashed the run (int(inf))."""
    od = open_data(tmp_path, api={"popularity/recording": [
        "junk", 5, {"total_listen_count": 9},
        {"recording_mbid": "r1", "total_listen_count": float("inf"), "total_user_count": 0},
        {"recording_mbid": "r2", "total_listen_count": 40, "total_user_count": 3}]})
    assert od.popularity(["r1", "r2", "r3"]) == {"r1": (None, 0), "r2": (40, 3), "r3": (None, None)}


def test_the_id_mapping_and_canonical_look_ups_skip_rows_of_the_wrong_type(tmp_path):
    od = open_data(tmp_path, labs={
        "spotify-id-from-mbid": ["junk", {"spotify_track_ids": ["x"]},
                                 {"recording_mbid": "r1", "spotify_track_ids": ["s1", "s1", "", "s2"]}],
        "recording-mbid-lookup": [7, {"canonical_recording_mbid": "c0"},
                                  {"original_recording_mbid": "r1", "canonical_recording_mbid": "c1"},
                                  {"original_recording_mbid": "r2", "recording_mbid": "r2b"}]})
    assert od.spotify_id_lists(["r1", "r2"]) == {"r1": ["s1", "s2"], "r2": None}
    assert od.canonical_recordings(["r1", "r2", "r3"]) == {"r1": "c1", "r2": "r2b", "r3": "r3"}


def test_rows_without_the_key_field_are_left_out_and_the_names_kept(tmp_path):
    """Top recordings and similar recordings keep the rows that carry the recording MBID, with
    their names and artist names as the service gave them ("" when it gave none)."""
    od = open_data(tmp_path,
                   api={"popularity/top-recordings-for-artist": [
                       {"recording_name": "No id"},
                       {"recording_mbid": "r1", "recording_name": "Glory Box", "artist_name": "Portishead",
                        "artist_mbids": ["a1"], "total_listen_count": 10, "total_user_count": 2},
                       {"recording_mbid": "r2", "recording_name": None, "artist_name": None}]},
                   labs={"similar-recordings": [
                       {"recording_name": "No id", "score": 99},
                       {"recording_mbid": "r5", "recording_name": "Roads", "artist_credit_name": "Portishead",
                        "artist_credit_mbids": ["a1"], "score": 3}]})
    top = od.top_recordings("a1")
    assert [(r["mbid"], r["name"], r["artist"]) for r in top] == [("r1", "Glory Box", "Portishead"), ("r2", "", "")]
    assert top[0]["listens"] == 10 and top[0]["users"] == 2
    sims = od.similar_recordings("r9")
    assert [(r["mbid"], r["name"], r["artist"], r["score"]) for r in sims] == [("r5", "Roads", "Portishead", 3.0)]


def test_an_answer_of_rows_that_are_no_objects_is_a_failure_of_the_service(tmp_path):
    """Labs answering a list of strings: the rows of another shape (a failure naming labs), not a
    crash (a string has no .get) and not "no similar artists" kept for a week."""
    od = open_data(tmp_path, labs={"similar-artists": ["a", "b"]})
    with pytest.raises(ServiceError, match="ListenBrainz labs answered with rows of another shape"):
        od.similar_artists("seed")
    assert od.cache.peek("similar_artists", "algo-a:seed") is MISSING  # nothing kept
    assert od.failure is not None and od.failure.service == LABS


def test_musicbrainz_knowing_an_isrc_is_counted_once_per_isrc(tmp_path):
    """An ISRC MusicBrainz knows counts as known (so 10 unknown beside it are no sign of a wrong
    address); one whose answer holds no recording with an id counts as unknown."""
    known = {"recordings": [{"title": "no id"}, {"id": "r1", "title": "Song", "length": 1000,
                             "artist-credit": [{"name": "A", "artist": {"id": "a1", "name": "A"}}]}]}
    od = open_data(tmp_path, isrcs={"GBAAA0000001": known, "GBAAA0000002": {"recordings": [{"title": "no id"}]}})
    slim = od.isrc("GBAAA0000001")["recordings"]
    assert len(slim) == 1 and slim[0]["artist-credit"][0]["artist"] == {"id": "a1", "name": "A"}
    assert od.isrc("GBAAA0000002") is None and od.isrc("GBAAA0000003") is None
    assert od.isrc_known == 1 and od.isrc_unknown == ["GBAAA0000002", "GBAAA0000003"]


def test_a_runs_clients_share_one_missing_contact_warning(tmp_path):
    """Without enrich.contact, MusicBrainz, ListenBrainz and labs each ask for one: the run warns
    once, so the three clients hold the run's one notice (the CLI's, shared with the genre
    look-ups), or one of their own that they share. (Nothing is asked: 192.0.2.1 is an address
    for documentation, never reached here.)"""
    far = "http://192.0.2.1"
    settings = load_settings(environ={}, overrides={
        "cache.dir": str(tmp_path / "cache"), "listenbrainz.api_url": f"{far}/1/",
        "listenbrainz.labs_url": f"{far}/labs/", "enrich.musicbrainz_url": f"{far}/ws/2/"})
    given = ContactNotice()
    od = OpenData.from_settings(settings, notice=given)
    assert od.api.contact_notice is given and od.labs.contact_notice is given
    assert od.musicbrainz.contact_notice is given
    own = OpenData.from_settings(settings)
    assert isinstance(own.api.contact_notice, ContactNotice) and own.api.contact_notice is not given
    assert own.labs.contact_notice is own.api.contact_notice is own.musicbrainz.contact_notice


# ----- a recording labs cannot map: a Spotify search, within the run's limit -----------------
class SearchGateway:
    """Spotify's search, canned: the items of each query."""

    def __init__(self, items: dict):
        self.items = items
        self.queries: list[str] = []

    def get(self, path, **params):
        assert path == "search" and params["type"] == "track"
        self.queries.append(params["q"])
        return {"tracks": {"items": self.items.get(params["q"], [])}}


def spotify_track(tid, name, artist, **more):
    return {"id": tid, "name": name, "artists": [{"id": f"id-{artist}", "name": artist}],
            "album": {"id": "al", "name": "Dummy", "release_date": "1994-08-22"}, "duration_ms": 300000, **more}


GLORY_BOX = 'track:"Glory Box" artist:"Portishead"'
RECORDINGS = [{"mbid": "r1", "name": "Mapped", "artist": "A"}, {"mbid": "r2", "name": "Glory Box", "artist": "Portishead"},
              {"mbid": "r3", "name": None, "artist": "Portishead"}, {"mbid": "r4", "name": "Roads", "artist": "Portishead"}]


def resolver(tmp_path, gateway, limit, od=None):
    od = od or open_data(tmp_path, labs={"spotify-id-from-mbid": [{"recording_mbid": "r1", "spotify_track_ids": ["s1"]}]})
    return Resolver(Library.from_frames(user_id="u"), od, gateway, search_limit=limit)


def test_an_unmapped_recording_is_the_first_playable_search_hit_of_its_title_and_artist(tmp_path):
    """The search's items are read in order: a gone item, one without an id, one that does not play
    here, another artist's song of that title and another title are passed over; the first of two
    right ones is taken (names compared as normalised: case and accents aside), its metadata kept.
    A recording without a name is not searched. The next run asks nothing: the answer is cached."""
    gateway = SearchGateway({GLORY_BOX: [
        None, {"name": "Glory Box"}, spotify_track("grey", "Glory Box", "Portishead", is_playable=False),
        spotify_track("tricky", "Glory Box", "Tricky"), spotify_track("other", "Sour Times", "Portishead"),
        spotify_track("right", "GLORY BOX", "Portishead"), spotify_track("second", "Glory Box", "Portishead")]})
    first = resolver(tmp_path, gateway, limit=5)
    assert first.to_spotify(RECORDINGS) == {"r1": "s1", "r2": "right"}
    assert gateway.queries == [GLORY_BOX, 'track:"Roads" artist:"Portishead"']
    assert first.metadata["right"]["name"] == "GLORY BOX" and first.metadata["right"]["artist_names"] == ["Portishead"]
    again = resolver(tmp_path, gateway, limit=5, od=first.od)
    assert again.to_spotify(RECORDINGS) == {"r1": "s1", "r2": "right"} and len(gateway.queries) == 2
    offline = resolver(tmp_path, None, limit=5, od=first.od)  # no Spotify: what the cache holds
    assert offline.to_spotify(RECORDINGS) == {"r1": "s1", "r2": "right"}


def test_searches_stop_at_the_runs_limit(tmp_path):
    gateway = SearchGateway({GLORY_BOX: [spotify_track("right", "Glory Box", "Portishead")]})
    one = resolver(tmp_path, gateway, limit=1)
    assert one.to_spotify(RECORDINGS) == {"r1": "s1", "r2": "right"} and gateway.queries == [GLORY_BOX]
    assert one.searches == 1
    none = resolver(tmp_path / "other", gateway, limit=0)
    assert none.to_spotify(RECORDINGS) == {"r1": "s1"} and gateway.queries == [GLORY_BOX]


# ----- which failures mark a discovery step as failed (its last finds then stay) ----------------
def test_only_a_services_own_failure_marks_the_step_failed(tmp_path):
    """The budget running out and ListenBrainz's refusal for want of a token are no failure of a
    service: the step's finds replace the last discovery's. A service down is one, and it stays
    one for the step; a later step of the run that goes on with the same clients starts failed."""
    def fails(exc):
        def work():
            raise exc
        return work

    od = open_data(tmp_path)

    def step():
        return Context(Library.from_frames(user_id="u"), pd.Series(dtype=float), [], None, od, None, lambda *a: None)
    ctx = step()
    assert not ctx.failed
    ctx.guarded(fails(BudgetExhausted("the request budget of 3 per run is spent", service=LABS)))
    assert not ctx.failed
    refusal = ServiceError("ListenBrainz asks for a user token", 401, "ListenBrainz")
    od.refusals.update({"top recordings": refusal,
                        "listen counts": ServiceError("ListenBrainz asks for a user token", 401, "ListenBrainz")})
    ctx.guarded(fails(refusal))
    assert not ctx.failed and len(ctx.failures) == 2
    down = ServiceError("ListenBrainz labs: HTTP 503", 503, LABS)
    ctx.guarded(fails(down))
    assert ctx.failed
    ctx.guarded(fails(BudgetExhausted("spent", service=LABS)))
    assert ctx.failed and len(ctx.failures) == 4
    od.failure = refusal
    assert not step().failed
    od.failure = down
    assert step().failed


# ----- a mapped id Spotify says is gone: the recording's next ids ---------------------------
class TrackGateway:
    """Spotify's single-track look-up, canned: a track object, or a SpotifyError's status."""

    def __init__(self, answers: dict):
        self.answers = answers
        self.asked: list[str] = []

    def get(self, path, **params):
        self.asked.append(path)
        answer = self.answers[path.removeprefix("tracks/")]
        if isinstance(answer, int):
            raise SpotifyError(f"HTTP {answer}", answer)
        return answer


def test_a_gone_track_gives_way_to_the_next_id_its_recording_maps_to(tmp_path):
    """Labs maps r1 to s1, s1b and s1c: Spotify says s1 is gone (404), so s1b is looked up and
    taken (``replaced``), and s1c is never asked; a recording whose first id lives keeps it and
    its next ids are not asked; a track of the library is not looked up, nor a next id the library holds; one mapped to a single
    id that is gone (400 or 404) is left out; one that does not play in your country gives way as a
    gone one does. The progress bar counts the look-ups to the end."""

    od = open_data(tmp_path, labs={"spotify-id-from-mbid": [
        {"recording_mbid": "r1", "spotify_track_ids": ["s1", "s1b", "s1c"]},
        {"recording_mbid": "r2", "spotify_track_ids": ["s2", "s2b"]},
        {"recording_mbid": "r3", "spotify_track_ids": ["s3"]},
        {"recording_mbid": "r4", "spotify_track_ids": ["s4", "mine", "s4c"]},
        {"recording_mbid": "r5", "spotify_track_ids": ["s5", "s5b"]}]})
    gateway = TrackGateway({"s4": 404, "s4c": spotify_track("s4c", "Mysterons", "Portishead"), "s1": 404, "s1b": spotify_track("s1b", "Roads", "Portishead"),
                            "s1c": spotify_track("s1c", "Roads", "Portishead"),
                            "s2": spotify_track("s2", "Sour Times", "Portishead"), "s3": 400,
                            "s5": spotify_track("s5", "Numb", "Portishead", is_playable=False),
                            "s5b": spotify_track("s5b", "Numb", "Portishead")})
    tracks = pd.DataFrame([{"track_id": "mine", "name": "Mine", "artist_ids": ["x"], "artist_names": ["X"],
                            "isrc": None, "duration_ms": 1000}])
    res = Resolver(Library.from_frames(user_id="u", tracks=tracks), od, gateway)
    mapped = res.to_spotify([{"mbid": f"r{k}"} for k in range(1, 6)])
    assert mapped == {"r1": "s1", "r2": "s2", "r3": "s3", "r4": "s4", "r5": "s5"}
    seen = []
    rows = res.track_rows(["s1", "s2", "mine", "s3", "s2", "s4", "s5"],
                          lambda stage, done, total: seen.append((done, total)))
    assert [r["track_id"] for r in rows] == ["s1b", "s2", "s5b"]
    assert res.replaced == {"s1": "s1b", "s4": "mine", "s5": "s5b"}  # (the library has "mine": not looked up)
    assert gateway.asked == ["tracks/s1", "tracks/s1b", "tracks/s2", "tracks/s3", "tracks/s4", "tracks/s5",
                             "tracks/s5b"]
    assert seen == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert res.track_rows(["s1", "s5"]) == [res.metadata["s1b"], res.metadata["s5b"]]  # known now: nothing asked
    assert len(gateway.asked) == 7


def test_spotify_refusing_the_look_ups_stops_them_as_a_failure_of_spotify(tmp_path):
    """A 403 is no gone track (404, 400): the look-ups stop, as a service's failure naming Spotify."""
    od = open_data(tmp_path)
    with pytest.raises(ServiceError) as refused:
        Resolver(Library.from_frames(user_id="u"), od, TrackGateway({"s1": 403})).track_rows(["s1"])
    assert refused.value.service == "Spotify" and refused.value.status == 403


# ----- a library track's recording: which of an ISRC's recordings is this track -----------------
def credit(name, artist_name, mbid):
    return [{"name": name, "artist": {"id": mbid, "name": artist_name}}]


def test_of_an_isrcs_recordings_the_one_by_the_tracks_artist_with_its_title_and_nearest_length_is_taken(tmp_path):
    """MusicBrainz can list several recordings under one ISRC (a label reusing a code, a live and a
    studio take): the one credited to the track's artist (by the name it is credited under, or
    the artist's own name) wins, then the one of the same title, then the nearest length; a
    recording of unknown length comes last. An ISRC whose recordings share neither artist nor
    title with the track is another song's: no seed; one of them is enough."""

    isrcs = {
        "GBAAA9400001": {"recordings": [
            {"id": "tricky", "title": "Glory Box", "length": 301000, "artist-credit": credit("Tricky", "Tricky", "mT")},
            {"id": "roads", "title": "Roads", "length": 301000, "artist-credit": credit("Portishead", "Portishead", "mP")},
            {"id": "unknown-length", "title": "Glory Box", "artist-credit": credit("Portishead", "Portishead (UK)", "mP")},
            {"id": "short", "title": "Glory Box", "length": 200000, "artist-credit": credit("Portishead", "Portishead (UK)", "mP")},
            {"id": "near", "title": "Glory Box", "length": 290000, "artist-credit": credit("Portishead", "Portishead (UK)", "mP")},
        ]},
        "GBAAA9400002": {"recordings": [
            {"id": "tricky2", "title": "Sour Times", "length": 250000, "artist-credit": credit("Tricky", "Tricky", "mT")},
            {"id": "as-credited", "title": "Sour Times", "length": 100000, "artist-credit": credit("P.", "Portishead", "mP")},
        ]},
        "GBAAA9400003": {"recordings": [
            {"id": "other-song", "title": "Hell Is Round the Corner", "length": 250000,
             "artist-credit": credit("Tricky", "Tricky", "mT")}]},
        "GBAAA9400004": {"recordings": [
            {"id": "sung-by", "title": "Glory Box", "length": 301000,
             "artist-credit": credit("Beth Gibbons", "Beth Gibbons", "mB")}]},
    }
    tracks = pd.DataFrame([
        {"track_id": f"t{k}", "name": name, "artist_ids": ["aP"], "artist_names": ["Portishead"],
         "isrc": f"GBAAA940000{k}", "duration_ms": length}
        for k, name, length in [(1, "Glory Box", 301000), (2, "Sour Times", 250000), (3, "Glory Box", 301000),
                                (4, "Glory Box", 301000)]])
    tracks["duration_ms"] = tracks["duration_ms"].astype("Int64")
    res = Resolver(Library.from_frames(user_id="u", tracks=tracks), open_data(tmp_path, isrcs=isrcs))
    assert res.track_mbids("t1") == ("near", ["mP"], {"portishead": "mP"})
    assert res.track_mbids("t2") == ("as-credited", ["mP"], {"p": "mP"})
    assert res.track_mbids("t3") == (None, [], {})
    assert res.track_mbids("t4") == ("sung-by", ["mB"], {"beth gibbons": "mB"})  # the title alone is enough


def test_an_artists_mbid_is_the_first_of_its_tracks_isrcs_that_credits_it(tmp_path):
    """Of an artist's library tracks (by track id), the ISRC look-ups are tried until one credits
    the artist (at most MAX_ISRC_TRIES); the answer is kept, so the next run asks nothing. An
    MBID that `recommend enrich genres` stored is taken without a look-up."""

    isrcs = {"GBAAA9400002": {"recordings": [{"id": "r2", "artist-credit": credit("Portishead", "Portishead", "mP")}]},
             "GBAAA9400003": {"recordings": [{"id": "r3", "artist-credit": credit("Tricky", "Tricky", "mT")}]},
             "GBAAA9400009": {"recordings": [{"id": "r9", "artist-credit": credit("Late", "Late", "mL")}]}}
    rows = [("t1", "aP", None), ("t2", "aP", "GBAAA9400002"), ("t3", "aP", "GBAAA9400003")]
    rows += [(f"u{k}", "aL", f"GBAAA940000{k}") for k in range(5, 5 + MAX_ISRC_TRIES)] + [("u9", "aL", "GBAAA9400009")]
    tracks = pd.DataFrame([{"track_id": t, "name": t, "artist_ids": [a], "artist_names": [a], "isrc": i,
                            "duration_ms": 1000} for t, a, i in rows])
    genres = pd.DataFrame([{"artist_id": "aS", "mbid": "mS"}])
    od = open_data(tmp_path, isrcs=isrcs)
    res = Resolver(Library.from_frames(user_id="u", tracks=tracks, artist_genres=genres), od)
    assert res.artist_mbid("aP", "Portishead") == "mP"
    assert res.artist_mbid("aL", "Late") is None  # its one crediting ISRC is its fourth
    assert res.artist_mbid("aS", "Stored") == "mS"
    od.musicbrainz.answers = {}
    assert Resolver(Library.from_frames(user_id="u", tracks=tracks), od).artist_mbid("aP", "Portishead") == "mP"


def portishead_library(*names: str) -> Library:
    """Portishead's tracks ``names`` (Glory Box alone by default): track k (from 1) is "tk" with
    ISRC GBAAA940000k; and their artist."""
    tracks = pd.DataFrame([{"track_id": f"t{k}", "name": name, "artist_ids": ["aP"], "artist_names": ["Portishead"],
                            "isrc": f"GBAAA940000{k}", "duration_ms": 1000}
                           for k, name in enumerate(names or ("Glory Box",), start=1)])
    return Library.from_frames(user_id="u", tracks=tracks,
                               artists=pd.DataFrame([{"artist_id": "aP", "name": "Portishead", "genres": []}]))


def test_similar_artists_tracks_skip_the_recordings_without_a_spotify_id_and_score_by_similarity(tmp_path):
    """Portishead's similar artists X (score 10) and Y (5) score 1 and 0.5 (the best one is 1); of
    X's top recordings the one labs cannot map to Spotify (about one in five) is skipped and the
    ones after it kept, each found track scored by its artist's similarity."""

    settings = load_settings(environ={}, overrides={"discovery.similar_artists.recordings_per_artist": 3,
                                                    "discovery.search_fallback": 0})
    od = open_data(tmp_path, isrcs={"GBAAA9400001": {"recordings": [
        {"id": "r0", "artist-credit": credit("Portishead", "Portishead", "mP")}]}},
        labs={"similar-artists": [{"artist_mbid": "mX", "name": "X", "score": 10},
                                  {"artist_mbid": "mY", "name": "Y", "score": 5}],
              "spotify-id-from-mbid": [{"recording_mbid": r, "spotify_track_ids": [f"s{r}"]}
                                       for r in ("x1", "x3", "y1")]},
        api={"popularity/top-recordings-for-artist/mX": [{"recording_mbid": r} for r in ("x1", "x2", "x3", "x4")],
             "popularity/top-recordings-for-artist/mY": [{"recording_mbid": "y1"}]})
    library = portishead_library()
    ctx = Context(library, pd.Series({"t1": 1.0}), ["aP"], settings, od, Resolver(library, od), lambda *a: None)
    found = SimilarArtists().find(ctx)
    assert [(d["track_id"], d["score"]) for d in found.discovered] == [("sx1", 1.0), ("sx3", 1.0), ("sy1", 0.5)]
    assert [(s["artist_name"], s["score"], s["rank"]) for s in found.similar_artists] == [("X", 1.0, 1), ("Y", 0.5, 2)]
    assert ctx.failures == []


def test_similar_tracks_are_asked_of_the_strongest_seeds_and_skip_the_seed_itself_and_the_unmapped(tmp_path):
    """With one seed track to ask about, it is the strongest of the seeds (Roads, 0.9), not the
    first or the weakest; of its similar recordings the one labs cannot map to Spotify and the
    one that is the seed itself (another recording of the song) are skipped, the ones after
    them kept, ranked from 1 and scored by the best similarity (8)."""
    settings = load_settings(environ={}, overrides={"discovery.similar_recordings.seed_tracks": 1,
                                                    "discovery.search_fallback": 0})
    names = {"t1": "Glory Box", "t2": "Roads", "t3": "Sour Times"}
    library = portishead_library(*names.values())
    recordings = {f"GBAAA940000{t[1]}": {"recordings": [
        {"id": f"r{t[1]}", "title": n, "artist-credit": credit("Portishead", "Portishead", "mP")}]}
        for t, n in names.items()}
    od = open_data(tmp_path, isrcs=recordings,
        labs={"recording-mbid-lookup": [{"original_recording_mbid": r, "canonical_recording_mbid": r}
                                        for r in ("r1", "r2", "r3")],
              "similar-recordings": [{"recording_mbid": r, "score": sc} for r, sc in
                                     (("gone", 8), ("r2live", 6), ("y1", 4), ("y2", 2))],
              "spotify-id-from-mbid": [{"recording_mbid": "r2live", "spotify_track_ids": ["t2"]},
                                       {"recording_mbid": "y1", "spotify_track_ids": ["sy1"]},
                                       {"recording_mbid": "y2", "spotify_track_ids": ["sy2"]}]})
    seeds = pd.Series({"t1": 0.2, "t2": 0.9, "t3": 0.5})
    ctx = Context(library, seeds, ["aP"], settings, od, Resolver(library, od), lambda *a: None)
    found = SimilarRecordings().find(ctx)
    assert [(s["seed_track_id"], s["track_id"], s["score"], s["rank"]) for s in found.similar_tracks] == [
        ("t2", "sy1", 0.5, 1), ("t2", "sy2", 0.25, 2)]
    assert [(d["track_id"], d["seed_name"]) for d in found.discovered] == [("sy1", "Roads"), ("sy2", "Roads")]
    assert ctx.failures == []


# ----- a discovery step's report: which sources finished, whether it failed -------------------
def portishead_world(tmp_path, fail: str | None = None):
    """A library of one Portishead track; labs knows one similar artist (X) and one similar
    recording (y1); ``fail``: the labs or API path that answers 503 instead."""

    labs = {"similar-artists": [{"artist_mbid": "mX", "name": "X", "score": 10}],
            "recording-mbid-lookup": [{"original_recording_mbid": "r0", "canonical_recording_mbid": "r0"}],
            "similar-recordings": [{"recording_mbid": "y1", "score": 4}],
            "spotify-id-from-mbid": [{"recording_mbid": r, "spotify_track_ids": [f"s{r}"]} for r in ("x1", "y1")]}
    api = {"popularity/top-recordings-for-artist/mX": [{"recording_mbid": "x1"}],
           "popularity/recording": [{"recording_mbid": "x1", "total_listen_count": 7, "total_user_count": 2}]}
    for answers in (labs, api):
        if fail in answers:
            answers[fail] = ServiceError(f"{fail}: HTTP 503", 503, LABS if answers is labs else "ListenBrainz")
    od = open_data(tmp_path, labs=labs, api=api, isrcs={"GBAAA9400001": {"recordings": [
        {"id": "r0", "title": "Glory Box", "artist-credit": credit("Portishead", "Portishead", "mP")}]}})
    library = portishead_library()
    gateway = TrackGateway({t: spotify_track(t, t, "X") for t in ("sx1", "sy1")})
    return library, od, gateway


@pytest.mark.parametrize("fail, failed, finished, found", [
    (None, False, ["similar_artists", "similar_recordings"], {"similar_artists": 1, "similar_recordings": 1}),
    # labs down at the second source: the first one's finds replace the last discovery's, not the second's
    ("similar-recordings", True, ["similar_artists"], {"similar_artists": 1}),
    # the listen counts, asked for every source's finds together, failed: no source counts as finished
    ("popularity/recording", True, [], {"similar_artists": 1, "similar_recordings": 1}),
])
def test_a_step_reports_the_sources_that_asked_all_they_meant_to(tmp_path, fail, failed, finished, found):
    library, od, gateway = portishead_world(tmp_path, fail)
    settings = load_settings(environ={}, overrides={"discovery.search_fallback": 0})
    library, report = discover_open_data(library, settings, gateway, open_data=od, seed_tracks=pd.Series({"t1": 1.0}),
                                         seed_artist_ids=["aP"])
    assert (report.failed, report.finished, report.by_source) == (failed, finished, found)
    assert len(report.warnings) == (1 if fail else 0)
    if fail:
        assert report.warnings[0].startswith("discovery stopped early") and "HTTP 503" in report.warnings[0]
    # the listen counts are asked once the sources are done, unless a service failed before
    listens = library.frames["recordings"].set_index("track_id")["listen_count"].get("sx1")
    assert listens == 7 if fail is None else pd.isna(listens)


@pytest.mark.parametrize("kind, asked", [
    ("spotify_ids", lambda od: od.spotify_id_lists(["r1"])),
    ("popularity", lambda od: od.popularity(["r1"])),
    ("canonical", lambda od: od.canonical_recordings(["r1"]))])
def test_a_batch_answer_whose_rows_have_another_shape_is_a_failure_not_nothing_found(tmp_path, kind, asked):
    """The id mapping, listen counts and canonical look-up answering rows with their key field
    renamed ("mbid"): every MBID was kept as "no Spotify id", "no listens" or its own canonical
    recording for the answers' days (30), with no warning, as similar artists' were before
    (README: such a list is a failure, not "nothing found")."""
    renamed = [{"mbid": "r1", "spotify_track_ids": ["s1"], "canonical_recording_mbid": "c1", "total_listen_count": 5}]
    od = open_data(tmp_path, api={"popularity/recording": renamed},
                   labs={"spotify-id-from-mbid": renamed, "recording-mbid-lookup": renamed})
    with pytest.raises(ServiceError, match="answered with rows of another shape"):
        asked(od)
    assert od.failure is not None and od.cache._load(kind) == {}  # nothing kept: the next run asks again


@pytest.mark.parametrize("failure", ["429", "503"])
def test_a_spotify_wait_during_the_look_ups_that_would_end_past_max_seconds_stops_the_step_unslept(tmp_path, failure):
    """A new track's look-up answered 429 "wait 20 s" (within spotify.max_retry_wait) 2 s before
    the end of discovery.max_seconds: the gateway slept it whole, the step 18 s past its time,
    where an open-data client's wait ends the step at once (``Budget.may_wait``); the gateway's
    back-off after a 5xx alike. Outside discovery the gateway waits as it did."""
    import spotipy
    from spotipy.exceptions import SpotifyException

    from recommender.spotify.gateway import Gateway
    now, sleeps = [0.0], []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds
    od = open_data(tmp_path)
    od.budget = Budget(None, seconds=10.0, clock=lambda: now[0])
    refusal = (SpotifyException(429, -1, "slow down", headers={"Retry-After": "20"}) if failure == "429"
               else SpotifyException(503, -1, "unavailable"))
    answers = [refusal, spotify_track("s1", "Roads", "Portishead")]

    def call(*args, **kwargs):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
    client = spotipy.Spotify(auth="token")
    client._internal_call = call
    gateway = Gateway(client, max_retry_wait=60.0, backoff=5.0, sleep=sleep)
    now[0] = 8.0
    with pytest.raises(BudgetExhausted, match="discovery.max_seconds") as stopped:
        Resolver(Library.from_frames(user_id="u"), od, gateway).track_rows(["s1"])
    assert stopped.value.slow and stopped.value.service == "Spotify"
    assert sleeps == [] and now[0] <= 10.0
    answers[:0] = [refusal]  # the same gateway, asked outside discovery: waits as asked
    assert gateway.get("tracks/s1")["id"] == "s1" and sleeps == [20.0 if failure == "429" else 5.0]
