"""The SQLite store: durability settings, migrations, catalog lookups, numbering."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pos_app.core.domain.catalog import Product
from pos_app.core.store import Store


def _product(codigo: str, descricao: str, ean: str | None = None) -> Product:
    return Product(
        codigo=codigo,
        descricao=descricao,
        ncm="22021000",
        cfop="5102",
        unidade="UN",
        preco=Decimal("4.50"),
        ean=ean,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "pos.sqlite3")
    yield s
    s.close()


def test_durability_pragmas(store: Store) -> None:
    conn = store.database.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_migrations_are_named_and_applied_once(tmp_path: Path) -> None:
    s = Store(tmp_path / "x.sqlite3")
    names = s.database.applied_migrations()
    s.close()
    again = Store(tmp_path / "x.sqlite3")
    assert again.database.applied_migrations() == names
    assert names[:2] == ["001_base", "002_products_fts"]
    again.close()


def test_lookup_by_ean_then_code_and_unique_indexes(store: Store) -> None:
    store.products.upsert_many([_product("10", "REFRIGERANTE GUARANÁ 2L", "7891991000833")])
    assert store.products.lookup("7891991000833").codigo == "10"  # type: ignore[union-attr]
    assert store.products.lookup("10").ean == "7891991000833"  # type: ignore[union-attr]
    assert store.products.lookup("999") is None
    import sqlite3

    with pytest.raises(sqlite3.IntegrityError), store.transaction() as tx:
        tx.execute(
            "INSERT INTO products (codigo, ean, descricao, ncm, cfop, unidade, preco, icms_situacao_tributaria) "
            "VALUES ('11', '7891991000833', 'X', '22021000', '5102', 'UN', '1', '102')"
        )


def test_fts_prefix_search_ignores_accents(store: Store) -> None:
    store.products.upsert_many(
        [
            _product("1", "PÃO FRANCÊS KG"),
            _product("2", "REFRIGERANTE GUARANÁ ANTARCTICA 2L"),
            _product("3", "ÁGUA MINERAL 500ML"),
        ]
    )
    assert [p.codigo for p in store.products.search("guar")] == ["2"]
    assert [p.codigo for p in store.products.search("agua")] == ["3"]  # ÁGUA without the accent
    assert [p.codigo for p in store.products.search("pao fran")] == ["1"]
    assert store.products.search("") == []
    assert store.products.search('"; DROP TABLE products') == []


def test_upsert_updates_price_and_fts(store: Store) -> None:
    store.products.upsert_many([_product("1", "CAFÉ TORRADO 500G")])
    changed = _product("1", "CAFÉ EXTRAFORTE 500G")
    changed.preco = Decimal("19.90")
    store.products.upsert_many([changed])
    assert store.products.lookup("1").preco == Decimal("19.90")  # type: ignore[union-attr]
    assert [p.codigo for p in store.products.search("extraf")] == ["1"]
    assert store.products.search("torrado") == []


def test_series_counter_strictly_increasing_and_transactional(store: Store) -> None:
    with store.transaction() as tx:
        assert store.counters.take(tx, 600) == 1
        assert store.counters.take(tx, 600) == 2
    with pytest.raises(RuntimeError), store.transaction() as tx:
        assert store.counters.take(tx, 600) == 3
        raise RuntimeError("crash before commit")
    with store.transaction() as tx:
        # The rolled-back number was never printed on a stored note: it is reused, nothing skipped.
        assert store.counters.take(tx, 600) == 3
    store.counters.ensure_at_least(600, 10)
    store.counters.ensure_at_least(600, 5)  # never lowers
    assert store.counters.peek(600) == 10


def test_users_pin_hashed_and_lockout(store: Store) -> None:
    from pos_app.core.store.users import AuthError

    store.users.add("7", "Bia", "caixa", "4321")
    row = store.database.query_one("SELECT pin_hash FROM users WHERE codigo = '7'")
    assert row is not None and "4321" not in row["pin_hash"] and row["pin_hash"].startswith("scrypt$")
    assert store.users.authenticate("7", "4321").nome == "Bia"
    for _ in range(4):
        with pytest.raises(AuthError, match="PIN incorreto"):
            store.users.authenticate("7", "0000")
    with pytest.raises(AuthError, match="bloqueado"):
        store.users.authenticate("7", "0000")
    with pytest.raises(AuthError, match="bloqueado"):
        store.users.authenticate("7", "4321")  # even the right PIN, while locked


def test_settings_roundtrip(store: Store) -> None:
    store.settings.set("a.b", "1")
    store.settings.set("a.b", "2")
    assert store.settings.get("a.b") == "2"
    assert store.settings.all() == {"a.b": "2"}


def test_settings_cache_sees_writes_of_another_connection(tmp_path: Path) -> None:
    first = Store(tmp_path / "s.sqlite3")
    second = Store(tmp_path / "s.sqlite3")
    first.settings.set("focus.timeout", "15")
    assert second.settings.get("focus.timeout") == "15"
    first.settings.set("focus.timeout", "20")  # e.g. `pos-app config set` while the window runs
    import time

    from pos_app.core.store import settings as settings_module

    time.sleep(settings_module.RECHECK_SECONDS + 0.05)
    assert second.settings.get("focus.timeout") == "20"
    with pytest.raises(RuntimeError), second.transaction():
        second.settings.set("focus.timeout", "99")
        assert second.settings.get("focus.timeout") == "99"
        raise RuntimeError("rollback")
    assert second.settings.get("focus.timeout") == "20"
    first.close()
    second.close()
