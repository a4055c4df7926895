"""Figures of the contingency path for ``tests/bench/bench.py``.

- :func:`contingency_sale_ms`: from "finalize" (``checkout``) to the two-copy DANFCe PDF on disk,
  when the link is already known to be down (target: at most 150 ms);
- :func:`replay_notes_per_s`: contingency notes transmitted per second by one replay pass against
  the sandbox with no rate limit (target: at least 30).

Both use the given demo context (store + embedded sandbox) and leave contingency notes in it.
"""

from __future__ import annotations

import statistics
import time
from decimal import Decimal
from pathlib import Path

from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.services.context import AppContext
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.monitor import ConnectivityMonitor
from pos_app.core.services.replay import ReplayService

BENCH_CODES = ("1001", "1004", "1021", "1022")


def bench_sale(ctx: AppContext, codes: tuple[str, ...] = BENCH_CODES) -> Sale:
    sale = Sale()
    for code in codes:
        product = ctx.store.products.lookup(code) or ctx.store.products.all(limit=1)[0]
        sale.add_item(product, Decimal(1))
    sale.add_payment(Payment(forma="01", valor=sale.valor_total + Decimal("10")))
    return sale


def _link_down(ctx: AppContext) -> ConnectivityMonitor:
    monitor = ConnectivityMonitor(ctx.base_url)
    monitor.report(False)
    return monitor


def contingency_sale_ms(ctx: AppContext, runs: int = 9) -> float:
    """Median milliseconds of a sale finalized while the link is known down, receipt PDF included."""
    previous = ctx.monitor
    ctx.monitor = _link_down(ctx)
    try:
        service = EmissionService(ctx)
        times: list[float] = []
        for i in range(runs + 1):
            sale = bench_sale(ctx)
            start = time.perf_counter()
            result = service.checkout(sale)
            elapsed = time.perf_counter() - start
            if not (result.contingencia and result.danfce and Path(result.danfce).is_file()):
                raise RuntimeError(f"venda não saiu em contingência com DANFCe: {result.mensagem}")
            if i:  # the first run warms caches (certificate, fonts)
                times.append(elapsed)
        return statistics.median(times) * 1000
    finally:
        ctx.monitor = previous


def replay_notes_per_s(ctx: AppContext, n: int) -> float:
    """Issue ``n`` contingency notes with the link down, then time one replay pass transmitting them."""
    previous = ctx.monitor
    ctx.monitor = _link_down(ctx)
    try:
        service = EmissionService(ctx)
        for _ in range(n):
            service.checkout(bench_sale(ctx), receipt=False)
    finally:
        ctx.monitor = previous
    sandbox = ctx.sandbox
    old_limit = sandbox.limiter.limit if sandbox is not None else None
    if sandbox is not None:
        sandbox.limiter.limit = None
    try:
        replay = ReplayService(ctx)
        start = time.perf_counter()
        report = replay.run_once()
        elapsed = time.perf_counter() - start
    finally:
        if sandbox is not None:
            sandbox.limiter.limit = old_limit
    if len(report.transmitidas) < n:
        raise RuntimeError(f"replay transmitiu {len(report.transmitidas)} de {n}: {report.interrompido}")
    return len(report.transmitidas) / elapsed


# -- history at scale (issue 20) ---------------------------------------------------------------
HISTORY_CODES = ("1001", "1004", "1021", "1022", "1002", "1003", "1005", "1006")  # 8 items


def history_templates(ctx: AppContext) -> dict[str, int]:
    """Sales made by the program itself, as models for ``store.bulk.replicate_history``: 8 items
    each; 11 paid cash, 3 in two payments (cash + card), 1 issued offline (contingency, then
    transmitted by the replay) and 1 cancelled by the manager. Returns counts by kind."""
    from pos_app.core.services.cancellation import CancellationService

    products = [ctx.store.products.lookup(c) for c in HISTORY_CODES]
    if any(p is None for p in products):
        products = ctx.store.products.all(limit=8)
    service = EmissionService(ctx)

    def sale(two_payments: bool = False, cpf: str | None = None) -> Sale:
        s = Sale()
        for product in products:
            s.add_item(product, Decimal(1))
        if two_payments:
            s.add_payment(Payment(forma="03", valor=Decimal("10.00"), bandeira="01"))
            s.add_payment(Payment(forma="01", valor=s.valor_total - Decimal("10.00") + Decimal("5")))
        else:
            s.add_payment(Payment(forma="01", valor=s.valor_total + Decimal("10")))
        s.cpf = cpf
        return s

    for i in range(11):
        service.checkout(sale(cpf="52998224725" if i % 4 == 0 else None), receipt=False)
    for _ in range(3):
        service.checkout(sale(two_payments=True), receipt=False)
    previous = ctx.monitor
    ctx.monitor = _link_down(ctx)
    try:
        service.checkout(sale(), receipt=False)
    finally:
        ctx.monitor = previous
    ReplayService(ctx).run_once()
    result = service.checkout(sale(), receipt=False)
    manager = next(u for u in ctx.store.users.all() if u.papel == "gerente")
    CancellationService(ctx).cancel(result.ref, "Cliente desistiu da compra no caixa", manager)
    return {"dinheiro": 11, "dois_pagamentos": 3, "contingencia": 1, "cancelada": 1}
