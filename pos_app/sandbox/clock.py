"""The sandbox clock: real UTC time plus an adjustable offset.

Every time-dependent rule of the sandbox (the ±5 minute window of ``data_emissao``, the 30 minute
cancellation deadline, rate-limit windows, automatic contingency effectivation) reads this clock, so
tests and the demo can move time without sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """UTC-based clock whose offset from the real time can be moved at will."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Current sandbox time (timezone-aware, UTC)."""
        with self._lock:
            offset = self._offset
        return datetime.now(UTC) + offset

    @property
    def offset(self) -> timedelta:
        with self._lock:
            return self._offset

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (or backward, with a negative delta)."""
        with self._lock:
            self._offset += delta

    def set_offset(self, offset: timedelta) -> None:
        """Set the absolute offset from the real time (``timedelta(0)`` = real time)."""
        with self._lock:
            self._offset = offset
