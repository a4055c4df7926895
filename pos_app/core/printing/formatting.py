"""Small Brazilian-style formatters used by the receipt layout.

Kept local to ``core.printing`` so the printing package depends on nothing else in the project
(the services layer converts domain/fiscal objects into :mod:`pos_app.core.printing.receipt`
dataclasses).
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "NBSP",
    "balanced_wrap",
    "clean_text",
    "format_chave",
    "format_cnpj",
    "format_cpf",
    "format_datetime",
    "format_money",
    "format_quantity",
    "format_unit_value",
    "only_digits",
    "squash",
    "wrap",
    "wrap_url",
]

_CENT = Decimal("0.01")
_QTY = Decimal("0.0001")
_UNIT = Decimal("0.0000000001")


def _brazilian_grouping(text: str) -> str:
    """Swap US separators (``1,234.56``) for Brazilian ones (``1.234,56``)."""
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def format_money(value: Decimal) -> str:
    """``Decimal("1234.5")`` -> ``"1.234,50"`` (2 places, ROUND_HALF_UP, no currency symbol)."""
    q = Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP)
    if q == 0:
        q = abs(q)  # no "-0,00"
    return _brazilian_grouping(f"{q:,.2f}")


def format_quantity(value: Decimal) -> str:
    """Quantity with a decimal comma, up to 4 places, trailing zeros trimmed: ``1.500`` -> ``"1,5"``."""
    q = Decimal(value).quantize(_QTY, rounding=ROUND_HALF_UP)
    text = f"{q:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(".", ",")


def format_unit_value(value: Decimal) -> str:
    """Unit value: at least 2 decimals, up to 10 (NFC-e ``vUnCom``), thousands grouped: ``"1.234,5678"``."""
    q = Decimal(value).quantize(_UNIT, rounding=ROUND_HALF_UP)
    text = f"{q:,f}"
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    if len(frac) < 2:
        frac = frac.ljust(2, "0")
    return _brazilian_grouping(f"{whole}.{frac}")


def only_digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def format_cnpj(cnpj: str) -> str:
    """``"07504505000132"`` -> ``"07.504.505/0001-32"``, ``"12ABC34501DE35"`` -> ``"12.ABC.345/01DE-35"``
    (alphanumeric CNPJ); anything that is not 14 CNPJ characters is returned as is."""
    from pos_app.core.domain.validators import format_cnpj as _format

    return _format(cnpj)


def format_cpf(cpf: str) -> str:
    """``"12345678909"`` -> ``"123.456.789-09"``; anything that is not 11 digits is returned as is."""
    d = only_digits(cpf)
    if len(d) != 11:
        return cpf.strip()
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def format_chave(chave: str) -> str:
    """44-character access key in 11 groups of 4 separated by spaces (accepts a ``NFe`` prefix;
    keeps the letters of an alphanumeric CNPJ)."""
    d = "".join(ch for ch in chave.upper() if ch.isascii() and ch.isalnum())
    if d.startswith(("NFE", "CTE")):
        d = d[3:]
    return " ".join(d[i : i + 4] for i in range(0, len(d), 4))


def format_datetime(value: datetime, reference: datetime | None = None) -> str:
    """``dd/mm/aaaa hh:mm:ss``.

    The time is shown in the value's own offset; when ``reference`` is given and both are aware, the
    value is first converted to the reference's offset (used to show the authorization time in the
    same local time as the emission time).
    """
    if reference is not None and reference.tzinfo is not None and value.tzinfo is not None:
        value = value.astimezone(reference.tzinfo)
    return value.strftime("%d/%m/%Y %H:%M:%S")


def clean_text(text: str) -> str:
    """NFC-normalize (so ``len`` counts printed characters) and turn control characters into spaces."""
    text = unicodedata.normalize("NFC", text)
    return "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)


NBSP = "\u00a0"  # glues words together for wrapping; printed as a normal space

_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def squash(text: str) -> str:
    """Collapse runs of ASCII whitespace into one space (non-breaking spaces are kept)."""
    return _SPACES.sub(" ", text).strip()


def wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Word-wrap to ``width``; words longer than the width (codes) are broken. Never empty.

    Words joined by :data:`NBSP` stay on the same line (the NBSP is printed as a space).
    """
    lines = textwrap.wrap(
        text,
        width=width,
        subsequent_indent=indent,
        break_long_words=True,
        break_on_hyphens=False,
    )
    return [line.replace(NBSP, " ") for line in lines] or [""]


def balanced_wrap(text: str, width: int) -> list[str]:
    """Wrap using as few lines as :func:`wrap` but with line lengths as even as possible.

    Meant for centred headings: "Documento Auxiliar da Nota / Fiscal de Consumidor Eletrônica" rather
    than a full first line and a one-word second line.
    """
    lines = wrap(text, width)
    if len(lines) <= 1:
        return lines
    target = len(lines)
    lo, hi = min(width, max(len(word) for word in text.split(" "))), width
    while lo < hi:  # smallest width that still needs no more lines
        mid = (lo + hi) // 2
        if len(textwrap.wrap(text, width=mid, break_long_words=False, break_on_hyphens=False)) <= target:
            hi = mid
        else:
            lo = mid + 1
    return wrap(text, lo)


def wrap_url(url: str, width: int) -> list[str]:
    """Split a URL after ``/``, ``?``, ``&`` or ``=`` so that lines end on a path boundary when possible."""
    tokens = [tok for tok in re.split(r"(?<=[/?&=])", url) if tok]
    lines: list[str] = []
    current = ""
    for token in tokens:
        if len(current) + len(token) <= width:
            current += token
        elif len(token) <= width:
            lines.append(current)
            current = token
        else:  # longer than a line: hard-break it, starting on the current line
            current += token
            while len(current) > width:
                lines.append(current[:width])
                current = current[width:]
    if current or not lines:
        lines.append(current)
    return lines
