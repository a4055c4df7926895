"""The issuing company (emitente) of the NFC-e."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.validators import (
    Regime,
    format_cnpj,
    is_valid_cep,
    is_valid_cnpj,
    is_valid_uf,
    normalize_cnpj,
    only_digits,
)

__all__ = ["Emitente"]

# IBGE state code = first two digits of every município code of that state.
_UF_IBGE: dict[str, str] = {
    "RO": "11", "AC": "12", "AM": "13", "RR": "14", "PA": "15", "AP": "16", "TO": "17",
    "MA": "21", "PI": "22", "CE": "23", "RN": "24", "PB": "25", "PE": "26", "AL": "27",
    "SE": "28", "BA": "29", "MG": "31", "ES": "32", "RJ": "33", "SP": "35", "PR": "41",
    "SC": "42", "RS": "43", "MS": "50", "MT": "51", "GO": "52", "DF": "53",
}  # fmt: skip

_IE = re.compile(r"[0-9]{2,14}")


@dataclass(frozen=True)
class Emitente:
    """Company data printed on the DANFCe and sent as emitente. Documents may be formatted."""

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
    regime: Regime
    telefone: str = ""

    @property
    def crt(self) -> str:
        """Código de Regime Tributário: ``"1"`` Simples Nacional, ``"3"`` regime normal."""
        return "1" if self.regime == "simples" else "3"

    @property
    def cnpj_digits(self) -> str:
        """The CNPJ as stored and sent: 14 digits, or 12 letters/digits + 2 digits (alphanumeric)."""
        return normalize_cnpj(self.cnpj)

    def validate(self) -> None:
        """Raise :class:`ValidationError` for the first field that cannot be used on an NFC-e."""
        if not is_valid_cnpj(self.cnpj):
            raise ValidationError("cnpj", f"CNPJ do emitente inválido: {format_cnpj(self.cnpj)}")
        _required("razao_social", "Razão social", self.razao_social, 60)
        if len(self.nome_fantasia.strip()) > 60:
            raise ValidationError("nome_fantasia", "Nome fantasia deve ter no máximo 60 caracteres")
        ie = self.inscricao_estadual.replace(".", "").replace("-", "").replace("/", "").strip()
        if not _IE.fullmatch(ie):
            raise ValidationError(
                "inscricao_estadual", f"Inscrição estadual inválida: {self.inscricao_estadual!r}"
            )
        _required("logradouro", "Logradouro", self.logradouro, 60)
        _required("numero", "Número do endereço", self.numero, 60)
        _required("bairro", "Bairro", self.bairro, 60)
        _required("municipio", "Município", self.municipio, 60)
        if not is_valid_uf(self.uf):
            raise ValidationError("uf", f"UF inválida: {self.uf!r}")
        codigo = self.codigo_municipio.strip()
        if len(codigo) != 7 or only_digits(codigo) != codigo:
            raise ValidationError(
                "codigo_municipio", f"Código do município (IBGE) inválido: {self.codigo_municipio!r}"
            )
        if codigo[:2] != _UF_IBGE[self.uf]:
            raise ValidationError(
                "codigo_municipio", f"Código do município {codigo} não pertence à UF {self.uf}"
            )
        if not is_valid_cep(self.cep):
            raise ValidationError("cep", f"CEP inválido: {self.cep!r}")
        if self.regime not in ("simples", "normal"):
            raise ValidationError("regime", f"Regime tributário inválido: {self.regime!r}")
        if self.telefone.strip():
            fone = only_digits(self.telefone)
            if not 6 <= len(fone) <= 14:
                raise ValidationError("telefone", f"Telefone inválido: {self.telefone!r}")


def _required(field: str, label: str, value: str, max_len: int) -> None:
    text = (value or "").strip()
    if not text:
        raise ValidationError(field, f"{label}: preenchimento obrigatório")
    if len(text) > max_len:
        raise ValidationError(field, f"{label} deve ter no máximo {max_len} caracteres")
