"""Support and storage subcommands of `pos-app` (registered by `pos_app.cli.build_parser`).

- ``pos-app backup``: online backup of the database now (rotation: 7 daily + 4 weekly);
- ``pos-app xml exportar --mes AAAA-MM [--saida ARQ.zip]``: the month's authorized XMLs for the accountant;
- ``pos-app doctor --pacote [ARQ.zip]`` (flag of ``doctor``, handled here): doctor + support bundle.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pos_app.cli.common import EXIT_NOT_ISSUED, EXIT_OK, CliError, _Parser, open_app_for_cli, print_json

Handler = Callable[[argparse.Namespace], int]


def register(sub: argparse._SubParsersAction, commands: dict[str, Handler]) -> None:
    """Add this module's subcommands to `sub` and their handlers to `commands`."""
    b = sub.add_parser(
        "backup", help="cópia de segurança do banco de dados agora (mantém 7 diárias e 4 semanais)"
    )
    b.add_argument("--json", action="store_true", help="saída em JSON")
    bsub = b.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser)
    br = bsub.add_parser(
        "restaurar",
        help="substitui o banco pela cópia indicada (com o programa fechado); "
        "o banco atual é guardado ao lado, nada é apagado",
    )
    br.add_argument("arquivo", metavar="ARQUIVO", help="cópia em backups/ (nome ou caminho)")
    br.add_argument("--json", action="store_true", help="saída em JSON")
    commands["backup"] = cmd_backup

    a = sub.add_parser("arquivo", help="arquivos anuais do histórico (anos encerrados, somente leitura)")
    asub = a.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    al = asub.add_parser("listar", help="arquivos anuais deste terminal")
    al.add_argument("--json", action="store_true", help="saída em JSON")
    af = asub.add_parser("fechar", help="move as vendas encerradas de um ano anterior para o arquivo do ano")
    af.add_argument("ano", type=int, metavar="AAAA")
    af.add_argument("--json", action="store_true", help="saída em JSON")
    commands["arquivo"] = cmd_arquivo

    x = sub.add_parser("xml", help="arquivo de XMLs das NFC-e autorizadas (guarda legal de 5 anos)")
    xsub = x.add_subparsers(dest="action", metavar="AÇÃO", parser_class=_Parser, required=True)
    xe = xsub.add_parser("exportar", help="exporta os XMLs de um mês em ZIP para a contabilidade")
    xe.add_argument("--mes", required=True, metavar="AAAA-MM", help="mês de emissão (ex.: 2026-03)")
    xe.add_argument("--saida", metavar="ARQ.zip", help="arquivo ZIP a gravar (padrão: xml-nfce-AAAA-MM.zip)")
    xe.add_argument("--sem-baixar", action="store_true", help="não tenta baixar da API os XMLs que faltam")
    xe.add_argument("--json", action="store_true", help="saída em JSON")
    commands["xml"] = cmd_xml


def cmd_backup(args: argparse.Namespace) -> int:
    from pos_app.core.store.archive import backup_archives
    from pos_app.core.store.backup import BackupError, backup_dir, list_backups, run_backup

    if getattr(args, "action", None) == "restaurar":
        return _restore(args)
    ctx = open_app_for_cli(start_sandbox=False)
    try:
        if ctx.maintenance is not None:  # the start-of-day backup may be running: never two at once
            ctx.maintenance.join()
        folder = backup_dir(ctx.data_dir)
        try:
            path = run_backup(ctx.data_dir / "pos.sqlite3", folder)
            backup_archives(ctx.data_dir, folder)  # yearly archives: copied once
        except (BackupError, OSError) as exc:
            raise CliError(str(exc), code=EXIT_NOT_ISSUED) from exc
        kept = list_backups(folder)
        if args.json:
            print_json({"backup": str(path), "guardados": [b.path.name for b in kept]})
        else:
            print(f"Backup gravado em {path}")
            print(f"{len(kept)} cópia(s) guardada(s) em {folder} (7 diárias + 4 semanais).")
        return EXIT_OK
    finally:
        ctx.close()


def _restore(args: argparse.Namespace) -> int:
    from pos_app.core import paths
    from pos_app.core.store.backup import BackupError, backup_dir
    from pos_app.core.store.restore import restore_backup

    data_dir = paths.data_dir()
    chosen = Path(args.arquivo)
    if not chosen.is_file():
        chosen = backup_dir(data_dir) / args.arquivo
    try:
        result = restore_backup(data_dir, chosen)
    except (BackupError, OSError) as exc:
        raise CliError(str(exc), code=EXIT_NOT_ISSUED) from exc
    if args.json:
        print_json(result)
    else:
        print(f"Banco restaurado de {chosen.name}: {result['vendas']} venda(s).")
        if result["anterior_guardado_como"]:
            print("O banco anterior foi guardado como: " + ", ".join(result["anterior_guardado_como"]))
        if result["arquivos_anuais_restaurados"]:
            print("Arquivos anuais trazidos de volta: " + ", ".join(result["arquivos_anuais_restaurados"]))
        print(
            "Rode 'pos-app sync' com internet antes de vender: notas emitidas depois da cópia são "
            "conferidas na API."
        )
    return EXIT_OK


def cmd_arquivo(args: argparse.Namespace) -> int:
    from pos_app.core.services import housekeeping
    from pos_app.core.store.archive import ArchiveError, list_archives

    ctx = open_app_for_cli(start_sandbox=False)
    try:
        if args.action == "listar":
            rows: list[dict[str, Any]] = [
                {"ano": a.year, "arquivo": str(a.path), "bytes": a.path.stat().st_size}
                for a in list_archives(ctx.data_dir)
            ]
            if args.json:
                print_json(rows)
            else:
                for r in rows:
                    print(f"{r['ano']}  {r['arquivo']}  {r['bytes'] / 1e6:.1f} MB")
                if not rows:
                    print("Nenhum arquivo anual: o banco guarda todo o histórico.")
            return EXIT_OK
        try:
            result = housekeeping.archive_year(ctx, args.ano)
        except ArchiveError as exc:
            raise CliError(str(exc), code=EXIT_NOT_ISSUED) from exc
        if args.json:
            print_json(result)
        else:
            print(f"{result['vendas_arquivadas']} venda(s) de {args.ano} movidas para {result['arquivo']}.")
            if result["ficaram_no_banco"]:
                print(f"{result['ficaram_no_banco']} venda(s) com nota ainda em aberto ficaram no banco.")
        return EXIT_OK
    finally:
        ctx.close()


def cmd_xml(args: argparse.Namespace) -> int:
    from pos_app.core.services.xml_archive import ExportError, check_month, export_month

    try:
        month = check_month(args.mes)
    except ExportError as exc:
        raise CliError(str(exc), field="mes") from exc
    out = Path(args.saida).expanduser() if args.saida else Path.cwd() / f"xml-nfce-{month}.zip"
    ctx = open_app_for_cli(start_sandbox=not args.sem_baixar)
    try:
        try:
            report = export_month(ctx, month, out, download_missing=not args.sem_baixar)
        except ExportError as exc:
            raise CliError(str(exc), code=EXIT_NOT_ISSUED) from exc
        if args.json:
            print_json(report.to_json())
        else:
            print(f"{len(report.exported)} XML(s) de {month} exportado(s) para {report.path}")
            if report.downloaded:
                print(f"({report.downloaded} baixado(s) da API agora)")
            for m in report.missing:
                print(f"  sem XML: NFC-e {m['numero']} série {m['serie']} ({m['status']})", file=sys.stderr)
            if report.missing:
                print(
                    f"{len(report.missing)} nota(s) sem XML local: rode 'pos-app sync' com internet e exporte "
                    "de novo.",
                    file=sys.stderr,
                )
        return EXIT_OK
    finally:
        ctx.close()


def cmd_doctor_bundle(args: argparse.Namespace) -> int:
    """``pos-app doctor --pacote [ARQ.zip]``: the doctor checks, then the support bundle.

    Works even when the terminal cannot open (damaged database, bad configuration): the bundle then
    carries the problem, the integrity check and the logs.
    """
    from pos_app.app import open_app
    from pos_app.core import paths
    from pos_app.core.services.context import SetupError
    from pos_app.core.services.support_bundle import default_bundle_path, write_support_bundle
    from pos_app.core.store.db import StoreError

    data_dir = paths.data_dir()
    out = Path(args.pacote).expanduser() if args.pacote else default_bundle_path(data_dir)
    checks = None
    problem = None
    ctx = None
    try:
        ctx = open_app(data_dir)
    except (StoreError, SetupError) as exc:
        problem = str(exc)
    try:
        if ctx is not None:
            from pos_app.core.services.doctor import run_doctor

            checks = run_doctor(ctx)
        report = write_support_bundle(data_dir, out, ctx=ctx, checks=checks, problem=problem)
    finally:
        if ctx is not None:
            ctx.close()
    failed = problem is not None or any(c.nivel == "erro" for c in checks or [])
    if args.json:
        print_json(
            {
                "verificacoes": [c.__dict__ for c in checks or []],
                "problema": problem,
                "pacote": str(report.path),
                "itens": report.members,
            }
        )
    else:
        if problem:
            print(f"[ERRO] {problem}")
        for c in checks or []:
            mark = {"ok": "[ OK ]", "aviso": "[AVISO]", "erro": "[ERRO]"}[c.nivel]
            print(f"{mark} {c.nome}: {c.mensagem}")
        print(f"\nPacote para o suporte: {report.path}  (sem senhas, token ou banco de dados)")
    return EXIT_NOT_ISSUED if failed else EXIT_OK
