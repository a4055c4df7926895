"""CT-e / CT-e OS through ``pos_app.core.focus.cte`` against the sandbox over loopback HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from lxml import etree

from pos_app.core.fiscal.chave import parse_chave
from pos_app.core.focus.client import FocusClient
from pos_app.core.focus.cte import CteApi
from pos_app.core.focus.errors import ApiError
from pos_app.sandbox import DEMO_COMPANY, DEMO_TOKEN, SandboxServer
from pos_app.sandbox.backoffice_samples import sample_cte as _sample_cte
from pos_app.sandbox.backoffice_samples import sample_cte_os as _sample_cte_os

CNPJ = DEMO_COMPANY.cnpj


_numbers = itertools.count(1000)


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxServer]:
    """One sandbox for the module (refs and numbers are unique per test); state knobs reset below."""
    with SandboxServer(rate_limit=None) as server:
        yield server


@pytest.fixture(autouse=True)
def _reset(sandbox_server: SandboxServer) -> Iterator[None]:
    yield
    sandbox_server.faults.clear()
    sandbox_server.clock.set_offset(timedelta(0))
    sandbox_server.backoffice.cte.polls_to_finish = 2


@pytest.fixture(scope="module")
def client(sandbox_server: SandboxServer) -> Iterator[FocusClient]:
    c = FocusClient(sandbox_server.url, DEMO_TOKEN, timeout=10)
    yield c
    c.close()


@pytest.fixture
def api(client: FocusClient) -> CteApi:
    return CteApi(client)


def sample_cte(when: Any, **extra: Any) -> dict[str, Any]:
    extra.setdefault("numero", next(_numbers))
    return _sample_cte(when, **extra)


def sample_cte_os(when: Any, **extra: Any) -> dict[str, Any]:
    extra.setdefault("numero", next(_numbers))
    return _sample_cte_os(when, **extra)


def _authorized(api: CteApi, server: SandboxServer, ref: str, **extra: Any) -> Any:
    api.emit(ref, sample_cte(server.clock.now(), **extra))
    return api.wait_authorization(ref, sleep=lambda _s: None)


def test_async_emission_is_processing_until_polled(api: CteApi, sandbox_server: SandboxServer) -> None:
    accepted = api.emit("cte-1", sample_cte(sandbox_server.clock.now()))
    assert accepted.http_status == 201 and accepted.status == "processando_autorizacao"
    assert accepted.ref == "cte-1" and accepted.cnpj_emitente == CNPJ
    polls: list[str] = []
    sleeps: list[float] = []
    result = api.wait_authorization("cte-1", sleep=sleeps.append, on_poll=lambda r: polls.append(r.status))
    assert polls == ["processando_autorizacao", "autorizado"] and sleeps == [0.2]
    assert result.authorized and result.status_sefaz == "100" and result.modelo == 57
    assert result.chave is not None and parse_chave(result.chave).modelo == 57
    assert result.numero is not None and result.numero >= 1000 and result.serie == 1
    xml = api.download(result.caminho_xml or "")
    root = etree.fromstring(xml)
    assert root.tag.endswith("cteProc") and result.chave.encode() in xml
    assert api.download(result.caminho_dacte or "").startswith(b"%PDF")


def test_emission_completes_after_the_delay_on_the_sandbox_clock(
    api: CteApi, sandbox_server: SandboxServer
) -> None:
    api.emit("cte-clock", sample_cte(sandbox_server.clock.now()))
    sandbox_server.clock.advance(timedelta(seconds=4))
    result = api.consult("cte-clock")
    assert result is not None and result.authorized


def test_bounded_wait_returns_the_processing_answer(api: CteApi, sandbox_server: SandboxServer) -> None:
    sandbox_server.backoffice.cte.polls_to_finish = 1000
    api.emit("cte-slow", sample_cte(sandbox_server.clock.now()))
    ticks = iter([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5])
    result = api.wait_authorization(
        "cte-slow", max_wait=1.2, sleep=lambda _s: None, monotonic=lambda: next(ticks)
    )
    assert result.processing


def test_consult_completa_brings_request_protocol_and_cce(api: CteApi, sandbox_server: SandboxServer) -> None:
    _authorized(api, sandbox_server, "cte-full")
    api.carta_correcao("cte-full", "observacoes", "Nova observação")
    full = api.consult("cte-full", completa=True)
    assert full is not None
    for key in ("requisicao", "protocolo", "requisicao_carta_correcao", "protocolo_carta_correcao"):
        assert key in full.raw, key
    assert full.raw["protocolo"]["status"] == "100"
    assert full.raw["protocolo_carta_correcao"]["tipo_evento"] == "110110"
    short = api.consult("cte-full")
    assert short is not None and "requisicao" not in short.raw
    assert api.consult("nao-existe") is None


def test_cte_os_is_synchronous(api: CteApi, sandbox_server: SandboxServer) -> None:
    result = api.emit_os("os-1", sample_cte_os(sandbox_server.clock.now()))
    assert result.http_status == 201 and result.authorized and result.modelo == 67
    assert result.chave is not None and parse_chave(result.chave).modelo == 67
    assert etree.fromstring(api.download(result.caminho_xml or "")).tag.endswith("cteOSProc")
    again = api.consult("os-1")
    assert again is not None and again.chave == result.chave


def test_ref_conflicts_are_409(api: CteApi, sandbox_server: SandboxServer) -> None:
    api.emit("cte-dup", sample_cte(sandbox_server.clock.now()))
    with pytest.raises(ApiError) as err:
        api.emit("cte-dup", sample_cte(sandbox_server.clock.now(), numero=2))
    assert (err.value.status_code, err.value.codigo) == (409, "cte_em_processamento")
    api.wait_authorization("cte-dup", sleep=lambda _s: None)
    with pytest.raises(ApiError) as err:
        api.emit("cte-dup", sample_cte(sandbox_server.clock.now(), numero=2))
    assert (err.value.status_code, err.value.codigo) == (409, "cte_ja_autorizado")
    with pytest.raises(ApiError) as err:  # CT-e and CT-e OS share the ref space
        api.emit_os("cte-dup", sample_cte_os(sandbox_server.clock.now()))
    assert err.value.codigo == "cte_ja_autorizado"


def test_sefaz_rejection_lets_the_same_ref_be_resent(api: CteApi, sandbox_server: SandboxServer) -> None:
    api.emit("cte-cfop", sample_cte(sandbox_server.clock.now(), cfop="5102"))
    rejected = api.wait_authorization("cte-cfop", sleep=lambda _s: None)
    assert rejected.status == "erro_autorizacao" and rejected.status_sefaz == "536"
    assert rejected.chave is None
    api.emit("cte-cfop", sample_cte(sandbox_server.clock.now()))
    assert api.wait_authorization("cte-cfop", sleep=lambda _s: None).authorized


def test_reject_ref_fault_and_denial(api: CteApi, sandbox_server: SandboxServer) -> None:
    sandbox_server.faults.reject_ref(
        "cte-den", status_sefaz="301", mensagem_sefaz="Uso Denegado: Irregularidade fiscal do emitente"
    )
    api.emit("cte-den", sample_cte(sandbox_server.clock.now()))
    result = api.wait_authorization("cte-den", sleep=lambda _s: None)
    assert result.status == "denegado" and result.chave is not None and result.status_sefaz == "301"


def test_duplicate_number_is_rejected(api: CteApi, sandbox_server: SandboxServer) -> None:
    _authorized(api, sandbox_server, "cte-n1", numero=7)
    api.emit("cte-n2", sample_cte(sandbox_server.clock.now(), numero=7))
    assert api.wait_authorization("cte-n2", sleep=lambda _s: None).status_sefaz == "539"


@pytest.mark.parametrize(
    ("change", "status", "codigo", "mensagem"),
    [
        ({"numero": None}, 400, "campos_invalidos", "O parâmetro 'numero' não foi informado"),
        ({"serie": None}, 400, "campos_invalidos", "O parâmetro 'serie' não foi informado"),
        ({"cfop": None}, 400, "campos_invalidos", "O parâmetro 'cfop' não foi informado"),
        ({"tomador": ["0"]}, 400, "campos_invalidos", "O Campo 'tomador' não é válido"),
        (
            {"cnpj_remetente": "11111111111111"},
            400,
            "campos_invalidos",
            "O Campo 'cnpj_remetente' não é válido",
        ),
        (
            {"modelo": "67"},
            400,
            "modelo_invalido",
            "Para esta URL só é permitida a emissão de CT-e modelo 57",
        ),
        ({"modal_rodoviario": None}, 400, "campos_invalidos_modal", "modal_rodoviario"),
        ({"modal_aereo": {"numero_minuta": "1"}}, 400, "campos_invalidos_modal", "Informe apenas um modal"),
        ({"modal_rodoviario": "x"}, 400, "campos_invalidos_modal", "não é válido"),
        ({"forma_emissao": "3"}, 400, "forma_emissao_invalida", "A forma de emissão utilizada é inválida"),
        (
            {"cnpj_emitente": "11222333000181"},
            400,
            "empresa_nao_habilitada",
            "não habilitada para emissão de CT-e",
        ),
        ({"cfop": "53X3"}, 422, "erro_validacao_schema", "Erro na validação do Schema XML"),
        ({"uf_fim": "XX", "valor_total": "1.234"}, 422, "erro_validacao_schema", "Schema XML"),
    ],
)
def test_validation_errors(
    api: CteApi,
    sandbox_server: SandboxServer,
    change: dict[str, Any],
    status: int,
    codigo: str,
    mensagem: str,
) -> None:
    payload = sample_cte(sandbox_server.clock.now())
    for key, value in change.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    with pytest.raises(ApiError) as err:
        api.emit("cte-bad", payload)
    assert (err.value.status_code, err.value.codigo) == (status, codigo)
    assert mensagem in err.value.mensagem
    if status == 422:
        assert err.value.erros and all("campo" in e for e in err.value.erros)
    assert api.consult("cte-bad") is None


def test_cte_os_validation(api: CteApi, sandbox_server: SandboxServer) -> None:
    now = sandbox_server.clock.now()
    with pytest.raises(ApiError) as err:
        api.emit_os("os-bad", sample_cte_os(now, modelo=57))
    assert err.value.codigo == "modelo_invalido" and "modelo 67" in err.value.mensagem
    payload = sample_cte_os(now)
    del payload["modal_rodoviario"]
    with pytest.raises(ApiError) as err:
        api.emit_os("os-bad", payload)
    assert err.value.codigo == "campos_invalidos_modal"
    aereo = sample_cte_os(now, modal="02")
    del aereo["modal_rodoviario"]  # only the road modal needs extra data in a CT-e OS
    assert api.emit_os("os-aereo", aereo).authorized


def test_missing_ref_and_unknown_company_inutilizacao(client: FocusClient) -> None:
    resp = client.request("POST", "/v2/cte", json_body={"cnpj_emitente": CNPJ})
    assert resp.status_code == 400 and resp.data["codigo"] == "requisicao_invalida"
    resp = client.request("POST", "/v2/cte_os", params={"ref": "x"}, json_body=[1])
    assert resp.status_code == 400 and resp.data["codigo"] == "requisicao_invalida"


def test_cancel(api: CteApi, client: FocusClient, sandbox_server: SandboxServer) -> None:
    _authorized(api, sandbox_server, "cte-can")
    with pytest.raises(ValueError, match="entre 15 e 255"):
        api.cancel("cte-can", "curta")  # refused before sending
    resp = client.request("DELETE", "/v2/cte/cte-can", json_body={"justificativa": "curta"})
    assert resp.status_code == 400 and "entre 15 e 255" in resp.data["mensagem"]
    result = api.cancel("cte-can", "Teste de cancelamento de nota")
    assert result.status == "cancelado" and result.status_sefaz == "135" and result.caminho_xml
    assert etree.fromstring(api.download(result.caminho_xml)).tag.endswith("procEventoCTe")
    after = api.consult("cte-can")
    assert (
        after is not None
        and after.status == "cancelado"
        and after.caminho_xml_cancelamento == result.caminho_xml
    )
    with pytest.raises(ApiError) as err:
        api.cancel("cte-can", "Teste de cancelamento de nota")
    assert (err.value.status_code, err.value.codigo) == (400, "nao_autorizado")
    with pytest.raises(ApiError) as err:
        api.cancel("nao-existe", "Teste de cancelamento de nota")
    assert (err.value.status_code, err.value.codigo) == (404, "nao_encontrado")


def test_cancel_after_seven_days_is_refused_by_sefaz(api: CteApi, sandbox_server: SandboxServer) -> None:
    _authorized(api, sandbox_server, "cte-old")
    sandbox_server.clock.advance(timedelta(days=8))
    result = api.cancel("cte-old", "Teste de cancelamento fora do prazo")
    assert result.status == "erro_cancelamento" and result.status_sefaz == "220"
    assert not result.accepted


def test_carta_correcao_last_prevails_up_to_20(api: CteApi, sandbox_server: SandboxServer) -> None:
    _authorized(api, sandbox_server, "cte-cce")
    first = api.carta_correcao("cte-cce", "observacoes", "Primeira correção")
    assert first.status == "autorizado" and first.numero_carta_correcao == 1
    second = api.carta_correcao(
        "cte-cce", "xNome", "RECEBEDOR LTDA", grupo_corrigido="receb", campo_api=False
    )
    assert second.numero_carta_correcao == 2 and second.caminho_xml != first.caminho_xml
    consult = api.consult("cte-cce")
    assert consult is not None and consult.caminho_xml_carta_correcao == second.caminho_xml
    assert b"RECEBEDOR LTDA" in api.download(second.caminho_xml or "")
    refused = api.carta_correcao("cte-cce", "valor_total", "10.00")
    assert refused.status == "erro_autorizacao" and refused.status_sefaz == "999"
    for n in range(3, 21):
        assert api.carta_correcao(
            "cte-cce", "observacoes", f"Correção {n}", numero_item_grupo_corrigido=1
        ).accepted
    over = api.carta_correcao("cte-cce", "observacoes", "Vigésima primeira")
    assert over.status == "erro_autorizacao" and over.status_sefaz == "594"
    with pytest.raises(ValueError):
        api.carta_correcao("cte-cce", "", "x")


def test_cce_needs_an_authorized_cte(api: CteApi, sandbox_server: SandboxServer, client: FocusClient) -> None:
    api.emit("cte-proc", sample_cte(sandbox_server.clock.now()))
    with pytest.raises(ApiError) as err:
        api.carta_correcao("cte-proc", "observacoes", "x")
    assert (err.value.status_code, err.value.codigo) == (400, "nao_autorizado")
    resp = client.request(
        "POST", "/v2/cte/cte-proc/carta_correcao", json_body={"campo_corrigido": "observacoes"}
    )
    assert resp.status_code == 400 and "valor_corrigido" in resp.data["mensagem"]
    with pytest.raises(ApiError) as err:
        api.carta_correcao("nao-existe", "observacoes", "x")
    assert err.value.status_code == 404


def test_events_desacordo_multimodal_gtv(api: CteApi, sandbox_server: SandboxServer) -> None:
    _authorized(api, sandbox_server, "cte-ev")
    result = api.desacordo("cte-ev", "Mercadoria entregue com avaria no destino")
    assert result.status == "autorizado" and result.caminho_xml and result.protocolo
    with pytest.raises(ApiError) as err:
        api.desacordo("cte-ev", "Mercadoria entregue com avaria no destino")
    assert err.value.codigo == "requisicao_invalida" and "já registrado" in err.value.mensagem
    with pytest.raises(ValueError):
        api.desacordo("cte-ev", "curta")
    with pytest.raises(ApiError) as err:
        api.registro_multimodal("cte-ev", "Registro do trecho ferroviário")
    assert err.value.codigo == "requisicao_invalida"
    with pytest.raises(ApiError) as err:
        api.dados_gtv("cte-ev", [{"numero": "1", "id": "A1", "data_emissao": "2024-01-01"}])
    assert (err.value.status_code, err.value.codigo) == (400, "nao_autorizado")
    assert "GTV apenas para CTe O.S(modelo 67)" in err.value.mensagem

    payload = sample_cte(sandbox_server.clock.now(), numero=2, tipo_servico=0)
    del payload["modal_rodoviario"]
    payload["modal_multimodal"] = {"numero_cotm": "123", "indicador_negociavel": "0"}
    api.emit("cte-mm", payload)
    api.wait_authorization("cte-mm", sleep=lambda _s: None)
    mm = api.registro_multimodal("cte-mm", "Trecho rodoviário Curitiba-Paranaguá", numero_documento="77")
    assert mm.status == "autorizado" and b"Curitiba" in api.download(mm.caminho_xml or "")

    api.emit_os("os-gtv", sample_cte_os(sandbox_server.clock.now(), tipo_servico=7))
    gtv = api.dados_gtv(
        "os-gtv",
        [
            {
                "numero": "55",
                "id": "GTV55",
                "data_emissao": "2024-05-01",
                "especies": [{"tipo_especie": "1", "valor_especie": "1000.00"}],
            }
        ],
    )
    assert gtv.status == "autorizado"


def test_inutilizacao_models_57_and_67(
    api: CteApi, client: FocusClient, sandbox_server: SandboxServer
) -> None:
    result = api.inutilizar(CNPJ, 1, 800, 801, "Numeração pulada por falha no sistema", modelo=67)
    assert result.authorized and result.status_sefaz == "102" and result.modelo == 67
    assert (result.serie, result.numero_inicial, result.numero_final) == (1, 800, 801)
    assert etree.fromstring(api.download(result.caminho_xml or "")).tag.endswith("procInutCTe")
    again = api.inutilizar(CNPJ, 1, 801, 802, "Numeração pulada por falha no sistema", modelo=67)
    assert again.status == "erro_autorizacao" and again.status_sefaz == "256"
    assert api.inutilizar(CNPJ, 1, 800, 801, "Numeração pulada por falha no sistema").authorized  # model 57
    _authorized(api, sandbox_server, "cte-used", numero=50)
    used = api.inutilizar(CNPJ, 1, 49, 51, "Numeração pulada por falha no sistema")
    assert used.status_sefaz == "241"
    api.emit("cte-inut", sample_cte(sandbox_server.clock.now(), numero=800))
    assert api.wait_authorization("cte-inut", sleep=lambda _s: None).status_sefaz == "206"
    with pytest.raises(ValueError, match="57"):
        api.inutilizar(CNPJ, 1, 1, 2, "Numeração pulada por falha no sistema", modelo=65)
    resp = client.request("POST", "/v2/cte/inutilizacao", json_body={
        "cnpj": CNPJ, "serie": "1", "numero_inicial": "1", "numero_final": "2",
        "justificativa": "Numeração pulada por falha", "modelo": "65"})  # fmt: skip
    assert resp.status_code == 400 and resp.data["erros"][0]["campo"] == "modelo"
    resp = client.request("POST", "/v2/cte/inutilizacao", json_body={
        "cnpj": "11222333000181", "serie": "1", "numero_inicial": "1", "numero_final": "2",
        "justificativa": "Numeração pulada por falha"})  # fmt: skip
    assert resp.status_code == 400 and resp.data["codigo"] == "empresa_nao_habilitada"


def test_sefaz_down_keeps_cte_processing_and_fails_cte_os(api: CteApi, sandbox_server: SandboxServer) -> None:
    sandbox_server.faults.set("sefaz_down")
    api.emit("cte-down", sample_cte(sandbox_server.clock.now()))
    for _ in range(3):
        consult = api.consult("cte-down")
        assert consult is not None and consult.processing
    os_result = api.emit_os("os-down", sample_cte_os(sandbox_server.clock.now()))
    assert os_result.status == "erro_autorizacao" and os_result.status_sefaz == "108"
    sandbox_server.faults.clear("sefaz_down")
    assert api.wait_authorization("cte-down", sleep=lambda _s: None).authorized
    assert api.emit_os("os-down", sample_cte_os(sandbox_server.clock.now())).authorized  # same ref resent
