"""NF-e model 55 for sales to a CNPJ buyer: which document a sale gets, and the API of each model.

The emission, replay, cancel and e-mail services are the NFC-e's, parametrised by the document's
``modelo`` (``fiscal_documents.modelo``): :func:`api_for` gives them the Focus family to talk to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.sale import Sale
from pos_app.core.fiscal.nfe_rules import MODELO_NFCE, MODELO_NFE, document_name, modelo_for_sale
from pos_app.core.focus.nfce import NfceApi
from pos_app.core.services.context import AppContext
from pos_app.core.store.clientes import Cliente


def api_for(ctx: AppContext, modelo: int | None) -> NfceApi:
    if modelo == MODELO_NFE:
        from pos_app.core.focus.nfe import NfeApi

        return NfeApi(ctx.client())
    return ctx.nfce()


def doc_api(ctx: AppContext, doc: dict[str, Any]) -> NfceApi:
    return api_for(ctx, int(doc.get("modelo") or MODELO_NFCE))


@dataclass
class DocumentChoice:
    modelo: int
    cliente: Cliente | None = None

    @property
    def nome(self) -> str:
        return document_name(self.modelo)

    @property
    def label(self) -> str:
        """What the cashier reads before finalizing."""
        if self.modelo == MODELO_NFE:
            quem = f" · {self.cliente.nome}" if self.cliente else " · cliente a cadastrar"
            return f"Emite NF-e modelo 55{quem}"
        return "Emite NFC-e modelo 65"


def choose_document(ctx: AppContext, cnpj: str | None, on: date | None = None) -> DocumentChoice:
    """The document a sale to ``cnpj`` (None: CPF or anonymous) gets in this store today."""
    emitente = ctx.emitente()
    when = on or ctx.now().date()
    override = ctx.config.get("nfe.destinatario_cnpj") or "auto"
    modelo = modelo_for_sale(emitente.uf, when, buyer_is_cnpj=bool(cnpj), override=override)
    cliente = ctx.store.clientes.get(cnpj) if (cnpj and modelo == MODELO_NFE) else None
    return DocumentChoice(modelo, cliente)


def choice_for_sale(ctx: AppContext, sale: Sale) -> DocumentChoice:
    """As :func:`choose_document`, refusing an NF-e sale whose buyer is not in the customer list."""
    choice = choose_document(ctx, sale.cnpj or None)
    if choice.modelo == MODELO_NFE and choice.cliente is None:
        raise ValidationError(
            "cnpj_destinatario",
            f"Venda a CNPJ sai em NF-e modelo 55: cadastre o cliente {sale.cnpj} (nome, IE e endereço) "
            "antes de finalizar (pos-app clientes salvar, ou a tela da venda).",
        )
    return choice
