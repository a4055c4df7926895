"""Money and decimal helpers.

Money is always :class:`decimal.Decimal`; floats are refused (``TypeError``) because a float
cannot represent most cent values exactly.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from pos_app.core.domain.errors import ValidationError

__all__ = [
    "CENT",
    "DecimalLike",
    "ZERO",
    "api_decimal",
    "as_decimal",
    "decimal_places",
    "format_brl",
    "format_quantity",
    "parse_decimal",
    "to_cents",
    "to_money",
]

CENT = Decimal("0.01")
ZERO = Decimal("0")

DecimalLike = Decimal | int | str
"""What constructors accept for amounts: ``Decimal``, ``int`` or text (parsed by
:func:`parse_decimal`). ``float`` and ``bool`` are refused with ``TypeError``."""

# "1234", "1234,5", "1234.5", ",5"  (a single separator is always the decimal separator)
_PLAIN = re.compile(r"(?P<int>[0-9]*)(?:(?P<sep>[.,])(?P<frac>[0-9]+))?")
# "1.234", "1.234.567,89"  (dots group thousands, the comma is the decimal separator)
_GROUPED = re.compile(r"(?P<int>[0-9]{1,3}(?:\.[0-9]{3})+)(?:,(?P<frac>[0-9]+))?")


def as_decimal(value: DecimalLike, field: str = "valor", label: str | None = None) -> Decimal:
    """Convert ``value`` to a finite ``Decimal``.

    ``Decimal`` is returned as is, ``int`` converted exactly, ``str`` parsed with
    :func:`parse_decimal` (so ``"1,50"`` and ``"1.50"`` both work).
    Raises ``TypeError`` for ``float``/``bool``/other types and :class:`ValidationError`
    for NaN, infinities or unparseable text.
    """
    if isinstance(value, (bool, float)):
        raise TypeError(f"{field}: use Decimal, não float/bool ({value!r})")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(field, f'{label or _label(field)}: número inválido "{value}"')
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        return parse_decimal(value, field, label)
    raise TypeError(f"{field}: tipo não suportado para valor decimal: {type(value).__name__}")


def to_money(x: DecimalLike) -> Decimal:
    """Round to 2 places (cents) with ROUND_HALF_UP; ``-0.00`` becomes ``0.00``."""
    d = as_decimal(x)
    try:
        q = d.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # more digits than the decimal context allows
        raise ValidationError("valor", f"Valor fora do limite: {d}") from exc
    return q.copy_abs() if q.is_zero() else q


def to_cents(x: DecimalLike) -> int:
    """Integer number of cents of ``to_money(x)``."""
    return int(to_money(x) * 100)


def decimal_places(d: Decimal) -> int:
    """Number of significant decimal places (``Decimal("1.500")`` -> 1, ``Decimal("100")`` -> 0)."""
    if not d.is_finite():
        raise ValueError(f"valor não finito: {d}")
    exponent = d.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def _label(field: str) -> str:
    text = field.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else "Valor"


def parse_decimal(text: str, field: str = "valor", label: str | None = None) -> Decimal:
    """Parse a number typed by a person or read from a file.

    Accepted forms: ``"1,50"``, ``"1.50"``, ``"1.234,56"``, ``"1.234.567"``, ``"1234"``, ``",5"``,
    optionally signed (``"-"``/``"+"``) and optionally prefixed with ``"R$"``
    (so ``format_brl`` output parses back).

    Rule for separators: with a comma present, the comma is the decimal separator and dots
    must group thousands (``"1.234,56"``). Without a comma, a *single* dot is the decimal
    separator (``"1.50"``, ``"1.234"`` == 1.234, as in API/CSV files) and several dots group
    thousands (``"1.234.567"``). US style ``"1,234.56"`` is refused as ambiguous.

    Raises :class:`ValidationError` (field ``field``) with a Portuguese message.
    """
    if not isinstance(text, str):
        raise TypeError(f"{field}: texto esperado, recebido {type(text).__name__}")
    name = label or _label(field)
    s = text.strip().replace("\u00a0", " ")
    if not s:
        raise ValidationError(field, f"{name}: informe um número")
    negative = False
    signed = s[0] in "+-"
    if signed:
        negative = s[0] == "-"
        s = s[1:].lstrip()
    if s[:2].upper() == "R$":
        s = s[2:].lstrip()
        if not signed and s[:1] in ("+", "-"):
            negative = s[0] == "-"
            s = s[1:].lstrip()
    number: str | None = None
    m = _GROUPED.fullmatch(s)
    if m and (m.group("frac") is not None or s.count(".") > 1):
        number = m.group("int").replace(".", "") + ("." + m.group("frac") if m.group("frac") else "")
    else:
        m = _PLAIN.fullmatch(s)
        if m and (m.group("int") or m.group("frac")):
            number = (m.group("int") or "0") + ("." + m.group("frac") if m.group("frac") else "")
    if number is None:
        raise ValidationError(field, f'{name}: número inválido "{text.strip()}"')
    try:
        value = Decimal(number)
    except InvalidOperation as exc:  # pragma: no cover - the regexes only let digits through
        raise ValidationError(field, f'{name}: número inválido "{text.strip()}"') from exc
    return -value if negative and not value.is_zero() else value


def _group_thousands(digits: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return ".".join(parts)


def format_brl(d: DecimalLike) -> str:
    """``Decimal("1234.5")`` -> ``"R$ 1.234,50"``; negatives as ``"-R$ 1,50"``."""
    q = to_money(d)
    sign = "-" if q < 0 else ""
    integer, _, frac = f"{abs(q):f}".partition(".")
    return f"{sign}R$ {_group_thousands(integer)},{frac}"


def format_quantity(d: DecimalLike) -> str:
    """Quantity for people: no trailing zeros, comma decimal, no grouping (``1.500`` -> ``"1,5"``)."""
    q = as_decimal(d, "quantidade")
    if q.is_zero():
        return "0"
    return f"{q.normalize():f}".replace(".", ",")


def api_decimal(d: DecimalLike, places: int) -> str:
    """Fixed-point text for the API: dot decimal, exactly ``places`` places, ROUND_HALF_UP.

    ``api_decimal(Decimal("1.5"), 2)`` -> ``"1.50"``; ``api_decimal(Decimal("0.3333"), 4)`` -> ``"0.3333"``.
    """
    if places < 0:
        raise ValueError("places deve ser >= 0")
    value = as_decimal(d)
    try:
        q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValidationError("valor", f"Valor fora do limite: {value}") from exc
    if q.is_zero():
        q = q.copy_abs()
    return f"{q:f}"
