"""Store-wide views (history, daily dashboard, cash closing) read from the store database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def _filters(day: str | None, terminal: str | None, operador: str | None) -> tuple[str, list[Any]]:
    where, params = ["TRUE"], []
    if day:
        where.append(
            "left(v.dados->>'created_at', 10) = %s"
        )  # the store's local date, as written by the terminal
        params.append(day)
    if terminal:
        where.append("v.terminal_id = %s")
        params.append(terminal)
    if operador:
        where.append("v.dados->>'operador_codigo' = %s")
        params.append(operador)
    return " AND ".join(where), params


def history(
    conn: Any,
    *,
    day: str | None = None,
    terminal: str | None = None,
    operador: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    where, params = _filters(day, terminal, operador)
    with conn.transaction():
        rows = conn.execute(
            f"SELECT v.terminal_id, v.local_id, v.dados->>'created_at', v.dados->>'valor_total', "
            f"v.dados->>'operador_codigo', d.dados->>'status', d.dados->>'kind', d.dados->>'serie', d.dados->>'numero' "
            f"FROM loja_registros v LEFT JOIN LATERAL (SELECT dados FROM loja_registros d "
            f"  WHERE d.terminal_id = v.terminal_id AND d.tabela = 'fiscal_documents' "
            f"  AND (d.dados->>'sale_id')::bigint = v.local_id ORDER BY d.local_id DESC LIMIT 1) d ON TRUE "
            f"WHERE v.tabela = 'sales' AND {where} ORDER BY v.dados->>'created_at' DESC LIMIT %s",
            [*params, limit],
        ).fetchall()
    return [
        {
            "terminal": r[0],
            "venda": r[1],
            "data": r[2],
            "valor_total": r[3],
            "operador": r[4],
            "situacao": r[5],
            "tipo": r[6],
            "serie": r[7],
            "numero": r[8],
        }
        for r in rows
    ]


def dashboard(
    conn: Any, *, day: str, terminal: str | None = None, operador: str | None = None
) -> dict[str, Any]:
    where, params = _filters(day, terminal, operador)
    with conn.transaction():
        per_terminal = conn.execute(
            f"SELECT v.terminal_id, count(*), COALESCE(sum((v.dados->>'valor_total')::numeric), 0) "
            f"FROM loja_registros v WHERE v.tabela = 'sales' AND {where} GROUP BY 1 ORDER BY 1",
            params,
        ).fetchall()
        per_operator = conn.execute(
            f"SELECT COALESCE(v.dados->>'operador_codigo', '-'), count(*), "
            f"COALESCE(sum((v.dados->>'valor_total')::numeric), 0) "
            f"FROM loja_registros v WHERE v.tabela = 'sales' AND {where} GROUP BY 1 ORDER BY 1",
            params,
        ).fetchall()
        docs = conn.execute(
            f"SELECT d.dados->>'status', count(*) FROM loja_registros d JOIN loja_registros v "
            f"ON v.terminal_id = d.terminal_id AND v.tabela = 'sales' AND v.local_id = (d.dados->>'sale_id')::bigint "
            f"WHERE d.tabela = 'fiscal_documents' AND {where} GROUP BY 1 ORDER BY 1",
            params,
        ).fetchall()
        terminals = conn.execute(
            "SELECT terminal_id, visto_em, versao_aplicada FROM loja_terminais ORDER BY terminal_id"
        ).fetchall()
    total = sum((Decimal(r[2]) for r in per_terminal), Decimal("0"))
    return {
        "data": day,
        "vendas": sum(int(r[1]) for r in per_terminal),
        "valor_total": str(total),
        "por_terminal": [
            {"terminal": r[0], "vendas": int(r[1]), "valor_total": str(r[2])} for r in per_terminal
        ],
        "por_operador": [
            {"operador": r[0], "vendas": int(r[1]), "valor_total": str(r[2])} for r in per_operator
        ],
        "documentos": {r[0]: int(r[1]) for r in docs},
        "terminais": [
            {"terminal": r[0], "visto_em": r[1].isoformat(), "versao": int(r[2])} for r in terminals
        ],
    }


def cash_sessions(
    conn: Any, *, day: str | None = None, terminal: str | None = None, operador: str | None = None
) -> list[dict[str, Any]]:
    where, params = ["c.tabela = 'cash_sessions'"], []
    if day:
        where.append(
            "left(c.dados->>'opened_at', 10) <= %s AND "
            "(c.dados->>'closed_at' IS NULL OR left(c.dados->>'closed_at', 10) >= %s)"
        )
        params += [day, day]
    if terminal:
        where.append("c.terminal_id = %s")
        params.append(terminal)
    if operador:
        where.append("c.dados->>'opened_by_codigo' = %s")
        params.append(operador)
    with conn.transaction():
        rows = conn.execute(
            "SELECT c.terminal_id, c.local_id, c.dados, "
            "(SELECT COALESCE(sum((v.dados->>'valor_total')::numeric), 0) FROM loja_registros v WHERE v.tabela = 'sales' "
            " AND v.terminal_id = c.terminal_id AND (v.dados->>'cash_session_id')::bigint = c.local_id), "
            "(SELECT count(*) FROM loja_registros v WHERE v.tabela = 'sales' "
            " AND v.terminal_id = c.terminal_id AND (v.dados->>'cash_session_id')::bigint = c.local_id) "
            f"FROM loja_registros c WHERE {' AND '.join(where)} ORDER BY c.terminal_id, c.local_id",
            params,
        ).fetchall()
    out = []
    for terminal_id, local_id, d, total, count in rows:
        movements = d.get("movements") or []
        sangrias = sum((Decimal(m["valor"]) for m in movements if m["kind"] == "sangria"), Decimal("0"))
        suprimentos = sum((Decimal(m["valor"]) for m in movements if m["kind"] == "suprimento"), Decimal("0"))
        out.append(
            {
                "terminal": terminal_id,
                "caixa": local_id,
                "situacao": d.get("status"),
                "aberto_em": d.get("opened_at"),
                "fechado_em": d.get("closed_at"),
                "operador": d.get("opened_by_codigo"),
                "fundo_troco": d.get("opening_float"),
                "vendas": int(count),
                "valor_vendas": str(total),
                "sangrias": str(sangrias),
                "suprimentos": str(suprimentos),
            }
        )
    return out
