"""PIX in the "Gerente" menu: Pix received without a sale (late, duplicate) and their refund."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pos_app.ui.actions import ManagerAction, register_manager_action
from pos_app.ui.i18n import tr
from pos_app.ui.pix.refunds import PixRefundsDialog

if TYPE_CHECKING:
    from pos_app.ui.actions import ManagerHost

__all__ = ["PixRefundsDialog"]


def _open(host: ManagerHost) -> None:
    approver = host.approver
    dialog = PixRefundsDialog(host.ctx, approver, host.parent_widget())
    host.parent_widget().__dict__["pix_refunds_dialog"] = dialog
    dialog.open()


register_manager_action(
    ManagerAction(
        key="pix_devolucoes",
        label=tr("PIX recebidos sem venda (devolver)"),
        run=_open,
        requires_pin=True,
        order=85,
    )
)
