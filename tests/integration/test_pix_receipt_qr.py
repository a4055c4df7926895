"""The PIX QR on the receipt when the store asks for it (``pix.qr_no_cupom``): PDF, ESC/POS, read back."""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from pos_app.core.domain.sale import Sale
from pos_app.core.pix.brcode import crc16, decode
from pos_app.core.pix.service import pix_service
from pos_app.core.printing.escpos import PROFILES, qr_raster, render_receipts
from pos_app.core.printing.receipt import QRCode, build_layout, render_text
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.receipts import ReceiptService
from pos_app.demo.pix import demo_psp

ARROZ = "7891102100377"  # R$ 27,90

needs_tools = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")), reason="pdftoppm/zbarimg ausentes"
)


@pytest.fixture(autouse=True)
def _no_auto_pay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POS_PIX_DEMO_PAGAR_APOS", "nunca")


def _caixa(ctx: Any) -> Any:
    return next(u for u in ctx.store.users.all() if u.papel == "caixa")


def _pix_sale(ctx: Any, *, static: Decimal | None = None) -> tuple[Any, Any]:
    """A sale paid by dynamic PIX (R$ 20,00) plus, optionally, a static PIX for the rest."""
    psp = demo_psp(ctx)
    svc = pix_service(ctx)
    charge = svc.create(Decimal("20.00") if static else Decimal("27.90"))
    psp.pay(charge.txid)
    charge = svc.refresh(charge.id)
    sale = Sale()
    sale.add_item(ctx.store.products.lookup(ARROZ), Decimal("1"))
    sale.add_payment(svc.payment_for(charge))
    if static:
        sale.add_payment(svc.record_static(static, _caixa(ctx)))
    result = EmissionService(ctx).checkout(sale, operador_id=_caixa(ctx).id)
    assert result.status == "autorizado" and result.danfce
    svc.link_sale(charge.id, result.sale_id)
    return charge, result


def _read_qrs(pdf: str | Path, png_base: Path) -> list[str]:
    subprocess.run(["pdftoppm", "-r", "300", "-png", "-singlefile", str(pdf), str(png_base)], check=True)
    out = subprocess.run(
        ["zbarimg", "--raw", "-q", "-Sqrcode.enable", f"{png_base}.png"], capture_output=True, text=True
    ).stdout
    return out.splitlines()


def _height_mm(pdf: str | Path) -> float:
    return float(PdfReader(str(pdf)).pages[0].mediabox.height) * 25.4 / 72


@needs_tools
def test_dynamic_pix_qr_printed_on_the_danfce_and_read_back(demo_ctx: Any, tmp_path: Path) -> None:
    demo_ctx.config.set("pix.qr_no_cupom", "sim")
    charge, result = _pix_sale(demo_ctx)
    pdf = Path(result.danfce)
    text = "\n".join(p.extract_text() for p in PdfReader(str(pdf)).pages)
    assert "Pagamento PIX R$ 27,90 - E2E" in text and charge.e2eid in text
    codes = _read_qrs(pdf, tmp_path / "com-pix")
    shutil.copy(tmp_path / "com-pix.png", pdf.with_name("danfce-com-pix.png"))
    pix_codes = [c for c in codes if c.startswith("000201")]
    nfce_codes = [c for c in codes if not c.startswith("000201")]
    assert pix_codes == [charge.copia_e_cola]  # exactly the charge's pixCopiaECola
    assert crc16(pix_codes[0][:-4]) == pix_codes[0][-4:] and decode(pix_codes[0]).dinamico
    doc = demo_ctx.store.documents.get(result.document_id)
    assert nfce_codes == [doc["qrcode_url"]]  # the NFC-e QR still reads, unchanged
    with_qr = _height_mm(pdf)

    demo_ctx.config.set("pix.qr_no_cupom", "nao")  # the default: the same note without the PIX QR
    plain = ReceiptService(demo_ctx).render_for_document(result.document_id)
    assert _read_qrs(plain, tmp_path / "sem-pix") == [doc["qrcode_url"]]
    plain_text = "\n".join(p.extract_text() for p in PdfReader(str(plain)).pages)
    assert f"ID PIX (E2E): {charge.e2eid}" in plain_text and "Pagamento PIX R$" not in plain_text
    without_qr = _height_mm(plain)
    assert 25 < with_qr - without_qr < 60, (with_qr, without_qr)  # one QR (~3.5-4.5 cm) and its caption


@needs_tools
def test_static_and_dynamic_pix_of_one_sale_each_get_their_qr(demo_ctx: Any, tmp_path: Path) -> None:
    demo_ctx.config.set("pix.qr_no_cupom", "sim")
    charge, result = _pix_sale(demo_ctx, static=Decimal("7.90"))
    codes = [c for c in _read_qrs(result.danfce, tmp_path / "dois") if c.startswith("000201")]
    assert len(codes) == 2 and charge.copia_e_cola in codes
    static = decode(next(c for c in codes if c != charge.copia_e_cola))
    assert not static.dinamico and static.valor == Decimal("7.90")
    assert static.chave == pix_service(demo_ctx).chave()

    # the store changes its key later: a reprint still shows the QR the customer paid, not the new key
    old_key = static.chave
    demo_ctx.config.set("pix.chave", "financeiro@mercadinho.example")
    reprint = ReceiptService(demo_ctx).render_for_document(result.document_id)
    again = [c for c in _read_qrs(reprint, tmp_path / "reimpressao") if c.startswith("000201")]
    kept = decode(next(c for c in again if c != charge.copia_e_cola))
    assert kept.chave == old_key != "financeiro@mercadinho.example" and kept.valor == Decimal("7.90")
    stored = demo_ctx.store.database.query(
        "SELECT forma, pix_brcode FROM payments WHERE sale_id = ?", [result.sale_id]
    )
    assert [r["forma"] for r in stored if r["pix_brcode"]] == ["20"]  # kept for the static one only


def test_escpos_output_carries_the_pix_qr(demo_ctx: Any) -> None:
    demo_ctx.config.set("pix.qr_no_cupom", "sim")
    charge, result = _pix_sale(demo_ctx)
    copies = ReceiptService(demo_ctx).copies_for_document(result.document_id)
    brcode = charge.copia_e_cola.encode()
    native = render_receipts(copies, PROFILES["epson_tm_t20"])
    # GS ( k fn 80 (store the data) carries the BR Code byte for byte, after the NFC-e's own QR
    assert b"\x1d(k" + (len(brcode) + 3).to_bytes(2, "little") + b"1P0" + brcode in native
    assert len(re.findall(rb"\x1d\(k..1P0", native, re.S)) == 2  # NFC-e QR + PIX QR
    daruma = PROFILES["daruma_dr800"]
    raster = render_receipts(copies, daruma)
    assert qr_raster(charge.copia_e_cola, "M", daruma.dots_for(48)) in raster
    layout = build_layout(copies[0], 48)
    qrs = [b.data for b in layout if isinstance(b, QRCode)]
    assert qrs[0] == charge.copia_e_cola and len(qrs) == 2
    assert f"E2E {charge.e2eid}" in " ".join(render_text(layout, 48).split())
    demo_ctx.config.set("pix.qr_no_cupom", "nao")
    copies = ReceiptService(demo_ctx).copies_for_document(result.document_id)
    assert brcode not in render_receipts(copies, PROFILES["epson_tm_t20"])
