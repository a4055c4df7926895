"""Daily dashboard: sales by hour (bar chart), by payment method, average ticket, cancellations and
the contingency backlog; exported as PDF (reportlab, with a bar chart) and CSV (Excel in Portuguese:
``;`` separator, decimal comma, UTF-8 with BOM)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.money import format_brl, to_money
from pos_app.core.domain.payments import PAYMENT_METHODS
from pos_app.core.domain.validators import format_cnpj
from pos_app.core.fiscal.document_status import DocumentStatus as S
from pos_app.core.services.audit import AuditLog
from pos_app.core.services.status import backlog

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User

ZERO = Decimal("0.00")
_CURRENT_DOC = "(SELECT max(id) FROM fiscal_documents WHERE sale_id = s.id)"


@dataclass
class HourBucket:
    hora: int
    vendas: int = 0
    total: Decimal = ZERO


@dataclass
class DailyReport:
    dia: date
    gerado_em: datetime
    vendas: int = 0
    total: Decimal = ZERO
    por_hora: list[HourBucket] = field(default_factory=lambda: [HourBucket(h) for h in range(24)])
    por_forma: dict[str, Decimal] = field(default_factory=dict)  # net of troco: sums to ``total``
    canceladas: list[dict[str, Any]] = field(default_factory=list)
    pendentes: dict[str, int] = field(default_factory=dict)  # fiscal situation of the day's sales
    backlog: dict[str, Any] = field(default_factory=dict)  # terminal-wide contingency backlog, now
    # NFC-e (65) and NF-e to CNPJ buyers (55) apart: {modelo: [vendas, total]}
    por_modelo: dict[int, list[Any]] = field(default_factory=dict)

    @property
    def ticket_medio(self) -> Decimal:
        return to_money(self.total / self.vendas) if self.vendas else ZERO

    @property
    def total_cancelado(self) -> Decimal:
        return to_money(sum((Decimal(c["valor"]) for c in self.canceladas), ZERO))

    @property
    def por_grupo(self) -> dict[str, Decimal]:
        """Dinheiro, Cartões, PIX (dynamic + static), Outros."""
        from pos_app.core.domain.payments import PAYMENT_GROUPS

        out: dict[str, Decimal] = {}
        for forma, total in self.por_forma.items():
            group = PAYMENT_GROUPS.get(forma, "Outros")
            out[group] = out.get(group, ZERO) + total
        return out

    def busy_hours(self) -> list[HourBucket]:
        """Hours from the first to the last with sales (at least 08h-18h, for a readable chart)."""
        used = [b.hora for b in self.por_hora if b.vendas]
        first = min([8, *used])
        last = max([18, *used])
        return self.por_hora[first : last + 1]

    def to_json(self) -> dict[str, Any]:
        return {
            "data": self.dia.isoformat(),
            "gerado_em": self.gerado_em.isoformat(timespec="seconds"),
            "vendas": self.vendas,
            "total": f"{self.total:.2f}",
            "ticket_medio": f"{self.ticket_medio:.2f}",
            "por_hora": [
                {"hora": b.hora, "vendas": b.vendas, "total": f"{b.total:.2f}"}
                for b in self.por_hora
                if b.vendas
            ],
            "por_forma": [
                {"forma": k, "descricao": PAYMENT_METHODS.get(k, k), "total": f"{v:.2f}"}
                for k, v in self.por_forma.items()
            ],
            "por_grupo": {k: f"{v:.2f}" for k, v in self.por_grupo.items()},
            "canceladas": self.canceladas,
            "total_cancelado": f"{self.total_cancelado:.2f}",
            "situacao_fiscal": self.pendentes,
            "contingencia": self.backlog,
            "por_modelo": [
                {"modelo": m, "documento": "NF-e" if m == 55 else "NFC-e", "vendas": n, "total": f"{t:.2f}"}
                for m, (n, t) in sorted(self.por_modelo.items())
            ],
        }


class ReportService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.db = ctx.store.database

    def daily(self, dia: date | None = None, now: datetime | None = None) -> DailyReport:
        now = now or self.ctx.now()
        dia = dia or now.date()
        rep = DailyReport(dia=dia, gerado_em=now)
        rows = self.db.query(
            f"SELECT s.id, s.created_at, s.valor_total, s.troco, d.status, d.ref, d.numero, d.serie, d.modelo "
            f"FROM sales s JOIN fiscal_documents d ON d.id = {_CURRENT_DOC} "
            "WHERE s.created_at >= ? AND s.created_at < ? ORDER BY s.id",
            [dia.isoformat(), (dia + timedelta(days=1)).isoformat()],
        )
        valid: list[int] = []
        troco = ZERO
        for r in rows:
            valor = Decimal(r["valor_total"])
            if r["status"] == S.CANCELADO:
                rep.canceladas.append(
                    {
                        "ref": r["ref"],
                        "numero": r["numero"],
                        "serie": r["serie"],
                        "hora": r["created_at"][11:16],
                        "valor": f"{valor:.2f}",
                        "modelo": int(r["modelo"] or 65),
                    }
                )
                continue
            valid.append(int(r["id"]))
            rep.vendas += 1
            rep.total += valor
            troco += Decimal(r["troco"])
            bucket = rep.por_hora[int(r["created_at"][11:13])]
            bucket.vendas += 1
            bucket.total += valor
            rep.pendentes[r["status"]] = rep.pendentes.get(r["status"], 0) + 1
            per_model = rep.por_modelo.setdefault(int(r["modelo"] or 65), [0, ZERO])
            per_model[0] += 1
            per_model[1] += valor
        if valid:
            marks = ", ".join("?" for _ in valid)
            for p in self.db.query(
                f"SELECT forma, valor FROM payments WHERE sale_id IN ({marks}) ORDER BY forma", valid
            ):
                rep.por_forma[p["forma"]] = rep.por_forma.get(p["forma"], ZERO) + Decimal(p["valor"])
        if troco:
            rep.por_forma["01"] = rep.por_forma.get("01", ZERO) - troco
        rep.backlog = backlog(self.ctx, now)
        return rep

    # -- exports ----------------------------------------------------------------------------
    def export(
        self,
        rep: DailyReport,
        files: dict[str, str | Path],
        *,
        user: User | None = None,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """Write the report as ``{"pdf": path, "csv": path}`` (either or both) and record the export in
        the audit log (one entry); returns the written paths by kind."""
        written: dict[str, str] = {}
        for kind, path in files.items():
            target = self.to_pdf(rep, path) if kind == "pdf" else self.to_csv(rep, path)
            written[kind] = str(target)
        if written:
            AuditLog(self.ctx.store).record(
                "relatorio_exportado",
                user=user,
                target=rep.dia.isoformat(),
                details=written,
                now=now or self.ctx.now(),
            )
        return written

    def to_csv(self, rep: DailyReport, path: str | Path) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)

        def money(d: Decimal) -> str:
            return f"{d:.2f}".replace(".", ",")

        with open(target, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f, delimiter=";")
            w.writerow(["secao", "item", "quantidade", "valor"])
            w.writerow(["resumo", "data", "", rep.dia.strftime("%d/%m/%Y")])
            w.writerow(["resumo", "vendas", rep.vendas, money(rep.total)])
            w.writerow(["resumo", "ticket médio", "", money(rep.ticket_medio)])
            w.writerow(["resumo", "canceladas", len(rep.canceladas), money(rep.total_cancelado)])
            for b in rep.por_hora:
                w.writerow(["por hora", f"{b.hora:02d}h", b.vendas, money(b.total)])
            for forma, total in rep.por_forma.items():
                w.writerow(["por forma de pagamento", PAYMENT_METHODS.get(forma, forma), "", money(total)])
            for modelo, (n, total) in sorted(rep.por_modelo.items()):
                w.writerow(["por modelo", "NF-e (55)" if modelo == 55 else "NFC-e (65)", n, money(total)])
            for c in rep.canceladas:
                w.writerow(
                    [
                        "cancelada",
                        f"{c['ref']} nº {c['numero']} série {c['serie']} {c['hora']}",
                        1,
                        money(Decimal(c["valor"])),
                    ]
                )
            bl = rep.backlog
            w.writerow(["contingência", "aguardando transmissão", bl.get("contingencia_pendentes", 0), ""])
            w.writerow(["contingência", "precisa de correção", bl.get("contingencia_com_erro", 0), ""])
            w.writerow(["contingência", "tentativas a reconciliar", bl.get("em_duvida", 0), ""])
        return target

    def to_pdf(self, rep: DailyReport, path: str | Path) -> Path:
        from reportlab.graphics.charts.barcharts import VerticalBarChart
        from reportlab.graphics.shapes import Drawing, String
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import getSampleStyleSheet
        from reportlab.lib.units import mm
        from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        styles = getSampleStyleSheet()
        emitente = self.ctx.emitente()
        story: list[Any] = []
        story.append(Paragraph(f"Relatório do dia {rep.dia:%d/%m/%Y}", styles["Title"]))
        story.append(
            Paragraph(
                f"{emitente.nome_fantasia or emitente.razao_social} — CNPJ {format_cnpj(emitente.cnpj)} — terminal "
                f"{self.ctx.config.terminal_id}. Gerado em {rep.gerado_em:%d/%m/%Y %H:%M}.",
                styles["Normal"],
            )
        )
        story.append(Spacer(1, 5 * mm))

        grid = TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
        kpis = Table(
            [
                ["Vendas", "Faturamento", "Ticket médio", "Canceladas", "Contingência pendente"],
                [
                    str(rep.vendas),
                    format_brl(rep.total),
                    format_brl(rep.ticket_medio),
                    f"{len(rep.canceladas)} ({format_brl(rep.total_cancelado)})",
                    str(rep.backlog.get("contingencia_pendentes", 0)),
                ],
            ],
            colWidths=[25 * mm, 38 * mm, 32 * mm, 40 * mm, 42 * mm],
            hAlign="LEFT",
        )
        kpis.setStyle(
            TableStyle(
                [
                    *grid.getCommands(),
                    ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                    ("FONTSIZE", (0, 1), (-1, 1), 12),
                    ("TOPPADDING", (0, 1), (-1, 1), 6),
                    ("BOTTOMPADDING", (0, 1), (-1, 1), 6),
                ]
            )
        )
        story.append(kpis)
        story.append(Spacer(1, 6 * mm))

        story.append(Paragraph("Vendas por hora (R$)", styles["Heading2"]))
        hours = rep.busy_hours()
        values = [float(b.total) for b in hours]
        drawing = Drawing(175 * mm, 75 * mm)
        chart = VerticalBarChart()
        chart.x, chart.y = 18 * mm, 12 * mm
        chart.width, chart.height = 152 * mm, 55 * mm
        chart.data = [values]
        chart.categoryAxis.categoryNames = [f"{b.hora:02d}h" for b in hours]
        chart.categoryAxis.labels.fontSize = 7
        chart.valueAxis.valueMin = 0
        top = max(values) if values and max(values) > 0 else 10.0
        step = _nice_step(top / 5)
        chart.valueAxis.valueMax = step * (int(top / step) + 1)
        chart.valueAxis.valueStep = step
        chart.valueAxis.labels.fontSize = 7
        chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}".replace(",", ".")
        chart.bars[0].fillColor = colors.HexColor("#2f6db5")
        chart.bars[0].strokeColor = None
        chart.barSpacing = 1
        drawing.add(chart)
        for i, b in enumerate(hours):  # count of sales above each bar
            if b.vendas:
                x = chart.x + chart.width * (i + 0.5) / len(hours)
                y = chart.y + chart.height * float(b.total) / chart.valueAxis.valueMax + 2
                drawing.add(
                    String(x, y, str(b.vendas), fontSize=7, textAnchor="middle", fillColor=colors.black)
                )
        drawing.add(
            String(
                chart.x,
                2 * mm,
                "Número acima da barra: quantidade de vendas na hora.",
                fontSize=7,
                fillColor=colors.grey,
            )
        )
        story.append(drawing)
        story.append(Spacer(1, 4 * mm))

        if rep.por_modelo:
            story.append(Paragraph("Por documento fiscal", styles["Heading2"]))
            mrows: list[list[str]] = [["Documento", "Vendas", "Valor"]]
            for modelo, (n, total) in sorted(rep.por_modelo.items()):
                mrows.append(
                    ["NF-e (modelo 55)" if modelo == 55 else "NFC-e (modelo 65)", str(n), format_brl(total)]
                )
            mt = Table(mrows, colWidths=[80 * mm, 25 * mm, 45 * mm], hAlign="LEFT")
            mt.setStyle(TableStyle(grid.getCommands()))
            story.append(mt)
            story.append(Spacer(1, 4 * mm))

        story.append(Paragraph("Por forma de pagamento", styles["Heading2"]))
        rows: list[list[str]] = [["Forma", "Valor", "%"]]
        for forma, total in sorted(rep.por_forma.items(), key=lambda kv: -kv[1]):
            share = f"{(total / rep.total * 100):.1f}%".replace(".", ",") if rep.total else "—"
            rows.append([PAYMENT_METHODS.get(forma, forma), format_brl(total), share])
        if len(rows) == 1:
            rows.append(["Nenhuma venda", "—", "—"])
        rows.append(["Total", format_brl(rep.total), ""])
        t = Table(rows, colWidths=[80 * mm, 45 * mm, 25 * mm], hAlign="LEFT")
        t.setStyle(TableStyle([*grid.getCommands(), ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold")]))
        story.append(t)

        story.append(Paragraph("Cancelamentos", styles["Heading2"]))
        if rep.canceladas:
            rows = [["Referência", "Número/série", "Hora", "Valor"]]
            rows += [
                [
                    c["ref"],
                    f"{c['numero'] or '—'}/{c['serie'] or '—'}",
                    c["hora"],
                    format_brl(Decimal(c["valor"])),
                ]
                for c in rep.canceladas
            ]
            t = Table(rows, colWidths=[60 * mm, 35 * mm, 20 * mm, 35 * mm], hAlign="LEFT")
            t.setStyle(grid)
            story.append(t)
        else:
            story.append(Paragraph("Nenhuma NFC-e cancelada no dia.", styles["Normal"]))

        story.append(Paragraph("Contingência (situação agora)", styles["Heading2"]))
        bl = rep.backlog
        oldest = bl.get("mais_antiga_minutos")
        rows = [
            ["Situação", "Quantidade"],
            ["Aguardando transmissão", str(bl.get("contingencia_pendentes", 0))],
            ["Precisa de correção", str(bl.get("contingencia_com_erro", 0))],
            ["Tentativas a reconciliar", str(bl.get("em_duvida", 0))],
            ["Aguardando conexão", str(bl.get("aguardando_conexao", 0))],
            ["Mais antiga pendente", "—" if oldest is None else f"{oldest} min"],
        ]
        t = Table(rows, colWidths=[80 * mm, 45 * mm], hAlign="LEFT")
        t.setStyle(grid)
        story.append(t)

        doc = SimpleDocTemplate(
            str(target),
            pagesize=A4,
            leftMargin=15 * mm,
            rightMargin=15 * mm,
            topMargin=15 * mm,
            bottomMargin=15 * mm,
            title=f"Relatório {rep.dia:%d/%m/%Y}",
            author="pos-app",
        )
        doc.build(story)
        return target


def _nice_step(raw: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at least ``raw``."""
    if raw <= 0:
        return 1.0
    power = 10 ** len(str(int(raw))) / 10
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power
