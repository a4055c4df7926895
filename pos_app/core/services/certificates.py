"""The company's A1 certificate, loaded once and reloaded when the file or settings change."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

from pos_app.core.config import Config
from pos_app.core.fiscal.certificate import A1Certificate, CertificateError, load_a1

log = logging.getLogger("pos_app.certificate")


class CertificateProvider:
    def __init__(self, config: Config) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._key: tuple[str, float, str] | None = None
        self._cert: A1Certificate | None = None
        self.last_error: str | None = None

    def get(self) -> A1Certificate | None:
        """The certificate, or None (with ``last_error`` saying why) when it cannot be used."""
        path = self._config.get("certificado.arquivo")
        password = self._config.get("certificado.senha") or ""
        if not path:
            self.last_error = "Certificado digital A1 não configurado."
            return None
        try:
            mtime = Path(path).stat().st_mtime
        except OSError:
            self.last_error = f"Arquivo do certificado não encontrado: {path}"
            return None
        key = (path, mtime, password)
        with self._lock:
            if key != self._key:
                try:
                    self._cert = load_a1(path, password)
                    self.last_error = None
                except CertificateError as exc:
                    self._cert = None
                    self.last_error = str(exc)
                self._key = key
            cert = self._cert
        if cert is not None and cert.not_after < datetime.now(UTC):
            self.last_error = f"Certificado vencido em {cert.not_after:%d/%m/%Y}."
            return None
        return cert
