"""The benches that read the playlist data set take it as an argument: a checkout has no copy of
it, and no path of the developers' machine may stand in for it (README, Evaluation)."""

import subprocess
import sys
from pathlib import Path

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
