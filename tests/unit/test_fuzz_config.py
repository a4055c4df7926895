"""Fuzzing configuration values: a bad value is a ConfigError (Portuguese), never a crash or a partial write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_app.core.config import KEYS, Config, ConfigError
from pos_app.core.secrets_store import FileSecrets
from pos_app.core.store import Store

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)  # surrogates too
NUMBERISH = st.one_of(
    st.sampled_from(
        [
            "NaN",
            "sNaN",
            "-nan",
            "Infinity",
            "-Infinity",
            "1e999999",
            "9" * 5000,
            "1_000",
            "١٢٣",
            "²",
            "0x1F",
            " 15 ",
            "15,5",
            "-0",
            "+7",
            "",
            " ",
            "~usuario-que-nao-existe/cert.pfx",
            "\x00",
            "ISENTO",
            "isento",
            "http://",
            "https:// x",
            "98.765.432/0001-98",
            "98765432000198",
            "12.345.678/0001-00",
            "caf\udce9",
        ]
    ),
    st.from_regex(r"[-+]?\d{0,8}([.,]\d{0,4})?([eE][-+]?\d{1,7})?", fullmatch=True),
)
VALUES = st.one_of(ANY_TEXT, NUMBERISH)

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(key=st.sampled_from(sorted(KEYS)), value=VALUES)
def test_every_check_function_raises_only_config_error(key: str, value: str) -> None:
    spec = KEYS[key]
    try:
        normalized = spec.check(value)
    except ConfigError as exc:
        assert str(exc).strip()
        return
    assert isinstance(normalized, str)
    assert spec.check(normalized) == normalized  # what is stored passes its own check again


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Config]:
    folder: Path = tmp_path_factory.mktemp("config-fuzz")
    store = Store(folder / "pos.sqlite3")
    with pytest.MonkeyPatch.context() as mp:
        # random "secrets" must not join the process-wide masking list and garble other tests' logs
        mp.setattr("pos_app.core.config.register_secret", lambda value: None)
        yield Config(store, FileSecrets(folder / "segredos"))
    store.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.one_of(st.sampled_from(sorted(KEYS)), st.text(max_size=20)), value=VALUES)
def test_config_set_refuses_bad_values_without_writing_anything(config: Config, key: str, value: str) -> None:
    before = config.store.settings.all()
    try:
        config.set(key, value)
    except ConfigError as exc:
        assert str(exc).strip()
        assert config.store.settings.all() == before  # nothing written
        return
    after = config.store.settings.all()
    assert {k for k in after if after.get(k) != before.get(k)} <= {key}  # only that key changed
    if KEYS[key].secret:
        assert after[key] == "__secret__"  # the database only knows that a secret is set
