"""The history dialog over a grown database (issue 20): pages of 200, count and total over every
page, previous/next; a screenshot under test-artifacts/manager/."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from benchmarks import history_templates  # noqa: E402
from PySide6.QtCore import QDate  # noqa: E402

from pos_app.core.domain.money import format_brl  # noqa: E402
from pos_app.core.services.history import HistoryFilter, HistoryService  # noqa: E402
from pos_app.core.services.users import authenticate  # noqa: E402
from pos_app.core.store.bulk import replicate_history  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "manager"
PER_DAY = 250


def test_history_dialog_pages_a_busy_day(qtbot: Any, demo_ctx: Any) -> None:
    from pos_app.ui.manager.history_dialog import COLUMNS, PAGE_SIZE, HistoryDialog

    REF_COLUMN = COLUMNS.index("Referência")  # the counter UI (issue 14) shows the note number in column 1

    ctx = demo_ctx
    history_templates(ctx)
    today = ctx.now().date()
    replicate_history(
        ctx.store.database,
        start=today - timedelta(days=3),
        days=3,
        per_day=PER_DAY,
        tz=ctx.now().tzinfo,
        terminal_id=ctx.config.terminal_id,
    )
    day = today - timedelta(days=2)
    everything = HistoryService(ctx).search(HistoryFilter(de=day, ate=day, limit=10_000))
    assert len(everything) == PER_DAY
    expected_total = sum((r.total for r in everything if r.status != "cancelado"), Decimal("0.00"))

    dialog = HistoryDialog(ctx, authenticate(ctx, "9999"))
    qtbot.addWidget(dialog)
    dialog.resize(1366, 768)
    dialog.show()
    dialog.de.setDate(QDate(day.year, day.month, day.day))
    dialog.ate.setDate(QDate(day.year, day.month, day.day))
    dialog.search()
    assert dialog.table.rowCount() == PAGE_SIZE
    assert dialog.page_label.text() == "página 1 de 2"
    assert f"{PER_DAY} venda(s)" in dialog.summary.text()
    assert format_brl(expected_total) in dialog.summary.text()
    assert not dialog.prev_button.isEnabled() and dialog.next_button.isEnabled()
    first_ref = dialog.table.item(0, REF_COLUMN).text()
    assert first_ref == everything[0].ref
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(ARTIFACTS / "history_pages.png"))

    dialog.next_button.click()
    assert dialog.table.rowCount() == PER_DAY - PAGE_SIZE
    assert dialog.page_label.text() == "página 2 de 2"
    assert dialog.table.item(0, REF_COLUMN).text() == everything[PAGE_SIZE].ref
    assert dialog.prev_button.isEnabled() and not dialog.next_button.isEnabled()
    assert f"{PER_DAY} venda(s)" in dialog.summary.text()  # the count covers every page
    dialog.prev_button.click()
    assert dialog.table.item(0, REF_COLUMN).text() == first_ref
