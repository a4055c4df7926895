"""ECONF client against the sandbox over loopback HTTP: send/consult/cancel on /v2/nfce and /v2/nfe,
the documented rejections (sending order 460, unknown protocol 422 object_not_found), the body rules,
faults (SEFAZ down 108, no answer -> InDoubt)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from pos_app.core.focus.client import FocusClient
from pos_app.core.focus.econf import EconfAnswerMismatch, EconfApi, EconfNotFound
from pos_app.core.focus.errors import ApiError, InDoubt
from pos_app.sandbox import DEMO_TOKEN, SandboxServer, sample_payload

ACQUIRER = "01425787000104"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(rate_limit=None) as s:
        yield s


@pytest.fixture
def http(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, auth=(DEMO_TOKEN, ""), timeout=5.0) as c:
        yield c


@pytest.fixture
def api(server: SandboxServer) -> EconfApi:
    return EconfApi(FocusClient(server.url, DEMO_TOKEN, timeout=3.0))


def _note(server: SandboxServer, http: httpx.Client, ref: str = "ECF1") -> str:
    r = http.post("/v2/nfce", params={"ref": ref}, json=sample_payload(server.clock.now()))
    assert r.status_code == 201 and r.json()["status"] == "autorizado", r.text
    return str(r.json()["chave_nfe"]).removeprefix("NFe")


def _detail(server: SandboxServer, **extra: Any) -> dict[str, Any]:
    item = {
        "indicador_pagamento": "0",
        "forma_pagamento": "03",
        "valor_pagamento": "10.00",
        "data_pagamento": server.clock.now().date().isoformat(),
        "cnpj_instituicao_financeira": ACQUIRER,
        "bandeira_operadora": "01",
        "numero_autorizacao": "1234",
    }
    item.update(extra)
    return {k: v for k, v in item.items() if v is not None}


def test_send_consult_cancel_round_trip_and_sending_order(
    server: SandboxServer, http: httpx.Client, api: EconfApi
) -> None:
    chave = _note(server, http)
    first = api.send("ECF1", [_detail(server)], chave=chave)
    assert first.registered and first.status_sefaz == "135" and first.numero == 1
    assert first.numero_protocolo and len(first.numero_protocolo) == 15
    assert first.caminho_xml and chave in first.caminho_xml and first.caminho_xml.endswith("-cf-01.xml")
    xml = http.get(first.caminho_xml).text
    assert "<tpEvento>110750</tpEvento>" in xml and f"<nProt>{first.numero_protocolo}</nProt>" in xml
    second = api.send("ECF1", [_detail(server, forma_pagamento="17", bandeira_operadora=None)], chave=chave)
    assert second.numero == 2 and second.numero_protocolo != first.numero_protocolo

    consulted = api.consult("ECF1", first.numero_protocolo, chave=chave)
    assert (
        consulted.registered
        and consulted.numero_protocolo == first.numero_protocolo
        and consulted.numero == 1
    )

    # out of sending order: SEFAZ 460
    assert second.numero_protocolo is not None
    out_of_order = api.cancel("ECF1", second.numero_protocolo, chave=chave)
    assert out_of_order.rejected and out_of_order.status_sefaz == "460"
    assert "Protocolo do Evento difere do cadastrado" in str(out_of_order.mensagem_sefaz)
    assert api.consult("ECF1", second.numero_protocolo).registered  # nothing changed

    cancelled = api.cancel("ECF1", first.numero_protocolo, chave=chave)
    assert cancelled.registered and cancelled.numero == 3 and cancelled.caminho_xml
    assert cancelled.caminho_xml.endswith("-cf-canc-03.xml")
    assert api.consult("ECF1", first.numero_protocolo).cancelled
    again = api.cancel("ECF1", first.numero_protocolo)
    assert again.rejected and again.status_sefaz == "573"
    assert api.cancel("ECF1", second.numero_protocolo).registered  # now it is the oldest

    with pytest.raises(EconfNotFound) as nf:
        api.consult("ECF1", "141260000099999")
    assert nf.value.status_code == 422 and nf.value.codigo == "object_not_found"
    with pytest.raises(EconfNotFound):
        api.cancel("ECF1", "141260000099999")


def test_nfe_family_has_its_own_econf(server: SandboxServer, http: httpx.Client, api: EconfApi) -> None:
    _note(server, http, "ECF2")
    nfe = EconfApi(api.client, "/v2/nfe")
    with pytest.raises(ApiError) as exc:  # the NFC-e ref is not an NF-e
        nfe.send("ECF2", [_detail(server)])
    assert exc.value.status_code == 404 and exc.value.codigo == "nfe_nao_encontrada"


def _errors(http: httpx.Client, ref: str, body: Any) -> list[str]:
    r = http.post(f"/v2/nfce/{ref}/econf", json=body)
    assert r.status_code == 400, r.text
    data = r.json()
    assert data["codigo"] == "requisicao_invalida"
    return [e["campo"] for e in data["erros"]]


def test_sandbox_enforces_the_documented_body(server: SandboxServer, http: httpx.Client) -> None:
    _note(server, http)
    today = server.clock.now().date()
    assert _errors(http, "ECF1", {"detalhes_pagamento": []}) == ["detalhes_pagamento"]
    assert _errors(http, "ECF1", {"detalhes_pagamento": [_detail(server)] * 101}) == ["detalhes_pagamento"]
    assert (
        http.post("/v2/nfce/ECF1/econf", json={"detalhes_pagamento": [_detail(server)] * 100}).status_code
        == 200
    )
    missing = _errors(http, "ECF1", {"detalhes_pagamento": [{"bandeira_operadora": "01"}]})
    assert missing == [
        "detalhes_pagamento[0].forma_pagamento",
        "detalhes_pagamento[0].valor_pagamento",
        "detalhes_pagamento[0].data_pagamento",
    ]
    bad = {
        "forma_pagamento": ("06", "forma_pagamento"),
        "bandeira_operadora": ("28", "bandeira_operadora"),
        "indicador_pagamento": ("2", "indicador_pagamento"),
        "valor_pagamento": ("0", "valor_pagamento"),
        "data_pagamento": ((today + timedelta(days=1)).isoformat(), "data_pagamento"),
        "cnpj_instituicao_financeira": ("01425787000105", "cnpj_instituicao_financeira"),
    }
    for name, (value, campo) in bad.items():
        fields = _errors(http, "ECF1", {"detalhes_pagamento": [_detail(server, **{name: value})]})
        assert fields == [f"detalhes_pagamento[0].{campo}"], (name, fields)
    assert _errors(http, "ECF1", {"detalhes_pagamento": [_detail(server, valor_pagamento="-5")]})
    assert _errors(http, "ECF1", {"detalhes_pagamento": [_detail(server, valor_pagamento="1.001")]})
    # uf_* required with their CNPJ; an alphanumeric CNPJ is a valid CNPJ
    fields = _errors(
        http, "ECF1", {"detalhes_pagamento": [_detail(server, cnpj_transacional="12ABC34501DE35")]}
    )
    assert fields == ["detalhes_pagamento[0].uf_transacional"]
    fields = _errors(
        http,
        "ECF1",
        {"detalhes_pagamento": [_detail(server, cnpj_beneficiario="12ABC34501DE36", uf_beneficiario="PR")]},
    )
    assert fields == ["detalhes_pagamento[0].cnpj_beneficiario"]
    ok = _detail(
        server,
        cnpj_transacional="12ABC34501DE35",
        uf_transacional="PR",
        cnpj_beneficiario="12ABC34501DE35",
        uf_beneficiario="PR",
        forma_pagamento="20",
    )
    r = http.post("/v2/nfce/ECF1/econf", json={"detalhes_pagamento": [ok]})
    assert r.status_code == 200 and r.json()["status_sefaz"] == "135"


def test_sandbox_refuses_unknown_or_unauthorized_notes(server: SandboxServer, http: httpx.Client) -> None:
    r = http.post("/v2/nfce/NADA/econf", json={"detalhes_pagamento": [_detail(server)]})
    assert r.status_code == 404 and r.json()["codigo"] == "nfce_nao_encontrada"
    chave = _note(server, http)
    assert chave
    assert (
        http.request(
            "DELETE", "/v2/nfce/ECF1", json={"justificativa": "Cliente desistiu da compra no caixa"}
        ).json()["status"]
        == "cancelado"
    )
    r = http.post("/v2/nfce/ECF1/econf", json={"detalhes_pagamento": [_detail(server)]})
    assert r.status_code == 422 and r.json()["codigo"] == "nfe_nao_autorizada"
    r = http.get("/v2/nfce/ECF1/econf/141260000099999")
    assert r.status_code == 422 and r.json()["mensagem"].startswith("A nota fiscal não possui um evento")
    assert http.put("/v2/nfce/ECF1/econf").status_code == 405


def test_faults_apply_to_econf(server: SandboxServer, http: httpx.Client, api: EconfApi) -> None:
    _note(server, http)
    server.faults.set("sefaz_down")
    down = api.send("ECF1", [_detail(server)])
    assert down.rejected and down.status_sefaz == "108"
    server.faults.clear()
    server.faults.set(
        "reject_ref", target="ECF1", status_sefaz="215", mensagem_sefaz="Rejeicao: Falha no schema XML"
    )
    chosen = api.send("ECF1", [_detail(server)])
    assert (
        chosen.rejected
        and chosen.status_sefaz == "215"
        and chosen.mensagem_sefaz == "Rejeicao: Falha no schema XML"
    )
    server.faults.clear()
    server.faults.once("in_doubt")
    with pytest.raises(InDoubt):
        api.send("ECF1", [_detail(server)])
    # the in_doubt fault processes the request and drops the answer: the event exists at the API
    note = server.engine.store.get_note(DEMO_TOKEN, "ECF1")
    assert note is not None and len(note.econf or []) == 1


def test_an_answer_for_another_note_is_not_trusted(
    server: SandboxServer, http: httpx.Client, api: EconfApi
) -> None:
    _note(server, http)
    other = "4" * 44
    with pytest.raises(EconfAnswerMismatch):
        api.send("ECF1", [_detail(server)], chave=other)
