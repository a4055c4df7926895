"""Headless PIX: ``pos-app sell --pay pix:VALOR`` against a PSP sandbox, and ``pos-app pix devolver``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.core.pix.brcode import decode
from pos_app.sandbox.psp import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PSP_CNPJ, PspSandbox
from tests.integration.cli_helpers import run_json


@pytest.fixture
def psp(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PspSandbox]:
    """A PSP the test controls (the terminal's own demo PSP lives inside each CLI run)."""
    monkeypatch.setenv("POS_PIX_DEMO_PAGAR_APOS", "nunca")
    from pos_app.cli import main

    assert main(["config", "set", "pix.chave", "7d9f0335-8dcc-4054-9bf9-0dbd61d36906"]) == 0
    with PspSandbox() as server:
        for key, value in (
            ("pix.url", server.url),
            ("pix.client_id", DEMO_CLIENT_ID),
            ("pix.client_secret", DEMO_CLIENT_SECRET),
            ("pix.cnpj_psp", DEMO_PSP_CNPJ),
        ):
            assert main(["config", "set", key, value]) == 0
        yield server


def _payer(psp: PspSandbox, after: float, stop: threading.Event) -> threading.Thread:
    def run() -> None:
        while not stop.is_set():
            active = [c for c in psp.cobs.values() if c.status == "ATIVA"]
            if active:
                time.sleep(after)
                psp.pay(active[0].txid)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_sell_with_dynamic_pix_waits_and_emits(psp: PspSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    _payer(psp, 0.3, stop)
    code, data, err = run_json(capsys, "sell", "--item", "7891102100377", "--pay", "pix:27,90", "--json")
    stop.set()
    assert code == 0, (data, err)
    assert data["status"] == "autorizado"
    [cob] = psp.cobs.values()
    assert cob.copia_e_cola in err and decode(cob.copia_e_cola).dinamico
    e2e = cob.pix[0]["endToEndId"]
    assert f"PIX recebido: {e2e}" in err
    code, charges, _ = run_json(capsys, "pix", "cobrancas", "--json")
    assert (
        charges[0]["status"] == "paga"
        and charges[0]["e2eid"] == e2e
        and charges[0]["sale_id"] == data["sale_id"]
    )


def test_sell_with_dynamic_pix_that_expires_emits_nothing(
    psp: PspSandbox, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    code, data, err = run_json(
        capsys, "sell", "--item", "7891102100377", "--pay", "pix:27,90", "--json", "--pix-timeout", "1.5"
    )
    assert code == 1 and "nenhuma nota emitida" in data["erro"]
    [cob] = psp.cobs.values()
    assert cob.status == "REMOVIDA_PELO_USUARIO_RECEBEDOR"  # the terminal removed it at its timeout
    import sqlite3

    db = sqlite3.connect(data_dir / "pos.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM sales").fetchone()[0] == 0
    # The customer pays anyway: detected on sync, refunded by a manager.
    late = psp.pay(cob.txid)
    code, pending, _ = run_json(capsys, "pix", "pendentes", "--json")
    assert code == 0 and [p["e2eid"] for p in pending] == [late["endToEndId"]]
    code, out, err = run_json(capsys, "pix", "devolver", str(pending[0]["id"]), "--pin", "1111", "--json")
    assert code == 2  # a cashier's PIN is not enough
    code, out, err = run_json(capsys, "pix", "devolver", str(pending[0]["id"]), "--pin", "9999", "--json")
    assert code == 0 and out[0]["status"] == "devolvida"
    assert len(psp.devolucoes) == 1


def test_sell_with_static_pix(psp: PspSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, data, err = run_json(
        capsys, "sell", "--item", "7891102100377", "--pay", "pix-estatico:27,90", "--operador", "1", "--json"
    )
    assert code == 0 and data["status"] == "autorizado"
    assert psp.cobs == {}


def test_sell_with_dynamic_pix_psp_unreachable(psp: PspSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    psp.stop()
    code, data, err = run_json(capsys, "sell", "--item", "7891102100377", "--pay", "pix:27,90", "--json")
    assert code == 1 and "PIX dinâmico indisponível" in data["erro"]


def test_demo_mode_pays_headless_charges_by_itself(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POS_PIX_DEMO_PAGAR_APOS", "0.2")
    code, data, err = run_json(capsys, "sell", "--item", "7891102100377", "--pay", "pix:27,90", "--json")
    assert code == 0 and data["status"] == "autorizado", err
    assert "PIX recebido: E" in err
