"""Portuguese ordering of names without the operating system's locale (identical on Windows and Linux).

``sort_key("Açúcar") == sort_key("acucar")`` up to a tie-breaker: accents and case do not move a
word to the end of the list ("AÇÚCAR" comes between "ACHOCOLATADO" and "ARROZ"). Ties are broken by
the accent-insensitive key first and then the original text, so the order is total and stable.
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower case without diacritics: "Pão Francês" -> "pao frances"; "ç" -> "c"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def sort_key(text: str) -> tuple[str, str]:
    return fold(text), text
