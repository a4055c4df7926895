"""Protected actions ask for a manager's PIN; a refusal changes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt

from pos_app.ui.login import ManagerPinDialog
from pos_app.ui.sale_window import ValueDialog
from tests.ui.conftest import login

K = Qt.Key


def open_pin(qtbot: Any, window: Any) -> ManagerPinDialog:
    qtbot.waitUntil(
        lambda: isinstance(window.dialog, ManagerPinDialog) and window.dialog.isVisible(), timeout=3_000
    )
    dialog = window.dialog
    qtbot.waitUntil(lambda: dialog.form.code.hasFocus(), timeout=3_000)
    return dialog


def test_discount_above_limit_refused_without_manager_pin(
    qtbot: Any, controller: Any, keys: Any, shot: Any
) -> None:
    window = login(qtbot, controller, keys)  # Ana, caixa
    keys("7891102100377", K.Key_Return)  # 27,90
    keys(K.Key_F4)
    qtbot.waitUntil(lambda: isinstance(window.dialog, ValueDialog), timeout=3_000)
    keys("50%", K.Key_Return)  # limit is 10 %
    pin = open_pin(qtbot, window)
    assert "50% acima do limite de 10%" in pin.reason.text()
    keys("1", K.Key_Return, "1111", K.Key_Return)  # a cashier cannot authorize
    qtbot.waitUntil(lambda: "não é gerente" in pin.form.error.text(), timeout=5_000)
    keys(K.Key_Backtab)  # back to the code field
    assert pin.form.code.hasFocus()
    keys(K.Key_A, modifier=Qt.KeyboardModifier.ControlModifier)  # select all
    keys("9", K.Key_Return, "0000", K.Key_Return)  # the manager, wrong PIN
    qtbot.waitUntil(lambda: "PIN incorreto (1 de 5 tentativas)" in pin.form.error.text(), timeout=5_000)
    shot(pin, "07-pin-gerente-recusado")
    keys(K.Key_Escape)
    qtbot.waitUntil(lambda: not pin.isVisible() and window.code.hasFocus(), timeout=3_000)
    assert window.cart.sale.desconto_venda == Decimal(0)
    assert window.message.text() == "Ação não autorizada."
    assert window.total_label.text() == "R$ 27,90"

    keys(K.Key_F4)
    qtbot.waitUntil(lambda: isinstance(window.dialog, ValueDialog), timeout=3_000)
    keys("50%", K.Key_Return)
    open_pin(qtbot, window)
    keys("9", K.Key_Return, "9999", K.Key_Return)
    qtbot.waitUntil(lambda: window.cart.sale.desconto_venda == Decimal("13.95"), timeout=5_000)
    assert window.total_label.text() == "R$ 13,95"
    assert window.approver is not None and window.approver.codigo == "9"


def test_discount_within_limit_needs_no_pin(qtbot: Any, controller: Any, keys: Any) -> None:
    window = login(qtbot, controller, keys)
    keys("7891102100377", K.Key_Return)
    keys(K.Key_F4)
    qtbot.waitUntil(lambda: isinstance(window.dialog, ValueDialog), timeout=3_000)
    keys("2,00", K.Key_Return)
    qtbot.waitUntil(lambda: window.cart.sale.desconto_venda == Decimal("2.00"), timeout=3_000)
    assert window.dialog is None or not window.dialog.isVisible()


def test_removing_item_after_payment_started_needs_manager(qtbot: Any, controller: Any, keys: Any) -> None:
    window = login(qtbot, controller, keys)
    keys("7891102100377", K.Key_Return, "7891245100746", K.Key_Return)
    keys(K.Key_F10)
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=3_000)
    keys(K.Key_F5, "10", K.Key_Return)  # Vale 10,00: payment started (PIX now opens its QR)
    keys(K.Key_Escape)  # back to the sale, payment kept
    qtbot.waitUntil(lambda: window.code.hasFocus(), timeout=3_000)
    assert "Pago R$ 10,00" in window.paid_label.text()
    keys(K.Key_F8)
    pin = open_pin(qtbot, window)
    assert "depois de iniciado o pagamento" in pin.reason.text()
    keys(K.Key_Escape)
    qtbot.waitUntil(lambda: window.code.hasFocus(), timeout=3_000)
    assert window.cart.rowCount() == 2
    keys(K.Key_F8)
    open_pin(qtbot, window)
    keys("9", K.Key_Return, "9999", K.Key_Return)
    qtbot.waitUntil(lambda: window.cart.rowCount() == 1, timeout=5_000)


def test_settings_need_manager_pin(qtbot: Any, controller: Any, keys: Any) -> None:
    window = login(qtbot, controller, keys)
    window.findChild(type(window.menuBar().actions()[0]), "manager_configuracoes").trigger()
    open_pin(qtbot, window)
    keys(K.Key_Escape)
    qtbot.waitUntil(lambda: window.code.hasFocus(), timeout=3_000)
    assert getattr(window, "settings_dialog", None) is None


def test_closed_cash_session_blocks_payment_and_offers_to_open(
    qtbot: Any, controller: Any, keys: Any
) -> None:
    from pos_app.core.services.cash import CashService

    ctx = controller.ctx
    cash = CashService(ctx)
    session = cash.current()
    ctx.store.database.execute("UPDATE cash_sessions SET status = 'fechado' WHERE id = ?", [session["id"]])
    window = login(qtbot, controller, keys)
    assert "Caixa fechado" in window.message.text()
    keys("7891102100377", K.Key_Return, K.Key_F10)
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=3_000)
    assert window.dialog.windowTitle() == "Caixa fechado"
    keys(K.Key_Return)  # "Abrir caixa": the manager's PIN first
    open_pin(qtbot, window)
    keys(K.Key_Escape)
    qtbot.waitUntil(lambda: window.code.hasFocus(), timeout=3_000)
    assert cash.current() is None and window.cart.rowCount() == 1
