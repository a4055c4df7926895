"""Checkout and emission: a paid sale always ends with a fiscal document.

1. The sale, its items, payments and the pending NFC-e (with its ``ref``) are written in ONE
   transaction before any network call, so a crash can never lose a paid sale.
2. The NFC-e is sent online. The outcome decides the path:
   - answered: authorized, rejected by SEFAZ (fix and resend, same ref) or refused by the API;
   - not delivered (no connection): the note is issued at once in offline contingency;
   - in doubt (sent, no answer in time): the attempt is kept for reconciliation and the sale is
     reissued in contingency under a new number of the terminal's own series.
3. In São Paulo (no offline NFC-e contingency) the sale waits for the link instead.
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
from pos_app.core.fiscal.cnf import generate_cnf
from pos_app.core.fiscal.qrcode import qr_v3_offline
from pos_app.core.fiscal.states import offline_contingency_allowed, qrcode_base_url, url_consulta
from pos_app.core.focus.errors import ApiError, AuthenticationError, InDoubt, NotDelivered, RateLimited
from pos_app.core.focus.nfce import NfceResult
from pos_app.core.focus.nfce_payload import build_nfce_payload
from pos_app.core.focus.ratelimit import Priority
from pos_app.core.services.certificates import CertificateProvider
from pos_app.core.services.context import AppContext
from pos_app.core.services.receipts import ReceiptService

log = logging.getLogger("pos_app.emission")

Progress = Callable[[str], None]

# Documents this process is sending right now: background replay must not touch them.
IN_FLIGHT: set[int] = set()
_IN_FLIGHT_LOCK = threading.Lock()


def _noop(_: str) -> None:
    pass


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

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["total"] = f"{self.total:.2f}"
        data["troco"] = f"{self.troco:.2f}"
        return data


class EmissionService:
    def __init__(self, ctx: AppContext, certificates: CertificateProvider | None = None) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.certificates = certificates or CertificateProvider(ctx.config)
        self.receipts = ReceiptService(ctx)

    # -- checkout ---------------------------------------------------------------------------
    def checkout(self, sale: Sale, operador_id: int | None = None, progress: Progress = _noop,
                 extra: dict[str, Any] | None = None) -> SaleResult:
        """Validate, persist sale + pending NFC-e in one transaction, then emit it."""
        sale.validate()
        emitente = self.ctx.emitente()
        regime_codes = emitente.regime
        for item in sale.items:
            item.product.validate(regime_codes)
        now = self.ctx.now()
        terminal = self.ctx.config.terminal_id
        with self.store.transaction() as tx:
            sale_id = self.store.sales.insert(
                tx, sale, terminal_id=terminal, operador_id=operador_id, created_at=now, extra=extra
            )
            ref = f"{terminal}-{sale_id:08d}"
            payload = build_nfce_payload(sale, emitente, now, ambiente=self.ctx.ambiente)
            doc_id = self.store.documents.create(
                tx, sale_id=sale_id, ref=ref, kind="online", status="pendente", ambiente=self.ctx.ambiente,
                data_emissao=now, payload=payload,
            )
        return self.emit(doc_id, progress)

    # -- online attempt ---------------------------------------------------------------------
    def emit(self, doc_id: int, progress: Progress = _noop) -> SaleResult:
        """Send a stored online document and settle the sale's outcome."""
        with _IN_FLIGHT_LOCK:
            if doc_id in IN_FLIGHT:
                raise RuntimeError(f"documento {doc_id} já está sendo enviado")
            IN_FLIGHT.add(doc_id)
        try:
            return self._emit(doc_id, progress)
        finally:
            with _IN_FLIGHT_LOCK:
                IN_FLIGHT.discard(doc_id)

    def _emit(self, doc_id: int, progress: Progress) -> SaleResult:
        doc = self._doc(doc_id)
        emitente = self.ctx.emitente()
        monitor = self.ctx.monitor
        if monitor is not None and monitor.known_down():
            progress("Sem conexão com a API: emitindo em contingência.")
            return self._offline_path(doc, "Sem conexão com a internet (já detectado)", in_doubt=False)

        payload = json.loads(doc["payload"])
        if doc["attempts"]:
            # A resend after a fix: the note must carry the current time (±5 min rule).
            now = self.ctx.now()
            payload["data_emissao"] = now.isoformat(timespec="seconds")
        self.store.documents.transition(
            doc_id, "enviando", note="enviando para a API", attempts=int(doc["attempts"]) + 1,
            payload=json.dumps(payload, ensure_ascii=False), data_emissao=payload["data_emissao"],
        )
        progress("Enviando NFC-e para a SEFAZ...")
        try:
            result = self.ctx.nfce().emit(doc["ref"], payload, timeout=self.ctx.config.timeout)
        except (NotDelivered, RateLimited) as exc:
            self._report_link(False if isinstance(exc, NotDelivered) else None)
            return self._offline_path(self._doc(doc_id), str(exc), in_doubt=False)
        except InDoubt as exc:
            self._report_link(None)
            return self._offline_path(self._doc(doc_id), str(exc), in_doubt=True)
        except AuthenticationError as exc:
            self._report_link(True)
            self.store.documents.transition(
                doc_id, "rejeitado", http_status=exc.status_code, response=exc.body,
                mensagem_sefaz=exc.mensagem, last_error=str(exc), note="token recusado",
            )
            return self._result(doc_id, "Token da API recusado (HTTP 403). Verifique focus.token e o ambiente; "
                                "a venda está gravada e pode ser reenviada.", emitido=False)
        except ApiError as exc:
            self._report_link(True)
            return self._api_error(doc_id, exc)
        self._report_link(True)
        return self._record_result(doc_id, result, emitente_uf=emitente.uf)

    def _report_link(self, online: bool | None) -> None:
        if self.ctx.monitor is not None and online is not None:
            self.ctx.monitor.report(online)

    def _api_error(self, doc_id: int, exc: ApiError) -> SaleResult:
        if exc.codigo in ("nfe_autorizada", "em_processamento"):
            # The ref is already known to the API (e.g. an answer lost in a crash): read it.
            try:
                consulted = self.ctx.nfce().consult(self._doc(doc_id)["ref"], priority=Priority.LIVE)
            except (NotDelivered, InDoubt, RateLimited):
                consulted = None
            if consulted is not None and consulted.status != "processando_autorizacao":
                return self._record_result(doc_id, consulted, emitente_uf=self.ctx.emitente().uf)
            return self._offline_path(self._doc(doc_id), "NFC-e ainda em processamento na API", in_doubt=True)
        self.store.documents.transition(
            doc_id, "rejeitado", http_status=exc.status_code, response=exc.body,
            status_sefaz=exc.codigo, mensagem_sefaz=exc.mensagem, last_error=str(exc),
        )
        return self._result(
            doc_id, f"A API recusou a nota: {exc}. Corrija e reenvie; a venda está gravada.", emitido=False
        )

    def record(self, doc_id: int, result: NfceResult) -> SaleResult:
        return self._record_result(doc_id, result, emitente_uf=self.ctx.emitente().uf)

    def _record_result(self, doc_id: int, r: NfceResult, *, emitente_uf: str) -> SaleResult:
        common: dict[str, Any] = {
            "http_status": r.http_status,
            "response": r.raw,
            "status_sefaz": r.status_sefaz,
            "mensagem_sefaz": r.mensagem_sefaz,
        }
        if r.status == "autorizado":
            self.store.documents.transition(
                doc_id, "autorizado", **common,
                chave=r.chave, numero=r.numero, serie=r.serie, caminho_xml=r.caminho_xml,
                caminho_danfe=r.caminho_danfe, qrcode_url=r.qrcode_url,
                url_consulta=r.url_consulta or url_consulta(emitente_uf, self.ctx.ambiente),
                protocolo=r.protocolo, data_autorizacao=r.data_autorizacao or self.ctx.now().isoformat(timespec="seconds"),
                focus_contingencia=int(r.contingencia_offline),
                focus_contingencia_efetivada=int(r.contingencia_offline_efetivada),
                tentativa_anterior=json.dumps(r.tentativa_anterior) if r.tentativa_anterior else None,
                last_error=None,
            )
            if r.contingencia_offline:
                msg = ("Emitida em contingência pela Focus (SEFAZ fora do ar) — será transmitida "
                       "automaticamente.")
            else:
                msg = "NFC-e autorizada."
            return self._result(doc_id, msg)
        if r.status == "cancelado":
            self.store.documents.transition(doc_id, "cancelado", **common, chave=r.chave, numero=r.numero,
                                            serie=r.serie, caminho_xml_cancelamento=r.caminho_xml_cancelamento)
            return self._result(doc_id, "NFC-e cancelada.")
        if r.status == "denegado":
            self.store.documents.transition(doc_id, "denegado", **common, chave=r.chave, numero=r.numero,
                                            serie=r.serie, caminho_xml=r.caminho_xml)
            return self._result(doc_id, f"NFC-e denegada pela SEFAZ: {r.status_sefaz} - {r.mensagem_sefaz}",
                                emitido=False)
        if r.status == "processando_autorizacao":
            return self._offline_path(self._doc(doc_id), "NFC-e ainda em processamento", in_doubt=True)
        # erro_autorizacao and anything unknown: SEFAZ said no; the same ref may be resent after a fix.
        self.store.documents.transition(doc_id, "erro_autorizacao", **common, last_error=r.mensagem_sefaz)
        return self._result(
            doc_id,
            f"Rejeição da SEFAZ {r.status_sefaz}: {r.mensagem_sefaz}. Corrija o cadastro e reenvie; "
            "a venda está gravada.",
            emitido=False,
        )

    # -- contingency ------------------------------------------------------------------------
    def _offline_path(self, doc: dict[str, Any], reason: str, *, in_doubt: bool) -> SaleResult:
        doc_id = int(doc["id"])
        emitente = self.ctx.emitente()
        if not offline_contingency_allowed(emitente.uf):
            status = "em_duvida" if in_doubt else "aguardando_conexao"
            self.store.documents.transition(doc_id, status, last_error=reason, note=reason)
            return self._result(
                doc_id,
                f"{reason}. Em {emitente.uf} não há contingência offline de NFC-e: a venda está gravada "
                "e a nota será emitida automaticamente quando a conexão voltar.",
                emitido=False,
            )
        if in_doubt:
            self.store.documents.transition(doc_id, "em_duvida", last_error=reason,
                                            note="sem resposta; reemitida em contingência, reconciliar depois")
        else:
            self.store.documents.transition(doc_id, "encerrado", last_error=reason,
                                            note="não entregue à API; substituída por contingência")
        cont_id = self.issue_contingency(int(doc["sale_id"]), replaces=doc_id)
        return self._result(cont_id, "Emitida em contingência — será transmitida automaticamente.")

    def issue_contingency(self, sale_id: int, *, replaces: int | None) -> int:
        """Number, key and QR of an offline contingency note, stored in one transaction."""
        emitente = self.ctx.emitente()
        serie = self.ctx.config.contingencia_serie
        now = self.ctx.now()
        original = self._doc(replaces) if replaces else None
        base_payload = json.loads(original["payload"]) if original else {}
        base_ref = original["ref"] if original else f"{self.ctx.config.terminal_id}-{sale_id:08d}"
        with self.store.transaction() as tx:
            numero = self.store.counters.take(tx, serie)
            cnf = generate_cnf(numero)
            key = chave_mod.build_chave(emitente.uf, now, emitente.cnpj, serie, numero, 9, cnf)
            payload = dict(base_payload)
            payload.update({
                "data_emissao": now.isoformat(timespec="seconds"),
                "numero": str(numero),
                "serie": str(serie),
                "codigo_unico": cnf,
            })
            qr_url = self._offline_qr(key, now, payload)
            self.store.documents.create(
                tx, sale_id=sale_id, ref=f"{base_ref}-C", kind="contingencia", status="contingencia_pendente",
                ambiente=self.ctx.ambiente, data_emissao=now, payload=payload, serie=serie, numero=numero,
                chave=key, codigo_unico=cnf, tp_emis=9, qrcode_url=qr_url,
                url_consulta=url_consulta(emitente.uf, self.ctx.ambiente), replaces_document_id=replaces,
            )
            row = tx.execute("SELECT id FROM fiscal_documents WHERE ref = ?", [f"{base_ref}-C"]).fetchone()
        return int(row[0])

    def _offline_qr(self, key: str, when: datetime, payload: dict[str, Any]) -> str | None:
        cert = self.certificates.get()
        if cert is None:
            return None
        emitente = self.ctx.emitente()
        tp_amb = "1" if self.ctx.ambiente == "producao" else "2"
        dest = payload.get("cpf_destinatario") or payload.get("cnpj_destinatario")
        return qr_v3_offline(
            qrcode_base_url(emitente.uf, self.ctx.ambiente), key, tp_amb, when,
            Decimal(payload["valor_total"]), dest, cert.sign_sha1,
        )

    # -- results ----------------------------------------------------------------------------
    def _doc(self, doc_id: int | None) -> dict[str, Any]:
        doc = self.store.documents.get(int(doc_id or 0))
        if doc is None:
            raise KeyError(f"documento {doc_id} não encontrado")
        return doc

    def _result(self, doc_id: int, mensagem: str, *, emitido: bool = True) -> SaleResult:
        doc = self._doc(doc_id)
        sale = self.store.sales.get(int(doc["sale_id"]))
        assert sale is not None
        danfce: Path | None = None
        if emitido:
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
        )
