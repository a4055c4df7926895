"""`pos-app ctes-recebidas ...` in process, on one demo data folder for the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import module_data_dir, run_json

from pos_app.cli import main
from pos_app.sandbox import DEMO_COMPANY, SandboxServer

OBS = "Frete cobrado acima do valor contratado"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from module_data_dir(tmp_path_factory, "ctes-recebidas-cli")


run = run_json


def offline_sandbox(data_dir: Path) -> SandboxServer:
    """The demo sandbox's state, between two commands (as if the carriers sent new documents)."""
    return SandboxServer(state_path=str(data_dir / "sandbox.sqlite3"))


def test_incremental_sync_and_filters(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = run(capsys, "ctes-recebidas", "sincronizar", "--json")
    assert code == 0 and report["novos"] == 6 and report["total_local"] == 6 and report["completo"]
    first_mark = report["max_versao"]
    code, report, _ = run(capsys, "ctes-recebidas", "sincronizar", "--json")
    assert (report["novos"], report["atualizados"], report["max_versao"]) == (0, 0, first_mark)

    sandbox = offline_sandbox(data_dir)
    recebidas = sandbox.backoffice.ctes_recebidas
    new = recebidas.add(DEMO_COMPANY.cnpj, nome_emitente="TRANSPORTADORA NOVA LTDA", valor_total="77.70")
    code, listing, _ = run(capsys, "ctes-recebidas", "listar", "--json")
    target = next(c for c in listing["ctes_recebidas"] if c["situacao"] == "autorizado")["chave"]
    recebidas.cancel(target, "Cancelado pelo transportador")
    sandbox.store.close()

    code, report, _ = run(capsys, "ctes-recebidas", "sincronizar", "--json")
    assert (report["novos"], report["atualizados"]) == (1, 1) and report["max_versao"] > first_mark
    code, listing, _ = run(capsys, "ctes-recebidas", "listar", "--json")
    assert listing["total"] == 7 and new in {c["chave"] for c in listing["ctes_recebidas"]}
    code, cancelled, _ = run(capsys, "ctes-recebidas", "listar", "--situacao", "cancelado", "--json")
    assert {c["chave"] for c in cancelled["ctes_recebidas"]} >= {target}
    assert all(c["situacao"] == "cancelado" for c in cancelled["ctes_recebidas"])
    code, by_name, _ = run(capsys, "ctes-recebidas", "listar", "--emitente", "NOVA", "--json")
    assert [c["chave"] for c in by_name["ctes_recebidas"]] == [new]
    code, old, _ = run(capsys, "ctes-recebidas", "listar", "--ate", "2000-01-01", "--json")
    assert old["total"] == 0
    code, text, _ = run(capsys, "ctes-recebidas", "listar")
    assert code == 0 and "TRANSPORTADORA NOVA LTDA" in text and "Cancelado" in text


def test_desacordo_and_downloads(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "ctes-recebidas", "sincronizar")
    code, listing, _ = run(
        capsys, "ctes-recebidas", "listar", "--situacao", "autorizado", "--sem-desacordo", "--json"
    )
    items = sorted(listing["ctes_recebidas"], key=lambda c: c["data_emissao"], reverse=True)
    chave = items[0]["chave"]
    code, result, _ = run(capsys, "ctes-recebidas", "desacordo", chave, "--observacoes", OBS, "--json")
    assert code == 0 and result["registrado"] and result["protocolo"]
    code, err, _ = run(capsys, "ctes-recebidas", "desacordo", chave, "--observacoes", OBS, "--json")
    assert code == 2 and "Já há um desacordo" in err["erro"]
    code, listing, _ = run(capsys, "ctes-recebidas", "listar", "--sem-desacordo", "--json")
    assert chave not in {c["chave"] for c in listing["ctes_recebidas"]}
    code, text, _ = run(capsys, "ctes-recebidas", "listar")
    assert "[desacordo]" in text

    for tipo, start in (("xml", b"<?xml"), ("pdf", b"%PDF"), ("json", b"{")):
        out = tmp_path / f"cte.{tipo}"
        code, data, _ = run(
            capsys, "ctes-recebidas", "baixar", chave, "--tipo", tipo, "--saida", str(out), "--json"
        )
        assert code == 0 and data["arquivo"] == str(out) and out.read_bytes().startswith(start)
    code, err, _ = run(capsys, "ctes-recebidas", "baixar", chave, "--tipo", "cancelamento", "--json")
    assert code == 2 and "Não há XML de cancelamento" in err["erro"]
    code, cancelled, _ = run(capsys, "ctes-recebidas", "listar", "--situacao", "cancelado", "--json")
    code, data, _ = run(capsys, "ctes-recebidas", "baixar", cancelled["ctes_recebidas"][0]["chave"], "--tipo",
                        "cancelamento", "--json")  # fmt: skip
    assert code == 0 and Path(data["arquivo"]).read_bytes().startswith(b"<?xml")


@pytest.mark.parametrize(
    ("argv", "expected", "field"),
    [
        (["desacordo", "4" * 44, "--observacoes", OBS], "Chave de acesso inválida", "chave"),
        (["desacordo", "123", "--observacoes", OBS], "Chave de acesso inválida", "chave"),
        (["desacordo", "41240111222333000181570010000000011123456788", "--observacoes", "curta"],
         "entre 15 e 255", "observacoes"),
        (["desacordo", "41240111222333000181570010000000011123456788", "--observacoes", "x" * 256],
         "entre 15 e 255", "observacoes"),
        (["baixar", "abc"], "Chave de acesso inválida", "chave"),
        (["listar", "--desde", "ontem"], "Data inválida", "desde"),
    ],
)  # fmt: skip
def test_bad_input(
    data_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str, field: str
) -> None:
    code, err, stderr = run(capsys, "ctes-recebidas", *argv, "--json")
    assert code == 2 and expected in err["erro"] and err["campo"] == field and "Erro:" in stderr


def test_help_is_in_portuguese(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["ctes-recebidas", "--help"], ["ctes-recebidas", "desacordo", "--help"],
                 ["ctes-recebidas", "listar", "--help"], ["ctes-recebidas", "baixar", "--help"]):  # fmt: skip
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("uso: pos-app ctes-recebidas") and "mostra esta ajuda e sai" in out
