"""The manager's refund list shows the PSP's final answer: DEVOLVIDO, or NAO_REALIZADO and try again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from pos_app.core.pix.service import pix_service  # noqa: E402
from pos_app.demo.pix import demo_psp  # noqa: E402
from pos_app.ui.pix.refunds import PixRefundsDialog  # noqa: E402


def test_refund_not_done_by_the_psp_is_shown_and_tried_again(
    qtbot: Any, controller: Any, monkeypatch: pytest.MonkeyPatch, shot: Any
) -> None:
    monkeypatch.setenv("POS_PIX_DEMO_PAGAR_APOS", "nunca")
    ctx = controller.ctx
    psp, svc = demo_psp(ctx), pix_service(ctx)
    charge = svc.create(Decimal("12.50"))
    svc.cancel(charge.id)
    late = psp.pay(charge.txid)  # paid after the cashier cancelled
    psp.refund_outcome = "NAO_REALIZADO"
    dialog = PixRefundsDialog(ctx, ctx.store.users.by_code("9"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.list.count() == 1 and dialog.refund_button.isEnabled(), timeout=10_000)
    assert late["endToEndId"] in dialog.list.item(0).text()
    qtbot.mouseClick(dialog.refund_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "NÃO realizada pelo PSP" in dialog.status.text(), timeout=15_000)
    qtbot.waitUntil(lambda: "não realizada pelo PSP" in dialog.list.item(0).text(), timeout=10_000)
    assert psp.refund_motivo in dialog.list.item(0).text()
    shot(dialog, "pix-05-devolucao-nao-realizada")
    psp.refund_outcome = "DEVOLVIDO"
    qtbot.waitUntil(lambda: dialog.refund_button.isEnabled(), timeout=10_000)
    qtbot.mouseClick(dialog.refund_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "feita (confirmada pelo PSP)" in dialog.status.text(), timeout=15_000)
    qtbot.waitUntil(lambda: dialog.list.count() == 0, timeout=10_000)
    assert sorted(d["status"] for d in psp.devolucoes.values()) == ["DEVOLVIDO", "NAO_REALIZADO"]
