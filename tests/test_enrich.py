"""MusicBrainz genre enrichment against the local stand-in, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import requests

from recommender.config import load_settings
from recommender.enrich import musicbrainz as mb
from recommender.standins.musicbrainz import MusicBrainzStandIn
from recommender.errors import ConfigError
from recommender.library import Library
from recommender.services.cache import MISSING
from recommender.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "musicbrainz"
UA = "recommend-tests/0.1 ( tests@example.invalid )"
RADIOHEAD = "a74b1b7f-71a5-4011-9441-d0b5e4122711"
DAFT_PUNK = "056e4f3e-d505-4dad-8ec1-d04f521cbb56"
BECK = "309c62ba-7a22-4277-9f67-4a162526d18a"
PORTISHEAD = "8f6bd1e4-fbe1-4f50-aa9b-94c450ec0f11"
TUNNG = "5f9a2e3b-0c7d-4e1a-9b8f-2d6c4a1e3f70"
TONY_ALLEN = "b1f2c3d4-8e9a-4b7c-a6d5-e4f3a2b1c0d9"
TODAY = date(2026, 3, 2)

# (track_id, [(artist_id, name)], isrc)
TRACKS = [
    ("t_rh1", [("ar_radiohead", "Radiohead")], "GBAYE9700385"),
    ("t_rh2", [("ar_radiohead", "Radiohead")], None),
    ("t_dp", [("ar_daftpunk", "Daft Punk")], None),
    ("t_nv", [("ar_nirvana", "Nirvana")], None),
    ("t_beck", [("ar_beck", "Beck")], None),
    ("t_ph", [("ar_portishead", "Portishead")], "GBUM70000001"),  # unknown to MusicBrainz
    ("t_tunng", [("ar_tunng", "Tunng"), ("ar_tony", "Tony Allen")], "GBCEL1000412"),
    ("t_zz", [("ar_zyzzyx", "Zyzzyx Road Orchestra")], None),
    ("t_sm", [("ar_smiths", "The Smiths Tribute")], None),
    ("t_sp", [("ar_spotify", "Has Spotify Genres")], None),
]
# Requests a full run needs: 2 per ISRC/name hit, 3 for Portishead (ISRC 404, search, lookup),
# 1 per name miss.
FULL_RUN_REQUESTS = 2 + 2 + 1 + 2 + 3 + 2 + 2 + 1 + 1


def make_library(tracks=TRACKS) -> Library:
    rows = [{"track_id": t, "name": t, "artist_ids": [a for a, _ in arts],
             "artist_names": [n for _, n in arts], "isrc": isrc} for t, arts, isrc in tracks]
    artists = pd.DataFrame({"artist_id": ["ar_spotify", "ar_radiohead"],
                            "name": ["Has Spotify Genres", "Radiohead"],
                            "genres": [["indie pop"], []]})
    return Library.from_frames(tracks=pd.DataFrame(rows), artists=artists)


@pytest.fixture
def mb_standin():
    with MusicBrainzStandIn(FIXTURES) as server:
        yield server


def make_settings(tmp_path: Path, mb_standin: MusicBrainzStandIn, **enrich):
    user = tmp_path / "user.yaml"
    user.write_text("{}\n")
    overrides = {"enrich.musicbrainz_url": mb_standin.base_url, "enrich.user_agent": UA,
                 "enrich.rate": 500.0, "enrich.save_every": 2, "enrich.max_retry_wait": 0.05}
    overrides.update({f"enrich.{k}": v for k, v in enrich.items()})
    return load_settings(user, overrides=overrides, environ={})


def frame_by_artist(store: Store) -> pd.DataFrame:
    return store.load_frame("artist_genres").set_index("artist_id")


def test_full_run_isrc_name_ambiguous_and_misses(tmp_path, mb_standin):
    store = Store(tmp_path / "cache")
    report = mb.enrich_genres(make_library(), store, make_settings(tmp_path, mb_standin), today=TODAY)
    got = frame_by_artist(store)

    assert "ar_spotify" not in got.index  # Spotify already gave genres: not asked
    assert len(got) == 9
    mbids = got["mbid"].to_dict()
    assert mbids["ar_radiohead"] == RADIOHEAD  # ISRC path
    assert mbids["ar_tunng"] == TUNNG and mbids["ar_tony"] == TONY_ALLEN  # both credits of one ISRC
    assert mbids["ar_portishead"] == PORTISHEAD  # ISRC unknown -> name search
    assert mbids["ar_daftpunk"] == DAFT_PUNK
    assert mbids["ar_beck"] == BECK  # tie at score 100 with "BECK", but only one exact name
    for miss in ("ar_nirvana", "ar_zyzzyx", "ar_smiths"):  # ambiguous, no hit, low score
        assert pd.isna(mbids[miss]) and got.loc[miss, "miss"]
        assert got.loc[miss, "genres"] == [] and got.loc[miss, "looked_up"] == "2026-03-02"
    assert not got.loc["ar_radiohead", "miss"]

    # genres most voted first (ties by name), with their counts; tags only as fallback
    assert got.loc["ar_radiohead", "genres"] == ["alternative rock", "art rock", "electronic", "rock"]
    assert got.loc["ar_radiohead", "counts"] == [33, 26, 12, 12]
    assert got.loc["ar_daftpunk", "genres"] == ["french house", "house", "electronic"]
    assert got.loc["ar_tunng", "genres"] == ["folktronica", "folk"]  # tags; the downvoted one dropped

    assert (report.candidates, report.looked_up, report.found, report.misses) == (9, 9, 6, 3)
    assert (report.by_isrc, report.by_name, report.ambiguous, report.remaining) == (3, 3, 1, 0)
    assert report.requests == len(mb_standin.seen) == FULL_RUN_REQUESTS
    assert {s.user_agent for s in mb_standin.seen} == {UA}
    assert all(s.query["fmt"] == "json" for s in mb_standin.seen)
    isrc_calls = [s for s in mb_standin.seen if s.path.startswith("/ws/2/isrc/")]
    assert isrc_calls and all(s.query["inc"] == "artist-credits" for s in isrc_calls)

    # the Library now sees the MusicBrainz genres, but keeps Spotify's where it has them
    genres = make_library().replace(artist_genres=store.load_frame("artist_genres")).artist_genres()
    assert genres["ar_portishead"] == ["trip hop"]
    assert genres["ar_spotify"] == ["indie pop"]


def test_an_isrc_written_with_hyphens_or_no_isrc_at_all_never_stops_the_run(tmp_path, mb_standin):
    """Spotify's ``external_ids.isrc`` is not always a bare ISRC: "US-UAN-13-00012"
    (https://github.com/bambanah/deemix/pull/258, "Spotify does not guarantee non-hyphenated
    ISRC and musicbrainz won't search for hyphenated":
    https://github.com/FoxxMD/multi-scrobbler/pull/644), lower case ("ushm82295225":
    https://github.com/spotify2tidal/spotify_to_tidal/pull/92) or no ISRC at all ("DUM_22832":
    https://github.com/SilentVoid13/SyncDisBoi/issues/25). MusicBrainz answers such a code 400
    "Invalid isrc." (musicbrainz-server lib/MusicBrainz/Server/Controller/WS/2/ISRC.pm), which
    stopped the whole run (exit 5) at that artist, and again at every later run. Now the code
    is written as MusicBrainz wants it, a non-code is not asked, and a refused code is unknown."""
    tracks = [(t, arts, {"GBAYE9700385": "gb-aye-97-00385", "GBUM70000001": "DUM_22832"}.get(i, i))
              for t, arts, i in TRACKS]
    store = Store(tmp_path / "cache")
    report = mb.enrich_genres(make_library(tracks), store, make_settings(tmp_path, mb_standin), today=TODAY)
    got = frame_by_artist(store)["mbid"].to_dict()
    assert got["ar_radiohead"] == RADIOHEAD and got["ar_portishead"] == PORTISHEAD  # by ISRC, then by name
    assert report.looked_up == 9 and report.by_isrc == 3
    isrcs = [s.path for s in mb_standin.seen if s.path.startswith("/ws/2/isrc/")]
    assert "/ws/2/isrc/GBAYE9700385" in isrcs and not any("DUM" in p for p in isrcs)

    client = mb.MusicBrainzClient(mb_standin.base_url, UA, rate=500)
    mb_standin.fail(400, times=1)  # a code MusicBrainz finds invalid (its rule is stricter than ours)
    assert client.isrc("GBAYE9700385") is None
    assert client.isrc("GBAYE9700385")["recordings"]  # the client goes on


def test_answers_with_values_of_the_wrong_type_are_read_leniently(tmp_path, mb_standin):
    """A credited name 5, a row that is no object, a search score "high", a disambiguation that
    is a list, a genre's vote count "lots": each ended `recommend enrich genres` with "unexpected
    error" (exit 1). Such a value is read as none (as discovery reads MusicBrainz), the rest used."""
    tunng = mb_standin.isrcs["GBCEL1000412"]["recordings"][0]
    tunng["artist-credit"] = ["junk", {**tunng["artist-credit"][0], "name": 5}, *tunng["artist-credit"]]
    beck = mb_standin.searches["beck"]["artists"]
    beck[:] = ["junk", {**beck[0], "score": "high"}, {**beck[1], "disambiguation": ["x"]}, *beck]
    mb_standin.artists[RADIOHEAD]["genres"] = [7, {"name": "rock", "count": "lots"}, {"name": "art rock", "count": 2}]
    store = Store(tmp_path / "cache")
    report = mb.enrich_genres(make_library(), store, make_settings(tmp_path, mb_standin), today=TODAY)
    got = frame_by_artist(store)
    assert got.loc["ar_tunng", "mbid"] == TUNNG and got.loc["ar_beck", "mbid"] == BECK
    assert got.loc["ar_radiohead", "genres"] == ["art rock"] and report.found == 6


def test_an_mbid_of_the_wrong_type_is_read_as_no_mbid_never_stored(tmp_path, mb_standin):
    """A credited artist's id {"x": 1}, a search hit's id 5, an artist page's id that is a list were
    stored as the MBIDs "{'x': 1}", "5" and "['...']" (the page's taken for a merge of the artist
    into it), asked of MusicBrainz and ListenBrainz later. Such an id is no id: the credit and the
    hit are none, the page is the artist asked for."""
    import json

    class Session:  # MusicBrainz answering ids of the wrong type
        def get(self, url, params, headers, timeout, stream=False):
            if "/isrc/" in url:
                body = {"recordings": [{"artist-credit": [{"name": "Radiohead", "artist": {"id": {"x": 1}}}]}]}
            elif "/artist/" in url:
                body = {"id": [RADIOHEAD], "genres": [{"name": "rock", "count": 3}]}
            else:
                hit = {"score": 100, "name": "Daft Punk"}
                body = {"artists": [{**hit, "id": 5}] if "Daft" in params else [{**hit, "id": DAFT_PUNK}]}
            response = requests.Response()
            response.status_code, response._content = 200, json.dumps(body).encode()
            return response

    tracks = [("t_rh1", [("ar_radiohead", "Radiohead")], "GBAYE9700385"), ("t_dp", [("ar_daftpunk", "Daft Punk")], None)]
    client = mb.MusicBrainzClient("http://127.0.0.1:1/ws/2/", UA, rate=1000, session=Session())
    store = Store(tmp_path / "cache")
    report = mb.enrich_genres(make_library(tracks), store, make_settings(tmp_path, mb_standin), client=client, today=TODAY)
    got = frame_by_artist(store)
    assert got.loc["ar_radiohead", "mbid"] == DAFT_PUNK  # no ISRC credit: the name search's hit, its page its own
    assert pd.isna(got.loc["ar_daftpunk", "mbid"]) and got.loc["ar_daftpunk", "miss"]  # a hit without an id
    assert report.merged == 0 and report.found == 1


def test_rerun_asks_only_new_artists_and_misses_wait(tmp_path, mb_standin):
    store = Store(tmp_path / "cache")
    settings = make_settings(tmp_path, mb_standin, retry_misses_days=30)
    mb.enrich_genres(make_library(), store, settings, today=TODAY)
    mb_standin.seen.clear()

    again = mb.enrich_genres(make_library(), store, settings, today=TODAY + timedelta(days=29))
    assert mb_standin.seen == [] and again.looked_up == 0 and again.already_known == 9

    bigger = make_library(TRACKS + [("t_dp2", [("ar_newdp", "Daft Punk")], None)])
    new = mb.enrich_genres(bigger, store, settings, today=TODAY + timedelta(days=29))
    assert new.looked_up == 1 and frame_by_artist(store).loc["ar_newdp", "mbid"] == DAFT_PUNK
    mb_standin.seen.clear()

    later = mb.enrich_genres(bigger, store, settings, today=TODAY + timedelta(days=30))
    assert later.looked_up == 3 and later.misses == 3  # only the three misses are due again
    assert [s.path for s in mb_standin.seen] == ["/ws/2/artist"] * 3
    assert frame_by_artist(store).loc["ar_nirvana", "looked_up"] == "2026-04-01"


def test_limit_takes_artists_with_most_tracks_first(tmp_path, mb_standin):
    store = Store(tmp_path / "cache")
    settings = make_settings(tmp_path, mb_standin)
    assert mb.due_counts(make_library(), store, settings, today=TODAY)[0] == 9
    assert mb.due_counts(make_library(), store, settings, limit=4, today=TODAY)[0] == 4
    report = mb.enrich_genres(make_library(), store, settings, limit=1, today=TODAY)
    assert report.looked_up == 1 and report.remaining == 8
    assert list(frame_by_artist(store).index) == ["ar_radiohead"]  # two tracks, the others one
    assert mb.due_counts(make_library(), store, settings, today=TODAY)[0] == 8


def test_interrupted_run_resumes_where_it_stopped(tmp_path, mb_standin):
    store = Store(tmp_path / "cache")
    settings = make_settings(tmp_path, mb_standin, save_every=100)
    calls = []

    def stop_after_three(done, total, eta):
        calls.append((done, total, eta))
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        mb.enrich_genres(make_library(), store, settings, progress=stop_after_three, today=TODAY)
    assert [c[:2] for c in calls] == [(1, 9), (2, 9), (3, 9)]
    first = frame_by_artist(store)
    assert len(first) == 3  # saved on the way out although save_every was not reached

    mb_standin.seen.clear()
    report = mb.enrich_genres(make_library(), store, settings, progress=lambda *c: calls.append(c), today=TODAY)
    assert report.already_known == 3 and report.looked_up == 6
    assert calls[-1][:2] == (6, 6) and calls[-1][2] == 0
    fresh = Store(tmp_path / "fresh")
    mb.enrich_genres(make_library(), fresh, settings, today=TODAY)
    resumed, whole = frame_by_artist(store), frame_by_artist(fresh)
    pd.testing.assert_frame_equal(resumed.sort_index(), whole.sort_index())


def test_saves_every_n_artists(tmp_path, mb_standin):
    class CountingStore(Store):
        sizes: list[int] = []

        def save_frame(self, name, df):
            self.sizes.append(len(df))
            super().save_frame(name, df)

    store = CountingStore(tmp_path / "cache")
    mb.enrich_genres(make_library(), store, make_settings(tmp_path, mb_standin, save_every=4), today=TODAY)
    assert store.sizes == [4, 8, 9]


def test_503_backoff_honours_retry_after_up_to_the_cap(tmp_path, mb_standin):
    sleeps: list[float] = []

    def sleep(seconds):
        sleeps.append(seconds)
        time.sleep(seconds)

    client = mb.MusicBrainzClient(mb_standin.base_url, UA, rate=500, sleep=sleep, max_retries=3,
                                  max_retry_wait=0.05)
    mb_standin.fail(503, times=1, retry_after=0.02)
    mb_standin.fail(503, times=1, retry_after=120)  # far too long: cut to max_retry_wait
    assert client.artist(RADIOHEAD)["name"] == "Radiohead"
    assert [s.path for s in mb_standin.seen] == [f"/ws/2/artist/{RADIOHEAD}"] * 3
    assert 0.02 in sleeps and 0.05 in sleeps and 120 not in sleeps


def test_503_that_does_not_stop_gives_up_after_bounded_retries(tmp_path, mb_standin):
    store = Store(tmp_path / "cache")
    settings = make_settings(tmp_path, mb_standin, max_retries=2)
    mb.enrich_genres(make_library(), store, settings, limit=2, today=TODAY)  # Radiohead, then one more
    mb_standin.seen.clear()
    mb_standin.fail(503, times=50, retry_after=0)
    with pytest.raises(mb.MusicBrainzError, match="kept failing"):
        mb.enrich_genres(make_library(), store, settings, today=TODAY)
    assert len(mb_standin.seen) == 3  # one request, two retries
    assert len(frame_by_artist(store)) == 2  # what was found before is kept


def test_an_address_where_no_musicbrainz_answers_names_the_key_and_where_it_was_set(tmp_path):
    """`enrich genres` at an address where nothing answers (a stand-in stopped, a typo) said only
    "kept failing (ConnectionError) for http://..." where discovery names the key: said alike."""
    from test_discovery import closed_port_url
    user = tmp_path / "user.yaml"
    user.write_text("{}\n")
    settings = load_settings(user, overrides={"enrich.user_agent": UA, "enrich.max_retries": 0},
                             environ={"RECOMMENDER_MUSICBRAINZ_URL": closed_port_url("/ws/2/")})
    with pytest.raises(mb.MusicBrainzError) as caught:
        mb.enrich_genres(make_library(), Store(tmp_path / "cache"), settings, limit=1, today=TODAY)
    assert str(caught.value).endswith("; no server answered there: this computer is offline, MusicBrainz is down, or "
                                      "enrich.musicbrainz_url (from environment RECOMMENDER_MUSICBRAINZ_URL) names "
                                      "the wrong address")


def test_musicbrainz_limiting_us_is_named_in_the_message(tmp_path, mb_standin):
    """MusicBrainz's 503 body says why: {"error": "Your requests are exceeding the allowable
    rate limit. ..."} (https://github.com/AzuraCast/AzuraCast/issues/3705; a client that shows
    only the status misleads: https://github.com/mixxxdj/mixxx/issues/14215). The run stopped
    with "kept failing (HTTP 503)", which reads like an outage; now the service's own words
    are in the message (one line, control characters escaped)."""
    store = Store(tmp_path / "cache")
    mb_standin.fail(503, times=50, retry_after=0)
    with pytest.raises(mb.MusicBrainzError) as err:
        mb.enrich_genres(make_library(), store, make_settings(tmp_path, mb_standin, max_retries=1), today=TODAY)
    assert 'HTTP 503 "Your requests are exceeding the allowable rate limit."' in str(err.value)

    class Said:  # a hostile body: one line, escaped, cut
        def json(self):
            return {"error": "slow\n\x1b[2Jdown " + "x" * 300}
    from recommender.services.http import said
    text = said(Said())
    assert "\n" not in text and "\x1b" not in text and "\\x1b[2J" in text and len(text) <= 163


@pytest.mark.parametrize("body, text", [
    ({"message": "Too many requests"}, ' "Too many requests"'),  # ListenBrainz's key
    ({"error": 503, "message": "down for maintenance"}, ' "down for maintenance"'),  # the first text said
    ({"code": 503}, ""), ({"error": None}, ""), (["slow down"], ""), ("slow down", ""), (None, "")])
def test_a_refusals_words_are_its_error_or_message_text_and_any_other_body_says_nothing(body, text):
    """A refusal's body is a stranger's JSON: only a text under ``error`` or ``message`` is
    said; a number there, a list, a bare string or no such key adds nothing, never a crash
    on the way to the one-line error."""
    from recommender.services.http import said

    class Answer:
        def json(self):
            return body
    assert said(Answer()) == text


def test_other_client_errors_are_not_retried(mb_standin):
    client = mb.MusicBrainzClient(mb_standin.base_url, UA, rate=500)
    mb_standin.fail(400, times=1)
    with pytest.raises(mb.MusicBrainzError, match="HTTP 400") as err:
        client.artist(RADIOHEAD)
    assert err.value.status == 400 and len(mb_standin.seen) == 1
    assert client.artist("00000000-0000-4000-8000-000000000000") is None  # 404 -> None


def test_rate_limit_spacing_seen_by_the_server(tmp_path, mb_standin):
    rate = 20.0
    client = mb.MusicBrainzClient(mb_standin.base_url, UA, rate=rate)
    for _ in range(5):
        client.search_artists("Daft Punk")
    times = [s.time for s in mb_standin.seen]
    assert len(times) == 5
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 1 / rate


def test_rate_limiter_uses_injected_clock_and_sleep():
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds):
        sleeps.append(round(seconds, 6))
        now[0] += seconds

    class Session:  # answers instantly; 0.1 s of "network" per request on the fake clock
        def get(self, url, params, headers, timeout, stream=False):
            now[0] += 0.1
            response = requests.Response()
            response.status_code = 200
            response._content = b'{"artists": []}'
            return response

    client = mb.MusicBrainzClient("http://127.0.0.1:1/ws/2/", UA, rate=2.0, session=Session(),
                                  clock=lambda: now[0], sleep=sleep)
    client.search_artists("a")
    client.search_artists("b")
    now[0] += 0.3  # the caller spent some time between requests
    client.search_artists("c")
    now[0] += 1.0
    client.search_artists("d")
    assert sleeps == [0.5, 0.2]  # 1/rate after the previous request ended, minus time spent


def hit(mbid: str | None, score: int | None, name: str = "X", dis: str = "") -> dict:
    """An artist search hit of MusicBrainz; without ``mbid`` or ``score`` it has no such key."""
    out = {"id": mbid, "score": score, "name": name, "disambiguation": dis}
    return {k: v for k, v in out.items() if v is not None}


def test_choose_artist_rules():
    assert mb.choose_artist([], "X", 90) == (None, "miss")
    assert mb.choose_artist([hit("a", 89)], "X", 90) == (None, "miss")
    assert mb.choose_artist([hit("a", 95), hit("b", 90)], "X", 90) == ("a", "found")
    assert mb.choose_artist([hit("a", 100, dis="band"), hit("b", 100, dis="singer")], "X", 90) == (None, "ambiguous")
    assert mb.choose_artist([hit("a", 100, "x", "band"), hit("b", 100, "X", "singer")], "X", 90) == ("b", "found")


def test_choose_artist_skips_hits_without_an_id_and_takes_a_top_score_at_the_bar_or_shared_by_one_artist():
    """A hit without an id is no candidate (one scored 100 does not hide the real one); a hit
    without a score counts as 0; a top score equal to ``min_score`` is good enough; several hits
    at the top with the same disambiguation are one artist listed again: the first is taken."""
    assert mb.choose_artist([hit(None, 100), hit("a", 92)], "X", 90) == ("a", "found")
    assert mb.choose_artist([hit("a", None)], "X", 0) == ("a", "found")
    assert mb.choose_artist([hit("a", None)], "X", 1) == (None, "miss")
    assert mb.choose_artist([hit("a", 90)], "X", 90) == ("a", "found")
    same = [hit("a", 100, "x", "band"), hit("b", 100, "x", "band")]
    assert mb.choose_artist(same, "X", 90) == ("a", "found")


def test_genres_are_the_voted_ones_most_votes_first_and_tags_only_without_genres():
    body = {"genres": [{"name": "rock", "count": 2}, {"name": "pop", "count": 5}, {"name": "art rock", "count": 2},
                       {"name": "zero", "count": 0}, {"name": "unvoted"}, {"name": " ", "count": 9},
                       {"name": "down", "count": -1}],
            "tags": [{"name": "ignored", "count": 50}]}
    assert mb.genres_of(body) == (["pop", "art rock", "rock"], [5, 2, 2])
    tags = {"genres": [{"name": "zero", "count": 0}],
            "tags": [{"name": f"t{k:02d}", "count": 100 - k} for k in range(12)] + [{"name": "none", "count": 0}]}
    assert mb.genres_of(tags) == ([f"t{k:02d}" for k in range(mb.MAX_TAGS)], [100 - k for k in range(mb.MAX_TAGS)])
    assert mb.genres_of(None) == ([], []) and mb.genres_of({"genres": None}) == ([], [])


def test_the_artists_to_enrich_count_every_track_crediting_them_and_list_their_own_isrcs_first():
    """An artist's tracks count every credit (featured too); their name is the artists frame's,
    else the first credit's; their ISRCs are of the tracks they lead first, each once; the artists
    with the most tracks come first; one with Spotify genres or without a name is left out."""
    tracks = pd.DataFrame([
        {"track_id": "t1", "name": "One", "artist_ids": ["aF", "aL"], "artist_names": ["Feat", "Lead"],
         "isrc": "GBAAA0000001"},
        {"track_id": "t2", "name": "Two", "artist_ids": ["aL"], "artist_names": ["Lead"], "isrc": "GBAAA0000002"},
        {"track_id": "t3", "name": "Three", "artist_ids": ["aL", "aF"], "artist_names": ["Lead", "Feat & Co"],
         "isrc": "GBAAA0000001"},
        # (a credit list shorter than the ids: the last artist has no name here)
        {"track_id": "t4", "name": "Four", "artist_ids": ["aG", "aN"], "artist_names": ["Genre"], "isrc": None}])
    artists = pd.DataFrame([{"artist_id": "aL", "name": "Lead", "genres": []},
                            {"artist_id": "aG", "name": "Genre", "genres": ["pop"]}])
    got = mb.library_artists(Library.from_frames(user_id="u", tracks=tracks, artists=artists))
    assert got["artist_id"].tolist() == ["aL", "aF"]
    assert got["name"].tolist() == ["Lead", "Feat"] and got["n_tracks"].tolist() == [3, 2]
    # Lead leads Two and Three (in the library's order), then is featured on One (Three's ISRC again)
    assert got["isrcs"].tolist() == [["GBAAA0000002", "GBAAA0000001"], ["GBAAA0000001"]]


def test_name_matching_is_loose_about_case_accents_and_articles():
    assert mb.normalise_name("The Beatles") == mb.normalise_name("beatles")
    assert mb.normalise_name("Beyoncé") == mb.normalise_name("BEYONCE")
    assert mb.normalise_name("Simon & Garfunkel") == mb.normalise_name("Simon and Garfunkel")
    assert mb.normalise_name("The The") != mb.normalise_name("")


def test_a_name_of_punctuation_only_is_its_own_artist():
    """Artists named with punctuation only exist on Spotify and MusicBrainz ("!!!", "+/-");
    the key dropped every character, so they all became "" (one artist for the open-data
    scorer) and an ISRC credit never matched them (an empty key matches nothing), so
    discovery never found their MBID. The same trap, normalising a name to "":
    https://github.com/EdwardBetts/osm-wikidata/issues/176,
    https://github.com/Kareadita/Kavita/pull/991."""
    assert mb.normalise_name("!!!") == "!!!" and mb.normalise_name("+ / -") == "+/-"
    assert mb.normalise_name("!!!") != mb.normalise_name("+/-") and mb.normalise_name("") == ""
    body = {"recordings": [{"artist-credit": [{"name": "+/-", "artist": {"id": "m-pm", "name": "+/-"}},
                                              {"name": "!!!", "artist": {"id": "m-chk", "name": "!!!"}}]}]}
    assert mb.match_isrc_credit(body, "!!!") == "m-chk"


def test_estimate_seconds_scales_with_artists_and_rate():
    assert mb.estimate_seconds(0, rate=1.0) == 0
    assert mb.estimate_seconds(100, rate=1.0) == 100 * mb.REQUESTS_PER_ARTIST
    assert mb.estimate_seconds(100, rate=2.0) == mb.estimate_seconds(100, rate=1.0) / 2
    assert mb.estimate_seconds(100, 100, rate=1.0) == 100  # re-checks by MBID: one request each


def test_bad_settings_name_the_key(tmp_path, mb_standin):
    with pytest.raises(ConfigError, match="enrich.rate must be"):  # now rejected when the settings load
        mb.enrich_genres(make_library(), Store(tmp_path / "c"), make_settings(tmp_path, mb_standin, rate=0.0))
    with pytest.raises(ConfigError, match="enrich.min_score"):
        mb.enrich_genres(make_library(), Store(tmp_path / "c"), make_settings(tmp_path, mb_standin, min_score=150))
    assert mb_standin.seen == []


def test_standin_behaves_like_musicbrainz_on_inc_and_fmt(mb_standin):
    url = mb_standin.base_url + "isrc/GBAYE9700385"
    bare = requests.get(url, params={"fmt": "json"}, headers={"User-Agent": UA}, timeout=5).json()
    assert "artist-credit" not in bare["recordings"][0]
    assert requests.get(url, headers={"User-Agent": UA}, timeout=5).status_code == 400


MERGED_INTO = "0b1f7c3e-9d2a-4c5b-8e6f-a1b2c3d4e5f6"  # the Radiohead that RADIOHEAD was merged into


def merge_radiohead_and_delete_daft_punk(mb_standin):
    """What MusicBrainz does after a merge and a removal: a lookup of the old MBID answers the
    artist it was merged into, with that one's ``id`` (a redirect: listenbrainz-server pull
    request 3093 and MTG/dunya issue 199 show lookups answering the new id; beets issue 2914 a
    client that kept the old one); the ISRC credits name the new one; a removed MBID is 404."""
    page = dict(mb_standin.artists[RADIOHEAD], id=MERGED_INTO,
                genres=[{"name": "art rock", "count": 40}, {"name": "alternative rock", "count": 35}])
    mb_standin.artists[MERGED_INTO] = page
    mb_standin.merged = {RADIOHEAD: MERGED_INTO}
    mb_standin.deleted = {DAFT_PUNK}


def test_the_standin_serves_a_merged_mbid_under_its_new_id_and_a_deleted_one_as_404(mb_standin):
    merge_radiohead_and_delete_daft_punk(mb_standin)
    client = mb.MusicBrainzClient(mb_standin.base_url, UA, rate=500)
    assert client.artist(RADIOHEAD)["id"] == MERGED_INTO
    assert client.artist(MERGED_INTO)["id"] == MERGED_INTO
    assert client.artist(DAFT_PUNK) is None  # 404, as for an MBID never known
    assert mb.match_isrc_credit(client.isrc("GBAYE9700385"), "Radiohead") == MERGED_INTO


def test_a_found_artist_is_rechecked_by_its_mbid_a_merged_one_takes_the_new_id_a_deleted_one_is_a_miss(
        tmp_path, mb_standin):
    """Genres found were kept for good and their MBID never checked again: an artist MusicBrainz
    merged later kept the old MBID (ListenBrainz and labs know the artist by the new one, so
    similar artists asked with the old one may find nothing), and a second Spotify artist of the
    same MusicBrainz artist kept it too. Now a found artist is re-checked by its MBID alone (one
    request) when its genres are ``enrich.refresh_days`` old: a merged MBID is replaced by the
    new one in every row that held it (one request for both), noted for discovery, and the
    answers cached under the old one are dropped; a deleted one (404) becomes a miss, asked
    again after ``enrich.retry_misses_days``, and the run goes on."""
    from recommender.services.cache import AnswerCache
    tracks = TRACKS + [("t_rh3", [("ar_radiohead_too", "Radiohead")], "GBAYE9700385")]
    store = Store(tmp_path / "cache")
    settings = make_settings(tmp_path, mb_standin, retry_misses_days=365)  # enrich.refresh_days: 180
    mb.enrich_genres(make_library(tracks), store, settings, today=TODAY)
    assert frame_by_artist(store).loc["ar_radiohead_too", "mbid"] == RADIOHEAD
    cache = AnswerCache(store.frames_dir / "opendata", {"similar_artists": 7})
    cache.put("similar_artists", f"session_based:{RADIOHEAD}", [])  # asked before the merge
    cache.put("similar_artists", f"session_based:{BECK}", [])
    cache.close()

    merge_radiohead_and_delete_daft_punk(mb_standin)
    mb_standin.seen.clear()
    assert mb.due_counts(make_library(tracks), store, settings, today=TODAY + timedelta(days=179))[0] == 0
    day = TODAY + timedelta(days=180)
    assert mb.due_counts(make_library(tracks), store, settings, today=day) == (7, 7)  # 6 requests: the second Radiohead takes the first one's answer
    report = mb.enrich_genres(make_library(tracks), store, settings, today=day)
    got = frame_by_artist(store)
    for aid in ("ar_radiohead", "ar_radiohead_too"):
        assert got.loc[aid, "mbid"] == MERGED_INTO and got.loc[aid, "genres"] == ["art rock", "alternative rock"]
        assert got.loc[aid, "looked_up"] == day.isoformat()
    assert RADIOHEAD not in set(got["mbid"].dropna())
    assert pd.isna(got.loc["ar_daftpunk", "mbid"]) and got.loc["ar_daftpunk", "miss"]
    assert got.loc["ar_daftpunk", "genres"] == []
    # only MBIDs asked (no ISRC, no name search); Radiohead once for both of its Spotify artists
    paths = [s.path for s in mb_standin.seen]
    assert sorted(paths) == sorted(f"/ws/2/artist/{m}" for m in (RADIOHEAD, DAFT_PUNK, BECK, PORTISHEAD, TUNNG,
                                                                  TONY_ALLEN))
    assert (report.rechecked, report.merged, report.gone, report.looked_up) == (6, 1, 1, 7)
    assert report.requests == 6 and report.misses == 1 and report.found == 6

    from recommender.services.cache import REDIRECTS, answer_cache
    cache = answer_cache(settings, store.frames_dir)
    assert cache.get(REDIRECTS, RADIOHEAD) == MERGED_INTO
    assert cache.get("similar_artists", f"session_based:{RADIOHEAD}") is MISSING  # no second entry
    assert cache.get("similar_artists", f"session_based:{BECK}") == []

    # the deleted one waits like any miss, then is looked up again from the start (by name)
    def asked_daft_punk():
        return [s for s in mb_standin.seen if "Daft Punk" in s.query.get("query", "") or DAFT_PUNK in s.path]
    mb_standin.seen.clear()
    mb.enrich_genres(make_library(tracks), store, settings, today=day + timedelta(days=364))
    assert asked_daft_punk() == [] and frame_by_artist(store).loc["ar_daftpunk", "looked_up"] == day.isoformat()
    mb.enrich_genres(make_library(tracks), store, settings, today=day + timedelta(days=365))
    assert [s.path for s in asked_daft_punk()] == ["/ws/2/artist", f"/ws/2/artist/{DAFT_PUNK}"]
    assert frame_by_artist(store).loc["ar_daftpunk", "miss"]  # still deleted


def test_the_offline_trial_finds_the_sample_library_s_genres_on_the_musicbrainz_standin(tmp_path):
    # `recommend standin`, its exports, `recommend refresh`, then `recommend enrich genres`:
    # "877 artists ... 0 found": the MusicBrainz stand-in knew the sample's ISRCs but had no
    # artist pages, so every artist credited by ISRC was a miss and README's offline trial
    # showed no genre ever. Its pages now carry the sample library's artist genres (derived
    # when the stand-in starts) as genres and tags.
    import json

    from recommender.standins.listenbrainz import artist_mbid, open_data_standins
    from recommender.standins.spotify import Account, StandinServer

    from spotify_helpers import save_login
    from test_cli import env_for, run

    cache = tmp_path / "state"
    with open_data_standins() as (lb, standin, prepare):  # as `recommend standin` starts them
        account = Account.sample(features=False)
        prepare(account)
        with StandinServer(account) as spotify:  # Development Mode: no Spotify genres
            save_login(spotify, cache)
            env = {**env_for(spotify, cache), "RECOMMENDER_LISTENBRAINZ_API_URL": lb.api_url,
                   "RECOMMENDER_LISTENBRAINZ_LABS_URL": lb.labs_url, "RECOMMENDER_MUSICBRAINZ_URL": standin.base_url}
            assert run(["refresh", "--quiet"], env).exit_code == 0
            result = run(["enrich", "genres", "--limit", "30", "--json"], env)
            assert result.exit_code == 0, result.stderr
            report = json.loads(result.stdout)
            assert report["looked_up"] == 30 and report["found"] == report["by_isrc"] == 30
            assert report["with_genres"] > 0
            assert report["seconds"] == round(report["seconds"], 2)  # as every command's (0.02000746299745515)

            # MusicBrainz's contract: an ISRC credits the artist, its page has genres and tags only when asked
            name, expected = next((a["name"], a["genres"]) for a in account.artists.values()
                                  if len(a.get("genres") or []) == 4)
            page = f"{standin.base_url}artist/{artist_mbid(name)}"

            def get(**inc):
                return requests.get(page, params={"fmt": "json", **inc}, headers={"User-Agent": UA}, timeout=10)
            bare = get().json()
            assert bare["name"] == name and bare["id"] == artist_mbid(name) and not {"genres", "tags"} & set(bare)
            body = get(inc="genres+tags").json()
            assert [(g["name"], g["count"]) for g in body["genres"]] == list(zip(expected, (4, 3, 2, 1)))
            assert [(t["name"], t["count"]) for t in body["tags"]] == list(zip(expected, (4, 3, 2, 1)))
            assert mb.genres_of(body) == (expected, [4, 3, 2, 1])

        store = Store(cache)
        genres = store.load_frame("artist_genres")
        assert len(genres) == 30 and sum(len(g) > 0 for g in genres["genres"]) == report["with_genres"]
        artists = store.load_library().frames["artists"]
        names = dict(zip(artists["artist_id"], artists["name"]))
        sample = {a["name"]: a.get("genres") or [] for a in account.artists.values()}
        for aid, got in zip(genres["artist_id"], genres["genres"]):  # the sample's genres, most fitting first
            assert list(got) == sample.get(names.get(aid), [])
        status = run(["status", "--offline", "--json"], env)
        assert status.exit_code == 0, status.stderr
        coverage = json.loads(status.stdout)["genres"]
        assert coverage["with_genres"] == report["with_genres"] and coverage["coverage"] > 0


def test_status_says_when_enrich_genres_has_no_artist_left_to_look_up(tmp_path, mb_standin):
    """After `recommend enrich genres` had looked up every artist, `recommend status` still said
    "857 of 877 artists (98%); `recommend enrich genres` adds more", and the run it asked for
    looked up 0 artists. It now says how many a run would look up, or that none is left."""
    import json

    from test_cli import run
    from recommender import jobs
    cache = tmp_path / "cache"
    store = jobs.open_store(load_settings(environ={}, overrides={"cache.dir": str(cache)}))
    store.save_library(make_library())
    store.update_manifest(user_id="me", fetched_at="2026-03-02T10:00:00+00:00")
    env = {"RECOMMENDER_CACHE_DIR": str(cache), "RECOMMENDER_MUSICBRAINZ_URL": mb_standin.base_url}
    before = run(["status", "--offline"], env)
    assert before.exit_code == 0, before.stderr
    assert "`recommend enrich genres` looks up 9 more" in " ".join(before.stdout.split())
    mb.enrich_genres(make_library(), store, make_settings(tmp_path, mb_standin))  # every artist, today
    after = run(["status", "--offline"], env)
    said = " ".join(after.stdout.split())
    assert "every artist is looked up; MusicBrainz gave the others none" in said and "more" not in said, said
    assert json.loads(run(["status", "--offline", "--json"], env).stdout)["genres"]["to_look_up"] == 0
    # an artist with a blank name is never looked up (nothing to ask MusicBrainz by): "every
    # artist is looked up; MusicBrainz gave the others none" was said of it too
    store.save_library(make_library(TRACKS + [("t_blank", [("ar_blank", "  ")], None)]))
    said = " ".join(run(["status", "--offline"], env).stdout.split())
    assert ("every artist with a name is looked up (1 with no name to look up by); MusicBrainz gave the others "
            "none") in said, said
    assert json.loads(run(["status", "--offline", "--json"], env).stdout)["genres"]["nameless"] == 1


def test_status_reads_the_genres_once_unless_enrich_saves_them_meanwhile(tmp_path, mb_standin, monkeypatch):
    """`recommend status` read artist_genres.parquet twice: for the library (the coverage line)
    and again for the number of artists `enrich genres` would look up. It reads it once now, and
    again only when `enrich genres` saved it after the library was read (the count is the new
    file's)."""
    import json

    from test_cli import run
    from recommender import jobs
    from recommender import status as statusinfo
    cache = tmp_path / "cache"
    store = jobs.open_store(load_settings(environ={}, overrides={"cache.dir": str(cache)}))
    store.save_library(make_library())
    store.save_frame("artist_genres", make_library().frames["artist_genres"])  # only enrich writes it
    store.update_manifest(user_id="me", fetched_at="2026-03-02T10:00:00+00:00")
    env = {"RECOMMENDER_CACHE_DIR": str(cache), "RECOMMENDER_MUSICBRAINZ_URL": mb_standin.base_url}
    reads = []
    read = Store._read_frame
    monkeypatch.setattr(Store, "_read_frame", staticmethod(lambda name, path, *only: reads.append(name) or read(name, path, *only)))
    assert json.loads(run(["status", "--offline", "--json"], env).stdout)["genres"]["to_look_up"] == 9
    assert reads.count("artist_genres") == 1
    coverage = statusinfo.status

    def then_enriched(*args, **kw):  # `enrich genres` in another terminal saves while status runs
        out = coverage(*args, **kw)
        mb.enrich_genres(make_library(), store, make_settings(tmp_path, mb_standin))
        reads.clear()
        return out
    monkeypatch.setattr(statusinfo, "status", then_enriched)
    assert json.loads(run(["status", "--offline", "--json"], env).stdout)["genres"]["to_look_up"] == 0
    assert reads == ["artist_genres"]


def test_enrich_genres_says_a_damaged_genres_file_once_and_mends_it(tmp_path, mb_standin):
    """The command read the cache through two stores: the warning came twice, word for word."""
    from test_cli import run
    from recommender import jobs
    cache = tmp_path / "cache"
    store = jobs.open_store(load_settings(environ={}, overrides={"cache.dir": str(cache)}))
    store.save_library(make_library())
    store.update_manifest(user_id="me", fetched_at="2026-03-02T10:00:00+00:00")
    store.frame_path("artist_genres").write_bytes(b"PAR1 not a parquet file")
    env = {"RECOMMENDER_CACHE_DIR": str(cache), "RECOMMENDER_MUSICBRAINZ_URL": mb_standin.base_url}
    result = run(["enrich", "genres"], env)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("artist_genres.parquet: unreadable cache file") == 1, result.stderr
    assert len(frame_by_artist(store)) == 9  # every artist looked up again, the file whole


def test_a_library_whose_artists_all_lack_a_name_has_nothing_to_look_up(tmp_path, mb_standin):
    # An account whose one artist is named " " (none to look up by name): `status` and `enrich
    # genres` stopped in "unexpected error: KeyError: 'artist_id'", exit 1, on every call (an
    # empty selection of rows read as an empty selection of columns)
    store = Store(tmp_path / "cache")
    settings = make_settings(tmp_path, mb_standin)
    nameless = Library.from_frames(
        tracks=pd.DataFrame([{"track_id": "t1", "name": "Song", "artist_ids": ["ar_blank"], "artist_names": [" "],
                              "isrc": None}]),
        artists=pd.DataFrame({"artist_id": ["ar_blank"], "name": [" "], "genres": [[]]}))
    assert mb.due_counts(nameless, store, settings, today=TODAY) == (0, 0)
    report = mb.enrich_genres(nameless, store, settings, today=TODAY)
    assert report.looked_up == 0 and mb_standin.seen == []
