"""One Spotify account, two computers (a laptop by hand, a home server's cron job): each has its
own data directory, both write the one managed playlist. Against one stand-in over real HTTP.

What must hold: the second computer finds the playlist (no duplicate); a replace by the other
computer is never taken for the user's edits (its dropped tracks are not banned forever, its
picks not pinned, a removal it undid stays a removal); the user's real edits still count.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from recommender import isotime, publish

from spotify_helpers import add_by_hand, remove_by_hand
from test_publish import WEIGHTS, Env, small_ids


@pytest.fixture
def clock(monkeypatch):
    """A clock moved by hand: a write's ``added_at`` (whole seconds) follows it."""
    now = [datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)]
    monkeypatch.setattr(isotime, "_clock", lambda: now[0])

    def tick(minutes: float = 30) -> None:
        now[0] += timedelta(minutes=minutes)
    return tick


@pytest.fixture
def machines(standin, tmp_path, clock):
    return Env(standin, tmp_path / "laptop"), Env(standin, tmp_path / "server"), clock


def user_removes(env: Env, pid: str, track: str) -> None:
    remove_by_hand(env.gateway, pid, [track])


def user_adds(env: Env, pid: str, track: str) -> None:
    add_by_hand(env.gateway, pid, [track])


def test_the_second_computer_adopts_the_playlist_instead_of_making_another(machines):
    a, b, tick = machines
    tracks = small_ids(a.server)
    pid = a.run(tracks[:6]).playlist_id
    tick()
    result = b.run(tracks[2:8])
    assert result.playlist_id == pid and not result.created
    assert len(a.ours()) == 1 and a.content(pid) == tracks[2:8]


def test_a_replace_by_the_other_computer_is_not_taken_for_the_users_edits(machines):
    a, b, tick = machines
    tracks = small_ids(a.server)
    pid = a.run(tracks[:6]).playlist_id
    tick()
    user_removes(a, pid, tracks[2])                   # the user removes one: the laptop learns it
    state = a.state()
    assert state.user_removed == [tracks[2]]
    publish.publish(a.gateway, a.store, a.settings, state, tracks[:2] + tracks[3:7], WEIGHTS)
    tick()
    user_adds(a, pid, tracks[20])                     # and adds one by hand: the laptop pins it
    state = a.state()
    assert state.pinned == [tracks[20]]
    publish.publish(a.gateway, a.store, a.settings, state, [tracks[20]] + tracks[:2] + tracks[3:7], WEIGHTS)
    tick()
    b.run(tracks[2:5] + tracks[8:11])                 # the server (never ran) writes its own list,
    tick()                                            # with the removed track back, without the pin
    state = a.state()
    assert any("rewritten" in m and "one computer" in m for m in state.messages)
    assert state.user_removed == [tracks[2]]          # still removed; nothing the server dropped is banned
    assert state.pinned == [tracks[20]]               # the pin stays; the server's picks are not "added by hand"
    desired = state.pinned + tracks[:2] + tracks[3:7]
    result = publish.publish(a.gateway, a.store, a.settings, state, desired, WEIGHTS)
    assert a.content(pid) == desired
    assert a.state().messages == []                   # its own write verified: quiet again
    assert a.store.read_manifest()["user_removed"] == [tracks[2]] and result.written


def test_the_users_edits_after_the_other_computers_write_still_count(machines):
    a, b, tick = machines
    tracks = small_ids(a.server)
    pid = a.run(tracks[:6]).playlist_id
    tick()
    b.run(tracks[:6])                                 # same list: nothing written, nothing inferred
    assert b.state().messages == [] and b.state().user_removed == []
    tick()
    user_removes(b, pid, tracks[1])
    user_adds(b, pid, tracks[20])
    for env in (a, b):                                # each computer sees the user's own edits
        state = env.state()
        assert state.user_removed == [tracks[1]] and state.pinned == [tracks[20]], env.store
        assert state.messages == []


def test_a_replace_by_the_other_computer_while_we_score_is_not_taken_for_edits(machines):
    a, b, tick = machines
    tracks = small_ids(a.server)
    pid = a.run(tracks[:6]).playlist_id
    tick()
    state = a.state()                                 # the laptop reads, then scores...
    b.run(tracks[4:10])                               # ...while the server's cron job writes
    tick()
    result = publish.publish(a.gateway, a.store, a.settings, state, tracks[:3] + tracks[12:15], WEIGHTS)
    assert a.content(pid) == tracks[:3] + tracks[12:15]
    assert any("rewritten" in m for m in result.messages)
    again = a.state()
    assert again.user_removed == [] and again.pinned == [] and again.messages == []


def test_a_playlist_the_tool_wrote_on_the_other_computer_is_never_taste(standin, tmp_path, monkeypatch):
    """A mood playlist exported on the laptop is not in the server's data directory: its marker
    says it is the tool's output all the same (the feedback loop: our picks as the user's taste)."""
    from recommender import jobs, pipeline

    from spotify_helpers import gateway_for, save_login, settings_for
    tracks = small_ids(standin)
    laptop = Env(standin, tmp_path / "laptop")
    mood = laptop.gateway.create_playlist("recommend: happy", False, f"Mood cluster of x. {publish.MARKER}")
    laptop.gateway.replace_items(mood["id"], [publish.uri(t) for t in tracks[:5]])

    settings = settings_for(standin, tmp_path / "server")
    save_login(standin, tmp_path / "server")
    seen: list[set] = []
    real = pipeline.candidate_scoring  # a build's seeds and candidates: what it scores

    def spy(library, *args, **kwargs):
        seen.append(set(library.playlists["playlist_id"]))
        return real(library, *args, **kwargs)
    monkeypatch.setattr(pipeline, "candidate_scoring", spy)
    jobs.build_playlist(settings, gateway=gateway_for(settings))
    assert seen and mood["id"] not in seen[0]
    assert mood["id"] not in set(jobs.taste_library(settings).playlists["playlist_id"])
    assert mood["id"] in set(jobs.require_library(settings).playlists["playlist_id"])  # cached all the same


def test_a_mood_playlist_rewritten_by_the_other_computer_is_named_in_the_note(machines):
    a, b, tick = machines
    tracks = small_ids(a.server)
    name = "recommend: happy"

    def export(env: Env, desired: list[str]) -> publish.PublishResult:
        state = publish.managed_state(env.gateway, env.store, env.settings, "small-user", name=name, slot="happy")
        return publish.publish(env.gateway, env.store, env.settings, state, desired, {}, text="Mood cluster.")
    pid = export(a, tracks[:5]).playlist_id
    tick()
    assert export(b, tracks[3:8]).playlist_id == pid   # adopted by name and marker: no second one
    tick()
    state = publish.managed_state(a.gateway, a.store, a.settings, "small-user", name=name, slot="happy")
    assert state.user_removed == [] and state.pinned == []
    assert [m for m in state.messages if m.startswith(f"the playlist {name!r} was rewritten")]


def test_a_track_removed_and_added_back_by_hand_is_no_rewrite_by_another_computer(machines):
    # found by a new user's trial: removing a track by hand and adding it back (a slip, or to
    # move it) gave that one entry a new date, which was taken for another computer's replace:
    # the run said the playlist "was rewritten ... by another computer" and forgot the user's
    # other removal of that day, so the removed track could come back
    a, _, tick = machines
    tracks = small_ids(a.server)
    pid = a.run(tracks[:6]).playlist_id
    tick()
    user_removes(a, pid, tracks[2])
    user_removes(a, pid, tracks[3])
    tick()
    user_adds(a, pid, tracks[3])
    state = a.state()
    assert not any("rewritten" in m for m in state.messages), state.messages
    assert state.user_removed == [tracks[2]] and state.pinned == []
    result = a.run(tracks[:2] + tracks[3:7])
    assert not any("rewritten" in m for m in result.messages)
    assert tracks[2] not in a.content(pid) and a.store.read_manifest()["user_removed"] == [tracks[2]]


def test_a_playlist_found_by_name_and_marker_is_said_so_not_said_to_be_made_anew(machines):
    """The second computer's first run found the managed playlist the first one made, and said
    nothing of it (only the log did). Once the user had unfollowed it and the second computer
    had made another, the first computer's note said "a new one will be created" and then
    wrote to the second computer's playlist, which it had found. Each run now says which
    playlist it found and that it updates it."""
    a, b, tick = machines
    tracks = small_ids(a.server)
    pid = a.run(tracks[:6]).playlist_id
    tick()
    first = b.run(tracks[2:8])
    assert first.playlist_id == pid
    (found,) = [m for m in first.messages if m.startswith("found the managed playlist")]
    assert f"({pid}) in your playlists" in found and "updated, not a new one made" in found
    assert not [m for m in b.run(tracks[2:8]).messages if "found the" in m]  # remembered from then on
    a.server.account.playlist(pid)["followed"] = False  # the user unfollows it
    tick()
    made = b.run(tracks[:4])
    assert made.created and "a new one will be created" in " ".join(made.messages)
    tick()
    result = a.run(tracks[1:5])
    assert result.playlist_id == made.playlist_id and not result.created
    (note,) = [m for m in result.messages if "no longer in your playlists" in m]
    assert "a new one will be created" not in note and "found the managed playlist" in note
    assert f"({made.playlist_id}) in your playlists" in note


def test_the_second_computers_first_run_keeps_a_track_added_by_hand_after_the_first_ones_write(machines):
    """The second computer took the whole playlist it adopted for the tool's last write, so its
    first run dropped a track the user had added by hand in Spotify since: the user's add, gone.
    Entries stamped after the write that put the rest there are adds by hand, kept and pinned."""
    a, b, tick = machines
    tracks = small_ids(a.server)
    pid = a.run(tracks[:6]).playlist_id
    tick()
    user_adds(a, pid, tracks[20])
    tick()
    state = b.state()
    assert state.pinned == [tracks[20]]
    assert "1 track added to it after recommend last wrote it is kept, as added by you" in state.messages
    result = publish.publish(b.gateway, b.store, b.settings, state, state.pinned + tracks[2:8], WEIGHTS)
    assert a.content(pid) == [tracks[20]] + tracks[2:8] and result.playlist_id == pid
    tick()
    assert b.state().pinned == [tracks[20]] and b.state().messages == []  # remembered as a pin from then on


def test_an_adopted_playlist_of_one_write_pins_nothing(machines):
    a, b, tick = machines
    tracks = small_ids(a.server)
    a.run(tracks[:6])
    tick()
    state = b.state()
    assert state.pinned == [] and not [m for m in state.messages if "as added by you" in m]


def test_added_after_last_write_tells_a_write_from_later_adds():
    at = lambda minute, second=0: f"2026-11-30T07:{minute:02d}:{second:02d}Z"  # noqa: E731
    write = {f"t{i}": at(0, i // 3) for i in range(9)}  # one run: a replace, then adds, seconds apart
    assert publish.added_after_last_write({**write, "x": at(30), "y": at(45)}, [*write, "x", "y"]) == ["x", "y"]
    assert publish.added_after_last_write({**write, "x": at(0, 50)}, [*write, "x"]) == []  # within the write
    assert publish.added_after_last_write({**write, "x": "?"}, [*write, "x"]) == []  # an unreadable stamp
    assert publish.added_after_last_write({"a": at(0), "b": at(30)}, ["a", "b"]) == ["b"]  # alike: the earlier is the write
    many = {f"t{i}": at(0) for i in range(101)}
    assert publish.added_after_last_write({**many, "x": at(30)}, [*many, "x"]) == []  # over 100: runs may only add


def test_a_replace_by_the_other_computer_after_a_killed_run_here_is_not_taken_for_removals(machines):
    """A run here killed (or stopped) while writing leaves its list unfinished; the other
    computer's cron job then replaces the playlist. Its dropped tracks were taken for your
    removals, banned for good: a removal is told after a stopped run only while the playlist
    holds no track of another's write."""
    a, b, tick = machines
    tracks = small_ids(a.server)
    a.run(tracks[:6])
    tick()
    a.store.update_manifest(managed_playlist={**a.managed(), "pending": tracks[:8]})  # kill -9: nothing written
    tick()
    b.run(tracks[4:10])  # drops tracks[:4]
    tick()
    assert not set(a.state().user_removed) & set(tracks[:4])
