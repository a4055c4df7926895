"""PIX at the payment screen: dynamic QR paid from the Treinamento menu, cancelled then paid, static."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from pos_app.core.pix.brcode import decode
from pos_app.core.pix.service import pix_service
from pos_app.demo.pix import demo_psp
from pos_app.ui.pix_dialog import PixDynamicDialog, PixStaticDialog
from tests.ui.conftest import login

K = Qt.Key


def _to_payment(qtbot: Any, window: Any, keys: Any) -> Any:
    keys("7891102100377", K.Key_Return)  # arroz 27,90
    qtbot.waitUntil(lambda: window.cart.rowCount() == 1, timeout=3_000)
    keys(K.Key_F10)
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=3_000)
    return window.dialog


def test_dynamic_pix_paid_from_the_training_menu(qtbot: Any, controller: Any, keys: Any, shot: Any) -> None:
    window = login(qtbot, controller, keys)
    pay = _to_payment(qtbot, window, keys)
    keys(K.Key_F4)
    assert pay.kind.currentData() == "17" and pay.pix_hint.text() == ""
    keys(K.Key_Return)
    qtbot.waitUntil(lambda: isinstance(pay.pix_dialog, PixDynamicDialog), timeout=3_000)
    dialog = pay.pix_dialog
    qtbot.waitUntil(lambda: dialog.copia_e_cola != "", timeout=10_000)
    assert decode(dialog.copia_e_cola).dinamico
    assert dialog.amount_label.text() == "R$ 27,90" and dialog.countdown.text().startswith("Expira em 4:")
    assert not dialog.qr_label.pixmap().isNull()
    shot(dialog, "pix-01-qr-dinamico")
    assert window.isEnabled()  # never blocks the window: the wait runs in the worker pool
    message = window.training_menu.pay_pix()
    assert "PIX pago" in message
    qtbot.waitUntil(
        lambda: window.result_dialog is not None and window.result_dialog.isVisible(), timeout=30_000
    )
    result = window.last_result
    assert result.status == "autorizado"
    charge = pix_service(controller.ctx).by_txid(dialog.charge.txid)
    assert charge.status == "paga"
    doc = controller.ctx.store.documents.get(result.document_id)
    [pag] = json.loads(doc["payload"])["formas_pagamento"]
    assert pag["forma_pagamento"] == "17" and pag["tipo_integracao"] == "1"
    assert (
        pag["numero_autorizacao"] == charge.e2eid
        and pag["cnpj_credenciadora"] == pix_service(controller.ctx).cnpj_psp()
    )
    rdialog = window.result_dialog
    qtbot.waitUntil(lambda: rdialog.preview is not None and rdialog.preview.pages is not None, timeout=20_000)
    shot(rdialog, "pix-02-resultado")
    pix_service(controller.ctx).sync()
    assert pix_service(controller.ctx).get(charge.id).sale_id == result.sale_id  # linked by the endToEndId
    assert pix_service(controller.ctx).pending_refunds() == []


def test_dynamic_pix_cancelled_then_paid_is_offered_for_refund(
    qtbot: Any, controller: Any, keys: Any, shot: Any
) -> None:
    window = login(qtbot, controller, keys, code="9", pin="9999")  # the manager is at the counter
    pay = _to_payment(qtbot, window, keys)
    keys(K.Key_F4, K.Key_Return)
    qtbot.waitUntil(lambda: isinstance(pay.pix_dialog, PixDynamicDialog), timeout=3_000)
    dialog = pay.pix_dialog
    qtbot.waitUntil(lambda: dialog.copia_e_cola != "", timeout=10_000)
    txid = dialog.charge.txid
    qtbot.keyClick(dialog, K.Key_Escape)
    qtbot.waitUntil(lambda: pay.pix_dialog is None, timeout=10_000)
    assert window.cart.sale.payments == []
    psp = demo_psp(controller.ctx)
    assert psp.cobs[txid].status == "REMOVIDA_PELO_USUARIO_RECEBEDOR"
    late = psp.pay(txid)  # the customer's app had read the QR before the cancellation
    keys(K.Key_Escape)  # back to the sale
    window.findChild(QAction, "manager_pix_devolucoes").trigger()
    qtbot.waitUntil(lambda: getattr(window, "pix_refunds_dialog", None) is not None, timeout=5_000)
    refunds = window.pix_refunds_dialog
    qtbot.waitUntil(lambda: refunds.list.count() == 1, timeout=10_000)
    assert late["endToEndId"] in refunds.list.item(0).text() and "cancelamento" in refunds.list.item(0).text()
    shot(refunds, "pix-04-devolucao")
    qtbot.mouseClick(refunds.refund_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Devolução de R$ 27,90 feita" in refunds.status.text(), timeout=10_000)
    assert psp.devolucoes and pix_service(controller.ctx).pending_refunds() == []


def test_static_pix_confirmed_by_the_cashier(qtbot: Any, controller: Any, keys: Any, shot: Any) -> None:
    window = login(qtbot, controller, keys)
    pay = _to_payment(qtbot, window, keys)
    keys(K.Key_F4)
    pay.kind.setCurrentIndex(pay.kind.findData("20"))
    keys(K.Key_Return)
    qtbot.waitUntil(lambda: isinstance(pay.pix_dialog, PixStaticDialog), timeout=3_000)
    dialog = pay.pix_dialog
    code = decode(dialog.copia_e_cola)
    assert code.valor == Decimal("27.90") and not code.dinamico
    shot(dialog, "pix-03-qr-estatico")
    qtbot.keyClick(dialog, K.Key_Return)
    qtbot.waitUntil(
        lambda: window.result_dialog is not None and window.result_dialog.isVisible(), timeout=30_000
    )
    assert window.last_result.status == "autorizado"
    entry = controller.ctx.store.database.query_one(
        "SELECT * FROM audit_log WHERE action = 'pix_estatico_confirmado'"
    )
    assert entry["user_codigo"] == "1"


def test_offline_says_dynamic_pix_is_unavailable(qtbot: Any, controller: Any, keys: Any) -> None:
    window = login(qtbot, controller, keys)
    pay = _to_payment(qtbot, window, keys)
    controller.ctx.monitor.report(False)
    keys(K.Key_F4)
    assert pay.kind.currentData() == "20" and "PIX dinâmico indisponível" in pay.pix_hint.text()
    pay.kind.setCurrentIndex(pay.kind.findData("17"))
    keys(K.Key_Return)
    assert pay.pix_dialog is None and "indisponível" in pay.error.text()


def test_pix_without_any_pix_configuration_is_typed_by_hand(qtbot: Any, controller: Any, keys: Any) -> None:
    from pos_app.demo.pix import stop_demo_psp

    stop_demo_psp(controller.ctx)  # a store with no PSP and no key (the demo PSP answered for both)
    window = login(qtbot, controller, keys)
    pay = _to_payment(qtbot, window, keys)
    keys(K.Key_F4)
    assert pay.kind.currentData() == "20" and "não configurado" in pay.pix_hint.text()
    keys(K.Key_Return)
    qtbot.waitUntil(
        lambda: window.result_dialog is not None and window.result_dialog.isVisible(), timeout=30_000
    )
    result = window.last_result
    assert result.status == "autorizado"
    doc = controller.ctx.store.documents.get(result.document_id)
    assert [p["forma_pagamento"] for p in json.loads(doc["payload"])["formas_pagamento"]] == ["20"]


def test_psp_down_says_so_and_static_still_works(qtbot: Any, controller: Any, keys: Any) -> None:
    window = login(qtbot, controller, keys)
    pay = _to_payment(qtbot, window, keys)
    demo_psp(controller.ctx).unavailable = True  # the PSP answers 503 to everything
    keys(K.Key_F4, K.Key_Return)
    qtbot.waitUntil(lambda: isinstance(pay.pix_dialog, PixDynamicDialog), timeout=3_000)
    dialog = pay.pix_dialog
    qtbot.waitUntil(lambda: "PIX dinâmico indisponível" in dialog.qr_label.text(), timeout=10_000)
    assert "PIX estático" in dialog.status.text()
    qtbot.keyClick(dialog, K.Key_Escape)
    qtbot.waitUntil(lambda: pay.pix_dialog is None, timeout=5_000)
    pay.kind.setCurrentIndex(pay.kind.findData("20"))
    keys(K.Key_Return)
    qtbot.waitUntil(lambda: isinstance(pay.pix_dialog, PixStaticDialog), timeout=3_000)
    qtbot.keyClick(pay.pix_dialog, K.Key_Return)
    qtbot.waitUntil(
        lambda: window.result_dialog is not None and window.result_dialog.isVisible(), timeout=30_000
    )
    assert window.last_result.status == "autorizado"
