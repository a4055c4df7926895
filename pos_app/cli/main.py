"""The ``pos-app`` command. Without arguments it opens the cashier window; subcommands run the
same services headless (scripts, support, tests)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app import __version__
from pos_app.cli import (
    backoffice,
    clientes,
    contingency,
    demo,
    econf,
    loja,
    manager,
    pix,
    printing,
    support,
    tributacao,
)
from pos_app.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_NOT_ISSUED,
    EXIT_OK,
    CliError,
    _Parser,
    handle_error,
    open_app_for_cli,
    parse_amount,
    print_json,
)
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.sale import Sale
from pos_app.core.services.cart import (
    DEPRECATED_ITEM_FORM,
    CartService,
    EntryError,
    old_cli_item,
    parse_payment,
)

if TYPE_CHECKING:
    pass

_print_json = print_json
_open = open_app_for_cli
_parse_amount = parse_amount


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="pos-app",
        description="Frente de caixa com NFC-e (Focus NFe) e contingência offline. "
        "Sem argumentos, abre a janela do caixa.",
    )
    p.add_argument("--version", action="version", version=f"pos-app {__version__}", help="mostra a versão")
    sub = p.add_subparsers(dest="command", metavar="COMANDO", parser_class=_Parser)

    c = sub.add_parser("config", help="configuração (emitente, token, ambiente...)")
    csub = c.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    cs = csub.add_parser("set", help="define um valor: config set CHAVE VALOR")
    cs.add_argument("key", metavar="CHAVE")
    cs.add_argument("value", metavar="VALOR")
    cu = csub.add_parser("unset", help="remove um valor")
    cu.add_argument("key", metavar="CHAVE")
    csh = csub.add_parser("show", help="mostra a configuração (segredos mascarados)")
    csh.add_argument("--json", action="store_true", help="saída em JSON")

    cat = sub.add_parser("catalog", help="catálogo de produtos")
    catsub = cat.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    ci = catsub.add_parser("import", help="importa produtos de um CSV")
    ci.add_argument("file", metavar="ARQUIVO.csv")
    ci.add_argument("--json", action="store_true", help="saída em JSON")
    ce = catsub.add_parser("export", help="exporta o catálogo com os grupos tributários para um CSV")
    ce.add_argument("file", metavar="ARQUIVO.csv")
    ce.add_argument("--json", action="store_true", help="saída em JSON")
    cl = catsub.add_parser("list", help="lista os produtos")
    cl.add_argument("--json", action="store_true", help="saída em JSON")
    cl.add_argument("--busca", metavar="TEXTO", help="filtra pela descrição (prefixos)")

    u = sub.add_parser("user", help="operadores (caixa, gerente)")
    usub = u.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    ua = usub.add_parser("add", help="cadastra um operador")
    ua.add_argument("nome", metavar="NOME")
    ua.add_argument("--papel", choices=["gerente", "caixa"], required=True, help="gerente ou caixa")
    ua.add_argument("--pin", required=True, help="PIN de 4 a 8 dígitos")
    ua.add_argument("--codigo", help="código do operador (padrão: próximo número livre)")
    ul = usub.add_parser("list", help="lista os operadores")
    ul.add_argument("--json", action="store_true", help="saída em JSON")

    s = sub.add_parser("sell", help="registra uma venda completa e emite a NFC-e")
    s.add_argument(
        "--item",
        action="append",
        default=[],
        metavar="[QTD*]CODIGO_OU_EAN",
        help="produto pelo código, EAN ou etiqueta de balança, com quantidade opcional como no caixa "
        "(ex.: 2*7891000100103; a forma antiga 7891000100103*2 ainda é aceita)",
    )
    s.add_argument(
        "--pay",
        action="append",
        default=[],
        metavar="FORMA:VALOR",
        help="pagamento (ex.: dinheiro:50,00  pix:10  credito:25,90:visa; ou o código 01, 03, 17...)",
    )
    s.add_argument("--cpf", help="CPF do consumidor na nota")
    s.add_argument("--cnpj", help="CNPJ do consumidor na nota")
    s.add_argument(
        "--desconto",
        metavar="VALOR",
        help="desconto na venda: R$ (5,00) ou percentual (10%%); "
        "acima do limite do caixa (venda.desconto_maximo_percentual) precisa de --pin-gerente",
    )
    s.add_argument(
        "--pin-gerente", dest="pin_gerente", metavar="PIN", help="PIN do gerente que autoriza o desconto"
    )
    s.add_argument("--gerente", metavar="CODIGO", help="código do gerente (opcional, com --pin-gerente)")
    s.add_argument("--operador", metavar="CODIGO", help="código do operador (padrão: nenhum)")
    s.add_argument(
        "--confirmar",
        action="store_true",
        help="confirma valores fora do comum (troco alto, quantidade ou total acima dos limites)",
    )
    s.add_argument(
        "--pix-timeout",
        type=float,
        default=120.0,
        metavar="SEGUNDOS",
        help="espera máxima pelo PIX dinâmico (--pay pix:VALOR com pix.url configurada)",
    )
    s.add_argument("--json", action="store_true", help="saída em JSON")

    st = sub.add_parser("status", help="situação do terminal (conexão, contingência pendente)")
    st.add_argument("--json", action="store_true", help="saída em JSON")

    sy = sub.add_parser("sync", help="transmite agora as notas em contingência e reconcilia tentativas")
    sy.add_argument("--json", action="store_true", help="saída em JSON")

    sb = sub.add_parser("sandbox", help="executa só o sandbox compatível com a Focus (demonstração)")
    sb.add_argument("--port", type=int, default=0, help="porta (padrão: uma livre)")
    sb.add_argument(
        "--falha",
        action="append",
        default=[],
        metavar="MODO",
        help="injeta uma falha (ex.: lento:8, sem_resposta, sefaz_fora, 429:5, erro500:3, "
        "rejeitar:REF_OU_NUMERO; também os nomes em inglês: slow=8, in_doubt...)",
    )

    d = sub.add_parser("doctor", help="verifica configuração, API, token, relógio, impressora e disco")
    d.add_argument("--json", action="store_true", help="saída em JSON")
    d.add_argument(
        "--pacote",
        nargs="?",
        const="",
        default=None,
        metavar="ARQ.zip",
        help="gera também um pacote para o suporte (logs e estado, sem segredos)",
    )

    for module in (
        contingency,
        manager,
        support,
        backoffice,
        printing,
        tributacao,
        demo,
        loja,
        clientes,
        pix,
        econf,
    ):
        module.register(sub, COMMANDS)
    return p


# ---------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from pos_app.core.logging_setup import setup_logging

    setup_logging()  # rotating masked log in data_dir/logs; console ERROR (POS_LOG_LEVEL)
    if not argv:
        from pos_app.ui.app import run_ui

        return run_ui()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    handler = COMMANDS[args.command]
    as_json = bool(getattr(args, "json", False))
    try:
        return handler(args)
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error of the command.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's final flush
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - every failure reaches the user as a sentence
        return handle_error(exc, as_json)


# -- config -----------------------------------------------------------------------------------
def cmd_config(args: argparse.Namespace) -> int:
    ctx = _open(start_sandbox=False)
    try:
        if args.action == "set":
            value = ctx.config.set(args.key, args.value)
            from pos_app.core.config import KEYS

            shown = "******** (definido)" if KEYS[args.key].secret else value
            print(f"{args.key} = {shown}")
        elif args.action == "unset":
            ctx.config.unset(args.key)
            print(f"{args.key} removido")
        else:
            data = ctx.config.show()
            data["terminal.id"] = ctx.config.terminal_id
            if args.json:
                _print_json({"config": data, "segredos": ctx.secrets.backend, "dados": str(ctx.data_dir)})
            else:
                from pos_app.core.config import KEYS

                for key, current in data.items():
                    label = KEYS[key].label if key in KEYS else ""
                    print(f"{key:34} {current if current is not None else '(não definido)'}   # {label}")
                print(f"\nDados em: {ctx.data_dir}  |  segredos: {ctx.secrets.backend}")
        return EXIT_OK
    finally:
        ctx.close()


# -- catalog ----------------------------------------------------------------------------------
def cmd_catalog(args: argparse.Namespace) -> int:
    from pos_app.core.services.catalog_import import import_catalog_file

    ctx = _open(start_sandbox=False)
    try:
        if args.action == "import":
            path = Path(args.file)
            if not path.exists():
                raise CliError(f"Arquivo não encontrado: {path}")
            count, rejected = import_catalog_file(ctx, path)
            if args.json:
                _print_json(
                    {"importados": count, "rejeitados": [{"linha": n, "motivo": m} for n, m in rejected]}
                )
            else:
                print(f"{count} produto(s) importado(s).")
                for line, reason in rejected:
                    print(f"  linha {line}: {reason}", file=sys.stderr)
                if rejected:
                    print(f"{len(rejected)} linha(s) rejeitada(s).", file=sys.stderr)
            return EXIT_OK if count or not rejected else EXIT_BAD_INPUT
        if args.action == "export":
            from pos_app.cli.tributacao import cmd_catalog_export

            n = cmd_catalog_export(ctx, Path(args.file))
            _print_json({"exportados": n, "arquivo": args.file}) if args.json else print(
                f"{n} produto(s) exportado(s) para {args.file}"
            )
            return EXIT_OK
        products = (
            ctx.store.products.search(args.busca, limit=1000) if args.busca else ctx.store.products.all()
        )
        if args.json:
            _print_json(
                [
                    {
                        "codigo": p.codigo,
                        "ean": p.ean,
                        "descricao": p.descricao,
                        "ncm": p.ncm,
                        "cfop": p.cfop,
                        "unidade": p.unidade,
                        "preco": f"{p.preco:.2f}",
                        "icms_origem": p.icms_origem,
                        "icms_situacao_tributaria": p.icms_situacao_tributaria,
                        "grupo_tributario": p.grupo_tributario,
                    }
                    for p in products
                ]
            )
        else:
            for p in products:
                print(
                    f"{p.codigo:>8}  {p.ean or '':14}  {p.descricao:45.45}  {p.unidade:3}  R$ {p.preco:>9.2f}"
                )
        return EXIT_OK
    finally:
        ctx.close()


# -- users ------------------------------------------------------------------------------------
def cmd_user(args: argparse.Namespace) -> int:
    from pos_app.core.auth import validate_pin_format

    ctx = _open(start_sandbox=False)
    try:
        if args.action == "list":
            users = ctx.store.users.all()
            if args.json:
                _print_json(
                    [{"codigo": u.codigo, "nome": u.nome, "papel": u.papel, "ativo": u.ativo} for u in users]
                )
            else:
                for u in users:
                    print(f"{u.codigo:>4}  {u.nome:30}  {u.papel:8}  {'ativo' if u.ativo else 'desativado'}")
            return EXIT_OK
        problem = validate_pin_format(args.pin)
        if problem:
            raise CliError(problem, field="pin")
        nome = " ".join(args.nome.split())
        if not nome:
            raise CliError("Nome do operador em branco.", field="nome")
        codigo = args.codigo
        if codigo is None:
            used = {u.codigo for u in ctx.store.users.all()}
            n = 1
            while str(n) in used:
                n += 1
            codigo = str(n)
        elif ctx.store.users.by_code(codigo):
            raise CliError(f"Já existe um operador com o código {codigo}.", field="codigo")
        user = ctx.store.users.add(codigo, nome, args.papel, args.pin)
        print(f"Operador {user.nome} cadastrado com o código {user.codigo} ({user.papel}).")
        return EXIT_OK
    finally:
        ctx.close()


# -- sell -------------------------------------------------------------------------------------
def build_sale_from_args(ctx: Any, args: argparse.Namespace) -> Any:
    if not args.item:
        raise CliError("Venda sem itens: informe ao menos um --item.", field="item")
    cart = CartService(ctx, Sale())  # the window's rules: item entry, scale labels, discount limit
    sale = cart.sale
    for spec in args.item:
        old = old_cli_item(ctx.store.products, spec)
        if old is not None:  # CODE*QTY: still accepted, with a notice
            code, qty_text = old
            print(DEPRECATED_ITEM_FORM.format(spec=spec, new=f"{qty_text}*{code}"), file=sys.stderr)
            product = ctx.store.products.lookup(code)
            assert product is not None
            sale.add_item(product, _parse_amount(qty_text, "item"))
            continue
        try:
            found = cart.resolve(spec)
        except EntryError as exc:  # the window's hint (F2) means nothing here
            raise CliError(str(exc).replace(" Use F2 para buscar pelo nome.", ""), field=exc.field) from exc
        sale.add_item(cart.new_item(found.product, found.quantidade, found.valor_unitario))
    if args.desconto:
        try:
            discount = cart.parse_discount(args.desconto)
        except ValidationError as exc:
            raise CliError(
                f"Valor inválido em desconto: {args.desconto!r} ({exc})", field="desconto"
            ) from exc
        manager = None
        if cart.needs_manager(discount):
            if not args.pin_gerente:
                raise CliError(
                    cart.limit_message(discount) + " Informe --pin-gerente PIN para autorizar.",
                    field="desconto",
                )
            from pos_app.core.services.users import authenticate  # store and scrypt: only when needed

            manager = authenticate(ctx, args.pin_gerente, args.gerente, action="desconto")
        cart.apply_discount(discount, authorized_by=manager)
    from pos_app.core.domain.validators import normalize_cnpj, only_digits

    if args.cpf and args.cnpj:
        raise CliError("Informe CPF ou CNPJ, não os dois.", field="cpf")
    if args.cpf:
        sale.cpf = only_digits(args.cpf)
        if len(sale.cpf) != 11:
            raise CliError(f"CPF inválido: {args.cpf}", field="cpf")
    elif args.cnpj:
        sale.cnpj = normalize_cnpj(args.cnpj)
        if len(sale.cnpj) != 14:
            raise CliError(f"CNPJ inválido: {args.cnpj}", field="cnpj")
    if not args.pay:
        raise CliError("Informe ao menos um pagamento com --pay FORMA:VALOR.", field="pay")
    from pos_app.core.domain.payments import Payment

    pays, pix_dynamic = pix.split_pix_payments(ctx, list(args.pay))
    # completed with the PSP and the endToEndId once the charge is paid (cmd_sell: pix.settle_pix)
    args.pix_pending = []
    for valor in pix_dynamic:
        payment = Payment(forma="17", valor=valor)
        cart.add_payment(payment)
        args.pix_pending.append(payment)
    for spec in pays:
        try:
            cart.add_payment(
                parse_payment(spec)
            )  # aliases: dinheiro, pix, pix-estatico, credito:VALOR:visa...
        except ValidationError as exc:
            raise CliError(exc.message, field="pay") from exc
    # Typo guards (issue 14), through the cart service: a fraction of a unit product is always
    # refused; other findings refuse the sale unless --confirmar.
    warnings = cart.check_guards()
    hard = [w for w in warnings if w.blocking and not w.confirmable]
    if hard:
        raise CliError(hard[0].message, field=hard[0].code)
    blocking = [w for w in warnings if w.blocking]
    if blocking and not getattr(args, "confirmar", False):
        raise CliError(
            " ".join(w.message for w in blocking) + " Confira ou repita com --confirmar.",
            field=blocking[0].code,
        )
    for warning in warnings:
        if not warning.blocking:
            print(f"Aviso: {warning.message}", file=sys.stderr)
    return sale


def cmd_sell(args: argparse.Namespace) -> int:
    from pos_app.core.services.emission import EmissionService

    ctx = _open()
    try:
        sale = build_sale_from_args(ctx, args)
        operador_id = None
        if args.operador:
            user = ctx.store.users.by_code(args.operador)
            if user is None:
                raise CliError(f"Operador não encontrado: {args.operador}", field="operador")
            operador_id = user.id
        sale.validate()
        from pos_app.core.services.cash import CashService  # open session, or one opened with zero float

        cash_session_id = CashService(ctx).session_for_headless_sale(operador_id)
        ctx.emitente()  # configuration problems before a PIX charge is created
        pix_charge = pix.settle_pix(
            ctx, sale, getattr(args, "pix_pending", []), operador_id, args.pix_timeout
        )
        result = EmissionService(ctx).checkout(
            sale, operador_id=operador_id, extra={"cash_session_id": cash_session_id}
        )
        if pix_charge is not None:
            from pos_app.core.pix.service import pix_service

            pix_service(ctx).link_sale(pix_charge.id, result.sale_id)
        # follows impressora.tipo ("pdf": nothing)
        impressao = printing.print_after_sale(ctx, result, operador_id)
        if args.json:
            _print_json(result.to_json() | ({"impressao": impressao} if impressao else {}))
        else:
            print(result.mensagem)
            if result.chave:
                sigla = "NF-e" if result.modelo == 55 else "NFC-e"
                print(f"{sigla} nº {result.numero} série {result.serie}  chave {result.chave}")
            from pos_app.core.domain.money import format_brl

            print(f"Total {format_brl(result.total)}  troco {format_brl(result.troco)}")
            if result.danfce:
                print(f"DANFCe: {result.danfce}")
            if impressao:
                print(f"Impressão: {impressao['mensagem']}")
        return EXIT_OK if result.emitido else EXIT_NOT_ISSUED
    finally:
        ctx.close()


# -- status / sync / doctor / sandbox ----------------------------------------------------------
def cmd_status(args: argparse.Namespace) -> int:
    from pos_app.core.services.status import terminal_status

    ctx = _open()
    try:
        data = terminal_status(ctx, check_link=True)
        if args.json:
            _print_json(data)
        else:
            for line in data["resumo"]:
                print(line)
        return EXIT_OK
    finally:
        ctx.close()


def cmd_sync(args: argparse.Namespace) -> int:
    from pos_app.core.services.replay import ReplayService

    ctx = _open()
    try:
        report = ReplayService(ctx).run_once()
        if args.json:
            _print_json(report.to_json())
        else:
            for line in report.lines():
                print(line)
        return EXIT_OK if report.ok else EXIT_NOT_ISSUED
    finally:
        ctx.close()


def cmd_doctor(args: argparse.Namespace) -> int:
    from pos_app.core.services.doctor import run_doctor

    if getattr(args, "pacote", None) is not None:
        return support.cmd_doctor_bundle(args)
    ctx = _open()
    try:
        checks = run_doctor(ctx)
        if args.json:
            _print_json([c.__dict__ for c in checks])
        else:
            for c in checks:
                mark = {"ok": "[ OK ]", "aviso": "[AVISO]", "erro": "[ERRO]"}[c.nivel]
                print(f"{mark} {c.nome}: {c.mensagem}")
        return EXIT_NOT_ISSUED if any(c.nivel == "erro" for c in checks) else EXIT_OK
    finally:
        ctx.close()


def cmd_sandbox(args: argparse.Namespace) -> int:
    from pos_app.core import paths
    from pos_app.sandbox import serve

    try:
        falhas = [
            contingency.translate_fault_spec(spec) for spec in args.falha
        ]  # Portuguese names: lento:8, 429:5...
        serve(port=args.port, state_path=str(paths.data_dir() / "sandbox.sqlite3"), falha=falhas)
    except ValueError as exc:
        raise CliError(f"{exc}; em português: {', '.join(contingency.FAULT_ALIASES)}", field="falha") from exc
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "config": cmd_config,
    "catalog": cmd_catalog,
    "user": cmd_user,
    "sell": cmd_sell,
    "status": cmd_status,
    "sync": cmd_sync,
    "doctor": cmd_doctor,
    "sandbox": cmd_sandbox,
}


if __name__ == "__main__":
    raise SystemExit(main())
