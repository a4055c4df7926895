"""Application wiring: builds a terminal (``AppContext``) from its configuration.

The one place that knows both the core and the demo: production terminals get the configured
Focus URL and token; demo terminals (``focus.ambiente = sandbox``) get the seeded demo data, the
embedded sandbox's URL and the demo token. ``pos_app.cli`` and ``pos_app.ui`` open terminals here.
"""

from __future__ import annotations

from pathlib import Path

from pos_app.core.services.context import AppContext, open_context
from pos_app.core.store.backup import backup_dir
from pos_app.core.store.integrity import start_daily_maintenance
from pos_app.core.storeserver.link import attach as attach_store
from pos_app.demo import attach, seed_demo, start_demo_sandbox

__all__ = ["open_app", "start_demo_sandbox"]


def open_app(
    data_dir: Path | None = None, *, start_sandbox: bool = True, sandbox_rate_limit: int | None = 100
) -> AppContext:
    """Open the terminal's data folder; in demo mode seed it and (``start_sandbox``) start the sandbox."""
    ctx = open_context(data_dir)
    if ctx.config.demo:
        seed_demo(ctx)
        attach(ctx)
    # Daily backup and full integrity check in the background: never block a start (issue 20).
    from pos_app.core.services import housekeeping

    ctx.maintenance = start_daily_maintenance(
        ctx.store,
        ctx.data_dir / "pos.sqlite3",
        backup_dir(ctx.data_dir),
        extra=lambda: housekeeping.daily(ctx),
    )
    if ctx.config.demo and start_sandbox:
        start_demo_sandbox(ctx, rate_limit=sandbox_rate_limit)
    attach_store(ctx)  # store database (loja.banco): background sync + shared Focus budget; never blocks
    return ctx
