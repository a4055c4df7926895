"""ECONF in the "Gerente" menu: the Conciliação Financeira list with send, settle and cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pos_app.ui.actions import ManagerAction, register_manager_action
from pos_app.ui.econf.dialog import EconfDialog
from pos_app.ui.i18n import tr

if TYPE_CHECKING:
    from pos_app.ui.actions import ManagerHost

__all__ = ["EconfDialog"]


def _open(host: ManagerHost) -> None:
    dialog = EconfDialog(host.ctx, host.approver, host.parent_widget())
    host.parent_widget().__dict__["econf_dialog"] = dialog
    dialog.open()


register_manager_action(
    ManagerAction(
        key="econf",
        label=tr("Conciliação financeira (ECONF)"),
        run=_open,
        requires_pin=True,
        order=86,
    )
)
