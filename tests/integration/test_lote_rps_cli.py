"""`pos-app lote-rps ...` in process, on one demo data folder for the module."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import module_data_dir, run_json

from pos_app.cli import main
from pos_app.sandbox import DEMO_TOKEN, SandboxServer
from pos_app.sandbox.backoffice_samples import sample_lote_rps


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from module_data_dir(tmp_path_factory, "lote-rps-cli")


run = run_json


def lote_file(tmp_path: Path, name: str = "lote.json", **kw: Any) -> Path:
    payload = sample_lote_rps(datetime.now(UTC), **kw)
    path = tmp_path / name
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


def test_generate_consult_and_import_the_city_answer(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saida = tmp_path / "para-prefeitura.txt"
    code, data, _ = run(capsys, "lote-rps", "gerar", "--arquivo", str(lote_file(tmp_path, notas=3)),
                        "--saida", str(saida), "--json")  # fmt: skip
    assert (
        code == 0
        and data["status"] == "gerado"
        and data["quantidade"] == 3
        and data["valor_total"] == "450.00"
    )
    content = saida.read_bytes()
    assert (
        data["arquivo"] == str(saida) and content.startswith(b"1|002|") and content.count(b"\r\n2|RPS|") == 3
    )
    ref = data["ref"]
    code, again, _ = run(capsys, "lote-rps", "consultar", ref, "--json")
    assert code == 0 and Path(again["arquivo"]).read_bytes() == content

    code, answer, _ = run(capsys, "lote-rps", "resposta", ref, "--simular-prefeitura", "--json")
    assert code == 0 and answer["status"] == "processado" and len(answer["resultado"]) == 3
    assert all(
        r["status"] == "autorizado" and r["numero"] and r["codigo_verificacao"] for r in answer["resultado"]
    )
    code, text, _ = run(capsys, "lote-rps", "listar")
    assert ref in text and "NFS-e geradas" in text
    with sqlite3.connect(data_dir / "pos.sqlite3") as db:
        lote_id = db.execute("SELECT id FROM lotes_rps WHERE ref = ?", [ref]).fetchone()[0]
        history = [r[0] for r in db.execute("SELECT to_status FROM lote_rps_events WHERE lote_id = ? ORDER BY id",
                                            [lote_id])]  # fmt: skip
    assert history == ["pendente", "enviando", "gerado", "processado"]


def test_city_answer_with_errors(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(capsys, "lote-rps", "gerar", "--arquivo", str(lote_file(tmp_path)), "--ref", "lote_erros",
                        "--json")  # fmt: skip
    assert code == 0 and data["ref"] == "lote_erros"
    sandbox = SandboxServer(state_path=str(data_dir / "sandbox.sqlite3"))
    batch = sandbox.backoffice.lotes_rps.batch(DEMO_TOKEN, "lote_erros")
    assert batch is not None
    bad = batch["rps"][0]["numero"]
    answer = sandbox.backoffice.lotes_rps.city_answer(
        DEMO_TOKEN, "lote_erros", errors={bad: "Item de serviço não permitido"}
    )
    sandbox.store.close()
    retorno = tmp_path / "retorno.txt"
    retorno.write_bytes(answer)
    code, result, _ = run(capsys, "lote-rps", "resposta", "lote_erros", "--arquivo", str(retorno), "--json")
    assert code == 1 and result["status"] == "com_erros"
    assert {r["status"] for r in result["resultado"]} == {"erro_autorizacao"}
    code, text, _ = run(capsys, "lote-rps", "resposta", "lote_erros", "--arquivo", str(retorno))
    assert "Item de serviço não permitido" in text
    garbage = tmp_path / "lixo.txt"
    garbage.write_text("isto não é um retorno", encoding="utf-8")
    code, err, _ = run(capsys, "lote-rps", "resposta", "lote_erros", "--arquivo", str(garbage), "--json")
    assert code == 1 and "formato_invalido" in err["erro"]


@pytest.mark.parametrize(
    ("mutate", "expected", "field"),
    [
        (lambda p: p["prestador"].pop("inscricao_municipal"), "inscrição municipal", "prestador.inscricao_municipal"),
        (lambda p: p.update(lista_nfse=[]), "não tem notas", "lista_nfse"),
        (lambda p: p["lista_nfse"][0]["servico"].update(valor_servicos="-5"), "maior que zero",
         "lista_nfse[0].servico.valor_servicos"),
        (lambda p: p["lista_nfse"][1]["servico"].update(aliquota="12"), "entre 0 e 5", "lista_nfse[1].servico.aliquota"),
        (lambda p: p["prestador"].update(cnpj="11222333000181"), "difere do CNPJ configurado", "prestador.cnpj"),
    ],
)  # fmt: skip
def test_bad_batch_is_refused_and_nothing_is_sent(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Any, expected: str, field: str
) -> None:
    run(capsys, "lote-rps", "listar")
    with sqlite3.connect(data_dir / "sandbox.sqlite3") as remote:
        before = remote.execute("SELECT count(*) FROM backoffice_docs WHERE kind = 'lote_rps'").fetchone()[0]
    payload = sample_lote_rps(datetime.now(UTC))
    mutate(payload)
    path = tmp_path / "ruim.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    code, err, _ = run(capsys, "lote-rps", "gerar", "--arquivo", str(path), "--json")
    assert code == 2 and expected in err["erro"] and err["campo"] == field
    with sqlite3.connect(data_dir / "sandbox.sqlite3") as remote:
        after = remote.execute("SELECT count(*) FROM backoffice_docs WHERE kind = 'lote_rps'").fetchone()[0]
    assert after == before


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["gerar", "--arquivo", "/nao/existe.json"], "Arquivo não encontrado"),
        (["resposta", "lote-x", "--arquivo", "/nao/existe.txt"], "não encontrado"),
        (["resposta", "lote-desconhecido", "--simular-prefeitura"], "não encontrado"),
        (["consultar", "ref inválida"], "Referência inválida"),
    ],
)
def test_more_bad_input(
    data_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, err, _ = run(capsys, "lote-rps", *argv, "--json")
    assert code == 2 and expected in err["erro"]


def test_help_is_in_portuguese(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["lote-rps", "--help"], ["lote-rps", "gerar", "--help"], ["lote-rps", "resposta", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("uso: pos-app lote-rps") and "mostra esta ajuda e sai" in out
    with pytest.raises(SystemExit) as exc:
        main(["lote-rps", "resposta", "REF"])  # --arquivo or --simular-prefeitura
    assert exc.value.code == 2
    assert "erro:" in capsys.readouterr().err
