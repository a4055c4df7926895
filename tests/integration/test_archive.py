"""Yearly archives (issue 20): closed years leave the live database for a read-only file that the
history (service, CLI), the XML export and the backups still reach; restore from a backup."""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from pos_app.app import open_app
from pos_app.cli import main
from pos_app.core.services.history import HistoryFilter, HistoryService
from pos_app.core.services.users import ManagerError
from pos_app.core.store.archive import archive_path, archive_year, list_archives
from pos_app.core.store.bulk import replicate_history

PER_DAY = 30


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _grow(ctx: Any) -> None:
    from benchmarks import history_templates

    history_templates(ctx)
    tz = ctx.now().tzinfo
    for start, days in ((date(2024, 12, 30), 2), (date(2025, 1, 1), 3)):
        replicate_history(
            ctx.store.database,
            start=start,
            days=days,
            per_day=PER_DAY,
            tz=tz,
            terminal_id=ctx.config.terminal_id,
        )


def test_closed_year_moves_to_a_read_only_archive_still_searched_exported_and_backed_up(
    data_dir: Path,
) -> None:
    ctx = open_app(data_dir, sandbox_rate_limit=None)
    try:
        ctx.maintenance.join(60)
        ctx.config.set("historico.arquivar_anos", "nao")  # this test closes the year by hand
        _grow(ctx)
        db = ctx.store.database
        in_2024 = db.query(
            "SELECT id FROM sales WHERE created_at >= '2024' AND created_at < '2025' ORDER BY id"
        )
        assert len(in_2024) == 2 * PER_DAY
        refs_2024 = [
            r["ref"]
            for r in db.query(
                "SELECT d.ref FROM fiscal_documents d JOIN sales s ON s.id = d.sale_id WHERE s.created_at < '2025'"
            )
        ]
        history = HistoryService(ctx)
        before = history.search(HistoryFilter(de=date(2024, 12, 30), ate=date(2025, 1, 3), limit=10_000))
        total_before = history.totals(HistoryFilter(de=date(2024, 12, 30), ate=date(2025, 1, 3)))
        number = db.query_one(
            "SELECT numero, serie, chave, ref FROM fiscal_documents d JOIN sales s ON "
            "s.id = d.sale_id WHERE s.created_at < '2025' AND d.chave IS NOT NULL "
            "ORDER BY d.id LIMIT 1 OFFSET 7"
        )
        detail_before = history.detail(number["ref"])

        with pytest.raises(Exception, match="só pode ser arquivado"):
            archive_year(db, ctx.data_dir, 2025, today=date(2026, 1, 15))
        result = archive_year(db, ctx.data_dir, 2024, today=date(2026, 12, 2))
        assert result["vendas_arquivadas"] == 2 * PER_DAY and result["ficaram_no_banco"] == 0
        path = archive_path(ctx.data_dir, 2024)
        assert path.is_file() and not (path.stat().st_mode & stat.S_IWUSR)  # read-only file
        assert db.query_one("SELECT count(*) AS n FROM sales WHERE created_at < '2025'")["n"] == 0
        marks = ",".join("?" * len(refs_2024))
        assert (
            db.query_one(f"SELECT count(*) AS n FROM fiscal_documents WHERE ref IN ({marks})", refs_2024)["n"]
            == 0
        )
        assert db.query("PRAGMA foreign_key_check") == []

        # the history sees the same sales, in the same order, with the same pages and totals
        after = history.search(HistoryFilter(de=date(2024, 12, 30), ate=date(2025, 1, 3), limit=10_000))
        assert [r.sale_id for r in after] == [r.sale_id for r in before]
        assert [r.status for r in after] == [r.status for r in before]
        pages = [
            history.search(
                HistoryFilter(de=date(2024, 12, 30), ate=date(2025, 1, 3), limit=40, offset=n * 40)
            )
            for n in range(4)
        ]
        assert [r.sale_id for p in pages for r in p] == [r.sale_id for r in before]
        assert history.totals(HistoryFilter(de=date(2024, 12, 30), ate=date(2025, 1, 3))) == total_before
        by_number = history.search(HistoryFilter(numero=number["numero"], serie=number["serie"]))
        assert number["ref"] in [r.ref for r in by_number]
        assert [r.ref for r in history.search(HistoryFilter(chave=number["chave"]))] == [number["ref"]]
        detail = history.detail(number["ref"])
        assert detail["arquivo"] == 2024
        assert (
            detail["venda"] == detail_before["venda"] and detail["documentos"] == detail_before["documentos"]
        )
        assert history.detail(number["chave"])["venda"]["id"] == detail["venda"]["id"]
        with pytest.raises(ManagerError, match="arquivo de 2024"):
            history.consult(number["ref"])

        # XML export of an archived month reads the archive (read-only: nothing is written there)
        from pos_app.core.services.xml_archive import month_documents

        docs = month_documents(ctx, "2024-12")
        assert {d["ref"] for d in docs} >= {
            r.ref
            for r in before
            if r.created_at.startswith("2024") and r.chave and r.status in ("autorizado", "cancelado")
        }
    finally:
        ctx.close()

    # CLI: the history lists archived days; the backup copies the archive once
    code, out, _ = _run(["historico", "--de", "2024-12-30", "--ate", "2024-12-31", "--json"])
    assert code == 0 and len(json.loads(out)) == 2 * PER_DAY
    code, out, _ = _run(
        [
            "historico",
            "--de",
            "2024-12-30",
            "--ate",
            "2025-01-03",
            "--pagina",
            "2",
            "--limite",
            "50",
            "--json",
        ]
    )
    assert code == 0 and [r["venda"] for r in json.loads(out)] == [r.sale_id for r in before][50:100]
    code, out, _ = _run(["arquivo", "listar", "--json"])
    assert code == 0 and [r["ano"] for r in json.loads(out)] == [2024]
    code, out, _ = _run(["backup", "--json"])
    assert code == 0
    assert Path(json.loads(out)["backup"]).is_file()
    copied = data_dir / "backups" / "arquivo-2024.sqlite3"
    assert copied.is_file() and copied.read_bytes() == archive_path(data_dir, 2024).read_bytes()
    mtime = copied.stat().st_mtime_ns
    code, out, _ = _run(["backup", "--json"])
    assert code == 0 and copied.stat().st_mtime_ns == mtime  # archives are copied once
    # one backup per day is kept (the newest): a second later, the first one is gone (slow Windows)
    newest_backup = Path(json.loads(out)["backup"])

    # restore: a sale made after the backup disappears, the archive comes back, nothing is deleted
    ctx = open_app(data_dir, sandbox_rate_limit=None)
    try:
        from benchmarks import bench_sale

        from pos_app.core.services.emission import EmissionService

        EmissionService(ctx).checkout(bench_sale(ctx), receipt=False)
        sales_now = ctx.store.sales.count()
    finally:
        ctx.close()
    live = archive_path(data_dir, 2024)
    os.chmod(live, 0o600)
    live.unlink()  # e.g. a new disk: only the backups folder was saved
    code, out, err = _run(["backup", "restaurar", newest_backup.name, "--json"])
    assert code == 0, err
    restored = json.loads(out)
    assert restored["arquivos_anuais_restaurados"] == ["arquivo-2024.sqlite3"]
    assert restored["vendas"] == sales_now - 1
    assert any(n.startswith("pos.sqlite3.antes-restauracao-") for n in restored["anterior_guardado_como"])
    ctx = open_app(data_dir, sandbox_rate_limit=None)
    try:
        ctx.maintenance.join(60)
        assert ctx.store.sales.count() == sales_now - 1
        assert (
            len(HistoryService(ctx).search(HistoryFilter(de=date(2024, 12, 30), ate=date(2024, 12, 31))))
            == 2 * PER_DAY
        )
    finally:
        ctx.close()


def test_the_daily_duties_archive_past_years_in_the_background(data_dir: Path) -> None:
    ctx = open_app(data_dir, sandbox_rate_limit=None)
    try:
        ctx.maintenance.join(60)
        _grow(ctx)
    finally:
        ctx.close()
    assert list_archives(data_dir) == []
    ctx = open_app(data_dir, sandbox_rate_limit=None)  # today is 2026: 2024 and 2025 are closed
    try:
        ctx.maintenance.join(120)
        assert [a.year for a in list_archives(data_dir)] == [2025, 2024]
        assert (
            ctx.store.database.query_one("SELECT min(created_at) AS m FROM sales")["m"]
            >= f"{ctx.now().year}-01-01"
        )
        assert (data_dir / "backups" / "arquivo-2025.sqlite3").is_file()
        found = HistoryService(ctx).search(HistoryFilter(de=date(2024, 12, 31), ate=date(2025, 1, 1)))
        assert len(found) == 2 * PER_DAY
    finally:
        ctx.close()
    assert datetime.now().year >= 2026
