"""Compact storage of the long API texts (the request sent, the raw answers).

The request of each NFC-e and the raw answers of the API are kept for support and inspection, but
they are most of a sale's bytes. They are stored zlib-compressed in a BLOB (same column; rows
written before the compression stay plain text and are read the same way). Reading always goes
through :func:`unpack_text`, so every command shows them exactly as they were received.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

# Short texts are not worth compressing (zlib's header would eat the gain).
_MIN_LEN = 128
_MAGIC = b"z1"  # version tag: a future format can be told apart from this one


def pack_text(text: str | None) -> str | bytes | None:
    if text is None or len(text) < _MIN_LEN:
        return text
    return _MAGIC + zlib.compress(text.encode("utf-8"), 6)


def unpack_text(value: Any) -> str | None:
    """Text of a stored value: plain text as is, a packed BLOB decompressed."""
    if value is None or isinstance(value, str):
        return value
    raw = bytes(value)
    if raw.startswith(_MAGIC):
        return zlib.decompress(raw[len(_MAGIC):]).decode("utf-8")
    return raw.decode("utf-8")


def load_json(value: Any) -> Any:
    text = unpack_text(value)
    return None if text is None else json.loads(text)


def unpack_row(row: dict[str, Any] | None, *columns: str) -> dict[str, Any] | None:
    """``row`` with the packed ``columns`` turned back into text (in place; returns it)."""
    if row is not None:
        for col in columns:
            if col in row:
                row[col] = unpack_text(row[col])
    return row
