"""What the Focus API (and, behind it, SEFAZ) does with each NFC-e request — without HTTP.

Each public method takes the request pieces (token, ref, query flags, raw body) and returns an
:class:`ApiResponse`; :mod:`pos_app.sandbox.httpd` only moves bytes and injects network faults.

Decisions worth knowing (the seed documents leave them open):

* HTTP status: emission answers 201 for every processed note (``autorizado`` or
  ``erro_autorizacao``), 400 ``requisicao_invalida`` for validation errors, 422 for an unknown
  company (``empresa_nao_habilitada``) and for ref conflicts; consult 200/404; cancellation 200
  (``cancelado`` or ``erro_cancelamento``); inutilização 200 (``autorizado`` or ``erro_autorizacao``).
* SEFAZ rules give ``erro_autorizacao`` (the ref may be resent): 703/704 emission time, 590/591
  CST vs CSOSN, 725 CFOP, 564/610 declared totals, 266 reserved series, 897 cNF, 206 inutilized
  number, 204/539 duplicates, 108 SEFAZ down (offline replay), plus the ``reject_ref`` fault.
* Automatic contingency (fault ``sefaz_down``): the online POST gets *another* note (next number,
  tpEmis 9) with ``contingencia_offline: true`` and ``tentativa_anterior.status =
  "processando_autorizacao"``. After SEFAZ is back (fault cleared and ``contingency_delay`` passed
  on the sandbox clock, or :meth:`NfceSandbox.effectivate_contingency`) the note is effectivated and
  the original attempt resolved: ``cancelado`` when the fault said ``original_authorized=True``;
  otherwise ``erro_autorizacao`` 217 ("NF-e nao consta na base de dados da SEFAZ") and its number
  is reused by the next emission.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pos_app.core.domain.validators import is_valid_cnpj, is_valid_email, normalize_cnpj
from pos_app.core.fiscal.chave import build_chave
from pos_app.core.fiscal.cnf import generate_cnf, is_valid_cnf
from pos_app.sandbox.clock import SandboxClock
from pos_app.sandbox.companies import CompanyConfig
from pos_app.sandbox.danfce import DanfceInfo, render_danfce
from pos_app.sandbox.documents import (
    BuiltNfe,
    CancelEvent,
    Inutilizacao,
    NfeIdentity,
    Protocol,
    build_nfe,
    cancel_proc,
    emission_time,
    inut_proc,
    local_time,
    nfe_proc,
    tp_amb,
    xml_datetime,
)
from pos_app.sandbox.faults import FaultMode, Faults
from pos_app.sandbox.store import EmailRecord, NoteRecord, SandboxStore
from pos_app.sandbox.tax_rules import TaxRejected, check_note_taxes
from pos_app.sandbox.validation import (
    CSOSN_CODES,
    CST_CODES,
    REF_PATTERN,
    NoteInput,
    PayloadInvalid,
    parse_note,
)

JSON_CT = "application/json; charset=utf-8"
XML_CT = "application/xml; charset=utf-8"
HTML_CT = "text/html; charset=utf-8"

AUTORIZADO = "autorizado"
CANCELADO = "cancelado"
ERRO = "erro_autorizacao"
PROCESSANDO = "processando_autorizacao"
DENEGADO = "denegado"
# Configuration errors of the account (Focus answers them for every emission until fixed).
ACCOUNT_PROBLEMS = {
    "ambiente_nao_configurado": "Ambiente não configurado para esta empresa",
    "empresa_nao_configurada": "Empresa não configurada para emissão de NFC-e: CSC e id_token não informados",
    "certificado_vencido": "O certificado digital da empresa está vencido",
}
DENIAL_CODES = frozenset({"110", "301", "302", "303"})  # uso denegado: the number is spent

MSG_AUTORIZADO = "Autorizado o uso da NF-e"
MSG_CANCELADO = "Evento registrado e vinculado a NF-e"
MSG_SEFAZ_DOWN = "Servico Paralisado Momentaneamente (curto prazo)"


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: dict[str, Any] | None = None
    raw: bytes | None = None
    content_type: str = JSON_CT

    def content(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body or {}, ensure_ascii=False).encode("utf-8")


def api_error(
    status: int, codigo: str, mensagem: str, erros: list[dict[str, str]] | None = None
) -> ApiResponse:
    body: dict[str, Any] = {"codigo": codigo, "mensagem": mensagem}
    if erros:
        body["erros"] = erros
    return ApiResponse(status, body)


class _Rejected(Exception):
    def __init__(self, status_sefaz: str, mensagem_sefaz: str) -> None:
        super().__init__(f"{status_sefaz} {mensagem_sefaz}")
        self.status_sefaz = status_sefaz
        self.mensagem_sefaz = mensagem_sefaz


def _parse_json(body: bytes, *, allow_empty: bool = False) -> tuple[Any, ApiResponse | None]:
    if not body.strip():
        if allow_empty:
            return {}, None
        return None, api_error(
            400, "requisicao_invalida", "Corpo da requisição vazio: envie os dados em JSON"
        )
    try:
        return json.loads(body.decode("utf-8")), None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, api_error(415, "json_invalido", f"JSON inválido: {exc}")


class NfceSandbox:
    """The NFC-e side of the Focus API, with the SEFAZ rules a POS must cope with."""

    def __init__(self, store: SandboxStore, clock: SandboxClock, faults: Faults, ambiente: str) -> None:
        if ambiente not in ("homologacao", "producao"):
            raise ValueError("ambiente deve ser 'homologacao' ou 'producao'")
        self.store = store
        self.clock = clock
        self.faults = faults
        self.ambiente = ambiente
        self.companies: dict[str, CompanyConfig] = {}
        # Account problems at "Focus" (cnpj -> codigo): every emission of the company answers it.
        self.account_problems: dict[str, str] = {}
        self.emission_tolerance = timedelta(minutes=5)
        self.offline_max_age = timedelta(days=7)
        self.cancel_window = timedelta(minutes=30)
        self.contingency_delay = timedelta(seconds=30)
        self._sefaz_restored_at: datetime | None = None if faults.sefaz_down() else clock.now()
        faults.subscribe(self._on_fault)
        with store.transaction():
            for stale in store.notes(PROCESSANDO):  # a restart interrupted them: as if never sent
                store.delete_note(stale.token, stale.ref)

    # -- companies -----------------------------------------------------------------------------

    def register_company(self, company: CompanyConfig) -> None:
        with self.store.transaction():
            self.companies[normalize_cnpj(company.cnpj)] = company
            current = self.store.counter(company.cnpj, company.serie_nfce)
            if current is None or current < company.proximo_numero:
                self.store.set_counter(company.cnpj, company.serie_nfce, company.proximo_numero)

    def _company(self, cnpj: str) -> CompanyConfig | None:
        return self.companies.get(normalize_cnpj(cnpj))

    @staticmethod
    def _no_company(cnpj: str) -> ApiResponse:
        return api_error(
            422,
            "empresa_nao_habilitada",
            f"Empresa com CNPJ {cnpj} não está habilitada para emitir NFC-e neste ambiente",
        )

    # -- emission ------------------------------------------------------------------------------

    def emit(
        self,
        token: str,
        ref: str | None,
        forma_emissao: str | None,
        completa: bool,
        body: bytes,
        slow_seconds: float = 0.0,
        wait: Callable[[float], None] | None = None,
    ) -> ApiResponse:
        if not ref:
            return api_error(400, "ref_ausente", 'Parâmetro "ref" não informado')
        if not REF_PATTERN.fullmatch(ref):
            return api_error(
                400, "requisicao_invalida", "A referência (ref) aceita apenas letras, números, _ e -"
            )
        if forma_emissao is None:
            offline = False
        elif forma_emissao == "offline":
            offline = True
        else:
            return api_error(
                400, "forma_emissao_nao_informada", 'Parâmetro "forma_emissao" inválido ou não informado'
            )
        conflict = self._ref_conflict(token, ref)
        if conflict is not None:
            return conflict
        payload, problem = _parse_json(body)
        if problem is not None:
            return problem
        if isinstance(payload, dict):
            cnpj_raw = str(payload.get("cnpj_emitente") or "")
            if is_valid_cnpj(cnpj_raw) and self._company(cnpj_raw) is None:
                return self._no_company(normalize_cnpj(cnpj_raw))
        try:
            note = parse_note(payload, offline=offline)
        except PayloadInvalid as exc:
            return api_error(400, "requisicao_invalida", exc.mensagem, [e.as_json() for e in exc.errors])
        company = self._company(note.cnpj_emitente)
        if company is None:
            return self._no_company(note.cnpj_emitente)
        problem_code = self.account_problems.get(normalize_cnpj(company.cnpj))
        if problem_code is not None:
            return api_error(422, problem_code, ACCOUNT_PROBLEMS[problem_code])

        attempt = uuid.uuid4().hex
        if slow_seconds > 0:
            with self.store.transaction():
                conflict = self._ref_conflict(token, ref)
                if conflict is not None:
                    return conflict
                now = self.clock.now().isoformat()
                self.store.put_note(
                    NoteRecord(
                        token,
                        ref,
                        company.cnpj,
                        PROCESSANDO,
                        attempt_id=attempt,
                        created_at=now,
                        updated_at=now,
                    )
                )
            (wait or (lambda _s: None))(slow_seconds)
        with self.store.transaction():
            current = self.store.get_note(token, ref)
            if current is not None and current.attempt_id != attempt:
                conflict = self._ref_conflict(token, ref)
                if conflict is not None:
                    return conflict
            record = self._process(token, ref, company, note, payload, offline)
            self.store.put_note(record)
        return ApiResponse(201, self._note_body(record, completa))

    def _ref_conflict(self, token: str, ref: str) -> ApiResponse | None:
        existing = self.store.get_note(token, ref)
        if existing is None or existing.status == ERRO:
            return None
        if existing.status == PROCESSANDO:
            return api_error(422, "em_processamento", "Nota fiscal em processamento")
        return api_error(422, "nfe_autorizada", "Nota fiscal já autorizada")

    def _process(
        self,
        token: str,
        ref: str,
        company: CompanyConfig,
        note: NoteInput,
        payload: dict[str, Any],
        offline: bool,
    ) -> NoteRecord:
        now = self.clock.now()
        stamp = now.isoformat()
        record = NoteRecord(
            token, ref, company.cnpj, ERRO, payload=payload, created_at=stamp, updated_at=stamp
        )
        ident: NfeIdentity | None = None
        try:
            self._sefaz_rules(company, note, offline, now)
            down = self.faults.take_sefaz_down()
            if down is not None:
                if offline:  # the POS's own contingency note must wait for SEFAZ; retry later
                    raise _Rejected("108", MSG_SEFAZ_DOWN)
                return self._automatic_contingency(record, company, note, down.params)
            ident = self._identity(company, note, offline, now)
            self._number_rules(company, ident)
            rejection = self.faults.take_rejection(ref, ident.numero)
            if rejection is not None:
                raise _Rejected(
                    str(rejection.params["status_sefaz"]), str(rejection.params["mensagem_sefaz"])
                )
        except _Rejected as rejection:
            record.status_sefaz = rejection.status_sefaz
            record.mensagem_sefaz = rejection.mensagem_sefaz
            if ident is not None and rejection.status_sefaz in DENIAL_CODES:
                # Uso denegado: the note exists at SEFAZ, its number can never be used again.
                record.status = DENEGADO
                self._fill_identity(record, ident)
                self.store.mark_number(company.cnpj, ident.serie, ident.numero, ident.chave, DENEGADO)
            return record
        self._fill_identity(record, ident)
        built = self._build(company, note, ident)
        self._authorize(record, company, note, ident, built, now)
        return record

    def _sefaz_rules(self, company: CompanyConfig, note: NoteInput, offline: bool, now: datetime) -> None:
        delta = note.data_emissao - now
        if delta > self.emission_tolerance:
            raise _Rejected("703", "Rejeicao: Data-Hora de Emissao posterior ao horario de recebimento")
        limit = self.offline_max_age if offline else self.emission_tolerance
        if -delta > limit:
            raise _Rejected("704", "Rejeicao: NFC-e com Data-Hora de emissao atrasada")
        for item in note.items:
            code = item.icms_situacao_tributaria
            if company.regime == "normal" and code in CSOSN_CODES:
                raise _Rejected(
                    "591",
                    "Informado CSOSN para emissor que nao e do Simples Nacional (CRT diferente de 1). "
                    f"[nItem:{item.numero_item}]",
                )
            if company.regime == "simples" and code in CST_CODES:
                raise _Rejected(
                    "590",
                    f"Informado CST para emissor do Simples Nacional (CRT=1). [nItem:{item.numero_item}]",
                )
            if not item.cfop.startswith("5"):
                raise _Rejected("725", f"Rejeicao: NFC-e com CFOP invalido [nItem:{item.numero_item}]")
        try:  # ICMS/PIS/COFINS values and totals, IBS/CBS by CRT and date (before 610: 1105 first)
            check_note_taxes(
                company.crt,
                emission_time(note.data_emissao, company.uf).date(),
                note.items,
                note.declared,
                note.valor_total,
            )
        except TaxRejected as exc:
            raise _Rejected(exc.status_sefaz, exc.mensagem_sefaz) from exc
        declared = note.declared
        if "valor_produtos" in declared and declared["valor_produtos"] != note.valor_produtos:
            raise _Rejected("564", "Rejeicao: Total do Produto / Servico difere do somatorio dos itens")
        if "valor_total" in declared and declared["valor_total"] != note.valor_total:
            raise _Rejected(
                "610", "Rejeicao: Total da NF difere do somatorio dos Valores compoe o valor Total da NF."
            )
        serie = note.serie if note.serie is not None else company.serie_nfce
        if 890 <= serie <= 999:
            raise _Rejected("266", "Rejeicao: Serie utilizada nao permitida no Web Service")

    def _identity(self, company: CompanyConfig, note: NoteInput, offline: bool, now: datetime) -> NfeIdentity:
        dh_emi = emission_time(note.data_emissao, company.uf)
        serie = note.serie if note.serie is not None else company.serie_nfce
        if offline:
            assert note.numero is not None and note.codigo_unico is not None
            numero, cnf, tp_emis = note.numero, note.codigo_unico, 9
            dh_cont = emission_time(note.data_entrada_contingencia or note.data_emissao, company.uf)
        else:
            numero = note.numero if note.numero is not None else self._next_number(company.cnpj, serie)
            cnf = note.codigo_unico or generate_cnf(numero)
            tp_emis, dh_cont = 1, None
        if not is_valid_cnf(cnf, numero):
            raise _Rejected("897", "Rejeicao: Codigo numerico em formato invalido")
        chave = build_chave(company.uf, dh_emi, company.cnpj, serie, numero, tp_emis, cnf)
        return NfeIdentity(
            chave, cnf, numero, serie, tp_emis, dh_emi, dh_cont, note.justificativa_contingencia
        )

    def _number_rules(self, company: CompanyConfig, ident: NfeIdentity) -> None:
        if self.store.inutilizada(company.cnpj, ident.serie, ident.numero, ident.numero):
            raise _Rejected("206", "Rejeicao: NF-e ja esta inutilizada na Base de dados da SEFAZ")
        used = self.store.number_use(company.cnpj, ident.serie, ident.numero)
        if used is not None:
            chave, _situacao = used
            if chave == ident.chave:
                raise _Rejected("204", f"Rejeicao: Duplicidade de NF-e [chNFe:{chave}]")
            raise _Rejected(
                "539", f"Rejeicao: Duplicidade de NF-e, com diferenca na Chave de Acesso [chNFe:{chave}]"
            )

    def _next_number(self, cnpj: str, serie: int) -> int:
        for numero in self.store.released_numbers(cnpj, serie):
            if self._number_free(cnpj, serie, numero):
                return numero
            self.store.forget_released(cnpj, serie, numero)
        counter = self.store.counter(cnpj, serie)
        if counter is None:
            counter = 1
            self.store.set_counter(cnpj, serie, counter)
        numero = counter
        while not self._number_free(cnpj, serie, numero):
            numero += 1
        return numero

    def _number_free(self, cnpj: str, serie: int, numero: int) -> bool:
        return self.store.number_use(cnpj, serie, numero) is None and not self.store.inutilizada(
            cnpj, serie, numero, numero
        )

    @staticmethod
    def _fill_identity(record: NoteRecord, ident: NfeIdentity) -> None:
        record.serie = ident.serie
        record.numero = ident.numero
        record.chave = ident.chave
        record.cnf = ident.cnf
        record.tp_emis = ident.tp_emis
        record.dh_emi = xml_datetime(ident.dh_emi)
        record.dh_cont = xml_datetime(ident.dh_cont) if ident.dh_cont else None

    def _build(self, company: CompanyConfig, note: NoteInput, ident: NfeIdentity) -> BuiltNfe:
        return build_nfe(company, note, ident, self.ambiente)

    def _authorize(
        self,
        record: NoteRecord,
        company: CompanyConfig,
        note: NoteInput,
        ident: NfeIdentity,
        built: BuiltNfe,
        now: datetime,
    ) -> None:
        protocol = Protocol(self._new_protocol(company, now), local_time(now, company.uf))
        xml = nfe_proc(built.xml, ident.chave, built.digest, protocol, self.ambiente)
        self.store.put_file(self._xml_path(company.cnpj, ident.chave, ident.dh_emi, "nfe"), XML_CT, xml)
        record.status = AUTORIZADO
        record.status_sefaz = "100"
        record.mensagem_sefaz = MSG_AUTORIZADO
        record.protocolo = protocol.numero
        record.data_autorizacao = now.isoformat()
        record.dh_recbto = xml_datetime(protocol.data_recebimento)
        record.digest = built.digest
        record.qrcode_url = built.qrcode_url
        record.url_consulta = built.url_chave
        record.updated_at = now.isoformat()
        self._store_danfce(record, company, note, ident)
        self.store.mark_number(company.cnpj, ident.serie, ident.numero, ident.chave, AUTORIZADO)

    def _store_danfce(
        self, record: NoteRecord, company: CompanyConfig, note: NoteInput, ident: NfeIdentity
    ) -> None:
        info = DanfceInfo(
            chave=ident.chave,
            numero=ident.numero,
            serie=ident.serie,
            dh_emi=ident.dh_emi,
            qrcode_url=record.qrcode_url or "",
            url_consulta=record.url_consulta or "",
            homologacao=self.ambiente != "producao",
            contingencia=ident.tp_emis == 9,
            protocolo=record.protocolo,
            dh_autorizacao=datetime.fromisoformat(record.dh_recbto) if record.dh_recbto else None,
        )
        html = render_danfce(company, note, info).encode("utf-8")
        self.store.put_file(self._danfe_path(ident.chave), HTML_CT, html)

    def _new_protocol(self, company: CompanyConfig, now: datetime) -> str:
        return f"1{company.cuf}{now:%y}{self.store.next_sequence('protocolo'):010d}"

    def _xml_path(self, cnpj: str, chave: str, dh_emi: datetime, suffix: str) -> str:
        root = "arquivos" if self.ambiente == "producao" else "arquivos_development"
        return f"/{root}/{cnpj}/{dh_emi:%Y%m}/XMLs/{chave}-{suffix}.xml"

    @staticmethod
    def _danfe_path(chave: str) -> str:
        return f"/notas_fiscais_consumidor/NFe{chave}.html"

    # -- automatic contingency -----------------------------------------------------------------

    def _automatic_contingency(
        self, record: NoteRecord, company: CompanyConfig, note: NoteInput, fault_params: dict[str, Any]
    ) -> NoteRecord:
        """SEFAZ did not answer: keep the attempt's number aside and issue another note offline."""
        now = self.clock.now()
        original = self._identity(company, note, False, now)
        self._number_rules(company, original)
        self.store.mark_number(company.cnpj, original.serie, original.numero, original.chave, "reservado")
        dh_emi = original.dh_emi
        numero = self._next_number(company.cnpj, original.serie)
        cnf = generate_cnf(numero)
        chave = build_chave(company.uf, dh_emi, company.cnpj, original.serie, numero, 9, cnf)
        ident = NfeIdentity(
            chave, cnf, numero, original.serie, 9, dh_emi, local_time(now, company.uf),
            "SEFAZ indisponivel: emissao em contingencia offline pela Focus",
        )  # fmt: skip
        built = self._build(company, note, ident)
        self._fill_identity(record, ident)
        self.store.put_file(self._xml_path(company.cnpj, chave, dh_emi, "nfe"), XML_CT, built.xml)
        record.status = AUTORIZADO
        record.status_sefaz = "100"
        record.mensagem_sefaz = MSG_AUTORIZADO
        record.digest = built.digest
        record.qrcode_url = built.qrcode_url
        record.url_consulta = built.url_chave
        record.contingencia_offline = True
        record.contingencia_efetivada = False
        record.original_attempt = {
            "serie": original.serie,
            "numero": original.numero,
            "chave": original.chave,
            "cnf": original.cnf,
            "authorized": bool(fault_params.get("original_authorized", False)),
        }
        record.tentativa_anterior = {
            "status": PROCESSANDO,
            "serie": str(original.serie),
            "numero": str(original.numero),
            "chave_nfe": "NFe" + original.chave,
        }
        self._store_danfce(record, company, note, ident)
        self.store.mark_number(company.cnpj, ident.serie, ident.numero, ident.chave, "contingencia")
        return record

    def _on_fault(self, mode: FaultMode, active: bool) -> None:
        if mode is not FaultMode.SEFAZ_DOWN:
            return
        self._sefaz_restored_at = None if active else self.clock.now()

    def tick(self) -> None:
        """Effectivate pending contingency notes once SEFAZ has been back for ``contingency_delay``."""
        restored = self._sefaz_restored_at
        if restored is None or self.faults.sefaz_down():
            return
        if self.clock.now() >= restored + self.contingency_delay:
            self.effectivate_contingency()
            self._sefaz_restored_at = None  # nothing pending until SEFAZ goes down again

    def effectivate_contingency(self) -> int:
        """Transmit every pending contingency note now (as Focus does when SEFAZ answers again).

        Returns how many notes were effectivated. Does nothing while ``sefaz_down`` is active.
        """
        if self.faults.sefaz_down():
            return 0
        count = 0
        with self.store.transaction():
            for record in self.store.notes(AUTORIZADO):
                if record.contingencia_offline and not record.contingencia_efetivada:
                    self._effectivate(record)
                    self.store.put_note(record)
                    count += 1
        return count

    def _effectivate(self, record: NoteRecord) -> None:
        company = self.companies.get(record.cnpj)
        if company is None or record.payload is None or record.chave is None:
            return
        now = self.clock.now()
        note = parse_note(record.payload, offline=False)
        assert record.dh_emi is not None and record.numero is not None and record.serie is not None
        dh_emi = datetime.fromisoformat(record.dh_emi)
        path = self._xml_path(company.cnpj, record.chave, dh_emi, "nfe")
        stored = self.store.get_file(path)
        assert stored is not None and record.digest is not None
        ident = NfeIdentity(
            record.chave, record.cnf or "", record.numero, record.serie, 9, dh_emi,
            datetime.fromisoformat(record.dh_cont) if record.dh_cont else None,
        )  # fmt: skip
        protocol = Protocol(self._new_protocol(company, now), local_time(now, company.uf))
        self.store.put_file(
            path, XML_CT, nfe_proc(stored[1], record.chave, record.digest, protocol, self.ambiente)
        )
        record.protocolo = protocol.numero
        record.data_autorizacao = now.isoformat()
        record.dh_recbto = xml_datetime(protocol.data_recebimento)
        record.contingencia_efetivada = True
        record.updated_at = now.isoformat()
        self._store_danfce(record, company, note, ident)
        self.store.mark_number(company.cnpj, record.serie, record.numero, record.chave, AUTORIZADO)
        original = record.original_attempt or {}
        if not original:
            return
        if original.get("authorized"):
            record.tentativa_anterior = self._cancel_original(company, note, original, dh_emi, now)
        else:
            self.store.release_number(company.cnpj, int(original["serie"]), int(original["numero"]))
            record.tentativa_anterior = {
                "status": ERRO,
                "status_sefaz": "217",
                "mensagem_sefaz": "Rejeicao: NF-e nao consta na base de dados da SEFAZ",
                "serie": str(original["serie"]),
                "numero": str(original["numero"]),
                "chave_nfe": "NFe" + str(original["chave"]),
            }

    def _cancel_original(
        self,
        company: CompanyConfig,
        note: NoteInput,
        original: dict[str, Any],
        dh_emi: datetime,
        now: datetime,
    ) -> dict[str, Any]:
        """The replaced attempt had reached SEFAZ after all: Focus authorizes and cancels it."""
        chave = str(original["chave"])
        ident = NfeIdentity(
            chave, str(original["cnf"]), int(original["numero"]), int(original["serie"]), 1, dh_emi
        )
        built = self._build(company, note, ident)
        protocol = Protocol(self._new_protocol(company, now), local_time(now, company.uf))
        xml_path = self._xml_path(company.cnpj, chave, dh_emi, "nfe")
        self.store.put_file(
            xml_path, XML_CT, nfe_proc(built.xml, chave, built.digest, protocol, self.ambiente)
        )
        event = CancelEvent(
            chave=chave,
            cnpj=company.cnpj,
            cuf=company.cuf,
            protocolo_nfe=protocol.numero,
            justificativa="Nota substituida por emissao em contingencia offline",
            data_evento=local_time(now, company.uf),
            data_registro=now,
            protocolo_evento=self._new_protocol(company, now),
        )
        can_path = self._xml_path(company.cnpj, chave, dh_emi, "can")
        self.store.put_file(can_path, XML_CT, cancel_proc(event, self.ambiente))
        self.store.mark_number(company.cnpj, ident.serie, ident.numero, chave, CANCELADO)
        return {
            "status": CANCELADO,
            "serie": str(ident.serie),
            "numero": str(ident.numero),
            "chave_nfe": "NFe" + chave,
            "caminho_xml_nota_fiscal": xml_path,
            "caminho_xml_cancelamento": can_path,
        }

    # -- consult -------------------------------------------------------------------------------

    def consult(self, token: str, ref: str, completa: bool) -> ApiResponse:
        record = self.store.get_note(token, ref)
        if record is None:
            return api_error(404, "nfce_nao_encontrada", "NFCe não encontrada")
        return ApiResponse(200, self._note_body(record, completa))

    def note_body(self, token: str, ref: str, completa: bool = False) -> dict[str, Any] | None:
        record = self.store.get_note(token, ref)
        return None if record is None else self._note_body(record, completa)

    def _note_body(self, record: NoteRecord, completa: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"cnpj_emitente": record.cnpj, "ref": record.ref, "status": record.status}
        if record.status == PROCESSANDO:
            return body
        body["status_sefaz"] = record.status_sefaz
        body["mensagem_sefaz"] = record.mensagem_sefaz
        if record.status == ERRO:
            return body
        assert record.chave is not None and record.dh_emi is not None
        dh_emi = datetime.fromisoformat(record.dh_emi)
        body["chave_nfe"] = "NFe" + record.chave
        body["numero"] = str(record.numero)
        body["serie"] = str(record.serie)
        body["caminho_xml_nota_fiscal"] = self._xml_path(record.cnpj, record.chave, dh_emi, "nfe")
        if record.status == CANCELADO:
            body["caminho_xml_cancelamento"] = self._xml_path(record.cnpj, record.chave, dh_emi, "can")
        else:
            body["caminho_danfe"] = self._danfe_path(record.chave)
            body["qrcode_url"] = record.qrcode_url
            body["url_consulta_nf"] = record.url_consulta
        if record.contingencia_offline:
            body["contingencia_offline"] = True
            body["contingencia_offline_efetivada"] = record.contingencia_efetivada
            if record.tentativa_anterior:
                body["tentativa_anterior"] = dict(record.tentativa_anterior)
        if completa:
            body.update(self._completa(record))
        return body

    def _completa(self, record: NoteRecord) -> dict[str, Any]:
        extra: dict[str, Any] = {"requisicao_nota_fiscal": self._requisicao(record)}
        if record.protocolo:
            extra["protocolo_nota_fiscal"] = {
                "versao": "4.00",
                "ambiente": tp_amb(self.ambiente),
                "versao_aplicativo": "SANDBOX-1.0",
                "chave_nfe": record.chave,
                "data_recebimento": record.dh_recbto,
                "numero_protocolo": record.protocolo,
                "valor_digest": record.digest,
                "status": "100",
                "motivo": MSG_AUTORIZADO,
            }
        if record.cancelamento:
            extra["requisicao_cancelamento"] = record.cancelamento["requisicao"]
            extra["protocolo_cancelamento"] = record.cancelamento["protocolo"]
        return extra

    def _requisicao(self, record: NoteRecord) -> dict[str, Any]:
        company = self.companies.get(record.cnpj)
        assert record.payload is not None and record.chave is not None
        note = parse_note(record.payload, offline=False)
        data: dict[str, Any] = {
            "versao": "4.00",
            "id_tag": "NFe" + record.chave,
            "codigo_uf": record.chave[:2],
            "codigo_unico": record.cnf,
            "natureza_operacao": note.natureza_operacao,
            "modelo": "65",
            "serie": str(record.serie),
            "numero": str(record.numero),
            "data_emissao": record.dh_emi,
            "tipo_documento": "1",
            "local_destino": "1",
            "formato_danfe": "4",
            "tipo_emissao": str(record.tp_emis),
            "digito_verificador": record.chave[-1],
            "ambiente": tp_amb(self.ambiente),
            "finalidade_emissao": "1",
            "consumidor_final": "1",
            "presenca_comprador": note.presenca_comprador,
            "processo_emissao": "0",
            "versao_aplicativo": "SANDBOX-FOCUS 1.0",
            "cnpj_emitente": record.cnpj,
            "modalidade_frete": "9",
            "valor_produtos": f"{note.valor_produtos:.2f}",
            "valor_desconto": f"{note.valor_desconto:.2f}",
            "valor_frete": f"{note.valor_frete:.2f}",
            "valor_total": f"{note.valor_total:.2f}",
            "valor_troco": f"{note.valor_troco:.2f}",
            "icms_base_calculo": f"{note.icms_base_calculo:.2f}",
            "icms_valor_total": f"{note.icms_valor_total:.2f}",
            "items": [
                {
                    "numero_item": str(i.numero_item),
                    "codigo_produto": i.codigo_produto,
                    "descricao": i.descricao,
                    "codigo_ncm": i.codigo_ncm,
                    "cfop": i.cfop,
                    "unidade_comercial": i.unidade_comercial,
                    "quantidade_comercial": f"{i.quantidade_comercial:.4f}",
                    "valor_unitario_comercial": f"{i.valor_unitario_comercial:.10f}",
                    "valor_bruto": f"{i.valor_bruto:.2f}",
                    "valor_desconto": f"{i.valor_desconto:.2f}",
                    "icms_origem": i.icms_origem,
                    "icms_situacao_tributaria": i.icms_situacao_tributaria,
                }
                for i in note.items
            ],
            "formas_pagamento": [
                {"forma_pagamento": p.forma_pagamento, "valor_pagamento": f"{p.valor_pagamento:.2f}"}
                | ({"bandeira_operadora": p.bandeira_operadora} if p.bandeira_operadora else {})
                | {
                    k: v
                    for k, v in (
                        ("tipo_integracao", p.tipo_integracao),
                        ("cnpj_credenciadora", p.cnpj_credenciadora),
                        ("numero_autorizacao", p.numero_autorizacao),
                    )
                    if v
                }
                for p in note.payments
            ],
            "qr_code": record.qrcode_url,
            "url_consulta_nf": record.url_consulta,
        }
        if company is not None:
            data.update(
                nome_emitente=company.razao_social,
                nome_fantasia_emitente=company.nome_fantasia,
                inscricao_estadual_emitente=company.inscricao_estadual,
                regime_tributario_emitente=company.crt,
                uf_emitente=company.uf,
                codigo_municipio_emitente=company.codigo_municipio,
            )
        if record.dh_cont:
            data["data_entrada_contingencia"] = record.dh_cont
        if note.cpf_destinatario:
            data["cpf_destinatario"] = note.cpf_destinatario
        if note.cnpj_destinatario:
            data["cnpj_destinatario"] = note.cnpj_destinatario
        return data

    # -- cancellation --------------------------------------------------------------------------

    def cancel(self, token: str, ref: str, body: bytes) -> ApiResponse:
        payload, problem = _parse_json(body, allow_empty=True)
        if problem is not None:
            return problem
        justificativa = payload.get("justificativa") if isinstance(payload, dict) else None
        with self.store.transaction():
            record = self.store.get_note(token, ref)
            if record is None:
                return api_error(404, "nfce_nao_encontrada", "NFCe não encontrada")
            if not isinstance(justificativa, str) or not justificativa.strip():
                return api_error(
                    400, "justificativa_nao_informada", 'Parâmetro "justificativa" não informado'
                )
            justificativa = justificativa.strip()
            if not 15 <= len(justificativa) <= 255:
                return api_error(
                    422, "requisicao_invalida", 'Parâmetro "justificativa" deve ter entre 15 e 255 caracteres'
                )
            if record.status == CANCELADO:
                return api_error(400, "nfe_cancelada", "Nota fiscal já cancelada")
            if record.status != AUTORIZADO:
                return api_error(404, "nfce_nao_autorizada", "NFCe não autorizada")
            if self.faults.sefaz_down():
                return ApiResponse(200, self._cancel_error("108", MSG_SEFAZ_DOWN))
            if record.contingencia_offline and not record.contingencia_efetivada:
                self._effectivate(record)
            now = self.clock.now()
            assert record.data_autorizacao is not None
            if now - datetime.fromisoformat(record.data_autorizacao) > self.cancel_window:
                self.store.put_note(record)
                return ApiResponse(
                    200,
                    self._cancel_error(
                        "501", "Rejeicao: Prazo de Cancelamento Superior ao Previsto na Legislacao"
                    ),
                )
            body_out = self._do_cancel(record, justificativa, now)
            self.store.put_note(record)
        return ApiResponse(200, body_out)

    @staticmethod
    def _cancel_error(status_sefaz: str, mensagem: str) -> dict[str, Any]:
        return {"status_sefaz": status_sefaz, "mensagem_sefaz": mensagem, "status": "erro_cancelamento"}

    def _do_cancel(self, record: NoteRecord, justificativa: str, now: datetime) -> dict[str, Any]:
        company = self.companies[record.cnpj]
        assert record.chave is not None and record.protocolo is not None and record.dh_emi is not None
        assert record.serie is not None and record.numero is not None
        event = CancelEvent(
            chave=record.chave,
            cnpj=company.cnpj,
            cuf=company.cuf,
            protocolo_nfe=record.protocolo,
            justificativa=justificativa,
            data_evento=local_time(now, company.uf),
            data_registro=now,
            protocolo_evento=self._new_protocol(company, now),
        )
        path = self._xml_path(company.cnpj, record.chave, datetime.fromisoformat(record.dh_emi), "can")
        self.store.put_file(path, XML_CT, cancel_proc(event, self.ambiente))
        self.store.mark_number(company.cnpj, record.serie, record.numero, record.chave, CANCELADO)
        registered = xml_datetime(local_time(now, company.uf))
        record.status = CANCELADO
        record.status_sefaz = "135"
        record.mensagem_sefaz = MSG_CANCELADO
        record.updated_at = now.isoformat()
        record.cancelamento = {
            "justificativa": justificativa,
            "requisicao": {
                "versao": "1.00",
                "id_tag": event.id_tag,
                "codigo_orgao": company.cuf,
                "ambiente": tp_amb(self.ambiente),
                "cnpj": company.cnpj,
                "chave_nfe": record.chave,
                "data_evento": xml_datetime(event.data_evento),
                "tipo_evento": "110111",
                "numero_sequencial_evento": "1",
                "versao_evento": "1.00",
                "descricao_evento": "Cancelamento",
                "protocolo": record.protocolo,
                "justificativa": justificativa,
            },
            "protocolo": {
                "versao": "1.00",
                "ambiente": tp_amb(self.ambiente),
                "versao_aplicativo": "SANDBOX-1.0",
                "codigo_orgao": company.cuf,
                "status": "135",
                "motivo": MSG_CANCELADO,
                "chave_nfe": record.chave,
                "tipo_evento": "110111",
                "descricao_evento": "Cancelamento",
                "data_evento": registered,
                "numero_protocolo": event.protocolo_evento,
            },
        }
        return {
            "status_sefaz": "135",
            "mensagem_sefaz": MSG_CANCELADO,
            "status": CANCELADO,
            "caminho_xml_cancelamento": path,
        }

    # -- e-mail --------------------------------------------------------------------------------

    def email(self, token: str, ref: str, body: bytes) -> ApiResponse:
        payload, problem = _parse_json(body)
        if problem is not None:
            return problem
        record = self.store.get_note(token, ref)
        if record is None:
            return api_error(404, "nfce_nao_encontrada", "NFCe não encontrada")
        if record.status not in (AUTORIZADO, CANCELADO):
            return api_error(422, "nfe_nao_autorizada", "Nota fiscal não autorizada")
        emails = payload.get("emails") if isinstance(payload, dict) else None
        if not isinstance(emails, list) or not emails:
            return api_error(
                400, "requisicao_invalida", 'Parâmetro "emails" não informado (lista de e-mails)'
            )
        if len(emails) > 10:
            return api_error(400, "requisicao_invalida", "Informe no máximo 10 e-mails por requisição")
        erros = [
            {"codigo": "email_invalido", "campo": f"emails[{i}]", "mensagem": f"E-mail inválido: {e!r}"}
            for i, e in enumerate(emails)
            if not isinstance(e, str) or not is_valid_email(e)
        ]
        if erros:
            return api_error(400, "requisicao_invalida", erros[0]["mensagem"], erros)
        sent_at = self.clock.now().isoformat()
        with self.store.transaction():
            for address in emails:
                self.store.add_email(EmailRecord(token, ref, address, sent_at))
        return ApiResponse(200, {"mensagem": "E-mails enviados para processamento", "emails": list(emails)})

    # -- inutilização --------------------------------------------------------------------------

    def inutilizar(self, token: str, body: bytes) -> ApiResponse:
        payload, problem = _parse_json(body)
        if problem is not None:
            return problem
        if not isinstance(payload, dict):
            return api_error(400, "requisicao_invalida", "O corpo da requisição deve ser um objeto JSON")
        erros: list[dict[str, str]] = []

        def err(campo: str, mensagem: str) -> None:
            erros.append({"codigo": "valor_invalido", "campo": campo, "mensagem": mensagem})

        cnpj = normalize_cnpj(str(payload.get("cnpj") or ""))
        if not is_valid_cnpj(cnpj):
            err("cnpj", "CNPJ do emitente inválido ou não informado")
        numbers: dict[str, int] = {}
        for key, low, high in (
            ("serie", 0, 999),
            ("numero_inicial", 1, 999_999_999),
            ("numero_final", 1, 999_999_999),
        ):
            raw = str(payload.get(key) if payload.get(key) is not None else "").strip()
            if not raw.isdigit() or not low <= int(raw) <= high:
                err(key, f'Parâmetro "{key}" deve ser um número inteiro entre {low} e {high}')
            else:
                numbers[key] = int(raw)
        if len(numbers) == 3 and numbers["numero_inicial"] > numbers["numero_final"]:
            err("numero_final", "numero_final deve ser maior ou igual a numero_inicial")
        justificativa = str(payload.get("justificativa") or "").strip()
        if not 15 <= len(justificativa) <= 255:
            err("justificativa", 'Parâmetro "justificativa" deve ter entre 15 e 255 caracteres')
        if erros:
            return api_error(400, "requisicao_invalida", erros[0]["mensagem"], erros)
        company = self.companies.get(cnpj)
        if company is None:
            return self._no_company(cnpj)
        serie, first, last = numbers["serie"], numbers["numero_inicial"], numbers["numero_final"]
        base = {"serie": str(serie), "numero_inicial": str(first), "numero_final": str(last)}
        now = self.clock.now()
        with self.store.transaction():
            if self.faults.sefaz_down():
                result = {"status_sefaz": "108", "mensagem_sefaz": MSG_SEFAZ_DOWN, **base, "status": ERRO}
            elif self.store.used_in_range(cnpj, serie, first, last):
                result = {
                    "status_sefaz": "241",
                    "mensagem_sefaz": "Um numero da faixa ja foi utilizado",
                    **base,
                    "status": ERRO,
                }
            elif self.store.inutilizada(cnpj, serie, first, last):
                result = {
                    "status_sefaz": "256",
                    "mensagem_sefaz": "Rejeicao: Uma NF-e da faixa ja esta inutilizada na Base de dados da SEFAZ",
                    **base,
                    "status": ERRO,
                }
            else:
                local = local_time(now, company.uf)
                inut = Inutilizacao(
                    cnpj, company.cuf, serie, first, last, justificativa, f"{local:%y}", local,
                    self._new_protocol(company, now),
                )  # fmt: skip
                root = "arquivos" if self.ambiente == "producao" else "arquivos_development"
                path = f"/{root}/{cnpj}/{local:%Y%m}/XMLs/{inut.id_digits[2:]}-inu.xml"
                self.store.put_file(path, XML_CT, inut_proc(inut, self.ambiente))
                result = {
                    "status_sefaz": "102",
                    "mensagem_sefaz": "Inutilizacao de numero homologado",
                    **base,
                    "modelo": "65",
                    "cnpj": cnpj,
                    "status": AUTORIZADO,
                    "caminho_xml": path,
                }
            self.store.add_inutilizacao(token, cnpj, serie, first, last, {**result, "cnpj": cnpj})
        return ApiResponse(200, result)

    # -- files ---------------------------------------------------------------------------------

    def file(self, path: str) -> ApiResponse:
        found = self.store.get_file(path)
        if found is None:
            return api_error(404, "nao_encontrado", "Arquivo não encontrado")
        content_type, body = found
        return ApiResponse(200, raw=body, content_type=content_type)
