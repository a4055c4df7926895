"""A day offline: 500 contingency notes, then the link returns during a storm of HTTP 429. The replay
waits out every ``Rate-Limit-Reset`` and nothing is lost, renumbered or sent twice."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from contingency_kit import check_invariants, docs, make_sale

from pos_app.core.services.emission import EmissionService
from pos_app.core.services.monitor import ConnectivityMonitor
from pos_app.core.services.replay import ReplayService
from pos_app.sandbox import SandboxServer
from pos_app.sandbox import ratelimit as sandbox_ratelimit

N = 500


@pytest.mark.slow
def test_backlog_of_500_notes_replayed_under_a_429_storm(
    term: Any, api: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Focus grants 100 requests per 60 s; here 150 per 2 s, so the storm costs seconds, not minutes.
    monkeypatch.setattr(sandbox_ratelimit, "WINDOW", timedelta(seconds=2))
    api.limiter.limit = 150

    down = ConnectivityMonitor(term.base_url)
    down.report(False)
    term.monitor = down
    term.store.database.execute("PRAGMA synchronous=NORMAL")  # only to issue 500 notes quickly
    service = EmissionService(term, render_receipts=False)
    started = time.monotonic()
    for _ in range(N):
        service.checkout(make_sale(term))
    issuing = time.monotonic() - started
    term.store.database.execute("PRAGMA synchronous=FULL")
    assert len(docs(term.store, kind="contingencia", status="contingencia_pendente")) == N
    assert api.store.notes() == []  # the link was known down: not a single request
    term.monitor = None

    stop = threading.Event()

    def storm() -> None:  # a burst of 429 every second, on top of the real per-window limit
        while not stop.wait(1.0):
            api.faults.set("rate_storm", n=6)

    thread = threading.Thread(target=storm, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        report = ReplayService(term).run_once()
    finally:
        stop.set()
        thread.join()
    replaying = time.monotonic() - started

    assert report.interrompido is None, report.to_json()
    assert len(report.transmitidas) == N and len(set(report.transmitidas)) == N
    assert report.com_erro == [] and report.restantes == 0
    assert report.esperas_limite > 0  # the storm happened and was waited out
    authorized = docs(term.store, kind="contingencia", status="autorizado")
    assert sorted(d["numero"] for d in authorized) == list(range(1, N + 1))
    check_invariants(term.store, api, sales_expected=N)
    print(f"\n{N} notas: emissão {issuing:.1f} s, replay {replaying:.1f} s ({N / replaying:.0f}/s), "
          f"{report.esperas_limite} esperas por 429/limite")
