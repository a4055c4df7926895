"""NF-e model 55 on the sandbox (``/v2/nfe``): the NFC-e engine, asynchronous, on its own store.

Like Focus, the POST only queues the note: it answers ``202 processando_autorizacao`` and the
``GET /v2/nfe/REF`` says ``processando_autorizacao`` until ``processing_seconds`` (sandbox clock)
have passed, then the final answer (``autorizado``, ``erro_autorizacao``, ``denegado``). Cancel
(``DELETE``) and e-mail are the NFC-e's. Its own store keeps refs, numbering (per model and
series, as at SEFAZ) and files apart from the NFC-e's. The same fault injection applies (the
faults object is shared); SEFAZ down (``sefaz_fora``) rejects with 108 instead of the NFC-e's
automatic contingency (tpEmis 9 is an NFC-e form).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pos_app.core.fiscal.chave import build_chave
from pos_app.sandbox.clock import SandboxClock
from pos_app.sandbox.companies import CompanyConfig
from pos_app.sandbox.documents import BuiltNfe, NfeIdentity, build_nfe
from pos_app.sandbox.engine import MSG_SEFAZ_DOWN, PROCESSANDO, ApiResponse, NfceSandbox, api_error
from pos_app.sandbox.faults import Faults
from pos_app.sandbox.store import NoteRecord, SandboxStore
from pos_app.sandbox.validation import NoteInput

MODELO = 55


class NfeSandbox(NfceSandbox):
    processing_seconds = 1.0

    def __init__(self, store: SandboxStore, clock: SandboxClock, faults: Faults, ambiente: str) -> None:
        super().__init__(store, clock, faults, ambiente)
        self._ready_at: dict[tuple[str, str], datetime] = {}
        self._payload: dict[str, Any] = {}
        self.cancel_window = timedelta(hours=24)  # NF-e: 24 hours after authorization

    def emit(
        self,
        token: str,
        ref: str | None,
        forma_emissao: str | None,
        completa: bool,
        body: bytes,
        slow_seconds: float = 0.0,
        wait: Any = None,
    ) -> ApiResponse:
        if forma_emissao is not None:
            return api_error(400, "requisicao_invalida", "NF-e não aceita o parâmetro forma_emissao")
        resp = super().emit(token, ref, None, False, body, slow_seconds, wait)
        if resp.status != 201 or resp.body is None or ref is None:
            return resp
        self._ready_at[(token, ref)] = self.clock.now() + timedelta(seconds=self.processing_seconds)
        return ApiResponse(
            202, {"cnpj_emitente": resp.body.get("cnpj_emitente"), "ref": ref, "status": PROCESSANDO}
        )

    def _note_body(self, record: NoteRecord, completa: bool) -> dict[str, Any]:
        ready = self._ready_at.get((record.token, record.ref))
        if ready is not None and self.clock.now() < ready:
            return {"cnpj_emitente": record.cnpj, "ref": record.ref, "status": PROCESSANDO}
        return super()._note_body(record, completa)

    def _process(
        self,
        token: str,
        ref: str,
        company: CompanyConfig,
        note: NoteInput,
        payload: dict[str, Any],
        offline: bool,
    ) -> NoteRecord:
        self._payload = payload if isinstance(payload, dict) else {}
        return super()._process(token, ref, company, note, payload, offline)

    def _identity(self, company: CompanyConfig, note: NoteInput, offline: bool, now: datetime) -> NfeIdentity:
        ident = super()._identity(company, note, offline, now)
        chave = build_chave(
            company.uf,
            ident.dh_emi,
            company.cnpj,
            ident.serie,
            ident.numero,
            ident.tp_emis,
            ident.cnf,
            modelo=MODELO,
        )
        return replace(ident, chave=chave)

    def _build(self, company: CompanyConfig, note: NoteInput, ident: NfeIdentity) -> BuiltNfe:
        return build_nfe(company, note, ident, self.ambiente, modelo=MODELO, dest=self._payload)

    def _automatic_contingency(
        self, record: NoteRecord, company: CompanyConfig, note: NoteInput, fault_params: dict[str, Any]
    ) -> NoteRecord:
        record.status_sefaz = "108"
        record.mensagem_sefaz = MSG_SEFAZ_DOWN
        return record
