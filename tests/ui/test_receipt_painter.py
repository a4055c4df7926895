"""The receipt preview is painted from the layout model with the bundled font (no pdftoppm)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QColor  # noqa: E402

from pos_app.core.domain.payments import Payment  # noqa: E402
from pos_app.core.domain.sale import Sale  # noqa: E402
from pos_app.core.services.emission import EmissionService  # noqa: E402
from tests.ui.screen_checks import ARTIFACTS  # noqa: E402


def test_preview_painted_from_layout(qtbot: Any, demo_ctx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from pos_app.ui.receipt_painter import ReceiptPainter, receipt_family
    from pos_app.ui.receipt_preview import ReceiptPreview, render_preview

    monkeypatch.setattr(shutil, "which", lambda _name: None)  # as on a Windows terminal: no pdftoppm
    sale = Sale()
    sale.add_item(demo_ctx.store.products.lookup("7891102100377"), Decimal(2))
    sale.add_item(demo_ctx.store.products.lookup("1029"), Decimal("0.755"))
    sale.add_payment(Payment("01", Decimal("100.00")))
    result = EmissionService(demo_ctx).checkout(sale)
    pages = render_preview(demo_ctx, result.document_id)
    assert pages.layouts and "ARROZ TIPO 1" in (pages.text or "")
    assert receipt_family() == "DejaVu Sans Mono"  # the bundled font: same drawing on every system
    preview = ReceiptPreview()
    qtbot.addWidget(preview)
    preview.show_pages(pages)
    image = pages.images[0]
    painter = ReceiptPainter(pages.layouts[0], pages.columns)
    assert image.width() == painter.width and image.height() == painter.height() > 400
    dark = sum(
        1
        for y in range(0, image.height(), 3)
        for x in range(0, image.width(), 3)
        if QColor(image.pixel(x, y)).lightness() < 128
    )
    assert dark > 500  # text and the QR code were drawn
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert image.save(str(ARTIFACTS / "danfce-preview.png"))
