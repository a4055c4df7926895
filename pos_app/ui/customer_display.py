"""Customer display on the terminal's second monitor (setting ``tela.cliente`` = ``sim``).

Shows what the customer needs to follow the sale: the last items, the total and, after payment,
the change. It never takes the focus (the cashier keeps typing on the main window) and stays away
when the terminal has a single monitor.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QFrame, QLabel, QListWidget, QVBoxLayout, QWidget

from pos_app.core.domain.br_format import count_items
from pos_app.core.domain.money import format_brl, format_quantity
from pos_app.ui import theme
from pos_app.ui.i18n import tr

log = logging.getLogger("pos_app.ui.customer")

VISIBLE_ITEMS = 8


def second_screen() -> QScreen | None:
    """The monitor that is not the primary one (None on a single-monitor terminal)."""
    primary = QGuiApplication.primaryScreen()
    others = [s for s in QGuiApplication.screens() if s is not primary]
    return others[0] if others else None


def enabled(config: Any) -> bool:
    return (config.get("tela.cliente") or "nao") == "sim"


class CustomerDisplay(QWidget):
    def __init__(self, store_name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("customerDisplay")
        self.setWindowTitle(tr("Tela do cliente"))
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setStyleSheet(f"QWidget#customerDisplay {{ background: {theme.PAPER}; }}")
        root = QVBoxLayout(self)
        root.setContentsMargins(32, 24, 32, 24)
        root.setSpacing(16)
        self.welcome = QLabel(store_name or tr("Bem-vindo!"))
        self.welcome.setFont(theme.big_font(24))
        self.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        root.addWidget(self.welcome)
        self.items = QListWidget()
        self.items.setObjectName("customerItems")
        self.items.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.items.setFont(theme.big_font(20, bold=False))
        root.addWidget(self.items, 1)
        panel = QFrame()
        theme.set_role(panel, "panel")
        pl = QVBoxLayout(panel)
        self.count = QLabel()
        self.count.setFont(theme.big_font(18, bold=False))
        pl.addWidget(self.count)
        self.total = QLabel()
        self.total.setObjectName("customerTotal")
        self.total.setFont(theme.big_font(56))
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.total.setStyleSheet(f"color: {theme.BLUE};")
        pl.addWidget(self.total)
        self.change = QLabel()
        self.change.setObjectName("customerChange")
        self.change.setFont(theme.big_font(44))
        self.change.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.change.setStyleSheet(f"color: {theme.GREEN};")
        pl.addWidget(self.change)
        root.addWidget(panel)
        self.show_sale([], Decimal(0))

    def place(self) -> bool:
        """Full screen on the second monitor; False (and hidden) when there is none."""
        screen = second_screen()
        if screen is None:
            log.info("tela do cliente ligada, mas o terminal tem um só monitor")
            self.hide()
            return False
        self.setScreen(screen)
        self.setGeometry(screen.geometry())
        self.show()
        return True

    def show_sale(self, items: list[Any], total: Decimal, paid: Decimal | None = None) -> None:
        """Items (newest last) and the total of the sale in progress."""
        self.items.clear()
        for item in items[-VISIBLE_ITEMS:]:
            product = item.product
            self.items.addItem(
                f"{product.descricao}   {format_quantity(item.quantidade)} {product.unidade} × "
                f"{format_brl(item.valor_unitario)} = {format_brl(item.valor_liquido)}"
            )
        if items:
            self.items.scrollToBottom()
        self.count.setText(count_items(len(items)))
        self.total.setText(tr("Total {v}").format(v=format_brl(total)))
        self.change.setText(tr("Pago {v}").format(v=format_brl(paid)) if paid else "")

    def show_change(self, total: Decimal, troco: Decimal) -> None:
        """After payment: the change the customer must receive (or a thank-you)."""
        self.items.clear()
        self.count.setText(tr("Obrigado pela preferência!"))
        self.total.setText(tr("Total {v}").format(v=format_brl(total)))
        self.change.setText(tr("Troco {v}").format(v=format_brl(troco)) if troco > 0 else "")
