"""The cart rules shared by the cashier window and ``pos-app sell``.

One place for: what the code field / ``--item`` understands (``CODE``, ``QTY*CODE``, ``1,5*CODE``,
scale labels; the CLI's old ``CODE*QTY`` is still read, with a deprecation notice), the sale
discount with the cashier's limit (above ``venda.desconto_maximo_percentual`` a manager must
authorize), payment aliases (``dinheiro``, ``pix``, ``credito:visa``...) and the hook where the
per-sale typo guards plug in (``CartService.check_guards``).

The window keeps its Qt model of the lines (``ui/cart_model.py``) over the same ``Sale``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.money import decimal_places, format_brl, format_quantity, parse_decimal, to_money
from pos_app.core.domain.payments import PAYMENT_METHODS, Payment
from pos_app.core.domain.sale import Sale, SaleItem
from pos_app.core.domain.scale import ScaleRule, decode_scale_label, is_scale_label, scale_item_amounts
from pos_app.core.errors import PosError

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.products import ProductsRepo
    from pos_app.core.store.users import User

MAX_QUANTITY = Decimal(99999)
DEFAULT_MAX_DISCOUNT_PERCENT = Decimal(10)

PAYMENT_ALIASES = {
    "dinheiro": "01",
    "cheque": "02",
    "credito": "03",
    "crédito": "03",
    "debito": "04",
    "débito": "04",
    "loja": "05",
    "alimentacao": "10",
    "refeicao": "11",
    "presente": "12",
    "combustivel": "13",
    "boleto": "15",
    "deposito": "16",
    "pix": "17",
    "pix_dinamico": "17",
    "pix_estatico": "20",
    "transferencia": "18",
    "cashback": "19",
    "outros": "99",
    # static PIX (QR code with the store's key, confirmed by the operator; issue 17)
    "pix-estatico": "20",
    "pix-estático": "20",
    "pix-dinamico": "17",
}

CARD_BRAND_ALIASES = {
    "visa": "01",
    "mastercard": "02",
    "master": "02",
    "amex": "03",
    "sorocred": "04",
    "diners": "05",
    "elo": "06",
    "hipercard": "07",
    "outros": "99",
}

DEPRECATED_ITEM_FORM = (
    "Aviso: a forma CODIGO*QUANTIDADE ({spec}) está obsoleta; use QUANTIDADE*CODIGO ({new}), como no caixa."
)


class EntryError(PosError, ValueError):
    """An item entry that cannot be understood (Portuguese message for the cashier)."""

    kind = "validacao"

    def __init__(self, message: str, field: str = "item") -> None:
        super().__init__(message)
        self.field = field


class DiscountNeedsManager(PosError):
    """The discount is above the cashier's limit: a manager must authorize it."""

    kind = "permissao"

    def __init__(self, message: str, percent: Decimal) -> None:
        super().__init__(message)
        self.percent = percent


@dataclass(frozen=True)
class ScanResult:
    product: Product
    quantidade: Decimal
    valor_unitario: Decimal | None  # None: the product's price
    from_scale: bool = False


@dataclass(frozen=True)
class Discount:
    """A sale discount as typed: ``valor`` in R$ and, when typed as ``10%``, the percent."""

    valor: Decimal
    percentual: Decimal | None
    percentual_efetivo: Decimal  # of the discountable amount, for the cashier's limit


@dataclass(frozen=True)
class GuardWarning:
    """A typo guard's finding: ``blocking`` ones need the cashier to confirm (or a manager)."""

    code: str
    message: str
    blocking: bool = False
    confirmable: bool = True  # False: refused even when confirmed (a fraction of a unit product)
    needs_manager: bool = False  # the window asks a manager's PIN instead of the cashier's confirmation


# -- item entry ---------------------------------------------------------------------------------
def parse_quantity(text: str) -> Decimal:
    try:
        q = parse_decimal(text.strip(), "quantidade", "Quantidade")
    except ValidationError as exc:
        raise EntryError(exc.message, "quantidade") from exc
    if q <= 0:
        raise EntryError("Quantidade deve ser maior que zero.", "quantidade")
    if decimal_places(q) > 4:
        raise EntryError("Quantidade com no máximo 4 casas decimais.", "quantidade")
    if q > MAX_QUANTITY:
        raise EntryError("Quantidade muito alta: confira o que foi digitado.", "quantidade")
    return q


def split_entry(text: str) -> tuple[Decimal | None, str]:
    """``"3*789..."`` -> (3, "789..."); ``"789..."`` -> (None, "789...")."""
    entry = text.strip()
    if "*" in entry:
        qty_text, _, code = entry.partition("*")
        code = code.strip()
        if not code:
            raise EntryError("Depois da quantidade e do *, leia ou digite o código do produto.")
        return parse_quantity(qty_text), code
    return None, entry


def resolve(
    products: ProductsRepo, text: str, rule: ScaleRule, pending_quantity: Decimal | None = None
) -> ScanResult:
    """Find the product of a scanned/typed entry (``CODE``, ``QTY*CODE``, scale label) and its quantity."""
    quantity, code = split_entry(text)
    if not code:
        raise EntryError("Leia o código de barras ou digite o código do produto.")
    quantity = quantity or pending_quantity
    product = products.lookup(code)
    if product is not None:
        return ScanResult(product, quantity or Decimal(1), None)
    if is_scale_label(code):
        try:
            label = decode_scale_label(code, rule)
        except ValidationError as exc:
            raise EntryError(exc.message) from exc
        product = products.lookup(label.product_code)
        if product is None:
            raise EntryError(f"Produto da etiqueta de balança não cadastrado (código {label.product_code}).")
        if quantity is not None:
            raise EntryError("Etiqueta de balança já traz a quantidade: leia sem multiplicar.")
        q, unit = scale_item_amounts(product, label)
        return ScanResult(product, q, unit, from_scale=True)
    stripped = code.lstrip("0")
    if stripped and stripped != code:
        product = products.lookup(stripped)
        if product is not None:
            return ScanResult(product, quantity or Decimal(1), None)
    raise EntryError(f"Produto não encontrado: {code}. Use F2 para buscar pelo nome.")


def old_cli_item(products: ProductsRepo, spec: str) -> tuple[str, str] | None:
    """The CLI's ``--item``: ``QTY*CODE`` (as in the window) or the old ``CODE*QTY``.

    The old form is recognised when the left part is a product code/EAN and the right part is not
    (``7891000100103*2``; ``2*7891000100103`` is the new form). Returns (code, quantity text or
    None) for the old form, None for the new one.
    """
    left, sep, right = spec.strip().partition("*")
    if not sep:
        return None
    left, right = left.strip(), right.strip()
    if products.lookup(left) is not None and products.lookup(right) is None:
        return left, right
    return None


# -- payments -------------------------------------------------------------------------------------
def payment_code(text: str) -> str:
    """``"pix"`` / ``"17"`` -> ``"17"``; refuses an unknown method."""
    code = PAYMENT_ALIASES.get(text.strip().lower(), text.strip())
    if code not in PAYMENT_METHODS:
        raise ValidationError("pay", f"Forma de pagamento desconhecida: {text}")
    return code


def card_brand_code(text: str) -> str:
    return CARD_BRAND_ALIASES.get(text.strip().lower(), text.strip()) or "99"


def parse_payment(spec: str) -> Payment:
    """``FORMA:VALOR[:BANDEIRA]`` (``pix:10,00``, ``credito:50:visa``)."""
    forma, sep, rest = spec.partition(":")
    amount, _, brand = rest.partition(":")
    if not sep:
        raise ValidationError("pay", f"Pagamento inválido: {spec!r} (use FORMA:VALOR)")
    code = payment_code(forma)
    try:
        valor = parse_decimal(amount)
    except (ValidationError, ValueError) as exc:
        raise ValidationError("pay", f"Valor inválido em pay: {amount!r}") from exc
    bandeira = card_brand_code(brand) if code in ("03", "04") else None
    return Payment(forma=code, valor=valor, bandeira=bandeira)


# -- the service --------------------------------------------------------------------------------
class CartService:
    """A sale being built at a terminal (window or CLI), with the store's rules."""

    def __init__(self, ctx: AppContext, sale: Sale | None = None) -> None:
        self.ctx = ctx
        self.sale = sale if sale is not None else Sale()
        self.discount_percent: Decimal | None = None
        cfg = ctx.config
        mode = cfg.get("balanca.modo") or "preco"
        self.scale_rule = ScaleRule(
            "peso" if mode == "peso" else "preco", int(cfg.get("balanca.digitos_codigo") or 6)
        )
        self.max_discount = Decimal(
            cfg.get("venda.desconto_maximo_percentual") or DEFAULT_MAX_DISCOUNT_PERCENT
        )

    # items ------------------------------------------------------------------------------------
    def resolve(self, text: str, pending_quantity: Decimal | None = None) -> ScanResult:
        return resolve(self.ctx.store.products, text, self.scale_rule, pending_quantity)

    def new_item(
        self, product: Product, quantidade: Decimal, valor_unitario: Decimal | None = None
    ) -> SaleItem:
        """A validated line (not yet in the sale): nothing changes when it raises."""
        item = SaleItem(product, quantidade, product.preco if valor_unitario is None else valor_unitario)
        item.validate()
        return item

    def add_entry(self, text: str, pending_quantity: Decimal | None = None) -> SaleItem:
        found = self.resolve(text, pending_quantity)
        item = self.new_item(found.product, found.quantidade, found.valor_unitario)
        self.sale.add_item(item)
        self.items_changed()
        return item

    def items_changed(self) -> str | None:
        """Keep the sale discount consistent after lines changed; returns a notice for the cashier."""
        sale = self.sale
        if not sale.items:
            sale.desconto_venda = Decimal(0)
            self.discount_percent = None
        elif self.discount_percent is not None:
            sale.set_sale_discount_percent(self.discount_percent)
        elif sale.desconto_venda and sale.desconto_venda > sale.discountable():
            sale.set_sale_discount(0)
            return "O desconto da venda foi retirado porque passou do valor dos produtos."
        return None

    # discount ---------------------------------------------------------------------------------
    def parse_discount(self, text: str) -> Discount:
        """``"5,00"`` (R$) or ``"10%"`` of the discountable amount; ValidationError when out of range."""
        sale = self.sale
        base = sale.discountable()
        t = text.strip().replace(" ", "")
        if t.endswith("%"):
            pct = parse_decimal(t[:-1], "percentual_desconto", "Percentual")
            if not 0 <= pct <= 100:
                raise ValidationError("percentual_desconto", "O percentual deve estar entre 0 e 100.")
            return Discount(to_money(base * pct / 100), pct, pct)
        value = parse_decimal(t, "desconto_venda", "Desconto")
        if value < 0:
            raise ValidationError("desconto_venda", "O desconto não pode ser negativo.")
        if value > base:
            raise ValidationError(
                "desconto_venda", f"Desconto maior que o valor dos produtos ({format_brl(base)})."
            )
        return Discount(to_money(value), None, value * 100 / base if base else Decimal(0))

    def needs_manager(self, discount: Discount) -> bool:
        return discount.percentual_efetivo > self.max_discount

    def limit_message(self, discount: Discount) -> str:
        return (
            f"Desconto de {format_quantity(discount.percentual_efetivo.quantize(Decimal('0.01')))}% acima do "
            f"limite de {format_quantity(self.max_discount)}% para o caixa."
        )

    def apply_discount(self, discount: Discount, *, authorized_by: User | None = None) -> Decimal:
        """Apply the discount; above the cashier's limit ``authorized_by`` must be a manager
        (PIN checked by the caller). Returns the discount now on the sale."""
        if self.needs_manager(discount) and (authorized_by is None or authorized_by.papel != "gerente"):
            raise DiscountNeedsManager(
                self.limit_message(discount) + " Peça a autorização do gerente.", discount.percentual_efetivo
            )
        if discount.percentual is not None:
            self.sale.set_sale_discount_percent(discount.percentual)
        else:
            self.sale.set_sale_discount(discount.valor)
        self.discount_percent = discount.percentual if discount.percentual else None
        return self.sale.valor_desconto

    # payments ---------------------------------------------------------------------------------
    def add_payment(self, payment: Payment) -> None:
        self.sale.add_payment(payment)

    # typo guards (issue 14) -------------------------------------------------------------------
    def check_guards(self) -> list[GuardWarning]:
        """Run the per-sale typo guards (``core/services/sale_guards.py``, when present) over the
        sale before payment. The window asks the cashier to confirm blocking findings; the CLI
        refuses them. Returns no findings when no guard module is installed."""
        guards = _load_guards()
        found: list[GuardWarning] = []
        for guard in guards:
            for warning in guard(self.ctx, self.sale) or ():
                found.append(
                    warning
                    if isinstance(warning, GuardWarning)
                    else GuardWarning(
                        str(getattr(warning, "code", "guarda")),
                        str(getattr(warning, "message", warning)),
                        bool(getattr(warning, "blocking", False)),
                    )
                )
        return found

    def item_guards(self, product: Product, quantidade: Decimal) -> list[GuardWarning]:
        """Guards of adding ``quantidade`` of ``product`` (window: on each add). A fraction of a product
        sold by the unit raises :class:`ValidationError` (no override)."""
        from pos_app.core.services import sale_guards

        limits = sale_guards.GuardLimits.from_config(self.ctx.config)
        return [sale_guards.as_warning(i) for i in sale_guards.item_issues(product, quantidade, limits)]

    def total_guards(self) -> list[GuardWarning]:
        """Guard of the sale total (window: before payment)."""
        from pos_app.core.services import sale_guards

        limits = sale_guards.GuardLimits.from_config(self.ctx.config)
        return [sale_guards.as_warning(i) for i in sale_guards.total_issues(self.sale.valor_total, limits)]


def _load_guards() -> list[Callable[[Any, Sale], Any]]:
    """``sale_guards.GUARDS`` (a list of ``guard(ctx, sale) -> iterable of warnings``), if installed."""
    try:
        module = importlib.import_module("pos_app.core.services.sale_guards")
    except ModuleNotFoundError:
        return []
    return list(getattr(module, "GUARDS", []))
