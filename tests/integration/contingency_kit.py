"""Shared pieces of the contingency tests: a terminal pointed at a test-owned sandbox over loopback,
sales from the demo catalog, and the invariants every scenario must end with.

The terminal is a copy of a data folder seeded once per session (demo emitter, A1 certificate,
catalog) and configured as ``focus.ambiente=homologacao`` + ``focus.url`` = the test's sandbox, so
its API calls are real httpx requests over 127.0.0.1 and the test can inject faults in between.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pos_app.app import open_app
from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.services.context import AppContext
from pos_app.core.store import Store
from pos_app.sandbox import DEMO_TOKEN, SandboxServer

ARROZ = "7891102100377"  # 27,90
FEIJAO = "1002"  # 8,49


def seed_template(path: Path) -> Path:
    """Seed a data folder once: demo emitter, certificate, catalog, users; homologação settings."""
    ctx = open_app(path, start_sandbox=False)
    try:
        ctx.config.set("focus.ambiente", "homologacao")
        ctx.config.set("focus.token", DEMO_TOKEN)
        ctx.config.set("focus.timeout", "2")
        ctx.config.set("terminal.id", "CX01")
    finally:
        ctx.close()
    return path


def copy_terminal(template: Path, dest: Path, sandbox_url: str, **settings: str) -> Path:
    shutil.copytree(template, dest)
    ctx = open_app(dest, start_sandbox=False)
    try:
        ctx.config.set("focus.url", sandbox_url)
        for key, value in settings.items():
            ctx.config.set(key.replace("__", "."), value)
    finally:
        ctx.close()
    return dest


def make_sale(ctx: AppContext, *codes: str, cpf: str | None = None, extra_cash: str = "10") -> Sale:
    sale = Sale()
    for code in codes or (ARROZ,):
        product = ctx.store.products.lookup(code)
        assert product is not None, code
        sale.add_item(product, Decimal(1))
    sale.cpf = cpf
    sale.add_payment(Payment(forma="01", valor=sale.valor_total + Decimal(extra_cash)))
    return sale


def docs(store: Store, **where: Any) -> list[dict[str, Any]]:
    sql = "SELECT * FROM fiscal_documents"
    if where:
        sql += " WHERE " + " AND ".join(f"{k} = ?" for k in where)
    return store.database.query(sql + " ORDER BY id", list(where.values()))


def check_invariants(
    store: Store, server: SandboxServer, *, sales_expected: int | None = None
) -> dict[str, int]:
    """What must hold after any scenario (and after a crash, a restart and one sync):

    - every sale has exactly one authorized, non-cancelled note, locally and at the API, and it is
      the same note (same ref and key);
    - no (série, número) and no key is used twice at the API;
    - contingency numbers are 1..N without a gap (none lost) and the counter is past them (none
      reused); every contingency note at the API has the key printed on the receipt and the
      original date of issue.
    """
    sales = [r["id"] for r in store.database.query("SELECT id FROM sales ORDER BY id")]
    if sales_expected is not None:
        assert len(sales) == sales_expected, f"vendas: {len(sales)} != {sales_expected}"
    api = {n.ref: n for n in server.store.notes()}
    for sale_id in sales:
        local = [d for d in docs(store, sale_id=sale_id) if d["status"] == "autorizado"]
        assert len(local) == 1, (
            f"venda {sale_id}: {[(d['ref'], d['status']) for d in docs(store, sale_id=sale_id)]}"
        )
        refs = [d["ref"] for d in docs(store, sale_id=sale_id)]
        authorized_at_api = [r for r in refs if r in api and api[r].status == "autorizado"]
        assert authorized_at_api == [local[0]["ref"]], f"venda {sale_id}: API {authorized_at_api}"
        assert api[local[0]["ref"]].chave == local[0]["chave"], f"venda {sale_id}: chave difere da API"
    issued = [n for n in api.values() if n.status in ("autorizado", "cancelado") and n.numero is not None]
    numbers = Counter((n.serie, n.numero) for n in issued)
    assert all(c == 1 for c in numbers.values()), (
        f"número repetido: {[k for k, c in numbers.items() if c > 1]}"
    )
    keys = Counter(n.chave for n in issued)
    assert all(c == 1 for c in keys.values()), "chave repetida"
    cont = docs(store, kind="contingencia")
    by_serie: dict[int, list[int]] = {}
    for d in cont:
        by_serie.setdefault(int(d["serie"]), []).append(int(d["numero"]))
        note = api.get(d["ref"])
        if d["status"] == "autorizado":
            assert note is not None and note.status == "autorizado"
            assert note.chave == d["chave"] and note.numero == d["numero"] and note.tp_emis == 9
            assert note.dh_emi is not None
            assert datetime.fromisoformat(note.dh_emi) == datetime.fromisoformat(d["data_emissao"])
    for serie, nums in by_serie.items():
        assert sorted(nums) == list(range(1, len(nums) + 1)), f"série {serie}: números {sorted(nums)}"
        assert store.counters.peek(serie) == len(nums) + 1
    return {"vendas": len(sales), "contingencia": len(cont), "api": len(api)}
