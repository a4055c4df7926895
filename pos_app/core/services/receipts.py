"""DANFCe for a stored fiscal document: layout data, PDF file kept with the sale."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_app.core.domain.validators import format_cnpj, format_cpf
from pos_app.core.fiscal import document_status as ds
from pos_app.core.fiscal.nfe_rules import NFE_PORTAL_CONSULTA, nfe_consulta_url
from pos_app.core.printing.pdf import render_pdf
from pos_app.core.printing.receipt import ReceiptData, ReceiptEmitente, ReceiptItem

if TYPE_CHECKING:
    from pos_app.core.services.context import AppContext

CONTINGENCY_PENDING = ds.CONTINGENCY_OPEN


class ReceiptService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def copies_for_document(self, doc_id: int) -> list[ReceiptData]:
        doc = self.ctx.store.documents.get(doc_id)
        if doc is None:
            raise KeyError(f"documento {doc_id} não encontrado")
        sale = self.ctx.store.sales.get(int(doc["sale_id"]))
        if sale is None:
            raise KeyError(f"venda {doc['sale_id']} não encontrada")
        return self.copies_for(doc, sale)

    def copies_for(self, doc: dict[str, Any], sale: dict[str, Any]) -> list[ReceiptData]:
        """The copies of a document and its sale (this terminal's, or another checkout's from the store)."""
        data = self.receipt_data(doc, sale)
        own_pending = doc["kind"] == "contingencia" and doc["status"] in CONTINGENCY_PENDING
        focus_pending = bool(doc["focus_contingencia"]) and not doc["focus_contingencia_efetivada"]
        if own_pending or focus_pending:
            # Offline contingency (ours or Focus's, tpEmis 9) not yet transmitted: one copy for the
            # customer, one kept by the store until the note is authorized.
            return [
                _with_via(data, "Via Consumidor"),
                _with_via(data, "Via Estabelecimento"),
            ]
        return [data]

    def receipt_data(self, doc: dict[str, Any], sale: dict[str, Any]) -> ReceiptData:
        emitente = self.ctx.emitente()
        endereco = (
            f"{emitente.logradouro}, {emitente.numero} - {emitente.bairro} - "
            f"{emitente.municipio}/{emitente.uf} - CEP {emitente.cep[:5]}-{emitente.cep[5:]}"
        )
        itens = [
            ReceiptItem(
                numero=int(i["numero_item"]),
                codigo=i["codigo"],
                descricao=i["descricao"],
                quantidade=Decimal(i["quantidade"]),
                unidade=i["unidade"],
                valor_unitario=Decimal(i["valor_unitario"]),
                valor_total=Decimal(i["valor_bruto"]),
                desconto=Decimal(i["valor_desconto"]),
            )
            for i in sale["items"]
        ]
        from pos_app.core.pix.receipt import receipt_payment

        pagamentos = [receipt_payment(self.ctx, p) for p in sale["payments"]]
        consumidor = None
        if sale["cpf"]:
            consumidor = f"CPF {format_cpf(sale['cpf'])}"
        elif sale["cnpj"]:
            consumidor = f"CNPJ {format_cnpj(sale['cnpj'])}"
        contingency = doc["kind"] == "contingencia"
        pending = contingency and doc["status"] in CONTINGENCY_PENDING
        motivo = None
        if not doc["qrcode_url"]:
            motivo = (
                "QR Code indisponível em contingência: sem certificado digital A1 válido para assiná-lo. "
                "Consulte a nota pela chave de acesso."
                if contingency
                else "QR Code indisponível."
            )
        modelo = int(doc.get("modelo") or 65)
        destinatario: list[str] = []
        qrcode_url = doc["qrcode_url"]
        url_consulta = doc["url_consulta"] or ""
        if modelo == 55:
            destinatario = _destinatario_lines(doc, self.ctx.store.clientes.get(sale["cnpj"] or ""))
            if doc["chave"]:  # the QR Code opens the key's summary on the national NF-e portal
                qrcode_url = qrcode_url or nfe_consulta_url(doc["chave"])
                url_consulta = NFE_PORTAL_CONSULTA
            motivo = None if qrcode_url else "QR Code disponível após a autorização da NF-e."
        data_aut = _parse_dt(doc["data_autorizacao"])
        return ReceiptData(
            emitente=ReceiptEmitente(
                razao_social=emitente.razao_social,
                nome_fantasia=emitente.nome_fantasia,
                cnpj=emitente.cnpj,
                inscricao_estadual=emitente.inscricao_estadual,
                endereco=endereco,
            ),
            itens=itens,
            valor_produtos=Decimal(sale["valor_produtos"]),
            valor_desconto=Decimal(sale["valor_desconto"]),
            valor_total=Decimal(sale["valor_total"]),
            pagamentos=pagamentos,
            troco=Decimal(sale["troco"]),
            chave=doc["chave"],
            url_consulta=url_consulta,
            qrcode_url=qrcode_url,
            qrcode_indisponivel_motivo=motivo,
            consumidor_doc=consumidor,
            numero=int(doc["numero"] or 0),
            serie=int(doc["serie"] or 0),
            data_emissao=datetime.fromisoformat(doc["data_emissao"]),
            protocolo=doc["protocolo"],
            data_autorizacao=data_aut,
            tributos_totais=Decimal(sale["valor_tributos"]),
            homologacao=doc["ambiente"] != "producao",
            contingencia=contingency or bool(doc["focus_contingencia"]),
            pendente_autorizacao=pending
            or (bool(doc["focus_contingencia"]) and not doc["focus_contingencia_efetivada"]),
            via=None,
            focus_contingencia=bool(doc["focus_contingencia"]),
            mensagem_extra=None,
            modelo=modelo,
            destinatario=destinatario,
        )

    def render_for_document(self, doc_id: int, width_mm: int | None = None) -> Path:
        """Render the DANFCe PDF of a document and remember its path with the document."""
        doc = self.ctx.store.documents.get(doc_id)
        assert doc is not None
        width = width_mm or int(self.ctx.config.get("impressora.largura_mm") or 80)
        month = str(doc["data_emissao"])[:7]
        folder = self.ctx.receipts_dir() / month
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{doc['ref']}.pdf"
        render_pdf(self.copies_for_document(doc_id), path, width_mm=width)
        self.ctx.store.documents.update(doc_id, receipt_path=str(path))
        return path


def last_issued_document_id(ctx: AppContext) -> int | None:
    """The newest NFC-e (authorized or contingency) of this terminal, for "reprint the last receipt"."""
    return ctx.store.documents.latest_current_id()


def _with_via(data: ReceiptData, via: str) -> ReceiptData:
    from dataclasses import replace

    return replace(data, via=via)


def _parse_dt(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _destinatario_lines(doc: dict[str, Any], cliente: Any) -> list[str]:
    """Buyer block of the DANFE Simplificado: name, CNPJ and IE, address (customer list, else payload)."""
    from pos_app.core.store.packed import load_json

    p = load_json(doc["payload"]) or {}
    nome = cliente.nome if cliente is not None else str(p.get("nome_destinatario") or "")
    cnpj = str(p.get("cnpj_destinatario") or (cliente.documento if cliente else ""))
    ie = str(p.get("inscricao_estadual_destinatario") or "")
    ind = str(p.get("indicador_inscricao_estadual_destinatario") or "9")
    ie_text = f"IE: {ie}" if ie else ("IE: ISENTO" if ind == "2" else "Não contribuinte do ICMS")
    endereco = (
        f"{p.get('logradouro_destinatario', '')}, {p.get('numero_destinatario', '')} - "
        f"{p.get('bairro_destinatario', '')} - {p.get('municipio_destinatario', '')}/"
        f"{p.get('uf_destinatario', '')}"
    )
    return [nome, f"CNPJ: {format_cnpj(cnpj)} {ie_text}" if cnpj else ie_text, endereco]
