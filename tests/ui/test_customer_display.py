"""Customer display (tela.cliente): items, total and change; only with a second monitor."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from pos_app.ui.customer_display import CustomerDisplay, enabled, second_screen  # noqa: E402
from tests.ui.screen_checks import save_shot  # noqa: E402


def test_customer_display_follows_the_sale(qtbot: Any, ctx: Any, cash_open: bool) -> None:
    from pos_app.ui.sale_window import SaleWindow

    assert not enabled(ctx.config)  # off by default
    ctx.config.set("tela.cliente", "sim")
    window = SaleWindow(ctx, ctx.store.users.by_code("1"))
    qtbot.addWidget(window)
    display = window.customer_display
    assert isinstance(display, CustomerDisplay)
    assert second_screen() is None and not display.isVisible()  # one monitor in the tests: stays away
    window.add_product(ctx.store.products.lookup("7891102100377"), Decimal(2))
    window.add_product(ctx.store.products.lookup("1021"), Decimal(1))
    assert display.items.count() == 2 and "ACHOCOLATADO" in display.items.item(1).text()
    assert display.total.text() == "Total R$ 64,79" and display.count.text() == "2 itens"
    display.resize(1024, 768)
    save_shot(display, "tela-cliente-venda")
    display.show_change(Decimal("64.79"), Decimal("35.21"))
    assert display.change.text() == "Troco R$ 35,21"
    save_shot(display, "tela-cliente-troco")
    window.new_sale()
    assert display.items.count() == 0 and display.total.text() == "Total R$ 0,00"
