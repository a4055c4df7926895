"""Printing subcommands of `pos-app` (registered by `pos_app.cli.build_parser`):

    pos-app imprimir teste                       página de teste na impressora configurada
    pos-app imprimir status                      impressora acessível? papel? fila
    pos-app imprimir pendentes [--reenviar]      cupons na fila de reimpressão (e reimprime)
    pos-app imprimir reimprimir REF --pin PIN    segunda via (PIN de gerente; --gerente CODIGO)
    pos-app gaveta                               abre a gaveta de dinheiro

``pos-app sell`` prints through :func:`print_after_sale` following ``impressora.tipo``: with "pdf"
(the default) nothing is printed and its output is unchanged; otherwise the text output gains an
"Impressão:" line and the JSON output a ``"impressao"`` object. A printing failure never changes the
exit code of a sale (the sale is complete; the receipt waits in the reprint queue).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from pos_app.cli.common import CliError, _Parser, open_app_for_cli, print_json

Handler = Callable[[argparse.Namespace], int]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def register(sub: argparse._SubParsersAction, commands: dict[str, Handler]) -> None:
    """Add this module's subcommands to `sub` and their handlers to `commands`."""
    p = sub.add_parser("imprimir", help="impressora térmica: teste, reimpressão, fila")
    psub = p.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    t = psub.add_parser("teste", help="imprime uma página de teste (Imprimir teste)")
    t.add_argument("--json", action="store_true", help="saída em JSON")
    s = psub.add_parser("status", help="situação da impressora e da fila de reimpressão")
    s.add_argument("--json", action="store_true", help="saída em JSON")
    pe = psub.add_parser("pendentes", help="cupons aguardando impressão")
    pe.add_argument("--reenviar", action="store_true", help="tenta imprimir agora os cupons da fila")
    pe.add_argument("--json", action="store_true", help="saída em JSON")
    r = psub.add_parser("reimprimir", help="segunda via de um cupom (exige PIN de gerente)")
    r.add_argument(
        "ref", metavar="REF", help="referência da nota (ex.: T1A2B3_00000042), nº da venda ou 'ultima'"
    )
    r.add_argument("--pin", required=True, help="PIN do gerente")
    r.add_argument("--gerente", metavar="CODIGO", help="código do gerente (obrigatório se houver mais de um)")
    r.add_argument("--json", action="store_true", help="saída em JSON")
    commands["imprimir"] = cmd_imprimir

    g = sub.add_parser("gaveta", help="abre a gaveta de dinheiro (ligada à impressora)")
    g.add_argument("--json", action="store_true", help="saída em JSON")
    commands["gaveta"] = cmd_gaveta


def print_after_sale(ctx: Any, result: Any, operador_id: int | None) -> dict[str, Any] | None:
    """Print the receipt of ``pos-app sell``; None when nothing was printed ("PDF only")."""
    from pos_app.core.services.printing import PrintService

    outcome = PrintService(ctx).after_checkout(result, user_id=operador_id)
    return outcome.to_json() if outcome is not None else None


def _emit(args: argparse.Namespace, data: dict[str, Any], lines: list[str]) -> None:
    if getattr(args, "json", False):
        print_json(data)
    else:
        for line in lines:
            print(line)


def cmd_imprimir(args: argparse.Namespace) -> int:
    from pos_app.core.services.printing import PrintService

    ctx = open_app_for_cli(start_sandbox=False)
    try:
        service = PrintService(ctx)
        if args.action == "teste":
            outcome = service.test_page()
            _emit(args, outcome.to_json(), [outcome.message])
            return EXIT_OK if outcome.ok else EXIT_FAILED
        if args.action == "status":
            st = service.status()
            _emit(args, st.to_json(), [st.message])
            return EXIT_OK if st.ok else EXIT_FAILED
        if args.action == "pendentes":
            if args.reenviar:
                result = service.retry_pending()
                _emit(args, result.to_json(), [result.message])
                return EXIT_OK if result.ok else EXIT_FAILED
            pending = service.pending()
            lines = [
                f"{p.ref:22} nº {p.numero or '-':>6} série {p.serie or '-':>3}  "
                f"{'2ª via' if p.kind == 'segunda_via' else 'original':8}  {p.attempts} tentativa(s)  "
                f"{p.last_error or ''}"
                for p in pending
            ] or ["Nenhum cupom aguardando impressão."]
            _emit(args, {"pendentes": [p.to_json() for p in pending]}, lines)
            return EXIT_OK
        # reimprimir
        doc_id = _resolve_document(ctx, args.ref)
        if doc_id is None:
            raise CliError(f"Nota não encontrada: {args.ref}", field="ref")
        manager = _authenticate_manager(ctx, args.pin, args.gerente)
        outcome = service.reprint(doc_id, manager.id)
        _emit(args, outcome.to_json(), [outcome.message])
        return EXIT_OK if outcome.ok else EXIT_FAILED
    finally:
        ctx.close()


def cmd_gaveta(args: argparse.Namespace) -> int:
    from pos_app.core.services.printing import PrintService

    ctx = open_app_for_cli(start_sandbox=False)
    try:
        outcome = PrintService(ctx).open_drawer()
        _emit(args, outcome.to_json(), [outcome.message])
        return EXIT_OK if outcome.ok else EXIT_FAILED
    finally:
        ctx.close()


def _resolve_document(ctx: Any, ref: str) -> int | None:
    """A document ref, a sale number (its last printable document) or "ultima" (the last one)."""
    from pos_app.core.services.printing import resolve_printable_document  # heavy: when the command runs

    return resolve_printable_document(ctx, ref)


def _authenticate_manager(ctx: Any, pin: str, codigo: str | None) -> Any:
    """The manager whose PIN this is (lockout rules of the users repository apply)."""
    from pos_app.core.store.users import AuthError

    if codigo is None:
        managers = [u for u in ctx.store.users.all() if u.ativo and u.is_manager]
        if not managers:
            raise CliError("Nenhum gerente cadastrado: a segunda via exige um gerente.", field="gerente")
        if len(managers) > 1:
            raise CliError("Há mais de um gerente: informe --gerente CODIGO.", field="gerente")
        codigo = managers[0].codigo
    try:
        user = ctx.store.users.authenticate(codigo, pin)
    except AuthError as exc:
        raise CliError(str(exc), code=EXIT_BAD_INPUT, field="pin") from exc
    if not user.is_manager:
        raise CliError("A segunda via exige o PIN de um gerente.", code=EXIT_BAD_INPUT, field="gerente")
    return user
