"""SQLite database: connection settings, transactions and named migrations.

Fiscal data must survive a power cut, so the journal is WAL with ``synchronous=FULL``.
One connection per process is shared behind a re-entrant lock: writes are short and never
hold the lock across a network call.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

Migration = tuple[str, Callable[[Database], None]]


class StoreError(RuntimeError):
    """A storage problem the operator must hear about (disk full, corrupted file...)."""


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
        conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=10.0
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        self.db = Database(conn)
        self.lock = threading.RLock()
        self._apply_migrations(migrations)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One write transaction (``BEGIN IMMEDIATE``); nested calls become savepoints."""
        with self.lock:
            if self.conn.in_transaction:
                with self.db.atomic():
                    yield self.db
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            else:
                try:
                    self.conn.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise StoreError(_friendly(exc)) from exc

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


def _friendly(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "full" in text:
        return "Disco cheio: a operação não foi gravada. Libere espaço e tente de novo."
    if "locked" in text or "busy" in text:
        return "Banco de dados ocupado por outro processo. Tente de novo em instantes."
    return f"Erro ao gravar no banco de dados: {exc}"
