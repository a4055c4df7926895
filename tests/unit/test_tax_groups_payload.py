"""Tax groups: validation against the shipped tables, the Focus item fields of the payload by CST,
regime and date, rounding per item, totals = sums of items, IBS/CBS outside the note total."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.emitente import Emitente
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.domain.tax_group import TaxGroup, tax_group_from_row
from pos_app.core.fiscal.tax_tables import cclasstrib_table, ibs_cbs_rates, ibs_cbs_required
from pos_app.core.fiscal.taxes import compute_item_taxes
from pos_app.core.focus.nfce_payload import build_nfce_payload

D = Decimal
BRT = timezone(timedelta(hours=-3))
DEC_2026 = datetime(2026, 12, 2, 10, 0, tzinfo=BRT)
JAN_2027 = datetime(2027, 1, 4, 10, 0, tzinfo=BRT)

TRIBUTADO = TaxGroup(
    "Tributado 18%",
    "00",
    icms_modalidade_base_calculo="3",
    icms_aliquota=D("18"),
    pis_situacao_tributaria="01",
    pis_aliquota_porcentual=D("1.65"),
    cofins_situacao_tributaria="01",
    cofins_aliquota_porcentual=D("7.6"),
)
REDUZIDO = replace(
    TRIBUTADO,
    nome="Reduzido",
    icms_situacao_tributaria="20",
    icms_reducao_base_calculo=D("33.33"),
    fcp_percentual=D("2"),
)
ST = TaxGroup("ST", "60", pis_situacao_tributaria="04", cofins_situacao_tributaria="04", cest="1700700")
ISENTO = TaxGroup(
    "Isento",
    "40",
    pis_situacao_tributaria="07",
    cofins_situacao_tributaria="07",
    ibs_cbs_situacao_tributaria="410",
    ibs_cbs_classificacao_tributaria="410999",
)
SIMPLES = TaxGroup("Simples", "102")


def emitente(regime: str = "normal") -> Emitente:
    return Emitente(
        cnpj="11.222.333/0001-81",
        razao_social="SUPERMERCADO TESTE LTDA",
        nome_fantasia="Super Teste",
        inscricao_estadual="123456789110",
        logradouro="Rua A",
        numero="1",
        bairro="Centro",
        municipio="São Paulo",
        codigo_municipio="3550308",
        uf="SP",
        cep="01310100",
        regime=regime,  # type: ignore[arg-type]
    )


def product(codigo: str, preco: str, group: TaxGroup | None) -> Product:
    return Product(
        codigo,
        f"PRODUTO {codigo}",
        "10063021",
        "5102",
        "UN",
        D(preco),
        grupo_tributario=group and group.nome,
        tax_group=group,
    )


def test_shipped_tables_and_dated_rates() -> None:
    assert cclasstrib_table()["000001"].cst == "000"
    r2026 = ibs_cbs_rates(DEC_2026.date())
    assert r2026 is not None and (r2026.cbs, r2026.ibs_uf, r2026.ibs_mun) == (D("0.90"), D("0.10"), D("0.00"))
    assert not r2026.soma_no_total
    r2027 = ibs_cbs_rates(JAN_2027.date())
    assert r2027 is not None and (r2027.ibs_uf, r2027.ibs_mun) == (D("0.05"), D("0.05"))
    assert ibs_cbs_rates(datetime(2025, 12, 31).date()) is None
    assert ibs_cbs_required("3", DEC_2026.date())
    assert not ibs_cbs_required("1", datetime(2027, 1, 3).date())
    assert ibs_cbs_required("1", JAN_2027.date())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"icms_situacao_tributaria": "01"}, "icms_situacao_tributaria"),
        ({"icms_aliquota": None}, "icms_aliquota"),
        ({"icms_modalidade_base_calculo": None}, "icms_modalidade_base_calculo"),
        ({"icms_modalidade_base_calculo": "7"}, "icms_modalidade_base_calculo"),
        ({"icms_aliquota": D("101")}, "icms_aliquota"),
        ({"icms_reducao_base_calculo": D("10")}, "icms_reducao_base_calculo"),
        ({"pis_situacao_tributaria": "77"}, "pis_situacao_tributaria"),
        ({"pis_aliquota_porcentual": None}, "pis_aliquota_porcentual"),
        ({"cofins_situacao_tributaria": None}, "cofins_situacao_tributaria"),
        ({"ibs_cbs_situacao_tributaria": "999"}, "ibs_cbs_situacao_tributaria"),
        ({"ibs_cbs_classificacao_tributaria": "123456"}, "ibs_cbs_classificacao_tributaria"),
        ({"ibs_cbs_situacao_tributaria": "200"}, "ibs_cbs_classificacao_tributaria"),  # 000001 is of CST 000
        ({"cest": "12"}, "cest"),
        ({"icms_origem": "9"}, "icms_origem"),
    ],
)
def test_group_validation_names_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        replace(TRIBUTADO, **changes).validate()  # type: ignore[arg-type]
    assert info.value.field == field


def test_group_regime_and_rows() -> None:
    for group in (TRIBUTADO, REDUZIDO, ST, ISENTO, SIMPLES):
        group.validate()
    with pytest.raises(ValidationError, match="incompatível com o regime"):
        TRIBUTADO.validate("simples")
    with pytest.raises(ValidationError) as info:
        replace(REDUZIDO, icms_reducao_base_calculo=None).validate()
    assert info.value.field == "icms_reducao_base_calculo"
    with pytest.raises(ValidationError) as no_rate_on_st:
        replace(ST, icms_aliquota=D("18")).validate()
    assert no_rate_on_st.value.field == "icms_aliquota"
    # Spreadsheet habits: comma decimals, "0" for "00", "1" for "000001"; a round trip keeps the group.
    row = {
        "grupo_tributario": "Tributado 18%",
        "icms_situacao_tributaria": "0",
        "icms_modalidade_base_calculo": "3",
        "icms_aliquota": "18,00",
        "pis_situacao_tributaria": "1",
        "pis_aliquota_porcentual": "1,65",
        "cofins_situacao_tributaria": "1",
        "cofins_aliquota_porcentual": "7,6",
        "ibs_cbs_situacao_tributaria": "0",
        "ibs_cbs_classificacao_tributaria": "1",
    }
    parsed = tax_group_from_row(row)
    assert parsed.icms_situacao_tributaria == "00" and parsed.ibs_cbs_classificacao_tributaria == "000001"
    assert tax_group_from_row(parsed.as_row()) == parsed


def test_cst_00_without_group_is_refused_for_regime_normal() -> None:
    bare = Product("9", "X", "10063021", "5102", "UN", D("1"), icms_situacao_tributaria="00")
    with pytest.raises(ValidationError) as info:
        bare.validate("normal")
    assert info.value.field == "grupo_tributario"


def test_regime_normal_payload_taxed_reduced_st_exempt_with_discount() -> None:
    sale = Sale()
    sale.add_item(product("1", "27.90", TRIBUTADO), D("1"))
    sale.add_item(product("2", "10.00", REDUZIDO), D("3"), desconto_item=D("1.00"))
    sale.add_item(product("3", "6.49", ST), D("2"))
    sale.add_item(product("4", "3.33", ISENTO), D("1"))
    sale.add_payment(Payment(forma="01", valor=D("100.00")))
    sale.validate("normal")
    payload = build_nfce_payload(sale, emitente(), DEC_2026, ambiente="producao")
    a, b, c, d = payload["items"]
    # CST 00: base = value, ICMS 18 % of 27.90 = 5.022 -> 5.02; PIS 1.65 % -> 0.46; COFINS 7.6 % -> 2.12.
    assert (
        a["icms_modalidade_base_calculo"],
        a["icms_base_calculo"],
        a["icms_aliquota"],
        a["icms_valor"],
    ) == ("3", "27.90", "18.00", "5.02")
    assert (a["pis_situacao_tributaria"], a["pis_valor"], a["cofins_valor"]) == ("01", "0.46", "2.12")
    # IBS/CBS base = 27.90 - 5.02 - 0.46 - 2.12 = 20.30; CBS 0.9 % = 0.1827 -> 0.18; IBS-UF 0.1 % -> 0.02.
    assert (a["ibs_cbs_situacao_tributaria"], a["ibs_cbs_classificacao_tributaria"]) == ("000", "000001")
    assert (a["ibs_cbs_base_calculo"], a["cbs_aliquota"], a["cbs_valor"]) == ("20.30", "0.9000", "0.18")
    assert (a["ibs_uf_aliquota"], a["ibs_uf_valor"], a["ibs_mun_aliquota"], a["ibs_mun_valor"]) == (
        "0.1000",
        "0.02",
        "0.0000",
        "0.00",
    )
    # CST 20: 30.00 - 1.00 = 29.00 reduced 33.33 % -> 19.33; ICMS 18 % = 3.4794 -> 3.48; FCP 2 % = 0.39.
    assert (b["icms_reducao_base_calculo"], b["icms_base_calculo"], b["icms_valor"]) == (
        "33.33",
        "19.33",
        "3.48",
    )
    assert (b["fcp_percentual"], b["fcp_valor"]) == ("2.00", "0.39")
    # CST 60 (ST already paid) and CST 40: no own ICMS fields; PIS/COFINS CST only.
    assert "icms_aliquota" not in c and c["pis_situacao_tributaria"] == "04" and "pis_valor" not in c
    assert c["cest"] == "1700700"
    assert "icms_aliquota" not in d
    assert (d["ibs_cbs_situacao_tributaria"], d["ibs_cbs_classificacao_tributaria"]) == ("410", "410999")
    assert "cbs_valor" not in d and "ibs_cbs_base_calculo" not in d  # immunity: no values
    # Totals are sums of the rounded item values; valor_total ignores IBS/CBS in 2026.
    items = payload["items"]

    def total(key: str) -> Decimal:
        return sum((D(i[key]) for i in items if key in i), D(0))

    assert D(payload["icms_base_calculo"]) == total("icms_base_calculo") == D("47.23")
    assert D(payload["icms_valor_total"]) == total("icms_valor") == D("8.50")
    assert D(payload["fcp_valor_total"]) == D("0.39")
    assert D(payload["valor_pis"]) == total("pis_valor")
    assert D(payload["cbs_valor_total"]) == total("cbs_valor")
    assert D(payload["ibs_valor_total"]) == total("ibs_uf_valor") + total("ibs_mun_valor")
    assert (
        D(payload["valor_total"]) == D(payload["valor_produtos"]) - D(payload["valor_desconto"]) == D("73.21")
    )


def test_simples_sends_ibs_cbs_only_from_2027_01_04_with_the_2027_rates() -> None:
    sale = Sale()
    sale.add_item(product("1", "10.00", SIMPLES), D("1"))
    sale.add_item(product("2", "5.00", None), D("1"))  # no group: full taxation by default
    sale.add_payment(Payment(forma="01", valor=D("15.00")))
    before = build_nfce_payload(
        sale, emitente("simples"), datetime(2027, 1, 3, 23, 0, tzinfo=BRT), ambiente="producao"
    )
    assert all("ibs_cbs_situacao_tributaria" not in i for i in before["items"])
    assert "cbs_valor_total" not in before
    after = build_nfce_payload(sale, emitente("simples"), JAN_2027, ambiente="producao")
    first, second = after["items"]
    assert "icms_aliquota" not in first  # CSOSN: no ICMS fields
    assert (first["ibs_cbs_base_calculo"], first["ibs_uf_aliquota"], first["ibs_mun_aliquota"]) == (
        "10.00",
        "0.0500",
        "0.0500",
    )
    assert (first["ibs_uf_valor"], first["ibs_mun_valor"]) == ("0.01", "0.01")
    assert second["ibs_cbs_classificacao_tributaria"] == "000001"
    assert after["valor_total"] == "15.00"


def test_reduced_rate_class_applies_its_reduction() -> None:
    cesta = replace(
        TRIBUTADO,
        nome="Cesta",
        icms_aliquota=D("7"),
        ibs_cbs_situacao_tributaria="200",
        ibs_cbs_classificacao_tributaria="200034",
    )  # 60 % reduction
    taxes = compute_item_taxes(cesta, D("100.00"), crt="3", on=DEC_2026.date())
    g = taxes.ibs_cbs
    assert g is not None and g.reducao_cbs == D("60")
    # base 100 - 7 - 1.65 - 7.60 = 83.75; CBS 0.9 % x 40 % = 0.36 % -> 0.30
    assert g.base == D("83.75") and g.cbs_valor == D("0.30") and g.ibs_uf_valor == D("0.03")
