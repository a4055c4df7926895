"""Tax groups window (Gerente → Grupos tributários) offscreen: create, refuse with the field named,
edit, refuse removal of a group in use, remove."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytestqt")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "manager"


def _pick(combo: Any, code: str) -> None:
    index = combo.findData(code)
    assert index >= 0, code
    combo.setCurrentIndex(index)


def test_tax_groups_dialog_create_edit_refuse_remove(qtbot: Any, demo_ctx: Any) -> None:
    from pos_app.ui.manager import ENTRIES
    from pos_app.ui.manager.tax_groups_dialog import TaxGroupsDialog

    assert any(key == "tributacao" for key, *_ in ENTRIES)  # listed under the Gerente menu
    dialog = TaxGroupsDialog(demo_ctx, None)
    qtbot.addWidget(dialog)
    dialog.show()
    before = dialog.table.rowCount()

    dialog.new_button.click()
    dialog.nome.setText("Tributado 17%")
    _pick(dialog.cst, "00")
    dialog.aliquota.setText("18")
    dialog.save_button.click()  # no modality: refused, field named, nothing stored
    assert "icms_modalidade_base_calculo" in dialog.message.text()
    assert demo_ctx.store.tax_groups.by_name("Tributado 17%") is None

    _pick(dialog.modalidade, "3")
    _pick(dialog.pis, "01")
    dialog.pis_aliq.setText("1,65")
    _pick(dialog.cofins, "01")
    dialog.cofins_aliq.setText("7,6")
    _pick(dialog.ibs_cst, "200")
    dialog.save_button.click()  # cClassTrib 000001 belongs to CST 000
    assert "ibs_cbs_classificacao_tributaria" in dialog.message.text()
    _pick(dialog.ibs_cst, "000")
    dialog.save_button.click()
    assert "salvo" in dialog.message.text(), dialog.message.text()
    stored = demo_ctx.store.tax_groups.by_name("Tributado 17%")
    assert stored is not None and stored.icms_aliquota == Decimal("18")
    assert stored.pis_aliquota_porcentual == Decimal("1.65") and stored.cofins_aliquota_porcentual == Decimal(
        "7.6"
    )
    assert dialog.table.rowCount() == before + 1

    # Select it in the table, change the rate, save: the same group is updated.
    row = next(r for r in range(dialog.table.rowCount()) if dialog.table.item(r, 0).text() == "Tributado 17%")
    dialog.table.selectRow(row)
    assert dialog.aliquota.text() == "18" and dialog.pis_aliq.text() == "1,65"
    dialog.aliquota.setText("12")
    dialog.save_button.click()
    assert demo_ctx.store.tax_groups.by_name("Tributado 17%").icms_aliquota == Decimal("12")
    assert dialog.table.rowCount() == before + 1

    # In use by a product: removal refused; once unlinked, removed.
    assert demo_ctx.store.tax_groups.assign("1001", "Tributado 17%")
    dialog.remove_button.click()
    assert "usado por 1 produto" in dialog.message.text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(ARTIFACTS / "tax_groups_dialog.png"))
    demo_ctx.store.tax_groups.assign("1001", None)
    dialog.remove_button.click()
    assert "removido" in dialog.message.text()
    assert demo_ctx.store.tax_groups.by_name("Tributado 17%") is None
