"""One simulated checkout for the store benchmark (a separate process with its own SQLite).

    store_terminal.py live FOLDER START_AT SALES INTERVAL   sells SALES live sales, paced
    store_terminal.py make FOLDER N                         writes N contingency notes (API unreachable)
    store_terminal.py drain FOLDER START_AT API_URL         replays the backlog through the shared budget

Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("POS_SECRETS", "arquivo")


def _sale(ctx: Any) -> Any:
    from pos_app.core.domain.payments import Payment
    from pos_app.core.domain.sale import Sale

    sale = Sale()
    for code in ("1001", "1004"):
        sale.add_item(ctx.store.products.lookup(code), Decimal(1))
    sale.add_payment(Payment(forma="01", valor=sale.valor_total + Decimal("10")))
    return sale


def _count_429(ctx: Any) -> list[int]:
    seen = [0]
    original = ctx.budget.observe

    def observe(headers: Any, status_code: int) -> None:
        if status_code == 429:
            seen[0] += 1
        original(headers, status_code)

    ctx.budget.observe = observe
    return seen


def _time_leases(ctx: Any) -> list[float]:
    """Seconds spent taking a slot of the Focus budget (the store's ``FOR UPDATE`` round trip), summed."""
    spent = [0.0]
    original = ctx.budget.acquire

    def acquire(*args: Any, **kwargs: Any) -> bool:
        t = time.perf_counter()
        try:
            return bool(original(*args, **kwargs))
        finally:
            spent[0] += time.perf_counter() - t

    ctx.budget.acquire = acquire
    return spent


def main() -> int:
    from pos_app.app import open_app
    from pos_app.core.services.emission import EmissionService

    mode, folder = sys.argv[1], Path(sys.argv[2])
    os.environ["POS_DATA_DIR"] = str(folder)
    ctx = open_app(folder, start_sandbox=False)
    out: dict[str, Any] = {"terminal": ctx.config.terminal_id}
    try:
        if mode == "live":
            start_at, n, interval = float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
            svc = EmissionService(ctx)
            # One untimed sale first (imports, first HTTP and PostgreSQL connections, caches): every
            # process does it before the synchronised start, alone or among N, so only warm sales are timed.
            svc.checkout(_sale(ctx))
            hits = _count_429(ctx)
            leases = _time_leases(ctx)
            time.sleep(max(0.0, start_at - time.time()) + random.uniform(0, interval))
            sales = []
            for _ in range(n):
                leases[0] = 0.0
                t0 = time.time()
                result = svc.checkout(_sale(ctx))
                t1 = time.time()
                sales.append(
                    {
                        "sale_id": result.sale_id,
                        "t0": t0,
                        "latency": t1 - t0,
                        "lease": leases[0],
                        "status": result.status,
                    }
                )
                time.sleep(max(0.0, interval - (time.time() - t0)))
            end = time.time() + 20
            while (
                time.time() < end
                and ctx.store.database.query_one("SELECT count(*) AS n FROM store_outbox")["n"]
            ):
                time.sleep(0.1)
            out.update(sales=sales, live_429=hits[0])
        elif mode == "make":
            svc = EmissionService(ctx)
            for _ in range(int(sys.argv[3])):
                svc.checkout(_sale(ctx))
            out["backlog"] = ctx.store.database.query_one(
                "SELECT count(*) AS n FROM fiscal_documents WHERE kind = 'contingencia'"
            )["n"]
        elif mode == "drain":
            from pos_app.core.services.replay import ReplayService

            start_at = float(sys.argv[3])
            ctx.config.set("focus.url", sys.argv[4])
            ctx.reset_client()
            hits = _count_429(ctx)
            assert ctx.budget.connect_now()  # type: ignore[attr-defined]
            time.sleep(max(0.0, start_at - time.time()))
            import threading

            svc = ReplayService(ctx)
            pending = "SELECT count(*) AS n FROM fiscal_documents WHERE status = 'contingencia_pendente'"
            deadline = time.time() + 300

            def replay() -> None:
                while ctx.store.database.query_one(pending)["n"] and time.time() < deadline:
                    svc.run_once()

            worker = threading.Thread(target=replay)
            worker.start()
            # the backlog is drained when its last note was transmitted (XML downloads come after)
            while ctx.store.database.query_one(pending)["n"] and time.time() < deadline:
                time.sleep(0.02)
            end = time.time()
            worker.join()
            out.update(
                end=end,
                drain_429=hits[0],
                shared=getattr(ctx.budget, "shared", None),
                left=ctx.store.database.query_one(
                    "SELECT count(*) AS n FROM fiscal_documents WHERE status = 'contingencia_pendente'"
                )["n"],
            )
    finally:
        ctx.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
