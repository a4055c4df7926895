"""The manager's "Documentos" window, offscreen, on a demo terminal with its own sandbox."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from pos_app.sandbox.backoffice_samples import sample_lote_rps

OBS = "Frete cobrado acima do valor contratado"


def cell(table: Any, row: int, column: int) -> str:
    item = table.item(row, column)
    return "" if item is None else str(item.text())


@pytest.fixture
def app_ctx(ui_data_dir: Path) -> Iterator[Any]:
    from pos_app.app import open_app

    ctx = open_app(ui_data_dir)  # demo mode: starts the sandbox
    yield ctx
    from pos_app.ui.worker import wait_idle

    wait_idle(10_000)
    ctx.close()


def test_received_cte_listed_filtered_and_disagreement_registered(
    qtbot: Any, app_ctx: Any, ui_data_dir: Path
) -> None:
    from pos_app.ui.actions import load_manager_extensions
    from pos_app.ui.backoffice import open_documents_window

    assert "documentos_backoffice" in {a.key for a in load_manager_extensions()}
    window = open_documents_window(app_ctx, None)
    qtbot.addWidget(window)
    tab = window.received
    assert tab.table.rowCount() == 0 and not tab.desacordo_button.isEnabled()

    qtbot.mouseClick(tab.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.table.rowCount() == 6, timeout=10_000)
    assert "6 CT-e novo(s)" in tab.status.text()
    headers = [
        getattr(tab.table.horizontalHeaderItem(i), "text", str)() for i in range(tab.table.columnCount())
    ]
    assert headers[:4] == ["Emissão", "Transportador", "CNPJ", "Valor"]

    tab.situacao.setCurrentIndex(tab.situacao.findData("cancelado"))
    assert tab.table.rowCount() == 1 and cell(tab.table, 0, 4) == "Cancelado"
    tab.table.selectRow(0)
    assert not tab.desacordo_button.isEnabled()  # no disagreement with a cancelled CT-e
    tab.situacao.setCurrentIndex(0)
    tab.texto.setText("RODOSUL")
    assert tab.table.rowCount() == 1 and cell(tab.table, 0, 3) == "R$ 385,40"
    chave = cell(tab.table, 0, 7)

    tab.table.selectRow(0)
    assert tab.desacordo_button.isEnabled()
    qtbot.mouseClick(tab.desacordo_button, Qt.MouseButton.LeftButton)
    dialog = tab.desacordo_dialog
    assert dialog is not None and dialog.isVisible() and not dialog.ok.isEnabled()
    qtbot.keyClicks(dialog.text, "Frete caro")
    assert not dialog.ok.isEnabled() and "Faltam 5 caracteres" in dialog.error.text()
    dialog.text.setPlainText("x" * 256)
    assert not dialog.ok.isEnabled() and "máximo" in dialog.error.text()
    dialog.text.setPlainText(OBS)
    assert dialog.ok.isEnabled() and dialog.error.text() == "" and "39 de 255" in dialog.counter.text()
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(
        lambda: tab.table.rowCount() == 1 and cell(tab.table, 0, 6) == "Registrado", timeout=10_000
    )
    assert "protocolo" in tab.status.text() and not tab.desacordo_button.isEnabled()
    with sqlite3.connect(ui_data_dir / "pos.sqlite3") as db:
        row = db.execute("SELECT desacordo_status, desacordo_observacoes, desacordo_protocolo FROM ctes_recebidos "
                         "WHERE chave = ?", [chave]).fetchone()  # fmt: skip
    assert row[0] == "evento_registrado" and row[1] == OBS and row[2]
    assert app_ctx.sandbox.backoffice.ctes_recebidas.document(chave)["desacordos"][0]["observacoes"] == OBS

    tab.sem_desacordo.setChecked(True)
    assert tab.table.rowCount() == 0
    window.close()


def test_issue_from_the_form_and_rps_batch(qtbot: Any, app_ctx: Any, tmp_path: Path) -> None:
    from pos_app.ui.backoffice import open_documents_window

    window = open_documents_window(app_ctx, None)
    qtbot.addWidget(window)
    issue = window.issue
    issue.emit_document()  # the form is not complete: said at once, nothing sent
    assert "obrigatório" in issue.result.text() or "inválido" in issue.result.text()
    assert issue.issued.rowCount() == 0
    values = {
        "cfop": "5353", "codigo_municipio_fim": "4119152", "municipio_fim": "Pinhais", "uf_fim": "PR",
        "valor_total": "150,00", "valor_receber": "150,00", "documento_destinatario": "52998224725",
        "nome_destinatario": "Cliente da entrega", "valor_total_carga": "980,00",
        "produto_predominante": "Mercadorias diversas", "peso_kg": "120", "rntrc": "12345678",
    }  # fmt: skip
    for key, value in values.items():
        issue.fields[key].setText(value)
    qtbot.mouseClick(issue.emit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "autorizado" in issue.result.text(), timeout=15_000)
    assert issue.issued.rowCount() == 1 and cell(issue.issued, 0, 3) == "Autorizado"

    rps = window.rps
    window.tabs.setCurrentWidget(rps)
    batch = tmp_path / "lote.json"
    batch.write_text(json.dumps(sample_lote_rps(datetime.now(UTC))), encoding="utf-8")
    rps.generate(batch)
    qtbot.waitUntil(lambda: rps.table.rowCount() == 1 and cell(rps.table, 0, 1) == "Arquivo gerado",
                    timeout=10_000)  # fmt: skip
    assert Path(cell(rps.table, 0, 4)).read_bytes().startswith(b"1|002|")
    rps.table.selectRow(0)
    assert rps.demo_button.isVisible()
    qtbot.mouseClick(rps.demo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: cell(rps.table, 0, 1) == "NFS-e geradas", timeout=10_000)
    assert "NFS-e nº" in rps.details.toPlainText()
    window.close()
