"""Edits made once for the whole store (CLI ``pos-app loja``, CSV import, the manager window)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pos_app.core.domain.catalog import Product
from pos_app.core.domain.errors import ValidationError
from pos_app.core.domain.tax_group import TaxGroup
from pos_app.core.store import Store
from pos_app.core.store.clientes import Cliente
from pos_app.core.storeserver.customers import CUSTOMER_COLS
from pos_app.core.storeserver.sync import PRODUCT_COLS, TAX_GROUP_COLS, WRITE_LOCK, shared_setting

_COLS = PRODUCT_COLS


def publish_products(conn: Any, products: Iterable[Product], por: str | None = None) -> int:
    """Upsert products; an unchanged row keeps its version (no churn for the terminals)."""
    n = 0
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLS[1:])
    diff = ", ".join(f"loja_produtos.{c}" for c in _COLS[1:])
    new = ", ".join(f"EXCLUDED.{c}" for c in _COLS[1:])
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
        for p in products:
            cur.execute(
                f"INSERT INTO loja_produtos ({', '.join(_COLS)}, ativo, alterado_por) "
                f"VALUES ({', '.join(['%s'] * len(_COLS))}, TRUE, %s) "
                f"ON CONFLICT (codigo) DO UPDATE SET {sets}, ativo = TRUE, alterado_por = EXCLUDED.alterado_por "
                f"WHERE ({diff}, loja_produtos.ativo) IS DISTINCT FROM ({new}, TRUE)",
                [
                    p.codigo,
                    p.ean or None,
                    p.descricao,
                    p.ncm,
                    p.cfop,
                    p.unidade,
                    p.preco,
                    p.icms_origem,
                    p.icms_situacao_tributaria,
                    p.tributos_percentual,
                    p.cest,
                    p.grupo_tributario,
                    por,
                ],
            )
            n += cur.rowcount
    return n


def publish_tax_groups(conn: Any, groups: Iterable[TaxGroup], por: str | None = None) -> int:
    """Upsert tax groups by name; an unchanged group keeps its version. Returns how many changed."""
    n = 0
    cols = TAX_GROUP_COLS[1:]
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols)
    diff = ", ".join(f"loja_grupos_tributarios.{c}" for c in cols)
    new = ", ".join(f"EXCLUDED.{c}" for c in cols)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
        for g in groups:
            values: list[str | None] = [g.nome.strip()]
            for c in cols:
                v = getattr(g, c)
                values.append(None if v is None else str(v))
            # Names are case-insensitive on the terminals: keep the store's spelling of an existing group.
            row = cur.execute(
                "SELECT nome FROM loja_grupos_tributarios WHERE lower(nome) = lower(%s)", [values[0]]
            ).fetchone()
            if row is not None:
                values[0] = row[0]
            cur.execute(
                f"INSERT INTO loja_grupos_tributarios ({', '.join(TAX_GROUP_COLS)}, alterado_por) "
                f"VALUES ({', '.join(['%s'] * len(TAX_GROUP_COLS))}, %s) "
                f"ON CONFLICT (nome) DO UPDATE SET {sets}, excluido = FALSE, alterado_por = EXCLUDED.alterado_por "
                f"WHERE ({diff}, loja_grupos_tributarios.excluido) IS DISTINCT FROM ({new}, FALSE)",
                [*values, por],
            )
            n += cur.rowcount
    return n


def set_price(conn: Any, codigo: str, preco: Decimal, por: str | None = None) -> int:
    """Change one product's price for every terminal; returns the new store version."""
    if preco < 0:
        raise ValidationError("preco", "Preço negativo.")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
        row = conn.execute(
            "UPDATE loja_produtos SET preco = %s, alterado_por = %s WHERE codigo = %s RETURNING versao",
            [preco, por, codigo],
        ).fetchone()
    if row is None:
        raise ValidationError(
            "codigo", f"Produto {codigo} não está no catálogo da loja (publique o catálogo antes)."
        )
    return int(row[0])


def delete_tax_group(conn: Any, nome: str, por: str | None = None) -> bool:
    """Remove a tax group from every terminal (a versioned ``excluido`` row). Refused while an active product
    of the store names it; returns False when the store has no such group (or it was already removed)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
        used = conn.execute(
            "SELECT count(*) FROM loja_produtos WHERE lower(grupo_tributario) = lower(%s) AND ativo",
            [nome.strip()],
        ).fetchone()
        if used and int(used[0]):
            known = conn.execute(
                "SELECT nome FROM loja_grupos_tributarios WHERE lower(nome) = lower(%s)", [nome.strip()]
            ).fetchone()
            raise ValidationError(
                "grupo_tributario",
                f"O grupo “{known[0] if known else nome.strip()}” é usado por {int(used[0])} produto(s) da loja: mude-os de grupo antes.",
            )
        row = conn.execute(
            "UPDATE loja_grupos_tributarios SET excluido = TRUE, alterado_por = %s "
            "WHERE lower(nome) = lower(%s) AND NOT excluido RETURNING versao",
            [por, nome.strip()],
        ).fetchone()
    return row is not None


def deactivate_product(conn: Any, codigo: str, por: str | None = None) -> int:
    """Take a product off every terminal's catalog (``ativo`` false; past sales keep it); returns the version."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
        row = conn.execute(
            "UPDATE loja_produtos SET ativo = FALSE, alterado_por = %s WHERE codigo = %s RETURNING versao",
            [por, codigo],
        ).fetchone()
    if row is None:
        raise ValidationError(
            "codigo", f"Produto {codigo} não está no catálogo da loja (publique o catálogo antes)."
        )
    return int(row[0])


def publish_user(
    conn: Any, codigo: str, nome: str, papel: str, pin_hash: str, ativo: bool = True, por: str | None = None
) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
        conn.execute(
            "INSERT INTO loja_usuarios (codigo, nome, papel, pin_hash, ativo, alterado_por) VALUES (%s,%s,%s,%s,%s,%s) "
            "ON CONFLICT (codigo) DO UPDATE SET nome = EXCLUDED.nome, papel = EXCLUDED.papel, "
            "pin_hash = EXCLUDED.pin_hash, ativo = EXCLUDED.ativo, alterado_por = EXCLUDED.alterado_por "
            # unchanged: no new version (terminals pulling it would send it back otherwise)
            "WHERE (loja_usuarios.nome, loja_usuarios.papel, loja_usuarios.pin_hash, loja_usuarios.ativo) "
            "IS DISTINCT FROM (EXCLUDED.nome, EXCLUDED.papel, EXCLUDED.pin_hash, EXCLUDED.ativo)",
            [codigo, nome, papel, pin_hash, ativo, por],
        )


def publish_customers(conn: Any, clientes: Iterable[Cliente], por: str | None = None) -> int:
    """Upsert customers by CNPJ for every terminal (a removed one comes back); an unchanged customer keeps its
    version. Only the NF-e recipient fields travel (``customers.CUSTOMER_COLS``). Returns how many changed."""
    cols = CUSTOMER_COLS[1:]
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols)
    diff = ", ".join(f"loja_clientes.{c}" for c in cols)
    new = ", ".join(f"EXCLUDED.{c}" for c in cols)
    n = 0
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
        for c in clientes:
            cur.execute(
                f"INSERT INTO loja_clientes ({', '.join(CUSTOMER_COLS)}, alterado_por) "
                f"VALUES ({', '.join(['%s'] * len(CUSTOMER_COLS))}, %s) "
                f"ON CONFLICT (documento) DO UPDATE SET {sets}, excluido = FALSE, "
                "alterado_por = EXCLUDED.alterado_por "
                f"WHERE ({diff}, loja_clientes.excluido) IS DISTINCT FROM ({new}, FALSE)",
                [*(getattr(c, k) for k in CUSTOMER_COLS), por],
            )
            n += cur.rowcount
    return n


def delete_customer(conn: Any, documento: str, por: str | None = None) -> bool:
    """Remove a customer from every terminal: a versioned ``excluido`` row that keeps only the CNPJ (the
    address, IE and e-mail are erased). False when the store does not have it (or it was already removed)."""
    erase = ", ".join(f"{c} = NULL" for c in CUSTOMER_COLS[1:])
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
        row = conn.execute(
            f"UPDATE loja_clientes SET excluido = TRUE, {erase}, alterado_por = %s "  # noqa: S608
            "WHERE documento = %s AND NOT excluido RETURNING versao",
            [por, documento],
        ).fetchone()
    return row is not None


def publish_setting(conn: Any, chave: str, valor: str | None, por: str | None = None) -> None:
    if not shared_setting(chave):
        raise ValidationError(
            "chave", f"{chave} é própria de cada terminal (ou secreta): não vale para a loja."
        )
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
        conn.execute(
            "INSERT INTO loja_config (chave, valor, alterado_por) VALUES (%s, %s, %s) "
            "ON CONFLICT (chave) DO UPDATE SET valor = EXCLUDED.valor, alterado_por = EXCLUDED.alterado_por",
            [chave, valor, por],
        )


def publish_terminal(conn: Any, store: Store, por: str | None = None) -> tuple[int, int, int]:
    """This terminal's tax groups, catalog and operators become the store's; returns (products changed,
    operators, tax groups changed). Groups go first: the products name them."""
    from pos_app.core.storeserver.local_edits import push_local_edits

    groups = publish_tax_groups(conn, store.tax_groups.all(), por=por)
    n = publish_products(conn, store.products.all(), por=por)
    users = store.database.query("SELECT codigo, nome, papel, pin_hash, ativo FROM users")
    for u in users:
        publish_user(conn, u["codigo"], u["nome"], u["papel"], u["pin_hash"], bool(u["ativo"]), por=por)
    push_local_edits(store, conn, por)  # groups removed here (after the products moved off them)
    return n, len(users), groups


def changes(conn: Any, since: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    with conn.transaction():
        rows = conn.execute(
            "SELECT versao, entidade, chave, em, por, dados FROM loja_alteracoes WHERE versao > %s "
            "ORDER BY versao DESC LIMIT %s",
            [since, limit],
        ).fetchall()
    return [
        {"versao": r[0], "entidade": r[1], "chave": r[2], "em": r[3].isoformat(), "por": r[4], "dados": r[5]}
        for r in rows
    ]
