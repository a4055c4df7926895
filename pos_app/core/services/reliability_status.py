"""What ``status`` and ``doctor`` say about reliability: manager actions without confirmation,
API answers that did not match what was sent, notes whose status the API left unknown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pos_app.core.fiscal.document_status import DocumentStatus as S
from pos_app.core.services.pending_actions import manager_lines

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

DIVERGENT_PREFIX = "Resposta da API divergente"


def document_lines(ctx: AppContext) -> list[str]:
    rows = ctx.store.database.query(
        "SELECT ref, status, last_error FROM fiscal_documents WHERE status = ? OR (last_error LIKE ? AND status "
        "IN (?, ?, ?, ?)) ORDER BY id",
        [
            S.STATUS_DESCONHECIDO,
            DIVERGENT_PREFIX + "%",
            S.EM_DUVIDA,
            S.AGUARDANDO_CONEXAO,
            S.TRANSMITINDO,
            S.SUBSTITUICAO_PENDENTE,
        ],
    )
    out = []
    for r in rows:
        if r["status"] == S.STATUS_DESCONHECIDO:
            out.append(
                f"NFC-e {r['ref']}: a API respondeu uma situação desconhecida ({r['last_error']}). "
                "Não reenvie: confira a nota no painel da Focus NFe e chame o suporte."
            )
        else:
            out.append(
                f"NFC-e {r['ref']}: a resposta da API não confere com a nota enviada ({r['last_error']}). "
                "Nenhum DANFCe foi impresso com ela; a nota será consultada de novo no próximo "
                "'pos-app sync'."
            )
    return out


def reliability_lines(ctx: AppContext) -> list[str]:
    """Portuguese lines for a manager (empty when everything is settled)."""
    from pos_app.core.services.econf import EconfService

    return manager_lines(ctx) + document_lines(ctx) + EconfService(ctx).manager_lines()
