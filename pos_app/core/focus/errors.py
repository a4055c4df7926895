"""Typed outcomes of talking to the Focus API.

Three kinds, because each leads to a different action:
- ``NotDelivered``: the request never reached the API (DNS, refused, TLS, connect timeout).
  Safe to go offline at once.
- ``InDoubt``: the request may have reached the API but no usable answer came back (read timeout,
  connection reset, truncated or unreadable body, server error). Never resend blind: consult by ref.
- ``ApiError``: the API answered with an error body (``codigo``/``mensagem``).
"""

from __future__ import annotations

from typing import Any

from pos_app.core.errors import PosError


class FocusError(PosError):
    """Base of every Focus client error; ``str()`` is a Portuguese message for the operator."""

    kind = "api"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotDelivered(FocusError):
    kind = "sem_conexao"


class InDoubt(FocusError):
    kind = "sem_resposta"

    def __init__(self, message: str, status_code: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class RateLimited(FocusError):
    """HTTP 429: nothing was processed; wait ``reset_seconds`` before the next request."""

    kind = "limite_api"

    def __init__(self, reset_seconds: float) -> None:
        super().__init__(f"Limite de requisições da API atingido; nova tentativa em {reset_seconds:.0f} s.")
        self.reset_seconds = reset_seconds


class ApiError(FocusError):
    kind = "recusado_api"

    def __init__(
        self,
        status_code: int,
        codigo: str,
        mensagem: str,
        erros: list[dict[str, Any]] | None = None,
        body: Any = None,
    ) -> None:
        detail = mensagem
        if erros:
            parts = [str(e.get("mensagem") or e) for e in erros if isinstance(e, dict)]
            if parts:
                detail = f"{mensagem}: " + "; ".join(parts)
        super().__init__(f"{detail} (HTTP {status_code}, {codigo})")
        self.status_code = status_code
        self.codigo = codigo
        self.mensagem = mensagem
        self.erros = erros or []
        self.body = body


class AuthenticationError(ApiError):
    """HTTP 403: wrong token for this environment."""

    kind = "token_recusado"
