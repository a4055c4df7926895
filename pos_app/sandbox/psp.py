"""Embedded PIX PSP (API Pix 2.9.0 subset) for demo mode and tests: stdlib HTTP on loopback.

Endpoints: ``POST /oauth/token`` (client credentials, Basic auth, expiring tokens), ``PUT/GET/PATCH
/cob/{txid}``, ``PUT/GET /pix/{e2eid}/devolucao/{id}``. Errors are RFC 7807 ``Problema`` bodies.
With ``tls=`` (server cert, key and the CA that signs client certificates) it serves HTTPS and
requires a client certificate; plain HTTP is served on loopback only.

The test or trainer drives what the payer does: ``pay(txid)``, ``pay_after(txid, seconds)``,
``expire(txid)``, ``remove(txid)`` (by the PSP), ``pay(txid)`` twice for a duplicate payment.
Refunds answer ``EM_PROCESSAMENTO`` to the ``PUT`` and reach their final status (``refund_outcome``:
``DEVOLVIDO`` or ``NAO_REALIZADO``) ``refund_settle_after`` seconds later, seen by the next ``GET``;
``settle_refund`` decides one by hand.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import re
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from pos_app.core.pix.brcode import build_dynamic

log = logging.getLogger(__name__)

DEMO_CLIENT_ID = "demo-pix-client"
DEMO_CLIENT_SECRET = "demo-pix-secret"
DEMO_PSP_CNPJ = "18236120000158"  # CNPJ of a real payment institution format; valid check digits
TXID_RE = re.compile(r"[a-zA-Z0-9]{26,35}")
E2E_RE = re.compile(r"[a-zA-Z0-9]{32}")
DEV_ID_RE = re.compile(r"[a-zA-Z0-9]{1,35}")
ISPB = "18236120"


@dataclass
class TlsFiles:
    cert: str  # server certificate (PEM)
    key: str  # its private key (PEM)
    client_ca: str  # CA whose certificates are accepted from clients


@dataclass
class Cob:
    txid: str
    valor: Decimal
    chave: str
    expiracao: int
    criacao: datetime
    solicitacao: str | None = None
    status: str = "ATIVA"
    revisao: int = 0
    pix: list[dict[str, Any]] = field(default_factory=list)
    location: str = ""
    copia_e_cola: str = ""
    pay_at: float | None = None  # monotonic time of a scheduled payment
    created_mono: float = field(default_factory=time.monotonic)

    def expired(self, now: datetime) -> bool:
        return now >= self.criacao + timedelta(seconds=self.expiracao)

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "calendario": {"criacao": _iso(self.criacao), "expiracao": self.expiracao},
            "txid": self.txid,
            "revisao": self.revisao,
            "loc": {"id": abs(hash(self.txid)) % 100000, "location": self.location, "tipoCob": "cob"},
            "location": self.location,
            "status": self.status,
            "valor": {"original": f"{self.valor:.2f}", "modalidadeAlteracao": 0},
            "chave": self.chave,
            "pixCopiaECola": self.copia_e_cola,
        }
        if self.solicitacao:
            data["solicitacaoPagador"] = self.solicitacao
        if self.pix:
            data["pix"] = [dict(p) for p in self.pix]
        return data


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PspSandbox:
    """The PSP's state and the controls a test or trainer uses. ``start()`` serves it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        chave: str = "7d9f0335-8dcc-4054-9bf9-0dbd61d36906",
        token_ttl: int = 3600,
        tls: TlsFiles | None = None,
        nome: str = "LOJA DEMO",
        cidade: str = "SAO PAULO",
    ) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("o PSP de demonstração só escuta em loopback")
        self.host, self._port = host, port
        self.client_id, self.client_secret = client_id, client_secret
        self.chave, self.nome, self.cidade = chave, nome, cidade
        self.token_ttl = token_ttl
        self.tls = tls
        self.cobs: dict[str, Cob] = {}
        self.devolucoes: dict[tuple[str, str], dict[str, Any]] = {}
        self.tokens: dict[str, float] = {}  # token -> monotonic expiry
        self.requests: list[tuple[str, str]] = []  # (method, path) seen, for tests
        self.unavailable = False  # answer 503 to everything
        # Demo without a trainer (headless): every charge is paid this many seconds after its creation.
        self.auto_pay_after: float | None = None
        # Refunds: final status of the next refunds and how long they stay EM_PROCESSAMENTO.
        self.refund_outcome = "DEVOLVIDO"
        self.refund_motivo = "Devolução recusada pelo PSP do pagador"
        self.refund_settle_after = 0.0
        self._refund_plan: dict[tuple[str, str], tuple[float, str]] = {}  # -> (monotonic time, status)
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer_stop = threading.Event()

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self._port}"

    def start(self) -> PspSandbox:
        httpd = _PspHTTPServer((self.host, self._port), self)
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(self.tls.cert, self.tls.key)
            context.load_verify_locations(self.tls.client_ca)
            context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no client certificate, no answer
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
        self._port = int(httpd.server_address[1])
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"psp-sandbox-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> PspSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- controls (tests, Treinamento menu) -----------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC)

    def _tick(self) -> None:
        """Apply scheduled payments and refund settlements whose time has come."""
        now = time.monotonic()
        for key, (when, status) in list(self._refund_plan.items()):
            if now >= when:
                self.settle_refund(*key, status)
        for cob in self.cobs.values():
            if cob.pay_at is not None and now >= cob.pay_at:
                cob.pay_at = None
                self._pay(cob, None)
            elif (
                self.auto_pay_after is not None
                and cob.status == "ATIVA"
                and not cob.pix
                and now - cob.created_mono >= self.auto_pay_after
                and not cob.expired(self.now())
            ):
                self._pay(cob, None)

    def pay(self, txid: str, valor: Decimal | None = None) -> dict[str, Any]:
        """The payer pays now (a second call pays the charge twice). Returns the Pix received."""
        with self._lock:
            cob = self._cob(txid)
            return self._pay(cob, valor)

    def pay_after(self, txid: str, seconds: float) -> None:
        with self._lock:
            self._cob(txid).pay_at = time.monotonic() + seconds

    def pay_latest(self) -> str | None:
        """Pay the newest active charge (the trainer's "pay now"); returns its txid."""
        with self._lock:
            active = [c for c in self.cobs.values() if c.status == "ATIVA" and not c.expired(self.now())]
            if not active:
                return None
            cob = max(active, key=lambda c: c.criacao)
            self._pay(cob, None)
            return cob.txid

    def expire(self, txid: str) -> None:
        with self._lock:
            cob = self._cob(txid)
            cob.criacao = self.now() - timedelta(seconds=cob.expiracao + 1)
            cob.pay_at = None

    def remove(self, txid: str) -> None:
        """The PSP removes the charge (REMOVIDA_PELO_PSP)."""
        with self._lock:
            cob = self._cob(txid)
            if cob.status == "ATIVA":
                cob.status = "REMOVIDA_PELO_PSP"

    def settle_refund(self, e2e: str, dev_id: str, status: str) -> dict[str, Any]:
        """A refund still EM_PROCESSAMENTO reaches its final status (DEVOLVIDO or NAO_REALIZADO)."""
        if status not in ("DEVOLVIDO", "NAO_REALIZADO"):
            raise ValueError(f"status final de devolução inválido: {status}")
        with self._lock:
            dev = self.devolucoes[(e2e, dev_id)]
            self._refund_plan.pop((e2e, dev_id), None)
            if dev["status"] == "EM_PROCESSAMENTO":
                dev["status"] = status
                if status == "DEVOLVIDO":
                    dev["horario"]["liquidacao"] = _iso(self.now())
                else:
                    dev["motivo"] = self.refund_motivo
            return dev

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens = {t: 0.0 for t in self.tokens}

    def _cob(self, txid: str) -> Cob:
        cob = self.cobs.get(txid)
        if cob is None:
            raise KeyError(f"cobrança {txid} não existe no PSP de demonstração")
        return cob

    def _pay(self, cob: Cob, valor: Decimal | None) -> dict[str, Any]:
        # A real payer can still pay a QR already on screen after the charge was removed: the
        # payment arrives anyway (the point of the refund flow). Expired charges cannot be paid.
        if cob.expired(self.now()) and not cob.pix:
            raise ValueError("cobrança expirada: o pagador não consegue pagar")
        now = self.now()
        e2e = f"E{ISPB}{now:%Y%m%d%H%M}{secrets.token_hex(6)[:11]}"
        pix = {
            "endToEndId": e2e,
            "txid": cob.txid,
            "valor": f"{valor or cob.valor:.2f}",
            "horario": _iso(now),
            "infoPagador": "Pagamento de demonstração",
        }
        cob.pix.append(pix)
        if cob.status == "ATIVA":
            cob.status = "CONCLUIDA"
        return pix

    # -- API -----------------------------------------------------------------------------
    def handle(self, method: str, path: str, auth: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append((method, path))
            if self.unavailable:
                return _problem(503, "ServicoIndisponivel", "Serviço indisponível")
            self._tick()
            parts = [unquote(p) for p in path.strip("/").split("/")]
            if parts == ["oauth", "token"] and method == "POST":
                return self._token(auth, body)
            if not self._authorized(auth):
                return _problem(401, "AcessoNegado", "Token de acesso ausente, inválido ou expirado")
            if len(parts) == 2 and parts[0] == "cob":
                txid = parts[1]
                if not TXID_RE.fullmatch(txid):
                    return _problem(400, "CobOperacaoInvalida", "txid inválido: 26 a 35 letras ou dígitos")
                if method == "PUT":
                    return self._put_cob(txid, body)
                if method == "GET":
                    cob = self.cobs.get(txid)
                    return (
                        (200, cob.body())
                        if cob
                        else _problem(404, "CobNaoEncontrado", "Cobrança não encontrada")
                    )
                if method == "PATCH":
                    return self._patch_cob(txid, body)
            if len(parts) == 4 and parts[0] == "pix" and parts[2] == "devolucao":
                e2e, dev_id = parts[1], parts[3]
                if not E2E_RE.fullmatch(e2e) or not DEV_ID_RE.fullmatch(dev_id):
                    return _problem(400, "PixDevolucaoOperacaoInvalida", "e2eid ou id de devolução inválido")
                if method == "PUT":
                    return self._put_devolucao(e2e, dev_id, body)
                if method == "GET":
                    dev = self.devolucoes.get((e2e, dev_id))
                    return (200, dev) if dev else _problem(404, "NaoEncontrado", "Devolução não encontrada")
            return _problem(404, "NaoEncontrado", "Recurso não encontrado")

    def _token(self, auth: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
        user = password = None
        if auth and auth.lower().startswith("basic "):
            with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
                user, _, password = base64.b64decode(auth[6:].strip()).decode().partition(":")
        form = dict(p.split("=", 1) for p in body.decode(errors="replace").split("&") if "=" in p)
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if user != self.client_id or password != self.client_secret:
            return 401, {"error": "invalid_client"}
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.monotonic() + self.token_ttl
        return 200, {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
            "scope": "cob.write cob.read pix.write pix.read",
        }

    def _authorized(self, auth: str | None) -> bool:
        if not auth or not auth.lower().startswith("bearer "):
            return False
        expiry = self.tokens.get(auth[7:].strip())
        return expiry is not None and time.monotonic() < expiry

    def _put_cob(self, txid: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if txid in self.cobs:
            return _problem(400, "CobOperacaoInvalida", "txid já utilizado em outra cobrança")
        try:
            data = json.loads(body)
            valor = Decimal(str(data["valor"]["original"]))
            expiracao = int(data.get("calendario", {}).get("expiracao", 86400))
            chave = str(data["chave"])
        except (ValueError, KeyError, TypeError, InvalidOperation):
            return _problem(
                400, "CobOperacaoInvalida", "Corpo inválido: valor.original e chave são obrigatórios"
            )
        if not re.fullmatch(r"\d{1,10}\.\d{2}", str(data["valor"]["original"])) or valor <= 0:
            return _problem(
                400, "CobOperacaoInvalida", "valor.original deve ter duas casas decimais e ser positivo"
            )
        if expiracao <= 0:
            return _problem(400, "CobOperacaoInvalida", "calendario.expiracao deve ser positivo")
        if chave != self.chave:
            return _problem(400, "CobOperacaoInvalida", "A chave não pertence ao usuário recebedor")
        location = f"{self.host}:{self._port}/qr/v2/{secrets.token_hex(16)}"
        cob = Cob(
            txid, valor, chave, expiracao, self.now(), data.get("solicitacaoPagador"), location=location
        )
        cob.copia_e_cola = build_dynamic(location, self.nome, self.cidade)
        self.cobs[txid] = cob
        return 201, cob.body()

    def _patch_cob(self, txid: str, body: bytes) -> tuple[int, dict[str, Any]]:
        cob = self.cobs.get(txid)
        if cob is None:
            return _problem(404, "CobNaoEncontrado", "Cobrança não encontrada")
        try:
            data = json.loads(body)
        except ValueError:
            return _problem(400, "CobOperacaoInvalida", "Corpo inválido")
        if data.get("status") == "REMOVIDA_PELO_USUARIO_RECEBEDOR":
            if cob.status != "ATIVA":
                return _problem(400, "CobOperacaoInvalida", f"Cobrança não está ATIVA ({cob.status})")
            cob.status = "REMOVIDA_PELO_USUARIO_RECEBEDOR"
            cob.revisao += 1
            # a payment already scheduled still arrives (the late payment a manager refunds)
        return 200, cob.body()

    def _put_devolucao(self, e2e: str, dev_id: str, body: bytes) -> tuple[int, dict[str, Any]]:
        pix = next((p for c in self.cobs.values() for p in c.pix if p["endToEndId"] == e2e), None)
        if pix is None:
            return _problem(404, "PixNaoEncontrado", "Pix não encontrado")
        existing = self.devolucoes.get((e2e, dev_id))
        if existing is not None:
            return 201, existing  # idempotent: same id, same answer
        try:
            valor = Decimal(str(json.loads(body)["valor"]))
        except (ValueError, KeyError, TypeError, InvalidOperation):
            return _problem(400, "PixDevolucaoOperacaoInvalida", "valor é obrigatório")
        already = sum(
            Decimal(d["valor"])
            for (e, _), d in self.devolucoes.items()
            if e == e2e and d["status"] != "NAO_REALIZADO"
        )
        if valor <= 0 or already + valor > Decimal(pix["valor"]):
            return _problem(400, "PixDevolucaoOperacaoInvalida", "Valor da devolução maior que o disponível")
        dev = {
            "id": dev_id,
            "rtrId": f"D{ISPB}{self.now():%Y%m%d%H%M}{secrets.token_hex(6)[:11]}",
            "valor": f"{valor:.2f}",
            "horario": {"solicitacao": _iso(self.now())},
            "status": "EM_PROCESSAMENTO",
        }
        self.devolucoes[(e2e, dev_id)] = dev
        self._refund_plan[(e2e, dev_id)] = (time.monotonic() + self.refund_settle_after, self.refund_outcome)
        pix.setdefault("devolucoes", []).append(dev)
        return 201, dev


def _problem(status: int, kind: str, detail: str) -> tuple[int, dict[str, Any]]:
    return status, {
        "type": f"https://pix.bcb.gov.br/api/v2/error/{kind}",
        "title": kind,
        "status": status,
        "detail": detail,
    }


class _PspHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], psp: PspSandbox) -> None:
        self.psp = psp
        super().__init__(address, _PspHandler)

    def server_bind(self) -> None:  # no reverse DNS lookup
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("PSP sandbox: conexão com %s encerrada com erro", client_address, exc_info=True)


class _PspHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PspSandbox/1.0"
    server: _PspHTTPServer

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(5)
            self.request.do_handshake()  # in this worker thread: a bad client blocks nobody
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("psp: " + format, *args)

    def do_GET(self) -> None:
        self._handle()

    do_PUT = do_POST = do_PATCH = do_GET

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1024 * 1024)) if length else b""
        status, data = self.server.psp.handle(
            self.command, urlsplit(self.path).path, self.headers.get("Authorization"), body
        )
        raw = json.dumps(data, ensure_ascii=False).encode()
        self.send_response(status)
        ctype = "application/problem+json" if status >= 400 and "type" in data else "application/json"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)
