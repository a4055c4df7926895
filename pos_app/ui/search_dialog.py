"""F2: find a product by name, code or EAN as the cashier types (FTS prefix search)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.money import format_brl
from pos_app.core.services.context import AppContext
from pos_app.ui import theme
from pos_app.ui.common import hint_label
from pos_app.ui.i18n import tr

Index = QModelIndex | QPersistentModelIndex
_HEADERS = [tr("Código"), tr("Descrição"), tr("Un."), tr("Preço"), tr("EAN")]


class _ResultsModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.products: list[Product] = []

    def set_products(self, products: list[Product]) -> None:
        self.beginResetModel()
        self.products = products
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.products)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,  # noqa: N802
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        p = self.products[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return [p.codigo, p.descricao, p.unidade, format_brl(p.preco), p.ean or ""][col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 3:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None


class ProductSearchDialog(QDialog):
    """Type to search; Up/Down choose; Enter adds the product; Esc closes. Emits ``chosen(Product)``."""

    chosen = Signal(object)

    def __init__(self, ctx: AppContext, initial: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("searchDialog")
        self.setWindowTitle(tr("Buscar produto"))
        self.resize(900, 560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        title = QLabel(tr("Buscar produto (F2)"))
        theme.set_role(title, "title")
        layout.addWidget(title)
        self.query = QLineEdit()
        self.query.setObjectName("searchField")
        self.query.setPlaceholderText(tr("Digite parte do nome, código ou EAN (ex.: arr cam)"))
        self.query.setClearButtonEnabled(True)
        layout.addWidget(self.query)
        self.model = _ResultsModel()
        self.table = QTableView()
        self.table.setObjectName("searchResults")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(40)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col, width in ((0, 90), (2, 60), (3, 120), (4, 160)):
            self.table.setColumnWidth(col, width)
        self.table.doubleClicked.connect(lambda _i: self._choose())
        layout.addWidget(self.table, 1)
        self.status = hint_label(tr("↑/↓ escolhe · Enter adiciona · Esc volta para a venda"))
        layout.addWidget(self.status)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(60)  # coalesces fast typing; results still feel instant
        self._timer.timeout.connect(self.run_search)
        self.query.textChanged.connect(lambda _t: self._timer.start())
        if initial:
            self.query.setText(initial)
        self.query.setFocus()

    def run_search(self) -> None:
        text = self.query.text()
        products = self.ctx.store.products.search(text, limit=60) if text.strip() else []
        self.model.set_products(products)
        if products:
            self.table.selectRow(0)
            self.status.setText(
                tr("{n} produto(s) · ↑/↓ escolhe · Enter adiciona · Esc volta").format(n=len(products))
            )
        elif text.strip():
            self.status.setText(tr("Nenhum produto encontrado para “{texto}”.").format(texto=text.strip()))

    def _selected(self) -> Product | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.products[rows[0].row()]

    def _move(self, delta: int) -> None:
        n = self.model.rowCount()
        if not n:
            return
        rows = self.table.selectionModel().selectedRows()
        current = rows[0].row() if rows else -1
        self.table.selectRow(max(0, min(n - 1, current + delta)))

    def _choose(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.run_search()
        product = self._selected()
        if product is None:
            return
        self.chosen.emit(product)
        self.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._choose()
            return
        if key == Qt.Key.Key_Down:
            self._move(1)
            return
        if key == Qt.Key.Key_Up:
            self._move(-1)
            return
        if key == Qt.Key.Key_PageDown:
            self._move(10)
            return
        if key == Qt.Key.Key_PageUp:
            self._move(-10)
            return
        super().keyPressEvent(event)
