"""Manager dialog for the store database: change a price on every terminal, see the day across terminals.

Every call to PostgreSQL runs in the worker pool: the window never waits for the store database.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.domain.money import format_brl
from pos_app.core.fiscal.document_status import DocumentStatus
from pos_app.core.printing.formatting import format_money
from pos_app.core.services.history import STATUS_LABELS
from pos_app.core.storeserver import admin, link, views
from pos_app.core.storeserver.customers import publish_summary
from pos_app.ui.i18n import tr
from pos_app.ui.store.views_tabs import StoreCashView, StoreHistoryView
from pos_app.ui.worker import run_in_worker


def _change_price(ctx: Any, codigo: str, preco: Decimal, por: str) -> int:
    conn = link.open_store_connection(ctx)
    try:
        versao = admin.set_price(conn, codigo, preco, por=por)
    finally:
        conn.close()
    if ctx.store_sync is not None:
        ctx.store_sync.wake()
    return versao


def _publish_customers(ctx: Any, por: str) -> tuple[int, int]:
    """This terminal's whole customer list to the store (once, for customers typed before it joined)."""
    if ctx.store_sync is not None:  # edits and removals made elsewhere first: never bring them back
        with contextlib.suppress(Exception):  # the publish below reports the store being away
            ctx.store_sync.run_once()
    conn = link.open_store_connection(ctx)
    try:
        clientes = ctx.store.clientes.list()
        n = admin.publish_customers(conn, clientes, por=por)
    finally:
        conn.close()
    return len(clientes), n


def _choices(ctx: Any) -> dict[str, Any]:
    conn = link.open_store_connection(ctx)
    try:
        return views.filter_choices(conn)
    finally:
        conn.close()


def _dashboard_text(ctx: Any) -> str:
    conn = link.open_store_connection(ctx)
    try:
        today = ctx.now().date()
        d = views.dashboard(conn, day=today.isoformat())
        names = {o["codigo"]: o["nome"] for o in views.filter_choices(conn)["operadores"]}
    finally:
        conn.close()

    def money(value: Any) -> str:
        return format_brl(Decimal(value))

    lines = [f"Loja — {today:%d/%m/%Y}: {count_sales(d['vendas'])}, {money(d['valor_total'])}"]
    lines += [
        f"  {r['terminal']}: {count_sales(r['vendas'])}, {money(r['valor_total'])}" for r in d["por_terminal"]
    ]
    lines += [
        f"  {names.get(r['operador'], 'operador ' + r['operador'])}: {count_sales(r['vendas'])}, "
        f"{money(r['valor_total'])}"
        for r in d["por_operador"]
    ]
    # An online attempt closed for good (``encerrado``) is followed by its contingency note: not a note.
    notes = [
        f"{STATUS_LABELS.get(k, k)}: {v}" for k, v in d["documentos"].items() if k != DocumentStatus.ENCERRADO
    ]
    lines.append("  Notas — " + ("; ".join(notes) or "nenhuma"))
    return "\n".join(lines)


def count_sales(n: Any) -> str:
    return "1 venda" if int(n) == 1 else f"{int(n)} vendas"


class StoreDialog(QDialog):
    def __init__(self, ctx: Any, manager: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.manager = manager
        self.setWindowTitle(tr("Loja — todos os caixas"))
        outer = QVBoxLayout(self)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("storeTabs")
        outer.addWidget(self.tabs)
        prices = QWidget()
        layout = QVBoxLayout(prices)
        self.tabs.addTab(prices, tr("Preços e painel"))
        self.history = StoreHistoryView(ctx)
        self.history.manager = (
            manager  # "Segunda via aqui" is authorized by the manager who opened the dialog
        )
        self.cash = StoreCashView(ctx)
        self.tabs.addTab(self.history, tr("Histórico da loja"))
        self.tabs.addTab(self.cash, tr("Fechamentos de caixa"))
        self._loaded: set[int] = set()
        if not link.configured(ctx):
            outer.insertWidget(
                0,
                QLabel(
                    tr(
                        "Este terminal trabalha sozinho: configure o banco da loja "
                        "(pos-app loja conectar postgresql://…)."
                    )
                ),
            )
        form = QFormLayout()
        self.code = QLineEdit()
        self.code.setObjectName("storeCode")
        self.price = QLineEdit()
        self.price.setObjectName("storePrice")
        form.addRow(tr("Código do produto"), self.code)
        form.addRow(tr("Novo preço (R$)"), self.price)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.apply = QPushButton(tr("Alterar em todos os caixas"))
        self.apply.setObjectName("storeApply")
        self.apply.clicked.connect(self._apply)
        self.refresh = QPushButton(tr("Atualizar painel"))
        self.refresh.setObjectName("storeRefresh")
        self.refresh.clicked.connect(self._refresh)
        self.publish_customers = QPushButton(tr("Publicar clientes deste caixa"))
        self.publish_customers.setObjectName("storePublishCustomers")
        self.publish_customers.setToolTip(
            tr("Envia uma vez a lista de clientes (NF-e) deste caixa para todos os caixas da loja.")
        )
        self.publish_customers.clicked.connect(self._publish_customers)
        buttons.addWidget(self.apply)
        buttons.addWidget(self.refresh)
        buttons.addWidget(self.publish_customers)
        layout.addLayout(buttons)
        self.message = QLabel()
        self.message.setObjectName("storeMessage")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.board = QPlainTextEdit()
        self.board.setObjectName("storeBoard")
        self.board.setReadOnly(True)
        self.board.setMinimumSize(520, 220)
        layout.addWidget(self.board)
        self.apply.setEnabled(link.configured(ctx))
        self.refresh.setEnabled(link.configured(ctx))
        self.publish_customers.setEnabled(link.configured(ctx))
        for view in (self.history, self.cash):
            view.setEnabled(link.configured(ctx))
        if link.configured(ctx):
            self._refresh()
            run_in_worker(_choices, ctx, on_result=self._set_choices, on_error=lambda _exc: None)
            self.tabs.currentChanged.connect(self._tab_shown)

    def _set_choices(self, choices: dict[str, Any]) -> None:
        self.history.set_choices(choices)
        self.cash.set_choices(choices)

    def _tab_shown(self, index: int) -> None:
        """Each store-wide view queries the store database the first time it is shown."""
        view = self.tabs.widget(index)
        if index not in self._loaded and isinstance(view, StoreHistoryView | StoreCashView):
            self._loaded.add(index)
            view.reload()

    def _apply(self) -> None:
        codigo = self.code.text().strip()
        try:
            preco = Decimal(
                self.price.text().strip().replace(".", "").replace(",", ".")
                if "," in self.price.text()
                else self.price.text().strip()
            )
        except InvalidOperation:
            self.message.setText(tr("Preço inválido."))
            return
        if not codigo:
            self.message.setText(tr("Informe o código do produto."))
            return
        por = f"{self.ctx.config.terminal_id}/{getattr(self.manager, 'codigo', '-')}"
        self.apply.setEnabled(False)
        self.message.setText(tr("Enviando para a loja…"))

        def done(versao: Any) -> None:
            self.apply.setEnabled(True)
            self.message.setText(
                f"Preço de {codigo} agora R$ {format_money(preco)} em todos os caixas (versão {versao})."
            )
            self._refresh()

        def failed(exc: BaseException) -> None:
            self.apply.setEnabled(True)
            self.message.setText(f"Não foi possível alterar na loja: {exc}")

        run_in_worker(_change_price, self.ctx, codigo, preco, por, on_result=done, on_error=failed)

    def _publish_customers(self) -> None:
        por = f"{self.ctx.config.terminal_id}/{getattr(self.manager, 'codigo', '-')}"
        self.publish_customers.setEnabled(False)
        self.message.setText(tr("Enviando os clientes para a loja…"))

        def done(result: Any) -> None:
            total, changed = result
            self.publish_customers.setEnabled(True)
            self.message.setText(publish_summary(total, changed))

        def failed(exc: BaseException) -> None:
            self.publish_customers.setEnabled(True)
            self.message.setText(f"Não foi possível publicar os clientes: {exc}")

        run_in_worker(_publish_customers, self.ctx, por, on_result=done, on_error=failed)

    def _refresh(self) -> None:
        def failed(exc: BaseException) -> None:
            self.board.setPlainText(f"Banco da loja fora do ar: {exc}")

        run_in_worker(_dashboard_text, self.ctx, on_result=self.board.setPlainText, on_error=failed)
