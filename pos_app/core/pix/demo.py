"""Demo mode: the embedded PSP sandbox next to the Focus sandbox, and the PIX keys pointing at it."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

log = logging.getLogger("pos_app.pix")

DEMO_URL_SETTING = "pix.demo_url"  # internal: the pix.url the demo PSP set (not a user key)
DEMO_PIX_KEY = "7d9f0335-8dcc-4054-9bf9-0dbd61d36906"  # EVP of the demo store


def start_demo_psp(ctx: AppContext) -> Any:
    """Start the PSP sandbox on a free loopback port and point ``pix.*`` at it.

    Only a missing ``pix.url`` or the one a previous demo run set is replaced: a PSP configured by
    the store (or a test's own sandbox) is kept.
    """
    from pos_app.sandbox.psp import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PSP_CNPJ, PspSandbox

    cfg = ctx.config
    current = cfg.get("pix.url")
    if current and current != ctx.store.settings.get(DEMO_URL_SETTING):
        return None
    if not cfg.is_set("pix.chave"):
        cfg.set("pix.chave", DEMO_PIX_KEY)
    emitente = cfg.emitente()
    psp = PspSandbox(chave=cfg.get("pix.chave") or DEMO_PIX_KEY,
                     nome=(emitente.nome_fantasia or emitente.razao_social) if emitente else "LOJA DEMO",
                     cidade=emitente.municipio if emitente else "SAO PAULO").start()
    cfg.set("pix.url", psp.url)
    ctx.store.settings.set(DEMO_URL_SETTING, psp.url)
    if not cfg.is_set("pix.client_id") or cfg.get("pix.client_id") == DEMO_CLIENT_ID:
        cfg.set("pix.client_id", DEMO_CLIENT_ID)
        if cfg.get("pix.client_secret") != DEMO_CLIENT_SECRET:
            cfg.set("pix.client_secret", DEMO_CLIENT_SECRET)
    if not cfg.is_set("pix.cnpj_psp"):
        cfg.set("pix.cnpj_psp", DEMO_PSP_CNPJ)
    psp.auto_pay_after = _auto_pay_seconds()
    ctx.__dict__["psp_sandbox"] = psp
    from pos_app.core.pix.service import pix_service

    pix_service(ctx).reset()
    log.info("PSP PIX de demonstração em %s", psp.url)
    return psp


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
    if psp is not None:
        psp.stop()
