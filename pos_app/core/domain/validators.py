"""Validators and formatters for Brazilian documents and NFC-e codes (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from pos_app.core.domain.errors import ValidationError

__all__ = [
    "CSOSN_SIMPLES",
    "CST_NORMAL",
    "ICMS_ORIGENS",
    "NFCE_CFOPS",
    "Regime",
    "UFS",
    "format_cep",
    "format_cnpj",
    "cnpj_check_digits",
    "format_cpf",
    "gtin_check_digit",
    "is_valid_cep",
    "is_valid_cest",
    "is_valid_cfop_nfce",
    "is_valid_cnpj",
    "is_valid_cpf",
    "is_valid_email",
    "is_valid_gtin",
    "is_valid_ncm",
    "is_valid_uf",
    "normalize_cnpj",
    "normalize_document",
    "only_digits",
    "valid_icms_codes",
]

Regime = Literal["simples", "normal"]

UFS: tuple[str, ...] = (
    "AC", "AL", "AM", "AP", "BA", "CE", "DF", "ES", "GO", "MA", "MG", "MS", "MT", "PA",
    "PB", "PE", "PI", "PR", "RJ", "RN", "RO", "RR", "RS", "SC", "SE", "SP", "TO",
)  # fmt: skip
"""The 26 states plus the Distrito Federal, alphabetical (handy for combo boxes)."""

NFCE_CFOPS: frozenset[str] = frozenset(
    {"5101", "5102", "5103", "5104", "5115", "5405", "5656", "5667", "5933"}
)
"""CFOPs SEFAZ accepts on an NFC-e (modelo 65).

This is the closed list of the validation rule behind rejection 725 ("NFC-e com CFOP
inválido", NT 2015.002 / MOC): 5101, 5102, 5103, 5104, 5115, 5405, 5656, 5667, 5933.
Older lists (NT 2013.005) also had 5401 and 5403; they are **not** accepted by default
because current SEFAZ rules reject them. A shop whose state still takes another 5xxx code can
pass it through the ``extra`` allow-list of :func:`is_valid_cfop_nfce` (from its settings).
"""

CSOSN_SIMPLES: frozenset[str] = frozenset(
    {"101", "102", "103", "201", "202", "203", "300", "400", "500", "900"}
)
"""CSOSN codes (CRT 1, Simples Nacional)."""

CST_NORMAL: frozenset[str] = frozenset({"00", "10", "20", "30", "40", "41", "50", "51", "60", "70", "90"})
"""ICMS CST codes (CRT 3, regime normal)."""

ICMS_ORIGENS: frozenset[str] = frozenset("012345678")
"""ICMS origin of goods (0 nacional ... 8 nacional com conteúdo de importação > 70%)."""

_NOT_DIGIT = re.compile(r"[^0-9]")
_DOC_PUNCTUATION = re.compile(r"[.\-/\s]")
_DIGITS = re.compile(r"[0-9]+")
_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)


def only_digits(text: str | None) -> str:
    """Keep only ASCII digits: ``"123.456.789-09"`` -> ``"12345678909"``; ``None`` -> ``""``."""
    return _NOT_DIGIT.sub("", text or "")


def _document_digits(value: str | None, length: int) -> str | None:
    """Digits of a CPF/CNPJ typed with or without punctuation (``.``, ``-``, ``/``, spaces).

    Returns ``None`` when something other than digits and that punctuation is present, or the
    length is wrong: ``"123.456.789-0a"`` must not become a valid CPF by dropping the letter.
    """
    if not value:
        return None
    digits = _DOC_PUNCTUATION.sub("", value)
    if len(digits) != length or not _DIGITS.fullmatch(digits):
        return None
    return digits


def _mod11_digit(digits: str, weights: Iterable[int]) -> int:
    total = sum(int(d) * w for d, w in zip(digits, weights, strict=True))
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def is_valid_cpf(value: str | None) -> bool:
    """CPF with valid check digits (formatted or not); repeated digits (``111.111.111-11``) are invalid."""
    digits = _document_digits(value, 11)
    if digits is None or len(set(digits)) == 1:
        return False
    d1 = _mod11_digit(digits[:9], range(10, 1, -1))
    d2 = _mod11_digit(digits[:10], range(11, 1, -1))
    return digits[9:] == f"{d1}{d2}"


_CNPJ_W1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_W2 = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_CHARS = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
_NOT_CNPJ_CHAR = re.compile(r"[^0-9A-Za-z]")


def normalize_cnpj(text: str | None) -> str:
    """A CNPJ as stored: punctuation and spaces dropped, letters upper-cased.

    ``"12.abc.345/01de-35"`` -> ``"12ABC34501DE35"``; ``"11.222.333/0001-81"`` -> ``"11222333000181"``.
    Works for the numeric CNPJ and the alphanumeric one (IN RFB 2.229/2024, July 2026); it does
    not validate (see :func:`is_valid_cnpj`).
    """
    return _NOT_CNPJ_CHAR.sub("", text or "").upper()


def normalize_document(text: str | None) -> str:
    """A CPF or CNPJ typed by a person, as stored: digits (CPF, numeric CNPJ) or the 14
    characters of an alphanumeric CNPJ, upper-case."""
    return normalize_cnpj(text)


def _cnpj_value(char: str) -> int:
    # NT Conjunta 2025.001: each character is worth ord(c) - 48 (0-9 -> 0-9, A -> 17 ... Z -> 42).
    return ord(char) - 48


def _cnpj_dv(body: str, weights: tuple[int, ...]) -> int:
    rest = sum(_cnpj_value(c) * w for c, w in zip(body, weights, strict=True)) % 11
    return 0 if rest < 2 else 11 - rest


def cnpj_check_digits(base12: str) -> str:
    """The two check digits of a CNPJ base (12 characters ``[0-9A-Z]``)."""
    base = normalize_cnpj(base12)
    if len(base) != 12 or not re.fullmatch(r"[0-9A-Z]{12}", base):
        raise ValueError("A base do CNPJ deve ter 12 caracteres (letras e dígitos)")
    d1 = _cnpj_dv(base, _CNPJ_W1)
    d2 = _cnpj_dv(base + str(d1), _CNPJ_W2)
    return f"{d1}{d2}"


def is_valid_cnpj(value: str | None) -> bool:
    """CNPJ with valid check digits (formatted or not), numeric or alphanumeric.

    The alphanumeric CNPJ (IN RFB 2.229/2024, NT Conjunta 2025.001, from July 2026) has 12
    characters ``[A-Z0-9]`` and 2 numeric check digits, computed with each character valued
    ``ord(c) - 48``: ``12.ABC.345/01DE-35`` is valid. Lower-case letters are accepted as typed.
    Only ``.``, ``-``, ``/`` and spaces are dropped; any other character makes it invalid.
    Repeated digits (``00.000.000/0000-00``) are invalid.
    """
    if not value:
        return False
    text = _DOC_PUNCTUATION.sub("", value).upper()
    if not _CNPJ_CHARS.fullmatch(text) or len(set(text)) == 1:
        return False
    return text[12:] == cnpj_check_digits(text[:12])


def format_cpf(value: str) -> str:
    """``"12345678909"`` -> ``"123.456.789-09"``. Does not check the digits; text that does
    not hold exactly 11 digits is returned stripped and unchanged (safe for display)."""
    d = only_digits(value)
    if len(d) != 11:
        return (value or "").strip()
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def format_cnpj(value: str) -> str:
    """``"11222333000181"`` -> ``"11.222.333/0001-81"``; ``"12ABC34501DE35"`` ->
    ``"12.ABC.345/01DE-35"``. Same leniency as :func:`format_cpf` (text that is not 14
    CNPJ characters is returned stripped and unchanged)."""
    d = normalize_cnpj(value)
    if len(d) != 14 or not _CNPJ_CHARS.fullmatch(d):
        return (value or "").strip()
    return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"


def gtin_check_digit(body: str) -> int:
    """GS1 check digit for the digits of a GTIN without its last digit (weights 3,1,3,... from the right)."""
    if not _DIGITS.fullmatch(body or ""):
        raise ValueError(f"GTIN deve conter apenas dígitos: {body!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(value: str | None) -> bool:
    """GTIN-8, -12, -13 or -14 with a valid check digit. ``"SEM GTIN"`` and all zeros are invalid
    (an item without barcode has ``ean=None``)."""
    if not value or not _DIGITS.fullmatch(value) or len(value) not in (8, 12, 13, 14):
        return False
    if set(value) == {"0"}:
        return False
    return gtin_check_digit(value[:-1]) == int(value[-1])


def is_valid_ncm(value: str | None) -> bool:
    """NCM: exactly 8 digits (its presence in the TIPI table is not checked)."""
    return bool(value) and len(value or "") == 8 and bool(_DIGITS.fullmatch(value or ""))


def is_valid_cest(value: str | None) -> bool:
    """CEST: exactly 7 digits."""
    return bool(value) and len(value or "") == 7 and bool(_DIGITS.fullmatch(value or ""))


def is_valid_cfop_nfce(value: str | None, extra: Iterable[str] = ()) -> bool:
    """CFOP accepted on an NFC-e: one of :data:`NFCE_CFOPS`, or a code in ``extra`` (an
    allow-list from configuration) that is still 4 digits starting with 5 (an internal
    operation to a final consumer). Anything else (1xxx-3xxx entries, 6xxx/7xxx
    interstate/export sales) is refused."""
    if not value or len(value) != 4 or not _DIGITS.fullmatch(value) or value[0] != "5":
        return False
    return value in NFCE_CFOPS or value in set(extra)


def valid_icms_codes(regime: str) -> frozenset[str]:
    """CSOSN codes for ``"simples"`` (CRT 1) or CST codes for ``"normal"`` (CRT 3)."""
    if regime == "simples":
        return CSOSN_SIMPLES
    if regime == "normal":
        return CST_NORMAL
    raise ValidationError("regime", f"Regime tributário inválido: {regime!r} (use simples ou normal)")


def is_valid_uf(value: str | None) -> bool:
    return value in UFS


def is_valid_cep(value: str | None) -> bool:
    """CEP with 8 digits, formatted (``01310-100``) or not; ``00000000`` is invalid."""
    if not value:
        return False
    digits = value.replace("-", "").replace(".", "").strip()
    return len(digits) == 8 and bool(_DIGITS.fullmatch(digits)) and digits != "00000000"


def format_cep(value: str) -> str:
    d = only_digits(value)
    return f"{d[:5]}-{d[5:]}" if len(d) == 8 else (value or "").strip()


def is_valid_email(value: str | None) -> bool:
    """Pragmatic e-mail check: ``local@dominio.tld``, ASCII, no spaces, no consecutive or
    edge dots, labels without leading/trailing hyphen, TLD of letters, at most 254 chars."""
    if not value or len(value) > 254:
        return False
    m = _EMAIL.fullmatch(value)
    return m is not None and len(m.group("local")) <= 64
