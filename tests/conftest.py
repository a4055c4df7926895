"""Shared fixtures: an isolated data folder and a demo terminal context on its own sandbox."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Bench-only helpers (tests/bench/benchmarks.py: history templates, bench sales) used by the scale tests.
sys.path.insert(0, str(Path(__file__).resolve().parent / "bench"))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The smallest screen of the store terminals: one 1024x768 offscreen screen (Qt's offscreen
# platform reads its screens from a JSON config file). POS_TEST_SCREENS gives other layouts to a
# child run (tests/ui/test_other_screens.py): "1366x768", or "1024x768+800x600" for the cashier's
# monitor plus the customer's, side by side.
SCREENS = os.environ.get("POS_TEST_SCREENS") or "1024x768"
_SCREEN_CONFIG = Path(__file__).resolve().parents[1] / "test-artifacts" / f"offscreen-{SCREENS}.json"
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    import json as _json

    _screens, _x = [], 0
    for _i, _spec in enumerate(SCREENS.split("+")):
        _w, _h = (int(v) for v in _spec.split("x"))
        _screens.append(
            {"name": "caixa" if _i == 0 else f"cliente{_i}", "x": _x, "y": 0, "width": _w, "height": _h,
             "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
        )  # fmt: skip
        _x += _w
    _SCREEN_CONFIG.parent.mkdir(parents=True, exist_ok=True)
    _SCREEN_CONFIG.write_text(_json.dumps({"screens": _screens}))
    # Qt splits the platform arguments at ":": on Windows the drive's colon must not reach it (a path
    # from the root of the current drive instead; the suite runs from the checkout).
    _config = str(_SCREEN_CONFIG)
    if os.name == "nt":
        _drive, _rest = os.path.splitdrive(_config)
        _config = (
            _rest.replace("\\", "/") if _drive.upper() == os.path.splitdrive(os.getcwd())[0].upper() else ""
        )
    if _config:
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_config}"
os.environ.setdefault("POS_SECRETS", "arquivo")  # never touch the developer's real keyring


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "pos-data"
    monkeypatch.setenv("POS_DATA_DIR", str(path))
    monkeypatch.setenv("POS_SECRETS", "arquivo")
    return path


@pytest.fixture
def demo_ctx(data_dir: Path) -> Iterator[object]:
    """A demo terminal: seeded store + embedded sandbox on a free loopback port."""
    from pos_app.app import open_app

    ctx = open_app(data_dir)
    try:
        yield ctx
    finally:
        ctx.close()
