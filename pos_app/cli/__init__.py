"""The ``pos-app`` command (entry point ``pos_app.cli:main``).

``main`` parses and dispatches; ``common`` holds what every command shares (exit codes, the one
error handler, the Portuguese parser, JSON output, opening the terminal); one module per family of
subcommands: ``contingency``, ``manager``, ``support``, ``backoffice``, ``printing``.
"""

from pos_app.cli.common import EXIT_BAD_INPUT, EXIT_NOT_ISSUED, EXIT_OK, CliError
from pos_app.cli.main import COMMANDS, build_parser, build_sale_from_args, main

__all__ = [
    "COMMANDS",
    "EXIT_BAD_INPUT",
    "EXIT_NOT_ISSUED",
    "EXIT_OK",
    "CliError",
    "build_parser",
    "build_sale_from_args",
    "main",
]
