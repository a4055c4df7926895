"""Alphanumeric CNPJ (NT Conjunta 2025.001) everywhere: validator, formatting, keys with letters,
QR v3 offline signed over a key with letters, masking in logs; counter rules (identification from
R$ 10.000,00, PIX 17/20, tipo_integracao 1)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.emitente import Emitente
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.payments import PAYMENT_METHODS, Payment
from pos_app.core.domain.sale import CONSUMER_ID_REQUIRED_FROM, Sale
from pos_app.core.domain.validators import (
    cnpj_check_digits,
    format_cnpj,
    is_valid_cnpj,
    normalize_cnpj,
)
from pos_app.core.fiscal.certificate import create_demo_certificate, load_a1
from pos_app.core.fiscal.chave import (
    build_chave,
    chave_chars,
    compute_dv,
    format_chave,
    is_valid_chave,
    parse_chave,
)
from pos_app.core.fiscal.qrcode import parse_qr_p, qr_v3_offline, qr_v3_online, verify_qr_v3_offline
from pos_app.core.focus.nfce_payload import build_nfce_payload
from pos_app.core.masking import CNPJ_MARK, mask_personal, register_public
from pos_app.core.printing import formatting

ALNUM = "12ABC34501DE35"
TZ = ZoneInfo("America/Sao_Paulo")


# -- validator and formatting --------------------------------------------------------------------
def test_official_test_vector_is_valid() -> None:
    assert is_valid_cnpj("12.ABC.345/01DE-35")
    assert is_valid_cnpj(ALNUM) and is_valid_cnpj("12abc34501de35")  # typed in lower case
    assert cnpj_check_digits("12ABC34501DE") == "35"


@pytest.mark.parametrize(
    "bad",
    [
        "12.ABC.345/01DE-36",
        "12.ABC.345/01DE-3A",
        "12ABC34501DE3",
        "12ABC34501DE355",
        "12ABC#34501DE35",
        "12.ÁBC.345/01DE-35",
        "AAAAAAAAAAAA00",
        "",
    ],
)
def test_invalid_alphanumeric_cnpjs(bad: str) -> None:
    assert not is_valid_cnpj(bad)


def test_numeric_cnpjs_keep_working() -> None:
    assert is_valid_cnpj("11.222.333/0001-81") and is_valid_cnpj("11222333000181")
    assert not is_valid_cnpj("11.222.333/0001-82") and not is_valid_cnpj("00000000000000")
    assert cnpj_check_digits("112223330001") == "81"


def test_check_digit_values_letters_as_ord_minus_48() -> None:
    # 'A' = 17 ... 'Z' = 42: recompute the vector by hand.
    weights = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
    total = sum((ord(c) - 48) * w for c, w in zip("12ABC34501DE", weights, strict=True))
    d1 = 0 if total % 11 < 2 else 11 - total % 11
    assert d1 == 3 and ord("A") - 48 == 17 and ord("Z") - 48 == 42


def test_formatting_and_normalizing() -> None:
    assert format_cnpj(ALNUM) == "12.ABC.345/01DE-35"
    assert format_cnpj("12abc34501de35") == "12.ABC.345/01DE-35"
    assert format_cnpj("11222333000181") == "11.222.333/0001-81"
    assert formatting.format_cnpj(ALNUM) == "12.ABC.345/01DE-35"
    assert normalize_cnpj("12.abc.345/01de-35") == ALNUM
    assert format_cnpj("nada") == "nada"


def test_emitter_with_alphanumeric_cnpj_validates() -> None:
    emitente = Emitente(
        cnpj="12.ABC.345/01DE-35",
        razao_social="MERCADO PAULISTA LTDA",
        nome_fantasia="",
        inscricao_estadual="110042490114",
        logradouro="Rua Direita",
        numero="10",
        bairro="Sé",
        municipio="São Paulo",
        codigo_municipio="3550308",
        uf="SP",
        cep="01002000",
        regime="normal",
    )
    emitente.validate()
    assert emitente.cnpj_digits == ALNUM and emitente.crt == "3"


# -- access key --------------------------------------------------------------------------------------
def test_key_with_letters_builds_parses_and_formats() -> None:
    key = build_chave("SP", date(2026, 12, 2), "12.ABC.345/01DE-35", 600, 1, 9, 12345678)
    assert key[6:20] == ALNUM and len(key) == 44
    assert is_valid_chave(key) and is_valid_chave("NFe" + key.lower())
    parts = parse_chave(key)
    assert (parts.cnpj, parts.serie, parts.numero, parts.tp_emis, parts.cnf) == (ALNUM, 600, 1, 9, "12345678")
    assert parts.chave == key
    assert format_chave(key).split(" ")[2] == "ABC3"
    assert formatting.format_chave("NFe" + key) == format_chave(key)
    assert chave_chars(f"NFe {key[:10]} {key[10:]}") == key


def test_key_check_digit_uses_ord_minus_48() -> None:
    body = f"352612{ALNUM}65600000000001912345678"
    assert len(body) == 43
    total = sum((ord(c) - 48) * (2 + i % 8) for i, c in enumerate(reversed(body)))
    expected = 0 if total % 11 < 2 else 11 - total % 11
    assert compute_dv(body) == expected
    wrong = body + str((expected + 1) % 10)
    assert not is_valid_chave(wrong)


def test_letters_only_allowed_in_the_cnpj_positions() -> None:
    key = build_chave("SP", date(2026, 12, 2), ALNUM, 600, 1, 9, 12345678)
    assert not is_valid_chave("A" + key[1:])  # cUF
    assert not is_valid_chave(key[:30] + "A" + key[31:])  # nNF
    with pytest.raises(ValueError):
        build_chave("SP", date(2026, 12, 2), "12ABC34501DEAB", 600, 1, 9, 1)  # check digits are numeric


def test_numeric_public_vectors_still_valid() -> None:
    for key in (
        "35170458716523000119550010000000121000123458",
        "41200323285089000185650010000013051817822496",
    ):
        assert is_valid_chave(key)


# -- QR code --------------------------------------------------------------------------------------
def test_qr_v3_offline_signature_over_a_key_with_letters(tmp_path) -> None:  # type: ignore[no-untyped-def]
    create_demo_certificate(tmp_path / "a1.pfx", "senha", ALNUM, "MERCADO PAULISTA LTDA")
    cert = load_a1(tmp_path / "a1.pfx", "senha")
    assert cert.cnpj == ALNUM
    key = build_chave("SP", date(2026, 12, 2), ALNUM, 600, 7, 9, 87654321)
    emitted = datetime(2026, 12, 2, 10, 30, tzinfo=TZ)
    url = qr_v3_offline(
        "https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode",
        key,
        2,
        emitted,
        Decimal("45.10"),
        "12.ABC.345/01DE-35",
        cert.sign_sha1,
    )
    fields = parse_qr_p(url)
    assert fields[:7] == [key, "3", "2", "02", "45.10", "1", ALNUM]
    assert verify_qr_v3_offline(url, cert.public_key)
    tampered = url.replace(key, key[:6] + "12ABD34501DE35" + key[20:])
    assert not verify_qr_v3_offline(tampered, cert.public_key)
    assert f"p={key}|3|1" in qr_v3_online("https://x/qr", key, 1)


# -- logs -----------------------------------------------------------------------------------------
def test_alphanumeric_cnpj_of_a_consumer_is_masked_in_logs() -> None:
    text = "consumidor 12.ABC.345/01DE-35 e 12ABC34501DE35 e produto ABC123"
    masked = mask_personal(text)
    assert "12.ABC.345/01DE-35" not in masked and "12ABC34501DE35" not in masked
    assert masked.count(CNPJ_MARK) == 2 and "ABC123" in masked


def test_public_emitter_alphanumeric_cnpj_stays_visible() -> None:
    other = "AB1CD2EF3GH4" + cnpj_check_digits("AB1CD2EF3GH4")
    register_public(other)
    assert other in mask_personal(f"emitente {other}")


# -- counter rules -----------------------------------------------------------------------------------
def _product(price: str) -> Product:
    return Product(
        codigo="1",
        descricao="TV 65 POLEGADAS",
        ncm="85287200",
        cfop="5102",
        unidade="UN",
        preco=Decimal(price),
        icms_origem="0",
        icms_situacao_tributaria="102",
    )


def _sale(price: str) -> Sale:
    sale = Sale()
    sale.add_item(_product(price), Decimal(1))
    sale.add_payment(Payment("01", sale.valor_total))
    return sale


def test_consumer_identification_required_from_ten_thousand() -> None:
    assert Decimal("10000.00") == CONSUMER_ID_REQUIRED_FROM
    _sale("9999.99").validate("simples")
    sale = _sale("10000.00")
    with pytest.raises(ValidationError) as exc:
        sale.validate("simples")
    assert exc.value.field == "cpf_destinatario" and "CPF ou o CNPJ do consumidor" in exc.value.message
    assert "R$ 10.000,00" in exc.value.message
    sale.cnpj = ALNUM  # an alphanumeric CNPJ identifies the consumer
    sale.validate("simples")
    sale.cnpj, sale.cpf = None, "12345678909"
    sale.validate("simples")


def test_pix_codes_and_labels() -> None:
    assert PAYMENT_METHODS["17"] == "PIX dinâmico" and PAYMENT_METHODS["20"] == "PIX estático"
    Payment("20", Decimal("5")).validate()
    assert Payment("20", Decimal("5")).integracao is None
    assert Payment("17", Decimal("5")).integracao == "2"


def test_integrated_payment_requires_acquirer_and_authorization() -> None:
    with pytest.raises(ValidationError) as exc:
        Payment("03", Decimal("5"), bandeira="01", tipo_integracao="1", numero_autorizacao="123").validate()
    assert exc.value.field == "cnpj_credenciadora"
    with pytest.raises(ValidationError) as exc:
        Payment("17", Decimal("5"), cnpj_credenciadora=ALNUM).validate()
    assert exc.value.field == "numero_autorizacao" and "endToEndId" in exc.value.message
    ok = Payment("17", Decimal("5"), cnpj_credenciadora="12.abc.345/01de-35", numero_autorizacao="E1234")
    ok.validate()
    assert ok.cnpj_credenciadora == ALNUM and ok.integracao == "1"
    with pytest.raises(ValidationError) as exc:
        Payment("04", Decimal("5"), bandeira="02", tipo_integracao="3").validate()
    assert exc.value.field == "tipo_integracao"


def test_payload_sends_integration_fields_and_alphanumeric_documents() -> None:
    emitente = Emitente(
        cnpj=ALNUM,
        razao_social="MERCADO PAULISTA LTDA",
        nome_fantasia="",
        inscricao_estadual="110042490114",
        logradouro="Rua Direita",
        numero="10",
        bairro="Sé",
        municipio="São Paulo",
        codigo_municipio="3550308",
        uf="SP",
        cep="01002000",
        regime="simples",
    )
    sale = Sale()
    sale.add_item(_product("30.00"), Decimal(1))
    sale.cnpj = "AB1CD2EF3GH4" + cnpj_check_digits("AB1CD2EF3GH4")
    sale.add_payment(Payment("17", Decimal("10"), cnpj_credenciadora=ALNUM, numero_autorizacao="E0000001"))
    sale.add_payment(Payment("03", Decimal("10"), bandeira="01"))
    sale.add_payment(Payment("20", Decimal("10")))
    payload = build_nfce_payload(sale, emitente, datetime(2026, 12, 2, 10, tzinfo=TZ), ambiente="homologacao")
    assert payload["cnpj_emitente"] == ALNUM and payload["cnpj_destinatario"] == sale.cnpj
    pix, card, static = payload["formas_pagamento"]
    assert pix == {
        "forma_pagamento": "17",
        "valor_pagamento": "10.00",
        "tipo_integracao": "1",
        "cnpj_credenciadora": ALNUM,
        "numero_autorizacao": "E0000001",
    }
    assert card["tipo_integracao"] == "2" and "cnpj_credenciadora" not in card
    assert static == {"forma_pagamento": "20", "valor_pagamento": "10.00"}
