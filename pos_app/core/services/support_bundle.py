"""The support bundle (``pos-app doctor --pacote``): what a technician needs, without secrets.

Contents: the doctor checks, the terminal status, the configuration as ``config show`` prints it
(secrets masked), the database schema, applied migrations, row counts, recent document states and
their events (API answers masked by key: no consumer CPF/CNPJ/e-mail), the list of backups, the
environment and the log files. Never the database itself, the certificate, the secrets store or a
backup. Every text member passes through :func:`pos_app.core.masking.mask_text` on the way in.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app import __version__
from pos_app.core.logging_setup import flush_logs, log_dir
from pos_app.core.masking import mask_json, mask_text, register_public
from pos_app.core.store.backup import backup_dir, list_backups
from pos_app.core.store.integrity import quick_check
from pos_app.core.store.packed import unpack_text

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.services.doctor import Check

log = logging.getLogger("pos_app.support")

RECENT_DOCUMENTS = 100
RECENT_EVENTS = 300
MAX_LOG_BYTES = 12 * 1024 * 1024


@dataclass
class BundleReport:
    path: Path
    members: list[str] = field(default_factory=list)


def default_bundle_path(data_dir: Path, now: datetime | None = None) -> Path:
    now = now or datetime.now()
    return data_dir / "suporte" / f"pacote-suporte-{now:%Y%m%d-%H%M%S}.zip"


def write_support_bundle(
    data_dir: Path,
    out: Path,
    *,
    ctx: AppContext | None = None,
    checks: list[Check] | None = None,
    problem: str | None = None,
) -> BundleReport:
    """Write the bundle at ``out``. ``ctx`` is None when the terminal could not open (``problem``)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".parcial")
    report = BundleReport(out)
    flush_logs()
    if ctx is not None:
        register_public(ctx.config.get("emitente.cnpj"))
        for key in ("focus.token", "certificado.senha"):
            ctx.config.get(key)  # reading a secret registers it for masking, even if no log line has it yet
    try:
        _write(tmp, report, data_dir, ctx, checks, problem)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)
    log.info("pacote de suporte gravado: %s (%d itens)", out.name, len(report.members))
    return report


def _write(
    tmp: Path,
    report: BundleReport,
    data_dir: Path,
    ctx: AppContext | None,
    checks: list[Check] | None,
    problem: str | None,
) -> None:
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:

        def add(name: str, content: str | Any) -> None:
            text = (
                content
                if isinstance(content, str)
                else json.dumps(content, ensure_ascii=False, indent=2, default=str)
            )
            zf.writestr(name, mask_text(text))
            report.members.append(name)

        add("LEIA-ME.txt", _readme(problem))
        add("ambiente.txt", _environment(data_dir, ctx))
        if checks is not None:
            add(
                "doctor.txt",
                "\n".join(f"[{c.nivel.upper():5}] {c.nome}: {c.mensagem}" for c in checks) + "\n",
            )
            add("doctor.json", [c.__dict__ for c in checks])
        if problem:
            add("problema.txt", problem + "\n")
        db_path = data_dir / "pos.sqlite3"
        problems = quick_check(db_path)
        add("banco/integridade.txt", "ok\n" if not problems else "\n".join(problems) + "\n")
        if ctx is not None:
            for name, content in _state(ctx).items():
                add(name, content)
        add(
            "backups.json",
            [
                {"arquivo": b.path.name, "data": b.taken_at.isoformat(), "bytes": _size(b.path)}
                for b in list_backups(backup_dir(data_dir))
            ],
        )
        for path in _log_files(data_dir):
            text = path.read_text("utf-8", errors="replace")
            add(f"logs/{path.name}", "\n".join(mask_text(line) for line in text.splitlines()) + "\n")


def _readme(problem: str | None) -> str:
    return (
        f"Pacote de suporte do pos-app {__version__}, gerado em {datetime.now().astimezone():%d/%m/%Y %H:%M:%S %z}.\n"
        "Contém: verificações (doctor), situação do terminal, configuração (segredos mascarados), estrutura e\n"
        "contagens do banco, estados recentes das notas, lista de backups e os logs.\n"
        "Não contém: o banco de dados, backups, o certificado digital, o token da API nem senhas.\n"
        "CPF/CNPJ/e-mail de consumidores aparecem mascarados.\n"
        + (f"\nATENÇÃO: {problem}\n" if problem else "")
    )


def _environment(data_dir: Path, ctx: AppContext | None) -> str:
    try:
        free_mb = shutil.disk_usage(data_dir).free // (1024 * 1024)
    except OSError:
        free_mb = -1
    lines = [
        f"pos-app {__version__}",
        f"Python {sys.version.split()[0]} em {platform.platform()}",
        f"Pasta de dados: {data_dir}",
        f"Espaço livre: {free_mb} MB",
    ]
    if ctx is not None:
        lines.append(f"Segredos guardados em: {ctx.secrets.backend}")
        lines.append(f"Terminal: {ctx.config.terminal_id}  ambiente: {ctx.config.ambiente}")
    return "\n".join(lines) + "\n"


def _state(ctx: AppContext) -> dict[str, Any]:
    from pos_app.core.services.status import terminal_status

    db = ctx.store.database
    out: dict[str, Any] = {}
    config = ctx.config.show()
    out["config.json"] = {"config": config, "segredos": ctx.secrets.backend}
    try:
        status = terminal_status(ctx, check_link=False)
    except Exception as exc:  # noqa: BLE001 - the bundle is made precisely when things are broken
        status = {"erro": str(exc)}
    out["status.json"] = status
    schema = db.query("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name")
    out["banco/schema.sql"] = "\n\n".join(f"-- {r['type']} {r['name']}\n{r['sql']};" for r in schema) + "\n"
    out["banco/migracoes.json"] = db.query("SELECT name, applied_at FROM _migrations ORDER BY rowid")
    tables = [
        r["name"]
        for r in schema
        if r["type"] == "table" and not r["name"].startswith(("sqlite_", "products_fts"))
    ]
    counts: dict[str, Any] = {}
    for table in tables:
        row = db.query_one(f'SELECT count(*) AS n FROM "{table}"')
        counts[table] = int(row["n"]) if row else 0
    counts["documentos_por_estado"] = {
        f"{r['kind']}/{r['status']}": r["n"]
        for r in db.query("SELECT kind, status, count(*) AS n FROM fiscal_documents GROUP BY kind, status")
    }
    out["banco/contagens.json"] = counts
    docs = db.query(
        "SELECT id, sale_id, ref, kind, status, ambiente, serie, numero, chave, tp_emis, data_emissao, "
        "status_sefaz, mensagem_sefaz, attempts, next_attempt_at, last_error, focus_contingencia, "
        "focus_contingencia_efetivada, replaces_document_id, xml_path IS NOT NULL AS xml_local, created_at, "
        f"updated_at FROM fiscal_documents ORDER BY id DESC LIMIT {RECENT_DOCUMENTS}"
    )
    out["banco/documentos-recentes.json"] = docs
    events = db.query(
        "SELECT id, document_id, at, from_status, to_status, http_status, note, response FROM document_events "
        f"ORDER BY id DESC LIMIT {RECENT_EVENTS}"
    )
    for e in events:
        e["response"] = _masked_response(unpack_text(e.get("response")))
    out["banco/eventos-recentes.json"] = events
    return out


def _masked_response(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return mask_json(json.loads(raw))
    except (ValueError, RecursionError):
        return mask_text(raw[:500])


def _log_files(data_dir: Path) -> list[Path]:
    flush_logs()  # what this process queued belongs in the bundle too
    folder = log_dir(data_dir)
    if not folder.is_dir():
        return []
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and p.name.startswith("pos-app.log")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    chosen: list[Path] = []
    total = 0
    for path in files:
        total += _size(path)
        if total > MAX_LOG_BYTES and chosen:
            break
        chosen.append(path)
    return chosen


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
