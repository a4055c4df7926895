"""DANFCe preview: the same PDF that is printed, rasterized by ``pdftoppm`` in a worker.

PySide6-Essentials has no QtPdf. Without ``pdftoppm`` the preview shows the receipt as text from
the same layout model (``build_layout`` + ``render_text``), so what the cashier sees never
diverges from what is printed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from pos_app.core.services.context import AppContext
from pos_app.ui.i18n import tr
from pos_app.ui.worker import run_in_worker


@dataclass
class PreviewPages:
    images: list[QImage] = field(default_factory=list)
    text: str | None = None


def _rasterize(pdf: Path, dpi: int) -> list[QImage]:
    exe = shutil.which("pdftoppm")
    if exe is None or not pdf.is_file():
        return []
    with tempfile.TemporaryDirectory(prefix="danfce-") as tmp:
        prefix = Path(tmp) / "p"
        subprocess.run([exe, "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True,
                       capture_output=True, timeout=30)
        images = []
        for png in sorted(Path(tmp).glob("p*.png")):
            image = QImage(str(png))  # QImage (not QPixmap) may be built off the GUI thread
            if not image.isNull():
                images.append(image)
        return images


def _as_text(ctx: AppContext, doc_id: int) -> str:
    from pos_app.core.printing.receipt import build_layout, render_text
    from pos_app.core.services.receipts import ReceiptService

    columns = int(ctx.config.get("impressora.colunas") or 48)
    copies = ReceiptService(ctx).copies_for_document(doc_id)
    return "\n\n".join(render_text(build_layout(c, columns), columns) for c in copies)


def render_preview(ctx: AppContext, doc_id: int, pdf_path: str | None, dpi: int = 96) -> PreviewPages:
    """Worker job: page images of the DANFCe PDF, or its text."""
    if pdf_path:
        try:
            images = _rasterize(Path(pdf_path), dpi)
        except (OSError, subprocess.SubprocessError):
            images = []
        if images:
            return PreviewPages(images=images)
    return PreviewPages(text=_as_text(ctx, doc_id))


class ReceiptPreview(QScrollArea):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("receiptPreview")
        self.setWidgetResizable(True)
        self.setMinimumWidth(360)
        self.setStyleSheet("QScrollArea { background: #cfd8dc; border: none; }")
        self._inner = QWidget()
        self._inner.setStyleSheet("background: #cfd8dc;")
        self._layout = QVBoxLayout(self._inner)
        self._layout.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self._layout.setSpacing(12)
        self.setWidget(self._inner)
        self.pages: PreviewPages | None = None
        self._message(tr("Gerando o DANFCe…"))

    def _clear(self) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def _message(self, text: str) -> None:
        self._clear()
        label = QLabel(text)
        label.setWordWrap(True)
        self._layout.addWidget(label)

    def load(self, ctx: AppContext, doc_id: int, pdf_path: str | None) -> None:
        run_in_worker(render_preview, ctx, doc_id, pdf_path, on_result=self.show_pages,
                      on_error=lambda exc: self._message(tr("Pré-visualização indisponível: {erro}").format(erro=exc)))

    def show_pages(self, pages: PreviewPages) -> None:
        self.pages = pages
        self._clear()
        if pages.images:
            for image in pages.images:
                label = QLabel()
                label.setPixmap(QPixmap.fromImage(image))
                label.setStyleSheet("background: white; border: 1px solid #90a4ae;")
                self._layout.addWidget(label)
        else:
            label = QLabel(pages.text or "")
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setStyleSheet("background: white; padding: 12px; font-family: 'DejaVu Sans Mono', monospace; font-size: 10pt;")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._layout.addWidget(label)
