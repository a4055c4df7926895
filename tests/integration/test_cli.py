"""`pos-app` subcommands, in process, each with its own data folder and demo sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pos_app.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_sell_json_authorized(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "sell",
        "--item",
        "7891102100377*2",
        "--item",
        "1021",
        "--pay",
        "dinheiro:50",
        "--pay",
        "credito:20:visa",
        "--desconto",
        "1,00",
        "--json",
    )
    data = json.loads(out)
    assert code == 0
    assert data["status"] == "autorizado" and data["contingencia"] is False
    assert data["total"] == "63.79" and data["troco"] == "6.21"
    assert len(data["chave"]) == 44 and data["serie"] == 1 and data["numero"] >= 1
    assert Path(data["danfce"]).is_file()
    assert set(data) >= {
        "ref",
        "status",
        "contingencia",
        "serie",
        "numero",
        "chave",
        "total",
        "troco",
        "danfce",
    }


@pytest.mark.parametrize(
    ("argv", "expected", "field"),
    [
        (["--item", "0000000000000", "--pay", "dinheiro:10"], "Produto não encontrado", "item"),
        (["--item", "1001*0", "--pay", "dinheiro:10"], "maior que zero", "quantidade"),
        (["--item", "1001*-2", "--pay", "dinheiro:10"], "maior que zero", "quantidade"),
        (["--item", "1001", "--pay", "dinheiro:10"], "insuficiente", "pagamento"),
        (["--pay", "dinheiro:10"], "sem itens", "item"),
        (["--item", "1001", "--pay", "dinheiro:30", "--cpf", "123.456.789-00"], "CPF inválido", "cpf"),
        (["--item", "1001", "--pay", "dinheiro:30", "--cnpj", "11.111.111/1111-11"], "CNPJ inválido", "cnpj"),
        (["--item", "1001", "--pay", "cheque-voador:30"], "Forma de pagamento desconhecida", "pay"),
        (["--item", "1001", "--pay", "dinheiro:abc"], "Valor inválido", "pay"),
    ],
)
def test_bad_sale_input_is_refused_and_nothing_is_stored(
    data_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str, field: str
) -> None:
    code, out, err = run(capsys, "sell", *argv, "--json")
    assert code == 2
    data = json.loads(out)
    assert expected.lower() in data["erro"].lower(), data
    assert field in (data["campo"] or "").lower(), data
    assert "Erro:" in err
    from pos_app.core.store import Store

    store = Store(data_dir / "pos.sqlite3")
    assert store.sales.count() == 0 and store.documents.count_by_status() == {}
    store.close()


def test_catalog_import_reports_bad_lines_and_imports_the_rest(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = tmp_path / "cat.csv"
    csv_file.write_text(
        "codigo,ean,descricao,ncm,cfop,unidade,preco,icms_origem,icms_situacao_tributaria\n"
        "9001,7894900011517,CERVEJA LATA 350ML,22030000,5405,UN,4.99,0,500\n"
        "9002,7894900011518,EAN ERRADO,22030000,5102,UN,4.99,0,102\n"
        "9003,,SEM NCM,2203,5102,UN,4.99,0,102\n"
        "9004,,PRECO RUIM,22030000,5102,UN,abc,0,102\n"
        "9005,,CFOP DE ENTRADA,22030000,1102,UN,1.00,0,102\n"
        "9006,,LINHA CURTA\n"
        '9007,,SABONETE,34011190,5102,UN,"2,50",0,102\n',
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "catalog", "import", str(csv_file), "--json")
    data = json.loads(out)
    assert code == 0
    assert data["importados"] == 2
    assert [r["linha"] for r in data["rejeitados"]] == [3, 4, 5, 6, 7]
    code, out, _ = run(capsys, "catalog", "list", "--json")
    codes = {p["codigo"] for p in json.loads(out)}
    assert {"9001", "9007"} <= codes and "9002" not in codes


def test_config_validation_and_masking(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for key, value, msg in [
        ("emitente.cnpj", "11.111.111/0001-11", "CNPJ inválido"),
        ("emitente.uf", "XX", "UF desconhecida"),
        ("contingencia.serie", "900", "entre 1 e 889"),
        ("contingencia.serie", "0", "entre 1 e 889"),
        ("focus.ambiente", "teste", "valor inválido"),
        ("chave.inexistente", "1", "Chave desconhecida"),
    ]:
        code, _, err = run(capsys, "config", "set", key, value)
        assert code == 2 and msg in err, (key, err)
    assert run(capsys, "config", "set", "focus.token", "tok-SEGREDO-123")[0] == 0
    assert run(capsys, "config", "set", "contingencia.serie", "601")[0] == 0
    code, out, _ = run(capsys, "config", "show", "--json")
    data = json.loads(out)
    assert "tok-SEGREDO-123" not in out
    assert data["config"]["focus.token"].startswith("****")
    assert data["config"]["contingencia.serie"] == "601"
    for f in data_dir.rglob("*"):
        if f.is_file():
            assert b"tok-SEGREDO-123" not in f.read_bytes(), f


def test_user_add_and_help_in_portuguese(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "user", "add", "Carla Souza", "--papel", "caixa", "--pin", "2468")
    assert code == 0 and "Carla Souza" in out
    code, _, err = run(capsys, "user", "add", "X", "--papel", "caixa", "--pin", "12")
    assert code == 2 and "PIN" in err
    with pytest.raises(SystemExit):
        main(["sell", "--help"])
    assert "uso:" in capsys.readouterr().out


def test_status_json(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "status", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["online"] is True
    assert data["contingencia_pendentes"] == 0 and data["contingencia_com_erro"] == 0
    assert data["mais_antiga_minutos"] is None
