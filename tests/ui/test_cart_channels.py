"""One cart service: the same cart rung up at the window and with ``pos-app sell`` sends the same
NFC-e request (items, discount apportioned, payments)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import login

K = Qt.Key

# Fields that differ between two notes of the same cart by nature (the moment of issue).
PER_NOTE = {"data_emissao"}


def _stored_request(ctx: Any, doc_id: int) -> dict[str, Any]:
    doc = ctx.store.documents.get(doc_id)
    assert doc is not None
    payload = json.loads(doc["payload"])
    return {k: v for k, v in payload.items() if k not in PER_NOTE}


def test_window_and_cli_send_the_same_request_for_the_same_cart(
    qtbot: Any, controller: Any, keys: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    window = login(qtbot, controller, keys)
    keys("3*7891102100377", K.Key_Return)  # arroz 27,90 x 3 (QTY*CODE, the window's form)
    keys("2*1002", K.Key_Return)  # feijão by its code
    qtbot.waitUntil(lambda: window.cart.rowCount() == 2, timeout=3_000)
    keys(K.Key_F4)  # sale discount: 5 % is within the cashier's limit (10 %)
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=3_000)
    keys("5%", K.Key_Return)
    qtbot.waitUntil(lambda: window.cart.sale.valor_desconto > 0, timeout=3_000)
    assert window.cart.sale.valor_desconto == Decimal("5.03")  # 5 % of 100,68
    keys(K.Key_F10)
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=3_000)
    keys(K.Key_F2, "20", K.Key_Return, K.Key_Down, K.Key_Return)  # crédito 20,00 Visa
    keys("150", K.Key_Return)  # dinheiro, with troco
    qtbot.waitUntil(
        lambda: window.result_dialog is not None and window.result_dialog.isVisible(), timeout=30_000
    )
    from_window = window.last_result
    assert from_window.emitido

    from pos_app.cli import main

    code = main(
        [
            "sell",
            "--item",
            "3*7891102100377",
            "--item",
            "2*1002",
            "--desconto",
            "5%",
            "--pay",
            "credito:20:visa",
            "--pay",
            "dinheiro:150",
            "--operador",
            "1",
            "--json",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    from_cli = json.loads(out.out)
    assert "obsoleta" not in out.err  # the window's form is the CLI's form

    ctx = controller.ctx
    window_request = _stored_request(ctx, from_window.document_id)
    cli_doc = ctx.store.documents.by_ref(from_cli["ref"])
    cli_request = _stored_request(ctx, int(cli_doc["id"]))
    assert window_request == cli_request
    assert window_request["valor_desconto"] == "5.03" and len(window_request["items"]) == 2
    assert [p["forma_pagamento"] for p in window_request["formas_pagamento"]] == ["03", "01"]


def test_cli_discount_above_the_cashiers_limit_needs_a_manager(
    ctx: Any, cash_open: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    from pos_app.cli import main

    base = ["sell", "--item", "7891102100377*2", "--pay", "dinheiro:100", "--json"]
    code = main([*base, "--desconto", "20%"])
    out = capsys.readouterr()
    assert code == 2
    assert "limite de 10% para o caixa" in json.loads(out.out)["erro"]
    assert "obsoleta" in out.err  # the old CODE*QTY form still works, with a notice
    assert ctx.store.sales.count() == 0

    assert main([*base, "--desconto", "20%", "--pin-gerente", "1111"]) == 2  # a cashier's PIN is not enough
    capsys.readouterr()
    assert main([*base, "--desconto", "20%", "--pin-gerente", "9999"]) == 0
    sold = json.loads(capsys.readouterr().out)
    payload = json.loads(ctx.store.documents.by_ref(sold["ref"])["payload"])
    assert payload["valor_desconto"] == "11.16"  # 20 % of 55,80
