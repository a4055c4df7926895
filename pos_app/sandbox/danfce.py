"""The DANFCe page served at ``caminho_danfe`` (simple HTML, readable on screen)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape

from pos_app.core.domain.validators import format_cnpj, format_cpf
from pos_app.sandbox.companies import CompanyConfig
from pos_app.sandbox.validation import NoteInput

PAYMENT_LABELS = {
    "01": "Dinheiro",
    "02": "Cheque",
    "03": "Cartão de Crédito",
    "04": "Cartão de Débito",
    "05": "Crédito Loja",
    "10": "Vale Alimentação",
    "11": "Vale Refeição",
    "12": "Vale Presente",
    "13": "Vale Combustível",
    "15": "Boleto Bancário",
    "16": "Depósito Bancário",
    "17": "PIX",
    "20": "PIX estático",
    "18": "Transferência bancária",
    "19": "Programa de fidelidade",
    "90": "Sem pagamento",
    "99": "Outros",
}


@dataclass(frozen=True)
class DanfceInfo:
    chave: str
    numero: int
    serie: int
    dh_emi: datetime
    qrcode_url: str
    url_consulta: str
    homologacao: bool
    contingencia: bool
    protocolo: str | None = None
    dh_autorizacao: datetime | None = None


def brl(value: Decimal) -> str:
    text = f"{value:,.2f}"
    return "R$ " + text.replace(",", "X").replace(".", ",").replace("X", ".")


def qty(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text.replace(".", ",")


def render_danfce(company: CompanyConfig, note: NoteInput, info: DanfceInfo) -> str:
    rows = "\n".join(
        "<tr><td>{cod}</td><td>{desc}</td><td class=n>{q}</td><td>{un}</td><td class=n>{vu}</td>"
        "<td class=n>{vt}</td></tr>".format(
            cod=escape(i.codigo_produto),
            desc=escape(i.descricao),
            q=qty(i.quantidade_comercial),
            un=escape(i.unidade_comercial),
            vu=brl(i.valor_unitario_comercial.quantize(Decimal("0.01"))),
            vt=brl(i.valor_bruto),
        )
        for i in note.items
    )
    payments = "\n".join(
        f"<tr><td>{escape(PAYMENT_LABELS.get(p.forma_pagamento, p.forma_pagamento))}</td>"
        f"<td class=n>{brl(p.valor_pagamento)}</td></tr>"
        for p in note.payments
    )
    if note.cpf_destinatario:
        consumer = f"CONSUMIDOR - CPF {format_cpf(note.cpf_destinatario)}"
    elif note.cnpj_destinatario:
        consumer = f"CONSUMIDOR - CNPJ {format_cnpj(note.cnpj_destinatario)}"
    else:
        consumer = "CONSUMIDOR NÃO IDENTIFICADO"
    key_groups = " ".join(info.chave[i : i + 4] for i in range(0, 44, 4))
    notices = []
    if info.homologacao:
        notices.append("EMITIDA EM AMBIENTE DE HOMOLOGAÇÃO - SEM VALOR FISCAL")
    if info.contingencia:
        notices.append("EMITIDA EM CONTINGÊNCIA")
        if info.protocolo is None:
            notices.append("Pendente de autorização")
    notice_html = "".join(f"<p class=aviso>{escape(n)}</p>" for n in notices)
    protocol_html = (
        f"<p>Protocolo de autorização: {escape(info.protocolo)}<br>"
        f"Data de autorização: {info.dh_autorizacao:%d/%m/%Y %H:%M:%S}</p>"
        if info.protocolo and info.dh_autorizacao
        else ""
    )
    tributos = note.valor_total_tributos
    tributos_html = (
        f"<p>Tributos Totais Incidentes (Lei Federal 12.741/2012): {brl(tributos)}</p>" if tributos else ""
    )
    address = f"{company.logradouro}, {company.numero} - {company.bairro} - {company.municipio}/{company.uf}"
    return f"""<!DOCTYPE html>
<html lang="pt-BR"><head><meta charset="utf-8"><title>DANFCe {info.numero}</title>
<style>body{{font-family:monospace;max-width:42em;margin:1em auto}}table{{width:100%;border-collapse:collapse}}
td,th{{padding:2px 4px;text-align:left}}.n{{text-align:right}}.aviso{{font-weight:bold;text-align:center}}
h1,h2{{font-size:1em;text-align:center}}</style></head><body>
<h1>{escape(company.razao_social)}</h1>
<p>CNPJ {format_cnpj(company.cnpj)} IE {escape(company.inscricao_estadual)}<br>{escape(address)}</p>
<h2>Documento Auxiliar da Nota Fiscal de Consumidor Eletrônica</h2>
<p>Não permite aproveitamento de crédito de ICMS</p>
{notice_html}
<table><tr><th>Código</th><th>Descrição</th><th class=n>Qtde</th><th>Un</th><th class=n>Vl Unit</th>
<th class=n>Vl Total</th></tr>
{rows}
</table>
<table>
<tr><td>Qtde. total de itens</td><td class=n>{len(note.items)}</td></tr>
<tr><td>Valor total</td><td class=n>{brl(note.valor_produtos)}</td></tr>
<tr><td>Descontos</td><td class=n>{brl(note.valor_desconto)}</td></tr>
<tr><td><b>Valor a pagar</b></td><td class=n><b>{brl(note.valor_total)}</b></td></tr>
<tr><th>Forma de pagamento</th><th class=n>Valor pago</th></tr>
{payments}
<tr><td>Troco</td><td class=n>{brl(note.valor_troco)}</td></tr>
</table>
<p>Consulte pela Chave de Acesso em {escape(info.url_consulta)}<br><b>{key_groups}</b></p>
<p>{escape(consumer)}</p>
<p>NFC-e nº {info.numero:09d} Série {info.serie:03d} {info.dh_emi:%d/%m/%Y %H:%M:%S}</p>
{protocol_html}
<p>QR Code: <a href="{escape(info.qrcode_url)}">{escape(info.qrcode_url)}</a></p>
{tributos_html}
</body></html>
"""
