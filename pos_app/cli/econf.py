"""``pos-app econf``: Conciliação Financeira (ECONF) of card/PIX payments — list, send, consult, cancel.

Exit codes (``cli.common``): 0 done; 1 the API refused/rejected it or gave no answer (nothing known to
be registered); 2 refused before sending (bad input, wrong PIN, nothing to send, an ECONF in doubt
without ``--mesmo-assim``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pos_app.cli.common import (
    EXIT_NOT_ISSUED,
    EXIT_OK,
    CliError,
    _Parser,
    authenticate_manager,
    open_app_for_cli,
    print_json,
)
from pos_app.core.domain.money import format_brl

Handler = Callable[[argparse.Namespace], int]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], commands: dict[str, Handler]) -> None:
    p = sub.add_parser(
        "econf",
        help="conciliação financeira (ECONF): vínculo dos pagamentos cartão/PIX à nota",
        description="Eventos de Conciliação Financeira (ECONF). Nas UFs que exigem (tabela "
        "econf_obrigatoriedade.csv; configuração econf.modo) são enviados sozinhos pela sincronização "
        "em segundo plano depois da autorização da nota. Aqui o gerente lista, envia, consulta e cancela.",
    )
    esub = p.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    pl = esub.add_parser("listar", help="lista os ECONF (pendentes, em dúvida, rejeitados, registrados)")
    pl.add_argument(
        "--status",
        action="append",
        default=[],
        help="filtra pela situação (avaliar, pendente, enviando, registrado, rejeitado, em_duvida, cancelado)",
    )
    pl.add_argument("--json", action="store_true", help="saída em JSON")
    pe = esub.add_parser("enviar", help="envia agora o ECONF de uma nota (gerente)")
    pe.add_argument("ref", metavar="REF", help="referência da nota")
    pe.add_argument(
        "--mesmo-assim",
        action="store_true",
        help="envia de novo um ECONF em dúvida (só depois de conferir no painel da Focus NFe que não foi registrado)",
    )
    _manager_args(pe)
    pc = esub.add_parser("consultar", help="consulta um ECONF na API pelo protocolo")
    pc.add_argument("ref", metavar="REF")
    pc.add_argument("protocolo", metavar="PROTOCOLO")
    pc.add_argument("--json", action="store_true", help="saída em JSON")
    px = esub.add_parser("cancelar", help="cancela um ECONF (gerente; do mais antigo para o mais recente)")
    px.add_argument("ref", metavar="REF")
    px.add_argument("protocolo", metavar="PROTOCOLO")
    _manager_args(px)
    pm = esub.add_parser(
        "marcar-registrado",
        help="registra um ECONF em dúvida que o painel da Focus NFe mostra registrado (gerente)",
    )
    pm.add_argument("ref", metavar="REF")
    pm.add_argument("protocolo", metavar="PROTOCOLO")
    _manager_args(pm)
    commands["econf"] = cmd_econf


def _manager_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pin", help="PIN de um gerente ativo (omitido: perguntado no terminal)")
    p.add_argument("--gerente", metavar="CODIGO", help="código do gerente")
    p.add_argument("--json", action="store_true", help="saída em JSON")


def _line(e: dict[str, Any]) -> str:
    protocolo = f" protocolo {e['numero_protocolo']}" if e["numero_protocolo"] else ""
    sefaz = f" — SEFAZ {e['status_sefaz']}: {e['mensagem_sefaz']}" if e["mensagem_sefaz"] else ""
    erro = f" — {e['erro']}" if e["erro"] and e["status"] != "registrado" else ""
    total = sum((Decimal(str(d.get("valor_pagamento") or 0)) for d in e["detalhes"] or []), Decimal(0))
    valor = f"  {format_brl(total)}" if e["detalhes"] else ""
    return f"{e['ref']:<24} {e['situacao']:<26}{valor}{protocolo}{sefaz}{erro}"


def cmd_econf(args: argparse.Namespace) -> int:
    from pos_app.core.fiscal.document_status import ECONF_LABELS as _LABELS
    from pos_app.core.services.econf import EconfService

    ctx = open_app_for_cli(start_sandbox=True)
    try:
        svc = EconfService(ctx)
        if args.action == "listar":
            estados = [s.strip() for chunk in args.status for s in chunk.split(",") if s.strip()]
            unknown = [s for s in estados if s not in _LABELS]
            if unknown:
                raise CliError(f"Situação desconhecida: {', '.join(unknown)}", field="status")
            rows = svc.listing(estados or None)
            if args.json:
                print_json(rows)
                return EXIT_OK
            if not rows:
                print("Nenhum evento de conciliação financeira (ECONF).")
            for e in rows:
                print(_line(e))
            for line in svc.manager_lines():
                print(f"Atenção: {line}")
            return EXIT_OK
        if args.action == "consultar":
            data = svc.consult(args.ref, args.protocolo)
            if args.json:
                print_json(data)
            else:
                print(
                    f"ECONF {args.protocolo} da nota {args.ref}: {data['status']} — SEFAZ {data['status_sefaz']}: "
                    f"{data['mensagem_sefaz']} (conciliação nº {data['numero']})"
                )
            return EXIT_OK
        action = {
            "enviar": "econf_enviar",
            "cancelar": "econf_cancelar",
            "marcar-registrado": "econf_marcar_registrado",
        }[args.action]
        manager = authenticate_manager(ctx, args, action)
        if args.action == "enviar":
            row = svc.send_now(args.ref, mesmo_assim=args.mesmo_assim, user=manager)
            if args.json:
                print_json(row)
            elif row["status"] == "registrado":
                print(
                    f"ECONF da nota {args.ref} registrado: protocolo {row['numero_protocolo']}, "
                    f"conciliação nº {row['numero_conciliacao']}."
                )
            elif row["status"] == "em_duvida":
                print(f"ECONF da nota {args.ref} sem confirmação da API: {row['erro']}")
            else:
                print(f"ECONF da nota {args.ref} rejeitado — {row['status_sefaz']}: {row['mensagem_sefaz']}")
            return EXIT_OK if row["status"] == "registrado" else EXIT_NOT_ISSUED
        if args.action == "marcar-registrado":
            row = svc.mark_registered(args.ref, args.protocolo, user=manager)
            if args.json:
                print_json(row)
            else:
                print(
                    f"ECONF da nota {args.ref} marcado como registrado (protocolo {row['numero_protocolo']})."
                )
            return EXIT_OK
        data = svc.cancel(args.ref, args.protocolo, user=manager)
        if args.json:
            print_json(data)
        elif data["cancelado"]:
            print(f"ECONF {args.protocolo} da nota {args.ref} cancelado (evento nº {data['numero']}).")
        else:
            print(
                f"Cancelamento do ECONF {args.protocolo} rejeitado — SEFAZ {data['status_sefaz']}: "
                f"{data['mensagem_sefaz']}" + (f". {data['dica']}" if data.get("dica") else "")
            )
        return EXIT_OK if data["cancelado"] else EXIT_NOT_ISSUED
    finally:
        ctx.close()
