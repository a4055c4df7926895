"""Store (loja) in the window: the manager changes a price for every terminal; the status bar chip."""

from __future__ import annotations

import re
import sys
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
from PySide6.QtWidgets import QMainWindow  # noqa: E402

from pos_app.core.storeserver import admin, link, pg  # noqa: E402


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    if pg_kit.pg_bin() is None:
        pytest.skip("binários do PostgreSQL ausentes (apt-get install postgresql)")
    server = pg_kit.start_postgres()
    try:
        yield server.url
    finally:
        server.stop(remove=True)


def test_manager_changes_price_for_the_store_from_the_window(qtbot: Any, ctx: Any, pg_url: str) -> None:
    from pos_app.ui.store.dialog import StoreDialog

    ctx.config.set("loja.banco", pg_url)
    ctx.config.set("loja.senha", pg_kit.PASSWORD)
    sync = link.attach(ctx, interval=0.3)
    assert sync is not None
    conn = pg.connect(pg_url, pg_kit.PASSWORD)
    pg.migrate(conn)
    admin.publish_products(conn, ctx.store.products.all())
    manager = ctx.store.users.by_code("9")
    dialog = StoreDialog(ctx, manager)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.board.toPlainText().startswith("Loja —"), timeout=8000)
    board = dialog.board.toPlainText()  # what the manager reads: local date, R$ with a comma, Portuguese
    assert re.match(r"Loja — \d{2}/\d{2}/\d{4}: 0 vendas, R\$ 0,00\n  Notas — nenhuma$", board), board
    dialog.code.setText("1002")
    dialog.price.setText("7,77")
    qtbot.mouseClick(dialog.apply, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "agora R$ 7,77" in dialog.message.text(), timeout=8000)
    qtbot.waitUntil(lambda: ctx.store.products.lookup("1002").preco == Decimal("7.77"), timeout=8000)
    log = admin.changes(conn)
    assert log[0]["chave"] == "produto:1002" and log[0]["por"].endswith("/9")
    conn.close()


def test_manager_publishes_this_checkouts_customers_from_the_window(
    qtbot: Any, ctx: Any, pg_url: str
) -> None:
    from pos_app.core.store.clientes import Cliente
    from pos_app.ui.store.dialog import StoreDialog

    buyer = "11222333000181"
    ctx.store.clientes.save(  # typed before this terminal joined the store
        Cliente(
            documento=buyer,
            nome="MERCADO DO BAIRRO LTDA",
            logradouro="Rua XV de Novembro",
            numero="10",
            bairro="Centro",
            codigo_municipio="4106902",
            municipio="Curitiba",
            uf="PR",
            cep="80020-310",
        )
    )
    ctx.config.set("loja.banco", pg_url)
    ctx.config.set("loja.senha", pg_kit.PASSWORD)
    assert link.attach(ctx, interval=0.3) is not None
    dialog = StoreDialog(ctx, ctx.store.users.by_code("9"))
    qtbot.addWidget(dialog)
    assert dialog.publish_customers.isEnabled()
    qtbot.mouseClick(dialog.publish_customers, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "deste caixa na loja" in dialog.message.text(), timeout=8000)
    assert (
        dialog.message.text() == "1 cliente deste caixa na loja, para todos os caixas (1 novo ou alterado)."
    )
    conn = pg.connect(pg_url, pg_kit.PASSWORD)
    with conn.transaction():
        row = conn.execute(
            "SELECT nome, cep, excluido, alterado_por FROM loja_clientes WHERE documento = %s", [buyer]
        ).fetchone()
    conn.close()
    assert row[:3] == ("MERCADO DO BAIRRO LTDA", "80020310", False) and row[3].endswith("/9")


def test_status_bar_says_when_the_store_is_down(qtbot: Any) -> None:
    from pos_app.ui.status_panel import StatusPanel

    window = QMainWindow()
    qtbot.addWidget(window)
    panel = StatusPanel(window.statusBar(), window)
    window.show()
    panel.set_backlog({"contingencia_pendentes": 0, "loja": {"configurado": False}})
    assert not panel.store.isVisible()
    panel.set_backlog(
        {
            "contingencia_pendentes": 0,
            "loja": {"configurado": True, "online": False, "pendentes_envio": 4, "erro": "timeout"},
        }
    )
    assert panel.store.isVisible() and "FORA DO AR" in panel.store.text() and "4" in panel.store.text()
    panel.set_store({"configurado": True, "online": True, "pendentes_envio": 0})
    assert panel.store.text() == "Loja: conectada"
