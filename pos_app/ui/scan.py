"""What the code field understands: ``CODE``, ``3*CODE``, ``1,5*CODE`` and scale labels.

The rules live in ``core/services/cart.py`` (shared with ``pos-app sell``); this module keeps the
names the window and its tests use.
"""

from __future__ import annotations

from pos_app.core.services.cart import MAX_QUANTITY, ScanResult, parse_quantity, resolve, split_entry
from pos_app.core.services.cart import EntryError as ScanError

__all__ = ["MAX_QUANTITY", "ScanError", "ScanResult", "parse_quantity", "resolve", "split_entry"]
