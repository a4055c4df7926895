"""Issue 18, defects 2 and 3: every API answer is checked against what was sent; an unknown or
ill-typed status is in doubt (consult; if still unknown, a person decides), never "fix and resend".

Adversarial answers come from the sandbox's ``tamper`` fault (the request IS processed; one field of
the JSON answer is replaced), over loopback HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from contingency_kit import make_sale

from pos_app.core.fiscal import chave as chave_mod
from pos_app.core.fiscal.refs import CONTINGENCY_SUFFIX
from pos_app.core.focus.answer_check import answer_problems, key_check_digit, key_problems
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.replay import ReplayService
from pos_app.core.services.status import terminal_status
from pos_app.sandbox import SandboxServer


def _sell(term: Any) -> Any:
    return EmissionService(term, render_receipts=False).checkout(make_sale(term))


def _other_number_key(term: Any, numero: int) -> str:
    em = term.emitente()
    return chave_mod.build_chave(em.uf, term.now(), em.cnpj, 1, numero, 1, "12345678")


def test_key_layout_and_check_digit() -> None:
    good = chave_mod.build_chave("PR", chave_mod.date(2026, 12, 1), "11222333000181", 1, 10, 1, "12345678")
    assert key_problems(good) == []
    assert key_problems(good[:43])[0].startswith("chave de acesso com 43")
    assert "dígito" in key_problems(good[:43] + str((int(good[43]) + 1) % 10))[0]
    # alphanumeric CNPJ (positions 7-20) is accepted, letters elsewhere are not
    base = good[:6] + "12ABC34501DE35" + good[20:43]
    alnum = base + str(key_check_digit(base))
    assert key_problems(alnum) == []
    assert key_problems("A" + alnum[1:]) == ["chave de acesso com caracteres inválidos"]
    probs = answer_problems(
        good, uf="SP", cnpj="11222333000181", sent={"numero": "11", "codigo_unico": "87654321"}, tp_emis={9}
    )
    assert any("cUF" in p for p in probs) and any("número" in p for p in probs)
    assert any("tpEmis" in p for p in probs) and any("cNF" in p for p in probs)


@pytest.mark.parametrize("bad", ["short", "other_number"])
def test_online_mismatch_is_in_doubt_then_consulted(term: Any, api: SandboxServer, bad: str) -> None:
    first = _sell(term)
    assert first.status == "autorizado"
    if bad == "short":
        value = first.chave[:43]
        api.faults.set("tamper", field="chave_nfe", value=json.dumps(value))  # every answer, consult too
    else:
        value = _other_number_key(term, 787)
        api.faults.set("tamper", field="chave_nfe", value=json.dumps(value))
    result = _sell(term)
    api.faults.clear()
    # never stored/printed as the sale's note: the attempt is in doubt, the sale got its contingency note
    assert result.chave != value
    attempt = term.store.documents.by_ref(result.ref.removesuffix(CONTINGENCY_SUFFIX))
    assert attempt["status"] == "em_duvida" and attempt["chave"] is None
    assert "divergente" in attempt["last_error"]
    assert result.contingencia and result.status == "contingencia_pendente"
    lines = terminal_status(term)["resumo"]
    assert any("não confere" in line for line in lines), lines
    # the next sync reconciles it (consult, cancel the duplicate at the API, transmit the contingency note)
    ReplayService(term, render_receipts=False).run_once()
    assert term.store.documents.by_ref(result.ref)["status"] == "autorizado"


def test_online_mismatch_once_settled_by_consult(term: Any, api: SandboxServer) -> None:
    _sell(term)
    api.faults.once("tamper", field="chave_nfe", value=json.dumps(_other_number_key(term, 787)))
    result = _sell(term)
    assert result.status == "autorizado" and not result.contingencia
    assert result.chave == api.note(result.ref)["chave_nfe"].removeprefix(
        "NFe"
    )  # the consulted, matching key


@pytest.mark.parametrize("status", ["aprovado_parcialmente", 100])
def test_unknown_status_consulted_and_settled(term: Any, api: SandboxServer, status: Any) -> None:
    api.faults.once("tamper", field="status", value=json.dumps(status))
    result = _sell(term)
    assert result.status == "autorizado", result.mensagem  # the consult said "autorizado"
    assert "Corrija" not in result.mensagem


@pytest.mark.parametrize("status", ["aprovado_parcialmente", 100])
def test_unknown_status_that_stays_unknown_is_flagged(term: Any, api: SandboxServer, status: Any) -> None:
    api.faults.set("tamper", field="status", value=json.dumps(status))
    result = _sell(term)
    assert result.status == "status_desconhecido" and not result.emitido
    assert "Corrija" not in result.mensagem and "NÃO reenvie" in result.mensagem
    assert result.danfce is None
    lines = terminal_status(term)["resumo"]
    assert any("situação desconhecida" in line for line in lines), lines
    report = ReplayService(term, render_receipts=False).run_once()  # still unknown: stays, flagged
    assert term.store.documents.by_ref(result.ref)["status"] == "status_desconhecido"
    assert report.para_gerente
    api.faults.clear()
    ReplayService(term, render_receipts=False).run_once()  # the API now answers: recorded
    doc = term.store.documents.by_ref(result.ref)
    assert doc["status"] == "autorizado" and doc["chave"] == api.note(result.ref)["chave_nfe"].removeprefix(
        "NFe"
    )


def test_replay_answer_with_other_key_is_not_recorded(term: Any, api: SandboxServer) -> None:
    api.faults.set("unreachable")
    cont = _sell(term)
    api.faults.clear()
    assert cont.contingencia
    api.faults.set("tamper", field="chave_nfe", value=json.dumps(_other_number_key(term, 787)))
    report = ReplayService(term, render_receipts=False).run_once()
    doc = term.store.documents.by_ref(cont.ref)
    assert doc["status"] == "transmitindo" and "divergente" in doc["last_error"]
    assert doc["chave"] == cont.chave and report.para_gerente
    api.faults.clear()
    ReplayService(term, render_receipts=False).run_once()
    assert term.store.documents.by_ref(cont.ref)["status"] == "autorizado"


def test_consult_after_crash_with_mismatching_key_is_not_recorded(
    terminal_template: Any, tmp_path: Any
) -> None:
    """kill -9 after the API answered (answer lost), then the restart's sync consults: the consult's
    key is for another number -> never stored as the sale's note (in doubt, contingency note)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from contingency_kit import copy_terminal

    from pos_app.app import open_app

    root = Path(__file__).resolve().parents[2]
    with SandboxServer(rate_limit=None) as api:
        data = copy_terminal(terminal_template, tmp_path / "pos-data", api.url)
        env = {
            **os.environ,
            "POS_DATA_DIR": str(data),
            "POS_SECRETS": "arquivo",
            "PYTHONPATH": str(root),
            "POS_CRASH_AT": "after_answer_before_store",
        }
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pos_app",
                "sell",
                "--item",
                "7891102100377",
                "--pay",
                "dinheiro:40",
                "--json",
            ],
            env=env,
            cwd=root,
            capture_output=True,
            timeout=120,
        )
        assert proc.returncode == 137
        ctx = open_app(data, start_sandbox=False)
        try:
            bad = _other_number_key(ctx, 787)
            api.faults.set("tamper", field="chave_nfe", value=json.dumps(bad), methods=["GET"])
            ReplayService(ctx, render_receipts=False).run_once()
            docs = ctx.store.database.query("SELECT ref, status, chave FROM fiscal_documents ORDER BY id")
            assert all(d["chave"] != bad for d in docs)
            assert docs[0]["status"] in ("em_duvida", "cancelado") and docs[1]["ref"].endswith(
                CONTINGENCY_SUFFIX
            )
            notes = [e["note"] or "" for e in ctx.store.documents.events(1)]
            assert any("não confere" in n for n in notes), notes  # in the note's history for the manager
            authorized = [d for d in docs if d["status"] == "autorizado"]
            assert [d["ref"] for d in authorized] == [docs[1]["ref"]]  # the sale's note: the contingency one
        finally:
            ctx.close()
