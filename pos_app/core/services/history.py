"""Sales history: search by day or range, status, number, key, CPF, operator; detail of a sale with
every state transition of its fiscal documents and the raw API answers; consult the API again;
the XML of a note (downloaded when not yet on disk)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.payments import PAYMENT_METHODS
from pos_app.core.domain.validators import only_digits
from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.chave import chave_chars
from pos_app.core.fiscal.document_status import DocumentStatus as S
from pos_app.core.fiscal.document_status import FocusStatus as F
from pos_app.core.fiscal.document_status import HistoryGroup as G
from pos_app.core.focus.errors import FocusError
from pos_app.core.focus.ratelimit import Priority
from pos_app.core.services.audit import FAILED, OK, AuditLog
from pos_app.core.services.cancellation import CancellationService, remaining
from pos_app.core.services.econf import events_for_documents
from pos_app.core.services.nfe import doc_api
from pos_app.core.services.users import ManagerError
from pos_app.core.store.documents import DocumentsRepo
from pos_app.core.store.packed import unpack_row
from pos_app.core.store.sales import SalesRepo

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext
    from pos_app.core.store.users import User

# Filter groups shown to the manager -> document states.
STATUS_GROUPS: dict[G, tuple[S, ...]] = ds.HISTORY_GROUPS
GROUP_LABELS = {
    G.AUTORIZADO: "Autorizada",
    G.CONTINGENCIA: "Contingência pendente",
    G.CORRECAO: "Precisa de correção",
    G.CANCELADO: "Cancelada",
}
STATUS_ALIASES: dict[str, G] = {
    G.AUTORIZADO: G.AUTORIZADO,
    "autorizada": G.AUTORIZADO,
    "autorizadas": G.AUTORIZADO,
    G.CONTINGENCIA: G.CONTINGENCIA,
    "contingência": G.CONTINGENCIA,
    S.PENDENTE: G.CONTINGENCIA,
    S.CONTINGENCIA_PENDENTE: G.CONTINGENCIA,
    "contingência pendente": G.CONTINGENCIA,
    G.CORRECAO: G.CORRECAO,
    "correção": G.CORRECAO,
    "precisa de correção": G.CORRECAO,
    "erro": G.CORRECAO,
    G.CANCELADO: G.CANCELADO,
    "cancelada": G.CANCELADO,
    "canceladas": G.CANCELADO,
}
STATUS_LABELS: dict[str, str] = {
    S.PENDENTE: "Pendente de envio",
    S.ENVIANDO: "Enviando",
    S.AUTORIZADO: "Autorizada",
    S.ERRO_AUTORIZACAO: "Rejeitada pela SEFAZ",
    S.REJEITADO: "Recusada pela API",
    S.DENEGADO: "Denegada",
    S.EM_DUVIDA: "Em reconciliação",
    S.ENCERRADO: "Tentativa encerrada",
    S.CANCELADO: "Cancelada",
    S.CONTINGENCIA_PENDENTE: "Contingência: aguardando transmissão",
    S.TRANSMITINDO: "Contingência: transmitindo",
    S.CONTINGENCIA_ERRO: "Contingência: precisa de correção",
    S.CONTINGENCIA_DUPLICADA: "Contingência: número duplicado (539), sem correção",
    S.CONTINGENCIA_DENEGADA: "Contingência: uso denegado",
    S.AGUARDANDO_CONEXAO: "Aguardando conexão",
    S.SUBSTITUICAO_PENDENTE: "Cancelamento por substituição pendente",
    S.STATUS_DESCONHECIDO: "Situação desconhecida na API",
}


def parse_status(text: str) -> str:
    key = STATUS_ALIASES.get(text.strip().lower())
    if key is None:
        raise ManagerError(
            f"Status desconhecido: {text!r}. Use: autorizado, contingencia, correcao ou cancelado.",
            field="status",
        )
    return key


def group_of(status: str) -> str | None:
    for group, states in STATUS_GROUPS.items():
        if status in states:
            return group
    return None


@dataclass
class HistoryFilter:
    de: date | None = None
    ate: date | None = None
    status: list[str] = field(default_factory=list)  # groups (keys of STATUS_GROUPS)
    numero: int | None = None
    serie: int | None = None  # with ``numero``: the same number exists in the online and contingency series
    chave: str | None = None
    cpf: str | None = None
    operador: str | None = None  # user codigo
    limit: int = 2000
    offset: int = 0  # rows skipped (pagination: page n of size ``limit`` starts at (n - 1) * limit)


@dataclass
class HistoryRow:
    sale_id: int
    created_at: str
    total: Decimal
    operador: str | None
    cpf: str | None
    ref: str
    document_id: int
    kind: str
    status: str
    serie: int | None
    numero: int | None
    chave: str | None
    pagamentos: str
    cancel_restante: int | None = None  # seconds left to cancel (authorized notes)
    operador_nome: str | None = None
    cnpj: str | None = None
    modelo: int = 65  # 65 NFC-e, 55 NF-e (sale to a CNPJ buyer)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def to_json(self) -> dict[str, Any]:
        return {
            "venda": self.sale_id,
            "data": self.created_at,
            "total": f"{self.total:.2f}",
            "operador": self.operador,
            "cpf": self.cpf,
            "ref": self.ref,
            "tipo": self.kind,
            "status": self.status,
            "situacao": self.status_label,
            "grupo": group_of(self.status),
            "serie": self.serie,
            "numero": self.numero,
            "chave": self.chave,
            "pagamentos": self.pagamentos,
            "cancelamento_restante_segundos": self.cancel_restante,
            "modelo": self.modelo,
            "cnpj": self.cnpj,
        }


# The sale's current document: the newest one (a contingency note is created after its attempt).
_CURRENT_DOC = "(SELECT max(id) FROM fiscal_documents WHERE sale_id = s.id)"


class HistoryService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.audit = AuditLog(ctx.store)

    def search(self, f: HistoryFilter, now: datetime | None = None) -> list[HistoryRow]:
        now = now or self.ctx.now()
        where, params = self._where(f)
        sql = (
            "SELECT s.id AS sale_id, s.created_at, s.valor_total, s.cpf, s.cnpj, u.codigo AS operador, "
            "u.nome AS operador_nome, "
            "d.id AS document_id, d.ref, d.kind, d.status, d.serie, d.numero, d.chave, d.data_autorizacao, d.modelo, "
            "(SELECT group_concat(p.forma || ':' || p.valor || (CASE WHEN p.forma = '17' AND p.numero_autorizacao "
            "IS NOT NULL THEN ':' || p.numero_autorizacao ELSE '' END), ';') FROM payments p WHERE p.sale_id = s.id) "
            "AS pags "
            f"FROM sales s JOIN fiscal_documents d ON d.id = {_CURRENT_DOC} "
            "LEFT JOIN users u ON u.id = s.operador_id"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY s.id DESC LIMIT ? OFFSET ?"
        sources = self._sources(f)
        offset = max(0, f.offset)
        if len(sources) == 1:
            found = self.store.database.query(sql, [*params, f.limit, offset])
        else:  # live first (newest ids), then the archives newest year first: one ordered list
            found, seen = [], set()
            for db in sources:
                need = offset + f.limit - len(found)
                if need <= 0:
                    break
                for r in db.query(sql, [*params, need, 0]):
                    if r["sale_id"] not in seen:  # an archiving interrupted half-way: once
                        seen.add(r["sale_id"])
                        found.append(r)
            found = found[offset : offset + f.limit]
        rows = []
        for r in found:
            left = remaining(
                {"status": r["status"], "data_autorizacao": r["data_autorizacao"], "modelo": r["modelo"]}, now
            )
            rows.append(
                HistoryRow(
                    sale_id=int(r["sale_id"]),
                    created_at=r["created_at"],
                    total=Decimal(r["valor_total"]),
                    operador=r["operador"],
                    cpf=r["cpf"],
                    ref=r["ref"],
                    document_id=int(r["document_id"]),
                    kind=r["kind"],
                    status=r["status"],
                    serie=r["serie"],
                    numero=r["numero"],
                    chave=r["chave"],
                    pagamentos=_payments_text(r["pags"]),
                    cancel_restante=int(left.total_seconds()) if left is not None else None,
                    operador_nome=r["operador_nome"],
                    cnpj=r["cnpj"],
                    modelo=int(r["modelo"] or 65),
                )
            )
        return rows

    def totals(self, f: HistoryFilter) -> tuple[int, Decimal]:
        """Every sale the filter matches (all pages): how many, and their total without cancelled ones."""
        where, params = self._where(f)
        sql = (
            f"SELECT s.valor_total, d.status FROM sales s JOIN fiscal_documents d ON d.id = {_CURRENT_DOC} "
            "LEFT JOIN users u ON u.id = s.operador_id"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        count, total = 0, Decimal("0.00")
        for db in self._sources(f):
            with db.lock:
                for valor, status in db.conn.execute(sql, params):
                    count += 1
                    if status != S.CANCELADO:
                        total += Decimal(valor)
        return count, total

    def _sources(self, f: HistoryFilter) -> list[Any]:
        """The live database and the yearly archives the filter's period reaches, newest first."""
        sources: list[Any] = [self.store.database]
        for year, db in archive_sources(self.ctx):
            if (f.de is None or year >= f.de.year) and (f.ate is None or year <= f.ate.year):
                sources.append(db)
        return sources

    def _where(self, f: HistoryFilter) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        # Dates are stored as local-time ISO text: a day is the range [day, next day) of the index.
        if f.de is not None:
            where.append("s.created_at >= ?")
            params.append(f.de.isoformat())
        if f.ate is not None:
            where.append("s.created_at < ?")
            params.append((f.ate + timedelta(days=1)).isoformat())
        if f.status:
            states = [st for g in f.status for st in STATUS_GROUPS[G(g)]]
            where.append(f"d.status IN ({', '.join('?' for _ in states)})")
            params.extend(states)
        if f.numero is not None or f.serie is not None:
            # Any note of the sale (online or contingency) with that number: served by idx_docs_numero.
            cond = []
            if f.numero is not None:
                cond.append("x.numero = ?")
                params.append(f.numero)
            if f.serie is not None:
                cond.append("x.serie = ?")
                params.append(f.serie)
            where.append(f"s.id IN (SELECT x.sale_id FROM fiscal_documents x WHERE {' AND '.join(cond)})")
        if f.chave:
            digits = chave_chars(f.chave)
            if len(digits) == 44:  # the whole key: one index look-up
                where.append("s.id IN (SELECT x.sale_id FROM fiscal_documents x WHERE x.chave = ?)")
                params.append(digits)
            else:  # part of a key: scans the keys (narrow it with a date range)
                where.append(
                    "EXISTS (SELECT 1 FROM fiscal_documents x WHERE x.sale_id = s.id AND x.chave LIKE ?)"
                )
                params.append(f"%{digits}%")
        if f.cpf:
            where.append("s.cpf = ?")
            params.append(only_digits(f.cpf))
        if f.operador:
            where.append("u.codigo = ?")
            params.append(f.operador)
        return where, params

    def detail(self, ref: str, now: datetime | None = None) -> dict[str, Any]:
        """The sale behind ``ref`` with every document, its state transitions and API answers."""
        now = now or self.ctx.now()
        doc, src = self._locate(ref)
        sale = src.sales.get(int(doc["sale_id"]))
        assert sale is not None
        operador = src.operator(sale["operador_id"])
        documents = []
        for d in src.documents.for_sale(int(sale["id"])):
            events = []
            for e in src.documents.events(int(d["id"])):
                events.append(
                    {
                        "quando": e["at"],
                        "de": e["from_status"],
                        "para": e["to_status"],
                        "http": e["http_status"],
                        "nota": e["note"],
                        "resposta": _json_or_text(e["response"]),
                    }
                )
            left = remaining(d, now)
            documents.append(
                {
                    "id": d["id"],
                    "ref": d["ref"],
                    "tipo": d["kind"],
                    "status": d["status"],
                    "situacao": STATUS_LABELS.get(d["status"], d["status"]),
                    "serie": d["serie"],
                    "numero": d["numero"],
                    "chave": d["chave"],
                    "protocolo": d["protocolo"],
                    "data_emissao": d["data_emissao"],
                    "data_autorizacao": d["data_autorizacao"],
                    "status_sefaz": d["status_sefaz"],
                    "mensagem_sefaz": d["mensagem_sefaz"],
                    "xml": d["xml_path"],
                    "danfce": d["receipt_path"],
                    "cancelamento_restante_segundos": int(left.total_seconds()) if left is not None else None,
                    "eventos": events,
                }
            )
        intents = src.database.query(
            "SELECT ci.*, d.ref FROM cancel_intents ci JOIN fiscal_documents d ON d.id = ci.document_id "
            "WHERE d.sale_id = ? ORDER BY ci.id",
            [sale["id"]],
        )
        refs = [d["ref"] for d in documents]
        audit = [e.to_json() for r in refs for e in self.audit.entries(target=r)]
        return {
            "venda": {
                "id": sale["id"],
                "data": sale["created_at"],
                "operador": operador[0] if operador else None,
                "operador_nome": operador[1] if operador else None,
                "cpf": sale["cpf"],
                "cnpj": sale["cnpj"],
                "valor_produtos": sale["valor_produtos"],
                "desconto": sale["valor_desconto"],
                "total": sale["valor_total"],
                "pago": sale["total_pago"],
                "troco": sale["troco"],
                "caixa": sale.get("cash_session_id"),
                "itens": [
                    {
                        "n": i["numero_item"],
                        "codigo": i["codigo"],
                        "descricao": i["descricao"],
                        "quantidade": i["quantidade"],
                        "unitario": i["valor_unitario"],
                        "total": i["valor_bruto"],
                        "desconto": i["valor_desconto"],
                    }
                    for i in sale["items"]
                ],
                "pagamentos": [
                    {
                        "forma": p["forma"],
                        "descricao": PAYMENT_METHODS.get(p["forma"], p["forma"]),
                        "valor": p["valor"],
                    }
                    | (
                        {"end_to_end_id": p["numero_autorizacao"], "cnpj_psp": p["cnpj_credenciadora"]}
                        if p["forma"] == "17" and p["numero_autorizacao"]
                        else {}
                    )
                    for p in sale["payments"]
                ],
            },
            "ref_atual": documents[-1]["ref"] if documents else None,
            "documentos": documents,
            "econf": events_for_documents(src.database, [int(d["id"]) for d in documents]),
            "cancelamentos_agendados": [
                {
                    "ref": i["ref"],
                    "justificativa": i["justificativa"],
                    "status": i["status"],
                    "pedido_em": i["requested_at"],
                    "executado_em": i["executed_at"],
                }
                for i in intents
            ],
            "auditoria": audit,
            "arquivo": src.year,  # the yearly archive holding the sale (None: the live database)
        }

    def _locate(self, ref: str) -> tuple[dict[str, Any], _Source]:
        """The document behind ``ref`` (or a key) in the live database, else in a yearly archive."""
        live = _Source(self.store.sales, self.store.documents, self.store.database, None, self.store)
        try:
            doc = self.store.documents.by_ref(ref.strip()) or CancellationService(self.ctx).resolve(ref)
            return doc, live
        except ManagerError:
            digits = only_digits(ref)
            for year, db in archive_sources(self.ctx):
                documents = DocumentsRepo(db)
                found = documents.by_ref(ref.strip())
                if found is None and len(digits) == 44:
                    found = unpack_row(
                        db.query_one("SELECT * FROM fiscal_documents WHERE chave = ?", [digits]), "payload"
                    )
                if found is not None:
                    return found, _Source(SalesRepo(db), documents, db, year, None)
            raise

    def consult(self, ref: str, user: User | None = None, now: datetime | None = None) -> dict[str, Any]:
        """Ask the API about ``ref`` again; record the answer in the document's history.

        Only an API-side cancellation is applied to the local state here; authorizations of pending
        notes are settled by the replay (``pos-app sync``), which knows how to finish them.
        """
        now = now or self.ctx.now()
        doc, src = self._locate(ref)
        if src.year is not None:
            raise ManagerError(
                f"A nota {doc['ref']} está no arquivo de {src.year} (ano encerrado, somente leitura): "
                "não é consultada de novo.",
                field="ref",
            )
        doc_id = int(doc["id"])
        try:
            result = doc_api(self.ctx, doc).consult(doc["ref"], priority=Priority.LIVE)
        except FocusError as exc:
            self.audit.record(
                "consulta", user=user, target=doc["ref"], outcome=FAILED, details={"erro": str(exc)}, now=now
            )
            raise ManagerError(f"Consulta não realizada: {exc}") from exc
        if result is None:
            self.store.documents.transition(
                doc_id,
                doc["status"],
                http_status=404,
                note="consulta manual: a API não conhece esta referência",
            )
            self.audit.record(
                "consulta",
                user=user,
                target=doc["ref"],
                outcome=OK,
                details={"api": "não encontrada"},
                now=now,
            )
            return {
                "ref": doc["ref"],
                "local": doc["status"],
                "api": None,
                "mensagem": "A API não conhece esta referência (nunca chegou a ela).",
            }
        new_status = doc["status"]
        fields: dict[str, Any] = {}
        if result.status == F.CANCELADO and doc["status"] != S.CANCELADO:
            new_status = S.CANCELADO
            fields = {
                "status_sefaz": result.status_sefaz,
                "mensagem_sefaz": result.mensagem_sefaz,
                "caminho_xml_cancelamento": result.caminho_xml_cancelamento,
            }
        self.store.documents.transition(
            doc_id,
            new_status,
            http_status=result.http_status,
            response=result.raw,
            note=f"consulta manual: API diz {result.status}",
            **fields,
        )
        self.audit.record(
            "consulta",
            user=user,
            target=doc["ref"],
            outcome=OK,
            details={"api": result.status, "local": new_status},
            now=now,
        )
        mensagem = f"API: {result.status}"
        if result.status_sefaz:
            mensagem += f" (SEFAZ {result.status_sefaz}: {result.mensagem_sefaz})"
        if result.status == F.AUTORIZADO and doc["status"] != S.AUTORIZADO:
            mensagem += (
                ". Local: " + STATUS_LABELS.get(doc["status"], doc["status"]) + " — rode 'pos-app sync'."
            )
        return {
            "ref": doc["ref"],
            "local": new_status,
            "api": result.status,
            "status_sefaz": result.status_sefaz,
            "mensagem_sefaz": result.mensagem_sefaz,
            "resposta": result.raw,
            "mensagem": mensagem,
        }

    def xml_file(self, ref: str, cancelamento: bool = False) -> Path:
        """Path of the note's XML (or its cancellation XML), downloaded now when not on disk."""
        doc, src = self._locate(ref)
        if not cancelamento and doc["xml_path"] and Path(doc["xml_path"]).exists():
            return Path(doc["xml_path"])
        remote = doc["caminho_xml_cancelamento"] if cancelamento else doc["caminho_xml"]
        if not remote:
            raise ManagerError(
                "XML ainda não disponível: a nota não foi autorizada"
                + (" nem cancelada." if cancelamento else "."),
                field="ref",
            )
        try:
            content = doc_api(self.ctx, doc).download(remote, priority=Priority.LIVE)
        except FocusError as exc:
            raise ManagerError(f"Não foi possível baixar o XML: {exc}") from exc
        from pos_app.core.services.xml_archive import store_xml, write_xml

        if not cancelamento and src.year is None:  # an archive is read-only: the file is enough
            return store_xml(self.ctx, doc, content)
        return write_xml(self.ctx, doc, content, cancelamento=cancelamento)


@dataclass
class _Source:
    """Where a sale lives: the live database (year None) or a read-only yearly archive."""

    sales: SalesRepo
    documents: DocumentsRepo
    database: Any
    year: int | None
    store: Any

    def operator(self, user_id: int | None) -> tuple[str, str] | None:
        if not user_id:
            return None
        if self.store is not None:
            user = self.store.users.get(int(user_id))
            return (user.codigo, user.nome) if user else None
        row = self.database.query_one("SELECT codigo, nome FROM users WHERE id = ?", [user_id])
        return (row["codigo"], row["nome"]) if row else None


def archive_sources(ctx: AppContext) -> list[tuple[int, Any]]:
    """The terminal's yearly archives (read-only, kept open on the context), newest year first."""
    archives = getattr(ctx, "archives", None)
    if archives is None:
        from pos_app.core.store.archive import Archives

        archives = ctx.archives = Archives(ctx.data_dir)
    return [(year, db) for year in archives.years() if (db := archives.get(year)) is not None]


def _payments_text(text: str | None) -> str:
    if not text:
        return ""
    parts = []
    for chunk in text.split(";"):
        forma, _, rest = chunk.partition(":")
        valor, _, e2e = rest.partition(":")
        parts.append(
            f"{PAYMENT_METHODS.get(forma, forma)} {Decimal(valor):.2f}" + (f" (E2E {e2e})" if e2e else "")
        )
    return ", ".join(parts)


def _json_or_text(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value
