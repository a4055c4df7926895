"""PIX on the DANFCe: the endToEndId of a dynamic PIX; the static QR when the store asks for it."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.payments import PAYMENT_METHODS
from pos_app.core.printing.receipt import ReceiptPayment

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

log = logging.getLogger("pos_app.pix")


def receipt_payment(ctx: AppContext, row: dict[str, Any]) -> ReceiptPayment:
    """One stored payment row as the receipt prints it."""
    forma, valor = row["forma"], Decimal(row["valor"])
    e2e = row.get("numero_autorizacao") if forma == "17" else None
    qr = None
    if forma == "20" and (ctx.config.get("pix.qr_no_cupom") or "nao") == "sim":
        try:
            from pos_app.core.pix.service import pix_service

            qr = pix_service(ctx).static_brcode(valor)
        except Exception:  # noqa: BLE001 - a QR problem never blocks a receipt
            log.warning("QR PIX estático não impresso", exc_info=True)
    return ReceiptPayment(PAYMENT_METHODS.get(forma, "Outros"), valor, end_to_end_id=e2e, pix_qr=qr)
