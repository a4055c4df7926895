"""Everything a running terminal needs, built once: store, configuration, API client.

Core knows no demo: the application wiring (``pos_app.app``) hands the context the API address
(``api_url``: the embedded sandbox in demo mode) and a token provider (the demo token when no
token is configured). ``pos_app.demo`` owns the sandbox, the demo company, users and catalog.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app.core import paths
from pos_app.core.config import Config
from pos_app.core.domain.emitente import Emitente
from pos_app.core.errors import PosError
from pos_app.core.fiscal.states import timezone_for
from pos_app.core.focus.ratelimit import RateBudget
from pos_app.core.secrets_store import SecretStore, open_secret_store
from pos_app.core.store import Store

if TYPE_CHECKING:
    # httpx (behind the Focus client) costs ~0.2 s to import: the cashier window opens without it.
    from pos_app.core.focus.client import FocusClient
    from pos_app.core.focus.nfce import NfceApi

log = logging.getLogger("pos_app")


class SetupError(PosError, RuntimeError):
    """The terminal cannot work yet (no token, no emitter...): message says what to configure."""

    kind = "configuracao"


@dataclass
class AppContext:
    data_dir: Path
    store: Store
    config: Config
    secrets: SecretStore
    budget: RateBudget = field(default_factory=RateBudget)
    # Set by the application wiring (pos_app.app / pos_app.demo); core never builds them.
    api_url: str | None = None  # the API's address when not the configured/production one (demo sandbox)
    token_provider: Callable[[], str] | None = None  # the token when none is configured (demo)
    sandbox: Any = None  # demo mode: the embedded server (training faults, simulated city answer)
    pix_settings: Callable[[], dict[str, str]] | None = None  # demo: ``pix.*`` of the PSP sandbox
    closers: list[Callable[[], None]] = field(default_factory=list)  # run by close(), last first
    _client: FocusClient | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    monitor: Any = None  # services.monitor.ConnectivityMonitor, set by open_app
    store_sync: Any = None  # storeserver.sync.StoreSync when loja.banco is configured (set by open_app)
    maintenance: threading.Thread | None = None  # daily backup + full integrity check (open_app)
    archives: Any = None  # store.archive.Archives: yearly archives opened read-only on demand

    # -- API --------------------------------------------------------------------------------
    @property
    def ambiente(self) -> str:
        """Fiscal environment as SEFAZ sees it: the sandbox behaves as homologação."""
        return "producao" if self.config.ambiente == "producao" else "homologacao"

    def base_url(self) -> str:
        custom = self.config.get("focus.url")
        if custom:
            return custom
        if self.config.demo:
            if self.api_url is None:
                raise SetupError("Sandbox de demonstração não iniciado.")
            return self.api_url
        from pos_app.core.focus.client import ENVIRONMENT_URLS

        return ENVIRONMENT_URLS[self.config.ambiente]

    def token(self) -> str:
        token = self.config.get("focus.token")
        if not token and self.config.demo and self.token_provider is not None:
            return self.token_provider()
        if not token:
            raise SetupError("Token da API não configurado: pos-app config set focus.token SEU_TOKEN")
        return token

    def client(self) -> FocusClient:
        from pos_app.core.focus.client import FocusClient

        with self._lock:
            if self._client is None:
                self._client = FocusClient(
                    self.base_url(), self.token(), timeout=self.config.timeout, budget=self.budget
                )
            return self._client

    def reset_client(self) -> None:
        """Drop the HTTP client after a configuration change."""
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = None

    def nfce(self) -> NfceApi:
        from pos_app.core.focus.nfce import NfceApi

        return NfceApi(self.client())

    # -- emitter and time -------------------------------------------------------------------
    def emitente(self) -> Emitente:
        emitente = self.config.emitente()
        if emitente is None:
            raise SetupError(
                "Dados do emitente incompletos: configure emitente.cnpj, razao_social, inscricao_estadual, "
                "endereço, município, UF e CEP (pos-app config set ...)."
            )
        return emitente

    def now(self) -> datetime:
        """Local time of the store, with its offset (Brazil has several time zones)."""
        emitente = self.emitente()
        return datetime.now(timezone_for(emitente.uf, emitente.codigo_municipio))

    def receipts_dir(self) -> Path:
        path = self.data_dir / "recibos"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def xml_dir(self) -> Path:
        path = self.data_dir / "xml"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def close(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
        self.reset_client()
        while self.closers:
            self.closers.pop()()
        if self.maintenance is not None:
            self.maintenance.join(timeout=120)  # a backup in progress finishes (its own connections)
        if self.archives is not None:
            self.archives.close()
        self.store.close()


def open_context(data_dir: Path | None = None) -> AppContext:
    """Open the terminal's data folder (checked store, secrets, configuration, terminal id).

    The application (``pos_app.app.open_app``) adds the demo wiring and the daily backup.
    """
    data_dir = data_dir or paths.data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    from pos_app.core.store.integrity import open_checked_store

    store = open_checked_store(data_dir / "pos.sqlite3")  # damaged file: refuse to sell, keep it
    secrets = open_secret_store(data_dir)
    config = Config(store, secrets)
    ctx = AppContext(data_dir=data_dir, store=store, config=config, secrets=secrets)
    config.terminal_id  # noqa: B018 - assigns a terminal id on first start
    return ctx
