"""Disk housekeeping of a terminal (issue 20): receipt PDFs are deleted after
``recibos.dias_guardar`` days (default 60; 0 keeps them all). They are copies: the authorized
XML is the legal record, and a reprint renders the DANFCe again from the stored sale and note
(``PrintService`` re-renders when the file is gone; the document's ``receipt_path`` is cleared)."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

log = logging.getLogger("pos_app.housekeeping")

_MONTH = re.compile(r"^\d{4}-\d{2}$")
_SECOND_COPY = re.compile(r"-2via-\d+$")


def receipt_days(ctx: AppContext) -> int:
    try:
        return int(ctx.config.get("recibos.dias_guardar") or 60)
    except ValueError:
        return 60


def prune_receipts(ctx: AppContext, now: float | None = None, days: int | None = None) -> int:
    """Delete receipt PDFs older than the configured days; returns how many were deleted."""
    days = receipt_days(ctx) if days is None else days
    if days <= 0:
        return 0
    folder = ctx.data_dir / "recibos"
    if not folder.is_dir():
        return 0
    limit = (now if now is not None else time.time()) - days * 86400
    deleted = 0
    refs: list[str] = []
    for month in sorted(p for p in folder.iterdir() if p.is_dir() and _MONTH.match(p.name)):
        for pdf in month.glob("*.pdf"):
            try:
                if pdf.stat().st_mtime >= limit:
                    continue
                pdf.unlink()
            except OSError:
                continue
            deleted += 1
            if not _SECOND_COPY.search(pdf.stem):
                refs.append(pdf.stem)
        with contextlib.suppress(OSError):
            month.rmdir()  # only when empty
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        with ctx.store.transaction() as tx:
            tx.execute(f"UPDATE fiscal_documents SET receipt_path = NULL WHERE ref IN ({marks})", chunk)
    if deleted:
        log.info("%d PDF(s) de DANFCe com mais de %d dias apagados (reimpressão gera de novo)", deleted, days)
    return deleted


def receipts_size(data_dir: Path) -> int:
    folder = data_dir / "recibos"
    return sum(p.stat().st_size for p in folder.rglob("*.pdf")) if folder.is_dir() else 0


def daily(ctx: AppContext) -> None:
    """Background duties after the start-of-day backup: closed years to their yearly archives
    (copied once into backups/), old receipt PDFs deleted."""
    from pos_app.core.store.archive import archive_closed_years, backup_archives
    from pos_app.core.store.backup import backup_dir

    try:
        today = ctx.now().date()
    except Exception:  # noqa: BLE001 - an unconfigured terminal has no local date yet
        today = None
    if today is not None and ctx.config.get("historico.arquivar_anos") != "nao":
        for result in archive_closed_years(ctx.store.database, ctx.data_dir, today):
            log.info("arquivo anual: %s", result)
    backup_archives(ctx.data_dir, backup_dir(ctx.data_dir))
    prune_receipts(ctx)


def archive_year(ctx: AppContext, year: int) -> dict[str, Any]:
    """``pos-app arquivo fechar AAAA``: move a past year's closed sales into its yearly archive."""
    from pos_app.core.store.archive import archive_year as archive

    return archive(ctx.store.database, ctx.data_dir, year, today=ctx.now().date())
