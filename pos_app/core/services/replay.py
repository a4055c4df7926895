"""Background work that brings every document to a final state, oldest first.

One pass (``run_once``) does, in order:
1. resume documents a crash left in flight (``enviando``, ``transmitindo``) by consulting their ref;
2. emit sales that waited for the link (São Paulo, or interrupted before the first send);
3. transmit contingency notes (``forma_emissao=offline`` with their own numero, serie, codigo_unico
   and original data_emissao); a SEFAZ rejection leaves the note in ``contingencia_erro``;
4. reconcile in-doubt online attempts (consult; cancel if it was authorized after all);
5. follow Focus's own automatic contingency until ``contingencia_offline_efetivada``;
6. download the authorized XML of every note (legal retention).
Nothing is ever renumbered, dropped or voided. Live sales always come first: every request here
uses the REPLAY priority of the shared rate budget.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pos_app.core.focus.errors import ApiError, FocusError, InDoubt, NotDelivered, RateLimited
from pos_app.core.focus.nfce import NfceResult
from pos_app.core.focus.ratelimit import Priority
from pos_app.core.services.context import AppContext
from pos_app.core.services.emission import IN_FLIGHT
from pos_app.core.store.db import iso

log = logging.getLogger("pos_app.replay")

REPLAY_TIMEOUT = 30.0
BACKOFF_SECONDS = (15, 30, 60, 120, 300, 600)
CANCEL_WINDOW = timedelta(minutes=30)
RECONCILE_JUSTIFICATIVA = (
    "Venda reemitida em contingencia offline por falta de resposta da SEFAZ; nota em duplicidade cancelada."
)


class _StopPass(Exception):
    """Link down or rate limit too long: end this pass, try again later."""


@dataclass
class ReplayReport:
    transmitidas: list[str] = field(default_factory=list)
    com_erro: list[dict[str, Any]] = field(default_factory=list)
    reconciliadas: list[dict[str, Any]] = field(default_factory=list)
    para_gerente: list[dict[str, Any]] = field(default_factory=list)
    emitidas: list[str] = field(default_factory=list)
    adiadas: int = 0
    xml_baixados: int = 0
    interrompido: str | None = None
    restantes: int = 0

    @property
    def ok(self) -> bool:
        return self.interrompido is None and not self.com_erro

    def to_json(self) -> dict[str, Any]:
        return {
            "transmitidas": len(self.transmitidas),
            "refs_transmitidas": self.transmitidas,
            "com_erro": self.com_erro,
            "reconciliadas": self.reconciliadas,
            "para_gerente": self.para_gerente,
            "emitidas_apos_reconexao": self.emitidas,
            "adiadas": self.adiadas,
            "xml_baixados": self.xml_baixados,
            "interrompido": self.interrompido,
            "pendentes_restantes": self.restantes,
        }

    def lines(self) -> list[str]:
        out = [f"Notas em contingência transmitidas: {len(self.transmitidas)}"]
        if self.emitidas:
            out.append(f"Vendas emitidas após a volta da conexão: {len(self.emitidas)}")
        for e in self.com_erro:
            out.append(f"Precisa de correção: {e['ref']} — SEFAZ {e['status_sefaz']}: {e['mensagem_sefaz']}")
        for r in self.reconciliadas:
            out.append(f"Tentativa {r['ref']}: {r['resultado']}")
        for m in self.para_gerente:
            out.append(f"Atenção do gerente: {m['ref']} — {m['motivo']}")
        if self.interrompido:
            out.append(f"Interrompido: {self.interrompido}")
        out.append(f"Ainda pendentes: {self.restantes}")
        return out


class ReplayService:
    def __init__(self, ctx: AppContext, *, now: Callable[[], datetime] | None = None) -> None:
        from pos_app.core.services.emission import EmissionService

        self.ctx = ctx
        self.store = ctx.store
        self.emission = EmissionService(ctx)
        self._now = now or (lambda: datetime.now(UTC))
        self.progress: Callable[[int, int], None] | None = None

    # -- pass --------------------------------------------------------------------------------
    def run_once(self, *, stop: threading.Event | None = None, ignore_backoff: bool = True) -> ReplayReport:
        report = ReplayReport()
        try:
            self._resume_in_flight(report)
            self._emit_waiting(report)
            self._transmit_contingency(report, stop, ignore_backoff)
            self._reconcile(report)
            self._follow_focus_contingency(report)
            self._download_xml(report)
        except _StopPass as exc:
            report.interrompido = str(exc)
        report.restantes = len(self.store.documents.with_status("contingencia_pendente", "transmitindo"))
        return report

    # 1 -------------------------------------------------------------------------------------
    def _resume_in_flight(self, report: ReplayReport) -> None:
        for doc in self.store.documents.with_status("enviando", "transmitindo"):
            if int(doc["id"]) in IN_FLIGHT:
                continue
            result = self._consult(doc["ref"])
            if result is not None and result.status == "autorizado":
                self._record_authorized(doc, result, report)
            elif doc["status"] == "transmitindo":
                self.store.documents.transition(int(doc["id"]), "contingencia_pendente",
                                                note="retomada após interrupção", response=result.raw if result else None)
            else:
                # The online attempt never reached SEFAZ: the sale still needs its note.
                self.store.documents.transition(int(doc["id"]), "pendente", note="retomada após interrupção")
                self._emit_online(doc, report)

    # 2 -------------------------------------------------------------------------------------
    def _emit_waiting(self, report: ReplayReport) -> None:
        for doc in self.store.documents.with_status("aguardando_conexao", "pendente"):
            if int(doc["id"]) in IN_FLIGHT or (doc["status"] == "pendente" and doc["attempts"] == 0
                                               and not self._older_than(doc, 60)):
                continue  # a live sale of this process is about to send it
            self._emit_online(doc, report)

    def _emit_online(self, doc: dict[str, Any], report: ReplayReport) -> None:
        if doc["status"] == "aguardando_conexao":
            self.store.documents.transition(int(doc["id"]), "pendente", note="conexão de volta")
        result = self.emission.emit(int(doc["id"]))
        if result.emitido:
            report.emitidas.append(result.ref)
        latest = self.store.documents.get(int(doc["id"]))
        if latest and latest["status"] in ("aguardando_conexao",):
            raise _StopPass("sem conexão com a API")

    # 3 -------------------------------------------------------------------------------------
    def _transmit_contingency(self, report: ReplayReport, stop: threading.Event | None, ignore_backoff: bool) -> None:
        docs = self.store.documents.with_status("contingencia_pendente", order="data_emissao, id")
        total = len(docs)
        for n, doc in enumerate(docs, start=1):
            if stop is not None and stop.is_set():
                raise _StopPass("interrompido pelo usuário")
            if not ignore_backoff and doc["next_attempt_at"] and datetime.fromisoformat(doc["next_attempt_at"]) > self._now():
                report.adiadas += 1
                continue
            self._transmit(doc, report)
            if self.progress:
                self.progress(n, total)

    def _transmit(self, doc: dict[str, Any], report: ReplayReport) -> None:
        doc_id = int(doc["id"])
        payload = json.loads(doc["payload"])
        self.store.documents.transition(doc_id, "transmitindo", attempts=int(doc["attempts"]) + 1,
                                        note="transmitindo contingência")
        try:
            result = self.ctx.nfce().emit(doc["ref"], payload, offline=True, priority=Priority.REPLAY,
                                          timeout=REPLAY_TIMEOUT)
        except NotDelivered as exc:
            self.store.documents.transition(doc_id, "contingencia_pendente", last_error=str(exc), note="sem conexão")
            self._link(False)
            raise _StopPass("sem conexão com a API") from exc
        except RateLimited as exc:
            self.store.documents.transition(doc_id, "contingencia_pendente", last_error=str(exc), note="limite de requisições")
            raise _StopPass(f"limite de requisições da API (aguardar {exc.reset_seconds:.0f} s)") from exc
        except InDoubt as exc:
            # Maybe transmitted: the next pass consults the ref before sending again.
            self.store.documents.transition(doc_id, "transmitindo", last_error=str(exc), note="sem resposta",
                                            next_attempt_at=self._backoff(doc))
            report.adiadas += 1
            return
        except ApiError as exc:
            if exc.codigo == "nfe_autorizada":
                consulted = self._consult(doc["ref"])
                if consulted is not None and consulted.status == "autorizado":
                    self._record_authorized(doc, consulted, report)
                    return
            if exc.codigo == "em_processamento":
                self.store.documents.transition(doc_id, "transmitindo", note="em processamento na API",
                                                next_attempt_at=self._backoff(doc))
                report.adiadas += 1
                return
            self._needs_correction(doc, exc.codigo, exc.mensagem, exc.body, exc.status_code, report)
            return
        self._link(True)
        if result.status == "autorizado":
            self._record_authorized(doc, result, report)
        elif result.status == "processando_autorizacao":
            self.store.documents.transition(doc_id, "transmitindo", response=result.raw,
                                            next_attempt_at=self._backoff(doc))
            report.adiadas += 1
        else:
            self._needs_correction(doc, result.status_sefaz or result.status, result.mensagem_sefaz or "",
                                   result.raw, result.http_status, report)

    def _needs_correction(self, doc: dict[str, Any], code: str | None, message: str, raw: Any,
                          http_status: int | None, report: ReplayReport) -> None:
        self.store.documents.transition(
            int(doc["id"]), "contingencia_erro", http_status=http_status, response=raw, status_sefaz=code,
            mensagem_sefaz=message, last_error=message, note="rejeitada na transmissão: corrigir e reenviar",
        )
        report.com_erro.append({"ref": doc["ref"], "numero": doc["numero"], "serie": doc["serie"],
                                "status_sefaz": code, "mensagem_sefaz": message})

    def _record_authorized(self, doc: dict[str, Any], result: NfceResult, report: ReplayReport) -> None:
        doc_id = int(doc["id"])
        if doc["kind"] == "contingencia":
            self.store.documents.transition(
                doc_id, "autorizado", http_status=result.http_status, response=result.raw,
                status_sefaz=result.status_sefaz, mensagem_sefaz=result.mensagem_sefaz,
                protocolo=result.protocolo, data_autorizacao=result.data_autorizacao or iso(self._now()),
                caminho_xml=result.caminho_xml, caminho_danfe=result.caminho_danfe,
                # Keep the key we printed; record the API's if it differs (it must not).
                chave=doc["chave"] or result.chave, last_error=None,
                note=None if not result.chave or result.chave == doc["chave"] else f"chave da API difere: {result.chave}",
            )
            report.transmitidas.append(doc["ref"])
            try:
                self.emission.receipts.render_for_document(doc_id)
            except Exception:  # noqa: BLE001
                log.exception("falha ao regenerar DANFCe de %s", doc["ref"])
            # A cancel the manager asked for while the note waited: carry it out now (never raises).
            from pos_app.core.services.cancellation import CancellationService

            for done in CancellationService(self.ctx).carry_out_intents(doc_id, now=self._now()):
                (report.reconciliadas if done.cancelled else report.para_gerente).append(
                    {"ref": doc["ref"], "resultado": done.mensagem, "motivo": done.mensagem})
        else:
            self.emission.record(doc_id, result)
            report.emitidas.append(doc["ref"])

    # 4 -------------------------------------------------------------------------------------
    def _reconcile(self, report: ReplayReport) -> None:
        for doc in self.store.documents.with_status("em_duvida"):
            result = self._consult(doc["ref"])
            doc_id = int(doc["id"])
            if result is None or result.status in ("erro_autorizacao", "denegado"):
                self.store.documents.transition(doc_id, "encerrado", response=result.raw if result else None,
                                                note="tentativa não autorizada: nada a fazer")
                report.reconciliadas.append({"ref": doc["ref"], "resultado": "não autorizada; encerrada"})
                continue
            if result.status == "cancelado":
                self.store.documents.transition(doc_id, "cancelado", response=result.raw,
                                                note="tentativa já cancelada")
                report.reconciliadas.append({"ref": doc["ref"], "resultado": "já estava cancelada"})
                continue
            if result.status != "autorizado":
                continue  # still processing: next pass
            # Authorized after all: the sale has a contingency note too. Cancel this one.
            auth_at = _parse(result.data_autorizacao) or _parse(doc["data_emissao"]) or self._now()
            self.store.documents.transition(
                doc_id, "em_duvida", response=result.raw, chave=result.chave, numero=result.numero,
                serie=result.serie, protocolo=result.protocolo, data_autorizacao=iso(auth_at),
                note="tentativa autorizada: cancelar (duplicidade com a contingência)",
            )
            if self._now() - auth_at <= CANCEL_WINDOW:
                try:
                    cancel = self.ctx.nfce().cancel(doc["ref"], RECONCILE_JUSTIFICATIVA, priority=Priority.REPLAY)
                except (NotDelivered, RateLimited) as exc:
                    raise _StopPass(str(exc)) from exc
                except FocusError as exc:
                    report.para_gerente.append({"ref": doc["ref"], "motivo": f"cancelamento falhou: {exc}"})
                    continue
                if cancel.status == "cancelado":
                    self.store.documents.transition(doc_id, "cancelado", http_status=cancel.http_status,
                                                    response=cancel.raw, caminho_xml_cancelamento=cancel.caminho_xml_cancelamento,
                                                    note="cancelada na reconciliação")
                    report.reconciliadas.append({"ref": doc["ref"], "resultado": "autorizada; cancelada"})
                    continue
                motivo = f"cancelamento recusado: {cancel.status_sefaz} {cancel.mensagem_sefaz}"
            else:
                motivo = (
                    "autorizada há mais de 30 minutos: pedir cancelamento por substituição (evento 110112, até "
                    "168 h) citando a chave da nota de contingência"
                )
            self.store.documents.transition(doc_id, "substituicao_pendente", note=motivo)
            report.para_gerente.append({"ref": doc["ref"], "motivo": motivo})

    # 5 -------------------------------------------------------------------------------------
    def _follow_focus_contingency(self, report: ReplayReport) -> None:
        docs = self.store.database.query(
            "SELECT * FROM fiscal_documents WHERE focus_contingencia = 1 AND focus_contingencia_efetivada = 0 "
            "AND status = 'autorizado'"
        )
        for doc in docs:
            result = self._consult(doc["ref"])
            if result is None or not result.contingencia_offline_efetivada:
                continue
            self.store.documents.transition(
                int(doc["id"]), "autorizado", response=result.raw, focus_contingencia_efetivada=1,
                caminho_xml=result.caminho_xml, caminho_danfe=result.caminho_danfe,
                qrcode_url=result.qrcode_url or doc["qrcode_url"], protocolo=result.protocolo or doc["protocolo"],
                tentativa_anterior=json.dumps(result.tentativa_anterior) if result.tentativa_anterior else None,
                note="contingência Focus efetivada",
            )
            report.reconciliadas.append({"ref": doc["ref"], "resultado": "contingência da Focus efetivada"})

    # 6 -------------------------------------------------------------------------------------
    def _download_xml(self, report: ReplayReport) -> None:
        docs = self.store.database.query(
            "SELECT * FROM fiscal_documents WHERE status IN ('autorizado', 'cancelado') AND caminho_xml IS NOT NULL "
            "AND xml_path IS NULL ORDER BY id LIMIT 50"
        )
        for doc in docs:
            try:
                content = self.ctx.nfce().download(doc["caminho_xml"])
            except (NotDelivered, RateLimited) as exc:
                raise _StopPass(str(exc)) from exc
            except FocusError:
                continue
            month = str(doc["data_emissao"])[:7]
            folder = self.ctx.xml_dir() / month
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{doc['chave'] or doc['ref']}-nfce.xml"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(content)
            tmp.replace(path)
            self.store.documents.update(int(doc["id"]), xml_path=str(path))
            report.xml_baixados += 1

    # helpers -------------------------------------------------------------------------------
    def _consult(self, ref: str) -> NfceResult | None:
        try:
            return self.ctx.nfce().consult(ref, priority=Priority.REPLAY, timeout=REPLAY_TIMEOUT)
        except NotDelivered as exc:
            self._link(False)
            raise _StopPass("sem conexão com a API") from exc
        except (RateLimited, InDoubt) as exc:
            raise _StopPass(str(exc)) from exc

    def _older_than(self, doc: dict[str, Any], seconds: int) -> bool:
        created = _parse(doc["created_at"])
        return created is None or self._now() - created > timedelta(seconds=seconds)

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
