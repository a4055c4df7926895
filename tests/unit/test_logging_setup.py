"""Support logs: rotating files in data_dir/logs, every API exchange recorded, secrets and consumers' data masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos_app.core import logging_setup
from pos_app.core.focus.client import FocusClient
from pos_app.core.focus.nfce import NfceApi
from pos_app.core.logging_setup import flush_logs, setup_logging, shutdown_logging
from pos_app.core.masking import mask_body, mask_text, register_public, register_secret

SHOP = "11444777000161"  # a CNPJ no other test registers
CHAVE = f"412611{SHOP}650010000000011724777193"
TOKEN = "tok-Fz81-unit-logging"


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # Other tests register their emitters' CNPJs as public: start from a clean registry here.
    from pos_app.core import masking

    monkeypatch.setattr(masking, "_public", set())
    path = setup_logging(tmp_path)
    assert path is not None
    yield path
    shutdown_logging()


def _text(path: Path) -> str:
    flush_logs()
    return "".join(p.read_text("utf-8") for p in sorted(path.parent.glob("pos-app.log*")))


def test_setup_is_idempotent_and_writes_to_data_dir_logs(tmp_path: Path, log_file: Path) -> None:
    again = setup_logging(tmp_path)
    ours = [h for h in logging.getLogger().handlers if h in logging_setup._installed]  # noqa: SLF001
    assert again == log_file == tmp_path / "logs" / "pos-app.log"
    assert len(ours) == 2  # console + file, never duplicated
    logging.getLogger("pos_app.teste").info("linha de teste")
    assert "linha de teste" in _text(log_file)


def test_files_rotate_at_the_size_limit_keeping_five(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging_setup, "MAX_BYTES", 4000)
    path = setup_logging(tmp_path)
    assert path is not None
    try:
        log = logging.getLogger("pos_app.volume")
        for n in range(600):
            log.info("linha %04d %s", n, "x" * 60)
        flush_logs()
        files = sorted(p.name for p in path.parent.iterdir())
        assert files == ["pos-app.log", "pos-app.log.1", "pos-app.log.2", "pos-app.log.3", "pos-app.log.4"]
        assert all(p.stat().st_size <= 4000 + 200 for p in path.parent.iterdir())
        assert "linha 0599" in path.read_text("utf-8")
    finally:
        shutdown_logging()


def test_every_record_is_masked_whoever_logs_it(log_file: Path) -> None:
    register_secret(TOKEN)
    register_public(SHOP)
    log = logging.getLogger("biblioteca.qualquer")
    log.warning("token %s, CPF 529.982.247-25 e 52998224725, e-mail maria@exemplo.com.br", TOKEN)
    log.warning("CNPJ consumidor 11.222.333/0001-81, emitente %s, chave %s", SHOP, CHAVE)
    log.warning("Authorization: Basic dG9rLUZ6ODEtdW5pdC1sb2dnaW5nOg== e ?token=abc123&x=1")
    try:
        raise ValueError(f"quebrou com {TOKEN} senha=hunter22")
    except ValueError:
        log.exception("falha")
    text = _text(log_file)
    for secret in (
        TOKEN,
        "52998224725",
        "529.982.247-25",
        "maria@exemplo.com.br",
        "11.222.333/0001-81",
        "dG9rLUZ6ODEtdW5pdC1sb2dnaW5nOg==",
        "abc123",
        "hunter22",
    ):
        assert secret not in text, secret
    assert CHAVE in text and f"emitente {SHOP}" in text  # the access key and the shop's CNPJ stay readable
    assert "Traceback" in text and "ValueError" in text  # the traceback is kept, masked


def test_every_api_exchange_is_logged_with_bodies_masked_and_no_authorization(log_file: Path) -> None:
    # Whole bodies are written at DEBUG (support turns it on with POS_LOG_LEVEL=DEBUG).
    setup_logging(log_file.parent.parent, level="DEBUG")

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(
            201,
            json={
                "status": "autorizado",
                "chave_nfe": f"NFe{CHAVE}",
                "numero": "1",
                "serie": "1",
                "cpf_destinatario": body["cpf_destinatario"],
                "requisicao_nota_fiscal": {"xml": "<NFe>" + "x" * 5000 + "</NFe>"},
            },
        )

    client = FocusClient("https://api.exemplo.invalid", TOKEN, transport=httpx.MockTransport(answer))
    NfceApi(client).emit(
        "T1-00000042",
        {
            "cnpj_emitente": "98765432000198",
            "cpf_destinatario": "52998224725",
            "email_destinatario": "cliente@exemplo.com",
            "valor_total": "10.00",
        },
    )
    client.close()
    text = _text(log_file)
    assert "POST /v2/nfce?ref=T1-00000042&completa=1 enviando " in text
    assert "POST /v2/nfce?ref=T1-00000042&completa=1 corpo: " in text
    assert "POST /v2/nfce?ref=T1-00000042&completa=1 -> 201 em " in text and " ms: " in text
    assert '"valor_total": "10.00"' in text and '"cpf_destinatario": "[OCULTO]"' in text
    assert "<xml 5011 caracteres>" in text  # embedded XML summarized
    for secret in (TOKEN, "52998224725", "cliente@exemplo.com", "Authorization", "Basic "):
        assert secret not in text, secret


def test_mask_helpers() -> None:
    register_secret("ab")  # too short to be masked safely: ignored
    assert mask_text("abc") == "abc"
    assert mask_text("CPF 111.111.111-11 não é válido") == "CPF 111.111.111-11 não é válido"
    assert mask_body(b"") == "(vazio)"
    assert mask_body(b"[" * 10000).startswith("[[[")  # not JSON it can parse: shown as text, no crash
    shown = mask_body(json.dumps({"emails": ["a@b.com"], "senha": "x1", "itens": [{"cpf": "52998224725"}]}))
    assert "a@b.com" not in shown and "x1" not in shown and "52998224725" not in shown
