"""Sale window, link down, CNPJ buyer: the NF-e is generated in contingency at the counter (its own
series, tpEmis 5), the result dialog is the calm contingency one with the DANFE Simplificado preview,
and when the link returns the background replay gets it authorized through /v2/nfe."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from pos_app.core.store.clientes import Cliente
from tests.ui.conftest import login

K = Qt.Key


def test_cnpj_sale_offline_is_an_nfe_in_contingency_then_authorized(
    qtbot: Any, controller: Any, keys: Any, shot: Any
) -> None:
    ctx = controller.ctx
    ctx.store.clientes.save(
        Cliente(
            documento="12ABC34501DE35",
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
    )
    ctx.sandbox.nfe_engine.processing_seconds = 0.3
    window = login(qtbot, controller, keys)
    ctx.sandbox.faults.set("unreachable")
    keys("7891102100377", K.Key_Return, K.Key_F5)
    keys("12.abc.345/01de-35")
    assert "NF-e modelo 55" in window.document_model.full_text()
    keys(K.Key_Return, K.Key_F10)
    qtbot.waitUntil(lambda: window.dialog is not None and window.dialog.isVisible(), timeout=5_000)
    keys("30", K.Key_Return)  # dinheiro
    qtbot.waitUntil(
        lambda: window.result_dialog is not None and window.result_dialog.isVisible(), timeout=30_000
    )
    result = window.last_result
    assert result.modelo == 55 and result.contingencia and result.status == "contingencia_pendente"
    assert result.serie == ctx.config.nfe_contingencia_serie and result.chave[20:22] == "55"
    assert result.chave[34] == "5"
    dialog = window.result_dialog
    assert dialog.kind == "contingencia"
    labels = [w.text() for w in dialog.findChildren(type(dialog.print_label))]
    assert f"NF-e nº 1, série {result.serie}" in labels
    qtbot.waitUntil(lambda: dialog.preview.pages is not None, timeout=20_000)
    shot(dialog, "nfe-03-resultado-contingencia")
    keys(K.Key_Return)
    ctx.sandbox.faults.clear()
    qtbot.waitUntil(
        lambda: ctx.store.documents.get(result.document_id)["status"] == "autorizado", timeout=30_000
    )
    assert ctx.store.documents.get(result.document_id)["protocolo"]
