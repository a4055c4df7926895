"""The cashier window uses the bundled DejaVu Sans on every platform (Windows terminals, Wine, Linux)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QFontDatabase, QFontInfo, QFontMetrics
from PySide6.QtWidgets import QLabel

from pos_app.core.paths import resources_dir
from pos_app.ui.fonts import UI_FONT_FAMILY, UI_FONT_FILES, load_ui_font
from pos_app.ui.main import prepare_application
from pos_app.ui.theme import BASE_POINT_SIZE

PORTUGUESE = "ÁÂÃÀÇÉÊÍÓÔÕÚÜáâãàçéêíóôõúü R$ ºª"


def test_bundled_font_files_and_licence_are_in_resources() -> None:
    fonts = resources_dir() / "fonts"
    for name in UI_FONT_FILES:
        assert (fonts / name).stat().st_size > 100_000, name
    assert "Bitstream Vera" in (fonts / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")


def test_application_font_is_the_bundled_family(qapp: Any, qtbot: Any) -> None:
    assert load_ui_font() == UI_FONT_FAMILY
    assert UI_FONT_FAMILY in QFontDatabase.families()
    prepare_application(qapp)
    assert qapp.font().family() == UI_FONT_FAMILY
    assert qapp.font().pointSize() == BASE_POINT_SIZE
    label = QLabel("Não foi possível emitir a nota: sem conexão")
    qtbot.addWidget(label)
    label.show()
    # What Qt really draws with (not just the requested name): the bundled file, bold included.
    assert QFontInfo(label.font()).family() == UI_FONT_FAMILY
    bold = label.font()
    bold.setBold(True)
    assert QFontInfo(bold).family() == UI_FONT_FAMILY
    assert QFontInfo(bold).bold()


def test_font_covers_portuguese(qapp: Any) -> None:
    prepare_application(qapp)
    metrics = QFontMetrics(qapp.font())
    missing = [ch for ch in PORTUGUESE if not metrics.inFontUcs4(ord(ch))]
    assert missing == []
