"""Shipped fiscal code tables (CST/CSOSN of ICMS, CST of PIS/COFINS, IBS/CBS CST and cClassTrib)
and the dated IBS/CBS tables (rates by date, obligation by CRT and date).

The small closed lists (CST, CSOSN, modality) are data in this module; the versioned official tables
that change without a program release (cClassTrib, IBS/CBS rates, who must fill the group since
when) are CSV files in ``resources/fiscal/`` read once. Nothing here decides by ``if`` on a date.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from pos_app.core import paths

__all__ = [
    "CLASSTRIB_SEM_VALORES",
    "COFINS_CST",
    "CSOSN",
    "CST_ICMS",
    "ClassTrib",
    "IBSCBS_CST",
    "ICMS_MODALIDADE_BC",
    "ICMS_MODALIDADE_BC_ST",
    "ICMS_ORIGEM",
    "IbsCbsRates",
    "PIS_CST",
    "cclasstrib_table",
    "ibs_cbs_required",
    "ibs_cbs_rates",
]

CST_ICMS: dict[str, str] = {
    "00": "Tributada integralmente",
    "10": "Tributada e com cobrança do ICMS por substituição tributária",
    "20": "Com redução de base de cálculo",
    "30": "Isenta ou não tributada e com cobrança do ICMS por ST",
    "40": "Isenta",
    "41": "Não tributada",
    "50": "Suspensão",
    "51": "Diferimento",
    "60": "ICMS cobrado anteriormente por substituição tributária",
    "70": "Com redução de base de cálculo e cobrança do ICMS por ST",
    "90": "Outras",
}
"""ICMS CST of regime normal (CRT 3)."""

CSOSN: dict[str, str] = {
    "101": "Tributada pelo Simples Nacional com permissão de crédito",
    "102": "Tributada pelo Simples Nacional sem permissão de crédito",
    "103": "Isenção do ICMS no Simples Nacional para faixa de receita bruta",
    "201": "Tributada com permissão de crédito e com cobrança do ICMS por ST",
    "202": "Tributada sem permissão de crédito e com cobrança do ICMS por ST",
    "203": "Isenção para faixa de receita bruta e com cobrança do ICMS por ST",
    "300": "Imune",
    "400": "Não tributada pelo Simples Nacional",
    "500": "ICMS cobrado anteriormente por ST (substituído) ou por antecipação",
    "900": "Outros",
}
"""CSOSN of Simples Nacional (CRT 1)."""

ICMS_ORIGEM: dict[str, str] = {
    "0": "Nacional",
    "1": "Estrangeira - importação direta",
    "2": "Estrangeira - adquirida no mercado interno",
    "3": "Nacional, conteúdo de importação de 40 % a 70 %",
    "4": "Nacional, processos produtivos básicos",
    "5": "Nacional, conteúdo de importação até 40 %",
    "6": "Estrangeira - importação direta, sem similar nacional",
    "7": "Estrangeira - mercado interno, sem similar nacional",
    "8": "Nacional, conteúdo de importação acima de 70 %",
}

ICMS_MODALIDADE_BC: dict[str, str] = {
    "0": "Margem de valor agregado (%)",
    "1": "Pauta (valor)",
    "2": "Preço tabelado máximo (valor)",
    "3": "Valor da operação",
}

ICMS_MODALIDADE_BC_ST: dict[str, str] = {
    "0": "Preço tabelado ou máximo sugerido",
    "1": "Lista negativa (valor)",
    "2": "Lista positiva (valor)",
    "3": "Lista neutra (valor)",
    "4": "Margem de valor agregado (%)",
    "5": "Pauta (valor)",
    "6": "Valor da operação",
}

PIS_CST: dict[str, str] = {
    "01": "Operação tributável com alíquota básica",
    "02": "Operação tributável com alíquota diferenciada",
    "03": "Operação tributável com alíquota por unidade de medida de produto",
    "04": "Operação tributável monofásica - revenda a alíquota zero",
    "05": "Operação tributável por substituição tributária",
    "06": "Operação tributável a alíquota zero",
    "07": "Operação isenta da contribuição",
    "08": "Operação sem incidência da contribuição",
    "09": "Operação com suspensão da contribuição",
    "49": "Outras operações de saída",
    "99": "Outras operações",
}
"""CST of PIS, also used for COFINS (outgoing operations)."""
COFINS_CST = PIS_CST

PIS_COFINS_COM_ALIQUOTA = frozenset({"01", "02"})
"""PIS/COFINS CSTs whose value is base x percentage (group PISAliq/COFINSAliq)."""

IBSCBS_CST: dict[str, str] = {
    "000": "Tributação integral",
    "010": "Tributação com alíquotas uniformes",
    "011": "Tributação com alíquotas uniformes reduzidas",
    "200": "Alíquota reduzida",
    "220": "Alíquota fixa",
    "221": "Alíquota fixa proporcional",
    "222": "Redução de base de cálculo",
    "400": "Isenção",
    "410": "Imunidade e não incidência",
    "510": "Diferimento",
    "550": "Suspensão",
    "620": "Tributação monofásica",
    "800": "Transferência de crédito",
    "810": "Ajustes",
    "820": "Tributação em declaração de regime específico",
}
"""CST of IBS/CBS (NT 2025.002-RTC; one CST for both taxes)."""

CLASSTRIB_SEM_VALORES = frozenset({"400", "410", "510", "550", "620", "800", "810", "820"})
"""IBS/CBS CSTs sent without the values group (``gIBSCBS``): only CST and cClassTrib."""


@dataclass(frozen=True)
class ClassTrib:
    codigo: str
    cst: str
    descricao: str
    p_red_ibs: Decimal
    p_red_cbs: Decimal


@dataclass(frozen=True)
class IbsCbsRates:
    """IBS/CBS rates in force from ``inicio`` (percentages)."""

    inicio: date
    cbs: Decimal
    ibs_uf: Decimal
    ibs_mun: Decimal
    soma_no_total: bool
    exclui_tributos_antigos: bool
    """During the transition (2026-2032) ICMS, PIS and COFINS are excluded from the base."""


def _read(name: str) -> list[dict[str, str]]:
    path: Path = paths.resources_dir() / "fiscal" / name
    with path.open(encoding="utf-8", newline="") as f:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


@cache
def cclasstrib_table() -> dict[str, ClassTrib]:
    """The shipped cClassTrib table (``resources/fiscal/cclasstrib.csv``)."""
    table: dict[str, ClassTrib] = {}
    for row in _read("cclasstrib.csv"):
        code = row["cclasstrib"]
        if len(code) != 6 or not code.isdigit() or code[:3] != row["cst"] or row["cst"] not in IBSCBS_CST:
            raise ValueError(f"cclasstrib.csv: linha inválida {row!r}")
        table[code] = ClassTrib(
            code, row["cst"], row["descricao"], Decimal(row["p_red_ibs"]), Decimal(row["p_red_cbs"])
        )
    return table


@cache
def _rates() -> tuple[IbsCbsRates, ...]:
    rows = [
        IbsCbsRates(
            inicio=date.fromisoformat(r["vigencia_inicio"]),
            cbs=Decimal(r["cbs_aliquota"]),
            ibs_uf=Decimal(r["ibs_uf_aliquota"]),
            ibs_mun=Decimal(r["ibs_mun_aliquota"]),
            soma_no_total=r["soma_no_total"] == "1",
            exclui_tributos_antigos=r["exclui_tributos_antigos"] == "1",
        )
        for r in _read("ibs_cbs_aliquotas.csv")
    ]
    return tuple(sorted(rows, key=lambda r: r.inicio))


def ibs_cbs_rates(on: date) -> IbsCbsRates | None:
    """Rates in force on ``on`` (the note's local emission date), or None before the reform."""
    found: IbsCbsRates | None = None
    for row in _rates():
        if row.inicio <= on:
            found = row
    return found


@cache
def _obligation() -> dict[str, date]:
    return {
        r["crt"]: date.fromisoformat(r["obrigatorio_desde"]) for r in _read("ibs_cbs_obrigatoriedade.csv")
    }


def ibs_cbs_required(crt: str, on: date) -> bool:
    """Whether an emitter of this CRT must send the IBS/CBS group on ``on`` (rejection 1115)."""
    since = _obligation().get(crt)
    return since is not None and on >= since
