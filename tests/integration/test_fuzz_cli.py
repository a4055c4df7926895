"""Fuzzing the command line in process: `pos-app sell`, `config set`, `catalog import`.

Whatever the arguments, ``main`` returns an exit code (argparse may exit with 2) with a sentence
for the operator, and refused input writes nothing: row counts are compared before and after.
"""

from __future__ import annotations

import contextlib
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from suite_report import report_lines

from pos_app.cli import main
from pos_app.core.config import KEYS

TABLES = (
    "sales",
    "sale_items",
    "payments",
    "fiscal_documents",
    "document_events",
    "products",
    "settings",
    "users",
)
COUNTS: dict[str, dict[int, int]] = {}


def cli_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.fixture(scope="module", autouse=True)
def _print_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    lines = ["fuzzing da linha de comando (exemplos por código de saída):"]
    for name, codes in sorted(COUNTS.items()):
        lines.append(
            f"  {name:16} {sum(codes.values()):3} exemplos: "
            + ", ".join(f"saída {c}: {n}" for c, n in sorted(codes.items()))
        )
    report_lines(request, lines)


@pytest.fixture(scope="module", autouse=True)
def _no_global_secrets() -> Iterator[None]:
    # random values set as "secrets" must not join the process-wide masking list of other tests
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("pos_app.core.config.register_secret", lambda value: None)
        yield


@pytest.fixture
def terminal(data_dir: Path) -> Path:
    assert main(["config", "show"]) == 0  # seeds the demo terminal once
    return data_dir


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse refusing the arguments
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def _counts(data_dir: Path) -> dict[str, Any]:
    conn = sqlite3.connect(data_dir / "pos.sqlite3")
    try:
        counts: dict[str, Any] = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        counts["settings_rows"] = sorted(conn.execute("SELECT key, value FROM settings").fetchall())
        counts["series"] = sorted(conn.execute("SELECT * FROM series_counters").fetchall())
        return counts
    finally:
        conn.close()


def _tally(name: str, code: int) -> None:
    COUNTS.setdefault(name, {})
    COUNTS[name][code] = COUNTS[name].get(code, 0) + 1


TOKEN = st.text(st.characters(codec="utf-8"), max_size=12)  # anything a shell can pass
ITEM = st.one_of(
    st.sampled_from(
        [
            "1001",
            "7891102100377",
            "1001*2",
            "1029*0,750",
            "1001*0",
            "1001*-1",
            "1001*1e9",
            "1001*abc",
            "1001*0.00001",
            "9999999",
            "",
            "*",
            "1001**2",
        ]
    ),
    TOKEN,
)
AMOUNT = st.one_of(
    st.sampled_from(
        ["100", "27,90", "0", "-5", "abc", "1e999", "NaN", "99999999999999", "0,001", "1.234,56"]
    ),
    TOKEN,
)
FORMA = st.one_of(
    st.sampled_from(["dinheiro", "pix", "credito", "debito", "01", "03", "17", "boleto", "xyz", ""]), TOKEN
)
PAY = st.builds(
    lambda f, a, b: f"{f}:{a}" + (f":{b}" if b is not None else ""),
    FORMA,
    AMOUNT,
    st.one_of(st.none(), st.sampled_from(["visa", "elo", "zzz"])),
)
DOC = st.one_of(
    st.sampled_from(
        [
            "52998224725",
            "529.982.247-25",
            "12345678900",
            "11111111111",
            "98.765.432/0001-98",
            "11222333000181",
            "abc",
        ]
    ),
    TOKEN,
)


GOOD_ITEM = st.sampled_from(["1001", "7891102100377", "1001*2", "1029*0,750", "1002*3"])
GOOD_PAY = st.sampled_from(["dinheiro:300", "pix:300", "credito:300:visa", "debito:300:elo", "01:150,00"])


@st.composite
def sell_argv(draw: st.DrawFn) -> list[str]:
    argv = ["sell"]
    plausible = draw(st.booleans())  # half of the examples are sales a cashier could really make
    for item in draw(st.lists(GOOD_ITEM if plausible else ITEM, min_size=int(plausible), max_size=3)):
        argv += ["--item", item]
    for pay in draw(st.lists(GOOD_PAY if plausible else PAY, min_size=int(plausible), max_size=2)):
        argv += ["--pay", pay]
    if plausible:
        if draw(st.booleans()):
            argv += ["--cpf", draw(st.sampled_from(["52998224725", "529.982.247-25"]))]
    else:
        for flag, value in (("--cpf", DOC), ("--cnpj", DOC), ("--desconto", AMOUNT), ("--operador", TOKEN)):
            if draw(st.booleans()) and draw(st.booleans()):
                argv += [flag, draw(value)]
        if draw(st.integers(0, 9)) == 0:
            argv.append(draw(TOKEN))  # a stray argument
    if draw(st.booleans()):
        argv.append("--json")
    return argv


@cli_settings(40)
@given(argv=sell_argv())
def test_sell_with_any_arguments_never_crashes_and_refusals_write_nothing(
    terminal: Path, argv: list[str]
) -> None:
    before = _counts(terminal)
    code, out, err = _run(argv)
    after = _counts(terminal)
    _tally("sell", code)
    assert "Traceback" not in out + err and "Erro inesperado" not in out + err, (argv, err)
    if code == 2:
        assert after == before, argv  # refused before anything was written
        assert "erro" in err.lower()
    else:
        assert code in (0, 1), (argv, code, err)
        assert after["sales"] == before["sales"] + 1  # one sale, whole: items, payments and its note
        assert (
            after["payments"] > before["payments"] and after["fiscal_documents"] > before["fiscal_documents"]
        )


VALID_VALUES = [
    "11222333000181",
    "SP",
    "80000-000",
    "10",
    "50,00",
    "CX01",
    "https://exemplo.com.br",
    "ISENTO",
    "601",
    "Loja Teste",
    "4106902",
    "simples",
    "pdf",
    "42",
    "58",
    "cp860",
    "5",
    "token-de-teste-123",
]


@cli_settings(60)
@given(
    key=st.one_of(st.sampled_from(sorted(k for k in KEYS if k != "focus.ambiente")), TOKEN),
    value=st.one_of(st.sampled_from(VALID_VALUES), TOKEN, AMOUNT, DOC, st.sampled_from(["", " ", "sandbox"])),
)
def test_config_set_with_any_value_is_applied_or_refused_whole(terminal: Path, key: str, value: str) -> None:
    before = _counts(terminal)
    code, out, err = _run(["config", "set", key, value])
    after = _counts(terminal)
    _tally("config set", code)
    assert "Traceback" not in out + err and "Erro inesperado" not in out + err, (key, value, err)
    if code == 0:
        changed = {k for k, _ in set(after["settings_rows"]) ^ set(before["settings_rows"])}
        assert changed <= {key}
        if key in KEYS and KEYS[key].secret:
            assert value.strip() not in out or len(value.strip()) < 4  # never echoed back
    else:
        assert code == 2, (key, value, code, err)
        assert after == before, (key, value)


CSV_HEADER = (
    "codigo,ean,descricao,ncm,cfop,unidade,preco,icms_origem,icms_situacao_tributaria,tributos_percentual"
)
CSV_ROW = st.one_of(
    st.sampled_from(
        [
            "5001,,PRODUTO NOVO,10063021,5102,UN,3.50,0,102,0",
            "5002,7891102100377,CONFLITO DE EAN,10063021,5102,UN,3.50,0,102,0",
            "5003,,PRECO RUIM,10063021,5102,UN,NaN,0,102,0",
            "5004,,CFOP RUIM,10063021,6102,UN,1,0,102,0",
            "1001,7891102100377,ARROZ ATUALIZADO,10063021,5102,PCT,28.90,0,102,13.45",
            '"5005",,"COM ""ASPAS""",10063021,5102,UN,1,0,102,0',
            "5006,,COLUNAS A MAIS,10063021,5102,UN,1,0,102,0,extra,extra",
            "5007,,POUCAS COLUNAS",
        ]
    ),
    st.lists(TOKEN, max_size=11).map(",".join),
)


@cli_settings(30)
@given(
    rows=st.lists(CSV_ROW, max_size=6),
    header=st.sampled_from([CSV_HEADER, CSV_HEADER.replace(",", ";"), "codigo,preco", ""]),
    raw=st.one_of(st.none(), st.binary(max_size=200)),
)
def test_catalog_import_of_any_file_imports_valid_rows_or_nothing(
    terminal: Path, rows: list[str], header: str, raw: bytes | None
) -> None:
    path = terminal / "importar.csv"
    sep = ";" if ";" in header else ","
    path.write_bytes(
        raw
        if raw is not None
        else ("\n".join([header, *(r.replace(",", sep) for r in rows)]) + "\n").encode(
            "utf-8", "surrogatepass"
        )
    )
    before = _counts(terminal)
    code, out, err = _run(["catalog", "import", str(path), "--json"])
    after = _counts(terminal)
    _tally("catalog import", code)
    assert "Traceback" not in out + err and "Erro inesperado" not in out + err, (rows, err)
    assert code in (0, 2), (code, err)
    if code == 2:
        assert after == before
    else:
        assert after["sales"] == before["sales"] and after["settings_rows"] == before["settings_rows"]
