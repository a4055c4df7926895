"""RPS batches (NFS-e by file) and their state history; tables from the migration ``backoffice_cte_rps``.

States: ``pendente`` (stored, never sent) -> ``enviando`` -> ``gerado`` (the API returned the import
file) | ``rejeitado`` (the API refused the data) | ``em_duvida`` (no answer: consult the ref);
after the city's answer file is sent: ``processado`` (every RPS became an NFS-e), ``com_erros``
(the city refused the batch), ``parcial`` (some RPS still without an answer).
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from pos_app.core.fiscal.document_status import LoteRpsStatus as L
from pos_app.core.store.db import SqliteDatabase, iso, utcnow

LOTE_STATES = frozenset(L)


def _json(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


class LotesRpsRepo:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def transaction(self) -> Any:
        return self._db.transaction()

    def create(
        self,
        tx: Database,
        *,
        ref: str,
        ambiente: str,
        cnpj_prestador: str,
        quantidade: int,
        valor_total: str,
        payload: dict[str, Any],
        user_id: int | None = None,
    ) -> int:
        now = iso(utcnow())
        cur = tx.execute(
            "INSERT INTO lotes_rps (ref, status, ambiente, cnpj_prestador, quantidade, valor_total, payload,"
            " created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [ref, L.PENDENTE, ambiente, cnpj_prestador, quantidade, valor_total, json.dumps(payload, ensure_ascii=False),
             user_id, now, now],
        )  # fmt: skip
        lote_id = int(cur.lastrowid or 0)
        self._event(tx, lote_id, "gerar", None, L.PENDENTE, note="criado")
        return lote_id

    def transition(
        self,
        lote_id: int,
        to_status: str,
        *,
        action: str,
        http_status: int | None = None,
        response: Any = None,
        note: str | None = None,
        **fields: Any,
    ) -> None:
        if to_status not in LOTE_STATES:
            raise ValueError(f"estado de lote desconhecido: {to_status}")
        with self._db.transaction() as tx:
            row = tx.execute("SELECT status FROM lotes_rps WHERE id = ?", [lote_id]).fetchone()
            if row is None:
                raise KeyError(f"lote {lote_id} não existe")
            fields["status"] = to_status
            fields["updated_at"] = iso(utcnow())
            sets = ", ".join(f"{k} = ?" for k in fields)
            tx.execute(f"UPDATE lotes_rps SET {sets} WHERE id = ?", [*fields.values(), lote_id])
            self._event(
                tx, lote_id, action, row[0], to_status, http_status=http_status, response=response, note=note
            )

    def update(self, lote_id: int, **fields: Any) -> None:
        fields["updated_at"] = iso(utcnow())
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._db.transaction() as tx:
            tx.execute(f"UPDATE lotes_rps SET {sets} WHERE id = ?", [*fields.values(), lote_id])

    def _event(
        self,
        tx: Database,
        lote_id: int,
        action: str,
        from_status: str | None,
        to_status: str,
        *,
        http_status: int | None = None,
        response: Any = None,
        note: str | None = None,
    ) -> None:
        tx.execute(
            "INSERT INTO lote_rps_events (lote_id, at, action, from_status, to_status, http_status, response, note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [lote_id, iso(utcnow()), action, from_status, to_status, http_status, _json(response), note],
        )

    def get(self, lote_id: int) -> dict[str, Any] | None:
        return self._db.query_one("SELECT * FROM lotes_rps WHERE id = ?", [lote_id])

    def by_ref(self, ref: str) -> dict[str, Any] | None:
        return self._db.query_one("SELECT * FROM lotes_rps WHERE ref = ?", [ref])

    def unanswered(self, enviando_before: str) -> list[dict[str, Any]]:
        """Batches whose request got no answer: ``em_duvida``, and ``enviando`` unchanged since ``enviando_before``."""
        return self._db.query(
            "SELECT * FROM lotes_rps WHERE status = ? OR (status = ? AND updated_at < ?) ORDER BY id",
            [L.EM_DUVIDA, L.ENVIANDO, enviando_before],
        )

    def recent(self, limit: int = 500) -> list[dict[str, Any]]:
        return self._db.query("SELECT * FROM lotes_rps ORDER BY id DESC LIMIT ?", [limit])

    def events(self, lote_id: int) -> list[dict[str, Any]]:
        return self._db.query("SELECT * FROM lote_rps_events WHERE lote_id = ? ORDER BY id", [lote_id])
