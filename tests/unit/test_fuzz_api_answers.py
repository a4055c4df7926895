"""Fuzzing the API's answers: whatever comes back (status, headers, bytes, JSON), only FocusError
subclasses come out of the client and NfceResult, and the shared rate budget stays sane."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_app.core.focus.client import FocusClient, FocusResponse
from pos_app.core.focus.errors import FocusError
from pos_app.core.focus.nfce import NfceApi, NfceResult
from pos_app.core.focus.ratelimit import MAX_RESET_SECONDS, RateBudget

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=15,
)
NOTE_KEYS = [
    "status",
    "status_sefaz",
    "mensagem_sefaz",
    "chave_nfe",
    "numero",
    "serie",
    "caminho_xml_nota_fiscal",
    "protocolo_nota_fiscal",
    "tentativa_anterior",
    "contingencia_offline",
    "codigo",
    "mensagem",
    "erros",
    "data_autorizacao",
    "qrcode_url",
]
NOTE_LIKE = st.dictionaries(st.sampled_from(NOTE_KEYS), JSON, max_size=8)
STATUS = st.one_of(
    st.sampled_from([200, 201, 202, 204, 301, 302, 400, 403, 404, 408, 415, 422, 429, 500, 502, 503]),
    st.integers(200, 599),
)
HEADER_VALUE = st.one_of(
    st.text(st.characters(codec="ascii", min_codepoint=32, max_codepoint=126), max_size=12),
    st.sampled_from(["inf", "-inf", "nan", "1e308", "-5", "0", "60", "99999999999999999999"]),
)
HEADERS = st.dictionaries(
    st.sampled_from(
        [
            "Content-Type",
            "Rate-Limit-Limit",
            "Rate-Limit-Remaining",
            "Rate-Limit-Reset",
            "Retry-After",
            "Content-Encoding",
        ]
    ),
    HEADER_VALUE,
    max_size=5,
)
BODY = st.one_of(
    st.binary(max_size=300),
    JSON.map(lambda v: json.dumps(v).encode()),
    NOTE_LIKE.map(lambda v: json.dumps(v).encode()),
    st.sampled_from(
        [
            b"[" * 50000,
            b'{"a":' * 3000,
            b"1" * 5000,
            b"\xef\xbb\xbf{}",
            b"<html>erro</html>",
            b'{"status": "autorizado", "numero": "x"}',
            b"\x1f\x8b\x08garbage",
        ]
    ),
)
CALLS: dict[str, Callable[[NfceApi], Any]] = {
    "emit": lambda api: api.emit("T1-00000001", {"items": []}),
    "consult": lambda api: api.consult("T1-00000001"),
    "cancel": lambda api: api.cancel("T1-00000001", "justificativa de teste com mais de 15"),
    "email": lambda api: api.email("T1-00000001", ["a@b.com"]),
    "inutilizar": lambda api: api.inutilizar(
        "98765432000198", 1, 5, 6, "justificativa de teste com mais de 15"
    ),
    "download": lambda api: api.download("/arquivos/x.xml"),
}


class _Answer:
    def __init__(self) -> None:
        self.status = 200
        self.headers: dict[str, str] = {}
        self.body = b""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(self.status, headers=self.headers, content=self.body)


@pytest.fixture(scope="module")
def mock() -> Iterator[tuple[_Answer, FocusClient]]:
    answer = _Answer()
    client = FocusClient(
        "https://api.exemplo.invalid", "token-fuzz", transport=httpx.MockTransport(answer), timeout=5
    )
    yield answer, client
    client.close()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=st.sampled_from(sorted(CALLS)), status=STATUS, headers=HEADERS, body=BODY)
def test_any_answer_gives_a_result_or_a_focus_error(
    mock: tuple[_Answer, FocusClient], call: str, status: int, headers: dict[str, str], body: bytes
) -> None:
    answer, client = mock
    client.budget = RateBudget(sleep=lambda s: (_ for _ in ()).throw(AssertionError(f"dormiu {s} s")))
    answer.status, answer.headers, answer.body = status, headers, body
    try:
        result = CALLS[call](NfceApi(client))
    except FocusError as exc:
        assert str(exc).strip()
    else:
        if call in ("emit", "cancel"):
            assert isinstance(result, NfceResult) and result.status
        elif call == "consult":
            assert result is None or isinstance(result, NfceResult)
        elif call == "download":
            assert isinstance(result, bytes)
        else:
            assert isinstance(result, dict)
    snap = client.budget.snapshot()
    assert snap["blocked_for"] is not None and 0 <= float(snap["blocked_for"]) <= MAX_RESET_SECONDS + 1
    assert snap["reset_in"] is not None and 0 <= float(snap["reset_in"]) <= MAX_RESET_SECONDS + 1


@settings(max_examples=300, deadline=None)
@given(status=STATUS, data=st.one_of(JSON, NOTE_LIKE))
def test_nfce_result_from_any_json_is_a_result_or_a_focus_error(status: int, data: Any) -> None:
    try:
        result = NfceResult.from_response(FocusResponse(status, data))
    except FocusError as exc:
        assert str(exc).strip()
        return
    assert isinstance(result.status, str)
    assert result.numero is None or isinstance(result.numero, int)
    assert result.chave is None or isinstance(result.chave, str)
