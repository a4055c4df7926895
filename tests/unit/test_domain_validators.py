from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.validators import (
    NFCE_CFOPS,
    UFS,
    format_cep,
    format_cnpj,
    format_cpf,
    gtin_check_digit,
    is_valid_cep,
    is_valid_cest,
    is_valid_cfop_nfce,
    is_valid_cnpj,
    is_valid_cpf,
    is_valid_email,
    is_valid_gtin,
    is_valid_ncm,
    only_digits,
    valid_icms_codes,
)

# --- independent reference implementations (textbook algorithms) ---------------------------


def _rest(digits: str, weights: list[int]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11


def _dv(rest: int) -> int:
    return 0 if rest < 2 else 11 - rest


def make_cpf(body9: str) -> str:
    d1 = _dv(_rest(body9, list(range(10, 1, -1))))
    d2 = _dv(_rest(body9 + str(d1), list(range(11, 1, -1))))
    return f"{body9}{d1}{d2}"


CNPJ_W1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
CNPJ_W2 = [6, *CNPJ_W1]


def make_cnpj(body12: str) -> str:
    d1 = _dv(_rest(body12, CNPJ_W1))
    d2 = _dv(_rest(body12 + str(d1), CNPJ_W2))
    return f"{body12}{d1}{d2}"


def make_gtin(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return body + str((10 - total % 10) % 10)


def digit_strings(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n).filter(lambda s: len(set(s)) > 1)


def mutate(value: str, position: int, delta: int) -> str:
    pos = position % len(value)
    new = (int(value[pos]) + delta) % 10
    return value[:pos] + str(new) + value[pos + 1 :]


# --- CPF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cpf", ["529.982.247-25", "52998224725", "111.444.777-35", " 123.456.789-09 "])
def test_known_valid_cpfs(cpf: str) -> None:
    assert is_valid_cpf(cpf)


@pytest.mark.parametrize(
    "cpf",
    [
        "529.982.247-24",
        "123.456.789-00",
        "111.111.111-11",
        "000.000.000-00",
        "99999999999",
        "5299822472",
        "529982247255",
        "529.982.247-2a",
        "5299822472a5",
        "",
        None,
    ],
)
def test_invalid_cpfs(cpf: str | None) -> None:
    assert not is_valid_cpf(cpf)


@given(digit_strings(9))
def test_generated_cpf_is_valid(body: str) -> None:
    cpf = make_cpf(body)
    assert is_valid_cpf(cpf)
    assert is_valid_cpf(format_cpf(cpf))
    assert only_digits(format_cpf(cpf)) == cpf


@given(digit_strings(9), st.integers(9, 10), st.integers(1, 9))
def test_cpf_check_digit_mutation_fails(body: str, position: int, delta: int) -> None:
    assert not is_valid_cpf(mutate(make_cpf(body), position, delta))


@given(digit_strings(9), st.integers(0, 8), st.integers(1, 9))
def test_cpf_body_mutation_fails_except_rest_collapse(body: str, position: int, delta: int) -> None:
    """Mod 11 maps remainders 0 and 1 to the same digit 0, so a body mutation can only slip
    through when the first remainder moves inside {0, 1} and the second one either does the
    same or does not move at all (the first digit weighs 11 = 0 mod 11 in the second sum).
    This is a weakness of the CPF scheme itself, not of the validator."""
    cpf = make_cpf(body)
    mutated = mutate(cpf, position, delta)
    if len(set(mutated)) == 1:
        assert not is_valid_cpf(mutated)
        return
    if is_valid_cpf(mutated):
        w1, w2 = list(range(10, 1, -1)), list(range(11, 1, -1))
        assert {_rest(cpf[:9], w1), _rest(mutated[:9], w1)} <= {0, 1}
        r2_before, r2_after = _rest(cpf[:10], w2), _rest(mutated[:10], w2)
        assert r2_before == r2_after or {r2_before, r2_after} <= {0, 1}
    assert is_valid_cpf(mutated) == (make_cpf(mutated[:9]) == mutated)


def test_format_cpf() -> None:
    assert format_cpf("52998224725") == "529.982.247-25"
    assert format_cpf("529.982.247-25") == "529.982.247-25"
    assert format_cpf("123") == "123"  # not 11 digits: shown as typed


# --- CNPJ -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cnpj", ["11.222.333/0001-81", "11222333000181", "11.444.777/0001-61"])
def test_known_valid_cnpjs(cnpj: str) -> None:
    assert is_valid_cnpj(cnpj)


@pytest.mark.parametrize(
    "cnpj",
    ["11.222.333/0001-80", "00.000.000/0000-00", "11111111111111", "1122233300018", "11.222.333/0001-8X", ""],
)
def test_invalid_cnpjs(cnpj: str) -> None:
    assert not is_valid_cnpj(cnpj)


@given(digit_strings(12))
def test_generated_cnpj_is_valid(body: str) -> None:
    cnpj = make_cnpj(body)
    assert is_valid_cnpj(cnpj)
    assert is_valid_cnpj(format_cnpj(cnpj))
    assert format_cnpj(cnpj) == f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"


@given(digit_strings(12), st.integers(12, 13), st.integers(1, 9))
def test_cnpj_check_digit_mutation_fails(body: str, position: int, delta: int) -> None:
    assert not is_valid_cnpj(mutate(make_cnpj(body), position, delta))


@given(digit_strings(12), st.integers(0, 11), st.integers(1, 9))
def test_cnpj_body_mutation_matches_reference(body: str, position: int, delta: int) -> None:
    mutated = mutate(make_cnpj(body), position, delta)
    expected = len(set(mutated)) > 1 and make_cnpj(mutated[:12]) == mutated
    assert is_valid_cnpj(mutated) == expected


def test_cpf_is_not_a_cnpj() -> None:
    assert not is_valid_cnpj("52998224725")
    assert not is_valid_cpf("11222333000181")


# --- GTIN -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "gtin", ["4006381333931", "036000291452", "96385074", "7894900011517", "17891000100100"]
)
def test_known_valid_gtins(gtin: str) -> None:
    assert is_valid_gtin(gtin)


@pytest.mark.parametrize(
    "gtin",
    ["4006381333932", "12345", "123456789012345", "SEM GTIN", "00000000000000", "7894900O11517", "", None],
)
def test_invalid_gtins(gtin: str | None) -> None:
    assert not is_valid_gtin(gtin)


@given(st.sampled_from([7, 11, 12, 13]).flatmap(digit_strings))
def test_generated_gtin_is_valid(body: str) -> None:
    gtin = make_gtin(body)
    assert gtin_check_digit(body) == int(gtin[-1])
    assert is_valid_gtin(gtin)


@given(st.sampled_from([7, 11, 12, 13]).flatmap(digit_strings), st.integers(0, 13), st.integers(1, 9))
def test_gtin_single_digit_mutation_always_fails(body: str, position: int, delta: int) -> None:
    assert not is_valid_gtin(mutate(make_gtin(body), position, delta))


# --- NCM, CEST, CFOP, ICMS ------------------------------------------------------------------


def test_ncm() -> None:
    assert is_valid_ncm("22021000")
    assert is_valid_ncm("04012010")
    for bad in ["2202100", "220210000", "2202.10.00", "2202100a", "", None]:
        assert not is_valid_ncm(bad)


def test_cest() -> None:
    assert is_valid_cest("0300700")
    assert not is_valid_cest("030070")
    assert not is_valid_cest(None)


def test_cfop_nfce() -> None:
    for cfop in ["5101", "5102", "5103", "5104", "5115", "5405", "5656", "5667", "5933"]:
        assert is_valid_cfop_nfce(cfop)
    assert len(NFCE_CFOPS) == 9
    for bad in ["6102", "1102", "5403", "5401", "5949", "510", "51020", "5.102", "", None]:
        assert not is_valid_cfop_nfce(bad)


def test_cfop_allow_list() -> None:
    assert is_valid_cfop_nfce("5403", extra={"5403"})
    assert not is_valid_cfop_nfce("6403", extra={"6403"})  # must stay an internal 5xxx operation
    assert not is_valid_cfop_nfce("54x3", extra=["54x3"])


def test_icms_codes_by_regime() -> None:
    simples = valid_icms_codes("simples")
    normal = valid_icms_codes("normal")
    assert simples == {"101", "102", "103", "201", "202", "203", "300", "400", "500", "900"}
    assert normal == {"00", "10", "20", "30", "40", "41", "50", "51", "60", "70", "90"}
    assert not simples & normal
    with pytest.raises(ValidationError) as info:
        valid_icms_codes("lucro")
    assert info.value.field == "regime"
    assert "Regime tributário inválido" in str(info.value)


# --- e-mail, UF, CEP, digits ----------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    ["cliente@example.com", "joao.silva+nfce@empresa.com.br", "a@b.co", "x_y-z@sub.dominio-abc.com.br"],
)
def test_valid_emails(email: str) -> None:
    assert is_valid_email(email)


@pytest.mark.parametrize(
    "email",
    [
        "",
        None,
        "cliente",
        "cliente@",
        "@example.com",
        "cliente@example",
        "cli ente@example.com",
        "cliente@@example.com",
        "cliente.@example.com",
        ".cliente@example.com",
        "cli..ente@example.com",
        "cliente@-example.com",
        "cliente@example..com",
        "cliente@example.c",
        "joão@example.com",
        "a" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_invalid_emails(email: str | None) -> None:
    assert not is_valid_email(email)


def test_ufs() -> None:
    assert len(UFS) == 27
    assert len(set(UFS)) == 27
    assert "SP" in UFS and "DF" in UFS and "TO" in UFS
    assert list(UFS) == sorted(UFS)


def test_cep_and_digits() -> None:
    assert is_valid_cep("01310-100")
    assert is_valid_cep("01310100")
    assert not is_valid_cep("0131010")
    assert not is_valid_cep("00000-000")
    assert format_cep("01310100") == "01310-100"
    assert only_digits("12.345-678/9") == "123456789"
    assert only_digits(None) == ""
