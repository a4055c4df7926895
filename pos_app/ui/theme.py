"""Look of the cashier window: sizes readable at arm's length, touch-sized buttons, one palette."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget

GREEN = "#2e7d32"
RED = "#c62828"
AMBER = "#ef8f00"
BLUE = "#1565c0"
GREY = "#546e7a"
INK = "#1b1f23"
PAPER = "#f5f6f8"

BASE_POINT_SIZE = 13
TOUCH_HEIGHT = 52  # px: comfortable for a finger

STYLE = f"""
QWidget {{ color: {INK}; }}
QMainWindow, QDialog {{ background: {PAPER}; }}
QPushButton {{
    min-height: {TOUCH_HEIGHT}px; padding: 4px 14px; border-radius: 6px;
    border: 1px solid #b0bec5; background: #ffffff;
}}
QPushButton:hover {{ background: #e3f2fd; }}
QPushButton:pressed {{ background: #bbdefb; }}
QPushButton:disabled {{ color: #9e9e9e; background: #eceff1; }}
QPushButton[role="primary"] {{ background: {BLUE}; color: white; border: none; font-weight: bold; }}
QPushButton[role="primary"]:hover {{ background: #1976d2; }}
QPushButton[role="danger"] {{ background: #ffebee; color: {RED}; border: 1px solid #ef9a9a; }}
QPushButton[compact="true"] {{ padding: 4px 6px; }}
QPushButton[role="method"] {{ text-align: left; padding-left: 12px; }}
QPushButton[role="method"]:checked {{ background: {BLUE}; color: white; font-weight: bold; border: none; }}
QLineEdit, QComboBox, QSpinBox {{
    min-height: 40px; padding: 2px 8px; border: 1px solid #90a4ae; border-radius: 4px; background: white;
}}
QLineEdit:focus, QComboBox:focus {{ border: 2px solid {BLUE}; }}
QLineEdit[valid="false"] {{ border: 2px solid {RED}; background: #fff5f5; }}
QLineEdit[valid="true"] {{ border: 2px solid {GREEN}; }}
QLineEdit#codeField {{ min-height: 56px; font-size: 22pt; font-weight: bold; }}
QTableView {{ background: white; alternate-background-color: #f1f5f9; gridline-color: #e0e0e0;
    selection-background-color: #bbdefb; selection-color: {INK}; }}
QHeaderView::section {{ background: #37474f; color: white; padding: 6px; border: none; font-weight: bold; }}
QLabel[role="error"] {{ color: {RED}; }}
QLabel[role="hint"] {{ color: {GREY}; }}
QLabel[role="title"] {{ font-size: 18pt; font-weight: bold; }}
QFrame[role="panel"] {{ background: white; border: 1px solid #cfd8dc; border-radius: 8px; }}
QStatusBar {{ background: #263238; color: white; }}
QStatusBar QLabel {{ color: white; padding: 0 8px; font-size: {BASE_POINT_SIZE - 1}pt; }}
QMenuBar {{ font-size: {BASE_POINT_SIZE}pt; }}
QMenu {{ font-size: {BASE_POINT_SIZE}pt; }}
QMenu::item {{ padding: 8px 28px 8px 16px; }}
QMenu::item:selected, QMenuBar::item:selected {{ background: {BLUE}; color: white; }}
QPushButton:focus {{ border: 3px solid #ffb300; }}
QPushButton[role="primary"]:focus {{ border: 3px solid #ffb300; }}
QTableView:focus, QListView:focus, QPlainTextEdit:focus, QTextEdit:focus {{ border: 2px solid {BLUE}; }}
QTabBar::tab {{ background: #eceff1; border: 2px solid #cfd8dc; border-bottom: none; padding: 6px 14px;
    margin-right: 2px; border-top-left-radius: 6px; border-top-right-radius: 6px; }}
QTabBar::tab:selected {{ background: white; }}
QTabBar::tab:focus {{ border: 2px solid {BLUE}; border-bottom: none; }}
QCheckBox:focus, QRadioButton:focus {{ background: #e3f2fd; }}
"""


def apply_theme(app: QApplication) -> None:
    from pos_app.ui.fonts import ui_font

    font = ui_font(BASE_POINT_SIZE)  # bundled DejaVu Sans: same look on every terminal
    app.setFont(font)
    app.setStyleSheet(STYLE)


def big_font(points: int, bold: bool = True) -> QFont:
    font = QFont(QApplication.font())
    font.setPointSize(points)
    font.setBold(bold)
    return font


def set_role(widget: QWidget, role: str) -> None:
    """Dynamic property read by the style sheet (``QPushButton[role="primary"]``)."""
    widget.setProperty("role", role)


def set_valid(widget: QWidget, valid: bool | None) -> None:
    """Green/red border on a field; ``None`` clears it."""
    widget.setProperty("valid", "" if valid is None else ("true" if valid else "false"))
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
