"""Print a suite's counts in the pytest output (CI logs), whatever the capture mode."""

from __future__ import annotations

import pytest


def report_lines(request: pytest.FixtureRequest, lines: list[str]) -> None:
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:  # pragma: no cover - plugin disabled
        return
    if capture is not None:
        with capture.global_and_fixture_disabled():
            _write(reporter, lines)
    else:  # pragma: no cover
        _write(reporter, lines)


def _write(reporter: object, lines: list[str]) -> None:
    reporter.write_line("")  # type: ignore[attr-defined]
    for line in lines:
        reporter.write_line(line)  # type: ignore[attr-defined]
