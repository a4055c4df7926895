"""Subcommands of `pos-app` (registered by `pos_app.cli.build_parser`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]


def register(sub: argparse._SubParsersAction, commands: dict[str, Handler]) -> None:  # type: ignore[type-arg]
    """Add this module's subcommands to `sub` and their handlers to `commands`."""
