"""Tax groups in catalog files: the ``grupo_tributario`` column and the Focus-named tax columns of a
catalog CSV, the tax-group CSV, and exports that import back unchanged.

Catalog rows may reference a group by name (``grupo_tributario``) or define it inline with the tax
columns (then the name is required; the file's definition wins over the stored one). The product's
own ``cest`` and ``tributos_percentual`` (which depend on its NCM) stay on the product.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from pos_app.core.domain.catalog import CATALOG_CSV_FIELDS, Product
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.tax_group import TAX_GROUP_FIELDS, TaxGroup, group_fields_present, tax_group_from_row

__all__ = [
    "CATALOG_EXPORT_FIELDS",
    "export_catalog",
    "export_tax_groups",
    "import_tax_groups_rows",
    "resolve_catalog_groups",
]

CATALOG_EXPORT_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys((*CATALOG_CSV_FIELDS, "cest", *TAX_GROUP_FIELDS)).keys()
)
"""Columns of ``catalog export``: the classic header, then the group name and its Focus-named fields."""

_PRODUCT_OWN = ("cest", "tributos_percentual")


def _same(a: TaxGroup, b: TaxGroup) -> bool:
    return replace(a, id=None) == replace(b, id=None)


def _reason(exc: ValidationError) -> str:
    return f"campo {exc.field}: {exc.message}"


def resolve_catalog_groups(
    stored: dict[str, TaxGroup],
    rows: Sequence[dict[str, str]],
    products: list[tuple[int, Product]],
    rejected: list[tuple[int, str]],
) -> tuple[list[tuple[int, Product]], list[TaxGroup]]:
    """Attach each product's tax group; returns the accepted products and the groups to write.

    ``stored`` maps lower-cased names to the groups already in the store; ``rows[line - 2]`` is the
    CSV row of a product of line ``line``. Refused rows go to ``rejected`` with line and field.
    """
    defined: dict[str, tuple[int, TaxGroup]] = {}
    accepted: list[tuple[int, Product]] = []
    for line, product in products:
        row = rows[line - 2]
        nome = (row.get("grupo_tributario") or "").strip()
        try:
            if group_fields_present(row):
                if not nome:
                    raise ValidationError(
                        "grupo_tributario", "informe o nome do grupo tributário das colunas de tributação"
                    )
                group_row = {k: v for k, v in row.items() if k not in _PRODUCT_OWN}
                group = tax_group_from_row(group_row, nome=nome)
                earlier = defined.get(nome.lower())
                if earlier is not None and not _same(earlier[1], group):
                    raise ValidationError(
                        "grupo_tributario",
                        f"grupo {nome!r} definido de outra forma na linha {earlier[0]}",
                    )
                defined.setdefault(nome.lower(), (line, group))
            elif nome:
                found = defined.get(nome.lower())
                group_found = found[1] if found else stored.get(nome.lower())
                if group_found is None:
                    raise ValidationError("grupo_tributario", f"grupo tributário {nome!r} não existe")
                group = group_found
                if product.icms_situacao_tributaria != group.icms_situacao_tributaria:
                    raise ValidationError(
                        "icms_situacao_tributaria",
                        f"{product.icms_situacao_tributaria} difere do CST/CSOSN "
                        f"{group.icms_situacao_tributaria} do grupo {group.nome!r}",
                    )
            else:
                accepted.append((line, product))
                continue
        except ValidationError as exc:
            rejected.append((line, _reason(exc)))
            continue
        cest, tributos = product.cest, product.tributos_percentual
        product.grupo_tributario = group.nome
        product.tax_group = group
        product.__post_init__()
        product.cest = cest or group.cest  # the product's own CEST and IBPT % stay the product's
        product.tributos_percentual = tributos
        accepted.append((line, product))
    return accepted, [g for _, g in defined.values()]


def import_tax_groups_rows(rows: Iterable[dict[str, str]]) -> tuple[list[TaxGroup], list[tuple[int, str]]]:
    """Rows of a tax-group CSV (:data:`TAX_GROUP_FIELDS`) -> valid groups and refused (line, reason)."""
    groups: list[TaxGroup] = []
    rejected: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        try:
            if None in row or any(v is None for v in row.values()):
                raise ValidationError("linha", "número de colunas diferente do cabeçalho")
            group = tax_group_from_row(row)
            if group.nome.lower() in seen:
                raise ValidationError(
                    "grupo_tributario", f"grupo repetido (linha {seen[group.nome.lower()]})"
                )
            seen[group.nome.lower()] = line
            groups.append(group)
        except ValidationError as exc:
            rejected.append((line, _reason(exc)))
    return groups, rejected


def read_csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    f = io.StringIO(text, newline="")
    sample = f.read(4096)
    f.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(f, dialect=dialect)
    header = [(h or "").strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    return header, list(reader)


def export_tax_groups(groups: Iterable[TaxGroup], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=TAX_GROUP_FIELDS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for group in groups:
        writer.writerow(group.as_row())
        n += 1
    return n


def export_catalog(products: Iterable[Product], out: TextIO) -> int:
    """Products with their group inline: the file imports back to the same catalog and groups."""
    writer = csv.DictWriter(out, fieldnames=CATALOG_EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for p in products:
        row = {k: "" for k in CATALOG_EXPORT_FIELDS}
        if p.tax_group is not None:
            row.update({k: v for k, v in p.tax_group.as_row().items() if k not in _PRODUCT_OWN})
        row.update(
            codigo=p.codigo,
            ean=p.ean or "",
            descricao=p.descricao,
            ncm=p.ncm,
            cfop=p.cfop,
            unidade=p.unidade,
            preco=str(p.preco),
            icms_origem=p.icms_origem,
            icms_situacao_tributaria=p.icms_situacao_tributaria,
            tributos_percentual=str(p.tributos_percentual),
            cest=p.cest or "",
        )
        writer.writerow(row)
        n += 1
    return n


def write_export(path: Path, writer: Any, items: Iterable[Any]) -> int:
    with path.open("w", encoding="utf-8", newline="") as f:
        return int(writer(items, f))
