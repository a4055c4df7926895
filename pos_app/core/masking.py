"""Masking of secrets and personal data in anything written for support (logs, support bundle).

Two layers, because a log line can come from anywhere (our code, httpx, an exception message):
- **secrets** (API token, certificate password): every value the process learns is registered
  with :func:`register_secret` (by ``Config`` and ``FocusClient``) and replaced literally, together
  with the HTTP Basic form a token travels in; plus patterns (``Authorization:`` headers,
  ``token=``, ``senha``/``password`` fields) for values never registered;
- **personal data** of consumers (LGPD): CPF and CNPJ with valid check digits and e-mail addresses.
  The 44-digit access key (chave) and other long digit runs are left alone.

:func:`mask_json` masks API bodies by key first (``cpf_destinatario``, ``email``...) and drops
embedded XML, so the support log keeps the shape of every exchange without its private content.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from typing import Any

from pos_app.core.domain.validators import is_valid_cnpj, is_valid_cpf, normalize_cnpj, only_digits

SECRET_MARK = "[SEGREDO]"
CPF_MARK = "[CPF]"
CNPJ_MARK = "[CNPJ]"
EMAIL_MARK = "[E-MAIL]"
MIN_SECRET_LEN = 4  # shorter values would mask ordinary text everywhere

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_re: re.Pattern[str] | None = None
_public: set[str] = set()  # the shop's own CNPJ: printed on every receipt, useful in support logs

_AUTH_HEADER = re.compile(
    r"(?i)\b(authorization|proxy-authorization)(\s*[:=]\s*['\"]?)(basic|bearer|token)?\s*[^\s'\",}]+"
)
_BASIC = re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._-]{8,}")
_KEY_VALUE = re.compile(
    r"(?i)([\"']?\b(?:token|senha|password|passwd|secret|pin|api[_-]?key)(?:[_.-]\w+)?[\"']?\s*[:=]\s*[\"']?)"
    r"([^\s\"'&,;}]+)"
)
_CPF_FMT = re.compile(r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\d-])")
_CNPJ_FMT = re.compile(r"(?<![\d.])\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}(?![\d-])")
# Alphanumeric CNPJ (from July 2026), formatted or not: must hold at least one letter (digit runs
# are handled below) and end with the two numeric check digits.
_CNPJ_ALNUM = re.compile(
    r"(?<![0-9A-Za-z.])(?=[0-9A-Z.\-/]*[A-Z])"
    r"(?:[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-\d{2}|[0-9A-Z]{12}\d{2})(?![0-9A-Za-z-])"
)
_DIGIT_RUN = re.compile(r"(?<!\d)(\d{11}|\d{14})(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}")

# API body keys holding consumer data; matched on the lowercased key.
_PERSONAL_KEYS = re.compile(
    r"^(cpf|cnpj|cpf_destinatario|cnpj_destinatario|email|emails|email_destinatario|nome_destinatario|"
    r"telefone_destinatario|logradouro_destinatario|numero_destinatario|bairro_destinatario|"
    r"cep_destinatario|inscricao_estadual_destinatario|id_estrangeiro_destinatario|"
    r"cnpj_credenciadora|numero_autorizacao|.*(token|senha|password|certificado|base64).*)$"
)
_EMITTER_KEYS = frozenset({"cnpj_emitente", "cnpj"})  # the shop itself: not personal data
MAX_LOGGED_STRING = 300  # embedded XML and other long strings are summarized


def register_secret(value: str | None) -> None:
    """Remember a secret so it is masked wherever it shows up (also base64 in a Basic header)."""
    if not value or len(value) < MIN_SECRET_LEN:
        return
    forms = {
        value,
        base64.b64encode(f"{value}:".encode()).decode(),
        base64.b64encode(value.encode()).decode(),
    }
    global _secret_re
    with _lock:
        if forms <= _secrets:
            return
        _secrets.update(f for f in forms if len(f) >= MIN_SECRET_LEN)
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_re = re.compile("|".join(re.escape(s) for s in ordered))


def register_public(cnpj: str | None) -> None:
    """A CNPJ that is not personal data (the emitter's): left visible in logs."""
    digits = normalize_cnpj(cnpj)
    if len(digits) == 14:
        with _lock:
            _public.add(digits)


def mask_secrets(text: str) -> str:
    pattern = _secret_re
    if pattern is not None:
        text = pattern.sub(SECRET_MARK, text)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{SECRET_MARK}", text)
    text = _BASIC.sub(lambda m: f"{m.group(1)} {SECRET_MARK}", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group(1)}{SECRET_MARK}", text)


def _digits_mark(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = only_digits(found)
    if len(digits) == 11 and is_valid_cpf(digits):
        return CPF_MARK
    if len(digits) == 14 and is_valid_cnpj(digits) and digits not in _public:
        return CNPJ_MARK
    return found


def _alnum_cnpj_mark(match: re.Match[str]) -> str:
    found = match.group(0)
    chars = normalize_cnpj(found)
    if is_valid_cnpj(chars) and chars not in _public:
        return CNPJ_MARK
    return found


def mask_personal(text: str) -> str:
    text = _EMAIL.sub(EMAIL_MARK, text)
    text = _CPF_FMT.sub(_digits_mark, text)
    text = _CNPJ_FMT.sub(_digits_mark, text)
    text = _CNPJ_ALNUM.sub(_alnum_cnpj_mark, text)
    return _DIGIT_RUN.sub(_digits_mark, text)


def mask_text(text: str) -> str:
    """Secrets and personal data out of one piece of text."""
    return mask_personal(mask_secrets(text))


def mask_json(data: Any, *, keep_emitter: bool = True, mask_strings: bool = True) -> Any:
    """A copy of a JSON value with consumer data and secrets masked by key, long strings summarized.

    ``mask_strings=False`` leaves free text alone for a caller that masks the serialized result as
    a whole (one pass over the text instead of one per value).
    """
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            name = str(key).lower()
            if keep_emitter and name in _EMITTER_KEYS and isinstance(value, str):
                if name == "cnpj_emitente":
                    register_public(value)
                out[key] = value
            elif _PERSONAL_KEYS.match(name) and value not in (None, "", [], {}):
                out[key] = SECRET_MARK if re.search("token|senha|password", name) else "[OCULTO]"
            else:
                out[key] = mask_json(value, keep_emitter=keep_emitter, mask_strings=mask_strings)
        return out
    if isinstance(data, list):
        return [mask_json(v, keep_emitter=keep_emitter, mask_strings=mask_strings) for v in data]
    if isinstance(data, str):
        mask = mask_text if mask_strings else str
        if len(data) > MAX_LOGGED_STRING and data.lstrip().startswith("<"):
            return f"<xml {len(data)} caracteres>"
        if len(data) > MAX_LOGGED_STRING:
            return mask(data[:MAX_LOGGED_STRING]) + f"...(+{len(data) - MAX_LOGGED_STRING})"
        return mask(data)
    return data


def mask_body(body: bytes | str | None, limit: int = 4000) -> str:
    """An HTTP body as one masked line for the support log."""
    if body is None or body == b"" or body == "":
        return "(vazio)"
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        shown = mask_text(" ".join(text[:limit].split()))
        return shown + (f"...(+{len(text) - limit})" if len(text) > limit else "")
    shown = mask_text(json.dumps(mask_json(parsed, mask_strings=False), ensure_ascii=False))
    return shown if len(shown) <= limit else shown[:limit] + f"...(+{len(shown) - limit})"
