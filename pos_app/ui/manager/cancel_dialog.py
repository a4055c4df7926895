"""Cancel an NFC-e, with a live countdown of the 30-minute window."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
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

    def __init__(
        self,
        ctx: AppContext,
        manager: User | None = None,
        parent: QWidget | None = None,
        ref: str | None = None,
        now: Now | None = None,
    ) -> None:
        super().__init__(ctx, manager, parent, now)
        self.setObjectName("cancelDialog")
        self.setWindowTitle(tr("Cancelar NFC-e"))
        self.setMinimumWidth(640)
        self.service = CancellationService(ctx)
        self.doc: dict[str, Any] | None = None
        self.outcome: CancelResult | None = None

        layout = QVBoxLayout(self)
        layout.addWidget(title_label(tr("Cancelar NFC-e")))
        recent_caption = QLabel(tr("Últimas &notas que ainda podem ser canceladas (↑/↓)"))
        layout.addWidget(recent_caption)
        self.recent_list = QListWidget()
        self.recent_list.setObjectName("recentNotes")
        self.recent_list.setFixedHeight(4 * 34 + 6)
        self.recent_list.setFont(theme.big_font(13, bold=False))
        recent_caption.setBuddy(self.recent_list)
        layout.addWidget(self.recent_list)
        row = QHBoxLayout()
        number_caption = QLabel(tr("Nº da &NFC-e"))
        row.addWidget(number_caption)
        self.ref_edit = QLineEdit(ref or "")
        self.ref_edit.setObjectName("refInput")
        self.ref_edit.setPlaceholderText(tr("número da NFC-e, referência ou chave de acesso"))
        number_caption.setBuddy(self.ref_edit)
        find = QPushButton(tr("&Buscar"))
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
        self.justificativa.setTabChangesFocus(True)  # one line of text: Tab goes on to the PIN/button
        self.counter = QLabel()
        self.counter.setObjectName("justificativaCounter")
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow(tr("&Justificativa"), self.justificativa)
        form.addRow(self.counter)
        layout.addLayout(form)
        self.gate = ManagerGate(ctx, manager, "cancelamento")
        layout.addWidget(self.gate)
        self.message = message_label()
        self.message.setObjectName("resultMessage")
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        close = QPushButton(tr("Fechar (Esc)"))
        self.cancel_button = primary_button(tr("&Cancelar NFC-e…"), "danger")
        self.cancel_button.setObjectName("confirmCancel")
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)

        find.clicked.connect(self.lookup)
        self.ref_edit.returnPressed.connect(self.lookup)
        self.justificativa.textChanged.connect(self.update_state)
        self.gate.pin.textChanged.connect(self.update_state)
        self.cancel_button.clicked.connect(lambda _c=False: self.submit())
        self.gate.pin.returnPressed.connect(lambda: self.submit())
        close.clicked.connect(self.reject)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.confirm_box: QMessageBox | None = None
        self.confirm_yes: QPushButton | None = None
        self.recent_docs: list[dict[str, Any]] = []
        self.recent_list.currentRowChanged.connect(self._recent_chosen)
        self.load_recent(select_ref=ref)
        if ref:
            self.ref_edit.setText(ref)
            self.lookup()
        self.update_state()

    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        self.timer.start()
        (self.justificativa if self.doc is not None else self.ref_edit).setFocus()

    def hideEvent(self, event: Any) -> None:  # noqa: N802
        self.timer.stop()  # the countdown only runs on screen
        super().hideEvent(event)

    # -- recent notes ------------------------------------------------------------------------
    def load_recent(self, select_ref: str | None = None) -> None:
        """The last notes still in the cancellation window; the last one is pre-selected."""
        self.recent_docs = self.service.recent(self.now())
        self.recent_list.blockSignals(True)
        self.recent_list.clear()
        for doc in self.recent_docs:
            self.recent_list.addItem(self._recent_line(doc))
        self.recent_list.blockSignals(False)
        if not self.recent_docs:
            self.recent_list.addItem(tr("Nenhuma nota dentro do prazo de 30 minutos."))
            self.recent_list.setEnabled(False)
            return
        self.recent_list.setEnabled(True)
        index = next((i for i, d in enumerate(self.recent_docs) if d["ref"] == select_ref), 0)
        self.recent_list.setCurrentRow(index)

    def _recent_line(self, doc: dict[str, Any]) -> str:
        from pos_app.core.domain.br_format import format_local_datetime

        numero = (
            tr("nº {n} série {s}").format(n=doc["numero"], s=doc["serie"]) if doc["numero"] else doc["ref"]
        )
        when = format_local_datetime(doc.get("data_autorizacao") or doc.get("created_at"), self.now())
        total = format_brl(doc["valor_total"]) if doc.get("valor_total") else "—"
        left = doc.get("restante")
        prazo = (
            tr("resta {t}").format(t=format_remaining(left)) if left is not None else tr("em contingência")
        )
        return f"{numero} · {when} · {total} · {prazo}"

    def _recent_chosen(self, row: int) -> None:
        if 0 <= row < len(self.recent_docs):
            self.ref_edit.setText(str(self.recent_docs[row]["ref"]))
            self.lookup()

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
            ref=doc["ref"],
            numero=numero,
            total=total,
            situacao=STATUS_LABELS.get(doc["status"], doc["status"]),
        )
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
        self.counter.setText(
            tr("{n}/{max} caracteres (mínimo {min})").format(
                n=n, max=JUSTIFICATIVA_MAX, min=JUSTIFICATIVA_MIN
            )
        )
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
                self.countdown.setText(
                    tr("Tempo para cancelar: {t}").format(t=format_remaining(remaining(doc, self.now())))
                )
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
                + (tr(" Já existe um cancelamento agendado para esta nota.") if intent else "")
            )
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
    def submit(self, confirmed: bool = False) -> None:
        if self.doc is None or not self.cancel_button.isEnabled():
            return
        if not confirmed:
            self._ask_confirmation()
            return
        ref = self.doc["ref"]
        text = self.justificativa.toPlainText()
        when = self.now()
        self.message.setText(tr("Enviando pedido de cancelamento..."))
        self.message.setStyleSheet(f"color: {theme.GREY};")
        job = self.gate.job(lambda user: self.service.cancel(ref, text, user, now=when))
        self.track(run_job(job, on_result=self._done, on_error=self._failed, on_finished=self.update_state))
        self.update_state()

    def _ask_confirmation(self) -> None:
        """The confirmation step: "Voltar" is the default (Enter/Esc); cancelling takes a deliberate choice."""
        doc = self.doc
        assert doc is not None
        numero = (
            tr("nº {n} série {s}").format(n=doc["numero"], s=doc["serie"]) if doc["numero"] else doc["ref"]
        )
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            tr("Confirmar cancelamento"),
            tr("Cancelar a NFC-e {numero}? O cancelamento é enviado à SEFAZ e não pode ser desfeito.").format(
                numero=numero
            ),
            parent=self,
        )
        box.setObjectName("confirmCancelBox")
        back = box.addButton(tr("&Voltar (Esc)"), QMessageBox.ButtonRole.RejectRole)
        yes = box.addButton(tr("&Sim, cancelar a nota"), QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(back)
        box.setEscapeButton(back)
        self.confirm_box, self.confirm_yes = box, yes

        def done(_r: int) -> None:
            self.confirm_box = self.confirm_yes = None
            self.activateWindow()  # some platforms leave no active window when a message box closes
            if box.clickedButton() is yes:
                self.submit(confirmed=True)
            else:
                self.cancel_button.setFocus()

        box.finished.connect(done)
        box.open()

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
