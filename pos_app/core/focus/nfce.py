"""NFC-e endpoints of the Focus API (``/v2/nfce``), read by the JSON body whatever the HTTP code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pos_app.core.fiscal.document_status import FocusStatus
from pos_app.core.focus.client import FocusClient, FocusResponse
from pos_app.core.focus.errors import ApiError, InDoubt
from pos_app.core.focus.ratelimit import Priority

REF_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,60}$")
MAX_EMAILS = 10


def check_ref(ref: str) -> str:
    if not REF_PATTERN.match(ref):
        raise ValueError(f"Referência inválida: {ref!r} (use letras, dígitos, '_' e '-')")
    return ref


@dataclass
class NfceResult:
    """What the API says about one ref."""

    http_status: int
    status: str
    status_sefaz: str | None = None
    mensagem_sefaz: str | None = None
    chave: str | None = None
    numero: int | None = None
    serie: int | None = None
    caminho_xml: str | None = None
    caminho_danfe: str | None = None
    caminho_xml_cancelamento: str | None = None
    qrcode_url: str | None = None
    url_consulta: str | None = None
    contingencia_offline: bool = False
    contingencia_offline_efetivada: bool = False
    tentativa_anterior: dict[str, Any] | None = None
    protocolo: str | None = None
    data_autorizacao: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def authorized(self) -> bool:
        return self.status == FocusStatus.AUTORIZADO

    @classmethod
    def from_response(cls, resp: FocusResponse) -> NfceResult:
        data = resp.data if isinstance(resp.data, dict) else {}
        if not str(data.get("status") or "").strip():  # absent, null or empty: the same non-answer
            if resp.status_code < 400:
                # A success code without the note's situation is no answer at all: never read it as
                # a refusal (the note may be authorized); consult the ref later.
                raise InDoubt(
                    f"Resposta da API sem a situação da nota (HTTP {resp.status_code}); "
                    "a requisição pode ter sido processada.",
                    resp.status_code,
                    str(resp.data)[:500],
                )
            raise resp.error()
        chave = str(data.get("chave_nfe") or "") or None
        if chave and chave.startswith("NFe"):
            chave = chave[3:]
        protocolo = data.get("protocolo")
        data_aut = data.get("data_autorizacao")
        prot = data.get("protocolo_nota_fiscal")
        if isinstance(prot, dict):
            protocolo = protocolo or prot.get("numero_protocolo")
            data_aut = data_aut or prot.get("data_recebimento")
        return cls(
            http_status=resp.status_code,
            status=str(data["status"]),
            status_sefaz=_str(data.get("status_sefaz")),
            mensagem_sefaz=_str(data.get("mensagem_sefaz")),
            chave=chave,
            numero=_int(data.get("numero")),
            serie=_int(data.get("serie")),
            caminho_xml=_str(data.get("caminho_xml_nota_fiscal")),
            caminho_danfe=_str(data.get("caminho_danfe")),
            caminho_xml_cancelamento=_str(data.get("caminho_xml_cancelamento")),
            qrcode_url=_str(data.get("qrcode_url")),
            url_consulta=_str(data.get("url_consulta_nf")),
            contingencia_offline=bool(data.get("contingencia_offline")),
            contingencia_offline_efetivada=bool(data.get("contingencia_offline_efetivada")),
            tentativa_anterior=data.get("tentativa_anterior")
            if isinstance(data.get("tentativa_anterior"), dict)
            else None,
            protocolo=_str(protocolo),
            data_autorizacao=_str(data_aut),
            raw=data,
        )


def _str(v: Any) -> str | None:
    return None if v is None or v == "" else str(v)


def _int(v: Any) -> int | None:
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


class NfceApi:
    """One family of notes of the Focus API; ``NfeApi`` (model 55) is the same machinery on ``/v2/nfe``."""

    PATH = "/v2/nfce"
    MODELO = 65

    def __init__(self, client: FocusClient) -> None:
        self.client = client

    def emit(
        self,
        ref: str,
        payload: dict[str, Any],
        *,
        completa: bool = True,
        offline: bool = False,
        priority: Priority = Priority.LIVE,
        timeout: float | None = None,
    ) -> NfceResult:
        """POST /v2/nfce. ``offline=True`` replays a note issued in manual contingency."""
        params: dict[str, Any] = {"ref": check_ref(ref)}
        if completa:
            params["completa"] = 1
        if offline:
            params["forma_emissao"] = "offline"
        resp = self.client.request(
            "POST", self.PATH, params=params, json_body=payload, priority=priority, timeout=timeout
        )
        return NfceResult.from_response(resp)

    def consult(
        self,
        ref: str,
        *,
        completa: bool = True,
        priority: Priority = Priority.REPLAY,
        timeout: float | None = None,
    ) -> NfceResult | None:
        """GET /v2/nfce/REF; None when the API does not know the ref."""
        resp = self.client.request(
            "GET",
            f"{self.PATH}/{check_ref(ref)}",
            params={"completa": int(completa)},
            priority=priority,
            timeout=timeout,
        )
        if resp.status_code == 404:
            return None
        return NfceResult.from_response(resp)

    def cancel(self, ref: str, justificativa: str, *, priority: Priority = Priority.LIVE) -> NfceResult:
        resp = self.client.request(
            "DELETE",
            f"{self.PATH}/{check_ref(ref)}",
            json_body={"justificativa": justificativa},
            priority=priority,
        )
        return NfceResult.from_response(resp)

    def email(self, ref: str, emails: list[str]) -> dict[str, Any]:
        if not 1 <= len(emails) <= MAX_EMAILS:
            raise ValueError(f"Informe de 1 a {MAX_EMAILS} endereços de e-mail.")
        resp = self.client.request(
            "POST", f"{self.PATH}/{check_ref(ref)}/email", json_body={"emails": emails}
        )
        if resp.status_code >= 400:
            raise resp.error()
        return resp.data if isinstance(resp.data, dict) else {}

    def inutilizar(self, cnpj: str, serie: int, inicio: int, fim: int, justificativa: str) -> dict[str, Any]:
        resp = self.client.request(
            "POST",
            f"{self.PATH}/inutilizacao",
            json_body={
                "cnpj": cnpj,
                "serie": str(serie),
                "numero_inicial": str(inicio),
                "numero_final": str(fim),
                "justificativa": justificativa,
            },
        )
        data = resp.data if isinstance(resp.data, dict) else {}
        if "status" not in data:
            if resp.status_code < 400:
                # A success code without the note's situation is no answer at all: never read it as
                # a refusal (the note may be authorized); consult the ref later.
                raise InDoubt(
                    f"Resposta da API sem a situação da nota (HTTP {resp.status_code}); "
                    "a requisição pode ter sido processada.",
                    resp.status_code,
                    str(resp.data)[:500],
                )
            raise resp.error()
        return data

    def download(self, path: str, *, priority: Priority = Priority.REPLAY) -> bytes:
        """Download a file the API pointed to (``caminho_xml_nota_fiscal``, ``caminho_danfe``)."""
        if not path.startswith("/"):
            raise ValueError("caminho inválido")
        resp = self.client.request("GET", path, raw=True, priority=priority)
        if resp.status_code != 200:
            raise ApiError(resp.status_code, "download", f"Arquivo não disponível: {path}")
        return bytes(resp.data)
