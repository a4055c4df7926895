"""Received CT-e (manifestação de CT-e) endpoints of the Focus API (``/v2/ctes_recebidas``).

Follows ``../shared/seeds/focus-nfe-manifestacao-cte.md``:

* ``GET /v2/ctes_recebidas?cnpj=CNPJ&versao=N``: at most 100 summaries with ``versao`` > N;
  headers ``X-Total-Count`` (all matching, beyond the 100) and ``X-Max-Version`` (the next ``versao``);
* ``POST /v2/ctes_recebidas/CHAVE/desacordo`` (``observacoes`` 15-255) and ``GET`` of the same
  address for the last valid desacordo (the seed's prose also names ``/manifesto``; its URL table and
  every example use ``/desacordo``, which is what this client calls);
* ``GET /v2/ctes_recebidas/CHAVE.json?completa=1`` and ``CHAVE.xml``; ``CHAVE/cancelamento.xml``,
  ``CHAVE/carta_correcao.xml``; ``CHAVE.pdf`` (DACTe, answered with a redirect to the file).

Answered errors raise :class:`~pos_app.core.focus.errors.ApiError`: ``requisicao_invalida`` (400:
observações out of range, desacordo already registered, CNPJ not authorized or missing),
``nao_encontrado`` (404), ``permissao_negada`` (403, as ``AuthenticationError``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import httpx

from pos_app.core.domain.validators import is_valid_cnpj, normalize_cnpj
from pos_app.core.fiscal.chave import chave_chars, is_valid_chave
from pos_app.core.fiscal.document_status import CteSituacao
from pos_app.core.focus.client import MAX_BODY_BYTES, FocusClient, FocusResponse
from pos_app.core.focus.cte import OBSERVACOES_MAX, OBSERVACOES_MIN, check_text
from pos_app.core.focus.errors import ApiError, InDoubt, NotDelivered
from pos_app.core.focus.ratelimit import Priority

PAGE_LIMIT = 100  # documents per answer (seed)
SITUACOES = tuple(CteSituacao)
# The seed's field table says "autorizada, cancelada ou denegada"; its example answers "autorizado":
# both forms are accepted and stored in the masculine form.
_SITUACAO_FORMS = {
    "autorizada": CteSituacao.AUTORIZADO,
    "cancelada": CteSituacao.CANCELADO,
    "denegada": CteSituacao.DENEGADO,
}


def normalize_situacao(value: object) -> str:
    """``"Autorizada"`` / ``"autorizado"`` -> ``"autorizado"``; unknown text is kept (lower-case)."""
    text = str(value or "").strip().lower()
    return _SITUACAO_FORMS.get(text, text)


TIPOS_CTE = {"0": "Normal", "1": "Complementar", "2": "Anulação", "3": "Substituto"}
_CHAVE = re.compile(r"^[0-9A-Z]{44}$")


def check_chave(chave: str) -> str:
    digits = chave_chars(chave)
    if not _CHAVE.match(digits) or not is_valid_chave(digits):
        raise ValueError(
            f"Chave de acesso inválida: {chave!r} (44 caracteres com dígito verificador correto)."
        )
    return digits


def check_cnpj(cnpj: str) -> str:
    digits = normalize_cnpj(cnpj)
    if not is_valid_cnpj(digits):
        raise ValueError(f"CNPJ inválido: {cnpj!r}")
    return digits


def _str(v: Any) -> str | None:
    return None if v is None or v == "" else str(v)


def _int(v: Any) -> int | None:
    try:
        return int(str(v).strip()) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _decimal(v: Any) -> Decimal | None:
    if v in (None, ""):
        return None
    try:
        return Decimal(str(v))
    except (InvalidOperation, ValueError):
        return None


@dataclass
class CteRecebido:
    """Summary of one received CT-e, as the listing and the consult answer it."""

    chave: str
    versao: int
    situacao: str
    nome_emitente: str | None = None
    documento_emitente: str | None = None
    cnpj_destinatario: str | None = None
    valor_total: Decimal | None = None
    data_emissao: str | None = None
    tipo_cte: str | None = None
    digest_value: str | None = None
    carta_correcao: str | None = None
    data_carta_correcao: str | None = None
    data_cancelamento: str | None = None
    justificativa_cancelamento: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CteRecebido:
        chave = chave_chars(str(data.get("chave") or ""))
        versao = _int(data.get("versao"))
        if len(chave) != 44 or versao is None:
            raise InDoubt("Resposta da API com CT-e recebido sem chave ou versão.", None, str(data)[:500])
        return cls(
            chave=chave,
            versao=versao,
            situacao=normalize_situacao(data.get("situacao")),
            nome_emitente=_str(data.get("nome_emitente")),
            documento_emitente=_str(data.get("documento_emitente")),
            cnpj_destinatario=_str(data.get("cnpj_destinatario")),
            valor_total=_decimal(data.get("valor_total")),
            data_emissao=_str(data.get("data_emissao")),
            tipo_cte=_str(data.get("tipo_cte")),
            digest_value=_str(data.get("digest_value")),
            carta_correcao=_str(data.get("carta_correcao")),
            data_carta_correcao=_str(data.get("data_carta_correcao")),
            data_cancelamento=_str(data.get("data_cancelamento")),
            justificativa_cancelamento=_str(data.get("justificativa_cancelamento")),
            raw=data,
        )


@dataclass
class CtesRecebidasPage:
    items: list[CteRecebido]
    total_count: int  # X-Total-Count: every document with versao > the one asked
    max_version: int | None  # X-Max-Version: ask the next page with versao = this

    @property
    def has_more(self) -> bool:
        return self.total_count > len(self.items) and bool(self.items)


@dataclass
class DesacordoResult:
    http_status: int
    status: str  # evento_registrado | erro
    status_sefaz: str | None = None
    mensagem_sefaz: str | None = None
    protocolo: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def registered(self) -> bool:
        return self.status == "evento_registrado"

    @classmethod
    def from_response(cls, resp: FocusResponse) -> DesacordoResult:
        data = resp.data if isinstance(resp.data, dict) else {}
        if "status" not in data:
            if resp.status_code < 400:
                raise InDoubt(
                    f"Resposta da API sem a situação do desacordo (HTTP {resp.status_code}); "
                    "o evento pode ter sido registrado.",
                    resp.status_code,
                    str(resp.data)[:500],
                )
            raise resp.error()
        return cls(
            http_status=resp.status_code,
            status=str(data["status"]),
            status_sefaz=_str(data.get("status_sefaz")),
            mensagem_sefaz=_str(data.get("mensagem_sefaz")),
            protocolo=_str(data.get("protocolo")),
            raw=data,
        )


class CtesRecebidasApi:
    def __init__(self, client: FocusClient) -> None:
        self.client = client

    def list(
        self, cnpj: str, versao: int | None = None, *, priority: Priority = Priority.REPLAY
    ) -> CtesRecebidasPage:
        """One page (at most 100) of received CT-e with ``versao`` greater than ``versao``."""
        params: dict[str, Any] = {"cnpj": check_cnpj(cnpj)}
        if versao is not None:
            if versao < 0:
                raise ValueError("versão deve ser um número maior ou igual a zero")
            params["versao"] = versao
        resp = self.client.request("GET", "/v2/ctes_recebidas", params=params, priority=priority)
        if resp.status_code >= 400:
            raise resp.error()
        if not isinstance(resp.data, list):
            raise InDoubt(
                "Resposta da API sem a lista de CT-e recebidos.", resp.status_code, str(resp.data)[:500]
            )
        items = [CteRecebido.from_json(d) for d in resp.data if isinstance(d, dict)]
        total = _int(resp.headers.get("X-Total-Count"))
        max_version = _int(resp.headers.get("X-Max-Version"))
        if max_version is None and items:
            max_version = max(i.versao for i in items)
        return CtesRecebidasPage(items, total if total is not None else len(items), max_version)

    def iter_pages(
        self, cnpj: str, versao: int | None = None, *, max_pages: int = 1000
    ) -> Iterator[CtesRecebidasPage]:
        """Every page after ``versao``, following ``X-Max-Version`` until nothing more is left."""
        current = versao
        for _ in range(max_pages):
            page = self.list(cnpj, current)
            yield page
            if (
                not page.has_more
                or page.max_version is None
                or (current is not None and page.max_version <= current)
            ):
                return
            current = page.max_version

    def desacordo(self, chave: str, observacoes: str) -> DesacordoResult:
        """POST /v2/ctes_recebidas/CHAVE/desacordo (``observacoes``: 15 to 255 characters)."""
        text = check_text(observacoes, "As observações", OBSERVACOES_MIN, OBSERVACOES_MAX)
        resp = self.client.request(
            "POST", f"/v2/ctes_recebidas/{check_chave(chave)}/desacordo", json_body={"observacoes": text}
        )
        return DesacordoResult.from_response(resp)

    def consult_desacordo(self, chave: str) -> DesacordoResult | None:
        """GET /v2/ctes_recebidas/CHAVE/desacordo: the last valid desacordo, None when there is none."""
        resp = self.client.request("GET", f"/v2/ctes_recebidas/{check_chave(chave)}/desacordo")
        if resp.status_code == 404:
            return None
        return DesacordoResult.from_response(resp)

    def consult(
        self, chave: str, *, completa: bool = False, cnpj: str | None = None
    ) -> dict[str, Any] | None:
        """GET /v2/ctes_recebidas/CHAVE.json; with ``completa`` adds ``mdfes``, ``requisicao``, ``protocolo``."""
        params: dict[str, Any] = {}
        if completa:
            params["completa"] = 1
        if cnpj:
            params["cnpj"] = check_cnpj(cnpj)
        resp = self.client.request("GET", f"/v2/ctes_recebidas/{check_chave(chave)}.json", params=params)
        if resp.status_code == 404:
            return None
        if resp.status_code >= 400:
            raise resp.error()
        if not isinstance(resp.data, dict):
            raise InDoubt("Resposta da API sem os dados do CT-e.", resp.status_code, str(resp.data)[:500])
        return resp.data

    def xml(self, chave: str) -> bytes:
        """GET /v2/ctes_recebidas/CHAVE.xml."""
        return self._file(f"/v2/ctes_recebidas/{check_chave(chave)}.xml", required=True) or b""

    def xml_cancelamento(self, chave: str) -> bytes | None:
        """GET /v2/ctes_recebidas/CHAVE/cancelamento.xml; None when the CT-e is not cancelled."""
        return self._file(f"/v2/ctes_recebidas/{check_chave(chave)}/cancelamento.xml")

    def xml_carta_correcao(self, chave: str) -> bytes | None:
        """GET /v2/ctes_recebidas/CHAVE/carta_correcao.xml (the last CC-e); None when there is none."""
        return self._file(f"/v2/ctes_recebidas/{check_chave(chave)}/carta_correcao.xml")

    def dacte(self, chave: str) -> bytes:
        """GET /v2/ctes_recebidas/CHAVE.pdf, following the redirect to the stored PDF.

        The token only ever goes to the API's own address: a redirect elsewhere (the file storage)
        is fetched without credentials.
        """
        resp = self.client.request("GET", f"/v2/ctes_recebidas/{check_chave(chave)}.pdf", raw=True)
        if resp.status_code == 200:
            return bytes(resp.data)
        if resp.status_code >= 400:
            raise resp.error()
        location = resp.headers.get("Location") or ""
        if not location:
            raise InDoubt("A API redirecionou o DACTe sem informar o endereço.", resp.status_code)
        target = urlsplit(location)
        own = urlsplit(self.client.base_url)
        if not target.netloc or (target.scheme, target.netloc) == (own.scheme, own.netloc):
            path = target.path + (f"?{target.query}" if target.query else "")
            file_resp = self.client.request("GET", path, raw=True)
            if file_resp.status_code != 200:
                raise ApiError(file_resp.status_code, "download", "DACTe não disponível")
            return bytes(file_resp.data)
        if target.scheme != "https":
            raise ApiError(0, "download", "Endereço do DACTe recusado (não é HTTPS).")
        return _fetch_public(location, self.client.timeout)

    def _file(self, path: str, *, required: bool = False) -> bytes | None:
        resp = self.client.request("GET", path, raw=True)
        if resp.status_code == 200:
            return bytes(resp.data)
        if resp.status_code == 404 and not required:
            return None
        raise resp.error()


def _fetch_public(url: str, timeout: float) -> bytes:
    """GET a public file (no credentials, no further redirects), with a size cap."""
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, verify=True) as http,
            http.stream("GET", url) as r,
        ):
            if r.status_code != 200:
                raise ApiError(r.status_code, "download", "DACTe não disponível no armazenamento")
            chunks: list[bytes] = []
            size = 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise ApiError(r.status_code, "download", "DACTe grande demais")
                chunks.append(chunk)
            return b"".join(chunks)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise NotDelivered("Sem conexão com o armazenamento do DACTe.") from exc
    except httpx.HTTPError as exc:
        raise InDoubt("Falha ao baixar o DACTe.") from exc
