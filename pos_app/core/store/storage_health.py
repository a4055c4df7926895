"""Tell storage problems apart: no space, read-only, locked by another process, damaged file.

Each has its own Portuguese message saying what to do. A restore from backup is advised ONLY when
the file itself failed the integrity check; a full disk or a read-only folder leaves the file
intact, and restoring would throw away the sales made since the last backup.

Also the free-space reserve: below ``armazenamento.reserva_mb`` (default 200 MB) new sales are
refused with a clear message, long before SQLite runs out of room mid-transaction.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import uuid
from pathlib import Path

from pos_app.core.store.db import StoreError

DEFAULT_RESERVE_MB = 200
MIN_WORKING_MB = 1  # below this SQLite cannot even open the WAL


class DiskFull(StoreError):
    """No space left on the data folder's disk. The database file is intact."""


class StorageReadOnly(StoreError):
    """The data folder (or the file) cannot be written. The database file is intact."""


class DatabaseLocked(StoreError):
    """Another process holds the database. Nothing is wrong with the file."""


class DiskReserveLow(StoreError):
    """Free space below the reserve: new sales are refused before SQLite fails."""


def free_mb(folder: Path) -> int:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free // (1024 * 1024)


def disk_full_message(folder: Path) -> str:
    return (
        f"Disco cheio: não há espaço livre na pasta de dados {folder} ({free_mb(folder)} MB livres). A última "
        "operação não foi gravada e nada foi perdido: o banco de dados está intacto — NÃO restaure a cópia de "
        "segurança. Libere espaço (esvazie a lixeira, apague downloads e arquivos temporários, mova os PDFs "
        "antigos da pasta recibos/ para outro disco) e tente de novo."
    )


def read_only_message(folder: Path) -> str:
    return (
        f"A pasta de dados {folder} está somente leitura: o programa não consegue gravar. O banco de dados está "
        "intacto — NÃO restaure a cópia de segurança. Verifique as permissões da pasta para este usuário do "
        "Windows, se o disco ou pen drive está protegido contra gravação, ou se o antivírus bloqueou a pasta; "
        "depois abra o programa de novo."
    )


def locked_message(path: Path) -> str:
    return (
        f"O banco de dados {path.name} está em uso por outro programa (outra janela do pos-app, um backup ou o "
        "antivírus). Nada foi perdido. Feche o outro programa e tente de novo em instantes; se persistir, "
        "reinicie o computador."
    )


def io_error_message(path: Path) -> str:
    return (
        f"Erro de leitura/gravação no disco ao abrir {path.name}; o arquivo passou na verificação de integridade "
        "— NÃO restaure a cópia de segurança. Verifique o disco (cabo, pen drive, espaço) e tente de novo; "
        "se persistir, chame o suporte."
    )


def folder_problem(folder: Path) -> StoreError | None:
    """DiskFull / StorageReadOnly when the data folder cannot take a small write; None when it can."""
    if not folder.exists():
        return None
    probe = folder / f".pos-probe-{uuid.uuid4().hex[:8]}"
    try:
        with open(probe, "wb") as fh:
            fh.write(b"\0" * 65536)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return DiskFull(disk_full_message(folder))
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return StorageReadOnly(read_only_message(folder))
        return None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    if free_mb(folder) < MIN_WORKING_MB:
        return DiskFull(disk_full_message(folder))
    return None


def file_intact(path: Path) -> bool:
    """Integrity check of the file as it is on disk, without writing anything (no WAL/shm needed)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, timeout=1.0)
        try:
            rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
    return rows == ["ok"]


def classify(path: Path, exc: BaseException) -> StoreError | None:
    """The storage problem behind ``exc`` when the FILE is not to blame (None: it may be damaged)."""
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    text = str(exc).lower()
    if code in (5, 6) or "locked" in text or "busy" in text:
        return DatabaseLocked(locked_message(path))
    env = folder_problem(path.parent)
    if code == 13 or "full" in text:
        return env if isinstance(env, DiskFull) else DiskFull(disk_full_message(path.parent))
    if code == 8 or "readonly" in text or "read-only" in text:
        return env if env is not None else StorageReadOnly(read_only_message(path.parent))
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES):
        return env or (
            DiskFull(disk_full_message(path.parent))
            if exc.errno == errno.ENOSPC
            else StorageReadOnly(read_only_message(path.parent))
        )
    if not path.exists() or file_intact(path):
        if env is not None:
            return env
        if code in (10, 14) or "disk i/o" in text or "unable to open" in text:
            return StoreError(io_error_message(path))
    return None


def check_reserve(data_dir: Path, reserve_mb: int) -> None:
    """Refuse a new sale when the data folder's disk has less than ``reserve_mb`` free."""
    if reserve_mb <= 0:
        return
    free = free_mb(data_dir)
    if free < reserve_mb:
        raise DiskReserveLow(
            f"Pouco espaço em disco: {free} MB livres, abaixo da reserva de {reserve_mb} MB. Novas vendas estão "
            "bloqueadas para proteger as vendas já gravadas (nada foi perdido; as notas pendentes continuam sendo "
            "transmitidas). Libere espaço no disco (lixeira, downloads, PDFs antigos de recibos/) e tente de novo. "
            "A reserva é a configuração armazenamento.reserva_mb."
        )
