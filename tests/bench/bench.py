"""Performance figures of the product. Run: ``.venv/bin/python tests/bench/bench.py``.

Prints one line per figure with its target, and as the LAST line one JSON object with every
figure (null when a figure could not be measured, with the reason under "errors").
Targets: emit_overhead_ratio <= 1.5, barcode_lookup_us <= 500, search_ms <= 20,
danfce_pdf_ms <= 60, rss_mb_100k_catalog <= 250, contingency_sale_ms <= 150,
replay_notes_per_s >= 30, escpos_ms <= 10, ui_startup_s <= 1.5, add_item_ms < 16;
at five years of ~600 sales a day (issue 20): db_kb_per_sale <= 4, startup_5y_over_empty <= 1.2,
sell_5y_over_empty <= 1.1, history_day_ms_5y <= 300, history_month_ms_5y <= 1000 (first page),
report_day_ms_5y <= 500, backup_daily_s_5y <= 30;
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
    "store_sync_lag_p95_s": ("<=", 5),
    "store_live_latency_ratio": ("<=", 1.2),
    "store_backlog_drain_ratio": (">=", 0.9),
    "store_live_429s": ("<=", 0),
    "db_kb_per_sale": ("<=", 4),
    "startup_5y_over_empty": ("<=", 1.2),
    "sell_5y_over_empty": ("<=", 1.1),
    "history_day_ms_5y": ("<=", 300),
    "history_month_ms_5y": ("<=", 1000),
    "report_day_ms_5y": ("<=", 500),
    "backup_daily_s_5y": ("<=", 30),
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


WORDS = [
    "ARROZ",
    "FEIJÃO",
    "AÇÚCAR",
    "CAFÉ",
    "LEITE",
    "BISCOITO",
    "REFRIGERANTE",
    "SABÃO",
    "DETERGENTE",
    "MACARRÃO",
    "ÓLEO",
    "SUCO",
    "ÁGUA",
    "CERVEJA",
    "CHOCOLATE",
    "IOGURTE",
    "QUEIJO",
    "PRESUNTO",
    "SHAMPOO",
    "CREME",
    "PAPEL",
    "TOALHA",
    "FARINHA",
    "SAL",
    "MOLHO",
    "EXTRATO",
    "MILHO",
    "ERVILHA",
]
BRANDS = [
    "CAMIL",
    "TIO JOÃO",
    "UNIÃO",
    "PILÃO",
    "NESTLÉ",
    "PIRACANJUBA",
    "COCA-COLA",
    "YPÊ",
    "OMO",
    "LIZA",
    "DEL VALLE",
    "CRYSTAL",
    "SKOL",
    "LACTA",
    "DANONE",
    "SADIA",
    "SEARA",
    "DOVE",
    "NIVEA",
]


def catalog_figures(results: dict[str, Any]) -> None:
    from pos_app.core.domain.catalog import Product
    from pos_app.core.store import Store

    rnd = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.sqlite3")
        products = [
            Product(
                codigo=str(100000 + i),
                ean=_ean13(i),
                descricao=f"{rnd.choice(WORDS)} {rnd.choice(BRANDS)} {rnd.randint(1, 999)}{rnd.choice(['G', 'ML', 'KG', 'L'])}",
                ncm="22021000",
                cfop="5102",
                unidade="UN",
                preco=Decimal(rnd.randint(100, 9999)) / 100,
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
    from pos_app.app import open_app

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
            bare.post(
                "/v2/nfce",
                params={"ref": "bench-warm"},
                json=build_nfce_payload(_sale(ctx), emitente, ctx.now(), ambiente=ctx.ambiente),
            )
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
            results["emit_overhead_ratio"] = round(
                statistics.median(svc_times) / statistics.median(bare_times), 3
            )
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


def pix_figures(results: dict[str, Any]) -> None:
    """BR Code build+decode; a dynamic charge over loopback: create, paid after 10 s, polls spent."""
    from pos_app.core.pix.brcode import build_static, decode
    from pos_app.core.pix.service import pix_service
    from pos_app.demo.pix import demo_psp

    times = []
    for n in range(200):
        t = time.perf_counter()
        decode(build_static("7d9f0335-8dcc-4054-9bf9-0dbd61d36906", "Loja", "Curitiba", Decimal(n + 1)))
        times.append(time.perf_counter() - t)
    results["pix_brcode_us"] = round(statistics.median(times) * 1e6, 1)
    os.environ["POS_PIX_DEMO_PAGAR_APOS"] = "nunca"
    with tempfile.TemporaryDirectory() as tmp:
        ctx = _demo_ctx(tmp)
        try:
            svc = pix_service(ctx)
            psp = demo_psp(ctx)
            svc.create(Decimal("1.00"))  # token and connection warm
            t = time.perf_counter()
            charge = svc.create(Decimal("27.90"))
            results["pix_create_ms"] = round((time.perf_counter() - t) * 1000, 2)
            before = len(psp.requests)
            psp.pay_after(charge.txid, 10.0)
            t = time.perf_counter()
            svc.wait(charge.id, timeout=30)
            results["pix_detect_after_pay_s"] = round(time.perf_counter() - t - 10.0, 2)
            results["pix_polls_per_10s_wait"] = len(psp.requests) - before
        finally:
            ctx.close()
            os.environ.pop("POS_PIX_DEMO_PAGAR_APOS", None)


def contingency_figures(results: dict[str, Any]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import benchmarks  # bench-only helpers live next to this script

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
            proc = subprocess.run(
                [sys.executable, str(Path(__file__).resolve().parent / "startup_probe.py")],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                cwd=ROOT,
            )
            if proc.returncode != 0:
                raise RuntimeError(proc.stderr[-500:])
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        results["ui_startup_s"] = round(min(r["startup_s"] for r in runs[1:]), 3)
        if "add_item_ms" in runs[-1]:
            results["add_item_ms"] = round(runs[-1]["add_item_ms"], 3)


def store_figures(results: dict[str, Any]) -> None:
    """Store database (issue 16): N checkout processes, one sandbox, one PostgreSQL (tests/bench/store_bench.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from store_bench import store_figures as run

    run(results)


def store_customer_figures(results: dict[str, Any]) -> None:
    """Customers shared by a store's checkouts: save on one, seen on the other (tests/bench/store_customers_bench.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from store_customers_bench import customer_figures

    customer_figures(results)


def _median_ms(fn: Callable[[], Any], n: int = 5) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def _startup_s(folder: Path, runs: int = 3) -> float:
    """Cashier window from process start to the login screen (the UI start-up probe), best of runs."""
    env = {**os.environ, "POS_DATA_DIR": str(folder), "QT_QPA_PLATFORM": "offscreen"}
    values = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-m", "pos_app.ui.startup_probe"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-500:])
        values.append(json.loads(proc.stdout.strip().splitlines()[-1])["startup_s"])
    return min(values)


def _status_s(folder: Path, runs: int = 3) -> float:
    """``pos-app status --json`` as a whole process (start, open, answer, exit), best of runs."""
    env = {**os.environ, "POS_DATA_DIR": str(folder)}
    values = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pos_app", "status", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
        )
        values.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-500:])
    return min(values)


def _sale_ms(ctx: Any, n: int = 15) -> float:
    from benchmarks import HISTORY_CODES, bench_sale

    from pos_app.core.services.emission import EmissionService

    service = EmissionService(ctx)
    service.checkout(bench_sale(ctx, HISTORY_CODES), receipt=False)
    times = []
    for _ in range(n):
        sale = bench_sale(ctx, HISTORY_CODES)
        t = time.perf_counter()
        result = service.checkout(sale, receipt=False)
        times.append(time.perf_counter() - t)
        assert result.status == "autorizado", result
    return statistics.median(times) * 1000


def scale_figures(results: dict[str, Any]) -> None:
    """Five years of a busy checkout (issue 20): ~600 sales a day of 8 items, grown from sales made
    by the program (cash, two payments, contingency, cancellation; a closed cash session a day).
    Past years are written as the yearly archives the terminal makes; the live file holds this year.
    POS_BENCH_SCALE_YEARS / POS_BENCH_SCALE_PER_DAY change the size; POS_BENCH_SCALE_KEEP=DIR keeps it."""
    import shutil
    from datetime import timedelta

    from benchmarks import history_templates

    from pos_app.core.store.archive import archive_path, write_archive_file
    from pos_app.core.store.bulk import replicate_history
    from pos_app.core.store.db import SqliteDatabase
    from pos_app.core.store.migrations import MIGRATIONS

    years = float(os.environ.get("POS_BENCH_SCALE_YEARS") or 5)
    per_day = int(os.environ.get("POS_BENCH_SCALE_PER_DAY") or 600)
    keep = os.environ.get("POS_BENCH_SCALE_KEEP")
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="pos-escala-"))
    empty, big = root / "vazio", root / "cinco-anos"
    reuse = bool(os.environ.get("POS_BENCH_SCALE_REUSE")) and (big / "pos.sqlite3").is_file()
    try:
        if reuse:  # measure again a terminal grown by an earlier run (POS_BENCH_SCALE_KEEP)
            _measure_scale(results, empty, big, None)
            return
        for folder in (empty, big):
            shutil.rmtree(folder, ignore_errors=True)
            ctx = _demo_ctx(str(folder))
            try:
                history_templates(ctx)
                ctx.maintenance.join()
            finally:
                ctx.close()
        t0 = time.perf_counter()
        ctx = _demo_ctx(str(big))
        try:
            today = ctx.now().date()
            tz = ctx.now().tzinfo
            terminal = ctx.config.terminal_id
        finally:
            ctx.close()
        live_path = big / "pos.sqlite3"
        start = today - timedelta(days=round(365.25 * years))
        ids: dict[str, int] = {}
        numbers: dict[tuple[int, str], int] = {}
        total_sales = 0
        for year in range(start.year, today.year):  # closed years: grown aside, then archived
            first = max(start, start.replace(year=year, month=1, day=1))
            days = (first.replace(year=year + 1, month=1, day=1) - first).days
            work = root / f"ano-{year}.sqlite3"
            shutil.copyfile(live_path, work)
            db = SqliteDatabase(work, MIGRATIONS)
            try:
                total_sales += replicate_history(
                    db,
                    start=first,
                    days=days,
                    per_day=per_day,
                    tz=tz,
                    terminal_id=terminal,
                    ids=ids,
                    numbers=numbers,
                )
            finally:
                db.close()
            write_archive_file(work, archive_path(big, year), f"{year:04d}-01-01", f"{year + 1:04d}-01-01")
            for suffix in ("", "-wal", "-shm"):
                Path(str(work) + suffix).unlink(missing_ok=True)
        db = SqliteDatabase(live_path, MIGRATIONS)
        try:
            first = max(start, today.replace(month=1, day=1))
            total_sales += replicate_history(
                db,
                start=first,
                days=(today - first).days,
                per_day=per_day,
                tz=tz,
                terminal_id=terminal,
                ids=ids,
                numbers=numbers,
            )
        finally:
            db.close()
        results["scale_build_s"] = round(time.perf_counter() - t0, 1)
        results["scale_sales_per_day"] = per_day
        _measure_scale(results, empty, big, total_sales)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def _measure_scale(results: dict[str, Any], empty: Path, big: Path, total_sales: int | None) -> None:
    import sqlite3
    from datetime import timedelta

    from pos_app.core.services.history import HistoryFilter, HistoryService
    from pos_app.core.services.reports import ReportService
    from pos_app.core.store.archive import backup_archives, list_archives
    from pos_app.core.store.backup import run_backup

    live_path = big / "pos.sqlite3"
    conn = sqlite3.connect(live_path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        used = (
            conn.execute("PRAGMA page_count").fetchone()[0]
            - conn.execute("PRAGMA freelist_count").fetchone()[0]
        )
        live_sales = conn.execute("SELECT count(*) FROM sales").fetchone()[0]
    finally:
        conn.close()
    if total_sales is None:
        total_sales = live_sales
        for a in list_archives(big):
            c = sqlite3.connect(f"file:{a.path}?mode=ro", uri=True)
            total_sales += c.execute("SELECT count(*) FROM sales").fetchone()[0]
            c.close()
    results["scale_sales_5y"] = total_sales
    results["scale_live_sales"] = live_sales
    results["db_kb_per_sale"] = round(used * page / live_sales / 1024, 2)
    archives_bytes = sum(a.path.stat().st_size for a in list_archives(big))
    results["scale_live_db_mb"] = round(live_path.stat().st_size / 1e6, 1)
    results["scale_archives_mb"] = round(archives_bytes / 1e6, 1)
    results["scale_kb_per_sale_all_files"] = round(
        (live_path.stat().st_size + archives_bytes) / max(1, total_sales) / 1024, 2
    )
    ctx = _demo_ctx(str(big))
    try:
        today = ctx.now().date()
    finally:
        ctx.close()
    start = today - timedelta(days=round(365.25 * float(os.environ.get("POS_BENCH_SCALE_YEARS") or 5)))
    # start-up: the cashier window to login, five years over empty (same run)
    startup_empty = _startup_s(empty)
    startup_big = _startup_s(big)
    results["startup_empty_s"] = round(startup_empty, 3)
    results["startup_5y_s"] = round(startup_big, 3)
    results["startup_5y_over_empty"] = round(startup_big / startup_empty, 3)
    status_empty, status_big = _status_s(empty), _status_s(big)
    results["status_cli_5y_over_empty"] = round(status_big / status_empty, 3)

    # the sale, the history screen's queries (count + total + first page), the day's report
    ctx_empty = _demo_ctx(str(empty))
    try:
        sell_empty = _sale_ms(ctx_empty)
    finally:
        ctx_empty.close()
    ctx = _demo_ctx(str(big))
    try:
        ctx.maintenance.join()
        sell_big = _sale_ms(ctx)
        results["sell_empty_ms"] = round(sell_empty, 2)
        results["sell_5y_ms"] = round(sell_big, 2)
        results["sell_5y_over_empty"] = round(sell_big / sell_empty, 3)
        history = HistoryService(ctx)
        yesterday = today - timedelta(days=1)

        def screen(de: Any, ate: Any) -> None:
            f = HistoryFilter(de=de, ate=ate, limit=200)
            history.totals(f)
            history.search(f)

        results["history_day_ms_5y"] = round(_median_ms(lambda: screen(yesterday, yesterday)), 1)
        month_end = today.replace(day=1) - timedelta(days=1)  # the last whole month
        month_start = month_end.replace(day=1)
        results["history_month_ms_5y"] = round(_median_ms(lambda: screen(month_start, month_end)), 1)
        old_day = start + timedelta(days=40)
        results["history_day_archived_ms_5y"] = round(_median_ms(lambda: screen(old_day, old_day)), 1)
        some = ctx.store.database.query_one(
            "SELECT numero FROM fiscal_documents WHERE kind = 'online' "
            "AND numero IS NOT NULL ORDER BY id LIMIT 1 OFFSET 5000"
        )
        if some:
            results["history_number_ms_5y"] = round(
                _median_ms(lambda: history.search(HistoryFilter(numero=some["numero"], limit=200))), 1
            )
        results["report_day_ms_5y"] = round(_median_ms(lambda: ReportService(ctx).daily(yesterday)), 1)
    finally:
        ctx.close()

    # the daily backup: the live file (the archives were copied once, by the first start's background duties)
    folder = big / "backups"
    backup_archives(big, folder)
    t = time.perf_counter()
    run_backup(live_path, folder)
    backup_archives(big, folder)
    results["backup_daily_s_5y"] = round(time.perf_counter() - t, 2)


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
        ("pix", pix_figures),
        ("escpos", escpos_figure),
        ("ui", ui_figures),
        ("store", store_figures),
        ("store_customers", store_customer_figures),
        ("scale", scale_figures),
        ("crash", crash_figures),
        ("soak", soak_figures),
    ]
    only = os.environ.get("POS_BENCH_ONLY")  # e.g. POS_BENCH_ONLY=scale: one step of the bench
    if only:
        steps = [(n, fn) for n, fn in steps if n in only.split(",")]
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
