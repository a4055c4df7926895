"""HTTP client for the Focus NFe API v2 (httpx).

Every request has one total deadline (what the cashier is willing to wait), reads the body in
chunks so a slow trickle cannot exceed it, spends credit from the shared ``RateBudget`` and
classifies every failure as not delivered, in doubt or answered (see ``errors``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from pos_app import __version__
from pos_app.core.focus.errors import (
    ApiError,
    AuthenticationError,
    InDoubt,
    NotDelivered,
    RateLimited,
)
from pos_app.core.focus.ratelimit import Priority, RateBudget

log = logging.getLogger("pos_app.focus")

ENVIRONMENT_URLS = {
    "homologacao": "https://homologacao.focusnfe.com.br",
    "producao": "https://api.focusnfe.com.br",
}
MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass
class FocusResponse:
    status_code: int
    data: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    elapsed: float = 0.0

    def error(self) -> ApiError:
        body = self.data if isinstance(self.data, dict) else {}
        cls = AuthenticationError if self.status_code == 403 else ApiError
        return cls(
            self.status_code,
            str(body.get("codigo") or "erro"),
            str(body.get("mensagem") or "Erro sem mensagem da API"),
            body.get("erros") if isinstance(body.get("erros"), list) else None,
            self.data,
        )


class FocusClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 15.0,
        connect_timeout: float = 4.0,
        transport: httpx.BaseTransport | None = None,
        budget: RateBudget | None = None,
        verify: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.budget = budget or RateBudget()
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=httpx.BasicAuth(token, ""),
            transport=transport,
            verify=verify,  # TLS verification stays on; only tests of plain-HTTP loopback skip TLS at all
            headers={"User-Agent": f"pos-app/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        priority: Priority = Priority.LIVE,
        timeout: float | None = None,
        raw: bool = False,
    ) -> FocusResponse:
        """Send one request. Raises NotDelivered, InDoubt, RateLimited or AuthenticationError.

        Other HTTP answers come back as ``FocusResponse``: the caller reads the body.
        ``raw=True`` returns the body bytes in ``data`` (file downloads).
        """
        total = self.timeout if timeout is None else timeout
        start = time.monotonic()
        deadline = start + total
        if not self.budget.acquire(priority, max_wait=max(total - 1.0, 0.0)):
            raise RateLimited(self.budget.wait_time(priority))
        remaining = max(deadline - time.monotonic(), 0.05)
        req_timeout = httpx.Timeout(
            remaining, connect=min(self.connect_timeout, remaining), pool=min(self.connect_timeout, remaining)
        )
        content = None
        headers = {}
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        request = self._http.build_request(
            method, path, params=params, content=content, headers=headers, timeout=req_timeout
        )
        try:
            response = self._http.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol) as exc:
            log.info("%s %s não entregue: %s", method, path, type(exc).__name__)
            raise NotDelivered(_not_delivered_message(exc)) from exc
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            log.warning("%s %s sem resposta: %s", method, path, type(exc).__name__)
            raise InDoubt(
                "A API não respondeu a tempo; a requisição pode ter sido processada."
            ) from exc
        try:
            body = self._read_body(response, deadline)
        finally:
            response.close()
        elapsed = time.monotonic() - start
        self.budget.observe(response.headers, response.status_code)
        log.info("%s %s -> %s em %.0f ms", method, path, response.status_code, elapsed * 1000)
        if response.status_code == 429:
            try:
                reset = float(response.headers.get("Rate-Limit-Reset", "1"))
            except ValueError:
                reset = 1.0
            raise RateLimited(reset)
        if raw and response.status_code == 200:
            return FocusResponse(200, body, response.headers, elapsed)
        data = _parse_json(body)
        if data is _UNREADABLE:
            if response.status_code in (403, 404):
                data = {}
            else:
                raise InDoubt(
                    f"Resposta ilegível da API (HTTP {response.status_code}); a requisição pode ter sido processada.",
                    response.status_code,
                    body[:500].decode("utf-8", "replace"),
                )
        result = FocusResponse(response.status_code, data, response.headers, elapsed)
        if response.status_code == 403:
            raise result.error()
        if response.status_code >= 500:
            raise InDoubt(
                f"Erro no servidor da API (HTTP {response.status_code}); a requisição pode ter sido processada.",
                response.status_code,
                body[:500].decode("utf-8", "replace"),
            )
        return result

    def _read_body(self, response: httpx.Response, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise InDoubt("Resposta da API grande demais; descartada.", response.status_code)
                if time.monotonic() > deadline:
                    raise InDoubt("A API demorou demais para responder; a requisição pode ter sido processada.")
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise InDoubt(
                "A conexão caiu durante a resposta da API; a requisição pode ter sido processada."
            ) from exc
        return b"".join(chunks)


_UNREADABLE = object()


def _parse_json(body: bytes) -> Any:
    if not body.strip():
        return _UNREADABLE
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _UNREADABLE


def _not_delivered_message(exc: Exception) -> str:
    text = str(exc).lower()
    if "certificate" in text or "ssl" in text or "tls" in text:
        return "Falha na verificação de segurança (TLS) com a API: a conexão foi recusada por segurança."
    if "name or service" in text or "getaddrinfo" in text or "nodename" in text or "resolve" in text:
        return "Sem internet: o endereço da API não foi encontrado (DNS)."
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return "Sem resposta da API ao conectar (tempo esgotado)."
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "Endereço da API inválido na configuração."
    return "Sem conexão com a API (conexão recusada ou rede indisponível)."
