"""Store (loja) entries of the "Gerente" menu: price for every terminal, the store's day dashboard, the
store-wide history and the cash closings of every terminal."""

from __future__ import annotations

from typing import Any

from pos_app.ui.actions import ManagerAction, register_manager_action
from pos_app.ui.i18n import tr
from pos_app.ui.store.dialog import StoreDialog


def _run(host: Any) -> None:
    manager = getattr(host, "approver", None) or getattr(host, "operator", None)
    StoreDialog(host.ctx, manager, parent=host.parent_widget()).open()


register_manager_action(
    ManagerAction(
        key="loja", label=tr("Loja (preços, histórico e fechamentos de todos os caixas)"), run=_run, order=80
    )
)
