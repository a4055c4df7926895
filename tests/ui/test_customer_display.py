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
    if second_screen() is None:
        assert not display.isVisible()  # one monitor (the default test screen): stays away
    else:
        assert display.isVisible()  # the two-monitor child run (test_other_screens.py)
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


def test_customer_display_on_the_second_monitor(qtbot: Any, ctx: Any, cash_open: bool) -> None:
    """Runs in the two-monitor child run of test_other_screens.py (1024x768 cashier + 800x600 customer)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from pos_app.ui.main import prepare_application
    from pos_app.ui.sale_window import SaleWindow

    screen = second_screen()
    if screen is None:
        pytest.skip(
            "um só monitor nesta execução (a execução com dois monitores roda em test_other_screens.py)"
        )
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    prepare_application(app)  # the counter policy, as the program runs
    ctx.config.set("tela.cliente", "sim")
    window = SaleWindow(ctx, ctx.store.users.by_code("1"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    display = window.customer_display
    assert isinstance(display, CustomerDisplay)
    qtbot.waitExposed(display)
    primary = QApplication.primaryScreen()
    # the cashier's window stays on the cashier's monitor, the display fills the customer's
    assert window.screen() is primary, window.screen().name()
    assert primary.geometry().contains(window.frameGeometry()), (window.frameGeometry(), primary.geometry())
    assert display.screen() is screen and display.geometry() == screen.geometry()
    assert not primary.geometry().intersects(display.geometry())
    window.add_product(ctx.store.products.lookup("7891102100377"), Decimal(2))
    window.add_product(ctx.store.products.lookup("1021"), Decimal(1))  # the longest demo description
    assert display.total.text() == "Total R$ 64,79" and display.count.text() == "2 itens"
    QApplication.processEvents()
    # every item line whole on the customer's monitor: wrapped, never cut by the edge or a scroll bar
    items = display.items
    assert items.horizontalScrollBar().maximum() == 0
    for row in range(items.count()):
        rect = items.visualItemRect(items.item(row))
        assert rect.width() <= items.viewport().width(), (row, rect, items.viewport().width())
        text = items.item(row).text()
        lines = items.fontMetrics().boundingRect(rect, int(Qt.TextFlag.TextWordWrap), text)
        assert lines.width() <= items.viewport().width() and "=\u00a0R$\u00a0" in text
    # the total is readable on the customer's monitor: inside it and not clipped
    top_left = display.total.mapToGlobal(display.total.rect().topLeft())
    assert screen.geometry().contains(top_left)
    assert display.total.fontMetrics().horizontalAdvance(display.total.text()) <= display.total.width()
    save_shot(display, "tela-cliente-segundo-monitor")
    display.show_change(Decimal("64.79"), Decimal("5.21"))
    assert display.change.text() == "Troco R$ 5,21"
