"""Operators: list, add (caixa/gerente), disable/enable, new PIN (which also unlocks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.services.users import UserAdminService
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


def _pin_edit(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setMaxLength(8)
    edit.setPlaceholderText(tr("4 a 8 dígitos"))
    return edit


class UsersDialog(ManagerDialog):
    def __init__(
        self,
        ctx: AppContext,
        manager: User | None = None,
        parent: QWidget | None = None,
        now: Now | None = None,
    ) -> None:
        super().__init__(ctx, manager, parent, now)
        self.setObjectName("usersDialog")
        self.setWindowTitle(tr("Operadores"))
        self.setMinimumSize(720, 620)
        self.resize(860, 740)  # room for the list of operators (fits 1024x768)
        self.service = UserAdminService(ctx)
        layout = QVBoxLayout(self)
        layout.addWidget(title_label(tr("Operadores")))
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("usersTable")
        self.table.setHorizontalHeaderLabels([tr("Código"), tr("Nome"), tr("Papel"), tr("Situação")])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.toggle_button = QPushButton(tr("Desativar / reativar"))
        self.new_pin = _pin_edit("newPinSelected")
        self.pin_button = QPushButton(tr("Definir novo PIN"))
        for b in (self.toggle_button, self.pin_button):
            b.setAutoDefault(False)
        row.addWidget(self.toggle_button)
        row.addStretch(1)
        row.addWidget(self.new_pin)
        row.addWidget(self.pin_button)
        layout.addLayout(row)
        box = QGroupBox(tr("Novo operador"))
        form = QFormLayout(box)
        self.nome = QLineEdit()
        self.nome.setObjectName("newName")
        self.papel = QComboBox()
        self.papel.addItem(tr("Caixa"), "caixa")
        self.papel.addItem(tr("Gerente"), "gerente")
        self.add_pin = _pin_edit("newUserPin")
        self.add_button = primary_button(tr("Cadastrar"))
        form.addRow(tr("Nome"), self.nome)
        form.addRow(tr("Papel"), self.papel)
        form.addRow(tr("PIN"), self.add_pin)
        form.addRow("", self.add_button)
        layout.addWidget(box)
        self.gate = ManagerGate(ctx, manager, "usuarios")
        layout.addWidget(self.gate)
        self.message = message_label()
        self.message.setObjectName("resultMessage")
        layout.addWidget(self.message)
        close = QPushButton(tr("Fechar (Esc)"))
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        layout.addWidget(close)
        self.toggle_button.clicked.connect(self.toggle)
        self.pin_button.clicked.connect(self.change_pin)
        self.add_button.clicked.connect(self.add)
        self.users: list[User] = []
        self.refresh()

    def refresh(self) -> None:
        self.users = self.service.list()
        self.table.setRowCount(len(self.users))
        for row, u in enumerate(self.users):
            for col, value in enumerate(
                (
                    u.codigo,
                    u.nome,
                    tr("Gerente") if u.is_manager else tr("Caixa"),
                    tr("ativo") if u.ativo else tr("desativado"),
                )
            ):
                self.table.setItem(row, col, QTableWidgetItem(value))

    def selected(self) -> User | None:
        rows = self.table.selectionModel().selectedRows()
        return self.users[rows[0].row()] if rows else None

    def _run(self, fn: Any, done_text: str) -> None:
        if not self.gate.ready():
            show_result(self.message, tr("Informe o PIN do gerente."), False)
            return

        def ok(value: Any) -> None:
            self.gate.accepted(value[0])
            show_result(self.message, done_text, True)
            self.refresh()

        def failed(exc: BaseException) -> None:
            show_result(self.message, error_text(exc), False)
            from pos_app.core.services.users import PermissionDenied

            if isinstance(exc, PermissionDenied):
                self.gate.refused()

        self.track(run_job(self.gate.job(fn), on_result=ok, on_error=failed))

    def toggle(self) -> None:
        user = self.selected()
        if user is None:
            show_result(self.message, tr("Selecione um operador."), False)
            return
        when = self.now()
        verb = tr("reativado") if not user.ativo else tr("desativado")
        self._run(
            lambda m: self.service.set_active(user.codigo, not user.ativo, m, now=when),
            tr("Operador {n} {v}.").format(n=user.nome, v=verb),
        )

    def change_pin(self) -> None:
        user = self.selected()
        if user is None:
            show_result(self.message, tr("Selecione um operador."), False)
            return
        pin = self.new_pin.text()
        when = self.now()
        self.new_pin.clear()
        self._run(
            lambda m: self.service.change_pin(user.codigo, pin, m, now=when),
            tr("PIN de {n} alterado.").format(n=user.nome),
        )

    def add(self) -> None:
        nome, papel, pin = self.nome.text(), str(self.papel.currentData()), self.add_pin.text()
        when = self.now()
        self.add_pin.clear()
        self._run(
            lambda m: self.service.add(nome, papel, pin, m, now=when),
            tr("Operador {n} cadastrado.").format(n=" ".join(nome.split())),
        )
