"""Received CT-e: incremental sync by ``versao``, local listing with filters, desacordo, downloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.errors import ValidationError
from pos_app.core.fiscal.chave import chave_chars, is_valid_chave
from pos_app.core.fiscal.document_status import CteSituacao
from pos_app.core.focus.cte import OBSERVACOES_MAX, OBSERVACOES_MIN
from pos_app.core.focus.ctes_recebidas import CteRecebido, CtesRecebidasApi, normalize_situacao
from pos_app.core.focus.ratelimit import Priority
from pos_app.core.store.ctes import CtesRecebidosRepo

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

MAX_PAGES_PER_SYNC = 50
SITUACOES = {
    CteSituacao.AUTORIZADO: "Autorizado",
    CteSituacao.CANCELADO: "Cancelado",
    CteSituacao.DENEGADO: "Denegado",
}
TIPOS_CTE = {"0": "Normal", "1": "Complementar", "2": "Anulação", "3": "Substituto"}
DOWNLOADS = {
    "xml": ("xml", "CT-e (XML)"),
    "json": ("json", "dados completos (JSON)"),
    "cancelamento": ("xml", "XML de cancelamento"),
    "cce": ("xml", "XML da última carta de correção"),
    "pdf": ("pdf", "DACTe (PDF)"),
}


@dataclass
class SyncReport:
    novos: int
    atualizados: int
    paginas: int
    max_versao: int | None
    total_local: int
    completo: bool  # False when MAX_PAGES_PER_SYNC stopped it: run again

    @property
    def mensagem(self) -> str:
        text = f"{self.novos} CT-e novo(s), {self.atualizados} atualizado(s); {self.total_local} no terminal."
        if not self.completo:
            text += " Ainda há documentos: sincronize de novo."
        return text

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "mensagem": self.mensagem}


def check_observacoes(observacoes: str) -> str:
    text = " ".join((observacoes or "").split())
    if not OBSERVACOES_MIN <= len(text) <= OBSERVACOES_MAX:
        raise ValidationError(
            "observacoes",
            f"As observações do desacordo devem ter entre {OBSERVACOES_MIN} e {OBSERVACOES_MAX} caracteres "
            f"(tem {len(text)}).",
        )
    return text


def check_chave(chave: str) -> str:
    digits = chave_chars(chave)
    if len(digits) != 44 or not is_valid_chave(digits):
        raise ValidationError("chave", f"Chave de acesso inválida: {chave!r} (44 caracteres).")
    return digits


def _row(item: CteRecebido) -> dict[str, Any]:
    return {
        "chave": item.chave, "versao": item.versao, "situacao": item.situacao, "nome_emitente": item.nome_emitente,
        "documento_emitente": item.documento_emitente,
        "valor_total": f"{item.valor_total:.2f}" if item.valor_total is not None else None,
        "data_emissao": item.data_emissao, "tipo_cte": item.tipo_cte, "digest_value": item.digest_value,
        "carta_correcao": item.carta_correcao, "data_carta_correcao": item.data_carta_correcao,
        "data_cancelamento": item.data_cancelamento, "justificativa_cancelamento": item.justificativa_cancelamento,
        "raw": item.raw,
    }  # fmt: skip


class CtesRecebidasService:
    def __init__(self, ctx: AppContext, *, api: CtesRecebidasApi | None = None) -> None:
        self.ctx = ctx
        self._api = api
        self.repo = CtesRecebidosRepo(ctx.store.database)

    @property
    def api(self) -> CtesRecebidasApi:
        if self._api is None:
            self._api = CtesRecebidasApi(self.ctx.client())
        return self._api

    @property
    def cnpj(self) -> str:
        return self.ctx.emitente().cnpj

    def sync(self, progress: Callable[[str], None] | None = None) -> SyncReport:
        """Fetch what changed since the greatest ``versao`` stored, page by page (each page and the
        new mark are stored together, so an interrupted sync resumes where it stopped)."""
        cnpj = self.cnpj
        versao = self.repo.max_versao(cnpj)
        novos = atualizados = paginas = 0
        completo = False
        for _ in range(MAX_PAGES_PER_SYNC):
            page = self.api.list(cnpj, versao, priority=Priority.MONITOR)
            paginas += 1
            n, u = self.repo.store_page(
                cnpj, [_row(i) for i in page.items], page.max_version, page.total_count
            )
            novos, atualizados = novos + n, atualizados + u
            if progress is not None:
                progress(f"Página {paginas}: {len(page.items)} documento(s)")
            if (
                not page.has_more
                or page.max_version is None
                or (versao is not None and page.max_version <= versao)
            ):
                completo = True
                break
            versao = page.max_version
        self.repo.mark_synced(cnpj)
        return SyncReport(
            novos, atualizados, paginas, self.repo.max_versao(cnpj), self.repo.count(cnpj), completo
        )

    def search(self, **filters: Any) -> list[dict[str, Any]]:
        situacao = normalize_situacao(filters.get("situacao")) or None
        if situacao:
            filters = {**filters, "situacao": situacao}
        if situacao and situacao not in SITUACOES:
            raise ValidationError("situacao", f"Situação desconhecida: {situacao} ({', '.join(SITUACOES)}).")
        for key in ("desde", "ate"):
            value = filters.get(key)
            if value and not _is_date(value):
                raise ValidationError(key, f"Data inválida em --{key}: {value!r} (use AAAA-MM-DD).")
        return self.repo.search(self.cnpj, **filters)

    def get(self, chave: str) -> dict[str, Any] | None:
        return self.repo.get(self.cnpj, check_chave(chave))

    def desacordo(self, chave: str, observacoes: str, *, user_id: int | None = None) -> dict[str, Any]:
        """Register the disagreement (observações 15-255) and keep the answer with the document."""
        text = check_observacoes(observacoes)
        digits = check_chave(chave)
        local = self.repo.get(self.cnpj, digits)
        if local is not None and local.get("desacordo_status") == "evento_registrado":
            raise ValidationError("chave", "Já há um desacordo registrado para este CT-e.")
        if local is not None and local.get("situacao") == CteSituacao.CANCELADO:
            raise ValidationError("chave", "Este CT-e foi cancelado pelo emitente: não cabe desacordo.")
        result = self.api.desacordo(digits, text)
        if local is not None:
            self.repo.record_desacordo(self.cnpj, digits, status=result.status, observacoes=text,
                                       protocolo=result.protocolo, mensagem=result.mensagem_sefaz, user_id=user_id,
                                       response=result.raw)  # fmt: skip
        mensagem = (
            "Desacordo registrado na SEFAZ"
            + (f" (protocolo {result.protocolo})." if result.protocolo else ".")
            if result.registered
            else f"Desacordo recusado: {result.status_sefaz} {result.mensagem_sefaz}"
        )
        return {"chave": digits, "status": result.status, "registrado": result.registered, "mensagem": mensagem,
                "status_sefaz": result.status_sefaz, "mensagem_sefaz": result.mensagem_sefaz,
                "protocolo": result.protocolo}  # fmt: skip

    def download(self, chave: str, tipo: str = "xml", dest: Path | None = None) -> Path:
        """Save the CT-e XML, its JSON, the cancellation or last CC-e XML, or the DACTe."""
        if tipo not in DOWNLOADS:
            raise ValidationError("tipo", f"Tipo de arquivo desconhecido: {tipo} ({', '.join(DOWNLOADS)}).")
        digits = check_chave(chave)
        data: bytes | None
        if tipo == "xml":
            data = self.api.xml(digits)
        elif tipo == "json":
            consult = self.api.consult(digits, completa=True, cnpj=self.cnpj)
            data = (
                None if consult is None else json.dumps(consult, ensure_ascii=False, indent=2).encode("utf-8")
            )
        elif tipo == "cancelamento":
            data = self.api.xml_cancelamento(digits)
        elif tipo == "cce":
            data = self.api.xml_carta_correcao(digits)
        else:
            data = self.api.dacte(digits)
        if data is None:
            raise ValidationError("tipo", f"Não há {DOWNLOADS[tipo][1]} para este CT-e.")
        ext = DOWNLOADS[tipo][0]
        suffix = {"xml": "cte", "json": "cte", "cancelamento": "cancelamento", "cce": "cce", "pdf": "dacte"}[
            tipo
        ]
        if dest is None:
            folder = self.ctx.xml_dir() / "ctes_recebidos"
            folder.mkdir(parents=True, exist_ok=True)
            dest = folder / f"{digits}-{suffix}.{ext}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        return dest


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
