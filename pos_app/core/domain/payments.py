"""Payment methods (formas de pagamento) of an NFC-e."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.money import as_decimal, decimal_places
from pos_app.core.domain.validators import format_cnpj, is_valid_cnpj, normalize_cnpj

__all__ = [
    "CARD_BRANDS",
    "CARD_METHODS",
    "CASH",
    "INTEGRABLE_METHODS",
    "PAYMENT_METHODS",
    "PIX_DINAMICO",
    "PIX_ESTATICO",
    "Payment",
]

PAYMENT_METHODS: dict[str, str] = {
    "01": "Dinheiro",
    "03": "Cartão de crédito",
    "04": "Cartão de débito",
    "17": "PIX dinâmico",
    "20": "PIX estático",
    "10": "Vale alimentação",
    "11": "Vale refeição",
    "12": "Vale presente",
    "13": "Vale combustível",
    "05": "Crédito loja",
    "02": "Cheque",
    "99": "Outros",
}
"""``forma_pagamento`` code -> label, in the order the payment screen shows them."""

CARD_BRANDS: dict[str, str] = {
    "01": "Visa",
    "02": "Mastercard",
    "03": "American Express",
    "04": "Sorocred",
    "05": "Diners",
    "06": "Elo",
    "07": "Hipercard",
    "99": "Outros",
}
"""``bandeira_operadora`` code -> label."""

PAYMENT_GROUPS: dict[str, str] = {
    "01": "Dinheiro",
    "03": "Cartões",
    "04": "Cartões",
    "17": "PIX",
    "20": "PIX",
}
"""Reports and the cash closing add up PIX apart from cash and cards; anything else is "Outros"."""

CASH = "01"
CARD_METHODS: frozenset[str] = frozenset({"03", "04"})
PIX_DINAMICO = "17"
PIX_ESTATICO = "20"
INTEGRABLE_METHODS: frozenset[str] = frozenset({"03", "04", PIX_DINAMICO})
"""Methods that may be integrated with the terminal (``tipo_integracao`` 1: TEF/POS card, dynamic PIX):
then ``cnpj_credenciadora`` and ``numero_autorizacao`` (for PIX the endToEndId) are mandatory."""
TIPO_INTEGRADO = "1"
TIPO_NAO_INTEGRADO = "2"


@dataclass
class Payment:
    """One payment. ``valor`` is what the customer handed over for this method (for cash it
    may exceed what is due; the sale computes troco). Card payments (03/04) need ``bandeira``;
    ``cnpj_credenciadora`` and ``numero_autorizacao`` are filled for integrated (TEF) payments.

    ``tipo_integracao``: ``"1"`` integrated with the terminal (both fields then mandatory), ``"2"``
    not integrated; ``None`` means "1" when both fields are filled, else "2" (for 03/04/17)."""

    forma: str
    valor: Decimal
    bandeira: str | None = None
    cnpj_credenciadora: str | None = None
    numero_autorizacao: str | None = None
    tipo_integracao: str | None = None
    pix_brcode: str | None = (
        None  # static PIX: the BR Code shown at the counter (kept, never sent to the API)
    )

    def __post_init__(self) -> None:
        self.valor = as_decimal(self.valor, "valor_pagamento", "Valor do pagamento")
        if self.bandeira is not None and not self.bandeira.strip():
            self.bandeira = None
        if self.cnpj_credenciadora is not None and not self.cnpj_credenciadora.strip():
            self.cnpj_credenciadora = None
        elif self.cnpj_credenciadora is not None and is_valid_cnpj(self.cnpj_credenciadora):
            self.cnpj_credenciadora = normalize_cnpj(
                self.cnpj_credenciadora
            )  # 14 characters, letters upper-case
        if self.tipo_integracao is not None:
            self.tipo_integracao = str(self.tipo_integracao).strip() or None
        if self.numero_autorizacao is not None and not self.numero_autorizacao.strip():
            self.numero_autorizacao = None

    @property
    def is_card(self) -> bool:
        return self.forma in CARD_METHODS

    @property
    def integracao(self) -> str | None:
        """``tipo_integracao`` to send: None for methods that have none (cash, vouchers...)."""
        if self.tipo_integracao is not None:
            return self.tipo_integracao
        if self.forma not in INTEGRABLE_METHODS:
            return None
        return TIPO_INTEGRADO if self.cnpj_credenciadora and self.numero_autorizacao else TIPO_NAO_INTEGRADO

    @property
    def is_cash(self) -> bool:
        return self.forma == CASH

    @property
    def label(self) -> str:
        """Portuguese name of the method (``"Cartão de crédito"``)."""
        return PAYMENT_METHODS.get(self.forma, f"Forma {self.forma}")

    def validate(self) -> None:
        if self.forma not in PAYMENT_METHODS:
            raise ValidationError("forma_pagamento", f"Forma de pagamento inválida: {self.forma!r}")
        if self.valor <= 0:
            raise ValidationError("valor_pagamento", "Valor do pagamento deve ser maior que zero")
        if decimal_places(self.valor) > 2:
            raise ValidationError("valor_pagamento", "Valor do pagamento deve ter no máximo 2 casas decimais")
        if self.is_card:
            if self.bandeira is None:
                raise ValidationError("bandeira_operadora", "Informe a bandeira do cartão")
            if self.bandeira not in CARD_BRANDS:
                raise ValidationError("bandeira_operadora", f"Bandeira do cartão inválida: {self.bandeira!r}")
        elif self.bandeira is not None and self.bandeira not in CARD_BRANDS:
            raise ValidationError("bandeira_operadora", f"Bandeira do cartão inválida: {self.bandeira!r}")
        if self.cnpj_credenciadora is not None and not is_valid_cnpj(self.cnpj_credenciadora):
            raise ValidationError(
                "cnpj_credenciadora",
                f"CNPJ da credenciadora inválido: {format_cnpj(self.cnpj_credenciadora)}",
            )
        if self.tipo_integracao is not None and self.tipo_integracao not in (
            TIPO_INTEGRADO,
            TIPO_NAO_INTEGRADO,
        ):
            raise ValidationError(
                "tipo_integracao", f"Tipo de integração inválido: {self.tipo_integracao!r} (1 ou 2)"
            )
        integrated = self.tipo_integracao == TIPO_INTEGRADO or (
            self.tipo_integracao is None
            and self.forma in INTEGRABLE_METHODS
            and bool(self.cnpj_credenciadora or self.numero_autorizacao)
        )
        if integrated:
            # NT 2015.002 / Focus: tipo_integracao 1 (TEF/POS integrated) requires both fields.
            if not self.cnpj_credenciadora:
                raise ValidationError(
                    "cnpj_credenciadora",
                    "Pagamento integrado (tipo_integracao 1): informe o CNPJ da credenciadora",
                )
            if not self.numero_autorizacao:
                raise ValidationError(
                    "numero_autorizacao",
                    "Pagamento integrado (tipo_integracao 1): informe o número de autorização"
                    + (" (endToEndId do PIX)" if self.forma == PIX_DINAMICO else ""),
                )
        if self.numero_autorizacao is not None and len(self.numero_autorizacao) > 128:
            raise ValidationError(
                "numero_autorizacao", "Número de autorização deve ter no máximo 128 caracteres"
            )
