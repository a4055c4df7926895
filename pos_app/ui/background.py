"""Background duties of the cashier window: connectivity, contingency replay, status polling.

Everything slow runs through ``worker.run_in_worker``; these objects live on the GUI thread and
only expose signals. Callbacks from core threads (the connectivity monitor, sandbox faults)
are turned into queued signals by ``Bridge`` before anything on screen changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from pos_app.core.services.background import ReplayScheduler as CoreReplayScheduler
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


class ReplayScheduler(QObject):
    """The core ``ReplayScheduler`` on a Qt timer: a pass every ~30 s when there is backlog and
    when the link comes back (never two at once); passes run in the worker pool and report through
    signals on the GUI thread."""

    started = Signal()
    progress = Signal(int, int)  # done, total (-1 while preparing)
    finished = Signal(object)  # ReplayReport, None (nothing to do) or the exception

    def __init__(self, ctx: AppContext, interval_ms: int = REPLAY_INTERVAL_MS) -> None:
        super().__init__()
        self.ctx = ctx
        self.core = CoreReplayScheduler(ctx, submit=_worker_submit)
        # run_in_worker delivers results and progress on the GUI thread: emitting here is safe.
        self.core.on_started = self.started.emit
        self.core.on_progress = self.progress.emit
        self.core.on_finished = self.finished.emit
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(lambda: self.trigger())

    @property
    def running(self) -> bool:
        return self.core.running

    @property
    def passes(self) -> int:
        return self.core.passes

    def start(self) -> None:
        self.timer.start()
        # Resume whatever a crash or a closed program left behind.
        QTimer.singleShot(1500, lambda: self.trigger(force=True))

    def stop(self) -> None:
        self.timer.stop()
        self.core.stop()

    def trigger(
        self,
        *,
        force: bool = False,
        ignore_backoff: bool = False,
        on_done: Callable[[Any], None] | None = None,
    ) -> bool:
        """Start a pass now (False when one is running: it is queued to run right after)."""
        return self.core.trigger(force=force, ignore_backoff=ignore_backoff, on_done=on_done)


def _worker_submit(
    job: Callable[..., Any],
    *,
    on_result: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    on_progress: Callable[[Any], None],
) -> None:
    run_in_worker(job, on_progress=on_progress, on_result=on_result, on_error=on_error)


def _backlog_job(ctx: AppContext) -> dict[str, Any]:
    from pos_app.core.services.status import backlog
    from pos_app.core.storeserver.link import status as store_status

    data = backlog(ctx)
    data["loja"] = store_status(ctx)  # the store database chip (not configured: hidden)
    return data


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
