"""Cancel an NFC-e (``DELETE /v2/nfce/REF``) within 30 minutes of its authorization.

- The justification (15 to 255 characters) and the window are checked before anything is sent;
  after the window the manager gets an explanation instead of a request SEFAZ would refuse (501).
- A contingency note not yet transmitted cannot be cancelled yet: the intent (justification, who)
  is stored and carried out right after the replay authorizes the note (``carry_out_intents``,
  called from ``ReplayService._record_authorized``), well inside its window.
- Every attempt, refused or not, goes to the audit log; every API answer to the document history.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.chave import chave_chars
from pos_app.core.fiscal.document_status import CancelIntentStatus as IntentStatus
from pos_app.core.fiscal.document_status import DocumentStatus as S
from pos_app.core.fiscal.document_status import FocusStatus as F
from pos_app.core.fiscal.nfe_rules import CANCEL_WINDOWS
from pos_app.core.focus.errors import ApiError, FocusError, InDoubt, NotDelivered, RateLimited
from pos_app.core.focus.ratelimit import Priority
from pos_app.core.services.audit import FAILED, OK, REFUSED, SCHEDULED, AuditLog
from pos_app.core.services.crashpoints import crash_point
from pos_app.core.services.nfe import doc_api
from pos_app.core.services.pending_actions import (
    CANCELAMENTO,
    CONCLUIDO,
    MANUAL,
    NAO_EFETIVADO,
    PENDENTE,
    PendingActions,
)
from pos_app.core.services.users import ManagerError
from pos_app.core.store.db import iso

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User

log = logging.getLogger("pos_app.cancellation")

CANCEL_WINDOW = timedelta(minutes=30)
JUSTIFICATIVA_MIN = 15
JUSTIFICATIVA_MAX = 255
# Not yet authorized, but will be by the replay: the cancel waits for it.
AWAITING_TRANSMISSION = ds.CONTINGENCY_OPEN

# outcomes
CANCELADO = "cancelado"  # outcome of a cancel request (CancelResult.outcome), not a document state
JA_CANCELADO = "ja_cancelado"
AGENDADO = "agendado"
RECUSADO = "recusado"  # refused here, nothing sent
RECUSADO_SEFAZ = "recusado_sefaz"  # sent; SEFAZ/API said no
FALHOU = "falhou"  # sent or tried, no usable answer


def check_justificativa(text: str) -> str:
    """The justification, trimmed; raises ManagerError when out of bounds."""
    clean = " ".join((text or "").split())
    if len(clean) < JUSTIFICATIVA_MIN:
        raise ManagerError(
            f"Justificativa curta demais ({len(clean)} caracteres): escreva de {JUSTIFICATIVA_MIN} a "
            f"{JUSTIFICATIVA_MAX} caracteres explicando o motivo do cancelamento.",
            field="justificativa",
        )
    if len(clean) > JUSTIFICATIVA_MAX:
        raise ManagerError(
            f"Justificativa longa demais ({len(clean)} caracteres): o máximo é {JUSTIFICATIVA_MAX}.",
            field="justificativa",
        )
    return clean


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def authorized_at(doc: dict[str, Any]) -> datetime | None:
    if doc.get("status") not in (S.AUTORIZADO, S.CANCELADO):
        return None
    return _parse(doc.get("data_autorizacao"))


def deadline(doc: dict[str, Any]) -> datetime | None:
    auth = authorized_at(doc)
    if auth is None:
        return None
    return auth + CANCEL_WINDOWS.get(int(doc.get("modelo") or 65), CANCEL_WINDOW)


def remaining(doc: dict[str, Any], now: datetime) -> timedelta | None:
    """Time left to cancel ``doc`` (zero when the window is over); None when not authorized."""
    end = deadline(doc)
    if end is None or doc.get("status") != S.AUTORIZADO:
        return None
    return max(end - now, timedelta(0))


def format_remaining(left: timedelta | None) -> str:
    if left is None:
        return "—"
    total = int(left.total_seconds())
    return f"{total // 60:02d}:{total % 60:02d}"


@dataclass
class CancelResult:
    outcome: str
    mensagem: str
    ref: str | None = None
    document_id: int | None = None
    status: str | None = None
    status_sefaz: str | None = None
    mensagem_sefaz: str | None = None
    resposta: dict[str, Any] | None = None
    restante_segundos: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cancelled(self) -> bool:
        return self.outcome in (CANCELADO, JA_CANCELADO)

    def to_json(self) -> dict[str, Any]:
        return {
            "resultado": self.outcome,
            "cancelada": self.cancelled,
            "mensagem": self.mensagem,
            "ref": self.ref,
            "status": self.status,
            "status_sefaz": self.status_sefaz,
            "mensagem_sefaz": self.mensagem_sefaz,
            "restante_segundos": self.restante_segundos,
            "resposta": self.resposta,
            **self.extra,
        }


class CancellationService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.audit = AuditLog(ctx.store)

    # -- lookup -----------------------------------------------------------------------------
    def resolve(self, ref_or_chave: str) -> dict[str, Any]:
        """The document a manager means by a ref or a key: the sale's current note.

        The online attempt of a sale that went to contingency points to its contingency note.
        """
        text = (ref_or_chave or "").strip()
        doc = self.store.documents.by_ref(text)
        if doc is None:
            digits = chave_chars(text)
            if len(digits) == 44:
                doc = self.store.database.query_one(
                    "SELECT * FROM fiscal_documents WHERE chave = ?", [digits]
                )
            else:
                doc = self._by_number(text)
        if doc is None:
            raise ManagerError(
                f"Nota não encontrada neste terminal: {text} (informe o número da NFC-e, a "
                "referência ou a chave de acesso)",
                field="ref",
            )
        if doc["status"] in (S.ENCERRADO, S.EM_DUVIDA):
            newer = self.store.database.query_one(
                "SELECT * FROM fiscal_documents WHERE replaces_document_id = ? ORDER BY id DESC LIMIT 1",
                [doc["id"]],
            )
            if newer is not None:
                return newer
        return doc

    def _by_number(self, text: str) -> dict[str, Any] | None:
        """The NFC-e a manager names by its number ("123", "nº 123") or series/number ("1/123", "600-5")."""
        import re

        match = re.fullmatch(
            r"(?:n[ºo°.]?\s*)?(?:(\d{1,3})\s*[/-]\s*)?(\d{1,9})", text.strip(), re.IGNORECASE
        )
        if match is None:
            return None
        serie, numero = match.group(1), int(match.group(2))
        if serie is not None:
            return self.store.database.query_one(
                "SELECT * FROM fiscal_documents WHERE serie = ? AND numero = ? ORDER BY id DESC LIMIT 1",
                [int(serie), numero],
            )
        return self.store.database.query_one(  # the same number in two series: the latest note
            "SELECT * FROM fiscal_documents WHERE numero = ? ORDER BY id DESC LIMIT 1", [numero]
        )

    def recent(self, now: datetime | None = None, limit: int = 10) -> list[dict[str, Any]]:
        """The last notes that can still be cancelled (newest first) with ``restante`` (timedelta or None
        for contingency notes, cancelled after their authorization) and the sale's ``valor_total``."""
        now = now or self.ctx.now()
        states = sorted(ds.PRINTABLE)  # authorized, or a contingency note still open
        marks = ", ".join("?" for _ in states)
        rows = self.store.database.query(
            "SELECT d.*, s.valor_total AS valor_total FROM fiscal_documents d "
            "LEFT JOIN sales s ON s.id = d.sale_id "
            f"WHERE d.status IN ({marks}) "
            "ORDER BY d.id DESC LIMIT ?",
            [*states, limit * 3],
        )
        out = []
        for row in rows:
            doc = dict(row)
            left = remaining(doc, now)
            if doc["status"] == S.AUTORIZADO and (left is None or left.total_seconds() <= 0):
                continue
            doc["restante"] = left
            out.append(doc)
            if len(out) >= limit:
                break
        return out

    def pending_intent(self, doc_id: int) -> dict[str, Any] | None:
        return self.store.database.query_one(
            "SELECT * FROM cancel_intents WHERE document_id = ? AND status = ?",
            [doc_id, IntentStatus.PENDENTE],
        )

    def preview(self, ref: str, now: datetime | None = None) -> dict[str, Any]:
        """What cancelling ``ref`` would do now (for the window's countdown), without sending."""
        now = now or self.ctx.now()
        doc = self.resolve(ref)
        left = remaining(doc, now)
        end = deadline(doc)
        return {
            "document": doc,
            "ref": doc["ref"],
            "status": doc["status"],
            "restante": left,
            "prazo": end,
            "agendavel": doc["status"] in AWAITING_TRANSMISSION,
            "pode_cancelar": doc["status"] == S.AUTORIZADO and bool(left),
            "intencao": self.pending_intent(int(doc["id"])),
        }

    # -- cancel -----------------------------------------------------------------------------
    def cancel(
        self, ref: str, justificativa: str, manager: User, now: datetime | None = None
    ) -> CancelResult:
        """Cancel (or schedule the cancellation of) the note ``ref``. Raises ManagerError on bad input."""
        now = now or self.ctx.now()
        justificativa = check_justificativa(justificativa)
        doc = self.resolve(ref)
        doc_id = int(doc["id"])
        if PendingActions(self.ctx).open(CANCELAMENTO, doc["ref"]):
            # An earlier cancel of this note got no answer (crash, timeout): consult before resending.
            PendingActions(self.ctx).resolve_pending(CANCELAMENTO, doc["ref"])
            doc = self.store.documents.get(doc_id) or doc
        status = doc["status"]

        if status == S.CANCELADO:
            return CancelResult(
                JA_CANCELADO, f"A NFC-e {doc['ref']} já está cancelada.", doc["ref"], doc_id, status
            )

        if status in AWAITING_TRANSMISSION:
            return self._schedule(doc, justificativa, manager, now)

        if status != S.AUTORIZADO:
            msg = not_cancellable_message(status)
            self.audit.record(
                "cancelamento",
                user=manager,
                target=doc["ref"],
                reason=justificativa,
                outcome=REFUSED,
                details={"status": status, "motivo": msg},
                now=now,
            )
            raise ManagerError(msg, field="ref")

        left = remaining(doc, now)
        if not left:
            msg = self.late_message(doc)
            self.audit.record(
                "cancelamento",
                user=manager,
                target=doc["ref"],
                reason=justificativa,
                outcome=REFUSED,
                details={"motivo": "prazo de 30 minutos encerrado", "autorizada_em": doc["data_autorizacao"]},
                now=now,
            )
            return CancelResult(RECUSADO, msg, doc["ref"], doc_id, status, restante_segundos=0)

        result = self._send(doc, justificativa, manager, now, action="cancelamento")
        intent = self.pending_intent(doc_id)
        if intent is not None and result.cancelled:
            self._close_intent(int(intent["id"]), IntentStatus.EXECUTADO, result, now)
        return result

    def late_message(self, doc: dict[str, Any]) -> str:
        auth = authorized_at(doc)
        end = deadline(doc)
        when = ""
        if auth and end:
            local = auth.astimezone(self.ctx.now().tzinfo)
            when = (
                f" Ela foi autorizada em {local:%d/%m/%Y às %H:%M} e o prazo terminou às "
                f"{end.astimezone(local.tzinfo):%H:%M}."
            )
        return (
            f"Não é mais possível cancelar a NFC-e {doc['ref']}: o cancelamento só é aceito até 30 minutos "
            f"após a autorização.{when} Nenhum pedido foi enviado (a SEFAZ recusaria com a rejeição 501). "
            "Para desfazer a venda, registre a devolução da mercadoria com nota de entrada e procure o "
            "contador (alguns estados aceitam cancelamento extemporâneo, pedido diretamente à SEFAZ)."
        )

    def _schedule(
        self, doc: dict[str, Any], justificativa: str, manager: User, now: datetime
    ) -> CancelResult:
        doc_id = int(doc["id"])
        existing = self.pending_intent(doc_id)
        with self.store.transaction() as tx:
            if existing is not None:
                tx.execute(
                    "UPDATE cancel_intents SET justificativa = ?, requested_by = ?, requested_at = ? "
                    "WHERE id = ?",
                    [justificativa, manager.id, iso(now), existing["id"]],
                )
            else:
                tx.execute(
                    "INSERT INTO cancel_intents (document_id, justificativa, requested_by, requested_at, status) "
                    "VALUES (?,?,?,?,?)",
                    [doc_id, justificativa, manager.id, iso(now), IntentStatus.PENDENTE],
                )
            self.store.documents.transition(
                doc_id,
                doc["status"],
                tx=tx,
                note=f"cancelamento agendado por {manager.nome} ({manager.codigo}): {justificativa}",
            )
        self.audit.record(
            "cancelamento_agendado",
            user=manager,
            target=doc["ref"],
            reason=justificativa,
            outcome=SCHEDULED,
            details={"status": doc["status"]},
            now=now,
        )
        extra = ""
        if doc["status"] == S.CONTINGENCIA_ERRO:
            extra = " Ela foi rejeitada na transmissão: corrija e reenvie; o cancelamento segue logo depois."
        return CancelResult(
            AGENDADO,
            f"A NFC-e {doc['ref']} foi emitida em contingência e ainda não foi transmitida à SEFAZ. O "
            "cancelamento ficou agendado e será feito automaticamente logo após a autorização (dentro do "
            f"prazo de 30 minutos).{extra} Para transmitir agora: pos-app sync.",
            doc["ref"],
            doc_id,
            doc["status"],
        )

    def _send(
        self,
        doc: dict[str, Any],
        justificativa: str,
        manager: User | None,
        now: datetime,
        *,
        action: str,
        priority: Priority = Priority.LIVE,
    ) -> CancelResult:
        doc_id = int(doc["id"])
        ref = doc["ref"]
        who = f"{manager.nome} ({manager.codigo})" if manager else "sistema"
        left = remaining(doc, now)
        secs = int(left.total_seconds()) if left is not None else None
        actions = PendingActions(self.ctx)
        # Written ahead: if this process dies or gets no answer, a consult settles it (sync, next cancel).
        action_id = actions.begin(
            CANCELAMENTO,
            ref,
            {"justificativa": justificativa, "por": who, "acao": action},
            document_id=doc_id,
        )
        crash_point("cancel_before_send")
        try:
            answer = doc_api(self.ctx, doc).cancel(ref, justificativa, priority=priority)
            crash_point("cancel_after_answer_before_store")
            if answer.status not in (F.CANCELADO, F.ERRO_CANCELAMENTO):
                raise InDoubt(f"resposta inesperada ao cancelamento (status {answer.status!r})")
        except (NotDelivered, RateLimited) as exc:
            actions.finish(action_id, NAO_EFETIVADO, f"não entregue: {exc}")
            msg = f"O pedido de cancelamento não chegou à API: {exc} Tente de novo (restam {format_remaining(left)})."
            self.audit.record(
                action,
                user=manager,
                target=ref,
                reason=justificativa,
                outcome=FAILED,
                details={"erro": str(exc)},
                now=now,
            )
            return CancelResult(FALHOU, msg, ref, doc_id, doc["status"], restante_segundos=secs)
        except InDoubt as exc:
            # Maybe cancelled: ask the API what happened.
            consulted = self._consult(ref, doc)
            if consulted is not None and consulted.status == F.CANCELADO:
                answer = consulted
            else:
                if consulted is not None and consulted.status == F.AUTORIZADO:
                    actions.finish(
                        action_id, NAO_EFETIVADO, "consulta: a nota continua autorizada", consulted.raw
                    )
                msg = (
                    f"Sem resposta da API ao cancelar ({exc}). Consulte a nota no histórico e tente de novo "
                    f"se ela continuar autorizada (restam {format_remaining(left)})."
                )
                self.audit.record(
                    action,
                    user=manager,
                    target=ref,
                    reason=justificativa,
                    outcome=FAILED,
                    details={"erro": str(exc)},
                    now=now,
                )
                return CancelResult(FALHOU, msg, ref, doc_id, doc["status"], restante_segundos=secs)
        except ApiError as exc:
            # "nfe_cancelada", or "nfe_nao_autorizada" (422) for a note the API already cancelled
            # (an earlier DELETE whose answer was lost): the consult says what is true.
            consulted = self._consult(ref, doc)
            if consulted is not None and consulted.status == F.CANCELADO:
                self._record_cancelled(
                    actions,
                    action_id,
                    doc_id,
                    consulted,
                    note=f"a API informou que a nota já estava cancelada ({exc.codigo})",
                    outcome="consulta: já estava cancelada",
                )
                self.audit.record(
                    action,
                    user=manager,
                    target=ref,
                    reason=justificativa,
                    outcome=OK,
                    details={"observacao": "já estava cancelada na API"},
                    now=now,
                )
                return CancelResult(
                    JA_CANCELADO,
                    f"A NFC-e {ref} já estava cancelada na API.",
                    ref,
                    doc_id,
                    S.CANCELADO,
                    consulted.status_sefaz,
                    consulted.mensagem_sefaz,
                    consulted.raw,
                )
            actions.finish(action_id, NAO_EFETIVADO, f"recusado pela API: {exc.codigo}", exc.body)
            self.store.documents.transition(
                doc_id,
                doc["status"],
                http_status=exc.status_code,
                response=exc.body,
                note=f"cancelamento recusado pela API ({who}): {exc.mensagem}",
            )
            self.audit.record(
                action,
                user=manager,
                target=ref,
                reason=justificativa,
                outcome=REFUSED,
                details={"http": exc.status_code, "codigo": exc.codigo, "mensagem": exc.mensagem},
                now=now,
            )
            body = exc.body if isinstance(exc.body, dict) else None
            return CancelResult(
                RECUSADO_SEFAZ,
                f"A API recusou o cancelamento: {exc}",
                ref,
                doc_id,
                doc["status"],
                exc.codigo,
                exc.mensagem,
                body,
                secs,
            )

        if answer.status == F.CANCELADO:
            self._record_cancelled(
                actions,
                action_id,
                doc_id,
                answer,
                note=f"cancelada por {who}: {justificativa}",
                outcome="cancelada",
            )
            self.audit.record(
                action,
                user=manager,
                target=ref,
                reason=justificativa,
                outcome=OK,
                details={
                    "status_sefaz": answer.status_sefaz,
                    "mensagem_sefaz": answer.mensagem_sefaz,
                    "caminho_xml_cancelamento": answer.caminho_xml_cancelamento,
                },
                now=now,
            )
            sigla = "NF-e" if int(doc.get("modelo") or 65) == 55 else "NFC-e"
            return CancelResult(
                CANCELADO,
                f"{sigla} {ref} cancelada (SEFAZ {answer.status_sefaz}: {answer.mensagem_sefaz}).",
                ref,
                doc_id,
                S.CANCELADO,
                answer.status_sefaz,
                answer.mensagem_sefaz,
                answer.raw,
            )
        # erro_cancelamento (e.g. 501 deadline, 108 SEFAZ down): the note stays authorized.
        actions.finish(action_id, NAO_EFETIVADO, f"SEFAZ {answer.status_sefaz}", answer.raw)
        self.store.documents.transition(
            doc_id,
            doc["status"],
            http_status=answer.http_status,
            response=answer.raw,
            note=f"cancelamento recusado pela SEFAZ ({who}): {answer.status_sefaz} {answer.mensagem_sefaz}",
        )
        self.audit.record(
            action,
            user=manager,
            target=ref,
            reason=justificativa,
            outcome=REFUSED,
            details={"status_sefaz": answer.status_sefaz, "mensagem_sefaz": answer.mensagem_sefaz},
            now=now,
        )
        hint = ""
        if answer.status_sefaz == "501":
            hint = " O prazo de cancelamento terminou para a SEFAZ (verifique o relógio deste computador)."
        elif answer.status_sefaz == "108":
            hint = f" SEFAZ fora do ar: tente de novo em instantes (restam {format_remaining(left)})."
        return CancelResult(
            RECUSADO_SEFAZ,
            f"A SEFAZ recusou o cancelamento: {answer.status_sefaz} - {answer.mensagem_sefaz}.{hint}",
            ref,
            doc_id,
            doc["status"],
            answer.status_sefaz,
            answer.mensagem_sefaz,
            answer.raw,
            secs,
        )

    def _record_cancelled(
        self, actions: PendingActions, action_id: int, doc_id: int, answer: Any, *, note: str, outcome: str
    ) -> None:
        """The cancellation the API confirmed (answer or consult): the document and the write-ahead
        intent close in one transaction."""
        with self.store.transaction() as tx:
            self.store.documents.transition(
                doc_id,
                S.CANCELADO,
                http_status=answer.http_status,
                response=answer.raw,
                status_sefaz=answer.status_sefaz,
                mensagem_sefaz=answer.mensagem_sefaz,
                caminho_xml_cancelamento=answer.caminho_xml_cancelamento,
                tx=tx,
                note=note,
            )
            actions.finish(action_id, CONCLUIDO, outcome, answer.raw, tx=tx)

    def resolve_intent(self, row: dict[str, Any], request: dict[str, Any]) -> str:
        """Settle a cancel written ahead whose answer never arrived: consult the note."""
        action_id = int(row["id"])
        actions = PendingActions(self.ctx)
        doc = self.store.documents.get(int(row["document_id"])) if row["document_id"] else None
        if doc is None:
            actions.finish(action_id, MANUAL, "documento não encontrado neste terminal")
            return MANUAL
        if doc["status"] == S.CANCELADO:
            actions.finish(action_id, CONCLUIDO, "já registrada como cancelada")
            return CONCLUIDO
        try:
            consulted = doc_api(self.ctx, doc).consult(doc["ref"], priority=Priority.REPLAY)
        except FocusError as exc:
            actions.touch(action_id, f"consulta falhou: {exc}")
            return PENDENTE
        if consulted is not None and consulted.status == F.CANCELADO:
            self._record_cancelled(
                actions,
                action_id,
                int(doc["id"]),
                consulted,
                note=f"cancelamento confirmado por consulta após interrupção ({request.get('por')}): "
                f"{request.get('justificativa')}",
                outcome="consulta: cancelada",
            )
            self.audit.record(
                str(request.get("acao") or "cancelamento"),
                user=None,
                target=doc["ref"],
                reason=request.get("justificativa"),
                outcome=OK,
                details={"observacao": "confirmado por consulta após interrupção"},
            )
            return CONCLUIDO
        if consulted is not None and consulted.status == F.AUTORIZADO:
            actions.finish(
                action_id,
                NAO_EFETIVADO,
                "consulta: a nota continua autorizada (cancelamento não "
                "efetivado; peça de novo se ainda quiser cancelar)",
                consulted.raw,
            )
            return NAO_EFETIVADO
        state = consulted.status if consulted is not None else "desconhecida pela API"
        actions.finish(
            action_id,
            MANUAL,
            f"consulta inconclusiva (situação {state})",
            consulted.raw if consulted is not None else None,
        )
        return MANUAL

    def _consult(self, ref: str, doc: dict[str, Any] | None = None) -> Any:
        try:
            return doc_api(self.ctx, doc or {}).consult(ref, priority=Priority.LIVE)
        except FocusError:
            return None

    # -- scheduled cancellations ---------------------------------------------------------------
    def carry_out_intents(self, doc_id: int | None = None, now: datetime | None = None) -> list[CancelResult]:
        """Carry out stored cancel intents whose note is now authorized (all, or just ``doc_id``).

        Called by the replay right after it records an authorization. Never raises.
        """
        now = now or self.ctx.now()
        sql = (
            "SELECT ci.*, u.codigo AS u_codigo FROM cancel_intents ci LEFT JOIN users u ON u.id = ci.requested_by "
            "JOIN fiscal_documents d ON d.id = ci.document_id WHERE ci.status = ? AND +d.status = ?"
        )
        params: list[Any] = [IntentStatus.PENDENTE, S.AUTORIZADO]
        if doc_id is not None:
            sql += " AND ci.document_id = ?"
            params.append(doc_id)
        results: list[CancelResult] = []
        for intent in self.store.database.query(sql, params):
            try:
                results.append(self._carry_out(intent, now))
            except Exception:  # noqa: BLE001 - a scheduled cancel must never break the replay
                log.exception("falha ao executar o cancelamento agendado %s", intent["id"])
        return results

    def _carry_out(self, intent: dict[str, Any], now: datetime) -> CancelResult:
        doc = self.store.documents.get(int(intent["document_id"]))
        assert doc is not None
        manager = self.store.users.get(int(intent["requested_by"])) if intent["requested_by"] else None
        if not remaining(doc, now):
            result = CancelResult(RECUSADO, self.late_message(doc), doc["ref"], int(doc["id"]), doc["status"])
            self.audit.record(
                "cancelamento_automatico",
                user=manager,
                target=doc["ref"],
                reason=intent["justificativa"],
                outcome=REFUSED,
                details={"motivo": "prazo de 30 minutos encerrado"},
                now=now,
            )
            self._close_intent(int(intent["id"]), IntentStatus.FALHOU, result, now)
            return result
        result = self._send(
            doc,
            intent["justificativa"],
            manager,
            now,
            action="cancelamento_automatico",
            priority=Priority.REPLAY,
        )
        if result.cancelled:
            self._close_intent(int(intent["id"]), IntentStatus.EXECUTADO, result, now)
        elif result.outcome == RECUSADO_SEFAZ:
            self._close_intent(int(intent["id"]), IntentStatus.FALHOU, result, now)
        # FALHOU (no answer): stays pending; the next authorization pass or a manual cancel retries.
        return result

    def _close_intent(self, intent_id: int, status: str, result: CancelResult, now: datetime) -> None:
        with self.store.transaction() as tx:
            tx.execute(
                "UPDATE cancel_intents SET status = ?, result = ?, executed_at = ? WHERE id = ?",
                [status, json.dumps(result.to_json(), ensure_ascii=False, default=str), iso(now), intent_id],
            )


def not_cancellable_message(status: str) -> str:
    messages: dict[str, str] = {
        S.PENDENTE: "A NFC-e desta venda ainda não foi emitida: aguarde a emissão e cancele em seguida.",
        S.ENVIANDO: "A NFC-e está sendo enviada agora: aguarde o resultado e tente de novo.",
        S.AGUARDANDO_CONEXAO: "A NFC-e desta venda ainda não foi emitida (aguardando conexão): cancele depois "
        "da autorização.",
        S.ERRO_AUTORIZACAO: "A NFC-e foi rejeitada pela SEFAZ e não tem valor fiscal: não há o que cancelar. "
        "Corrija e reenvie, ou desista da venda.",
        S.REJEITADO: "A API recusou esta NFC-e; ela não foi autorizada e não há o que cancelar.",
        S.DENEGADO: "NFC-e denegada pela SEFAZ: não pode ser cancelada.",
        S.ENCERRADO: "Esta tentativa de emissão não foi autorizada: não há o que cancelar.",
        S.EM_DUVIDA: "Esta tentativa está sendo reconciliada automaticamente (se foi autorizada, o sistema a "
        "cancela sozinho): cancele a nota de contingência da venda.",
        S.SUBSTITUICAO_PENDENTE: "Esta tentativa foi autorizada há mais de 30 minutos em duplicidade: exige "
        "cancelamento por substituição (evento 110112).",
        S.STATUS_DESCONHECIDO: "A situação desta NFC-e na API é desconhecida: ela é consultada de novo a cada "
        "sincronização. Confira a nota no painel da Focus NFe antes de cancelar.",
    }
    return messages.get(status, f"Não é possível cancelar uma nota no estado '{status}'.")
