"""Fuzzing payment amounts and CPF/CNPJ: refused with a ValidationError (Portuguese, with the field), never a crash."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.money import parse_decimal
from pos_app.core.domain.payments import CARD_BRANDS, PAYMENT_METHODS, Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.domain.validators import format_cnpj, format_cpf, is_valid_cnpj, is_valid_cpf, only_digits

FUZZ = settings(max_examples=200, deadline=None)
AMOUNT_TEXT = st.one_of(
    st.text(max_size=25),
    st.from_regex(r"[-+]?(R\$ ?)?\d{0,15}([.,]\d{0,6})?", fullmatch=True),
    st.from_regex(r"\d{1,3}(\.\d{3}){0,5}(,\d{1,4})?", fullmatch=True),
    st.sampled_from(["NaN", "Infinity", "1e9999", "-0", "0,00", "1,234.56", "١٢", "R$", "--1", "1..2"]),
)


def _valid_cpf(body: str) -> str:
    def dv(digits: str, start: int) -> str:
        rest = sum(int(d) * w for d, w in zip(digits, range(start, 1, -1), strict=False)) % 11
        return "0" if rest < 2 else str(11 - rest)

    d1 = dv(body, 10)
    return body + d1 + dv(body + d1, 11)


def _valid_cnpj(body: str) -> str:
    w1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
    w2 = (6, *w1)

    def dv(digits: str, weights: tuple[int, ...]) -> str:
        rest = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
        return "0" if rest < 2 else str(11 - rest)

    d1 = dv(body, w1)
    return body + d1 + dv(body + d1, w2)


def _product() -> Product:
    return Product(
        codigo="1001",
        descricao="ARROZ",
        ncm="10063021",
        cfop="5102",
        unidade="UN",
        preco=Decimal("27.90"),
        ean="7891102100377",
    )


@FUZZ
@given(text=AMOUNT_TEXT)
def test_parse_decimal_returns_a_finite_number_or_a_validation_error(text: str) -> None:
    try:
        value = parse_decimal(text, "pagamento", "Pagamento")
    except ValidationError as exc:
        assert exc.field == "pagamento" and exc.message.startswith("Pagamento")
        return
    assert value.is_finite()


@FUZZ
@given(
    payments=st.lists(
        st.tuples(
            st.one_of(st.sampled_from(sorted(PAYMENT_METHODS)), st.text(max_size=3)),
            AMOUNT_TEXT,
            st.one_of(st.none(), st.sampled_from(sorted(CARD_BRANDS)), st.text(max_size=3)),
        ),
        min_size=1,
        max_size=5,
    ),
    quantity=st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-5, max_value=10**6),
        st.sampled_from([Decimal("0.0001"), Decimal("1"), Decimal("99999999999")]),
    ),
)
def test_any_payment_amounts_are_accepted_consistently_or_refused(
    payments: list[tuple[str, str, str | None]], quantity: Decimal
) -> None:
    sale = Sale()
    try:
        sale.add_item(_product(), quantity)
        for forma, valor, bandeira in payments:
            sale.add_payment(Payment(forma=forma, valor=parse_decimal(valor), bandeira=bandeira))
        sale.validate()
    except ValidationError as exc:
        assert exc.field and exc.message.strip()
        return
    # accepted: the money adds up exactly
    assert sale.total_pago >= sale.valor_total > 0
    assert sale.troco >= 0 and sale.troco == sale.total_pago - sale.valor_total
    assert sale.troco <= sum((p.valor for p in sale.payments if p.is_cash), Decimal(0))
    assert all(p.valor > 0 and p.valor == p.valor.quantize(Decimal("0.01")) for p in sale.payments)


@FUZZ
@given(text=st.one_of(st.text(max_size=24), st.from_regex(r"[\d.\-/ ]{0,20}", fullmatch=True)))
def test_cpf_cnpj_checks_never_raise(text: str) -> None:
    assert isinstance(is_valid_cpf(text), bool) and isinstance(is_valid_cnpj(text), bool)
    assert isinstance(format_cpf(text), str) and isinstance(format_cnpj(text), str)
    if is_valid_cpf(text):
        assert len(only_digits(text)) == 11
    if is_valid_cnpj(text):
        assert len(only_digits(text)) == 14


@FUZZ
@given(body=st.from_regex(r"[0-9]{9}", fullmatch=True), position=st.integers(9, 10), delta=st.integers(1, 9))
def test_a_valid_cpf_is_accepted_formatted_and_a_wrong_check_digit_is_refused(
    body: str, position: int, delta: int
) -> None:
    cpf = _valid_cpf(body)
    if len(set(cpf)) == 1:
        assert not is_valid_cpf(cpf)
        return
    assert is_valid_cpf(cpf) and is_valid_cpf(format_cpf(cpf))
    changed = cpf[:position] + str((int(cpf[position]) + delta) % 10) + cpf[position + 1 :]
    assert not is_valid_cpf(changed)


@FUZZ
@given(
    body=st.from_regex(r"[0-9]{12}", fullmatch=True), position=st.integers(12, 13), delta=st.integers(1, 9)
)
def test_a_valid_cnpj_is_accepted_formatted_and_a_wrong_check_digit_is_refused(
    body: str, position: int, delta: int
) -> None:
    cnpj = _valid_cnpj(body)
    if len(set(cnpj)) == 1:
        assert not is_valid_cnpj(cnpj)
        return
    assert is_valid_cnpj(cnpj) and is_valid_cnpj(format_cnpj(cnpj))
    changed = cnpj[:position] + str((int(cnpj[position]) + delta) % 10) + cnpj[position + 1 :]
    assert not is_valid_cnpj(changed)


@FUZZ
@given(
    cpf=st.one_of(st.text(max_size=20), st.from_regex(r"[0-9]{11}", fullmatch=True)),
    cnpj=st.one_of(st.none(), st.text(max_size=20), st.from_regex(r"[0-9]{14}", fullmatch=True)),
)
def test_consumer_document_on_a_sale_is_checked(cpf: str, cnpj: str | None) -> None:
    sale = Sale()
    sale.add_item(_product(), Decimal(1))
    sale.add_payment(Payment(forma="01", valor=Decimal("30")))
    sale.cpf = cpf or None
    sale.cnpj = cnpj or None
    try:
        sale.validate()
    except ValidationError as exc:
        assert exc.field in ("cpf", "cnpj", "destinatario", "consumidor"), exc.field
        return
    assert sale.cpf is None or is_valid_cpf(sale.cpf)
    assert sale.cnpj is None or is_valid_cnpj(sale.cnpj)
