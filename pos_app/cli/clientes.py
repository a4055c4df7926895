"""Customer list for NF-e model 55 sales to a CNPJ buyer (registered by ``pos_app.cli.main``):

pos-app clientes salvar CNPJ --nome ... --logradouro ... --numero ... --bairro ... --municipio ...
                        --codigo-municipio 4106902 --uf PR --cep 80010000 [--indicador-ie 1 --ie ...]
pos-app clientes listar [--busca TEXTO] [--json]
pos-app clientes mostrar CNPJ [--json]                  dados e o documento que a venda emitirá
pos-app clientes remover CNPJ

In a store (``loja.banco``), a customer saved or removed here reaches every terminal (sent right away, or by the
next sync pass when the store database is away).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]

_FIELDS = (
    "nome",
    "logradouro",
    "numero",
    "complemento",
    "bairro",
    "municipio",
    "codigo_municipio",
    "uf",
    "cep",
    "indicador_ie",
    "ie",
    "email",
    "telefone",
)


def register(sub: argparse._SubParsersAction, commands: dict[str, Handler]) -> None:
    from pos_app.cli.common import _Parser

    c = sub.add_parser("clientes", help="clientes com CNPJ (dados da NF-e modelo 55)")
    csub = c.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    sv = csub.add_parser("salvar", help="cadastra ou altera um cliente")
    sv.add_argument("cnpj", metavar="CNPJ")
    for name in _FIELDS:
        sv.add_argument("--" + name.replace("_", "-"), dest=name, metavar="VALOR")
    sv.add_argument("--json", action="store_true", help="saída em JSON")
    ls = csub.add_parser("listar", help="lista os clientes")
    ls.add_argument("--busca", metavar="TEXTO")
    ls.add_argument("--json", action="store_true", help="saída em JSON")
    sh = csub.add_parser("mostrar", help="mostra um cliente e o documento de uma venda a ele")
    sh.add_argument("cnpj", metavar="CNPJ")
    sh.add_argument("--json", action="store_true", help="saída em JSON")
    rm = csub.add_parser("remover", help="remove um cliente")
    rm.add_argument("cnpj", metavar="CNPJ")
    rm.add_argument("--json", action="store_true", help="saída em JSON")
    commands["clientes"] = cmd_clientes


def cmd_clientes(args: argparse.Namespace) -> int:
    from pos_app.cli.common import CliError, print_json
    from pos_app.cli.common import open_app_for_cli as _open
    from pos_app.core.domain.validators import format_cnpj
    from pos_app.core.services.nfe import choose_document
    from pos_app.core.store.clientes import INDICADORES_IE, Cliente

    ctx = _open(start_sandbox=False)
    repo = ctx.store.clientes
    try:
        if args.action == "salvar":
            current = repo.get(args.cnpj)
            base = current.to_json() if current else {"documento": args.cnpj}
            for name in _FIELDS:
                value = getattr(args, name)
                if value is not None:
                    base["inscricao_estadual" if name == "ie" else name] = value
            missing = [
                k
                for k in (
                    "nome",
                    "logradouro",
                    "numero",
                    "bairro",
                    "municipio",
                    "codigo_municipio",
                    "uf",
                    "cep",
                )
                if not base.get(k)
            ]
            if missing:
                raise CliError(
                    "Informe " + ", ".join("--" + k.replace("_", "-") for k in missing) + ".",
                    field=missing[0],
                )
            cliente = repo.save(Cliente(**base))
            loja = _send_to_store(ctx)
            if args.json:
                print_json({**cliente.to_json(), **({"loja": loja} if loja else {})})
            else:
                print(f"Cliente {format_cnpj(cliente.documento)} {cliente.nome} salvo.{_store_text(loja)}")
            return 0
        if args.action == "listar":
            found = repo.list(args.busca)
            if args.json:
                print_json([c.to_json() for c in found])
            else:
                for c in found:
                    print(f"{format_cnpj(c.documento)}  {c.nome}  {c.municipio}/{c.uf}")
                print(f"{len(found)} cliente(s).")
            return 0
        if args.action == "mostrar":
            cliente_or_none = repo.get(args.cnpj)
            if cliente_or_none is None:
                raise CliError(f"Cliente {args.cnpj} não cadastrado.", code=1, field="cnpj")
            choice = choose_document(ctx, cliente_or_none.documento)
            data = {**cliente_or_none.to_json(), "modelo": choice.modelo, "documento_fiscal": choice.nome}
            if args.json:
                print_json(data)
            else:
                c = cliente_or_none
                print(f"{format_cnpj(c.documento)}  {c.nome}")
                print(f"{c.logradouro}, {c.numero} - {c.bairro} - {c.municipio}/{c.uf} - CEP {c.cep}")
                print(f"IE: {c.inscricao_estadual or '-'} ({INDICADORES_IE[c.indicador_ie]})")
                print(f"Venda a este cliente emite: {choice.nome}")
            return 0
        if args.action == "remover":
            if not repo.delete(args.cnpj):
                raise CliError(f"Cliente {args.cnpj} não cadastrado.", code=1, field="cnpj")
            loja = _send_to_store(ctx)
            if args.json:
                print_json({"removido": args.cnpj, **({"loja": loja} if loja else {})})
            else:
                print(f"Cliente removido.{_store_text(loja)}")
            return 0
        raise CliError(f"ação desconhecida: {args.action}")
    finally:
        ctx.close()


def _send_to_store(ctx: object) -> str | None:
    """A terminal that joined a store sends the edit now ("enviado"); when the store is away the edit stays
    marked and goes with the next sync pass ("pendente"). None without a store."""
    sync = getattr(ctx, "store_sync", None)
    if sync is None:
        return None
    try:
        sync.run_once()
    except Exception:  # noqa: BLE001 - offline: the mark stays, sent later
        return "pendente"
    return "enviado"


def _store_text(loja: str | None) -> str:
    if loja == "enviado":
        return " Enviado à loja: vale em todos os caixas."
    if loja == "pendente":
        return " Banco da loja fora do ar: será enviado aos outros caixas quando ele voltar."
    return ""
