from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_app.core.fiscal.chave import (
    ChaveParts,
    build_chave,
    compute_dv,
    format_chave,
    is_valid_chave,
    normalize_chave,
    parse_chave,
)
from pos_app.core.fiscal.states import UF_CODES

PUBLIC_VECTORS = [
    "35170458716523000119550010000000121000123458",
    "41200323285089000185650010000013051817822496",
    "28140300156225000131650110000151341562040824",
]


@pytest.mark.parametrize("chave", PUBLIC_VECTORS)
def test_public_vectors_have_the_published_check_digit(chave: str) -> None:
    assert compute_dv(chave[:43]) == int(chave[43])
    assert is_valid_chave(chave)


def test_dv_is_zero_when_remainder_is_zero_or_one() -> None:
    # 43 zeros: sum 0 -> r 0 -> DV 0. "1" at the rightmost (weight 2): r 2 -> 9.
    assert compute_dv("0" * 43) == 0
    assert compute_dv("0" * 42 + "1") == 9
    # weight 2 for the rightmost, 3 for the next: "0...05" -> 10 -> r 10 -> DV 1.
    assert compute_dv("0" * 42 + "5") == 1
    # r == 1: 6*2=12 -> 12 mod 11 = 1 -> DV 0.
    assert compute_dv("0" * 42 + "6") == 0


def test_weights_repeat_after_nine() -> None:
    # Digit at the 9th position from the right has weight 2 again (2..9, then 2..9).
    assert compute_dv("0" * 34 + "1" + "0" * 8) == compute_dv("0" * 42 + "1")


def test_build_chave_reproduces_a_public_vector() -> None:
    chave = build_chave(
        uf="PR",
        data_emissao=date(2020, 3, 15),
        cnpj="23.285.089/0001-85",
        serie=1,
        numero=1305,
        tp_emis=1,
        cnf="81782249",
    )
    assert chave == "41200323285089000185650010000013051817822496"


def test_build_chave_accepts_ibge_code_and_int_cnf() -> None:
    chave = build_chave(35, date(2017, 4, 1), "58716523000119", 1, 12, 1, 12345, modelo=55)
    assert chave == "35170458716523000119550010000000121000123458"


def test_aamm_comes_from_the_local_date_given() -> None:
    # 23:30 on 31 Jan in Manaus is already February in UTC; the key uses what the caller passes.
    local = datetime(2024, 1, 31, 23, 30, tzinfo=ZoneInfo("America/Manaus"))
    chave = build_chave("AM", local, "11222333000181", 600, 1, 9, "48213796")
    assert chave[2:6] == "2401"


def test_parse_chave_splits_every_field() -> None:
    parts = parse_chave("NFe41200323285089000185650010000013051817822496")
    assert parts == ChaveParts(
        uf_code="41",
        year=2020,
        month=3,
        cnpj="23285089000185",
        modelo=65,
        serie=1,
        numero=1305,
        tp_emis=1,
        cnf="81782249",
        dv=6,
    )
    assert parts.uf == "PR"
    assert parts.chave == "41200323285089000185650010000013051817822496"


@pytest.mark.parametrize(
    "bad",
    [
        "41200323285089000185650010000013051817822495",  # wrong DV
        "4120032328508900018565001000001305181782249",  # 43 digits
        "412003232850890001856500100000130518178224966",  # 45 digits
        "4120032328508900018565001000001305181782249A",
        "99200323285089000185650010000013051817822496",  # unknown UF (and DV)
        "",
    ],
)
def test_invalid_keys_are_rejected(bad: str) -> None:
    assert not is_valid_chave(bad)
    with pytest.raises(ValueError):
        parse_chave(bad)


def test_month_thirteen_is_rejected_even_with_a_matching_dv() -> None:
    body = "4120132328508900018565001000001305181782249"
    assert not is_valid_chave(body + str(compute_dv(body)))


def test_non_ascii_digits_are_rejected() -> None:
    with pytest.raises(ValueError):
        compute_dv("٤" * 43)


def test_format_chave_groups_of_four() -> None:
    formatted = format_chave("NFe41200323285089000185650010000013051817822496")
    assert formatted == "4120 0323 2850 8900 0185 6500 1000 0013 0518 1782 2496"
    groups = formatted.split(" ")
    assert len(groups) == 11 and all(len(group) == 4 for group in groups)


def test_normalize_chave_strips_prefix_and_spaces() -> None:
    assert normalize_chave("NFe41200323285089000185650010000013051817822496") == PUBLIC_VECTORS[1]
    assert normalize_chave(format_chave(PUBLIC_VECTORS[1])) == PUBLIC_VECTORS[1]
    assert normalize_chave(PUBLIC_VECTORS[1]) == PUBLIC_VECTORS[1]


@pytest.mark.parametrize(
    ("field", "value"),
    [("serie", 1000), ("numero", 0), ("numero", 1_000_000_000), ("tp_emis", 0), ("cnf", "1234567")],
)
def test_build_chave_rejects_out_of_range_fields(field: str, value: object) -> None:
    kwargs: dict[str, object] = {
        "uf": "SP",
        "data_emissao": date(2025, 1, 1),
        "cnpj": "11222333000181",
        "serie": 1,
        "numero": 1,
        "tp_emis": 1,
        "cnf": "48213796",
    }
    kwargs[field] = value
    with pytest.raises(ValueError):
        build_chave(**kwargs)  # type: ignore[arg-type]


def test_build_chave_rejects_unknown_uf() -> None:
    with pytest.raises(ValueError):
        build_chave("XX", date(2025, 1, 1), "11222333000181", 1, 1, 1, "48213796")


@given(
    uf=st.sampled_from(sorted(UF_CODES)),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    cnpj=st.from_regex(r"\A[0-9]{14}\Z"),
    serie=st.integers(0, 999),
    numero=st.integers(1, 999_999_999),
    tp_emis=st.sampled_from([1, 9]),
    cnf=st.from_regex(r"\A[0-9]{8}\Z"),
)
def test_build_then_parse_round_trips(
    uf: str, day: date, cnpj: str, serie: int, numero: int, tp_emis: int, cnf: str
) -> None:
    chave = build_chave(uf, day, cnpj, serie, numero, tp_emis, cnf)
    assert len(chave) == 44 and chave.isdigit()
    parts = parse_chave(chave)
    assert (parts.uf, parts.year, parts.month) == (uf, day.year, day.month)
    assert (parts.cnpj, parts.modelo, parts.serie, parts.numero) == (cnpj, 65, serie, numero)
    assert (parts.tp_emis, parts.cnf) == (tp_emis, cnf)
    assert parts.chave == chave
