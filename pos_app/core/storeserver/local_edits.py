"""Edits made on one terminal that reach the store database by themselves (no ``pos-app loja publicar``):
a tax group removed on the manager window, an operator added, blocked, renamed or given a new PIN, and a
customer (``clientes``) saved, edited or removed (``enviar:cliente:<cnpj>``, see ``customers``).

SQLite triggers (migration ``store2_0001_local_edits``) leave a mark in ``store_sync_state``
(``enviar:grupo_excluido:<nome>``, ``enviar:usuario:<codigo>``) in the same transaction as the edit; the sync
thread sends each mark and deletes it only if no newer edit replaced it meanwhile (the value changes at
every edit). A removal the store refuses (an active product of the store still names the group) stays
marked and is reported in the status until the products move to another group; it is sent again only when the
store's version moved or every ``RETRY_REFUSED_EVERY`` passes (``RefusedBackoff``).
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


RETRY_REFUSED_EVERY = 30  # sync passes between retries of a refused edit while the store did not change


def store_version(conn: Any) -> int:
    with conn.transaction():
        row = conn.execute(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM loja_versao"
        ).fetchone()
    return int(row[0]) if row else 0


class RefusedBackoff:
    """A removal the store refused is retried only when the store's version moved (the products that name the
    group changed) or every ``every`` passes, not on every pass; its message keeps being reported."""

    def __init__(self, every: int = RETRY_REFUSED_EVERY) -> None:
        self.every = every
        self.passes = 0
        self.attempts: dict[str, int] = {}  # per mark key: how many times it was sent and refused
        self._last: dict[
            str, tuple[str, int, int, str]
        ] = {}  # key -> (mark value, store version, pass, message)

    def new_pass(self) -> None:
        self.passes += 1

    def waiting(self, key: str, value: str, version: int) -> str | None:
        """The refusal message when this mark is to be skipped this pass, None when it is to be sent."""
        last = self._last.get(key)
        if last is None or last[0] != value or last[1] != version or self.passes - last[2] >= self.every:
            return None
        return last[3]

    def refused(self, key: str, value: str, version: int, message: str) -> None:
        self._last[key] = (value, version, self.passes, message)
        self.attempts[key] = self.attempts.get(key, 0) + 1

    def forget(self, key: str) -> None:
        self._last.pop(key, None)


def push_local_edits(
    store: Store, conn: Any, por: str | None, backoff: RefusedBackoff | None = None
) -> tuple[int, list[str]]:
    """Send the marked edits; returns (how many reached the store, messages of the refused ones)."""
    sent, refused = 0, []
    version: int | None = None
    for mark in pending(store):
        kind, _, key = str(mark["key"])[len(LOCAL_EDIT_PREFIX) :].partition(":")
        if kind == GROUP_DELETED:
            if store.tax_groups.by_name(key) is None:  # still gone here (names are case-insensitive)
                if backoff is not None:
                    version = store_version(conn) if version is None else version
                    waiting = backoff.waiting(mark["key"], mark["value"], version)
                    if waiting is not None:
                        refused.append(waiting)
                        continue
                try:
                    admin.delete_tax_group(conn, key, por=por)
                except ValidationError as exc:
                    refused.append(str(exc))
                    if backoff is not None and version is not None:
                        backoff.refused(mark["key"], mark["value"], version, str(exc))
                    continue
                if backoff is not None:
                    backoff.forget(mark["key"])
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
