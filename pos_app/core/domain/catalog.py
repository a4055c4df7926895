"""Products sold at the counter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.money import ZERO, as_decimal, decimal_places, format_brl
from pos_app.core.domain.validators import (
    CSOSN_SIMPLES,
    CST_NORMAL,
    ICMS_ORIGENS,
    is_valid_cest,
    is_valid_cfop_nfce,
    is_valid_gtin,
    is_valid_ncm,
    valid_icms_codes,
)

if TYPE_CHECKING:
    from pos_app.core.domain.tax_group import TaxGroup

__all__ = ["CATALOG_CSV_FIELDS", "Product", "product_from_row"]

CATALOG_CSV_FIELDS: tuple[str, ...] = (
    "codigo",
    "ean",
    "descricao",
    "ncm",
    "cfop",
    "unidade",
    "preco",
    "icms_origem",
    "icms_situacao_tributaria",
    "tributos_percentual",
)
"""Header of ``pos_app/resources/demo_catalog.csv`` (an optional ``cest`` column is also understood)."""


@dataclass
class Product:
    """A catalog product.

    ``preco`` and ``tributos_percentual`` accept ``Decimal``, ``int`` or text (converted to
    ``Decimal``); a ``float`` raises ``TypeError``. ``ean`` is ``None`` for goods without a
    barcode (e.g. weighed bread): the NFC-e then carries ``SEM GTIN``.
    ``tributos_percentual`` is the approximate tax burden (Lei 12.741/2012, IBPT table), in %.
    """

    codigo: str
    descricao: str
    ncm: str
    cfop: str
    unidade: str
    preco: Decimal
    ean: str | None = None
    icms_origem: str = "0"
    icms_situacao_tributaria: str = "102"
    tributos_percentual: Decimal = ZERO
    cest: str | None = None
    id: int | None = None
    grupo_tributario: str | None = None
    """Name of the product's tax group; its ICMS/PIS/COFINS/IBS/CBS data win over the columns above."""
    tax_group: TaxGroup | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.grupo_tributario is not None and not self.grupo_tributario.strip():
            self.grupo_tributario = None
        if self.tax_group is not None:
            # The group is the product's tax situation: the old columns follow it.
            self.icms_origem = self.tax_group.icms_origem
            self.icms_situacao_tributaria = self.tax_group.icms_situacao_tributaria
            if self.tax_group.cest:
                self.cest = self.tax_group.cest
            if self.tax_group.tributos_percentual is not None:
                self.tributos_percentual = self.tax_group.tributos_percentual
        self.preco = as_decimal(self.preco, "preco", "Preço")
        self.tributos_percentual = as_decimal(
            self.tributos_percentual, "tributos_percentual", "Percentual de tributos"
        )
        if self.ean is not None and not self.ean.strip():
            self.ean = None
        if self.cest is not None and not self.cest.strip():
            self.cest = None

    def validate(self, regime: str | None = None) -> None:
        """Raise :class:`ValidationError` for the first problem.

        With ``regime`` (``"simples"``/``"normal"``) the ICMS code must be a CSOSN/CST of that
        regime; without it, any code of either table is accepted.
        """
        codigo = (self.codigo or "").strip()
        if not codigo:
            raise ValidationError("codigo", "Código do produto: preenchimento obrigatório")
        if len(codigo) > 60:
            raise ValidationError("codigo", "Código do produto deve ter no máximo 60 caracteres")
        descricao = (self.descricao or "").strip()
        if not descricao:
            raise ValidationError("descricao", "Descrição do produto: preenchimento obrigatório")
        if len(descricao) > 120:
            raise ValidationError("descricao", "Descrição do produto deve ter no máximo 120 caracteres")
        if not is_valid_ncm(self.ncm):
            raise ValidationError("ncm", f"NCM inválido: {self.ncm!r} (deve ter 8 dígitos)")
        if not is_valid_cfop_nfce(self.cfop):
            raise ValidationError("cfop", f"CFOP inválido para NFC-e: {self.cfop!r}")
        unidade = (self.unidade or "").strip()
        if not unidade or len(unidade) > 6:
            raise ValidationError("unidade", f"Unidade inválida: {self.unidade!r} (1 a 6 caracteres)")
        if self.preco <= 0:
            raise ValidationError("preco", f"Preço deve ser maior que zero: {format_brl(self.preco)}")
        if decimal_places(self.preco) > 10:
            raise ValidationError("preco", "Preço deve ter no máximo 10 casas decimais")
        if self.ean is not None and not is_valid_gtin(self.ean):
            raise ValidationError("ean", f"Código de barras (GTIN/EAN) inválido: {self.ean}")
        if self.icms_origem not in ICMS_ORIGENS:
            raise ValidationError("icms_origem", f"Origem da mercadoria inválida: {self.icms_origem!r}")
        allowed = valid_icms_codes(regime) if regime is not None else CSOSN_SIMPLES | CST_NORMAL
        if self.icms_situacao_tributaria not in allowed:
            kind = "CSOSN" if regime == "simples" else "CST" if regime == "normal" else "CST/CSOSN"
            raise ValidationError(
                "icms_situacao_tributaria",
                f"Situação tributária do ICMS ({kind}) inválida: {self.icms_situacao_tributaria!r}",
            )
        if not ZERO <= self.tributos_percentual <= 100:
            raise ValidationError(
                "tributos_percentual", "Percentual aproximado de tributos deve estar entre 0 e 100"
            )
        if self.cest is not None and not is_valid_cest(self.cest):
            raise ValidationError("cest", f"CEST inválido: {self.cest!r} (deve ter 7 dígitos)")
        if self.tax_group is not None:
            self.tax_group.validate(regime)
        elif self.grupo_tributario is not None and regime is not None:
            raise ValidationError(
                "grupo_tributario",
                f"Grupo tributário {self.grupo_tributario!r} do produto {codigo} não existe",
            )
        elif regime == "normal" and self.icms_situacao_tributaria in ("00", "20"):
            raise ValidationError(
                "grupo_tributario",
                f"Produto {codigo} com CST {self.icms_situacao_tributaria} precisa de um grupo tributário "
                "(alíquota e modalidade do ICMS, PIS/COFINS)",
            )


def product_from_row(row: Mapping[str, str | None]) -> Product:
    """Build a product from a CSV row with :data:`CATALOG_CSV_FIELDS` (``csv.DictReader``).

    Numbers may use dot or comma decimals. Does not validate: call ``validate()``.
    Missing required columns raise :class:`ValidationError`.
    """

    def text(name: str, default: str | None = None) -> str:
        value = row.get(name)
        if value is None or not value.strip():
            if default is not None:
                return default
            raise ValidationError(name, f"Coluna {name!r} vazia ou ausente")
        return value.strip()

    ean = (row.get("ean") or "").strip() or None
    cest = (row.get("cest") or "").strip() or None
    return Product(
        codigo=text("codigo"),
        descricao=text("descricao"),
        ncm=text("ncm"),
        cfop=text("cfop"),
        unidade=text("unidade", "UN").upper(),
        preco=as_decimal(text("preco"), "preco", "Preço"),
        ean=ean,
        icms_origem=text("icms_origem", "0"),
        icms_situacao_tributaria=text("icms_situacao_tributaria", "102"),
        tributos_percentual=as_decimal(
            text("tributos_percentual", "0"), "tributos_percentual", "Percentual de tributos"
        ),
        cest=cest,
    )
