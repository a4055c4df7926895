"""Secrets (API token, certificate password) in the OS credential store.

Windows Credential Manager / macOS Keychain / Secret Service through ``keyring``. Where no
usable backend exists (a headless Linux box, a locked-down service account), an encrypted file
in the data folder is used instead: a Fernet key in one file, the ciphertext in another, both
readable only by the current user.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger("pos_app.secrets")
SERVICE = "pos-app"


class SecretStore(Protocol):
    backend: str

    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str) -> None: ...
    def delete(self, key: str) -> None: ...


class KeyringSecrets:
    backend = "keyring"

    def __init__(self, namespace: str) -> None:
        import keyring

        self._keyring = keyring
        self._ns = namespace

    def get(self, key: str) -> str | None:
        return self._keyring.get_password(SERVICE, f"{self._ns}:{key}")

    def set(self, key: str, value: str) -> None:
        self._keyring.set_password(SERVICE, f"{self._ns}:{key}", value)

    def delete(self, key: str) -> None:
        with contextlib.suppress(Exception):  # an absent entry is fine
            self._keyring.delete_password(SERVICE, f"{self._ns}:{key}")


class FileSecrets:
    backend = "arquivo-criptografado"

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._key_path = folder / "secrets.key"
        self._data_path = folder / "secrets.bin"
        if not self._key_path.exists():
            _write_private(self._key_path, Fernet.generate_key())
        self._fernet = Fernet(self._key_path.read_bytes().strip())

    def _load(self) -> dict[str, str]:
        if not self._data_path.exists():
            return {}
        try:
            data = json.loads(self._fernet.decrypt(self._data_path.read_bytes()))
        except (InvalidToken, ValueError):
            log.error("Arquivo de segredos ilegível; será recriado.")
            return {}
        return {str(k): str(v) for k, v in data.items()}

    def _save(self, data: dict[str, str]) -> None:
        _write_private(self._data_path, self._fernet.encrypt(json.dumps(data).encode()))

    def get(self, key: str) -> str | None:
        return self._load().get(key)

    def set(self, key: str, value: str) -> None:
        data = self._load()
        data[key] = value
        self._save(data)

    def delete(self, key: str) -> None:
        data = self._load()
        if data.pop(key, None) is not None:
            self._save(data)


def _write_private(path: Path, content: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def open_secret_store(data_dir: Path) -> SecretStore:
    """Keyring when it works here, else the encrypted file. ``POS_SECRETS=arquivo`` forces the file."""
    namespace = str(data_dir.resolve())
    if os.environ.get("POS_SECRETS", "").lower() != "arquivo":
        try:
            import keyring
            from keyring.backends import fail

            backend = keyring.get_keyring()
            if not isinstance(backend, fail.Keyring) and getattr(backend, "priority", 0) > 0:
                store = KeyringSecrets(namespace)
                store.get("__probe__")  # raises when the backend is not usable (no D-Bus, locked)
                return store
        except Exception as exc:  # noqa: BLE001 - any backend failure means: use the file
            log.info("Cofre do sistema indisponível (%s); usando arquivo criptografado.", type(exc).__name__)
    return FileSecrets(data_dir / "segredos")
