"""What the terminal is doing: link, contingency backlog and its deadline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.document_status import DocumentStatus as S
from pos_app.core.fiscal.states import CONTINGENCY_DEADLINE
from pos_app.core.storeserver import link as store_link

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

PENDING = ds.CONTINGENCY_QUEUE
WARN_AFTER_HOURS = 12
CRITICAL_AFTER_HOURS = 20


def backlog(ctx: AppContext, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    db = ctx.store.database
    pending = db.query(
        "SELECT data_emissao FROM fiscal_documents WHERE kind = 'contingencia' AND status IN (?, ?)",
        sorted(PENDING),
    )
    docs = ctx.store.documents
    errors = {"n": docs.count_with_status(S.CONTINGENCIA_ERRO)}
    in_doubt = {"n": docs.count_with_status(S.EM_DUVIDA)}
    n_unknown = docs.count_with_status(S.STATUS_DESCONHECIDO)  # issue 18: a person must look
    waiting = {"n": docs.count_with_status(S.AGUARDANDO_CONEXAO)}
    focus_pending = db.query_one(
        "SELECT count(*) AS n FROM fiscal_documents WHERE focus_contingencia = 1 "
        "AND focus_contingencia_efetivada = 0 AND +status = ?",
        [S.AUTORIZADO],  # +: the partial index
    )
    oldest_minutes: int | None = None
    all_open = pending + db.query(
        "SELECT data_emissao FROM fiscal_documents WHERE status = ?", [S.CONTINGENCIA_ERRO]
    )
    if all_open:
        oldest = min(datetime.fromisoformat(r["data_emissao"]) for r in all_open)
        oldest_minutes = int((now - oldest).total_seconds() // 60)
    substitution = {"n": docs.count_with_status(S.SUBSTITUICAO_PENDENTE)}
    deadline_min = int(CONTINGENCY_DEADLINE.total_seconds() // 60)
    level = "ok"
    remaining: int | None = None
    avisos: list[str] = []
    if oldest_minutes is not None:
        remaining = deadline_min - oldest_minutes
        hours = oldest_minutes / 60
        if oldest_minutes >= deadline_min:
            level = "vencido"
            avisos.append(
                f"PRAZO VENCIDO: há nota em contingência emitida há {hours:.0f} h (limite de 24 h). Transmita "
                "imediatamente (pos-app sync) e avise o contador."
            )
        elif hours >= CRITICAL_AFTER_HOURS:
            level = "critico"
            avisos.append(
                f"URGENTE: faltam {remaining // 60} h {remaining % 60:02d} min para o prazo de 24 h da nota em "
                "contingência mais antiga. Restabeleça a internet e rode 'pos-app sync'."
            )
        elif hours >= WARN_AFTER_HOURS:
            level = "atencao"
            avisos.append(
                f"Atenção: há nota em contingência há {hours:.0f} h; o prazo de transmissão é de 24 h. "
                "Verifique a conexão com a internet."
            )
    n_errors = int(errors["n"]) if errors else 0
    if n_errors:
        avisos.append(
            f"{n_errors} nota(s) em contingência rejeitada(s) pela SEFAZ precisam de correção: "
            "pos-app contingencia listar"
        )
    n_waiting = int(waiting["n"]) if waiting else 0
    if n_waiting:
        avisos.append(
            f"{n_waiting} venda(s) aguardando a conexão para emitir a NFC-e (sem contingência offline "
            "nesta UF)."
        )
    from pos_app.core.services.api_config_errors import warning as config_warning

    config_problem = config_warning(ctx)
    if config_problem:
        avisos.append(config_problem)
    n_subst = int(substitution["n"]) if substitution else 0
    if n_subst:
        avisos.append(
            f"{n_subst} nota(s) autorizada(s) em duplicidade precisam de cancelamento por substituição "
            "(gerente/contador)."
        )
    return {
        "contingencia_pendentes": len(pending),
        "contingencia_com_erro": n_errors,
        "em_duvida": int(in_doubt["n"]) if in_doubt else 0,
        "substituicao_pendente": n_subst,
        S.STATUS_DESCONHECIDO.value: n_unknown,
        "aguardando_conexao": n_waiting,
        "contingencia_focus_nao_efetivada": int(focus_pending["n"]) if focus_pending else 0,
        "mais_antiga_minutos": oldest_minutes,
        "prazo_restante_minutos": remaining,
        "alerta": level,
        "erro_configuracao": config_problem,
        "avisos": avisos,
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
        "serie_contingencia_nfe": ctx.config.nfe_contingencia_serie,
        "proximo_numero_contingencia_nfe": ctx.store.counters.peek(ctx.config.nfe_contingencia_serie),
        **backlog(ctx),
    }
    resumo = [
        f"Terminal {data['terminal']} — ambiente {data['ambiente']}"
        + (" (demonstração)" if ctx.config.demo else ""),
        "Conexão com a API: " + {True: "online", False: "OFFLINE", None: "desconhecida"}[online],
        f"Notas em contingência aguardando transmissão: {data['contingencia_pendentes']}"
        + (
            f" (mais antiga há {data['mais_antiga_minutos']} min)"
            if data["mais_antiga_minutos"] is not None
            else ""
        ),
        f"Notas que precisam de correção: {data['contingencia_com_erro']}",
        f"Tentativas a reconciliar: {data['em_duvida']}",
    ]
    loja = store_link.status(ctx, check=check_link)
    data["loja"] = loja
    if loja["configurado"]:
        resumo.append(
            "Banco da loja: "
            + ("conectado" if loja["online"] else f"FORA DO AR ({loja.get('erro') or '-'})")
            + f"; registros aguardando envio: {loja.get('pendentes_envio', 0)}"
        )
    resumo.extend(data["avisos"])
    from pos_app.core.services.reliability_status import reliability_lines

    alerts = reliability_lines(ctx)
    data["acoes_pendentes"] = alerts
    resumo.extend(alerts)
    data["resumo"] = resumo
    return data
