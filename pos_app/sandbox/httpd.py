"""HTTP plumbing of the sandbox: routing, authentication, rate-limit headers and network faults.

Stdlib only (``http.server.ThreadingHTTPServer``). The business answers come from
:class:`pos_app.sandbox.engine.NfceSandbox`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import socket
import socketserver
import struct
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from pos_app.sandbox.docstore import DocRequest
from pos_app.sandbox.econf import route as econf_route
from pos_app.sandbox.engine import HTML_CT, ApiResponse, api_error
from pos_app.sandbox.faults import FaultMode, RequestFaults
from pos_app.sandbox.ratelimit import RateState

if TYPE_CHECKING:
    from pos_app.sandbox.server import SandboxServer

log = logging.getLogger(__name__)

MAX_BODY = 20 * 1024 * 1024
PROXY_HTML = (
    "<!DOCTYPE html><html><head><title>Acesso à Internet</title></head><body>"
    "<h1>Bem-vindo à rede Wi-Fi</h1><p>Faça login para continuar navegando.</p></body></html>"
)


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        super().__init__(address, SandboxHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can take seconds.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("erro na conexão com %s", client_address, exc_info=True)


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FocusNFeSandbox/1.0"
    sys_version = ""
    server: SandboxHTTPServer

    # -- plumbing ------------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without NODELAY, Nagle + delayed ACK
        # add ~40 ms to every answer on loopback
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.sandbox.track_connection(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.sandbox.track_connection(self.connection, False)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # never the query string: it may carry ?token=
        log.debug("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox: " + format, *args)

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate(self.server.sandbox.clock.now().timestamp(), usegmt=True)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        sandbox = self.server.sandbox
        try:
            if sandbox.unreachable:
                self._drop()
                return
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            body = self._read_body()
            if body is None:
                return
            if url.path.startswith("/v2/"):
                self._api(url.path, query, body)
            else:
                self._file(url.path, query)
        except OSError:
            self.close_connection = True
        except Exception:
            log.exception("erro inesperado no sandbox")
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._respond(api_error(500, "erro_interno", "Erro interno do servidor"), None)

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                size = -1
            if size < 0 or size > MAX_BODY:
                self.close_connection = True
                self._respond(
                    api_error(413, "requisicao_invalida", "Corpo da requisição inválido ou grande demais"),
                    None,
                )
                return None
            return self.rfile.read(size) if size else b""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                size = int(line or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024).strip():
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    self._respond(
                        api_error(413, "requisicao_invalida", "Corpo da requisição grande demais"), None
                    )
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        return b""

    def _token(self, query: dict[str, str]) -> str | None:
        header = self.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic" and value:
            try:
                user, _, _password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return user
        return query.get("token")

    # -- API -----------------------------------------------------------------------------------

    def _api(self, path: str, query: dict[str, str], body: bytes) -> None:
        sandbox = self.server.sandbox
        token = self._token(query)
        if not token or token not in sandbox.tokens:
            self._respond(
                api_error(
                    403, "permissao_negada", "Acesso negado: token de acesso inválido ou não informado"
                ),
                sandbox.limiter.peek(None),
            )
            return
        rate = sandbox.limiter.hit(token)
        if not rate.allowed:
            self._respond(self._too_many(rate), rate)
            return
        faults = sandbox.faults.take_for_request(self.command)
        short = faults.short_circuit
        if short is not None:
            self._short_circuit(short.mode, short.params, token, path, query, body, rate)
            return
        sandbox.engine.tick()
        response = self._route(token, path, query, body, faults)
        self._respond(response, rate, faults)

    @staticmethod
    def _too_many(rate: RateState) -> ApiResponse:
        return api_error(
            429,
            "limite_requisicoes_excedido",
            f"Limite de {rate.limit} requisições por minuto excedido. "
            f"Tente novamente em {rate.reset_seconds} segundos.",
        )

    def _short_circuit(
        self,
        mode: FaultMode,
        params: dict[str, Any],
        token: str,
        path: str,
        query: dict[str, str],
        body: bytes,
        rate: RateState,
    ) -> None:
        sandbox = self.server.sandbox
        if mode is FaultMode.RATE_STORM:
            exhausted = sandbox.limiter.exhausted(token)
            self._respond(self._too_many(exhausted), exhausted)
        elif mode is FaultMode.SERVER_ERROR:
            if params.get("processed"):
                sandbox.engine.tick()
                self._route(token, path, query, body, RequestFaults())
            code = int(params["code"])
            if code == 500:
                response = api_error(
                    500, "erro_interno", "Erro interno do servidor. Contate o suporte técnico."
                )
            else:
                reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[code]
                page = f"<html><head><title>{code} {reason}</title></head><body><h1>{code} {reason}</h1></body></html>"
                response = ApiResponse(code, raw=page.encode(), content_type=HTML_CT)
            self._respond(response, rate)
        else:  # HTML_200: something between the POS and the API answered instead
            self._respond(ApiResponse(200, raw=PROXY_HTML.encode("utf-8"), content_type=HTML_CT), None)

    def _route(
        self, token: str, path: str, query: dict[str, str], body: bytes, faults: RequestFaults
    ) -> ApiResponse:
        engine = self.server.sandbox.engine
        wait = self.server.sandbox.sleep_interruptibly
        parts = [unquote(p) for p in path.strip("/").split("/")]
        method = self.command
        completa = query.get("completa", "") in ("1", "true")
        extension = self.server.sandbox.backoffice.handler_for(parts[1]) if len(parts) > 1 else None
        if extension is not None and parts[0] == "v2":  # CT-e, received CT-e, RPS batches
            if faults.slow_seconds:
                wait(faults.slow_seconds)
            headers = self.headers
            return extension(
                DocRequest(
                    token,
                    method,
                    parts[2:],
                    query,
                    body,
                    headers.get("Content-Type") or "",
                    headers.get("Host") or "",
                )
            )
        if parts[:2] == ["v2", "nfe"]:  # NF-e model 55: the same routes on its own (asynchronous) engine
            engine = self.server.sandbox.nfe_engine
        elif parts[:2] != ["v2", "nfce"]:
            return api_error(404, "nao_encontrado", "Recurso não encontrado")
        rest = parts[2:]
        if method == "POST" and not rest:
            return engine.emit(
                token, query.get("ref"), query.get("forma_emissao"), completa, body, faults.slow_seconds, wait
            )
        if faults.slow_seconds:
            wait(faults.slow_seconds)
        if method == "POST" and rest == ["inutilizacao"]:
            return engine.inutilizar(token, body)
        if len(rest) == 1 and rest[0]:
            if method == "GET":
                return engine.consult(token, rest[0], completa)
            if method == "DELETE":
                return engine.cancel(token, rest[0], body)
        if method == "POST" and len(rest) == 2 and rest[1] == "email":
            return engine.email(token, rest[0], body)
        econf_answer = econf_route(engine, token, method, rest, body)
        if econf_answer is not None:
            return econf_answer
        if len(rest) in (1, 2):
            return api_error(405, "metodo_nao_permitido", f"Método {method} não permitido para este recurso")
        return api_error(404, "nao_encontrado", "Recurso não encontrado")

    # -- files ---------------------------------------------------------------------------------

    def _file(self, path: str, query: dict[str, str]) -> None:
        sandbox = self.server.sandbox
        token = self._token(query)
        rate = sandbox.limiter.hit(token) if token in sandbox.tokens and token else sandbox.limiter.peek(None)
        if self.command != "GET":
            self._respond(api_error(405, "metodo_nao_permitido", "Use GET para baixar arquivos"), rate)
            return
        del sandbox.file_requests[:-99]  # the last 100 are enough for tests and the demo
        sandbox.file_requests.append((path, bool(self.headers.get("Authorization"))))
        found = sandbox.engine.file(path)
        if found.status == 404:
            found = sandbox.nfe_engine.file(path)
        self._respond(found, rate)

    # -- output --------------------------------------------------------------------------------

    def _respond(
        self, response: ApiResponse, rate: RateState | None, faults: RequestFaults | None = None
    ) -> None:
        sandbox = self.server.sandbox
        body = response.content()
        content_type = response.content_type
        delivery = faults.delivery if faults is not None else {}
        status = response.status
        if FaultMode.IN_DOUBT in delivery:
            seconds = delivery[FaultMode.IN_DOUBT].params["seconds"]
            if seconds is None:
                self._drop()
                return
            sandbox.sleep_interruptibly(float(seconds))
            if sandbox.stopping or sandbox.unreachable:
                self._drop()
                return
        if FaultMode.HUGE_BODY in delivery and body.startswith(b"{"):
            size = int(float(delivery[FaultMode.HUGE_BODY].params["mb"]) * 1024 * 1024)
            body = b'{"preenchimento":"' + b"x" * size + b'",' + body[1:] if len(body) > 2 else body
        if FaultMode.TAMPER in delivery and body.startswith(b"{"):
            import json

            params = delivery[FaultMode.TAMPER].params
            data = json.loads(body)
            data[params["field"]] = json.loads(params["value"])
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            if params.get("http"):
                status = int(params["http"])
        if FaultMode.TRUNCATED_JSON in delivery:
            body = body[: max(1, len(body) // 2)]
        if FaultMode.WRONG_CONTENT_TYPE in delivery:
            content_type = "text/plain; charset=iso-8859-1"

        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (rate or sandbox.limiter.peek(None)).headers().items():
            self.send_header(name, value)
        for name, value in getattr(response, "headers", ()):  # DocResponse: X-Total-Count, Location...
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

        if FaultMode.RESET_MID_BODY in delivery:
            self.wfile.write(body[: len(body) // 2])
            self._reset()
            return
        if FaultMode.TRICKLE in delivery:
            rate_bps = int(delivery[FaultMode.TRICKLE].params["bytes_per_s"])
            step = max(1, rate_bps // 10)
            for start in range(0, len(body), step):
                if sandbox.stopping:
                    self._drop()
                    return
                self.wfile.write(body[start : start + step])
                sandbox.sleep_interruptibly(step / rate_bps)
            return
        self.wfile.write(body)

    def _drop(self) -> None:
        """Close the connection without answering (no status line at all)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
