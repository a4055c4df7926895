"""One rate budget shared by everything that calls the API from this terminal.

Focus grants 100 credits per minute per token, shared by every terminal of the store. The
budget learns the real remaining credits from the ``Rate-Limit-*`` headers of every answer, so it
also sees what the other terminals spent. Live sales may use the last credits; replay and the
connectivity monitor keep a reserve free for them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from enum import IntEnum

MAX_RESET_SECONDS = 300.0  # Focus windows are 60 s: a longer reset is garbage and must not block the terminal


class Priority(IntEnum):
    LIVE = 0  # a customer is waiting at the counter
    REPLAY = 1  # contingency notes, reconciliation, consults
    MONITOR = 2  # connectivity checks


class RateBudget:
    def __init__(
        self,
        reserve_for_live: int = 20,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.reserve_for_live = reserve_for_live
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.limit: int | None = None
        self.remaining: int | None = None
        self._reset_at: float = 0.0
        self.blocked_until: float = 0.0

    def observe(self, headers: Mapping[str, str], status_code: int) -> None:
        """Learn from an answer's ``Rate-Limit-*`` headers (and a 429)."""

        def num(name: str) -> float | None:
            value = headers.get(name)
            try:
                number = float(value) if value is not None else None
            except ValueError:
                return None
            # inf/nan or absurd values from a broken proxy must not poison the budget
            if number is None or not math.isfinite(number) or abs(number) > 1e9:
                return None
            return number

        limit, remaining, reset = (
            num("Rate-Limit-Limit"),
            num("Rate-Limit-Remaining"),
            num("Rate-Limit-Reset"),
        )
        now = self._clock()
        with self._lock:
            if limit is not None:
                self.limit = int(limit)
            if remaining is not None:
                self.remaining = int(remaining)
            if reset is not None:
                reset = min(max(reset, 0.0), MAX_RESET_SECONDS)
                self._reset_at = now + reset
            if status_code == 429:
                self.remaining = 0
                self.blocked_until = now + max(reset or 1.0, 0.5)

    def wait_time(self, priority: Priority) -> float:
        """Seconds to wait before a request of this priority may go (0 = now)."""
        now = self._clock()
        with self._lock:
            if self.blocked_until > now:
                return self.blocked_until - now
            if self._reset_at <= now:
                # Window over: the counter was refilled; forget the stale remaining.
                self.remaining = None
                return 0.0
            if self.remaining is None:
                return 0.0
            floor = 0 if priority == Priority.LIVE else self.reserve_for_live
            if priority == Priority.MONITOR:
                floor = self.reserve_for_live + 5
            if self.remaining > floor:
                return 0.0
            return self._reset_at - now

    def acquire(self, priority: Priority, max_wait: float | None = None) -> bool:
        """Wait for credit. Returns False if that would take more than ``max_wait`` seconds."""
        wait = self.wait_time(priority)
        if wait <= 0:
            self._spend()
            return True
        if max_wait is not None and wait > max_wait:
            return False
        self._sleep(wait)
        self._spend()
        return True

    def _spend(self) -> None:
        with self._lock:
            if self.remaining is not None and self.remaining > 0:
                self.remaining -= 1

    def snapshot(self) -> dict[str, float | int | None]:
        now = self._clock()
        with self._lock:
            return {
                "limit": self.limit,
                "remaining": self.remaining,
                "reset_in": max(self._reset_at - now, 0.0),
                "blocked_for": max(self.blocked_until - now, 0.0),
            }
