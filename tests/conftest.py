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
# platform reads its screens from a JSON config file).
_SCREEN_CONFIG = Path(__file__).resolve().parents[1] / "test-artifacts" / "offscreen-1024x768.json"
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    _SCREEN_CONFIG.parent.mkdir(parents=True, exist_ok=True)
    _SCREEN_CONFIG.write_text(
        '{"screens": [{"name": "caixa", "x": 0, "y": 0, "width": 1024, "height": 768, '
        '"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}'
    )
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
