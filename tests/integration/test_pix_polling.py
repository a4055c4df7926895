"""PIX polling is bounded: waits end on stop, after the expiry grace, and the late-payment watcher thins out."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from pos_app.core.pix import service as pix
from pos_app.core.pix.service import pix_service
from pos_app.core.store.db import iso
from pos_app.demo.pix import demo_psp


@pytest.fixture(autouse=True)
def _no_auto_pay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POS_PIX_DEMO_PAGAR_APOS", "nunca")


def _gets(psp: Any, txid: str) -> int:
    return sum(1 for m, p in psp.requests if m == "GET" and p == f"/cob/{txid}")


def test_wait_ends_after_the_expiry_grace_when_the_psp_is_silent(demo_ctx: Any) -> None:
    psp, svc = demo_psp(demo_ctx), pix_service(demo_ctx)
    charge = svc.create(Decimal("5.00"), expiracao=1)
    psp.unavailable = True  # every answer is a 503 from now on
    start = time.monotonic()
    charge = svc.wait(charge.id, first_interval=0.05, max_interval=0.3, expiry_grace=1.0)
    elapsed = time.monotonic() - start
    assert charge.status == pix.ATIVA and charge.seconds_left() <= -1.0  # left to the sync
    assert elapsed < 5, elapsed
    assert _gets(psp, charge.txid) < 20 and svc.active_waits() == 0
    psp.unavailable = False
    assert svc.sync()[0].status == pix.EXPIRADA  # the background sync resolves it


def test_stop_waits_ends_every_wait_at_once(demo_ctx: Any) -> None:
    psp, svc = demo_psp(demo_ctx), pix_service(demo_ctx)
    charge = svc.create(Decimal("5.00"))
    result: list[Any] = []
    waiter = threading.Thread(target=lambda: result.append(svc.wait(charge.id, first_interval=0.1)))
    waiter.start()
    deadline = time.monotonic() + 5
    while svc.active_waits() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert svc.active_waits() == 1
    svc.stop_waits()
    waiter.join(2)
    assert not waiter.is_alive() and result[0].status == pix.ATIVA and svc.active_waits() == 0
    seen = _gets(psp, charge.txid)
    time.sleep(0.5)
    assert _gets(psp, charge.txid) == seen  # nothing polls the abandoned charge any more


def test_late_payment_watcher_consults_closed_charges_less_and_less(demo_ctx: Any) -> None:
    psp, svc = demo_psp(demo_ctx), pix_service(demo_ctx)
    charge = svc.create(Decimal("5.00"))
    svc.cancel(charge.id)
    db = demo_ctx.store.database

    def age(created: timedelta, checked: timedelta) -> None:
        now = datetime.now(UTC)
        db.execute(
            "UPDATE pix_charges SET created_at = ?, updated_at = ? WHERE id = ?",
            [iso(now - created), iso(now - checked), charge.id],
        )

    before = _gets(psp, charge.txid)
    svc.sync(due_only=True)  # just cancelled: watched at every background pass
    assert _gets(psp, charge.txid) == before + 1
    age(timedelta(minutes=30), timedelta(minutes=1))
    svc.sync(due_only=True)  # half an hour old, asked a minute ago: not due (every 5 min)
    assert _gets(psp, charge.txid) == before + 1
    age(timedelta(minutes=30), timedelta(minutes=6))
    svc.sync(due_only=True)
    assert _gets(psp, charge.txid) == before + 2
    age(timedelta(hours=3), timedelta(minutes=20))
    svc.sync(due_only=True)  # every 30 min after the first hour
    assert _gets(psp, charge.txid) == before + 2
    age(timedelta(hours=3), timedelta(minutes=6))
    svc.sync()  # the manager's list asks about every watched charge
    assert _gets(psp, charge.txid) == before + 3
    age(timedelta(hours=25), timedelta(hours=3))
    svc.sync()
    svc.sync(due_only=True)  # out of the 24 h watch: never again
    assert _gets(psp, charge.txid) == before + 3


def test_late_payment_watcher_budget_over_a_day() -> None:
    """One abandoned charge, background pass every minute for 24 h: how many consults."""
    created = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    checked = created
    consults = 0
    for minute in range(1, 24 * 60 + 1):
        now = created + timedelta(minutes=minute)
        row = {"created_at": iso(created), "updated_at": iso(checked)}
        if pix._late_watch_due(row, now):
            consults += 1
            checked = now
    assert 30 <= consults <= 45, consults  # instead of 1 440 (one a minute)
