"""Where data and bundled resources live."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """``POS_DATA_DIR`` when set, else the platform's per-user data folder."""
    env = os.environ.get("POS_DATA_DIR")
    path = Path(env) if env else Path(platformdirs.user_data_dir("pos-app", "PosApp"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def resources_dir() -> Path:
    """The ``resources/`` folder: inside the PyInstaller bundle or next to the package."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"
