"""Customer data an NF-e model 55 needs (buyer identified by CNPJ), typed once and kept in the
store's customer list (``clientes``). Opened by the sale window when the typed CNPJ is not known."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.validators import format_cnpj
from pos_app.core.store.clientes import INDICADORES_IE, Cliente, ClientesRepo
from pos_app.ui.i18n import tr

FIELDS = (
    ("nome", "Razão social"),
    ("logradouro", "Logradouro"),
    ("numero", "Número"),
    ("complemento", "Complemento"),
    ("bairro", "Bairro"),
    ("municipio", "Município"),
    ("codigo_municipio", "Código IBGE do município"),
    ("uf", "UF"),
    ("cep", "CEP"),
    ("inscricao_estadual", "Inscrição estadual"),
    ("email", "E-mail (opcional)"),
)


class CustomerDialog(QDialog):
    saved = Signal(object)  # the Cliente

    def __init__(self, repo: ClientesRepo, cnpj: str, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.setObjectName("customerDialog")
        self.repo = repo
        self.cnpj = cnpj
        self.setWindowTitle(tr("Cliente da NF-e (modelo 55)"))
        self.setMinimumWidth(600)
        layout = QVBoxLayout(self)
        intro = QLabel(
            tr(
                "Venda a CNPJ {cnpj}: a nota é uma NF-e modelo 55 e precisa dos dados do cliente. "
                "Digite uma vez; ficam guardados para as próximas vendas."
            ).format(cnpj=format_cnpj(cnpj))
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.inputs: dict[str, QLineEdit] = {}
        existing = repo.get(cnpj)
        for name, label in FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"cliente_{name}")
            if existing is not None:
                edit.setText(str(getattr(existing, name) or ""))
            self.inputs[name] = edit
            form.addRow(tr(label), edit)
        self.indicador = QComboBox()
        self.indicador.setObjectName("cliente_indicador_ie")
        for code, text in INDICADORES_IE.items():
            self.indicador.addItem(f"{code} - {text}", code)
        self.indicador.setCurrentIndex(list(INDICADORES_IE).index(existing.indicador_ie if existing else "1"))
        form.addRow(tr("Indicador da IE"), self.indicador)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setObjectName("customerError")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(tr("Salvar cliente"))
        layout.addWidget(buttons)

    def save(self) -> None:
        values = {name: (edit.text().strip() or None) for name, edit in self.inputs.items()}
        try:
            cliente = self.repo.save(
                Cliente(
                    documento=self.cnpj,
                    nome=values["nome"] or "",
                    logradouro=values["logradouro"] or "",
                    numero=values["numero"] or "",
                    bairro=values["bairro"] or "",
                    codigo_municipio=values["codigo_municipio"] or "",
                    municipio=values["municipio"] or "",
                    uf=values["uf"] or "",
                    cep=values["cep"] or "",
                    indicador_ie=str(self.indicador.currentData()),
                    inscricao_estadual=values["inscricao_estadual"],
                    complemento=values["complemento"],
                    email=values["email"],
                )
            )
        except ValidationError as exc:
            self.error.setText(exc.message)
            edit = self.inputs.get(exc.field)
            if edit is not None:
                edit.setFocus()
            return
        self.saved.emit(cliente)
        self.accept()
