"""What the code field understands: ``CODE``, ``3*CODE``, ``1,5*CODE`` and scale labels."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.money import decimal_places, parse_decimal
from pos_app.core.domain.scale import ScaleRule, decode_scale_label, is_scale_label, scale_item_amounts
from pos_app.core.errors import PosError
from pos_app.core.store.products import ProductsRepo
from pos_app.ui.i18n import tr

MAX_QUANTITY = Decimal(99999)


class ScanError(PosError, ValueError):
    """Portuguese message for the cashier."""

    kind = "validacao"


@dataclass(frozen=True)
class ScanResult:
    product: Product
    quantidade: Decimal
    valor_unitario: Decimal | None  # None: the product's price
    from_scale: bool = False


def parse_quantity(text: str) -> Decimal:
    try:
        q = parse_decimal(text.strip(), "quantidade", "Quantidade")
    except ValidationError as exc:
        raise ScanError(exc.message) from exc
    if q <= 0:
        raise ScanError(tr("Quantidade deve ser maior que zero."))
    if decimal_places(q) > 4:
        raise ScanError(tr("Quantidade com no máximo 4 casas decimais."))
    if q > MAX_QUANTITY:
        raise ScanError(tr("Quantidade muito alta: confira o que foi digitado."))
    return q


def split_entry(text: str) -> tuple[Decimal | None, str]:
    """``"3*789..."`` -> (3, "789..."); ``"789..."`` -> (None, "789...")."""
    entry = text.strip()
    if "*" in entry:
        qty_text, _, code = entry.partition("*")
        code = code.strip()
        if not code:
            raise ScanError(tr("Depois da quantidade e do *, leia ou digite o código do produto."))
        return parse_quantity(qty_text), code
    return None, entry


def resolve(products: ProductsRepo, text: str, rule: ScaleRule, pending_quantity: Decimal | None = None) -> ScanResult:
    """Find the product of a scanned/typed entry and its quantity."""
    quantity, code = split_entry(text)
    if not code:
        raise ScanError(tr("Leia o código de barras ou digite o código do produto."))
    quantity = quantity or pending_quantity
    product = products.lookup(code)
    if product is not None:
        return ScanResult(product, quantity or Decimal(1), None)
    if is_scale_label(code):
        try:
            label = decode_scale_label(code, rule)
        except ValidationError as exc:
            raise ScanError(exc.message) from exc
        product = products.lookup(label.product_code)
        if product is None:
            raise ScanError(tr("Produto da etiqueta de balança não cadastrado (código {codigo}).").format(codigo=label.product_code))
        if quantity is not None:
            raise ScanError(tr("Etiqueta de balança já traz a quantidade: leia sem multiplicar."))
        q, unit = scale_item_amounts(product, label)
        return ScanResult(product, q, unit, from_scale=True)
    stripped = code.lstrip("0")
    if stripped and stripped != code:
        product = products.lookup(stripped)
        if product is not None:
            return ScanResult(product, quantity or Decimal(1), None)
    raise ScanError(tr("Produto não encontrado: {codigo}. Use F2 para buscar pelo nome.").format(codigo=code))
