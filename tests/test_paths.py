"""Where config and data live: shipped defaults, platform dirs, overrides, old checkout places."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender import paths
from recommender.config import load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_defaults_are_config_default_yaml():
    """One source: the package's default.yaml is the checkout's config/default.yaml."""
    shipped = paths.default_config_text()
    assert shipped == (ROOT / "config" / "default.yaml").read_text(encoding="utf-8")
    assert "blend:" in shipped


def test_pyproject_ships_the_defaults_and_is_not_named_like_the_other_project():
    text = (ROOT / "pyproject.toml").read_text()
    assert f'name = "{paths.DISTRIBUTION}"' in text
    assert paths.DISTRIBUTION != "recommend"
    assert '"default.yaml"' in text


def test_no_install_hint_names_the_other_project():
    """`pip install recommend...` installs an unrelated package from the index."""
    offenders = [str(p.relative_to(ROOT)) for p in [*ROOT.joinpath("recommender").rglob("*.py"), ROOT / "README.md"]
                 if "pip install 'recommend[" in p.read_text(encoding="utf-8")
                 or "pip install recommend " in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_defaults_follow_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert paths.user_config_file() == tmp_path / "cfg" / "recommend" / "config.yaml"
    s = load_settings(environ={})
    assert s.user_file is None
    assert s.cache_dir == tmp_path / "state" / "recommend"
    (tmp_path / "cfg" / "recommend").mkdir(parents=True)
    (tmp_path / "cfg" / "recommend" / "config.yaml").write_text("blend:\n  max_tracks: 33\n")
    s = load_settings(environ={})
    assert s.user_file == tmp_path / "cfg" / "recommend" / "config.yaml"
    assert s.blend.max_tracks == 33


def test_environment_and_flag_override_the_config_file(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("blend:\n  max_tracks: 11\n")
    b.write_text("blend:\n  max_tracks: 22\n")
    s = load_settings(environ={"RECOMMENDER_CONFIG": str(a), "RECOMMENDER_CACHE_DIR": str(tmp_path / "c")})
    assert (s.user_file, s.blend.max_tracks, s.cache_dir) == (a, 11, tmp_path / "c")
    assert load_settings(b, environ={"RECOMMENDER_CONFIG": str(a)}).blend.max_tracks == 22
    with pytest.raises(Exception, match="nope.yaml: file not found"):
        load_settings(environ={"RECOMMENDER_CONFIG": str(tmp_path / "nope.yaml")})


def make_checkout(root: Path, user_config: bool = True, used_cache: bool = True) -> Path:
    (root / "recommender").mkdir(parents=True)
    (root / "recommender" / "paths.py").write_text("")
    (root / "config").mkdir()
    (root / "config" / "default.yaml").write_text("")
    (root / "pyproject.toml").write_text("")
    (root / "cache").mkdir()
    (root / "cache" / ".gitkeep").write_text("")
    if user_config:
        (root / "config" / "user.yaml").write_text("blend:\n  max_tracks: 17\n")
    if used_cache:
        (root / "cache" / "manifest.json").write_text("{}")
    return root


def test_an_old_checkout_config_and_cache_are_still_found(tmp_path, monkeypatch):
    old = make_checkout(tmp_path / "src")
    monkeypatch.setattr(paths, "checkout_roots", lambda cwd=None: [old])
    s = load_settings(environ={})
    assert s.user_file == old / "config" / "user.yaml" and s.blend.max_tracks == 17
    assert s.cache_dir == old / "cache"
    assert paths.legacy_places() == paths.Legacy(old / "config" / "user.yaml", old / "cache")


def test_a_fresh_checkout_cache_is_not_used(tmp_path, monkeypatch):
    old = make_checkout(tmp_path / "src", user_config=False, used_cache=False)
    monkeypatch.setattr(paths, "checkout_roots", lambda cwd=None: [old])
    assert paths.legacy_places() == paths.Legacy(None, None)
    assert load_settings(environ={}).cache_dir == paths.user_data_dir()


def test_the_new_places_win_over_the_old_ones(tmp_path, monkeypatch):
    old = make_checkout(tmp_path / "src")
    monkeypatch.setattr(paths, "checkout_roots", lambda cwd=None: [old])
    paths.user_config_file().parent.mkdir(parents=True)
    paths.user_config_file().write_text("")
    paths.user_data_dir().mkdir(parents=True)
    (paths.user_data_dir() / "spotify-token.json").write_text("{}")
    assert paths.legacy_places() == paths.Legacy(None, None)


def test_checkout_roots_recognises_this_checkout(monkeypatch):
    monkeypatch.undo()  # the autouse fixture hides checkouts from every other test
    assert ROOT in paths.checkout_roots(cwd=ROOT)
    assert paths.checkout_roots(cwd=Path("/")) in ([], [ROOT])
