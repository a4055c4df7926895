"""Cash session: open with a float, sangria/suprimento with a reason, close with counted vs expected
per payment method, partial (X) and closing reports (PDF and thermal printer)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.domain.money import format_brl
from pos_app.core.printing.receipt import render_text
from pos_app.core.services.cash import CASH, CashService, CashSummary
from pos_app.ui import theme
from pos_app.ui.i18n import tr
from pos_app.ui.manager.widgets import (
    ManagerDialog,
    ManagerGate,
    MoneyEdit,
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


class CashDialog(ManagerDialog):
    def __init__(
        self,
        ctx: AppContext,
        manager: User | None = None,
        parent: QWidget | None = None,
        now: Now | None = None,
    ) -> None:
        super().__init__(ctx, manager, parent, now)
        self.setObjectName("cashDialog")
        self.setWindowTitle(tr("Caixa"))
        self.setMinimumSize(760, 640)
        self.service = CashService(ctx)
        self.summary: CashSummary | None = None
        self.closed_summary: CashSummary | None = None
        self.counted: dict[str, MoneyEdit] = {}

        layout = QVBoxLayout(self)
        layout.addWidget(title_label(tr("Caixa")))
        self.status = QLabel()
        self.status.setObjectName("cashStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)
        self.gate = ManagerGate(ctx, manager, "caixa")
        layout.addWidget(self.gate)
        self.message = message_label()
        self.message.setObjectName("resultMessage")
        layout.addWidget(self.message)
        bottom = QHBoxLayout()
        close = QPushButton(tr("Fechar janela (Esc)"))
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout.addLayout(bottom)

        # open ----------------------------------------------------------------------------
        page = QWidget()
        form = QFormLayout(page)
        self.float_edit = MoneyEdit()
        self.float_edit.setObjectName("openingFloat")
        default = ctx.config.get("caixa.fundo_padrao")
        if default:
            self.float_edit.setText(format_brl(Decimal(default)).replace("R$ ", ""))
        form.addRow(tr("Fundo de troco (dinheiro)"), self.float_edit)
        self.open_button = primary_button(tr("Abrir caixa"))
        self.open_button.setObjectName("openCash")
        form.addRow("", self.open_button)
        self.open_button.clicked.connect(self.open_session)
        self.float_edit.returnPressed.connect(self.open_session)  # Enter on the amount opens the session
        self.tab_open = self.tabs.addTab(page, tr("Abrir"))

        # movements -------------------------------------------------------------------------
        page = QWidget()
        form = QFormLayout(page)
        self.kind = QComboBox()
        self.kind.addItem(tr("Sangria (retirada)"), "sangria")
        self.kind.addItem(tr("Suprimento (entrada)"), "suprimento")
        self.move_value = MoneyEdit()
        self.move_value.setObjectName("moveValue")
        self.move_reason = QLineEdit()
        self.move_reason.setObjectName("moveReason")
        self.move_reason.setPlaceholderText(tr("ex.: depósito no cofre, troco do banco"))
        self.move_button = primary_button(tr("Registrar"))
        self.move_button.setObjectName("registerMove")
        form.addRow(tr("Tipo"), self.kind)
        form.addRow(tr("Valor"), self.move_value)
        form.addRow(tr("Motivo"), self.move_reason)
        form.addRow("", self.move_button)
        self.move_button.clicked.connect(self.register_move)
        self.move_value.returnPressed.connect(self.move_reason.setFocus)
        self.move_reason.returnPressed.connect(self.register_move)
        self.tab_move = self.tabs.addTab(page, tr("Sangria / suprimento"))

        # close -----------------------------------------------------------------------------
        page = QWidget()
        box = QVBoxLayout(page)
        hint = QLabel(
            tr(
                "Conte a gaveta e informe o valor de cada forma. Formas em branco ficam "
                'como "não conferido"; o dinheiro é obrigatório.'
            )
        )
        hint.setWordWrap(True)
        box.addWidget(hint)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("closingTable")
        self.table.setHorizontalHeaderLabels([tr("Forma"), tr("Esperado"), tr("Contado"), tr("Diferença")])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            self.table.setColumnWidth(col, 140)
        self.table.verticalHeader().setVisible(False)
        self.table.setTabKeyNavigation(False)  # Tab goes from one counted field to the next, then on
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        box.addWidget(self.table, 1)
        self.total_diff = QLabel()
        self.total_diff.setObjectName("totalDifference")
        self.total_diff.setFont(theme.big_font(14))
        box.addWidget(self.total_diff)
        self.obs = QPlainTextEdit()
        self.obs.setPlaceholderText(tr("Observação (opcional)"))
        self.obs.setFixedHeight(60)
        self.obs.setTabChangesFocus(True)
        box.addWidget(self.obs)
        row = QHBoxLayout()
        self.close_button = primary_button(tr("Fechar caixa"), "danger")
        self.close_button.setObjectName("closeCash")
        row.addStretch(1)
        row.addWidget(self.close_button)
        box.addLayout(row)
        self.close_button.clicked.connect(self.close_session)
        self.tab_close = self.tabs.addTab(page, tr("Fechamento"))

        # report ----------------------------------------------------------------------------
        page = QWidget()
        box = QVBoxLayout(page)
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("reportPreview")
        self.preview.setReadOnly(True)
        font = self.preview.font()
        font.setFamily("DejaVu Sans Mono")
        font.setStyleHint(font.StyleHint.Monospace)
        self.preview.setFont(font)
        box.addWidget(self.preview, 1)
        row = QHBoxLayout()
        self.pdf_button = QPushButton(tr("Abrir PDF"))
        self.print_button = QPushButton(tr("Imprimir"))
        for b in (self.pdf_button, self.print_button):
            b.setAutoDefault(False)
            row.addWidget(b)
        row.addStretch(1)
        box.addLayout(row)
        self.pdf_button.clicked.connect(self.open_pdf)
        self.print_button.clicked.connect(self.print_report)
        self.tab_report = self.tabs.addTab(page, tr("Relatório X"))

        self.tabs.currentChanged.connect(lambda _i: self.focus_first_field())
        self.gate.pin.returnPressed.connect(
            self.submit_current_tab
        )  # PIN typed last: Enter runs the tab's action
        self.refresh()

    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        self.focus_first_field()

    def submit_current_tab(self) -> None:
        index = self.tabs.currentIndex()
        action = {
            self.tab_open: self.open_session,
            self.tab_move: self.register_move,
            self.tab_close: self.close_session,
        }.get(index)
        if action is not None:
            action()

    def focus_first_field(self) -> None:
        """The field the manager types first on each tab (the amount, not the tab bar)."""
        index = self.tabs.currentIndex()
        if index == self.tab_open:
            target: QWidget | None = self.float_edit
        elif index == self.tab_move:
            target = self.move_value
        elif index == self.tab_close:
            target = next(iter(self.counted.values()), None)
        else:
            target = self.print_button
        if target is not None:
            target.setFocus()
            if isinstance(target, QLineEdit):
                target.selectAll()

    # -- state -----------------------------------------------------------------------------
    def refresh(self) -> None:
        session = self.service.current()
        is_open = session is not None
        self.tabs.setTabEnabled(self.tab_open, not is_open)
        for tab in (self.tab_move, self.tab_close):
            self.tabs.setTabEnabled(tab, is_open)
        if is_open:
            assert session is not None
            self.summary = self.service.summary(int(session["id"]), self.now())
            s = self.summary
            auto = tr(" (aberto automaticamente)") if session["auto_opened"] else ""
            self.status.setText(
                tr(
                    "Caixa {n} aberto{auto} — fundo {fundo} — {v} venda(s), {t} — dinheiro esperado "
                    "na gaveta {d}"
                ).format(
                    n=s.id,
                    auto=auto,
                    fundo=format_brl(s.fundo),
                    v=s.vendas,
                    t=format_brl(s.total_vendas),
                    d=format_brl(s.formas[CASH].esperado),
                )
            )
            self.status.setStyleSheet(f"color: {theme.GREEN};")
            self._fill_table(s)
            self._show_report(s)
            if self.tabs.currentIndex() == self.tab_open:  # just opened: nothing to count yet
                self.tabs.setCurrentIndex(self.tab_move)
        else:
            self.summary = None
            self.status.setText(tr("Caixa fechado: abra o caixa para vender."))
            self.status.setStyleSheet(f"color: {theme.RED};")
            if self.closed_summary is not None:
                self._show_report(self.closed_summary)
            self.tabs.setCurrentIndex(self.tab_report if self.closed_summary else self.tab_open)
        self.tabs.setTabEnabled(self.tab_report, is_open or self.closed_summary is not None)

    def _fill_table(self, s: CashSummary) -> None:
        old = {forma: edit.text() for forma, edit in self.counted.items()}
        self.counted = {}
        self.table.setRowCount(len(s.formas))
        for row, line in enumerate(s.formas.values()):
            self.table.setItem(row, 0, QTableWidgetItem(line.descricao))
            expected = QTableWidgetItem(format_brl(line.esperado))
            expected.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 1, expected)
            edit = MoneyEdit(placeholder=tr("não conferido"))
            edit.setObjectName(f"counted_{line.forma}")
            edit.setText(old.get(line.forma, ""))
            edit.textChanged.connect(self.update_difference)
            edit.returnPressed.connect(self.focusNextChild)
            self.table.setCellWidget(row, 2, edit)
            self.table.setItem(row, 3, QTableWidgetItem(""))
            self.counted[line.forma] = edit
        self.table.resizeRowsToContents()
        # Tab (and Enter) go down the counted column, then to the observation and "Fechar caixa".
        chain = [*self.counted.values(), self.obs, self.close_button]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self.update_difference()

    def counted_values(self) -> dict[str, Decimal]:
        return {forma: v for forma, edit in self.counted.items() if (v := edit.value()) is not None}

    def update_difference(self) -> None:
        if self.summary is None:
            return
        counted = self.counted_values()
        total = Decimal("0.00")
        for row, line in enumerate(self.summary.formas.values()):
            item = self.table.item(row, 3)
            if item is None:
                continue
            value = counted.get(line.forma)
            if value is None:
                item.setText(tr("não conferido"))
                item.setForeground(Qt.GlobalColor.gray)
                continue
            diff = value - line.esperado
            total += diff
            item.setText(format_brl(diff))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setForeground(Qt.GlobalColor.darkGreen if diff == 0 else Qt.GlobalColor.red)
        if not counted:  # nothing counted: no "confere" before counting
            self.total_diff.setText(tr("Diferença total: conte a gaveta e informe os valores"))
        else:
            word = tr("sobra") if total > 0 else tr("falta") if total < 0 else tr("confere")
            self.total_diff.setText(tr("Diferença total: {d} ({w})").format(d=format_brl(total), w=word))
        self.close_button.setEnabled(CASH in counted and not self.busy)

    def _show_report(self, s: CashSummary) -> None:
        self.preview.setPlainText(render_text(self.service.report_blocks(s, 48), 48))

    # -- actions ---------------------------------------------------------------------------
    def _run(self, fn: Any, done_text: Any) -> None:
        if not self.gate.ready():
            show_result(self.message, tr("Informe o PIN do gerente."), False)
            self.gate.pin.setFocus()
            return
        self.message.setText(tr("Aguarde..."))
        self.message.setStyleSheet(f"color: {theme.GREY};")

        def ok(value: Any) -> None:
            user, result = value
            self.gate.accepted(user)
            show_result(self.message, done_text(result), True)
            self.refresh()

        def failed(exc: BaseException) -> None:
            show_result(self.message, error_text(exc), False)
            from pos_app.core.services.users import PermissionDenied

            if isinstance(exc, PermissionDenied):
                self.gate.refused()

        self.track(run_job(self.gate.job(fn), on_result=ok, on_error=failed))

    def open_session(self) -> None:
        value = self.float_edit.value() if self.float_edit.text().strip() else Decimal("0.00")
        if value is None:
            show_result(self.message, tr("Fundo de troco inválido."), False)
            return
        when = self.now()
        self._run(
            lambda user: self.service.open(user, value, when),
            lambda s: tr("Caixa {n} aberto com fundo de {v}.").format(
                n=s["id"], v=format_brl(s["opening_float"])
            ),
        )

    def register_move(self) -> None:
        value = self.move_value.value()
        if value is None or value <= 0:
            show_result(self.message, tr("Informe um valor maior que zero."), False)
            return
        kind = str(self.kind.currentData())
        reason = self.move_reason.text()
        when = self.now()

        def done(data: dict[str, Any]) -> str:
            self.move_value.clear()
            self.move_reason.clear()
            return tr("{k} de {v} registrada.").format(
                k=kind.capitalize(), v=format_brl(Decimal(data["valor"]))
            )

        self._run(lambda user: self.service.move(kind, value, reason, user, when), done)

    def close_session(self) -> None:
        counted = self.counted_values()
        if CASH not in counted:
            show_result(self.message, tr("Informe o dinheiro contado na gaveta."), False)
            return
        obs = self.obs.toPlainText().strip() or None
        when = self.now()

        def done(s: CashSummary) -> str:
            self.closed_summary = s
            self.service.report_pdf(s, self.service.default_report_path(s))
            dif = s.diferenca_total or Decimal(0)
            return tr("Caixa {n} fechado. Diferença total: {d}.").format(n=s.id, d=format_brl(dif))

        self._run(lambda user: self.service.close(counted, user, when, obs), done)

    def current_report(self) -> CashSummary | None:
        if self.summary is not None:
            return self.service.summary(self.summary.id, self.now())
        return self.closed_summary

    def open_pdf(self) -> None:
        s = self.current_report()
        if s is None:
            return
        path = self.service.report_pdf(s, self.service.default_report_path(s))
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        show_result(self.message, tr("Relatório salvo em {p}").format(p=path), True)

    def print_report(self) -> None:
        s = self.current_report()
        if s is None:
            return

        def done(value: tuple[bool, str]) -> None:
            show_result(self.message, value[1], value[0])

        self.track(
            run_job(
                self.service.print_report,
                s,
                on_result=done,
                on_error=lambda e: show_result(self.message, error_text(e), False),
            )
        )
