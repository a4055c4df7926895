"""Customers shared by a store's checkouts: a customer saved at one checkout, seen at another.

Figures (one run, two checkouts in this process, each with its background sync at the product's 1 s interval,
one real PostgreSQL): ``store_customer_propagation_s_median`` / ``_p95`` from ``ClientesRepo.save`` on CX01 to
the row (with that edit) on CX02, over ``STORE_BENCH_CUSTOMERS`` (20) saves alternating new customers and edits;
``store_customer_edit_back_s_median`` the same from CX02 back to CX01 (an edit of a pulled customer).
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from store_bench import _copy, _seed, pg_kit  # store_bench puts tests/ on sys.path for pg_kit


def _cliente(documento: str, numero: str) -> Any:
    from pos_app.core.store.clientes import Cliente

    return Cliente(
        documento=documento,
        nome="CLIENTE DE TESTE LTDA",
        logradouro="Rua das Flores",
        numero=numero,
        bairro="Centro",
        codigo_municipio="4106902",
        municipio="Curitiba",
        uf="PR",
        cep="80010000",
    )


def _until(cond: Any, timeout: float = 30.0) -> float:
    start = time.perf_counter()
    while not cond():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("cliente não chegou ao outro caixa")
        time.sleep(0.005)
    return time.perf_counter() - start


def customer_figures(results: dict[str, Any]) -> None:
    from pos_app.app import open_app
    from pos_app.sandbox import SandboxServer

    n = int(os.environ.get("STORE_BENCH_CUSTOMERS", "20"))
    docs = ["11222333000181", "11444777000161", "12ABC34501DE35"]
    server = pg_kit.start_postgres()
    tmp = Path(tempfile.mkdtemp(prefix="pos-store-customers-"))
    opened: list[Any] = []
    try:
        with SandboxServer(rate_limit=None) as api:
            _seed(tmp / "template", api.url, server.url, 600)
            a = open_app(_copy(tmp / "template", tmp / "a", "CX01"), start_sandbox=False)
            opened.append(a)
            b = open_app(_copy(tmp / "template", tmp / "b", "CX02"), start_sandbox=False)
            opened.append(b)
            forth, back = [], []
            for i in range(n):
                doc, numero = docs[i % len(docs)], str(100 + i)
                t = time.perf_counter()
                a.store.clientes.save(_cliente(doc, numero))
                _until(lambda d=doc, k=numero: (c := b.store.clientes.get(d)) is not None and c.numero == k)
                forth.append(time.perf_counter() - t)
                if i % 4 == 3:
                    t = time.perf_counter()
                    b.store.clientes.save(_cliente(doc, numero + "B"))
                    _until(lambda d=doc, k=numero + "B": a.store.clientes.get(d).numero == k)
                    back.append(time.perf_counter() - t)
        forth.sort()
        results["store_customer_propagation_s_median"] = round(statistics.median(forth), 3)
        results["store_customer_propagation_s_p95"] = round(forth[round(0.95 * (len(forth) - 1))], 3)
        results["store_customer_edit_back_s_median"] = round(statistics.median(back), 3) if back else None
        results["store_customer_samples"] = [len(forth), len(back)]
    finally:
        for ctx in opened:
            ctx.close()
        server.stop(remove=True)
        shutil.rmtree(tmp, ignore_errors=True)
