"""A regime-normal demo terminal sells a mixed cart (CST 20 cesta básica, CST 60 ST, CST 40 isento,
CST 00 18 %) online and offline: the payload carries ICMS/PIS/COFINS/IBS/CBS from the tax groups,
the contingency note carries the same fields, and both authorized XMLs carry the IBSCBS groups."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx
from lxml import etree

from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.services.emission import EmissionService, SaleResult
from pos_app.core.services.replay import ReplayService
from pos_app.demo.tax_groups import apply_demo_tax_groups
from pos_app.sandbox import DEMO_TOKEN
from pos_app.sandbox.companies import DEMO_COMPANY

NFE = "{http://www.portalfiscal.inf.br/nfe}"
CART = [("1001", "1"), ("1030", "2"), ("1029", "1.250"), ("1040", "1")]
TAX_PREFIXES = ("icms_", "pis_", "cofins_", "ibs_", "cbs_", "fcp_")


def _sell(ctx: Any) -> SaleResult:
    sale = Sale()
    for code, qty in CART:
        sale.add_item(ctx.store.products.lookup(code), Decimal(qty))
    sale.add_payment(Payment(forma="01", valor=Decimal("100.00")))
    return EmissionService(ctx).checkout(sale, receipt=False)


def _taxes(payload: dict[str, Any]) -> list[dict[str, str]]:
    return [{k: v for k, v in i.items() if k.startswith(TAX_PREFIXES)} for i in payload["items"]]


def _xml(ctx: Any, ref: str) -> etree._Element:
    with httpx.Client(base_url=ctx.sandbox.url, auth=(DEMO_TOKEN, ""), timeout=5) as client:
        body = client.get(f"/v2/nfce/{ref}").json()
        assert body["status"] == "autorizado", body
        return etree.fromstring(client.get(body["caminho_xml_nota_fiscal"]).content)


def test_regime_normal_mixed_cart_online_and_offline(demo_ctx: Any) -> None:
    ctx = demo_ctx
    ctx.config.set("emitente.regime", "normal")
    assert apply_demo_tax_groups(ctx) == 50
    ctx.sandbox.register_company(replace(DEMO_COMPANY, regime="normal"))

    online = _sell(ctx)
    assert online.status == "autorizado", online.mensagem
    payload = json.loads(ctx.store.documents.get(online.document_id)["payload"])
    cesta, st, isento, tributado = payload["items"]
    assert (cesta["icms_situacao_tributaria"], cesta["icms_base_calculo"], cesta["icms_valor"]) == (
        "20",
        "10.85",
        "1.95",
    )
    assert st["icms_situacao_tributaria"] == "60" and "icms_aliquota" not in st
    assert isento["icms_situacao_tributaria"] == "40"
    assert (tributado["icms_aliquota"], tributado["icms_valor"], tributado["pis_valor"]) == (
        "18.00",
        "3.04",
        "0.28",
    )
    assert payload["icms_valor_total"] == "4.99" and payload["valor_total"] == "77.52"
    assert all(i["ibs_cbs_classificacao_tributaria"] == "000001" for i in payload["items"])
    doc = _xml(ctx, online.ref)
    assert doc.findtext(f".//{NFE}emit/{NFE}CRT") == "3"
    assert doc.findtext(f".//{NFE}IBSCBSTot/{NFE}gCBS/{NFE}vCBS") == payload["cbs_valor_total"]
    assert doc.findtext(f".//{NFE}ICMSTot/{NFE}vNF") == "77.52"

    ctx.sandbox.faults.set("unreachable")
    offline = _sell(ctx)
    assert offline.contingencia and offline.status == "contingencia_pendente", offline.mensagem
    cont_payload = json.loads(ctx.store.documents.get(offline.document_id)["payload"])
    assert _taxes(cont_payload) == _taxes(payload)  # the contingency note carries the same fields
    ctx.sandbox.faults.clear()
    report = ReplayService(ctx).run_once()
    assert offline.ref in report.to_json()["refs_transmitidas"], report.to_json()
    replayed = _xml(ctx, offline.ref)
    assert replayed.findtext(f".//{NFE}ide/{NFE}tpEmis") == "9"
    assert len(replayed.findall(f".//{NFE}det/{NFE}imposto/{NFE}IBSCBS")) == 4


def test_rejected_contingency_note_is_retaxed_from_the_changed_group(demo_ctx: Any) -> None:
    from pos_app.core.services.corrections import correct_from_catalog

    ctx = demo_ctx
    ctx.config.set("emitente.regime", "normal")
    apply_demo_tax_groups(ctx)
    ctx.sandbox.register_company(replace(DEMO_COMPANY, regime="normal"))
    ctx.sandbox.faults.set("unreachable")
    offline = _sell(ctx)
    assert offline.status == "contingencia_pendente"
    before = json.loads(ctx.store.documents.get(offline.document_id)["payload"])
    ctx.sandbox.faults.clear()
    ctx.sandbox.faults.reject_ref(
        offline.ref, "528", "Rejeicao: Valor do ICMS difere do produto BC e Aliquota"
    )
    ReplayService(ctx).run_once()
    assert ctx.store.documents.get(offline.document_id)["status"] == "contingencia_erro"

    # The manager fixes the group (18 % -> 12 %); the correction recomputes values and totals.
    group = ctx.store.tax_groups.by_name("Tributado 18%")
    ctx.store.tax_groups.upsert(replace(group, icms_aliquota=Decimal("12")))
    changes = {(c.item, c.campo): (c.antes, c.depois) for c in correct_from_catalog(ctx, offline.ref)}
    assert changes[(4, "icms_aliquota")] == ("18.00", "12.00")
    assert changes[(4, "icms_valor")] == ("3.04", "2.03")
    after = json.loads(ctx.store.documents.get(offline.document_id)["payload"])
    assert after["icms_valor_total"] == "3.98"  # 1.95 + 2.03
    assert after["items"][3]["ibs_cbs_base_calculo"] == "13.31"  # 16.90 - 2.03 - 0.28 - 1.28
    assert {k: after[k] for k in ("numero", "serie", "codigo_unico", "data_emissao")} == {
        k: before[k] for k in ("numero", "serie", "codigo_unico", "data_emissao")
    }
    ctx.sandbox.faults.clear()  # the forced rejection stays until cleared
    ReplayService(ctx).run_once()
    assert ctx.store.documents.get(offline.document_id)["status"] == "autorizado"
    assert _xml(ctx, offline.ref).findtext(f".//{NFE}ICMSTot/{NFE}vICMS") == "3.98"
