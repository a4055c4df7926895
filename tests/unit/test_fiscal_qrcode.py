from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pos_app.core.fiscal.certificate import A1Certificate, create_demo_certificate, load_a1
from pos_app.core.fiscal.chave import build_chave
from pos_app.core.fiscal.qrcode import (
    parse_qr_p,
    qr_hash_v2,
    qr_url,
    qr_v2_online,
    qr_v3_offline,
    qr_v3_online,
    verify_qr_v3_offline,
)
from pos_app.core.fiscal.states import qrcode_base_url

CSC = "SEU-CODIGO-CSC-CONTRIBUINTE-36-CARACTERES"
# The published v2 vector; its key does not carry a valid DV, which the QR functions do not check.
V2_KEY = "28170800156225000131650110000151341562040824"
V2_HASH = "DC6AE2C2B9A992BE59679AC365E29922DE6B7511"
BASE = "http://www.fazenda.pr.gov.br/nfce/qrcode"
PASSWORD = "demo-senha"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> A1Certificate:
    path = tmp_path_factory.mktemp("cert") / "demo.pfx"
    create_demo_certificate(path, PASSWORD, "11222333000181", "LOJA DEMO LTDA")
    return load_a1(path, PASSWORD)


@pytest.fixture(scope="module")
def other_cert(tmp_path_factory: pytest.TempPathFactory) -> A1Certificate:
    path = tmp_path_factory.mktemp("cert2") / "other.pfx"
    create_demo_certificate(path, PASSWORD, "11444777000161", "OUTRA LOJA LTDA")
    return load_a1(path, PASSWORD)


def _offline_key(day: date = date(2025, 9, 5)) -> str:
    return build_chave("PR", day, "11222333000181", 600, 42, 9, "48213796")


def test_v2_hash_matches_the_published_vector() -> None:
    assert qr_hash_v2(f"{V2_KEY}|2|1|1", CSC) == V2_HASH


def test_v2_online_url() -> None:
    url = qr_v2_online(BASE, "NFe" + V2_KEY, 1, "000001", CSC)
    assert url == f"{BASE}?p={V2_KEY}|2|1|1|{V2_HASH}"


def test_v3_online_has_no_csc_and_no_hash() -> None:
    key = build_chave("SP", date(2025, 9, 1), "11222333000181", 1, 7, 1, "48213796")
    url = qr_v3_online(qrcode_base_url("SP", "homologacao"), key, 2)
    assert url == f"https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode?p={key}|3|2"
    assert parse_qr_p(url) == [key, "3", "2"]


def test_base_url_with_a_query_string_gets_ampersand() -> None:
    assert qr_url("https://x.example/consulta?lang=pt", "abc") == "https://x.example/consulta?lang=pt&p=abc"
    assert parse_qr_p("https://x.example/consulta?lang=pt&p=a|b|c") == ["a", "b", "c"]
    assert qr_url("https://x.example/consulta", "abc") == "https://x.example/consulta?p=abc"


def test_parse_qr_p_of_a_focus_url() -> None:
    url = (
        "http://www.fazenda.pr.gov.br/nfce/qrcode/?p=41190607504505000132650010000000121743484310"
        "|2|2|1|5E264C0E28D801197219894CDFCF2FCCC5237F08"
    )
    assert parse_qr_p(url)[1:4] == ["2", "2", "1"]


def test_v3_offline_with_cpf_is_signed_and_verifies(cert: A1Certificate) -> None:
    key = _offline_key()
    emitted = datetime(2025, 9, 5, 21, 40, tzinfo=ZoneInfo("America/Sao_Paulo"))
    url = qr_v3_offline(BASE, key, 2, emitted, Decimal("1234.5"), "123.456.789-09", cert.sign_sha1)
    fields = parse_qr_p(url)
    assert fields[:7] == [key, "3", "2", "05", "1234.50", "2", "12345678909"]
    signature = base64.b64decode(fields[7], validate=True)
    assert len(signature) == 256  # RSA 2048
    assert url.startswith(f"{BASE}?p={key}|3|2|05|1234.50|2|12345678909|")
    assert verify_qr_v3_offline(url, cert.public_key)


def test_v3_offline_unidentified_consumer_keeps_empty_fields(cert: A1Certificate) -> None:
    key = _offline_key()
    url = qr_v3_offline(BASE, key, 1, date(2025, 9, 5), Decimal("10"), None, cert.sign_sha1)
    fields = parse_qr_p(url)
    assert fields[:7] == [key, "3", "1", "05", "10.00", "", ""]
    assert "|10.00|||" in url
    assert verify_qr_v3_offline(url, cert.public_key)


def test_v3_offline_cnpj_and_foreign_consumer(cert: A1Certificate) -> None:
    key = _offline_key()
    with_cnpj = qr_v3_offline(BASE, key, 1, date(2025, 9, 5), "0.1", "11.444.777/0001-61", cert.sign_sha1)
    assert parse_qr_p(with_cnpj)[3:7] == ["05", "0.10", "1", "11444777000161"]
    foreign = qr_v3_offline(
        BASE, key, 1, date(2025, 9, 5), 3, "X1234567", cert.sign_sha1, dest_estrangeiro=True
    )
    assert parse_qr_p(foreign)[3:7] == ["05", "3.00", "3", ""]
    assert verify_qr_v3_offline(with_cnpj, cert.public_key)
    assert verify_qr_v3_offline(foreign, cert.public_key)


def test_signature_covers_the_first_seven_fields(cert: A1Certificate) -> None:
    key = _offline_key()
    url = qr_v3_offline(BASE, key, 2, date(2025, 9, 5), Decimal("99.90"), None, cert.sign_sha1)
    message = f"{key}|3|2|05|99.90||".encode()  # 7 fields, 6 separators
    signature = base64.b64decode(parse_qr_p(url)[7])
    # Deterministic PKCS#1 v1.5: signing the same message again gives the same bytes.
    assert cert.sign_sha1(message) == signature


@pytest.mark.parametrize(
    ("index", "replacement"),
    [(4, "99.91"), (3, "06"), (2, "1"), (6, "12345678909"), (0, "4" + "1" * 43)],
)
def test_tampered_value_fails_verification(cert: A1Certificate, index: int, replacement: str) -> None:
    url = qr_v3_offline(BASE, _offline_key(), 2, date(2025, 9, 5), Decimal("99.90"), None, cert.sign_sha1)
    fields = parse_qr_p(url)
    fields[index] = replacement
    tampered = f"{BASE}?p=" + "|".join(fields)
    assert not verify_qr_v3_offline(tampered, cert.public_key)


def test_other_certificate_or_garbage_signature_fails(cert: A1Certificate, other_cert: A1Certificate) -> None:
    url = qr_v3_offline(BASE, _offline_key(), 2, date(2025, 9, 5), Decimal("5"), None, cert.sign_sha1)
    assert not verify_qr_v3_offline(url, other_cert.public_key)
    fields = parse_qr_p(url)
    assert not verify_qr_v3_offline(f"{BASE}?p=" + "|".join([*fields[:7], "not*base64"]), cert.public_key)
    assert not verify_qr_v3_offline(f"{BASE}?p=" + "|".join(fields[:7]), cert.public_key)
    assert not verify_qr_v3_offline(qr_v3_online(BASE, _offline_key(), 2), cert.public_key)


def test_v3_offline_refuses_a_normal_emission_key(cert: A1Certificate) -> None:
    key = build_chave("PR", date(2025, 9, 5), "11222333000181", 1, 42, 1, "48213796")
    with pytest.raises(ValueError, match="tpEmis 9"):
        qr_v3_offline(BASE, key, 2, date(2025, 9, 5), Decimal("1"), None, cert.sign_sha1)


@pytest.mark.parametrize("valor", [1.5, Decimal("-1"), "abc", "1,50"])
def test_v3_offline_rejects_bad_amounts(valor: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        qr_v3_offline(BASE, _offline_key(), 2, date(2025, 9, 5), valor, None, lambda data: b"")  # type: ignore[arg-type]


@pytest.mark.parametrize("doc", ["123", "1234567890123", "ABCDEFGHIJKLMN"])
def test_v3_offline_rejects_bad_consumer_documents(doc: str) -> None:
    with pytest.raises(ValueError):
        qr_v3_offline(BASE, _offline_key(), 2, date(2025, 9, 5), Decimal("1"), doc, lambda data: b"")


def test_amount_rounds_half_up_to_cents(cert: A1Certificate) -> None:
    url = qr_v3_offline(BASE, _offline_key(), 2, date(2025, 9, 5), Decimal("2.005"), None, cert.sign_sha1)
    assert parse_qr_p(url)[4] == "2.01"


@pytest.mark.parametrize("tp_amb", [0, 3, "x", True])
def test_bad_tp_amb_is_rejected(tp_amb: object) -> None:
    with pytest.raises(ValueError):
        qr_v3_online(BASE, V2_KEY, tp_amb)  # type: ignore[arg-type]


def test_bad_key_and_missing_csc_are_rejected() -> None:
    with pytest.raises(ValueError):
        qr_v3_online(BASE, "123", 1)
    with pytest.raises(ValueError):
        qr_v2_online(BASE, V2_KEY, 1, 1, "  ")
    with pytest.raises(ValueError):
        qr_v2_online(BASE, V2_KEY, 1, 0, CSC)


def test_signature_with_plus_and_slash_survives_parsing() -> None:
    # Base64 may contain "+" and "/": the parser must not turn "+" into a space.
    def signer(_data: bytes) -> bytes:
        return bytes([0xFB, 0xEF, 0xFF] * 10)

    url = qr_v3_offline(BASE, _offline_key(), 2, date(2025, 9, 5), Decimal("1"), None, signer)
    encoded = parse_qr_p(url)[7]
    assert "+" in encoded or "/" in encoded
    assert base64.b64decode(encoded) == bytes([0xFB, 0xEF, 0xFF] * 10)
