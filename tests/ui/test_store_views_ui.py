"""Store-wide views in the manager window (issue 16, item 6): "Histórico da loja" and "Fechamentos de caixa"
of two terminals, read from a real PostgreSQL, driven through the real widgets offscreen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytestqt")
psycopg = pytest.importorskip("psycopg", reason="psycopg não instalado (extra [loja])")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pg_kit  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from pos_app.core.domain.br_format import format_local_datetime  # noqa: E402
from pos_app.core.storeserver import admin, pg, views  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    if pg_kit.pg_bin() is None:
        pytest.skip("binários do PostgreSQL ausentes (apt-get install postgresql)")
    server = pg_kit.start_postgres()
    try:
        yield server.url
    finally:
        server.stop(remove=True)


@pytest.fixture
def api() -> Iterator[Any]:
    from pos_app.sandbox import SandboxServer

    with SandboxServer(rate_limit=None) as server:
        yield server


def _terminal(template: Path, dest: Path, name: str, api_url: str, pg_url: str) -> Any:
    from pos_app.app import open_app
    from pos_app.sandbox import DEMO_TOKEN

    shutil.copytree(template, dest, ignore=shutil.ignore_patterns("*-wal", "*-shm", "backups", "logs"))
    ctx = open_app(dest, start_sandbox=False)
    for key, value in (
        ("focus.ambiente", "homologacao"),
        ("focus.token", DEMO_TOKEN),
        ("focus.url", api_url),
        ("focus.timeout", "3"),
        ("terminal.id", name),
        ("certificado.arquivo", str(dest / "certificado-demo.pfx")),
        ("loja.banco", pg_url),
        ("loja.senha", pg_kit.PASSWORD),
    ):
        ctx.config.set(key, value)
    ctx.close()
    ctx = open_app(dest, start_sandbox=False)
    assert ctx.store_sync is not None
    ctx.store_sync.interval = 0.3
    return ctx


def _sell(ctx: Any, operator: str, *payments: Any) -> Any:
    from pos_app.core.domain.sale import Sale
    from pos_app.core.services.cash import CashService
    from pos_app.core.services.emission import EmissionService

    sale = Sale()
    for code in ("1001", "1004"):
        sale.add_item(ctx.store.products.lookup(code), Decimal(1))
    for p in payments:
        sale.add_payment(p(sale.valor_total))
    user = ctx.store.users.by_code(operator)
    result = EmissionService(ctx).checkout(
        sale, operador_id=user.id, extra=CashService(ctx).sale_extra(), receipt=False
    )
    assert result.emitido, result
    return result


def _wait(cond: Any, timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return bool(cond())


def _cells(table: Any, row: int) -> list[str]:
    return [table.item(row, c).text() for c in range(table.columnCount())]


def test_store_history_and_cash_closings_of_two_terminals_in_the_manager_window(
    qtbot: Any, seeded_template: Path, tmp_path: Path, api: Any, pg_url: str, shot: Any
) -> None:
    from pos_app.core.domain.payments import Payment
    from pos_app.core.services.cash import CashService
    from pos_app.ui.store.dialog import StoreDialog
    from pos_app.ui.worker import wait_idle

    cash = lambda extra: lambda total: Payment(forma="01", valor=total + Decimal(extra))  # noqa: E731
    pix = lambda total: Payment(forma="20", valor=total)  # noqa: E731
    card = lambda total: Payment(forma="03", valor=total, bandeira="01")  # noqa: E731

    t1 = _terminal(seeded_template, tmp_path / "cx01", "CX01", api.url, pg_url)
    t2 = _terminal(seeded_template, tmp_path / "cx02", "CX02", api.url, pg_url)
    try:
        conn = pg.connect(pg_url, pg_kit.PASSWORD)
        pg.migrate(conn)
        admin.publish_terminal(conn, t1.store, por="CX01/9")
        gerente = t1.store.users.by_code("9")
        # CX01: opened by the manager, three sales (cash, PIX, card), closed R$ 1,00 short in cash
        CashService(t1).open(gerente, Decimal("100.00"))
        _sell(t1, "1", cash("10"))
        _sell(t1, "9", pix)
        _sell(t1, "1", card)
        local = CashService(t1).summary()
        expected_cash = local.formas["01"].esperado
        closed = CashService(t1).close(
            {
                "01": expected_cash - Decimal("1.00"),
                "20": local.formas["20"].esperado,
                "03": local.formas["03"].esperado,
            },
            gerente,
            observacao="faltou troco",
        )
        # CX02: opened by Ana, three cash sales, still open
        CashService(t2).open(t2.store.users.by_code("1"), Decimal("50.00"))
        for _ in range(3):
            _sell(t2, "1", cash("0"))
        day = t1.now().date().isoformat()
        for t in (t1, t2):
            t.store_sync.wake()
        assert _wait(lambda: views.history_totals(conn, day=day)["vendas"] == 6)
        assert _wait(
            lambda: [s["situacao"] for s in views.cash_sessions(conn, day=day)] == ["fechado", "aberto"]
        )

        dialog = StoreDialog(t1, gerente)
        qtbot.addWidget(dialog)
        dialog.resize(1024, 768)
        dialog.show()
        history, cash_view = dialog.history, dialog.cash
        history.per_page = 4
        qtbot.waitUntil(
            lambda: history.terminal.count() == 3 and history.operator.count() == 3, timeout=10_000
        )
        assert [history.terminal.itemText(i) for i in range(3)] == ["Todos", "CX01", "CX02"]

        # -- Histórico da loja: every terminal, newest first, paginated, local time ------------------------
        dialog.tabs.setCurrentWidget(history)
        qtbot.waitUntil(lambda: history.result is not None and not history.busy, timeout=10_000)
        assert history.table.rowCount() == 4
        assert history.page_label.text() == "Página 1 de 2"
        assert history.summary.text().startswith("6 venda(s) — total R$ ")
        assert not history.previous.isEnabled() and history.next.isEnabled()
        first = _cells(history.table, 0)
        shown = history.table.item(0, 0).data(Qt.ItemDataRole.UserRole)
        sold = {
            (t.config.terminal_id, r["id"]): r["created_at"]
            for t in (t1, t2)
            for r in t.store.database.query("SELECT id, created_at FROM sales")
        }
        assert sold[(shown["terminal"], shown["venda"])] == max(sold.values())  # newest first
        assert first[0] == format_local_datetime(shown["data"], t1.now())  # the store's local time
        assert first[7] == "Autorizada" and first[6].startswith("R$ ")
        shot(dialog, "store_history_1024x768")
        # a sale of the other checkout (CX02) printed here at CX01: its DANFCe, marked as a second copy
        assert not history.reprint.isEnabled()  # nothing selected yet
        row = next(
            r for r in range(history.table.rowCount())
            if history.table.item(r, 0).data(Qt.ItemDataRole.UserRole)["terminal"] == "CX02"
        )  # fmt: skip
        history.table.selectRow(row)
        assert history.reprint.isEnabled()
        qtbot.mouseClick(history.reprint, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not history.busy and history.message.text() != "", timeout=15_000)
        assert "Segunda via (caixa CX02) salva em" in history.message.text(), history.message.text()
        wait_idle()
        pdf = Path(history.message.text().split(" salva em ", 1)[1])
        from pypdf import PdfReader

        text = " ".join(p.extract_text() for p in PdfReader(str(pdf)).pages)
        assert "2ª VIA - REIMPRESSÃO" in text and "Gerente" in text
        qtbot.mouseClick(history.next, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda: history.page_label.text() == "Página 2 de 2" and not history.busy, timeout=10_000
        )
        assert history.table.rowCount() == 2
        # same rows as ``pos-app loja historico --json`` (one page of everything)
        seen = []
        for page in (1, 2):
            qtbot.mouseClick(history.previous if page == 1 else history.next, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(
                lambda p=page: history.page_label.text() == f"Página {p} de 2" and not history.busy
            )
            seen += [
                history.table.item(r, 0).data(Qt.ItemDataRole.UserRole)
                for r in range(history.table.rowCount())
            ]
        env = {**os.environ, "POS_DATA_DIR": str(tmp_path / "cx01"), "POS_SECRETS": "arquivo"}
        out = subprocess.run(
            [sys.executable, "-m", "pos_app", "loja", "historico", "--data", day, "--json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=60,
            check=True,
        )
        cli = json.loads(out.stdout)
        assert {(r["terminal"], r["venda"]) for r in seen} == set(sold)
        assert [r["operador_nome"] for r in seen].count("Ana (caixa)") == 5
        assert [(r["terminal"], r["venda"]) for r in cli] == [(r["terminal"], r["venda"]) for r in seen]
        assert [r["valor_total"] for r in cli] == [r["valor_total"] for r in seen]

        # filter by terminal, then by operator (the manager sold only the PIX sale on CX01)
        history.terminal.setCurrentIndex(history.terminal.findData("CX02"))
        qtbot.mouseClick(history.search, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: history.summary.text().startswith("3 venda(s)") and not history.busy)
        assert {_cells(history.table, r)[1] for r in range(history.table.rowCount())} == {"CX02"}
        assert history.page_label.text() == "Página 1 de 1"
        history.terminal.setCurrentIndex(0)
        history.operator.setCurrentIndex(history.operator.findData("9"))
        qtbot.mouseClick(history.search, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: history.summary.text().startswith("1 venda(s)") and not history.busy)
        assert _cells(history.table, 0)[4] == "Gerente Demo" and _cells(history.table, 0)[5] == "PIX estático"

        # -- Fechamentos de caixa: both terminals, expected vs counted by payment group ------------------
        dialog.tabs.setCurrentWidget(cash_view)
        qtbot.waitUntil(lambda: cash_view.table.rowCount() == 2 and not cash_view.busy, timeout=10_000)
        row1, row2 = _cells(cash_view.table, 0), _cells(cash_view.table, 1)
        assert row1[:3] == ["CX01", str(closed.id), "Fechado"] and row1[4] == "Gerente Demo"
        assert row1[6] == "Gerente Demo" and row1[7] == "3" and row1[10] == "-R$ 1,00"
        assert row1[3] == format_local_datetime(closed.session["opened_at"], t1.now())
        assert row2[:3] == ["CX02", "1", "Aberto"] and row2[4] == "Ana (caixa)" and row2[5] == "—"
        assert row2[9] == "—" and row2[10] == "—"  # nothing counted yet
        groups = {
            cash_view.groups.item(r, 0).text(): _cells(cash_view.groups, r)
            for r in range(cash_view.groups.rowCount())
        }
        assert set(groups) >= {"Dinheiro", "Cartões", "PIX"}
        assert groups["Dinheiro"][1:] == [
            f"R$ {expected_cash:.2f}".replace(".", ","),
            f"R$ {expected_cash - 1:.2f}".replace(".", ","),
            "-R$ 1,00",
        ]
        assert groups["PIX"][3] == "R$ 0,00" and groups["Cartões"][3] == "R$ 0,00"
        assert "faltou troco" in cash_view.detail.text()
        shot(dialog, "store_cash_1024x768")
        # same figures as the terminal's own closing report and as ``pos-app loja caixas --json``
        store_row = views.cash_sessions(conn, day=day, terminal="CX01")[0]
        by_forma = {f["forma"]: f for f in store_row["formas"]}
        for forma, line in closed.formas.items():
            assert by_forma[forma]["esperado"] == f"{line.esperado:.2f}"
            assert by_forma[forma]["contado"] == (None if line.contado is None else f"{line.contado:.2f}")
        assert store_row["diferenca_total"] == f"{closed.diferenca_total:.2f}" == "-1.00"
        open_local = CashService(t2).summary()
        open_row = views.cash_sessions(conn, day=day, terminal="CX02")[0]
        assert open_row["formas"][0]["esperado"] == f"{open_local.formas['01'].esperado:.2f}"
        out = subprocess.run(
            [sys.executable, "-m", "pos_app", "loja", "caixas", "--data", day, "--json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=60,
            check=True,
        )
        assert json.loads(out.stdout) == json.loads(json.dumps(cash_view.sessions))
        cash_view.table.selectRow(1)
        assert cash_view.groups.item(0, 0).text() == "Dinheiro" and cash_view.groups.item(0, 2).text() == "—"
        conn.close()
        dialog.close()
        wait_idle(10_000)
    finally:
        t1.close()
        t2.close()
