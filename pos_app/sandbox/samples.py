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
    **extra: Any,
) -> dict[str, Any]:
    """A valid two-item NFC-e (R$ 14,48) issued at ``data_emissao`` (sent in Brasília time)."""
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
    if pagamento in ("03", "04"):
        payload["formas_pagamento"][0]["bandeira_operadora"] = "01"
    if cpf:
        payload["cpf_destinatario"] = cpf
    payload.update(extra)
    return payload
