"""The cart table: a ``QAbstractTableModel`` over the ``Sale`` being rung up.

Rows are appended with ``beginInsertRows`` (no model reset), so adding an item to a long cart
costs the same as adding the first one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.money import format_brl, format_quantity
from pos_app.core.domain.sale import Sale, SaleItem
from pos_app.ui.i18n import tr

COL_ITEM, COL_CODE, COL_DESC, COL_QTY, COL_UNIT, COL_DISC, COL_TOTAL = range(7)
HEADERS = [
    tr("Item"),
    tr("Código"),
    tr("Descrição"),
    tr("Qtde"),
    tr("Vl. unit."),
    tr("Desconto"),
    tr("Total"),
]
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_CENTER = Qt.AlignmentFlag.AlignCenter

Index = QModelIndex | QPersistentModelIndex


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ALIGN_ROLE = int(Qt.ItemDataRole.TextAlignmentRole)
_ALIGNMENTS = [_CENTER, _LEFT, _LEFT, _RIGHT, _RIGHT, _RIGHT, _RIGHT]


class CartModel(QAbstractTableModel):
    """``data()`` runs for every visible cell and role on each paint: it answers from a cache of
    formatted rows, filled lazily and dropped when amounts change."""

    def __init__(self, sale: Sale | None = None) -> None:
        super().__init__()
        self.sale = sale or Sale()
        self._rows: list[tuple[str, ...] | None] = []

    # -- Qt model API ----------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.sale.items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,  # noqa: N802
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == _DISPLAY:
                return HEADERS[section]
            if role == _ALIGN_ROLE:
                return _RIGHT if section >= COL_QTY else _LEFT
        return None

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY:
            row = index.row()
            cached = self._rows[row]
            if cached is None:
                cached = self._format(row)
                self._rows[row] = cached
            return cached[index.column()]
        if role == _ALIGN_ROLE:
            return _ALIGNMENTS[index.column()]
        return None

    def _format(self, row: int) -> tuple[str, ...]:
        item = self.sale.items[row]
        desconto = item.valor_desconto
        return (
            str(row + 1),
            item.product.codigo,
            item.product.descricao,
            f"{format_quantity(item.quantidade)} {item.product.unidade}",
            format_brl(item.valor_unitario),
            format_brl(desconto) if desconto else "",
            format_brl(item.valor_bruto - desconto),
        )

    # -- cart operations -------------------------------------------------------------------
    def add(self, product: Product, quantidade: Decimal, valor_unitario: Decimal | None = None) -> SaleItem:
        """Append a line (validated first: nothing changes when it raises)."""
        row = len(self.sale.items)
        item = SaleItem(product, quantidade, product.preco if valor_unitario is None else valor_unitario)
        item.validate()
        self.beginInsertRows(QModelIndex(), row, row)
        try:
            self.sale.add_item(item)
            self._rows.append(None)
        finally:
            self.endInsertRows()
        if self.sale.desconto_venda:
            self.amounts_changed(0, row - 1)
        return item

    def remove(self, row: int) -> SaleItem:
        self.beginRemoveRows(QModelIndex(), row, row)
        try:
            item = self.sale.remove_item(row)
            del self._rows[row]
        finally:
            self.endRemoveRows()
        n = len(self.sale.items)
        if row < n:  # the lines below were renumbered
            for r in range(row, n):
                self._rows[r] = None
            self.dataChanged.emit(self.index(row, COL_ITEM), self.index(n - 1, COL_ITEM))
        if self.sale.desconto_venda:
            self.amounts_changed()
        return item

    def amounts_changed(self, first: int = 0, last: int | None = None) -> None:
        """Discount and total columns changed (sale discount re-apportioned)."""
        last = len(self.sale.items) - 1 if last is None else last
        if last >= first >= 0:
            for r in range(first, last + 1):
                self._rows[r] = None
            self.dataChanged.emit(self.index(first, COL_DISC), self.index(last, COL_TOTAL))

    def new_sale(self) -> None:
        self.beginResetModel()
        self.sale = Sale()
        self._rows = []
        self.endResetModel()
