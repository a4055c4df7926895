"""Small widgets and dialogs shared by the cashier screens."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from pos_app.ui import theme
from pos_app.ui.i18n import tr


def environment_text(ambiente: str) -> str | None:
    """Text of the red band; None in production (no band)."""
    if ambiente == "producao":
        return None
    if ambiente == "sandbox":
        return tr("DEMONSTRAÇÃO — SEM VALOR FISCAL")
    return tr("HOMOLOGAÇÃO — SEM VALOR FISCAL")


class EnvironmentBand(QLabel):
    """Red band across the window outside production."""

    def __init__(self, ambiente: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("environmentBand")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFont(theme.big_font(14))
        self.setStyleSheet(f"background: {theme.RED}; color: white; padding: 6px; letter-spacing: 2px;")
        self.set_environment(ambiente)

    def set_environment(self, ambiente: str) -> None:
        text = environment_text(ambiente)
        self.setText(text or "")
        self.setVisible(text is not None)


def error_label(parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    theme.set_role(label, "error")
    label.setWordWrap(True)
    return label


def hint_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    theme.set_role(label, "hint")
    label.setWordWrap(True)
    return label


def confirm(
    parent: QWidget,
    title: str,
    text: str,
    on_yes: Callable[[], None],
    on_no: Callable[[], None] | None = None,
    *,
    yes: str | None = None,
    no: str | None = None,
) -> QMessageBox:
    """Non-blocking yes/no question (Enter = yes, Esc = no)."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    yes_button = box.addButton(yes or tr("Sim"), QMessageBox.ButtonRole.YesRole)
    no_button = box.addButton(no or tr("Não"), QMessageBox.ButtonRole.NoRole)
    box.setDefaultButton(yes_button)
    box.setEscapeButton(no_button)
    box.setWindowModality(Qt.WindowModality.WindowModal)

    def done() -> None:
        if box.clickedButton() is yes_button:
            on_yes()
        elif on_no is not None:
            on_no()

    box.finished.connect(lambda _=0: done())
    box.open()
    return box


def inform(
    parent: QWidget, title: str, text: str, *, error: bool = False, on_close: Callable[[], None] | None = None
) -> QMessageBox:
    """Non-blocking message with one OK button."""
    icon = QMessageBox.Icon.Warning if error else QMessageBox.Icon.Information
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.NoButton, parent)
    ok = box.addButton(tr("OK"), QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(ok)
    box.setEscapeButton(ok)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    if on_close is not None:
        box.finished.connect(lambda _=0: on_close())
    box.open()
    return box
