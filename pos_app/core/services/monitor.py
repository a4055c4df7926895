"""Connectivity monitor: knows whether the API host is reachable before a sale needs it.

A check is a TCP connection to the API host (no HTTP request), so it costs no API credit; the
emission path also reports what it saw. When the link is known to be down, a sale goes straight
to contingency instead of making the cashier wait for a timeout that is already known to fail.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

log = logging.getLogger("pos_app.monitor")


class ConnectivityMonitor:
    def __init__(
        self,
        base_url: Callable[[], str],
        *,
        interval: float = 15.0,
        interval_offline: float = 5.0,
        connect_timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url
        self.interval = interval
        self.interval_offline = interval_offline
        self.connect_timeout = connect_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._online: bool | None = None
        self._since: float = clock()
        self._checked_at: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listeners: list[Callable[[bool], None]] = []

    # -- state -----------------------------------------------------------------------------
    @property
    def online(self) -> bool | None:
        """True/False when known, None before the first observation."""
        with self._lock:
            return self._online

    def known_down(self, max_age: float = 60.0) -> bool:
        """True only when a recent observation says the link is down."""
        with self._lock:
            if self._online is not False or self._checked_at is None:
                return False
            return self._clock() - self._checked_at <= max_age

    def report(self, online: bool) -> None:
        """Record an observation (from a check or from a real API call)."""
        changed = False
        with self._lock:
            if self._online != online:
                changed = True
                self._since = self._clock()
            self._online = online
            self._checked_at = self._clock()
        if changed:
            log.info("Conexão com a API: %s", "online" if online else "offline")
            for listener in list(self.listeners):
                try:
                    listener(online)
                except Exception:  # noqa: BLE001 - a listener must not stop the monitor
                    log.exception("listener de conectividade falhou")

    def check(self) -> bool:
        parts = urlsplit(self._base_url())
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((host, port), timeout=self.connect_timeout):
                ok = True
        except OSError:
            ok = False
        self.report(ok)
        return ok

    # -- background loop -------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="connectivity-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception:  # noqa: BLE001
                log.exception("falha ao verificar conectividade")
            wait = self.interval if self.online else self.interval_offline
            self._stop.wait(wait)
