"""The local archive of authorized NFC-e XMLs (5-year legal retention) and its monthly export.

Replay (``ReplayService._download_xml``) downloads the authorized XML of every note into
``data_dir/xml/AAAA-MM/<chave>-nfce.xml`` and records ``xml_path``; nothing ever deletes them.
``export_month`` packs one month for the accountant: every XML plus ``resumo.csv`` (no consumer
data), fetching first any XML of that month still missing when the API is reachable.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app.core.errors import PosError
from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.document_status import DocumentStatus as S
from pos_app.core.focus.errors import FocusError, NotDelivered, RateLimited
from pos_app.core.focus.ratelimit import Priority

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

log = logging.getLogger("pos_app.xml")

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
ARCHIVED_STATES = sorted(ds.ARCHIVED)


class ExportError(PosError, ValueError):
    """Bad month, nothing to export or the file could not be written (Portuguese message)."""

    kind = "recusado"


@dataclass
class ExportReport:
    month: str
    path: Path | None = None
    exported: list[str] = field(default_factory=list)  # file names inside the ZIP
    downloaded: int = 0
    missing: list[dict[str, Any]] = field(default_factory=list)  # notes without a local XML

    def to_json(self) -> dict[str, Any]:
        return {
            "mes": self.month,
            "arquivo": str(self.path) if self.path else None,
            "xml_exportados": len(self.exported),
            "baixados_agora": self.downloaded,
            "sem_xml": self.missing,
        }


def check_month(text: str) -> str:
    month = (text or "").strip()
    if not MONTH.match(month):
        raise ExportError(f"Mês inválido: {text!r} (use AAAA-MM, por exemplo 2026-03)")
    return month


def xml_file_name(doc: dict[str, Any], *, cancelamento: bool = False) -> str:
    """``<chave>-nfce.xml`` for an NFC-e, ``<chave>-nfe.xml`` for an NF-e model 55 (the model is in the key),
    ``<chave>-can.xml`` for a cancellation."""
    chave = doc.get("chave")
    modelo = str(doc.get("modelo") or (chave[20:22] if chave and len(chave) == 44 else "65"))
    kind = "can" if cancelamento else ("nfe" if modelo == "55" else "nfce")
    return f"{chave or doc['ref']}-{kind}.xml"


def write_xml(ctx: AppContext, doc: dict[str, Any], content: bytes, *, cancelamento: bool = False) -> Path:
    """Write one XML into ``xml/AAAA-MM/`` atomically; returns its path (records nothing)."""
    folder = ctx.xml_dir() / str(doc["data_emissao"])[:7]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / xml_file_name(doc, cancelamento=cancelamento)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    return path


def store_xml(ctx: AppContext, doc: dict[str, Any], content: bytes) -> Path:
    """Write one authorized XML into the archive (atomically) and remember where it is."""
    path = write_xml(ctx, doc, content)
    ctx.store.documents.update(int(doc["id"]), xml_path=str(path))
    return path


# Only what the export and its report read (not the stored request nor the raw answers).
_EXPORT_COLUMNS = ", ".join(
    f"d.{c}"
    for c in (
        "id",
        "sale_id",
        "ref",
        "kind",
        "status",
        "serie",
        "numero",
        "chave",
        "data_emissao",
        "data_autorizacao",
        "protocolo",
        "caminho_xml",
        "caminho_xml_cancelamento",
        "xml_path",
        "focus_contingencia",
        "focus_contingencia_efetivada",
    )
)


def _next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def month_documents(ctx: AppContext, month: str) -> list[dict[str, Any]]:
    """The month's notes in the live database and, for a closed year, in its yearly archive."""
    from pos_app.core.services.history import archive_sources

    marks = ", ".join("?" for _ in ARCHIVED_STATES)
    sql = (
        f"SELECT {_EXPORT_COLUMNS}, s.valor_total FROM fiscal_documents d JOIN sales s ON s.id = d.sale_id "
        f"WHERE d.data_emissao >= ? AND d.data_emissao < ? AND +d.status IN ({marks}) AND d.chave IS NOT NULL "
        "ORDER BY d.serie, d.numero, d.id"
    )
    params = [month, _next_month(month), *ARCHIVED_STATES]
    docs = ctx.store.database.query(sql, params)
    archived = [db for year, db in archive_sources(ctx) if year == int(month[:4])]
    if archived:
        for doc in (d for db in archived for d in db.query(sql, params)):
            if not doc["xml_path"]:  # read-only archive: the file may have been downloaded since
                names = (xml_file_name(doc), f"{doc['chave'] or doc['ref']}-nfce.xml")  # NF-e: older name too
                found = [ctx.xml_dir() / month / n for n in names if (ctx.xml_dir() / month / n).is_file()]
                doc["xml_path"] = str(found[0]) if found else None
            docs.append(doc)
        docs.sort(key=lambda d: (d["serie"] or 0, d["numero"] or 0, d["id"]))
    return docs


def export_month(ctx: AppContext, month: str, out: Path, *, download_missing: bool = True) -> ExportReport:
    """ZIP of a month's authorized XMLs at ``out``. Raises ExportError when there is nothing to export."""
    month = check_month(month)
    report = ExportReport(month)
    docs = month_documents(ctx, month)
    if download_missing:
        report.downloaded = _download_missing(ctx, docs)
        docs = month_documents(ctx, month)
    files: list[tuple[dict[str, Any], Path]] = []
    for doc in docs:
        path = Path(doc["xml_path"]) if doc["xml_path"] else None
        if path is not None and path.is_file():
            files.append((doc, path))
        elif doc["status"] == S.AUTORIZADO or doc["caminho_xml"]:
            report.missing.append(
                {
                    "ref": doc["ref"],
                    "numero": doc["numero"],
                    "serie": doc["serie"],
                    "chave": doc["chave"],
                    "status": doc["status"],
                }
            )
    if not files:
        raise ExportError(
            f"Nenhum XML de NFC-e guardado para {month}"
            + (
                f" ({len(report.missing)} nota(s) ainda sem XML: rode 'pos-app sync' com internet)."
                if report.missing
                else "."
            )
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".parcial")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for _doc, path in files:
                name = f"{month}/{path.name}"
                zf.write(path, name)
                report.exported.append(name)
            zf.writestr(f"{month}/resumo.csv", _summary_csv(files, report.missing))
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"Não foi possível gravar {out}: {exc.strerror or exc}") from exc
    report.path = out
    log.info("exportados %d XML(s) de %s para %s", len(files), month, out.name)
    return report


def _download_missing(ctx: AppContext, docs: list[dict[str, Any]]) -> int:
    count = 0
    for doc in docs:
        if doc["xml_path"] and Path(doc["xml_path"]).is_file():
            continue
        if not doc["caminho_xml"]:
            continue
        try:
            content = ctx.nfce().download(doc["caminho_xml"], priority=Priority.REPLAY)
        except (NotDelivered, RateLimited) as exc:
            log.info("XML não baixado agora (%s); exportando o que há no disco", exc)
            break
        except (FocusError, ValueError) as exc:
            log.warning("XML de %s indisponível: %s", doc["ref"], exc)
            continue
        except Exception as exc:  # noqa: BLE001 - setup problems (no token): export what exists
            log.warning("XML de %s não baixado: %s", doc["ref"], exc)
            break
        store_xml(ctx, doc, content)
        count += 1
    return count


def _summary_csv(files: list[tuple[dict[str, Any], Path]], missing: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    writer.writerow(
        ["chave", "serie", "numero", "situacao", "data_emissao", "valor_total", "contingencia", "arquivo"]
    )
    for doc, path in files:
        writer.writerow(
            [
                doc["chave"],
                doc["serie"],
                doc["numero"],
                doc["status"],
                doc["data_emissao"],
                doc["valor_total"],
                "sim" if doc["kind"] == "contingencia" else "não",
                path.name,
            ]
        )
    for m in missing:
        writer.writerow(
            [m["chave"], m["serie"], m["numero"], m["status"], "", "", "", "(XML ainda não baixado)"]
        )
    return buf.getvalue()
