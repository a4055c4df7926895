"""RPS batches (NFS-e by file) killed between the request and its answer: the background sync's pass
(``pos-app sync``) resolves them by a consult of their ref, never by sending them again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from contingency_kit import copy_terminal

from pos_app.app import open_app
from pos_app.core.services.crashpoints import EXIT_CODE
from pos_app.core.services.replay import ReplayService
from pos_app.core.services.rps import RpsService
from pos_app.sandbox import SandboxServer
from pos_app.sandbox.backoffice_samples import sample_lote_rps

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def terminal(terminal_template: Path, tmp_path: Path) -> Iterator[tuple[Path, SandboxServer]]:
    with SandboxServer(rate_limit=None) as server:
        yield copy_terminal(terminal_template, tmp_path / "pos-data", server.url), server


def _gerar_killed_at(data: Path, tmp_path: Path, point: str, ref: str) -> None:
    lote = tmp_path / f"{ref}.json"
    lote.write_text(
        json.dumps(sample_lote_rps(datetime.now(UTC), notas=2), ensure_ascii=False), encoding="utf-8"
    )
    env = {**os.environ, "POS_DATA_DIR": str(data), "POS_SECRETS": "arquivo", "PYTHONPATH": str(ROOT),
           "POS_CRASH_AT": point}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "pos_app", "lote-rps", "gerar", "--arquivo", str(lote), "--ref", ref],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == EXIT_CODE, proc.stdout + proc.stderr  # died at the point, like kill -9


def _lote(ctx: Any, ref: str) -> dict[str, Any]:
    lote = RpsService(ctx).repo.by_ref(ref)
    assert lote is not None
    return lote


def test_batches_killed_around_the_request_are_resolved_by_a_consult(
    terminal: tuple[Path, SandboxServer], tmp_path: Path
) -> None:
    data, _server = terminal
    _gerar_killed_at(data, tmp_path, "rps_after_post", "LOTE_RPS_A")  # the API has it, the answer was lost
    _gerar_killed_at(data, tmp_path, "rps_before_post", "LOTE_RPS_B")  # never reached the API
    ctx = open_app(data, start_sandbox=False)
    try:
        assert _lote(ctx, "LOTE_RPS_A")["status"] == _lote(ctx, "LOTE_RPS_B")["status"] == "enviando"
        assert ctx.store.documents.has_backlog()  # the background sync has work to do
        # a live request ends within the client's timeout: a fresh 'enviando' is left alone
        assert RpsService(ctx).resolve_open() == []
        db = ctx.store.database
        db.execute("UPDATE lotes_rps SET updated_at = '2000-01-01T00:00:00+00:00'")  # both long abandoned
        report = ReplayService(ctx).run_once()
        results = {r["ref"]: r["resultado"] for r in report.reconciliadas}
        assert "gerado na API" in results["LOTE_RPS_A"] and "gere de novo" in results["LOTE_RPS_B"]
        a, b = _lote(ctx, "LOTE_RPS_A"), _lote(ctx, "LOTE_RPS_B")
        assert a["status"] == "gerado" and Path(a["arquivo_path"]).read_bytes().startswith(b"1|002|")
        assert b["status"] == "pendente"  # generated again by the manager, same ref
        assert not ctx.store.documents.has_backlog()
        for lote in (a, b):  # written ahead, then resolved by the consult (GET): nothing sent again
            events = [(e["action"], e["to_status"]) for e in RpsService(ctx).repo.events(int(lote["id"]))]
            assert events == [("gerar", "pendente"), ("gerar", "enviando"), ("consulta", lote["status"])], (
                events
            )
        # the manager generates B again under its ref: one batch at the API
        out = RpsService(ctx).gerar(json.loads((tmp_path / "LOTE_RPS_B.json").read_text(encoding="utf-8")),
                                    ref="LOTE_RPS_B")  # fmt: skip
        assert out.status == "gerado"
    finally:
        ctx.close()
