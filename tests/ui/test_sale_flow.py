"""The cashier at work, by keyboard only: login, scan, quantity, search, two payments, the note."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import login

K = Qt.Key


def ring_up_and_pay(qtbot: Any, window: Any, keys: Any, shot: Any | None = None) -> None:
    """Scan 3 × arroz, 2 × feijão (F3), café by F2 search; pay crédito 20,00 + dinheiro 100,00."""
    keys("3*7891102100377", K.Key_Return)  # arroz 27,90 × 3
    keys("2", K.Key_F3)  # quantity for the next item
    assert window.pending_quantity == Decimal(2)
    keys("7891245100746", K.Key_Return)  # feijão 8,49 × 2
    keys(K.Key_F2)
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=3_000)
    keys("caf pil")
    qtbot.waitUntil(lambda: window.dialog.model.rowCount() >= 1, timeout=3_000)
    keys(K.Key_Return)
    qtbot.waitUntil(lambda: window.cart.rowCount() == 3 and window.code.hasFocus(), timeout=3_000)
    sale = window.cart.sale
    assert [(i.product.codigo, i.quantidade) for i in sale.items] == [
        ("1001", Decimal(3)),
        ("1002", Decimal(2)),
        ("1005", Decimal(1)),
    ]
    assert sale.valor_total == Decimal("120.58")
    assert window.total_label.text() == "R$ 120,58"
    if shot:
        shot(window, "02-venda")

    keys(K.Key_F10)
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=3_000)
    pay = window.dialog
    assert pay.remaining_label.text() == "R$ 120,58"
    keys(K.Key_F2)  # crédito
    keys("20", K.Key_Return)  # typed over the selected remaining amount
    assert "bandeira" in pay.error.text()  # card needs its brand: focus went to the brand list
    if shot:
        shot(pay, "03a-pagamento-cartao")
    keys(K.Key_Down, K.Key_Return)  # Visa
    assert [(p.forma, p.valor, p.bandeira) for p in sale.payments] == [("03", Decimal("20.00"), "01")]
    assert pay.remaining_label.text() == "R$ 100,58"
    if shot:
        shot(pay, "03-pagamento")
    keys("150", K.Key_Return)  # dinheiro (default method), troco 49,42


def test_full_sale_by_keyboard_ends_authorized(qtbot: Any, controller: Any, keys: Any, shot: Any) -> None:
    shot(controller.login, "01-login")
    window = login(qtbot, controller, keys)
    assert window.status.operator.text() == "Operador: Ana (caixa)"
    ring_up_and_pay(qtbot, window, keys, shot)
    qtbot.waitUntil(
        lambda: window.result_dialog is not None and window.result_dialog.isVisible(), timeout=30_000
    )
    result = window.last_result
    assert result.status == "autorizado" and result.emitido and not result.contingencia
    assert result.troco == Decimal("49.42")
    dialog = window.result_dialog
    assert dialog.kind == "autorizada"
    qtbot.waitUntil(lambda: dialog.preview is not None and dialog.preview.pages is not None, timeout=20_000)
    shot(dialog, "04-resultado-autorizada")
    sale_row = controller.ctx.store.database.query_one(
        "SELECT operador_id, cash_session_id FROM sales WHERE id = ?", [result.sale_id]
    )
    ana = controller.ctx.store.users.by_code("1")
    assert sale_row["operador_id"] == ana.id and sale_row["cash_session_id"] is not None
    keys(K.Key_Return)  # "Nova venda"
    qtbot.waitUntil(lambda: window.result_dialog is None and window.code.hasFocus(), timeout=3_000)
    assert window.cart.rowCount() == 0 and window.total_label.text() == "R$ 0,00"


def test_sale_with_api_unreachable_ends_in_contingency(
    qtbot: Any, controller: Any, keys: Any, shot: Any
) -> None:
    window = login(qtbot, controller, keys)
    controller.ctx.sandbox.faults.set("unreachable")
    ring_up_and_pay(qtbot, window, keys)
    qtbot.waitUntil(
        lambda: window.result_dialog is not None and window.result_dialog.isVisible(), timeout=30_000
    )
    result = window.last_result
    assert result.emitido and result.contingencia and result.status == "contingencia_pendente"
    dialog = window.result_dialog
    assert dialog.kind == "contingencia"
    assert dialog.findChild(type(dialog.print_label), "resultHeadline").text() == (
        "Emitida em contingência — será transmitida automaticamente"
    )
    qtbot.waitUntil(lambda: dialog.preview.pages is not None, timeout=20_000)
    shot(dialog, "05-resultado-contingencia")
    keys(K.Key_Return)
    # The status bar counts the note waiting for transmission.
    qtbot.waitUntil(lambda: "Contingência: 1 pendente" in window.status.backlog.text(), timeout=10_000)
    qtbot.waitUntil(lambda: "Offline" in window.status.link.text(), timeout=10_000)
    shot(window, "06-venda-status-contingencia")
    # The link comes back: the background replay transmits the note by itself.
    controller.ctx.sandbox.faults.clear()
    qtbot.waitUntil(
        lambda: controller.ctx.store.documents.get(result.document_id)["status"] == "autorizado",
        timeout=20_000,
    )
    qtbot.waitUntil(lambda: "em dia" in window.status.backlog.text(), timeout=10_000)
    assert "Online" in window.status.link.text()


def test_ui_keeps_processing_events_while_api_is_slow(qtbot: Any, controller: Any, keys: Any) -> None:
    window = login(qtbot, controller, keys)
    controller.ctx.sandbox.faults.set("slow", seconds=5, methods=["POST"])
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    seconds_seen: list[str] = []
    ring_up_and_pay(qtbot, window, keys)
    assert window.progress_dialog is not None
    progress = window.progress_dialog

    def watch() -> bool:
        seconds_seen.append(progress.seconds.text())
        return window.result_dialog is not None

    ticks.clear()
    qtbot.waitUntil(watch, timeout=30_000)
    timer.stop()
    assert window.last_result.status == "autorizado"
    # ~5 s waited with a 50 ms timer: the event loop never stalled.
    assert len(ticks) >= 40, len(ticks)
    assert any(s in seconds_seen for s in ("Aguardando há 3 s", "Aguardando há 4 s"))
    assert QApplication.activeModalWidget() is window.result_dialog or window.result_dialog.isVisible()


def test_sefaz_rejection_shows_code_message_and_what_to_fix(
    qtbot: Any, controller: Any, keys: Any, shot: Any
) -> None:
    window = login(qtbot, controller, keys)
    controller.ctx.sandbox.faults.reject_ref("1", "778", "Rejeicao: Informado NCM inexistente [nItem:2]")
    ring_up_and_pay(qtbot, window, keys)
    qtbot.waitUntil(
        lambda: window.result_dialog is not None and window.result_dialog.isVisible(), timeout=30_000
    )
    dialog = window.result_dialog
    assert dialog.kind == "recusada" and not window.last_result.emitido
    sefaz = dialog.findChild(type(dialog.print_label), "sefazMessage").text()
    todo = dialog.findChild(type(dialog.print_label), "whatToFix").text()
    assert sefaz == "SEFAZ 778: Rejeicao: Informado NCM inexistente [nItem:2]"
    assert "corrija o NCM no cadastro do produto" in todo and "item 2 da venda" in todo
    shot(dialog, "10-resultado-rejeitada")


def test_cpf_validated_as_typed_remove_item_and_cancel_sale(qtbot: Any, controller: Any, keys: Any) -> None:
    window = login(qtbot, controller, keys)
    keys("7891102100377", K.Key_Return, "7891245100746", K.Key_Return)
    keys(K.Key_F5)
    assert window.document.hasFocus()
    keys("111.444.777-3")
    assert window.document_status.text().startswith("Digitando")
    keys("4")
    assert window.document_status.text() == "CPF inválido: confira os dígitos."
    keys(K.Key_Backspace, "5", K.Key_Return)
    assert window.document_status.text() == "CPF válido" and window.code.hasFocus()
    assert window.consumer_document() == ("11144477735", None)
    keys(K.Key_Up, K.Key_F8)  # select item 1, remove it (confirmation: Enter)
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=3_000)
    assert "ARROZ" in window.dialog.text()
    keys(K.Key_Return)
    qtbot.waitUntil(lambda: window.cart.rowCount() == 1 and window.code.hasFocus(), timeout=3_000)
    assert window.cart.sale.items[0].product.codigo == "1002"
    keys(K.Key_Escape)  # cancel the sale: Esc again keeps selling
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=3_000)
    keys(K.Key_Escape)
    qtbot.waitUntil(lambda: window.code.hasFocus(), timeout=3_000)
    assert window.cart.rowCount() == 1
    keys(K.Key_Escape)
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=3_000)
    keys(K.Key_Return)
    qtbot.waitUntil(lambda: window.cart.rowCount() == 0 and window.code.hasFocus(), timeout=3_000)
    assert window.document.text() == "" and window.message.text() == "Venda cancelada."
