"""The sale screen: code field always focused, cart, big totals, shortcut legend, status bar.

Keys (handled here, so they work whatever child has focus): F2 buscar, F3 quantidade, F4 desconto,
F5 CPF/CNPJ, F8 or Del remover item, F10/F12 pagamento, Esc cancelar venda, ↑/↓ escolher item.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.money import format_brl, format_quantity
from pos_app.core.domain.sale import CONSUMER_ID_REQUIRED_FROM
from pos_app.core.domain.validators import (
    format_cnpj,
    format_cpf,
    is_valid_cnpj,
    is_valid_cpf,
    normalize_document,
)
from pos_app.core.services import sale_guards
from pos_app.core.services.cart import CartService, Discount
from pos_app.core.services.context import AppContext, SetupError
from pos_app.core.services.nfe import DocumentChoice, choose_document
from pos_app.core.services.receipts import last_issued_document_id
from pos_app.core.store.users import User
from pos_app.ui import theme
from pos_app.ui.actions import ManagerAction, load_manager_extensions, manager_actions
from pos_app.ui.cart_model import (
    COL_CODE,
    COL_DESC,
    COL_DISC,
    COL_ITEM,
    COL_QTY,
    COL_TOTAL,
    COL_UNIT,
    CartModel,
)
from pos_app.ui.common import EnvironmentBand, confirm, error_label, hint_label, inform
from pos_app.ui.customer_dialog import CustomerDialog
from pos_app.ui.errors import is_input_error
from pos_app.ui.finalize import EmissionProgressDialog, ResultDialog
from pos_app.ui.i18n import tr
from pos_app.ui.login import require_manager
from pos_app.ui.payment_dialog import PaymentDialog
from pos_app.ui.scan import ScanError, parse_quantity
from pos_app.ui.search_dialog import ProductSearchDialog
from pos_app.ui.status_panel import StatusPanel
from pos_app.ui.worker import run_in_worker

if TYPE_CHECKING:
    from pos_app.ui.main import AppController

log = logging.getLogger("pos_app.ui.sale")

# (key, label, method name) of the legend buttons, in screen order.
LEGEND: tuple[tuple[str, str, str], ...] = (
    ("F2", tr("Buscar produto"), "open_search"),
    ("F3", tr("Quantidade"), "ask_quantity"),
    ("F4", tr("Desconto"), "ask_discount"),
    ("F5", tr("CPF/CNPJ"), "focus_document"),
    ("F8", tr("Remover item"), "remove_selected"),
    ("Esc", tr("Cancelar venda"), "cancel_sale"),
)


def _sale_extra(ctx: AppContext) -> dict[str, Any] | None:
    """The open cash session of this terminal (raises "Caixa fechado"); None without cash sessions."""
    try:
        from pos_app.core.services.cash import CashService
    except ImportError:
        return None
    return CashService(ctx).sale_extra()


def checkout_job(
    ctx: AppContext,
    sale: Any,
    operador_id: int | None,
    wait_ready: Callable[[float], bool],
    progress: Callable[[str], None],
) -> Any:
    """Worker job: persist and emit the sale (EmissionService.checkout)."""
    if not wait_ready(15.0):
        raise SetupError(tr("O simulador de demonstração ainda não iniciou; tente de novo em instantes."))
    extra = _sale_extra(ctx)
    ctx.client()  # no token: refuse before the sale is stored (SetupError says what to configure)
    from pos_app.core.services.emission import EmissionService

    return EmissionService(ctx).checkout(sale, operador_id=operador_id, progress=progress, extra=extra)


def _render_receipt_job(ctx: AppContext, doc_id: int) -> str:
    from pos_app.core.services.receipts import ReceiptService

    return str(ReceiptService(ctx).render_for_document(doc_id))


def _fixed_line(label: QLabel, lines: int = 1) -> None:
    """Text changes must not re-layout the window (an item scan would repaint everything)."""
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    label.setFixedHeight(label.fontMetrics().lineSpacing() * lines + 8)


class ElideLabel(QLabel):
    """One line; a text wider than the label is cut with "…" at the end (amounts come first)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = (
            self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width) if width > 0 else ""
        )
        super().setText(shown)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()


class ValueDialog(QDialog):
    """One-line prompt (quantity, discount). ``validate(text)`` returns an error message or None."""

    def __init__(
        self,
        title: str,
        prompt: str,
        validate: Callable[[str], str | None],
        parent: QWidget | None = None,
        initial: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("valueDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        self._validate = validate
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        heading = QLabel(title)
        theme.set_role(heading, "title")
        layout.addWidget(heading)
        text = QLabel(prompt)
        text.setWordWrap(True)
        layout.addWidget(text)
        self.field = QLineEdit(initial)
        self.field.setObjectName("valueField")
        self.field.setFont(theme.big_font(20))
        layout.addWidget(self.field)
        self.error = error_label()
        layout.addWidget(self.error)
        row = QHBoxLayout()
        cancel = QPushButton(tr("Cancelar (Esc)"))
        cancel.setAutoDefault(False)
        cancel.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        ok = QPushButton(tr("Confirmar (Enter)"))
        ok.setAutoDefault(False)
        ok.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        theme.set_role(ok, "primary")
        row.addStretch(1)
        row.addWidget(cancel)
        row.addWidget(ok)
        layout.addLayout(row)
        cancel.clicked.connect(self.reject)
        ok.clicked.connect(self.try_accept)
        self.field.selectAll()
        self.field.setFocus()

    def try_accept(self) -> None:
        message = self._validate(self.field.text())
        if message:
            self.error.setText(message)
            self.field.selectAll()
            return
        self.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.try_accept()
            return
        super().keyPressEvent(event)


class SaleWindow(QMainWindow):
    logout_requested = Signal()
    sale_finished = Signal(object)  # SaleResult

    def __init__(
        self,
        ctx: AppContext,
        operator: User,
        controller: AppController | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._operator = operator
        self._approver: User | None = None
        self._approver_until = 0.0  # manager session: no PIN again until then (gerente.sessao_minutos)
        self.controller = controller
        self.setObjectName("saleWindow")
        self.setWindowTitle(tr("Frente de Caixa — {nome}").format(nome=operator.nome))
        self.resize(1366, 768)
        self.cart = CartModel()
        self.pending_quantity: Decimal | None = None
        self.discount_percent: Decimal | None = None
        self.last_add_ms: float | None = None
        self.last_result: Any = None
        self.dialog: QDialog | None = None  # the dialog open now (tests and focus handling)
        self.result_dialog: ResultDialog | None = None
        self.progress_dialog: EmissionProgressDialog | None = None
        self._busy = False
        self._total_approved: Decimal | None = None  # sale total a manager let through (venda.total_maximo)
        self.reload_settings()
        self._build()
        self.adapt_to_width(self.width())
        self._build_menus()
        self.status = StatusPanel(self.statusBar(), self)
        self.status.set_environment(ctx.config.ambiente)
        self.status.set_operator(operator.nome)
        self.status.environment.setVisible(not self._narrow)
        self.customer_display: Any = None
        self._open_customer_display()
        self._refresh_totals()
        self.refresh_cash_state()
        self.code.setFocus()

    # -- ManagerHost -----------------------------------------------------------------------
    @property
    def operator(self) -> User | None:
        return self._operator

    @property
    def approver(self) -> User | None:
        return self._approver

    def parent_widget(self) -> QWidget:
        return self

    def refresh_status(self) -> None:
        if self.controller is not None:
            self.controller.backlog.refresh()
        self.refresh_cash_state()

    def refresh_cash_state(self) -> None:
        """Status bar chip and the "Caixa fechado" line follow the cash session (opened/closed by a manager)."""
        is_open = self.cash_open()
        self.status.set_cash(is_open)
        if is_open and self.message.text().startswith(tr("Caixa fechado")):
            self.show_message(tr("Caixa aberto: leia o primeiro produto."))
        elif not is_open and not self.cart.sale.items:
            self.show_message(
                tr("Caixa fechado: peça ao gerente para abrir o caixa (Gerente → Caixa) antes de vender.")
            )

    # -- building --------------------------------------------------------------------------
    def reload_settings(self) -> None:
        cfg = self.ctx.config
        self._rules = CartService(self.ctx, self.cart.sale)  # item entry, scale labels, discount limit
        self.scale_rule = self._rules.scale_rule
        self.max_discount = self._rules.max_discount
        self.timeout_s = cfg.timeout
        self.guard_limits = sale_guards.GuardLimits.from_config(cfg)

    def _build(self) -> None:
        central = QWidget()
        self.setCentralWidget(central)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.band = EnvironmentBand(self.ctx.config.ambiente)
        outer.addWidget(self.band)
        body = QHBoxLayout()
        self.body_layout = body
        body.setContentsMargins(16, 12, 16, 12)
        body.setSpacing(16)
        outer.addLayout(body, 1)

        # -- left: entry + cart ------------------------------------------------------------
        left = QVBoxLayout()
        left.setSpacing(8)
        body.addLayout(left, 1)
        head = QHBoxLayout()
        caption = QLabel(tr("Código / EAN"))
        caption.setFont(theme.big_font(13))
        head.addWidget(caption)
        head.addStretch(1)
        self.pending_label = QLabel()
        self.pending_label.setObjectName("pendingQuantity")
        self.pending_label.setFont(theme.big_font(14))
        self.pending_label.setStyleSheet(
            f"color: white; background: {theme.BLUE}; padding: 2px 10px; border-radius: 4px;"
        )
        self.pending_label.setVisible(False)
        self.pending_label.setFixedHeight(self.pending_label.fontMetrics().lineSpacing() + 8)
        head.addWidget(self.pending_label)
        left.addLayout(head)
        self.code = QLineEdit()
        self.code.setObjectName("codeField")
        self.code.setPlaceholderText(tr("Leia ou digite o código e Enter"))
        self.code.setMaxLength(64)
        self.code.returnPressed.connect(self.handle_code_entered)
        self.code.installEventFilter(self)
        left.addWidget(self.code)
        self.message = QLabel()
        self.message.setObjectName("saleMessage")
        self.message.setWordWrap(True)
        self.message.setFont(theme.big_font(13, bold=False))
        _fixed_line(self.message, 2)
        left.addWidget(self.message)
        self.table = QTableView()
        self.table.setObjectName("cartTable")
        self.table.setModel(self.cart)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setFont(theme.big_font(14, bold=False))
        vh = self.table.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(40)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # never measure contents: O(1) inserts
        hh.setSectionResizeMode(COL_DESC, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnHidden(COL_DISC, True)  # until the sale has a discount (_refresh_totals)
        hh.setHighlightSections(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._narrow: bool | None = None
        left.addWidget(self.table, 1)
        self.last_item = ElideLabel()
        self.last_item.setObjectName("lastItem")
        self.last_item.setFont(theme.big_font(16))
        _fixed_line(self.last_item)
        left.addWidget(self.last_item)

        # -- right: totals, CPF/CNPJ, legend -------------------------------------------------
        right_panel = QWidget()
        right_panel.setObjectName("rightPanel")
        right_panel.setFixedWidth(440)
        self.right_panel = right_panel
        right = QVBoxLayout(right_panel)
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(10)
        body.addWidget(right_panel)
        totals = QFrame()
        theme.set_role(totals, "panel")
        tl = QVBoxLayout(totals)
        tl.setContentsMargins(18, 12, 18, 12)
        total_caption = QLabel(tr("TOTAL"))
        total_caption.setFont(theme.big_font(16))
        tl.addWidget(total_caption)
        self.total_label = QLabel()
        self.total_label.setObjectName("totalLabel")
        self.total_label.setFont(theme.big_font(44))
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.total_label.setStyleSheet(f"color: {theme.BLUE};")
        _fixed_line(self.total_label)
        tl.addWidget(self.total_label)
        self.subtotals = QLabel()
        self.subtotals.setObjectName("subtotals")
        self.subtotals.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.subtotals.setFont(theme.big_font(13, bold=False))
        _fixed_line(self.subtotals, 2)
        tl.addWidget(self.subtotals)
        self.paid_label = QLabel()
        self.paid_label.setObjectName("paidSoFar")
        self.paid_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.paid_label.setFont(theme.big_font(13))
        _fixed_line(self.paid_label)
        tl.addWidget(self.paid_label)
        right.addWidget(totals)

        doc = QFrame()
        theme.set_role(doc, "panel")
        dl = QGridLayout(doc)
        dl.setContentsMargins(18, 10, 18, 10)
        dl.addWidget(QLabel(tr("CPF/CNPJ na nota (F5)")), 0, 0)
        self.document = QLineEdit()
        self.document.setObjectName("documentField")
        self.document.setPlaceholderText(tr("opcional"))
        self.document.setMaxLength(18)
        self.document.textChanged.connect(self._document_changed)
        self.document.returnPressed.connect(self._document_entered)
        dl.addWidget(self.document, 0, 1)
        self.document_status = QLabel()
        self.document_status.setObjectName("documentStatus")
        _fixed_line(self.document_status)
        dl.addWidget(self.document_status, 1, 0, 1, 2)
        # Which fiscal document the sale will get (NF-e 55 for a CNPJ buyer where the state's rule says so)
        self.document_model = ElideLabel()
        self.document_model.setObjectName("documentModel")
        self.document_model.setStyleSheet("font-weight: bold;")
        _fixed_line(self.document_model)
        dl.addWidget(self.document_model, 2, 0, 1, 2)
        # room for the model line at 1024x768: tighter frame instead of a taller panel
        dl.setContentsMargins(18, 2, 18, 2)
        dl.setVerticalSpacing(0)
        self._update_document_model()
        right.addWidget(doc)

        legend = QGridLayout()
        legend.setSpacing(6)
        self.legend_buttons: dict[str, QPushButton] = {}
        for i, (key, label, method) in enumerate(LEGEND):
            button = QPushButton(f"{key}  {label}")
            button.setObjectName(f"legend_{key}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(getattr(self, method))
            if key == "Esc":
                theme.set_role(button, "danger")
            legend.addWidget(button, i // 2, i % 2)
            self.legend_buttons[key] = button
        right.addLayout(legend)
        self.pay_button = QPushButton(tr("F10  PAGAMENTO / FINALIZAR"))
        self.pay_button.setObjectName("legend_F10")
        self.pay_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.pay_button.setMinimumHeight(76)
        self.pay_button.setFont(theme.big_font(18))
        theme.set_role(self.pay_button, "primary")
        self.pay_button.clicked.connect(self.open_payment)
        right.addWidget(self.pay_button)
        right.addWidget(hint_label(tr("↑/↓ escolhe o item · Del remove · 1,5*código: quantidade fracionada")))
        right.addStretch(1)
        self.setTabOrder(self.code, self.document)
        self.setTabOrder(self.document, self.code)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        sale = bar.addMenu(tr("&Venda"))
        for text, slot in (
            (tr("&Buscar produto\tF2"), self.open_search),
            (tr("&Quantidade do próximo item\tF3"), self.ask_quantity),
            (tr("&Desconto na venda\tF4"), self.ask_discount),
            (tr("CPF/CNPJ na &nota\tF5"), self.focus_document),
            (tr("&Remover item\tF8"), self.remove_selected),
            (tr("&Pagamento\tF10"), self.open_payment),
            (tr("&Cancelar venda\tEsc"), self.cancel_sale),
        ):
            sale.addAction(text).triggered.connect(slot)
        sale.addSeparator()
        sale.addAction(tr("&Trocar operador")).triggered.connect(self.request_logout)
        sale.addAction(tr("&Sair")).triggered.connect(self.close)

        manager = bar.addMenu(tr("&Gerente"))
        manager.setObjectName("managerMenu")
        self.manager_menu = manager
        self._add_manager_item(manager, tr("C&onfigurações…"), "configuracoes", self.open_settings)
        self._add_manager_item(
            manager, tr("&Sincronizar agora (transmitir contingência)"), "sincronizar", self.sync_now
        )
        self._add_manager_item(manager, tr("Rei&mprimir última nota"), "reimprimir", self.reprint_last)
        # ---- hook: entries registered by pos_app.ui.manager (see pos_app/ui/actions.py) ----
        extensions = load_manager_extensions()
        if extensions:
            manager.addSeparator()
        for action in extensions:
            self._add_extension(manager, action)

        if self.ctx.config.demo:
            from pos_app.ui.training import TrainingMenu

            self.training_menu: Any = TrainingMenu(self.ctx, self._training_changed, self)
            bar.addMenu(self.training_menu)
        else:
            self.training_menu = None
        help_menu = bar.addMenu(tr("&Ajuda"))
        help_menu.addAction(tr("&Teclas de atalho\tF1")).triggered.connect(self.show_shortcuts)

    def _add_manager_item(self, menu: Any, text: str, key: str, run: Callable[[], None]) -> QAction:
        action = QAction(text, self)
        action.setObjectName(f"manager_{key}")
        action.triggered.connect(lambda _c=False: self.protected(text.replace("&", ""), run))
        menu.addAction(action)
        return action

    # Alt shortcuts of the "Gerente" entries registered by extensions (one letter each in the menu).
    MENU_MNEMONICS: dict[str, str] = {
        "gerente_historico": "&Histórico de vendas",
        "gerente_cancelar_nota": "&Cancelar NFC-e",
        "gerente_email": "&Enviar NFC-e por e-mail",
        "gerente_inutilizar": "&Inutilizar numeração",
        "gerente_caixa": "C&aixa (abrir, sangria, suprimento, fechar)",
        "gerente_relatorios": "&Relatórios do dia",
        "gerente_usuarios": "O&peradores",
        "documentos_backoffice": "&Documentos (CT-e, NFS-e)",
    }

    def _add_extension(self, menu: Any, ext: ManagerAction) -> None:
        label = tr(self.MENU_MNEMONICS[ext.key]) if ext.key in self.MENU_MNEMONICS else ext.label
        text = label + (f"\t{ext.shortcut_hint}" if ext.shortcut_hint else "")
        action = QAction(text, self)
        action.setObjectName(f"manager_{ext.key}")

        action.triggered.connect(lambda _c=False: self.run_extension(ext))
        menu.addAction(action)

    def run_extension(self, ext: ManagerAction) -> None:
        """A "Gerente" entry registered by an extension (manager PIN first when required)."""

        def run() -> None:
            try:
                ext.run(self)
            except Exception as exc:  # noqa: BLE001 - a broken extension must not close the cashier
                log.exception("ação de gerente %s falhou", ext.key)
                inform(self, ext.label, tr("Falha: {erro}").format(erro=exc), error=True)
                return
            opened = QApplication.activeModalWidget()
            if isinstance(opened, QDialog) and opened is not self.dialog:
                # the code field gets the focus back (and the status bar is refreshed) when it closes
                self.dialog = opened

                def closed(_result: int) -> None:
                    self.refresh_cash_state()
                    self._dialog_closed()

                opened.finished.connect(closed)

        if ext.requires_pin:
            self.protected(ext.label, run)
        else:
            run()

    # -- cash session (opened and closed by the manager dialogs) ------------------------------
    def cash_open(self) -> bool:
        try:
            from pos_app.core.services.cash import CashService

            return CashService(self.ctx).current() is not None
        except Exception:  # noqa: BLE001 - a store without cash sessions sells freely
            return True

    def offer_open_cash(self) -> None:
        text = tr("Caixa fechado: o gerente precisa abrir o caixa (fundo de troco) antes da primeira venda.")
        self.show_message(text, error=True)
        ext = next((a for a in manager_actions if a.key == "gerente_caixa"), None)
        if ext is None:
            return
        self.dialog = confirm(
            self,
            tr("Caixa fechado"),
            text + "\n\n" + tr("Abrir o caixa agora?"),
            lambda: self._open_cash(ext),
            lambda: self._dialog_closed(),
            yes=tr("Abrir caixa (Enter)"),
            no=tr("Agora não (Esc)"),
        )

    def _open_cash(self, ext: ManagerAction) -> None:
        self.dialog = None
        self.run_extension(ext)

    # -- protected actions ------------------------------------------------------------------
    def protected(
        self, reason: str, action: Callable[[], None], on_refused: Callable[[], None] | None = None
    ) -> None:
        """Run ``action`` after a manager's PIN (or at once for a manager operator)."""

        def approved(manager: User) -> None:
            if manager is not self._approver:  # a fresh PIN opens the manager session
                minutes = int(self.ctx.config.get("gerente.sessao_minutos") or "5")
                self._approver_until = time.monotonic() + minutes * 60
            self._approver = manager
            self.dialog = None
            action()
            self._dialog_closed()  # refocus the code field unless the action opened a dialog

        def refused() -> None:
            self.dialog = None
            self.show_message(tr("Ação não autorizada."), error=True)
            self._dialog_closed()
            if on_refused is not None:
                on_refused()

        if self._approver is not None and time.monotonic() < self._approver_until:
            log.info("sessão do gerente %s: %s", self._approver.codigo, reason)
            approved(self._approver)
            return
        dialog = require_manager(self, self.ctx, self._operator, reason, approved, refused)
        if dialog is not None:
            self.dialog = dialog

    # -- messages and totals ---------------------------------------------------------------
    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(
            f"color: {theme.RED}; font-weight: bold;" if error else f"color: {theme.GREY};"
        )
        if error:
            QApplication.beep()

    def _refresh_totals(self) -> None:
        sale = self.cart.sale
        produtos, desconto = sale.valor_produtos, sale.valor_desconto  # each total is a pass over the cart
        self.total_label.setText(format_brl(produtos - desconto))
        n = len(sale.items)
        text = (tr("1 item") if n == 1 else tr("{n} itens").format(n=n)) + tr(" · subtotal {s}").format(
            s=format_brl(produtos)
        )
        if desconto:  # own line: the item count is never cut by a long discount
            text += "\n" + tr("desconto {d}").format(d=format_brl(desconto))
        self.subtotals.setText(text)
        # The Desconto column only when the sale has a discount: its room goes to the description.
        self.table.setColumnHidden(COL_DISC, not desconto)
        if self.customer_display is not None:
            self.customer_display.show_sale(sale.items, produtos - desconto, sale.total_pago or None)
        if sale.payments:
            self.paid_label.setText(
                tr("Pago {p} · falta {f}").format(p=format_brl(sale.total_pago), f=format_brl(sale.restante))
            )
            self.paid_label.setStyleSheet(f"color: {theme.AMBER};")
        else:
            self.paid_label.setText("")

    def _open_customer_display(self) -> None:
        from pos_app.ui import customer_display

        if not customer_display.enabled(self.ctx.config):
            return
        emitente = self.ctx.config.emitente()
        name = (emitente.nome_fantasia or emitente.razao_social) if emitente is not None else ""
        self.customer_display = customer_display.CustomerDisplay(name, self)  # a window of its own
        self.customer_display.place()

    def _set_pending(self, quantity: Decimal | None) -> None:
        self.pending_quantity = quantity
        if quantity is None:
            self.pending_label.setVisible(False)
        else:
            self.pending_label.setText(tr("Próximo item: {q} ×").format(q=format_quantity(quantity)))
            self.pending_label.setVisible(True)

    def _select_row(self, row: int) -> None:
        if 0 <= row < self.cart.rowCount():
            self.table.selectRow(row)
            self.table.scrollTo(self.cart.index(row, 0))

    def selected_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            return rows[0].row()
        return self.cart.rowCount() - 1

    # -- adding items ----------------------------------------------------------------------
    def handle_code_entered(self) -> None:
        text = self.code.text().strip()
        if not text:
            return
        started = time.perf_counter()
        try:
            found = self.rules.resolve(text, self.pending_quantity)
        except ScanError as exc:
            self.show_message(str(exc), error=True)
            self.code.selectAll()
            return
        if self.add_product(found.product, found.quantidade, found.valor_unitario):
            self.code.clear()
        else:
            self.code.selectAll()
        self.last_add_ms = (time.perf_counter() - started) * 1000

    @property
    def rules(self) -> CartService:
        """The cart service over the sale on screen (the same rules as ``pos-app sell``)."""
        self._rules.sale = self.cart.sale
        self._rules.discount_percent = self.discount_percent
        return self._rules

    def add_product(
        self,
        product: Product,
        quantidade: Decimal,
        valor_unitario: Decimal | None = None,
        *,
        approved: bool = False,
    ) -> bool:
        try:
            issues = self.rules.item_guards(product, Decimal(quantidade))  # typo guards, via the cart service
        except ValidationError as exc:  # 0,5 of a product sold by the unit: no override
            self.show_message(exc.message, error=True)
            return False
        if issues and not approved:
            reason = " ".join(i.message for i in issues)
            self.show_message(reason, error=True)

            def approved_add() -> None:
                if self.add_product(product, quantidade, valor_unitario, approved=True):
                    self.code.clear()

            self.protected(reason, approved_add)
            return False
        try:
            self.cart.add(product, quantidade, valor_unitario)
        except ValidationError as exc:
            self.show_message(exc.message, error=True)
            return False
        self._set_pending(None)
        self._items_changed()
        row = self.cart.rowCount() - 1
        self._select_row(row)
        self._show_last_item()
        self.show_message(tr("Item {n} adicionado.").format(n=row + 1))
        return True

    def _show_last_item(self) -> None:
        """Footer: the last item of the cart (amounts first: the description is what gets cut)."""
        items = self.cart.sale.items
        if not items:
            self.last_item.setText("")
            return
        item = items[-1]
        product = item.product
        self.last_item.setText(
            f"{format_quantity(item.quantidade)} {product.unidade} × "
            f"{format_brl(item.valor_unitario)} = {format_brl(item.valor_bruto)}   "
            f"{product.descricao}"
        )

    def _items_changed(self) -> None:
        rules = self.rules
        notice = rules.items_changed()
        self.discount_percent = rules.discount_percent
        if self.cart.sale.items and (self.discount_percent is not None or notice):
            self.cart.amounts_changed()
        if notice:
            self.show_message(tr(notice), error=True)
        self._refresh_totals()

    # -- F2 search -------------------------------------------------------------------------
    def open_search(self) -> None:
        if not self._can_interact():
            return
        initial = self.code.text().strip()
        dialog = ProductSearchDialog(self.ctx, initial if initial and not initial.isdigit() else "", self)
        dialog.chosen.connect(lambda p: self.add_product(p, self.pending_quantity or Decimal(1)))
        self._open(dialog)
        if initial and not initial.isdigit():
            self.code.clear()

    # -- F3 quantity -----------------------------------------------------------------------
    def ask_quantity(self) -> None:
        if not self._can_interact():
            return
        typed = self.code.text().strip()
        if typed and "*" not in typed:
            try:
                self._set_pending(parse_quantity(typed))
            except ScanError as exc:
                self.show_message(str(exc), error=True)
                return
            self.code.clear()
            return

        def check(text: str) -> str | None:
            try:
                parse_quantity(text)
            except ScanError as exc:
                return str(exc)
            return None

        dialog = ValueDialog(
            tr("Quantidade"),
            tr("Quantidade do próximo item (ex.: 3 ou 1,250 para peso):"),
            check,
            self,
            initial="1",
        )
        dialog.accepted.connect(lambda: self._set_pending(parse_quantity(dialog.field.text())))
        self._open(dialog)

    # -- F4 discount -----------------------------------------------------------------------
    def ask_discount(self) -> None:
        if not self._can_interact():
            return
        sale = self.cart.sale
        if not sale.items:
            self.show_message(tr("Adicione itens antes de dar desconto."), error=True)
            return

        def parse(text: str) -> Discount:
            return self.rules.parse_discount(text)

        def check(text: str) -> str | None:
            try:
                parse(text)
            except ValidationError as exc:
                return exc.message
            return None

        def apply(discount: Discount, manager: User | None = None) -> None:
            rules = self.rules
            rules.apply_discount(discount, authorized_by=manager)
            self.discount_percent = rules.discount_percent
            self.cart.amounts_changed()
            self._refresh_totals()
            self.show_message(tr("Desconto de {v} aplicado.").format(v=format_brl(sale.valor_desconto)))
            self._dialog_closed()

        def accepted() -> None:
            self.dialog = None
            discount = parse(dialog.field.text())
            rules = self.rules
            if rules.needs_manager(discount):
                reason = tr("Desconto de {p}% acima do limite de {m}% para o caixa.").format(
                    p=format_quantity(discount.percentual_efetivo.quantize(Decimal("0.01"))),
                    m=format_quantity(self.max_discount),
                )
                self.protected(reason, lambda: apply(discount, self._approver))
            else:
                apply(discount)

        current = (
            f"{self.discount_percent}%"
            if self.discount_percent
            else (f"{sale.desconto_venda:.2f}".replace(".", ",") if sale.desconto_venda else "")
        )
        dialog = ValueDialog(
            tr("Desconto na venda"),
            tr(
                "Digite o valor em reais (ex.: 5,00) ou o percentual (ex.: 10%). 0 retira o desconto. "
                "Acima de {m}% precisa do gerente."
            ).format(m=format_quantity(self.max_discount)),
            check,
            self,
            initial=current,
        )
        dialog.accepted.connect(accepted)
        self._open(dialog)

    # -- F5 CPF/CNPJ -----------------------------------------------------------------------
    def focus_document(self) -> None:
        self.document.setFocus()
        self.document.selectAll()

    _DOC_SEPARATORS = re.compile(r"[.\-/\s]")

    def _document_state(self) -> tuple[bool | None, str]:
        text = self.document.text().strip()
        if not text:
            return None, ""
        chars = normalize_document(text)
        if len(chars) != len(self._DOC_SEPARATORS.sub("", text)):
            return False, tr("Use letras, números e a pontuação do CPF/CNPJ.")
        has_letter = any(c.isalpha() for c in chars)
        if has_letter:
            # alphanumeric CNPJ (from July 2026): 12 letters/digits + 2 numeric check digits
            if len(chars) < 14:
                return None, tr("Digitando… ({n} de 14 caracteres do CNPJ)").format(n=len(chars))
            if len(chars) == 14:
                return (
                    (True, tr("CNPJ válido"))
                    if is_valid_cnpj(chars)
                    else (False, tr("CNPJ inválido: confira os caracteres."))
                )
            return False, tr("CPF tem 11 dígitos e CNPJ tem 14 caracteres.")
        digits = chars
        if len(digits) < 11:
            return None, tr("Digitando… ({n} de 11 dígitos do CPF)").format(n=len(digits))
        if len(digits) == 11:
            return (
                (True, tr("CPF válido"))
                if is_valid_cpf(digits)
                else (False, tr("CPF inválido: confira os dígitos."))
            )
        if len(digits) < 14:
            return None, tr("Digitando… ({n} de 14 dígitos do CNPJ)").format(n=len(digits))
        if len(digits) == 14:
            return (
                (True, tr("CNPJ válido"))
                if is_valid_cnpj(digits)
                else (False, tr("CNPJ inválido: confira os dígitos."))
            )
        return False, tr("CPF tem 11 dígitos e CNPJ tem 14.")

    def _document_changed(self, _text: str) -> None:
        valid, message = self._document_state()
        theme.set_valid(self.document, valid)
        self.document_status.setText(message)
        color = theme.GREEN if valid else (theme.RED if valid is False else theme.GREY)
        self.document_status.setStyleSheet(f"color: {color};")
        self._update_document_model()

    def _document_choice(self) -> DocumentChoice:
        valid, _message = self._document_state()
        digits = normalize_document(self.document.text()) if valid else ""
        return choose_document(self.ctx, digits if len(digits) == 14 else None)

    def _after_customer_saved(self) -> None:
        self._update_document_model()
        self.open_payment()

    def _update_document_model(self) -> None:
        try:
            self.document_model.setText(tr(self._document_choice().label))
        except Exception:  # noqa: BLE001 - the label never blocks typing
            self.document_model.setText("")

    def _document_entered(self) -> None:
        valid, message = self._document_state()
        if valid is False or (valid is None and self.document.text().strip()):
            self.show_message(message or tr("CPF/CNPJ incompleto."), error=True)
            return
        if valid:
            digits = normalize_document(self.document.text())
            self.document.setText(format_cpf(digits) if len(digits) == 11 else format_cnpj(digits))
        self.code.setFocus()

    def consumer_document(self) -> tuple[str | None, str | None]:
        """(cpf, cnpj) digits for the note; raises ValidationError when the field is not valid."""
        valid, message = self._document_state()
        if valid is None and not self.document.text().strip():
            return None, None
        if not valid:
            raise ValidationError("cpf", message or tr("CPF/CNPJ incompleto."))
        digits = normalize_document(self.document.text())
        return (digits, None) if len(digits) == 11 else (None, digits)

    # -- F8 / Del remove -------------------------------------------------------------------
    def remove_selected(self) -> None:
        if not self._can_interact():
            return
        row = self.selected_row()
        if row < 0:
            self.show_message(tr("Não há itens para remover."), error=True)
            return
        item = self.cart.sale.items[row]
        description = tr("item {n} — {d} ({v})").format(
            n=row + 1, d=item.product.descricao, v=format_brl(item.valor_liquido)
        )

        def do_remove() -> None:
            self.dialog = None
            self.cart.remove(row)
            self._items_changed()
            self._select_row(min(row, self.cart.rowCount() - 1))
            self._show_last_item()  # the footer never shows the removed item
            self.show_message(tr("Removido: {d}.").format(d=description))
            self._dialog_closed()

        if self.cart.sale.payments:
            self.protected(tr("Remover {d} depois de iniciado o pagamento.").format(d=description), do_remove)
            return
        self.dialog = confirm(
            self,
            tr("Remover item"),
            tr("Remover {d}?").format(d=description),
            do_remove,
            lambda: self._dialog_closed(),
            yes=tr("Remover (Enter)"),
            no=tr("Manter (Esc)"),
        )

    # -- Esc cancel ------------------------------------------------------------------------
    def cancel_sale(self) -> None:
        if not self._can_interact():
            return
        sale = self.cart.sale
        if not sale.items:
            self._set_pending(None)
            self.code.clear()
            self.show_message("")
            return

        def do_cancel() -> None:
            self.dialog = None
            self.new_sale()
            self.show_message(tr("Venda cancelada."))
            self._dialog_closed()

        text = tr("Cancelar a venda atual ({n} itens, {t})?").format(
            n=len(sale.items), t=format_brl(sale.valor_total)
        )
        if sale.payments:
            self.protected(tr("Cancelar a venda depois de iniciado o pagamento."), do_cancel)
            return
        self.dialog = confirm(
            self,
            tr("Cancelar venda"),
            text,
            do_cancel,
            lambda: self._dialog_closed(),
            yes=tr("Cancelar venda (Enter)"),
            no=tr("Continuar vendendo (Esc)"),
        )

    def new_sale(self) -> None:
        self._total_approved = None
        self.cart.new_sale()
        self.discount_percent = None
        self._set_pending(None)
        self.document.clear()
        self.code.clear()
        self.last_item.setText("")
        self.show_message(tr("Caixa livre: leia o primeiro produto."))
        self._refresh_totals()
        self.code.setFocus()

    # -- F10 payment and finalize -----------------------------------------------------------
    def open_payment(self) -> None:
        if not self._can_interact():
            return
        sale = self.cart.sale
        if not sale.items:
            self.show_message(tr("Venda sem itens: leia um produto primeiro."), error=True)
            return
        try:
            sale.cpf, sale.cnpj = self.consumer_document()
        except ValidationError as exc:
            self.show_message(exc.message, error=True)
            self.focus_document()
            return
        if not sale.cpf and not sale.cnpj and sale.valor_total >= CONSUMER_ID_REQUIRED_FROM:
            # Refused before paying (Ajuste SINIEF 19/16), not after the card was charged.
            self.show_message(
                tr(
                    "Venda de {v}: a partir de {limite} a NFC-e exige CPF ou CNPJ do consumidor. "
                    "Informe o documento (F5)."
                ).format(v=format_brl(sale.valor_total), limite=format_brl(CONSUMER_ID_REQUIRED_FROM)),
                error=True,
            )
            self.focus_document()
            return
        if not self.cash_open():
            self.offer_open_cash()
            return
        choice = self._document_choice()
        if choice.modelo == 55 and choice.cliente is None and sale.cnpj:
            # NF-e model 55: the buyer's data first (typed once, kept), then the payment.
            dialog_c = CustomerDialog(self.ctx.store.clientes, sale.cnpj, self)
            dialog_c.accepted.connect(lambda: QTimer.singleShot(0, self._after_customer_saved))
            self.customer_dialog = dialog_c
            self._open(dialog_c)
            return
        total_issues = self.rules.total_guards()
        if total_issues and self._total_approved != sale.valor_total:
            reason = " ".join(i.message for i in total_issues)
            self.show_message(reason, error=True)

            def approved_total() -> None:
                self._total_approved = sale.valor_total
                self.open_payment()

            self.protected(reason, approved_total)
            return
        dialog = PaymentDialog(
            sale,
            self,
            limits=self.guard_limits,
            ctx=self.ctx,
            operator=self._operator,
            customer_display=self.customer_display,
        )
        dialog.paid.connect(self.finalize)
        dialog.rejected.connect(self._refresh_totals)
        self.payment_dialog = dialog
        self._open(dialog)

    def finalize(self) -> None:
        """Send the paid sale (worker); the progress dialog counts the seconds."""
        sale = self.cart.sale
        self._busy = True
        self.progress_dialog = EmissionProgressDialog(self.timeout_s, self)
        self.progress_dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress_dialog.open()
        wait_ready = self.controller.wait_ready if self.controller is not None else (lambda _t: True)
        run_in_worker(
            checkout_job,
            self.ctx,
            sale,
            self._operator.id,
            wait_ready,
            on_progress=self.progress_dialog.set_message,
            on_result=self._finalized,
            on_error=self._finalize_failed,
        )

    def _finalized(self, result: Any) -> None:
        self._busy = False
        if self.progress_dialog is not None:
            self.progress_dialog.finish()
            self.progress_dialog = None
        self.last_result = result
        self.refresh_status()
        self.sale_finished.emit(result)
        dialog = ResultDialog(self.ctx, result, self, operator_id=self._operator.id)
        dialog.closed.connect(self._result_closed)
        self.result_dialog = dialog
        self.new_sale()
        if self.customer_display is not None and getattr(result, "total", None) is not None:
            self.customer_display.show_change(result.total, result.troco)
        self._open(dialog)

    def _result_closed(self) -> None:
        self.result_dialog = None
        self._dialog_closed()

    def _finalize_failed(self, exc: BaseException) -> None:
        self._busy = False
        if self.progress_dialog is not None:
            self.progress_dialog.finish()
            self.progress_dialog = None
        if is_input_error(exc):
            text = str(exc)
        else:
            log.error("falha ao finalizar a venda: %r", exc)
            text = tr(
                "Falha inesperada ao emitir: {erro}. Se a venda chegou a ser gravada, a nota será enviada "
                "automaticamente; confira no histórico antes de repetir a venda."
            ).format(erro=exc)
        self.show_message(text, error=True)
        self.dialog = inform(self, tr("Venda não finalizada"), text, error=True, on_close=self._dialog_closed)

    # -- manager built-ins -----------------------------------------------------------------
    def open_settings(self) -> None:
        from pos_app.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.ctx, self)
        dialog.saved.connect(self._settings_saved)
        self.settings_dialog = dialog
        self._open(dialog)

    def _settings_saved(self, _keys: list[str]) -> None:
        self.reload_settings()
        self.refresh_status()

    def sync_now(self) -> None:
        if self.controller is None:
            return
        started = self.controller.replay.trigger(force=True, ignore_backoff=True, on_done=self._synced)
        self.show_message(
            tr("Transmitindo notas pendentes…")
            if started
            else tr("Transmissão já em andamento; o resultado aparece ao terminar.")
        )

    def _synced(self, outcome: Any) -> None:
        if isinstance(outcome, BaseException):
            text = tr("A transmissão falhou: {erro}").format(erro=outcome)
        elif outcome is None:
            text = tr("Nada pendente para transmitir.")
        else:
            text = "\n".join(outcome.lines())
        self.dialog = inform(
            self,
            tr("Sincronização"),
            text,
            error=isinstance(outcome, BaseException),
            on_close=self._dialog_closed,
        )

    def reprint_last(self) -> None:
        doc_id = self.last_result.document_id if self.last_result is not None else None
        if doc_id is None:
            doc_id = last_issued_document_id(self.ctx)
        if doc_id is None:
            self.show_message(tr("Nenhuma nota para reimprimir."), error=True)
            return
        self.show_message(tr("Reimprimindo…"))
        run_in_worker(
            _render_receipt_job,
            self.ctx,
            doc_id,
            on_result=lambda path: self._show_reprint(doc_id, path),
            on_error=lambda exc: self.show_message(tr("Reimpressão falhou: {e}").format(e=exc), error=True),
        )

    def _show_reprint(self, doc_id: int, path: str) -> None:
        from types import SimpleNamespace

        doc = self.ctx.store.documents.get(doc_id) or {}
        result = SimpleNamespace(
            emitido=True,
            contingencia=doc.get("kind") == "contingencia",
            troco=Decimal(0),
            total=Decimal(0),
            numero=doc.get("numero"),
            serie=doc.get("serie"),
            chave=doc.get("chave"),
            document_id=doc_id,
            danfce=path,
            status_sefaz=None,
            mensagem_sefaz=None,
            mensagem="",
            modelo=int(doc.get("modelo") or 65),
        )
        manager = self._approver or self._operator
        dialog = ResultDialog(self.ctx, result, self, reprint_by=manager.id)
        dialog.setWindowTitle(tr("Reimpressão"))
        dialog.closed.connect(self._dialog_closed)
        self._open(dialog)

    # -- training --------------------------------------------------------------------------
    def _training_changed(self) -> None:
        if self.controller is not None:
            self.controller.faults_changed()

    def show_shortcuts(self) -> None:
        lines = [f"{k}: {label}" for k, label, _m in LEGEND]
        lines += [
            tr("F10 ou F12: pagamento e finalização"),
            tr("Del: remover item"),
            tr("↑/↓: escolher item"),
            tr("3*código: quantidade; 1,5*código: fracionada"),
            tr(
                "Na tela de pagamento: F1 Dinheiro, F2 Crédito, "
                "F3 Débito, F4 PIX, F5 Vale, F6 Outros, Enter confirma"
            ),
        ]
        self.dialog = inform(self, tr("Teclas de atalho"), "\n".join(lines), on_close=self._dialog_closed)

    def request_logout(self) -> None:
        if self.cart.sale.items:
            self.show_message(tr("Finalize ou cancele a venda antes de trocar de operador."), error=True)
            return
        self.logout_requested.emit()

    # -- dialogs and focus -----------------------------------------------------------------
    def _can_interact(self) -> bool:
        return not self._busy and (self.dialog is None or not self.dialog.isVisible())

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.finished.connect(lambda _r: self._dialog_closed())
        dialog.open()

    def _dialog_closed(self) -> None:
        if self.dialog is not None and not self.dialog.isVisible():
            self.dialog = None
        if self.dialog is None and not self._busy:
            QTimer.singleShot(0, self._refocus)

    def _refocus(self) -> None:
        if QApplication.activeModalWidget() is None and self.isVisible():
            self.activateWindow()  # some platforms leave no active window when a dialog closes
            self.code.setFocus()

    # -- screen size -----------------------------------------------------------------------
    # Column widths (px) of the cart: wide screens (1280, 1366...) and 1024x768. On the narrow one the
    # code column goes (the description says what the item is) and the description elides first:
    # Qtde, Vl. unit., Desconto and Total are always whole. Desconto shows only on a discounted sale.
    WIDE_COLUMNS = (
        (COL_ITEM, 60),
        (COL_CODE, 96),
        (COL_QTY, 100),
        (COL_UNIT, 112),
        (COL_DISC, 104),
        (COL_TOTAL, 122),
    )
    NARROW_COLUMNS = ((COL_ITEM, 58), (COL_QTY, 92), (COL_UNIT, 102), (COL_DISC, 104), (COL_TOTAL, 110))

    def adapt_to_width(self, width: int) -> None:
        # up to 1280 px (1280x1024 terminals) the description gets the code column's room too
        self.table.setColumnHidden(COL_CODE, width < 1340)
        narrow = width < 1200
        if narrow == self._narrow:
            return
        self._narrow = narrow
        self.right_panel.setFixedWidth(384 if narrow else 440)
        self.body_layout.setContentsMargins(*((10, 10, 10, 10) if narrow else (16, 12, 16, 12)))
        self.body_layout.setSpacing(10 if narrow else 16)
        self.pay_button.setText(tr("F10  PAGAMENTO") if narrow else tr("F10  PAGAMENTO / FINALIZAR"))
        self.total_label.setFont(theme.big_font(38 if narrow else 44))
        self.pay_button.setFont(theme.big_font(18))
        for button in [*self.legend_buttons.values(), self.pay_button]:
            if button is not self.pay_button:
                button.setFont(theme.big_font(12 if narrow else theme.BASE_POINT_SIZE, bold=False))
            button.setProperty("compact", "true" if narrow else "")
            button.style().unpolish(button)
            button.style().polish(button)
        if hasattr(self, "status"):
            self.status.environment.setVisible(not narrow)  # the red band above already says it
        for col, w in self.NARROW_COLUMNS if narrow else self.WIDE_COLUMNS:
            self.table.setColumnWidth(col, w)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        self.adapt_to_width(event.size().width())
        super().resizeEvent(event)

    # -- keyboard --------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.code and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key == Qt.Key.Key_Delete and not self.code.text():
                self.remove_selected()
                return True
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self.cart.rowCount():
                row = self.selected_row() + (1 if key == Qt.Key.Key_Down else -1)
                self._select_row(max(0, min(self.cart.rowCount() - 1, row)))
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        handlers: dict[Qt.Key, Callable[[], None]] = {
            Qt.Key.Key_F1: self.show_shortcuts,
            Qt.Key.Key_F2: self.open_search,
            Qt.Key.Key_F3: self.ask_quantity,
            Qt.Key.Key_F4: self.ask_discount,
            Qt.Key.Key_F5: self.focus_document,
            Qt.Key.Key_F8: self.remove_selected,
            Qt.Key.Key_F10: self.open_payment,
            Qt.Key.Key_F12: self.open_payment,
            Qt.Key.Key_Escape: self.cancel_sale,
        }
        handler = handlers.get(Qt.Key(event.key()))
        if handler is not None:
            handler()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return  # fields handle Enter themselves
        super().keyPressEvent(event)

    def hideEvent(self, event: Any) -> None:  # noqa: N802
        if self.customer_display is not None:
            self.customer_display.hide()
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self._busy:
            self.show_message(tr("Aguarde a emissão da nota terminar."), error=True)
            event.ignore()
            return
        if self.cart.sale.items and not getattr(self, "_closing_confirmed", False):
            event.ignore()

            def really() -> None:
                self._closing_confirmed = True
                self.close()

            self.dialog = confirm(
                self,
                tr("Sair"),
                tr("Há uma venda em andamento. Sair e descartá-la?"),
                really,
                lambda: self._dialog_closed(),
                yes=tr("Sair"),
                no=tr("Continuar vendendo"),
            )
            return
        super().closeEvent(event)
