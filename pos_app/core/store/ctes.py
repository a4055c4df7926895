"""Issued CT-e / CT-e OS (with their state history and numbering), their inutilizações, and the
received CT-e kept locally with the incremental-sync mark (the greatest ``versao`` seen per CNPJ).

Tables come from the migration ``backoffice_cte_rps`` (see ``migrations.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.document_status import CteStatus as C
from pos_app.core.store.db import SqliteDatabase, iso, utcnow

# Local states of an issued CT-e. Focus's own: processando_autorizacao, autorizado,
# erro_autorizacao, denegado, cancelado. Ours: pendente (stored, never sent), enviando (in flight),
# rejeitado (the API refused the data: 4xx), em_duvida (no answer: consult the ref).
CTE_STATES = frozenset(C)
CTE_RESENDABLE = ds.CTE_RESENDABLE


def _json(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


class CtesEmitidosRepo:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def transaction(self) -> Any:
        return self._db.transaction()

    # -- numbering -----------------------------------------------------------------------------
    def take_numero(self, tx: Database, modelo: int, serie: int) -> int:
        """Next CT-e number of (modelo, serie): never below one this database already used."""
        row = tx.execute(
            "SELECT next_numero FROM cte_counters WHERE modelo = ? AND serie = ?", [modelo, serie]
        ).fetchone()
        used = tx.execute(
            "SELECT max(numero) FROM ctes_emitidos WHERE modelo = ? AND serie = ?", [modelo, serie]
        ).fetchone()
        numero = max(int(row[0]) if row else 1, int(used[0] or 0) + 1)
        tx.execute(
            "INSERT INTO cte_counters (modelo, serie, next_numero) VALUES (?, ?, ?) "
            "ON CONFLICT (modelo, serie) DO UPDATE SET next_numero = excluded.next_numero",
            [modelo, serie, numero + 1],
        )
        return numero

    def numero_in_use(self, modelo: int, serie: int, numero: int) -> dict[str, Any] | None:
        return self._db.query_one(
            "SELECT * FROM ctes_emitidos WHERE modelo = ? AND serie = ? AND numero = ?",
            [modelo, serie, numero],
        )

    # -- documents -----------------------------------------------------------------------------
    def create(
        self,
        tx: Database,
        *,
        ref: str,
        modelo: int,
        ambiente: str,
        cnpj_emitente: str,
        serie: int,
        numero: int,
        payload: dict[str, Any],
        user_id: int | None = None,
        **fields: Any,
    ) -> int:
        now = iso(utcnow())
        cols = {
            "ref": ref, "modelo": modelo, "status": C.PENDENTE, "ambiente": ambiente,
            "cnpj_emitente": cnpj_emitente, "serie": serie, "numero": numero,
            "payload": json.dumps(payload, ensure_ascii=False), "created_by": user_id,
            "created_at": now, "updated_at": now, **fields,
        }  # fmt: skip
        names = ", ".join(cols)
        marks = ", ".join("?" for _ in cols)
        cur = tx.execute(f"INSERT INTO ctes_emitidos ({names}) VALUES ({marks})", list(cols.values()))
        doc_id = int(cur.lastrowid or 0)
        self._event(tx, doc_id, "emissao", None, C.PENDENTE, note="criado")
        return doc_id

    def transition(
        self,
        doc_id: int,
        to_status: str,
        *,
        action: str,
        http_status: int | None = None,
        response: Any = None,
        note: str | None = None,
        **fields: Any,
    ) -> None:
        """Change state (and fields) and record it with the raw API answer, in one transaction."""
        if to_status not in CTE_STATES:
            raise ValueError(f"estado de CT-e desconhecido: {to_status}")
        with self._db.transaction() as tx:
            row = tx.execute("SELECT status FROM ctes_emitidos WHERE id = ?", [doc_id]).fetchone()
            if row is None:
                raise KeyError(f"CT-e {doc_id} não existe")
            fields["status"] = to_status
            fields["updated_at"] = iso(utcnow())
            sets = ", ".join(f"{k} = ?" for k in fields)
            tx.execute(f"UPDATE ctes_emitidos SET {sets} WHERE id = ?", [*fields.values(), doc_id])
            self._event(
                tx, doc_id, action, row[0], to_status, http_status=http_status, response=response, note=note
            )

    def record(
        self,
        doc_id: int,
        *,
        action: str,
        http_status: int | None = None,
        response: Any = None,
        note: str | None = None,
        **fields: Any,
    ) -> None:
        """An event that does not change the state (CC-e, desacordo, refused cancellation...)."""
        with self._db.transaction() as tx:
            row = tx.execute("SELECT status FROM ctes_emitidos WHERE id = ?", [doc_id]).fetchone()
            if row is None:
                raise KeyError(f"CT-e {doc_id} não existe")
            if fields:
                fields["updated_at"] = iso(utcnow())
                sets = ", ".join(f"{k} = ?" for k in fields)
                tx.execute(f"UPDATE ctes_emitidos SET {sets} WHERE id = ?", [*fields.values(), doc_id])
            self._event(
                tx, doc_id, action, row[0], row[0], http_status=http_status, response=response, note=note
            )

    def _event(
        self,
        tx: Database,
        doc_id: int,
        action: str,
        from_status: str | None,
        to_status: str,
        *,
        http_status: int | None = None,
        response: Any = None,
        note: str | None = None,
    ) -> None:
        tx.execute(
            "INSERT INTO cte_events (cte_id, at, action, from_status, to_status, http_status, response, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [doc_id, iso(utcnow()), action, from_status, to_status, http_status, _json(response), note],
        )

    def get(self, doc_id: int) -> dict[str, Any] | None:
        return self._db.query_one("SELECT * FROM ctes_emitidos WHERE id = ?", [doc_id])

    def by_ref(self, ref: str) -> dict[str, Any] | None:
        return self._db.query_one("SELECT * FROM ctes_emitidos WHERE ref = ?", [ref])

    def find(
        self, *, statuses: Iterable[str] | None = None, modelo: int | None = None, limit: int = 500
    ) -> list[dict[str, Any]]:
        sql = "SELECT * FROM ctes_emitidos WHERE 1 = 1"
        params: list[Any] = []
        wanted = list(statuses or [])
        if wanted:
            sql += f" AND status IN ({', '.join('?' for _ in wanted)})"
            params += wanted
        if modelo is not None:
            sql += " AND modelo = ?"
            params.append(modelo)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return self._db.query(sql, params)

    def events(self, doc_id: int) -> list[dict[str, Any]]:
        return self._db.query("SELECT * FROM cte_events WHERE cte_id = ? ORDER BY id", [doc_id])

    # -- inutilizações ---------------------------------------------------------------------------
    def add_inutilizacao(
        self,
        *,
        cnpj: str,
        modelo: int,
        serie: int,
        numero_inicial: int,
        numero_final: int,
        justificativa: str,
        status: str,
        status_sefaz: str | None,
        mensagem_sefaz: str | None,
        caminho_xml: str | None,
        response: Any,
        user_id: int | None = None,
    ) -> int:
        with self._db.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO cte_inutilizacoes (at, cnpj, modelo, serie, numero_inicial, numero_final, justificativa,"
                " status, status_sefaz, mensagem_sefaz, caminho_xml, response, user_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [iso(utcnow()), cnpj, modelo, serie, numero_inicial, numero_final, justificativa, status,
                 status_sefaz, mensagem_sefaz, caminho_xml, _json(response), user_id],
            )  # fmt: skip
            return int(cur.lastrowid or 0)

    def inutilizacoes(self) -> list[dict[str, Any]]:
        return self._db.query("SELECT * FROM cte_inutilizacoes ORDER BY id")


class CtesRecebidosRepo:
    """Received CT-e of each CNPJ, and the greatest ``versao`` already stored (incremental sync)."""

    SUMMARY_FIELDS = (
        "versao", "situacao", "nome_emitente", "documento_emitente", "valor_total", "data_emissao", "tipo_cte",
        "digest_value", "carta_correcao", "data_carta_correcao", "data_cancelamento", "justificativa_cancelamento",
    )  # fmt: skip

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def max_versao(self, cnpj: str) -> int | None:
        row = self._db.query_one("SELECT max_versao FROM ctes_recebidos_sync WHERE cnpj = ?", [cnpj])
        return int(row["max_versao"]) if row else None

    def sync_state(self, cnpj: str) -> dict[str, Any] | None:
        return self._db.query_one("SELECT * FROM ctes_recebidos_sync WHERE cnpj = ?", [cnpj])

    def store_page(
        self, cnpj: str, items: list[dict[str, Any]], max_versao: int | None, total: int | None
    ) -> tuple[int, int]:
        """Upsert one page and advance the sync mark in the same transaction: (new, updated)."""
        now = iso(utcnow())
        new = updated = 0
        with self._db.transaction() as tx:
            for item in items:
                values = {k: item.get(k) for k in self.SUMMARY_FIELDS}
                exists = tx.execute(
                    "SELECT versao FROM ctes_recebidos WHERE cnpj = ? AND chave = ?", [cnpj, item["chave"]]
                ).fetchone()
                if exists is None:
                    cols = {"cnpj": cnpj, "chave": item["chave"], **values, "raw": _json(item.get("raw") or item),
                            "synced_at": now}  # fmt: skip
                    tx.execute(
                        f"INSERT INTO ctes_recebidos ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                        list(cols.values()),
                    )
                    new += 1
                elif int(exists[0]) < int(item["versao"]):
                    values.update(raw=_json(item.get("raw") or item), synced_at=now)
                    sets = ", ".join(f"{k} = ?" for k in values)
                    tx.execute(f"UPDATE ctes_recebidos SET {sets} WHERE cnpj = ? AND chave = ?",
                               [*values.values(), cnpj, item["chave"]])  # fmt: skip
                    updated += 1
            if max_versao is not None:
                tx.execute(
                    "INSERT INTO ctes_recebidos_sync (cnpj, max_versao, total, synced_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (cnpj) DO UPDATE SET max_versao = max(max_versao, excluded.max_versao), "
                    "total = excluded.total, synced_at = excluded.synced_at",
                    [cnpj, max_versao, total, now],
                )
        return new, updated

    def mark_synced(self, cnpj: str) -> None:
        with self._db.transaction() as tx:
            tx.execute("UPDATE ctes_recebidos_sync SET synced_at = ? WHERE cnpj = ?", [iso(utcnow()), cnpj])

    def get(self, cnpj: str, chave: str) -> dict[str, Any] | None:
        return self._db.query_one("SELECT * FROM ctes_recebidos WHERE cnpj = ? AND chave = ?", [cnpj, chave])

    def search(
        self,
        cnpj: str,
        *,
        situacao: str | None = None,
        texto: str | None = None,
        desde: str | None = None,
        ate: str | None = None,
        sem_desacordo: bool = False,
        com_desacordo: bool = False,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Filters: situação, text in the carrier's name/CNPJ or the chave, emission date range
        (``AAAA-MM-DD``, inclusive), with or without a registered desacordo. Newest first."""
        sql = "SELECT * FROM ctes_recebidos WHERE cnpj = ?"
        params: list[Any] = [cnpj]
        if situacao:
            sql += " AND situacao = ?"
            params.append(situacao)
        if texto:
            like = f"%{texto.strip()}%"
            sql += " AND (nome_emitente LIKE ? OR documento_emitente LIKE ? OR chave LIKE ?)"
            params += [like, like, like]
        if desde:
            sql += " AND substr(data_emissao, 1, 10) >= ?"
            params.append(desde)
        if ate:
            sql += " AND substr(data_emissao, 1, 10) <= ?"
            params.append(ate)
        if sem_desacordo:
            sql += " AND coalesce(desacordo_status, '') != 'evento_registrado'"
        if com_desacordo:
            sql += " AND desacordo_status = 'evento_registrado'"
        sql += " ORDER BY data_emissao DESC, versao DESC LIMIT ?"
        params.append(limit)
        return self._db.query(sql, params)

    def count(self, cnpj: str) -> int:
        row = self._db.query_one("SELECT count(*) AS n FROM ctes_recebidos WHERE cnpj = ?", [cnpj])
        return int(row["n"]) if row else 0

    def record_desacordo(
        self,
        cnpj: str,
        chave: str,
        *,
        status: str,
        observacoes: str,
        protocolo: str | None,
        mensagem: str | None,
        user_id: int | None = None,
        response: Any = None,
    ) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE ctes_recebidos SET desacordo_status = ?, desacordo_observacoes = ?, desacordo_protocolo = ?,"
                " desacordo_mensagem = ?, desacordo_em = ?, desacordo_user_id = ?, desacordo_resposta = ?"
                " WHERE cnpj = ? AND chave = ?",
                [
                    status,
                    observacoes,
                    protocolo,
                    mensagem,
                    iso(utcnow()),
                    user_id,
                    _json(response),
                    cnpj,
                    chave,
                ],
            )
