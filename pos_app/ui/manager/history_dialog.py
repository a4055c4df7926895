"""Sales history with filters; detail of a sale with every state transition and the raw API answers;
reprint, open XML, consult the API again, cancel, e-mail."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.domain.br_format import format_document, format_local_datetime
from pos_app.core.domain.money import format_brl
from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.document_status import DocumentStatus as S
from pos_app.core.services.history import GROUP_LABELS, HistoryFilter, HistoryRow, HistoryService
from pos_app.ui.i18n import tr
from pos_app.ui.manager.widgets import (
    ManagerDialog,
    Now,
    error_text,
    message_label,
    run_job,
    show_result,
    title_label,
)

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User

COLUMNS = ("Data/hora", "Número", "Total", "Situação", "Operador", "CPF/CNPJ", "Cancelar até", "Referência")


PAGE_SIZE = 200  # rows on screen at once; the count and total cover every page


class HistoryDialog(ManagerDialog):
    def __init__(
        self,
        ctx: AppContext,
        manager: User | None = None,
        parent: QWidget | None = None,
        now: Now | None = None,
    ) -> None:
        super().__init__(ctx, manager, parent, now)
        self.setObjectName("historyDialog")
        self.setWindowTitle(tr("Histórico de vendas"))
        self.setMinimumSize(960, 640)
        self.resize(1100, 720)
        self.service = HistoryService(ctx)
        self.rows: list[HistoryRow] = []
        self.detail: dict[str, Any] | None = None

        layout = QVBoxLayout(self)
        layout.addWidget(title_label(tr("Histórico de vendas")))
        filters = QGridLayout()
        today = self.now().date()
        self.de = _date_edit(today, "dateFrom")
        self.ate = _date_edit(today, "dateTo")
        self.status = QComboBox()
        self.status.setObjectName("statusFilter")
        self.status.addItem(tr("Todas"), None)
        for key, label in GROUP_LABELS.items():
            self.status.addItem(label, key)
        self.numero = QLineEdit()
        self.numero.setPlaceholderText(tr("número"))
        self.chave = QLineEdit()
        self.chave.setPlaceholderText(tr("chave (ou parte)"))
        self.cpf = QLineEdit()
        self.cpf.setPlaceholderText(tr("CPF"))
        self.operador = QComboBox()
        self.operador.addItem(tr("Todos"), None)
        for u in ctx.store.users.all():
            self.operador.addItem(f"{u.codigo} - {u.nome}", u.codigo)
        search = QPushButton(tr("&Buscar (Enter)"))
        search.setObjectName("searchButton")
        search.setAutoDefault(False)
        # Two rows of filters: every field wide enough to read at 1024x768.
        for i, (label, widget) in enumerate(
            (
                (tr("&De"), self.de),
                (tr("A&té"), self.ate),
                (tr("&Situação"), self.status),
                (tr("&Operador"), self.operador),
                (tr("&Número da NFC-e"), self.numero),
                (tr("C&have"), self.chave),
                (tr("C&PF/CNPJ"), self.cpf),
            )
        ):
            row, col = divmod(i, 4)
            caption = QLabel(label)
            caption.setBuddy(widget)
            filters.addWidget(caption, row * 2, col)
            filters.addWidget(widget, row * 2 + 1, col)
        filters.addWidget(search, 3, 3)
        for col, stretch in enumerate((1, 1, 2, 2)):
            filters.setColumnStretch(col, stretch)
        layout.addLayout(filters)

        split = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("historyTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        split.addWidget(self.table)
        self.detail_view = QTextBrowser()
        self.detail_view.setObjectName("detailView")
        self.detail_view.setOpenLinks(False)
        split.addWidget(self.detail_view)
        split.setSizes([320, 320])
        layout.addWidget(split, 1)
        pager = QHBoxLayout()
        self.summary = QLabel()
        pager.addWidget(self.summary, 1)
        self.prev_button = QPushButton(tr("◀ Anteriores"))
        self.prev_button.setObjectName("prevPage")
        self.page_label = QLabel()
        self.page_label.setObjectName("pageLabel")
        self.next_button = QPushButton(tr("Mais antigas ▶"))
        self.next_button.setObjectName("nextPage")
        for w in (self.prev_button, self.page_label, self.next_button):
            if isinstance(w, QPushButton):
                w.setAutoDefault(False)
            pager.addWidget(w)
        layout.addLayout(pager)
        self.message = message_label()
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.reprint_button = QPushButton(tr("Reimprimir"))
        self.xml_button = QPushButton(tr("Abrir XML"))
        self.consult_button = QPushButton(tr("Consultar na API"))
        self.cancel_button = QPushButton(tr("Cancelar nota…"))
        self.email_button = QPushButton(tr("Enviar por e-mail…"))
        close = QPushButton(tr("Fechar (Esc)"))
        for b in (
            self.reprint_button,
            self.xml_button,
            self.consult_button,
            self.cancel_button,
            self.email_button,
        ):
            b.setAutoDefault(False)
            b.setEnabled(False)
            buttons.addWidget(b)
        buttons.addStretch(1)
        close.setAutoDefault(False)
        buttons.addWidget(close)
        layout.addLayout(buttons)

        self.page = 0
        self.total_rows = 0
        self.total_value = Decimal("0.00")
        search.clicked.connect(self.search)
        self.prev_button.clicked.connect(lambda: self.go_to_page(self.page - 1))
        self.next_button.clicked.connect(lambda: self.go_to_page(self.page + 1))
        for edit in (self.numero, self.chave, self.cpf):
            edit.returnPressed.connect(self.search)
        self.table.itemSelectionChanged.connect(self.show_selected)
        self.reprint_button.clicked.connect(self.reprint)
        self.xml_button.clicked.connect(self.open_xml)
        self.consult_button.clicked.connect(self.consult)
        self.cancel_button.clicked.connect(self.open_cancel)
        self.email_button.clicked.connect(self.open_email)
        close.clicked.connect(self.reject)
        self.search()

    # -- search ----------------------------------------------------------------------------
    def current_filter(self) -> HistoryFilter:
        numero = self.numero.text().strip()
        status = self.status.currentData()
        return HistoryFilter(
            de=_qdate(self.de.date()),
            ate=_qdate(self.ate.date()),
            status=[status] if status else [],
            numero=int(numero) if numero.isdigit() else None,
            chave=self.chave.text().strip() or None,
            cpf=self.cpf.text().strip() or None,
            operador=self.operador.currentData(),
            limit=PAGE_SIZE,
            offset=self.page * PAGE_SIZE,
        )

    def search(self) -> None:
        """A new search: first page (the newest sales), with the count and total of every page."""
        self.page = 0
        self.total_rows, self.total_value = self.service.totals(self.current_filter())
        self._show_page()

    def go_to_page(self, page: int) -> None:
        pages = max(1, -(-self.total_rows // PAGE_SIZE))
        self.page = min(max(0, page), pages - 1)
        self._show_page()

    def _show_page(self) -> None:
        self.rows = self.service.search(self.current_filter(), self.now())
        self.table.setRowCount(len(self.rows))
        for row, r in enumerate(self.rows):
            limit = ""
            if r.cancel_restante:
                limit = tr("{m} min").format(m=r.cancel_restante // 60)
            values = (
                format_local_datetime(r.created_at, self.now()),
                tr("{n} série {s}").format(n=r.numero, s=r.serie) if r.numero else "—",
                format_brl(r.total),
                r.status_label,
                r.operador_nome or r.operador or "—",
                format_document(r.cpf or r.cnpj),
                limit,
                r.ref,
            )
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.summary.setText(
            tr("{n} venda(s); total sem canceladas {t}").format(
                n=self.total_rows, t=format_brl(self.total_value)
            )
        )
        pages = max(1, -(-self.total_rows // PAGE_SIZE))
        self.page_label.setText(tr("página {p} de {n}").format(p=self.page + 1, n=pages))
        self.prev_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page + 1 < pages)
        self.detail = None
        self.detail_view.clear()
        self._buttons()

    def selected(self) -> HistoryRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def select_ref(self, ref: str) -> None:
        for i, r in enumerate(self.rows):
            if r.ref == ref:
                self.table.selectRow(i)
                return

    def show_selected(self) -> None:
        row = self.selected()
        if row is None:
            self.detail = None
            self.detail_view.clear()
        else:
            self.detail = self.service.detail(row.ref, self.now())
            self.detail_view.setHtml(detail_html({**self.detail, "fuso": self.now().tzinfo}))
        self._buttons()

    def _buttons(self) -> None:
        row = self.selected()
        has = row is not None
        self.reprint_button.setEnabled(has)
        self.xml_button.setEnabled(has and row is not None and row.status in ds.HAS_API_XML)
        self.consult_button.setEnabled(has)
        self.cancel_button.setEnabled(has and row is not None and row.status != S.CANCELADO)
        self.email_button.setEnabled(has and row is not None and row.status in ds.HAS_API_XML)

    # -- actions ---------------------------------------------------------------------------
    def reprint(self) -> None:
        row = self.selected()
        if row is None:
            return
        doc_id, manager_id, ref = row.document_id, self.manager.id if self.manager else None, row.ref

        def job() -> tuple[bool, str, str | None]:
            try:
                from pos_app.core.services.printing import PrintService
            except ImportError:  # printing service not installed: the PDF is the receipt
                from pos_app.core.services.receipts import ReceiptService

                path = ReceiptService(self.ctx).render_for_document(doc_id)
                return True, tr("DANFCe gerado: {p}").format(p=path), str(path)
            service = PrintService(self.ctx)
            out = service.reprint_audited(doc_id, ref, self.manager, manager_id)
            return out.ok, out.message, None

        def done(value: tuple[bool, str, str | None]) -> None:
            ok, text, path = value
            if path:
                QDesktopServices.openUrl(QUrl.fromLocalFile(path))
            show_result(self.message, text, ok)

        self.track(
            run_job(job, on_result=done, on_error=lambda e: show_result(self.message, error_text(e), False))
        )

    def open_xml(self) -> None:
        row = self.selected()
        if row is None:
            return
        cancel_xml = row.status == S.CANCELADO

        def done(path: Any) -> None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
            show_result(self.message, tr("XML: {p}").format(p=path), True)

        self.track(
            run_job(
                self.service.xml_file,
                row.ref,
                cancel_xml,
                on_result=done,
                on_error=lambda e: show_result(self.message, error_text(e), False),
            )
        )

    def consult(self) -> None:
        row = self.selected()
        if row is None:
            return
        ref = row.ref

        def done(data: dict[str, Any]) -> None:
            self.search()
            self.select_ref(ref)
            show_result(self.message, data["mensagem"], True)

        self.track(
            run_job(
                self.service.consult,
                ref,
                self.manager,
                on_result=done,
                on_error=lambda e: show_result(self.message, error_text(e), False),
            )
        )

    def open_cancel(self) -> None:
        row = self.selected()
        if row is None:
            return
        from pos_app.ui.manager.cancel_dialog import CancelDialog

        dialog = CancelDialog(self.ctx, self.manager, self, ref=row.ref, now=self.now)
        ref = row.ref

        def finished(_r: int = 0) -> None:
            self.search()
            self.select_ref(ref)

        dialog.finished.connect(finished)
        dialog.open()

    def open_email(self) -> None:
        row = self.selected()
        if row is None:
            return
        from pos_app.ui.manager.email_dialog import EmailDialog

        EmailDialog(self.ctx, self.manager, self, ref=row.ref).open()


def _date_edit(d: date, name: str) -> QDateEdit:
    edit = QDateEdit()
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd/MM/yyyy")
    edit.setDate(QDate(d.year, d.month, d.day))
    return edit


def _qdate(d: QDate) -> date:
    return date(d.year(), d.month(), d.day())


def _esc(value: Any) -> str:
    import html

    return html.escape("" if value is None else str(value))


def detail_html(data: dict[str, Any]) -> str:
    """The sale detail as simple HTML (items, payments, every document with its events)."""
    v = data["venda"]
    zone = data.get("fuso")
    out = [
        f"<h3>Venda {v['id']} — {_esc(format_local_datetime(v['data'], zone))}</h3>",
        f"<p>Operador: {_esc(v['operador_nome'] or '—')} · Total {_esc(format_brl(v['total']))} · troco "
        f"{_esc(format_brl(v['troco']))}"
        + (f" · CPF {_esc(format_document(v['cpf']))}" if v["cpf"] else "")
        + (f" · CNPJ {_esc(format_document(v.get('cnpj')))}" if v.get("cnpj") else "")
        + (f" · caixa {v['caixa']}" if v.get("caixa") else "")
        + "</p>",
        "<table border='0' cellspacing='2'>",
    ]
    for i in v["itens"]:
        out.append(
            f"<tr><td>{i['n']}</td><td>{_esc(i['descricao'])}</td><td align='right'>{_esc(i['quantidade'])}"
            f"</td><td align='right'>{_esc(format_brl(i['total']))}</td></tr>"
        )
    out.append(
        "</table><p>Pagamentos: "
        + ", ".join(f"{_esc(p['descricao'])} {_esc(format_brl(p['valor']))}" for p in v["pagamentos"])
        + "</p>"
    )
    for d in data["documentos"]:
        out.append(f"<h4>{_esc(d['ref'])} ({_esc(d['tipo'])}) — {_esc(d['situacao'])}</h4>")
        if d["chave"]:
            out.append(
                f"<p>nº {d['numero']} série {d['serie']} · chave <tt>{_esc(d['chave'])}</tt> · protocolo "
                f"{_esc(d['protocolo'] or '—')}</p>"
            )
        if d["status_sefaz"]:
            out.append(f"<p>SEFAZ {_esc(d['status_sefaz'])}: {_esc(d['mensagem_sefaz'])}</p>")
        out.append(
            "<table border='1' cellspacing='0' cellpadding='3'><tr><th>Quando</th><th>De</th><th>Para</th>"
            "<th>HTTP</th><th>Nota</th><th>Resposta da API</th></tr>"
        )
        for e in d["eventos"]:
            raw = e["resposta"]
            if isinstance(raw, dict | list):
                raw = json.dumps(raw, ensure_ascii=False, indent=1)[:2000]
            out.append(
                f"<tr><td>{_esc(format_local_datetime(e['quando'], zone, seconds=True))}</td><td>{_esc(e['de'] or '')}</td>"
                f"<td>{_esc(e['para'])}</td><td>{_esc(e['http'] or '')}</td><td>{_esc(e['nota'] or '')}</td>"
                f"<td><pre>{_esc(raw or '')}</pre></td></tr>"
            )
        out.append("</table>")
    for c in data["cancelamentos_agendados"]:
        out.append(
            f"<p><b>Cancelamento agendado</b> de {_esc(c['ref'])}: {_esc(c['status'])} — "
            f"{_esc(c['justificativa'])}</p>"
        )
    if data["auditoria"]:
        out.append("<h4>Auditoria</h4><ul>")
        for a in data["auditoria"]:
            out.append(
                f"<li>{_esc(format_local_datetime(a['quando'], zone))} — {_esc(a['nome'] or '—')} — "
                f"{_esc(a['descricao'])} — {_esc(a['resultado'])}</li>"
            )
        out.append("</ul>")
    return "".join(out)
