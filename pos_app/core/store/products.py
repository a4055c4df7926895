"""Product catalog: exact lookup by EAN or code, and full-text prefix search."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pos_app.core.domain.catalog import Product
from pos_app.core.store.db import SqliteDatabase
from pos_app.core.store.tax_groups import GROUP_JOIN_COLUMNS, group_from_db

_COLUMNS = (
    "codigo, ean, descricao, ncm, cfop, unidade, preco, icms_origem, icms_situacao_tributaria, "
    "tributos_percentual, cest, grupo_tributario"
)
_SELECT = (
    f"SELECT p.*, {GROUP_JOIN_COLUMNS} FROM products p LEFT JOIN tax_groups g ON g.nome = p.grupo_tributario"
)


def _row_to_product(row: dict[str, Any]) -> Product:
    return Product(
        id=row["id"],
        codigo=row["codigo"],
        ean=row["ean"],
        descricao=row["descricao"],
        ncm=row["ncm"],
        cfop=row["cfop"],
        unidade=row["unidade"],
        preco=Decimal(row["preco"]),
        icms_origem=row["icms_origem"],
        icms_situacao_tributaria=row["icms_situacao_tributaria"],
        tributos_percentual=Decimal(row["tributos_percentual"]),
        cest=row["cest"],
        grupo_tributario=row.get("grupo_tributario"),
        tax_group=group_from_db(row, "g_") if row.get("g_id") is not None else None,
    )


def _values(p: Product) -> list[Any]:
    return [
        p.codigo,
        p.ean or None,
        p.descricao,
        p.ncm,
        p.cfop,
        p.unidade,
        str(p.preco),
        p.icms_origem,
        p.icms_situacao_tributaria,
        str(p.tributos_percentual),
        p.cest,
        p.grupo_tributario,
    ]


class ProductsRepo:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def upsert_many(self, products: Iterable[Product]) -> int:
        """Insert or update by ``codigo`` in one transaction. Returns how many were written."""
        count = 0
        placeholders = ", ".join("?" for _ in _COLUMNS.split(","))
        updates = ", ".join(
            # a CSV without the grupo_tributario column keeps the product's group
            f"{c} = coalesce(excluded.{c}, products.{c})"
            if c == "grupo_tributario"
            else f"{c} = excluded.{c}"
            for c in (c.strip() for c in _COLUMNS.split(",")[1:])
        )
        sql = (
            f"INSERT INTO products ({_COLUMNS}, ativo) VALUES ({placeholders}, 1) "
            f"ON CONFLICT(codigo) DO UPDATE SET {updates}, ativo = 1"
        )
        with self._db.transaction() as db:
            for p in products:
                db.execute(sql, _values(p))
                count += 1
        return count

    def count(self) -> int:
        row = self._db.query_one("SELECT count(*) AS n FROM products WHERE ativo = 1")
        return int(row["n"]) if row else 0

    def by_id(self, product_id: int) -> Product | None:
        row = self._db.query_one(f"{_SELECT} WHERE p.id = ?", [product_id])
        return _row_to_product(row) if row else None

    def lookup(self, code: str) -> Product | None:
        """Exact match on EAN first (what a scanner sends), then on the internal code."""
        code = code.strip()
        if not code:
            return None
        row = self._db.query_one(f"{_SELECT} WHERE p.ean = ? AND p.ativo = 1", [code])
        if row is None:
            row = self._db.query_one(f"{_SELECT} WHERE p.codigo = ? AND p.ativo = 1", [code])
        return _row_to_product(row) if row else None

    def search(self, text: str, limit: int = 50) -> list[Product]:
        """Prefix search over description, code and EAN: ``arr cam`` finds ``ARROZ CAMIL``."""
        terms = [t for t in re.split(r"[^\w]+", text.strip()) if t]
        if not terms:
            return []
        match = " ".join(f'"{t}"*' for t in terms)
        rows = self._db.query(
            f"SELECT p.*, {GROUP_JOIN_COLUMNS} FROM products_fts f JOIN products p ON p.id = f.rowid "
            "LEFT JOIN tax_groups g ON g.nome = p.grupo_tributario "
            "WHERE products_fts MATCH ? AND p.ativo = 1 ORDER BY rank LIMIT ?",
            [match, limit],
        )
        return [_row_to_product(r) for r in rows]

    def all(self, limit: int | None = None) -> list[Product]:
        from pos_app.core.domain.collation import sort_key  # Portuguese order: "AÇÚCAR" before "ARROZ"

        products = sorted(
            (_row_to_product(r) for r in self._db.query(f"{_SELECT} WHERE p.ativo = 1")),
            key=lambda p: sort_key(p.descricao),
        )
        return products[: int(limit)] if limit else products
