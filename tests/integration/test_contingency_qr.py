"""The printed contingency receipt: its QR code v3 offline read back from the picture and its
RSA-SHA1 signature verified with the company's certificate; without a certificate, a clear notice."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from contingency_kit import make_sale
from pypdf import PdfReader

from pos_app.core.fiscal.certificate import load_a1
from pos_app.core.fiscal.qrcode import parse_qr_p, verify_qr_v3_offline
from pos_app.core.services.doctor import run_doctor
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.replay import ReplayService
from pos_app.sandbox import DEMO_TOKEN, SandboxServer

needs_tools = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")), reason="pdftoppm/zbarimg ausentes"
)


def read_qr_codes(pdf: str, folder: Path) -> list[str]:
    """Rasterize every page (like a printed receipt) and decode every QR code in the pictures."""
    subprocess.run(["pdftoppm", "-r", "200", "-png", pdf, str(folder / "via")], check=True, timeout=60)
    found = []
    for png in sorted(folder.glob("via*.png")):
        out = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, timeout=60)
        found += [line for line in out.stdout.splitlines() if line.strip()]
    return found


@needs_tools
def test_contingency_qr_code_reads_back_from_the_picture_and_its_signature_verifies(
    term: Any, api: SandboxServer, tmp_path: Path
) -> None:
    api.faults.set("unreachable")
    result = EmissionService(term).checkout(make_sale(term, "1001", "1002", cpf="52998224725"))
    assert result.contingencia and result.danfce
    doc = term.store.documents.get(result.document_id)
    urls = read_qr_codes(result.danfce, tmp_path)
    assert urls == [doc["qrcode_url"], doc["qrcode_url"]]  # both copies carry the same signed QR code

    fields = parse_qr_p(urls[0])
    assert fields[0] == doc["chave"] and fields[1:3] == ["3", "2"]
    assert fields[3] == doc["data_emissao"][8:10] and fields[4] == f"{result.total:.2f}"
    assert fields[5:7] == ["2", "52998224725"]  # consumer identified by CPF
    cert = load_a1(term.config.get("certificado.arquivo") or "", term.config.get("certificado.senha"))
    assert verify_qr_v3_offline(urls[0], cert.public_key)
    forged = urls[0].replace(f"|{fields[4]}|", "|1.00|")
    assert not verify_qr_v3_offline(forged, cert.public_key)

    # Once authorized, reprints use the QR code Focus returns for the note (same key); the signed v3
    # QR printed offline is kept beside it.
    api.faults.clear()
    assert ReplayService(term).run_once().transmitidas == [result.ref]
    authorized = term.store.documents.get(result.document_id)
    assert authorized["qrcode_url_offline"] == urls[0]
    assert authorized["qrcode_url"] == api.engine.note_body(DEMO_TOKEN, result.ref)["qrcode_url"]
    assert parse_qr_p(authorized["qrcode_url"])[0] == doc["chave"]


def test_without_certificate_the_receipt_says_so_and_nothing_breaks(term: Any, api: SandboxServer) -> None:
    term.config.unset("certificado.arquivo")
    api.faults.set("unreachable")
    result = EmissionService(term).checkout(make_sale(term))
    assert result.contingencia and result.emitido and result.danfce
    doc = term.store.documents.get(result.document_id)
    assert doc["qrcode_url"] is None
    text = "\n".join(p.extract_text() for p in PdfReader(result.danfce).pages)
    assert text.count("QR Code indisponível em contingência") == 2
    assert "EMITIDA EM CONTINGÊNCIA" in text
    cert_check = next(c for c in run_doctor(term) if c.nome == "Certificado A1")
    assert cert_check.nivel == "aviso" and "não configurado" in cert_check.mensagem
    assert "QR Code" in cert_check.mensagem
    api.faults.clear()
    assert ReplayService(term).run_once().transmitidas == [result.ref]  # the note itself is fine


def test_wrong_certificate_password_is_a_warning_not_a_crash(term: Any, api: SandboxServer) -> None:
    term.config.set("certificado.senha", "senha-errada")
    api.faults.set("unreachable")
    result = EmissionService(term).checkout(make_sale(term))
    assert result.contingencia and result.danfce
    assert term.store.documents.get(result.document_id)["qrcode_url"] is None
    assert next(c for c in run_doctor(term) if c.nome == "Certificado A1").nivel == "aviso"
