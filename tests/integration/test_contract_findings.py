"""Contract findings of the audit, through the sandbox over loopback: refs of letters/digits/_ only
(old refs with '-' keep working), Focus's qrcode_url kept after a contingency note is authorized,
account configuration errors as one terminal warning with the replay paused, CT-e absolute file
URLs downloaded without the token, received CT-e situacao in both genders, 404 nfce_nao_encontrada."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from contingency_kit import ARROZ, FEIJAO, make_sale

from pos_app.core.domain.errors import ValidationError
from pos_app.core.fiscal.refs import contingency_ref, new_ref_problem, sale_ref
from pos_app.core.focus.client import FocusClient
from pos_app.core.focus.cte import CteApi
from pos_app.core.focus.ctes_recebidas import CteRecebido, normalize_situacao
from pos_app.core.focus.errors import ApiError
from pos_app.core.focus.files import fetch_file
from pos_app.core.focus.nfce import NfceApi
from pos_app.core.services.doctor import run_doctor
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.receipts import ReceiptService
from pos_app.core.services.replay import ReplayService
from pos_app.core.services.status import backlog
from pos_app.sandbox import DEMO_COMPANY, DEMO_TOKEN, SandboxServer
from pos_app.sandbox.backoffice_samples import sample_cte

NEW_REF = re.compile(r"^[A-Za-z0-9_]+$")


# -- refs -------------------------------------------------------------------------------------------
def test_ref_helpers() -> None:
    assert sale_ref("CX01", 42) == "CX01_00000042"
    assert contingency_ref("CX01_00000042") == "CX01_00000042_C"
    assert contingency_ref("CX01-00000042") == "CX01_00000042_C"  # an older version's online ref
    assert new_ref_problem("lote_1") is None
    assert "'-'" in (new_ref_problem("lote-1") or "") and new_ref_problem("") and new_ref_problem("a.b")


def test_new_sale_and_contingency_refs_have_no_special_characters(term: Any, api: SandboxServer) -> None:
    online = EmissionService(term, render_receipts=False).checkout(make_sale(term))
    api.faults.set("unreachable")
    offline = EmissionService(term, render_receipts=False).checkout(make_sale(term))
    api.faults.clear()
    assert NEW_REF.match(online.ref) and NEW_REF.match(offline.ref) and offline.ref.endswith("_C")
    assert ReplayService(term).run_once().transmitidas == [offline.ref]


def test_a_stored_ref_with_dash_keeps_working(term: Any, api: SandboxServer) -> None:
    """A contingency note an older version stored as ``CX01-00000001-C`` is still transmitted."""
    api.faults.set("unreachable")
    offline = EmissionService(term, render_receipts=False).checkout(make_sale(term))
    api.faults.clear()
    legacy = offline.ref.replace("_", "-")
    term.store.database.execute(
        "UPDATE fiscal_documents SET ref = ? WHERE id = ?", [legacy, offline.document_id]
    )
    report = ReplayService(term).run_once()
    assert report.transmitidas == [legacy]
    assert term.store.documents.get(offline.document_id)["status"] == "autorizado"


def test_new_cte_refuses_a_ref_with_dash_but_generates_underscores(term: Any, api: SandboxServer) -> None:
    from pos_app.core.services.cte import CteService

    service = CteService(term)
    payload = sample_cte(api.clock.now(), numero=77)
    with pytest.raises(ValidationError) as exc:
        service.emit(payload, ref="cte-77", wait=False)
    assert exc.value.field == "ref" and "'-'" in exc.value.message
    outcome = service.emit(sample_cte(api.clock.now(), numero=78), wait=False)
    assert NEW_REF.match(outcome.ref) and "_CTe_" in outcome.ref


# -- qrcode_url of the authorized contingency note --------------------------------------------------
def test_authorized_contingency_note_keeps_focus_qrcode_for_reprints(term: Any, api: SandboxServer) -> None:
    api.faults.set("unreachable")
    offline = EmissionService(term, render_receipts=False).checkout(make_sale(term, ARROZ, FEIJAO))
    api.faults.clear()
    printed = term.store.documents.get(offline.document_id)["qrcode_url"]
    assert printed and "|3|" in printed  # v3 offline, signed by the terminal
    ReplayService(term).run_once()
    doc = term.store.documents.get(offline.document_id)
    focus = NfceApi(FocusClient(api.url, DEMO_TOKEN)).consult(offline.ref)
    assert focus is not None and focus.qrcode_url and focus.qrcode_url != printed
    assert doc["qrcode_url"] == focus.qrcode_url and doc["qrcode_url_offline"] == printed
    sale = term.store.sales.get(int(doc["sale_id"]))
    data = ReceiptService(term).receipt_data(doc, sale)
    assert data.qrcode_url == focus.qrcode_url and not data.pendente_autorizacao


# -- account configuration errors -------------------------------------------------------------------
@pytest.mark.parametrize(
    "codigo", ["ambiente_nao_configurado", "empresa_nao_configurada", "certificado_vencido"]
)
def test_account_configuration_error_is_one_warning_and_pauses_the_replay(
    term: Any, api: SandboxServer, codigo: str
) -> None:
    cnpj = term.emitente().cnpj
    api.set_account_problem(cnpj, codigo)
    sales = [EmissionService(term, render_receipts=False).checkout(make_sale(term)) for _ in range(2)]
    assert all(s.emitido and s.contingencia for s in sales), [s.mensagem for s in sales]
    info = backlog(term)
    config_lines = [a for a in info["avisos"] if "Configuração da conta" in a]
    assert len(config_lines) == 1 and codigo in config_lines[0] and info["erro_configuracao"]
    assert info["contingencia_com_erro"] == 0
    checks = {c.nome: c for c in run_doctor(term)}
    assert checks["Conta Focus NFe"].nivel == "erro"

    report = ReplayService(term).run_once()
    assert (
        report.transmitidas == []
        and report.com_erro == []
        and report.interrompido
        and codigo in report.interrompido
    )
    for s in sales:  # nothing filed on the notes
        doc = term.store.documents.get(s.document_id)
        assert doc["status"] == "contingencia_pendente" and doc["status_sefaz"] is None

    api.set_account_problem(cnpj, None)
    background = ReplayService(term).run_once(ignore_backoff=False)  # paused: probes every 5 minutes
    assert background.transmitidas == [] and background.adiadas >= 1
    report = ReplayService(term).run_once()  # a manual sync tries at once
    assert sorted(report.transmitidas) == sorted(s.ref for s in sales)
    assert backlog(term)["erro_configuracao"] is None


# -- CT-e file links -------------------------------------------------------------------------------
def _authorized_cte(api: SandboxServer, ref: str, numero: int) -> Any:
    cte = CteApi(FocusClient(api.url, DEMO_TOKEN, timeout=10))
    cte.emit(ref, sample_cte(api.clock.now(), numero=numero))
    return cte, cte.wait_authorization(ref, sleep=lambda _s: None)


def test_cte_answers_carry_absolute_urls_downloaded_without_the_token_on_another_host(
    api: SandboxServer,
) -> None:
    port = httpx.URL(api.url).port
    api.files_origin = f"http://localhost:{port}"  # Focus's S3: another host than the API
    cte, result = _authorized_cte(api, "cte_s3", 501)
    assert result.caminho_xml.startswith(f"http://localhost:{port}/arquivos_development/")
    assert result.caminho_xml.endswith(".xml") and result.caminho_dacte.startswith("http://localhost")
    api.file_requests.clear()
    xml = cte.download(result.caminho_xml)
    assert b"cteProc" in xml and result.chave.encode() in xml
    assert api.file_requests == [(httpx.URL(result.caminho_xml).path, False)]  # no Authorization header


def test_cte_link_on_the_api_origin_uses_the_api_client(api: SandboxServer) -> None:
    cte, result = _authorized_cte(api, "cte_same", 502)
    assert result.caminho_xml.startswith(api.url + "/arquivos_development/")
    assert b"cteProc" in cte.download(result.caminho_xml)


def test_file_links_that_are_not_https_are_refused(api: SandboxServer) -> None:
    client = FocusClient(api.url, DEMO_TOKEN)
    with pytest.raises(ApiError, match="https"):
        fetch_file(client, "http://example.com/arquivo.xml")
    with pytest.raises(ApiError):
        fetch_file(client, "ftp://example.com/arquivo.xml")


# -- received CT-e situacao -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("autorizada", "autorizado"),
        ("Autorizado", "autorizado"),
        ("cancelada", "cancelado"),
        ("denegada", "denegado"),
        ("", ""),
    ],
)
def test_received_cte_situacao_both_genders(raw: str, stored: str) -> None:
    assert normalize_situacao(raw) == stored
    doc = CteRecebido.from_json({"chave": "3" * 44, "versao": 1, "situacao": raw})
    assert doc.situacao == stored


# -- sandbox 404 -----------------------------------------------------------------------------------
def test_unknown_nfce_ref_is_404_nfce_nao_encontrada(api: SandboxServer) -> None:
    response = httpx.get(f"{api.url}/v2/nfce/nao_existe", auth=(DEMO_TOKEN, ""), timeout=10)
    assert response.status_code == 404 and response.json()["codigo"] == "nfce_nao_encontrada"
    assert NfceApi(FocusClient(api.url, DEMO_TOKEN)).consult("nao_existe") is None
    assert DEMO_COMPANY.cnpj  # the demo company is registered
