"""A complete headless sale through the same service the window uses, against the sandbox."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.focus.nfce import NfceApi
from pos_app.core.services.emission import EmissionService

ARROZ = "7891102100377"  # demo catalog: ARROZ TIPO 1 CAMIL 5KG, R$ 27,90


def _sale(ctx: Any, *items: tuple[str, str], pay: list[tuple[str, str]], cpf: str | None = None) -> Sale:
    """Build a sale from (code, quantity) pairs and (forma, valor) payments; cards are Visa."""
    sale = Sale()
    for code, qty in items:
        product = ctx.store.products.lookup(code)
        assert product is not None, code
        sale.add_item(product, Decimal(qty))
    for forma, valor in pay:
        bandeira = "01" if forma in ("03", "04") else None
        sale.add_payment(Payment(forma=forma, valor=Decimal(valor), bandeira=bandeira))
    sale.cpf = cpf
    return sale


def pdf_text(path: str) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_online_sale_is_authorized_with_receipt(demo_ctx: Any) -> None:
    sale = _sale(demo_ctx, (ARROZ, "2"), ("1029", "0.750"), pay=[("01", "100.00")], cpf="52998224725")
    result = EmissionService(demo_ctx).checkout(sale)
    assert result.status == "autorizado" and not result.contingencia
    assert result.total == Decimal("61.04") and result.troco == Decimal("38.96")
    assert result.chave is not None and len(result.chave) == 44 and result.chave[20:22] == "65"
    assert result.ref == f"{demo_ctx.config.terminal_id}_{result.sale_id:08d}"
    text = pdf_text(result.danfce or "")
    assert "CPF 529.982.247-25" in text
    assert "HOMOLOGAÇÃO" in text
    assert " ".join(result.chave[i : i + 4] for i in range(0, 24, 4)) in text
    doc = demo_ctx.store.documents.get(result.document_id)
    assert doc["protocolo"] and doc["qrcode_url"].startswith("http://www.fazenda.pr.gov.br/nfce/qrcode")
    events = [e["to_status"] for e in demo_ctx.store.documents.events(result.document_id)]
    assert events == ["pendente", "enviando", "autorizado"]
    payload = json.loads(doc["payload"])
    assert payload["data_emissao"].endswith("-03:00")  # Curitiba's local time, with its offset
    assert payload["items"][1]["quantidade_comercial"] == "0.7500"


def test_sale_and_pending_note_are_committed_before_the_request(
    demo_ctx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    real_emit = NfceApi.emit

    def spy(self: NfceApi, ref: str, payload: dict[str, Any], **kw: Any) -> Any:
        # Read through a separate connection: only committed data is visible there.
        import sqlite3

        conn = sqlite3.connect(demo_ctx.data_dir / "pos.sqlite3")
        seen["sale"] = conn.execute("SELECT count(*) FROM sales").fetchone()[0]
        seen["doc"] = conn.execute("SELECT status FROM fiscal_documents WHERE ref = ?", [ref]).fetchone()
        conn.close()
        return real_emit(self, ref, payload, **kw)

    monkeypatch.setattr(NfceApi, "emit", spy)
    EmissionService(demo_ctx).checkout(_sale(demo_ctx, ("1001", "1"), pay=[("17", "27.90")]))
    assert seen == {"sale": 1, "doc": ("enviando",)}


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda ctx: _sale(ctx, ("1001", "1"), pay=[("01", "10.00")]), "pagamento"),
        (lambda ctx: _sale(ctx, ("1001", "1"), pay=[("01", "30.00")], cpf="11111111111"), "cpf"),
        (lambda ctx: Sale(), "itens"),
    ],
)
def test_bad_sale_is_refused_before_anything_is_stored_or_sent(demo_ctx: Any, build: Any, field: str) -> None:
    before = demo_ctx.sandbox.note  # noqa: F841 - the sandbox must not see any request
    with pytest.raises(ValidationError) as err:
        EmissionService(demo_ctx).checkout(build(demo_ctx))
    assert field in err.value.field or field in str(err.value).lower()
    assert demo_ctx.store.sales.count() == 0
    assert demo_ctx.store.documents.count_by_status() == {}


def test_sefaz_rejection_keeps_the_sale_and_can_be_resent_after_a_fix(demo_ctx: Any) -> None:
    # The company is registered as Simples Nacional at the API, but this terminal thinks it is
    # regime normal and a product carries a CST: SEFAZ answers 590.
    product = demo_ctx.store.products.lookup("1001")
    product.icms_situacao_tributaria = "40"
    demo_ctx.store.products.upsert_many([product])
    demo_ctx.store.tax_groups.assign("1001", None)  # no tax group: the product's own CST counts
    demo_ctx.config.set("emitente.regime", "normal")
    sale = _sale(demo_ctx, ("1001", "1"), pay=[("01", "27.90")])
    result = EmissionService(demo_ctx).checkout(sale)
    assert result.status == "erro_autorizacao" and not result.emitido
    assert result.status_sefaz == "590" and "Simples" in (result.mensagem_sefaz or "")
    assert "Rejeição da SEFAZ 590" in result.mensagem
    assert demo_ctx.store.sales.count() == 1
    # Fix the registration and the payload, then resend with the same ref.
    demo_ctx.config.set("emitente.regime", "simples")
    doc = demo_ctx.store.documents.get(result.document_id)
    payload = json.loads(doc["payload"])
    payload["items"][0]["icms_situacao_tributaria"] = "102"
    demo_ctx.store.documents.update(result.document_id, payload=json.dumps(payload))
    again = EmissionService(demo_ctx).emit(result.document_id)
    assert again.status == "autorizado" and again.ref == result.ref


def test_pos_app_core_never_imports_qt() -> None:
    code = (
        "import sys, pkgutil, importlib, pos_app.core as c\n"
        "for m in pkgutil.walk_packages(c.__path__, 'pos_app.core.'): importlib.import_module(m.name)\n"
        "import pos_app.sandbox.server\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pos_app.ui'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")), reason="pdftoppm/zbarimg ausentes"
)
def test_danfce_qr_code_reads_back(demo_ctx: Any, tmp_path: Path) -> None:
    result = EmissionService(demo_ctx).checkout(_sale(demo_ctx, (ARROZ, "1"), pay=[("04", "27.90")]))
    subprocess.run(["pdftoppm", "-r", "150", "-png", result.danfce or "", str(tmp_path / "p")], check=True)
    png = sorted(tmp_path.glob("p*.png"))[0]
    out = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True)
    doc = demo_ctx.store.documents.get(result.document_id)
    assert out.stdout.strip() == doc["qrcode_url"]
