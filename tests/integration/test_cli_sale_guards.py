"""`pos-app sell` obeys the core's typo guards: refused with exit 2 unless --confirmar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pos_app.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out)


def stored_sales(data_dir: Path) -> int:
    from pos_app.core.store import Store

    store = Store(data_dir / "pos.sqlite3")
    try:
        return store.sales.count()
    finally:
        store.close()


def test_large_change_refused_then_confirmed(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run(capsys, "sell", "--item", "1001", "--pay", "dinheiro:1000", "--json")
    assert code == 2 and data["campo"] == "troco_alto", data
    assert "R$ 972,10" in data["erro"] and "--confirmar" in data["erro"]
    assert stored_sales(data_dir) == 0
    code, data = run(capsys, "sell", "--item", "1001", "--pay", "dinheiro:1000", "--confirmar", "--json")
    assert code == 0 and data["troco"] == "972.10", data


def test_fraction_of_unit_product_refused_even_confirmed(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = run(capsys, "sell", "--item", "1021*0,5", "--pay", "dinheiro:10", "--confirmar", "--json")
    assert code == 2 and "fracionada" in data["erro"] and data["campo"] == "quantidade_fracionada", data
    code, data = run(capsys, "sell", "--item", "1029*0,75", "--pay", "dinheiro:50", "--json")  # banana, KG
    assert code == 0, data


def test_huge_quantity_needs_confirmation(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run(capsys, "sell", "--item", "1001*100000", "--pay", "dinheiro:2790000", "--json")
    assert code == 2 and data["campo"] == "quantidade_alta", data
    assert "100000" in data["erro"] and "R$ 2.790.000,00" in data["erro"]  # the total is named too
    assert stored_sales(data_dir) == 0


def test_limits_are_settings(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "set", "venda.troco_maximo", "0"]) == 0
    capsys.readouterr()
    code, data = run(capsys, "sell", "--item", "1001", "--pay", "dinheiro:1000", "--json")
    assert code == 0, data  # 0 turns the change guard off
    assert main(["config", "set", "venda.total_maximo", "abc"]) == 2
