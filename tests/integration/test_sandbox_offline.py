"""Manual offline contingency: the POS replays its own notes with forma_emissao=offline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
from lxml import etree

from pos_app.core.fiscal.chave import build_chave, parse_chave
from pos_app.core.fiscal.states import timezone_for
from pos_app.sandbox import DEMO_COMPANY, SandboxServer, sample_payload

NFE = "{http://www.portalfiscal.inf.br/nfe}"
EmitFn = Callable[..., httpx.Response]


def _offline_payload(
    server: SandboxServer, age: timedelta, numero: int = 7, cnf: str = "58213907"
) -> dict[str, object]:
    issued = server.clock.now() - age
    return sample_payload(issued, numero=str(numero), serie="600", codigo_unico=cnf)


def test_offline_replay_rebuilds_the_key_with_tpemis_9_and_the_sent_cnf(
    sandbox_server: SandboxServer,
    sandbox_emit: EmitFn,
    sandbox_client: httpx.Client,
    xsd_schema: Callable[[str], etree.XMLSchema],
) -> None:
    payload = _offline_payload(sandbox_server, timedelta(hours=3))
    response = sandbox_emit("pdv1-00000042-C", payload, forma_emissao="offline")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "autorizado"
    assert (body["numero"], body["serie"]) == ("7", "600")
    chave = body["chave_nfe"][3:]
    parts = parse_chave(chave)
    assert (parts.tp_emis, parts.cnf, parts.numero, parts.serie) == (9, "58213907", 7, 600)
    issued = sandbox_server.clock.now() - timedelta(hours=3)
    local = issued.astimezone(timezone_for("PR"))
    assert chave == build_chave("PR", local, DEMO_COMPANY.cnpj, 600, 7, 9, "58213907")
    assert "contingencia_offline" not in body  # the POS's own contingency, not Focus's

    xml = etree.fromstring(sandbox_client.get(body["caminho_xml_nota_fiscal"]).content)
    schema = xsd_schema("procNFe_v4.00.xsd")
    assert schema.validate(xml), schema.error_log
    assert xml.findtext(f".//{NFE}ide/{NFE}tpEmis") == "9"
    assert xml.findtext(f".//{NFE}ide/{NFE}cNF") == "58213907"
    assert xml.findtext(f".//{NFE}ide/{NFE}dhEmi") == payload["data_emissao"]
    assert xml.findtext(f".//{NFE}ide/{NFE}dhCont")
    assert xml.findtext(f".//{NFE}ide/{NFE}xJust")
    # v2 offline QR code: chave|2|tpAmb|DD|vNF|digVal|idCSC|hash
    assert len(body["qrcode_url"].split("?p=")[1].split("|")) == 8


def test_offline_requires_numero_serie_and_codigo_unico(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn
) -> None:
    response = sandbox_emit("off-x", sample_payload(sandbox_server.clock.now()), forma_emissao="offline")
    assert response.status_code == 400
    assert {e["campo"] for e in response.json()["erros"]} == {"numero", "serie", "codigo_unico"}


def test_offline_dates_may_be_old_but_not_future_nor_older_than_a_week(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn
) -> None:
    future = sandbox_emit(
        "off-f", _offline_payload(sandbox_server, timedelta(minutes=-30)), forma_emissao="offline"
    )
    assert future.json()["status_sefaz"] == "703"
    old = sandbox_emit("off-o", _offline_payload(sandbox_server, timedelta(days=8)), forma_emissao="offline")
    assert old.json()["status_sefaz"] == "704"
    day_old = sandbox_emit(
        "off-d", _offline_payload(sandbox_server, timedelta(hours=23)), forma_emissao="offline"
    )
    assert day_old.json()["status"] == "autorizado"


def test_rejected_replay_is_resent_with_the_same_ref_and_key_after_the_fix(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn
) -> None:
    payload = _offline_payload(sandbox_server, timedelta(hours=1), numero=9, cnf="40718253")
    sandbox_server.faults.reject_ref("pdv1-9-C", "778", "Rejeicao: Informado NCM inexistente [nItem:1]")
    first = sandbox_emit("pdv1-9-C", payload, forma_emissao="offline").json()
    assert first["status"] == "erro_autorizacao"
    assert (first["status_sefaz"], first["mensagem_sefaz"]) == (
        "778",
        "Rejeicao: Informado NCM inexistente [nItem:1]",
    )
    still = sandbox_emit("pdv1-9-C", payload, forma_emissao="offline").json()
    assert still["status"] == "erro_autorizacao"  # until the fault is cleared
    sandbox_server.faults.clear("reject_ref")
    ok = sandbox_emit("pdv1-9-C", payload, forma_emissao="offline").json()
    assert ok["status"] == "autorizado"
    assert parse_chave(ok["chave_nfe"][3:]).cnf == "40718253"


def test_reject_by_numero_and_duplicate_key_under_another_ref(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn
) -> None:
    payload = _offline_payload(sandbox_server, timedelta(minutes=20), numero=11, cnf="62819034")
    sandbox_server.faults.once("reject_ref", target="11")
    assert sandbox_emit("n11-a", payload, forma_emissao="offline").json()["status_sefaz"] == "778"
    assert sandbox_emit("n11-a", payload, forma_emissao="offline").json()["status"] == "autorizado"
    twin = sandbox_emit("n11-b", payload, forma_emissao="offline").json()
    assert (twin["status"], twin["status_sefaz"]) == ("erro_autorizacao", "204")
