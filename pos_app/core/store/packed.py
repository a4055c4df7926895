"""Compact storage of the long API texts (the request sent, the raw answers).

The request of each NFC-e and the raw answers of the API are kept for support and inspection, but
they are most of a sale's bytes. They are stored zlib-compressed in a BLOB (same column; rows
written before the compression stay plain text and are read the same way). Reading always goes
through :func:`unpack_text`, so every command shows them exactly as they were received.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

# Short texts are not worth compressing (zlib's header would eat the gain).
_MIN_LEN = 128
_MAGIC_PLAIN = b"z1"  # zlib stream, no dictionary
_MAGIC_DICT1 = b"z2"  # raw deflate with the preset dictionary _DICT1 (never change it: add _DICT2)

# Preset dictionary: the keys and common values of a Focus NFC-e request and of its answers
# (no data of any store). Small JSON documents compress about twice as well with it.
_DICT1 = (
    b'{"status_sefaz": "135", "mensagem_sefaz": "Evento registrado e vinculado a NF-e", "status": "cancelado", '
    b'"caminho_xml_cancelamento": ""}{"status": "erro_autorizacao", "status_sefaz": "", "mensagem_sefaz": "Rejeicao: '
    b'"}{"codigo": "", "mensagem": ""}{"cnpj_emitente": "", "data_emissao": "", "natureza_operacao": "VENDA AO '
    b'CONSUMIDOR", "presenca_comprador": "1", "modalidade_frete": "9", "local_destino": "1", '
    b'"indicador_inscricao_estadual_destinatario": "9", "items": [{"numero_item": "1", "codigo_produto": "", '
    b'"descricao": "", "codigo_ncm": "", "cfop": "5102", "unidade_comercial": "UN", "quantidade_comercial": "1.0000", '
    b'"valor_unitario_comercial": "", "valor_bruto": "", "unidade_tributavel": "UN", "quantidade_tributavel": '
    b'"1.0000", "valor_unitario_tributavel": "", "icms_origem": "0", "icms_situacao_tributaria": "102", '
    b'"codigo_barras_comercial": "", "codigo_barras_tributavel": "", "valor_total_tributos": ""}], '
    b'"formas_pagamento": [{"forma_pagamento": "01", "valor_pagamento": ""}], "valor_produtos": "", '
    b'"valor_desconto": "0.00", "valor_total": "", "valor_total_tributos": "", "valor_troco": "0.00", '
    b'"cpf_destinatario": ""}{"cnpj_emitente": "", "ref": "", "status": "autorizado", "status_sefaz": "100", '
    b'"mensagem_sefaz": "Autorizado o uso da NF-e", "chave_nfe": "NFe", "numero": "", "serie": "1", '
    b'"caminho_xml_nota_fiscal": "/arquivos/XMLs/-nfe.xml", "caminho_danfe": "/notas_fiscais_consumidor/NFe.html", '
    b'"qrcode_url": "http://www.fazenda..gov.br/nfce/qrcode?p=|2|2|1|", "url_consulta_nf": '
    b'"http://www.fazenda..gov.br/nfce/consulta", "protocolo_nota_fiscal": {"versao": "4.00", "ambiente": "2", '
    b'"versao_aplicativo": "", "chave_nfe": "", "data_recebimento": "", "numero_protocolo": "", "valor_digest": "", '
    b'"status": "100", "motivo": "Autorizado o uso da NF-e"}}'
)


def pack_text(text: str | None) -> str | bytes | None:
    if text is None or len(text) < _MIN_LEN:
        return text
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=_DICT1)
    return _MAGIC_DICT1 + c.compress(text.encode("utf-8")) + c.flush()


def unpack_text(value: Any) -> str | None:
    """Text of a stored value: plain text as is, a packed BLOB decompressed."""
    if value is None or isinstance(value, str):
        return value
    raw = bytes(value)
    if raw.startswith(_MAGIC_DICT1):
        d = zlib.decompressobj(-15, zdict=_DICT1)
        return (d.decompress(raw[2:]) + d.flush()).decode("utf-8")
    if raw.startswith(_MAGIC_PLAIN):
        return zlib.decompress(raw[2:]).decode("utf-8")
    return raw.decode("utf-8")


# Parts of an authorized (or cancelled) note's answer that repeat the note itself: the authorized
# XML kept in the archive (xml/, ``pos-app historico xml``) is the legal record of its content.
_OMITTED_WHEN_FINAL = ("requisicao_nota_fiscal",)
OMITTED_NOTE = "omitida: o conteúdo da nota está no XML autorizado (pasta xml/; pos-app historico xml REF)"


def trim_final_answer(response: Any, to_status: str) -> Any:
    """The answer as stored: for an authorized/cancelled note, without the echo of the request."""
    if (
        to_status in ("autorizado", "cancelado")
        and isinstance(response, dict)
        and any(isinstance(response.get(k), dict) for k in _OMITTED_WHEN_FINAL)
    ):
        return {
            k: (OMITTED_NOTE if k in _OMITTED_WHEN_FINAL and isinstance(v, dict) else v)
            for k, v in response.items()
        }
    return response


def load_json(value: Any) -> Any:
    text = unpack_text(value)
    return None if text is None else json.loads(text)


def unpack_row(row: dict[str, Any] | None, *columns: str) -> dict[str, Any] | None:
    """``row`` with the packed ``columns`` turned back into text (in place; returns it)."""
    if row is not None:
        for col in columns:
            if col in row:
                row[col] = unpack_text(row[col])
    return row
