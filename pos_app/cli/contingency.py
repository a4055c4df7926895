"""`pos-app contingencia ...`: the offline contingency notes that need someone.

- ``listar [--json]``: notes not yet authorized (oldest first, with age and deadline), the ones
  SEFAZ rejected with its message, and in-doubt attempts waiting for the manager;
- ``corrigir REF``: rebuilds the items' tax fields (NCM, CFOP, CEST, origin, CST/CSOSN, GTIN) of a
  rejected note from the current catalog, keeping numero, série, cNF and data de emissão (same
  access key, same printed QR code), and puts it back in the transmission queue;
- ``reenviar REF``: transmits that note now (same ref, numero, série and cNF).

Also the Portuguese names of the sandbox faults (``pos-app sandbox --falha lento:8``).
Exit codes: 0 done; 1 sent but not authorized / nothing changed; 2 bad input.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from pos_app.cli.common import CliError, _Parser, open_app_for_cli, print_json
from pos_app.core.fiscal.document_status import DocumentStatus as S

Handler = Callable[[argparse.Namespace], int]

EXIT_OK = 0
EXIT_NOT_DONE = 1
EXIT_BAD_INPUT = 2


def register(sub: argparse._SubParsersAction, commands: dict[str, Handler]) -> None:
    """Add this module's subcommands to `sub` and their handlers to `commands`."""
    c = sub.add_parser(
        "contingencia",
        help="notas em contingência: listar, corrigir e reenviar",
        description="Notas emitidas em contingência offline que ainda não foram autorizadas. Uma nota "
        "rejeitada pela SEFAZ é corrigida e reenviada com o MESMO número, série e código (mesma chave): "
        "ela nunca é inutilizada nem renumerada.",
    )
    csub = c.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    cl = csub.add_parser("listar", help="lista as notas pendentes e as que precisam de correção")
    cl.add_argument("--json", action="store_true", help="saída em JSON")
    cc = csub.add_parser(
        "corrigir",
        help="refaz a tributação dos itens a partir do catálogo atual",
        description="Refaz NCM, CFOP, CEST, origem, CST/CSOSN e GTIN dos itens da nota a partir do cadastro "
        "atual dos produtos (corrija o produto antes: pos-app catalog import). Número, série, código "
        "(cNF), data de emissão e valores não mudam. A nota volta para a fila de transmissão.",
    )
    cc.add_argument("ref", metavar="REF", help="referência da nota (ex.: T1A2B3C_00000042_C)")
    cc.add_argument("--json", action="store_true", help="saída em JSON")
    cr = csub.add_parser("reenviar", help="transmite agora a nota (mesmo número, série e código)")
    cr.add_argument("ref", metavar="REF", help="referência da nota")
    cr.add_argument("--json", action="store_true", help="saída em JSON")
    commands["contingencia"] = cmd_contingencia


def cmd_contingencia(args: argparse.Namespace) -> int:
    ctx = open_app_for_cli()
    try:
        if args.action == "listar":
            return _listar(ctx, args.json)
        if args.action == "corrigir":
            return _corrigir(ctx, args.ref, args.json)
        return _reenviar(ctx, args.ref, args.json)
    except (KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise CliError(str(message), field="ref") from exc
    finally:
        ctx.close()


def _listar(ctx: Any, as_json: bool) -> int:
    from pos_app.core.services.corrections import contingency_list

    data = contingency_list(ctx)
    if as_json:
        print_json(data)
        return EXIT_OK
    if not data["notas"]:
        print("Nenhuma nota em contingência pendente.")
    for n in data["notas"]:
        age = n["idade_minutos"]
        line = (
            f"{n['ref']:24} nº {n['numero']:>6} série {n['serie']}  {n['data_emissao']}  "
            f"há {age // 60} h {age % 60:02d} min  "
        )
        if n["precisa_correcao"]:
            line += f"PRECISA DE CORREÇÃO — SEFAZ {n['status_sefaz']}: {n['mensagem_sefaz']}"
        else:
            line += {S.CONTINGENCIA_PENDENTE: "aguardando transmissão", S.TRANSMITINDO: "em transmissão"}.get(
                n["status"], n["status"]
            )
        print(line)
    if data["com_erro"]:
        print(
            f"\n{data['com_erro']} nota(s) precisam de correção: corrija o cadastro do produto e rode "
            "'pos-app contingencia corrigir REF' (depois, se quiser, 'pos-app contingencia reenviar REF')."
        )
    for m in data["para_gerente"]:
        print(f"Atenção do gerente: {m['ref']} ({m['status']}) — {m['motivo']}")
    return EXIT_OK


def _corrigir(ctx: Any, ref: str, as_json: bool) -> int:
    from pos_app.core.services.corrections import CorrectionError, correct_from_catalog

    try:
        changes = correct_from_catalog(ctx, ref)
    except CorrectionError as exc:
        raise CliError(str(exc), field="ref") from exc
    doc = ctx.store.documents.by_ref(ref)
    if as_json:
        print_json(
            {
                "ref": ref,
                "corrigida": bool(changes),
                "alteracoes": [c.to_json() for c in changes],
                "status": doc["status"],
                "numero": doc["numero"],
                "serie": doc["serie"],
                "codigo_unico": doc["codigo_unico"],
                "chave": doc["chave"],
            }
        )
    elif changes:
        for c in changes:
            print(f"item {c.item} ({c.codigo}) {c.campo}: {c.antes} -> {c.depois}")
        print(
            f"Nota {ref} corrigida (nº {doc['numero']} série {doc['serie']}, mesma chave {doc['chave']}); "
            "volta para a fila de transmissão. Para enviar agora: pos-app contingencia reenviar " + ref
        )
    else:
        print(
            "Nada mudou: o cadastro dos produtos desta nota é o mesmo. Corrija o produto (pos-app catalog "
            "import) e rode este comando de novo."
        )
    return EXIT_OK if changes else EXIT_NOT_DONE


def _reenviar(ctx: Any, ref: str, as_json: bool) -> int:
    from pos_app.core.services.replay import ReplayService

    report = ReplayService(ctx).transmit_one(ref)
    doc = ctx.store.documents.by_ref(ref)
    authorized = doc["status"] == S.AUTORIZADO
    if as_json:
        print_json(
            {
                "ref": ref,
                "status": doc["status"],
                "numero": doc["numero"],
                "serie": doc["serie"],
                "chave": doc["chave"],
                "protocolo": doc["protocolo"],
                "status_sefaz": doc["status_sefaz"],
                "mensagem_sefaz": doc["mensagem_sefaz"],
                "interrompido": report.interrompido,
            }
        )
    elif authorized:
        print(
            f"Nota {ref} autorizada: nº {doc['numero']} série {doc['serie']}, protocolo {doc['protocolo']}."
        )
    elif doc["status"] == S.CONTINGENCIA_ERRO:
        print(f"A SEFAZ rejeitou de novo a nota {ref}: {doc['status_sefaz']} — {doc['mensagem_sefaz']}")
    else:
        print(
            f"Nota {ref} não transmitida agora ({doc['status']}): {report.interrompido or doc['last_error'] or ''}"
        )
    return EXIT_OK if authorized else EXIT_NOT_DONE


# -- sandbox faults in Portuguese ----------------------------------------------------------------
# name -> (fault mode, the parameter the value goes to, fixed parameters)
FAULT_ALIASES: dict[str, tuple[str, str | None, dict[str, str]]] = {
    "inacessivel": ("unreachable", None, {}),
    "sem_conexao": ("unreachable", None, {}),
    "lento": ("slow", "seconds", {}),
    "sem_resposta": ("in_doubt", "seconds", {}),
    "duvida": ("in_doubt", "seconds", {}),
    "sefaz_fora": ("sefaz_down", None, {}),
    "429": ("rate_storm", "n", {}),
    "limite": ("rate_storm", "n", {}),
    "erro500": ("server_error", "count", {"code": "500"}),
    "erro502": ("server_error", "count", {"code": "502"}),
    "erro503": ("server_error", "count", {"code": "503"}),
    "erro504": ("server_error", "count", {"code": "504"}),
    "rejeitar": ("reject_ref", "target", {}),
    "queda": ("reset_mid_body", None, {}),
    "gotejando": ("trickle", "bytes_per_s", {}),
    "json_truncado": ("truncated_json", None, {}),
    "html": ("html_200", None, {}),
    "tipo_errado": ("wrong_content_type", None, {}),
    "gigante": ("huge_body", "mb", {}),
}


def translate_fault_spec(spec: str) -> str:
    """``lento:8`` -> ``slow=8``, ``429:5`` -> ``rate_storm=5``, ``erro500:3`` -> ``server_error,code=500,count=3``.

    English specs of ``pos_app.sandbox.parse_fault_spec`` pass through unchanged.
    """
    head, comma, rest = spec.strip().partition(",")
    name, sep, value = head.partition(":") if ":" in head else head.partition("=")
    key = name.strip().lower().replace("í", "i").replace("ú", "u").replace("-", "_")
    alias = FAULT_ALIASES.get(key)
    if alias is None:
        return spec
    mode, param, fixed = alias
    parts = [mode]
    parts += [f"{k}={v}" for k, v in fixed.items()]
    if sep and value.strip():
        if param is None:
            raise ValueError(f"A falha {name} não aceita valor")
        parts.append(f"{param}={value.strip()}")
    if comma and rest.strip():
        parts.append(rest.strip())
    return ",".join(parts)
