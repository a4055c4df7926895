"""What every ``pos-app`` subcommand shares: exit codes, the one error handler, the Portuguese
parser, JSON output and opening the terminal's data. Imports nothing of the CLI itself, so the
command modules (``main``, ``manager``, ``contingency``...) depend on it and never on each other.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.money import parse_decimal
from pos_app.core.errors import PosError
from pos_app.core.services import cart

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

EXIT_OK = 0
EXIT_NOT_ISSUED = 1  # the request was valid but no fiscal document was issued (rejection, error)
EXIT_BAD_INPUT = 2  # refused before anything was sent

# Payment aliases live with the cart rules (shared with the window); re-exported for the commands.
PAYMENT_ALIASES = cart.PAYMENT_ALIASES
CARD_BRAND_ALIASES = cart.CARD_BRAND_ALIASES


class CliError(PosError):
    kind = "entrada"

    def __init__(self, message: str, code: int = EXIT_BAD_INPUT, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


# PosError kinds refused before anything was sent (exit 2); every other kind is exit 1.
_BAD_INPUT_KINDS = frozenset({"entrada", "validacao", "configuracao", "recusado", "permissao"})


def handle_error(exc: BaseException, as_json: bool) -> int:
    """The one place a failure of a command becomes a message and an exit code."""
    if isinstance(exc, CliError):
        _fail(exc.message, exc.field, as_json)
        return exc.code
    if isinstance(exc, PosError):
        field = getattr(exc, "field", None)
        if exc.kind in _BAD_INPUT_KINDS:
            _fail(str(exc), field, as_json)
            return EXIT_BAD_INPUT
        # Storage, API, printer, certificate...: already a Portuguese sentence saying what to do.
        logging.getLogger("pos_app").error("%s: %s", exc.kind, exc)
        _fail(str(exc), field, as_json)
        return EXIT_NOT_ISSUED
    logging.getLogger("pos_app").error("erro inesperado", exc_info=exc)
    _fail(f"Erro inesperado: {exc}", None, as_json)
    return EXIT_NOT_ISSUED


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


class Parser(argparse.ArgumentParser):
    """argparse speaking Portuguese."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self.add_argument("-h", "--help", action="help", help="mostra esta ajuda e sai")

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: erro: {message}\n")


_Parser = Parser  # the name the command modules used


def _fail(message: str, field: str | None, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"erro": message, "campo": field}, ensure_ascii=False))
    print(f"Erro: {message}", file=sys.stderr)


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def open_app_for_cli(start_sandbox: bool = True) -> AppContext:
    """Open the terminal's data (and, in demo mode, the embedded sandbox)."""
    from pos_app.app import open_app  # heavy imports: only when a command runs

    return open_app(start_sandbox=start_sandbox)


def manager_pin(args: argparse.Namespace) -> str:
    """The manager's PIN: ``--pin``, else ``POS_PIN_GERENTE``, else asked on a terminal."""
    import getpass
    import os

    pin = getattr(args, "pin", None)
    if pin is None:
        pin = os.environ.get("POS_PIN_GERENTE")
    if pin is None and sys.stdin.isatty():
        pin = getpass.getpass("PIN do gerente: ")
    if not pin:
        raise CliError("Informe o PIN do gerente (--pin).", EXIT_BAD_INPUT, "pin")
    return str(pin)


def authenticate_manager(ctx: Any, args: argparse.Namespace, action: str) -> Any:
    """The active manager behind ``--pin`` (and ``--gerente``), for ``action`` (audited)."""
    from pos_app.core.services.users import authenticate

    return authenticate(ctx, manager_pin(args), getattr(args, "gerente", None), action=action)


def parse_amount(text: str, field: str) -> Decimal:
    try:
        return parse_decimal(text)
    except (ValidationError, InvalidOperation, ValueError) as exc:
        raise CliError(f"Valor inválido em {field}: {text!r}", field=field) from exc
