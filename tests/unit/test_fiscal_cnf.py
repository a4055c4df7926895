from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_app.core.fiscal import cnf as cnf_module
from pos_app.core.fiscal.cnf import generate_cnf, is_trivial_sequence, is_valid_cnf

TRIVIAL = [
    *(str(d) * 8 for d in range(10)),
    "12345678",
    "23456789",
    "34567890",
    "45678901",
    "56789012",
    "67890123",
    "78901234",
    "89012345",
    "90123456",
    "01234567",
    "87654321",
    "98765432",
    "76543210",
    "65432109",
    "10987654",
]


@pytest.mark.parametrize("sequence", TRIVIAL)
def test_trivial_sequences_are_refused(sequence: str) -> None:
    assert is_trivial_sequence(sequence)
    assert not is_valid_cnf(sequence, 1)


@pytest.mark.parametrize("code", ["48213796", "12345679", "13579246", "00000001", "11111112"])
def test_ordinary_codes_are_accepted(code: str) -> None:
    assert not is_trivial_sequence(code)
    assert is_valid_cnf(code, 999)


def test_cnf_must_differ_from_the_note_number() -> None:
    assert not is_valid_cnf("00001305", 1305)
    # nNF has 9 digits, cNF 8: its 8 low-order digits are also refused.
    assert not is_valid_cnf("48213796", 148213796)
    assert is_valid_cnf("48213796", 1305)


@pytest.mark.parametrize("bad", ["4821379", "482137960", "4821379a", "", "٤٨٢١٣٧٩٦"])
def test_malformed_codes_are_invalid(bad: str) -> None:
    assert not is_valid_cnf(bad, 1)


@given(st.integers(min_value=1, max_value=999_999_999))
def test_generated_cnf_is_always_valid(numero: int) -> None:
    code = generate_cnf(numero)
    assert len(code) == 8 and code.isdigit()
    assert is_valid_cnf(code, numero)


def test_generator_draws_again_when_the_draw_is_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([1305, 12345678, 0, 48213796])
    monkeypatch.setattr(cnf_module.secrets, "randbelow", lambda _upper: next(draws))
    assert generate_cnf(1305) == "48213796"


def test_generated_codes_vary() -> None:
    assert len({generate_cnf(1) for _ in range(50)}) > 45


@pytest.mark.parametrize("numero", [0, -1, 1_000_000_000])
def test_generate_rejects_impossible_note_numbers(numero: int) -> None:
    with pytest.raises(ValueError):
        generate_cnf(numero)
