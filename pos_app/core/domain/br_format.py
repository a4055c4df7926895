"""One Brazilian format for what people read: dates in the store's local time, CPF/CNPJ, counts.

Stored timestamps are ISO 8601 with an offset (UTC or local); people always read them converted to
the store's time zone as ``dd/mm/aaaa HH:MM`` (the same sale shows the same time in every list).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from pos_app.core.domain.validators import format_cnpj, format_cpf, normalize_cnpj, only_digits


def parse_timestamp(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def to_local(value: str | datetime | None, zone: tzinfo | datetime | None) -> datetime | None:
    """``value`` in the store's zone (``zone`` may be a ``datetime`` such as ``ctx.now()``)."""
    moment = parse_timestamp(value)
    if moment is None:
        return None
    tz = zone.tzinfo if isinstance(zone, datetime) else zone
    if tz is not None and moment.tzinfo is not None:
        moment = moment.astimezone(tz)
    return moment


def format_local_datetime(
    value: str | datetime | None, zone: tzinfo | datetime | None, *, seconds: bool = False
) -> str:
    """``dd/mm/aaaa HH:MM`` in the store's local time ("—" when unknown)."""
    moment = to_local(value, zone)
    if moment is None:
        return "—"
    return moment.strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def format_local_time(value: str | datetime | None, zone: tzinfo | datetime | None) -> str:
    moment = to_local(value, zone)
    return moment.strftime("%H:%M") if moment is not None else "—"


def format_document(value: str | None) -> str:
    """CPF ``000.000.000-00`` or CNPJ ``00.000.000/0000-00`` / ``12.ABC.345/01DE-35`` (anything else as stored)."""
    if not value:
        return ""
    digits = only_digits(value)
    if len(digits) == 11 and len(normalize_cnpj(value)) == 11:
        return format_cpf(digits)
    return format_cnpj(value)  # numeric or alphanumeric CNPJ; anything else as stored


def count_items(n: int) -> str:
    """ "1 item" / "N itens"."""
    return "1 item" if n == 1 else f"{n} itens"
