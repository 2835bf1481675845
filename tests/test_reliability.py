"""What an unattended run survives (issue 10): each test backs a line of README's Reliability section."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.standins.spotify import Fault

from spotify_helpers import save_login

runner = CliRunner()


def env_for(server, cache: Path) -> dict[str, str]:
    return {"RECOMMENDER_SPOTIFY_API_URL": server.api_url, "RECOMMENDER_SPOTIFY_ACCOUNTS_URL": server.accounts_url,
            "SPOTIPY_CLIENT_ID": "test-client", "RECOMMENDER_CACHE_DIR": str(cache), "SPOTIPY_CLIENT_SECRET": ""}


def run(args: list[str], env: dict[str, str]):
    return runner.invoke(app, args, env=env, catch_exceptions=False)


def runs_of(cache: Path) -> list[dict]:
    path = cache / "runs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def logged_in(standin, tmp_path):
    cache = tmp_path / "cache"
    save_login(standin, cache)
    return standin, env_for(standin, cache), cache


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ----- logs --------------------------------------------------------------------------------
def test_rotated_logs_are_private(tmp_path):
    from recommender.runlog import setup_logging, teardown_logging
    old = tmp_path / "recommend.log.1"
    old.write_text("from an older version\n")
    old.chmod(0o644)
    path = setup_logging(tmp_path, max_bytes=300, backups=2, quiet=True)
    try:
        for i in range(30):
            logging.getLogger("recommender.test").info("line %d %s", i, "y " * 20)
    finally:
        teardown_logging()
    files = sorted(tmp_path.glob("recommend.log*"))
    assert len(files) == 3
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}


def test_a_long_token_cut_by_the_cap_is_not_half_logged():
    from recommender.runlog import MAX_MESSAGE_CHARS, cap, redact
    token = "SA" + "k" * 150
    text = "a" * (MAX_MESSAGE_CHARS - 40) + " " + token
    out = redact(cap(text))
    assert "kkkk" not in out and "more characters not logged" in out
