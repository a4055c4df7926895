"""A contingency note SEFAZ rejects on transmission: listed with the SEFAZ message, corrected from the
catalog and resent with the SAME number, series and cNF (same key); `status --json` and its deadline
warnings; the sandbox fault names in Portuguese."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from contingency_kit import ARROZ, check_invariants, make_sale

from pos_app.cli import main
from pos_app.cli.contingency import translate_fault_spec
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.replay import ReplayService
from pos_app.core.services.status import backlog
from pos_app.sandbox import DEMO_TOKEN, SandboxServer, parse_fault_spec

NCM_MSG = "Rejeicao: Informado NCM inexistente [nItem:1]"


def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, ctx: Any, *argv: str
) -> tuple[int, Any]:
    monkeypatch.setenv("POS_DATA_DIR", str(ctx.data_dir))
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if "--json" in argv else out


def test_rejected_note_is_corrected_from_the_catalog_and_resent_with_the_same_key(
    term: Any, api: SandboxServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api.faults.set("unreachable")
    first = EmissionService(term).checkout(make_sale(term, ARROZ))
    second = EmissionService(term).checkout(make_sale(term, "1002"))
    printed = term.store.documents.get(first.document_id)
    api.faults.clear("unreachable")
    api.faults.reject_ref(first.ref, "778", NCM_MSG)

    report = ReplayService(term).run_once()
    assert report.transmitidas == [second.ref]  # one bad note does not hold the others back
    assert report.com_erro == [
        {"ref": first.ref, "numero": 1, "serie": 600, "status_sefaz": "778", "mensagem_sefaz": NCM_MSG}
    ]
    assert term.store.documents.get(first.document_id)["status"] == "contingencia_erro"

    code, listed = cli(capsys, monkeypatch, term, "contingencia", "listar", "--json")
    assert code == 0 and listed["com_erro"] == 1 and listed["pendentes"] == 0
    [note] = listed["notas"]
    assert note["ref"] == first.ref and note["precisa_correcao"] and note["mensagem_sefaz"] == NCM_MSG
    assert note["prazo_restante_minutos"] <= 24 * 60
    code, status = cli(capsys, monkeypatch, term, "status", "--json")
    assert code == 0 and status["contingencia_com_erro"] == 1 and status["contingencia_pendentes"] == 0
    assert any("correção" in a for a in status["avisos"])

    # Nothing changed in the catalog yet: the command says so and touches nothing.
    code, same = cli(capsys, monkeypatch, term, "contingencia", "corrigir", first.ref, "--json")
    assert code == 1 and same["corrigida"] is False and same["status"] == "contingencia_erro"

    # Fix the product's NCM, then correct the note from the catalog.
    product = term.store.products.lookup(ARROZ)
    old_ncm, product.ncm = product.ncm, "10063011"
    term.store.products.upsert_many([product])
    code, fixed = cli(capsys, monkeypatch, term, "contingencia", "corrigir", first.ref, "--json")
    assert code == 0 and fixed["corrigida"] and fixed["status"] == "contingencia_pendente"
    assert {
        "item": 1,
        "codigo": product.codigo,
        "campo": "codigo_ncm",
        "antes": old_ncm,
        "depois": "10063011",
    } in fixed["alteracoes"]
    assert (fixed["numero"], fixed["serie"], fixed["codigo_unico"], fixed["chave"]) == (
        printed["numero"],
        printed["serie"],
        printed["codigo_unico"],
        printed["chave"],
    )
    payload = json.loads(term.store.documents.get(first.document_id)["payload"])
    assert payload["items"][0]["codigo_ncm"] == "10063011"
    assert (
        payload["data_emissao"] == printed["data_emissao"]
        and payload["codigo_unico"] == printed["codigo_unico"]
    )

    # SEFAZ still refuses (the fault stays until cleared): still in the list, same message.
    code, again = cli(capsys, monkeypatch, term, "contingencia", "reenviar", first.ref, "--json")
    assert code == 1 and again["status"] == "contingencia_erro" and again["mensagem_sefaz"] == NCM_MSG
    api.faults.clear()
    code, sent = cli(capsys, monkeypatch, term, "contingencia", "reenviar", first.ref, "--json")
    assert code == 0 and sent["status"] == "autorizado" and sent["protocolo"]
    at_api = api.store.get_note(DEMO_TOKEN, first.ref)
    assert at_api is not None and (at_api.numero, at_api.serie, at_api.cnf, at_api.chave) == (
        printed["numero"],
        printed["serie"],
        printed["codigo_unico"],
        printed["chave"],
    )
    assert at_api.payload and at_api.payload["items"][0]["codigo_ncm"] == "10063011"
    sale_item = term.store.sales.get(first.sale_id)["items"][0]
    assert sale_item["ncm"] == "10063011"
    check_invariants(term.store, api, sales_expected=2)
    code, listed = cli(capsys, monkeypatch, term, "contingencia", "listar", "--json")
    assert listed["notas"] == []


def test_cli_refuses_unknown_or_final_notes(
    term: Any, api: SandboxServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = cli(capsys, monkeypatch, term, "contingencia", "corrigir", "NAO-EXISTE", "--json")
    assert code == 2 and "não encontrada" in out["erro"]
    done = EmissionService(term).checkout(make_sale(term))  # online, authorized
    code, out = cli(capsys, monkeypatch, term, "contingencia", "reenviar", done.ref, "--json")
    assert code == 2


def test_status_json_reports_the_backlog_and_escalates_toward_24_hours(
    term: Any, api: SandboxServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api.faults.set("unreachable")
    EmissionService(term, render_receipts=False).checkout(make_sale(term))
    code, status = cli(capsys, monkeypatch, term, "status", "--json")
    assert code == 0
    assert status["online"] is False  # the monitor's TCP check: refused
    assert status["contingencia_pendentes"] == 1 and status["contingencia_com_erro"] == 0
    assert status["mais_antiga_minutos"] == 0 and status["alerta"] == "ok"
    assert status["proximo_numero_contingencia"] == 2
    issued = datetime.fromisoformat(
        term.store.documents.with_status("contingencia_pendente")[0]["data_emissao"]
    )
    levels = {h: backlog(term, now=issued + timedelta(hours=h)) for h in (1, 13, 21, 25)}
    assert [levels[h]["alerta"] for h in (1, 13, 21, 25)] == ["ok", "atencao", "critico", "vencido"]
    assert levels[21]["prazo_restante_minutos"] == 180 and "faltam 3 h" in levels[21]["avisos"][0]
    assert "PRAZO VENCIDO" in levels[25]["avisos"][0]
    api.faults.clear()
    code, status = cli(capsys, monkeypatch, term, "status", "--json")
    assert status["online"] is True


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("lento:8", "slow,seconds=8"),
        ("sem_resposta", "in_doubt"),
        ("sefaz_fora", "sefaz_down"),
        ("429:5", "rate_storm,n=5"),
        ("erro500:3", "server_error,code=500,count=3"),
        ("erro503", "server_error,code=503"),
        ("rejeitar:CX01-00000001-C", "reject_ref,target=CX01-00000001-C"),
        ("inacessível", "unreachable"),
        ("slow=2", "slow=2"),  # the English names still work
    ],
)
def test_sandbox_fault_names_in_portuguese(spec: str, expected: str) -> None:
    translated = translate_fault_spec(spec)
    assert translated == expected
    parse_fault_spec(translated)  # accepted by the sandbox
