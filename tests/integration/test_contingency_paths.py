"""Each path of a sale, end to end against the api over loopback (real httpx, real faults):
not delivered, known down, in doubt (dropped answer, timeout, 5xx), answered, São Paulo, and
Focus's own automatic contingency; then the replay that brings everything to one authorized note."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from contingency_kit import ARROZ, FEIJAO, check_invariants, docs, make_sale
from pypdf import PdfReader

from pos_app.core.domain.validators import is_valid_cnpj
from pos_app.core.fiscal.chave import is_valid_chave, parse_chave
from pos_app.core.fiscal.cnf import is_valid_cnf
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.monitor import ConnectivityMonitor
from pos_app.core.services.replay import ReplayService
from pos_app.core.services.status import backlog
from pos_app.sandbox import DEMO_TOKEN, CompanyConfig, SandboxServer


def pdf_text(path: str) -> tuple[int, str]:
    reader = PdfReader(path)
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


def events(ctx: Any, doc_id: int) -> list[str]:
    return [e["to_status"] for e in ctx.store.documents.events(doc_id)]


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condição não atingida a tempo")
        time.sleep(0.05)


# -- not delivered --------------------------------------------------------------------------------
def test_not_delivered_issues_contingency_at_once_and_replay_authorizes_it(
    term: Any, api: SandboxServer
) -> None:
    api.faults.set("unreachable")
    start = time.monotonic()
    result = EmissionService(term).checkout(make_sale(term, ARROZ, FEIJAO, cpf="52998224725"))
    assert time.monotonic() - start < 1.5  # refused connection: no waiting for a timeout
    assert result.contingencia and result.emitido and result.status == "contingencia_pendente"
    assert (result.serie, result.numero) == (600, 1)
    assert result.chave and is_valid_chave(result.chave)
    parts = parse_chave(result.chave)
    assert (parts.tp_emis, parts.serie, parts.numero) == (9, 600, 1)
    cont = term.store.documents.get(result.document_id)
    assert is_valid_cnf(cont["codigo_unico"], 1) and cont["chave"][35:43] == cont["codigo_unico"]
    online = term.store.documents.get(cont["replaces_document_id"])
    assert online["status"] == "encerrado" and events(term, online["id"]) == [
        "pendente",
        "enviando",
        "encerrado",
    ]
    assert cont["ref"] == online["ref"] + "_C"
    payload = json.loads(cont["payload"])
    assert (
        payload["numero"] == "1"
        and payload["serie"] == "600"
        and payload["codigo_unico"] == cont["codigo_unico"]
    )
    assert payload["data_emissao"] == cont["data_emissao"]
    # The DANFCe: two copies with the contingency notices and the signed QR code.
    pages, text = pdf_text(result.danfce or "")
    assert pages == 2
    assert text.count("EMITIDA EM CONTINGÊNCIA") == 2 and text.count("Pendente de autorização") == 2
    assert "Via Consumidor" in text and "Via Estabelecimento" in text
    assert cont["qrcode_url"] and "|3|2|" in cont["qrcode_url"]
    assert term.store.counters.peek(600) == 2

    # Link back: the replay transmits it with its own number, series, cNF and original date.
    api.faults.clear()
    report = ReplayService(term).run_once()
    assert report.ok and report.transmitidas == [cont["ref"]] and report.restantes == 0
    note = api.store.get_note(DEMO_TOKEN, cont["ref"])
    assert note is not None and note.status == "autorizado" and note.tp_emis == 9
    assert (note.serie, note.numero, note.cnf, note.chave) == (600, 1, cont["codigo_unico"], cont["chave"])
    done = term.store.documents.get(cont["id"])
    assert (
        done["status"] == "autorizado" and done["protocolo"] and done["caminho_xml"] and done["caminho_danfe"]
    )
    assert done["xml_path"] and Path(done["xml_path"]).read_bytes().startswith(b"<")
    assert done["data_emissao"] == cont["data_emissao"] and done["receipt_path"] is None
    # A reprint now shows the authorized note: one copy, protocol, no "pending" notice.
    reprint = EmissionService(term).receipts.render_for_document(cont["id"])
    pages, text = pdf_text(str(reprint))
    assert pages == 1 and "Pendente de autorização" not in text and done["protocolo"] in text
    check_invariants(term.store, api, sales_expected=1)


def test_known_down_link_goes_straight_to_contingency_without_a_request(
    term: Any, api: SandboxServer
) -> None:
    api.faults.set("slow", seconds=5)  # would cost the cashier the whole timeout
    monitor = ConnectivityMonitor(term.base_url)
    monitor.report(False)
    term.monitor = monitor
    start = time.monotonic()
    result = EmissionService(term).checkout(make_sale(term))
    assert time.monotonic() - start < 1.0
    assert result.contingencia and result.status == "contingencia_pendente"
    online = docs(term.store, kind="online")[0]
    assert events(term, online["id"]) == ["pendente", "encerrado"]  # never "enviando"
    assert api.note(online["ref"]) is None and api.store.notes() == []
    # The monitor comes back; the replay transmits.
    api.faults.clear()
    monitor.report(True)
    assert ReplayService(term).run_once().ok
    check_invariants(term.store, api, sales_expected=1)


def test_rate_limited_live_sale_goes_to_contingency(term: Any, api: SandboxServer) -> None:
    api.faults.set("rate_storm", n=1)
    result = EmissionService(term).checkout(make_sale(term))
    assert result.contingencia and result.numero == 1
    assert docs(term.store, kind="online")[0]["status"] == "encerrado"  # 429: nothing was processed


# -- in doubt ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "params"),
    [("in_doubt", {}), ("slow", {"seconds": 2.6})],
    ids=["answer-dropped", "timeout"],
)
def test_in_doubt_is_reissued_in_contingency_and_the_authorized_attempt_cancelled(
    term: Any, api: SandboxServer, fault: str, params: dict[str, Any]
) -> None:
    api.faults.set(fault, methods=["POST"], **params)
    start = time.monotonic()
    result = EmissionService(term).checkout(make_sale(term))
    elapsed = time.monotonic() - start
    assert elapsed < 3.5  # focus.timeout is 2 s: one total deadline, then contingency
    assert result.contingencia and (result.serie, result.numero) == (600, 1)
    online = docs(term.store, kind="online")[0]
    assert online["status"] == "em_duvida" and online["ref"] + "_C" == result.ref
    api.faults.clear()
    wait_for(lambda: (api.note(online["ref"]) or {}).get("status") == "autorizado")  # it did reach SEFAZ

    report = ReplayService(term).run_once()
    assert report.transmitidas == [result.ref]
    assert report.reconciliadas == [{"ref": online["ref"], "resultado": "autorizada; cancelada"}]
    assert term.store.documents.get(online["id"])["status"] == "cancelado"
    assert api.note(online["ref"])["status"] == "cancelado"
    check_invariants(term.store, api, sales_expected=1)
    assert backlog(term)["em_duvida"] == 0


def test_in_doubt_not_processed_is_closed(term: Any, api: SandboxServer) -> None:
    api.faults.set("server_error", code=502, count=1, methods=["POST"])  # 5xx: maybe processed
    result = EmissionService(term).checkout(make_sale(term))
    online = docs(term.store, kind="online")[0]
    assert result.contingencia and online["status"] == "em_duvida"
    report = ReplayService(term).run_once()
    assert report.reconciliadas == [{"ref": online["ref"], "resultado": "não autorizada; encerrada"}]
    assert term.store.documents.get(online["id"])["status"] == "encerrado"
    check_invariants(term.store, api, sales_expected=1)


def test_in_doubt_authorized_past_30_minutes_goes_to_the_manager(term: Any, api: SandboxServer) -> None:
    api.faults.set("in_doubt", methods=["POST"])
    result = EmissionService(term).checkout(make_sale(term))
    api.faults.clear()
    later = datetime.now(UTC) + timedelta(minutes=31)
    report = ReplayService(term, now=lambda: later).run_once()
    assert report.transmitidas == [result.ref]
    [item] = report.para_gerente
    assert "110112" in item["motivo"] and result.chave in item["motivo"]
    online = docs(term.store, kind="online")[0]
    assert online["status"] == "substituicao_pendente"
    assert api.note(online["ref"])["status"] == "autorizado"  # nothing was sent that SEFAZ would refuse
    b = backlog(term)
    assert b["substituicao_pendente"] == 1 and any("substituição" in a for a in b["avisos"])


# -- answered ---------------------------------------------------------------------------------------
def test_answered_online_is_the_online_result(term: Any, api: SandboxServer) -> None:
    result = EmissionService(term).checkout(make_sale(term))
    assert result.status == "autorizado" and not result.contingencia and result.serie == 1
    assert events(term, result.document_id) == ["pendente", "enviando", "autorizado"]
    assert docs(term.store, kind="contingencia") == [] and term.store.counters.peek(600) == 1
    check_invariants(term.store, api, sales_expected=1)


def test_answered_rejection_is_not_a_contingency(term: Any, api: SandboxServer) -> None:
    api.faults.reject_ref(f"{term.config.terminal_id}_00000001", "778", "Rejeicao: Informado NCM inexistente")
    result = EmissionService(term).checkout(make_sale(term))
    assert result.status == "erro_autorizacao" and not result.emitido and not result.contingencia
    assert "778" in result.mensagem and docs(term.store, kind="contingencia") == []


# -- São Paulo: offline NFC-e contingency like every other state (Portaria SRE 40/2024) -----------
SP_COMPANY = CompanyConfig(
    cnpj="11222333000181",
    razao_social="PADARIA PAULISTA LTDA",
    nome_fantasia="Padaria Paulista",
    inscricao_estadual="110042490114",
    logradouro="Rua Direita",
    numero="10",
    bairro="Sé",
    municipio="São Paulo",
    codigo_municipio="3550308",
    uf="SP",
    cep="01002000",
    regime="simples",
)


def _to_sp(ctx: Any, server: SandboxServer) -> None:
    assert is_valid_cnpj(SP_COMPANY.cnpj)
    server.register_company(SP_COMPANY)
    for key, value in {
        "cnpj": SP_COMPANY.cnpj,
        "razao_social": SP_COMPANY.razao_social,
        "inscricao_estadual": SP_COMPANY.inscricao_estadual,
        "logradouro": SP_COMPANY.logradouro,
        "numero": SP_COMPANY.numero,
        "bairro": SP_COMPANY.bairro,
        "municipio": SP_COMPANY.municipio,
        "codigo_municipio": SP_COMPANY.codigo_municipio,
        "uf": "SP",
        "cep": SP_COMPANY.cep,
    }.items():
        ctx.config.set(f"emitente.{key}", value)


@pytest.mark.parametrize("fault", ["unreachable", "in_doubt"])
def test_sao_paulo_issues_offline_contingency_and_replays_it(
    term: Any, api: SandboxServer, fault: str
) -> None:
    _to_sp(term, api)
    api.faults.set(fault, **({} if fault == "unreachable" else {"methods": ["POST"]}))
    result = EmissionService(term).checkout(make_sale(term))
    assert result.emitido and result.contingencia, result.mensagem
    [note] = docs(term.store, kind="contingencia")
    parts = parse_chave(note["chave"])
    assert parts.tp_emis == 9 and parts.uf == "SP" and parts.serie == 600
    api.faults.clear()
    ReplayService(term).run_once()
    assert term.store.documents.get(note["id"])["status"] == "autorizado"


def test_a_state_without_offline_contingency_waits_for_the_link(
    term: Any, api: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule is data: a (hypothetical) dated rule refusing tpEmis 9 keeps the waiting path working."""
    from pos_app.core.fiscal import states

    rule = states.OfflineContingencyRule("SP", datetime(2026, 1, 1).date(), False, "regra de teste")
    monkeypatch.setattr(states, "OFFLINE_CONTINGENCY_RULES", (*states.OFFLINE_CONTINGENCY_RULES, rule))
    _to_sp(term, api)
    api.faults.set("unreachable")
    result = EmissionService(term).checkout(make_sale(term))
    assert not result.emitido and not result.contingencia and result.status == "aguardando_conexao"
    assert (
        "SP não existe contingência offline" in result.mensagem
        and "quando a conexão voltar" in result.mensagem
    )
    assert docs(term.store, kind="contingencia") == [] and term.store.counters.peek(600) == 1  # no tpEmis 9
    assert backlog(term)["aguardando_conexao"] == 1
    api.faults.clear()
    report = ReplayService(term).run_once()
    assert report.emitidas == [result.ref], report.to_json()
    doc = term.store.documents.get(result.document_id)
    assert doc["status"] == "autorizado" and parse_chave(doc["chave"]).tp_emis == 1
    check_invariants(term.store, api, sales_expected=1)


# -- Focus automatic contingency (SEFAZ down, API up) -----------------------------------------------
@pytest.mark.parametrize("original_authorized", [False, True])
def test_focus_automatic_contingency_is_followed_until_effectivated(
    term: Any, api: SandboxServer, original_authorized: bool
) -> None:
    api.faults.once("sefaz_down", original_authorized=original_authorized)
    result = EmissionService(term).checkout(make_sale(term))
    assert result.status == "autorizado" and result.contingencia and result.emitido
    assert "contingência pela Focus" in result.mensagem
    doc = term.store.documents.get(result.document_id)
    assert doc["focus_contingencia"] == 1 and doc["focus_contingencia_efetivada"] == 0
    assert parse_chave(doc["chave"]).tp_emis == 9 and doc["qrcode_url"]
    assert json.loads(doc["tentativa_anterior"])["status"] == "processando_autorizacao"
    pages, text = pdf_text(result.danfce or "")
    assert pages == 2 and "EMITIDA EM CONTINGÊNCIA" in text and "Pendente de autorização" in text
    assert backlog(term)["contingencia_focus_nao_efetivada"] == 1

    assert ReplayService(term).run_once().reconciliadas == []  # not effectivated yet: keep following
    assert term.store.documents.get(doc["id"])["xml_path"] is None  # the temporary XML is not kept
    api.clock.advance(api.contingency_delay + timedelta(seconds=1))
    report = ReplayService(term).run_once()
    [item] = report.reconciliadas
    final = term.store.documents.get(doc["id"])
    assert final["focus_contingencia_efetivada"] == 1 and final["status"] == "autorizado"
    previous = json.loads(final["tentativa_anterior"])
    assert previous["status"] == ("cancelado" if original_authorized else "erro_autorizacao")
    assert previous["status"] in item["resultado"]
    assert final["xml_path"] and backlog(term)["contingencia_focus_nao_efetivada"] == 0
    check_invariants(term.store, api, sales_expected=1)


# -- order of the replay ----------------------------------------------------------------------------
def test_replay_transmits_oldest_first_with_original_dates(term: Any, api: SandboxServer) -> None:
    api.faults.set("unreachable")
    service = EmissionService(term, render_receipts=False)
    refs = [service.checkout(make_sale(term)).ref for _ in range(4)]
    api.faults.clear()
    api.clock.advance(timedelta(hours=3))  # transmitted 3 h later: dates stay the original ones
    report = ReplayService(term, workers=1).run_once()
    assert report.transmitidas == refs
    sent = sorted((n for n in api.store.notes() if n.ref in refs), key=lambda n: n.protocolo or "")
    assert [n.numero for n in sent] == [1, 2, 3, 4]
    check_invariants(term.store, api, sales_expected=4)
