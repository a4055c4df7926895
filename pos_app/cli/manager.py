"""Manager subcommands of `pos-app` (registered by `pos_app.cli.build_parser`):
cancel, inutilizar, email, historico, caixa, usuarios, relatorio, auditoria.

Exit codes: 0 done; 1 sent but not done (SEFAZ/API refused, no answer); 2 refused before anything
was sent or changed (bad input, wrong PIN, outside the cancel window); 3 cancel scheduled (contingency
note not yet transmitted).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pos_app.cli.common import (
    PAYMENT_ALIASES,
    CliError,
    _Parser,
    authenticate_manager,
    manager_pin,
    open_app_for_cli,
    parse_amount,
    print_json,
)
from pos_app.core.domain.br_format import format_document, format_local_datetime
from pos_app.core.domain.money import format_quantity
from pos_app.core.fiscal.document_status import DocumentStatus as S

Handler = Callable[[argparse.Namespace], int]

EXIT_OK = 0
EXIT_NOT_DONE = 1
EXIT_BAD_INPUT = 2
EXIT_SCHEDULED = 3

_PIN_HELP = "PIN de um gerente ativo (omitido: perguntado no terminal)"
_GERENTE_HELP = "código do gerente (padrão: qualquer gerente ativo cujo PIN confira)"
_EXIT_EPILOG = (
    "Saída: 0 concluído; 1 enviado mas não concluído (recusa da SEFAZ/API, sem resposta); "
    "2 recusado antes de enviar (dado inválido, PIN errado, fora do prazo)"
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], commands: dict[str, Handler]) -> None:
    """Add this module's subcommands to `sub` and their handlers to `commands`."""

    def pin_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--pin", help=_PIN_HELP)
        p.add_argument("--gerente", metavar="CODIGO", help=_GERENTE_HELP)

    # cancel ----------------------------------------------------------------------------------
    c = sub.add_parser(
        "cancel",
        help="cancela uma NFC-e (até 30 minutos após a autorização)",
        description="Cancela uma NFC-e autorizada (DELETE /v2/nfce/REF) dentro de 30 minutos da autorização. "
        "Uma nota em contingência ainda não transmitida tem o cancelamento agendado: ele é feito "
        "automaticamente logo após a transmissão.",
        epilog=_EXIT_EPILOG + "; 3 cancelamento agendado (contingência ainda não transmitida).",
    )
    c.add_argument("ref", metavar="REF", help="referência da nota (ou a chave de acesso)")
    c.add_argument("--justificativa", required=True, metavar="TEXTO", help="motivo, de 15 a 255 caracteres")
    pin_args(c)
    c.add_argument("--json", action="store_true", help="saída em JSON")

    # inutilizar ------------------------------------------------------------------------------
    i = sub.add_parser(
        "inutilizar",
        help="inutiliza uma faixa de numeração da série normal",
        description="Inutiliza números nunca usados da série normal (online). Séries de contingência não "
        "podem ser inutilizadas. A SEFAZ responde 102 (homologada) ou 241 (número já usado).",
        epilog=_EXIT_EPILOG + ".",
    )
    i.add_argument("--serie", type=int, required=True, metavar="S", help="série (a normal, online)")
    i.add_argument("--inicio", type=int, required=True, metavar="A", help="primeiro número da faixa")
    i.add_argument("--fim", type=int, required=True, metavar="B", help="último número da faixa")
    i.add_argument("--justificativa", required=True, metavar="TEXTO", help="motivo, de 15 a 255 caracteres")
    pin_args(i)
    i.add_argument("--json", action="store_true", help="saída em JSON")

    # email -------------------------------------------------------------------------------------
    e = sub.add_parser(
        "email",
        help="reenvia a NFC-e por e-mail (até 10 endereços)",
        description="Reenvia o XML e o DANFCe de uma NFC-e autorizada por e-mail.",
        epilog="Saída: 0 enviado; 1 a API recusou ou não respondeu; 2 dado inválido.",
    )
    e.add_argument("ref", metavar="REF", help="referência da nota (ou a chave de acesso)")
    e.add_argument("emails", nargs="+", metavar="ENDEREÇO", help="endereços de e-mail (até 10)")
    e.add_argument("--json", action="store_true", help="saída em JSON")

    # historico ---------------------------------------------------------------------------------
    h = sub.add_parser(
        "historico",
        help="vendas do dia ou de um período, com filtros; detalhe de uma venda",
        description="Lista as vendas (padrão: hoje). Subcomandos: detalhe REF, consultar REF, xml REF.",
    )
    h.add_argument(
        "--data", metavar="AAAA-MM-DD", help="um dia (padrão: hoje; aceita DD/MM/AAAA, hoje, ontem)"
    )
    h.add_argument("--de", metavar="AAAA-MM-DD", help="início do período")
    h.add_argument("--ate", metavar="AAAA-MM-DD", help="fim do período")
    h.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="STATUS",
        help="autorizado, contingencia (pendente), correcao (precisa de correção) ou cancelado; "
        "repita para mais de um",
    )
    h.add_argument("--numero", type=int, metavar="N", help="número da NFC-e")
    h.add_argument("--serie", type=int, metavar="S", help="série da NFC-e (com --numero)")
    h.add_argument("--chave", metavar="CHAVE", help="chave de acesso (ou parte dela)")
    h.add_argument("--cpf", metavar="CPF", help="CPF do consumidor")
    h.add_argument("--operador", metavar="CODIGO", help="código do operador")
    h.add_argument(
        "--pagina", type=int, default=1, metavar="N", help="página da lista (padrão: 1, as mais recentes)"
    )
    h.add_argument("--limite", type=int, default=2000, metavar="N", help="vendas por página (padrão: 2000)")
    h.add_argument("--json", action="store_true", help="saída em JSON")
    hsub = h.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser)
    hd = hsub.add_parser("detalhe", help="venda com todas as transições de estado e respostas da API")
    hd.add_argument("ref", metavar="REF")
    hd.add_argument("--json", action="store_true", help="saída em JSON")
    hc = hsub.add_parser("consultar", help="consulta a nota na API de novo e registra a resposta")
    hc.add_argument("ref", metavar="REF")
    hc.add_argument("--json", action="store_true", help="saída em JSON")
    hx = hsub.add_parser("xml", help="caminho do XML da nota (baixa da API se preciso)")
    hx.add_argument("ref", metavar="REF")
    hx.add_argument("--cancelamento", action="store_true", help="o XML do evento de cancelamento")
    hx.add_argument("--json", action="store_true", help="saída em JSON")

    # caixa -------------------------------------------------------------------------------------
    cx = sub.add_parser("caixa", help="sessão de caixa: abrir, sangria, suprimento, fechar, relatório")
    cxsub = cx.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    ca = cxsub.add_parser("abrir", help="abre o caixa com o fundo de troco")
    ca.add_argument("--valor", default="0", metavar="VALOR", help="fundo de troco em dinheiro (padrão 0)")
    ca.add_argument("--pin", help="PIN do operador (com --operador) ou de um gerente")
    ca.add_argument(
        "--operador", metavar="CODIGO", help="código do operador que abre (padrão: gerente pelo PIN)"
    )
    ca.add_argument("--json", action="store_true", help="saída em JSON")
    for verb, text in (
        ("sangria", "retirada de dinheiro da gaveta"),
        ("suprimento", "entrada de dinheiro na gaveta"),
    ):
        cm = cxsub.add_parser(verb, help=f"{text} (com motivo)")
        cm.add_argument("--valor", required=True, metavar="VALOR", help="valor em R$")
        cm.add_argument("--motivo", required=True, metavar="TEXTO", help="motivo")
        pin_args(cm)
        cm.add_argument("--json", action="store_true", help="saída em JSON")
    cf = cxsub.add_parser("fechar", help="fecha o caixa: contado x esperado por forma de pagamento")
    cf.add_argument(
        "--contado",
        action="append",
        default=[],
        metavar="FORMA:VALOR",
        help="valor contado por forma (ex.: dinheiro:250,00 pix:80 debito:120); dinheiro é obrigatório; "
        "formas não informadas ficam como 'não conferido'",
    )
    cf.add_argument("--obs", metavar="TEXTO", help="observação do fechamento")
    cf.add_argument(
        "--pdf", metavar="ARQ", help="grava o relatório de fechamento em PDF (padrão: pasta de dados)"
    )
    cf.add_argument("--imprimir", action="store_true", help="imprime o relatório na impressora térmica")
    pin_args(cf)
    cf.add_argument("--json", action="store_true", help="saída em JSON")
    cr = cxsub.add_parser("relatorio", help="relatório X (parcial) do caixa aberto, ou de um caixa fechado")
    cr.add_argument("--caixa", type=int, metavar="N", help="número do caixa (padrão: o aberto)")
    cr.add_argument("--pdf", metavar="ARQ", help="grava em PDF")
    cr.add_argument("--texto", action="store_true", help="mostra como sai na impressora térmica")
    cr.add_argument("--imprimir", action="store_true", help="imprime na impressora térmica")
    cr.add_argument("--json", action="store_true", help="saída em JSON")

    # usuarios ----------------------------------------------------------------------------------
    us = sub.add_parser("usuarios", help="operadores: listar, cadastrar, desativar, reativar, trocar PIN")
    ussub = us.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    ul = ussub.add_parser("listar", help="lista os operadores")
    ul.add_argument("--json", action="store_true", help="saída em JSON")
    ua = ussub.add_parser("adicionar", help="cadastra um operador")
    ua.add_argument("nome", metavar="NOME")
    ua.add_argument("--papel", choices=["caixa", "gerente"], required=True, help="caixa ou gerente")
    ua.add_argument("--novo-pin", required=True, metavar="PIN", help="PIN do novo operador (4 a 8 dígitos)")
    ua.add_argument("--codigo", help="código (padrão: próximo número livre)")
    pin_args(ua)
    for verb, text in (("desativar", "desativa um operador"), ("ativar", "reativa um operador")):
        ud = ussub.add_parser(verb, help=text)
        ud.add_argument("codigo", metavar="CODIGO")
        ud.add_argument("--motivo", metavar="TEXTO", help="motivo")
        pin_args(ud)
    up = ussub.add_parser("pin", help="define um novo PIN (também desbloqueia)")
    up.add_argument("codigo", metavar="CODIGO")
    up.add_argument("--novo-pin", required=True, metavar="PIN", help="novo PIN (4 a 8 dígitos)")
    pin_args(up)

    # relatorio ---------------------------------------------------------------------------------
    r = sub.add_parser(
        "relatorio",
        help="painel do dia: vendas por hora, por forma, ticket médio, cancelamentos, contingência",
    )
    r.add_argument("--data", metavar="AAAA-MM-DD", help="dia (padrão: hoje)")
    r.add_argument("--pdf", metavar="ARQ", help="exporta em PDF (com gráfico de barras)")
    r.add_argument("--csv", metavar="ARQ", help="exporta em CSV (separador ';', vírgula decimal)")
    r.add_argument("--json", action="store_true", help="saída em JSON")

    # auditoria ---------------------------------------------------------------------------------
    a = sub.add_parser("auditoria", help="registro das ações de gerente (quem, quando, o quê, por quê)")
    a.add_argument("--de", metavar="AAAA-MM-DD", help="desde o dia")
    a.add_argument("--ate", metavar="AAAA-MM-DD", help="até o dia")
    a.add_argument(
        "--acao", metavar="ACAO", help="só esta ação (ex.: cancelamento, inutilizacao, caixa_fechamento)"
    )
    a.add_argument("--limite", type=int, default=200, metavar="N", help="quantas entradas (padrão 200)")
    a.add_argument("--json", action="store_true", help="saída em JSON")

    commands.update(
        {
            "cancel": cmd_cancel,
            "inutilizar": cmd_inutilizar,
            "email": cmd_email,
            "historico": cmd_historico,
            "caixa": cmd_caixa,
            "usuarios": cmd_usuarios,
            "relatorio": cmd_relatorio,
            "auditoria": cmd_auditoria,
        }
    )


# -- helpers -----------------------------------------------------------------------------------
def _manager_errors(fn: Handler) -> Handler:
    """Marks a manager command. A ``ManagerError`` it raises (nothing was sent or changed) reaches
    ``cli.common.handle_error``: kind ``recusado``/``permissao`` -> exit 2, its message and field."""
    return fn


def _open(start_sandbox: bool = True) -> Any:
    return open_app_for_cli(start_sandbox=start_sandbox)


def _print_json(data: Any) -> None:
    print_json(data)


_pin = manager_pin  # shared with the other manager commands (cli.common)
_manager = authenticate_manager


def _parse_date(text: str | None, field: str, today: date) -> date | None:
    if text is None:
        return None
    t = text.strip().lower()
    if t == "hoje":
        return today
    if t == "ontem":
        return today - timedelta(days=1)
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(t, fmt).date()
        except ValueError:
            continue
    raise CliError(f"Data inválida em --{field}: {text!r} (use AAAA-MM-DD)", EXIT_BAD_INPUT, field)


def _amount(text: str, field: str) -> Decimal:
    return parse_amount(text, field)


def _brl(value: Any) -> str:
    from pos_app.core.domain.money import format_brl

    return format_brl(Decimal(str(value)))


# -- cancel ------------------------------------------------------------------------------------
@_manager_errors
def cmd_cancel(args: argparse.Namespace) -> int:
    from pos_app.core.services.cancellation import (
        AGENDADO,
        RECUSADO,
        CancellationService,
        check_justificativa,
    )

    check_justificativa(args.justificativa)  # before opening anything: nothing sent on bad input
    ctx = _open()
    try:
        manager = _manager(ctx, args, "cancelamento")
        result = CancellationService(ctx).cancel(args.ref, args.justificativa, manager)
        if args.json:
            _print_json(result.to_json())
        else:
            print(result.mensagem)
        if result.cancelled:
            return EXIT_OK
        if result.outcome == AGENDADO:
            return EXIT_SCHEDULED
        if result.outcome == RECUSADO:
            if not args.json:
                print("Nenhum pedido foi enviado.", file=sys.stderr)
            return EXIT_BAD_INPUT
        return EXIT_NOT_DONE
    finally:
        ctx.close()


# -- inutilizar --------------------------------------------------------------------------------
@_manager_errors
def cmd_inutilizar(args: argparse.Namespace) -> int:
    from pos_app.core.services.voiding import VoidingService

    ctx = _open()
    try:
        service = VoidingService(ctx)
        service.check(args.serie, args.inicio, args.fim, args.justificativa)  # before asking for the PIN
        manager = _manager(ctx, args, "inutilizacao")
        result = service.void(args.serie, args.inicio, args.fim, args.justificativa, manager)
        if args.json:
            _print_json(result.to_json())
        else:
            print(result.mensagem)
        return EXIT_OK if result.ok else EXIT_NOT_DONE
    finally:
        ctx.close()


# -- email -------------------------------------------------------------------------------------
@_manager_errors
def cmd_email(args: argparse.Namespace) -> int:
    from pos_app.core.services.email import EmailService, clean_addresses

    clean_addresses(args.emails)
    ctx = _open()
    try:
        result = EmailService(ctx).send(args.ref, args.emails)
        if args.json:
            _print_json(result.to_json())
        else:
            print(result.mensagem)
        return EXIT_OK if result.ok else EXIT_NOT_DONE
    finally:
        ctx.close()


# -- historico ---------------------------------------------------------------------------------
@_manager_errors
def cmd_historico(args: argparse.Namespace) -> int:
    from pos_app.core.services.history import HistoryFilter, HistoryService, parse_status

    action = getattr(args, "action", None)
    ctx = _open(start_sandbox=action in ("consultar", "xml"))
    try:
        service = HistoryService(ctx)
        if action == "detalhe":
            data = service.detail(args.ref)
            _print_json(data) if args.json else _print_detail(data, ctx.now())
            return EXIT_OK
        if action == "consultar":
            data = service.consult(args.ref)
            _print_json(data) if args.json else print(data["mensagem"])
            return EXIT_OK
        if action == "xml":
            path = service.xml_file(args.ref, cancelamento=args.cancelamento)
            _print_json({"ref": args.ref, "xml": str(path)}) if args.json else print(path)
            return EXIT_OK
        today = ctx.now().date()
        de = _parse_date(args.de, "de", today)
        ate = _parse_date(args.ate, "ate", today)
        if args.data and (de or ate):
            raise CliError("Use --data ou --de/--ate, não os dois.", EXIT_BAD_INPUT, "data")
        if de is None and ate is None:
            de = ate = _parse_date(args.data, "data", today) or today
        if de and ate and de > ate:
            raise CliError("--de depois de --ate.", EXIT_BAD_INPUT, "de")
        statuses = [parse_status(s) for chunk in args.status for s in chunk.split(",") if s.strip()]
        if args.pagina < 1 or args.limite < 1:
            raise CliError("--pagina e --limite devem ser 1 ou mais.", EXIT_BAD_INPUT, "pagina")
        rows = service.search(
            HistoryFilter(
                de=de,
                ate=ate,
                status=statuses,
                numero=args.numero,
                serie=args.serie,
                chave=args.chave,
                cpf=args.cpf,
                operador=args.operador,
                limit=args.limite,
                offset=(args.pagina - 1) * args.limite,
            )
        )
        if args.json:
            _print_json([r.to_json() for r in rows])
            return EXIT_OK
        period = (
            de.strftime("%d/%m/%Y")
            if de == ate and de
            else f"{de.strftime('%d/%m/%Y') if de else 'início'} a {ate.strftime('%d/%m/%Y') if ate else 'hoje'}"
        )
        pagina = (
            f" (página {args.pagina}, até {args.limite} por página)"
            if args.pagina > 1 or len(rows) >= args.limite
            else ""
        )
        print(f"Vendas de {period}: {len(rows)}{pagina}")
        for r in rows:
            num = f"{r.numero}/{r.serie}" if r.numero else "—"
            prazo = ""
            if r.cancel_restante:
                prazo = f"  (cancelável por mais {r.cancel_restante // 60} min)"
            sigla = "NF-e " if r.modelo == 55 else "NFC-e"
            buyer = (
                f"  CPF {format_document(r.cpf)}"
                if r.cpf
                else (f"  CNPJ {format_document(r.cnpj)}" if r.cnpj else "")
            )
            print(
                f"{r.created_at[11:16]}  {r.ref:24}  {sigla} nº {num:10}  {_brl(r.total):>12}  {r.status_label}"
                f"  op {r.operador or '—'}{buyer}{prazo}"
            )
        total = sum((r.total for r in rows if r.status != S.CANCELADO), Decimal(0))
        print(f"Total (sem canceladas){' desta página' if pagina else ''}: {_brl(total)}")
        if len(rows) >= args.limite:
            print(f"Há mais vendas: use --pagina {args.pagina + 1}")
        return EXIT_OK
    finally:
        ctx.close()


def _print_detail(data: dict[str, Any], now: datetime) -> None:
    """One sale in text; times in the store's local time (``now`` carries its zone)."""
    v = data["venda"]
    print(
        f"Venda {v['id']} em {format_local_datetime(v['data'], now, seconds=True)}  operador {v['operador_nome'] or '—'}  total {_brl(v['total'])}"
        f"  troco {_brl(v['troco'])}" + (f"  CPF {format_document(v['cpf'])}" if v["cpf"] else "")
    )
    for item in v["itens"]:
        print(
            f"  {item['n']:>3} {item['codigo']:>8} {item['descricao'][:36]:36} "
            f"{format_quantity(Decimal(str(item['quantidade']))):>8} x "
            f"{_brl(item['unitario'])[3:]:>8} = {_brl(item['total'])[3:]:>9}"
        )
    print(
        "  Pagamentos: "
        + ", ".join(
            f"{p['descricao']} {_brl(p['valor'])}"
            + (
                f" (E2E {p['end_to_end_id']}, PSP {format_document(p['cnpj_psp'])})"
                if p.get("end_to_end_id")
                else ""
            )
            for p in v["pagamentos"]
        )
    )
    for d in data["documentos"]:
        print(f"\nDocumento {d['ref']} ({d['tipo']}) — {d['situacao']}")
        if d["chave"]:
            print(
                f"  nº {d['numero']} série {d['serie']}  chave {d['chave']}  protocolo {d['protocolo'] or '—'}"
            )
        if d["status_sefaz"]:
            print(f"  SEFAZ {d['status_sefaz']}: {d['mensagem_sefaz']}")
        if d["cancelamento_restante_segundos"]:
            print(f"  Cancelável por mais {d['cancelamento_restante_segundos'] // 60} min")
        for ev in d["eventos"]:
            http = f" HTTP {ev['http']}" if ev["http"] else ""
            note = f" — {ev['nota']}" if ev["nota"] else ""
            when = format_local_datetime(ev["quando"], now, seconds=True)
            print(f"  {when}  {ev['de'] or '∅'} -> {ev['para']}{http}{note}")
            if isinstance(ev["resposta"], dict):
                r = ev["resposta"]
                brief = {
                    k: r[k]
                    for k in ("status", "status_sefaz", "mensagem_sefaz", "codigo", "mensagem")
                    if k in r
                }
                print(f"      resposta: {brief}")
    for c in data["cancelamentos_agendados"]:
        print(
            f"\nCancelamento agendado de {c['ref']}: {c['status']} (pedido em {c['pedido_em']}) — {c['justificativa']}"
        )
    for e in data.get("econf") or []:
        protocolo = f" protocolo {e['numero_protocolo']}" if e["numero_protocolo"] else ""
        sefaz = f" — SEFAZ {e['status_sefaz']}: {e['mensagem_sefaz']}" if e["mensagem_sefaz"] else ""
        print(f"\nConciliação financeira (ECONF) de {e['ref']}: {e['situacao']}{protocolo}{sefaz}")
    if data["auditoria"]:
        print("\nAuditoria:")
        for a in data["auditoria"]:
            print(
                f"  {a['quando'][:19].replace('T', ' ')}  {a['nome'] or '—'}  {a['descricao']}  {a['resultado']}"
            )


# -- caixa -------------------------------------------------------------------------------------
@_manager_errors
def cmd_caixa(args: argparse.Namespace) -> int:
    from pos_app.core.services.cash import CashService

    ctx = _open(start_sandbox=False)
    try:
        service = CashService(ctx)
        if args.action == "abrir":
            valor = _amount(args.valor, "valor")
            from pos_app.core.services.users import authenticate

            user = authenticate(
                ctx, _pin(args), args.operador, require_manager=not args.operador, action="caixa_abertura"
            )
            session = service.open(user, valor)
            msg = f"Caixa {session['id']} aberto por {user.nome} com fundo de troco {_brl(session['opening_float'])}."
            _print_json(
                {"caixa": session["id"], "fundo_de_troco": session["opening_float"], "mensagem": msg}
            ) if args.json else print(msg)
            return EXIT_OK
        if args.action in ("sangria", "suprimento"):
            valor = _amount(args.valor, "valor")
            service.require_open()
            manager = _manager(ctx, args, f"caixa_{args.action}")
            data = service.move(args.action, valor, args.motivo, manager)
            msg = f"{args.action.capitalize()} de {_brl(data['valor'])} registrada no caixa {data['caixa']}."
            _print_json({**data, "mensagem": msg}) if args.json else print(msg)
            return EXIT_OK
        if args.action == "fechar":
            counted = _counted(args.contado)
            service.require_open()
            manager = _manager(ctx, args, "caixa_fechamento")
            summary = service.close(counted, manager, observacao=args.obs)
            path = service.report_pdf(summary, args.pdf or service.default_report_path(summary))
            printed = service.print_report(summary)[1] if args.imprimir else None
            if args.json:
                _print_json({**summary.to_json(), "pdf": str(path), "impressao": printed})
            else:
                _print_blocks(service, summary)
                print(f"\nRelatório de fechamento: {path}")
                if printed:
                    print(printed)
            return EXIT_OK
        # relatorio
        summary = service.summary(args.caixa)
        pdf = service.report_pdf(summary, args.pdf) if args.pdf else None
        printed = service.print_report(summary)[1] if args.imprimir else None
        if args.json:
            _print_json({**summary.to_json(), "pdf": str(pdf) if pdf else None, "impressao": printed})
        else:
            _print_blocks(service, summary)
            if pdf:
                print(f"\nPDF: {pdf}")
            if printed:
                print(printed)
        return EXIT_OK
    finally:
        ctx.close()


def _counted(specs: list[str]) -> dict[str, Decimal]:
    from pos_app.core.domain.payments import PAYMENT_METHODS

    counted: dict[str, Decimal] = {}
    for spec in specs:
        forma, sep, amount = spec.partition(":")
        if not sep:
            raise CliError(f"Valor contado inválido: {spec!r} (use FORMA:VALOR)", EXIT_BAD_INPUT, "contado")
        code = PAYMENT_ALIASES.get(forma.strip().lower(), forma.strip())
        if code not in PAYMENT_METHODS:
            raise CliError(f"Forma de pagamento desconhecida: {forma}", EXIT_BAD_INPUT, "contado")
        counted[code] = counted.get(code, Decimal(0)) + _amount(amount, "contado")
    if "01" not in counted:
        raise CliError(
            "Informe o dinheiro contado na gaveta: --contado dinheiro:VALOR", EXIT_BAD_INPUT, "contado"
        )
    return counted


def _print_blocks(service: Any, summary: Any) -> None:
    from pos_app.core.printing.receipt import render_text

    print(render_text(service.report_blocks(summary, 48), 48))


# -- usuarios ----------------------------------------------------------------------------------
@_manager_errors
def cmd_usuarios(args: argparse.Namespace) -> int:
    from pos_app.core.services.users import UserAdminService

    ctx = _open(start_sandbox=False)
    try:
        service = UserAdminService(ctx)
        if args.action == "listar":
            users = service.list()
            if args.json:
                _print_json(
                    [{"codigo": u.codigo, "nome": u.nome, "papel": u.papel, "ativo": u.ativo} for u in users]
                )
            else:
                for u in users:
                    print(f"{u.codigo:>4}  {u.nome:30}  {u.papel:8}  {'ativo' if u.ativo else 'desativado'}")
            return EXIT_OK
        from pos_app.core.auth import validate_pin_format

        if getattr(args, "novo_pin", None) is not None:
            problem = validate_pin_format(args.novo_pin)
            if problem:
                raise CliError(problem, EXIT_BAD_INPUT, "novo_pin")
        manager = _manager(ctx, args, f"usuario_{args.action}")
        if args.action == "adicionar":
            user = service.add(args.nome, args.papel, args.novo_pin, manager, codigo=args.codigo)
            print(f"Operador {user.nome} cadastrado com o código {user.codigo} ({user.papel}).")
        elif args.action in ("desativar", "ativar"):
            user = service.set_active(args.codigo, args.action == "ativar", manager, reason=args.motivo)
            print(f"Operador {user.nome} ({user.codigo}) {'reativado' if user.ativo else 'desativado'}.")
        else:
            user = service.change_pin(args.codigo, args.novo_pin, manager)
            print(f"PIN de {user.nome} ({user.codigo}) alterado.")
        return EXIT_OK
    finally:
        ctx.close()


# -- relatorio ---------------------------------------------------------------------------------
@_manager_errors
def cmd_relatorio(args: argparse.Namespace) -> int:
    from pos_app.core.services.reports import ReportService

    ctx = _open(start_sandbox=False)
    try:
        dia = _parse_date(args.data, "data", ctx.now().date())
        service = ReportService(ctx)
        rep = service.daily(dia)
        wanted: dict[str, str | Path] = {}
        if args.pdf:
            wanted["pdf"] = Path(args.pdf)
        if args.csv:
            wanted["csv"] = Path(args.csv)
        files = service.export(rep, wanted)
        if args.json:
            _print_json({**rep.to_json(), "arquivos": files})
            return EXIT_OK
        print(f"Relatório de {rep.dia:%d/%m/%Y}")
        print(
            f"Vendas: {rep.vendas}   Faturamento: {_brl(rep.total)}   Ticket médio: {_brl(rep.ticket_medio)}"
        )
        print(f"Canceladas: {len(rep.canceladas)} ({_brl(rep.total_cancelado)})")
        from pos_app.core.domain.payments import PAYMENT_METHODS

        for forma, total in rep.por_forma.items():
            print(f"  {PAYMENT_METHODS.get(forma, forma):24} {_brl(total):>14}")
        top = max((b.total for b in rep.por_hora), default=Decimal(0)) or Decimal(1)
        for b in rep.busy_hours():
            bar = "█" * int(b.total / top * 30)
            print(f"  {b.hora:02d}h {bar:30} {b.vendas:>3}  {_brl(b.total):>12}")
        bl = rep.backlog
        print(
            f"Contingência: {bl.get('contingencia_pendentes', 0)} a transmitir, "
            f"{bl.get('contingencia_com_erro', 0)} precisam de correção"
        )
        for kind, path in files.items():
            print(f"{kind.upper()}: {path}")
        return EXIT_OK
    finally:
        ctx.close()


# -- auditoria ---------------------------------------------------------------------------------
@_manager_errors
def cmd_auditoria(args: argparse.Namespace) -> int:
    from pos_app.core.services.audit import AuditLog

    ctx = _open(start_sandbox=False)
    try:
        today = ctx.now().date()
        entries = AuditLog(ctx.store).entries(
            de=_parse_date(args.de, "de", today),
            ate=_parse_date(args.ate, "ate", today),
            action=args.acao,
            limit=args.limite,
        )
        if args.json:
            _print_json([e.to_json() for e in entries])
        else:
            for e in entries:
                print(e.line())
            if not entries:
                print("Nenhuma ação registrada.")
        return EXIT_OK
    finally:
        ctx.close()
