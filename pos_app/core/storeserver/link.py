"""Attach a terminal to its store database (when ``loja.banco`` is configured)."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from pos_app.core.storeserver import pg
from pos_app.core.storeserver.budget import SharedRateBudget
from pos_app.core.storeserver.sync import StoreSync

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

log = logging.getLogger("pos_app.loja")


def configured(ctx: AppContext) -> bool:
    return bool(ctx.config.get("loja.banco"))


def connector(ctx: AppContext, *, statement_timeout_ms: int = pg.STATEMENT_TIMEOUT_MS) -> Any:
    url = ctx.config.get("loja.banco")
    if not url:
        raise pg.StoreDbError(
            "Banco da loja não configurado: pos-app loja conectar postgresql://usuario:senha@servidor/banco"
        )
    password = ctx.config.get("loja.senha")

    def connect() -> Any:
        return pg.connect(url, password, statement_timeout_ms=statement_timeout_ms)

    return connect


def open_store_connection(ctx: AppContext) -> Any:
    """One migrated connection for the CLI/manager tools (raises StoreDbError when away)."""
    conn = connector(ctx)()
    pg.migrate(conn)
    return conn


def attach(ctx: AppContext, *, start: bool = True, interval: float = 1.0) -> StoreSync | None:
    """Start the background sync and the shared Focus budget; no-op when not configured or no psycopg."""
    if not configured(ctx):
        return None
    if not pg.available():
        log.warning(
            "loja.banco configurado, mas o suporte à loja não está instalado (pip install 'pos-app[loja]')"
        )
        return None
    sync = StoreSync(ctx.store, ctx.config.terminal_id, connector(ctx), interval=interval)
    ctx.store_sync = sync
    if ctx._client is None:  # the shared budget must be in place before the first request
        per_minute = int(ctx.config.get("loja.limite_focus") or 100)
        ctx.budget = SharedRateBudget(
            connector(ctx, statement_timeout_ms=2000), ctx.token, per_minute=per_minute
        )
        ctx.closers.append(ctx.budget.close)
    if start:
        sync.start()
    ctx.closers.append(sync.stop)
    return sync


def status(ctx: AppContext, *, check: bool = False) -> dict[str, Any]:
    """What the status bar and ``status --json`` say; ``check`` tries one pass when none ran yet."""
    sync = getattr(ctx, "store_sync", None)
    if sync is not None and check and sync.online is None:
        with contextlib.suppress(Exception):  # a broken link / reported in the status
            sync.run_once()
    if sync is None:
        return {
            "configurado": configured(ctx),
            "online": False,
            "erro": None if not configured(ctx) else "sincronização da loja não iniciada",
        }
    result: dict[str, Any] = sync.status()
    return result
