"""``BackgroundSync``: the replay, run by a thread while the program is open.

Nobody has to remember to transmit a contingency note: while there is backlog and the link is up,
a pass of :class:`ReplayService` runs; after an interrupted pass it backs off (doubling up to
``max_backoff``); when the connectivity monitor sees the link come back it wakes at once.
Progress and results reach the UI through plain callables (called from the worker thread: a Qt
window forwards them with a queued signal). Never two passes at once: ``ReplayService`` holds a
per-folder lock, and this class never starts a pass while its own is running.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from pos_app.core.services.context import AppContext
from pos_app.core.services.monitor import ConnectivityMonitor
from pos_app.core.services.replay import ReplayReport, ReplayService

log = logging.getLogger("pos_app.background")

# Documents that still need the API (see ReplayService.run_once).
_BACKLOG_SQL = """
SELECT (SELECT count(*) FROM fiscal_documents
WHERE status IN ('contingencia_pendente', 'transmitindo', 'pendente', 'enviando', 'aguardando_conexao', 'em_duvida',
                 'status_desconhecido')
   OR (status = 'autorizado' AND focus_contingencia = 1 AND focus_contingencia_efetivada = 0)
   OR (status IN ('autorizado', 'cancelado') AND caminho_xml IS NOT NULL AND xml_path IS NULL))
 + (SELECT count(*) FROM pending_actions WHERE status = 'pendente') AS n
"""


class BackgroundSync:
    def __init__(
        self,
        ctx: AppContext,
        *,
        interval: float = 20.0,
        offline_interval: float = 5.0,
        max_backoff: float = 600.0,
        monitor: ConnectivityMonitor | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        on_report: Callable[[ReplayReport], None] | None = None,
        on_state: Callable[[str], None] | None = None,
        replay: ReplayService | None = None,
    ) -> None:
        self.ctx = ctx
        self.interval = interval
        self.offline_interval = offline_interval
        self.max_backoff = max_backoff
        if monitor is None:
            monitor = ctx.monitor if isinstance(ctx.monitor, ConnectivityMonitor) else None
        if monitor is None:
            monitor = ConnectivityMonitor(ctx.base_url)
            if ctx.monitor is None:
                ctx.monitor = monitor  # live sales then skip the timeout when the link is known down
        self.monitor = monitor
        self.on_progress = on_progress
        self.on_report = on_report
        self.on_state = on_state
        self.replay = replay or ReplayService(ctx)
        self.replay.progress = self._progress
        self.last_report: ReplayReport | None = None
        self.passes = 0
        self.failures = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._pass_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.monitor.listeners.append(self._on_link)

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="replay-background", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to end (an ongoing pass stops between two requests) and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._on_link in self.monitor.listeners:
            self.monitor.listeners.remove(self._on_link)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def busy(self) -> bool:
        """A pass is running right now."""
        return self._pass_lock.locked()

    def wake(self) -> None:
        """Run a pass soon (the link came back, a sale went to contingency, the user asked)."""
        self._wake.set()

    # -- one pass ------------------------------------------------------------------------------
    def has_backlog(self) -> bool:
        row = self.ctx.store.database.query_one(_BACKLOG_SQL)
        return bool(row and row["n"])

    def run_now(self, *, ignore_backoff: bool = True) -> ReplayReport | None:
        """Run one pass in the calling thread; None when a pass is already running."""
        if not self._pass_lock.acquire(blocking=False):
            return None
        try:
            self._state("sincronizando")
            report = self.replay.run_once(stop=self._stop, ignore_backoff=ignore_backoff)
            self.passes += 1
            self.last_report = report
        finally:
            self._pass_lock.release()
        self._notify(self.on_report, report)
        self._state("pendente" if report.restantes else "em_dia")
        return report

    # -- loop ----------------------------------------------------------------------------------
    def _loop(self) -> None:
        delay = 0.0
        while not self._stop.is_set():
            if delay > 0:
                self._wake.wait(delay)
                if self._stop.is_set():
                    break
            self._wake.clear()
            try:
                delay = self._tick()
            except Exception:  # noqa: BLE001 - the thread must survive anything and try again later
                log.exception("falha na sincronização em segundo plano")
                self.failures += 1
                delay = self._backoff()

    def _tick(self) -> float:
        if not self.has_backlog():
            self._state("em_dia")
            return self.interval
        if not self._online():
            self._state("offline")
            return self.offline_interval
        report = self.run_now(ignore_backoff=False)
        if report is None:
            return self.interval
        if report.interrompido and not self._stop.is_set():
            self.failures += 1
            return self._backoff()
        self.failures = 0
        # More work may have been skipped (back-off, XML batches): come back soon if this pass did work.
        return 1.0 if report.worked and self.has_backlog() else self.interval

    def _online(self) -> bool:
        if self.monitor.known_down(max_age=self.offline_interval):
            return False
        if self.monitor.online is None or self.monitor.known_down():
            return self.monitor.check()  # a TCP connection: costs no API credit
        return True

    def _backoff(self) -> float:
        return float(min(self.interval * 2 ** min(self.failures, 10), self.max_backoff))

    def _on_link(self, online: bool) -> None:
        if online:
            self._wake.set()

    # -- callbacks -----------------------------------------------------------------------------
    def _progress(self, done: int, total: int) -> None:
        self._notify(self.on_progress, done, total)

    def _state(self, state: str) -> None:
        self._notify(self.on_state, state)

    @staticmethod
    def _notify(callback: Callable[..., None] | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 - a UI callback must never stop the sync
            log.exception("callback da sincronização falhou")
