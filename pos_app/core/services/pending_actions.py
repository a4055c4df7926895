"""Write-ahead log of the requests that change something on the API side.

Every request that changes a document at the API (cancel, inutilização, e-mail resend...) is
stored here, committed, BEFORE it is sent. Its answer closes it. When no answer arrives (kill -9
in the middle of the request, timeout, connection dropped after sending) the row stays
``pendente`` and is resolved later by a consult: ``resolve_pending`` runs in every ``sync`` pass
(``ReplayService.run_once``, so also when the program starts its background replay) and before a
manager repeats the action on the same target.

States of a row (``PendingActionStatus``):

- ``pendente``: written, request sent or about to be; outcome unknown until answered/consulted.
- ``concluido``: the API confirmed the action took effect (answer or consult).
- ``nao_efetivado``: the API confirmed nothing changed (refused, or the consult shows the old state).
- ``manual``: the consult could not decide (unknown answer): a person must look (``status``/``doctor``).

Transitions: pendente -> concluido | nao_efetivado | manual; manual -> concluido | nao_efetivado.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pos_app.core.fiscal.document_status import PendingActionStatus
from pos_app.core.store.db import iso, utcnow

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

log = logging.getLogger("pos_app.pending_actions")

# row states
PENDENTE = PendingActionStatus.PENDENTE
CONCLUIDO = PendingActionStatus.CONCLUIDO
NAO_EFETIVADO = PendingActionStatus.NAO_EFETIVADO
MANUAL = PendingActionStatus.MANUAL
STATES = (PENDENTE, CONCLUIDO, NAO_EFETIVADO, MANUAL)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    PENDENTE: (CONCLUIDO, NAO_EFETIVADO, MANUAL),
    MANUAL: (CONCLUIDO, NAO_EFETIVADO),
    CONCLUIDO: (),
    NAO_EFETIVADO: (),
}

# kinds
CANCELAMENTO = "cancelamento"
INUTILIZACAO = "inutilizacao"
EMAIL = "email"

KIND_LABELS = {
    CANCELAMENTO: "cancelamento de NFC-e",
    INUTILIZACAO: "inutilização de numeração",
    EMAIL: "reenvio de e-mail",
    "cte_cancelamento": "cancelamento de CT-e",
    "cte_carta_correcao": "carta de correção de CT-e",
    "cte_desacordo": "evento de desacordo de CT-e",
    "cte_registro_multimodal": "registro multimodal de CT-e",
    "cte_dados_gtv": "informações da GTV de CT-e OS",
    "econf": "conciliação financeira (ECONF) da nota",
    "econf_cancelamento": "cancelamento de ECONF da nota",
}


@dataclass
class ResolveReport:
    concluidas: list[str] = field(default_factory=list)
    nao_efetivadas: list[str] = field(default_factory=list)
    manuais: list[str] = field(default_factory=list)
    pendentes: list[str] = field(default_factory=list)

    @property
    def worked(self) -> bool:
        return bool(self.concluidas or self.nao_efetivadas or self.manuais)

    def to_json(self) -> dict[str, Any]:
        return {
            "concluidas": self.concluidas,
            "nao_efetivadas": self.nao_efetivadas,
            "manuais": self.manuais,
            "pendentes": self.pendentes,
        }


class PendingActions:
    """The table ``pending_actions`` (migration ``rel_0001_pending_actions``)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.db = ctx.store.database

    def begin(self, kind: str, target: str, request: dict[str, Any], document_id: int | None = None) -> int:
        """Store the intent and COMMIT it; call right before the request is sent."""
        now = iso(utcnow())
        with self.ctx.store.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO pending_actions (kind, target, document_id, request, status, created_at, updated_at, "
                "attempts) VALUES (?,?,?,?,?,?,?,1)",
                [
                    kind,
                    target,
                    document_id,
                    json.dumps(request, ensure_ascii=False, default=str),
                    PENDENTE,
                    now,
                    now,
                ],
            )
            return int(cur.lastrowid or 0)

    def finish(self, action_id: int, status: str, outcome: str, result: Any = None, tx: Any = None) -> None:
        if status not in STATES:
            raise ValueError(status)
        now = iso(utcnow())
        sql = (
            "UPDATE pending_actions SET status = ?, outcome = ?, result = ?, updated_at = ?, resolved_at = ? "
            "WHERE id = ?"
        )
        params = [
            status,
            outcome,
            json.dumps(result, ensure_ascii=False, default=str) if result is not None else None,
            now,
            None if status in (PENDENTE, MANUAL) else now,
            action_id,
        ]
        if tx is not None:
            tx.execute(sql, params)
            return
        with self.ctx.store.transaction() as own:
            own.execute(sql, params)

    def touch(self, action_id: int, note: str) -> None:
        with self.ctx.store.transaction() as tx:
            tx.execute(
                "UPDATE pending_actions SET outcome = ?, updated_at = ?, attempts = attempts + 1 WHERE id = ?",
                [note, iso(utcnow()), action_id],
            )

    def get(self, action_id: int) -> dict[str, Any] | None:
        return self.db.query_one("SELECT * FROM pending_actions WHERE id = ?", [action_id])

    def open(self, kind: str | None = None, target: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM pending_actions WHERE status = ?"
        params: list[Any] = [PENDENTE]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        if target is not None:
            sql += " AND target = ?"
            params.append(target)
        return self.db.query(sql + " ORDER BY id", params)

    def needing_person(self) -> list[dict[str, Any]]:
        return self.db.query("SELECT * FROM pending_actions WHERE status = ? ORDER BY id", [MANUAL])

    def counts(self) -> dict[str, int]:
        rows = self.db.query("SELECT status, count(*) AS n FROM pending_actions GROUP BY status")
        return {r["status"]: int(r["n"]) for r in rows}

    # -- resolution ---------------------------------------------------------------------------
    def resolve_pending(self, kind: str | None = None, target: str | None = None) -> ResolveReport:
        """Consult the API for every open intent; never raises (a failed consult keeps it open)."""
        report = ResolveReport()
        for row in self.open(kind, target):
            label = f"{KIND_LABELS.get(row['kind'], row['kind'])} {row['target']}"
            try:
                status = self._resolve_one(row)
            except Exception:  # noqa: BLE001 - one bad row never stops the pass
                log.exception("falha ao resolver a ação pendente %s", row["id"])
                status = PENDENTE
            by_status: dict[str, list[str]] = {
                CONCLUIDO: report.concluidas,
                NAO_EFETIVADO: report.nao_efetivadas,
                MANUAL: report.manuais,
            }
            by_status.get(status, report.pendentes).append(label)
        return report

    def _resolve_one(self, row: dict[str, Any]) -> str:
        request = json.loads(row["request"])
        if row["kind"] == CANCELAMENTO:
            from pos_app.core.services.cancellation import CancellationService

            return CancellationService(self.ctx).resolve_intent(row, request)
        if row["kind"] == INUTILIZACAO:
            from pos_app.core.services.voiding import VoidingService

            return VoidingService(self.ctx).resolve_intent(row, request)
        if row["kind"] == EMAIL:
            from pos_app.core.services.email import EmailService

            return EmailService(self.ctx).resolve_intent(row, request)
        if str(row["kind"]).startswith("econf"):
            from pos_app.core.services.econf import EconfService

            return EconfService(self.ctx).resolve_intent(row, request)
        if str(row["kind"]).startswith("cte_"):
            from pos_app.core.services.cte import CteService

            return CteService(self.ctx).resolve_intent(row, request)
        self.finish(int(row["id"]), MANUAL, f"tipo de ação desconhecido: {row['kind']}")
        return MANUAL


def manager_lines(ctx: AppContext) -> list[str]:
    """Portuguese lines for ``status``/``doctor``: open intents and those that need a person."""
    pa = PendingActions(ctx)
    lines: list[str] = []
    for row in pa.open():
        lines.append(
            f"{KIND_LABELS.get(row['kind'], row['kind'])} {row['target']}: sem confirmação da API "
            "(será consultado no próximo 'pos-app sync')."
        )
    for row in pa.needing_person():
        if str(row["kind"]).startswith("econf"):
            continue  # told by core/services/econf.py manager_lines, with what to do
        lines.append(
            f"{KIND_LABELS.get(row['kind'], row['kind'])} {row['target']}: {row['outcome']} "
            "— verifique no painel da Focus NFe e chame o suporte."
        )
    return lines
