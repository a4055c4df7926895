"""Crash harness: kill the terminal (-9) at named points of a sale or of a replay, restart, sync once,
then check that nothing was lost or duplicated.

Each run gets a fresh terminal (copy of a seeded data folder) and its own sandbox, started here, so
the "remote" API survives the crash as the real one would. The terminal runs in a subprocess
(``python -m pos_app sell ...`` or ``sync``) with ``POS_CRASH_AT=<point>[:<n>]``: the services call
``crashpoints.crash_point(name)`` at precise places and die there with ``os._exit(137)``. The
"during send" point is a real external ``SIGKILL`` while the request is in flight (sandbox slow).
After the crash a new process runs ``pos-app sync --json`` once, and ``check_invariants`` must hold:
the sale exists (when it was committed), exactly one authorized note per sale (locally and at the
API), no number of any series used twice, contingency numbers without gaps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contingency_kit import ARROZ, check_invariants, copy_terminal, make_sale

from pos_app.app import open_app
from pos_app.core.services.crashpoints import ENV, EXIT_CODE
from pos_app.core.services.emission import EmissionService
from pos_app.core.store import Store
from pos_app.sandbox import DEMO_TOKEN, SandboxServer

ROOT = Path(__file__).resolve().parents[2]
SUBPROCESS_TIMEOUT = 60
# Exit code of a child stopped by Popen.kill(): -SIGKILL on POSIX; on Windows TerminateProcess(h, 1).
KILLED = 1 if os.name == "nt" else -9
DIED_AT_POINT = (EXIT_CODE, KILLED)


@dataclass(frozen=True)
class Scenario:
    point: str  # a crashpoints.POINTS name, or "during_send" (external SIGKILL)
    command: str  # "sell" or "sync"
    fault: tuple[str, dict[str, Any]] | None = None  # sandbox fault while the doomed process runs
    hit: int = 1  # die at the n-th time the point is reached
    backlog: int = 0  # contingency notes issued (link down) before the run
    in_doubt_backlog: int = 0  # sales whose online attempt got no answer (em_duvida + contingency)
    committed: bool = True  # whether the sale of a "sell" run is committed when it dies
    restart_link_down: bool = False  # the first restart finds the link still down

    @property
    def label(self) -> str:
        extra = f":{self.hit}" if self.hit > 1 else ""
        fault = f" [{self.fault[0]}]" if self.fault else ""
        down = " [reinício sem conexão]" if self.restart_link_down else ""
        return f"{self.command} {self.point}{extra}{fault}{down}"


@dataclass
class RunResult:
    scenario: Scenario
    returncode: int
    syncs: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class CrashHarness:
    def __init__(self, template: Path, workdir: Path) -> None:
        self.template = template
        self.workdir = workdir
        self.results: list[RunResult] = []

    # -- one run -------------------------------------------------------------------------------
    def run(self, sc: Scenario) -> RunResult:
        start = time.monotonic()
        server = SandboxServer(rate_limit=None).start()
        data = copy_terminal(self.template, self.workdir / f"run-{len(self.results):02d}", server.url)
        try:
            sales_before = self._prepare(data, server, sc)
            if sc.fault:
                server.faults.set(sc.fault[0], **sc.fault[1])
            rc = self._doomed_run(data, server, sc, sales_before)
            assert rc in DIED_AT_POINT, f"{sc.label}: o processo não morreu no ponto (saída {rc})"
            if sc.point == "during_send":
                # The API finishes processing what it received; then the terminal restarts.
                ref = f"CX01_{sales_before + 1:08d}"
                _wait(lambda: (server.note(ref) or {}).get("status") == "autorizado", f"{ref} autorizada")
            result = RunResult(sc, rc)
            if sc.restart_link_down:
                server.faults.set("unreachable")
                result.syncs.append(self._sync(data))
            server.faults.clear()
            result.syncs.append(self._sync(data))
            store = Store(data / "pos.sqlite3")
            try:
                expected = sales_before + (1 if sc.command == "sell" and sc.committed else 0)
                result.counts = check_invariants(store, server, sales_expected=expected)
                self._check_pending_none(store, sc)
            finally:
                store.close()
        finally:
            server.stop()
        result.seconds = time.monotonic() - start
        self.results.append(result)
        return result

    def _prepare(self, data: Path, server: SandboxServer, sc: Scenario) -> int:
        if not (sc.backlog or sc.in_doubt_backlog):
            return 0
        ctx = open_app(data, start_sandbox=False)
        try:
            service = EmissionService(ctx, render_receipts=False)
            server.faults.set("unreachable")
            for _ in range(sc.backlog):
                assert service.checkout(make_sale(ctx)).contingencia
            server.faults.clear()
            server.faults.set("in_doubt", methods=["POST"])
            for _ in range(sc.in_doubt_backlog):
                assert service.checkout(make_sale(ctx)).contingencia
            server.faults.clear()
            return ctx.store.sales.count()
        finally:
            ctx.close()

    def _env(self, data: Path, crash: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != ENV}
        env.update(POS_DATA_DIR=str(data), POS_SECRETS="arquivo", PYTHONPATH=str(ROOT))
        if crash:
            env[ENV] = crash
        return env

    def _doomed_run(self, data: Path, server: SandboxServer, sc: Scenario, sales_before: int) -> int:
        if sc.command == "sell":
            argv = ["sell", "--item", ARROZ, "--pay", "dinheiro:40", "--json"]
        else:
            argv = ["sync", "--json"]
        crash = None if sc.point == "during_send" else f"{sc.point}:{sc.hit}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "pos_app", *argv],
            env=self._env(data, crash),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if sc.point == "during_send":
            ref = f"CX01_{sales_before + 1:08d}"
            try:
                _wait(
                    lambda: (server.note(ref) or {}).get("status") == "processando_autorizacao",
                    f"{ref} em processamento no sandbox",
                )
            finally:
                proc.kill()  # SIGKILL while the request is in flight
        try:
            proc.communicate(timeout=SUBPROCESS_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AssertionError(f"{sc.label}: processo não terminou") from None
        return proc.returncode

    def _sync(self, data: Path) -> dict[str, Any]:
        """A new process (the restart) runs one `pos-app sync --json`."""
        proc = subprocess.run(
            [sys.executable, "-m", "pos_app", "sync", "--json"],
            env=self._env(data, None),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
        )
        assert proc.returncode in (0, 1), proc.stderr
        return dict(json.loads(proc.stdout))

    @staticmethod
    def _check_pending_none(store: Store, sc: Scenario) -> None:
        open_docs = store.database.query(
            "SELECT ref, status FROM fiscal_documents WHERE status IN "
            "('pendente', 'enviando', 'transmitindo', 'contingencia_pendente', 'em_duvida', 'aguardando_conexao')"
        )
        assert open_docs == [], f"{sc.label}: documentos em aberto após o sync: {open_docs}"

    # -- report --------------------------------------------------------------------------------
    def summary(self) -> str:
        points = {r.scenario.point for r in self.results}
        killed = sum(1 for r in self.results if r.returncode in DIED_AT_POINT)
        sales = sum(r.counts.get("vendas", 0) for r in self.results)
        seconds = sum(r.seconds for r in self.results)
        lines = [
            f"crash harness: {len(points)} pontos de parada, {len(self.results)} iterações, "
            f"{killed} processos mortos, {sales} vendas verificadas em {seconds:.1f} s"
        ]
        for r in self.results:
            lines.append(f"  {r.scenario.label:60} saída {r.returncode:>4}  {r.counts}  {r.seconds:.1f} s")
        return "\n".join(lines)


def _wait(predicate: Any, what: str, timeout: float = 60.0) -> None:  # a child starting on a loaded machine
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"tempo esgotado esperando: {what}")
        time.sleep(0.02)


# The kill points and iterations the test runs (see crashpoints.POINTS).
SCENARIOS: list[Scenario] = [
    Scenario("before_commit", "sell", committed=False, backlog=1),
    Scenario("after_commit_before_send", "sell"),
    Scenario("after_enviando_before_send", "sell"),
    Scenario("after_enviando_before_send", "sell", restart_link_down=True),
    Scenario("during_send", "sell", fault=("slow", {"seconds": 1.0})),
    Scenario("after_answer_before_store", "sell"),
    Scenario("contingency_before_commit", "sell", fault=("unreachable", {}), backlog=1),
    Scenario("contingency_after_commit", "sell", fault=("unreachable", {}), backlog=1),
    Scenario("contingency_after_commit", "sell", fault=("in_doubt", {"methods": ["POST"]})),
    Scenario("replay_before_post", "sync", backlog=4),
    Scenario("replay_before_post", "sync", backlog=4, hit=3),
    Scenario("replay_after_post", "sync", backlog=4),
    Scenario("replay_after_post", "sync", backlog=4, hit=3),
    Scenario("reconcile_after_cancel", "sync", in_doubt_backlog=2),
]

__all__ = ["DEMO_TOKEN", "SCENARIOS", "CrashHarness", "RunResult", "Scenario"]
