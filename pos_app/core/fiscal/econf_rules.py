"""In which states card and PIX payments must be linked to the note by the ECONF event (dated data).

The table is ``resources/fiscal/econf_obrigatoriedade.csv`` (one row per state and period: ``uf``,
``formas`` (payment codes separated by spaces: 03/04/05 card, 17/20 PIX), ``vigente_desde``,
``vigente_ate`` (empty: still in force), ``data_estimada`` (``sim`` when the source gives no date),
``fonte``, ``observacao``). Correct the CSV, not the code: nothing here decides by ``if`` on a date.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache

from pos_app.core import paths

__all__ = ["EconfRule", "econf_formas", "econf_rule", "econf_rules"]

FILE = "econf_obrigatoriedade.csv"


@dataclass(frozen=True)
class EconfRule:
    uf: str
    formas: frozenset[str]
    vigente_desde: date
    vigente_ate: date | None
    data_estimada: bool
    fonte: str
    observacao: str

    def applies(self, uf: str, on: date) -> bool:
        return (
            self.uf == uf.upper()
            and on >= self.vigente_desde
            and (self.vigente_ate is None or on <= self.vigente_ate)
        )


@cache
def econf_rules() -> tuple[EconfRule, ...]:
    path = paths.resources_dir() / "fiscal" / FILE
    with path.open(encoding="utf-8", newline="") as f:
        rows = [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]
    return tuple(
        EconfRule(
            uf=r["uf"].upper(),
            formas=frozenset(r["formas"].split()),
            vigente_desde=date.fromisoformat(r["vigente_desde"]),
            vigente_ate=date.fromisoformat(r["vigente_ate"]) if r.get("vigente_ate") else None,
            data_estimada=r.get("data_estimada", "").lower() == "sim",
            fonte=r.get("fonte", ""),
            observacao=r.get("observacao", ""),
        )
        for r in rows
    )


def econf_rule(uf: str, on: date) -> EconfRule | None:
    """The row in force for ``uf`` on ``on`` (None: the state does not require ECONF)."""
    for rule in econf_rules():
        if rule.applies(uf, on):
            return rule
    return None


def econf_formas(uf: str, on: date) -> frozenset[str]:
    """Payment codes whose payments ``uf`` requires linked by ECONF on ``on`` (empty: none)."""
    rule = econf_rule(uf, on)
    return rule.formas if rule else frozenset()
