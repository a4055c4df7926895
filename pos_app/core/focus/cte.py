"""CT-e and CT-e OS endpoints of the Focus API (``/v2/cte``, ``/v2/cte_os``).

Follows ``../shared/seeds/focus-nfe-cte.md``:

* ``POST /v2/cte?ref=REF``: asynchronous; the answer says ``processando_autorizacao`` and the result
  comes from ``GET /v2/cte/REF`` (:meth:`CteApi.wait_authorization` polls with a bounded wait);
* ``POST /v2/cte_os?ref=REF``: synchronous, the answer carries the result;
* ``GET /v2/cte/REF?completa=0|1``; ``DELETE /v2/cte/REF`` (``justificativa`` 15-255);
* ``POST /v2/cte/REF/carta_correcao`` (``campo_corrigido``/``valor_corrigido``..., up to 20, the last
  one prevails); ``POST /v2/cte/inutilizacao`` (``modelo`` 57 or 67).

The seed lists the events "prestação em desacordo", "registro multimodal" and "informações GTV"
(CT-e OS only) without their addresses; they follow the ``carta_correcao`` pattern:
``POST /v2/cte/REF/desacordo`` (``observacoes``), ``POST /v2/cte/REF/registro_multimodal``
(``registro``, ``numero_documento``) and ``POST /v2/cte/REF/dados_gtv`` (``informacoes_gtv``).

Answers are read by their JSON body; an answered 4xx without a ``status`` raises
:class:`~pos_app.core.focus.errors.ApiError` with ``codigo``/``mensagem`` (``campos_invalidos``,
``campos_invalidos_modal``, ``modelo_invalido``, ``forma_emissao_invalida``,
``empresa_nao_habilitada``, ``erro_validacao_schema`` (422), ``cte_ja_autorizado`` and
``cte_em_processamento`` (409), ``nao_encontrado`` (404), ``nao_autorizado``, ``requisicao_invalida``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pos_app.core.fiscal.document_status import CteStatus
from pos_app.core.focus.client import FocusClient, FocusResponse
from pos_app.core.focus.errors import ApiError, InDoubt
from pos_app.core.focus.nfce import check_ref
from pos_app.core.focus.ratelimit import Priority

PROCESSANDO = CteStatus.PROCESSANDO_AUTORIZACAO
MODELO_CTE = 57
MODELO_CTE_OS = 67
MAX_CARTAS_CORRECAO = 20
JUSTIFICATIVA_MIN, JUSTIFICATIVA_MAX = 15, 255
OBSERVACOES_MIN, OBSERVACOES_MAX = 15, 255

# Statuses the consult can answer (seed, "Consulta").
STATUSES = frozenset(
    {PROCESSANDO, CteStatus.AUTORIZADO, CteStatus.CANCELADO, CteStatus.ERRO_AUTORIZACAO, CteStatus.DENEGADO}
)

# Well-known codes of answered errors (seed, "Status API").
ERROR_CODES = {
    "erro_validacao_schema": "Erro na validação do Schema XML",
    "forma_emissao_invalida": "A forma de emissão utilizada é inválida",
    "campos_invalidos": "Campos inválidos ou não informados",
    "modelo_invalido": "Modelo de CT-e incompatível com esta URL",
    "campos_invalidos_modal": "Erros nos campos do modal",
    "empresa_nao_habilitada": "Empresa ainda não habilitada para emissão de CT-e",
    "cte_ja_autorizado": "Já existe um CT-e autorizado utilizando esta referência",
    "cte_em_processamento": "Já existe um CT-e com esta referência em processamento",
    "nao_encontrado": "CT-e não encontrado",
    "nao_autorizado": "CT-e não autorizado",
    "requisicao_invalida": "Requisição inválida",
}


def _str(v: Any) -> str | None:
    return None if v is None or v == "" else str(v)


def _int(v: Any) -> int | None:
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _strip_prefix(chave: Any) -> str | None:
    text = _str(chave)
    if text and text.upper().startswith("CTE"):
        text = text[3:]
    return text


def _body(resp: FocusResponse, what: str) -> dict[str, Any]:
    """The JSON object of an answer that must carry ``status``; raises ApiError/InDoubt otherwise."""
    data = resp.data if isinstance(resp.data, dict) else {}
    if "status" not in data:
        if resp.status_code < 400:
            raise InDoubt(
                f"Resposta da API sem a situação {what} (HTTP {resp.status_code}); "
                "a requisição pode ter sido processada.",
                resp.status_code,
                str(resp.data)[:500],
            )
        raise resp.error()
    return data


def check_text(value: str, name: str, low: int, high: int) -> str:
    """Trimmed ``value`` when its length is within [low, high]; ValueError (Portuguese) otherwise."""
    text = " ".join((value or "").split())
    if not low <= len(text) <= high:
        raise ValueError(f"{name} deve ter entre {low} e {high} caracteres (tem {len(text)}).")
    return text


@dataclass
class CteResult:
    """What the API says about one CT-e / CT-e OS ref."""

    http_status: int
    status: str
    ref: str | None = None
    cnpj_emitente: str | None = None
    status_sefaz: str | None = None
    mensagem_sefaz: str | None = None
    chave: str | None = None
    numero: int | None = None
    serie: int | None = None
    modelo: int | None = None
    caminho_xml: str | None = None
    caminho_dacte: str | None = None
    caminho_xml_carta_correcao: str | None = None
    caminho_xml_cancelamento: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def processing(self) -> bool:
        return self.status == PROCESSANDO

    @property
    def authorized(self) -> bool:
        return self.status == CteStatus.AUTORIZADO

    @property
    def final(self) -> bool:
        return self.status != PROCESSANDO

    @classmethod
    def from_response(cls, resp: FocusResponse) -> CteResult:
        data = _body(resp, "do CT-e")
        return cls(
            http_status=resp.status_code,
            status=str(data["status"]),
            ref=_str(data.get("ref")),
            cnpj_emitente=_str(data.get("cnpj_emitente")),
            status_sefaz=_str(data.get("status_sefaz")),
            mensagem_sefaz=_str(data.get("mensagem_sefaz")),
            chave=_strip_prefix(data.get("chave_cte") or data.get("chave")),
            numero=_int(data.get("numero")),
            serie=_int(data.get("serie")),
            modelo=_int(data.get("modelo")),
            caminho_xml=_str(data.get("caminho_xml_nota_fiscal") or data.get("caminho_xml")),
            caminho_dacte=_str(data.get("caminho_dacte")),
            caminho_xml_carta_correcao=_str(data.get("caminho_xml_carta_correcao")),
            caminho_xml_cancelamento=_str(data.get("caminho_xml_cancelamento")),
            raw=data,
        )


@dataclass
class CteEventResult:
    """Answer of a cancellation, carta de correção or other event."""

    http_status: int
    status: str  # cancelado | erro_cancelamento | autorizado | erro_autorizacao
    status_sefaz: str | None = None
    mensagem_sefaz: str | None = None
    caminho_xml: str | None = None
    numero_carta_correcao: int | None = None
    protocolo: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.status in (CteStatus.AUTORIZADO, CteStatus.CANCELADO, "evento_registrado")

    @classmethod
    def from_response(cls, resp: FocusResponse) -> CteEventResult:
        data = _body(resp, "do evento")
        return cls(
            http_status=resp.status_code,
            status=str(data["status"]),
            status_sefaz=_str(data.get("status_sefaz")),
            mensagem_sefaz=_str(data.get("mensagem_sefaz")),
            caminho_xml=_str(data.get("caminho_xml") or data.get("caminho_xml_cancelamento")),
            numero_carta_correcao=_int(data.get("numero_carta_correcao")),
            protocolo=_str(data.get("protocolo")),
            raw=data,
        )


@dataclass
class InutilizacaoResult:
    http_status: int
    status: str  # autorizado | erro_autorizacao
    status_sefaz: str | None = None
    mensagem_sefaz: str | None = None
    serie: int | None = None
    numero_inicial: int | None = None
    numero_final: int | None = None
    modelo: int | None = None
    caminho_xml: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def authorized(self) -> bool:
        return self.status == CteStatus.AUTORIZADO

    @classmethod
    def from_response(cls, resp: FocusResponse) -> InutilizacaoResult:
        data = _body(resp, "da inutilização")
        return cls(
            http_status=resp.status_code,
            status=str(data["status"]),
            status_sefaz=_str(data.get("status_sefaz")),
            mensagem_sefaz=_str(data.get("mensagem_sefaz")),
            serie=_int(data.get("serie")),
            numero_inicial=_int(data.get("numero_inicial")),
            numero_final=_int(data.get("numero_final")),
            modelo=_int(data.get("modelo")),
            caminho_xml=_str(data.get("caminho_xml")),
            raw=data,
        )


class CteApi:
    def __init__(self, client: FocusClient) -> None:
        self.client = client

    # -- emission ------------------------------------------------------------------------------
    def emit(
        self,
        ref: str,
        payload: dict[str, Any],
        *,
        priority: Priority = Priority.LIVE,
        timeout: float | None = None,
    ) -> CteResult:
        """POST /v2/cte?ref=REF: queued for processing (``processando_autorizacao``)."""
        resp = self.client.request(
            "POST",
            "/v2/cte",
            params={"ref": check_ref(ref)},
            json_body=payload,
            priority=priority,
            timeout=timeout,
        )
        return CteResult.from_response(resp)

    def emit_os(
        self,
        ref: str,
        payload: dict[str, Any],
        *,
        priority: Priority = Priority.LIVE,
        timeout: float | None = None,
    ) -> CteResult:
        """POST /v2/cte_os?ref=REF: processed in the same request (synchronous)."""
        resp = self.client.request(
            "POST",
            "/v2/cte_os",
            params={"ref": check_ref(ref)},
            json_body=payload,
            priority=priority,
            timeout=timeout,
        )
        return CteResult.from_response(resp)

    def consult(
        self,
        ref: str,
        *,
        completa: bool = False,
        priority: Priority = Priority.REPLAY,
        timeout: float | None = None,
    ) -> CteResult | None:
        """GET /v2/cte/REF?completa=0|1; None when the API does not know the ref."""
        resp = self.client.request(
            "GET",
            f"/v2/cte/{check_ref(ref)}",
            params={"completa": int(completa)},
            priority=priority,
            timeout=timeout,
        )
        if resp.status_code == 404:
            return None
        return CteResult.from_response(resp)

    def wait_authorization(
        self,
        ref: str,
        *,
        max_wait: float = 30.0,
        first_interval: float = 0.2,
        max_interval: float = 2.0,
        completa: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        on_poll: Callable[[CteResult], None] | None = None,
    ) -> CteResult:
        """Poll ``GET /v2/cte/REF`` until the status leaves ``processando_autorizacao``.

        The wait is bounded: after ``max_wait`` seconds the last (still processing) answer is
        returned and the caller consults again later. Intervals grow from ``first_interval`` to
        ``max_interval``. Raises ApiError(404) when the API does not know the ref.
        """
        deadline = monotonic() + max_wait
        interval = first_interval
        while True:
            result = self.consult(ref, completa=completa, priority=Priority.LIVE)
            if result is None:
                raise ApiError(404, "nao_encontrado", f"CT-e não encontrado na API: {ref}")
            if on_poll is not None:
                on_poll(result)
            remaining = deadline - monotonic()
            if result.final or remaining <= 0:
                return result
            sleep(min(interval, remaining))
            interval = min(interval * 2, max_interval)

    # -- cancellation and events -----------------------------------------------------------------
    def cancel(self, ref: str, justificativa: str, *, priority: Priority = Priority.LIVE) -> CteEventResult:
        """DELETE /v2/cte/REF with ``justificativa`` (15 to 255 characters)."""
        text = check_text(justificativa, "A justificativa", JUSTIFICATIVA_MIN, JUSTIFICATIVA_MAX)
        resp = self.client.request(
            "DELETE", f"/v2/cte/{check_ref(ref)}", json_body={"justificativa": text}, priority=priority
        )
        return CteEventResult.from_response(resp)

    def carta_correcao(
        self,
        ref: str,
        campo_corrigido: str,
        valor_corrigido: str,
        *,
        grupo_corrigido: str | None = None,
        numero_item_grupo_corrigido: int | None = None,
        campo_api: bool = True,
    ) -> CteEventResult:
        """POST /v2/cte/REF/carta_correcao. The last carta sent replaces the previous ones."""
        campo = (campo_corrigido or "").strip()
        valor = (valor_corrigido or "").strip()
        if not campo:
            raise ValueError("Informe o campo a corrigir (campo_corrigido).")
        if not valor:
            raise ValueError("Informe o novo valor do campo (valor_corrigido).")
        body: dict[str, Any] = {"campo_corrigido": campo, "valor_corrigido": valor}
        if grupo_corrigido:
            body["grupo_corrigido"] = grupo_corrigido.strip()
        if numero_item_grupo_corrigido is not None:
            if numero_item_grupo_corrigido < 1:
                raise ValueError("O número do item do grupo começa em 1.")
            body["numero_item_grupo_corrigido"] = numero_item_grupo_corrigido
        if not campo_api:
            body["campo_api"] = 0
        resp = self.client.request("POST", f"/v2/cte/{check_ref(ref)}/carta_correcao", json_body=body)
        return CteEventResult.from_response(resp)

    def desacordo(self, ref: str, observacoes: str) -> CteEventResult:
        """Event "prestação de serviço em desacordo" (``observacoes`` 15 to 255 characters)."""
        text = check_text(observacoes, "As observações", OBSERVACOES_MIN, OBSERVACOES_MAX)
        resp = self.client.request(
            "POST", f"/v2/cte/{check_ref(ref)}/desacordo", json_body={"observacoes": text}
        )
        return CteEventResult.from_response(resp)

    def registro_multimodal(
        self, ref: str, registro: str, numero_documento: str | None = None
    ) -> CteEventResult:
        """Event "registro multimodal" (``registro``: 15 to 1000 characters)."""
        body: dict[str, Any] = {"registro": check_text(registro, "O registro", 15, 1000)}
        if numero_documento:
            body["numero_documento"] = numero_documento.strip()
        resp = self.client.request("POST", f"/v2/cte/{check_ref(ref)}/registro_multimodal", json_body=body)
        return CteEventResult.from_response(resp)

    def dados_gtv(self, ref: str, informacoes_gtv: list[dict[str, Any]]) -> CteEventResult:
        """Event "informações da GTV" (CT-e OS, modelo 67, only)."""
        if not informacoes_gtv or not all(isinstance(g, dict) for g in informacoes_gtv):
            raise ValueError("Informe ao menos uma GTV (lista de objetos em informacoes_gtv).")
        resp = self.client.request(
            "POST", f"/v2/cte/{check_ref(ref)}/dados_gtv", json_body={"informacoes_gtv": informacoes_gtv}
        )
        return CteEventResult.from_response(resp)

    # -- inutilização and files ------------------------------------------------------------------
    def inutilizar(
        self,
        cnpj: str,
        serie: int,
        numero_inicial: int,
        numero_final: int,
        justificativa: str,
        *,
        modelo: int = MODELO_CTE,
    ) -> InutilizacaoResult:
        """POST /v2/cte/inutilizacao (``modelo`` 57 = CT-e, 67 = CT-e OS)."""
        if modelo not in (MODELO_CTE, MODELO_CTE_OS):
            raise ValueError("Modelo deve ser 57 (CT-e) ou 67 (CT-e OS).")
        if not 0 <= serie <= 999:
            raise ValueError("Série deve estar entre 0 e 999.")
        if not 1 <= numero_inicial <= numero_final <= 999_999_999:
            raise ValueError("Faixa de numeração inválida (número inicial até o final, de 1 a 999999999).")
        text = check_text(justificativa, "A justificativa", JUSTIFICATIVA_MIN, JUSTIFICATIVA_MAX)
        resp = self.client.request(
            "POST",
            "/v2/cte/inutilizacao",
            json_body={
                "cnpj": cnpj,
                "serie": str(serie),
                "numero_inicial": str(numero_inicial),
                "numero_final": str(numero_final),
                "justificativa": text,
                "modelo": str(modelo),
            },
        )
        return InutilizacaoResult.from_response(resp)

    def download(self, path: str, *, priority: Priority = Priority.REPLAY) -> bytes:
        """Download a file the API pointed to (``caminho_xml_nota_fiscal``, ``caminho_dacte``...): a path
        on the API, or an absolute URL (S3) fetched WITHOUT the token (see ``focus/files.py``)."""
        from pos_app.core.focus.files import fetch_file

        return fetch_file(self.client, path, priority=priority)
