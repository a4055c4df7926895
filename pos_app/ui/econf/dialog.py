"""The manager's ECONF list: what waits, was rejected (SEFAZ's message), is in doubt or registered, and
the actions of ``pos-app econf`` (send now, send again on purpose, mark as registered, cancel)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.domain.money import format_brl
from pos_app.ui import theme
from pos_app.ui.i18n import tr
from pos_app.ui.worker import run_in_worker

SENDABLE = ("avaliar", "pendente", "rejeitado")


class EconfDialog(QDialog):
    def __init__(self, ctx: Any, manager: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from pos_app.core.services.econf import EconfService

        self.setObjectName("econfDialog")
        self.setWindowTitle(tr("Conciliação financeira (ECONF)"))
        self.resize(860, 460)
        self.service = EconfService(ctx)
        self.manager = manager
        self.rows: list[dict[str, Any]] = []
        self.last_message = ""
        root = QVBoxLayout(self)
        title = QLabel(tr("Conciliação financeira (ECONF) — pagamentos cartão/PIX vinculados à nota"))
        theme.set_role(title, "title")
        title.setWordWrap(True)  # whole at 1024x768
        root.addWidget(title)
        self.list = QListWidget()
        self.list.setObjectName("econfList")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.currentRowChanged.connect(lambda _row: self._enable())
        root.addWidget(self.list, 1)
        self.hint = QLabel("")
        self.hint.setObjectName("econfHint")
        self.hint.setWordWrap(True)
        root.addWidget(self.hint)
        proto_row = QHBoxLayout()
        proto_row.addWidget(QLabel(tr("Protocolo visto no painel da Focus NFe:")))
        self.protocolo = QLineEdit()
        self.protocolo.setObjectName("econfProtocolo")
        self.protocolo.setMaxLength(15)
        self.protocolo.setPlaceholderText(tr("15 dígitos"))
        self.protocolo.textChanged.connect(lambda _text: self._enable())
        proto_row.addWidget(self.protocolo, 1)
        root.addLayout(proto_row)
        self.status = QLabel(tr("Carregando..."))
        self.status.setObjectName("econfStatus")
        self.status.setWordWrap(True)
        root.addWidget(self.status)
        buttons = QHBoxLayout()
        close = QPushButton(tr("Fechar"))
        close.clicked.connect(self.reject)
        self.send_button = QPushButton(tr("Enviar agora"))
        self.send_button.setObjectName("econfSend")
        self.send_button.clicked.connect(lambda: self._send(False))
        self.force_button = QPushButton(tr("Enviar mesmo assim"))
        self.force_button.setObjectName("econfForce")
        self.force_button.clicked.connect(lambda: self._send(True))
        self.mark_button = QPushButton(tr("Marcar como registrado"))
        self.mark_button.setObjectName("econfMark")
        self.mark_button.clicked.connect(self._mark)
        self.cancel_button = QPushButton(tr("Cancelar ECONF"))
        self.cancel_button.setObjectName("econfCancel")
        self.cancel_button.clicked.connect(self._cancel)
        buttons.addWidget(close)
        buttons.addStretch(1)
        for b in (self.send_button, self.force_button, self.mark_button, self.cancel_button):
            buttons.addWidget(b)
        theme.set_role(self.send_button, "primary")
        root.addLayout(buttons)
        self._enable()
        self.reload()

    # -- list -----------------------------------------------------------------------------------
    def reload(self) -> None:
        def job() -> tuple[list[dict[str, Any]], list[str]]:
            return self.service.listing(), self.service.manager_lines()

        run_in_worker(job, on_result=self._show, on_error=lambda e: self.status.setText(str(e)))

    def _show(self, data: tuple[list[dict[str, Any]], list[str]]) -> None:
        rows, lines = data
        current = self.selected()
        self.rows = rows
        self.list.clear()
        for r in rows:
            total = sum(
                (Decimal(str(d.get("valor_pagamento") or 0)) for d in r["detalhes"] or []), Decimal(0)
            )
            parts = [r["ref"], r["situacao"]]
            if r["detalhes"]:
                parts.append(format_brl(total))
            if r["numero_protocolo"]:
                parts.append(tr("protocolo {p}").format(p=r["numero_protocolo"]))
            if r["mensagem_sefaz"] and r["status"] != "registrado":
                parts.append(f"SEFAZ {r['status_sefaz'] or ''}: {r['mensagem_sefaz']}")
            if r["erro"] and r["status"] == "em_duvida":
                parts.append(r["erro"])
            self.list.addItem("  ·  ".join(parts))
        index = next((i for i, r in enumerate(rows) if current and r["id"] == current["id"]), 0)
        if rows:
            self.list.setCurrentRow(index)
        summary = (
            tr("{n} evento(s).").format(n=len(rows))
            if rows
            else tr("Nenhum evento de conciliação financeira.")
        )
        self.status.setText(" ".join(x for x in (self.last_message, summary) if x))
        self.hint.setText("\n".join(_window_wording(line) for line in lines))
        self._enable()

    def selected(self) -> dict[str, Any] | None:
        i = self.list.currentRow()
        return self.rows[i] if 0 <= i < len(self.rows) else None

    def _enable(self) -> None:
        row = self.selected()
        status = row["status"] if row else None
        ok = self.manager is not None
        self.send_button.setEnabled(ok and status in SENDABLE)
        self.force_button.setEnabled(ok and status == "em_duvida")
        self.mark_button.setEnabled(ok and status == "em_duvida" and len(self.protocolo.text().strip()) == 15)
        self.cancel_button.setEnabled(ok and status == "registrado")

    # -- actions --------------------------------------------------------------------------------
    def _run(
        self, busy: str, fn: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], str]
    ) -> None:
        for b in (self.send_button, self.force_button, self.mark_button, self.cancel_button):
            b.setEnabled(False)
        self.status.setText(busy)

        def ok(result: dict[str, Any]) -> None:
            self.last_message = done(result)
            self.reload()

        def failed(exc: BaseException) -> None:
            self.last_message = tr("Não feito: {e}").format(e=exc)
            self.reload()

        run_in_worker(lambda: fn(), on_result=ok, on_error=failed)

    def _send(self, mesmo_assim: bool) -> None:
        row = self.selected()
        if row is None:
            return
        ref = row["ref"]

        def done(r: dict[str, Any]) -> str:
            if r["status"] == "registrado":
                return tr("ECONF da nota {ref} registrado (protocolo {p}).").format(
                    ref=ref, p=r["numero_protocolo"]
                )
            if r["status"] == "em_duvida":
                return tr("ECONF da nota {ref} sem confirmação da API.").format(ref=ref)
            return tr("ECONF da nota {ref} rejeitado — {c}: {m}").format(
                ref=ref, c=r["status_sefaz"] or "", m=r["mensagem_sefaz"] or ""
            )

        self._run(
            tr("Enviando o ECONF da nota {ref}...").format(ref=ref),
            lambda: self.service.send_now(ref, mesmo_assim=mesmo_assim, user=self.manager),
            done,
        )

    def _mark(self) -> None:
        row = self.selected()
        protocolo = self.protocolo.text().strip()
        if row is None or not protocolo:
            return
        ref = row["ref"]
        self._run(
            tr("Consultando o protocolo {p}...").format(p=protocolo),
            lambda: self.service.mark_registered(ref, protocolo, user=self.manager),
            lambda r: tr("ECONF da nota {ref} marcado como registrado (protocolo {p}).").format(
                ref=ref, p=r["numero_protocolo"]
            ),
        )

    def _cancel(self) -> None:
        row = self.selected()
        if row is None or not row["numero_protocolo"]:
            return
        ref, protocolo = row["ref"], row["numero_protocolo"]

        def done(r: dict[str, Any]) -> str:
            if r["cancelado"]:
                return tr("ECONF {p} da nota {ref} cancelado.").format(p=protocolo, ref=ref)
            return tr("Cancelamento rejeitado — SEFAZ {c}: {m}").format(
                c=r["status_sefaz"], m=r["mensagem_sefaz"]
            ) + (f" {r['dica']}" if r.get("dica") else "")

        self._run(
            tr("Cancelando o ECONF {p}...").format(p=protocolo),
            lambda: self.service.cancel(ref, protocolo, user=self.manager),
            done,
        )


_CLI_CHOICES = re.compile(
    r"se foi, 'pos-app econf marcar-registrado \S+ PROTOCOLO'; se não foi, 'pos-app econf enviar \S+ --mesmo-assim'"
)


def _window_wording(line: str) -> str:
    """The service's instruction names the CLI commands; here the same choices are buttons."""
    return _CLI_CHOICES.sub(
        tr(
            "se foi, digite o protocolo abaixo e use “Marcar como registrado”; se não foi, use “Enviar mesmo assim”"
        ),
        line,
    )
