"""Everything a running terminal needs, built once: store, configuration, API client, sandbox.

In demo mode (``focus.ambiente = sandbox``, the default) the embedded Focus-compatible sandbox is
started on a free loopback port with a demo emitter, catalog and users, so the program works
without any account.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app.core import paths
from pos_app.core.config import Config, ConfigError
from pos_app.core.domain.catalog import Product
from pos_app.core.domain.emitente import Emitente
from pos_app.core.fiscal.states import timezone_for
from pos_app.core.focus.ratelimit import RateBudget
from pos_app.core.secrets_store import SecretStore, open_secret_store
from pos_app.core.store import Store

if TYPE_CHECKING:
    # httpx (behind the Focus client) costs ~0.2 s to import: the cashier window opens without it.
    from pos_app.core.focus.client import FocusClient
    from pos_app.core.focus.nfce import NfceApi
    from pos_app.sandbox.server import SandboxServer

log = logging.getLogger("pos_app")

DEMO_USERS = [
    # codigo, nome, papel, pin — printed in the README; demo mode only.
    ("1", "Ana (caixa)", "caixa", "1111"),
    ("9", "Gerente Demo", "gerente", "9999"),
]


class SetupError(RuntimeError):
    """The terminal cannot work yet (no token, no emitter...): message says what to configure."""


@dataclass
class AppContext:
    data_dir: Path
    store: Store
    config: Config
    secrets: SecretStore
    budget: RateBudget = field(default_factory=RateBudget)
    sandbox: SandboxServer | None = None
    _client: FocusClient | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    monitor: Any = None  # services.monitor.ConnectivityMonitor, set by open_app

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
            if self.sandbox is None:
                raise SetupError("Sandbox de demonstração não iniciado.")
            return self.sandbox.url
        from pos_app.core.focus.client import ENVIRONMENT_URLS

        return ENVIRONMENT_URLS[self.config.ambiente]

    def token(self) -> str:
        if self.config.demo and not self.config.get("focus.token"):
            from pos_app.sandbox.server import DEMO_TOKEN

            return DEMO_TOKEN
        token = self.config.get("focus.token")
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
        from pos_app.core.pix.demo import stop_demo_psp

        stop_demo_psp(self)
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
        self.store.close()


def open_app(
    data_dir: Path | None = None, *, start_sandbox: bool = True, sandbox_rate_limit: int | None = 100
) -> AppContext:
    """Open the terminal's data folder; in demo mode seed it and start the sandbox."""
    data_dir = data_dir or paths.data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    from pos_app.core.store.backup import backup_dir, backup_if_due
    from pos_app.core.store.integrity import open_checked_store

    store = open_checked_store(data_dir / "pos.sqlite3")  # damaged file: refuse to sell, keep it
    secrets = open_secret_store(data_dir)
    config = Config(store, secrets)
    ctx = AppContext(data_dir=data_dir, store=store, config=config, secrets=secrets)
    config.terminal_id  # noqa: B018 - assigns a terminal id on first start
    if config.demo:
        seed_demo(ctx)
    backup_if_due(data_dir / "pos.sqlite3", backup_dir(data_dir))  # daily; never blocks a start
    if config.demo and start_sandbox:
        start_demo_sandbox(ctx, rate_limit=sandbox_rate_limit)
    return ctx


def seed_demo(ctx: AppContext) -> None:
    """Demo emitter, certificate, catalog and users, only where nothing is configured yet."""
    cfg = ctx.config
    if not cfg.is_set("emitente.cnpj"):
        # Imported only when seeding: the sandbox package is heavy and every start runs this.
        from pos_app.sandbox.companies import DEMO_COMPANY

        c = DEMO_COMPANY
        for key, value in {
            "emitente.cnpj": c.cnpj,
            "emitente.razao_social": c.razao_social,
            "emitente.nome_fantasia": c.nome_fantasia,
            "emitente.inscricao_estadual": c.inscricao_estadual,
            "emitente.logradouro": c.logradouro,
            "emitente.numero": c.numero,
            "emitente.bairro": c.bairro,
            "emitente.municipio": c.municipio,
            "emitente.codigo_municipio": c.codigo_municipio,
            "emitente.uf": c.uf,
            "emitente.cep": c.cep,
            "emitente.regime": c.regime,
        }.items():
            try:
                cfg.set(key, value)
            except ConfigError as exc:  # pragma: no cover - demo data is valid
                log.error("Dado de demonstração inválido: %s", exc)
    if not cfg.is_set("certificado.arquivo"):
        _create_demo_certificate(ctx)
    if ctx.store.products.count() == 0:
        import_catalog_file(ctx, paths.resources_dir() / "demo_catalog.csv")
    if ctx.store.users.count() == 0:
        for codigo, nome, papel, pin in DEMO_USERS:
            ctx.store.users.add(codigo, nome, papel, pin)


def _create_demo_certificate(ctx: AppContext) -> None:
    from pos_app.core.fiscal.certificate import create_demo_certificate

    emitente = ctx.config.emitente()
    if emitente is None:
        return
    path = ctx.data_dir / "certificado-demo.pfx"
    password = "demo1234"
    if not path.exists():
        create_demo_certificate(path, password, emitente.cnpj, emitente.razao_social)
        with contextlib.suppress(OSError):
            path.chmod(0o600)  # a certificate file is private to the user running the terminal
    ctx.config.set("certificado.arquivo", str(path))
    ctx.config.set("certificado.senha", password)


def start_demo_sandbox(ctx: AppContext, port: int = 0, rate_limit: int | None = 100) -> SandboxServer:
    from pos_app.sandbox.server import SandboxServer

    server = SandboxServer(port=port, state_path=str(ctx.data_dir / "sandbox.sqlite3"), rate_limit=rate_limit)
    server.start()
    ctx.sandbox = server
    from pos_app.core.pix.demo import start_demo_psp

    start_demo_psp(ctx)  # the PIX PSP sandbox next to the Focus one
    return server


def parse_catalog_rows(rows: list[dict[str, str]]) -> tuple[list[tuple[int, Product]], list[tuple[int, str]]]:
    """CSV rows -> products, and rejected (line number, reason) pairs. Line 1 is the header."""
    from pos_app.core.domain.errors import ValidationError

    products: list[tuple[int, Product]] = []
    rejected: list[tuple[int, str]] = []
    seen_codes: set[str] = set()
    seen_eans: set[str] = set()
    for line, row in enumerate(rows, start=2):
        try:
            if None in row or any(v is None for v in row.values()):
                raise ValidationError("linha", "número de colunas diferente do cabeçalho")
            codigo = (row.get("codigo") or "").strip()
            preco_text = (row.get("preco") or "").strip().replace(",", ".")
            try:
                preco = Decimal(preco_text)
            except Exception as exc:
                raise ValidationError("preco", f"Preço inválido: {preco_text!r}") from exc
            tributos_text = (row.get("tributos_percentual") or "0").strip().replace(",", ".") or "0"
            try:
                tributos = Decimal(tributos_text)
            except Exception as exc:
                raise ValidationError("tributos_percentual", f"Percentual inválido: {tributos_text!r}") from exc
            product = Product(
                codigo=codigo,
                ean=(row.get("ean") or "").strip() or None,
                descricao=" ".join((row.get("descricao") or "").split()),
                ncm=(row.get("ncm") or "").strip(),
                cfop=(row.get("cfop") or "").strip(),
                unidade=(row.get("unidade") or "").strip().upper(),
                preco=preco,
                icms_origem=(row.get("icms_origem") or "0").strip(),
                icms_situacao_tributaria=(row.get("icms_situacao_tributaria") or "").strip(),
                tributos_percentual=tributos,
                cest=(row.get("cest") or "").strip() or None,
            )
            product.validate()
            if product.codigo in seen_codes:
                raise ValidationError("codigo", f"Código repetido no arquivo: {product.codigo}")
            if product.ean and product.ean in seen_eans:
                raise ValidationError("ean", f"EAN repetido no arquivo: {product.ean}")
            seen_codes.add(product.codigo)
            if product.ean:
                seen_eans.add(product.ean)
            products.append((line, product))
        except ValidationError as exc:
            rejected.append((line, str(exc)))
    return products, rejected


def _decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252 (Excel in Brazil)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # never fails; bad rows are then rejected one by one


REQUIRED_CSV_COLUMNS = [
    "codigo", "ean", "descricao", "ncm", "cfop", "unidade", "preco", "icms_origem", "icms_situacao_tributaria",
]


def import_catalog_file(ctx: AppContext, path: Path) -> tuple[int, list[tuple[int, str]]]:
    """Import a catalog CSV; returns (imported count, rejected lines)."""
    f = io.StringIO(_decode_csv(path.read_bytes()), newline="")
    sample = f.read(4096)
    f.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;")
    except csv.Error:
        dialect = csv.excel
    try:
        reader = csv.DictReader(f, dialect=dialect)
        header = [(h or "").strip() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_CSV_COLUMNS if c not in header]
        if missing:
            raise SetupError(f"Cabeçalho do CSV sem as colunas: {', '.join(missing)}")
        reader.fieldnames = header
        rows = list(reader)
    except csv.Error as exc:  # a cell over the csv module's limit, a broken quote...
        raise SetupError(f"Arquivo CSV ilegível (linha {reader.line_num}): {exc}. Nada foi importado.") from exc
    products, rejected = parse_catalog_rows(rows)
    # An EAN already used by another product code in the store (even an inactive one) is a conflict.
    clean: list[Product] = []
    for line, product in products:
        if product.ean:
            owner = ctx.store.database.query_one("SELECT codigo FROM products WHERE ean = ?", [product.ean])
            if owner is not None and owner["codigo"] != product.codigo:
                rejected.append((line, f"EAN {product.ean} já pertence ao produto {owner['codigo']}"))
                continue
        clean.append(product)
    count = ctx.store.products.upsert_many(clean)
    return count, sorted(rejected)
