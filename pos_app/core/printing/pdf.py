"""DANFCe as a PDF on a continuous thermal roll (80 mm or 58 mm wide), drawn from the layout model.

The page reproduces the thermal grid: ``columns`` monospace cells across the printable width
(72 mm on 80 mm paper, 48 mm on 58 mm paper, i.e. 1.5 mm per character at 48/32 columns, the size
of an ESC/POS "font A" character), one page per copy, each page exactly as tall as its content.
Text uses an embedded DejaVu Sans Mono (every accent renders; the same glyphs on every machine);
if the font files are missing, reportlab's built-in Courier (WinAnsi, enough for Portuguese) is used.
"""

from __future__ import annotations

import functools
import io
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import qrcode
import qrcode.constants
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from .receipt import (
    Block,
    Columns,
    ItemLine,
    QRCode,
    ReceiptData,
    Separator,
    Size,
    Spacer,
    Text,
    build_layout,
)

__all__ = ["PAPER", "render_layout_pdf_bytes", "render_pdf", "render_pdf_bytes"]

# paper width (mm) -> (printable width mm, default columns)
PAPER: dict[int, tuple[float, int]] = {80: (72.0, 48), 58: (48.0, 32)}

_FONT_FILES = ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf")
_FONT_NAMES = ("DANFCeMono", "DANFCeMono-Bold")
_LINE_SPACING = 1.3  # line height / font size
_TOP_MARGIN = 3 * mm
_BOTTOM_MARGIN = 6 * mm
_QR_TARGET = {80: 34 * mm, 58: 32 * mm}  # side of the QR code (without quiet zone)
_QR_MIN_MODULE = 0.375 * mm  # 3 dots at 203 dpi
_QR_QUIET = 2 * mm
_EC = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


# --------------------------------------------------------------------------- fonts (registered once)


def _font_dirs() -> list[Path]:
    dirs: list[Path] = []
    env = os.environ.get("POS_APP_FONTS_DIR")
    if env:
        dirs.append(Path(env))
    frozen_root = getattr(sys, "_MEIPASS", None)  # PyInstaller bundle
    if frozen_root:
        dirs.append(Path(frozen_root) / "resources" / "fonts")
    from pos_app.core.paths import resources_dir

    dirs.append(resources_dir() / "fonts")
    dirs.append(Path("/usr/share/fonts/truetype/dejavu"))
    return dirs


@functools.cache
def font_names() -> tuple[str, str]:
    """(regular, bold) font names, registering DejaVu Sans Mono on first use; Courier as a fallback."""
    for directory in _font_dirs():
        paths = [directory / name for name in _FONT_FILES]
        if all(p.is_file() for p in paths):
            try:
                for name, path in zip(_FONT_NAMES, paths, strict=True):
                    pdfmetrics.registerFont(TTFont(name, str(path)))
            except Exception:  # unreadable/corrupt font file: try the next directory
                continue
            return _FONT_NAMES
    return ("Courier", "Courier-Bold")


# --------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class _Metrics:
    page_width: float
    x0: float  # left edge of the grid
    columns: int
    cell: float  # width of one character cell (pt)
    font_size: float
    line_height: float
    regular: str
    bold: str
    qr_target: float

    @property
    def grid_width(self) -> float:
        return self.columns * self.cell


def _check_width(width_mm: int) -> None:
    if width_mm not in PAPER:
        raise ValueError(f"Largura de bobina não suportada: {width_mm} mm (use 80 ou 58).")


@functools.cache
def _metrics(width_mm: int, columns: int) -> _Metrics:
    regular, bold = font_names()
    printable = PAPER[width_mm][0] * mm
    cell = printable / columns
    advance = pdfmetrics.stringWidth("0", regular, 1.0)  # em fraction, monospace
    font_size = cell / advance
    page_width = width_mm * mm
    return _Metrics(
        page_width=page_width,
        x0=(page_width - printable) / 2,
        columns=columns,
        cell=cell,
        font_size=font_size,
        line_height=font_size * _LINE_SPACING,
        regular=regular,
        bold=bold,
        qr_target=min(_QR_TARGET[width_mm], printable),
    )


# Trying the 8 QR masks to keep the best one costs ~40 ms (pure Python) for the long, signed v3
# offline QR code of a contingency note (version 11-13), a third of the contingency sale budget.
# Every mask is valid (ISO/IEC 18004) and readers cope with any of them: long payloads use mask 0.
_FIXED_MASK_FROM = 200


@functools.lru_cache(maxsize=64)
def _qr_matrix(data: str, ec: str) -> tuple[tuple[bool, ...], ...]:
    mask = 0 if len(data) >= _FIXED_MASK_FROM else None
    qr = qrcode.QRCode(error_correction=_EC[ec], border=0, box_size=1, mask_pattern=mask)
    qr.add_data(data.encode("utf-8"))
    qr.make(fit=True)
    return tuple(tuple(row) for row in qr.get_matrix())


def _qr_module(n: int, m: _Metrics) -> float:
    module = max(m.qr_target / n, _QR_MIN_MODULE)
    return min(module, m.grid_width / n)


# --------------------------------------------------------------------------- measuring and drawing


def _size_factors(size: Size) -> tuple[int, int]:
    """(height factor, width factor)."""
    return {"normal": (1, 1), "tall": (2, 1), "double": (2, 2)}[size]


def _height(block: Block, m: _Metrics) -> float:
    if isinstance(block, Text | Columns):
        return m.line_height * _size_factors(block.size)[0]
    if isinstance(block, Separator):
        return m.line_height
    if isinstance(block, ItemLine):
        return sum(_height(part, m) for part in block.parts)
    if isinstance(block, Spacer):
        return m.line_height * 0.6 * block.lines
    if isinstance(block, QRCode):
        n = len(_qr_matrix(block.data, block.error_correction))
        return n * _qr_module(n, m) + 2 * _QR_QUIET
    return 0.0  # Cut


def _draw_string(
    c: Canvas, m: _Metrics, text: str, cell_x: float, top: float, bold: bool, size: Size
) -> None:
    """Draw ``text`` starting at grid position ``cell_x`` (in cells) in a row whose top is ``top``."""
    hf, wf = _size_factors(size)
    font_size = m.font_size * hf
    row_height = m.line_height * hf
    baseline = top - row_height + (row_height - font_size) / 2 + 0.2 * font_size
    scaled = hf != wf
    if scaled:  # Tz is part of the graphics state: keep it from leaking into the next lines
        c.saveState()
    t = c.beginText(m.x0 + cell_x * m.cell, baseline)
    t.setFont(m.bold if bold else m.regular, font_size)
    if scaled:
        t.setHorizScale(100.0 * wf / hf)
    t.textOut(text)
    c.drawText(t)
    if scaled:
        c.restoreState()


def _draw_block(c: Canvas, m: _Metrics, block: Block, top: float) -> float:
    """Draw one block whose top edge is at ``top``; returns the top of the next block."""
    if isinstance(block, Text):
        wf = _size_factors(block.size)[1]
        used = len(block.text) * wf
        if block.align == "center":
            cell_x = (m.columns - used) / 2
        elif block.align == "right":
            cell_x = m.columns - used
        else:
            cell_x = 0
        _draw_string(c, m, block.text, cell_x, top, block.bold, block.size)
    elif isinstance(block, Columns):
        wf = _size_factors(block.size)[1]
        _draw_string(c, m, block.left, 0, top, block.bold, block.size)
        _draw_string(c, m, block.right, m.columns - len(block.right) * wf, top, block.bold, block.size)
    elif isinstance(block, Separator):
        _draw_string(c, m, block.char * m.columns, 0, top, False, "normal")
    elif isinstance(block, ItemLine):
        for part in block.parts:
            top = _draw_block(c, m, part, top)
        return top
    elif isinstance(block, QRCode):
        _draw_qr(c, m, block, top - _QR_QUIET)
    return top - _height(block, m)


@functools.lru_cache(maxsize=64)
def _qr_path_ops(data: str, ec: str) -> str:
    """PDF path operators for the dark modules, in module units (origin: bottom-left corner).

    One ``re`` per horizontal run of dark modules, all in one path filled once (no seams between
    modules); integer coordinates keep the content stream small and fast to write.
    """
    matrix = _qr_matrix(data, ec)
    n = len(matrix)
    ops: list[str] = []
    for r, row in enumerate(matrix):
        y = n - 1 - r
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                ops.append(f"{start} {y} {col - start} 1 re")
            else:
                col += 1
    ops.append("f")
    return "\n".join(ops)


def _draw_qr(c: Canvas, m: _Metrics, block: QRCode, top: float) -> None:
    n = len(_qr_matrix(block.data, block.error_correction))
    module = _qr_module(n, m)
    c.saveState()
    c.setFillColorRGB(0, 0, 0)
    c.translate((m.page_width - n * module) / 2, top - n * module)
    c.scale(module, module)
    c.addLiteral(_qr_path_ops(block.data, block.error_correction))
    c.restoreState()


def _draw_page(c: Canvas, m: _Metrics, blocks: Sequence[Block]) -> None:
    height = _TOP_MARGIN + sum(_height(b, m) for b in blocks) + _BOTTOM_MARGIN
    c.setPageSize((m.page_width, height))
    top = height - _TOP_MARGIN
    for block in blocks:
        top = _draw_block(c, m, block, top)
    c.showPage()


# --------------------------------------------------------------------------- public API


def render_layout_pdf_bytes(
    pages: Sequence[Sequence[Block]], width_mm: int = 80, columns: int | None = None, title: str = "DANFCe"
) -> bytes:
    """PDF of already built layouts (one page each). ``columns`` must match what they were built for."""
    _check_width(width_mm)
    m = _metrics(width_mm, columns or PAPER[width_mm][1])
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=(m.page_width, 100 * mm), pageCompression=1)
    c.setTitle(title)
    c.setCreator("pos-app")
    for blocks in pages:
        _draw_page(c, m, blocks)
    c.save()
    return buffer.getvalue()


def render_pdf_bytes(copies: Sequence[ReceiptData], width_mm: int = 80, columns: int | None = None) -> bytes:
    """The DANFCe of each copy (e.g. "Via Consumidor" and "Via Estabelecimento"), one page per copy.

    ``columns`` defaults to 48 on 80 mm paper and 32 on 58 mm paper (42 gives larger text on 80 mm).
    """
    if not copies:
        raise ValueError("Nenhuma via para imprimir.")
    _check_width(width_mm)
    cols = columns or PAPER[width_mm][1]
    first = copies[0]
    title = f"DANFCe NFC-e nº {first.numero} Série {first.serie}"
    return render_layout_pdf_bytes([build_layout(d, cols) for d in copies], width_mm, cols, title)


def render_pdf(
    copies: Sequence[ReceiptData],
    path: str | os.PathLike[str],
    width_mm: int = 80,
    columns: int | None = None,
) -> Path:
    """Write :func:`render_pdf_bytes` to ``path`` (atomically: temporary file + rename)."""
    target = Path(path)
    data = render_pdf_bytes(copies, width_mm, columns)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target
