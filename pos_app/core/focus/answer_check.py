"""Check an API answer against what was sent, before anything is stored or printed.

An authorized note's key must be a well-formed access key (44 characters; the CNPJ part,
positions 7-20, may be alphanumeric from July 2026, everything else digits; mod-11 check digit
computed on ``ord(c) - 48`` as the alphanumeric CNPJ rules define) and must belong to THIS sale:
the emitter's cUF and CNPJ, model 65, the series and number the answer and the payload carry, the
expected tpEmis and, where we sent one, ``codigo_unico`` as cNF. The status must be one of the
statuses the API documents, as a string. Anything else is an answer we cannot trust: the caller
treats it as "in doubt" and consults.
"""

from __future__ import annotations

import re
from typing import Any

from pos_app.core.fiscal.states import uf_code

KEY_PATTERN = re.compile(r"^[0-9]{6}[0-9A-Z]{14}[0-9]{24}$")
KNOWN_NFCE_STATUSES = frozenset(
    {
        "autorizado",
        "cancelado",
        "denegado",
        "erro_autorizacao",
        "processando_autorizacao",
    }
)


def key_check_digit(base43: str) -> int:
    total = sum((ord(ch) - 48) * (2 + i % 8) for i, ch in enumerate(reversed(base43)))
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def key_problems(chave: str | None) -> list[str]:
    if not chave:
        return ["chave de acesso ausente"]
    if len(chave) != 44:
        return [f"chave de acesso com {len(chave)} caracteres (devem ser 44)"]
    if not KEY_PATTERN.match(chave):
        return ["chave de acesso com caracteres inválidos"]
    if key_check_digit(chave[:43]) != int(chave[43]):
        return ["dígito verificador da chave de acesso inválido"]
    return []


def status_problem(raw: dict[str, Any]) -> str | None:
    """Why the answer's ``status`` cannot be read (None when it is a known string)."""
    value = raw.get("status")
    if not isinstance(value, str):
        return f"situação da nota em formato inesperado ({value!r})"
    if value not in KNOWN_NFCE_STATUSES:
        return f"situação da nota desconhecida ({value!r})"
    return None


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def answer_problems(
    chave: str | None,
    *,
    uf: str,
    cnpj: str,
    sent: dict[str, Any],
    answer_serie: Any = None,
    answer_numero: Any = None,
    tp_emis: set[int] | None = None,
    expected_key: str | None = None,
    modelo: int = 65,
) -> list[str]:
    """What does not match between an authorized answer's key and what was sent (empty: all good)."""
    problems = key_problems(chave)
    if problems:
        return problems
    assert chave is not None
    if expected_key and chave != expected_key:
        problems.append(f"chave {chave} difere da chave impressa {expected_key}")
    if chave[0:2] != uf_code(uf):
        problems.append(f"cUF {chave[0:2]} na chave; o emitente é de {uf} ({uf_code(uf)})")
    own = re.sub(r"[^0-9A-Z]", "", cnpj.upper())
    if chave[6:20] != own:
        problems.append(f"CNPJ {chave[6:20]} na chave; o emitente é {own}")
    if int(chave[20:22]) != modelo:
        problems.append(f"modelo {chave[20:22]} na chave (esperado {modelo})")
    serie, numero = int(chave[22:25]), int(chave[25:34])
    for label, in_key, values in (
        ("série", serie, (answer_serie, sent.get("serie"))),
        ("número", numero, (answer_numero, sent.get("numero"))),
    ):
        for value in values:
            v = _int(value)
            if v is not None and v != in_key:
                problems.append(f"{label} {in_key} na chave difere de {v}")
                break
    if tp_emis is not None and int(chave[34]) not in tp_emis:
        problems.append(f"tpEmis {chave[34]} na chave (esperado {'/'.join(str(t) for t in sorted(tp_emis))})")
    cnf = sent.get("codigo_unico")
    if cnf and chave[35:43] != str(cnf).zfill(8):
        problems.append(f"cNF {chave[35:43]} na chave difere do código único enviado {cnf}")
    return problems
