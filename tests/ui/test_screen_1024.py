"""Every window and dialog at 1024x768 (the offscreen screen of the UI tests): inside the screen,
no clipped text, the Tab chain reaches every control; screenshots in test-artifacts/ui-1024/."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog, QPushButton  # noqa: E402

from pos_app.core.domain.payments import Payment  # noqa: E402
from pos_app.core.domain.sale import Sale  # noqa: E402
from pos_app.core.services.emission import EmissionService, SaleResult  # noqa: E402
from pos_app.core.services.users import authenticate  # noqa: E402
from tests.ui.screen_checks import check_window, expected_primary, screen_rect  # noqa: E402


@pytest.fixture(autouse=True)
def _app_theme(qapp: Any) -> None:
    from pos_app.ui.main import prepare_application

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    prepare_application(app)


def sell(ctx: Any, code: str = "1021", qty: str = "1", forma: str = "01", valor: str = "10.00") -> SaleResult:
    sale = Sale()
    sale.add_item(ctx.store.products.lookup(code), Decimal(qty))
    sale.add_payment(
        Payment(forma=forma, valor=Decimal(valor), bandeira="01" if forma in ("03", "04") else None)
    )
    return EmissionService(ctx).checkout(sale)


def test_screen_is_1024x768() -> None:
    rect = screen_rect()  # 1024x768 by default; a child run of test_other_screens.py: its own size
    assert (rect.width(), rect.height()) == expected_primary()


def _show(qtbot: Any, dialog: QDialog) -> QDialog:
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitExposed(dialog)
    QApplication.processEvents()
    return dialog


MANAGER_DIALOGS = [
    ("historico", "pos_app.ui.manager.history_dialog", "HistoryDialog"),
    ("cancelar", "pos_app.ui.manager.cancel_dialog", "CancelDialog"),
    ("email", "pos_app.ui.manager.email_dialog", "EmailDialog"),
    ("inutilizar", "pos_app.ui.manager.void_dialog", "VoidDialog"),
    ("caixa", "pos_app.ui.manager.cash_dialog", "CashDialog"),
    ("relatorios", "pos_app.ui.manager.reports_dialog", "ReportsDialog"),
    ("usuarios", "pos_app.ui.manager.users_dialog", "UsersDialog"),
]


@pytest.mark.parametrize("with_manager", [True, False], ids=["gerente", "pede_pin"])
@pytest.mark.parametrize(("name", "module", "cls"), MANAGER_DIALOGS, ids=[m[0] for m in MANAGER_DIALOGS])
def test_manager_dialog_fits_1024(
    qtbot: Any, demo_ctx: Any, name: str, module: str, cls: str, with_manager: bool
) -> None:
    import importlib

    sell(demo_ctx)
    gerente = authenticate(demo_ctx, "9999") if with_manager else None
    klass = getattr(importlib.import_module(module), cls)
    dialog = _show(qtbot, klass(demo_ctx, gerente))
    check_window(dialog, f"gerente_{name}_{'sessao' if with_manager else 'pin'}")
    if hasattr(dialog, "tabs"):
        for i in range(dialog.tabs.count()):
            dialog.tabs.setCurrentIndex(i)
            check_window(dialog, f"gerente_{name}_aba{i}", focus=False)
    dialog.close()


def test_settings_dialog_fits_1024(qtbot: Any, demo_ctx: Any) -> None:
    from pos_app.ui.settings_dialog import SettingsDialog

    dialog = _show(qtbot, SettingsDialog(demo_ctx))
    check_window(dialog, "configuracoes")


def test_payment_dialog_fits_1024(qtbot: Any, demo_ctx: Any) -> None:
    from pos_app.ui.payment_dialog import PaymentDialog

    sale = Sale()
    sale.add_item(demo_ctx.store.products.lookup("1021"), Decimal(3))
    dialog = _show(qtbot, PaymentDialog(sale))
    check_window(dialog, "pagamento_dinheiro", focus=False)
    dialog.select_method("credito")
    check_window(dialog, "pagamento_credito")


def test_search_dialog_fits_1024(qtbot: Any, demo_ctx: Any) -> None:
    from pos_app.ui.search_dialog import ProductSearchDialog

    dialog = _show(qtbot, ProductSearchDialog(demo_ctx, "a"))
    dialog.query.setText("arroz")
    dialog.run_search()
    dialog._timer.stop()
    check_window(dialog, "busca")
    dialog._timer.stop()
    dialog.close()


def test_login_and_pin_fit_1024(qtbot: Any, demo_ctx: Any) -> None:
    from pos_app.ui.login import LoginWindow, ManagerPinDialog

    login = _show(qtbot, LoginWindow(demo_ctx))
    check_window(login, "login")
    pin = _show(qtbot, ManagerPinDialog(demo_ctx, "Desconto de 15% acima do limite de 10% para o caixa."))
    check_window(pin, "pin_gerente")


def test_result_dialog_fits_1024(qtbot: Any, demo_ctx: Any) -> None:
    from pos_app.ui.finalize import EmissionProgressDialog, ResultDialog

    result = sell(demo_ctx, valor="50.00")
    dialog = _show(qtbot, ResultDialog(demo_ctx, result))
    check_window(dialog, "resultado")
    progress = _show(qtbot, EmissionProgressDialog(15))
    check_window(progress, "emitindo", focus=False)
    progress.finish()


def test_sale_window_kiosk_1024(qtbot: Any, demo_ctx: Any, cash_session: Any) -> None:
    from pos_app.ui.sale_window import SaleWindow

    operator = demo_ctx.store.users.by_code("1")
    window = SaleWindow(demo_ctx, operator)
    qtbot.addWidget(window)
    window.show()  # no window manager: the window sizes itself to the screen
    qtbot.waitExposed(window)
    product = demo_ctx.store.products.lookup("7891102100377")
    long = demo_ctx.store.products.lookup("1021")
    for _ in range(3):
        window.add_product(product, Decimal(2))
    window.add_product(long, Decimal(1))
    QApplication.processEvents()
    table = window.table
    assert table.isColumnHidden(5)  # Desconto only on a discounted sale: the description gets its room
    assert table.columnWidth(2) >= 200, table.columnWidth(2)
    window.cart.sale.set_sale_discount(Decimal("1.00"))
    window._refresh_totals()
    assert not table.isColumnHidden(5)
    check_window(window, "venda_1024", focus=False)
    table = window.table
    for col in (3, 4, 5, 6):  # Qtde, Vl. unit., Desconto, Total: never behind a scrollbar
        x = table.columnViewportPosition(col)
        assert x >= 0 and x + table.columnWidth(col) <= table.viewport().width(), col
    assert table.horizontalScrollBar().maximum() == 0


@pytest.fixture
def cash_session(demo_ctx: Any) -> Any:
    from pos_app.core.services.cash import CashService

    return CashService(demo_ctx).open(demo_ctx.store.users.by_code("9"), Decimal("100.00"))


def test_default_button_with_enter(qtbot: Any, demo_ctx: Any) -> None:
    """Enter on a focused button clicks it (autoDefault) in the manager dialogs."""
    from pos_app.ui.manager.cash_dialog import CashDialog

    gerente = authenticate(demo_ctx, "9999")
    dialog = _show(qtbot, CashDialog(demo_ctx, gerente))
    assert QApplication.focusWidget() is dialog.float_edit  # the amount first
    QTest.keyClicks(dialog.float_edit, "150,00")
    QTest.keyClick(dialog.float_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=15_000)
    from pos_app.core.services.cash import CashService

    assert CashService(demo_ctx).current() is not None
    assert isinstance(dialog.open_button, QPushButton)
