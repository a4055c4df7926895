"""Closing the payment screen (or losing the PIX dialog) stops the polling and removes the charge."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from pos_app.core.pix.service import pix_service  # noqa: E402
from pos_app.demo.pix import demo_psp  # noqa: E402
from pos_app.ui.pix_dialog import PixDynamicDialog  # noqa: E402
from tests.ui.conftest import login  # noqa: E402

K = Qt.Key


def _open_pix(qtbot: Any, controller: Any, keys: Any) -> tuple[Any, Any, Any]:
    window = login(qtbot, controller, keys)
    keys("7891102100377", K.Key_Return)
    qtbot.waitUntil(lambda: window.cart.rowCount() == 1, timeout=3_000)
    keys(K.Key_F10)
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=3_000)
    pay = window.dialog
    keys(K.Key_F4, K.Key_Return)
    qtbot.waitUntil(lambda: isinstance(pay.pix_dialog, PixDynamicDialog), timeout=3_000)
    dialog = pay.pix_dialog
    qtbot.waitUntil(lambda: dialog.copia_e_cola != "", timeout=10_000)
    svc = pix_service(controller.ctx)
    qtbot.waitUntil(lambda: svc.active_waits() == 1, timeout=5_000)
    return window, pay, dialog


def _cob_gets(psp: Any, txid: str) -> int:
    return sum(1 for m, p in psp.requests if m == "GET" and p == f"/cob/{txid}")


def _still_for(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.05)


def test_payment_screen_closed_under_the_qr_stops_polling_and_removes_the_charge(
    qtbot: Any, controller: Any, keys: Any
) -> None:
    window, pay, dialog = _open_pix(qtbot, controller, keys)
    psp, svc = demo_psp(controller.ctx), pix_service(controller.ctx)
    txid = dialog.charge.txid
    pay.reject()  # e.g. the window locked or the sale abandoned with the QR still open
    assert not dialog.isVisible() and dialog._stop.is_set()
    qtbot.waitUntil(lambda: svc.active_waits() == 0, timeout=5_000)
    qtbot.waitUntil(lambda: psp.cobs[txid].status == "REMOVIDA_PELO_USUARIO_RECEBEDOR", timeout=5_000)
    seen = _cob_gets(psp, txid)
    _still_for(3.5)  # longer than the 3 s polling interval
    assert _cob_gets(psp, txid) <= seen + 1  # at most the GET of a pass already under way
    assert svc.by_txid(txid).status == "cancelada"


def test_pix_dialog_deleted_with_its_parent_stops_its_wait(qtbot: Any, controller: Any, keys: Any) -> None:
    window, pay, dialog = _open_pix(qtbot, controller, keys)
    svc = pix_service(controller.ctx)
    stop = dialog._stop
    dialog.deleteLater()  # no done(), no closeEvent: only destroyed
    qtbot.waitUntil(lambda: stop.is_set(), timeout=3_000)
    qtbot.waitUntil(lambda: svc.active_waits() == 0, timeout=5_000)


def test_quitting_the_program_ends_every_pix_wait(qtbot: Any, controller: Any, keys: Any) -> None:
    window, pay, dialog = _open_pix(qtbot, controller, keys)
    svc = pix_service(controller.ctx)
    svc.stop_waits()  # what AppController.shutdown does before waiting for the workers
    qtbot.waitUntil(lambda: svc.active_waits() == 0, timeout=5_000)
