"""Resend an NFC-e by e-mail (``POST /v2/nfce/REF/email``): up to 10 valid addresses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.validators import is_valid_email
from pos_app.core.fiscal.document_status import HAS_API_XML
from pos_app.core.focus.errors import ApiError, FocusError, InDoubt
from pos_app.core.focus.nfce import MAX_EMAILS
from pos_app.core.services.audit import FAILED, OK, REFUSED, AuditLog
from pos_app.core.services.cancellation import CancellationService
from pos_app.core.services.nfe import doc_api
from pos_app.core.services.pending_actions import CONCLUIDO, EMAIL, NAO_EFETIVADO, PENDENTE, PendingActions
from pos_app.core.services.users import ManagerError

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User


@dataclass
class EmailResult:
    ok: bool
    mensagem: str
    ref: str
    emails: list[str] = field(default_factory=list)
    resposta: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "enviado": self.ok,
            "mensagem": self.mensagem,
            "ref": self.ref,
            "emails": self.emails,
            "resposta": self.resposta,
        }


def clean_addresses(addresses: list[str]) -> list[str]:
    """Split on commas/semicolons/spaces, drop duplicates, check each; raises ManagerError."""
    found: list[str] = []
    for chunk in addresses:
        for part in chunk.replace(";", ",").replace(" ", ",").split(","):
            part = part.strip()
            if part and part.lower() not in (a.lower() for a in found):
                found.append(part)
    if not found:
        raise ManagerError("Informe ao menos um endereço de e-mail.", field="emails")
    if len(found) > MAX_EMAILS:
        raise ManagerError(
            f"No máximo {MAX_EMAILS} endereços por envio ({len(found)} informados).", field="emails"
        )
    bad = [a for a in found if not is_valid_email(a)]
    if bad:
        raise ManagerError(f"E-mail inválido: {', '.join(bad)}", field="emails")
    return found


class EmailService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.audit = AuditLog(ctx.store)

    def send(
        self, ref: str, addresses: list[str], user: User | None = None, now: datetime | None = None
    ) -> EmailResult:
        now = now or self.ctx.now()
        emails = clean_addresses(addresses)
        doc = CancellationService(self.ctx).resolve(ref)
        if doc["status"] not in HAS_API_XML:
            msg = (
                f"A NFC-e {doc['ref']} ainda não foi autorizada ({doc['status']}): o e-mail só pode ser enviado "
                "depois da autorização."
            )
            self.audit.record(
                "email",
                user=user,
                target=doc["ref"],
                outcome=REFUSED,
                details={"emails": emails, "motivo": msg},
                now=now,
            )
            raise ManagerError(msg, field="ref")
        actions = PendingActions(self.ctx)
        action_id = actions.begin(EMAIL, doc["ref"], {"emails": emails}, document_id=int(doc["id"]))
        try:
            answer = doc_api(self.ctx, doc).email(doc["ref"], emails)
        except InDoubt as exc:
            # Maybe sent: the next sync settles it (the API has no consult for e-mails; see resolve_intent).
            self.audit.record(
                "email",
                user=user,
                target=doc["ref"],
                outcome=FAILED,
                details={"emails": emails, "erro": str(exc)},
                now=now,
            )
            return EmailResult(
                False,
                f"E-mail sem confirmação da API: {exc} O sistema confirma no próximo 'pos-app sync'.",
                doc["ref"],
                emails,
            )
        except FocusError as exc:
            actions.finish(action_id, NAO_EFETIVADO, f"não enviado: {exc}")
            self.audit.record(
                "email",
                user=user,
                target=doc["ref"],
                outcome=FAILED,
                details={"emails": emails, "erro": str(exc)},
                now=now,
            )
            return EmailResult(False, f"E-mail não enviado: {exc}", doc["ref"], emails)
        actions.finish(action_id, CONCLUIDO, "enviado", answer)
        self.audit.record(
            "email", user=user, target=doc["ref"], outcome=OK, details={"emails": emails}, now=now
        )
        return EmailResult(
            True, f"NFC-e {doc['ref']} enviada para {', '.join(emails)}.", doc["ref"], emails, answer
        )

    def resolve_intent(self, row: dict[str, Any], request: dict[str, Any]) -> str:
        """Settle an e-mail resend whose answer never arrived.

        The Focus API has no consult for e-mails and a second e-mail is harmless (the worst case is
        the customer receiving the same note twice), so the request is repeated once and its answer
        settles the intent.
        """
        actions = PendingActions(self.ctx)
        action_id = int(row["id"])
        try:
            doc = self.ctx.store.documents.by_ref(row["target"]) or {}  # NF-e (model 55) or NFC-e
            answer = doc_api(self.ctx, doc).email(row["target"], list(request["emails"]))
        except ApiError as exc:
            actions.finish(action_id, NAO_EFETIVADO, f"recusado pela API: {exc.codigo}", exc.body)
            return NAO_EFETIVADO
        except FocusError as exc:
            actions.touch(action_id, f"reenvio falhou: {exc}")
            return PENDENTE
        actions.finish(action_id, CONCLUIDO, "reenviado após interrupção", answer)
        return CONCLUIDO
