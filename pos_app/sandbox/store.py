"""Sandbox state in SQLite: a file when ``state_path`` is given (demo mode survives restarts),
``:memory:`` otherwise. One connection guarded by one lock; every operation of the engine runs in
a single transaction (:meth:`SandboxStore.transaction`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    token TEXT NOT NULL,
    ref TEXT NOT NULL,
    cnpj TEXT NOT NULL,
    status TEXT NOT NULL,
    serie INTEGER,
    numero INTEGER,
    chave TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (token, ref)
);
CREATE INDEX IF NOT EXISTS notes_status ON notes (status);
CREATE TABLE IF NOT EXISTS numbers (
    cnpj TEXT NOT NULL,
    serie INTEGER NOT NULL,
    numero INTEGER NOT NULL,
    chave TEXT NOT NULL,
    situacao TEXT NOT NULL,
    PRIMARY KEY (cnpj, serie, numero)
);
CREATE TABLE IF NOT EXISTS counters (
    cnpj TEXT NOT NULL,
    serie INTEGER NOT NULL,
    proximo INTEGER NOT NULL,
    PRIMARY KEY (cnpj, serie)
);
CREATE TABLE IF NOT EXISTS released (
    cnpj TEXT NOT NULL,
    serie INTEGER NOT NULL,
    numero INTEGER NOT NULL,
    PRIMARY KEY (cnpj, serie, numero)
);
CREATE TABLE IF NOT EXISTS inutilizacoes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token TEXT NOT NULL,
    cnpj TEXT NOT NULL,
    serie INTEGER NOT NULL,
    numero_inicial INTEGER NOT NULL,
    numero_final INTEGER NOT NULL,
    status TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS emails (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token TEXT NOT NULL,
    ref TEXT NOT NULL,
    email TEXT NOT NULL,
    enviado_em TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass
class NoteRecord:
    """Everything the sandbox remembers about one ``ref``."""

    token: str
    ref: str
    cnpj: str
    status: str  # processando_autorizacao | autorizado | erro_autorizacao | cancelado
    status_sefaz: str | None = None
    mensagem_sefaz: str | None = None
    serie: int | None = None
    numero: int | None = None
    chave: str | None = None
    cnf: str | None = None
    tp_emis: int = 1
    dh_emi: str | None = None
    dh_cont: str | None = None
    payload: dict[str, Any] | None = None
    protocolo: str | None = None
    data_autorizacao: str | None = None  # sandbox clock, ISO (UTC)
    dh_recbto: str | None = None  # as in the protocol (local time)
    digest: str | None = None
    qrcode_url: str | None = None
    url_consulta: str | None = None
    contingencia_offline: bool = False
    contingencia_efetivada: bool = False
    tentativa_anterior: dict[str, Any] | None = None
    original_attempt: dict[str, Any] | None = None  # internal: the attempt Focus replaced
    cancelamento: dict[str, Any] | None = None
    econf: list[dict[str, Any]] | None = None  # ECONF events, in sending order (sandbox/econf.py)
    econf_seq: int = 0  # nSeqEvento of the note's ECONF events and their cancellations
    attempt_id: str | None = None
    created_at: str = ""
    updated_at: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> NoteRecord:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class EmailRecord:
    token: str
    ref: str
    email: str
    enviado_em: str


class SandboxStore:
    def __init__(self, path: str | None) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path or ":memory:", check_same_thread=False, isolation_level=None)
        if self.path:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        conn.executescript(_SCHEMA)
        return conn

    @property
    def persistent(self) -> bool:
        return bool(self.path)

    def close(self) -> None:
        """Release the state file (a file-backed store can be reopened with :meth:`reopen`)."""
        with self._lock:
            self._conn.close()

    def reopen(self) -> None:
        with self._lock:
            try:
                self._conn.execute("SELECT 1")
            except sqlite3.ProgrammingError:  # closed
                self._conn = self._connect()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the store lock and run the block in one SQLite transaction (re-entrant)."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._conn.execute("COMMIT")

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            row = self._conn.execute(sql, params).fetchone()
            return None if row is None else tuple(row)

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with self._lock:
            self._conn.execute(sql, params)

    # -- notes ---------------------------------------------------------------------------------

    def get_note(self, token: str, ref: str) -> NoteRecord | None:
        row = self._one("SELECT data FROM notes WHERE token = ? AND ref = ?", (token, ref))
        return None if row is None else NoteRecord.from_json(row[0])

    def put_note(self, note: NoteRecord) -> None:
        self._run(
            "INSERT OR REPLACE INTO notes (token, ref, cnpj, status, serie, numero, chave, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                note.token,
                note.ref,
                note.cnpj,
                note.status,
                note.serie,
                note.numero,
                note.chave,
                note.to_json(),
            ),
        )

    def delete_note(self, token: str, ref: str) -> None:
        self._run("DELETE FROM notes WHERE token = ? AND ref = ?", (token, ref))

    def notes(self, status: str | None = None) -> list[NoteRecord]:
        if status is None:
            rows = self._all("SELECT data FROM notes ORDER BY rowid")
        else:
            rows = self._all("SELECT data FROM notes WHERE status = ? ORDER BY rowid", (status,))
        return [NoteRecord.from_json(r[0]) for r in rows]

    # -- numbering -----------------------------------------------------------------------------

    def number_use(self, cnpj: str, serie: int, numero: int) -> tuple[str, str] | None:
        """(chave, situacao) of a number already used at "SEFAZ", if any."""
        row = self._one(
            "SELECT chave, situacao FROM numbers WHERE cnpj = ? AND serie = ? AND numero = ?",
            (cnpj, serie, numero),
        )
        return None if row is None else (str(row[0]), str(row[1]))

    def mark_number(self, cnpj: str, serie: int, numero: int, chave: str, situacao: str) -> None:
        self._run(
            "INSERT OR REPLACE INTO numbers (cnpj, serie, numero, chave, situacao) VALUES (?, ?, ?, ?, ?)",
            (cnpj, serie, numero, chave, situacao),
        )
        self._run("DELETE FROM released WHERE cnpj = ? AND serie = ? AND numero = ?", (cnpj, serie, numero))
        counter = self.counter(cnpj, serie)
        if counter is not None and numero >= counter:
            self.set_counter(cnpj, serie, numero + 1)

    def release_number(self, cnpj: str, serie: int, numero: int) -> None:
        """The number was never authorized: forget it and let the next emission reuse it."""
        self._run("DELETE FROM numbers WHERE cnpj = ? AND serie = ? AND numero = ?", (cnpj, serie, numero))
        self._run(
            "INSERT OR IGNORE INTO released (cnpj, serie, numero) VALUES (?, ?, ?)", (cnpj, serie, numero)
        )

    def used_in_range(self, cnpj: str, serie: int, first: int, last: int) -> list[int]:
        rows = self._all(
            "SELECT numero FROM numbers WHERE cnpj = ? AND serie = ? AND numero BETWEEN ? AND ? ORDER BY numero",
            (cnpj, serie, first, last),
        )
        return [int(r[0]) for r in rows]

    def counter(self, cnpj: str, serie: int) -> int | None:
        row = self._one("SELECT proximo FROM counters WHERE cnpj = ? AND serie = ?", (cnpj, serie))
        return None if row is None else int(row[0])

    def set_counter(self, cnpj: str, serie: int, proximo: int) -> None:
        self._run(
            "INSERT OR REPLACE INTO counters (cnpj, serie, proximo) VALUES (?, ?, ?)", (cnpj, serie, proximo)
        )

    def released_numbers(self, cnpj: str, serie: int) -> list[int]:
        rows = self._all(
            "SELECT numero FROM released WHERE cnpj = ? AND serie = ? ORDER BY numero", (cnpj, serie)
        )
        return [int(r[0]) for r in rows]

    def forget_released(self, cnpj: str, serie: int, numero: int) -> None:
        self._run("DELETE FROM released WHERE cnpj = ? AND serie = ? AND numero = ?", (cnpj, serie, numero))

    # -- inutilização --------------------------------------------------------------------------

    def inutilizada(self, cnpj: str, serie: int, first: int, last: int) -> bool:
        row = self._one(
            "SELECT 1 FROM inutilizacoes WHERE cnpj = ? AND serie = ? AND status = 'autorizado'"
            " AND numero_inicial <= ? AND numero_final >= ? LIMIT 1",
            (cnpj, serie, last, first),
        )
        return row is not None

    def add_inutilizacao(
        self, token: str, cnpj: str, serie: int, first: int, last: int, data: dict[str, Any]
    ) -> None:
        self._run(
            "INSERT INTO inutilizacoes (token, cnpj, serie, numero_inicial, numero_final, status, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token, cnpj, serie, first, last, data["status"], json.dumps(data, ensure_ascii=False)),
        )

    def inutilizacoes(self) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self._all("SELECT data FROM inutilizacoes ORDER BY id")]

    # -- e-mails, files, meta ------------------------------------------------------------------

    def add_email(self, record: EmailRecord) -> None:
        self._run(
            "INSERT INTO emails (token, ref, email, enviado_em) VALUES (?, ?, ?, ?)",
            (record.token, record.ref, record.email, record.enviado_em),
        )

    def emails(self, ref: str | None = None) -> list[EmailRecord]:
        if ref is None:
            rows = self._all("SELECT token, ref, email, enviado_em FROM emails ORDER BY id")
        else:
            rows = self._all(
                "SELECT token, ref, email, enviado_em FROM emails WHERE ref = ? ORDER BY id", (ref,)
            )
        return [EmailRecord(*map(str, r)) for r in rows]

    def put_file(self, path: str, content_type: str, body: bytes) -> None:
        self._run(
            "INSERT OR REPLACE INTO files (path, content_type, body) VALUES (?, ?, ?)",
            (path, content_type, body),
        )

    def get_file(self, path: str) -> tuple[str, bytes] | None:
        row = self._one("SELECT content_type, body FROM files WHERE path = ?", (path,))
        return None if row is None else (str(row[0]), bytes(row[1]))

    def next_sequence(self, name: str) -> int:
        with self.transaction():
            row = self._one("SELECT value FROM meta WHERE key = ?", (name,))
            value = 1 if row is None else int(row[0]) + 1
            self._run("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (name, str(value)))
            return value
