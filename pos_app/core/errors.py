"""The one root of every error this program raises on purpose.

``PosError`` carries a Brazilian Portuguese ``.message`` (what the operator reads: what happened
and what to do next) and a ``kind`` (a short English tag for the CLI's exit code, logs and tests).
Domain, store, Focus client and service errors all derive from it, so the CLI and the UI each
have ONE handler (``pos_app.cli.common.handle_error``, ``pos_app.ui.errors.error_text``).
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["PosError", "InvalidTransition"]


class PosError(Exception):
    """Base error: ``str(err)`` and ``err.message`` are the Portuguese message."""

    kind: ClassVar[str] = "erro"
    message: str

    def __init__(self, message: str = "", *args: object) -> None:
        super().__init__(message, *args)
        self.message = message

    def __str__(self) -> str:
        return self.message if self.message else super().__str__()


class InvalidTransition(PosError):
    """A fiscal document was asked to move to a state the transition table does not allow."""

    kind = "transicao_invalida"

    def __init__(self, ref: str, from_status: str | None, to_status: str) -> None:
        super().__init__(f"O documento {ref} não pode passar de '{from_status}' para '{to_status}'.")
        self.ref = ref
        self.from_status = from_status
        self.to_status = to_status
