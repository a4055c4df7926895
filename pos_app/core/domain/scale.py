"""Labels printed by store scales: EAN-13 starting with ``2`` carrying a product code and a value.

Layout (configurable by ``balanca.digitos_codigo`` and ``balanca.modo``)::

    2 CCCCCC VVVVV D        code digits: 4, 5 or 6 right after the leading "2" (default 6);
                            any digits between the code and the value are ignored;
                            V: the 5 digits before the check digit, price in cents
                            (``preco``, up to R$ 999,99) or weight in grams (``peso``, up to 99,999 kg);
                            D: the EAN-13 check digit.

A price label becomes quantity = price / unit price (4 places) and a unit value adjusted (up to
10 places) so that the line total equals the printed price to the cent; goods not sold by weight
get quantity 1 at the printed price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Literal

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.money import to_money
from pos_app.core.domain.validators import is_valid_gtin

__all__ = ["ScaleLabel", "ScaleRule", "decode_scale_label", "is_scale_label", "scale_item_amounts"]

ScaleMode = Literal["preco", "peso"]
WEIGHED_UNITS = frozenset({"KG", "G", "GR", "KGS"})
_Q4 = Decimal("0.0001")
_V10 = Decimal("1E-10")


@dataclass(frozen=True)
class ScaleRule:
    mode: ScaleMode = "preco"
    code_digits: int = 6

    def __post_init__(self) -> None:
        if self.mode not in ("preco", "peso"):
            raise ValueError(f"modo de balança inválido: {self.mode!r}")
        if not 4 <= self.code_digits <= 6:
            raise ValueError("dígitos do código da balança: de 4 a 6")


@dataclass(frozen=True)
class ScaleLabel:
    product_code: str
    """The code printed on the label, without leading zeros."""
    mode: ScaleMode
    value: Decimal
    """R$ for ``preco``, kg for ``peso``."""


def is_scale_label(code: str) -> bool:
    """13 digits starting with 2 (in-store EAN range)."""
    return len(code) == 13 and code.isdigit() and code[0] == "2"


def decode_scale_label(code: str, rule: ScaleRule) -> ScaleLabel:
    """Split a scale label; raises ValidationError for a wrong check digit or a zero value."""
    if not is_scale_label(code):
        raise ValidationError("codigo", f"Não é uma etiqueta de balança: {code}")
    if not is_valid_gtin(code):
        raise ValidationError("codigo", f"Etiqueta de balança com dígito verificador inválido: {code}")
    product_code = code[1 : 1 + rule.code_digits].lstrip("0") or "0"
    raw = int(code[7:12])
    if raw == 0:
        raise ValidationError("codigo", "Etiqueta de balança com valor zero")
    value = Decimal(raw).scaleb(-2) if rule.mode == "preco" else Decimal(raw).scaleb(-3)
    return ScaleLabel(product_code, rule.mode, value)


def scale_item_amounts(product: Product, label: ScaleLabel) -> tuple[Decimal, Decimal]:
    """(quantidade, valor_unitario) of the sale line for a label, matching the label's price."""
    if label.mode == "peso":
        return label.value.quantize(Decimal("0.001")), product.preco
    price = to_money(label.value)
    if product.unidade.strip().upper() not in WEIGHED_UNITS:
        return Decimal(1), price
    with localcontext() as ctx:
        ctx.prec = 40
        quantity = (price / product.preco).quantize(_Q4, rounding=ROUND_HALF_UP)
        if quantity <= 0:
            quantity = _Q4
        unit = (price / quantity).quantize(_V10, rounding=ROUND_HALF_UP)
        if to_money(quantity * unit) != price:  # pragma: no cover - 10 places always suffice here
            unit = product.preco
    return quantity, unit
