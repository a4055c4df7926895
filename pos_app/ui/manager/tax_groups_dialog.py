"""Tax groups (grupos tributários): list, create, edit, remove; every value checked against the
shipped code tables before it is saved, with the field named."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.tax_group import TaxGroup, tax_group_from_row
from pos_app.core.fiscal import tax_tables as tables
from pos_app.ui.i18n import tr
from pos_app.ui.manager.widgets import (
    ManagerDialog,
    Now,
    message_label,
    primary_button,
    show_result,
    title_label,
)

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User

_COLUMNS = ("Grupo", "CST/CSOSN", "ICMS %", "Redução %", "PIS", "COFINS", "IBS/CBS", "Produtos")


def _combo(name: str, table: dict[str, str], blank: bool = False) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    if blank:
        combo.addItem("", "")
    for code, text in table.items():
        combo.addItem(f"{code} – {text}", code)
    return combo


class TaxGroupsDialog(ManagerDialog):
    def __init__(
        self,
        ctx: AppContext,
        manager: User | None = None,
        parent: QWidget | None = None,
        now: Now | None = None,
    ) -> None:
        super().__init__(ctx, manager, parent, now)
        self.setObjectName("taxGroupsDialog")
        self.setWindowTitle(tr("Grupos tributários"))
        self.setMinimumSize(900, 680)
        self.repo = ctx.store.tax_groups
        layout = QVBoxLayout(self)
        layout.addWidget(title_label(tr("Grupos tributários")))
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setObjectName("taxGroupsTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in _COLUMNS])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._selected)
        layout.addWidget(self.table, 1)

        box = QGroupBox(tr("Grupo"))
        form = QFormLayout(box)
        self.nome = QLineEdit()
        self.nome.setObjectName("grupo_tributario")
        self.nome.setMaxLength(60)
        self.origem = _combo("icms_origem", tables.ICMS_ORIGEM)
        self.cst = _combo("icms_situacao_tributaria", {**tables.CST_ICMS, **tables.CSOSN})
        self.modalidade = _combo("icms_modalidade_base_calculo", tables.ICMS_MODALIDADE_BC, blank=True)
        self.aliquota = self._edit("icms_aliquota", "ex.: 18")
        self.reducao = self._edit("icms_reducao_base_calculo", "só CST 20/90")
        self.fcp = self._edit("fcp_percentual", "FCP % (se a UF cobra)")
        self.pis = _combo("pis_situacao_tributaria", tables.PIS_CST, blank=True)
        self.pis_aliq = self._edit("pis_aliquota_porcentual", "ex.: 1,65")
        self.cofins = _combo("cofins_situacao_tributaria", tables.COFINS_CST, blank=True)
        self.cofins_aliq = self._edit("cofins_aliquota_porcentual", "ex.: 7,6")
        self.ibs_cst = _combo("ibs_cbs_situacao_tributaria", tables.IBSCBS_CST)
        self.cclass = _combo(
            "ibs_cbs_classificacao_tributaria",
            {c.codigo: c.descricao[:70] for c in tables.cclasstrib_table().values()},
        )
        self.cest = self._edit("cest", "7 dígitos (opcional)")
        self.tributos = self._edit("tributos_percentual", "% aproximado (opcional)")
        for label, widget in (
            ("Nome", self.nome),
            ("Origem", self.origem),
            ("CST/CSOSN do ICMS", self.cst),
            ("Modalidade da base", self.modalidade),
            ("Alíquota do ICMS %", self.aliquota),
            ("Redução da base %", self.reducao),
            ("FCP %", self.fcp),
            ("CST do PIS", self.pis),
            ("Alíquota do PIS %", self.pis_aliq),
            ("CST da COFINS", self.cofins),
            ("Alíquota da COFINS %", self.cofins_aliq),
            ("CST do IBS/CBS", self.ibs_cst),
            ("cClassTrib", self.cclass),
            ("CEST", self.cest),
            ("Tributos aproximados %", self.tributos),
        ):
            form.addRow(tr(label), widget)
        layout.addWidget(box)
        row = QHBoxLayout()
        self.new_button = QPushButton(tr("Novo"))
        self.new_button.setObjectName("newButton")
        self.remove_button = QPushButton(tr("Remover"))
        self.remove_button.setObjectName("removeButton")
        self.save_button = primary_button(tr("Salvar grupo"))
        self.save_button.setObjectName("saveButton")
        for b in (self.new_button, self.remove_button):
            b.setAutoDefault(False)
        row.addWidget(self.new_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        row.addWidget(self.save_button)
        layout.addLayout(row)
        self.message = message_label(self)
        layout.addWidget(self.message)
        self.new_button.clicked.connect(self.clear_form)
        self.save_button.clicked.connect(self.save)
        self.remove_button.clicked.connect(self.remove)
        self.groups: list[TaxGroup] = []
        self.reload()

    @staticmethod
    def _edit(name: str, hint: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(tr(hint))
        return edit

    # -- table ----------------------------------------------------------------------------
    def reload(self) -> None:
        self.groups = self.repo.all()
        self.table.setRowCount(len(self.groups))
        for r, g in enumerate(self.groups):
            cells = (
                g.nome,
                g.icms_situacao_tributaria,
                _num(g.icms_aliquota),
                _num(g.icms_reducao_base_calculo),
                _pair(g.pis_situacao_tributaria, g.pis_aliquota_porcentual),
                _pair(g.cofins_situacao_tributaria, g.cofins_aliquota_porcentual),
                f"{g.ibs_cbs_situacao_tributaria}/{g.ibs_cbs_classificacao_tributaria}",
                str(self.repo.usage(g.nome)),
            )
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))

    def _selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.fill(self.groups[rows[0].row()])

    def fill(self, g: TaxGroup) -> None:
        self.nome.setText(g.nome)
        _set(self.origem, g.icms_origem)
        _set(self.cst, g.icms_situacao_tributaria)
        _set(self.modalidade, g.icms_modalidade_base_calculo or "")
        self.aliquota.setText(_num(g.icms_aliquota))
        self.reducao.setText(_num(g.icms_reducao_base_calculo))
        self.fcp.setText(_num(g.fcp_percentual))
        _set(self.pis, g.pis_situacao_tributaria or "")
        self.pis_aliq.setText(_num(g.pis_aliquota_porcentual))
        _set(self.cofins, g.cofins_situacao_tributaria or "")
        self.cofins_aliq.setText(_num(g.cofins_aliquota_porcentual))
        _set(self.ibs_cst, g.ibs_cbs_situacao_tributaria)
        _set(self.cclass, g.ibs_cbs_classificacao_tributaria)
        self.cest.setText(g.cest or "")
        self.tributos.setText(_num(g.tributos_percentual))

    def clear_form(self) -> None:
        self.table.clearSelection()
        self.nome.clear()
        for combo in (
            self.origem,
            self.cst,
            self.modalidade,
            self.pis,
            self.cofins,
            self.ibs_cst,
            self.cclass,
        ):
            combo.setCurrentIndex(0)
        for edit in (
            self.aliquota,
            self.reducao,
            self.fcp,
            self.pis_aliq,
            self.cofins_aliq,
            self.cest,
            self.tributos,
        ):
            edit.clear()
        self.message.clear()
        self.nome.setFocus()

    # -- actions --------------------------------------------------------------------------
    def form_row(self) -> dict[str, str]:
        combos: dict[str, Any] = {
            "icms_origem": self.origem,
            "icms_situacao_tributaria": self.cst,
            "icms_modalidade_base_calculo": self.modalidade,
            "pis_situacao_tributaria": self.pis,
            "cofins_situacao_tributaria": self.cofins,
            "ibs_cbs_situacao_tributaria": self.ibs_cst,
            "ibs_cbs_classificacao_tributaria": self.cclass,
        }
        row = {k: str(c.currentData() or "") for k, c in combos.items()}
        for edit in (
            self.aliquota,
            self.reducao,
            self.fcp,
            self.pis_aliq,
            self.cofins_aliq,
            self.cest,
            self.tributos,
        ):
            row[edit.objectName()] = edit.text()
        return row

    def save(self) -> None:
        try:
            group = tax_group_from_row(self.form_row(), nome=self.nome.text())
            if self.repo.usage(group.nome):
                group.validate(self.ctx.config.get("emitente.regime"))
        except ValidationError as exc:
            show_result(
                self.message,
                tr("Não salvo — campo {campo}: {erro}").format(campo=exc.field, erro=exc.message),
                False,
            )
            widget = self.findChild(QWidget, exc.field)
            if widget is not None:
                widget.setFocus()
            return
        self.repo.upsert(group)
        self.reload()
        show_result(
            self.message,
            tr("Grupo “{nome}” salvo: {desc}").format(nome=group.nome, desc=group.describe()),
            True,
        )

    def remove(self) -> None:
        nome = self.nome.text().strip()
        used = self.repo.usage(nome) if nome else 0
        if used:
            show_result(
                self.message,
                tr("O grupo “{nome}” é usado por {n} produto(s): mude-os de grupo antes.").format(
                    nome=nome, n=used
                ),
                False,
            )
            return
        if not nome or not self.repo.delete(nome):
            show_result(self.message, tr("Selecione um grupo para remover."), False)
            return
        self.reload()
        self.clear_form()
        show_result(self.message, tr("Grupo “{nome}” removido.").format(nome=nome), True)


def _num(value: Any) -> str:
    return "" if value is None else str(value).replace(".", ",")


def _pair(cst: str | None, rate: Any) -> str:
    if cst is None:
        return ""
    return cst + (f" {_num(rate)}%" if rate is not None else "")


def _set(combo: QComboBox, code: str) -> None:
    index = combo.findData(code)
    combo.setCurrentIndex(max(index, 0))
