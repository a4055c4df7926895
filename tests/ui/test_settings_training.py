"""Settings (validated as typed, secrets never shown) and the "Treinamento" menu."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from pos_app.core.domain.validators import format_cnpj
from pos_app.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import login

K = Qt.Key


def open_settings(qtbot: Any, window: Any) -> SettingsDialog:
    window.findChild(QAction, "manager_configuracoes").trigger()  # a manager operator: no PIN prompt
    qtbot.waitUntil(
        lambda: isinstance(window.dialog, SettingsDialog) and window.dialog.isVisible(), timeout=3_000
    )
    return window.dialog


def test_settings_validate_as_typed_and_keep_secrets_hidden(
    qtbot: Any, controller: Any, keys: Any, shot: Any
) -> None:
    window = login(qtbot, controller, keys, "9", "9999")
    ctx = controller.ctx
    ctx.config.set("focus.token", "segredo-do-token-123")
    dialog = open_settings(qtbot, window)
    dialog.tabs.setCurrentIndex(3)  # certificate: holder and validity of the demo A1
    qtbot.waitUntil(lambda: "Titular" in dialog.cert_info.text(), timeout=10_000)
    assert "Válido até" in dialog.cert_info.text() and "MERCADINHO" in dialog.cert_info.text()
    shot(dialog, "09-configuracoes-certificado")
    dialog.tabs.setCurrentIndex(0)
    cnpj = dialog.inputs["emitente.cnpj"]
    stored = ctx.config.get("emitente.cnpj")
    assert stored and stored.isalnum()
    assert cnpj.text() == format_cnpj(stored) and "/" in cnpj.text()  # shown with its mask
    assert "emitente.cnpj" not in dialog.changes()  # the mask is not a change
    cnpj.selectAll()
    qtbot.keyClicks(cnpj, "11.222.333/0001-00")
    assert dialog.errors["emitente.cnpj"].text() == "CNPJ inválido: 11.222.333/0001-00"
    assert not dialog.save_button.isEnabled()
    assert "Corrija o campo marcado em vermelho" in dialog.summary.text()
    shot(dialog, "08-configuracoes-erro")
    cnpj.selectAll()
    qtbot.keyClicks(cnpj, "11.222.333/0001-81")
    assert dialog.errors["emitente.cnpj"].text() == "" and dialog.save_button.isEnabled()

    token = dialog.inputs["focus.token"]
    assert token.text() == "" and "definido" in token.placeholderText()  # never displayed back

    dialog.tabs.setCurrentIndex(2)
    limit = dialog.inputs["venda.desconto_maximo_percentual"]
    limit.selectAll()
    qtbot.keyClicks(limit, "150")
    assert "entre 0 e 100" in dialog.errors["venda.desconto_maximo_percentual"].text()
    limit.selectAll()
    qtbot.keyClicks(limit, "15")
    qtbot.keyClick(limit, K.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3_000)
    assert ctx.config.get("venda.desconto_maximo_percentual") == "15"
    assert ctx.config.get("emitente.cnpj") == "11222333000181"
    assert ctx.config.get("focus.token") == "segredo-do-token-123"  # untouched
    assert window.max_discount == Decimal(15)


def test_certificate_absent_is_warned(qtbot: Any, controller: Any, keys: Any) -> None:
    window = login(qtbot, controller, keys, "9", "9999")
    controller.ctx.config.unset("certificado.arquivo")
    dialog = open_settings(qtbot, window)
    qtbot.waitUntil(lambda: "Nenhum certificado" in dialog.cert_info.text(), timeout=10_000)


def test_training_menu_simulates_internet_down_and_restores(qtbot: Any, controller: Any, keys: Any) -> None:
    window = login(qtbot, controller, keys)
    sandbox = controller.ctx.sandbox
    qtbot.waitUntil(lambda: "Online" in window.status.link.text(), timeout=10_000)
    window.training_menu.scenario_actions["internet"].trigger()
    assert sandbox.faults.is_active("unreachable")
    qtbot.waitUntil(lambda: "Offline" in window.status.link.text(), timeout=10_000)
    assert "TREINO: sem internet" in window.status.training.text()
    window.training_menu.scenario_actions["sefaz"].trigger()
    assert sandbox.faults.is_active("sefaz_down")
    window.training_menu.restore_action.trigger()
    assert not sandbox.faults.active()
    assert not any(a.isChecked() for a in window.training_menu.scenario_actions.values())
    qtbot.waitUntil(lambda: "Online" in window.status.link.text(), timeout=10_000)
    assert not window.status.training.isVisible()


def test_reprint_last_note_shows_the_receipt_again(qtbot: Any, controller: Any, keys: Any) -> None:
    from decimal import Decimal as D

    from pos_app.core.domain.payments import Payment
    from pos_app.core.domain.sale import Sale
    from pos_app.core.services.cash import CashService
    from pos_app.core.services.emission import EmissionService

    window = login(qtbot, controller, keys, "9", "9999")
    ctx = controller.ctx
    sale = Sale()
    sale.add_item(ctx.store.products.lookup("1001"), D(1))
    sale.add_payment(Payment("01", D("30.00")))
    done = EmissionService(ctx).checkout(sale, extra=CashService(ctx).sale_extra())
    window.findChild(QAction, "manager_reimprimir").trigger()
    qtbot.waitUntil(
        lambda: window.dialog is not None and window.dialog.windowTitle() == "Reimpressão", timeout=10_000
    )
    dialog = window.dialog
    assert dialog.sale_result.document_id == done.document_id
    qtbot.waitUntil(lambda: dialog.preview.pages is not None, timeout=20_000)
    qtbot.waitUntil(lambda: dialog.print_label.text() not in ("", "Imprimindo…"), timeout=10_000)
