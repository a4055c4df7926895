"""Store (``loja``) subcommands of ``pos-app``: one PostgreSQL back office for every terminal.

pos-app loja conectar postgresql://usuario:senha@servidor:5432/banco   (senha vai para o cofre do sistema)
pos-app loja status|sincronizar [--json]
pos-app loja publicar --pin PIN                  catálogo e operadores deste terminal para a loja
pos-app loja publicar clientes --pin PIN         a lista de clientes (NF-e) deste terminal, uma vez
pos-app loja preco CODIGO VALOR --pin PIN        novo preço em todos os terminais
pos-app loja remover-produto COD --pin PIN     tira o produto de todos os terminais
pos-app loja importar ARQ.csv --pin PIN          importa o CSV e publica para a loja
pos-app loja config CHAVE VALOR --pin PIN        configuração da loja (emitente, limites...)
pos-app loja historico|painel|caixas [--data AAAA-MM-DD] [--terminal T] [--operador O] [--json]
                                                 (historico: [--pagina N] [--por-pagina N])
pos-app loja alteracoes [--json]                 registro de alterações (quem, quando, o quê)
pos-app loja reimprimir TERMINAL VENDA --pin PIN segunda via de uma venda de outro caixa, impressa aqui
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from pos_app.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    CliError,
    _Parser,
    handle_error,
    open_app_for_cli,
    parse_amount,
    print_json,
)
from pos_app.core.printing.formatting import format_money
from pos_app.core.services.catalog_import import import_catalog_file
from pos_app.core.services.users import authenticate
from pos_app.core.storeserver import admin, link, pg, views
from pos_app.core.storeserver.customers import publish_summary
from pos_app.core.storeserver.sync import StoreSync

Handler = Callable[[argparse.Namespace], int]
EXIT_FAILED = 1


def register(sub: argparse._SubParsersAction, commands: dict[str, Handler]) -> None:
    p = sub.add_parser(
        "loja", help="banco da loja (PostgreSQL): preços, séries, relatórios de todos os caixas"
    )
    s = p.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    c = s.add_parser(
        "conectar", help="liga este terminal ao banco da loja (a senha vai para o cofre do sistema)"
    )
    c.add_argument("url")
    for name, text in (
        ("status", "situação da ligação com a loja"),
        ("sincronizar", "envia e recebe agora"),
        ("alteracoes", "registro de alterações da loja"),
    ):
        a = s.add_parser(name, help=text)
        a.add_argument("--json", action="store_true", help="saída em JSON")
    pu = s.add_parser("publicar", help="publica o catálogo e os operadores deste terminal para a loja")
    pu.add_argument(
        "o_que",
        nargs="?",
        choices=["clientes"],
        metavar="clientes",
        help="clientes: publica a lista de clientes (NF-e) deste terminal, uma vez, para todos os terminais",
    )
    pr = s.add_parser("preco", help="altera o preço de um produto em todos os terminais")
    pr.add_argument("codigo")
    pr.add_argument("valor")
    rp = s.add_parser("remover-produto", help="tira um produto do catálogo de todos os terminais")
    rp.add_argument("codigo")
    im = s.add_parser("importar", help="importa um CSV de produtos e publica para a loja")
    im.add_argument("arquivo", type=Path)
    cf = s.add_parser("config", help="configuração comum da loja (vale para todos os terminais)")
    cf.add_argument("chave")
    cf.add_argument("valor")
    ri = s.add_parser("reimprimir", help="segunda via do DANFCe de uma venda de outro caixa, impressa aqui")
    ri.add_argument("terminal", help="terminal da venda (ex.: CX01)")
    ri.add_argument("venda", type=int, help="número da venda naquele terminal (pos-app loja historico)")
    for a in (pu, pr, rp, im, cf, ri):
        a.add_argument("--pin", required=True, help="PIN do gerente")
        a.add_argument("--gerente", default=None, metavar="CODIGO", help="código do gerente")
        a.add_argument("--json", action="store_true", help="saída em JSON")
    for name, text in (
        ("historico", "vendas de todos os caixas"),
        ("painel", "painel do dia (todos os caixas)"),
        ("caixas", "fechamento de caixa de todos os terminais"),
    ):
        v = s.add_parser(name, help=text)
        v.add_argument("--data", default=None, metavar="AAAA-MM-DD", help="dia (padrão: hoje)")
        v.add_argument("--terminal", default=None)
        v.add_argument("--operador", default=None, metavar="CODIGO")
        v.add_argument("--json", action="store_true", help="saída em JSON")
        if name == "historico":
            v.add_argument("--pagina", type=int, default=1, metavar="N", help="página (padrão: 1)")
            v.add_argument("--por-pagina", type=int, default=500, metavar="N", help="vendas por página")
    commands["loja"] = cmd_loja


def cmd_loja(args: argparse.Namespace) -> int:
    as_json = bool(getattr(args, "json", False))
    try:
        ctx = open_app_for_cli(start_sandbox=False)
    except Exception as exc:  # noqa: BLE001
        return handle_error(exc, as_json)
    try:
        return _run(ctx, args, as_json)
    except Exception as exc:  # noqa: BLE001
        return handle_error(exc, as_json)
    finally:
        ctx.close()


def _sync(ctx: Any) -> StoreSync:
    sync = ctx.store_sync or link.attach(ctx, start=False)
    if sync is None:
        raise CliError(
            "Banco da loja não configurado: pos-app loja conectar postgresql://usuario:senha@servidor/banco",
            code=EXIT_BAD_INPUT,
        )
    return sync


def _manager(ctx: Any, args: argparse.Namespace, action: str) -> str:
    user = authenticate(ctx, args.pin, args.gerente, require_manager=True, action=action)
    return f"{ctx.config.terminal_id}/{user.codigo}"


def _run(ctx: Any, args: argparse.Namespace, as_json: bool) -> int:
    action = args.action
    if action == "conectar":
        url, password = pg.strip_password(args.url)
        ctx.config.set("loja.banco", url)
        if password:
            ctx.config.set("loja.senha", password)
        out = _sync(ctx).run_once()
        st = link.status(ctx)
        print(
            f"Terminal {ctx.config.terminal_id} ligado à loja. Série online {st['serie_online']}, "
            f"série de contingência {st['serie_contingencia']}, série de contingência da NF-e "
            f"{st.get('serie_contingencia_nfe') or '—'}. Enviados {out['enviados']}, recebidos {out['recebidos']}."
        )
        return EXIT_OK
    if action in ("status", "sincronizar"):
        sync = _sync(ctx)
        try:
            out = sync.run_once()
        except Exception:  # noqa: BLE001 - status says it
            out = {}
        data = {**link.status(ctx), **out}
        if as_json:
            print_json(data)
        else:
            print("Banco da loja: " + ("conectado" if data["online"] else f"FORA DO AR ({data['erro']})"))
            print(
                f"Registros aguardando envio: {data['pendentes_envio']}; edições locais (clientes, operadores, "
                f"remoções) a enviar: {data.get('edicoes_pendentes', 0)}; versão aplicada: {data['versao']}"
            )
            print(
                f"Séries: online {data['serie_online']}, contingência {data['serie_contingencia']}, "
                f"contingência NF-e {data.get('serie_contingencia_nfe') or '—'}"
            )
        return EXIT_OK if data["online"] else EXIT_FAILED
    conn = link.open_store_connection(ctx)
    try:
        if action == "publicar" and args.o_que == "clientes":
            por = _manager(ctx, args, "loja_publicar_clientes")
            with contextlib.suppress(Exception):  # edits/removals made elsewhere first: never resurrect them
                _sync(ctx).run_once()
            clientes = ctx.store.clientes.list()
            n = admin.publish_customers(conn, clientes, por=por)
            return _done(
                as_json,
                {"clientes": len(clientes), "clientes_alterados_na_loja": n},
                publish_summary(len(clientes), n),
            )
        if action == "publicar":
            por = _manager(ctx, args, "loja_publicar")
            n, n_users, n_groups = admin.publish_terminal(conn, ctx.store, por=por)
            return _done(
                as_json,
                {"produtos_alterados": n, "operadores": n_users, "grupos_tributarios_alterados": n_groups},
                f"{n_groups} grupo(s) tributário(s), {n} produto(s) alterado(s) e {n_users} "
                "operador(es) publicados para a loja.",
            )
        if action == "preco":
            por = _manager(ctx, args, "loja_preco")
            valor = parse_amount(args.valor, "valor")
            versao = admin.set_price(conn, args.codigo, valor, por=por)
            _sync(ctx).run_once()
            return _done(
                as_json,
                {"codigo": args.codigo, "preco": str(valor), "versao": versao},
                f"Preço de {args.codigo} agora R$ {format_money(valor)} em todos os terminais (versão {versao}).",
            )
        if action == "remover-produto":
            por = _manager(ctx, args, "loja_remover_produto")
            versao = admin.deactivate_product(conn, args.codigo, por=por)
            _sync(ctx).run_once()
            return _done(
                as_json,
                {"codigo": args.codigo, "ativo": False, "versao": versao},
                f"Produto {args.codigo} retirado do catálogo de todos os terminais (versão {versao}); "
                "as vendas já feitas continuam com ele.",
            )
        if action == "importar":
            por = _manager(ctx, args, "loja_importar")
            count, rejected = import_catalog_file(ctx, args.arquivo)
            n = admin.publish_products(conn, ctx.store.products.all(), por=por)
            return _done(
                as_json,
                {
                    "importados": count,
                    "alterados_na_loja": n,
                    "rejeitados": [{"linha": ln, "motivo": m} for ln, m in rejected],
                },
                f"{count} produto(s) importado(s); {n} alterado(s) na loja; {len(rejected)} linha(s) rejeitada(s).",
            )
        if action == "config":
            por = _manager(ctx, args, "loja_config")
            from pos_app.core.config import KEYS

            spec = KEYS.get(args.chave)
            if spec is None:
                raise CliError(f"Chave desconhecida: {args.chave}", field="chave", code=EXIT_BAD_INPUT)
            checked = spec.check(args.valor)
            admin.publish_setting(conn, args.chave, checked, por=por)
            return _done(
                as_json,
                {"chave": args.chave, "valor": checked},
                f"{args.chave} = {checked} para toda a loja.",
            )
        if action == "reimprimir":
            from pos_app.core.services.printing import PrintService

            manager = authenticate(
                ctx, args.pin, args.gerente, require_manager=True, action="loja_reimprimir"
            )
            found = views.sale_for_receipt(conn, args.terminal, args.venda)
            if found is None:
                raise CliError(
                    f"Venda {args.venda} do caixa {args.terminal} sem nota imprimível no banco da loja "
                    "(confira em pos-app loja historico; o caixa envia suas vendas ao voltar a conexão).",
                    field="venda",
                )
            outcome = PrintService(ctx).reprint_other_terminal(args.terminal, *found, manager)
            if as_json:
                print_json(outcome.to_json())
            else:
                print(outcome.message)
            return EXIT_OK if outcome.ok else EXIT_FAILED
        if action == "alteracoes":
            rows = admin.changes(conn)
            if as_json:
                print_json(rows)
            else:
                for r in rows:
                    print(f"{r['versao']:>6}  {r['em'][:19]}  {r['chave']:<30} {r['por'] or '-'}")
            return EXIT_OK
        with contextlib.suppress(Exception):  # this terminal's own latest sales too
            _sync(ctx).run_once()
        day = args.data or ctx.now().date().isoformat()
        if action == "historico":
            per_page = max(int(args.por_pagina), 1)
            rows = views.history(
                conn,
                day=day,
                terminal=args.terminal,
                operador=args.operador,
                limit=per_page,
                offset=(max(int(args.pagina), 1) - 1) * per_page,
            )
            if as_json:
                print_json(rows)
            else:
                for r in rows:
                    print(
                        f"{r['data'][:19]}  {r['terminal']:<8} venda {r['venda']:>6}  R$ {format_money(Decimal(r['valor_total'])):>10}  "
                        f"{r['operador'] or '-':<6} {r['situacao'] or '-'} {r['serie'] or ''}/{r['numero'] or ''}"
                    )
            return EXIT_OK
        if action == "painel":
            data = views.dashboard(conn, day=day, terminal=args.terminal, operador=args.operador)
            if as_json:
                print_json(data)
            else:
                print(
                    f"Loja — {day}: {data['vendas']} venda(s), R$ {format_money(Decimal(data['valor_total']))}"
                )
                for r in data["por_terminal"]:
                    print(
                        f"  {r['terminal']:<10} {r['vendas']:>5} venda(s)  R$ {format_money(Decimal(r['valor_total']))}"
                    )
                for r in data["por_operador"]:
                    print(
                        f"  operador {r['operador']:<6} {r['vendas']:>5} venda(s)  R$ {format_money(Decimal(r['valor_total']))}"
                    )
                print("  notas: " + ", ".join(f"{k} {v}" for k, v in data["documentos"].items()))
            return EXIT_OK
        rows = views.cash_sessions(conn, day=day, terminal=args.terminal, operador=args.operador)
        if as_json:
            print_json(rows)
        else:
            for r in rows:
                dif = r["diferenca_total"]
                print(
                    f"{r['terminal']:<8} caixa {r['caixa']:>4} {r['situacao']:<8} {r['aberto_por'] or '-':<6} "
                    f"vendas {r['vendas']:>4} R$ {format_money(Decimal(r['valor_vendas'])):>10}  "
                    f"esperado {format_money(Decimal(r['esperado_total']))}  "
                    f"diferença {'-' if dif is None else format_money(Decimal(dif))}"
                )
                for g in r["grupos"]:
                    print(
                        f"    {g['grupo']:<10} esperado {format_money(Decimal(g['esperado'])):>10}  contado "
                        f"{'-' if g['contado'] is None else format_money(Decimal(g['contado'])):>10}  diferença "
                        f"{'-' if g['diferenca'] is None else format_money(Decimal(g['diferenca']))}"
                    )
        return EXIT_OK
    finally:
        conn.close()


def _done(as_json: bool, data: dict[str, Any], text: str) -> int:
    if as_json:
        print_json(data)
    else:
        print(text)
    return EXIT_OK
