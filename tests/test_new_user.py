"""Tried as a new user would: what broke when following README.md from an installed wheel,
each test against the local stand-ins (127.0.0.1) only."""

from __future__ import annotations

import json

import pytest

from spotify_helpers import save_login
from test_cli import env_for, run


@pytest.fixture
def logged_in(standin, tmp_path):
    cache = tmp_path / "cache"
    save_login(standin, cache)
    return standin, env_for(standin, cache), cache


def test_did_you_mean_shows_invisible_characters_and_the_id(logged_in):
    # `--seed-playlist Crossfit` on the demo said: did you mean "Crossfit​​   ‍"? (zero-width
    # characters printed raw: the hint could be neither seen nor typed back)
    server, env, _ = logged_in
    first = server.account.playlists[0]
    first["name"] = "Road\u200bTrip\u200d"
    assert run(["refresh", "--quiet"], env).exit_code == 0
    result = run(["build-playlist", "--dry-run", "--seed-playlist", "roadtrip"], env)
    assert result.exit_code == 2
    assert "\u200b" not in result.stderr and "\u200d" not in result.stderr
    assert '"Road\\u200bTrip\\u200d"' in result.stderr and f"(id {first['id']})" in result.stderr
    assert run(["build-playlist", "--dry-run", "--seed-playlist", first["id"]], env).exit_code == 0
