"""Payment of the sale: several payments, remaining amount always visible, Enter does the obvious.

Methods are chosen with F1..F6 (or a touch): Dinheiro, Crédito, Débito, PIX, Vale, Outros. The
amount field starts with the remaining amount selected, so Enter pays it all with the current
method; a larger cash amount gives troco. When nothing remains, ``paid`` is emitted and the
dialog closes. Payments stay in the sale if the dialog is closed (Esc): the payment has started.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.money import ZERO, format_brl, parse_decimal
from pos_app.core.domain.payments import CARD_BRANDS, PAYMENT_METHODS, Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.domain.validators import is_valid_cnpj, normalize_cnpj
from pos_app.core.services.sale_guards import GuardLimits, payment_issues
from pos_app.ui import theme
from pos_app.ui.common import error_label, hint_label
from pos_app.ui.i18n import tr


@dataclass(frozen=True)
class MethodGroup:
    key: str
    label: str
    codes: tuple[str, ...]  # forma_pagamento codes; more than one shows a "Tipo" choice
    shortcut: Qt.Key


METHOD_GROUPS: tuple[MethodGroup, ...] = (
    MethodGroup("dinheiro", tr("Dinheiro"), ("01",), Qt.Key.Key_F1),
    MethodGroup("credito", tr("Crédito"), ("03",), Qt.Key.Key_F2),
    MethodGroup("debito", tr("Débito"), ("04",), Qt.Key.Key_F3),
    MethodGroup("pix", tr("PIX"), ("17", "20"), Qt.Key.Key_F4),
    MethodGroup("vale", tr("Vale"), ("10", "11", "12", "13"), Qt.Key.Key_F5),
    MethodGroup("outros", tr("Outros"), ("99", "05", "02"), Qt.Key.Key_F6),
)


KIND_LABELS = {"17": tr("PIX dinâmico (QR da cobrança)"), "20": tr("PIX estático (chave da loja)")}


def _payment_line(p: Payment) -> str:
    text = f"{PAYMENT_METHODS.get(p.forma, p.forma)}  {format_brl(p.valor)}"
    if p.bandeira:
        text += f"  · {CARD_BRANDS.get(p.bandeira, p.bandeira)}"
    if p.numero_autorizacao:
        label = tr("E2E {n}") if p.forma == "17" else tr("aut. {n}")
        text += "  · " + label.format(n=p.numero_autorizacao)
    return text


class PaymentDialog(QDialog):
    paid = Signal()

    def __init__(
        self,
        sale: Sale,
        parent: QWidget | None = None,
        limits: GuardLimits | None = None,
        *,
        ctx: Any = None,
        operator: Any = None,
        customer_display: Any = None,
    ) -> None:
        """``ctx``: the terminal (PIX through the PSP and the store key); without it PIX is typed by hand.
        ``customer_display``: the second monitor's display, where the PIX QR is shown too."""
        super().__init__(parent)
        self.sale = sale
        self.limits = limits or GuardLimits()
        self.confirm_box: QMessageBox | None = None  # "troco alto" confirmation open now
        self.ctx = ctx
        self.operator = operator
        self.pix_dialog: Any = None
        self.customer_display = customer_display
        self.setObjectName("paymentDialog")
        self.setWindowTitle(tr("Pagamento"))
        self.resize(1000, 640)
        self._group = METHOD_GROUPS[0]
        root = QHBoxLayout(self)
        root.setContentsMargins(20, 18, 20, 18)
        root.setSpacing(18)

        # -- left: methods ---------------------------------------------------------------
        left = QVBoxLayout()
        title = QLabel(tr("Forma de pagamento"))
        theme.set_role(title, "title")
        left.addWidget(title)
        self.method_buttons: dict[str, QPushButton] = {}
        self._buttons = QButtonGroup(self)
        self._buttons.setExclusive(True)
        for group in METHOD_GROUPS:
            key_name = group.shortcut.name.replace("Key_", "")
            button = QPushButton(f"{key_name}  {group.label}")
            button.setObjectName(f"method_{group.key}")
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAutoDefault(False)
            button.setMinimumWidth(170)
            theme.set_role(button, "method")
            button.clicked.connect(lambda _c=False, g=group: self.select_method(g.key))
            self._buttons.addButton(button)
            self.method_buttons[group.key] = button
            left.addWidget(button)
        left.addStretch(1)
        root.addLayout(left)

        # -- middle: amounts and entry -----------------------------------------------------
        middle = QVBoxLayout()
        middle.setSpacing(12)
        totals = QFrame()
        theme.set_role(totals, "panel")
        grid = QGridLayout(totals)
        grid.setContentsMargins(16, 12, 16, 12)
        self.total_label = QLabel()
        self.paid_label = QLabel()
        self.remaining_label = QLabel()
        self.remaining_label.setObjectName("remainingLabel")
        self.change_label = QLabel()
        self.change_label.setObjectName("changeLabel")
        for row, (caption, label, size) in enumerate(
            (
                (tr("Total da venda"), self.total_label, 20),
                (tr("Pago"), self.paid_label, 16),
                (tr("Falta pagar"), self.remaining_label, 30),
                (tr("Troco"), self.change_label, 22),
            )
        ):
            cap = QLabel(caption)
            cap.setFont(theme.big_font(13, bold=False))
            label.setFont(theme.big_font(size))
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(cap, row, 0)
            grid.addWidget(label, row, 1)
        middle.addWidget(totals)

        form = QFormLayout()
        form.setVerticalSpacing(10)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.method_title = QLabel()
        self.method_title.setFont(theme.big_font(16))
        form.addRow(self.method_title)
        self.kind = QComboBox()
        self.kind.setObjectName("paymentKind")
        self.kind_label = QLabel(tr("Tipo"))
        form.addRow(self.kind_label, self.kind)
        self.amount = QLineEdit()
        self.amount.setObjectName("amountField")
        self.amount.setFont(theme.big_font(20))
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow(tr("Valor (R$)"), self.amount)
        self.brand = QComboBox()
        self.brand.setObjectName("cardBrand")
        self.brand.addItem(tr("— escolha a bandeira —"), None)
        for code, name in CARD_BRANDS.items():
            self.brand.addItem(name, code)
        self.brand_label = QLabel(tr("Bandeira"))
        form.addRow(self.brand_label, self.brand)
        self.acquirer = QLineEdit()
        self.acquirer.setObjectName("acquirerCnpj")
        self.acquirer.setPlaceholderText(tr("opcional (TEF/POS integrado)"))
        self.acquirer_label = QLabel(tr("CNPJ da credenciadora"))
        form.addRow(self.acquirer_label, self.acquirer)
        self.authorization = QLineEdit()
        self.authorization.setObjectName("authorizationCode")
        self.authorization.setMaxLength(128)
        self.authorization.setPlaceholderText(tr("opcional"))
        self.authorization_label = QLabel(tr("Nº de autorização"))
        form.addRow(self.authorization_label, self.authorization)
        middle.addLayout(form)
        self.pix_hint = hint_label("")
        self.pix_hint.setObjectName("pixHint")
        self.pix_hint.setWordWrap(True)
        middle.addWidget(self.pix_hint)
        self.error = error_label()
        self.error.setObjectName("paymentError")
        middle.addWidget(self.error)
        middle.addStretch(1)
        buttons = QHBoxLayout()
        self.back_button = QPushButton(tr("Voltar (Esc)"))
        self.back_button.setAutoDefault(False)
        self.back_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.add_button = QPushButton(tr("Confirmar (Enter)"))
        self.add_button.setObjectName("confirmPayment")
        self.add_button.setAutoDefault(False)
        self.add_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        theme.set_role(self.add_button, "primary")
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        middle.addLayout(buttons)
        root.addLayout(middle, 3)

        # -- right: payments made ----------------------------------------------------------
        right = QVBoxLayout()
        made = QLabel(tr("Pagamentos"))
        theme.set_role(made, "title")
        right.addWidget(made)
        self.payments_list = QListWidget()
        self.payments_list.setObjectName("paymentsList")
        self.payments_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.payments_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.payments_list.setFont(theme.big_font(14, bold=False))
        self.payments_list.setSpacing(4)
        right.addWidget(self.payments_list, 1)
        self.remove_button = QPushButton(tr("Remover (Ctrl+Del)"))
        self.remove_button.setAutoDefault(False)
        self.remove_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        theme.set_role(self.remove_button, "danger")
        right.addWidget(self.remove_button)
        hint = hint_label(tr("F1–F6 escolhem a forma · Enter confirma · Esc volta"))
        hint.setWordWrap(True)
        right.addWidget(hint)
        root.addLayout(right, 2)

        self.back_button.clicked.connect(self.reject)
        self.add_button.clicked.connect(lambda _c=False: self.confirm())
        self.remove_button.clicked.connect(self.remove_selected)
        self.acquirer.textChanged.connect(self._check_acquirer)
        self.amount.textChanged.connect(lambda _t: self.error.setText(""))
        self.setTabOrder(self.amount, self.kind)
        self.setTabOrder(self.kind, self.brand)
        self.setTabOrder(self.brand, self.acquirer)
        self.setTabOrder(self.acquirer, self.authorization)
        self._refresh_list()
        self.select_method("dinheiro")

    # -- state -----------------------------------------------------------------------------
    def select_method(self, key: str) -> None:
        group = next(g for g in METHOD_GROUPS if g.key == key)
        self._group = group
        self.method_buttons[key].setChecked(True)
        self.method_title.setText(group.label)
        self.kind.clear()
        for code in group.codes:
            self.kind.addItem(KIND_LABELS.get(code, PAYMENT_METHODS[code]), code)
        multiple = len(group.codes) > 1
        self.kind.setVisible(multiple)
        self.kind_label.setVisible(multiple)
        card = key in ("credito", "debito")
        integrable = card or key == "pix"  # TEF/POS card or dynamic PIX (tipo_integracao 1)
        for w in (self.brand, self.brand_label):
            w.setVisible(card)
        for field in (self.acquirer, self.acquirer_label, self.authorization, self.authorization_label):
            field.setVisible(integrable)
        if not card:
            self.brand.setCurrentIndex(0)
        if not integrable:
            self.acquirer.clear()
            self.authorization.clear()
        self.error.setText("")
        self.pix_hint.setText("")
        self.pix_hint.setVisible(key == "pix")
        if key == "pix" and self.ctx is not None:
            reason = self._dynamic_pix_unavailable()
            if reason:
                self.kind.setCurrentIndex(self.kind.findData("20"))
                self.pix_hint.setText(reason)
        self._prefill()

    def _dynamic_pix_unavailable(self) -> str | None:
        """Why dynamic PIX cannot be used now (None: it can)."""
        from pos_app.core.pix.service import pix_service

        if not pix_service(self.ctx).configured():
            return tr("PIX dinâmico não configurado (pix.url): use o PIX estático.")
        monitor = getattr(self.ctx, "monitor", None)
        if monitor is not None and monitor.known_down():
            return tr(
                "Sem conexão: PIX dinâmico indisponível. O PIX estático funciona (o celular do cliente "
                "tem conexão própria)."
            )
        return None

    def _prefill(self) -> None:
        remaining = self.sale.restante
        self.amount.setText(f"{remaining:.2f}".replace(".", ",") if remaining > 0 else "")
        self.amount.selectAll()
        self.amount.setFocus()

    def _refresh_totals(self) -> None:
        sale = self.sale
        self.total_label.setText(format_brl(sale.valor_total))
        self.paid_label.setText(format_brl(sale.total_pago))
        self.remaining_label.setText(format_brl(sale.restante))
        color = theme.RED if sale.restante > 0 else theme.GREEN
        self.remaining_label.setStyleSheet(f"color: {color};")
        self.change_label.setText(format_brl(sale.troco))
        self.change_label.setStyleSheet(f"color: {theme.BLUE if sale.troco > 0 else theme.GREY};")

    def _refresh_list(self) -> None:
        self.payments_list.clear()
        for p in self.sale.payments:
            self.payments_list.addItem(_payment_line(p))
        if self.sale.payments:
            self.payments_list.setCurrentRow(len(self.sale.payments) - 1)
        self.remove_button.setEnabled(bool(self.sale.payments))
        self._refresh_totals()

    def _check_acquirer(self, text: str) -> None:
        digits = normalize_cnpj(text)
        if not digits:
            theme.set_valid(self.acquirer, None)
        else:
            theme.set_valid(self.acquirer, is_valid_cnpj(text))

    # -- actions ---------------------------------------------------------------------------
    def _confirm_large_change(self, message: str) -> None:
        """1000 typed for a R$ 27,90 sale: ask before giving R$ 972,10 of change (Esc/Enter = correct it)."""
        box = QMessageBox(QMessageBox.Icon.Warning, tr("Troco alto"), message, parent=self)
        box.setObjectName("largeChangeBox")
        fix = box.addButton(tr("Corrigir o valor (Enter)"), QMessageBox.ButtonRole.RejectRole)
        ok = box.addButton(tr("Confirmar troco (F9)"), QMessageBox.ButtonRole.AcceptRole)
        ok.setShortcut(Qt.Key.Key_F9)
        box.setDefaultButton(fix)
        box.setEscapeButton(fix)
        self.confirm_box = box

        def done(_r: int) -> None:
            self.confirm_box = None
            if box.clickedButton() is ok:
                self.confirm(confirmed=True)
            else:
                self.activateWindow()  # some platforms leave no active window when a message box closes
                self.amount.selectAll()
                self.amount.setFocus()

        box.finished.connect(done)
        box.open()

    def confirm(self, confirmed: bool = False) -> None:
        """Add the payment being typed; when nothing remains, the sale is paid."""
        if self.confirm_box is not None:  # the "troco alto" question is still open
            return
        if self.sale.restante <= 0 and self.sale.payments:
            self._finish()
            return
        try:
            valor = parse_decimal(self.amount.text(), "valor_pagamento", tr("Valor"))
        except ValidationError as exc:
            self._fail(exc.message, self.amount)
            return
        if valor <= ZERO:
            self._fail(tr("Informe um valor maior que zero."), self.amount)
            return
        forma = str(self.kind.currentData() or self._group.codes[0])
        bandeira = self.brand.currentData() if self._group.key in ("credito", "debito") else None
        if self._group.key in ("credito", "debito") and bandeira is None:
            self._fail(tr("Escolha a bandeira do cartão (↑/↓) e tecle Enter."), self.brand)
            return
        acquirer = self.acquirer.text().strip() or None
        if acquirer is not None and not is_valid_cnpj(acquirer):
            self._fail(
                tr("CNPJ da credenciadora inválido: confira os 14 caracteres ou deixe em branco."),
                self.acquirer,
            )
            return
        if forma != "01" and valor > self.sale.restante:
            self._fail(
                tr("Só pagamento em dinheiro pode passar do valor que falta (troco). Falta {falta}.").format(
                    falta=format_brl(self.sale.restante)
                ),
                self.amount,
            )
            return
        typed_integration = acquirer is not None or bool(self.authorization.text().strip())
        if forma in ("17", "20") and self.ctx is not None and not typed_integration:
            # PIX through the PSP (issue 17); with the acquirer typed, a PIX already paid on the card
            # machine (tipo_integracao 1, issue 12) is recorded as typed.
            self._start_pix(forma, valor)
            return
        payment = Payment(
            forma,
            valor,
            bandeira=bandeira,
            cnpj_credenciadora=acquirer,
            numero_autorizacao=self.authorization.text().strip() or None,
        )
        issues = payment_issues(self.sale.valor_total, self.sale.total_pago, forma, valor, self.limits)
        if issues and not confirmed:
            self._confirm_large_change(issues[0].message)
            return
        try:
            self.sale.add_payment(payment)
        except ValidationError as exc:
            field = {"cnpj_credenciadora": self.acquirer, "numero_autorizacao": self.authorization}.get(
                exc.field
            )
            self._fail(exc.message, field or self.amount)
            return
        self.error.setText("")
        self._refresh_list()
        if self.sale.restante <= 0:
            self._finish()
            return
        self.select_method("dinheiro")

    def _start_pix(self, forma: str, valor: Decimal) -> None:
        from pos_app.ui.pix_dialog import PixDynamicDialog, PixStaticDialog

        if forma == "17":
            reason = self._dynamic_pix_unavailable()
            if reason:
                self._fail(reason, self.kind)
                return
            dialog: Any = PixDynamicDialog(self.ctx, valor, self.operator, self, self.customer_display)
        else:
            from pos_app.core.pix.service import pix_service

            service = pix_service(self.ctx)
            if not service.setting("pix.chave"):
                # No store key configured: no QR to show; the cashier's Enter is the confirmation.
                self._add_pix_payment(service.record_static(valor, self.operator))
                return
            dialog = PixStaticDialog(self.ctx, valor, self.operator, self, self.customer_display)
        self.pix_dialog = dialog
        dialog.finished.connect(lambda _r, d=dialog: self._pix_done(d))
        dialog.open()

    def _pix_done(self, dialog: Any) -> None:
        self.pix_dialog = None
        if dialog.payment is None:
            self.amount.setFocus()
            return
        self._add_pix_payment(dialog.payment)

    def _add_pix_payment(self, payment: Payment) -> None:
        try:
            self.sale.add_payment(payment)
        except ValidationError as exc:  # the PIX is received: the manager refunds it (pix devolver)
            self._fail(exc.message, self.amount)
            return
        self._refresh_list()
        if self.sale.restante <= 0:
            self._finish()
            return
        self.select_method("dinheiro")

    def done(self, result: int) -> None:
        pix_dialog, self.pix_dialog = self.pix_dialog, None
        if pix_dialog is not None and pix_dialog.isVisible():  # closed under an open PIX QR
            pix_dialog.reject()  # its wait stops and the charge is removed (PixDynamicDialog.done)
        super().done(result)

    def _finish(self) -> None:
        self.accept()
        self.paid.emit()

    def _fail(self, message: str, focus: QWidget) -> None:
        self.error.setText(message)
        focus.setFocus()

    def remove_selected(self) -> None:
        row = self.payments_list.currentRow()
        if row < 0 or row >= len(self.sale.payments):
            return
        self.sale.remove_payment(row)
        self._refresh_list()
        self._prefill()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        for group in METHOD_GROUPS:
            if key == group.shortcut:
                self.select_method(group.key)
                return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.confirm()
            return
        if key == Qt.Key.Key_Delete and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.remove_selected()
            return
        super().keyPressEvent(event)
