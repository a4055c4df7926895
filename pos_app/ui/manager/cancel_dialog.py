"""Cancel an NFC-e, with a live countdown of the 30-minute window."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.domain.money import format_brl
from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.document_status import DocumentStatus as S
from pos_app.core.services.cancellation import (
    JUSTIFICATIVA_MAX,
    JUSTIFICATIVA_MIN,
    CancellationService,
    CancelResult,
    format_remaining,
    remaining,
)
from pos_app.core.services.history import STATUS_LABELS
from pos_app.core.services.users import ManagerError
from pos_app.ui import theme
from pos_app.ui.i18n import tr
from pos_app.ui.manager.widgets import (
    ManagerDialog,
    ManagerGate,
    Now,
    error_text,
    message_label,
    primary_button,
    run_job,
    show_result,
    title_label,
)

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User


class CancelDialog(ManagerDialog):
    """Find the note, show the time left, ask for the justification (15-255) and cancel."""

    def __init__(self, ctx: AppContext, manager: User | None = None, parent: QWidget | None = None,
                 ref: str | None = None, now: Now | None = None) -> None:
        super().__init__(ctx, manager, parent, now)
        self.setObjectName("cancelDialog")
        self.setWindowTitle(tr("Cancelar NFC-e"))
        self.setMinimumWidth(640)
        self.service = CancellationService(ctx)
        self.doc: dict[str, Any] | None = None
        self.outcome: CancelResult | None = None

        layout = QVBoxLayout(self)
        layout.addWidget(title_label(tr("Cancelar NFC-e")))
        row = QHBoxLayout()
        self.ref_edit = QLineEdit(ref or "")
        self.ref_edit.setObjectName("refInput")
        self.ref_edit.setPlaceholderText(tr("referência ou chave de acesso"))
        find = QPushButton(tr("Buscar"))
        find.setAutoDefault(False)
        row.addWidget(self.ref_edit, 1)
        row.addWidget(find)
        layout.addLayout(row)
        self.info = QLabel()
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.countdown = QLabel()
        self.countdown.setObjectName("countdown")
        self.countdown.setFont(theme.big_font(20))
        layout.addWidget(self.countdown)
        self.explain = QLabel()
        self.explain.setObjectName("explanation")
        self.explain.setWordWrap(True)
        layout.addWidget(self.explain)

        form = QFormLayout()
        self.justificativa = QPlainTextEdit()
        self.justificativa.setObjectName("justificativa")
        self.justificativa.setPlaceholderText(tr("Motivo do cancelamento (de 15 a 255 caracteres)"))
        self.justificativa.setFixedHeight(90)
        self.counter = QLabel()
        form.addRow(tr("Justificativa"), self.justificativa)
        form.addRow("", self.counter)
        layout.addLayout(form)
        self.gate = ManagerGate(ctx, manager, "cancelamento")
        layout.addWidget(self.gate)
        self.message = message_label()
        self.message.setObjectName("resultMessage")
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        close = QPushButton(tr("Fechar (Esc)"))
        close.setAutoDefault(False)
        self.cancel_button = primary_button(tr("Cancelar NFC-e"), "danger")
        self.cancel_button.setObjectName("confirmCancel")
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)

        find.clicked.connect(self.lookup)
        self.ref_edit.returnPressed.connect(self.lookup)
        self.justificativa.textChanged.connect(self.update_state)
        self.gate.pin.textChanged.connect(self.update_state)
        self.cancel_button.clicked.connect(self.submit)
        close.clicked.connect(self.reject)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        if ref:
            self.lookup()
        self.update_state()

    # -- lookup and countdown ----------------------------------------------------------------
    def lookup(self) -> None:
        self.message.clear()
        self.doc = None
        try:
            self.doc = self.service.resolve(self.ref_edit.text())
        except ManagerError as exc:
            self.info.setText(exc.message)
            self.update_state()
            return
        doc = self.doc
        sale = self.ctx.store.sales.get(int(doc["sale_id"]))
        total = format_brl(sale["valor_total"]) if sale else "—"
        numero = f"nº {doc['numero']} série {doc['serie']}" if doc["numero"] else tr("sem número")
        text = tr("NFC-e {ref} — {numero} — {total} — {situacao}").format(
            ref=doc["ref"], numero=numero, total=total, situacao=STATUS_LABELS.get(doc["status"], doc["status"]))
        if doc["data_autorizacao"]:
            auth = datetime.fromisoformat(doc["data_autorizacao"]).astimezone(self.now().tzinfo)
            text += tr("; autorizada em {quando}").format(quando=auth.strftime("%d/%m/%Y %H:%M:%S"))
        self.info.setText(text)
        self.update_state()

    def seconds_left(self) -> int | None:
        if self.doc is None:
            return None
        left = remaining(self.doc, self.now())
        return None if left is None else int(left.total_seconds())

    def tick(self) -> None:
        self.update_state()

    def update_state(self) -> None:
        n = len(" ".join(self.justificativa.toPlainText().split()))
        ok_text = JUSTIFICATIVA_MIN <= n <= JUSTIFICATIVA_MAX
        self.counter.setText(tr("{n}/{max} caracteres (mínimo {min})").format(n=n, max=JUSTIFICATIVA_MAX,
                                                                               min=JUSTIFICATIVA_MIN))
        self.counter.setStyleSheet(f"color: {theme.GREEN if ok_text else theme.GREY};")
        doc = self.doc
        can = False
        if doc is None:
            self.countdown.setText("")
            self.explain.setText("")
        elif doc["status"] == S.AUTORIZADO:
            secs = self.seconds_left() or 0
            if secs > 0:
                color = theme.RED if secs < 300 else theme.AMBER if secs < 600 else theme.GREEN
                self.countdown.setText(tr("Tempo para cancelar: {t}").format(t=format_remaining(remaining(doc, self.now()))))
                self.countdown.setStyleSheet(f"color: {color};")
                self.explain.setText("")
                can = True
            else:
                self.countdown.setText(tr("Prazo de cancelamento encerrado"))
                self.countdown.setStyleSheet(f"color: {theme.RED};")
                self.explain.setText(self.service.late_message(doc))
        elif doc["status"] in ds.CONTINGENCY_OPEN:
            self.countdown.setText(tr("Contingência: ainda não transmitida"))
            self.countdown.setStyleSheet(f"color: {theme.AMBER};")
            intent = self.service.pending_intent(int(doc["id"]))
            self.explain.setText(
                tr("O cancelamento será agendado e feito automaticamente logo após a autorização da nota.")
                + (tr(" Já existe um cancelamento agendado para esta nota.") if intent else ""))
            can = True
        elif doc["status"] == S.CANCELADO:
            self.countdown.setText(tr("Nota já cancelada"))
            self.countdown.setStyleSheet(f"color: {theme.GREY};")
            self.explain.setText("")
        else:
            self.countdown.setText(tr("Não pode ser cancelada"))
            self.countdown.setStyleSheet(f"color: {theme.GREY};")
            from pos_app.core.services.cancellation import not_cancellable_message

            self.explain.setText(not_cancellable_message(doc["status"]))
        self.cancel_button.setEnabled(can and ok_text and self.gate.ready() and not self.busy)

    # -- cancel ----------------------------------------------------------------------------
    def submit(self) -> None:
        if self.doc is None or not self.cancel_button.isEnabled():
            return
        ref = self.doc["ref"]
        text = self.justificativa.toPlainText()
        when = self.now()
        self.message.setText(tr("Enviando pedido de cancelamento..."))
        self.message.setStyleSheet(f"color: {theme.GREY};")
        job = self.gate.job(lambda user: self.service.cancel(ref, text, user, now=when))
        self.track(run_job(job, on_result=self._done, on_error=self._failed, on_finished=self.update_state))
        self.update_state()

    def _done(self, value: tuple[User, CancelResult]) -> None:
        user, result = value
        self.gate.accepted(user)
        self.outcome = result
        show_result(self.message, result.mensagem, result.cancelled or result.outcome == "agendado")
        self.doc = self.ctx.store.documents.get(int(result.document_id)) if result.document_id else self.doc
        if self.doc is not None:
            self.lookup()
            show_result(self.message, result.mensagem, result.cancelled or result.outcome == "agendado")

    def _failed(self, exc: BaseException) -> None:
        show_result(self.message, error_text(exc), False)
        from pos_app.core.services.users import PermissionDenied

        if isinstance(exc, PermissionDenied):
            self.gate.refused()
