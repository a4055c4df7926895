"""Start-up safety of the terminal's database: integrity check before anything is written.

A damaged file must never be "repaired" by selling on top of it: fiscal numbers and paid sales
live there. ``open_checked_store`` runs ``PRAGMA quick_check`` on its own connection *before*
migrations run, and refuses to open a damaged file (the file is left exactly where it is, for the
technician and for recovery from ``backups/``).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from pos_app.core.store import Store
from pos_app.core.store.db import StoreError

log = logging.getLogger("pos_app.store")


class DatabaseDamaged(StoreError):
    """The database failed its integrity check; selling is refused. The message is Portuguese."""


def damaged_message(path: Path) -> str:
    return (
        f"O banco de dados deste terminal está danificado ({path.name} não passou na verificação de "
        "integridade). Não venda neste terminal: o arquivo foi mantido como está. Chame o suporte para "
        f"restaurar a cópia de segurança mais recente da pasta {path.parent / 'backups'}."
    )


def quick_check(path: Path) -> list[str]:
    """Problems reported by ``PRAGMA quick_check`` (empty list: the file is fine or does not exist yet)."""
    if not path.exists():
        return []
    try:
        conn = sqlite3.connect(str(path), timeout=10.0)
        try:
            rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"...
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def open_checked_store(path: Path) -> Store:
    """Open the store after the integrity check; raises :class:`DatabaseDamaged` otherwise."""
    from pos_app.core.store.storage_health import classify

    try:
        problems = _quick_check_raising(path)
    except sqlite3.DatabaseError as exc:
        # Full disk, read-only folder, another process...: the file may be perfectly fine.
        other = classify(path, exc)
        if other is not None:
            log.error("banco de dados indisponível em %s: %s", path, exc)
            raise other from exc
        problems = [str(exc)]
    if problems:
        log.error("verificação de integridade falhou em %s: %s", path, "; ".join(problems[:5]))
        raise DatabaseDamaged(damaged_message(path))
    try:
        return Store(path)
    except (sqlite3.DatabaseError, OSError) as exc:
        other = classify(path, exc)
        if other is not None:
            log.error("banco de dados indisponível em %s: %s", path, exc)
            raise other from exc
        log.error("banco de dados ilegível em %s: %s", path, exc)
        raise DatabaseDamaged(damaged_message(path)) from exc


OPEN_TIMEOUT = 10.0  # seconds to wait for another process holding the file


def _quick_check_raising(path: Path, timeout: float | None = None) -> list[str]:
    """Like :func:`quick_check`, but a failure to open/read is raised for :func:`classify`."""
    if not path.exists():
        return []
    conn = sqlite3.connect(str(path), timeout=OPEN_TIMEOUT if timeout is None else timeout)
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
    finally:
        conn.close()
    return [] if rows == ["ok"] else rows
