from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pos_app.core.fiscal.states import (
    CONSULTA_URLS,
    CONTINGENCY_DEADLINE,
    OFFLINE_CONTINGENCY_RULES,
    QRCODE_URLS,
    UF_CODES,
    offline_contingency_allowed,
    qrcode_base_url,
    timezone_for,
    tp_amb,
    uf_from_code,
    uf_name,
    url_consulta,
)

ALL_UFS = sorted(UF_CODES)
# A winter date far from any historical DST rule.
JULY = datetime(2025, 7, 15, 12, 0)


def _offset(zone: ZoneInfo) -> timedelta | None:
    return JULY.replace(tzinfo=zone).utcoffset()


def test_all_27_ufs_with_their_ibge_codes() -> None:
    assert len(UF_CODES) == 27
    assert len(set(UF_CODES.values())) == 27
    assert UF_CODES["PR"] == "41" and UF_CODES["SP"] == "35" and UF_CODES["MG"] == "31"
    assert UF_CODES["RJ"] == "33" and UF_CODES["RS"] == "43" and UF_CODES["SC"] == "42"
    assert UF_CODES["BA"] == "29" and UF_CODES["DF"] == "53" and UF_CODES["RO"] == "11"
    assert all(len(code) == 2 and code.isdigit() for code in UF_CODES.values())
    assert uf_from_code(41) == "PR" and uf_from_code("53") == "DF"
    with pytest.raises(ValueError):
        uf_from_code(91)


@pytest.mark.parametrize("uf", ALL_UFS)
@pytest.mark.parametrize("ambiente", ["producao", "homologacao"])
def test_every_uf_has_both_urls_in_both_environments(uf: str, ambiente: str) -> None:
    base = qrcode_base_url(uf, ambiente)
    consulta = url_consulta(uf, ambiente)
    assert base.startswith(("http://", "https://"))
    assert consulta and " " not in consulta and " " not in base


def test_tables_cover_exactly_the_27_ufs() -> None:
    assert set(QRCODE_URLS) == set(UF_CODES) == set(CONSULTA_URLS)


def test_urls_match_the_reference_table_samples() -> None:
    assert qrcode_base_url("PR", "producao") == "http://www.fazenda.pr.gov.br/nfce/qrcode"
    assert qrcode_base_url("SP", "homologacao") == "https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode"
    assert qrcode_base_url("RR", "homologacao") == "http://200.174.88.103:8080/nfce/servlet/qrcode"
    assert url_consulta("MG", "homologacao") == "https://hportalsped.fazenda.mg.gov.br/portalnfce"
    assert url_consulta("TO", "homologacao") == "http://homologacao.sefaz.to.gov.br/nfce/consulta.jsf"
    assert url_consulta("ba", "producao") == "http://www.sefaz.ba.gov.br/nfce/consulta"


@pytest.mark.parametrize("ambiente", ["produção", "prod", "", "PRODUCAO"])
def test_unknown_environment_is_an_error(ambiente: str) -> None:
    with pytest.raises(ValueError):
        qrcode_base_url("PR", ambiente)
    with pytest.raises(ValueError):
        url_consulta("PR", ambiente)


def test_unknown_uf_is_an_error() -> None:
    with pytest.raises(ValueError):
        qrcode_base_url("XX", "producao")
    with pytest.raises(ValueError):
        timezone_for("EX")


def test_tp_amb() -> None:
    assert tp_amb("producao") == 1 and tp_amb("homologacao") == 2


@pytest.mark.parametrize("uf", ALL_UFS)
def test_every_uf_timezone_resolves(uf: str) -> None:
    offset = _offset(timezone_for(uf))
    assert offset is not None and timedelta(hours=-5) <= offset <= timedelta(hours=-3)


@pytest.mark.parametrize(
    ("uf", "municipio", "zone", "hours"),
    [
        ("SP", None, "America/Sao_Paulo", -3),
        ("PE", None, "America/Recife", -3),
        ("PE", 2605459, "America/Noronha", -2),  # Fernando de Noronha
        ("PE", "2611606", "America/Recife", -3),  # Recife
        ("AM", None, "America/Manaus", -4),
        ("AM", 1302603, "America/Manaus", -4),  # Manaus
        ("AM", 1301407, "America/Eirunepe", -5),  # Eirunepé
        ("AM", "1300607", "America/Eirunepe", -5),  # Benjamin Constant
        ("AC", None, "America/Rio_Branco", -5),
        ("RR", None, "America/Boa_Vista", -4),
        ("RO", None, "America/Porto_Velho", -4),
        ("MT", None, "America/Cuiaba", -4),
        ("MS", None, "America/Campo_Grande", -4),
        ("PA", None, "America/Belem", -3),
        ("PA", 1506807, "America/Santarem", -3),  # Santarém
        ("TO", None, "America/Araguaina", -3),
        ("BA", None, "America/Bahia", -3),
        ("CE", None, "America/Fortaleza", -3),
        ("AL", None, "America/Maceio", -3),
        ("SE", None, "America/Maceio", -3),
        ("AP", None, "America/Belem", -3),
        ("DF", None, "America/Sao_Paulo", -3),
        ("GO", "", "America/Sao_Paulo", -3),
    ],
)
def test_timezones(uf: str, municipio: int | str | None, zone: str, hours: int) -> None:
    tz = timezone_for(uf, municipio)
    assert tz.key == zone
    assert _offset(tz) == timedelta(hours=hours)


def test_noronha_prints_minus_two() -> None:
    stamp = datetime(2025, 3, 10, 9, 0, tzinfo=timezone_for("PE", 2605459))
    assert stamp.isoformat().endswith("-02:00")


@pytest.mark.parametrize("municipio", [4106902, "410690", "abcdefg", "２６０５４５９"])
def test_municipio_of_another_state_or_malformed_falls_back_to_the_state_zone(municipio: int | str) -> None:
    # 4106902 is Curitiba (PR), not in Pernambuco; validating it is the Emitente's job.
    assert timezone_for("PE", municipio).key == "America/Recife"


def test_noronha_code_under_another_state_is_ignored() -> None:
    assert timezone_for("PB", 2605459).key == "America/Fortaleza"


def test_offline_contingency_allowed_in_every_state_including_sao_paulo() -> None:
    # Portaria SRE 40/2024: tpEmis 9 in São Paulo since 01/07/2024 (the old table refused it).
    assert offline_contingency_allowed("SP") and offline_contingency_allowed("sp")
    assert all(offline_contingency_allowed(uf) for uf in ALL_UFS)
    assert offline_contingency_allowed("SP", date(2026, 12, 2))


def test_offline_contingency_rule_is_dated_data() -> None:
    assert not offline_contingency_allowed("SP", date(2024, 6, 30))
    assert offline_contingency_allowed("SP", date(2024, 7, 1))
    assert offline_contingency_allowed("RJ", date(2020, 1, 1))
    sp = [rule for rule in OFFLINE_CONTINGENCY_RULES if rule.uf == "SP"]
    assert sp[-1].allowed and "40/2024" in sp[-1].source


def test_contingency_deadline_is_24_hours() -> None:
    assert timedelta(hours=24) == CONTINGENCY_DEADLINE


def test_uf_names_in_portuguese() -> None:
    assert uf_name("SP") == "São Paulo"
    assert uf_name("pi") == "Piauí"
    assert all(uf_name(uf) for uf in ALL_UFS)
