"""Tax groups through the CLI: `tributacao` subcommands with --json, catalog CSV with the
Focus-named tax columns refused line by line with the field named, export that imports back."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from cli_helpers import run_json

from pos_app.core.domain.catalog import CATALOG_CSV_FIELDS

HEADER = (
    "codigo,ean,descricao,ncm,cfop,unidade,preco,icms_origem,icms_situacao_tributaria,tributos_percentual,"
    "grupo_tributario,icms_modalidade_base_calculo,icms_aliquota,icms_reducao_base_calculo,"
    "pis_situacao_tributaria,pis_aliquota_porcentual,cofins_situacao_tributaria,cofins_aliquota_porcentual,"
    "ibs_cbs_situacao_tributaria,ibs_cbs_classificacao_tributaria"
)
ROWS = [
    # 2: defines "Tributado 18%" inline
    "2001,,ARROZ NORMAL 5KG,10063021,5102,UN,27.90,0,00,13.45,Tributado 18%,3,18,,01,1.65,01,7.6,000,000001",
    # 3: references the group defined on line 2
    "2002,,FEIJAO NORMAL 1KG,07133399,5102,UN,8.49,0,00,13.45,Tributado 18%,,,,,,,,,",
    # 4: CST 00 without modality
    "2003,,OLEO 900ML,15079011,5102,UN,7.99,0,00,13.45,Sem modalidade,,18,,01,1.65,01,7.6,000,000001",
    # 5: PIS CST not in the table
    "2004,,SAL 1KG,25010020,5102,UN,2.99,0,00,13.45,PIS ruim,3,18,,77,1.65,01,7.6,000,000001",
    # 6: cClassTrib of another CST
    "2005,,ACUCAR 1KG,17019900,5102,UN,5.79,0,40,13.45,Isento errado,,,,07,,07,,410,000001",
    # 7: unknown group
    "2006,,CAFE 500G,09012100,5102,UN,17.90,0,60,13.45,Nao existe,,,,,,,,,",
    # 8: same group redefined differently
    "2007,,MACARRAO 500G,19021900,5102,UN,4.99,0,00,13.45,Tributado 18%,3,12,,01,1.65,01,7.6,000,000001",
    # 9: tax columns without a group name
    "2008,,BISCOITO,19053100,5102,UN,3.99,0,00,13.45,,3,18,,01,1.65,01,7.6,000,000001",
    # 10: CST 20 without reduction
    "2009,,LEITE 1L,04012010,5102,UN,4.49,0,20,13.45,Reduzido,3,18,,01,1.65,01,7.6,000,000001",
    # 11: old-style row without any group keeps working
    "2010,,AGUA 500ML,22011000,5102,UN,1.99,0,102,13.45,,,,,,,,,,",
]


@pytest.fixture(autouse=True)
def _data(data_dir: Path) -> Path:
    return data_dir


def test_catalog_csv_with_tax_columns_refused_line_by_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "catalogo.csv"
    path.write_text(HEADER + "\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    code, data, _ = run_json(capsys, "catalog", "import", str(path), "--json")
    assert code == 0, data
    assert data["importados"] == 3
    reasons = {r["linha"]: r["motivo"] for r in data["rejeitados"]}
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10]
    assert reasons[4].startswith("campo icms_modalidade_base_calculo:")
    assert reasons[5].startswith("campo pis_situacao_tributaria:")
    assert reasons[6].startswith("campo ibs_cbs_classificacao_tributaria:")
    assert reasons[7] == "campo grupo_tributario: grupo tributário 'Nao existe' não existe"
    assert "definido de outra forma na linha 2" in reasons[8]
    assert reasons[9].startswith("campo grupo_tributario:")
    assert reasons[10].startswith("campo icms_reducao_base_calculo:")

    code, groups, _ = run_json(capsys, "tributacao", "listar", "--json")
    assert code == 0
    tributado = next(g for g in groups if g["grupo_tributario"] == "Tributado 18%")
    assert (
        tributado["icms_aliquota"] == "18" and tributado["produtos"] == 2 and tributado["regime"] == "normal"
    )

    # Export: the classic header first, then the group columns; importing it back changes nothing.
    out = tmp_path / "export.csv"
    code, exported, _ = run_json(capsys, "catalog", "export", str(out), "--json")
    assert code == 0 and exported["exportados"] >= 3
    with out.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ())[: len(CATALOG_CSV_FIELDS)] == CATALOG_CSV_FIELDS
        rows = {r["codigo"]: r for r in reader}
    assert rows["2002"]["grupo_tributario"] == "Tributado 18%" and rows["2002"]["icms_aliquota"] == "18"
    assert rows["2002"]["pis_aliquota_porcentual"] == "1.65"
    assert rows["2010"]["grupo_tributario"] == ""
    code, again, _ = run_json(capsys, "catalog", "import", str(out), "--json")
    assert code == 0 and again["rejeitados"] == [], again


def test_tributacao_subcommands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, saved, _ = run_json(
        capsys,
        "tributacao",
        "salvar",
        "ST loja",
        "--icms-situacao-tributaria",
        "60",
        "--pis-situacao-tributaria",
        "04",
        "--cofins-situacao-tributaria",
        "04",
        "--json",
    )
    assert code == 0 and saved["icms_situacao_tributaria"] == "60"
    code, _, err = run_json(
        capsys,
        "tributacao",
        "salvar",
        "Ruim",
        "--icms-situacao-tributaria",
        "00",
        "--icms-aliquota",
        "18",
        "--pis-situacao-tributaria",
        "01",
    )
    assert code != 0 and "icms_modalidade_base_calculo" in err
    code, shown, _ = run_json(capsys, "tributacao", "mostrar", "st LOJA", "--json")  # names ignore case
    assert code == 0 and shown["grupo_tributario"] == "ST loja" and shown["produtos"] == 0
    code, demo, _ = run_json(capsys, "tributacao", "mostrar", "Simples - ST", "--json")  # demo catalog groups
    assert code == 0 and demo["icms_situacao_tributaria"] == "500" and demo["produtos"] == 11
    # Groups file: refused lines named, valid ones stored.
    groups = tmp_path / "grupos.csv"
    groups.write_text(
        "grupo_tributario;icms_situacao_tributaria;icms_modalidade_base_calculo;icms_aliquota;pis_situacao_tributaria;"
        "pis_aliquota_porcentual;cofins_situacao_tributaria;cofins_aliquota_porcentual;ibs_cbs_situacao_tributaria;"
        "ibs_cbs_classificacao_tributaria\n"
        "Tributado 12%;00;3;12,00;01;1,65;01;7,6;000;000001\n"
        "Errado;00;3;112;01;1,65;01;7,6;000;000001\n"
        "Simples;102;;;;;;;000;000001\n",
        encoding="utf-8",
    )
    code, imported, _ = run_json(capsys, "tributacao", "importar", str(groups), "--json")
    assert code == 0 and imported["importados"] == 2
    assert imported["rejeitados"] == [
        {"linha": 3, "motivo": "campo icms_aliquota: Alíquota do ICMS deve estar entre 0 e 100: 112"}
    ]
    code, tables, _ = run_json(capsys, "tributacao", "tabelas", "--json")
    assert code == 0 and "000001" in tables["cclasstrib"] and "102" in tables["csosn"]
    code, _, _ = run_json(capsys, "tributacao", "remover", "Tributado 12%", "--json")
    assert code == 0
    code, listed, _ = run_json(capsys, "tributacao", "listar", "--json")
    names = [g["grupo_tributario"] for g in listed]
    assert "Simples" in names and "ST loja" in names and "Tributado 12%" not in names
    assert names == sorted(names, key=str.lower)
