"""DANFCe layout model: sections, order, wrapping to the printer's column count."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_app.core.printing.formatting import (
    balanced_wrap,
    format_chave,
    format_cnpj,
    format_cpf,
    format_datetime,
    format_money,
    format_quantity,
    format_unit_value,
    wrap_url,
)
from pos_app.core.printing.receipt import (
    MIN_COLUMNS,
    Block,
    Columns,
    Cut,
    ItemLine,
    QRCode,
    ReceiptData,
    ReceiptEmitente,
    ReceiptItem,
    ReceiptPayment,
    Separator,
    Spacer,
    Text,
    block_lines,
    build_layout,
    iter_lines,
    render_text,
)
from pos_app.core.printing.sample import sample_receipt

WIDTHS = (48, 42, 32)
CPF = "CPF 123.456.789-09"
MOTIVO = "QR Code indisponível em contingência: certificado digital não configurado"


def flat(blocks: list[Block], columns: int) -> list[str]:
    """One entry per printed line; the QR code shows as ``<QR>``; whitespace squashed."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, QRCode):
            out.append("<QR>")
        else:
            out += [" ".join(line.split()) for line in block_lines(block, columns)]
    return out


def joined(blocks: list[Block], columns: int) -> str:
    return " ".join(" ".join(render_text(blocks, columns).split()).split())


def index_of(lines: list[str], needle: str, start: int = 0) -> int:
    for i in range(start, len(lines)):
        if needle in lines[i]:
            return i
    raise AssertionError(f"{needle!r} not found after line {start}:\n" + "\n".join(lines))


def assert_fits(blocks: list[Block], columns: int) -> None:
    for line in iter_lines(blocks):
        assert line.cells <= columns, (columns, line)
    for block in blocks:
        for text in block_lines(block, columns):
            assert len(text) <= columns, (columns, text)
            assert "\u00a0" not in text
    for line in iter_lines(blocks):
        assert "\n" not in (line.text if isinstance(line, Text) else line.left + line.right)


def worst_case() -> ReceiptData:
    """Everything long at once."""
    base = sample_receipt(contingencia=True, via="Via Estabelecimento", desconto_item=Decimal("1234.56"))
    emitente = ReceiptEmitente(
        razao_social="COMERCIAL DE GÊNEROS ALIMENTÍCIOS E UTILIDADES DOMÉSTICAS SÃO JOÃO BATISTA EIRELI",
        nome_fantasia="SUPERMERCADOS SÃO JOÃO BATISTA - UNIDADE JARDIM BOTÂNICO",
        cnpj="12.345.678/0001-95",
        inscricao_estadual="ISENTO",
        endereco="Avenida Presidente Juscelino Kubitschek de Oliveira, 12345 - Sala 1701 - "
        "Jardim Paulistano - São José dos Campos/SP - CEP 12345-678",
    )
    item = ReceiptItem(
        numero=990,
        codigo="12345678901234567890ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        descricao="PRODUTOCOMNOMEENORMESEMESPACOSQUENAOCABEEMLINHANENHUMA " * 2,
        quantidade=Decimal("123456.1234"),
        unidade="CAIXA12",
        valor_unitario=Decimal("98765.4321098765"),
        valor_total=Decimal("12193263111.26"),
        desconto=Decimal("1234567.89"),
    )
    return dataclasses.replace(
        base,
        emitente=emitente,
        itens=[*base.itens, item],
        valor_produtos=Decimal("99999999999.99"),
        valor_desconto=Decimal("1234567.89"),
        valor_total=Decimal("99998765432.10"),
        pagamentos=[
            ReceiptPayment(
                "Vale alimentação (cartão de benefício da operadora parceira)", Decimal("9999999.99")
            ),
            ReceiptPayment("Outros", Decimal("99998765432.10")),
        ],
        troco=Decimal("9999999.99"),
        url_consulta="https://www.homologacao.nfce.fazenda.sp.gov.br/NFCeConsultaPublica/Paginas/ConsultaPublica.aspx",
        consumidor_doc="CNPJ 12.345.678/0001-95",
        numero=999999999,
        serie=999,
        protocolo="135250000123456789012345",
        data_autorizacao=base.data_emissao,
        qrcode_url=None,
        qrcode_indisponivel_motivo=MOTIVO,
        tributos_totais=Decimal("12345678901.23"),
        mensagem_extra="Linha um da mensagem\nTroca somente com a nota - prazo de 30 dias - "
        "consulte as condições no balcão de atendimento",
    )


# --------------------------------------------------------------------------- sections and order


@pytest.mark.parametrize("columns", WIDTHS)
def test_contingency_receipt_has_every_section_in_order(columns: int) -> None:
    data = sample_receipt(
        contingencia=True, via="Via Consumidor", consumidor_doc=CPF, desconto_item=Decimal("1")
    )
    lines = flat(build_layout(data, columns), columns)
    order = [
        "MERCADO BOA VISTA",
        "CNPJ: 07.504.505/0001-32",
        "IE: 9044016688",
        "Rua Marechal Deodoro",
        "Documento Auxiliar da Nota",
        "Não permite aproveitamento",
        "EMITIDA EM AMBIENTE DE",
        "EMITIDA EM CONTINGÊNCIA",
        "Pendente de autorização",
        "Via Consumidor",
        "CÓDIGO DESCRIÇÃO",
        "001 7891000100103 ARROZ",
        "Desconto R$ -1,00",
        "002 7896004000855",
        "010 7896036090244",
        "Qtde. total de itens 10",
        "Valor total R$",
        "Descontos R$ 1,00",
        "Valor a pagar R$",
        "FORMA PAGAMENTO VALOR PAGO R$",
        "Cartão de débito 20,00",
        "Dinheiro",
        "Troco R$",
        "Consulte pela Chave de Acesso em",
        "fazenda.pr.gov.br/",
        "4125 0307 5045 0500 0132",
        "CONSUMIDOR - CPF 123.456.789-09",
        "NFC-e nº 000000057 Série 900",
        "14/03/2025 18:42:07",
        "<QR>",
        "Tributos Totais Incidentes",
        "Obrigado pela preferência!",
        "SEM VALOR FISCAL",
        "Via Consumidor",
    ]
    position = 0
    for needle in order:
        position = index_of(lines, needle, position)


def test_authorized_receipt_shows_protocol_and_no_contingency_notice() -> None:
    data = sample_receipt(homologacao=False)
    text = joined(build_layout(data), 48)
    assert "Protocolo de autorização: 141250000660360" in text
    assert "Data de autorização: 14/03/2025 18:42:09" in text
    for absent in ("CONTINGÊNCIA", "Pendente", "HOMOLOGAÇÃO", "Via ", "Descontos R$", "Desconto R$"):
        assert absent not in text
    assert "CONSUMIDOR NÃO IDENTIFICADO" in text
    assert "NFC-e nº 000001305 Série 001 14/03/2025 18:42:07" in text


def test_layout_starts_with_emitente_and_ends_with_cut() -> None:
    blocks = build_layout(sample_receipt())
    first = blocks[0]
    assert isinstance(first, Text) and first.bold and first.text.startswith("MERCADO BOA VISTA")
    assert isinstance(blocks[-1], Cut)
    assert sum(isinstance(b, Cut) for b in blocks) == 1


def test_total_to_pay_is_bold_and_double_height() -> None:
    blocks = build_layout(sample_receipt(), 48)
    [total] = [b for b in blocks if isinstance(b, Columns) and b.left == "Valor a pagar R$"]
    assert total.bold and total.size == "tall"
    assert total.right == "216,59"


def test_items_are_item_lines_with_detail_and_discount() -> None:
    data = sample_receipt(desconto_item=Decimal("2.5"))
    items = [b for b in build_layout(data, 48) if isinstance(b, ItemLine)]
    assert [i.item.numero for i in items] == list(range(1, 11))
    first = [block_lines(p, 48)[0] for p in items[0].parts]
    assert first == [
        "001 7891000100103 ARROZ BRANCO TIPO 1 PACOTE 5KG",
        "    1 UN x 27,90                           27,90",
        "    Desconto R$                            -2,50",
    ]
    assert len(items[1].parts) == 2  # no discount line when the discount is zero
    bread = [" ".join(block_lines(p, 48)[0].split()) for p in items[3].parts]
    assert bread == ["004 2000001 PÃO FRANCÊS", "0,365 KG x 16,90 6,17"]


@pytest.mark.parametrize("columns", WIDTHS)
def test_long_description_wraps_under_the_item(columns: int) -> None:
    data = sample_receipt(n_items=5)
    item = next(b for b in build_layout(data, columns) if isinstance(b, ItemLine) and b.item.numero == 5)
    lines = [line for p in item.parts for line in block_lines(p, columns)]
    assert len(lines) >= 3
    assert all(line.startswith("    ") for line in lines[1:])
    words = " ".join(" ".join(lines[:-1]).split())
    assert words == "005 7894900011517 REFRIGERANTE COCA-COLA ORIGINAL GARRAFA PET 2 LITROS"


@pytest.mark.parametrize("columns", WIDTHS)
def test_access_key_in_11_groups_of_4(columns: int) -> None:
    data = sample_receipt()
    assert data.chave is not None
    lines = flat(build_layout(data, columns), columns)
    start = index_of(lines, "Consulte pela Chave de Acesso em")
    end = index_of(lines, "CONSUMIDOR", start)
    key_lines = [line for line in lines[start:end] if line.replace(" ", "").isdigit()]
    assert len(key_lines) == 2
    groups = " ".join(key_lines).split()
    assert len(groups) == 11 and all(len(g) == 4 for g in groups)
    assert "".join(groups) == data.chave


def test_consumer_identified_or_not() -> None:
    assert "CONSUMIDOR NÃO IDENTIFICADO" in joined(build_layout(sample_receipt()), 48)
    with_cpf = joined(build_layout(sample_receipt(consumidor_doc=CPF)), 48)
    assert "CONSUMIDOR - CPF 123.456.789-09" in with_cpf
    assert "NÃO IDENTIFICADO" not in with_cpf
    cnpj = build_layout(sample_receipt(consumidor_doc="CNPJ 12.345.678/0001-95"), 32)
    assert "CNPJ 12.345.678/0001-95" in flat(cnpj, 32)  # the document is never split


def test_qr_block_carries_the_url_and_missing_qr_prints_the_reason() -> None:
    data = sample_receipt(contingencia=True)
    [qr] = [b for b in build_layout(data) if isinstance(b, QRCode)]
    assert qr.data == data.qrcode_url and qr.error_correction == "M"

    no_qr = build_layout(sample_receipt(contingencia=True, with_qrcode=False), 32)
    assert not any(isinstance(b, QRCode) for b in no_qr)
    text = joined(no_qr, 32)
    assert MOTIVO in text
    assert text.index("NFC-e nº") < text.index(MOTIVO) < text.index("Tributos Totais")

    fallback = dataclasses.replace(data, qrcode_url=None, qrcode_indisponivel_motivo=None)
    assert "QR Code indisponível" in joined(build_layout(fallback), 48)


def test_homologation_notice_near_top_and_bottom_only_in_homologation() -> None:
    notice = "EMITIDA EM AMBIENTE DE HOMOLOGAÇÃO - SEM VALOR FISCAL"
    for columns in WIDTHS:
        text = joined(build_layout(sample_receipt(homologacao=True), columns), columns)
        assert text.count(notice) == 2
        assert text.index(notice) < text.index("CÓDIGO DESCRIÇÃO")
        assert text.rindex(notice) > text.index("Tributos Totais")
    assert "HOMOLOGAÇÃO" not in joined(build_layout(sample_receipt(homologacao=False)), 48)


def test_contingency_notices() -> None:
    pending = joined(build_layout(sample_receipt(contingencia=True)), 48)
    assert "EMITIDA EM CONTINGÊNCIA" in pending and "Pendente de autorização" in pending

    transmitted = dataclasses.replace(
        sample_receipt(contingencia=True),
        pendente_autorizacao=False,
        protocolo="141250000999999",
        data_autorizacao=datetime(2025, 3, 14, 22, 0, 1, tzinfo=UTC),
    )
    text = joined(build_layout(transmitted), 48)
    assert "EMITIDA EM CONTINGÊNCIA" in text and "Pendente" not in text
    # authorization time shown in the emission's own offset (-03:00)
    assert "Data de autorização: 14/03/2025 19:00:01" in text

    focus = dataclasses.replace(sample_receipt(), focus_contingencia=True, pendente_autorizacao=True)
    text = joined(build_layout(focus), 48)
    assert "EMITIDA EM CONTINGÊNCIA" in text and "Pendente de autorização" in text


def test_via_labels() -> None:
    for via in ("Via Consumidor", "Via Estabelecimento"):
        lines = flat(build_layout(sample_receipt(contingencia=True, via=via), 32), 32)
        assert lines.count(via) == 2
        assert lines.index(via) < index_of(lines, "CÓDIGO DESCRIÇÃO")


def test_emission_time_is_printed_in_its_own_offset() -> None:
    manaus = timezone(timedelta(hours=-4))
    data = dataclasses.replace(
        sample_receipt(), data_emissao=datetime(2025, 12, 31, 23, 59, 58, tzinfo=manaus)
    )
    assert "31/12/2025 23:59:58" in joined(build_layout(data), 48)


# --------------------------------------------------------------------------- widths


@pytest.mark.parametrize("columns", WIDTHS)
def test_no_line_exceeds_the_column_count_typical(columns: int) -> None:
    for data in (
        sample_receipt(),
        sample_receipt(
            contingencia=True, via="Via Consumidor", consumidor_doc=CPF, desconto_item=Decimal("3")
        ),
        sample_receipt(contingencia=True, with_qrcode=False, homologacao=False),
    ):
        assert_fits(build_layout(data, columns), columns)


@pytest.mark.parametrize("columns", WIDTHS)
def test_no_line_exceeds_the_column_count_worst_case(columns: int) -> None:
    blocks = build_layout(worst_case(), columns)
    assert_fits(blocks, columns)
    text = joined(blocks, columns)
    assert "99.998.765.432,10" in text  # values are never cut
    assert MOTIVO in text
    assert "Linha um da mensagem" in text


_words = st.text(
    alphabet=st.sampled_from("ABCÇÃÉÍÓÚÂÊÔÕabcçãéíóúâêôõxyz0123456789-/.,()%"), min_size=1, max_size=70
)
_phrase = st.lists(_words, min_size=0, max_size=12).map(" ".join)
_money = st.decimals(min_value=0, max_value=Decimal("999999999.99"), places=2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    columns=st.integers(min_value=MIN_COLUMNS, max_value=64),
    razao=_phrase,
    endereco=_phrase,
    descricao=_phrase,
    codigo=_words,
    unidade=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=6),
    pagamento=_phrase,
    mensagem=_phrase,
    valor=_money,
    quantidade=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("999999.9999"), places=4),
)
def test_any_text_fits_any_width(
    columns: int,
    razao: str,
    endereco: str,
    descricao: str,
    codigo: str,
    unidade: str,
    pagamento: str,
    mensagem: str,
    valor: Decimal,
    quantidade: Decimal,
) -> None:
    base = sample_receipt(n_items=1, contingencia=True, via="Via Consumidor")
    data = dataclasses.replace(
        base,
        emitente=dataclasses.replace(base.emitente, razao_social=razao, endereco=endereco),
        itens=[ReceiptItem(1, codigo, descricao, quantidade, unidade, valor, valor, valor)],
        pagamentos=[ReceiptPayment(pagamento, valor)],
        valor_produtos=valor,
        valor_total=valor,
        troco=valor,
        mensagem_extra=mensagem,
    )
    assert_fits(build_layout(data, columns), columns)


def test_too_few_columns_is_refused() -> None:
    with pytest.raises(ValueError, match="32 colunas"):
        build_layout(sample_receipt(), 24)


def test_block_lines_of_every_block_type() -> None:
    assert block_lines(Separator(), 32) == ["-" * 32]
    assert block_lines(Spacer(2), 32) == ["", ""]
    assert block_lines(Cut(), 32) == []
    assert block_lines(Text("abc", "right"), 8) == ["     abc"]
    assert block_lines(Text("abc", "center"), 9) == ["   abc"]
    assert block_lines(Columns("Troco R$", "1,00"), 16) == ["Troco R$    1,00"]
    assert Text("ab", size="double").cells == 4
    assert Columns("ab", "cd", size="double").cells == 10


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "0,00"),
        ("12", "12,00"),
        ("1234.5", "1.234,50"),
        ("1234567.891", "1.234.567,89"),
        ("0.005", "0,01"),
        ("-1.5", "-1,50"),
        ("-0.001", "0,00"),
    ],
)
def test_format_money(value: str, expected: str) -> None:
    assert format_money(Decimal(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", "1"), ("1.000", "1"), ("1.5", "1,5"), ("0.365", "0,365"), ("2.12345", "2,1235"), ("1500", "1500")],
)
def test_format_quantity(value: str, expected: str) -> None:
    assert format_quantity(Decimal(value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("27.9", "27,90"), ("5.899", "5,899"), ("1234.5", "1.234,50"), ("0.3333333333", "0,3333333333")],
)
def test_format_unit_value(value: str, expected: str) -> None:
    assert format_unit_value(Decimal(value)) == expected


def test_document_formatters() -> None:
    assert format_cnpj("07504505000132") == "07.504.505/0001-32"
    assert format_cnpj("07.504.505/0001-32") == "07.504.505/0001-32"
    assert format_cpf("12345678909") == "123.456.789-09"
    chave = "41200323285089000185650010000013051817822496"
    assert format_chave(chave) == "4120 0323 2850 8900 0185 6500 1000 0013 0518 1782 2496"
    assert format_chave("NFe" + chave) == format_chave(chave)
    brt = timezone(timedelta(hours=-3))
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=brt)
    assert format_datetime(when) == "02/01/2025 03:04:05"
    assert format_datetime(when.astimezone(UTC), when) == "02/01/2025 03:04:05"


def test_wrapping_helpers() -> None:
    assert balanced_wrap("Documento Auxiliar da Nota Fiscal de Consumidor Eletrônica", 48) == [
        "Documento Auxiliar da Nota",
        "Fiscal de Consumidor Eletrônica",
    ]
    assert wrap_url("http://www.fazenda.pr.gov.br/nfce/consulta", 32) == [
        "http://www.fazenda.pr.gov.br/",
        "nfce/consulta",
    ]
    assert all(len(line) <= 10 for line in wrap_url("https://" + "x" * 25 + "/a", 10))
