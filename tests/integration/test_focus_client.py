"""The Focus client against the sandbox over loopback HTTP (no mocks of the client)."""

from __future__ import annotations

import pytest

from pos_app.core.focus.client import FocusClient
from pos_app.core.focus.errors import ApiError, AuthenticationError, NotDelivered, RateLimited
from pos_app.core.focus.nfce import NfceApi, check_ref
from pos_app.core.focus.ratelimit import Priority, RateBudget
from pos_app.sandbox import DEMO_TOKEN, SandboxServer, sample_payload


@pytest.fixture
def api(sandbox_server: SandboxServer) -> NfceApi:
    client = FocusClient(sandbox_server.url, DEMO_TOKEN, timeout=5)
    yield NfceApi(client)
    client.close()


def test_emit_consult_and_download_xml(api: NfceApi, sandbox_server: SandboxServer) -> None:
    result = api.emit("T1-00000001", sample_payload(sandbox_server.clock.now()))
    assert result.status == "autorizado"
    assert result.chave is not None and len(result.chave) == 44
    assert result.protocolo
    again = api.consult("T1-00000001")
    assert again is not None and again.chave == result.chave
    xml = api.download(result.caminho_xml or "")
    assert result.chave.encode() in xml
    assert api.consult("T1-nao-existe") is None


def test_repeated_post_of_an_authorized_ref_never_creates_a_second_note(
    api: NfceApi, sandbox_server: SandboxServer
) -> None:
    first = api.emit("T1-dup", sample_payload(sandbox_server.clock.now()))
    with pytest.raises(ApiError) as err:
        api.emit("T1-dup", sample_payload(sandbox_server.clock.now()))
    assert err.value.codigo == "nfe_autorizada"
    assert api.consult("T1-dup").numero == first.numero  # type: ignore[union-attr]


def test_wrong_token_is_an_authentication_error(sandbox_server: SandboxServer) -> None:
    client = FocusClient(sandbox_server.url, "token-errado", timeout=5)
    with pytest.raises(AuthenticationError) as err:
        NfceApi(client).consult("qualquer")
    assert err.value.status_code == 403
    client.close()


def test_connection_refused_is_not_delivered() -> None:
    client = FocusClient("http://127.0.0.1:9", DEMO_TOKEN, timeout=3)
    with pytest.raises(NotDelivered, match="conexão"):
        NfceApi(client).consult("x")
    client.close()


def test_rate_limit_headers_feed_the_budget(sandbox_server: SandboxServer) -> None:
    budget = RateBudget()
    client = FocusClient(sandbox_server.url, DEMO_TOKEN, timeout=5, budget=budget)
    NfceApi(client).consult("x")
    snap = budget.snapshot()
    assert snap["limit"] == 100
    assert snap["remaining"] is not None and snap["remaining"] < 100
    client.close()


def test_429_is_rate_limited_with_reset(sandbox_server: SandboxServer) -> None:
    sandbox_server.faults.set("rate_storm", n=1)
    client = FocusClient(sandbox_server.url, DEMO_TOKEN, timeout=5)
    with pytest.raises(RateLimited) as err:
        NfceApi(client).consult("x")
    assert err.value.reset_seconds >= 0
    # The budget now blocks background work until the reset; a live request may wait for it.
    assert client.budget.wait_time(Priority.REPLAY) > 0 or err.value.reset_seconds == 0
    client.close()


def test_ref_rules() -> None:
    assert check_ref("CX01-00000042-C") == "CX01-00000042-C"
    for bad in ["", "a b", "x/y", "ç", "a" * 61]:
        with pytest.raises(ValueError):
            check_ref(bad)


def test_tls_verification_is_on_by_default() -> None:
    client = FocusClient("https://homologacao.focusnfe.com.br", "t")
    transport = client._http._transport  # noqa: SLF001 - asserting a security property
    pool = getattr(transport, "_pool", None)
    ssl_context = getattr(pool, "_ssl_context", None)
    assert ssl_context is not None and ssl_context.verify_mode.name == "CERT_REQUIRED"
    client.close()
