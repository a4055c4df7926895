"""Operator login (code + PIN) and the manager PIN prompt for protected actions."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.services.context import AppContext
from pos_app.core.store.users import AuthError, User
from pos_app.ui import theme
from pos_app.ui.common import EnvironmentBand, error_label, hint_label
from pos_app.ui.i18n import tr
from pos_app.ui.worker import run_in_worker


class _PinForm(QWidget):
    """Code + PIN fields; Enter in the code goes to the PIN, Enter in the PIN submits."""

    submitted = Signal(str, str)

    def __init__(self, code_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code = QLineEdit()
        self.code.setObjectName("codeInput")
        self.code.setMaxLength(20)
        self.code.setPlaceholderText(tr("código"))
        self.pin = QLineEdit()
        self.pin.setObjectName("pinInput")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(8)
        self.pin.setPlaceholderText(tr("PIN"))
        self.pin.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly | Qt.InputMethodHint.ImhSensitiveData)
        self.error = error_label()
        self.error.setObjectName("loginError")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(12)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        form.addRow(code_label, self.code)
        form.addRow(tr("PIN"), self.pin)
        form.addRow(self.error)
        self.code.returnPressed.connect(self._code_entered)
        self.pin.returnPressed.connect(self._submit)
        self.setTabOrder(self.code, self.pin)

    def _code_entered(self) -> None:
        if self.code.text().strip():
            self.pin.setFocus()

    def _submit(self) -> None:
        code = self.code.text().strip()
        if not code:
            self.show_error(tr("Informe o código."))
            self.code.setFocus()
            return
        if not self.pin.text():
            self.show_error(tr("Informe o PIN."))
            self.pin.setFocus()
            return
        self.submitted.emit(code, self.pin.text())

    def show_error(self, text: str) -> None:
        self.error.setText(text)

    def reset_pin(self) -> None:
        self.pin.clear()
        self.pin.setFocus()

    def set_busy(self, busy: bool) -> None:
        self.code.setEnabled(not busy)
        self.pin.setEnabled(not busy)


def _authenticate(ctx: AppContext, code: str, pin: str) -> User:
    return ctx.store.users.authenticate(code, pin)  # scrypt: ~50 ms, off the GUI thread


class LoginWindow(QDialog):
    """First screen: who is at the counter. Emits ``logged_in(User)``."""

    logged_in = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("loginWindow")
        self.setWindowTitle(tr("Frente de Caixa — Entrar"))
        self.setMinimumSize(560, 460)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(EnvironmentBand(ctx.config.ambiente))
        body = QVBoxLayout()
        body.setContentsMargins(40, 28, 40, 28)
        body.setSpacing(16)
        outer.addLayout(body)
        title = QLabel(tr("Frente de Caixa"))
        theme.set_role(title, "title")
        title.setFont(theme.big_font(24))
        body.addWidget(title)
        body.addWidget(hint_label(tr("Identifique-se com o seu código de operador e PIN.")))
        panel = QFrame()
        theme.set_role(panel, "panel")
        pl = QVBoxLayout(panel)
        pl.setContentsMargins(20, 20, 20, 20)
        self.form = _PinForm(tr("Operador"))
        pl.addWidget(self.form)
        body.addWidget(panel)
        buttons = QHBoxLayout()
        self.enter = QPushButton(tr("Entrar (Enter)"))
        self.enter.setObjectName("loginButton")
        self.enter.setAutoDefault(False)
        theme.set_role(self.enter, "primary")
        self.quit = QPushButton(tr("Sair"))
        self.quit.setAutoDefault(False)
        buttons.addStretch(1)
        buttons.addWidget(self.quit)
        buttons.addWidget(self.enter)
        body.addLayout(buttons)
        if ctx.config.demo:
            body.addWidget(hint_label(tr("Demonstração: caixa 1 (PIN 1111), gerente 9 (PIN 9999).")))
        body.addStretch(1)
        self.enter.clicked.connect(self.form._submit)
        self.quit.clicked.connect(self.reject)
        self.form.submitted.connect(self._login)
        self.form.code.setFocus()

    shown = Signal()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        self.shown.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt name
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return  # handled by the fields; never let QDialog close on Enter
        if event.key() == Qt.Key.Key_Escape:
            self.reset()  # Esc clears; leaving the program is the "Sair" button
            return
        super().keyPressEvent(event)

    def _login(self, code: str, pin: str) -> None:
        self.form.set_busy(True)
        self.form.show_error("")
        run_in_worker(_authenticate, self.ctx, code, pin, on_result=self._ok, on_error=self._failed)

    def _ok(self, user: User) -> None:
        self.form.set_busy(False)
        self.form.pin.clear()
        self.logged_in.emit(user)

    def _failed(self, exc: BaseException) -> None:
        self.form.set_busy(False)
        self.form.show_error(
            str(exc) if isinstance(exc, AuthError) else tr("Falha ao verificar o PIN: ") + str(exc)
        )
        self.form.reset_pin()

    def reset(self) -> None:
        self.form.code.clear()
        self.form.pin.clear()
        self.form.show_error("")
        self.form.code.setFocus()


class ManagerPinDialog(QDialog):
    """A manager types code + PIN to allow one protected action. Emits ``approved(User)``."""

    approved = Signal(object)
    refused = Signal(str)

    def __init__(self, ctx: AppContext, reason: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("managerPinDialog")
        self.setWindowTitle(tr("Autorização do gerente"))
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(14)
        title = QLabel(tr("Autorização do gerente"))
        theme.set_role(title, "title")
        layout.addWidget(title)
        self.reason = QLabel(reason)
        self.reason.setWordWrap(True)
        layout.addWidget(self.reason)
        self.form = _PinForm(tr("Gerente"))
        layout.addWidget(self.form)
        row = QHBoxLayout()
        cancel = QPushButton(tr("Cancelar (Esc)"))
        cancel.setAutoDefault(False)
        ok = QPushButton(tr("Autorizar (Enter)"))
        ok.setAutoDefault(False)
        theme.set_role(ok, "primary")
        row.addStretch(1)
        row.addWidget(cancel)
        row.addWidget(ok)
        layout.addLayout(row)
        cancel.clicked.connect(self.reject)
        ok.clicked.connect(self.form._submit)
        self.form.submitted.connect(self._check)
        self.rejected.connect(lambda: self.refused.emit(tr("Cancelado")))
        self.form.code.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return
        super().keyPressEvent(event)

    def _check(self, code: str, pin: str) -> None:
        self.form.set_busy(True)
        self.form.show_error("")
        run_in_worker(_authenticate, self.ctx, code, pin, on_result=self._ok, on_error=self._failed)

    def _ok(self, user: User) -> None:
        self.form.set_busy(False)
        if not user.is_manager:
            self.form.show_error(
                tr("{nome} não é gerente: a autorização precisa de um gerente.").format(nome=user.nome)
            )
            self.form.reset_pin()
            return
        self.approved.emit(user)
        self.done(QDialog.DialogCode.Accepted)

    def _failed(self, exc: BaseException) -> None:
        self.form.set_busy(False)
        self.form.show_error(
            str(exc) if isinstance(exc, AuthError) else tr("Falha ao verificar o PIN: ") + str(exc)
        )
        self.form.reset_pin()


def require_manager(
    parent: QWidget,
    ctx: AppContext,
    operator: User | None,
    reason: str,
    on_approved: Callable[[User], None],
    on_refused: Callable[[], None] | None = None,
) -> ManagerPinDialog | None:
    """Run ``on_approved(manager)`` once a manager allowed the action.

    A manager at the counter is not asked again. Returns the open dialog (None when no prompt).
    """
    if operator is not None and operator.is_manager:
        on_approved(operator)
        return None
    dialog = ManagerPinDialog(ctx, reason, parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.approved.connect(on_approved)
    if on_refused is not None:
        dialog.refused.connect(lambda _msg: on_refused())
    dialog.open()
    dialog.form.code.setFocus()
    return dialog
