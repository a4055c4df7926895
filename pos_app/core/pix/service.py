"""PIX charges of this terminal: written ahead, created at the PSP, followed until settled.

Local states of a dynamic charge (``pix_charges.status``)::

    criando ──PUT ok──> ativa ──GET CONCLUIDA──> paga (linked to the sale when it is stored)
       │                  ├──expired────────────> expirada
       │                  ├──cashier PATCH──────> cancelada
       │                  └──PSP removed────────> removida_psp
       └──PUT not delivered / refused──> falhou
    expirada | cancelada | removida_psp ──a Pix arrives anyway──> paga_apos_cancelamento

The txid is stored before the PUT; after a crash ``resolve_pending`` asks the PSP by txid. A Pix
that arrives for a charge no sale uses (late, duplicate, or a sale abandoned after paying) becomes a
``pix_refunds`` row (``pendente`` -> ``devolvida`` | ``falhou``) that a manager refunds.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.payments import Payment
from pos_app.core.store.db import iso

if TYPE_CHECKING:
    from pos_app.core.pix.client import Cobranca, PixClient
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User

log = logging.getLogger("pos_app.pix")

PIX_DINAMICO = "17"
PIX_ESTATICO = "20"

# Charge states (pix_charges.status) and their allowed transitions.
CRIANDO = "criando"
ATIVA = "ativa"
PAGA = "paga"
EXPIRADA = "expirada"
CANCELADA = "cancelada"
REMOVIDA_PSP = "removida_psp"
FALHOU = "falhou"
PAGA_APOS_CANCELAMENTO = "paga_apos_cancelamento"
TRANSITIONS: dict[str, frozenset[str]] = {
    CRIANDO: frozenset({ATIVA, PAGA, FALHOU, EXPIRADA, CANCELADA, REMOVIDA_PSP}),
    ATIVA: frozenset({PAGA, EXPIRADA, CANCELADA, REMOVIDA_PSP}),
    EXPIRADA: frozenset({PAGA_APOS_CANCELAMENTO}),
    CANCELADA: frozenset({PAGA_APOS_CANCELAMENTO}),
    REMOVIDA_PSP: frozenset({PAGA_APOS_CANCELAMENTO}),
    PAGA: frozenset(),
    FALHOU: frozenset(),
    PAGA_APOS_CANCELAMENTO: frozenset(),
}
OPEN = (CRIANDO, ATIVA)
CLOSED_UNPAID = (EXPIRADA, CANCELADA, REMOVIDA_PSP)
# Refund states (pix_refunds.status)
DEV_PENDENTE, DEV_DEVOLVIDA, DEV_FALHOU = "pendente", "devolvida", "falhou"
LATE_WATCH = timedelta(hours=24)  # how long a closed charge is still checked for a late Pix
UNUSED_GRACE = timedelta(minutes=30)
IN_FLIGHT_GRACE = timedelta(minutes=2)  # a paid charge without a sale after this is refundable


class PixNotConfigured(RuntimeError):
    pass


@dataclass
class Charge:
    id: int
    txid: str
    valor: Decimal
    status: str
    expiracao: int
    copia_e_cola: str | None
    e2eid: str | None
    criacao_psp: str | None
    sale_id: int | None
    last_error: str | None
    created_at: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Charge:
        return cls(
            int(row["id"]),
            row["txid"],
            Decimal(row["valor"]),
            row["status"],
            int(row["expiracao"]),
            row["copia_e_cola"],
            row["e2eid"],
            row["criacao_psp"],
            row["sale_id"],
            row["last_error"],
            row["created_at"],
        )

    @property
    def paid(self) -> bool:
        return self.status == PAGA

    @property
    def final(self) -> bool:
        return self.status not in OPEN

    def expires_at(self) -> datetime:
        start = datetime.fromisoformat((self.criacao_psp or self.created_at).replace("Z", "+00:00"))
        return start + timedelta(seconds=self.expiracao)

    def seconds_left(self, now: datetime | None = None) -> float:
        return (self.expires_at() - (now or datetime.now(UTC))).total_seconds()


def new_txid() -> str:
    return secrets.token_hex(16)  # 32 alphanumerics: within the API's [a-zA-Z0-9]{26,35}


class PixService:
    """One per terminal (``pix_service(ctx)``)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self._client: PixClient | None = None
        self._lock = threading.Lock()

    # -- configuration ----------------------------------------------------------------------
    def setting(self, key: str) -> str | None:
        """A ``pix.*`` value; in demo mode unset keys come from the running PSP sandbox."""
        value = self.ctx.config.get(key)
        if value:
            return value
        provider = self.ctx.pix_settings  # set by the demo wiring (pos_app.demo.pix)
        return provider().get(key) if provider is not None else None

    def configured(self) -> bool:
        return bool(self.setting("pix.url"))

    def client(self) -> PixClient:
        from pos_app.core.pix.client import PixClient, PixConfigError

        with self._lock:
            if self._client is None:
                cfg = self.ctx.config
                url = self.setting("pix.url")
                if not url:
                    raise PixNotConfigured("PIX dinâmico não configurado (pix.url).")
                client_id, secret = self.setting("pix.client_id"), self.setting("pix.client_secret")
                if not client_id or not secret:
                    raise PixConfigError("Configure pix.client_id e pix.client_secret.")
                cert_path = cfg.get("pix.certificado")
                p12 = None
                if cert_path:
                    try:
                        p12 = Path(cert_path).read_bytes()
                    except OSError as exc:
                        raise PixConfigError(
                            f"Certificado do PSP ilegível: {cert_path} ({exc.strerror})"
                        ) from exc
                self._client = PixClient(
                    url,
                    client_id,
                    secret,
                    p12=p12,
                    p12_password=cfg.get("pix.certificado_senha"),
                    verify=cfg.get("pix.ca"),
                )
            return self._client

    def reset(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = None

    def chave(self) -> str:
        chave = self.setting("pix.chave")
        if not chave:
            raise PixNotConfigured("Chave PIX da loja não configurada (pix.chave).")
        return chave

    def cnpj_psp(self) -> str:
        cnpj = self.setting("pix.cnpj_psp")
        if not cnpj:
            raise PixNotConfigured(
                "CNPJ do PSP não configurado (pix.cnpj_psp): a NFC-e exige a credenciadora."
            )
        return cnpj

    # -- static QR ------------------------------------------------------------------------
    def static_brcode(self, valor: Decimal | None, ref: str = "***") -> str:
        from pos_app.core.pix.brcode import build_static

        emitente = self.ctx.emitente()
        return build_static(
            self.chave(), emitente.nome_fantasia or emitente.razao_social, emitente.municipio, valor, ref
        )

    def record_static(self, valor: Decimal, user: User | None) -> Payment:
        """The cashier saw the Pix arrive on the store's phone/bank: recorded with the operator."""
        from pos_app.core.services.audit import AuditLog

        AuditLog(self.store).record("pix_estatico_confirmado", user=user, details={"valor": f"{valor:.2f}"})
        return Payment(PIX_ESTATICO, valor)

    # -- dynamic charge -------------------------------------------------------------------
    def create(self, valor: Decimal, operador_id: int | None = None, expiracao: int | None = None) -> Charge:
        """Write the charge ahead, then ``PUT /cob/{txid}``. Raises PixUnavailable & co."""
        from pos_app.core.pix.client import PixApiError, PixInDoubt, PixUnavailable

        client = self.client()  # configuration problems before anything is written
        chave = self.chave()
        self.cnpj_psp()
        expiracao = expiracao or int(self.ctx.config.get("pix.expiracao") or 300)
        txid = new_txid()
        now = iso(datetime.now(UTC))
        with self.store.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO pix_charges (txid, terminal_id, valor, expiracao, status, operador_id, created_at, "
                "updated_at) VALUES (?,?,?,?,?,?,?,?)",
                [
                    txid,
                    self.ctx.config.terminal_id,
                    f"{valor:.2f}",
                    expiracao,
                    CRIANDO,
                    operador_id,
                    now,
                    now,
                ],
            )
            charge_id = int(cur.lastrowid or 0)
        try:
            cob = client.criar_cob(txid, valor, chave, expiracao, "Compra na loja")
        except PixUnavailable as exc:
            self._set(charge_id, FALHOU, last_error=str(exc))
            raise
        except PixInDoubt as exc:
            self._note(charge_id, str(exc))
            return self.refresh(charge_id)  # consult by txid: created or not?
        except PixApiError as exc:
            self._set(charge_id, FALHOU, last_error=str(exc))
            raise
        return self._apply(charge_id, cob)

    def get(self, charge_id: int) -> Charge:
        row = self.store.database.query_one("SELECT * FROM pix_charges WHERE id = ?", [charge_id])
        if row is None:
            raise KeyError(f"cobrança PIX {charge_id} não encontrada")
        return Charge.from_row(row)

    def by_txid(self, txid: str) -> Charge | None:
        row = self.store.database.query_one("SELECT * FROM pix_charges WHERE txid = ?", [txid])
        return Charge.from_row(row) if row else None

    def refresh(self, charge_id: int) -> Charge:
        """One ``GET /cob/{txid}`` and the local state that follows from it."""
        from pos_app.core.pix.client import PixApiError

        charge = self.get(charge_id)
        try:
            cob = self.client().consultar_cob(charge.txid)
        except PixApiError as exc:
            if exc.status == 404 and charge.status == CRIANDO:
                return self._set(charge_id, FALHOU, last_error="cobrança não chegou ao PSP")
            raise
        return self._apply(charge_id, cob)

    def wait(
        self,
        charge_id: int,
        *,
        timeout: float | None = None,
        cancel: threading.Event | None = None,
        on_update: Callable[[Charge], None] | None = None,
        first_interval: float = 1.0,
        max_interval: float = 3.0,
    ) -> Charge:
        """Poll until paid, expired, removed, cancelled (``cancel`` set) or ``timeout``.

        Backoff from ``first_interval`` to ``max_interval``: a charge is usually paid in 10-40 s
        and the terminal shares its link with the NFC-e. Network errors are retried until the end.
        """
        from pos_app.core.pix.client import PixError

        cancel = cancel or threading.Event()
        deadline = time.monotonic() + timeout if timeout is not None else None
        interval = first_interval
        charge = self.get(charge_id)
        while True:
            try:
                charge = self.refresh(charge_id)
            except PixError as exc:
                log.warning("PIX: consulta da cobrança %s falhou: %s", charge.txid, exc)
                self._note(charge_id, str(exc))
                charge = self.get(charge_id)
            if on_update is not None:
                on_update(charge)
            if charge.final:
                return charge
            left = charge.seconds_left()
            if deadline is not None:
                left = min(left, deadline - time.monotonic())
            if left <= 0 and charge.seconds_left() <= 0:
                continue  # expired by the clock: one more GET decides (a last-second payment wins)
            if left <= 0:
                return charge  # caller's timeout; the charge is still open (caller cancels it)
            if cancel.wait(min(interval, max(left, 0.05))):
                return charge
            interval = min(interval * 1.5, max_interval)

    def cancel(self, charge_id: int, user: User | None = None) -> Charge:
        """The cashier gave up: ``PATCH`` the charge removed. Already paid: paid wins."""
        from pos_app.core.pix.client import PixApiError

        charge = self.refresh(charge_id)
        if charge.final:
            return charge
        try:
            cob = self.client().remover_cob(charge.txid)
        except PixApiError:
            return self.refresh(charge_id)  # e.g. paid in between: the GET says so
        if user is not None:
            self.store.database.execute(
                "UPDATE pix_charges SET cancelled_by = ? WHERE id = ?", [user.id, charge_id]
            )
        return self._apply(charge_id, cob)

    def payment_for(self, charge: Charge) -> Payment:
        if not charge.paid or not charge.e2eid:
            raise ValueError("cobrança PIX não paga")
        return Payment(
            PIX_DINAMICO, charge.valor, cnpj_credenciadora=self.cnpj_psp(), numero_autorizacao=charge.e2eid
        )

    def link_sale(self, charge_id: int, sale_id: int) -> None:
        self.store.database.execute(
            "UPDATE pix_charges SET sale_id = ?, updated_at = ? WHERE id = ?",
            [sale_id, iso(datetime.now(UTC)), charge_id],
        )

    def link_sale_by_e2e(self, sale_id: int, payments: list[Payment]) -> None:
        for p in payments:
            if p.forma == PIX_DINAMICO and p.numero_autorizacao:
                self.store.database.execute(
                    "UPDATE pix_charges SET sale_id = ? WHERE e2eid = ? AND sale_id IS NULL",
                    [sale_id, p.numero_autorizacao],
                )

    # -- after a crash, late payments ---------------------------------------------------------
    def sync(self) -> list[Charge]:
        """Resolve charges left open (crash) and look for Pix arriving on closed ones."""
        from pos_app.core.pix.client import PixError

        since = iso(datetime.now(UTC) - LATE_WATCH)
        # A charge being created right now (PUT on its way) is left to its own request.
        settled = iso(datetime.now(UTC) - IN_FLIGHT_GRACE)
        rows = self.store.database.query(
            f"SELECT id FROM pix_charges WHERE status IN ({','.join('?' * 4)}) AND created_at >= ? "
            "UNION SELECT id FROM pix_charges WHERE status = ? AND created_at < ? ORDER BY id",
            [ATIVA, *CLOSED_UNPAID, since, CRIANDO, settled],
        )
        out = []
        for row in rows:
            try:
                out.append(self.refresh(int(row["id"])))
            except PixError as exc:
                log.warning("PIX: sincronização da cobrança %s falhou: %s", row["id"], exc)
        # Sales store the endToEndId in their payment: that links the charges (window, CLI, crashes).
        self.store.database.execute(
            "UPDATE pix_charges SET sale_id = (SELECT p.sale_id FROM payments p WHERE p.forma = ? AND "
            "p.numero_autorizacao = pix_charges.e2eid LIMIT 1) WHERE status = ? AND sale_id IS NULL",
            [PIX_DINAMICO, PAGA],
        )
        cutoff = iso(datetime.now(UTC) - UNUSED_GRACE)
        for row in self.store.database.query(
            "SELECT * FROM pix_charges WHERE status = ? AND sale_id IS NULL AND updated_at < ?",
            [PAGA, cutoff],
        ):
            charge = Charge.from_row(row)
            self._offer_refund(charge.id, charge.e2eid or "", charge.valor, "paga_sem_venda")
        return out

    def needs_sync(self) -> bool:
        """Anything the PSP may still change (open charges, closed ones within the late-payment watch)."""
        since = iso(datetime.now(UTC) - LATE_WATCH)
        row = self.store.database.query_one(
            f"SELECT COUNT(*) AS n FROM pix_charges WHERE status IN ({','.join('?' * 5)}) AND created_at >= ?",
            [*OPEN, *CLOSED_UNPAID, since],
        )
        return bool(row and row["n"])

    def recent_charges(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest charges of this terminal (``pos-app pix cobrancas``)."""
        return self.store.database.query(
            "SELECT id, txid, valor, status, e2eid, sale_id, created_at FROM pix_charges ORDER BY id DESC LIMIT ?",
            [limit],
        )

    def pending_refunds(self) -> list[dict[str, Any]]:
        return self.store.database.query(
            "SELECT r.*, c.txid FROM pix_refunds r JOIN pix_charges c ON c.id = r.charge_id "
            "WHERE r.status IN (?, ?) ORDER BY r.id",
            [DEV_PENDENTE, DEV_FALHOU],
        )

    def refunds(self) -> list[dict[str, Any]]:
        return self.store.database.query(
            "SELECT r.*, c.txid FROM pix_refunds r JOIN pix_charges c ON c.id = r.charge_id ORDER BY r.id"
        )

    def refund(self, refund_id: int, user: User) -> dict[str, Any]:
        """``PUT /pix/{e2eid}/devolucao/{id}`` by a manager; the id is stored first (idempotent)."""
        from pos_app.core.pix.client import PixError
        from pos_app.core.services.audit import AuditLog

        if not user.is_manager:
            raise PermissionError("Só um gerente pode devolver um PIX.")
        row = self.store.database.query_one("SELECT * FROM pix_refunds WHERE id = ?", [refund_id])
        if row is None:
            raise KeyError(f"devolução {refund_id} não encontrada")
        if row["status"] == DEV_DEVOLVIDA:
            return row
        try:
            data = self.client().devolver(row["e2eid"], row["dev_id"], Decimal(row["valor"]))
        except PixError as exc:
            self._set_refund(refund_id, DEV_FALHOU, user, last_error=str(exc))
            AuditLog(self.store).record(
                "pix_devolucao", user=user, target=row["e2eid"], outcome="falha", details={"erro": str(exc)}
            )
            raise
        status = DEV_DEVOLVIDA if data.get("status") in ("DEVOLVIDO", "EM_PROCESSAMENTO") else DEV_FALHOU
        self._set_refund(refund_id, status, user, rtr_id=data.get("rtrId"), last_error=data.get("motivo"))
        AuditLog(self.store).record(
            "pix_devolucao",
            user=user,
            target=row["e2eid"],
            details={"valor": row["valor"], "status_psp": data.get("status")},
        )
        result = self.store.database.query_one("SELECT * FROM pix_refunds WHERE id = ?", [refund_id])
        assert result is not None
        return result

    # -- internals ------------------------------------------------------------------------
    def _apply(self, charge_id: int, cob: Cobranca) -> Charge:
        charge = self.get(charge_id)
        if cob.txid != charge.txid:
            raise ValueError("resposta do PSP para outra cobrança")
        fields: dict[str, Any] = {
            "copia_e_cola": cob.copia_e_cola or charge.copia_e_cola,
            "criacao_psp": cob.criacao,
            "pix_json": json.dumps(cob.pix, ensure_ascii=False),
        }
        received = [p for p in cob.pix if p.get("endToEndId")]
        if received and cob.valor != charge.valor:
            log.error(
                "PIX: valor da cobrança %s no PSP (%s) difere do local (%s)",
                cob.txid,
                cob.valor,
                charge.valor,
            )
        status = charge.status
        if charge.status in OPEN:
            if received:
                status = PAGA
                fields["e2eid"] = received[0]["endToEndId"]
            elif cob.status == "CONCLUIDA":
                status = charge.status  # concluded without a pix list yet: ask again
            elif cob.status == "REMOVIDA_PELO_USUARIO_RECEBEDOR":
                status = CANCELADA
            elif cob.status == "REMOVIDA_PELO_PSP":
                status = REMOVIDA_PSP
            elif cob.status == "ATIVA":
                status = ATIVA
                expira = datetime.fromisoformat(cob.criacao.replace("Z", "+00:00")) + timedelta(
                    seconds=cob.expiracao
                )
                if datetime.now(UTC) >= expira:
                    status = EXPIRADA
        elif charge.status in CLOSED_UNPAID and received:
            status = PAGA_APOS_CANCELAMENTO
            fields["e2eid"] = received[0]["endToEndId"]
            for p in received:
                self._offer_refund(charge_id, p["endToEndId"], Decimal(str(p["valor"])), "apos_cancelamento")
        if charge.status == PAGA or status == PAGA:
            for p in received[1:]:  # paid twice: the extra Pix goes back
                self._offer_refund(charge_id, p["endToEndId"], Decimal(str(p["valor"])), "duplicado")
        return self._set(charge_id, status, **fields)

    def _offer_refund(self, charge_id: int, e2eid: str, valor: Decimal, motivo: str) -> None:
        if not e2eid:
            return
        now = iso(datetime.now(UTC))
        self.store.database.execute(
            "INSERT OR IGNORE INTO pix_refunds (charge_id, e2eid, valor, motivo, dev_id, status, created_at, "
            "updated_at) VALUES (?,?,?,?,?,?,?,?)",
            [charge_id, e2eid, f"{valor:.2f}", motivo, "D" + secrets.token_hex(12), DEV_PENDENTE, now, now],
        )
        log.warning("PIX %s recebido sem venda (%s): devolução oferecida ao gerente", e2eid, motivo)

    def _set(self, charge_id: int, status: str, **fields: Any) -> Charge:
        current = self.get(charge_id)
        if status != current.status and status not in TRANSITIONS[current.status]:
            raise ValueError(f"cobrança PIX {current.txid}: {current.status} -> {status} não permitido")
        fields["status"] = status
        fields["updated_at"] = iso(datetime.now(UTC))
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.store.database.execute(
            f"UPDATE pix_charges SET {sets} WHERE id = ?", [*fields.values(), charge_id]
        )
        return self.get(charge_id)

    def _note(self, charge_id: int, error: str) -> None:
        self.store.database.execute("UPDATE pix_charges SET last_error = ? WHERE id = ?", [error, charge_id])

    def _set_refund(self, refund_id: int, status: str, user: User, **fields: Any) -> None:
        fields.update(status=status, requested_by=user.id, updated_at=iso(datetime.now(UTC)))
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.store.database.execute(
            f"UPDATE pix_refunds SET {sets} WHERE id = ?", [*fields.values(), refund_id]
        )


def pix_service(ctx: AppContext) -> PixService:
    """The terminal's PIX service (one per context: it caches the PSP client and its token)."""
    service = ctx.__dict__.get("_pix_service")
    if service is None:
        service = PixService(ctx)
        ctx.__dict__["_pix_service"] = service
    return service
