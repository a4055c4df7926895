"""Plumbing shared by the back-office resources of the sandbox (CT-e, received CT-e, RPS batches).

They keep their state as JSON documents in the sandbox's SQLite file (table ``backoffice_docs``),
through the same connection and lock as the NFC-e engine, so one :meth:`SandboxStore.transaction`
covers both and the demo state survives restarts the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pos_app.sandbox.engine import JSON_CT, ApiResponse, api_error
from pos_app.sandbox.store import SandboxStore

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS backoffice_docs (
        kind TEXT NOT NULL,
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        ord INTEGER NOT NULL DEFAULT 0,
        data TEXT NOT NULL,
        PRIMARY KEY (kind, scope, key)
    )""",
    "CREATE INDEX IF NOT EXISTS backoffice_docs_ord ON backoffice_docs (kind, scope, ord)",
)

TEXT_CT = "text/plain; charset=utf-8"
PDF_CT = "application/pdf"


@dataclass(frozen=True)
class DocRequest:
    """One API request routed to a back-office resource (``rest``: path parts after the resource)."""

    token: str
    method: str
    rest: list[str]
    query: dict[str, str]
    body: bytes
    content_type: str = ""
    host: str = ""

    @property
    def completa(self) -> bool:
        return (self.query.get("completa") or self.query.get("completo") or "") in ("1", "true")


@dataclass(frozen=True)
class DocResponse(ApiResponse):
    """An :class:`ApiResponse` with extra headers (``X-Total-Count``, ``Location``...)."""

    headers: tuple[tuple[str, str], ...] = field(default=())


def ok(
    body: dict[str, Any] | list[Any], status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> ApiResponse:
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return DocResponse(status, raw=raw, content_type=JSON_CT, headers=headers)


def parse_object(
    body: bytes, *, allow_empty: bool = False
) -> tuple[dict[str, Any] | None, ApiResponse | None]:
    """The JSON object of a request body, or the error answer (400 empty, 415 not JSON)."""
    if not body.strip():
        if allow_empty:
            return {}, None
        return None, api_error(
            400, "requisicao_invalida", "Corpo da requisição vazio: envie os dados em JSON"
        )
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        return None, api_error(415, "json_invalido", f"JSON inválido: {exc}")
    if not isinstance(data, dict):
        return None, api_error(400, "requisicao_invalida", "O corpo da requisição deve ser um objeto JSON")
    return data, None


class DocStore:
    """JSON documents by (kind, scope, key), ordered by ``ord`` inside a (kind, scope)."""

    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        with store.transaction():
            for statement in _SCHEMA:
                store._run(statement)

    def transaction(self) -> Any:
        return self.store.transaction()

    def get(self, kind: str, scope: str, key: str) -> dict[str, Any] | None:
        row = self.store._one(
            "SELECT data FROM backoffice_docs WHERE kind = ? AND scope = ? AND key = ?", (kind, scope, key)
        )
        return None if row is None else dict(json.loads(row[0]))

    def put(self, kind: str, scope: str, key: str, data: dict[str, Any], ord: int = 0) -> None:
        self.store._run(
            "INSERT OR REPLACE INTO backoffice_docs (kind, scope, key, ord, data) VALUES (?, ?, ?, ?, ?)",
            (kind, scope, key, ord, json.dumps(data, ensure_ascii=False, sort_keys=True)),
        )

    def find(self, kind: str, key: str) -> list[tuple[str, dict[str, Any]]]:
        """(scope, data) of every document of ``kind`` with this key, in any scope."""
        rows = self.store._all(
            "SELECT scope, data FROM backoffice_docs WHERE kind = ? AND key = ? ORDER BY scope", (kind, key)
        )
        return [(str(r[0]), dict(json.loads(r[1]))) for r in rows]

    def scan(
        self, kind: str, scope: str, *, after: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT data FROM backoffice_docs WHERE kind = ? AND scope = ?"
        params: list[Any] = [kind, scope]
        if after is not None:
            sql += " AND ord > ?"
            params.append(after)
        sql += " ORDER BY ord, key"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [dict(json.loads(r[0])) for r in self.store._all(sql, tuple(params))]

    def count(self, kind: str, scope: str, *, after: int | None = None) -> int:
        sql = "SELECT count(*) FROM backoffice_docs WHERE kind = ? AND scope = ?"
        params: list[Any] = [kind, scope]
        if after is not None:
            sql += " AND ord > ?"
            params.append(after)
        row = self.store._one(sql, tuple(params))
        return int(row[0]) if row else 0

    def all(self, kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        rows = self.store._all(
            "SELECT scope, key, data FROM backoffice_docs WHERE kind = ? ORDER BY ord", (kind,)
        )
        for scope, key, data in rows:
            yield str(scope), str(key), dict(json.loads(data))


def simple_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with ``lines`` of Helvetica text (enough for a sandbox DACTe)."""

    def esc(text: str) -> str:
        latin = text.encode("latin-1", "replace").decode("latin-1")
        return latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 10 Tf", "12 TL", "40 800 Td"]
    for line in lines[:60]:
        ops.append(f"({esc(line)}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
