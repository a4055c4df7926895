"""Shared helpers of the in-process CLI tests of the back-office commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pos_app.cli import main


def module_data_dir(factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    """A data folder shared by one test module (POS_DATA_DIR, secrets in the encrypted file)."""
    path = factory.mktemp(name) / "pos-data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POS_DATA_DIR", str(path))
        mp.setenv("POS_SECRETS", "arquivo")
        yield path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    """Run ``pos-app ARGV``; stdout parsed as JSON when it is JSON."""
    code = main(list(argv))
    out = capsys.readouterr()
    try:
        data: Any = json.loads(out.out)
    except ValueError:
        data = out.out
    return code, data, out.err
