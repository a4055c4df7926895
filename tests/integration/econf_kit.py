"""Shared pieces of the ECONF tests: an RS emitter (a state whose rule links card/PIX payments by
ECONF), card and PIX sales, the ECONF rows of a terminal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pos_app.core.domain.payments import Payment
from pos_app.core.domain.sale import Sale
from pos_app.core.fiscal.certificate import create_demo_certificate
from pos_app.sandbox import SandboxServer
from pos_app.sandbox.companies import CompanyConfig

ARROZ = "7891102100377"  # 27,90
ACQUIRER = "01425787000104"  # card acquirer (credenciadora)
PSP = "60446917000146"  # PIX PSP
E2E = "E6044691720261203120000000000001"

RS_COMPANY = CompanyConfig(
    cnpj="87456321000183",
    razao_social="LOJA GAUCHA DEMONSTRACAO LTDA",
    nome_fantasia="Loja Gaúcha Demonstração",
    inscricao_estadual="0960000012",
    logradouro="Rua dos Andradas",
    numero="100",
    bairro="Centro Histórico",
    municipio="Porto Alegre",
    codigo_municipio="4314902",
    uf="RS",
    cep="90020000",
    regime="simples",
)


def make_rs(ctx: Any, server: SandboxServer) -> None:
    """Turn a terminal into the RS emitter (and register it at the sandbox)."""
    from pos_app.demo.company import set_emitter

    server.register_company(RS_COMPANY)
    set_emitter(ctx, RS_COMPANY)
    path = ctx.data_dir / "certificado-rs.pfx"
    create_demo_certificate(path, "1234", RS_COMPANY.cnpj, RS_COMPANY.razao_social)
    ctx.config.set("certificado.arquivo", str(path))
    ctx.config.set("certificado.senha", "1234")


def card_sale(ctx: Any, forma: str = "03") -> Sale:
    sale = Sale()
    product = ctx.store.products.lookup(ARROZ)
    assert product is not None
    sale.add_item(product, Decimal(1))
    sale.add_payment(
        Payment(
            forma=forma,
            valor=sale.valor_total,
            bandeira="01",
            cnpj_credenciadora=ACQUIRER,
            numero_autorizacao="AUT778899",
        )
    )
    return sale


def split_sale(ctx: Any) -> Sale:
    """Cash + debit card + dynamic PIX: only the card and the PIX are linked."""
    sale = Sale()
    product = ctx.store.products.lookup(ARROZ)
    assert product is not None
    sale.add_item(product, Decimal(2))  # 55,80
    sale.add_payment(Payment(forma="01", valor=Decimal("10.00")))
    sale.add_payment(
        Payment(
            forma="04",
            valor=Decimal("20.00"),
            bandeira="02",
            cnpj_credenciadora=ACQUIRER,
            numero_autorizacao="DEB123",
        )
    )
    sale.add_payment(
        Payment(forma="17", valor=Decimal("25.80"), cnpj_credenciadora=PSP, numero_autorizacao=E2E)
    )
    return sale


def cash_sale(ctx: Any) -> Sale:
    sale = Sale()
    product = ctx.store.products.lookup(ARROZ)
    assert product is not None
    sale.add_item(product, Decimal(1))
    sale.add_payment(Payment(forma="01", valor=Decimal("30.00")))
    return sale


def econf_rows(ctx: Any) -> list[dict[str, Any]]:
    return list(ctx.store.database.query("SELECT * FROM econf_events ORDER BY id"))
