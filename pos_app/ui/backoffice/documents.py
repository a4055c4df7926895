"""The manager's "Documentos" window: received CT-e (filters, disagreement), issuing CT-e / CT-e OS
(from a JSON file or a form of the common fields) and RPS batches (generate the file, import the
city's answer). Every network call runs through :func:`pos_app.ui.worker.run_in_worker`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.domain.money import format_brl
from pos_app.core.fiscal.document_status import CteSituacao, RpsAnswerStatus
from pos_app.core.services.ctes_recebidas import OBSERVACOES_MAX, OBSERVACOES_MIN
from pos_app.demo.rps import demo_city_answer
from pos_app.ui import theme
from pos_app.ui.common import EnvironmentBand, error_label, hint_label, inform
from pos_app.ui.errors import error_text
from pos_app.ui.i18n import tr
from pos_app.ui.worker import run_in_worker

_windows: list[DocumentsWindow] = []  # non-modal windows kept alive while open


def _error_text(exc: BaseException) -> str:
    return error_text(exc) or type(exc).__name__


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _money(text: str | None) -> str:
    from decimal import Decimal, InvalidOperation

    try:
        return format_brl(Decimal(text or "0"))
    except InvalidOperation:
        return text or ""


class DesacordoDialog(QDialog):
    """Observações of a disagreement, validated as typed (15 to 255 characters)."""

    def __init__(self, chave: str, emitente: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Registrar desacordo com o CT-e"))
        self.chave = chave
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(tr("Transportador: {0}").format(emitente)))
        layout.addWidget(hint_label(tr("Chave: {0}").format(chave)))
        layout.addWidget(
            QLabel(
                tr("Motivo do desacordo (de {0} a {1} caracteres):").format(OBSERVACOES_MIN, OBSERVACOES_MAX)
            )
        )
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText(tr("Ex.: frete cobrado acima do valor contratado"))
        layout.addWidget(self.text)
        self.counter = hint_label()
        layout.addWidget(self.counter)
        self.error = error_label()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox()
        self.ok = self.buttons.addButton(tr("Registrar desacordo"), QDialogButtonBox.ButtonRole.AcceptRole)
        theme.set_role(self.ok, "primary")
        self.buttons.addButton(tr("Cancelar"), QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.text.textChanged.connect(self._validate)
        self._validate()

    @property
    def observacoes(self) -> str:
        return " ".join(self.text.toPlainText().split())

    def _validate(self) -> bool:
        size = len(self.observacoes)
        valid = OBSERVACOES_MIN <= size <= OBSERVACOES_MAX
        self.counter.setText(tr("{0} de {1} caracteres").format(size, OBSERVACOES_MAX))
        if size == 0:
            self.error.setText("")
        elif size < OBSERVACOES_MIN:
            self.error.setText(
                tr("Faltam {0} caracteres (mínimo {1}).").format(OBSERVACOES_MIN - size, OBSERVACOES_MIN)
            )
        elif size > OBSERVACOES_MAX:
            self.error.setText(
                tr("Passou {0} caracteres do máximo ({1}).").format(size - OBSERVACOES_MAX, OBSERVACOES_MAX)
            )
        else:
            self.error.setText("")
        self.ok.setEnabled(valid)
        return valid

    def _accept(self) -> None:
        if self._validate():
            self.accept()


class ReceivedTab(QWidget):
    """Received CT-e kept in the terminal: sync, filters, disagreement, XML."""

    COLUMNS = ["Emissão", "Transportador", "CNPJ", "Valor", "Situação", "Tipo", "Desacordo", "Chave"]

    def __init__(self, window: DocumentsWindow) -> None:
        super().__init__(window)
        from pos_app.core.services.ctes_recebidas import CtesRecebidasService

        self.window_ = window
        self.service = CtesRecebidasService(window.ctx)
        self.rows: list[dict[str, Any]] = []
        self.desacordo_dialog: DesacordoDialog | None = None
        layout = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.situacao = QComboBox()
        for label, value in ((tr("Todas as situações"), ""), (tr("Autorizados"), CteSituacao.AUTORIZADO),
                             (tr("Cancelados"), CteSituacao.CANCELADO), (tr("Denegados"), CteSituacao.DENEGADO)):  # fmt: skip
            self.situacao.addItem(label, value)
        self.periodo = QComboBox()
        for label, days in ((tr("Qualquer data"), 0), (tr("Últimos 7 dias"), 7), (tr("Últimos 30 dias"), 30),
                            (tr("Últimos 90 dias"), 90)):  # fmt: skip
            self.periodo.addItem(label, days)
        self.texto = QLineEdit()
        self.texto.setPlaceholderText(tr("Transportador, CNPJ ou chave"))
        self.sem_desacordo = QCheckBox(tr("Só sem desacordo"))
        for widget in (self.situacao, self.periodo, self.texto, self.sem_desacordo):
            filters.addWidget(widget)
        layout.addLayout(filters)
        self.table = _table([tr(c) for c in self.COLUMNS])
        self.table.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        self.sync_button = QPushButton(tr("Sincronizar com a API"))
        self.desacordo_button = QPushButton(tr("Registrar desacordo..."))
        theme.set_role(self.desacordo_button, "danger")
        self.xml_button = QPushButton(tr("Baixar XML"))
        for button in (self.sync_button, self.desacordo_button, self.xml_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.status = hint_label()
        layout.addWidget(self.status)
        self.situacao.currentIndexChanged.connect(self.reload)
        self.periodo.currentIndexChanged.connect(self.reload)
        self.texto.textChanged.connect(self.reload)
        self.sem_desacordo.toggled.connect(self.reload)
        self.sync_button.clicked.connect(self.sync)
        self.desacordo_button.clicked.connect(self.ask_desacordo)
        self.xml_button.clicked.connect(self.download_xml)
        self.reload()

    # -- data ----------------------------------------------------------------------------------
    def reload(self) -> None:
        days = int(self.periodo.currentData() or 0)
        try:
            self.rows = self.service.search(
                situacao=self.situacao.currentData() or None, texto=self.texto.text().strip() or None,
                desde=(date.today() - timedelta(days=days)).isoformat() if days else None,
                sem_desacordo=self.sem_desacordo.isChecked(),
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - shown to the manager
            self.status.setText(_error_text(exc))
            return
        from pos_app.core.services.ctes_recebidas import SITUACOES, TIPOS_CTE

        self.table.setRowCount(len(self.rows))
        for i, row in enumerate(self.rows):
            desacordo = {"evento_registrado": tr("Registrado"), "erro": tr("Recusado")}.get(
                row.get("desacordo_status") or "", ""
            )
            values = [
                (row["data_emissao"] or "")[:10], row["nome_emitente"] or "", row["documento_emitente"] or "",
                _money(row["valor_total"]), tr(SITUACOES.get(row["situacao"], row["situacao"])),
                tr(TIPOS_CTE.get(row["tipo_cte"] or "", row["tipo_cte"] or "")), desacordo, row["chave"],
            ]  # fmt: skip
            for j, value in enumerate(values):
                item = QTableWidgetItem(value)
                if j == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)
        self.status.setText(tr("{0} CT-e recebido(s) com estes filtros.").format(len(self.rows)))
        self._selection_changed()

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        index = rows[0].row()
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def select_chave(self, chave: str) -> bool:
        for i, row in enumerate(self.rows):
            if row["chave"] == chave:
                self.table.selectRow(i)
                return True
        return False

    def _selection_changed(self) -> None:
        row = self.selected()
        can = (
            row is not None
            and row["situacao"] == CteSituacao.AUTORIZADO
            and row.get("desacordo_status") != "evento_registrado"
        )
        self.desacordo_button.setEnabled(bool(can) and not self.window_.busy)
        self.xml_button.setEnabled(row is not None and not self.window_.busy)

    # -- actions -------------------------------------------------------------------------------
    def sync(self) -> None:
        self.status.setText(tr("Sincronizando CT-e recebidos..."))

        def done(report: Any) -> None:
            self.reload()
            self.status.setText(tr(report.mensagem))

        self.window_.run(self.service.sync, done, self.sync_button)

    def ask_desacordo(self) -> None:
        row = self.selected()
        if row is None:
            return
        dialog = DesacordoDialog(row["chave"], row["nome_emitente"] or "", self)
        self.desacordo_dialog = dialog
        dialog.accepted.connect(lambda: self._send_desacordo(row["chave"], dialog.observacoes))
        dialog.open()

    def _send_desacordo(self, chave: str, observacoes: str) -> None:
        self.status.setText(tr("Registrando o desacordo na SEFAZ..."))
        user = self.window_.user_id

        def done(result: dict[str, Any]) -> None:
            self.reload()
            self.select_chave(chave)
            self.status.setText(tr(result["mensagem"]))
            if not result["registrado"]:
                inform(self, tr("Desacordo"), tr(result["mensagem"]), error=True)

        self.window_.run(lambda: self.service.desacordo(chave, observacoes, user_id=user), done,
                         self.desacordo_button)  # fmt: skip

    def download_xml(self) -> None:
        row = self.selected()
        if row is None:
            return
        chave = row["chave"]
        self.window_.run(
            lambda: self.service.download(chave, "xml"),
            lambda path: self.status.setText(tr("XML salvo em {0}").format(path)),
            self.xml_button,
        )


class IssueTab(QWidget):
    """Issue a CT-e / CT-e OS from a JSON file or from a form of the common fields."""

    FORM_CTE = [
        ("documento_remetente", "CNPJ/CPF do remetente"), ("nome_remetente", "Nome do remetente"),
        ("documento_destinatario", "CNPJ/CPF do destinatário"), ("nome_destinatario", "Nome do destinatário"),
        ("valor_total_carga", "Valor da carga (R$)"), ("produto_predominante", "Produto predominante"),
        ("peso_kg", "Peso bruto (kg)"), ("rntrc", "RNTRC (modal rodoviário)"),
    ]  # fmt: skip
    FORM_OS = [
        ("documento_tomador", "CNPJ/CPF do tomador"), ("nome_tomador", "Nome do tomador"),
        ("descricao_servico", "Descrição do serviço"), ("taf", "TAF (rodoviário)"),
    ]  # fmt: skip
    FORM_COMMON = [
        ("cfop", "CFOP"), ("natureza_operacao", "Natureza da operação"),
        ("codigo_municipio_inicio", "Município de início (IBGE)"), ("municipio_inicio", "Nome do município de início"),
        ("uf_inicio", "UF de início"), ("codigo_municipio_fim", "Município de fim (IBGE)"),
        ("municipio_fim", "Nome do município de fim"), ("uf_fim", "UF de fim"),
        ("valor_total", "Valor total da prestação (R$)"), ("valor_receber", "Valor a receber (R$)"),
    ]  # fmt: skip

    def __init__(self, window: DocumentsWindow) -> None:
        super().__init__(window)
        from pos_app.core.services.cte import CteService

        self.window_ = window
        self.service = CteService(window.ctx)
        self.file_payload: dict[str, Any] | None = None
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.modelo = QComboBox()
        self.modelo.addItem(tr("CT-e (modelo 57)"), 57)
        self.modelo.addItem(tr("CT-e OS (modelo 67)"), 67)
        self.origem = QComboBox()
        self.origem.addItem(tr("Formulário"), "form")
        self.origem.addItem(tr("Arquivo JSON"), "file")
        top.addWidget(QLabel(tr("Documento:")))
        top.addWidget(self.modelo)
        top.addWidget(QLabel(tr("Dados:")))
        top.addWidget(self.origem)
        top.addStretch(1)
        layout.addLayout(top)
        self.stack = QStackedWidget()
        self.stack.addWidget(self._form_page())
        self.stack.addWidget(self._file_page())
        layout.addWidget(self.stack)
        actions = QHBoxLayout()
        self.emit_button = QPushButton(tr("Emitir"))
        theme.set_role(self.emit_button, "primary")
        self.consult_button = QPushButton(tr("Consultar selecionado"))
        actions.addWidget(self.emit_button)
        actions.addWidget(self.consult_button)
        actions.addStretch(1)
        layout.addLayout(actions)
        self.result = hint_label()
        layout.addWidget(self.result)
        self.issued = _table(
            [tr(h) for h in ("Referência", "Modelo", "Nº", "Situação", "Valor", "Tomador/destinatário")]
        )
        layout.addWidget(self.issued)
        self.rows: list[dict[str, Any]] = []
        self.modelo.currentIndexChanged.connect(self._modelo_changed)
        self.origem.currentIndexChanged.connect(lambda i: self.stack.setCurrentIndex(i))
        self.emit_button.clicked.connect(self.emit_document)
        self.consult_button.clicked.connect(self.consult)
        self._modelo_changed()
        self.reload()

    def _form_page(self) -> QWidget:
        page = QWidget()
        columns = QHBoxLayout(page)
        self.fields: dict[str, QLineEdit] = {}
        common = QGroupBox(tr("Prestação"))
        form = QFormLayout(common)
        for key, label in self.FORM_COMMON:
            edit = QLineEdit()
            self.fields[key] = edit
            form.addRow(tr(label), edit)
        self.icms = QComboBox()
        for code in ("SN", "00", "20", "40", "41", "51", "60", "90"):
            self.icms.addItem(tr("Simples Nacional") if code == "SN" else code, code)
        form.addRow(tr("ICMS (CST)"), self.icms)
        columns.addWidget(common)
        self.cte_box = QGroupBox(tr("CT-e: partes e carga"))
        cform = QFormLayout(self.cte_box)
        self.tomador = QComboBox()
        for code, label in (
            ("0", "Remetente"),
            ("1", "Expedidor"),
            ("2", "Recebedor"),
            ("3", "Destinatário"),
        ):
            self.tomador.addItem(tr(label), code)
        cform.addRow(tr("Tomador do serviço"), self.tomador)
        for key, label in self.FORM_CTE:
            edit = QLineEdit()
            self.fields[key] = edit
            cform.addRow(tr(label), edit)
        columns.addWidget(self.cte_box)
        self.os_box = QGroupBox(tr("CT-e OS: tomador e serviço"))
        oform = QFormLayout(self.os_box)
        self.modal = QComboBox()
        for code, label in (
            ("01", "Rodoviário"),
            ("02", "Aéreo"),
            ("03", "Aquaviário"),
            ("04", "Ferroviário"),
        ):
            self.modal.addItem(tr(label), code)
        oform.addRow(tr("Modal"), self.modal)
        self.tipo_servico = QComboBox()
        for code, label in (
            ("6", "Transporte de pessoas"),
            ("7", "Transporte de valores"),
            ("8", "Excesso de bagagem"),
        ):
            self.tipo_servico.addItem(tr(label), code)
        oform.addRow(tr("Tipo de serviço"), self.tipo_servico)
        for key, label in self.FORM_OS:
            edit = QLineEdit()
            self.fields[key] = edit
            oform.addRow(tr(label), edit)
        columns.addWidget(self.os_box)
        emitente = self.window_.ctx.emitente()
        self.fields["natureza_operacao"].setText("PRESTACAO DE SERVICO DE TRANSPORTE")
        for suffix in ("inicio", "fim"):
            self.fields[f"codigo_municipio_{suffix}"].setText(emitente.codigo_municipio)
            self.fields[f"municipio_{suffix}"].setText(emitente.municipio)
            self.fields[f"uf_{suffix}"].setText(emitente.uf)
        self.fields["documento_remetente"].setText(emitente.cnpj)
        self.fields["nome_remetente"].setText(emitente.razao_social)
        return page

    def _file_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        self.file_button = QPushButton(tr("Escolher arquivo JSON..."))
        self.file_label = hint_label(tr("Nenhum arquivo escolhido."))
        row.addWidget(self.file_button)
        row.addWidget(self.file_label, 1)
        layout.addLayout(row)
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        layout.addWidget(self.preview)
        self.file_button.clicked.connect(self.choose_file)
        return page

    def _modelo_changed(self) -> None:
        os_model = self.modelo.currentData() == 67
        self.cte_box.setVisible(not os_model)
        self.os_box.setVisible(os_model)
        self.fields["cfop"].setPlaceholderText("5357" if os_model else "5353")

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Dados do CT-e (JSON)"), "", tr("JSON (*.json)"))
        if path:
            self.load_file(Path(path))

    def load_file(self, path: Path) -> None:
        from pos_app.core.services.cte import load_json_file

        try:
            self.file_payload = load_json_file(path)
        except ValueError as exc:
            self.file_payload = None
            self.file_label.setText(_error_text(exc))
            return
        self.file_label.setText(str(path))
        self.preview.setPlainText(json.dumps(self.file_payload, ensure_ascii=False, indent=2))
        if str(self.file_payload.get("modelo") or "") == "67" or "descricao_servico" in self.file_payload:
            self.modelo.setCurrentIndex(1)

    def form_values(self) -> dict[str, str]:
        values = {k: e.text() for k, e in self.fields.items()}
        values.update(icms_situacao_tributaria=self.icms.currentData(), tomador=self.tomador.currentData(),
                      modal=self.modal.currentData(), tipo_servico=self.tipo_servico.currentData())  # fmt: skip
        return values

    def emit_document(self) -> None:
        from pos_app.core.services.cte import payload_from_form

        modelo = int(self.modelo.currentData())
        try:
            if self.origem.currentData() == "file":
                if self.file_payload is None:
                    raise ValueError(tr("Escolha o arquivo JSON com os dados."))
                payload = self.file_payload
            else:
                payload = payload_from_form(self.form_values(), modelo, self.window_.ctx)
            self.service.prepare(payload, modelo)  # bad data: said here, nothing stored or sent
        except ValueError as exc:
            self.result.setText(_error_text(exc))
            theme.set_role(self.result, "error")
            self.result.style().polish(self.result)
            return
        theme.set_role(self.result, "hint")
        self.result.setText(tr("Enviando..."))
        user = self.window_.user_id

        def done(outcome: Any) -> None:
            self.result.setText(tr(outcome.mensagem))
            self.reload()

        self.window_.run(
            lambda: self.service.emit(payload, modelo=modelo, user_id=user), done, self.emit_button
        )

    def reload(self) -> None:
        from pos_app.core.services.cte import MODELOS, STATUS_LABELS

        self.rows = self.service.issued(limit=200)
        self.issued.setRowCount(len(self.rows))
        for i, row in enumerate(self.rows):
            values = [row["ref"], MODELOS[int(row["modelo"])], f"{row['serie']}/{row['numero']}",
                      tr(STATUS_LABELS.get(row["status"], row["status"])), _money(row["valor_total"]),
                      row["tomador"] or ""]  # fmt: skip
            for j, value in enumerate(values):
                self.issued.setItem(i, j, QTableWidgetItem(value))

    def consult(self) -> None:
        rows = self.issued.selectionModel().selectedRows()
        if not rows:
            return
        ref = self.rows[rows[0].row()]["ref"]

        def done(outcome: Any) -> None:
            self.result.setText(tr(outcome.mensagem))
            self.reload()

        self.window_.run(lambda: self.service.consult(ref), done, self.consult_button)


class RpsTab(QWidget):
    """Generate the RPS batch file for the city's site and import the city's answer."""

    def __init__(self, window: DocumentsWindow) -> None:
        super().__init__(window)
        from pos_app.core.services.rps import RpsService

        self.window_ = window
        self.service = RpsService(window.ctx)
        self.rows: list[dict[str, Any]] = []
        layout = QVBoxLayout(self)
        layout.addWidget(hint_label(tr(
            "Para prefeituras sem NFS-e por webservice: gere o arquivo de RPS a partir de um JSON (prestador e "
            "lista_nfse), envie-o no site da prefeitura e importe aqui o arquivo de retorno dela.")))  # fmt: skip
        buttons = QHBoxLayout()
        self.generate_button = QPushButton(tr("Gerar lote de um JSON..."))
        theme.set_role(self.generate_button, "primary")
        self.answer_button = QPushButton(tr("Importar retorno da prefeitura..."))
        self.demo_button = QPushButton(tr("Simular retorno (demonstração)"))
        self.demo_button.setVisible(window.ctx.sandbox is not None)
        for button in (self.generate_button, self.answer_button, self.demo_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.table = _table([tr(h) for h in ("Referência", "Situação", "RPS", "Valor", "Arquivo")])
        layout.addWidget(self.table)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(160)
        layout.addWidget(self.details)
        self.status = hint_label()
        layout.addWidget(self.status)
        self.generate_button.clicked.connect(self.choose_batch)
        self.answer_button.clicked.connect(self.choose_answer)
        self.demo_button.clicked.connect(self.demo_answer)
        self.reload()

    def reload(self) -> None:
        from pos_app.core.services.rps import STATUS_LABELS

        self.rows = self.service.batches()
        self.table.setRowCount(len(self.rows))
        for i, row in enumerate(self.rows):
            values = [row["ref"], tr(STATUS_LABELS.get(row["status"], row["status"])), str(row["quantidade"]),
                      _money(row["valor_total"]), row["arquivo_path"] or ""]  # fmt: skip
            for j, value in enumerate(values):
                self.table.setItem(i, j, QTableWidgetItem(value))

    def selected_ref(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.rows):
            return None
        return str(self.rows[rows[0].row()]["ref"])

    def choose_batch(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Lote de RPS (JSON)"), "", tr("JSON (*.json)"))
        if path:
            self.generate(Path(path))

    def generate(self, path: Path) -> None:
        from pos_app.core.services.cte import load_json_file

        try:
            payload = load_json_file(path)
            self.service.prepare(payload)
        except ValueError as exc:
            self.status.setText(_error_text(exc))
            return
        self.status.setText(tr("Gerando o arquivo do lote..."))
        self.window_.run(lambda: self.service.gerar(payload, user_id=self.window_.user_id), self._shown,
                         self.generate_button)  # fmt: skip

    def choose_answer(self) -> None:
        ref = self.selected_ref()
        if ref is None:
            self.status.setText(tr("Selecione o lote na lista."))
            return
        path, _ = QFileDialog.getOpenFileName(self, tr("Arquivo de retorno da prefeitura"), "",
                                              tr("Arquivos de texto (*.txt *.ret *.xml);;Todos (*)"))  # fmt: skip
        if path:
            self.import_answer(ref, Path(path))

    def import_answer(self, ref: str, path: Path) -> None:
        self.status.setText(tr("Enviando o retorno da prefeitura..."))
        self.window_.run(lambda: self.service.resposta(ref, path, user_id=self.window_.user_id), self._shown,
                         self.answer_button)  # fmt: skip

    def demo_answer(self) -> None:
        ref = self.selected_ref()
        if ref is None:
            self.status.setText(tr("Selecione o lote na lista."))
            return
        self.window_.run(lambda: self.service.resposta(ref, demo_city_answer(self.service, ref)), self._shown,
                         self.demo_button)  # fmt: skip

    def _shown(self, outcome: Any) -> None:
        self.reload()
        self.status.setText(tr(outcome.mensagem))
        lines = [tr(outcome.mensagem)]
        for r in outcome.resultado:
            if r["status"] == RpsAnswerStatus.AUTORIZADO:
                lines.append(
                    tr("RPS {0}/{1}: NFS-e nº {2}, código de verificação {3}").format(
                        r["serie_rps"], r["numero_rps"], r["numero"], r["codigo_verificacao"]
                    )
                )
            else:
                erros = "; ".join(str(e.get("mensagem")) for e in r["erros"]) or r["status"]
                lines.append(tr("RPS {0}/{1}: {2}").format(r["serie_rps"], r["numero_rps"], erros))
        self.details.setPlainText("\n".join(lines))


class DocumentsWindow(QDialog):
    """Non-modal window of the back office (manager)."""

    def __init__(self, ctx: Any, parent: QWidget | None = None, *, user_id: int | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.user_id = user_id
        self.busy = False
        self._running: list[Any] = []
        self.setWindowTitle(tr("Documentos (CT-e, NFS-e)"))
        self.setModal(False)
        self.resize(1100, 720)
        layout = QVBoxLayout(self)
        layout.addWidget(EnvironmentBand(ctx.config.ambiente))
        self.tabs = QTabWidget()
        self.received = ReceivedTab(self)
        self.issue = IssueTab(self)
        self.rps = RpsTab(self)
        self.tabs.addTab(self.received, tr("CT-e recebidos"))
        self.tabs.addTab(self.issue, tr("Emitir CT-e / CT-e OS"))
        self.tabs.addTab(self.rps, tr("Lotes RPS (NFS-e)"))
        layout.addWidget(self.tabs)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        layout.addWidget(close)

    def run(
        self, fn: Callable[[], Any], on_result: Callable[[Any], None], button: QPushButton | None = None
    ) -> None:
        """Run ``fn`` off the GUI thread; errors are shown; ``button`` is disabled meanwhile."""
        self.busy = True
        if button is not None:
            button.setEnabled(False)

        def finished() -> None:
            self.busy = False
            if button is not None:
                button.setEnabled(True)
            self.received._selection_changed()

        def succeeded(value: Any) -> None:
            finished()
            on_result(value)

        def failed(exc: BaseException) -> None:
            finished()
            inform(self, tr("Documentos"), _error_text(exc), error=True)

        task = run_in_worker(fn, on_result=succeeded, on_error=failed, on_finished=finished)
        self._running = [t for t in self._running if not t.done] + [task]

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt name
        if self in _windows:
            _windows.remove(self)
        super().closeEvent(event)


def open_documents_window(
    ctx: Any, parent: QWidget | None = None, *, user_id: int | None = None
) -> DocumentsWindow:
    """Open (non-modal) the "Documentos" window of the manager."""
    window = DocumentsWindow(ctx, parent, user_id=user_id)
    _windows.append(window)
    window.show()
    return window
