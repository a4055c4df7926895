from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import MAX_ITEMS, Sale, SaleItem, apportion_cents

D = Decimal


def product(preco: str = "10.00", tributos: str = "31.45", codigo: str = "1001") -> Product:
    return Product(
        codigo=codigo,
        descricao="REFRIGERANTE COCA-COLA 2L",
        ncm="22021000",
        cfop="5102",
        unidade="UN",
        preco=D(preco),
        ean="7894900011517",
        icms_situacao_tributaria="102",
        tributos_percentual=D(tributos),
    )


def sale_with(*precos: str) -> Sale:
    sale = Sale()
    for i, p in enumerate(precos):
        sale.add_item(product(p, codigo=str(1001 + i)))
    return sale


def err(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return str(exc.value)


# --- items ------------------------------------------------------------------------------


def test_valor_bruto_is_quantity_times_unit_rounded_half_up() -> None:
    item = SaleItem(product("16.90"), D("0.345"), D("16.90"))
    assert item.valor_bruto == D("5.83")  # 5.8305
    item = SaleItem(product(), D("3"), D("0.3333333333"))
    assert item.valor_bruto == D("1.00")
    item = SaleItem(product(), D("1.5"), D("2.35"))
    assert item.valor_bruto == D("3.53")  # 3.525 -> half up


def test_item_amounts_refuse_float() -> None:
    with pytest.raises(TypeError):
        SaleItem(product(), 1.5, D("1"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Sale().add_item(product(), quantidade=0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Payment("01", 10.0)  # type: ignore[arg-type]


def test_item_accepts_int_and_text() -> None:
    item = SaleItem(product(), 2, "1,50")  # type: ignore[arg-type]
    assert item.quantidade == D(2)
    assert item.valor_unitario == D("1.50")
    assert item.valor_bruto == D("3.00")


@pytest.mark.parametrize(
    ("quantidade", "valor_unitario", "message"),
    [
        ("0", "1", "Quantidade deve ser maior que zero"),
        ("-1", "1", "Quantidade deve ser maior que zero"),
        ("1.00001", "1", "Quantidade deve ter no máximo 4 casas decimais"),
        ("1", "0", "Valor unitário deve ser maior que zero"),
        ("1", "0.00000000001", "Valor unitário deve ter no máximo 10 casas decimais"),
        ("0.001", "1.00", "Valor do item deve ser de pelo menos R$ 0,01"),
    ],
)
def test_add_item_rejects_bad_amounts(quantidade: str, valor_unitario: str, message: str) -> None:
    sale = Sale()
    with pytest.raises(ValidationError) as info:
        sale.add_item(product(), D(quantidade), D(valor_unitario))
    assert err(info) == message
    assert sale.items == []


def test_quantity_with_four_decimals_and_unit_with_ten_are_fine() -> None:
    sale = Sale()
    item = sale.add_item(product(), D("1.2345"), D("1.0123456789"))
    assert item.valor_bruto == D("1.25")


def test_validate_names_the_item() -> None:
    sale = sale_with("10.00", "5.00")
    sale.items[1].quantidade = D("0")
    with pytest.raises(ValidationError) as info:
        sale.validate()
    assert info.value.field == "itens[1].quantidade"
    assert err(info) == "Item 2: Quantidade deve ser maior que zero"


def test_empty_sale() -> None:
    with pytest.raises(ValidationError) as info:
        Sale().validate()
    assert err(info) == "Venda sem itens"
    assert info.value.field == "itens"


def test_set_quantity_rolls_back_on_error() -> None:
    sale = sale_with("10.00")
    sale.set_quantity(0, "2,5")
    assert sale.valor_produtos == D("25.00")
    with pytest.raises(ValidationError):
        sale.set_quantity(0, D("-1"))
    assert sale.items[0].quantidade == D("2.5")


def test_remove_item_keeps_list_identity() -> None:
    sale = sale_with("10.00", "5.00", "1.00")
    items = sale.items
    removed = sale.remove_item(1)
    assert removed.valor_unitario == D("5.00")
    assert sale.items is items and len(items) == 2
    sale.remove_item(sale.items[0])
    assert [it.valor_unitario for it in sale.items] == [D("1.00")]
    with pytest.raises(ValidationError):
        sale.remove_item(5)


def test_max_items() -> None:
    sale = Sale()
    p = product("1.00")
    for _ in range(MAX_ITEMS):
        sale.add_item(p)
    with pytest.raises(ValidationError):
        sale.add_item(p)


# --- discounts ----------------------------------------------------------------------------


def test_sale_discount_apportioned_proportionally() -> None:
    sale = sale_with("10.00", "20.00", "30.00")
    sale.set_sale_discount(D("6.00"))
    assert [it.valor_desconto for it in sale.items] == [D("1.00"), D("2.00"), D("3.00")]
    assert sale.valor_produtos == D("60.00")
    assert sale.valor_desconto == D("6.00")
    assert sale.valor_total == D("54.00")


def test_remainder_cent_goes_to_largest_item() -> None:
    sale = sale_with("10.00", "10.00", "10.01")
    sale.set_sale_discount(D("1.00"))
    # ideal shares 0.3330, 0.3330, 0.3334 -> 0.33 each, the missing cent to the largest item
    assert [it.valor_desconto for it in sale.items] == [D("0.33"), D("0.33"), D("0.34")]
    sale = sale_with("1.00", "1.00", "1.00")
    sale.set_sale_discount(D("0.02"))
    # ideal 0.00666.. each -> 0.01 each (0.03) -> one cent back from the largest (first on ties)
    assert [it.valor_desconto for it in sale.items] == [D("0.00"), D("0.01"), D("0.01")]
    assert sale.valor_desconto == D("0.02")


def test_manual_and_sale_discount_together() -> None:
    sale = sale_with("10.00", "10.00")
    sale.set_item_discount(0, D("9.00"))
    sale.set_sale_discount(D("4.00"))
    # proportional to valor_bruto would give 2.00 + 2.00, but item 1 only has 1.00 left
    assert [it.desconto_item for it in sale.items] == [D("9.00"), D("0")]
    assert [it.desconto_rateado for it in sale.items] == [D("1.00"), D("3.00")]
    assert [it.valor_liquido for it in sale.items] == [D("0.00"), D("7.00")]
    assert sale.valor_desconto == D("13.00")
    assert sale.valor_total == D("7.00")


def test_discount_messages() -> None:
    sale = sale_with("10.00")
    with pytest.raises(ValidationError) as info:
        sale.set_sale_discount(D("10.01"))
    assert err(info) == "Desconto (R$ 10,01) maior que o valor dos produtos (R$ 10,00)"
    with pytest.raises(ValidationError) as info:
        sale.set_item_discount(0, D("10.50"))
    assert err(info) == "Desconto do item (R$ 10,50) maior que o valor do item (R$ 10,00)"
    with pytest.raises(ValidationError) as info:
        sale.set_sale_discount(D("-1"))
    assert err(info) == "Desconto da venda não pode ser negativo"


def test_discount_above_products_after_removing_item() -> None:
    sale = sale_with("10.00", "5.00")
    sale.set_sale_discount(D("12.00"))
    sale.remove_item(0)
    with pytest.raises(ValidationError) as info:
        sale.validate()
    assert info.value.field == "desconto_venda"
    assert "maior que o valor dos produtos" in err(info)


def test_total_must_be_positive() -> None:
    sale = sale_with("10.00")
    sale.set_sale_discount(D("10.00"))
    with pytest.raises(ValidationError) as info:
        sale.validate()
    assert err(info) == "Total da venda deve ser maior que zero"


def test_discount_percent() -> None:
    sale = sale_with("19.90", "5.05")
    assert sale.set_sale_discount_percent(D("10")) == D("2.50")  # 2.495 -> 2.50
    assert sale.valor_total == D("22.45")


def test_direct_item_mutation_is_tracked() -> None:
    sale = sale_with("10.00", "30.00")
    sale.set_sale_discount(D("4.00"))
    assert sale.items[0].valor_desconto == D("1.00")
    sale.items[0].quantidade = D("3")  # 30 + 30
    assert sale.items[0].valor_desconto == D("2.00")
    assert sale.valor_desconto == D("4.00")
    sale.items.append(SaleItem(product("40.00"), D(1), D("40.00")))  # plain list append
    assert sale.valor_desconto == D("4.00")
    assert [it.valor_desconto for it in sale.items] == [D("1.20"), D("1.20"), D("1.60")]


def test_valor_tributos() -> None:
    sale = Sale()
    sale.add_item(product("10.00", tributos="31.45"), D(3))
    sale.add_item(product("8.49", tributos="13.45"), D(1))
    sale.set_sale_discount(D("3.85"))  # shares: 30/38.49*3.85 = 3.0008 -> 3.00; 0.85
    assert [it.valor_liquido for it in sale.items] == [D("27.00"), D("7.64")]
    assert [it.valor_tributos for it in sale.items] == [D("8.49"), D("1.03")]  # 8.4915, 1.02758
    assert sale.valor_tributos == D("9.52")


# --- payments -----------------------------------------------------------------------------


def test_cash_with_change() -> None:
    sale = sale_with("12.90", "3.50")
    sale.add_payment(Payment("01", D("20.00")))
    assert sale.valor_total == D("16.40")
    assert sale.total_pago == D("20.00")
    assert sale.troco == D("3.60")
    assert sale.restante == D("0")
    sale.validate()


def test_insufficient_payment_message() -> None:
    sale = sale_with("13.50")
    sale.add_payment(Payment("17", D("10.00")))
    assert sale.restante == D("3.50")
    with pytest.raises(ValidationError) as info:
        sale.validate()
    assert err(info) == "Pagamento insuficiente: faltam R$ 3,50"
    assert info.value.field == "pagamentos"


def test_no_payment_message() -> None:
    sale = sale_with("1234.56")
    with pytest.raises(ValidationError) as info:
        sale.validate()
    assert err(info) == "Pagamento insuficiente: faltam R$ 1.234,56"


def test_card_cannot_exceed_total() -> None:
    sale = sale_with("10.00")
    with pytest.raises(ValidationError) as info:
        sale.add_payment(Payment("03", D("10.01"), bandeira="01"))
    assert "troco só em dinheiro" in err(info)
    sale.add_payment(Payment("04", D("6.00"), bandeira="02"))
    with pytest.raises(ValidationError):
        sale.add_payment(Payment("17", D("4.01")))
    sale.add_payment(Payment("01", D("50.00")))
    assert sale.troco == D("46.00")
    sale.validate()


def test_non_cash_above_total_detected_by_validate() -> None:
    sale = sale_with("10.00", "10.00")
    sale.add_payment(Payment("17", D("20.00")))
    sale.remove_item(0)  # now PIX pays more than the total
    with pytest.raises(ValidationError) as info:
        sale.validate()
    assert info.value.field == "pagamentos"
    assert "excedem o total da venda" in err(info)


def test_mixed_payments_exact() -> None:
    sale = sale_with("100.00")
    sale.add_payment(Payment("03", D("60.00"), bandeira="06"))
    sale.add_payment(Payment("01", D("40.00")))
    assert sale.troco == D("0")
    sale.validate()
    sale.remove_payment(1)
    assert sale.restante == D("40.00")


def test_card_requires_brand() -> None:
    sale = sale_with("10.00")
    with pytest.raises(ValidationError) as info:
        sale.add_payment(Payment("03", D("10.00")))
    assert err(info) == "Informe a bandeira do cartão"
    with pytest.raises(ValidationError) as info:
        sale.add_payment(Payment("42", D("10.00")))
    assert err(info) == "Forma de pagamento inválida: '42'"


# --- consumer document ---------------------------------------------------------------------


def paid_sale() -> Sale:
    sale = sale_with("10.00")
    sale.add_payment(Payment("01", D("10.00")))
    return sale


def test_invalid_cpf_message() -> None:
    sale = paid_sale()
    sale.cpf = "12345678900"
    with pytest.raises(ValidationError) as info:
        sale.validate()
    assert err(info) == "CPF inválido: 123.456.789-00"
    assert info.value.field == "cpf"
    sale.cpf = "529.982.247-25"
    sale.validate()


def test_invalid_cnpj_message() -> None:
    sale = paid_sale()
    sale.cnpj = "11222333000180"
    with pytest.raises(ValidationError) as info:
        sale.validate()
    assert err(info) == "CNPJ inválido: 11.222.333/0001-80"
    sale.cnpj = "11.222.333/0001-81"
    sale.validate()
    sale.cpf = "52998224725"
    with pytest.raises(ValidationError):
        sale.validate()


def test_regime_checked_on_validate() -> None:
    sale = paid_sale()
    sale.validate("simples")
    with pytest.raises(ValidationError) as info:
        sale.validate("normal")
    assert info.value.field == "itens[0].icms_situacao_tributaria"


# --- apportion_cents ----------------------------------------------------------------------


def test_apportion_cents_examples() -> None:
    assert apportion_cents(100, [1, 1, 1], caps=[100, 100, 100]) == [34, 33, 33]
    assert apportion_cents(100, [1, 1, 1]) == [1, 1, 1]  # caps default to the weights
    assert apportion_cents(0, [5, 5]) == [0, 0]
    assert apportion_cents(10, [5, 5]) == [5, 5]
    assert apportion_cents(11, [5, 5]) == [5, 5]  # never above the caps
    assert apportion_cents(6, [100, 100], caps=[1, 100]) == [1, 5]
    assert apportion_cents(5, []) == []


@given(
    st.lists(st.integers(0, 100_000), min_size=1, max_size=12).flatmap(
        lambda ws: st.tuples(
            st.just(ws),
            st.lists(st.integers(-5, 100_000), min_size=len(ws), max_size=len(ws)),
            st.integers(0, 2_000_000),
        )
    )
)
def test_apportion_cents_properties(args: tuple[list[int], list[int], int]) -> None:
    weights, raw_caps, total = args
    caps = [min(c, w) for c, w in zip(raw_caps, weights, strict=True)]
    shares = apportion_cents(total, weights, caps)
    assert sum(shares) == min(total, sum(max(c, 0) for c in caps))
    assert all(0 <= s <= max(c, 0) for s, c in zip(shares, caps, strict=True))


# --- properties of whole sales -------------------------------------------------------------

quantities = st.decimals(
    min_value=D("0.001"), max_value=D("50"), places=3, allow_nan=False, allow_infinity=False
)
unit_prices = st.one_of(
    st.decimals(min_value=D("0.01"), max_value=D("500"), places=2, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=D("0.0001"), max_value=D("50"), places=4, allow_nan=False, allow_infinity=False),
)
fractions = st.fractions(min_value=0, max_value=1, max_denominator=1000)


@st.composite
def sales(draw: st.DrawFn, manual_discounts: bool = True) -> Sale:
    sale = Sale()
    for i in range(draw(st.integers(1, 8))):
        q = draw(quantities)
        v = draw(unit_prices)
        item = SaleItem(product(str(v), codigo=str(1001 + i)), q, v)
        if item.valor_bruto < D("0.01"):
            continue
        if manual_discounts:
            share = draw(fractions)
            item.desconto_item = (item.valor_bruto * D(share.numerator) / D(share.denominator)).quantize(
                D("0.01"), rounding="ROUND_DOWN"
            )
        sale.add_item(item)
    if not sale.items:
        sale.add_item(product("1.00"))
    available = sale.valor_produtos - sum((it.desconto_item for it in sale.items), D(0))
    share = draw(fractions)
    sale.set_sale_discount(
        (available * D(share.numerator) / D(share.denominator)).quantize(D("0.01"), "ROUND_DOWN")
    )
    return sale


@given(sales())
def test_totals_invariants(sale: Sale) -> None:
    item_discounts = [it.valor_desconto for it in sale.items]
    assert sum(item_discounts, D(0)) == sale.valor_desconto
    assert sale.valor_desconto == sale.desconto_venda + sum((it.desconto_item for it in sale.items), D(0))
    assert sum((it.desconto_rateado for it in sale.items), D(0)) == sale.desconto_venda
    assert sale.valor_produtos == sum((it.valor_bruto for it in sale.items), D(0))
    assert sale.valor_total == sale.valor_produtos - sale.valor_desconto
    assert sale.valor_total == sum((it.valor_liquido for it in sale.items), D(0))
    for it in sale.items:
        assert D(0) <= it.valor_desconto <= it.valor_bruto
        assert it.valor_liquido >= 0
        assert it.valor_desconto == it.valor_desconto.quantize(D("0.01"))
        assert D(0) <= it.valor_tributos <= it.valor_liquido


@given(sales(manual_discounts=False))
def test_discount_is_proportional_to_valor_bruto(sale: Sale) -> None:
    total = sale.valor_produtos
    n = len(sale.items)
    largest = max(range(n), key=lambda i: (sale.items[i].valor_bruto, -i))
    for i, it in enumerate(sale.items):
        ideal = Fraction(sale.desconto_venda) * Fraction(it.valor_bruto) / Fraction(total)
        rounded = D(ideal.numerator) / D(ideal.denominator)
        if i != largest:
            # every item but the largest gets its own share rounded half-up (unless the
            # largest could not absorb the remainder, which needs a tiny largest item)
            expected = rounded.quantize(D("0.01"), rounding=ROUND_HALF_UP)
            assert abs(it.desconto_rateado - expected) <= D("0.01") * n
        assert abs(Fraction(it.desconto_rateado) - ideal) <= Fraction(n, 100)


@given(sales(), st.integers(0, 3), st.data())
def test_payment_invariants(sale: Sale, n_cards: int, data: st.DataObject) -> None:
    total = sale.valor_total
    if total <= 0:
        return
    if total >= D("10000"):  # Ajuste SINIEF 19/16: from R$ 10.000,00 the consumer must be identified
        sale.cpf = "52998224725"
    paid_by_card = D(0)
    for _ in range(n_cards):
        room = total - paid_by_card
        if room <= 0:
            break
        valor = data.draw(st.decimals(min_value=D("0.01"), max_value=room, places=2))
        sale.add_payment(Payment("04", valor, bandeira="01"))
        paid_by_card += valor
    missing = total - paid_by_card
    extra = data.draw(st.decimals(min_value=D("0"), max_value=D("200"), places=2))
    if missing + extra > 0:
        sale.add_payment(Payment("01", missing + extra))
    sale.validate()
    assert sale.troco >= 0
    assert sale.troco == sale.total_pago - total
    assert sale.troco == extra
    assert sale.troco <= sale.total_dinheiro
    assert sale.restante == 0
