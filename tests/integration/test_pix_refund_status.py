"""PIX refunds followed to their final status (DEVOLVIDO / NAO_REALIZADO); in doubt -> consulted, same id."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pos_app.core.pix import service as pix
from pos_app.core.pix.client import PixInDoubt
from pos_app.core.pix.service import pix_service
from pos_app.demo.pix import demo_psp


@pytest.fixture(autouse=True)
def _no_auto_pay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POS_PIX_DEMO_PAGAR_APOS", "nunca")


def _gerente(ctx: Any) -> Any:
    return next(u for u in ctx.store.users.all() if u.papel == "gerente")


def _late_pix(ctx: Any, valor: str = "27.90") -> tuple[Any, Any, dict[str, Any]]:
    """A charge cancelled by the cashier and paid anyway: one refund offered to the manager."""
    psp, svc = demo_psp(ctx), pix_service(ctx)
    charge = svc.create(Decimal(valor))
    assert svc.cancel(charge.id).status == pix.CANCELADA
    psp.pay(charge.txid)
    svc.sync()
    [offer] = svc.pending_refunds()
    return psp, svc, offer


def _refund_requests(psp: Any, method: str) -> list[str]:
    return [path for m, path in psp.requests if m == method and "/devolucao/" in path]


def test_refund_followed_from_em_processamento_to_devolvido(demo_ctx: Any) -> None:
    psp, svc, offer = _late_pix(demo_ctx)
    psp.refund_settle_after = 0.8  # the payer's PSP takes a moment
    done = svc.refund(offer["id"], _gerente(demo_ctx))
    assert done["status"] == pix.DEV_DEVOLVIDA and done["rtr_id"] and len(done["rtr_id"]) == 32
    dev = psp.devolucoes[(offer["e2eid"], offer["dev_id"])]
    assert dev["status"] == "DEVOLVIDO" and "liquidacao" in dev["horario"]
    assert len(_refund_requests(psp, "PUT")) == 1 and len(_refund_requests(psp, "GET")) >= 1
    assert svc.pending_refunds() == []
    entry = demo_ctx.store.database.query_one(
        "SELECT * FROM audit_log WHERE action = 'pix_devolucao' ORDER BY id DESC LIMIT 1"
    )
    assert entry["outcome"] == "ok" and '"status": "devolvida"' in entry["details"]


def test_refund_not_done_by_the_psp_is_recorded_and_asked_again_with_a_new_id(demo_ctx: Any) -> None:
    psp, svc, offer = _late_pix(demo_ctx)
    gerente = _gerente(demo_ctx)
    psp.refund_outcome = "NAO_REALIZADO"
    row = svc.refund(offer["id"], gerente)
    assert row["status"] == pix.DEV_NAO_REALIZADA and row["last_error"] == psp.refund_motivo
    assert psp.devolucoes[(offer["e2eid"], offer["dev_id"])]["status"] == "NAO_REALIZADO"
    [still] = svc.pending_refunds()  # the manager still has it to do
    assert still["id"] == offer["id"] and still["status"] == pix.DEV_NAO_REALIZADA
    entry = demo_ctx.store.database.query_one(
        "SELECT * FROM audit_log WHERE action = 'pix_devolucao' ORDER BY id DESC LIMIT 1"
    )
    assert entry["outcome"] == pix.DEV_NAO_REALIZADA
    psp.refund_outcome = "DEVOLVIDO"
    again = svc.refund(offer["id"], gerente)
    assert again["status"] == pix.DEV_DEVOLVIDA and again["dev_id"] != offer["dev_id"]
    statuses = {k[1]: d["status"] for k, d in psp.devolucoes.items()}
    assert statuses == {offer["dev_id"]: "NAO_REALIZADO", again["dev_id"]: "DEVOLVIDO"}
    assert demo_ctx.store.database.query_one(
        "SELECT * FROM audit_log WHERE action = 'pix_devolucao_nova_tentativa'"
    )
    assert svc.pending_refunds() == []


def test_refund_in_doubt_after_a_crash_is_consulted_never_asked_again(demo_ctx: Any) -> None:
    psp, svc, offer = _late_pix(demo_ctx)
    # The PUT reached the PSP, then the terminal crashed before recording the answer: the row was
    # written ahead as "solicitada" and stays so.
    svc.client().devolver(offer["e2eid"], offer["dev_id"], Decimal(offer["valor"]))
    demo_ctx.store.database.execute(
        "UPDATE pix_refunds SET status = ? WHERE id = ?", [pix.DEV_SOLICITADA, offer["id"]]
    )
    assert svc.needs_sync()
    puts = len(_refund_requests(psp, "PUT"))
    svc.sync()  # at start-up / in the background: consulted by its id
    row = svc.refunds()[0]
    assert row["status"] == pix.DEV_DEVOLVIDA and row["dev_id"] == offer["dev_id"]
    assert len(_refund_requests(psp, "PUT")) == puts  # never requested again
    assert list(psp.devolucoes) == [(offer["e2eid"], offer["dev_id"])]
    assert svc.refund(offer["id"], _gerente(demo_ctx))["status"] == pix.DEV_DEVOLVIDA
    assert len(_refund_requests(psp, "PUT")) == puts


def test_refund_that_never_reached_the_psp_is_sent_with_the_same_id(demo_ctx: Any) -> None:
    psp, svc, offer = _late_pix(demo_ctx)
    demo_ctx.store.database.execute(  # crashed right after writing ahead, before the PUT left
        "UPDATE pix_refunds SET status = ? WHERE id = ?", [pix.DEV_SOLICITADA, offer["id"]]
    )
    row = svc.refund(offer["id"], _gerente(demo_ctx))
    assert row["status"] == pix.DEV_DEVOLVIDA
    gets = _refund_requests(psp, "GET")
    puts = _refund_requests(psp, "PUT")
    assert gets[0].endswith(offer["dev_id"]) and puts == [gets[0]]  # consulted (404) first, then sent
    assert list(psp.devolucoes) == [(offer["e2eid"], offer["dev_id"])]


def test_refund_still_processing_is_left_to_the_sync(demo_ctx: Any) -> None:
    psp, svc, offer = _late_pix(demo_ctx)
    psp.refund_settle_after = 3600  # the PSP keeps it EM_PROCESSAMENTO
    row = svc.refund(offer["id"], _gerente(demo_ctx), follow=0.5)
    assert row["status"] == pix.DEV_EM_PROCESSAMENTO
    assert svc.needs_sync() and [r["status"] for r in svc.pending_refunds()] == [pix.DEV_EM_PROCESSAMENTO]
    svc.sync()
    assert svc.refunds()[0]["status"] == pix.DEV_EM_PROCESSAMENTO
    psp.settle_refund(offer["e2eid"], offer["dev_id"], "DEVOLVIDO")
    svc.sync()
    assert svc.refunds()[0]["status"] == pix.DEV_DEVOLVIDA and svc.pending_refunds() == []
    assert len(_refund_requests(psp, "PUT")) == 1


def test_refund_answer_for_another_refund_is_in_doubt(demo_ctx: Any) -> None:
    psp, svc, offer = _late_pix(demo_ctx)
    with pytest.raises(PixInDoubt):
        svc._apply_refund(offer["id"], {"id": "Doutro", "valor": offer["valor"], "status": "DEVOLVIDO"})
    assert svc.refunds()[0]["status"] == pix.DEV_PENDENTE
