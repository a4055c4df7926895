"""Companies (emitentes) the sandbox knows, as a Focus account would have them registered."""

from __future__ import annotations

from dataclasses import dataclass

from pos_app.core.domain.validators import is_valid_cnpj, only_digits
from pos_app.core.fiscal.states import UF_CODES

DEMO_CSC = "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D"


@dataclass(frozen=True)
class CompanyConfig:
    """One emitter registered in the sandbox, with its NFC-e numbering and CSC."""

    cnpj: str
    razao_social: str
    nome_fantasia: str
    inscricao_estadual: str
    logradouro: str
    numero: str
    bairro: str
    municipio: str
    codigo_municipio: str
    uf: str
    cep: str
    regime: str  # "simples" | "normal"
    serie_nfce: int = 1
    proximo_numero: int = 1
    csc_id: str = "1"
    csc: str = DEMO_CSC
    telefone: str = ""

    def __post_init__(self) -> None:
        if not is_valid_cnpj(self.cnpj):
            raise ValueError(f"CNPJ inválido para a empresa do sandbox: {self.cnpj!r}")
        if self.uf not in UF_CODES:
            raise ValueError(f"UF desconhecida: {self.uf!r}")
        if self.regime not in ("simples", "normal"):
            raise ValueError("regime deve ser 'simples' ou 'normal'")
        if len(only_digits(self.cep)) != 8:
            raise ValueError(f"CEP inválido: {self.cep!r}")
        if not (0 <= self.serie_nfce <= 999) or self.proximo_numero < 1:
            raise ValueError("série ou próximo número inválido")
        if not self.csc_id.isdigit():
            raise ValueError("csc_id deve ser numérico")

    @property
    def crt(self) -> str:
        """Código de Regime Tributário: 1 = Simples Nacional, 3 = regime normal."""
        return "1" if self.regime == "simples" else "3"

    @property
    def cuf(self) -> str:
        return UF_CODES[self.uf]


DEMO_COMPANY = CompanyConfig(
    cnpj="98765432000198",
    razao_social="MERCADINHO DEMONSTRAÇÃO LTDA",
    nome_fantasia="Mercadinho Demonstração",
    inscricao_estadual="9041234552",
    logradouro="Rua XV de Novembro",
    numero="1000",
    bairro="Centro",
    municipio="Curitiba",
    codigo_municipio="4106902",
    uf="PR",
    cep="80010000",
    regime="simples",
    telefone="4133334444",
)

# Second demo company: regime normal (CRT 3) in the city of São Paulo, with an alphanumeric CNPJ
# (IN RFB 2.229/2024; check digits with ord(c) - 48). Offline contingency works there too.
DEMO_COMPANY_SP = CompanyConfig(
    cnpj="A1B2C3D4000193",
    razao_social="SUPERMERCADO PAULISTA DEMONSTRAÇÃO LTDA",
    nome_fantasia="Supermercado Paulista Demonstração",
    inscricao_estadual="110042490114",
    logradouro="Avenida Paulista",
    numero="1000",
    bairro="Bela Vista",
    municipio="São Paulo",
    codigo_municipio="3550308",
    uf="SP",
    cep="01310100",
    regime="normal",
    telefone="1133334444",
)

DEMO_COMPANIES: dict[str, CompanyConfig] = {"pr": DEMO_COMPANY, "sp": DEMO_COMPANY_SP}
"""Demo companies by short name (``pos-app demo empresa pr|sp``)."""
