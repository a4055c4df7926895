"""Printing the DANFCe on the counter's thermal printer. A printing failure never undoes a sale.

Flow after a sale (UI or ``pos-app sell``): ``EmissionService.checkout`` stores the sale, emits the
note and saves the PDF; then ``PrintService(ctx).after_checkout(result)`` prints it on the configured
printer. Every thermal print is a row of ``print_jobs`` written *before* the bytes leave, so a printer
that is off, unreachable or out of paper leaves the job ``pendente`` ("na fila de reimpressão"):
``retry_pending()`` prints it later, oldest first.

Rules:
- the original is printed once; any further copy is a "2ª via" that needs a manager (the caller checks
  the PIN, the service records who authorized it) and is marked "2ª VIA - REIMPRESSÃO";
- a cash payment (forma 01) kicks the drawer on the first attempt of the original only;
- ``impressora.tipo = pdf`` prints nothing: the PDF saved with the sale is the receipt, and a second
  copy is another PDF marked "2ª VIA".
Public methods never raise: they answer a :class:`PrintOutcome` with a Portuguese message.
Call them from a worker thread in the UI (network timeouts of a few seconds).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app.core.fiscal import document_status as ds
from pos_app.core.printing import escpos
from pos_app.core.printing.escpos import PrinterProfile, resolve_profile
from pos_app.core.printing.pdf import render_pdf
from pos_app.core.printing.printers import Printer, PrinterError, PrinterStatus, open_printer
from pos_app.core.printing.receipt import ReceiptData
from pos_app.core.printing.sample import sample_receipt
from pos_app.core.services.audit import AuditLog
from pos_app.core.services.receipts import ReceiptService
from pos_app.core.store.print_jobs import ORIGINAL, PENDENTE, SEGUNDA_VIA, PrintJobsRepo

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.services.emission import SaleResult
    from pos_app.core.store.users import User

log = logging.getLogger("pos_app.printing")

# Documents that have a DANFCe to print.
PRINTABLE_STATES = ds.PRINTABLE
CASH = "01"
MARK_SEGUNDA_VIA = "2ª VIA - REIMPRESSÃO"
QUEUED_SUFFIX = "A venda está concluída; o cupom ficou na fila de reimpressão."


@dataclass(frozen=True)
class PrintOutcome:
    ok: bool
    message: str
    queued: bool  # the receipt waits in print_jobs for the printer
    job_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "mensagem": self.message, "na_fila": self.queued, "job": self.job_id}


@dataclass(frozen=True)
class PrintStatus:
    ok: bool
    message: str  # one line for the status bar
    paper: str  # ok | pouco | sem | desconhecido
    pending: int  # receipts waiting for reprint

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "mensagem": self.message, "papel": self.paper, "pendentes": self.pending}


@dataclass(frozen=True)
class PendingPrint:
    job_id: int
    document_id: int
    ref: str
    numero: int | None
    serie: int | None
    kind: str  # original | segunda_via
    attempts: int
    last_error: str | None
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RetryResult:
    printed: int
    pending: int
    message: str
    outcomes: tuple[PrintOutcome, ...] = ()

    @property
    def ok(self) -> bool:
        return self.pending == 0

    def to_json(self) -> dict[str, Any]:
        return {"impressos": self.printed, "pendentes": self.pending, "mensagem": self.message}


@dataclass(frozen=True)
class PrintSettings:
    kind: str
    address: str
    profile: PrinterProfile
    columns: int
    code_page: str
    drawer_pin: int
    width_mm: int

    @classmethod
    def from_config(cls, config: Any) -> PrintSettings:
        width = int(config.get("impressora.largura_mm") or 80)
        columns = int(config.get("impressora.colunas")) if config.is_set("impressora.colunas") else None
        profile, cols = resolve_profile(config.get("impressora.modelo") or "auto", columns, width)
        return cls(
            kind=config.get("impressora.tipo") or "pdf",
            address=config.get("impressora.endereco") or "",
            profile=profile,
            columns=cols,
            code_page=config.get("impressora.codepage") or "cp850",
            drawer_pin=int(config.get("impressora.gaveta_pino") or 2),
            width_mm=width,
        )


class PrintService:
    def __init__(self, ctx: AppContext, printer: Printer | None = None) -> None:
        self.ctx = ctx
        self._printer = printer  # tests/UI may inject one; otherwise built from the settings
        self.jobs = PrintJobsRepo(ctx.store.database)
        self.receipts = ReceiptService(ctx)

    # -- settings ---------------------------------------------------------------------------
    def settings(self) -> PrintSettings:
        return PrintSettings.from_config(self.ctx.config)

    def printer(self, settings: PrintSettings | None = None) -> Printer:
        if self._printer is not None:
            return self._printer
        s = settings or self.settings()
        return open_printer(s.kind, s.address)

    def _thermal(self, settings: PrintSettings) -> bool:
        return self._printer is not None or settings.kind != "pdf"

    # -- after a sale -----------------------------------------------------------------------
    def after_checkout(self, result: SaleResult, user_id: int | None = None) -> PrintOutcome | None:
        """Print the receipt of a finished checkout; None when there is nothing to print (no document
        issued, or the terminal is "PDF only")."""
        try:
            if not result.emitido or not self._thermal(self.settings()):
                return None
        except Exception:  # noqa: BLE001 - bad settings: print_document reports them
            pass
        return self.print_document(result.document_id, user_id=user_id)

    # -- printing a document ----------------------------------------------------------------
    def print_document(
        self, doc_id: int, *, reprint: bool = False, user_id: int | None = None
    ) -> PrintOutcome:
        """Print the DANFCe of a document. ``reprint=True`` asks for another copy: ``user_id`` must be
        a manager (the caller has checked the PIN). Never raises."""
        try:
            return self._print_document(doc_id, reprint=reprint, user_id=user_id)
        except Exception as exc:  # noqa: BLE001 - printing never breaks the sale flow
            log.exception("falha inesperada ao imprimir o documento %s", doc_id)
            return PrintOutcome(
                False,
                f"Falha inesperada na impressão: {exc}. {QUEUED_SUFFIX}",
                queued=bool(self._pending_ids(doc_id)),
            )

    def reprint(self, doc_id: int, manager_user_id: int) -> PrintOutcome:
        """Second copy of a past receipt, authorized by a manager (PIN checked by the caller)."""
        return self.print_document(doc_id, reprint=True, user_id=manager_user_id)

    def reprint_audited(
        self, doc_id: int, ref: str, manager: User | None, manager_user_id: int | None
    ) -> PrintOutcome:
        """A reprint asked from the manager's history, recorded in the audit log (never raises)."""
        out = (
            self.reprint(doc_id, manager_user_id)
            if manager_user_id
            else self.print_document(doc_id, reprint=True)
        )
        try:
            AuditLog(self.ctx.store).record(
                "reimpressao",
                user=manager,
                target=ref,
                outcome="ok" if out.ok else "erro",
                details={"mensagem": out.message},
            )
        except Exception:  # noqa: BLE001 - printing never raises; the audit failure is logged
            log.exception("falha ao registrar a reimpressão na auditoria")
        return out

    def reprint_other_terminal(
        self, terminal: str, doc: dict[str, Any], sale: dict[str, Any], manager: User
    ) -> PrintOutcome:
        """Second copy of a sale made at another checkout of the store (its rows from the store database),
        authorized by a manager: printed here (or saved as PDF), marked "2ª via", recorded in the audit log.
        No print job: the original belongs to the other terminal's queue."""
        ref = str(doc.get("ref") or "")
        if doc.get("status") not in PRINTABLE_STATES:
            return PrintOutcome(
                False, f"A nota {ref} está '{doc.get('status')}': não há DANFCe para imprimir.", False
            )
        stamp = {"authorized_by": manager.id, "created_at": self.ctx.now().isoformat(timespec="seconds")}
        copies = [self._mark_second_copy(c, stamp) for c in self.receipts.copies_for(doc, sale)]
        settings = self.settings()
        if not self._thermal(settings):
            folder = self.ctx.receipts_dir() / "loja" / str(doc["data_emissao"])[:7]
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{terminal}-{ref}-2via-{self.ctx.now():%Y%m%d%H%M%S}.pdf"
            target = render_pdf(copies, folder / name, width_mm=settings.width_mm)
            out = PrintOutcome(True, f"Segunda via (caixa {terminal}) salva em {target}", False)
        else:
            try:
                printer = self.printer(settings)
                printer.send(
                    escpos.render_receipts(copies, settings.profile, settings.columns, settings.code_page)
                )
                out = PrintOutcome(
                    True, f"Segunda via (caixa {terminal}) impressa em {printer.description}.", False
                )
            except PrinterError as exc:
                out = PrintOutcome(False, f"{exc}. Confira a impressora e tente de novo.", False)
        try:
            AuditLog(self.ctx.store).record(
                "reimpressao_loja",
                user=manager,
                target=f"{terminal}/{ref}",
                outcome="ok" if out.ok else "erro",
                details={"mensagem": out.message},
            )
        except Exception:  # noqa: BLE001 - printing never raises; the audit failure is logged
            log.exception("falha ao registrar a reimpressão na auditoria")
        return out

    def _print_document(self, doc_id: int, *, reprint: bool, user_id: int | None) -> PrintOutcome:
        doc = self.ctx.store.documents.get(doc_id)
        if doc is None:
            return PrintOutcome(False, f"Documento {doc_id} não encontrado.", False)
        if doc["status"] not in PRINTABLE_STATES:
            return PrintOutcome(
                False, f"A nota {doc['ref']} está '{doc['status']}': não há DANFCe para imprimir.", False
            )
        manager: User | None = None
        if reprint:
            manager = self._manager(user_id)
            if manager is None:
                return PrintOutcome(False, "A segunda via exige a autorização de um gerente (PIN).", False)
        settings = self.settings()
        if not self._thermal(settings):
            return self._pdf_only(doc, manager, user_id)

        printer_desc = self._describe(settings)
        pending = self.jobs.pending_for(doc_id, ORIGINAL)
        if pending is not None:  # the original never came out: print it now (no 2ª via mark, no drawer)
            if manager is not None:
                self.jobs.set_authorized_by(int(pending["id"]), manager.id)
            return self._run_job(int(pending["id"]), settings, drawer=False)
        if manager is not None:
            job_id = self.jobs.create(
                doc_id, SEGUNDA_VIA, printer=printer_desc, requested_by=user_id, authorized_by=manager.id
            )
            return self._run_job(job_id, settings, drawer=False)
        if self.jobs.printed_count(doc_id) > 0:
            return PrintOutcome(
                False, "Este cupom já foi impresso: a segunda via exige a autorização de um gerente.", False
            )
        drawer = self._paid_cash(doc)
        job_id = self.jobs.create(
            doc_id, ORIGINAL, printer=printer_desc, requested_by=user_id, open_drawer=drawer
        )
        return self._run_job(job_id, settings, drawer=drawer)

    def _run_job(self, job_id: int, settings: PrintSettings, *, drawer: bool) -> PrintOutcome:
        job = self.jobs.get(job_id)
        assert job is not None
        doc_id = int(job["document_id"])
        printer_desc = self._describe(settings)
        try:
            copies = self.receipts.copies_for_document(doc_id)
            if job["kind"] == SEGUNDA_VIA:
                copies = [self._mark_second_copy(c, job) for c in copies]
            data = escpos.render_receipts(
                copies,
                settings.profile,
                settings.columns,
                settings.code_page,
                drawer_pin=settings.drawer_pin if drawer else None,
            )
            printer = self.printer(settings)
            printer_desc = printer.description
            printer.send(data)
        except PrinterError as exc:
            self.jobs.mark_failed(job_id, printer_desc, str(exc))
            hint = ' A gaveta não abriu: use "Abrir gaveta".' if drawer else ""
            return PrintOutcome(False, f"{exc}. {QUEUED_SUFFIX}{hint}", True, job_id)
        except Exception as exc:  # noqa: BLE001 - layout/settings problem: keep the job for later
            log.exception("falha ao imprimir o job %s", job_id)
            self.jobs.mark_failed(job_id, printer_desc, f"{type(exc).__name__}: {exc}")
            return PrintOutcome(False, f"Falha ao preparar a impressão: {exc}. {QUEUED_SUFFIX}", True, job_id)
        self.jobs.mark_printed(job_id, printer_desc)
        what = "Segunda via impressa" if job["kind"] == SEGUNDA_VIA else "Cupom impresso"
        vias = f" ({len(copies)} vias)" if len(copies) > 1 else ""
        return PrintOutcome(True, f"{what}{vias} em {printer_desc}.", False, job_id)

    def _pdf_only(self, doc: dict[str, Any], manager: User | None, user_id: int | None) -> PrintOutcome:
        doc_id = int(doc["id"])
        settings = self.settings()
        if manager is None:
            path = doc["receipt_path"]
            if not path or not Path(path).exists():
                path = str(self.receipts.render_for_document(doc_id, settings.width_mm))
            return PrintOutcome(True, f"Impressora configurada como somente PDF: DANFCe em {path}", False)
        job_id = self.jobs.create(
            doc_id, SEGUNDA_VIA, printer="pdf", requested_by=user_id, authorized_by=manager.id
        )
        job = self.jobs.get(job_id)
        assert job is not None
        copies = [self._mark_second_copy(c, job) for c in self.receipts.copies_for_document(doc_id)]
        folder = self.ctx.receipts_dir() / str(doc["data_emissao"])[:7]
        folder.mkdir(parents=True, exist_ok=True)
        target = render_pdf(copies, folder / f"{doc['ref']}-2via-{job_id}.pdf", width_mm=settings.width_mm)
        self.jobs.mark_printed(job_id, f"pdf {target}")
        return PrintOutcome(True, f"Segunda via salva em {target}", False, job_id)

    # -- queue ------------------------------------------------------------------------------
    def pending(self) -> list[PendingPrint]:
        """Receipts waiting for the printer, oldest first."""
        return [
            PendingPrint(
                job_id=int(r["id"]),
                document_id=int(r["document_id"]),
                ref=r["ref"],
                numero=r["numero"],
                serie=r["serie"],
                kind=r["kind"],
                attempts=int(r["attempts"]),
                last_error=r["last_error"],
                created_at=r["created_at"],
            )
            for r in self.jobs.pending()
        ]

    def retry_pending(self) -> RetryResult:
        """Print the waiting receipts, oldest first; stops at the first failure (printer still down)."""
        outcomes: list[PrintOutcome] = []
        printed = 0
        try:
            settings = self.settings()
            if not self._thermal(settings):
                n = len(self.jobs.pending())
                return RetryResult(
                    0,
                    n,
                    "Impressora configurada como somente PDF: nada a reimprimir."
                    if not n
                    else f"{n} cupom(ns) aguardando: configure a impressora térmica.",
                )
            for job in self.jobs.pending():
                if job["document_status"] not in PRINTABLE_STATES:
                    self.jobs.discard(int(job["id"]), f"nota '{job['document_status']}': cupom não impresso")
                    continue
                outcome = self._run_job(int(job["id"]), settings, drawer=False)
                outcomes.append(outcome)
                if not outcome.ok:
                    break
                printed += 1
            remaining = len(self.jobs.pending())
        except Exception as exc:  # noqa: BLE001
            log.exception("falha ao reimprimir a fila")
            return RetryResult(
                printed, len(self._safe_pending()), f"Falha ao reimprimir: {exc}", tuple(outcomes)
            )
        if remaining == 0:
            message = (
                f"{printed} cupom(ns) reimpresso(s)." if printed else "Nenhum cupom aguardando impressão."
            )
        else:
            last = outcomes[-1].message if outcomes else ""
            message = f"{printed} reimpresso(s), {remaining} ainda na fila. {last}".strip()
        return RetryResult(printed, remaining, message, tuple(outcomes))

    # -- device -----------------------------------------------------------------------------
    def status(self) -> PrintStatus:
        """Printer reachability/paper plus the reprint queue, for the status bar. Never raises."""
        pending = len(self._safe_pending())
        try:
            settings = self.settings()
            st = self.printer(settings).status()
        except PrinterError as exc:
            st = PrinterStatus(False, f"{exc}.", "desconhecido")
        except Exception as exc:  # noqa: BLE001
            st = PrinterStatus(False, f"Impressora: {exc}.", "desconhecido")
        message = st.message
        if pending:
            message += f" {pending} cupom(ns) aguardando reimpressão."
        return PrintStatus(st.ok, message, st.paper, pending)

    def test_page(self) -> PrintOutcome:
        """ "Imprimir teste": a sample DANFCe (homologação) with the profile, columns and code page."""
        try:
            settings = self.settings()
            note = (
                f"TESTE DE IMPRESSÃO - {settings.profile.name}, {settings.columns} colunas, "
                f"{settings.code_page.upper()}\nAcentos: ÁÉÍÓÚ ÂÊÔ ÃÕ Ç À / áéíóú âêô ãõ ç à nº ª"
            )
            data = dataclasses.replace(sample_receipt(homologacao=True), mensagem_extra=note)
            if not self._thermal(settings):
                target = render_pdf(
                    [data],
                    self.ctx.receipts_dir() / f"teste-impressao-{settings.width_mm}mm.pdf",
                    width_mm=settings.width_mm,
                )
                return PrintOutcome(True, f"Somente PDF: página de teste salva em {target}", False)
            printer = self.printer(settings)
            printer.send(
                escpos.render_receipts([data], settings.profile, settings.columns, settings.code_page)
            )
            return PrintOutcome(True, f"Página de teste enviada para {printer.description}.", False)
        except PrinterError as exc:
            return PrintOutcome(False, f"{exc}.", False)
        except Exception as exc:  # noqa: BLE001
            log.exception("falha na página de teste")
            return PrintOutcome(False, f"Falha na página de teste: {exc}", False)

    def open_drawer(self) -> PrintOutcome:
        """Kick the cash drawer (it is wired to the printer)."""
        try:
            settings = self.settings()
            if not self._thermal(settings):
                return PrintOutcome(
                    False, "Sem impressora térmica configurada: a gaveta é acionada pela impressora.", False
                )
            self.printer(settings).send(escpos.drawer_kick(settings.drawer_pin))
            return PrintOutcome(True, "Gaveta aberta.", False)
        except PrinterError as exc:
            return PrintOutcome(False, f"Gaveta não abriu: {exc}.", False)
        except Exception as exc:  # noqa: BLE001
            return PrintOutcome(False, f"Gaveta não abriu: {exc}", False)

    # -- helpers ----------------------------------------------------------------------------
    def _describe(self, settings: PrintSettings) -> str:
        if self._printer is not None:
            return self._printer.description
        return f"{settings.kind} {settings.address}".strip()

    def _manager(self, user_id: int | None) -> User | None:
        if user_id is None:
            return None
        user = self.ctx.store.users.get(int(user_id))
        return user if user is not None and user.ativo and user.is_manager else None

    def _paid_cash(self, doc: dict[str, Any]) -> bool:
        sale = self.ctx.store.sales.get(int(doc["sale_id"]))
        return bool(sale) and any(p["forma"] == CASH for p in sale["payments"])  # type: ignore[index]

    def _mark_second_copy(self, data: ReceiptData, job: dict[str, Any]) -> ReceiptData:
        lines = [MARK_SEGUNDA_VIA]
        who = None
        if job["authorized_by"] is not None:
            user = self.ctx.store.users.get(int(job["authorized_by"]))
            who = user.nome if user else None
        when = datetime.fromisoformat(job["created_at"])
        with contextlib.suppress(Exception):  # keep UTC when the store's zone is unknown
            when = when.astimezone(self.ctx.now().tzinfo)
        lines.append(
            f"Autorizada por {who} em {when:%d/%m/%Y %H:%M}" if who else f"Emitida em {when:%d/%m/%Y %H:%M}"
        )
        if data.mensagem_extra:
            lines.append(data.mensagem_extra)
        return dataclasses.replace(data, mensagem_extra="\n".join(lines))

    def _pending_ids(self, doc_id: int) -> list[int]:
        try:
            return [int(j["id"]) for j in self.jobs.for_document(doc_id) if j["status"] == PENDENTE]
        except Exception:  # noqa: BLE001
            return []

    def _safe_pending(self) -> list[dict[str, Any]]:
        try:
            return self.jobs.pending()
        except Exception:  # noqa: BLE001
            return []


def resolve_printable_document(ctx: AppContext, ref: str) -> int | None:
    """A document ref, a sale number (its last printable document) or "ultima" (the last one)."""
    ref = ref.strip()
    doc = ctx.store.documents.by_ref(ref)
    if doc is not None:
        return int(doc["id"])
    if ref.lower() in ("ultima", "última"):
        docs = ctx.store.documents.with_status(*PRINTABLE_STATES, order="id DESC")
        return int(docs[0]["id"]) if docs else None
    if ref.isdigit():
        found = [d for d in ctx.store.documents.for_sale(int(ref)) if d["status"] in PRINTABLE_STATES]
        return int(found[-1]["id"]) if found else None
    return None
