"""Finishing a sale: waiting for SEFAZ (seconds shown) and the outcome with the DANFCe preview."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.domain.money import format_brl
from pos_app.core.fiscal.chave import format_chave
from pos_app.core.fiscal.document_status import DocumentStatus
from pos_app.core.services.context import AppContext
from pos_app.ui import theme
from pos_app.ui.common import hint_label
from pos_app.ui.i18n import tr
from pos_app.ui.messages import rejection_hint
from pos_app.ui.print_bridge import print_after_sale, reprint
from pos_app.ui.receipt_preview import ReceiptPreview
from pos_app.ui.worker import run_in_worker


class EmissionProgressDialog(QDialog):
    """Modal while the note is sent; the seconds keep counting so the cashier sees it is alive."""

    def __init__(self, timeout_s: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emissionProgress")
        self.setWindowTitle(tr("Emitindo NFC-e"))
        self.setWindowFlag(Qt.WindowType.WindowCloseButtonHint, False)
        self.setMinimumWidth(560)
        self._timeout = timeout_s
        self._started = time.monotonic()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(14)
        title = QLabel(tr("Emitindo a NFC-e…"))
        theme.set_role(title, "title")
        layout.addWidget(title)
        self.message = QLabel(tr("Preparando a nota…"))
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        bar = QProgressBar()
        bar.setRange(0, 0)
        bar.setTextVisible(False)
        bar.setMinimumHeight(18)
        layout.addWidget(bar)
        self.seconds = QLabel()
        self.seconds.setObjectName("secondsWaited")
        self.seconds.setFont(theme.big_font(16))
        layout.addWidget(self.seconds)
        self.note = hint_label("")
        layout.addWidget(self.note)
        self.timer = QTimer(self)
        self.timer.setInterval(250)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self._tick()
        self.allow_close = False

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def _tick(self) -> None:
        seconds = int(self.elapsed())
        self.seconds.setText(tr("Aguardando há {s} s").format(s=seconds))
        if seconds >= max(5, int(self._timeout * 0.5)):
            self.note.setText(
                tr(
                    "A SEFAZ está demorando. Se não responder em {t} s, a nota sai em contingência "
                    "automaticamente — não é preciso fazer nada."
                ).format(t=int(self._timeout))
            )

    def set_message(self, text: Any) -> None:
        self.message.setText(str(text))

    def finish(self) -> None:
        self.timer.stop()
        self.allow_close = True
        self.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        event.ignore()  # no Esc: the sale is already recorded and being sent

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.allow_close:
            super().closeEvent(event)
        else:
            event.ignore()


def contingency_cause(ctx: AppContext, document_id: int | None) -> str:
    """Why the note went to contingency, in the cashier's words: the link is down ("Sem conexão com a
    internet": the request never left) or the API/SEFAZ did not answer in time ("Sem resposta da SEFAZ")."""
    row = None
    if document_id is not None:
        row = ctx.store.documents.replaced_attempt(document_id)
    if row is not None and row["status"] == DocumentStatus.EM_DUVIDA:
        return tr("Sem resposta da SEFAZ: a nota foi enviada mas a resposta não chegou a tempo.")
    error = str(row["last_error"] or "") if row is not None else ""
    if "429" in error or "limite" in error.lower():
        return tr("A API recusou por excesso de pedidos: nota emitida em contingência.")
    return tr("Sem conexão com a internet: a nota não chegou a sair do terminal.")


class ResultDialog(QDialog):
    """Outcome of the sale: authorized, contingency (calm) or refused (what to fix)."""

    closed = Signal()

    def __init__(
        self,
        ctx: AppContext,
        result: Any,
        parent: QWidget | None = None,
        *,
        operator_id: int | None = None,
        reprint_by: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sale_result = result
        self._operator_id = operator_id
        self._reprint_by = reprint_by
        self.setObjectName("resultDialog")
        self.setWindowTitle(tr("Venda finalizada"))
        self.resize(1000, 700)
        root = QHBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)
        left = QVBoxLayout()
        left.setContentsMargins(28, 24, 28, 24)
        left.setSpacing(14)
        root.addLayout(left, 3)

        if result.emitido and not result.contingencia:
            kind, color = "autorizada", theme.GREEN
            headline = (
                tr("NF-e autorizada") if getattr(result, "modelo", 65) == 55 else tr("NFC-e autorizada")
            )
        elif result.emitido:
            kind, color = "contingencia", theme.BLUE
            headline = tr("Emitida em contingência — será transmitida automaticamente")
        else:
            kind, color = "recusada", theme.RED
            headline = tr("Nota não autorizada")
        self.kind = kind
        band = QLabel(headline)
        band.setObjectName("resultHeadline")
        band.setWordWrap(True)
        band.setFont(theme.big_font(20))
        band.setStyleSheet(f"background: {color}; color: white; padding: 16px; border-radius: 8px;")
        left.addWidget(band)

        if result.troco and result.troco > 0:
            change = QLabel(tr("TROCO  {valor}").format(valor=format_brl(result.troco)))
            change.setObjectName("changeDue")
            change.setFont(theme.big_font(34))
            change.setStyleSheet(f"color: {theme.BLUE};")
            left.addWidget(change)
        total = QLabel(tr("Total da venda: {valor}").format(valor=format_brl(result.total)))
        total.setFont(theme.big_font(16, bold=False))
        left.addWidget(total)

        info = QFrame()
        theme.set_role(info, "panel")
        il = QVBoxLayout(info)
        il.setContentsMargins(16, 12, 16, 12)
        if result.numero:
            il.addWidget(
                QLabel(
                    (
                        tr("NF-e nº {numero}, série {serie}")
                        if getattr(result, "modelo", 65) == 55
                        else tr("NFC-e nº {numero}, série {serie}")
                    ).format(numero=result.numero, serie=result.serie)
                )
            )
        if result.chave:
            chave = QLabel(tr("Chave: {chave}").format(chave=format_chave(result.chave)))
            chave.setWordWrap(True)
            chave.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            il.addWidget(chave)
        if kind == "contingencia":
            cause = QLabel(contingency_cause(ctx, result.document_id))
            cause.setObjectName("contingencyCause")
            cause.setWordWrap(True)
            cause.setFont(theme.big_font(14))
            il.addWidget(cause)
            il.addWidget(
                hint_label(
                    tr(
                        "Entregue a via do consumidor; o sistema transmite a nota sozinho assim que a conexão voltar."
                    )
                )
            )
        if kind == "recusada":
            code = result.status_sefaz or ""
            sefaz = QLabel(
                tr("SEFAZ {codigo}: {mensagem}").format(
                    codigo=code or "—", mensagem=result.mensagem_sefaz or result.mensagem
                )
            )
            sefaz.setObjectName("sefazMessage")
            sefaz.setWordWrap(True)
            sefaz.setFont(theme.big_font(14))
            il.addWidget(sefaz)
            todo = QLabel(
                tr("O que fazer: ") + rejection_hint(code, result.mensagem_sefaz or result.mensagem)
            )
            todo.setObjectName("whatToFix")
            todo.setWordWrap(True)
            il.addWidget(todo)
            il.addWidget(
                hint_label(
                    tr(
                        "A venda está gravada. Depois de corrigir, reenvie a nota pelo menu Gerente; "
                        "não registre a venda de novo."
                    )
                )
            )
        left.addWidget(info)
        self.print_label = hint_label("")
        self.print_label.setObjectName("printStatus")
        left.addWidget(self.print_label)
        left.addStretch(1)
        self.new_sale = QPushButton(tr("Nova venda (Enter)"))
        self.new_sale.setObjectName("newSaleButton")
        self.new_sale.setAutoDefault(False)
        self.new_sale.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.new_sale.setMinimumHeight(64)
        theme.set_role(self.new_sale, "primary")
        self.new_sale.clicked.connect(self.accept)
        left.addWidget(self.new_sale)

        self.preview: ReceiptPreview | None = None
        if result.emitido:
            self.preview = ReceiptPreview()
            root.addWidget(self.preview, 2)
            self.preview.load(ctx, result.document_id, result.danfce)
            self._print()
        self.finished.connect(lambda _r: self.closed.emit())

    def _print(self) -> None:
        self.print_label.setText(tr("Imprimindo…"))
        if self._reprint_by is not None:
            run_in_worker(
                reprint,
                self.ctx,
                self.sale_result.document_id,
                self._reprint_by,
                on_result=self._printed,
                on_error=lambda exc: self._printed((False, str(exc))),
            )
        else:
            run_in_worker(
                print_after_sale,
                self.ctx,
                self.sale_result,
                self._operator_id,
                on_result=self._printed,
                on_error=lambda exc: self._printed((False, str(exc))),
            )

    def _printed(self, outcome: tuple[bool, str] | None) -> None:
        if outcome is None:
            self.print_label.setText(
                tr("DANFE Simplificado gerado em PDF (sem impressora configurada).")
                if getattr(self.sale_result, "modelo", 65) == 55
                else tr("DANFCe gerado em PDF (sem impressora configurada).")
            )
            return
        ok, message = outcome
        self.print_label.setText(message)
        if not ok:
            self.print_label.setText(
                tr("Não foi possível imprimir: {erro} A venda está concluída.").format(erro=message)
            )
            self.print_label.setStyleSheet(f"color: {theme.RED};")

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape):
            self.accept()
            return
        super().keyPressEvent(event)
