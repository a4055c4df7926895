"""Configuration errors of the Focus account: one warning for the terminal, not a fault per note.

``ambiente_nao_configurado``, ``empresa_nao_configurada`` (CSC / id_token missing) and
``certificado_vencido`` (plus ``empresa_nao_habilitada`` and ``permissao_negada``) say nothing
about a note: every note would get the same answer until someone fixes the account. So:

- a live sale that meets one is issued in offline contingency (the customer leaves with a legal
  DANFCe; the note is transmitted when the account is fixed) instead of being filed ``rejeitado``;
- the error is remembered once (setting ``api.erro_configuracao``: code, message, since when) and
  shown as ONE warning in ``status`` and ``doctor``;
- the replay is paused: each pass sends at most one note to probe, and stops at the same answer
  without filing anything on the note; the first authorization clears the warning.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

SETTING = "api.erro_configuracao"

MESSAGES = {
    "ambiente_nao_configurado": "o ambiente ({ambiente}) não está configurado para esta empresa na Focus NFe",
    "empresa_nao_configurada": "a empresa não está configurada na Focus NFe (CSC / id do token da NFC-e ausentes)",
    "certificado_vencido": "o certificado digital A1 cadastrado na Focus NFe está vencido: envie o novo certificado",
    "empresa_nao_habilitada": "a empresa não está habilitada para emitir NFC-e na Focus NFe",
    "permissao_negada": "o token não tem permissão para esta operação na Focus NFe",
}
CONFIG_ERROR_CODES = frozenset(MESSAGES)


def is_config_error(codigo: str | None) -> bool:
    return (codigo or "") in CONFIG_ERROR_CODES


def describe(codigo: str, ambiente: str = "") -> str:
    return MESSAGES.get(codigo, codigo).format(ambiente=ambiente or "atual")


def remember(ctx: AppContext, codigo: str, mensagem: str) -> None:
    """Record the error once (the first moment is kept while it lasts)."""
    settings = ctx.store.settings
    current = current_error(ctx)
    now = datetime.now(UTC).isoformat()
    since = current["desde"] if current and current.get("codigo") == codigo else now
    settings.set(
        SETTING,
        json.dumps(
            {"codigo": codigo, "mensagem": mensagem, "desde": since, "visto": now}, ensure_ascii=False
        ),
    )


def current_error(ctx: AppContext) -> dict[str, Any] | None:
    raw = ctx.store.settings.get(SETTING)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("codigo") else None


def clear(ctx: AppContext) -> None:
    if ctx.store.settings.get(SETTING) is not None:
        ctx.store.settings.delete(SETTING)


PROBE_EVERY = timedelta(minutes=5)


def paused(ctx: AppContext, now: datetime) -> bool:
    """Whether a background replay should skip transmitting now: a configuration error was seen
    less than :data:`PROBE_EVERY` ago (a manual ``pos-app sync`` always tries once)."""
    err = current_error(ctx)
    if err is None:
        return False
    try:
        seen = datetime.fromisoformat(str(err.get("visto") or err.get("desde")))
    except ValueError:
        return False
    return now - seen < PROBE_EVERY


def warning(ctx: AppContext) -> str | None:
    """The one line status/doctor show, or None."""
    err = current_error(ctx)
    if err is None:
        return None
    return (
        f"Configuração da conta Focus NFe: {describe(err['codigo'], ctx.config.ambiente)} "
        f"({err['codigo']}). Transmissões pausadas até corrigir; as vendas seguem em contingência."
    )
