"""Manager dialogs of the cashier window: cancel note (live countdown), inutilização, e-mail, history
(detail, reprint, XML, consult), cash session, operators and the daily dashboard.

Importing this package registers the entries of the "Gerente" menu in ``pos_app.ui.actions``
(the window asks for the manager PIN before running them and passes the approving manager).
``manager_menu_actions(ctx, parent, current_user)`` gives the same entries as (label, callable)
pairs for any other host.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pos_app.ui.i18n import tr

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDialog, QWidget

    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User

__all__ = ["ENTRIES", "manager_menu_actions", "open_dialog"]

# key, label, dialog factory (module, class), menu order
ENTRIES: list[tuple[str, str, str, str, int]] = [
    ("historico", "Histórico de vendas", "history_dialog", "HistoryDialog", 10),
    ("cancelar_nota", "Cancelar NFC-e", "cancel_dialog", "CancelDialog", 20),
    ("email", "Enviar NFC-e por e-mail", "email_dialog", "EmailDialog", 30),
    ("inutilizar", "Inutilizar numeração", "void_dialog", "VoidDialog", 40),
    ("caixa", "Caixa (abrir, sangria, suprimento, fechar)", "cash_dialog", "CashDialog", 50),
    ("relatorios", "Relatórios do dia", "reports_dialog", "ReportsDialog", 60),
    ("usuarios", "Operadores", "users_dialog", "UsersDialog", 70),
    ("tributacao", "Grupos tributários", "tax_groups_dialog", "TaxGroupsDialog", 75),
]


def open_dialog(
    key: str,
    ctx: AppContext,
    parent: QWidget | None,
    manager: User | None,
    on_finished: Callable[[], None] | None = None,
) -> QDialog:
    """Build and open (non-blocking) the dialog of an entry; returns it."""
    import importlib

    for entry_key, _label, module, cls, _order in ENTRIES:
        if entry_key == key:
            klass: Any = getattr(importlib.import_module(f"pos_app.ui.manager.{module}"), cls)
            dialog: QDialog = klass(ctx, manager, parent)
            if on_finished is not None:
                dialog.finished.connect(lambda _r=0: on_finished())
            dialog.open()
            return dialog
    raise KeyError(key)


def manager_menu_actions(
    ctx: AppContext, parent: QWidget | None, current_user: User | None
) -> list[tuple[str, Callable[[], QDialog]]]:
    """(label, open) pairs; ``current_user`` is used as the approving manager when he is one,
    otherwise each dialog asks for a manager PIN itself."""
    manager = current_user if current_user is not None and current_user.is_manager else None

    def opener(key: str) -> Callable[[], QDialog]:
        return lambda: open_dialog(key, ctx, parent, manager)

    return [(tr(label), opener(key)) for key, label, _m, _c, _o in ENTRIES]


def _register() -> None:
    try:
        from pos_app.ui.actions import ManagerAction, register_manager_action
    except ImportError:  # the window has no hook: manager_menu_actions() is the way in
        return
    for key, label, _module, _cls, order in ENTRIES:

        def run(host: Any, k: str = key) -> None:
            manager = getattr(host, "approver", None) or getattr(host, "operator", None)
            if manager is not None and not manager.is_manager:
                manager = None
            refresh = getattr(host, "refresh_status", None)
            open_dialog(k, host.ctx, host.parent_widget(), manager, refresh)

        register_manager_action(ManagerAction(key=f"gerente_{key}", label=tr(label), run=run, order=order))


_register()
