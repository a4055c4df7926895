"""Sale window and NF-e model 55: typing a CNPJ shows which document the sale gets, an unknown buyer
opens the customer dialog (typed once, kept), then the payment; the sale ends as an authorized NF-e.
A CPF keeps the NFC-e label."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from pos_app.ui.customer_dialog import CustomerDialog
from tests.ui.conftest import login

K = Qt.Key


def test_cnpj_buyer_gets_customer_dialog_label_and_an_nfe(
    qtbot: Any, controller: Any, keys: Any, shot: Any
) -> None:
    window = login(qtbot, controller, keys)
    assert "NFC-e modelo 65" in window.document_model.full_text()
    keys("7891102100377", K.Key_Return, K.Key_F5)
    keys("529.982.247-25")
    assert "NFC-e modelo 65" in window.document_model.full_text()
    window.document.clear()
    keys("12.abc.345/01de-35")
    assert "NF-e modelo 55" in window.document_model.full_text()
    keys(K.Key_Return, K.Key_F10)
    qtbot.waitUntil(
        lambda: isinstance(window.dialog, CustomerDialog) and window.dialog.isVisible(), timeout=3_000
    )
    dialog = window.dialog
    shot(window, "nfe-01-venda-cnpj")
    dialog.save_button.click()  # empty: refused, says what is missing
    assert "razão social" in dialog.error.text() and dialog.isVisible()
    values = {
        "nome": "RESTAURANTE BOA MESA LTDA",
        "logradouro": "Rua das Flores",
        "numero": "100",
        "bairro": "Centro",
        "municipio": "Curitiba",
        "codigo_municipio": "4106902",
        "uf": "PR",
        "cep": "80010-000",
        "inscricao_estadual": "9044016688",
    }
    for name, value in values.items():
        dialog.inputs[name].setText(value)
    dialog.save_button.click()
    qtbot.waitUntil(
        lambda: window.dialog is not None and window.dialog is not dialog and window.dialog.isVisible(),
        timeout=3_000,
    )
    saved = controller.ctx.store.clientes.get("12ABC34501DE35")
    assert saved is not None and saved.inscricao_estadual == "9044016688" and saved.cep == "80010000"
    assert "RESTAURANTE BOA MESA LTDA" in window.document_model.full_text()
    shot(dialog, "nfe-02-cliente")
    keys("30", K.Key_Return)  # dinheiro
    qtbot.waitUntil(
        lambda: window.result_dialog is not None and window.result_dialog.isVisible(), timeout=30_000
    )
    result = window.last_result
    assert result.modelo == 55 and result.status == "autorizado" and result.chave[20:22] == "55"
