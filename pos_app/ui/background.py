"""Background duties of the cashier window: connectivity, contingency replay, status polling.

Everything slow runs through ``worker.run_in_worker``; these objects live on the GUI thread and
only expose signals. Callbacks from core threads (the connectivity monitor, sandbox faults)
are turned into queued signals by ``Bridge`` before anything on screen changes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from pos_app.core.services.context import AppContext
from pos_app.ui.worker import run_in_worker

log = logging.getLogger("pos_app.ui.background")

REPLAY_INTERVAL_MS = 30_000
BACKLOG_INTERVAL_MS = 5_000
PRINTER_INTERVAL_MS = 30_000


class Bridge(QObject):
    """Signals emitted from any thread, delivered on the GUI thread (queued)."""

    link_changed = Signal(object)  # bool
    faults_changed = Signal()


def has_replay_work(ctx: AppContext) -> bool:
    """Anything for ``ReplayService.run_once`` to do? (one cheap query)"""
    row = ctx.store.database.query_one(
        "SELECT (SELECT count(*) FROM fiscal_documents WHERE status IN "
        "('contingencia_pendente', 'transmitindo', 'aguardando_conexao', 'em_duvida', 'enviando', 'pendente', "
        "'status_desconhecido') "
        "OR (status = 'autorizado' AND focus_contingencia = 1 AND focus_contingencia_efetivada = 0) "
        "OR (status IN ('autorizado', 'cancelado') AND caminho_xml IS NOT NULL AND xml_path IS NULL)) "
        "+ (SELECT count(*) FROM pending_actions WHERE status = 'pendente') AS n"  # issue 18: written-ahead actions
    )
    return bool(row and row["n"])


def _replay_job(ctx: AppContext, stop: threading.Event, force: bool, ignore_backoff: bool,
                progress: Callable[[Any], None]) -> Any:
    if not force and not has_replay_work(ctx):
        return None
    from pos_app.core.services.replay import ReplayService

    service = ReplayService(ctx)
    service.progress = lambda n, total: progress((n, total))
    progress((0, -1))
    return service.run_once(stop=stop, ignore_backoff=ignore_backoff)


class ReplayScheduler(QObject):
    """Runs ``ReplayService.run_once`` every ~30 s when there is backlog, and when the link
    comes back; never two passes at once."""

    started = Signal()
    progress = Signal(int, int)  # done, total (-1 while preparing)
    finished = Signal(object)  # ReplayReport, None (nothing to do) or the exception

    def __init__(self, ctx: AppContext, interval_ms: int = REPLAY_INTERVAL_MS) -> None:
        super().__init__()
        self.ctx = ctx
        self._stop = threading.Event()
        self._running = False
        self._again: tuple[bool, bool] | None = None
        self._callbacks: list[Callable[[Any], None]] = []
        self.passes = 0
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(lambda: self.trigger())

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        self.timer.start()
        # Resume whatever a crash or a closed program left behind.
        QTimer.singleShot(1500, lambda: self.trigger(force=True))

    def stop(self) -> None:
        self.timer.stop()
        self._stop.set()

    def trigger(self, *, force: bool = False, ignore_backoff: bool = False,
                on_done: Callable[[Any], None] | None = None) -> bool:
        """Start a pass now (False when one is running: it is queued to run right after)."""
        if self._stop.is_set():
            return False
        if on_done is not None:
            self._callbacks.append(on_done)
        if self._running:
            if force:
                self._again = (force, ignore_backoff)
            return False
        monitor = self.ctx.monitor
        if not force and monitor is not None and monitor.known_down():
            return False  # a pass would only fail; the link coming back triggers one
        self._running = True
        self.started.emit()
        run_in_worker(_replay_job, self.ctx, self._stop, force, ignore_backoff,
                      on_progress=self._on_progress, on_result=self._done, on_error=self._done)
        return True

    def _on_progress(self, value: Any) -> None:
        n, total = value
        self.progress.emit(int(n), int(total))

    def _done(self, outcome: Any) -> None:
        self._running = False
        self.passes += 1
        if isinstance(outcome, BaseException):
            log.error("transmissão em segundo plano falhou: %s", outcome)
        self.finished.emit(outcome)
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb(outcome)
        again, self._again = self._again, None
        if again is not None:
            self.trigger(force=again[0], ignore_backoff=again[1])


def _backlog_job(ctx: AppContext) -> dict[str, Any]:
    from pos_app.core.services.status import backlog

    return backlog(ctx)


class Poller(QObject):
    """Polls a worker job periodically (one at a time) and emits its result."""

    updated = Signal(object)

    def __init__(self, job: Callable[[], Any], interval_ms: int) -> None:
        super().__init__()
        self._job = job
        self._busy = False
        self._pending = False
        self.last: Any = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.refresh)

    def start(self) -> None:
        self.timer.start()
        self.refresh()

    def stop(self) -> None:
        self.timer.stop()

    def refresh(self) -> None:
        if self._busy:
            self._pending = True
            return
        self._busy = True
        run_in_worker(self._job, on_result=self._result, on_error=self._error)

    def _result(self, value: Any) -> None:
        self._busy = False
        self.last = value
        self.updated.emit(value)
        self._again()

    def _error(self, exc: BaseException) -> None:
        self._busy = False
        log.warning("consulta periódica falhou: %s", exc)
        self._again()

    def _again(self) -> None:
        if self._pending:
            self._pending = False
            self.refresh()


def backlog_poller(ctx: AppContext) -> Poller:
    return Poller(lambda: _backlog_job(ctx), BACKLOG_INTERVAL_MS)


def printer_poller(ctx: AppContext) -> Poller:
    from pos_app.ui.print_bridge import printer_status

    return Poller(lambda: printer_status(ctx), PRINTER_INTERVAL_MS)
