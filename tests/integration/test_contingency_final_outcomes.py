"""Contingency series vs. online series (config, doctor) and the final states of a contingency note
that no correction can change: SEFAZ 539 (duplicate number), ``denegado`` and ``cancelado`` answers.
All through the sandbox over loopback."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from contingency_kit import ARROZ, make_sale

from pos_app.cli import main
from pos_app.core.config import ConfigError
from pos_app.core.fiscal.document_status import DocumentStatus
from pos_app.core.services.doctor import series_check
from pos_app.core.services.emission import EmissionService
from pos_app.core.services.replay import ReplayService
from pos_app.core.store.migrations import _m_cnpj_0001_contingencia_539
from pos_app.sandbox import DEMO_TOKEN, SandboxServer

CONTINGENCIA_DENEGADA = DocumentStatus.CONTINGENCIA_DENEGADA
CONTINGENCIA_DUPLICADA = DocumentStatus.CONTINGENCIA_DUPLICADA


def test_contingency_series_cannot_equal_online_series_in_either_order(term: Any) -> None:
    cfg = term.config
    assert cfg.nfce_serie == 1 and cfg.contingencia_serie == 600
    with pytest.raises(
        ConfigError, match=r"contingencia\.serie: .*não podem ser iguais \(série online = 1\).*539"
    ):
        cfg.set("contingencia.serie", "1")
    cfg.set("nfce.serie", "2")
    with pytest.raises(
        ConfigError, match=r"nfce\.serie: .*não podem ser iguais \(série de contingência = 600\)"
    ):
        cfg.set("nfce.serie", "600")
    assert cfg.contingencia_serie == 600 and cfg.nfce_serie == 2
    cfg.set("contingencia.serie", "601")
    assert series_check(term).nivel == "ok"


def test_contingency_series_refused_when_online_notes_already_use_it(term: Any, api: SandboxServer) -> None:
    result = EmissionService(term, render_receipts=False).checkout(make_sale(term))
    assert result.status == "autorizado"
    term.config.set("nfce.serie", "7")  # a wrong online series in the settings...
    with pytest.raises(ConfigError, match="já tem notas online"):
        term.config.set("contingencia.serie", "1")  # ...does not hide the series the notes really used


def _stuck_on_539(term: Any, api: SandboxServer) -> tuple[Any, Any]:
    """An old database configured before the check: contingency series = online series (1)."""
    term.store.settings.set("contingencia.serie", "1")
    online = EmissionService(term, render_receipts=False).checkout(make_sale(term))
    assert online.status == "autorizado"
    api.faults.set("unreachable")
    offline = EmissionService(term, render_receipts=False).checkout(make_sale(term, ARROZ))
    assert offline.contingencia
    api.faults.clear()
    return online, offline


def test_doctor_reports_equal_series_and_exits_non_zero(
    term: Any, api: SandboxServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    term.store.settings.set("contingencia.serie", "1")
    check = series_check(term)
    assert check.nivel == "erro" and "539" in check.mensagem
    monkeypatch.setenv("POS_DATA_DIR", str(term.data_dir))
    code = main(["doctor", "--json"])
    checks = {c["nome"]: c for c in json.loads(capsys.readouterr().out)}
    assert code != 0 and checks["Séries"]["nivel"] == "erro"
    term.store.settings.set("contingencia.serie", "600")
    main(["doctor", "--json"])
    checks = {c["nome"]: c for c in json.loads(capsys.readouterr().out)}
    assert checks["Séries"]["nivel"] == "ok"


def test_replay_answered_539_reaches_its_own_final_state(term: Any, api: SandboxServer) -> None:
    _online, offline = _stuck_on_539(term, api)
    report = ReplayService(term).run_once()
    doc = term.store.documents.get(offline.document_id)
    assert doc["status"] == CONTINGENCIA_DUPLICADA and doc["status_sefaz"] == "539"
    assert "não deve ser reenviada" in doc["last_error"] and "série de contingência" in doc["last_error"]
    assert report.com_erro == []  # not "fix the product"
    [item] = report.para_gerente
    assert item["ref"] == offline.ref and item["resultado"] == CONTINGENCIA_DUPLICADA
    # Final: the next pass does not send it again.
    again = ReplayService(term).run_once()
    assert again.transmitidas == [] and again.para_gerente == []
    assert term.store.documents.get(offline.document_id)["status"] == CONTINGENCIA_DUPLICADA


def test_notes_already_stuck_on_539_are_migrated(term: Any, api: SandboxServer) -> None:
    _online, offline = _stuck_on_539(term, api)
    term.store.documents.transition(offline.document_id, DocumentStatus.TRANSMITINDO)
    term.store.documents.transition(
        offline.document_id,
        DocumentStatus.CONTINGENCIA_ERRO,
        status_sefaz="539",
        mensagem_sefaz="Rejeicao: Duplicidade de NF-e, com diferenca na Chave de Acesso",
    )
    _m_cnpj_0001_contingencia_539(term.store.database)
    doc = term.store.documents.get(offline.document_id)
    assert doc["status"] == CONTINGENCIA_DUPLICADA and "539" in doc["last_error"]


def test_replay_answered_denegado_is_final(term: Any, api: SandboxServer) -> None:
    api.faults.set("unreachable")
    offline = EmissionService(term, render_receipts=False).checkout(make_sale(term))
    api.faults.clear()
    api.faults.reject_ref(offline.ref, "302", "Rejeicao: Uso Denegado: Irregularidade fiscal do destinatario")
    report = ReplayService(term).run_once()
    doc = term.store.documents.get(offline.document_id)
    assert doc["status"] == CONTINGENCIA_DENEGADA and doc["status_sefaz"] == "302"
    assert "denegou" in doc["last_error"] and report.com_erro == []
    api.faults.clear()
    assert ReplayService(term).run_once().transmitidas == []
    assert term.store.documents.get(offline.document_id)["status"] == CONTINGENCIA_DENEGADA


def test_replay_consulting_a_cancelled_note_is_final(term: Any, api: SandboxServer) -> None:
    """Transmitted and authorized, the answer lost (crash), then cancelled at Focus's panel: the
    replay must not re-send it forever."""
    api.faults.set("unreachable")
    offline = EmissionService(term, render_receipts=False).checkout(make_sale(term))
    api.faults.clear()
    ReplayService(term).run_once()
    doc = term.store.documents.get(offline.document_id)
    assert doc["status"] == "autorizado"
    response = httpx.request(
        "DELETE",
        f"{api.url}/v2/nfce/{offline.ref}",
        auth=(DEMO_TOKEN, ""),
        json={"justificativa": "Cancelada pelo painel da Focus NFe"},
        timeout=10,
    )
    assert response.json()["status"] == "cancelado", response.text
    # The authorization answer was lost in a crash: locally the note is still 'transmitindo' (the
    # transition table refuses autorizado -> transmitindo, so the crash state is written directly).
    term.store.database.execute(
        "UPDATE fiscal_documents SET status = ? WHERE id = ?",
        [DocumentStatus.TRANSMITINDO, offline.document_id],
    )
    report = ReplayService(term).run_once()
    doc = term.store.documents.get(offline.document_id)
    assert doc["status"] == "cancelado" and "CANCELADA na API" in doc["last_error"]
    assert [m["ref"] for m in report.para_gerente] == [offline.ref]
