"""Gerente > Conciliação financeira (ECONF): an ECONF left in doubt (no answer) is shown with what to do;
the manager marks it registered with the protocol seen in the Focus panel, then cancels it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from pos_app.core.services.econf import EconfService  # noqa: E402
from pos_app.core.services.emission import EmissionService  # noqa: E402
from pos_app.sandbox import DEMO_TOKEN  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from econf_kit import card_sale  # noqa: E402

from pos_app.ui.econf import EconfDialog  # noqa: E402


def test_em_duvida_marked_registered_then_cancelled_from_the_manager_menu(
    qtbot: Any, demo_ctx: Any, shot: Any
) -> None:
    ctx = demo_ctx
    ctx.config.set("econf.modo", "sempre")
    ctx.config.set("focus.timeout", "2")
    result = EmissionService(ctx, render_receipts=False).checkout(card_sale(ctx))
    assert result.status == "autorizado"
    ctx.sandbox.faults.once("in_doubt")  # the event is registered, the answer never arrives
    report = EconfService(ctx).run_pass()
    assert report.em_duvida == [result.ref]
    (event,) = ctx.sandbox.engine.store.get_note(DEMO_TOKEN, result.ref).econf

    dialog = EconfDialog(ctx, ctx.store.users.by_code("9"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.list.count() == 1, timeout=10_000)
    assert "em dúvida" in dialog.list.item(0).text()
    assert "painel da Focus NFe" in dialog.hint.text() and "“Marcar como registrado”" in dialog.hint.text()
    assert "pos-app" not in dialog.hint.text()  # the window names its buttons, not CLI commands
    assert dialog.force_button.isEnabled() and not dialog.send_button.isEnabled()
    assert not dialog.mark_button.isEnabled()  # no protocol typed yet
    shot(dialog, "econf-01-em-duvida")
    qtbot.keyClicks(dialog.protocolo, event["protocolo"])
    assert dialog.mark_button.isEnabled()
    qtbot.mouseClick(dialog.mark_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "marcado como registrado" in dialog.status.text(), timeout=10_000)
    qtbot.waitUntil(
        lambda: "registrado" in dialog.list.item(0).text() and dialog.cancel_button.isEnabled(),
        timeout=10_000,
    )
    assert event["protocolo"] in dialog.list.item(0).text()
    shot(dialog, "econf-02-registrado")
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "cancelado" in dialog.status.text(), timeout=10_000)
    qtbot.waitUntil(lambda: "cancelado" in dialog.list.item(0).text(), timeout=10_000)
    assert not dialog.cancel_button.isEnabled()
    assert ctx.sandbox.engine.store.get_note(DEMO_TOKEN, result.ref).econf[0]["cancelado"] is True
    assert len(ctx.sandbox.engine.store.get_note(DEMO_TOKEN, result.ref).econf) == 1  # never resent
