"""kill -9 during emission and during replay, at every named point; after a restart and one sync:
no sale lost, no number used twice, exactly one authorized note per sale (see crash_harness.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from crash_harness import SCENARIOS, CrashHarness

from pos_app.core.services.crashpoints import POINTS

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "contingency"


@pytest.mark.slow
def test_crash_harness_every_kill_point(
    terminal_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    harness = CrashHarness(terminal_template, tmp_path)
    for scenario in SCENARIOS:
        harness.run(scenario)
    summary = harness.summary()
    with capsys.disabled():  # the counts are part of the result: always shown
        print("\n" + summary)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "crash_harness.txt").write_text(summary + "\n", encoding="utf-8")
    covered = {s.point for s in SCENARIOS}
    assert covered >= set(POINTS) | {"during_send"}, set(POINTS) - covered
    assert len(harness.results) == len(SCENARIOS)


def test_external_kill_while_sending_on_this_os(terminal_template: Path, tmp_path: Path) -> None:
    """The one external kill (not slow, so it runs in the Windows check too): the harness recognises
    the exit code of a killed child on this OS (-9 on POSIX, 1 from TerminateProcess on Windows) and
    the sale survives the restart."""
    from crash_harness import KILLED

    scenario = next(s for s in SCENARIOS if s.point == "during_send")
    result = CrashHarness(terminal_template, tmp_path).run(scenario)
    assert result.returncode == KILLED
    assert result.counts.get("vendas") == 1
