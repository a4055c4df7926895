"""Issuing CT-e (model 57, asynchronous) and CT-e OS (model 67, synchronous) from the back office.

Each document is stored (``pendente``, with its number taken from the local counter) before the
first request, so a crash or a lost answer is reconciled by consulting its ref. Input is checked
here first: bad data raises :class:`ValidationError` and nothing is stored or sent.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.validators import UFS, is_valid_cnpj, is_valid_cpf, normalize_cnpj, only_digits
from pos_app.core.fiscal.document_status import CteStatus as C
from pos_app.core.fiscal.refs import new_ref_problem
from pos_app.core.focus.cte import (
    JUSTIFICATIVA_MAX,
    JUSTIFICATIVA_MIN,
    MAX_CARTAS_CORRECAO,
    OBSERVACOES_MAX,
    OBSERVACOES_MIN,
    CteApi,
    CteEventResult,
    CteResult,
)
from pos_app.core.focus.errors import ApiError, InDoubt, NotDelivered, RateLimited
from pos_app.core.focus.nfce import REF_PATTERN
from pos_app.core.store.ctes import CTE_RESENDABLE, CtesEmitidosRepo

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

log = logging.getLogger("pos_app.cte")

MODELOS = {57: "CT-e", 67: "CT-e OS"}
MODAIS = ("modal_rodoviario", "modal_aereo", "modal_aquaviario", "modal_ferroviario", "modal_dutoviario",
          "modal_multimodal")  # fmt: skip
MODAIS_OS = {"01": "Rodoviário", "02": "Aéreo", "03": "Aquaviário", "04": "Ferroviário"}
COMMON_REQUIRED = {
    "cfop": "CFOP", "natureza_operacao": "natureza da operação", "tipo_documento": "tipo do CT-e",
    "tipo_servico": "tipo de serviço", "codigo_municipio_envio": "município de envio (código IBGE)",
    "municipio_envio": "município de envio", "uf_envio": "UF de envio",
    "codigo_municipio_inicio": "município de início (código IBGE)", "municipio_inicio": "município de início",
    "uf_inicio": "UF de início", "codigo_municipio_fim": "município de fim (código IBGE)",
    "municipio_fim": "município de fim", "uf_fim": "UF de fim", "valor_total": "valor total da prestação",
    "valor_receber": "valor a receber", "icms_situacao_tributaria": "situação tributária do ICMS",
}  # fmt: skip
CTE_REQUIRED = {"tomador": "tomador (0 a 4)", "nome_remetente": "nome do remetente",
                "nome_destinatario": "nome do destinatário", "valor_total_carga": "valor total da carga",
                "produto_predominante": "produto predominante"}  # fmt: skip
CTE_OS_REQUIRED = {"modal": "modal (01 a 04)", "descricao_servico": "descrição do serviço",
                   "nome_tomador": "nome do tomador",
                   "indicador_inscricao_estadual_tomador": "indicador de IE do tomador"}  # fmt: skip
# What a carta de correção may not change (seed: tax values, remetente/destinatário, emission date).
CCE_FORBIDDEN = re.compile(
    r"^(valor_.*|icms_.*|quantidade.*|quantidades|cnpj_remetente|cpf_remetente|cnpj_destinatario|"
    r"cpf_destinatario|data_emissao|vTPrest|vRec|vBC|pICMS|vICMS|qCarga|dhEmi)$"
)
EVENTOS = {"desacordo": "Prestação em desacordo", "registro_multimodal": "Registro multimodal",
           "dados_gtv": "Informações da GTV"}  # fmt: skip

STATUS_LABELS = {
    C.PENDENTE: "Pendente (não enviado)", C.ENVIANDO: "Enviando", C.PROCESSANDO_AUTORIZACAO: "Em processamento",
    C.AUTORIZADO: "Autorizado", C.ERRO_AUTORIZACAO: "Rejeitado pela SEFAZ", C.REJEITADO: "Recusado pela API",
    C.DENEGADO: "Denegado", C.EM_DUVIDA: "Sem resposta (consultar)", C.CANCELADO: "Cancelado",
}  # fmt: skip


def load_json_file(path: Path | str, field_name: str = "arquivo") -> dict[str, Any]:
    """A JSON object from a file, with Portuguese errors (ValidationError)."""
    file = Path(path)
    if not file.is_file():
        raise ValidationError(field_name, f"Arquivo não encontrado: {file}")
    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ValidationError(field_name, f"O arquivo {file.name} não está em UTF-8.") from exc
    except ValueError as exc:
        raise ValidationError(field_name, f"JSON inválido em {file.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(field_name, f"O arquivo {file.name} deve conter um objeto JSON ({{...}}).")
    return data


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _money(value: Any, field_name: str, label: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(field_name, f"Valor inválido em {label}: {value!r}") from exc
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or amount < 0 or not isinstance(exponent, int) or exponent < -2:
        raise ValidationError(field_name, f"Valor inválido em {label}: {value!r} (use até 2 casas decimais)")
    return amount


def validate_payload(payload: dict[str, Any], modelo: int) -> None:
    """The checks a CT-e / CT-e OS must pass before it is stored and sent (ValidationError)."""
    if modelo not in MODELOS:
        raise ValidationError("modelo", "Modelo deve ser 57 (CT-e) ou 67 (CT-e OS).")
    declared = payload.get("modelo")
    if not _blank(declared) and str(declared).strip() != str(modelo):
        other = "cte-os emitir" if str(declared).strip() == "67" else "cte emitir"
        raise ValidationError("modelo", f"O arquivo é de modelo {declared}: use '{other}'.")
    required = {**COMMON_REQUIRED, **(CTE_OS_REQUIRED if modelo == 67 else CTE_REQUIRED)}
    for key, label in required.items():
        value = payload.get(key)
        if _blank(value):
            raise ValidationError(key, f"Campo obrigatório não informado: {key} ({label}).")
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValidationError(key, f"Campo {key} ({label}) deve ser um texto ou número.")
    if not re.fullmatch(r"[5-7]\d{3}", str(payload["cfop"]).strip()):
        raise ValidationError(
            "cfop", f"CFOP inválido: {payload['cfop']!r} (4 dígitos, começando com 5, 6 ou 7)."
        )
    for suffix in ("envio", "inicio", "fim"):
        if str(payload[f"uf_{suffix}"]).strip().upper() not in {*UFS, "EX"}:
            raise ValidationError(f"uf_{suffix}", f"UF inválida em uf_{suffix}: {payload[f'uf_{suffix}']!r}")
        if not re.fullmatch(r"\d{7}", str(payload[f"codigo_municipio_{suffix}"]).strip()):
            raise ValidationError(
                f"codigo_municipio_{suffix}", f"Código IBGE inválido em codigo_municipio_{suffix}."
            )
    total = _money(payload["valor_total"], "valor_total", "valor total")
    receber = _money(payload["valor_receber"], "valor_receber", "valor a receber")
    if receber > total:
        raise ValidationError(
            "valor_receber", "O valor a receber não pode ser maior que o valor total da prestação."
        )
    parties = ("tomador",) if modelo == 67 else ("remetente", "destinatario")
    for who in parties:
        cnpj, cpf = payload.get(f"cnpj_{who}"), payload.get(f"cpf_{who}")
        if _blank(cnpj) and _blank(cpf):
            raise ValidationError(
                f"cnpj_{who}", f"Informe o CNPJ ou o CPF do {who} (cnpj_{who} ou cpf_{who})."
            )
        if not _blank(cnpj) and not is_valid_cnpj(normalize_cnpj(str(cnpj))):
            raise ValidationError(f"cnpj_{who}", f"CNPJ do {who} inválido: {cnpj}")
        if not _blank(cpf) and not is_valid_cpf(only_digits(str(cpf))):
            raise ValidationError(f"cpf_{who}", f"CPF do {who} inválido: {cpf}")
    if modelo == 57:
        if str(payload["tomador"]).strip() not in {"0", "1", "2", "3", "4"}:
            raise ValidationError("tomador", "Tomador deve ser 0 (remetente), 1 (expedidor), 2 (recebedor), "
                                             "3 (destinatário) ou 4 (outros).")  # fmt: skip
        _money(payload["valor_total_carga"], "valor_total_carga", "valor total da carga")
        quantidades = payload.get("quantidades")
        if (
            not isinstance(quantidades, list)
            or not quantidades
            or not all(isinstance(q, dict) for q in quantidades)
        ):
            raise ValidationError("quantidades", "Informe as quantidades da carga (lista 'quantidades').")
        present = [m for m in MODAIS if m in payload]
        if len(present) != 1:
            raise ValidationError("modal", "Informe exatamente um modal: " + ", ".join(MODAIS) + ".")
        if not isinstance(payload[present[0]], dict) or not payload[present[0]]:
            raise ValidationError(
                present[0], f"Os dados do modal ({present[0]}) devem ser um objeto com os campos."
            )
    else:
        code = str(payload["modal"]).strip().zfill(2)
        if code not in MODAIS_OS:
            raise ValidationError("modal", "Modal do CT-e OS deve ser 01 (rodoviário), 02, 03 ou 04.")
        if code == "01" and not (
            isinstance(payload.get("modal_rodoviario"), dict) and payload["modal_rodoviario"]
        ):
            raise ValidationError(
                "modal_rodoviario", "CT-e OS rodoviário: informe os dados em 'modal_rodoviario'."
            )


def check_ref(ref: str) -> str:
    if not REF_PATTERN.match(ref or ""):
        raise ValidationError("ref", f"Referência inválida: {ref!r} (letras, dígitos, '_' e '-', até 60).")
    return ref


def _payload_of(row: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(row["payload"]))


@dataclass
class CteOutcome:
    """What happened to one CT-e, for the CLI (``to_json``) and the window."""

    ref: str
    modelo: int
    status: str
    mensagem: str
    serie: int | None = None
    numero: int | None = None
    chave: str | None = None
    status_sefaz: str | None = None
    mensagem_sefaz: str | None = None
    caminho_xml: str | None = None
    caminho_dacte: str | None = None
    xml_local: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in (C.AUTORIZADO, C.CANCELADO) or self.extra.get("evento_ok") is True

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra")
        data.update(extra)
        return data


class CteService:
    def __init__(
        self,
        ctx: AppContext,
        *,
        api: CteApi | None = None,
        max_wait: float = 30.0,
        first_interval: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ctx = ctx
        self._api = api
        self.repo = CtesEmitidosRepo(ctx.store.database)
        self.max_wait = max_wait
        self.first_interval = first_interval
        self.sleep = sleep

    @property
    def api(self) -> CteApi:
        if self._api is None:
            self._api = CteApi(self.ctx.client())
        return self._api

    # -- emission ------------------------------------------------------------------------------
    def prepare(
        self, payload: dict[str, Any], modelo: int, *, serie: int | None = None, numero: int | None = None
    ) -> dict[str, Any]:
        """Fill what the store knows (emitter CNPJ, emission time) and validate; nothing is stored."""
        data = dict(payload)
        emitente = self.ctx.emitente()
        cnpj = normalize_cnpj(str(data.get("cnpj_emitente") or emitente.cnpj))
        if cnpj != emitente.cnpj:
            raise ValidationError("cnpj_emitente", f"CNPJ do emitente ({cnpj}) difere do CNPJ configurado "
                                                   f"({emitente.cnpj}).")  # fmt: skip
        data["cnpj_emitente"] = cnpj
        if _blank(data.get("data_emissao")):
            data["data_emissao"] = self.ctx.now().replace(microsecond=0).isoformat()
        for key, value in (("serie", serie), ("numero", numero)):
            if value is not None:
                data[key] = value
        for key, high in (("serie", 999), ("numero", 999_999_999)):
            if not _blank(data.get(key)):
                text = str(data[key]).strip()
                if not text.isdigit() or not (0 if key == "serie" else 1) <= int(text) <= high:
                    raise ValidationError(key, f"{key.capitalize()} inválido(a): {data[key]!r}")
                data[key] = int(text)
        validate_payload(data, modelo)
        return data

    def emit(
        self,
        payload: dict[str, Any],
        *,
        modelo: int = 57,
        ref: str | None = None,
        serie: int | None = None,
        numero: int | None = None,
        wait: bool = True,
        user_id: int | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> CteOutcome:
        """Validate, store (``pendente``), send, and for a CT-e wait (bounded) for the authorization.

        ``ref`` of an existing document that was never authorized (pendente, rejeitado,
        erro_autorizacao) sends it again with the new data and the same number.
        """
        data = self.prepare(payload, modelo, serie=serie, numero=numero)
        doc = self._store(data, modelo, ref, user_id)
        return self._send(doc, wait=wait, progress=progress)

    def _store(
        self, data: dict[str, Any], modelo: int, ref: str | None, user_id: int | None
    ) -> dict[str, Any]:
        existing = self.repo.by_ref(check_ref(ref)) if ref else None
        if ref and existing is None and new_ref_problem(ref):
            raise ValidationError("ref", str(new_ref_problem(ref)))
        if existing is not None:
            if existing["modelo"] != modelo:
                raise ValidationError("ref", f"A referência {ref} é de um {MODELOS[existing['modelo']]}.")
            if existing["status"] not in CTE_RESENDABLE:
                raise ValidationError("ref", f"O {MODELOS[modelo]} {ref} está '{STATUS_LABELS[existing['status']]}': "
                                             "não pode ser reenviado.")  # fmt: skip
            data["serie"], data["numero"] = existing["serie"], existing["numero"]
            self.repo.transition(existing["id"], C.PENDENTE, action="reenvio", note="dados corrigidos",
                                 payload=json.dumps(data, ensure_ascii=False), valor_total=str(data["valor_total"]),
                                 last_error=None)  # fmt: skip
            row = self.repo.get(existing["id"])
            assert row is not None
            return row
        serie = int(data["serie"]) if data.get("serie") is not None else 1
        with self.repo.transaction() as tx:
            if data.get("numero") is None:
                data["numero"] = self.repo.take_numero(tx, modelo, serie)
            else:
                used = tx.execute("SELECT ref FROM ctes_emitidos WHERE modelo = ? AND serie = ? AND numero = ?",
                                  [modelo, serie, data["numero"]]).fetchone()  # fmt: skip
                if used is not None:
                    raise ValidationError("numero", f"O número {data['numero']} da série {serie} já foi usado "
                                                    f"(referência {used[0]}).")  # fmt: skip
            data["serie"] = serie
            kind = "CTeOS" if modelo == 67 else "CTe"
            doc_ref = ref or f"{self.ctx.config.terminal_id}_{kind}_{serie:03d}_{int(data['numero']):09d}"
            if ref is None and tx.execute("SELECT 1 FROM ctes_emitidos WHERE ref = ?", [doc_ref]).fetchone():
                raise ValidationError("ref", f"Referência {doc_ref} já usada.")
            tomador = data.get("nome_tomador") if modelo == 67 else data.get("nome_destinatario")
            doc_id = self.repo.create(
                tx, ref=doc_ref, modelo=modelo, ambiente=self.ctx.ambiente, cnpj_emitente=data["cnpj_emitente"],
                serie=serie, numero=int(data["numero"]), payload=data, user_id=user_id,
                valor_total=str(data["valor_total"]), tomador=str(tomador or ""),
            )  # fmt: skip
        row = self.repo.get(doc_id)
        assert row is not None
        return row

    def _send(self, doc: dict[str, Any], *, wait: bool, progress: Callable[[str], None] | None) -> CteOutcome:
        say = progress or (lambda _m: None)
        modelo, ref = int(doc["modelo"]), doc["ref"]
        payload = _payload_of(doc)
        self.repo.transition(doc["id"], C.ENVIANDO, action="emissao")
        say(f"Enviando {MODELOS[modelo]} {ref}...")
        try:
            result = self.api.emit_os(ref, payload) if modelo == 67 else self.api.emit(ref, payload)
        except (NotDelivered, RateLimited) as exc:
            self.repo.transition(
                doc["id"], C.PENDENTE, action="emissao", note="não enviado", last_error=str(exc)
            )
            return self._outcome(doc["id"], f"{MODELOS[modelo]} não enviado: {exc} Tente de novo mais tarde.")
        except InDoubt as exc:
            self.repo.transition(doc["id"], C.EM_DUVIDA, action="emissao", http_status=exc.status_code,
                                 response=exc.body, note=str(exc), last_error=str(exc))  # fmt: skip
            return self._outcome(doc["id"], f"Sem resposta da API: {exc} Consulte a referência {ref}.")
        except ApiError as exc:
            if exc.codigo in ("cte_em_processamento", "cte_ja_autorizado"):
                self.repo.transition(doc["id"], C.PROCESSANDO_AUTORIZACAO, action="emissao",
                                     http_status=exc.status_code, response=exc.body, note=exc.mensagem)  # fmt: skip
                return self._follow(doc["id"], ref, wait, say)
            self.repo.transition(
                doc["id"],
                C.REJEITADO,
                action="emissao",
                http_status=exc.status_code,
                response=exc.body,
                note=f"{exc.codigo}: {exc.mensagem}",
                last_error=str(exc),
            )
            return self._outcome(doc["id"], f"{MODELOS[modelo]} recusado pela API: {exc}",
                                 codigo=exc.codigo, erros=exc.erros)  # fmt: skip
        self._apply(doc["id"], result, "emissao")
        if result.processing:
            return self._follow(doc["id"], ref, wait, say)
        return self._finish(doc["id"])

    def _follow(self, doc_id: int, ref: str, wait: bool, say: Callable[[str], None]) -> CteOutcome:
        if not wait:
            return self._outcome(doc_id, f"CT-e {ref} em processamento: consulte mais tarde.")
        say("Aguardando a autorização da SEFAZ...")
        try:
            result = self.api.wait_authorization(ref, max_wait=self.max_wait, first_interval=self.first_interval,
                                                 sleep=self.sleep)  # fmt: skip
        except (NotDelivered, RateLimited, InDoubt) as exc:
            self.repo.record(doc_id, action="consulta", note=str(exc), last_error=str(exc))
            return self._outcome(
                doc_id, f"CT-e em processamento; a consulta falhou ({exc}). Consulte mais tarde."
            )
        self._apply(doc_id, result, "consulta")
        return self._finish(doc_id)

    def _apply(self, doc_id: int, result: CteResult, action: str) -> None:
        fields: dict[str, Any] = {
            "status_sefaz": result.status_sefaz,
            "mensagem_sefaz": result.mensagem_sefaz,
        }
        for name in (
            "chave",
            "caminho_xml",
            "caminho_dacte",
            "caminho_xml_cancelamento",
            "caminho_xml_carta_correcao",
        ):
            value = getattr(result, name)
            if value:
                fields[name] = value
        if result.authorized or result.status in (C.CANCELADO, C.DENEGADO):
            fields["last_error"] = None
        elif result.status == C.ERRO_AUTORIZACAO:
            fields["last_error"] = f"{result.status_sefaz} {result.mensagem_sefaz}"
        status = result.status if result.status in STATUS_LABELS else C.EM_DUVIDA
        current = self.repo.get(doc_id)
        if current is not None and current["status"] == status and action == "consulta":
            self.repo.record(
                doc_id, action=action, http_status=result.http_status, response=result.raw, **fields
            )
        else:
            self.repo.transition(doc_id, status, action=action, http_status=result.http_status, response=result.raw,
                                 **fields)  # fmt: skip

    def _finish(self, doc_id: int) -> CteOutcome:
        doc = self.repo.get(doc_id)
        assert doc is not None
        kind = MODELOS[int(doc["modelo"])]
        if doc["status"] == C.AUTORIZADO:
            self._save_xml(doc)
            doc = self.repo.get(doc_id) or doc
            return self._outcome(doc_id, f"{kind} nº {doc['numero']} série {doc['serie']} autorizado.")
        if doc["status"] == C.PROCESSANDO_AUTORIZACAO:
            return self._outcome(
                doc_id, f"{kind} {doc['ref']} ainda em processamento na SEFAZ: consulte mais tarde."
            )
        if doc["status"] == C.DENEGADO:
            return self._outcome(doc_id, f"{kind} denegado: {doc['status_sefaz']} {doc['mensagem_sefaz']}")
        if doc["status"] == C.ERRO_AUTORIZACAO:
            return self._outcome(doc_id, f"{kind} rejeitado pela SEFAZ: {doc['status_sefaz']} {doc['mensagem_sefaz']}. "
                                         f"Corrija os dados e reenvie com --ref {doc['ref']}.")  # fmt: skip
        return self._outcome(
            doc_id, f"{kind} {doc['ref']}: {STATUS_LABELS.get(doc['status'], doc['status'])}."
        )

    def _save_xml(self, doc: dict[str, Any]) -> None:
        if not doc.get("caminho_xml") or doc.get("xml_path"):
            return
        try:
            xml = self.api.download(doc["caminho_xml"])
        except Exception as exc:  # noqa: BLE001 - the XML can be fetched again later
            log.warning("XML do CT-e %s não baixado: %s", doc["ref"], exc)
            return
        folder = self.ctx.xml_dir() / "cte"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{doc['chave'] or doc['ref']}-{'cteos' if doc['modelo'] == 67 else 'cte'}.xml"
        path.write_bytes(xml)
        self.repo.record(doc["id"], action="xml", note=str(path), xml_path=str(path))

    def _outcome(self, doc_id: int, mensagem: str, **extra: Any) -> CteOutcome:
        doc = self.repo.get(doc_id)
        assert doc is not None
        return CteOutcome(
            ref=doc["ref"], modelo=int(doc["modelo"]), status=doc["status"], mensagem=mensagem, serie=doc["serie"],
            numero=doc["numero"], chave=doc["chave"], status_sefaz=doc["status_sefaz"],
            mensagem_sefaz=doc["mensagem_sefaz"], caminho_xml=doc["caminho_xml"], caminho_dacte=doc["caminho_dacte"],
            xml_local=doc["xml_path"], extra={k: v for k, v in extra.items() if v not in (None, [], {})},
        )  # fmt: skip

    # -- consult -------------------------------------------------------------------------------
    def _doc(self, ref: str) -> dict[str, Any]:
        doc = self.repo.by_ref(check_ref(ref))
        if doc is None:
            raise ValidationError("ref", f"CT-e não encontrado neste terminal: {ref}")
        return doc

    def consult(self, ref: str, *, completa: bool = False) -> CteOutcome:
        """Ask the API and bring the local state up to date (reconciles ``em_duvida``)."""
        doc = self._doc(ref)
        result = self.api.consult(ref, completa=completa)
        if result is None:
            if doc["status"] in (C.EM_DUVIDA, C.ENVIANDO, C.PENDENTE):
                self.repo.transition(doc["id"], C.PENDENTE, action="consulta", http_status=404,
                                     note="a API não conhece a referência: pode ser enviada de novo")  # fmt: skip
                return self._outcome(doc["id"], f"A API não recebeu o {MODELOS[doc['modelo']]} {ref}: "
                                                f"reenvie com --ref {ref}.")  # fmt: skip
            raise ValidationError("ref", f"A API não encontrou o CT-e {ref}.")
        self._apply(doc["id"], result, "consulta")
        outcome = self._finish(doc["id"])
        if completa:
            outcome.extra["completa"] = {k: result.raw[k] for k in result.raw
                                         if k.startswith(("requisicao", "protocolo"))}  # fmt: skip
        return outcome

    # -- cancellation, CC-e, events --------------------------------------------------------------
    def _authorized(self, ref: str, action: str) -> dict[str, Any]:
        doc = self._doc(ref)
        if doc["status"] != C.AUTORIZADO:
            raise ValidationError("ref", f"Só um CT-e autorizado pode ter {action}; {ref} está "
                                         f"'{STATUS_LABELS.get(doc['status'], doc['status'])}'.")  # fmt: skip
        return doc

    def cancel(self, ref: str, justificativa: str, *, user_id: int | None = None) -> CteOutcome:
        text = " ".join((justificativa or "").split())
        if not JUSTIFICATIVA_MIN <= len(text) <= JUSTIFICATIVA_MAX:
            raise ValidationError("justificativa", f"A justificativa deve ter entre {JUSTIFICATIVA_MIN} e "
                                                   f"{JUSTIFICATIVA_MAX} caracteres (tem {len(text)}).")  # fmt: skip
        doc = self._authorized(ref, "cancelamento")
        result = self._written_ahead(
            "cte_cancelamento",
            ref,
            {"justificativa": text},
            int(doc["id"]),
            lambda: self.api.cancel(ref, text),
            done=lambda r: r.status == C.CANCELADO,
        )
        if result.status == C.CANCELADO:
            self.repo.transition(doc["id"], C.CANCELADO, action="cancelamento", http_status=result.http_status,
                                 response=result.raw, note=text, status_sefaz=result.status_sefaz,
                                 mensagem_sefaz=result.mensagem_sefaz,
                                 caminho_xml_cancelamento=result.caminho_xml)  # fmt: skip
            return self._outcome(doc["id"], f"{MODELOS[doc['modelo']]} {ref} cancelado.")
        self.repo.record(doc["id"], action="cancelamento", http_status=result.http_status, response=result.raw,
                         note=text, last_error=f"{result.status_sefaz} {result.mensagem_sefaz}")  # fmt: skip
        return self._outcome(doc["id"], f"Cancelamento recusado: {result.status_sefaz} {result.mensagem_sefaz}",
                             cancelamento=result.status)  # fmt: skip

    def carta_correcao(
        self,
        ref: str,
        campo: str,
        valor: str,
        *,
        grupo: str | None = None,
        item: int | None = None,
        campo_api: bool = True,
        user_id: int | None = None,
    ) -> CteOutcome:
        campo = (campo or "").strip()
        valor = (valor or "").strip()
        if not campo:
            raise ValidationError("campo", "Informe o campo a corrigir.")
        if not valor:
            raise ValidationError("valor", "Informe o novo valor do campo.")
        if item is not None and item < 1:
            raise ValidationError("item", "O número do item começa em 1.")
        if CCE_FORBIDDEN.match(campo):
            raise ValidationError(
                "campo",
                f"A carta de correção não pode alterar '{campo}': valores e impostos, "
                "remetente/destinatário e data de emissão não podem ser corrigidos.",
            )
        doc = self._authorized(ref, "carta de correção")
        if int(doc["cartas_correcao"]) >= MAX_CARTAS_CORRECAO:
            raise ValidationError(
                "ref", f"O CT-e {ref} já tem {MAX_CARTAS_CORRECAO} cartas de correção (o máximo)."
            )
        result = self._written_ahead(
            "cte_carta_correcao", ref,
            {"campo": campo, "valor": valor, "grupo": grupo, "item": item, "campo_api": campo_api}, int(doc["id"]),
            lambda: self.api.carta_correcao(ref, campo, valor, grupo_corrigido=grupo, numero_item_grupo_corrigido=item,
                                            campo_api=campo_api),
            done=lambda r: r.status == C.AUTORIZADO)  # fmt: skip
        note = f"{grupo + '.' if grupo else ''}{campo} = {valor}"
        if result.status == C.AUTORIZADO:
            numero = result.numero_carta_correcao or int(doc["cartas_correcao"]) + 1
            self.repo.record(
                doc["id"],
                action="carta_correcao",
                http_status=result.http_status,
                response=result.raw,
                note=note,
                cartas_correcao=numero,
                caminho_xml_carta_correcao=result.caminho_xml,
            )
            return self._outcome(doc["id"], f"Carta de correção nº {numero} registrada (substitui as anteriores).",
                                 numero_carta_correcao=numero, caminho_xml_evento=result.caminho_xml,
                                 evento_ok=True)  # fmt: skip
        self.repo.record(doc["id"], action="carta_correcao", http_status=result.http_status, response=result.raw,
                         note=note)  # fmt: skip
        return self._outcome(doc["id"], f"Carta de correção recusada: {result.status_sefaz} {result.mensagem_sefaz}",
                             evento_ok=False)  # fmt: skip

    def evento(
        self,
        ref: str,
        tipo: str,
        *,
        observacoes: str | None = None,
        registro: str | None = None,
        numero_documento: str | None = None,
        informacoes_gtv: list[dict[str, Any]] | None = None,
        user_id: int | None = None,
    ) -> CteOutcome:
        """Events of the seed: prestação em desacordo, registro multimodal, informações da GTV (CT-e OS)."""
        if tipo not in EVENTOS:
            raise ValidationError(
                "tipo", f"Evento desconhecido: {tipo} (desacordo, registro_multimodal, dados_gtv)."
            )
        if tipo == "desacordo":
            text = " ".join((observacoes or "").split())
            if not OBSERVACOES_MIN <= len(text) <= OBSERVACOES_MAX:
                raise ValidationError("observacoes", f"As observações devem ter entre {OBSERVACOES_MIN} e "
                                                     f"{OBSERVACOES_MAX} caracteres (tem {len(text)}).")  # fmt: skip
        elif tipo == "registro_multimodal":
            text = " ".join((registro or "").split())
            if not 15 <= len(text) <= 1000:
                raise ValidationError(
                    "registro", "O registro multimodal deve ter entre 15 e 1000 caracteres."
                )
        else:
            if not informacoes_gtv:
                raise ValidationError("informacoes_gtv", "Informe ao menos uma GTV.")
        doc = self._authorized(ref, EVENTOS[tipo].lower())
        if tipo == "dados_gtv" and int(doc["modelo"]) != 67:
            raise ValidationError("ref", "Informações da GTV só podem ser enviadas para CT-e OS (modelo 67).")

        def send() -> CteEventResult:
            if tipo == "desacordo":
                return self.api.desacordo(ref, observacoes or "")
            if tipo == "registro_multimodal":
                return self.api.registro_multimodal(ref, registro or "", numero_documento)
            return self.api.dados_gtv(ref, informacoes_gtv or [])

        result: CteEventResult = self._written_ahead(
            f"cte_{tipo}",
            ref,
            {
                "observacoes": observacoes,
                "registro": registro,
                "numero_documento": numero_documento,
                "informacoes_gtv": informacoes_gtv,
            },
            int(doc["id"]),
            send,
            done=lambda r: bool(r.accepted),
        )
        self.repo.record(doc["id"], action=tipo, http_status=result.http_status, response=result.raw,
                         note=f"{result.status} {result.status_sefaz or ''}".strip())  # fmt: skip
        if result.accepted:
            return self._outcome(
                doc["id"],
                f"Evento '{EVENTOS[tipo]}' registrado.",
                evento_ok=True,
                caminho_xml_evento=result.caminho_xml,
                protocolo_evento=result.protocolo,
            )
        return self._outcome(doc["id"], f"Evento '{EVENTOS[tipo]}' recusado: {result.status_sefaz} "
                                        f"{result.mensagem_sefaz}", evento_ok=False)  # fmt: skip

    def _written_ahead(
        self,
        kind: str,
        ref: str,
        request: dict[str, Any],
        doc_id: int,
        send: Callable[[], Any],
        *,
        done: Callable[[Any], bool],
    ) -> Any:
        """Store the intent (``pending_actions``) before ``send()``; its answer closes it. Without an answer
        (InDoubt, a crash) it stays open and ``sync`` resolves it (``resolve_intent``)."""
        from pos_app.core.services.pending_actions import CONCLUIDO, NAO_EFETIVADO, PendingActions

        actions = PendingActions(self.ctx)
        action_id = actions.begin(kind, ref, request)
        try:
            result = send()
        except (NotDelivered, RateLimited, ApiError) as exc:
            actions.finish(action_id, NAO_EFETIVADO, f"não efetivado: {exc}")
            raise
        actions.finish(
            action_id,
            CONCLUIDO if done(result) else NAO_EFETIVADO,
            f"{result.status} {result.status_sefaz or ''}".strip(),
            result.raw,
        )
        return result

    def resolve_intent(self, row: dict[str, Any], request: dict[str, Any]) -> str:
        """Settle a back-office action whose answer never arrived.

        - cancel: consult the CT-e; cancelled -> recorded, authorized -> not done;
        - carta de correção: sent again (the latest CC-e replaces the earlier ones, same content);
        - other events (desacordo, multimodal, GTV): the API has no consult for them and a repeat may
          be refused as a duplicate -> flagged for a person (``manual``), shown by status/doctor.
        """
        from pos_app.core.focus.errors import FocusError
        from pos_app.core.services.pending_actions import (
            CONCLUIDO,
            MANUAL,
            NAO_EFETIVADO,
            PENDENTE,
            PendingActions,
        )

        actions = PendingActions(self.ctx)
        action_id = int(row["id"])
        ref = row["target"]
        try:
            if row["kind"] == "cte_cancelamento":
                doc = self._doc(ref)
                if doc["status"] == C.CANCELADO:
                    actions.finish(action_id, CONCLUIDO, "já registrado como cancelado")
                    return CONCLUIDO
                result = self.api.consult(ref)
                if result is not None and result.status == C.CANCELADO:
                    self.repo.transition(doc["id"], C.CANCELADO, action="cancelamento", http_status=result.http_status,
                                         response=result.raw, note="cancelamento confirmado por consulta após "
                                         f"interrupção: {request.get('justificativa')}")  # fmt: skip
                    actions.finish(action_id, CONCLUIDO, "consulta: cancelado", result.raw)
                    return CONCLUIDO
                if result is not None and result.status == C.AUTORIZADO:
                    actions.finish(action_id, NAO_EFETIVADO, "consulta: continua autorizado", result.raw)
                    return NAO_EFETIVADO
                actions.finish(action_id, MANUAL, "consulta inconclusiva")
                return MANUAL
            if row["kind"] == "cte_carta_correcao":
                doc = self._doc(ref)
                event = self.api.carta_correcao(ref, request["campo"], request["valor"],
                                                grupo_corrigido=request.get("grupo"),
                                                numero_item_grupo_corrigido=request.get("item"),
                                                campo_api=bool(request.get("campo_api", True)))  # fmt: skip
                ok = event.status == C.AUTORIZADO
                if ok:
                    numero = event.numero_carta_correcao or int(doc["cartas_correcao"]) + 1
                    self.repo.record(doc["id"], action="carta_correcao", http_status=event.http_status,
                                     response=event.raw, note="reenviada após interrupção", cartas_correcao=numero,
                                     caminho_xml_carta_correcao=event.caminho_xml)  # fmt: skip
                actions.finish(
                    action_id, CONCLUIDO if ok else NAO_EFETIVADO, "reenviada após interrupção", event.raw
                )
                return CONCLUIDO if ok else NAO_EFETIVADO
        except FocusError as exc:
            actions.touch(action_id, f"consulta falhou: {exc}")
            return PENDENTE
        actions.finish(action_id, MANUAL, "evento sem resposta da API: confira no painel da Focus NFe se foi "
                                          "registrado (não reenvie sem conferir)")  # fmt: skip
        return MANUAL

    # -- inutilização --------------------------------------------------------------------------
    def inutilizar(
        self,
        serie: int,
        inicio: int,
        fim: int,
        justificativa: str,
        *,
        modelo: int = 57,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        if modelo not in MODELOS:
            raise ValidationError("modelo", "Modelo deve ser 57 (CT-e) ou 67 (CT-e OS).")
        if not 0 <= serie <= 999:
            raise ValidationError("serie", "Série deve estar entre 0 e 999.")
        if not 1 <= inicio <= fim <= 999_999_999:
            raise ValidationError(
                "inicio", "Faixa inválida: o número inicial deve ser de 1 até o número final."
            )
        text = " ".join((justificativa or "").split())
        if not JUSTIFICATIVA_MIN <= len(text) <= JUSTIFICATIVA_MAX:
            raise ValidationError("justificativa", f"A justificativa deve ter entre {JUSTIFICATIVA_MIN} e "
                                                   f"{JUSTIFICATIVA_MAX} caracteres (tem {len(text)}).")  # fmt: skip
        used = [d["ref"] for d in self.repo.find(modelo=modelo, limit=100_000)
                if d["serie"] == serie and inicio <= d["numero"] <= fim
                and d["status"] in (C.AUTORIZADO, C.CANCELADO, C.DENEGADO, C.PROCESSANDO_AUTORIZACAO)]  # fmt: skip
        if used:
            raise ValidationError(
                "inicio", f"A faixa contém {MODELOS[modelo]} já emitido(s): {', '.join(used[:5])}."
            )
        cnpj = self.ctx.emitente().cnpj
        result = self.api.inutilizar(cnpj, serie, inicio, fim, text, modelo=modelo)
        self.repo.add_inutilizacao(cnpj=cnpj, modelo=modelo, serie=serie, numero_inicial=inicio, numero_final=fim,
                                   justificativa=text, status=result.status, status_sefaz=result.status_sefaz,
                                   mensagem_sefaz=result.mensagem_sefaz, caminho_xml=result.caminho_xml,
                                   response=result.raw, user_id=user_id)  # fmt: skip
        mensagem = (f"Numeração {inicio} a {fim} da série {serie} ({MODELOS[modelo]}) inutilizada."
                    if result.authorized else
                    f"Inutilização recusada: {result.status_sefaz} {result.mensagem_sefaz}")  # fmt: skip
        return {"status": result.status, "mensagem": mensagem, "modelo": modelo, "serie": serie,
                "numero_inicial": inicio, "numero_final": fim, "status_sefaz": result.status_sefaz,
                "mensagem_sefaz": result.mensagem_sefaz, "caminho_xml": result.caminho_xml}  # fmt: skip

    # -- listing -------------------------------------------------------------------------------
    def issued(self, *, modelo: int | None = None, limit: int = 500) -> list[dict[str, Any]]:
        return self.repo.find(modelo=modelo, limit=limit)

    def pending(self) -> list[dict[str, Any]]:
        """Documents whose outcome is still open (to consult)."""
        return self.repo.find(statuses=(C.ENVIANDO, C.PROCESSANDO_AUTORIZACAO, C.EM_DUVIDA))


# -- the window's form of common fields --------------------------------------------------------
FORM_COMMON = ("cfop", "natureza_operacao", "codigo_municipio_inicio", "municipio_inicio", "uf_inicio",
               "codigo_municipio_fim", "municipio_fim", "uf_fim", "valor_total", "valor_receber",
               "icms_situacao_tributaria")  # fmt: skip


def _party(data: dict[str, Any], who: str, documento: str, nome: str) -> None:
    digits = normalize_cnpj(documento)  # CPF digits, or a numeric/alphanumeric CNPJ
    data[f"cpf_{who}" if len(digits) == 11 else f"cnpj_{who}"] = digits
    data[f"nome_{who}"] = " ".join(nome.split())


def payload_from_form(fields: dict[str, str], modelo: int, ctx: AppContext) -> dict[str, Any]:
    """A CT-e / CT-e OS payload from the common fields of the window (then ``emit`` validates it).

    CT-e: remetente, destinatário, tomador (0-4), carga (valor, produto, peso in kg) and the road
    modal (``rntrc``). CT-e OS: tomador, service description, ``modal`` (01-04), ``tipo_servico``
    (6, 7, 8) and, when by road, ``taf``.
    """
    emitente = ctx.emitente()
    value = {k: (v or "").strip() for k, v in fields.items()}
    data: dict[str, Any] = {k: value.get(k, "") for k in FORM_COMMON}
    for key in ("valor_total", "valor_receber"):
        data[key] = data[key].replace(",", ".")
    data.update(
        tipo_documento=0, codigo_municipio_envio=emitente.codigo_municipio, municipio_envio=emitente.municipio,
        uf_envio=emitente.uf, uf_inicio=data["uf_inicio"].upper(), uf_fim=data["uf_fim"].upper(),
        indicador_inscricao_estadual_tomador=value.get("indicador_inscricao_estadual_tomador") or "9",
    )  # fmt: skip
    if modelo == 67:
        data["tipo_servico"] = value.get("tipo_servico") or "6"
        data["modal"] = (value.get("modal") or "01").zfill(2)
        data["descricao_servico"] = value.get("descricao_servico", "")
        _party(data, "tomador", value.get("documento_tomador", ""), value.get("nome_tomador", ""))
        if data["modal"] == "01":
            data["modal_rodoviario"] = {"taf": value.get("taf", "")} if value.get("taf") else {}
    else:
        data["tipo_servico"] = 0
        data["tomador"] = value.get("tomador") or "0"
        data["retirar_mercadoria"] = "1"
        _party(data, "remetente", value.get("documento_remetente", ""), value.get("nome_remetente", ""))
        _party(
            data, "destinatario", value.get("documento_destinatario", ""), value.get("nome_destinatario", "")
        )
        data["valor_total_carga"] = value.get("valor_total_carga", "").replace(",", ".")
        data["produto_predominante"] = value.get("produto_predominante", "")
        peso = value.get("peso_kg", "").replace(",", ".") or "0"
        try:
            quantidade = f"{Decimal(peso):.4f}"
        except InvalidOperation as exc:
            raise ValidationError("peso_kg", f"Peso inválido: {value.get('peso_kg')!r}") from exc
        data["quantidades"] = [
            {"codigo_unidade_medida": "01", "tipo_medida": "PESO BRUTO", "quantidade": quantidade}
        ]
        data["modal_rodoviario"] = {"rntrc": value.get("rntrc", "")} if value.get("rntrc") else {}
    return data
