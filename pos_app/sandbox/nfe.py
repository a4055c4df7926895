"""NF-e model 55 on the sandbox (``/v2/nfe``): the NFC-e engine, asynchronous, on its own store.

Like Focus, the POST only queues the note: it answers ``202 processando_autorizacao`` and the
``GET /v2/nfe/REF`` says ``processando_autorizacao`` until ``processing_seconds`` (sandbox clock)
have passed, then the final answer (``autorizado``, ``erro_autorizacao``, ``denegado``). Cancel
(``DELETE``) and e-mail are the NFC-e's. Its own store keeps refs, numbering (per model and
series, as at SEFAZ) and files apart from the NFC-e's. The same fault injection applies (the
faults object is shared); SEFAZ down (``sefaz_fora``) rejects with 108 instead of the NFC-e's
automatic contingency (tpEmis 9 is an NFC-e form).

An NF-e generated beforehand at the counter in contingency (Ajuste SINIEF 12/2025) is transmitted
like the NFC-e's offline note, ``forma_emissao=offline`` with its numero/serie/codigo_unico, plus
``tipo_emissao`` (one of the contingency tpEmis of ``nfe_rules.NFE_CONTINGENCY_RULES``),
``data_entrada_contingencia`` and ``justificativa_contingencia`` (dhCont/xJust in the XML).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pos_app.core.fiscal.chave import build_chave
from pos_app.core.fiscal.nfe_rules import NFE_CONTINGENCY_RULES
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
    MODELO_FAMILY = "nfe"

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
        if forma_emissao not in (None, "offline"):
            return api_error(
                400, "forma_emissao_nao_informada", 'Parâmetro "forma_emissao" inválido ou não informado'
            )
        if forma_emissao == "offline":
            problem = _contingency_problem(body)
            if problem:
                return api_error(400, "requisicao_invalida", problem)
        resp = super().emit(token, ref, forma_emissao, False, body, slow_seconds, wait)
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
        if offline:  # generated beforehand at the counter: the tpEmis the POS put in its key
            ident = replace(ident, tp_emis=int(self._payload["tipo_emissao"]))
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


CONTINGENCY_TP_EMIS = frozenset(r.tp_emis for r in NFE_CONTINGENCY_RULES if r.tp_emis is not None)


def _contingency_problem(body: bytes) -> str | None:
    """Why an NF-e sent with ``forma_emissao=offline`` cannot be a note generated in contingency."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return None  # the engine answers the malformed JSON
    if not isinstance(payload, dict):
        return None
    tipo = str(payload.get("tipo_emissao") or "")
    allowed = "/".join(str(t) for t in sorted(CONTINGENCY_TP_EMIS))
    if not tipo.isdigit() or int(tipo) not in CONTINGENCY_TP_EMIS:
        return f'Parâmetro "tipo_emissao" deve ser {allowed} para NF-e emitida em contingência'
    if not payload.get("justificativa_contingencia") or not payload.get("data_entrada_contingencia"):
        return 'NF-e em contingência exige "data_entrada_contingencia" e "justificativa_contingencia"'
    just = str(payload["justificativa_contingencia"])
    if not 15 <= len(just) <= 256:
        return 'Parâmetro "justificativa_contingencia" deve ter entre 15 e 256 caracteres'
    return None
