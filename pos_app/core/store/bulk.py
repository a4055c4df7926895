"""Bulk growth of a database's history from real sales, for the scale benchmark and scale tests.

``replicate_history`` takes the sales already in the store (made by the program itself: items,
payments, fiscal documents with their stored request and raw answers, events) and writes copies of
them day after day, ``per_day`` sales a day, with ``executemany`` inside one transaction per day:
fresh ids, times spread over the opening hours in the store's local time, unique refs, numbers and
keys per series, one closed cash session per day. Every foreign key points to a row that exists.
Nothing here is used by a selling terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from pos_app.core.store.db import SqliteDatabase

_CHILD_TABLES = ("sale_items", "payments")


def _columns(db: SqliteDatabase, table: str) -> list[str]:
    return [r["name"] for r in db.query(f"PRAGMA table_info({table})")]


def _next_id(db: SqliteDatabase, table: str) -> int:
    row = db.query_one(f"SELECT coalesce(max(id), 0) + 1 AS n FROM {table}")
    return int(row["n"]) if row else 1


def _chave(numero: int, serie: int, tp_emis: int, seed: str) -> str:
    """A 44-digit key unique per (serie, numero, tp_emis) with the template's first digits."""
    body = (
        seed[:22] if len(seed) >= 22 else "35" + "0" * 20
    ) + f"{serie:03d}{numero:09d}{tp_emis}{numero % 10**8:08d}"
    return body[:43] + str(sum(int(c) for c in body[:43]) % 10)


def replicate_history(
    db: SqliteDatabase,
    *,
    start: date,
    days: int,
    per_day: int,
    tz: tzinfo,
    terminal_id: str,
    progress: Callable[[int], None] | None = None,
    ids: dict[str, int] | None = None,
    numbers: dict[tuple[int, str], int] | None = None,
) -> int:
    """Write ``days * per_day`` sales copied from the store's current sales; returns how many.

    ``ids``/``numbers`` (next id per table, last number per series), when given, are used and
    updated: several files (e.g. one per year) can be grown without two rows sharing an id."""
    templates = db.query(
        "SELECT * FROM sales WHERE created_at >= ? ORDER BY id", [(start + timedelta(days=days)).isoformat()]
    )
    if not templates:
        templates = db.query("SELECT * FROM sales ORDER BY id LIMIT 64")
    if not templates:
        raise ValueError("sem vendas-modelo no banco")
    cols = {
        t: _columns(db, t)
        for t in ("sales", *_CHILD_TABLES, "fiscal_documents", "document_events", "cash_sessions")
    }
    children: dict[str, dict[int, list[dict[str, Any]]]] = {
        t: {} for t in _CHILD_TABLES
    }  # table -> sale_id -> rows
    for table in _CHILD_TABLES:
        for row in db.query(f"SELECT * FROM {table} ORDER BY id"):
            children[table].setdefault(row["sale_id"], []).append(row)
    docs_of: dict[int, list[dict[str, Any]]] = {}
    for row in db.query("SELECT * FROM fiscal_documents ORDER BY id"):
        docs_of.setdefault(row["sale_id"], []).append(row)
    events_of: dict[int, list[dict[str, Any]]] = {}
    for row in db.query("SELECT * FROM document_events ORDER BY id"):
        events_of.setdefault(row["document_id"], []).append(row)
    templates = [t for t in templates if docs_of.get(t["id"])]
    numero_of: dict[tuple[int, str], int] = numbers if numbers is not None else {}
    for row in db.query(
        "SELECT serie, kind, max(numero) AS n FROM fiscal_documents WHERE serie IS NOT NULL "
        "GROUP BY serie, kind"
    ):
        key = (int(row["serie"]), row["kind"])
        numero_of[key] = max(numero_of.get(key, 0), int(row["n"] or 0))
    if ids is None:
        ids = {}
    for t in ("sales", *_CHILD_TABLES, "fiscal_documents", "document_events", "cash_sessions"):
        ids[t] = max(ids.get(t, 0), _next_id(db, t))
    opening = time(8, 0)
    span = 12 * 3600  # sales from 08:00 to 20:00
    written = 0
    for day_n in range(days):
        day = start + timedelta(days=day_n)
        base = datetime.combine(day, opening, tzinfo=tz)
        rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in cols}
        session_id = ids["cash_sessions"]
        ids["cash_sessions"] += 1
        session: dict[str, Any] = {c: None for c in cols["cash_sessions"]}
        session.update(
            id=session_id,
            terminal_id=terminal_id,
            status="fechado",
            opened_at=base.isoformat(timespec="seconds"),
            opening_float="100.00",
            auto_opened=0,
            closed_at=(base + timedelta(seconds=span + 600)).isoformat(timespec="seconds"),
            closing='{"fechamento": "gerado"}',
        )
        rows["cash_sessions"].append(tuple(session[c] for c in cols["cash_sessions"]))
        for n in range(per_day):
            tpl = templates[(day_n * per_day + n) % len(templates)]
            at = (base + timedelta(seconds=n * span // per_day)).isoformat(timespec="seconds")
            sale_id = ids["sales"]
            ids["sales"] += 1
            sale = dict(tpl, id=sale_id, created_at=at, cash_session_id=session_id)
            rows["sales"].append(tuple(sale[c] for c in cols["sales"]))
            for table in _CHILD_TABLES:
                for child in children[table].get(tpl["id"], ()):
                    new = dict(child, id=ids[table], sale_id=sale_id)
                    ids[table] += 1
                    rows[table].append(tuple(new[c] for c in cols[table]))
            doc_map: dict[int, int] = {}
            for doc in docs_of[tpl["id"]]:
                doc_id = ids["fiscal_documents"]
                ids["fiscal_documents"] += 1
                doc_map[int(doc["id"])] = doc_id
                new = dict(
                    doc,
                    id=doc_id,
                    sale_id=sale_id,
                    ref=f"H{terminal_id[-6:]}-{doc_id:09d}",
                    data_emissao=at,
                    created_at=at,
                    updated_at=at,
                    owner=None,
                    replaces_document_id=doc_map.get(doc["replaces_document_id"]),
                )
                if doc["serie"] is not None and doc["numero"] is not None:
                    key = (int(doc["serie"]), doc["kind"])
                    numero_of[key] = numero_of.get(key, 0) + 1
                    new["numero"] = numero_of[key]
                    new["chave"] = _chave(
                        new["numero"], key[0], int(doc["tp_emis"] or 1), str(doc["chave"] or "")
                    )
                if doc["data_autorizacao"]:
                    new["data_autorizacao"] = at
                rows["fiscal_documents"].append(tuple(new[c] for c in cols["fiscal_documents"]))
                for ev in events_of.get(int(doc["id"]), ()):
                    e = dict(ev, id=ids["document_events"], document_id=doc_id, at=at)
                    ids["document_events"] += 1
                    rows["document_events"].append(tuple(e[c] for c in cols["document_events"]))
        with db.transaction() as tx:
            for table in ("cash_sessions", "sales", *_CHILD_TABLES, "fiscal_documents", "document_events"):
                _insert_many(tx.conn, table, cols[table], rows[table])
        written += per_day
        if progress is not None:
            progress(day_n + 1)
    with db.transaction() as tx:  # contingency numbering goes on after the copied notes
        for (serie, kind), numero in numero_of.items():
            if kind == "contingencia":
                tx.execute(
                    "INSERT INTO series_counters (serie, next_numero) VALUES (?, ?) ON CONFLICT(serie) "
                    "DO UPDATE SET next_numero = max(next_numero, excluded.next_numero)",
                    [serie, numero + 1],
                )
    return written


def _insert_many(conn: Any, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    marks = ", ".join("?" for _ in columns)
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
