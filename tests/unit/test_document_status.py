"""Fiscal-document states: one vocabulary, named groups, and a transition table the store enforces."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pos_app.core.errors import InvalidTransition, PosError
from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.document_status import DocumentStatus as S
from pos_app.core.fiscal.document_status import can_transition
from pos_app.core.store import Store
from pos_app.core.store.documents import FiscalDocument

ROOT = Path(__file__).resolve().parents[2]


def test_stored_values_are_the_old_strings() -> None:
    assert S.CONTINGENCIA_PENDENTE == "contingencia_pendente"
    assert {s.value for s in S} == {
        "pendente",
        "enviando",
        "autorizado",
        "erro_autorizacao",
        "rejeitado",
        "denegado",
        "em_duvida",
        "encerrado",
        "cancelado",
        "aguardando_conexao",
        "substituicao_pendente",
        "contingencia_pendente",
        "transmitindo",
        "contingencia_erro",
        "contingencia_duplicada",
        "contingencia_denegada",
        "processando",  # issue 19: NF-e model 55 still processing at SEFAZ after the cashier's wait
        "status_desconhecido",  # issue 18: the API's status of the note is unknown
    }


def test_groups_agree_with_each_other() -> None:
    assert ds.CONTINGENCY_QUEUE < ds.CONTINGENCY_OPEN
    assert ds.CONTINGENCY_OPEN < ds.PRINTABLE
    assert ds.CORRECTABLE <= ds.CONTINGENCY_OPEN
    assert not (ds.FINAL & ds.BACKLOG)
    assert ds.EMISSION_PENDING <= ds.BACKLOG
    assert ds.CONTINGENCY_QUEUE <= ds.BACKLOG
    # every state has a row in the table
    assert set(ds.TRANSITIONS) == {None, *S}


def test_transition_table() -> None:
    assert can_transition(None, S.PENDENTE)
    assert not can_transition(None, S.AUTORIZADO)
    assert can_transition(S.ENVIANDO, S.AUTORIZADO)
    assert can_transition(S.TRANSMITINDO, S.CONTINGENCIA_ERRO)
    assert can_transition(S.AUTORIZADO, S.CANCELADO)
    assert can_transition(S.AUTORIZADO, S.AUTORIZADO)  # an event without a change
    assert not can_transition(S.CANCELADO, S.AUTORIZADO)
    assert not can_transition(S.DENEGADO, S.CANCELADO)
    assert not can_transition(S.CONTINGENCIA_PENDENTE, S.AUTORIZADO)  # must go through transmitindo
    assert not can_transition(S.PENDENTE, S.CONTINGENCIA_PENDENTE)  # a note is another document
    assert not can_transition(S.PENDENTE, "inventado")
    # final contingency outcomes (issue 12): 539 duplicate, denied, cancelled at Focus
    assert can_transition(S.TRANSMITINDO, S.CONTINGENCIA_DUPLICADA)
    assert can_transition(S.CONTINGENCIA_ERRO, S.CONTINGENCIA_DUPLICADA)
    assert can_transition(S.TRANSMITINDO, S.CONTINGENCIA_DENEGADA)
    assert can_transition(S.TRANSMITINDO, S.CANCELADO)
    assert not can_transition(S.CONTINGENCIA_ERRO, S.CONTINGENCIA_DENEGADA)
    for final in (S.CONTINGENCIA_DUPLICADA, S.CONTINGENCIA_DENEGADA):
        assert final in ds.FINAL and final not in ds.BACKLOG and final not in ds.CONTINGENCY_OPEN
        assert not ds.TRANSITIONS[final]


def _store_with_document(tmp_path: Path) -> tuple[Store, int]:
    store = Store(tmp_path / "pos.db")
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    with store.transaction() as tx:
        cur = tx.execute(
            "INSERT INTO sales (terminal_id, created_at, valor_produtos, valor_desconto, valor_total, total_pago, troco, "
            "valor_tributos) VALUES ('T1', ?, '10.00', '0.00', '10.00', '10.00', '0.00', '0.00')",
            [now.isoformat()],
        )
        sale_id = int(cur.lastrowid or 0)
        doc_id = store.documents.create(
            tx,
            sale_id=sale_id,
            ref="T1-00000001",
            kind="online",
            status=S.PENDENTE,
            ambiente="homologacao",
            data_emissao=now,
            payload={},
        )
    return store, doc_id


def test_repository_refuses_a_transition_outside_the_table(tmp_path: Path) -> None:
    store, doc_id = _store_with_document(tmp_path)
    with pytest.raises(InvalidTransition) as info:
        store.documents.transition(doc_id, S.AUTORIZADO)
    assert isinstance(info.value, PosError)
    assert "pendente" in info.value.message and "autorizado" in info.value.message
    assert store.documents.get(doc_id)["status"] == "pendente"  # nothing written
    assert len(store.documents.events(doc_id)) == 1

    assert store.documents.has_backlog()  # a pending note is backlog
    doc = store.documents.transition(doc_id, S.ENVIANDO, attempts=1)
    assert isinstance(doc, FiscalDocument)
    assert doc.status is S.ENVIANDO and doc.attempts == 1 and doc.ref == "T1-00000001"
    doc = store.documents.transition(doc_id, S.AUTORIZADO, protocolo="135")
    assert doc.status is S.AUTORIZADO and doc.protocolo == "135"
    assert [e["to_status"] for e in store.documents.events(doc_id)] == ["pendente", "enviando", "autorizado"]
    assert not store.documents.has_backlog()  # authorized, no XML to fetch: nothing for the sync
    assert store.documents.count_with_status(*ds.BACKLOG) == 0


def test_no_status_literal_outside_the_state_module() -> None:
    """Every comparison with a fiscal-document state goes through ``DocumentStatus``/groups."""
    from pos_app.core.fiscal.document_status import CteStatus, LoteRpsStatus

    vocabulary = {s.value for s in S} | {s.value for s in CteStatus} | {s.value for s in LoteRpsStatus}
    words = "|".join(sorted(vocabulary, key=len, reverse=True))
    literal = re.compile(rf"""["']({words})["']""")
    sql = re.compile(rf"""(status\s*(=|IN|NOT IN)\s*\(?\s*'({words})')""", re.IGNORECASE)
    allowed = {
        "pos_app/core/fiscal/document_status.py",
        "pos_app/core/store/migrations.py",  # history: the schema as it was created
    }
    offenders = []
    for path in sorted((ROOT / "pos_app").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed or rel.startswith("pos_app/sandbox/"):
            continue  # the sandbox speaks the Focus API's vocabulary, not our document states
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if sql.search(code) and "fiscal_documents" in code:
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []
    # NFC-e services and screens: no bare status word at all
    nfce_modules = [
        "core/services/replay.py",
        "core/services/emission.py",
        "core/services/cancellation.py",
        "core/services/corrections.py",
        "core/services/status.py",
        "core/services/printing.py",
        "core/services/history.py",
        "core/services/cash.py",
        "core/services/receipts.py",
        "core/services/background.py",
        "core/services/xml_archive.py",
        "core/services/email.py",
        "core/store/documents.py",
        "ui/background.py",
        "ui/sale_window.py",
        "ui/manager/cancel_dialog.py",
        "ui/manager/history_dialog.py",
        # back office: CT-e and RPS batches
        "core/services/cte.py",
        "core/services/rps.py",
        "core/store/ctes.py",
        "core/store/lotes_rps.py",
        "core/focus/cte.py",
        "core/focus/lotes_rps.py",
        "cli/backoffice.py",
        "ui/backoffice/documents.py",
    ]
    json_keys = re.compile(
        r"""["'](em_duvida|aguardando_conexao|substituicao_pendente|contingencia_pendente)["']\s*[:\]]"""
    )
    for rel in nfce_modules:
        text = (ROOT / "pos_app" / rel).read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            code = line.split("#", 1)[0]
            code = json_keys.sub("", code)  # JSON field names of reports, not states
            code = re.sub(r"""\.get\(["']\w+["']""", "", code)
            if re.match(r"^\s*[A-Z_]+ = ", code):
                continue  # another vocabulary's constant defined once (cancel outcomes, print jobs)
            if literal.search(code):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []


def test_every_error_of_the_program_is_a_pos_error() -> None:
    """One root: the CLI and the UI each handle ``PosError`` once (message + kind)."""
    from pos_app.core.config import ConfigError
    from pos_app.core.domain.errors import ValidationError
    from pos_app.core.fiscal.certificate import CertificateError
    from pos_app.core.focus.errors import ApiError, AuthenticationError, InDoubt, NotDelivered, RateLimited
    from pos_app.core.printing.printers import PrinterError
    from pos_app.core.services.context import SetupError
    from pos_app.core.services.corrections import CorrectionError
    from pos_app.core.services.users import ManagerError, PermissionDenied
    from pos_app.core.services.xml_archive import ExportError
    from pos_app.core.store.backup import BackupError
    from pos_app.core.store.db import StoreError
    from pos_app.core.store.integrity import DatabaseDamaged
    from pos_app.core.store.users import AuthError

    samples = [
        ValidationError("cpf", "CPF inválido"),
        ConfigError("valor inválido"),
        CertificateError("vencido"),
        NotDelivered("sem conexão"),
        InDoubt("sem resposta"),
        RateLimited(3),
        ApiError(400, "x", "recusado"),
        AuthenticationError(403, "permissao_negada", "token"),
        PrinterError("sem papel"),
        SetupError("sem token"),
        CorrectionError("não"),
        ManagerError("não"),
        PermissionDenied("PIN"),
        ExportError("mês"),
        BackupError("disco"),
        StoreError("disco cheio"),
        DatabaseDamaged("danificado"),
        AuthError("PIN"),
    ]
    for exc in samples:
        assert isinstance(exc, PosError), type(exc)
        assert exc.message and str(exc) == exc.message
        assert exc.kind and exc.kind != "erro", type(exc)
    assert isinstance(ValidationError("cpf", "x"), ValueError)  # older `except ValueError` keep working
