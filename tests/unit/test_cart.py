"""The cart rules shared by the window and ``pos-app sell`` (no Qt): item entry, discount limit, payments."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pos_app.core import paths
from pos_app.core.domain.errors import ValidationError
from pos_app.core.services.cart import (
    CartService,
    DiscountNeedsManager,
    EntryError,
    old_cli_item,
    parse_payment,
)
from pos_app.core.services.catalog_import import import_catalog_file
from pos_app.core.services.context import open_context


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("POS_SECRETS", "arquivo")
    context = open_context(tmp_path / "dados")
    import_catalog_file(context, paths.resources_dir() / "demo_catalog.csv")
    context.store.users.add("7", "Gerente", "gerente", "7777")
    context.store.users.add("2", "Caixa", "caixa", "2222")
    yield context
    context.close()


def test_window_syntax_and_the_old_cli_form(ctx: Any) -> None:
    products = ctx.store.products
    assert old_cli_item(products, "7891102100377*2") == ("7891102100377", "2")  # old CODE*QTY
    assert old_cli_item(products, "2*7891102100377") is None  # the window's QTY*CODE
    assert old_cli_item(products, "7891102100377") is None
    assert old_cli_item(products, "1001*0") == (
        "1001",
        "0",
    )  # still the old form: its quantity is refused later
    cart = CartService(ctx)
    item = cart.add_entry("3*7891102100377")
    assert item.product.codigo == "1001" and item.quantidade == Decimal(3)
    with pytest.raises(EntryError, match="maior que zero") as info:
        cart.add_entry("0*1001")
    assert info.value.field == "quantidade"
    with pytest.raises(EntryError, match="não encontrado"):
        cart.add_entry("9999999")


def test_discount_above_the_cashiers_limit_needs_a_manager(ctx: Any) -> None:
    cart = CartService(ctx)
    cart.add_entry("2*1001")  # 55,80
    assert cart.max_discount == Decimal(10)
    small = cart.parse_discount("5,00")
    assert not cart.needs_manager(small)
    assert cart.apply_discount(small) == Decimal("5.00")
    big = cart.parse_discount("20%")
    assert big.valor == Decimal("11.16") and cart.needs_manager(big)
    with pytest.raises(DiscountNeedsManager, match="limite de 10%"):
        cart.apply_discount(big)
    with pytest.raises(DiscountNeedsManager):
        cart.apply_discount(big, authorized_by=ctx.store.users.by_code("2"))  # a cashier cannot
    assert cart.apply_discount(big, authorized_by=ctx.store.users.by_code("7")) == Decimal("11.16")
    cart.sale.remove_item(0)
    assert cart.items_changed() is None and cart.sale.valor_desconto == 0 and cart.discount_percent is None
    with pytest.raises(ValidationError):
        cart.parse_discount("150%")


def test_payment_aliases() -> None:
    pay = parse_payment("credito:20,00:visa")
    assert (pay.forma, pay.valor, pay.bandeira) == ("03", Decimal("20.00"), "01")
    assert parse_payment("pix:10").forma == "17"
    with pytest.raises(ValidationError, match="desconhecida"):
        parse_payment("cheque-voador:10")


def test_a_plain_sale_has_no_guard_findings(ctx: Any) -> None:
    cart = CartService(ctx)
    cart.add_entry("1001")
    assert cart.check_guards() == []
