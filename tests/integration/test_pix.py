"""Dynamic PIX against the embedded PSP sandbox over loopback (HTTP and mutual TLS)."""

from __future__ import annotations

import json
import ssl
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from pos_app.core.config import ConfigError
from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.pix import service as pix
from pos_app.core.pix.brcode import decode
from pos_app.core.pix.client import PixClient, PixConfigError, PixUnavailable
from pos_app.core.pix.service import pix_service
from pos_app.core.services.emission import EmissionService
from pos_app.demo.pix import demo_psp
from pos_app.sandbox.psp import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PSP_CNPJ, PspSandbox, TlsFiles
from pos_app.sandbox.psp_pki import make_pki

ARROZ = "7891102100377"  # R$ 27,90


@pytest.fixture(autouse=True)
def _no_auto_pay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POS_PIX_DEMO_PAGAR_APOS", "nunca")  # each test decides when the payer pays


def _users(ctx: Any) -> tuple[Any, Any]:
    users = {u.papel: u for u in ctx.store.users.all()}
    return users["caixa"], users["gerente"]


def test_demo_mode_points_pix_at_the_psp_sandbox(demo_ctx: Any) -> None:
    psp = demo_psp(demo_ctx)
    svc = pix_service(demo_ctx)
    assert psp is not None and svc.setting("pix.url") == psp.url and svc.configured()
    assert svc.cnpj_psp() == DEMO_PSP_CNPJ and svc.chave() == psp.chave
    # like the Focus sandbox: nothing written to the settings
    assert not any(k.startswith("pix.") for k in demo_ctx.config.show() if demo_ctx.config.is_set(k))


def test_config_validates_pix_keys(demo_ctx: Any) -> None:
    cfg = demo_ctx.config
    with pytest.raises(ConfigError, match="https"):
        cfg.set("pix.url", "http://psp.example.com/api/v2")
    assert cfg.set("pix.url", "https://pix.psp.example.com/api/v2/") == "https://pix.psp.example.com/api/v2"
    with pytest.raises(ConfigError, match="CPF inválido"):
        cfg.set("pix.chave", "529.982.247-24")
    assert cfg.set("pix.chave", "+55 41 99999-8888") == "+5541999998888"
    with pytest.raises(ConfigError, match="CNPJ"):
        cfg.set("pix.cnpj_psp", "11.111.111/1111-11")


def test_paid_charge_goes_on_the_note_as_integrated_pix(demo_ctx: Any) -> None:
    psp = demo_psp(demo_ctx)
    svc = pix_service(demo_ctx)
    caixa, _ = _users(demo_ctx)
    charge = svc.create(Decimal("27.90"), operador_id=caixa.id)
    assert charge.status == pix.ATIVA
    qr = decode(charge.copia_e_cola or "")
    assert qr.dinamico and qr.location and qr.location.startswith("127.0.0.1")
    psp.pay_after(charge.txid, 0.6)
    seen: list[str] = []
    charge = svc.wait(charge.id, timeout=10, first_interval=0.2, on_update=lambda c: seen.append(c.status))
    assert charge.status == pix.PAGA and charge.e2eid and len(charge.e2eid) == 32
    assert seen[0] == pix.ATIVA and seen[-1] == pix.PAGA
    sale = Sale()
    sale.add_item(demo_ctx.store.products.lookup(ARROZ), Decimal("1"))
    sale.add_payment(svc.payment_for(charge))
    result = EmissionService(demo_ctx, render_receipts=False).checkout(sale, operador_id=caixa.id)
    svc.link_sale(charge.id, result.sale_id)
    assert result.status == "autorizado"
    # What the Focus sandbox received and put in the XML
    note = demo_ctx.sandbox.note(result.ref, completa=True)
    [pag] = note["requisicao_nota_fiscal"]["formas_pagamento"]
    assert pag == {
        "forma_pagamento": "17",
        "valor_pagamento": "27.90",
        "tipo_integracao": "1",
        "cnpj_credenciadora": DEMO_PSP_CNPJ,
        "numero_autorizacao": charge.e2eid,
    }
    xml = demo_ctx.sandbox.engine.file(note["caminho_xml_nota_fiscal"]).content()
    ns = {"n": "http://www.portalfiscal.inf.br/nfe"}
    det = etree.fromstring(xml).find(".//n:detPag", ns)
    assert det.findtext("n:tPag", namespaces=ns) == "17"
    assert det.findtext("n:card/n:tpIntegra", namespaces=ns) == "1"
    assert det.findtext("n:card/n:CNPJ", namespaces=ns) == DEMO_PSP_CNPJ
    assert det.findtext("n:card/n:cAut", namespaces=ns) == charge.e2eid
    assert svc.get(charge.id).sale_id == result.sale_id
    row = demo_ctx.store.database.query_one("SELECT txid, status FROM pix_charges WHERE id = ?", [charge.id])
    assert row == {"txid": charge.txid, "status": "paga"}


def test_expired_charge(demo_ctx: Any) -> None:
    psp = demo_psp(demo_ctx)
    svc = pix_service(demo_ctx)
    charge = svc.create(Decimal("5.00"))
    timer = threading.Timer(0.4, psp.expire, [charge.txid])
    timer.start()
    charge = svc.wait(charge.id, timeout=10, first_interval=0.2)
    timer.join()
    assert charge.status == pix.EXPIRADA and charge.e2eid is None
    with pytest.raises(ValueError, match="expirada"):
        psp.pay(charge.txid)


def test_removed_by_psp(demo_ctx: Any) -> None:
    psp = demo_psp(demo_ctx)
    svc = pix_service(demo_ctx)
    charge = svc.create(Decimal("5.00"))
    psp.remove(charge.txid)
    assert svc.wait(charge.id, timeout=5, first_interval=0.1).status == pix.REMOVIDA_PSP


def test_cancelled_by_cashier_then_paid_is_refunded_by_a_manager(demo_ctx: Any) -> None:
    psp = demo_psp(demo_ctx)
    svc = pix_service(demo_ctx)
    caixa, gerente = _users(demo_ctx)
    charge = svc.create(Decimal("27.90"), operador_id=caixa.id)
    stop = threading.Event()
    waiter = threading.Thread(target=lambda: svc.wait(charge.id, timeout=10, cancel=stop, first_interval=0.1))
    waiter.start()
    stop.set()  # the cashier pressed "Cancelar"
    waiter.join(5)
    assert svc.cancel(charge.id, caixa).status == pix.CANCELADA
    assert psp.cobs[charge.txid].status == "REMOVIDA_PELO_USUARIO_RECEBEDOR"
    late = psp.pay(charge.txid)  # the customer's app had already read the QR
    assert svc.pending_refunds() == []
    svc.sync()
    assert svc.get(charge.id).status == pix.PAGA_APOS_CANCELAMENTO
    [offer] = svc.pending_refunds()
    assert (
        offer["e2eid"] == late["endToEndId"]
        and offer["valor"] == "27.90"
        and offer["motivo"] == "apos_cancelamento"
    )
    with pytest.raises(PermissionError):
        svc.refund(offer["id"], caixa)
    done = svc.refund(offer["id"], gerente)
    assert done["status"] == "devolvida" and done["rtr_id"].startswith("D")
    assert psp.devolucoes[(late["endToEndId"], offer["dev_id"])]["valor"] == "27.90"
    assert svc.pending_refunds() == []
    assert svc.refund(offer["id"], gerente)["status"] == "devolvida"  # twice: nothing sent again
    assert len(psp.devolucoes) == 1


def test_paid_twice_offers_the_extra_pix_for_refund(demo_ctx: Any) -> None:
    psp = demo_psp(demo_ctx)
    svc = pix_service(demo_ctx)
    charge = svc.create(Decimal("3.50"))
    first = psp.pay(charge.txid)
    second = psp.pay(charge.txid)
    charge = svc.refresh(charge.id)
    assert charge.status == pix.PAGA and charge.e2eid == first["endToEndId"]
    [offer] = svc.pending_refunds()
    assert offer["e2eid"] == second["endToEndId"] and offer["motivo"] == "duplicado"


def test_psp_unreachable(demo_ctx: Any) -> None:
    psp = demo_psp(demo_ctx)
    svc = pix_service(demo_ctx)
    psp.stop()
    with pytest.raises(PixUnavailable, match="Sem conexão"):
        svc.create(Decimal("10.00"))
    row = demo_ctx.store.database.query_one("SELECT status, last_error FROM pix_charges")
    assert row["status"] == pix.FALHOU and "Sem conexão" in row["last_error"]


def test_token_expires_in_the_middle_of_a_wait(demo_ctx: Any) -> None:
    psp = demo_psp(demo_ctx)
    svc = pix_service(demo_ctx)
    charge = svc.create(Decimal("8.00"))
    token_calls = sum(1 for m, p in psp.requests if p == "/oauth/token")
    psp.pay_after(charge.txid, 0.8)
    polls = {"n": 0}

    def on_update(c: Any) -> None:
        polls["n"] += 1
        if polls["n"] == 1:
            psp.expire_tokens()  # the PSP now refuses the cached token

    charge = svc.wait(charge.id, timeout=10, first_interval=0.2, on_update=on_update)
    assert charge.status == pix.PAGA
    assert sum(1 for m, p in psp.requests if p == "/oauth/token") == token_calls + 1


def test_crash_after_write_ahead_is_resolved_by_txid(demo_ctx: Any) -> None:
    psp = demo_psp(demo_ctx)
    svc = pix_service(demo_ctx)
    # A charge stored, PUT sent, answer lost (crash): the local row still says "criando".
    charge = svc.create(Decimal("4.00"))
    from datetime import UTC, datetime, timedelta

    before = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    demo_ctx.store.database.execute(
        "UPDATE pix_charges SET status = 'criando', created_at = ? WHERE id = ?", [before, charge.id]
    )
    psp.pay(charge.txid)
    # And one stored whose PUT never left the terminal.
    demo_ctx.store.database.execute(
        "INSERT INTO pix_charges (txid, terminal_id, valor, expiracao, status, created_at, updated_at) "
        "VALUES ('nuncaenviada0000000000000000000', 'T1', '1.00', 300, 'criando', ?, ?)",
        [before, before],
    )
    # A charge whose PUT is on its way right now is left alone.
    now = datetime.now(UTC).isoformat()
    demo_ctx.store.database.execute(
        "INSERT INTO pix_charges (txid, terminal_id, valor, expiracao, status, created_at, updated_at) "
        "VALUES ('emandamento00000000000000000000', 'T1', '1.00', 300, 'criando', ?, ?)",
        [now, now],
    )
    assert svc.needs_sync()
    svc.sync()
    assert svc.by_txid("emandamento00000000000000000000").status == pix.CRIANDO
    assert svc.get(charge.id).status == pix.PAGA
    assert svc.by_txid("nuncaenviada0000000000000000000").status == pix.FALHOU


def test_static_pix_payment_recorded_with_the_operator(demo_ctx: Any) -> None:
    svc = pix_service(demo_ctx)
    caixa, _ = _users(demo_ctx)
    code = svc.static_brcode(Decimal("27.90"))
    assert decode(code).chave == svc.chave()
    payment = svc.record_static(Decimal("27.90"), caixa)
    assert payment.forma == "20" and payment.numero_autorizacao is None
    sale = Sale()
    sale.add_item(demo_ctx.store.products.lookup(ARROZ), Decimal("1"))
    sale.add_payment(payment)
    result = EmissionService(demo_ctx, render_receipts=False).checkout(sale, operador_id=caixa.id)
    assert result.status == "autorizado"
    [pag] = demo_ctx.sandbox.note(result.ref, completa=True)["requisicao_nota_fiscal"]["formas_pagamento"]
    assert pag == {"forma_pagamento": "20", "valor_pagamento": "27.90"}
    entry = demo_ctx.store.database.query_one(
        "SELECT * FROM audit_log WHERE action = 'pix_estatico_confirmado'"
    )
    assert entry["user_codigo"] == caixa.codigo and json.loads(entry["details"]) == {"valor": "27.90"}


# -- mutual TLS -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_psp(pki: Any) -> Any:
    with PspSandbox(tls=TlsFiles(str(pki.server_cert), str(pki.server_key), str(pki.ca_cert))) as psp:
        yield psp


def test_mtls_with_the_right_client_certificate(tls_psp: Any, pki: Any) -> None:
    assert tls_psp.url.startswith("https://127.0.0.1:")
    client = PixClient(
        tls_psp.url,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        p12=pki.client_p12.read_bytes(),
        p12_password=pki.password,
        verify=str(pki.ca_cert),
    )
    cob = client.criar_cob("t" * 30, Decimal("9.99"), tls_psp.chave, 60)
    assert cob.status == "ATIVA" and decode(cob.copia_e_cola).dinamico
    client.close()


def test_mtls_certificate_missing_or_wrong(tls_psp: Any, pki: Any) -> None:
    with pytest.raises(PixConfigError, match="Certificado"):
        PixClient(tls_psp.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, verify=str(pki.ca_cert))
    with pytest.raises(PixConfigError, match="senha"):
        PixClient(
            tls_psp.url,
            DEMO_CLIENT_ID,
            DEMO_CLIENT_SECRET,
            p12=pki.client_p12.read_bytes(),
            p12_password="errada",
            verify=str(pki.ca_cert),
        )
    wrong = PixClient(
        tls_psp.url,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        p12=pki.wrong_client_p12.read_bytes(),
        p12_password=pki.password,
        verify=str(pki.ca_cert),
    )
    with pytest.raises(PixUnavailable, match="TLS"):
        wrong.token()
    # The server really requires one: a TLS client without any certificate is refused.
    with pytest.raises(httpx.HTTPError):
        httpx.post(
            tls_psp.url + "/oauth/token",
            verify=ssl.create_default_context(cafile=str(pki.ca_cert)),
            timeout=3,
        )
    assert not any(p == "/oauth/token" for _, p in tls_psp.requests)


def test_mtls_through_the_terminal_settings(demo_ctx: Any, tls_psp: Any, pki: Any) -> None:
    cfg = demo_ctx.config
    cfg.set("pix.url", tls_psp.url)
    cfg.set("pix.certificado", str(pki.client_p12))
    cfg.set("pix.certificado_senha", pki.password)
    cfg.set("pix.ca", str(pki.ca_cert))
    cfg.set("pix.chave", tls_psp.chave)
    svc = pix_service(demo_ctx)
    svc.reset()
    charge = svc.create(Decimal("1.50"))
    tls_psp.pay(charge.txid)
    assert svc.refresh(charge.id).status == pix.PAGA
    cfg.unset("pix.certificado")
    svc.reset()
    with pytest.raises(PixConfigError):
        svc.create(Decimal("1.50"))


def test_plain_http_psp_only_on_loopback(tmp_path: Path) -> None:
    with pytest.raises(PixConfigError, match="https"):
        PixClient("http://10.0.0.5:8080", "a", "b")
    with pytest.raises(ValueError):
        PspSandbox(host="0.0.0.0")


def test_payment_domain_accepts_static_pix() -> None:
    Payment("20", Decimal("1.00")).validate()


def test_doctor_checks_the_psp_token(demo_ctx: Any) -> None:
    from pos_app.core.services.doctor import run_doctor

    checks = {c.nome: c for c in run_doctor(demo_ctx)}
    assert checks["PIX dinâmico"].nivel == "ok" and "token do PSP obtido" in checks["PIX dinâmico"].mensagem
    demo_ctx.config.set("pix.client_secret", "errado")
    pix_service(demo_ctx).reset()
    checks = {c.nome: c for c in run_doctor(demo_ctx)}
    assert checks["PIX dinâmico"].nivel == "erro" and "credenciais" in checks["PIX dinâmico"].mensagem
    demo_psp(demo_ctx).stop()
    demo_ctx.config.unset("pix.client_secret")
    pix_service(demo_ctx).reset()
    checks = {c.nome: c for c in run_doctor(demo_ctx)}
    assert checks["PIX dinâmico"].nivel == "erro" and "inacessível" in checks["PIX dinâmico"].mensagem


def test_danfce_shows_the_end_to_end_id_and_the_static_qr_when_asked(demo_ctx: Any, tmp_path: Path) -> None:
    import shutil
    import subprocess

    from pypdf import PdfReader

    psp = demo_psp(demo_ctx)
    svc = pix_service(demo_ctx)
    caixa, _ = _users(demo_ctx)
    charge = svc.create(Decimal("20.00"))
    psp.pay(charge.txid)
    charge = svc.refresh(charge.id)
    demo_ctx.config.set("pix.qr_no_cupom", "sim")
    sale = Sale()
    sale.add_item(demo_ctx.store.products.lookup(ARROZ), Decimal("1"))
    sale.add_payment(svc.payment_for(charge))
    sale.add_payment(svc.record_static(Decimal("7.90"), caixa))
    result = EmissionService(demo_ctx).checkout(sale, operador_id=caixa.id)
    assert result.status == "autorizado" and result.danfce
    text = "\n".join(p.extract_text() for p in PdfReader(result.danfce).pages)
    assert f"ID PIX (E2E): {charge.e2eid}" in text
    assert "Pagamento PIX estático R$ 7,90 - chave da loja" in text
    from pos_app.core.services.history import HistoryService

    detail = HistoryService(demo_ctx).detail(result.ref)
    assert detail["venda"]["pagamentos"][0]["end_to_end_id"] == charge.e2eid
    if shutil.which("pdftoppm") and shutil.which("zbarimg"):
        png = tmp_path / "danfce"
        subprocess.run(["pdftoppm", "-r", "300", "-png", "-singlefile", result.danfce, str(png)], check=True)
        shutil.copy(f"{png}.png", Path(result.danfce).with_suffix(".png"))
        out = subprocess.run(["zbarimg", "--raw", "-q", f"{png}.png"], capture_output=True, text=True).stdout
        codes = out.splitlines()
        static = [c for c in codes if c.startswith("000201")]
        assert charge.copia_e_cola in static and len(static) == 2  # the dynamic one prints too
        static = [c for c in static if c != charge.copia_e_cola]
        assert decode(static[0]).valor == Decimal("7.90")
        assert any("qrcode" in c.lower() or "p=" in c for c in codes)  # the NFC-e QR is there too


def test_reports_and_cash_closing_separate_pix_from_cash_and_cards(demo_ctx: Any) -> None:
    from pos_app.core.printing.receipt import render_text
    from pos_app.core.services.cash import CashService
    from pos_app.core.services.reports import ReportService

    psp = demo_psp(demo_ctx)
    svc = pix_service(demo_ctx)
    caixa, gerente = _users(demo_ctx)
    cash = CashService(demo_ctx)
    cash.open(gerente, Decimal("50.00"))
    charge = svc.create(Decimal("27.90"))
    psp.pay(charge.txid)
    charge = svc.refresh(charge.id)
    emission = EmissionService(demo_ctx, render_receipts=False)
    for payments in (
        [svc.payment_for(charge)],
        [Payment("01", Decimal("30.00"))],
        [Payment("03", Decimal("27.90"), bandeira="01")],
        [svc.record_static(Decimal("27.90"), caixa)],
    ):
        sale = Sale()
        sale.add_item(demo_ctx.store.products.lookup(ARROZ), Decimal("1"))
        for p in payments:
            sale.add_payment(p)
        session = cash.session_for_headless_sale(caixa.id)
        assert (
            emission.checkout(sale, operador_id=caixa.id, extra={"cash_session_id": session}).status
            == "autorizado"
        )
    rep = ReportService(demo_ctx).daily(demo_ctx.now().date())
    assert rep.por_grupo == {
        "PIX": Decimal("55.80"),
        "Dinheiro": Decimal("27.90"),
        "Cartões": Decimal("27.90"),
    }
    assert rep.to_json()["por_grupo"]["PIX"] == "55.80"
    text = render_text(cash.report_blocks(cash.summary()), 48)
    assert "TOTAIS POR GRUPO" in text and max(len(line) for line in text.splitlines()) <= 48
    pix_line = next(line for line in text.splitlines() if line.startswith("PIX ") and "55,80" in line)
    assert pix_line


def test_background_sync_catches_a_late_payment(demo_ctx: Any) -> None:
    from pos_app.core.services.background import BackgroundSync

    psp = demo_psp(demo_ctx)
    svc = pix_service(demo_ctx)
    charge = svc.create(Decimal("12.00"))
    svc.cancel(charge.id)
    late = psp.pay(charge.txid)
    sync = BackgroundSync(demo_ctx, interval=3600)
    sync._tick()  # one pass of the background thread: the NFC-e backlog and the PIX watch
    assert svc.get(charge.id).status == pix.PAGA_APOS_CANCELAMENTO
    assert [r["e2eid"] for r in svc.pending_refunds()] == [late["endToEndId"]]
    psp.requests.clear()
    sync._tick()  # within the minute: the PSP is not asked again
    assert psp.requests == []
