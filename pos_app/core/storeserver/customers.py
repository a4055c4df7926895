"""Customers (``clientes``, the CNPJ buyers of NF-e model 55 sales) shared by every terminal of a store.

A customer saved, edited or removed on a terminal that joined a store leaves a mark
``enviar:cliente:<cnpj>`` (SQLite migration ``store3_0001_clientes_local_edits``); the sync thread sends the row
(``admin.publish_customers``) or, when it is gone, its removal (``admin.delete_customer``): the store keeps a
versioned ``excluido`` row with the personal fields erased. ``sync.pull`` applies them on every terminal.

Conflicts: the last edit to reach the store wins (the store's version order). A terminal that edited a customer
offline sends its edit when it reconnects, before pulling, so that edit becomes the newest; while a local edit is
still waiting to be sent, ``apply`` leaves the local row alone (the edit goes up on the next pass and comes back
as the newest version).

Only the fields the NF-e's recipient needs travel (no phone, no local timestamps); never a secret.
"""

from __future__ import annotations

from typing import Any

from pos_app.core.store.migrations import LOCAL_EDIT_PREFIX

CUSTOMER = "cliente"
# The SQLite ``clientes`` columns that go to the store (``telefone`` stays on the terminal: the NF-e does not use it).
CUSTOMER_COLS = (
    "documento",
    "nome",
    "indicador_ie",
    "inscricao_estadual",
    "logradouro",
    "numero",
    "complemento",
    "bairro",
    "codigo_municipio",
    "municipio",
    "uf",
    "cep",
    "email",
)


def mark_key(documento: str) -> str:
    return f"{LOCAL_EDIT_PREFIX}{CUSTOMER}:{documento}"


def publish_summary(total: int, changed: int) -> str:
    """What the manager reads after publishing this terminal's customer list."""
    if total == 0:
        return "Este caixa não tem clientes cadastrados: nada a publicar."
    clientes = "1 cliente" if total == 1 else f"{total} clientes"
    novos = "1 novo ou alterado" if changed == 1 else f"{changed} novos ou alterados"
    return f"{clientes} deste caixa na loja, para todos os caixas ({novos})."


def fetch(conn: Any, last: int, limit: int) -> list[tuple[Any, ...]]:
    """The store's customer rows newer than ``last`` (columns, ``excluido``, ``versao``); inside a transaction."""
    rows: list[tuple[Any, ...]] = conn.execute(
        f"SELECT {', '.join(CUSTOMER_COLS)}, excluido, versao FROM loja_clientes WHERE versao > %s "  # noqa: S608
        "ORDER BY versao LIMIT %s",
        [last, limit],
    ).fetchall()
    return rows


def apply(tx: Any, rows: list[tuple[Any, ...]], top: int, now: str) -> int:
    """Apply the pulled rows up to version ``top`` in the caller's SQLite transaction; returns how many."""
    n = 0
    cols = ", ".join(CUSTOMER_COLS)
    sets = ", ".join(f"{c} = excluded.{c}" for c in CUSTOMER_COLS[1:])
    for row in rows:
        if row[-1] > top:
            continue
        documento = row[0]
        key = mark_key(documento)
        if tx.execute("SELECT 1 FROM store_sync_state WHERE key = ?", [key]).fetchone():
            continue  # edited here and not sent yet: it goes up next and becomes the newest version
        if row[-2]:
            tx.execute("DELETE FROM clientes WHERE documento = ?", [documento])
        else:
            tx.execute(
                f"INSERT INTO clientes ({cols}, created_at, updated_at) "
                f"VALUES ({', '.join('?' * len(CUSTOMER_COLS))}, ?, ?) "
                f"ON CONFLICT(documento) DO UPDATE SET {sets}, updated_at = excluded.updated_at",
                [*row[: len(CUSTOMER_COLS)], now, now],
            )
        tx.execute(
            "DELETE FROM store_sync_state WHERE key = ?", [key]
        )  # the triggers' mark: not an edit here
        n += 1
    return n
