"""Per-state (UF) tables: IBGE codes, NFC-e QR code and consultation URLs, time zones, contingency rules.

The URL tables follow ``shared/reference/nfce-fiscal-facts.md`` verbatim. To add or fix a state rule,
change the table here and its test in ``tests/unit/test_fiscal_states.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import Final, Literal
from zoneinfo import ZoneInfo

Ambiente = Literal["producao", "homologacao"]

AMBIENTES: Final[tuple[str, ...]] = ("producao", "homologacao")

# tpAmb of the NF-e layout: 1 produção, 2 homologação.
TP_AMB: Final[Mapping[str, int]] = MappingProxyType({"producao": 1, "homologacao": 2})

UF_CODES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "RO": "11",
        "AC": "12",
        "AM": "13",
        "RR": "14",
        "PA": "15",
        "AP": "16",
        "TO": "17",
        "MA": "21",
        "PI": "22",
        "CE": "23",
        "RN": "24",
        "PB": "25",
        "PE": "26",
        "AL": "27",
        "SE": "28",
        "BA": "29",
        "MG": "31",
        "ES": "32",
        "RJ": "33",
        "SP": "35",
        "PR": "41",
        "SC": "42",
        "RS": "43",
        "MS": "50",
        "MT": "51",
        "GO": "52",
        "DF": "53",
    }
)

UF_BY_CODE: Final[Mapping[str, str]] = MappingProxyType({code: uf for uf, code in UF_CODES.items()})

_UF_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "AC": "Acre",
        "AL": "Alagoas",
        "AM": "Amazonas",
        "AP": "Amapá",
        "BA": "Bahia",
        "CE": "Ceará",
        "DF": "Distrito Federal",
        "ES": "Espírito Santo",
        "GO": "Goiás",
        "MA": "Maranhão",
        "MG": "Minas Gerais",
        "MS": "Mato Grosso do Sul",
        "MT": "Mato Grosso",
        "PA": "Pará",
        "PB": "Paraíba",
        "PE": "Pernambuco",
        "PI": "Piauí",
        "PR": "Paraná",
        "RJ": "Rio de Janeiro",
        "RN": "Rio Grande do Norte",
        "RO": "Rondônia",
        "RR": "Roraima",
        "RS": "Rio Grande do Sul",
        "SC": "Santa Catarina",
        "SE": "Sergipe",
        "SP": "São Paulo",
        "TO": "Tocantins",
    }
)

# (produção, homologação) base URL of the QR code consultation, per UF.
QRCODE_URLS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "AC": ("http://www.sefaznet.ac.gov.br/nfce/qrcode", "http://www.hml.sefaznet.ac.gov.br/nfce/qrcode"),
        "AL": (
            "http://nfce.sefaz.al.gov.br/QRCode/consultarNFCe.jsp",
            "http://nfce.sefaz.al.gov.br/QRCode/consultarNFCe.jsp",
        ),
        "AM": (
            "https://sistemas.sefaz.am.gov.br/nfceweb/consultarNFCe.jsp",
            "https://sistemas.sefaz.am.gov.br/nfceweb-hom/consultarNFCe.jsp",
        ),
        "AP": ("https://www.sefaz.ap.gov.br/nfce/nfcep.php", "https://www.sefaz.ap.gov.br/nfcehml/nfce.php"),
        "BA": (
            "http://nfe.sefaz.ba.gov.br/servicos/nfce/qrcode.aspx",
            "http://hnfe.sefaz.ba.gov.br/servicos/nfce/qrcode.aspx",
        ),
        "CE": (
            "http://nfce.sefaz.ce.gov.br/pages/ShowNFCe.html",
            "http://nfceh.sefaz.ce.gov.br/pages/ShowNFCe.html",
        ),
        "DF": ("http://www.fazenda.df.gov.br/nfce/qrcode", "http://dec.fazenda.df.gov.br/ConsultarNFCe.aspx"),
        "ES": (
            "http://app.sefaz.es.gov.br/ConsultaNFCe/qrcode.aspx",
            "http://homologacao.sefaz.es.gov.br/ConsultaNFCe/qrcode.aspx",
        ),
        "GO": (
            "https://nfeweb.sefaz.go.gov.br/nfeweb/sites/nfce/danfeNFCe",
            "https://nfewebhomolog.sefaz.go.gov.br/nfeweb/sites/nfce/danfeNFCe",
        ),
        "MA": (
            "http://www.nfce.sefaz.ma.gov.br/portal/consultarNFCe.jsp",
            "http://www.hom.nfce.sefaz.ma.gov.br/portal/consultarNFCe.jsp",
        ),
        "MG": (
            "https://portalsped.fazenda.mg.gov.br/portalnfce/sistema/qrcode.xhtml",
            "https://portalsped.fazenda.mg.gov.br/portalnfce/sistema/qrcode.xhtml",
        ),
        "MS": ("http://www.dfe.ms.gov.br/nfce/qrcode", "http://www.dfe.ms.gov.br/nfce/qrcode"),
        "MT": (
            "http://www.sefaz.mt.gov.br/nfce/consultanfce",
            "http://homologacao.sefaz.mt.gov.br/nfce/consultanfce",
        ),
        "PA": (
            "https://appnfc.sefa.pa.gov.br/portal/view/consultas/nfce/nfceForm.seam",
            "https://appnfc.sefa.pa.gov.br/portal-homologacao/view/consultas/nfce/nfceForm.seam",
        ),
        "PB": ("http://www.sefaz.pb.gov.br/nfce", "http://www.sefaz.pb.gov.br/nfcehom"),
        "PE": (
            "http://nfce.sefaz.pe.gov.br/nfce/consulta",
            "http://nfcehomolog.sefaz.pe.gov.br/nfce/consulta",
        ),
        "PI": ("http://www.sefaz.pi.gov.br/nfce/qrcode", "http://www.sefaz.pi.gov.br/nfce/qrcode"),
        "PR": ("http://www.fazenda.pr.gov.br/nfce/qrcode", "http://www.fazenda.pr.gov.br/nfce/qrcode"),
        "RJ": (
            "https://consultadfe.fazenda.rj.gov.br/consultaNFCe/QRCode",
            "http://www4.fazenda.rj.gov.br/consultaNFCe/QRCode",
        ),
        "RN": (
            "http://nfce.set.rn.gov.br/consultarNFCe.aspx",
            "http://hom.nfce.set.rn.gov.br/consultarNFCe.aspx",
        ),
        "RO": (
            "http://www.nfce.sefin.ro.gov.br/consultanfce/consulta.jsp",
            "http://www.nfce.sefin.ro.gov.br/consultanfce/consulta.jsp",
        ),
        "RR": (
            "https://www.sefaz.rr.gov.br/servlet/qrcode",
            "http://200.174.88.103:8080/nfce/servlet/qrcode",
        ),
        "RS": (
            "https://www.sefaz.rs.gov.br/NFCE/NFCE-COM.aspx",
            "https://www.sefaz.rs.gov.br/NFCE/NFCE-COM.aspx",
        ),
        "SC": ("https://sat.sef.sc.gov.br/nfce/consulta", "https://hom.sat.sef.sc.gov.br/nfce/consulta"),
        "SE": ("http://www.nfce.se.gov.br/nfce/qrcode", "http://www.hom.nfe.se.gov.br/nfce/qrcode"),
        "SP": (
            "https://www.nfce.fazenda.sp.gov.br/qrcode",
            "https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode",
        ),
        "TO": ("http://www.sefaz.to.gov.br/nfce/qrcode", "http://homologacao.sefaz.to.gov.br/nfce/qrcode"),
    }
)

# (produção, homologação) urlChave printed on the DANFCe ("Consulte pela Chave de Acesso em"), per UF.
CONSULTA_URLS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "AC": ("www.sefaznet.ac.gov.br/nfce/consulta", "www.sefaznet.ac.gov.br/nfce/consulta"),
        "AL": ("www.sefaz.al.gov.br/nfce/consulta", "www.sefaz.al.gov.br/nfce/consulta"),
        "AM": ("www.sefaz.am.gov.br/nfce/consulta", "www.sefaz.am.gov.br/nfce/consulta"),
        "AP": ("www.sefaz.ap.gov.br/nfce/consulta", "www.sefaz.ap.gov.br/nfce/consulta"),
        "BA": ("http://www.sefaz.ba.gov.br/nfce/consulta", "http://hinternet.sefaz.ba.gov.br/nfce/consulta"),
        "CE": ("www.sefaz.ce.gov.br/nfce/consulta", "www.sefaz.ce.gov.br/nfce/consulta"),
        "DF": ("www.fazenda.df.gov.br/nfce/consulta", "www.fazenda.df.gov.br/nfce/consulta"),
        "ES": ("www.sefaz.es.gov.br/nfce/consulta", "www.sefaz.es.gov.br/nfce/consulta"),
        "GO": (
            "www.sefaz.go.gov.br/nfce/consulta",
            "www.nfce.go.gov.br/post/ver/214413/consulta-nfc-e-homologacao",
        ),
        "MA": ("www.sefaz.ma.gov.br/nfce/consulta", "www.sefaz.ma.gov.br/nfce/consulta"),
        "MG": (
            "https://portalsped.fazenda.mg.gov.br/portalnfce",
            "https://hportalsped.fazenda.mg.gov.br/portalnfce",
        ),
        "MS": ("http://www.dfe.ms.gov.br/nfce/consulta", "http://www.dfe.ms.gov.br/nfce/consulta"),
        "MT": (
            "http://www.sefaz.mt.gov.br/nfce/consultanfce",
            "http://homologacao.sefaz.mt.gov.br/nfce/consultanfce",
        ),
        "PA": ("www.sefa.pa.gov.br/nfce/consulta", "www.sefa.pa.gov.br/nfce/consulta"),
        "PB": ("www.sefaz.pb.gov.br/nfce/consulta", "www.sefaz.pb.gov.br/nfcehom"),
        "PE": ("nfce.sefaz.pe.gov.br/nfce/consulta", "nfce.sefaz.pe.gov.br/nfce/consulta"),
        "PI": ("www.sefaz.pi.gov.br/nfce/consulta", "www.sefaz.pi.gov.br/nfce/consulta"),
        "PR": ("http://www.fazenda.pr.gov.br/nfce/consulta", "http://www.fazenda.pr.gov.br/nfce/consulta"),
        "RJ": ("www.fazenda.rj.gov.br/nfce/consulta", "www.fazenda.rj.gov.br/nfce/consulta"),
        "RN": ("www.set.rn.gov.br/nfce/consulta", "www.set.rn.gov.br/nfce/consulta"),
        "RO": ("www.sefin.ro.gov.br/nfce/consulta", "www.sefin.ro.gov.br/nfce/consulta"),
        "RR": ("www.sefaz.rr.gov.br/nfce/consulta", "www.sefaz.rr.gov.br/nfce/consulta"),
        "RS": ("www.sefaz.rs.gov.br/nfce/consulta", "www.sefaz.rs.gov.br/nfce/consulta"),
        "SC": ("https://sat.sef.sc.gov.br/nfce/consulta", "https://hom.sat.sef.sc.gov.br/nfce/consulta"),
        "SE": ("http://www.nfce.se.gov.br/nfce/consulta", "http://www.hom.nfe.se.gov.br/nfce/consulta"),
        "SP": (
            "https://www.nfce.fazenda.sp.gov.br/NFCeConsultaPublica",
            "https://www.homologacao.nfce.fazenda.sp.gov.br/NFCeConsultaPublica",
        ),
        "TO": ("www.sefaz.to.gov.br/nfce/consulta", "http://homologacao.sefaz.to.gov.br/nfce/consulta.jsf"),
    }
)

# Default IANA zone per UF (the zone of the capital and of most of the state).
_UF_TIMEZONES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "AC": "America/Rio_Branco",
        "AL": "America/Maceio",
        "AM": "America/Manaus",
        "AP": "America/Belem",
        "BA": "America/Bahia",
        "CE": "America/Fortaleza",
        "DF": "America/Sao_Paulo",
        "ES": "America/Sao_Paulo",
        "GO": "America/Sao_Paulo",
        "MA": "America/Fortaleza",
        "MG": "America/Sao_Paulo",
        "MS": "America/Campo_Grande",
        "MT": "America/Cuiaba",
        "PA": "America/Belem",
        "PB": "America/Fortaleza",
        "PE": "America/Recife",
        "PI": "America/Fortaleza",
        "PR": "America/Sao_Paulo",
        "RJ": "America/Sao_Paulo",
        "RN": "America/Fortaleza",
        "RO": "America/Porto_Velho",
        "RR": "America/Boa_Vista",
        "RS": "America/Sao_Paulo",
        "SC": "America/Sao_Paulo",
        "SE": "America/Maceio",
        "SP": "America/Sao_Paulo",
        "TO": "America/Araguaina",
    }
)

# Municipalities (IBGE code) whose zone differs from their state's default.
#
# Amazonas, UTC-05:00 (America/Eirunepe): Lei 12.876/2013 puts the part of Amazonas west of the line
# Tabatinga-Porto Acre on Acre time. The tz database comment names only towns (Atalaia do Norte,
# Benjamin Constant, Eirunepé, Envira, Ipixuna) and places Boca do Acre east; the regional press
# (Portal Amazônia, "Você sabia que o Amazonas possui mais de um fuso horário?") lists 11
# municipalities, including Boca do Acre, which is what local clocks follow. We use that list.
# Pará (America/Santarem): the tz database's "west Pará" towns (Altamira, Óbidos, Oriximiná, Prainha,
# Santarém). Since Lei 11.662/2008 the whole state is on UTC-03:00, so this only matters for
# dates before 2008-06-24.
# Pernambuco: Fernando de Noronha is UTC-02:00 (America/Noronha).
# Codes checked against the IBGE check digit (7th digit).
_MUNICIPIO_TIMEZONES: Final[Mapping[int, str]] = MappingProxyType(
    {
        1300060: "America/Eirunepe",  # Amaturá
        1300201: "America/Eirunepe",  # Atalaia do Norte
        1300607: "America/Eirunepe",  # Benjamin Constant
        1300706: "America/Eirunepe",  # Boca do Acre
        1301407: "America/Eirunepe",  # Eirunepé
        1301506: "America/Eirunepe",  # Envira
        1301654: "America/Eirunepe",  # Guajará
        1301803: "America/Eirunepe",  # Ipixuna
        1301951: "America/Eirunepe",  # Itamarati
        1303502: "America/Eirunepe",  # Pauini
        1303908: "America/Eirunepe",  # São Paulo de Olivença
        1500602: "America/Santarem",  # Altamira
        1505106: "America/Santarem",  # Óbidos
        1505304: "America/Santarem",  # Oriximiná
        1506005: "America/Santarem",  # Prainha
        1506807: "America/Santarem",  # Santarém
        2605459: "America/Noronha",  # Fernando de Noronha
    }
)


@dataclass(frozen=True)
class OfflineContingencyRule:
    """A state's rule on NFC-e offline contingency (tpEmis 9) from a date on (data, not code)."""

    uf: str
    since: date
    allowed: bool
    source: str


# Every state accepts tpEmis 9 (Ajuste SINIEF 19/16) unless a dated rule below says otherwise; the
# latest rule whose date has come wins. São Paulo refused it until Portaria SRE 40/2024 allowed it
# from 01/07/2024 (an earlier version of this table wrongly refused it for good).
OFFLINE_CONTINGENCY_RULES: Final[tuple[OfflineContingencyRule, ...]] = (
    OfflineContingencyRule("SP", date(2000, 1, 1), False, "SP usava SAT/EPEC; sem tpEmis 9 na NFC-e"),
    OfflineContingencyRule(
        "SP", date(2024, 7, 1), True, "Portaria SRE 40/2024 (contingência offline da NFC-e em SP)"
    ),
)

# Every contingency note must be transmitted within this delay after its issue.
CONTINGENCY_DEADLINE: Final[timedelta] = timedelta(hours=24)


def normalize_uf(uf: str) -> str:
    """Return the two-letter UF in upper case; raise ValueError when it is not a Brazilian state."""
    value = uf.strip().upper() if isinstance(uf, str) else ""
    if value not in UF_CODES:
        raise ValueError(f"UF desconhecida: {uf!r}")
    return value


def uf_code(uf: str) -> str:
    """IBGE code of a UF, two digits (``"PR"`` -> ``"41"``)."""
    return UF_CODES[normalize_uf(uf)]


def uf_from_code(code: int | str) -> str:
    """UF of an IBGE state code (41 or ``"41"`` -> ``"PR"``)."""
    text = f"{code:02d}" if isinstance(code, int) and not isinstance(code, bool) else str(code).strip()
    if text not in UF_BY_CODE:
        raise ValueError(f"Código de UF desconhecido: {code!r}")
    return UF_BY_CODE[text]


def uf_name(uf: str) -> str:
    """Portuguese name of the state (``"SP"`` -> ``"São Paulo"``)."""
    return _UF_NAMES[normalize_uf(uf)]


def tp_amb(ambiente: str) -> int:
    """tpAmb of an environment name: ``"producao"`` -> 1, ``"homologacao"`` -> 2."""
    return TP_AMB[_check_ambiente(ambiente)]


def _check_ambiente(ambiente: str) -> str:
    if ambiente not in TP_AMB:
        raise ValueError(f"Ambiente inválido: {ambiente!r} (use 'producao' ou 'homologacao')")
    return ambiente


def _pick(table: Mapping[str, tuple[str, str]], uf: str, ambiente: str) -> str:
    producao, homologacao = table[normalize_uf(uf)]
    return producao if _check_ambiente(ambiente) == "producao" else homologacao


def qrcode_base_url(uf: str, ambiente: str) -> str:
    """Base URL of the NFC-e QR code of ``uf`` in ``ambiente`` ("producao" or "homologacao")."""
    return _pick(QRCODE_URLS, uf, ambiente)


def url_consulta(uf: str, ambiente: str) -> str:
    """urlChave: where the consumer looks the key up, printed on the DANFCe."""
    return _pick(CONSULTA_URLS, uf, ambiente)


def timezone_for(uf: str, codigo_municipio: int | str | None = None) -> ZoneInfo:
    """Time zone of an issuer in ``uf``, refined by its IBGE municipality code when given.

    ``data_emissao`` (and the AAMM of the key, and the day printed in the QR code) must be local
    time of the issuer, so the zone comes from where the store is, not from the computer's settings.
    Raises ValueError only for an unknown UF: this sits in the path of every sale, so a malformed
    municipality code, or one from another state, falls back to the state's zone (checking it is
    ``Emitente.validate``'s job).
    """
    state = normalize_uf(uf)
    code = _municipio_code(codigo_municipio)
    if code is not None and code // 100000 == int(UF_CODES[state]) and code in _MUNICIPIO_TIMEZONES:
        return ZoneInfo(_MUNICIPIO_TIMEZONES[code])
    return ZoneInfo(_UF_TIMEZONES[state])


def _municipio_code(codigo_municipio: int | str | None) -> int | None:
    text = "" if codigo_municipio is None else str(codigo_municipio).strip()
    if len(text) != 7 or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def offline_contingency_allowed(uf: str, on: date | None = None) -> bool:
    """Whether the state accepts NFC-e issued in offline contingency (tpEmis 9) on a date (today
    by default), from :data:`OFFLINE_CONTINGENCY_RULES`. Since July 2024 every state does."""
    code = normalize_uf(uf)
    day = on or date.today()
    allowed = True
    for rule in sorted(OFFLINE_CONTINGENCY_RULES, key=lambda r: r.since):
        if rule.uf == code and rule.since <= day:
            allowed = rule.allowed
    return allowed
