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


def _damage_a_middle_page(path: Path, table: str) -> None:
    conn = sqlite3.connect(path)
    pages = [
        r[0]
        for r in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno", [table]
        )
    ]
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
