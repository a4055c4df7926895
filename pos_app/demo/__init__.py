"""Demo mode: everything that exists only so the program works without a Focus account.

``focus.ambiente = sandbox`` (the default): a demo emitter, certificate, catalog and users are
seeded where nothing is configured yet; the embedded Focus-compatible sandbox is started on a
free loopback port and handed to the core as a URL and a token provider (``attach``).
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.sandbox.server import SandboxServer

log = logging.getLogger("pos_app")

DEMO_USERS = [
    # codigo, nome, papel, pin — printed in the README; demo mode only.
    ("1", "Ana (caixa)", "caixa", "1111"),
    ("9", "Gerente Demo", "gerente", "9999"),
]
DEMO_CERTIFICATE_PASSWORD = "demo1234"


def demo_token() -> str:
    # The sandbox package is heavy (lxml, signing): imported when a token is first needed.
    from pos_app.sandbox.server import DEMO_TOKEN

    return DEMO_TOKEN


def attach(ctx: AppContext) -> None:
    """Give the core the demo token (used only while no ``focus.token`` is configured)."""
    ctx.token_provider = demo_token


def seed_demo(ctx: AppContext) -> None:
    """Demo emitter, certificate, catalog and users, only where nothing is configured yet.

    The demo company (``pr`` or ``sp``, see :mod:`pos_app.demo.company`) is chosen by
    ``POS_DEMO_EMPRESA`` or the ``demo.empresa`` setting; a terminal on one demo company is switched
    to the other when asked. Its catalog gets the demo tax groups of its regime."""
    from pos_app.demo import company as demo_company

    demo_company.ensure(ctx)  # emitter, its A1 certificate, its catalog and tax groups
    if not ctx.config.is_set("certificado.arquivo"):
        _create_demo_certificate(ctx)
    if ctx.store.users.count() == 0:
        for codigo, nome, papel, pin in DEMO_USERS:
            ctx.store.users.add(codigo, nome, papel, pin)


def _create_demo_certificate(ctx: AppContext) -> None:
    from pos_app.core.fiscal.certificate import create_demo_certificate

    emitente = ctx.config.emitente()
    if emitente is None:
        return
    path = ctx.data_dir / "certificado-demo.pfx"
    if not path.exists():
        create_demo_certificate(path, DEMO_CERTIFICATE_PASSWORD, emitente.cnpj, emitente.razao_social)
        with contextlib.suppress(OSError):
            path.chmod(0o600)  # a certificate file is private to the user running the terminal
    ctx.config.set("certificado.arquivo", str(path))
    ctx.config.set("certificado.senha", DEMO_CERTIFICATE_PASSWORD)


def start_demo_sandbox(ctx: AppContext, port: int = 0, rate_limit: int | None = 100) -> SandboxServer:
    """Start the embedded sandbox (loopback, free port) and point the context's API at it."""
    from pos_app.sandbox.server import SandboxServer

    server = SandboxServer(port=port, state_path=str(ctx.data_dir / "sandbox.sqlite3"), rate_limit=rate_limit)
    server.start()
    attach(ctx)
    ctx.sandbox = server
    ctx.api_url = server.url

    def stop() -> None:
        server.stop()
        if ctx.sandbox is server:
            ctx.sandbox = None
            ctx.api_url = None

    ctx.closers.append(stop)
    from pos_app.demo.pix import start_demo_psp, stop_demo_psp

    start_demo_psp(ctx)  # the PIX PSP sandbox next to the Focus one
    ctx.closers.append(lambda: stop_demo_psp(ctx))
    return server
