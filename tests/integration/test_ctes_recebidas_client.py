"""Received CT-e through ``pos_app.core.focus.ctes_recebidas`` against the sandbox over loopback HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import pytest
from lxml import etree

from pos_app.core.fiscal.chave import build_chave
from pos_app.core.focus.client import FocusClient
from pos_app.core.focus.ctes_recebidas import CtesRecebidasApi
from pos_app.core.focus.errors import ApiError, AuthenticationError
from pos_app.sandbox import DEMO_COMPANY, DEMO_TOKEN, SandboxServer
from pos_app.sandbox.ctes_recebidas import cnpj_with_dv

OBS = "Frete cobrado acima do valor contratado"


_companies = itertools.count(1)


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer(rate_limit=None) as server:
        yield server


@pytest.fixture(autouse=True)
def _reset(sandbox_server: SandboxServer) -> Iterator[None]:
    yield
    sandbox_server.clock.set_offset(timedelta(0))
    sandbox_server.faults.clear()


@pytest.fixture
def cnpj(sandbox_server: SandboxServer) -> str:
    """A company of its own for each test: its received CT-e are seeded at the first listing."""
    number = cnpj_with_dv(f"{next(_companies) + 50_000_000:08d}0001")
    sandbox_server.register_company(replace(DEMO_COMPANY, cnpj=number))
    return number


@pytest.fixture(scope="module")
def client(sandbox_server: SandboxServer) -> Iterator[FocusClient]:
    c = FocusClient(sandbox_server.url, DEMO_TOKEN, timeout=10)
    yield c
    c.close()


@pytest.fixture
def api(client: FocusClient) -> CtesRecebidasApi:
    return CtesRecebidasApi(client)


def test_listing_the_seeded_documents(cnpj: str, api: CtesRecebidasApi) -> None:
    page = api.list(cnpj)
    assert len(page.items) == 6 and page.total_count == 6 and not page.has_more
    assert page.max_version == max(i.versao for i in page.items)
    assert [i.versao for i in page.items] == sorted(i.versao for i in page.items)
    assert len({i.chave for i in page.items}) == 6
    situacoes = {i.situacao for i in page.items}
    assert situacoes == {"autorizado", "cancelado"}
    cancelled = next(i for i in page.items if i.situacao == "cancelado")
    assert cancelled.data_cancelamento and cancelled.justificativa_cancelamento
    corrected = next(i for i in page.items if i.carta_correcao)
    assert corrected.data_carta_correcao and "doca 3" in (corrected.carta_correcao or "")
    first = page.items[0]
    assert (
        first.cnpj_destinatario == cnpj
        and first.valor_total is not None
        and first.tipo_cte in ("0", "1", "2", "3")
    )
    assert first.nome_emitente and first.documento_emitente and first.digest_value and first.data_emissao


def test_versao_paging_and_headers(cnpj: str, api: CtesRecebidasApi, sandbox_server: SandboxServer) -> None:
    seeded = api.list(cnpj)
    for n in range(120):
        sandbox_server.backoffice.ctes_recebidas.add(cnpj, valor_total=f"{10 + n}.00")
    page = api.list(cnpj)
    assert len(page.items) == 100 and page.total_count == 126 and page.has_more
    rest = api.list(cnpj, versao=page.max_version)
    assert len(rest.items) == 26 and rest.total_count == 26 and not rest.has_more
    assert min(i.versao for i in rest.items) > (page.max_version or 0)
    pages = list(api.iter_pages(cnpj))
    assert [len(p.items) for p in pages] == [100, 26]
    assert len({i.chave for p in pages for i in p.items}) == 126
    last = rest.max_version
    nothing = api.list(cnpj, versao=last)
    assert nothing.items == [] and nothing.total_count == 0 and nothing.max_version == last
    # a change gives the document a greater versao: an incremental sync sees only it
    chave = seeded.items[0].chave
    sandbox_server.backoffice.ctes_recebidas.cancel(chave, "Cancelado pelo transportador")
    changed = api.list(cnpj, versao=last)
    assert [i.chave for i in changed.items] == [chave] and changed.items[0].situacao == "cancelado"
    assert changed.max_version == changed.items[0].versao > (last or 0)


def test_listing_needs_an_authorized_cnpj(
    cnpj: str, api: CtesRecebidasApi, client: FocusClient, sandbox_server: SandboxServer
) -> None:
    resp = client.request("GET", "/v2/ctes_recebidas")
    assert resp.status_code == 400 and resp.data == {
        "codigo": "requisicao_invalida",
        "mensagem": "CNPJ do emitente não autorizado ou não informado.",
    }
    with pytest.raises(AuthenticationError) as err:
        api.list(cnpj_with_dv("999888770001"))  # valid, but not a company of this account
    assert (err.value.status_code, err.value.codigo) == (403, "permissao_negada")
    assert err.value.mensagem == "CNPJ do emitente não autorizado."
    with pytest.raises(ValueError):
        api.list("123")
    resp = client.request("GET", "/v2/ctes_recebidas", params={"cnpj": cnpj, "versao": "abc"})
    assert resp.status_code == 400


def test_each_company_has_its_own_documents(
    cnpj: str, api: CtesRecebidasApi, sandbox_server: SandboxServer
) -> None:
    other = cnpj_with_dv("777666550001")
    sandbox_server.register_company(replace(DEMO_COMPANY, cnpj=other, razao_social="OUTRA LOJA LTDA"))
    mine, theirs = api.list(cnpj), api.list(other)
    assert len(theirs.items) == 6 and not {i.chave for i in mine.items} & {i.chave for i in theirs.items}
    assert all(i.cnpj_destinatario == other for i in theirs.items)
    sandbox_server.backoffice.ctes_recebidas.disabled.add(other)
    with pytest.raises(AuthenticationError):
        api.list(other)
    with pytest.raises(AuthenticationError):
        api.consult(theirs.items[0].chave)


def test_desacordo(cnpj: str, api: CtesRecebidasApi, client: FocusClient) -> None:
    page = api.list(cnpj)
    target = next(i for i in page.items if i.situacao == "autorizado" and not i.carta_correcao)
    assert api.consult_desacordo(target.chave) is None
    result = api.desacordo(target.chave, OBS)
    assert result.registered and result.status == "evento_registrado" and result.status_sefaz == "135"
    assert result.protocolo and result.mensagem_sefaz == "Evento registrado e vinculado a CT-e"
    stored = api.consult_desacordo(target.chave)
    assert stored is not None and stored.protocolo == result.protocolo
    manifesto = client.request("GET", f"/v2/ctes_recebidas/{target.chave}/manifesto")
    assert manifesto.status_code == 200 and manifesto.data["protocolo"] == result.protocolo
    with pytest.raises(ApiError) as err:
        api.desacordo(target.chave, OBS)
    assert (err.value.status_code, err.value.codigo) == (400, "requisicao_invalida")
    assert err.value.mensagem == "Desacordo já registrado para este Documento Fiscal"
    assert api.list(cnpj, versao=page.max_version).items == []  # the CT-e itself did not change


def test_desacordo_validation(cnpj: str, api: CtesRecebidasApi, client: FocusClient) -> None:
    chave = api.list(cnpj).items[0].chave
    for text in ("curta demais", "x" * 256, "   "):
        with pytest.raises(ValueError, match="entre 15 e 255"):
            api.desacordo(chave, text)  # refused before sending
    resp = client.request("POST", f"/v2/ctes_recebidas/{chave}/desacordo", json_body={})
    assert resp.status_code == 400 and resp.data["mensagem"] == 'Parâmetro "observacoes" não informado'
    resp = client.request("POST", f"/v2/ctes_recebidas/{chave}/desacordo", json_body={"observacoes": "curta"})
    assert resp.status_code == 400
    assert resp.data["mensagem"] == 'Parâmetro "observacoes" deve ter entre 15 e 255 caracteres'
    unknown = build_chave("PR", date(2024, 1, 1), "11222333000181", 1, 1, 1, "12345678", modelo=57)
    with pytest.raises(ApiError) as err:
        api.desacordo(unknown, OBS)
    assert (err.value.status_code, err.value.codigo, err.value.mensagem) == (
        404,
        "nao_encontrado",
        "Documento Fiscal não encontrado",
    )
    with pytest.raises(ValueError, match="Chave"):
        api.desacordo("123", OBS)


def test_desacordo_refused_by_sefaz(cnpj: str, api: CtesRecebidasApi, sandbox_server: SandboxServer) -> None:
    items = api.list(cnpj).items
    cancelled = next(i for i in items if i.situacao == "cancelado")
    result = api.desacordo(cancelled.chave, OBS)
    assert result.status == "erro" and not result.registered and result.mensagem_sefaz
    old = min(items, key=lambda i: i.data_emissao or "")  # issued 60 days ago
    late = api.desacordo(old.chave, OBS)
    assert late.status == "erro" and "45 dias" in (late.mensagem_sefaz or "")
    assert api.consult_desacordo(old.chave) is None


def test_consult_json_xml_and_event_files(cnpj: str, api: CtesRecebidasApi) -> None:
    items = api.list(cnpj).items
    plain = next(i for i in items if i.situacao == "autorizado" and not i.carta_correcao)
    summary = api.consult(plain.chave)
    assert summary is not None and summary["chave"] == plain.chave and summary["versao"] == plain.versao
    assert "requisicao" not in summary
    full = api.consult(plain.chave, completa=True, cnpj=cnpj)
    assert full is not None and full["mdfes"] == [] and full["protocolo"]["status"] == "100"
    assert full["requisicao"]["cnpj_destinatario"] == cnpj
    xml = api.xml(plain.chave)
    root = etree.fromstring(xml)
    assert root.tag == "{http://www.portalfiscal.inf.br/cte}cteProc" and plain.chave.encode() in xml
    assert api.xml_cancelamento(plain.chave) is None
    assert api.xml_carta_correcao(plain.chave) is None
    cancelled = next(i for i in items if i.situacao == "cancelado")
    can = api.xml_cancelamento(cancelled.chave)
    assert can is not None and b"<tpEvento>110111</tpEvento>" in can
    corrected = next(i for i in items if i.carta_correcao)
    cce = api.xml_carta_correcao(corrected.chave)
    assert cce is not None and b"<tpEvento>110110</tpEvento>" in cce and etree.fromstring(cce) is not None
    assert api.dacte(plain.chave).startswith(b"%PDF")
    assert (
        api.consult(build_chave("PR", date(2024, 1, 1), "11222333000181", 1, 9, 1, "12345678", modelo=57))
        is None
    )


def test_latest_cce_xml_is_the_last_one(
    cnpj: str, api: CtesRecebidasApi, sandbox_server: SandboxServer
) -> None:
    chave = api.list(cnpj).items[0].chave
    sandbox_server.clock.advance(timedelta(minutes=5))
    sandbox_server.backoffice.ctes_recebidas.correct(
        chave, "observacoes", "Segunda correcao do transportador"
    )
    xml = api.xml_carta_correcao(chave)
    assert xml is not None and b"Segunda correcao" in xml
    assert "Segunda" in (api.consult(chave) or {})["carta_correcao"]
