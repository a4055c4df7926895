"""Tax groups (grupos tributários) in SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pos_app.core.domain.tax_group import TaxGroup
from pos_app.core.store.db import SqliteDatabase

_DECIMALS = (
    "icms_aliquota",
    "icms_reducao_base_calculo",
    "fcp_percentual",
    "pis_aliquota_porcentual",
    "cofins_aliquota_porcentual",
    "tributos_percentual",
)
_TEXTS = (
    "icms_origem",
    "icms_situacao_tributaria",
    "icms_modalidade_base_calculo",
    "pis_situacao_tributaria",
    "cofins_situacao_tributaria",
    "ibs_cbs_situacao_tributaria",
    "ibs_cbs_classificacao_tributaria",
    "cest",
)


def group_from_db(row: dict[str, Any], prefix: str = "") -> TaxGroup:
    values: dict[str, Any] = {name: row[prefix + name] for name in _TEXTS}
    for name in _DECIMALS:
        raw = row[prefix + name]
        values[name] = Decimal(raw) if raw not in (None, "") else None
    return TaxGroup(nome=row[prefix + "nome"], id=row[prefix + "id"], **values)


def _db_values(group: TaxGroup) -> dict[str, Any]:
    values: dict[str, Any] = {"nome": group.nome.strip()}
    for name in _TEXTS:
        values[name] = getattr(group, name)
    for name in _DECIMALS:
        value = getattr(group, name)
        values[name] = None if value is None else str(value)
    return values


GROUP_JOIN_COLUMNS = ", ".join(f"g.{c} AS g_{c}" for c in ("id", "nome", *_TEXTS, *_DECIMALS))
"""Columns to select with ``LEFT JOIN tax_groups g`` so :func:`group_from_db` reads ``g_`` names."""


class TaxGroupsRepo:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def all(self) -> list[TaxGroup]:
        return [group_from_db(r) for r in self._db.query("SELECT * FROM tax_groups ORDER BY nome")]

    def by_name(self, nome: str) -> TaxGroup | None:
        row = self._db.query_one("SELECT * FROM tax_groups WHERE nome = ?", [nome.strip()])
        return group_from_db(row) if row else None

    def upsert(self, group: TaxGroup, tx: Any = None) -> None:
        """Insert or replace by name (case-insensitive). The caller validated the group."""
        values = _db_values(group)
        values["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        updates = ", ".join(f"{c} = excluded.{c}" for c in values if c != "nome")
        sql = f"INSERT INTO tax_groups ({cols}) VALUES ({marks}) ON CONFLICT(nome) DO UPDATE SET {updates}"
        if tx is not None:
            tx.execute(sql, list(values.values()))
            return
        with self._db.transaction() as db:
            db.execute(sql, list(values.values()))

    def usage(self, nome: str) -> int:
        row = self._db.query_one(
            "SELECT count(*) AS n FROM products WHERE grupo_tributario = ? AND ativo = 1", [nome.strip()]
        )
        return int(row["n"]) if row else 0

    def delete(self, nome: str) -> bool:
        """Remove a group no active product references. Returns False when it did not exist."""
        with self._db.transaction() as db:
            cur = db.execute("DELETE FROM tax_groups WHERE nome = ?", [nome.strip()])
            return bool(cur.rowcount)

    def assign(self, codigo: str, nome: str | None) -> bool:
        with self._db.transaction() as db:
            cur = db.execute("UPDATE products SET grupo_tributario = ? WHERE codigo = ?", [nome, codigo])
            return bool(cur.rowcount)

    def sync_product_cst(self, codigo: str) -> None:
        """Keep the product's own origin/CST columns equal to its group's (receipts and reports read them)."""
        with self._db.transaction() as db:
            db.execute(
                "UPDATE products SET icms_origem = (SELECT g.icms_origem FROM tax_groups g WHERE g.nome = "
                "products.grupo_tributario), icms_situacao_tributaria = (SELECT g.icms_situacao_tributaria FROM "
                "tax_groups g WHERE g.nome = products.grupo_tributario) WHERE codigo = ?",
                [codigo],
            )
