"""Typo guards of a sale, enforced by the core (cashier window and ``pos-app sell`` alike).

A cashier who types ``1000`` for a R$ 27,90 sale, ``0,5*`` on a product sold by the unit or
``1001*100000`` must be stopped before the note is issued:

* fractional quantity on a unit that is not divisible (UN, CX, PC...) -> refused (no override);
* quantity of one item above ``venda.quantidade_maxima_item`` -> needs confirmation (a manager in the
  window);
* sale total above ``venda.total_maximo`` -> needs confirmation (a manager in the window);
* cash tendered more than ``venda.troco_maximo`` above what was due -> needs confirmation.

Pure functions over the domain ``Sale``/``Product`` and the limits read from the settings; the cart
service calls :func:`check_item` on each add and :func:`check_sale` before checkout.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.money import format_brl, format_quantity

__all__ = [
    "FRACTIONAL_UNITS",
    "GuardIssue",
    "GuardLimits",
    "SaleGuardError",
    "allows_fraction",
    "check_item",
    "check_quantity_unit",
    "check_sale",
    "item_issues",
    "payment_issues",
    "sale_issues",
]

# Units of measure that can be sold in fractions (weight, volume, length, area).
FRACTIONAL_UNITS: frozenset[str] = frozenset(
    {
        "KG",
        "G",
        "GR",
        "MG",
        "T",
        "TON",
        "L",
        "LT",
        "ML",
        "M",
        "MT",
        "CM",
        "MM",
        "M2",
        "M²",
        "M3",
        "M³",
        "KWH",
    }
)

DEFAULT_TROCO_MAXIMO = Decimal("200.00")
DEFAULT_QUANTIDADE_MAXIMA = Decimal("100")
DEFAULT_TOTAL_MAXIMO = Decimal("5000.00")

# Issue codes (stable: tests, CLI JSON and the audit log use them).
FRACAO = "quantidade_fracionada"
QUANTIDADE_ALTA = "quantidade_alta"
TOTAL_ALTO = "total_alto"
TROCO_ALTO = "troco_alto"


class _Settings(Protocol):
    def get(self, key: str) -> str | None: ...


@dataclass(frozen=True)
class GuardLimits:
    """The manager-configurable limits (0 turns a limit off)."""

    troco_maximo: Decimal = DEFAULT_TROCO_MAXIMO
    quantidade_maxima_item: Decimal = DEFAULT_QUANTIDADE_MAXIMA
    total_maximo: Decimal = DEFAULT_TOTAL_MAXIMO

    @classmethod
    def from_config(cls, config: _Settings | None) -> GuardLimits:
        def read(key: str, default: Decimal) -> Decimal:
            raw = config.get(key) if config is not None else None
            try:
                return Decimal(str(raw).replace(",", ".")) if raw not in (None, "") else default
            except ArithmeticError:
                return default

        return cls(
            read("venda.troco_maximo", DEFAULT_TROCO_MAXIMO),
            read("venda.quantidade_maxima_item", DEFAULT_QUANTIDADE_MAXIMA),
            read("venda.total_maximo", DEFAULT_TOTAL_MAXIMO),
        )


@dataclass(frozen=True)
class GuardIssue:
    """Something unusual in the sale. ``needs_manager``: the window asks a manager's PIN (the CLI takes
    ``--confirmar``); otherwise the cashier confirms."""

    code: str
    message: str
    needs_manager: bool = False


class SaleGuardError(ValidationError):
    """The sale has issues that were not confirmed; ``issues`` lists them."""

    def __init__(self, issues: Iterable[GuardIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__(
            self.issues[0].code if self.issues else "venda", " ".join(i.message for i in self.issues)
        )

    def __reduce__(self) -> Any:  # pickling across worker threads/processes
        return (_rebuild, (self.issues,))


def _rebuild(issues: tuple[GuardIssue, ...]) -> SaleGuardError:
    return SaleGuardError(issues)


def allows_fraction(unidade: str | None) -> bool:
    return (unidade or "UN").strip().upper() in FRACTIONAL_UNITS


def check_quantity_unit(product: Any, quantidade: Decimal) -> None:
    """Refuse ``0,5`` of a product sold by the unit (hard error, no confirmation)."""
    if quantidade != quantidade.to_integral_value() and not allows_fraction(
        getattr(product, "unidade", None)
    ):
        raise ValidationError(
            FRACAO,
            f"Quantidade fracionada ({format_quantity(quantidade)}) não permitida para {product.descricao}, vendido por unidade "
            f"({product.unidade}): use uma quantidade inteira.",
        )


def item_issues(product: Any, quantidade: Decimal, limits: GuardLimits) -> list[GuardIssue]:
    """Issues of adding ``quantidade`` of ``product`` (the fractional check raises instead)."""
    check_quantity_unit(product, quantidade)
    issues = []
    if limits.quantidade_maxima_item > 0 and quantidade > limits.quantidade_maxima_item:
        issues.append(
            GuardIssue(
                QUANTIDADE_ALTA,
                f"Quantidade {format_quantity(quantidade)} {product.unidade} de {product.descricao} acima do limite de {format_quantity(limits.quantidade_maxima_item)} por item.",
                needs_manager=True,
            )
        )
    return issues


def check_item(product: Any, quantidade: Decimal, limits: GuardLimits, *, confirmed: bool = False) -> None:
    """Cart hook: raise when the item must not be added as typed."""
    issues = item_issues(product, quantidade, limits)
    if issues and not confirmed:
        raise SaleGuardError(issues)


def total_issues(total: Decimal, limits: GuardLimits) -> list[GuardIssue]:
    if limits.total_maximo > 0 and total > limits.total_maximo:
        return [
            GuardIssue(
                TOTAL_ALTO,
                f"Total da venda {format_brl(total)} acima do limite de {format_brl(limits.total_maximo)}.",
                needs_manager=True,
            )
        ]
    return []


def payment_issues(
    valor_total: Decimal, already_paid: Decimal, forma: str, valor: Decimal, limits: GuardLimits
) -> list[GuardIssue]:
    """Issues of tendering ``valor`` in ``forma`` when ``already_paid`` of ``valor_total`` was paid."""
    if forma != "01" or limits.troco_maximo <= 0:
        return []
    due = max(valor_total - already_paid, Decimal(0))
    change = valor - due
    if change > limits.troco_maximo:
        return [
            GuardIssue(
                TROCO_ALTO,
                f"Dinheiro recebido {format_brl(valor)} para {format_brl(due)} a pagar: troco de {format_brl(change)}, acima de {format_brl(limits.troco_maximo)}. "
                "Confira o valor digitado.",
            )
        ]
    return []


def sale_issues(sale: Any, limits: GuardLimits) -> list[GuardIssue]:
    """Every issue of a whole sale (items, total, payments in order)."""
    issues: list[GuardIssue] = []
    for item in sale.items:
        issues += item_issues(item.product, Decimal(item.quantidade), limits)
    issues += total_issues(sale.valor_total, limits)
    paid = Decimal(0)
    for p in sale.payments:
        issues += payment_issues(sale.valor_total, paid, p.forma, Decimal(p.valor), limits)
        paid += Decimal(p.valor)
    return issues


def check_sale(sale: Any, limits: GuardLimits, *, confirmed: bool = False) -> list[GuardIssue]:
    """Before checkout: fractional quantities always raise; other issues raise unless ``confirmed``.
    Returns the (confirmed) issues so the caller can log them."""
    issues = sale_issues(sale, limits)
    if issues and not confirmed:
        raise SaleGuardError(issues)
    return issues


def as_warning(issue: GuardIssue) -> Any:
    """A finding in the cart service's form (``cart.GuardWarning``): every issue needs a confirmation."""
    from pos_app.core.services.cart import GuardWarning  # the cart loads this module: no import cycle

    return GuardWarning(issue.code, issue.message, blocking=True, needs_manager=issue.needs_manager)


def guard_sale(ctx: Any, sale: Any) -> list[Any]:
    """The cart service's guard hook (``CartService.check_guards``, used by ``pos-app sell``): every
    issue of the whole sale; a fraction of a unit product is a finding no confirmation overrides."""
    from pos_app.core.services.cart import GuardWarning

    try:
        issues = sale_issues(sale, GuardLimits.from_config(ctx.config))
    except ValidationError as exc:
        return [GuardWarning(exc.field, exc.message, blocking=True, confirmable=False)]
    return [as_warning(i) for i in issues]


GUARDS = [guard_sale]
"""Guards run by ``CartService.check_guards`` (``guard(ctx, sale) -> warnings``)."""
