"""One Focus budget per token for the whole store: a token bucket row leased with ``SELECT ... FOR UPDATE``.

Live sales may take the last tokens (they borrow the reserve); replay, consults and the monitor only
take a token while more than ``reserva_ao_vivo`` remain, so a backlog spread over many terminals never
starves a customer at the counter. When the store database cannot be reached the terminal falls back
to its local ``RateBudget`` (headers-driven), and tries the store again after a pause.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

from pos_app.core.focus.ratelimit import Priority, RateBudget

RETRY_STORE_AFTER_S = 10.0


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def capacity(per_minute: int, reserve: int) -> float:
    """Bucket size: the live reserve plus 10 s of burst. Focus counts fixed 60 s windows, so a full
    minute of credit kept in the bucket would let a burst and the next minute's refill collide."""
    return float(max(reserve + 2, per_minute / 6 + reserve))


def lease(conn: Any, key: str, priority: Priority, *, per_minute: int, reserve: int) -> float:
    """Take one slot now (returns 0.0) or say how many seconds until one is free for this priority."""
    with conn.transaction():
        row = conn.execute(
            "SELECT fichas, por_minuto, reserva_ao_vivo, extract(epoch FROM clock_timestamp() - atualizado_em) "
            "FROM loja_orcamento_focus WHERE token_hash = %s FOR UPDATE",
            [key],
        ).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO loja_orcamento_focus (token_hash, por_minuto, reserva_ao_vivo, fichas) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [key, per_minute, reserve, capacity(per_minute, reserve)],
            )
            row = conn.execute(
                "SELECT fichas, por_minuto, reserva_ao_vivo, extract(epoch FROM clock_timestamp() - atualizado_em) "
                "FROM loja_orcamento_focus WHERE token_hash = %s FOR UPDATE",
                [key],
            ).fetchone()
        tokens, rate, floor_reserve, elapsed = float(row[0]), int(row[1]), int(row[2]), float(row[3])
        tokens = min(capacity(rate, floor_reserve), tokens + max(elapsed, 0.0) * rate / 60.0)
        floor = 0 if priority == Priority.LIVE else floor_reserve + (5 if priority == Priority.MONITOR else 0)
        wait = 0.0
        if tokens - 1.0 >= floor:
            tokens -= 1.0
        else:
            wait = max((floor + 1.0 - tokens) * 60.0 / rate, 0.01)
        conn.execute(
            "UPDATE loja_orcamento_focus SET fichas = %s, atualizado_em = clock_timestamp() WHERE token_hash = %s",
            [tokens, key],
        )
    return wait


class SharedRateBudget(RateBudget):
    """``RateBudget`` whose credit comes from the store database when it answers."""

    def __init__(
        self,
        connector: Callable[[], Any],
        token: Callable[[], str],
        *,
        per_minute: int = 100,
        reserve_for_live: int = 20,
        **kwargs: Any,
    ) -> None:
        super().__init__(reserve_for_live=reserve_for_live, **kwargs)
        self._connector = connector
        self._token = token
        self.per_minute = per_minute
        self._conn: Any = None
        self._conn_lock = threading.Lock()
        self._down_until = 0.0
        self.shared = True
        self.fallbacks = 0
        self._connecting: threading.Thread | None = None

    def _lease(self, priority: Priority) -> float | None:
        """Seconds to wait (0 = slot taken), or None when the store database is away."""
        if time.monotonic() < self._down_until:
            return None
        if self._conn is None or self._conn.closed:
            self._connect_in_background()  # never make a sale wait for a connection
            return None
        with self._conn_lock:
            try:
                return lease(
                    self._conn,
                    token_hash(self._token()),
                    priority,
                    per_minute=self.per_minute,
                    reserve=self.reserve_for_live,
                )
            except Exception:  # noqa: BLE001 - store away: local budget
                if self._conn is not None:
                    with contextlib.suppress(Exception):  # a broken link / reported in the status
                        self._conn.close()
                self._conn = None
                self._down_until = time.monotonic() + RETRY_STORE_AFTER_S
                self.fallbacks += 1
                return None

    def _connect_in_background(self) -> None:
        if self._connecting is not None and self._connecting.is_alive():
            return

        def run() -> None:
            try:
                conn = self._connector()
            except Exception:  # noqa: BLE001 - store away: local budget meanwhile
                self._down_until = time.monotonic() + RETRY_STORE_AFTER_S
                self.fallbacks += 1
                return
            with self._conn_lock:
                self._conn = conn

        self._connecting = threading.Thread(target=run, name="loja-orcamento", daemon=True)
        self._connecting.start()

    def connect_now(self) -> bool:
        """Connect synchronously (bench/tests/CLI): True when the store budget is in use."""
        try:
            conn = self._connector()
        except Exception:  # noqa: BLE001
            return False
        with self._conn_lock:
            self._conn = conn
        return True

    def acquire(self, priority: Priority, max_wait: float | None = None) -> bool:
        start = self._clock()
        while True:
            local = self.wait_time(priority)  # a 429 seen by this terminal still blocks it
            if local > 0:
                if max_wait is not None and self._clock() - start + local > max_wait:
                    return False
                self._sleep(min(local, 1.0))
                continue
            wait = self._lease(priority)
            if wait is None:
                self.shared = False
                return super().acquire(
                    priority,
                    max_wait=None if max_wait is None else max(max_wait - (self._clock() - start), 0.0),
                )
            self.shared = True
            if wait <= 0:
                self._spend()
                return True
            if max_wait is not None and self._clock() - start + wait > max_wait:
                return False
            self._sleep(min(wait, 1.0))

    def close(self) -> None:
        with self._conn_lock:
            if self._conn is not None:
                with contextlib.suppress(Exception):  # a broken link / reported in the status
                    self._conn.close()
            self._conn = None
