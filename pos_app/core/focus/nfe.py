"""NF-e model 55 on the Focus API (``/v2/nfe``): the NFC-e machinery on another path, asynchronous.

Focus answers the POST with ``processando_autorizacao`` and processes the note in the background;
``emit`` consults the ref until the note is final or the cashier's wait (``timeout``) is over, and
then returns the last answer (still ``processando_autorizacao``: the replay pass consults it later).

``offline=True`` transmits an NF-e generated beforehand at the counter in contingency (Ajuste SINIEF
12/2025): the NFC-e's documented form ``forma_emissao=offline`` on ``/v2/nfe``, with the note's own
``numero``, ``serie``, ``codigo_unico``, original ``data_emissao`` and, NF-e only, ``tipo_emissao``
(tpEmis of the key), ``data_entrada_contingencia`` (dhCont) and ``justificativa_contingencia`` (xJust).
Focus's 2026 NF-e page does not document this form; the sandbox implements it.
"""

from __future__ import annotations

import time
from typing import Any

from pos_app.core.fiscal.document_status import FocusStatus
from pos_app.core.focus.errors import InDoubt, NotDelivered, RateLimited
from pos_app.core.focus.nfce import NfceApi, NfceResult
from pos_app.core.focus.ratelimit import Priority

POLL_INTERVAL = 0.5


class NfeApi(NfceApi):
    PATH = "/v2/nfe"
    MODELO = 55

    def emit(
        self,
        ref: str,
        payload: dict[str, Any],
        *,
        completa: bool = True,
        offline: bool = False,
        priority: Priority = Priority.LIVE,
        timeout: float | None = None,
    ) -> NfceResult:
        start = time.monotonic()
        result = super().emit(
            ref, payload, completa=False, offline=offline, priority=priority, timeout=timeout
        )
        return self.wait_final(ref, result, start=start, timeout=timeout, priority=priority)

    def wait_final(
        self,
        ref: str,
        result: NfceResult,
        *,
        start: float,
        timeout: float | None,
        priority: Priority = Priority.LIVE,
    ) -> NfceResult:
        """Consult ``ref`` until it leaves ``processando_autorizacao`` or ``timeout`` runs out."""
        deadline = start + (timeout if timeout is not None else 15.0)
        interval = POLL_INTERVAL
        while result.status == FocusStatus.PROCESSANDO_AUTORIZACAO:
            remaining = deadline - time.monotonic()
            if remaining <= interval:
                return result
            time.sleep(interval)
            interval = min(interval * 1.5, 2.0)
            try:
                consulted = self.consult(
                    ref, priority=priority, timeout=max(deadline - time.monotonic(), 0.5)
                )
            except (NotDelivered, InDoubt, RateLimited):
                return result  # the POST was accepted: the note is processing; consult it later
            if consulted is None:
                return result
            result = consulted
        return result
