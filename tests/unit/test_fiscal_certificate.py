from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from pos_app.core.fiscal.certificate import (
    OID_ICP_CNPJ,
    A1Certificate,
    CertificateError,
    create_demo_certificate,
    load_a1,
)

PASSWORD = "s3nh@-Segura"
CNPJ = "11222333000181"
RAZAO = "MERCADINHO SÃO JOSÉ LTDA"


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("a1") / "empresa.pfx"
    create_demo_certificate(path, PASSWORD, CNPJ, RAZAO, valid_days=30)
    return path


@pytest.fixture(scope="module")
def demo(demo_path: Path) -> A1Certificate:
    return load_a1(demo_path, PASSWORD)


def _write_pfx(
    path: Path,
    common_name: str,
    san: x509.GeneralName | None = None,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None,
) -> Path:
    private_key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=10))
    )
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([san]), critical=False)
    cert = builder.sign(private_key, hashes.SHA256())
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"x", private_key, cert, None, serialization.BestAvailableEncryption(b"pw")
        )
    )
    return path


def test_holder_cnpj_and_validity_read_back(demo: A1Certificate) -> None:
    assert demo.subject_cn == f"{RAZAO}:{CNPJ}"
    assert demo.holder == RAZAO
    assert demo.cnpj == CNPJ
    assert demo.not_before.tzinfo is not None and demo.not_after.utcoffset() == timedelta(0)
    assert demo.not_after - demo.not_before == timedelta(days=30)


def test_days_left_and_expiry(demo: A1Certificate) -> None:
    assert demo.days_left(demo.not_before) == 30
    assert demo.days_left(demo.not_after - timedelta(hours=1)) == 0
    assert demo.days_left(demo.not_after + timedelta(days=2)) == -2
    assert not demo.expired(demo.not_after - timedelta(seconds=1))
    assert demo.expired(demo.not_after)
    assert demo.not_yet_valid(demo.not_before - timedelta(seconds=1))
    with pytest.raises(ValueError):
        demo.days_left(datetime(2025, 1, 1))  # naive


def test_sign_sha1_verifies_with_the_public_key(demo: A1Certificate) -> None:
    signature = demo.sign_sha1(b"chave|3|2")
    demo.public_key.verify(signature, b"chave|3|2", padding.PKCS1v15(), hashes.SHA1())


def test_wrong_password_is_a_portuguese_error(demo_path: Path) -> None:
    with pytest.raises(CertificateError) as info:
        load_a1(demo_path, "senha-errada")
    assert str(info.value) == "Senha do certificado incorreta"
    assert "senha-errada" not in repr(info.value)
    assert info.value.__cause__ is None


def test_missing_password_is_a_wrong_password(demo_path: Path) -> None:
    with pytest.raises(CertificateError, match="Senha do certificado incorreta"):
        load_a1(demo_path, "")


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nao-existe.pfx"
    with pytest.raises(CertificateError) as info:
        load_a1(missing, PASSWORD)
    assert str(info.value) == f"Arquivo do certificado não encontrado: {missing}"


def test_not_a_pkcs12(tmp_path: Path) -> None:
    bogus = tmp_path / "nota.pfx"
    bogus.write_text("isto não é um certificado")
    with pytest.raises(CertificateError, match="não é um certificado A1 válido"):
        load_a1(bogus, PASSWORD)
    empty = tmp_path / "vazio.pfx"
    empty.write_bytes(b"")
    with pytest.raises(CertificateError, match="não é um certificado A1 válido"):
        load_a1(empty, PASSWORD)


def test_a_pem_certificate_is_not_a_pkcs12(tmp_path: Path, demo: A1Certificate) -> None:
    pem = tmp_path / "cert.pem"
    pem.write_bytes(demo.certificate.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(CertificateError, match="PKCS#12"):
        load_a1(pem, PASSWORD)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="pasta"):
        load_a1(tmp_path, PASSWORD)


def test_expired_certificate_loads_and_reports_expired(tmp_path: Path) -> None:
    path = create_demo_certificate(
        tmp_path / "velho.pfx",
        PASSWORD,
        CNPJ,
        RAZAO,
        valid_days=10,
        not_before=datetime(2020, 1, 1, tzinfo=UTC),
    )
    cert = load_a1(path, PASSWORD)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert cert.expired(now)
    assert cert.days_left(now) < 0


def test_cnpj_from_icp_brasil_othername_when_cn_has_none(tmp_path: Path) -> None:
    san = x509.OtherName(OID_ICP_CNPJ, b"\x04\x0e" + CNPJ.encode())
    cert = load_a1(_write_pfx(tmp_path / "san.pfx", "EMPRESA SEM CNPJ NO CN", san), "pw")
    assert cert.holder == "EMPRESA SEM CNPJ NO CN"
    assert cert.cnpj == CNPJ


def test_cnpj_othername_as_printable_string(tmp_path: Path) -> None:
    san = x509.OtherName(OID_ICP_CNPJ, b"\x13\x0e" + CNPJ.encode())
    cert = load_a1(_write_pfx(tmp_path / "san2.pfx", "EMPRESA", san), "pw")
    assert cert.cnpj == CNPJ


def test_certificate_without_cnpj(tmp_path: Path) -> None:
    cert = load_a1(_write_pfx(tmp_path / "pf.pfx", "FULANO DE TAL:12345678909"), "pw")
    # 11 digits after ':' is an e-CPF, not a CNPJ.
    assert cert.cnpj is None
    assert cert.holder == "FULANO DE TAL:12345678909"


def test_non_rsa_key_is_refused(tmp_path: Path) -> None:
    path = _write_pfx(tmp_path / "ec.pfx", f"EC LTDA:{CNPJ}", key=ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(CertificateError, match="RSA"):
        load_a1(path, "pw")


def test_password_never_appears_in_repr(demo: A1Certificate) -> None:
    text = repr(demo)
    assert PASSWORD not in text
    assert "PRIVATE" not in text and "_private_key" not in text


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not available")
def test_legacy_rc2_pfx_from_openssl_loads(tmp_path: Path) -> None:
    # Many A1 files in the field still use the old RC2/3DES PKCS#12 encryption.
    key = tmp_path / "k.pem"
    crt = tmp_path / "c.pem"
    pfx = tmp_path / "legacy.pfx"
    subprocess.run(
        ["openssl", "req", *f"-x509 -newkey rsa:2048 -nodes -keyout {key} -out {crt} -days 2".split()]
        + ["-subj", f"/CN=EMPRESA LEGADA LTDA:{CNPJ}"],
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        ["openssl", "pkcs12", *f"-export -legacy -inkey {key} -in {crt} -out {pfx}".split()]
        + ["-passout", "pass:velha"],
        capture_output=True,
    )
    if result.returncode != 0:
        pytest.skip("openssl without -legacy support")
    cert = load_a1(pfx, "velha")
    assert cert.holder == "EMPRESA LEGADA LTDA" and cert.cnpj == CNPJ
    with pytest.raises(CertificateError, match="Senha do certificado incorreta"):
        load_a1(pfx, "nova")


def test_demo_certificate_rejects_bad_cnpj(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        create_demo_certificate(tmp_path / "x.pfx", PASSWORD, "123", RAZAO)
