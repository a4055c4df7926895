"""Daily dashboard: sales by hour (bar chart drawn with QPainter), by payment method, average ticket,
cancellations, contingency backlog; export to PDF and CSV."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.domain.money import format_brl
from pos_app.core.domain.payments import PAYMENT_METHODS
from pos_app.core.services.reports import DailyReport, HourBucket, ReportService
from pos_app.ui import theme
from pos_app.ui.i18n import tr
from pos_app.ui.manager.widgets import ManagerDialog, Now, message_label, show_result, title_label

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User


class HourBarChart(QWidget):
    """Sales (R$) per hour as vertical bars; the number of sales above each bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hourChart")
        self.setMinimumHeight(220)
        self.buckets: list[HourBucket] = []

    def set_buckets(self, buckets: list[HourBucket]) -> None:
        self.buckets = buckets
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        if not self.buckets:
            p.end()
            return
        left, right, top, bottom = 64.0, 12.0, 22.0, 28.0
        w = self.width() - left - right
        h = self.height() - top - bottom
        peak = max((float(b.total) for b in self.buckets), default=0.0) or 10.0
        step = _nice(peak / 4)
        ymax = step * (int(peak / step) + 1)
        metrics = p.fontMetrics()
        p.setPen(QPen(QColor("#cfd8dc"), 1))
        for i in range(int(ymax / step) + 1):
            y = top + h - h * (i * step) / ymax
            p.drawLine(int(left), int(y), int(left + w), int(y))
            p.setPen(QColor(theme.GREY))
            label = f"{i * step:,.0f}".replace(",", ".")
            p.drawText(
                QRectF(0, y - 9, left - 6, 18),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                label,
            )
            p.setPen(QPen(QColor("#cfd8dc"), 1))
        slot = w / len(self.buckets)
        for i, b in enumerate(self.buckets):
            x = left + i * slot
            bar_h = h * float(b.total) / ymax
            rect = QRectF(x + slot * 0.15, top + h - bar_h, slot * 0.7, bar_h)
            p.fillRect(rect, QColor(theme.BLUE))
            p.setPen(QColor(theme.INK))
            p.drawText(
                QRectF(x, top + h + 4, slot, bottom - 4), int(Qt.AlignmentFlag.AlignHCenter), f"{b.hora:02d}h"
            )
            if b.vendas:
                p.drawText(
                    QRectF(x, rect.top() - metrics.height() - 2, slot, metrics.height()),
                    int(Qt.AlignmentFlag.AlignHCenter),
                    str(b.vendas),
                )
        p.end()


def _nice(raw: float) -> float:
    power = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= raw:
            return float(m * power)
    return float(10 * power)


class ReportsDialog(ManagerDialog):
    def __init__(
        self,
        ctx: AppContext,
        manager: User | None = None,
        parent: QWidget | None = None,
        now: Now | None = None,
    ) -> None:
        super().__init__(ctx, manager, parent, now)
        self.setObjectName("reportsDialog")
        self.setWindowTitle(tr("Relatórios"))
        self.setMinimumSize(900, 700)
        self.service = ReportService(ctx)
        self.report: DailyReport | None = None

        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        head.addWidget(title_label(tr("Painel do dia")))
        head.addStretch(1)
        self.day = QDateEdit()
        self.day.setObjectName("reportDate")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("dd/MM/yyyy")
        today = self.now().date()
        self.day.setDate(QDate(today.year, today.month, today.day))
        head.addWidget(self.day)
        refresh = QPushButton(tr("Atualizar"))
        refresh.setAutoDefault(False)
        head.addWidget(refresh)
        layout.addLayout(head)

        grid = QGridLayout()
        self.kpis: dict[str, QLabel] = {}
        for col, (key, text) in enumerate(
            (
                ("vendas", tr("Vendas")),
                ("total", tr("Faturamento")),
                ("ticket", tr("Ticket médio")),
                ("canceladas", tr("Canceladas")),
                ("pix", tr("PIX")),
                ("contingencia", tr("Contingência pendente")),
            )
        ):
            caption = QLabel(text)
            theme.set_role(caption, "hint")
            value = QLabel("—")
            value.setObjectName(f"kpi_{key}")
            value.setFont(theme.big_font(18))
            grid.addWidget(caption, 0, col)
            grid.addWidget(value, 1, col)
            self.kpis[key] = value
        layout.addLayout(grid)
        layout.addWidget(QLabel(tr("Vendas por hora (R$); acima da barra, o número de vendas")))
        self.chart = HourBarChart()
        layout.addWidget(self.chart, 2)
        tables = QHBoxLayout()
        self.methods = QTableWidget(0, 2)
        self.methods.setObjectName("methodsTable")
        self.methods.setHorizontalHeaderLabels([tr("Forma de pagamento"), tr("Valor")])
        self.cancelled = QTableWidget(0, 3)
        self.cancelled.setObjectName("cancelledTable")
        self.cancelled.setHorizontalHeaderLabels([tr("Cancelada"), tr("Hora"), tr("Valor")])
        for t in (self.methods, self.cancelled):
            t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            t.verticalHeader().setVisible(False)
            tables.addWidget(t)
        layout.addLayout(tables, 1)
        self.backlog = QLabel()
        self.backlog.setWordWrap(True)
        layout.addWidget(self.backlog)
        self.message = message_label()
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        pdf = QPushButton(tr("Exportar PDF…"))
        csv_button = QPushButton(tr("Exportar CSV…"))
        close = QPushButton(tr("Fechar (Esc)"))
        for b in (pdf, csv_button, close):
            b.setAutoDefault(False)
        buttons.addWidget(pdf)
        buttons.addWidget(csv_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)

        refresh.clicked.connect(self.load)
        self.day.dateChanged.connect(lambda _d: self.load())
        pdf.clicked.connect(lambda: self.export("pdf"))
        csv_button.clicked.connect(lambda: self.export("csv"))
        close.clicked.connect(self.reject)
        self.load()

    def selected_day(self) -> date:
        d = self.day.date()
        return date(d.year(), d.month(), d.day())

    def load(self) -> None:
        rep = self.service.daily(self.selected_day(), self.now())
        self.report = rep
        self.kpis["vendas"].setText(str(rep.vendas))
        self.kpis["total"].setText(format_brl(rep.total))
        self.kpis["ticket"].setText(format_brl(rep.ticket_medio))
        self.kpis["canceladas"].setText(f"{len(rep.canceladas)} ({format_brl(rep.total_cancelado)})")
        self.kpis["pix"].setText(
            format_brl(rep.por_grupo.get("PIX", Decimal(0)))
        )  # apart from cash and cards
        pend = int(rep.backlog.get("contingencia_pendentes", 0))
        self.kpis["contingencia"].setText(str(pend))
        self.kpis["contingencia"].setStyleSheet(f"color: {theme.AMBER if pend else theme.INK};")
        self.chart.set_buckets(rep.busy_hours())
        self.methods.setRowCount(len(rep.por_forma))
        for row, (forma, total) in enumerate(sorted(rep.por_forma.items(), key=lambda kv: -kv[1])):
            self.methods.setItem(row, 0, QTableWidgetItem(PAYMENT_METHODS.get(forma, forma)))
            self.methods.setItem(row, 1, _right(format_brl(total)))
        self.cancelled.setRowCount(len(rep.canceladas))
        for row, c in enumerate(rep.canceladas):
            self.cancelled.setItem(row, 0, QTableWidgetItem(f"{c['ref']} (nº {c['numero'] or '—'})"))
            self.cancelled.setItem(row, 1, QTableWidgetItem(c["hora"]))
            self.cancelled.setItem(row, 2, _right(format_brl(Decimal(c["valor"]))))
        b = rep.backlog
        self.backlog.setText(
            tr(
                "Contingência agora: {p} a transmitir, {e} precisam de correção, {d} tentativas a "
                "reconciliar."
            ).format(
                p=b.get("contingencia_pendentes", 0),
                e=b.get("contingencia_com_erro", 0),
                d=b.get("em_duvida", 0),
            )
        )

    def export(self, kind: str, path: str | Path | None = None) -> Path | None:
        if self.report is None:
            return None
        if path is None:
            default = self.ctx.data_dir / "relatorios" / f"relatorio-{self.report.dia.isoformat()}.{kind}"
            chosen, _ = QFileDialog.getSaveFileName(
                self,
                tr("Exportar relatório"),
                str(default),
                "PDF (*.pdf)" if kind == "pdf" else "CSV (*.csv)",
            )
            if not chosen:
                return None
            path = chosen
        target = Path(self.service.export(self.report, {kind: path}, user=self.manager, now=self.now())[kind])
        show_result(self.message, tr("Relatório exportado: {p}").format(p=target), True)
        return target


def _right(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item
