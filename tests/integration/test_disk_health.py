"""Issue 18, defect 4: a full disk, a read-only folder and a database held by another process are
told apart from a damaged file, with what to do for each (never "restore the backup" when the file
is intact); a free-space reserve refuses new sales before SQLite fails. The full disk is real: a
small tmpfs mounted for the test (root only; skipped elsewhere)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from contingency_kit import copy_terminal, make_sale

from pos_app.app import open_app
from pos_app.core.services.emission import EmissionService
from pos_app.core.store import integrity
from pos_app.core.store.integrity import open_checked_store
from pos_app.core.store.storage_health import DatabaseLocked, DiskReserveLow, free_mb
from pos_app.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 24 MB filesystem (tmpfs), unmounted afterwards."""
    mnt = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("montar um tmpfs exige Linux e root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mnt)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"mount indisponível: {proc.stderr!r}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _cli(data: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "POS_CRASH_AT"}
    env.update(POS_DATA_DIR=str(data), POS_SECRETS="arquivo", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "pos_app", *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _fill(disk: Path) -> None:
    with open(disk / "enchimento", "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * (1 << 20))
        except OSError:
            pass


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sell(data: Path) -> str:
    ctx = open_app(data, start_sandbox=False)
    try:
        return EmissionService(ctx, render_receipts=False).checkout(make_sale(ctx)).status
    finally:
        ctx.close()


def test_full_disk_is_not_reported_as_damaged(terminal_template: Path, small_disk: Path) -> None:
    with SandboxServer(rate_limit=None) as api:
        data = copy_terminal(
            terminal_template, small_disk / "pos-data", api.url, armazenamento__reserva_mb="1"
        )
        assert _sell(data) == "autorizado"
        db = data / "pos.sqlite3"
        _fill(small_disk)
        before = _sha(db)
        for argv in (["status"], ["sell", "--item", "7891102100377", "--pay", "dinheiro:40"]):
            out = _cli(data, *argv)
            text = out.stdout + out.stderr
            assert out.returncode != 0, text
            assert "Disco cheio" in text, text
            assert "danificado" not in text and "NÃO restaure" in text, text
            assert "Traceback" not in text and "Logging error" not in text, text  # also none from atexit
        assert _sha(db) == before  # the file was left as it was
        (small_disk / "enchimento").unlink()
        out = _cli(data, "sell", "--item", "7891102100377", "--pay", "dinheiro:40", "--json")
        assert out.returncode == 0, out.stdout + out.stderr


def test_read_only_folder_is_not_reported_as_damaged(terminal_template: Path, small_disk: Path) -> None:
    with SandboxServer(rate_limit=None) as api:
        data = copy_terminal(
            terminal_template, small_disk / "pos-data", api.url, armazenamento__reserva_mb="1"
        )
        assert _sell(data) == "autorizado"
        # a read-only view of the same folder (bind mount remounted ro): the file is intact
        view = small_disk.parent / f"ro-{uuid.uuid4().hex[:6]}"
        view.mkdir()
        subprocess.run(["mount", "--bind", str(data), str(view)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True)
            out = _cli(view, "status")
            text = out.stdout + out.stderr
            assert out.returncode != 0 and "somente leitura" in text, text
            assert "danificado" not in text and "Traceback" not in text, text
        finally:
            subprocess.run(["umount", "-l", str(view)], check=False)


def test_database_held_by_another_process_is_locked_not_damaged(
    terminal: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = tmp_path / "held.sqlite3"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sqlite3, sys, time\n"
                f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
                "c.execute('CREATE TABLE IF NOT EXISTS t (x)')\n"
                "c.execute('PRAGMA locking_mode=EXCLUSIVE'); c.execute('BEGIN EXCLUSIVE'); c.execute('INSERT INTO t VALUES (1)')\n"
                "print('held', flush=True); time.sleep(30)\n"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(integrity, "OPEN_TIMEOUT", 0.3)
        with pytest.raises(DatabaseLocked) as info:
            open_checked_store(db)
        assert "em uso por outro programa" in str(info.value) and "restaur" not in str(info.value)
    finally:
        holder.kill()
        holder.communicate()


@pytest.fixture
def terminal(terminal_template: Path, tmp_path: Path) -> Iterator[Path]:
    with SandboxServer(rate_limit=None) as api:
        yield copy_terminal(terminal_template, tmp_path / "pos-data", api.url)


def test_reserve_refuses_new_sales_before_sqlite_fails(terminal: Path) -> None:
    ctx = open_app(terminal, start_sandbox=False)
    try:
        ctx.config.set("armazenamento.reserva_mb", str(free_mb(terminal) + 100))
        before = ctx.store.sales.count()
        with pytest.raises(DiskReserveLow) as info:
            EmissionService(ctx, render_receipts=False).checkout(make_sale(ctx))
        assert "abaixo da reserva" in str(info.value) and ctx.store.sales.count() == before
        ctx.config.set("armazenamento.reserva_mb", "0")
        assert EmissionService(ctx, render_receipts=False).checkout(make_sale(ctx)).status == "autorizado"
    finally:
        ctx.close()
