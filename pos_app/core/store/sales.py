"""Sales, their items and payments, stored exactly as sold."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from pos_app.core.domain.sale import Sale
from pos_app.core.store.db import SqliteDatabase, iso


class SalesRepo:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def insert(
        self,
        tx: Database,
        sale: Sale,
        *,
        terminal_id: str,
        operador_id: int | None,
        created_at: datetime,
        extra: dict[str, Any] | None = None,
    ) -> int:
        """Write the sale inside the caller's transaction ``tx`` and return its id."""
        cur = tx.execute(
            "INSERT INTO sales (terminal_id, operador_id, created_at, valor_produtos, valor_desconto, "
            "valor_total, total_pago, troco, valor_tributos, cpf, cnpj) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                terminal_id,
                operador_id,
                iso(created_at),
                str(sale.valor_produtos),
                str(sale.valor_desconto),
                str(sale.valor_total),
                str(sale.total_pago),
                str(sale.troco),
                str(sale.valor_tributos),
                sale.cpf or None,
                sale.cnpj or None,
            ],
        )
        sale_id = int(cur.lastrowid or 0)
        for n, item in enumerate(sale.items, start=1):
            p = item.product
            tx.execute(
                "INSERT INTO sale_items (sale_id, numero_item, product_id, codigo, ean, descricao, ncm, cfop, "
                "unidade, quantidade, valor_unitario, valor_bruto, valor_desconto, icms_origem, "
                "icms_situacao_tributaria, valor_tributos, cest) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    sale_id,
                    n,
                    p.id,
                    p.codigo,
                    p.ean,
                    p.descricao,
                    p.ncm,
                    p.cfop,
                    p.unidade,
                    str(item.quantidade),
                    str(item.valor_unitario),
                    str(item.valor_bruto),
                    str(item.valor_desconto),
                    p.icms_origem,
                    p.icms_situacao_tributaria,
                    str(item.valor_tributos),
                    p.cest,
                ],
            )
        for seq, pay in enumerate(sale.payments, start=1):
            tx.execute(
                "INSERT INTO payments (sale_id, seq, forma, valor, bandeira, cnpj_credenciadora, "
                "numero_autorizacao, pix_brcode) VALUES (?,?,?,?,?,?,?,?)",
                [
                    sale_id,
                    seq,
                    pay.forma,
                    str(pay.valor),
                    pay.bandeira,
                    pay.cnpj_credenciadora,
                    pay.numero_autorizacao,
                    pay.pix_brcode,
                ],
            )
        if extra:
            sets = ", ".join(f"{k} = ?" for k in extra)
            tx.execute(f"UPDATE sales SET {sets} WHERE id = ?", [*extra.values(), sale_id])
        return sale_id

    def get(self, sale_id: int) -> dict[str, Any] | None:
        sale = self._db.query_one("SELECT * FROM sales WHERE id = ?", [sale_id])
        if sale is None:
            return None
        sale["items"] = self._db.query(
            "SELECT * FROM sale_items WHERE sale_id = ? ORDER BY numero_item", [sale_id]
        )
        sale["payments"] = self._db.query("SELECT * FROM payments WHERE sale_id = ? ORDER BY seq", [sale_id])
        return sale

    def count(self) -> int:
        row = self._db.query_one("SELECT count(*) AS n FROM sales")
        return int(row["n"]) if row else 0
