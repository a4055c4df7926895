"""Inutilização of a range of the online series; SEFAZ's answer (102/241) is shown as is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.services.users import ManagerError
from pos_app.core.services.voiding import (
    JUSTIFICATIVA_MAX,
    JUSTIFICATIVA_MIN,
    MAX_NUMERO,
    VoidingService,
    VoidResult,
)
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


class VoidDialog(ManagerDialog):
    def __init__(
        self,
        ctx: AppContext,
        manager: User | None = None,
        parent: QWidget | None = None,
        now: Now | None = None,
    ) -> None:
        super().__init__(ctx, manager, parent, now)
        self.setObjectName("voidDialog")
        self.setWindowTitle(tr("Inutilizar numeração"))
        self.setMinimumWidth(600)
        self.service = VoidingService(ctx)
        self.outcome: VoidResult | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(title_label(tr("Inutilizar numeração")))
        forbidden = ", ".join(str(s) for s in sorted(self.service.contingency_series()))
        hint = QLabel(
            tr(
                "Só números nunca usados da série normal (online). Séries de contingência ({s}) não podem "
                "ser inutilizadas."
            ).format(s=forbidden)
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        form = QFormLayout()
        self.serie = QSpinBox()
        self.serie.setObjectName("serie")
        self.serie.setRange(0, 999)
        online = self.service.online_series()
        self.serie.setValue(online[0] if online else 1)
        self.inicio = QSpinBox()
        self.inicio.setObjectName("inicio")
        self.fim = QSpinBox()
        self.fim.setObjectName("fim")
        for box in (self.inicio, self.fim):
            box.setRange(1, MAX_NUMERO)
        self.justificativa = QPlainTextEdit()
        self.justificativa.setObjectName("justificativa")
        self.justificativa.setFixedHeight(80)
        self.justificativa.setPlaceholderText(
            tr("Motivo (de {a} a {b} caracteres)").format(a=JUSTIFICATIVA_MIN, b=JUSTIFICATIVA_MAX)
        )
        form.addRow(tr("Série"), self.serie)
        form.addRow(tr("Número inicial"), self.inicio)
        form.addRow(tr("Número final"), self.fim)
        form.addRow(tr("Justificativa"), self.justificativa)
        layout.addLayout(form)
        self.gate = ManagerGate(ctx, manager, "inutilizacao")
        layout.addWidget(self.gate)
        self.message = message_label()
        self.message.setObjectName("resultMessage")
        layout.addWidget(self.message)
        row = QHBoxLayout()
        close = QPushButton(tr("Fechar (Esc)"))
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        self.submit_button = primary_button(tr("Inutilizar"), "danger")
        self.submit_button.setObjectName("submitVoid")
        self.submit_button.clicked.connect(self.submit)
        row.addStretch(1)
        row.addWidget(close)
        row.addWidget(self.submit_button)
        layout.addLayout(row)

    def submit(self) -> None:
        serie, inicio, fim = self.serie.value(), self.inicio.value(), self.fim.value()
        text = self.justificativa.toPlainText()
        try:
            self.service.check(serie, inicio, fim, text)  # local refusal: nothing sent, no PIN asked
        except ManagerError as exc:
            show_result(self.message, exc.message, False)
            return
        if not self.gate.ready():
            show_result(self.message, tr("Informe o PIN do gerente."), False)
            return
        self.submit_button.setEnabled(False)
        self.message.setText(tr("Enviando à SEFAZ..."))
        when = self.now()
        job = self.gate.job(lambda user: self.service.void(serie, inicio, fim, text, user, when))
        self.track(
            run_job(
                job,
                on_result=self._done,
                on_error=self._failed,
                on_finished=lambda: self.submit_button.setEnabled(True),
            )
        )

    def _done(self, value: tuple[User, VoidResult]) -> None:
        user, result = value
        self.gate.accepted(user)
        self.outcome = result
        show_result(self.message, result.mensagem, result.ok)

    def _failed(self, exc: BaseException) -> None:
        show_result(self.message, error_text(exc), False)
        from pos_app.core.services.users import PermissionDenied

        if isinstance(exc, PermissionDenied):
            self.gate.refused()
