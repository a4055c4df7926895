"""Start-up independent of history (issue 20): the start checks header and schema only; the full
integrity check runs in the background, and its failure refuses sales now and at the next start."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from benchmarks import bench_sale, history_templates

from pos_app.app import open_app
from pos_app.core.services.doctor import _database_check
from pos_app.core.services.emission import EmissionService
from pos_app.core.store.bulk import replicate_history
from pos_app.core.store.db import StoreError
from pos_app.core.store.integrity import DatabaseDamaged, full_check, quick_check, read_result


def _table_leaf_pages(conn: sqlite3.Connection, path: Path, table: str) -> list[int]:
    """Leaf pages of ``table``'s b-tree: from ``dbstat`` when SQLite has it, otherwise read from the file
    (Windows' sqlite3.dll is built without the dbstat table)."""
    try:
        return [
            r[0]
            for r in conn.execute(
                "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno", [table]
            )
        ]
    except sqlite3.OperationalError:
        pass
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
    data = path.read_bytes()
    size = int.from_bytes(data[16:18], "big") or 65536
    leaves: list[int] = []
    todo = [root]
    while todo:
        page = todo.pop()
        start = (page - 1) * size
        head = start + (100 if page == 1 else 0)
        kind = data[head]
        if kind == 0x0D:  # table leaf
            leaves.append(page)
            continue
        assert kind == 0x05, (page, kind)  # table interior: cells start with the left child's page
        cells = int.from_bytes(data[head + 3 : head + 5], "big")
        todo.append(int.from_bytes(data[head + 8 : head + 12], "big"))  # right-most child
        for i in range(cells):
            offset = int.from_bytes(data[head + 12 + 2 * i : head + 14 + 2 * i], "big")
            todo.append(int.from_bytes(data[start + offset : start + offset + 4], "big"))
    return sorted(leaves)


def _damage_a_middle_page(path: Path, table: str) -> None:
    conn = sqlite3.connect(path)
    pages = _table_leaf_pages(conn, path, table)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    middle = pages[len(pages) // 2]
    with path.open("r+b") as f:
        f.seek((middle - 1) * page_size + 8)
        f.write(b"\xff" * 200)


def test_a_damage_found_by_the_background_check_refuses_sales_now_and_at_the_next_start(
    data_dir: Path,
) -> None:
    ctx = open_app(data_dir, sandbox_rate_limit=None)
    try:
        ctx.maintenance.join(60)
        history_templates(ctx)
        replicate_history(
            ctx.store.database,
            start=ctx.now().date() - timedelta(days=8),
            days=6,
            per_day=100,
            tz=ctx.now().tzinfo,
            terminal_id=ctx.config.terminal_id,
        )
        assert read_result(data_dir / "pos.sqlite3")["ok"] is True
    finally:
        ctx.close()
    path = data_dir / "pos.sqlite3"
    _damage_a_middle_page(path, "sale_items")
    assert quick_check(path)  # the damage is real

    ctx = open_app(data_dir, sandbox_rate_limit=None)  # the start does not read the whole file
    try:
        ctx.maintenance.join(60)  # last full check < 24 h old: not repeated at this start
        assert ctx.store.database.writes_refused is None
        problems = full_check(ctx.store, path)  # what the daily background check does
        assert problems
        with pytest.raises(StoreError, match="danificado"):
            EmissionService(ctx).checkout(bench_sale(ctx), receipt=False)
        check = _database_check(ctx)
        assert check.nivel == "erro" and "danificado" in check.mensagem
    finally:
        ctx.close()
    saved = json.loads((data_dir / "integridade.json").read_text("utf-8"))
    assert saved["ok"] is False and saved["problems"]
    with pytest.raises(DatabaseDamaged, match="Não venda"):
        open_app(data_dir, sandbox_rate_limit=None)
