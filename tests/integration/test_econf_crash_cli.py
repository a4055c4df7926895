"""ECONF written ahead and killed (crashpoints, ``os._exit(137)`` like kill -9) in ``pos-app sync``: the
next sync finds the intent without an answer; Focus documents no way to find the protocol, so the
ECONF becomes "em dúvida" for the manager (never resent blind), who either marks it registered with
the protocol seen in the Focus panel or sends it again on purpose. A cancel killed after the DELETE is
resolved by consulting the protocol. Plus the ``pos-app econf`` round trip and its exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from contingency_kit import copy_terminal
from econf_kit import card_sale, make_rs

from pos_app.app import open_app
from pos_app.core.focus.client import FocusClient
from pos_app.core.focus.econf import EconfApi
from pos_app.core.services.crashpoints import EXIT_CODE
from pos_app.core.services.emission import EmissionService
from pos_app.sandbox import DEMO_TOKEN, SandboxServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def terminal(terminal_template: Path, tmp_path: Path) -> Iterator[tuple[Path, SandboxServer]]:
    with SandboxServer(rate_limit=None) as server:
        data = copy_terminal(terminal_template, tmp_path / "pos-data", server.url)
        ctx = open_app(data, start_sandbox=False)
        try:
            make_rs(ctx, server)
        finally:
            ctx.close()
        yield data, server


def _env(data: Path, crash: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "POS_CRASH_AT"}
    env.update(POS_DATA_DIR=str(data), POS_SECRETS="arquivo", PYTHONPATH=str(ROOT))
    if crash:
        env["POS_CRASH_AT"] = crash
    return env


def _cli(data: Path, *argv: str, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_app", *argv],
        env=_env(data, crash),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )


def _sell(data: Path) -> str:
    ctx = open_app(data, start_sandbox=False)
    try:
        result = EmissionService(ctx, render_receipts=False).checkout(card_sale(ctx))
        assert result.status == "autorizado"
        return str(result.ref)
    finally:
        ctx.close()


def _local(data: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    ctx = open_app(data, start_sandbox=False)
    try:
        return list(ctx.store.database.query(sql, params or []))
    finally:
        ctx.close()


def _events(server: SandboxServer, ref: str) -> list[dict[str, Any]]:
    note = server.engine.store.get_note(DEMO_TOKEN, ref)
    return list(note.econf or []) if note else []


def test_killed_after_the_api_registered_it_becomes_em_duvida_then_marked_registered(
    terminal: tuple[Path, SandboxServer],
) -> None:
    data, server = terminal
    ref = _sell(data)
    killed = _cli(data, "sync", "--json", crash="econf_after_answer_before_store")
    assert killed.returncode == EXIT_CODE, killed.stderr
    (event,) = _events(server, ref)  # registered at the API ...
    assert _local(data, "SELECT status FROM econf_events") == [{"status": "enviando"}]  # ... answer lost
    assert _local(data, "SELECT kind, status FROM pending_actions") == [
        {"kind": "econf", "status": "pendente"}
    ]

    sync = _cli(data, "sync", "--json")
    assert sync.returncode == 0, sync.stderr
    assert _local(data, "SELECT status FROM econf_events") == [{"status": "em_duvida"}]
    assert _local(data, "SELECT status FROM pending_actions") == [{"status": "manual"}]
    assert len(_events(server, ref)) == 1  # never resent blind
    again = _cli(data, "sync", "--json")
    assert again.returncode == 0 and len(_events(server, ref)) == 1

    status = _cli(data, "status")
    assert f"ECONF da nota {ref} em dúvida" in status.stdout, status.stdout
    assert "painel da Focus NFe" in status.stdout and "marcar-registrado" in status.stdout
    doctor = _cli(data, "doctor")
    assert f"ECONF da nota {ref} em dúvida" in doctor.stdout + doctor.stderr

    refused = _cli(data, "econf", "enviar", ref, "--pin", "9999", "--json")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "sem confirmação" in json.loads(refused.stdout)["erro"]
    wrong = _cli(data, "econf", "marcar-registrado", ref, "143269999999999", "--pin", "9999", "--json")
    assert wrong.returncode == 2 and "não tem o protocolo" in json.loads(wrong.stdout)["erro"]

    marked = _cli(data, "econf", "marcar-registrado", ref, event["protocolo"], "--pin", "9999", "--json")
    assert marked.returncode == 0, marked.stdout + marked.stderr
    row = json.loads(marked.stdout)
    assert row["status"] == "registrado" and row["numero_protocolo"] == event["protocolo"]
    assert row["numero_conciliacao"] == 1
    assert _local(data, "SELECT status FROM pending_actions") == [{"status": "concluido"}]
    assert "ECONF" not in _cli(data, "status").stdout
    assert len(_events(server, ref)) == 1


def test_killed_before_the_post_is_sent_again_only_on_purpose(terminal: tuple[Path, SandboxServer]) -> None:
    data, server = terminal
    ref = _sell(data)
    killed = _cli(data, "sync", "--json", crash="econf_before_send")
    assert killed.returncode == EXIT_CODE
    assert _events(server, ref) == []
    sync = _cli(data, "sync", "--json")
    assert sync.returncode == 0
    report = json.loads(sync.stdout)
    assert any(ref in m["ref"] and "desconhecido" in m["motivo"] for m in report["para_gerente"]), report
    assert _local(data, "SELECT status FROM econf_events") == [{"status": "em_duvida"}]
    assert _events(server, ref) == []  # still nothing sent

    listed = _cli(data, "econf", "listar", "--status", "em_duvida", "--json")
    assert listed.returncode == 0 and [r["ref"] for r in json.loads(listed.stdout)] == [ref]
    sent = _cli(data, "econf", "enviar", ref, "--mesmo-assim", "--pin", "9999", "--json")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert json.loads(sent.stdout)["status"] == "registrado"
    assert len(_events(server, ref)) == 1
    actions = _local(data, "SELECT status, outcome FROM pending_actions ORDER BY id")
    assert [a["status"] for a in actions] == ["nao_efetivado", "concluido"]
    assert "mandou enviar de novo" in actions[0]["outcome"]


def test_cancel_killed_after_the_delete_is_resolved_by_consulting_the_protocol(
    terminal: tuple[Path, SandboxServer],
) -> None:
    data, server = terminal
    ref = _sell(data)
    assert _cli(data, "sync").returncode == 0
    (event,) = _events(server, ref)
    killed = _cli(
        data,
        "econf",
        "cancelar",
        ref,
        event["protocolo"],
        "--pin",
        "9999",
        crash="econf_cancel_after_answer_before_store",
    )
    assert killed.returncode == EXIT_CODE
    assert _events(server, ref)[0]["cancelado"] is True
    assert _local(data, "SELECT status FROM econf_events") == [{"status": "cancelando"}]
    sync = _cli(data, "sync", "--json")
    assert sync.returncode == 0, sync.stderr
    assert _local(data, "SELECT status FROM econf_events") == [{"status": "cancelado"}]
    assert _local(data, "SELECT kind, status FROM pending_actions ORDER BY id") == [
        {"kind": "econf", "status": "concluido"},
        {"kind": "econf_cancelamento", "status": "concluido"},
    ]


def test_cli_round_trip_and_cancel_in_sending_order(terminal: tuple[Path, SandboxServer]) -> None:
    data, server = terminal
    ref = _sell(data)
    # an older event registered by another system (the Focus panel) for the same note
    ctx = open_app(data, start_sandbox=False)
    try:
        chave = ctx.store.documents.by_ref(ref)["chave"]
    finally:
        ctx.close()
    other = EconfApi(FocusClient(server.url, DEMO_TOKEN, timeout=3.0)).send(
        ref,
        [
            {
                "forma_pagamento": "03",
                "valor_pagamento": "27.90",
                "data_pagamento": server.clock.now().date().isoformat(),
            }
        ],
        chave=chave,
    )
    assert other.numero_protocolo

    listed = _cli(data, "econf", "listar", "--json")
    assert listed.returncode == 0 and [r["status"] for r in json.loads(listed.stdout)] == ["avaliar"]
    bad = _cli(data, "econf", "listar", "--status", "perdido")
    assert bad.returncode == 2 and "Situação desconhecida" in bad.stdout + bad.stderr
    no_pin = _cli(data, "econf", "enviar", ref, "--pin", "0000", "--json")
    assert no_pin.returncode == 2

    sent = _cli(data, "econf", "enviar", ref, "--pin", "9999")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert f"ECONF da nota {ref} registrado: protocolo" in sent.stdout
    mine = _local(data, "SELECT numero_protocolo FROM econf_events")[0]["numero_protocolo"]
    text = _cli(data, "econf", "listar")
    assert (
        ref in text.stdout
        and "registrado" in text.stdout
        and mine in text.stdout
        and "R$ 27,90" in text.stdout
    )

    consulted = _cli(data, "econf", "consultar", ref, mine, "--json")
    assert consulted.returncode == 0 and json.loads(consulted.stdout)["status"] == "autorizado"
    unknown = _cli(data, "econf", "consultar", ref, "143269999999999")
    assert (
        unknown.returncode == 2
        and "não tem evento de conciliação financeira" in unknown.stdout + unknown.stderr
    )

    out_of_order = _cli(data, "econf", "cancelar", ref, mine, "--pin", "9999")
    assert out_of_order.returncode == 1
    assert "460" in out_of_order.stdout and "Cancele antes o evento mais antigo" in out_of_order.stdout
    assert _local(data, "SELECT status FROM econf_events") == [{"status": "registrado"}]
    first = _cli(data, "econf", "cancelar", ref, other.numero_protocolo, "--pin", "9999", "--json")
    assert first.returncode == 0 and json.loads(first.stdout)["cancelado"] is True
    second = _cli(data, "econf", "cancelar", ref, mine, "--pin", "9999", "--json")
    assert second.returncode == 0, second.stdout + second.stderr
    assert _local(data, "SELECT status, cancel_numero FROM econf_events") == [
        {"status": "cancelado", "cancel_numero": 4}
    ]
    detail = _cli(data, "historico", "detalhe", ref)
    assert detail.returncode == 0 and f"Conciliação financeira (ECONF) de {ref}: cancelado" in detail.stdout
    audit = _local(data, "SELECT action, outcome FROM audit_log WHERE action LIKE 'econf%' ORDER BY id")
    assert [(a["action"], a["outcome"]) for a in audit] == [
        ("econf_enviar", "ok"),
        ("econf_cancelar", "recusado"),
        ("econf_cancelar", "ok"),
        ("econf_cancelar", "ok"),
    ]
