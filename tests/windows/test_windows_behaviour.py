"""Windows behaviour of the terminal, run under the official Windows CPython by
``packaging/windows/check.sh`` (Wine, every CI run) and by the Windows workflow. Skipped elsewhere.

Data folder under %LOCALAPPDATA%, secrets in the Windows Credential Manager, the per-process file
lock between two processes (msvcrt), a data folder with spaces and accents, the receipt printer in
spooler mode with no such printer, and the backup copy (FlushFileBuffers needs write access).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from pos_app.core.fiscal.document_status import DocumentStatus

pytestmark = pytest.mark.skipif(sys.platform != "win32", reason="comportamento do Windows")

ROOT = Path(__file__).resolve().parents[2]


def _env(data: Path | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("POS_DATA_DIR", "POS_CRASH_AT")}
    if data is not None:
        env["POS_DATA_DIR"] = str(data)
    env.update(PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8", POS_SECRETS="arquivo", **extra)
    return env


def _cli(data: Path, *argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_app", *argv],
        env=_env(data, **extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
    )


def test_default_data_folder_is_under_localappdata(monkeypatch: pytest.MonkeyPatch) -> None:
    from pos_app.core.paths import data_dir

    monkeypatch.delenv("POS_DATA_DIR", raising=False)
    folder = data_dir()
    local = Path(os.environ["LOCALAPPDATA"])
    assert folder == local / "PosApp" / "pos-app"
    assert folder.is_dir()
    assert "Roaming" not in folder.parts  # a terminal's database never roams with the profile


def test_secrets_go_to_the_windows_credential_manager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from win32ctypes.pywin32 import win32cred

    from pos_app.core.secrets_store import SERVICE, KeyringSecrets, open_secret_store

    monkeypatch.delenv("POS_SECRETS", raising=False)
    store = open_secret_store(tmp_path / "Caixa Loja São João")
    assert isinstance(store, KeyringSecrets)
    key, value = f"token-{uuid.uuid4().hex[:8]}", "sEgr3do-ção-" + uuid.uuid4().hex
    store.set(key, value)
    try:
        assert store.get(key) == value
        # Really in Credential Manager (CredRead of a generic credential), not in a file.
        namespace = str((tmp_path / "Caixa Loja São João").resolve())
        # keyring's WinVault backend: the newest entry under the service name, our key as user name.
        cred = win32cred.CredRead(TargetName=SERVICE, Type=win32cred.CRED_TYPE_GENERIC)
        assert cred["UserName"] == f"{namespace}:{key}"
        blob = cred["CredentialBlob"]
        assert (blob.decode("utf-16-le") if isinstance(blob, bytes) else blob) == value
        assert not list((tmp_path / "Caixa Loja São João").glob("**/secrets.bin"))
    finally:
        store.delete(key)
    assert store.get(key) is None


HOLD = """
import sys, time
from pathlib import Path
from pos_app.core.services.locks import FileLock
lock = FileLock(Path(sys.argv[1]))
print("held" if lock.acquire() else "busy", flush=True)
time.sleep(120)
"""


def test_file_lock_between_two_processes(tmp_path: Path) -> None:
    from pos_app.core.services.locks import FileLock

    path = tmp_path / "José da Silva" / "locks" / "abc123.lock"
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], env=_env(None), cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "held"
        mine = FileLock(path)
        assert not mine.acquire(), "two processes held the same lock"
    finally:
        child.kill()
        child.wait(30)
    # The OS releases the lock of a dead process: the owner is gone, the document can be taken over.
    deadline = time.monotonic() + 10
    while not mine.acquire():
        assert time.monotonic() < deadline, "lock of a killed process never released"
        time.sleep(0.1)
    mine.release()


def test_sale_backup_and_receipt_in_a_folder_with_spaces_and_accents(tmp_path: Path) -> None:
    data = tmp_path / "Users" / "José da Silva" / "AppData" / "Local" / "Frente de Caixa — Loja Conceição"
    proc = _cli(data, "sell", "--item", "1001", "--pay", "dinheiro:50", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sale = json.loads(proc.stdout)
    assert sale["status"] == DocumentStatus.AUTORIZADO
    assert Path(sale["danfce"]).is_file() and Path(sale["danfce"]).is_relative_to(data)
    # The start-of-day backup ran and wrote its copy (FlushFileBuffers on a read-write handle).
    assert [p.name for p in (data / "backups").glob("*.sqlite3")], list((data / "backups").iterdir())
    shown = json.loads(_cli(data, "config", "show", "--json").stdout)
    assert shown["dados"] == str(data)


def test_backup_of_a_database_in_an_accented_folder(tmp_path: Path) -> None:
    import sqlite3

    from pos_app.core.store.backup import list_backups, run_backup

    folder = tmp_path / "Conceição"
    folder.mkdir()
    db = folder / "pos.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES ('ação')")
    conn.close()
    copy = run_backup(db, folder / "backups")
    assert copy.is_file() and [b.path for b in list_backups(folder / "backups")] == [copy]
    with sqlite3.connect(copy) as check:
        assert check.execute("SELECT x FROM t").fetchone() == ("ação",)
    check.close()


def test_spooler_printer_that_does_not_exist_fails_cleanly() -> None:
    from pos_app.core.printing.printers import PrinterError, open_printer

    printer = open_printer("windows", "Térmica Caixa 1 (não instalada)")
    status = printer.status()
    assert status.ok is False
    assert "Térmica Caixa 1" in status.message
    with pytest.raises(PrinterError) as err:
        printer.send(b"\x1b@teste\n")
    assert "Térmica Caixa 1" in str(err.value)


def test_spooler_printer_from_the_cli_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    data = tmp_path / "dados"
    assert _cli(data, "config", "set", "impressora.tipo", "windows").returncode == 0
    assert _cli(data, "config", "set", "impressora.endereco", "Térmica Caixa 1").returncode == 0
    proc = _cli(data, "imprimir", "teste")
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "Térmica Caixa 1" in out and "Traceback" not in out


def test_usb_backend_loads_libusb_dll() -> None:
    import usb.core

    from pos_app.core.printing.printers import UsbPrinter, usb_backend

    backend = usb_backend()
    assert backend is not None, "libusb-1.0.dll não carregada: impressoras USB não funcionariam"
    assert type(backend).__module__ == "usb.backend.libusb1"
    list(usb.core.find(find_all=True, backend=backend))  # enumerates (no NoBackendError)
    # A USB printer that is not there: searched for and "not found", not "no backend".
    status = UsbPrinter(0x0416, 0x5011).status()
    assert not status.ok and "não encontrada" in status.message and "backend" not in status.message
