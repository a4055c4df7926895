"""Crash campaign: kill -9 the CLI at random moments of sell, sync, cancel, inutilização and e-mail,
restart (one clean ``sync``), and check the invariants against the sandbox's state after EVERY kill.

Run as a whole::

    .venv/bin/python tests/integration/crash_campaign.py --kills 300 [--seed 7] [--json]

(the short version runs in the normal suite: ``test_crash_campaign.py``; the long version's counts
are in ``tests/bench/bench.py`` as ``crash_kills`` / ``crash_violations``).

One terminal data folder and one sandbox live through the whole campaign, like a real store: the
state accumulates (backlog of contingency notes, in-doubt attempts, cancels and voids written
ahead). Each round picks a command and a way to die:

- a named kill point (``POS_CRASH_AT``: checkout, emission, replay, reconciliation, cancel and
  inutilização write-ahead points), or
- an external SIGKILL after a random delay, often while the sandbox holds its answer
  (``slow`` / ``in_doubt`` faults with random delays) or while the link is down.

Invariants (checked against the sandbox after the restart's sync, link up):

1. no sale lost: every ref the API knows is a document of a local sale;
2. no number reused: (série, número) and keys unique at the API; contingency numbers 1..N, no gap;
3. every sale has at most one authorized note at the API, the same as locally (ref, key, status),
   and exactly one authorized note unless a manager cancelled it (or a documented pending state:
   ``status_desconhecido`` / ``substituicao_pendente``);
4. what the API cancelled is cancelled locally, and every local authorized note is authorized there;
5. every intent written ahead is resolved (no ``pending_actions`` row left ``pendente``/``manual``);
6. every inutilização homologated at the API is recorded locally as homologated.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for p in (str(HERE), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

from contingency_kit import ARROZ, copy_terminal, seed_template  # noqa: E402

from pos_app.core.services.crashpoints import ENV, EXIT_CODE  # noqa: E402
from pos_app.core.store import Store  # noqa: E402
from pos_app.sandbox import SandboxServer  # noqa: E402

JUST = "Cliente desistiu da compra ainda no caixa"
VOID_JUST = "Numeracao pulada por falha no sistema do caixa"
DOCUMENTED_PENDING = ("status_desconhecido", "substituicao_pendente")

POINTS: dict[str, list[str]] = {
    "sell": [
        "before_commit",
        "after_commit_before_send",
        "after_enviando_before_send",
        "after_answer_before_store",
        "contingency_before_commit",
        "contingency_after_commit",
    ],
    "sync": [
        "replay_before_post",
        "replay_after_post",
        "reconcile_after_cancel",
        "cancel_after_answer_before_store",
    ],
    "cancel": ["cancel_before_send", "cancel_after_answer_before_store"],
    "inutilizar": ["void_before_send", "void_after_answer_before_store"],
    "email": [],
}
WEIGHTS = {"sell": 40, "sync": 15, "cancel": 22, "inutilizar": 10, "email": 13}


@dataclass
class CampaignResult:
    rounds: int = 0
    kills: int = 0
    completed: int = 0  # the doomed process finished before its kill point/timer
    violations: list[str] = field(default_factory=list)
    by_command: Counter[str] = field(default_factory=Counter)
    kills_by_command: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    final_counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "crash_rounds": self.rounds,
            "crash_kills": self.kills,
            "crash_violations": len(self.violations),
            "crash_completed": self.completed,
            "crash_seconds": round(self.seconds, 1),
            "kills_por_comando": dict(self.kills_by_command),
            "contagens_finais": self.final_counts,
            "violacoes": self.violations[:20],
        }


class CrashCampaign:
    def __init__(self, workdir: Path, seed: int = 18) -> None:
        self.workdir = workdir
        self.rng = random.Random(seed)
        self.server = SandboxServer(rate_limit=None).start()
        template = seed_template(workdir / "template" / "pos-data")
        self.data = copy_terminal(template, workdir / "terminal" / "pos-data", self.server.url)
        self.cancel_asked: set[str] = set()
        self.void_next = 100_000
        self.result = CampaignResult()
        t0 = time.monotonic()
        self._cli(["status"], None)
        self.startup = time.monotonic() - t0  # how long the CLI takes to start on this machine now

    def close(self) -> None:
        self.server.stop()

    # -- one round -------------------------------------------------------------------------------
    def run(self, kills: int, max_rounds: int | None = None) -> CampaignResult:
        start = time.monotonic()
        limit = max_rounds or kills * 3
        try:
            while self.result.kills < kills and self.result.rounds < limit:
                self.round()
        finally:
            self.result.seconds = time.monotonic() - start
        return self.result

    def round(self) -> None:
        res = self.result
        res.rounds += 1
        command = self.rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        argv = self._argv(command)
        if argv is None:
            command, argv = "sell", self._argv("sell")
            assert argv is not None
        res.by_command[command] += 1
        crash: str | None = None
        delay: float | None = None
        hold = 0.0
        fault = self.rng.random()
        link_down = False
        if command == "sell" and fault < 0.12:
            self.server.faults.set("unreachable")  # contingency path (and backlog for sync)
            link_down = True
        elif command == "sell" and fault < 0.2:
            hold = self.rng.uniform(0.2, 1.2)
            self.server.faults.once("in_doubt", seconds=hold, methods=["POST"])
        elif command in ("cancel", "inutilizar", "email") and fault < 0.5:
            hold = self.rng.uniform(0.3, 2.0)
            method = "DELETE" if command == "cancel" else "POST"
            self.server.faults.set("in_doubt", seconds=hold, methods=[method])
        elif fault < 0.6:
            hold = self.rng.uniform(0.1, 0.8)
            self.server.faults.set("slow", seconds=hold)
        points = POINTS[command]
        if command == "sell":
            contingency = [p for p in points if p.startswith("contingency")]
            points = contingency if link_down else [p for p in points if p not in contingency]
        if points and self.rng.random() < 0.6:
            name = self.rng.choice(points)
            crash = f"{name}:{2 if self.rng.random() < 0.15 else 1}"
        else:
            # spread over the start-up, the request (held by the sandbox) and after it
            delay = self.rng.uniform(0.7 * self.startup, self.startup + 0.4 + hold)
        rc = self._doomed(argv, crash, delay)
        killed = rc in (EXIT_CODE, -signal.SIGKILL)
        if link_down:
            self.server.faults.clear("unreachable")
        if not killed:
            # Finished normally: its state is checked after the next kill's restart.
            res.completed += 1
            time.sleep(hold)
            self.server.faults.clear()
            return
        res.kills += 1
        res.kills_by_command[command] += 1
        time.sleep(hold + 0.15)  # the API finishes what it received (a held answer, a slow request)
        self.server.faults.clear()
        sync = self._cli(["sync", "--json"], None)
        if sync.returncode not in (0, 1):
            res.violations.append(
                f"rodada {res.rounds}: sync falhou ({sync.returncode}): {sync.stderr[-300:]}"
            )
        tag = f"rodada {res.rounds} ({command} {crash or f'SIGKILL {delay:.2f}s'})"
        for problem in self.check():
            res.violations.append(f"{tag}: {problem}")

    def _argv(self, command: str) -> list[str] | None:
        if command == "sell":
            return ["sell", "--item", ARROZ, "--pay", "dinheiro:40", "--json"]
        if command == "sync":
            return ["sync", "--json"]
        if command == "inutilizar":
            start = self.void_next
            self.void_next += 10
            return [
                "inutilizar",
                "--serie",
                "1",
                "--inicio",
                str(start),
                "--fim",
                str(start + self.rng.randint(0, 3)),
                "--justificativa",
                VOID_JUST,
                "--pin",
                "9999",
                "--json",
            ]
        refs = self._authorized_refs()
        if not refs:
            return None
        ref = self.rng.choice(refs[-8:])
        if command == "cancel":
            self.cancel_asked.add(ref)
            return ["cancel", ref, "--justificativa", JUST, "--pin", "9999", "--json"]
        return ["email", ref, "cliente@example.com", "--json"]

    def _authorized_refs(self) -> list[str]:
        store = Store(self.data / "pos.sqlite3")
        try:
            return [
                r["ref"]
                for r in store.database.query(
                    "SELECT ref FROM fiscal_documents WHERE status = 'autorizado' ORDER BY id"
                )
            ]
        finally:
            store.close()

    def _env(self, crash: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != ENV}
        env.update(POS_DATA_DIR=str(self.data), POS_SECRETS="arquivo", PYTHONPATH=str(ROOT))
        if crash:
            env[ENV] = crash
        return env

    def _doomed(self, argv: list[str], crash: str | None, delay: float | None) -> int:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pos_app", *argv],
            env=self._env(crash),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            proc.wait(timeout=delay if delay is not None else 60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        return proc.returncode

    def _cli(self, argv: list[str], crash: str | None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pos_app", *argv],
            env=self._env(crash),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    # -- invariants ------------------------------------------------------------------------------
    def check(self) -> list[str]:
        problems: list[str] = []
        store = Store(self.data / "pos.sqlite3")
        try:
            problems += self._check(store)
        except Exception as exc:  # noqa: BLE001 - an unreadable state is a violation too
            problems.append(f"verificação falhou: {type(exc).__name__}: {exc}")
        finally:
            store.close()
        return problems

    def _check(self, store: Store) -> list[str]:
        out: list[str] = []
        db = store.database
        docs = db.query("SELECT * FROM fiscal_documents ORDER BY id")
        by_ref = {d["ref"]: d for d in docs}
        api = {n.ref: n for n in self.server.store.notes()}
        # 1. no sale lost
        for ref in api:
            if ref not in by_ref:
                out.append(f"nota {ref} existe na API e não no terminal (venda perdida)")
        # 2. numbers
        issued = [n for n in api.values() if n.status in ("autorizado", "cancelado") and n.numero is not None]
        dup = [k for k, c in Counter((n.serie, n.numero) for n in issued).items() if c > 1]
        if dup:
            out.append(f"número repetido na API: {dup}")
        if any(c > 1 for c in Counter(n.chave for n in issued).values()):
            out.append("chave repetida na API")
        cont: dict[int, list[int]] = {}
        for d in docs:
            if d["kind"] == "contingencia":
                cont.setdefault(int(d["serie"]), []).append(int(d["numero"]))
        for serie, nums in cont.items():
            if sorted(nums) != list(range(1, len(nums) + 1)):
                out.append(
                    f"série {serie}: números de contingência {sorted(nums)[:10]}... com buraco/repetição"
                )
            if store.counters.peek(serie) != len(nums) + 1:
                out.append(f"série {serie}: contador {store.counters.peek(serie)} != {len(nums) + 1}")
        # 3/4. per sale, local vs API
        sales = [r["id"] for r in db.query("SELECT id FROM sales ORDER BY id")]
        per_sale: dict[int, list[dict[str, Any]]] = {}
        for d in docs:
            per_sale.setdefault(int(d["sale_id"]), []).append(d)
        for sale_id in sales:
            sdocs = per_sale.get(sale_id, [])
            local_auth = [d for d in sdocs if d["status"] == "autorizado"]
            api_auth = [d["ref"] for d in sdocs if d["ref"] in api and api[d["ref"]].status == "autorizado"]
            if len(api_auth) > 1:
                out.append(f"venda {sale_id}: {len(api_auth)} notas autorizadas na API: {api_auth}")
            if len(local_auth) > 1:
                out.append(f"venda {sale_id}: {len(local_auth)} notas autorizadas no terminal")
            if not local_auth:
                cancelled = [d for d in sdocs if d["status"] == "cancelado" and d["ref"] in self.cancel_asked]
                pending = [d for d in sdocs if d["status"] in DOCUMENTED_PENDING]
                if not cancelled and not pending:
                    out.append(f"venda {sale_id} sem nota: {[(d['ref'], d['status']) for d in sdocs]}")
        for d in docs:
            note = api.get(d["ref"])
            if d["status"] == "autorizado":
                if note is None or note.status != "autorizado":
                    out.append(
                        f"{d['ref']} autorizada no terminal, na API: {note.status if note else 'ausente'}"
                    )
                elif note.chave != d["chave"]:
                    out.append(f"{d['ref']}: chave local difere da API")
            if note is not None and note.status == "cancelado" and d["status"] != "cancelado":
                out.append(f"{d['ref']} cancelada na API, no terminal: {d['status']}")
            if (
                note is not None
                and note.status == "autorizado"
                and d["status"] not in ("autorizado", *DOCUMENTED_PENDING)
            ):
                out.append(f"{d['ref']} autorizada na API, no terminal: {d['status']}")
        # 5. intents
        for row in db.query(
            "SELECT kind, target, status, outcome FROM pending_actions WHERE status IN ('pendente', 'manual')"
        ):
            out.append(
                f"ação {row['kind']} {row['target']} não resolvida ({row['status']}: {row['outcome']})"
            )
        # 6. inutilizações
        local_void = {
            (int(r["serie"]), int(r["numero_inicial"]), int(r["numero_final"]))
            for r in db.query("SELECT * FROM inutilizacoes WHERE status = 'autorizado'")
        }
        for r in self.server.inutilizacoes():
            if r.get("status") == "autorizado":
                key = (int(r["serie"]), int(r["numero_inicial"]), int(r["numero_final"]))
                if key not in local_void:
                    out.append(f"inutilização {key} homologada na API e não registrada no terminal")
        self.result.final_counts = {
            "vendas": len(sales),
            "documentos": len(docs),
            "notas_api": len(api),
            "canceladas_api": sum(1 for n in api.values() if n.status == "cancelado"),
            "inutilizacoes": len(local_void),
        }
        return out


def run_campaign(kills: int, seed: int = 18, workdir: Path | None = None) -> CampaignResult:
    own = workdir is None
    base = Path(tempfile.mkdtemp(prefix="crash-campaign-")) if workdir is None else workdir
    campaign = CrashCampaign(base, seed)
    try:
        return campaign.run(kills)
    finally:
        campaign.close()
        if own:
            shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="campanha de kill -9 (issue 18)")
    parser.add_argument("--kills", type=int, default=300)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run_campaign(args.kills, args.seed)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print(
            f"{result.rounds} rodadas, {result.kills} processos mortos (-9), {result.completed} concluídos, "
            f"{len(result.violations)} violações em {result.seconds:.0f} s"
        )
        print(f"mortes por comando: {dict(result.kills_by_command)}; estado final: {result.final_counts}")
        for v in result.violations[:50]:
            print("  VIOLAÇÃO:", v)
    return 1 if result.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
