"""Settings (manager only): emitter, Focus API, contingency, certificate, printer, timeouts.

Every field is validated as it is typed with the same ``check`` the CLI uses (``config.KEYS``),
and the Portuguese error is shown next to it. Secrets (API token, certificate password) are
never displayed back: an empty secret field keeps the stored value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.config import KEYS, NFE_CONTINGENCY_SERIES_KEY, NFE_SERIES_OTHERS, SERIES_KEYS, ConfigError
from pos_app.core.domain.validators import UFS, format_cnpj, normalize_cnpj
from pos_app.core.services.context import AppContext
from pos_app.ui import theme
from pos_app.ui.common import error_label, hint_label, inform
from pos_app.ui.i18n import tr
from pos_app.ui.worker import run_in_worker

EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True)
class Field:
    key: str
    choices: tuple[tuple[str, str], ...] | None = None  # (value, label)
    optional: bool = False
    secret: bool = False
    file: bool = False


def _same(*values: str) -> tuple[tuple[str, str], ...]:
    return tuple((v, v) for v in values)


TABS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    (
        tr("Emitente"),
        (
            Field("emitente.cnpj"),
            Field("emitente.razao_social"),
            Field("emitente.nome_fantasia", optional=True),
            Field("emitente.inscricao_estadual"),
            Field("emitente.logradouro"),
            Field("emitente.numero"),
            Field("emitente.bairro"),
            Field("emitente.municipio"),
            Field("emitente.codigo_municipio"),
            Field("emitente.uf", choices=_same(*sorted(UFS))),
            Field("emitente.cep"),
            Field(
                "emitente.regime",
                choices=(("simples", tr("Simples Nacional")), ("normal", tr("Regime normal"))),
            ),
            Field("emitente.telefone", optional=True),
        ),
    ),
    (
        tr("API Focus NFe"),
        (
            Field(
                "focus.ambiente",
                choices=(
                    ("sandbox", tr("Demonstração (simulador embutido)")),
                    ("homologacao", tr("Homologação (testes, sem valor fiscal)")),
                    ("producao", tr("Produção (notas com valor fiscal)")),
                ),
            ),
            Field("focus.token", secret=True, optional=True),
            Field("focus.url", optional=True),
            Field("focus.timeout"),
        ),
    ),
    (
        tr("Contingência e venda"),
        (
            Field("contingencia.serie"),
            Field("nfce.serie"),
            Field("nfe.serie"),
            Field("nfe.serie_contingencia"),
            Field(
                "nfe.destinatario_cnpj",
                choices=(
                    ("auto", tr("Regra da UF (NF-e modelo 55 a partir de 04/05/2026)")),
                    ("nfe", tr("Sempre NF-e modelo 55")),
                    ("nfce", tr("Manter NFC-e")),
                ),
            ),
            Field("venda.desconto_maximo_percentual"),
            Field("caixa.fundo_padrao"),
            Field("venda.troco_maximo"),
            Field("venda.quantidade_maxima_item"),
            Field("venda.total_maximo"),
            Field("gerente.sessao_minutos"),
            Field("tela.cliente", choices=(("nao", tr("Não")), ("sim", tr("Sim, no segundo monitor")))),
            Field("balanca.modo", choices=(("preco", tr("Preço (R$)")), ("peso", tr("Peso (kg)")))),
            Field("balanca.digitos_codigo", choices=_same("4", "5", "6")),
        ),
    ),
    (
        tr("Certificado digital"),
        (
            Field("certificado.arquivo", optional=True, file=True),
            Field("certificado.senha", secret=True, optional=True),
        ),
    ),
    (
        tr("Impressora"),
        (
            Field(
                "impressora.tipo",
                choices=(
                    ("pdf", tr("Somente PDF")),
                    ("rede", tr("Rede (IP:porta)")),
                    ("usb", tr("USB direto (driver WinUSB)")),
                    ("serial", tr("Serial")),
                    ("windows", tr("Impressora instalada no Windows (spooler)")),
                    ("arquivo", tr("Arquivo")),
                ),
            ),
            Field("impressora.endereco", optional=True),
            Field("impressora.colunas", choices=_same("48", "42", "32")),
            Field("impressora.largura_mm", choices=(("80", "80 mm"), ("58", "58 mm"))),
            Field("impressora.codepage", choices=_same("cp850", "cp860")),
            Field("impressora.gaveta_pino", choices=_same("2", "5")),
        ),
    ),
)


def _shown_value(value: str | None, key: str = "") -> str:
    """Stored numbers use a dot ("1.5", "0.00"); the manager reads and types the Brazilian comma.
    The CNPJ is shown with its mask (alphanumeric included); saving normalizes it back."""
    if value and key == "emitente.cnpj":
        return format_cnpj(value)
    if value and re.fullmatch(r"-?\d+\.\d+", value):
        return value.replace(".", ",")
    return value or ""


def certificate_info(path: str, password: str) -> dict[str, Any]:
    """Worker job: holder, CNPJ and validity of an A1 file (or the error)."""
    from pos_app.core.fiscal.certificate import CertificateError, load_a1

    if not path:
        return {
            "error": tr("Nenhum certificado A1 configurado: sem ele, notas em contingência saem sem QR Code.")
        }
    try:
        cert = load_a1(path, password)
    except CertificateError as exc:
        return {"error": str(exc)}
    except OSError as exc:
        return {"error": tr("Não foi possível ler o arquivo: {erro}").format(erro=exc)}
    return {
        "holder": cert.holder,
        "cnpj": cert.cnpj,
        "not_after": cert.not_after,
        "days_left": cert.days_left(datetime.now(UTC)),
    }


class SettingsDialog(QDialog):
    saved = Signal(list)  # keys changed

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("settingsDialog")
        self.setWindowTitle(tr("Configurações"))
        self.resize(1040, 720)
        self.inputs: dict[str, QLineEdit | QComboBox] = {}
        self.errors: dict[str, QLabel] = {}
        self.fields: dict[str, Field] = {}
        root = QVBoxLayout(self)
        root.setContentsMargins(20, 16, 20, 16)
        title = QLabel(tr("Configurações do terminal {t}").format(t=ctx.config.terminal_id))
        theme.set_role(title, "title")
        root.addWidget(title)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")
        root.addWidget(self.tabs, 1)
        for tab_title, fields in TABS:
            page = QWidget()
            scroll = QScrollArea()  # a long tab scrolls: Salvar stays on the 1024x768 screen
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(page)
            grid = QGridLayout(page)
            grid.setContentsMargins(16, 16, 16, 16)
            grid.setHorizontalSpacing(14)
            grid.setVerticalSpacing(8)
            grid.setColumnStretch(1, 1)
            grid.setColumnMinimumWidth(1, 360)
            for row, field in enumerate(fields):
                self._add_field(grid, row, field)
            if tab_title == tr("Certificado digital"):
                self._add_certificate_panel(grid, len(fields))
            grid.setRowStretch(len(fields) + 2, 1)
            self.tabs.addTab(scroll, tab_title)
        bottom = QHBoxLayout()
        self.summary = hint_label("")
        self.summary.setObjectName("settingsSummary")
        bottom.addWidget(self.summary, 1)
        cancel = QPushButton(tr("Fechar sem salvar (Esc)"))
        cancel.setAutoDefault(False)
        self.save_button = QPushButton(tr("Salvar (Ctrl+S)"))
        self.save_button.setObjectName("saveSettings")
        self.save_button.setAutoDefault(False)
        theme.set_role(self.save_button, "primary")
        bottom.addWidget(cancel)
        bottom.addWidget(self.save_button)
        root.addLayout(bottom)
        cancel.clicked.connect(self.reject)
        self.save_button.clicked.connect(self.save)
        self._validate_all()
        self.refresh_certificate()

    # -- building --------------------------------------------------------------------------
    def _add_field(self, grid: QGridLayout, row: int, field: Field) -> None:
        spec = KEYS[field.key]
        self.fields[field.key] = field
        label = QLabel(tr(spec.label))
        label.setWordWrap(True)
        grid.addWidget(label, row, 0)
        current = self.ctx.config.get(field.key)
        widget: QLineEdit | QComboBox
        if field.choices:
            combo = QComboBox()
            for value, text in field.choices:
                combo.addItem(text, value)
            index = combo.findData(current) if current is not None else 0
            combo.setCurrentIndex(max(0, index))
            combo.currentIndexChanged.connect(lambda _i, k=field.key: self._validate(k))
            widget = combo
        else:
            edit = QLineEdit()
            if field.secret:
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                edit.setPlaceholderText(
                    tr("definido — deixe em branco para manter") if current else tr("não definido")
                )
            else:
                edit.setText(_shown_value(current, field.key))
            edit.textChanged.connect(lambda _t, k=field.key: self._validate(k))
            widget = edit
        widget.setObjectName(f"setting_{field.key}")
        self.inputs[field.key] = widget
        if field.file:
            box = QHBoxLayout()
            box.addWidget(widget, 1)
            browse = QPushButton(tr("Escolher…"))
            browse.setAutoDefault(False)
            browse.clicked.connect(self._browse_certificate)
            box.addWidget(browse)
            grid.addLayout(box, row, 1)
        else:
            grid.addWidget(widget, row, 1)
        error = error_label()
        error.setObjectName(f"error_{field.key}")
        error.setFixedWidth(320)
        self.errors[field.key] = error
        grid.addWidget(error, row, 2)

    def _add_certificate_panel(self, grid: QGridLayout, row: int) -> None:
        self.cert_info = QLabel(tr("Verificando certificado…"))
        self.cert_info.setObjectName("certificateInfo")
        self.cert_info.setWordWrap(True)
        self.cert_info.setMinimumHeight(90)
        self.cert_info.setContentsMargins(0, 12, 0, 12)
        grid.addWidget(self.cert_info, row, 0, 1, 3)
        check = QPushButton(tr("Verificar certificado"))
        check.setAutoDefault(False)
        check.clicked.connect(self.refresh_certificate)
        grid.addWidget(check, row + 1, 0)

    def _browse_certificate(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, tr("Certificado A1"), "", tr("Certificado A1 (*.pfx *.p12);;Todos os arquivos (*)")
        )
        if path:
            widget = self.inputs["certificado.arquivo"]
            assert isinstance(widget, QLineEdit)
            widget.setText(path)
            self.refresh_certificate()

    # -- values and validation -------------------------------------------------------------
    def value(self, key: str) -> str:
        widget = self.inputs[key]
        if isinstance(widget, QComboBox):
            return str(widget.currentData())
        return widget.text()

    def _check(self, key: str) -> tuple[str | None, str | None]:
        """(normalized value or None for 'unset/keep', error message)."""
        field = self.fields[key]
        raw = self.value(key)
        if not raw.strip():
            if field.optional or field.secret:
                return None, None
            return None, tr("Preenchimento obrigatório.")
        try:
            value = KEYS[key].check(raw)
        except ConfigError as exc:
            message = str(exc)
            return None, message[:1].upper() + message[1:]
        if key in SERIES_KEYS and SERIES_KEYS[key] in self.inputs:
            conflict = self.ctx.config.series_conflict(
                key, value, self.value(SERIES_KEYS[key]).strip() or None
            )
            if conflict:
                return None, conflict[:1].upper() + conflict[1:]
        nfe_keys = (NFE_CONTINGENCY_SERIES_KEY, *NFE_SERIES_OTHERS)
        if key in nfe_keys:
            pending = {k: self.value(k).strip() or None for k in nfe_keys if k in self.inputs and k != key}
            conflict = self.ctx.config.nfe_series_conflict(key, value, pending)
            if conflict:
                return None, conflict[:1].upper() + conflict[1:]
        return value, None

    def _validate(self, key: str, *, sibling: bool = True) -> bool:
        _value, error = self._check(key)
        self.errors[key].setText(error or "")
        widget = self.inputs[key]
        if isinstance(widget, QLineEdit):
            theme.set_valid(widget, False if error else None)
        if sibling and key in SERIES_KEYS and SERIES_KEYS[key] in self.inputs:
            self._validate(SERIES_KEYS[key], sibling=False)  # the pair is valid or not together
        self._update_summary()
        return error is None

    def _validate_all(self) -> bool:
        return all([self._validate(k) for k in self.inputs])

    def invalid_keys(self) -> list[str]:
        return [k for k in self.inputs if self._check(k)[1] is not None]

    def _update_summary(self) -> None:
        bad = [k for k, label in self.errors.items() if label.text()]
        self.save_button.setEnabled(not bad)
        if bad:
            self.summary.setText(
                tr("Corrija o campo marcado em vermelho para salvar.")
                if len(bad) == 1
                else tr("Corrija os {n} campos marcados em vermelho para salvar.").format(n=len(bad))
            )
            self.summary.setStyleSheet(f"color: {theme.RED};")
        else:
            self.summary.setText(tr("Tudo certo para salvar."))
            self.summary.setStyleSheet("")

    def changes(self) -> dict[str, str | None]:
        """key -> new value (None: remove). Secrets only when typed."""
        out: dict[str, str | None] = {}
        config = self.ctx.config
        for key, field in self.fields.items():
            value, error = self._check(key)
            if error:
                continue
            if field.secret:
                if value is not None:
                    out[key] = value
                continue
            if value is None:
                if config.is_set(key):
                    out[key] = None
                continue
            if value != (config.get(key) or ""):
                out[key] = value
        return out

    # -- certificate -----------------------------------------------------------------------
    def refresh_certificate(self) -> None:
        path = self.value("certificado.arquivo").strip()
        password = self.value("certificado.senha") or self.ctx.config.get("certificado.senha") or ""
        run_in_worker(
            certificate_info,
            path,
            password,
            on_result=self._show_certificate,
            on_error=lambda exc: self._show_certificate({"error": str(exc)}),
        )

    def _show_certificate(self, info: dict[str, Any]) -> None:
        if "error" in info:
            self.cert_info.setText("⚠ " + info["error"])
            self.cert_info.setStyleSheet(f"color: {theme.RED}; font-weight: bold;")
            return
        days = int(info["days_left"])
        lines = [
            tr("Titular: {t}").format(t=info["holder"]),
            tr("CNPJ: {c}").format(c=format_cnpj(info["cnpj"]) if info["cnpj"] else "—"),
            tr("Válido até {d:%d/%m/%Y} ({n} dias)").format(d=info["not_after"], n=days),
        ]
        color = ""
        if days < 0:
            lines.append(tr("⚠ Certificado VENCIDO: instale um novo certificado A1."))
            color = f"color: {theme.RED}; font-weight: bold;"
        elif days < EXPIRY_WARNING_DAYS:
            lines.append(
                tr("⚠ Vence em menos de {n} dias: providencie a renovação.").format(n=EXPIRY_WARNING_DAYS)
            )
            color = f"color: {theme.AMBER}; font-weight: bold;"
        emitter = normalize_cnpj(self.value("emitente.cnpj"))
        if info["cnpj"] and emitter and info["cnpj"] != emitter:
            lines.append(tr("⚠ O CNPJ do certificado é diferente do CNPJ do emitente."))
            color = color or f"color: {theme.AMBER}; font-weight: bold;"
        self.cert_info.setText("\n".join(lines))
        self.cert_info.setStyleSheet(color)

    # -- saving ----------------------------------------------------------------------------
    def save(self) -> None:
        if not self._validate_all():
            bad = self.invalid_keys()
            self._show_tab_of(bad[0])
            return
        changes = self.changes()
        config = self.ctx.config
        failed = False
        for key, value in changes.items():
            try:
                if value is None:
                    config.unset(key)
                else:
                    config.set(key, value)
            except ConfigError as exc:
                self.errors[key].setText(str(exc))
                failed = True
        if failed:
            self._update_summary()
            return
        self.ctx.reset_client()
        changed = sorted(changes)
        self.saved.emit(changed)
        if "focus.ambiente" in changes:
            inform(
                self,
                tr("Configurações salvas"),
                tr("O ambiente mudou. Feche e abra o programa para que a troca valha."),
                on_close=self.accept,
            )
        else:
            self.accept()

    def _show_tab_of(self, key: str) -> None:
        for i, (_title, fields) in enumerate(TABS):
            if any(f.key == key for f in fields):
                self.tabs.setCurrentIndex(i)
                self.inputs[key].setFocus()
                return

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.matches(QKeySequence.StandardKey.Save):
            self.save()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.focusNextChild()  # Enter walks the form; saving is explicit
            return
        super().keyPressEvent(event)
