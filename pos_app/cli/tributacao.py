"""Tax-group subcommands of `pos-app` (registered by `pos_app.cli.build_parser`):

pos-app tributacao listar [--json]                         grupos tributários e quantos produtos usam
pos-app tributacao mostrar NOME [--json]
pos-app tributacao salvar NOME --icms-situacao-tributaria 00 --icms-aliquota 18 ...  cria/altera
pos-app tributacao remover NOME                            (recusa se algum produto usa o grupo)
pos-app tributacao atribuir CODIGO NOME | --nenhum         liga um produto a um grupo
pos-app tributacao importar ARQUIVO.csv [--json]           colunas: grupo_tributario + campos Focus
pos-app tributacao exportar ARQUIVO.csv
pos-app tributacao demo [--regime normal]                   (demo) catálogo nos grupos do regime
pos-app tributacao tabelas [--json]                        CST, CSOSN, PIS/COFINS, IBS/CBS, cClassTrib
pos-app catalog export ARQUIVO.csv                          catálogo com os grupos (reimportável)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pos_app.core.domain.tax_group import TAX_FIELDS

Handler = Callable[[argparse.Namespace], int]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

_OPTIONS = TAX_FIELDS


def register(sub: argparse._SubParsersAction, commands: dict[str, Handler]) -> None:
    from pos_app.cli.common import _Parser

    t = sub.add_parser("tributacao", help="grupos tributários (ICMS, PIS/COFINS, IBS/CBS) dos produtos")
    tsub = t.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    ls = tsub.add_parser("listar", help="lista os grupos tributários")
    ls.add_argument("--json", action="store_true", help="saída em JSON")
    sh = tsub.add_parser("mostrar", help="mostra um grupo")
    sh.add_argument("nome", metavar="NOME")
    sh.add_argument("--json", action="store_true", help="saída em JSON")
    sv = tsub.add_parser("salvar", help="cria ou altera um grupo (campos com os nomes da Focus)")
    sv.add_argument("nome", metavar="NOME")
    for name in _OPTIONS:
        sv.add_argument("--" + name.replace("_", "-"), dest=name, metavar="VALOR")
    sv.add_argument("--json", action="store_true", help="saída em JSON")
    rm = tsub.add_parser("remover", help="remove um grupo sem produtos")
    rm.add_argument("nome", metavar="NOME")
    rm.add_argument("--json", action="store_true", help="saída em JSON")
    at = tsub.add_parser("atribuir", help="liga um produto a um grupo")
    at.add_argument("codigo", metavar="CODIGO")
    at.add_argument("nome", metavar="NOME", nargs="?")
    at.add_argument("--nenhum", action="store_true", help="desliga o produto do seu grupo")
    at.add_argument("--json", action="store_true", help="saída em JSON")
    im = tsub.add_parser("importar", help="importa grupos de um CSV")
    im.add_argument("file", metavar="ARQUIVO.csv")
    im.add_argument("--json", action="store_true", help="saída em JSON")
    ex = tsub.add_parser("exportar", help="exporta os grupos para um CSV")
    ex.add_argument("file", metavar="ARQUIVO.csv")
    ex.add_argument("--json", action="store_true", help="saída em JSON")
    dm = tsub.add_parser("demo", help="(demonstração) liga o catálogo de demonstração aos grupos do regime")
    dm.add_argument("--regime", choices=["simples", "normal"], help="padrão: o regime configurado")
    dm.add_argument("--json", action="store_true", help="saída em JSON")
    tb = tsub.add_parser("tabelas", help="tabelas de códigos aceitas")
    tb.add_argument("--json", action="store_true", help="saída em JSON")
    commands["tributacao"] = cmd_tributacao


def _out(args: argparse.Namespace, data: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(text)


def _group_json(group: Any, usage: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = group.as_row()
    data["regime"] = group.regime
    if usage is not None:
        data["produtos"] = usage
    return data


def cmd_tributacao(args: argparse.Namespace) -> int:
    from pos_app.cli.common import CliError
    from pos_app.cli.common import open_app_for_cli as _open
    from pos_app.core.domain.errors import ValidationError
    from pos_app.core.domain.tax_group import tax_group_from_row

    ctx = _open(start_sandbox=False)
    repo = ctx.store.tax_groups
    try:
        if args.action == "listar":
            groups = repo.all()
            data = [_group_json(g, repo.usage(g.nome)) for g in groups]
            lines = [f"{g.nome:30.30}  {g.describe()}  ({repo.usage(g.nome)} produto(s))" for g in groups]
            _out(args, data, "\n".join(lines) or "Nenhum grupo tributário cadastrado.")
            return EXIT_OK
        if args.action == "mostrar":
            group = repo.by_name(args.nome)
            if group is None:
                raise CliError(f"Grupo tributário não encontrado: {args.nome}")
            row = _group_json(group, repo.usage(group.nome))
            _out(args, row, "\n".join(f"{k:34} {v}" for k, v in row.items()))
            return EXIT_OK
        if args.action == "salvar":
            current = repo.by_name(args.nome)
            row = current.as_row() if current is not None else {}
            row = {k: v for k, v in row.items() if k != "grupo_tributario"}
            for name in _OPTIONS:
                value = getattr(args, name)
                if value is not None:
                    row[name] = value
            try:
                group = tax_group_from_row(row, nome=args.nome)
                _check_products(ctx, group)
            except ValidationError as exc:
                raise CliError(f"campo {exc.field}: {exc.message}") from exc
            if current is not None:
                group = replace(group, nome=current.nome)
            repo.upsert(group)
            _out(args, _group_json(group), f"Grupo {group.nome!r} salvo: {group.describe()}")
            return EXIT_OK
        if args.action == "remover":
            used = repo.usage(args.nome)
            if used:
                raise CliError(
                    f"O grupo {args.nome!r} é usado por {used} produto(s): mude-os de grupo antes."
                )
            if not repo.delete(args.nome):
                raise CliError(f"Grupo tributário não encontrado: {args.nome}")
            _out(args, {"removido": args.nome}, f"Grupo {args.nome!r} removido.")
            return EXIT_OK
        if args.action == "atribuir":
            if args.nenhum == bool(args.nome):
                raise CliError("Informe o NOME do grupo ou --nenhum.")
            nome = None
            if args.nome:
                group = repo.by_name(args.nome)
                if group is None:
                    raise CliError(f"Grupo tributário não encontrado: {args.nome}")
                regime = ctx.config.get("emitente.regime")
                try:
                    group.validate(regime)
                except ValidationError as exc:
                    raise CliError(f"campo {exc.field}: {exc.message}") from exc
                nome = group.nome
            product = ctx.store.products.lookup(args.codigo)
            if product is None or not repo.assign(product.codigo, nome):
                raise CliError(f"Produto não encontrado: {args.codigo}")
            if nome is not None:
                _sync_product_cst(ctx, product.codigo)
            _out(
                args,
                {"codigo": product.codigo, "grupo_tributario": nome},
                f"Produto {product.codigo} → {nome or 'sem grupo'}",
            )
            return EXIT_OK
        if args.action == "importar":
            return _import(ctx, args)
        if args.action == "exportar":
            from pos_app.core.services.tax_catalog import export_tax_groups, write_export

            n = write_export(Path(args.file), export_tax_groups, repo.all())
            _out(args, {"exportados": n, "arquivo": args.file}, f"{n} grupo(s) exportado(s) para {args.file}")
            return EXIT_OK
        if args.action == "demo":
            from pos_app.demo.tax_groups import apply_demo_tax_groups

            if not ctx.config.demo:
                raise CliError("Disponível só no modo de demonstração.")
            regime = args.regime or ctx.config.get("emitente.regime")
            n = apply_demo_tax_groups(ctx, regime)
            _out(
                args,
                {"regime": regime, "produtos": n},
                f"{n} produto(s) ligados aos grupos do regime {regime}.",
            )
            return EXIT_OK
        if args.action == "tabelas":
            from pos_app.core.fiscal import tax_tables as t

            tabelas: dict[str, dict[str, str]] = {
                "cst_icms": t.CST_ICMS,
                "csosn": t.CSOSN,
                "icms_modalidade_base_calculo": t.ICMS_MODALIDADE_BC,
                "pis_cofins_cst": t.PIS_CST,
                "ibs_cbs_cst": t.IBSCBS_CST,
                "cclasstrib": {c.codigo: c.descricao for c in t.cclasstrib_table().values()},
            }
            text = "\n".join(
                f"[{name}]\n" + "\n".join(f"  {k:8} {v}" for k, v in table.items())
                for name, table in tabelas.items()
            )
            _out(args, tabelas, text)
            return EXIT_OK
        raise CliError(f"ação desconhecida: {args.action}")
    finally:
        ctx.close()


def _check_products(ctx: Any, group: Any) -> None:
    """A group in use must stay valid for the emitter's regime."""
    if ctx.store.tax_groups.usage(group.nome):
        group.validate(ctx.config.get("emitente.regime"))


def _sync_product_cst(ctx: Any, codigo: str) -> None:
    """Keep the product's own origin/CST columns equal to its group's (receipts and reports read them)."""
    ctx.store.tax_groups.sync_product_cst(codigo)


def _import(ctx: Any, args: argparse.Namespace) -> int:
    from pos_app.cli.common import CliError
    from pos_app.core.services.catalog_import import _decode_csv
    from pos_app.core.services.tax_catalog import import_tax_groups_rows, read_csv_rows

    path = Path(args.file)
    if not path.exists():
        raise CliError(f"Arquivo não encontrado: {path}")
    header, rows = read_csv_rows(_decode_csv(path.read_bytes()))
    missing = [c for c in ("grupo_tributario", "icms_situacao_tributaria") if c not in header]
    if missing:
        raise CliError(f"Cabeçalho do CSV sem as colunas: {', '.join(missing)}")
    groups, rejected = import_tax_groups_rows(rows)
    for group in groups:
        ctx.store.tax_groups.upsert(group)
    if args.json:
        print(
            json.dumps(
                {"importados": len(groups), "rejeitados": [{"linha": n, "motivo": m} for n, m in rejected]},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print(f"{len(groups)} grupo(s) importado(s).")
        for line, reason in rejected:
            print(f"  linha {line}: {reason}", file=sys.stderr)
    return EXIT_OK if groups or not rejected else EXIT_BAD_INPUT


def cmd_catalog_export(ctx: Any, path: Path) -> int:
    from pos_app.core.services.tax_catalog import export_catalog, write_export

    return write_export(path, export_catalog, ctx.store.products.all())
