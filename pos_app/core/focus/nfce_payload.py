"""Sale -> Focus NFC-e JSON (the fields of ``focus-nfe-nfce.md``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pos_app.core.domain.emitente import Emitente
from pos_app.core.domain.sale import Sale
from pos_app.core.fiscal.taxes import ItemTaxes, compute_item_taxes

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
    totals: dict[str, Decimal] = {}
    any_ibs_cbs = False
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
        taxes = compute_item_taxes(
            p.tax_group, item.valor_bruto - item.valor_desconto, crt=emitente.crt, on=data_emissao.date()
        )
        any_ibs_cbs |= _item_taxes(entry, taxes, totals)
        items.append(entry)

    payments: list[dict[str, Any]] = []
    for pay in sale.payments:
        entry = {"forma_pagamento": pay.forma, "valor_pagamento": dec(pay.valor, 2)}
        if pay.is_card:
            entry["bandeira_operadora"] = pay.bandeira or "99"
        integracao = pay.integracao
        if integracao is not None:
            entry["tipo_integracao"] = integracao
            if integracao == "1":
                entry["cnpj_credenciadora"] = pay.cnpj_credenciadora
                entry["numero_autorizacao"] = pay.numero_autorizacao
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
    _write_totals(payload, totals, any_ibs_cbs)
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


def _add(totals: dict[str, Decimal], key: str, value: Decimal) -> None:
    totals[key] = totals.get(key, Decimal(0)) + value


def _item_taxes(entry: dict[str, Any], t: ItemTaxes, totals: dict[str, Decimal]) -> bool:
    """The Focus item fields of ICMS, FCP, PIS, COFINS and IBS/CBS; returns whether IBS/CBS was sent.

    Focus field names of the IBS/CBS group follow the integrations that emit through Focus today
    (``fiscal-2026-2027.md``); Focus's public NFC-e page does not list them yet.
    """
    if t.icms_base_calculo is not None:
        assert t.icms_aliquota is not None
        entry["icms_modalidade_base_calculo"] = t.icms_modalidade_base_calculo
        entry["icms_base_calculo"] = dec(t.icms_base_calculo, 2)
        entry["icms_aliquota"] = dec(t.icms_aliquota, 2)
        entry["icms_valor"] = dec(t.icms_valor, 2)
        if t.icms_reducao_base_calculo is not None:
            entry["icms_reducao_base_calculo"] = dec(t.icms_reducao_base_calculo, 2)
        _add(totals, "icms_base_calculo", t.icms_base_calculo)
        _add(totals, "icms_valor_total", t.icms_valor)
    if t.fcp_percentual is not None:
        assert t.fcp_base_calculo is not None
        entry["fcp_base_calculo"] = dec(t.fcp_base_calculo, 2)
        entry["fcp_percentual"] = dec(t.fcp_percentual, 2)
        entry["fcp_valor"] = dec(t.fcp_valor, 2)
        _add(totals, "fcp_valor_total", t.fcp_valor)
    for tax in ("pis", "cofins"):
        cst = getattr(t, f"{tax}_situacao_tributaria")
        if cst is None:
            continue
        entry[f"{tax}_situacao_tributaria"] = cst
        base = getattr(t, f"{tax}_base_calculo")
        if base is not None:
            value = getattr(t, f"{tax}_valor")
            entry[f"{tax}_base_calculo"] = dec(base, 2)
            entry[f"{tax}_aliquota_porcentual"] = dec(getattr(t, f"{tax}_aliquota_porcentual"), 4)
            entry[f"{tax}_valor"] = dec(value, 2)
            _add(totals, f"valor_{tax}", value)
    g = t.ibs_cbs
    if g is None:
        return False
    entry["ibs_cbs_situacao_tributaria"] = g.cst
    entry["ibs_cbs_classificacao_tributaria"] = g.cclasstrib
    if g.com_valores:
        entry["ibs_cbs_base_calculo"] = dec(g.base, 2)
        entry["ibs_uf_aliquota"] = dec(g.ibs_uf_aliquota, 4)
        entry["ibs_uf_valor"] = dec(g.ibs_uf_valor, 2)
        entry["ibs_mun_aliquota"] = dec(g.ibs_mun_aliquota, 4)  # sent as zero, never omitted
        entry["ibs_mun_valor"] = dec(g.ibs_mun_valor, 2)
        entry["cbs_aliquota"] = dec(g.cbs_aliquota, 4)
        entry["cbs_valor"] = dec(g.cbs_valor, 2)
        if g.reducao_ibs or g.reducao_cbs:
            entry["ibs_cbs_percentual_reducao_ibs"] = dec(g.reducao_ibs, 4)
            entry["ibs_cbs_percentual_reducao_cbs"] = dec(g.reducao_cbs, 4)
        _add(totals, "ibs_cbs_base_calculo", g.base)
        _add(totals, "ibs_uf_valor_total", g.ibs_uf_valor)
        _add(totals, "ibs_mun_valor_total", g.ibs_mun_valor)
        _add(totals, "ibs_valor_total", g.ibs_valor)
        _add(totals, "cbs_valor_total", g.cbs_valor)
    return True


_TAX_TOTALS = ("icms_base_calculo", "icms_valor_total", "fcp_valor_total", "valor_pis", "valor_cofins")
_IBS_CBS_TOTALS = (
    "ibs_cbs_base_calculo",
    "ibs_uf_valor_total",
    "ibs_mun_valor_total",
    "ibs_valor_total",
    "cbs_valor_total",
)
_ITEM_TAX_PREFIXES = ("icms_", "fcp_", "pis_", "cofins_", "ibs_", "cbs_")
_ITEM_TAX_KEPT = ("icms_origem", "icms_situacao_tributaria")


def _write_totals(payload: dict[str, Any], totals: dict[str, Decimal], any_ibs_cbs: bool) -> None:
    """Totals are the sums of the rounded item values; IBS/CBS stay outside ``valor_total``."""
    for key in _TAX_TOTALS:
        if key in totals:
            payload[key] = dec(totals[key], 2)
    if any_ibs_cbs:
        for key in _IBS_CBS_TOTALS:
            payload[key] = dec(totals.get(key, Decimal(0)), 2)


def retax_payload(
    payload: dict[str, Any], products: dict[int, Any], emitente: Emitente
) -> list[tuple[int, str, str | None, str | None]]:
    """Recompute every item's tax fields and the tax totals of a stored payload from the products'
    current tax groups (correction of a rejected contingency note: same key, same date).

    ``products`` maps ``numero_item`` to the catalog product. Returns ``(item, field, old, new)``
    for each changed item field.
    """
    on = datetime.fromisoformat(payload["data_emissao"]).date()
    changes: list[tuple[int, str, str | None, str | None]] = []
    totals: dict[str, Decimal] = {}
    any_ibs_cbs = False
    for item in payload.get("items", []):
        n = int(item["numero_item"])
        old = {
            k: item.pop(k) for k in list(item) if k.startswith(_ITEM_TAX_PREFIXES) and k not in _ITEM_TAX_KEPT
        }
        liquido = Decimal(str(item["valor_bruto"])) - Decimal(str(item.get("valor_desconto") or "0"))
        taxes = compute_item_taxes(products[n].tax_group, liquido, crt=emitente.crt, on=on)
        any_ibs_cbs |= _item_taxes(item, taxes, totals)
        new = {k: v for k, v in item.items() if k.startswith(_ITEM_TAX_PREFIXES) and k not in _ITEM_TAX_KEPT}
        for key in sorted(set(old) | set(new)):
            if str(old.get(key)) != str(new.get(key)):
                changes.append((n, key, old.get(key), new.get(key)))
    for key in (*_TAX_TOTALS, *_IBS_CBS_TOTALS):
        payload.pop(key, None)
    _write_totals(payload, totals, any_ibs_cbs)
    return changes


NFE_HOMOLOGACAO_NOME = "NF-E EMITIDA EM AMBIENTE DE HOMOLOGACAO - SEM VALOR FISCAL"


def build_nfe_payload(
    sale: Sale,
    emitente: Emitente,
    data_emissao: datetime,
    cliente: Any,
    *,
    ambiente: str,
) -> dict[str, Any]:
    """Sale to a CNPJ buyer -> Focus NF-e model 55 JSON (``/v2/nfe``; fields of ``nfe.md``).

    The items, taxes, totals and payments are the NFC-e's (one mapping); the NF-e adds its own
    ``ide`` fields and the buyer's full identification from the store's customer list
    (``core/store/clientes.Cliente``). Printed as the DANFE Simplificado - Varejo.
    """
    payload = build_nfce_payload(sale, emitente, data_emissao, ambiente=ambiente)
    payload.pop("cpf_destinatario", None)
    payload.update({
        "natureza_operacao": "VENDA DE MERCADORIA",
        "tipo_documento": "1",
        "finalidade_emissao": "1",
        "consumidor_final": "1",
        "presenca_comprador": "1",
        "local_destino": "1",  # sale at the counter: internal operation whatever the buyer's UF
        "modalidade_frete": "9",
        "cnpj_destinatario": cliente.documento,
        "nome_destinatario": NFE_HOMOLOGACAO_NOME if ambiente != "producao" else cliente.nome[:60],
        "indicador_inscricao_estadual_destinatario": cliente.indicador_ie,
        "logradouro_destinatario": cliente.logradouro,
        "numero_destinatario": cliente.numero,
        "bairro_destinatario": cliente.bairro,
        "codigo_municipio_destinatario": cliente.codigo_municipio,
        "municipio_destinatario": cliente.municipio,
        "uf_destinatario": cliente.uf,
        "cep_destinatario": cliente.cep,
        "pais_destinatario": "Brasil",
    })  # fmt: skip
    if cliente.indicador_ie == "1" and cliente.inscricao_estadual:
        payload["inscricao_estadual_destinatario"] = cliente.inscricao_estadual
    if cliente.complemento:
        payload["complemento_destinatario"] = cliente.complemento
    if cliente.email:
        payload["email_destinatario"] = cliente.email
    return payload
