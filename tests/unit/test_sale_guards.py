"""Typo guards of the core (sale_guards) and Portuguese collation of the catalog."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.collation import fold, sort_key
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.services import sale_guards as g


def product(unidade: str, preco: str = "27.90", descricao: str = "ARROZ TIPO 1 5KG") -> Product:
    return Product(
        codigo="1", descricao=descricao, ncm="10063021", cfop="5102", unidade=unidade, preco=Decimal(preco)
    )


class Settings(dict[str, str]):
    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key, default)


def test_limits_from_settings_and_defaults() -> None:
    assert g.GuardLimits.from_config(None) == g.GuardLimits(
        Decimal("200.00"), Decimal("100"), Decimal("5000.00")
    )
    limits = g.GuardLimits.from_config(Settings({"venda.troco_maximo": "50.00", "venda.total_maximo": "0"}))
    assert limits.troco_maximo == Decimal("50.00") and limits.total_maximo == 0


@pytest.mark.parametrize(
    ("unidade", "allowed"),
    [
        ("UN", False),
        ("PCT", False),
        ("CX", False),
        ("KG", True),
        ("kg", True),
        ("L", True),
        ("M", True),
        ("M2", True),
        ("M3", True),
    ],
)
def test_fraction_only_for_divisible_units(unidade: str, allowed: bool) -> None:
    p = product(unidade)
    if allowed:
        g.check_quantity_unit(p, Decimal("0.5"))
    else:
        with pytest.raises(ValidationError, match="fracionada"):
            g.check_quantity_unit(p, Decimal("0.5"))
    g.check_quantity_unit(p, Decimal("2"))  # whole quantities always fine
    g.check_quantity_unit(p, Decimal("2.000"))


def test_large_change_needs_confirmation() -> None:
    limits = g.GuardLimits()
    sale = Sale()
    sale.add_item(product("PCT"), Decimal(1))  # R$ 27,90
    issues = g.payment_issues(sale.valor_total, Decimal(0), "01", Decimal("1000"), limits)
    assert [i.code for i in issues] == ["troco_alto"] and "R$ 972,10" in issues[0].message
    assert not g.payment_issues(
        sale.valor_total, Decimal(0), "01", Decimal("227.90"), limits
    )  # exactly 200 over
    assert g.payment_issues(sale.valor_total, Decimal(0), "01", Decimal("227.91"), limits)
    assert not g.payment_issues(
        sale.valor_total, Decimal(0), "17", Decimal("1000"), limits
    )  # only cash gives change
    sale.add_payment(Payment("01", Decimal("1000")))
    with pytest.raises(g.SaleGuardError) as err:
        g.check_sale(sale, limits)
    assert err.value.field == "troco_alto"
    assert [i.code for i in g.check_sale(sale, limits, confirmed=True)] == ["troco_alto"]
    off = g.GuardLimits(troco_maximo=Decimal(0))
    assert g.check_sale(sale, off) == []


def test_quantity_and_total_limits() -> None:
    limits = g.GuardLimits()
    p = product("PCT")
    assert g.item_issues(p, Decimal(100), limits) == []
    issues = g.item_issues(p, Decimal(100000), limits)
    assert issues[0].code == "quantidade_alta" and issues[0].needs_manager
    with pytest.raises(g.SaleGuardError):
        g.check_item(p, Decimal(100000), limits)
    g.check_item(p, Decimal(100000), limits, confirmed=True)
    assert g.total_issues(Decimal("2790000"), limits)[0].code == "total_alto"
    assert g.total_issues(Decimal("5000.00"), limits) == []
    sale = Sale()
    sale.add_item(product("UN", "10.00"), Decimal("0.5"))
    with pytest.raises(ValidationError, match="fracionada"):  # never confirmable
        g.check_sale(sale, limits, confirmed=True)


def test_guard_error_survives_pickling() -> None:
    import pickle

    err = g.SaleGuardError([g.GuardIssue("total_alto", "Total alto.", True)])
    copy = pickle.loads(pickle.dumps(err))
    assert copy.issues == err.issues and str(copy) == "Total alto."


def test_portuguese_collation_without_locale() -> None:
    names = ["ARROZ", "AÇÚCAR", "ACHOCOLATADO", "Água", "ABACAXI", "ÓLEO", "OVOS", "pão", "PAPEL"]
    assert sorted(names, key=sort_key) == [
        "ABACAXI",
        "ACHOCOLATADO",
        "AÇÚCAR",
        "Água",
        "ARROZ",
        "ÓLEO",
        "OVOS",
        "pão",
        "PAPEL",
    ]
    assert fold("Pão Francês Ç") == "pao frances c"
