"""NF-e model 55 to a CNPJ buyer, end to end over loopback: the store's rule picks the model,
the buyer comes from the customer list, /v2/nfe is polled until authorized, the XML validates
against nfelib's schema, cancel and e-mail go to /v2/nfe, offline (before the counter contingency's
date) waits for the link and the replay issues it; a CPF sale still issues an NFC-e. The NF-e counter
contingency itself: test_nfe_contingency.py."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.services.cancellation import CancellationService
from pos_app.core.services.email import EmailService
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.nfe import choose_document
from pos_app.core.services.replay import ReplayService
from pos_app.core.services.users import authenticate
from pos_app.core.store.clientes import Cliente

ARROZ = "7891102100377"
BUYER = "12ABC34501DE35"  # alphanumeric CNPJ (valid check digits)
NFE = "{http://www.portalfiscal.inf.br/nfe}"


def cliente(doc: str = BUYER) -> Cliente:
    return Cliente(
        documento=doc,
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


def sale_to(ctx: Any, *, cnpj: str | None = None, cpf: str | None = None) -> Sale:
    sale = Sale()
    product = ctx.store.products.lookup(ARROZ)
    assert product is not None
    sale.add_item(product, Decimal("2"))
    sale.add_payment(Payment(forma="01", valor=Decimal("60.00")))
    sale.cnpj = cnpj
    sale.cpf = cpf
    return sale


@pytest.fixture
def nfe_ctx(demo_ctx: Any) -> Any:
    demo_ctx.store.clientes.save(cliente())
    demo_ctx.sandbox.nfe_engine.processing_seconds = 0.6
    return demo_ctx


def test_rule_picks_nfe_for_a_cnpj_and_nfce_for_a_cpf(nfe_ctx: Any) -> None:
    assert choose_document(nfe_ctx, BUYER).modelo == 55
    assert choose_document(nfe_ctx, BUYER).cliente is not None
    assert choose_document(nfe_ctx, None).modelo == 65
    nfe_ctx.config.set("nfe.destinatario_cnpj", "nfce")
    assert choose_document(nfe_ctx, BUYER).modelo == 65


def test_cnpj_sale_is_an_nfe_polled_until_authorized_and_its_xml_is_valid(nfe_ctx: Any) -> None:
    nfelib = pytest.importorskip("nfelib")
    result = EmissionService(nfe_ctx).checkout(sale_to(nfe_ctx, cnpj=BUYER))
    assert result.status == "autorizado" and result.modelo == 55 and result.to_json()["modelo"] == 55
    assert result.chave is not None and result.chave[20:22] == "55"
    doc = nfe_ctx.store.documents.get(result.document_id)
    assert doc["modelo"] == 55 and doc["protocolo"]
    payload = json.loads(doc["payload"])
    assert (
        payload["cnpj_destinatario"] == BUYER and payload["inscricao_estadual_destinatario"] == "9044016688"
    )
    # asynchronous: the POST answered processando_autorizacao and the GETs settled it
    raw = [
        json.loads(e["response"]) for e in nfe_ctx.store.documents.events(result.document_id) if e["response"]
    ]
    assert raw[-1]["status"] == "autorizado"
    xml = nfe_ctx.sandbox.nfe_engine.file(doc["caminho_xml"]).content()
    tree = etree.fromstring(xml)
    xsd = Path(nfelib.__file__).parent / "nfe" / "schemas" / "v4_0" / "procNFe_v4.00.xsd"
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    assert schema.validate(tree), schema.error_log
    ide = tree.find(f"{NFE}NFe/{NFE}infNFe/{NFE}ide")
    assert ide is not None and ide.findtext(f"{NFE}mod") == "55" and ide.findtext(f"{NFE}tpImp") == "3"
    dest = tree.find(f"{NFE}NFe/{NFE}infNFe/{NFE}dest")
    assert (
        dest is not None
        and dest.findtext(f"{NFE}CNPJ") == BUYER
        and dest.findtext(f"{NFE}IE") == "9044016688"
    )
    assert dest.findtext(f"{NFE}enderDest/{NFE}xMun") == "Curitiba"
    # the replay's pass archives the authorized XML under the NF-e's own name
    from pos_app.core.services.replay import ReplayService

    assert ReplayService(nfe_ctx).run_once().xml_baixados >= 1
    path = Path(nfe_ctx.store.documents.get(result.document_id)["xml_path"])
    assert path.name == f"{result.chave}-nfe.xml" and path.read_bytes() == xml


def test_cnpj_sale_without_customer_data_is_refused_before_anything_is_stored(nfe_ctx: Any) -> None:
    other = "11222333000181"
    with pytest.raises(ValidationError, match="cadastre o cliente"):
        EmissionService(nfe_ctx).checkout(sale_to(nfe_ctx, cnpj=other))
    assert nfe_ctx.store.database.query_one("SELECT count(*) AS n FROM sales")["n"] == 0


def test_cpf_sale_still_issues_an_nfce(nfe_ctx: Any) -> None:
    result = EmissionService(nfe_ctx).checkout(sale_to(nfe_ctx, cpf="52998224725"))
    assert (
        result.status == "autorizado" and result.modelo == 65 and result.chave and result.chave[20:22] == "65"
    )


def test_nfe_still_processing_after_the_wait_is_settled_by_the_replay(nfe_ctx: Any) -> None:
    nfe_ctx.sandbox.nfe_engine.processing_seconds = 60
    nfe_ctx.config.set("focus.timeout", "2")
    result = EmissionService(nfe_ctx).checkout(sale_to(nfe_ctx, cnpj=BUYER))
    assert result.status == "processando" and not result.emitido and "processamento" in result.mensagem
    report = ReplayService(nfe_ctx).run_once()
    assert report.adiadas == 1 and nfe_ctx.store.documents.get(result.document_id)["status"] == "processando"
    nfe_ctx.sandbox.clock.advance(timedelta(seconds=61))  # SEFAZ finished
    report = ReplayService(nfe_ctx).run_once()
    assert result.ref in report.emitidas
    assert nfe_ctx.store.documents.get(result.document_id)["status"] == "autorizado"


def test_offline_nfe_waits_for_the_link_and_replay_issues_it(
    nfe_ctx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the counter contingency of Ajuste SINIEF 12/2025 (the dated rule of 03/05/2026) an NF-e
    sale with the link down waits for it (today it is generated in contingency: test_nfe_contingency)."""
    from datetime import date

    from pos_app.core.fiscal.nfe_rules import nfe_contingency_tp_emis
    from pos_app.core.services import emission

    monkeypatch.setattr(
        emission, "nfe_contingency_tp_emis", lambda _on: nfe_contingency_tp_emis(date(2026, 5, 3))
    )
    nfe_ctx.sandbox.faults.set("unreachable")
    result = EmissionService(nfe_ctx).checkout(sale_to(nfe_ctx, cnpj=BUYER))
    assert result.status == "aguardando_conexao" and not result.emitido and result.modelo == 55
    assert (
        nfe_ctx.store.database.query_one(
            "SELECT count(*) AS n FROM fiscal_documents WHERE kind = 'contingencia'"
        )["n"]
        == 0
    )
    nfe_ctx.sandbox.faults.clear()
    if nfe_ctx.monitor is not None:
        nfe_ctx.monitor.report(True)
    ReplayService(nfe_ctx).run_once()
    ReplayService(nfe_ctx).run_once()
    doc = nfe_ctx.store.documents.get(result.document_id)
    assert doc["status"] == "autorizado" and doc["chave"][20:22] == "55"


def test_cancel_and_email_go_to_the_nfe_endpoint(nfe_ctx: Any) -> None:
    result = EmissionService(nfe_ctx).checkout(sale_to(nfe_ctx, cnpj=BUYER))
    assert result.status == "autorizado"
    EmailService(nfe_ctx).send(result.ref, ["compras@boamesa.com.br"], authenticate(nfe_ctx, "9999"))
    out = CancellationService(nfe_ctx).cancel(
        result.ref, "Cliente desistiu da compra ainda no caixa", authenticate(nfe_ctx, "9999")
    )
    assert out.cancelled, out.mensagem
    assert nfe_ctx.store.documents.get(result.document_id)["status"] == "cancelado"
    token = next(iter(nfe_ctx.sandbox.tokens))
    remote = nfe_ctx.sandbox.nfe_store.get_note(token, result.ref)
    assert remote is not None and remote.status == "cancelado"
    assert nfe_ctx.sandbox.store.get_note(token, result.ref) is None  # never on the NFC-e endpoint


def test_danfe_simplificado_pdf_has_the_required_content_and_a_readable_qr(nfe_ctx: Any) -> None:
    from pypdf import PdfReader

    result = EmissionService(nfe_ctx).checkout(sale_to(nfe_ctx, cnpj=BUYER))
    assert result.danfce is not None
    text = "\n".join(page.extract_text() for page in PdfReader(result.danfce).pages)
    assert "DANFE SIMPLIFICADO - VAREJO" in text
    assert "NF-e nº" in text and "Protocolo de autorização" in text
    assert "RESTAURANTE BOA MESA LTDA" in text and "IE: 9044016688" in text
    assert result.chave is not None
    assert " ".join(result.chave[i : i + 4] for i in range(0, 24, 4)) in text
    assert "Valor a pagar R$" in text and "55,80" in text
    assert "CONSUMIDOR NÃO IDENTIFICADO" not in text


def test_nfe_cancel_window_is_24_hours(nfe_ctx: Any) -> None:
    from pos_app.core.services.cancellation import remaining

    result = EmissionService(nfe_ctx).checkout(sale_to(nfe_ctx, cnpj=BUYER))
    doc = nfe_ctx.store.documents.get(result.document_id)
    left = remaining(doc, nfe_ctx.now() + timedelta(hours=2))
    assert left is not None and timedelta(hours=21) < left < timedelta(hours=22)
    nfe_ctx.sandbox.clock.advance(timedelta(hours=2))
    out = CancellationService(nfe_ctx).cancel(
        result.ref,
        "Cliente desistiu da compra ainda no caixa",
        authenticate(nfe_ctx, "9999"),
        now=nfe_ctx.now() + timedelta(hours=2),
    )
    assert out.cancelled and out.mensagem.startswith("NF-e ")


def test_daily_report_separates_nfce_and_nfe(nfe_ctx: Any, tmp_path: Path) -> None:
    from pos_app.core.services.reports import ReportService

    EmissionService(nfe_ctx).checkout(sale_to(nfe_ctx, cnpj=BUYER))
    EmissionService(nfe_ctx).checkout(sale_to(nfe_ctx, cpf="52998224725"))
    EmissionService(nfe_ctx).checkout(sale_to(nfe_ctx))
    service = ReportService(nfe_ctx)
    rep = service.daily()
    data = rep.to_json()["por_modelo"]
    assert data == [
        {"modelo": 55, "documento": "NF-e", "vendas": 1, "total": "55.80"},
        {"modelo": 65, "documento": "NFC-e", "vendas": 2, "total": "111.60"},
    ]
    csv_text = service.to_csv(rep, tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert "por modelo;NF-e (55);1;55,80" in csv_text and "por modelo;NFC-e (65);2;111,60" in csv_text
