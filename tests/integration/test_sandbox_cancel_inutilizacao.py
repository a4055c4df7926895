"""Cancellation (30-minute window), inutilização and e-mail resend against the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
from lxml import etree

from pos_app.sandbox import DEMO_COMPANY, SandboxServer, sample_payload

EmitFn = Callable[..., httpx.Response]
JUSTIFICATIVA = "Cliente desistiu da compra no caixa"


def _cancel(client: httpx.Client, ref: str, justificativa: str | None = JUSTIFICATIVA) -> httpx.Response:
    body = {} if justificativa is None else {"justificativa": justificativa}
    return client.request("DELETE", f"/v2/nfce/{ref}", json=body)


def test_cancel_within_30_minutes_gives_135_and_a_valid_event_xml(
    sandbox_server: SandboxServer,
    sandbox_emit: EmitFn,
    sandbox_client: httpx.Client,
    xsd_schema: Callable[[str], etree.XMLSchema],
) -> None:
    authorized = sandbox_emit("c1").json()
    sandbox_server.clock.advance(timedelta(minutes=29))
    response = _cancel(sandbox_client, "c1")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "status_sefaz": "135",
        "mensagem_sefaz": "Evento registrado e vinculado a NF-e",
        "status": "cancelado",
        "caminho_xml_cancelamento": authorized["caminho_xml_nota_fiscal"].replace("-nfe.xml", "-can.xml"),
    }
    consult = sandbox_client.get("/v2/nfce/c1").json()
    assert consult["status"] == "cancelado" and consult["status_sefaz"] == "135"
    assert consult["caminho_xml_cancelamento"] == body["caminho_xml_cancelamento"]
    assert consult["chave_nfe"] == authorized["chave_nfe"]
    full = sandbox_client.get("/v2/nfce/c1", params={"completa": 1}).json()
    assert full["protocolo_cancelamento"]["status"] == "135"
    assert full["requisicao_cancelamento"]["justificativa"] == JUSTIFICATIVA

    xml = etree.fromstring(sandbox_client.get(body["caminho_xml_cancelamento"]).content)
    schema = xsd_schema("procEventoCancNFe_v1.00.xsd")
    assert schema.validate(xml), schema.error_log

    again = _cancel(sandbox_client, "c1")
    assert (again.status_code, again.json()["codigo"]) == (400, "nfe_cancelada")


def test_cancel_after_30_minutes_is_refused_by_sefaz_501(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn, sandbox_client: httpx.Client
) -> None:
    sandbox_emit("c2")
    sandbox_server.clock.advance(timedelta(minutes=31))
    body = _cancel(sandbox_client, "c2").json()
    assert body["status"] == "erro_cancelamento"
    assert body["status_sefaz"] == "501"
    assert body["mensagem_sefaz"] == "Rejeicao: Prazo de Cancelamento Superior ao Previsto na Legislacao"
    assert sandbox_client.get("/v2/nfce/c2").json()["status"] == "autorizado"


def test_cancel_request_errors(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn, sandbox_client: httpx.Client
) -> None:
    assert _cancel(sandbox_client, "nada").status_code == 404
    sandbox_emit("c3")
    missing = _cancel(sandbox_client, "c3", None)
    assert (missing.status_code, missing.json()["codigo"]) == (400, "justificativa_nao_informada")
    short = _cancel(sandbox_client, "c3", "curta")
    assert short.status_code == 422
    assert short.json()["mensagem"] == 'Parâmetro "justificativa" deve ter entre 15 e 255 caracteres'
    sandbox_emit("c4", sample_payload(sandbox_server.clock.now(), icms="60"))  # rejected 590
    not_authorized = _cancel(sandbox_client, "c4")
    assert (not_authorized.status_code, not_authorized.json()["codigo"]) == (404, "nfce_nao_autorizada")


def _inutilizar(
    client: httpx.Client, first: int, last: int, justificativa: str = "Falha do sistema na emissao"
) -> httpx.Response:
    return client.post(
        "/v2/nfce/inutilizacao",
        json={
            "cnpj": DEMO_COMPANY.cnpj,
            "serie": "1",
            "numero_inicial": str(first),
            "numero_final": str(last),
            "justificativa": justificativa,
        },
    )


def test_inutilizacao_homologated_102_then_241_and_256(
    sandbox_emit: EmitFn, sandbox_client: httpx.Client, xsd_schema: Callable[[str], etree.XMLSchema]
) -> None:
    sandbox_emit("i1")  # uses number 1
    ok = _inutilizar(sandbox_client, 5, 7)
    assert ok.status_code == 200
    body = ok.json()
    assert body["status"] == "autorizado"
    assert (body["status_sefaz"], body["mensagem_sefaz"]) == ("102", "Inutilizacao de numero homologado")
    assert (body["serie"], body["numero_inicial"], body["numero_final"], body["modelo"]) == (
        "1",
        "5",
        "7",
        "65",
    )
    assert body["cnpj"] == DEMO_COMPANY.cnpj
    assert body["caminho_xml"].endswith("-inu.xml")
    xml = etree.fromstring(sandbox_client.get(body["caminho_xml"]).content)
    schema = xsd_schema("procInutNFe_v4.00.xsd")
    assert schema.validate(xml), schema.error_log

    used = _inutilizar(sandbox_client, 1, 3).json()
    assert used == {
        "status_sefaz": "241",
        "mensagem_sefaz": "Um numero da faixa ja foi utilizado",
        "serie": "1",
        "numero_inicial": "1",
        "numero_final": "3",
        "status": "erro_autorizacao",
    }
    assert _inutilizar(sandbox_client, 7, 9).json()["status_sefaz"] == "256"

    numbers = [sandbox_emit(f"i-next-{n}").json()["numero"] for n in range(5)]
    assert numbers == ["2", "3", "4", "8", "9"]  # voided numbers are skipped


def test_inutilizacao_validation(sandbox_client: httpx.Client) -> None:
    response = _inutilizar(sandbox_client, 9, 3, "curta")
    assert response.status_code == 400
    assert {e["campo"] for e in response.json()["erros"]} == {"numero_final", "justificativa"}


def test_email_resend_records_addresses_and_enforces_limits(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn, sandbox_client: httpx.Client
) -> None:
    sandbox_emit("e1")
    ok = sandbox_client.post(
        "/v2/nfce/e1/email", json={"emails": ["cliente@example.org", "loja@example.com"]}
    )
    assert ok.status_code == 200
    assert [r.email for r in sandbox_server.sent_emails("e1")] == ["cliente@example.org", "loja@example.com"]

    too_many = sandbox_client.post(
        "/v2/nfce/e1/email", json={"emails": [f"a{i}@example.org" for i in range(11)]}
    )
    assert too_many.status_code == 400
    invalid = sandbox_client.post("/v2/nfce/e1/email", json={"emails": ["ok@example.org", "sem-arroba"]})
    assert invalid.status_code == 400 and invalid.json()["erros"][0]["campo"] == "emails[1]"
    empty = sandbox_client.post("/v2/nfce/e1/email", json={"emails": []})
    assert empty.status_code == 400
    unknown = sandbox_client.post("/v2/nfce/nao-existe/email", json={"emails": ["a@example.org"]})
    assert unknown.status_code == 404
    assert len(sandbox_server.sent_emails()) == 2
