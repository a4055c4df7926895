"""The receipt drawn with QPainter straight from the layout model (``core/printing/receipt.py``).

No external rasterizer (Windows terminals have no ``pdftoppm``): the blocks the thermal printer and
the PDF use are painted on a white strip with the bundled DejaVu Sans Mono, so the preview is the
same on Windows and Linux (same font file, same cell grid, same QR matrix).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetricsF, QImage, QPainter, QPen

from pos_app.core.printing.receipt import Block, Columns, Cut, ItemLine, QRCode, Separator, Spacer, Text

FONT_FILES = ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf")
FALLBACK_FAMILY = "monospace"
MARGIN = 14  # px around the paper


@lru_cache(maxsize=1)
def receipt_family() -> str:
    """Family of the bundled monospace font (registered once); a system monospace if absent."""
    from pos_app.core.printing.pdf import _font_dirs

    family = None
    for directory in _font_dirs():
        paths = [Path(directory) / name for name in FONT_FILES]
        if all(p.is_file() for p in paths):
            for path in paths:
                font_id = QFontDatabase.addApplicationFont(str(path))
                families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
                family = family or (families[0] if families else None)
            break
    return family or FALLBACK_FAMILY


def _font(pixel_size: int, bold: bool = False) -> QFont:
    font = QFont(receipt_family())
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPixelSize(pixel_size)
    font.setBold(bold)
    font.setKerning(False)
    return font


def _qr_matrix(data: str, ec: str) -> list[list[bool]]:
    import qrcode
    import qrcode.constants

    levels = {
        "L": qrcode.constants.ERROR_CORRECT_L,
        "M": qrcode.constants.ERROR_CORRECT_M,
        "Q": qrcode.constants.ERROR_CORRECT_Q,
        "H": qrcode.constants.ERROR_CORRECT_H,
    }
    qr = qrcode.QRCode(error_correction=levels.get(ec, qrcode.constants.ERROR_CORRECT_M), border=0)
    qr.add_data(data)
    qr.make(fit=True)
    return [[bool(cell) for cell in row] for row in qr.get_matrix()]


class ReceiptPainter:
    """Paints ``blocks`` laid out for ``columns`` characters; ``pixel_size`` sets the scale."""

    def __init__(self, blocks: Sequence[Block], columns: int, pixel_size: int = 13) -> None:
        self.blocks = list(blocks)
        self.columns = columns
        self.normal = _font(pixel_size)
        self.bold = _font(pixel_size, bold=True)
        metrics = QFontMetricsF(self.normal)
        self.cell = metrics.horizontalAdvance("M")
        self.line = metrics.lineSpacing()
        self.ascent = metrics.ascent()
        self.width = int(round(self.cell * columns)) + 2 * MARGIN

    # -- measuring -------------------------------------------------------------------------
    def _lines_of(self, block: Block) -> list[Text | Columns]:
        if isinstance(block, ItemLine):
            return list(block.parts)
        if isinstance(block, Text | Columns):
            return [block]
        return []

    def _height(self, block: Block) -> float:
        if isinstance(block, Text | Columns):
            return self.line * (2 if block.size in ("tall", "double") else 1)
        if isinstance(block, ItemLine):
            return sum(self._height(p) for p in block.parts)
        if isinstance(block, Separator):
            return self.line
        if isinstance(block, Spacer):
            return self.line * block.lines
        if isinstance(block, QRCode):
            modules = len(_qr_matrix(block.data, block.error_correction))
            return self._qr_module(modules) * modules + self.line
        if isinstance(block, Cut):
            return self.line
        return 0.0

    def _qr_module(self, modules: int) -> float:
        return max(2.0, min(6.0, (self.cell * self.columns * 0.55) // modules))

    def height(self) -> int:
        return int(round(sum(self._height(b) for b in self.blocks))) + 2 * MARGIN

    # -- painting --------------------------------------------------------------------------
    def image(self) -> QImage:
        image = QImage(self.width, self.height(), QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            self.paint(painter)
        finally:
            painter.end()
        return image

    def paint(self, painter: QPainter) -> None:
        painter.setPen(QColor("black"))
        y = float(MARGIN)
        for block in self.blocks:
            if isinstance(block, Text | Columns):
                self._paint_line(painter, block, y)
            elif isinstance(block, ItemLine):
                part_y = y
                for part in block.parts:
                    self._paint_line(painter, part, part_y)
                    part_y += self._height(part)
            elif isinstance(block, Separator):
                painter.setFont(self.normal)
                painter.drawText(
                    QRectF(MARGIN, y, self.cell * self.columns, self.line),
                    Qt.AlignmentFlag.AlignLeft,
                    block.char * self.columns,
                )
            elif isinstance(block, QRCode):
                self._paint_qr(painter, block, y)
            elif isinstance(block, Cut):
                pen = QPen(QColor("#90a4ae"))
                pen.setStyle(Qt.PenStyle.DashLine)
                painter.setPen(pen)
                mid = y + self.line / 2
                painter.drawLine(int(MARGIN), int(mid), int(self.width - MARGIN), int(mid))
                painter.setPen(QColor("black"))
            y += self._height(block)

    def _paint_line(self, painter: QPainter, block: Text | Columns, y: float) -> None:
        factor_x = 2 if block.size == "double" else 1
        factor_y = 2 if block.size in ("tall", "double") else 1
        cells = self.columns // factor_x  # characters of this size on the grid
        if isinstance(block, Columns):
            text = block.line(self.columns)
        else:
            pad = max(0, cells - len(block.text))
            text = block.text
            if block.align == "center":
                text = " " * (pad // 2) + text
            elif block.align == "right":
                text = " " * pad + text
        painter.save()
        painter.translate(MARGIN, y)
        painter.scale(factor_x, factor_y)
        painter.setFont(self.bold if block.bold else self.normal)
        for i, char in enumerate(text):  # one cell per character: the printer's grid, whatever the font
            if char != " ":
                painter.drawText(
                    QRectF(i * self.cell, 0, self.cell * 1.5, self.line),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                    char,
                )
        painter.restore()

    def _paint_qr(self, painter: QPainter, block: QRCode, y: float) -> None:
        matrix = _qr_matrix(block.data, block.error_correction)
        modules = len(matrix)
        size = self._qr_module(modules)
        left = (self.width - size * modules) / 2
        top = y + self.line / 2
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("black"))
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    painter.drawRect(QRectF(left + c * size, top + r * size, size, size))
        painter.restore()


def paint_receipt(blocks: Sequence[Block], columns: int, pixel_size: int = 13) -> QImage:
    return ReceiptPainter(blocks, columns, pixel_size).image()
