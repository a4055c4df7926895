"""Build the frozen pos-app for this OS: a PyInstaller one-folder bundle in ``dist/pos-app/``.

    python packaging/build.py                 # bundle, checks, size
    python packaging/build.py --installer     # Windows: also the Inno Setup installer in dist/

Reproducible: the version comes from pyproject.toml, ``SOURCE_DATE_EPOCH`` (default: time of the
last git commit) stamps the Windows executables and every file of the bundle, ``PYTHONHASHSEED=0``
makes the bytecode archive stable, and the build starts from a clean work folder.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "pos-app.spec"
ISS = ROOT / "packaging" / "windows" / "pos-app.iss"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
BUNDLE = DIST / "pos-app"
IS_WIN = sys.platform == "win32"
EXE_SUFFIX = ".exe" if IS_WIN else ""

SIZE_LIMIT_MB = 250  # issue 7: at most 250 MB, aim for 150

# Modules the frozen program must carry although nothing imports them at the top (lazy imports,
# plugins found through entry points, platform backends). Checked in the bytecode archive.
REQUIRED_MODULES = [
    "pos_app.cli",
    "pos_app.cli.main",
    "pos_app.app",
    "pos_app.demo",
    "pos_app.ui.app",
    "pos_app.sandbox.server",
    "pos_app.core.services.context",
    "pos_app.core.services.doctor",
    "pos_app.core.fiscal.certificate",
    "pos_app.core.printing.pdf",
    "keyring.backends.Windows",
    "keyring.backends.macOS",
    "keyring.backends.SecretService",
    "keyring.backends.chainer",
    "keyring.backends.fail",
    "escpos.printer",
    "escpos.capabilities",
    "usb.core",
    "serial",
    "sqlite_utils",
    "tzdata",
    "cryptography.fernet",
    "cryptography.hazmat.primitives.serialization.pkcs12",
    "httpx",
    "certifi",
    "platformdirs",
    "reportlab.pdfgen.canvas",
    "qrcode",
    "lxml",
    "PySide6",
]
if IS_WIN:  # Credential Manager backend; raw printing to a Windows printer queue (pywin32)
    REQUIRED_MODULES += [
        "win32ctypes.pywin32.win32cred",
        "win32print",
        "libusb_package",
        "usb.backend.libusb1",
    ]
REQUIRED_FILES = [
    "_internal/resources/demo_catalog.csv",
    "_internal/resources/demo_catalog_sp.csv",
    "_internal/resources/demo_tax_groups.csv",
    "_internal/resources/demo_catalog_tax.csv",
    "_internal/resources/fiscal/cclasstrib.csv",
    "_internal/resources/fiscal/ibs_cbs_aliquotas.csv",
    "_internal/resources/fiscal/ibs_cbs_obrigatoriedade.csv",
    "_internal/resources/fonts/DejaVuSans.ttf",
    "_internal/resources/fonts/DejaVuSans-Bold.ttf",
    "_internal/resources/fonts/DejaVuSansMono.ttf",
    "_internal/resources/fonts/DejaVuSansMono-Bold.ttf",
    "_internal/certifi/cacert.pem",
    "_internal/escpos/capabilities.json",
]
if IS_WIN:  # USB receipt printers (pyusb backend), where libusb_package.find_library looks
    REQUIRED_FILES += ["_internal/libusb_package/libusb-1.0.dll"]
# Qt modules that must never ship (unless pos_app starts importing them: see the spec).
FORBIDDEN_QT = ("QtWebEngine", "QtQml", "QtQuick", "Qt3D", "QtMultimedia", "QtDesigner", "QtCharts")


def project_version() -> str:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    init = (ROOT / "pos_app" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', init, re.M)
    if not match or match.group(1) != version:
        found = match.group(1) if match else "nenhuma"
        sys.exit(
            f"Versões divergentes: pyproject.toml {version}, pos_app/__init__.py {found}. Corrija antes do build."
        )
    return version


def source_date_epoch() -> str | None:
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return os.environ["SOURCE_DATE_EPOCH"]
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "log", "-1", "--format=%ct"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return out or None


def run_pyinstaller(env: dict[str, str], clean: bool) -> None:
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        str(SPEC),
        "--noconfirm",
        "--distpath",
        str(DIST),
        "--workpath",
        str(WORK),
        "--log-level",
        os.environ.get("PYI_LOG_LEVEL", "WARN"),
    ]
    if clean:
        cmd.append("--clean")
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def normalise_mtimes(folder: Path, epoch: int) -> None:
    """Same timestamps on every file, so archives and installers of the bundle do not vary."""
    for path in [*folder.rglob("*"), folder]:
        if not path.is_symlink():
            os.utime(path, (epoch, epoch))


def archived_modules(executable: Path) -> set[str]:
    from PyInstaller.archive.readers import CArchiveReader

    pkg = CArchiveReader(str(executable))
    names: set[str] = set()
    for name, entry in pkg.toc.items():
        if entry[-1] == "z":  # the PYZ bytecode archive
            names.update(pkg.open_embedded_archive(name).toc.keys())
    return names


def local_modules() -> list[str]:
    return sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "pos_app").rglob("*.py")
        if "__pycache__" not in p.parts
    )


def check_bundle(expected_local: list[str]) -> list[str]:
    problems: list[str] = []
    exe = BUNDLE / f"pos-app{EXE_SUFFIX}"
    if not exe.is_file():
        return [f"executável ausente: {exe}"]
    if IS_WIN and not (BUNDLE / "pos-app-gui.exe").is_file():
        problems.append("pos-app-gui.exe ausente")
    for rel in REQUIRED_FILES:
        if not (BUNDLE / rel).is_file():
            problems.append(f"arquivo ausente no pacote: {rel}")
    modules = archived_modules(exe)
    extension_files = {
        p.name.split(".")[0] for p in (BUNDLE / "_internal").rglob("*") if p.suffix in (".so", ".pyd")
    }
    for mod in REQUIRED_MODULES:
        if mod not in modules and mod.rsplit(".", 1)[-1] not in extension_files:
            problems.append(f"módulo ausente no pacote: {mod}")
    problems += [f"módulo do pos_app ausente: {m}" for m in expected_local if m not in modules]
    pyside = BUNDLE / "_internal" / "PySide6"
    if pyside.is_dir():
        for p in pyside.iterdir():
            if p.name.startswith(FORBIDDEN_QT):
                problems.append(f"módulo Qt que não deveria estar no pacote: {p.name}")
    return problems


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def print_size(folder: Path) -> int:
    total = folder_size(folder)
    print(f"Tamanho do pacote: {total / 1e6:.1f} MB ({total} bytes) em {folder}")
    internal = folder / "_internal"
    groups: dict[str, int] = {}
    for p in internal.rglob("*"):
        if p.is_file() and not p.is_symlink():
            rel = p.relative_to(internal).parts
            key = "/".join(rel[:3]) if rel[0] == "PySide6" and len(rel) > 3 else rel[0]
            groups[key] = groups.get(key, 0) + p.stat().st_size
    print("Maiores partes:")
    for key, size in sorted(groups.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {size / 1e6:7.1f} MB  {key}")
    return total


def find_iscc(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    found = shutil.which("ISCC") or shutil.which("iscc")
    if found:
        return found
    for base in (os.environ.get("PROGRAMFILES(X86)"), os.environ.get("PROGRAMFILES")):
        if base and (Path(base) / "Inno Setup 6" / "ISCC.exe").is_file():
            return str(Path(base) / "Inno Setup 6" / "ISCC.exe")
    return None


def build_installer(version: str, iscc: str | None) -> Path:
    iscc = find_iscc(iscc)
    if not iscc:
        sys.exit(
            "ISCC.exe (Inno Setup 6) não encontrado: instale com `choco install innosetup` ou use --iscc."
        )
    numbers = [int(n) for n in re.findall(r"\d+", version)[:4]]
    file_version = ".".join(str(n) for n in numbers + [0] * (4 - len(numbers)))  # Windows wants a.b.c.d
    cmd = [
        iscc,
        "/Q",
        f"/DAppVersion={version}",
        f"/DFileVersion={file_version}",
        f"/DBundleDir={BUNDLE}",
        f"/O{DIST}",
        str(ISS),
    ]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)
    setup = DIST / f"pos-app-{version}-setup.exe"
    if not setup.is_file():
        sys.exit(f"Instalador não gerado: {setup}")
    print(f"Instalador: {setup} ({setup.stat().st_size / 1e6:.1f} MB)")
    return setup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Gera o pacote PyInstaller do pos-app (uma pasta) em dist/pos-app/."
    )
    parser.add_argument(
        "--installer", action="store_true", help="Windows: compila também o instalador Inno Setup"
    )
    parser.add_argument("--iscc", help="caminho do ISCC.exe (padrão: PATH ou Program Files)")
    parser.add_argument(
        "--no-clean", action="store_true", help="reaproveita o cache do PyInstaller (mais rápido)"
    )
    parser.add_argument("--check-only", action="store_true", help="só verifica e mede um pacote já gerado")
    args = parser.parse_args(argv)

    version = project_version()
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"
    epoch = source_date_epoch()
    if epoch:
        env["SOURCE_DATE_EPOCH"] = epoch
    print(f"pos-app {version} para {sys.platform}; SOURCE_DATE_EPOCH={epoch or '(não definido)'}", flush=True)

    # The pos_app modules present when the build starts must all be in the bundle (files added while
    # PyInstaller runs are not this build's business).
    expected_local = local_modules()
    if not args.check_only:
        started = time.monotonic()
        run_pyinstaller(env, clean=not args.no_clean)
        print(f"PyInstaller terminou em {time.monotonic() - started:.0f} s", flush=True)
        if epoch:
            normalise_mtimes(BUNDLE, int(epoch))

    problems = check_bundle(expected_local)
    total = print_size(BUNDLE)
    if total > SIZE_LIMIT_MB * 1e6:
        problems.append(f"pacote com {total / 1e6:.0f} MB, acima do limite de {SIZE_LIMIT_MB} MB")
    if problems:
        print("PROBLEMAS NO PACOTE:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print("Pacote verificado: módulos, recursos e certificados de CA presentes.")

    if args.installer:
        if not IS_WIN:
            sys.exit("--installer só funciona no Windows (Inno Setup).")
        build_installer(version, args.iscc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
