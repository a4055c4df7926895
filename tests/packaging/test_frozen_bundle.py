"""The frozen program (PyInstaller bundle in dist/pos-app/) works with no configuration at all.

Runs only when the bundle exists (``python packaging/build.py`` or ``packaging/smoke.sh`` makes it);
otherwise every test here skips and says so. The checks are those of packaging/smoke.py, which the
Windows workflow also runs on the installed program. Whatever bundle is in dist/ is tested: rebuild
it after changing the code.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_smoke() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pos_app_packaging_smoke", ROOT / "packaging" / "smoke.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


smoke = _load_smoke()
EXE: Path = smoke.DEFAULT_EXE


@pytest.fixture(scope="module", autouse=True)
def bundle() -> Path:
    """The frozen program; in CI (``CI`` set) or with ``POS_BUILD_BUNDLE=1`` it is built first."""
    wants_build = bool(os.environ.get("CI") or os.environ.get("POS_BUILD_BUNDLE"))
    if wants_build and not EXE.is_file():
        if importlib.util.find_spec("PyInstaller") is None:
            pytest.skip("PyInstaller não instalado: pip install -e '.[build]'")
        subprocess.run(
            [sys.executable, str(ROOT / "packaging" / "build.py")], check=True, timeout=1200, cwd=ROOT
        )
    if not EXE.is_file():
        pytest.skip(
            f"pacote congelado ausente ({EXE.relative_to(ROOT)}): gere com `python packaging/build.py` "
            "(ou rode os testes com POS_BUILD_BUNDLE=1)"
        )
    return EXE


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh data folder shared by the tests below, in order: first start seeds the demo."""
    return smoke.smoke_env(tmp_path_factory.mktemp("frozen") / "dados")


def test_frozen_program_reports_the_version_of_pyproject(env: dict[str, str]) -> None:
    assert smoke.check_version(EXE, env, smoke.project_version()) == f"pos-app {smoke.project_version()}"


def test_first_start_seeds_the_demo_catalog_without_configuration(env: dict[str, str]) -> None:
    products = smoke.check_catalog(EXE, env)
    assert len(products) >= 10


def test_headless_demo_sale_is_authorized_by_the_embedded_sandbox(env: dict[str, str]) -> None:
    sale = smoke.check_sell(EXE, env)
    assert sale["status"] == "autorizado"
    assert sale["contingencia"] is False


def test_doctor_finds_no_error_and_reads_the_demo_certificate(env: dict[str, str]) -> None:
    checks = smoke.check_doctor(EXE, env)
    assert any("Certificado" in c["nome"] and c["nivel"] == "ok" for c in checks)


def test_secrets_go_to_the_encrypted_file_when_asked(env: dict[str, str]) -> None:
    assert smoke.check_secrets(EXE, env, "arquivo-criptografado") == "arquivo-criptografado"


def test_frozen_program_opens_the_login_window(env: dict[str, str]) -> None:
    seconds, problem = smoke.first_window_once(EXE, env)
    assert seconds is not None, f"a janela de login não abriu: {problem}"


def test_bundle_is_within_the_size_limit() -> None:
    size_mb = smoke.bundle_size(EXE) / 1e6
    assert size_mb <= smoke.SIZE_LIMIT_MB, f"pacote com {size_mb:.0f} MB"
