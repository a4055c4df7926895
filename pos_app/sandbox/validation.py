"""Validation of the NFC-e JSON the way the Focus API does it before talking to SEFAZ.

``parse_note(payload)`` turns the POSTed JSON into a normalized :class:`NoteInput` or raises
:class:`PayloadInvalid` with every problem found (Portuguese messages, one per field), which the
server answers as HTTP 400 ``requisicao_invalida``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pos_app.core.domain.validators import (
    is_valid_cnpj,
    is_valid_cpf,
    is_valid_gtin,
    is_valid_ncm,
    normalize_cnpj,
    only_digits,
)
from pos_app.sandbox.tax_rules import ItemTaxInput, parse_item_taxes

CENT = Decimal("0.01")
ZERO = Decimal("0")

CSOSN_CODES = frozenset({"102", "103", "300", "400", "500", "900"})
CST_CODES = frozenset({"00", "20", "40", "41", "50", "60", "90"})
PAYMENT_CODES = frozenset(
    {"01", "02", "03", "04", "05", "10", "11", "12", "13", "15", "16", "17", "18", "19", "20", "90", "99"}
)
CARD_CODES = frozenset({"03", "04"})
CARD_BRANDS = frozenset({"01", "02", "03", "04", "05", "06", "07", "08", "09", "99"})
PIS_NT_CODES = frozenset({"04", "05", "06", "07", "08", "09"})

REF_PATTERN = re.compile(r"[A-Za-z0-9_\-]{1,100}")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class FieldError:
    campo: str
    mensagem: str
    codigo: str = "valor_invalido"

    def as_json(self) -> dict[str, str]:
        return {"codigo": self.codigo, "campo": self.campo, "mensagem": self.mensagem}


class PayloadInvalid(Exception):
    """The request has validation errors (HTTP 400 requisicao_invalida)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors[0].mensagem if errors else "Requisição inválida")
        self.errors = errors

    @property
    def mensagem(self) -> str:
        if len(self.errors) == 1:
            return self.errors[0].mensagem
        return f"{len(self.errors)} erros de validação; o primeiro: {self.errors[0].mensagem}"


TAX_TOTAL_KEYS = (
    "icms_base_calculo",
    "icms_valor_total",
    "fcp_valor_total",
    "valor_pis",
    "valor_cofins",
    "ibs_cbs_base_calculo",
    "ibs_uf_valor_total",
    "ibs_mun_valor_total",
    "ibs_valor_total",
    "cbs_valor_total",
)


@dataclass
class ItemInput:
    numero_item: int
    codigo_produto: str
    descricao: str
    codigo_ncm: str
    cest: str | None
    cfop: str
    unidade_comercial: str
    quantidade_comercial: Decimal
    valor_unitario_comercial: Decimal
    unidade_tributavel: str
    quantidade_tributavel: Decimal
    valor_unitario_tributavel: Decimal
    valor_bruto: Decimal
    valor_desconto: Decimal
    valor_frete: Decimal
    codigo_barras_comercial: str
    codigo_barras_tributavel: str
    icms_origem: str
    icms_situacao_tributaria: str
    icms_modalidade_base_calculo: str
    icms_base_calculo: Decimal
    icms_aliquota: Decimal
    icms_reducao_base_calculo: Decimal | None
    pis_situacao_tributaria: str
    cofins_situacao_tributaria: str
    valor_total_tributos: Decimal | None
    taxes: ItemTaxInput = field(default_factory=ItemTaxInput)

    @property
    def icms_valor(self) -> Decimal:
        if self.icms_situacao_tributaria in ("00", "20", "90"):
            return money(self.icms_base_calculo * self.icms_aliquota / 100)
        return ZERO

    @property
    def valor_liquido(self) -> Decimal:
        return self.valor_bruto - self.valor_desconto + self.valor_frete


@dataclass
class PaymentInput:
    forma_pagamento: str
    valor_pagamento: Decimal
    tipo_integracao: str | None = None
    cnpj_credenciadora: str | None = None
    bandeira_operadora: str | None = None
    numero_autorizacao: str | None = None
    descricao: str | None = None


@dataclass
class NoteInput:
    cnpj_emitente: str
    data_emissao: datetime
    natureza_operacao: str
    presenca_comprador: str
    items: list[ItemInput]
    payments: list[PaymentInput]
    cpf_destinatario: str | None = None
    cnpj_destinatario: str | None = None
    nome_destinatario: str | None = None
    informacoes_adicionais_contribuinte: str | None = None
    numero: int | None = None
    serie: int | None = None
    codigo_unico: str | None = None
    data_entrada_contingencia: datetime | None = None
    justificativa_contingencia: str | None = None
    declared: dict[str, Decimal] = field(default_factory=dict)

    @property
    def valor_produtos(self) -> Decimal:
        return sum((i.valor_bruto for i in self.items), ZERO)

    @property
    def valor_desconto(self) -> Decimal:
        return sum((i.valor_desconto for i in self.items), ZERO)

    @property
    def valor_frete(self) -> Decimal:
        return sum((i.valor_frete for i in self.items), ZERO)

    @property
    def valor_total(self) -> Decimal:
        return self.valor_produtos - self.valor_desconto + self.valor_frete

    @property
    def valor_pago(self) -> Decimal:
        return sum((p.valor_pagamento for p in self.payments), ZERO)

    @property
    def valor_troco(self) -> Decimal:
        return max(ZERO, self.valor_pago - self.valor_total)

    @property
    def icms_base_calculo(self) -> Decimal:
        return sum(
            (i.icms_base_calculo for i in self.items if i.icms_situacao_tributaria in ("00", "20", "90")),
            ZERO,
        )

    @property
    def icms_valor_total(self) -> Decimal:
        return sum((i.icms_valor for i in self.items), ZERO)

    @property
    def valor_total_tributos(self) -> Decimal | None:
        values = [i.valor_total_tributos for i in self.items if i.valor_total_tributos is not None]
        return sum(values, ZERO) if values else None


class _Collector:
    """Reads fields out of a JSON object, remembering every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def error(self, campo: str, mensagem: str, codigo: str = "valor_invalido") -> None:
        self.errors.append(FieldError(campo, mensagem, codigo))

    def text(
        self, data: dict[str, Any], key: str, campo: str, *, required: bool, max_len: int = 0, label: str = ""
    ) -> str | None:
        raw = data.get(key)
        label = label or key
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                self.error(campo, f"O campo {label} é obrigatório", "campo_obrigatorio")
            return None
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            self.error(campo, f"O campo {label} deve ser texto")
            return None
        value = str(raw).strip()
        if max_len and len(value) > max_len:
            self.error(campo, f"O campo {label} deve ter no máximo {max_len} caracteres")
            return None
        return value

    def decimal(
        self,
        data: dict[str, Any],
        key: str,
        campo: str,
        *,
        required: bool,
        places: int = 2,
        label: str = "",
        positive: bool = False,
    ) -> Decimal | None:
        raw = data.get(key)
        label = label or key
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                self.error(campo, f"O campo {label} é obrigatório", "campo_obrigatorio")
            return None
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            self.error(campo, f"O campo {label} deve ser numérico")
            return None
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            self.error(campo, f"O campo {label} deve ser numérico (use ponto como separador decimal)")
            return None
        if not value.is_finite():
            self.error(campo, f"O campo {label} deve ser numérico")
            return None
        if value < 0 or (positive and value == 0):
            self.error(campo, f"O campo {label} deve ser {'maior que zero' if positive else 'positivo'}")
            return None
        if value != value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):
            self.error(campo, f"O campo {label} aceita no máximo {places} casas decimais")
            return None
        return value

    def code(
        self,
        data: dict[str, Any],
        key: str,
        campo: str,
        *,
        required: bool,
        width: int,
        allowed: frozenset[str],
    ) -> str | None:
        value = self.text(data, key, campo, required=required)
        if value is None:
            return None
        if value.isdigit() and len(value) < width:
            value = value.zfill(width)
        if value not in allowed:
            self.error(campo, f"Valor inválido para {key}: {value!r}")
            return None
        return value

    def integer(
        self, data: dict[str, Any], key: str, campo: str, *, required: bool, low: int, high: int
    ) -> int | None:
        raw = data.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                self.error(campo, f"O campo {key} é obrigatório", "campo_obrigatorio")
            return None
        text = str(raw).strip()
        if isinstance(raw, bool) or not text.isdigit() or not low <= int(text) <= high:
            self.error(campo, f"O campo {key} deve ser um número inteiro entre {low} e {high}")
            return None
        return int(text)

    def datetime_tz(self, data: dict[str, Any], key: str, campo: str, *, required: bool) -> datetime | None:
        raw = self.text(data, key, campo, required=required)
        if raw is None:
            return None
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            self.error(campo, f"O campo {key} deve estar no formato ISO 8601, ex.: 2015-11-19T13:54:31-03:00")
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            self.error(campo, f"O campo {key} deve informar o fuso horário, ex.: 2015-11-19T13:54:31-03:00")
            return None
        return value


def parse_note(payload: Any, *, offline: bool) -> NoteInput:
    """Validate the emission JSON; raise :class:`PayloadInvalid` listing every error."""
    if not isinstance(payload, dict):
        raise PayloadInvalid([FieldError("nfce", "O corpo da requisição deve ser um objeto JSON")])
    c = _Collector()
    cnpj = c.text(payload, "cnpj_emitente", "cnpj_emitente", required=True)
    if cnpj is not None and not is_valid_cnpj(cnpj):
        c.error("cnpj_emitente", f"CNPJ do emitente inválido: {cnpj}")
    data_emissao = c.datetime_tz(payload, "data_emissao", "data_emissao", required=True)
    natureza = c.text(payload, "natureza_operacao", "natureza_operacao", required=False, max_len=60)
    presenca = c.text(payload, "presenca_comprador", "presenca_comprador", required=True)
    if presenca is not None and presenca not in ("1", "4"):
        c.error(
            "presenca_comprador",
            "presenca_comprador deve ser 1 (operação presencial) ou 4 (entrega a domicílio) na NFC-e",
        )
    cpf = c.text(payload, "cpf_destinatario", "cpf_destinatario", required=False)
    if cpf is not None and not is_valid_cpf(cpf):
        c.error("cpf_destinatario", f"CPF do destinatário inválido: {cpf}")
    cnpj_dest = c.text(payload, "cnpj_destinatario", "cnpj_destinatario", required=False)
    if cnpj_dest is not None and not is_valid_cnpj(cnpj_dest):
        c.error("cnpj_destinatario", f"CNPJ do destinatário inválido: {cnpj_dest}")
    if cpf and cnpj_dest:
        c.error("cpf_destinatario", "Informe apenas um documento do destinatário: CPF ou CNPJ")
    nome_dest = c.text(payload, "nome_destinatario", "nome_destinatario", required=False, max_len=60)
    info = c.text(
        payload,
        "informacoes_adicionais_contribuinte",
        "informacoes_adicionais_contribuinte",
        required=False,
        max_len=5000,
    )
    numero = c.integer(payload, "numero", "numero", required=offline, low=1, high=999_999_999)
    serie = c.integer(payload, "serie", "serie", required=offline, low=0, high=999)
    codigo_unico = c.text(payload, "codigo_unico", "codigo_unico", required=offline)
    if codigo_unico is not None and not re.fullmatch(r"\d{8}", codigo_unico):
        c.error("codigo_unico", "O campo codigo_unico (cNF) deve ter exatamente 8 dígitos")
        codigo_unico = None
    entrada_cont = c.datetime_tz(
        payload, "data_entrada_contingencia", "data_entrada_contingencia", required=False
    )
    just_cont = c.text(
        payload, "justificativa_contingencia", "justificativa_contingencia", required=False, max_len=256
    )
    if just_cont is not None and len(just_cont) < 15:
        c.error("justificativa_contingencia", "justificativa_contingencia deve ter ao menos 15 caracteres")

    items = _parse_items(c, payload)
    payments = _parse_payments(c, payload)
    declared: dict[str, Decimal] = {}
    for key in ("valor_produtos", "valor_desconto", "valor_total", *TAX_TOTAL_KEYS):
        value = c.decimal(payload, key, key, required=False, places=4)
        if value is not None:
            declared[key] = money(value)

    if c.errors:
        raise PayloadInvalid(c.errors)
    assert cnpj is not None and data_emissao is not None and presenca is not None
    note = NoteInput(
        cnpj_emitente=normalize_cnpj(cnpj),
        data_emissao=data_emissao,
        natureza_operacao=natureza or "VENDA AO CONSUMIDOR",
        presenca_comprador=presenca,
        items=items,
        payments=payments,
        cpf_destinatario=only_digits(cpf) if cpf else None,
        cnpj_destinatario=normalize_cnpj(cnpj_dest) if cnpj_dest else None,
        nome_destinatario=nome_dest,
        informacoes_adicionais_contribuinte=info,
        numero=numero,
        serie=serie,
        codigo_unico=codigo_unico,
        data_entrada_contingencia=entrada_cont,
        justificativa_contingencia=just_cont,
        declared=declared,
    )
    if note.valor_pago < note.valor_total:
        raise PayloadInvalid(
            [
                FieldError(
                    "formas_pagamento",
                    f"A soma dos pagamentos ({note.valor_pago:.2f}) é menor que o valor total "
                    f"da nota ({note.valor_total:.2f})",
                )
            ]
        )
    return note


def _parse_items(c: _Collector, payload: dict[str, Any]) -> list[ItemInput]:
    key = "items" if payload.get("items") else "itens"
    raw_items = payload.get(key)
    if not isinstance(raw_items, list) or not raw_items:
        c.error("items", "A nota deve ter ao menos um item (campo items ou itens)", "campo_obrigatorio")
        return []
    if len(raw_items) > 990:
        c.error(key, "A NFC-e aceita no máximo 990 itens")
        return []
    items: list[ItemInput] = []
    for index, raw in enumerate(raw_items):
        prefix = f"{key}[{index}]"
        if not isinstance(raw, dict):
            c.error(prefix, f"O item {index + 1} deve ser um objeto JSON")
            continue
        item = _parse_item(c, raw, prefix, index + 1)
        if item is not None:
            items.append(item)
    return items


def _parse_item(c: _Collector, raw: dict[str, Any], prefix: str, position: int) -> ItemInput | None:
    before = len(c.errors)

    def campo(name: str) -> str:
        return f"{prefix}.{name}"

    numero_item = c.integer(raw, "numero_item", campo("numero_item"), required=True, low=1, high=990)
    if numero_item is not None and numero_item != position:
        c.error(
            campo("numero_item"),
            f"numero_item deve ser sequencial começando em 1: esperado {position}, recebido {numero_item}",
        )
    codigo = c.text(raw, "codigo_produto", campo("codigo_produto"), required=True, max_len=60)
    descricao = c.text(raw, "descricao", campo("descricao"), required=True, max_len=120)
    ncm = c.text(raw, "codigo_ncm", campo("codigo_ncm"), required=True)
    if ncm is not None and not is_valid_ncm(ncm):
        c.error(campo("codigo_ncm"), f"Item {position}: codigo_ncm deve ter 8 dígitos (recebido {ncm!r})")
    cest = c.text(raw, "cest", campo("cest"), required=False)
    if cest is not None and not re.fullmatch(r"\d{7}", cest):
        c.error(campo("cest"), f"Item {position}: cest deve ter 7 dígitos")
    cfop = c.text(raw, "cfop", campo("cfop"), required=True)
    if cfop is not None and not re.fullmatch(r"[1-7]\d{3}", cfop):
        c.error(campo("cfop"), f"Item {position}: cfop deve ter 4 dígitos")
    unidade = c.text(raw, "unidade_comercial", campo("unidade_comercial"), required=True, max_len=6)
    unidade_trib = c.text(raw, "unidade_tributavel", campo("unidade_tributavel"), required=False, max_len=6)
    qtd = c.decimal(
        raw, "quantidade_comercial", campo("quantidade_comercial"), required=True, places=4, positive=True
    )
    qtd_trib = c.decimal(
        raw, "quantidade_tributavel", campo("quantidade_tributavel"), required=False, places=4, positive=True
    )
    unit = c.decimal(
        raw, "valor_unitario_comercial", campo("valor_unitario_comercial"), required=True, places=10
    )
    unit_trib = c.decimal(
        raw, "valor_unitario_tributavel", campo("valor_unitario_tributavel"), required=False, places=10
    )
    bruto = c.decimal(raw, "valor_bruto", campo("valor_bruto"), required=False, places=2)
    desconto = c.decimal(raw, "valor_desconto", campo("valor_desconto"), required=False, places=2)
    frete = c.decimal(raw, "valor_frete", campo("valor_frete"), required=False, places=2)
    ean = _gtin(c, raw, "codigo_barras_comercial", campo("codigo_barras_comercial"), position)
    ean_trib = _gtin(c, raw, "codigo_barras_tributavel", campo("codigo_barras_tributavel"), position)
    origem = c.text(raw, "icms_origem", campo("icms_origem"), required=True)
    if origem is not None and origem not in {str(n) for n in range(9)}:
        c.error(campo("icms_origem"), f"Item {position}: icms_origem deve ser de 0 a 8")
    cst = c.text(raw, "icms_situacao_tributaria", campo("icms_situacao_tributaria"), required=True)
    if cst is not None and cst not in CSOSN_CODES | CST_CODES:
        c.error(
            campo("icms_situacao_tributaria"),
            f"Item {position}: icms_situacao_tributaria {cst!r} inválida para NFC-e (CSOSN: "
            f"{', '.join(sorted(CSOSN_CODES))}; CST: {', '.join(sorted(CST_CODES))})",
        )
    needs_icms = cst in ("00", "20")
    modalidade = c.text(
        raw, "icms_modalidade_base_calculo", campo("icms_modalidade_base_calculo"), required=needs_icms
    )
    if modalidade is not None and modalidade not in ("0", "1", "2", "3"):
        c.error(campo("icms_modalidade_base_calculo"), f"Item {position}: modalidade deve ser 0, 1, 2 ou 3")
    base = c.decimal(raw, "icms_base_calculo", campo("icms_base_calculo"), required=needs_icms, places=2)
    aliquota = c.decimal(raw, "icms_aliquota", campo("icms_aliquota"), required=needs_icms, places=4)
    if aliquota is not None and aliquota > 100:
        c.error(campo("icms_aliquota"), f"Item {position}: icms_aliquota deve estar entre 0 e 100")
    reducao = c.decimal(
        raw, "icms_reducao_base_calculo", campo("icms_reducao_base_calculo"), required=cst == "20", places=4
    )
    pis = c.text(raw, "pis_situacao_tributaria", campo("pis_situacao_tributaria"), required=False) or "99"
    cofins = (
        c.text(raw, "cofins_situacao_tributaria", campo("cofins_situacao_tributaria"), required=False) or "99"
    )
    tributos = c.decimal(raw, "valor_total_tributos", campo("valor_total_tributos"), required=False, places=2)
    taxes = parse_item_taxes(c, raw, campo, position)

    if qtd is not None and unit is not None:
        expected = qtd * unit
        if bruto is None:
            bruto = money(expected)
        elif abs(bruto - expected) > CENT:
            c.error(
                campo("valor_bruto"),
                f"Item {position}: valor_bruto ({bruto}) difere de quantidade x valor unitário "
                f"({money(expected)})",
            )
        if desconto is not None and bruto is not None and desconto > bruto:
            c.error(campo("valor_desconto"), f"Item {position}: valor_desconto maior que o valor bruto")
    if len(c.errors) > before:
        return None
    assert numero_item is not None and codigo and descricao and ncm and cfop and unidade
    assert qtd is not None and unit is not None and bruto is not None and origem and cst
    return ItemInput(
        numero_item=numero_item,
        codigo_produto=codigo,
        descricao=descricao,
        codigo_ncm=ncm,
        cest=cest,
        cfop=cfop,
        unidade_comercial=unidade,
        quantidade_comercial=qtd,
        valor_unitario_comercial=unit,
        unidade_tributavel=unidade_trib or unidade,
        quantidade_tributavel=qtd_trib if qtd_trib is not None else qtd,
        valor_unitario_tributavel=unit_trib if unit_trib is not None else unit,
        valor_bruto=money(bruto),
        valor_desconto=desconto or ZERO,
        valor_frete=frete or ZERO,
        codigo_barras_comercial=ean or "SEM GTIN",
        codigo_barras_tributavel=ean_trib or ean or "SEM GTIN",
        icms_origem=origem,
        icms_situacao_tributaria=cst,
        icms_modalidade_base_calculo=modalidade or "3",
        icms_base_calculo=base if base is not None else money(bruto - (desconto or ZERO)),
        icms_aliquota=aliquota or ZERO,
        icms_reducao_base_calculo=reducao,
        pis_situacao_tributaria=pis.zfill(2),
        cofins_situacao_tributaria=cofins.zfill(2),
        valor_total_tributos=tributos,
        taxes=taxes,
    )


def _gtin(c: _Collector, raw: dict[str, Any], key: str, campo: str, position: int) -> str | None:
    value = c.text(raw, key, campo, required=False)
    if value is None or value.upper() == "SEM GTIN":
        return None
    if not is_valid_gtin(value):
        c.error(campo, f"Item {position}: {key} não é um GTIN válido (ou informe SEM GTIN)")
        return None
    return value


def _parse_payments(c: _Collector, payload: dict[str, Any]) -> list[PaymentInput]:
    raw_list = payload.get("formas_pagamento")
    if not isinstance(raw_list, list) or not raw_list:
        c.error("formas_pagamento", "Informe ao menos uma forma de pagamento", "campo_obrigatorio")
        return []
    if len(raw_list) > 100:
        c.error("formas_pagamento", "No máximo 100 formas de pagamento")
        return []
    payments: list[PaymentInput] = []
    for index, raw in enumerate(raw_list):
        prefix = f"formas_pagamento[{index}]"
        if not isinstance(raw, dict):
            c.error(prefix, f"A forma de pagamento {index + 1} deve ser um objeto JSON")
            continue
        before = len(c.errors)
        forma = c.code(
            raw, "forma_pagamento", f"{prefix}.forma_pagamento", required=True, width=2, allowed=PAYMENT_CODES
        )
        valor = c.decimal(raw, "valor_pagamento", f"{prefix}.valor_pagamento", required=True, places=2)
        if valor is not None and valor == 0 and forma != "90":
            c.error(f"{prefix}.valor_pagamento", "valor_pagamento deve ser maior que zero")
        integracao = c.code(
            raw,
            "tipo_integracao",
            f"{prefix}.tipo_integracao",
            required=False,
            width=1,
            allowed=frozenset("12"),
        )
        bandeira = c.code(
            raw,
            "bandeira_operadora",
            f"{prefix}.bandeira_operadora",
            required=forma in CARD_CODES,
            width=2,
            allowed=CARD_BRANDS,
        )
        cnpj_cred = c.text(
            raw, "cnpj_credenciadora", f"{prefix}.cnpj_credenciadora", required=integracao == "1"
        )
        if cnpj_cred is not None and not is_valid_cnpj(cnpj_cred):
            c.error(f"{prefix}.cnpj_credenciadora", f"CNPJ da credenciadora inválido: {cnpj_cred}")
        autorizacao = c.text(
            raw, "numero_autorizacao", f"{prefix}.numero_autorizacao", required=integracao == "1", max_len=128
        )
        descricao = c.text(raw, "descricao", f"{prefix}.descricao", required=False, max_len=60)
        if len(c.errors) > before or forma is None or valor is None:
            continue
        payments.append(
            PaymentInput(
                forma_pagamento=forma,
                valor_pagamento=valor,
                tipo_integracao=integracao,
                cnpj_credenciadora=normalize_cnpj(cnpj_cred) if cnpj_cred else None,
                bandeira_operadora=bandeira,
                numero_autorizacao=autorizacao,
                descricao=descricao,
            )
        )
    return payments
