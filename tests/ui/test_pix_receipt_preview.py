"""The PIX QR in the QPainter receipt preview (same layout model as the PDF and the printer)."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from pos_app.core.domain.sale import Sale  # noqa: E402
from pos_app.core.pix.brcode import crc16, decode  # noqa: E402
from pos_app.core.pix.service import pix_service  # noqa: E402
from pos_app.core.services.emission import EmissionService  # noqa: E402
from pos_app.demo.pix import demo_psp  # noqa: E402
from tests.ui.screen_checks import ARTIFACTS  # noqa: E402


@pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbarimg ausente")
def test_preview_paints_the_pix_qr_readable(
    qtbot: Any, demo_ctx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pos_app.ui.receipt_painter import paint_receipt
    from pos_app.ui.receipt_preview import render_preview

    monkeypatch.setenv("POS_PIX_DEMO_PAGAR_APOS", "nunca")
    demo_ctx.config.set("pix.qr_no_cupom", "sim")
    psp, svc = demo_psp(demo_ctx), pix_service(demo_ctx)
    charge = svc.create(Decimal("27.90"))
    psp.pay(charge.txid)
    charge = svc.refresh(charge.id)
    sale = Sale()
    sale.add_item(demo_ctx.store.products.lookup("7891102100377"), Decimal(1))
    sale.add_payment(svc.payment_for(charge))
    result = EmissionService(demo_ctx, render_receipts=False).checkout(sale)
    pages = render_preview(demo_ctx, result.document_id)
    assert "Pagamento PIX R$ 27,90 - E2E" in (pages.text or "")
    image = paint_receipt(pages.layouts[0], pages.columns)  # what the preview shows
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = ARTIFACTS / "danfce-preview-pix.png"
    assert image.save(str(png))
    out = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True).stdout
    codes = out.splitlines()
    pix_codes = [c for c in codes if c.startswith("000201")]
    assert pix_codes == [charge.copia_e_cola] and crc16(pix_codes[0][:-4]) == pix_codes[0][-4:]
    assert decode(pix_codes[0]).dinamico
    doc = demo_ctx.store.documents.get(result.document_id)
    assert [c for c in codes if not c.startswith("000201")] == [doc["qrcode_url"]]
