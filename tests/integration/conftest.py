"""Fixtures for integration tests against the embedded Focus sandbox over loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from pos_app.sandbox import DEMO_TOKEN, SandboxServer, sample_payload

XSD_DIR = Path(__file__).resolve().parents[3] / "shared" / "xsd" / "PL_009_V4"


@pytest.fixture
def sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox_client(sandbox_server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_server.url, auth=(DEMO_TOKEN, ""), timeout=5.0) as client:
        yield client


EmitFn = Callable[..., httpx.Response]


@pytest.fixture
def sandbox_emit(sandbox_server: SandboxServer, sandbox_client: httpx.Client) -> EmitFn:
    """``sandbox_emit(ref, payload=None, **params)``: POST /v2/nfce with a valid sample by default."""

    def emit(ref: str, payload: dict[str, Any] | None = None, **params: Any) -> httpx.Response:
        body = payload if payload is not None else sample_payload(sandbox_server.clock.now())
        return sandbox_client.post("/v2/nfce", params={"ref": ref, **params}, json=body)

    return emit


@pytest.fixture
def xsd_schema() -> Callable[[str], etree.XMLSchema]:
    """Load a schema of ``../shared/xsd/PL_009_V4`` (skips when the folder is not there)."""
    if not XSD_DIR.is_dir():
        pytest.skip(f"XSDs da SEFAZ não encontrados em {XSD_DIR}")
    cache: dict[str, etree.XMLSchema] = {}

    def load(name: str) -> etree.XMLSchema:
        if name not in cache:
            cache[name] = etree.XMLSchema(etree.parse(str(XSD_DIR / name)))
        return cache[name]

    return load


# -- contingency tests (helpers in contingency_kit.py) ------------------------------------------
@pytest.fixture(scope="session")
def terminal_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A terminal data folder seeded once per session (copied by ``term``)."""
    from contingency_kit import seed_template

    return seed_template(tmp_path_factory.mktemp("terminal-template") / "pos-data")


@pytest.fixture
def api() -> Iterator[SandboxServer]:
    """The Focus API the ``term`` fixture talks to (in memory, no rate limit), over loopback."""
    with SandboxServer(rate_limit=None) as server:
        yield server


@pytest.fixture
def term(terminal_template: Path, tmp_path: Path, api: SandboxServer) -> Iterator[Any]:
    """A terminal (``AppContext``) configured as homologação with ``focus.url`` = ``api``."""
    from contingency_kit import copy_terminal

    from pos_app.app import open_app

    ctx = open_app(copy_terminal(terminal_template, tmp_path / "pos-data", api.url), start_sandbox=False)
    try:
        yield ctx
    finally:
        ctx.close()
