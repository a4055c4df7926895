"""The replay as the program runs it: a background thread that transmits when the link returns,
reports progress through plain callables and never runs two passes at once; the shared rate
budget (live sales first, learned from the answers' headers); documents of a live process are left
alone, those of a dead one taken over at once."""

from __future__ import annotations

import threading
import time
from typing import Any

from contingency_kit import check_invariants, docs, make_sale

from pos_app.core.focus.ratelimit import Priority
from pos_app.core.services.background import BackgroundSync
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.locks import ProcessLease
from pos_app.core.services.monitor import ConnectivityMonitor
from pos_app.core.services.replay import ReplayService
from pos_app.sandbox import SandboxServer


def wait_for(predicate: Any, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condição não atingida a tempo")
        time.sleep(0.05)


def test_background_sync_transmits_when_the_link_returns(term: Any, api: SandboxServer) -> None:
    api.faults.set("unreachable")
    service = EmissionService(term, render_receipts=False)
    refs = [service.checkout(make_sale(term)).ref for _ in range(3)]
    states: list[str] = []
    progress: list[tuple[int, int]] = []
    reports: list[Any] = []
    monitor = ConnectivityMonitor(term.base_url)
    sync = BackgroundSync(
        term,
        interval=0.2,
        offline_interval=0.1,
        monitor=monitor,
        on_state=states.append,
        on_progress=lambda d, t: progress.append((d, t)),
        on_report=reports.append,
    )
    # Count concurrent passes, including the ones asked for by hand while the thread works.
    active, peak, lock = [0], [0], threading.Lock()
    real = sync.replay.run_once

    def counted(**kw: Any) -> Any:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            time.sleep(0.05)
            return real(**kw)
        finally:
            with lock:
                active[0] -= 1

    sync.replay.run_once = counted  # type: ignore[method-assign]
    sync.start()
    try:
        wait_for(lambda: "offline" in states)
        assert reports == [] and sync.has_backlog()
        api.faults.clear()
        for _ in range(20):  # the cashier presses "sincronizar" while the thread runs
            sync.run_now()
        wait_for(lambda: not sync.has_backlog())
    finally:
        sync.stop()
    assert not sync.running and peak[0] == 1
    transmitted = [r for rep in reports for r in rep.transmitidas]
    assert sorted(transmitted) == sorted(refs)
    assert progress and progress[-1][0] == progress[-1][1]
    assert states[-1] == "em_dia"
    check_invariants(term.store, api, sales_expected=3)


def test_one_pass_at_a_time_per_data_folder(term: Any, api: SandboxServer) -> None:
    api.faults.set("unreachable")
    EmissionService(term, render_receipts=False).checkout(make_sale(term))
    api.faults.clear()
    api.faults.set("slow", seconds=0.6)
    first = ReplayService(term)
    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(first.run_once()))
    thread.start()
    time.sleep(0.2)
    second = ReplayService(term).run_once()
    thread.join()
    assert second.interrompido and "em andamento" in second.interrompido
    assert results[0].transmitidas and results[0].interrompido is None


def test_rate_budget_learns_from_headers_and_keeps_room_for_live_sales(term: Any) -> None:
    with SandboxServer(rate_limit=30) as limited:
        term.config.set("focus.url", limited.url)
        term.reset_client()
        budget = term.budget
        for _ in range(3):
            term.nfce().consult("NAO-EXISTE")
        assert budget.limit == 30 and budget.remaining == 27  # learned from Rate-Limit-* headers
        # Spend down to the live reserve (20): replay must wait, a live sale may go.
        for _ in range(7):
            term.nfce().consult("NAO-EXISTE", priority=Priority.LIVE)
        assert budget.remaining == 20
        assert budget.wait_time(Priority.REPLAY) > 0 and budget.wait_time(Priority.LIVE) == 0
        assert budget.wait_time(Priority.MONITOR) >= budget.wait_time(Priority.REPLAY)

        limited.faults.set("unreachable")
        EmissionService(term, render_receipts=False).checkout(make_sale(term))  # a note to replay
        limited.faults.clear()
        report = ReplayService(term, max_rate_wait=0.5).run_once()
        assert report.interrompido and "limite de requisições" in report.interrompido
        assert report.transmitidas == [] and report.restantes == 1  # nothing spent from the reserve
        live = EmissionService(term, render_receipts=False).checkout(make_sale(term))
        assert live.status == "autorizado" and not live.contingencia


def test_documents_of_a_live_process_are_left_alone_and_taken_over_when_it_dies(
    term: Any, api: SandboxServer, monkeypatch: Any
) -> None:
    # Another process (a second lease on the same folder) committed a sale and is about to send it.
    other = ProcessLease(term.data_dir)
    monkeypatch.setattr(EmissionService, "_emit", lambda self, doc_id, *a, **kw: None)
    EmissionService(term).checkout(make_sale(term))
    monkeypatch.undo()
    [doc] = docs(term.store)
    term.store.documents.update(int(doc["id"]), owner=other.claim())
    report = ReplayService(term).run_once()
    # checkout marks the note "enviando" with the sale: the other process may be sending it now
    assert report.emitidas == [] and term.store.documents.get(doc["id"])["status"] == "enviando"
    assert api.note(doc["ref"]) is None
    other._lock.release()  # kill -9: the OS drops its lock (the file stays); its sale is emitted at once
    report = ReplayService(term).run_once()
    assert report.emitidas == [doc["ref"]] and term.store.documents.get(doc["id"])["status"] == "autorizado"
    check_invariants(term.store, api, sales_expected=1)
