"""The ``pos-app`` command. Without arguments it opens the cashier window; subcommands run the
same services headless (scripts, support, tests)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app import __version__

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

EXIT_OK = 0
EXIT_NOT_ISSUED = 1  # the request was valid but no fiscal document was issued (rejection, error)
EXIT_BAD_INPUT = 2  # refused before anything was sent

PAYMENT_ALIASES = {
    "dinheiro": "01", "cheque": "02", "credito": "03", "crédito": "03", "debito": "04", "débito": "04",
    "loja": "05", "alimentacao": "10", "refeicao": "11", "presente": "12", "combustivel": "13",
    "boleto": "15", "deposito": "16", "pix": "17", "transferencia": "18", "cashback": "19", "outros": "99",
}


CARD_BRAND_ALIASES = {
    "visa": "01", "mastercard": "02", "master": "02", "amex": "03", "sorocred": "04", "diners": "05",
    "elo": "06", "hipercard": "07", "outros": "99",
}


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_BAD_INPUT, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


_ARGPARSE_PT = {
    "usage: ": "uso: ",
    "positional arguments": "argumentos",
    "options": "opções",
    "show this help message and exit": "mostra esta ajuda e sai",
    "show program's version number and exit": "mostra a versão e sai",
    "the following arguments are required: %s": "os seguintes argumentos são obrigatórios: %s",
    "unrecognized arguments: %s": "argumentos não reconhecidos: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "opção inválida: %(value)r (escolha entre %(choices)s)",
    "expected one argument": "esperado um argumento",
    "argument %(argument_name)s: %(message)s": "argumento %(argument_name)s: %(message)s",
    "invalid %(type)s value: %(value)r": "valor inválido (%(type)s): %(value)r",
    "%(prog)s: error: %(message)s\n": "%(prog)s: erro: %(message)s\n",
}
argparse._ = lambda text: _ARGPARSE_PT.get(text, text)  # type: ignore[attr-defined]  # help in Portuguese


class _Parser(argparse.ArgumentParser):
    """argparse speaking Portuguese."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self.add_argument("-h", "--help", action="help", help="mostra esta ajuda e sai")

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: erro: {message}\n")


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
    s.add_argument("--item", action="append", default=[], metavar="CODIGO_OU_EAN[*QTD]",
                   help="produto pelo código ou EAN, com quantidade opcional (ex.: 7891000100103*2)")
    s.add_argument("--pay", action="append", default=[], metavar="FORMA:VALOR",
                   help="pagamento (ex.: dinheiro:50,00  pix:10  credito:25,90:visa; ou o código 01, 03, 17...)")
    s.add_argument("--cpf", help="CPF do consumidor na nota")
    s.add_argument("--cnpj", help="CNPJ do consumidor na nota")
    s.add_argument("--desconto", metavar="VALOR", help="desconto na venda (R$)")
    s.add_argument("--operador", metavar="CODIGO", help="código do operador (padrão: nenhum)")
    s.add_argument("--pix-timeout", type=float, default=120.0, metavar="SEGUNDOS",
                   help="espera máxima pelo PIX dinâmico (--pay pix:VALOR com pix.url configurada)")
    s.add_argument("--json", action="store_true", help="saída em JSON")

    st = sub.add_parser("status", help="situação do terminal (conexão, contingência pendente)")
    st.add_argument("--json", action="store_true", help="saída em JSON")

    sy = sub.add_parser("sync", help="transmite agora as notas em contingência e reconcilia tentativas")
    sy.add_argument("--json", action="store_true", help="saída em JSON")

    sb = sub.add_parser("sandbox", help="executa só o sandbox compatível com a Focus (demonstração)")
    sb.add_argument("--port", type=int, default=0, help="porta (padrão: uma livre)")
    sb.add_argument("--falha", action="append", default=[], metavar="MODO",
                    help="injeta uma falha (ex.: lento:8, sem_resposta, sefaz_fora, 429:5, erro500:3, "
                    "rejeitar:REF_OU_NUMERO; também os nomes em inglês: slow=8, in_doubt...)")

    d = sub.add_parser("doctor", help="verifica configuração, API, token, relógio, impressora e disco")
    d.add_argument("--json", action="store_true", help="saída em JSON")
    d.add_argument("--pacote", nargs="?", const="", default=None, metavar="ARQ.zip",
                   help="gera também um pacote para o suporte (logs e estado, sem segredos)")

    from pos_app import cli_backoffice, cli_contingency, cli_manager, cli_pix, cli_printing, cli_support

    for module in (cli_contingency, cli_manager, cli_support, cli_backoffice, cli_printing, cli_pix):
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
    except CliError as exc:
        _fail(str(exc), exc.field, as_json)
        return exc.code
    except Exception as exc:  # noqa: BLE001 - every failure reaches the user as a sentence
        from pos_app.core.config import ConfigError
        from pos_app.core.domain.errors import ValidationError
        from pos_app.core.services.context import SetupError

        if isinstance(exc, ValidationError):
            _fail(str(exc), exc.field, as_json)
            return EXIT_BAD_INPUT
        if isinstance(exc, ConfigError | SetupError):
            _fail(str(exc), None, as_json)
            return EXIT_BAD_INPUT
        from pos_app.core.store.db import StoreError

        if isinstance(exc, StoreError):  # disk full, damaged database...: already a Portuguese sentence
            logging.getLogger("pos_app").error("falha de armazenamento: %s", exc)
            _fail(str(exc), None, as_json)
            return EXIT_NOT_ISSUED
        logging.getLogger("pos_app").exception("erro inesperado")
        _fail(f"Erro inesperado: {exc}", None, as_json)
        return EXIT_NOT_ISSUED


def _fail(message: str, field: str | None, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"erro": message, "campo": field}, ensure_ascii=False))
    print(f"Erro: {message}", file=sys.stderr)


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _open(start_sandbox: bool = True) -> AppContext:
    """Open the terminal's data (and, in demo mode, the embedded sandbox)."""
    from pos_app.core.services.context import open_app

    return open_app(start_sandbox=start_sandbox)


open_app_for_cli = _open
print_json = _print_json


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
    from pos_app.core.services.context import import_catalog_file

    ctx = _open(start_sandbox=False)
    try:
        if args.action == "import":
            path = Path(args.file)
            if not path.exists():
                raise CliError(f"Arquivo não encontrado: {path}")
            count, rejected = import_catalog_file(ctx, path)
            if args.json:
                _print_json({"importados": count, "rejeitados": [{"linha": n, "motivo": m} for n, m in rejected]})
            else:
                print(f"{count} produto(s) importado(s).")
                for line, reason in rejected:
                    print(f"  linha {line}: {reason}", file=sys.stderr)
                if rejected:
                    print(f"{len(rejected)} linha(s) rejeitada(s).", file=sys.stderr)
            return EXIT_OK if count or not rejected else EXIT_BAD_INPUT
        products = ctx.store.products.search(args.busca, limit=1000) if args.busca else ctx.store.products.all()
        if args.json:
            _print_json([
                {
                    "codigo": p.codigo, "ean": p.ean, "descricao": p.descricao, "ncm": p.ncm, "cfop": p.cfop,
                    "unidade": p.unidade, "preco": f"{p.preco:.2f}", "icms_origem": p.icms_origem,
                    "icms_situacao_tributaria": p.icms_situacao_tributaria,
                }
                for p in products
            ])
        else:
            for p in products:
                print(f"{p.codigo:>8}  {p.ean or '':14}  {p.descricao:45.45}  {p.unidade:3}  R$ {p.preco:>9.2f}")
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
                _print_json([{"codigo": u.codigo, "nome": u.nome, "papel": u.papel, "ativo": u.ativo} for u in users])
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
def _parse_amount(text: str, field: str) -> Decimal:
    from pos_app.core.domain.errors import ValidationError
    from pos_app.core.domain.money import parse_decimal

    try:
        return parse_decimal(text)
    except (ValidationError, InvalidOperation, ValueError) as exc:
        raise CliError(f"Valor inválido em {field}: {text!r}", field=field) from exc


def build_sale_from_args(ctx: Any, args: argparse.Namespace) -> Any:
    from pos_app.core.domain.payments import Payment
    from pos_app.core.domain.sale import Sale

    if not args.item:
        raise CliError("Venda sem itens: informe ao menos um --item.", field="item")
    sale = Sale()
    for spec in args.item:
        code, _, qty_text = spec.partition("*")
        product = ctx.store.products.lookup(code)
        if product is None:
            raise CliError(f"Produto não encontrado: {code}", field="item")
        qty = _parse_amount(qty_text, "item") if qty_text else Decimal(1)
        sale.add_item(product, qty)
    if args.desconto:
        sale.set_sale_discount(_parse_amount(args.desconto, "desconto"))
    from pos_app.core.domain.validators import only_digits

    if args.cpf and args.cnpj:
        raise CliError("Informe CPF ou CNPJ, não os dois.", field="cpf")
    if args.cpf:
        sale.cpf = only_digits(args.cpf)
        if len(sale.cpf) != 11:
            raise CliError(f"CPF inválido: {args.cpf}", field="cpf")
    elif args.cnpj:
        sale.cnpj = only_digits(args.cnpj)
        if len(sale.cnpj) != 14:
            raise CliError(f"CNPJ inválido: {args.cnpj}", field="cnpj")
    if not args.pay:
        raise CliError("Informe ao menos um pagamento com --pay FORMA:VALOR.", field="pay")
    from pos_app.cli_pix import split_pix_payments

    pays, pix_dynamic, pix_static = split_pix_payments(ctx, list(args.pay))
    # completed with the PSP and the endToEndId once the charge is paid (cmd_sell)
    args.pix_pending = [sale.add_payment(Payment(forma="17", valor=valor)) for valor in pix_dynamic]
    for valor in pix_static:
        sale.add_payment(Payment(forma="20", valor=valor))
    for spec in pays:
        forma, sep, rest = spec.partition(":")
        amount, _, brand = rest.partition(":")
        if not sep:
            raise CliError(f"Pagamento inválido: {spec!r} (use FORMA:VALOR)", field="pay")
        code = PAYMENT_ALIASES.get(forma.strip().lower(), forma.strip())
        from pos_app.core.domain.payments import PAYMENT_METHODS

        if code not in PAYMENT_METHODS:
            raise CliError(f"Forma de pagamento desconhecida: {forma}", field="pay")
        bandeira = None
        if code in ("03", "04"):
            bandeira = CARD_BRAND_ALIASES.get(brand.strip().lower(), brand.strip()) or "99"
        sale.add_payment(Payment(forma=code, valor=_parse_amount(amount, "pay"), bandeira=bandeira))
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
        from pos_app.cli_pix import settle_pix

        pix_charge = settle_pix(ctx, sale, getattr(args, "pix_pending", []), operador_id, args.pix_timeout)
        result = EmissionService(ctx).checkout(sale, operador_id=operador_id,
                                               extra={"cash_session_id": cash_session_id})
        if pix_charge is not None:
            from pos_app.core.pix.service import pix_service

            pix_service(ctx).link_sale(pix_charge.id, result.sale_id)
        from pos_app.cli_printing import print_after_sale  # follows impressora.tipo ("pdf": nothing)

        impressao = print_after_sale(ctx, result, operador_id)
        if args.json:
            _print_json(result.to_json() | ({"impressao": impressao} if impressao else {}))
        else:
            print(result.mensagem)
            if result.chave:
                print(f"NFC-e nº {result.numero} série {result.serie}  chave {result.chave}")
            print(f"Total R$ {result.total:.2f}  troco R$ {result.troco:.2f}")
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
        from pos_app.cli_support import cmd_doctor_bundle

        return cmd_doctor_bundle(args)
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
    from pos_app.cli_contingency import translate_fault_spec
    from pos_app.core import paths
    from pos_app.sandbox import serve

    try:
        falhas = [translate_fault_spec(spec) for spec in args.falha]  # Portuguese names: lento:8, 429:5...
        serve(port=args.port, state_path=str(paths.data_dir() / "sandbox.sqlite3"), falha=falhas)
    except ValueError as exc:
        from pos_app.cli_contingency import FAULT_ALIASES

        raise CliError(f"{exc}; em português: {', '.join(FAULT_ALIASES)}", field="falha") from exc
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
