"""Hook for the "Gerente" menu of the cashier window.

Manager features (history, cancel note, inutilização, cash session, reports, users) live in
``pos_app.ui.manager``. That package registers its entries here, from its ``__init__``::

    from pos_app.ui.actions import ManagerAction, register_manager_action

    register_manager_action(ManagerAction(
        key="historico", label=tr("Histórico de vendas"), order=10,
        run=lambda host: HistoryDialog(host.ctx, parent=host.parent_widget()).open(),
    ))

The main window imports ``pos_app.ui.manager`` (when it exists) before building its menu, asks
for the manager PIN when ``requires_pin`` is set (unless the operator is a manager) and then
calls ``run(host)`` on the GUI thread. Slow work inside a dialog goes through
``pos_app.ui.worker.run_in_worker``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User

log = logging.getLogger("pos_app.ui")


class ManagerHost(Protocol):
    """What a manager action gets from the cashier window."""

    @property
    def ctx(self) -> AppContext: ...

    @property
    def operator(self) -> User | None: ...

    @property
    def approver(self) -> User | None:
        """The manager who typed the PIN for this action (the operator when he is a manager)."""
        ...

    def parent_widget(self) -> QWidget: ...

    def refresh_status(self) -> None:
        """Ask the status bar to re-read the backlog (after cancelling, voiding...)."""
        ...


@dataclass(frozen=True)
class ManagerAction:
    key: str
    label: str
    run: Callable[[ManagerHost], None]
    requires_pin: bool = True
    order: int = 100
    shortcut_hint: str | None = None  # shown in the menu, e.g. "Ctrl+H"


manager_actions: list[ManagerAction] = []
"""Entries of the "Gerente" menu added by ``pos_app.ui.manager`` (see the module docstring)."""


def register_manager_action(action: ManagerAction) -> None:
    """Add (or replace, by ``key``) an entry of the "Gerente" menu."""
    manager_actions[:] = [a for a in manager_actions if a.key != action.key]
    manager_actions.append(action)


EXTENSION_PACKAGES = (
    "pos_app.ui.manager",
    "pos_app.ui.backoffice",
    "pos_app.ui.store",
    "pos_app.ui.pix",
    "pos_app.ui.econf",
)
"""Packages that register "Gerente" menu entries when imported."""


def load_manager_extensions() -> list[ManagerAction]:
    """Import the ``EXTENSION_PACKAGES`` present; returns the registered actions in menu order."""
    for package in EXTENSION_PACKAGES:
        try:
            importlib.import_module(package)
        except ModuleNotFoundError as exc:
            if exc.name != package:
                log.exception("falha ao carregar as funções de gerente (%s)", package)
        except Exception:  # noqa: BLE001 - a broken extension must not stop the cashier
            log.exception("falha ao carregar as funções de gerente (%s)", package)
    return sorted(manager_actions, key=lambda a: (a.order, a.label))
