"""Operators (caixa, gerente) with hashed PINs and lockout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pos_app.core.auth import LOCKOUT_MINUTES, MAX_FAILED_ATTEMPTS, hash_pin, verify_pin
from pos_app.core.errors import PosError
from pos_app.core.store.db import SqliteDatabase, iso, utcnow


@dataclass(frozen=True)
class User:
    id: int
    codigo: str
    nome: str
    papel: str
    ativo: bool

    @property
    def is_manager(self) -> bool:
        return self.papel == "gerente"


class AuthError(PosError):
    """Wrong PIN, unknown or locked user: the message is shown as is (Portuguese)."""

    kind = "permissao"


def _user(row: dict[str, Any]) -> User:
    return User(row["id"], row["codigo"], row["nome"], row["papel"], bool(row["ativo"]))


class UsersRepo:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def add(self, codigo: str, nome: str, papel: str, pin: str) -> User:
        with self._db.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO users (codigo, nome, papel, pin_hash, created_at) VALUES (?,?,?,?,?)",
                [codigo, nome, papel, hash_pin(pin), iso(utcnow())],
            )
            user_id = int(cur.lastrowid or 0)
        found = self.get(user_id)
        assert found is not None
        return found

    def get(self, user_id: int) -> User | None:
        row = self._db.query_one("SELECT * FROM users WHERE id = ?", [user_id])
        return _user(row) if row else None

    def by_code(self, codigo: str) -> User | None:
        row = self._db.query_one("SELECT * FROM users WHERE codigo = ?", [codigo])
        return _user(row) if row else None

    def all(self) -> list[User]:
        return [_user(r) for r in self._db.query("SELECT * FROM users ORDER BY codigo")]

    def count(self) -> int:
        row = self._db.query_one("SELECT count(*) AS n FROM users")
        return int(row["n"]) if row else 0

    def set_active(self, codigo: str, ativo: bool) -> None:
        with self._db.transaction() as tx:
            tx.execute("UPDATE users SET ativo = ? WHERE codigo = ?", [int(ativo), codigo])

    def set_pin(self, codigo: str, pin: str) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE users SET pin_hash = ?, tentativas_falhas = 0, bloqueado_ate = NULL WHERE codigo = ?",
                [hash_pin(pin), codigo],
            )

    def authenticate(self, codigo: str, pin: str, now: datetime | None = None) -> User:
        """Check the PIN; count failures and lock the user after too many."""
        now = now or utcnow()
        row = self._db.query_one("SELECT * FROM users WHERE codigo = ?", [codigo])
        if row is None or not row["ativo"]:
            raise AuthError("Operador não encontrado ou desativado.")
        if row["bloqueado_ate"] and datetime.fromisoformat(row["bloqueado_ate"]) > now:
            raise AuthError(
                f"Operador bloqueado por excesso de tentativas. Tente novamente após {LOCKOUT_MINUTES} minutos "
                "ou peça a um gerente para redefinir o PIN."
            )
        if verify_pin(pin, row["pin_hash"]):
            with self._db.transaction() as tx:
                tx.execute(
                    "UPDATE users SET tentativas_falhas = 0, bloqueado_ate = NULL WHERE id = ?", [row["id"]]
                )
            return _user(row)
        failures = int(row["tentativas_falhas"]) + 1
        locked = iso(now + timedelta(minutes=LOCKOUT_MINUTES)) if failures >= MAX_FAILED_ATTEMPTS else None
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE users SET tentativas_falhas = ?, bloqueado_ate = ? WHERE id = ?",
                [0 if locked else failures, locked, row["id"]],
            )
        if locked:
            raise AuthError(f"PIN incorreto. Operador bloqueado por {LOCKOUT_MINUTES} minutos.")
        raise AuthError(f"PIN incorreto ({failures} de {MAX_FAILED_ATTEMPTS} tentativas).")
