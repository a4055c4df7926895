"""A realistic sample DANFCe, for the printer test page and for tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from .receipt import ReceiptData, ReceiptEmitente, ReceiptItem, ReceiptPayment

__all__ = ["sample_receipt"]

_PRODUCTS: list[tuple[str, str, str, str, str]] = [
    # codigo, descricao, quantidade, unidade, valor_unitario
    ("7891000100103", "ARROZ BRANCO TIPO 1 PACOTE 5KG", "1", "UN", "27.90"),
    ("7896004000855", "FEIJÃO CARIOCA TIPO 1 1KG", "2", "UN", "8.49"),
    ("7891910000197", "AÇÚCAR REFINADO UNIÃO 1KG", "1", "UN", "5.29"),
    ("2000001", "PÃO FRANCÊS", "0.365", "KG", "16.90"),
    ("7894900011517", "REFRIGERANTE COCA-COLA ORIGINAL GARRAFA PET 2 LITROS", "3", "UN", "10.99"),
    ("7891149103102", "CAFÉ TORRADO E MOÍDO TRADICIONAL ALMOFADA 500G", "1", "UN", "19.98"),
    ("7898080640017", "LEITE UHT INTEGRAL 1L", "12", "UN", "4.79"),
    ("2000002", "MUÇARELA FATIADA", "0.2475", "KG", "54.90"),
    ("7891150027930", "SABÃO EM PÓ 1,6KG", "1", "UN", "21.45"),
    ("7896036090244", "ÓLEO DE SOJA 900ML", "2", "UN", "7.39"),
]

_CENT = Decimal("0.01")


def _dv(digits43: str) -> int:
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(reversed(digits43)))
    r = total % 11
    return 0 if r in (0, 1) else 11 - r


def _chave(cnpj: str, emissao: datetime, serie: int, numero: int, tp_emis: int, cnf: str) -> str:
    base = f"41{emissao:%y%m}{cnpj}65{serie:03d}{numero:09d}{tp_emis}{cnf}"
    return base + str(_dv(base))


def sample_receipt(
    *,
    n_items: int = 10,
    homologacao: bool = True,
    contingencia: bool = False,
    consumidor_doc: str | None = None,
    via: str | None = None,
    with_qrcode: bool = True,
    desconto_item: Decimal = Decimal("0"),
) -> ReceiptData:
    """A Curitiba/PR supermarket receipt with up to 10 (cycled beyond) items.

    ``contingencia=True`` gives an offline-contingency note (tpEmis 9, pending, no protocol).
    ``with_qrcode=False`` leaves ``qrcode_url`` empty with the "no certificate" reason.
    """
    emitente = ReceiptEmitente(
        razao_social="MERCADO BOA VISTA COMÉRCIO DE ALIMENTOS LTDA",
        nome_fantasia="Mercado Boa Vista",
        cnpj="07504505000132",
        inscricao_estadual="9044016688",
        endereco="Rua Marechal Deodoro, 1250 - Centro - Curitiba/PR - CEP 80060-010",
    )
    itens: list[ReceiptItem] = []
    for i in range(n_items):
        codigo, descricao, qtd, un, unit = _PRODUCTS[i % len(_PRODUCTS)]
        quantidade, valor_unitario = Decimal(qtd), Decimal(unit)
        total = (quantidade * valor_unitario).quantize(_CENT, ROUND_HALF_UP)
        desconto = desconto_item if i == 0 else Decimal("0")
        itens.append(ReceiptItem(i + 1, codigo, descricao, quantidade, un, valor_unitario, total, desconto))
    valor_produtos = sum((it.valor_total for it in itens), Decimal("0"))
    valor_desconto = sum((it.desconto for it in itens), Decimal("0"))
    valor_total = valor_produtos - valor_desconto
    pago_dinheiro = (valor_total / 50).to_integral_value(rounding=ROUND_CEILING) * 50
    pagamentos = [
        ReceiptPayment("Cartão de débito", Decimal("20.00")),
        ReceiptPayment("Dinheiro", pago_dinheiro),
    ]
    troco = pago_dinheiro + Decimal("20.00") - valor_total

    brt = timezone(timedelta(hours=-3))
    emissao = datetime(2025, 3, 14, 18, 42, 7, tzinfo=brt)
    serie, numero, tp_emis = (900, 57, 9) if contingencia else (1, 1305, 1)
    chave = _chave(emitente.cnpj, emissao, serie, numero, tp_emis, "51817822")
    tp_amb = 2 if homologacao else 1
    base = "http://www.fazenda.pr.gov.br/nfce/qrcode"
    if contingencia:
        assinatura = "kP3xM1o2Qm1pbmVudG8rZGUrdGVzdGUrZG8rUVIrQ29kZSt2MytvZmZsaW5l" * 5 + "=="
        qr = f"{base}?p={chave}|3|{tp_amb}|{emissao:%d}|{valor_total:.2f}|||{assinatura}"
    else:
        qr = f"{base}?p={chave}|3|{tp_amb}"
    return ReceiptData(
        emitente=emitente,
        itens=itens,
        valor_produtos=valor_produtos,
        valor_desconto=valor_desconto,
        valor_total=valor_total,
        pagamentos=pagamentos,
        troco=troco,
        chave=chave,
        url_consulta="http://www.fazenda.pr.gov.br/nfce/consulta",
        qrcode_url=qr if with_qrcode else None,
        qrcode_indisponivel_motivo=None
        if with_qrcode
        else "QR Code indisponível em contingência: certificado digital não configurado",
        consumidor_doc=consumidor_doc,
        numero=numero,
        serie=serie,
        data_emissao=emissao,
        protocolo=None if contingencia else "141250000660360",
        data_autorizacao=None if contingencia else emissao + timedelta(seconds=2),
        tributos_totais=(valor_total * Decimal("0.2143")).quantize(_CENT, ROUND_HALF_UP),
        homologacao=homologacao,
        contingencia=contingencia,
        pendente_autorizacao=contingencia,
        via=via,
        mensagem_extra="Obrigado pela preferência! Volte sempre.",
    )
