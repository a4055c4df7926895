from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.money import (
    CENT,
    api_decimal,
    as_decimal,
    decimal_places,
    format_brl,
    format_quantity,
    parse_decimal,
    to_cents,
    to_money,
)

D = Decimal

money_values = st.decimals(
    min_value=D("-99999999.99"), max_value=D("99999999.99"), places=2, allow_nan=False, allow_infinity=False
)
any_values = st.decimals(
    min_value=D("-99999999"), max_value=D("99999999"), places=6, allow_nan=False, allow_infinity=False
)
quantities = st.decimals(
    min_value=D("0"), max_value=D("99999"), places=4, allow_nan=False, allow_infinity=False
)


def test_cent_constant() -> None:
    assert D("0.01") == CENT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("2.675", "2.68"),
        ("1.004", "1.00"),
        ("-0.005", "-0.01"),
        ("-0.004", "0.00"),
        ("10", "10.00"),
    ],
)
def test_to_money_rounds_half_up(raw: str, expected: str) -> None:
    result = to_money(D(raw))
    assert result == D(expected)
    assert str(result) == expected  # exactly 2 places, no "-0.00"


def test_to_money_accepts_int_and_text() -> None:
    assert to_money(3) == D("3.00")
    assert to_money("1,255") == D("1.26")
    assert to_cents(D("12.345")) == 1235


@pytest.mark.parametrize("bad", [1.5, 0.1, True])
def test_float_and_bool_are_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        to_money(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        as_decimal(bad)  # type: ignore[arg-type]


def test_non_finite_decimal_is_refused() -> None:
    with pytest.raises(ValidationError):
        to_money(D("NaN"))
    with pytest.raises(ValidationError):
        as_decimal(D("Infinity"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,50", "1.50"),
        ("1.50", "1.50"),
        ("1.234,56", "1234.56"),
        ("1.234.567,89", "1234567.89"),
        ("1.234.567", "1234567"),
        ("1.234", "1.234"),  # a single dot is a decimal point (API/CSV style)
        ("1234", "1234"),
        ("  12,9 ", "12.9"),
        (",5", "0.5"),
        ("0,125", "0.125"),
        ("-3,50", "-3.50"),
        ("+3,50", "3.50"),
        ("R$ 1.234,56", "1234.56"),
        ("-R$ 1,50", "-1.50"),
        ("R$ -1,50", "-1.50"),
        ("r$10", "10"),
        ("-0", "0"),
    ],
)
def test_parse_decimal_accepts(text: str, expected: str) -> None:
    assert parse_decimal(text) == D(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "1,2,3",
        "1.2.3",
        "1,234.56",
        "12.34.56",
        "1.234.5",
        "1.",
        "1,",
        "--1",
        "1e5",
        "R$",
        "١٢",
    ],
)
def test_parse_decimal_rejects(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_decimal(text, "quantidade", "Quantidade")
    assert info.value.field == "quantidade"
    assert info.value.message.startswith("Quantidade: ")


def test_parse_decimal_message_is_portuguese() -> None:
    with pytest.raises(ValidationError) as info:
        parse_decimal("dez reais", "valor_pagamento", "Valor do pagamento")
    assert str(info.value) == 'Valor do pagamento: número inválido "dez reais"'
    with pytest.raises(ValidationError) as info:
        parse_decimal("", "preco", "Preço")
    assert str(info.value) == "Preço: informe um número"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1234.56", "R$ 1.234,56"),
        ("0", "R$ 0,00"),
        ("0.5", "R$ 0,50"),
        ("999.999", "R$ 1.000,00"),
        ("1234567.8", "R$ 1.234.567,80"),
        ("-3.5", "-R$ 3,50"),
        ("-0.001", "R$ 0,00"),
    ],
)
def test_format_brl(value: str, expected: str) -> None:
    assert format_brl(D(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.500", "1,5"), ("2", "2"), ("1000", "1000"), ("0.125", "0,125"), ("0.0000", "0"), ("3.10", "3,1")],
)
def test_format_quantity(value: str, expected: str) -> None:
    assert format_quantity(D(value)) == expected


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("1.5", 2, "1.50"),
        ("0.3333", 4, "0.3333"),
        ("2.675", 2, "2.68"),
        ("12.3456789", 10, "12.3456789000"),
        ("7", 0, "7"),
        ("-0.001", 2, "0.00"),
        ("1234567.891", 2, "1234567.89"),
    ],
)
def test_api_decimal(value: str, places: int, expected: str) -> None:
    assert api_decimal(D(value), places) == expected


def test_decimal_places() -> None:
    assert decimal_places(D("1.500")) == 1
    assert decimal_places(D("100")) == 0
    assert decimal_places(D("1E+2")) == 0
    assert decimal_places(D("0.0001")) == 4


@given(money_values)
def test_format_brl_round_trips(value: Decimal) -> None:
    assert parse_decimal(format_brl(value)) == value


@given(any_values)
def test_api_decimal_round_trips(value: Decimal) -> None:
    assert parse_decimal(api_decimal(value, 2)) == to_money(value)
    assert parse_decimal(api_decimal(value, 6)) == value


@given(quantities)
def test_format_quantity_round_trips(value: Decimal) -> None:
    assert parse_decimal(format_quantity(value)) == value


@given(any_values)
def test_to_money_is_within_half_cent(value: Decimal) -> None:
    rounded = to_money(value)
    assert abs(rounded - value) <= D("0.005")
    assert decimal_places(rounded) <= 2
    assert to_money(rounded) == rounded
