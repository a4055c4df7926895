"""``pos-app doctor``: what a technician checks first at a terminal."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from pos_app.core.focus.errors import ApiError, AuthenticationError, FocusError, InDoubt, NotDelivered
from pos_app.core.focus.ratelimit import Priority
from pos_app.core.services.certificates import CertificateProvider

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

MAX_CLOCK_SKEW_S = 120
MIN_FREE_DISK_MB = 500


@dataclass
class Check:
    nome: str
    nivel: str  # ok | aviso | erro
    mensagem: str


def series_check(ctx: AppContext) -> Check:
    """The contingency series must never equal the online series (nor one with online notes here)."""
    cfg = ctx.config
    problem = cfg.series_conflict("contingencia.serie", str(cfg.contingencia_serie))
    if problem:
        return Check("Séries", "erro", f"contingencia.serie = {cfg.contingencia_serie}: {problem}")
    nfe_cont = cfg.nfe_contingencia_serie
    problem = cfg.nfe_series_conflict("nfe.serie_contingencia", str(nfe_cont))
    if problem:
        return Check("Séries", "erro", f"nfe.serie_contingencia = {nfe_cont}: {problem}")
    return Check(
        "Séries",
        "ok",
        f"online {cfg.nfce_serie}, contingência {cfg.contingencia_serie}, NF-e {cfg.get('nfe.serie') or '1'}, "
        f"NF-e em contingência {nfe_cont}",
    )


def run_doctor(ctx: AppContext) -> list[Check]:
    checks: list[Check] = []
    cfg = ctx.config
    checks.append(
        Check(
            "Ambiente",
            "aviso" if cfg.ambiente != "producao" else "ok",
            {
                "sandbox": "demonstração (sandbox embutido, sem valor fiscal)",
                "homologacao": "homologação (sem valor fiscal)",
                "producao": "produção",
            }[cfg.ambiente],
        )
    )
    emitente = cfg.emitente()
    if emitente is None:
        checks.append(Check("Emitente", "erro", "dados do emitente incompletos (pos-app config show)"))
    else:
        from pos_app.core.domain.validators import format_cnpj

        checks.append(
            Check(
                "Emitente",
                "ok",
                f"{emitente.razao_social} — CNPJ {format_cnpj(emitente.cnpj)} — {emitente.uf}",
            )
        )
    checks.append(_database_check(ctx))
    checks.append(Check("Segredos", "ok", f"guardados em: {ctx.secrets.backend}"))

    # API reachability, token and clock skew (one request: consult of a ref that does not exist).
    try:
        resp = ctx.client().request(
            "GET", "/v2/nfce/diagnostico-pos-app", priority=Priority.MONITOR, timeout=10
        )
        date_header = resp.headers.get("Date")
        checks.append(
            Check("API Focus", "ok", f"acessível em {ctx.base_url()} ({resp.elapsed * 1000:.0f} ms)")
        )
        checks.append(Check("Token", "ok", "aceito pela API"))
        if date_header:
            skew = (datetime.now(UTC) - parsedate_to_datetime(date_header)).total_seconds()
            level = "ok" if abs(skew) <= MAX_CLOCK_SKEW_S else "erro"
            checks.append(
                Check(
                    "Relógio",
                    level,
                    f"diferença de {skew:+.0f} s em relação à API"
                    + ("" if level == "ok" else ": acerte o relógio (limite da SEFAZ: 5 min)"),
                )
            )
    except AuthenticationError:
        checks.append(Check("API Focus", "ok", f"acessível em {ctx.base_url()}"))
        checks.append(
            Check("Token", "erro", "recusado pela API (HTTP 403): confira focus.token e o ambiente")
        )
    except NotDelivered as exc:
        checks.append(Check("API Focus", "erro", f"inacessível: {exc} (as vendas seguirão em contingência)"))
    except (InDoubt, ApiError, FocusError) as exc:
        checks.append(Check("API Focus", "aviso", str(exc)))
    except Exception as exc:  # noqa: BLE001 - setup problems (no token) are reported, not raised
        checks.append(Check("API Focus", "erro", str(exc)))

    provider = CertificateProvider(cfg)
    cert = provider.get()
    if cert is None:
        checks.append(
            Check(
                "Certificado A1",
                "aviso",
                f"{provider.last_error or 'indisponível.'} Sem ele, o QR Code das notas em "
                "contingência offline não pode ser gerado (o DANFCe informa que está indisponível).",
            )
        )
    else:
        days = cert.days_left(datetime.now(UTC))
        level = "ok" if days > 30 else "aviso"
        checks.append(
            Check(
                "Certificado A1", level, f"{cert.holder}, válido até {cert.not_after:%d/%m/%Y} ({days} dias)"
            )
        )

    from pos_app.core.services.printing import PrintService

    printer = PrintService(ctx).status()  # reachability, paper and the reprint queue; never raises
    checks.append(
        Check("Impressora", "ok" if printer.ok and not printer.pending else "aviso", printer.message)
    )
    free_mb = shutil.disk_usage(ctx.data_dir).free // (1024 * 1024)
    checks.append(Check("Disco", "ok" if free_mb >= MIN_FREE_DISK_MB else "erro", f"{free_mb} MB livres"))

    checks.append(series_check(ctx))
    from pos_app.core.services.api_config_errors import warning as config_warning

    config_problem = config_warning(ctx)
    if config_problem:
        checks.append(Check("Conta Focus NFe", "erro", config_problem))
    from pos_app.core.services.status import backlog

    b = backlog(ctx)
    level = {"ok": "ok", "atencao": "aviso", "critico": "erro", "vencido": "erro"}[b["alerta"]]
    checks.append(
        Check(
            "Contingência",
            level,
            f"{b['contingencia_pendentes']} pendente(s), "
            f"{b['contingencia_com_erro']} com erro, {b['em_duvida']} a reconciliar",
        )
    )
    from pos_app.core.pix.doctor import pix_checks

    checks.extend(Check(*c) for c in pix_checks(ctx))
    from pos_app.core.services.reliability_status import reliability_lines

    for line in reliability_lines(ctx):
        checks.append(Check("Pendências com a API", "erro" if "chame o suporte" in line else "aviso", line))
    return checks


def _database_check(ctx: AppContext) -> Check:
    """Header/schema now, and the last full integrity check (run daily in the background): the
    doctor answers in the same time with five years of history as with none (issue 20)."""
    from pos_app.core.store.integrity import light_check, read_result

    path = ctx.data_dir / "pos.sqlite3"
    problems = light_check(path)
    last = read_result(path)
    refused = ctx.store.database.writes_refused
    if problems or refused or (last is not None and not last.get("ok")):
        detail = "; ".join(problems or (last or {}).get("problems") or [refused or ""])
        return Check("Banco de dados", "erro", f"{path}: danificado ({detail}). Não venda; chame o suporte.")
    when = (
        f"; verificação completa em {last['at']}"
        if last and last.get("at")
        else "; verificação completa em andamento (segundo plano)"
    )
    return Check("Banco de dados", "ok", f"{path}{when}")
