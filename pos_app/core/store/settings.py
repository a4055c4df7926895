"""Key/value settings table."""

from __future__ import annotations

import time

from pos_app.core.store.db import SqliteDatabase

RECHECK_SECONDS = 0.5  # another process's change is seen within this time


class SettingsRepo:
    """Settings are read on every sale and change rarely: they are cached, and the cache is
    dropped when this connection writes them or SQLite's ``data_version`` shows another process
    (``pos-app config set`` while the window runs) committed something (checked at most every
    ``RECHECK_SECONDS``)."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._cache: dict[str, str] | None = None
        self._version: int | None = None
        self._checked_at = 0.0

    def _values(self) -> dict[str, str]:
        with self._db.lock:
            conn = self._db.conn
            if conn.in_transaction:  # may roll back: never cache what it sees
                return self._load()
            now = time.monotonic()
            if self._cache is not None and now - self._checked_at < RECHECK_SECONDS:
                return self._cache
            self._checked_at = now
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            if self._cache is None or version != self._version:
                self._cache = self._load()
                self._version = version
            return self._cache

    def _load(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self._db.query("SELECT key, value FROM settings")}

    def get(self, key: str, default: str | None = None) -> str | None:
        return self._values().get(key, default)

    def set(self, key: str, value: str) -> None:
        # Dropped after the commit, under the connection's lock: a reader on another thread may have
        # cached the old value meanwhile, and this connection's own writes do not move ``data_version``.
        with self._db.lock:
            with self._db.transaction() as db:
                db.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [key, value],
                )
            self._cache = None

    def delete(self, key: str) -> None:
        with self._db.lock:
            with self._db.transaction() as db:
                db.execute("DELETE FROM settings WHERE key = ?", [key])
            self._cache = None

    def all(self) -> dict[str, str]:
        return dict(sorted(self._values().items()))
