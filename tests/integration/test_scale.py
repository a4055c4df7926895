"""History at scale (issue 20): query plans of every screen/command query over a grown database,
the per-sale footprint, and the migration of a database in the previous layout (every sale,
document and event still readable after)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pos_app.app import open_app
from pos_app.core.services.context import AppContext
from pos_app.core.store.bulk import replicate_history
from pos_app.core.store.packed import unpack_text

DAYS = 40
PER_DAY = 150
BIG_TABLES = {
    "sales",
    "sale_items",
    "payments",
    "fiscal_documents",
    "document_events",
    "cancel_intents",
    "print_jobs",
    "audit_log",
}
# Scans allowed over a big table: partial indexes over the few open documents.
PARTIAL_INDEXES = {"idx_docs_focus_open", "idx_docs_xml_missing", "idx_cancel_intents_open"}


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    import os

    from benchmarks import history_templates

    folder = tmp_path_factory.mktemp("escala") / "pos-data"
    os.environ["POS_SECRETS"] = "arquivo"
    ctx = open_app(folder, sandbox_rate_limit=None)
    try:
        history_templates(ctx)
        start = ctx.now().date() - timedelta(days=DAYS + 1)
        replicate_history(
            ctx.store.database,
            start=start,
            days=DAYS,
            per_day=PER_DAY,
            tz=ctx.now().tzinfo,
            terminal_id=ctx.config.terminal_id,
        )
        yield ctx
    finally:
        ctx.close()


def _capture(ctx: AppContext, calls: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    statements: list[tuple[str, str]] = []
    conn = ctx.store.database.conn
    current = [""]
    conn.set_trace_callback(lambda sql: statements.append((current[0], sql)))
    try:
        for name, call in calls:
            current[0] = name
            call()
    finally:
        conn.set_trace_callback(None)
    return [(n, s) for n, s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]


def _full_scans(conn: sqlite3.Connection, sql: str) -> list[str]:
    aliases: dict[str, str] = {}
    for table, alias in re.findall(r"\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", sql, re.IGNORECASE):
        aliases[table] = table
        if alias and alias.upper() not in {
            "WHERE",
            "ON",
            "JOIN",
            "LEFT",
            "ORDER",
            "GROUP",
            "LIMIT",
            "INDEXED",
        }:
            aliases[alias] = table
    bad = []
    for row in conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall():
        detail = str(row[-1])
        m = re.match(r"SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?", detail)
        if not m:
            continue
        table = aliases.get(m.group(1), m.group(1))
        if table in BIG_TABLES and m.group(2) not in PARTIAL_INDEXES:
            bad.append(detail)
    # A "search" of the status index for a final state visits (almost) every document.
    final_literal = re.search(r"(?<!\+)\b(?:\w+\.)?status\s*(?:=|IN\s*\()\s*'(?:autorizado|cancelado)'", sql)
    if final_literal:
        for row in conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall():
            if "idx_docs_status" in str(row[-1]):
                bad.append(f"{row[-1]} (estado final: percorre quase todos os documentos)")
    return bad


def test_every_screen_and_command_query_reads_by_index(grown: AppContext) -> None:
    from pos_app.core.services.cancellation import CancellationService
    from pos_app.core.services.cash import CashService
    from pos_app.core.services.history import HistoryFilter, HistoryService
    from pos_app.core.services.replay import ReplayReport, ReplayService
    from pos_app.core.services.reports import ReportService
    from pos_app.core.services.status import backlog
    from pos_app.core.services.xml_archive import month_documents

    ctx = grown
    history = HistoryService(ctx)
    day = ctx.now().date() - timedelta(days=5)
    some = ctx.store.database.query_one(
        "SELECT numero, serie, chave, ref FROM fiscal_documents "
        "WHERE chave IS NOT NULL ORDER BY id DESC LIMIT 1 OFFSET 100"
    )
    assert some is not None
    session = ctx.store.database.query_one("SELECT id FROM cash_sessions ORDER BY id DESC LIMIT 1 OFFSET 3")
    replay = ReplayService(ctx)
    calls: list[tuple[str, Any]] = [
        ("histórico do dia", lambda: history.search(HistoryFilter(de=day, ate=day, limit=50))),
        ("histórico do mês", lambda: history.search(HistoryFilter(de=day.replace(day=1), ate=day, limit=50))),
        ("histórico página 3", lambda: history.search(HistoryFilter(de=day, ate=day, limit=50, offset=100))),
        (
            "histórico contingência",
            lambda: history.search(HistoryFilter(de=day, ate=day, status=["contingencia"])),
        ),
        ("histórico por número", lambda: history.search(HistoryFilter(numero=some["numero"]))),
        (
            "histórico por número e série",
            lambda: history.search(HistoryFilter(numero=some["numero"], serie=some["serie"])),
        ),
        ("histórico por chave", lambda: history.search(HistoryFilter(chave=some["chave"]))),
        ("histórico por CPF", lambda: history.search(HistoryFilter(cpf="52998224725", limit=50))),
        ("histórico por operador", lambda: history.search(HistoryFilter(operador="1", de=day, ate=day))),
        ("detalhe", lambda: history.detail(some["ref"])),
        ("relatório do dia", lambda: ReportService(ctx).daily(day)),
        ("relatório do caixa", lambda: CashService(ctx).summary(int(session["id"]))),
        ("exportação XML", lambda: month_documents(ctx, day.strftime("%Y-%m"))),
        ("fila de 20 s", lambda: ctx.store.documents.has_api_work()),
        ("status", lambda: backlog(ctx)),
        ("sync: contingência Focus", lambda: replay._follow_focus_contingency(ReplayReport())),
        ("sync: XML a baixar", lambda: replay._download_xml(ReplayReport())),
        ("sync: abertas", lambda: replay._open_count()),
        ("sync: cancelamentos agendados", lambda: CancellationService(ctx).carry_out_intents()),
        (
            "histórico autorizadas do dia",
            lambda: history.search(HistoryFilter(de=day, ate=day, status=["autorizado", "cancelado"])),
        ),
    ]
    statements = _capture(ctx, calls)
    assert {n for n, _ in statements} >= {n for n, _ in calls}  # every call ran queries
    problems = {}
    conn = ctx.store.database.conn
    for name, sql in statements:
        bad = _full_scans(conn, sql)
        if bad:
            problems[f"{name}: {sql[:160]}"] = bad
    assert problems == {}


def test_history_pages_and_day_bounds(grown: AppContext) -> None:
    from pos_app.core.services.history import HistoryFilter, HistoryService

    ctx = grown
    day = ctx.now().date() - timedelta(days=5)
    history = HistoryService(ctx)
    everything = history.search(HistoryFilter(de=day, ate=day, limit=10_000))
    assert len(everything) == PER_DAY and all(r.created_at.startswith(day.isoformat()) for r in everything)
    pages = [history.search(HistoryFilter(de=day, ate=day, limit=40, offset=n * 40)) for n in range(4)]
    assert [r.sale_id for p in pages for r in p] == [r.sale_id for r in everything]
    assert len(pages[-1]) == PER_DAY - 3 * 40


def test_per_sale_footprint_of_an_8_item_sale(grown: AppContext) -> None:
    db = grown.store.database
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = (
        db.query_one("PRAGMA page_count")["page_count"]
        - db.query_one("PRAGMA freelist_count")["freelist_count"]
    )
    size = pages * db.query_one("PRAGMA page_size")["page_size"]
    sales = grown.store.sales.count()
    assert sales >= DAYS * PER_DAY
    # A terminal without a store database keeps no upstream outbox (store_0002_outbox_gate).
    assert size / sales / 1024 <= 4.0
    assert db.query_one("SELECT count(*) AS n FROM store_outbox")["n"] == 0
    items = db.query_one("SELECT count(*) AS n FROM sale_items")["n"]
    assert items >= 8 * DAYS * PER_DAY


def test_a_database_in_the_previous_layout_keeps_every_sale(grown: AppContext, tmp_path: Path) -> None:
    """Copy the grown history into the layout before issue 20 (plain texts, no new indexes), open it
    with the current program: every sale, item, payment, document and event is there and reads the same."""
    from pos_app.core.store import Store
    from pos_app.core.store.db import SqliteDatabase
    from pos_app.core.store.migrations import MIGRATIONS

    old_names = [n for n, _ in MIGRATIONS if not n.startswith("scale_")]
    path = tmp_path / "antigo.sqlite3"
    old = SqliteDatabase(path, [m for m in MIGRATIONS if m[0] in old_names])
    src = str(grown.store.database.path)
    old.conn.create_function("unpack", 1, unpack_text)
    old.execute("ATTACH DATABASE ? AS novo", [src])
    tables = [
        "settings",
        "products",
        "users",
        "cash_sessions",
        "sales",
        "sale_items",
        "payments",
        "fiscal_documents",
        "document_events",
        "series_counters",
    ]
    with old.transaction() as tx:
        for table in tables:
            cols = [r[1] for r in tx.execute(f"PRAGMA main.table_info({table})").fetchall()]
            select = ", ".join(
                "unpack(payload)" if c == "payload" else "unpack(response)" if c == "response" else c
                for c in cols
            )
            tx.execute(f"INSERT INTO main.{table} ({', '.join(cols)}) SELECT {select} FROM novo.{table}")
    old.execute("DETACH DATABASE novo")
    plain = {r["id"]: r["payload"] for r in old.query("SELECT id, payload FROM fiscal_documents")}
    plain_events = {r["id"]: r["response"] for r in old.query("SELECT id, response FROM document_events")}
    counts = {t: old.query_one(f"SELECT count(*) AS n FROM {t}")["n"] for t in tables}
    assert all(isinstance(v, str) for v in plain.values())
    old.close()
    before = path.stat().st_size

    store = Store(path)  # the new migrations run here
    try:
        db = store.database
        assert {t: db.query_one(f"SELECT count(*) AS n FROM {t}")["n"] for t in tables} == counts
        assert "scale_0002_pack_texts" in db.applied_migrations()
        packed = db.query_one("SELECT count(*) AS n FROM fiscal_documents WHERE typeof(payload) = 'blob'")[
            "n"
        ]
        assert packed == counts["fiscal_documents"]
        for row in db.query("SELECT id, payload FROM fiscal_documents"):
            assert unpack_text(row["payload"]) == plain[row["id"]]
        for row in db.query("SELECT id, response FROM document_events"):
            assert unpack_text(row["response"]) == plain_events[row["id"]]
        sale_ids = [r["id"] for r in db.query("SELECT id FROM sales ORDER BY id")]
        for sale_id in sale_ids[:: max(1, len(sale_ids) // 200)]:
            sale = store.sales.get(sale_id)
            assert sale is not None and len(sale["items"]) == 8 and sale["payments"]
            for doc in store.documents.for_sale(sale_id):
                assert doc["payload"] == plain[doc["id"]]
                assert store.documents.events(int(doc["id"]))
        integrity = db.query_one("PRAGMA integrity_check")
        assert integrity is not None and list(integrity.values()) == ["ok"]
        fk = db.query("PRAGMA foreign_key_check")
        assert fk == []
    finally:
        store.close()
    assert before > 0
