"""Terminal <-> store database synchronisation, in a background thread that never blocks a sale.

Upstream: ``store_outbox`` rows (written by SQLite triggers in the same transaction as the sale,
the document, the cash movement or the audit line) are pushed as snapshots, idempotent by
(terminal, table, local id) with ``ON CONFLICT DO UPDATE``; the outbox rows are deleted only after
PostgreSQL committed. A crash in between re-sends the same snapshot: nothing lost, nothing twice.

Downstream: tax groups, products, users, store settings and customers carry a store-wide ``versao`` (one sequence, writers
serialised by an advisory lock); the terminal pulls ``versao > last`` and applies it and the new
``last`` in one SQLite transaction, so a terminal that was offline catches up when it reconnects.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pos_app.core.config import KEYS
from pos_app.core.domain.tax_group import TAX_FIELDS
from pos_app.core.store import Store
from pos_app.core.store.migrations import LOCAL_EDIT_PREFIX, UPSTREAM_FLAG, store_outbox_backfill_sql
from pos_app.core.store.packed import unpack_text
from pos_app.core.storeserver import customers, pg, series

log = logging.getLogger("pos_app.loja")

HOUSEKEEPING_EVERY = 10  # passes between "seen" updates / series re-reads when nothing moved
WRITE_LOCK = 716017  # advisory lock: writers exclusive, pullers shared
# Settings a store edits once for every terminal (never the terminal's own identity, series or secrets).
LOCAL_ONLY_PREFIXES = (
    "terminal.",
    "contingencia.serie",
    "nfe.serie_contingencia",  # each terminal numbers its NF-e contingency series itself
    "loja.",
    "impressora.",
    "focus.token",
    "certificado.",
)
PRODUCT_COLS = (
    "codigo",
    "ean",
    "descricao",
    "ncm",
    "cfop",
    "unidade",
    "preco",
    "icms_origem",
    "icms_situacao_tributaria",
    "tributos_percentual",
    "cest",
    "grupo_tributario",
)
_PRODUCT_COLS = (*PRODUCT_COLS, "ativo")
# The SQLite ``tax_groups`` columns (minus id/updated_at); the store keeps them as text (exact decimals).
TAX_GROUP_COLS = ("nome", *TAX_FIELDS)


def shared_setting(key: str) -> bool:
    spec = KEYS.get(key)
    return spec is not None and not spec.secret and not key.startswith(LOCAL_ONLY_PREFIXES)


def _state_get(store: Store, key: str, default: str = "") -> str:
    row = store.database.query_one("SELECT value FROM store_sync_state WHERE key = ?", [key])
    return str(row["value"]) if row else default


def _state_set(tx: Any, key: str, value: str) -> None:
    tx.execute(
        "INSERT INTO store_sync_state (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def enable_upstream(store: Store) -> bool:
    """Start recording this terminal's changes for the store database; the first time, queue every
    row already on the terminal (one transaction, so nothing written meanwhile is missed or doubled).
    Returns True when it was the first time."""
    if _state_get(store, UPSTREAM_FLAG):
        return False
    with store.transaction() as tx:
        if tx.execute("SELECT 1 FROM store_sync_state WHERE key = ?", [UPSTREAM_FLAG]).fetchone():
            return False
        for sql in store_outbox_backfill_sql():
            tx.execute(sql)
        _state_set(tx, UPSTREAM_FLAG, "1")
    return True


def pending_count(store: Store) -> int:
    row = store.database.query_one("SELECT count(*) AS n FROM store_outbox")
    return int(row["n"]) if row else 0


def _local_edits_count(store: Store) -> int:
    row = store.database.query_one(
        "SELECT count(*) AS n FROM store_sync_state WHERE key LIKE ?", [LOCAL_EDIT_PREFIX + "%"]
    )
    return int(row["n"]) if row else 0


# ---------------------------------------------------------------------------------------------
# Upstream

_PACKED_COLUMNS = frozenset({"payload", "response"})  # store.packed: zlib BLOBs of long JSON texts


def _snapshot(store: Store, tabela: str, local_id: int) -> dict[str, Any] | None:
    db = store.database
    row = db.query_one(f"SELECT * FROM {tabela} WHERE id = ?", [local_id])  # noqa: S608 - table from our list
    if row is None:
        return None
    if tabela == "sales":
        row["items"] = db.query("SELECT * FROM sale_items WHERE sale_id = ? ORDER BY numero_item", [local_id])
        row["payments"] = db.query("SELECT * FROM payments WHERE sale_id = ? ORDER BY seq", [local_id])
        user = db.query_one("SELECT codigo, nome FROM users WHERE id = ?", [row.get("operador_id")])
        row["operador_codigo"] = user["codigo"] if user else None
        row["operador_nome"] = user["nome"] if user else None
    elif tabela == "cash_sessions":
        row["movements"] = db.query(
            "SELECT * FROM cash_movements WHERE session_id = ? ORDER BY id", [local_id]
        )
        for who in ("opened_by", "closed_by"):
            user = db.query_one("SELECT codigo FROM users WHERE id = ?", [row.get(who)])
            row[f"{who}_codigo"] = user["codigo"] if user else None
    for key, value in list(row.items()):
        if isinstance(value, bytes):
            # The request and the API answers are stored packed (issue 20): sent as their text, like
            # before the packing; PDFs/XML blobs stay on the terminal.
            row[key] = unpack_text(value) if key in _PACKED_COLUMNS else None
    return row


def push(
    store: Store,
    conn: Any,
    terminal_id: str,
    *,
    limit: int = 500,
    before_commit: Callable[[], None] | None = None,
    after_commit: Callable[[], None] | None = None,
) -> int:
    """Send up to ``limit`` outbox rows; returns how many were acknowledged."""
    rows = store.database.query("SELECT id, tabela, local_id FROM store_outbox ORDER BY id LIMIT ?", [limit])
    if not rows:
        return 0
    latest: dict[tuple[str, int], dict[str, Any] | None] = {}
    for r in rows:
        key = (r["tabela"], int(r["local_id"]))
        if key not in latest:
            latest[key] = _snapshot(store, *key)
    payload = [
        (terminal_id, tabela, local_id, json.dumps(data, default=str))
        for (tabela, local_id), data in latest.items()
        if data is not None
    ]
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO loja_registros (terminal_id, tabela, local_id, dados) VALUES (%s, %s, %s, %s::jsonb) "
            "ON CONFLICT (terminal_id, tabela, local_id) DO UPDATE SET dados = EXCLUDED.dados, "
            "atualizado_em = now() WHERE loja_registros.dados IS DISTINCT FROM EXCLUDED.dados",
            payload,
        )
        if before_commit is not None:
            before_commit()  # test hook: a crash here leaves nothing in PostgreSQL and the outbox intact
    if after_commit is not None:
        after_commit()  # test hook: a crash here must re-send, not duplicate
    ids = [int(r["id"]) for r in rows]
    with store.transaction() as tx:
        tx.execute(f"DELETE FROM store_outbox WHERE id IN ({','.join('?' * len(ids))})", ids)
    return len(ids)


# ---------------------------------------------------------------------------------------------
# Downstream


def pull(store: Store, conn: Any, terminal_id: str, *, limit: int = 2000) -> int:
    """Apply the store's changes newer than this terminal's last version; returns how many."""
    last = int(_state_get(store, "versao", "0") or 0)
    with conn.transaction():  # nothing was ever versioned after ``last``: no need to look
        row = conn.execute(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM loja_versao"
        ).fetchone()
    if row is not None and int(row[0]) <= last:
        return 0
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", [WRITE_LOCK])
        cols = ", ".join(_PRODUCT_COLS)
        products = conn.execute(
            f"SELECT {cols}, versao FROM loja_produtos WHERE versao > %s ORDER BY versao LIMIT %s",
            [last, limit],
        ).fetchall()
        users = conn.execute(
            "SELECT codigo, nome, papel, pin_hash, ativo, versao FROM loja_usuarios WHERE versao > %s "
            "ORDER BY versao LIMIT %s",
            [last, limit],
        ).fetchall()
        settings = conn.execute(
            "SELECT chave, valor, versao FROM loja_config WHERE versao > %s ORDER BY versao LIMIT %s",
            [last, limit],
        ).fetchall()
        groups = conn.execute(
            f"SELECT {', '.join(TAX_GROUP_COLS)}, excluido, versao FROM loja_grupos_tributarios WHERE versao > %s "  # noqa: S608
            "ORDER BY versao LIMIT %s",
            [last, limit],
        ).fetchall()
        clientes = customers.fetch(conn, last, limit)
        # Under the shared lock every version up to the sequence is committed (or was an upsert that
        # changed nothing): with no rows, this terminal is up to date with it.
        seq = conn.execute(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM loja_versao"
        ).fetchone()
    tables = (groups, products, users, settings, clientes)
    if not any(tables):
        if seq is not None and int(seq[0]) > last:
            with store.transaction() as tx:
                _state_set(tx, "versao", str(int(seq[0])))
        return 0
    # With a LIMIT, stop at the lowest of the per-table highs so nothing in between is skipped.
    highs = [rows[-1][-1] for rows in tables if len(rows) == limit]
    top = min(highs) if highs else max(rows[-1][-1] for rows in tables if rows)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    n = 0
    with store.transaction() as tx:
        # Groups first: the products below (and the ones already here) name them.
        changed_groups: list[str] = []
        for g in groups:
            if g[-1] > top:
                continue
            if g[-2]:  # removed for the store: products that still name it keep their own CST columns
                tx.execute("UPDATE products SET grupo_tributario = NULL WHERE grupo_tributario = ?", [g[0]])
                tx.execute("DELETE FROM tax_groups WHERE nome = ?", [g[0]])
                tx.execute(
                    "DELETE FROM store_sync_state WHERE key = ?",
                    [f"{LOCAL_EDIT_PREFIX}grupo_excluido:{g[0].lower()}"],
                )  # the trigger's mark: nothing to send back
                n += 1
                continue
            gsets = ", ".join(f"{c} = excluded.{c}" for c in TAX_GROUP_COLS[1:])
            tx.execute(
                f"INSERT INTO tax_groups ({', '.join(TAX_GROUP_COLS)}, updated_at) "
                f"VALUES ({', '.join('?' * len(TAX_GROUP_COLS))}, ?) "
                f"ON CONFLICT(nome) DO UPDATE SET {gsets}, updated_at = excluded.updated_at",
                [*g[:-2], now],
            )
            changed_groups.append(g[0])
            n += 1
        for p in products:
            if p[-1] > top:
                continue
            values = [
                str(v) if k in ("preco", "tributos_percentual") else v
                for k, v in zip(_PRODUCT_COLS, p, strict=False)
            ]
            values[-1] = 1 if values[-1] else 0
            values[1] = values[1] or None
            # An EAN moved to this product: free it on the old one first (the unique index).
            if values[1]:
                tx.execute(
                    "UPDATE products SET ean = NULL WHERE ean = ? AND codigo <> ?", [values[1], values[0]]
                )
            sets = ", ".join(f"{c} = excluded.{c}" for c in _PRODUCT_COLS[1:])
            tx.execute(
                f"INSERT INTO products ({', '.join(_PRODUCT_COLS)}) VALUES ({', '.join('?' * len(_PRODUCT_COLS))}) "
                f"ON CONFLICT(codigo) DO UPDATE SET {sets}",
                values,
            )
            n += 1
        if changed_groups:
            # A product's own origin/CST columns follow its group (receipts and reports read them).
            marks = ", ".join("?" * len(changed_groups))
            tx.execute(
                "UPDATE products SET icms_origem = (SELECT g.icms_origem FROM tax_groups g WHERE g.nome = "
                "products.grupo_tributario), icms_situacao_tributaria = (SELECT g.icms_situacao_tributaria "
                f"FROM tax_groups g WHERE g.nome = products.grupo_tributario) WHERE grupo_tributario IN ({marks})",
                changed_groups,
            )
        for u in users:
            if u[-1] > top:
                continue
            tx.execute(
                "INSERT INTO users (codigo, nome, papel, pin_hash, ativo, created_at) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(codigo) DO UPDATE SET nome = excluded.nome, papel = excluded.papel, "
                "pin_hash = excluded.pin_hash, ativo = excluded.ativo",
                [u[0], u[1], u[2], u[3], 1 if u[4] else 0, now],
            )
            tx.execute("DELETE FROM store_sync_state WHERE key = ?", [f"{LOCAL_EDIT_PREFIX}usuario:{u[0]}"])
            n += 1
        for key, value, versao in settings:
            if versao > top or not shared_setting(key):
                continue
            if value is None:
                tx.execute("DELETE FROM settings WHERE key = ?", [key])
            else:
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [key, value],
                )
            n += 1
        n += customers.apply(tx, clientes, top, now)
        _state_set(tx, "versao", str(top))
    store.settings._cache = None  # same connection: data_version does not move
    return n


# ---------------------------------------------------------------------------------------------
# The background loop


class StoreSync:
    """Keeps one terminal in sync with the store database. ``status()`` is what the UI/CLI show."""

    def __init__(
        self,
        store: Store,
        terminal_id: str,
        connector: Callable[[], Any],
        *,
        interval: float = 1.0,
        on_series: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.store = store
        self.terminal_id = terminal_id
        self._connector = connector
        self.interval = interval
        self._on_series = on_series
        self._conn: Any = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.online: bool | None = None
        self.last_ok: float | None = None
        self.last_error: str | None = None
        self.registered = False
        self.refused: list[str] = []  # local edits the store refused (kept, sent again later)
        self._passes = 0
        self.backoff: Any = None  # local_edits.RefusedBackoff (created by the first pass: import order)
        enable_upstream(store)

    # one pass, usable without the thread (CLI ``loja sincronizar``)
    def run_once(self) -> dict[str, int]:
        from pos_app.core.storeserver.local_edits import (  # imports admin, which imports us
            RefusedBackoff,
            push_local_edits,
        )

        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = self._connector()
                if not self.registered:
                    pg.migrate(self._conn)
                    info = series.register(
                        self._conn,
                        self.terminal_id,
                        avoid=frozenset({int(self.store.settings.get("nfe.serie") or 1)}),
                    )
                    series.apply_locally(self.store, info)
                    if self._on_series is not None:
                        self._on_series(info)
                    self.registered = True
                pushed = 0
                while True:
                    n = push(self.store, self._conn, self.terminal_id)
                    pushed += n
                    if n < 500:
                        break
                if self.backoff is None:
                    self.backoff = RefusedBackoff()
                self.backoff.new_pass()
                edits, self.refused = push_local_edits(
                    self.store, self._conn, f"{self.terminal_id}/terminal", self.backoff
                )
                pushed += edits
                pulled = pull(self.store, self._conn, self.terminal_id)
                self._passes += 1
                if pushed or pulled or self._passes % HOUSEKEEPING_EVERY == 1:  # an idle pass costs one query
                    series.refresh_others(self.store, self._conn, self.terminal_id)  # a terminal added later
                    with self._conn.transaction():
                        self._conn.execute(
                            "UPDATE loja_terminais SET visto_em = now(), versao_aplicada = %s WHERE terminal_id = %s",
                            [int(_state_get(self.store, "versao", "0") or 0), self.terminal_id],
                        )
            except Exception as exc:
                self._drop()
                was = self.online
                self.online = False
                self.last_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                if was is not False:
                    log.warning("banco da loja fora do ar: %s", self.last_error)
                raise
            if self.online is not True:
                log.info("banco da loja conectado")
            self.online = True
            self.last_ok = time.time()
            self.last_error = None
            return {"enviados": pushed, "recebidos": pulled}

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a broken link / reported in the status
                self._conn.close()
        self._conn = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="loja-sync", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        delay = self.interval
        while not self._stop.is_set():
            try:
                self.run_once()
                delay = self.interval
            except Exception:  # noqa: BLE001 - offline: keep selling, retry later
                delay = min(max(delay * 2, 2.0), 15.0)
            self._wake.wait(delay)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self._conn is not None and not self._conn.closed and self.online:
            # Already connected (no connect wait): send what this process wrote before it ends.
            with contextlib.suppress(Exception):
                self.run_once()
        with self._lock:
            self._drop()

    def status(self) -> dict[str, Any]:
        return {
            "configurado": True,
            "online": bool(self.online),
            "ultimo_sucesso": (
                datetime.fromtimestamp(self.last_ok, UTC).isoformat(timespec="seconds")
                if self.last_ok
                else None
            ),
            "erro": self.last_error,
            "pendentes_envio": pending_count(self.store),
            "edicoes_pendentes": _local_edits_count(self.store),  # customers, operators, removals to send
            "versao": int(_state_get(self.store, "versao", "0") or 0),
            "serie_contingencia": self.store.settings.get("contingencia.serie"),
            "serie_contingencia_nfe": self.store.settings.get("nfe.serie_contingencia"),
            "serie_online": self.store.settings.get("loja.serie_online"),
            "recusados": list(self.refused),
        }
