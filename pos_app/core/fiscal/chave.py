"""Chave de acesso (44 characters) of NF-e/NFC-e: build, check digit, parse, format.

Layout: ``cUF(2) AAMM(4) CNPJ(14) mod(2) serie(3) nNF(9) tpEmis(1) cNF(8) cDV(1)``.

Since the alphanumeric CNPJ (NT Conjunta 2025.001, July 2026) the 14 CNPJ positions may hold
upper-case letters; every other position stays numeric. The check digit values each character
``ord(c) - 48`` (digits keep their value, ``A`` = 17 ... ``Z`` = 42).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from pos_app.core.fiscal.states import UF_BY_CODE, uf_code, uf_from_code

CHAVE_LENGTH = 44

TP_EMIS_NORMAL = 1
TP_EMIS_OFFLINE = 9


@dataclass(frozen=True)
class ChaveParts:
    uf_code: str  # two digits, e.g. "41"
    year: int  # four digits (2000 + AA)
    month: int
    cnpj: str
    modelo: int
    serie: int
    numero: int
    tp_emis: int
    cnf: str
    dv: int

    @property
    def uf(self) -> str:
        return UF_BY_CODE[self.uf_code]

    @property
    def chave(self) -> str:
        body = (
            f"{self.uf_code}{self.year % 100:02d}{self.month:02d}{self.cnpj}{self.modelo:02d}"
            f"{self.serie:03d}{self.numero:09d}{self.tp_emis:d}{self.cnf}"
        )
        return body + str(self.dv)


_CHAVE_BODY = re.compile(r"[0-9]{6}[0-9A-Z]{14}[0-9]{23}")


def compute_dv(digits43: str) -> int:
    """Check digit (mod 11, weights 2..9 from the right, repeating; r in (0, 1) -> 0).

    Each character is worth ``ord(c) - 48`` so the letters of an alphanumeric CNPJ count."""
    if len(digits43) != CHAVE_LENGTH - 1 or not _CHAVE_BODY.fullmatch(digits43):
        raise ValueError("A base da chave de acesso deve ter 43 caracteres (letras só no CNPJ)")
    total = sum((ord(char) - 48) * (2 + index % 8) for index, char in enumerate(reversed(digits43)))
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def build_chave(
    uf: str | int,
    data_emissao: date,
    cnpj: str,
    serie: int,
    numero: int,
    tp_emis: int,
    cnf: str | int,
    modelo: int = 65,
) -> str:
    """Return the 44-character key (letters only where an alphanumeric CNPJ puts them).

    ``data_emissao`` (a date or an aware datetime) must be in the issuer's local time: AAMM is its
    year and month as printed on the note. ``uf`` is the two-letter UF or its IBGE code.
    """
    code = _uf_code_of(uf)
    cnpj_digits = _strip_document(cnpj).upper()
    if not _CNPJ_FIELD.fullmatch(cnpj_digits):
        raise ValueError("CNPJ do emitente deve ter 14 caracteres (12 letras/dígitos e 2 dígitos)")
    if not 0 <= modelo <= 99:
        raise ValueError(f"Modelo inválido: {modelo}")
    if not 0 <= serie <= 999:
        raise ValueError(f"Série inválida: {serie} (0 a 999)")
    if not 1 <= numero <= 999_999_999:
        raise ValueError(f"Número da nota inválido: {numero} (1 a 999999999)")
    if not 1 <= tp_emis <= 9:
        raise ValueError(f"Tipo de emissão inválido: {tp_emis}")
    cnf_text = _cnf_text(cnf)
    body = (
        f"{code}{data_emissao.year % 100:02d}{data_emissao.month:02d}{cnpj_digits}{modelo:02d}"
        f"{serie:03d}{numero:09d}{tp_emis:d}{cnf_text}"
    )
    return body + str(compute_dv(body))


def normalize_chave(chave: str) -> str:
    """Drop a leading ``NFe``/``CTe`` (as in the Focus ``chave_nfe``) and any spaces, upper-case
    the letters of an alphanumeric CNPJ; no validation."""
    text = "".join(chave.split())
    if text[:3].upper() in ("NFE", "CTE"):
        text = text[3:]
    return text.upper()


def chave_chars(text: str | None) -> str:
    """The characters of a key typed or pasted by a person (spaces, dots and a ``NFe``/``CTe``
    prefix dropped, letters upper-cased): ``only_digits`` would lose an alphanumeric CNPJ."""
    chars = "".join(ch for ch in (text or "") if ch.isascii() and ch.isalnum()).upper()
    if chars[:3] in ("NFE", "CTE"):
        chars = chars[3:]
    return chars


def parse_chave(chave: str) -> ChaveParts:
    """Split a key into its fields. Raises ValueError when the key is malformed or its DV is wrong."""
    digits = normalize_chave(chave)
    if len(digits) != CHAVE_LENGTH or not _is_chave_text(digits):
        raise ValueError("Chave de acesso deve ter 44 caracteres")
    dv = int(digits[43])
    if compute_dv(digits[:43]) != dv:
        raise ValueError("Dígito verificador da chave de acesso não confere")
    code = digits[0:2]
    if code not in UF_BY_CODE:
        raise ValueError(f"Código de UF da chave de acesso desconhecido: {digits[0:2]}")
    month = int(digits[4:6])
    if not 1 <= month <= 12:
        raise ValueError(f"Mês da chave de acesso inválido: {digits[4:6]}")
    return ChaveParts(
        uf_code=code,
        year=2000 + int(digits[2:4]),
        month=month,
        cnpj=digits[6:20],
        modelo=int(digits[20:22]),
        serie=int(digits[22:25]),
        numero=int(digits[25:34]),
        tp_emis=int(digits[34]),
        cnf=digits[35:43],
        dv=dv,
    )


def is_valid_chave(chave: str) -> bool:
    """True for a well-formed 44-character key (``NFe`` prefix allowed) with a matching DV."""
    try:
        parse_chave(chave)
    except ValueError:
        return False
    return True


def format_chave(chave: str) -> str:
    """``"4120 0323 ... 2496"``: 11 groups of 4 digits separated by single spaces (DANFCe)."""
    digits = normalize_chave(chave)
    if len(digits) != CHAVE_LENGTH or not _is_chave_text(digits):
        raise ValueError("Chave de acesso deve ter 44 caracteres")
    return " ".join(digits[i : i + 4] for i in range(0, CHAVE_LENGTH, 4))


def _uf_code_of(uf: str | int) -> str:
    if isinstance(uf, int) or uf.strip().isdigit():
        return uf_code(uf_from_code(uf))
    return uf_code(uf)


def _cnf_text(cnf: str | int) -> str:
    text = f"{cnf:08d}" if isinstance(cnf, int) else cnf.strip()
    if len(text) != 8 or not _is_ascii_digits(text):
        raise ValueError("Código numérico (cNF) deve ter 8 dígitos")
    return text


def _strip_document(value: str) -> str:
    return "".join(char for char in value if char not in ". /-")


_CNPJ_FIELD = re.compile(r"[0-9A-Z]{12}[0-9]{2}")


def _is_chave_text(text: str) -> bool:
    """44 characters, letters only in the CNPJ positions (7-20)."""
    return bool(_CHAVE_BODY.fullmatch(text[:43])) and text[43:].isascii() and text[43:].isdigit()


def is_chave_like(text: str) -> bool:
    """A 44-character text shaped like a key (no DV check): for search boxes and lookups."""
    return len(text) == CHAVE_LENGTH and _is_chave_text(text.upper())


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() accepts non-ASCII digits such as "²" or Arabic-Indic numerals.
    return text.isascii() and text.isdigit()
