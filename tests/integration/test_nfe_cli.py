"""pos-app clientes and pos-app sell to a CNPJ buyer (modelo in --json), in process, on the demo sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli_helpers import module_data_dir, run_json

BUYER = "12.ABC.345/01DE-35"
ADDRESS = [
    "--nome",
    "RESTAURANTE BOA MESA LTDA",
    "--logradouro",
    "Rua das Flores",
    "--numero",
    "100",
    "--bairro",
    "Centro",
    "--municipio",
    "Curitiba",
    "--codigo-municipio",
    "4106902",
    "--uf",
    "PR",
    "--cep",
    "80010-000",
    "--indicador-ie",
    "1",
    "--ie",
    "9044016688",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from module_data_dir(tmp_path_factory, "nfe_cli")


def test_unknown_buyer_refused_then_saved_and_the_sale_is_an_nfe(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_json(
        capsys, "sell", "--item", "7891102100377", "--cnpj", BUYER, "--pay", "dinheiro:30", "--json"
    )
    assert code == 2 and out["campo"] == "cnpj_destinatario" and "cadastre o cliente" in out["erro"]
    code, out, _ = run_json(capsys, "clientes", "salvar", BUYER, "--nome", "X", "--json")
    assert code == 2 and out["campo"] == "logradouro"
    code, out, _ = run_json(capsys, "clientes", "salvar", BUYER, *ADDRESS, "--json")
    assert code == 0 and out["documento"] == "12ABC34501DE35" and out["inscricao_estadual"] == "9044016688"
    code, out, _ = run_json(capsys, "clientes", "mostrar", BUYER, "--json")
    assert code == 0 and out["modelo"] == 55 and out["documento_fiscal"] == "NF-e (modelo 55)"
    code, out, _ = run_json(capsys, "clientes", "listar", "--busca", "boa mesa", "--json")
    assert code == 0 and [c["documento"] for c in out] == ["12ABC34501DE35"]
    code, out, _ = run_json(
        capsys, "sell", "--item", "7891102100377", "--cnpj", BUYER, "--pay", "dinheiro:30", "--json"
    )
    assert code == 0 and out["modelo"] == 55 and out["status"] == "autorizado" and out["chave"][20:22] == "55"
    code, out, _ = run_json(
        capsys, "sell", "--item", "7891102100377", "--cpf", "52998224725", "--pay", "dinheiro:30", "--json"
    )
    assert code == 0 and out["modelo"] == 65 and out["chave"][20:22] == "65"


def test_manager_override_keeps_the_nfce_for_cnpj(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_json(capsys, "config", "set", "nfe.destinatario_cnpj", "nfce")[0] == 0
    code, out, _ = run_json(
        capsys, "sell", "--item", "7891102100377", "--cnpj", BUYER, "--pay", "dinheiro:30", "--json"
    )
    assert code == 0 and out["modelo"] == 65
    assert run_json(capsys, "config", "set", "nfe.destinatario_cnpj", "talvez")[0] == 2
