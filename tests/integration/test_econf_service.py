"""When ECONF is sent: queued by the note's authorization, sent by the background pass (never during
the sale), by the dated state rule (RS yes, PR no) or the store setting; payload from the sale's
payments; rejections kept for the manager; NF-e too; a contingency note after its replay."""

from __future__ import annotations

import json
from typing import Any

import pytest
from contingency_kit import make_sale
from econf_kit import ACQUIRER, E2E, PSP, card_sale, cash_sale, econf_rows, make_rs, split_sale

from pos_app.core.services.background import ReplayScheduler
from pos_app.core.services.econf import EconfError, EconfService
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.reliability_status import reliability_lines
from pos_app.core.services.replay import ReplayService
from pos_app.sandbox import DEMO_TOKEN, SandboxServer


def _checkout(ctx: Any, sale: Any) -> Any:
    result = EmissionService(ctx, render_receipts=False).checkout(sale)
    return result


def _events(api: SandboxServer, ref: str) -> list[dict[str, Any]]:
    note = api.engine.store.get_note(DEMO_TOKEN, ref)
    return list(note.econf or []) if note else []


def _pass(ctx: Any) -> Any:
    return ReplayService(ctx, render_receipts=False).run_once()


def test_card_and_pix_sale_in_rs_is_linked_by_the_background_pass(term: Any, api: SandboxServer) -> None:
    make_rs(term, api)
    result = _checkout(term, split_sale(term))
    assert result.status == "autorizado"
    # the sale is done and the cashier has the receipt: nothing was sent to /econf yet
    assert _events(api, result.ref) == []
    rows = econf_rows(term)
    assert [(r["ref"], r["status"], r["origem"]) for r in rows] == [(result.ref, "avaliar", "automatico")]
    assert term.store.documents.has_backlog()  # the background scheduler has work

    scheduler = ReplayScheduler(term, replay_factory=lambda: ReplayService(term, render_receipts=False))
    report = scheduler.run_now(force=False)
    assert report is not None and report.econf_registrados == [result.ref]
    assert "Conciliações financeiras (ECONF) registradas: 1" in report.lines()

    (row,) = econf_rows(term)
    assert row["status"] == "registrado" and row["status_sefaz"] == "135" and row["numero_conciliacao"] == 1
    (event,) = _events(api, result.ref)
    assert row["numero_protocolo"] == event["protocolo"]
    day = term.store.documents.get(result.document_id)["data_emissao"][:10]
    assert event["detalhes"] == [
        {
            "indicador_pagamento": "0",
            "forma_pagamento": "04",
            "descricao_pagamento": "Cartão de débito",
            "valor_pagamento": "20.00",
            "data_pagamento": day,
            "cnpj_instituicao_financeira": ACQUIRER,
            "bandeira_operadora": "02",
            "numero_autorizacao": "DEB123",
        },
        {
            "indicador_pagamento": "0",
            "forma_pagamento": "17",
            "descricao_pagamento": "PIX dinâmico",
            "valor_pagamento": "25.80",
            "data_pagamento": day,
            "cnpj_instituicao_financeira": PSP,
            "numero_autorizacao": E2E,
        },
    ]  # the cash payment is not linked
    # the write-ahead row was closed by the answer
    (action,) = term.store.database.query("SELECT * FROM pending_actions")
    assert action["kind"] == "econf" and action["status"] == "concluido"
    # the sale's detail shows it
    from pos_app.core.services.history import HistoryService

    detail = HistoryService(term).detail(result.ref)
    assert [(e["status"], e["numero_protocolo"]) for e in detail["econf"]] == [
        ("registrado", event["protocolo"])
    ]
    assert not term.store.documents.has_backlog()
    _pass(term)
    assert len(_events(api, result.ref)) == 1  # never sent twice


def test_no_econf_in_pr_nor_for_cash_in_rs(term: Any, api: SandboxServer) -> None:
    pr = _checkout(term, card_sale(term))  # the demo company is in PR: no rule
    assert pr.status == "autorizado"
    report = _pass(term)
    assert econf_rows(term) == [] and _events(api, pr.ref) == []
    assert not report.para_gerente
    make_rs(term, api)
    cash = _checkout(term, cash_sale(term))
    _pass(term)
    assert econf_rows(term) == [] and _events(api, cash.ref) == []


@pytest.mark.parametrize(("mode", "uf_rs", "sent"), [("sempre", False, True), ("nunca", True, False)])
def test_store_setting_overrides_the_state_rule(
    term: Any, api: SandboxServer, mode: str, uf_rs: bool, sent: bool
) -> None:
    if uf_rs:
        make_rs(term, api)
    term.config.set("econf.modo", mode)
    result = _checkout(term, card_sale(term))
    _pass(term)
    assert bool(_events(api, result.ref)) is sent
    assert [r["status"] for r in econf_rows(term)] == (["registrado"] if sent else [])


def test_rejection_is_kept_with_the_sefaz_message_and_not_retried(term: Any, api: SandboxServer) -> None:
    make_rs(term, api)
    result = _checkout(term, card_sale(term))
    api.faults.set("sefaz_down")  # SEFAZ rejects the event (108); the note is already authorized
    report = _pass(term)
    api.faults.clear()
    (row,) = econf_rows(term)
    assert row["status"] == "rejeitado" and row["status_sefaz"] == "108"
    assert any("ECONF rejeitado" in m["motivo"] for m in report.para_gerente)
    lines = reliability_lines(term)
    assert any(f"ECONF da nota {result.ref} rejeitado: 108" in line for line in lines), lines
    _pass(term)
    assert econf_rows(term)[0]["status"] == "rejeitado" and _events(api, result.ref) == []  # not retried
    # the manager sends it again once SEFAZ is back
    sent = EconfService(term).send_now(result.ref)
    assert sent["status"] == "registrado" and len(_events(api, result.ref)) == 1
    assert not any("ECONF" in line for line in reliability_lines(term))


def test_link_down_keeps_it_queued_with_back_off(term: Any, api: SandboxServer) -> None:
    make_rs(term, api)
    result = _checkout(term, card_sale(term))
    api.faults.set("unreachable")
    _pass(term)
    api.faults.clear()
    (row,) = econf_rows(term)
    assert row["status"] == "pendente" and row["next_attempt_at"] and row["last_error"]
    (action,) = term.store.database.query("SELECT * FROM pending_actions")
    assert action["status"] == "nao_efetivado"  # not sent: nothing in doubt
    svc = EconfService(term)
    assert not svc.backlog()  # backing off
    term.store.database.execute("UPDATE econf_events SET next_attempt_at = '2000-01-01T00:00:00+00:00'")
    _pass(term)
    assert econf_rows(term)[0]["status"] == "registrado" and len(_events(api, result.ref)) == 1


def test_contingency_note_is_linked_after_its_replay(term: Any, api: SandboxServer) -> None:
    make_rs(term, api)
    api.faults.set("unreachable")
    result = _checkout(term, card_sale(term))
    assert result.status == "contingencia_pendente"
    assert econf_rows(term) == []  # not authorized yet
    api.faults.clear()
    report = _pass(term)
    assert report.transmitidas
    doc = term.store.documents.by_ref(report.transmitidas[0])
    assert doc["status"] == "autorizado"
    (row,) = econf_rows(term)
    assert row["ref"] == doc["ref"] and row["status"] == "registrado"
    assert len(_events(api, doc["ref"])) == 1


def test_nfe_is_linked_on_the_nfe_endpoint(demo_ctx: Any) -> None:
    from pos_app.core.store.clientes import Cliente

    demo_ctx.sandbox.nfe_engine.processing_seconds = 0.3
    demo_ctx.config.set("econf.modo", "sempre")
    demo_ctx.store.clientes.save(
        Cliente(
            documento="12ABC34501DE35",
            nome="RESTAURANTE BOA MESA LTDA",
            logradouro="Rua das Flores",
            numero="100",
            bairro="Centro",
            codigo_municipio="4106902",
            municipio="Curitiba",
            uf="PR",
            cep="80010-000",
            indicador_ie="1",
            inscricao_estadual="9044016688",
        )
    )
    sale = card_sale(demo_ctx)
    sale.cnpj = "12ABC34501DE35"
    result = EmissionService(demo_ctx, render_receipts=False).checkout(sale)
    assert result.status == "autorizado" and result.modelo == 55
    _pass(demo_ctx)
    (row,) = econf_rows(demo_ctx)
    assert row["modelo"] == 55 and row["status"] == "registrado"
    note = demo_ctx.sandbox.nfe_engine.store.get_note(DEMO_TOKEN, result.ref)
    assert note is not None and len(note.econf or []) == 1
    assert demo_ctx.sandbox.engine.store.get_note(DEMO_TOKEN, result.ref) is None


def test_manual_send_refuses_what_it_must(term: Any, api: SandboxServer) -> None:
    cash = _checkout(term, make_sale(term))
    svc = EconfService(term)
    with pytest.raises(EconfError, match="não tem pagamento com cartão ou PIX"):
        svc.send_now(cash.ref)
    card = _checkout(term, card_sale(term))
    row = svc.send_now(card.ref)  # PR: not required, but the manager may link it (ECONF is optional)
    assert row["status"] == "registrado" and row["origem"] == "automatico"  # the queued row, sent now
    with pytest.raises(EconfError, match="já está registrado"):
        svc.send_now(card.ref)
    (stored,) = [r for r in econf_rows(term) if r["ref"] == card.ref]
    assert json.loads(stored["detalhes"])[0]["numero_autorizacao"] == "AUT778899"
    _pass(term)  # the cash sale's queued row is dropped (no card/PIX); nothing else is sent
    assert [r["ref"] for r in econf_rows(term)] == [card.ref] and len(_events(api, card.ref)) == 1


def test_focus_contingency_note_waits_until_effectivated(term: Any, api: SandboxServer) -> None:
    from datetime import timedelta

    make_rs(term, api)
    api.faults.once("sefaz_down")  # Focus issues the note in its own contingency (tpEmis 9)
    result = _checkout(term, card_sale(term))
    doc = term.store.documents.get(result.document_id)
    assert result.status == "autorizado" and doc["focus_contingencia"] == 1
    _pass(term)
    assert [r["status"] for r in econf_rows(term)] == ["pendente"]  # not at SEFAZ yet: waits
    assert _events(api, result.ref) == []
    api.clock.advance(api.engine.contingency_delay + timedelta(seconds=1))
    _pass(term)  # effectivated, then linked in the same pass
    assert term.store.documents.get(result.document_id)["focus_contingencia_efetivada"] == 1
    assert [r["status"] for r in econf_rows(term)] == ["registrado"] and len(_events(api, result.ref)) == 1
