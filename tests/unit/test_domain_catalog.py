from __future__ import annotations

import csv
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from pos_app.core.domain.catalog import CATALOG_CSV_FIELDS, Product, product_from_row
from pos_app.core.domain.emitente import Emitente
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.payments import CARD_BRANDS, PAYMENT_METHODS, Payment
from pos_app.core.domain.validators import is_valid_gtin

D = Decimal
CATALOG = Path(__file__).resolve().parents[2] / "pos_app" / "resources" / "demo_catalog.csv"
HEADER = (
    "codigo,ean,descricao,ncm,cfop,unidade,preco,icms_origem,icms_situacao_tributaria,tributos_percentual"
)


def read_rows() -> list[dict[str, str]]:
    with CATALOG.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_demo_catalog_header() -> None:
    first_line = CATALOG.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == HEADER
    assert ",".join(CATALOG_CSV_FIELDS) == HEADER


def test_demo_catalog_rows_are_valid() -> None:
    rows = read_rows()
    assert 45 <= len(rows) <= 55
    products = [product_from_row(row) for row in rows]
    for p in products:
        p.validate("simples")
        assert p.descricao == p.descricao.upper()
        assert p.unidade in {"UN", "KG", "L", "PCT"}
        assert p.preco == p.preco.quantize(D("0.01"))
        assert p.icms_situacao_tributaria in {"102", "500"}
        assert (p.cfop == "5405") == (p.icms_situacao_tributaria == "500")
        assert D(0) < p.tributos_percentual < D(100)
        if p.ean is not None:
            assert len(p.ean) == 13 and p.ean.startswith("789") and is_valid_gtin(p.ean)
    codes = [p.codigo for p in products]
    assert codes == [str(1001 + i) for i in range(len(products))]
    eans = [p.ean for p in products if p.ean]
    assert len(eans) == len(set(eans))
    weighed = [p for p in products if p.unidade == "KG"]
    assert 2 <= len(weighed) <= 4
    assert any(p.descricao == "PÃO FRANCÊS KG" for p in weighed)
    assert any(p.icms_situacao_tributaria == "500" for p in products)


def test_product_from_row_accepts_comma_and_blank_optional_fields() -> None:
    row = dict(
        zip(
            CATALOG_CSV_FIELDS,
            ["1", "", "PÃO FRANCÊS KG", "19059090", "5102", "kg", "16,90", "", "", ""],
            strict=True,
        )
    )
    p = product_from_row(row)
    assert p.ean is None and p.cest is None
    assert p.unidade == "KG"
    assert p.preco == D("16.90")
    assert p.icms_origem == "0" and p.icms_situacao_tributaria == "102"
    assert p.tributos_percentual == D(0)
    with pytest.raises(ValidationError) as info:
        product_from_row({**row, "ncm": ""})
    assert info.value.field == "ncm"


def make_product(**changes: object) -> Product:
    base = Product("1001", "ARROZ TIPO 1 CAMIL 5KG", "10063021", "5102", "PCT", D("27.90"), "7891102100377")
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ncm": "1006302"}, "ncm", "NCM inválido: '1006302' (deve ter 8 dígitos)"),
        ({"cfop": "6102"}, "cfop", "CFOP inválido para NFC-e: '6102'"),
        ({"ean": "7891102100378"}, "ean", "Código de barras (GTIN/EAN) inválido: 7891102100378"),
        ({"preco": D("0")}, "preco", "Preço deve ser maior que zero: R$ 0,00"),
        ({"descricao": " "}, "descricao", "Descrição do produto: preenchimento obrigatório"),
        ({"unidade": "CAIXAS"}, "unidade", None),
        ({"unidade": "CAIXA12"}, "unidade", "Unidade inválida: 'CAIXA12' (1 a 6 caracteres)"),
        ({"icms_origem": "9"}, "icms_origem", "Origem da mercadoria inválida: '9'"),
        ({"tributos_percentual": D("101")}, "tributos_percentual", None),
        ({"cest": "123"}, "cest", "CEST inválido: '123' (deve ter 7 dígitos)"),
    ],
)
def test_product_validation(changes: dict[str, object], field: str, message: str | None) -> None:
    p = make_product(**changes)
    if field == "unidade" and message is None:
        p.validate()  # 6 characters is still fine
        return
    with pytest.raises(ValidationError) as info:
        p.validate()
    assert info.value.field == field
    if message is not None:
        assert str(info.value) == message


def test_product_icms_code_by_regime() -> None:
    p = make_product(icms_situacao_tributaria="00")
    with pytest.raises(ValidationError) as no_group:  # CST 00 needs a rate: a tax group
        p.validate("normal")
    assert no_group.value.field == "grupo_tributario"
    make_product(icms_situacao_tributaria="40").validate("normal")
    p.validate()
    with pytest.raises(ValidationError) as info:
        p.validate("simples")
    assert str(info.value) == "Situação tributária do ICMS (CSOSN) inválida: '00'"


def test_product_refuses_float_price() -> None:
    with pytest.raises(TypeError):
        Product("1", "X", "10063021", "5102", "UN", 1.5)  # type: ignore[arg-type]
    assert Product("1", "X", "10063021", "5102", "UN", 2).preco == D(2)  # type: ignore[arg-type]
    assert Product("1", "X", "10063021", "5102", "UN", D(1), ean="").ean is None


# --- payments -------------------------------------------------------------------------------


def test_payment_tables() -> None:
    assert PAYMENT_METHODS["01"] == "Dinheiro"
    assert PAYMENT_METHODS["03"] == "Cartão de crédito"
    assert PAYMENT_METHODS["04"] == "Cartão de débito"
    assert PAYMENT_METHODS["17"] == "PIX dinâmico"
    assert PAYMENT_METHODS["20"] == "PIX estático"
    assert {"02", "05", "10", "11", "12", "13", "99"} <= set(PAYMENT_METHODS)
    assert CARD_BRANDS["06"] == "Elo"
    assert set(CARD_BRANDS) == {"01", "02", "03", "04", "05", "06", "07", "99"}


def test_payment_kinds_and_validation() -> None:
    cash = Payment("01", D("10.00"))
    card = Payment(
        "03", D("5.00"), bandeira="01", cnpj_credenciadora="01.027.058/0001-91", numero_autorizacao="R07242"
    )
    assert cash.is_cash and not cash.is_card
    assert card.is_card and not card.is_cash
    assert card.label == "Cartão de crédito"
    cash.validate()
    card.validate()
    with pytest.raises(ValidationError) as info:
        Payment("03", D("5.00"), bandeira="08").validate()
    assert str(info.value) == "Bandeira do cartão inválida: '08'"
    with pytest.raises(ValidationError) as info:
        Payment("03", D("5.00"), bandeira="01", cnpj_credenciadora="11111111111111").validate()
    assert str(info.value) == "CNPJ da credenciadora inválido: 11.111.111/1111-11"
    with pytest.raises(ValidationError) as info:
        Payment("01", D("0")).validate()
    assert str(info.value) == "Valor do pagamento deve ser maior que zero"
    with pytest.raises(ValidationError):
        Payment("01", D("1.001")).validate()


# --- emitente -------------------------------------------------------------------------------


def emitente(**changes: object) -> Emitente:
    base = Emitente(
        cnpj="11.222.333/0001-81",
        razao_social="MERCADINHO BOA VISTA LTDA",
        nome_fantasia="Mercadinho Boa Vista",
        inscricao_estadual="123.456.789.110",
        logradouro="Rua das Flores",
        numero="123",
        bairro="Centro",
        municipio="São Paulo",
        codigo_municipio="3550308",
        uf="SP",
        cep="01310-100",
        regime="simples",
        telefone="(11) 3333-4444",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_emitente_valid_and_crt() -> None:
    e = emitente()
    e.validate()
    assert e.crt == "1"
    assert e.cnpj_digits == "11222333000181"
    assert emitente(regime="normal").crt == "3"
    with pytest.raises(AttributeError):
        e.uf = "RJ"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"cnpj": "11222333000180"}, "cnpj", "CNPJ do emitente inválido: 11.222.333/0001-80"),
        ({"razao_social": ""}, "razao_social", "Razão social: preenchimento obrigatório"),
        ({"inscricao_estadual": "ISENTO"}, "inscricao_estadual", None),
        ({"uf": "XX"}, "uf", "UF inválida: 'XX'"),
        (
            {"codigo_municipio": "3304557"},
            "codigo_municipio",
            "Código do município 3304557 não pertence à UF SP",
        ),
        ({"codigo_municipio": "355030"}, "codigo_municipio", None),
        ({"cep": "0131010"}, "cep", "CEP inválido: '0131010'"),
        ({"regime": "lucro"}, "regime", None),
        ({"telefone": "123"}, "telefone", None),
        ({"bairro": "  "}, "bairro", "Bairro: preenchimento obrigatório"),
    ],
)
def test_emitente_validation(changes: dict[str, object], field: str, message: str | None) -> None:
    with pytest.raises(ValidationError) as info:
        emitente(**changes).validate()
    assert info.value.field == field
    if message is not None:
        assert str(info.value) == message
