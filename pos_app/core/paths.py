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
    """The bundled resources: ``_internal/resources`` in the PyInstaller bundle, else the package data
    ``pos_app/resources`` (shipped in the wheel), found with :mod:`importlib.resources`."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    from importlib.resources import files

    return Path(str(files("pos_app").joinpath("resources")))
