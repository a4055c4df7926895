"""HTTP client for the Focus NFe API v2 (httpx).

Every request has one total deadline (what the cashier is willing to wait): the read timeouts are
re-armed from the deadline once the connection is up, and a watchdog cuts a body that stalls past
it. The body is read in chunks with a size cap; every request spends credit from the shared
``RateBudget``; every failure is classified as not delivered, in doubt or answered (see
``errors``). TLS certificates are always verified. Every exchange is logged for support with the
bodies masked (no token, no consumer CPF/CNPJ/e-mail).
"""

from __future__ import annotations

import contextlib
import heapq
import json
import logging
import math
import socket
import threading
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
from pos_app.core.focus.ratelimit import MAX_RESET_SECONDS, Priority, RateBudget
from pos_app.core.masking import mask_body, register_secret

log = logging.getLogger("pos_app.focus")

ENVIRONMENT_URLS = {
    "homologacao": "https://homologacao.focusnfe.com.br",
    "producao": "https://api.focusnfe.com.br",
}
MAX_JSON_BYTES = 2 * 1024 * 1024  # a Focus answer is a few KB; anything this big is not one
MAX_BODY_BYTES = 16 * 1024 * 1024  # file downloads (XML, DANFE)
LOGGED_BODY_CHARS = 4000


class _MaskedBody:
    """A request/response body as the log shows it: masked only if and when a handler writes it
    (in the log writer thread), never on the sale's own path."""

    __slots__ = ("_body",)

    def __init__(self, body: bytes | str | None) -> None:
        self._body = body

    def __str__(self) -> str:
        return mask_body(self._body, LOGGED_BODY_CHARS)


class _AnswerSummary:
    """The non-personal outcome fields of a JSON answer (status, SEFAZ code and message, number)."""

    __slots__ = ("_body",)
    FIELDS = (
        "status",
        "status_sefaz",
        "mensagem_sefaz",
        "codigo",
        "mensagem",
        "serie",
        "numero",
        "contingencia_offline",
        "contingencia_offline_efetivada",
    )

    def __init__(self, body: bytes) -> None:
        self._body = body

    def __str__(self) -> str:
        try:
            data = json.loads(self._body)
        except (ValueError, RecursionError):
            return f"{len(self._body)} bytes, não JSON"
        if not isinstance(data, dict):
            return f"{len(self._body)} bytes"
        shown = {k: data[k] for k in self.FIELDS if k in data}
        return mask_body(json.dumps(shown, ensure_ascii=False), 600) + f" ({len(self._body)} bytes)"


@dataclass
class FocusResponse:
    status_code: int
    data: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    elapsed: float = 0.0

    def error(self) -> ApiError:
        body = self.data if isinstance(self.data, dict) else {}
        cls = AuthenticationError if self.status_code == 403 else ApiError
        erros = body.get("erros")
        return cls(
            self.status_code,
            _short(body.get("codigo")) or "erro",
            _short(body.get("mensagem"), 500) or f"Resposta inesperada da API (HTTP {self.status_code})",
            [e for e in erros if isinstance(e, dict)] if isinstance(erros, list) else None,
            self.data,
        )


def _short(value: Any, limit: int = 100) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value)[:limit]


class _DeadlineReaper:
    """One background thread for every watchdog: a request must not pay for starting a thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Watchdog]] = []
        self._seq = 0
        self._thread: threading.Thread | None = None

    def schedule(self, when: float, dog: _Watchdog) -> None:
        with self._cond:
            self._seq += 1
            heapq.heappush(self._heap, (when, self._seq, dog))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="focus-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                when, _, dog = self._heap[0]
                now = time.monotonic()
                if dog.cancelled:
                    heapq.heappop(self._heap)
                    continue
                if when > now:
                    self._cond.wait(when - now)
                    continue
                heapq.heappop(self._heap)
            dog.fire()


_REAPER = _DeadlineReaper()


class _Watchdog:
    """Enforces the total deadline on a response body that stalls: shuts the socket down."""

    def __init__(self) -> None:
        self.fired = False
        self.cancelled = False
        self._sock: socket.socket | None = None

    def arm(self, stream: Any, seconds: float) -> None:
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        self._sock = sock
        _REAPER.schedule(time.monotonic() + max(seconds, 0.0), self)

    def fire(self) -> None:
        if self.cancelled or self._sock is None:
            return
        self.fired = True
        # The base method: an SSLSocket's own shutdown() would unwrap it under the reader.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self._sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self.cancelled = True


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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.budget = budget or RateBudget()
        register_secret(token)
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=httpx.BasicAuth(token, ""),
            transport=transport,
            verify=True,  # always: there is deliberately no switch to turn TLS verification off
            headers={"User-Agent": f"pos-app/{__version__}", "Accept": "application/json"},
            follow_redirects=False,  # never carry the token to another address
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
        content: bytes | None = None,
        content_type: str = "application/octet-stream",
    ) -> FocusResponse:
        """Send one request. Raises NotDelivered, InDoubt, RateLimited or AuthenticationError.

        Other HTTP answers come back as ``FocusResponse``: the caller reads the body.
        ``raw=True`` returns the body bytes in ``data`` for 2xx and 3xx answers (file downloads,
        generated files, redirects: the caller reads ``Location``); errors are still parsed.
        ``content`` sends a body that is not JSON (an uploaded file) with ``content_type``.
        """
        total = self.timeout if timeout is None else timeout
        start = time.monotonic()
        deadline = start + total
        if not self.budget.acquire(priority, max_wait=max(total - 1.0, 0.0)):
            wait = self.budget.wait_time(priority)
            log.info("%s %s não enviada: limite de requisições (aguardar %.0f s)", method, path, wait)
            raise RateLimited(wait)
        headers = {}
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        elif content is not None:
            headers["Content-Type"] = content_type
        request = self._build(method, path, params, content, headers, deadline)
        shown = f"{method} {request.url.raw_path.decode('ascii', 'replace')}"
        if json_body is not None:
            # Every exchange is logged; whole (masked) bodies only at DEBUG: masking a body costs
            # about a millisecond of CPU that a live sale should not pay.
            log.info("%s enviando %d bytes", shown, len(content or b""))
            log.debug("%s corpo: %s", shown, _MaskedBody(content))
        elif content is not None:  # an uploaded file (may be a certificate): never its bytes in a log
            log.info("%s enviando arquivo: %d bytes (%s)", shown, len(content), headers.get("Content-Type"))
        watchdog = _Watchdog()
        try:
            response = self._http.send(request, stream=True)
        except (
            httpx.ConnectError,
            httpx.ConnectTimeout,
            httpx.PoolTimeout,
            httpx.UnsupportedProtocol,
        ) as exc:
            log.warning("%s não entregue (%s) em %.0f ms", shown, type(exc).__name__, _ms(start))
            raise NotDelivered(_not_delivered_message(exc)) from exc
        except httpx.TimeoutException as exc:
            log.warning("%s sem resposta (%s) em %.0f ms", shown, type(exc).__name__, _ms(start))
            raise InDoubt("A API não respondeu a tempo; a requisição pode ter sido processada.") from exc
        except httpx.TransportError as exc:
            log.warning("%s sem resposta (%s) em %.0f ms", shown, type(exc).__name__, _ms(start))
            raise InDoubt(
                "A conexão com a API caiu antes da resposta; a requisição pode ter sido processada."
            ) from exc
        try:
            _set_read_timeout(request, deadline)
            watchdog.arm(response.extensions.get("network_stream"), deadline - time.monotonic())
            body = self._read_body(response, deadline, MAX_BODY_BYTES if raw else MAX_JSON_BYTES, watchdog)
        except InDoubt as exc:
            log.warning(
                "%s -> HTTP %s, corpo perdido: %s (%.0f ms)", shown, response.status_code, exc, _ms(start)
            )
            raise
        finally:
            watchdog.cancel()
            response.close()
        elapsed = time.monotonic() - start
        self.budget.observe(response.headers, response.status_code)
        status = response.status_code
        if raw and (200 <= status < 400) and status != 204:
            log.info("%s -> %s em %.0f ms (%d bytes)", shown, status, elapsed * 1000, len(body))
            return FocusResponse(status, body, response.headers, elapsed)
        if status < 400:
            log.info("%s -> %s em %.0f ms: %s", shown, status, elapsed * 1000, _AnswerSummary(body))
            log.debug("%s -> corpo: %s", shown, _MaskedBody(body))
        else:  # an error answer is what support needs to read: whole, masked
            log.info("%s -> %s em %.0f ms: %s", shown, status, elapsed * 1000, _MaskedBody(body))
        return self._classify(response, body, elapsed)

    # -- internals --------------------------------------------------------------------------
    def _build(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        content: bytes | None,
        headers: dict[str, str],
        deadline: float,
    ) -> httpx.Request:
        remaining = max(deadline - time.monotonic(), 0.05)
        req_timeout = httpx.Timeout(
            remaining, connect=min(self.connect_timeout, remaining), pool=min(self.connect_timeout, remaining)
        )
        try:
            target = httpx.URL(path)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise ApiError(0, "requisicao_invalida", f"Endereço inválido para a API: {path[:100]!r}") from exc
        if target.is_absolute_url or target.host:
            # The token goes only to the configured API: never to an address taken from an answer.
            raise ApiError(0, "requisicao_invalida", f"Endereço fora da API recusado: {path[:100]!r}")

        def trace(event: str, info: dict[str, Any]) -> None:
            if event == "connection.connect_tcp.complete":
                # The connect took part of the budget: what is left is all the answer may take.
                _set_read_timeout(request, deadline)

        try:
            request = self._http.build_request(
                method,
                path,
                params=params,
                content=content,
                headers=headers,
                timeout=req_timeout,
                extensions={"trace": trace},
            )
        except (httpx.InvalidURL, TypeError, ValueError, UnicodeError) as exc:
            raise ApiError(
                0, "requisicao_invalida", f"Requisição inválida para a API: {path[:100]!r}"
            ) from exc
        return request

    def _read_body(self, response: httpx.Response, deadline: float, limit: int, watchdog: _Watchdog) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise InDoubt(
                        f"Resposta da API grande demais (mais de {limit // (1024 * 1024)} MB); descartada. "
                        "A requisição pode ter sido processada.",
                        response.status_code,
                    )
                if time.monotonic() > deadline:
                    raise InDoubt(_too_slow())
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            if watchdog.fired or time.monotonic() >= deadline:
                raise InDoubt(_too_slow()) from exc
            raise InDoubt(
                "A conexão caiu durante a resposta da API; a requisição pode ter sido processada."
            ) from exc
        except httpx.DecodingError as exc:
            raise InDoubt(
                "Resposta da API corrompida (compressão inválida); a requisição pode ter sido processada.",
                response.status_code,
            ) from exc
        return b"".join(chunks)

    def _classify(self, response: httpx.Response, body: bytes, elapsed: float) -> FocusResponse:
        status = response.status_code
        if status == 429:
            raise RateLimited(_reset_seconds(response.headers))
        if status >= 500:
            raise InDoubt(
                f"Erro no servidor da API (HTTP {status}); a requisição pode ter sido processada. "
                "A nota será conferida pela referência antes de qualquer reenvio.",
                status,
                body[:500].decode("utf-8", "replace"),
            )
        data = _parse_json(body, response.headers.get("Content-Type", ""))
        if data is _UNREADABLE:
            if status in (403, 404):
                data = {}
            elif _looks_like_html(body, response.headers.get("Content-Type", "")):
                raise InDoubt(
                    f"A API respondeu com uma página da web (HTTP {status}) em vez de dados: há um proxy ou "
                    "portal de acesso (Wi-Fi) no caminho? A requisição pode ter sido processada.",
                    status,
                    body[:500].decode("utf-8", "replace"),
                )
            else:
                raise InDoubt(
                    f"Resposta ilegível da API (HTTP {status}); a requisição pode ter sido processada.",
                    status,
                    body[:500].decode("utf-8", "replace"),
                )
        result = FocusResponse(status, data, response.headers, elapsed)
        if status == 403:
            raise result.error()
        return result


def _set_read_timeout(request: httpx.Request, deadline: float) -> None:
    timeouts = request.extensions.get("timeout")
    if isinstance(timeouts, dict):
        remaining = max(deadline - time.monotonic(), 0.01)
        timeouts["read"] = remaining
        timeouts["write"] = remaining


def _ms(start: float) -> float:
    return (time.monotonic() - start) * 1000


def _too_slow() -> str:
    return "A API demorou demais para responder; a requisição pode ter sido processada."


def _reset_seconds(headers: Mapping[str, str]) -> float:
    for name in ("Rate-Limit-Reset", "Retry-After"):
        try:
            value = float(headers.get(name, ""))
        except ValueError:
            continue
        if math.isfinite(value):
            return min(max(value, 0.0), MAX_RESET_SECONDS)
    return 1.0


_UNREADABLE = object()


def _parse_json(body: bytes, content_type: str) -> Any:
    if not body.strip():
        return _UNREADABLE
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        charset = content_type.lower().partition("charset=")[2].split(";")[0].strip(" \"'")
        try:
            text = body.decode(charset or "utf-8")
        except (LookupError, UnicodeDecodeError):
            return _UNREADABLE
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # ValueError: bad JSON, or an integer too long to convert
        return _UNREADABLE


def _looks_like_html(body: bytes, content_type: str) -> bool:
    head = body[:200].lstrip().lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html"))


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
