"""The one replay scheduler, and ``BackgroundSync``: the replay run by a thread while the program is open.

``ReplayScheduler`` holds the policy every caller shares: one pass at a time (a request during a
pass is queued and runs right after it), nothing while the link is known down (the link coming back
triggers a pass), a pass only when there is backlog unless forced. Where a pass runs is injected
(``submit``): a plain thread here, the Qt worker pool in the window (``ui/background.py`` wraps
this class and turns its callbacks into signals).

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
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from pos_app.core.services.context import AppContext
from pos_app.core.services.monitor import ConnectivityMonitor
from pos_app.core.services.replay import ReplayReport, ReplayService

log = logging.getLogger("pos_app.background")

PIX_SYNC_INTERVAL = 60.0  # seconds between two PIX look-ups at the PSP


class SyncState(StrEnum):
    """What the background sync is doing (shown in the status bar); not a document state."""

    EM_DIA = "em_dia"
    OFFLINE = "offline"
    SINCRONIZANDO = "sincronizando"
    PENDENTE = "pendente"


Submit = Callable[..., Any]  # submit(job, *, on_result, on_error, on_progress); job(progress=callable)


def thread_submit(
    job: Callable[..., Any],
    *,
    on_result: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    on_progress: Callable[[Any], None],
) -> None:
    """Run ``job`` in a new daemon thread; callbacks are called from that thread."""

    def run() -> None:
        try:
            value = job(progress=on_progress)
        except BaseException as exc:  # noqa: BLE001 - handed to on_error
            on_error(exc)
            return
        on_result(value)

    threading.Thread(target=run, name="replay-pass", daemon=True).start()


class ReplayScheduler:
    """One replay pass at a time, on request (``trigger``) or in the calling thread (``run_now``)."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        submit: Submit | None = None,
        replay_factory: Callable[[], ReplayService] | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.ctx = ctx
        self._submit = submit or thread_submit
        self._replay_factory = replay_factory or (lambda: ReplayService(ctx))
        self.stop_event = stop_event or threading.Event()
        self._lock = threading.Lock()
        self._running = False
        self._again: tuple[bool, bool] | None = None
        self._callbacks: list[Callable[[Any], None]] = []
        self._pix_last = -1e9
        self.passes = 0
        self.last_outcome: Any = None
        self.on_started: Callable[[], None] | None = None
        self.on_progress: Callable[[int, int], None] | None = None  # done, total (-1 while preparing)
        self.on_finished: Callable[[Any], None] | None = (
            None  # ReplayReport, None (nothing to do) or the error
        )

    @property
    def running(self) -> bool:
        return self._running

    def stop(self) -> None:
        self.stop_event.set()

    def trigger(
        self,
        *,
        force: bool = False,
        ignore_backoff: bool = False,
        on_done: Callable[[Any], None] | None = None,
    ) -> bool:
        """Start a pass now (False when one is running: a forced request then runs right after it).

        Without ``force`` nothing starts while the link is known down, and the pass does nothing
        when there is no backlog. ``on_done(outcome)`` is called after the next pass."""
        if self.stop_event.is_set():
            return False
        with self._lock:
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
        _notify(self.on_started)

        def job(progress: Callable[[Any], None]) -> Any:
            return self._pass(force, ignore_backoff, progress)

        self._submit(job, on_result=self._done, on_error=self._done, on_progress=self._progress)
        return True

    def run_now(self, *, force: bool = True, ignore_backoff: bool = True) -> Any:
        """Run one pass in the calling thread; None when a pass is already running (errors raise)."""
        with self._lock:
            if self._running:
                return None
            self._running = True
        _notify(self.on_started)
        try:
            outcome = self._pass(force, ignore_backoff, self._progress)
        except BaseException as exc:
            self._done(exc)
            raise
        self._done(outcome)
        return outcome

    def pix_tick(self) -> None:
        """At most every minute: resolve PIX charges left open and catch Pix paid after a
        cancellation (issue 17). Runs with the passes (worker thread), before the backlog check."""
        now = time.monotonic()
        with self._lock:
            if now - self._pix_last < PIX_SYNC_INTERVAL:
                return
            self._pix_last = now
        try:
            from pos_app.core.pix.service import pix_service

            svc = pix_service(self.ctx)
            if svc.configured() and svc.needs_sync():
                svc.sync(due_only=True)  # the late-payment watcher: bounded by LATE_WATCH_STEPS
        except Exception:  # noqa: BLE001 - PIX trouble never stops the NFC-e sync
            log.warning("sincronização PIX falhou", exc_info=True)

    def _pass(
        self, force: bool, ignore_backoff: bool, progress: Callable[[Any], None]
    ) -> ReplayReport | None:
        self.pix_tick()
        if not force and not self.ctx.store.documents.has_backlog():
            return None
        service = self._replay_factory()
        service.progress = lambda n, total: progress((n, total))
        progress((0, -1))
        return service.run_once(stop=self.stop_event, ignore_backoff=ignore_backoff)

    def _progress(self, value: Any) -> None:
        n, total = value
        _notify(self.on_progress, int(n), int(total))

    def _done(self, outcome: Any) -> None:
        with self._lock:
            self._running = False
            self.passes += 1
            self.last_outcome = outcome
            callbacks, self._callbacks = self._callbacks, []
            again, self._again = self._again, None
        if isinstance(outcome, BaseException):
            log.error("transmissão em segundo plano falhou: %s", outcome)
        _notify(self.on_finished, outcome)
        for callback in callbacks:
            _notify(callback, outcome)
        if again is not None:
            self.trigger(force=again[0], ignore_backoff=again[1])


def _notify(callback: Callable[..., None] | None, *args: Any) -> None:
    if callback is None:
        return
    try:
        callback(*args)
    except Exception:  # noqa: BLE001 - a UI callback must never stop the sync
        log.exception("callback da sincronização falhou")


class BackgroundSync:
    """A thread that asks the ``ReplayScheduler`` for a pass while there is backlog and the link is up."""

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
        self.last_report: ReplayReport | None = None
        self.failures = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.scheduler = ReplayScheduler(ctx, replay_factory=lambda: self.replay, stop_event=self._stop)
        self.scheduler.on_progress = self._progress
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
        return self.scheduler.running

    @property
    def passes(self) -> int:
        return self.scheduler.passes

    def wake(self) -> None:
        """Run a pass soon (the link came back, a sale went to contingency, the user asked)."""
        self._wake.set()

    # -- one pass ------------------------------------------------------------------------------
    def has_backlog(self) -> bool:
        return self.ctx.store.documents.has_backlog()

    def run_now(self, *, ignore_backoff: bool = True) -> ReplayReport | None:
        """Run one pass in the calling thread; None when a pass is already running."""
        if self.scheduler.running:
            return None
        self._state(SyncState.SINCRONIZANDO)
        report = self.scheduler.run_now(force=True, ignore_backoff=ignore_backoff)
        if report is None:
            return None
        self.last_report = report
        self._notify(self.on_report, report)
        self._state(SyncState.PENDENTE if report.restantes else SyncState.EM_DIA)
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
        self.scheduler.pix_tick()
        if not self.has_backlog():
            self._state(SyncState.EM_DIA)
            return self.interval
        if not self._online():
            self._state(SyncState.OFFLINE)
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
        if total < 0:
            return  # "preparing" is for the status bar of the window; callers here count notes
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
