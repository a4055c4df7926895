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
# Refund states (pix_refunds.status):
#   pendente ──manager──> solicitada (written before the PUT; stays so when the answer is lost)
#   solicitada ──PSP answers──> em_processamento ──GET──> devolvida | nao_realizada
#   solicitada ──not delivered / refused──> falhou (nothing at the PSP: asked again with the same id)
#   nao_realizada ──manager asks again──> pendente with a new id (the old one is final at the PSP)
DEV_PENDENTE, DEV_DEVOLVIDA, DEV_FALHOU = "pendente", "devolvida", "falhou"
DEV_SOLICITADA, DEV_EM_PROCESSAMENTO, DEV_NAO_REALIZADA = "solicitada", "em_processamento", "nao_realizada"
DEV_IN_FLIGHT = (DEV_SOLICITADA, DEV_EM_PROCESSAMENTO)
DEV_OPEN = (DEV_PENDENTE, DEV_FALHOU, DEV_NAO_REALIZADA, *DEV_IN_FLIGHT)  # listed for the manager
REFUND_STATUS = {
    "EM_PROCESSAMENTO": DEV_EM_PROCESSAMENTO,
    "DEVOLVIDO": DEV_DEVOLVIDA,
    "NAO_REALIZADO": DEV_NAO_REALIZADA,
}
REFUND_LABELS = {  # what the manager reads
    DEV_PENDENTE: "a devolver",
    DEV_SOLICITADA: "solicitada, sem resposta do PSP (será consultada)",
    DEV_EM_PROCESSAMENTO: "em processamento no PSP",
    DEV_DEVOLVIDA: "devolvida",
    DEV_NAO_REALIZADA: "não realizada pelo PSP",
    DEV_FALHOU: "falhou",
}
REFUND_FOLLOW = 30.0  # seconds a manager's refund is followed before leaving it to sync()
LATE_WATCH = timedelta(hours=24)  # how long a closed charge is still checked for a late Pix
# The late-payment watcher (``sync(due_only=True)``, from the background sync every minute): a closed
# unpaid charge is consulted again only when its last consult is older than the interval for its age,
# so one abandoned charge costs ~40 GETs over the 24 h watch instead of one a minute (1 440).
LATE_WATCH_STEPS: tuple[tuple[timedelta, timedelta], ...] = (  # (charge age up to, min. interval)
    (timedelta(minutes=10), timedelta(0)),  # every background pass (60 s)
    (timedelta(hours=1), timedelta(minutes=5)),
    (timedelta(hours=6), timedelta(minutes=30)),
    (LATE_WATCH, timedelta(hours=2)),
)
EXPIRY_GRACE = 30.0  # seconds a wait keeps asking after the charge's expiry when the PSP does not answer
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


def new_dev_id() -> str:
    return "D" + secrets.token_hex(12)  # 25 alphanumerics: within the API's [a-zA-Z0-9]{1,35}


def _late_watch_due(row: dict[str, Any], now: datetime) -> bool:
    """A closed unpaid charge is due when its last consult is older than the step for its age."""
    created = datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
    checked = datetime.fromisoformat(row["updated_at"].replace("Z", "+00:00"))
    age = now - created
    for up_to, interval in LATE_WATCH_STEPS:
        if age <= up_to:
            return now - checked >= interval
    return False


def _older_than(stamp: str, age: timedelta) -> bool:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) < datetime.now(UTC) - age


class PixService:
    """One per terminal (``pix_service(ctx)``)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self._client: PixClient | None = None
        self._lock = threading.Lock()
        self._waits: set[threading.Event] = set()

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

        # exactly what the counter showed, kept for reprints (no store key: no QR was shown, none kept)
        brcode = self.static_brcode(valor) if self.setting("pix.chave") else None
        AuditLog(self.store).record("pix_estatico_confirmado", user=user, details={"valor": f"{valor:.2f}"})
        return Payment(PIX_ESTATICO, valor, pix_brcode=brcode)

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
        expiry_grace: float = EXPIRY_GRACE,
    ) -> Charge:
        """Poll until paid, expired, removed, cancelled (``cancel`` set) or ``timeout``.

        Backoff from ``first_interval`` to ``max_interval``: a charge is usually paid in 10-40 s
        and the terminal shares its link with the NFC-e. Network errors are retried until the end,
        which is never later than ``expiry_grace`` seconds after the charge's expiry. Every wait
        is registered: ``stop_waits()`` ends them all (the window closing, the program quitting).
        """
        cancel = cancel or threading.Event()
        with self._lock:
            self._waits.add(cancel)
        try:
            return self._wait(
                charge_id, timeout, cancel, on_update, first_interval, max_interval, expiry_grace
            )
        finally:
            with self._lock:
                self._waits.discard(cancel)

    def _wait(
        self,
        charge_id: int,
        timeout: float | None,
        cancel: threading.Event,
        on_update: Callable[[Charge], None] | None,
        first_interval: float,
        max_interval: float,
        expiry_grace: float,
    ) -> Charge:
        from pos_app.core.pix.client import PixError

        deadline = time.monotonic() + timeout if timeout is not None else None
        interval = first_interval
        charge = self.get(charge_id)
        while True:
            if cancel.is_set():
                return charge
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
            if left <= -expiry_grace:
                # expired by the clock and the PSP did not say so in the grace: stop asking here; the
                # background sync resolves the charge (a late payment is then offered for refund)
                log.warning(
                    "PIX: cobrança %s vencida sem resposta do PSP; fica para a sincronização", charge.txid
                )
                return charge
            if left <= 0:
                left = interval  # expired by the clock: the next GET decides (a last-second payment wins)
            if deadline is not None:
                if deadline - time.monotonic() <= 0:
                    return charge  # caller's timeout; the charge is still open (caller cancels it)
                left = min(left, deadline - time.monotonic())
            if cancel.wait(min(interval, max(left, 0.05))):
                return charge
            interval = min(interval * 1.5, max_interval)

    def active_waits(self) -> int:
        """How many ``wait`` loops are polling the PSP right now."""
        with self._lock:
            return len(self._waits)

    def stop_waits(self) -> None:
        """End every ``wait`` at once (they return the charge as it is; nothing is cancelled at the PSP)."""
        with self._lock:
            waits = list(self._waits)
        for event in waits:
            event.set()

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
    def sync(self, *, due_only: bool = False) -> list[Charge]:
        """Resolve charges left open (crash) and look for Pix arriving on closed ones.

        ``due_only`` (the background watcher): closed unpaid charges only when due by
        ``LATE_WATCH_STEPS``; the manager's list and the CLI ask about every one still watched.
        """
        from pos_app.core.pix.client import PixError

        now = datetime.now(UTC)
        since = iso(now - LATE_WATCH)
        # A charge being created right now (PUT on its way) is left to its own request.
        settled = iso(now - IN_FLIGHT_GRACE)
        rows = self.store.database.query(
            f"SELECT id, status, created_at, updated_at FROM pix_charges WHERE status IN ({','.join('?' * 4)}) "
            "AND created_at >= ? UNION SELECT id, status, created_at, updated_at FROM pix_charges "
            "WHERE status = ? AND created_at < ? ORDER BY id",
            [ATIVA, *CLOSED_UNPAID, since, CRIANDO, settled],
        )
        if due_only:
            rows = [r for r in rows if r["status"] not in CLOSED_UNPAID or _late_watch_due(r, now)]
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
        self.consult_refunds()  # refunds left in doubt (crash) or still being processed
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
        if row and row["n"]:
            return True
        refunds = self.store.database.query_one(
            f"SELECT COUNT(*) AS n FROM pix_refunds WHERE status IN ({','.join('?' * len(DEV_IN_FLIGHT))})",
            list(DEV_IN_FLIGHT),
        )
        return bool(refunds and refunds["n"])

    def recent_charges(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest charges of this terminal (``pos-app pix cobrancas``)."""
        return self.store.database.query(
            "SELECT id, txid, valor, status, e2eid, sale_id, created_at FROM pix_charges ORDER BY id DESC LIMIT ?",
            [limit],
        )

    def pending_refunds(self) -> list[dict[str, Any]]:
        return self.store.database.query(
            "SELECT r.*, c.txid FROM pix_refunds r JOIN pix_charges c ON c.id = r.charge_id "
            f"WHERE r.status IN ({','.join('?' * len(DEV_OPEN))}) ORDER BY r.id",
            list(DEV_OPEN),
        )

    def refunds(self) -> list[dict[str, Any]]:
        return self.store.database.query(
            "SELECT r.*, c.txid FROM pix_refunds r JOIN pix_charges c ON c.id = r.charge_id ORDER BY r.id"
        )

    def refund(self, refund_id: int, user: User, *, follow: float = REFUND_FOLLOW) -> dict[str, Any]:
        """``PUT /pix/{e2eid}/devolucao/{id}`` by a manager, then ``GET`` until its final status.

        The request is written ahead (``solicitada``) with an id stored when the refund was offered:
        a refund left ``solicitada``/``em_processamento`` (crash, answer lost) is consulted by that id
        first and only re-sent, with the same id, when the PSP does not know it. A new id is used only
        after the PSP said ``NAO_REALIZADO`` (that id is final and nothing was returned). The status is
        followed for ``follow`` seconds; a refund still ``em_processamento`` is consulted by ``sync``.
        """
        from pos_app.core.pix.client import PixApiError, PixError, PixInDoubt
        from pos_app.core.services.audit import AuditLog

        if not user.is_manager:
            raise PermissionError("Só um gerente pode devolver um PIX.")
        row = self._refund_row(refund_id)
        if row["status"] == DEV_DEVOLVIDA:
            return row
        audit = AuditLog(self.store)
        try:
            send = row["status"] not in DEV_IN_FLIGHT
            if not send:
                try:  # in doubt or in processing: ask before asking again
                    row = self._apply_refund(
                        refund_id, self.client().consultar_devolucao(row["e2eid"], row["dev_id"])
                    )
                except PixApiError as exc:
                    if exc.status != 404:
                        raise
                    log.info("PIX: devolução %s não chegou ao PSP; reenviada com o mesmo id", row["dev_id"])
                    send = True
            if row["status"] == DEV_NAO_REALIZADA:  # final at the PSP: a new request needs a new id
                old = row["dev_id"]
                self._set_refund(refund_id, DEV_PENDENTE, user, dev_id=new_dev_id())
                audit.record(
                    "pix_devolucao_nova_tentativa",
                    user=user,
                    target=row["e2eid"],
                    details={"id_anterior": old},
                )
                row = self._refund_row(refund_id)
                send = True
            if send:
                self._set_refund(refund_id, DEV_SOLICITADA, user, last_error=None)  # written ahead
                try:
                    data = self.client().devolver(row["e2eid"], row["dev_id"], Decimal(row["valor"]))
                except PixInDoubt as exc:
                    self._set_refund(refund_id, DEV_SOLICITADA, user, last_error=str(exc))  # consulted later
                    raise
                except PixError as exc:  # not delivered or refused: nothing was created at the PSP
                    self._set_refund(refund_id, DEV_FALHOU, user, last_error=str(exc))
                    raise
                row = self._apply_refund(refund_id, data)
            row = self._follow_refund(refund_id, follow)
        except PixError as exc:
            audit.record(
                "pix_devolucao", user=user, target=row["e2eid"], outcome="falha", details={"erro": str(exc)}
            )
            raise
        audit.record(
            "pix_devolucao",
            user=user,
            target=row["e2eid"],
            outcome="ok" if row["status"] == DEV_DEVOLVIDA else row["status"],
            details={"valor": row["valor"], "status": row["status"], "id": row["dev_id"]},
        )
        return row

    def consult_refunds(self) -> list[dict[str, Any]]:
        """One ``GET`` for every refund requested but not final (after a crash, or still processing)."""
        from pos_app.core.pix.client import PixApiError, PixError

        out = []
        for row in self.store.database.query(
            f"SELECT * FROM pix_refunds WHERE status IN ({','.join('?' * len(DEV_IN_FLIGHT))}) ORDER BY id",
            list(DEV_IN_FLIGHT),
        ):
            try:
                data = self.client().consultar_devolucao(row["e2eid"], row["dev_id"])
            except PixApiError as exc:
                if (
                    exc.status == 404
                    and row["status"] == DEV_SOLICITADA
                    and _older_than(row["updated_at"], IN_FLIGHT_GRACE)
                ):
                    # never reached the PSP: the manager asks again (with the same id)
                    self.store.database.execute(
                        "UPDATE pix_refunds SET status = ?, last_error = ?, updated_at = ? WHERE id = ?",
                        [DEV_FALHOU, "devolução não chegou ao PSP", iso(datetime.now(UTC)), row["id"]],
                    )
                continue
            except PixError as exc:
                log.warning("PIX: consulta da devolução %s falhou: %s", row["dev_id"], exc)
                continue
            out.append(self._apply_refund(int(row["id"]), data))
        return out

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
            [charge_id, e2eid, f"{valor:.2f}", motivo, new_dev_id(), DEV_PENDENTE, now, now],
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

    def _refund_row(self, refund_id: int) -> dict[str, Any]:
        row = self.store.database.query_one("SELECT * FROM pix_refunds WHERE id = ?", [refund_id])
        if row is None:
            raise KeyError(f"devolução {refund_id} não encontrada")
        return row

    def _apply_refund(self, refund_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """The PSP's ``Devolucao`` (checked against the request) as the local status."""
        from pos_app.core.pix.client import PixInDoubt

        row = self._refund_row(refund_id)
        if str(data.get("id")) != row["dev_id"] or Decimal(str(data.get("valor", "0"))) != Decimal(
            row["valor"]
        ):
            raise PixInDoubt("O PSP respondeu outra devolução; consulte antes de repetir.")
        status = REFUND_STATUS.get(str(data.get("status")))
        if status is None:
            raise PixInDoubt(f"Status de devolução desconhecido: {data.get('status')}")
        fields: dict[str, Any] = {"status": status, "updated_at": iso(datetime.now(UTC))}
        if data.get("rtrId"):
            fields["rtr_id"] = data["rtrId"]
        fields["last_error"] = data.get("motivo") if status == DEV_NAO_REALIZADA else None
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.store.database.execute(
            f"UPDATE pix_refunds SET {sets} WHERE id = ?", [*fields.values(), refund_id]
        )
        if status == DEV_NAO_REALIZADA and row["status"] != DEV_NAO_REALIZADA:
            log.warning("PIX: devolução %s não realizada pelo PSP: %s", row["dev_id"], data.get("motivo"))
        return self._refund_row(refund_id)

    def _follow_refund(self, refund_id: int, follow: float) -> dict[str, Any]:
        """``GET`` the refund until DEVOLVIDO/NAO_REALIZADO or ``follow`` seconds (backoff 0.3 -> 3 s)."""
        from pos_app.core.pix.client import PixError

        deadline = time.monotonic() + follow
        interval = 0.3
        row = self._refund_row(refund_id)
        while row["status"] == DEV_EM_PROCESSAMENTO and time.monotonic() < deadline:
            time.sleep(min(interval, max(deadline - time.monotonic(), 0.0)))
            interval = min(interval * 2, 3.0)
            try:
                row = self._apply_refund(
                    refund_id, self.client().consultar_devolucao(row["e2eid"], row["dev_id"])
                )
            except PixError as exc:  # the refund is requested: its status is consulted again later
                log.warning("PIX: consulta da devolução %s falhou: %s", row["dev_id"], exc)
        return row

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
