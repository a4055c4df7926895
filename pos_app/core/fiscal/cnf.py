"""cNF (Focus ``codigo_unico``): the 8 random digits inside the access key.

NT 2019.001: cNF must differ from nNF and must not be a trivial sequence (SEFAZ rejection 897
"Código numérico em formato inválido"). It is generated with a CSPRNG so the key cannot be guessed.
"""

from __future__ import annotations

import secrets

CNF_LENGTH = 8
_MAX_NUMERO = 999_999_999


def is_trivial_sequence(cnf: str) -> bool:
    """True for all-equal digits and for ascending/descending runs that wrap 9 -> 0.

    Covers 00000000 ... 99999999, 12345678, 23456789, ..., 90123456, 01234567 and the
    descending 87654321, 98765432, 76543210, 10987654, ...
    """
    digits = [int(char) for char in cnf]
    steps = {(b - a) % 10 for a, b in zip(digits, digits[1:], strict=False)}
    return len(steps) == 1 and steps <= {0, 1, 9}


def is_valid_cnf(cnf: str, numero: int) -> bool:
    """8 ASCII digits, not a trivial sequence and different from the note number nNF."""
    if not isinstance(cnf, str) or len(cnf) != CNF_LENGTH or not (cnf.isascii() and cnf.isdigit()):
        return False
    if is_trivial_sequence(cnf):
        return False
    # nNF has up to 9 digits; cNF must not repeat it, neither its 8 low-order digits.
    return cnf != f"{numero % 10**CNF_LENGTH:08d}" and int(cnf) != numero


def generate_cnf(numero: int) -> str:
    """A fresh random cNF valid for the note number ``numero`` (1 to 999999999)."""
    if isinstance(numero, bool) or not isinstance(numero, int) or not 1 <= numero <= _MAX_NUMERO:
        raise ValueError(f"Número da nota inválido: {numero!r} (1 a 999999999)")
    while True:
        candidate = f"{secrets.randbelow(10**CNF_LENGTH):08d}"
        if is_valid_cnf(candidate, numero):
            return candidate
