"""Audit log of manager actions: who, when, what, why, with details as JSON.

Every manager action is recorded, including the refused ones (wrong PIN, out of the cancel
window, range crossing used numbers), so the log answers "who tried what and what happened".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pos_app.core.store.db import iso

if TYPE_CHECKING:
    from pos_app.core.store import Store
    from pos_app.core.store.users import User

# outcome of an action
OK = "ok"
REFUSED = "recusado"
FAILED = "erro"
SCHEDULED = "agendado"

ACTION_LABELS = {
    "cancelamento": "Cancelamento de NFC-e",
    "cancelamento_agendado": "Cancelamento agendado (contingência)",
    "cancelamento_automatico": "Cancelamento automático após transmissão",
    "inutilizacao": "Inutilização de numeração",
    "email": "Reenvio por e-mail",
    "consulta": "Consulta da NFC-e na API",
    "reimpressao": "Reimpressão (2ª via) do DANFCe",
    "caixa_abertura": "Abertura de caixa",
    "caixa_abertura_automatica": "Abertura automática de caixa (venda sem interface)",
    "caixa_sangria": "Sangria",
    "caixa_suprimento": "Suprimento",
    "caixa_fechamento": "Fechamento de caixa",
    "usuario_cadastro": "Cadastro de operador",
    "usuario_desativacao": "Desativação de operador",
    "usuario_ativacao": "Reativação de operador",
    "usuario_pin": "Troca de PIN",
    "pin_gerente": "PIN de gerente recusado",
    "relatorio_exportado": "Relatório exportado",
    "econf_enviar": "Envio de conciliação financeira (ECONF)",
    "econf_cancelar": "Cancelamento de conciliação financeira (ECONF)",
    "econf_marcar_registrado": "ECONF em dúvida marcado como registrado",
}


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    user_codigo: str | None
    user_nome: str | None
    action: str
    target: str | None
    reason: str | None
    outcome: str
    details: dict[str, Any]

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "quando": self.at,
            "operador": self.user_codigo,
            "nome": self.user_nome,
            "acao": self.action,
            "descricao": self.label,
            "alvo": self.target,
            "motivo": self.reason,
            "resultado": self.outcome,
            "detalhes": self.details,
        }

    def line(self) -> str:
        who = f"{self.user_nome} ({self.user_codigo})" if self.user_codigo else "—"
        parts = [self.at[:19].replace("T", " "), who, self.label]
        if self.target:
            parts.append(self.target)
        parts.append(self.outcome)
        text = "  |  ".join(parts)
        if self.reason:
            text += f"  |  motivo: {self.reason}"
        return text


class AuditLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(
        self,
        action: str,
        *,
        user: User | None = None,
        target: str | None = None,
        reason: str | None = None,
        outcome: str = OK,
        details: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> int:
        at = iso(now or datetime.now(UTC))
        with self.store.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO audit_log (at, user_id, user_codigo, user_nome, action, target, reason, outcome, details) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    at,
                    user.id if user else None,
                    user.codigo if user else None,
                    user.nome if user else None,
                    action,
                    target,
                    reason,
                    outcome,
                    json.dumps(details or {}, ensure_ascii=False, default=str),
                ],
            )
            return int(cur.lastrowid or 0)

    def entries(
        self,
        *,
        de: date | None = None,
        ate: date | None = None,
        action: str | None = None,
        target: str | None = None,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        where: list[str] = []
        params: list[Any] = []
        if de is not None:  # ISO text: a day is the index range [day, next day)
            where.append("at >= ?")
            params.append(de.isoformat())
        if ate is not None:
            where.append("at < ?")
            params.append((ate + timedelta(days=1)).isoformat())
        if action:
            where.append("action = ?")
            params.append(action)
        if target:
            where.append("target = ?")
            params.append(target)
        sql = "SELECT * FROM audit_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [_entry(r) for r in self.store.database.query(sql, params)]


def _entry(row: dict[str, Any]) -> AuditEntry:
    try:
        details = json.loads(row["details"] or "{}")
    except ValueError:
        details = {"texto": row["details"]}
    return AuditEntry(
        id=int(row["id"]),
        at=row["at"],
        user_codigo=row["user_codigo"],
        user_nome=row["user_nome"],
        action=row["action"],
        target=row["target"],
        reason=row["reason"],
        outcome=row["outcome"],
        details=details,
    )
