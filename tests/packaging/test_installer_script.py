"""The Windows installer script, the frozen bundle and the Windows workflow agree with each other.

Neither Inno Setup nor the Windows runner exist on Linux; these checks catch the drift that would
only show up there (a renamed executable, a mutex name out of sync, a changed AppId).
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ISS_PATH = ROOT / "packaging" / "windows" / "pos-app.iss"
ISS = ISS_PATH.read_text(encoding="utf-8-sig")
SPEC = (ROOT / "packaging" / "pos-app.spec").read_text(encoding="utf-8")
RTHOOK = (ROOT / "packaging" / "rthooks" / "pyi_rth_pos_app.py").read_text(encoding="utf-8")
WORKFLOW = (ROOT / ".github" / "workflows" / "windows.yml").read_text(encoding="utf-8")
BUILD = (ROOT / "packaging" / "build.py").read_text(encoding="utf-8")


def _define(name: str) -> str:
    match = re.search(rf'^#define {name} "([^"]*)"', ISS, re.M)
    assert match, f"#define {name} ausente do pos-app.iss"
    return match.group(1)


def test_app_id_never_changes_so_upgrades_find_the_previous_install() -> None:
    assert "AppId={{42DC89B4-128A-4F89-BFEE-BA9708AF9DE6}" in ISS


def test_installer_script_is_utf8_with_bom_because_iscc_reads_other_files_as_ansi() -> None:
    assert ISS_PATH.read_bytes().startswith(b"\xef\xbb\xbf")


def test_installer_waits_for_the_same_mutex_the_frozen_program_holds() -> None:
    module = ast.parse(RTHOOK)
    names = next(
        ast.literal_eval(node.value)
        for node in module.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MUTEX_NAMES"
    )
    assert _define("RunningMutex").split(",") == list(names)
    assert "AppMutex={#RunningMutex}" in ISS


def test_shortcuts_point_to_executables_the_spec_builds() -> None:
    built = set(re.findall(r'name="([^"]+)",\s*\n\s*console=', SPEC))
    assert {"pos-app", "pos-app-gui"} <= built
    assert _define("GuiExe") == "pos-app-gui.exe"
    assert _define("CliExe") == "pos-app.exe"


def test_installer_never_deletes_the_data_folder() -> None:
    code = "\n".join(line for line in ISS.splitlines() if not line.lstrip().startswith((";", "//")))
    assert "[UninstallDelete]" not in code
    deletes = re.findall(r"^Type: filesandordirs; Name: \"([^\"]+)\"", code, re.M)
    assert deletes == ["{app}\\_internal"]
    assert "localappdata" not in code.lower() and "userappdata" not in code.lower()


def test_installer_name_matches_what_build_py_and_the_workflow_expect() -> None:
    assert "OutputBaseFilename=pos-app-{#AppVersion}-setup" in ISS
    assert 'f"pos-app-{version}-setup.exe"' in BUILD
    assert "dist/pos-app-*-setup.exe" in WORKFLOW
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert re.fullmatch(r"\d+(\.\d+){0,3}([a-z]+\d*)?", version)


def test_workflow_smoke_sells_and_expects_autorizado_from_the_installed_program() -> None:
    assert "pos-app sell --item 1001 --pay dinheiro:50 --json" in WORKFLOW
    assert "'autorizado'" in WORKFLOW
    assert "/VERYSILENT" in WORKFLOW and "/SUPPRESSMSGBOXES" in WORKFLOW
