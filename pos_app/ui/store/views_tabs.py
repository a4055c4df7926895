"""Store-wide views in the manager window: the store's history (every terminal's sales and documents of a
day, filtered by terminal and operator, page by page) and the cash closings of every terminal.

Same data as ``pos-app loja historico|caixas --json`` (``core.storeserver.views``); every query runs in
the worker pool, so the window never waits for the store database.
"""

from __future__ import annotations

from datetime import date, tzinfo
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.domain.br_format import format_local_datetime
from pos_app.core.domain.money import format_brl
from pos_app.core.domain.payments import PAYMENT_METHODS
from pos_app.core.services.history import GROUP_LABELS, group_of
from pos_app.core.storeserver import link, views
from pos_app.ui.i18n import tr
from pos_app.ui.worker import run_in_worker

ALL = ""  # the "Todos" entry of a filter

HISTORY_COLUMNS = (
    "Data/hora",
    "Terminal",
    "Venda",
    "NFC-e (série/nº)",
    "Operador",
    "Pagamento",
    "Total",
    "Situação",
)
CASH_COLUMNS = (
    "Terminal",
    "Caixa",
    "Situação",
    "Aberto em",
    "Aberto por",
    "Fechado em",
    "Fechado por",
    "Vendas",
    "Esperado",
    "Contado",
    "Diferença",
)
GROUP_COLUMNS = ("Forma", "Esperado", "Contado", "Diferença")
RED = QColor("#b3261e")
_LABELS: dict[str, str] = {str(k): v for k, v in GROUP_LABELS.items()}


def _with_store(ctx: Any, fn: Any, **kwargs: Any) -> Any:
    conn = link.open_store_connection(ctx)
    try:
        return fn(conn, **kwargs)
    finally:
        conn.close()


def _reprint(conn: Any, *, here: Any, terminal: str, venda: int, manager: Any) -> Any:
    from pos_app.core.services.printing import PrintOutcome, PrintService

    found = views.sale_for_receipt(conn, terminal, venda)
    if found is None:
        return PrintOutcome(False, tr("Venda sem nota imprimível no banco da loja."), False)
    return PrintService(here).reprint_other_terminal(terminal, *found, manager)


def status_label(status: str | None) -> str:
    if not status:
        return "Sem nota"
    group = group_of(status)
    return _LABELS.get(group, status) if group else status.replace("_", " ")


def _money(value: str | None) -> str:
    return "—" if value is None else format_brl(Decimal(value))


def _item(text: str, align_right: bool = False, data: Any = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if data is not None:
        item.setData(Qt.ItemDataRole.UserRole, data)
    return item


def _table(columns: tuple[str, ...], name: str) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels([tr(c) for c in columns])
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class _StoreView(QWidget):
    """Day + terminal + operator filters over a store database query."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        try:
            now = ctx.now()
            self.zone: tzinfo | None = now.tzinfo
            today = now.date()
        except Exception:  # noqa: BLE001 - emitente not set up yet: the machine's date
            self.zone, today = None, date.today()
        self.day = QDateEdit(QDate(today.year, today.month, today.day))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("dd/MM/yyyy")
        self.terminal = QComboBox()
        self.operator = QComboBox()
        for combo in (self.terminal, self.operator):
            combo.addItem(tr("Todos"), ALL)
            combo.setMinimumContentsLength(12)
        self.search = QPushButton(tr("Buscar"))
        self.search.clicked.connect(self.reload)
        self.message = QLabel()
        self.message.setWordWrap(True)
        bar = QHBoxLayout()
        for label, widget in (
            (tr("Dia"), self.day),
            (tr("Terminal"), self.terminal),
            (tr("Operador"), self.operator),
        ):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addWidget(self.search)
        bar.addStretch(1)
        self.layout_ = QVBoxLayout(self)
        self.layout_.addLayout(bar)
        self.busy = False

    # filters --------------------------------------------------------------------------------
    def set_choices(self, choices: dict[str, list[dict[str, str]]]) -> None:
        for combo, items, key, text in (
            (self.terminal, choices["terminais"], "terminal", lambda r: r["terminal"]),
            (self.operator, choices["operadores"], "codigo", lambda r: f"{r['nome']} ({r['codigo']})"),
        ):
            keep = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(tr("Todos"), ALL)
            for r in items:
                combo.addItem(text(r), r[key])
            index = combo.findData(keep)
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)

    def filters(self) -> dict[str, Any]:
        d = self.day.date()
        return {
            "day": date(d.year(), d.month(), d.day()).isoformat(),
            "terminal": self.terminal.currentData() or None,
            "operador": self.operator.currentData() or None,
        }

    def local(self, value: str | None) -> str:
        return format_local_datetime(value, self.zone) if value else "—"

    def _query(self, fn: Any, on_result: Any, **kwargs: Any) -> None:
        self.busy = True
        self.search.setEnabled(False)
        self.message.setText(tr("Consultando o banco da loja…"))

        def done(result: Any) -> None:
            self.busy = False
            self.search.setEnabled(True)
            self.message.setText("")
            on_result(result)

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.search.setEnabled(True)
            self.message.setText(f"Banco da loja fora do ar: {exc}")

        run_in_worker(_with_store, self.ctx, fn, on_result=done, on_error=failed, **kwargs)

    def reload(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class StoreHistoryView(_StoreView):
    """Histórico da loja: sales and their documents across terminals for a day, page by page."""

    per_page = 50

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("storeHistory")
        self.page = 1
        self.pages = 1
        self.table = _table(HISTORY_COLUMNS, "storeHistoryTable")
        self.summary = QLabel()
        self.summary.setObjectName("storeHistorySummary")
        self.previous = QPushButton(tr("◀ Anterior"))
        self.next = QPushButton(tr("Próxima ▶"))
        self.page_label = QLabel()
        self.page_label.setObjectName("storeHistoryPage")
        self.previous.clicked.connect(lambda: self.go(self.page - 1))
        self.next.clicked.connect(lambda: self.go(self.page + 1))
        # a sale of another checkout printed here (the customer came back to this one)
        self.manager: Any = None  # set by the manager's store dialog
        self.reprint = QPushButton(tr("Segunda via aqui"))
        self.reprint.setObjectName("storeReprint")
        self.reprint.setEnabled(False)
        self.reprint.clicked.connect(self.reprint_selected)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        pager = QHBoxLayout()
        pager.addWidget(self.summary, 1)
        pager.addWidget(self.reprint)
        pager.addWidget(self.previous)
        pager.addWidget(self.page_label)
        pager.addWidget(self.next)
        self.layout_.addWidget(self.table, 1)
        self.layout_.addLayout(pager)
        self.layout_.addWidget(self.message)
        self.result: dict[str, Any] | None = None
        self._update_pager()

    def reload(self) -> None:
        self.go(1)

    def go(self, page: int) -> None:
        self._query(views.history_page, self.show_page, page=page, per_page=self.per_page, **self.filters())

    def show_page(self, result: dict[str, Any]) -> None:
        self.result = result
        self.page, self.pages = int(result["pagina"]), int(result["paginas"])
        rows = result["linhas"]
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            numero = f"{r['serie']}/{r['numero']}" if r["serie"] and r["numero"] else "—"
            if r["tipo"] == "contingencia" and numero != "—":
                numero += " (cont.)"
            operador = r["operador_nome"] or r["operador"] or "—"
            formas = ", ".join(PAYMENT_METHODS.get(f, f) for f in r["formas"]) or "—"
            cells = (
                _item(self.local(r["data"]), data=r),
                _item(r["terminal"]),
                _item(str(r["venda"]), True),
                _item(numero),
                _item(operador),
                _item(formas),
                _item(format_brl(Decimal(r["valor_total"])), True),
                _item(status_label(r["situacao"])),
            )
            for j, cell in enumerate(cells):
                self.table.setItem(i, j, cell)
        cancel = f", {result['canceladas']} cancelada(s)" if result["canceladas"] else ""
        self.summary.setText(
            f"{result['vendas']} venda(s){cancel} — total {format_brl(Decimal(result['valor_total']))}"
        )
        self._update_pager()

    def selected_sale(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        item = self.table.item(rows[0].row(), 0) if rows else None
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _selection_changed(self) -> None:
        sale = self.selected_sale()
        self.reprint.setEnabled(bool(sale and sale.get("situacao")) and not self.busy)

    def reprint_selected(self) -> None:
        """Second copy of the selected sale, printed at this checkout (the dialog's manager authorizes it)."""
        sale = self.selected_sale()
        if sale is None or self.manager is None or self.busy:
            return
        self.reprint.setEnabled(False)
        self._query(
            _reprint, self._reprinted, here=self.ctx, terminal=sale["terminal"], venda=int(sale["venda"]),
            manager=self.manager,
        )  # fmt: skip

    def _reprinted(self, outcome: Any) -> None:
        self.message.setText(outcome.message)
        self.message.setStyleSheet("" if outcome.ok else f"color: {RED.name()};")
        self._selection_changed()

    def _update_pager(self) -> None:
        self.page_label.setText(f"Página {self.page} de {self.pages}")
        self.previous.setEnabled(self.page > 1)
        self.next.setEnabled(self.page < self.pages)


class StoreCashView(_StoreView):
    """Fechamentos de caixa: every terminal's cash sessions of a day, expected vs counted by payment group."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("storeCash")
        self.table = _table(CASH_COLUMNS, "storeCashTable")
        self.table.itemSelectionChanged.connect(self._show_selected)
        self.groups = _table(GROUP_COLUMNS, "storeCashGroups")
        self.groups.horizontalHeader().setStretchLastSection(False)
        self.detail = QLabel()
        self.detail.setObjectName("storeCashDetail")
        self.detail.setWordWrap(True)
        self.layout_.addWidget(self.table, 3)
        self.layout_.addWidget(self.detail)
        self.layout_.addWidget(self.groups, 2)
        self.layout_.addWidget(self.message)
        self.sessions: list[dict[str, Any]] = []

    def reload(self) -> None:
        self._query(views.cash_sessions, self.show_sessions, **self.filters())

    def show_sessions(self, sessions: list[dict[str, Any]]) -> None:
        self.sessions = sessions
        self.table.setRowCount(len(sessions))
        for i, s in enumerate(sessions):
            dif = s["diferenca_total"]
            cells = (
                _item(s["terminal"], data=s),
                _item(str(s["caixa"]), True),
                _item("Fechado" if s["situacao"] == "fechado" else "Aberto"),
                _item(self.local(s["aberto_em"])),
                _item(s["aberto_por_nome"] or ("automático" if s["abertura_automatica"] else "—")),
                _item(self.local(s["fechado_em"])),
                _item(s["fechado_por_nome"] or "—"),
                _item(str(s["vendas"]), True),
                _item(_money(s["esperado_total"]), True),
                _item(_money(s["contado_total"]), True),
                _item(_money(dif), True),
            )
            if dif is not None and Decimal(dif) != 0:
                cells[-1].setForeground(QBrush(RED))
            for j, cell in enumerate(cells):
                self.table.setItem(i, j, cell)
        if sessions:
            self.table.selectRow(0)
        else:
            self.groups.setRowCount(0)
            self.detail.setText(tr("Nenhum caixa aberto neste dia."))

    def _show_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        s = self.sessions[rows[0].row()]
        self.detail.setText(
            f"{s['terminal']} — caixa {s['caixa']}: fundo de troco {_money(s['fundo_troco'])}, "
            f"{s['vendas']} venda(s) {_money(s['valor_vendas'])}, troco {_money(s['troco'])}, "
            f"suprimentos {_money(s['suprimentos'])}, sangrias {_money(s['sangrias'])}"
            + (f", {s['canceladas']} cancelada(s) {_money(s['valor_canceladas'])}" if s["canceladas"] else "")
            + (f". Obs.: {s['observacao']}" if s["observacao"] else "")
        )
        lines: list[tuple[str, dict[str, Any], bool]] = []
        for g in s["grupos"]:
            lines.append((g["grupo"], g, True))
            members = [f for f in s["formas"] if f["grupo"] == g["grupo"]]
            if len(members) > 1 or (members and members[0]["descricao"] != g["grupo"]):
                lines += [(f"   {f['descricao']}", f, False) for f in members]
        self.groups.setRowCount(len(lines))
        for i, (label, figures, bold) in enumerate(lines):
            cells = (
                _item(label),
                _item(_money(figures["esperado"]), True),
                _item(_money(figures["contado"]), True),
                _item(_money(figures["diferenca"]), True),
            )
            if figures["diferenca"] is not None and Decimal(figures["diferenca"]) != 0:
                cells[-1].setForeground(QBrush(RED))
            for j, cell in enumerate(cells):
                if bold:
                    font = cell.font()
                    font.setBold(True)
                    cell.setFont(font)
                self.groups.setItem(i, j, cell)
