"""ECONF (Conciliação Financeira): card and PIX payments linked to their authorized note.

When a note becomes authorized (any path: online, replayed contingency, consult, reconciliation) the
same transaction queues it (``econf_events`` row ``avaliar``, SQLite triggers of migration
``econf_0001_events``). The background pass (``ReplayService.run_once`` -> :meth:`EconfService.run_pass`)
reads the dated state rule (``core/fiscal/econf_rules.py``, CSV) and the store setting ``econf.modo``
(``automatico`` by the rule, ``sempre``, ``nunca``), builds ``detalhes_pagamento`` from the sale's
payments and sends it. The cashier never waits for it.

Write-ahead: before the POST the row goes to ``enviando`` and a ``pending_actions`` row (kind
``econf``) is committed in the same transaction. After a crash (or an answer we cannot use) the
outcome is unknown and Focus documents no way to find the event's protocol (the consult needs it;
the note's full consult lists only cancellation and CC-e): the row becomes ``em_duvida`` and the
manager is told to check the Focus panel, then ``pos-app econf enviar REF --mesmo-assim`` or
``pos-app econf marcar-registrado REF PROTOCOLO``. Never a blind resend. A cancel is written ahead
too (kind ``econf_cancelamento``) and resolved by consulting the protocol. Rejections keep SEFAZ's
code and message and are shown to the manager; they are not retried by themselves.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from pos_app.core.domain.money import api_decimal
from pos_app.core.domain.payments import PAYMENT_METHODS
from pos_app.core.errors import PosError
from pos_app.core.fiscal.document_status import (
    ECONF_LABELS,
    DocumentStatus,
    EconfStatus,
    PendingActionStatus,
    econf_can_transition,
)
from pos_app.core.fiscal.econf_rules import econf_formas
from pos_app.core.focus.econf import EconfApi, EconfNotFound, EconfResult
from pos_app.core.focus.errors import ApiError, FocusError, InDoubt, NotDelivered, RateLimited
from pos_app.core.focus.ratelimit import Priority
from pos_app.core.services.audit import FAILED, OK, REFUSED, AuditLog
from pos_app.core.services.crashpoints import crash_point
from pos_app.core.store.db import iso, utcnow

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User

log = logging.getLogger("pos_app.econf")

E = EconfStatus
T = TypeVar("T")

KIND_ENVIO = "econf"
KIND_CANCELAMENTO = "econf_cancelamento"
ECONF_FORMAS = frozenset({"03", "04", "05", "17", "20"})
"""Card (03 credit, 04 debit, 05 store card) and PIX (17 dynamic, 20 static): what ECONF links."""
MODES = ("automatico", "sempre", "nunca")
PASS_LIMIT = 50
EVALUATE_LIMIT = 500  # queued notes read per pass (the next pass, 1 s later, takes the rest)
BACKOFF_MAX = timedelta(hours=1)
DOUBT_INSTRUCTION = (
    "confira no painel da Focus NFe se o evento foi registrado; se foi, "
    "'pos-app econf marcar-registrado {ref} PROTOCOLO'; se não foi, 'pos-app econf enviar {ref} --mesmo-assim'"
)


class EconfError(PosError):
    kind = "recusado"


class EconfNotFoundError(PosError):
    kind = "entrada"


@dataclass
class EconfPassReport:
    registrados: list[str] = field(default_factory=list)
    rejeitados: list[dict[str, str]] = field(default_factory=list)
    em_duvida: list[str] = field(default_factory=list)
    adiados: int = 0
    sem_econf: int = 0

    @property
    def worked(self) -> bool:
        return bool(self.registrados or self.rejeitados or self.em_duvida)

    def to_json(self) -> dict[str, Any]:
        return {
            "registrados": self.registrados,
            "rejeitados": self.rejeitados,
            "em_duvida": self.em_duvida,
            "adiados": self.adiados,
            "sem_econf": self.sem_econf,
        }


def _row_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "ref": row["ref"],
        "modelo": row["modelo"],
        "origem": row["origem"],
        "status": row["status"],
        "situacao": ECONF_LABELS.get(row["status"], row["status"]),
        "numero_protocolo": row["numero_protocolo"],
        "numero_conciliacao": row["numero_conciliacao"],
        "status_sefaz": row["status_sefaz"],
        "mensagem_sefaz": row["mensagem_sefaz"],
        "caminho_xml": row["caminho_xml"],
        "cancelamento_numero": row["cancel_numero"],
        "tentativas": row["attempts"],
        "proxima_tentativa": row["next_attempt_at"],
        "erro": row["last_error"],
        "detalhes": json.loads(row["detalhes"]) if row.get("detalhes") else None,
        "criado_em": row["created_at"],
        "atualizado_em": row["updated_at"],
    }


def events_for_documents(database: Any, doc_ids: list[int]) -> list[dict[str, Any]]:
    """ECONF rows of these documents (empty for a yearly archive made before ECONF existed)."""
    if not doc_ids:
        return []
    has = database.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'econf_events'")
    if not has:
        return []
    marks = ", ".join("?" for _ in doc_ids)
    rows = database.query(f"SELECT * FROM econf_events WHERE document_id IN ({marks}) ORDER BY id", doc_ids)
    return [_row_json(r) for r in rows]


class EconfService:
    def __init__(self, ctx: AppContext, *, now: Callable[[], datetime] | None = None) -> None:
        self.ctx = ctx
        self.db = ctx.store.database
        self.audit = AuditLog(ctx.store)
        self._now = now or (lambda: datetime.now(UTC))

    # -- rule and payload ---------------------------------------------------------------------
    def mode(self) -> str:
        value = (self.ctx.config.get("econf.modo") or "automatico").strip().lower()
        return value if value in MODES else "automatico"

    def _doc_date(self, doc: dict[str, Any]) -> date:
        """The payment's local date: the note's emission date (stored with the store's offset)."""
        try:
            return datetime.fromisoformat(str(doc["data_emissao"])).date()
        except (TypeError, ValueError):
            return self.ctx.now().date()

    def formas_for(self, doc: dict[str, Any]) -> frozenset[str]:
        """Payment codes of this note to link by ECONF under the store's setting (empty: none)."""
        mode = self.mode()
        if mode == "nunca":
            return frozenset()
        if mode == "sempre":
            return ECONF_FORMAS
        return econf_formas(self.ctx.emitente().uf, self._doc_date(doc)) & ECONF_FORMAS

    def build_detalhes(self, doc: dict[str, Any], formas: frozenset[str]) -> list[dict[str, Any]]:
        sale = self.ctx.store.sales.get(int(doc["sale_id"]))
        if sale is None:
            return []
        day = self._doc_date(doc).isoformat()
        out: list[dict[str, Any]] = []
        for p in sale["payments"]:
            if p["forma"] not in formas:
                continue
            item: dict[str, Any] = {
                "indicador_pagamento": "0",
                "forma_pagamento": p["forma"],
                "descricao_pagamento": PAYMENT_METHODS.get(p["forma"], p["forma"]),
                "valor_pagamento": api_decimal(p["valor"], 2),
                "data_pagamento": day,
            }
            if p.get("cnpj_credenciadora"):
                item["cnpj_instituicao_financeira"] = p["cnpj_credenciadora"]
            if p.get("bandeira"):
                item["bandeira_operadora"] = p["bandeira"]
            if p.get("numero_autorizacao"):
                item["numero_autorizacao"] = p["numero_autorizacao"]
            out.append(item)
        return out[:100]

    # -- rows -----------------------------------------------------------------------------------
    def get(self, econf_id: int) -> dict[str, Any] | None:
        return self.db.query_one("SELECT * FROM econf_events WHERE id = ?", [econf_id])

    def _set(self, tx: Any, row_id: int, to: EconfStatus, **fields: Any) -> None:
        current = tx.execute("SELECT status FROM econf_events WHERE id = ?", [row_id]).fetchone()
        if current is None:
            raise KeyError(row_id)
        if not econf_can_transition(current[0], to):
            raise EconfError(
                f"O evento de conciliação financeira não pode passar de "
                f"'{ECONF_LABELS.get(current[0], current[0])}' para '{ECONF_LABELS.get(to, to)}'."
            )
        fields["status"] = str(to)
        fields["updated_at"] = iso(utcnow())
        sets = ", ".join(f"{k} = ?" for k in fields)
        tx.execute(f"UPDATE econf_events SET {sets} WHERE id = ?", [*fields.values(), row_id])

    def _finish_action(
        self, tx: Any, action_id: int | None, status: str, outcome: str, result: Any = None
    ) -> None:
        if not action_id:
            return
        now = iso(utcnow())
        tx.execute(
            "UPDATE pending_actions SET status = ?, outcome = ?, result = ?, updated_at = ?, resolved_at = ? "
            "WHERE id = ?",
            [
                status,
                outcome,
                json.dumps(result, ensure_ascii=False, default=str) if result is not None else None,
                now,
                None if status in (PendingActionStatus.PENDENTE, PendingActionStatus.MANUAL) else now,
                action_id,
            ],
        )

    def _begin_action(self, tx: Any, kind: str, ref: str, doc_id: int, request: dict[str, Any]) -> int:
        now = iso(utcnow())
        cur = tx.execute(
            "INSERT INTO pending_actions (kind, target, document_id, request, status, created_at, updated_at, "
            "attempts) VALUES (?,?,?,?,?,?,?,1)",
            [
                kind,
                ref,
                doc_id,
                json.dumps(request, ensure_ascii=False),
                PendingActionStatus.PENDENTE,
                now,
                now,
            ],
        )
        return int(cur.lastrowid or 0)

    def _api(self, row: dict[str, Any]) -> EconfApi:
        return EconfApi.for_modelo(self.ctx.client(), int(row.get("modelo") or 65))

    # -- background pass ----------------------------------------------------------------------
    def evaluate(self, report: EconfPassReport | None = None) -> None:
        """Queued notes (``avaliar``): apply the rule; build the payload or drop the row."""
        rows = self.db.query(
            "SELECT * FROM econf_events WHERE status = ? ORDER BY id LIMIT ?", [E.AVALIAR, EVALUATE_LIMIT]
        )
        decided: list[tuple[int, list[dict[str, Any]]]] = []
        for row in rows:
            doc = self.ctx.store.documents.get(int(row["document_id"]))
            decided.append((int(row["id"]), self.build_detalhes(doc, self.formas_for(doc)) if doc else []))
        if not decided:
            return
        with self.ctx.store.transaction() as tx:
            for row_id, detalhes in decided:
                if not detalhes:
                    tx.execute("DELETE FROM econf_events WHERE id = ? AND status = ?", [row_id, E.AVALIAR])
                    if report is not None:
                        report.sem_econf += 1
                    continue
                self._set(tx, row_id, E.PENDENTE, detalhes=json.dumps(detalhes, ensure_ascii=False))

    def backlog(self) -> bool:
        row = self.db.query_one(
            "SELECT EXISTS (SELECT 1 FROM econf_events WHERE status IN (?, ?) AND (next_attempt_at IS NULL "
            "OR next_attempt_at <= ?)) AS n",
            [E.AVALIAR, E.PENDENTE, iso(self._now())],
        )
        return bool(row and row["n"])

    def run_pass(
        self,
        call: Callable[[Callable[[], EconfResult]], EconfResult] | None = None,
        *,
        check_stop: Callable[[], None] | None = None,
    ) -> EconfPassReport:
        """Evaluate the queue and send the ECONFs that are due. ``NotDelivered`` / ``RateLimited`` (and
        whatever ``call`` raises before sending) put the row back and propagate: the pass stops."""
        report = EconfPassReport()
        self.evaluate(report)
        # A note in Focus's automatic contingency (tpEmis 9) is not at SEFAZ until it is made effective:
        # its ECONF waits for that (the replay follows the effectivation).
        rows = self.db.query(
            "SELECT e.* FROM econf_events e WHERE e.status = ? AND (e.next_attempt_at IS NULL "
            "OR e.next_attempt_at <= ?) AND NOT EXISTS (SELECT 1 FROM fiscal_documents d WHERE "
            "d.id = e.document_id AND d.focus_contingencia = 1 AND d.focus_contingencia_efetivada = 0) "
            "ORDER BY e.id LIMIT ?",
            [E.PENDENTE, iso(self._now()), PASS_LIMIT],
        )
        for row in rows:
            if check_stop is not None:
                check_stop()
            self._send_row(row, call, report)
        report.adiados = int(
            (
                self.db.query_one("SELECT count(*) AS n FROM econf_events WHERE status = ?", [E.PENDENTE])
                or {"n": 0}
            )["n"]
        )
        return report

    def _send_row(
        self,
        row: dict[str, Any],
        call: Callable[[Callable[[], EconfResult]], EconfResult] | None,
        report: EconfPassReport,
        priority: Priority = Priority.REPLAY,
    ) -> dict[str, Any]:
        row_id, ref = int(row["id"]), str(row["ref"])
        doc = self.ctx.store.documents.get(int(row["document_id"]))
        if doc is None or doc["status"] != DocumentStatus.AUTORIZADO:
            situacao = doc["status"] if doc else "inexistente"
            with self.ctx.store.transaction() as tx:
                self._set(
                    tx,
                    row_id,
                    E.REJEITADO,
                    mensagem_sefaz=f"A nota não está autorizada (situação '{situacao}'): ECONF não enviado.",
                )
            report.rejeitados.append({"ref": ref, "mensagem": f"nota não autorizada ({situacao})"})
            return self.get(row_id) or row
        detalhes = json.loads(row["detalhes"] or "[]")
        with self.ctx.store.transaction() as tx:
            action_id = self._begin_action(
                tx, KIND_ENVIO, ref, int(doc["id"]), {"econf_id": row_id, "detalhes": detalhes}
            )
            self._set(
                tx,
                row_id,
                E.ENVIANDO,
                pending_action_id=action_id,
                attempts=int(row["attempts"] or 0) + 1,
                last_error=None,
            )
        crash_point("econf_before_send")
        api = self._api(row)
        chave = doc.get("chave")

        def send() -> EconfResult:
            return api.send(ref, detalhes, chave=chave, priority=priority, timeout=self.ctx.config.timeout)

        try:
            result = call(send) if call is not None else send()
        except (NotDelivered, RateLimited) as exc:
            self._not_sent(row_id, action_id, int(row["attempts"] or 0) + 1, str(exc))
            raise
        except InDoubt as exc:  # includes an answer that does not match what was sent
            self._to_doubt(row_id, action_id, ref, str(exc))
            report.em_duvida.append(ref)
            return self.get(row_id) or row
        except ApiError as exc:  # answered refusal: nothing registered
            with self.ctx.store.transaction() as tx:
                self._set(
                    tx,
                    row_id,
                    E.REJEITADO,
                    status_sefaz=exc.codigo,
                    mensagem_sefaz=exc.mensagem,
                    last_error=str(exc),
                )
                self._finish_action(
                    tx, action_id, PendingActionStatus.NAO_EFETIVADO, f"recusado pela API: {exc}"
                )
            report.rejeitados.append({"ref": ref, "mensagem": str(exc)})
            return self.get(row_id) or row
        except FocusError:
            raise
        except Exception as exc:
            # Raised before the request left: the replay's budget wait or stop request, a payload
            # the client refuses (the HTTP client turns every transport problem into a FocusError).
            self._not_sent(row_id, action_id, int(row["attempts"] or 0), str(exc) or "interrompido")
            raise
        crash_point("econf_after_answer_before_store")
        self._store_answer(row_id, action_id, result)
        if result.registered:
            report.registrados.append(ref)
        else:
            report.rejeitados.append(
                {"ref": ref, "mensagem": f"SEFAZ {result.status_sefaz}: {result.mensagem_sefaz}"}
            )
        return self.get(row_id) or row

    def _store_answer(self, row_id: int, action_id: int | None, result: EconfResult) -> None:
        with self.ctx.store.transaction() as tx:
            if result.registered:
                self._set(
                    tx,
                    row_id,
                    E.REGISTRADO,
                    numero_protocolo=result.numero_protocolo,
                    numero_conciliacao=result.numero,
                    caminho_xml=result.caminho_xml,
                    status_sefaz=result.status_sefaz,
                    mensagem_sefaz=result.mensagem_sefaz,
                    next_attempt_at=None,
                )
                self._finish_action(
                    tx, action_id, PendingActionStatus.CONCLUIDO, "evento registrado", result.to_json()
                )
            else:
                self._set(
                    tx,
                    row_id,
                    E.REJEITADO,
                    status_sefaz=result.status_sefaz,
                    mensagem_sefaz=result.mensagem_sefaz,
                    next_attempt_at=None,
                )
                self._finish_action(
                    tx,
                    action_id,
                    PendingActionStatus.NAO_EFETIVADO,
                    f"rejeitado: SEFAZ {result.status_sefaz} {result.mensagem_sefaz}",
                    result.to_json(),
                )

    def _not_sent(self, row_id: int, action_id: int, attempts: int, reason: str) -> None:
        step = min(timedelta(seconds=60 * 2 ** min(attempts, 10)), BACKOFF_MAX)
        with self.ctx.store.transaction() as tx:
            self._set(tx, row_id, E.PENDENTE, next_attempt_at=iso(self._now() + step), last_error=reason)
            self._finish_action(tx, action_id, PendingActionStatus.NAO_EFETIVADO, f"não enviado: {reason}")

    def _to_doubt(self, row_id: int, action_id: int | None, ref: str, reason: str) -> None:
        instruction = DOUBT_INSTRUCTION.format(ref=ref)
        with self.ctx.store.transaction() as tx:
            self._set(tx, row_id, E.EM_DUVIDA, last_error=reason)
            self._finish_action(
                tx, action_id, PendingActionStatus.MANUAL, f"ECONF sem confirmação ({reason}): {instruction}"
            )

    # -- write-ahead resolution (pending_actions) -------------------------------------------------
    def resolve_intent(self, action: dict[str, Any], request: dict[str, Any]) -> str:
        """An ECONF request whose answer never arrived (kill -9, dropped connection)."""
        action_id = int(action["id"])
        row = self.get(int(request.get("econf_id") or 0)) if request.get("econf_id") else None
        if action["kind"] == KIND_ENVIO:
            if row is not None and row["status"] == E.ENVIANDO:
                self._to_doubt(
                    int(row["id"]),
                    action_id,
                    str(row["ref"]),
                    "sem resposta da API ao envio (programa interrompido ou conexão perdida); "
                    "a Focus não oferece consulta sem o número do protocolo",
                )
                return PendingActionStatus.MANUAL
            with self.ctx.store.transaction() as tx:
                self._finish_action(
                    tx, action_id, PendingActionStatus.CONCLUIDO, "resolvido pelo registro do evento"
                )
            return PendingActionStatus.CONCLUIDO
        # cancel: consult the protocol
        protocolo = str(request.get("protocolo") or "")
        ref = str(action["target"])
        modelo = int(row["modelo"]) if row else int(request.get("modelo") or 65)
        api = EconfApi.for_modelo(self.ctx.client(), modelo)
        try:
            result = api.consult(ref, protocolo, timeout=self.ctx.config.timeout)
        except EconfNotFound:
            with self.ctx.store.transaction() as tx:
                self._finish_action(
                    tx,
                    action_id,
                    PendingActionStatus.MANUAL,
                    f"a API não conhece o protocolo {protocolo}: confira no painel da Focus NFe",
                )
            return PendingActionStatus.MANUAL
        with self.ctx.store.transaction() as tx:
            if result.cancelled:
                if row is not None and row["status"] == E.CANCELANDO:
                    self._set(tx, int(row["id"]), E.CANCELADO)
                self._finish_action(
                    tx, action_id, PendingActionStatus.CONCLUIDO, "cancelamento confirmado pela consulta"
                )
                return PendingActionStatus.CONCLUIDO
            if result.registered:
                if row is not None and row["status"] == E.CANCELANDO:
                    self._set(tx, int(row["id"]), E.REGISTRADO)
                self._finish_action(
                    tx,
                    action_id,
                    PendingActionStatus.NAO_EFETIVADO,
                    "a consulta mostra o evento ainda registrado",
                )
                return PendingActionStatus.NAO_EFETIVADO
            self._finish_action(
                tx, action_id, PendingActionStatus.MANUAL, f"situação do evento na consulta: {result.status}"
            )
        return PendingActionStatus.MANUAL

    # -- manager actions ----------------------------------------------------------------------
    def _doc(self, ref: str) -> dict[str, Any]:
        doc = self.ctx.store.documents.by_ref(ref)
        if doc is None:
            raise EconfNotFoundError(f"Nota não encontrada: {ref}")
        return doc

    def rows_for_ref(self, ref: str) -> list[dict[str, Any]]:
        doc = self._doc(ref)
        return self.db.query("SELECT * FROM econf_events WHERE document_id = ? ORDER BY id", [doc["id"]])

    def send_now(self, ref: str, *, mesmo_assim: bool = False, user: User | None = None) -> dict[str, Any]:
        """``pos-app econf enviar REF``: send (or send again) the note's ECONF now."""
        doc = self._doc(ref)
        if doc["status"] != DocumentStatus.AUTORIZADO:
            raise EconfError(
                f"A nota {ref} não está autorizada (situação '{doc['status']}'): nada a conciliar."
            )
        rows = [r for r in self.rows_for_ref(ref) if r["status"] != E.CANCELADO]
        row = rows[-1] if rows else None
        if row is not None:
            status = row["status"]
            if status == E.REGISTRADO:
                raise EconfError(
                    f"O ECONF da nota {ref} já está registrado (protocolo {row['numero_protocolo']}). "
                    "Para corrigir, cancele-o antes: pos-app econf cancelar "
                    f"{ref} {row['numero_protocolo']}."
                )
            if status in (E.ENVIANDO, E.CANCELANDO):
                raise EconfError(
                    f"O ECONF da nota {ref} aguarda a resposta da API; rode 'pos-app sync' e tente de novo."
                )
            if status == E.EM_DUVIDA and not mesmo_assim:
                raise EconfError(
                    f"O envio anterior do ECONF da nota {ref} ficou sem confirmação: "
                    + DOUBT_INSTRUCTION.format(ref=ref)
                    + "."
                )
        detalhes = self.build_detalhes(doc, ECONF_FORMAS)
        if not detalhes:
            raise EconfError(f"A venda da nota {ref} não tem pagamento com cartão ou PIX: nada a conciliar.")
        now = iso(utcnow())
        with self.ctx.store.transaction() as tx:
            if row is None:
                cur = tx.execute(
                    "INSERT INTO econf_events (document_id, ref, modelo, origem, status, detalhes, created_at, "
                    "updated_at) VALUES (?,?,?,?,?,?,?,?)",
                    [
                        doc["id"],
                        ref,
                        int(doc.get("modelo") or 65),
                        "manual",
                        E.PENDENTE,
                        json.dumps(detalhes, ensure_ascii=False),
                        now,
                        now,
                    ],
                )
                row_id = int(cur.lastrowid or 0)
            else:
                row_id = int(row["id"])
                if row["status"] == E.EM_DUVIDA:
                    self._finish_action(
                        tx,
                        row.get("pending_action_id"),
                        PendingActionStatus.NAO_EFETIVADO,
                        "o gerente conferiu o painel da Focus NFe e mandou enviar de novo",
                    )
                if row["status"] == E.AVALIAR:
                    tx.execute(
                        "UPDATE econf_events SET status = ?, detalhes = ? WHERE id = ?",
                        [E.PENDENTE, json.dumps(detalhes, ensure_ascii=False), row_id],
                    )
                elif row["status"] != E.PENDENTE:
                    self._set(
                        tx,
                        row_id,
                        E.PENDENTE,
                        detalhes=json.dumps(detalhes, ensure_ascii=False),
                        next_attempt_at=None,
                        status_sefaz=None,
                        mensagem_sefaz=None,
                    )
                else:
                    tx.execute(
                        "UPDATE econf_events SET detalhes = ?, next_attempt_at = NULL WHERE id = ?",
                        [json.dumps(detalhes, ensure_ascii=False), row_id],
                    )
        report = EconfPassReport()
        pending = self.get(row_id)
        assert pending is not None
        try:
            stored = self._send_row(pending, None, report, priority=Priority.LIVE)
        except FocusError as exc:
            self.audit.record("econf_enviar", user=user, target=ref, outcome=FAILED, reason=str(exc))
            raise
        outcome = OK if stored["status"] == E.REGISTRADO else REFUSED
        self.audit.record(
            "econf_enviar",
            user=user,
            target=ref,
            outcome=outcome,
            details={"mesmo_assim": mesmo_assim, "status": stored["status"]},
        )
        return _row_json(stored)

    def mark_registered(self, ref: str, protocolo: str, *, user: User | None = None) -> dict[str, Any]:
        """``pos-app econf marcar-registrado REF PROTOCOLO``: the manager found the event in the Focus
        panel; the protocol is consulted (it must be this note's and registered) before it is recorded."""
        rows = [r for r in self.rows_for_ref(ref) if r["status"] == E.EM_DUVIDA]
        if not rows:
            raise EconfError(f"A nota {ref} não tem ECONF em dúvida.")
        row = rows[-1]
        doc = self._doc(ref)
        try:
            result = self._api(row).consult(
                ref,
                protocolo,
                chave=doc.get("chave"),
                priority=Priority.LIVE,
                timeout=self.ctx.config.timeout,
            )
        except EconfNotFound as exc:
            raise EconfError(
                f"A API não tem o protocolo {protocolo} para a nota {ref}: confira o número no painel da Focus NFe."
            ) from exc
        if not result.registered:
            raise EconfError(f"O evento {protocolo} não está registrado na API (situação '{result.status}').")
        with self.ctx.store.transaction() as tx:
            self._set(
                tx,
                int(row["id"]),
                E.REGISTRADO,
                numero_protocolo=result.numero_protocolo,
                numero_conciliacao=result.numero,
                caminho_xml=result.caminho_xml,
                status_sefaz=result.status_sefaz,
                mensagem_sefaz=result.mensagem_sefaz,
                last_error=None,
            )
            self._finish_action(
                tx,
                row.get("pending_action_id"),
                PendingActionStatus.CONCLUIDO,
                f"o gerente confirmou o registro (protocolo {protocolo})",
            )
        self.audit.record("econf_marcar_registrado", user=user, target=ref, details={"protocolo": protocolo})
        stored = self.get(int(row["id"]))
        assert stored is not None
        return _row_json(stored)

    def consult(self, ref: str, protocolo: str) -> dict[str, Any]:
        doc = self._doc(ref)
        rows = [r for r in self.rows_for_ref(ref) if r["numero_protocolo"] == protocolo]
        api = EconfApi.for_modelo(self.ctx.client(), int(doc.get("modelo") or 65))
        try:
            result = api.consult(
                ref,
                protocolo,
                chave=doc.get("chave"),
                priority=Priority.LIVE,
                timeout=self.ctx.config.timeout,
            )
        except EconfNotFound as exc:
            raise EconfNotFoundError(
                f"A nota {ref} não tem evento de conciliação financeira com o protocolo {protocolo}."
            ) from exc
        if rows and result.cancelled and rows[-1]["status"] in (E.REGISTRADO, E.CANCELANDO):
            with self.ctx.store.transaction() as tx:
                if rows[-1]["status"] == E.REGISTRADO:
                    self._set(tx, int(rows[-1]["id"]), E.CANCELANDO)
                self._set(tx, int(rows[-1]["id"]), E.CANCELADO)
        return {"ref": ref, **result.to_json()}

    def cancel(self, ref: str, protocolo: str, *, user: User | None = None) -> dict[str, Any]:
        """``pos-app econf cancelar REF PROTOCOLO``: written ahead, then DELETE; oldest first (SEFAZ 460)."""
        doc = self._doc(ref)
        rows = self.rows_for_ref(ref)
        row = next((r for r in rows if r["numero_protocolo"] == protocolo), None)
        if row is not None and row["status"] == E.CANCELADO:
            raise EconfError(f"O ECONF {protocolo} da nota {ref} já está cancelado.")
        if row is not None and row["status"] != E.REGISTRADO:
            raise EconfError(
                f"O ECONF {protocolo} da nota {ref} está '{ECONF_LABELS.get(row['status'], row['status'])}': "
                "só um evento registrado pode ser cancelado."
            )
        older = [
            r["numero_protocolo"]
            for r in rows
            if r["status"] == E.REGISTRADO
            and r["numero_protocolo"]
            and row is not None
            and r["id"] < row["id"]
        ]
        modelo = int(doc.get("modelo") or 65)
        with self.ctx.store.transaction() as tx:
            action_id = self._begin_action(
                tx,
                KIND_CANCELAMENTO,
                ref,
                int(doc["id"]),
                {"econf_id": row["id"] if row else None, "protocolo": protocolo, "modelo": modelo},
            )
            if row is not None:
                self._set(tx, int(row["id"]), E.CANCELANDO, pending_action_id=action_id)
        crash_point("econf_cancel_before_send")
        api = EconfApi.for_modelo(self.ctx.client(), modelo)
        try:
            result = api.cancel(
                ref,
                protocolo,
                chave=doc.get("chave"),
                priority=Priority.LIVE,
                timeout=self.ctx.config.timeout,
            )
        except (NotDelivered, RateLimited) as exc:
            with self.ctx.store.transaction() as tx:
                if row is not None:
                    self._set(tx, int(row["id"]), E.REGISTRADO)
                self._finish_action(tx, action_id, PendingActionStatus.NAO_EFETIVADO, f"não enviado: {exc}")
            self.audit.record("econf_cancelar", user=user, target=ref, outcome=FAILED, reason=str(exc))
            raise
        except EconfNotFound as exc:
            with self.ctx.store.transaction() as tx:
                if row is not None:
                    self._set(tx, int(row["id"]), E.REGISTRADO)
                self._finish_action(tx, action_id, PendingActionStatus.NAO_EFETIVADO, str(exc))
            raise EconfNotFoundError(
                f"A nota {ref} não tem evento de conciliação financeira com o protocolo {protocolo}."
            ) from exc
        except InDoubt:
            self.audit.record("econf_cancelar", user=user, target=ref, outcome=FAILED, reason="sem resposta")
            raise  # stays written ahead: the next sync consults the protocol
        except ApiError as exc:
            with self.ctx.store.transaction() as tx:
                if row is not None:
                    self._set(tx, int(row["id"]), E.REGISTRADO)
                self._finish_action(tx, action_id, PendingActionStatus.NAO_EFETIVADO, f"recusado: {exc}")
            raise
        crash_point("econf_cancel_after_answer_before_store")
        with self.ctx.store.transaction() as tx:
            if result.registered:
                if row is not None:
                    self._set(
                        tx,
                        int(row["id"]),
                        E.CANCELADO,
                        cancel_numero=result.numero,
                        cancel_caminho_xml=result.caminho_xml,
                    )
                self._finish_action(
                    tx, action_id, PendingActionStatus.CONCLUIDO, "cancelamento registrado", result.to_json()
                )
            else:
                if row is not None:
                    self._set(tx, int(row["id"]), E.REGISTRADO)
                self._finish_action(
                    tx,
                    action_id,
                    PendingActionStatus.NAO_EFETIVADO,
                    f"rejeitado: SEFAZ {result.status_sefaz} {result.mensagem_sefaz}",
                    result.to_json(),
                )
        self.audit.record(
            "econf_cancelar",
            user=user,
            target=ref,
            outcome=OK if result.registered else REFUSED,
            details={"protocolo": protocolo, "status_sefaz": result.status_sefaz},
        )
        out = {"ref": ref, "protocolo": protocolo, "cancelado": result.registered, **result.to_json()}
        if not result.registered and result.status_sefaz == "460":
            out["dica"] = (
                "Cancele antes o evento mais antigo"
                + (f" (protocolo {', '.join(str(p) for p in older)})" if older else "")
                + ": a SEFAZ exige a ordem de envio."
            )
        return out

    # -- listings -------------------------------------------------------------------------------
    def listing(self, estados: list[str] | None = None, limit: int = 200) -> list[dict[str, Any]]:
        sql = "SELECT * FROM econf_events"
        params: list[Any] = []
        if estados:
            sql += f" WHERE status IN ({', '.join('?' for _ in estados)})"
            params.extend(estados)
        rows = self.db.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
        return [_row_json(r) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self.db.query("SELECT status, count(*) AS n FROM econf_events GROUP BY status")
        return {r["status"]: int(r["n"]) for r in rows}

    def manager_lines(self) -> list[str]:
        """Portuguese lines for ``status``/``doctor``: ECONFs in doubt, rejected or waiting."""
        lines: list[str] = []
        for r in self.db.query(
            "SELECT * FROM econf_events WHERE status IN (?, ?) ORDER BY id", [E.EM_DUVIDA, E.REJEITADO]
        ):
            if r["status"] == E.EM_DUVIDA:
                lines.append(
                    f"ECONF da nota {r['ref']} em dúvida ({str(r['last_error'] or '').rstrip('.')}): "
                    + DOUBT_INSTRUCTION.format(ref=r["ref"])
                    + "."
                )
            else:
                lines.append(
                    f"ECONF da nota {r['ref']} rejeitado: {r['status_sefaz'] or ''} {r['mensagem_sefaz'] or ''}".rstrip()
                    + f" — corrija e reenvie com 'pos-app econf enviar {r['ref']}'."
                )
        counts = self.counts()
        waiting = counts.get(E.PENDENTE, 0)  # 'avaliar' may still turn out not required
        if waiting:
            lines.append(f"ECONF aguardando envio: {waiting} (enviados pela sincronização em segundo plano).")
        return lines


def econf_for_replay(
    ctx: AppContext, call: Callable[[Callable[[], EconfResult]], EconfResult], check_stop: Callable[[], None]
) -> EconfPassReport:
    """The ECONF step of a replay pass (kept here so the replay module only calls it)."""
    return EconfService(ctx).run_pass(call, check_stop=check_stop)
