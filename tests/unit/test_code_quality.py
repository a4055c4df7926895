"""The architecture contracts and linters run with the suite (the CI runs the suite)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    # Linux venv: bin/<name>; Windows: Scripts\<name>.exe beside python.exe (or inside a venv's Scripts)
    for path in (BIN / name, BIN / f"{name}.exe", BIN / "Scripts" / f"{name}.exe"):
        if path.exists():
            return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} não instalado: pip install -e '.[test]'")
    return found


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    """``ruff check`` (rules in pyproject.toml) over the code and the tests."""
    proc = _run(_tool("ruff"), "check", "--no-cache", "pos_app", "tests")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_code_is_formatted() -> None:
    """``ruff format --check`` (same pinned ruff as the check): the code keeps one layout."""
    proc = _run(_tool("ruff"), "format", "--check", "--no-cache", ".")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_mypy_finds_nothing() -> None:
    """``mypy`` over ``pos_app`` (configuration in pyproject.toml: check_untyped_defs, unused ignores)."""
    proc = _run(sys.executable, "-m", "mypy")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "Success" in proc.stdout


def test_import_contracts_hold() -> None:
    """core never imports the demo, sandbox, UI or Qt; the UI has no SQL layer; CLI modules independent."""
    proc = _run(_tool("lint-imports"), "--no-cache")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "broken" not in proc.stdout.split("Contracts:")[-1] or " 0 broken" in proc.stdout


def test_ui_and_cli_run_no_raw_sql() -> None:
    """Queries live in services and repositories: no ``.database`` access or SQL text in the UI/CLI."""
    sql = re.compile(r"""\.database\b|["'](SELECT|INSERT|UPDATE|DELETE)\s""")
    offenders = []
    for folder in ("pos_app/ui", "pos_app/cli"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if sql.search(line.split("#", 1)[0]):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_ui_and_cli_write_no_audit_entries_themselves() -> None:
    """Audit entries are written by the services that do the action."""
    offenders = [
        f"{path.relative_to(ROOT)}: {m.group(0)}"
        for folder in ("pos_app/ui", "pos_app/cli")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for m in re.finditer(r"AuditLog\([^)]*\)\.record\(", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
