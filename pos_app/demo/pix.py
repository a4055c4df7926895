"""Demo mode: the embedded PSP sandbox next to the Focus sandbox.

Like the Focus sandbox (whose URL and token are never written to the settings), the PSP sandbox
answers for every ``pix.*`` key left unset: ``PixService`` falls back to ``demo_settings`` through
``AppContext.pix_settings``. Started and stopped with the Focus sandbox (``pos_app.demo.start_demo_sandbox``). A PSP
configured by the store (``pix.url``) is used as is and no sandbox is started.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

log = logging.getLogger("pos_app.pix")

DEMO_PIX_KEY = "7d9f0335-8dcc-4054-9bf9-0dbd61d36906"  # EVP of the demo store


def start_demo_psp(ctx: AppContext) -> Any:
    """Start the PSP sandbox on a free loopback port unless a real PSP is configured."""
    from pos_app.sandbox.psp import PspSandbox

    cfg = ctx.config
    if cfg.get("pix.url"):
        return None
    emitente = cfg.emitente()
    psp = PspSandbox(
        chave=cfg.get("pix.chave") or DEMO_PIX_KEY,
        nome=(emitente.nome_fantasia or emitente.razao_social) if emitente else "LOJA DEMO",
        cidade=emitente.municipio if emitente else "SAO PAULO",
    ).start()
    psp.auto_pay_after = _auto_pay_seconds()
    ctx.__dict__["psp_sandbox"] = psp
    ctx.pix_settings = lambda: demo_settings(ctx)
    from pos_app.core.pix.service import pix_service

    pix_service(ctx).reset()
    log.info("PSP PIX de demonstração em %s", psp.url)
    return psp


def demo_settings(ctx: AppContext) -> dict[str, str]:
    """The ``pix.*`` values of the running demo PSP (empty when there is none)."""
    psp = demo_psp(ctx)
    if psp is None:
        return {}
    from pos_app.sandbox.psp import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PSP_CNPJ

    return {
        "pix.url": psp.url,
        "pix.client_id": DEMO_CLIENT_ID,
        "pix.client_secret": DEMO_CLIENT_SECRET,
        "pix.cnpj_psp": DEMO_PSP_CNPJ,
        "pix.chave": psp.chave,
    }


def _auto_pay_seconds() -> float | None:
    """Headless demo: charges are paid by themselves after 1 s (``POS_PIX_DEMO_PAGAR_APOS``; "nunca"
    turns it off). The cashier window turns it off: there the trainer pays from the Treinamento menu."""
    text = os.environ.get("POS_PIX_DEMO_PAGAR_APOS", "1").strip().lower()
    if text in ("", "nunca", "0", "off"):
        return None
    try:
        return max(float(text.replace(",", ".")), 0.0)
    except ValueError:
        return 1.0


def demo_psp(ctx: AppContext) -> Any:
    """The running PSP sandbox of this terminal (demo mode), or None."""
    return ctx.__dict__.get("psp_sandbox")


def stop_demo_psp(ctx: AppContext) -> None:
    psp = ctx.__dict__.pop("psp_sandbox", None)
    ctx.pix_settings = None
    if psp is not None:
        psp.stop()
