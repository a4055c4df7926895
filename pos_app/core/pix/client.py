"""API Pix client (Banco Central, v2.9.0 subset): OAuth2 client credentials over mutual TLS.

Same discipline as the Focus client: one deadline per request, TLS always verified, failures split
into *not delivered* (safe to say "PIX dinâmico indisponível"), *in doubt* (consult by txid before
anything else) and *answered* (an RFC 7807 ``Problema``). The access token is cached until shortly
before it expires and fetched again, once, when the PSP answers 401/403 in the middle of a wait.
The client certificate is a PKCS#12 file; its password comes from the OS credential store.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import secrets
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from pos_app import __version__
from pos_app.core.masking import register_secret

log = logging.getLogger("pos_app.pix")


class PixError(Exception):
    """Base of every PIX client error; ``str()`` is Portuguese for the operator."""


class PixUnavailable(PixError):
    """The request never reached the PSP (no link, refused, TLS/certificate refused)."""


class PixInDoubt(PixError):
    """Sent, but no usable answer: consult by txid before doing anything else."""


class PixApiError(PixError):
    def __init__(self, status: int, title: str, detail: str, body: Any = None) -> None:
        super().__init__(f"{detail} (HTTP {status}, {title})")
        self.status = status
        self.title = title
        self.detail = detail
        self.body = body


class PixAuthError(PixApiError):
    """The PSP refused the client credentials or the token."""


class PixConfigError(PixError):
    """The PIX settings cannot work (no certificate, wrong password, HTTP outside loopback)."""


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def client_ssl_context(p12: bytes | None, password: str | None, verify: str | None = None) -> ssl.SSLContext:
    """TLS context with the PSP client certificate loaded from PKCS#12 bytes.

    ``ssl`` only loads PEM files: the key is written re-encrypted with a one-time password to a
    private temporary file that is removed at once.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    context = ssl.create_default_context(cafile=verify) if verify else ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if p12 is None:
        return context
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(p12, (password or "").encode())
    except ValueError as exc:
        raise PixConfigError(
            "Certificado PIX (PKCS#12) ilegível ou senha errada (pix.certificado_senha)."
        ) from exc
    if key is None or cert is None:
        raise PixConfigError("O arquivo pix.certificado não contém chave privada e certificado.")
    one_time = secrets.token_urlsafe(24)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(one_time.encode()),
    )
    pem += cert.public_bytes(serialization.Encoding.PEM)
    for extra in chain or []:
        pem += extra.public_bytes(serialization.Encoding.PEM)
    fd, path = tempfile.mkstemp(prefix="pix-", suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        context.load_cert_chain(path, password=one_time)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
    return context


@dataclass
class Cobranca:
    """The parts of a ``cob`` the terminal uses."""

    txid: str
    status: str
    valor: Decimal
    copia_e_cola: str
    criacao: str
    expiracao: int
    pix: list[dict[str, Any]]
    raw: dict[str, Any]

    @classmethod
    def parse(cls, data: Any) -> Cobranca:
        if not isinstance(data, dict):
            raise PixInDoubt("Resposta do PSP ilegível (não é um objeto JSON).")
        try:
            return cls(
                txid=str(data["txid"]),
                status=str(data["status"]),
                valor=Decimal(str(data["valor"]["original"])),
                copia_e_cola=str(data.get("pixCopiaECola") or ""),
                criacao=str(data["calendario"]["criacao"]),
                expiracao=int(data["calendario"].get("expiracao", 86400)),
                pix=[p for p in data.get("pix") or [] if isinstance(p, dict)],
                raw=data,
            )
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise PixInDoubt(f"Resposta do PSP incompleta: {exc}") from exc


class PixClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        p12: bytes | None = None,
        p12_password: str | None = None,
        verify: str | None = None,
        timeout: float = 10.0,
        connect_timeout: float = 4.0,
    ) -> None:
        url = base_url.rstrip("/")
        if not url.startswith("https://") and not (url.startswith("http://") and is_loopback_url(url)):
            raise PixConfigError("pix.url deve usar https:// (http:// só é aceito para 127.0.0.1/localhost).")
        if url.startswith("https://") and p12 is None:
            raise PixConfigError(
                "Certificado do PSP não configurado: pos-app config set pix.certificado ARQUIVO.p12"
            )
        register_secret(client_secret)
        self.base_url = url
        self.client_id, self._client_secret = client_id, client_secret
        self.timeout = timeout
        transport_verify: Any = True
        if url.startswith("https://"):
            transport_verify = client_ssl_context(p12, p12_password, verify)
        self._http = httpx.Client(
            base_url=url,
            verify=transport_verify,
            follow_redirects=False,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            headers={"User-Agent": f"pos-app/{__version__}", "Accept": "application/json"},
        )
        self._token: str | None = None
        self._token_expiry = 0.0
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    # -- token --------------------------------------------------------------------------
    def token(self, *, force: bool = False) -> str:
        with self._lock:
            if not force and self._token and time.monotonic() < self._token_expiry:
                return self._token
            response = self._send(
                "POST",
                "/oauth/token",
                content=b"grant_type=client_credentials",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                auth=httpx.BasicAuth(self.client_id, self._client_secret),
            )
            if response.status_code in (400, 401, 403):
                raise PixAuthError(
                    response.status_code, "invalid_client", "O PSP recusou pix.client_id/pix.client_secret"
                )
            data = self._json(response)
            if response.status_code != 200 or not isinstance(data, dict) or not data.get("access_token"):
                raise PixInDoubt(f"O PSP não entregou um token (HTTP {response.status_code}).")
            token = str(data["access_token"])
            register_secret(token)
            ttl = float(data.get("expires_in") or 300)
            self._token = token
            self._token_expiry = time.monotonic() + max(ttl - min(30.0, ttl / 10), 1.0)
            return token

    # -- API ------------------------------------------------------------------------------
    def criar_cob(
        self, txid: str, valor: Decimal, chave: str, expiracao: int, solicitacao: str | None = None
    ) -> Cobranca:
        body: dict[str, Any] = {
            "calendario": {"expiracao": expiracao},
            "valor": {"original": f"{valor:.2f}"},
            "chave": chave,
        }
        if solicitacao:
            body["solicitacaoPagador"] = solicitacao[:140]
        cob = Cobranca.parse(self._api("PUT", f"/cob/{quote(txid)}", body, expect=(201, 200)))
        if cob.txid != txid or cob.valor != valor:
            raise PixInDoubt(f"O PSP respondeu outra cobrança (txid {cob.txid}, valor {cob.valor}).")
        return cob

    def consultar_cob(self, txid: str) -> Cobranca:
        cob = Cobranca.parse(self._api("GET", f"/cob/{quote(txid)}", None, expect=(200,)))
        if cob.txid != txid:
            raise PixInDoubt(f"O PSP respondeu outra cobrança ({cob.txid}).")
        return cob

    def remover_cob(self, txid: str) -> Cobranca:
        return Cobranca.parse(
            self._api(
                "PATCH", f"/cob/{quote(txid)}", {"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR"}, expect=(200,)
            )
        )

    def devolver(self, e2eid: str, dev_id: str, valor: Decimal) -> dict[str, Any]:
        data = self._api(
            "PUT",
            f"/pix/{quote(e2eid)}/devolucao/{quote(dev_id)}",
            {"valor": f"{valor:.2f}"},
            expect=(201, 200),
        )
        if (
            not isinstance(data, dict)
            or str(data.get("id")) != dev_id
            or Decimal(str(data.get("valor"))) != valor
        ):
            raise PixInDoubt("O PSP respondeu outra devolução; consulte antes de repetir.")
        return data

    def consultar_devolucao(self, e2eid: str, dev_id: str) -> dict[str, Any]:
        data = self._api("GET", f"/pix/{quote(e2eid)}/devolucao/{quote(dev_id)}", None, expect=(200,))
        if not isinstance(data, dict):
            raise PixInDoubt("Resposta do PSP ilegível.")
        return data

    # -- plumbing -------------------------------------------------------------------------
    def _api(self, method: str, path: str, body: Any, *, expect: tuple[int, ...]) -> Any:
        content = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        for attempt in (1, 2):
            headers["Authorization"] = f"Bearer {self.token(force=attempt == 2)}"
            response = self._send(method, path, content=content, headers=headers)
            if response.status_code in (401, 403) and attempt == 1:
                log.info(
                    "PIX %s %s: token recusado (HTTP %s); pedindo outro", method, path, response.status_code
                )
                continue
            break
        data = self._json(response)
        if response.status_code in expect:
            return data
        detail = data.get("detail") or data.get("title") if isinstance(data, dict) else None
        title = str(data.get("title") or "erro") if isinstance(data, dict) else "erro"
        cls = PixAuthError if response.status_code in (401, 403) else PixApiError
        if response.status_code >= 500:
            raise PixInDoubt(
                f"Erro no PSP (HTTP {response.status_code}); consulte a cobrança antes de repetir."
            )
        raise cls(
            response.status_code,
            title,
            str(detail or f"Resposta inesperada do PSP (HTTP {response.status_code})"),
            data,
        )

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        start = time.monotonic()
        try:
            response = self._http.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            log.warning(
                "PIX %s %s não entregue (%s) em %.0f ms",
                method,
                path,
                type(exc).__name__,
                (time.monotonic() - start) * 1000,
            )
            if (
                isinstance(exc.__context__, ssl.SSLError)
                or "SSL" in str(exc)
                or "certificate" in str(exc).lower()
            ):
                raise PixUnavailable(
                    f"O PSP recusou a conexão TLS (certificado do cliente ou do servidor): {exc}"
                ) from exc
            raise PixUnavailable("Sem conexão com o PSP do PIX.") from exc
        except httpx.TimeoutException as exc:
            raise PixInDoubt("O PSP não respondeu a tempo; a operação pode ter sido feita.") from exc
        except httpx.TransportError as exc:
            if isinstance(exc.__context__, ssl.SSLError) or "SSL" in str(exc) or "alert" in str(exc).lower():
                raise PixUnavailable(f"O PSP recusou a conexão TLS (certificado do cliente): {exc}") from exc
            raise PixInDoubt(f"A conexão com o PSP caiu antes da resposta: {exc}") from exc
        log.info(
            "PIX %s %s -> %s em %.0f ms",
            method,
            path,
            response.status_code,
            (time.monotonic() - start) * 1000,
        )
        return response

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        if len(response.content) > 1024 * 1024:
            raise PixInDoubt("Resposta do PSP grande demais.")
        try:
            return json.loads(response.content or b"{}")
        except ValueError as exc:
            if response.status_code >= 500:
                return {}
            raise PixInDoubt(f"Resposta do PSP não é JSON (HTTP {response.status_code}).") from exc
