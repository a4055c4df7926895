"""Manager dialogs offscreen (pytest-qt) against the demo sandbox: cancel with countdown, cash close."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QDate  # noqa: E402

from pos_app.core.domain.payments import Payment  # noqa: E402
from pos_app.core.domain.sale import Sale  # noqa: E402
from pos_app.core.services.cash import CashService  # noqa: E402
from pos_app.core.services.emission import EmissionService, SaleResult  # noqa: E402
from pos_app.core.services.users import authenticate  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "manager"
JUST = "Cliente desistiu da compra ainda no caixa"


def sell(ctx: Any, code: str, qty: str, forma: str, valor: str, session: int | None = None) -> SaleResult:
    sale = Sale()
    product = ctx.store.products.lookup(code)
    sale.add_item(product, Decimal(qty))
    sale.add_payment(
        Payment(forma=forma, valor=Decimal(valor), bandeira="01" if forma in ("03", "04") else None)
    )
    return EmissionService(ctx).checkout(sale, extra={"cash_session_id": session} if session else None)


def wait(qtbot: Any, dialog: Any) -> None:
    qtbot.waitUntil(lambda: not dialog.busy, timeout=15000)


def test_cancel_dialog_countdown_pin_and_cancel(qtbot: Any, demo_ctx: Any) -> None:
    from pos_app.ui.manager.cancel_dialog import CancelDialog

    result = sell(demo_ctx, "1021", "1", "01", "10.00")
    offset = timedelta(0)
    dialog = CancelDialog(demo_ctx, None, ref=result.ref, now=lambda: demo_ctx.now() + offset)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "Tempo para cancelar: 29:" in dialog.countdown.text() or "30:00" in dialog.countdown.text()
    assert not dialog.cancel_button.isEnabled()  # no justification, no PIN
    dialog.justificativa.setPlainText("curta")
    dialog.gate.pin.setText("9999")
    assert not dialog.cancel_button.isEnabled() and "5/255" in dialog.counter.text()
    dialog.justificativa.setPlainText(JUST)
    assert dialog.cancel_button.isEnabled()
    # the countdown moves with the clock and ends at 30 minutes
    offset = timedelta(minutes=25)
    dialog.tick()
    assert dialog.countdown.text().startswith("Tempo para cancelar: 04:")
    offset = timedelta(minutes=31)
    dialog.tick()
    assert dialog.countdown.text() == "Prazo de cancelamento encerrado"
    assert "30 minutos" in dialog.explain.text() and not dialog.cancel_button.isEnabled()
    offset = timedelta(0)
    dialog.tick()
    dialog.gate.pin.setText("0000")  # wrong PIN: refused, note untouched
    dialog.cancel_button.click()  # the confirmation step comes first
    assert dialog.confirm_box is not None and dialog.confirm_box.isVisible()
    dialog.confirm_yes.click()
    wait(qtbot, dialog)
    assert "PIN incorreto" in dialog.message.text() and dialog.gate.pin.text() == ""
    assert demo_ctx.store.documents.get(result.document_id)["status"] == "autorizado"
    dialog.gate.pin.setText("9999")
    dialog.cancel_button.click()
    dialog.confirm_box.reject()  # Esc on the confirmation: nothing sent
    assert (
        dialog.outcome is None and demo_ctx.store.documents.get(result.document_id)["status"] == "autorizado"
    )
    dialog.cancel_button.click()
    dialog.confirm_yes.click()
    wait(qtbot, dialog)
    assert dialog.outcome is not None and dialog.outcome.cancelled, dialog.message.text()
    assert "cancelada" in dialog.message.text()
    assert demo_ctx.store.documents.get(result.document_id)["status"] == "cancelado"
    assert dialog.countdown.text() == "Nota já cancelada" and not dialog.cancel_button.isEnabled()
    assert not dialog.gate.isVisible()  # the accepted manager is remembered
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(ARTIFACTS / "cancel_dialog.png"))


def test_cash_dialog_open_move_and_close(qtbot: Any, demo_ctx: Any) -> None:
    from pos_app.ui.manager.cash_dialog import CashDialog

    gerente = authenticate(demo_ctx, "9999")
    dialog = CashDialog(demo_ctx, gerente)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "Caixa fechado" in dialog.status.text() and not dialog.gate.isVisible()
    dialog.float_edit.setText("100,00")
    dialog.open_button.click()
    wait(qtbot, dialog)
    session = CashService(demo_ctx).current()
    assert session is not None and session["opening_float"] == "100.00", dialog.message.text()
    sell(demo_ctx, "7891102100377", "1", "01", "50.00", session["id"])  # troco 22,10
    sell(demo_ctx, "1021", "1", "17", "8.99", session["id"])
    dialog.kind.setCurrentIndex(0)  # sangria
    dialog.move_value.setText("30")
    dialog.move_reason.setText("depósito no cofre")
    dialog.move_button.click()
    wait(qtbot, dialog)
    assert "Sangria de R$ 30,00 registrada" in dialog.message.text()
    cash_expected = dialog.summary.formas["01"].esperado
    assert cash_expected == Decimal("97.90")  # 100 + 50 - 22,10 - 30
    assert not dialog.close_button.isEnabled()  # cash not counted yet
    cash_edit = dialog.counted["01"]
    cash_edit.setText("95,90")
    assert dialog.total_diff.text() == "Diferença total: -R$ 2,00 (falta)"
    dialog.counted["17"].setText("8,99")
    assert dialog.close_button.isEnabled()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dialog.tabs.setCurrentIndex(dialog.tab_close)
    dialog.grab().save(str(ARTIFACTS / "cash_close_dialog.png"))
    dialog.close_button.click()
    wait(qtbot, dialog)
    assert "fechado" in dialog.message.text() and "-R$ 2,00" in dialog.message.text(), dialog.message.text()
    assert CashService(demo_ctx).current() is None
    assert "FECHAMENTO DE CAIXA" in dialog.preview.toPlainText()
    assert "Caixa fechado" in dialog.status.text()


def test_cash_dialog_refuses_close_with_sale_pending_emission(
    qtbot: Any, demo_ctx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pos_app.ui.manager.cash_dialog import CashDialog

    gerente = authenticate(demo_ctx, "9999")
    session = CashService(demo_ctx).open(gerente, Decimal("0"))
    from pos_app.core.fiscal import (
        states,  # a state whose dated rule refuses tpEmis 9 (none today; SP allows it)
    )

    refusing = states.OfflineContingencyRule("SP", datetime(2026, 1, 1).date(), False, "regra de teste")
    monkeypatch.setattr(states, "OFFLINE_CONTINGENCY_RULES", (*states.OFFLINE_CONTINGENCY_RULES, refusing))
    demo_ctx.config.set("emitente.uf", "SP")  # no offline contingency there: the sale waits for the link
    demo_ctx.sandbox.faults.set("unreachable")
    waiting = sell(demo_ctx, "1021", "1", "01", "8.99", session["id"])
    assert waiting.status == "aguardando_conexao"
    dialog = CashDialog(demo_ctx, None)  # no approver: the dialog asks for the PIN itself
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.gate.isVisible()
    dialog.counted["01"].setText("8,99")
    dialog.gate.pin.setText("9999")
    dialog.close_button.click()
    wait(qtbot, dialog)
    assert "Fechamento recusado" in dialog.message.text() and waiting.ref in dialog.message.text()
    assert CashService(demo_ctx).current() is not None


def test_other_dialogs_open_and_work(qtbot: Any, demo_ctx: Any, tmp_path: Path) -> None:
    from pos_app.ui.manager import ENTRIES, manager_menu_actions
    from pos_app.ui.manager.history_dialog import HistoryDialog
    from pos_app.ui.manager.reports_dialog import ReportsDialog
    from pos_app.ui.manager.void_dialog import VoidDialog

    gerente = authenticate(demo_ctx, "9999")
    a = sell(demo_ctx, "7891102100377", "2", "01", "60.00")
    sell(demo_ctx, "1021", "1", "03", "8.99")
    actions = manager_menu_actions(demo_ctx, None, gerente)
    assert len(actions) == len(ENTRIES)
    for label, open_fn in actions:
        dialog = open_fn()
        qtbot.addWidget(dialog)
        assert dialog.windowTitle(), label
        dialog.close()
    from pos_app.ui.actions import manager_actions

    assert {f"gerente_{e[0]}" for e in ENTRIES} <= {x.key for x in manager_actions}

    history = HistoryDialog(demo_ctx, gerente)
    qtbot.addWidget(history)
    history.de.setDate(QDate(2020, 1, 1))
    history.search()
    assert history.table.rowCount() == 2
    history.select_ref(a.ref)
    assert "autorizado" in history.detail_view.toPlainText() and history.consult_button.isEnabled()
    history.consult()
    wait(qtbot, history)
    assert "API: autorizado" in history.message.text()

    void = VoidDialog(demo_ctx, gerente)
    qtbot.addWidget(void)
    void.serie.setValue(600)
    void.inicio.setValue(1)
    void.fim.setValue(1)
    void.justificativa.setPlainText("Numeracao pulada por falha no sistema")
    void.submit()
    assert "contingência" in void.message.text()  # refused locally, nothing sent
    void.serie.setValue(1)
    void.inicio.setValue(30)
    void.fim.setValue(31)
    void.submit()
    wait(qtbot, void)
    assert void.outcome is not None and void.outcome.status_sefaz == "102", void.message.text()

    reports = ReportsDialog(demo_ctx, gerente)
    qtbot.addWidget(reports)
    reports.resize(1000, 760)
    created = demo_ctx.store.sales.get(a.sale_id)["created_at"]
    reports.day.setDate(QDate(int(created[:4]), int(created[5:7]), int(created[8:10])))
    reports.show()
    assert reports.kpis["vendas"].text() == "2" and reports.kpis["total"].text() == "R$ 64,79"
    assert reports.export("pdf", tmp_path / "r.pdf") == tmp_path / "r.pdf"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    reports.grab().save(str(ARTIFACTS / "reports_dialog.png"))
