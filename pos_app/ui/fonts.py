"""The cashier window's own font, bundled: the window looks the same on every terminal.

Windows terminals differ (Segoe UI versions, missing fonts on stripped images, Wine has none) and
Linux desktops more so. DejaVu Sans (free licence, Bitstream Vera/Public Domain terms in
``pos_app/resources/fonts/LICENSE-DejaVu.txt``; covers every Portuguese letter) ships in
``pos_app/resources/fonts`` (package data) and is registered with Qt before any widget exists.
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QFont, QFontDatabase

from pos_app.core.paths import resources_dir

log = logging.getLogger(__name__)

UI_FONT_FAMILY = "DejaVu Sans"
UI_FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")

_loaded: str | None = None


def load_ui_font() -> str | None:
    """Register the bundled UI font files; returns the family name (None when they cannot load)."""
    global _loaded
    if _loaded:
        return _loaded
    family: str | None = None
    for name in UI_FONT_FILES:
        path = resources_dir() / "fonts" / name
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id < 0:
            log.warning("fonte da interface não carregada: %s", path)
            continue
        families = QFontDatabase.applicationFontFamilies(font_id)
        if families and family is None:
            family = families[0]
    _loaded = family
    return family


def ui_font(point_size: int) -> QFont:
    """The application font: the bundled family when it loaded, else Qt's default."""
    family = load_ui_font()
    font = QFont(family) if family else QFont()
    font.setPointSize(point_size)
    return font
