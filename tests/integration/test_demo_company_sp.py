"""The second demo company: regime normal in São Paulo (capital, IBGE 3550308) with an alphanumeric
CNPJ. Offline there gives a contingency note whose key has letters, whose QR v3 signature verifies
(read back from the receipt PDF when poppler/zbar are installed) and which replays to authorized."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pos_app.app import open_app
from pos_app.cli import main
from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.domain.validators import is_valid_cnpj
from pos_app.core.fiscal.certificate import load_a1
from pos_app.core.fiscal.chave import parse_chave
from pos_app.core.fiscal.qrcode import verify_qr_v3_offline
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.replay import ReplayService
from pos_app.demo import company as demo_company
from pos_app.sandbox import DEMO_COMPANY_SP

ALNUM = "A1B2C3D4000193"


@pytest.fixture
def sp_ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv(demo_company.ENV_VAR, "sp")
    ctx = open_app(tmp_path / "pos-data", sandbox_rate_limit=None)
    try:
        yield ctx
    finally:
        ctx.close()


def _offline_sale(ctx: Any) -> Any:
    ctx.sandbox.faults.set("unreachable")
    sale = Sale()
    for code, qty in (("1030", "2"), ("1016", "1"), ("2001", "1.250")):
        product = ctx.store.products.lookup(code)
        assert product is not None, code
        sale.add_item(product, Decimal(qty))
    sale.add_payment(Payment("20", Decimal("10.00")))  # PIX estático
    sale.add_payment(Payment("01", sale.valor_total))
    result = EmissionService(ctx).checkout(sale)
    ctx.sandbox.faults.clear()
    return result


def test_the_sp_demo_company_is_regime_normal_with_an_alphanumeric_cnpj(sp_ctx: Any) -> None:
    assert DEMO_COMPANY_SP.cnpj == ALNUM and is_valid_cnpj("A1.B2C.3D4/0001-93")
    emitente = sp_ctx.emitente()
    assert (emitente.cnpj, emitente.uf, emitente.codigo_municipio, emitente.regime, emitente.crt) == (
        ALNUM,
        "SP",
        "3550308",
        "normal",
        "3",
    )
    cert = load_a1(sp_ctx.config.get("certificado.arquivo"), sp_ctx.config.get("certificado.senha"))
    assert cert.cnpj == ALNUM
    rows = sp_ctx.store.database.query(
        "SELECT icms_situacao_tributaria AS cst, cfop, grupo_tributario FROM products WHERE ativo = 1"
    )
    # Regime normal with the demo tax groups (merge with issue 12's tax groups): CST 00/20 items too,
    # and every item in a group that carries IBS/CBS (SEFAZ rule 1115 for a regime-normal emitter).
    assert len(rows) == 16 and {r["cst"] for r in rows} == {"00", "20", "40", "60"}
    groups = {g.nome: g for g in sp_ctx.store.tax_groups.all()}
    assert all(groups[r["grupo_tributario"]].ibs_cbs_situacao_tributaria for r in rows)
    assert all(r["cfop"] == "5405" for r in rows if r["cst"] == "60")  # ST: CFOP 5405
    for code in ("1016", "1030", "2001"):
        sp_ctx.store.products.lookup(code).validate("normal")  # regime-normal CSTs
    assert sp_ctx.store.products.lookup("1001") is None  # Simples items are not on this shelf


def test_offline_note_has_letters_in_its_key_signed_qr_and_replays(sp_ctx: Any, tmp_path: Path) -> None:
    result = _offline_sale(sp_ctx)
    assert result.contingencia and result.emitido, result.mensagem
    doc = sp_ctx.store.documents.get(result.document_id)
    parts = parse_chave(doc["chave"])
    assert parts.cnpj == ALNUM and parts.tp_emis == 9 and parts.uf == "SP" and parts.serie == 600
    assert any(c.isalpha() for c in doc["chave"])
    cert = load_a1(sp_ctx.config.get("certificado.arquivo"), sp_ctx.config.get("certificado.senha"))
    assert verify_qr_v3_offline(doc["qrcode_url"], cert.public_key)
    if shutil.which("pdftoppm") and shutil.which("zbarimg"):
        subprocess.run(
            ["pdftoppm", "-r", "110", "-png", "-f", "1", "-l", "1", result.danfce, str(tmp_path / "via")],
            check=True,
        )
        [png] = sorted(tmp_path.glob("via*.png"))
        read = subprocess.run(
            ["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
            capture_output=True,
            text=True,
            check=True,
        )
        printed = read.stdout.strip()
        assert printed == doc["qrcode_url"] and verify_qr_v3_offline(printed, cert.public_key)

    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", result.danfce, "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "CNPJ: A1.B2C.3D4/0001-93" in text and "EMITIDA EM CONTINGÊNCIA" in text
        groups = [doc["chave"][i : i + 4] for i in range(0, 44, 4)]
        assert "A1B2" in groups[1] + groups[2] and all(g in text for g in groups)

    # Another demo company cannot be chosen while this note waits for the API.
    with pytest.raises(demo_company.DemoCompanyError, match="sync"):
        demo_company.switch(sp_ctx, "pr")

    report = ReplayService(sp_ctx).run_once()
    assert report.transmitidas == [result.ref], report.to_json()
    final = sp_ctx.store.documents.get(result.document_id)
    assert final["status"] == "autorizado" and final["chave"] == doc["chave"]
    xml = sp_ctx.nfce().download(final["caminho_xml"])
    assert f"<CNPJ>{ALNUM}</CNPJ>".encode() in xml and doc["chave"].encode() in xml
    # Regime normal with the demo tax groups: IBS/CBS in every item, and the authorized XML (letters in
    # the CNPJ and the key) validates against nfelib's current schema (TCnpj [0-9A-Z]{12}[0-9]{2}).
    nfelib = pytest.importorskip("nfelib")
    from lxml import etree

    xsd = Path(nfelib.__file__).parent / "nfe" / "schemas" / "v4_0" / "procNFe_v4.00.xsd"
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    root = etree.fromstring(xml)
    assert schema.validate(root), schema.error_log
    ns = "{http://www.portalfiscal.inf.br/nfe}"
    assert len(root.findall(f".//{ns}det")) == 3 == len(root.findall(f".//{ns}det/{ns}imposto/{ns}IBSCBS"))

    back = demo_company.switch(sp_ctx, "pr")
    assert back.changed and sp_ctx.emitente().uf == "PR" and sp_ctx.store.products.lookup("1001") is not None


def test_cli_chooses_the_demo_company(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(demo_company.ENV_VAR, raising=False)
    monkeypatch.setenv("POS_DATA_DIR", str(tmp_path / "pos-data"))
    assert main(["demo", "empresa", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["empresa"] == "pr"
    assert main(["demo", "empresa", "sp", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["empresa"] == "sp" and out["alterada"] and "A1.B2C.3D4/0001-93" in out["mensagem"]
    assert main(["demo", "empresa", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cnpj"] == "A1.B2C.3D4/0001-93"
    assert main(["config", "set", "demo.empresa", "pr"]) == 0  # the setting: applied at the next start
    capsys.readouterr()
    assert main(["demo", "empresa", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["empresa"] == "pr"
