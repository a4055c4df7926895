"""Back office of the manager: the "Documentos (CT-e, NFS-e)" window.

Importing this package registers the entry in the "Gerente" menu (``pos_app.ui.actions``);
``open_documents_window(ctx, parent)`` opens the window from any other host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pos_app.ui.actions import ManagerAction, register_manager_action
from pos_app.ui.backoffice.documents import DocumentsWindow, open_documents_window
from pos_app.ui.i18n import tr

if TYPE_CHECKING:
    from pos_app.ui.actions import ManagerHost

__all__ = ["DocumentsWindow", "open_documents_window"]


def _open(host: ManagerHost) -> None:
    approver = host.approver
    open_documents_window(
        host.ctx, host.parent_widget(), user_id=approver.id if approver is not None else None
    )


register_manager_action(ManagerAction(key="documentos_backoffice", label=tr("Documentos (CT-e, NFS-e)"),
                                      run=_open, requires_pin=True, order=80))  # fmt: skip
