"""CT-e (model 57) and CT-e OS (model 67) of the sandbox, per ``../shared/seeds/focus-nfe-cte.md``.

Decisions where the seed is silent (the client in :mod:`pos_app.core.focus.cte` relies on them):

* HTTP status: ``POST /v2/cte`` 201 ``processando_autorizacao``; ``POST /v2/cte_os`` 201 with the
  result (``autorizado``/``erro_autorizacao``/``denegado``); consult 200/404; cancellation,
  CC-e, events and inutilização 200 with ``status`` (SEFAZ refusals are 200 with
  ``erro_cancelamento``/``erro_autorizacao``); the error codes are the seed's.
* Asynchronous CT-e: the note stays ``processando_autorizacao`` until it is consulted
  ``polls_to_finish`` times or ``processing_delay`` passed on the sandbox clock (while the
  ``sefaz_down`` fault is active it stays in processing).
* ``numero`` and ``serie`` are required (the seed's ``campos_invalidos`` messages); missing fields:
  400 ``campos_invalidos`` "O parâmetro 'X' não foi informado"; wrong type: "O Campo 'X' não é
  válido"; values that break the CT-e schema (length, pattern, UF, município): 422
  ``erro_validacao_schema`` with ``erros``; modal problems: 400 ``campos_invalidos_modal``;
  a ``modelo`` field that contradicts the URL: 400 ``modelo_invalido``; ``forma_emissao`` (query or
  body) outside 1, 4, 5, 7, 8: 400 ``forma_emissao_invalida``.
* Ref already used: 409 ``cte_em_processamento`` / ``cte_ja_autorizado`` (CT-e and CT-e OS share
  the ``/v2/cte/REF`` space); a ref in ``erro_autorizacao`` may be resent.
* SEFAZ rules (``erro_autorizacao``): emission more than 5 minutes ahead (212), CFOP outside
  transport CFOPs (with a CT-e OS rule too), number already used (539) or inutilized (206),
  ``valor_receber`` above ``valor_total``; the ``reject_ref`` fault (``status_sefaz`` 110/301/302
  gives ``denegado``).
* Cancellation within 7 days (220 after that); CC-e: at most 20 per CT-e (594 after that), never on
  tax values, remetente/destinatário documents or ``data_emissao`` (``erro_autorizacao`` 999).
* Events not addressed by the seed: ``POST /v2/cte/REF/desacordo`` (``observacoes`` 15-255, once),
  ``/registro_multimodal`` (``registro`` 15-1000, modal multimodal only), ``/dados_gtv``
  (``informacoes_gtv`` list; CT-e OS only: a model 57 answers 400 ``nao_autorizado`` as the seed says).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pos_app.core.domain.validators import UFS, is_valid_cnpj, is_valid_cpf, normalize_cnpj, only_digits
from pos_app.core.fiscal.chave import build_chave, is_valid_chave
from pos_app.core.fiscal.states import timezone_for
from pos_app.sandbox.clock import SandboxClock
from pos_app.sandbox.companies import CompanyConfig
from pos_app.sandbox.cte_documents import (
    EVENTS,
    MODAL_CODES,
    CteEvent,
    CteIdentity,
    Emitter,
    build_cte,
    cte_proc,
    event_proc,
    inut_proc,
)
from pos_app.sandbox.docstore import PDF_CT, DocRequest, DocResponse, DocStore, ok, parse_object, simple_pdf
from pos_app.sandbox.documents import local_time, xml_datetime
from pos_app.sandbox.engine import JSON_CT, XML_CT, ApiResponse, NfceSandbox, api_error
from pos_app.sandbox.faults import Faults
from pos_app.sandbox.validation import REF_PATTERN

KIND = "cte"
KIND_NUMBER = "cte_num"
KIND_INUT = "cte_inut"

PROCESSANDO = "processando_autorizacao"
AUTORIZADO = "autorizado"
CANCELADO = "cancelado"
ERRO = "erro_autorizacao"
DENEGADO = "denegado"

MSG_AUTORIZADO = "Autorizado o uso do CT-e"
MSG_EVENTO = "Evento registrado e vinculado a CT-e"
MSG_SEFAZ_DOWN = "Servico Paralisado Momentaneamente (curto prazo)"
MAX_CCE = 20
FORMAS_EMISSAO = {"1", "4", "5", "7", "8"}
CFOP_CTE = {f"{p}{n}" for p in "56" for n in range(351, 361)} | {"5932", "6932", "7358"}
CTE_OS_MODAIS = {"01", "02", "03", "04"}
CCE_FORBIDDEN = re.compile(
    r"^(valor_.*|icms_.*|quantidade.*|quantidades|cnpj_remetente|cpf_remetente|cnpj_destinatario|"
    r"cpf_destinatario|data_emissao|vTPrest|vRec|vBC|pICMS|vICMS|qCarga|dhEmi)$"
)

COMMON_REQUIRED = (
    "cfop", "natureza_operacao", "data_emissao", "tipo_documento", "tipo_servico",
    "codigo_municipio_envio", "municipio_envio", "uf_envio",
    "codigo_municipio_inicio", "municipio_inicio", "uf_inicio",
    "codigo_municipio_fim", "municipio_fim", "uf_fim",
    "valor_total", "valor_receber", "icms_situacao_tributaria",
)  # fmt: skip
CTE_REQUIRED = ("tomador", "nome_remetente", "nome_destinatario", "valor_total_carga", "produto_predominante")
CTE_OS_REQUIRED = ("modal", "descricao_servico", "nome_tomador", "indicador_inscricao_estadual_tomador")
MONEY_FIELDS = ("valor_total", "valor_receber", "valor_total_carga", "icms_base_calculo", "icms_valor")
ICMS_CODES = {"00", "20", "40", "41", "45", "51", "60", "90", "SN"}


class _Invalid(Exception):
    def __init__(self, response: ApiResponse) -> None:
        super().__init__(str(response.status))
        self.response = response


class _Rejected(Exception):
    def __init__(self, status_sefaz: str, mensagem: str) -> None:
        super().__init__(f"{status_sefaz} {mensagem}")
        self.status_sefaz = status_sefaz
        self.mensagem = mensagem


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _money(value: Any) -> Decimal | None:
    if not _scalar(value):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    exponent = amount.as_tuple().exponent
    if not isinstance(exponent, int) or amount < 0 or exponent < -2:
        return None
    return amount


@dataclass(frozen=True)
class _Parsed:
    cnpj: str
    modelo: int
    numero: int
    serie: int
    data_emissao: datetime
    tp_emis: int


class CteSandbox:
    """``/v2/cte`` and ``/v2/cte_os``: emission, consult, cancellation, CC-e, events, inutilização."""

    def __init__(self, docs: DocStore, clock: SandboxClock, faults: Faults, engine: NfceSandbox) -> None:
        self.docs = docs
        self.clock = clock
        self.faults = faults
        self.engine = engine
        self.polls_to_finish = 2
        self.processing_delay = timedelta(seconds=3)
        self.emission_tolerance = timedelta(minutes=5)
        self.cancel_window = timedelta(days=7)
        self.disabled: set[str] = set()  # CNPJs not enabled for CT-e ("empresa_nao_habilitada")
        # Origin of the file links (S3 at Focus); None: the host the request was sent to.
        self.files_origin: Callable[[], str | None] | None = None

    @property
    def ambiente(self) -> str:
        return self.engine.ambiente

    # -- routing -------------------------------------------------------------------------------
    def handle(self, req: DocRequest) -> ApiResponse:
        """``/v2/cte...``: file paths in the answers are absolute URLs, as in the seed's CT-e examples
        (``https://focusnfe.s3-sa-east-1.amazonaws.com/arquivos_development/...xml``)."""
        return self._absolute_paths(self._handle(req), req)

    def _absolute_paths(self, response: ApiResponse, req: DocRequest) -> ApiResponse:
        if not isinstance(response, DocResponse) or response.raw is None or response.content_type != JSON_CT:
            return response
        try:
            data = json.loads(response.raw)
        except ValueError:
            return response
        origin = (self.files_origin() if self.files_origin else "") or (
            f"http://{req.host}" if req.host else ""
        )
        if not origin:
            return response

        def fix(value: Any) -> Any:
            if isinstance(value, dict):
                return {
                    k: (
                        origin + v
                        if k.startswith("caminho") and isinstance(v, str) and v.startswith("/")
                        else fix(v)
                    )
                    for k, v in value.items()
                }
            if isinstance(value, list):
                return [fix(v) for v in value]
            return value

        raw = json.dumps(fix(data), ensure_ascii=False).encode("utf-8")
        return DocResponse(
            response.status, raw=raw, content_type=response.content_type, headers=response.headers
        )

    def _handle(self, req: DocRequest) -> ApiResponse:
        rest, method = req.rest, req.method
        if method == "POST" and not rest:
            return self.emit(req, 57)
        if method == "POST" and rest == ["inutilizacao"]:
            return self.inutilizar(req)
        if len(rest) == 1 and rest[0]:
            if method == "GET":
                return self.consult(req.token, rest[0], req.completa)
            if method == "DELETE":
                return self.cancel(req.token, rest[0], req.body)
        if len(rest) == 2 and method == "POST":
            action = {
                "carta_correcao": self.carta_correcao,
                "desacordo": self.desacordo,
                "registro_multimodal": self.registro_multimodal,
                "dados_gtv": self.dados_gtv,
            }.get(rest[1])
            if action is not None:
                return action(req.token, rest[0], req.body)
        if len(rest) in (1, 2):
            return api_error(405, "requisicao_invalida", f"Método {method} não permitido para este recurso")
        return api_error(404, "nao_encontrado", "Recurso não encontrado")

    def handle_os(self, req: DocRequest) -> ApiResponse:
        """``/v2/cte_os?ref=`` (only the emission lives here; the rest is under ``/v2/cte/REF``)."""
        if req.method == "POST" and not req.rest:
            return self._absolute_paths(self.emit(req, 67), req)
        return api_error(404, "nao_encontrado", "Recurso não encontrado: consulte em /v2/cte/REFERENCIA")

    # -- emission ------------------------------------------------------------------------------
    def emit(self, req: DocRequest, modelo: int) -> ApiResponse:
        ref = req.query.get("ref")
        if not ref:
            return api_error(400, "requisicao_invalida", 'Parâmetro "ref" não informado')
        if not REF_PATTERN.fullmatch(ref):
            return api_error(
                400, "requisicao_invalida", "A referência (ref) aceita apenas letras, números, _ e -"
            )
        payload, problem = parse_object(req.body)
        if problem is not None or payload is None:
            return problem or api_error(400, "requisicao_invalida", "Corpo inválido")
        try:
            parsed = self._validate(payload, modelo, req.query.get("forma_emissao"))
        except _Invalid as invalid:
            return invalid.response
        with self.docs.transaction():
            existing = self.docs.get(KIND, req.token, ref)
            if existing is not None and existing["status"] == PROCESSANDO:
                return api_error(
                    409,
                    "cte_em_processamento",
                    "Já existe um CT-e utilizando essa referencia e ele está em processamento",
                )
            if existing is not None and existing["status"] != ERRO:
                return api_error(
                    409, "cte_ja_autorizado", "Já existe um CT-e autorizado utilizando esta referência"
                )
            now = self.clock.now()
            record: dict[str, Any] = {
                "token": req.token, "ref": ref, "cnpj": parsed.cnpj, "modelo": modelo, "status": PROCESSANDO,
                "numero": parsed.numero, "serie": parsed.serie, "tp_emis": parsed.tp_emis,
                "data_emissao": parsed.data_emissao.isoformat(), "payload": payload,
                "due_at": (now + self.processing_delay).isoformat(), "polls": 0,
                "created_at": now.isoformat(), "updated_at": now.isoformat(),
                "cce": [], "eventos": [],
            }  # fmt: skip
            if modelo == 67:
                self._process(record, synchronous=True)
            self._save(record)
        return ok(self._body(record, False), 201)

    def _validate(self, payload: dict[str, Any], modelo: int, forma_query: str | None) -> _Parsed:
        def fail(
            status: int, codigo: str, mensagem: str, erros: list[dict[str, str]] | None = None
        ) -> _Invalid:
            return _Invalid(api_error(status, codigo, mensagem, erros))

        forma = forma_query if forma_query is not None else payload.get("forma_emissao")
        if forma is not None and str(forma).strip() not in FORMAS_EMISSAO:
            raise fail(400, "forma_emissao_invalida", "A forma de emissão utilizada é inválida")
        declared = payload.get("modelo")
        if declared not in (None, "") and str(declared).strip() != str(modelo):
            raise fail(
                400, "modelo_invalido", f"Para esta URL só é permitida a emissão de CT-e modelo {modelo}"
            )
        cnpj_raw = payload.get("cnpj_emitente")
        if _blank(cnpj_raw):
            raise fail(400, "campos_invalidos", "O parâmetro 'cnpj_emitente' não foi informado")
        cnpj = normalize_cnpj(str(cnpj_raw))
        if not _scalar(cnpj_raw) or not is_valid_cnpj(cnpj):
            raise fail(400, "campos_invalidos", "O Campo 'cnpj_emitente' não é válido")
        if cnpj not in self.engine.companies or cnpj in self.disabled:
            raise fail(400, "empresa_nao_habilitada", "Empresa ainda não habilitada para emissão de CT-e")
        for key in ("numero", "serie"):
            if _blank(payload.get(key)):
                raise fail(400, "campos_invalidos", f"O parâmetro '{key}' não foi informado")
        required = COMMON_REQUIRED + (CTE_OS_REQUIRED if modelo == 67 else CTE_REQUIRED)
        for key in required:
            if _blank(payload.get(key)):
                raise fail(400, "campos_invalidos", f"O parâmetro '{key}' não foi informado")
            if not _scalar(payload[key]):
                raise fail(400, "campos_invalidos", f"O Campo '{key}' não é válido")
        numbers: dict[str, int] = {}
        for key, low, high in (("numero", 1, 999_999_999), ("serie", 0, 999)):
            text = str(payload[key]).strip()
            if not _scalar(payload[key]) or not text.isdigit() or not low <= int(text) <= high:
                raise fail(400, "campos_invalidos", f"O Campo '{key}' não é válido")
            numbers[key] = int(text)
        self._validate_parties(payload, modelo, fail)
        self._validate_modal(payload, modelo, fail)
        erros = self._schema_errors(payload, modelo)
        if erros:
            raise fail(422, "erro_validacao_schema", "Erro na validação do Schema XML", erros)
        company = self.engine.companies[cnpj]
        return _Parsed(
            cnpj,
            modelo,
            numbers["numero"],
            numbers["serie"],
            _parse_datetime(str(payload["data_emissao"]), company.uf),
            int(str(forma or "1").strip()),
        )

    @staticmethod
    def _validate_parties(payload: dict[str, Any], modelo: int, fail: Any) -> None:
        parties = ("tomador",) if modelo == 67 else ("remetente", "destinatario")
        for who in parties:
            cnpj, cpf = payload.get(f"cnpj_{who}"), payload.get(f"cpf_{who}")
            if _blank(cnpj) and _blank(cpf):
                raise fail(400, "campos_invalidos", f"O parâmetro 'cnpj_{who}' não foi informado")
            if not _blank(cnpj) and not is_valid_cnpj(normalize_cnpj(str(cnpj))):
                raise fail(400, "campos_invalidos", f"O Campo 'cnpj_{who}' não é válido")
            if not _blank(cpf) and not is_valid_cpf(only_digits(str(cpf))):
                raise fail(400, "campos_invalidos", f"O Campo 'cpf_{who}' não é válido")
        if modelo == 57:
            tomador = str(payload.get("tomador")).strip()
            if tomador not in {"0", "1", "2", "3", "4"}:
                raise fail(400, "campos_invalidos", "O Campo 'tomador' não é válido")
            if tomador == "4" and _blank(payload.get("cnpj_tomador")) and _blank(payload.get("cpf_tomador")):
                raise fail(400, "campos_invalidos", "O parâmetro 'cnpj_tomador' não foi informado")
            quantidades = payload.get("quantidades")
            if not isinstance(quantidades, list) or not quantidades:
                raise fail(400, "campos_invalidos", "O parâmetro 'quantidades' não foi informado")

    @staticmethod
    def _validate_modal(payload: dict[str, Any], modelo: int, fail: Any) -> None:
        present = [k for k in MODAL_CODES if k in payload]
        if modelo == 57:
            if not present:
                raise fail(
                    400,
                    "campos_invalidos_modal",
                    "Informe o modal do CT-e: modal_rodoviario, modal_aereo, modal_aquaviario, "
                    "modal_ferroviario, modal_dutoviario ou modal_multimodal",
                )
            if len(present) > 1:
                raise fail(400, "campos_invalidos_modal", "Informe apenas um modal: " + ", ".join(present))
            modal = payload[present[0]]
            if not isinstance(modal, dict) or not modal:
                raise fail(400, "campos_invalidos_modal", f"O Campo '{present[0]}' não é válido")
            bad = [k for k, v in modal.items() if v is None or (isinstance(v, str) and not v.strip())]
            if bad:
                raise fail(400, "campos_invalidos_modal", f"Campos do modal sem valor: {', '.join(bad)}")
            return
        code = str(payload.get("modal")).strip().zfill(2)
        if code not in CTE_OS_MODAIS:
            raise fail(
                400, "campos_invalidos_modal", "O Campo 'modal' não é válido (01, 02, 03 ou 04 para CT-e OS)"
            )
        if code == "01":
            modal = payload.get("modal_rodoviario")
            if not isinstance(modal, dict) or not modal:
                raise fail(
                    400,
                    "campos_invalidos_modal",
                    "CT-e OS rodoviário: informe os dados adicionais em 'modal_rodoviario'",
                )
        for key in present:
            if not isinstance(payload[key], dict):
                raise fail(400, "campos_invalidos_modal", f"O Campo '{key}' não é válido")

    @staticmethod
    def _schema_errors(payload: dict[str, Any], modelo: int) -> list[dict[str, str]]:
        erros: list[dict[str, str]] = []

        def err(campo: str, mensagem: str) -> None:
            erros.append({"codigo": "erro_validacao_schema", "campo": campo, "mensagem": mensagem})

        if not re.fullmatch(r"[5-7]\d{3}", str(payload["cfop"]).strip()):
            err("cfop", "CFOP deve ter 4 dígitos e começar com 5, 6 ou 7")
        if len(str(payload["natureza_operacao"])) > 60:
            err("natureza_operacao", "natureza_operacao deve ter no máximo 60 caracteres")
        for suffix in ("envio", "inicio", "fim"):
            if str(payload[f"uf_{suffix}"]).strip().upper() not in {*UFS, "EX"}:
                err(f"uf_{suffix}", f"UF inválida em uf_{suffix}")
            if not re.fullmatch(r"\d{7}", str(payload[f"codigo_municipio_{suffix}"]).strip()):
                err(f"codigo_municipio_{suffix}", f"codigo_municipio_{suffix} deve ter 7 dígitos (IBGE)")
        for key in MONEY_FIELDS:
            if key in payload and not _blank(payload[key]) and _money(payload[key]) is None:
                err(key, f"{key} deve ser um valor decimal não negativo com até 2 casas")
        if str(payload["icms_situacao_tributaria"]).strip() not in ICMS_CODES:
            err("icms_situacao_tributaria", "Situação tributária do ICMS inválida para CT-e")
        if str(payload["tipo_documento"]).strip() not in {"0", "1", "2", "3"}:
            err("tipo_documento", "tipo_documento deve ser 0, 1, 2 ou 3")
        servicos = {"6", "7", "8"} if modelo == 67 else {"0", "1", "2", "3", "4"}
        if str(payload["tipo_servico"]).strip() not in servicos:
            err("tipo_servico", f"tipo_servico deve ser um de: {', '.join(sorted(servicos))}")
        for i, nfe in enumerate(payload.get("nfes") or []):
            chave = str(nfe.get("chave_nfe", "")) if isinstance(nfe, dict) else ""
            if not is_valid_chave(chave):
                err(f"nfes[{i}].chave_nfe", "Chave da NF-e inválida")
        try:
            _parse_datetime(str(payload["data_emissao"]), "PR")
        except ValueError:
            err("data_emissao", "data_emissao deve estar no formato AAAA-MM-DDThh:mm:ss-03:00")
        return erros

    # -- processing (the "SEFAZ" side) ---------------------------------------------------------
    def process_pending(self) -> int:
        """Finish every CT-e still in processing now (unless SEFAZ is down); returns how many."""
        count = 0
        with self.docs.transaction():
            for _scope, _key, record in list(self.docs.all(KIND)):
                if record["status"] == PROCESSANDO and not self.faults.sefaz_down():
                    self._process(record)
                    self._save(record)
                    count += 1
        return count

    def _process(self, record: dict[str, Any], synchronous: bool = False) -> None:
        company = self.engine.companies[record["cnpj"]]
        now = self.clock.now()
        record["updated_at"] = now.isoformat()
        try:
            if self.faults.sefaz_down():
                raise _Rejected("108", MSG_SEFAZ_DOWN)
            self._sefaz_rules(record, company, now)
            rejection = self.faults.take_rejection(record["ref"], int(record["numero"]))
            if rejection is not None:
                raise _Rejected(
                    str(rejection.params["status_sefaz"]), str(rejection.params["mensagem_sefaz"])
                )
        except _Rejected as rejected:
            denied = rejected.status_sefaz in ("110", "301", "302", "303")
            record["status"] = DENEGADO if denied else ERRO
            record["status_sefaz"] = rejected.status_sefaz
            record["mensagem_sefaz"] = rejected.mensagem
            if denied:
                self._identity(record, company)
                self._mark_number(record, DENEGADO)
            return
        self._authorize(record, company, now)

    def _sefaz_rules(self, record: dict[str, Any], company: CompanyConfig, now: datetime) -> None:
        payload = record["payload"]
        emitted = datetime.fromisoformat(record["data_emissao"])
        if emitted - now > self.emission_tolerance:
            raise _Rejected("212", "Rejeicao: Data de emissao do CT-e posterior a data de recebimento")
        cfop = str(payload["cfop"]).strip()
        if record["modelo"] == 57 and cfop not in CFOP_CTE:
            raise _Rejected(
                "536", f"Rejeicao: CFOP {cfop} nao permitido para CT-e (use CFOP de prestacao de transporte)"
            )
        if record["modelo"] == 67 and not cfop[1:].startswith("35"):
            raise _Rejected("536", f"Rejeicao: CFOP {cfop} nao permitido para CT-e OS")
        total, receber = _money(payload["valor_total"]), _money(payload["valor_receber"])
        if total is not None and receber is not None and receber > total:
            raise _Rejected("634", "Rejeicao: Valor a receber maior que o valor total da prestacao")
        key = f"{record['modelo']}:{record['serie']}:{record['numero']}"
        if self._inutilizado(record["cnpj"], record["modelo"], record["serie"], record["numero"]):
            raise _Rejected("206", "Rejeicao: Numero do CT-e ja esta inutilizado na base de dados da SEFAZ")
        used = self.docs.get(KIND_NUMBER, record["cnpj"], key)
        if used is not None and used.get("ref") != record["ref"]:
            raise _Rejected(
                "539", f"Rejeicao: Duplicidade de CT-e com diferenca na chave de acesso [{used['chave']}]"
            )

    def _identity(self, record: dict[str, Any], company: CompanyConfig) -> CteIdentity:
        dh_emi = local_time(datetime.fromisoformat(record["data_emissao"]), company.uf)
        cct = record.get("cct") or f"{secrets.randbelow(10**8):08d}"
        chave = build_chave(
            company.uf,
            dh_emi,
            company.cnpj,
            int(record["serie"]),
            int(record["numero"]),
            int(record.get("tp_emis", 1)),
            cct,
            modelo=int(record["modelo"]),
        )
        record["cct"], record["chave"], record["dh_emi"] = cct, chave, xml_datetime(dh_emi)
        return CteIdentity(
            chave,
            int(record["modelo"]),
            int(record["serie"]),
            int(record["numero"]),
            cct,
            dh_emi,
            int(record.get("tp_emis", 1)),
        )

    def _authorize(self, record: dict[str, Any], company: CompanyConfig, now: datetime) -> None:
        ident = self._identity(record, company)
        xml, digest = build_cte(ident, _emitter(company), record["payload"], self.ambiente)
        protocolo = self._protocol(company, now)
        received = local_time(now, company.uf)
        self.docs.store.put_file(
            self._path(record, "cte.xml"),
            XML_CT,
            cte_proc(xml, ident.modelo, ident.chave, digest, protocolo, received, self.ambiente),
        )
        kind = "CT-e OS" if ident.modelo == 67 else "CT-e"
        lines = [
            f"DACTE{' OS' if ident.modelo == 67 else ''} - DOCUMENTO AUXILIAR DO {kind} (SANDBOX)",
            "EMITIDO EM AMBIENTE DE HOMOLOGACAO - SEM VALOR FISCAL",
            f"Emitente: {company.razao_social} CNPJ {company.cnpj}",
            f"Numero {ident.numero} Serie {ident.serie} Modelo {ident.modelo}",
            f"Chave de acesso: {ident.chave}",
            f"Protocolo de autorizacao: {protocolo} {xml_datetime(received)}",
            f"Valor total da prestacao: R$ {record['payload'].get('valor_total')}",
        ]
        self.docs.store.put_file(self._path(record, "dacte.pdf"), PDF_CT, simple_pdf(lines))
        record.update(
            status=AUTORIZADO, status_sefaz="100", mensagem_sefaz=MSG_AUTORIZADO, protocolo=protocolo,
            digest=digest, data_autorizacao=now.isoformat(), dh_recbto=xml_datetime(received),
        )  # fmt: skip
        self._mark_number(record, AUTORIZADO)

    def _mark_number(self, record: dict[str, Any], situacao: str) -> None:
        key = f"{record['modelo']}:{record['serie']}:{record['numero']}"
        self.docs.put(KIND_NUMBER, record["cnpj"], key,
                      {"chave": record.get("chave"), "ref": record["ref"], "situacao": situacao},
                      int(record["numero"]))  # fmt: skip

    def _inutilizado(self, cnpj: str, modelo: int, serie: int, numero: int) -> bool:
        return any(
            inut["status"] == AUTORIZADO and inut["modelo"] == modelo and inut["serie"] == serie
            and inut["numero_inicial"] <= numero <= inut["numero_final"]
            for inut in self.docs.scan(KIND_INUT, cnpj)
        )  # fmt: skip

    def _protocol(self, company: CompanyConfig, now: datetime) -> str:
        return f"3{company.cuf}{now:%y}{self.docs.store.next_sequence('protocolo_cte'):09d}"

    def _path(self, record: dict[str, Any], suffix: str) -> str:
        root = "arquivos" if self.ambiente == "producao" else "arquivos_development"
        emitted = datetime.fromisoformat(record.get("dh_emi") or record["data_emissao"])
        return f"/{root}/{record['cnpj']}/{emitted:%Y%m}/XMLs/{record['chave']}-{suffix}"

    def _save(self, record: dict[str, Any]) -> None:
        self.docs.put(KIND, record["token"], record["ref"], record)

    # -- consult -------------------------------------------------------------------------------
    def consult(self, token: str, ref: str, completa: bool) -> ApiResponse:
        with self.docs.transaction():
            record = self.docs.get(KIND, token, ref)
            if record is None:
                return api_error(404, "nao_encontrado", "CT-e não encontrado")
            if record["status"] == PROCESSANDO and not self.faults.sefaz_down():
                record["polls"] = int(record.get("polls", 0)) + 1
                due = datetime.fromisoformat(record["due_at"])
                if record["polls"] >= self.polls_to_finish or self.clock.now() >= due:
                    self._process(record)
                self._save(record)
        return ok(self._body(record, completa))

    def note(self, token: str, ref: str) -> dict[str, Any] | None:
        """The stored record of a ref (tests and the demo)."""
        return self.docs.get(KIND, token, ref)

    def _body(self, record: dict[str, Any], completa: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "cnpj_emitente": record["cnpj"],
            "ref": record["ref"],
            "status": record["status"],
        }
        if record["status"] == PROCESSANDO:
            return body
        body["status_sefaz"] = record.get("status_sefaz")
        body["mensagem_sefaz"] = record.get("mensagem_sefaz")
        if record["status"] == ERRO:
            return body
        body.update(
            chave="CTe" + record["chave"], chave_cte="CTe" + record["chave"], numero=str(record["numero"]),
            serie=str(record["serie"]), modelo=str(record["modelo"]),
        )  # fmt: skip
        if record.get("protocolo"):
            xml = self._path(record, "cte.xml")
            body["caminho_xml_nota_fiscal"] = xml
            body["caminho_xml"] = xml
            body["caminho_dacte"] = self._path(record, "dacte.pdf")
        if record["cce"]:
            body["caminho_xml_carta_correcao"] = record["cce"][-1]["caminho_xml"]
        if record.get("cancelamento"):
            body["caminho_xml_cancelamento"] = record["cancelamento"]["caminho_xml"]
        if completa:
            body.update(self._completa(record))
        return body

    def _completa(self, record: dict[str, Any]) -> dict[str, Any]:
        company = self.engine.companies.get(record["cnpj"])
        cuf = company.cuf if company else ""
        amb = "1" if self.ambiente == "producao" else "2"
        extra: dict[str, Any] = {"requisicao": dict(record["payload"])}
        if record.get("protocolo"):
            extra["protocolo"] = {
                "versao": "4.00", "id_tag": "CTe" + record["protocolo"], "ambiente": amb,
                "versao_aplicativo": "SANDBOX-1.0", "chave": record["chave"],
                "data_recebimento": record.get("dh_recbto"), "protocolo": record["protocolo"],
                "digest_value": record.get("digest"), "status": "100", "motivo": MSG_AUTORIZADO,
            }  # fmt: skip
        for name, event in (
            ("cancelamento", record.get("cancelamento")),
            ("carta_correcao", record["cce"][-1] if record["cce"] else None),
        ):
            if not event:
                continue
            extra[f"requisicao_{name}"] = {
                "versao": "4.00", "id_tag": event["id_tag"], "codigo_orgao": cuf, "ambiente": amb,
                "cnpj": record["cnpj"], "chave_cte": record["chave"], "data_evento": event["data_evento"],
                "tipo_evento": event["tipo_evento"], "numero_sequencial_evento": str(event["sequencia"]),
                "versao_evento": "4.00",
            }  # fmt: skip
            extra[f"protocolo_{name}"] = {
                "versao": "4.00", "id_tag": "ID" + event["protocolo"], "ambiente": amb,
                "versao_aplicativo": "SANDBOX-1.0", "codigo_orgao": cuf, "status": "135", "motivo": MSG_EVENTO,
                "chave_cte": record["chave"], "tipo_evento": event["tipo_evento"],
                "descricao_evento": event["descricao"], "numero_sequencial_evento": str(event["sequencia"]),
                "data_evento": event["data_evento"], "protocolo": event["protocolo"],
            }  # fmt: skip
        return extra

    # -- cancellation --------------------------------------------------------------------------
    def cancel(self, token: str, ref: str, body: bytes) -> ApiResponse:
        payload, problem = parse_object(body, allow_empty=True)
        if problem is not None or payload is None:
            return problem or api_error(400, "requisicao_invalida", "Corpo inválido")
        with self.docs.transaction():
            record = self.docs.get(KIND, token, ref)
            if record is None:
                return api_error(404, "nao_encontrado", "CT-e não encontrado")
            justificativa = payload.get("justificativa")
            if not isinstance(justificativa, str) or not justificativa.strip():
                return api_error(400, "requisicao_invalida", 'Parâmetro "justificativa" não informado')
            justificativa = " ".join(justificativa.split())
            if not 15 <= len(justificativa) <= 255:
                return api_error(
                    400, "requisicao_invalida", 'Parâmetro "justificativa" deve ter entre 15 e 255 caracteres'
                )
            if record["status"] != AUTORIZADO:
                return api_error(400, "nao_autorizado", f"CT-e não autorizado (situação: {record['status']})")
            if self.faults.sefaz_down():
                return ok(_refusal("erro_cancelamento", "108", MSG_SEFAZ_DOWN))
            now = self.clock.now()
            if now - datetime.fromisoformat(record["data_autorizacao"]) > self.cancel_window:
                return ok(
                    _refusal(
                        "erro_cancelamento",
                        "220",
                        "Rejeicao: Prazo de Cancelamento superior ao previsto na Legislacao",
                    )
                )
            event = self._event(
                record, "110111", 1, {"nProt": record["protocolo"], "xJust": justificativa}, now
            )
            record["cancelamento"] = event
            record["status"] = CANCELADO
            record["status_sefaz"] = "135"
            record["mensagem_sefaz"] = MSG_EVENTO
            record["updated_at"] = now.isoformat()
            self._mark_number(record, CANCELADO)
            self._save(record)
        return ok({"status_sefaz": "135", "mensagem_sefaz": MSG_EVENTO, "status": CANCELADO,
                   "caminho_xml": event["caminho_xml"]})  # fmt: skip

    def _event(
        self, record: dict[str, Any], tp_evento: str, sequencia: int, detail: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        company = self.engine.companies[record["cnpj"]]
        when = local_time(now, company.uf)
        event = CteEvent(
            record["chave"],
            company.cnpj,
            company.cuf,
            tp_evento,
            sequencia,
            when,
            self._protocol(company, now),
            detail,
        )
        path = self._path(record, f"evento{tp_evento}-{sequencia:02d}.xml")
        self.docs.store.put_file(path, XML_CT, event_proc(event, self.ambiente))
        return {
            "tipo_evento": tp_evento, "descricao": EVENTS[tp_evento], "sequencia": sequencia,
            "id_tag": event.id_tag, "protocolo": event.protocolo, "data_evento": xml_datetime(when),
            "caminho_xml": path, "detalhe": detail,
        }  # fmt: skip

    # -- carta de correção ---------------------------------------------------------------------
    def carta_correcao(self, token: str, ref: str, body: bytes) -> ApiResponse:
        payload, problem = parse_object(body)
        if problem is not None or payload is None:
            return problem or api_error(400, "requisicao_invalida", "Corpo inválido")
        with self.docs.transaction():
            record = self.docs.get(KIND, token, ref)
            if record is None:
                return api_error(404, "nao_encontrado", "CT-e não encontrado")
            for key in ("campo_corrigido", "valor_corrigido"):
                if _blank(payload.get(key)) or not _scalar(payload.get(key)):
                    return api_error(400, "requisicao_invalida", f'Parâmetro "{key}" não informado')
            item = payload.get("numero_item_grupo_corrigido")
            if item is not None and (not str(item).strip().isdigit() or int(str(item).strip()) < 1):
                return api_error(
                    400, "requisicao_invalida", 'Parâmetro "numero_item_grupo_corrigido" deve ser 1 ou mais'
                )
            campo_api = str(payload.get("campo_api", "1")).strip()
            if campo_api not in ("0", "1"):
                return api_error(400, "requisicao_invalida", 'Parâmetro "campo_api" deve ser 0 ou 1')
            if record["status"] != AUTORIZADO:
                return api_error(400, "nao_autorizado", f"CT-e não autorizado (situação: {record['status']})")
            campo = str(payload["campo_corrigido"]).strip()
            if self.faults.sefaz_down():
                return ok(_refusal(ERRO, "108", MSG_SEFAZ_DOWN))
            if CCE_FORBIDDEN.match(campo):
                return ok(
                    _refusal(
                        ERRO,
                        "999",
                        "Rejeicao: Carta de correcao nao pode alterar valores, "
                        f"remetente/destinatario ou data de emissao [campo: {campo}]",
                    )
                )
            if len(record["cce"]) >= MAX_CCE:
                return ok(
                    _refusal(
                        ERRO,
                        "594",
                        "Rejeicao: O numero de sequencia do evento informado e maior que o permitido",
                    )
                )
            now = self.clock.now()
            sequencia = len(record["cce"]) + 1
            detail = {"infCorrecao": {"grupoAlterado": str(payload.get("grupo_corrigido") or ""),
                                      "campoAlterado": campo, "valorAlterado": str(payload["valor_corrigido"]),
                                      "nroItemAlterado": str(item or "")}}  # fmt: skip
            event = self._event(record, "110110", sequencia, detail, now)
            event["correcao"] = {
                k: payload.get(k)
                for k in (
                    "grupo_corrigido",
                    "campo_corrigido",
                    "valor_corrigido",
                    "numero_item_grupo_corrigido",
                )
            }
            record["cce"].append(event)
            record["updated_at"] = now.isoformat()
            self._save(record)
        return ok({"status_sefaz": "135", "mensagem_sefaz": MSG_EVENTO, "status": AUTORIZADO,
                   "caminho_xml": event["caminho_xml"], "numero_carta_correcao": sequencia})  # fmt: skip

    # -- other events --------------------------------------------------------------------------
    def _other_event(self, token: str, ref: str, body: bytes, tp_evento: str, check: Any) -> ApiResponse:
        payload, problem = parse_object(body)
        if problem is not None or payload is None:
            return problem or api_error(400, "requisicao_invalida", "Corpo inválido")
        with self.docs.transaction():
            record = self.docs.get(KIND, token, ref)
            if record is None:
                return api_error(404, "nao_encontrado", "CT-e não encontrado")
            if tp_evento == "110170" and record["modelo"] != 67:
                return api_error(
                    400,
                    "nao_autorizado",
                    "CT-e não autorizado, informe o evento GTV apenas para CTe O.S(modelo 67).",
                )
            if record["status"] != AUTORIZADO:
                return api_error(400, "nao_autorizado", f"CT-e não autorizado (situação: {record['status']})")
            outcome = check(record, payload)
            if isinstance(outcome, ApiResponse):
                return outcome
            if self.faults.sefaz_down():
                return ok(_refusal(ERRO, "108", MSG_SEFAZ_DOWN))
            now = self.clock.now()
            sequencia = 1 + sum(1 for e in record["eventos"] if e["tipo_evento"] == tp_evento)
            event = self._event(record, tp_evento, sequencia, outcome, now)
            record["eventos"].append(event)
            record["updated_at"] = now.isoformat()
            self._save(record)
        return ok({"status_sefaz": "135", "mensagem_sefaz": MSG_EVENTO, "status": AUTORIZADO,
                   "caminho_xml": event["caminho_xml"], "protocolo": event["protocolo"]})  # fmt: skip

    def desacordo(self, token: str, ref: str, body: bytes) -> ApiResponse:
        def check(record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any] | ApiResponse:
            obs = payload.get("observacoes")
            if not isinstance(obs, str) or not obs.strip():
                return api_error(400, "requisicao_invalida", 'Parâmetro "observacoes" não informado')
            obs = " ".join(obs.split())
            if not 15 <= len(obs) <= 255:
                return api_error(
                    400, "requisicao_invalida", 'Parâmetro "observacoes" deve ter entre 15 e 255 caracteres'
                )
            if any(e["tipo_evento"] == "610110" for e in record["eventos"]):
                return api_error(
                    400, "requisicao_invalida", "Desacordo já registrado para este Documento Fiscal"
                )
            return {"indDesacordoOper": "1", "xObs": obs}

        return self._other_event(token, ref, body, "610110", check)

    def registro_multimodal(self, token: str, ref: str, body: bytes) -> ApiResponse:
        def check(record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any] | ApiResponse:
            registro = payload.get("registro")
            if not isinstance(registro, str) or not registro.strip():
                return api_error(400, "requisicao_invalida", 'Parâmetro "registro" não informado')
            registro = " ".join(registro.split())
            if not 15 <= len(registro) <= 1000:
                return api_error(
                    400, "requisicao_invalida", 'Parâmetro "registro" deve ter entre 15 e 1000 caracteres'
                )
            if "modal_multimodal" not in record["payload"]:
                return api_error(
                    400,
                    "requisicao_invalida",
                    "Registro multimodal só se aplica a CT-e com modal multimodal (modal_multimodal)",
                )
            detail: dict[str, Any] = {"xRegistro": registro}
            if not _blank(payload.get("numero_documento")):
                detail["nDoc"] = str(payload["numero_documento"]).strip()
            return detail

        return self._other_event(token, ref, body, "110160", check)

    def dados_gtv(self, token: str, ref: str, body: bytes) -> ApiResponse:
        def check(record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any] | ApiResponse:
            gtvs = payload.get("informacoes_gtv")
            if not isinstance(gtvs, list) or not gtvs or not all(isinstance(g, dict) for g in gtvs):
                return api_error(
                    400, "requisicao_invalida", 'Parâmetro "informacoes_gtv" não informado (lista de GTV)'
                )
            for i, gtv in enumerate(gtvs):
                for key in ("numero", "id", "data_emissao"):
                    if _blank(gtv.get(key)):
                        return api_error(
                            400,
                            "requisicao_invalida",
                            f'Parâmetro "informacoes_gtv[{i}].{key}" não informado',
                        )
            return {"infGTV": gtvs}

        return self._other_event(token, ref, body, "110170", check)

    # -- inutilização --------------------------------------------------------------------------
    def inutilizar(self, req: DocRequest) -> ApiResponse:
        payload, problem = parse_object(req.body)
        if problem is not None or payload is None:
            return problem or api_error(400, "requisicao_invalida", "Corpo inválido")
        erros: list[dict[str, str]] = []

        def err(campo: str, mensagem: str) -> None:
            erros.append({"codigo": "requisicao_invalida", "campo": campo, "mensagem": mensagem})

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
        modelo_raw = str(payload.get("modelo") if payload.get("modelo") is not None else "57").strip()
        if modelo_raw not in ("57", "67"):
            err("modelo", 'Parâmetro "modelo" deve ser 57 (CT-e) ou 67 (CT-e OS)')
        justificativa = " ".join(str(payload.get("justificativa") or "").split())
        if not 15 <= len(justificativa) <= 255:
            err("justificativa", 'Parâmetro "justificativa" deve ter entre 15 e 255 caracteres')
        if erros:
            return api_error(400, "requisicao_invalida", erros[0]["mensagem"], erros)
        company = self.engine.companies.get(cnpj)
        if company is None or cnpj in self.disabled:
            return api_error(
                400, "empresa_nao_habilitada", "Empresa ainda não habilitada para emissão de CT-e"
            )
        modelo, serie = int(modelo_raw), numbers["serie"]
        first, last = numbers["numero_inicial"], numbers["numero_final"]
        base = {
            "serie": str(serie),
            "numero_inicial": str(first),
            "numero_final": str(last),
            "modelo": str(modelo),
        }
        now = self.clock.now()
        with self.docs.transaction():
            in_range = [
                key for _s, key, _d in self.docs.all(KIND_NUMBER)
                if _s == cnpj and key.split(":")[0] == str(modelo) and key.split(":")[1] == str(serie)
                and first <= int(key.split(":")[2]) <= last
            ]  # fmt: skip
            if self.faults.sefaz_down():
                result = {"status_sefaz": "108", "mensagem_sefaz": MSG_SEFAZ_DOWN, **base, "status": ERRO}
            elif in_range:
                result = {"status_sefaz": "241", "mensagem_sefaz": "Rejeicao: Um numero da faixa ja foi utilizado",
                          **base, "status": ERRO}  # fmt: skip
            elif any(self._inutilizado(cnpj, modelo, serie, n) for n in (first, last)) or any(
                inut["status"] == AUTORIZADO and inut["modelo"] == modelo and inut["serie"] == serie
                and inut["numero_inicial"] <= last and inut["numero_final"] >= first
                for inut in self.docs.scan(KIND_INUT, cnpj)
            ):  # fmt: skip
                result = {"status_sefaz": "256", "mensagem_sefaz": "Rejeicao: Uma numeracao da faixa ja esta inutilizada",
                          **base, "status": ERRO}  # fmt: skip
            else:
                local = local_time(now, company.uf)
                protocolo = self._protocol(company, now)
                root = "arquivos" if self.ambiente == "producao" else "arquivos_development"
                ident = f"{company.cuf}{local:%y}{cnpj}{modelo:02d}{serie:03d}{first:09d}{last:09d}"
                path = f"/{root}/{cnpj}/{local:%Y%m}/XMLs/{ident}-inu.xml"
                xml = inut_proc(
                    cnpj,
                    company.cuf,
                    modelo,
                    serie,
                    first,
                    last,
                    justificativa,
                    local,
                    protocolo,
                    self.ambiente,
                )
                self.docs.store.put_file(path, XML_CT, xml)
                result = {"status_sefaz": "102", "mensagem_sefaz": "Inutilizacao de numero homologado", **base,
                          "status": AUTORIZADO, "caminho_xml": path}  # fmt: skip
            seq = self.docs.store.next_sequence("cte_inutilizacao")
            self.docs.put(
                KIND_INUT,
                cnpj,
                f"{seq:09d}",
                {
                    "modelo": modelo,
                    "serie": serie,
                    "numero_inicial": first,
                    "numero_final": last,
                    "status": result["status"],
                },
                seq,
            )
        return ok(result)


def _refusal(status: str, status_sefaz: str, mensagem: str) -> dict[str, Any]:
    return {"status_sefaz": status_sefaz, "mensagem_sefaz": mensagem, "status": status}


def _parse_datetime(value: str, uf: str) -> datetime:
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone_for(uf))
    return parsed


def _emitter(company: CompanyConfig) -> Emitter:
    return Emitter(
        company.cnpj, company.inscricao_estadual, company.razao_social, company.nome_fantasia, company.logradouro,
        company.numero, company.bairro, company.codigo_municipio, company.municipio, company.uf,
        company.cep, company.crt, company.cuf,
    )  # fmt: skip
