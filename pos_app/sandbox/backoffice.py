"""The back-office resources of the sandbox beside NFC-e: CT-e / CT-e OS, received CT-e and RPS
batches. ``SandboxServer`` builds one :class:`BackofficeSandbox`; the HTTP handler asks it for the
handler of ``/v2/<resource>`` (:meth:`handler_for`) before falling back to NFC-e.
"""

from __future__ import annotations

from collections.abc import Callable

from pos_app.sandbox.clock import SandboxClock
from pos_app.sandbox.cte import CteSandbox
from pos_app.sandbox.ctes_recebidas import CtesRecebidasSandbox
from pos_app.sandbox.docstore import DocRequest, DocStore
from pos_app.sandbox.engine import ApiResponse, NfceSandbox
from pos_app.sandbox.faults import Faults
from pos_app.sandbox.lotes_rps import LotesRpsSandbox
from pos_app.sandbox.store import SandboxStore

Handler = Callable[[DocRequest], ApiResponse]


class BackofficeSandbox:
    def __init__(self, store: SandboxStore, clock: SandboxClock, faults: Faults, engine: NfceSandbox) -> None:
        self.docs = DocStore(store)
        self.cte = CteSandbox(self.docs, clock, faults, engine)
        self.ctes_recebidas = CtesRecebidasSandbox(self.docs, clock, faults, engine)
        self.lotes_rps = LotesRpsSandbox(self.docs, clock, faults, engine)
        self._routes: dict[str, Handler] = {
            "cte": self.cte.handle,
            "cte_os": self.cte.handle_os,
            "ctes_recebidas": self.ctes_recebidas.handle,
            "lotes_rps": self.lotes_rps.handle,
        }

    def handler_for(self, resource: str) -> Handler | None:
        """The handler of ``/v2/<resource>``, or None (NFC-e and unknown resources)."""
        return self._routes.get(resource)
