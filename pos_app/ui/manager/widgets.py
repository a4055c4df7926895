"""Pieces shared by the manager dialogs: the manager PIN gate, money fields, background calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QPushButton, QWidget

from pos_app.ui import errors, theme
from pos_app.ui.common import error_label
from pos_app.ui.i18n import tr

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User

Now = Callable[[], datetime]


def run_job(
    fn: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    on_finished: Callable[[], None] | None = None,
) -> Any:
    """Run ``fn`` off the GUI thread (the window's worker pool); callbacks on the GUI thread."""
    from pos_app.ui.worker import run_in_worker

    return run_in_worker(fn, *args, on_result=on_result, on_error=on_error, on_finished=on_finished)


def error_text(exc: BaseException) -> str:
    """Portuguese sentence for an exception raised by a service (see ``pos_app.ui.errors``)."""
    return errors.error_text(exc)


def parse_money(text: str) -> Decimal | None:
    """``"1.234,56"``/``"12,5"``/``"12.50"`` -> Decimal; None when empty or invalid."""
    from pos_app.core.domain.errors import ValidationError
    from pos_app.core.domain.money import parse_decimal, to_money

    if not text.strip():
        return None
    try:
        return to_money(parse_decimal(text))
    except (ValidationError, InvalidOperation, ValueError):
        return None


class MoneyEdit(QLineEdit):
    def __init__(self, parent: QWidget | None = None, placeholder: str = "0,00") -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.setInputMethodHints(Qt.InputMethodHint.ImhFormattedNumbersOnly)

    def value(self) -> Decimal | None:
        return parse_money(self.text())


class ManagerGate(QWidget):
    """Manager PIN fields, shown only when the dialog was opened without an approving manager.

    ``job(fn)`` returns a callable for the worker that authenticates first (scrypt, off the GUI
    thread) and then calls ``fn(manager)``; the first manager accepted is remembered.
    """

    def __init__(
        self, ctx: AppContext, manager: User | None, action: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.manager = manager
        self.action = action
        self.code = QLineEdit()
        self.code.setObjectName("managerCode")
        self.code.setPlaceholderText(tr("opcional"))
        self.code.setMaxLength(10)
        self.pin = QLineEdit()
        self.pin.setObjectName("managerPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(8)
        self.pin.setPlaceholderText(tr("PIN do gerente"))
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(tr("Gerente (código)"), self.code)
        form.addRow(tr("PIN do gerente"), self.pin)
        self.setVisible(manager is None)

    def ready(self) -> bool:
        return self.manager is not None or bool(self.pin.text())

    def job(self, fn: Callable[[User], Any]) -> Callable[[], Any]:
        manager = self.manager
        pin = self.pin.text()
        code = self.code.text().strip() or None
        ctx, action = self.ctx, self.action

        def call() -> Any:
            from pos_app.core.services.users import authenticate

            user = manager or authenticate(ctx, pin, code, action=action)
            return user, fn(user)

        return call

    def accepted(self, user: User) -> None:
        self.manager = user
        self.pin.clear()
        self.setVisible(False)

    def refused(self) -> None:
        self.pin.clear()
        self.pin.setFocus()


def title_label(text: str) -> QLabel:
    label = QLabel(text)
    theme.set_role(label, "title")
    return label


def primary_button(text: str, role: str = "primary") -> QPushButton:
    button = QPushButton(text)
    button.setAutoDefault(False)
    theme.set_role(button, role)
    return button


def message_label(parent: QWidget | None = None) -> QLabel:
    label = error_label(parent)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def show_result(label: QLabel, text: str, ok: bool) -> None:
    label.setText(text)
    label.setStyleSheet(f"color: {theme.GREEN if ok else theme.RED}; font-weight: bold;")


class ManagerDialog(QDialog):
    """Base: ``ctx``, the approving manager (or the PIN gate) and an injectable clock."""

    def __init__(
        self,
        ctx: AppContext,
        manager: User | None = None,
        parent: QWidget | None = None,
        now: Now | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.manager = manager
        self.now: Now = now or ctx.now
        self.tasks: list[Any] = []  # running background calls (tests wait on them)

    def track(self, task: Any) -> Any:
        self.tasks = [t for t in self.tasks if not t.done]
        self.tasks.append(task)
        return task

    @property
    def busy(self) -> bool:
        return any(not t.done for t in self.tasks)
