"""Demo mode: the answer file the (simulated) city gives for an RPS batch."""

from __future__ import annotations

from pathlib import Path

from pos_app.core.domain.errors import ValidationError
from pos_app.core.services.rps import RpsService


def demo_city_answer(service: RpsService, ref: str, dest: Path | None = None) -> Path:
    """Write the simulated city's answer for batch ``ref`` (demo sandbox only); returns its path."""
    ctx = service.ctx
    if ctx.sandbox is None:
        raise ValidationError("ref", "O retorno simulado só existe no modo de demonstração.")
    service.require_batch(ref)
    try:
        content = ctx.sandbox.backoffice.lotes_rps.city_answer(ctx.token(), ref)
    except KeyError as exc:
        raise ValidationError("ref", f"O lote {ref} não foi gerado na API de demonstração.") from exc
    path = dest or service.folder() / f"{ref}-retorno-prefeitura-demo.txt"
    path.write_bytes(content)
    return path
