"""Checkout and emission: a paid sale always ends with a fiscal document.

1. The sale, its items, payments and the pending NFC-e (with its ``ref``) are written in ONE
   transaction before any network call, so a crash can never lose a paid sale.
2. The NFC-e is sent online. The outcome decides the path:
   - answered: authorized, rejected by SEFAZ (fix and resend, same ref) or refused by the API;
   - not delivered (no connection): the note is issued at once in offline contingency;
   - in doubt (sent, no answer in time): the attempt is kept for reconciliation and the sale is
     reissued in contingency under a new number of the terminal's own series.
3. In a state whose dated rule refuses offline NFC-e contingency (none today: São Paulo allows it
   since Portaria SRE 40/2024) the sale waits for the link instead.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pos_app.core.domain.sale import Sale
from pos_app.core.fiscal import chave as chave_mod
from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.cnf import generate_cnf
from pos_app.core.fiscal.document_status import DocumentStatus as S
from pos_app.core.fiscal.document_status import FocusStatus as F
from pos_app.core.fiscal.nfe_rules import (
    NFE_CONTINGENCY_JUSTIFICATIVA,
    NFE_PORTAL_CONSULTA,
    nfe_consulta_url,
    nfe_contingency_tp_emis,
)
from pos_app.core.fiscal.qrcode import qr_v3_offline
from pos_app.core.fiscal.refs import contingency_ref, sale_ref
from pos_app.core.fiscal.states import offline_contingency_allowed, qrcode_base_url, url_consulta
from pos_app.core.focus.errors import ApiError, AuthenticationError, InDoubt, NotDelivered, RateLimited
from pos_app.core.focus.nfce import NfceResult
from pos_app.core.focus.nfce_payload import build_nfce_payload, build_nfe_payload
from pos_app.core.focus.ratelimit import Priority
from pos_app.core.services import api_config_errors
from pos_app.core.services.certificates import CertificateProvider
from pos_app.core.services.context import AppContext
from pos_app.core.services.crashpoints import crash_point
from pos_app.core.services.locks import lease_for
from pos_app.core.services.nfe import choice_for_sale, doc_api
from pos_app.core.services.receipts import ReceiptService
from pos_app.core.store.packed import load_json
from pos_app.core.storeserver.series import check_serie as check_store_serie

log = logging.getLogger("pos_app.emission")

Progress = Callable[[str], None]

# Documents this process is sending right now, as (data folder, document id): a background
# replay thread of this same process must not touch them (other processes: ``locks``).
IN_FLIGHT: set[tuple[str, int]] = set()
_IN_FLIGHT_LOCK = threading.Lock()


def _noop(_: str) -> None:
    pass


# SEFAZ answers that mean "out of service", not "this note is wrong" (an NF-e goes to contingency).
SEFAZ_UNAVAILABLE = frozenset({"108", "109"})

# Online documents that may be (re)sent with their ref.
RESENDABLE = ds.RESENDABLE


def in_flight(data_dir: Path, doc_id: int) -> bool:
    with _IN_FLIGHT_LOCK:
        return (str(data_dir), doc_id) in IN_FLIGHT


def claim_in_flight(data_dir: Path, doc_id: int) -> bool:
    """Mark a document as being worked on by this process; False if it already is."""
    with _IN_FLIGHT_LOCK:
        if (str(data_dir), doc_id) in IN_FLIGHT:
            return False
        IN_FLIGHT.add((str(data_dir), doc_id))
        return True


def release_in_flight(data_dir: Path, doc_id: int) -> None:
    with _IN_FLIGHT_LOCK:
        IN_FLIGHT.discard((str(data_dir), doc_id))


@dataclass
class SaleResult:
    sale_id: int
    document_id: int
    ref: str
    status: str
    contingencia: bool
    serie: int | None
    numero: int | None
    chave: str | None
    total: Decimal
    troco: Decimal
    danfce: str | None
    mensagem: str
    status_sefaz: str | None = None
    mensagem_sefaz: str | None = None
    emitido: bool = True
    modelo: int = 65

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["total"] = f"{self.total:.2f}"
        data["troco"] = f"{self.troco:.2f}"
        return data


class EmissionService:
    def __init__(
        self,
        ctx: AppContext,
        certificates: CertificateProvider | None = None,
        *,
        render_receipts: bool = True,
    ) -> None:
        """``render_receipts=False``: no DANFCe PDFs from this service at all (bulk jobs, tests)."""
        self.ctx = ctx
        self.render_receipts = render_receipts
        self.store = ctx.store
        self.certificates = certificates or CertificateProvider(ctx.config)
        self.receipts = ReceiptService(ctx)
        self.lease = lease_for(ctx.data_dir)

    # -- checkout ---------------------------------------------------------------------------
    def checkout(
        self,
        sale: Sale,
        operador_id: int | None = None,
        progress: Progress = _noop,
        extra: dict[str, Any] | None = None,
        *,
        receipt: bool = True,
    ) -> SaleResult:
        """Validate, persist sale + pending NFC-e in one transaction, then emit it.

        ``receipt=False`` skips rendering the DANFCe PDF (bulk tests); the sale and its note are
        the same either way.
        """
        emitente = self.ctx.emitente()
        sale.validate(emitente.regime)  # also each product's CST/CSOSN against the tax regime
        # Free-space reserve: refuse the sale with a clear message before SQLite runs out of room.
        from pos_app.core.store.storage_health import check_reserve

        check_reserve(self.ctx.data_dir, int(self.ctx.config.get("armazenamento.reserva_mb") or 0))
        # Configuration problems (no token, no API URL) are refused before the sale is stored.
        self.ctx.client()
        choice = choice_for_sale(self.ctx, sale)  # NF-e 55 for a CNPJ buyer where the state's rule says so
        now = self.ctx.now()
        terminal = self.ctx.config.terminal_id
        owner = self.lease.claim()
        monitor = self.ctx.monitor
        # Unless the link is known to be down, the note is sent right after this commit: mark it
        # "enviando" in the same transaction (one disk sync less per sale). After a crash an
        # "enviando" note is consulted before anything is resent, which is right either way.
        send_now = not (monitor is not None and monitor.known_down())
        doc_id: int | None = None
        try:
            with self.store.transaction() as tx:
                sale_id = self.store.sales.insert(
                    tx, sale, terminal_id=terminal, operador_id=operador_id, created_at=now, extra=extra
                )
                ref = sale_ref(terminal, sale_id)  # letters, digits and '_' only (seed)
                if choice.cliente is not None:
                    payload = build_nfe_payload(
                        sale, emitente, now, choice.cliente, ambiente=self.ctx.ambiente
                    )
                else:
                    payload = build_nfce_payload(sale, emitente, now, ambiente=self.ctx.ambiente)
                doc_id = self.store.documents.create(
                    tx,
                    sale_id=sale_id,
                    ref=ref,
                    kind="online",
                    status=S.PENDENTE,
                    ambiente=self.ctx.ambiente,
                    data_emissao=now,
                    payload=payload,
                    owner=owner,
                    modelo=choice.modelo,
                )
                if send_now:
                    self.store.documents.transition(
                        doc_id, S.ENVIANDO, tx=tx, note="enviando para a API", attempts=1, owner=owner
                    )
                # before commit: a background pass of this process must not take it
                claim_in_flight(self.ctx.data_dir, doc_id)
                crash_point("before_commit")
        except BaseException:
            if doc_id is not None:
                release_in_flight(self.ctx.data_dir, doc_id)
            raise
        assert doc_id is not None
        try:
            crash_point("after_commit_before_send")
            return self._emit(doc_id, progress, Priority.LIVE, receipt, marked=send_now)
        finally:
            release_in_flight(self.ctx.data_dir, doc_id)

    # -- online attempt ---------------------------------------------------------------------
    def emit(
        self,
        doc_id: int,
        progress: Progress = _noop,
        *,
        priority: Priority = Priority.LIVE,
        receipt: bool = True,
    ) -> SaleResult:
        """Send a stored online document and settle the sale.

        ``pendente``/``aguardando_conexao`` (never answered) or ``erro_autorizacao``/``rejeitado``
        (resent with the same ref after a fix).
        """
        if not claim_in_flight(self.ctx.data_dir, doc_id):
            raise RuntimeError(f"documento {doc_id} já está sendo enviado")
        try:
            return self._emit(doc_id, progress, priority, receipt)
        finally:
            release_in_flight(self.ctx.data_dir, doc_id)

    def _emit(
        self, doc_id: int, progress: Progress, priority: Priority, receipt: bool, *, marked: bool = False
    ) -> SaleResult:
        """``marked``: checkout already stored the note as ``enviando`` (first attempt)."""
        doc = self._doc(doc_id)
        emitente = self.ctx.emitente()
        payload = load_json(doc["payload"])
        if not marked:
            if doc["status"] not in RESENDABLE:
                raise ValueError(f"documento {doc['ref']} no estado {doc['status']}: nada a emitir")
            monitor = self.ctx.monitor
            if monitor is not None and monitor.known_down():
                progress("Sem conexão com a API: emitindo em contingência.")
                return self._offline_path(
                    doc, "Sem conexão com a API (já detectado)", in_doubt=False, receipt=receipt
                )
            if doc["attempts"]:
                # Sent before (SP waiting for the link, a resend after a fix): the note must carry
                # the moment it is really sent (SEFAZ accepts 5 minutes of difference online).
                now = self.ctx.now()
                payload["data_emissao"] = now.isoformat(timespec="seconds")
            self.store.documents.transition(
                doc_id,
                S.ENVIANDO,
                note="enviando para a API",
                attempts=int(doc["attempts"]) + 1,
                payload=json.dumps(payload, ensure_ascii=False),
                data_emissao=payload["data_emissao"],
                owner=self.lease.claim(),
            )
        crash_point("after_enviando_before_send")
        progress(f"Enviando {_name(doc)} para a SEFAZ...")
        try:
            result = doc_api(self.ctx, doc).emit(
                doc["ref"], payload, timeout=self.ctx.config.timeout, priority=priority
            )
        except NotDelivered as exc:
            self._report_link(False)
            return self._offline_path(self._doc(doc_id), str(exc), in_doubt=False, receipt=receipt)
        except RateLimited as exc:
            # 429: the API refused before processing anything, like a request never delivered.
            return self._offline_path(self._doc(doc_id), str(exc), in_doubt=False, receipt=receipt)
        except InDoubt as exc:
            return self._offline_path(self._doc(doc_id), str(exc), in_doubt=True, receipt=receipt)
        except AuthenticationError as exc:
            self._report_link(True)
            self.store.documents.transition(
                doc_id,
                S.REJEITADO,
                http_status=exc.status_code,
                response=exc.body,
                mensagem_sefaz=exc.mensagem,
                last_error=str(exc),
                note="token recusado",
            )
            return self._result(
                doc_id,
                "Token da API recusado (HTTP 403). Verifique focus.token e o ambiente; "
                "a venda está gravada e pode ser reenviada.",
                emitido=False,
            )
        except ApiError as exc:
            self._report_link(True)
            return self._api_error(doc_id, exc, receipt)
        crash_point("after_answer_before_store")
        self._report_link(True)
        return self._record_result(doc_id, result, emitente_uf=emitente.uf, receipt=receipt)

    def _report_link(self, online: bool | None) -> None:
        if self.ctx.monitor is not None and online is not None:
            self.ctx.monitor.report(online)

    def _api_error(self, doc_id: int, exc: ApiError, receipt: bool = True) -> SaleResult:
        if api_config_errors.is_config_error(exc.codigo):
            # The account, not the note: one warning for the terminal; the sale goes on in contingency.
            api_config_errors.remember(self.ctx, exc.codigo or "", exc.mensagem or str(exc))
            reason = f"A API recusou por configuração da conta: {api_config_errors.describe(exc.codigo or '', self.ctx.ambiente)}."
            return self._offline_path(self._doc(doc_id), reason, in_doubt=False, receipt=receipt)
        if exc.codigo in ("nfe_autorizada", "em_processamento"):
            # The ref is already known to the API (e.g. an answer lost in a crash): read it.
            try:
                current = self._doc(doc_id)
                consulted = doc_api(self.ctx, current).consult(
                    current["ref"], priority=Priority.LIVE, timeout=self.ctx.config.timeout
                )
            except (NotDelivered, InDoubt, RateLimited, ApiError):
                consulted = None
            if consulted is not None and (
                consulted.status != F.PROCESSANDO_AUTORIZACAO or _is_nfe(self._doc(doc_id))
            ):
                # (an NF-e the API is still processing is recorded as "processando", consulted later)
                return self._record_result(
                    doc_id, consulted, emitente_uf=self.ctx.emitente().uf, receipt=receipt, consulted=True
                )
            return self._offline_path(
                self._doc(doc_id), "NFC-e ainda em processamento na API", in_doubt=True, receipt=receipt
            )
        self.store.documents.transition(
            doc_id,
            S.REJEITADO,
            http_status=exc.status_code,
            response=exc.body,
            status_sefaz=exc.codigo,
            mensagem_sefaz=exc.mensagem,
            last_error=str(exc),
        )
        return self._result(
            doc_id, f"A API recusou a nota: {exc}. Corrija e reenvie; a venda está gravada.", emitido=False
        )

    def record(
        self, doc_id: int, result: NfceResult, *, receipt: bool = True, consulted: bool = False
    ) -> SaleResult:
        return self._record_result(
            doc_id, result, emitente_uf=self.ctx.emitente().uf, receipt=receipt, consulted=consulted
        )

    def answer_problems(self, doc: dict[str, Any], r: NfceResult) -> list[str]:
        """What is wrong with an answer about the online document ``doc`` (empty: trustworthy)."""
        from pos_app.core.focus.answer_check import answer_problems, status_problem

        bad_status = status_problem(r.raw)
        if bad_status:
            return [bad_status]
        if r.status == F.AUTORIZADO or (r.status in (F.CANCELADO, F.DENEGADO) and r.chave):
            emitente = self.ctx.emitente()
            return answer_problems(
                r.chave,
                uf=emitente.uf,
                cnpj=emitente.cnpj,
                sent=load_json(doc["payload"]),
                answer_serie=r.serie,
                answer_numero=r.numero,
                tp_emis={9} if r.contingencia_offline else {1},
                modelo=int(doc.get("modelo") or 65),
            )
        return []

    def _vet(
        self, doc_id: int, r: NfceResult, *, consulted: bool, receipt: bool
    ) -> tuple[NfceResult, SaleResult | None]:
        """An answer that does not match what was sent (or an unknown status) is in doubt: consult once;
        if the consult does not settle it, never print: unknown status -> ``status_desconhecido``
        (a person decides), mismatch -> in-doubt path (contingency note, reconciled later)."""
        from pos_app.core.focus.answer_check import status_problem
        from pos_app.core.focus.errors import FocusError

        doc = self._doc(doc_id)
        problems = self.answer_problems(doc, r)
        if not problems:
            return r, None
        log.warning("resposta da API não confere para %s: %s", doc["ref"], "; ".join(problems))
        self.store.documents.transition(
            doc_id,
            doc["status"],
            http_status=r.http_status,
            response=r.raw,
            note="resposta da API não confere: " + "; ".join(problems),
        )
        if not consulted:
            try:
                again = doc_api(self.ctx, doc).consult(
                    doc["ref"], priority=Priority.LIVE, timeout=self.ctx.config.timeout
                )
            except FocusError:
                again = None
            if again is not None:
                again_problems = self.answer_problems(doc, again)
                if not again_problems:
                    return again, None
                r, problems = again, again_problems
        reason = "; ".join(problems)
        if status_problem(r.raw):
            self.store.documents.transition(
                doc_id,
                S.STATUS_DESCONHECIDO,
                http_status=r.http_status,
                response=r.raw,
                last_error=reason,
                note="situação desconhecida mesmo após consulta: verificação manual",
            )
            return r, self._result(
                doc_id,
                f"A API respondeu uma situação desconhecida para esta NFC-e ({reason}). A venda está gravada. "
                "NÃO reenvie nem refaça a venda: o gerente deve conferir a nota no painel da Focus NFe; o sistema "
                "consulta de novo a cada sincronização.",
                emitido=False,
            )
        return r, self._offline_path(
            self._doc(doc_id), f"Resposta da API divergente: {reason}.", in_doubt=True, receipt=receipt
        )

    def _record_result(
        self, doc_id: int, r: NfceResult, *, emitente_uf: str, receipt: bool = True, consulted: bool = False
    ) -> SaleResult:
        r, settled = self._vet(doc_id, r, consulted=consulted, receipt=receipt)
        if settled is not None:
            return settled
        common: dict[str, Any] = {
            "http_status": r.http_status,
            "response": r.raw,
            "status_sefaz": r.status_sefaz,
            "mensagem_sefaz": r.mensagem_sefaz,
        }
        if r.status == F.AUTORIZADO:
            api_config_errors.clear(self.ctx)  # the account works: drop a configuration warning
            self.store.documents.transition(
                doc_id,
                S.AUTORIZADO,
                **common,
                chave=r.chave,
                numero=r.numero,
                serie=r.serie,
                caminho_xml=r.caminho_xml,
                caminho_danfe=r.caminho_danfe,
                qrcode_url=r.qrcode_url,
                url_consulta=r.url_consulta or url_consulta(emitente_uf, self.ctx.ambiente),
                protocolo=r.protocolo,
                data_autorizacao=r.data_autorizacao or self.ctx.now().isoformat(timespec="seconds"),
                focus_contingencia=int(r.contingencia_offline),
                focus_contingencia_efetivada=int(r.contingencia_offline_efetivada),
                tentativa_anterior=json.dumps(r.tentativa_anterior) if r.tentativa_anterior else None,
                last_error=None,
            )
            if r.contingencia_offline and not r.contingencia_offline_efetivada:
                msg = (
                    "Emitida em contingência pela Focus (SEFAZ fora do ar): entregue a via do consumidor e "
                    "guarde a do estabelecimento; a nota será transmitida automaticamente."
                )
            else:
                msg = "NF-e autorizada." if _is_nfe(self._doc(doc_id)) else "NFC-e autorizada."
            return self._result(doc_id, msg, receipt=receipt)
        if r.status == F.CANCELADO:
            self.store.documents.transition(
                doc_id,
                S.CANCELADO,
                **common,
                chave=r.chave,
                numero=r.numero,
                serie=r.serie,
                caminho_xml_cancelamento=r.caminho_xml_cancelamento,
            )
            return self._result(doc_id, "NFC-e cancelada.", receipt=receipt)
        if r.status == F.DENEGADO:
            self.store.documents.transition(
                doc_id,
                S.DENEGADO,
                **common,
                chave=r.chave,
                numero=r.numero,
                serie=r.serie,
                caminho_xml=r.caminho_xml,
            )
            return self._result(
                doc_id, f"NFC-e denegada pela SEFAZ: {r.status_sefaz} - {r.mensagem_sefaz}", emitido=False
            )
        if r.status == F.PROCESSANDO_AUTORIZACAO and _is_nfe(self._doc(doc_id)):
            # NF-e: Focus has it and SEFAZ is still working; the replay pass consults it until final.
            self.store.documents.transition(
                doc_id, S.PROCESSANDO, **common, note="NF-e em processamento na SEFAZ"
            )
            return self._result(
                doc_id,
                "NF-e recebida e ainda em processamento na SEFAZ: a venda está gravada e o DANFE "
                "Simplificado será impresso quando a nota for autorizada (Histórico, reimprimir).",
                emitido=False,
            )
        if r.status == F.PROCESSANDO_AUTORIZACAO:
            return self._offline_path(
                self._doc(doc_id), "NFC-e ainda em processamento", in_doubt=True, receipt=receipt
            )
        if (
            r.status == F.ERRO_AUTORIZACAO
            and _is_nfe(self._doc(doc_id))
            and (r.status_sefaz or "") in SEFAZ_UNAVAILABLE
        ):
            # NF-e and SEFAZ out of service: nothing to fix in the note, the buyer is at the counter.
            # Generated in contingency; the attempt is kept in doubt (reconciled: consulted and, should
            # it be authorized after all, cancelled) since the API may still retry it.
            self.store.documents.transition(
                doc_id, self._doc(doc_id)["status"], **common, note="SEFAZ indisponível"
            )
            return self._offline_path(
                self._doc(doc_id),
                f"SEFAZ indisponível ({r.status_sefaz}: {r.mensagem_sefaz}).",
                in_doubt=True,
                receipt=receipt,
            )
        # erro_autorizacao and anything unknown: SEFAZ said no; the same ref may be resent after a fix.
        self.store.documents.transition(doc_id, S.ERRO_AUTORIZACAO, **common, last_error=r.mensagem_sefaz)
        return self._result(
            doc_id,
            f"Rejeição da SEFAZ {r.status_sefaz}: {r.mensagem_sefaz}. Corrija o cadastro e reenvie; "
            "a venda está gravada.",
            emitido=False,
        )

    # -- contingency ------------------------------------------------------------------------
    def contingency_for(
        self, doc_id: int, reason: str, *, in_doubt: bool, receipt: bool = True
    ) -> SaleResult:
        """Give the sale of an online attempt that cannot be sent its offline note (used by replay)."""
        return self._offline_path(self._doc(doc_id), reason, in_doubt=in_doubt, receipt=receipt)

    def _offline_path(
        self, doc: dict[str, Any], reason: str, *, in_doubt: bool, receipt: bool = True
    ) -> SaleResult:
        """The online attempt failed: issue the sale's offline contingency note (or, where a state's rule refuses tpEmis 9, wait).

        The attempt's new state and the contingency note are written in ONE transaction, so a crash
        leaves either the attempt to retry or the note to transmit, never a sale without either.
        """
        doc_id = int(doc["id"])
        emitente = self.ctx.emitente()
        if _is_nfe(doc) and nfe_contingency_tp_emis(self.ctx.now().date()) is None:
            # NF-e model 55 before its counter contingency existed (dated rule in nfe_rules): the same
            # ref is sent again when the link returns (a re-POST is safe: Focus answers
            # em_processamento / nfe_autorizada, then we consult).
            self.store.documents.transition(
                doc_id,
                S.AGUARDANDO_CONEXAO,
                last_error=reason,
                note=(
                    "sem resposta: reenviar a mesma referência quando a conexão voltar"
                    if in_doubt
                    else "sem conexão: emitir quando a conexão voltar"
                ),
            )
            return self._result(
                doc_id,
                f"{reason} A NF-e da venda a CNPJ será emitida automaticamente quando a conexão voltar: a venda "
                "está gravada. Se o cliente não puder esperar, entregue o DANFE depois (Histórico, reimprimir).",
                emitido=False,
            )
        if not _is_nfe(doc) and not offline_contingency_allowed(emitente.uf):
            # No tpEmis 9 in this state: the same ref is sent again when the link returns. Re-posting
            # a ref is safe (the API answers nfe_autorizada / em_processamento and we consult it).
            self.store.documents.transition(
                doc_id,
                S.AGUARDANDO_CONEXAO,
                last_error=reason,
                note=(
                    "sem resposta: reenviar a mesma referência quando a conexão voltar"
                    if in_doubt
                    else "sem conexão: emitir quando a conexão voltar"
                ),
            )
            return self._result(
                doc_id,
                f"{reason} Em {emitente.uf} não existe contingência offline de NFC-e: a venda está gravada e a "
                "nota será emitida automaticamente quando a conexão voltar. Avise o cliente e, se ele quiser, "
                "anote um contato para enviar a nota.",
                emitido=False,
            )
        with self.store.transaction() as tx:
            if in_doubt:
                self.store.documents.transition(
                    doc_id,
                    S.EM_DUVIDA,
                    last_error=reason,
                    tx=tx,
                    note="sem resposta; reemitida em contingência, reconciliar depois",
                )
            else:
                self.store.documents.transition(
                    doc_id,
                    S.ENCERRADO,
                    last_error=reason,
                    tx=tx,
                    note="não entregue à API; substituída por contingência",
                )
            cont_id = self._create_contingency(tx, doc)
            crash_point("contingency_before_commit")
        crash_point("contingency_after_commit")
        if _is_nfe(doc):
            return self._result(
                cont_id,
                f"{reason} NF-e emitida em contingência (geração prévia): entregue o DANFE Simplificado ao cliente e "
                "guarde a via do estabelecimento; a NF-e será transmitida automaticamente quando a conexão "
                "voltar.",
                receipt=receipt,
            )
        return self._result(
            cont_id,
            "Emitida em contingência offline: entregue a via do consumidor e guarde a do estabelecimento; "
            "a nota será transmitida automaticamente.",
            receipt=receipt,
        )

    def _create_contingency(self, tx: Any, original: dict[str, Any]) -> int:
        """Number, key and QR of an offline contingency note (inside the caller's transaction)."""
        ref = contingency_ref(original["ref"])
        existing = tx.execute(
            "SELECT id FROM fiscal_documents WHERE ref IN (?, ?)", [ref, f"{original['ref']}-C"]
        ).fetchone()  # or the older version's "-C" ref
        if existing is not None:  # one contingency note per sale, whatever happens
            return int(existing[0])
        emitente = self.ctx.emitente()
        now = self.ctx.now()
        nfe = _is_nfe(original)
        if nfe:
            # NF-e model 55: its own series, the dated tpEmis of its counter contingency (nfe_rules)
            serie, tp_emis = self.ctx.config.nfe_contingencia_serie, nfe_contingency_tp_emis(now.date()) or 5
        else:
            serie, tp_emis = self.ctx.config.contingencia_serie, 9
        check_store_serie(self.store, serie)  # never a series the store registered to another terminal
        numero = self.store.counters.take(tx, serie)
        cnf = generate_cnf(numero)
        modelo = 55 if nfe else 65
        key = chave_mod.build_chave(
            emitente.uf, now, emitente.cnpj, serie, numero, tp_emis, cnf, modelo=modelo
        )
        payload = load_json(original["payload"])
        payload.update(
            {
                "data_emissao": now.isoformat(timespec="seconds"),
                "numero": str(numero),
                "serie": str(serie),
                "codigo_unico": cnf,
            }
        )
        if nfe:
            # ide/tpEmis, dhCont and xJust of the note generated beforehand (the NFC-e's tpEmis 9
            # carries them implicitly; the NF-e states them)
            payload.update(
                {
                    "tipo_emissao": str(tp_emis),
                    "data_entrada_contingencia": now.isoformat(timespec="seconds"),
                    "justificativa_contingencia": NFE_CONTINGENCY_JUSTIFICATIVA,
                }
            )
            # The DANFE Simplificado's QR Code opens the key on the national NF-e portal (no signed hash).
            qr_url: str | None = nfe_consulta_url(key)
            consulta = NFE_PORTAL_CONSULTA
        else:
            qr_url = self._offline_qr(key, now, payload)
            consulta = url_consulta(emitente.uf, self.ctx.ambiente)
        return self.store.documents.create(
            tx,
            sale_id=int(original["sale_id"]),
            ref=ref,
            kind="contingencia",
            status=S.CONTINGENCIA_PENDENTE,
            ambiente=self.ctx.ambiente,
            data_emissao=now,
            payload=payload,
            serie=serie,
            numero=numero,
            chave=key,
            codigo_unico=cnf,
            tp_emis=tp_emis,
            qrcode_url=qr_url,
            url_consulta=consulta,
            replaces_document_id=int(original["id"]),
            last_error=None if qr_url else self.certificates.last_error,
            modelo=modelo,
        )

    def _offline_qr(self, key: str, when: datetime, payload: dict[str, Any]) -> str | None:
        """QR code v3 offline signed with the A1 certificate; None (receipt says why) without one."""
        try:
            cert = self.certificates.get()
            if cert is None:
                log.warning("QR Code offline indisponível: %s", self.certificates.last_error)
                return None
            emitente = self.ctx.emitente()
            tp_amb = "1" if self.ctx.ambiente == "producao" else "2"
            dest = payload.get("cpf_destinatario") or payload.get("cnpj_destinatario")
            return qr_v3_offline(
                qrcode_base_url(emitente.uf, self.ctx.ambiente),
                key,
                tp_amb,
                when,
                Decimal(payload["valor_total"]),
                dest,
                cert.sign_sha1,
            )
        except Exception:  # noqa: BLE001 - a QR problem never blocks the sale; the receipt says it
            log.exception("falha ao assinar o QR Code offline")
            return None

    # -- results ----------------------------------------------------------------------------
    def _doc(self, doc_id: int | None) -> dict[str, Any]:
        doc = self.store.documents.get(int(doc_id or 0))
        if doc is None:
            raise KeyError(f"documento {doc_id} não encontrado")
        return doc

    def _result(
        self, doc_id: int, mensagem: str, *, emitido: bool = True, receipt: bool = True
    ) -> SaleResult:
        doc = self._doc(doc_id)
        sale = self.store.database.query_one(
            "SELECT valor_total, troco FROM sales WHERE id = ?", [int(doc["sale_id"])]
        )
        assert sale is not None
        danfce: Path | None = None
        if emitido and receipt and self.render_receipts:
            try:
                danfce = self.receipts.render_for_document(doc_id)
            except Exception:  # noqa: BLE001 - a receipt failure never undoes a sale
                log.exception("falha ao gerar o DANFCe do documento %s", doc_id)
                mensagem += " (DANFCe não gerado: use reimpressão)"
        contingencia = doc["kind"] == "contingencia" or bool(doc["focus_contingencia"])
        return SaleResult(
            sale_id=int(doc["sale_id"]),
            document_id=doc_id,
            ref=doc["ref"],
            status=doc["status"],
            contingencia=contingencia,
            serie=doc["serie"],
            numero=doc["numero"],
            chave=doc["chave"],
            total=Decimal(sale["valor_total"]),
            troco=Decimal(sale["troco"]),
            danfce=str(danfce) if danfce else None,
            mensagem=mensagem,
            status_sefaz=doc["status_sefaz"],
            mensagem_sefaz=doc["mensagem_sefaz"],
            emitido=emitido,
            modelo=int(doc.get("modelo") or 65),
        )


def _is_nfe(doc: dict[str, Any]) -> bool:
    return int(doc.get("modelo") or 65) == 55


def _name(doc: dict[str, Any]) -> str:
    return "NF-e" if _is_nfe(doc) else "NFC-e"
