"""NF-e model 55 to a CNPJ buyer with the link down: generated beforehand in contingency (Ajuste
SINIEF 12/2025) on its own series with the dated tpEmis, the DANFE Simplificado printed with the
contingency notice and a readable QR Code, then transmitted through /v2/nfe by the replay (polled
until authorized, XML valid against nfelib's schema); a kill -9 in the middle of the replay is
consulted, never sent twice; the NF-e contingency series refuses to collide with any other."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from pos_app.core.config import ConfigError
from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.fiscal.chave import parse_chave
from pos_app.core.fiscal.nfe_rules import nfe_consulta_url, nfe_contingency_tp_emis
from pos_app.core.services.doctor import series_check
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.replay import ReplayService
from pos_app.core.store.clientes import Cliente
from pos_app.sandbox import DEMO_TOKEN, SandboxServer

ARROZ = "7891102100377"
BUYER = "12ABC34501DE35"  # alphanumeric CNPJ (valid check digits)
NFE = "{http://www.portalfiscal.inf.br/nfe}"
ROOT = Path(__file__).resolve().parents[2]

needs_tools = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg") and shutil.which("pdftotext")),
    reason="poppler-utils/zbarimg ausentes",
)


def buyer() -> Cliente:
    return Cliente(
        documento=BUYER,
        nome="RESTAURANTE BOA MESA LTDA",
        logradouro="Rua das Flores",
        numero="100",
        bairro="Centro",
        codigo_municipio="4106902",
        municipio="Curitiba",
        uf="PR",
        cep="80010-000",
        indicador_ie="1",
        inscricao_estadual="9044016688",
    )


def cnpj_sale(ctx: Any) -> Sale:
    sale = Sale()
    product = ctx.store.products.lookup(ARROZ)
    assert product is not None
    sale.add_item(product, Decimal("2"))
    sale.add_payment(Payment(forma="01", valor=Decimal("60.00")))
    sale.cnpj = BUYER
    return sale


@pytest.fixture
def nfe_term(term: Any, api: SandboxServer) -> Any:
    term.store.clientes.save(buyer())
    api.nfe_engine.processing_seconds = 0.6
    return term


def nfe_note(api: SandboxServer, ref: str) -> Any:
    return api.nfe_store.get_note(DEMO_TOKEN, ref)


def read_qr_codes(pdf: str, folder: Path) -> list[str]:
    subprocess.run(["pdftoppm", "-r", "200", "-png", pdf, str(folder / "via")], check=True, timeout=60)
    found: list[str] = []
    for png in sorted(folder.glob("via*.png")):
        out = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, timeout=60)
        found += [line for line in out.stdout.splitlines() if line.strip()]
    return found


def test_tp_emis_is_dated_data() -> None:
    from datetime import date

    assert nfe_contingency_tp_emis(date(2026, 5, 3)) is None  # before Ajuste SINIEF 12/2025: wait
    assert nfe_contingency_tp_emis(date(2026, 5, 4)) == 5
    assert nfe_contingency_tp_emis(date(2026, 12, 2)) == 5


@needs_tools
def test_offline_nfe_sale_is_generated_in_contingency_with_its_own_series_and_printed(
    nfe_term: Any, api: SandboxServer, tmp_path: Path
) -> None:
    nfe_term.config.set("nfe.serie_contingencia", "701")
    api.faults.set("unreachable")
    result = EmissionService(nfe_term).checkout(cnpj_sale(nfe_term))
    assert result.contingencia and result.emitido and result.modelo == 55
    assert result.status == "contingencia_pendente" and result.serie == 701 and result.numero == 1
    assert "NF-e emitida em contingência" in result.mensagem and "conex" in result.mensagem
    doc = nfe_term.store.documents.get(result.document_id)
    assert doc["kind"] == "contingencia" and doc["modelo"] == 55 and doc["tp_emis"] == 5
    key = parse_chave(doc["chave"])
    assert (key.modelo, key.serie, key.numero, key.tp_emis) == (55, 701, 1, 5)
    assert key.cnpj == nfe_term.emitente().cnpj and key.cnf == doc["codigo_unico"]
    payload = json.loads(doc["payload"])
    assert payload["tipo_emissao"] == "5" and payload["serie"] == "701" and payload["numero"] == "1"
    assert payload["data_entrada_contingencia"] and len(payload["justificativa_contingencia"]) >= 15
    assert payload["cnpj_destinatario"] == BUYER
    # the online attempt was never delivered: closed, replaced by this note; nothing reached the API
    original = nfe_term.store.documents.get(int(doc["replaces_document_id"]))
    assert original["status"] == "encerrado" and original["modelo"] == 55
    assert nfe_note(api, doc["ref"]) is None and nfe_note(api, original["ref"]) is None

    # DANFE Simplificado read back from the PDF: title, notice, buyer, key, two copies
    assert result.danfce
    text = subprocess.run(
        ["pdftotext", "-layout", result.danfce, "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "DANFE SIMPLIFICADO - VAREJO" in text
    assert "EMITIDA EM CONTINGÊNCIA" in text and "PENDENTE DE AUTORIZAÇÃO" in text
    assert text.upper().count("PENDENTE DE AUTORIZAÇÃO") == 2  # once per copy, not repeated
    assert "Via Consumidor" in text and "Via Estabelecimento" in text
    assert "RESTAURANTE BOA MESA LTDA" in text and "NF-e nº 000000001 Série 701" in text
    assert " ".join(doc["chave"][i : i + 4] for i in range(0, 44, 4)) in " ".join(text.split())
    assert "Protocolo de autorização" not in text
    # QR Code of both copies: the key's consultation on the national NF-e portal
    assert read_qr_codes(result.danfce, tmp_path) == [nfe_consulta_url(doc["chave"])] * 2

    # link back: the replay transmits it through /v2/nfe, polls it and records the authorization
    api.faults.clear()
    nfelib = pytest.importorskip("nfelib")
    report = ReplayService(nfe_term).run_once()
    assert report.transmitidas == [doc["ref"]], report.to_json()
    done = nfe_term.store.documents.get(result.document_id)
    assert done["status"] == "autorizado" and done["protocolo"] and done["chave"] == doc["chave"]
    remote = nfe_note(api, doc["ref"])
    assert remote is not None and remote.status == "autorizado" and remote.chave == doc["chave"]
    assert remote.tp_emis == 5
    xml = api.nfe_engine.file(done["caminho_xml"]).content()
    tree = etree.fromstring(xml)
    xsd = Path(nfelib.__file__).parent / "nfe" / "schemas" / "v4_0" / "procNFe_v4.00.xsd"
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    assert schema.validate(tree), schema.error_log
    ide = tree.find(f"{NFE}NFe/{NFE}infNFe/{NFE}ide")
    assert ide is not None
    assert (ide.findtext(f"{NFE}mod"), ide.findtext(f"{NFE}serie"), ide.findtext(f"{NFE}tpEmis")) == (
        "55",
        "701",
        "5",
    )
    assert ide.findtext(f"{NFE}dhCont") and ide.findtext(f"{NFE}xJust")
    assert ide.findtext(f"{NFE}dhEmi") == remote.dh_emi  # the original moment of the sale

    # the reprint is the authorized version: protocol, one copy, no pending notice
    pdf = nfe_term_receipt(nfe_term, result.document_id)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Protocolo de autorização" in text and "Via Estabelecimento" not in text
    assert "EMITIDA EM CONTINGÊNCIA" in text and "PENDENTE" not in text.upper()


def nfe_term_receipt(ctx: Any, doc_id: int) -> Path:
    from pos_app.core.services.receipts import ReceiptService

    return ReceiptService(ctx).render_for_document(doc_id)


def test_sale_numbers_follow_the_nfe_contingency_series_not_the_nfce_one(
    nfe_term: Any, api: SandboxServer
) -> None:
    api.faults.set("unreachable")
    service = EmissionService(nfe_term, render_receipts=False)
    first = service.checkout(cnpj_sale(nfe_term))
    cpf_sale = cnpj_sale(nfe_term)
    cpf_sale.cnpj, cpf_sale.cpf = None, "52998224725"
    nfce = service.checkout(cpf_sale)
    second = service.checkout(cnpj_sale(nfe_term))
    assert (first.modelo, first.serie, first.numero) == (55, 889, 1)  # default nfe.serie_contingencia
    assert (nfce.modelo, nfce.serie, nfce.numero) == (65, 600, 1)  # the NFC-e keeps its own
    assert (second.serie, second.numero) == (889, 2)
    assert nfe_term.store.documents.get(nfce.document_id)["tp_emis"] == 9
    api.faults.clear()
    report = ReplayService(nfe_term).run_once()
    assert sorted(report.transmitidas) == sorted([first.ref, nfce.ref, second.ref])
    assert nfe_note(api, first.ref).status == "autorizado"
    assert api.note(nfce.ref)["status"] == "autorizado"  # the NFC-e on /v2/nfce


def test_in_doubt_nfe_gets_a_contingency_note_and_the_attempt_is_reconciled(
    nfe_term: Any, api: SandboxServer
) -> None:
    api.faults.set("in_doubt", methods=["POST"])
    result = EmissionService(nfe_term, render_receipts=False).checkout(cnpj_sale(nfe_term))
    assert result.contingencia and result.modelo == 55
    cont = nfe_term.store.documents.get(result.document_id)
    attempt = nfe_term.store.documents.get(int(cont["replaces_document_id"]))
    assert attempt["status"] == "em_duvida"
    api.faults.clear()
    api.clock.advance(timedelta(seconds=2))  # the in-doubt attempt finished processing at the API
    report = ReplayService(nfe_term).run_once()
    assert result.ref in report.transmitidas
    after = nfe_term.store.documents.get(int(attempt["id"]))
    # authorized after all: cancelled at /v2/nfe within the NF-e's 24 h window
    assert after["status"] == "cancelado", after
    assert nfe_note(api, attempt["ref"]).status == "cancelado"
    assert nfe_note(api, result.ref).status == "autorizado"


def test_denied_contingency_nfe_is_final_and_never_resent(nfe_term: Any, api: SandboxServer) -> None:
    api.faults.set("unreachable")
    result = EmissionService(nfe_term, render_receipts=False).checkout(cnpj_sale(nfe_term))
    api.faults.clear()
    api.faults.reject_ref(result.ref, "302", "Rejeicao: Irregularidade fiscal do destinatario")
    ReplayService(nfe_term).run_once()
    api.clock.advance(timedelta(seconds=2))
    ReplayService(nfe_term).run_once()
    doc = nfe_term.store.documents.get(result.document_id)
    assert doc["status"] == "contingencia_denegada", doc
    posts = doc["attempts"]
    ReplayService(nfe_term).run_once()
    assert nfe_term.store.documents.get(result.document_id)["attempts"] == posts


def test_nfe_contingency_series_conflicts_are_refused(nfe_term: Any) -> None:
    cfg = nfe_term.config
    for taken in (cfg.get("nfe.serie"), str(cfg.contingencia_serie), str(cfg.nfce_serie)):
        with pytest.raises(ConfigError, match="nfe.serie_contingencia"):
            cfg.set("nfe.serie_contingencia", str(taken))
    cfg.set("nfe.serie_contingencia", "750")
    with pytest.raises(ConfigError, match="série da NF-e em contingência"):
        cfg.set("contingencia.serie", "750")
    with pytest.raises(ConfigError, match="série da NF-e em contingência"):
        cfg.set("nfe.serie", "750")
    assert (
        series_check(nfe_term).nivel == "ok" and "NF-e em contingência 750" in series_check(nfe_term).mensagem
    )
    # a value that slipped in (restored settings, store sync) is reported by the doctor
    nfe_term.store.settings.set("nfe.serie_contingencia", str(cfg.contingencia_serie))
    check = series_check(nfe_term)
    assert check.nivel == "erro" and "nfe.serie_contingencia" in check.mensagem


def test_kill_9_mid_replay_is_consulted_not_duplicated(terminal_template: Path, tmp_path: Path) -> None:
    from contingency_kit import copy_terminal

    from pos_app.app import open_app
    from pos_app.core.services.crashpoints import ENV, EXIT_CODE

    with SandboxServer(rate_limit=None) as server:
        server.nfe_engine.processing_seconds = 0.3
        data = copy_terminal(terminal_template, tmp_path / "pos-data", server.url)
        ctx = open_app(data, start_sandbox=False)
        try:
            ctx.store.clientes.save(buyer())
            server.faults.set("unreachable")
            sale = EmissionService(ctx, render_receipts=False).checkout(cnpj_sale(ctx))
            assert sale.contingencia and sale.modelo == 55
            server.faults.clear()
        finally:
            ctx.close()
        env = {k: v for k, v in os.environ.items() if k != ENV}
        env.update(POS_DATA_DIR=str(data), POS_SECRETS="arquivo", PYTHONPATH=str(ROOT))
        doomed = subprocess.run(
            [sys.executable, "-m", "pos_app", "sync", "--json"],
            env={**env, ENV: "replay_after_post"},
            cwd=ROOT,
            capture_output=True,
            timeout=120,
        )
        assert doomed.returncode == EXIT_CODE, doomed.stderr
        remote = nfe_note(server, sale.ref)
        assert remote is not None  # the API got it before the process died
        ctx = open_app(data, start_sandbox=False)
        try:
            assert ctx.store.documents.get(sale.document_id)["status"] == "transmitindo"
        finally:
            ctx.close()
        server.clock.advance(timedelta(seconds=1))
        restart = subprocess.run(
            [sys.executable, "-m", "pos_app", "sync", "--json"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert restart.returncode in (0, 1), restart.stderr
        ctx = open_app(data, start_sandbox=False)
        try:
            doc = ctx.store.documents.get(sale.document_id)
            assert doc["status"] == "autorizado" and doc["attempts"] == 1, doc  # consulted, not re-posted
            rows = ctx.store.database.query(
                "SELECT count(*) AS n FROM fiscal_documents WHERE serie = ? AND numero = ?",
                [doc["serie"], doc["numero"]],
            )
            assert rows[0]["n"] == 1
        finally:
            ctx.close()
        assert nfe_note(server, sale.ref).status == "autorizado"
        assert server.nfe_store.number_use(nfe_term_cnpj(data), 889, 1) is not None


def nfe_term_cnpj(data: Path) -> str:
    from pos_app.app import open_app

    ctx = open_app(data, start_sandbox=False)
    try:
        return str(ctx.emitente().cnpj)
    finally:
        ctx.close()


def test_sefaz_out_of_service_sends_the_nfe_sale_to_contingency_and_the_attempt_is_closed(
    nfe_term: Any, api: SandboxServer
) -> None:
    api.faults.once("sefaz_down")  # the online NF-e ends in 108 after processing
    result = EmissionService(nfe_term, render_receipts=False).checkout(cnpj_sale(nfe_term))
    assert result.contingencia and result.emitido and result.modelo == 55, result.mensagem
    assert "SEFAZ indisponível (108" in result.mensagem
    cont = nfe_term.store.documents.get(result.document_id)
    attempt = nfe_term.store.documents.get(int(cont["replaces_document_id"]))
    assert attempt["status"] == "em_duvida" and attempt["status_sefaz"] == "108"
    report = ReplayService(nfe_term).run_once()
    assert report.transmitidas == [result.ref]
    assert nfe_term.store.documents.get(result.document_id)["status"] == "autorizado"
    # the attempt was never authorized: closed, nothing cancelled
    assert nfe_term.store.documents.get(int(attempt["id"]))["status"] == "encerrado"
    assert nfe_note(api, attempt["ref"]).status == "erro_autorizacao"
