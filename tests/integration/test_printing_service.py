"""PrintService on a real demo terminal (store + embedded sandbox): a printer failure never undoes a
sale, the receipt waits for reprint, reprints need a manager, cash opens the drawer, PDFs at 58/80 mm."""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from pos_app.core.printing.escpos import encode_text
from pos_app.core.services.emission import EmissionService, SaleResult
from pos_app.core.services.printing import MARK_SEGUNDA_VIA, PrintService

INIT = b"\x1b@"
CUT = b"\x1dVB\x00"
QR_PRINT = b"\x1d(k\x03\x001Q0"
MM = 72 / 25.4

needs_zbar = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None,
    reason="pdftoppm (poppler-utils) or zbarimg (zbar-tools) missing: PDF QR codes not read back",
)


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from pos_app.app import open_app

    monkeypatch.setenv("POS_DATA_DIR", str(tmp_path / "dados"))
    monkeypatch.setenv("POS_SECRETS", "arquivo")
    context = open_app(tmp_path / "dados")
    try:
        yield context
    finally:
        context.close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sell(
    ctx: Any, pay: list[str], items: tuple[str, ...] = ("1001", "1004*2"), cpf: str | None = None
) -> SaleResult:
    from pos_app.cli import build_sale_from_args

    args = argparse.Namespace(item=list(items), pay=pay, desconto=None, cpf=cpf, cnpj=None)
    return EmissionService(ctx).checkout(build_sale_from_args(ctx, args))


def use_file_printer(ctx: Any, path: Path) -> None:
    ctx.config.set("impressora.tipo", "arquivo")
    ctx.config.set("impressora.endereco", str(path))


def manager_and_cashier(ctx: Any) -> tuple[Any, Any]:
    users = ctx.store.users.all()
    return next(u for u in users if u.is_manager), next(u for u in users if not u.is_manager)


def test_offline_printer_keeps_the_sale_and_queues_the_receipt(ctx: Any, tmp_path: Path) -> None:
    ctx.config.set("impressora.tipo", "rede")
    ctx.config.set("impressora.endereco", f"127.0.0.1:{closed_port()}")
    result = sell(ctx, ["dinheiro:100"])
    assert result.status == "autorizado" and result.emitido
    service = PrintService(ctx)

    outcome = service.after_checkout(result)
    assert outcome is not None and not outcome.ok and outcome.queued
    assert "fila de reimpressão" in outcome.message and "gaveta" in outcome.message.lower()
    # the sale is complete: note authorized, PDF saved with the sale
    doc = ctx.store.documents.get(result.document_id)
    assert doc["status"] == "autorizado"
    assert result.danfce and Path(result.danfce).is_file()
    pending = service.pending()
    assert [(p.document_id, p.kind, p.attempts) for p in pending] == [(result.document_id, "original", 1)]
    assert "recusou a conexão" in (pending[0].last_error or "")
    status = service.status()
    assert not status.ok and status.pending == 1 and "aguardando reimpressão" in status.message

    # still offline: retry stops, the job stays
    again = service.retry_pending()
    assert again.printed == 0 and again.pending == 1 and not again.ok

    # the printer is back (here: a file printer): the queue drains
    out = tmp_path / "impressora.bin"
    use_file_printer(ctx, out)
    retry = service.retry_pending()
    assert retry.ok and retry.printed == 1 and retry.pending == 0
    data = out.read_bytes()
    assert data.startswith(INIT + b"\x1bt\x02") and data.endswith(CUT) and QR_PRINT in data
    assert b"\x1bp" not in data  # no drawer kick on a late reprint
    assert service.pending() == []
    assert service.status().ok


def test_second_copy_needs_a_manager_and_is_marked(ctx: Any, tmp_path: Path) -> None:
    out = tmp_path / "impressora.bin"
    use_file_printer(ctx, out)
    result = sell(ctx, ["pix:39,48"])
    service = PrintService(ctx)
    manager, cashier = manager_and_cashier(ctx)
    first = service.print_document(result.document_id, user_id=cashier.id)
    assert first.ok and not first.queued
    assert MARK_SEGUNDA_VIA.encode("cp850") not in out.read_bytes()

    refused = service.print_document(result.document_id, user_id=cashier.id)
    assert not refused.ok and "gerente" in refused.message
    assert not service.reprint(result.document_id, cashier.id).ok
    second = service.reprint(result.document_id, manager.id)
    assert second.ok, second.message
    data = out.read_bytes()
    assert encode_text(MARK_SEGUNDA_VIA) in data and encode_text(f"Autorizada por {manager.nome}") in data
    jobs = service.jobs.for_document(result.document_id)
    assert [(j["kind"], j["status"], j["authorized_by"]) for j in jobs] == [
        ("original", "impresso", None),
        ("segunda_via", "impresso", manager.id),
    ]


def test_cash_payment_kicks_the_drawer(ctx: Any, tmp_path: Path) -> None:
    out = tmp_path / "impressora.bin"
    use_file_printer(ctx, out)
    ctx.config.set("impressora.gaveta_pino", "5")
    service = PrintService(ctx)
    cash = sell(ctx, ["pix:10", "dinheiro:50"])
    assert service.after_checkout(cash).ok  # type: ignore[union-attr]
    assert out.read_bytes().count(b"\x1bp\x01\x32\x32") == 1
    pix = sell(ctx, ["pix:39,48"])
    assert service.after_checkout(pix).ok  # type: ignore[union-attr]
    assert b"\x1bp" not in out.read_bytes()
    assert service.open_drawer().ok
    assert out.read_bytes() == b"\x1bp\x01\x32\x32"


def test_contingency_sale_prints_two_copies_cut_apart(ctx: Any, tmp_path: Path) -> None:
    out = tmp_path / "impressora.bin"
    use_file_printer(ctx, out)
    ctx.config.set("impressora.codepage", "cp860")
    ctx.sandbox.faults.set("unreachable")
    result = sell(ctx, ["dinheiro:100"], cpf="12345678909")
    assert result.status == "contingencia_pendente"
    outcome = PrintService(ctx).after_checkout(result)
    assert outcome is not None and outcome.ok and "2 vias" in outcome.message
    data = out.read_bytes()
    assert data.count(INIT + b"\x1bt\x03") == 2 and data.count(CUT) == 2
    consumer, store_copy = data.split(CUT)[:2]
    assert encode_text("Via Consumidor", "cp860") in consumer
    assert encode_text("Via Estabelecimento", "cp860") in store_copy
    for copy in (consumer, store_copy):
        assert encode_text("EMITIDA EM CONTINGÊNCIA", "cp860") in copy
        assert encode_text("CPF 123.456.789-09", "cp860") in copy
        assert QR_PRINT in copy


def test_58mm_settings_drive_pdf_and_thermal_layout(ctx: Any, tmp_path: Path) -> None:
    out = tmp_path / "impressora.bin"
    use_file_printer(ctx, out)
    ctx.config.set("impressora.largura_mm", "58")
    result = sell(ctx, ["dinheiro:100"])
    page = PdfReader(result.danfce).pages[0]  # type: ignore[arg-type]
    assert float(page.mediabox.width) == pytest.approx(58 * MM, abs=0.01)
    assert PrintService(ctx).after_checkout(result).ok  # type: ignore[union-attr]
    data = out.read_bytes()
    assert b"\x1dv0\x00" in data and b"\x1d(k" not in data  # generic 58 mm: QR as a raster image
    assert b"-" * 32 + b"\n" in data and b"-" * 33 not in data


def test_pdf_only_prints_nothing_and_reprints_to_a_marked_pdf(ctx: Any) -> None:
    result = sell(ctx, ["dinheiro:100"])
    service = PrintService(ctx)
    assert service.after_checkout(result) is None  # default impressora.tipo = pdf
    outcome = service.print_document(result.document_id)
    assert outcome.ok and not outcome.queued and str(result.danfce) in outcome.message
    manager, cashier = manager_and_cashier(ctx)
    assert not service.reprint(result.document_id, cashier.id).ok
    second = service.reprint(result.document_id, manager.id)
    assert second.ok and "2via" in second.message
    path = Path(second.message.split(" em ", 1)[1])
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(path).pages).split())
    assert MARK_SEGUNDA_VIA in text
    assert service.test_page().ok and service.status().ok
    assert not service.open_drawer().ok
    assert service.pending() == []


def test_test_page_on_the_printer(ctx: Any, tmp_path: Path) -> None:
    out = tmp_path / "impressora.bin"
    use_file_printer(ctx, out)
    ctx.config.set("impressora.modelo", "daruma_dr800")
    outcome = PrintService(ctx).test_page()
    assert outcome.ok, outcome.message
    data = out.read_bytes()
    assert encode_text("TESTE DE IMPRESSÃO") in data and encode_text("Daruma DR800") in data
    assert b"\x1dv0\x00" in data  # Daruma profile: QR as an image


def test_documents_without_a_danfce_are_not_printed(ctx: Any) -> None:
    result = sell(ctx, ["dinheiro:100"])
    ctx.store.documents.transition(result.document_id, "cancelado", note="teste")
    outcome = PrintService(ctx).print_document(result.document_id)
    assert not outcome.ok and "cancelado" in outcome.message
    assert not PrintService(ctx).print_document(999_999).ok


@needs_zbar
@pytest.mark.parametrize("width", ["80", "58"])
def test_sale_pdf_qr_reads_back(ctx: Any, tmp_path: Path, width: str) -> None:
    ctx.config.set("impressora.largura_mm", width)
    result = sell(ctx, ["dinheiro:100"])
    doc = ctx.store.documents.get(result.document_id)
    prefix = tmp_path / f"danfce{width}"
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(result.danfce), str(prefix)], check=True)
    png = sorted(tmp_path.glob(f"danfce{width}*.png"))[0]
    decoded = (
        subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True).stdout.decode().strip()
    )
    assert decoded == doc["qrcode_url"]


def test_cli_sell_prints_and_reprints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pos_app import cli

    monkeypatch.setenv("POS_DATA_DIR", str(tmp_path / "dados"))
    monkeypatch.setenv("POS_SECRETS", "arquivo")
    out = tmp_path / "impressora.bin"
    parser = cli.build_parser()

    def run(*argv: str) -> int:
        args = parser.parse_args(list(argv))
        return cli.COMMANDS[args.command](args)

    assert run("config", "set", "impressora.tipo", "pdf") == 0
    capsys.readouterr()
    assert run("sell", "--item", "1001", "--pay", "dinheiro:50", "--json") == 0
    plain = json.loads(capsys.readouterr().out)
    assert "impressao" not in plain  # "PDF only": the JSON output is unchanged

    run("config", "set", "impressora.tipo", "arquivo")
    run("config", "set", "impressora.endereco", str(out))
    capsys.readouterr()
    assert run("sell", "--item", "1001", "--pay", "dinheiro:50", "--json") == 0
    sold = json.loads(capsys.readouterr().out)
    assert sold["status"] == "autorizado" and sold["impressao"]["ok"] is True
    assert out.read_bytes().startswith(INIT)

    with pytest.raises(cli.CliError, match="PIN incorreto"):
        run("imprimir", "reimprimir", sold["ref"], "--pin", "0000")  # wrong manager PIN
    capsys.readouterr()
    assert run("imprimir", "reimprimir", sold["ref"], "--pin", "9999", "--json") == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert encode_text(MARK_SEGUNDA_VIA) in out.read_bytes()
    assert run("imprimir", "pendentes", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"pendentes": []}
    assert run("gaveta") == 0
    assert run("imprimir", "teste") == 0
    assert run("imprimir", "status") == 0
