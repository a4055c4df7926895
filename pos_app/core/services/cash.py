"""Cash sessions: opening float, sangria (cash out) and suprimento (cash in) with a reason, closing
with counted vs expected per payment method, partial (X) and closing reports.

Expected per method = payments of the session's sales that were not cancelled; for cash also the
opening float + suprimentos - sangrias - troco given. A sale in the window needs an open session;
the headless ``pos-app sell`` uses the open one or opens one with zero float and records that.
Closing is refused while a sale of the session has no fiscal document yet (pending emission).
Reports are layout blocks of ``core.printing.receipt`` (thermal printer) and PDF.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.money import format_brl, to_money
from pos_app.core.domain.payments import PAYMENT_METHODS
from pos_app.core.domain.validators import format_cnpj
from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.document_status import DocumentStatus as S
from pos_app.core.printing.pdf import render_layout_pdf_bytes
from pos_app.core.printing.receipt import Block, Columns, Cut, Separator, Spacer, Text
from pos_app.core.services.audit import OK, REFUSED, AuditLog
from pos_app.core.services.users import ManagerError
from pos_app.core.store.db import iso

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User

CASH = "01"
# The sale has no fiscal document yet: the drawer cannot be closed over it.
PENDING_EMISSION = ds.EMISSION_PENDING
CONTINGENCY_OPEN = ds.CONTINGENCY_OPEN
_CURRENT_DOC = "(SELECT max(id) FROM fiscal_documents WHERE sale_id = s.id)"
ZERO = Decimal("0.00")


@dataclass
class MethodLine:
    forma: str
    recebido: Decimal = ZERO  # payments of valid sales (cash: before troco)
    esperado: Decimal = ZERO
    contado: Decimal | None = None

    @property
    def descricao(self) -> str:
        return PAYMENT_METHODS.get(self.forma, self.forma)

    @property
    def diferenca(self) -> Decimal | None:
        return None if self.contado is None else to_money(self.contado - self.esperado)

    def to_json(self) -> dict[str, Any]:
        dif = self.diferenca
        return {
            "forma": self.forma,
            "descricao": self.descricao,
            "recebido": f"{self.recebido:.2f}",
            "esperado": f"{self.esperado:.2f}",
            "contado": None if self.contado is None else f"{self.contado:.2f}",
            "diferenca": None if dif is None else f"{dif:.2f}",
        }


@dataclass
class CashSummary:
    session: dict[str, Any]
    emitido_em: datetime
    fechamento: bool
    vendas: int = 0
    total_vendas: Decimal = ZERO
    canceladas: int = 0
    total_canceladas: Decimal = ZERO
    troco: Decimal = ZERO
    suprimentos: Decimal = ZERO
    sangrias: Decimal = ZERO
    movimentos: list[dict[str, Any]] = field(default_factory=list)
    formas: dict[str, MethodLine] = field(default_factory=dict)
    pendentes_emissao: list[str] = field(default_factory=list)
    contingencia_pendente: int = 0
    aberto_por: str | None = None
    fechado_por: str | None = None
    observacao: str | None = None

    @property
    def id(self) -> int:
        return int(self.session["id"])

    @property
    def fundo(self) -> Decimal:
        return Decimal(self.session["opening_float"])

    @property
    def ticket_medio(self) -> Decimal:
        return to_money(self.total_vendas / self.vendas) if self.vendas else ZERO

    @property
    def diferenca_total(self) -> Decimal | None:
        diffs = [m.diferenca for m in self.formas.values() if m.diferenca is not None]
        return to_money(sum(diffs, ZERO)) if diffs else None

    def to_json(self) -> dict[str, Any]:
        dif = self.diferenca_total
        return {
            "caixa": self.id,
            "status": self.session["status"],
            "terminal": self.session["terminal_id"],
            "aberto_em": self.session["opened_at"],
            "aberto_por": self.aberto_por,
            "abertura_automatica": bool(self.session["auto_opened"]),
            "fechado_em": self.session["closed_at"],
            "fechado_por": self.fechado_por,
            "relatorio": "fechamento" if self.fechamento else "parcial (X)",
            "emitido_em": iso(self.emitido_em),
            "fundo_de_troco": f"{self.fundo:.2f}",
            "vendas": self.vendas,
            "total_vendas": f"{self.total_vendas:.2f}",
            "ticket_medio": f"{self.ticket_medio:.2f}",
            "canceladas": self.canceladas,
            "total_canceladas": f"{self.total_canceladas:.2f}",
            "troco": f"{self.troco:.2f}",
            "suprimentos": f"{self.suprimentos:.2f}",
            "sangrias": f"{self.sangrias:.2f}",
            "movimentos": self.movimentos,
            "formas": [m.to_json() for m in self.formas.values()],
            "diferenca_total": None if dif is None else f"{dif:.2f}",
            "pendentes_emissao": self.pendentes_emissao,
            "contingencia_pendente": self.contingencia_pendente,
            "observacao": self.observacao,
        }


class CashService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.db = ctx.store.database
        self.audit = AuditLog(ctx.store)

    # -- sessions ---------------------------------------------------------------------------
    def current(self) -> dict[str, Any] | None:
        return self.db.query_one(
            "SELECT * FROM cash_sessions WHERE terminal_id = ? AND status = 'aberto'",
            [self.ctx.config.terminal_id],
        )

    def get(self, session_id: int) -> dict[str, Any]:
        row = self.db.query_one("SELECT * FROM cash_sessions WHERE id = ?", [session_id])
        if row is None:
            raise ManagerError(f"Caixa {session_id} não encontrado.", field="caixa")
        return row

    def sessions(self, limit: int = 50) -> list[dict[str, Any]]:
        return self.db.query("SELECT * FROM cash_sessions ORDER BY id DESC LIMIT ?", [limit])

    def require_open(self) -> dict[str, Any]:
        """The open session; for the window, which must not sell without one."""
        session = self.current()
        if session is None:
            raise ManagerError(
                "Caixa fechado: abra o caixa (Gerente > Caixa > Abrir) antes de vender.", field="caixa"
            )
        return session

    def sale_extra(self) -> dict[str, Any]:
        """``extra`` for ``EmissionService.checkout`` in the window (raises when no session is open)."""
        return {"cash_session_id": int(self.require_open()["id"])}

    def open(
        self, user: User | None, fundo: Decimal, now: datetime | None = None, *, auto: bool = False
    ) -> dict[str, Any]:
        now = now or self.ctx.now()
        fundo = to_money(fundo)
        if fundo < 0:
            raise ManagerError("O fundo de troco não pode ser negativo.", field="valor")
        already = self.current()
        if already is not None:
            raise ManagerError(
                f"Já existe um caixa aberto neste terminal (nº {already['id']}).", field="caixa"
            )
        with self.store.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO cash_sessions (terminal_id, status, opened_at, opened_by, opening_float, auto_opened) "
                "VALUES (?, 'aberto', ?, ?, ?, ?)",
                [self.ctx.config.terminal_id, iso(now), user.id if user else None, str(fundo), int(auto)],
            )
            session_id = int(cur.lastrowid or 0)
        self.audit.record(
            "caixa_abertura_automatica" if auto else "caixa_abertura",
            user=user,
            target=f"caixa {session_id}",
            outcome=OK,
            now=now,
            reason="venda sem interface sem caixa aberto" if auto else None,
            details={"fundo_de_troco": f"{fundo:.2f}"},
        )
        return self.get(session_id)

    def session_for_headless_sale(self, operador_id: int | None = None, now: datetime | None = None) -> int:
        """Open session id; opens one with zero float (recorded as automatic) when there is none."""
        session = self.current()
        if session is None:
            user = self.store.users.get(operador_id) if operador_id else None
            session = self.open(user, ZERO, now, auto=True)
        return int(session["id"])

    def move(
        self, kind: str, valor: Decimal, motivo: str, user: User, now: datetime | None = None
    ) -> dict[str, Any]:
        """Sangria (cash out) or suprimento (cash in) with a reason."""
        now = now or self.ctx.now()
        if kind not in ("sangria", "suprimento"):
            raise ManagerError("Movimento deve ser sangria ou suprimento.", field="tipo")
        motivo = " ".join((motivo or "").split())
        if len(motivo) < 3:
            raise ManagerError(f"Informe o motivo da {kind}.", field="motivo")
        valor = to_money(valor)
        if valor <= 0:
            raise ManagerError(f"O valor da {kind} deve ser maior que zero.", field="valor")
        session = self.require_open()
        if kind == "sangria":
            available = self.summary(int(session["id"]), now).formas[CASH].esperado
            if valor > available:
                self.audit.record(
                    "caixa_sangria",
                    user=user,
                    target=f"caixa {session['id']}",
                    reason=motivo,
                    outcome=REFUSED,
                    details={"valor": f"{valor:.2f}", "disponivel": f"{available:.2f}"},
                    now=now,
                )
                raise ManagerError(
                    f"Sangria de {format_brl(valor)} maior que o dinheiro esperado na gaveta "
                    f"({format_brl(available)}).",
                    field="valor",
                )
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO cash_movements (session_id, kind, valor, motivo, user_id, at) VALUES (?,?,?,?,?,?)",
                [session["id"], kind, str(valor), motivo, user.id, iso(now)],
            )
        self.audit.record(
            f"caixa_{kind}",
            user=user,
            target=f"caixa {session['id']}",
            reason=motivo,
            outcome=OK,
            details={"valor": f"{valor:.2f}"},
            now=now,
        )
        return {"caixa": session["id"], "tipo": kind, "valor": f"{valor:.2f}", "motivo": motivo}

    def close(
        self,
        counted: dict[str, Decimal],
        user: User,
        now: datetime | None = None,
        observacao: str | None = None,
    ) -> CashSummary:
        """Close the open session with the counted amounts (``forma`` code -> value)."""
        now = now or self.ctx.now()
        session = self.require_open()
        summary = self.summary(int(session["id"]), now)
        if summary.pendentes_emissao:
            self.audit.record(
                "caixa_fechamento",
                user=user,
                target=f"caixa {session['id']}",
                outcome=REFUSED,
                details={"pendentes_emissao": summary.pendentes_emissao},
                now=now,
            )
            raise ManagerError(
                "Fechamento recusado: venda(s) ainda sem NFC-e emitida: "
                + ", ".join(summary.pendentes_emissao)
                + ". Aguarde a emissão (ou rode 'pos-app sync' com a conexão de volta) e tente de novo.",
                field="caixa",
            )
        if CASH not in counted:
            raise ManagerError("Informe o dinheiro contado na gaveta.", field="contado")
        for forma, value in counted.items():
            if forma not in PAYMENT_METHODS:
                raise ManagerError(f"Forma de pagamento desconhecida: {forma}", field="contado")
            if value < 0:
                raise ManagerError("Valor contado não pode ser negativo.", field="contado")
            line = summary.formas.setdefault(forma, MethodLine(forma))
            line.contado = to_money(value)
        summary.fechamento = True
        summary.observacao = observacao
        closing = {
            "formas": [m.to_json() for m in summary.formas.values()],
            "diferenca_total": f"{summary.diferenca_total or ZERO:.2f}",
            "observacao": observacao,
        }
        with self.store.transaction() as tx:
            tx.execute(
                "UPDATE cash_sessions SET status = 'fechado', closed_at = ?, closed_by = ?, closing = ? "
                "WHERE id = ? AND status = 'aberto'",
                [iso(now), user.id, json.dumps(closing, ensure_ascii=False), session["id"]],
            )
        summary.session = self.get(int(session["id"]))
        summary.fechado_por = user.nome
        self.audit.record(
            "caixa_fechamento",
            user=user,
            target=f"caixa {session['id']}",
            reason=observacao,
            outcome=OK,
            details=closing,
            now=now,
        )
        return summary

    # -- figures ----------------------------------------------------------------------------
    def summary(self, session_id: int | None = None, now: datetime | None = None) -> CashSummary:
        """Figures of a session (the open one by default): partial while open, final once closed."""
        now = now or self.ctx.now()
        session = self.get(session_id) if session_id is not None else self.require_open()
        sid = int(session["id"])
        s = CashSummary(session=session, emitido_em=now, fechamento=session["status"] == "fechado")
        s.formas[CASH] = MethodLine(CASH)
        for name, col in (("aberto_por", "opened_by"), ("fechado_por", "closed_by")):
            if session[col]:
                u = self.store.users.get(int(session[col]))
                setattr(s, name, u.nome if u else None)
        sales = self.db.query(
            f"SELECT s.id, s.valor_total, s.troco, d.status, d.ref FROM sales s JOIN fiscal_documents d "
            f"ON d.id = {_CURRENT_DOC} WHERE s.cash_session_id = ? ORDER BY s.id",
            [sid],
        )
        valid_ids = []
        for sale in sales:
            if sale["status"] == S.CANCELADO:
                s.canceladas += 1
                s.total_canceladas += Decimal(sale["valor_total"])
                continue
            valid_ids.append(int(sale["id"]))
            s.vendas += 1
            s.total_vendas += Decimal(sale["valor_total"])
            s.troco += Decimal(sale["troco"])
            if sale["status"] in PENDING_EMISSION:
                s.pendentes_emissao.append(sale["ref"])
            elif sale["status"] in CONTINGENCY_OPEN:
                s.contingencia_pendente += 1
        if valid_ids:
            marks = ", ".join("?" for _ in valid_ids)
            for p in self.db.query(
                f"SELECT forma, valor FROM payments WHERE sale_id IN ({marks})", valid_ids
            ):
                line = s.formas.setdefault(p["forma"], MethodLine(p["forma"]))
                line.recebido += Decimal(p["valor"])
        for m in self.db.query(
            "SELECT m.*, u.nome FROM cash_movements m LEFT JOIN users u ON u.id = m.user_id "
            "WHERE session_id = ? ORDER BY m.id",
            [sid],
        ):
            valor = Decimal(m["valor"])
            if m["kind"] == "sangria":
                s.sangrias += valor
            else:
                s.suprimentos += valor
            s.movimentos.append(
                {
                    "tipo": m["kind"],
                    "valor": f"{valor:.2f}",
                    "motivo": m["motivo"],
                    "quando": m["at"],
                    "por": m["nome"],
                }
            )
        for line in s.formas.values():
            line.esperado = to_money(line.recebido)
        cash = s.formas[CASH]
        cash.esperado = to_money(s.fundo + cash.recebido - s.troco + s.suprimentos - s.sangrias)
        if s.fechamento and session["closing"]:
            closing = json.loads(session["closing"])
            s.observacao = closing.get("observacao")
            for item in closing.get("formas", []):
                line = s.formas.setdefault(item["forma"], MethodLine(item["forma"]))
                if item.get("contado") is not None:
                    line.contado = Decimal(item["contado"])
        return s

    # -- reports ----------------------------------------------------------------------------
    def report_blocks(self, s: CashSummary, columns: int = 48) -> list[Block]:
        """The X (partial) or closing report as printer layout blocks (same model as the DANFCe)."""
        emitente = self.ctx.emitente()
        tz = self.ctx.now().tzinfo
        out: list[Block] = []

        def pair(left: str, right: str, bold: bool = False) -> None:
            if len(left) + 1 + len(right) > columns:
                left = left[: max(columns - len(right) - 2, 1)] + "."
            out.append(Columns(left, right, bold=bold))

        def when(text: str | None) -> str:
            if not text:
                return "—"
            return datetime.fromisoformat(text).astimezone(tz).strftime("%d/%m/%Y %H:%M")

        title = "FECHAMENTO DE CAIXA" if s.fechamento else "RELATÓRIO X - PARCIAL"
        out.append(Text(title, "center", bold=True, size="tall"))
        for line in _wrap(emitente.nome_fantasia or emitente.razao_social, columns):
            out.append(Text(line, "center"))
        out.append(Text(f"CNPJ {format_cnpj(emitente.cnpj)}", "center"))
        out.append(Separator())
        pair(f"Caixa nº {s.id}", f"Terminal {s.session['terminal_id']}")
        pair("Abertura", when(s.session["opened_at"]))
        out.append(
            Text(f"  por {s.aberto_por or '—'}" + (" (automática)" if s.session["auto_opened"] else ""))
        )
        if s.fechamento:
            pair("Fechamento", when(s.session["closed_at"]))
            out.append(Text(f"  por {s.fechado_por or '—'}"))
        pair("Emitido em", s.emitido_em.astimezone(tz).strftime("%d/%m/%Y %H:%M"))
        out.append(Separator())
        pair(f"Vendas ({s.vendas})", format_brl(s.total_vendas), bold=True)
        pair("Ticket médio", format_brl(s.ticket_medio))
        pair(f"Canceladas ({s.canceladas})", format_brl(s.total_canceladas))
        out.append(Separator())
        out.append(Text("RECEBIMENTOS POR FORMA", bold=True))
        for method in s.formas.values():
            pair(method.descricao, format_brl(method.recebido))
        pair("Troco devolvido", format_brl(-s.troco))
        from pos_app.core.domain.payments import PAYMENT_GROUPS

        groups: dict[str, Decimal] = {}
        for method in s.formas.values():
            group = PAYMENT_GROUPS.get(method.forma, "Outros")
            groups[group] = groups.get(group, Decimal(0)) + method.recebido
        if groups.get("PIX"):
            out.append(Text("TOTAIS POR GRUPO", bold=True))
            for group in ("Dinheiro", "Cartões", "PIX", "Outros"):
                pair(group, format_brl(groups.get(group, Decimal(0))))
        out.append(Separator())
        out.append(Text("MOVIMENTOS DE CAIXA", bold=True))
        pair("Fundo de troco", format_brl(s.fundo))
        for m in s.movimentos:
            sign = Decimal(-1) if m["tipo"] == "sangria" else Decimal(1)
            pair(f"{m['tipo'].capitalize()} {when(m['quando'])[-5:]}", format_brl(sign * Decimal(m["valor"])))
            for line in _wrap(f"motivo: {m['motivo']}", columns - 2):
                out.append(Text("  " + line))
        pair("Total suprimentos", format_brl(s.suprimentos))
        pair("Total sangrias", format_brl(-s.sangrias))
        out.append(Separator())
        out.append(Text("CONFERÊNCIA" if s.fechamento else "ESPERADO NA GAVETA E POR FORMA", bold=True))
        for method in s.formas.values():
            out.append(Text(method.descricao, bold=True))
            pair("  Esperado", format_brl(method.esperado))
            if s.fechamento:
                if method.contado is None:
                    pair("  Contado", "não conferido")
                else:
                    pair("  Contado", format_brl(method.contado))
                    dif = method.diferenca or ZERO
                    label = "  Diferença" + (" (sobra)" if dif > 0 else " (falta)" if dif < 0 else "")
                    pair(label, format_brl(dif), bold=bool(dif))
        if s.fechamento and s.diferenca_total is not None:
            out.append(Separator("="))
            pair("DIFERENÇA TOTAL", format_brl(s.diferenca_total), bold=True)
        out.append(Separator())
        if s.pendentes_emissao:
            for line in _wrap(f"Vendas sem NFC-e emitida: {len(s.pendentes_emissao)}", columns):
                out.append(Text(line, bold=True))
        if s.contingencia_pendente:
            for line in _wrap(f"NFC-e em contingência a transmitir: {s.contingencia_pendente}", columns):
                out.append(Text(line))
        if s.observacao:
            for line in _wrap(f"Obs.: {s.observacao}", columns):
                out.append(Text(line))
        if s.fechamento:
            out.append(Spacer(2))
            out.append(Text("_" * min(columns, 32), "center"))
            out.append(Text("Operador", "center"))
            out.append(Spacer(2))
            out.append(Text("_" * min(columns, 32), "center"))
            out.append(Text("Gerente", "center"))
        out.append(Cut())
        return out

    def report_pdf(self, s: CashSummary, path: str | Path, width_mm: int | None = None) -> Path:
        width = width_mm or int(self.ctx.config.get("impressora.largura_mm") or 80)
        columns = 48 if width == 80 else 32
        data = render_layout_pdf_bytes(
            [self.report_blocks(s, columns)],
            width,
            columns,
            title=f"Caixa {s.id} - {'fechamento' if s.fechamento else 'relatório X'}",
        )
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        return target

    def print_report(self, s: CashSummary) -> tuple[bool, str]:
        """Print the report on the thermal printer (or save the PDF when the terminal is "PDF only").
        Never raises: (ok, Portuguese message)."""
        from pos_app.core.printing import escpos
        from pos_app.core.services.printing import PrintService

        try:
            service = PrintService(self.ctx)
            settings = service.settings()
            if settings.kind == "pdf":
                path = self.report_pdf(s, self.default_report_path(s), settings.width_mm)
                return True, f"Sem impressora térmica configurada: relatório salvo em {path}"
            blocks = self.report_blocks(s, settings.columns)
            printer = service.printer(settings)
            printer.send(
                escpos.render_layouts([blocks], settings.profile, settings.columns, settings.code_page)
            )
            return True, f"Relatório enviado para {printer.description}."
        except Exception as exc:  # noqa: BLE001 - printing failures are reported, never raised
            return False, f"Falha ao imprimir o relatório: {exc}"

    def default_report_path(self, s: CashSummary) -> Path:
        folder = self.ctx.data_dir / "relatorios" / "caixa"
        kind = "fechamento" if s.fechamento else "x"
        return folder / f"caixa-{s.id:05d}-{kind}-{s.emitido_em:%Y%m%d-%H%M%S}.pdf"


def _wrap(text: str, width: int) -> list[str]:
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines or [""]
