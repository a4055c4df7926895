"""Print jobs: every thermal print of a DANFCe (original or second copy) and the ones waiting for a
printer to come back. Table created by the ``print_jobs`` migration."""

from __future__ import annotations

from typing import Any

from pos_app.core.store.db import SqliteDatabase, iso, utcnow

ORIGINAL = "original"
SEGUNDA_VIA = "segunda_via"

PENDENTE = "pendente"
IMPRESSO = "impresso"
DESCARTADO = "descartado"


class PrintJobsRepo:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def create(
        self,
        document_id: int,
        kind: str,
        *,
        printer: str,
        requested_by: int | None = None,
        authorized_by: int | None = None,
        open_drawer: bool = False,
    ) -> int:
        now = iso(utcnow())
        with self._db.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO print_jobs (document_id, kind, status, printer, requested_by, authorized_by, "
                "open_drawer, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    document_id,
                    kind,
                    PENDENTE,
                    printer,
                    requested_by,
                    authorized_by,
                    int(open_drawer),
                    now,
                    now,
                ],
            )
            return int(cur.lastrowid or 0)

    def get(self, job_id: int) -> dict[str, Any] | None:
        return self._db.query_one("SELECT * FROM print_jobs WHERE id = ?", [job_id])

    def mark_printed(self, job_id: int, printer: str) -> None:
        now = iso(utcnow())
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE print_jobs SET status = ?, printer = ?, attempts = attempts + 1, last_error = NULL, "
                "printed_at = ?, updated_at = ? WHERE id = ?",
                [IMPRESSO, printer, now, now, job_id],
            )

    def mark_failed(self, job_id: int, printer: str, error: str) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE print_jobs SET printer = ?, attempts = attempts + 1, last_error = ?, updated_at = ? "
                "WHERE id = ?",
                [printer, error, iso(utcnow()), job_id],
            )

    def discard(self, job_id: int, reason: str) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE print_jobs SET status = ?, last_error = ?, updated_at = ? WHERE id = ?",
                [DESCARTADO, reason, iso(utcnow()), job_id],
            )

    def set_authorized_by(self, job_id: int, user_id: int | None) -> None:
        with self._db.transaction() as tx:
            tx.execute("UPDATE print_jobs SET authorized_by = ? WHERE id = ?", [user_id, job_id])

    def pending(self) -> list[dict[str, Any]]:
        """Jobs waiting for the printer, oldest first, with their document's identification."""
        return self._db.query(
            "SELECT j.*, d.ref, d.numero, d.serie, d.status AS document_status, d.sale_id "
            "FROM print_jobs j JOIN fiscal_documents d ON d.id = j.document_id "
            "WHERE j.status = ? ORDER BY j.id",
            [PENDENTE],
        )

    def pending_for(self, document_id: int, kind: str) -> dict[str, Any] | None:
        return self._db.query_one(
            "SELECT * FROM print_jobs WHERE document_id = ? AND kind = ? AND status = ? ORDER BY id LIMIT 1",
            [document_id, kind, PENDENTE],
        )

    def printed_count(self, document_id: int) -> int:
        row = self._db.query_one(
            "SELECT count(*) AS n FROM print_jobs WHERE document_id = ? AND status = ?",
            [document_id, IMPRESSO],
        )
        return int(row["n"]) if row else 0

    def for_document(self, document_id: int) -> list[dict[str, Any]]:
        return self._db.query("SELECT * FROM print_jobs WHERE document_id = ? ORDER BY id", [document_id])
