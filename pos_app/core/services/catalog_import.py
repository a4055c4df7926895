"""Catalog import: a CSV of products (the demo catalog, or the store's own spreadsheet) into the store.

Accepts ``,`` or ``;``, UTF-8 (with or without BOM), UTF-16 with BOM or Windows-1252 (Excel in
Brazil). Each bad row is rejected with its line number and reason; the good ones are imported.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.errors import ValidationError
from pos_app.core.services.context import SetupError

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext


def parse_catalog_rows(rows: list[dict[str, str]]) -> tuple[list[tuple[int, Product]], list[tuple[int, str]]]:
    """CSV rows -> products, and rejected (line number, reason) pairs. Line 1 is the header."""
    products: list[tuple[int, Product]] = []
    rejected: list[tuple[int, str]] = []
    seen_codes: set[str] = set()
    seen_eans: set[str] = set()
    for line, row in enumerate(rows, start=2):
        try:
            if None in row or any(v is None for v in row.values()):
                raise ValidationError("linha", "número de colunas diferente do cabeçalho")
            codigo = (row.get("codigo") or "").strip()
            preco_text = (row.get("preco") or "").strip().replace(",", ".")
            try:
                preco = Decimal(preco_text)
            except Exception as exc:
                raise ValidationError("preco", f"Preço inválido: {preco_text!r}") from exc
            tributos_text = (row.get("tributos_percentual") or "0").strip().replace(",", ".") or "0"
            try:
                tributos = Decimal(tributos_text)
            except Exception as exc:
                raise ValidationError(
                    "tributos_percentual", f"Percentual inválido: {tributos_text!r}"
                ) from exc
            product = Product(
                codigo=codigo,
                ean=(row.get("ean") or "").strip() or None,
                descricao=" ".join((row.get("descricao") or "").split()),
                ncm=(row.get("ncm") or "").strip(),
                cfop=(row.get("cfop") or "").strip(),
                unidade=(row.get("unidade") or "").strip().upper(),
                preco=preco,
                icms_origem=(row.get("icms_origem") or "0").strip(),
                icms_situacao_tributaria=(row.get("icms_situacao_tributaria") or "").strip(),
                tributos_percentual=tributos,
                cest=(row.get("cest") or "").strip() or None,
            )
            product.validate()
            if product.codigo in seen_codes:
                raise ValidationError("codigo", f"Código repetido no arquivo: {product.codigo}")
            if product.ean and product.ean in seen_eans:
                raise ValidationError("ean", f"EAN repetido no arquivo: {product.ean}")
            seen_codes.add(product.codigo)
            if product.ean:
                seen_eans.add(product.ean)
            products.append((line, product))
        except ValidationError as exc:
            rejected.append((line, str(exc)))
    return products, rejected


def _decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252 (Excel in Brazil)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # never fails; bad rows are then rejected one by one


REQUIRED_CSV_COLUMNS = [
    "codigo",
    "ean",
    "descricao",
    "ncm",
    "cfop",
    "unidade",
    "preco",
    "icms_origem",
    "icms_situacao_tributaria",
]


def import_catalog_file(ctx: AppContext, path: Path) -> tuple[int, list[tuple[int, str]]]:
    """Import a catalog CSV; returns (imported count, rejected lines)."""
    f = io.StringIO(_decode_csv(path.read_bytes()), newline="")
    sample = f.read(4096)
    f.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;")
    except csv.Error:
        dialect = csv.excel
    try:
        reader = csv.DictReader(f, dialect=dialect)
        header = [(h or "").strip() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_CSV_COLUMNS if c not in header]
        if missing:
            raise SetupError(f"Cabeçalho do CSV sem as colunas: {', '.join(missing)}")
        reader.fieldnames = header
        rows = list(reader)
    except csv.Error as exc:  # a cell over the csv module's limit, a broken quote...
        raise SetupError(
            f"Arquivo CSV ilegível (linha {reader.line_num}): {exc}. Nada foi importado."
        ) from exc
    products, rejected = parse_catalog_rows(rows)
    from pos_app.core.services.tax_catalog import resolve_catalog_groups

    stored = {g.nome.lower(): g for g in ctx.store.tax_groups.all()}
    products, groups = resolve_catalog_groups(stored, rows, products, rejected)
    for group in groups:
        ctx.store.tax_groups.upsert(group)
    # An EAN already used by another product code in the store (even an inactive one) is a conflict.
    clean: list[Product] = []
    for line, product in products:
        if product.ean:
            owner = ctx.store.database.query_one("SELECT codigo FROM products WHERE ean = ?", [product.ean])
            if owner is not None and owner["codigo"] != product.codigo:
                rejected.append((line, f"EAN {product.ean} já pertence ao produto {owner['codigo']}"))
                continue
        clean.append(product)
    count = ctx.store.products.upsert_many(clean)
    return count, sorted(rejected)
