"""The cashier window's side of ``pos_app.core.services.printing`` (when it is installed).

Without the printing service the receipt is only shown on screen (the PDF stays in the data
folder). Every function here is a worker job: printers block.
"""

from __future__ import annotations

import logging
from typing import Any

from pos_app.core.services.context import AppContext
from pos_app.ui.i18n import tr

log = logging.getLogger("pos_app.ui.print")


def print_service(ctx: AppContext) -> Any | None:
    try:
        from pos_app.core.services.printing import PrintService
    except ImportError:
        return None
    return PrintService(ctx)


def _outcome(value: Any) -> tuple[bool, str]:
    if isinstance(value, tuple) and len(value) == 2:
        return bool(value[0]), str(value[1])
    ok = bool(getattr(value, "ok", True))
    message = getattr(value, "message", None)
    return ok, str(message if message is not None else value)


def print_after_sale(ctx: AppContext, result: Any, user_id: int | None) -> tuple[bool, str] | None:
    """Worker job: print a finished sale's DANFCe; None when nothing is printed (PDF only)."""
    service = print_service(ctx)
    if service is None:
        return None
    if hasattr(service, "after_checkout"):
        outcome = service.after_checkout(result, user_id=user_id)
    else:
        outcome = service.print_document(result.document_id)
    return None if outcome is None else _outcome(outcome)


def reprint(ctx: AppContext, doc_id: int, manager_id: int) -> tuple[bool, str] | None:
    """Worker job: second copy authorized by a manager; None without a printing service."""
    service = print_service(ctx)
    if service is None:
        return None
    if hasattr(service, "reprint"):
        return _outcome(service.reprint(doc_id, manager_id))
    return _outcome(service.print_document(doc_id))


def printer_status(ctx: AppContext) -> tuple[bool | None, str, str]:
    """Worker job: (ok or None when unknown, short text for the status bar, full message)."""
    service = print_service(ctx)
    if service is None:
        text = tr("Impressora: só PDF (tela)")
        return None, text, text
    try:
        ok, message = _outcome(service.status())
    except Exception as exc:  # noqa: BLE001 - the status bar must keep working
        log.warning("status da impressora falhou: %s", exc)
        text = tr("Impressora: erro ({erro})").format(erro=exc)
        return False, text, text
    short = message.split(":")[0].strip().rstrip(".")  # "Somente PDF: o DANFCe é salvo..." -> "Somente PDF"
    if short.lower() == "somente pdf":
        short = "PDF"
    if not short.lower().startswith(tr("impressora")):
        short = tr("Impressora: {m}").format(m=short)
    return ok, short, message
