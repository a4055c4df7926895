"""Yearly archives of closed periods (issue 20): the live database keeps the current year.

``archive_year`` moves the sales of a past year whose documents are all final (authorized,
cancelled, denied, closed attempts) into ``arquivo-AAAA.sqlite3`` next to the database, with
their items, payments, documents, events, cancellation intents and print jobs, plus the names of
the operators. The archive is written aside, checked (counts and ``quick_check``), flushed and
renamed, made read-only, and only then are the rows deleted from the live database, one day at a
time (short transactions: the terminal keeps selling). A crash in the middle is finished by the
next run (rows already in the archive are deleted from the live file, never copied twice).

Archives are opened read-only (``ArchiveDb``) by the history (screen and CLI) and the XML export,
and copied once into ``backups/`` (``backup_archives``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pos_app.core.fiscal.document_status import ECONF_OPEN, EconfStatus, PendingActionStatus
from pos_app.core.fiscal.document_status import FINAL as FINAL_STATUSES
from pos_app.core.store.db import SqliteDatabase

log = logging.getLogger("pos_app.archive")

_NAME = re.compile(r"^arquivo-(\d{4})\.sqlite3$")
GRACE = timedelta(days=31)
FINAL = tuple(sorted(status.value for status in FINAL_STATUSES))  # nothing more happens to them
_OPEN_ACTION = (
    PendingActionStatus.PENDENTE.value,
    PendingActionStatus.MANUAL.value,
)  # pending_actions not settled
_OPEN_ECONF = ", ".join(
    f"'{s.value}'" for s in sorted((ECONF_OPEN - {EconfStatus.AVALIAR}) | {EconfStatus.EM_DUVIDA})
)  # econf_events sent or to be sent (a rejected one is settled: kept with its message; one never
# evaluated a year later is stale and moves with its sale)
# Tables moved, in parent -> child order, with how their rows hang from the archived sales.
_MOVED = (
    ("sales", "id IN (SELECT id FROM temp.arq_ids)"),
    ("sale_items", "sale_id IN (SELECT id FROM temp.arq_ids)"),
    ("payments", "sale_id IN (SELECT id FROM temp.arq_ids)"),
    ("fiscal_documents", "sale_id IN (SELECT id FROM temp.arq_ids)"),
    (
        "document_events",
        "document_id IN (SELECT id FROM fiscal_documents WHERE sale_id IN (SELECT id FROM temp.arq_ids))",
    ),
    (
        "cancel_intents",
        "document_id IN (SELECT id FROM fiscal_documents WHERE sale_id IN (SELECT id FROM temp.arq_ids))",
    ),
    (
        "print_jobs",
        "document_id IN (SELECT id FROM fiscal_documents WHERE sale_id IN (SELECT id FROM temp.arq_ids))",
    ),
    # issue 18: manager actions written ahead (settled ones: an open one keeps its sale live)
    (
        "pending_actions",
        "document_id IN (SELECT id FROM fiscal_documents WHERE sale_id IN (SELECT id FROM temp.arq_ids))",
    ),
    # ECONF events of the notes (settled ones: an open one keeps its sale live)
    (
        "econf_events",
        "document_id IN (SELECT id FROM fiscal_documents WHERE sale_id IN (SELECT id FROM temp.arq_ids))",
    ),
    # issue 17: PIX charges of the sale and their refunds
    ("pix_charges", "sale_id IN (SELECT id FROM temp.arq_ids)"),
    (
        "pix_refunds",
        "charge_id IN (SELECT id FROM pix_charges WHERE sale_id IN (SELECT id FROM temp.arq_ids))",
    ),
)
_INDEXES = (
    "CREATE INDEX idx_sales_created ON sales(created_at)",
    "CREATE INDEX idx_sales_cpf ON sales(cpf) WHERE cpf IS NOT NULL",
    "CREATE INDEX idx_sales_cash_session ON sales(cash_session_id)",
    "CREATE INDEX idx_payments_sale ON payments(sale_id)",
    "CREATE INDEX idx_docs_sale ON fiscal_documents(sale_id)",
    "CREATE UNIQUE INDEX idx_docs_ref ON fiscal_documents(ref)",
    "CREATE INDEX idx_docs_numero ON fiscal_documents(numero, serie) WHERE numero IS NOT NULL",
    "CREATE INDEX idx_docs_chave ON fiscal_documents(chave) WHERE chave IS NOT NULL",
    "CREATE INDEX idx_docs_emissao ON fiscal_documents(data_emissao)",
    "CREATE INDEX idx_events_doc ON document_events(document_id)",
    "CREATE INDEX idx_cancel_intents_doc ON cancel_intents(document_id)",
    "CREATE INDEX idx_print_jobs_document ON print_jobs(document_id)",
)


class ArchiveError(RuntimeError):
    """The year cannot be archived now; the message is Portuguese. Nothing was changed."""


@dataclass(frozen=True)
class ArchiveFile:
    year: int
    path: Path


def archive_path(data_dir: Path, year: int) -> Path:
    return data_dir / f"arquivo-{year:04d}.sqlite3"


def list_archives(data_dir: Path) -> list[ArchiveFile]:
    """Archive files in ``data_dir``, newest year first."""
    found = []
    if data_dir.is_dir():
        for path in data_dir.iterdir():
            m = _NAME.match(path.name)
            if m:
                found.append(ArchiveFile(int(m.group(1)), path))
    return sorted(found, key=lambda a: a.year, reverse=True)


class ArchiveDb:
    """A read-only archive with the small query interface of ``SqliteDatabase``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        self.lock = threading.RLock()

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        with self.lock:
            cur = self.conn.execute(sql, params)
            cols = [c[0] for c in cur.description or ()]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def query_one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class Archives:
    """The archive files of a data folder, opened on demand and kept open (read-only)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._open: dict[Path, ArchiveDb] = {}
        self._lock = threading.Lock()

    def years(self) -> list[int]:
        return [a.year for a in list_archives(self.data_dir)]

    def get(self, year: int) -> ArchiveDb | None:
        path = archive_path(self.data_dir, year)
        if not path.is_file():
            return None
        with self._lock:
            db = self._open.get(path)
            if db is None:
                db = self._open[path] = ArchiveDb(path)
            return db

    def all(self) -> list[ArchiveDb]:
        return [db for y in self.years() if (db := self.get(y)) is not None]

    def close(self) -> None:
        with self._lock:
            for db in self._open.values():
                db.close()
            self._open.clear()


def archivable_from(year: int) -> date:
    """First day ``year`` may be archived: a month after it ends (late cancellations by
    substitution, up to 168 h, and contingency notes of the last days are settled by then)."""
    return date(year + 1, 1, 1) + GRACE


def archive_year(db: SqliteDatabase, data_dir: Path, year: int, *, today: date) -> dict[str, Any]:
    """Move the closed sales of ``year`` into its archive file; returns counts."""
    if today < archivable_from(year):
        raise ArchiveError(
            f"O ano {year} só pode ser arquivado a partir de "
            f"{archivable_from(year).strftime('%d/%m/%Y')} (anos encerrados, com um mês de folga)."
        )
    target = archive_path(data_dir, year)
    lo, hi = f"{year:04d}-01-01", f"{year + 1:04d}-01-01"
    if not target.exists():
        write_archive_file(db.path, target, lo, hi)
    counts = _delete_archived(db, target)
    pending = db.query_one(
        "SELECT count(*) AS n FROM sales WHERE created_at >= ? AND created_at < ?", [lo, hi]
    )
    counts["ficaram_no_banco"] = int(pending["n"]) if pending else 0  # sales with a note still open
    counts["arquivo"] = str(target)
    return counts


def _closed_ids_sql() -> str:
    marks = ", ".join(f"'{s}'" for s in FINAL)
    return (
        "SELECT s.id FROM main.sales s WHERE s.created_at >= ? AND s.created_at < ? "
        f"AND NOT EXISTS (SELECT 1 FROM main.fiscal_documents d WHERE d.sale_id = s.id AND d.status NOT IN ({marks})) "
        "AND NOT EXISTS (SELECT 1 FROM main.cancel_intents ci JOIN main.fiscal_documents d ON d.id = ci.document_id "
        "WHERE d.sale_id = s.id AND ci.status = 'pendente') "
        "AND NOT EXISTS (SELECT 1 FROM main.pending_actions pa JOIN main.fiscal_documents d ON d.id = pa.document_id "
        f"WHERE d.sale_id = s.id AND pa.status IN ('{_OPEN_ACTION[0]}', '{_OPEN_ACTION[1]}')) "
        "AND NOT EXISTS (SELECT 1 FROM main.econf_events e JOIN main.fiscal_documents d ON d.id = e.document_id "
        f"WHERE d.sale_id = s.id AND e.status IN ({_OPEN_ECONF}))"
    )


def write_archive_file(live: Path, target: Path, lo: str, hi: str) -> None:
    tmp = target.with_name(f".{target.name}.parcial")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    conn = sqlite3.connect(str(live), timeout=30.0)  # its own connection: the terminal keeps selling
    try:
        conn.execute("ATTACH DATABASE ? AS arq", [str(tmp)])
        conn.execute("PRAGMA arq.journal_mode=OFF")
        conn.execute("BEGIN")  # one read snapshot of the live file for the whole copy
        conn.execute("CREATE TEMP TABLE arq_ids (id INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO temp.arq_ids " + _closed_ids_sql(), [lo, hi])
        n = conn.execute("SELECT count(*) FROM temp.arq_ids").fetchone()[0]
        if not n:
            raise ArchiveError("Nenhuma venda encerrada nesse ano para arquivar.")
        for table, _ in _MOVED:
            ddl = conn.execute(
                "SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = ?", [table]
            ).fetchone()[0]
            conn.execute(ddl.replace(f"CREATE TABLE {table}", f"CREATE TABLE arq.{table}", 1))
        conn.execute(
            "CREATE TABLE arq.users (id INTEGER PRIMARY KEY, codigo TEXT NOT NULL, nome TEXT NOT NULL)"
        )
        conn.execute("INSERT INTO arq.users SELECT id, codigo, nome FROM main.users")
        conn.execute(
            "CREATE TABLE arq.cash_sessions AS SELECT * FROM main.cash_sessions "
            "WHERE id IN (SELECT cash_session_id FROM main.sales WHERE id IN (SELECT id FROM temp.arq_ids))"
        )
        for table, where in _MOVED:
            cols = ", ".join(r[1] for r in conn.execute(f"PRAGMA main.table_info({table})"))
            conn.execute(f"INSERT INTO arq.{table} ({cols}) SELECT {cols} FROM main.{table} WHERE {where}")
        for ddl in _INDEXES:
            conn.execute(
                ddl.replace("CREATE INDEX ", "CREATE INDEX arq.", 1).replace(
                    "CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX arq.", 1
                )
            )
        for table, where in _MOVED:  # the copy holds exactly what the live file has
            live_n = conn.execute(f"SELECT count(*) FROM main.{table} WHERE {where}").fetchone()[0]
            arq_n = conn.execute(f"SELECT count(*) FROM arq.{table}").fetchone()[0]
            if live_n != arq_n:
                raise ArchiveError(f"Cópia de {table} incompleta no arquivo ({arq_n} de {live_n}).")
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE arq")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        conn.close()
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    conn.close()
    check = sqlite3.connect(str(tmp))
    try:
        check.execute("VACUUM")  # compact, one self-contained file
        row = check.execute("PRAGMA quick_check").fetchone()
    finally:
        check.close()
    if not row or row[0] != "ok":
        tmp.unlink()
        raise ArchiveError("O arquivo do ano saiu inconsistente e foi descartado; nada foi apagado.")
    fd = os.open(tmp, os.O_RDWR)  # fsync needs a writable handle on Windows
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    with contextlib.suppress(OSError):
        os.chmod(target, 0o400)  # read-only from now on
    log.info("arquivo anual gravado: %s (%d vendas)", target.name, n)


def _delete_archived(db: SqliteDatabase, target: Path) -> dict[str, Any]:
    """Delete from the live file the sales present in the archive, one day per transaction."""
    arq = ArchiveDb(target)
    try:
        days = [
            r["d"] for r in arq.query("SELECT DISTINCT substr(created_at, 1, 10) AS d FROM sales ORDER BY d")
        ]
        moved = 0
        for day in days:  # local-time ISO text: the day is [day, day + "~")
            ids = [
                r["id"]
                for r in arq.query(
                    "SELECT id FROM sales WHERE created_at >= ? AND created_at < ?", [day, day + "~"]
                )
            ]
            if (
                not ids
                or db.query_one(
                    "SELECT 1 AS x FROM sales WHERE created_at >= ? AND created_at < ? LIMIT 1",
                    [day, day + "~"],
                )
                is None
            ):
                continue  # nothing of that day left in the live file
            with db.transaction() as tx:
                tx.execute("CREATE TEMP TABLE IF NOT EXISTS arq_ids (id INTEGER PRIMARY KEY)")
                tx.execute("DELETE FROM temp.arq_ids")
                tx.conn.executemany("INSERT INTO temp.arq_ids (id) VALUES (?)", [(i,) for i in ids])
                for table, where in reversed(_MOVED):
                    tx.execute(f"DELETE FROM {table} WHERE {where}")
                tx.execute("DELETE FROM temp.arq_ids")
            moved += len(ids)
        return {"vendas_arquivadas": moved}
    finally:
        arq.close()


def backup_archives(data_dir: Path, folder: Path) -> list[Path]:
    """Copy into ``folder`` the archives not there yet (an archive never changes: copied once)."""
    import shutil

    copied = []
    folder.mkdir(parents=True, exist_ok=True)
    for a in list_archives(data_dir):
        dest = folder / a.path.name
        if dest.exists() and dest.stat().st_size == a.path.stat().st_size:
            continue
        tmp = folder / f".{a.path.name}.parcial"
        shutil.copyfile(a.path, tmp)
        fd = os.open(tmp, os.O_RDWR)  # never fsync a read-only handle (Windows)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, dest)
        with contextlib.suppress(OSError):
            os.chmod(dest, 0o400)
        copied.append(dest)
    return copied


def archive_closed_years(db: SqliteDatabase, data_dir: Path, today: date) -> list[dict[str, Any]]:
    """Archive every past year still in the live database (background duty); returns what was done."""
    done: list[dict[str, Any]] = []
    row = db.query_one("SELECT min(created_at) AS first FROM sales")
    if not row or not row["first"]:
        return done
    for year in range(int(str(row["first"])[:4]), today.year):
        if today < archivable_from(year):
            continue
        lo, hi = f"{year:04d}-01-01", f"{year + 1:04d}-01-01"
        left = db.query_one(
            "SELECT 1 AS x FROM sales WHERE created_at >= ? AND created_at < ? LIMIT 1", [lo, hi]
        )
        if left is None:
            continue
        try:
            done.append(archive_year(db, data_dir, year, today=today))
        except ArchiveError as exc:
            log.info("ano %s não arquivado: %s", year, exc)
    return done
