"""Resend an NFC-e by e-mail (up to 10 addresses)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.services.email import EmailResult, EmailService, clean_addresses
from pos_app.core.services.users import ManagerError
from pos_app.ui.i18n import tr
from pos_app.ui.manager.widgets import (
    ManagerDialog,
    error_text,
    message_label,
    primary_button,
    run_job,
    show_result,
)

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User


class EmailDialog(ManagerDialog):
    def __init__(
        self,
        ctx: AppContext,
        manager: User | None = None,
        parent: QWidget | None = None,
        ref: str | None = None,
    ) -> None:
        super().__init__(ctx, manager, parent)
        self.setObjectName("emailDialog")
        self.setWindowTitle(tr("Enviar NFC-e por e-mail"))
        self.setMinimumWidth(560)
        self.service = EmailService(ctx)
        self.outcome: EmailResult | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.ref = QLineEdit(ref or "")
        self.ref.setObjectName("refInput")
        self.ref.setPlaceholderText(tr("referência ou chave de acesso"))
        self.addresses = QPlainTextEdit()
        self.addresses.setObjectName("addresses")
        self.addresses.setPlaceholderText(tr("um endereço por linha (até 10)"))
        self.addresses.setFixedHeight(110)
        form.addRow(tr("Nota"), self.ref)
        form.addRow(tr("E-mails"), self.addresses)
        layout.addLayout(form)
        self.message = message_label()
        self.message.setObjectName("resultMessage")
        layout.addWidget(self.message)
        row = QHBoxLayout()
        close = QPushButton(tr("Fechar (Esc)"))
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        self.send_button = primary_button(tr("Enviar"))
        self.send_button.setObjectName("sendEmail")
        self.send_button.clicked.connect(self.submit)
        row.addStretch(1)
        row.addWidget(close)
        row.addWidget(self.send_button)
        layout.addLayout(row)

    def submit(self) -> None:
        lines = self.addresses.toPlainText().splitlines()
        try:
            clean_addresses(lines)
        except ManagerError as exc:
            show_result(self.message, exc.message, False)
            return
        ref = self.ref.text().strip()
        self.send_button.setEnabled(False)
        self.message.setText(tr("Enviando..."))
        self.track(
            run_job(
                self.service.send,
                ref,
                lines,
                self.manager,
                on_result=self._done,
                on_error=lambda e: show_result(self.message, error_text(e), False),
                on_finished=lambda: self.send_button.setEnabled(True),
            )
        )

    def _done(self, result: EmailResult) -> None:
        self.outcome = result
        show_result(self.message, result.mensagem, result.ok)
