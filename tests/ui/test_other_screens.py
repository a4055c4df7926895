"""The counter on other screens than the 1024x768 of the suite, each in a child run (Qt reads its offscreen
screens once per process): the same fit checks at 1366x768 and 1280x1024 (the other common terminal
monitors), and the customer display on a second monitor beside the cashier's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

ROOT = Path(__file__).resolve().parents[2]

RUNS = [
    ("1366x768", "tests/ui/test_screen_1024.py", 20),
    ("1280x1024", "tests/ui/test_screen_1024.py", 20),
    ("1024x768+800x600", "tests/ui/test_customer_display.py", 2),
]


@pytest.mark.parametrize(("screens", "tests", "at_least"), RUNS, ids=[r[0] for r in RUNS])
def test_counter_on_other_screens(screens: str, tests: str, at_least: int) -> None:
    env = {**os.environ, "POS_TEST_SCREENS": screens, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("POS_DATA_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", tests, "-q", "-rs", "-p", "no:cacheprovider", "-o", "addopts="],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    summary = [line for line in out.splitlines() if " passed" in line][-1]
    passed = int(summary.split(" passed")[0].split()[-1])
    assert passed >= at_least and "skipped" not in summary, summary  # every check ran on that screen
