"""Which demo company the terminal plays in demo mode: ``pr`` (Simples Nacional, Curitiba, numeric
CNPJ; the default) or ``sp`` (regime normal, São Paulo capital, alphanumeric CNPJ).

Chosen by, in this order: the environment variable ``POS_DEMO_EMPRESA``, the setting
``demo.empresa`` (``pos-app demo empresa sp``, ``pos-app config set demo.empresa sp``, the
"Treinamento" menu), else ``pr``. Switching replaces the emitter data, the demo A1 certificate
(one per company: the certificate's CNPJ is the emitter's) and the active catalog (the SP catalog
holds regime-normal codes), and is refused while notes of the other company still wait for the
API (their keys and QR codes carry that company's CNPJ). A terminal whose emitter is not a demo
company (configured by hand while in demo mode) is never touched.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pos_app.core import paths
from pos_app.core.domain.validators import format_cnpj, normalize_cnpj
from pos_app.core.fiscal import document_status as ds

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.sandbox.companies import CompanyConfig

ENV_VAR = "POS_DEMO_EMPRESA"
SETTING = "demo.empresa"
DEFAULT = "pr"
CATALOGS = {"pr": "demo_catalog.csv", "sp": "demo_catalog_sp.csv"}
CERTIFICATES = {"pr": "certificado-demo.pfx", "sp": "certificado-demo-sp.pfx"}
CERT_PASSWORD = "demo1234"
LABELS = {
    "pr": "Mercadinho Demonstração (Curitiba/PR, Simples Nacional, CNPJ numérico)",
    "sp": "Supermercado Paulista Demonstração (São Paulo/SP, regime normal, CNPJ alfanumérico)",
}
# Notes of the current company still waiting for the API (a switch is refused while any exists).
OPEN_STATES = ds.BACKLOG | ds.CONTINGENCY_OPEN


class DemoCompanyError(ValueError):
    """A switch that cannot be done now (Portuguese message for the manager)."""


@dataclass(frozen=True)
class SwitchResult:
    key: str
    changed: bool
    mensagem: str


def companies() -> dict[str, CompanyConfig]:
    from pos_app.sandbox.companies import DEMO_COMPANIES

    return DEMO_COMPANIES


def chosen_key(ctx: AppContext) -> str:
    """The demo company asked for (environment variable, then setting, then ``pr``)."""
    for raw in (os.environ.get(ENV_VAR), ctx.store.settings.get(SETTING)):
        key = (raw or "").strip().lower()
        if key in CATALOGS:
            return key
    return DEFAULT


def current_key(ctx: AppContext) -> str | None:
    """The demo company the emitter is now, or None (no emitter, or a real one)."""
    cnpj = normalize_cnpj(ctx.config.get("emitente.cnpj") or "")
    for key, company in companies().items():
        if normalize_cnpj(company.cnpj) == cnpj:
            return key
    return None


def ensure(ctx: AppContext) -> SwitchResult | None:
    """At start in demo mode: seed the chosen demo company, or switch to it when another demo
    company is configured. A refused switch (notes pending) keeps the current one."""
    if not ctx.config.demo:
        return None
    key = chosen_key(ctx)
    current = current_key(ctx)
    if ctx.config.is_set("emitente.cnpj") and current is None:
        return None  # a real emitter typed in demo mode: not ours to change
    if current == key and ctx.store.products.count() > 0:
        return None
    try:
        return switch(ctx, key)
    except DemoCompanyError:
        return None


def switch(ctx: AppContext, key: str) -> SwitchResult:
    """Make the terminal play demo company ``key``; raises :class:`DemoCompanyError`."""
    key = (key or "").strip().lower()
    if key not in CATALOGS:
        raise DemoCompanyError(
            f"Empresa de demonstração desconhecida: {key!r} (use {' ou '.join(CATALOGS)})."
        )
    if not ctx.config.demo:
        raise DemoCompanyError(
            "A troca de empresa só existe no modo demonstração (focus.ambiente = sandbox)."
        )
    current = current_key(ctx)
    if ctx.config.is_set("emitente.cnpj") and current is None:
        raise DemoCompanyError("O emitente configurado não é uma empresa de demonstração: nada foi alterado.")
    company = companies()[key]
    if current == key and ctx.store.products.count() > 0:
        ctx.store.settings.set(SETTING, key)
        return SwitchResult(key, False, f"Já está na empresa de demonstração {LABELS[key]}.")
    if current is not None:
        marks = ", ".join("?" for _ in OPEN_STATES)
        row = ctx.store.database.query_one(
            f"SELECT count(*) AS n FROM fiscal_documents WHERE status IN ({marks})", sorted(OPEN_STATES)
        )
        if row and int(row["n"]):
            raise DemoCompanyError(
                f"Há {row['n']} nota(s) da empresa atual aguardando a API: rode 'pos-app sync' antes de trocar "
                "de empresa (as chaves e QR Codes delas levam o CNPJ da empresa atual)."
            )
    set_emitter(ctx, company)
    _set_certificate(ctx, key, company)
    _set_catalog(ctx, key)
    ctx.store.settings.set(SETTING, key)
    if ctx.sandbox is not None:
        ctx.sandbox.register_company(company)
    ctx.reset_client()
    return SwitchResult(
        key, True, f"Empresa de demonstração: {LABELS[key]} — CNPJ {format_cnpj(company.cnpj)}."
    )


def set_emitter(ctx: AppContext, c: CompanyConfig) -> None:
    """The terminal's emitter settings from a sandbox company (every field; empty ones unset)."""
    values = {
        "cnpj": c.cnpj, "razao_social": c.razao_social, "nome_fantasia": c.nome_fantasia,
        "inscricao_estadual": c.inscricao_estadual, "logradouro": c.logradouro, "numero": c.numero,
        "bairro": c.bairro, "municipio": c.municipio, "codigo_municipio": c.codigo_municipio, "uf": c.uf,
        "cep": c.cep, "regime": c.regime, "telefone": c.telefone,
    }  # fmt: skip
    for name, value in values.items():
        if value:
            ctx.config.set(f"emitente.{name}", value)
        else:
            ctx.config.unset(f"emitente.{name}")


def _set_certificate(ctx: AppContext, key: str, c: CompanyConfig) -> None:
    from pos_app.core.fiscal.certificate import create_demo_certificate

    path = ctx.data_dir / CERTIFICATES[key]
    if not path.exists():
        create_demo_certificate(path, CERT_PASSWORD, c.cnpj, c.razao_social)
        with contextlib.suppress(OSError):
            path.chmod(0o600)
    ctx.config.set("certificado.arquivo", str(path))
    ctx.config.set("certificado.senha", CERT_PASSWORD)


def _set_catalog(ctx: AppContext, key: str) -> None:
    from pos_app.core.services.catalog_import import import_catalog_file
    from pos_app.demo.tax_groups import apply_demo_tax_groups

    ctx.store.database.execute("UPDATE products SET ativo = 0")  # the other company's items leave the shelf
    import_catalog_file(ctx, paths.resources_dir() / CATALOGS[key])
    # Tax groups of the company's regime: the SP company (regime normal) gets CST 00/20/40/60 groups with
    # IBS/CBS (without them the SEFAZ rule 1115 refuses every note of a regime-normal emitter).
    apply_demo_tax_groups(ctx, companies()[key].regime)
