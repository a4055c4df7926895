"""PIX on the DANFCe: the endToEndId of a dynamic PIX; the payment's QR when the store asks for it.

With ``pix.qr_no_cupom = sim`` every PIX payment of the sale prints its BR Code as a QR under the
payments (a static one as shown at the counter, kept with the payment; sales recorded before it was kept
rebuild it from the current store key and the amount; a dynamic one is the charge's ``pixCopiaECola``, found
by its endToEndId) with a caption naming it.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.payments import PAYMENT_METHODS
from pos_app.core.printing.receipt import ReceiptPayment

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

log = logging.getLogger("pos_app.pix")


def qr_on_receipt(ctx: AppContext) -> bool:
    return (ctx.config.get("pix.qr_no_cupom") or "nao") == "sim"


def receipt_payment(ctx: AppContext, row: dict[str, Any]) -> ReceiptPayment:
    """One stored payment row as the receipt prints it."""
    forma, valor = row["forma"], Decimal(row["valor"])
    e2e = row.get("numero_autorizacao") if forma == "17" else None
    qr = None
    if forma in ("17", "20") and qr_on_receipt(ctx):
        try:
            qr = row.get("pix_brcode") or _brcode(ctx, forma, valor, e2e)
        except Exception:  # noqa: BLE001 - a QR problem never blocks a receipt
            log.warning("QR do PIX não impresso no cupom", exc_info=True)
    return ReceiptPayment(PAYMENT_METHODS.get(forma, "Outros"), valor, end_to_end_id=e2e, pix_qr=qr)


def _brcode(ctx: AppContext, forma: str, valor: Decimal, e2e: str | None) -> str | None:
    if forma == "20":
        from pos_app.core.pix.service import pix_service

        return pix_service(ctx).static_brcode(valor)
    if not e2e:
        return None
    charge = ctx.store.database.query_one(
        "SELECT copia_e_cola FROM pix_charges WHERE e2eid = ? AND copia_e_cola IS NOT NULL "
        "ORDER BY id DESC LIMIT 1",
        [e2e],
    )
    return charge["copia_e_cola"] if charge and charge["copia_e_cola"] else None
