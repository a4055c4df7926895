"""Smoke test of a FROZEN pos-app (the PyInstaller bundle, or the program installed by the installer).

    python packaging/smoke.py                                   # dist/pos-app/pos-app[.exe]
    python packaging/smoke.py --exe "C:\\Program Files\\pos-app\\pos-app.exe" --keyring

Runs, on a fresh temporary data folder (demo mode, no configuration at all):
  pos-app --version                 prints "pos-app <version of pyproject.toml>"
  pos-app catalog list --json       the demo catalog seeded on first start
  pos-app sell --item 1001 --pay dinheiro:50 --json
                                    status "autorizado" from the embedded sandbox, a 44-digit key, a PDF
  pos-app doctor --json             no "erro": store, secrets, API, token, demo A1 certificate
  pos-app config show --json        which secret store the frozen program used
and measures: --version time, first window time (the UI's POS_UI_STARTUP_PROBE), bundle size.

Secrets: POS_SECRETS=arquivo (encrypted file) unless --keyring, which leaves the choice to the
program and requires the OS credential store (Windows Credential Manager on the Windows runner).
Time zones: PYTHONTZPATH is emptied so the bundled tzdata is used, as on Windows.

Exit code 0 when every functional check passes. Timing targets only warn, unless --strict.
Used by packaging/smoke.sh, tests/packaging/test_frozen_bundle.py and .github/workflows/windows.yml.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXE_NAME = "pos-app.exe" if sys.platform == "win32" else "pos-app"
DEFAULT_EXE = ROOT / "dist" / "pos-app" / EXE_NAME

FIRST_WINDOW_TARGET_S = 2.0
SIZE_LIMIT_MB = 250
SIZE_AIM_MB = 150


class SmokeError(AssertionError):
    pass


def project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def smoke_env(data_dir: Path, keyring: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env["POS_DATA_DIR"] = str(data_dir)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONUTF8"] = "1"  # the frozen program honours it: JSON on stdout in UTF-8 on every OS
    env["PYTHONTZPATH"] = ""  # no system zoneinfo: the bundled tzdata must do (as on Windows)
    if keyring:
        env.pop("POS_SECRETS", None)
    else:
        env["POS_SECRETS"] = "arquivo"
    for name in ("POS_UI_STARTUP_PROBE", "POS_UI_T0", "POS_LOG_LEVEL"):
        env.pop(name, None)
    return env


def run(
    exe: Path, args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(exe), *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
    )


def _fail(what: str, proc: subprocess.CompletedProcess[str]) -> SmokeError:
    return SmokeError(
        f"{what} (código {proc.returncode})\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
    )


def _json(what: str, proc: subprocess.CompletedProcess[str]) -> Any:
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise _fail(f"{what}: saída não é JSON ({exc})", proc) from exc


# --------------------------------------------------------------------------- checks


def check_version(exe: Path, env: dict[str, str], version: str) -> str:
    proc = run(exe, ["--version"], env)
    if proc.returncode != 0 or proc.stdout.strip() != f"pos-app {version}":
        raise _fail(f"--version deveria imprimir 'pos-app {version}'", proc)
    return proc.stdout.strip()


def check_catalog(exe: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    proc = run(exe, ["catalog", "list", "--json"], env)
    if proc.returncode != 0:
        raise _fail("catalog list falhou", proc)
    products = _json("catalog list", proc)
    if not isinstance(products, list) or not products:
        raise _fail("catálogo de demonstração vazio", proc)
    if not any(p.get("codigo") == "1001" for p in products):
        raise _fail("produto 1001 ausente do catálogo de demonstração", proc)
    return products


def check_sell(exe: Path, env: dict[str, str]) -> dict[str, Any]:
    proc = run(exe, ["sell", "--item", "1001", "--pay", "dinheiro:50", "--json"], env)
    if proc.returncode != 0:
        raise _fail("sell falhou", proc)
    sale = _json("sell", proc)
    if sale.get("status") != "autorizado":
        raise _fail(f"sell: status {sale.get('status')!r}, esperado 'autorizado'", proc)
    chave = str(sale.get("chave") or "")
    if len(chave) != 44 or not chave.isdigit():
        raise _fail(f"sell: chave de acesso inválida {chave!r}", proc)
    pdf = Path(str(sale.get("danfce") or ""))
    if not pdf.is_file() or not pdf.read_bytes().startswith(b"%PDF"):
        raise _fail(f"sell: DANFCe não gerado em {pdf}", proc)
    return sale


def check_doctor(exe: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    proc = run(exe, ["doctor", "--json"], env)
    checks = _json("doctor", proc)
    errors = [c for c in checks if c.get("nivel") == "erro"]
    if proc.returncode != 0 or errors:
        raise _fail(f"doctor com erros: {errors}", proc)
    text = json.dumps(checks, ensure_ascii=False)
    if "Certificado" not in text:
        raise _fail("doctor não verificou o certificado A1", proc)
    return checks


def check_secrets(exe: Path, env: dict[str, str], expect: str) -> str:
    proc = run(exe, ["config", "show", "--json"], env)
    if proc.returncode != 0:
        raise _fail("config show falhou", proc)
    data = _json("config show", proc)
    backend = data.get("segredos")
    if backend != expect:
        raise _fail(f"cofre de segredos {backend!r}, esperado {expect!r}", proc)
    shown = json.dumps(data, ensure_ascii=False)
    if "demo1234" in shown:  # the demo certificate password must be masked
        raise _fail("config show mostrou a senha do certificado", proc)
    return backend


# --------------------------------------------------------------------------- measurements


def measure_version(exe: Path, env: dict[str, str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = run(exe, ["--version"], env)
        times.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise _fail("--version falhou", proc)
    return statistics.median(times)


def first_window_once(exe: Path, env: dict[str, str], timeout: float = 60) -> tuple[float | None, str]:
    """Seconds from spawn to the login window on screen, as the UI's own probe reports it."""
    env = dict(env)
    env["POS_UI_STARTUP_PROBE"] = "1"
    env["POS_UI_T0"] = repr(time.time())
    proc = run(exe, [], env, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith("POS_UI_READY"):
            return float(line.split()[1]), ""
    tail = (proc.stderr.strip().splitlines() or ["(sem saída)"])[-1]
    return None, f"código {proc.returncode}: {tail}"


def measure_first_window(exe: Path, env: dict[str, str], runs: int = 3) -> tuple[float | None, str]:
    first, problem = first_window_once(exe, env)  # first start: not measured (fonts, caches)
    if first is None:
        return None, problem
    times = [first_window_once(exe, env)[0] for _ in range(runs)]
    valid = [t for t in times if t is not None]
    return (statistics.median(valid) if valid else None), ""


def bundle_size(exe: Path) -> int:
    folder = exe.parent
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


# --------------------------------------------------------------------------- report


@dataclass
class Report:
    ok: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)

    def step(self, name: str, fn: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            result = fn(*args)
        except (SmokeError, subprocess.TimeoutExpired, OSError) as exc:
            self.failures.append(f"{name}: {exc}")
            print(f"[FALHA] {name}\n{exc}", flush=True)
            return None
        elapsed = time.perf_counter() - started
        self.ok.append(name)
        print(f"[ OK ] {name} ({elapsed:.2f} s)", flush=True)
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke do pos-app congelado (PyInstaller ou instalado).")
    parser.add_argument("--exe", type=Path, default=DEFAULT_EXE, help=f"executável (padrão: {DEFAULT_EXE})")
    parser.add_argument("--data-dir", type=Path, help="pasta de dados (padrão: uma pasta temporária nova)")
    parser.add_argument(
        "--keyring",
        action="store_true",
        help="não força POS_SECRETS=arquivo e exige o cofre do sistema (keyring)",
    )
    parser.add_argument("--no-window", action="store_true", help="não mede a primeira janela")
    parser.add_argument("--strict", action="store_true", help="metas de tempo e tamanho também reprovam")
    parser.add_argument("--json", type=Path, help="grava os números neste arquivo JSON")
    args = parser.parse_args(argv)

    exe = args.exe.resolve()
    if not exe.is_file():
        print(f"Executável não encontrado: {exe} (gere com: python packaging/build.py)", file=sys.stderr)
        return 2
    version = project_version()
    with tempfile.TemporaryDirectory(prefix="pos-smoke-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "dados"
        env = smoke_env(data_dir, keyring=args.keyring)
        print(
            f"Smoke de {exe}\n  dados: {data_dir}\n  segredos: {'keyring' if args.keyring else 'arquivo'}",
            flush=True,
        )
        r = Report()
        r.step("--version", check_version, exe, env, version)
        products = r.step("catalog list --json", check_catalog, exe, env)
        sale = r.step("sell --item 1001 --pay dinheiro:50 --json", check_sell, exe, env)
        r.step("doctor --json", check_doctor, exe, env)
        expect = "keyring" if args.keyring else "arquivo-criptografado"
        r.step(f"config show --json (segredos: {expect})", check_secrets, exe, env, expect)
        if products:
            r.numbers["catalog_products"] = len(products)
        if sale:
            r.numbers["sale"] = {
                k: sale.get(k) for k in ("status", "numero", "serie", "chave", "contingencia")
            }

        r.numbers["version_s"] = round(measure_version(exe, env), 3)
        print(f"--version: {r.numbers['version_s']:.3f} s (mediana de 5)")
        if not args.no_window:
            window_s, problem = measure_first_window(exe, env)
            r.numbers["first_window_s"] = None if window_s is None else round(window_s, 3)
            if window_s is None:
                r.warnings.append(f"primeira janela não medida (interface indisponível? {problem})")
            else:
                print(
                    f"primeira janela (login): {window_s:.3f} s (mediana de 3, meta <= {FIRST_WINDOW_TARGET_S} s)"
                )
                if window_s > FIRST_WINDOW_TARGET_S:
                    r.warnings.append(
                        f"primeira janela em {window_s:.2f} s, acima da meta de {FIRST_WINDOW_TARGET_S} s"
                    )

    size = bundle_size(exe)
    r.numbers["bundle_mb"] = round(size / 1e6, 1)
    print(f"pacote: {size / 1e6:.1f} MB (limite {SIZE_LIMIT_MB} MB, alvo {SIZE_AIM_MB} MB)")
    if size > SIZE_LIMIT_MB * 1e6:
        r.failures.append(f"pacote com {size / 1e6:.0f} MB, acima do limite de {SIZE_LIMIT_MB} MB")
    elif size > SIZE_AIM_MB * 1e6:
        r.warnings.append(f"pacote com {size / 1e6:.0f} MB, acima do alvo de {SIZE_AIM_MB} MB")

    for w in r.warnings:
        print(f"[AVISO] {w}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {**r.numbers, "ok": r.ok, "failures": r.failures, "warnings": r.warnings},
                ensure_ascii=False,
                indent=2,
            ),
            encoding="utf-8",
        )
    failed = bool(r.failures) or (args.strict and bool(r.warnings))
    print(
        "SMOKE "
        + ("REPROVADO" if failed else "OK")
        + f": {len(r.ok)} verificações passaram, {len(r.failures)} falharam"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
