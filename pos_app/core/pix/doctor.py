"""``pos-app doctor`` lines for PIX: the PSP token, the static key, refunds waiting for a manager."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext


def pix_checks(ctx: AppContext) -> list[tuple[str, str, str]]:
    """(name, level ok|aviso|erro, message) lines."""
    from pos_app.core.pix.client import PixAuthError, PixConfigError, PixError
    from pos_app.core.pix.service import PixNotConfigured, pix_service

    svc = pix_service(ctx)
    out: list[tuple[str, str, str]] = []
    chave = svc.setting("pix.chave")
    out.append(
        (
            "PIX estático",
            "ok" if chave else "aviso",
            f"chave {chave}" if chave else "pix.chave não configurada: QR estático indisponível",
        )
    )
    if not svc.configured():
        out.append(("PIX dinâmico", "aviso", "pix.url não configurada: só PIX estático"))
        return out
    try:
        svc.client().token(force=True)
        svc.cnpj_psp()
        out.append(("PIX dinâmico", "ok", f"token do PSP obtido em {svc.setting('pix.url')}"))
    except PixAuthError as exc:
        out.append(("PIX dinâmico", "erro", f"PSP recusou as credenciais: {exc}"))
    except (PixConfigError, PixNotConfigured) as exc:
        out.append(("PIX dinâmico", "erro", str(exc)))
    except PixError as exc:
        out.append(("PIX dinâmico", "erro", f"PSP inacessível: {exc} (PIX estático continua disponível)"))
    pending = ctx.store.database.query_one(
        "SELECT COUNT(*) AS n FROM pix_refunds WHERE status IN ('pendente', 'falhou')"
    )
    n = int(pending["n"]) if pending else 0
    if n:
        out.append(
            ("PIX a devolver", "aviso", f"{n} PIX recebido(s) sem venda: pos-app pix devolver (gerente)")
        )
    return out
