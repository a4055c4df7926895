"""Code field syntax, scale labels, the worker helper and the cart's cost per scan."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication

from pos_app.core.domain.money import to_money
from pos_app.core.domain.scale import ScaleRule, decode_scale_label
from pos_app.core.domain.validators import gtin_check_digit
from pos_app.ui.scan import ScanError, resolve, split_entry
from pos_app.ui.worker import run_in_worker
from tests.ui.conftest import login

K = Qt.Key


def label(body12: str) -> str:
    return body12 + str(gtin_check_digit(body12))


def test_quantity_prefix() -> None:
    assert split_entry("3*7891102100377") == (Decimal(3), "7891102100377")
    assert split_entry(" 1,5 * 1017 ") == (Decimal("1.5"), "1017")
    assert split_entry("7891102100377") == (None, "7891102100377")
    for bad in ("0*1001", "x*1001", "3*", "1,23456*1001"):
        with pytest.raises(ScanError):
            split_entry(bad)


def test_scale_label_price_and_weight(ctx: Any) -> None:
    products = ctx.store.products
    price = label("200101701234")  # pão francês (1017, R$ 16,90/kg), R$ 12,34 on the label
    found = resolve(products, price, ScaleRule("preco", 6))
    assert found.product.codigo == "1017" and found.from_scale
    assert to_money(found.quantidade * found.valor_unitario) == Decimal("12.34")
    assert found.quantidade == Decimal("0.7302")
    weight = label("200101700750")  # 0,750 kg
    found = resolve(products, weight, ScaleRule("peso", 6))
    assert (found.quantidade, found.valor_unitario) == (Decimal("0.750"), Decimal("16.90"))
    four = label("210170001234")  # 4-digit code layout: 2 1017 00 01234 D
    assert decode_scale_label(four, ScaleRule("preco", 4)).product_code == "1017"
    with pytest.raises(ScanError, match="dígito verificador"):
        resolve(products, price[:-1] + str((int(price[-1]) + 1) % 10), ScaleRule())
    with pytest.raises(ScanError, match="não cadastrado"):
        resolve(products, label("299999001000"), ScaleRule())
    with pytest.raises(ScanError, match="Produto não encontrado"):
        resolve(products, "123456", ScaleRule())


def test_scanning_a_scale_label_in_the_window(qtbot: Any, controller: Any, keys: Any) -> None:
    window = login(qtbot, controller, keys)
    keys(label("200101701234"), K.Key_Return)
    assert window.cart.rowCount() == 1
    assert window.total_label.text() == "R$ 12,34"
    keys("9999999", K.Key_Return)
    assert "Produto não encontrado: 9999999" in window.message.text()
    assert window.code.text() == "9999999" and window.code.selectedText() == "9999999"  # easy to retype


def test_worker_calls_back_on_the_gui_thread(qtbot: Any) -> None:
    gui = QThread.currentThread()
    seen: dict[str, Any] = {}

    def job(x: int, progress: Any) -> int:
        seen["worker_thread"] = threading.current_thread().name
        progress("metade")
        return x * 2

    def on_progress(value: Any) -> None:
        seen["progress"] = (value, QThread.currentThread() is gui)

    def on_result(value: Any) -> None:
        seen["result"] = (value, QThread.currentThread() is gui)

    task = run_in_worker(job, 21, on_result=on_result, on_progress=on_progress)
    qtbot.waitUntil(lambda: task.done, timeout=5_000)
    assert seen["result"] == (42, True) and seen["progress"] == ("metade", True)
    assert seen["worker_thread"] != threading.main_thread().name

    errors: list[tuple[str, bool]] = []

    def boom() -> None:
        raise ValueError("falhou")

    task = run_in_worker(boom, on_error=lambda e: errors.append((str(e), QThread.currentThread() is gui)))
    qtbot.waitUntil(lambda: task.done, timeout=5_000)
    assert errors == [("falhou", True)]


def test_item_added_to_100_line_cart_quickly(qtbot: Any, controller: Any, keys: Any) -> None:
    """The bench measures the real figure (startup_probe); this guards against an O(n²) regression."""
    window = login(qtbot, controller, keys)
    codes = [p.ean or p.codigo for p in controller.ctx.store.products.all() if p.unidade != "KG"]
    for i in range(100):
        window.code.setText(codes[i % len(codes)])
        window.handle_code_entered()
    QApplication.processEvents()
    timings = []
    for i in range(10):
        window.code.setText(codes[i])
        window.handle_code_entered()
        timings.append(window.last_add_ms)
    assert window.cart.rowCount() == 110
    assert sorted(timings)[5] < 16, timings
