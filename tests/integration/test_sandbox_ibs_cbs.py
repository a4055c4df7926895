"""Sandbox rules of the tax reform and of regime-normal items, over loopback HTTP, on its movable
clock: 1115 by CRT and date, 1026/1036 wrong 2026 rates, 1105 IBS/CBS inside the total, value =
base x rate, item/total consistency; the authorized XML validates against nfelib's current schema."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from pos_app.sandbox import SandboxServer, sample_payload
from pos_app.sandbox.companies import DEMO_COMPANY
from pos_app.sandbox.samples import add_ibs_cbs

EmitFn = Callable[..., httpx.Response]

NFE = "{http://www.portalfiscal.inf.br/nfe}"
BRT = timezone(timedelta(hours=-3))
NORMAL = replace(
    DEMO_COMPANY, cnpj="11222333000181", razao_social="SUPERMERCADO NORMAL LTDA", regime="normal"
)


def nfelib_schema() -> etree.XMLSchema:
    nfelib = pytest.importorskip("nfelib")
    xsd = Path(nfelib.__file__).parent / "nfe" / "schemas" / "v4_0" / "procNFe_v4.00.xsd"
    assert "IBSCBS" in (xsd.parent / "leiauteNFe_v4.00.xsd").read_text(encoding="utf-8")  # the RTC layout
    return etree.XMLSchema(etree.parse(str(xsd)))


def move_clock(server: SandboxServer, local: str) -> datetime:
    target = datetime.fromisoformat(local).replace(tzinfo=BRT)
    server.clock.set_offset(target - datetime.now(UTC))
    return server.clock.now()


@pytest.fixture
def normal(sandbox_server: SandboxServer) -> SandboxServer:
    sandbox_server.register_company(NORMAL)
    return sandbox_server


def _answer(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    return body


def test_regime_normal_needs_ibs_cbs_now_and_its_xml_validates_against_nfelib(
    normal: SandboxServer, sandbox_emit: EmitFn, sandbox_client: httpx.Client
) -> None:
    now = move_clock(normal, "2026-12-02T10:00:00")
    missing = sample_payload(now, cnpj=NORMAL.cnpj, icms="00", ibs_cbs=False)
    rejected = _answer(sandbox_emit("n-1115", missing))
    assert rejected["status_sefaz"] == "1115", rejected
    assert "Nao informado grupo de imposto IBS e CBS" in rejected["mensagem_sefaz"]

    payload = sample_payload(now, cnpj=NORMAL.cnpj, icms="00")
    item = payload["items"][0]
    assert item["ibs_mun_aliquota"] == "0.0000" and item["ibs_mun_valor"] == "0.00"  # sent as zero
    body = _answer(sandbox_emit("n-ok", payload))
    assert body["status"] == "autorizado", body
    xml = sandbox_client.get(body["caminho_xml_nota_fiscal"])
    doc = etree.fromstring(xml.content)
    schema = nfelib_schema()
    assert schema.validate(doc), schema.error_log
    ibscbs = doc.find(f".//{NFE}det/{NFE}imposto/{NFE}IBSCBS")
    assert ibscbs is not None
    assert ibscbs.findtext(f"{NFE}CST") == "000" and ibscbs.findtext(f"{NFE}cClassTrib") == "000001"
    # 9.99 - ICMS 1.80 = 8.19; CBS 0.90 % = 0.07; IBS-UF 0.10 % = 0.01; IBS-Mun 0 %.
    assert ibscbs.findtext(f"{NFE}gIBSCBS/{NFE}vBC") == "8.19"
    assert ibscbs.findtext(f"{NFE}gIBSCBS/{NFE}gCBS/{NFE}pCBS") == "0.9000"
    assert ibscbs.findtext(f"{NFE}gIBSCBS/{NFE}gCBS/{NFE}vCBS") == "0.07"
    assert ibscbs.findtext(f"{NFE}gIBSCBS/{NFE}gIBSMun/{NFE}vIBSMun") == "0.00"
    assert doc.findtext(f".//{NFE}ICMS00/{NFE}vICMS") == "1.80"
    assert doc.findtext(f".//{NFE}total/{NFE}IBSCBSTot/{NFE}gCBS/{NFE}vCBS") == payload["cbs_valor_total"]
    assert doc.findtext(f".//{NFE}ICMSTot/{NFE}vNF") == "14.48"  # IBS/CBS outside the total in 2026
    assert doc.findtext(f".//{NFE}emit/{NFE}CRT") == "3"


def test_wrong_2026_rates_are_rejected_1026_and_1036(normal: SandboxServer, sandbox_emit: EmitFn) -> None:
    now = move_clock(normal, "2026-12-02T10:00:00")
    mun = sample_payload(now, cnpj=NORMAL.cnpj, icms="00")
    for item in mun["items"]:
        item["ibs_mun_aliquota"] = "0.0500"
        item["ibs_mun_valor"] = "0.00"
    answer = _answer(sandbox_emit("n-1036", mun))
    assert answer["status_sefaz"] == "1036", answer
    assert "IBS do Municipio" in answer["mensagem_sefaz"]
    uf = sample_payload(now, cnpj=NORMAL.cnpj, icms="00")
    uf["items"][0]["ibs_uf_aliquota"] = "0.0500"
    uf["items"][0]["ibs_uf_valor"] = "0.00"
    assert _answer(sandbox_emit("n-1026", uf))["status_sefaz"] == "1026"


def test_ibs_cbs_inside_the_note_total_is_rejected_1105(normal: SandboxServer, sandbox_emit: EmitFn) -> None:
    now = move_clock(normal, "2026-12-02T10:00:00")
    payload = sample_payload(now, cnpj=NORMAL.cnpj, icms="00", valor_pago="20.00")
    inside = sum(float(payload[k]) for k in ("ibs_valor_total", "cbs_valor_total"))
    payload["valor_total"] = f"{14.48 + inside:.2f}"
    answer = _answer(sandbox_emit("n-1105", payload))
    assert answer["status_sefaz"] == "1105", answer


def test_values_must_be_base_times_rate_and_totals_the_sum_of_items(
    normal: SandboxServer, sandbox_emit: EmitFn
) -> None:
    now = move_clock(normal, "2026-12-02T10:00:00")
    cbs = sample_payload(now, cnpj=NORMAL.cnpj, icms="00")
    cbs["items"][1]["cbs_valor"] = "0.09"  # 0.04 expected (4.49 - 0.81 = 3.68 x 0.9 %)
    answer = sandbox_emit("n-cbs", cbs)
    assert answer.status_code == 400
    assert any(e["campo"] == "items[1].cbs_valor" for e in answer.json()["erros"]), answer.json()

    icms = sample_payload(now, cnpj=NORMAL.cnpj, icms="00")
    icms["items"][0]["icms_valor"] = "1.90"
    add_ibs_cbs(icms)
    assert _answer(sandbox_emit("n-528", icms))["status_sefaz"] == "528"

    base = sample_payload(now, cnpj=NORMAL.cnpj, icms="00", icms_base_calculo="10.00")
    assert _answer(sandbox_emit("n-531", base))["status_sefaz"] == "531"
    total = sample_payload(now, cnpj=NORMAL.cnpj, icms="00")
    total["cbs_valor_total"] = "0.50"
    assert _answer(sandbox_emit("n-tot", total))["status_sefaz"] == "1108"

    pis = sample_payload(now, cnpj=NORMAL.cnpj, icms="00")
    pis["items"][0].update(
        pis_situacao_tributaria="01",
        pis_base_calculo="9.99",
        pis_aliquota_porcentual="1.6500",
        pis_valor="0.50",
    )
    answer = sandbox_emit("n-pis", pis)
    assert answer.status_code == 400
    assert any(e["campo"] == "items[0].pis_valor" for e in answer.json()["erros"])


def test_seed_required_icms_fields_for_cst_00_and_20(normal: SandboxServer, sandbox_emit: EmitFn) -> None:
    now = move_clock(normal, "2026-12-02T10:00:00")
    payload = sample_payload(now, cnpj=NORMAL.cnpj, icms="00")
    del payload["items"][0]["icms_aliquota"]
    payload["items"][1]["icms_situacao_tributaria"] = "20"  # no icms_reducao_base_calculo
    answer = sandbox_emit("n-seed", payload)
    assert answer.status_code == 400
    fields = {e["campo"] for e in answer.json()["erros"]}
    assert {"items[0].icms_aliquota", "items[1].icms_reducao_base_calculo"} <= fields, fields


def test_simples_nacional_needs_ibs_cbs_from_2027_01_04(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn
) -> None:
    before = move_clock(sandbox_server, "2027-01-03T10:00:00")
    assert _answer(sandbox_emit("s-antes", sample_payload(before)))["status"] == "autorizado"

    after = move_clock(sandbox_server, "2027-01-04T10:00:00")
    without = _answer(sandbox_emit("s-sem", sample_payload(after)))
    assert without["status"] == "erro_autorizacao" and without["status_sefaz"] == "1115", without
    with_group = sample_payload(after, ibs_cbs=True)
    assert with_group["items"][0]["ibs_mun_aliquota"] == "0.0500"  # 2027 rates from the dated table
    answer = _answer(sandbox_emit("s-com", with_group))
    assert answer["status"] == "autorizado", answer
