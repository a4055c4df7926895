"""The one approved way to run slow work off the GUI thread.

``run_in_worker(fn, ...)`` runs ``fn`` on a ``QThreadPool`` and calls back ``on_result``,
``on_error`` and ``on_progress`` on the GUI thread: the worker only emits signals of a
``Task`` object that lives on the GUI thread, so Qt queues the calls there. ``fn`` must not
touch any widget; when it accepts a ``progress`` keyword it gets a thread-safe callable that
forwards any value to ``on_progress`` (services report progress through plain callables).
"""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger("pos_app.ui.worker")

_pool: QThreadPool | None = None
_alive: set[Task] = set()  # a Task lives until its callbacks ran


def pool() -> QThreadPool:
    """Private pool: network and disk work is I/O bound; more threads than cores is fine."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setObjectName("pos-workers")
        _pool.setMaxThreadCount(6)
        _pool.setExpiryTimeout(60_000)
    return _pool


class Task(QObject):
    """Handle of one background call; its slots run on the GUI thread."""

    result = Signal(object)
    error = Signal(object)
    progress = Signal(object)
    finished = Signal()

    def __init__(
        self,
        on_result: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
        on_progress: Callable[[Any], None] | None,
        on_finished: Callable[[], None] | None,
    ) -> None:
        super().__init__()
        self._on_result = on_result
        self._on_error = on_error
        self._on_progress = on_progress
        self._on_finished = on_finished
        self.done = False
        self.value: Any = None
        self.exception: BaseException | None = None
        self.result.connect(self._deliver_result)
        self.error.connect(self._deliver_error)
        self.progress.connect(self._deliver_progress)
        self.finished.connect(self._deliver_finished)

    @Slot(object)
    def _deliver_result(self, value: Any) -> None:
        self.value = value
        if self._on_result is not None:
            self._on_result(value)

    @Slot(object)
    def _deliver_error(self, exc: BaseException) -> None:
        self.exception = exc
        if self._on_error is not None:
            self._on_error(exc)
        else:
            log.error("tarefa em segundo plano falhou: %s", "".join(traceback.format_exception(exc)))

    @Slot(object)
    def _deliver_progress(self, value: Any) -> None:
        if self._on_progress is not None:
            self._on_progress(value)

    @Slot()
    def _deliver_finished(self) -> None:
        self.done = True
        try:
            if self._on_finished is not None:
                self._on_finished()
        finally:
            _alive.discard(self)


class _Runnable(QRunnable):
    def __init__(
        self, task: Task, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._task = task
        self._fn = fn
        self._args = args
        self._kwargs = kwargs

    def run(self) -> None:  # worker thread: emit only, never touch widgets
        task = self._task
        try:
            value = self._fn(*self._args, **self._kwargs)
        except BaseException as exc:  # noqa: BLE001 - reported to the GUI thread
            task.error.emit(exc)
        else:
            task.result.emit(value)
        finally:
            task.finished.emit()


def _accepts_progress(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "progress" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def run_in_worker(
    fn: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_progress: Callable[[Any], None] | None = None,
    on_finished: Callable[[], None] | None = None,
    **kwargs: Any,
) -> Task:
    """Run ``fn(*args, **kwargs)`` in the worker pool; callbacks run on the GUI thread."""
    task = Task(on_result, on_error, on_progress, on_finished)
    if on_progress is not None and "progress" not in kwargs and _accepts_progress(fn):
        kwargs["progress"] = task.progress.emit
    _alive.add(task)
    pool().start(_Runnable(task, fn, args, kwargs))
    return task


def wait_idle(msecs: int = 10_000) -> bool:
    """Block until every running job ended (shutdown and tests)."""
    return pool().waitForDone(msecs)
