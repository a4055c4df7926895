"""Emission and consultation of NFC-e against the sandbox, over real loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import httpx
from lxml import etree

from pos_app.core.fiscal.chave import parse_chave
from pos_app.sandbox import DEMO_COMPANY, DEMO_TOKEN, SandboxServer, sample_payload
from pos_app.sandbox.signing import DS_NS, verify_enveloped

NFE = "{http://www.portalfiscal.inf.br/nfe}"
EmitFn = Callable[..., httpx.Response]


def test_missing_or_wrong_token_is_refused_with_403(sandbox_server: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox_server.url) as anonymous:
        response = anonymous.get("/v2/nfce/qualquer")
        assert response.status_code == 403
        assert response.json()["codigo"] == "permissao_negada"
        assert "Rate-Limit-Limit" in response.headers
        wrong = anonymous.get("/v2/nfce/qualquer", auth=("outro-token", ""))
        assert wrong.status_code == 403
        by_query = anonymous.get("/v2/nfce/qualquer", params={"token": DEMO_TOKEN})
        assert by_query.status_code == 404
        assert by_query.json() == {"codigo": "nfce_nao_encontrada", "mensagem": "NFCe não encontrada"}


def test_authorized_note_answers_like_the_seed_and_consult_matches(
    sandbox_emit: EmitFn, sandbox_client: httpx.Client
) -> None:
    response = sandbox_emit("venda-1")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "autorizado"
    assert body["status_sefaz"] == "100"
    assert body["mensagem_sefaz"] == "Autorizado o uso da NF-e"
    assert body["cnpj_emitente"] == DEMO_COMPANY.cnpj
    assert body["ref"] == "venda-1"
    assert body["numero"] == "1" and body["serie"] == "1"
    chave = body["chave_nfe"]
    assert chave.startswith("NFe") and len(chave) == 47
    parts = parse_chave(chave[3:])
    assert (parts.numero, parts.serie, parts.tp_emis, parts.modelo) == (1, 1, 1, 65)
    assert body["caminho_xml_nota_fiscal"].endswith(f"{chave[3:]}-nfe.xml")
    assert body["caminho_danfe"] == f"/notas_fiscais_consumidor/{chave}.html"
    assert body["qrcode_url"].startswith(
        "http://www.fazenda.pr.gov.br/nfce/qrcode?p=" + chave[3:] + "|2|2|1|"
    )
    assert body["url_consulta_nf"] == "http://www.fazenda.pr.gov.br/nfce/consulta"
    assert "contingencia_offline" not in body

    consulted = sandbox_client.get("/v2/nfce/venda-1")
    assert consulted.status_code == 200
    assert consulted.json() == body


def test_authorized_xml_is_signed_and_valid_against_the_sefaz_schema(
    sandbox_server: SandboxServer,
    sandbox_emit: EmitFn,
    sandbox_client: httpx.Client,
    xsd_schema: Callable[[str], etree.XMLSchema],
) -> None:
    payload = sample_payload(
        sandbox_server.clock.now(),
        cpf="529.982.247-25",
        pagamento="03",
        valor_pago="14.48",
        informacoes_adicionais_contribuinte="Obrigado pela preferência!\nVolte sempre – Mercadinho",
    )
    body = sandbox_emit("venda-xml", payload).json()
    xml = sandbox_client.get(body["caminho_xml_nota_fiscal"])
    assert xml.status_code == 200
    assert xml.headers["content-type"].startswith("application/xml")
    doc = etree.fromstring(xml.content)
    schema = xsd_schema("procNFe_v4.00.xsd")
    assert schema.validate(doc), schema.error_log

    inf = doc.find(f"{NFE}NFe/{NFE}infNFe")
    assert inf is not None
    assert inf.get("Id") == body["chave_nfe"]
    assert doc.findtext(f".//{NFE}ide/{NFE}tpAmb") == "2"
    assert doc.findtext(f".//{NFE}ide/{NFE}tpEmis") == "1"
    assert doc.findtext(f".//{NFE}emit/{NFE}CRT") == "1"
    assert doc.findtext(f".//{NFE}dest/{NFE}CPF") == "52998224725"
    assert doc.findtext(f".//{NFE}det/{NFE}imposto/{NFE}ICMS/{NFE}ICMSSN102/{NFE}CSOSN") == "102"
    assert doc.findtext(f".//{NFE}detPag/{NFE}card/{NFE}tBand") == "01"
    assert doc.findtext(f".//{NFE}ICMSTot/{NFE}vNF") == "14.48"
    assert doc.findtext(f".//{NFE}infNFeSupl/{NFE}qrCode") == body["qrcode_url"]
    prot = doc.find(f"{NFE}protNFe/{NFE}infProt")
    assert prot is not None
    assert prot.findtext(f"{NFE}cStat") == "100"
    assert prot.findtext(f"{NFE}chNFe") == body["chave_nfe"][3:]
    signature = doc.find(f"{NFE}NFe/{{{DS_NS}}}Signature")
    assert signature is not None and verify_enveloped(inf, signature)
    assert prot.findtext(f"{NFE}digVal") == signature.findtext(f".//{{{DS_NS}}}DigestValue")

    danfe = sandbox_client.get(body["caminho_danfe"])
    assert danfe.status_code == 200 and "text/html" in danfe.headers["content-type"]
    assert "EMITIDA EM AMBIENTE DE HOMOLOGAÇÃO - SEM VALOR FISCAL" in danfe.text
    assert "CONSUMIDOR - CPF 529.982.247-25" in danfe.text


def test_completa_adds_request_and_protocol(sandbox_emit: EmitFn, sandbox_client: httpx.Client) -> None:
    body = sandbox_emit("venda-completa", completa=1).json()
    protocolo = body["protocolo_nota_fiscal"]
    assert protocolo["status"] == "100" and len(protocolo["numero_protocolo"]) == 15
    assert protocolo["data_recebimento"]
    assert body["requisicao_nota_fiscal"]["valor_total"] == "14.48"
    plain = sandbox_client.get("/v2/nfce/venda-completa").json()
    assert "protocolo_nota_fiscal" not in plain
    assert sandbox_client.get("/v2/nfce/venda-completa", params={"completa": 1}).json() == body


def test_numbers_follow_the_company_counter(sandbox_emit: EmitFn) -> None:
    numbers = [sandbox_emit(f"seq-{i}").json()["numero"] for i in range(3)]
    assert numbers == ["1", "2", "3"]


def test_ref_can_be_reused_after_an_authorization_error_but_not_after_authorization(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn, sandbox_client: httpx.Client
) -> None:
    wrong = sample_payload(sandbox_server.clock.now(), icms="00")  # CST from a Simples Nacional emitter
    rejected = sandbox_emit("venda-2", wrong)
    assert rejected.status_code == 201
    assert rejected.json() == {
        "cnpj_emitente": DEMO_COMPANY.cnpj,
        "ref": "venda-2",
        "status": "erro_autorizacao",
        "status_sefaz": "590",
        "mensagem_sefaz": "Informado CST para emissor do Simples Nacional (CRT=1). [nItem:1]",
    }
    assert sandbox_client.get("/v2/nfce/venda-2").json()["status"] == "erro_autorizacao"

    fixed = sandbox_emit("venda-2")
    assert fixed.json()["status"] == "autorizado"
    assert fixed.json()["numero"] == "1"  # the rejected attempt consumed no number

    again = sandbox_emit("venda-2")
    assert again.status_code == 422
    assert again.json() == {"codigo": "nfe_autorizada", "mensagem": "Nota fiscal já autorizada"}
    cancel = sandbox_client.request(
        "DELETE", "/v2/nfce/venda-2", json={"justificativa": "Venda cancelada pelo cliente"}
    )
    assert cancel.json()["status"] == "cancelado"
    assert sandbox_emit("venda-2").json()["codigo"] == "nfe_autorizada"


def test_csosn_from_a_regime_normal_company_is_rejected_591(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn
) -> None:
    normal = replace(
        DEMO_COMPANY, cnpj="11222333000181", razao_social="COMERCIO NORMAL LTDA", regime="normal"
    )
    sandbox_server.register_company(normal)
    response = sandbox_emit("normal-1", sample_payload(sandbox_server.clock.now(), cnpj=normal.cnpj))
    assert response.json()["status"] == "erro_autorizacao"
    assert response.json()["status_sefaz"] == "591"
    assert response.json()["mensagem_sefaz"] == (
        "Informado CSOSN para emissor que nao e do Simples Nacional (CRT diferente de 1). [nItem:1]"
    )
    ok = sandbox_emit("normal-2", sample_payload(sandbox_server.clock.now(), cnpj=normal.cnpj, icms="00"))
    assert ok.json()["status"] == "autorizado"


def test_emission_time_must_be_within_five_minutes_of_the_sandbox_clock(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn
) -> None:
    payload = sample_payload(sandbox_server.clock.now())
    sandbox_server.clock.advance(timedelta(minutes=6))
    late = sandbox_emit("atrasada", payload).json()
    assert (late["status"], late["status_sefaz"]) == ("erro_autorizacao", "704")
    sandbox_server.clock.advance(timedelta(minutes=-12))
    future = sandbox_emit("futura", payload).json()
    assert (future["status"], future["status_sefaz"]) == ("erro_autorizacao", "703")
    sandbox_server.clock.set_offset(timedelta(minutes=4))
    assert sandbox_emit("no-limite", payload).json()["status"] == "autorizado"


def test_validation_errors_answer_400_with_every_field_in_portuguese(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn
) -> None:
    payload = sample_payload(sandbox_server.clock.now(), cpf="123.456.789-00", pagamento="03")
    del payload["formas_pagamento"][0]["bandeira_operadora"]
    payload["items"][0]["codigo_ncm"] = "0402"
    payload["items"][1]["valor_bruto"] = "4.60"
    payload["items"][1]["numero_item"] = "3"
    response = sandbox_emit("invalida", payload)
    assert response.status_code == 400
    body = response.json()
    assert body["codigo"] == "requisicao_invalida"
    campos = {e["campo"] for e in body["erros"]}
    assert {
        "cpf_destinatario",
        "items[0].codigo_ncm",
        "items[1].valor_bruto",
        "items[1].numero_item",
        "formas_pagamento[0].bandeira_operadora",
    } <= campos
    assert all(e["mensagem"] and e["codigo"] for e in body["erros"])
    assert sandbox_server.note("invalida") is None  # nothing was stored: the ref stays free


def test_itens_spelling_is_accepted_and_short_payment_is_refused(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn
) -> None:
    payload = sample_payload(sandbox_server.clock.now())
    payload["itens"] = payload.pop("items")
    assert sandbox_emit("itens", payload).json()["status"] == "autorizado"
    short = sample_payload(sandbox_server.clock.now(), valor_pago="10.00")
    response = sandbox_emit("curto", short)
    assert response.status_code == 400
    assert "menor que o valor total" in response.json()["mensagem"]


def test_request_level_errors(
    sandbox_server: SandboxServer, sandbox_client: httpx.Client, sandbox_emit: EmitFn
) -> None:
    no_ref = sandbox_client.post("/v2/nfce", json=sample_payload(sandbox_server.clock.now()))
    assert (no_ref.status_code, no_ref.json()["codigo"]) == (400, "ref_ausente")
    bad_mode = sandbox_emit("x1", forma_emissao="contingencia")
    assert (bad_mode.status_code, bad_mode.json()["codigo"]) == (400, "forma_emissao_nao_informada")
    unknown = sandbox_emit("x2", sample_payload(sandbox_server.clock.now(), cnpj="11222333000181"))
    assert (unknown.status_code, unknown.json()["codigo"]) == (422, "empresa_nao_habilitada")
    broken = sandbox_client.post("/v2/nfce", params={"ref": "x3"}, content=b"{nao e json")
    assert broken.status_code == 415
    missing = sandbox_client.get("/v2/nfce/nao-existe")
    assert (missing.status_code, missing.json()["codigo"]) == (404, "nfce_nao_encontrada")  # seed table


def test_same_number_with_another_key_is_a_539_duplicate(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn
) -> None:
    first = sandbox_emit("dup-1", sample_payload(sandbox_server.clock.now(), numero="50", serie="1"))
    assert first.json()["numero"] == "50"
    second = sandbox_emit("dup-2", sample_payload(sandbox_server.clock.now(), numero="50", serie="1")).json()
    assert second["status"] == "erro_autorizacao"
    assert second["status_sefaz"] == "539"
    assert first.json()["chave_nfe"][3:] in second["mensagem_sefaz"]


def test_date_header_follows_the_sandbox_clock(
    sandbox_server: SandboxServer, sandbox_client: httpx.Client
) -> None:
    sandbox_server.clock.set_offset(timedelta(days=-400))
    response = sandbox_client.get("/v2/nfce/qualquer")
    assert str(sandbox_server.clock.now().year) in response.headers["Date"]
