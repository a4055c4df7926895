"""Manager services (issue 6) against the embedded sandbox over loopback: cancel within 30 minutes,
scheduled cancel of a contingency note, inutilização, e-mail, history, cash sessions, users, reports."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.focus.nfce import NfceApi
from pos_app.core.services.audit import AuditLog
from pos_app.core.services.cancellation import (
    AGENDADO,
    CANCELADO,
    RECUSADO,
    RECUSADO_SEFAZ,
    CancellationService,
    remaining,
)
from pos_app.core.services.cash import CashService
from pos_app.core.services.email import EmailService
from pos_app.core.services.emission import EmissionService, SaleResult
from pos_app.core.services.history import HistoryFilter, HistoryService
from pos_app.core.services.replay import ReplayService
from pos_app.core.services.reports import ReportService
from pos_app.core.services.users import ManagerError, PermissionDenied, UserAdminService, authenticate
from pos_app.core.services.voiding import VoidingService

ARROZ = "7891102100377"  # R$ 27,90
NESCAU = "1021"  # R$ 8,99
JUSTIFICATIVA = "Cliente desistiu da compra ainda no caixa"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "manager"


def to_png(pdf: Path, name: str) -> None:
    """Keep a PNG of a rendered PDF for a human look (pdftoppm, when installed)."""
    if shutil.which("pdftoppm") is None:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(ARTIFACTS / name)],
        check=True,
        timeout=60,
    )
    assert (ARTIFACTS / f"{name}.png").stat().st_size > 5000


def sell(
    ctx: Any,
    *items: tuple[str, str],
    pay: list[tuple[str, str]],
    cpf: str | None = None,
    operador: str | None = None,
    session: int | None = None,
) -> SaleResult:
    sale = Sale()
    for code, qty in items:
        product = ctx.store.products.lookup(code)
        assert product is not None
        sale.add_item(product, Decimal(qty))
    for forma, valor in pay:
        sale.add_payment(
            Payment(forma=forma, valor=Decimal(valor), bandeira="01" if forma in ("03", "04") else None)
        )
    sale.cpf = cpf
    user = ctx.store.users.by_code(operador) if operador else None
    extra = {"cash_session_id": session} if session else None
    return EmissionService(ctx).checkout(sale, operador_id=user.id if user else None, extra=extra)


def manager(ctx: Any) -> Any:
    return authenticate(ctx, "9999")


@pytest.fixture
def cancel_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every DELETE /v2/nfce/REF the terminal sends."""
    calls: list[str] = []
    original = NfceApi.cancel

    def spy(self: NfceApi, ref: str, justificativa: str, **kw: Any) -> Any:
        calls.append(ref)
        return original(self, ref, justificativa, **kw)

    monkeypatch.setattr(NfceApi, "cancel", spy)
    return calls


# -- manager PIN -----------------------------------------------------------------------------------
def test_manager_pin_checks_role_and_locks_out(demo_ctx: Any) -> None:
    assert authenticate(demo_ctx, "9999").codigo == "9"
    with pytest.raises(PermissionDenied, match="exige o PIN de um gerente"):
        authenticate(demo_ctx, "1111", "1")  # Ana is a cashier
    for n in range(1, 5):
        with pytest.raises(PermissionDenied, match=f"{n} de 5"):
            authenticate(demo_ctx, "0000")
    with pytest.raises(PermissionDenied, match="bloqueado"):
        authenticate(demo_ctx, "0000")
    with pytest.raises(PermissionDenied, match="bloqueado"):
        authenticate(demo_ctx, "9999")  # locked even with the right PIN
    refused = AuditLog(demo_ctx.store).entries(action="pin_gerente")
    assert len(refused) == 7 and all(e.outcome == "recusado" for e in refused)


# -- cancel ----------------------------------------------------------------------------------------
def test_cancel_within_window(demo_ctx: Any, cancel_calls: list[str]) -> None:
    result = sell(demo_ctx, (ARROZ, "1"), pay=[("01", "30.00")])
    doc = demo_ctx.store.documents.get(result.document_id)
    left = remaining(doc, demo_ctx.now())
    assert left is not None and timedelta(minutes=29) < left <= timedelta(minutes=30)
    out = CancellationService(demo_ctx).cancel(result.ref, JUSTIFICATIVA, manager(demo_ctx))
    assert out.outcome == CANCELADO and out.status_sefaz == "135"
    assert cancel_calls == [result.ref]
    doc = demo_ctx.store.documents.get(result.document_id)
    assert doc["status"] == "cancelado" and doc["caminho_xml_cancelamento"]
    assert demo_ctx.sandbox.note(result.ref)["status"] == "cancelado"
    events = demo_ctx.store.documents.events(result.document_id)
    assert events[-1]["to_status"] == "cancelado" and "Gerente Demo" in events[-1]["note"]
    assert remaining(doc, demo_ctx.now()) is None
    entry = AuditLog(demo_ctx.store).entries(action="cancelamento")[0]
    assert (entry.user_codigo, entry.target, entry.reason, entry.outcome) == (
        "9",
        result.ref,
        JUSTIFICATIVA,
        "ok",
    )


@pytest.mark.parametrize("text", ["curta demais", "x" * 256, "   " + "a" * 13 + "   "])
def test_cancel_justification_out_of_bounds_sends_nothing(
    demo_ctx: Any, cancel_calls: list[str], text: str
) -> None:
    result = sell(demo_ctx, (NESCAU, "1"), pay=[("17", "8.99")])
    with pytest.raises(ManagerError, match="Justificativa") as err:
        CancellationService(demo_ctx).cancel(result.ref, text, manager(demo_ctx))
    assert err.value.field == "justificativa"
    assert cancel_calls == []
    assert demo_ctx.store.documents.get(result.document_id)["status"] == "autorizado"


def test_late_cancel_explained_and_not_sent(demo_ctx: Any, cancel_calls: list[str]) -> None:
    result = sell(demo_ctx, (ARROZ, "1"), pay=[("01", "30.00")])
    demo_ctx.sandbox.clock.advance(timedelta(minutes=31))
    later = demo_ctx.now() + timedelta(minutes=31)
    doc = demo_ctx.store.documents.get(result.document_id)
    assert remaining(doc, later) == timedelta(0)
    out = CancellationService(demo_ctx).cancel(result.ref, JUSTIFICATIVA, manager(demo_ctx), now=later)
    assert out.outcome == RECUSADO and not out.cancelled
    assert "30 minutos" in out.mensagem and "Nenhum pedido foi enviado" in out.mensagem
    assert cancel_calls == []
    assert demo_ctx.store.documents.get(result.document_id)["status"] == "autorizado"
    assert demo_ctx.sandbox.note(result.ref)["status"] == "autorizado"
    entry = AuditLog(demo_ctx.store).entries(action="cancelamento")[0]
    assert entry.outcome == "recusado" and "prazo" in entry.details["motivo"]


def test_sefaz_refusal_after_its_deadline_is_shown(demo_ctx: Any, cancel_calls: list[str]) -> None:
    """Local clock still inside the window, SEFAZ's past it (clock skew): 501 is shown, note stays."""
    result = sell(demo_ctx, (ARROZ, "1"), pay=[("01", "30.00")])
    demo_ctx.sandbox.clock.advance(timedelta(minutes=31))
    out = CancellationService(demo_ctx).cancel(result.ref, JUSTIFICATIVA, manager(demo_ctx))
    assert cancel_calls == [result.ref]
    assert out.outcome == RECUSADO_SEFAZ and out.status_sefaz == "501" and "relógio" in out.mensagem
    doc = demo_ctx.store.documents.get(result.document_id)
    assert doc["status"] == "autorizado"
    last = demo_ctx.store.documents.events(result.document_id)[-1]
    assert '"501"' in last["response"] and "recusado" in last["note"]


def test_wrong_pin_blocks_cancel_before_anything(demo_ctx: Any, cancel_calls: list[str]) -> None:
    sell(demo_ctx, (ARROZ, "1"), pay=[("01", "30.00")])
    with pytest.raises(PermissionDenied, match="PIN incorreto"):
        authenticate(demo_ctx, "1234", action="cancelamento")
    assert cancel_calls == []


def test_cancel_intent_of_contingency_note_is_carried_out_after_replay(
    demo_ctx: Any, cancel_calls: list[str]
) -> None:
    demo_ctx.sandbox.faults.set("unreachable")
    result = sell(demo_ctx, (ARROZ, "1"), pay=[("01", "30.00")])
    assert result.status == "contingencia_pendente" and result.ref.endswith("_C") and "-" not in result.ref
    online_ref = result.ref[:-2]
    # The manager names the sale by its first ref: the contingency note is the one to cancel.
    out = CancellationService(demo_ctx).cancel(online_ref, JUSTIFICATIVA, manager(demo_ctx))
    assert out.outcome == AGENDADO and out.ref == result.ref and "agendado" in out.mensagem
    assert cancel_calls == []
    demo_ctx.sandbox.faults.clear()
    report = ReplayService(demo_ctx).run_once()
    assert report.transmitidas == [result.ref]
    assert cancel_calls == [result.ref]
    doc = demo_ctx.store.documents.get(result.document_id)
    assert doc["status"] == "cancelado"
    assert demo_ctx.sandbox.note(result.ref)["status"] == "cancelado"
    assert any(r["ref"] == result.ref and "cancelada" in r["resultado"] for r in report.reconciliadas)
    intent = demo_ctx.store.database.query_one("SELECT * FROM cancel_intents")
    assert intent["status"] == "executado" and intent["justificativa"] == JUSTIFICATIVA
    actions = [(e.action, e.outcome, e.user_codigo) for e in AuditLog(demo_ctx.store).entries()]
    assert ("cancelamento_agendado", "agendado", "9") in actions
    assert ("cancelamento_automatico", "ok", "9") in actions
    history = HistoryService(demo_ctx).detail(result.ref)
    assert history["cancelamentos_agendados"][0]["status"] == "executado"


# -- inutilização ----------------------------------------------------------------------------------
def test_void_online_series_shows_sefaz_answers(demo_ctx: Any) -> None:
    first = sell(demo_ctx, (NESCAU, "1"), pay=[("01", "10.00")])
    assert first.serie == 1
    service = VoidingService(demo_ctx)
    ok = service.void(1, 50, 52, "Numeracao pulada por falha no sistema", manager(demo_ctx))
    assert ok.ok and ok.status_sefaz == "102" and "inutilizada" in ok.mensagem
    # Another terminal used number 60 (this one does not know): SEFAZ answers 241.
    other = sell(demo_ctx, (NESCAU, "1"), pay=[("01", "10.00")])
    used_elsewhere = int(other.numero or 0)
    demo_ctx.store.database.execute(
        "UPDATE fiscal_documents SET numero = NULL WHERE id = ?", [other.document_id]
    )
    bad = service.void(
        1, used_elsewhere, used_elsewhere + 1, "Numeracao pulada por falha no sistema", manager(demo_ctx)
    )
    assert not bad.ok and bad.status_sefaz == "241"
    rows = service.history()
    assert [r["status_sefaz"] for r in rows] == ["241", "102"]
    outcomes = [e.outcome for e in AuditLog(demo_ctx.store).entries(action="inutilizacao")]
    assert outcomes == ["recusado", "ok"]


def test_void_refuses_contingency_series_and_used_numbers(demo_ctx: Any) -> None:
    sent_before = len(demo_ctx.sandbox.inutilizacoes())
    first = sell(demo_ctx, (NESCAU, "1"), pay=[("01", "10.00")])
    service = VoidingService(demo_ctx)
    just = "Numeracao pulada por falha no sistema"
    with pytest.raises(ManagerError, match="contingência") as err:
        service.void(demo_ctx.config.contingencia_serie, 1, 3, just, manager(demo_ctx))
    assert err.value.field == "serie"
    # A series once used by contingency notes stays forbidden after the configuration changes.
    demo_ctx.sandbox.faults.set("unreachable")
    sell(demo_ctx, (NESCAU, "1"), pay=[("01", "10.00")])
    demo_ctx.sandbox.faults.clear()
    demo_ctx.config.set("contingencia.serie", "700")
    with pytest.raises(ManagerError, match="contingência"):
        service.void(600, 5, 6, just, manager(demo_ctx))
    with pytest.raises(ManagerError, match="já usados") as err:
        service.void(1, 1, 10, just, manager(demo_ctx))
    assert str(first.numero) in err.value.message
    with pytest.raises(ManagerError, match="Justificativa"):
        service.void(1, 100, 101, "curta", manager(demo_ctx))
    with pytest.raises(ManagerError, match="final"):
        service.void(1, 101, 100, just, manager(demo_ctx))
    assert len(demo_ctx.sandbox.inutilizacoes()) == sent_before
    assert all(e.outcome == "recusado" for e in AuditLog(demo_ctx.store).entries(action="inutilizacao"))


# -- e-mail ----------------------------------------------------------------------------------------
def test_email_resend(demo_ctx: Any) -> None:
    result = sell(demo_ctx, (NESCAU, "1"), pay=[("01", "10.00")])
    service = EmailService(demo_ctx)
    out = service.send(result.ref, ["cliente@example.com", "cliente@example.com; outro@example.com.br"])
    assert out.ok and out.emails == ["cliente@example.com", "outro@example.com.br"]
    assert [e.email for e in demo_ctx.sandbox.sent_emails(result.ref)] == out.emails
    with pytest.raises(ManagerError, match="inválido"):
        service.send(result.ref, ["sem-arroba.com"])
    with pytest.raises(ManagerError, match="No máximo 10"):
        service.send(result.ref, [f"c{i}@example.com" for i in range(11)])
    assert len(demo_ctx.sandbox.sent_emails(result.ref)) == 2
    assert AuditLog(demo_ctx.store).entries(action="email")[0].details["emails"] == out.emails


# -- history ---------------------------------------------------------------------------------------
def test_history_filters_detail_and_consult(demo_ctx: Any) -> None:
    a = sell(demo_ctx, (ARROZ, "1"), pay=[("01", "30.00")], cpf="52998224725", operador="1")
    b = sell(demo_ctx, (NESCAU, "2"), pay=[("17", "17.98")])
    demo_ctx.sandbox.faults.set("unreachable")
    c = sell(demo_ctx, (NESCAU, "1"), pay=[("01", "8.99")])
    demo_ctx.sandbox.faults.clear()
    CancellationService(demo_ctx).cancel(b.ref, JUSTIFICATIVA, manager(demo_ctx))
    h = HistoryService(demo_ctx)
    first, last = (date.fromisoformat(demo_ctx.store.sales.get(x.sale_id)["created_at"][:10]) for x in (a, c))
    assert [r.ref for r in h.search(HistoryFilter(de=first, ate=last))] == [c.ref, b.ref, a.ref]
    assert [r.ref for r in h.search(HistoryFilter(de=last + timedelta(days=1)))] == []
    assert [r.ref for r in h.search(HistoryFilter(status=["autorizado"]))] == [a.ref]
    assert [r.ref for r in h.search(HistoryFilter(status=["cancelado"]))] == [b.ref]
    assert [r.ref for r in h.search(HistoryFilter(status=["contingencia"]))] == [c.ref]
    assert [r.ref for r in h.search(HistoryFilter(status=["correcao"]))] == []
    assert [r.ref for r in h.search(HistoryFilter(cpf="529.982.247-25"))] == [a.ref]
    assert [r.ref for r in h.search(HistoryFilter(operador="1"))] == [a.ref]
    assert a.numero == c.numero == 1  # same number, online series 1 and contingency series 600
    assert [r.ref for r in h.search(HistoryFilter(numero=a.numero))] == [c.ref, a.ref]
    assert [r.ref for r in h.search(HistoryFilter(numero=a.numero, serie=1))] == [a.ref]
    assert [r.ref for r in h.search(HistoryFilter(chave=a.chave))] == [a.ref]
    detail = h.detail(b.ref)
    statuses = [e["para"] for e in detail["documentos"][0]["eventos"]]
    assert statuses == ["pendente", "enviando", "autorizado", "cancelado"]
    assert detail["documentos"][0]["eventos"][-1]["resposta"]["status_sefaz"] == "135"
    assert detail["auditoria"][0]["acao"] == "cancelamento"
    # the contingency sale shows both the failed online attempt and the contingency note
    assert [d["tipo"] for d in h.detail(c.ref)["documentos"]] == ["online", "contingencia"]
    consulted = h.consult(a.ref)
    assert consulted["api"] == "autorizado" and consulted["status_sefaz"] == "100"
    assert "consulta manual" in demo_ctx.store.documents.events(a.document_id)[-1]["note"]
    xml = h.xml_file(a.ref)
    assert xml.is_file() and b"<nfeProc" in xml.read_bytes()
    assert h.xml_file(b.ref, cancelamento=True).read_bytes().count(b"110111") >= 1


# -- cash ------------------------------------------------------------------------------------------
def test_cash_session_counted_vs_expected(demo_ctx: Any, tmp_path: Path) -> None:
    cash = CashService(demo_ctx)
    gerente = manager(demo_ctx)
    with pytest.raises(ManagerError, match="Caixa fechado"):
        cash.sale_extra()
    session = cash.open(gerente, Decimal("100.00"))
    with pytest.raises(ManagerError, match="Já existe"):
        cash.open(gerente, Decimal("0"))
    sid = int(session["id"])
    sell(demo_ctx, (ARROZ, "1"), pay=[("01", "50.00")], session=sid)  # troco 22,10
    sell(demo_ctx, (NESCAU, "2"), pay=[("17", "17.98")], session=sid)
    cancelled = sell(demo_ctx, (NESCAU, "1"), pay=[("01", "8.99")], session=sid)
    CancellationService(demo_ctx).cancel(cancelled.ref, JUSTIFICATIVA, gerente)
    cash.move("suprimento", Decimal("20"), "troco extra do banco", gerente)
    cash.move("sangria", Decimal("40"), "depósito no cofre", gerente)
    with pytest.raises(ManagerError, match="motivo"):
        cash.move("sangria", Decimal("1"), "", gerente)
    with pytest.raises(ManagerError, match="maior que o dinheiro"):
        cash.move("sangria", Decimal("1000"), "tentativa", gerente)
    x = cash.summary()
    assert x.vendas == 2 and x.total_vendas == Decimal("45.88") and x.canceladas == 1
    # 100 + 50 - 22,10 troco + 20 - 40 = 107,90
    assert x.formas["01"].esperado == Decimal("107.90") and x.formas["17"].esperado == Decimal("17.98")
    closed = cash.close({"01": Decimal("105.00"), "17": Decimal("17.98")}, gerente, observacao="faltou troco")
    assert closed.formas["01"].diferenca == Decimal("-2.90") and closed.formas["17"].diferenca == Decimal(
        "0.00"
    )
    assert closed.diferenca_total == Decimal("-2.90") and closed.session["status"] == "fechado"
    again = cash.summary(closed.id)  # the stored closing reads back the same figures
    assert again.formas["01"].contado == Decimal("105.00") and again.diferenca_total == Decimal("-2.90")
    from pos_app.core.printing.receipt import Columns, Text, render_text

    blocks = cash.report_blocks(again, 48)
    assert all(
        isinstance(b, Text | Columns) or b.__class__.__name__ in ("Separator", "Spacer", "Cut")
        for b in blocks
    )
    text = render_text(blocks, 48)
    assert "FECHAMENTO DE CAIXA" in text and "-R$ 2,90" in text
    assert max(len(line) for line in text.splitlines()) <= 48
    assert max(len(line) for line in render_text(cash.report_blocks(again, 32), 32).splitlines()) <= 32
    pdf = cash.report_pdf(again, tmp_path / "fechamento.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    to_png(pdf, "test-caixa-fechamento")
    actions = [e.action for e in AuditLog(demo_ctx.store).entries()]
    for action in ("caixa_abertura", "caixa_suprimento", "caixa_sangria", "caixa_fechamento"):
        assert action in actions


def test_closing_refused_while_a_sale_is_pending_emission(
    demo_ctx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cash = CashService(demo_ctx)
    gerente = manager(demo_ctx)
    sid = int(cash.open(gerente, Decimal("0"))["id"])
    from pos_app.core.fiscal import (
        states,  # a state whose dated rule refuses tpEmis 9 (none today; SP allows it)
    )

    refusing = states.OfflineContingencyRule("SP", datetime(2026, 1, 1).date(), False, "regra de teste")
    monkeypatch.setattr(states, "OFFLINE_CONTINGENCY_RULES", (*states.OFFLINE_CONTINGENCY_RULES, refusing))
    demo_ctx.config.set("emitente.uf", "SP")  # no offline contingency there: the sale waits for the link
    demo_ctx.sandbox.faults.set("unreachable")
    waiting = sell(demo_ctx, (NESCAU, "1"), pay=[("01", "8.99")], session=sid)
    assert waiting.status == "aguardando_conexao"
    with pytest.raises(ManagerError, match="sem NFC-e emitida") as err:
        cash.close({"01": Decimal("8.99")}, gerente)
    assert waiting.ref in err.value.message
    assert cash.current() is not None  # nothing changed
    assert AuditLog(demo_ctx.store).entries(action="caixa_fechamento")[0].outcome == "recusado"


def test_headless_sale_opens_a_session_with_zero_float(demo_ctx: Any) -> None:
    cash = CashService(demo_ctx)
    sid = cash.session_for_headless_sale(None)
    assert cash.session_for_headless_sale(None) == sid
    session = cash.get(sid)
    assert session["auto_opened"] == 1 and session["opening_float"] == "0.00"
    assert AuditLog(demo_ctx.store).entries(action="caixa_abertura_automatica")[0].target == f"caixa {sid}"


# -- users -----------------------------------------------------------------------------------------
def test_users_add_disable_change_pin(demo_ctx: Any) -> None:
    service = UserAdminService(demo_ctx)
    gerente = manager(demo_ctx)
    bia = service.add("Bia  Souza", "caixa", "2468", gerente)
    assert bia.nome == "Bia Souza" and bia.papel == "caixa"
    with pytest.raises(ManagerError, match="PIN"):
        service.add("Caio", "caixa", "12", gerente)
    with pytest.raises(ManagerError, match="único gerente"):
        service.set_active("9", False, service.add("Gil", "caixa", "1357", gerente))
    with pytest.raises(ManagerError, match="a si mesmo"):
        service.set_active("9", False, gerente)
    service.set_active(bia.codigo, False, gerente, reason="desligada")
    with pytest.raises(Exception, match="desativado"):
        demo_ctx.store.users.authenticate(bia.codigo, "2468")
    service.set_active(bia.codigo, True, gerente)
    service.change_pin(bia.codigo, "8642", gerente)
    assert demo_ctx.store.users.authenticate(bia.codigo, "8642").codigo == bia.codigo
    actions = [e.action for e in AuditLog(demo_ctx.store).entries()]
    assert {"usuario_cadastro", "usuario_desativacao", "usuario_ativacao", "usuario_pin"} <= set(actions)


# -- reports ---------------------------------------------------------------------------------------
def test_daily_report_pdf_and_csv(demo_ctx: Any, tmp_path: Path) -> None:
    first = sell(demo_ctx, (ARROZ, "2"), pay=[("01", "60.00")])
    sell(demo_ctx, (NESCAU, "1"), pay=[("03", "8.99")])
    gone = sell(demo_ctx, (NESCAU, "1"), pay=[("17", "8.99")])
    CancellationService(demo_ctx).cancel(gone.ref, JUSTIFICATIVA, manager(demo_ctx))
    service = ReportService(demo_ctx)
    created = datetime.fromisoformat(demo_ctx.store.sales.get(first.sale_id)["created_at"])
    rep = service.daily(created.date())
    assert rep.vendas == 2 and rep.total == Decimal("64.79") and rep.ticket_medio == Decimal("32.40")
    assert rep.por_forma == {"01": Decimal("55.80"), "03": Decimal("8.99")}  # cash net of troco
    assert sum(rep.por_forma.values()) == rep.total
    assert len(rep.canceladas) == 1 and rep.total_cancelado == Decimal("8.99")
    hour = created.hour
    assert rep.por_hora[hour].vendas == 2
    pdf = service.to_pdf(rep, tmp_path / "dia.pdf")
    to_png(pdf, "test-relatorio-dia")
    from pypdf import PdfReader

    text = PdfReader(str(pdf)).pages[0].extract_text()
    assert "Vendas por hora" in text and "R$ 64,79" in text and "Cartão de crédito" in text
    with open(service.to_csv(rep, tmp_path / "dia.csv"), encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert ["resumo", "vendas", "2", "64,79"] in rows
    assert ["por hora", f"{hour:02d}h", "2", "64,79"] in rows
