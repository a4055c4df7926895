"""Which document a retail sale to a buyer identified by CNPJ gets: NF-e model 55 or NFC-e model 65.

Ajustes SINIEF of 2025 (11/2025, postponed by later ajustes; last known effect 04/05/2026) move
retail sales to a CNPJ buyer off the NFC-e onto the NF-e model 55, printed as the "DANFE
Simplificado - Varejo" (Ajuste SINIEF 12/2025). The rule is per state and dated: it is DATA
(``RULES``), not ``if`` statements. A state's later rule is one more row with its own start date.
The manager may override it for the store (config key ``nfe.destinatario_cnpj``: ``auto`` follows
this table, ``nfe`` always issues NF-e to a CNPJ buyer, ``nfce`` keeps the NFC-e).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from pos_app.core.fiscal.states import UF_CODES

MODELO_NFE: Final = 55
MODELO_NFCE: Final = 65

OVERRIDES: Final[tuple[str, ...]] = ("auto", "nfe", "nfce")


@dataclass(frozen=True)
class CnpjBuyerRule:
    uf: str
    vigente_desde: date
    modelo: int  # document for a retail sale to a CNPJ buyer from this date on
    fonte: str


_NATIONAL_START = date(2026, 5, 4)
_SOURCE = "Ajustes SINIEF 11/2025 e 12/2025 (efeito a partir de 04/05/2026)"

# Before the adjustment every state issued NFC-e to a CNPJ buyer; from its start, NF-e model 55.
RULES: Final[tuple[CnpjBuyerRule, ...]] = tuple(
    rule
    for uf in sorted(UF_CODES)
    for rule in (
        CnpjBuyerRule(uf, date(2000, 1, 1), MODELO_NFCE, "Ajuste SINIEF 19/16 (NFC-e)"),
        CnpjBuyerRule(uf, _NATIONAL_START, MODELO_NFE, _SOURCE),
    )
)


def rule_for(uf: str, on: date, rules: tuple[CnpjBuyerRule, ...] = RULES) -> CnpjBuyerRule:
    """The rule of ``uf`` in force on ``on`` (the latest start not after it)."""
    uf = uf.upper()
    current = [r for r in rules if r.uf == uf and r.vigente_desde <= on]
    if not current:
        raise KeyError(f"sem regra de documento para CNPJ na UF {uf}")
    return max(current, key=lambda r: r.vigente_desde)


def modelo_for_sale(uf: str, on: date, *, buyer_is_cnpj: bool, override: str | None = "auto") -> int:
    """55 or 65 for a sale of a store in ``uf`` on ``on``; a CPF or anonymous sale is always 65."""
    if not buyer_is_cnpj:
        return MODELO_NFCE
    if override == "nfe":
        return MODELO_NFE
    if override == "nfce":
        return MODELO_NFCE
    return rule_for(uf, on).modelo


# NF-e model 55 is consulted on the national portal (the DANFE Simplificado's QR Code opens the
# key's summary there; the NFC-e QR Code URLs of each state do not apply to model 55).
NFE_PORTAL_CONSULTA = "https://www.nfe.fazenda.gov.br/portal/consultaRecaptcha.aspx"


def nfe_consulta_url(chave: str) -> str:
    return f"{NFE_PORTAL_CONSULTA}?tipoConsulta=resumo&nfe={chave}"


# Cancellation window after authorization, by model: NFC-e 30 minutes, NF-e 24 hours.
CANCEL_WINDOWS: Final[dict[int, timedelta]] = {
    MODELO_NFCE: timedelta(minutes=30),
    MODELO_NFE: timedelta(hours=24),
}


def document_name(modelo: int) -> str:
    return "NF-e (modelo 55)" if modelo == MODELO_NFE else "NFC-e (modelo 65)"


# -- prior-generation contingency of the NF-e at the counter ---------------------------------------
@dataclass(frozen=True)
class NfeContingencyRule:
    """How an NF-e to a CNPJ buyer is issued at the counter while SEFAZ/the API cannot be reached."""

    vigente_desde: date
    tp_emis: int | None  # None: no prior generation; the sale waits for the link
    fonte: str


# Dated data, national (no state distinguishes it in the references). Before the 2025 adjustments
# the only NF-e prior generation was FS-DA on security paper, which a thermal printer cannot print:
# the sale waited for the link. Ajuste SINIEF 12/2025 (cláusula décima primeira, IV and § 7º-A)
# allows "geração prévia do documento fiscal eletrônico em contingência e autorização posterior"
# for retail sales to a CNPJ buyer, printed as the DANFE Simplificado - Varejo; the references give
# no dedicated tpEmis for it, so it carries the NF-e's prior-generation form of the MOC, tpEmis 5
# (FS-DA). A later NT naming another code is one more row with its start date.
NFE_CONTINGENCY_RULES: Final[tuple[NfeContingencyRule, ...]] = (
    NfeContingencyRule(date(2000, 1, 1), None, "Ajuste SINIEF 07/05: só FS-DA em formulário de segurança"),
    NfeContingencyRule(
        _NATIONAL_START,
        5,
        "Ajuste SINIEF 12/2025, cl. 11ª, IV (geração prévia no varejo a CNPJ); tpEmis 5 do MOC",
    ),
)

NFE_CONTINGENCY_JUSTIFICATIVA = (
    "Sem comunicacao com a SEFAZ no momento da venda: NF-e gerada previamente em contingencia "
    "(Ajuste SINIEF 12/2025)"
)


def nfe_contingency_rule(
    on: date, rules: tuple[NfeContingencyRule, ...] = NFE_CONTINGENCY_RULES
) -> NfeContingencyRule:
    current = [r for r in rules if r.vigente_desde <= on]
    return max(current, key=lambda r: r.vigente_desde)


def nfe_contingency_tp_emis(on: date) -> int | None:
    """tpEmis of an NF-e issued at the counter in contingency on ``on`` (None: not allowed, wait)."""
    return nfe_contingency_rule(on).tp_emis
