"""DANFCe PDF on a thermal roll: page size, text (accents), QR code readable back, speed."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from pos_app.core.printing.pdf import font_names, render_pdf, render_pdf_bytes
from pos_app.core.printing.receipt import ReceiptData
from pos_app.core.printing.sample import sample_receipt

MM = 72 / 25.4
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "printing"
HOMOLOGACAO = "EMITIDA EM AMBIENTE DE HOMOLOGAÇÃO - SEM VALOR FISCAL"
MOTIVO = "QR Code indisponível em contingência: certificado digital não configurado"

needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing"
)
needs_zbar = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None,
    reason="pdftoppm (poppler-utils) or zbarimg (zbar-tools) missing",
)


def squash(text: str) -> str:
    return " ".join(text.split())


def two_copies(consumidor_doc: str | None = None, desconto_item: Decimal = Decimal("0")) -> list[ReceiptData]:
    consumer = sample_receipt(
        contingencia=True, via="Via Consumidor", consumidor_doc=consumidor_doc, desconto_item=desconto_item
    )
    return [consumer, dataclasses.replace(consumer, via="Via Estabelecimento")]


def pdftotext_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "danfce.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    return [squash(page) for page in out.split("\f") if page.strip()]


def pypdf_pages(pdf: bytes) -> list[str]:
    return [squash(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def decode_qr(pdf_path: Path, dpi: int, prefix: Path) -> list[str]:
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf_path), str(prefix)], check=True)
    pngs = sorted(prefix.parent.glob(f"{prefix.name}-*.png"))
    assert pngs, "pdftoppm produced no image"
    results = []
    for png in pngs:
        proc = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True)
        results.append(proc.stdout.decode("utf-8").strip())  # stderr may carry dbus noise
    return results


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("width_mm", [80, 58])
def test_page_width_is_the_roll_and_height_fits_the_content(width_mm: int) -> None:
    short = PdfReader(io.BytesIO(render_pdf_bytes([sample_receipt(n_items=1)], width_mm))).pages[0]
    long = PdfReader(io.BytesIO(render_pdf_bytes([sample_receipt(n_items=30)], width_mm))).pages[0]
    assert float(short.mediabox.width) == pytest.approx(width_mm * MM, abs=0.01)
    assert float(long.mediabox.width) == pytest.approx(width_mm * MM, abs=0.01)
    assert float(short.mediabox.height) > float(short.mediabox.width)
    # every extra item adds at least one line (>= 3 mm)
    assert float(long.mediabox.height) - float(short.mediabox.height) > 29 * 3 * MM


def test_one_page_per_copy() -> None:
    reader = PdfReader(io.BytesIO(render_pdf_bytes(two_copies())))
    assert len(reader.pages) == 2


def test_font_is_embedded_dejavu() -> None:
    assert font_names() == ("DANFCeMono", "DANFCeMono-Bold")
    pdf = render_pdf_bytes([sample_receipt()])
    assert b"/FontFile2" in pdf  # TrueType subset embedded: same glyphs on every machine


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="80 ou 58"):
        render_pdf_bytes([sample_receipt()], width_mm=76)
    with pytest.raises(ValueError, match="Nenhuma via"):
        render_pdf_bytes([])


def test_render_pdf_writes_the_file(tmp_path: Path) -> None:
    target = tmp_path / "nfce-123.pdf"
    result = render_pdf([sample_receipt()], target, 58)
    assert result == target
    assert target.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in tmp_path.iterdir()] == ["nfce-123.pdf"]  # no temporary file left behind


# --------------------------------------------------------------------------- text read back


@needs_pdftotext
@pytest.mark.parametrize("width_mm", [80, 58])
def test_contingency_two_copies_text(width_mm: int, tmp_path: Path) -> None:
    copies = two_copies(consumidor_doc="CPF 123.456.789-09")
    chave = copies[0].chave
    assert chave is not None
    pages = pdftotext_pages(render_pdf_bytes(copies, width_mm), tmp_path)
    assert len(pages) == 2
    for page, via, other in zip(
        pages,
        ("Via Consumidor", "Via Estabelecimento"),
        ("Via Estabelecimento", "Via Consumidor"),
        strict=True,
    ):
        assert "EMITIDA EM CONTINGÊNCIA" in page
        assert "Pendente de autorização" in page
        assert HOMOLOGACAO in page
        assert page.count(via) == 2 and other not in page
        assert "CONSUMIDOR - CPF 123.456.789-09" in page
        assert "NÃO IDENTIFICADO" not in page
        assert "NFC-e nº 000000057 Série 900 14/03/2025 18:42:07" in page
        assert "Documento Auxiliar da Nota Fiscal de Consumidor Eletrônica" in page
        assert "Não permite aproveitamento de crédito de ICMS" in page
        assert "Consulte pela Chave de Acesso em" in page
        groups = [chave[i : i + 4] for i in range(0, 44, 4)]
        assert " ".join(groups[:6]) in page and " ".join(groups[6:]) in page
        assert "Tributos Totais Incidentes (Lei Federal 12.741/2012): R$ 46,42" in page
        assert "FEIJÃO CARIOCA" in page and "PÃO FRANCÊS" in page
        assert "Valor a pagar R$ 216,59" in page


@needs_pdftotext
def test_unidentified_consumer_and_authorized_note_text(tmp_path: Path) -> None:
    [page] = pdftotext_pages(render_pdf_bytes([sample_receipt(homologacao=False)]), tmp_path)
    assert "CONSUMIDOR NÃO IDENTIFICADO" in page
    assert "Protocolo de autorização: 141250000660360" in page
    assert "Data de autorização: 14/03/2025 18:42:09" in page
    for absent in ("CONTINGÊNCIA", "HOMOLOGAÇÃO", "Pendente", "Via "):
        assert absent not in page


@needs_pdftotext
@pytest.mark.parametrize("width_mm", [80, 58])
def test_missing_qr_prints_the_reason(width_mm: int, tmp_path: Path) -> None:
    data = sample_receipt(contingencia=True, with_qrcode=False)
    [page] = pdftotext_pages(render_pdf_bytes([data], width_mm), tmp_path)
    assert MOTIVO in page


def test_text_extractable_with_pypdf() -> None:
    pages = pypdf_pages(render_pdf_bytes(two_copies(), 58))
    assert "EMITIDA EM CONTINGÊNCIA" in pages[0]
    assert "CONSUMIDOR NÃO IDENTIFICADO" in pages[0]
    assert "Série 900" in pages[1] and "Via Estabelecimento" in pages[1]


# --------------------------------------------------------------------------- QR code


@needs_zbar
@pytest.mark.parametrize("width_mm", [80, 58])
@pytest.mark.parametrize("contingencia", [False, True], ids=["online-v3", "offline-v3-signed"])
def test_qr_code_decodes_back_to_the_url(width_mm: int, contingencia: bool, tmp_path: Path) -> None:
    data = sample_receipt(contingencia=contingencia, via="Via Consumidor" if contingencia else None)
    assert data.qrcode_url
    path = render_pdf([data], tmp_path / "danfce.pdf", width_mm)
    for dpi in (150, 200):
        assert decode_qr(path, dpi, tmp_path / f"page{dpi}") == [data.qrcode_url], dpi


@needs_zbar
def test_both_copies_carry_a_readable_qr_and_save_artifacts(tmp_path: Path) -> None:
    """Also leaves PNGs in test-artifacts/printing/ for a human look."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width_mm in (80, 58):
        copies = two_copies(consumidor_doc="CPF 123.456.789-09", desconto_item=Decimal("1.50"))
        path = render_pdf(copies, ARTIFACTS / f"danfce-contingencia-{width_mm}mm.pdf", width_mm)
        decoded = decode_qr(path, 200, ARTIFACTS / f"danfce-contingencia-{width_mm}mm")
        assert decoded == [copies[0].qrcode_url, copies[1].qrcode_url]


# --------------------------------------------------------------------------- speed


def test_rendering_a_typical_receipt_is_fast() -> None:
    data = sample_receipt(n_items=10, homologacao=False)
    assert data.qrcode_url
    render_pdf_bytes([data])  # fonts are registered once, at first use
    timings = []
    for i in range(7):
        fresh = dataclasses.replace(data, numero=data.numero + i, qrcode_url=f"{data.qrcode_url}&n={i}")
        start = time.perf_counter()  # a new QR code each time: nothing cached but the fonts
        render_pdf_bytes([fresh])
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.060, f"best of 7: {min(timings) * 1000:.1f} ms"
