"""Plain-Portuguese explanations for SEFAZ/API refusals: what happened and what to fix."""

from __future__ import annotations

import re

from pos_app.ui.i18n import tr, tr_noop

# Most frequent NFC-e rejections at the counter (Manual de Orientação do Contribuinte, tabela de códigos).
_BY_CODE: dict[str, str] = {
    "778": tr_noop("O NCM de um produto não existe na tabela: corrija o NCM no cadastro do produto."),
    "204": tr_noop("Esta nota já foi autorizada (duplicidade): não repita a venda; consulte o histórico."),
    "539": tr_noop("Já existe nota com este número e outra chave: avise o suporte antes de reenviar."),
    "228": tr_noop(
        "A data/hora da nota está fora do prazo aceito: acerte o relógio do computador e reenvie."
    ),
    "704": tr_noop("A data/hora da nota está atrasada: acerte o relógio do computador e reenvie."),
    "703": tr_noop("A data/hora da nota está no futuro: acerte o relógio do computador e reenvie."),
    "301": tr_noop("Uso denegado: há irregularidade fiscal do emitente. Fale com o contador."),
    "302": tr_noop(
        "Uso denegado: há irregularidade fiscal do destinatário. Emita sem CPF/CNPJ ou fale com o cliente."
    ),
    "225": tr_noop("A nota saiu com um campo em formato inválido: chame o suporte."),
    "215": tr_noop("A nota saiu com um campo em formato inválido: chame o suporte."),
    "464": tr_noop(
        "O código de segurança do contribuinte (CSC) não confere: revise o CSC no painel da Focus."
    ),
    "462": tr_noop(
        "O código de segurança do contribuinte (CSC) não foi encontrado: cadastre o CSC no painel da Focus."
    ),
    "656": tr_noop("Consumo indevido da SEFAZ: aguarde uma hora antes de reenviar."),
    "213": tr_noop("O CNPJ do emitente não confere com o certificado: revise as configurações do emitente."),
    "280": tr_noop("O certificado digital é inválido: revise o certificado em Configurações."),
    "281": tr_noop("O certificado digital está vencido: instale um certificado válido em Configurações."),
    "386": tr_noop("O CFOP do produto não é permitido na NFC-e: corrija o CFOP no cadastro (ex.: 5102)."),
    "611": tr_noop("O código de barras (GTIN/EAN) do produto é inválido: corrija o EAN no cadastro."),
    "883": tr_noop(
        "O código de barras (GTIN/EAN) do produto não está cadastrado na base nacional: corrija o EAN."
    ),
}

_BY_WORD: tuple[tuple[str, str], ...] = (
    ("ncm", tr_noop("Confira o NCM do produto no cadastro.")),
    ("cfop", tr_noop("Confira o CFOP do produto no cadastro.")),
    ("gtin", tr_noop("Confira o código de barras (EAN) do produto no cadastro.")),
    ("cpf", tr_noop("Confira o CPF informado na nota ou emita sem CPF.")),
    ("cnpj", tr_noop("Confira o CNPJ informado na nota ou do emitente.")),
    ("csosn", tr_noop("Confira a situação tributária (CSOSN/CST) do produto.")),
    ("cst", tr_noop("Confira a situação tributária (CSOSN/CST) do produto.")),
    ("token", tr_noop("Confira o token da API em Configurações.")),
    ("certificado", tr_noop("Confira o certificado digital em Configurações.")),
)

_ITEM = re.compile(r"nItem:?\s*(\d+)", re.IGNORECASE)


def rejection_hint(code: str | None, message: str | None) -> str:
    """What the operator should do about a refusal."""
    text = message or ""
    hint = _BY_CODE.get((code or "").strip())
    if hint is None:
        lowered = text.lower()
        hint = next((h for word, h in _BY_WORD if word in lowered), None)
    if hint is None:
        hint = tr_noop(
            "Leia a mensagem acima, corrija o cadastro indicado e reenvie pelo menu Gerente; se não souber o que corrigir, chame o suporte."
        )
    out = tr(hint)
    m = _ITEM.search(text)
    if m:
        out += " " + tr("O problema está no item {n} da venda.").format(n=m.group(1))
    return out
