"""The manager's list of Pix received without a sale, synced with the PSP, and the refund button."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from pos_app.core.domain.money import format_brl
from pos_app.core.pix.service import REFUND_LABELS
from pos_app.ui import theme
from pos_app.ui.i18n import tr
from pos_app.ui.worker import run_in_worker

MOTIVOS = {
    "apos_cancelamento": tr("pago após o cancelamento"),
    "duplicado": tr("pago em duplicidade"),
    "paga_sem_venda": tr("pago, venda não concluída"),
}


class PixRefundsDialog(QDialog):
    def __init__(self, ctx: Any, manager: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from pos_app.core.pix.service import pix_service

        self.setObjectName("pixRefundsDialog")
        self.setWindowTitle(tr("PIX recebidos sem venda"))
        self.resize(760, 420)
        self.service = pix_service(ctx)
        self.manager = manager
        self.rows: list[dict[str, Any]] = []
        self.last_message = ""
        root = QVBoxLayout(self)
        title = QLabel(tr("PIX recebidos sem venda — devolução ao pagador"))
        theme.set_role(title, "title")
        root.addWidget(title)
        self.list = QListWidget()
        self.list.setObjectName("pixRefundsList")
        self.list.setWordWrap(True)  # the status and the PSP's reason stay readable
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        root.addWidget(self.list, 1)
        self.status = QLabel(tr("Consultando o PSP..."))
        self.status.setObjectName("pixRefundsStatus")
        self.status.setWordWrap(True)
        root.addWidget(self.status)
        buttons = QHBoxLayout()
        close = QPushButton(tr("Fechar"))
        close.clicked.connect(self.reject)
        self.refund_button = QPushButton(tr("Devolver o PIX selecionado"))
        self.refund_button.setObjectName("pixRefundButton")
        theme.set_role(self.refund_button, "primary")
        self.refund_button.clicked.connect(self.refund_selected)
        self.refund_button.setEnabled(False)
        buttons.addWidget(close)
        buttons.addStretch(1)
        buttons.addWidget(self.refund_button)
        root.addLayout(buttons)
        self.reload()

    def reload(self) -> None:
        def job() -> list[dict[str, Any]]:
            self.service.sync()
            return self.service.pending_refunds()

        run_in_worker(job, on_result=self._show, on_error=lambda e: self.status.setText(str(e)))

    def _show(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.list.clear()
        for r in rows:
            self.list.addItem(
                f"{format_brl(Decimal(r['valor']))}  ·  {r['e2eid']}  ·  {MOTIVOS.get(r['motivo'], r['motivo'])}"
                + (
                    f"  ·  {tr(REFUND_LABELS[r['status']])}"
                    + (f": {r['last_error']}" if r["last_error"] else "")
                    if r["status"] != "pendente"
                    else ""
                )
            )
        if rows:
            self.list.setCurrentRow(0)
        self.refund_button.setEnabled(bool(rows) and self.manager is not None)
        summary = (
            tr("{n} PIX a devolver.").format(n=len(rows)) if rows else tr("Nenhum PIX recebido sem venda.")
        )
        self.status.setText(f"{self.last_message} {summary}".strip())

    def refund_selected(self) -> None:
        row = self.list.currentRow()
        if row < 0 or row >= len(self.rows) or self.manager is None:
            return
        target = self.rows[row]
        self.refund_button.setEnabled(False)
        self.status.setText(tr("Devolvendo {v} ao pagador...").format(v=format_brl(Decimal(target["valor"]))))
        run_in_worker(
            self.service.refund,
            int(target["id"]),
            self.manager,
            on_result=self._refunded,
            on_error=self._failed,
        )

    def _refunded(self, row: dict[str, Any]) -> None:
        valor = format_brl(Decimal(row["valor"]))
        if row["status"] == "devolvida":
            self.last_message = tr("Devolução de {v} feita (confirmada pelo PSP).").format(v=valor)
        elif row["status"] == "nao_realizada":
            self.last_message = tr("Devolução de {v} NÃO realizada pelo PSP: {m}. Tente de novo.").format(
                v=valor, m=row["last_error"] or tr("sem motivo informado")
            )
        else:
            self.last_message = tr(
                "Devolução de {v} solicitada, ainda em processamento no PSP: será consultada de novo."
            ).format(v=valor)
        self.status.setText(self.last_message)
        self.reload()

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(tr("Devolução não feita: {e}").format(e=exc))
        self.refund_button.setEnabled(True)
