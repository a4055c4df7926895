"""Edits made on one terminal that reach the store database by themselves (no ``pos-app loja publicar``):
a tax group removed on the manager window, an operator added, blocked, renamed or given a new PIN, and a
customer (``clientes``) saved, edited or removed (``enviar:cliente:<cnpj>``, see ``customers``).

SQLite triggers (migration ``store2_0001_local_edits``) leave a mark in ``store_sync_state``
(``enviar:grupo_excluido:<nome>``, ``enviar:usuario:<codigo>``) in the same transaction as the edit; the sync
thread sends each mark and deletes it only if no newer edit replaced it meanwhile (the value changes at
every edit). A removal the store refuses (an active product of the store still names the group) stays
marked and is reported in the status until the products move to another group.
"""

from __future__ import annotations

from typing import Any

from pos_app.core.domain.errors import ValidationError
from pos_app.core.store import Store
from pos_app.core.store.migrations import LOCAL_EDIT_PREFIX
from pos_app.core.storeserver import admin
from pos_app.core.storeserver.customers import CUSTOMER

GROUP_DELETED = "grupo_excluido"
USER = "usuario"


def pending(store: Store) -> list[dict[str, Any]]:
    return store.database.query(
        "SELECT key, value FROM store_sync_state WHERE key LIKE ? ORDER BY key", [LOCAL_EDIT_PREFIX + "%"]
    )


def push_local_edits(store: Store, conn: Any, por: str | None) -> tuple[int, list[str]]:
    """Send the marked edits; returns (how many reached the store, messages of the refused ones)."""
    sent, refused = 0, []
    for mark in pending(store):
        kind, _, key = str(mark["key"])[len(LOCAL_EDIT_PREFIX) :].partition(":")
        if kind == GROUP_DELETED:
            if store.tax_groups.by_name(key) is None:  # still gone here (names are case-insensitive)
                try:
                    admin.delete_tax_group(conn, key, por=por)
                except ValidationError as exc:
                    refused.append(str(exc))
                    continue
        elif kind == USER:
            u = store.database.query_one(
                "SELECT codigo, nome, papel, pin_hash, ativo FROM users WHERE codigo = ?", [key]
            )
            if u is not None:
                admin.publish_user(
                    conn, u["codigo"], u["nome"], u["papel"], u["pin_hash"], bool(u["ativo"]), por=por
                )
        elif kind == CUSTOMER:
            cliente = store.clientes.get(key)
            if cliente is not None:
                admin.publish_customers(conn, [cliente], por=por)
            else:  # removed here
                admin.delete_customer(conn, key, por=por)
        with store.transaction() as tx:
            tx.execute(
                "DELETE FROM store_sync_state WHERE key = ? AND value = ?", [mark["key"], mark["value"]]
            )
        sent += 1
    return sent, refused
