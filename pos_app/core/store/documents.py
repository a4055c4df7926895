"""Fiscal documents (NFC-e attempts and contingency notes) and their state history."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from pos_app.core.store.db import SqliteDatabase, iso, utcnow
from pos_app.core.store.packed import pack_text, trim_final_answer, unpack_row

# States from which nothing more will happen to a document.
FINAL_STATES = frozenset({"autorizado", "cancelado", "denegado", "encerrado"})


class DocumentsRepo:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def create(self, tx: Database, *, sale_id: int, ref: str, kind: str, status: str, ambiente: str,
               data_emissao: datetime, payload: dict[str, Any], **fields: Any) -> int:
        now = iso(utcnow())
        cols = {
            "sale_id": sale_id,
            "ref": ref,
            "kind": kind,
            "status": status,
            "ambiente": ambiente,
            "data_emissao": iso(data_emissao),
            "payload": pack_text(json.dumps(payload, ensure_ascii=False)),
            "created_at": now,
            "updated_at": now,
            **fields,
        }
        names = ", ".join(cols)
        marks = ", ".join("?" for _ in cols)
        cur = tx.execute(f"INSERT INTO fiscal_documents ({names}) VALUES ({marks})", list(cols.values()))
        doc_id = int(cur.lastrowid or 0)
        self._event(tx, doc_id, None, status, note="criado")
        return doc_id

    def transition(
        self,
        doc_id: int,
        to_status: str,
        *,
        http_status: int | None = None,
        response: Any = None,
        note: str | None = None,
        tx: Database | None = None,
        **fields: Any,
    ) -> None:
        """Change state (and any fields) and record the transition with the raw API answer."""
        if tx is None:
            with self._db.transaction() as own:
                self.transition(doc_id, to_status, http_status=http_status, response=response,
                                note=note, tx=own, **fields)
            return
        row = tx.execute("SELECT status FROM fiscal_documents WHERE id = ?", [doc_id]).fetchone()
        if row is None:
            raise KeyError(f"documento {doc_id} não existe")
        fields["status"] = to_status
        fields["updated_at"] = iso(utcnow())
        if isinstance(fields.get("payload"), str):
            fields["payload"] = pack_text(fields["payload"])
        sets = ", ".join(f"{k} = ?" for k in fields)
        tx.execute(f"UPDATE fiscal_documents SET {sets} WHERE id = ?", [*fields.values(), doc_id])
        self._event(tx, doc_id, row[0], to_status, http_status=http_status, response=response, note=note)

    def update(self, doc_id: int, **fields: Any) -> None:
        """Change fields without a state transition (paths, attempt counters)."""
        fields["updated_at"] = iso(utcnow())
        if isinstance(fields.get("payload"), str):
            fields["payload"] = pack_text(fields["payload"])
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._db.transaction() as tx:
            tx.execute(f"UPDATE fiscal_documents SET {sets} WHERE id = ?", [*fields.values(), doc_id])

    def _event(self, tx: Database, doc_id: int, from_status: str | None, to_status: str, *,
               http_status: int | None = None, response: Any = None, note: str | None = None) -> None:
        response = trim_final_answer(response, to_status)
        if response is not None and not isinstance(response, str):
            response = json.dumps(response, ensure_ascii=False, default=str)
        tx.execute(
            "INSERT INTO document_events (document_id, at, from_status, to_status, http_status, response, note) "
            "VALUES (?,?,?,?,?,?,?)",
            [doc_id, iso(utcnow()), from_status, to_status, http_status, pack_text(response), note],
        )

    def get(self, doc_id: int) -> dict[str, Any] | None:
        return unpack_row(self._db.query_one("SELECT * FROM fiscal_documents WHERE id = ?", [doc_id]), "payload")

    def by_ref(self, ref: str) -> dict[str, Any] | None:
        return unpack_row(self._db.query_one("SELECT * FROM fiscal_documents WHERE ref = ?", [ref]), "payload")

    def for_sale(self, sale_id: int) -> list[dict[str, Any]]:
        rows = self._db.query("SELECT * FROM fiscal_documents WHERE sale_id = ? ORDER BY id", [sale_id])
        return [unpack_row(r, "payload") or r for r in rows]

    def with_status(self, *statuses: str, order: str = "id") -> list[dict[str, Any]]:
        marks = ", ".join("?" for _ in statuses)
        rows = self._db.query(
            f"SELECT * FROM fiscal_documents WHERE status IN ({marks}) ORDER BY {order}", list(statuses)
        )
        return [unpack_row(r, "payload") or r for r in rows]

    def events(self, doc_id: int) -> list[dict[str, Any]]:
        rows = self._db.query("SELECT * FROM document_events WHERE document_id = ? ORDER BY id", [doc_id])
        return [unpack_row(r, "response") or r for r in rows]

    def has_api_work(self) -> bool:
        """Anything the replay still has to send, consult or download? Three index look-ups
        (open states, the partial indexes of issue 20): never a scan of the authorized notes."""
        row = self._db.query_one(
            "SELECT EXISTS (SELECT 1 FROM fiscal_documents WHERE status IN "
            "('contingencia_pendente', 'transmitindo', 'aguardando_conexao', 'em_duvida', 'enviando', 'pendente')) "
            "OR EXISTS (SELECT 1 FROM fiscal_documents WHERE focus_contingencia = 1 "
            "AND focus_contingencia_efetivada = 0 AND +status = 'autorizado') "
            "OR EXISTS (SELECT 1 FROM fiscal_documents WHERE caminho_xml IS NOT NULL AND xml_path IS NULL "
            "AND +status IN ('autorizado', 'cancelado')) AS n"
        )
        return bool(row and row["n"])

    def count_by_status(self) -> dict[str, int]:
        rows = self._db.query("SELECT status, count(*) AS n FROM fiscal_documents GROUP BY status")
        return {r["status"]: int(r["n"]) for r in rows}


class SeriesCounters:
    """Per-series numbering of contingency notes: strictly increasing, never reused.

    ``take`` must run inside the transaction that stores the document using the number, so a
    crash either keeps both or neither.
    """

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def take(self, tx: Database, serie: int) -> int:
        row = tx.execute("SELECT next_numero FROM series_counters WHERE serie = ?", [serie]).fetchone()
        if row is None:
            # Never below a number this database already used in the series.
            used = tx.execute(
                "SELECT max(numero) FROM fiscal_documents WHERE serie = ? AND kind = 'contingencia'", [serie]
            ).fetchone()
            numero = int(used[0] or 0) + 1
            tx.execute("INSERT INTO series_counters (serie, next_numero) VALUES (?, ?)", [serie, numero + 1])
            return numero
        numero = int(row[0])
        tx.execute("UPDATE series_counters SET next_numero = ? WHERE serie = ?", [numero + 1, serie])
        return numero

    def peek(self, serie: int) -> int:
        row = self._db.query_one("SELECT next_numero FROM series_counters WHERE serie = ?", [serie])
        return int(row["next_numero"]) if row else 1

    def ensure_at_least(self, serie: int, next_numero: int) -> None:
        """Raise the counter (e.g. a terminal restored from backup); never lowers it."""
        with self._db.transaction() as tx:
            current = tx.execute("SELECT next_numero FROM series_counters WHERE serie = ?", [serie]).fetchone()
            if current is None:
                tx.execute("INSERT INTO series_counters (serie, next_numero) VALUES (?, ?)", [serie, next_numero])
            elif int(current[0]) < next_numero:
                tx.execute("UPDATE series_counters SET next_numero = ? WHERE serie = ?", [next_numero, serie])
