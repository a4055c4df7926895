"""The store's customer list: the buyer data an NF-e model 55 needs, typed once and kept."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.validators import (
    is_valid_cep,
    is_valid_cnpj,
    is_valid_uf,
    normalize_cnpj,
    only_digits,
)
from pos_app.core.store.db import SqliteDatabase, iso, utcnow

# indIEDest of the NF-e: 1 contribuinte ICMS (IE informed), 2 contribuinte isento, 9 não contribuinte.
INDICADORES_IE = {"1": "Contribuinte ICMS", "2": "Contribuinte isento de IE", "9": "Não contribuinte"}


@dataclass
class Cliente:
    documento: str
    nome: str
    logradouro: str
    numero: str
    bairro: str
    codigo_municipio: str
    municipio: str
    uf: str
    cep: str
    indicador_ie: str = "9"
    inscricao_estadual: str | None = None
    complemento: str | None = None
    email: str | None = None
    telefone: str | None = None

    def validate(self) -> Cliente:
        self.documento = normalize_cnpj(self.documento)
        if not is_valid_cnpj(self.documento):
            raise ValidationError("documento", f"CNPJ inválido: {self.documento}")
        if not self.nome.strip():
            raise ValidationError("nome", "Informe a razão social do cliente.")
        for field in ("logradouro", "numero", "bairro", "municipio"):
            if not str(getattr(self, field) or "").strip():
                raise ValidationError(field, f"Informe o campo {field} do endereço do cliente.")
        self.codigo_municipio = only_digits(self.codigo_municipio)
        if len(self.codigo_municipio) != 7:
            raise ValidationError("codigo_municipio", "Código IBGE do município: 7 dígitos.")
        self.uf = self.uf.strip().upper()
        if not is_valid_uf(self.uf):
            raise ValidationError("uf", f"UF desconhecida: {self.uf}")
        self.cep = only_digits(self.cep)
        if not is_valid_cep(self.cep):
            raise ValidationError("cep", "CEP inválido (8 dígitos).")
        if self.indicador_ie not in INDICADORES_IE:
            raise ValidationError(
                "indicador_ie", "Indicador de IE: 1 (contribuinte), 2 (isento) ou 9 (não contribuinte)."
            )
        ie = only_digits(self.inscricao_estadual)
        if self.indicador_ie == "1":
            if not 2 <= len(ie) <= 14:
                raise ValidationError(
                    "inscricao_estadual", "Contribuinte do ICMS: informe a inscrição estadual."
                )
            self.inscricao_estadual = ie
        else:
            self.inscricao_estadual = None
        return self

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_FIELDS = [f for f in Cliente.__dataclass_fields__]


class ClientesRepo:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def save(self, cliente: Cliente) -> Cliente:
        cliente.validate()
        now = iso(utcnow())
        values = {k: getattr(cliente, k) for k in _FIELDS}
        with self._db.transaction() as tx:
            exists = tx.execute("SELECT 1 FROM clientes WHERE documento = ?", [cliente.documento]).fetchone()
            if exists:
                sets = ", ".join(f"{k} = ?" for k in values)
                tx.execute(
                    f"UPDATE clientes SET {sets}, updated_at = ? WHERE documento = ?",
                    [*values.values(), now, cliente.documento],
                )
            else:
                cols = [*values, "created_at", "updated_at"]
                tx.execute(
                    f"INSERT INTO clientes ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                    [*values.values(), now, now],
                )
        return cliente

    def get(self, documento: str) -> Cliente | None:
        row = self._db.query_one("SELECT * FROM clientes WHERE documento = ?", [normalize_cnpj(documento)])
        if row is None:
            return None
        return Cliente(**{k: row[k] for k in _FIELDS})

    def list(self, busca: str | None = None) -> list[Cliente]:
        sql = "SELECT * FROM clientes"
        params: list[Any] = []
        if busca:
            sql += " WHERE nome LIKE ? OR documento LIKE ?"
            params = [f"%{busca}%", f"%{normalize_cnpj(busca) or busca}%"]
        sql += " ORDER BY nome"
        return [Cliente(**{k: r[k] for k in _FIELDS}) for r in self._db.query(sql, params)]

    def delete(self, documento: str) -> bool:
        with self._db.transaction() as tx:
            cur = tx.execute("DELETE FROM clientes WHERE documento = ?", [normalize_cnpj(documento)])
            return bool(cur.rowcount)
