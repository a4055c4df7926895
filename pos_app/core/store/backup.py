"""Online backups of the terminal's database (SQLite backup API) with daily/weekly rotation.

A backup is a consistent snapshot taken while the terminal keeps selling (WAL: the copy reads a
snapshot, writers are not blocked). It is written next to its final name, checked with
``PRAGMA quick_check``, flushed to disk and only then renamed, so a crash or a full disk never
leaves a half backup that looks complete. Rotation keeps the newest backup of each of the last
``DAILY_KEEP`` days and of each of the ``WEEKLY_KEEP`` weeks before them.

Backups hold sales with consumers' CPF: the folder and files are private to the user (0700/0600
where the system supports it), like the database itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from pos_app.core.errors import PosError

log = logging.getLogger("pos_app.backup")

BACKUP_DIRNAME = "backups"
DAILY_KEEP = 7
WEEKLY_KEEP = 4
MAX_AGE = timedelta(hours=24)
_NAME = re.compile(r"^pos-(\d{4}-\d{2}-\d{2})_(\d{6})\.sqlite3$")


class BackupError(PosError, RuntimeError):
    """The backup could not be written; the message is Portuguese. The database is untouched."""

    kind = "backup"


@dataclass(frozen=True)
class BackupFile:
    path: Path
    taken_at: datetime  # local naive time from the file name

    @property
    def day(self) -> date:
        return self.taken_at.date()


def backup_dir(data_dir: Path) -> Path:
    return data_dir / BACKUP_DIRNAME


def list_backups(folder: Path) -> list[BackupFile]:
    """Complete backups in ``folder``, newest first (temporary files are ignored)."""
    found: list[BackupFile] = []
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        m = _NAME.match(path.name)
        if not m:
            continue
        try:
            taken = datetime.strptime(f"{m.group(1)}_{m.group(2)}", "%Y-%m-%d_%H%M%S")
        except ValueError:
            continue
        found.append(BackupFile(path, taken))
    return sorted(found, key=lambda b: b.taken_at, reverse=True)


def last_backup(folder: Path) -> BackupFile | None:
    backups = list_backups(folder)
    return backups[0] if backups else None


def backup_due(folder: Path, now: datetime | None = None, max_age: timedelta = MAX_AGE) -> bool:
    latest = last_backup(folder)
    if latest is None:
        return True
    now = now or datetime.now()
    return now - latest.taken_at >= max_age


def run_backup(db_path: Path, folder: Path, now: datetime | None = None) -> Path:
    """Copy the database at ``db_path`` into ``folder`` now; returns the new file. Rotates after."""
    now = (now or datetime.now()).replace(microsecond=0)
    if not db_path.is_file():
        raise BackupError(f"Banco de dados não encontrado: {db_path}")
    _private_dir(folder)
    final = folder / f"pos-{now:%Y-%m-%d_%H%M%S}.sqlite3"
    tmp = folder / f".{final.name}.parcial"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        # Its own read connection: the app's shared connection (and its lock) stay free for sales.
        src = sqlite3.connect(str(db_path), timeout=10.0)
        try:
            dst = sqlite3.connect(str(tmp))
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                row = dst.execute("PRAGMA quick_check").fetchone()
                if not row or row[0] != "ok":
                    raise BackupError("A cópia de segurança saiu inconsistente e foi descartada.")
            finally:
                dst.close()
        finally:
            src.close()
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o600)
        _fsync(tmp)
        os.replace(tmp, final)
        _fsync_dir(folder)
    except (sqlite3.Error, OSError) as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise BackupError(_friendly(exc)) from exc
    except BackupError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    rotate(folder)
    log.info("backup gravado: %s", final.name)
    return final


def backup_if_due(db_path: Path, folder: Path, now: datetime | None = None) -> Path | None:
    """The start-of-day backup: only when the newest one is older than 24 h. Never raises."""
    try:
        if not backup_due(folder, now):
            return None
        return run_backup(db_path, folder, now)
    except BackupError as exc:
        log.warning("backup automático não realizado: %s", exc)
        return None


def rotate(folder: Path, daily: int = DAILY_KEEP, weekly: int = WEEKLY_KEEP) -> list[Path]:
    """Delete backups outside the retention; returns the deleted files."""
    backups = list_backups(folder)
    keep: set[Path] = set()
    days_seen: list[date] = []
    rest: list[BackupFile] = []
    for b in backups:  # newest first: the first of each day is that day's newest
        if b.day in days_seen:
            continue
        if len(days_seen) < daily:
            days_seen.append(b.day)
            keep.add(b.path)
        else:
            rest.append(b)
    weeks_seen: list[tuple[int, int]] = []
    for b in rest:
        week = b.day.isocalendar()[:2]
        if week in weeks_seen:
            continue
        if len(weeks_seen) < weekly:
            weeks_seen.append(week)
            keep.add(b.path)
    deleted: list[Path] = []
    for b in backups:
        if b.path not in keep:
            with contextlib.suppress(OSError):
                b.path.unlink()
                deleted.append(b.path)
    for stale in folder.glob(".pos-*.parcial"):  # left by a crash in the middle of a backup
        with contextlib.suppress(OSError):
            stale.unlink()
    return deleted


def _private_dir(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o700)


def _fsync(path: Path) -> None:
    # Read-write: on Windows os.fsync is FlushFileBuffers, which needs write access (EBADF otherwise).
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":
        return  # directories cannot be opened for fsync on Windows; NTFS journals the rename
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _friendly(exc: Exception) -> str:
    text = str(exc).lower()
    if "full" in text or "no space" in text or getattr(exc, "errno", None) == 28:
        return "Disco cheio: não foi possível gravar a cópia de segurança. Libere espaço no disco."
    if isinstance(exc, PermissionError) or "readonly" in text or "permission" in text:
        return "Sem permissão para gravar a cópia de segurança na pasta backups/."
    return f"Falha ao gravar a cópia de segurança: {exc}"
