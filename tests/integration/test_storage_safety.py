"""Storage safety: integrity check at start, online backups with rotation, a full disk during a
sale, and the local archive of authorized XMLs with its monthly export for the accountant."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sqlite3
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from suite_report import report_lines

from pos_app.app import open_app
from pos_app.cli import main
from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.store.backup import (
    DAILY_KEEP,
    WEEKLY_KEEP,
    backup_dir,
    backup_if_due,
    list_backups,
    run_backup,
)
from pos_app.core.store.db import StoreError
from pos_app.core.store.integrity import DatabaseDamaged

ARROZ = "7891102100377"
NUMBERS: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def _print_numbers(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    report_lines(request, ["armazenamento:"] + [f"  {k}: {v}" for k, v in NUMBERS.items()])


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _sale(ctx: Any, qty: str = "1", cpf: str | None = None, lines: int = 1) -> Sale:
    sale = Sale()
    for _ in range(lines):  # a long sale needs new pages in several tables
        sale.add_item(ctx.store.products.lookup(ARROZ), Decimal(qty))
    sale.add_payment(Payment(forma="01", valor=Decimal("5000.00")))
    sale.cpf = cpf
    return sale


def _checkout(ctx: Any, **kw: Any) -> Any:
    from pos_app.core.services.emission import EmissionService

    return EmissionService(ctx).checkout(_sale(ctx, **kw), receipt=False)


def _counts(ctx: Any) -> dict[str, int]:
    db = ctx.store.database
    return {
        t: int(db.query_one(f"SELECT count(*) AS n FROM {t}")["n"])
        for t in ("sales", "sale_items", "payments", "fiscal_documents", "document_events", "series_counters")
    }


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _corrupt_table(path: Path, table: str) -> None:
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    offset = (root - 1) * page_size
    data[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


# -- integrity check at start --------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["página de tabela", "cabeçalho do arquivo"])
def test_a_damaged_database_is_refused_at_start_and_kept_as_is(data_dir: Path, damage: str) -> None:
    open_app(data_dir, start_sandbox=False).close()
    db_path = data_dir / "pos.sqlite3"
    if damage == "página de tabela":
        _corrupt_table(db_path, "sales")
    else:
        db_path.write_bytes(b"isto nao e um banco sqlite" + db_path.read_bytes()[26:])
    fingerprint = _sha(db_path)
    with pytest.raises(DatabaseDamaged) as caught:
        open_app(data_dir)
    assert "danificado" in str(caught.value) and "Não venda" in str(caught.value)
    code, out, err = _run(["sell", "--item", ARROZ, "--pay", "dinheiro:50"])
    assert code == 1 and "danificado" in err and "Erro inesperado" not in err
    assert _sha(db_path) == fingerprint  # the file is kept exactly as it was
    backups_before = [b.path.name for b in list_backups(backup_dir(data_dir))]
    code, out, err = _run(["doctor", "--pacote", str(data_dir / "pacote.zip")])
    assert code == 1 and "danificado" in out
    with zipfile.ZipFile(data_dir / "pacote.zip") as zf:
        assert "danificado" in zf.read("problema.txt").decode()
        assert zf.read("banco/integridade.txt").decode().strip() != "ok"
    assert _sha(db_path) == fingerprint
    assert [
        b.path.name for b in list_backups(backup_dir(data_dir))
    ] == backups_before  # never backs up damage
    NUMBERS[f"banco danificado ({damage})"] = "recusado na abertura; arquivo intacto (sha256 igual)"


# -- backups -------------------------------------------------------------------------------------
def test_daily_backup_at_start_and_rotation_keeps_7_daily_and_4_weekly(data_dir: Path) -> None:
    ctx = open_app(data_dir, start_sandbox=False)
    try:
        assert ctx.maintenance is not None
        ctx.maintenance.join(60)  # the start-of-day backup runs in the background (never blocks the start)
        folder = backup_dir(data_dir)
        first = list_backups(folder)
        assert len(first) == 1  # taken at the first start
        assert backup_if_due(data_dir / "pos.sqlite3", folder) is None  # less than 24 h old: not again
        folder = data_dir / "rotacao"  # 60 simulated days, apart from today's real backup
        start = datetime(2026, 1, 1, 20, 0, 0)
        for day in range(60):
            for hour in (9, 18):  # two backups a day: only the day's newest survives
                run_backup(data_dir / "pos.sqlite3", folder, start + timedelta(days=day, hours=hour - 20))
        kept = list_backups(folder)
        assert len(kept) == DAILY_KEEP + WEEKLY_KEEP
        days = [b.day for b in kept]
        assert len(set(days)) == len(days)
        dailies, weeklies = kept[:DAILY_KEEP], kept[DAILY_KEEP:]
        assert [d.day for d in dailies] == [
            (start + timedelta(days=59 - i)).date() for i in range(DAILY_KEEP)
        ]
        assert all(b.taken_at.hour == 18 for b in dailies)
        weeks = [b.day.isocalendar()[:2] for b in weeklies]
        assert len(set(weeks)) == WEEKLY_KEEP
        assert max(b.day for b in weeklies) < min(d.day for d in dailies)
        # a backup older than 24 h: the next start takes a new one
        assert backup_if_due(data_dir / "pos.sqlite3", folder, now=kept[0].taken_at + timedelta(hours=25))
        NUMBERS["backups"] = (
            f"120 cópias em 60 dias -> {len(kept)} guardadas ({DAILY_KEEP} diárias + "
            f"{len(weeklies)} semanais)"
        )
    finally:
        ctx.close()


def test_online_backup_while_a_sale_is_being_written_is_consistent(data_dir: Path) -> None:
    ctx = open_app(data_dir, start_sandbox=False)
    try:
        before = _counts(ctx)
        folder = backup_dir(data_dir)
        with ctx.store.transaction() as tx:  # a sale half written, not committed yet
            tx.execute(
                "INSERT INTO sales (terminal_id, created_at, valor_produtos, valor_desconto, valor_total, "
                "total_pago, troco, valor_tributos) VALUES ('T', '2026-01-01T00:00:00+00:00', '1', '0', '1', "
                "'1', '0', '0')"
            )
            path = run_backup(data_dir / "pos.sqlite3", folder, datetime(2030, 1, 1, 12, 0, 0))
        copy = sqlite3.connect(path)
        try:
            assert copy.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
            assert (
                copy.execute("SELECT count(*) FROM sales").fetchone()[0] == before["sales"]
            )  # committed only
            assert copy.execute("SELECT count(*) FROM products").fetchone()[0] == ctx.store.products.count()
        finally:
            copy.close()
        assert not list(folder.glob("*.parcial"))
    finally:
        ctx.close()
    code, out, _ = _run(["backup", "--json"])
    assert code == 0 and Path(json.loads(out)["backup"]).is_file()


# -- disk full -----------------------------------------------------------------------------------
def _fill_disk(conn: sqlite3.Connection) -> None:
    """Cap the file at its current size and use up its free pages: the next new page fails (SQLITE_FULL)."""
    conn.execute("CREATE TABLE IF NOT EXISTS main._enchimento (v BLOB)")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    for size in (512, 64, 1):  # then the slack of the last pages: compressed answers are small
        with contextlib.suppress(sqlite3.OperationalError):
            while True:
                conn.execute(f"INSERT INTO main._enchimento VALUES (zeroblob({size}))")


def _free_disk(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA max_page_count = 1073741823")
    conn.execute("DROP TABLE IF EXISTS main._enchimento")


def test_disk_full_during_a_sale_keeps_the_previous_state_and_tells_the_cashier(demo_ctx: Any) -> None:
    ctx = demo_ctx
    ok = _checkout(ctx)
    assert ok.status == "autorizado"
    conn = ctx.store.database.conn
    with ctx.store.database.lock:
        _fill_disk(conn)
    before = _counts(ctx)
    counter_before = ctx.store.counters.peek(ctx.config.contingencia_serie)
    with pytest.raises(StoreError) as caught:
        _checkout(ctx, cpf="52998224725", lines=40)
    assert "Disco cheio" in str(caught.value) and "nada foi perdido" in str(caught.value)
    assert _counts(ctx) == before  # not half written: no sale, no item, no payment, no note
    assert ctx.store.counters.peek(ctx.config.contingencia_serie) == counter_before
    assert not conn.in_transaction
    assert ctx.store.database.integrity_ok()
    with ctx.store.database.lock:  # space freed
        _free_disk(conn)
    again = _checkout(ctx, lines=40)
    assert again.status == "autorizado" and again.sale_id == ok.sale_id + 1
    NUMBERS["disco cheio na venda"] = "StoreError em português; contagens iguais; venda seguinte autorizada"


def test_disk_full_after_the_api_answered_is_settled_by_one_sync(
    demo_ctx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pos_app.core.focus.nfce import NfceApi
    from pos_app.core.services.replay import ReplayService

    ctx = demo_ctx
    original = NfceApi.emit

    def emit_then_fill(self: NfceApi, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)  # authorized by the API...
        # an answer that needs new pages even compressed (the slack of existing pages would take it)
        result.raw = {**result.raw, "extra": os.urandom(8192).hex()}
        with ctx.store.database.lock:
            _fill_disk(ctx.store.database.conn)  # ...and the disk fills before the answer is stored
        return result

    monkeypatch.setattr(NfceApi, "emit", emit_then_fill)
    with pytest.raises(StoreError, match="Disco cheio"):
        _checkout(ctx, lines=40)
    monkeypatch.setattr(NfceApi, "emit", original)
    sale_id = ctx.store.sales.count()
    docs = ctx.store.documents.for_sale(sale_id)
    assert [d["status"] for d in docs] == ["enviando"]  # the paid sale is there, its note to be confirmed
    with ctx.store.database.lock:
        _free_disk(ctx.store.database.conn)
    ReplayService(ctx).run_once()
    docs = ctx.store.documents.for_sale(sale_id)
    assert [d["status"] for d in docs] == ["autorizado"]  # consulted by ref: exactly one note
    NUMBERS["disco cheio após a resposta"] = "venda gravada 'enviando'; 1 sync -> 1 nota autorizada"


# -- XML archive and export ---------------------------------------------------------------------------
def test_authorized_xml_of_every_note_is_kept_and_exported_by_month(demo_ctx: Any, tmp_path: Path) -> None:
    from pos_app.core.services.replay import ReplayService
    from pos_app.core.services.xml_archive import ExportError, export_month

    ctx = demo_ctx
    online = _checkout(ctx)
    ctx.sandbox.faults.set("unreachable")
    offline = _checkout(ctx)
    ctx.sandbox.faults.clear()
    assert online.status == "autorizado" and offline.status == "contingencia_pendente"
    report = ReplayService(ctx).run_once()
    assert report.xml_baixados == 2, report.to_json()
    month = ctx.store.documents.get(online.document_id)["data_emissao"][:7]
    for result in (online, offline):
        doc = ctx.store.documents.get(result.document_id)
        assert doc["status"] == "autorizado"
        path = Path(doc["xml_path"])
        assert path.is_file() and path.parent == ctx.xml_dir() / month
        root = etree.fromstring(path.read_bytes())
        assert doc["chave"] in etree.tostring(root).decode()
        assert path.read_bytes() == ctx.nfce().download(doc["caminho_xml"])  # what the API holds
    # an authorized note whose XML was not downloaded yet is fetched by the export itself
    third = _checkout(ctx)
    out = tmp_path / "contador.zip"
    exported = export_month(ctx, month, out)
    assert exported.downloaded == 1 and exported.missing == []
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert len([n for n in names if n.endswith("-nfce.xml")]) == 3
        summary = zf.read(f"{month}/resumo.csv").decode()
        assert third.chave in summary and ";sim;" in summary  # the contingency note is flagged
        assert "52998224725" not in summary
    with pytest.raises(ExportError, match="Nenhum XML"):
        export_month(ctx, "2001-01", tmp_path / "vazio.zip")
    assert not (tmp_path / "vazio.zip").exists()
    NUMBERS["XML"] = (
        f"{report.xml_baixados} baixados pelo sync + {exported.downloaded} pela exportação; ZIP com 3"
    )


def test_xml_export_command(data_dir: Path, tmp_path: Path) -> None:
    code, out, _ = _run(["sell", "--item", ARROZ, "--pay", "dinheiro:50", "--json"])
    assert code == 0 and json.loads(out)["status"] == "autorizado"
    code, out, err = _run(["xml", "exportar", "--mes", "2026-13", "--saida", str(tmp_path / "x.zip")])
    assert code == 2 and "Mês inválido" in err
    code, out, err = _run(["xml", "exportar", "--mes", "1999-01", "--saida", str(tmp_path / "x.zip")])
    assert code == 1 and "Nenhum XML" in err
    ctx = open_app(data_dir, start_sandbox=False)
    try:
        month = ctx.store.database.query_one("SELECT substr(data_emissao, 1, 7) AS m FROM fiscal_documents")[
            "m"
        ]  # type: ignore[index]
    finally:
        ctx.close()
    code, out, err = _run(["xml", "exportar", "--mes", month, "--saida", str(tmp_path / "x.zip"), "--json"])
    assert code == 0, err
    data = json.loads(out)
    assert data["xml_exportados"] == 1 and data["baixados_agora"] == 1
    assert zipfile.ZipFile(tmp_path / "x.zip").testzip() is None
