"""Files an API answer points to: relative paths (NFC-e) or absolute URLs (CT-e, on Focus's S3).

The seed's CT-e answers carry absolute links (``https://focusnfe.s3-sa-east-1.amazonaws.com/
arquivos_development/.../...-protCTe.xml``). The API token must never travel to another host:

- a relative path, or an absolute URL on the API's own origin -> the API client (token, rate budget);
- an absolute URL elsewhere -> a plain GET with NO credentials, https only (http only to a
  loopback host: the embedded sandbox), no redirects followed, size and time bounded.
"""

from __future__ import annotations

import httpx

from pos_app import __version__
from pos_app.core.focus.client import FocusClient
from pos_app.core.focus.errors import ApiError, InDoubt, NotDelivered
from pos_app.core.focus.ratelimit import Priority

MAX_FILE_BYTES = 20 * 1024 * 1024
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def fetch_file(
    client: FocusClient,
    location: str,
    *,
    priority: Priority = Priority.REPLAY,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> bytes:
    """The bytes of ``location`` (``caminho_xml_nota_fiscal``, ``caminho_dacte``...)."""
    text = (location or "").strip()
    try:
        target = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise ApiError(0, "requisicao_invalida", f"Endereço de arquivo inválido: {text[:100]!r}") from exc
    if not target.is_absolute_url:
        if not text.startswith("/"):
            raise ValueError("caminho inválido")
        return _via_api(client, text, priority)
    api = httpx.URL(client.base_url)
    if (target.scheme, target.host, target.port) == (api.scheme, api.host, api.port):
        path = target.raw_path.decode("ascii")
        return _via_api(client, path, priority)
    if not (target.scheme == "https" or (target.scheme == "http" and target.host in LOOPBACK_HOSTS)):
        raise ApiError(0, "requisicao_invalida", f"Endereço de arquivo recusado (use https): {text[:100]!r}")
    headers = {"User-Agent": f"pos-app/{__version__}"}
    try:
        # A fresh client: no auth, no cookies, nothing of the API session goes to this host.
        with (
            httpx.Client(
                timeout=timeout, follow_redirects=False, verify=True, headers=headers, transport=transport
            ) as http,
            http.stream("GET", target) as response,
        ):
            if response.status_code != 200:
                raise ApiError(response.status_code, "download", f"Arquivo não disponível: {text[:200]}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    raise ApiError(0, "download", "Arquivo grande demais; download interrompido.")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.ConnectError as exc:
        raise NotDelivered(f"Arquivo inacessível ({target.host}): {exc}") from exc
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        raise InDoubt(f"Download do arquivo interrompido ({target.host}): {exc}") from exc


def _via_api(client: FocusClient, path: str, priority: Priority) -> bytes:
    resp = client.request("GET", path, raw=True, priority=priority)
    if resp.status_code != 200:
        raise ApiError(resp.status_code, "download", f"Arquivo não disponível: {path}")
    return bytes(resp.data)
