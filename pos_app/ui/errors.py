"""The UI's one translation of an exception into what the operator reads."""

from __future__ import annotations

import logging

from pos_app.core.errors import PosError
from pos_app.ui.i18n import tr

log = logging.getLogger("pos_app.ui")

# Kinds refused before anything happened: the message alone says what to fix.
INPUT_KINDS = frozenset({"validacao", "configuracao", "recusado", "permissao", "entrada"})


def error_text(exc: BaseException, unexpected: str | None = None) -> str:
    """Portuguese sentence for ``exc``: a ``PosError``'s message as is; anything else is logged and
    shown with ``unexpected`` (a ``{erro}`` template; default "Falha inesperada: {erro}")."""
    if isinstance(exc, PosError):
        return str(exc)
    log.error("falha inesperada: %r", exc)
    return (unexpected or tr("Falha inesperada: {erro}")).format(erro=exc)


def is_input_error(exc: BaseException) -> bool:
    """Refused before anything was stored or sent (the operator fixes the input and tries again)."""
    return isinstance(exc, PosError) and exc.kind in INPUT_KINDS
