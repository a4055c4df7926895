"""Operator PINs: slow KDF hashing and lockout after repeated wrong PINs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt parameters: ~50 ms per check on a counter PC, hostile to offline guessing of short PINs.
_N, _R, _P = 2**14, 8, 1
MAX_FAILED_ATTEMPTS = 5
LOCKOUT_MINUTES = 5


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(
        pin.encode(), salt=base64.b64decode(salt_b64), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def validate_pin_format(pin: str) -> str | None:
    """Return a Portuguese error message, or None when the PIN is acceptable."""
    if not pin.isdigit() or not 4 <= len(pin) <= 8:
        return "O PIN deve ter de 4 a 8 dígitos."
    return None
