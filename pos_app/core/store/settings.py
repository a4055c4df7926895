"""Key/value settings table."""

from __future__ import annotations

from pos_app.core.store.db import SqliteDatabase


class SettingsRepo:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def get(self, key: str, default: str | None = None) -> str | None:
        row = self._db.query_one("SELECT value FROM settings WHERE key = ?", [key])
        return row["value"] if row else default

    def set(self, key: str, value: str) -> None:
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )

    def delete(self, key: str) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM settings WHERE key = ?", [key])

    def all(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self._db.query("SELECT key, value FROM settings ORDER BY key")}
