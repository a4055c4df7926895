"""A whole shift at 1024x768, keyboard only: open the cash session, sell (with the typo guards),
cancel the last note, sangria, close the cash session, daily reports. Each step is checked against
the screen (inside it, nothing clipped) and saved under test-artifacts/ui-1024/turno-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from tests.ui.conftest import login  # noqa: E402
from tests.ui.screen_checks import check_window  # noqa: E402

K = Qt.Key
ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def shift_app(qtbot: Any, ctx: Any) -> Iterator[Any]:
    """The program as started at the beginning of the day: cash session closed."""
    from pos_app.ui.main import AppController, prepare_application
    from pos_app.ui.worker import wait_idle

    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    prepare_application(qapp)
    app = AppController(ctx)
    app.start()
    qtbot.waitUntil(lambda: app.wait_ready(0), timeout=15_000)
    yield app
    for widget in QApplication.topLevelWidgets():
        widget.hide()
    app.replay.stop()
    app.backlog.stop()
    app.printer.stop()
    if ctx.monitor is not None:
        ctx.monitor.stop()
    wait_idle(20_000)
    QApplication.processEvents()
    if ctx.sandbox is not None:
        ctx.sandbox.stop()
        ctx.sandbox = None
    for widget in QApplication.topLevelWidgets():
        widget.deleteLater()
    QApplication.processEvents()


def target() -> QWidget:
    """Where a key typed now goes: the open menu, else the focused control of the top modal window."""
    popup = QApplication.activePopupWidget()
    if popup is not None:
        return popup
    focus = QApplication.focusWidget()
    top = QApplication.activeModalWidget()
    if top is not None and (focus is None or focus.window() is not top):
        return top.focusWidget() or top
    widget = focus or QApplication.activeWindow()
    assert widget is not None
    return widget


def press(qtbot: Any, *keys: Any, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    for key in keys:
        if isinstance(key, str):
            qtbot.keyClicks(target(), key)
        else:
            qtbot.keyClick(target(), key, mod)
        QApplication.processEvents()


def modal(qtbot: Any, cls_name: str, timeout: int = 10_000) -> Any:
    qtbot.waitUntil(lambda: type(QApplication.activeModalWidget()).__name__ == cls_name, timeout=timeout)
    return QApplication.activeModalWidget()


def manager_menu(qtbot: Any, window: Any, letter: Any) -> None:
    """Alt+G opens "Gerente"; the entry's underlined letter runs it."""
    qtbot.keyClick(window, K.Key_G, ALT)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None, timeout=3_000)
    menu = QApplication.activePopupWidget()
    assert menu.activeAction() is not None or menu.actions()  # keyboard-opened: an item is highlighted
    press(qtbot, letter)


def test_full_shift_by_keyboard_1024(qtbot: Any, shift_app: Any, keys: Any) -> None:
    from pos_app.core.services.cash import CashService

    ctx = shift_app.ctx
    check_window(shift_app.login, "turno-01-login")
    window = login(qtbot, shift_app, keys)  # Ana, cashier
    qtbot.waitExposed(window)
    assert window.status.cash.text() == "Caixa fechado"
    assert window.message.text().startswith("Caixa fechado")
    check_window(window, "turno-02-caixa-fechado", focus=False)

    # -- open the cash session: the manager's PIN once, then the amount field has the focus ------------
    manager_menu(qtbot, window, K.Key_A)  # C&aixa
    pin = modal(qtbot, "ManagerPinDialog")
    check_window(pin, "turno-03-pin-gerente")
    qtbot.waitUntil(lambda: pin.form.code.hasFocus(), timeout=3_000)
    press(qtbot, "9", K.Key_Return, "9999", K.Key_Return)
    cash = modal(qtbot, "CashDialog")
    qtbot.waitUntil(lambda: QApplication.focusWidget() is cash.float_edit, timeout=3_000)
    check_window(cash, "turno-04-abrir-caixa")
    press(qtbot, K.Key_Backspace, "150,00", K.Key_Return)  # Enter in "Fundo de troco" opens the session
    qtbot.waitUntil(lambda: not cash.busy and CashService(ctx).current() is not None, timeout=15_000)
    assert cash.tabs.currentIndex() == cash.tab_move  # not the Fechamento tab
    assert "confere" not in cash.total_diff.text()  # nothing was counted
    check_window(cash, "turno-05-caixa-aberto", focus=False)
    press(qtbot, K.Key_Escape)
    qtbot.waitUntil(lambda: window.code.hasFocus(), timeout=3_000)
    assert window.status.cash.text() == "Caixa aberto"
    assert not window.message.text().startswith("Caixa fechado")

    # -- sell: a typo in the quantity and in the cash are stopped --------------------------------------
    press(qtbot, "0,5*7892084107774", K.Key_Return)  # half a can of chocolate powder: sold by the unit
    assert window.cart.rowCount() == 0 and "fracionada" in window.message.text()
    press(qtbot, K.Key_Escape)
    qtbot.waitUntil(lambda: window.code.text() == "", timeout=3_000)
    press(
        qtbot, "2*7891102100377", K.Key_Return, "7892084107774", K.Key_Return, "7892084107774", K.Key_Return
    )
    assert window.cart.rowCount() == 3 and window.subtotals.text().startswith("3 itens")
    press(qtbot, K.Key_F8)  # remove the last chocolate powder: confirmed with Enter
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=3_000)
    press(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: window.cart.rowCount() == 2, timeout=3_000)
    assert window.last_item.full_text().endswith("ACHOCOLATADO EM PÓ NESCAU 370G")
    assert window.cart.sale.valor_total == Decimal("64.79")
    check_window(window, "turno-06-venda", focus=False)
    press(qtbot, K.Key_F10)
    pay = modal(qtbot, "PaymentDialog")
    press(qtbot, "1000", K.Key_Return)  # 1000 typed for R$ 64,79
    qtbot.waitUntil(lambda: pay.confirm_box is not None and pay.confirm_box.isVisible(), timeout=3_000)
    assert "R$ 935,21" in pay.confirm_box.text()
    check_window(pay.confirm_box, "turno-07-troco-alto", focus=False)
    press(qtbot, K.Key_Return)  # Enter = correct the amount
    qtbot.waitUntil(lambda: pay.confirm_box is None and pay.amount.hasFocus(), timeout=3_000)
    assert not window.cart.sale.payments
    press(qtbot, "100", K.Key_Return)
    qtbot.waitUntil(
        lambda: window.result_dialog is not None and window.result_dialog.isVisible(), timeout=30_000
    )
    result = window.last_result
    assert result.status == "autorizado" and result.troco == Decimal("35.21")
    check_window(window.result_dialog, "turno-08-nota-autorizada", focus=False)
    press(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: window.result_dialog is None and window.code.hasFocus(), timeout=5_000)

    # -- cancel the last note: pre-selected, manager session (no PIN again), confirmation step ---------
    manager_menu(qtbot, window, K.Key_C)  # &Cancelar NFC-e
    cancel = modal(qtbot, "CancelDialog")
    assert cancel.doc is not None and cancel.doc["ref"] == result.ref
    assert "Tempo para cancelar: 29:" in cancel.countdown.text() or "30:00" in cancel.countdown.text()
    qtbot.waitUntil(lambda: cancel.justificativa.hasFocus(), timeout=3_000)
    press(qtbot, "Cliente desistiu da compra no caixa")
    press(qtbot, K.Key_Tab)  # Tab leaves the justification (no tab character typed)
    assert "\t" not in cancel.justificativa.toPlainText()
    check_window(cancel, "turno-09-cancelar", focus=False)
    press(qtbot, K.Key_C, mod=ALT)  # &Cancelar NFC-e…
    box = modal(qtbot, "QMessageBox")
    check_window(box, "turno-10-confirmar-cancelamento", focus=False)
    press(qtbot, K.Key_S, mod=ALT)  # &Sim, cancelar a nota
    qtbot.waitUntil(lambda: cancel.outcome is not None and not cancel.busy, timeout=20_000)
    assert cancel.outcome.cancelled, cancel.message.text()
    check_window(cancel, "turno-11-cancelada", focus=False)
    press(qtbot, K.Key_Escape)
    qtbot.waitUntil(lambda: window.code.hasFocus(), timeout=3_000)

    # -- sangria ----------------------------------------------------------------------------------------
    manager_menu(qtbot, window, K.Key_A)
    cash = modal(qtbot, "CashDialog")
    assert cash.tabs.currentIndex() == cash.tab_move
    qtbot.waitUntil(lambda: cash.move_value.hasFocus(), timeout=3_000)
    press(qtbot, "30", K.Key_Return, "deposito no cofre", K.Key_Return)  # QTest types ASCII only
    qtbot.waitUntil(lambda: not cash.busy and "Sangria" in cash.message.text(), timeout=15_000)
    check_window(cash, "turno-12-sangria", focus=False)
    moves = ctx.store.database.query("SELECT kind, valor FROM cash_movements")
    assert [(m["kind"], m["valor"]) for m in moves if m["kind"] == "sangria"] == [
        ("sangria", "30.00")
    ]  # once

    # -- close the cash session: Ctrl+Tab to Fechamento, count, Tab out of the table, Enter --------------
    press(qtbot, K.Key_Tab, mod=CTRL)  # next tab: Fechamento
    qtbot.waitUntil(lambda: cash.tabs.currentIndex() == cash.tab_close, timeout=3_000)
    summary = cash.summary
    for forma, edit in cash.counted.items():
        assert edit.hasFocus(), forma
        press(qtbot, f"{summary.formas[forma].esperado:.2f}".replace(".", ","), K.Key_Return)
    assert "confere" in cash.total_diff.text()
    assert cash.obs.hasFocus()
    press(qtbot, K.Key_Tab)  # out of the observation box, on to "Fechar caixa"
    assert QApplication.focusWidget() is cash.close_button
    check_window(cash, "turno-13-fechamento", focus=False)
    press(qtbot, K.Key_Return)
    qtbot.waitUntil(lambda: not cash.busy and CashService(ctx).current() is None, timeout=15_000)
    check_window(cash, "turno-14-caixa-fechado", focus=False)
    press(qtbot, K.Key_Escape)
    qtbot.waitUntil(lambda: window.code.hasFocus(), timeout=3_000)
    assert window.status.cash.text() == "Caixa fechado"

    # -- reports ----------------------------------------------------------------------------------------
    manager_menu(qtbot, window, K.Key_R)
    reports = modal(qtbot, "ReportsDialog")
    qtbot.waitUntil(lambda: reports.kpis["vendas"].text() != "", timeout=10_000)
    check_window(reports, "turno-15-relatorios", focus=False)
    press(qtbot, K.Key_Escape)
    qtbot.waitUntil(lambda: window.code.hasFocus(), timeout=3_000)
