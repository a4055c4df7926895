"""``pos-app pix``: charges, late payments and refunds; the dynamic PIX step of ``pos-app sell``."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pos_app.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    CliError,
    _Parser,
    authenticate_manager,
    open_app_for_cli,
    parse_amount,
    print_json,
)

Handler = Callable[[argparse.Namespace], int]

EXIT_NOT_DONE = 1
DYNAMIC_ALIASES = ("pix", "pix-dinamico", "pix_dinamico")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], commands: dict[str, Handler]) -> None:
    p = sub.add_parser(
        "pix",
        help="PIX: cobranças, pagamentos recebidos sem venda e devoluções",
        description="Cobranças PIX dinâmicas deste terminal. 'pendentes' sincroniza com o PSP e "
        "lista os PIX recebidos sem venda (após cancelamento, em duplicidade) a devolver; "
        "'devolver' faz a devolução (gerente).",
    )
    psub = p.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    pl = psub.add_parser("pendentes", help="sincroniza com o PSP e lista as devoluções a fazer")
    pl.add_argument("--json", action="store_true", help="saída em JSON")
    pc = psub.add_parser("cobrancas", help="lista as cobranças recentes")
    pc.add_argument("--json", action="store_true", help="saída em JSON")
    pd = psub.add_parser("devolver", help="devolve um PIX recebido sem venda (gerente)")
    pd.add_argument(
        "id", type=int, nargs="?", metavar="ID", help="número da devolução (veja 'pix pendentes')"
    )
    pd.add_argument("--todas", action="store_true", help="devolve todas as pendentes")
    pd.add_argument("--pin", help="PIN de um gerente ativo (omitido: perguntado no terminal)")
    pd.add_argument("--gerente", metavar="CODIGO", help="código do gerente")
    pd.add_argument("--json", action="store_true", help="saída em JSON")
    commands["pix"] = cmd_pix  # wrong PIN / not a manager (ManagerError): exit 2 by cli.common.handle_error


def cmd_pix(args: argparse.Namespace) -> int:
    from pos_app.core.pix.client import PixError
    from pos_app.core.pix.service import REFUND_LABELS, PixNotConfigured, pix_service

    ctx = open_app_for_cli()
    try:
        svc = pix_service(ctx)
        try:
            if args.action == "cobrancas":
                rows = svc.recent_charges(50)
                if args.json:
                    print_json(rows)
                else:
                    from datetime import datetime

                    tz = ctx.now().tzinfo
                    for r in rows:
                        when = (
                            datetime.fromisoformat(r["created_at"]).astimezone(tz).strftime("%d/%m/%Y %H:%M")
                        )
                        print(
                            f"{r['id']:>5} {when} R$ {r['valor']:>9} {r['status']:<22} "
                            f"{r['e2eid'] or '-'} venda {r['sale_id'] or '-'}"
                        )
                return EXIT_OK
            svc.sync()
            pending = svc.pending_refunds()
            if args.action == "pendentes":
                if args.json:
                    print_json(pending)
                elif not pending:
                    print("Nenhum PIX recebido sem venda.")
                else:
                    for r in pending:
                        print(
                            f"{r['id']:>4} R$ {r['valor']:>9}  {r['e2eid']}  {_motivo(r['motivo'])}  "
                            f"({REFUND_LABELS.get(r['status'], r['status'])})"
                        )
                return EXIT_OK
            # devolver
            targets = [r["id"] for r in pending] if args.todas else ([args.id] if args.id else [])
            if not targets:
                raise CliError(
                    "Informe o número da devolução (pos-app pix pendentes) ou --todas.", EXIT_BAD_INPUT, "id"
                )
            user = authenticate_manager(ctx, args, "pix_devolucao")
            done = [svc.refund(i, user) for i in targets]
            if args.json:
                print_json(done)
            else:
                for r in done:
                    motivo = f" ({r['last_error']})" if r["status"] != "devolvida" and r["last_error"] else ""
                    print(
                        f"Devolução {r['id']}: R$ {r['valor']} ao pagador do PIX {r['e2eid']} — "
                        f"{REFUND_LABELS.get(r['status'], r['status'])}{motivo}"
                    )
            return EXIT_OK if all(r["status"] == "devolvida" for r in done) else EXIT_NOT_DONE
        except PermissionError as exc:
            raise CliError(str(exc), EXIT_BAD_INPUT, "pin") from exc
        except KeyError as exc:
            raise CliError(str(exc.args[0]), EXIT_BAD_INPUT, "id") from exc
        except PixNotConfigured as exc:
            raise CliError(str(exc), EXIT_BAD_INPUT, "pix.url") from exc
        except PixError as exc:
            raise CliError(f"PSP: {exc}", EXIT_NOT_DONE) from exc
    finally:
        ctx.close()


def _motivo(code: str) -> str:
    return {
        "apos_cancelamento": "pago após o cancelamento da cobrança",
        "duplicado": "pago em duplicidade",
        "paga_sem_venda": "pago, venda não concluída",
    }.get(code, code)


# -- sell --pay pix:VALOR ---------------------------------------------------------------------
def split_pix_payments(ctx: Any, pay_specs: list[str]) -> tuple[list[str], list[Decimal]]:
    """``--pay`` specs -> (the others, dynamic PIX amounts).

    ``pix:VALOR`` is a dynamic charge when ``pix.url`` is set (else the plain PIX of before);
    ``pix-estatico:VALOR`` (forma 20, alias of the cart service) a static PIX confirmed by the
    operator: it stays with the others and ``settle_pix`` records it.
    """
    others: list[str] = []
    dynamic: list[Decimal] = []
    from pos_app.core.pix.service import pix_service

    pix_on = pix_service(ctx).configured()
    for spec in pay_specs:
        forma, sep, rest = spec.partition(":")
        key = forma.strip().lower()
        if sep and key in DYNAMIC_ALIASES and pix_on:
            dynamic.append(parse_amount(rest, "pay"))
        elif sep and key in DYNAMIC_ALIASES[1:]:
            raise CliError("PIX dinâmico não configurado (pix.url).", EXIT_BAD_INPUT, "pay")
        else:
            others.append(spec)
    if len(dynamic) > 1:
        raise CliError("Use um único pagamento PIX dinâmico por venda.", EXIT_BAD_INPUT, "pay")
    return others, dynamic


def charge_dynamic(ctx: Any, valor: Decimal, operador_id: int | None, timeout: float) -> Any:
    """Create the charge, show its copia e cola on stderr and wait. Returns the Payment or raises CliError."""
    from pos_app.core.pix import service as pix
    from pos_app.core.pix.client import PixConfigError, PixError

    svc = pix.pix_service(ctx)
    try:
        charge = svc.create(valor, operador_id=operador_id, expiracao=max(30, int(timeout) + 5))
    except (pix.PixNotConfigured, PixConfigError) as exc:
        raise CliError(str(exc), EXIT_BAD_INPUT, "pay") from exc
    except PixError as exc:
        raise CliError(f"PIX dinâmico indisponível: {exc}", EXIT_NOT_DONE, "pay") from exc
    from pos_app.core.domain.money import format_brl

    print(f"PIX copia e cola ({format_brl(valor)}, válido por {int(timeout)} s):", file=sys.stderr)
    print(charge.copia_e_cola or "", file=sys.stderr, flush=True)
    charge = svc.wait(charge.id, timeout=timeout)
    if not charge.final:  # our own timeout: remove the charge so it cannot be paid any more
        with contextlib.suppress(PixError):
            charge = svc.cancel(charge.id)
    if charge.status != pix.PAGA:
        what = {
            pix.EXPIRADA: "expirou",
            pix.CANCELADA: "foi cancelada",
            pix.REMOVIDA_PSP: "foi removida pelo PSP",
            pix.ATIVA: "não foi paga a tempo",
            pix.FALHOU: "não foi criada",
        }.get(charge.status, charge.status)
        raise CliError(
            f"Cobrança PIX {charge.txid} {what}: venda não concluída, nenhuma nota emitida.",
            EXIT_NOT_DONE,
            "pay",
        )
    print(f"PIX recebido: {charge.e2eid}", file=sys.stderr)
    return charge


def settle_pix(ctx: Any, sale: Any, pending: list[Any], operador_id: int | None, timeout: float) -> Any:
    """Before checkout: charge and wait for the dynamic PIX (``pending`` payments, completed in place
    with the PSP's CNPJ and the endToEndId) and record static PIX with the operator."""
    from pos_app.core.pix.service import PIX_ESTATICO, pix_service

    svc = pix_service(ctx)
    user = ctx.store.users.get(operador_id) if operador_id else None
    charge = None
    for payment in pending:
        charge = charge_dynamic(ctx, payment.valor, operador_id, timeout)
        paid = svc.payment_for(charge)
        payment.cnpj_credenciadora = paid.cnpj_credenciadora
        payment.numero_autorizacao = paid.numero_autorizacao
    for payment in sale.payments:
        if payment.forma == PIX_ESTATICO:
            payment.pix_brcode = svc.record_static(payment.valor, user).pix_brcode
    return charge
