"""The benches that read the playlist data set take it as an argument: a checkout has no copy of
it, and no path of the developers' machine may stand in for it (README, Evaluation)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_quality_bench_without_data_says_to_give_it():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "quality.py"), "--protocol", "persona",
                           "--splits", "dev", "--no-anchors"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 2, proc.stdout[-500:] + proc.stderr[-500:]
    assert "--data" in proc.stderr


def test_no_bench_looks_for_the_data_set_beside_the_checkout():
    for name in ("quality.py", "build_sample.py", "search_speed.py"):
        source = (ROOT / "bench" / name).read_text(encoding="utf-8")
        assert '"shared"' not in source, name


def test_quality_bench_caps_set_the_persona_look_ups_and_name_the_keys():
    import pytest
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import quality
    finally:
        sys.path.remove(str(ROOT / "bench"))
    from recommender.persona import DiscoveryCaps
    caps = quality.parse_caps(["similar_artists_of=0", "top_recordings=10"])
    assert caps == DiscoveryCaps(similar_artists_of=0, top_recordings=10)
    assert quality.parse_caps([]) == DiscoveryCaps()
    with pytest.raises(SystemExit, match="the keys are .*similar_artists_of"):
        quality.parse_caps(["similar_artist=3"])
    # the shared albums follow --set refresh.discovery_shared_albums, a --caps over it
    from recommender.config import default_settings
    off = default_settings().with_overrides({"refresh.discovery_shared_albums": 0})
    assert quality.parse_caps([], off) == DiscoveryCaps(shared_albums=0)
    assert quality.parse_caps(["shared_albums=2"], off).shared_albums == 2


@pytest.mark.parametrize("diagnose", [[], ["--diagnose"]])
def test_quality_bench_on_a_file_too_small_for_a_persona_says_so(diagnose):
    """It stopped with a KeyError on 'p@10' (the CLI's `evaluate --protocol persona` said so already)."""
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "quality.py"), "--data",
                           str(ROOT / "tests" / "fixtures" / "tidy_small.csv"), "--protocol", "persona",
                           "--splits", "dev", *diagnose], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "no persona to evaluate" in proc.stderr and "10 playlists" in proc.stderr


def test_the_diagnosis_bands_targets_by_their_seeds_spread_over_artists():
    # `--diagnose`'s p@10 by spread (README, the personal-library benchmark): every target in
    # one band, a spread of exactly 1 (every seed its own artist) in the last, 0.2 in the first
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import quality
    finally:
        sys.path.remove(str(ROOT / "bench"))
    bands = quality._by_spread([(1.0, 0.2, 0.1), (0.9, 0.4, 0.3), (0.2, 0.9, 1.0), (0.5, 0.5, 0.5)])
    assert bands == {"0.0-0.2": {"targets": 1, "p@10": 0.9, "hidden_by_seed_artists": 1.0},
                     "0.4-0.6": {"targets": 1, "p@10": 0.5, "hidden_by_seed_artists": 0.5},
                     "0.8-1.0": {"targets": 2, "p@10": 0.3, "hidden_by_seed_artists": 0.2}}


def _quality():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import quality
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return quality


def test_the_paired_gain_resamples_personas_with_their_targets():
    # persona 0's two targets gain 0.1 each, persona 1's lose 0.1 and stay: over the targets the
    # gain is 0.025; a resample draws the personas whole, so its mean is 0.1 (persona 0 twice),
    # -0.05 (persona 1 twice) or 0.025, and the 95 % interval spans the first two
    quality = _quality()
    base = {(0, "a"): 0.3, (0, "b"): 0.2, (1, "c"): 0.5, (1, "d"): 0.4}
    variant = {(0, "a"): 0.4, (0, "b"): 0.3, (1, "c"): 0.4, (1, "d"): 0.4}
    g = quality.paired_gain(base, variant, resamples=2000, seed=0)
    assert g["gain"] == 0.025 and g["base"] == 0.35 and g["variant"] == 0.375
    assert g["interval_95"] == [-0.05, 0.1]
    assert (g["targets_gained"], g["targets_lost"]) == (2, 1)
    same = quality.paired_gain(base, dict(base))
    assert same["gain"] == 0 and same["interval_95"] == [0, 0] and same["targets_gained"] == same["targets_lost"] == 0
    with pytest.raises(ValueError, match="different targets"):
        quality.paired_gain(base, {**base, (2, "e"): 0.1})


def test_compare_is_for_the_persona_protocol_only_and_resamples_at_least_once(capsys):
    data = str(ROOT / "tests" / "fixtures" / "tidy_small.csv")
    for args in (["--compare", "scorers.year.weight=0"],
                 ["--protocol", "persona", "--compare", "scorers.year.weight=0", "--resamples", "0"]):
        with pytest.raises(SystemExit) as stop:
            _quality().main(["--data", data, *args])
        assert stop.value.code == 2  # a usage error, before the work (0 resamples: a traceback after it)
    err = capsys.readouterr().err
    assert "--compare needs --protocol persona" in err and "--resamples 0: at least 1" in err
