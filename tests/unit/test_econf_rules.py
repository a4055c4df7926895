"""The ECONF state rule is dated data (resources/fiscal/econf_obrigatoriedade.csv), and the client's
answer checks refuse answers that do not match what was sent."""

from __future__ import annotations

from datetime import date

from pos_app.core.fiscal.econf_rules import econf_formas, econf_rule, econf_rules
from pos_app.core.focus.econf import CANCELAMENTO, CONSULTA, ENVIO, EconfResult, econf_problems

CHAVE = "43261287456321000183650010000000011931187094"


def test_rule_table_covers_rs_mt_go_with_card_and_pix_and_is_marked_estimated() -> None:
    ufs = {r.uf for r in econf_rules()}
    assert ufs == {"RS", "MT", "GO"}
    for uf in ("RS", "MT", "GO"):
        rule = econf_rule(uf, date(2026, 12, 3))
        assert rule is not None and rule.data_estimada and "fiscal-2026-2027" in rule.fonte
        assert econf_formas(uf, date(2026, 12, 3)) == frozenset({"03", "04", "05", "17", "20"})
    assert econf_formas("PR", date(2026, 12, 3)) == frozenset()
    assert econf_formas("SP", date(2026, 12, 3)) == frozenset()
    assert econf_formas("RS", date(2025, 12, 31)) == frozenset()  # before the row's start date
    assert econf_formas("rs", date(2026, 1, 1)) == econf_formas("RS", date(2026, 1, 1))


def _result(kind: str, **raw: object) -> EconfResult:
    from pos_app.core.focus.econf import _positive_int, _str

    numero_key = (
        "numero_cancelamento_conciliacao_financeira"
        if kind == CANCELAMENTO
        else "numero_conciliacao_financeira"
    )
    path_key = (
        "caminho_xml_cancelamento_conciliacao_financeira"
        if kind == CANCELAMENTO
        else "caminho_xml_conciliacao_financeira"
    )
    return EconfResult(
        kind=kind,
        http_status=200,
        status=str(raw.get("status")),
        status_sefaz=_str(raw.get("status_sefaz")),
        mensagem_sefaz=_str(raw.get("mensagem_sefaz")),
        numero_protocolo=_str(raw.get("numero_protocolo")),
        numero=_positive_int(raw.get(numero_key)),
        caminho_xml=_str(raw.get(path_key)),
        raw=dict(raw),
    )


GOOD = {
    "status_sefaz": "135",
    "mensagem_sefaz": "Evento registrado e vinculado a NF-e",
    "status": "autorizado",
    "caminho_xml_conciliacao_financeira": f"/arquivos/x/202612/XMLs/{CHAVE}-cf-01.xml",
    "numero_conciliacao_financeira": 1,
    "numero_protocolo": "143260000000002",
}


def test_a_good_answer_passes_and_every_mismatch_is_named() -> None:
    assert econf_problems(_result(ENVIO, **GOOD), chave=CHAVE) == []
    assert econf_problems(_result(CONSULTA, **GOOD), chave=CHAVE, protocolo="143260000000002") == []
    cases = {
        "situação do evento desconhecida": {**GOOD, "status": "registrado"},
        "código 100": {**GOOD, "status_sefaz": "100"},
        "número de protocolo ausente": {**GOOD, "numero_protocolo": None},
        "numero_conciliacao_financeira ausente": {**GOOD, "numero_conciliacao_financeira": 0},
        "não é da nota": {**GOOD, "caminho_xml_conciliacao_financeira": "/arquivos/outra-cf-01.xml"},
    }
    for expected, raw in cases.items():
        problems = econf_problems(_result(ENVIO, **raw), chave=CHAVE)
        assert any(expected in p for p in problems), (expected, problems)
    wrong = econf_problems(_result(CONSULTA, **GOOD), chave=CHAVE, protocolo="143260000000009")
    assert any("difere do consultado" in p for p in wrong)


def test_rejections_need_their_code_and_message() -> None:
    ok = {"status": "erro_autorizacao", "status_sefaz": "460", "mensagem_sefaz": "Rejeicao: x"}
    assert econf_problems(_result(CANCELAMENTO, **ok)) == []
    assert econf_problems(_result(CANCELAMENTO, **{**ok, "status_sefaz": "135"}))
    assert econf_problems(_result(CANCELAMENTO, **{**ok, "mensagem_sefaz": None}))
    cancelled = {
        "status": "autorizado",
        "status_sefaz": "135",
        "mensagem_sefaz": "ok",
        "numero_cancelamento_conciliacao_financeira": 3,
    }
    assert econf_problems(_result(CANCELAMENTO, **cancelled)) == []
    assert econf_problems(
        _result(CANCELAMENTO, **{**cancelled, "numero_cancelamento_conciliacao_financeira": None})
    )
