"""Restore of the terminal's database from a backup (``pos-app backup restaurar``), and the copy
of the yearly archives into the backups (each archive once: it never changes).

The restore never deletes anything: the current database (and its WAL) is renamed aside with the
time of the restore, the chosen backup is checked (``PRAGMA quick_check``) before it replaces it,
and the yearly archives missing from the data folder are brought back from ``backups/``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from pos_app.core.store.archive import list_archives
from pos_app.core.store.backup import BackupError
from pos_app.core.store.integrity import save_result


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)  # r+: Windows refuses to flush a read-only handle
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def restore_backup(data_dir: Path, backup_file: Path, now: datetime | None = None) -> dict[str, Any]:
    """Replace ``data_dir/pos.sqlite3`` by ``backup_file``. The terminal must be closed."""
    now = (now or datetime.now()).replace(microsecond=0)
    if not backup_file.is_file():
        raise BackupError(f"Cópia de segurança não encontrada: {backup_file}")
    try:
        conn = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
        try:
            row = conn.execute("PRAGMA quick_check").fetchone()
            sales = conn.execute("SELECT count(*) FROM sales").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"A cópia {backup_file.name} não é um banco válido: {exc}") from exc
    if not row or row[0] != "ok":
        raise BackupError(
            f"A cópia {backup_file.name} não passou na verificação de integridade: escolha outra."
        )
    db_path = data_dir / "pos.sqlite3"
    data_dir.mkdir(parents=True, exist_ok=True)
    kept_aside: list[str] = []
    stamp = f"{now:%Y-%m-%d_%H%M%S}"
    for suffix in ("", "-wal", "-shm"):
        current = Path(str(db_path) + suffix)
        if current.exists():
            aside = data_dir / f"pos.sqlite3{suffix}.antes-restauracao-{stamp}"
            os.replace(current, aside)
            kept_aside.append(aside.name)
    tmp = data_dir / f".pos.sqlite3.restaurando-{stamp}"
    shutil.copyfile(backup_file, tmp)
    with contextlib.suppress(OSError):
        os.chmod(tmp, 0o600)
    _fsync_file(tmp)
    os.replace(tmp, db_path)
    save_result(db_path, [])  # fully checked just now
    restored_archives = []
    folder = backup_file.parent
    present = {a.path.name for a in list_archives(data_dir)}
    for a in list_archives(folder):
        if a.path.name not in present:
            target = data_dir / a.path.name
            shutil.copyfile(a.path, target)
            _fsync_file(target)
            with contextlib.suppress(OSError):
                os.chmod(target, 0o400)
            restored_archives.append(a.path.name)
    return {
        "restaurado": str(db_path),
        "de": str(backup_file),
        "vendas": int(sales),
        "anterior_guardado_como": kept_aside,
        "arquivos_anuais_restaurados": restored_archives,
    }
