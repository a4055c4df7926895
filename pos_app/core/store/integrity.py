"""Start-up safety of the terminal's database: integrity check before anything is written.

A damaged file must never be "repaired" by selling on top of it: fiscal numbers and paid sales
live there. ``open_checked_store`` refuses to open a damaged file (the file is left exactly where
it is, for the technician and for recovery from ``backups/``).

The start costs the same with five years of history as with none (issue 20): it checks the file
header, reads the schema and walks one path of every table and index (root to last leaf), and
reads the result of the last full check. The full ``PRAGMA quick_check`` runs in the background
(``full_check_in_background``, daily, with the backup) and its result is kept in
``integridade.json`` next to the database: a failure makes the running program refuse every write
(:class:`pos_app.core.store.db.StoreError`) and the next start refuse to open, until the file is
replaced (restored from a backup: a different file is fully checked again before it is used).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pos_app.core.store import Store
from pos_app.core.store.db import StoreError

log = logging.getLogger("pos_app.store")


class DatabaseDamaged(StoreError):
    """The database failed its integrity check; selling is refused. The message is Portuguese."""

    kind = "banco_danificado"


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


FULL_CHECK_EVERY = timedelta(hours=24)
OPEN_TIMEOUT = 10.0  # seconds to wait for another process holding the file
_HEADER = b"SQLite format 3\x00"


def result_path(path: Path) -> Path:
    return path.with_name("integridade.json")


def _identity(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"bytes": st.st_size, "inode": st.st_ino}


def read_result(path: Path) -> dict[str, Any] | None:
    """The last full check of ``path`` ({"ok", "at", "problems", "bytes", "inode"}), if any."""
    try:
        return dict(json.loads(result_path(path).read_text("utf-8")))
    except (OSError, ValueError):
        return None


def save_result(path: Path, problems: list[str]) -> None:
    data = {
        "ok": not problems,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "problems": problems[:20],
        **(_identity(path) if path.exists() else {}),
    }
    target = result_path(path)
    tmp = target.with_suffix(".tmp")
    with contextlib.suppress(OSError):
        tmp.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        os.replace(tmp, target)


def light_check(path: Path) -> list[str]:
    """Header, schema and one root-to-leaf path of every table and index: milliseconds at any size."""
    try:
        return _light_check_raising(path)
    except sqlite3.DatabaseError as exc:
        return [str(exc)]


def _light_check_raising(path: Path) -> list[str]:
    """Like :func:`light_check`, but a failure to open/read is raised (for ``storage_health.classify``:
    a full disk, a read-only folder or a lock is told apart from a damaged file)."""
    if not path.exists():
        return []
    with path.open("rb") as f:
        if f.read(16) != _HEADER:
            return ["cabeçalho do arquivo inválido"]
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=OPEN_TIMEOUT)
    try:
        objects = conn.execute(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index') "
            "AND rootpage > 0 AND sql IS NOT NULL"
        ).fetchall()
        for kind, name, table in objects:
            quoted = '"' + str(table).replace('"', '""') + '"'
            if kind == "table":
                _walk(conn, f"SELECT * FROM {quoted} ORDER BY rowid DESC LIMIT 1")
                _walk(conn, f"SELECT * FROM {quoted} LIMIT 1")
            else:
                index = '"' + str(name).replace('"', '""') + '"'
                _walk(conn, f"SELECT 1 FROM {quoted} INDEXED BY {index} LIMIT 1")
    finally:
        conn.close()
    return []


def _walk(conn: sqlite3.Connection, sql: str) -> None:
    try:
        conn.execute(sql).fetchall()
    except sqlite3.OperationalError as exc:
        if (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF in (10, 11, 26):  # IOERR, CORRUPT, NOTADB
            raise
        # a plain query this object cannot answer (WITHOUT ROWID table, partial index): not damage


def open_checked_store(path: Path) -> Store:
    """Open the store after the start-up check; raises :class:`DatabaseDamaged` otherwise, or the
    ``storage_health`` error (disk full, read-only, locked) when the file itself may be fine."""
    from pos_app.core.store.storage_health import classify

    try:
        problems = _light_check_raising(path)
        last = read_result(path) if path.exists() else None
        if not problems and last is not None and not last.get("ok"):
            same_file = {k: last.get(k) for k in ("bytes", "inode")} == _identity(path)
            # The same file that failed: refuse at once. A replaced file (restored backup): check it whole.
            problems = (
                list(last.get("problems") or ["falhou na última verificação completa"])
                if same_file
                else _quick_check_raising(path)
            )
    except sqlite3.DatabaseError as exc:
        # Full disk, read-only folder, another process...: the file may be perfectly fine.
        other = classify(path, exc)
        if other is not None:
            log.error("banco de dados indisponível em %s: %s", path, exc)
            raise other from exc
        problems = [str(exc)]
    if problems:
        log.error("verificação de integridade falhou em %s: %s", path, "; ".join(problems[:5]))
        save_result(path, problems)
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


def full_check_due(path: Path, now: datetime | None = None) -> bool:
    last = read_result(path)
    if last is None or not last.get("at"):
        return True
    try:
        at = datetime.fromisoformat(str(last["at"]))
    except ValueError:
        return True
    return (now or datetime.now(UTC)) - at >= FULL_CHECK_EVERY


def record_full_check(store: Store, path: Path, problems: list[str]) -> None:
    """Keep the result; a failure makes this process refuse every write from now on."""
    save_result(path, problems)
    if problems:
        log.error("verificação completa de integridade falhou em %s: %s", path, "; ".join(problems[:5]))
        store.database.refuse_writes(damaged_message(path))


def full_check(store: Store, path: Path) -> list[str]:
    problems = quick_check(path)
    record_full_check(store, path, problems)
    return problems


def daily_maintenance(
    store: Store, path: Path, backup_folder: Path, extra: Callable[[], object] | None = None
) -> None:
    """The start-of-day duties, off the start path: the full integrity check when the last one is
    older than a day, the backup, then ``extra`` (disk housekeeping). Never raises."""
    from pos_app.core.store.backup import backup_if_due

    try:
        if full_check_due(path) and full_check(store, path):
            return  # never back up (nor touch) a damaged file
        backup_if_due(path, backup_folder)
        if extra is not None:
            extra()
    except Exception:  # noqa: BLE001 - a background duty must never take the terminal down
        log.exception("manutenção diária falhou")


def start_daily_maintenance(
    store: Store, path: Path, backup_folder: Path, extra: Callable[[], object] | None = None
) -> threading.Thread:
    thread = threading.Thread(
        target=daily_maintenance,
        args=(store, path, backup_folder, extra),
        name="pos-manutencao-diaria",
        daemon=True,
    )
    thread.start()
    return thread


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
