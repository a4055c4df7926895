"""Measurements of the cashier window for the bench (``tests/bench/bench.py``).

``python tests/bench/startup_probe.py`` starts ``python -m pos_app`` (exactly what the ``pos-app``
command runs, no arguments) on ``POS_DATA_DIR`` and measures the seconds from the process spawn
to the login window painted; then it measures adding a scanned item to a 100-line cart. The last
stdout line is JSON: ``{"startup_s": ..., "add_item_ms": ..., "add_item_cpu_ms": ...}``.

Without ``POS_DATA_DIR`` a temporary demo folder is used and seeded by a first, unmeasured start.
``--runs N`` reports the median of N starts; ``--startup-only`` skips the cart measurement.
``add_item_cpu_ms`` is the GUI thread's CPU time: the figure without other processes competing
for the CPU (``add_item_ms`` is wall time).
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
from pathlib import Path

READY = "POS_UI_READY"


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["POS_DATA_DIR"] = str(data_dir)
    env.setdefault("POS_SECRETS", "arquivo")
    env["POS_UI_STARTUP_PROBE"] = "1"
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def start_once(data_dir: Path, timeout: float = 60.0) -> float:
    """Seconds from process spawn to the login window on screen."""
    env = _env(data_dir)
    started = time.time()
    env["POS_UI_T0"] = repr(started)
    proc = subprocess.run(
        [sys.executable, "-m", "pos_app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(READY):
            return float(line.split()[1])
    raise RuntimeError(f"a janela de login não apareceu (código {proc.returncode}): {proc.stderr[-2000:]}")


def measure_startup(runs: int = 3, data_dir: Path | None = None) -> float:
    """Median startup seconds over ``runs`` warm starts (a first start seeds the demo data)."""
    with tempfile.TemporaryDirectory(prefix="pos-probe-") as tmp:
        folder = data_dir or Path(tmp)
        start_once(folder)  # first start: demo seed (catalog, users, certificate); not measured
        return statistics.median(start_once(folder) for _ in range(max(1, runs)))


def measure_add_item(lines: int = 100, samples: int = 30) -> dict[str, float]:
    """Milliseconds to scan one more item into a cart of ``lines`` lines (handler + repaint)."""
    os.environ.setdefault("POS_SECRETS", "arquivo")
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from pos_app.app import open_app
    from pos_app.ui.sale_window import SaleWindow
    from pos_app.ui.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    apply_theme(app)
    with tempfile.TemporaryDirectory(prefix="pos-probe-") as tmp:
        os.environ["POS_DATA_DIR"] = tmp
        ctx = open_app(Path(tmp), start_sandbox=False)
        try:
            codes = [p.ean or p.codigo for p in ctx.store.products.all() if p.unidade != "KG"]
            user = ctx.store.users.all()[0]
            window = SaleWindow(ctx, user)
            window.resize(1366, 768)
            window.show()
            app.processEvents()
            for i in range(lines):
                window.code.setText(codes[i % len(codes)])
                window.handle_code_entered()
            app.processEvents()
            times: list[float] = []
            cpu: list[float] = []
            for i in range(samples):
                window.code.setText(codes[i % len(codes)])
                t0, c0 = time.perf_counter(), time.thread_time()
                window.handle_code_entered()
                app.processEvents()  # layout + paint of the new row and totals
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.thread_time() - c0) * 1000)
                window.cart.remove(window.cart.rowCount() - 1)  # back to `lines` lines
                app.processEvents()
            window.close()
        finally:
            ctx.close()
    times.sort()
    # cpu_ms: this thread's CPU time, what the add costs without other processes competing for the CPU.
    return {
        "median_ms": statistics.median(times),
        "p95_ms": times[int(len(times) * 0.95) - 1],
        "max_ms": times[-1],
        "cpu_median_ms": statistics.median(cpu),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Medições da janela do caixa")
    parser.add_argument("--runs", type=int, default=1, help="partidas medidas (mediana)")
    parser.add_argument("--startup-only", action="store_true", help="não mede a inclusão de itens")
    args = parser.parse_args(argv)
    env_dir = os.environ.get("POS_DATA_DIR")
    with tempfile.TemporaryDirectory(prefix="pos-probe-") as tmp:
        folder = Path(env_dir) if env_dir else Path(tmp)
        if not env_dir:
            start_once(folder)  # seeds the demo data; not measured
        startup = statistics.median(start_once(folder) for _ in range(max(1, args.runs)))
    out: dict[str, float] = {"startup_s": round(startup, 3)}
    print(f"janela de login em {startup:.3f} s", file=sys.stderr)
    if not args.startup_only:
        add = measure_add_item()
        out.update(
            {
                "add_item_ms": round(add["median_ms"], 3),
                "add_item_cpu_ms": round(add["cpu_median_ms"], 3),
                "add_item_max_ms": round(add["max_ms"], 3),
            }
        )
        print(
            f"item no carrinho de 100 linhas: {add['median_ms']:.2f} ms (CPU {add['cpu_median_ms']:.2f} ms, "
            f"máx. {add['max_ms']:.2f} ms)",
            file=sys.stderr,
        )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
