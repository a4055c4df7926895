"""House rules of every window at the counter, applied when a window is shown.

* Screen: a window never opens larger than the available screen (1024x768 terminals, kiosk mode with
  no window manager): it is shrunk to the screen and moved inside it; the main window takes the whole
  available geometry.
* Keyboard: item views never trap Tab (``tabKeyNavigation`` off: arrows move between cells), text boxes
  pass Tab on (``tabChangesFocus``), and a focused push button in a dialog is clicked by Enter
  (``autoDefault``) unless its dialog opted out by giving it ``Qt.NoFocus``.

Installed once on the application by :func:`install` (``prepare_application``); windows built
elsewhere can call :func:`apply_keyboard_rules` and :func:`fit_to_screen` themselves.
"""

from __future__ import annotations

from PySide6.QtCore import SIGNAL, QEvent, QObject, QRect, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QWidget,
)

KIOSK_PROPERTY = "counterFitted"


def available_rect(widget: QWidget) -> QRect:
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1024, 768)


def fit_to_screen(window: QWidget, *, fill: bool = False) -> None:
    """Shrink (or, with ``fill``, size) ``window`` to the available screen and keep it inside."""
    area = available_rect(window)
    frame = window.frameGeometry()
    extra_w = max(0, frame.width() - window.width())
    extra_h = max(0, frame.height() - window.height())
    max_w, max_h = area.width() - extra_w, area.height() - extra_h
    if fill:
        window.resize(max_w, max_h)
        window.move(area.topLeft())
        return
    window.setMinimumSize(min(window.minimumWidth(), max_w), min(window.minimumHeight(), max_h))
    w, h = min(window.width(), max_w), min(window.height(), max_h)
    if (w, h) != (window.width(), window.height()):
        window.resize(w, h)
    frame = window.frameGeometry()
    x = min(max(frame.x(), area.x()), area.right() + 1 - frame.width())
    y = min(max(frame.y(), area.y()), area.bottom() + 1 - frame.height())
    if (x, y) != (frame.x(), frame.y()):
        window.move(max(x, area.x()), max(y, area.y()))


def apply_keyboard_rules(window: QWidget) -> None:
    for view in window.findChildren(QAbstractItemView):
        view.setTabKeyNavigation(False)
    for edit in window.findChildren(QPlainTextEdit):
        edit.setTabChangesFocus(True)
    for text in window.findChildren(QTextEdit):
        text.setTabChangesFocus(True)
    if isinstance(window, QDialog) and not isinstance(window, QMessageBox):
        for button in window.findChildren(QPushButton):
            if button.focusPolicy() != Qt.FocusPolicy.NoFocus and not button.property("noAutoDefault"):
                button.setAutoDefault(True)
        for line_edit in window.findChildren(QLineEdit):
            if not line_edit.property(_ENTER_OWNED) and line_edit.receivers(SIGNAL("returnPressed()")) > 0:
                line_edit.setProperty(_ENTER_OWNED, True)
                line_edit.installEventFilter(_enter_owner())


_ENTER_OWNED = "counterEnterOwned"


class _EnterOwner(QObject):
    """A field that does something with Enter (returnPressed) keeps the key: the dialog must not also
    click its default button (QLineEdit passes Enter on to the dialog after emitting the signal)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(watched, QLineEdit)
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            watched.event(event)  # the field's own handling (emits returnPressed)
            event.accept()
            return True
        return False


_owner: _EnterOwner | None = None


def _enter_owner() -> _EnterOwner:
    global _owner
    if _owner is None:
        _owner = _EnterOwner()
    return _owner


class CounterPolicy(QObject):
    """Application event filter: applies the rules when a top-level window is shown."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (
            event.type() == QEvent.Type.Show
            and isinstance(watched, QDialog | QMainWindow)
            and watched.isWindow()
        ):
            apply_keyboard_rules(watched)  # every show: children added since get the rules too
            fill = isinstance(watched, QMainWindow) and not watched.property(KIOSK_PROPERTY)
            if fill:  # the main window takes the screen once; the user may resize it afterwards
                watched.setProperty(KIOSK_PROPERTY, True)
            fit_to_screen(watched, fill=fill and not watched.isMaximized())
        return False


_policy: CounterPolicy | None = None


def install(app: QApplication) -> None:
    global _policy
    if _policy is None:
        _policy = CounterPolicy(app)
        app.installEventFilter(_policy)
