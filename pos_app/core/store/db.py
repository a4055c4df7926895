"""SQLite database: connection settings, transactions and named migrations.

Fiscal data must survive a power cut, so the journal is WAL with ``synchronous=FULL``.
One connection per process is shared behind a re-entrant lock: writes are short and never
hold the lock across a network call.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from pos_app.core.errors import PosError

Migration = tuple[str, Callable[[Database], None]]


class StoreError(PosError, RuntimeError):
    """A storage problem the operator must hear about (disk full, corrupted file...)."""

    kind = "armazenamento"


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        raise ValueError("datetime sem fuso horário")
    return dt.isoformat(timespec="seconds")


class SqliteDatabase:
    """Owns the sqlite-utils ``Database`` and its lock."""

    def __init__(self, path: Path | str, migrations: list[Migration]) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        self.db = Database(conn)
        self.lock = threading.RLock()
        self._refused: str | None = None  # set when a background integrity check failed
        self._apply_migrations(migrations)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One write transaction (``BEGIN IMMEDIATE``); nested calls become savepoints."""
        if self._refused is not None:
            raise StoreError(self._refused)
        with self.lock:
            if self.conn.in_transaction:
                with self.db.atomic():
                    yield self.db
                return
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise _store_error(exc, self.path) from exc
            try:
                yield self.db
            except sqlite3.DatabaseError as exc:
                # Disk full, I/O error, locked...: nothing of this transaction stays; say it in Portuguese.
                self._rollback()
                if _is_storage_failure(exc):
                    raise _store_error(exc, self.path) from exc
                raise
            except BaseException:
                self._rollback()
                raise
            else:
                try:
                    self.conn.execute("COMMIT")
                except sqlite3.DatabaseError as exc:
                    self._rollback()
                    raise _store_error(exc, self.path) from exc

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            # SQLite may already have rolled back by itself (e.g. SQLITE_FULL in some statements).
            with contextlib.suppress(sqlite3.DatabaseError):
                self.conn.execute("ROLLBACK")

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        with self.lock:
            cur = self.conn.execute(sql, params)
            cols = [c[0] for c in cur.description or ()]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def query_one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.conn.execute(sql, params)

    def refuse_writes(self, message: str) -> None:
        """From now on every write transaction fails with ``message`` (damaged file: never sell on it)."""
        self._refused = message

    @property
    def writes_refused(self) -> str | None:
        return self._refused

    def integrity_ok(self) -> bool:
        row = self.conn.execute("PRAGMA quick_check").fetchone()
        return bool(row and row[0] == "ok")

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def _apply_migrations(self, migrations: list[Migration]) -> None:
        with self.lock:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            done = {r[0] for r in self.conn.execute("SELECT name FROM _migrations")}
            for name, fn in migrations:
                if name in done:
                    continue
                with self.transaction() as db:
                    fn(db)
                    db.execute(
                        "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", [name, iso(utcnow())]
                    )

    def applied_migrations(self) -> list[str]:
        return [r["name"] for r in self.query("SELECT name FROM _migrations ORDER BY rowid")]


# Primary SQLite result codes that mean "the storage failed", not "the program is wrong".
_STORAGE_CODES = {
    3,
    5,
    6,
    8,
    10,
    11,
    13,
    14,
    26,
}  # PERM BUSY LOCKED READONLY IOERR CORRUPT FULL CANTOPEN NOTADB


def _is_storage_failure(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) in _STORAGE_CODES
    text = str(exc).lower()
    return any(w in text for w in ("full", "locked", "busy", "disk i/o", "readonly", "malformed"))


def _store_error(exc: sqlite3.Error, path: Path | None = None) -> StoreError:
    if path is not None and str(path) != ":memory:":
        # Disk full / read-only / locked told apart from the file's own state (issue 18).
        from pos_app.core.store.storage_health import classify

        try:
            known = classify(path, exc)
        except Exception:  # noqa: BLE001 - the diagnosis must never hide the original error
            known = None
        if known is not None:
            return known
    return StoreError(_friendly(exc))


def _friendly(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    if code == 13 or "full" in text:
        return (
            "Disco cheio: a operação não foi gravada e nada foi perdido. Libere espaço no disco "
            "(ou chame o suporte) e tente de novo."
        )
    if code in (5, 6) or "locked" in text or "busy" in text:
        return "Banco de dados ocupado por outro processo. Tente de novo em instantes."
    if code == 8 or "readonly" in text:
        return "Banco de dados somente leitura: verifique as permissões da pasta de dados e tente de novo."
    if code in (11, 26) or "malformed" in text:
        return (
            "Banco de dados danificado: não venda neste terminal e chame o suporte (há backups em backups/)."
        )
    if code == 10 or "disk i/o" in text:
        return "Erro de leitura/gravação no disco: a operação não foi gravada. Verifique o disco e tente de novo."
    return f"Erro ao gravar no banco de dados: {exc}"
