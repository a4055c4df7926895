"""Rate limiting and fault injection: what a real network and a real Focus/SEFAZ can do to the POS."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from lxml import etree

from pos_app.core.fiscal.chave import parse_chave
from pos_app.sandbox import DEMO_TOKEN, FaultMode, SandboxServer, parse_fault_spec, sample_payload

EmitFn = Callable[..., httpx.Response]
NFE = "{http://www.portalfiscal.inf.br/nfe}"


def _status_when_known(client: httpx.Client, ref: str, timeout: float = 3.0) -> str:
    """Status of ``ref`` as soon as the sandbox has it (requests in other threads may lag on a busy CI)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v2/nfce/{ref}")
        if response.status_code != 404 or time.monotonic() > deadline:
            return str(response.json().get("status", response.json().get("codigo")))
        time.sleep(0.02)


def test_rate_limit_headers_429_and_window_reset() -> None:
    with (
        SandboxServer(rate_limit=3) as server,
        httpx.Client(base_url=server.url, auth=(DEMO_TOKEN, "")) as client,
    ):
        remaining = [client.get("/v2/nfce/x").headers["Rate-Limit-Remaining"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        blocked = client.get("/v2/nfce/x")
        assert blocked.status_code == 429
        assert blocked.headers["Rate-Limit-Limit"] == "3"
        assert blocked.headers["Rate-Limit-Remaining"] == "0"
        assert 0 < int(blocked.headers["Rate-Limit-Reset"]) <= 60
        assert blocked.json()["codigo"] == "limite_requisicoes_excedido"
        server.clock.advance(timedelta(seconds=61))
        again = client.get("/v2/nfce/x")
        assert again.status_code == 404
        assert again.headers["Rate-Limit-Remaining"] == "2"


def test_rate_limit_disabled_still_sends_headers() -> None:
    with (
        SandboxServer(rate_limit=None) as server,
        httpx.Client(base_url=server.url, auth=(DEMO_TOKEN, "")) as client,
    ):
        for _ in range(5):
            response = client.get("/v2/nfce/x")
        assert response.status_code == 404
        assert int(response.headers["Rate-Limit-Limit"]) >= 100_000
        assert "Rate-Limit-Reset" in response.headers and "Date" in response.headers


def test_rate_storm_answers_429_for_the_next_n_requests(
    sandbox_server: SandboxServer, sandbox_client: httpx.Client
) -> None:
    sandbox_server.faults.set("rate_storm", n=2)
    codes = [sandbox_client.get("/v2/nfce/x").status_code for _ in range(3)]
    assert codes == [429, 429, 404]
    assert not sandbox_server.faults.is_active("rate_storm")


def test_server_error_counts_and_method_filter(
    sandbox_server: SandboxServer, sandbox_client: httpx.Client, sandbox_emit: EmitFn
) -> None:
    sandbox_server.faults.set("server_error", code=503, count=1)
    first = sandbox_client.get("/v2/nfce/x")
    assert first.status_code == 503 and "text/html" in first.headers["content-type"]
    assert sandbox_client.get("/v2/nfce/x").status_code == 404

    sandbox_server.faults.set("server_error", code=500, methods=["POST"])
    assert sandbox_emit("se-1").status_code == 500
    assert sandbox_server.note("se-1") is None  # not processed
    assert sandbox_client.get("/v2/nfce/se-1").status_code == 404  # GET is not affected
    sandbox_server.faults.set("server_error", code=502, processed=True)
    assert sandbox_emit("se-2").status_code == 502
    sandbox_server.faults.clear()
    assert sandbox_client.get("/v2/nfce/se-2").json()["status"] == "autorizado"  # it went through anyway


def test_slow_answer_leaves_the_ref_processing_meanwhile(
    sandbox_server: SandboxServer, sandbox_client: httpx.Client
) -> None:
    sandbox_server.faults.set("slow", seconds=1.0, methods=["POST"])
    results: dict[str, httpx.Response] = {}
    payload = sample_payload(sandbox_server.clock.now())

    def post() -> None:
        with httpx.Client(base_url=sandbox_server.url, auth=(DEMO_TOKEN, ""), timeout=5) as other:
            results["slow"] = other.post("/v2/nfce", params={"ref": "lenta"}, json=payload)

    worker = threading.Thread(target=post)
    worker.start()
    assert _status_when_known(sandbox_client, "lenta") == "processando_autorizacao"
    sandbox_server.faults.clear("slow")
    repeat = sandbox_client.post("/v2/nfce", params={"ref": "lenta"}, json=payload)
    assert (repeat.status_code, repeat.json()["codigo"]) == (422, "em_processamento")
    worker.join(5)
    assert results["slow"].json()["status"] == "autorizado"


def test_in_doubt_drop_processes_the_note_but_never_answers(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn, sandbox_client: httpx.Client
) -> None:
    sandbox_server.faults.once("in_doubt")
    with pytest.raises(httpx.RemoteProtocolError):
        sandbox_emit("duvida-1")
    assert sandbox_client.get("/v2/nfce/duvida-1").json()["status"] == "autorizado"


def test_in_doubt_hold_makes_the_client_time_out(sandbox_server: SandboxServer) -> None:
    sandbox_server.faults.once("in_doubt", seconds=1.0)
    with httpx.Client(base_url=sandbox_server.url, auth=(DEMO_TOKEN, ""), timeout=0.3) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            impatient.post(
                "/v2/nfce", params={"ref": "duvida-2"}, json=sample_payload(sandbox_server.clock.now())
            )
        assert _status_when_known(impatient, "duvida-2") == "autorizado"


def test_unreachable_refuses_connections_and_clear_reopens_the_same_port(
    sandbox_server: SandboxServer, sandbox_client: httpx.Client
) -> None:
    assert sandbox_client.get("/v2/nfce/x").status_code == 404  # keep-alive connection in the pool
    url = sandbox_server.url
    sandbox_server.faults.set("unreachable")
    with pytest.raises(httpx.ConnectError):
        sandbox_client.get("/v2/nfce/x")
    with pytest.raises(httpx.ConnectError), httpx.Client(base_url=url) as fresh:
        fresh.get("/v2/nfce/x")
    sandbox_server.faults.clear("unreachable")
    assert sandbox_server.url == url
    assert sandbox_client.get("/v2/nfce/x").status_code == 404


def test_sefaz_down_issues_another_number_in_contingency_then_effectivates(
    sandbox_server: SandboxServer,
    sandbox_emit: EmitFn,
    sandbox_client: httpx.Client,
    xsd_schema: Callable[[str], etree.XMLSchema],
) -> None:
    sandbox_server.faults.set("sefaz_down")
    body = sandbox_emit("cont-1").json()
    assert body["status"] == "autorizado"
    assert body["contingencia_offline"] is True
    assert body["contingencia_offline_efetivada"] is False
    assert body["numero"] == "2"
    assert parse_chave(body["chave_nfe"][3:]).tp_emis == 9
    previous = body["tentativa_anterior"]
    assert previous["status"] == "processando_autorizacao" and previous["numero"] == "1"
    temporary = etree.fromstring(sandbox_client.get(body["caminho_xml_nota_fiscal"]).content)
    assert temporary.tag == f"{NFE}NFe"  # no protocol yet
    assert xsd_schema("nfe_v4.00.xsd").validate(temporary)

    cancel = sandbox_client.request(
        "DELETE", "/v2/nfce/cont-1", json={"justificativa": "Teste com a SEFAZ fora do ar"}
    )
    assert cancel.json()["status_sefaz"] == "108"
    offline = sample_payload(sandbox_server.clock.now(), numero="3", serie="600", codigo_unico="51839027")
    assert sandbox_emit("replay", offline, forma_emissao="offline").json()["status_sefaz"] == "108"

    sandbox_server.faults.clear("sefaz_down")
    assert sandbox_client.get("/v2/nfce/cont-1").json()["contingencia_offline_efetivada"] is False
    sandbox_server.clock.advance(sandbox_server.contingency_delay + timedelta(seconds=1))
    after = sandbox_client.get("/v2/nfce/cont-1").json()
    assert after["contingencia_offline_efetivada"] is True
    assert after["tentativa_anterior"]["status"] == "erro_autorizacao"
    assert after["tentativa_anterior"]["numero"] == "1"
    final = etree.fromstring(sandbox_client.get(after["caminho_xml_nota_fiscal"]).content)
    schema = xsd_schema("procNFe_v4.00.xsd")
    assert schema.validate(final), schema.error_log
    assert sandbox_emit("depois").json()["numero"] == "1"  # the unused number is reused


def test_sefaz_down_original_authorized_is_cancelled_on_effectivation(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn, sandbox_client: httpx.Client
) -> None:
    sandbox_server.faults.once("sefaz_down", original_authorized=True)
    assert sandbox_emit("cont-2").json()["contingencia_offline"] is True
    assert sandbox_emit("normal").json()["numero"] == "3"  # once: the next one is online again
    assert sandbox_server.effectivate_contingency() == 1
    previous = sandbox_client.get("/v2/nfce/cont-2").json()["tentativa_anterior"]
    assert previous["status"] == "cancelado" and previous["numero"] == "1"
    assert sandbox_client.get(previous["caminho_xml_nota_fiscal"]).status_code == 200
    assert sandbox_client.get(previous["caminho_xml_cancelamento"]).status_code == 200


def test_reset_mid_body_truncated_json_and_trickle(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn, sandbox_client: httpx.Client
) -> None:
    sandbox_emit("rede")
    sandbox_server.faults.once("reset_mid_body")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        sandbox_client.get("/v2/nfce/rede")

    sandbox_server.faults.once("truncated_json")
    truncated = sandbox_client.get("/v2/nfce/rede")
    assert truncated.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        truncated.json()

    sandbox_server.faults.once("trickle", bytes_per_s=4000)
    started = time.monotonic()
    slow = sandbox_client.get("/v2/nfce/rede")
    assert time.monotonic() - started >= 0.1
    assert slow.json()["status"] == "autorizado"


def test_html_200_wrong_content_type_and_huge_body(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn, sandbox_client: httpx.Client
) -> None:
    sandbox_server.faults.once("html_200", methods=["POST"])
    portal = sandbox_emit("portal")
    assert portal.status_code == 200 and portal.headers["content-type"].startswith("text/html")
    assert sandbox_server.note("portal") is None

    sandbox_server.faults.once("wrong_content_type")
    odd = sandbox_emit("portal")
    assert odd.headers["content-type"].startswith("text/plain")
    assert odd.json()["status"] == "autorizado"

    sandbox_server.faults.once("huge_body", mb=1)
    huge = sandbox_client.get("/v2/nfce/portal")
    assert len(huge.content) > 1024 * 1024
    assert huge.json()["status"] == "autorizado"


def test_files_are_not_affected_by_api_faults(
    sandbox_server: SandboxServer, sandbox_emit: EmitFn, sandbox_client: httpx.Client
) -> None:
    path = sandbox_emit("arquivo").json()["caminho_xml_nota_fiscal"]
    sandbox_server.faults.set("server_error", code=500)
    assert sandbox_client.get(path).status_code == 200


def test_fault_specs_and_descriptions() -> None:
    assert parse_fault_spec("slow=2") == (FaultMode.SLOW, {"seconds": "2"})
    assert parse_fault_spec("server_error=503,count=2") == (
        FaultMode.SERVER_ERROR,
        {"code": "503", "count": "2"},
    )
    assert parse_fault_spec("in_doubt") == (FaultMode.IN_DOUBT, {})
    for bad in ("nao_existe", "server_error=418", "slow=abc", "rate_storm,x"):
        with pytest.raises(ValueError):
            parse_fault_spec(bad)
    with SandboxServer() as server:
        with pytest.raises(ValueError):
            server.faults.once("unreachable")
        server.faults.set("trickle", bytes_per_s=10)
        server.faults.reject_ref("123")
        assert any("gotejando" in line for line in server.faults.describe())
        assert any("rejeita" in line for line in server.faults.describe())
