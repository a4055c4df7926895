"""BR Code: CRC16-CCITT-FALSE, field lengths, keys; read back from a rendered QR with zbarimg."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from pos_app.core.pix.brcode import BrCodeError, build_static, crc16, decode, normalize_key

KEY = "7d9f0335-8dcc-4054-9bf9-0dbd61d36906"


def test_crc16_ccitt_false_check_value() -> None:
    assert crc16("123456789") == "29B1"  # the published check value of CRC-16/CCITT-FALSE


def test_static_brcode_fields_and_crc() -> None:
    code = build_static(
        KEY, "Mercadinho São João Ltda ME", "São José dos Pinhais", Decimal("27.90"), "VENDA123"
    )
    assert code.startswith("000201010211")
    assert "0014br.gov.bcb.pix0136" + KEY in code
    assert "52040000" in code and "5303986" in code and "540527.90" in code and "5802BR" in code
    parsed = decode(code)
    assert parsed.nome == "MERCADINHO SAO JOAO LTDA"
    assert len(parsed.nome) <= 25 and len(parsed.cidade) <= 15 and parsed.cidade == "SAO JOSE DOS PI"
    assert parsed.valor == Decimal("27.90") and parsed.chave == KEY and parsed.txid == "VENDA123"
    assert code[-8:-4] == "6304" and crc16(code[:-4]) == code[-4:]


def test_decoder_rejects_bad_crc_and_lengths() -> None:
    code = build_static(KEY, "Loja", "Curitiba", Decimal("10.00"))
    with pytest.raises(BrCodeError, match="CRC"):
        decode(code[:-1] + ("0" if code[-1] != "0" else "1"))
    tampered = code.replace("540510.00", "540511.00")
    with pytest.raises(BrCodeError, match="CRC"):
        decode(tampered)
    # a declared length that does not match (59 says 30 characters): CRC recomputed, still refused
    body = code[: code.index("5904")] + "5930" + "X" * 30 + code[code.index("6008") : -4]
    with pytest.raises(BrCodeError, match="59"):
        decode(body + crc16(body))
    short = code[: code.index("6008")] + "6099CURITIBA" + code[code.index("6207") : -4]
    with pytest.raises(BrCodeError):
        decode(short + crc16(short))


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("529.982.247-25", "52998224725"),
        ("11.222.333/0001-81", "11222333000181"),
        ("Caixa@Loja.com.br", "caixa@loja.com.br"),
        ("+55 (41) 99999-8888", "+5541999998888"),
        (KEY.upper(), KEY),
    ],
)
def test_pix_keys(raw: str, normalized: str) -> None:
    assert normalize_key(raw) == normalized


@pytest.mark.parametrize("bad", ["529.982.247-24", "41999998888", "+1 555 1234567", "loja@", "abc", ""])
def test_pix_keys_refused(bad: str) -> None:
    with pytest.raises(BrCodeError):
        normalize_key(bad)


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbar-tools não instalado")
def test_static_brcode_read_back_from_rendered_qr(tmp_path: Path) -> None:
    import qrcode

    code = build_static("caixa@loja.com.br", "Padaria Pão Quente", "Curitiba", Decimal("1234.56"), "***")
    png = tmp_path / "pix.png"
    qrcode.make(code, error_correction=qrcode.constants.ERROR_CORRECT_M).save(png)
    out = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, check=True)
    read = out.stdout.strip()
    assert read == code
    assert decode(read).valor == Decimal("1234.56")
