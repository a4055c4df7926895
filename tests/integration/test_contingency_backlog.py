"""A day offline: 500 contingency notes, then the link returns during a storm of HTTP 429. The replay
waits out every ``Rate-Limit-Reset`` and nothing is lost, renumbered or sent twice."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from contingency_kit import check_invariants, docs, make_sale

from pos_app.core.services.emission import EmissionService
from pos_app.core.services.monitor import ConnectivityMonitor
from pos_app.core.services.replay import ReplayService
from pos_app.sandbox import DEMO_TOKEN, SandboxServer
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
    hits = {"429": 0, "total": 0}

    def other_terminal() -> None:
        """Another terminal of the store, same token, spending the shared window without our budget."""
        with httpx.Client(base_url=api.url, auth=(DEMO_TOKEN, ""), timeout=5) as client:
            while not stop.wait(0.025):
                status = client.get("/v2/nfce/OUTRO-CAIXA-1").status_code
                hits["total"] += 1
                hits["429"] += status == 429

    def bursts() -> None:  # and, every 4 s, a burst of 429 on the emission POSTs
        while not stop.wait(4.0):
            api.faults.set("rate_storm", n=3, methods=["POST"])

    threads = [threading.Thread(target=f, daemon=True) for f in (other_terminal, bursts)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    try:
        report = ReplayService(term).run_once()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    replaying = time.monotonic() - started

    assert report.interrompido is None, report.to_json()
    assert len(report.transmitidas) == N and len(set(report.transmitidas)) == N
    assert report.com_erro == [] and report.restantes == 0
    assert report.esperas_limite >= 3 and hits["429"] > 0  # the storm happened and was waited out
    authorized = docs(term.store, kind="contingencia", status="autorizado")
    assert sorted(d["numero"] for d in authorized) == list(range(1, N + 1))
    check_invariants(term.store, api, sales_expected=N)
    print(
        f"\n{N} notas: emissão {issuing:.1f} s, replay {replaying:.1f} s ({N / replaying:.0f}/s), "
        f"{report.esperas_limite} esperas por 429/limite; outro caixa: {hits['429']} de {hits['total']} com 429"
    )
