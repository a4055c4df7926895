"""Sale -> Focus NFC-e JSON (the fields of ``focus-nfe-nfce.md``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pos_app.core.domain.emitente import Emitente
from pos_app.core.domain.sale import Sale

HOMOLOGACAO_DESCRICAO = "NOTA FISCAL EMITIDA EM AMBIENTE DE HOMOLOGACAO - SEM VALOR FISCAL"


def dec(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


def unit_value(value: Decimal) -> str:
    """Unit values keep up to 10 decimals, at least 2."""
    text = format(value.normalize(), "f")
    if "." not in text:
        return text + ".00"
    whole, frac = text.split(".")
    return f"{whole}.{frac[:10].ljust(2, '0')}"


def build_nfce_payload(
    sale: Sale,
    emitente: Emitente,
    data_emissao: datetime,
    *,
    ambiente: str,
    numero: int | None = None,
    serie: int | None = None,
    codigo_unico: str | None = None,
) -> dict[str, Any]:
    if data_emissao.tzinfo is None:
        raise ValueError("data_emissao precisa de fuso horário")
    items: list[dict[str, Any]] = []
    for n, item in enumerate(sale.items, start=1):
        p = item.product
        descricao = p.descricao
        if ambiente == "homologacao" and n == 1:
            # SEFAZ rejects homologation notes whose first item does not say so.
            descricao = HOMOLOGACAO_DESCRICAO
        entry: dict[str, Any] = {
            "numero_item": str(n),
            "codigo_produto": p.codigo,
            "descricao": descricao,
            "codigo_ncm": p.ncm,
            "cfop": p.cfop,
            "unidade_comercial": p.unidade,
            "quantidade_comercial": dec(item.quantidade, 4),
            "valor_unitario_comercial": unit_value(item.valor_unitario),
            "valor_bruto": dec(item.valor_bruto, 2),
            "unidade_tributavel": p.unidade,
            "quantidade_tributavel": dec(item.quantidade, 4),
            "valor_unitario_tributavel": unit_value(item.valor_unitario),
            "icms_origem": p.icms_origem,
            "icms_situacao_tributaria": p.icms_situacao_tributaria,
            "codigo_barras_comercial": p.ean or "SEM GTIN",
            "codigo_barras_tributavel": p.ean or "SEM GTIN",
            "valor_total_tributos": dec(item.valor_tributos, 2),
        }
        if item.valor_desconto > 0:
            entry["valor_desconto"] = dec(item.valor_desconto, 2)
        if p.cest:
            entry["cest"] = p.cest
        items.append(entry)

    payments: list[dict[str, Any]] = []
    for pay in sale.payments:
        entry = {"forma_pagamento": pay.forma, "valor_pagamento": dec(pay.valor, 2)}
        if pay.is_card or pay.forma == "17":  # cards and dynamic PIX: integrated (1) or not (2)
            if pay.is_card:
                entry["bandeira_operadora"] = pay.bandeira or "99"
            if pay.cnpj_credenciadora and pay.numero_autorizacao:
                entry["tipo_integracao"] = "1"
                entry["cnpj_credenciadora"] = pay.cnpj_credenciadora
                entry["numero_autorizacao"] = pay.numero_autorizacao
            else:
                entry["tipo_integracao"] = "2"
        payments.append(entry)

    payload: dict[str, Any] = {
        "cnpj_emitente": emitente.cnpj,
        "data_emissao": data_emissao.isoformat(timespec="seconds"),
        "natureza_operacao": "VENDA AO CONSUMIDOR",
        "presenca_comprador": "1",
        "modalidade_frete": "9",
        "local_destino": "1",
        "indicador_inscricao_estadual_destinatario": "9",
        "items": items,
        "formas_pagamento": payments,
        "valor_produtos": dec(sale.valor_produtos, 2),
        "valor_desconto": dec(sale.valor_desconto, 2),
        "valor_total": dec(sale.valor_total, 2),
        "valor_total_tributos": dec(sale.valor_tributos, 2),
    }
    if sale.troco > 0:
        payload["valor_troco"] = dec(sale.troco, 2)
    if sale.cpf:
        payload["cpf_destinatario"] = sale.cpf
    elif sale.cnpj:
        payload["cnpj_destinatario"] = sale.cnpj
    if numero is not None:
        payload["numero"] = str(numero)
    if serie is not None:
        payload["serie"] = str(serie)
    if codigo_unico is not None:
        payload["codigo_unico"] = codigo_unico
    return payload
