"""A sale in progress: items, discounts, payments and the totals of the NFC-e.

Totals follow the Focus NFe/NFC-e rules:

* ``valor_bruto`` of an item = quantidade x valor_unitario rounded to cents (ROUND_HALF_UP);
* ``valor_desconto`` of an item = its manual discount + its share of the sale discount;
* ``valor_produtos`` = sum of ``valor_bruto``; ``valor_desconto`` = sum of item discounts;
  ``valor_total`` = ``valor_produtos - valor_desconto``;
* ``troco`` = ``total_pago - valor_total`` when positive; it can only come from cash.

The sale discount is apportioned over the items proportionally to ``valor_bruto``, each share
rounded to cents, the remaining cents going to the item with the largest ``valor_bruto``, so
that the item discounts add up to the sale's ``valor_desconto`` exactly. No item ever gets
more discount than its ``valor_bruto``: a share that would exceed what is left of an item
(after its manual discount) is capped and the excess spread over the other items.

Change items through the ``Sale`` methods (or by assigning to an item's ``quantidade``,
``valor_unitario`` or ``desconto_item``, which is tracked); the apportionment is recomputed
lazily when a total or an item's ``valor_desconto`` is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction
from math import floor
from typing import Any

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.money import (
    ZERO,
    DecimalLike,
    as_decimal,
    decimal_places,
    format_brl,
    to_cents,
    to_money,
)
from pos_app.core.domain.payments import Payment
from pos_app.core.domain.validators import format_cnpj, format_cpf, is_valid_cnpj, is_valid_cpf

__all__ = ["MAX_ITEMS", "MAX_PAYMENTS", "Sale", "SaleItem", "apportion_cents"]

MAX_ITEMS = 990
"""Maximum number of items in one NF-e/NFC-e."""
MAX_PAYMENTS = 100

CONSUMER_ID_REQUIRED_FROM = Decimal("10000.00")
"""Ajuste SINIEF 19/16 (cl. 11ª): an NFC-e of R$ 10.000,00 or more must identify the consumer (CPF or
CNPJ). States may set lower limits; a state-specific table would go next to this value."""
"""Maximum number of payment entries (detPag) in one NFC-e."""

_LIMIT = Decimal(10) ** 11  # qCom / vUnCom have at most 11 integer digits
_ITEM_AMOUNT_FIELDS = frozenset({"quantidade", "valor_unitario", "desconto_item"})


def apportion_cents(total: int, weights: Sequence[int], caps: Sequence[int] | None = None) -> list[int]:
    """Split ``total`` cents proportionally to ``weights``, never giving item ``i`` more than ``caps[i]``.

    Ideal shares are exact fractions; a share above its cap is fixed at the cap and the rest is
    re-split over the remaining items (repeatedly). Shares are then rounded half-up to whole
    cents and the difference goes to the items with the largest weight first (ties: lowest
    index), within their caps. Result: non-negative ints with ``sum == min(total, sum(caps))``.
    ``caps`` defaults to ``weights``.
    """
    n = len(weights)
    caps_ = [max(0, c) for c in (weights if caps is None else caps)]
    if len(caps_) != n:
        raise ValueError("weights e caps devem ter o mesmo tamanho")
    target = max(0, min(total, sum(caps_)))
    if target == 0:
        return [0] * n
    if target == sum(caps_):
        return list(caps_)
    exact: list[Fraction] = [Fraction(0)] * n
    capped = [False] * n
    active = [i for i in range(n) if caps_[i] > 0 and weights[i] > 0]
    remaining = Fraction(target)
    while active:
        weight = sum(weights[i] for i in active)
        over = [i for i in active if remaining * weights[i] > caps_[i] * weight]
        if not over:
            for i in active:
                exact[i] = remaining * weights[i] / weight
            break
        for i in over:
            exact[i] = Fraction(caps_[i])
            capped[i] = True
            remaining -= caps_[i]
        active = [i for i in active if not capped[i]]
    shares = [floor(x + Fraction(1, 2)) for x in exact]  # half-up; never above an integer cap
    diff = target - sum(shares)
    order = sorted(range(n), key=lambda i: (-weights[i], i))
    for i in order:
        if diff == 0:
            break
        step = min(diff, caps_[i] - shares[i]) if diff > 0 else -min(-diff, shares[i])
        shares[i] += step
        diff -= step
    return shares


@dataclass
class SaleItem:
    """One line of the sale. Amounts accept ``Decimal``/``int``/text; ``float`` raises ``TypeError``."""

    product: Product
    quantidade: Decimal
    valor_unitario: Decimal
    desconto_item: Decimal = ZERO
    _desconto_rateado: Decimal = field(default=ZERO, init=False, repr=False, compare=False)
    _sale: Sale | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.quantidade = as_decimal(self.quantidade, "quantidade", "Quantidade")
        self.valor_unitario = as_decimal(self.valor_unitario, "valor_unitario", "Valor unitário")
        self.desconto_item = as_decimal(self.desconto_item, "desconto_item", "Desconto do item")

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in _ITEM_AMOUNT_FIELDS:
            sale = self.__dict__.get("_sale")
            if sale is not None:
                object.__setattr__(sale, "_dirty", True)

    @property
    def valor_bruto(self) -> Decimal:
        """quantidade x valor_unitario, rounded to cents."""
        with localcontext() as ctx:
            ctx.prec = 60
            return to_money(self.quantidade * self.valor_unitario)

    @property
    def desconto_rateado(self) -> Decimal:
        """This item's share of the sale discount."""
        if self._sale is not None:
            self._sale._ensure()
        return self._desconto_rateado

    @property
    def valor_desconto(self) -> Decimal:
        """Manual item discount + share of the sale discount (``valor_desconto`` of the NFC-e item)."""
        return to_money(self.desconto_item) + self.desconto_rateado

    @property
    def valor_liquido(self) -> Decimal:
        return self.valor_bruto - self.valor_desconto

    @property
    def valor_tributos(self) -> Decimal:
        """Approximate taxes (Lei 12.741/2012) on the net value."""
        return to_money(self.valor_liquido * self.product.tributos_percentual / 100)

    def validate(self, regime: str | None = None) -> None:
        """Check the product and the amounts of this line; raises :class:`ValidationError`."""
        self.product.validate(regime)
        q = self.quantidade
        if q <= 0:
            raise ValidationError("quantidade", "Quantidade deve ser maior que zero")
        if decimal_places(q) > 4:
            raise ValidationError("quantidade", "Quantidade deve ter no máximo 4 casas decimais")
        if q >= _LIMIT:
            raise ValidationError("quantidade", "Quantidade acima do limite permitido")
        v = self.valor_unitario
        if v <= 0:
            raise ValidationError("valor_unitario", "Valor unitário deve ser maior que zero")
        if decimal_places(v) > 10:
            raise ValidationError("valor_unitario", "Valor unitário deve ter no máximo 10 casas decimais")
        if v >= _LIMIT:
            raise ValidationError("valor_unitario", "Valor unitário acima do limite permitido")
        bruto = self.valor_bruto
        if bruto <= 0:
            raise ValidationError("valor_bruto", "Valor do item deve ser de pelo menos R$ 0,01")
        d = self.desconto_item
        if d < 0:
            raise ValidationError("desconto_item", "Desconto do item não pode ser negativo")
        if decimal_places(d) > 2:
            raise ValidationError("desconto_item", "Desconto do item deve ter no máximo 2 casas decimais")
        if d > bruto:
            raise ValidationError(
                "desconto_item",
                f"Desconto do item ({format_brl(d)}) maior que o valor do item ({format_brl(bruto)})",
            )


@dataclass
class Sale:
    """A sale being rung up. ``cpf``/``cnpj`` identify the consumer (optional, only one)."""

    items: list[SaleItem] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    desconto_venda: Decimal = ZERO
    cpf: str | None = None
    cnpj: str | None = None
    _dirty: bool = field(default=True, init=False, repr=False, compare=False)
    _count: int = field(default=-1, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.desconto_venda = as_decimal(self.desconto_venda, "desconto_venda", "Desconto da venda")

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in ("items", "desconto_venda"):
            object.__setattr__(self, "_dirty", True)

    # -- apportionment -------------------------------------------------------------------

    def _ensure(self) -> None:
        items = self.items
        if not self._dirty and self._count == len(items) and all(it._sale is self for it in items):
            return
        for it in items:
            object.__setattr__(it, "_sale", self)
        weights = [to_cents(it.valor_bruto) for it in items]
        caps = [max(0, w - max(0, to_cents(it.desconto_item))) for w, it in zip(weights, items, strict=True)]
        target = max(0, to_cents(self.desconto_venda))
        for it, share in zip(items, apportion_cents(target, weights, caps), strict=True):
            object.__setattr__(it, "_desconto_rateado", Decimal(share).scaleb(-2))
        object.__setattr__(self, "_count", len(items))
        object.__setattr__(self, "_dirty", False)

    def recalculate(self) -> None:
        """Force the apportionment to be recomputed (normally automatic)."""
        object.__setattr__(self, "_dirty", True)
        self._ensure()

    def _item(self, item: int | SaleItem) -> SaleItem:
        if isinstance(item, SaleItem):
            for it in self.items:
                if it is item:
                    return it
            raise ValidationError("itens", "Item não pertence a esta venda")
        if not 0 <= item < len(self.items):
            raise ValidationError("itens", f"Item {item + 1} não existe nesta venda")
        return self.items[item]

    # -- items ---------------------------------------------------------------------------

    def add_item(
        self,
        product: Product | SaleItem,
        quantidade: DecimalLike = 1,
        valor_unitario: DecimalLike | None = None,
        desconto_item: DecimalLike = 0,
    ) -> SaleItem:
        """Append a line (``valor_unitario`` defaults to the product price). The line is validated
        first; an invalid one raises :class:`ValidationError` and is not added."""
        if len(self.items) >= MAX_ITEMS:
            raise ValidationError("itens", f"Uma venda pode ter no máximo {MAX_ITEMS} itens")
        if isinstance(product, SaleItem):
            item = product
        else:
            unit = product.preco if valor_unitario is None else valor_unitario
            item = SaleItem(
                product,
                as_decimal(quantidade, "quantidade", "Quantidade"),
                as_decimal(unit, "valor_unitario", "Valor unitário"),
                as_decimal(desconto_item, "desconto_item", "Desconto do item"),
            )
        item.validate()
        self.items.append(item)
        object.__setattr__(item, "_sale", self)
        self._dirty = True
        return item

    def remove_item(self, item: int | SaleItem) -> SaleItem:
        """Remove a line by index (0-based) or by identity and return it."""
        found = self._item(item)
        for i, it in enumerate(self.items):
            if it is found:
                del self.items[i]
                break
        self._dirty = True
        object.__setattr__(found, "_sale", None)
        object.__setattr__(found, "_desconto_rateado", ZERO)
        return found

    def set_quantity(self, item: int | SaleItem, quantidade: DecimalLike) -> None:
        it = self._item(item)
        q = as_decimal(quantidade, "quantidade", "Quantidade")
        old = it.quantidade
        it.quantidade = q
        try:
            it.validate()
        except ValidationError:
            it.quantidade = old
            raise

    def set_item_discount(self, item: int | SaleItem, valor: DecimalLike) -> None:
        it = self._item(item)
        d = as_decimal(valor, "desconto_item", "Desconto do item")
        old = it.desconto_item
        it.desconto_item = d
        try:
            it.validate()
        except ValidationError:
            it.desconto_item = old
            raise

    # -- discount ------------------------------------------------------------------------

    def discountable(self) -> Decimal:
        """What a sale discount can still take: products minus the items' own discounts."""
        return sum((it.valor_bruto - to_money(it.desconto_item) for it in self.items), ZERO)

    _discountable = discountable  # the old private name (kept for code written against it)

    def set_sale_discount(self, valor: DecimalLike) -> None:
        """Set the discount on the whole sale (in R$), apportioned over the items."""
        d = as_decimal(valor, "desconto_venda", "Desconto da venda")
        if d < 0:
            raise ValidationError("desconto_venda", "Desconto da venda não pode ser negativo")
        if decimal_places(d) > 2:
            raise ValidationError("desconto_venda", "Desconto da venda deve ter no máximo 2 casas decimais")
        available = self.discountable()
        if d > available:
            raise ValidationError(
                "desconto_venda",
                f"Desconto ({format_brl(d)}) maior que o valor dos produtos ({format_brl(available)})",
            )
        self.desconto_venda = d

    def set_sale_discount_percent(self, percentual: DecimalLike) -> Decimal:
        """Discount of ``percentual`` % over the products (after item discounts); returns the R$ value."""
        p = as_decimal(percentual, "percentual_desconto", "Percentual de desconto")
        if not ZERO <= p <= 100:
            raise ValidationError("percentual_desconto", "Percentual de desconto deve estar entre 0 e 100")
        valor = to_money(self.discountable() * p / 100)
        self.set_sale_discount(valor)
        return valor

    # -- payments ------------------------------------------------------------------------

    def add_payment(self, payment: Payment) -> Payment:
        """Add a payment after validating it. Non-cash payments may not take the non-cash
        total above ``valor_total`` (troco only comes from cash)."""
        if len(self.payments) >= MAX_PAYMENTS:
            raise ValidationError("pagamentos", f"Uma venda pode ter no máximo {MAX_PAYMENTS} pagamentos")
        payment.validate()
        if not payment.is_cash:
            limit = self.valor_total - self.total_outros
            if payment.valor > limit:
                raise ValidationError(
                    "valor_pagamento",
                    f"Pagamento em {payment.label} ({format_brl(payment.valor)}) excede o valor "
                    f"restante ({format_brl(max(limit, ZERO))}); troco só em dinheiro",
                )
        self.payments.append(payment)
        return payment

    def remove_payment(self, payment: int | Payment) -> Payment:
        if isinstance(payment, Payment):
            for i, p in enumerate(self.payments):
                if p is payment:
                    return self.payments.pop(i)
            raise ValidationError("pagamentos", "Pagamento não pertence a esta venda")
        if not 0 <= payment < len(self.payments):
            raise ValidationError("pagamentos", f"Pagamento {payment + 1} não existe nesta venda")
        return self.payments.pop(payment)

    def clear_payments(self) -> None:
        self.payments.clear()

    # -- totals --------------------------------------------------------------------------

    @property
    def valor_produtos(self) -> Decimal:
        return sum((it.valor_bruto for it in self.items), ZERO)

    @property
    def valor_desconto(self) -> Decimal:
        self._ensure()
        # Shares are fresh after _ensure(): read them directly (item.valor_desconto would re-check
        # the whole sale for every item, O(n²) on every total).
        return sum((to_money(it.desconto_item) + it._desconto_rateado for it in self.items), ZERO)

    @property
    def valor_total(self) -> Decimal:
        return self.valor_produtos - self.valor_desconto

    @property
    def valor_tributos(self) -> Decimal:
        self._ensure()
        return sum((it.valor_tributos for it in self.items), ZERO)

    @property
    def total_pago(self) -> Decimal:
        return sum((p.valor for p in self.payments), ZERO)

    @property
    def total_dinheiro(self) -> Decimal:
        return sum((p.valor for p in self.payments if p.is_cash), ZERO)

    @property
    def total_outros(self) -> Decimal:
        """Sum of the payments that are not cash."""
        return sum((p.valor for p in self.payments if not p.is_cash), ZERO)

    @property
    def restante(self) -> Decimal:
        """How much is still to be paid (never negative)."""
        return max(self.valor_total - self.total_pago, ZERO)

    @property
    def troco(self) -> Decimal:
        """Change to give back (never negative)."""
        return max(self.total_pago - self.valor_total, ZERO)

    # -- validation ----------------------------------------------------------------------

    def validate(self, regime: str | None = None) -> None:
        """Raise :class:`ValidationError` if the sale cannot be finished/emitted as is."""
        if not self.items:
            raise ValidationError("itens", "Venda sem itens")
        if len(self.items) > MAX_ITEMS:
            raise ValidationError("itens", f"Uma venda pode ter no máximo {MAX_ITEMS} itens")
        for i, item in enumerate(self.items):
            try:
                item.validate(regime)
            except ValidationError as exc:
                raise ValidationError(f"itens[{i}].{exc.field}", f"Item {i + 1}: {exc.message}") from exc
        d = self.desconto_venda
        if d < 0:
            raise ValidationError("desconto_venda", "Desconto da venda não pode ser negativo")
        if decimal_places(d) > 2:
            raise ValidationError("desconto_venda", "Desconto da venda deve ter no máximo 2 casas decimais")
        descontos = d + sum((it.desconto_item for it in self.items), ZERO)
        produtos = self.valor_produtos
        if descontos > produtos:
            raise ValidationError(
                "desconto_venda",
                f"Desconto ({format_brl(descontos)}) maior que o valor dos produtos ({format_brl(produtos)})",
            )
        if self.valor_total <= 0:
            raise ValidationError("desconto_venda", "Total da venda deve ser maior que zero")
        cpf = (self.cpf or "").strip()
        cnpj = (self.cnpj or "").strip()
        self.cpf, self.cnpj = cpf or None, cnpj or None  # blank ("\r", "  ") is no document, never sent
        if cpf and cnpj:
            raise ValidationError("cpf", "Informe CPF ou CNPJ do consumidor, não os dois")
        if cpf and not is_valid_cpf(cpf):
            raise ValidationError("cpf", f"CPF inválido: {format_cpf(cpf)}")
        if cnpj and not is_valid_cnpj(cnpj):
            raise ValidationError("cnpj", f"CNPJ inválido: {format_cnpj(cnpj)}")
        if not cpf and not cnpj and self.valor_total >= CONSUMER_ID_REQUIRED_FROM:
            raise ValidationError(
                "cpf_destinatario",
                f"Venda de {format_brl(self.valor_total)}: a partir de {format_brl(CONSUMER_ID_REQUIRED_FROM)} a "
                "NFC-e exige a identificação do consumidor. Informe o CPF ou o CNPJ do consumidor (F5).",
            )
        if len(self.payments) > MAX_PAYMENTS:
            raise ValidationError("pagamentos", f"Uma venda pode ter no máximo {MAX_PAYMENTS} pagamentos")
        for i, payment in enumerate(self.payments):
            try:
                payment.validate()
            except ValidationError as exc:
                raise ValidationError(
                    f"pagamentos[{i}].{exc.field}", f"Pagamento {i + 1}: {exc.message}"
                ) from exc
        total = self.valor_total
        if self.total_pago < total:
            raise ValidationError("pagamentos", f"Pagamento insuficiente: faltam {format_brl(self.restante)}")
        outros = self.total_outros
        if outros > total:
            raise ValidationError(
                "pagamentos",
                f"Pagamentos que não são em dinheiro ({format_brl(outros)}) excedem o total da venda "
                f"({format_brl(total)}); troco só em dinheiro",
            )
        if self.troco > self.total_dinheiro:
            raise ValidationError(
                "troco",
                f"Troco ({format_brl(self.troco)}) maior que o valor pago em dinheiro "
                f"({format_brl(self.total_dinheiro)})",
            )
