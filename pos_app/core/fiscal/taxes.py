"""Per-item tax values of an NFC-e: ICMS (own and FCP), PIS, COFINS and the IBS/CBS group.

Every value is rounded per item (2 decimals, half-up); note totals are the sums of the item values.
Which IBS/CBS rates apply, and whether the emitter must send the group, comes from the dated tables
of :mod:`pos_app.core.fiscal.tax_tables` (no date in code).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from pos_app.core.domain.tax_group import ICMS_RATE_OPTIONAL, ICMS_WITH_RATE, TaxGroup
from pos_app.core.fiscal.tax_tables import (
    CLASSTRIB_SEM_VALORES,
    PIS_COFINS_COM_ALIQUOTA,
    cclasstrib_table,
    ibs_cbs_rates,
    ibs_cbs_required,
)

__all__ = ["IbsCbs", "ItemTaxes", "compute_item_taxes", "money", "rate_value"]

ZERO = Decimal("0")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def rate_value(base: Decimal, rate: Decimal) -> Decimal:
    """``base`` x ``rate`` %, rounded to the cent (the rule SEFAZ checks within 0.01)."""
    return money(base * rate / HUNDRED)


@dataclass(frozen=True)
class IbsCbs:
    cst: str
    cclasstrib: str
    com_valores: bool
    base: Decimal = ZERO
    ibs_uf_aliquota: Decimal = ZERO
    ibs_uf_valor: Decimal = ZERO
    ibs_mun_aliquota: Decimal = ZERO
    ibs_mun_valor: Decimal = ZERO
    cbs_aliquota: Decimal = ZERO
    cbs_valor: Decimal = ZERO
    reducao_ibs: Decimal = ZERO
    reducao_cbs: Decimal = ZERO

    @property
    def ibs_valor(self) -> Decimal:
        return self.ibs_uf_valor + self.ibs_mun_valor

    @staticmethod
    def efetiva(rate: Decimal, reducao: Decimal) -> Decimal:
        return (rate * (HUNDRED - reducao) / HUNDRED).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ItemTaxes:
    icms_modalidade_base_calculo: str | None = None
    icms_base_calculo: Decimal | None = None
    icms_aliquota: Decimal | None = None
    icms_reducao_base_calculo: Decimal | None = None
    icms_valor: Decimal = ZERO
    fcp_base_calculo: Decimal | None = None
    fcp_percentual: Decimal | None = None
    fcp_valor: Decimal = ZERO
    pis_situacao_tributaria: str | None = None
    pis_base_calculo: Decimal | None = None
    pis_aliquota_porcentual: Decimal | None = None
    pis_valor: Decimal = ZERO
    cofins_situacao_tributaria: str | None = None
    cofins_base_calculo: Decimal | None = None
    cofins_aliquota_porcentual: Decimal | None = None
    cofins_valor: Decimal = ZERO
    ibs_cbs: IbsCbs | None = None


def compute_item_taxes(group: TaxGroup | None, valor_liquido: Decimal, *, crt: str, on: date) -> ItemTaxes:
    """Tax values of one item worth ``valor_liquido`` (gross less discount) for an emitter of ``crt``
    on the local date ``on``. Without a group the item has no ICMS/PIS/COFINS values and, when the
    emitter must send it, the IBS/CBS group of full taxation (CST 000, cClassTrib 000001)."""
    values: dict[str, object] = {}
    icms_total = ZERO
    if group is not None:
        cst = group.icms_situacao_tributaria
        has_rate = cst in ICMS_WITH_RATE or (cst in ICMS_RATE_OPTIONAL and group.icms_aliquota is not None)
        if has_rate:
            assert group.icms_aliquota is not None
            reducao = group.icms_reducao_base_calculo
            base = money(valor_liquido * (HUNDRED - reducao) / HUNDRED) if reducao else valor_liquido
            icms = rate_value(base, group.icms_aliquota)
            values.update(
                icms_modalidade_base_calculo=group.icms_modalidade_base_calculo or "3",
                icms_base_calculo=base,
                icms_aliquota=group.icms_aliquota,
                icms_reducao_base_calculo=reducao,
                icms_valor=icms,
            )
            icms_total += icms
            if group.fcp_percentual:
                fcp = rate_value(base, group.fcp_percentual)
                values.update(fcp_base_calculo=base, fcp_percentual=group.fcp_percentual, fcp_valor=fcp)
                icms_total += fcp
        for tax in ("pis", "cofins"):
            tax_cst = getattr(group, f"{tax}_situacao_tributaria")
            if tax_cst is None:
                continue
            values[f"{tax}_situacao_tributaria"] = tax_cst
            if tax_cst in PIS_COFINS_COM_ALIQUOTA:
                rate = getattr(group, f"{tax}_aliquota_porcentual")
                values[f"{tax}_base_calculo"] = valor_liquido
                values[f"{tax}_aliquota_porcentual"] = rate
                values[f"{tax}_valor"] = rate_value(valor_liquido, rate)
    values["ibs_cbs"] = _ibs_cbs(group, valor_liquido, icms_total, values, crt=crt, on=on)
    return ItemTaxes(**values)  # type: ignore[arg-type]


def _ibs_cbs(
    group: TaxGroup | None,
    valor_liquido: Decimal,
    icms_total: Decimal,
    values: dict[str, object],
    *,
    crt: str,
    on: date,
) -> IbsCbs | None:
    rates = ibs_cbs_rates(on)
    if rates is None or not ibs_cbs_required(crt, on):
        return None
    cst = group.ibs_cbs_situacao_tributaria if group else "000"
    code = group.ibs_cbs_classificacao_tributaria if group else "000001"
    if cst in CLASSTRIB_SEM_VALORES:
        return IbsCbs(cst=cst, cclasstrib=code, com_valores=False)
    base = valor_liquido
    if rates.exclui_tributos_antigos:  # LC 214/2025: ICMS, PIS and COFINS out of the base until 2032
        pis = values.get("pis_valor", ZERO)
        cofins = values.get("cofins_valor", ZERO)
        assert isinstance(pis, Decimal) and isinstance(cofins, Decimal)
        base = valor_liquido - icms_total - pis - cofins
    ct = cclasstrib_table()[code]
    uf_ef = IbsCbs.efetiva(rates.ibs_uf, ct.p_red_ibs)
    mun_ef = IbsCbs.efetiva(rates.ibs_mun, ct.p_red_ibs)
    cbs_ef = IbsCbs.efetiva(rates.cbs, ct.p_red_cbs)
    return IbsCbs(
        cst=cst,
        cclasstrib=code,
        com_valores=True,
        base=base,
        ibs_uf_aliquota=rates.ibs_uf,
        ibs_uf_valor=rate_value(base, uf_ef),
        ibs_mun_aliquota=rates.ibs_mun,
        ibs_mun_valor=rate_value(base, mun_ef),
        cbs_aliquota=rates.cbs,
        cbs_valor=rate_value(base, cbs_ef),
        reducao_ibs=ct.p_red_ibs,
        reducao_cbs=ct.p_red_cbs,
    )
