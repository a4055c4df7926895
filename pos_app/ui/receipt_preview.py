"""DANFCe preview drawn with QPainter from the receipt layout model (no external rasterizer).

The worker builds the same layout blocks the thermal printer and the PDF use (``build_layout`` of
each copy); the GUI thread paints them with the bundled DejaVu Sans Mono (``receipt_painter``), so
the preview is identical on Windows and Linux and never diverges from what is printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from pos_app.core.services.context import AppContext
from pos_app.ui.i18n import tr
from pos_app.ui.worker import run_in_worker


@dataclass
class PreviewPages:
    layouts: list[list[Any]] = field(default_factory=list)  # layout blocks of each copy (via)
    columns: int = 48
    text: str | None = None  # the same receipt as text (tests, copy)
    images: list[QImage] = field(default_factory=list)  # painted on the GUI thread


def render_preview(ctx: AppContext, doc_id: int, pdf_path: str | None = None) -> PreviewPages:
    """Worker job: the layout of every copy of the document's DANFCe (``pdf_path`` is not needed)."""
    from pos_app.core.printing.receipt import build_layout, render_text
    from pos_app.core.services.receipts import ReceiptService

    columns = int(ctx.config.get("impressora.colunas") or 48)
    copies = ReceiptService(ctx).copies_for_document(doc_id)
    layouts = [build_layout(c, columns) for c in copies]
    return PreviewPages(
        layouts=layouts, columns=columns, text="\n\n".join(render_text(blocks, columns) for blocks in layouts)
    )


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
        run_in_worker(
            render_preview,
            ctx,
            doc_id,
            pdf_path,
            on_result=self.show_pages,
            on_error=lambda exc: self._message(tr("Pré-visualização indisponível: {erro}").format(erro=exc)),
        )

    def show_pages(self, pages: PreviewPages) -> None:
        from pos_app.ui.receipt_painter import paint_receipt

        if pages.layouts and not pages.images:
            pages.images = [paint_receipt(blocks, pages.columns) for blocks in pages.layouts]
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
            label.setStyleSheet(
                "background: white; padding: 12px; font-family: 'DejaVu Sans Mono', monospace; font-size: 10pt;"
            )
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._layout.addWidget(label)
