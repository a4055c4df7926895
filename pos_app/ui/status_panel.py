"""The status bar: link, contingency backlog and its age, replay progress, printer, operator."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QStatusBar, QWidget

from pos_app.ui import theme
from pos_app.ui.i18n import tr


def _age(minutes: int) -> str:
    if minutes < 60:
        return tr("{m} min").format(m=minutes)
    return tr("{h}h{m:02d}").format(h=minutes // 60, m=minutes % 60)


def _chip(label: QLabel, text: str, background: str | None, foreground: str = "white") -> None:
    label.setText(text)
    if background:
        label.setStyleSheet(
            f"background: {background}; color: {foreground}; border-radius: 4px; "
            "padding: 2px 8px; font-weight: bold;"
        )
    else:
        label.setStyleSheet("color: white; padding: 2px 8px;")


class StatusPanel:
    """Fills a ``QStatusBar`` with permanent labels; setters are called on the GUI thread."""

    def __init__(self, bar: QStatusBar, parent: QWidget | None = None) -> None:
        self.bar = bar
        bar.setSizeGripEnabled(False)
        self.link = QLabel()
        self.link.setObjectName("statusLink")
        self.backlog = QLabel()
        self.backlog.setObjectName("statusBacklog")
        self.replay = QLabel()
        self.replay.setObjectName("statusReplay")
        self.training = QLabel()
        self.training.setObjectName("statusTraining")
        self.printer = QLabel()
        self.printer.setObjectName("statusPrinter")
        self.operator = QLabel()
        self.operator.setObjectName("statusOperator")
        self.environment = QLabel()
        self.environment.setObjectName("statusEnvironment")
        self.cash = QLabel()
        self.cash.setObjectName("statusCash")
        self.store = QLabel()
        self.store.setObjectName("statusStore")
        # One row laid out by us (QStatusBar would squeeze the first chips to nothing).
        strip = QWidget()
        strip.setObjectName("statusStrip")
        row = QHBoxLayout(strip)
        row.setContentsMargins(2, 0, 2, 0)
        row.setSpacing(6)
        for w in (
            self.environment,
            self.cash,
            self.link,
            self.store,
            self.backlog,
            self.replay,
            self.training,
        ):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.printer)
        row.addWidget(self.operator)
        bar.addWidget(strip, 1)
        self.set_link(None)
        self.set_store(None)
        self.set_backlog(None)
        self.set_replay(None)
        self.set_training([])
        self.set_printer(None, tr("Impressora: verificando…"))
        self.set_operator(None)
        self.set_cash(None)

    def set_cash(self, is_open: bool | None) -> None:
        """Cash session of this terminal: open (sales allowed) or closed."""
        if is_open is None:
            self.cash.setVisible(False)
            return
        self.cash.setVisible(True)
        if is_open:
            _chip(self.cash, tr("Caixa aberto"), theme.GREEN)
        else:
            _chip(self.cash, tr("Caixa fechado"), theme.RED)
        self.cash.setProperty("open", is_open)

    def set_environment(self, ambiente: str) -> None:
        if ambiente == "producao":
            _chip(self.environment, tr("PRODUÇÃO"), None)
        elif ambiente == "sandbox":
            _chip(self.environment, tr("DEMONSTRAÇÃO"), theme.RED)
        else:
            _chip(self.environment, tr("HOMOLOGAÇÃO"), theme.RED)

    def set_link(self, online: bool | None) -> None:
        if online is True:
            _chip(self.link, tr("● Online"), theme.GREEN)
        elif online is False:
            _chip(self.link, tr("● Offline"), theme.RED)
        else:
            _chip(self.link, tr("● Verificando…"), theme.GREY)

    def set_store(self, data: dict[str, Any] | None) -> None:
        """The store database (loja.banco): hidden when the terminal works alone."""
        if not data or not data.get("configurado"):
            self.store.hide()
            return
        self.store.show()
        pending = int(data.get("pendentes_envio") or 0)
        if data.get("online"):
            text = tr("Loja: conectada") + (f" ({pending} a enviar)" if pending else "")
            _chip(self.store, text, theme.GREEN)
        else:
            _chip(self.store, tr("Loja: FORA DO AR") + f" ({pending} a enviar)", theme.RED)
        self.store.setToolTip(data.get("erro") or "")

    def set_backlog(self, data: dict[str, Any] | None) -> None:
        if data is not None and "loja" in data:
            self.set_store(data["loja"])
        if data is None:
            _chip(self.backlog, tr("Contingência: —"), None)
            return
        pending = int(data.get("contingencia_pendentes") or 0)
        errors = int(data.get("contingencia_com_erro") or 0)
        waiting = int(data.get("aguardando_conexao") or 0)
        minutes = data.get("mais_antiga_minutos")
        level = data.get("alerta") or "ok"
        if not pending and not errors and not waiting:
            _chip(self.backlog, tr("Contingência: em dia"), None)
            return
        parts = []
        if pending:
            parts.append(tr("1 pendente") if pending == 1 else tr("{n} pendentes").format(n=pending))
        if waiting:
            parts.append(tr("{n} aguardando").format(n=waiting))
        if errors:
            parts.append(tr("{n} com erro").format(n=errors))
        text = tr("Contingência: ") + ", ".join(parts)
        if minutes is not None:
            text += tr(" (há {idade})").format(idade=_age(int(minutes)))
        if level in ("critico", "vencido") or errors:
            _chip(self.backlog, text, theme.RED)
        elif level == "atencao":
            _chip(self.backlog, text, theme.AMBER, theme.INK)
        else:
            _chip(self.backlog, text, "#455a64")
        self.backlog.setProperty("level", level)

    def set_replay(self, progress: tuple[int, int] | None) -> None:
        if progress is None:
            self.replay.setText("")
            self.replay.setVisible(False)
            return
        n, total = progress
        text = tr("Transmitindo…") if total <= 0 else tr("Transmitindo {n}/{t}").format(n=n, t=total)
        _chip(self.replay, text, theme.BLUE)
        self.replay.setVisible(True)

    def set_training(self, faults: list[str]) -> None:
        if not faults:
            self.training.setVisible(False)
            return
        _chip(self.training, tr("TREINO: ") + ", ".join(faults), theme.AMBER, theme.INK)
        self.training.setVisible(True)

    def set_printer(self, ok: bool | None, text: str, detail: str | None = None) -> None:
        self.printer.setToolTip(detail or text)
        short = text if len(text) <= 60 else text[:57].rstrip() + "…"
        _chip(self.printer, short, theme.RED if ok is False else None)

    def set_operator(self, name: str | None) -> None:
        _chip(self.operator, tr("Operador: {nome}").format(nome=name) if name else tr("Operador: —"), None)
        self.operator.setToolTip(self.operator.text())
