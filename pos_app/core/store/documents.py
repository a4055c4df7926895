"""Fiscal documents (NFC-e attempts and contingency notes) and their state history."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from pos_app.core.errors import InvalidTransition
from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.document_status import DocumentStatus, can_transition
from pos_app.core.store.db import SqliteDatabase, iso, utcnow
from pos_app.core.store.packed import pack_text, trim_final_answer, unpack_row

# States from which nothing more will happen to a document.
FINAL_STATES = ds.FINAL


@dataclass(frozen=True)
class FiscalDocument:
    """One row of ``fiscal_documents``, typed (``status`` is a ``DocumentStatus``)."""

    id: int
    sale_id: int
    ref: str
    kind: str
    status: DocumentStatus
    ambiente: str
    data_emissao: str
    serie: int | None = None
    numero: int | None = None
    chave: str | None = None
    codigo_unico: str | None = None
    tp_emis: int = 1
    status_sefaz: str | None = None
    mensagem_sefaz: str | None = None
    protocolo: str | None = None
    data_autorizacao: str | None = None
    caminho_xml: str | None = None
    caminho_danfe: str | None = None
    caminho_xml_cancelamento: str | None = None
    qrcode_url: str | None = None
    focus_contingencia: bool = False
    focus_contingencia_efetivada: bool = False
    replaces_document_id: int | None = None
    receipt_path: str | None = None
    xml_path: str | None = None
    attempts: int = 0
    next_attempt_at: str | None = None
    last_error: str | None = None
    owner: str | None = None

    @property
    def is_contingency(self) -> bool:
        return self.kind == "contingencia"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FiscalDocument:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in row.items() if k in known}
        values["status"] = DocumentStatus(row["status"])
        values["focus_contingencia"] = bool(row.get("focus_contingencia"))
        values["focus_contingencia_efetivada"] = bool(row.get("focus_contingencia_efetivada"))
        return cls(**values)


class DocumentsRepo:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def create(
        self,
        tx: Database,
        *,
        sale_id: int,
        ref: str,
        kind: str,
        status: DocumentStatus,
        ambiente: str,
        data_emissao: datetime,
        payload: dict[str, Any],
        **fields: Any,
    ) -> int:
        if not can_transition(None, status):
            raise InvalidTransition(ref, None, status)
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
        to_status: DocumentStatus,
        *,
        http_status: int | None = None,
        response: Any = None,
        note: str | None = None,
        tx: Database | None = None,
        **fields: Any,
    ) -> FiscalDocument:
        """Change state (and any fields) and record the transition with the raw API answer.

        Refuses (``InvalidTransition``, nothing written) a move the table in
        ``core.fiscal.document_status`` does not allow; a move to the same state records an event.
        Returns the document as stored after the change.
        """
        if tx is None:
            with self._db.transaction() as own:
                return self.transition(
                    doc_id, to_status, http_status=http_status, response=response, note=note, tx=own, **fields
                )
        row = tx.execute("SELECT status, ref FROM fiscal_documents WHERE id = ?", [doc_id]).fetchone()
        if row is None:
            raise KeyError(f"documento {doc_id} não existe")
        if not can_transition(row[0], to_status):
            raise InvalidTransition(str(row[1]), row[0], to_status)
        fields["status"] = DocumentStatus(to_status)
        fields["updated_at"] = iso(utcnow())
        if isinstance(fields.get("payload"), str):
            fields["payload"] = pack_text(fields["payload"])
        sets = ", ".join(f"{k} = ?" for k in fields)
        tx.execute(f"UPDATE fiscal_documents SET {sets} WHERE id = ?", [*fields.values(), doc_id])
        self._event(tx, doc_id, row[0], to_status, http_status=http_status, response=response, note=note)
        cur = tx.execute("SELECT * FROM fiscal_documents WHERE id = ?", [doc_id])
        names = [d[0] for d in cur.description]
        return FiscalDocument.from_row(dict(zip(names, cur.fetchone(), strict=True)))

    def update(self, doc_id: int, **fields: Any) -> None:
        """Change fields without a state transition (paths, attempt counters)."""
        fields["updated_at"] = iso(utcnow())
        if isinstance(fields.get("payload"), str):
            fields["payload"] = pack_text(fields["payload"])
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._db.transaction() as tx:
            tx.execute(f"UPDATE fiscal_documents SET {sets} WHERE id = ?", [*fields.values(), doc_id])

    def _event(
        self,
        tx: Database,
        doc_id: int,
        from_status: str | None,
        to_status: str,
        *,
        http_status: int | None = None,
        response: Any = None,
        note: str | None = None,
    ) -> None:
        response = trim_final_answer(response, to_status)
        if response is not None and not isinstance(response, str):
            response = json.dumps(response, ensure_ascii=False, default=str)
        tx.execute(
            "INSERT INTO document_events (document_id, at, from_status, to_status, http_status, response, note) "
            "VALUES (?,?,?,?,?,?,?)",
            [doc_id, iso(utcnow()), from_status, to_status, http_status, pack_text(response), note],
        )

    def replaced_attempt(self, doc_id: int) -> dict[str, Any] | None:
        """The online attempt a contingency note replaced (its ``status`` and ``last_error``), if any."""
        return self._db.query_one(
            "SELECT o.status, o.last_error FROM fiscal_documents c JOIN fiscal_documents o "
            "ON o.id = c.replaces_document_id WHERE c.id = ?",
            [doc_id],
        )

    def get(self, doc_id: int) -> dict[str, Any] | None:
        return unpack_row(
            self._db.query_one("SELECT * FROM fiscal_documents WHERE id = ?", [doc_id]), "payload"
        )

    def by_ref(self, ref: str) -> dict[str, Any] | None:
        return unpack_row(
            self._db.query_one("SELECT * FROM fiscal_documents WHERE ref = ?", [ref]), "payload"
        )

    def for_sale(self, sale_id: int) -> list[dict[str, Any]]:
        rows = self._db.query("SELECT * FROM fiscal_documents WHERE sale_id = ? ORDER BY id", [sale_id])
        return [unpack_row(r, "payload") or r for r in rows]

    def document(self, doc_id: int) -> FiscalDocument | None:
        row = self.get(doc_id)
        return FiscalDocument.from_row(row) if row else None

    def with_status(self, *statuses: DocumentStatus, order: str = "id") -> list[dict[str, Any]]:
        marks = ", ".join("?" for _ in statuses)
        rows = self._db.query(
            f"SELECT * FROM fiscal_documents WHERE status IN ({marks}) ORDER BY {order}", sorted(statuses)
        )
        return [unpack_row(r, "payload") or r for r in rows]

    def count_with_status(self, *statuses: DocumentStatus) -> int:
        marks = ", ".join("?" for _ in statuses)
        row = self._db.query_one(
            f"SELECT count(*) AS n FROM fiscal_documents WHERE status IN ({marks})", sorted(statuses)
        )
        return int(row["n"]) if row else 0

    def latest_current_id(self) -> int | None:
        """Id of the newest document that is (or was) a sale's current document (reprint "the last")."""
        excluded = sorted(ds.NOT_CURRENT)
        row = self._db.query_one(
            f"SELECT id FROM fiscal_documents WHERE status NOT IN ({', '.join('?' for _ in excluded)}) "
            "ORDER BY id DESC LIMIT 1",
            excluded,
        )
        return int(row["id"]) if row else None

    def has_backlog(self) -> bool:
        """The one backlog query: is there anything for the background sync to do?

        Notes to send or transmit, attempts to consult or reconcile, Focus contingencies not yet
        made effective, authorized/cancelled XMLs not downloaded yet. Three index look-ups (open
        states, the partial indexes of issue 20): never a scan of the authorized notes.
        Manager actions written ahead whose answer never arrived (issue 18) count too.
        """
        backlog = sorted(ds.BACKLOG)
        xml = sorted(ds.HAS_API_XML)
        row = self._db.query_one(
            "SELECT EXISTS (SELECT 1 FROM fiscal_documents WHERE status IN "
            f"({', '.join('?' for _ in backlog)})) "
            "OR EXISTS (SELECT 1 FROM fiscal_documents WHERE focus_contingencia = 1 "
            "AND focus_contingencia_efetivada = 0 AND +status = ?) "
            "OR EXISTS (SELECT 1 FROM fiscal_documents WHERE caminho_xml IS NOT NULL AND xml_path IS NULL "
            f"AND +status IN ({', '.join('?' for _ in xml)})) "
            # manager actions written ahead and not answered yet (issue 18; partial index)
            f"OR EXISTS (SELECT 1 FROM pending_actions WHERE status = '{ds.PendingActionStatus.PENDENTE.value}') "
            # RPS batches whose request never got its answer (a handful of rows at most)
            f"OR EXISTS (SELECT 1 FROM lotes_rps WHERE status IN ('{ds.LoteRpsStatus.ENVIANDO.value}', "
            f"'{ds.LoteRpsStatus.EM_DUVIDA.value}')) "
            # ECONF queued or due (econf_0001_events)
            "OR EXISTS (SELECT 1 FROM econf_events WHERE status IN (?, ?) AND (next_attempt_at IS NULL "
            "OR next_attempt_at <= ?)) AS n",
            [
                *backlog,
                DocumentStatus.AUTORIZADO,
                *xml,
                ds.EconfStatus.AVALIAR,
                ds.EconfStatus.PENDENTE,
                iso(utcnow()),
            ],
        )
        return bool(row and row["n"])

    has_api_work = has_backlog  # issue 20's name for the same query

    def events(self, doc_id: int) -> list[dict[str, Any]]:
        rows = self._db.query("SELECT * FROM document_events WHERE document_id = ? ORDER BY id", [doc_id])
        return [unpack_row(r, "response") or r for r in rows]

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
            current = tx.execute(
                "SELECT next_numero FROM series_counters WHERE serie = ?", [serie]
            ).fetchone()
            if current is None:
                tx.execute(
                    "INSERT INTO series_counters (serie, next_numero) VALUES (?, ?)", [serie, next_numero]
                )
            elif int(current[0]) < next_numero:
                tx.execute("UPDATE series_counters SET next_numero = ? WHERE serie = ?", [next_numero, serie])
