"""Fuzzing the catalog CSV import: random lines, encodings and bytes.

Every outcome is one of: rows imported (valid ones) and rows rejected with a Portuguese reason, or
the whole file refused (SetupError) with the catalog untouched. Never a crash, never an invalid
product in the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_app.core.services.catalog_import import REQUIRED_CSV_COLUMNS, import_catalog_file
from pos_app.core.services.context import SetupError
from pos_app.core.store import Store

HEADER = [*REQUIRED_CSV_COLUMNS, "tributos_percentual"]
EANS = ["7891102100377", "7891245100746", "7891000100103", "1234567890123", "", "abc", "7891102101114"]
CODES = ["1001", "1002", "2001", "X-9", "", " ", "1" * 61]
PRICES = ["27.90", "8,49", "0", "-1", "NaN", "1e999999", "Infinity", "abc", "", "1.234,56", "0.00000000001"]


def _valid_row(code: str, ean: str, price: str) -> list[str]:
    return [code, ean, "PRODUTO DE TESTE", "10063021", "5102", "UN", price, "0", "102", "13,45"]


ROW = st.one_of(
    st.builds(_valid_row, st.sampled_from(CODES), st.sampled_from(EANS), st.sampled_from(PRICES)),
    st.lists(st.text(max_size=12), min_size=0, max_size=14),
    st.lists(
        st.sampled_from(
            ["5102", "6102", "10063021", "123", "UN", "KGXXXXX", "0", "9", "102", "00", '"', "\n"]
        ),
        min_size=9,
        max_size=11,
    ),
)


def _csv_bytes(rows: list[list[str]], sep: str, encoding: str, header: list[str]) -> bytes:
    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if (sep in v or '"' in v or "\n" in v) else v

    lines = [sep.join(header)] + [sep.join(cell(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding, errors="replace")


FILES = st.one_of(
    st.builds(
        _csv_bytes,
        st.lists(ROW, max_size=8),
        st.sampled_from([",", ";"]),
        st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
        st.one_of(st.just(HEADER), st.permutations(HEADER), st.lists(st.sampled_from(HEADER), max_size=10)),
    ),
    st.binary(max_size=400),
    st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"",
            b"\x00" * 10,
            b"codigo\x00,ean\n",
            b"\xff\xfe" + "c,o".encode("utf-16-le"),
            (",".join(HEADER) + "\n" + "x" * 200_000 + "\n").encode(),
        ]
    ),
)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder: Path = tmp_path_factory.mktemp("csv-fuzz")
    store = Store(folder / "pos.sqlite3")
    # An inactive product still owns its EAN (the index is unique over every row).
    store.database.execute(
        "INSERT INTO products (codigo, ean, descricao, ncm, cfop, unidade, preco, icms_origem, "
        "icms_situacao_tributaria, ativo) VALUES ('9999', '7891000100103', 'INATIVO', '10063021', '5102', 'UN', "
        "'1.00', '0', '102', 0)"
    )
    yield SimpleNamespace(store=store, folder=folder)
    store.close()


def _snapshot(store: Store) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in store.database.query("SELECT * FROM products ORDER BY id")]


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=FILES)
def test_random_csv_is_imported_row_by_row_or_refused_whole(ctx: Any, content: bytes) -> None:
    path = ctx.folder / "catalogo.csv"
    path.write_bytes(content)
    before = _snapshot(ctx.store)
    try:
        count, rejected = import_catalog_file(ctx, path)
    except SetupError as exc:
        assert str(exc).strip()
        assert _snapshot(ctx.store) == before  # refused whole: nothing written
        return
    assert count >= 0
    assert all(isinstance(n, int) and n >= 2 and reason.strip() for n, reason in rejected)
    products = ctx.store.products.all()
    for product in products:
        product.validate()  # only valid products ever reach the catalog
    owners = ctx.store.database.query(
        "SELECT ean, count(*) AS n FROM products WHERE ean IS NOT NULL GROUP BY ean"
    )
    assert all(r["n"] == 1 for r in owners)
    assert ctx.store.database.conn.in_transaction is False


def test_excel_csv_in_windows_1252_with_semicolons_is_read(ctx: Any) -> None:
    path = ctx.folder / "excel.csv"
    row = _valid_row("3001", "", "4,99")
    row[2] = "FEIJÃO PRETO"
    path.write_bytes(_csv_bytes([row], ";", "cp1252", HEADER))
    count, rejected = import_catalog_file(ctx, path)
    assert (count, rejected) == (1, [])
    product = ctx.store.products.lookup("3001")
    assert product is not None and product.descricao == "FEIJÃO PRETO"


def test_unique_index_conflict_never_escapes(ctx: Any) -> None:
    path = ctx.folder / "inativo.csv"
    path.write_bytes(_csv_bytes([_valid_row("3002", "7891000100103", "2.00")], ",", "utf-8", HEADER))
    try:
        count, rejected = import_catalog_file(ctx, path)
    except sqlite3.Error as exc:  # pragma: no cover - the bug this guards against
        pytest.fail(f"erro do banco escapou: {exc}")
    assert count == 0 and "7891000100103" in rejected[0][1]
