"""Per-token request budget like Focus: N credits per 60 s window, measured on the sandbox clock."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from pos_app.sandbox.clock import SandboxClock

WINDOW = timedelta(seconds=60)
UNLIMITED = 1_000_000


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset_seconds: int
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "Rate-Limit-Limit": str(self.limit),
            "Rate-Limit-Remaining": str(self.remaining),
            "Rate-Limit-Reset": str(self.reset_seconds),
        }


class RateLimiter:
    """Fixed 60-second windows per token, starting at the token's first request."""

    def __init__(self, clock: SandboxClock, limit: int | None) -> None:
        self.clock = clock
        self.limit = limit
        self._windows: dict[str, tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    def _current(self, token: str, now: datetime) -> tuple[datetime, int]:
        start, used = self._windows.get(token, (now, 0))
        if now >= start + WINDOW or now < start:  # expired, or the clock was moved back
            start, used = now, 0
        return start, used

    def _state(self, start: datetime, used: int, now: datetime, allowed: bool) -> RateState:
        limit = self.limit if self.limit is not None else UNLIMITED
        reset = max(0, math.ceil((start + WINDOW - now).total_seconds()))
        return RateState(limit, max(0, limit - used), reset, allowed)

    def hit(self, token: str) -> RateState:
        """Spend one credit of ``token``; ``allowed`` is False once the window's budget is gone."""
        now = self.clock.now()
        with self._lock:
            start, used = self._current(token, now)
            used += 1
            self._windows[token] = (start, used)
            allowed = self.limit is None or used <= self.limit
            return self._state(start, used, now, allowed)

    def peek(self, token: str | None) -> RateState:
        """Headers for a response that spent nothing (e.g. an unauthenticated request)."""
        now = self.clock.now()
        with self._lock:
            start, used = self._current(token, now) if token else (now, 0)
            return self._state(start, used, now, True)

    def exhausted(self, token: str) -> RateState:
        """State reported by the ``rate_storm`` fault: nothing left until the window resets."""
        now = self.clock.now()
        with self._lock:
            start, _used = self._current(token, now)
            state = self._state(start, 0, now, False)
            return RateState(state.limit, 0, max(1, state.reset_seconds), False)
