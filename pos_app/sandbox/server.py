"""``SandboxServer``: the embedded Focus-compatible NFC-e API on a loopback port.

with SandboxServer() as server:          # free port on 127.0.0.1, DEMO_TOKEN, DEMO_COMPANY
    client = httpx.Client(base_url=server.url, auth=(DEMO_TOKEN, ""))
    server.clock.advance(timedelta(minutes=31))
    server.faults.set("sefaz_down")
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterable
from datetime import timedelta
from types import TracebackType
from typing import Any

from pos_app.sandbox.backoffice import BackofficeSandbox
from pos_app.sandbox.clock import SandboxClock
from pos_app.sandbox.companies import DEMO_COMPANY, DEMO_COMPANY_SP, CompanyConfig
from pos_app.sandbox.engine import NfceSandbox
from pos_app.sandbox.faults import FaultMode, Faults
from pos_app.sandbox.httpd import SandboxHTTPServer
from pos_app.sandbox.ratelimit import RateLimiter
from pos_app.sandbox.store import EmailRecord, SandboxStore

DEMO_TOKEN = "demo-token-sandbox"


class SandboxServer:
    """Focus NFe API v2 (NFC-e) emulator, served by a stdlib threading HTTP server."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Iterable[str] = frozenset({DEMO_TOKEN}),
        state_path: str | None = None,
        rate_limit: int | None = 100,
        ambiente: str = "homologacao",
        companies: Iterable[CompanyConfig] = (DEMO_COMPANY, DEMO_COMPANY_SP),
    ) -> None:
        self.host = host
        self._port = port
        self.tokens = frozenset(tokens)
        self.clock = SandboxClock()
        self.faults = Faults()
        self.store = SandboxStore(state_path)
        self.engine = NfceSandbox(self.store, self.clock, self.faults, ambiente)
        # NF-e model 55 (/v2/nfe): the same engine, asynchronous, on its own store (refs, numbering, files)
        from pos_app.sandbox.nfe import NfeSandbox

        self.nfe_store = SandboxStore(f"{state_path}.nfe" if state_path else None)
        self.nfe_engine = NfeSandbox(self.nfe_store, self.clock, self.faults, ambiente)
        self.backoffice = BackofficeSandbox(self.store, self.clock, self.faults, self.engine)  # CT-e, RPS
        # Origin of the CT-e file links (Focus keeps them on S3, another host); None: this server as
        # addressed by the request. Downloads of file links (path, sent credentials?) are recorded.
        self.files_origin: str | None = None
        self.backoffice.cte.files_origin = lambda: self.files_origin
        self.file_requests: list[tuple[str, bool]] = []
        self.limiter = RateLimiter(self.clock, rate_limit)
        for company in companies:
            self.engine.register_company(company)
            self.nfe_engine.register_company(company)
        self._lock = threading.RLock()
        self._httpd: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._started = False
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.faults.subscribe(self._on_fault)

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    def start(self) -> SandboxServer:
        """Bind and start serving in a daemon thread; returns once the socket is listening."""
        with self._lock:
            if self._started:
                return self
            self._stopping.clear()
            self.store.reopen()
            self._started = True
            self._open_listener()
            if self.faults.is_active(FaultMode.UNREACHABLE):
                self._close_listener()
        return self

    def stop(self) -> None:
        """Stop serving, wake every delayed answer and release the state file."""
        with self._lock:
            if not self._started:
                return
            self._started = False
            self._stopping.set()
            self._close_listener()
            if self.store.persistent:  # release the file; in memory, keep the state inspectable
                self.store.close()
                self.nfe_store.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _open_listener(self) -> None:
        httpd = SandboxHTTPServer((self.host, self._port), self)
        self._port = int(httpd.server_address[1])
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{self._port}",
            daemon=True,
        )
        self._httpd, self._thread = httpd, thread
        thread.start()

    def _close_listener(self) -> None:
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:  # kept-alive connections must not keep working
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def _on_fault(self, mode: FaultMode, active: bool) -> None:
        if mode is not FaultMode.UNREACHABLE:
            return
        with self._lock:
            if not self._started:
                return
            if active and self._httpd is not None:
                self._close_listener()
            elif not active and self._httpd is None:
                self._open_listener()

    # -- used by the HTTP handler --------------------------------------------------------------

    @property
    def unreachable(self) -> bool:
        return self.faults.is_active(FaultMode.UNREACHABLE)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def sleep_interruptibly(self, seconds: float) -> None:
        """Sleep for a fault, waking early when the server stops."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def track_connection(self, conn: socket.socket, add: bool) -> None:
        """Remember open client connections, so ``unreachable`` can cut kept-alive ones too."""
        with self._connections_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # -- configuration and inspection ----------------------------------------------------------

    def register_company(self, company: CompanyConfig) -> None:
        """Make ``company`` known (its counter starts at ``proximo_numero`` unless already further)."""
        self.engine.register_company(company)
        self.nfe_engine.register_company(company)

    def set_account_problem(self, cnpj: str, codigo: str | None) -> None:
        """Break (``codigo``: ambiente_nao_configurado, empresa_nao_configurada, certificado_vencido)
        or fix (None) the company's account: every NFC-e emission then answers 422 ``codigo``."""
        from pos_app.core.domain.validators import normalize_cnpj
        from pos_app.sandbox.engine import ACCOUNT_PROBLEMS

        key = normalize_cnpj(cnpj)
        if codigo is None:
            self.engine.account_problems.pop(key, None)
            return
        if codigo not in ACCOUNT_PROBLEMS:
            raise ValueError(
                f"Problema de conta desconhecido: {codigo!r} (conhecidos: {', '.join(ACCOUNT_PROBLEMS)})"
            )
        self.engine.account_problems[key] = codigo

    @property
    def contingency_delay(self) -> timedelta:
        """How long after SEFAZ comes back (sandbox clock) before contingency notes are effectivated."""
        return self.engine.contingency_delay

    @contingency_delay.setter
    def contingency_delay(self, value: timedelta) -> None:
        self.engine.contingency_delay = value

    def effectivate_contingency(self) -> int:
        """Transmit pending contingency notes now; returns how many (0 while ``sefaz_down``)."""
        return self.engine.effectivate_contingency()

    def note(self, ref: str, token: str = DEMO_TOKEN, completa: bool = False) -> dict[str, Any] | None:
        """The body ``GET /v2/nfce/REF`` would answer (no HTTP, no rate limit), or None."""
        return self.engine.note_body(token, ref, completa)

    def sent_emails(self, ref: str | None = None) -> list[EmailRecord]:
        """Addresses accepted by ``POST /v2/nfce/REF/email`` (all refs, or one)."""
        return self.store.emails(ref)

    def inutilizacoes(self) -> list[dict[str, Any]]:
        """Every inutilização request answered (homologated or rejected)."""
        return self.store.inutilizacoes()
