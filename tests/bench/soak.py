"""Soak test (issue 18; not in CI): N sales (default 5,000) through ``EmissionService.checkout`` against
the sandbox over loopback HTTP, with periodic link drops (each followed by a replay pass) and 429
bursts. Reports growth from the end of a warm-up to the end (RSS, open file descriptors, threads)
and the drift of the sale latency (p99 of the last thousand sales over the first thousand).

The sandbox runs in a CHILD process (state in a SQLite file), so its own memory does not count as
the terminal's; faults are set through a pipe. Run alone::

    .venv/bin/python tests/bench/soak.py [N]

``tests/bench/bench.py`` runs it as the ``soak`` step (``POS_BENCH_ONLY=soak``).
"""

from __future__ import annotations

import gc
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for p in (str(ROOT), str(ROOT / "tests" / "integration")):
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ.setdefault("POS_SECRETS", "arquivo")

DROP_EVERY = 500  # a link drop every 500 sales...
DROP_LENGTH = 40  # ...lasting 40 sales (they go to contingency), then a replay pass
BURST_EVERY = 300  # a burst of 429 every 300 sales
BURST_SIZE = 5
WARMUP = 200


def _sandbox_child(conn: Any, state: str) -> None:
    from pos_app.sandbox import SandboxServer

    server = SandboxServer(rate_limit=None, state_path=state).start()
    conn.send(server.url)
    while True:
        cmd = conn.recv()
        if cmd[0] == "stop":
            server.stop()
            conn.send("ok")
            return
        if cmd[0] == "set":
            server.faults.set(cmd[1], **cmd[2])
        elif cmd[0] == "clear":
            server.faults.clear()
        conn.send("ok")


class ChildSandbox:
    def __init__(self, state: Path) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_sandbox_child, args=(child, str(state)), daemon=True)
        self.proc.start()
        self.url = self.conn.recv()

    def call(self, *cmd: Any) -> None:
        self.conn.send(cmd)
        self.conn.recv()

    def stop(self) -> None:
        try:
            self.call("stop")
        finally:
            self.proc.join(timeout=10)
            if self.proc.is_alive():
                self.proc.kill()


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))  # OS threads (Python and native)


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def run_soak(n: int = 5000) -> dict[str, Any]:
    from contingency_kit import copy_terminal, make_sale, seed_template

    from pos_app.app import open_app
    from pos_app.core.services.emission import EmissionService
    from pos_app.core.services.replay import ReplayService

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        base = Path(tmp)
        sandbox = ChildSandbox(base / "sandbox.sqlite3")
        try:
            template = seed_template(base / "template" / "pos-data")
            data = copy_terminal(template, base / "terminal" / "pos-data", sandbox.url, focus__timeout="2")
            ctx = open_app(data, start_sandbox=False)
            try:
                service = EmissionService(ctx, render_receipts=False)
                latencies: list[float] = []
                counts = {"autorizadas": 0, "contingencia": 0, "quedas": 0, "rajadas_429": 0, "replays": 0}
                start = time.monotonic()
                rss0 = fds0 = threads0 = 0.0
                for i in range(n):
                    if i == WARMUP:
                        gc.collect()
                        rss0, fds0, threads0 = _rss_mb(), _fds(), _threads()
                    if i and i % DROP_EVERY == 0:
                        sandbox.call("set", "unreachable", {})
                        counts["quedas"] += 1
                    if i % DROP_EVERY == DROP_LENGTH and i > DROP_LENGTH:
                        sandbox.call("clear")
                        ReplayService(ctx, render_receipts=False).run_once()  # the backlog goes out
                        counts["replays"] += 1
                    if i and i % BURST_EVERY == 0 and i % DROP_EVERY >= DROP_LENGTH:
                        sandbox.call("set", "rate_storm", {"n": BURST_SIZE})
                        counts["rajadas_429"] += 1
                    sale = make_sale(ctx)
                    t0 = time.perf_counter()
                    result = service.checkout(sale, receipt=False)
                    latencies.append(time.perf_counter() - t0)
                    counts["contingencia" if result.contingencia else "autorizadas"] += 1
                sandbox.call("clear")
                ReplayService(ctx, render_receipts=False).run_once()
                gc.collect()
                time.sleep(0.5)  # let idle keep-alive connections and worker threads settle
                rss1, fds1, threads1 = _rss_mb(), _fds(), _threads()
                open_docs = ctx.store.database.query(
                    "SELECT count(*) AS n FROM fiscal_documents WHERE status IN "
                    "('contingencia_pendente', 'transmitindo', 'pendente', 'enviando', 'em_duvida')"
                )[0]["n"]
                first, last = latencies[:1000], latencies[-1000:]
                return {
                    "soak_sales": n,
                    "soak_seconds": round(time.monotonic() - start, 1),
                    "soak_rss_growth_mb": round(rss1 - rss0, 1),
                    "soak_handles_growth": int(fds1 - fds0),
                    "soak_threads_growth": int(threads1 - threads0),
                    "soak_p99_ratio": round(_p99(last) / _p99(first), 3),
                    "soak_p99_first_ms": round(_p99(first) * 1000, 2),
                    "soak_p99_last_ms": round(_p99(last) * 1000, 2),
                    "soak_open_documents": int(open_docs),
                    "soak_counts": counts,
                    "soak_active_python_threads": threading.active_count(),
                }
            finally:
                ctx.close()
        finally:
            sandbox.stop()


if __name__ == "__main__":
    print(json.dumps(run_soak(int(sys.argv[1]) if len(sys.argv) > 1 else 5000), ensure_ascii=False))
