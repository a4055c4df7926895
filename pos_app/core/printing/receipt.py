"""DANFCe (NFC-e consumer receipt): the data it shows and the one layout model every renderer uses.

``ReceiptData`` is filled by the services layer (plain values, no domain classes).
``build_layout(data, columns)`` turns it into a flat list of blocks laid out on a grid of ``columns``
monospace character cells (48 or 42 on 80 mm paper, 32 on 58 mm). Every block is already wrapped:
a ``Text`` is exactly one printed line and no block is wider than ``columns`` cells, so a thermal
ESC/POS renderer can print the blocks one by one and the PDF renderer can place them on the same grid.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from .formatting import (
    NBSP,
    balanced_wrap,
    clean_text,
    format_chave,
    format_cnpj,
    format_datetime,
    format_money,
    format_quantity,
    format_unit_value,
    only_digits,
    squash,
    wrap,
    wrap_url,
)

__all__ = [
    "MIN_COLUMNS",
    "Align",
    "Block",
    "Columns",
    "Cut",
    "ItemLine",
    "QRCode",
    "ReceiptData",
    "ReceiptEmitente",
    "ReceiptItem",
    "ReceiptPayment",
    "Separator",
    "Size",
    "Spacer",
    "Text",
    "block_lines",
    "build_layout",
    "iter_lines",
    "render_text",
]

MIN_COLUMNS = 32  # 58 mm paper, font A: the narrowest roll accepted for a DANFCe

TEXT_DANFE = "Documento Auxiliar da Nota Fiscal de Consumidor Eletrônica"
TEXT_SEM_CREDITO = "Não permite aproveitamento de crédito de ICMS"
TEXT_CONTINGENCIA = "EMITIDA EM CONTINGÊNCIA"
TEXT_PENDENTE = "Pendente de autorização"
TEXT_HOMOLOGACAO = "EMITIDA EM AMBIENTE DE HOMOLOGAÇÃO - SEM VALOR FISCAL"
TEXT_CONSULTE = "Consulte pela Chave de Acesso em"
TEXT_NAO_IDENTIFICADO = "CONSUMIDOR NÃO IDENTIFICADO"
TEXT_QR_INDISPONIVEL = "QR Code indisponível"
TEXT_TRIBUTOS = "Tributos Totais Incidentes (Lei Federal 12.741/2012): R$"
# NF-e model 55 printed at the counter (Ajuste SINIEF 12/2025): DANFE Simplificado - Varejo.
TEXT_DANFE_SIMPLIFICADO = "DANFE SIMPLIFICADO - VAREJO"
TEXT_DANFE_NFE = "Documento Auxiliar da Nota Fiscal Eletrônica"
TEXT_CONTINGENCIA_NFE = "EMITIDA EM CONTINGÊNCIA - PENDENTE DE AUTORIZAÇÃO"


# --------------------------------------------------------------------------- receipt data


@dataclass(frozen=True)
class ReceiptEmitente:
    razao_social: str
    nome_fantasia: str
    cnpj: str  # digits or already formatted
    inscricao_estadual: str
    endereco: str  # one line, e.g. "Rua X, 100 - Centro - Curitiba/PR - CEP 80000-000"


@dataclass(frozen=True)
class ReceiptItem:
    numero: int  # nItem, 1..990
    codigo: str
    descricao: str
    quantidade: Decimal
    unidade: str
    valor_unitario: Decimal
    valor_total: Decimal  # quantity x unit value (valor bruto)
    desconto: Decimal  # item discount (including apportioned sale discount); 0 when none


@dataclass(frozen=True)
class ReceiptPayment:
    descricao: str  # "Dinheiro", "Cartão de crédito", "PIX", ...
    valor: Decimal
    end_to_end_id: str | None = None  # dynamic PIX: the endToEndId the PSP confirmed
    pix_qr: str | None = None  # PIX BR Code (static: built locally; dynamic: pixCopiaECola), when asked


@dataclass(frozen=True)
class ReceiptData:
    emitente: ReceiptEmitente
    itens: Sequence[ReceiptItem]
    valor_produtos: Decimal
    valor_desconto: Decimal
    valor_total: Decimal  # valor a pagar (vNF)
    pagamentos: Sequence[ReceiptPayment]
    troco: Decimal
    chave: str | None  # 44 digits (a "NFe" prefix is tolerated)
    url_consulta: str  # urlChave of the state/environment
    qrcode_url: str | None
    qrcode_indisponivel_motivo: str | None  # printed instead of the QR code when qrcode_url is None
    consumidor_doc: str | None  # "CPF 123.456.789-09" / "CNPJ 12.345.678/0001-95"; None: not identified
    numero: int
    serie: int
    data_emissao: datetime  # aware; printed in its own offset
    protocolo: str | None
    data_autorizacao: datetime | None
    tributos_totais: Decimal
    homologacao: bool
    contingencia: bool  # tpEmis 9 (offline contingency issued by this POS)
    pendente_autorizacao: bool  # not yet transmitted/authorized
    via: str | None  # "Via Consumidor" / "Via Estabelecimento" (offline contingency: two copies)
    focus_contingencia: bool = False  # issued in offline contingency by the Focus API itself
    mensagem_extra: str | None = None  # "informações de interesse do contribuinte"
    modelo: int = 65  # 55: DANFE Simplificado - Varejo of an NF-e to a CNPJ buyer
    destinatario: Sequence[str] = ()  # NF-e: buyer's name, CNPJ/IE and address lines

    @property
    def em_contingencia(self) -> bool:
        return self.contingencia or self.focus_contingencia


# --------------------------------------------------------------------------- layout blocks

Align = Literal["left", "center", "right"]
# normal: 1x1 cell; tall: double height, normal width (ESC ! 0x10); double: double width and height.
Size = Literal["normal", "tall", "double"]


def _width_factor(size: Size) -> int:
    return 2 if size == "double" else 1


@dataclass(frozen=True)
class Text:
    """One printed line (already wrapped by ``build_layout``)."""

    text: str
    align: Align = "left"
    bold: bool = False
    size: Size = "normal"

    @property
    def cells(self) -> int:
        return len(self.text) * _width_factor(self.size)


@dataclass(frozen=True)
class Columns:
    """One line with ``left`` flush left and ``right`` flush right ("Valor total R$ .... 12,00")."""

    left: str
    right: str
    bold: bool = False
    size: Size = "normal"

    @property
    def cells(self) -> int:
        """Minimum width: both parts separated by one space."""
        return (len(self.left) + 1 + len(self.right)) * _width_factor(self.size)

    def line(self, columns: int) -> str:
        """The line on a grid of ``columns`` cells (in characters of this block's size)."""
        width = columns // _width_factor(self.size)
        gap = max(1, width - len(self.left) - len(self.right))
        return f"{self.left}{' ' * gap}{self.right}"


@dataclass(frozen=True)
class Separator:
    """A full-width rule."""

    char: str = "-"


@dataclass(frozen=True)
class ItemLine:
    """One item of the items table: its printed lines plus the item it came from."""

    item: ReceiptItem
    parts: tuple[Text | Columns, ...]


@dataclass(frozen=True)
class QRCode:
    data: str
    error_correction: Literal["L", "M", "Q", "H"] = "M"


@dataclass(frozen=True)
class Spacer:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    """End of the receipt: feed and (partial) cut on a thermal printer, end of page in a PDF."""


Block = Text | Columns | Separator | ItemLine | QRCode | Spacer | Cut


# --------------------------------------------------------------------------- builder


class _Builder:
    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.blocks: list[Block] = []

    def add(self, block: Block) -> None:
        self.blocks.append(block)

    def sep(self) -> None:
        self.blocks.append(Separator())

    def text(
        self,
        text: str,
        align: Align = "center",
        bold: bool = False,
        size: Size = "normal",
        balanced: bool = True,
    ) -> None:
        width = self.columns // _width_factor(size)
        for raw in text.splitlines() or [""]:
            # keep " - " separators at the end of a line, never at the start of the next one
            paragraph = squash(clean_text(raw)).replace(" - ", f"{NBSP}- ")
            if not paragraph:
                continue
            lines = balanced_wrap(paragraph, width) if balanced else wrap(paragraph, width)
            for line in lines:
                self.blocks.append(Text(line, align, bold, size))

    def lines(self, lines: Sequence[str], align: Align = "center", bold: bool = False) -> None:
        """Pre-split lines; each is still wrapped if it does not fit."""
        for line in lines:
            self.text(line, align=align, bold=bold, balanced=False)

    def pair(self, left: str, right: str, bold: bool = False, size: Size = "normal") -> None:
        self.blocks.extend(pair_blocks(left, right, self.columns, bold=bold, size=size))


def pair_blocks(
    left: str, right: str, columns: int, bold: bool = False, size: Size = "normal", indent: str = ""
) -> list[Text | Columns]:
    """``left .... right`` on one line; when too long, ``left`` wraps and ``right`` ends the last line
    (or gets a line of its own, flush right)."""
    width = columns // _width_factor(size)
    left = squash(clean_text(left))
    right = squash(clean_text(right))
    if len(indent) + len(left) + 1 + len(right) <= width:
        return [Columns(indent + left, right, bold, size)]
    lines = wrap(indent + left, width, indent) if left else []  # leading indent is kept by textwrap
    out: list[Text | Columns] = [Text(line, "left", bold, size) for line in lines]
    if lines and len(lines[-1]) + 1 + len(right) <= width:
        out[-1] = Columns(lines[-1], right, bold, size)
    else:
        out += [Text(line, "right", bold, size) for line in wrap(right, width)]
    return out


def _pix_caption(payment: ReceiptPayment) -> str:
    """The line under a PIX QR: the endToEndId of a dynamic charge, the store key of a static one."""
    valor = f"R$\N{NO-BREAK SPACE}{format_money(payment.valor)}"
    if payment.end_to_end_id:
        return f"Pagamento PIX {valor} - E2E {payment.end_to_end_id}"
    return f"Pagamento PIX estático {valor} - chave da loja"


def _chave_lines(chave: str, columns: int) -> list[str]:
    groups = format_chave(chave).split()
    per_line = max(1, (columns + 1) // 5)  # "dddd " per group
    n_lines = -(-len(groups) // per_line)
    per_line = -(-len(groups) // n_lines)  # balance: 6 + 5 rather than 9 + 2
    return [" ".join(groups[i : i + per_line]) for i in range(0, len(groups), per_line)]


def _homologacao_lines(columns: int) -> list[str]:
    first, second = TEXT_HOMOLOGACAO.split(" - ")
    if len(first) + 2 <= columns:
        return [f"{first} -", second]
    return balanced_wrap(TEXT_HOMOLOGACAO.replace(" - ", f"{NBSP}- "), columns)


def _item_blocks(item: ReceiptItem, columns: int) -> ItemLine:
    indent = "    "
    head = clean_text(f"{item.numero:03d} {item.codigo} {item.descricao}".strip())
    parts: list[Text | Columns] = [Text(line) for line in wrap(squash(head), columns, indent)]
    detail = (
        f"{format_quantity(item.quantidade)} {clean_text(item.unidade).strip()} x "
        f"{format_unit_value(item.valor_unitario)}"
    )
    parts += pair_blocks(detail, format_money(item.valor_total), columns, indent=indent)
    if item.desconto > 0:
        parts += pair_blocks("Desconto R$", f"-{format_money(item.desconto)}", columns, indent=indent)
    return ItemLine(item, tuple(parts))


def _doc_line(data: ReceiptData) -> list[str]:
    sigla = "NF-e" if data.modelo == 55 else "NFC-e"
    numero = f"{sigla} nº {data.numero:09d} Série {data.serie:03d}"
    return [numero, format_datetime(data.data_emissao)]


def build_layout(data: ReceiptData, columns: int = 48) -> list[Block]:
    """The DANFCe as a list of blocks, every line fitting in ``columns`` characters.

    Sections, in order: emitente; DANFCe title, fiscal messages (homologation, contingency, pending
    authorization) and the via label; items; totals; payments and troco; consultation URL and access
    key; consumer; number/series/date and authorization protocol; QR code (or why it is missing);
    approximate taxes (Lei 12.741/2012); optional message; homologation notice again; cut.
    """
    if columns < MIN_COLUMNS:
        raise ValueError(f"A bobina precisa de pelo menos {MIN_COLUMNS} colunas (recebido: {columns}).")
    b = _Builder(columns)
    e = data.emitente

    # 1. Emitente
    b.text(e.razao_social, bold=True)
    if e.nome_fantasia.strip() and e.nome_fantasia.strip().casefold() != e.razao_social.strip().casefold():
        b.text(e.nome_fantasia)
    cnpj = f"CNPJ: {format_cnpj(e.cnpj)}"
    ie = f"IE: {e.inscricao_estadual.strip()}" if e.inscricao_estadual.strip() else ""
    if ie and len(cnpj) + 1 + len(ie) <= columns:
        b.text(f"{cnpj} {ie}", balanced=False)
    else:
        b.lines([cnpj, ie] if ie else [cnpj])
    b.text(e.endereco.replace("CEP ", f"CEP{NBSP}"))  # never "CEP" alone at the end of a line
    b.sep()

    # 2. Title and fiscal messages
    if data.modelo == 55:
        b.text(TEXT_DANFE_SIMPLIFICADO, bold=True, size="tall")
        b.text(TEXT_DANFE_NFE)
        b.text("0 - ENTRADA  1 - SAÍDA: 1", balanced=False)
    else:
        b.text(TEXT_DANFE, bold=True)
        b.text(TEXT_SEM_CREDITO)
    if data.homologacao:
        b.add(Spacer())
        b.lines(_homologacao_lines(columns), bold=True)
    if data.em_contingencia:
        b.add(Spacer())
        # NF-e generated beforehand: one combined notice while pending; once authorized, the reprint
        # keeps "EMITIDA EM CONTINGÊNCIA" (the tpEmis of its key) without "pendente"
        nfe_pending = data.modelo == 55 and data.pendente_autorizacao
        b.text(TEXT_CONTINGENCIA_NFE if nfe_pending else TEXT_CONTINGENCIA, bold=True, size="tall")
    if data.pendente_autorizacao and not (data.modelo == 55 and data.em_contingencia):
        b.text(TEXT_PENDENTE, bold=True)
    if data.via:
        b.add(Spacer())
        b.text(data.via, bold=True)
    b.sep()

    # 3. Items
    b.add(Text("#   CÓDIGO DESCRIÇÃO", bold=True))
    detail_header = (
        ("QTDE UN x VL UNIT R$", "VL TOTAL R$") if columns >= 40 else ("QTD UN x VL UN", "VL TOTAL R$")
    )
    b.blocks.extend(pair_blocks(*detail_header, columns, bold=True, indent="    "))
    b.sep()
    for item in data.itens:
        b.add(_item_blocks(item, columns))
    b.sep()

    # 4. Totals
    b.pair("Qtde. total de itens", str(len(data.itens)))
    b.pair("Valor total R$", format_money(data.valor_produtos))
    if data.valor_desconto > 0:
        b.pair("Descontos R$", format_money(data.valor_desconto))
    b.pair("Valor a pagar R$", format_money(data.valor_total), bold=True, size="tall")

    # 5. Payments
    b.pair("FORMA PAGAMENTO", "VALOR PAGO R$", bold=True)
    for payment in data.pagamentos:
        b.pair(payment.descricao, format_money(payment.valor))
        if payment.end_to_end_id:
            b.text(f"ID PIX (E2E): {payment.end_to_end_id}", align="left")
    b.pair("Troco R$", format_money(data.troco))
    for payment in data.pagamentos:
        if payment.pix_qr:
            b.add(Spacer())
            b.add(QRCode(payment.pix_qr))
            b.text(_pix_caption(payment), bold=True)
    b.sep()

    # 6. Consultation by access key
    b.text(TEXT_CONSULTE, bold=True)
    if data.url_consulta.strip():
        b.lines(wrap_url(squash(clean_text(data.url_consulta)), columns))
    if data.chave:
        b.lines(_chave_lines(data.chave, columns))
    b.sep()

    # 7. Consumer (NF-e: the buyer's identification and address)
    if data.modelo == 55 and data.destinatario:
        b.text("DESTINATÁRIO", bold=True)
        for line in data.destinatario:
            b.text(line, align="left")
    elif data.consumidor_doc and only_digits(data.consumidor_doc):
        doc = squash(clean_text(data.consumidor_doc)).replace(" ", NBSP)  # "CPF 123..." stays together
        b.text(f"CONSUMIDOR - {doc}", bold=True)
    else:
        b.text(TEXT_NAO_IDENTIFICADO, bold=True)
    b.sep()

    # 8. Identification and protocol
    numero, emissao = _doc_line(data)
    if len(numero) + 1 + len(emissao) <= columns:
        b.text(f"{numero} {emissao}", bold=True, balanced=False)
    else:
        b.lines([numero, emissao], bold=True)
    if data.protocolo:
        b.text(f"Protocolo de autorização: {data.protocolo.strip()}")
        if data.data_autorizacao is not None:
            b.text(
                f"Data de autorização: {format_datetime(data.data_autorizacao, data.data_emissao)}",
            )

    # 9. QR code
    b.add(Spacer())
    if data.qrcode_url:
        b.add(QRCode(data.qrcode_url))
    else:
        b.text(data.qrcode_indisponivel_motivo or TEXT_QR_INDISPONIVEL, bold=True)
    b.add(Spacer())

    # 10. Approximate taxes, message, closing notices
    # keeps "(Lei Federal 12.741/2012):" and "R$ 12,34" each on one line
    law, currency = TEXT_TRIBUTOS.removesuffix(" R$").split(" (")[1], "R$"
    head = TEXT_TRIBUTOS.split(" (")[0]
    b.text(f"{head} ({law.replace(' ', NBSP)} {currency}{NBSP}{format_money(data.tributos_totais)}")
    if data.mensagem_extra and data.mensagem_extra.strip():
        b.sep()
        b.text(data.mensagem_extra)
    if data.homologacao:
        b.sep()
        b.lines(_homologacao_lines(columns), bold=True)
    if data.via:
        b.text(data.via)
    b.add(Cut())
    return b.blocks


# --------------------------------------------------------------------------- plain-text view


def iter_lines(blocks: Sequence[Block]) -> Iterator[Text | Columns]:
    """Every ``Text``/``Columns`` line, item lines flattened (handy for renderers and checks)."""
    for block in blocks:
        if isinstance(block, ItemLine):
            yield from block.parts
        elif isinstance(block, Text | Columns):
            yield block


def block_lines(block: Block, columns: int) -> list[str]:
    """The block as plain text on a ``columns`` grid (double-width text is shown at single width)."""
    if isinstance(block, Text):
        width = columns // _width_factor(block.size)
        if block.align == "center":
            return [(" " * ((width - len(block.text)) // 2) + block.text).rstrip()]
        if block.align == "right":
            return [block.text.rjust(width)]
        return [block.text.rstrip()]
    if isinstance(block, Columns):
        return [block.line(columns)]
    if isinstance(block, Separator):
        return [block.char * columns]
    if isinstance(block, ItemLine):
        return [line for part in block.parts for line in block_lines(part, columns)]
    if isinstance(block, QRCode):
        return ["[QR Code]".center(columns).rstrip()]
    if isinstance(block, Spacer):
        return [""] * block.lines
    return []  # Cut


def render_text(blocks: Sequence[Block], columns: int) -> str:
    """The whole layout as plain text (logs, previews, tests)."""
    return "\n".join(line for block in blocks for line in block_lines(block, columns))
