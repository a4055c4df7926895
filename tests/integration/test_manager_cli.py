"""Manager subcommands (issue 6), in process, each call with the data folder's demo sandbox."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pos_app.cli import main
from pos_app.core.focus.nfce import NfceApi

JUST = "Cliente desistiu da compra ainda no caixa"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def sell(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run(capsys, "sell", *argv, "--json")
    assert code == 0, err
    return dict(json.loads(out))


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every cancel and inutilização request that leaves the terminal."""
    calls: list[str] = []
    cancel, inut = NfceApi.cancel, NfceApi.inutilizar

    def spy_cancel(self: NfceApi, ref: str, *a: Any, **kw: Any) -> Any:
        calls.append(f"cancel {ref}")
        return cancel(self, ref, *a, **kw)

    def spy_inut(self: NfceApi, *a: Any, **kw: Any) -> Any:
        calls.append("inutilizar")
        return inut(self, *a, **kw)

    monkeypatch.setattr(NfceApi, "cancel", spy_cancel)
    monkeypatch.setattr(NfceApi, "inutilizar", spy_inut)
    return calls


def test_cancel_cli(
    data_dir: Path, capsys: pytest.CaptureFixture[str], sent: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    a = sell(capsys, "--item", "1021", "--pay", "dinheiro:10")
    b = sell(capsys, "--item", "1022", "--pay", "pix:5,79")
    code, out, err = run(capsys, "cancel", a["ref"], "--justificativa", "curta", "--pin", "9999", "--json")
    assert (
        code == 2
        and "Justificativa curta" in json.loads(out)["erro"]
        and json.loads(out)["campo"] == "justificativa"
    )
    code, out, err = run(capsys, "cancel", a["ref"], "--justificativa", JUST, "--pin", "4321")
    assert code == 2 and "PIN incorreto" in err
    code, out, err = run(
        capsys, "cancel", a["ref"], "--justificativa", JUST, "--pin", "1111", "--gerente", "1"
    )
    assert code == 2 and "exige o PIN de um gerente" in err
    assert sent == []
    code, out, _ = run(capsys, "cancel", a["ref"], "--justificativa", JUST, "--pin", "9999", "--json")
    data = json.loads(out)
    assert code == 0 and data["cancelada"] is True and data["status_sefaz"] == "135"
    assert sent == [f"cancel {a['ref']}"]
    # 31 minutes later (the terminal's clock): explained, refused, nothing sent.
    from pos_app.core.services.context import AppContext

    real_now = AppContext.now
    monkeypatch.setattr(AppContext, "now", lambda self: real_now(self) + timedelta(minutes=31))
    code, out, err = run(capsys, "cancel", b["ref"], "--justificativa", JUST, "--pin", "9999")
    assert code == 2 and "30 minutos" in out and "Nenhum pedido foi enviado" in err
    assert sent == [f"cancel {a['ref']}"]
    monkeypatch.setattr(AppContext, "now", real_now)
    code, out, _ = run(capsys, "historico", "--status", "cancelado", "--de", "2020-01-01", "--json")
    assert [r["ref"] for r in json.loads(out)] == [a["ref"]]
    code, out, _ = run(capsys, "historico", "detalhe", a["ref"])
    assert code == 0 and "autorizado -> cancelado" in out and "135" in out
    # what a manager reads: the store's local time (dd/mm/aaaa), amounts with a decimal comma
    assert re.search(r"^Venda \d+ em \d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} ", out, re.M), out
    assert re.search(r"^  \d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}  autorizado -> cancelado", out, re.M), out
    assert re.search(r" x +\d+,\d{2} = +\d+,\d{2}$", out, re.M), out


def test_inutilizar_cli(data_dir: Path, capsys: pytest.CaptureFixture[str], sent: list[str]) -> None:
    first = sell(capsys, "--item", "1021", "--pay", "dinheiro:10")
    base = ["inutilizar", "--justificativa", "Numeracao pulada por falha no sistema", "--pin", "9999"]
    code, out, err = run(capsys, *base, "--serie", "600", "--inicio", "1", "--fim", "2")
    assert code == 2 and "contingência" in err
    code, out, err = run(capsys, *base, "--serie", "1", "--inicio", str(first["numero"]), "--fim", "9")
    assert code == 2 and "já usados" in err
    code, out, err = run(capsys, *base[:-1], "0000", "--serie", "1", "--inicio", "20", "--fim", "21")
    assert code == 2 and "PIN" in err
    assert sent == []
    code, out, _ = run(capsys, *base, "--serie", "1", "--inicio", "20", "--fim", "21", "--json")
    data = json.loads(out)
    assert code == 0 and data["homologada"] and data["status_sefaz"] == "102"
    assert sent == ["inutilizar"]


def test_email_cli(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = sell(capsys, "--item", "1021", "--pay", "dinheiro:10")
    code, out, err = run(capsys, "email", a["ref"], "nao-e-email")
    assert code == 2 and "E-mail inválido" in err
    code, out, _ = run(capsys, "email", a["ref"], "a@example.com", "b@example.com", "--json")
    assert code == 0 and json.loads(out)["emails"] == ["a@example.com", "b@example.com"]


def test_cash_and_users_cli(data_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "caixa", "abrir", "--valor", "50,00", "--pin", "1111", "--operador", "1")
    assert code == 0 and "Caixa 1 aberto por Ana" in out
    sale = sell(capsys, "--item", "1021", "--pay", "dinheiro:10")  # uses the open session
    code, out, err = run(capsys, "caixa", "sangria", "--valor", "20", "--motivo", "cofre", "--pin", "1111")
    assert code == 2 and "PIN" in err  # a cashier's PIN is not a manager's
    code, out, _ = run(capsys, "caixa", "sangria", "--valor", "20", "--motivo", "cofre", "--pin", "9999")
    assert code == 0
    code, out, _ = run(capsys, "caixa", "suprimento", "--valor", "5", "--motivo", "moedas", "--pin", "9999")
    assert code == 0
    code, out, _ = run(capsys, "caixa", "relatorio", "--json")
    x = json.loads(out)
    cash = next(f for f in x["formas"] if f["forma"] == "01")
    assert x["vendas"] == 1 and cash["esperado"] == "43.99"  # 50 + 10 - 1,01 troco - 20 + 5
    code, out, err = run(capsys, "caixa", "fechar", "--contado", "pix:0", "--pin", "9999")
    assert code == 2 and "dinheiro" in err
    pdf = tmp_path / "fechamento.pdf"
    code, out, _ = run(
        capsys, "caixa", "fechar", "--contado", "dinheiro:43,00", "--pin", "9999", "--pdf", str(pdf)
    )
    assert code == 0 and "FECHAMENTO DE CAIXA" in out and "-R$ 0,99" in out and pdf.is_file()
    # the next headless sale opens a new session with zero float, recorded as automatic
    sale2 = sell(capsys, "--item", "1021", "--pay", "dinheiro:10")
    code, out, _ = run(capsys, "caixa", "relatorio", "--json")
    assert json.loads(out)["caixa"] == 2 and json.loads(out)["abertura_automatica"] is True
    code, out, _ = run(capsys, "historico", "detalhe", sale["ref"], "--json")
    assert json.loads(out)["venda"]["caixa"] == 1
    code, out, _ = run(capsys, "historico", "detalhe", sale2["ref"], "--json")
    assert json.loads(out)["venda"]["caixa"] == 2

    code, out, _ = run(
        capsys,
        "usuarios",
        "adicionar",
        "Bia Souza",
        "--papel",
        "caixa",
        "--novo-pin",
        "2468",
        "--pin",
        "9999",
    )
    assert code == 0 and "código 2" in out
    code, out, err = run(capsys, "usuarios", "pin", "2", "--novo-pin", "12", "--pin", "9999")
    assert code == 2 and "4 a 8 dígitos" in err
    code, out, _ = run(capsys, "usuarios", "desativar", "2", "--motivo", "desligada", "--pin", "9999")
    assert code == 0 and "desativado" in out
    code, out, _ = run(capsys, "usuarios", "listar", "--json")
    assert {u["codigo"]: u["ativo"] for u in json.loads(out)} == {"1": True, "2": False, "9": True}

    code, out, _ = run(capsys, "auditoria", "--json")
    actions = [e["acao"] for e in json.loads(out)]
    for action in (
        "caixa_abertura",
        "caixa_sangria",
        "caixa_suprimento",
        "caixa_fechamento",
        "caixa_abertura_automatica",
        "usuario_cadastro",
        "usuario_desativacao",
        "pin_gerente",
    ):
        assert action in actions, action


def test_historico_and_relatorio_cli(
    data_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a = sell(capsys, "--item", "1021*2", "--pay", "credito:17,98:visa", "--cpf", "52998224725")
    code, out, _ = run(capsys, "historico", "--cpf", "529.982.247-25", "--de", "2020-01-01", "--json")
    assert [r["ref"] for r in json.loads(out)] == [a["ref"]]
    code, out, err = run(capsys, "historico", "--data", "31/02/2026")
    assert code == 2 and "Data inválida" in err
    code, out, err = run(capsys, "historico", "--status", "perdida")
    assert code == 2 and "Status desconhecido" in err
    code, out, _ = run(
        capsys, "historico", "--de", "2020-01-01", "--ate", "2099-12-31", "--status", "autorizado"
    )
    assert code == 0 and a["ref"] in out
    code, out, _ = run(capsys, "historico", "consultar", a["ref"], "--json")
    assert code == 0 and json.loads(out)["api"] == "autorizado"
    pdf, csv_path = tmp_path / "dia.pdf", tmp_path / "dia.csv"
    code, out, _ = run(capsys, "historico", "detalhe", a["ref"], "--json")
    day = json.loads(out)["venda"]["data"][:10]
    code, out, _ = run(
        capsys, "relatorio", "--data", day, "--pdf", str(pdf), "--csv", str(csv_path), "--json"
    )
    data = json.loads(out)
    assert (
        code == 0
        and data["vendas"] == 1
        and data["total"] == "17.98"
        and pdf.is_file()
        and csv_path.is_file()
    )
    code, out, _ = run(capsys, "auditoria")
    assert "Relatório exportado" in out
