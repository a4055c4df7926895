"""Ready-made NFC-e payloads for the demo menu and the integration tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pos_app.sandbox.companies import DEMO_COMPANY

BRASILIA = timezone(timedelta(hours=-3))


def sample_payload(
    data_emissao: datetime,
    *,
    cnpj: str = DEMO_COMPANY.cnpj,
    icms: str = "102",
    cpf: str | None = None,
    pagamento: str = "01",
    valor_pago: str | None = None,
    ibs_cbs: bool | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A valid two-item NFC-e (R$ 14,48) issued at ``data_emissao`` (sent in Brasília time).

    ``ibs_cbs``: add the IBS/CBS group (CST 000 / 000001, rates of the date); by default only for a
    regime-normal CST (``icms="00"``), as Simples Nacional may omit it until 04/01/2027."""
    payload: dict[str, Any] = {
        "cnpj_emitente": cnpj,
        "data_emissao": data_emissao.astimezone(BRASILIA).replace(microsecond=0).isoformat(),
        "natureza_operacao": "VENDA AO CONSUMIDOR",
        "presenca_comprador": "1",
        "modalidade_frete": "9",
        "local_destino": "1",
        "items": [
            {
                "numero_item": "1",
                "codigo_produto": "7891000315507",
                "descricao": "LEITE EM PO INTEGRAL 400G",
                "codigo_ncm": "04022110",
                "cfop": "5102",
                "unidade_comercial": "UN",
                "quantidade_comercial": "1.0000",
                "valor_unitario_comercial": "9.9900000000",
                "valor_bruto": "9.99",
                "codigo_barras_comercial": "7891000315507",
                "icms_origem": "0",
                "icms_situacao_tributaria": icms,
                "valor_total_tributos": "1.50",
            },
            {
                "numero_item": "2",
                "codigo_produto": "1002",
                "descricao": "BANANA PRATA KG",
                "codigo_ncm": "08039000",
                "cfop": "5102",
                "unidade_comercial": "KG",
                "quantidade_comercial": "0.7500",
                "valor_unitario_comercial": "5.9900000000",
                "valor_bruto": "4.49",
                "icms_origem": "0",
                "icms_situacao_tributaria": icms,
                "valor_total_tributos": "0.40",
            },
        ],
        "formas_pagamento": [{"forma_pagamento": pagamento, "valor_pagamento": valor_pago or "14.48"}],
    }
    if icms == "00":
        for item in payload["items"]:
            item.update(
                icms_modalidade_base_calculo="3", icms_base_calculo=item["valor_bruto"], icms_aliquota="18.00"
            )
    if ibs_cbs if ibs_cbs is not None else icms == "00":
        add_ibs_cbs(payload)
    if pagamento in ("03", "04"):
        payload["formas_pagamento"][0]["bandeira_operadora"] = "01"
    if cpf:
        payload["cpf_destinatario"] = cpf
    payload.update(extra)
    return payload


def add_ibs_cbs(payload: dict[str, Any], cst: str = "000", cclasstrib: str = "000001") -> dict[str, Any]:
    """Add the IBS/CBS group of the payload's date to every item, and the totals (outside valor_total)."""
    from decimal import Decimal

    from pos_app.core.fiscal.tax_tables import ibs_cbs_rates
    from pos_app.core.fiscal.taxes import rate_value

    day = datetime.fromisoformat(payload["data_emissao"]).date()
    rates = ibs_cbs_rates(day)
    assert rates is not None, day
    totals = dict.fromkeys(
        (
            "ibs_cbs_base_calculo",
            "ibs_uf_valor_total",
            "ibs_mun_valor_total",
            "ibs_valor_total",
            "cbs_valor_total",
        ),
        Decimal(0),
    )
    for item in payload["items"]:
        base = Decimal(item["valor_bruto"]) - Decimal(item.get("icms_valor") or 0)
        if "icms_aliquota" in item and "icms_valor" not in item:
            base -= rate_value(Decimal(item["icms_base_calculo"]), Decimal(item["icms_aliquota"]))
        uf, mun, cbs = (rate_value(base, r) for r in (rates.ibs_uf, rates.ibs_mun, rates.cbs))
        item.update(
            ibs_cbs_situacao_tributaria=cst,
            ibs_cbs_classificacao_tributaria=cclasstrib,
            ibs_cbs_base_calculo=f"{base:.2f}",
            ibs_uf_aliquota=f"{rates.ibs_uf:.4f}",
            ibs_uf_valor=f"{uf:.2f}",
            ibs_mun_aliquota=f"{rates.ibs_mun:.4f}",
            ibs_mun_valor=f"{mun:.2f}",
            cbs_aliquota=f"{rates.cbs:.4f}",
            cbs_valor=f"{cbs:.2f}",
        )
        for key, value in (
            ("ibs_cbs_base_calculo", base),
            ("ibs_uf_valor_total", uf),
            ("ibs_mun_valor_total", mun),
            ("ibs_valor_total", uf + mun),
            ("cbs_valor_total", cbs),
        ):
            totals[key] += value
    payload.update({k: f"{v:.2f}" for k, v in totals.items()})
    return payload
