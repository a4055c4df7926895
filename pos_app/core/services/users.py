"""Operators and roles (caixa, gerente): manager PIN checks, add, disable, change PIN.

PINs are hashed with scrypt (``core.auth``); ``UsersRepo.authenticate`` counts wrong PINs and locks
the operator for a few minutes after too many. Every change here needs a manager PIN and is
recorded in the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pos_app.core.auth import validate_pin_format, verify_pin
from pos_app.core.errors import PosError
from pos_app.core.services.audit import OK, REFUSED, AuditLog
from pos_app.core.store.users import AuthError, User

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

ROLES = ("caixa", "gerente")


class ManagerError(PosError):
    """A manager operation refused before anything was sent or changed (Portuguese message)."""

    kind = "recusado"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(ManagerError):
    """Wrong PIN, locked or unknown manager, or an operator without the manager role."""

    kind = "permissao"


def authenticate(
    ctx: AppContext,
    pin: str,
    codigo: str | None = None,
    *,
    require_manager: bool = True,
    action: str = "",
    now: datetime | None = None,
) -> User:
    """The user whose PIN this is.

    With ``codigo``: that user (lockout counted by ``UsersRepo.authenticate``). Without: any active
    manager whose PIN matches; when none matches, the failure counts against every active manager
    (so the anonymous path cannot be used to guess PINs without lockout).
    """
    now = now or ctx.now()
    users = ctx.store.users
    audit = AuditLog(ctx.store)
    if not pin:
        raise PermissionDenied("Informe o PIN do gerente.", field="pin")
    try:
        user = users.authenticate(codigo, pin, now) if codigo else _match_manager(ctx, pin, now)
    except AuthError as exc:
        audit.record(
            "pin_gerente",
            user=users.by_code(codigo) if codigo else None,
            target=action or None,
            outcome=REFUSED,
            details={"motivo": str(exc)},
            now=now,
        )
        raise PermissionDenied(str(exc), field="pin") from exc
    if require_manager and not user.is_manager:
        audit.record(
            "pin_gerente",
            user=user,
            target=action or None,
            outcome=REFUSED,
            details={"motivo": "operador sem papel de gerente"},
            now=now,
        )
        raise PermissionDenied(
            f"{user.nome} é operador de caixa: esta operação exige o PIN de um gerente.", field="pin"
        )
    return user


def _match_manager(ctx: AppContext, pin: str, now: datetime) -> User:
    rows = ctx.store.database.query(
        "SELECT codigo, pin_hash FROM users WHERE papel = 'gerente' AND ativo = 1 ORDER BY id"
    )
    if not rows:
        raise AuthError(
            "Nenhum gerente ativo cadastrado: cadastre um com 'pos-app user add --papel gerente'."
        )
    for row in rows:
        if verify_pin(pin, row["pin_hash"]):
            return ctx.store.users.authenticate(row["codigo"], pin, now)  # lockout check, resets counter
    last: AuthError | None = None
    for row in rows:
        try:
            ctx.store.users.authenticate(row["codigo"], pin, now)
        except AuthError as exc:
            last = exc
    # A cashier's own PIN typed where a manager's is needed: say so (the attempt still counted above).
    for row in ctx.store.database.query(
        "SELECT nome, pin_hash FROM users WHERE papel != 'gerente' AND ativo = 1 ORDER BY id"
    ):
        if verify_pin(pin, row["pin_hash"]):
            raise AuthError(
                f"Este PIN é de {row['nome']}, que não é gerente: esta operação exige o PIN de um gerente."
            )
    if len(rows) == 1 and last is not None:
        raise last
    raise AuthError("PIN de gerente incorreto.")


class UserAdminService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.users = ctx.store.users
        self.audit = AuditLog(ctx.store)

    def list(self) -> list[User]:
        return self.users.all()

    def add(
        self,
        nome: str,
        papel: str,
        pin: str,
        manager: User,
        codigo: str | None = None,
        now: datetime | None = None,
    ) -> User:
        now = now or self.ctx.now()
        nome = " ".join(nome.split())
        if not nome:
            raise ManagerError("Nome do operador em branco.", field="nome")
        if papel not in ROLES:
            raise ManagerError("Papel deve ser 'caixa' ou 'gerente'.", field="papel")
        problem = validate_pin_format(pin)
        if problem:
            raise ManagerError(problem, field="pin")
        if codigo is None:
            used = {u.codigo for u in self.users.all()}
            n = 1
            while str(n) in used:
                n += 1
            codigo = str(n)
        codigo = codigo.strip()
        if not codigo or not codigo.isalnum() or len(codigo) > 10:
            raise ManagerError("Código do operador: de 1 a 10 letras ou dígitos.", field="codigo")
        if self.users.by_code(codigo):
            raise ManagerError(f"Já existe um operador com o código {codigo}.", field="codigo")
        user = self.users.add(codigo, nome, papel, pin)
        self.audit.record(
            "usuario_cadastro",
            user=manager,
            target=codigo,
            outcome=OK,
            details={"nome": nome, "papel": papel},
            now=now,
        )
        return user

    def set_active(
        self, codigo: str, ativo: bool, manager: User, reason: str | None = None, now: datetime | None = None
    ) -> User:
        now = now or self.ctx.now()
        target = self._get(codigo)
        if not ativo:
            if target.id == manager.id:
                raise ManagerError("Um gerente não pode desativar a si mesmo.", field="codigo")
            if target.is_manager and target.ativo and self._active_managers() <= 1:
                raise ManagerError(
                    "Este é o único gerente ativo: cadastre outro antes de desativá-lo.", field="codigo"
                )
        self.users.set_active(codigo, ativo)
        self.audit.record(
            "usuario_ativacao" if ativo else "usuario_desativacao",
            user=manager,
            target=codigo,
            reason=reason,
            outcome=OK,
            details={"nome": target.nome, "papel": target.papel},
            now=now,
        )
        return self._get(codigo)

    def change_pin(self, codigo: str, new_pin: str, manager: User, now: datetime | None = None) -> User:
        """New PIN (also unlocks an operator blocked by wrong PINs)."""
        now = now or self.ctx.now()
        target = self._get(codigo)
        problem = validate_pin_format(new_pin)
        if problem:
            raise ManagerError(problem, field="pin")
        self.users.set_pin(codigo, new_pin)
        self.audit.record(
            "usuario_pin", user=manager, target=codigo, outcome=OK, details={"nome": target.nome}, now=now
        )
        return target

    def _get(self, codigo: str) -> User:
        user = self.users.by_code(codigo)
        if user is None:
            raise ManagerError(f"Operador não encontrado: {codigo}", field="codigo")
        return user

    def _active_managers(self) -> int:
        row = self.ctx.store.database.query_one(
            "SELECT count(*) AS n FROM users WHERE papel = 'gerente' AND ativo = 1"
        )
        return int(row["n"]) if row else 0
