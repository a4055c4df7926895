"""Performance figures of the product. Run: ``.venv/bin/python tests/bench/bench.py``.

Prints one line per figure with its target, and as the LAST line one JSON object with every
figure (null when a figure could not be measured, with the reason under "errors").
Targets: emit_overhead_ratio <= 1.5, barcode_lookup_us <= 500, search_ms <= 20,
danfce_pdf_ms <= 60, rss_mb_100k_catalog <= 250, contingency_sale_ms <= 150,
replay_notes_per_s >= 30, escpos_ms <= 10, ui_startup_s <= 1.5, add_item_ms < 16,
crash_violations == 0 (crash_kills >= 300), soak_p99_ratio <= 1.5, soak growth figures ~0.
``POS_BENCH_ONLY=crash,soak`` runs only the named steps (the crash campaign takes ~15 min).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("POS_SECRETS", "arquivo")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TARGETS: dict[str, tuple[str, float]] = {
    "emit_overhead_ratio": ("<=", 1.5),
    "barcode_lookup_us": ("<=", 500),
    "search_ms": ("<=", 20),
    "danfce_pdf_ms": ("<=", 60),
    "rss_mb_100k_catalog": ("<=", 250),
    "contingency_sale_ms": ("<=", 150),
    "replay_notes_per_s": (">=", 30),
    "escpos_ms": ("<=", 10),
    "ui_startup_s": ("<=", 1.5),
    "add_item_ms": ("<", 16),
}


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ean13(n: int) -> str:
    body = f"789{n:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


WORDS = ["ARROZ", "FEIJÃO", "AÇÚCAR", "CAFÉ", "LEITE", "BISCOITO", "REFRIGERANTE", "SABÃO", "DETERGENTE",
         "MACARRÃO", "ÓLEO", "SUCO", "ÁGUA", "CERVEJA", "CHOCOLATE", "IOGURTE", "QUEIJO", "PRESUNTO",
         "SHAMPOO", "CREME", "PAPEL", "TOALHA", "FARINHA", "SAL", "MOLHO", "EXTRATO", "MILHO", "ERVILHA"]
BRANDS = ["CAMIL", "TIO JOÃO", "UNIÃO", "PILÃO", "NESTLÉ", "PIRACANJUBA", "COCA-COLA", "YPÊ", "OMO",
          "LIZA", "DEL VALLE", "CRYSTAL", "SKOL", "LACTA", "DANONE", "SADIA", "SEARA", "DOVE", "NIVEA"]


def catalog_figures(results: dict[str, Any]) -> None:
    from pos_app.core.domain.catalog import Product
    from pos_app.core.store import Store

    rnd = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.sqlite3")
        products = [
            Product(
                codigo=str(100000 + i), ean=_ean13(i),
                descricao=f"{rnd.choice(WORDS)} {rnd.choice(BRANDS)} {rnd.randint(1, 999)}{rnd.choice(['G', 'ML', 'KG', 'L'])}",
                ncm="22021000", cfop="5102", unidade="UN", preco=Decimal(rnd.randint(100, 9999)) / 100,
            )
            for i in range(100_000)
        ]
        store.products.upsert_many(products)
        del products
        lookups = [_ean13(rnd.randrange(100_000)) for _ in range(2000)]
        times = []
        for code in lookups:
            t = time.perf_counter()
            assert store.products.lookup(code) is not None
            times.append(time.perf_counter() - t)
        results["barcode_lookup_us"] = round(statistics.median(times) * 1e6, 1)
        queries = [f"{rnd.choice(WORDS)[:3]} {rnd.choice(BRANDS)[:2]}" for _ in range(200)]
        times = []
        for q in queries:
            t = time.perf_counter()
            store.products.search(q, limit=50)
            times.append(time.perf_counter() - t)
        results["search_ms"] = round(statistics.median(times) * 1000, 2)
        results["rss_mb_100k_catalog"] = round(_rss_mb(), 1)
        store.close()


def _demo_ctx(tmp: str) -> Any:
    os.environ["POS_DATA_DIR"] = tmp
    from pos_app.core.services.context import open_app

    return open_app(Path(tmp), sandbox_rate_limit=None)


def _sale(ctx: Any) -> Any:
    from pos_app.core.domain.payments import Payment
    from pos_app.core.domain.sale import Sale

    sale = Sale()
    for code in ("1001", "1004", "1021", "1022"):
        product = ctx.store.products.lookup(code)
        sale.add_item(product, Decimal(1))
    sale.add_payment(Payment(forma="01", valor=sale.valor_total + Decimal("10")))
    return sale


def emission_figures(results: dict[str, Any], n: int = 40) -> None:
    import httpx

    from pos_app.core.focus.nfce_payload import build_nfce_payload
    from pos_app.core.services.emission import EmissionService
    from pos_app.sandbox import DEMO_TOKEN

    with tempfile.TemporaryDirectory() as tmp:
        ctx = _demo_ctx(tmp)
        try:
            service = EmissionService(ctx)
            bare = httpx.Client(base_url=ctx.sandbox.url, auth=(DEMO_TOKEN, ""), timeout=10)
            emitente = ctx.emitente()
            # warm-up both paths
            service.checkout(_sale(ctx), receipt=False)
            bare.post("/v2/nfce", params={"ref": "bench-warm"},
                      json=build_nfce_payload(_sale(ctx), emitente, ctx.now(), ambiente=ctx.ambiente))
            svc_times, bare_times = [], []
            for i in range(n):
                sale = _sale(ctx)
                t = time.perf_counter()
                result = service.checkout(sale, receipt=False)
                svc_times.append(time.perf_counter() - t)
                assert result.status == "autorizado", result
                payload = build_nfce_payload(_sale(ctx), emitente, ctx.now(), ambiente=ctx.ambiente)
                t = time.perf_counter()
                resp = bare.post("/v2/nfce", params={"ref": f"bench-bare-{i}", "completa": 1}, json=payload)
                bare_times.append(time.perf_counter() - t)
                assert resp.json()["status"] == "autorizado"
            bare.close()
            results["emit_overhead_ratio"] = round(statistics.median(svc_times) / statistics.median(bare_times), 3)
            results["emit_service_ms"] = round(statistics.median(svc_times) * 1000, 2)
            results["emit_bare_post_ms"] = round(statistics.median(bare_times) * 1000, 2)
        finally:
            ctx.close()


def danfce_figure(results: dict[str, Any]) -> None:
    from pos_app.core.printing.pdf import render_pdf_bytes
    from pos_app.core.printing.sample import sample_receipt

    data = sample_receipt()
    render_pdf_bytes([data])
    times = []
    for _ in range(20):
        t = time.perf_counter()
        render_pdf_bytes([data])
        times.append(time.perf_counter() - t)
    results["danfce_pdf_ms"] = round(statistics.median(times) * 1000, 2)


def contingency_figures(results: dict[str, Any]) -> None:
    from pos_app.core.services import benchmarks

    with tempfile.TemporaryDirectory() as tmp:
        ctx = _demo_ctx(tmp)
        try:
            results["contingency_sale_ms"] = round(benchmarks.contingency_sale_ms(ctx), 2)
        finally:
            ctx.close()
    with tempfile.TemporaryDirectory() as tmp:
        ctx = _demo_ctx(tmp)
        try:
            results["replay_notes_per_s"] = round(benchmarks.replay_notes_per_s(ctx, 60), 1)
        finally:
            ctx.close()


def escpos_figure(results: dict[str, Any]) -> None:
    from pos_app.core.printing.escpos import bench_render_ms

    results["escpos_ms"] = round(bench_render_ms(), 3)


def ui_figures(results: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "POS_DATA_DIR": tmp, "QT_QPA_PLATFORM": "offscreen"}
        # First start seeds the demo data; measure the second, as a cashier starting the day would.
        runs = []
        for _ in range(3):
            proc = subprocess.run([sys.executable, "-m", "pos_app.ui.startup_probe"], env=env,
                                  capture_output=True, text=True, timeout=120, cwd=ROOT)
            if proc.returncode != 0:
                raise RuntimeError(proc.stderr[-500:])
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        results["ui_startup_s"] = round(min(r["startup_s"] for r in runs[1:]), 3)
        if "add_item_ms" in runs[-1]:
            results["add_item_ms"] = round(runs[-1]["add_item_ms"], 3)


def crash_figures(results: dict[str, Any]) -> None:
    """Issue 18: the long crash campaign (``POS_BENCH_CRASH_KILLS``, default 300 kills)."""
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    from crash_campaign import run_campaign

    result = run_campaign(int(os.environ.get("POS_BENCH_CRASH_KILLS", "300")))
    results["crash_kills"] = result.kills
    results["crash_violations"] = len(result.violations)
    results["crash_rounds"] = result.rounds
    results["crash_kills_by_command"] = dict(result.kills_by_command)
    for line in result.violations[:10]:
        print("VIOLAÇÃO:", line)


def soak_figures(results: dict[str, Any]) -> None:
    """Issue 18: 5,000 sales with link drops and 429 bursts (``POS_BENCH_SOAK_SALES``)."""
    sys.path.insert(0, str(ROOT / "tests" / "bench"))
    from soak import run_soak

    results.update(run_soak(int(os.environ.get("POS_BENCH_SOAK_SALES", "5000"))))


def main() -> int:
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    steps: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
        ("catalog", catalog_figures),
        ("emission", emission_figures),
        ("danfce", danfce_figure),
        ("contingency", contingency_figures),
        ("escpos", escpos_figure),
        ("ui", ui_figures),
        ("crash", crash_figures),
        ("soak", soak_figures),
    ]
    only = {n for n in os.environ.get("POS_BENCH_ONLY", "").split(",") if n}  # e.g. POS_BENCH_ONLY=crash,soak
    if only:
        steps = [(n, f) for n, f in steps if n in only]
    for name, step in steps:
        try:
            step(results)
        except Exception as exc:  # noqa: BLE001 - report and go on with the other figures
            errors[name] = f"{type(exc).__name__}: {exc}"
    for key, (op, target) in TARGETS.items():
        value = results.get(key)
        if value is None:
            print(f"{key:24} n/d")
            continue
        ok = value <= target if op == "<=" else value >= target if op == ">=" else value < target
        print(f"{key:24} {value:>10}   meta {op} {target}   {'OK' if ok else 'ACIMA DA META'}")
    for key in sorted(set(results) - set(TARGETS)):
        value = results[key]
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
        print(f"{key:24} {shown!s:>10}")
    results["errors"] = errors
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
