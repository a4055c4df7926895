"""Checks of a window at the terminal's screen: inside the screen, nothing clipped, focus chain.

The UI tests run on the offscreen platform with one 1024x768 screen (tests/ui/conftest.py writes
the platform's config file), the smallest screen of the store terminals.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QComboBox,
    QHeaderView,
    QLabel,
    QTabBar,
    QWidget,
)

# Screenshots of the default 1024x768 run in ui-1024/; a child run on another screen in ui-<WxH>/.
_PRIMARY = (os.environ.get("POS_TEST_SCREENS") or "1024x768").split("+")[0]
ARTIFACTS = (
    Path(__file__).resolve().parents[2]
    / "test-artifacts"
    / ("ui-1024" if _PRIMARY == "1024x768" else f"ui-{_PRIMARY}")
)


def expected_primary() -> tuple[int, int]:
    """The cashier's screen the run was started with (POS_TEST_SCREENS, default 1024x768)."""
    w, h = _PRIMARY.split("x")
    return int(w), int(h)


def screen_rect() -> QRect:
    screen = QApplication.primaryScreen()
    assert screen is not None
    return screen.availableGeometry()


def _shown(w: QWidget) -> bool:
    return w.isVisible() and w.width() > 0 and w.height() > 0


def _inside_scroll(w: QWidget, top: QWidget) -> bool:
    """Children of a scroll area's viewport may be scrolled out: that is what scrolling is for."""
    p = w.parentWidget()
    while p is not None and p is not top:
        if isinstance(p, QAbstractScrollArea) and p.viewport() is not w:
            return True
        p = p.parentWidget()
    return False


def outside_screen(top: QWidget) -> list[str]:
    """Visible controls whose rectangle is not inside the screen or not inside their window."""
    QApplication.processEvents()
    screen = screen_rect()
    bad = []
    frame = top.frameGeometry()
    if not screen.contains(frame):
        bad.append(f"janela {top.objectName() or type(top).__name__} {frame} fora de {screen}")
    win = top.geometry()
    for w in top.findChildren(QWidget):
        if not _shown(w) or not w.isVisibleTo(top) or w.isWindow() or _inside_scroll(w, top):
            continue
        rect = QRect(w.mapToGlobal(w.rect().topLeft()), w.size())
        if not (screen.contains(rect) and win.contains(rect)):
            bad.append(f"{type(w).__name__} {w.objectName()!r} {_text(w)!r} em {rect}")
    return bad


def _text(w: QWidget) -> str:
    if isinstance(w, QLabel | QAbstractButton):
        return w.text()
    return ""


def clipped_texts(top: QWidget) -> list[str]:
    """One-line labels and buttons whose text is wider than the widget (fontMetrics)."""
    QApplication.processEvents()
    bad = []
    for w in top.findChildren(QWidget):
        if not _shown(w) or not w.isVisibleTo(top) or w.isWindow() or _inside_scroll(w, top):
            continue
        if isinstance(w, QLabel):
            text = w.text()
            if not text or w.wordWrap() or w.textFormat() == Qt.TextFormat.RichText or "<" in text:
                continue
            if w.buddy() is not None:  # "&Nome": the ampersand marks the mnemonic, it is not drawn
                text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
            fm = w.fontMetrics()
            need = max(fm.horizontalAdvance(line) for line in text.split("\n"))
            have = (
                w.contentsRect().width() - 2 * w.margin() - w.indent()
                if w.indent() > 0
                else w.contentsRect().width() - 2 * w.margin()
            )
            height = fm.lineSpacing() * (text.count("\n") + 1)
            if need > have + 1 or height > w.contentsRect().height() + 2:
                bad.append(
                    f"QLabel {w.objectName()!r} {text!r}: {need}x{height} px em {have}x"
                    f"{w.contentsRect().height()}"
                )
        elif isinstance(w, QAbstractButton) and not isinstance(w.parentWidget(), QTabBar):
            text = w.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
            if not text:
                continue
            # text + the narrowest padding and border the theme uses (6 + 2 px each side)
            need = max(w.fontMetrics().horizontalAdvance(line) for line in text.split("\n")) + 16
            if need > w.width():
                bad.append(f"{type(w).__name__} {text!r}: {need} px em {w.width()}")
    for w in top.findChildren(QHeaderView):
        if not _shown(w) or not w.isVisibleTo(top) or _inside_scroll(w.parentWidget(), top):
            continue
        if w.orientation() == Qt.Orientation.Horizontal and w.model() is not None:
            bold = w.font()
            bold.setBold(True)
            fm = QFontMetrics(bold)  # the theme draws header sections bold
            for section in range(w.count()):
                if w.isSectionHidden(section) or w.sectionSize(section) == 0:
                    continue
                text = str(w.model().headerData(section, Qt.Orientation.Horizontal) or "")
                need = fm.horizontalAdvance(text) + 12  # 6 px padding each side
                if text and need > w.sectionSize(section):
                    bad.append(f"cabeçalho {text!r}: {need} px em {w.sectionSize(section)}")
    return bad


def focusable(top: QWidget) -> list[QWidget]:
    out = []
    for w in top.findChildren(QWidget):
        if (
            w.isVisibleTo(top)
            and w.isEnabled()
            and not w.isWindow()
            and w.focusPolicy() & Qt.FocusPolicy.TabFocus == Qt.FocusPolicy.TabFocus
            and w.focusProxy() is None
            and not _inside_scroll_viewport_child(w)
        ):
            out.append(w)
    return out


def _inside_scroll_viewport_child(w: QWidget) -> bool:
    """The editor inside a combo box's view and similar internals are not part of the chain."""
    p = w.parentWidget()
    return isinstance(p, QComboBox)


def tab_chain(top: QWidget, presses: int = 80) -> list[QWidget]:
    """Widgets that get the focus when pressing Tab from the current one (real key events)."""
    seen: list[QWidget] = []
    for _ in range(presses):
        w = QApplication.focusWidget()
        if w is None:
            break
        if w not in seen:
            seen.append(w)
        QTest.keyClick(w, Qt.Key.Key_Tab)
        QApplication.processEvents()
    return seen


def unreachable(top: QWidget) -> list[str]:
    top.activateWindow()
    QApplication.processEvents()
    chain = tab_chain(top)
    missing = [w for w in focusable(top) if w not in chain]
    return [f"{type(w).__name__} {w.objectName()!r} {_text(w)!r}" for w in missing]


def save_shot(widget: QWidget, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    path = ARTIFACTS / f"{name}.png"
    assert widget.grab().save(str(path)), path
    return path


def check_window(top: QWidget, name: str, *, focus: bool = True) -> None:
    """Screenshot plus the three checks; one assertion message listing every problem."""
    save_shot(top, name)
    problems = outside_screen(top) + clipped_texts(top)
    if focus:
        problems += [f"Tab não chega a {m}" for m in unreachable(top)]
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
