"""RPS batches (NFS-e by file) through ``pos_app.core.focus.lotes_rps`` against the sandbox over loopback."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from pos_app.core.focus.client import FocusClient
from pos_app.core.focus.errors import ApiError
from pos_app.core.focus.lotes_rps import LotesRpsApi
from pos_app.sandbox import DEMO_COMPANY, DEMO_TOKEN, SandboxServer
from pos_app.sandbox.backoffice_samples import sample_lote_rps

_refs = itertools.count(1)


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer(rate_limit=None) as server:
        yield server


@pytest.fixture(scope="module")
def client(sandbox_server: SandboxServer) -> Iterator[FocusClient]:
    c = FocusClient(sandbox_server.url, DEMO_TOKEN, timeout=10)
    yield c
    c.close()


@pytest.fixture
def api(client: FocusClient) -> LotesRpsApi:
    return LotesRpsApi(client)


@pytest.fixture
def ref() -> str:
    return f"lote-{next(_refs)}"


def _batch(server: SandboxServer, **kw: Any) -> dict[str, Any]:
    return sample_lote_rps(server.clock.now(), **kw)


def test_create_returns_the_import_file(api: LotesRpsApi, sandbox_server: SandboxServer, ref: str) -> None:
    created = api.create(ref, _batch(sandbox_server, notas=3))
    assert created.http_status == 201 and created.content_type == "text/plain; charset=iso-8859-1"
    lines = created.content.split(b"\r\n")
    assert lines[0].startswith(b"1|002|1234567|" + DEMO_COMPANY.cnpj.encode())
    details = [line for line in lines if line.startswith(b"2|RPS|")]
    assert len(details) == 3 and lines[-2] == b"9|3|45000" and lines[-1] == b""
    assert "Comércio".encode("latin-1") in created.content and "Comércio" in created.text
    again = api.consult(ref)
    assert again is not None and again.http_status == 200 and again.content == created.content
    assert api.consult("lote-que-nao-existe") is None


def test_same_ref_same_batch_is_idempotent_other_data_is_refused(
    api: LotesRpsApi, sandbox_server: SandboxServer, ref: str
) -> None:
    batch = _batch(sandbox_server)
    first = api.create(ref, batch)
    assert api.create(ref, batch).content == first.content
    other = _batch(sandbox_server, notas=1)
    with pytest.raises(ApiError) as err:
        api.create(ref, other)
    assert err.value.status_code == 422 and "dados diferentes" in err.value.mensagem


@pytest.mark.parametrize(
    ("mutate", "status", "codigo", "campo"),
    [
        (lambda b: b.pop("lista_nfse"), 422, "requisicao_invalida", "lista_nfse"),
        (lambda b: b["lista_nfse"][0]["servico"].update(valor_servicos="0"), 422, "requisicao_invalida",
         "lista_nfse[0].servico.valor_servicos"),
        (lambda b: b["lista_nfse"][1]["servico"].pop("discriminacao"), 422, "requisicao_invalida",
         "lista_nfse[1].servico.discriminacao"),
        (lambda b: b["lista_nfse"][0].update(data_emissao="ontem"), 422, "requisicao_invalida",
         "lista_nfse[0].data_emissao"),
        (lambda b: b["lista_nfse"][0]["tomador"].update(cnpj="11111111111111"), 422, "requisicao_invalida",
         "lista_nfse[0].tomador.cnpj"),
        (lambda b: b["prestador"].pop("inscricao_municipal"), 422, "requisicao_invalida",
         "prestador.inscricao_municipal"),
        (lambda b: b["prestador"].update(cnpj="11111111111111"), 400, "requisicao_invalida", None),
        (lambda b: b["prestador"].update(cnpj="11222333000181"), 400, "empresa_nao_habilitada", None),
    ],
)  # fmt: skip
def test_create_validation(
    api: LotesRpsApi,
    sandbox_server: SandboxServer,
    ref: str,
    mutate: Any,
    status: int,
    codigo: str,
    campo: str | None,
) -> None:
    batch = _batch(sandbox_server)
    mutate(batch)
    resp = api.client.request("POST", "/v2/lotes_rps", params={"ref": ref}, json_body=batch, raw=True)
    error = resp.error()
    assert (error.status_code, error.codigo) == (status, codigo)
    if campo is not None:
        assert campo in [e["campo"] for e in error.erros]
    if isinstance(batch.get("lista_nfse"), list):
        with pytest.raises(ApiError) as err:  # the same through the typed client
            api.create(ref, batch)
        assert err.value.codigo == codigo
    else:
        with pytest.raises(ValueError):  # refused before sending
            api.create(ref, batch)
    assert api.consult(ref) is None


def test_unreadable_body_is_415(client: FocusClient) -> None:
    resp = client.request("POST", "/v2/lotes_rps", params={"ref": "lote-x"}, content=b"prestador: {cnpj: 1",
                          content_type="application/x-yaml", raw=True)  # fmt: skip
    assert resp.status_code == 415 and resp.data["codigo"] == "json_invalido"
    resp = client.request("POST", "/v2/lotes_rps", json_body={"prestador": {}, "lista_nfse": []}, raw=True)
    assert resp.status_code == 400 and resp.data["codigo"] == "requisicao_invalida"  # no ref


def test_city_answer_gives_each_nfse(api: LotesRpsApi, sandbox_server: SandboxServer, ref: str) -> None:
    api.create(ref, _batch(sandbox_server))
    answer = sandbox_server.backoffice.lotes_rps.city_answer(DEMO_TOKEN, ref)
    results = api.send_answer(ref, answer)
    numbers = [int(r.numero_rps or 0) for r in results]
    assert numbers == sorted(numbers) and all(numbers)
    assert all(
        r.authorized and r.numero and r.codigo_verificacao and r.data_emissao and r.uri for r in results
    )
    xml = api.client.request("GET", results[0].caminho_xml_nota_fiscal or "", raw=True)
    assert xml.status_code == 200 and f"<Numero>{results[0].numero}</Numero>".encode() in xml.data
    batch = sandbox_server.backoffice.lotes_rps.batch(DEMO_TOKEN, ref)
    assert batch is not None and batch["respostas"][-1]["content_type"] == "text/plain"


def test_one_error_means_no_nfse_is_processed(
    api: LotesRpsApi, sandbox_server: SandboxServer, ref: str
) -> None:
    api.create(ref, _batch(sandbox_server, notas=3))
    record = sandbox_server.backoffice.lotes_rps.batch(DEMO_TOKEN, ref)
    assert record is not None
    bad = record["rps"][1]["numero"]
    answer = sandbox_server.backoffice.lotes_rps.city_answer(
        DEMO_TOKEN, ref, errors={bad: "Código de serviço inválido"}
    )
    results = api.send_answer(ref, answer)
    assert [r.status for r in results] == ["erro_autorizacao"] * 3
    by_rps = {r.numero_rps: r for r in results}
    assert by_rps[bad].erros == [{"codigo": "E160", "mensagem": "Código de serviço inválido"}]
    assert all(r.erros[0]["codigo"] == "lote_com_erros" for n, r in by_rps.items() if n != bad)


def test_partial_answer_leaves_the_rest_processing(
    api: LotesRpsApi, sandbox_server: SandboxServer, ref: str
) -> None:
    api.create(ref, _batch(sandbox_server))
    record = sandbox_server.backoffice.lotes_rps.batch(DEMO_TOKEN, ref)
    assert record is not None
    second = record["rps"][1]["numero"]
    lotes = sandbox_server.backoffice.lotes_rps
    first_results = api.send_answer(ref, lotes.city_answer(DEMO_TOKEN, ref, skip={second}))
    assert [r.status for r in first_results] == ["autorizado", "processando_autorizacao"]
    record = lotes.batch(DEMO_TOKEN, ref)
    assert record is not None
    later = api.send_answer(ref, lotes.city_answer(DEMO_TOKEN, ref, skip={record["rps"][0]["numero"]}))
    assert [r.status for r in later] == ["autorizado", "autorizado"]


def test_answer_errors(
    api: LotesRpsApi, client: FocusClient, sandbox_server: SandboxServer, ref: str
) -> None:
    api.create(ref, _batch(sandbox_server))
    with pytest.raises(ApiError) as err:
        api.send_answer(ref, b"<html>nao e um retorno</html>")
    assert (err.value.status_code, err.value.codigo) == (415, "formato_invalido")
    with pytest.raises(ApiError) as err:
        api.send_answer(ref, b"1|123|98765432000198|20240101\r\n2|1|999|1|ABC|20240101120000\r\n9|1\r\n")
    assert err.value.status_code == 415  # an RPS that is not in this batch
    with pytest.raises(ApiError) as err:
        api.send_answer(ref, b"1|123|11222333000181|20240101\r\n9|0\r\n")
    assert (err.value.status_code, err.value.codigo) == (400, "requisicao_invalida")
    with pytest.raises(ApiError) as err:
        api.send_answer("lote-inexistente", b"1|123|98765432000198|20240101\r\n")
    assert err.value.status_code == 404
    with pytest.raises(ValueError):
        api.send_answer(ref, b"  \r\n")
