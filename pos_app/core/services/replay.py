"""Background work that brings every document to a final state, oldest first.

One pass (``run_once``) does, in order:
1. resume documents a crash left in flight (``enviando``, ``transmitindo``) by consulting their ref
   first: nothing is ever sent twice blind;
2. emit sales that waited for the link (a state whose dated rule refuses tpEmis 9, or interrupted
   before the first send);
3. transmit contingency notes, oldest first (``forma_emissao=offline`` with their own numero, serie,
   codigo_unico and original data_emissao); a SEFAZ rejection leaves the note in
   ``contingencia_erro`` (the "needs correction" list) with the SEFAZ message;
4. reconcile in-doubt online attempts (consult; cancel if it was authorized after all);
5. follow Focus's own automatic contingency until ``contingencia_offline_efetivada``;
6. download the authorized XML of every note (legal retention).

Nothing is ever renumbered, dropped or voided. Live sales always come first: every request here
uses the REPLAY priority of the shared rate budget, and a 429 is waited out (``Rate-Limit-Reset``)
instead of retried blind. One pass at a time per data folder, across threads and processes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.document_status import DocumentStatus as S
from pos_app.core.fiscal.document_status import FocusStatus as F
from pos_app.core.fiscal.nfe_rules import CANCEL_WINDOWS
from pos_app.core.focus.errors import (
    ApiError,
    AuthenticationError,
    FocusError,
    InDoubt,
    NotDelivered,
    RateLimited,
)
from pos_app.core.focus.nfce import NfceResult
from pos_app.core.focus.ratelimit import Priority
from pos_app.core.services import api_config_errors
from pos_app.core.services.context import AppContext
from pos_app.core.services.crashpoints import crash_point
from pos_app.core.services.emission import in_flight
from pos_app.core.services.final_outcomes import (
    SEFAZ_DUPLICATE_NUMBER,
    explain_cancelled,
    explain_denied,
    explain_duplicate,
)
from pos_app.core.services.locks import FileLock, lease_for
from pos_app.core.services.nfe import doc_api
from pos_app.core.services.xml_archive import store_xml
from pos_app.core.store.db import iso
from pos_app.core.store.packed import load_json

log = logging.getLogger("pos_app.replay")

T = TypeVar("T")

REPLAY_TIMEOUT = 30.0
BACKOFF_SECONDS = (15, 30, 60, 120, 300, 600)
CANCEL_WINDOW = timedelta(minutes=30)
REPLAY_WORKERS = 3  # contingency notes in flight at once during a replay
MAX_RATE_WAIT = 90.0  # longest wait for the rate limit per request before ending the pass
RECONCILE_JUSTIFICATIVA = (
    "Venda reemitida em contingencia offline por falta de resposta da SEFAZ; nota em duplicidade cancelada."
)
# SEFAZ answers that mean "not now" rather than "this note is wrong".

SEFAZ_UNAVAILABLE = frozenset({"108", "109"})
# API answers that mean the terminal's configuration is wrong, not the note.
CONFIG_ERRORS = api_config_errors.CONFIG_ERROR_CODES  # terminal-wide: pause, file nothing on the note

_PASS_LOCK = threading.Lock()


class _StopPass(Exception):
    """Link down, rate limit too long or stop requested: end this pass, try again later."""


class _LinkDown(_StopPass):
    pass


@dataclass
class ReplayReport:
    transmitidas: list[str] = field(default_factory=list)
    com_erro: list[dict[str, Any]] = field(default_factory=list)
    reconciliadas: list[dict[str, Any]] = field(default_factory=list)
    para_gerente: list[dict[str, Any]] = field(default_factory=list)
    emitidas: list[str] = field(default_factory=list)
    contingencias_emitidas: list[str] = field(default_factory=list)
    adiadas: int = 0
    esperas_limite: int = 0
    xml_baixados: int = 0
    econf_registrados: list[str] = field(default_factory=list)
    interrompido: str | None = None
    restantes: int = 0

    @property
    def ok(self) -> bool:
        return self.interrompido is None and not self.com_erro

    @property
    def worked(self) -> bool:
        return bool(
            self.transmitidas
            or self.com_erro
            or self.reconciliadas
            or self.emitidas
            or self.contingencias_emitidas
            or self.xml_baixados
            or self.econf_registrados
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "transmitidas": len(self.transmitidas),
            "refs_transmitidas": self.transmitidas,
            "com_erro": self.com_erro,
            "reconciliadas": self.reconciliadas,
            "para_gerente": self.para_gerente,
            "emitidas_apos_reconexao": self.emitidas,
            "contingencias_emitidas": self.contingencias_emitidas,
            "adiadas": self.adiadas,
            "esperas_limite_requisicoes": self.esperas_limite,
            "xml_baixados": self.xml_baixados,
            "econf_registrados": self.econf_registrados,
            "interrompido": self.interrompido,
            "pendentes_restantes": self.restantes,
        }

    def lines(self) -> list[str]:
        out = [f"Notas em contingência transmitidas: {len(self.transmitidas)}"]
        if self.emitidas:
            out.append(f"Vendas emitidas após a volta da conexão: {len(self.emitidas)}")
        if self.contingencias_emitidas:
            out.append(f"Vendas interrompidas emitidas em contingência: {len(self.contingencias_emitidas)}")
        for e in self.com_erro:
            out.append(
                f"Precisa de correção: {e['ref']} (nº {e['numero']} série {e['serie']}) — SEFAZ "
                f"{e['status_sefaz']}: {e['mensagem_sefaz']}  → pos-app contingencia corrigir {e['ref']}"
            )
        for r in self.reconciliadas:
            out.append(f"Tentativa {r['ref']}: {r['resultado']}")
        for m in self.para_gerente:
            out.append(f"Atenção do gerente: {m['ref']} — {m['motivo']}")
        if self.econf_registrados:
            out.append(f"Conciliações financeiras (ECONF) registradas: {len(self.econf_registrados)}")
        if self.esperas_limite:
            out.append(f"Esperas pelo limite de requisições da API: {self.esperas_limite}")
        if self.interrompido:
            out.append(f"Interrompido: {self.interrompido}")
        out.append(f"Ainda pendentes: {self.restantes}")
        return out


class ReplayService:
    def __init__(
        self,
        ctx: AppContext,
        *,
        now: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] | None = None,
        max_rate_wait: float = MAX_RATE_WAIT,
        render_receipts: bool = True,
        workers: int = REPLAY_WORKERS,
    ) -> None:
        from pos_app.core.services.emission import EmissionService

        self.ctx = ctx
        self.store = ctx.store
        self.emission = EmissionService(ctx)
        self.lease = lease_for(ctx.data_dir)
        self._now = now or (lambda: datetime.now(UTC))
        self._sleep_fn = sleep or time.sleep
        self.max_rate_wait = max_rate_wait
        self.render_receipts = render_receipts
        self.progress: Callable[[int, int], None] | None = None
        self.workers = workers
        self._stop: threading.Event | None = None
        self._report = ReplayReport()
        self._count_lock = threading.Lock()

    # -- pass --------------------------------------------------------------------------------
    def run_once(self, *, stop: threading.Event | None = None, ignore_backoff: bool = True) -> ReplayReport:
        """One full pass. ``ignore_backoff=False`` (background) skips notes still backing off."""

        def steps(report: ReplayReport) -> None:
            self._resume_in_flight(report)
            self._emit_waiting(report)
            self._transmit_contingency(report, ignore_backoff)
            self._reconcile(report)
            self._resolve_actions(report)
            self._resolve_rps(report)
            self._recheck_unknown(report)
            self._follow_focus_contingency(report)
            self._econf(report)
            self._download_xml(report)

        return self._exclusive(steps, stop)

    def transmit_one(self, ref: str) -> ReplayReport:
        """Send one contingency note now (``pos-app contingencia reenviar``): same ref, numero,
        serie and cNF; a note left ``transmitindo`` is consulted first."""
        doc = self.store.documents.by_ref(ref)
        if doc is None or doc["kind"] != "contingencia":
            raise KeyError(f"Nota de contingência não encontrada: {ref}")
        if doc["status"] not in ds.CONTINGENCY_OPEN:
            raise ValueError(f"A nota {ref} está no estado '{doc['status']}': nada a reenviar.")

        def steps(report: ReplayReport) -> None:
            current = self.store.documents.by_ref(ref)
            assert current is not None
            if current["status"] == S.TRANSMITINDO:
                result = self._consult(ref)
                if result is not None and result.status == F.AUTORIZADO:
                    self._record_authorized(current, result, report)
                    return
            if current["status"] != S.CONTINGENCIA_PENDENTE:
                self.store.documents.transition(
                    int(current["id"]),
                    S.CONTINGENCIA_PENDENTE,
                    note="reenvio solicitado",
                    next_attempt_at=None,
                )
                current = self.store.documents.by_ref(ref)
                assert current is not None
            self._transmit(current, report)

        return self._exclusive(steps, None)

    def _exclusive(self, steps: Callable[[ReplayReport], None], stop: threading.Event | None) -> ReplayReport:
        report = ReplayReport()
        if not _PASS_LOCK.acquire(blocking=False):
            report.interrompido = "Outra sincronização já está em andamento neste programa."
            report.restantes = self._open_count()
            return report
        file_lock = FileLock(self.ctx.data_dir / "locks" / "replay.lock")
        try:
            if not file_lock.acquire():
                report.interrompido = (
                    "Outra sincronização já está em andamento (outro programa deste terminal)."
                )
                return report
            self._stop, self._report = stop, report
            try:
                steps(report)
            except _StopPass as exc:
                report.interrompido = str(exc)
            finally:
                self._stop = None
                file_lock.release()
        finally:
            _PASS_LOCK.release()
            report.restantes = self._open_count()
        return report

    def _open_count(self) -> int:
        return self.store.documents.count_with_status(*ds.CONTINGENCY_QUEUE)

    # 1 -------------------------------------------------------------------------------------
    def _resume_in_flight(self, report: ReplayReport) -> None:
        for doc in self.store.documents.with_status(S.ENVIANDO, S.TRANSMITINDO, S.PROCESSANDO):
            self._check_stop()
            doc_id = int(doc["id"])
            if doc["status"] == S.ENVIANDO and self._busy(doc):
                continue  # a live sale (this or another process) is waiting for this answer
            try:
                result = self._consult(doc["ref"], doc)
            except _LinkDown:
                self._link_down_after_crash(report)
                raise
            if doc["status"] == S.TRANSMITINDO:
                if result is not None and result.status == F.AUTORIZADO:
                    self._record_authorized(doc, result, report)
                elif result is not None and result.status == F.PROCESSANDO_AUTORIZACAO:
                    self._count("adiadas")
                elif result is not None and result.status in (F.DENEGADO, F.CANCELADO):
                    self._final_outcome(
                        doc,
                        result.status,
                        result.status_sefaz,
                        result.mensagem_sefaz or "",
                        result.raw,
                        result.http_status,
                        report,
                    )
                else:
                    self.store.documents.transition(
                        doc_id,
                        S.CONTINGENCIA_PENDENTE,
                        response=result.raw if result else None,
                        note="retomada após interrupção: a API não tem esta nota autorizada",
                    )
                continue
            if doc["status"] == S.PROCESSANDO:
                # NF-e still processing after the cashier's wait: settle it once it is final.
                if result is None or result.status == F.PROCESSANDO_AUTORIZACAO:
                    self._count("adiadas")
                else:
                    sale_result = self.emission.record(doc_id, result, receipt=self.render_receipts)
                    if sale_result.emitido:
                        report.emitidas.append(doc["ref"])
                continue
            # An online attempt interrupted before its answer was stored.
            if result is None:
                # Never reached the API: the sale still needs its note.
                self.store.documents.transition(doc_id, S.PENDENTE, note="retomada após interrupção")
                self._emit_online(self.store.documents.get(doc_id) or doc, report)
            elif result.status == F.PROCESSANDO_AUTORIZACAO:
                self._count("adiadas")  # the API is still working on it: next pass
            else:
                sale_result = self.emission.record(
                    doc_id, result, receipt=self.render_receipts, consulted=True
                )
                if sale_result.emitido:
                    report.emitidas.append(doc["ref"])

    def _link_down_after_crash(self, report: ReplayReport) -> None:
        """No link to consult an interrupted online attempt: the sale gets its contingency note now
        (the attempt becomes ``em_duvida`` and is reconciled when the link returns)."""
        for doc in self.store.documents.with_status(S.ENVIANDO):
            if self._busy(doc):
                continue
            result = self.emission.contingency_for(
                int(doc["id"]),
                "Venda interrompida durante o envio e sem conexão para consultar.",
                in_doubt=True,
                receipt=self.render_receipts,
            )
            if result.contingencia:
                report.contingencias_emitidas.append(result.ref)

    # 2 -------------------------------------------------------------------------------------
    def _emit_waiting(self, report: ReplayReport) -> None:
        for doc in self.store.documents.with_status(S.AGUARDANDO_CONEXAO, S.PENDENTE):
            self._check_stop()
            if self._busy(doc):
                continue  # a live sale is about to send it
            self._emit_online(doc, report)

    def _emit_online(self, doc: dict[str, Any], report: ReplayReport) -> None:
        try:
            result = self.emission.emit(
                int(doc["id"]), priority=Priority.REPLAY, receipt=self.render_receipts
            )
        except (RuntimeError, ValueError):
            return  # taken by a live sale meanwhile, or already settled
        latest = self.store.documents.get(int(doc["id"])) or doc
        if result.contingencia and result.document_id != int(doc["id"]):
            report.contingencias_emitidas.append(result.ref)
            if latest["status"] == S.ENCERRADO:  # not delivered: the link is down again
                raise _LinkDown("sem conexão com a API")
        elif result.emitido:
            report.emitidas.append(result.ref)
        if latest["status"] == S.AGUARDANDO_CONEXAO:
            raise _LinkDown("sem conexão com a API")

    # 3 -------------------------------------------------------------------------------------
    def _transmit_contingency(self, report: ReplayReport, ignore_backoff: bool) -> None:
        """Oldest first, ``workers`` notes in flight at a time (the API answers each emission
        synchronously, in seconds when SEFAZ is slow; the shared rate budget still paces them)."""
        if not ignore_backoff and api_config_errors.paused(self.ctx, self._now()):
            self._count("adiadas")  # the account is misconfigured: background passes probe rarely
            return
        docs = []
        for doc in self.store.documents.with_status(S.CONTINGENCIA_PENDENTE, order="data_emissao, id"):
            due = _parse(doc["next_attempt_at"])
            if not ignore_backoff and due is not None and due > self._now():
                self._count("adiadas")
                continue
            docs.append(doc)
        total = len(docs)
        queue = iter(docs)
        queue_lock = threading.Lock()
        halt = threading.Event()
        failures: list[BaseException] = []
        done = [0]

        def work() -> None:
            while not halt.is_set():
                with queue_lock:
                    doc = next(queue, None)
                if doc is None:
                    return
                try:
                    self._check_stop()
                    self._transmit(doc, report)
                except BaseException as exc:  # noqa: BLE001 - handed to the pass below
                    failures.append(exc)
                    halt.set()
                    return
                with queue_lock:
                    done[0] += 1
                    n = done[0]
                if self.progress:
                    self.progress(n, total)

        n_workers = max(1, min(self.workers, total))
        if n_workers == 1:
            work()
        else:
            threads = [
                threading.Thread(target=work, name=f"replay-{i}", daemon=True) for i in range(n_workers)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if failures:
            # A real error first; otherwise the reason the pass stopped (link down, rate limit...).
            raise next((f for f in failures if not isinstance(f, _StopPass)), failures[0])

    def _transmit(self, doc: dict[str, Any], report: ReplayReport) -> None:
        doc_id = int(doc["id"])
        payload = load_json(doc["payload"])
        self.store.documents.transition(
            doc_id,
            S.TRANSMITINDO,
            attempts=int(doc["attempts"]) + 1,
            owner=self.lease.claim(),
            note="transmitindo contingência",
        )
        crash_point("replay_before_post")
        try:
            result = self._call(
                lambda: doc_api(self.ctx, doc).emit(
                    doc["ref"], payload, offline=True, priority=Priority.REPLAY, timeout=REPLAY_TIMEOUT
                )
            )
        except NotDelivered as exc:
            self.store.documents.transition(
                doc_id, S.CONTINGENCIA_PENDENTE, last_error=str(exc), note="sem conexão"
            )
            self._link(False)
            raise _LinkDown("sem conexão com a API") from exc
        except _StopPass:
            self.store.documents.transition(doc_id, S.CONTINGENCIA_PENDENTE, note="transmissão adiada")
            raise
        except InDoubt as exc:
            # Maybe transmitted: the next pass consults the ref before sending again.
            self.store.documents.transition(
                doc_id,
                S.TRANSMITINDO,
                last_error=str(exc),
                note="sem resposta",
                next_attempt_at=self._backoff(doc),
            )
            self._count("adiadas")
            return
        except AuthenticationError as exc:
            self.store.documents.transition(
                doc_id, S.CONTINGENCIA_PENDENTE, last_error=str(exc), note="token recusado"
            )
            raise _StopPass("Token da API recusado (HTTP 403): verifique focus.token e o ambiente.") from exc
        except ApiError as exc:
            self._transmit_api_error(doc, exc, report)
            return
        crash_point("replay_after_post")
        self._link(True)
        from pos_app.core.focus.answer_check import status_problem

        unknown = status_problem(result.raw)
        if unknown:
            # Never "fix and resend" on a status we cannot read: in doubt, consulted on the next pass.
            self.store.documents.transition(
                doc_id,
                S.TRANSMITINDO,
                http_status=result.http_status,
                response=result.raw,
                last_error=unknown,
                next_attempt_at=self._backoff(doc),
                note=f"resposta incerta: {unknown}",
            )
            report.para_gerente.append({"ref": doc["ref"], "motivo": f"{unknown}; será consultada de novo"})
            return
        if result.status == F.AUTORIZADO:
            self._record_authorized(doc, result, report)
        elif result.status == F.PROCESSANDO_AUTORIZACAO:
            self.store.documents.transition(
                doc_id,
                S.TRANSMITINDO,
                response=result.raw,
                next_attempt_at=self._backoff(doc),
                note="em processamento",
            )
            self._count("adiadas")
        elif result.status == F.ERRO_AUTORIZACAO and (result.status_sefaz or "") in SEFAZ_UNAVAILABLE:
            self.store.documents.transition(
                doc_id,
                S.CONTINGENCIA_PENDENTE,
                http_status=result.http_status,
                response=result.raw,
                last_error=f"SEFAZ indisponível: {result.mensagem_sefaz}",
                next_attempt_at=self._backoff(doc),
            )
            raise _StopPass(f"SEFAZ indisponível ({result.status_sefaz}): {result.mensagem_sefaz}")
        elif (
            result.status in (F.DENEGADO, F.CANCELADO)
            or (result.status_sefaz or "") == SEFAZ_DUPLICATE_NUMBER
        ):
            self._final_outcome(
                doc,
                result.status,
                result.status_sefaz,
                result.mensagem_sefaz or "",
                result.raw,
                result.http_status,
                report,
            )
        else:
            self._needs_correction(
                doc,
                result.status_sefaz or result.status,
                result.mensagem_sefaz or "",
                result.raw,
                result.http_status,
                report,
            )

    def _transmit_api_error(self, doc: dict[str, Any], exc: ApiError, report: ReplayReport) -> None:
        doc_id = int(doc["id"])
        if exc.codigo == "nfe_autorizada":
            # Already transmitted (an answer lost in a crash): read and record it.
            consulted = self._consult(doc["ref"], doc)
            if consulted is not None and consulted.status == F.AUTORIZADO:
                self._record_authorized(doc, consulted, report)
                return
            if consulted is not None and consulted.status in (F.DENEGADO, F.CANCELADO):
                # Never authorized again: a final state, not "em processamento" forever.
                self._final_outcome(
                    doc,
                    consulted.status,
                    consulted.status_sefaz,
                    consulted.mensagem_sefaz or "",
                    consulted.raw,
                    consulted.http_status,
                    report,
                )
                return
        if exc.codigo in ("nfe_autorizada", "em_processamento"):
            self.store.documents.transition(
                doc_id,
                S.TRANSMITINDO,
                http_status=exc.status_code,
                response=exc.body,
                note="em processamento na API",
                next_attempt_at=self._backoff(doc),
            )
            self._count("adiadas")
            return
        if exc.codigo in CONFIG_ERRORS:
            # Not this note's fault: back to the queue untouched (no error filed on it), one warning for
            # the terminal, and the pass stops (paused until the account is fixed).
            self.store.documents.transition(
                doc_id,
                S.CONTINGENCIA_PENDENTE,
                http_status=exc.status_code,
                response=exc.body,
                attempts=int(doc["attempts"]),
                note="transmissão pausada: configuração da conta Focus",
            )
            api_config_errors.remember(self.ctx, exc.codigo or "", exc.mensagem or str(exc))
            raise _StopPass(api_config_errors.warning(self.ctx) or f"Configuração da conta: {exc}")
        self._needs_correction(doc, exc.codigo, str(exc), exc.body, exc.status_code, report)

    def _final_outcome(
        self,
        doc: dict[str, Any],
        status: str,
        code: str | None,
        message: str,
        raw: Any,
        http_status: int | None,
        report: ReplayReport,
    ) -> None:
        """Denied, cancelled or duplicate (539): a final state with the manager's explanation, never retried."""
        numero, serie = doc["numero"], doc["serie"]
        to_status: S
        if status == F.DENEGADO:
            to_status, why = S.CONTINGENCIA_DENEGADA, explain_denied(numero, serie, message)
        elif status == F.CANCELADO:
            to_status, why = S.CANCELADO, explain_cancelled(numero, serie)
        else:
            to_status, why = S.CONTINGENCIA_DUPLICADA, explain_duplicate(numero, serie, message)
        self.store.documents.transition(
            int(doc["id"]),
            to_status,
            http_status=http_status,
            response=raw,
            status_sefaz=code,
            mensagem_sefaz=message or None,
            last_error=why,
            next_attempt_at=None,
            note=f"final: {to_status} (sem novo envio)",
        )
        report.para_gerente.append({"ref": doc["ref"], "resultado": to_status, "motivo": why})

    def _needs_correction(
        self,
        doc: dict[str, Any],
        code: str | None,
        message: str,
        raw: Any,
        http_status: int | None,
        report: ReplayReport,
    ) -> None:
        self.store.documents.transition(
            int(doc["id"]),
            S.CONTINGENCIA_ERRO,
            http_status=http_status,
            response=raw,
            status_sefaz=code,
            mensagem_sefaz=message,
            last_error=message,
            note="rejeitada na transmissão: corrigir e reenviar",
        )
        report.com_erro.append(
            {
                "ref": doc["ref"],
                "numero": doc["numero"],
                "serie": doc["serie"],
                "status_sefaz": code,
                "mensagem_sefaz": message,
            }
        )

    def _record_authorized(self, doc: dict[str, Any], result: NfceResult, report: ReplayReport) -> None:
        doc_id = int(doc["id"])
        if doc["kind"] != "contingencia":
            self.emission.record(doc_id, result, receipt=self.render_receipts)
            report.emitidas.append(doc["ref"])
            return
        problems = self._contingency_answer_problems(doc, result)
        if problems:
            again = self._consult(doc["ref"], doc)
            if (
                again is not None
                and again.status == F.AUTORIZADO
                and not self._contingency_answer_problems(doc, again)
            ):
                result = again
            else:
                reason = "Resposta da API divergente: " + "; ".join(problems)
                self.store.documents.transition(
                    doc_id,
                    S.TRANSMITINDO,
                    http_status=result.http_status,
                    response=result.raw,
                    last_error=reason,
                    next_attempt_at=self._backoff(doc),
                    note=reason + " (consultar de novo)",
                )
                report.para_gerente.append({"ref": doc["ref"], "motivo": reason})
                return
        same_key = not result.chave or result.chave == doc["chave"]
        self.store.documents.transition(
            doc_id,
            S.AUTORIZADO,
            http_status=result.http_status,
            response=result.raw,
            status_sefaz=result.status_sefaz,
            mensagem_sefaz=result.mensagem_sefaz,
            protocolo=result.protocolo,
            data_autorizacao=result.data_autorizacao or iso(self._now()),
            caminho_xml=result.caminho_xml,
            caminho_danfe=result.caminho_danfe,
            # Reprints use the QR Code Focus returns for the authorized note; the v3 offline one we printed
            # is kept in qrcode_url_offline (audit, and the first copy the consumer holds).
            qrcode_url=result.qrcode_url or doc["qrcode_url"],
            qrcode_url_offline=doc["qrcode_url"],
            # Keep the key we printed; record the API's if it differs (it must not).
            chave=doc["chave"] or result.chave,
            last_error=None if same_key else f"chave da API: {result.chave}",
            next_attempt_at=None,
            # Not re-rendered here (it would cost more than the request): a reprint renders the
            # authorized version (protocol, no "Pendente de autorização", one copy) on demand.
            receipt_path=None,
            note="contingência autorizada" if same_key else f"ATENÇÃO: chave da API difere: {result.chave}",
        )
        report.transmitidas.append(doc["ref"])
        api_config_errors.clear(self.ctx)  # the account works again
        # A cancel the manager asked for while the note waited: carry it out now (never raises).
        from pos_app.core.services.cancellation import CancellationService

        for done in CancellationService(self.ctx).carry_out_intents(doc_id, now=self._now()):
            (report.reconciliadas if done.cancelled else report.para_gerente).append(
                {"ref": doc["ref"], "resultado": done.mensagem, "motivo": done.mensagem}
            )

    def _contingency_answer_problems(self, doc: dict[str, Any], result: NfceResult) -> list[str]:
        from pos_app.core.focus.answer_check import answer_problems, status_problem

        bad = status_problem(result.raw)
        if bad:
            return [bad]
        emitente = self.ctx.emitente()
        return answer_problems(
            result.chave,
            uf=emitente.uf,
            cnpj=emitente.cnpj,
            sent=load_json(doc["payload"]),
            answer_serie=result.serie,
            answer_numero=result.numero,
            tp_emis={int(doc.get("tp_emis") or 9)},
            expected_key=doc["chave"],
            modelo=int(doc.get("modelo") or 65),
        )

    def _recheck_unknown(self, report: ReplayReport) -> None:
        """Notes left ``status_desconhecido``: consult again; record once the API says something known."""
        for doc in self.store.documents.with_status(S.STATUS_DESCONHECIDO):
            self._check_stop()
            result = self._consult(doc["ref"], doc)
            if result is None or self.emission.answer_problems(doc, result):
                report.para_gerente.append(
                    {
                        "ref": doc["ref"],
                        "motivo": "situação desconhecida na API: confira no painel da Focus NFe",
                    }
                )
                continue
            if result.status == F.PROCESSANDO_AUTORIZACAO:
                continue
            sale_result = self.emission.record(
                int(doc["id"]), result, receipt=self.render_receipts, consulted=True
            )
            if sale_result.emitido:
                report.emitidas.append(doc["ref"])

    # 4b ------------------------------------------------------------------------------------
    def _resolve_actions(self, report: ReplayReport) -> None:
        """Manager actions written ahead whose answer never arrived (cancel, inutilização, e-mail)."""
        from pos_app.core.services.pending_actions import PendingActions

        self._check_stop()
        actions = PendingActions(self.ctx)
        if not actions.open():
            return
        done = actions.resolve_pending()
        for label in done.concluidas:
            report.reconciliadas.append({"ref": label, "resultado": "confirmado pela API"})
        for label in done.nao_efetivadas:
            report.reconciliadas.append(
                {"ref": label, "resultado": "não efetivado na API (peça de novo se quiser)"}
            )
        for label in done.manuais:
            report.para_gerente.append(
                {"ref": label, "motivo": "resultado desconhecido: verifique no painel da Focus NFe"}
            )

    def _resolve_rps(self, report: ReplayReport) -> None:
        """RPS batches whose request never got its answer (a crash, or no answer): consulted by ref."""
        from pos_app.core.services.rps import RpsService

        self._check_stop()
        for ref, resultado in RpsService(self.ctx).resolve_open():
            report.reconciliadas.append({"ref": ref, "resultado": resultado})

    # 4c ------------------------------------------------------------------------------------
    def _econf(self, report: ReplayReport) -> None:
        """ECONF of the notes authorized since (core/services/econf.py): never blocks a sale."""
        from pos_app.core.services.econf import econf_for_replay

        self._check_stop()
        try:
            done = econf_for_replay(self.ctx, self._call, self._check_stop)
        except NotDelivered as exc:
            self._link(False)
            raise _LinkDown("sem conexão com a API") from exc
        except RateLimited as exc:
            raise _StopPass(str(exc)) from exc
        for ref in done.em_duvida:
            report.para_gerente.append(
                {
                    "ref": ref,
                    "motivo": "ECONF sem confirmação: confira no painel da Focus NFe (pos-app econf listar)",
                }
            )
        for item in done.rejeitados:
            report.para_gerente.append({"ref": item["ref"], "motivo": f"ECONF rejeitado: {item['mensagem']}"})
        report.econf_registrados.extend(done.registrados)

    # 4 -------------------------------------------------------------------------------------
    def _reconcile(self, report: ReplayReport) -> None:
        for doc in self.store.documents.with_status(S.EM_DUVIDA):
            self._check_stop()
            result = self._consult(doc["ref"], doc)
            doc_id = int(doc["id"])
            if result is None or result.status in (F.ERRO_AUTORIZACAO, F.DENEGADO):
                self.store.documents.transition(
                    doc_id,
                    S.ENCERRADO,
                    response=result.raw if result else None,
                    note="tentativa não autorizada: nada a fazer",
                )
                report.reconciliadas.append({"ref": doc["ref"], "resultado": "não autorizada; encerrada"})
                continue
            if result.status == F.CANCELADO:
                self.store.documents.transition(
                    doc_id,
                    S.CANCELADO,
                    response=result.raw,
                    caminho_xml_cancelamento=result.caminho_xml_cancelamento,
                    note="tentativa já cancelada",
                )
                report.reconciliadas.append({"ref": doc["ref"], "resultado": "já estava cancelada"})
                continue
            if result.status != F.AUTORIZADO:
                continue  # still processing: next pass
            self._cancel_duplicate(doc, result, report)

    def _cancel_duplicate(self, doc: dict[str, Any], result: NfceResult, report: ReplayReport) -> None:
        """The in-doubt attempt was authorized after all; the sale has a contingency note too."""
        doc_id = int(doc["id"])
        auth_at = _parse(result.data_autorizacao) or _parse(doc["data_emissao"]) or self._now()
        # The API's key/number are kept only when they match what was sent (issue 18); the cancel goes
        # by ref either way, so whatever the API authorized under this ref is cancelled.
        problems = self.emission.answer_problems(doc, result)
        key_fields: dict[str, Any] = (
            {} if problems else {"chave": result.chave, "numero": result.numero, "serie": result.serie}
        )
        self.store.documents.transition(
            doc_id,
            S.EM_DUVIDA,
            response=result.raw,
            **key_fields,
            protocolo=result.protocolo,
            data_autorizacao=iso(auth_at),
            caminho_xml=result.caminho_xml,
            note="tentativa autorizada: cancelar (duplicidade com a contingência)"
            + (f"; resposta não confere: {'; '.join(problems)}" if problems else ""),
        )
        substitute = self.store.database.query_one(
            "SELECT chave FROM fiscal_documents WHERE replaces_document_id = ?", [doc_id]
        )
        if self._now() - auth_at <= CANCEL_WINDOWS.get(int(doc.get("modelo") or 65), CANCEL_WINDOW):
            try:
                cancel = self._call(
                    lambda: doc_api(self.ctx, doc).cancel(
                        doc["ref"], RECONCILE_JUSTIFICATIVA, priority=Priority.REPLAY
                    )
                )
            except NotDelivered as exc:
                raise _LinkDown("sem conexão com a API") from exc
            except FocusError as exc:
                report.para_gerente.append({"ref": doc["ref"], "motivo": f"cancelamento falhou: {exc}"})
                return
            crash_point("reconcile_after_cancel")
            if cancel.status == F.CANCELADO:
                self.store.documents.transition(
                    doc_id,
                    S.CANCELADO,
                    http_status=cancel.http_status,
                    response=cancel.raw,
                    caminho_xml_cancelamento=cancel.caminho_xml_cancelamento,
                    note="cancelada na reconciliação",
                )
                report.reconciliadas.append({"ref": doc["ref"], "resultado": "autorizada; cancelada"})
                return
            motivo = (
                f"cancelamento recusado pela SEFAZ ({cancel.status_sefaz} {cancel.mensagem_sefaz}): pedir "
                "cancelamento por substituição (evento 110112, até 168 h)"
            )
        else:
            prazo = "24 horas" if int(doc.get("modelo") or 65) == 55 else "30 minutos"
            motivo = f"autorizada há mais de {prazo}: não pode mais ser cancelada normalmente"
        chave_sub = substitute["chave"] if substitute else None
        motivo += (
            f". A venda já tem a nota de contingência (chave {chave_sub}); esta tentativa ficou autorizada em "
            f"duplicidade (chave {result.chave}). Peça ao contador o cancelamento por substituição (evento "
            "110112, até 168 h da autorização), citando a chave da nota de contingência como substituta."
        )
        self.store.documents.transition(doc_id, S.SUBSTITUICAO_PENDENTE, note=motivo, last_error=motivo)
        report.para_gerente.append({"ref": doc["ref"], "motivo": motivo})

    # 5 -------------------------------------------------------------------------------------
    def _follow_focus_contingency(self, report: ReplayReport) -> None:
        docs = self.store.database.query(
            "SELECT * FROM fiscal_documents WHERE focus_contingencia = 1 AND focus_contingencia_efetivada = 0 "
            "AND +status = ? ORDER BY id",
            [S.AUTORIZADO],  # +: served by the partial index idx_docs_focus_open
        )
        for doc in docs:
            self._check_stop()
            result = self._consult(doc["ref"], doc)
            if result is None:
                continue
            tentativa = (
                json.dumps(result.tentativa_anterior, ensure_ascii=False)
                if result.tentativa_anterior
                else None
            )
            if not result.contingencia_offline_efetivada:
                if tentativa and tentativa != doc["tentativa_anterior"]:
                    self.store.documents.update(int(doc["id"]), tentativa_anterior=tentativa)
                continue
            self.store.documents.transition(
                int(doc["id"]),
                S.AUTORIZADO,
                response=result.raw,
                focus_contingencia_efetivada=1,
                caminho_xml=result.caminho_xml or doc["caminho_xml"],
                caminho_danfe=result.caminho_danfe,
                qrcode_url=result.qrcode_url or doc["qrcode_url"],
                protocolo=result.protocolo or doc["protocolo"],
                data_autorizacao=result.data_autorizacao or doc["data_autorizacao"],
                tentativa_anterior=tentativa or doc["tentativa_anterior"],
                xml_path=None,  # the final XML replaces the temporary one: download it again
                receipt_path=None,  # a reprint renders the final DANFCe (no contingency notice)
                note="contingência Focus efetivada",
            )
            previous = (result.tentativa_anterior or {}).get("status")
            report.reconciliadas.append(
                {
                    "ref": doc["ref"],
                    "resultado": "contingência da Focus efetivada"
                    + (f"; tentativa anterior: {previous}" if previous else ""),
                }
            )

    # 6 -------------------------------------------------------------------------------------
    def _download_xml(self, report: ReplayReport, limit: int = 50) -> None:
        docs = self.store.database.query(
            "SELECT * FROM fiscal_documents WHERE +status IN (?, ?) AND caminho_xml IS NOT NULL "
            "AND xml_path IS NULL AND NOT (focus_contingencia = 1 AND focus_contingencia_efetivada = 0) "
            "ORDER BY id LIMIT ?",
            [*sorted(ds.HAS_API_XML), limit],
        )
        for doc in docs:
            self._check_stop()
            caminho = str(doc["caminho_xml"])
            try:
                content = self._call(lambda: self.ctx.nfce().download(caminho))  # noqa: B023 - called at once
            except (NotDelivered, InDoubt) as exc:
                raise _StopPass(str(exc)) from exc
            except FocusError:
                continue
            store_xml(self.ctx, doc, content)
            report.xml_baixados += 1

    # helpers -------------------------------------------------------------------------------
    def _call(self, fn: Callable[[], T]) -> T:
        """Run one API call under the shared budget; a 429 is waited out (``Rate-Limit-Reset``)."""
        waited = 0.0
        while True:
            pause = self.ctx.budget.wait_time(Priority.REPLAY)
            if pause > 0:
                if waited + pause > self.max_rate_wait:
                    raise _StopPass(f"limite de requisições da API: nova tentativa em {pause:.0f} s")
                self._sleep(pause)
                waited += pause
            try:
                return fn()
            except RateLimited as exc:
                self._count("esperas_limite")
                pause = max(
                    self.ctx.budget.wait_time(Priority.REPLAY), min(float(exc.reset_seconds), 60.0), 0.2
                )
                if waited + pause > self.max_rate_wait:
                    raise _StopPass(f"limite de requisições da API: nova tentativa em {pause:.0f} s") from exc
                self._sleep(pause)
                waited += pause

    def _count(self, name: str, n: int = 1) -> None:
        with self._count_lock:
            setattr(self._report, name, getattr(self._report, name) + n)

    def _sleep(self, seconds: float) -> None:
        if self._stop is not None:
            if self._stop.wait(seconds):
                raise _StopPass("interrompido")
        else:
            self._sleep_fn(seconds)

    def _check_stop(self) -> None:
        if self._stop is not None and self._stop.is_set():
            raise _StopPass("interrompido")

    def _consult(self, ref: str, doc: dict[str, Any] | None = None) -> NfceResult | None:
        api = doc_api(self.ctx, doc or {})
        try:
            return self._call(lambda: api.consult(ref, priority=Priority.REPLAY, timeout=REPLAY_TIMEOUT))
        except NotDelivered as exc:
            self._link(False)
            raise _LinkDown("sem conexão com a API") from exc
        except (InDoubt, ApiError) as exc:
            raise _StopPass(str(exc)) from exc

    def _busy(self, doc: dict[str, Any]) -> bool:
        """Is a live sale (of this process, or of another process that still runs) sending it?"""
        if in_flight(self.ctx.data_dir, int(doc["id"])):
            return True
        owner = doc.get("owner")
        return bool(owner) and owner != self.lease.token and self.lease.alive(owner)

    def _link(self, online: bool) -> None:
        if self.ctx.monitor is not None:
            self.ctx.monitor.report(online)

    def _backoff(self, doc: dict[str, Any]) -> str:
        step = BACKOFF_SECONDS[min(int(doc["attempts"]), len(BACKOFF_SECONDS) - 1)]
        return iso(self._now() + timedelta(seconds=step))


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
