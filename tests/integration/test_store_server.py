"""Store level against a real PostgreSQL (started by the suite): downstream, upstream, series, budget."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pg_kit  # noqa: E402

psycopg = pytest.importorskip("psycopg", reason="psycopg não instalado (extra [loja])")

from pos_app.core.focus.ratelimit import Priority  # noqa: E402
from pos_app.core.storeserver import admin, link, pg, series, views  # noqa: E402
from pos_app.core.storeserver.budget import SharedRateBudget, token_hash  # noqa: E402
from pos_app.core.storeserver.series import SeriesConflict  # noqa: E402

FEIJAO = "1002"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg_kit.PgServer]:
    if pg_kit.pg_bin() is None:
        pytest.skip("binários do PostgreSQL ausentes (apt-get install postgresql)")
    server = pg_kit.start_postgres()
    try:
        yield server
    finally:
        server.stop(remove=True)


_db_counter = iter(range(1, 10_000))


@pytest.fixture
def store_url(pg_server: pg_kit.PgServer) -> str:
    """A fresh database per test; returns its URL (no password in it)."""
    name = f"loja_{next(_db_counter)}_{int(time.time() * 1000) % 100000}"
    with psycopg.connect(pg_server.url, password=pg_kit.PASSWORD, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_server.url.rsplit("/", 1)[0] + "/" + name


def _conn(url: str) -> Any:
    conn = pg.connect(url, pg_kit.PASSWORD)
    pg.migrate(conn)
    return conn


@pytest.fixture
def make_terminal(terminal_template: Path, tmp_path: Path, api: Any) -> Iterator[Any]:
    from contingency_kit import copy_terminal

    from pos_app.app import open_app

    opened: list[Any] = []

    def make(name: str, url: str, *, open_it: bool = True) -> Any:
        folder = copy_terminal(
            terminal_template,
            tmp_path / name,
            api.url,
            terminal__id=name,
            loja__banco=url,
            loja__senha=pg_kit.PASSWORD,
        )
        if not open_it:
            return folder
        ctx = open_app(folder, start_sandbox=False)
        ctx.store_sync.interval = 0.3
        opened.append(ctx)
        return ctx

    yield make
    for ctx in opened:
        ctx.close()


def _wait(cond: Any, timeout: float = 8.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return bool(cond())


def _sell(ctx: Any, *codes: str) -> Any:
    from contingency_kit import make_sale

    from pos_app.core.services.emission import EmissionService

    return EmissionService(ctx).checkout(make_sale(ctx, *codes))


def test_price_propagates_between_terminals_and_offline_terminal_catches_up(
    make_terminal: Any, store_url: str
) -> None:
    t1 = make_terminal("CX01", store_url)
    t2 = make_terminal("CX02", store_url)
    conn = _conn(store_url)
    assert admin.publish_products(conn, t1.store.products.all()) > 0
    # a second publish of the same catalog changes nothing (no version churn)
    assert admin.publish_products(conn, t1.store.products.all()) == 0

    admin.set_price(conn, FEIJAO, Decimal("9.99"), por="gerente")
    start = time.monotonic()
    assert _wait(lambda: t2.store.products.lookup(FEIJAO).preco == Decimal("9.99"))
    assert time.monotonic() - start < 5
    assert _wait(lambda: t1.store.products.lookup(FEIJAO).preco == Decimal("9.99"))

    result = _sell(t2, FEIJAO)
    assert result.emitido
    # T2 goes offline; the price changes meanwhile; its sale keeps the price it was sold at
    t2.store_sync.stop()
    admin.set_price(conn, FEIJAO, Decimal("10.50"))
    time.sleep(0.8)
    assert t2.store.products.lookup(FEIJAO).preco == Decimal("9.99")
    t2.store_sync.run_once()  # reconnects
    assert t2.store.products.lookup(FEIJAO).preco == Decimal("10.50")
    item = t2.store.database.query_one("SELECT valor_unitario FROM sale_items ORDER BY id DESC LIMIT 1")
    assert Decimal(item["valor_unitario"]) == Decimal("9.99")

    # the sale reached the store database, with its document, and shows on the dashboard
    today = t2.now().date().isoformat()
    assert _wait(lambda: any(r["terminal"] == "CX02" for r in views.history(conn, day=today)))
    _sell(t1, FEIJAO)
    assert _wait(lambda: len(views.dashboard(conn, day=today)["por_terminal"]) == 2)
    assert _wait(lambda: views.dashboard(conn, day=today)["documentos"].get("autorizado", 0) >= 2)
    painel = views.dashboard(conn, day=today)
    assert {r["terminal"] for r in painel["por_terminal"]} == {"CX01", "CX02"}
    only_cx01 = views.history(conn, day=today, terminal="CX01")
    assert only_cx01 and all(r["terminal"] == "CX01" for r in only_cx01)
    # change log keeps who changed what, without PIN hashes
    log = admin.changes(conn)
    assert any(c["chave"] == f"produto:{FEIJAO}" and c["dados"]["preco"] == 10.5 for c in log)


def test_users_and_store_settings_flow_down(make_terminal: Any, store_url: str) -> None:
    from pos_app.core.auth import hash_pin

    t1 = make_terminal("CX01", store_url)
    conn = _conn(store_url)
    admin.publish_user(conn, "77", "Joana Gerente", "gerente", hash_pin("4321"))
    admin.publish_setting(conn, "venda.desconto_maximo_percentual", "5")
    with pytest.raises(Exception, match="própria de cada terminal"):
        admin.publish_setting(conn, "terminal.id", "X")
    assert _wait(lambda: t1.store.users.by_code("77") is not None)
    assert t1.store.users.authenticate("77", "4321").nome == "Joana Gerente"
    assert _wait(lambda: t1.config.get("venda.desconto_maximo_percentual") == "5")


def test_tax_group_changed_on_one_terminal_reaches_the_other(make_terminal: Any, store_url: str) -> None:
    """Tax groups (fiscal branch) flow down like products: versioned, in the change log, and applied with the
    products that name them in one SQLite transaction on each terminal."""
    from pos_app.core.domain.tax_group import TaxGroup

    ta = make_terminal("CX01", store_url)
    tb = make_terminal("CX02", store_url)
    conn = _conn(store_url)
    ta.store.tax_groups.upsert(
        TaxGroup(nome="Mercearia Loja", icms_situacao_tributaria="102", tributos_percentual=Decimal("12.50"))
    )
    assert ta.store.tax_groups.assign(FEIJAO, "Mercearia Loja")
    products, _, groups = admin.publish_terminal(conn, ta.store, por="gerente")
    assert products > 0 and groups == len(ta.store.tax_groups.all())
    assert _wait(lambda: tb.store.tax_groups.by_name("mercearia loja") is not None)
    assert _wait(lambda: tb.store.products.lookup(FEIJAO).grupo_tributario == "Mercearia Loja")
    group_b = tb.store.tax_groups.by_name("Mercearia Loja")
    assert group_b is not None and group_b.tributos_percentual == Decimal("12.50")
    assert group_b.icms_situacao_tributaria == "102" and group_b.cest is None
    assert tb.store.products.lookup(FEIJAO).tax_group.nome == "Mercearia Loja"
    # nothing changed: a second publish creates no versions
    assert admin.publish_tax_groups(conn, ta.store.tax_groups.all()) == 0

    # the group changes on terminal A (another spelling of the same name) and reaches terminal B
    ta.store.tax_groups.upsert(
        TaxGroup(
            nome="MERCEARIA LOJA",
            icms_situacao_tributaria="102",
            tributos_percentual=Decimal("13.45"),
            cest="1700100",
        )
    )
    assert admin.publish_tax_groups(conn, ta.store.tax_groups.all(), por="gerente") == 1
    assert _wait(
        lambda: tb.store.tax_groups.by_name("Mercearia Loja").tributos_percentual == Decimal("13.45")
    )
    group_b = tb.store.tax_groups.by_name("Mercearia Loja")
    assert group_b.cest == "1700100"
    assert len(tb.store.tax_groups.all()) == len(ta.store.tax_groups.all())
    log = admin.changes(conn)
    assert any(
        c["chave"] == "grupo_tributario:Mercearia Loja"
        and c["dados"]["tributos_percentual"] == "13.45"
        and c["por"] == "gerente"
        for c in log
    )
    # the log holds real changes only (the no-op publish above left no entry): created, then changed
    assert [
        c["dados"]["tributos_percentual"] for c in log if c["chave"] == "grupo_tributario:Mercearia Loja"
    ] == ["13.45", "12.50"]
    assert _wait(lambda: tb.store_sync.status()["versao"] >= max(c["versao"] for c in log))


_PUSH_AND_DIE = r"""
import os, signal, sys
from pos_app.core.store import Store
from pos_app.core.storeserver import pg, sync
store = Store(sys.argv[1])
conn = pg.connect(sys.argv[2], sys.argv[3])
mode = sys.argv[4]
if mode == "after_commit":
    sync.push(store, conn, "CX09", limit=3, after_commit=lambda: os.kill(os.getpid(), signal.SIGKILL))
else:
    sync.push(store, conn, "CX09", limit=3, before_commit=lambda: os.kill(os.getpid(), signal.SIGKILL))
"""


def test_upstream_survives_kill_9_mid_sync_nothing_lost_nothing_twice(
    make_terminal: Any, store_url: str
) -> None:
    t = make_terminal("CX09", store_url)
    t.store_sync.stop()  # sell with the link down, then push from a process that dies
    for _ in range(4):
        assert _sell(t, FEIJAO).emitido
    local_sales = {r["id"] for r in t.store.database.query("SELECT id FROM sales")}
    pending = t.store.database.query_one("SELECT count(*) AS n FROM store_outbox")["n"]
    assert pending >= 8  # sales + documents + events + audit
    db_path = str(t.store.database.path)
    conn = _conn(store_url)
    for mode in ("before_commit", "after_commit"):
        proc = subprocess.run(
            [sys.executable, "-c", _PUSH_AND_DIE, db_path, store_url, pg_kit.PASSWORD, mode],
            capture_output=True,
            timeout=60,
        )
        assert proc.returncode == -9, proc.stderr.decode()
        if mode == "before_commit":
            with conn.transaction():
                assert conn.execute("SELECT count(*) FROM loja_registros").fetchone()[0] == 0
    with conn.transaction():
        after_kill = conn.execute(
            "SELECT count(*) FROM loja_registros WHERE terminal_id = 'CX09'"
        ).fetchone()[0]
    assert after_kill >= 1  # the after-commit kill left PostgreSQL ahead of the outbox
    t.store_sync.run_once()
    t.store_sync.run_once()
    assert t.store.database.query_one("SELECT count(*) AS n FROM store_outbox")["n"] == 0
    with conn.transaction():
        sales = [
            r[0]
            for r in conn.execute(
                "SELECT local_id FROM loja_registros WHERE terminal_id = 'CX09' AND tabela = 'sales'"
            ).fetchall()
        ]
        docs = conn.execute(
            "SELECT count(*) FROM loja_registros WHERE terminal_id = 'CX09' AND tabela = 'fiscal_documents'"
        ).fetchone()[0]
        events = conn.execute(
            "SELECT count(*) FROM loja_registros WHERE terminal_id = 'CX09' AND tabela = 'document_events'"
        ).fetchone()[0]
    assert sorted(sales) == sorted(local_sales)  # nothing lost, nothing twice
    assert docs == t.store.database.query_one("SELECT count(*) AS n FROM fiscal_documents")["n"]
    assert events == t.store.database.query_one("SELECT count(*) AS n FROM document_events")["n"]


def test_series_registry_assigns_and_refuses_conflicts(make_terminal: Any, store_url: str) -> None:
    t1 = make_terminal("CX01", store_url)
    t2 = make_terminal("CX02", store_url)
    assert _wait(lambda: t1.store_sync.registered and t2.store_sync.registered)
    t1.store_sync.run_once()
    t2.store_sync.run_once()  # a pass that moved something re-reads the other terminals' series
    from pos_app.core.storeserver import series as series_mod

    series_mod.refresh_others(t2.store, _conn(store_url), "CX02")
    s1, s2 = t1.config.contingencia_serie, t2.config.contingencia_serie
    assert s1 != s2 and 600 <= s1 <= 889 and 600 <= s2 <= 889
    assert t1.config.get("loja.serie_online") != t2.config.get("loja.serie_online")
    # NF-e contingency (model 55 generated beforehand) is numbered by each terminal too: its own series each
    n1, n2 = t1.config.nfe_contingencia_serie, t2.config.nfe_contingencia_serie
    assert n1 != n2 and {n1, n2}.isdisjoint({s1, s2}) and min(n1, n2) >= 600 and max(n1, n2) == 889
    for t in (t1, t2):
        assert (
            t.config.nfe_series_conflict("nfe.serie_contingencia", str(t.config.nfe_contingencia_serie))
            is None
        )
    assert {n1, s1} <= set(json.loads(t2.store.settings.get("loja.series_outros")))
    with pytest.raises(SeriesConflict):
        series.check_serie(t2.store, n1)
    st = link.status(t1)
    assert (st["serie_contingencia"], st["serie_contingencia_nfe"]) == (str(s1), str(n1))
    # the database itself refuses a second owner
    conn = _conn(store_url)
    with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
        conn.execute(
            "INSERT INTO loja_series (serie, terminal_id, tipo) VALUES (%s, 'CX02', 'contingencia')", [s1]
        )
    # a terminal configured by hand onto another's series refuses to emit on it
    t2.config.set("contingencia.serie", str(s1))
    with pytest.raises(SeriesConflict):
        series.check_serie(t2.store, s1)
    series.check_serie(t2.store, s2)
    # and an offline contingency note on it is refused, the sale stays recorded without a note on that series
    from contingency_kit import make_sale

    from pos_app.core.services.emission import EmissionService

    t2.config.set("focus.url", "http://127.0.0.1:9")  # API unreachable: contingency
    with pytest.raises(SeriesConflict):
        EmissionService(t2).checkout(make_sale(t2, FEIJAO))
    assert not t2.store.database.query("SELECT id FROM fiscal_documents WHERE serie = ?", [s1])


def _blackhole() -> socket.socket:
    """A port that accepts TCP but never answers (a store server hung or behind a dead link)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(50)
    return s


def test_store_down_never_delays_the_sale_and_catches_up(make_terminal: Any, store_url: str) -> None:
    hole = _blackhole()
    try:
        dead_url = f"postgresql://loja@127.0.0.1:{hole.getsockname()[1]}/postgres"
        t = make_terminal("CX05", dead_url)
        timings = []
        for _ in range(3):
            start = time.monotonic()
            assert _sell(t, FEIJAO).emitido
            timings.append(time.monotonic() - start)
        assert max(timings) < 1.5, timings  # connect_timeout is 3 s: the sale never waited for it
        from pos_app.core.services.status import terminal_status

        assert _wait(lambda: t.store_sync.online is False, timeout=10)
        data = terminal_status(t, check_link=False)
        assert data["loja"]["online"] is False and data["loja"]["pendentes_envio"] >= 3
        assert any("FORA DO AR" in line for line in data["resumo"])
    finally:
        hole.close()
    # the store comes back (here: the right address): everything goes up
    t.config.set("loja.banco", store_url)
    from pos_app.core.storeserver.link import connector

    t.store_sync._connector = connector(t)
    t.store_sync.run_once()
    conn = _conn(store_url)
    with conn.transaction():
        n = conn.execute(
            "SELECT count(*) FROM loja_registros WHERE terminal_id = 'CX05' AND tabela = 'sales'"
        ).fetchone()[0]
    assert n == 3
    assert terminal_status(t, check_link=False)["loja"]["online"] is True


def test_two_terminals_share_one_budget_live_first(store_url: str) -> None:
    conn = _conn(store_url)
    with conn.transaction():  # an empty bucket: 10 requests/s, 3 kept for live sales
        conn.execute(
            "INSERT INTO loja_orcamento_focus (token_hash, por_minuto, reserva_ao_vivo, fichas) "
            "VALUES (%s, 600, 3, 0)",
            [token_hash("tok")],
        )

    def budget() -> SharedRateBudget:
        b = SharedRateBudget(
            lambda: pg.connect(store_url, pg_kit.PASSWORD), lambda: "tok", per_minute=600, reserve_for_live=3
        )
        assert b.connect_now()
        return b

    budgets = [budget(), budget()]
    granted = [0, 0]
    stop = time.monotonic() + 3.0

    def replay(i: int) -> None:
        while time.monotonic() < stop:
            if budgets[i].acquire(Priority.REPLAY, max_wait=0.5):
                granted[i] += 1

    threads = [threading.Thread(target=replay, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    time.sleep(1.0)
    live = budget()
    t0 = time.monotonic()
    assert live.acquire(Priority.LIVE, max_wait=2.0)  # borrows the reserve the backlog may not touch
    assert time.monotonic() - t0 < 0.5
    for th in threads:
        th.join()
    total = sum(granted)
    # 3 s at 10/s = 30 tokens; the first 3 (+1 for live) are never given to the backlog
    assert 18 <= total <= 29, granted
    assert min(granted) >= total * 0.25, granted  # spread over both terminals
    assert all(b.shared for b in budgets)


def test_budget_falls_back_to_local_when_store_is_down() -> None:
    def down() -> Any:
        raise pg.StoreDbError("fora")

    b = SharedRateBudget(down, lambda: "tok")
    t0 = time.monotonic()
    assert b.acquire(Priority.LIVE, max_wait=1.0)
    assert time.monotonic() - t0 < 0.2
    assert not b.shared


def test_config_show_masks_store_password(data_dir: Path) -> None:
    from pos_app.core.config import ConfigError
    from pos_app.core.services.context import open_context

    ctx = open_context(data_dir)
    try:
        with pytest.raises(ConfigError, match="senha"):
            ctx.config.set("loja.banco", "postgresql://loja:segredo@127.0.0.1/loja")
        ctx.config.set("loja.banco", "postgresql://loja@127.0.0.1/loja")
        ctx.config.set("loja.senha", "segredo-muito-grande")
        shown = json.dumps(ctx.config.show())
        assert "segredo-muito-grande" not in shown
        assert ctx.store.settings.get("loja.senha") == "__secret__"
    finally:
        ctx.close()


def test_nfe_reaches_the_store_with_its_model(make_terminal: Any, store_url: str) -> None:
    """Issue 19 merged with issue 16: upstream carries whole rows, so ``fiscal_documents.modelo`` (55 for an
    NF-e to a CNPJ buyer, 65 for the NFC-e) reaches the store database and its history."""
    from contingency_kit import make_sale

    from pos_app.core.services.emission import EmissionService
    from pos_app.core.store.clientes import Cliente

    t1 = make_terminal("CX01", store_url)
    conn = _conn(store_url)
    buyer = "12ABC34501DE35"
    t1.store.clientes.save(
        Cliente(
            documento=buyer,
            nome="RESTAURANTE BOA MESA LTDA",
            logradouro="Rua das Flores",
            numero="100",
            bairro="Centro",
            codigo_municipio="4106902",
            municipio="Curitiba",
            uf="PR",
            cep="80010-000",
            indicador_ie="1",
            inscricao_estadual="9044016688",
        )
    )
    t1.config.set("nfe.destinatario_cnpj", "nfe")
    sale = make_sale(t1, FEIJAO)
    sale.cnpj = buyer
    nfe = EmissionService(t1).checkout(sale)
    assert nfe.modelo == 55 and nfe.status == "autorizado"
    nfce = _sell(t1, FEIJAO)
    assert nfce.modelo == 65 and nfce.status == "autorizado"

    def modelos() -> dict[int, int]:
        with conn.transaction():
            rows = conn.execute(
                "SELECT documento_id, (dados->>'modelo')::int, status FROM loja_documentos WHERE terminal_id = 'CX01'"
            ).fetchall()
        return {int(r[0]): int(r[1]) for r in rows if r[2] == "autorizado"}

    assert _wait(lambda: modelos() == {nfe.document_id: 55, nfce.document_id: 65})


def test_terminal_alone_keeps_no_outbox_and_sends_its_history_when_it_joins(
    terminal_template: Path, tmp_path: Path, api: Any, store_url: str
) -> None:
    from contingency_kit import copy_terminal

    from pos_app.app import open_app

    folder = copy_terminal(terminal_template, tmp_path / "CX07", api.url, terminal__id="CX07")
    ctx = open_app(folder, start_sandbox=False)
    try:
        assert ctx.store_sync is None
        assert _sell(ctx, FEIJAO).emitido and _sell(ctx, FEIJAO).emitido
        outbox = ctx.store.database.query_one("SELECT count(*) AS n FROM store_outbox")["n"]
        assert outbox == 0  # nothing would ever drain it
        ctx.config.set("loja.banco", store_url)
        ctx.config.set("loja.senha", pg_kit.PASSWORD)
    finally:
        ctx.close()
    joined = open_app(folder, start_sandbox=False)
    try:
        assert joined.store_sync is not None
        joined.store_sync.run_once()
        while joined.store_sync.run_once().get("enviados", 0):
            pass
        assert joined.store.database.query_one("SELECT count(*) AS n FROM store_outbox")["n"] == 0
        conn = _conn(store_url)
        with conn.transaction():
            sales = conn.execute(
                "SELECT count(*) FROM loja_registros WHERE terminal_id = 'CX07' AND tabela = 'sales'"
            ).fetchone()[0]
            docs = conn.execute(
                "SELECT count(*) FROM loja_registros WHERE terminal_id = 'CX07' AND tabela = 'fiscal_documents'"
            ).fetchone()[0]
        assert (sales, docs) == (2, 2)
        # from now on each change is queued by the triggers (the background sync stopped to look)
        joined.store_sync.stop()
        assert _sell(joined, FEIJAO).emitido
        assert joined.store.database.query_one("SELECT count(*) AS n FROM store_outbox")["n"] >= 2
    finally:
        joined.close()


# -- deletes flow down (tax groups removed, operators blocked, products taken off the catalog) ------------------


def _versions(conn: Any) -> int:
    with conn.transaction():
        return int(conn.execute("SELECT COALESCE(max(versao), 0) FROM loja_alteracoes").fetchone()[0])


def test_tax_group_removed_on_one_terminal_reaches_the_others(make_terminal: Any, store_url: str) -> None:
    from pos_app.core.domain.tax_group import TaxGroup

    ta = make_terminal("CX01", store_url)
    tb = make_terminal("CX02", store_url)
    conn = _conn(store_url)
    for nome in ("Hortifruti Loja", "Bebidas Loja"):
        ta.store.tax_groups.upsert(TaxGroup(nome=nome, icms_situacao_tributaria="102"))
    assert ta.store.tax_groups.assign(FEIJAO, "Bebidas Loja")
    admin.publish_terminal(conn, ta.store, por="CX01/9")
    assert _wait(lambda: tb.store.tax_groups.by_name("Hortifruti Loja") is not None)
    assert _wait(lambda: tb.store.products.lookup(FEIJAO).grupo_tributario == "Bebidas Loja")

    # removed on the manager window of CX01 (the repository the dialog calls): no "publicar" needed
    assert ta.store.tax_groups.delete("HORTIFRUTI LOJA")
    assert _wait(lambda: tb.store.tax_groups.by_name("Hortifruti Loja") is None)
    assert tb.store.tax_groups.by_name("Bebidas Loja") is not None
    log = admin.changes(conn)
    assert log[0]["chave"] == "grupo_tributario:Hortifruti Loja" and log[0]["dados"]["excluido"] is True
    assert log[0]["por"] == "CX01/terminal"
    # nothing goes back and forth: the store's version settles
    assert _wait(lambda: ta.store_sync.status()["versao"] >= log[0]["versao"])
    assert _wait(lambda: tb.store_sync.status()["versao"] >= log[0]["versao"])
    settled = _versions(conn)
    time.sleep(1.2)
    assert _versions(conn) == settled
    assert not tb.store.database.query("SELECT key FROM store_sync_state WHERE key LIKE 'enviar:%'")

    # a group still named by an active product of the store: refused, kept, sent once the product moves
    assert ta.store.tax_groups.assign(FEIJAO, None)
    assert ta.store.tax_groups.delete("Bebidas Loja")
    assert _wait(lambda: any("Bebidas Loja" in r for r in ta.store_sync.status()["recusados"]))
    assert tb.store.tax_groups.by_name("Bebidas Loja") is not None
    # not retried on every pass: only when the store's version moved (or every N passes); still reported
    passes = ta.store_sync.backoff.passes
    assert _wait(lambda: ta.store_sync.backoff.passes >= passes + 4)
    assert list(ta.store_sync.backoff.attempts.values()) == [1]
    assert any("Bebidas Loja" in r for r in ta.store_sync.status()["recusados"])
    admin.publish_setting(conn, "venda.desconto_maximo_percentual", "7")  # the store moved: tried again
    assert _wait(lambda: list(ta.store_sync.backoff.attempts.values()) == [2])
    assert any("Bebidas Loja" in r for r in ta.store_sync.status()["recusados"])
    admin.publish_terminal(conn, ta.store, por="CX01/9")  # the product leaves the group, then the group goes
    assert _wait(lambda: tb.store.tax_groups.by_name("Bebidas Loja") is None)
    assert tb.store.products.lookup(FEIJAO).grupo_tributario is None
    assert _wait(lambda: not ta.store_sync.status()["recusados"])

    # published again, it comes back everywhere
    ta.store.tax_groups.upsert(TaxGroup(nome="Hortifruti Loja", icms_situacao_tributaria="102"))
    assert admin.publish_tax_groups(conn, ta.store.tax_groups.all(), por="CX01/9") == 1
    assert _wait(lambda: tb.store.tax_groups.by_name("Hortifruti Loja") is not None)
    assert ta.store.tax_groups.by_name("Hortifruti Loja") is not None


def test_operator_blocked_or_added_on_one_terminal_reaches_the_others(
    make_terminal: Any, store_url: str
) -> None:
    from pos_app.core.services.users import UserAdminService
    from pos_app.core.store.users import AuthError

    ta = make_terminal("CX01", store_url)
    tb = make_terminal("CX02", store_url)
    conn = _conn(store_url)
    admin.publish_terminal(conn, ta.store, por="CX01/9")
    assert tb.store.users.authenticate("1", "1111").codigo == "1"
    gerente = ta.store.users.by_code("9")
    UserAdminService(ta).set_active("1", False, gerente, reason="desligada")
    assert _wait(lambda: not tb.store.users.by_code("1").ativo)
    with pytest.raises(AuthError):
        tb.store.users.authenticate("1", "1111")
    ta.store.users.add("55", "Bruno (caixa)", "caixa", "5555")
    assert _wait(lambda: tb.store.users.by_code("55") is not None)
    assert tb.store.users.authenticate("55", "5555").nome == "Bruno (caixa)"
    with conn.transaction():
        row = conn.execute("SELECT ativo, alterado_por FROM loja_usuarios WHERE codigo = '1'").fetchone()
    assert row == (False, "CX01/terminal")
    assert _wait(lambda: tb.store_sync.status()["versao"] >= _versions(conn))
    settled = _versions(conn)
    time.sleep(1.2)
    assert _versions(conn) == settled  # CX02 applying them sends nothing back


def test_product_removed_for_the_store_leaves_every_catalog_but_not_past_sales(
    make_terminal: Any, store_url: str
) -> None:
    ta = make_terminal("CX01", store_url)
    tb = make_terminal("CX02", store_url)
    conn = _conn(store_url)
    admin.publish_terminal(conn, ta.store, por="CX01/9")
    sold = _sell(tb, FEIJAO)
    assert sold.emitido
    with pytest.raises(Exception, match="não está no catálogo da loja"):
        admin.deactivate_product(conn, "999999")
    admin.deactivate_product(conn, FEIJAO, por="CX01/9")
    assert _wait(lambda: tb.store.products.lookup(FEIJAO) is None)
    assert _wait(lambda: ta.store.products.lookup(FEIJAO) is None)
    item = tb.store.database.query_one("SELECT codigo FROM sale_items WHERE sale_id = ?", [sold.sale_id])
    assert item["codigo"] == FEIJAO
    # a later "publicar" from a terminal that applied the removal does not bring it back
    admin.publish_terminal(conn, ta.store, por="CX01/9")
    with conn.transaction():
        assert conn.execute("SELECT ativo FROM loja_produtos WHERE codigo = %s", [FEIJAO]).fetchone() == (
            False,
        )


def test_second_copy_of_another_checkouts_sale_printed_here(
    make_terminal: Any, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A customer back at checkout 2 with a sale made at checkout 1: the manager prints its second copy there."""
    import shutil

    from pypdf import PdfReader

    from pos_app.cli import main
    from pos_app.core.storeserver.sync import pending_count

    t1 = make_terminal("CX01", store_url)
    sold = _sell(t1, FEIJAO)
    assert sold.status == "autorizado"
    assert _wait(lambda: (t1.store_sync.run_once() or True) and pending_count(t1.store) == 0)
    doc1 = t1.store.documents.get(sold.document_id)
    folder = make_terminal("CX02", store_url, open_it=False)
    monkeypatch.setenv("POS_DATA_DIR", str(folder))
    monkeypatch.setenv("POS_SECRETS", "arquivo")
    # a wrong PIN prints nothing; an unknown sale says where to look
    assert main(["loja", "reimprimir", "CX01", str(sold.sale_id), "--pin", "0000", "--json"]) != 0
    capsys.readouterr()
    assert main(["loja", "reimprimir", "CX01", "999999", "--pin", "9999", "--json"]) != 0
    assert "loja historico" in capsys.readouterr().out
    assert main(["loja", "reimprimir", "CX01", str(sold.sale_id), "--pin", "9999", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and "caixa CX01" in out["mensagem"]
    pdf = Path(out["mensagem"].split(" salva em ", 1)[1])
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(str(pdf)).pages).split())
    assert "2ª VIA - REIMPRESSÃO" in text and "Autorizada por" in text
    assert doc1["chave"][-4:] in text.replace(" ", "") and f"{int(doc1['numero']):09d}"[-3:] in text
    if shutil.which("pdftoppm") and shutil.which("zbarimg"):
        import subprocess

        subprocess.run(
            ["pdftoppm", "-r", "300", "-png", "-singlefile", str(pdf), str(tmp_path / "2via")], check=True
        )
        shutil.copy(
            tmp_path / "2via.png",
            Path(__file__).resolve().parents[2] / "test-artifacts" / "segunda-via-loja.png",
        )
        qr = subprocess.run(
            ["zbarimg", "--raw", "-q", str(tmp_path / "2via.png")], capture_output=True, text=True
        )
        assert qr.stdout.strip() == doc1["qrcode_url"]  # the other checkout's note, read back from the paper
    from pos_app.app import open_app

    t2 = open_app(folder, start_sandbox=False)
    try:  # recorded at checkout 2, where it was printed
        audit = t2.store.database.query(
            "SELECT action, target, outcome FROM audit_log WHERE action = 'reimpressao_loja'"
        )
        assert [(a["target"], a["outcome"]) for a in audit] == [(f"CX01/{doc1['ref']}", "ok")]
    finally:
        t2.close()


# -- customers (clientes, NF-e model 55 buyers) shared by every terminal ---------------------------------------

BUYER = "12ABC34501DE35"  # alphanumeric CNPJ (valid check digits)
BUYER2 = "11222333000181"


def _cliente(documento: str = BUYER, **changes: str) -> Any:
    from pos_app.core.store.clientes import Cliente

    data = {
        "documento": documento,
        "nome": "RESTAURANTE BOA MESA LTDA",
        "logradouro": "Rua das Flores",
        "numero": "100",
        "bairro": "Centro",
        "codigo_municipio": "4106902",
        "municipio": "Curitiba",
        "uf": "PR",
        "cep": "80010-000",
        "indicador_ie": "1",
        "inscricao_estadual": "9044016688",
        "email": "compras@boamesa.example",
        "telefone": "41999990000",
        **changes,
    }
    return Cliente(**data)


def _store_customer(conn: Any, documento: str) -> dict[str, Any] | None:
    with conn.transaction():
        cur = conn.execute("SELECT * FROM loja_clientes WHERE documento = %s", [documento])
        row = cur.fetchone()
        return None if row is None else dict(zip([d.name for d in cur.description], row, strict=True))


def test_customer_saved_edited_removed_on_one_terminal_reaches_the_others(
    make_terminal: Any, store_url: str, qtbot: Any
) -> None:
    from pos_app.ui.customer_dialog import CustomerDialog

    ta = make_terminal("CX01", store_url)
    tb = make_terminal("CX02", store_url)
    tc = make_terminal("CX03", store_url)
    conn = _conn(store_url)
    # saved at CX01's counter (the sale window's dialog): no "publicar" needed
    dialog = CustomerDialog(ta.store.clientes, BUYER)
    qtbot.addWidget(dialog)
    for name, value in (
        ("nome", "RESTAURANTE BOA MESA LTDA"),
        ("logradouro", "Rua das Flores"),
        ("numero", "100"),
        ("bairro", "Centro"),
        ("municipio", "Curitiba"),
        ("codigo_municipio", "4106902"),
        ("uf", "PR"),
        ("cep", "80010-000"),
        ("inscricao_estadual", "9044016688"),
        ("email", "compras@boamesa.example"),
    ):
        dialog.inputs[name].setText(value)
    dialog.save_button.click()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert _wait(lambda: tb.store.clientes.get(BUYER) is not None)
    assert _wait(lambda: tc.store.clientes.get(BUYER) is not None)
    got = tb.store.clientes.get(BUYER)
    assert (got.nome, got.logradouro, got.cep, got.inscricao_estadual, got.email) == (
        "RESTAURANTE BOA MESA LTDA",
        "Rua das Flores",
        "80010000",
        "9044016688",
        "compras@boamesa.example",
    )
    # LGPD: only what the NF-e needs travels; the change log says who changed which customer, not the address
    row = _store_customer(conn, BUYER)
    assert row is not None and "telefone" not in row and row["alterado_por"] == "CX01/terminal"
    entry = next(c for c in admin.changes(conn) if c["chave"] == f"cliente:{BUYER}")
    assert set(entry["dados"]) == {"documento", "nome", "municipio", "uf", "excluido", "versao"}

    # edited on CX02 (its own telephone stays local): CX01 sees the edit
    tb.store.clientes.save(_cliente(numero="200", complemento="Loja 2", telefone="4133334444"))
    assert _wait(lambda: ta.store.clientes.get(BUYER).numero == "200")
    assert ta.store.clientes.get(BUYER).complemento == "Loja 2"
    assert ta.store.clientes.get(BUYER).telefone is None
    assert _wait(lambda: tc.store.clientes.get(BUYER).numero == "200")
    # nothing echoes between the terminals: the store's version settles and no marks are left
    for t in (ta, tb, tc):
        assert _wait(lambda t=t: t.store_sync.status()["versao"] >= _versions(conn))
    settled = _versions(conn)
    time.sleep(1.2)
    assert _versions(conn) == settled
    for t in (ta, tb, tc):
        assert not t.store.database.query("SELECT key FROM store_sync_state WHERE key LIKE 'enviar:%'")

    # removed on CX03: gone everywhere; the store keeps only the CNPJ of the removed row
    assert tc.store.clientes.delete(BUYER)
    assert _wait(lambda: ta.store.clientes.get(BUYER) is None)
    assert _wait(lambda: tb.store.clientes.get(BUYER) is None)
    row = _store_customer(conn, BUYER)
    assert (
        row["excluido"] is True and row["nome"] is None and row["logradouro"] is None and row["email"] is None
    )
    # registered again on CX02: back everywhere
    tb.store.clientes.save(_cliente())
    assert _wait(lambda: ta.store.clientes.get(BUYER) is not None)
    assert _store_customer(conn, BUYER)["excluido"] is False


def test_offline_terminal_keeps_its_customers_and_catches_up_last_edit_wins(
    make_terminal: Any, store_url: str
) -> None:
    ta = make_terminal("CX01", store_url)
    tb = make_terminal("CX02", store_url)
    conn = _conn(store_url)
    ta.store.clientes.save(_cliente())
    assert _wait(lambda: tb.store.clientes.get(BUYER) is not None)
    tb.store_sync.stop()  # CX02 loses the store
    ta.store.clientes.save(_cliente(BUYER2, nome="MERCADO DO BAIRRO LTDA", indicador_ie="9"))
    ta.store.clientes.save(_cliente(numero="300"))  # CX01 edits first (reaches the store at once) ...
    assert _wait(lambda: (_store_customer(conn, BUYER) or {}).get("numero") == "300")
    tb.store.clientes.save(_cliente(numero="200"))  # ... CX02 edits offline later: it keeps working locally
    assert tb.store.clientes.get(BUYER).numero == "200"
    assert tb.store.clientes.get(BUYER2) is None
    assert tb.store_sync.status()["edicoes_pendentes"] == 1
    tb.store_sync.run_once()  # reconnects: its edit goes up first, then it pulls
    assert tb.store.clientes.get(BUYER2).nome == "MERCADO DO BAIRRO LTDA"
    assert tb.store.clientes.get(BUYER2).inscricao_estadual is None
    assert tb.store_sync.status()["edicoes_pendentes"] == 0
    # the last edit to reach the store wins, on every terminal
    assert _store_customer(conn, BUYER)["numero"] == "200"
    assert tb.store.clientes.get(BUYER).numero == "200"
    assert _wait(lambda: ta.store.clientes.get(BUYER).numero == "200")

    # an edit made here while the store's older row is being pulled is not overwritten by it
    from pos_app.core.storeserver import sync as store_sync

    ta.store_sync.stop()
    tb.store_sync.stop()
    ta.store.clientes.save(_cliente(numero="400"))
    ta.store_sync.run_once()
    tb.store.clientes.save(_cliente(numero="500"))  # not sent yet
    store_sync.pull(tb.store, conn, "CX02")
    assert tb.store.clientes.get(BUYER).numero == "500"  # the pending local edit stays
    tb.store_sync.run_once()
    ta.store_sync.run_once()
    assert ta.store.clientes.get(BUYER).numero == "500" == tb.store.clientes.get(BUYER).numero


def test_nfe_sale_on_one_terminal_to_a_customer_registered_on_another(
    make_terminal: Any, store_url: str
) -> None:
    from contingency_kit import make_sale

    from pos_app.core.services.emission import EmissionService
    from pos_app.core.store.packed import unpack_text

    ta = make_terminal("CX01", store_url)
    tb = make_terminal("CX02", store_url)
    ta.store.clientes.save(_cliente(complemento="Sala 3"))
    assert _wait(lambda: tb.store.clientes.get(BUYER) is not None)
    tb.config.set("nfe.destinatario_cnpj", "nfe")
    sale = make_sale(tb, FEIJAO)
    sale.cnpj = BUYER
    nfe = EmissionService(tb).checkout(sale)
    assert nfe.modelo == 55 and nfe.status == "autorizado"
    doc = tb.store.database.query_one("SELECT payload FROM fiscal_documents WHERE id = ?", [nfe.document_id])
    raw = doc["payload"]
    payload = json.loads(unpack_text(raw) if isinstance(raw, bytes) else raw)
    assert payload["cnpj_destinatario"] == BUYER
    assert payload["logradouro_destinatario"] == "Rua das Flores"
    assert payload["complemento_destinatario"] == "Sala 3"
    assert payload["codigo_municipio_destinatario"] == "4106902"
    assert payload["cep_destinatario"] == "80010000"
    assert payload["inscricao_estadual_destinatario"] == "9044016688"
    assert payload["email_destinatario"] == "compras@boamesa.example"


def test_manager_publishes_the_customers_a_terminal_had_before_joining(
    terminal_template: Path,
    tmp_path: Path,
    api: Any,
    store_url: str,
    make_terminal: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from contingency_kit import copy_terminal

    from pos_app.app import open_app
    from pos_app.cli import main

    folder = copy_terminal(terminal_template, tmp_path / "CX07", api.url, terminal__id="CX07")
    ctx = open_app(folder, start_sandbox=False)
    try:
        ctx.store.clientes.save(_cliente())
        ctx.store.clientes.save(_cliente(BUYER2, nome="MERCADO DO BAIRRO LTDA", indicador_ie="9"))
        ctx.config.set("loja.banco", store_url)
        ctx.config.set("loja.senha", pg_kit.PASSWORD)
    finally:
        ctx.close()
    other = make_terminal("CX02", store_url)
    monkeypatch.setenv("POS_DATA_DIR", str(folder))
    assert main(["loja", "publicar", "clientes", "--pin", "0000", "--json"]) != 0  # a manager's PIN only
    capsys.readouterr()
    assert main(["loja", "publicar", "clientes", "--pin", "9999", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"clientes": 2, "clientes_alterados_na_loja": 2}
    assert _wait(lambda: other.store.clientes.get(BUYER2) is not None)
    assert other.store.clientes.get(BUYER) is not None
    # once is enough: again, nothing changes in the store
    assert main(["loja", "publicar", "clientes", "--pin", "9999", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clientes_alterados_na_loja"] == 0
    # from now on the CLI's own edits go up by themselves
    argv = ["clientes", "salvar", BUYER2, "--numero", "77", "--json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["loja"] == "enviado"
    assert _wait(lambda: other.store.clientes.get(BUYER2).numero == "77")
    assert main(["clientes", "remover", BUYER, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removido": BUYER, "loja": "enviado"}
    assert _wait(lambda: other.store.clientes.get(BUYER) is None)
