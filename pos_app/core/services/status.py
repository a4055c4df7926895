"""What the terminal is doing: link, contingency backlog and its deadline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pos_app.core.fiscal.states import CONTINGENCY_DEADLINE

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

PENDING = ("contingencia_pendente", "transmitindo")
WARN_AFTER_HOURS = 12
CRITICAL_AFTER_HOURS = 20


def backlog(ctx: AppContext, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    db = ctx.store.database
    pending = db.query(
        "SELECT data_emissao FROM fiscal_documents WHERE kind = 'contingencia' AND status IN (?, ?)", list(PENDING)
    )
    errors = db.query_one(
        "SELECT count(*) AS n FROM fiscal_documents WHERE status = 'contingencia_erro'"
    )
    in_doubt = db.query_one("SELECT count(*) AS n FROM fiscal_documents WHERE status = 'em_duvida'")
    waiting = db.query_one("SELECT count(*) AS n FROM fiscal_documents WHERE status = 'aguardando_conexao'")
    focus_pending = db.query_one(
        "SELECT count(*) AS n FROM fiscal_documents WHERE focus_contingencia = 1 "
        "AND focus_contingencia_efetivada = 0 AND status = 'autorizado'"
    )
    oldest_minutes: int | None = None
    all_open = pending + db.query(
        "SELECT data_emissao FROM fiscal_documents WHERE status = 'contingencia_erro'"
    )
    if all_open:
        oldest = min(datetime.fromisoformat(r["data_emissao"]) for r in all_open)
        oldest_minutes = int((now - oldest).total_seconds() // 60)
    level = "ok"
    if oldest_minutes is not None:
        hours = oldest_minutes / 60
        deadline_h = CONTINGENCY_DEADLINE.total_seconds() / 3600
        if hours >= deadline_h:
            level = "vencido"
        elif hours >= CRITICAL_AFTER_HOURS:
            level = "critico"
        elif hours >= WARN_AFTER_HOURS:
            level = "atencao"
    return {
        "contingencia_pendentes": len(pending),
        "contingencia_com_erro": int(errors["n"]) if errors else 0,
        "em_duvida": int(in_doubt["n"]) if in_doubt else 0,
        "aguardando_conexao": int(waiting["n"]) if waiting else 0,
        "contingencia_focus_nao_efetivada": int(focus_pending["n"]) if focus_pending else 0,
        "mais_antiga_minutos": oldest_minutes,
        "alerta": level,
    }


def terminal_status(ctx: AppContext, *, check_link: bool = False) -> dict[str, Any]:
    online: bool | None = None
    if ctx.monitor is not None:
        online = ctx.monitor.online
    if check_link and online is None:
        from pos_app.core.services.monitor import ConnectivityMonitor

        online = ConnectivityMonitor(ctx.base_url).check()
    data: dict[str, Any] = {
        "online": online,
        "ambiente": ctx.config.ambiente,
        "terminal": ctx.config.terminal_id,
        "serie_contingencia": ctx.config.contingencia_serie,
        "proximo_numero_contingencia": ctx.store.counters.peek(ctx.config.contingencia_serie),
        **backlog(ctx),
    }
    resumo = [
        f"Terminal {data['terminal']} — ambiente {data['ambiente']}"
        + (" (demonstração)" if ctx.config.demo else ""),
        "Conexão com a API: " + {True: "online", False: "OFFLINE", None: "desconhecida"}[online],
        f"Notas em contingência aguardando transmissão: {data['contingencia_pendentes']}"
        + (f" (mais antiga há {data['mais_antiga_minutos']} min)" if data["mais_antiga_minutos"] is not None else ""),
        f"Notas que precisam de correção: {data['contingencia_com_erro']}",
        f"Tentativas a reconciliar: {data['em_duvida']}",
    ]
    if data["alerta"] in ("critico", "vencido"):
        resumo.append("ATENÇÃO: notas em contingência perto do prazo de 24 h. Verifique a internet e rode 'pos-app sync'.")
    data["resumo"] = resumo
    return data
