"""ECONF (Conciliação Financeira) on the Focus API, for NFC-e (``/v2/nfce``) and NF-e (``/v2/nfe``).

``POST /v2/<familia>/REF/econf`` (body ``detalhes_pagamento``, 1..100 items) registers the event;
``GET .../econf/PROTOCOLO`` consults it; ``DELETE .../econf/PROTOCOLO`` cancels it (oldest first, else
SEFAZ 460). Source: ``focus-docs-2026/nfce.md`` and ``nfe.md``, "Conciliação Financeira – ECONF".

Every answer is checked against what was sent before the caller stores it (:func:`econf_problems`):
a known ``status`` string; registered (``autorizado``) only with ``status_sefaz`` 135/136, a protocol
number (the one asked, on a consult) and ``numero_conciliacao_financeira`` (or the cancellation's
number) as a positive integer; the XML path, when present, carries the note's access key; a
rejection carries its SEFAZ code (not 135) and message. An answer that fails these checks raises
:class:`EconfAnswerMismatch` (an :class:`InDoubt`: the caller never records it as a fact).
A consult/cancel of a protocol the note does not have is ``422 object_not_found`` ->
:class:`EconfNotFound`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pos_app.core.focus.client import FocusClient, FocusResponse
from pos_app.core.focus.errors import ApiError, InDoubt
from pos_app.core.focus.nfce import check_ref
from pos_app.core.focus.ratelimit import Priority

MAX_DETALHES = 100
REGISTERED_SEFAZ = frozenset({"135", "136"})
KNOWN_STATUSES = frozenset({"autorizado", "cancelado", "erro_autorizacao"})
PROTOCOL_PATTERN = re.compile(r"^[0-9]{15}$")

ENVIO = "envio"
CONSULTA = "consulta"
CANCELAMENTO = "cancelamento"


class EconfNotFound(ApiError):
    """422 ``object_not_found``: the note has no ECONF with this protocol."""

    kind = "nao_encontrado"


class EconfAnswerMismatch(InDoubt):
    """The API answered something that does not match the request: never stored as a fact."""


@dataclass
class EconfResult:
    kind: str  # envio | consulta | cancelamento
    http_status: int
    status: str
    status_sefaz: str | None = None
    mensagem_sefaz: str | None = None
    numero_protocolo: str | None = None
    numero: int | None = None  # numero_conciliacao_financeira (or of the cancellation)
    caminho_xml: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def registered(self) -> bool:
        """SEFAZ registered the event (or, for a cancel, the cancellation)."""
        return self.status == "autorizado" and self.status_sefaz in REGISTERED_SEFAZ

    @property
    def cancelled(self) -> bool:
        """A consult says the event was cancelled."""
        return self.status == "cancelado"

    @property
    def rejected(self) -> bool:
        return self.status == "erro_autorizacao"

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "status_sefaz": self.status_sefaz,
            "mensagem_sefaz": self.mensagem_sefaz,
            "numero_protocolo": self.numero_protocolo,
            "numero": self.numero,
            "caminho_xml": self.caminho_xml,
        }


def _str(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, dict | list | bool):
        return None
    return str(value)


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        n = int(str(value))
    except (TypeError, ValueError):
        return None
    return n if n >= 1 else None


def parse_answer(kind: str, resp: FocusResponse) -> EconfResult:
    data = resp.data if isinstance(resp.data, dict) else {}
    if data.get("codigo") == "object_not_found" and kind != ENVIO:
        err = resp.error()
        raise EconfNotFound(err.status_code, err.codigo, err.mensagem, err.erros, err.body)
    if not _str(data.get("status")):
        if resp.status_code < 400:
            raise InDoubt(
                f"Resposta da API sem a situação do evento de conciliação financeira (HTTP {resp.status_code}).",
                resp.status_code,
                str(resp.data)[:500],
            )
        raise resp.error()
    if kind == CANCELAMENTO:
        numero = data.get("numero_cancelamento_conciliacao_financeira")
        caminho = data.get("caminho_xml_cancelamento_conciliacao_financeira")
    else:
        numero = data.get("numero_conciliacao_financeira")
        caminho = data.get("caminho_xml_conciliacao_financeira")
    return EconfResult(
        kind=kind,
        http_status=resp.status_code,
        status=str(data.get("status")),
        status_sefaz=_str(data.get("status_sefaz")),
        mensagem_sefaz=_str(data.get("mensagem_sefaz")),
        numero_protocolo=_str(data.get("numero_protocolo")),
        numero=_positive_int(numero),
        caminho_xml=_str(caminho),
        raw=data,
    )


def econf_problems(
    result: EconfResult, *, chave: str | None = None, protocolo: str | None = None
) -> list[str]:
    """What does not match between an ECONF answer and the request (empty: trustworthy)."""
    raw = result.raw
    status = raw.get("status")
    if not isinstance(status, str) or status not in KNOWN_STATUSES:
        return [f"situação do evento desconhecida ({status!r})"]
    problems: list[str] = []
    sefaz = result.status_sefaz
    if sefaz is None or not sefaz.isdigit():
        problems.append(f"código da SEFAZ ausente ou inválido ({raw.get('status_sefaz')!r})")
    if status == "erro_autorizacao":
        if sefaz in REGISTERED_SEFAZ:
            problems.append(f"rejeição com o código de sucesso {sefaz}")
        if not result.mensagem_sefaz:
            problems.append("rejeição sem a mensagem da SEFAZ")
        return problems
    if status == "autorizado" and sefaz not in REGISTERED_SEFAZ:
        problems.append(f"evento registrado com o código {sefaz} (esperado 135)")
    if result.kind in (ENVIO, CONSULTA):
        if not result.numero_protocolo or not PROTOCOL_PATTERN.match(result.numero_protocolo):
            problems.append(f"número de protocolo ausente ou inválido ({raw.get('numero_protocolo')!r})")
        if protocolo and result.numero_protocolo and result.numero_protocolo != protocolo:
            problems.append(f"protocolo {result.numero_protocolo} difere do consultado {protocolo}")
        if result.numero is None:
            problems.append(
                "numero_conciliacao_financeira ausente ou inválido "
                f"({raw.get('numero_conciliacao_financeira')!r})"
            )
    elif status == "autorizado" and result.numero is None:
        problems.append(
            "numero_cancelamento_conciliacao_financeira ausente ou inválido "
            f"({raw.get('numero_cancelamento_conciliacao_financeira')!r})"
        )
    if chave and result.caminho_xml and chave not in result.caminho_xml:
        problems.append(f"o XML do evento ({result.caminho_xml}) não é da nota {chave}")
    return problems


def check(result: EconfResult, *, chave: str | None = None, protocolo: str | None = None) -> EconfResult:
    problems = econf_problems(result, chave=chave, protocolo=protocolo)
    if problems:
        raise EconfAnswerMismatch(
            "Resposta da API ao evento de conciliação financeira não confere: " + "; ".join(problems),
            result.http_status,
            str(result.raw)[:500],
        )
    return result


def check_detalhes(detalhes: list[dict[str, Any]]) -> None:
    if not isinstance(detalhes, list) or not 1 <= len(detalhes) <= MAX_DETALHES:
        raise ValueError(f"Informe de 1 a {MAX_DETALHES} detalhes de pagamento.")


def check_protocol(protocolo: str) -> str:
    if not PROTOCOL_PATTERN.match(protocolo or ""):
        raise ValueError(f"Número de protocolo inválido: {protocolo!r} (15 dígitos)")
    return protocolo


class EconfApi:
    """The three ECONF endpoints of one family of notes (``/v2/nfce`` or ``/v2/nfe``)."""

    def __init__(self, client: FocusClient, path: str = "/v2/nfce") -> None:
        if path not in ("/v2/nfce", "/v2/nfe"):
            raise ValueError(path)
        self.client = client
        self.path = path

    @classmethod
    def for_modelo(cls, client: FocusClient, modelo: int | None) -> EconfApi:
        return cls(client, "/v2/nfe" if modelo == 55 else "/v2/nfce")

    def send(
        self,
        ref: str,
        detalhes: list[dict[str, Any]],
        *,
        chave: str | None = None,
        priority: Priority = Priority.REPLAY,
        timeout: float | None = None,
    ) -> EconfResult:
        """POST .../REF/econf; the checked answer (registered or rejected)."""
        check_detalhes(detalhes)
        resp = self.client.request(
            "POST",
            f"{self.path}/{check_ref(ref)}/econf",
            json_body={"detalhes_pagamento": detalhes},
            priority=priority,
            timeout=timeout,
        )
        return check(parse_answer(ENVIO, resp), chave=chave)

    def consult(
        self,
        ref: str,
        protocolo: str,
        *,
        chave: str | None = None,
        priority: Priority = Priority.REPLAY,
        timeout: float | None = None,
    ) -> EconfResult:
        resp = self.client.request(
            "GET",
            f"{self.path}/{check_ref(ref)}/econf/{check_protocol(protocolo)}",
            priority=priority,
            timeout=timeout,
        )
        return check(parse_answer(CONSULTA, resp), chave=chave, protocolo=protocolo)

    def cancel(
        self,
        ref: str,
        protocolo: str,
        *,
        chave: str | None = None,
        priority: Priority = Priority.REPLAY,
        timeout: float | None = None,
    ) -> EconfResult:
        resp = self.client.request(
            "DELETE",
            f"{self.path}/{check_ref(ref)}/econf/{check_protocol(protocolo)}",
            priority=priority,
            timeout=timeout,
        )
        return check(parse_answer(CANCELAMENTO, resp), chave=chave)
