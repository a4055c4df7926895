"""`pos-app cte ...` and `pos-app cte-os emitir`, in process, on one demo data folder for the module."""

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
from pos_app.sandbox.backoffice_samples import sample_cte, sample_cte_os


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from module_data_dir(tmp_path_factory, "cte-cli")


run = run_json


def write(path: Path, payload: Any) -> str:
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return str(path)


def cte_file(tmp_path: Path, name: str = "cte.json", **extra: Any) -> str:
    payload = sample_cte(datetime.now(UTC), **extra)
    for key in ("numero", "serie", "data_emissao"):  # the terminal numbers and dates it
        if key not in extra:
            payload.pop(key)
    return write(tmp_path / name, payload)


def counts(data_dir: Path) -> tuple[int, int]:
    """(local CT-e rows, CT-e the sandbox received)."""
    with (
        sqlite3.connect(data_dir / "pos.sqlite3") as local,
        sqlite3.connect(data_dir / "sandbox.sqlite3") as remote,
    ):
        n_local = local.execute("SELECT count(*) FROM ctes_emitidos").fetchone()[0]
        n_remote = remote.execute("SELECT count(*) FROM backoffice_docs WHERE kind = 'cte'").fetchone()[0]
    return int(n_local), int(n_remote)


def test_emit_consult_cce_event_cancel(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data, _ = run(capsys, "cte", "emitir", "--arquivo", cte_file(tmp_path), "--json")
    assert code == 0, data
    assert data["status"] == "autorizado" and data["modelo"] == 57 and len(data["chave"]) == 44
    assert Path(data["xml_local"]).read_bytes().startswith(b"<?xml")
    ref = data["ref"]
    code, second, _ = run(capsys, "cte", "emitir", "--arquivo", cte_file(tmp_path), "--json")
    assert code == 0 and second["numero"] == data["numero"] + 1 and second["serie"] == 1

    code, consult, _ = run(capsys, "cte", "consultar", ref, "--completa", "--json")
    assert code == 0 and consult["status"] == "autorizado" and "protocolo" in consult["completa"]

    code, cce, _ = run(
        capsys, "cte", "cce", ref, "--campo", "observacoes", "--valor", "Entregar pela manhã", "--json"
    )
    assert code == 0 and cce["numero_carta_correcao"] == 1
    code, cce, _ = run(capsys, "cte", "cce", ref, "--campo", "xObs", "--valor", "Nova", "--tag-xml", "--json")
    assert code == 0 and cce["numero_carta_correcao"] == 2
    code, err, _ = run(capsys, "cte", "cce", ref, "--campo", "valor_total", "--valor", "1.00", "--json")
    assert code == 2 and err["campo"] == "campo" and "não pode alterar" in err["erro"]

    code, ev, _ = run(
        capsys, "cte", "desacordo", ref, "--observacoes", "Serviço prestado fora do combinado", "--json"
    )
    assert code == 0 and ev["protocolo_evento"]
    code, err, _ = run(
        capsys,
        "cte",
        "gtv",
        ref,
        "--arquivo",
        write(tmp_path / "g.json", {"informacoes_gtv": [{"numero": "1"}]}),
        "--json",
    )
    assert code == 2 and "CT-e OS" in err["erro"]

    code, text, err_text = run(
        capsys, "cte", "cancelar", ref, "--justificativa", "Erro no destinatário do frete"
    )
    assert code == 0 and "cancelado" in text
    code, err, _ = run(
        capsys, "cte", "cancelar", ref, "--justificativa", "Erro no destinatário do frete", "--json"
    )
    assert code == 2 and "autorizado" in err["erro"]

    code, listing, _ = run(capsys, "cte", "listar", "--json")
    statuses = {c["ref"]: c["status"] for c in listing["ctes"]}
    assert statuses[ref] == "cancelado" and statuses[second["ref"]] == "autorizado"


def test_cte_os_and_gtv(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payload = sample_cte_os(datetime.now(UTC), tipo_servico=7)
    del payload["numero"]
    code, data, _ = run(
        capsys, "cte-os", "emitir", "--arquivo", write(tmp_path / "os.json", payload), "--json"
    )
    assert (
        code == 0 and data["modelo"] == 67 and data["status"] == "autorizado" and data["chave"][20:22] == "67"
    )
    gtv = {"informacoes_gtv": [{"numero": "10", "id": "GTV10", "data_emissao": "2024-05-01"}]}
    code, ev, _ = run(
        capsys, "cte", "gtv", data["ref"], "--arquivo", write(tmp_path / "gtv.json", gtv), "--json"
    )
    assert code == 0 and ev["mensagem"].startswith("Evento 'Informações da GTV' registrado")


def test_sefaz_rejection_then_resend_with_the_same_ref(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data, _ = run(capsys, "cte", "emitir", "--arquivo", cte_file(tmp_path, cfop="5102"), "--json")
    assert code == 1 and data["status"] == "erro_autorizacao" and data["status_sefaz"] == "536"
    code, again, _ = run(
        capsys, "cte", "emitir", "--arquivo", cte_file(tmp_path), "--ref", data["ref"], "--json"
    )
    assert code == 0 and again["status"] == "autorizado" and again["numero"] == data["numero"]


def test_emit_without_waiting_then_consult(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data, _ = run(capsys, "cte", "emitir", "--arquivo", cte_file(tmp_path), "--sem-aguardar", "--json")
    assert code == 1 and data["status"] == "processando_autorizacao"
    statuses = []
    for _ in range(2):
        code, consult, _ = run(capsys, "cte", "consultar", data["ref"], "--json")
        statuses.append(consult["status"])
    assert statuses == ["processando_autorizacao", "autorizado"]


def test_inutilizar(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(capsys, "cte", "inutilizar", "--serie", "2", "--inicio", "10", "--fim", "12",
                        "--justificativa", "Numeração pulada por falha", "--modelo", "67", "--json")  # fmt: skip
    assert code == 0 and data["status"] == "autorizado" and data["modelo"] == 67
    code, err, _ = run(capsys, "cte", "inutilizar", "--serie", "2", "--inicio", "12", "--fim", "10",
                       "--justificativa", "Numeração pulada por falha", "--json")  # fmt: skip
    assert code == 2 and err["campo"] == "inicio"


@pytest.mark.parametrize(
    ("change", "expected", "field"),
    [
        ({"cfop": None}, "cfop", "cfop"),
        ({"modal_rodoviario": None}, "exatamente um modal", "modal"),
        ({"modelo": "67"}, "cte-os emitir", "modelo"),
        ({"cnpj_emitente": "11222333000181"}, "difere do CNPJ configurado", "cnpj_emitente"),
        ({"valor_receber": "999.00"}, "não pode ser maior", "valor_receber"),
        ({"cnpj_remetente": "11111111111111"}, "CNPJ do remetente inválido", "cnpj_remetente"),
        ({"uf_fim": "ZZ"}, "UF inválida", "uf_fim"),
        ({"quantidades": []}, "quantidades", "quantidades"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_sent(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, Any],
    expected: str,
    field: str,
) -> None:
    run(capsys, "cte", "listar")  # the data folder exists
    before = counts(data_dir)
    payload = json.loads(Path(cte_file(tmp_path)).read_text(encoding="utf-8"))
    for key, value in change.items():
        if value is None:
            payload.pop(key)
        else:
            payload[key] = value
    code, err, stderr = run(
        capsys, "cte", "emitir", "--arquivo", write(tmp_path / "bad.json", payload), "--json"
    )
    assert code == 2 and expected in err["erro"] and err["campo"] == field
    assert "Erro:" in stderr
    assert counts(data_dir) == before


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["cte", "emitir", "--arquivo", "/nao/existe.json"], "Arquivo não encontrado"),
        (["cte", "cancelar", "REF-X", "--justificativa", "curta"], "entre 15 e 255"),
        (["cte", "consultar", "ref com espaço"], "Referência inválida"),
        (["cte", "consultar", "REF-DESCONHECIDA"], "não encontrado neste terminal"),
        (
            ["cte", "inutilizar", "--serie", "1", "--inicio", "1", "--fim", "2", "--justificativa", "curta"],
            "entre 15",
        ),
        (["cte-os", "emitir", "--arquivo", "/nao/existe.json"], "Arquivo não encontrado"),
    ],
)
def test_more_bad_input(
    data_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, err, _ = run(capsys, *argv, "--json")
    assert code == 2 and expected in err["erro"]


def test_invalid_json_file_and_argparse_errors(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "quebrado.json"
    bad.write_text("{ nao e json", encoding="utf-8")
    code, err, _ = run(capsys, "cte", "emitir", "--arquivo", str(bad), "--json")
    assert code == 2 and "JSON inválido" in err["erro"]
    with pytest.raises(SystemExit) as exc:
        main(
            ["cte", "inutilizar", "--serie", "-1", "--inicio", "1", "--fim", "2", "--justificativa", "x" * 20]
        )
    assert exc.value.code == 2
    assert "maior ou igual a zero" in capsys.readouterr().err


def test_help_is_in_portuguese(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["cte", "--help"],
        ["cte", "emitir", "--help"],
        ["cte-os", "emitir", "--help"],
        ["cte", "cce", "--help"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("uso: pos-app") and "mostra esta ajuda e sai" in out and "opções:" in out
        assert "--json" in out or argv == ["cte", "--help"]
    with pytest.raises(SystemExit):
        main(["cte", "emitir", "--help"])
    assert "arquivo JSON" in capsys.readouterr().out
