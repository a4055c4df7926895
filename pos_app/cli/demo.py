"""``pos-app demo empresa [pr|sp]``: which demo company the terminal plays (demo mode only).

- ``pr``: Mercadinho Demonstração, Curitiba/PR, Simples Nacional, numeric CNPJ (default);
- ``sp``: Supermercado Paulista Demonstração, São Paulo capital (IBGE 3550308), regime normal,
  alphanumeric CNPJ ``A1.B2C.3D4/0001-93``: its contingency notes have letters in the key.

Also chosen by ``POS_DEMO_EMPRESA=sp`` or ``pos-app config set demo.empresa sp`` (next start).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]


def register(sub: argparse._SubParsersAction, commands: dict[str, Handler]) -> None:
    """Add this module's subcommands to `sub` and their handlers to `commands`."""
    from pos_app.cli.common import _Parser

    p = sub.add_parser("demo", help="modo demonstração: escolhe a empresa de demonstração (pr ou sp)")
    psub = p.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    e = psub.add_parser(
        "empresa", help="mostra ou troca a empresa (pr: Simples/PR; sp: regime normal/SP, CNPJ alfanumérico)"
    )
    e.add_argument(
        "empresa", nargs="?", choices=("pr", "sp"), help="empresa desejada (sem valor: mostra a atual)"
    )
    e.add_argument("--json", action="store_true", help="saída em JSON")
    commands["demo"] = cmd_demo


def cmd_demo(args: argparse.Namespace) -> int:
    from pos_app.cli.common import EXIT_BAD_INPUT, EXIT_OK, _fail
    from pos_app.cli.common import open_app_for_cli as _open
    from pos_app.cli.common import print_json as _print_json
    from pos_app.core.domain.validators import format_cnpj
    from pos_app.demo import company as demo_company

    ctx = _open()
    try:
        if args.empresa is None:
            key = demo_company.current_key(ctx)
            data = {
                "empresa": key,
                "descricao": demo_company.LABELS.get(key or "", "empresa não é de demonstração"),
                "cnpj": format_cnpj(ctx.config.get("emitente.cnpj") or ""),
                "demo": ctx.config.demo,
            }
            if args.json:
                _print_json(data)
            else:
                print(f"Empresa: {data['descricao']} — CNPJ {data['cnpj']}")
            return EXIT_OK
        try:
            result = demo_company.switch(ctx, args.empresa)
        except demo_company.DemoCompanyError as exc:
            _fail(str(exc), "empresa", args.json)
            return EXIT_BAD_INPUT
        if args.json:
            _print_json({"empresa": result.key, "alterada": result.changed, "mensagem": result.mensagem})
        else:
            print(result.mensagem)
        return EXIT_OK
    finally:
        ctx.close()
