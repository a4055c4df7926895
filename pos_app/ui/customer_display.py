"""Customer display on the terminal's second monitor (setting ``tela.cliente`` = ``sim``).

Shows what the customer needs to follow the sale: the last items, the total and, after payment,
the change. While a PIX QR waits at the payment screen (``show_pix``) it shows that QR large with the
amount and, for a dynamic charge, the time left; ``end_pix`` brings the cart back. It never takes the focus (the cashier keeps typing on the main window) and stays away
when the terminal has a single monitor.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QFrame, QLabel, QListWidget, QStackedLayout, QVBoxLayout, QWidget

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
        self.pages = QStackedLayout(self)
        self.cart_page = QWidget()
        self.cart_page.setObjectName("customerCartPage")
        self.pages.addWidget(self.cart_page)
        self._build_pix_page()
        root = QVBoxLayout(self.cart_page)
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
        # a long description wraps onto a second line: the item's value is never cut off or behind a
        # scroll bar, whatever the customer's monitor (800x600 included)
        self.items.setWordWrap(True)
        self.items.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.items.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.items.setAlternatingRowColors(True)  # one item from the next at a glance
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

    def _build_pix_page(self) -> None:
        self.pix_page = QWidget()
        self.pix_page.setObjectName("customerPixPage")
        layout = QVBoxLayout(self.pix_page)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(12)
        self.pix_title = QLabel(tr("Pague com PIX: aponte a câmera do aplicativo do seu banco"))
        self.pix_title.setFont(theme.big_font(22))
        self.pix_title.setWordWrap(True)
        self.pix_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.pix_title)
        self.pix_qr = QLabel()
        self.pix_qr.setObjectName("customerPixQr")
        self.pix_qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.pix_qr, 1)
        self.pix_amount = QLabel()
        self.pix_amount.setObjectName("customerPixAmount")
        self.pix_amount.setFont(theme.big_font(48))
        self.pix_amount.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pix_amount.setStyleSheet(f"color: {theme.BLUE};")
        layout.addWidget(self.pix_amount)
        self.pix_countdown = QLabel()
        self.pix_countdown.setObjectName("customerPixCountdown")
        self.pix_countdown.setFont(theme.big_font(28))
        self.pix_countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.pix_countdown)
        self.pages.addWidget(self.pix_page)
        self.pix_code = ""
        self._pix_expires: datetime | None = None
        self._pix_timer = QTimer(self)
        self._pix_timer.setInterval(1000)
        self._pix_timer.timeout.connect(self._pix_tick)

    # -- PIX -------------------------------------------------------------------------------
    def qr_side(self) -> int:
        """The QR's side in pixels: as large as the screen allows next to the amount and countdown."""
        size = self.size() if self.isVisible() else (self.screen().size() if self.screen() else None)
        if size is None:
            return 480
        return max(240, min(int(size.height() * 0.6), int(size.width() * 0.8)))

    def show_pix(self, code: str, valor: Decimal, expires_at: datetime | None = None) -> None:
        """The PIX QR large (``expires_at``: a dynamic charge's end, counted down every second)."""
        from pos_app.ui.pix_dialog import qr_pixmap

        self.pix_code = code
        self.pix_qr.setPixmap(qr_pixmap(code, self.qr_side()))
        self.pix_amount.setText(format_brl(valor))
        self._pix_expires = expires_at
        self._pix_tick()
        if expires_at is not None:
            self._pix_timer.start()
        self.pages.setCurrentWidget(self.pix_page)

    def end_pix(self) -> None:
        """Paid, expired, cancelled or closed: back to the cart (no stale QR left for the customer)."""
        self._pix_timer.stop()
        self._pix_expires = None
        self.pix_code = ""
        self.pix_qr.clear()
        self.pages.setCurrentWidget(self.cart_page)

    def showing_pix(self) -> bool:
        return self.pages.currentWidget() is self.pix_page

    def _pix_tick(self) -> None:
        if self._pix_expires is None:
            self.pix_countdown.setText("")
            return
        left = max(int((self._pix_expires - datetime.now(UTC)).total_seconds()), 0)
        self.pix_countdown.setText(tr("Expira em {m:d}:{s:02d}").format(m=left // 60, s=left % 60))
        if left == 0:
            self._pix_timer.stop()

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
        if not self.pix_code:
            self.pages.setCurrentWidget(self.cart_page)
        self.items.clear()
        for item in items[-VISIBLE_ITEMS:]:
            product = item.product
            # the amounts stay together (non-breaking spaces): a wrap falls after the description
            amounts = (
                f"{format_quantity(item.quantidade)} {product.unidade} × "
                f"{format_brl(item.valor_unitario)} = {format_brl(item.valor_liquido)}"
            ).replace(" ", "\u00a0")
            self.items.addItem(f"{product.descricao}   {amounts}")
        if items:
            self.items.scrollToBottom()
        self.count.setText(count_items(len(items)))
        self.total.setText(tr("Total {v}").format(v=format_brl(total)))
        self.change.setText(tr("Pago {v}").format(v=format_brl(paid)) if paid else "")

    def show_change(self, total: Decimal, troco: Decimal) -> None:
        """After payment: the change the customer must receive (or a thank-you)."""
        self.end_pix()
        self.items.clear()
        self.count.setText(tr("Obrigado pela preferência!"))
        self.total.setText(tr("Total {v}").format(v=format_brl(total)))
        self.change.setText(tr("Troco {v}").format(v=format_brl(troco)) if troco > 0 else "")
