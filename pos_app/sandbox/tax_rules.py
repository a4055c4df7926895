"""Tax fields of an NFC-e item as the sandbox reads and checks them: ICMS value and FCP, PIS/COFINS,
and the IBS/CBS group of the tax reform, with the rules SEFAZ applies by CRT and date.

The dates and rates come from the same dated tables the POS ships (``resources/fiscal``), read on
the sandbox's movable clock through the note's emission date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pos_app.core.fiscal.tax_tables import (
    CLASSTRIB_SEM_VALORES,
    IBSCBS_CST,
    cclasstrib_table,
    ibs_cbs_rates,
    ibs_cbs_required,
)

ZERO = Decimal("0")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)

__all__ = ["IbsCbsInput", "ItemTaxInput", "TaxRejected", "check_note_taxes", "parse_item_taxes"]


class TaxRejected(Exception):
    def __init__(self, status_sefaz: str, mensagem_sefaz: str) -> None:
        super().__init__(f"{status_sefaz} {mensagem_sefaz}")
        self.status_sefaz = status_sefaz
        self.mensagem_sefaz = mensagem_sefaz


@dataclass
class IbsCbsInput:
    cst: str
    cclasstrib: str
    base: Decimal | None = None
    ibs_uf_aliquota: Decimal | None = None
    ibs_uf_valor: Decimal | None = None
    ibs_mun_aliquota: Decimal | None = None
    ibs_mun_valor: Decimal | None = None
    cbs_aliquota: Decimal | None = None
    cbs_valor: Decimal | None = None
    reducao_ibs: Decimal = ZERO
    reducao_cbs: Decimal = ZERO

    @property
    def com_valores(self) -> bool:
        return self.base is not None

    @property
    def ibs_valor(self) -> Decimal:
        return (self.ibs_uf_valor or ZERO) + (self.ibs_mun_valor or ZERO)


@dataclass
class ItemTaxInput:
    icms_valor: Decimal | None = None
    fcp_base_calculo: Decimal | None = None
    fcp_percentual: Decimal | None = None
    fcp_valor: Decimal = ZERO
    pis_base_calculo: Decimal = ZERO
    pis_aliquota: Decimal = ZERO
    pis_valor: Decimal = ZERO
    cofins_base_calculo: Decimal = ZERO
    cofins_aliquota: Decimal = ZERO
    cofins_valor: Decimal = ZERO
    ibs_cbs: IbsCbsInput | None = None


def _efetiva(rate: Decimal, reducao: Decimal) -> Decimal:
    return (rate * (HUNDRED - reducao) / HUNDRED).quantize(Decimal("0.0001"))


def _close(value: Decimal, base: Decimal, rate: Decimal) -> bool:
    return abs(value - base * rate / HUNDRED) <= CENT


def parse_item_taxes(c: Any, raw: dict[str, Any], campo: Any, position: int) -> ItemTaxInput:
    """Read the tax fields of one item through the payload collector ``c`` (errors named by field)."""
    t = ItemTaxInput()

    def dec(key: str, places: int = 2, required: bool = False) -> Decimal | None:
        return c.decimal(raw, key, campo(key), required=required, places=places)

    t.icms_valor = dec("icms_valor")
    t.fcp_percentual = dec("fcp_percentual", 4)
    if t.fcp_percentual is not None:
        t.fcp_base_calculo = dec("fcp_base_calculo", required=True)
        t.fcp_valor = dec("fcp_valor", required=True) or ZERO
        if t.fcp_base_calculo is not None and not _close(t.fcp_valor, t.fcp_base_calculo, t.fcp_percentual):
            c.error(campo("fcp_valor"), f"Item {position}: fcp_valor difere de base x percentual")
    for tax in ("pis", "cofins"):
        cst = raw.get(f"{tax}_situacao_tributaria")
        if str(cst or "").zfill(2) in ("01", "02"):
            base = dec(f"{tax}_base_calculo", required=True)
            rate = dec(f"{tax}_aliquota_porcentual", 4, required=True)
            value = dec(f"{tax}_valor", required=True)
            if base is not None and rate is not None and value is not None:
                if not _close(value, base, rate):
                    c.error(campo(f"{tax}_valor"), f"Item {position}: {tax}_valor difere de base x alíquota")
                setattr(t, f"{tax}_base_calculo", base)
                setattr(t, f"{tax}_aliquota", rate)
                setattr(t, f"{tax}_valor", value)
    cst = c.text(raw, "ibs_cbs_situacao_tributaria", campo("ibs_cbs_situacao_tributaria"), required=False)
    code = c.text(
        raw,
        "ibs_cbs_classificacao_tributaria",
        campo("ibs_cbs_classificacao_tributaria"),
        required=cst is not None,
    )
    if cst is None:
        return t
    if cst not in IBSCBS_CST:
        c.error(campo("ibs_cbs_situacao_tributaria"), f"Item {position}: CST do IBS/CBS inválido: {cst!r}")
        return t
    if code is None:
        return t
    ct = cclasstrib_table().get(code)
    if ct is None or ct.cst != cst:
        c.error(
            campo("ibs_cbs_classificacao_tributaria"),
            f"Item {position}: cClassTrib {code!r} inexistente ou de outro CST que {cst}",
        )
        return t
    group = IbsCbsInput(cst=cst, cclasstrib=code)
    t.ibs_cbs = group
    if cst in CLASSTRIB_SEM_VALORES:
        return t
    group.base = dec("ibs_cbs_base_calculo", required=True)
    group.ibs_uf_aliquota = dec("ibs_uf_aliquota", 4, required=True)
    group.ibs_uf_valor = dec("ibs_uf_valor", required=True)
    group.ibs_mun_aliquota = dec("ibs_mun_aliquota", 4, required=True)  # zero is sent, never omitted
    group.ibs_mun_valor = dec("ibs_mun_valor", required=True)
    group.cbs_aliquota = dec("cbs_aliquota", 4, required=True)
    group.cbs_valor = dec("cbs_valor", required=True)
    group.reducao_ibs, group.reducao_cbs = ct.p_red_ibs, ct.p_red_cbs
    if group.base is None:
        return t
    for rate_key, value_key, red in (
        ("ibs_uf_aliquota", "ibs_uf_valor", ct.p_red_ibs),
        ("ibs_mun_aliquota", "ibs_mun_valor", ct.p_red_ibs),
        ("cbs_aliquota", "cbs_valor", ct.p_red_cbs),
    ):
        rate, value = getattr(group, rate_key), getattr(group, value_key)
        if rate is not None and value is not None and not _close(value, group.base, _efetiva(rate, red)):
            c.error(campo(value_key), f"Item {position}: {value_key} difere de base x alíquota (±0,01)")
    return t


def check_note_taxes(
    crt: str, on: date, items: list[Any], declared: dict[str, Decimal], valor_total: Decimal
) -> None:
    """SEFAZ rules on the taxes of a whole note; raise :class:`TaxRejected`."""
    for item in items:
        t: ItemTaxInput = item.taxes
        if (
            item.icms_situacao_tributaria in ("00", "20", "90")
            and t.icms_valor is not None
            and abs(t.icms_valor - item.icms_valor) > CENT
        ):
            raise TaxRejected(
                "528", f"Rejeicao: Valor do ICMS difere do produto BC e Aliquota [nItem:{item.numero_item}]"
            )
    sums = {
        "icms_base_calculo": sum(
            (i.icms_base_calculo for i in items if i.icms_situacao_tributaria in ("00", "20", "90")), ZERO
        ),
        "icms_valor_total": sum((i.icms_valor for i in items), ZERO),
    }
    if "icms_base_calculo" in declared and declared["icms_base_calculo"] != sums["icms_base_calculo"]:
        raise TaxRejected("531", "Rejeicao: Total da BC ICMS difere do somatorio dos itens")
    if "icms_valor_total" in declared and declared["icms_valor_total"] != sums["icms_valor_total"]:
        raise TaxRejected("532", "Rejeicao: Total do ICMS difere do somatorio dos itens")
    for key, attr, code, text in (
        ("valor_pis", "pis_valor", "602", "Total do PIS difere do somatorio dos itens sujeitos ao ICMS"),
        (
            "valor_cofins",
            "cofins_valor",
            "603",
            "Total da COFINS difere do somatorio dos itens sujeitos ao ICMS",
        ),
        ("fcp_valor_total", "fcp_valor", "861", "Total do FCP difere do somatorio dos itens"),
    ):
        total = sum((getattr(i.taxes, attr) for i in items), ZERO)
        if key in declared and declared[key] != total:
            raise TaxRejected(code, f"Rejeicao: {text}")

    rates = ibs_cbs_rates(on)
    groups = [i.taxes.ibs_cbs for i in items]
    if ibs_cbs_required(crt, on):
        for item, group in zip(items, groups, strict=True):
            if group is None:
                raise TaxRejected(
                    "1115", f"Rejeicao: Nao informado grupo de imposto IBS e CBS [nItem:{item.numero_item}]"
                )
    if rates is not None:
        for item, group in zip(items, groups, strict=True):
            if group is None or not group.com_valores:
                continue
            if group.ibs_uf_aliquota != rates.ibs_uf or group.cbs_aliquota != rates.cbs:
                raise TaxRejected(
                    "1026", f"Rejeicao: Aliquota do IBS da UF ou da CBS invalida [nItem:{item.numero_item}]"
                )
            if group.ibs_mun_aliquota != rates.ibs_mun:
                raise TaxRejected(
                    "1036", f"Rejeicao: Aliquota do IBS do Municipio invalida [nItem:{item.numero_item}]"
                )
    with_values = [g for g in groups if g is not None and g.com_valores]
    totals = {
        "ibs_cbs_base_calculo": sum((g.base or ZERO for g in with_values), ZERO),
        "ibs_uf_valor_total": sum((g.ibs_uf_valor or ZERO for g in with_values), ZERO),
        "ibs_mun_valor_total": sum((g.ibs_mun_valor or ZERO for g in with_values), ZERO),
        "ibs_valor_total": sum((g.ibs_valor for g in with_values), ZERO),
        "cbs_valor_total": sum((g.cbs_valor or ZERO for g in with_values), ZERO),
    }
    for key, value in totals.items():
        if key in declared and declared[key] != value:
            raise TaxRejected("1108", f"Rejeicao: Total {key} difere do somatorio dos itens (IBSCBSTot)")
    added = totals["ibs_valor_total"] + totals["cbs_valor_total"]
    if (
        rates is not None
        and not rates.soma_no_total
        and added > 0
        and declared.get("valor_total") == valor_total + added
    ):
        raise TaxRejected(
            "1105",
            "Rejeicao: Valor do IBS e da CBS somado ao valor total da NF-e "
            "(nao compoe o total neste periodo)",
        )
