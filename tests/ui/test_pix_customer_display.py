"""The customer display shows the PIX QR large while it can be paid, then goes back to the cart."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from pos_app.demo.pix import demo_psp  # noqa: E402
from pos_app.ui.customer_display import CustomerDisplay  # noqa: E402
from pos_app.ui.pix_dialog import PixDynamicDialog, PixStaticDialog  # noqa: E402
from tests.ui.conftest import login  # noqa: E402
from tests.ui.screen_checks import save_shot  # noqa: E402

K = Qt.Key


def _pix_at_the_counter(qtbot: Any, controller: Any, keys: Any, forma: str = "17") -> tuple[Any, Any, Any]:
    controller.ctx.config.set("tela.cliente", "sim")
    window = login(qtbot, controller, keys)
    display = window.customer_display
    assert isinstance(display, CustomerDisplay) and not display.showing_pix()
    display.resize(1024, 768)  # the test screen has one monitor: the widget the display would show
    keys("7891102100377", K.Key_Return)  # arroz 27,90
    qtbot.waitUntil(lambda: window.cart.rowCount() == 1, timeout=3_000)
    keys(K.Key_F10)
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=3_000)
    pay = window.dialog
    keys(K.Key_F4)
    if forma == "20":
        pay.kind.setCurrentIndex(pay.kind.findData("20"))
    keys(K.Key_Return)
    kind = PixDynamicDialog if forma == "17" else PixStaticDialog
    qtbot.waitUntil(lambda: isinstance(pay.pix_dialog, kind), timeout=3_000)
    dialog = pay.pix_dialog
    qtbot.waitUntil(lambda: dialog.copia_e_cola != "", timeout=10_000)
    return window, display, dialog


def test_dynamic_pix_qr_on_the_customer_display_until_paid(
    qtbot: Any, controller: Any, keys: Any, tmp_path: Any
) -> None:
    window, display, dialog = _pix_at_the_counter(qtbot, controller, keys)
    assert display.showing_pix() and display.pix_code == dialog.copia_e_cola
    assert display.pix_amount.text() == "R$ 27,90"
    assert display.pix_countdown.text().startswith("Expira em 4:")
    first = display.pix_countdown.text()
    qtbot.waitUntil(lambda: display.pix_countdown.text() != first, timeout=3_000)  # it counts down
    qr = display.pix_qr.pixmap()
    assert not qr.isNull() and qr.width() >= 400  # large: 60% of a 768 px screen's height
    path = save_shot(display, "tela-cliente-pix")
    if shutil.which("zbarimg"):
        out = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True).stdout
        assert out.splitlines() == [dialog.copia_e_cola]  # the customer's phone reads the charge
    assert "PIX pago" in window.training_menu.pay_pix()
    qtbot.waitUntil(
        lambda: window.result_dialog is not None and window.result_dialog.isVisible(), timeout=30_000
    )
    assert not display.showing_pix() and display.pix_code == "" and display.pix_qr.pixmap().isNull()
    assert display.count.text() == "Obrigado pela preferência!"  # the cart view, after the sale
    assert not display._pix_timer.isActive()


def test_cancelled_or_expired_charge_takes_the_qr_off_the_customer_display(
    qtbot: Any, controller: Any, keys: Any
) -> None:
    window, display, dialog = _pix_at_the_counter(qtbot, controller, keys)
    pay = window.dialog
    qtbot.keyClick(dialog, K.Key_Escape)  # the cashier cancels the charge
    assert not display.showing_pix()  # at once, not when the PSP answers the PATCH
    qtbot.waitUntil(lambda: pay.pix_dialog is None, timeout=10_000)
    assert display.items.count() == 1 and display.total.text() == "Total R$ 27,90"  # the cart is back
    # a new charge, left to expire at the PSP
    keys(K.Key_F4, K.Key_Return)
    qtbot.waitUntil(lambda: isinstance(pay.pix_dialog, PixDynamicDialog), timeout=3_000)
    dialog = pay.pix_dialog
    qtbot.waitUntil(lambda: dialog.copia_e_cola != "" and display.showing_pix(), timeout=10_000)
    demo_psp(controller.ctx).expire(dialog.charge.txid)
    qtbot.waitUntil(lambda: dialog.charge.status == "expirada", timeout=15_000)
    assert not display.showing_pix() and "expirou" in dialog.status.text()


def test_static_pix_qr_on_the_customer_display(qtbot: Any, controller: Any, keys: Any) -> None:
    window, display, dialog = _pix_at_the_counter(qtbot, controller, keys, forma="20")
    assert display.showing_pix() and display.pix_code == dialog.copia_e_cola
    assert display.pix_countdown.text() == ""  # a static QR does not expire
    qtbot.keyClick(dialog, K.Key_Return)  # the cashier saw the Pix arrive
    qtbot.waitUntil(
        lambda: window.result_dialog is not None and window.result_dialog.isVisible(), timeout=30_000
    )
    assert not display.showing_pix()
