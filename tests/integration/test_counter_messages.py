"""Counter messages and formats: cashier PIN on `cancel`, cancel by NFC-e number, the recent-notes list,
Brazilian formats, "Inscrição estadual inválida", and the no-display exit of `pos-app`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pos_app.cli import main
from pos_app.core.domain.br_format import count_items, format_document, format_local_datetime
from pos_app.ui.display_check import EXIT_NO_DISPLAY, display_problem

JUST = "Cliente desistiu da compra ainda no caixa"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cancel_with_a_cashiers_pin_says_not_a_manager(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "sell", "--item", "1021", "--pay", "dinheiro:10", "--json")
    ref = json.loads(out)["ref"]
    code, _out, err = run(capsys, "cancel", ref, "--justificativa", JUST, "--pin", "1111")  # Ana, cashier
    assert code == 2 and "não é gerente" in err and "PIN incorreto" not in err
    code, _out, err = run(capsys, "cancel", ref, "--justificativa", JUST, "--pin", "4321")  # nobody's PIN
    assert code == 2 and "PIN" in err and "não é gerente" not in err


def test_cancel_by_nfce_number_and_recent_list(demo_ctx: object) -> None:
    from decimal import Decimal

    from pos_app.core.domain.payments import Payment
    from pos_app.core.domain.sale import Sale
    from pos_app.core.services.cancellation import CancellationService
    from pos_app.core.services.emission import EmissionService

    ctx = demo_ctx
    results = []
    for code in ("1021", "1022"):
        sale = Sale()
        sale.add_item(ctx.store.products.lookup(code), Decimal(1))  # type: ignore[attr-defined]
        sale.add_payment(Payment("01", Decimal("10.00")))
        results.append(EmissionService(ctx).checkout(sale))  # type: ignore[arg-type]
    service = CancellationService(ctx)  # type: ignore[arg-type]
    first, last = results
    assert service.resolve(str(first.numero))["ref"] == first.ref
    assert service.resolve(f"nº {last.numero}")["ref"] == last.ref
    assert service.resolve(f"{last.serie}/{last.numero}")["ref"] == last.ref
    recent = service.recent()
    assert [d["ref"] for d in recent] == [last.ref, first.ref]  # newest first: the last one is offered first
    assert recent[0]["restante"] > timedelta(minutes=29) and recent[0]["valor_total"]
    later = ctx.now() + timedelta(minutes=31)  # type: ignore[attr-defined]
    assert service.recent(later) == []  # out of the 30-minute window: not offered


def test_brazilian_formats() -> None:
    sp = timezone(timedelta(hours=-3))
    assert format_local_datetime("2026-12-02T17:05:00+00:00", sp) == "02/12/2026 14:05"
    assert (
        format_local_datetime(datetime(2026, 12, 2, 17, 5, tzinfo=UTC), datetime.now(sp))
        == "02/12/2026 14:05"
    )
    assert format_local_datetime(None, sp) == "—"
    assert format_document("12345678909") == "123.456.789-09"
    assert format_document("11222333000181") == "11.222.333/0001-81"
    assert format_document("12ABC34501DE35") == "12.ABC.345/01DE-35"  # alphanumeric CNPJ (July 2026)
    assert format_document("529.982.247-25") == "529.982.247-25"
    assert (count_items(1), count_items(2), count_items(0)) == ("1 item", "2 itens", "0 itens")


def test_state_registration_message_is_feminine(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "config", "set", "emitente.inscricao_estadual", "1")
    assert code == 2 and "Inscrição estadual inválida" in err


def test_display_detection() -> None:
    assert display_problem({}, "linux") is not None
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "win32") is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display servers are a Linux matter")
def test_pos_app_without_display_points_to_the_cli(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["POS_DATA_DIR"] = str(tmp_path / "dados")
    done = subprocess.run(
        [sys.executable, "-m", "pos_app"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == EXIT_NO_DISPLAY, done.stderr
    assert (
        "Não há tela gráfica" in done.stderr
        and "pos-app --help" in done.stderr
        and "pos-app sell" in done.stderr
    )
    assert "xcb" not in done.stderr
