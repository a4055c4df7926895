"""Issue 18, defect 1: actions that change a document at the API are written ahead and resolved by a
consult after a crash (kill -9 while the API holds its answer), from ``sync`` and on a second try."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from contingency_kit import copy_terminal, make_sale
from crash_harness import KILLED  # -9, or TerminateProcess's 1 on Windows

from pos_app.app import open_app
from pos_app.core.services.emission import EmissionService
from pos_app.sandbox import DEMO_TOKEN, SandboxServer

ROOT = Path(__file__).resolve().parents[2]
JUST = "Cliente desistiu da compra ainda no caixa"


@pytest.fixture
def terminal(terminal_template: Path, tmp_path: Path) -> Iterator[tuple[Path, SandboxServer]]:
    with SandboxServer(rate_limit=None) as server:
        yield copy_terminal(terminal_template, tmp_path / "pos-data", server.url), server


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "POS_CRASH_AT"}
    env.update(POS_DATA_DIR=str(data), POS_SECRETS="arquivo", PYTHONPATH=str(ROOT))
    return env


def _cli(data: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_app", *argv],
        env=_env(data),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _kill_when(proc: subprocess.Popen[bytes], predicate: Any, what: str, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    try:
        while not predicate():
            assert proc.poll() is None, f"o processo terminou antes de: {what}"
            assert time.monotonic() < end, f"tempo esgotado esperando: {what}"
            time.sleep(0.02)
    finally:
        proc.kill()  # SIGKILL while the API holds its answer
        proc.communicate(timeout=20)


def _sell(data: Path) -> str:
    ctx = open_app(data, start_sandbox=False)
    try:
        result = EmissionService(ctx, render_receipts=False).checkout(make_sale(ctx))
        assert result.status == "autorizado"
        return result.ref
    finally:
        ctx.close()


def _local(data: Path, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    ctx = open_app(data, start_sandbox=False)
    try:
        return ctx.store.database.query(sql, params)
    finally:
        ctx.close()


def test_cancel_killed_mid_request_is_resolved_by_sync(terminal: tuple[Path, SandboxServer]) -> None:
    data, server = terminal
    ref = _sell(data)
    server.faults.set("in_doubt", seconds=3, methods=["DELETE"])  # processed, answer 3 s late
    proc = subprocess.Popen(
        [sys.executable, "-m", "pos_app", "cancel", ref, "--justificativa", JUST, "--pin", "9999", "--json"],
        env=_env(data),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _kill_when(proc, lambda: (server.note(ref) or {}).get("status") == "cancelado", "cancelada na API")
    assert proc.returncode == KILLED
    server.faults.clear()
    doc = _local(data, "SELECT status FROM fiscal_documents WHERE ref = ?", [ref])[0]
    assert doc["status"] == "autorizado"  # the answer never arrived
    intents = _local(data, "SELECT kind, status FROM pending_actions WHERE target = ?", [ref])
    assert intents == [{"kind": "cancelamento", "status": "pendente"}]  # written before the DELETE

    status = _cli(data, "status", "--json")
    assert "sem confirmação da API" in status.stdout

    sync = _cli(data, "sync", "--json")
    assert sync.returncode == 0, sync.stderr
    assert (
        _local(data, "SELECT status FROM fiscal_documents WHERE ref = ?", [ref])[0]["status"] == "cancelado"
    )
    assert _local(data, "SELECT status FROM pending_actions WHERE target = ?", [ref]) == [
        {"status": "concluido"}
    ]
    assert any("confirmado" in r["resultado"] for r in json.loads(sync.stdout)["reconciliadas"])


def test_second_cancel_after_lost_answer_consults_and_records(terminal: tuple[Path, SandboxServer]) -> None:
    data, server = terminal
    ref = _sell(data)
    server.faults.set("in_doubt", seconds=3, methods=["DELETE"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "pos_app", "cancel", ref, "--justificativa", JUST, "--pin", "9999", "--json"],
        env=_env(data),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _kill_when(proc, lambda: (server.note(ref) or {}).get("status") == "cancelado", "cancelada na API")
    server.faults.clear()
    again = _cli(data, "cancel", ref, "--justificativa", JUST, "--pin", "9999", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(again.stdout)["cancelada"] is True
    assert (
        _local(data, "SELECT status FROM fiscal_documents WHERE ref = ?", [ref])[0]["status"] == "cancelado"
    )
    assert _local(data, "SELECT status FROM pending_actions WHERE target = ?", [ref]) == [
        {"status": "concluido"}
    ]


def test_cancel_already_cancelled_at_api_without_intent_is_recorded(
    terminal: tuple[Path, SandboxServer],
) -> None:
    """A note cancelled at the API by a request this terminal has no trace of (an older version, the
    Focus panel): the API refuses the DELETE; the consult shows it cancelled and it is recorded."""
    data, server = terminal
    ref = _sell(data)
    resp = httpx.request(
        "DELETE", f"{server.url}/v2/nfce/{ref}", json={"justificativa": JUST}, auth=(DEMO_TOKEN, "")
    )
    assert resp.json()["status"] == "cancelado"
    again = _cli(data, "cancel", ref, "--justificativa", JUST, "--pin", "9999", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert (
        _local(data, "SELECT status FROM fiscal_documents WHERE ref = ?", [ref])[0]["status"] == "cancelado"
    )


def test_inutilizacao_killed_mid_request_is_resolved_by_sync(terminal: tuple[Path, SandboxServer]) -> None:
    data, server = terminal
    _sell(data)  # the online series (1) exists
    server.faults.set("in_doubt", seconds=3, methods=["POST"])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pos_app",
            "inutilizar",
            "--serie",
            "1",
            "--inicio",
            "50",
            "--fim",
            "52",
            "--justificativa",
            "Numeracao pulada por falha do sistema",
            "--pin",
            "9999",
            "--json",
        ],
        env=_env(data),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _kill_when(proc, lambda: bool(server.inutilizacoes()), "inutilização recebida pela API")
    server.faults.clear()
    assert _local(data, "SELECT * FROM inutilizacoes", []) == []
    assert [r["status"] for r in _local(data, "SELECT status FROM pending_actions", [])] == ["pendente"]
    sync = _cli(data, "sync", "--json")
    assert sync.returncode == 0, sync.stderr
    rows = _local(data, "SELECT serie, numero_inicial, numero_final, status FROM inutilizacoes", [])
    assert rows == [{"serie": 1, "numero_inicial": 50, "numero_final": 52, "status": "autorizado"}]
    assert [r["status"] for r in _local(data, "SELECT status FROM pending_actions", [])] == ["concluido"]


def test_cte_cancel_without_answer_is_resolved_by_sync(term: Any, api: SandboxServer) -> None:
    """Back-office: a CT-e OS cancel whose answer is lost is written ahead and settled by the sync."""
    from pos_app.core.focus.errors import FocusError
    from pos_app.core.services.cte import CteService
    from pos_app.core.services.replay import ReplayService
    from pos_app.sandbox.backoffice_samples import sample_cte_os

    service = CteService(term, first_interval=0.01)
    emitted = service.emit(sample_cte_os(api.clock.now()), modelo=67)
    ref = emitted.ref
    assert emitted.status == "autorizado"
    api.faults.set("in_doubt", methods=["DELETE"])  # processed, connection dropped without an answer
    with pytest.raises(FocusError):
        service.cancel(ref, JUST)
    api.faults.clear()
    rows = term.store.database.query("SELECT kind, status FROM pending_actions WHERE target = ?", [ref])
    assert rows == [{"kind": "cte_cancelamento", "status": "pendente"}]
    ReplayService(term, render_receipts=False).run_once()
    assert service.repo.by_ref(ref)["status"] == "cancelado"
    assert term.store.database.query("SELECT status FROM pending_actions WHERE target = ?", [ref]) == [
        {"status": "concluido"}
    ]


def test_background_sync_sees_open_intents(term: Any) -> None:
    """At start (and every ~20 s) the background pass runs when an intent is still open."""
    from pos_app.core.services.background import BackgroundSync
    from pos_app.core.services.pending_actions import EMAIL, PendingActions

    background = BackgroundSync(term)
    assert not background.has_backlog()
    PendingActions(term).begin(EMAIL, "CX01-00000001", {"emails": ["a@b.com"]})
    assert background.has_backlog()


def test_second_cancel_answered_422_nfe_nao_autorizada_consults(terminal: tuple[Path, SandboxServer]) -> None:
    """The campaign's fake API answers 422 ``nfe_nao_autorizada`` to a DELETE of a note it already
    cancelled (the earlier answer was lost): the terminal consults and records the cancellation."""
    data, server = terminal
    ref = _sell(data)
    resp = httpx.request(
        "DELETE", f"{server.url}/v2/nfce/{ref}", json={"justificativa": JUST}, auth=(DEMO_TOKEN, "")
    )
    assert resp.json()["status"] == "cancelado"  # cancelled at the API, the terminal never heard of it
    server.faults.once(
        "tamper", field="codigo", value=json.dumps("nfe_nao_autorizada"), http=422, methods=["DELETE"]
    )
    again = _cli(data, "cancel", ref, "--justificativa", JUST, "--pin", "9999", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(again.stdout)["cancelada"] is True
    assert (
        _local(data, "SELECT status FROM fiscal_documents WHERE ref = ?", [ref])[0]["status"] == "cancelado"
    )
