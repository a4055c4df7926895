"""Tax groups of the demo catalog, for the emitter's regime.

``resources/demo_tax_groups.csv`` holds the groups of both regimes (Simples Nacional: CSOSN 102,
500, 400; regime normal: CST 00 18 %, CST 20 with reduction, CST 60 ST, CST 40 isento) and
``resources/demo_catalog_tax.csv`` which group each demo product takes in each regime. Switching the
demo company to another regime re-applies the matching column (``pos-app tributacao demo``).
"""

from __future__ import annotations

import csv
from typing import Any

from pos_app.core import paths
from pos_app.core.services.tax_catalog import import_tax_groups_rows

__all__ = ["apply_demo_tax_groups"]


def apply_demo_tax_groups(ctx: Any, regime: str | None = None) -> int:
    """Store the demo groups and link the demo products to those of ``regime`` (default: the
    configured one). Returns how many products were linked. Products not in the demo list stay."""
    regime = regime or ctx.config.get("emitente.regime") or "simples"
    if regime not in ("simples", "normal"):
        raise ValueError(f"regime inválido: {regime!r}")
    folder = paths.resources_dir()
    with (folder / "demo_tax_groups.csv").open(encoding="utf-8", newline="") as f:
        groups, rejected = import_tax_groups_rows(csv.DictReader(f))
    if rejected:  # shipped data: a broken line is a packaging defect
        raise ValueError(f"demo_tax_groups.csv inválido: {rejected}")
    by_name = {g.nome: g for g in groups}
    with (folder / "demo_catalog_tax.csv").open(encoding="utf-8", newline="") as f:
        mapping = {row["codigo"]: row[regime] for row in csv.DictReader(f)}
    linked = 0
    with ctx.store.transaction() as tx:
        for group in groups:
            ctx.store.tax_groups.upsert(group, tx=tx)
        for codigo, nome in mapping.items():
            group = by_name[nome]
            cur = tx.execute(
                "UPDATE products SET grupo_tributario = ?, icms_origem = ?, icms_situacao_tributaria = ? "
                "WHERE codigo = ?",
                [group.nome, group.icms_origem, group.icms_situacao_tributaria, codigo],
            )
            linked += cur.rowcount
    return linked
