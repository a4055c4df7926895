"""The contingency notes that need someone: listing, and correction of a note SEFAZ rejected.

A contingency note was printed and handed to the customer, so it can never be voided or
renumbered: a rejected note is corrected and sent again with the SAME numero, serie and cNF
(``codigo_unico``), hence the same access key and the same printed QR code. What may change is
what the rejection was about: the tax classification of the items (NCM, CFOP, CEST, origin,
CST/CSOSN, GTIN), taken again from the current catalog. Quantities, prices, totals, payments,
consumer and ``data_emissao`` never change (they are on the customer's copy and in the QR code).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.errors import ValidationError
from pos_app.core.errors import PosError
from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.document_status import DocumentStatus as S
from pos_app.core.fiscal.states import CONTINGENCY_DEADLINE
from pos_app.core.store.packed import load_json

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

OPEN_STATES = ds.CONTINGENCY_OPEN
MANAGER_STATES = ds.MANAGER_ATTENTION
CORRECTABLE_STATES = ds.CORRECTABLE
# Focus item field -> how to read it from a catalog Product.
_TAX_FIELDS: tuple[tuple[str, str], ...] = (
    ("codigo_ncm", "ncm"),
    ("cfop", "cfop"),
    ("cest", "cest"),
    ("icms_origem", "icms_origem"),
    ("icms_situacao_tributaria", "icms_situacao_tributaria"),
    ("codigo_barras_comercial", "ean"),
    ("codigo_barras_tributavel", "ean"),
)
_SALE_ITEM_COLUMNS = {
    "ncm": "ncm",
    "cfop": "cfop",
    "cest": "cest",
    "icms_origem": "icms_origem",
    "icms_situacao_tributaria": "icms_situacao_tributaria",
    "ean": "ean",
}


class CorrectionError(PosError, ValueError):
    """Why a note cannot be corrected (Portuguese message)."""

    kind = "recusado"


@dataclass(frozen=True)
class Change:
    item: int
    codigo: str
    campo: str
    antes: str | None
    depois: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "codigo": self.codigo,
            "campo": self.campo,
            "antes": self.antes,
            "depois": self.depois,
        }


def contingency_list(ctx: AppContext, now: datetime | None = None) -> dict[str, Any]:
    """Contingency notes not yet authorized (oldest first) and attempts that need the manager."""
    now = now or datetime.now(UTC)
    marks = ", ".join("?" for _ in OPEN_STATES)
    rows = ctx.store.database.query(
        f"SELECT * FROM fiscal_documents WHERE kind = 'contingencia' AND status IN ({marks}) "
        "ORDER BY data_emissao, id",
        list(OPEN_STATES),
    )
    deadline = int(CONTINGENCY_DEADLINE.total_seconds() // 60)
    notas = []
    for d in rows:
        age = int((now - datetime.fromisoformat(d["data_emissao"])).total_seconds() // 60)
        notas.append(
            {
                "ref": d["ref"],
                "numero": d["numero"],
                "serie": d["serie"],
                "chave": d["chave"],
                "status": d["status"],
                "data_emissao": d["data_emissao"],
                "idade_minutos": age,
                "prazo_restante_minutos": deadline - age,
                "tentativas": d["attempts"],
                "precisa_correcao": d["status"] == S.CONTINGENCIA_ERRO,
                "status_sefaz": d["status_sefaz"] if d["status"] == S.CONTINGENCIA_ERRO else None,
                "mensagem_sefaz": d["mensagem_sefaz"] if d["status"] == S.CONTINGENCIA_ERRO else None,
                "ultimo_erro": d["last_error"],
            }
        )
    marks = ", ".join("?" for _ in MANAGER_STATES)
    manager = [
        {
            "ref": d["ref"],
            "status": d["status"],
            "chave": d["chave"],
            "numero": d["numero"],
            "serie": d["serie"],
            "motivo": d["last_error"] or "aguardando reconciliação com a API",
        }
        for d in ctx.store.database.query(
            f"SELECT * FROM fiscal_documents WHERE status IN ({marks}) ORDER BY id", list(MANAGER_STATES)
        )
    ]
    return {
        "notas": notas,
        "pendentes": sum(1 for n in notas if not n["precisa_correcao"]),
        "com_erro": sum(1 for n in notas if n["precisa_correcao"]),
        "para_gerente": manager,
    }


def correct_from_catalog(ctx: AppContext, ref: str) -> list[Change]:
    """Rebuild the items' tax fields of a contingency note from the current catalog.

    Keeps numero, serie, codigo_unico, data_emissao and every value. When something changed the
    note goes back to the transmission queue (``contingencia_pendente``); returns the changes
    (empty: the catalog still says the same, nothing was touched).
    """
    doc = ctx.store.documents.by_ref(ref)
    if doc is None or doc["kind"] != "contingencia":
        raise CorrectionError(f"Nota de contingência não encontrada: {ref}")
    if doc["status"] not in CORRECTABLE_STATES:
        raise CorrectionError(f"A nota {ref} está no estado '{doc['status']}': não há o que corrigir.")
    emitente = ctx.emitente()
    payload = load_json(doc["payload"])
    kept = {k: payload.get(k) for k in ("numero", "serie", "codigo_unico", "data_emissao")}
    changes: list[Change] = []
    item_updates: list[tuple[int, dict[str, Any]]] = []
    for item in payload.get("items", []):
        codigo = str(item.get("codigo_produto") or "")
        product = ctx.store.products.lookup(codigo)
        if product is None:
            raise CorrectionError(
                f"Produto {codigo} do item {item.get('numero_item')} não está mais no catálogo."
            )
        try:
            product.validate(emitente.regime)
        except ValidationError as exc:
            raise CorrectionError(f"O cadastro do produto {codigo} ainda tem erro: {exc}") from exc
        updates: dict[str, Any] = {}
        for field, attr in _TAX_FIELDS:
            value = getattr(product, attr)
            if attr == "ean":
                value = value or "SEM GTIN"
            new = str(value) if value not in (None, "") else None
            old = item.get(field)
            if (str(old) if old not in (None, "") else None) == new:
                continue
            changes.append(Change(int(item.get("numero_item") or 0), codigo, field, old, new))
            if new is None:
                item.pop(field, None)
            else:
                item[field] = new
            if field != "codigo_barras_tributavel":
                updates[_SALE_ITEM_COLUMNS[attr]] = getattr(product, attr)
        if updates:
            item_updates.append((int(item.get("numero_item") or 0), updates))
    # ICMS/PIS/COFINS/IBS/CBS values follow the products' current tax groups (same date, same key).
    from pos_app.core.focus.nfce_payload import retax_payload

    products = {
        int(i.get("numero_item") or 0): ctx.store.products.lookup(str(i.get("codigo_produto") or ""))
        for i in payload.get("items", [])
    }
    codes = {n: p.codigo for n, p in products.items() if p is not None}
    for n, field, old, new in retax_payload(payload, products, emitente):
        changes.append(Change(n, codes.get(n, ""), field, old, new))
    if not changes:
        return []
    assert all(payload.get(k) == v for k, v in kept.items())  # same numero/serie/cNF/date: same key
    note = "corrigida pelo catálogo: " + "; ".join(
        f"item {c.item} {c.campo} {c.antes}->{c.depois}" for c in changes
    )
    with ctx.store.transaction() as tx:
        for numero_item, updates in item_updates:
            sets = ", ".join(f"{col} = ?" for col in updates)
            tx.execute(
                f"UPDATE sale_items SET {sets} WHERE sale_id = ? AND numero_item = ?",
                [*updates.values(), int(doc["sale_id"]), numero_item],
            )
        ctx.store.documents.transition(
            int(doc["id"]),
            S.CONTINGENCIA_PENDENTE,
            tx=tx,
            payload=json.dumps(payload, ensure_ascii=False),
            next_attempt_at=None,
            note=note[:1000],
        )
    return changes
