"""Typo guards through the cashier window, and the sale grid at the wider store screens."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.ui.conftest import login  # noqa: E402
from tests.ui.screen_checks import clipped_texts, save_shot  # noqa: E402

K = Qt.Key


def test_huge_quantity_and_total_need_a_manager_once(qtbot: Any, controller: Any, keys: Any) -> None:
    controller.ctx.config.set("nfe.destinatario_cnpj", "nfce")  # no NF-e customer dialog here (issue 19)
    window = login(qtbot, controller, keys)  # Ana, cashier
    keys("1000*7891102100377", K.Key_Return)  # 1000 packs of rice: a typo until a manager says otherwise
    qtbot.waitUntil(
        lambda: type(QApplication.activeModalWidget()).__name__ == "ManagerPinDialog", timeout=10_000
    )
    pin = QApplication.activeModalWidget()
    assert window.cart.rowCount() == 0 and "acima do limite" in window.message.text()
    qtbot.waitUntil(lambda: pin.form.code.hasFocus(), timeout=10_000)
    keys("9", K.Key_Return, "9999", K.Key_Return)
    qtbot.waitUntil(lambda: window.cart.rowCount() == 1, timeout=10_000)
    assert window.cart.sale.valor_total == Decimal("27900.00") and window.code.text() == ""
    keys(K.Key_F10)  # from R$ 10.000,00 the consumer must be identified first (issue 12's counter rule)
    qtbot.waitUntil(lambda: window.document.hasFocus(), timeout=10_000)
    keys("12.ABC.345/01DE-35", K.Key_Return)
    keys(K.Key_F10)  # R$ 27.900,00 is above venda.total_maximo: the manager session is still open
    qtbot.waitUntil(
        lambda: type(QApplication.activeModalWidget()).__name__ == "PaymentDialog", timeout=10_000
    )
    QApplication.activeModalWidget().reject()


def test_cashier_cannot_sell_half_a_unit_product(qtbot: Any, controller: Any, keys: Any) -> None:
    window = login(qtbot, controller, keys)
    keys("0,5*7892084107774", K.Key_Return)
    assert window.cart.rowCount() == 0 and "fracionada" in window.message.text()
    keys(K.Key_Escape)
    keys("0,755*1029", K.Key_Return)  # banana by the kilo: fine
    assert window.cart.rowCount() == 1 and window.cart.sale.items[0].quantidade == Decimal("0.755")


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1280, 1024), (1024, 768)])
def test_sale_grid_amount_columns_always_visible(
    qtbot: Any, ctx: Any, cash_open: bool, width: int, height: int
) -> None:
    from pos_app.ui.sale_window import SaleWindow

    window = SaleWindow(ctx, ctx.store.users.by_code("1"))
    qtbot.addWidget(window)
    window.show()
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width, timeout=3_000)
    window.add_product(ctx.store.products.lookup("1021"), Decimal(12))
    QApplication.processEvents()
    table = window.table
    assert table.isColumnHidden(5)  # Desconto: no discount in this sale, its room goes to the description
    for col in (3, 4, 6):  # Qtde, Vl. unit., Total
        x = table.columnViewportPosition(col)
        assert x >= 0 and x + table.columnWidth(col) <= table.viewport().width(), (width, col)
    problems = clipped_texts(window)
    save_shot(window, f"venda_{width}x{height}")
    assert not problems, problems
