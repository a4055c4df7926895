"""``pos-app sandbox``: run the sandbox in the foreground for demos and manual tests."""

from __future__ import annotations

import argparse
import time

from pos_app.core.domain.validators import format_cnpj
from pos_app.sandbox.companies import DEMO_COMPANY
from pos_app.sandbox.faults import FaultMode, parse_fault_spec
from pos_app.sandbox.server import DEMO_TOKEN, SandboxServer


def serve(port: int = 0, state_path: str | None = None, falha: list[str] | None = None) -> None:
    """Serve until Ctrl+C, printing the URL and token. ``falha``: specs like ``slow=2``, ``sefaz_down``."""
    specs = [parse_fault_spec(spec) for spec in falha or []]  # a typo fails before binding the port
    server = SandboxServer(port=port, state_path=state_path).start()
    try:
        for mode, params in specs:
            if mode is FaultMode.UNREACHABLE:
                raise SystemExit(
                    "A falha 'unreachable' não faz sentido ao iniciar: o servidor ficaria inacessível."
                )
            server.faults.set(mode, **params)
        print(f"Sandbox Focus NFC-e (homologação) ouvindo em {server.url}")
        print(f"Token: {DEMO_TOKEN}  (HTTP Basic: token como usuário, senha vazia)")
        print(f"Empresa de demonstração: {DEMO_COMPANY.razao_social} - CNPJ {format_cnpj(DEMO_COMPANY.cnpj)}")
        print(f"Estado: {state_path or 'em memória (perdido ao encerrar)'}")
        for line in server.faults.describe():
            print(f"Falha ativa: {line}")
        print("Pressione Ctrl+C para encerrar.", flush=True)
        while True:  # time.sleep, unlike Event.wait, is interruptible by Ctrl+C on Windows too
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nEncerrando o sandbox.")
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m pos_app.sandbox", description="Sandbox da API Focus NFe (NFC-e)"
    )
    parser.add_argument("--port", type=int, default=0, help="porta (0 = uma porta livre)")
    parser.add_argument(
        "--estado", dest="state_path", default=None, help="arquivo SQLite para guardar o estado"
    )
    parser.add_argument(
        "--falha",
        action="append",
        default=[],
        help="falha a injetar, ex.: slow=2, sefaz_down, server_error=503,count=2 (pode repetir)",
    )
    args = parser.parse_args(argv)
    try:
        serve(args.port, args.state_path, args.falha)
    except ValueError as exc:
        parser.error(str(exc))
