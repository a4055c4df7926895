"""Focus ``ref`` of every document family: what a NEW ref may contain.

The seed forbids special characters in a ref and its examples use ``_``: new refs (sales,
contingency notes, CT-e, CT-e OS, RPS batches) use only letters, digits and ``_``. Refs already
stored with ``-`` (created by earlier versions) keep working for consults, cancellations and
replays: the API client still accepts them (:data:`LEGACY_REF_PATTERN`).
"""

from __future__ import annotations

import re

NEW_REF_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,60}$")
LEGACY_REF_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,60}$")
CONTINGENCY_SUFFIX = "_C"


def is_new_ref(ref: str | None) -> bool:
    return bool(NEW_REF_PATTERN.match(ref or ""))


def new_ref_problem(ref: str | None) -> str | None:
    """Portuguese reason why ``ref`` cannot name a new document, or None."""
    if is_new_ref(ref):
        return None
    return (
        f"Referência inválida: {ref!r} (use de 1 a 60 letras, dígitos ou '_'; sem '-' nem outros símbolos)."
    )


def sale_ref(terminal_id: str, sale_id: int) -> str:
    """``CX01_00000042``."""
    return f"{terminal_id}_{sale_id:08d}"


def contingency_ref(online_ref: str) -> str:
    """``CX01_00000042_C``; an online ref of an older version (``CX01-00000042``) gives
    ``CX01_00000042_C`` too: the new ref never carries a ``-``."""
    return online_ref.replace("-", "_") + CONTINGENCY_SUFFIX
