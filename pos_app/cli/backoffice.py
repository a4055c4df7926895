"""Back-office subcommands of `pos-app` (registered by `pos_app.cli.build_parser`):

``cte emitir|consultar|cancelar|cce|desacordo|multimodal|gtv|inutilizar|listar``, ``cte-os emitir``,
``ctes-recebidas sincronizar|listar|desacordo|baixar`` and ``lote-rps gerar|consultar|resposta|listar``.

Bad input exits with 2 and a Portuguese message before anything is stored or sent; a valid request
that did not end with the document issued (rejection, no answer) exits with 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pos_app.cli.common import EXIT_NOT_ISSUED, EXIT_OK, CliError, _Parser, open_app_for_cli, print_json
from pos_app.core.fiscal.document_status import (
    CteSituacao,
    CteStatus,
    InutilizacaoStatus,
    LoteRpsStatus,
    RpsAnswerStatus,
)

Handler = Callable[[argparse.Namespace], int]

JSON_HELP = "saída em JSON"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"número inteiro inválido: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"deve ser um número maior ou igual a zero: {text!r}")
    return value


def register(sub: argparse._SubParsersAction, commands: dict[str, Handler]) -> None:
    """Add this module's subcommands to `sub` and their handlers to `commands`."""
    # -- cte -------------------------------------------------------------------------------------
    c = sub.add_parser(
        "cte", help="CT-e (conhecimento de transporte): emitir, consultar, cancelar, corrigir, inutilizar",
        description="CT-e modelo 57 pela API Focus NFe. A emissão é assíncrona: o programa aguarda a "
        "autorização por um tempo limitado e, se a SEFAZ demorar, basta consultar depois pela referência.",
    )  # fmt: skip
    csub = c.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    ce = csub.add_parser(
        "emitir", help="emite um CT-e a partir de um arquivo JSON",
        description="Emite um CT-e com os dados do arquivo JSON (campos da API Focus: cfop, natureza_operacao, "
        "municípios de início e fim, remetente, destinatário, valores, quantidades e o modal, ex.: "
        "modal_rodoviario). Sem 'numero' no arquivo, usa o próximo número da série.",
    )  # fmt: skip
    _emit_args(ce)
    ce.add_argument("--sem-aguardar", action="store_true", help="não espera a autorização (consulte depois)")
    ce.add_argument(
        "--espera",
        type=float,
        default=30.0,
        metavar="SEGUNDOS",
        help="tempo máximo aguardando a autorização (padrão: 30)",
    )
    cc = csub.add_parser("consultar", help="consulta um CT-e/CT-e OS na API e atualiza a situação local")
    cc.add_argument("ref", metavar="REF", help="referência do CT-e")
    cc.add_argument("--completa", action="store_true", help="inclui requisição e protocolos completos")
    cc.add_argument("--json", action="store_true", help=JSON_HELP)
    cx = csub.add_parser(
        "cancelar", help="cancela um CT-e/CT-e OS autorizado (até 7 dias na maioria das UFs)"
    )
    cx.add_argument("ref", metavar="REF", help="referência do CT-e")
    cx.add_argument("--justificativa", required=True, help="motivo do cancelamento (15 a 255 caracteres)")
    cx.add_argument("--json", action="store_true", help=JSON_HELP)
    cce = csub.add_parser(
        "cce", help="carta de correção (até 20; a última substitui as anteriores)",
        description="Registra uma carta de correção eletrônica. Não podem ser corrigidos valores e impostos, "
        "remetente/destinatário nem a data de emissão.",
    )  # fmt: skip
    cce.add_argument("ref", metavar="REF", help="referência do CT-e")
    cce.add_argument("--campo", required=True, help="campo a corrigir (nome da API, ex.: observacoes)")
    cce.add_argument("--valor", required=True, help="novo valor do campo")
    cce.add_argument("--grupo", help="grupo do campo (ex.: cargas), se houver")
    cce.add_argument("--item", type=int, metavar="N", help="número do item do grupo (começa em 1)")
    cce.add_argument(
        "--tag-xml", action="store_true", help="--campo e --grupo são tags do XML, não nomes da API"
    )
    cce.add_argument("--json", action="store_true", help=JSON_HELP)
    cd = csub.add_parser("desacordo", help="evento de prestação de serviço em desacordo")
    cd.add_argument("ref", metavar="REF", help="referência do CT-e")
    cd.add_argument("--observacoes", required=True, help="motivo do desacordo (15 a 255 caracteres)")
    cd.add_argument("--json", action="store_true", help=JSON_HELP)
    cm = csub.add_parser("multimodal", help="evento de registro multimodal")
    cm.add_argument("ref", metavar="REF", help="referência do CT-e (modal multimodal)")
    cm.add_argument("--registro", required=True, help="descrição do serviço prestado (15 a 1000 caracteres)")
    cm.add_argument("--documento", help="número do documento do serviço (opcional)")
    cm.add_argument("--json", action="store_true", help=JSON_HELP)
    cg = csub.add_parser("gtv", help="evento de informações da GTV (só CT-e OS)")
    cg.add_argument("ref", metavar="REF", help="referência do CT-e OS")
    cg.add_argument(
        "--arquivo",
        required=True,
        metavar="GTV.json",
        help='arquivo JSON com {"informacoes_gtv": [{"numero", "id", "data_emissao", ...}]}',
    )
    cg.add_argument("--json", action="store_true", help=JSON_HELP)
    ci = csub.add_parser("inutilizar", help="inutiliza uma faixa de numeração de CT-e (57) ou CT-e OS (67)")
    ci.add_argument("--serie", type=_positive, required=True, help="série")
    ci.add_argument("--inicio", type=_positive, required=True, help="número inicial")
    ci.add_argument("--fim", type=_positive, required=True, help="número final")
    ci.add_argument("--justificativa", required=True, help="motivo (15 a 255 caracteres)")
    ci.add_argument(
        "--modelo", type=int, choices=[57, 67], default=57, help="57 = CT-e (padrão), 67 = CT-e OS"
    )
    ci.add_argument("--json", action="store_true", help=JSON_HELP)
    cl = csub.add_parser("listar", help="lista os CT-e e CT-e OS emitidos neste terminal")
    cl.add_argument("--json", action="store_true", help=JSON_HELP)
    commands["cte"] = cmd_cte

    # -- cte-os ----------------------------------------------------------------------------------
    co = sub.add_parser(
        "cte-os", help="CT-e OS (outros serviços de transporte): emitir",
        description="CT-e OS modelo 67: processado na hora (síncrono). Consulta, cancelamento, carta de "
        "correção e GTV usam 'pos-app cte ... REF'.",
    )  # fmt: skip
    cosub = co.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    coe = cosub.add_parser(
        "emitir", help="emite um CT-e OS a partir de um arquivo JSON",
        description="Emite um CT-e OS com os dados do arquivo JSON (campos da API Focus; 'modal' 01 a 04 e, "
        "quando rodoviário, o grupo modal_rodoviario).",
    )  # fmt: skip
    _emit_args(coe)
    commands["cte-os"] = cmd_cte_os

    # -- ctes-recebidas --------------------------------------------------------------------------
    r = sub.add_parser(
        "ctes-recebidas", help="CT-e recebidos (fretes contratados): sincronizar, listar, desacordo, baixar",
        description="CT-e emitidos contra a loja. A sincronização é incremental: só busca o que mudou desde a "
        "última vez (campo versao).",
    )  # fmt: skip
    rsub = r.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    rs = rsub.add_parser("sincronizar", help="busca na API os CT-e novos ou alterados")
    rs.add_argument("--json", action="store_true", help=JSON_HELP)
    rl = rsub.add_parser("listar", help="lista os CT-e recebidos guardados no terminal")
    rl.add_argument("--situacao", choices=[str(s) for s in CteSituacao], help="filtra pela situação")
    rl.add_argument(
        "--emitente", metavar="TEXTO", help="filtra pelo nome ou CNPJ do transportador (ou chave)"
    )
    rl.add_argument("--desde", metavar="AAAA-MM-DD", help="emitidos a partir desta data")
    rl.add_argument("--ate", metavar="AAAA-MM-DD", help="emitidos até esta data")
    rl.add_argument("--sem-desacordo", action="store_true", help="só os que não têm desacordo registrado")
    rl.add_argument("--json", action="store_true", help=JSON_HELP)
    rd = rsub.add_parser("desacordo", help="registra desacordo com um CT-e recebido")
    rd.add_argument("chave", metavar="CHAVE", help="chave de acesso do CT-e (44 dígitos)")
    rd.add_argument("--observacoes", required=True, help="motivo do desacordo (15 a 255 caracteres)")
    rd.add_argument("--json", action="store_true", help=JSON_HELP)
    rb = rsub.add_parser(
        "baixar", help="baixa o XML, o JSON, o XML de cancelamento, da carta de correção ou o DACTe"
    )
    rb.add_argument("chave", metavar="CHAVE", help="chave de acesso do CT-e (44 dígitos)")
    rb.add_argument(
        "--tipo",
        choices=["xml", "json", "cancelamento", "cce", "pdf"],
        default="xml",
        help="xml (padrão), json, cancelamento, cce (última carta de correção) ou pdf (DACTe)",
    )
    rb.add_argument("--saida", metavar="ARQUIVO", help="onde salvar (padrão: pasta xml/ctes_recebidos)")
    rb.add_argument("--json", action="store_true", help=JSON_HELP)
    commands["ctes-recebidas"] = cmd_ctes_recebidas

    # -- lote-rps --------------------------------------------------------------------------------
    lr = sub.add_parser(
        "lote-rps", help="NFS-e por arquivo (lote de RPS): gerar, consultar, importar a resposta",
        description="Para cidades sem NFS-e por webservice: gera o arquivo de RPS para enviar no site da "
        "prefeitura e importa o arquivo de retorno dela.",
    )  # fmt: skip
    lsub = lr.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    lg = lsub.add_parser(
        "gerar", help="gera o arquivo do lote a partir de um JSON (prestador + lista_nfse)",
        description="O JSON tem 'prestador' (cnpj, inscricao_municipal, codigo_municipio; cnpj e município "
        "vêm da configuração se omitidos) e 'lista_nfse' com as notas no formato da NFS-e da API Focus.",
    )  # fmt: skip
    lg.add_argument("--arquivo", required=True, metavar="LOTE.json", help="arquivo JSON do lote")
    lg.add_argument("--ref", help="referência do lote (padrão: gerada pelo terminal)")
    lg.add_argument("--saida", metavar="ARQUIVO", help="onde salvar o arquivo gerado (padrão: pasta rps/)")
    lg.add_argument("--json", action="store_true", help=JSON_HELP)
    lc = lsub.add_parser("consultar", help="baixa de novo o arquivo de um lote já gerado")
    lc.add_argument("ref", metavar="REF", help="referência do lote")
    lc.add_argument("--saida", metavar="ARQUIVO", help="onde salvar (padrão: pasta rps/)")
    lc.add_argument("--json", action="store_true", help=JSON_HELP)
    la = lsub.add_parser("resposta", help="envia o arquivo de retorno da prefeitura e mostra cada NFS-e")
    la.add_argument("ref", metavar="REF", help="referência do lote")
    src = la.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--arquivo", metavar="RETORNO.txt", help="arquivo de retorno baixado do site da prefeitura"
    )
    src.add_argument(
        "--simular-prefeitura",
        action="store_true",
        help="modo demonstração: usa o retorno simulado da prefeitura",
    )
    la.add_argument("--json", action="store_true", help=JSON_HELP)
    ll = lsub.add_parser("listar", help="lista os lotes de RPS deste terminal")
    ll.add_argument("--json", action="store_true", help=JSON_HELP)
    commands["lote-rps"] = cmd_lote_rps


def _emit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--arquivo", required=True, metavar="DADOS.json", help="arquivo JSON com os dados (campos da API)"
    )
    p.add_argument("--ref", help="referência (padrão: gerada); a de um documento não autorizado reenvia-o")
    p.add_argument("--serie", type=_positive, help="série (padrão: a do arquivo, ou 1)")
    p.add_argument("--numero", type=_positive, help="número (padrão: o do arquivo, ou o próximo da série)")
    p.add_argument("--operador", metavar="CODIGO", help="código do gerente que emite (registro)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)


# ---------------------------------------------------------------------------------------------
def _run(fn: Callable[[Any], int]) -> int:
    """Open the terminal (and demo sandbox), run, turn API failures into exit 1 with the message."""
    from pos_app.core.focus.errors import FocusError

    ctx = open_app_for_cli()
    try:
        return fn(ctx)
    except FocusError as exc:
        raise CliError(str(exc), EXIT_NOT_ISSUED) from exc
    except ValueError as exc:
        from pos_app.core.domain.errors import ValidationError

        if isinstance(exc, ValidationError):
            raise
        raise CliError(str(exc)) from exc  # a check of the Focus client, before sending
    finally:
        ctx.close()


def _user_id(ctx: Any, codigo: str | None) -> int | None:
    if not codigo:
        return None
    user = ctx.store.users.by_code(codigo)
    if user is None:
        raise CliError(f"Operador não encontrado: {codigo}", field="operador")
    return int(user.id)


def _show(args: argparse.Namespace, data: dict[str, Any], lines: list[str]) -> None:
    if args.json:
        print_json(data)
    else:
        for line in lines:
            print(line)


def _outcome_lines(o: Any) -> list[str]:
    lines = [o.mensagem]
    if o.chave:
        lines.append(f"Chave: {o.chave}")
    if o.status_sefaz and o.status not in (CteStatus.AUTORIZADO,):
        lines.append(f"SEFAZ: {o.status_sefaz} {o.mensagem_sefaz or ''}".rstrip())
    lines.append(f"Referência: {o.ref}  situação: {o.status}")
    if o.xml_local:
        lines.append(f"XML: {o.xml_local}")
    return lines


def _emit(args: argparse.Namespace, modelo: int) -> int:
    from pos_app.core.services.cte import CteService, load_json_file

    payload = load_json_file(args.arquivo)  # bad file: exit 2 before opening anything

    def run(ctx: Any) -> int:
        service = CteService(ctx, max_wait=getattr(args, "espera", 30.0))
        outcome = service.emit(payload, modelo=modelo, ref=args.ref, serie=args.serie, numero=args.numero,
                               wait=not getattr(args, "sem_aguardar", False),
                               user_id=_user_id(ctx, args.operador),
                               progress=None if args.json else lambda m: print(m, file=sys.stderr))  # fmt: skip
        _show(args, outcome.to_json(), _outcome_lines(outcome))
        return EXIT_OK if outcome.status == CteStatus.AUTORIZADO else EXIT_NOT_ISSUED

    return _run(run)


def cmd_cte_os(args: argparse.Namespace) -> int:
    return _emit(args, 67)


def cmd_cte(args: argparse.Namespace) -> int:
    from pos_app.core.services.cte import STATUS_LABELS, CteService, load_json_file

    if args.action == "emitir":
        return _emit(args, 57)
    gtvs: list[dict[str, Any]] | None = None
    if args.action == "gtv":
        from pos_app.core.domain.errors import ValidationError

        data = load_json_file(args.arquivo)
        gtvs = data.get("informacoes_gtv")
        if not isinstance(gtvs, list) or not gtvs or not all(isinstance(g, dict) for g in gtvs):
            raise ValidationError(
                "informacoes_gtv", "O arquivo deve ter a lista 'informacoes_gtv' com as GTV."
            )

    def run(ctx: Any) -> int:
        service = CteService(ctx)
        if args.action == "consultar":
            o = service.consult(args.ref, completa=args.completa)
            _show(args, o.to_json(), _outcome_lines(o))
            return EXIT_OK
        if args.action == "cancelar":
            o = service.cancel(args.ref, args.justificativa)
            _show(args, o.to_json(), _outcome_lines(o))
            return EXIT_OK if o.status == CteStatus.CANCELADO else EXIT_NOT_ISSUED
        if args.action == "cce":
            o = service.carta_correcao(args.ref, args.campo, args.valor, grupo=args.grupo, item=args.item,
                                       campo_api=not args.tag_xml)  # fmt: skip
            _show(args, o.to_json(), _outcome_lines(o))
            return EXIT_OK if o.ok else EXIT_NOT_ISSUED
        if args.action in ("desacordo", "multimodal", "gtv"):
            tipo = {"desacordo": "desacordo", "multimodal": "registro_multimodal", "gtv": "dados_gtv"}[
                args.action
            ]
            o = service.evento(args.ref, tipo, observacoes=getattr(args, "observacoes", None),
                               registro=getattr(args, "registro", None),
                               numero_documento=getattr(args, "documento", None), informacoes_gtv=gtvs)  # fmt: skip
            _show(args, o.to_json(), _outcome_lines(o))
            return EXIT_OK if o.ok else EXIT_NOT_ISSUED
        if args.action == "inutilizar":
            result = service.inutilizar(
                args.serie, args.inicio, args.fim, args.justificativa, modelo=args.modelo
            )
            _show(args, result, [result["mensagem"]])
            return EXIT_OK if result["status"] == InutilizacaoStatus.AUTORIZADO else EXIT_NOT_ISSUED
        rows = service.issued()
        shown = [{k: r[k] for k in ("ref", "modelo", "serie", "numero", "status", "chave", "valor_total", "tomador",
                                    "status_sefaz", "mensagem_sefaz", "cartas_correcao", "created_at")}
                 for r in rows]  # fmt: skip
        lines = [
            f"{r['ref']:32} {r['modelo']}  {r['serie']:>3}/{r['numero']:<9} {STATUS_LABELS.get(r['status'], r['status']):26}"
            f" R$ {r['valor_total'] or '':>10}  {r['tomador'] or ''}"
            for r in rows
        ] or ["Nenhum CT-e emitido."]
        _show(args, {"ctes": shown}, lines)
        return EXIT_OK

    return _run(run)


def cmd_ctes_recebidas(args: argparse.Namespace) -> int:
    from pos_app.core.services.ctes_recebidas import (
        SITUACOES,
        CtesRecebidasService,
        check_chave,
        check_observacoes,
    )

    if args.action == "desacordo":  # refused before anything is opened or sent
        check_observacoes(args.observacoes)
    if args.action in ("desacordo", "baixar"):
        check_chave(args.chave)

    def run(ctx: Any) -> int:
        service = CtesRecebidasService(ctx)
        if args.action == "sincronizar":
            report = service.sync(progress=None if args.json else lambda m: print(m, file=sys.stderr))
            _show(args, report.to_json(), [report.mensagem])
            return EXIT_OK
        if args.action == "listar":
            rows = service.search(situacao=args.situacao, texto=args.emitente, desde=args.desde, ate=args.ate,
                                sem_desacordo=args.sem_desacordo)  # fmt: skip
            keys = (
                "chave",
                "versao",
                "situacao",
                "nome_emitente",
                "documento_emitente",
                "valor_total",
                "data_emissao",
                "tipo_cte",
                "carta_correcao",
                "data_cancelamento",
                "desacordo_status",
                "desacordo_protocolo",
            )
            data = [{k: r[k] for k in keys} for r in rows]
            lines = [f"{r['data_emissao'][:10] if r['data_emissao'] else '':10}  {r['chave']}  "
                     f"{SITUACOES.get(r['situacao'], r['situacao']):10}  R$ {r['valor_total'] or '':>10}  "
                     f"{(r['nome_emitente'] or '')[:40]}{'  [desacordo]' if r['desacordo_status'] == 'evento_registrado' else ''}"
                     for r in rows] or ["Nenhum CT-e recebido (use 'pos-app ctes-recebidas sincronizar')."]  # fmt: skip
            _show(args, {"ctes_recebidas": data, "total": len(data)}, lines)
            return EXIT_OK
        if args.action == "desacordo":
            result = service.desacordo(args.chave, args.observacoes)
            _show(args, result, [result["mensagem"]])
            return EXIT_OK if result["registrado"] else EXIT_NOT_ISSUED
        path = service.download(args.chave, args.tipo, Path(args.saida) if args.saida else None)
        _show(args, {"chave": check_chave(args.chave), "tipo": args.tipo, "arquivo": str(path)},
              [f"Arquivo salvo em {path}"])  # fmt: skip
        return EXIT_OK

    return _run(run)


def cmd_lote_rps(args: argparse.Namespace) -> int:
    from pos_app.core.domain.errors import ValidationError
    from pos_app.core.services.cte import load_json_file
    from pos_app.core.services.rps import STATUS_LABELS, RpsService

    payload = load_json_file(args.arquivo) if args.action == "gerar" else None
    if args.action == "resposta" and args.arquivo and not Path(args.arquivo).is_file():
        raise ValidationError("arquivo", f"Arquivo de retorno não encontrado: {args.arquivo}")

    def lines_of(o: Any) -> list[str]:
        lines = [o.mensagem]
        for r in o.resultado:
            if r["status"] == RpsAnswerStatus.AUTORIZADO:
                lines.append(f"  RPS {r['serie_rps']}/{r['numero_rps']}: NFS-e nº {r['numero']} "
                             f"código de verificação {r['codigo_verificacao']}")  # fmt: skip
            else:
                erros = (
                    "; ".join(f"{e.get('codigo')}: {e.get('mensagem')}" for e in r["erros"]) or r["status"]
                )
                lines.append(f"  RPS {r['serie_rps']}/{r['numero_rps']}: {erros}")
        return lines

    def run(ctx: Any) -> int:
        service = RpsService(ctx)
        if args.action == "gerar":
            assert payload is not None
            o = service.gerar(payload, ref=args.ref, dest=Path(args.saida) if args.saida else None)
            _show(args, o.to_json(), lines_of(o))
            return EXIT_OK if o.status == LoteRpsStatus.GERADO else EXIT_NOT_ISSUED
        if args.action == "consultar":
            o = service.consultar(args.ref, dest=Path(args.saida) if args.saida else None)
            _show(args, o.to_json(), lines_of(o))
            return EXIT_OK
        if args.action == "resposta":
            from pos_app.demo.rps import demo_city_answer  # heavy (sandbox): only for the simulated answer

            path = demo_city_answer(service, args.ref) if args.simular_prefeitura else Path(args.arquivo)
            o = service.resposta(args.ref, path)
            _show(args, o.to_json(), lines_of(o))
            return EXIT_OK if o.status == LoteRpsStatus.PROCESSADO else EXIT_NOT_ISSUED
        rows = service.batches()
        data = [{k: r[k] for k in ("ref", "status", "quantidade", "valor_total", "arquivo_path", "created_at")}
                for r in rows]  # fmt: skip
        lines = [
            f"{r['ref']:28} {STATUS_LABELS.get(r['status'], r['status']):26} {r['quantidade']:>4} RPS  "
            f"R$ {r['valor_total']:>10}  {r['arquivo_path'] or ''}"
            for r in rows
        ] or ["Nenhum lote de RPS."]
        _show(args, {"lotes": data}, lines)
        return EXIT_OK

    return _run(run)
