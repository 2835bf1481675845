"""Which Spotify account, which cache, which managed playlist: shapes users of personal Spotify
tools report (a login as the wrong account, a token of one account with the cache of another,
a remembered playlist the login cannot see), tried through the CLI against the local stand-in."""

from __future__ import annotations

import copy
import json

import pytest

from recommender.standins.spotify import Fault
from recommender.store import Store

from spotify_helpers import api_requests, save_login, settings_for
from test_cli import env_for, logged_in, run  # noqa: F401 (a fixture)
from test_new_user_trial import ours, second  # noqa: F401 (a fixture)


def test_a_token_of_another_account_with_a_fresh_cache_pulls_that_accounts_library(standin, second, tmp_path):
    """spotipy #451 and #612: the cached token was another account's than the one the script
    meant ("printing me() returns a different account"). With the first account's cache still
    fresh, `build-playlist` with the second account's token scored the first account's library,
    told the second account its playlist was "no longer in your playlists (unfollowed?)", created
    one in the second account holding the first one's picks, and put it in the first account's
    slot of the manifest. It now asks who is logged in before creating a playlist, pulls the
    second account's library (saying so) and sets the first one's state aside."""
    cache = tmp_path / "state"
    save_login(standin, cache)
    assert run(["build-playlist", "--quiet"], env_for(standin, cache)).exit_code == 0
    [first_pid] = ours(standin)
    save_login(second, cache)  # dropped in: no `recommend auth` to notice the switch
    result = run(["build-playlist", "--json"], env_for(second, cache))
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["refreshed"] and not any("unfollowed" in m for m in out["messages"])
    assert any("rebuilding it for 'second-user'" in m for m in out["messages"])
    second_tracks = set(second.account.tracks)
    assert {t["id"] for t in out["tracks"]} <= second_tracks  # the second account's own library
    manifest = Store.from_settings(settings_for(second, cache)).read_manifest()
    assert manifest["user_id"] == "second-user" and manifest["managed_playlist"]["id"] == out["playlist_id"]
    assert manifest["accounts"]["small-user"]["managed_playlist"]["id"] == first_pid
    assert ours(standin) == [first_pid] and ours(second) == [out["playlist_id"]]
    status = run(["status"], env_for(second, cache))
    assert "second-user's library" in status.stdout


def test_a_remembered_playlist_the_other_account_follows_is_not_written(standin, second, tmp_path):
    """A managed playlist id remembered from account A that account B cannot write (403: "You
    cannot add to a playlist you don't own", benchmarkstudios/slackbox #8): with B's token and
    A's fresh cache, B following A's playlist (shared with B) made it look like ours, and the run
    tried to write A's playlist with B's login. Now B's library is pulled and B gets its own."""
    cache = tmp_path / "state"
    save_login(standin, cache)
    assert run(["build-playlist", "--quiet"], env_for(standin, cache)).exit_code == 0
    [first_pid] = ours(standin)
    shared = copy.deepcopy(standin.account.playlist(first_pid))
    second.account.playlists.insert(0, shared)  # B follows A's playlist (owner small-user)
    save_login(second, cache)
    second.clear_requests()
    result = run(["build-playlist", "--json"], env_for(second, cache))
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["playlist_id"] != first_pid and out["refreshed"]
    assert not [r for r in api_requests(second) if r.method != "GET" and first_pid in r.path]


def test_a_status_names_the_account_the_cache_belongs_to_and_a_login_of_another(standin, second, tmp_path):
    """`recommend status` said whom the login was ("valid as Second User") but not whose the
    cache was, so a token dropped in for another account (spotipy #451) did not show until a
    refresh rebuilt the cache. It now names the cache's account and says when the login differs."""
    cache = tmp_path / "state"
    save_login(standin, cache)
    assert run(["refresh", "--quiet"], env_for(standin, cache)).exit_code == 0
    status = run(["status"], env_for(standin, cache))
    assert "small-user's library" in status.stdout and "not the cache's account" not in status.stdout
    save_login(second, cache)
    status = run(["status"], env_for(second, cache))
    assert status.exit_code == 0
    assert "small-user's library" in status.stdout and "not the cache's account" in status.stdout
    out = json.loads(run(["status", "--json"], env_for(second, cache)).stdout)
    assert out["cache"]["user_id"] == "small-user" and out["login"]["user_id"] == "second-user"


@pytest.mark.parametrize("refresh", [[], ["--refresh"]])  # listed by the managed playlist's look-up, or the refresh
def test_the_managed_playlist_skipped_by_offset_paging_is_not_created_twice(logged_in, refresh):
    """Offset paging of your playlists (spotipy #1084; spotify-to-plex #27: "if loading the
    playlists goes wrong it assumes no playlist exists and creates a new one"): a playlist you
    delete while the list is being read shifts the later ones back by one, and the managed
    playlist, first on the second page, was skipped: "no longer in your playlists (unfollowed?)"
    and a second managed playlist. A playlist remembered but not listed is now listed again."""
    server, env, _ = logged_in
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    [pid] = ours(server)
    template = server.account.playlist(pid)
    for i in range(50):  # made since, by hand: the managed playlist now opens the second page
        server.account.playlists.insert(0, dict(copy.deepcopy(template), id=f"byHand{i:016d}", name=f"mine {i}",
                                                description="", items=[]))
    pages = []

    def delete_one_while_paging(account):
        pages.append(1)
        if len(pages) == 2:  # between the first page and the second
            account.playlist("byHand0000000000000049")["followed"] = False
    server.add_fault(Fault(path=r"/v1/me/playlists$", times=None, before=delete_one_while_paging))
    result = run(["build-playlist", "--json", *refresh], env)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["playlist_id"] == pid and not out["created"] and ours(server) == [pid]
    assert out["refreshed"] == bool(refresh)
    assert not any("unfollowed" in m for m in out["messages"])


def test_a_login_as_another_account_reads_the_manifest_once(standin, second, tmp_path, monkeypatch):
    """`recommend auth` as another account set the first one's state aside (writing the
    manifest), then read manifest.json again to name the playlists left there: what it had
    just written is used now."""
    from recommender import jobs
    cache = tmp_path / "state"
    save_login(standin, cache)
    assert run(["build-playlist", "--quiet"], env_for(standin, cache)).exit_code == 0
    monkeypatch.setattr("recommender.spotify.auth.login", lambda settings, open_url=None, **kw: save_login(second, cache))
    reads = []
    real = Store._read_json
    monkeypatch.setattr(Store, "_read_json", staticmethod(lambda path: reads.append(path.name) or real(path)))
    login = jobs.login(settings_for(second, cache))
    assert login.me["id"] == "second-user" and login.set_aside == "small-user"
    assert login.left == ["recommend: for you"]
    assert reads == ["manifest.json"]
    manifest = Store.from_settings(settings_for(second, cache)).read_manifest()
    assert manifest["user_id"] == "second-user" and "small-user" in manifest["accounts"]


def test_the_login_page_shows_which_account_is_signed_in(standin, tmp_path):
    """TimeToogo/spotify-hr #7 and #34 ("I signed in with my husband's account ... every time I
    retry it defaults to my husband's account"), spotipy #446 (maintainer: `show_dialog=True`
    lets you sign out and pick another account): Spotify approves an app the browser's account
    already approved without showing the page, so `recommend auth` again, meant to fix a login
    as the wrong account, logged in as that same account. The login now asks Spotify to show
    the page (who is signed in, "Not you?") every time."""
    from recommender import jobs

    from test_field_report import _browser
    settings = settings_for(standin, tmp_path / "cache", **{"spotify.redirect_uri": "http://127.0.0.1:9/callback"})
    jobs.login(settings, open_url=_browser, any_port=True)
    pages = [r for r in standin.requests if r.path == "/authorize"]
    assert pages and all(r.query.get("show_dialog") == "true" for r in pages)


def test_a_mood_export_with_a_token_of_another_account_creates_nothing_there(standin, second, tmp_path):
    """The token-of-the-wrong-account shape (spotipy #451, #612) for the mood playlists: with the
    first account's cache and the second account's token, `moods ... --export` and the web app's
    export created "recommend: happy" in the second account with the first one's tracks (the web
    app asked Spotify who was logged in and took that account for the cache's). Both now stop
    with one line saying whose the cache and the login are, and that `recommend refresh` pulls
    the login's library; nothing is created."""
    from recommender.errors import OtherAccount
    from recommender.jobs import mood_export
    from recommender.web.export import export_mood

    from spotify_helpers import gateway_for
    cache = tmp_path / "state"
    save_login(standin, cache)
    assert run(["refresh", "--quiet"], env_for(standin, cache)).exit_code == 0
    save_login(second, cache)
    settings = settings_for(second, cache)
    library = Store.from_settings(settings).load_library()
    ids = list(library.tracks["track_id"])[:5]
    second.clear_requests()
    with pytest.raises(OtherAccount, match="recommend refresh"):
        export_mood(settings, gateway_for(settings), "happy", ids, library.user_id)  # the page's library's account
    with pytest.raises(OtherAccount, match="'second-user'.*'small-user'"):
        mood_export(settings, library, {"happy": ids}, "your library")
    assert not api_requests(second, "POST") and not api_requests(second, "PUT")


def test_a_login_as_the_right_account_after_the_wrong_one_names_what_was_left_there(standin, second, tmp_path,
                                                                                     monkeypatch):
    """TimeToogo/spotify-hr #34: "I signed in through the app to Spotify and accidentally used my
    husband's account". A run as that account made its managed playlist there; `recommend auth`
    as the right account set that state aside with a note about "managed playlist and removals"
    but did not say that a playlist had been made in the other person's account, which the tool
    never deletes. The note now names it and says to delete it there if that login was a mistake."""
    from test_new_user_trial import login_as
    cache = tmp_path / "state"
    assert login_as(standin, cache, monkeypatch).exit_code == 0  # the family member's account
    assert run(["build-playlist", "--quiet"], env_for(standin, cache)).exit_code == 0
    assert run(["build-playlist", "--quiet", "--new-playlist"], env_for(standin, cache)).exit_code == 0
    result = login_as(second, cache, monkeypatch)
    assert result.exit_code == 0, result.stderr
    note = " ".join(result.stderr.split())
    assert "'recommend: for you'" in note and "small-user's account" in note and "delete" in note
    # the older one too (review: only the current was named), counted under their one name (it
    # said "'recommend: for you', 'recommend: for you'": three after README's trial)
    assert "'recommend: for you' (2 playlists of that name)" in note and note.count("'recommend: for you'") == 1
    assert "if logging in as small-user was a mistake" in note  # which login: not the one just made
    assert len(ours(standin)) == 2  # left where they are


def test_the_web_apps_export_is_of_the_account_whose_library_the_page_shows(standin, second, tmp_path):
    """Review of the web export's account check: it took the account from the manifest at the
    moment of export, while the tracks came from the library the app had loaded. Following the
    first refusal's advice (`recommend refresh` in a terminal, as the other account) handed the
    manifest over, and the next Export created "recommend: happy" in the second account with the
    first one's tracks. The export is of the page's library's account now, and the app shows
    the library refreshed elsewhere (a page after the refresh exports the second one's)."""
    from recommender.errors import OtherAccount
    from recommender.web.context import WebContext
    from recommender.web.export import export_tracks
    from spotify_helpers import gateway_for
    cache = tmp_path / "state"
    save_login(standin, cache)
    assert run(["refresh", "--quiet"], env_for(standin, cache)).exit_code == 0
    b_settings = settings_for(second, cache)
    ctx = WebContext(settings_for(standin, cache), config_file=tmp_path / "u.yaml")
    ids = [str(t) for t in list(ctx.library().tracks["track_id"])[:5]]  # the page's library: the first account's
    save_login(second, cache)  # a token of the second account dropped in
    assert run(["refresh", "--quiet"], env_for(second, cache)).exit_code == 0  # the manifest is the second's now
    with pytest.raises(OtherAccount):
        export_tracks(b_settings, gateway_for(b_settings), "happy", "recommend: happy", ids,
                      user_id=ctx.library().user_id)
    assert not [p for p in second.account.playlists if p["name"] == "recommend: happy"]
    ctx.sync_settings()  # what every page does first
    assert ctx.library().user_id == "second-user"


def test_every_message_about_another_accounts_state_says_the_same_thing(standin, second, tmp_path, monkeypatch):
    """What happens to the first account's state when a second one logs in was said four ways:
    `recommend auth`'s note and the OtherAccount error ("managed playlist and removals ... set
    aside, given back if it logs in again"), the refresh's note (no "given back") and `recommend
    status` ("sets X's managed playlist aside"); none named the pins, which go with them. One
    sentence now (errors.set_aside), the same in all four."""
    from recommender.errors import OtherAccount

    from test_new_user_trial import login_as

    def said(who):
        return f"the managed playlist, removals and pins of {who} are set aside (given back if it logs in again)"
    cache = tmp_path / "state"
    save_login(standin, cache)
    assert run(["refresh", "--quiet"], env_for(standin, cache)).exit_code == 0
    assert said("user 'small-user'") in str(OtherAccount("second-user", "small-user"))
    save_login(second, cache)
    status = run(["status"], env_for(second, cache))
    assert said("small-user") in " ".join(status.stdout.split())  # the CLI shows ids bare
    refreshed = run(["refresh"], env_for(second, cache))
    assert refreshed.exit_code == 0
    assert said("user 'small-user'") in " ".join(refreshed.stderr.split())
    # back to the first account: the auth note says the same of the second one's state
    auth = login_as(standin, cache, monkeypatch)
    assert auth.exit_code == 0, auth.stderr
    assert said("second-user") in " ".join(auth.stderr.split())


def test_a_pick_greyed_out_for_one_account_is_not_hidden_from_another(standin, second, tmp_path):
    """An account's greyed-out picks (manifest ``not_playable``) are its own, as its removals
    are: after a login as another account they hid the same tracks from that account's playlist
    for 30 days, though they may play for it. They are now set aside with the first account's
    state and come back with it."""
    cache = tmp_path / "state"
    save_login(standin, cache)
    env = env_for(standin, cache)
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    [pid] = ours(standin)
    grey = standin.account.playlist_track_ids(pid)[0]
    standin.account.unplayable = [grey]
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    assert grey not in standin.account.playlist_track_ids(pid)
    save_login(second, cache)
    result = run(["build-playlist", "--quiet"], env_for(second, cache))
    assert result.exit_code == 0, result.stderr
    [theirs] = ours(second)
    assert grey in second.account.playlist_track_ids(theirs)  # plays for the second account: a pick there
    manifest = Store.from_settings(settings_for(second, cache)).read_manifest()
    assert "not_playable" not in manifest and grey in manifest["accounts"]["small-user"]["not_playable"]


def test_the_web_apps_pages_never_show_the_library_of_the_account_before_a_login(standin, second, tmp_path,
                                                                                 monkeypatch):
    """Review of the web app's one library read: its dry run handed the cached library to the
    pages as soon as it was read, before it knew the library was the login's account's. After a
    `recommend auth` as another account (a fresh cache of the first one), the dry run then
    refreshed and handed the second account's library, but a Moods page, a search or the Weights
    page's evaluation opened meanwhile had been built from the first one's, and kept showing its
    tracks until the next refresh. The library is handed over once its account is the login's."""
    from recommender import jobs, publish
    from recommender.web.context import WebContext
    cache = tmp_path / "state"
    save_login(standin, cache)
    assert run(["refresh", "--quiet"], env_for(standin, cache)).exit_code == 0
    save_login(second, cache)  # `recommend auth` as the second account: the cache is still the first's
    ctx = WebContext(settings_for(second, cache), config_file=tmp_path / "u.yaml")
    real_setup, evaluated = jobs.evaluation_setup, []

    def evaluation_setup(settings, library=None):  # None: it reads the cache itself
        evaluated.append(None if library is None else library.user_id)
        return real_setup(settings, library=library)
    monkeypatch.setattr(jobs, "evaluation_setup", evaluation_setup)
    real_state, asked = publish.managed_state, []

    def managed_state(*a, **kw):  # whose login it is: asked of the first one's cache, then of the refreshed one
        asked.append((ctx._cache.get("library"), list(evaluated)))  # what the pages hold, the evaluations made
        return real_state(*a, **kw)
    monkeypatch.setattr(publish, "managed_state", managed_state)
    ctx.weights_preview({"content": 1.0})
    assert len(asked) == 2 and all(library is None and not made for library, made in asked)
    ctx.sync_settings()  # the next page
    assert ctx.library().user_id == "second-user" and ctx.taste().user_id == "second-user"
    assert evaluated and set(evaluated) <= {None, "second-user"}


def test_a_build_that_pulls_twice_says_what_each_pull_had_to_recover(standin, tmp_path, monkeypatch):
    """A build pulls a second time when the managed playlist's check finds the library it has
    is another account's than the login's. A dry run's second pull took the cache's lock its
    first held (LockHeld: "this run already holds the lock"), and the basis kept only the second
    pull's warnings (a cache set aside by the first: gone) while it counted both pulls' requests.
    Both pulls saved the cache: the lock is taken once, what each had to recover is said."""
    from recommender import jobs, publish
    from recommender.errors import OtherAccount
    cache = tmp_path / "state"
    save_login(standin, cache)
    real_pull, pulls = jobs.pull, []

    def pull(*a, **kw):
        library, report = real_pull(*a, **kw)
        pulls.append(report.requests)
        report.warnings = [*report.warnings, f"pull {len(pulls)}'s warning"]
        return library, report
    real_state, checks = publish.managed_state, []

    def managed_state(*a, **kw):
        checks.append(1)
        if len(checks) == 1:  # the first pull's library found another account's
            raise OtherAccount("small-user", "second-user")
        return real_state(*a, **kw)
    monkeypatch.setattr(jobs, "pull", pull)
    monkeypatch.setattr(publish, "managed_state", managed_state)
    basis = jobs.dry_run_basis(settings_for(standin, cache))
    assert len(pulls) == 2 and basis.refreshed
    assert "pull 1's warning" in basis.warnings and "pull 2's warning" in basis.warnings
    assert basis.refresh_requests == sum(pulls)


def test_a_login_as_another_account_forgets_what_the_last_discovery_found_for_the_first(standin, second, tmp_path,
                                                                                         monkeypatch):
    """After `recommend auth` as another account, `recommend status` went on saying what the
    first account's last refresh had found new to it ("found 12 tracks new to you"), for an
    account whose library was not even pulled yet."""
    from recommender import jobs
    cache = tmp_path / "state"
    save_login(standin, cache)
    assert run(["build-playlist", "--quiet"], env_for(standin, cache)).exit_code == 0
    assert "discovery: the last refresh" in run(["status"], env_for(standin, cache)).stdout
    monkeypatch.setattr("recommender.spotify.auth.login", lambda settings, open_url=None, **kw: save_login(second, cache))
    assert jobs.login(settings_for(second, cache)).set_aside == "small-user"
    status = run(["status"], env_for(second, cache))
    assert status.exit_code == 0 and "discovery: none recorded yet" in status.stdout, status.stdout
    assert run(["build-playlist", "--quiet"], env_for(second, cache)).exit_code == 0
    assert "discovery: the last refresh" in run(["status"], env_for(second, cache)).stdout


def test_the_undo_of_a_removal_pins_again_only_a_pin_of_the_account_that_made_it(standin, second, tmp_path, monkeypatch):
    """The pins a removal in `recommend web` ended (manifest ``removed_pins``, which the removal's
    Undo pins again) stayed where they were when another account logged in: the second account's
    Undo of a removal of the same song pinned a track that account had never pinned, and its Undo
    emptied the first account's record, so the first one's Undo, once back, no longer pinned it."""
    from recommender import jobs

    from test_new_user_trial import login_as
    cache = tmp_path / "state"
    assert login_as(standin, cache, monkeypatch).exit_code == 0
    assert run(["build-playlist", "--quiet"], env_for(standin, cache)).exit_code == 0
    a_settings, b_settings = settings_for(standin, cache), settings_for(second, cache)
    [pid] = ours(standin)
    track = standin.account.playlist_track_ids(pid)[0]
    assert track in second.account.tracks  # a song both accounts have
    jobs.steer(a_settings, pin=[track])
    jobs.steer(a_settings, remove=[track])  # the first account removes its pin in the web app
    assert login_as(second, cache, monkeypatch).exit_code == 0
    assert run(["build-playlist", "--quiet"], env_for(second, cache)).exit_code == 0
    jobs.steer(b_settings, remove=[track])
    assert track not in jobs.steer(b_settings, restore=[track]).get("pin_requests", [])  # put back, not pinned
    assert login_as(standin, cache, monkeypatch).exit_code == 0
    assert track in jobs.steer(a_settings, restore=[track])["pin_requests"]  # the first account's pin, again


def test_a_discovery_the_first_account_left_stopped_is_not_said_of_the_next_ones_cache(standin, second, tmp_path, monkeypatch):
    """A refresh of the first account stopped during its discovery (Ctrl-C) leaves a mark that
    `recommend status` warns of until the next run finishes it. After `recommend auth` as another
    account, whose library no run had pulled yet, status still warned "the last refresh was stopped
    during its discovery" beside "no record of a refresh here". The mark goes with that cache."""
    from recommender.sources import run as sources_run

    from test_new_user_trial import login_as
    cache = tmp_path / "state"
    assert login_as(standin, cache, monkeypatch).exit_code == 0

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt
    with monkeypatch.context() as m:
        m.setattr(sources_run, "discover_open_data", stopped)
        assert run(["refresh", "--quiet"], env_for(standin, cache)).exit_code == 130
    status = json.loads(run(["status", "--offline", "--json"], env_for(standin, cache)).stdout)
    assert status["cache"]["discovery_unfinished"] is True  # the first account's: said
    assert login_as(second, cache, monkeypatch).exit_code == 0
    status = run(["status", "--offline"], env_for(second, cache))
    assert status.exit_code == 0 and "stopped during its discovery" not in status.stdout, status.stdout
    assert json.loads(run(["status", "--offline", "--json"], env_for(second, cache)).stdout)["cache"]["discovery_unfinished"] is False


def test_a_steer_from_a_page_opened_before_a_login_as_another_account_is_refused(standin, second, tmp_path, monkeypatch):
    """A Next page opened as the first account, then `recommend auth` as the second in a terminal:
    its remove, unpin or Undo was written into the second account's state (a track it never
    removed no longer recommended to it, the first one's removal lost). Refused now, saying to
    reload; the page reloaded steers the second account."""
    from recommender import jobs
    from recommender.errors import UsageError
    from recommender.web.context import WebContext

    from test_new_user_trial import login_as
    cache = tmp_path / "state"
    assert login_as(standin, cache, monkeypatch).exit_code == 0
    assert run(["build-playlist", "--quiet"], env_for(standin, cache)).exit_code == 0
    ctx = WebContext(settings_for(standin, cache), config_file=tmp_path / "u.yaml")
    page = ctx.account()  # what the Next page's forms send back
    track = standin.account.playlist_track_ids(ours(standin)[0])[0]
    assert login_as(second, cache, monkeypatch).exit_code == 0
    for action in ("remove", "unpin", "restore"):
        with pytest.raises(UsageError, match="another Spotify account .* reload the page"):
            ctx.steer(action, track, account=page)
    assert track not in Store(cache).read_manifest().get("user_removed", [])
    ctx.sync_settings()  # the page reloaded
    assert ctx.account() == "second-user" != page
    ctx.steer("remove", track, account=ctx.account())
    assert track in jobs.open_store(settings_for(second, cache)).read_manifest()["user_removed"]
