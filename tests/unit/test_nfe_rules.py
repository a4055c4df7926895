"""The dated per-state rule for CNPJ buyers and the customer list's validation."""

from __future__ import annotations

from datetime import date

import pytest

from pos_app.core.domain.errors import ValidationError
from pos_app.core.fiscal.nfe_rules import (
    RULES,
    CnpjBuyerRule,
    modelo_for_sale,
    nfe_consulta_url,
    rule_for,
)
from pos_app.core.fiscal.states import UF_CODES
from pos_app.core.store.clientes import Cliente


def test_every_state_has_a_dated_rule_switching_to_nfe_on_2026_05_04() -> None:
    assert {r.uf for r in RULES} == set(UF_CODES)
    for uf in UF_CODES:
        assert rule_for(uf, date(2026, 5, 3)).modelo == 65
        assert rule_for(uf, date(2026, 5, 4)).modelo == 55
        assert rule_for(uf, date(2026, 12, 2)).modelo == 55


def test_a_later_row_of_a_state_wins_from_its_date() -> None:
    rules = (*RULES, CnpjBuyerRule("SP", date(2027, 1, 1), 65, "hipotética"))
    assert rule_for("SP", date(2026, 12, 31), rules).modelo == 55
    assert rule_for("SP", date(2027, 1, 1), rules).modelo == 65
    assert rule_for("PR", date(2027, 1, 1), rules).modelo == 55


@pytest.mark.parametrize(
    ("cnpj", "override", "expected"),
    [
        (True, "auto", 55),
        (True, "nfe", 55),
        (True, "nfce", 65),
        (False, "auto", 65),
        (False, "nfe", 65),
    ],
)
def test_override_and_cpf(cnpj: bool, override: str, expected: int) -> None:
    assert modelo_for_sale("PR", date(2026, 12, 2), buyer_is_cnpj=cnpj, override=override) == expected


def test_before_the_adjustment_a_cnpj_buyer_gets_an_nfce() -> None:
    assert modelo_for_sale("SP", date(2026, 1, 10), buyer_is_cnpj=True) == 65


def test_consulta_url_carries_the_key() -> None:
    assert nfe_consulta_url("35" + "0" * 42).endswith("nfe=35" + "0" * 42)


def _cliente(**kw: str) -> Cliente:
    base = dict(
        documento="12.ABC.345/01DE-35",
        nome="BOA MESA",
        logradouro="Rua A",
        numero="1",
        bairro="Centro",
        codigo_municipio="4106902",
        municipio="Curitiba",
        uf="pr",
        cep="80010-000",
        indicador_ie="1",
        inscricao_estadual="90.440.166-88",
    )
    base.update(kw)
    return Cliente(**base)  # type: ignore[arg-type]


def test_cliente_normalizes_alphanumeric_cnpj_cep_uf_and_ie() -> None:
    c = _cliente().validate()
    assert (c.documento, c.uf, c.cep, c.inscricao_estadual) == (
        "12ABC34501DE35",
        "PR",
        "80010000",
        "9044016688",
    )


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"documento": "12ABC34501DE36"}, "documento"),
        ({"nome": " "}, "nome"),
        ({"codigo_municipio": "41069"}, "codigo_municipio"),
        ({"uf": "XX"}, "uf"),
        ({"inscricao_estadual": ""}, "inscricao_estadual"),
        ({"indicador_ie": "3"}, "indicador_ie"),
    ],
)
def test_cliente_refuses_what_the_nfe_cannot_carry(kw: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        _cliente(**kw).validate()
    assert err.value.field == field


def test_non_contributor_drops_the_ie() -> None:
    assert _cliente(indicador_ie="9").validate().inscricao_estadual is None
