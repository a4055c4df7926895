"""Store-wide views (history, daily dashboard, cash closing) read from the store database."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pos_app.core.domain.money import to_money
from pos_app.core.domain.payments import CASH, PAYMENT_GROUPS, PAYMENT_METHODS
from pos_app.core.fiscal.document_status import DocumentStatus

CANCELADO = DocumentStatus.CANCELADO.value
ZERO = Decimal("0.00")


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


_LATEST_DOC = (
    "LEFT JOIN LATERAL (SELECT dados FROM loja_registros d "
    "  WHERE d.terminal_id = v.terminal_id AND d.tabela = 'fiscal_documents' "
    "  AND (d.dados->>'sale_id')::bigint = v.local_id ORDER BY d.local_id DESC LIMIT 1) d ON TRUE "
)


def history(
    conn: Any,
    *,
    day: str | None = None,
    terminal: str | None = None,
    operador: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Sales of every terminal, newest first (one page: ``limit`` rows after ``offset``)."""
    where, params = _filters(day, terminal, operador)
    with conn.transaction():
        rows = conn.execute(
            f"SELECT v.terminal_id, v.local_id, v.dados->>'created_at', v.dados->>'valor_total', "
            f"v.dados->>'operador_codigo', d.dados->>'status', d.dados->>'kind', d.dados->>'serie', d.dados->>'numero', "
            f"v.dados->>'operador_nome', d.dados->>'chave', "
            f"(SELECT string_agg(DISTINCT p->>'forma', ',') FROM jsonb_array_elements(v.dados->'payments') p) "
            f"FROM loja_registros v {_LATEST_DOC}"
            f"WHERE v.tabela = 'sales' AND {where} "
            f"ORDER BY (v.dados->>'created_at')::timestamptz DESC, v.terminal_id, v.local_id DESC LIMIT %s OFFSET %s",
            [*params, max(int(limit), 0), max(int(offset), 0)],
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
            "operador_nome": r[9],
            "chave": r[10],
            "formas": sorted((r[11] or "").split(",")) if r[11] else [],
        }
        for r in rows
    ]


def history_totals(
    conn: Any, *, day: str | None = None, terminal: str | None = None, operador: str | None = None
) -> dict[str, Any]:
    """Every page of ``history``: how many sales, how many cancelled, and the total of the others."""
    where, params = _filters(day, terminal, operador)
    with conn.transaction():
        row = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE d.dados->>'status' = %s), "
            f"COALESCE(sum((v.dados->>'valor_total')::numeric) FILTER "
            f"(WHERE d.dados->>'status' IS DISTINCT FROM %s), 0) "
            f"FROM loja_registros v {_LATEST_DOC}WHERE v.tabela = 'sales' AND {where}",
            [CANCELADO, CANCELADO, *params],
        ).fetchone()
    return {"vendas": int(row[0]), "canceladas": int(row[1]), "valor_total": f"{to_money(row[2]):.2f}"}


def history_page(
    conn: Any,
    *,
    day: str | None = None,
    terminal: str | None = None,
    operador: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> dict[str, Any]:
    """One page of the store's history with the totals of every page (the manager window's table)."""
    per_page = max(int(per_page), 1)
    totals = history_totals(conn, day=day, terminal=terminal, operador=operador)
    pages = max((totals["vendas"] + per_page - 1) // per_page, 1)
    page = min(max(int(page), 1), pages)
    rows = history(
        conn, day=day, terminal=terminal, operador=operador, limit=per_page, offset=(page - 1) * per_page
    )
    return {**totals, "pagina": page, "paginas": pages, "por_pagina": per_page, "linhas": rows}


def filter_choices(conn: Any) -> dict[str, list[dict[str, str]]]:
    """Terminals of the store and its operators (for the filters of the store-wide views)."""
    with conn.transaction():
        terminals = conn.execute("SELECT terminal_id FROM loja_terminais ORDER BY terminal_id").fetchall()
        users = conn.execute("SELECT codigo, nome FROM loja_usuarios ORDER BY nome, codigo").fetchall()
        seen = conn.execute(
            "SELECT DISTINCT dados->>'operador_codigo', dados->>'operador_nome' FROM loja_registros "
            "WHERE tabela = 'sales' AND dados->>'operador_codigo' IS NOT NULL"
        ).fetchall()
    operators = {str(r[0]): str(r[1]) for r in users}
    for codigo, nome in seen:  # an operator of a terminal whose users were never published
        operators.setdefault(str(codigo), str(nome or codigo))
    return {
        "terminais": [{"terminal": str(r[0])} for r in terminals],
        "operadores": [
            {"codigo": c, "nome": n} for c, n in sorted(operators.items(), key=lambda kv: (kv[1], kv[0]))
        ],
    }


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


GROUP_ORDER = ("Dinheiro", "Cartões", "PIX", "Outros")


def _money(value: Any) -> Decimal:
    return to_money(Decimal(str(value))) if value not in (None, "") else ZERO


def _fmt(value: Decimal | None) -> str | None:
    return None if value is None else f"{to_money(value):.2f}"


def cash_sessions(
    conn: Any, *, day: str | None = None, terminal: str | None = None, operador: str | None = None
) -> list[dict[str, Any]]:
    """Cash sessions of every terminal (those open at some moment of ``day``): who opened and closed them,
    expected vs counted per payment method and per group (Dinheiro, Cartões, PIX, Outros), differences.

    A closed session shows the figures recorded at its closing (what the operator counted against what was
    expected then); an open one the expected amounts so far (float + cash received - troco + suprimentos -
    sangrias for cash; payments of the valid sales for the others), as the terminal's own X report."""
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
        where.append("(c.dados->>'opened_by_codigo' = %s OR c.dados->>'closed_by_codigo' = %s)")
        params += [operador, operador]
    chosen = f"SELECT c.terminal_id, c.local_id FROM loja_registros c WHERE {' AND '.join(where)}"
    with conn.transaction():
        rows = conn.execute(
            f"SELECT c.terminal_id, c.local_id, c.dados FROM loja_registros c WHERE {' AND '.join(where)} "
            "ORDER BY c.terminal_id, c.local_id",
            params,
        ).fetchall()
        sales = conn.execute(
            f"SELECT v.terminal_id, (v.dados->>'cash_session_id')::bigint, v.dados->>'valor_total', "
            f"v.dados->>'troco', v.dados->'payments', d.dados->>'status' FROM loja_registros v {_LATEST_DOC}"
            f"WHERE v.tabela = 'sales' AND (v.terminal_id, (v.dados->>'cash_session_id')::bigint) IN ({chosen})",
            params,
        ).fetchall()
        names = {str(r[0]): str(r[1]) for r in conn.execute("SELECT codigo, nome FROM loja_usuarios")}
    by_session: dict[tuple[str, int], list[Any]] = {}
    for s in sales:
        by_session.setdefault((s[0], int(s[1])), []).append(s)
    return [
        _session_figures(
            terminal_id, int(local_id), d, by_session.get((terminal_id, int(local_id)), []), names
        )
        for terminal_id, local_id, d in rows
    ]


def _session_figures(
    terminal_id: str, local_id: int, d: dict[str, Any], sales: list[Any], names: dict[str, str]
) -> dict[str, Any]:
    fundo = _money(d.get("opening_float"))
    movements = d.get("movements") or []
    sangrias = sum((_money(m["valor"]) for m in movements if m["kind"] == "sangria"), ZERO)
    suprimentos = sum((_money(m["valor"]) for m in movements if m["kind"] == "suprimento"), ZERO)
    recebido: dict[str, Decimal] = {CASH: ZERO}
    vendas = canceladas = 0
    total = total_canceladas = troco = ZERO
    for _t, _c, valor_total, sale_troco, payments, status in sales:
        if status == CANCELADO:
            canceladas += 1
            total_canceladas += _money(valor_total)
            continue
        vendas += 1
        total += _money(valor_total)
        troco += _money(sale_troco)
        for p in payments or []:
            recebido[p["forma"]] = recebido.get(p["forma"], ZERO) + _money(p["valor"])
    esperado = dict(recebido)
    esperado[CASH] = fundo + recebido[CASH] - troco + suprimentos - sangrias
    contado: dict[str, Decimal | None] = {}
    closing: dict[str, Any] = {}
    if d.get("status") == "fechado" and d.get("closing"):
        raw = d["closing"]
        closing = json.loads(raw) if isinstance(raw, str) else dict(raw)
        for item in closing.get("formas", []):  # as recorded when the drawer was closed
            esperado[item["forma"]] = _money(item.get("esperado"))
            contado[item["forma"]] = None if item.get("contado") is None else _money(item["contado"])
    formas: list[dict[str, Any]] = []
    for forma in sorted(
        esperado, key=lambda f: list(PAYMENT_METHODS).index(f) if f in PAYMENT_METHODS else 99
    ):
        cont = contado.get(forma)
        formas.append(
            {
                "forma": forma,
                "descricao": PAYMENT_METHODS.get(forma, forma),
                "grupo": PAYMENT_GROUPS.get(forma, "Outros"),
                "recebido": _fmt(recebido.get(forma, ZERO)),
                "esperado": _fmt(esperado[forma]),
                "contado": _fmt(cont),
                "diferenca": None if cont is None else _fmt(cont - esperado[forma]),
            }
        )
    grupos: list[dict[str, Any]] = []
    for grupo in GROUP_ORDER:
        lines = [f for f in formas if f["grupo"] == grupo]
        if not lines:
            continue
        counted = [Decimal(f["contado"]) for f in lines if f["contado"] is not None]
        g_esp = sum((Decimal(f["esperado"]) for f in lines), ZERO)
        g_cont = sum(counted, ZERO) if counted else None
        grupos.append(
            {
                "grupo": grupo,
                "esperado": _fmt(g_esp),
                "contado": _fmt(g_cont),
                "diferenca": None if g_cont is None else _fmt(g_cont - g_esp),
            }
        )
    diffs = [Decimal(f["diferenca"]) for f in formas if f["diferenca"] is not None]
    aberto_por, fechado_por = d.get("opened_by_codigo"), d.get("closed_by_codigo")
    return {
        "terminal": terminal_id,
        "caixa": local_id,
        "situacao": d.get("status"),
        "aberto_em": d.get("opened_at"),
        "fechado_em": d.get("closed_at"),
        "operador": aberto_por,
        "aberto_por": aberto_por,
        "aberto_por_nome": names.get(str(aberto_por), aberto_por) if aberto_por else None,
        "fechado_por": fechado_por,
        "fechado_por_nome": names.get(str(fechado_por), fechado_por) if fechado_por else None,
        "abertura_automatica": bool(d.get("auto_opened")),
        "fundo_troco": _fmt(fundo),
        "vendas": vendas,
        "valor_vendas": _fmt(total),
        "canceladas": canceladas,
        "valor_canceladas": _fmt(total_canceladas),
        "troco": _fmt(troco),
        "sangrias": _fmt(sangrias),
        "suprimentos": _fmt(suprimentos),
        "formas": formas,
        "grupos": grupos,
        "esperado_total": _fmt(sum((Decimal(f["esperado"]) for f in formas), ZERO)),
        "contado_total": _fmt(sum((Decimal(f["contado"]) for f in formas if f["contado"] is not None), ZERO))
        if contado
        else None,
        "diferenca_total": _fmt(sum(diffs, ZERO)) if diffs else None,
        "observacao": closing.get("observacao"),
    }


def sale_for_receipt(conn: Any, terminal: str, venda: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A sale of any checkout as its terminal pushed it, with its latest printable document: (document,
    sale) in the shape the terminal stores them (items and payments inside the sale), for a second copy
    printed at another checkout. None when the sale or a printable document is not in the store yet."""
    from pos_app.core.fiscal.document_status import PRINTABLE

    with conn.transaction():
        sale = conn.execute(
            "SELECT dados FROM loja_registros WHERE terminal_id = %s AND tabela = 'sales' AND local_id = %s",
            [terminal, int(venda)],
        ).fetchone()
        doc = conn.execute(
            "SELECT dados FROM loja_registros WHERE terminal_id = %s AND tabela = 'fiscal_documents' "
            "AND (dados->>'sale_id')::bigint = %s AND dados->>'status' = ANY(%s) ORDER BY local_id DESC LIMIT 1",
            [terminal, int(venda), sorted(str(s) for s in PRINTABLE)],
        ).fetchone()
    if sale is None or doc is None:
        return None
    return dict(doc[0]), dict(sale[0])
