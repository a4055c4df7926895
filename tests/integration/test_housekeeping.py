"""Receipt PDFs are pruned after ``recibos.dias_guardar`` days and rendered again on a reprint."""

from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.housekeeping import prune_receipts
from pos_app.core.services.printing import PrintService


def _sale(ctx: Any) -> Sale:
    sale = Sale()
    sale.add_item(ctx.store.products.lookup("1001"), Decimal(2))
    sale.add_payment(Payment(forma="01", valor=Decimal("100.00")))
    return sale


def test_old_receipt_pdfs_are_pruned_and_a_reprint_renders_the_receipt_again(demo_ctx: Any) -> None:
    ctx = demo_ctx
    service = EmissionService(ctx)
    old = service.checkout(_sale(ctx))
    recent = service.checkout(_sale(ctx))
    assert old.danfce and recent.danfce and Path(old.danfce).is_file() and Path(recent.danfce).is_file()
    ninety_days_ago = time.time() - 90 * 86400
    os.utime(old.danfce, (ninety_days_ago, ninety_days_ago))

    assert ctx.config.get("recibos.dias_guardar") == "60"
    assert prune_receipts(ctx) == 1
    assert not Path(old.danfce).exists() and Path(recent.danfce).is_file()
    assert ctx.store.documents.get(old.document_id)["receipt_path"] is None
    assert ctx.store.documents.get(recent.document_id)["receipt_path"] == recent.danfce

    outcome = PrintService(ctx).print_document(old.document_id)  # printer "pdf": the DANFCe on disk
    assert outcome.ok, outcome.message
    doc = ctx.store.documents.get(old.document_id)
    assert doc["receipt_path"] and Path(doc["receipt_path"]).is_file()
    text = "\n".join(p.extract_text() for p in PdfReader(doc["receipt_path"]).pages)
    assert "DANFE NFC-e" in text.replace("\n", " ") or "NFC-e" in text
    assert doc["chave"][-4:] in text.replace(" ", "")

    ctx.config.set("recibos.dias_guardar", "0")  # 0: keep them all
    os.utime(recent.danfce, (ninety_days_ago, ninety_days_ago))
    assert prune_receipts(ctx) == 0 and Path(recent.danfce).is_file()
