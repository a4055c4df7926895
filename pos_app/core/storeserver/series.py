"""Series registry: the store database gives each terminal its own series: online NFC-e, NFC-e contingency
(tpEmis 9) and NF-e contingency (model 55 generated beforehand). Both contingency series are numbered by the
terminal itself, so two terminals on one of them would issue the same numbers: each gets its own.

``loja_series.serie`` is the primary key, so two terminals can never hold the same series; a terminal
refuses to emit on a series registered to another one (``check_serie``).
"""

from __future__ import annotations

import json
from typing import Any

from pos_app.core.errors import PosError
from pos_app.core.store import Store

ONLINE_RANGE = (1, 599)
CONTINGENCY_RANGE = (600, 889)  # the contingencia.serie validator's upper bound
# NF-e contingency series share the range, claimed from the top (889, the standalone default, first):
# the primary key keeps them apart from the NFC-e ones claimed from the bottom.
NFE_CONTINGENCY_RANGE = (600, 889)


class SeriesConflict(PosError, RuntimeError):
    kind = "serie"


def _claim(
    conn: Any,
    terminal_id: str,
    tipo: str,
    lo: int,
    hi: int,
    wanted: int | None,
    *,
    downward: bool = False,
    avoid: frozenset[int] = frozenset(),
) -> int:
    row = conn.execute(
        "SELECT serie FROM loja_series WHERE terminal_id = %s AND tipo = %s", [terminal_id, tipo]
    ).fetchone()
    if row:
        return int(row[0])
    span = range(hi, lo - 1, -1) if downward else range(lo, hi + 1)
    candidates = ([wanted] if wanted and lo <= wanted <= hi else []) + list(span)
    for serie in candidates:
        if serie in avoid:
            continue
        got = conn.execute(
            "INSERT INTO loja_series (serie, terminal_id, tipo) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING serie",
            [serie, terminal_id, tipo],
        ).fetchone()
        if got:
            return int(got[0])
    raise SeriesConflict(f"Não há série {tipo} livre na loja ({lo}-{hi}).")


def register(
    conn: Any,
    terminal_id: str,
    wanted_contingency: int | None = None,
    *,
    avoid: frozenset[int] = frozenset(),
) -> dict[str, Any]:
    """Register the terminal (idempotent) and return its series and those of the others.

    ``avoid``: series this terminal uses for something else (its online NF-e series): never handed out to it
    as a contingency series."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(716018)")
        conn.execute(
            "INSERT INTO loja_terminais (terminal_id) VALUES (%s) ON CONFLICT DO NOTHING", [terminal_id]
        )
        online = _claim(conn, terminal_id, "online", *ONLINE_RANGE, None)
        contingencia = _claim(
            conn, terminal_id, "contingencia", *CONTINGENCY_RANGE, wanted_contingency, avoid=avoid
        )
        nfe_contingencia = _claim(
            conn, terminal_id, "nfe_contingencia", *NFE_CONTINGENCY_RANGE, None, downward=True, avoid=avoid
        )
        others = [
            int(r[0])
            for r in conn.execute(
                "SELECT serie FROM loja_series WHERE terminal_id <> %s ORDER BY serie", [terminal_id]
            ).fetchall()
        ]
    return {
        "terminal_id": terminal_id,
        "online": online,
        "contingencia": contingencia,
        "nfe_contingencia": nfe_contingencia,
        "outras": others,
    }


def apply_locally(store: Store, info: dict[str, Any]) -> None:
    with store.transaction() as tx:
        for key, value in (
            ("contingencia.serie", str(info["contingencia"])),
            ("nfe.serie_contingencia", str(info["nfe_contingencia"])),
            ("loja.serie_online", str(info["online"])),
            ("loja.series_outros", json.dumps(info["outras"])),
        ):
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
    store.settings._cache = None


def refresh_others(store: Store, conn: Any, terminal_id: str) -> None:
    with conn.transaction():
        others = [
            int(r[0])
            for r in conn.execute(
                "SELECT serie FROM loja_series WHERE terminal_id <> %s ORDER BY serie", [terminal_id]
            ).fetchall()
        ]
    value = json.dumps(others)
    if store.settings.get("loja.series_outros") != value:
        store.settings.set("loja.series_outros", value)


def check_serie(store: Store, serie: int) -> None:
    """Refuse a series the store registered to another terminal (works offline: local copy)."""
    raw = store.settings.get("loja.series_outros")
    if not raw:
        return
    if int(serie) in {int(s) for s in json.loads(raw)}:
        raise SeriesConflict(
            f"A série {serie} está registrada para outro terminal da loja: este terminal não emite nela. "
            "Use a série atribuída pela loja (pos-app loja status)."
        )
