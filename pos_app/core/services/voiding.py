"""Inutilização: void a range of unused numbers of the ONLINE series (``POST /v2/nfce/inutilizacao``).

Never of a contingency series (the terminal's own numbering, forbidden by law: gaps there are
explained by the contingency notes themselves). A range crossing a number this terminal knows was
used is refused locally; SEFAZ answers 102 (homologated) or 241 (a number in the range was used).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pos_app.core.fiscal.document_status import InutilizacaoStatus as V
from pos_app.core.focus.errors import ApiError, FocusError, NotDelivered, RateLimited
from pos_app.core.services.audit import FAILED, OK, REFUSED, AuditLog
from pos_app.core.services.crashpoints import crash_point
from pos_app.core.services.pending_actions import (
    CONCLUIDO,
    INUTILIZACAO,
    NAO_EFETIVADO,
    PENDENTE,
    PendingActions,
)
from pos_app.core.services.users import ManagerError
from pos_app.core.store.db import iso

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User

JUSTIFICATIVA_MIN = 15
JUSTIFICATIVA_MAX = 255
MAX_NUMERO = 999_999_999
MAX_RANGE = 10_000
ALREADY_VOIDED = "256"  # SEFAZ: "Uma NF-e da faixa já está inutilizada na Base de dados da SEFAZ"  # a typo guard: larger ranges are almost always a mistake


@dataclass
class VoidResult:
    ok: bool
    mensagem: str
    serie: int
    inicio: int
    fim: int
    status: str | None = None
    status_sefaz: str | None = None
    mensagem_sefaz: str | None = None
    resposta: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "homologada": self.ok,
            "mensagem": self.mensagem,
            "serie": self.serie,
            "numero_inicial": self.inicio,
            "numero_final": self.fim,
            "status": self.status,
            "status_sefaz": self.status_sefaz,
            "mensagem_sefaz": self.mensagem_sefaz,
            "resposta": self.resposta,
        }


class VoidingService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.audit = AuditLog(ctx.store)

    def contingency_series(self) -> set[int]:
        rows = self.store.database.query(
            "SELECT DISTINCT serie FROM fiscal_documents WHERE kind = 'contingencia' AND serie IS NOT NULL"
        )
        cfg = self.ctx.config
        return {int(r["serie"]) for r in rows} | {cfg.contingencia_serie, cfg.nfe_contingencia_serie}

    def online_series(self) -> list[int]:
        rows = self.store.database.query(
            "SELECT DISTINCT serie FROM fiscal_documents WHERE kind = 'online' AND serie IS NOT NULL ORDER BY serie"
        )
        return [int(r["serie"]) for r in rows]

    def used_numbers(self, serie: int, inicio: int, fim: int) -> list[dict[str, Any]]:
        return self.store.database.query(
            "SELECT numero, ref, status FROM fiscal_documents WHERE serie = ? AND numero BETWEEN ? AND ? "
            "ORDER BY numero",
            [serie, inicio, fim],
        )

    def history(self) -> list[dict[str, Any]]:
        return self.store.database.query("SELECT * FROM inutilizacoes ORDER BY id DESC")

    def check(self, serie: int, inicio: int, fim: int, justificativa: str) -> str:
        """Validate a request; returns the clean justification or raises ManagerError. Sends nothing."""
        clean = " ".join((justificativa or "").split())
        if not JUSTIFICATIVA_MIN <= len(clean) <= JUSTIFICATIVA_MAX:
            raise ManagerError(
                f"Justificativa com {len(clean)} caracteres: escreva de {JUSTIFICATIVA_MIN} a {JUSTIFICATIVA_MAX} "
                "caracteres explicando por que os números não foram usados.",
                field="justificativa",
            )
        if not 0 <= serie <= 999:
            raise ManagerError("Série inválida: use um número de 0 a 999.", field="serie")
        if not 1 <= inicio <= MAX_NUMERO or not 1 <= fim <= MAX_NUMERO:
            raise ManagerError(f"Números devem estar entre 1 e {MAX_NUMERO}.", field="inicio")
        if fim < inicio:
            raise ManagerError("O número final deve ser maior ou igual ao inicial.", field="fim")
        if fim - inicio + 1 > MAX_RANGE:
            raise ManagerError(
                f"Faixa grande demais ({fim - inicio + 1} números; máximo {MAX_RANGE}): confira os números.",
                field="fim",
            )
        if serie in self.contingency_series():
            raise ManagerError(
                f"A série {serie} é de contingência offline deste terminal: a inutilização de numeração de "
                "contingência é proibida. Só a série normal (online) pode ser inutilizada.",
                field="serie",
            )
        used = self.used_numbers(serie, inicio, fim)
        if used:
            shown = ", ".join(f"{u['numero']} ({u['ref']}, {u['status']})" for u in used[:5])
            more = f" e mais {len(used) - 5}" if len(used) > 5 else ""
            raise ManagerError(
                f"A faixa {inicio}-{fim} da série {serie} inclui números já usados por notas deste terminal: "
                f"{shown}{more}. Inutilize apenas números que nunca foram usados.",
                field="inicio",
            )
        done = self.store.database.query(
            "SELECT numero_inicial, numero_final FROM inutilizacoes WHERE serie = ? AND status = ? "
            "AND numero_inicial <= ? AND numero_final >= ?",
            [serie, V.AUTORIZADO, fim, inicio],
        )
        if done:
            d = done[0]
            raise ManagerError(
                f"A faixa {d['numero_inicial']}-{d['numero_final']} da série {serie} já foi "
                "inutilizada: nada a fazer.",
                field="inicio",
            )
        return clean

    def void(
        self,
        serie: int,
        inicio: int,
        fim: int,
        justificativa: str,
        manager: User,
        now: datetime | None = None,
    ) -> VoidResult:
        now = now or self.ctx.now()
        try:
            clean = self.check(serie, inicio, fim, justificativa)
        except ManagerError as exc:
            self.audit.record(
                "inutilizacao",
                user=manager,
                target=f"série {serie} {inicio}-{fim}",
                reason=justificativa,
                outcome=REFUSED,
                details={"motivo": exc.message},
                now=now,
            )
            raise
        target = f"série {serie} {inicio}-{fim}"
        cnpj = self.ctx.emitente().cnpj
        actions = PendingActions(self.ctx)
        for row in actions.open(INUTILIZACAO, target):
            # An earlier request for this range got no answer: this request settles it.
            actions.finish(int(row["id"]), NAO_EFETIVADO, "substituído por um novo pedido da mesma faixa")
        action_id = actions.begin(
            INUTILIZACAO,
            target,
            {
                "serie": serie,
                "inicio": inicio,
                "fim": fim,
                "justificativa": clean,
                "cnpj": cnpj,
                "user_id": manager.id,
                "at": iso(now),
            },
        )
        crash_point("void_before_send")
        try:
            answer = self.ctx.nfce().inutilizar(cnpj, serie, inicio, fim, clean)
            crash_point("void_after_answer_before_store")
        except ApiError as exc:
            actions.finish(action_id, NAO_EFETIVADO, f"recusado pela API: {exc.codigo}", exc.body)
            self._store(
                now, serie, inicio, fim, clean, V.REJEITADO, exc.codigo, exc.mensagem, exc.body, manager
            )
            self.audit.record(
                "inutilizacao",
                user=manager,
                target=target,
                reason=clean,
                outcome=REFUSED,
                details={"http": exc.status_code, "codigo": exc.codigo, "mensagem": str(exc)},
                now=now,
            )
            return VoidResult(
                False,
                f"A API recusou a inutilização: {exc}",
                serie,
                inicio,
                fim,
                V.REJEITADO,
                exc.codigo,
                exc.mensagem,
                exc.body if isinstance(exc.body, dict) else None,
            )
        except FocusError as exc:
            if isinstance(exc, NotDelivered | RateLimited):
                actions.finish(action_id, NAO_EFETIVADO, f"não entregue: {exc}")
            self.audit.record(
                "inutilizacao",
                user=manager,
                target=target,
                reason=clean,
                outcome=FAILED,
                details={"erro": str(exc)},
                now=now,
            )
            return VoidResult(
                False,
                f"Inutilização não concluída: {exc} Consulte antes de tentar de novo.",
                serie,
                inicio,
                fim,
            )
        status = str(answer.get("status") or "")
        code = str(answer.get("status_sefaz") or "") or None
        text = str(answer.get("mensagem_sefaz") or "") or None
        if code == ALREADY_VOIDED:
            status = V.AUTORIZADO  # the range IS voided at SEFAZ (e.g. an earlier answer was lost)
        self._store(now, serie, inicio, fim, clean, status, code, text, answer, manager)
        actions.finish(
            action_id, CONCLUIDO if status == V.AUTORIZADO else NAO_EFETIVADO, f"SEFAZ {code}", answer
        )
        ok = status == V.AUTORIZADO
        self.audit.record(
            "inutilizacao",
            user=manager,
            target=target,
            reason=clean,
            outcome=OK if ok else REFUSED,
            details={"status_sefaz": code, "mensagem_sefaz": text, "caminho_xml": answer.get("caminho_xml")},
            now=now,
        )
        if ok:
            msg = f"Numeração {inicio} a {fim} da série {serie} inutilizada (SEFAZ {code}: {text})."
        else:
            msg = f"A SEFAZ recusou a inutilização: {code} - {text}."
            if code == "241":
                msg += " Algum número da faixa já foi usado (talvez por outro terminal): confira e refaça a faixa."
        return VoidResult(ok, msg, serie, inicio, fim, status, code, text, answer)

    def resolve_intent(self, row: dict[str, Any], request: dict[str, Any]) -> str:
        """Settle an inutilização whose answer never arrived: ask again for the same range.

        The request is idempotent at SEFAZ: a range already voided answers 256 ("já está
        inutilizada"), read as done; 102 means it was not done before and is now.
        """
        actions = PendingActions(self.ctx)
        action_id = int(row["id"])
        serie, inicio, fim = int(request["serie"]), int(request["inicio"]), int(request["fim"])
        try:
            answer = self.ctx.nfce().inutilizar(request["cnpj"], serie, inicio, fim, request["justificativa"])
        except ApiError as exc:
            actions.finish(action_id, NAO_EFETIVADO, f"recusado pela API: {exc.codigo}", exc.body)
            return NAO_EFETIVADO
        except FocusError as exc:
            actions.touch(action_id, f"consulta falhou: {exc}")
            return PENDENTE
        code = str(answer.get("status_sefaz") or "") or None
        status = V.AUTORIZADO if code == ALREADY_VOIDED else str(answer.get("status") or "")
        text = str(answer.get("mensagem_sefaz") or "") or None
        manager = self.store.users.get(int(request["user_id"])) if request.get("user_id") else None
        at = datetime.fromisoformat(request["at"])
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO inutilizacoes (at, serie, numero_inicial, numero_final, justificativa, status, "
                "status_sefaz, mensagem_sefaz, response, user_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    iso(at),
                    serie,
                    inicio,
                    fim,
                    request["justificativa"],
                    status,
                    code,
                    text,
                    json.dumps(answer, ensure_ascii=False, default=str),
                    manager.id if manager else None,
                ],
            )
            done = CONCLUIDO if status == V.AUTORIZADO else NAO_EFETIVADO
            actions.finish(action_id, done, f"SEFAZ {code} (após interrupção)", answer, tx=tx)
        return done

    def _store(
        self,
        now: datetime,
        serie: int,
        inicio: int,
        fim: int,
        justificativa: str,
        status: str,
        code: str | None,
        text: str | None,
        raw: Any,
        manager: User,
    ) -> None:
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO inutilizacoes (at, serie, numero_inicial, numero_final, justificativa, status, "
                "status_sefaz, mensagem_sefaz, response, user_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    iso(now),
                    serie,
                    inicio,
                    fim,
                    justificativa,
                    status,
                    code,
                    text,
                    json.dumps(raw, ensure_ascii=False, default=str) if raw is not None else None,
                    manager.id,
                ],
            )
